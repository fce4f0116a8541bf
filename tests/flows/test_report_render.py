"""flows.report.render: the HTML, Markdown and CSV renderers, and the page in a real browser."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from conftest import chromium, comments_per_customer_column, dom_facts, run_chromium

from flows.report.artifacts import artifact_rows, summary_markdown
from flows.report.build import score_note, why_no_hassle
from flows.report.columns import COLUMNS, CSV, CSV_OWN_PREFIXES, HTML, Column, columns_for
from flows.report.model import Quote, RankedHassle, ReportData, ScorePart
from flows.report.render import (
    CSP,
    render_csv,
    render_html,
    render_markdown,
    sparkline_svg,
    sparkline_text,
    weight_text,
    write_report,
)
from nlp.clean import clean_text
from nlp.factors import FACTORS, Factor
from warehouse.ranking import ClusterRun, StageThemeCounts

REPO = Path(__file__).resolve().parents[2]
WINDOW_START = date(2025, 5, 5)
DAYS = 28

STAGES = (
    ("need_awareness", "Need awareness"),
    ("research", "Research and choice"),
    ("purchase", "Purchase"),
    ("delivery", "Delivery"),
    ("onboarding", "Onboarding and setup"),
    ("usage", "Everyday use"),
    ("support", "Support"),
    ("billing", "Billing"),
    ("change_or_return", "Change or return"),
    ("need_end", "Need end"),
)
THEMES = (
    ("effort", "Effort"),
    ("waiting", "Waiting"),
    ("confusion", "Confusion"),
    ("broken", "Broken"),
    ("surprise_cost", "Surprise cost"),
    ("worry", "Worry"),
    ("poor_treatment", "Poor treatment"),
    ("policy_rigidity", "Policy rigidity"),
    ("availability", "Availability"),
)
CSV_HASSLE_COLUMNS = [
    "rank",
    "hassle_id",
    "label",
    "stage",
    "stage_share",
    "theme",
    "theme_share",
    "score",
    "customers",
    "comments",
    "severity_mean",
    "trend_label",
    "change",
]
"""The built-in columns of the CSV report, in order (the score parts and channels follow)."""
WEIGHTS = {"reach": 0.30, "severity": 0.25, "trend": 0.20, "spread": 0.10, "repeat": 0.15}
LABELS = {
    "reach": "Reach",
    "severity": "Severity",
    "trend": "Trend",
    "spread": "Spread",
    "repeat": "Repeat",
}

# Sentences the tests look for: the highlighted pain point of the top hassle's first quote.
TOP_SENTENCE = "Three weeks later the refund still hasn't shown up on my card."
SCRIPT_PAYLOAD = "<script>document.body.setAttribute('data-pwned','1')</script>"
IMG_PAYLOAD = "<img src=x onerror=\"document.title='PWNED'\">"
WINDOW_PAYLOAD = '<script>window.__pwned=1</script> <img src=x onerror="window.__pwned=2">'


def quote(
    comment_id: str, channel: str, day: int, before: str, sentence: str, after: str = ""
) -> Quote:
    text = before + sentence + after
    return Quote(
        comment_id=comment_id,
        channel=channel,
        created_at=datetime(2025, 5, 5, 9, 30, tzinfo=UTC) + timedelta(days=day),
        text=text,
        highlight_start=len(before),
        highlight_end=len(before) + len(sentence),
    )


def parts(values: dict[str, float], details: dict[str, str]) -> tuple[ScorePart, ...]:
    return tuple(
        ScorePart(
            key=key,
            label=LABELS[key],
            value=value,
            weight=WEIGHTS[key],
            contribution=value * WEIGHTS[key],
            detail=details[key],
        )
        for key, value in values.items()
    )


def daily(counts: list[int]) -> tuple[tuple[date, int], ...]:
    return tuple((WINDOW_START + timedelta(days=i), c) for i, c in enumerate(counts))


def hassle(rank: int, hassle_id: str, label: str, values: dict[str, float], **kw) -> RankedHassle:
    ps = parts(values, kw.pop("details"))
    return RankedHassle(
        rank=rank,
        hassle_id=hassle_id,
        label=label,
        score=sum(p.contribution for p in ps),
        parts=ps,
        **kw,
    )


def make_report() -> ReportData:
    rising = [3, 4, 2, 5, 4, 3, 6, 5, 4, 6, 7, 5, 8, 9, 7, 10, 12, 9, 14, 15, 13, 18, 21, 19]
    rising += [24, 26, 29, 31]
    new = [0] * 16 + [2, 5, 9, 14, 18, 17, 22, 25, 21, 27, 30, 28]
    falling = [22, 25, 21, 24, 20, 19, 21, 17, 18, 15, 16, 14, 12, 13, 11, 10, 11, 9, 8, 9]
    falling += [7, 8, 6, 7, 5, 6, 5, 4]
    steady = [6, 5, 7, 6, 5, 6, 8, 6, 5, 7, 6, 6, 5, 7, 6, 5, 6, 7, 6, 5, 6, 7, 5, 6, 6, 7, 5, 6]
    hassles = (
        hassle(
            1,
            "h-refund-delay",
            "Refund not received after returning the camera",
            {"reach": 0.92, "severity": 0.88, "trend": 0.81, "spread": 0.67, "repeat": 0.74},
            details={
                "reach": "412 customers, 530 comments",
                "severity": "mean severity 0.81 (top 5%)",
                "trend": "+180% in the last 7 days (p = 0.002)",
                "spread": "3 of 3 channels",
                "repeat": "38% wrote more than once",
            },
            stage="change_or_return",
            theme="waiting",
            stage_share=0.86,
            theme_share=0.194,
            customers=412,
            comments=530,
            severity_mean=0.81,
            trend_label="rising",
            trend_detail="+180% in the last 7 days (p = 0.002)",
            daily_counts=daily(rising),
            channel_mix={"ticket": 301, "review": 142, "survey": 87},
            quotes=(
                quote(
                    "t-1042",
                    "ticket",
                    25,
                    "I sent the camera back on the 2nd as instructed. ",
                    TOP_SENTENCE,
                    " Nobody answers the chat either.",
                ),
                quote(
                    "r-88",
                    "review",
                    21,
                    "Great hardware, awful returns process. ",
                    "I've been waiting a month for my money back.",
                ),
                quote(
                    "s-310",
                    "survey",
                    18,
                    "",
                    "Return label took ages and the refund even longer.",
                    " Please fix this.",
                ),
            ),
            change="rising",
            previous_rank=3,
            keyphrases=("refund", "return label", "money back", "weeks"),
        ),
        hassle(
            2,
            "h-app-logout",
            "App logs out after the 4.2 update",
            {"reach": 0.71, "severity": 0.62, "trend": 1.0, "spread": 0.33, "repeat": 0.55},
            details={
                "reach": "287 customers, 341 comments",
                "severity": "mean severity 0.58",
                "trend": "new this run: first seen 12 days ago",
                "spread": "1 of 3 channels",
                "repeat": "21% wrote more than once",
            },
            stage="usage",
            theme="broken",
            customers=287,
            comments=341,
            severity_mean=0.58,
            trend_label="new",
            trend_detail="First seen 12 days ago, 28 comments a day now",
            daily_counts=daily(new),
            channel_mix={"review": 341},
            quotes=(
                quote(
                    "r-2001",
                    "review",
                    26,
                    "Since the update ",
                    "the app logs me out every time I open it.",
                    " Two stars until it's fixed.",
                ),
            ),
            change="new",
            keyphrases=("logged out", "update", "login"),
        ),
        hassle(
            3,
            "h-tracking",
            "Tracking page stuck on 'label created'",
            {"reach": 0.55, "severity": 0.41, "trend": 0.12, "spread": 0.67, "repeat": 0.30},
            details={
                "reach": "198 customers, 240 comments",
                "severity": "mean severity 0.39",
                "trend": "-62% in the last 7 days (p = 0.01)",
                "spread": "2 of 3 channels",
                "repeat": "9% wrote more than once",
            },
            stage="delivery",
            theme="waiting",
            customers=198,
            comments=240,
            severity_mean=0.39,
            trend_label="falling",
            trend_detail="-62% in the last 7 days (p = 0.01)",
            daily_counts=daily(falling),
            channel_mix={"ticket": 160, "survey": 80},
            quotes=(
                quote(
                    "t-777",
                    "ticket",
                    3,
                    "",
                    "The tracking has said 'label created' for six days.",
                    " Where is my order?",
                ),
            ),
            change="falling",
            previous_rank=2,
            keyphrases=("tracking", "label created"),
        ),
        hassle(
            4,
            "h-generic",
            "Not happy with the service",
            {"reach": 0.40, "severity": 0.35, "trend": 0.10, "spread": 1.0, "repeat": 0.10},
            details={
                "reach": "160 customers, 168 comments",
                "severity": "mean severity 0.30",
                "trend": "no significant change",
                "spread": "3 of 3 channels",
                "repeat": "4% wrote more than once",
            },
            stage=None,
            theme=None,
            customers=160,
            comments=168,
            severity_mean=0.30,
            trend_label="steady",
            trend_detail="No significant change (p = 0.64)",
            daily_counts=daily(steady),
            channel_mix={"review": 70, "ticket": 50, "survey": 48},
            quotes=(quote("s-12", "survey", 10, "", "Not great.", " Expected better."),),
            change="steady",
            previous_rank=4,
            keyphrases=("service", "disappointed"),
            generic=True,
        ),
    )
    cells = {
        ("change_or_return", "waiting"): 530,
        ("change_or_return", "effort"): 88,
        ("change_or_return", "policy_rigidity"): 61,
        ("usage", "broken"): 341,
        ("usage", "confusion"): 72,
        ("delivery", "waiting"): 240,
        ("delivery", "worry"): 35,
        ("onboarding", "confusion"): 120,
        ("onboarding", "effort"): 64,
        ("billing", "surprise_cost"): 97,
        ("support", "poor_treatment"): 58,
        ("research", "availability"): 44,
        ("purchase", "broken"): 23,
        ("need_end", "policy_rigidity"): 17,
        ("need_awareness", "confusion"): 4,
    }
    return ReportData(
        title="Hasslemap: top customer hassles",
        generated_at=datetime(2025, 6, 2, 6, 15, tzinfo=UTC),
        run_id="run-20250602-0615",
        window_start=WINDOW_START,
        window_end=WINDOW_START + timedelta(days=DAYS - 1),
        filters={"channel": "review, ticket, survey", "language": "en"},
        hassles=hassles,
        stages=STAGES,
        themes=THEMES,
        heatmap=one_cell_each(cells),
        figures={
            "Comments read": "4,812",
            "Pain-point comments": "1,794 (37%)",
            "Tagged with a stage": "88%",
            "Tagged with a theme": "81%",
            "In a hassle": "72%",
            "Clusters kept": "23",
        },
        resolved=(("h-promo-code", "Promo code rejected at checkout"),),
    )


def one_cell_each(cells: dict[tuple[str, str], int]) -> StageThemeCounts:
    """The heatmap's counts when no comment has pain points in two cells: totals are sums."""
    by_stage: dict[str, int] = {}
    by_theme: dict[str, int] = {}
    for (stage, theme), count in cells.items():
        by_stage[stage] = by_stage.get(stage, 0) + count
        by_theme[theme] = by_theme.get(theme, 0) + count
    return StageThemeCounts(cells, by_stage, by_theme, sum(cells.values()))


def with_quote(data: ReportData, rank: int, text: str, sentence: str) -> ReportData:
    """``data`` with hassle ``rank``'s quotes replaced by one quote of ``text``."""
    start = text.index(sentence)
    q = Quote(
        "evil-1", "review", datetime(2025, 5, 30, tzinfo=UTC), text, start, start + len(sentence)
    )
    hassles = tuple(
        dataclasses.replace(h, quotes=(q,) + h.quotes[1:]) if h.rank == rank else h
        for h in data.hassles
    )
    return dataclasses.replace(data, hassles=hassles)


def with_label(data: ReportData, rank: int, label: str) -> ReportData:
    hassles = tuple(
        dataclasses.replace(h, label=label) if h.rank == rank else h for h in data.hassles
    )
    return dataclasses.replace(data, hassles=hassles)


@pytest.fixture
def report() -> ReportData:
    return make_report()


# --- helpers --------------------------------------------------------------------------


def test_sparkline_text_scales_to_the_largest():
    assert sparkline_text([0, 1, 2, 3, 4, 5, 6, 7]) == "▁▂▃▄▅▆▇█"
    assert sparkline_text([5, 10]) == "▅█"
    assert sparkline_text([0, 0, 0]) == "▁▁▁"
    assert sparkline_text([]) == ""


def test_a_long_window_sums_days_into_blocks_so_the_text_sparkline_fits():
    """A 400-day window drew 400 blocks per Markdown row (session 42's adopter probe)."""
    assert sparkline_text([1] * 90) == "█" * 90  # the default window: a day a block
    long = sparkline_text([0] * 395 + [7] * 5)
    assert len(long) == 80 and long.endswith("▁█")  # 5 days a block; the last holds the rise
    assert sparkline_text([1, 0, 0, 3], width=2) == "▃█"
    assert sparkline_text([1] * 91) == "█" * 46  # a last block of one day is no drop


def test_the_markdown_trend_says_how_many_days_a_block_holds(report: ReportData):
    first = report.hassles[0]
    assert "a block is" not in render_markdown(report)
    long = dataclasses.replace(first, daily_counts=daily([1] * 400))
    md = render_markdown(dataclasses.replace(report, hassles=(long, *report.hassles[1:])))
    assert f"`{'█' * 80}` " in md and "peak 1/day; a block is the mean of 5 days" in md


def test_sparkline_svg_draws_a_polyline():
    svg = sparkline_svg([1, 3, 2, 5], width=100, height=20)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'width="100"' in svg and 'height="20"' in svg
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(points) == 4
    ys = [float(p.split(",")[1]) for p in points]
    assert ys[3] == min(ys)  # the largest count is highest (SVG y grows downwards)
    # Degenerate inputs still draw valid SVG.
    assert "<polyline" in sparkline_svg([4])
    assert "<polyline" in sparkline_svg([0, 0])
    assert "<polyline" not in sparkline_svg([])


# --- HTML -----------------------------------------------------------------------------


def test_html_has_every_hassle_in_rank_order(report: ReportData):
    page = render_html(report)

    assert page.startswith("<!DOCTYPE html>")
    positions = [page.index(f'id="{h.hassle_id}"') for h in report.hassles]
    assert positions == sorted(positions)
    summary = page[page.index('<table class="summary">') : page.index("</table>")]
    label_positions = [summary.index(h.label.replace("'", "&#39;")) for h in report.hassles]
    assert label_positions == sorted(label_positions)
    for h in report.hassles:
        assert f'href="#{h.hassle_id}"' in page
        assert f"#{h.rank}</span>" in page
    # Header, overview, resolved.
    assert "run-20250602-0615" in page
    assert "2025-05-05 – 2025-06-01" in page
    assert "channel: review, ticket, survey" in page
    assert "Everyday use" in page and "Policy rigidity" in page
    assert "Pain-point comments" in page and "1,794 (37%)" in page
    assert "Resolved since the last run" in page and "Promo code rejected at checkout" in page
    assert "too unspecific to act on" in page
    assert '<section class="hassle generic" id="h-generic">' in page
    # Trend arrows and change badges.
    for arrow in "▲▼●–":
        assert arrow in page
    assert '<span class="badge move">new</span>' in page


def test_a_stage_and_theme_show_their_share_of_the_sentences(report: ReportData):
    """A theme on 19% of a hassle's sentences is thin evidence: the reader sees how thin."""
    top = report.hassles[0]
    page = render_html(report)
    section = page[page.index(f'id="{top.hassle_id}"') :]
    chips = section[: section.index("</header>")]
    assert "Change or return <small>86%</small>" in chips
    assert 'title="19% of its sentences are tagged with this theme">Waiting <small>19%' in chips
    summary = page[page.index('<table class="summary">') : page.index("</table>")]
    assert summary.count("<small>86%</small>") == 1
    # A hassle whose share is not known (a stored ranking row) shows its stage alone.
    unknown = report.hassles[1]
    assert unknown.stage and unknown.stage_share is None
    row = summary[summary.index(f'href="#{unknown.hassle_id}"') :].split("</tr>")[0]
    assert "<small>" not in row and "no stage" not in row

    md = render_markdown(report)
    assert "Stage: Change or return (86% of its sentences) · Theme: Waiting (19% of" in md
    top_row = next(line for line in md.splitlines() if line.startswith("| 1 | "))
    assert "| Change or return 86% | Waiting 19% |" in top_row


def test_the_heatmap_counts_pain_points_no_stage_or_theme_fitted(report: ReportData):
    """A pain point with no stage (no theme) has a row (a column) of its own, in the totals too."""
    cells = {**report.heatmap.cells, ("unassigned", "waiting"): 9, ("usage", "unassigned"): 5}
    heatmap = one_cell_each(cells)
    md = render_markdown(dataclasses.replace(report, heatmap=heatmap))
    header = next(line for line in md.splitlines() if line.startswith("| Stage | Effort"))
    assert header.endswith("| No theme | Total |")
    assert "| No stage | 0 | 9 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 0 | 9 |" in md
    total = next(line for line in md.splitlines() if line.startswith("| **Total** |"))
    assert total.endswith(f"| 5 | {sum(cells.values()):,} |")
    page = render_html(dataclasses.replace(report, heatmap=heatmap))
    assert '<th scope="row" class="stage" title="No stage">No stage</th>' in page
    plain = render_markdown(report)  # every pain point has both: no empty row or column
    assert "| No stage |" not in plain and "| No theme |" not in plain


def test_the_heatmap_totals_count_each_comment_once(report: ReportData):
    """A comment with pain points in two cells counts in both, but once in its row's, its
    column's and the grand total: the totals are the comments', not the sums of the cells."""
    # c1: billing x surprise cost and billing x waiting; c2: billing x surprise cost and
    # support x surprise cost; c3: support x waiting.
    heatmap = StageThemeCounts(
        cells={
            ("billing", "surprise_cost"): 2,
            ("billing", "waiting"): 1,
            ("support", "surprise_cost"): 1,
            ("support", "waiting"): 1,
        },
        by_stage={"billing": 2, "support": 2},
        by_theme={"surprise_cost": 2, "waiting": 2},
        total=3,
    )
    data = dataclasses.replace(report, heatmap=heatmap)

    md = render_markdown(data).splitlines()
    assert "| Billing | 0 | 1 | 0 | 0 | 2 | 0 | 0 | 0 | 0 | 2 |" in md
    assert "| Support | 0 | 1 | 0 | 0 | 1 | 0 | 0 | 0 | 0 | 2 |" in md
    assert "| **Total** | 0 | 2 | 0 | 0 | 2 | 0 | 0 | 0 | 0 | 3 |" in md
    assert "A comment with pain points in several cells counts in each of them" in "\n".join(md)
    page = render_html(data)
    table = page[page.index('<table class="heatmap">') :].split("</table>")[0]
    totals = re.findall(r'<td class="total">([\d,]+)</td>', table)
    assert totals == ["0"] * 6 + ["2", "2", "0", "0", "3"]  # journey order, then all
    footer = table[table.index("<tfoot>") :]
    assert re.findall(r"<td>([\d,]+)</td>", footer) == ["0", "2", "0", "0", "2", "0", "0", "0", "0"]


def test_since_last_run_is_a_move_in_rank_in_neutral_badges_with_a_legend(report: ReportData):
    """Not the trend's words and colours: "▼ 1" for a hassle a new one pushed down a place,
    where "falling" in green read as good news about what customers say."""
    page = render_html(report)
    summary = page[page.index('<table class="summary">') : page.index("</table>")]
    cells = re.findall(r'<span class="badge move"(?: title="([^"]*)")?>([^<]*)</span>', summary)
    assert cells == [
        ("#3 last run, #1 now", "▲ 2"),
        ("", "new"),
        ("#2 last run, #3 now", "▼ 1"),
        ("#4 last run, #4 now", "="),
    ]
    for word in ("rising", "falling", "steady"):
        assert f'class="badge {word}"' not in page
    sections = [page[page.index(f'id="{h.hassle_id}"') :] for h in report.hassles]
    chips = [re.search(r'class="badge move"[^>]*>([^<]*)<', s).group(1) for s in sections]
    assert chips == [
        "up 2 places since last run",
        "new since last run",
        "down 1 place since last run",
        "same rank as last run",
    ]
    # Neutral: none of the trend's red and green.
    css = page[page.index("<style>") : page.index("</style>")]
    move = css[css.index(".badge.move {") :].split("}")[0]
    rising, falling = (
        re.search(rf"--{w}: (#[0-9a-f]{{6}})", css).group(1) for w in ("rising", "falling")
    )
    assert "var(--" not in move and rising not in move and falling not in move
    legend = "Since last run: the move in rank since the previous ranking"
    assert page.index("</table>") < page.index(legend) < page.index('id="overview"')
    assert "Trend: what customers say over time." in page

    md = render_markdown(report)
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \| ", line)]
    moves = [row.split(" | ")[6:8] for row in rows]
    assert moves == [["▲ rising", "▲ 2"], ["● new", "new"], ["▼ falling", "▼ 1"], ["– steady", "="]]
    assert md.index(legend) < md.index("## Overview")
    assert "/100 · up 2 places since last run · id `h-refund-delay`" in md
    # The data keep the stored words, which analysts query.
    assert [row["change"] for row in csv.DictReader(io.StringIO(render_csv(report)))] == [
        "rising", "new", "falling", "steady"
    ]  # fmt: skip
    assert [row["change"] for row in artifact_rows(report)] == [
        "rising", "new", "falling", "steady"
    ]  # fmt: skip


def test_a_move_without_known_places_shows_its_arrow_and_a_filtered_report_none(
    report: ReportData,
):
    """A rerun over the same data keeps the previous ranking's change, at the same rank now."""
    top = dataclasses.replace(report.hassles[0], previous_rank=1)
    rerun = dataclasses.replace(report, hassles=(top, *report.hassles[1:]))
    row = next(line for line in render_markdown(rerun).splitlines() if line.startswith("| 1 | "))
    assert "| ▲ rising | ▲ |" in row
    assert "up in rank since last run" in render_html(rerun)
    unranked = tuple(dataclasses.replace(h, change="", previous_rank=None) for h in report.hassles)
    page = render_html(dataclasses.replace(report, hassles=unranked))
    assert 'class="badge move"' not in page and "since last run" not in page


def test_html_is_self_contained(report: ReportData):
    page = render_html(report)

    assert "<script" not in page.lower()
    assert "http://" not in page and "https://" not in page
    assert "<link" not in page.lower() and "@import" not in page and "url(" not in page
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page.replace(
        "&#39;", "'"
    )
    assert CSP == "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    assert page.count('<svg class="spark"') >= 2 * len(report.hassles)  # table + section
    assert "<polyline" in page
    assert page.count('<svg class="bar"') == 2 * len(report.hassles)  # parts + channels


@pytest.mark.parametrize(
    ("weight", "text"), [(0.30, "30%"), (0.075, "7.5%"), (0.30 / 0.85, "35.3%"), (1.0, "100%")]
)
def test_a_weight_shows_one_decimal_unless_it_is_a_whole_percent(weight, text):
    assert weight_text(weight) == text


def test_points_are_value_times_the_weight_shown():
    part = ScorePart("value", "Value at risk", 0.51, 0.075, 0.51 * 0.075, "")
    top = dataclasses.replace(make_report().hassles[0], parts=(part,))
    data = dataclasses.replace(make_report(), hassles=(top,))
    assert '<td class="num">7.5%</td>' in render_html(data)
    assert "| Value at risk | 0.51 | 7.5% | +3.8 |" in render_markdown(data)


def test_html_explains_the_score(report: ReportData):
    page = render_html(report)
    top = report.hassles[0]
    section = page[
        page.index(f'id="{top.hassle_id}"') : page.index(f'id="{report.hassles[1].hassle_id}"')
    ]

    assert f"{top.score * 100:.0f}<small>score / 100</small>" in section
    for p in top.parts:
        assert p.label in section and p.detail in section
        assert f"+{p.contribution * 100:.1f}" in section
        assert f'<td class="num">{weight_text(p.weight)}</td>' in section
    assert top.trend_detail in section
    assert "ticket <b>301</b>" in section
    for k in top.keyphrases:
        assert k in section
    assert section.count("<blockquote>") == 3
    assert "ticket · 2025-05-30" in section


def test_a_channel_has_one_colour_in_every_hassle(report: ReportData, monkeypatch):
    """A channel's colour came from its place in each hassle's mix: one channel, several colours."""
    from types import MappingProxyType

    import flows.report.render as render
    from config.channels import CHANNELS, ChannelSpec

    # app_store declares no colour: it takes a spare one by its place in the registry.
    registry = {**CHANNELS, "app_store": ChannelSpec("app_store", "store reviews")}
    monkeypatch.setattr(render, "KNOWN_CHANNELS", MappingProxyType(registry))
    first, second, *rest = report.hassles
    mixed = dataclasses.replace(
        report,
        hassles=(
            dataclasses.replace(first, channel_mix={"review": 5, "app_store": 3, "social": 2}),
            dataclasses.replace(second, channel_mix={"social": 4, "app_store": 1}),
            *rest,
        ),
    )
    drawn = re.findall(r'background: (#[0-9a-f]+)"></span>([a-z_]+) <b>', render_html(mixed))

    colours: dict[str, set[str]] = {}
    for colour, channel in drawn:
        colours.setdefault(channel, set()).add(colour)
    assert {"review", "social", "app_store"} <= set(colours)
    assert all(len(found) == 1 for found in colours.values()), colours
    assert len({next(iter(found)) for found in colours.values()}) == len(colours), colours
    assert colours["social"] == {CHANNELS["social"].colour}


def test_a_factor_without_a_colour_has_one_colour_in_every_hassle(report: ReportData):
    """Its spare colour came from its place among each hassle's parts: it moved when one was
    left out."""
    FACTORS.register(Factor("test_volume", lambda level: [0.5] * len(level), 0.1, label="Vol"))
    try:
        volume = ScorePart("test_volume", "Vol", 0.5, 0.1, 0.05, "12 comments")
        first, second, *rest = report.hassles
        hassles = (
            dataclasses.replace(first, parts=(*first.parts, volume)),
            dataclasses.replace(second, parts=(*second.parts[1:], volume)),  # reach left out
            *rest,
        )
        page = render_html(dataclasses.replace(report, hassles=hassles))
    finally:
        FACTORS.unregister("test_volume")

    drawn = re.findall(r'background: (#[0-9a-f]+)"></span>Vol</td>', page)
    assert len(drawn) == 2 and len(set(drawn)) == 1, drawn
    assert drawn[0] not in {f.colour for f in FACTORS}


def test_html_escapes_customer_text_and_marks_the_sentence(report: ReportData):
    sentence = "The hub <b>died</b> & won't pair."
    text = f"Hello {WINDOW_PAYLOAD} {sentence} Bye {IMG_PAYLOAD}"
    data = with_label(with_quote(report, 1, text, sentence), 2, "Login <b>x</b> broken")

    page = render_html(data)

    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt;" in page
    assert "&lt;img src=x onerror=&#34;document.title=&#39;PWNED&#39;&#34;&gt;" in page
    assert "<script" not in page and "<img" not in page
    assert "Login &lt;b&gt;x&lt;/b&gt; broken" in page and "<b>x</b>" not in page
    # The mark wraps exactly the (escaped) sentence, nothing more or less.
    marked = re.findall(r"<mark>(.*?)</mark>", page)
    assert "The hub &lt;b&gt;died&lt;/b&gt; &amp; won&#39;t pair." in marked
    assert re.search(
        r"&lt;/script&gt; &lt;img src=x onerror=&#34;window.__pwned=2&#34;&gt; "
        r"<mark>The hub &lt;b&gt;died&lt;/b&gt; &amp; won&#39;t pair\.</mark> Bye &lt;img",
        page,
    )
    # The other quotes' sentences are marked too.
    assert f"<mark>{TOP_SENTENCE.replace(chr(39), '&#39;')}</mark>" not in page  # replaced quote
    assert "<mark>I&#39;ve been waiting a month for my money back.</mark>" in page


def test_a_quote_keeps_angle_brackets_that_are_no_html_and_shows_them_escaped(
    report: ReportData,
):
    sentence = "Third refund request <annoyed> and still nothing <3"
    text = clean_text(f"<p>Hi.</p> {sentence}", max_chars=200).text

    page = render_html(with_quote(report, 1, text, sentence))

    assert "<mark>Third refund request &lt;annoyed&gt; and still nothing &lt;3</mark>" in page
    assert "<annoyed>" not in page


def test_html_survives_odd_highlight_spans(report: ReportData):
    q = Quote("q", "ticket", datetime(2025, 5, 6, tzinfo=UTC), "short text", 50, 10)
    data = dataclasses.replace(
        report,
        hassles=(dataclasses.replace(report.hassles[0], quotes=(q,)),),
        filters={},
        resolved=(),
    )
    page = render_html(data)
    assert "<p>short text</p>" in page  # nothing to mark, nothing lost
    assert "Filters:" not in page and "Resolved since" not in page


# --- Markdown -------------------------------------------------------------------------


def test_markdown_has_the_summary_table_and_sections(report: ReportData):
    md = render_markdown(report)

    assert md.startswith("# Hasslemap: top customer hassles\n")
    assert "| # | Hassle | Stage | Theme | Score |" in md
    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \| ", line)]
    assert len(rows) == len(report.hassles)
    for row, h in zip(rows, report.hassles, strict=True):
        assert row.startswith(f"| {h.rank} | {h.label}")
        assert sparkline_text([c for _, c in h.daily_counts]) in row
    assert "too unspecific to act on" in rows[3]
    assert "▲ rising" in rows[0] and "● new" in rows[1] and "▼ falling" in rows[2]
    # Heatmap table: a header with every theme, a row per stage.
    assert "| Stage | Effort | Waiting |" in md
    assert "| Change or return | 88 | 530 |" in md
    for h in report.hassles:
        assert f"## #{h.rank} {h.label}" in md
    assert "| Severity | 0.88 | 25% | +22.0 | mean severity 0.81 (top 5%) |" in md
    assert f"> I sent the camera back on the 2nd as instructed. **{TOP_SENTENCE}** Nobody" in md
    assert "## Resolved since the last run" in md
    assert "- **Comments read:** 4,812" in md
    assert "\n\n\n" not in md


def test_markdown_escapes_customer_text(report: ReportData):
    sentence = "It | broke <em>again</em>."
    text = f"{WINDOW_PAYLOAD} {sentence}"
    data = with_label(with_quote(report, 1, text, sentence), 2, "# <b>x</b> | [link](javascript:x)")

    md = render_markdown(data)

    assert "<script" not in md and "<img" not in md and "<b>" not in md and "<em>" not in md
    assert "&lt;script>window.\\_\\_pwned=1&lt;/script>" in md
    assert "**It \\| broke &lt;em>again&lt;/em>.**" in md
    # The label neither breaks the table nor becomes a heading or a link.
    assert "| 2 | \\# &lt;b>x&lt;/b> \\| \\[link\\](javascript:x) |" in md
    assert "## #2 \\# &lt;b>x&lt;/b>" in md
    # A quote that starts like a heading or a quote does not become one.
    data = with_quote(report, 1, "# Not a heading. > Nor a quote.", "> Nor a quote.")
    assert "> \\# Not a heading. **> Nor a quote.**\n" in render_markdown(data)
    data = with_quote(report, 1, "> Not a quote. - Nor a list.", "> Not a quote.")
    assert "\n> **> Not a quote.** - Nor a list.\n" in render_markdown(data)  # ** comes first


def test_the_prefect_summary_escapes_a_label_as_the_markdown_report_does(report: ReportData):
    data = with_label(report, 2, "[link](javascript:x) `code` ~~gone~~ <b>x</b> | y")

    summary = summary_markdown(data, None)

    row = [line for line in summary.splitlines() if line.startswith("| 2 |")][0]
    assert "\\[link\\](javascript:x) \\`code\\` \\~\\~gone\\~\\~ &lt;b>x&lt;/b> \\| y" in row


def test_the_prefect_summary_names_stages_and_themes_as_the_report_does(report: ReportData):
    summary = summary_markdown(report, None)
    stage, theme = report.hassles[0].stage, report.hassles[0].theme
    row = [line for line in summary.splitlines() if line.startswith("| 1 |")][0]
    assert dict(STAGES)[stage] in row and dict(THEMES)[theme] in row
    assert f"| {stage} |" not in row  # not its key


def test_the_prefect_summary_escapes_its_title_and_the_report_path(report: ReportData):
    data = dataclasses.replace(
        report,
        title="Hassles <img src=x> [click](http://evil.example) ![p](http://e.example/p.png)",
    )

    summary = summary_markdown(data, Path("/srv/rep`x ![p](e.example/p.png) `/r.html"))

    title, *_, path_line = summary.splitlines()
    assert title == (
        "# Hassles &lt;img src=x> \\[click\\](http://evil.example) !\\[p\\](http://e.example/p.png)"
    )
    assert path_line == "Full report: /srv/rep\\`x !\\[p\\](e.example/p.png) \\`/r.html"


# --- CSV ------------------------------------------------------------------------------


def test_csv_has_one_row_per_hassle(report: ReportData):
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))

    assert len(rows) == len(report.hassles)
    keys = list(WEIGHTS)
    assert list(rows[0]) == [
        *CSV_HASSLE_COLUMNS[:2],
        "level",
        "parent_id",
        *CSV_HASSLE_COLUMNS[2:],
        *[col for f in FACTORS for col in (f"part_{f.name}", f"contribution_{f.name}")],
        "channel_review",
        "channel_ticket",
        "channel_survey",
        "quote_1",
        "quote_2",
        "quote_3",
    ]
    top = rows[0]
    assert [r["rank"] for r in rows] == ["1", "2", "3", "4"]
    assert top["hassle_id"] == "h-refund-delay"
    assert top["stage"] == "Change or return" and top["theme"] == "Waiting"
    assert (top["stage_share"], top["theme_share"]) == ("0.86", "0.194")
    assert float(top["score"]) == pytest.approx(report.hassles[0].score * 100, abs=0.05)
    assert top["part_severity"] == "0.88" and top["contribution_severity"] == "22.0"
    assert sum(float(top[f"contribution_{k}"]) for k in keys) == pytest.approx(
        float(top["score"]), abs=0.1
    )
    assert (top["channel_review"], top["channel_ticket"], top["channel_survey"]) == (
        "142",
        "301",
        "87",
    )
    assert top["quote_1"] == report.hassles[0].quotes[0].text
    assert rows[1]["quote_2"] == "" and rows[1]["channel_ticket"] == "0"
    assert rows[3]["stage"] == "" and rows[3]["trend_label"] == "steady"
    assert (top["level"], top["parent_id"]) == ("child", "")
    assert top["part_value"] == top["contribution_value"] == ""


def test_an_empty_report_has_the_same_csv_header(report: ReportData, two_level: ReportData):
    empty = dataclasses.replace(report, hassles=())
    header = render_csv(empty).splitlines()[0]
    assert render_csv(empty) == header + "\r\n"
    assert header == render_csv(report).splitlines()[0] == render_csv(two_level).splitlines()[0]


def test_csv_guards_against_formula_injection(report: ReportData):
    data = with_label(report, 1, '=cmd|" /C calc"!A0')
    data = with_quote(data, 2, "@SUM(1+1) is what I typed", "@SUM(1+1)")
    data = with_label(data, 3, "-2+3 items missing")

    rows = list(csv.DictReader(io.StringIO(render_csv(data))))

    assert rows[0]["label"] == '\'=cmd|" /C calc"!A0'
    assert rows[1]["quote_1"] == "'@SUM(1+1) is what I typed"
    assert rows[2]["label"] == "'-2+3 items missing"
    assert rows[3]["label"] == "Not happy with the service"


# --- files ----------------------------------------------------------------------------


def test_write_report_writes_three_files(report: ReportData, tmp_path: Path):
    out = tmp_path / "reports" / "nightly"

    paths = write_report(report, out)

    assert set(paths) == {"html", "md", "csv"}
    assert paths == {fmt: out / f"hasslemap-report.{fmt}" for fmt in ("html", "md", "csv")}
    assert paths["html"].read_text(encoding="utf-8") == render_html(report)
    assert paths["md"].read_text(encoding="utf-8") == render_markdown(report)
    assert paths["csv"].read_bytes().decode("utf-8") == render_csv(report)
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths.values())

    # Again, over the old files, with another stem: replaced in place, no temp files left.
    again = write_report(dataclasses.replace(report, title="Second run"), out)
    assert "Second run" in again["html"].read_text(encoding="utf-8")
    other = write_report(report, out, stem="weekly")
    assert other["csv"] == out / "weekly.csv"
    assert len(list(out.iterdir())) == 6


# --- in a real browser ----------------------------------------------------------------


def test_chromium_detects_a_script_that_runs(tmp_path: Path):
    """The check below is only worth something if it notices a payload that does run."""
    binary = chromium()
    page = tmp_path / "control.html"
    page.write_text(
        "<!DOCTYPE html><html><head><title>ok</title></head><body>"
        f"<p>control</p>{SCRIPT_PAYLOAD}<script>document.title='PWNED'</script></body></html>",
        encoding="utf-8",
    )
    dom = run_chromium(binary, tmp_path, "control", "--dump-dom", page.as_uri()).stdout
    facts = dom_facts(dom)
    assert facts.body_attrs is not None and facts.body_attrs.get("data-pwned") == "1"
    assert facts.title == "PWNED"


def test_report_in_headless_chromium(report: ReportData, tmp_path: Path):
    binary = chromium()
    # The payloads sit in a lower hassle's quote and would change the DOM if they ran.
    sentence = "The app crashed and took my settings with it."
    text = f"First {SCRIPT_PAYLOAD} then {IMG_PAYLOAD} {sentence} {WINDOW_PAYLOAD}"
    data = with_quote(report, 3, text, sentence)
    page = tmp_path / "report.html"
    page.write_text(render_html(data), encoding="utf-8")
    shot = tmp_path / "shot.png"

    run_chromium(
        binary, tmp_path, "shot", f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri()
    )
    dom = run_chromium(binary, tmp_path, "dom", "--dump-dom", page.as_uri()).stdout

    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000
    assert report.hassles[0].label in dom
    facts = dom_facts(dom)
    assert facts.title == report.title
    assert "PWNED" not in facts.title
    assert facts.body_attrs is not None and "data-pwned" not in facts.body_attrs
    # The payloads are there, as text.
    assert "&lt;script&gt;document.body.setAttribute('data-pwned','1')&lt;/script&gt;" in dom
    assert "<mark>The app crashed and took my settings with it.</mark>" in dom
    assert "<script" not in dom and "<img" not in dom


# --- two levels -----------------------------------------------------------------------


def group(rank: int, hassle_id: str, label: str, children: tuple[RankedHassle, ...], **kw):
    """A parent hassle over ``children``, with a score part per part of theirs."""
    first = children[0]
    values = {p.key: p.value for p in first.parts}
    details = {p.key: p.detail for p in first.parts}
    kids = tuple(dataclasses.replace(c, parent_id=hassle_id) for c in children)
    fields = {
        "stage": first.stage,
        "theme": first.theme,
        "customers": sum(c.customers for c in children),
        "comments": sum(c.comments for c in children),
        "severity_mean": first.severity_mean,
        "trend_label": first.trend_label,
        "trend_detail": first.trend_detail,
        "daily_counts": first.daily_counts,
        "channel_mix": first.channel_mix,
        "quotes": first.quotes[:1],
        "change": "steady",
        **kw,
    }
    return hassle(
        rank, hassle_id, label, values, details=details, level="parent", children=kids, **fields
    )


def make_two_level_report() -> ReportData:
    """Three parents over the four hassles of :func:`make_report`; the last one generic."""
    data = make_report()
    refund, logout, tracking, vague = data.hassles
    parents = (
        group(1, "P-0001", "Returns & refunds", (refund, tracking)),
        group(2, "P-0002", "App sign-in", (logout,)),
        group(3, "P-0003", "General <dissatisfaction>", (vague,), generic=True),
    )
    return dataclasses.replace(data, hassles=parents)


def with_child_label(data: ReportData, hassle_id: str, label: str) -> ReportData:
    def relabel(h: RankedHassle) -> RankedHassle:
        children = tuple(relabel(c) for c in h.children)
        h = dataclasses.replace(h, children=children)
        return dataclasses.replace(h, label=label) if h.hassle_id == hassle_id else h

    return dataclasses.replace(data, hassles=tuple(relabel(h) for h in data.hassles))


@pytest.fixture
def two_level() -> ReportData:
    return make_two_level_report()


def test_one_level_report_shows_no_groups(report: ReportData):
    assert not report.two_level
    page, md = render_html(report), render_markdown(report)
    assert "<details" not in page and "specific hassle" not in page
    assert "specific hassle" not in md and "↳" not in md


def test_html_shows_each_parent_with_its_children_under_it(two_level: ReportData):
    assert two_level.two_level
    page = render_html(two_level)

    summary = page[page.index('<table class="summary">') : page.index("</table>")]
    rows = re.findall(r'<tr class="([^"]*)">\s*<td class="num rank">(\d+)</td>', summary)
    assert rows == [
        ("parent", "1"),
        ("child", "1"),
        ("child", "3"),
        ("parent", "2"),
        ("child", "2"),
        ("parent generic", "3"),
        ("child generic", "4"),
    ]
    assert "Returns &amp; refunds" in summary and "2 specific hassles" in summary
    assert "General &lt;dissatisfaction&gt;" in page and "<dissatisfaction>" not in page
    # Each parent's section holds its children's full sections inside a <details>.
    first = page[page.index('id="P-0001"') : page.index('id="P-0002"')]
    assert first.count("<details") == 1 and "2 specific hassles in this group" in first
    inner = first[first.index("<details") :]
    assert inner.index('id="h-refund-delay"') < inner.index('id="h-tracking"')
    assert inner.count('<section class="hassle" id=') == 2
    assert f"<mark>{TOP_SENTENCE.replace(chr(39), '&#39;')}</mark>" in inner
    assert "ticket <b>301</b>" in inner  # a child keeps its channel mix, parts and quotes
    # A parent is generic because all its children are; the note says so.
    assert '<section class="hassle parent generic" id="P-0003">' in page
    assert "every specific hassle in this group is" in page
    # Score bars: parts and channels, for every parent and every child.
    assert page.count('<svg class="bar"') == 2 * (3 + 4)
    assert "<script" not in page.lower()


def test_html_headings_nest_and_table_headers_have_a_scope(two_level: ReportData):
    page = render_html(two_level)
    first = page[page.index('id="P-0001"') : page.index('id="P-0002"')]
    assert '<h2 class="hassle-title"><span class="rank">#1</span> Returns' in first
    assert first.count("<h3>Why it ranks here</h3>") == 1
    child = first[first.index("<details") :]
    assert '<h3 class="hassle-title"><span class="rank">#1</span> Refund' in child
    assert "<h4>Why it ranks here</h4>" in child and "<h2" not in child
    assert re.findall(r"<th(?![^>]*scope=)[ >]", page) == []
    assert '<th scope="row" class="stage"' in page
    # Printed, the collapsed specific hassles show.
    print_css = page[page.index("@media print") :]
    assert "details.children::details-content" in print_css


def test_greyed_text_and_the_badges_meet_contrast_aa(two_level: ReportData):
    page = render_html(two_level)
    faint = re.search(r"--faint: (#[0-9a-f]{6})", page).group(1)
    steady = re.search(r"--steady: (#[0-9a-f]{6})", page).group(1)
    falling = re.search(r"--falling: (#[0-9a-f]{6})", page).group(1)
    move = re.search(r"\.badge\.move \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6})", page)
    resolved = re.search(r"\.badge\.resolved \{ background: (#[0-9a-f]{6})", page).group(1)
    for colour, background in [
        (faint, "#ffffff"),
        (faint, "#f8f9fb"),
        (steady, "#ffffff"),
        (move.group(2), move.group(1)),
        (falling, resolved),
    ]:
        assert contrast(colour, background) >= 4.5, (colour, background)


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two #rrggbb colours."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_html_escapes_a_child_label_and_quote(two_level: ReportData):
    sentence = "It <b>broke</b> & stayed broken."
    q = Quote(
        "evil",
        "ticket",
        datetime(2025, 5, 30, tzinfo=UTC),
        f"{WINDOW_PAYLOAD} {sentence}",
        len(WINDOW_PAYLOAD) + 1,
        len(WINDOW_PAYLOAD) + 1 + len(sentence),
    )
    data = with_child_label(two_level, "h-tracking", f"Tracking {IMG_PAYLOAD}")
    parents = list(data.hassles)
    kids = list(parents[0].children)
    kids[1] = dataclasses.replace(kids[1], quotes=(q,))
    parents[0] = dataclasses.replace(parents[0], children=tuple(kids))
    page = render_html(dataclasses.replace(data, hassles=tuple(parents)))

    assert "<script" not in page and "<img" not in page and "<b>broke" not in page
    assert "Tracking &lt;img src=x onerror=&#34;document.title=&#39;PWNED&#39;&#34;&gt;" in page
    assert "<mark>It &lt;b&gt;broke&lt;/b&gt; &amp; stayed broken.</mark>" in page


def test_markdown_shows_each_parent_with_its_children(two_level: ReportData):
    data = with_child_label(two_level, "h-tracking", "# <b>x</b> | [link](javascript:x)")
    md = render_markdown(data)

    rows = [line for line in md.splitlines() if re.match(r"^\| \d+ \| ", line)]
    assert [row.split(" | ")[0:2] for row in rows] == [
        ["| 1", "**Returns & refunds** (2 specific)"],
        ["| 1", "↳ Refund not received after returning the camera"],
        ["| 3", "↳ \\# &lt;b>x&lt;/b> \\| \\[link\\](javascript:x)"],
        ["| 2", "**App sign-in** (1 specific)"],
        ["| 2", "↳ App logs out after the 4.2 update"],
        ["| 3", "**General &lt;dissatisfaction>** (1 specific) _(too unspecific to act on)_"],
        ["| 4", "↳ Not happy with the service _(too unspecific to act on)_"],
    ]
    assert "| 3 | ↳ \\# &lt;b>x&lt;/b> \\| \\[link\\](javascript:x) |" in md
    assert "<b>" not in md and "<dissatisfaction>" not in md
    # Parent sections at ##, their children under the "### N specific hassles" heading.
    heads = [line for line in md.splitlines() if re.match(r"^#{2,4} #\d", line)]
    assert heads == [
        "## #1 Returns & refunds",
        "#### #1 Refund not received after returning the camera",
        "#### #3 \\# &lt;b>x&lt;/b> \\| \\[link\\](javascript:x)",
        "## #2 App sign-in",
        "#### #2 App logs out after the 4.2 update",
        "## #3 General &lt;dissatisfaction>",
        "#### #4 Not happy with the service",
    ]
    assert "### 2 specific hassles in Returns & refunds" in md
    assert "##### Why it ranks here" in md and "##### What customers say" in md
    assert f"> I sent the camera back on the 2nd as instructed. **{TOP_SENTENCE}** Nobody" in md
    assert "_Too unspecific to act on: every specific hassle in this group is._" in md
    assert "\n\n\n" not in md


def test_csv_lists_each_parent_then_its_children(two_level: ReportData):
    rows = list(csv.DictReader(io.StringIO(render_csv(two_level))))

    assert list(rows[0])[:5] == ["rank", "hassle_id", "level", "parent_id", "label"]
    assert [(r["rank"], r["hassle_id"], r["level"], r["parent_id"]) for r in rows] == [
        ("1", "P-0001", "parent", ""),
        ("1", "h-refund-delay", "child", "P-0001"),
        ("3", "h-tracking", "child", "P-0001"),
        ("2", "P-0002", "parent", ""),
        ("2", "h-app-logout", "child", "P-0002"),
        ("3", "P-0003", "parent", ""),
        ("4", "h-generic", "child", "P-0003"),
    ]
    assert rows[1]["quote_1"] == two_level.hassles[0].children[0].quotes[0].text
    data = with_child_label(two_level, "h-app-logout", "=HYPERLINK(1)")
    assert list(csv.DictReader(io.StringIO(render_csv(data))))[4]["label"] == "'=HYPERLINK(1)"


def test_two_level_report_in_headless_chromium(two_level: ReportData, tmp_path: Path):
    binary = chromium()
    data = with_child_label(two_level, "h-tracking", f"Tracking {SCRIPT_PAYLOAD} {IMG_PAYLOAD}")
    page = tmp_path / "report.html"
    page.write_text(render_html(data), encoding="utf-8")

    dom = run_chromium(binary, tmp_path, "dom", "--dump-dom", page.as_uri()).stdout

    facts = dom_facts(dom)
    assert facts.title == data.title
    assert facts.body_attrs is not None and "data-pwned" not in facts.body_attrs
    assert "<script" not in dom and "<img" not in dom
    assert dom.count("<details") == 3 and "Returns &amp; refunds" in dom


# --- the column registry ----------------------------------------------------------------


@pytest.fixture
def per_customer() -> Iterator[Column]:
    column = COLUMNS.register(comments_per_customer_column("Comments | customer"))
    try:
        yield column
    finally:
        COLUMNS.unregister(column.name)


def test_a_registered_column_shows_in_every_table(report: ReportData, per_customer: Column):
    top = report.hassles[0]
    expected = f"{round(top.comments / top.customers, 2)}"

    summary = render_html(report)
    summary = summary[summary.index('<table class="summary">') : summary.index("</table>")]
    assert '<th scope="col" class="num">Comments | customer</th>' in summary
    assert f'<td class="num">{expected}</td>' in summary
    md = render_markdown(report)
    assert "| Daily | Comments \\| customer |\n|--:|:--|:--|:--|--:|--:|:--|:--|:--|--:|" in md
    assert [line for line in md.splitlines() if line.startswith("| 1 |")][0].endswith(
        f"| {expected} |"
    )
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert list(rows[0]).index("comments_per_customer") == list(rows[0]).index("change") + 1
    assert rows[0]["comments_per_customer"] == expected
    assert artifact_rows(report)[0]["comments_per_customer"] == float(expected)
    assert summary_markdown(report, None).splitlines()[3].endswith("| comments | customer |")


def test_the_built_in_columns_and_their_tables():
    assert [c.name for c in columns_for("csv")] == CSV_HASSLE_COLUMNS
    assert [c.name for c in columns_for("csv", two_level=True)][2:4] == ["level", "parent_id"]
    assert [c.artifact_name for c in columns_for("artifact")][-3:] == ["trend", "change", "why"]
    assert [c.short for c in columns_for("cli")] == [
        "#",
        "id",
        "hassle",
        "stage",
        "theme",
        "score",
        "customers",
        "trend",
        "change",
    ]
    with pytest.raises(ValueError, match="unknown targets"):
        Column("x", "X", lambda h, n: 1, targets=frozenset({"pdf"}))
    with pytest.raises(ValueError, match="already registered"):
        COLUMNS.register(Column("rank", "#", lambda h, n: h.rank))


def test_a_column_named_as_one_of_the_csvs_own_is_refused(report: ReportData):
    """A column "part_reach" was accepted, and the CSV had two part_reach headers."""
    header = next(csv.reader(io.StringIO(render_csv(report))))
    own = header[len(columns_for(CSV, two_level=True)) :]
    assert "part_reach" in own and "quote_3" in own
    assert all(name.startswith(CSV_OWN_PREFIXES) for name in own)
    for name in own:
        with pytest.raises(ValueError, match=rf"column '{name}': the CSV names its own columns"):
            Column(name, "Clash", lambda h, n: 1)
    # Not in the CSV, it clashes with nothing.
    assert Column("part_reach", "Reach", lambda h, n: 1, targets=frozenset({HTML})).name


def test_a_report_without_hassles_says_why(report: ReportData):
    note = why_no_hassle(
        ClusterRun("r", datetime(2025, 5, 1), datetime(2025, 6, 1), 27, 0, 0, 0, 10)
    )
    empty = dataclasses.replace(report, hassles=(), empty_note=note)

    assert "27 pain-point sentences" in note and "copies of one sentence count once" in note
    assert note in render_html(empty) and note in render_markdown(empty)
    assert "praise, thanks or questions" in why_no_hassle(
        ClusterRun("r", datetime(2025, 5, 1), datetime(2025, 6, 1), 0, 0, 0, 0, 10)
    )


def test_a_report_of_only_unsupported_languages_says_so_not_praise():
    """200 German complaints are not "praise": the note names the language setting."""
    note = why_no_hassle(
        ClusterRun("r", datetime(2025, 5, 1), datetime(2025, 6, 1), 0, 0, 0, 0, 10),
        unsupported=412,
    )
    assert "412 sentences are in a language" in note and "enrich.supported_languages" in note
    assert "praise" not in note


def test_the_report_says_which_weighted_parts_were_left_out_and_what_a_plus_label_means(
    report: ReportData,
):
    """A product owner read "46.2%" where the settings say 30%, and "A + B" unexplained."""
    configured = {"reach": 0.3, "severity": 0.25, "repeat": 0.1, "spread": 0.1, "trend": 0.1}
    note = score_note([{"reach": 0.55, "severity": 0.45}], {**configured, "value": 0})
    assert "Left out for this data" in note and "repeat contacts (no customer ids" in note
    assert "spread across channels (the data holds one channel)" in note
    assert "trend (no comment is older than the trend windows" in note
    assert "value at risk" not in note  # weighted 0 in the settings: not for want of data
    assert score_note([{"reach": 1.0}], {"reach": 0.3}).endswith("(docs/ranking.md).")
    # Repeat missing from one hassle only (its source has no customer ids): said so.
    some = score_note(
        [{"reach": 0.4, "severity": 0.3, "repeat": 0.3}, {"reach": 0.6, "severity": 0.4}],
        {"reach": 0.3, "severity": 0.25, "repeat": 0.1},
    )
    assert "Left out for this data" not in some
    assert "Left out of the hassles with no data for them" in some and "repeat contacts" in some
    plus = dataclasses.replace(report, score_note=note)
    plus = dataclasses.replace(
        plus, hassles=(dataclasses.replace(plus.hassles[0], label="refund + camera"),)
    )
    for page in (render_html(plus), render_markdown(plus)):
        assert "Left out for this data" in page and "no customer ids" in page
        assert "adds a keyphrase" in page
    plain = render_markdown(report)
    assert "adds a keyphrase" not in plain and "Left out for this data" not in plain
