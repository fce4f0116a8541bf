from __future__ import annotations

import pytest

from flows.terminal import escape, shown

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("plain text", "plain text"),
        ("\x1b[2J\x1b]0;owned\x07", "\\x1b[2J\\x1b]0;owned\\x07"),
        ("over\rwritten", "over\\rwritten"),
        ("Nimbus \u202eedoc\u202c zero\u200bwidth", "Nimbus \\u202eedoc\\u202c zero\\u200bwidth"),
        ("a\u2028b", "a\\u2028b"),
        ("two\nlines\tand a tab", "two\nlines\tand a tab"),
        (
            "caf\u00e9 \U0001f468\u200d\U0001f469 \u2764\ufe0f",
            "caf\u00e9 \U0001f468\u200d\U0001f469 \u2764\ufe0f",
        ),
    ],
)
def test_control_and_bidi_characters_are_shown_as_escapes_and_the_rest_as_written(text, expected):
    assert shown(text) == expected


def test_escape_also_keeps_rich_markup_from_being_read():
    assert escape("[bold]x\x1b[0m") == "\\[bold]x\\x1b[0m"
