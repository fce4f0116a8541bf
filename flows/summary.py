"""What ``hasslemap run`` prints about its stages: lines, tables and warnings."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text

from config import Settings
from config.taxonomy import NO_STAGE, NO_THEME, UNASSIGNED, Taxonomy

_EVERY_REASON = 'hasslemap sql "select source, file, line, reason from rejected"'


# The unsupported languages the enrich line names, commonest first.
_LANGUAGES_SHOWN = 5
# More themes than this (with "No theme") are listed cell by cell, the largest first.
_THEMES_SIDE_BY_SIDE = 12
_CELLS_LISTED = 25


def enrich_line(enrich: Mapping[str, Any]) -> str:
    """One line of the enrich stage's counts, naming the commonest unsupported languages."""
    languages = list((enrich.get("unsupported_languages") or {}).items())
    named = ", ".join(f"{code} {count:,}" for code, count in languages[:_LANGUAGES_SHOWN])
    if len(languages) > _LANGUAGES_SHOWN:
        named += ", …"
    return (
        f"enrich: {enrich['comments_enriched']:,} comments, {enrich['units_written']:,} sentences, "
        f"{enrich['texts_embedded']:,} texts embedded, {enrich['tags_written']:,} tags "
        f"({enrich['unsupported_language']:,} comments in an unsupported language"
        + (f": {named}" if named else "")
        + ")"
    )


def pain_point_table(taxonomy: Taxonomy, counts: Mapping[tuple[str, str], int]) -> Table:
    """Pain-point sentences per journey stage (rows) and hassle theme (columns), unassigned last.

    Stages and themes are named as the report names them. Every sentence enriched so far,
    not the clustering window's comments that ``v_stage_theme_matrix`` counts: the title says
    so, as the two differ. A taxonomy of more themes than fit side by side is listed instead,
    its largest cells first.
    """
    title = "Pain-point sentences by journey stage and hassle theme (all enriched so far)"
    stages = [(s.key, s.name) for s in taxonomy.stages] + [(UNASSIGNED, NO_STAGE)]
    themes = [(t.key, t.name) for t in taxonomy.themes] + [(UNASSIGNED, NO_THEME)]
    if len(themes) > _THEMES_SIDE_BY_SIDE:
        return _largest_cells(title, stages, themes, counts)
    table = Table(title=title, title_justify="left")
    table.add_column("stage")
    for _, name in themes:
        table.add_column(Text(name), justify="right")
    for stage, name in stages:
        table.add_row(Text(name), *(f"{counts.get((stage, theme), 0):,}" for theme, _ in themes))
    return table


def _largest_cells(
    title: str,
    stages: list[tuple[str, str]],
    themes: list[tuple[str, str]],
    counts: Mapping[tuple[str, str], int],
) -> Table:
    """The stage and theme cells holding pain points, largest first, up to ``_CELLS_LISTED``."""
    cells = sorted(
        (
            (count, stage_name, theme_name)
            for stage, stage_name in stages
            for theme, theme_name in themes
            if (count := counts.get((stage, theme), 0))
        ),
        key=lambda cell: -cell[0],
    )
    left = len(cells) - _CELLS_LISTED
    caption = f"{left:,} smaller cell(s) not shown" if left > 0 else None
    table = Table(title=title, title_justify="left", caption=caption, caption_justify="left")
    for header in ("stage", "theme"):
        table.add_column(header)
    table.add_column("pain points", justify="right")
    for count, stage_name, theme_name in cells[:_CELLS_LISTED]:
        table.add_row(Text(stage_name), Text(theme_name), f"{count:,}")
    return table


def cluster_line(counts: Mapping[str, Any]) -> str:
    """One line of the cluster stage's counts (or that it kept the hassles as they were)."""
    later = counts.get("comments_after_run", 0)
    later_note = (
        f"; {later:,} comment(s) dated after this run not counted (a wrong year or time zone "
        "in a source's dates? query `comments` for created_at > now())"
        if later
        else ""
    )
    if counts.get("no_comments"):
        return "cluster: no comment to cluster" + later_note
    older = counts.get("comments_before_window", 0)
    uncounted = (
        f"; {older:,} comment(s) older than the window (`cluster.window_days`) not counted"
        if older
        else ""
    ) + later_note
    if counts.get("skipped"):
        return (
            "cluster: the window is unchanged since the last run; hassles kept as they are"
            + uncounted
        )
    line = (
        f"cluster: {counts['units_in']:,} pain points, {counts['hassles']:,} hassles "
        f"({counts['hassles_new']:,} new, {counts['hassles_retired']:,} retired), "
        f"coverage {counts['coverage']:.0%}"
    )
    if counts.get("mode") == "full" and counts.get("reason"):
        line += f"; clustered afresh ({counts['reason']})"
    if "late_finds_folded" in counts:
        line += (
            f", held to the kept hassles: {counts['late_finds_folded']} late find(s) joined "
            f"one, {counts['hassles_restored']} merged-away hassle(s) restored"
        )
    return line + uncounted


def duplicates_note(duplicates: int) -> str:
    """The records the merge quarantined: an id in a more recently modified file won."""
    if not duplicates:
        return ""
    return (
        f", and {duplicates:,} record(s) lost to the same id in a more recently modified file "
        "(`duplicate_id` in `rejected`)"
    )


def run_warnings(stages: Mapping[str, Any], settings: Settings) -> list[str]:
    """What a completed run could not do, or an operator should fix.

    A source that failed to load, no usable comment at all (and why), a source whose files
    vanished, a file quarantined whole, a file whose dates read in the other order, a file none
    of whose records holds a mapped key, a source most of whose records were quarantined, a
    source the config no longer names (or renamed), alerts not sent, pending alerts dropped
    unsent.
    """
    from flows.ingest import read_warnings, vanished_warning
    from flows.sources.base import open_source

    warnings = [
        f"source {name!r} failed to load and was skipped this run ({error}); its files are "
        "read again next run"
        for name, error in stages["ingest"].get("sources_failed", {}).items()
    ]
    nothing_loaded = not stages["ingest"].get("comments_total", 1)
    if nothing_loaded:  # says why: the commonest quarantine reasons, whole files among them
        warnings.append(no_comment_warning(stages["ingest"]))
    sources = {source.name: source for source in settings.sources}
    for name, stats in stages["ingest"]["sources"].items():
        if earlier := stats.get("comments_before_no_file"):
            where = open_source(sources[name], settings.ingest).where() if name in sources else "?"
            warnings.append(vanished_warning(name, earlier, where))
        warnings += read_warnings(name, sources.get(name), stats, quarantines=not nothing_loaded)
    warnings.extend(stages["ingest"].get("sources_unconfigured", []))
    alerts = stages.get("alerts", {})
    if alerts.get("failed"):
        pending, per_run = alerts.get("pending", 0), alerts.get("max_per_run")
        when = (
            f"go out from the next run on, at most {per_run:,} a run (`alerts.max_per_run`)"
            if per_run and pending > per_run
            else "go out with the next run"
        )
        warnings.append(
            f"alerts failed: {alerts.get('error')}; {pending:,} hassle alert(s) wait in "
            f"`alerts_pending` and {when}"
        )
    if dropped := alerts.get("pending_dropped"):
        reasons = ", ".join(f"{n:,} {reason}" for reason, n in dropped.items())
        warnings.append(
            f"alerts: {sum(dropped.values()):,} pending alert(s) dropped unsent, no longer true "
            f"or timely ({reasons})"
        )
    return warnings


def no_comment_warning(ingest: Mapping[str, Any]) -> str:
    """Why the warehouse holds no comment: the commonest quarantine reasons, or no records."""
    reasons = ingest.get("quarantine_reasons") or []
    if not reasons and ingest.get("sources_failed"):
        return "no comment in the warehouse: no source loaded (each failure is above)"
    if not reasons:
        return (
            "no comment in the warehouse: no source delivered a record; check each source's "
            "`path` (and that its files are not empty)"
        )
    said = "; ".join(
        f"{r['source']}: {r['records']:,} record(s), e.g. {r['file']} "
        + (f"line {r['line']}" if r["line"] else "(the file)")
        + f": {r['reason']}"
        for r in reasons
    )
    return (
        f"no comment in the warehouse: every record was quarantined. {said}. Fix the source's "
        f"config or file and run again; every reason: {_EVERY_REASON}"
    )
