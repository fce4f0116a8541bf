"""Typos the way people type them: swapped or dropped letters, shouting, lost apostrophes."""

from __future__ import annotations

import re
from collections.abc import Callable
from random import Random

_I_WORD = re.compile(r"\bI\b")


def _word_at(rng: Random, text: str, change: Callable[[str], str]) -> str:
    words = text.split(" ")
    options = [i for i, w in enumerate(words) if len(w) >= 4 and w.isalpha()]
    if not options:
        return text
    i = rng.choice(options)
    words[i] = change(words[i])
    return " ".join(words)


def _swap_letters(rng: Random, text: str) -> str:
    def swap(word: str) -> str:
        j = rng.randrange(1, len(word) - 2)
        return word[:j] + word[j + 1] + word[j] + word[j + 2 :]

    return _word_at(rng, text, swap)


def _drop_letter(rng: Random, text: str) -> str:
    def drop(word: str) -> str:
        j = rng.randrange(1, len(word) - 1)
        return word[:j] + word[j + 1 :]

    return _word_at(rng, text, drop)


def _shout_word(rng: Random, text: str) -> str:
    return _word_at(rng, text, str.upper)


def _lower_i(rng: Random, text: str) -> str:
    return _I_WORD.sub("i", text)


def _no_apostrophes(rng: Random, text: str) -> str:
    return text.replace("'", "")


def _bangs(rng: Random, text: str) -> str:
    return text.rstrip(".!") + "!!!" if text.endswith((".", "!")) else text


def _no_full_stop(rng: Random, text: str) -> str:
    return text.rstrip(".")


def _all_lower(rng: Random, text: str) -> str:
    return text.lower()


_Typo = Callable[[Random, str], str]
_LIGHT_TYPOS: tuple[_Typo, ...] = (
    _swap_letters,
    _drop_letter,
    _lower_i,
    _no_apostrophes,
    _bangs,
    _no_full_stop,
)
_ANGRY_TYPOS = (*_LIGHT_TYPOS, _shout_word, _shout_word)


def draw_noise_level(rng: Random) -> int:
    """How sloppily one comment is typed: 0 (clean, most), 1 or 2 (sloppy, few)."""
    r = rng.random()
    return 0 if r < 0.68 else 1 if r < 0.92 else 2


def add_typos(rng: Random, text: str, level: int, complaint: bool) -> str:
    """Inject typos the way people type: ``level`` 0 is clean, 2 is sloppy."""
    if level == 0 or (level == 1 and rng.random() < 0.5):
        return text
    typos = _ANGRY_TYPOS if complaint else _LIGHT_TYPOS
    for _ in range(1 if level == 1 else rng.randint(2, 3)):
        text = rng.choice(typos)(rng, text)
    if level == 2 and rng.random() < 0.3:
        text = _all_lower(rng, text)
    return text
