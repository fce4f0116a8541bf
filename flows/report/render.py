"""Draw a :class:`~flows.report.model.ReportData` as HTML, Markdown and CSV.

The HTML page is self-contained: inline CSS, charts as inline SVG, no script and no network
(a Content-Security-Policy meta tag forbids both, in case anything slipped through). All
customer text is escaped: by Jinja2's autoescape in HTML, by :func:`_md` in Markdown, and
against formula injection in CSV.

Everything here is pure except :func:`write_report`, which writes the files.
"""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2

from config.channels import CHANNELS as KNOWN_CHANNELS
from config.taxonomy import NO_STAGE, NO_THEME, UNASSIGNED
from flows.report.charts import (
    days_per_block,
    registry_colour,
    sparkline_svg,
    sparkline_text,
    stacked_bar_svg,
)
from flows.report.columns import (
    COLUMNS,
    CSV,
    HTML,
    MARKDOWN,
    Names,
    columns_for,
    places_moved,
    rank_move,
    tag_share,
)
from flows.report.model import Quote, RankedHassle, ReportData, ScorePart
from nlp.factors import FACTORS
from nlp.label_support import KEYPHRASE_AND
from warehouse.export import guard_formula

__all__ = [
    "CSP",
    "render_csv",
    "render_html",
    "render_markdown",
    "sparkline_svg",
    "sparkline_text",
    "weight_text",
    "write_report",
]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
"""The page's Content-Security-Policy: no script, no fetches, only inline styles and data: images."""

TREND_ARROWS = {"rising": "▲", "falling": "▼", "new": "●", "steady": "–"}
LEGEND = (
    "Since last run: the move in rank since the previous ranking (▲ up, ▼ down that many "
    "places, = the same place, new: not ranked then). Trend: what customers say over time."
)
"""The line under the summary table: the two columns that could be read alike."""
KEYPHRASE_NOTE = (
    f"“A{KEYPHRASE_AND}B” in a label adds a keyphrase: where no phrase of the hassle's "
    "sentences names it whole, or to tell it from a hassle whose label says the same."
)
"""Under the summary table when a label joins two keyphrases."""
HEATMAP_NOTE = (
    "A comment with pain points in several cells counts in each of them, and once in each total."
)
"""The line under the heatmap: why its totals are less than the sums of its cells."""
CHANNELS = tuple(c.name for c in KNOWN_CHANNELS.values() if c.report_column)

_HEAT_LOW = (244, 246, 249)  # heatmap colour at 0
_HEAT_HIGH = (47, 93, 138)  # heatmap colour at the largest count

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("flows.report", "templates"),
    # report.html.j2 escapes everything; report.md.j2 escapes with the |md filters instead.
    autoescape=jinja2.select_autoescape(enabled_extensions=("html.j2", "html")),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


# --- the view: what both templates draw -----------------------------------------------


def _heat_colour(count: int, top: int) -> tuple[str, str]:
    """Background and text colour for a heatmap cell."""
    t = (count / top) ** 0.7 if top > 0 and count > 0 else 0.0
    rgb = tuple(round(lo + (hi - lo) * t) for lo, hi in zip(_HEAT_LOW, _HEAT_HIGH, strict=True))
    text = "#ffffff" if t > 0.55 else ("#1f2933" if count else "#b8c0cc")
    return "#{:02x}{:02x}{:02x}".format(*rgb), text


def _split_quote(quote: Quote) -> tuple[str, str, str]:
    """The quote's text before, inside and after the highlighted sentence (all unescaped)."""
    text = quote.text
    start = min(max(0, quote.highlight_start), len(text))
    end = min(max(start, quote.highlight_end), len(text))
    return text[:start], text[start:end], text[end:]


def _when(value: datetime) -> str:
    out = value.strftime("%Y-%m-%d %H:%M")
    if value.tzinfo is not None:
        out += " " + (value.tzname() or value.strftime("%z"))
    return out


def weight_text(weight: float) -> str:
    """A weight as a percentage: whole (``30%``), else with one decimal (``7.5%``)."""
    percent = weight * 100
    return f"{percent:.0f}%" if abs(percent - round(percent)) < 0.05 else f"{percent:.1f}%"


def _rank_move_words(h: RankedHassle) -> str:
    """Its move in rank since the previous ranking in words, e.g. "up 2 places since last run"."""
    if h.change == "steady":
        return "same rank as last run"
    if h.change not in ("rising", "falling"):
        return f"{h.change} since last run" if h.change else ""
    direction = "up" if h.change == "rising" else "down"
    places = places_moved(h)
    if not places:
        return f"{direction} in rank since last run"
    return f"{direction} {places} place{'s' if places != 1 else ''} since last run"


def _rank_move_title(h: RankedHassle) -> str:
    """The ranks the move is between, e.g. "#9 last run, #7 now" (empty when not known)."""
    if h.previous_rank is None or not h.change:
        return ""
    return f"#{h.previous_rank} last run, #{h.rank} now"


def _part_view(part: ScorePart, factor_colours: list[tuple[str, str | None]]) -> dict[str, Any]:
    return {
        "key": part.key,
        "label": part.label,
        "value": part.value,
        "weight": part.weight,
        "weight_text": weight_text(part.weight),
        "contribution": part.contribution,
        "points": part.contribution * 100,
        "detail": part.detail,
        "colour": registry_colour(part.key, factor_colours),
    }


def _hassle_view(h: RankedHassle, names: Names, two_level: bool) -> dict[str, Any]:
    counts = [c for _, c in h.daily_counts]
    factor_colours = [(f.name, f.colour) for f in FACTORS]
    parts = [_part_view(p, factor_colours) for p in h.parts]
    total_channels = sum(h.channel_mix.values())
    channel_colours = [(c.name, c.colour) for c in KNOWN_CHANNELS.values()]
    ordered = [c for c in CHANNELS if c in h.channel_mix] + sorted(
        c for c in h.channel_mix if c not in CHANNELS
    )
    channels = [
        {
            "name": name,
            "count": h.channel_mix[name],
            "share": h.channel_mix[name] / total_channels if total_channels else 0.0,
            "colour": registry_colour(name, channel_colours),
        }
        for name in ordered
    ]
    quotes = []
    for q in h.quotes[:3]:
        before, highlight, after = _split_quote(q)
        quotes.append(
            {
                "before": before,
                "highlight": highlight,
                "after": after,
                "channel": q.channel,
                "date": q.created_at.date().isoformat(),
                "comment_id": q.comment_id,
            }
        )
    classes = ["parent" if h.level == "parent" else "", "generic" if h.generic else ""]
    return {
        "h": h,
        "rank": h.rank,
        "id": h.hassle_id,
        "label": h.label,
        "classes": " ".join(c for c in classes if c),
        "specificity": None if h.specificity is None else f"{h.specificity:.2f}",
        "children": [_hassle_view(c, names, two_level) for c in h.children],
        "stage": names.stage(h.stage),
        "theme": names.theme(h.theme),
        "stage_share": tag_share(h.stage_share),
        "theme_share": tag_share(h.theme_share),
        "cells": {c.name: c.cell(h, names) for c in COLUMNS},
        "score": h.score * 100,
        "arrow": TREND_ARROWS.get(h.trend_label, "·"),
        "move": rank_move(h),
        "move_words": _rank_move_words(h),
        "move_title": _rank_move_title(h),
        "counts": counts,
        "first_day": h.daily_counts[0][0].isoformat() if h.daily_counts else "",
        "last_day": h.daily_counts[-1][0].isoformat() if h.daily_counts else "",
        "peak": max(counts, default=0),
        "spark": sparkline_svg(counts, width=96, height=22),
        "spark_large": sparkline_svg(counts, width=320, height=64),
        "spark_text": sparkline_text(counts),
        "spark_days": days_per_block(len(counts)),
        "parts": parts,
        "parts_bar": stacked_bar_svg([(p["contribution"], p["colour"], p["label"]) for p in parts]),
        "channels": channels,
        "channels_bar": stacked_bar_svg(
            [(c["count"], c["colour"], c["name"]) for c in channels], total=total_channels
        ),
        "quotes": quotes,
    }


def _view(data: ReportData, target: str) -> dict[str, Any]:
    names = Names(dict(data.stages), dict(data.themes))
    heatmap = data.heatmap
    top = max(heatmap.cells.values(), default=0)
    # Pain points no stage or theme fitted get their own row and column: left out, the
    # table would leave out comments v_stage_theme_matrix counts.
    stages, themes = list(data.stages), list(data.themes)
    if any(stage == UNASSIGNED for stage, _ in heatmap.cells):
        stages.append((UNASSIGNED, NO_STAGE))
    if any(theme == UNASSIGNED for _, theme in heatmap.cells):
        themes.append((UNASSIGNED, NO_THEME))
    rows = []
    for stage_key, stage_name in stages:
        cells = []
        for theme_key, _ in themes:
            count = heatmap.cells.get((stage_key, theme_key), 0)
            background, colour = _heat_colour(count, top)
            cells.append({"count": count, "background": background, "colour": colour})
        # The totals count comments, not cells: a comment in two cells of a row counts once.
        rows.append(
            {"name": stage_name, "cells": cells, "total": heatmap.by_stage.get(stage_key, 0)}
        )
    column_totals = [heatmap.by_theme.get(theme_key, 0) for theme_key, _ in themes]
    return {
        "data": data,
        "csp": CSP,
        "window": f"{data.window_start.isoformat()} – {data.window_end.isoformat()}",
        "generated": _when(data.generated_at),
        "hassles": [_hassle_view(h, names, data.two_level) for h in data.hassles],
        "columns": columns_for(target, two_level=data.two_level),
        "two_level": data.two_level,
        "heatmap": {
            "themes": [name for _, name in themes],
            "rows": rows,
            "column_totals": column_totals,
            "total": heatmap.total,
            "note": HEATMAP_NOTE,
        },
        "arrows": TREND_ARROWS,
        "legend": " ".join((LEGEND, *_label_notes(data.hassles))),
        "score_note": data.score_note,
    }


def _label_notes(hassles: Sequence[RankedHassle]) -> tuple[str, ...]:
    """The notes the shown labels need: what "A + B" means, where a label has it."""
    labels = (x.label for h in hassles for x in (h, *h.children))
    return (KEYPHRASE_NOTE,) if any(KEYPHRASE_AND in label for label in labels) else ()


# --- HTML -----------------------------------------------------------------------------


def render_html(data: ReportData) -> str:
    """Render the report as one self-contained HTML page.

    The page has inline CSS and inline SVG charts, no script, and loads nothing: its
    Content-Security-Policy is ``default-src 'none'; style-src 'unsafe-inline'; img-src data:``.
    Customer text is escaped by Jinja2's autoescape.

    Args:
        data: The report.

    Returns:
        The HTML document.
    """
    return _ENV.get_template("report.html.j2").render(**_view(data, HTML))


# --- Markdown -------------------------------------------------------------------------

_MD_INLINE = re.compile(r"([\\`*_~\[\]|])")
# What would start a block at the beginning of a line: a quote, a heading, a list item, a
# thematic break or setext underline.
_MD_LINE_START = re.compile(
    r"^(\s*)(>|#{1,6}(?=\s|$)|[-+*](?=\s|$)|\d+[.)](?=\s|$)|=+\s*$|-+\s*$)", re.MULTILINE
)


def _md_block_escape(match: re.Match[str]) -> str:
    indent, marker = match.group(1), match.group(2)
    if marker[0].isdigit():  # "1. " -> "1\. ": only punctuation can be backslash-escaped
        return indent + marker[:-1] + "\\" + marker[-1]
    return indent + "\\" + marker


def _md(text: object) -> str:
    """Escape text for Markdown: no HTML tags, no emphasis/link/table syntax, no block starts."""
    out = str(text).replace("<", "&lt;")
    out = _MD_INLINE.sub(r"\\\1", out)
    return _MD_LINE_START.sub(_md_block_escape, out)


def _md_inline(text: object) -> str:
    """Escape text for a Markdown table cell or a one-line spot: whitespace runs become spaces."""
    return _md(" ".join(str(text).split()))


def md_cell(text: object) -> str:
    """Escape text for a Markdown table cell, which never starts a line: inline syntax only."""
    return _MD_INLINE.sub(r"\\\1", " ".join(str(text).split()).replace("<", "&lt;"))


def _md_quote_part(text: str) -> str:
    """Escape a piece of a quote, keeping the spaces at its ends (the pieces are joined)."""
    collapsed = re.sub(r"\s+", " ", text)
    return _MD_INLINE.sub(r"\\\1", collapsed.replace("<", "&lt;"))


def _md_quote(quote: dict[str, Any]) -> str:
    """A quote on one line with its highlighted sentence in bold."""
    before = _md_quote_part(quote["before"])
    highlight = _md_quote_part(quote["highlight"])
    after = _md_quote_part(quote["after"])
    if highlight.strip():
        # Bold must hug the text: move the sentence's outer spaces outside the ** markers.
        lead = highlight[: len(highlight) - len(highlight.lstrip())]
        trail = highlight[len(highlight.rstrip()) :]
        highlight = f"{lead}**{highlight.strip()}**{trail}"
    line = (before + highlight + after).strip()
    # A line that starts like a block (heading, quote, list) is escaped.
    return _MD_LINE_START.sub(_md_block_escape, line)


_ENV.filters["md"] = _md_inline
_ENV.filters["md_quote"] = _md_quote
_ENV.filters["md_cell"] = md_cell


def render_markdown(data: ReportData) -> str:
    """Render the report as Markdown, with the same content as the HTML page.

    Tables for the summary, score parts and heatmap; quotes as ``>`` blockquotes with the
    pain-point sentence in bold; sparklines as unicode blocks. Customer text is escaped:
    ``<`` becomes ``&lt;`` (no raw HTML), and Markdown syntax characters are backslashed.

    Args:
        data: The report.

    Returns:
        The Markdown document.
    """
    text = _ENV.get_template("report.md.j2").render(**_view(data, MARKDOWN))
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


# --- CSV ------------------------------------------------------------------------------


def _csv_columns(data: ReportData) -> tuple[list[str], list[str]]:
    """The part keys and channels of the CSV's columns: every registered one, then any other."""
    part_keys = [f.name for f in FACTORS]
    for h in _in_order(data):
        for p in h.parts:
            if p.key not in part_keys:
                part_keys.append(p.key)
    channels = list(CHANNELS) + sorted(
        {c for h in _in_order(data) for c in h.channel_mix} - set(CHANNELS)
    )
    return part_keys, channels


def _in_order(data: ReportData) -> list[RankedHassle]:
    """Every hassle of the report: each one, followed by its children."""
    return [item for h in data.hassles for item in (h, *h.children)]


def render_csv(data: ReportData) -> str:
    """Render the ranking as CSV, one row per hassle.

    With two levels, each parent's row is followed by its children's rows. The header is the
    same whatever the report holds. The columns are the report columns shown in CSV
    (:data:`flows.report.columns.COLUMNS`: rank, hassle_id, level, parent_id (empty with one
    level), label, stage, theme (display names), score (0-100), customers, comments,
    severity_mean, trend_label, change, then any column added); then ``part_<key>`` (the
    part's value, 0-1) and ``contribution_<key>`` (its points of the 0-100 score) for every
    registered factor, empty where a hassle's score leaves it out (and for any other part a
    hassle has); ``channel_review``, ``channel_ticket``,
    ``channel_survey`` (and any other channel seen); ``quote_1`` .. ``quote_3``. Text cells that
    start with ``= + - @`` (or a tab or carriage return) get a leading ``'`` so spreadsheets do
    not run them as formulas.

    Args:
        data: The report.

    Returns:
        The CSV text, with CRLF line ends as the csv module writes them.
    """
    part_keys, channels = _csv_columns(data)
    names = Names(dict(data.stages), dict(data.themes))
    # The same header whatever the report holds (one level, no hassle): imports rely on it.
    columns = columns_for(CSV, two_level=True)
    header = [c.name for c in columns]
    for key in part_keys:
        header += [f"part_{key}", f"contribution_{key}"]
    header += [f"channel_{c}" for c in channels]
    header += ["quote_1", "quote_2", "quote_3"]

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for h in _in_order(data):
        parts = {p.key: p for p in h.parts}
        row: list[object] = [_csv_value(c.value(h, names)) for c in columns]
        for key in part_keys:
            part = parts.get(key)
            row += [round(part.value, 4), round(part.contribution * 100, 2)] if part else ["", ""]
        row += [h.channel_mix.get(c, 0) for c in channels]
        quotes = [q.text for q in h.quotes[:3]]
        row += quotes + [""] * (3 - len(quotes))
        writer.writerow([guard_formula(v) for v in row])
    return buffer.getvalue()


def _csv_value(value: object) -> object:
    return "" if value is None else value


# --- files ----------------------------------------------------------------------------


def _write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    # os.open with 0o666 lets the umask decide the mode, as a plain open() would.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_report(
    data: ReportData, out_dir: Path, stem: str = "hasslemap-report"
) -> dict[str, Path]:
    """Write the report as ``<stem>.html``, ``<stem>.md`` and ``<stem>.csv`` in ``out_dir``.

    Each file is written atomically (a temporary file in ``out_dir``, then ``os.replace``),
    so a reader never sees half a report. ``out_dir`` is created if missing.

    Args:
        data: The report.
        out_dir: The folder to write into.
        stem: The file name without extension.

    Returns:
        The written paths by format: ``{"html": ..., "md": ..., "csv": ...}``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rendered = {
        "html": render_html(data),
        "md": render_markdown(data),
        "csv": render_csv(data),
    }
    paths: dict[str, Path] = {}
    for fmt, text in rendered.items():
        path = out_dir / f"{stem}.{fmt}"
        _write_atomic(path, text)
        paths[fmt] = path
    return paths
