"""Normalisation of real channel text: each rule on hand-written, real-looking messages."""

from __future__ import annotations

import pytest

from nlp.normalize import Normalised, Rules, normalise
from nlp.normalize_rules import boilerplate_key, find_boilerplate

ALL = Rules()
ONLY = {name: Rules(**{n: n == name for n in Rules.names()}) for name in Rules.names()}


def clean(text: str, rules: Rules = ALL, boilerplate: frozenset[str] = frozenset()) -> str:
    return normalise(text, rules, boilerplate).text


def assert_maps_back(result: Normalised) -> None:
    """Every span of the normalised text maps to original characters, deletions only."""
    text, original = result.text, result.original
    for start in range(len(text)):
        for end in range(start + 1, len(text) + 1):
            a, b = result.original_span(start, end)
            assert original[a] == text[start] and original[b - 1] == text[end - 1]
    kept = original
    for a, b in reversed(result.removed):
        kept = kept[:a] + kept[b:]
    assert kept == text


# --- handles ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tweet", "expected"),
    [
        (
            "@NimbusHelp @jo_b1 my playlist vanished after the update",
            "my playlist vanished after the update",
        ),
        (".@NimbusHelp why is sync stuck at 99%?", "why is sync stuck at 99%?"),
        ("I DMed @NimbusHelp twice and heard nothing back", "I DMed twice and heard nothing back"),
        ("still charged twice this month @NimbusHelp @NimbusApp", "still charged twice this month"),
        ("@NimbusHelp's bot keeps closing my chat", "bot keeps closing my chat"),
    ],
)
def test_handles_go_wherever_they_are(tweet, expected):
    assert clean(tweet, ONLY["handles"]) == expected


def test_an_email_address_is_not_a_handle():
    text = "write to sam.k@example.com about my refund"
    assert clean(text, ONLY["handles"]) == text


def test_a_tweet_that_is_only_handles_comes_out_empty():
    assert clean("@NimbusHelp @NimbusApp") == ""


# --- URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "screenshot here https://t.co/Xk29fLq0 app froze again",
            "screenshot here app froze again",
        ),
        ("the help page www.nimbus.example/help is wrong", "the help page is wrong"),
        ("see nimb.us/r4nd0m it says error 17", "see it says error 17"),
    ],
)
def test_urls_go(text, expected):
    assert clean(text, ONLY["urls"]) == expected


# --- hashtags ---------------------------------------------------------------------------------


def test_an_inline_hashtag_keeps_its_word():
    assert clean("my #playlist is empty again", ONLY["hashtags"]) == "my playlist is empty again"


def test_a_trailing_run_of_tags_goes():
    text = "lost all my downloads on the plane. #fail #NimbusApp #travel"
    assert clean(text, ONLY["hashtags"]) == "lost all my downloads on the plane."


def test_a_text_of_only_tags_keeps_the_words():
    assert clean("#NimbusDown #fail", ONLY["hashtags"]) == "NimbusDown fail"


def test_numbers_after_a_hash_are_not_tags():
    text = "order #48213 never came, the #1 reason I'm leaving"
    assert clean(text, ONLY["hashtags"]) == text


# --- emoji ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("it didn't work 😢", "it didn't work"),
        ("app crashed 3 times today 😡😡👎🏽 fix it", "app crashed 3 times today fix it"),
        ("family plan 👨‍👩‍👧 only shows one account", "family plan only shows one account"),
        ("sync broke again :( and support is slow :/", "sync broke again and support is slow"),
        ("love the new look <3 but search is gone", "love the new look but search is gone"),
    ],
)
def test_emoji_and_emoticons_go(text, expected):
    assert clean(text, ONLY["emoji"]) == expected


def test_emoji_off_keeps_them():
    assert clean("it didn't work 😢", ONLY["handles"]) == "it didn't work 😢"


# --- greetings, thanks, sign-offs -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi team,\nmy invoice shows VAT twice.", "my invoice shows VAT twice."),
        ("Hello @NimbusHelp, the hub won't pair.", "the hub won't pair."),
        ("Dear Sir/Madam,\n\nI was billed after cancelling.", "I was billed after cancelling."),
        ("Good morning! Login fails with error 502.", "Login fails with error 502."),
        ("hey why does the app log me out every day", "why does the app log me out every day"),
        ("Hi there I can't reset my password", "I can't reset my password"),
        ("Hiya Nimbus Support - the tracking page is blank", "the tracking page is blank"),
        ("Refund\n\nHello team,\n\nStill no refund.", "Refund\n\nStill no refund."),
    ],
)
def test_greetings_go(text, expected):
    assert clean(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Hi I tried everything, nothing works",
        "Hello there is a bug in the calendar sync",
    ],
)
def test_a_greeting_never_takes_the_sentence_with_it(text):
    result = clean(text)
    assert result.endswith(text.split(" ", 1)[1])
    assert len(result) >= len(text) - len("Hello ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi Spotify App Keeps Crashing!", "Spotify App Keeps Crashing!"),
        ("Hello Nimbus App Stopped Working!", "Nimbus App Stopped Working!"),
        ("Hey Nimbus Refund Not Processed.", "Nimbus Refund Not Processed."),
        ("Hi Nimbus Support! Login Still Broken.", "Login Still Broken."),
        ("Hello Mohammed, my refund is late", "my refund is late"),
    ],
)
def test_a_title_case_complaint_is_not_taken_for_the_addressee(text, expected):
    """A greeted name is a few capitalised words; a verb, a negation or "still" ends it."""
    assert clean(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The refund never arrived. Thanks in advance.", "The refund never arrived."),
        ("Thanks! I sent you the details in dm.", "I sent you the details in dm."),
        (
            "Still waiting on my replacement. Thank you so much for your help!",
            "Still waiting on my replacement.",
        ),
        ("ok thx. the update is still stuck", "the update is still stuck"),
        (
            "Thanks, hope the offline mode gets fixed soon.",
            "hope the offline mode gets fixed soon.",
        ),
        ("Hi, thanks, why is my family plan gone?", "why is my family plan gone?"),
    ],
)
def test_thanks_only_sentences_go(text, expected):
    assert clean(text) == expected


def test_thanks_for_nothing_is_a_complaint_not_thanks():
    text = "Thanks for nothing. Third week without a working router."
    assert clean(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "My hub drops wifi every night.\n\nKind regards,\nPat Okafor\nOperations lead",
            "My hub drops wifi every night.",
        ),
        ("still no refund after 3 weeks. Cheers, John", "still no refund after 3 weeks."),
        ("the new update deleted my notes! - Sam", "the new update deleted my notes!"),
        (
            "Card was charged twice.\n\nThanks in advance,\nLeo\n\nSent from my iPhone",
            "Card was charged twice.",
        ),
        ("Screen flickers on boot.\nGet Outlook for Android", "Screen flickers on boot."),
    ],
)
def test_sign_offs_and_mail_footers_go(text, expected):
    assert clean(text) == expected


def test_a_sign_off_before_a_later_reply_goes_and_the_reply_stays():
    text = "Refund\n\nStill no refund.\n\nKind regards,\nPriya Raman\n\nAny update?"
    assert clean(text) == "Refund\n\nStill no refund.\n\nAny update?"


@pytest.mark.parametrize(
    "text", ["Regards\nmy parcel never came", "Kind regards,\nmy parcel never came at all"]
)
def test_a_text_that_opens_with_a_sign_off_word_keeps_what_follows(text):
    # A sign-off is what ends a message: one at the very start cuts nothing, or a terse
    # customer's whole complaint would be gone.
    assert "my parcel never came" in clean(text)


@pytest.mark.parametrize(
    ("text", "kept", "gone"),
    [
        ("My order is late.\nThanks\nJohn\nStill no refund", "Still no refund", "John"),
        ("Printer jammed.\nThanks,\nthe tray is broken too", "the tray is broken too", "Thanks"),
        ("Card declined.\nBest regards,\nAna\nit won't let me pay", "it won't let me pay", "Ana"),
        (
            "Wifi dropped.\n\nThanks,\nSophie.\n\nSame thing again today.",
            "Same thing again",
            "Sophie",
        ),
    ],
)
def test_a_complaint_under_a_sign_off_is_not_taken_for_the_signature(text, kept, gone):
    """A signature's lines are a name, a title, a number; a line that reads as a sentence stays."""
    result = clean(text)
    assert kept in result and gone not in result


@pytest.mark.parametrize(
    "signature",
    ["John Smith\nIT Manager", "Ana\nPhone No. 0207 946 0000", "Jo\nI.T. Dept", "Kim\nIT"],
)
def test_a_signatures_title_or_number_is_no_sentence(signature):
    # The words that make a line a sentence ("it", "no", "i") in capitals, or capitalised
    # inside the line, are a title or a number's label: the signature still goes.
    assert clean(f"Printer jammed.\nThanks,\n{signature}") == "Printer jammed."


def test_a_question_after_thanks_is_not_a_signature():
    text = "Thanks\nwhy is my order still not here?"
    assert clean(text) == "why is my order still not here?"


def test_greetings_off_keeps_them():
    text = "Hi team, the export is empty. Thanks in advance!"
    assert clean(text, ONLY["emoji"]) == text


# --- quoted replies ---------------------------------------------------------------------------


def test_a_gmail_style_quoted_thread_is_cut():
    text = (
        "Reinstalling did not help, it still freezes on the splash screen.\n\n"
        "On Tue, 4 Nov 2026 at 09:12, Nimbus Support <help@nimbus.example> wrote:\n"
        "> Could you try reinstalling the app?\n"
        "> Best, Nimbus Support"
    )
    expected = "Reinstalling did not help, it still freezes on the splash screen."
    assert clean(text, ONLY["quoted_replies"]) == expected


def test_a_later_reply_after_a_quoted_block_stays():
    text = (
        "Any update?\n\n"
        "On Wed, 5 Nov 2026 at 11:30, Nimbus Support <help@nimbus.example> wrote:\n"
        "> We have escalated this.\n\n"
        "It is still showing the old balance."
    )
    assert (
        clean(text, ONLY["quoted_replies"]) == "Any update?\n\nIt is still showing the old balance."
    )


def test_an_outlook_style_thread_is_cut():
    text = (
        "Nobody has called me back.\n\n"
        "________________________________\n"
        "From: Nimbus Support <help@nimbus.example>\n"
        "Sent: 03 November 2026 17:40\n"
        "Subject: Re: outage\n\n"
        "We will call you within 24 hours."
    )
    assert clean(text, ONLY["quoted_replies"]) == "Nobody has called me back."


def test_an_original_message_block_is_cut():
    text = "Same problem today.\n-----Original Message-----\nFrom: support\nSent: Monday\nHi"
    assert clean(text, ONLY["quoted_replies"]) == "Same problem today."


def test_inline_quoted_lines_go_and_the_answers_between_them_stay():
    text = "> Which version are you on?\n4.2.1\n> Does it happen on wifi?\nonly on mobile data"
    assert clean(text, ONLY["quoted_replies"]) == "4.2.1\nonly on mobile data"


def test_a_ticket_reply_marker_cuts_the_rest():
    text = "Still broken.\n##- Please type your reply above this line -##\nTicket #5521 update"
    assert clean(text, ONLY["quoted_replies"]) == "Still broken."


# --- boilerplate ------------------------------------------------------------------------------

FORM = "Order number: {n}\nWhat went wrong? {answer}\nSubmitted via the Nimbus web form."
ANSWERS = [
    "The box arrived crushed.",
    "Courier left it in the rain.",
    "Wrong colour sent.",
    "Two items missing.",
    "Nobody answers the phone.",
    "Refund form keeps erroring.",
    "Delivery slot was ignored.",
    "Charger was not in the box.",
]


def form_texts(n: int) -> list[str]:
    return [FORM.format(n=1000 + i * 37, answer=ANSWERS[i % len(ANSWERS)]) for i in range(n)]


def test_form_prompts_and_template_lines_are_found_and_removed():
    texts = form_texts(80)
    keys = find_boilerplate(texts)
    assert boilerplate_key("Order number: 1") in keys
    assert boilerplate_key("What went wrong?") in keys
    assert boilerplate_key("Submitted via the Nimbus web form.") in keys
    # Each answer recurs in 1/8 of the texts: under the 20% share, so never boilerplate.
    assert not any(boilerplate_key(a) in keys for a in ANSWERS)
    assert clean(texts[4], boilerplate=keys) == "Nobody answers the phone."


def test_too_few_comments_have_no_boilerplate():
    assert find_boilerplate(form_texts(20)) == frozenset()


def test_a_short_recurring_line_is_not_boilerplate():
    texts = [f"ok.\n{ANSWERS[i % len(ANSWERS)]}" for i in range(80)]
    assert find_boilerplate(texts) == frozenset()


def test_a_common_answer_said_whole_is_the_customers_not_a_template():
    """Thirty survey answers that say only "Too expensive for what you get." are a hassle."""
    common = "Too expensive for what you get."
    texts = [common] * 30 + [f"{common} {a}" for a in ANSWERS] + form_texts(60)
    keys = find_boilerplate(texts)
    assert boilerplate_key(common) not in keys
    assert boilerplate_key("What went wrong?") in keys
    assert clean(texts[0], boilerplate=keys) == common
    assert clean(f"{common} {ANSWERS[2]}", boilerplate=keys) == f"{common} {ANSWERS[2]}"


def test_a_campaign_tweet_copied_by_many_is_kept():
    tweet = "@NimbusHelp bring back offline playlists, the new app is useless #SaveOffline"
    texts = [tweet] * 40 + [f"@NimbusHelp {a} #{i}" for i, a in enumerate(ANSWERS * 8)]
    keys = find_boilerplate(texts)
    assert clean(tweet, boilerplate=keys).startswith("bring back offline playlists")


def test_a_form_with_few_answers_loses_no_answer():
    # Four answers, each in a quarter of the comments: every line recurs, and each comment
    # would be emptied by the rule. The comment keeps its answer (and, here, the form's lines).
    texts = [FORM.format(n=1000 + i, answer=ANSWERS[i % 4]) for i in range(160)]
    keys = find_boilerplate(texts)
    for i, text in enumerate(texts[:4]):
        assert ANSWERS[i % 4] in clean(text, boilerplate=keys)


def test_the_boilerplate_rule_alone_never_empties_a_comment():
    keys = find_boilerplate(form_texts(80))
    blank = "Order number: 4411\nWhat went wrong?\nSubmitted via the Nimbus web form."
    assert clean(blank, boilerplate=keys) == blank
    assert clean("Hi team,\nThanks!", boilerplate=keys) == ""


def test_boilerplate_off_keeps_the_template():
    texts = form_texts(80)
    keys = find_boilerplate(texts)
    assert "What went wrong?" in clean(texts[0], ONLY["handles"], keys)


# --- everything together, and the way back to the original ------------------------------------


def test_a_real_looking_tweet_comes_out_as_its_complaint():
    tweet = "@NimbusHelp hey, my downloads vanish every time I go offline 😤 #fail #NimbusApp"
    assert clean(tweet) == "my downloads vanish every time I go offline"


def test_a_ticket_email_comes_out_as_its_complaint():
    text = (
        "Hello Nimbus team,\n\n"
        "The thermostat schedule resets itself every Sunday night. I've re-entered it 4 times.\n\n"
        "Thanks in advance!\nMaria\n\n"
        "On Sun, 2 Nov 2026 at 20:01, Nimbus <noreply@nimbus.example> wrote:\n"
        "> Your ticket #5521 has been received."
    )
    assert clean(text) == (
        "The thermostat schedule resets itself every Sunday night. I've re-entered it 4 times."
    )


@pytest.mark.parametrize(
    "text",
    [
        "@NimbusHelp hey, my downloads vanish 😤 every time I go offline #fail #NimbusApp",
        "Hi team,\n\nbilling is wrong @x again!!\n\nCheers,\nJo\n> old reply",
        "plain text with nothing to remove.",
        "",
    ],
)
def test_every_span_maps_back_to_the_original(text):
    assert_maps_back(normalise(text))


def test_a_sentence_span_keeps_what_was_removed_inside_it():
    result = normalise("the app 😡 crashed again @NimbusHelp. Please fix")
    sentence = "the app crashed again."
    start = result.text.index(sentence)
    a, b = result.original_span(start, start + len(sentence))
    assert result.original[a:b] == "the app 😡 crashed again @NimbusHelp."


def test_spacing_away_from_a_deletion_stays_as_written():
    text = "@NimbusHelp the url ends in ?id=1 : see the log ."
    assert clean(text) == "the url ends in ?id=1 : see the log ."


def test_nothing_to_remove_changes_nothing():
    text = "The parcel came two days late and the box was wet."
    result = normalise(text)
    assert result.text == text and result.removed == ()
