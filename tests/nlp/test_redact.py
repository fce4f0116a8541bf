from __future__ import annotations

import pytest

from nlp.redact import redact_many, redact_pii


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mail me at jane.doe+shop@example.co.uk now", "Mail me at [email] now"),
        ("contact: bob_99@mail-server.com.", "contact: [email]."),
        ("Call +44 20 7946 0958 today", "Call [phone] today"),
        ("US line +1-202-555-0143, thanks", "US line [phone], thanks"),
        ("Ring (202) 555-0143 please", "Ring [phone] please"),
        ("Ring 202-555-0143 please", "Ring [phone] please"),
        ("Ring 202.555.0143 please", "Ring [phone] please"),
        ("Text 07700 900123 after 5", "Text [phone] after 5"),
        ("Or 020 7946 0958 (office)", "Or [phone] (office)"),
        ("Or 07700900123", "Or [phone]"),
        ("Or 0161 496 0000", "Or [phone]"),
        ("Charged on 4111 1111 1111 1111 twice", "Charged on [card] twice"),
        ("card 5500-0000-0000-0004 was declined", "card [card] was declined"),
        ("Visa 4111111111111111.", "Visa [card]."),
        ("Amex 3782 822463 10005 too", "Amex [card] too"),
    ],
)
def test_pii_is_replaced_and_surrounding_text_kept(text, expected):
    assert redact_pii(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Order 1234 5678 9012 3456 never arrived",  # 16 digits, fails the Luhn check
        "Reference 4111111111111112 is wrong",  # a card number with a bad check digit
        "Delivery moved to 2026-11-20 at 10:30",
        "It cost $1,299.00 and then 49.99 more",
        "Order #48213, 3 items, 2 weeks late",
        "Between 2026-11-20 2026-12-01 nobody answered",
        "Rated 4.5 out of 5 by 1200 customers",
        "Gained +12 345 points this year",  # too few digits for a phone
        "Ref 0770090012344 is thirteen digits",  # too long for a UK phone, fails Luhn
    ],
)
def test_non_pii_numbers_survive(text):
    assert redact_pii(text) == text


def test_cards_are_checked_before_phones():
    for card in ("4111 1111 1111 1111", "4111-1111-1111-1111", "0770090012343"):
        assert redact_pii(f"ref {card}") == "ref [card]"
    assert redact_pii("pay 5500 0000 0000 0004 or call 202-555-0143") == (
        "pay [card] or call [phone]"
    )


def test_redact_many_keeps_order():
    texts = ["a@b.io", "no pii here", "call 202-555-0143"]
    assert redact_many(iter(texts)) == ["[email]", "no pii here", "call [phone]"]
