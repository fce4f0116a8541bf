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


def test_a_name_is_read_whole_and_a_lone_letter_ends_no_phrase():
    read = read_unit("Then Wells Fargo 's fees kept rising", (), (), frozenset())

    assert not [p for p in read.phrases if p.startswith("fargo") or p.endswith(" wells")]
    assert not [p for p in read.phrases if p.split()[0] == "s" or p.split()[-1] == "s"]
    assert "fees kept rising" in read.phrases
    assert read.capitalised == {"wells", "fargo"} and "fees" in read.lower_case
    # In title case every word is capitalised, and the phrases are read as in lower case.
    title = read_unit("Then Wells Fargo Fees Kept Rising", (), (), frozenset())
    assert not title.capitalised and "fees kept rising" in title.phrases
