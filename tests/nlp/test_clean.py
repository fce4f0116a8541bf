import pytest

from nlp.clean import (
    clean_text,
    join_parts,
    looks_like_html,
    remove_invisible,
    strip_html,
    truncate,
)


def test_strip_html_keeps_the_words_and_breaks_blocks():
    text = "<p>The app <b>crashes</b> on start</p><p>Every&nbsp;time &amp; again</p>"
    assert strip_html(text).split() == [
        "The",
        "app",
        "crashes",
        "on",
        "start",
        "Every",
        "time",
        "&",
        "again",
    ]


def test_script_contents_are_dropped_not_kept_as_words():
    assert "alert" not in strip_html("hi <script>alert(1)</script> there")


def test_angle_brackets_that_are_not_tags_survive():
    cleaned = clean_text("I <3 this, and 2 < 3", max_chars=100)
    assert cleaned.text == "I <3 this, and 2 < 3"
    assert cleaned.flags == ()
    assert not looks_like_html("I <3 this")


def test_clean_text_flags_each_repair():
    cleaned = clean_text("<b>bad</b> caf\ufffd", max_chars=100)
    assert cleaned.text == "bad caf\ufffd"
    assert set(cleaned.flags) == {"html_stripped", "invalid_utf8"}


def test_whitespace_is_collapsed_but_paragraphs_kept():
    assert clean_text("  a \t b\r\n\r\n\r\n\nc  ", max_chars=100).text == "a b\n\nc"


def test_unicodes_line_and_paragraph_separators_are_line_breaks():
    assert clean_text("a\u2028b\u2029c", max_chars=100).text == "a\nb\n\nc"


def test_truncate_cuts_at_a_word_boundary_and_flags_it():
    text = "word " * 100
    cleaned = clean_text(text, max_chars=52)
    assert len(cleaned.text) <= 52
    assert cleaned.text.endswith("word")
    assert cleaned.flags == ("truncated",)
    assert truncate("short", 10) == "short"


def test_join_parts_adds_a_stop_after_a_title_and_drops_repeats():
    assert (
        join_parts(["Refund never came", "I waited 3 weeks."])
        == "Refund never came.\n\nI waited 3 weeks."
    )
    assert join_parts(["", "Body only"]) == "Body only"
    assert join_parts(["Same", "Same"]) == "Same"
    assert join_parts(["Great!", "Works"]) == "Great!\n\nWorks"


def test_encoded_markup_is_decoded_then_stripped_never_stored_live():
    cleaned = clean_text("Nice &lt;script&gt;alert(1)&lt;/script&gt; app", max_chars=100)
    assert cleaned.text == "Nice app"
    assert cleaned.flags == ("html_stripped",)
    assert clean_text("&lt;img src=x onerror=alert(1)&gt;hi", max_chars=100).text == "hi"


def test_entities_an_export_encoded_twice_are_decoded_twice():
    # A clothing-shop export wrote "it&amp;#39;s": the quotes showed "it&#39;s".
    assert clean_text("it&amp;#39;s &amp;quot;no&amp;quot; size", max_chars=100).text == (
        'it\'s "no" size'
    )
    assert clean_text("AT&amp;T &amp; co", max_chars=100).text == "AT&T & co"
    # Only a whole entity is decoded again: "&region" has no ";" and stays as written.
    assert clean_text("Sales &amp;region &amp;amp; more", max_chars=100).text == (
        "Sales &region & more"
    )


def test_tags_cannot_reassemble_from_pieces_left_by_stripping():
    assert "<" not in strip_html("<<b>script>alert(1)<</b>/script> hi")


def test_text_that_only_looks_like_markup_comes_out_right():
    assert clean_text("I <3 it", max_chars=100).text == "I <3 it"
    assert clean_text("a < b", max_chars=100).text == "a < b"
    assert clean_text("AT&amp;T", max_chars=100).text == "AT&T"
    assert clean_text("a &lt; b, I &lt;3 it", max_chars=100).text == "a < b, I <3 it"


def test_angle_brackets_around_words_that_are_no_html_tag_are_text():
    for text in (
        "Refund took weeks <annoyed>",
        "I <3 it, a<b",
        "<sigh> again </sigh>",
        "<Annoyed/>",
    ):
        cleaned = clean_text(text, max_chars=100)
        assert (cleaned.text, cleaned.flags) == (text, ())
        assert not looks_like_html(text)
    # Real markup around them still goes: known tags (any case), comments, entities.
    cleaned = clean_text(
        "<P>Still <B>waiting</B> <annoyed><!-- sig --> &amp; more</P>", max_chars=100
    )
    assert (cleaned.text, cleaned.flags) == ("Still waiting <annoyed> & more", ("html_stripped",))
    assert clean_text("&lt;annoyed&gt; &lt;script&gt;x&lt;/script&gt;", max_chars=100).text == (
        "<annoyed>"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # soft hyphen, word joiner, BOM, bidi controls and marks: they hide a number or address
        ("My card 4111\xad1111\xad1111\xad1111", "My card 4111111111111111"),
        ("Ring 07700\u2060900123", "Ring 07700900123"),
        ("mail john.smith@gm\xadail.com", "mail john.smith@gmail.com"),
        ("\ufeffmail john\ufeff.smith@gmail.com", "mail john.smith@gmail.com"),
        ("Call 07700\u202e900123\u202c now", "Call 07700900123 now"),
        ("Call \u206607700\u200e900123\u2069 now", "Call 07700900123 now"),
        # joiners between ASCII characters join nothing: they only hide
        ("card 4111\u200d1111\u200d1111\u200d1111", "card 4111111111111111"),
        ("mail john.smith\u200c@gmail.com", "mail john.smith@gmail.com"),
        # emoji sequences and scripts that need the joiners keep them
        ("Family \U0001f468\u200d\U0001f469\u200d\U0001f467 trip", None),
        ("Go \U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f!", None),
        ("Love it \u2764\ufe0f", None),
        ("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", None),
        # a joiner or tags beside an ASCII character join nothing
        ("Smile \U0001f44d\U0001f3fd\u200d ok", "Smile \U0001f44d\U0001f3fd ok"),
        ("card 4111\U000e0031 1111", "card 4111 1111"),
        # a variation selector or grapheme joiner after an ASCII character selects nothing
        ("card 4111\ufe0f1111\ufe0e1111\u034f1111", "card 4111111111111111"),
        ("Ring 07700\U000e0100900123", "Ring 07700900123"),
        ("Press 1\ufe0f\u20e3 then \u2122\ufe0f", None),  # a keycap; after a symbol it shows
    ],
)
def test_invisible_format_characters_are_removed_but_emoji_sequences_kept(text, expected):
    expected = text if expected is None else expected
    assert clean_text(text, max_chars=100).text == expected
    assert remove_invisible(text).strip() == expected


def test_a_zero_width_space_is_removed_not_made_a_space():
    assert clean_text("mail john.smith@gmail\u200b.com", max_chars=100).text == (
        "mail john.smith@gmail.com"
    )
    assert clean_text("zero\u200bwidth", max_chars=100).text == "zerowidth"
    # the spaces of U+2000 to U+200A have a width: they stay spaces
    assert clean_text("a\u2009b\u2000c\u200ad", max_chars=100).text == "a b c d"


def test_a_narrow_no_break_space_is_a_space():
    """French typography puts one before "?" and in numbers; a card split by it must read whole."""
    assert clean_text("Pourquoi\u202f? Card 4111\u202f1111", max_chars=100).text == (
        "Pourquoi ? Card 4111 1111"
    )
