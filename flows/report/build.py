"""The report's read model: a :class:`~flows.report.model.ReportData` from a ranking.

:func:`build_report` ranks (or reuses a ranking), reads the quotes, heatmap and figures from
the warehouse and redacts every customer text. Each hassle's score parts come from the factor
registry (:data:`nlp.factors.FACTORS`): label, value, weight and the evidence in words.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import zip_longest

import duckdb

from config import Settings
from config.taxonomy import Taxonomy
from flows.ranking import Ranking, changes_since, compute_ranking
from flows.report.model import Quote, RankedHassle, ReportData, ScorePart
from nlp.factors import FACTORS, describe_trends
from nlp.rank import HassleScore
from nlp.redact import redact_parts, redact_pii
from warehouse import ranking as store
from warehouse.enrichment import read_tag_taxonomies

QUOTE_CONTEXT_CHARS = 240
# A "sentence" with no full stop in it (stop-word-stripped exports, pasted logs) can run for
# thousands of characters; a quote shows its start.
QUOTE_SENTENCE_CHARS = 500
QUOTE_CANDIDATES = 2  # quotes read per hassle, as a multiple of those it shows


def score_parts(s: HassleScore) -> tuple[ScorePart, ...]:
    """The hassle's score parts in registry order, each with its evidence in words."""
    return tuple(
        ScorePart(
            key=f.name,
            label=f.label,
            value=s.parts[f.name],
            weight=s.weights[f.name],
            contribution=s.parts[f.name] * s.weights[f.name],
            detail=f.explain(s.evidence) if s.evidence else "",
        )
        for f in FACTORS
        if f.name in s.parts
    )


def score_note(used: Sequence[Mapping[str, float]], configured: Mapping[str, float]) -> str:
    """How the scores add up, and which weighted parts had no data, for whom, and why.

    ``used``: the weights each score used (renormalised); ``configured``: ``rank.weights``. A
    part with a weight that a score did not use had no data (:attr:`nlp.factors.Factor.left_out`)
    for the whole level or for that hassle: its weight is shared among the parts used, so the
    weights shown are not those configured.
    """
    weighted = [f for f in FACTORS if configured.get(f.name, 0.0) > 0]
    nowhere = [f for f in weighted if all(f.name not in u for u in used)]
    somewhere = [f for f in weighted if f not in nowhere and any(f.name not in u for u in used)]
    notes = ["Score: each part's value times its weight, added up (docs/ranking.md)."]
    for factors, whom in (
        (nowhere, "for this data, their weight shared among the parts used"),
        (somewhere, "of the hassles with no data for them, their weight shared among their others"),
    ):
        if factors:
            reasons = "; ".join(f"{f.label.lower()} ({f.left_out or 'no data'})" for f in factors)
            notes.append(f"Left out {whom}: {reasons}.")
    return " ".join(notes)


def cut_quote(row: store.QuoteRow) -> Quote:
    """A redacted quote, cut around its pain-point sentence, with the sentence's span.

    The text around the sentence is cut to ``QUOTE_CONTEXT_CHARS`` a side, and a sentence
    longer than ``QUOTE_SENTENCE_CHARS`` to its start (then nothing after it is shown).
    """
    text, start, end = row.text, row.start_char, row.end_char
    # Redact each part on its own, so the highlight still covers exactly the sentence, and each
    # of what the whole comment shows: a name's cue may sit in another part ("Thanks, Sarah").
    # Redacted before the context is cut: a cut through "+44 20 7946 0958" leaves digits no
    # recognizer knows as a phone number.
    head, sentence, tail = redact_parts((text[:start], text[start:end], text[end:]), text)
    if len(head) > QUOTE_CONTEXT_CHARS:
        head = "…" + head[-QUOTE_CONTEXT_CHARS:].split(" ", 1)[-1]
    if len(tail) > QUOTE_CONTEXT_CHARS:
        tail = tail[:QUOTE_CONTEXT_CHARS].rsplit(" ", 1)[0] + "…"
    if len(sentence) > QUOTE_SENTENCE_CHARS:
        sentence, tail = sentence[:QUOTE_SENTENCE_CHARS].rsplit(" ", 1)[0] + "…", ""
    return Quote(
        comment_id=row.comment_id,
        channel=row.channel,
        created_at=row.created_at,
        text=head + sentence + tail,
        highlight_start=len(head),
        highlight_end=len(head) + len(sentence),
    )


def pick_quotes(
    candidates: Mapping[str, Sequence[store.QuoteRow]],
    groups: Sequence[tuple[str, Sequence[str]]],
    per_hassle: int,
) -> dict[str, list[store.QuoteRow]]:
    """Hassle id -> the quotes it shows: up to ``per_hassle`` of its ``candidates``, in order.

    ``groups``: each shown parent (or hassle) with its shown children, in rank order. A parent
    with children shows theirs, round-robin: each child's first quote, then each one's second,
    from the quotes the child would show; each child then shows its own candidates less the
    comments already quoted in the group, so no comment is quoted twice in one group's section.
    """
    picked: dict[str, list[store.QuoteRow]] = {}
    for parent, children in groups:
        quoted: set[str] = set()  # comment ids
        if children:
            would_show = [candidates.get(c, [])[:per_hassle] for c in children]
            in_turns = [row for turn in zip_longest(*would_show) for row in turn if row is not None]
            picked[parent] = _take(in_turns, per_hassle, quoted)
        else:
            picked[parent] = _take(candidates.get(parent, []), per_hassle, quoted)
        for child in children:
            picked[child] = _take(candidates.get(child, []), per_hassle, quoted)
    return picked


def _take(rows: Iterable[store.QuoteRow], limit: int, quoted: set[str]) -> list[store.QuoteRow]:
    """Up to ``limit`` of ``rows``, in order, of comments not in ``quoted``; adds theirs to it."""
    taken = []
    for row in rows:
        if len(taken) == limit:
            break
        if row.comment_id not in quoted:
            quoted.add(row.comment_id)
            taken.append(row)
    return taken


def build_report(
    conn: duckdb.DuckDBPyConnection,
    settings: Settings,
    taxonomy: Taxonomy,
    *,
    run_id: str,
    filters: store.ReportFilter | None = None,
    top: int | None = None,
    ranking: Ranking | None = None,
) -> ReportData | None:
    """Everything the report shows, ranked over the filtered comments; None before any run.

    With two levels, the report's hassles are the top ``top`` parents, each holding all its
    ranked children in rank order; children without a parent follow the parents. With one
    level, they are the top ``top`` hassles, as before.
    """
    filters = filters or store.ReportFilter()
    ranking = ranking or compute_ranking(conn, settings, filters)
    if ranking is None:
        return None
    run = ranking.cluster_run
    top = top or settings.report.top
    previous = store.read_previous_ranking(conn, run_id)
    changes = changes_since(ranking, previous)
    filtered = bool(filters.describe())
    if ranking.parents:
        orphans = [s for s in ranking.scores if s.hassle_id not in ranking.parent_of]
        chosen = [(s, ranking.children_of(s.hassle_id)) for s in ranking.parents]
        chosen = (chosen + [(s, []) for s in orphans])[:top]
    else:
        chosen = [(s, []) for s in ranking.scores[:top]]
    shown = [s.hassle_id for parent, children in chosen for s in (parent, *children)]
    per_hassle = settings.report.quotes
    # A child may lend its first quotes to its group, so each has candidates to spare.
    candidates = QUOTE_CANDIDATES * per_hassle
    if filtered:  # a stored quote may be of a comment the filter leaves out
        quote_units = store.read_filtered_quote_units(conn, run.run_id, shown, filters, candidates)
    else:
        quote_units = {h: (ranking.info[h].quote_unit_ids or [])[:candidates] for h in shown}
    rows = store.read_quotes(conn, [u for units in quote_units.values() for u in units])
    quotes = pick_quotes(
        {h: [rows[u] for u in units if u in rows] for h, units in quote_units.items()},
        [(parent.hassle_id, [c.hassle_id for c in children]) for parent, children in chosen],
        per_hassle,
    )
    first_day = max(run.window_start.date() + timedelta(days=1), filters.since or date.min)
    last_day = min(run.window_end.date(), filters.until or date.max)
    days = _days(first_day, last_day)
    by_hassle = _daily_mentions(ranking)

    def ranked(s: HassleScore, children: tuple[RankedHassle, ...] = ()) -> RankedHassle:
        info = ranking.info[s.hassle_id]
        counts = by_hassle.get(s.hassle_id, Counter())
        before = previous.get(s.hassle_id)
        return RankedHassle(
            rank=s.rank,
            hassle_id=s.hassle_id,
            label=redact_pii(info.label),
            stage=info.stage,
            theme=info.theme,
            stage_share=info.stage_share,
            theme_share=info.theme_share,
            score=s.total,
            parts=score_parts(s),
            customers=s.customers,
            comments=s.comments,
            severity_mean=s.severity_mean,
            trend_label=s.trend_label,
            trend_detail=describe_trends(s.evidence) if s.evidence else "",
            daily_counts=tuple((d, counts.get(d, 0)) for d in days),
            channel_mix=dict(sorted(s.channels.items())),
            quotes=tuple(cut_quote(row) for row in quotes.get(s.hassle_id, [])),
            # The stored rankings are unfiltered: a filtered rank has nothing to compare with.
            change="" if filtered else changes[s.hassle_id],
            previous_rank=None if filtered or before is None else before.rank,
            keyphrases=tuple(redact_pii(k) for k in (info.keyphrases or [])[:6]),
            generic=s.generic,
            level="parent" if s.hassle_id in parent_ids else "child",
            parent_id=ranking.parent_of.get(s.hassle_id),
            specificity=ranking.specificity(s.hassle_id),
            children=children,
        )

    parent_ids = {s.hassle_id for s in ranking.parents}
    hassles = [ranked(parent, tuple(ranked(c) for c in children)) for parent, children in chosen]
    resolved = tuple(
        (hid, redact_pii(row.label))
        for hid, row in ranking.info.items()
        if row.status == "retired" and hid in previous
    )
    figures = store.read_run_figures(conn, run, filters)
    coverage = run.units_clustered / run.units_in if run.units_in else 0.0
    if filtered:
        # The filters pick hassles and comments; the clustering is the whole window's. The
        # stage filter picks hassles only: these figures count comments of every stage.
        matching = "Comments matching the filters" + (", any stage" if filters.stages else "")
        counts = {
            matching: f"{figures.comments:,}",
            "Customers matching the filters": f"{figures.customers:,}",
            "Pain-point sentences in them": f"{figures.pain_points:,}",
            "In a recurring hassle (coverage, whole window)": f"{coverage:.0%}",
        }
    else:
        counts = {
            "Comments in the window": f"{figures.comments:,}",
            "Customers": f"{figures.customers:,}",
            "Pain-point sentences": f"{run.units_in:,}",
            "In a recurring hassle (coverage)": f"{coverage:.0%}",
        }
    level_counts = Counter(level.level for level in ranking.levels.values())
    if filtered:
        level_counts = Counter(parent=len(ranking.parents), child=len(ranking.scores))
    if level_counts["parent"]:
        hassle_figures = {
            "Hassle groups (parents)": f"{level_counts['parent']:,}",
            "Specific hassles": f"{level_counts['child']:,}",
        }
    else:
        hassle_figures = {
            "Recurring hassles": f"{level_counts['child'] if filtered else run.hassles:,}"
        }
    return ReportData(
        title=settings.report.title,
        generated_at=datetime.now(UTC).replace(microsecond=0),
        run_id=run_id,
        window_start=first_day,
        window_end=last_day,
        filters=filters.describe(),
        hassles=tuple(hassles),
        stages=tuple((s.key, s.name) for s in taxonomy.stages),
        themes=tuple((t.key, t.name) for t in taxonomy.themes),
        heatmap=store.read_stage_theme_counts(conn, (run.window_start, run.window_end), filters),
        figures={
            **counts,
            **hassle_figures,
            "Pain-point sentences with no journey stage": (
                f"{figures.pain_points_unassigned_stage:,}"
            ),
            "Sentences in an unsupported language": f"{figures.units_unsupported_language:,}",
            # Records, not comments: a quarantined one has no channel, product or stage.
            "Records quarantined / repaired"
            + (" (every source, unfiltered)" if filtered else ""): (
                f"{figures.quarantined:,} / {figures.repaired:,}"
            ),
            **stale_taxonomy_figure(conn, taxonomy),
        },
        resolved=resolved,
        score_note=score_note(
            [s.weights for s in (*ranking.scores, *ranking.parents)], settings.rank.weights
        )
        if ranking.scores
        else "",
        empty_note=""
        if hassles or filtered
        else why_no_hassle(run, unsupported=figures.units_unsupported_language),
    )


STALE_TAXONOMY = "Journey stages and themes"
"""The report figure that says the tags predate the taxonomy file (:func:`stale_taxonomy_figure`)."""


def stale_taxonomy_figure(conn: duckdb.DuckDBPyConnection, taxonomy: Taxonomy) -> dict[str, str]:
    """A figure saying the tags predate the taxonomy (edited since the last run), if they do.

    The report names stages and themes by the taxonomy file's keys; tags of an earlier one may
    use keys it no longer has, and its heatmap's columns then miss them.
    """
    # A tag's version is the taxonomy's, then "+" and the tagger's (flows.enrich.tag_version).
    tagged = sorted({v.split("+", 1)[0] for v in read_tag_taxonomies(conn)} - {taxonomy.version_id})
    if not tagged:
        return {}
    return {
        STALE_TAXONOMY: (
            f"tagged with an earlier taxonomy ({', '.join(tagged)}; the file is now "
            f"{taxonomy.version_id}): run `hasslemap run` to tag them anew"
        )
    }


def why_no_hassle(run: store.ClusterRun, *, unsupported: int = 0) -> str:
    """Why the clustering found no hassle, in a product owner's words.

    ``unsupported``: the window's sentences in a language the run does not read, which is
    then the reason, not praise.
    """
    if not run.units_in and unsupported:
        return (
            f"No pain points read in this window: {unsupported:,} sentences are in a language "
            "hasslemap is not set to read (enrich.supported_languages; models.multilingual "
            "with a model that reads it)."
        )
    if not run.units_in:
        return (
            "No pain points in this window: what customers wrote is praise, thanks or "
            "questions, or has not been read yet."
        )
    smallest = run.min_cluster_size or 10
    return (
        f"No recurring hassle yet: {run.units_in:,} pain-point sentences in the window, and a "
        f"hassle is a group of at least {smallest} alike ones (grouping starts at "
        f"{2 * smallest} different sentences; copies of one sentence count once)."
    )


def _daily_mentions(ranking: Ranking) -> dict[str, Counter[date]]:
    """hassle_id -> comments a day, for every child and parent (a comment once per parent).

    A parent counts the comments its score counts (:func:`nlp.rank.rank_levels`): its
    specific children's, or all its children's when every one is generic.
    """
    counted_up: set[str] = set()
    for p in ranking.parents:
        children = ranking.children_of(p.hassle_id)
        counted_up |= {c.hassle_id for c in ([c for c in children if not c.generic] or children)}
    by_hassle: dict[str, Counter[date]] = {}
    counted: set[tuple[str, str]] = set()
    for m in ranking.mentions:
        day = m.created_at.date()
        by_hassle.setdefault(m.hassle_id, Counter())[day] += 1
        parent = ranking.parent_of.get(m.hassle_id)
        if (
            m.hassle_id in counted_up
            and parent is not None
            and (parent, m.comment_id) not in counted
        ):
            counted.add((parent, m.comment_id))
            by_hassle.setdefault(parent, Counter())[day] += 1
    return by_hassle


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def stored_hassle(row: store.RankingRow) -> RankedHassle:
    """A stored ranking row as a ranked hassle (no quotes, daily counts or part details)."""
    return RankedHassle(
        rank=row.rank,
        hassle_id=row.hassle_id,
        label=redact_pii(row.label),
        stage=row.stage,
        theme=row.theme,
        score=row.total_score,
        parts=tuple(
            ScorePart(
                key=name,
                label=FACTORS[name].label if name in FACTORS else name,
                value=value,
                weight=row.weights.get(name, 0.0),
                contribution=value * row.weights.get(name, 0.0),
                detail="",
            )
            for name, value in row.parts.items()
        ),
        customers=row.customers,
        comments=row.comments,
        severity_mean=row.severity_mean,
        trend_label=row.trend,
        trend_detail="",
        daily_counts=(),
        channel_mix=dict(row.channels),
        quotes=(),
        change=row.change,
        generic=row.generic,
        level=row.level,
        parent_id=row.parent_id,
        specificity=row.specificity,
    )


def stored_top_hassles(
    rows: Sequence[store.RankingRow], top: int, children: int
) -> list[RankedHassle]:
    """The top ``top`` of a stored ranking: parents with their top ``children``, else hassles."""
    parents = [r for r in rows if r.level == "parent"][:top]
    kids = [r for r in rows if r.level == "child"]
    if not parents:
        return [stored_hassle(r) for r in kids[:top]]
    return [
        replace(
            stored_hassle(p),
            children=tuple(stored_hassle(k) for k in kids if k.parent_id == p.hassle_id)[:children],
        )
        for p in parents
    ]
