import math
import random
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from nlp.factors import FACTORS
from nlp.rank import (
    HassleInfo,
    HassleScore,
    LevelRanking,
    Mention,
    RankWeights,
    ScoredComment,
    TransparentRanker,
    Trend,
    TrendSettings,
    csat,
    nps,
    rank_levels,
    trend_test,
)

AS_OF = datetime(2026, 3, 1, 12, 0)
DEFAULT_WEIGHTS = {
    "reach": 0.30,
    "severity": 0.25,
    "repeat": 0.10,
    "spread": 0.10,
    "trend": 0.10,
    "value": 0.075,
    "impact": 0.075,
}


def window_part(trend):
    """The documented per-window trend part."""
    if trend.label == "new":
        return 1.0
    if trend.label == "rising":
        return 0.5 + 0.5 * min(1.0, math.log2(trend.ratio) / 2)
    if trend.label == "falling":
        return 0.5 - 0.5 * min(1.0, -math.log2(trend.ratio) / 2) if trend.ratio > 0 else 0.0
    return 0.5


def trend_part(score):
    """The trend part: the mean of the 7-day and the 30-day window parts."""
    return (window_part(score.trend_7d) + window_part(score.trend_30d)) / 2


def mention(
    hassle,
    comment,
    customer,
    *,
    channel="review",
    days_ago=1.0,
    severity=0.5,
    score=None,
    score_kind=None,
    value=None,
):
    return Mention(
        hassle_id=hassle,
        comment_id=comment,
        customer_id=customer,
        channel=channel,
        created_at=AS_OF - timedelta(days=days_ago),
        severity=severity,
        score=score,
        score_kind=score_kind,
        customer_value=value,
    )


def info(hassle, specificity=0.8, parent=None):
    return HassleInfo(hassle_id=hassle, specificity=specificity, parent_id=parent)


def by_id(results):
    return {r.hassle_id: r for r in results}


CHANNELS = ("review", "ticket", "survey")


def series(hassle, n, *, first, step, channels=("review",), severity=0.5):
    """``n`` mentions of ``hassle`` by as many customers, ``step`` days apart from ``first``
    days ago, written in ``channels`` in turn."""
    key = hassle.lower()
    return [
        mention(
            hassle,
            f"{key}{i}",
            f"c{key}{i}",
            channel=channels[i % len(channels)],
            days_ago=first + step * i,
            severity=severity,
        )
        for i in range(n)
    ]


def scenario():
    """A: many customers, severe, steady. B: fewer, mild. C: growing. D: generic, biggest."""
    # A: 4 in the last 7 days, 16 in the 28 before: steady.
    ms = series("A", 20, first=0.5, step=1.75, channels=CHANNELS, severity=0.875)
    ms += series("B", 6, first=10, step=1, severity=0.375)
    # C: 15 in the last 7 days, against 2 in the 28 days before.
    ms += series("C", 15, first=0.2, step=0.4, channels=CHANNELS[:2], severity=0.625)
    for i, days in enumerate((10, 20)):
        ms.append(mention("C", f"cold{i}", f"cco{i}", channel="review", days_ago=days))
    ms += series("D", 40, first=0.5, step=0.85, channels=CHANNELS)
    hassles = [info("A", 0.8), info("B", 0.6), info("C", 0.5)]
    hassles.append(info("D", specificity=0.1))
    return ms, hassles


@pytest.fixture
def ranked():
    ms, hassles = scenario()
    return by_id(TransparentRanker().rank(ms, hassles, [], as_of=AS_OF))


# --- nps / csat ----------------------------------------------------------------------------


def test_nps_known_inputs():
    assert nps([10, 9, 0, 5]) == pytest.approx(0.0)
    assert nps([10, 10, 0]) == pytest.approx(100 / 3)
    assert nps([9, 9, 9]) == pytest.approx(100.0)
    assert nps([0, 6]) == pytest.approx(-100.0)
    assert nps([7, 8]) == pytest.approx(0.0)  # passives only


def test_csat_known_inputs():
    assert csat([5, 4, 3, 1]) == pytest.approx(50.0)
    assert csat([5]) == pytest.approx(100.0)
    assert csat([1, 2, 3]) == pytest.approx(0.0)


@pytest.mark.parametrize(
    ("fn", "scores"), [(nps, []), (nps, [11]), (nps, [-1]), (csat, []), (csat, [0]), (csat, [6])]
)
def test_scores_reject_empty_and_out_of_range(fn, scores):
    with pytest.raises(ValueError):
        fn(scores)


# --- trend_test ----------------------------------------------------------------------------


def test_two_to_four_is_steady_not_plus_100_percent():
    t = trend_test(4, 2, 7, 7, TrendSettings())
    assert t.ratio == pytest.approx(2.0)
    assert t.p_value == pytest.approx(0.6875)
    assert t.label == "steady"


def test_four_this_week_against_two_a_week_before_is_steady_with_default_windows():
    # 4 in the last 7 days, 8 in the 28 before (2 a week): ratio 2, p ~ 0.27.
    t = trend_test(4, 8, 7, 28, TrendSettings())
    assert t.ratio == pytest.approx(2.0)
    assert t.p_value > 0.05
    assert t.label == "steady"


@pytest.mark.parametrize(
    ("counts", "ratio", "p_below", "rising_with"),
    [
        # 3 in one day against 1 in the 100 before: ratio 300 and p < 1e-4, but n = 4 < 5.
        pytest.param((3, 1, 1, 100), 300.0, 1e-4, {"min_mentions": 4}, id="too-few-mentions"),
        # 1,200 vs 4,000 per 28 days: ratio 1.2, very significant, below min_change 0.25.
        pytest.param((1200, 4000, 7, 28), 1.2, 1e-6, {"min_change": 0.1}, id="small-change"),
    ],
)
def test_a_significant_change_is_steady_with_too_few_mentions_or_too_small_a_change(
    counts, ratio, p_below, rising_with
):
    t = trend_test(*counts, TrendSettings())
    assert t.ratio == pytest.approx(ratio)
    assert t.p_value < p_below
    assert t.label == "steady"
    assert trend_test(*counts, TrendSettings(**rising_with)).label == "rising"


def test_none_this_week_against_forty_before_is_falling():
    assert trend_test(0, 40, 7, 28, TrendSettings()).label == "falling"


def test_zero_baseline_with_enough_mentions_is_new():
    t = trend_test(6, 0, 7, 28, TrendSettings())
    assert t.label == "new"
    assert t.ratio is None
    assert t.p_value == pytest.approx(0.2**6)
    assert trend_test(4, 0, 7, 28, TrendSettings()).label == "steady"  # below min_mentions


def test_no_mentions_at_all():
    assert trend_test(0, 0, 7, 28, TrendSettings()) == Trend(0, 0, None, None, "steady")


def test_trend_test_rejects_bad_input():
    with pytest.raises(ValueError):
        trend_test(-1, 3, 7, 28, TrendSettings())
    with pytest.raises(ValueError):
        trend_test(1, 3, 0, 28, TrendSettings())


# --- ranking -------------------------------------------------------------------------------


def test_many_severe_customers_rank_above_few_mild(ranked):
    a, b = ranked["A"], ranked["B"]
    assert a.customers == 20 and b.customers == 6
    assert a.rank < b.rank
    assert a.parts["reach"] > b.parts["reach"]
    assert a.parts["severity"] > b.parts["severity"]


def test_generic_ranks_last_despite_most_mentions(ranked):
    d = ranked["D"]
    assert d.generic
    assert d.comments == max(r.comments for r in ranked.values())
    assert d.parts["reach"] == 1.0
    assert d.total > ranked["B"].total  # it would outrank B on score alone ...
    assert d.rank == len(ranked)  # ... but generic hassles come after all others
    assert not any(r.generic for r in ranked.values() if r.hassle_id != "D")


def test_growing_hassle_is_rising(ranked):
    c = ranked["C"]
    assert c.trend_7d.recent == 15 and c.trend_7d.baseline == 2
    assert c.trend_7d.label == "rising"
    assert c.trend_7d.p_value < 0.05
    assert c.trend_7d.ratio == pytest.approx((15 / 7) / (2 / 28))
    assert window_part(c.trend_7d) == 1.0  # ratio >= 4 saturates
    assert c.parts["trend"] == pytest.approx(trend_part(c))
    assert c.trend_label in ("rising", "new")  # nothing 30-90 days ago: the 30-day window is new
    a = ranked["A"]
    assert (a.trend_7d.recent, a.trend_7d.baseline, a.trend_7d.label) == (4, 16, "steady")
    assert a.parts["trend"] == pytest.approx(trend_part(a))


def test_trend_parts_for_moderate_rise_falling_and_new():
    ms = []
    # R: 40 in the last 7 days vs 80 in the 28 before: ratio 2 -> 0.5 + 0.5 * 1/2 = 0.75.
    ms += [mention("R", f"r{i}", f"u{i}", days_ago=0.1 + 0.15 * i) for i in range(40)]
    ms += [mention("R", f"rb{i}", f"v{i}", days_ago=7.1 + 0.3 * i) for i in range(80)]
    # F: 2 in the last 7 days vs 40 before: ratio 0.2 -> falling, saturates at 0.
    ms += [mention("F", f"f{i}", f"w{i}", days_ago=1 + i) for i in range(2)]
    ms += [mention("F", f"fb{i}", f"x{i}", days_ago=7.5 + 0.6 * i) for i in range(40)]
    # N: 6 in the last 7 days, none before.
    ms += [mention("N", f"n{i}", f"y{i}", days_ago=1 + i) for i in range(6)]
    res = by_id(TransparentRanker().rank(ms, [], [], as_of=AS_OF))
    assert res["R"].trend_7d.label == "rising"
    assert window_part(res["R"].trend_7d) == pytest.approx(0.75)
    assert res["R"].parts["trend"] == pytest.approx(trend_part(res["R"]))
    assert res["F"].trend_7d.label == "falling"
    assert window_part(res["F"].trend_7d) == pytest.approx(0.0)
    assert res["F"].parts["trend"] == pytest.approx(trend_part(res["F"]))
    assert res["N"].trend_7d.label == "new"
    assert res["N"].parts["trend"] == pytest.approx(trend_part(res["N"]))
    assert res["N"].trend_label == "new"


def test_two_to_four_in_the_ranker_is_steady():
    settings = TrendSettings(short_days=7, baseline_days=7)
    ms = [mention("H", f"r{i}", f"u{i}", days_ago=1 + i) for i in range(4)]
    ms += [mention("H", f"b{i}", f"v{i}", days_ago=8 + i) for i in range(2)]
    (h,) = TransparentRanker(trend=settings).rank(ms, [], [], as_of=AS_OF)
    assert (h.trend_7d.recent, h.trend_7d.baseline) == (4, 2)
    assert h.trend_7d.label == "steady"
    assert window_part(h.trend_7d) == 0.5
    assert h.parts["trend"] == pytest.approx(trend_part(h))


def test_thirty_day_trend_counts_half_of_the_trend_part():
    # 9 in the last 30 days, 3 in the 60 before; nothing at all in the last 7 days.
    ms = [mention("H", f"r{i}", f"u{i}", days_ago=10 + 2 * i) for i in range(9)]
    ms += [mention("H", f"b{i}", f"v{i}", days_ago=40 + 10 * i) for i in range(3)]
    ms += [mention("H", "old", "w", days_ago=100)]  # outside both 30-day windows
    (h,) = TransparentRanker().rank(ms, [], [], as_of=AS_OF)
    assert (h.trend_30d.recent, h.trend_30d.baseline) == (9, 3)
    assert h.trend_30d.ratio == pytest.approx((9 / 30) / (3 / 60))
    assert h.trend_30d.label == "rising"
    assert h.trend_7d.recent == 0
    assert h.trend_7d.label == "steady"
    # A climb over the month that a week-on-week view misses still lifts the trend part.
    assert h.parts["trend"] == pytest.approx((0.5 + window_part(h.trend_30d)) / 2)
    assert h.parts["trend"] > 0.5
    assert h.trend_label == "rising"


def test_mentions_after_as_of_are_left_out_of_the_trend():
    ms = [mention("H", f"f{i}", f"u{i}", days_ago=-1 - i) for i in range(10)]
    (h,) = TransparentRanker().rank(ms, [], [], as_of=AS_OF)
    assert h.comments == 10
    assert h.trend_7d.recent == 0 and h.trend_30d.recent == 0


def test_mentions_before_counted_from_count_only_in_the_trends():
    # 10 a month in the last 30 days and in the 60 before: steady. A cut at 30 days keeps the
    # earlier 20 as the trend's comparison period, and counts only the last 30 days' 10.
    ms = [mention("H", f"r{i}", f"u{i}", days_ago=1 + 2.9 * i, severity=0.2) for i in range(10)]
    ms += [
        mention("H", f"b{i}", f"v{i}", channel="ticket", days_ago=31 + 2.9 * i, severity=0.9)
        for i in range(20)
    ]
    scored = [ScoredComment("b0", 0, "nps"), ScoredComment("r0", 10, "nps")]
    (h,) = TransparentRanker().rank(
        ms, [], scored, as_of=AS_OF, counted_from=AS_OF - timedelta(days=30)
    )
    assert (h.trend_30d.recent, h.trend_30d.baseline) == (10, 20)
    assert h.trend_30d.label == "steady" and h.trend_label == "steady"
    assert (h.customers, h.comments, h.repeat_customers) == (10, 10, 0)
    assert h.severity_mean == pytest.approx(0.2) and h.channels == {"review": 10}
    assert [m.comment_id for m in h.evidence.mentions] == [f"r{i}" for i in range(10)]


def test_a_hassle_mentioned_only_before_counted_from_is_not_ranked():
    ms = [mention("A", f"a{i}", f"u{i}", days_ago=1 + i) for i in range(5)]
    ms += [mention("B", f"b{i}", f"v{i}", days_ago=40 + i) for i in range(5)]
    res = TransparentRanker().rank(ms, [], [], as_of=AS_OF, counted_from=AS_OF - timedelta(days=30))
    assert [r.hassle_id for r in res] == ["A"]


def _rank_under_p(ms, children, *, counted_days: int) -> LevelRanking:
    """``children`` under one parent P, ranked counting the last ``counted_days`` days."""
    return rank_levels(
        TransparentRanker(),
        ms,
        children,
        [info("P")],
        [],
        as_of=AS_OF,
        counted_from=AS_OF - timedelta(days=counted_days),
    )


def test_rank_levels_passes_counted_from_to_both_levels():
    # Each child: 10 in the last 30 days and 20 in the 60 before, so steady; the parent too.
    ms = []
    for child in ("C1", "C2"):
        ms += [
            mention(child, f"{child}r{i}", f"{child}u{i}", days_ago=1 + 2.9 * i) for i in range(10)
        ]
        ms += [
            mention(child, f"{child}b{i}", f"{child}v{i}", days_ago=31 + 2.9 * i) for i in range(20)
        ]
    ranked = _rank_under_p(ms, [info("C1", parent="P"), info("C2", parent="P")], counted_days=30)
    (parent,) = ranked.parents
    assert (parent.customers, parent.trend_30d.baseline, parent.trend_label) == (20, 40, "steady")
    assert [(c.customers, c.trend_30d.baseline) for c in ranked.children] == [(10, 20)] * 2


def test_a_child_mentioned_only_before_counted_from_still_weighs_in_its_parents_trend():
    # Child A: 60 mentions 31-50 days back, none since; child B: 12 in the last 14 days. Only
    # B is ranked, but A's mentions are the parent's 30-day baseline: falling, not "new".
    ms = [mention("A", f"a{i}", f"u{i}", days_ago=31 + i / 3) for i in range(60)]
    ms += [mention("B", f"b{i}", f"v{i}", days_ago=0.5 + i) for i in range(12)]

    ranked = _rank_under_p(ms, [info("A", parent="P"), info("B", parent="P")], counted_days=14)

    assert [c.hassle_id for c in ranked.children] == ["B"]
    (parent,) = ranked.parents
    assert (parent.trend_30d.recent, parent.trend_30d.baseline) == (12, 60)
    assert parent.trend_30d.label == "falling" and parent.customers == 12


def test_a_comparison_period_before_history_from_is_cut_to_the_days_with_data():
    # One a day for the 40 days the data holds: the 30-day trend compares 30 with the 10
    # days before (not with 60 days, 50 of which hold no data), and 7 days of data are none.
    ms = [mention("H", f"m{i}", f"u{i}", days_ago=0.5 + i) for i in range(40)]
    ranker = TransparentRanker()
    (h,) = ranker.rank(ms, [], [], as_of=AS_OF, history_from=AS_OF - timedelta(days=40))
    assert (h.trend_30d.recent, h.trend_30d.baseline) == (30, 10)
    assert h.trend_30d.ratio == pytest.approx(1.0)
    assert h.trend_label == "steady" and h.parts["trend"] == 0.5
    (short,) = ranker.rank(ms[:7], [], [], as_of=AS_OF, history_from=AS_OF - timedelta(days=7))
    assert short.trend_30d == Trend(recent=7, baseline=0, ratio=None, p_value=None, label="steady")


def test_weights_sum_to_one_and_drop_value_and_impact_when_absent(ranked):
    for r in ranked.values():
        assert set(r.weights) == set(r.parts) == {"reach", "severity", "repeat", "spread", "trend"}
        assert math.fsum(r.weights.values()) == pytest.approx(1.0)
        assert r.weights["reach"] == pytest.approx(0.30 / 0.85)
        assert r.value_at_risk is None
        assert r.nps_impact is None and r.csat_impact is None


def test_repeat_is_left_out_when_no_comment_carries_a_customer_id():
    # Each comment is then a customer of its own: "0 of N raised it again" says nothing.
    anonymous = [mention("H", str(n), None, channel=("review", "ticket")[n % 2]) for n in range(6)]
    (r,) = TransparentRanker().rank(anonymous, [], [], as_of=AS_OF)
    assert "repeat" not in r.weights and "repeat" not in r.parts
    assert math.fsum(r.weights.values()) == pytest.approx(1.0)
    (known,) = TransparentRanker().rank([*anonymous, mention("H", "9", "u1")], [], [], as_of=AS_OF)
    assert "repeat" in known.weights


def test_all_components_used_when_value_and_scores_exist():
    ms = [mention("H", "1", "u1", value=10.0)]
    ms += [mention("G", "2", "u2", channel="ticket", value=1.0)]
    scored = [ScoredComment("1", 3, "nps")]
    res = TransparentRanker().rank(ms, [], scored, as_of=AS_OF)
    for r in res:
        assert r.weights == pytest.approx(DEFAULT_WEIGHTS)
        assert set(r.parts) == set(DEFAULT_WEIGHTS)


def test_zero_weight_component_is_left_out():
    ms, hassles = scenario()
    res = TransparentRanker(RankWeights(trend=0.0)).rank(ms, hassles, [], as_of=AS_OF)
    for r in res:
        assert "trend" not in r.weights and "trend" not in r.parts
        assert math.fsum(r.weights.values()) == pytest.approx(1.0)


def test_parts_in_unit_interval_and_total_is_weighted_sum():
    ms, hassles = scenario()
    ms += [mention("A", "a0", "ca0", value=50.0), mention("B", "bv", "cb0", value=20.0)]
    scored = [ScoredComment("a1", 0, "nps"), ScoredComment("x", 10, "nps")]
    scored += [ScoredComment("b1", 2, "csat"), ScoredComment("y", 5, "csat")]
    res = TransparentRanker().rank(ms, hassles, scored, as_of=AS_OF)
    for r in res:
        assert all(0.0 <= v <= 1.0 for v in r.parts.values()), r.parts
        expected = sum(r.weights[c] * r.parts[c] for c in r.weights)
        assert r.total == pytest.approx(expected, abs=1e-12)
        assert 0.0 <= r.total <= 1.0


def test_severity_is_half_mean_half_p90():
    sev = [0.1, 0.2, 0.3, 0.9, 1.0]
    ms = [mention("H", f"m{i}", f"u{i}", severity=s) for i, s in enumerate(sev)]
    (h,) = TransparentRanker().rank(ms, [], [], as_of=AS_OF)
    assert h.severity_mean == pytest.approx(np.mean(sev))
    assert h.severity_p90 == pytest.approx(np.percentile(sev, 90))
    assert h.parts["severity"] == pytest.approx(0.5 * np.mean(sev) + 0.5 * np.percentile(sev, 90))


def test_repeat_customers_twice_or_in_two_channels_anonymous_never():
    ms = [
        mention("H", "1", "twice"),
        mention("H", "2", "twice"),
        mention("H", "3", "two-channels", channel="review"),
        mention("H", "4", "two-channels", channel="ticket"),
        mention("H", "5", "once"),
        mention("H", "6", None),
        mention("H", "7", None),
    ]
    (h,) = TransparentRanker().rank(ms, [], [], as_of=AS_OF)
    assert h.comments == 7
    assert h.customers == 5  # twice, two-channels, once, and two anonymous
    assert h.repeat_customers == 2
    # Of the 3 customers with an id, 2 raised it again; the anonymous can't be seen to.
    assert h.parts["repeat"] == pytest.approx(2 / 3)
    assert FACTORS["repeat"].explain(h.evidence) == (
        "2 of 3 customers raised it again (2 without a customer id not counted)"
    )


def test_a_comment_counts_once_per_hassle():
    ms = [mention("H", "1", "u", severity=0.2), mention("H", "1", "u", severity=0.6)]
    (h,) = TransparentRanker().rank(ms, [], [], as_of=AS_OF)
    assert h.comments == 1 and h.repeat_customers == 0
    assert h.severity_mean == pytest.approx(0.6)


def test_reach_is_linear_share_of_the_biggest():
    ms = [mention("BIG", f"b{i}", f"u{i}") for i in range(10)]
    ms += [mention("SMALL", f"s{i}", f"v{i}") for i in range(4)]
    ms += [mention("SMALL", f"s2{i}", f"v{i}") for i in range(4)]  # same 4 customers again
    res = by_id(TransparentRanker().rank(ms, [], [], as_of=AS_OF))
    assert res["BIG"].parts["reach"] == 1.0
    assert res["SMALL"].parts["reach"] == pytest.approx(0.4)
    assert res["SMALL"].comments == 8


def test_spread_counts_channels_with_enough_mentions():
    ms = []
    # X: review 10, ticket 1 (fewer than 2): 1 of 3 channels.
    ms += [mention("X", f"x{i}", f"u{i}", channel="review") for i in range(10)]
    ms += [mention("X", "xt", "u0", channel="ticket")]
    # Y: review 40, ticket 2 (2/42 < 5%): 1 of 3.
    ms += [mention("Y", f"y{i}", f"v{i}", channel="review") for i in range(40)]
    ms += [mention("Y", f"yt{i}", f"v{i}", channel="ticket") for i in range(2)]
    # Z: 2 in each of the three channels: every silo.
    ms += [mention("Z", f"z{c}{i}", f"w{i}", channel=c) for c in CHANNELS for i in range(2)]
    # W: review 3, survey 2: 2 of 3.
    ms += [mention("W", f"w{i}", f"q{i}", channel="review") for i in range(3)]
    ms += [mention("W", f"ws{i}", f"q{i}", channel="survey") for i in range(2)]
    res = by_id(TransparentRanker().rank(ms, [], [], as_of=AS_OF))
    assert res["X"].parts["spread"] == pytest.approx(1 / 3)
    assert res["X"].channels == {"review": 10, "ticket": 1}
    assert res["Y"].parts["spread"] == pytest.approx(1 / 3)
    assert res["Z"].parts["spread"] == 1.0
    assert res["W"].parts["spread"] == pytest.approx(2 / 3)


def test_spread_is_left_out_when_the_data_has_one_channel():
    # On a one-channel install every hassle is "in every channel": spread would add the same
    # points to each and be given as a reason for all of them.
    ms = [mention("A", f"a{i}", f"u{i}", channel="social") for i in range(6)]
    ms += [mention("B", f"b{i}", f"v{i}", channel="social") for i in range(3)]
    for h in TransparentRanker().rank(ms, [], [], as_of=AS_OF):
        assert "spread" not in h.parts and "spread" not in h.weights
        assert math.fsum(h.weights.values()) == pytest.approx(1.0)


def test_value_at_risk_counts_each_customer_once():
    ms = [mention("H", f"m{i}", "rich", value=1000.0) for i in range(3)]
    ms += [mention("H", "m3", "rich", value=800.0)]  # a customer counts at its highest value
    ms += [mention("H", "p", "poor", value=10.0)]
    ms += [mention("H", "q", "unknown")]  # no value: adds nothing
    ms += [mention("H", "anon1", None, value=5.0), mention("H", "anon2", None, value=5.0)]
    ms += [mention("G", "g", "poor", value=10.0)]
    res = by_id(TransparentRanker().rank(ms, [], [], as_of=AS_OF))
    assert res["H"].value_at_risk == pytest.approx(1000 + 10 + 5 + 5)
    assert res["G"].value_at_risk == pytest.approx(10.0)
    assert res["H"].parts["value"] == 1.0
    assert res["G"].parts["value"] == pytest.approx(10 / 1020)


def test_value_at_risk_is_unknown_for_a_hassle_none_of_whose_customers_has_a_value():
    # In a warehouse where only the tweets carry a plan value, a hotel review's hassle read
    # "0 customer value": an analyst could not tell customers worth 0 from value unknown.
    ms = [mention("H", "1", "u", value=5.0), mention("G", "2", "v")]
    ms += [mention("Z", "3", "w", value=0.0)]
    res = by_id(TransparentRanker().rank(ms, [], [], as_of=AS_OF))
    assert res["G"].value_at_risk is None and res["Z"].value_at_risk == 0.0
    assert FACTORS["value"].explain(res["G"].evidence) == "n/a"
    # Unknown is left out of G's score (its weight shared among G's other parts), not 0.
    assert "value" not in res["G"].parts and "value" not in res["G"].weights
    assert math.fsum(res["G"].weights.values()) == pytest.approx(1.0)
    assert res["Z"].parts["value"] == 0.0 and "value" in res["Z"].weights


def test_repeat_is_left_out_of_a_hassle_whose_comments_carry_no_customer_id():
    # Hotel reviews beside tweets: every hotel hassle read "0 of 126 customers raised it
    # again" and lost a tenth of its score to its source, not to anything it measured.
    tweets = [mention("T", f"t{i}", f"u{i % 3}", channel="social") for i in range(6)]
    hotel = [mention("R", f"r{i}", None) for i in range(6)]
    res = by_id(TransparentRanker().rank(tweets + hotel, [], [], as_of=AS_OF))
    assert res["T"].parts["repeat"] == 1.0 and "repeat" in res["T"].weights
    assert "repeat" not in res["R"].parts and "repeat" not in res["R"].weights
    # R scores its own parts, and more than with a repeat part of 0 at the level's weights.
    assert res["R"].total == pytest.approx(
        math.fsum(w * res["R"].parts[n] for n, w in res["R"].weights.items())
    )
    as_zero = math.fsum(w * res["R"].parts.get(n, 0.0) for n, w in res["T"].weights.items())
    assert res["R"].total > as_zero


def test_nps_impact_positive_when_the_hassles_comments_are_detractors():
    ms = [mention("BAD", f"bad{i}", f"u{i}", score=0, score_kind="nps") for i in range(4)]
    ms += [mention("GOOD", f"good{i}", f"v{i}", score=10, score_kind="nps") for i in range(2)]
    ms += [mention("NONE", "other", "w")]
    scores = {f"bad{i}": 0 for i in range(4)}
    scores |= {f"good{i}": 10 for i in range(2)}
    scores |= {f"p{i}": 9 for i in range(4)}  # scored comments in no hassle
    scored = [ScoredComment(cid, s, "nps") for cid, s in scores.items()]
    res = by_id(TransparentRanker().rank(ms, [], scored, as_of=AS_OF))
    everyone = nps(list(scores.values()))  # 6 promoters, 4 detractors: +20
    assert everyone == pytest.approx(20.0)
    assert res["BAD"].nps_impact == pytest.approx(nps([10, 10, 9, 9, 9, 9]) - everyone)  # +80
    assert res["BAD"].nps_impact > 0
    assert res["GOOD"].nps_impact < 0
    assert res["NONE"].nps_impact == pytest.approx(0.0)
    assert res["BAD"].csat_impact is None  # no CSAT data
    assert res["BAD"].parts["impact"] == 1.0
    assert res["GOOD"].parts["impact"] == 0.0
    assert res["NONE"].parts["impact"] == 0.0
    # The score part's evidence says the sign as it is: a hassle of promoters costs NPS points.
    impact = FACTORS["impact"]
    assert impact.explain(res["BAD"].evidence) == "NPS +80.0 without it"
    assert impact.explain(res["GOOD"].evidence).startswith("NPS -")
    assert impact.explain(res["NONE"].evidence) == "NPS 0.0 without it"


def test_impact_averages_normalised_nps_and_csat():
    ms = [
        mention("N", "n1", "u1"),  # an NPS detractor
        mention("C", "c1", "u2"),  # a CSAT 1
        mention("C", "c2", "u3"),  # another CSAT 1
        mention("B", "n1", "u1"),  # both
        mention("B", "c1", "u2"),
    ]
    scored = [ScoredComment("n1", 0, "nps"), ScoredComment("n2", 10, "nps")]
    scored += [ScoredComment("c1", 1, "csat"), ScoredComment("c2", 1, "csat")]
    scored += [ScoredComment(f"c{i}", 5, "csat") for i in range(3, 6)]
    res = by_id(TransparentRanker().rank(ms, [], scored, as_of=AS_OF))
    # NPS: all {0, 10} = 0; without n1 = 100. CSAT: all 3/5 = 60; without c1,c2 = 100;
    # without c1 = 75.
    assert res["N"].nps_impact == pytest.approx(100.0)
    assert res["C"].csat_impact == pytest.approx(40.0)
    assert res["B"].csat_impact == pytest.approx(15.0)
    assert res["N"].parts["impact"] == pytest.approx((1.0 + 0.0) / 2)
    assert res["C"].parts["impact"] == pytest.approx((0.0 + 1.0) / 2)
    assert res["B"].parts["impact"] == pytest.approx((1.0 + 15 / 40) / 2)


def test_impact_is_none_when_a_hassle_holds_every_nps_comment():
    ms = [mention("H", "1", "u"), mention("H", "2", "v"), mention("G", "3", "w")]
    scored = [ScoredComment("1", 0, "nps"), ScoredComment("2", 10, "nps")]
    res = by_id(TransparentRanker().rank(ms, [], scored, as_of=AS_OF))
    assert res["H"].nps_impact is None
    assert res["H"].parts["impact"] == 0.0
    assert res["G"].nps_impact == pytest.approx(0.0)


def test_ranks_are_one_to_n_and_ties_broken_by_hassle_id():
    ms = [mention(h, f"{h}{i}", f"{h}u{i}") for h in ("b", "a", "c") for i in range(3)]
    res = TransparentRanker().rank(ms, [], [], as_of=AS_OF)
    assert [r.rank for r in res] == [1, 2, 3]
    assert [r.hassle_id for r in res] == ["a", "b", "c"]
    assert len({r.total for r in res}) == 1


def test_hassle_without_mentions_is_ranked_with_zero_counts():
    ms, hassles = scenario()
    res = by_id(TransparentRanker().rank(ms, [*hassles, info("EMPTY")], [], as_of=AS_OF))
    e = res["EMPTY"]
    assert (e.customers, e.comments, e.channels) == (0, 0, {})
    assert e.parts["reach"] == 0.0 and e.parts["severity"] == 0.0
    assert e.rank == 4  # last of the non-generic, before D
    assert res["D"].rank == 5


def test_min_specificity_controls_generic():
    ms, hassles = scenario()
    res = by_id(TransparentRanker(min_specificity=0.1).rank(ms, hassles, [], as_of=AS_OF))
    assert not res["D"].generic  # 0.1 is not below 0.1
    assert res["D"].rank == 1  # the biggest hassle, once it counts as specific
    res = by_id(TransparentRanker(min_specificity=0.65).rank(ms, hassles, [], as_of=AS_OF))
    assert [h for h in "ABCD" if res[h].generic] == ["B", "C", "D"]


def test_generic_comes_from_specificity_not_from_the_taxonomy():
    """A specific hassle the taxonomy does not know is not generic; a vague one is."""
    ms = [mention(h, f"{h}{i}", f"{h}u{i}") for h in ("shuffle", "meh") for i in range(4)]
    hassles = [info("shuffle", specificity=0.9), info("meh", specificity=0.2)]
    res = by_id(TransparentRanker().rank(ms, hassles, [], as_of=AS_OF))
    assert not res["shuffle"].generic and res["meh"].generic
    assert TransparentRanker().min_specificity == 0.35


def test_a_ranked_hassle_keeps_its_generic_flag_until_a_margin_past_the_threshold():
    """A kept hassle near min_specificity does not flip with a few more sentences.

    Found by session 42's operator probe: "spotify version" (100 customers) went from 0.514
    to 0.472 with three more tweets and fell from rank 1 to 44, ten such flips in 20 nights.
    """
    ms = [mention(h, f"{h}{i}", f"{h}u{i}") for h in "abcdef" for i in range(3)]
    hassles = [
        HassleInfo("a", 0.47, generic_before=False),  # was specific, dipped: stays specific
        HassleInfo("b", 0.44, generic_before=False),  # past the margin: generic now
        HassleInfo("c", 0.53, generic_before=True),  # was generic, rose a little: stays generic
        HassleInfo("d", 0.56, generic_before=True),  # past the margin: specific now
        HassleInfo("e", 0.47),  # not ranked before: the threshold alone
        HassleInfo("f", 0.53),
    ]
    ranker = TransparentRanker(min_specificity=0.5, specificity_margin=0.05)
    res = by_id(ranker.rank(ms, hassles, [], as_of=AS_OF))
    assert [h for h in "abcdef" if res[h].generic] == ["b", "c", "e"]
    without = by_id(TransparentRanker(min_specificity=0.5).rank(ms, hassles, [], as_of=AS_OF))
    assert [h for h in "abcdef" if without[h].generic] == ["a", "b", "e"]
    with pytest.raises(ValueError, match="specificity_margin"):
        TransparentRanker(specificity_margin=0.6)


def test_null_specificity_is_never_generic():
    ms = [mention(h, f"{h}{i}", f"{h}u{i}") for h in ("old", "none") for i in range(3)]
    hassles = [info("old", specificity=None)]  # "none" has no HassleInfo at all
    res = TransparentRanker(min_specificity=1.0).rank(ms, hassles, [], as_of=AS_OF)
    assert not any(r.generic for r in res)


def test_deterministic_under_input_order():
    ms, hassles = scenario()
    scored = [ScoredComment("a1", 0, "nps"), ScoredComment("d1", 10, "nps")]
    first = TransparentRanker().rank(ms, hassles, scored, as_of=AS_OF)
    shuffled = list(ms)
    random.Random(7).shuffle(shuffled)
    second = TransparentRanker().rank(shuffled, hassles[::-1], scored[::-1], as_of=AS_OF)
    assert [r.hassle_id for r in first] == [r.hassle_id for r in second]
    for x, y in zip(first, second, strict=True):
        assert x.total == pytest.approx(y.total, abs=1e-12)
        assert x.parts == pytest.approx(y.parts)
        assert (x.customers, x.comments, x.trend_7d) == (y.customers, y.comments, y.trend_7d)


def test_empty_input():
    assert TransparentRanker().rank([], [], [], as_of=AS_OF) == []


def test_rejects_bad_configuration_and_data():
    with pytest.raises(ValueError):
        RankWeights(reach=-0.1)
    with pytest.raises(ValueError):
        TrendSettings(alpha=1.5)
    with pytest.raises(ValueError):
        TransparentRanker(min_specificity=1.5)
    ms = [mention("H", "1", "u")]
    with pytest.raises(ValueError, match="score_kind"):
        TransparentRanker().rank(ms, [], [ScoredComment("1", 5, "ces")], as_of=AS_OF)
    with pytest.raises(ValueError):
        TransparentRanker().rank(ms, [], [ScoredComment("1", 11, "nps")], as_of=AS_OF)
    with pytest.raises(ValueError, match="duplicate"):
        TransparentRanker().rank(ms, [info("H"), info("H")], [], as_of=AS_OF)
    # Only value and impact, both unavailable.
    zero = RankWeights(reach=0, severity=0, repeat=0, spread=0, trend=0, value=1.0, impact=1.0)
    with pytest.raises(ValueError):
        TransparentRanker(zero).rank(ms, [], [], as_of=AS_OF)


def test_result_type(ranked):
    assert all(isinstance(r, HassleScore) for r in ranked.values())
    assert sorted(r.rank for r in ranked.values()) == [1, 2, 3, 4]


# --- two levels ----------------------------------------------------------------------------


def two_level_scenario():
    """Parent P holds children a and b, parent Q holds c; x has no parent.

    Comments k0..k3 each have a sentence in both a and b (one customer each); a also has a0..a3.
    """
    ms = []
    for i in range(4):
        ms.append(mention("a", f"k{i}", f"ck{i}", severity=0.25))
        ms.append(mention("b", f"k{i}", f"ck{i}", severity=0.75, channel="review"))
        ms.append(mention("a", f"a{i}", f"ca{i}", severity=0.25, channel="ticket"))
    ms += [mention("c", f"c{i}", f"cc{i}", severity=0.5) for i in range(6)]
    ms += [mention("x", f"x{i}", f"cx{i}") for i in range(2)]
    children = [info("a", 0.9, "P"), info("b", 0.8, "P"), info("c", 0.7, "Q"), info("x", 0.9)]
    parents = [info("P", 0.6), info("Q", 0.4)]
    return ms, children, parents


def test_a_parent_counts_a_comment_in_two_of_its_children_once():
    ms, children, parents = two_level_scenario()
    levels = rank_levels(TransparentRanker(), ms, children, parents, [], as_of=AS_OF)
    assert isinstance(levels, LevelRanking)
    kids, folks = by_id(levels.children), by_id(levels.parents)
    assert (kids["a"].comments, kids["b"].comments) == (8, 4)
    # P: k0..k3 once each (not twice) plus a0..a3.
    assert folks["P"].comments == 8 and folks["P"].customers == 8
    assert folks["Q"].comments == 6 and folks["Q"].customers == 6
    # A shared comment counts at its highest severity: 4 x 0.75 and 4 x 0.25.
    assert folks["P"].severity_mean == pytest.approx(0.5)
    assert folks["P"].channels == {"review": 4, "ticket": 4}
    # x has no parent: it is ranked among the children and in no parent.
    assert set(kids) == {"a", "b", "c", "x"} and set(folks) == {"P", "Q"}


def test_each_level_is_ranked_within_itself():
    ms, children, parents = two_level_scenario()
    levels = rank_levels(TransparentRanker(), ms, children, parents, [], as_of=AS_OF)
    assert [r.rank for r in levels.children] == [1, 2, 3, 4]
    assert [r.rank for r in levels.parents] == [1, 2]
    assert levels.parents[0].hassle_id == "P"  # 8 customers against 6
    # Reach is a share of the biggest in the level: P is 1.0 among parents, a among children.
    folks, kids = by_id(levels.parents), by_id(levels.children)
    assert folks["P"].parts["reach"] == 1.0 and kids["a"].parts["reach"] == 1.0
    assert folks["Q"].parts["reach"] == pytest.approx(6 / 8)
    # The children's scores are those of ranking them alone.
    alone = TransparentRanker().rank(ms, children, [], as_of=AS_OF)
    assert [(r.hassle_id, r.total) for r in alone] == [
        (r.hassle_id, r.total) for r in levels.children
    ]


def test_a_parent_is_generic_only_when_all_its_children_are():
    ms, children, parents = two_level_scenario()
    children = [info("a", 0.1, "P"), info("b", 0.9, "P"), info("c", 0.2, "Q"), info("x", 0.9)]
    # The parents' own specificity does not decide it: P is vague, Q specific.
    parents = [info("P", 0.05), info("Q", 0.95)]
    levels = rank_levels(TransparentRanker(), ms, children, parents, [], as_of=AS_OF)
    folks = by_id(levels.parents)
    assert not folks["P"].generic  # b is specific
    assert folks["Q"].generic  # its only child c is generic
    assert [r.hassle_id for r in levels.parents] == ["P", "Q"]
    # A child with no specificity is not generic, so neither is its parent.
    children = [info("a", 0.1, "P"), info("b", None, "P"), info("c", 0.2, "Q")]
    levels = rank_levels(TransparentRanker(), ms, children, parents, [], as_of=AS_OF)
    assert [r.generic for r in sorted(levels.parents, key=lambda r: r.hassle_id)] == [False, True]


def test_a_parent_with_a_specific_child_counts_only_its_specific_children():
    ms, children, parents = two_level_scenario()
    # a (8 comments) is generic, b (4) specific: P counts b's 4 comments, and Q (6) leads.
    children = [info("a", 0.1, "P"), info("b", 0.9, "P"), info("c", 0.9, "Q")]
    levels = rank_levels(TransparentRanker(), ms, children, parents, [], as_of=AS_OF)
    folks = by_id(levels.parents)
    assert (folks["P"].comments, folks["P"].customers) == (4, 4)
    assert folks["P"].channels == {"review": 4}
    assert [r.hassle_id for r in levels.parents] == ["Q", "P"]
    # Every child of P generic: P counts them all (8 comments) and ranks as generic, last.
    children = [info("a", 0.1, "P"), info("b", 0.2, "P"), info("c", 0.9, "Q")]
    folks = by_id(rank_levels(TransparentRanker(), ms, children, parents, [], as_of=AS_OF).parents)
    assert folks["P"].comments == 8 and folks["P"].generic


def test_generic_parent_ranks_after_the_others():
    ms, children, parents = two_level_scenario()
    children = [info("a", 0.1, "P"), info("b", 0.1, "P"), info("c", 0.9, "Q")]
    levels = rank_levels(TransparentRanker(), ms, children, parents, [], as_of=AS_OF)
    assert [(r.hassle_id, r.rank, r.generic) for r in levels.parents] == [
        ("Q", 1, False),
        ("P", 2, True),
    ]


def test_without_parents_only_the_children_are_ranked():
    ms, hassles = scenario()
    levels = rank_levels(TransparentRanker(), ms, hassles, [], [], as_of=AS_OF)
    assert levels.parents == []
    assert levels.children == TransparentRanker().rank(ms, hassles, [], as_of=AS_OF)


@pytest.mark.parametrize(
    ("short", "long", "word"),
    [
        ("rising", "steady", "rising"),
        ("steady", "falling", "falling"),
        ("rising", "falling", "steady"),  # a week's rise inside a month's fall says neither
        ("falling", "rising", "steady"),
        ("new", "falling", "new"),
        ("steady", "steady", "steady"),
    ],
)
def test_the_one_word_trend_says_a_direction_only_when_the_windows_agree(short, long, word):
    mentions = [
        Mention("H-1", f"c{i}", f"u{i}", "review", AS_OF - timedelta(days=i), 0.5, *[None] * 3)
        for i in range(6)
    ]
    [score] = TransparentRanker().rank(mentions, [], [], as_of=AS_OF)

    def trend(label: str) -> Trend:
        return Trend(recent=3, baseline=3, ratio=1.0, p_value=0.5, label=label)

    assert replace(score, trend_7d=trend(short), trend_30d=trend(long)).trend_label == word


@pytest.mark.parametrize(
    ("days_ago", "short", "long", "word"),
    [
        (20, "steady", "new", "steady"),  # new in the month, silent this week: no news
        (20, "falling", "new", "falling"),
        (2, "steady", "new", "new"),  # new in the month and still mentioned
        (2, "new", "new", "new"),
    ],
)
def test_a_hassle_silent_for_a_week_is_not_called_new(days_ago, short, long, word):
    """Session 42's probe: 5 of 10 "new" hassles had no mention in 7 days, one for 27.

    Whatever the short window's trend counts (only sources that delivered in both its
    periods), a mention in the last 7 days from any source keeps a new hassle new.
    """
    mentions = [mention("H-1", f"c{i}", f"u{i}", days_ago=days_ago + i) for i in range(6)]
    [score] = TransparentRanker().rank(mentions, [], [], as_of=AS_OF)
    assert score.mentioned_lately is (days_ago < 7)
    week = Trend(recent=0, baseline=4, ratio=None, p_value=0.5, label=short)
    month = Trend(recent=6, baseline=0, ratio=None, p_value=0.01, label=long)
    assert replace(score, trend_7d=week, trend_30d=month).trend_label == word
