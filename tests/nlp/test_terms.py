"""The phrases the labeller reads off a unit's words (nlp.terms.read_unit)."""

from __future__ import annotations

import pytest

from nlp.terms import read_unit


def _phrases(text: str) -> set[str]:
    return set(read_unit(text, (), (), frozenset()).phrases)


@pytest.mark.parametrize(
    "text",
    [
        "I really wanted to like the dress.",  # clothing: "like the dress", praise
        "The sauce tasted like ketchup.",  # restaurants: "tasted like", cut short
        "It doesn't look like it does on the model.",  # clothing: "does on the model"
        "It did at first and then the screen went black.",
    ],
)
def test_no_phrase_starts_or_ends_on_like_does_or_did(text):
    edges = {w for p in _phrases(text) for w in (p.split()[0], p.split()[-1])}

    assert not edges & {"like", "does", "did"}, _phrases(text)


def test_like_inside_a_phrase_stays():
    assert "tasted like ketchup" in _phrases("The sauce tasted like ketchup.")


@pytest.mark.parametrize(
    ("text", "cut"),
    [
        ("It's short on me and boxy.", "short on"),
        ("Not flattering on my frame at all.", "not flattering on"),
        ("Sadly not available in this country.", "not available in"),
        ("They charged me in euros.", "charged me in"),
        ("The parcel was delivered on Saturday.", "parcel was delivered on"),
        ("The app logs me back in every time.", "logs me back"),
    ],
)
def test_a_particle_with_its_object_after_it_ends_no_phrase(text, cut):
    assert cut not in _phrases(text)


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Sadly not available in my country.", "not available"),
        ("I can't log in to my account.", "can't log in"),
        ("I can't log in today.", "can't log in"),
        ("It was sold out online in most sizes.", "sold out"),
        ("The music turns off when I lock the phone.", "music turns off"),
        ("It logs me out constantly.", "logs me out"),
        ("Can't log back in since the update.", "can't log back in"),
        ("Please turn it back on.", "turn it back on"),
    ],
)
def test_a_particle_ending_its_clause_ends_a_phrase(text, kept):
    assert kept in _phrases(text)


def test_a_particle_after_an_object_pronoun_ends_a_phrase():
    phrases = _phrases("The Nimbus app logs me out at random.")

    assert {"logs me out", "app logs me out"} <= phrases
    assert "keeps cutting me off" in _phrases("The call keeps cutting me off.")


def test_a_lone_letter_ends_no_phrase_and_capitals_are_read_inside_sentences():
    read = read_unit("Then Wells Fargo 's fees kept rising", (), (), frozenset())

    assert not [p for p in read.phrases if p.split()[0] == "s" or p.split()[-1] == "s"]
    assert "fees kept rising" in read.phrases
    assert read.capitalised == {"wells", "fargo"} and "fees" in read.lower_case
    assert read.capital_pairs == {("wells", "fargo")}


@pytest.mark.parametrize(
    ("text", "capitalised", "pairs"),
    [
        # A sentence's first word is no name, but may start one.
        ("Wells Fargo closed my account", {"fargo"}, {("wells", "fargo")}),
        ("Suddenly Netflix logs me out", {"netflix"}, {("suddenly", "netflix")}),
        # A line, a quote or a list item starts a sentence too.
        ("Spotify keeps crashing\nShuffle is broken", set(), set()),
        ("'Shuffle' is broken again", set(), set()),
        ("1) Shuffle is broken", set(), set()),
        # Capitals only, and title case, say nothing.
        ("my ATM card and the PIN", set(), set()),
        ("Spotify Keeps Crashing On My Phone", set(), set()),
        # Two names in a sentence with a verb in lower case are no title case.
        (
            "Android Auto disconnects from Apple Music",
            {"auto", "apple", "music"},
            {("android", "auto"), ("apple", "music")},
        ),
    ],
)
def test_capitals_are_read_inside_a_sentence_only(text, capitalised, pairs):
    read = read_unit(text, (), (), frozenset())
    assert read.capitalised == capitalised and read.capital_pairs == pairs
