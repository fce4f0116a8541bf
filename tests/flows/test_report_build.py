"""flows.report.build: a quote cut around its sentence, redacted of what the whole comment shows."""

from __future__ import annotations

from datetime import datetime

from flows.report.build import cut_quote
from warehouse.ranking import QuoteRow


def test_a_quote_is_redacted_of_a_name_whose_cue_is_outside_the_sentence():
    text = "Thanks, Sarah Jones for nothing. My refund never arrived, mail jo@example.com."
    start = text.index("Sarah")
    row = QuoteRow("c1:0", "c1", "review", datetime(2026, 3, 1), text, start, text.index(" My"))

    quote = cut_quote(row)

    assert "Sarah" not in quote.text and "Jones" not in quote.text
    assert "jo@example.com" not in quote.text and "[email]" in quote.text
    highlighted = quote.text[quote.highlight_start : quote.highlight_end]
    assert highlighted == "[redacted] [redacted] for nothing."
    assert quote.text.startswith("Thanks, ")


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
