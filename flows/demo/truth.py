"""Which warehouse unit holds each sentence the demo planted: the key to scoring the demo.

``truth.csv`` names, per written record, the planted hassle and its pain sentence. The tests
(``tests/conftest.py``) and ``bench/demo_quality.py`` read the units from the warehouse and
match them here, so both score the demo the same way. Pure: rows in, mappings out.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

# A unit holds the planted sentence when the first this-many characters of one are in the other.
MATCH_CHARS = 40


def planted_units(
    truth: Iterable[Mapping[str, str]], units: Iterable[tuple[str, str, str, str]]
) -> dict[str, str]:
    """Unit id -> planted hassle, for each unit that holds a planted pain sentence.

    Args:
        truth: The rows of ``truth.csv``; only those with a planted hassle and a pain sentence
            count.
        units: ``(unit_id, channel, external_id, text)`` of the warehouse's units.
    """
    planted = {
        (r["channel"], r["external_id"]): r
        for r in truth
        if r["planted_hassle"] and r["pain_sentence"]
    }
    found = {}
    for unit_id, channel, external_id, text in units:
        row = planted.get((channel, external_id))
        if row:
            pain, said = row["pain_sentence"].strip().lower(), text.strip().lower()
            if pain[:MATCH_CHARS] in said or said[:MATCH_CHARS] in pain:
                found[unit_id] = row["planted_hassle"]
    return found


def dominant_hassles(planted: Mapping[str, str], members: Mapping[str, str]) -> dict[str, str]:
    """Planted hassle -> the hassle holding most of its units (``members``: unit -> hassle)."""
    by_planted: dict[str, Counter] = defaultdict(Counter)
    for unit, hassle in planted.items():
        if unit in members:
            by_planted[hassle][members[unit]] += 1
    return {p: c.most_common(1)[0][0] for p, c in by_planted.items()}
