"""Normalise real channel text before it is split and embedded: pure functions, no I/O.

Real customer text carries words that say nothing about the problem: brand @handles, links,
emoji, greetings, thanks and sign-offs, the quoted thread under an e-mail reply, a form's own
prompts. Embedded as they are, they group comments by surface (every tweet that opens with
``@SpotifyCares`` lands in one cluster) instead of by what went wrong.

Every rule only *deletes* characters, so the normalised text is the original with some spans
taken out. :class:`Normalised` keeps those spans and maps any span of the normalised text
back to the original (:meth:`Normalised.original_span`): a sentence split from the normalised
text still points at the customer's own words, which the warehouse keeps as received and the
report quotes.

The rules, and what each deletes, are in :mod:`nlp.normalize_rules`; each can be turned off
per source (see ``config/settings.py``). Whitespace left behind by deletions is collapsed, so
the result reads as a sentence.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, fields

from nlp.normalize_rules import (
    find_boilerplate_lines,
    find_emoji,
    find_handles,
    find_hashtags,
    find_opening_greetings,
    find_quoted_replies,
    find_segments,
    find_thanks_and_signoffs,
    find_urls,
)


@dataclass(frozen=True)
class Rules:
    """Which normalisation rules apply (all on by default)."""

    handles: bool = True
    urls: bool = True
    hashtags: bool = True
    emoji: bool = True
    greetings: bool = True
    quoted_replies: bool = True
    boilerplate: bool = True

    @classmethod
    def names(cls) -> tuple[str, ...]:
        """The rule names, in the order they are listed."""
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class Normalised:
    """A normalised text and the spans of the original that were removed.

    Attributes:
        text: The normalised text (what is split, embedded and clustered).
        original: The text as received.
        removed: Sorted, non-overlapping ``(start, end)`` spans of ``original`` that were
            deleted; ``text`` is ``original`` without them.
    """

    text: str
    original: str
    removed: tuple[tuple[int, int], ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map ``text[start:end]`` (non-empty) to the span of ``original`` it came from.

        The span runs from the original position of its first character to just after the
        original position of its last, so it includes anything removed in between (an emoji
        inside a sentence stays in the quote).
        """
        if not self.removed:
            return start, end
        return self._to_original(start), self._to_original(end - 1) + 1

    def _to_original(self, position: int) -> int:
        # Before the k-th removed span, normalised positions are shifted by the length of the
        # spans before it: find the last span whose (normalised) start is at or before it.
        starts, shifts = _shift_table(self.removed)
        k = bisect.bisect_right(starts, position) - 1
        return position + (shifts[k] if k >= 0 else 0)


def _shift_table(removed: tuple[tuple[int, int], ...]) -> tuple[list[int], list[int]]:
    starts, shifts, total = [], [], 0
    for start, end in removed:
        total += end - start
        starts.append(start - (total - (end - start)))  # where the gap sits in the normalised text
        shifts.append(total)
    return starts, shifts


class _Work:
    """The text being normalised: the original and the runs of it still kept."""

    def __init__(self, original: str) -> None:
        self.original = original
        self.runs: list[tuple[int, int]] = [(0, len(original))] if original else []
        self.text = original
        self.tidy = True  # no deletion since the last tidy-up

    def _offsets(self) -> list[int]:
        offsets, position = [], 0
        for start, end in self.runs:
            offsets.append(position)
            position += end - start
        return offsets

    def gaps(self) -> set[int]:
        """Positions of the current text with something deleted just before them."""
        offsets = self._offsets()
        gaps = {o for o, (start, _) in zip(offsets, self.runs, strict=True) if start > 0}
        if self.runs and self.runs[-1][1] < len(self.original):
            gaps.add(len(self.text))
        return gaps

    def delete(self, spans: Iterable[tuple[int, int]]) -> bool:
        """Delete spans given in the current text's coordinates; say whether any were."""
        offsets = self._offsets()
        cuts: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            k = bisect.bisect_right(offsets, start) - 1
            while start < end and 0 <= k < len(self.runs):
                run_start, run_end = self.runs[k]
                stop = min(end, offsets[k] + run_end - run_start)
                if stop > start:
                    cuts.append((run_start + start - offsets[k], run_start + stop - offsets[k]))
                start, k = max(start, stop), k + 1
        if not cuts:
            return False
        cuts.sort()
        runs: list[tuple[int, int]] = []
        c = 0
        for run_start, run_end in self.runs:
            position = run_start
            while c < len(cuts) and cuts[c][0] < run_end:
                cut_start, cut_end = cuts[c]
                if cut_start > position:
                    runs.append((position, cut_start))
                position = max(position, cut_end)
                if cut_end > run_end:
                    break
                c += 1
            if position < run_end:
                runs.append((position, run_end))
        self.runs = runs
        self.text = "".join(self.original[a:b] for a, b in runs)
        self.tidy = False
        return True

    def result(self) -> Normalised:
        """The normalised text with the original's removed spans."""
        removed, position = [], 0
        for start, end in self.runs:
            if start > position:
                removed.append((position, start))
            position = end
        if position < len(self.original):
            removed.append((position, len(self.original)))
        return Normalised(self.text, self.original, tuple(removed))


# --- whitespace -------------------------------------------------------------------------------
_LOOSE_SPACE = re.compile(
    r"^\s+|\s+$|(?<=[ \t])[ \t]+|[ \t]+(?=[.,!?;:)])|(?<=\n)[ \t]+|[ \t]+(?=\n)|(?<=\n\n)\n+"
)


def _tidy_spaces(work: _Work) -> None:
    text, gaps = work.text, work.gaps()
    work.delete(
        m.span()
        for m in _LOOSE_SPACE.finditer(text)
        if m.start() in gaps or m.end() in gaps or m.start() == 0 or m.end() == len(text)
    )


def _tidy(work: _Work) -> None:
    """Collapse the spaces a deletion left, and drop what it left with no word in it.

    Only whitespace and punctuation next to a deletion are touched: the customer's own
    spacing elsewhere stays as cleaned.
    """
    if work.tidy:
        return
    _tidy_spaces(work)
    # A line or sentence left with no word (", ." once "@x" is gone) goes too.
    text, gaps = work.text, work.gaps()
    if gaps and work.delete(
        (s, e)
        for s, e in find_segments(text)
        if any(s <= g <= e for g in gaps) and not any(ch.isalnum() for ch in text[s:e])
    ):
        _tidy_spaces(work)
    work.tidy = True


_STEPS: tuple[tuple[str, Callable[[str], list[tuple[int, int]]]], ...] = (
    ("urls", find_urls),
    ("handles", find_handles),
    ("emoji", find_emoji),
    ("hashtags", find_hashtags),
)


def normalise(
    text: str, rules: Rules = Rules(), boilerplate: Collection[str] = frozenset()
) -> Normalised:
    """Normalise one comment's text for splitting and embedding.

    Args:
        text: The comment's text as stored (already cleaned by :func:`nlp.clean.clean_text`:
            HTML entities decoded, whitespace normalised).
        rules: Which rules apply (the source's settings).
        boilerplate: The source's boilerplate keys from :func:`nlp.normalize_rules.find_boilerplate`.

    Returns:
        The normalised text with the original and the removed spans. A text that is nothing
        but greeting, thanks or handles comes out empty; the boilerplate rule alone never
        empties one (what is left is then the customer's answer to the form).
    """
    result = _normalise(text, rules, boilerplate if rules.boilerplate else ())
    if not result.text and rules.boilerplate and boilerplate:
        return _normalise(text, rules, ())
    return result


def _normalise(text: str, rules: Rules, boilerplate: Collection[str]) -> Normalised:
    work = _Work(text)
    if rules.quoted_replies and ("\n" in text or ">" in text):
        work.delete(find_quoted_replies(text))
    if boilerplate:
        work.delete(find_boilerplate_lines(work.text, boilerplate))
    for name, find in _STEPS:
        if getattr(rules, name):
            work.delete(find(work.text))
    if rules.greetings:
        # Handles and emoji are gone by now, so "Hello @x," and "Thanks! 🙏" read plainly.
        _tidy(work)
        work.delete(find_opening_greetings(work.text))
        _tidy(work)
        work.delete(find_thanks_and_signoffs(work.text))
    _tidy(work)
    return work.result()
