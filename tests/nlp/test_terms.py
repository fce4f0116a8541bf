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
    ("text", "cut", "kept"),
    [
        ("It's short on me and boxy.", "short on", None),
        ("Not flattering on my frame at all.", "not flattering on", "not flattering"),
        ("Sadly not available in my country.", "not available in", "not available"),
        ("I can't log in to my account.", None, "can't log in"),
        ("The music turns off when I lock the phone.", None, "music turns off"),
    ],
)
def test_a_particle_ends_a_phrase_only_when_no_object_follows(text, cut, kept):
    phrases = _phrases(text)

    assert cut not in phrases
    assert kept is None or kept in phrases


def test_a_particle_after_an_object_pronoun_ends_a_phrase():
    phrases = _phrases("The Nimbus app logs me out at random.")

    assert {"logs me out", "app logs me out"} <= phrases
    assert "keeps cutting me off" in _phrases("The call keeps cutting me off.")
