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
