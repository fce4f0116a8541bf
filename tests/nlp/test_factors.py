"""The ranking-factor registry: one declaration per factor, looped over by the ranker."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

import pytest

from nlp.evidence import Evidence, Mention
from nlp.factors import FACTORS, Factor, RankWeights, factor, share
from nlp.rank import TransparentRanker
from nlp.registry import Registry

AS_OF = datetime(2026, 3, 1, 12, 0)
BUILT_IN = ("reach", "severity", "repeat", "spread", "trend", "value", "impact")


def mention(hassle: str, comment: str, customer: str, channel: str = "review") -> Mention:
    return Mention(
        hassle, comment, customer, channel, AS_OF - timedelta(days=1), 0.5, None, None, None
    )


def mentions() -> list[Mention]:
    """A: 6 comments from 2 customers; B: 2 comments from 2 customers."""
    ms = [mention("A", f"a{i}", f"ca{i % 2}", ("review", "ticket")[i % 2]) for i in range(6)]
    return ms + [mention("B", f"b{i}", f"cb{i}") for i in range(2)]


def volume(level: Sequence[Evidence]) -> list[float]:
    """Comments, as a share of the most-mentioned hassle's."""
    top = max(e.comments for e in level)
    return [share(e.comments, top) for e in level]


@pytest.fixture
def with_volume() -> Iterator[Factor]:
    added = FACTORS.register(
        Factor("volume", volume, 0.5, detail=lambda e: f"{e.comments} comments")
    )
    try:
        yield added
    finally:
        FACTORS.unregister("volume")


def test_the_built_in_factors_are_registered_once_in_report_order():
    assert FACTORS.names() == BUILT_IN
    assert math.fsum(f.default_weight for f in FACTORS) == pytest.approx(1.0)
    assert all(f.label and f.description and f.colour for f in FACTORS)
    assert FACTORS["repeat"].label == "Repeat contacts"


def test_a_registered_factor_is_scored_weighted_and_explained(with_volume):
    results = {r.hassle_id: r for r in TransparentRanker().rank(mentions(), [], [], as_of=AS_OF)}
    a, b = results["A"], results["B"]
    assert list(a.parts) == ["reach", "severity", "repeat", "spread", "trend", "volume"]
    assert a.parts["volume"] == 1.0 and b.parts["volume"] == pytest.approx(2 / 6)
    # Defaults of the five available built-ins sum to 0.85; volume adds 0.5.
    assert a.weights["volume"] == pytest.approx(0.5 / 1.35)
    for r in (a, b):
        assert r.total == pytest.approx(sum(r.weights[f] * r.parts[f] for f in r.weights))
    assert with_volume.explain(a.evidence) == "6 comments"
    assert with_volume.label == "Volume" and with_volume.description == ""


def test_removing_a_factor_restores_the_ranking(with_volume):
    with_it = TransparentRanker().rank(mentions(), [], [], as_of=AS_OF)
    FACTORS.unregister("volume")
    try:
        without = TransparentRanker().rank(mentions(), [], [], as_of=AS_OF)
    finally:
        FACTORS.register(with_volume)
    assert all("volume" not in r.parts for r in without)
    assert [r.total for r in with_it] != [r.total for r in without]


def test_the_decorator_registers_under_the_function_name_with_its_docstring():
    @factor(weight=0.2, label="Loudness")
    def loudness(level: Sequence[Evidence]) -> list[float]:
        """Mean severity, as it is."""
        return [e.severity_mean for e in level]

    try:
        registered = FACTORS["loudness"]
        assert registered.score is loudness and registered.default_weight == 0.2
        assert registered.description == "Mean severity, as it is."
        assert FACTORS.names()[-1] == "loudness"
    finally:
        FACTORS.unregister("loudness")


def test_a_factor_with_no_data_is_left_out_and_weight_zero_drops_it(with_volume):
    def nothing(level: Sequence[Evidence]) -> None:
        return None

    FACTORS.register(Factor("nothing", nothing, 1.0))
    try:
        [r, *_] = TransparentRanker(RankWeights(volume=0.0)).rank(mentions(), [], [], as_of=AS_OF)
    finally:
        FACTORS.unregister("nothing")
    assert "nothing" not in r.weights and "volume" not in r.weights
    assert math.fsum(r.weights.values()) == pytest.approx(1.0)


def test_weights_default_from_the_registry_and_refuse_unknown_names(with_volume):
    weights = RankWeights({"reach": 1.0}, trend=0.0)
    assert dict(weights) == {
        "reach": 1.0,
        "severity": 0.25,
        "repeat": 0.10,
        "spread": 0.10,
        "trend": 0.0,
        "value": 0.075,
        "impact": 0.075,
        "volume": 0.5,
    }
    with pytest.raises(ValueError, match="unknown ranking factor.*reech.*registered: reach"):
        RankWeights(reech=1.0)
    with pytest.raises(ValueError, match="weight reach must be finite and >= 0"):
        RankWeights(reach=math.nan)


def test_factor_declarations_are_checked():
    with pytest.raises(ValueError, match="lower-case identifier"):
        Factor("Not-A-Name", volume, 0.1)
    with pytest.raises(ValueError, match="weight bad must be finite"):
        Factor("bad", volume, -1.0)
    with pytest.raises(ValueError, match="already registered"):
        FACTORS.register(Factor("reach", volume, 0.1))


def test_a_factor_that_returns_the_wrong_number_of_values_is_refused():
    FACTORS.register(Factor("short", lambda level: [0.5], 0.1))
    try:
        with pytest.raises(ValueError, match="'short' gave 1 values for 2"):
            TransparentRanker().rank(mentions(), [], [], as_of=AS_OF)
    finally:
        FACTORS.unregister("short")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_a_factor_value_that_is_no_finite_number_fails_naming_the_factor_and_hassle(bad):
    """NaN was clipped to 0 (max(0.0, nan) is 0.0): the hassle silently dropped in rank."""
    FACTORS.register(Factor("odd", lambda level: [0.5, bad], 0.1))
    try:
        with pytest.raises(ValueError, match=r"factor 'odd' gave -?(nan|inf) for hassle 'B'"):
            TransparentRanker().rank(mentions(), [], [], as_of=AS_OF)
    finally:
        FACTORS.unregister("odd")


def test_the_registry_keeps_order_and_names_what_is_missing():
    registry: Registry[Factor] = Registry("thing")
    first = registry.register(Factor("b", volume, 0.1))
    registry.register(Factor("a", volume, 0.1))
    assert registry.names() == ("b", "a") and [f.name for f in registry] == ["b", "a"]
    assert "a" in registry and len(registry) == 2 and registry["b"] is first
    replaced = registry.register(Factor("b", volume, 0.3), replace=True)
    assert registry["b"] is replaced and registry.names() == ("b", "a")
    with pytest.raises(KeyError, match="unknown thing 'c'; registered: b, a"):
        registry.unregister("c")


def test_the_trend_is_left_out_when_no_comment_is_older_than_its_windows():
    # Reviews exported without dates (all on one day) or data that starts this week: every
    # hassle read "steady" beside "too new to tell", and the trend took a neutral tenth.
    recent = [AS_OF - timedelta(days=1)] * 8
    ranker = TransparentRanker()
    scores = ranker.rank(
        mentions(), [], [], as_of=AS_OF, history_from=AS_OF - timedelta(days=2), volume=recent
    )
    assert all("trend" not in s.parts and "trend" not in s.weights for s in scores)
    assert FACTORS["trend"].left_out
    # With comments before a window the trend counts: A's six mentions, all this week against
    # none in the 8 comments before, are new (1.0); the 30-day window holds all 16 (0.5).
    older = recent + [AS_OF - timedelta(days=20)] * 8
    scores = {s.hassle_id: s for s in ranker.rank(mentions(), [], [], as_of=AS_OF, volume=older)}
    assert scores["A"].trend_label == "new" and scores["A"].parts["trend"] == 0.75


def test_every_factor_that_can_be_left_out_says_why():
    evidence = {
        r.hassle_id: r.evidence
        for r in TransparentRanker().rank(
            [mention("A", "a1", None), mention("A", "a2", None)], [], [], as_of=AS_OF
        )
    }
    level = list(evidence.values())
    for f in FACTORS:
        if f.score(level) is None:
            assert f.left_out, f.name
