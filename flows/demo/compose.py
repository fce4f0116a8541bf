"""Compose one comment's text: a hassle, a one-off complaint, praise or a neutral note.

A comment is a few sentences around its core phrase (context before, an outcome after), with
placeholders filled and typos added; foreign-language comments come from their own phrase banks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from random import Random
from typing import NamedTuple

from flows.demo import phrases as ph
from flows.demo.plan import pick
from flows.demo.spec import FOREIGN_CODES, HASSLES
from flows.demo.typos import add_typos, draw_noise_level

_RATING_WEIGHTS: dict[str, tuple[int, ...]] = {
    "high": (70, 25, 5, 0, 0),
    "medium": (40, 42, 15, 3, 0),
    "medium_low": (20, 45, 30, 5, 0),
    "low": (10, 35, 40, 15, 0),
    "praise": (0, 0, 2, 28, 70),
    "neutral": (2, 10, 50, 33, 5),
}
_MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)
_PRODUCT_KEYS = tuple(ph.PRODUCT_WEIGHTS)
_PRODUCT_CUM = tuple(accumulate(ph.PRODUCT_WEIGHTS.values()))


class Slots(dict[str, str]):
    """Placeholder values for one comment, each drawn the first time a phrase uses it."""

    def __init__(self, rng: Random, product: str, when: int, foreign: bool) -> None:
        super().__init__()
        self.rng = rng
        self.product = product
        self.when = when
        self.foreign = foreign

    def __missing__(self, key: str) -> str:
        value = self._draw(key)
        self[key] = value
        return value

    def _draw(self, key: str) -> str:
        rng = self.rng
        if key == "device":
            device = self.product if self.product in ph.DEVICES else rng.choice(ph.DEVICES)
            names = ph.DEVICE_NAMES[device]
            return names[0] if self.foreign else rng.choice(names)
        if key == "month":
            ago = datetime.fromtimestamp(self.when, UTC) - timedelta(days=rng.randint(20, 75))
            return _MONTHS[ago.month - 1]
        draws: dict[str, Callable[[], str]] = {
            "days": lambda: str(rng.randint(6, 35)),
            "late_days": lambda: str(rng.randint(2, 9)),
            "weeks": lambda: rng.choice(ph.WEEKS),
            "n": lambda: str(rng.randint(3, 5)),
            "amount": lambda: "€" + rng.choice(ph.AMOUNTS),
            "weekday": lambda: rng.choice(ph.WEEKDAYS),
            "order": lambda: f"#{rng.randint(1_000_000, 9_999_999)}",
            "code": lambda: rng.choice(ph.PROMO_CODES),
            "name": lambda: rng.choice(ph.NAMES),
        }
        return draws[key]()


class Comment(NamedTuple):
    """One comment's text and what it really is, before a channel renders it as a record.

    Attributes:
        sentences: The sentences as written (typos included).
        pain: The pain sentence as written, or empty for praise and neutral notes.
        planted: The planted hassle's key, or empty.
        sentiment: ``complaint``, ``praise`` or ``neutral``.
        stage: Customer-journey stage of a complaint, or empty.
        theme: Kind of pain of a complaint, or empty.
        language: Language code (``en``, ``es``, ...).
        rating: Star rating, 1 to 5.
        severity: Hassle severity, ``medium`` for one-offs, or the sentiment for the others.
        product: Product key (``hub``, ``cam``, ...).
        slots: The placeholder values drawn so far; subjects and sign-offs reuse them.
    """

    sentences: list[str]
    pain: str
    planted: str
    sentiment: str
    stage: str
    theme: str
    language: str
    rating: int
    severity: str
    product: str
    slots: Slots


class _Style(NamedTuple):
    context: float
    outcome: float
    mixed: float
    more_praise: float


_STYLES: dict[str, _Style] = {
    "review": _Style(context=0.35, outcome=0.55, mixed=0.12, more_praise=0.5),
    "ticket": _Style(context=0.6, outcome=0.3, mixed=0.05, more_praise=0.2),
    "survey": _Style(context=0.15, outcome=0.35, mixed=0.12, more_praise=0.35),
}


def _fits(hint: str, product: str) -> bool:
    return hint in ("any", product) or (hint == "device" and product in ph.DEVICES)


_CONTEXT_BY_PRODUCT: dict[str, tuple[str, ...]] = {
    p: tuple(text for hint, text in ph.CONTEXT if _fits(hint, p)) for p in ph.PRODUCTS
}


def _product_for(rng: Random, hint: str) -> str:
    if hint == "device":
        return rng.choice(ph.DEVICES)
    if hint == "any":
        return _PRODUCT_KEYS[pick(rng, _PRODUCT_CUM)]
    return hint


def _rating(rng: Random, severity: str, mixed: bool = False) -> int:
    rating = rng.choices((1, 2, 3, 4, 5), weights=_RATING_WEIGHTS[severity])[0]
    return min(5, rating + 1) if mixed and rng.random() < 0.5 else rating


def _finish(
    rng: Random, templates: list[str], pain_at: int, slots: Slots, complaint: bool
) -> tuple[list[str], str]:
    """Fill placeholders, add typos; return the sentences and the pain sentence as written."""
    level = draw_noise_level(rng)
    sentences = [add_typos(rng, t.format_map(slots), level, complaint) for t in templates]
    return sentences, sentences[pain_at] if pain_at >= 0 else ""


def compose_comment(rng: Random, kind: str, language: str, when: int, channel: str) -> Comment:
    """Compose a comment of ``kind`` in ``language``, written at ``when`` in ``channel``.

    A foreign-language comment falls back to English when no phrase bank speaks its hassle.
    """
    if language != "en":
        foreign = _compose_foreign(rng, kind, language, when)
        if foreign is not None:
            return foreign
    if kind in HASSLES:
        return _compose_hassle(rng, kind, when, channel)
    if kind == "oneoff":
        return _compose_oneoff(rng, when, channel)
    return _compose_positive(rng, kind, when, channel)


def _around(
    rng: Random,
    core: str,
    product: str,
    style: _Style,
    severity: str,
    extra_context: tuple[str, ...],
) -> tuple[list[str], int, bool]:
    before: list[str] = []
    after: list[str] = []
    if rng.random() < style.context:
        use_own = extra_context and rng.random() < 0.6
        before.append(rng.choice(extra_context if use_own else _CONTEXT_BY_PRODUCT[product]))
    mixed = rng.random() < style.mixed
    if mixed:
        before.append(rng.choice(ph.MIXED_PRAISE))
    if rng.random() < style.outcome:
        after.append(rng.choice(ph.OUTCOMES[severity]))
    if after and rng.random() < 0.15:
        return [*before, *after, core], len(before) + len(after), mixed
    return [*before, core, *after], len(before), mixed


def _compose_hassle(rng: Random, key: str, when: int, channel: str) -> Comment:
    hassle = HASSLES[key]
    product = rng.choice(hassle.products)
    slots = Slots(rng, product, when, foreign=False)
    pain = rng.choice(ph.PLANTED_PAIN[key])
    templates, pain_at, mixed = _around(
        rng, pain, product, _STYLES[channel], hassle.severity, ph.PLANTED_CONTEXT[key]
    )
    sentences, written = _finish(rng, templates, pain_at, slots, complaint=True)
    rating = _rating(rng, hassle.severity, mixed)
    return Comment(
        sentences,
        written,
        key,
        "complaint",
        hassle.stage,
        hassle.theme,
        "en",
        rating,
        hassle.severity,
        product,
        slots,
    )


def _compose_oneoff(rng: Random, when: int, channel: str) -> Comment:
    stage, theme, hint, text = rng.choice(ph.ONE_OFF_COMPLAINTS)
    product = _product_for(rng, hint)
    slots = Slots(rng, product, when, foreign=False)
    templates, pain_at, mixed = _around(rng, text, product, _STYLES[channel], "medium", ())
    sentences, written = _finish(rng, templates, pain_at, slots, complaint=True)
    rating = _rating(rng, "medium", mixed)
    return Comment(
        sentences, written, "", "complaint", stage, theme, "en", rating, "medium", product, slots
    )


def _compose_positive(rng: Random, kind: str, when: int, channel: str) -> Comment:
    style = _STYLES[channel]
    hint, main = rng.choice(ph.PRAISE if kind == "praise" else ph.NEUTRAL)
    product = _product_for(rng, hint)
    templates = [main]
    if rng.random() < style.context * 0.5:
        templates.insert(0, rng.choice(_CONTEXT_BY_PRODUCT[product]))
    if kind == "praise" and rng.random() < style.more_praise:
        templates.append(rng.choice(ph.GENERAL_PRAISE))
    slots = Slots(rng, product, when, foreign=False)
    sentences, _ = _finish(rng, templates, -1, slots, complaint=False)
    rating = _rating(rng, kind)
    return Comment(sentences, "", "", kind, "", "", "en", rating, kind, product, slots)


def _compose_foreign(rng: Random, kind: str, language: str, when: int) -> Comment | None:
    if kind in HASSLES:
        speaking = [c for c in FOREIGN_CODES if kind in ph.FOREIGN_LANGUAGES[c].planted]
        if not speaking:
            return None
        if language not in speaking:
            language = rng.choice(speaking)
        hassle = HASSLES[kind]
        bank = ph.FOREIGN_LANGUAGES[language]
        product = rng.choice(hassle.products)
        core = rng.choice(bank.planted[kind])
        planted, stage, theme, severity = kind, hassle.stage, hassle.theme, hassle.severity
    elif kind == "oneoff":
        bank = ph.FOREIGN_LANGUAGES[language]
        stage, theme, hint, core = rng.choice(bank.complaints)
        product = _product_for(rng, hint)
        planted, severity = "", "medium"
    else:
        bank = ph.FOREIGN_LANGUAGES[language]
        hint, core = rng.choice(bank.praise if kind == "praise" else bank.neutral)
        product = _product_for(rng, hint)
        slots = Slots(rng, product, when, foreign=True)
        rating = _rating(rng, kind)
        text = core.format_map(slots)
        return Comment([text], "", "", kind, "", "", language, rating, kind, product, slots)
    slots = Slots(rng, product, when, foreign=True)
    pain = core.format_map(slots)
    sentences = [pain]
    if rng.random() < 0.4:
        sentences.append(rng.choice(bank.outcomes))
    rating = _rating(rng, severity)
    return Comment(
        sentences,
        pain,
        planted,
        "complaint",
        stage,
        theme,
        language,
        rating,
        severity,
        product,
        slots,
    )
