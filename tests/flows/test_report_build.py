"""flows.report.build: a quote cut around its sentence, redacted of what the whole comment shows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from flows.report.build import cut_quote
from flows.report.columns import Names
from warehouse.ranking import QuoteRow

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)


def test_a_quote_is_redacted_of_a_name_whose_cue_is_outside_the_sentence():
    text = "Thanks, Sarah Jones for nothing. My refund never arrived, mail jo@example.com."
    start = text.index("Sarah")
    row = QuoteRow("c1:0", "c1", "review", datetime(2026, 3, 1), text, start, text.index(" My"))

    quote = cut_quote(row)

    assert "Sarah" not in quote.text and "Jones" not in quote.text
    assert "jo@example.com" not in quote.text and "[email]" in quote.text
    highlighted = quote.text[quote.highlight_start : quote.highlight_end]
    assert highlighted == "[name] for nothing."  # read after its cue, "Thanks, "
    assert quote.text.startswith("Thanks, ")


def test_a_quote_is_redacted_of_a_name_whose_cue_comes_after_the_sentence():
    text = "Sarah Jones hung up on me twice. Please call Sarah Jones about it."
    row = QuoteRow("c1:0", "c1", "review", datetime(2026, 3, 1), text, 0, text.index(" Please"))

    quote = cut_quote(row)

    assert "Sarah" not in quote.text and "Jones" not in quote.text, quote.text
    highlighted = quote.text[quote.highlight_start : quote.highlight_end]
    assert highlighted == "[redacted] [redacted] hung up on me twice."


def test_a_quotes_sentence_is_redacted_of_what_a_cue_before_it_marks():
    # The sentence split left "DOB:" / "Password:" in the text before the quoted sentence.
    for text, said, placeholder in (
        ("Again today. DOB: 14th February 1988 is rejected every time.", "14th", "[birthdate]"),
        ("Hello. Password: Tiger2009 is rejected by the app.", "Tiger2009", "[password]"),
    ):
        start = text.index(said)
        row = QuoteRow("c1:1", "c1", "ticket", datetime(2026, 3, 1), text, start, len(text))
        quote = cut_quote(row)
        highlighted = quote.text[quote.highlight_start : quote.highlight_end]
        assert highlighted.startswith(placeholder + " is rejected"), quote.text
        assert said not in quote.text


def test_a_sentence_that_runs_for_thousands_of_characters_is_quoted_by_its_start():
    # A stop-word-stripped export has no full stop: one "sentence" of 1,500 characters.
    sentence = " ".join(f"account{n} reported late payment credit bureau" for n in range(40))
    text = f"Intro. {sentence} Outro."
    start = text.index("account0")
    row = QuoteRow("c1:1", "c1", "ticket", datetime(2026, 3, 1), text, start, start + len(sentence))

    quote = cut_quote(row)

    highlighted = quote.text[quote.highlight_start : quote.highlight_end]
    assert len(sentence) > 1500 and len(highlighted) <= 501 and highlighted.endswith("…")
    assert highlighted.startswith("account0 reported") and quote.text.startswith("Intro. ")
    assert quote.highlight_end == len(quote.text)  # nothing after a cut sentence


def test_a_phone_or_iban_the_context_cut_would_split_is_redacted_whole():
    """The context is cut after redaction: a cut through a number leaves no digits of it."""
    filler = "I have been a customer for years and the app used to work fine for my family. " * 3
    sentence = "The app keeps logging me out."
    for pii, placeholder in (
        ("+44 20 7946 0958", "[phone]"),
        ("GB82 WEST 1234 5698 7654 32", "[iban]"),
    ):
        for shift in range(30):  # wherever the 240-character cut lands in the number
            lead = f"Please call me on {pii} any time. "
            head = "x " * 5 + lead + filler[: 240 - len(lead) + shift]
            text = head + sentence
            quote = cut_quote(
                QuoteRow("c1:1", "c1", "ticket", datetime(2026, 3, 1), text, len(head), len(text))
            )
            assert not any(part in quote.text for part in ("7946", "0958", "5698", "WEST")), (
                quote.text
            )
            tail = f" {filler[: 210 + shift]} Call me on {pii} please."
            text = sentence + tail
            quote = cut_quote(
                QuoteRow("c1:0", "c1", "ticket", datetime(2026, 3, 1), text, 0, len(sentence))
            )
            assert not any(part in quote.text for part in ("+44", "7946", "5698", "WEST")), (
                quote.text
            )
            assert quote.text[quote.highlight_start : quote.highlight_end] == sentence
        assert (
            placeholder
            in cut_quote(
                QuoteRow(
                    "c1:0",
                    "c1",
                    "ticket",
                    datetime(2026, 3, 1),
                    f"{sentence} Call me on {pii}.",
                    0,
                    len(sentence),
                )
            ).text
        )


def test_a_parents_daily_counts_are_the_comments_its_score_counts():
    """A generic child beside a specific one does not count in its parent (nlp.rank), by day too."""
    from types import SimpleNamespace

    from flows.ranking import Ranking
    from flows.report.build import _daily_mentions

    day = datetime(2026, 3, 2, 9)
    specific, vague = (
        SimpleNamespace(hassle_id="H-1", generic=False),
        SimpleNamespace(hassle_id="H-2", generic=True),
    )
    alone = SimpleNamespace(hassle_id="H-3", generic=True)  # the only child of P-2
    mentions = [
        SimpleNamespace(hassle_id=h, comment_id=c, created_at=day)
        for h, c in (("H-1", "a"), ("H-1", "b"), ("H-2", "b"), ("H-2", "c"), ("H-3", "d"))
    ]
    ranking = Ranking(
        cluster_run=None,
        scores=[specific, vague, alone],
        info={},
        mentions=mentions,
        parents=[SimpleNamespace(hassle_id="P-1"), SimpleNamespace(hassle_id="P-2")],
        parent_of={"H-1": "P-1", "H-2": "P-1", "H-3": "P-2"},
    )

    counts = _daily_mentions(ranking)

    assert counts["P-1"][day.date()] == 2  # a and b: not c, said only in the generic child
    assert counts["H-2"][day.date()] == 2
    assert counts["P-2"][day.date()] == 1  # every child generic: all of them count


def test_a_stored_rankings_label_is_redacted_as_the_reports_are():
    """The CLI's top-hassles table, which cron mails, reads stored rows."""
    import dataclasses

    from conftest import ranking_row

    from flows.report.build import stored_hassle

    row = dataclasses.replace(ranking_row(), label="refund to jane.doe@example.com")
    assert stored_hassle(row).label == "refund to [email]"


# --- a small warehouse: comments with pain-point sentences, and a group of two hassles -------

WINDOW = (datetime(2026, 3, 1), datetime(2026, 3, 29))
# comment id -> its sentences, each a pain point tagged (stage, theme).
SENTENCES = {
    # c1 also names a fee: a sentence of "hidden fees", from a comment quoted under refunds.
    "c1": [
        ("My refund never came.", "change_or_return", "waiting"),
        ("And a fee on top.", "billing", "surprise_cost"),
    ],
    "c2": [("Still no refund.", "change_or_return", "waiting")],
    "c3": [("Refund took a month.", "change_or_return", "waiting")],
    "c4": [("No refund yet.", "change_or_return", "waiting")],
    "c5": [("A hidden fee, mail jo@example.com.", "billing", "surprise_cost")],
    "c6": [("An extra charge.", "billing", "surprise_cost")],
    "c7": [("Fees I was never told of.", "billing", "surprise_cost")],
}


def _warehouse(folder: Path, sentences: dict[str, list[tuple[str, str | None, str | None]]]):
    """A warehouse whose comments (one a day from 2 March) hold ``sentences``, each tagged a
    pain point with its stage and theme; with a completed run clustering ``WINDOW``."""
    from conftest import record_completed_run

    from warehouse.connection import connect_warehouse

    conn = connect_warehouse(folder / "warehouse.duckdb")
    record_completed_run(conn, "run-1", WINDOW, units=8, hassles=3)
    for day, (comment_id, said) in enumerate(sentences.items(), start=1):
        text = " ".join(sentence for sentence, _, _ in said)
        created = WINDOW[0] + timedelta(days=day, hours=9)
        conn.execute(
            "INSERT INTO comments (comment_id, source, channel, external_id, customer_id, "
            "created_at, text, content_hash, source_file, source_line, ingested_at, updated_at) "
            "VALUES (?, 'reviews', 'review', ?, ?, ?, ?, 'h', 'f.csv', ?, ?, ?)",
            [comment_id, comment_id, f"u-{comment_id}", created, text, day, *WINDOW[1:] * 2],
        )
        for index, (sentence, stage, theme) in enumerate(said):
            start = text.index(sentence)
            unit_id = f"{comment_id}:{index}"
            conn.execute(
                "INSERT INTO units VALUES (?, ?, ?, ?, ?, ?, 'th', [], [], false, '{}', -0.5, "
                "0.5, '{}')",
                [unit_id, comment_id, index, start, start + len(sentence), sentence],
            )
            conn.execute(
                "INSERT INTO tags (subject_kind, subject_id, comment_id, stage, theme, "
                "is_pain_point, pain_score, method, taxonomy_version, model_id, tagged_at) "
                "VALUES ('unit', ?, ?, ?, ?, true, 0.9, 'm', 't+tagger-v12-abc', 'm', ?)",
                [unit_id, comment_id, stage, theme, WINDOW[1]],
            )
    return conn


def test_a_comment_with_pain_points_in_two_cells_counts_once_in_each_heatmap_total(tmp_path):
    """c1 has a pain point under refunds and one under fees: two cells, one comment."""
    from warehouse.ranking import ReportFilter, StageThemeCounts, read_stage_theme_counts

    sentences = {**SENTENCES, "c8": [("Waited for support.", "support", "waiting")]}
    conn = _warehouse(tmp_path, sentences)
    try:
        counts = read_stage_theme_counts(conn, WINDOW, ReportFilter())
    finally:
        conn.close()

    assert counts == StageThemeCounts(
        cells={
            ("change_or_return", "waiting"): 4,
            ("billing", "surprise_cost"): 4,  # c5, c6, c7 and c1
            ("support", "waiting"): 1,
        },
        by_stage={"change_or_return": 4, "billing": 4, "support": 1},
        by_theme={"waiting": 5, "surprise_cost": 4},
        total=8,  # the cells add up to 9: c1 is in two of them
    )


def _score(hassle_id: str, rank: int):
    from types import SimpleNamespace

    return SimpleNamespace(
        hassle_id=hassle_id, rank=rank, total=0.5, parts={}, weights={}, customers=4,
        comments=4, severity_mean=0.5, trend_label="steady", evidence=None, channels={},
        generic=False,
    )  # fmt: skip


def _group_ranking(conn):
    """P-1 over H-1 "refund" (#1) and H-2 "hidden fees" (#2); the parent's stored quotes are
    its biggest child's, as the labeller's are."""
    from flows.ranking import Ranking
    from warehouse.ranking import HassleRow, latest_cluster_run

    stored = {
        "P-1": ["c1:0", "c2:0", "c3:0"],
        "H-1": ["c1:0", "c2:0", "c3:0", "c4:0"],
        "H-2": ["c5:0", "c1:1", "c6:0", "c7:0"],
    }
    info = {
        h: HassleRow(h, h.lower(), "billing", 1.0, "waiting", 1.0, "active", [], quotes)
        for h, quotes in stored.items()
    }
    return Ranking(
        cluster_run=latest_cluster_run(conn),
        scores=[_score("H-1", 1), _score("H-2", 2)],
        info=info,
        mentions=[],
        parents=[_score("P-1", 1)],
        parent_of={"H-1": "P-1", "H-2": "P-1"},
    )


def _build(conn, ranking, folder: Path, taxonomy_version: str = "t"):
    """The report of ``ranking`` (3 quotes a hassle), for a run after the clustering's.

    The taxonomy's version is the tags' (``"t"``) unless ``taxonomy_version`` says otherwise.
    """
    from types import SimpleNamespace

    from conftest import write_report_config

    from config import load_settings
    from flows.report.build import build_report

    settings = load_settings(write_report_config(folder), environ={})
    taxonomy = SimpleNamespace(stages=(), themes=(), version_id=taxonomy_version)
    return build_report(conn, settings, taxonomy, run_id="run-2", ranking=ranking)


def _group_report(tmp_path):
    """The one group of the report built on :data:`SENTENCES`."""
    conn = _warehouse(tmp_path, SENTENCES)
    try:
        [group] = _build(conn, _group_ranking(conn), tmp_path).hassles
    finally:
        conn.close()
    return group


def test_a_report_of_tags_older_than_the_taxonomy_says_so(tmp_path):
    # The taxonomy was edited since the last run: stages and themes are still the old ones'.
    conn = _warehouse(tmp_path, SENTENCES)
    try:
        current = _build(conn, _group_ranking(conn), tmp_path).figures
        edited = _build(conn, _group_ranking(conn), tmp_path, taxonomy_version="v2-abc").figures
    finally:
        conn.close()
    assert "Journey stages and themes" not in current
    assert edited["Journey stages and themes"] == (
        "tagged with an earlier taxonomy (t; the file is now v2-abc): run `hasslemap run` to "
        "tag them anew"
    )


def test_a_groups_quotes_come_from_its_children_in_turn_and_no_comment_is_quoted_twice(tmp_path):
    group = _group_report(tmp_path)
    refund, fees = group.children
    quoted = {h.hassle_id: [q.comment_id for q in h.quotes] for h in (group, refund, fees)}
    # Each child's first quote, then the first child's second: not three of the biggest child.
    assert quoted == {"P-1": ["c1", "c5", "c2"], "H-1": ["c3", "c4"], "H-2": ["c6", "c7"]}
    # c1's fee sentence (H-2's second quote) is left out: c1 is quoted for the group already.
    all_quoted = [c for ids in quoted.values() for c in ids]
    assert len(all_quoted) == len(set(all_quoted))
    fee = group.quotes[1]
    assert "jo@example.com" not in fee.text and "[email]" in fee.text  # still redacted
    assert fee.text[fee.highlight_start : fee.highlight_end] == "A hidden fee, mail [email]."


def test_a_hassle_carries_its_rank_in_the_previous_ranking(tmp_path, monkeypatch):
    from flows.report import build
    from flows.report.columns import rank_move
    from warehouse.ranking import PreviousRank

    previous = {"P-1": PreviousRank(1, 0.5, "new"), "H-2": PreviousRank(1, 0.6, "new")}
    monkeypatch.setattr(build.store, "read_previous_ranking", lambda conn, run_id: previous)
    group = _group_report(tmp_path)
    refund, fees = group.children
    assert (group.previous_rank, group.change, rank_move(group)) == (1, "steady", "=")
    assert (refund.previous_rank, refund.change, rank_move(refund)) == (None, "new", "new")
    # Pushed down a place by a new hassle: a move in rank, not a falling trend.
    assert (fees.previous_rank, fees.change, rank_move(fees)) == (1, "falling", "▼ 1")


def test_a_score_parts_points_are_its_value_times_its_weight_and_add_up_to_the_score():
    # "Why it ranks here", the parts bar, the CSV's contribution_* columns and the artifact's
    # "why" read these points: a part's own value there would make 100 + 80 + 98 of a score
    # of 80.
    from conftest import ranking_row

    from flows.report.build import stored_hassle
    from flows.report.columns import COLUMNS

    weights = {"reach": 0.5, "severity": 0.3, "trend": 0.2}
    row = replace(
        ranking_row(reach=0.8, severity=0.4, trend=0.5), weights=weights, total_score=0.62
    )
    hassle = stored_hassle(row)
    points = {p.key: p.contribution for p in hassle.parts}
    assert points == pytest.approx({"reach": 0.4, "severity": 0.12, "trend": 0.1})
    assert sum(points.values()) == pytest.approx(hassle.score)
    why = json.loads(COLUMNS["why"].value(hassle, Names()))
    assert why == pytest.approx({"reach": 0.4, "severity": 0.12, "trend": 0.1})


def test_a_live_rankings_score_parts_add_up_to_its_score():
    from config import Settings
    from flows.ranking import make_ranker
    from flows.report.build import score_parts
    from nlp.evidence import Mention

    at = datetime(2026, 3, 1)
    mentions = [
        Mention(h, f"{h}-{i}", f"u{i % 5}", "review", at - timedelta(days=i % 20), 0.6, *[None] * 3)
        for h, n in (("H-0001", 30), ("H-0002", 8))
        for i in range(n)
    ]
    for score in make_ranker(Settings()).rank(mentions, [], [], as_of=at):
        parts = score_parts(score)
        assert sum(p.contribution for p in parts) == pytest.approx(score.total)
        assert any(p.contribution < p.value for p in parts)  # weighed, not the bare values
