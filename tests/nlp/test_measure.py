"""Trends against the comments' volume (nlp/measure.py): a hassle that only follows the
overall volume is not rising, and the days before the data starts are no baseline.

The scenario is the one the replayed support tweets showed: a 90-day window whose first
weeks hold a comment a day (stray old tweets), then the collection starts and the volume
jumps to 100 a day, and falls a little in the last month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import numpy as np
import pytest

from nlp.evidence import Mention, TrendSettings
from nlp.factors import describe_trend
from nlp.measure import measure_level
from nlp.rank import TransparentRanker, trend_test

AS_OF = datetime(2017, 12, 3, 23, 0)
WINDOW_START = AS_OF - timedelta(days=90)
SETTINGS = TrendSettings()


def _day(days_ago: int) -> datetime:
    """``days_ago`` whole days before ``AS_OF``."""
    return AS_OF - timedelta(days=days_ago)


def _data(per_day: Callable[[int], int], mentions_of: dict[str, Callable[[int, int], bool]]):
    """Every comment of the window (``per_day(days_ago)`` a day), and each hassle's mentions.

    ``mentions_of[hassle](days_ago, i)`` says whether the ``i``-th comment of that day
    mentions the hassle.
    """
    times, mentions = [], []
    for days_ago in range(89, -1, -1):
        for i in range(per_day(days_ago)):
            created = _day(days_ago) - timedelta(minutes=10 * i + 1)
            times.append(created)
            comment = f"c{days_ago}-{i}"
            for hassle, mentions_it in mentions_of.items():
                if mentions_it(days_ago, i):
                    mentions.append(
                        Mention(hassle, comment, comment, "social", created, 0.5, *[None] * 3)
                    )
    return times, mentions


def _tweets_volume(days_ago: int) -> int:
    """One comment a day for the first 30 days, then 100 a day, 80 a day in the last 30."""
    if days_ago >= 60:
        return 1
    return 100 if days_ago >= 30 else 80


def test_a_hassle_that_follows_the_overall_volume_after_a_late_start_is_not_rising():
    # 5% of every day's comments: 5 a day from the start of collection, 4 a day in the last
    # month (the volume fell 20%), and one of the 30 stray comments before. Per day against
    # the 60 days before, half of them empty, that was "+59% a day ... (rising, p = 0.000)".
    times, mentions = _data(_tweets_volume, {"H": lambda d, i: i % 20 == 0 and (d < 60 or d == 70)})
    (h,) = TransparentRanker().rank(
        mentions, [], [], as_of=AS_OF, history_from=WINDOW_START, volume=times
    )
    assert (h.trend_30d.recent, h.trend_30d.baseline) == (120, 151)
    assert (h.trend_30d.recent_comments, h.trend_30d.baseline_comments) == (2400, 3030)
    # Its share of the comments: 4.98% before, 5.0% now.
    assert h.trend_30d.ratio == pytest.approx((120 / 2400) / (151 / 3030))
    assert h.trend_30d.label == "steady"
    assert h.trend_7d.label == "steady"
    assert h.trend_label == "steady"
    assert h.parts["trend"] == 0.5


def test_a_hassle_whose_share_grows_is_rising_and_one_that_doubles_with_everything_is_not():
    # Every comment doubles in the last 30 days: a hassle at 5% throughout doubles too, and is
    # steady; one that goes from 5% to 10% of the comments is rising.
    def volume(days_ago):
        return 80 if days_ago < 30 else 40

    times, mentions = _data(
        volume,
        {
            "FOLLOWS": lambda d, i: i % 20 == 0,
            "GROWS": lambda d, i: i % 20 == 1 or (d < 30 and i % 20 == 2),
        },
    )
    ranked = TransparentRanker().rank(
        mentions, [], [], as_of=AS_OF, history_from=WINDOW_START, volume=times
    )
    by_id = {s.hassle_id: s for s in ranked}
    follows, grows = by_id["FOLLOWS"].trend_30d, by_id["GROWS"].trend_30d
    assert follows.ratio == pytest.approx(1.0)
    assert follows.label == "steady"
    assert grows.ratio == pytest.approx(2.0)
    assert grows.label == "rising" and grows.p_value < 1e-6
    assert describe_trend(grows, 30).startswith(
        "share of comments +100% in the last 30 days vs the days before (5.0% → 10.0%; rising"
    )
    # Per day (without the volume) both would be rising.
    per_day = TransparentRanker().rank(mentions, [], [], as_of=AS_OF, history_from=WINDOW_START)
    assert {s.trend_30d.label for s in per_day} == {"rising"}


def test_with_no_comments_before_the_window_the_trend_is_too_new_to_tell():
    # The data starts 5 days ago: nothing to compare the last 7 days with.
    times, mentions = _data(lambda d: 40 if d < 5 else 0, {"H": lambda d, i: i % 4 == 0})
    (h,) = TransparentRanker().rank(
        mentions, [], [], as_of=AS_OF, history_from=WINDOW_START, volume=times
    )
    assert h.trend_7d.label == "steady" and h.trend_7d.ratio is None
    assert h.trend_7d.baseline_comments == 0
    assert describe_trend(h.trend_7d, 7) == (
        "50 mentions in the last 7 days; too new to tell: no comments before them"
    )


def test_none_before_is_new_only_when_the_period_before_held_enough_comments():
    # 8 mentions in the last 7 days, out of 700 comments; none in the 28 days before. With 14
    # comments before (where not one mention was to be expected) that is too few to tell;
    # with 2,800 it is new.
    def thin(days_ago):
        return 100 if days_ago < 7 else days_ago % 2

    def full(days_ago):
        return 100

    for volume, label in ((thin, "steady"), (full, "new")):
        times, mentions = _data(volume, {"H": lambda d, i: d < 7 and (i == 0 or d == i == 1)})
        (h,) = measure_level(
            mentions,
            [],
            [],
            as_of=AS_OF,
            trend=SETTINGS,
            history_from=WINDOW_START,
            volume=np.asarray(times, dtype="datetime64[us]"),
        )
        assert (h.trend_7d.recent, h.trend_7d.baseline) == (8, 0)
        assert h.trend_7d.label == label
        if label == "steady":
            assert describe_trend(h.trend_7d, 7) == (
                "8 mentions in the last 7 days, none before in 14 comments: too few to tell"
            )
    assert describe_trend(h.trend_7d, 7) == "8 mentions in the last 7 days, none before"


def test_trend_test_takes_any_measure_of_size():
    # 10 of 1,000 comments now against 10 of 4,000 before: ratio 4 of the share.
    t = trend_test(10, 10, 1000, 4000, SETTINGS)
    assert t.ratio == pytest.approx(4.0)
    assert t.label == "rising"
    with pytest.raises(ValueError, match="sizes"):
        trend_test(1, 1, 0, 10, SETTINGS)


def test_a_source_that_stops_or_starts_says_nothing_about_another_channels_hassle():
    # Tickets run at 100 a day, the hassle in 5% of them throughout. A survey source of 300 a
    # day stops 7 days ago (or starts then): the hassle's share of all comments jumps (or
    # drops) fourfold, yet nothing changed within any channel that delivered in both periods.
    def tickets(days_ago):
        return 100

    times, mentions = _data(tickets, {"T": lambda d, i: i % 20 == 0})
    stops = [_day(d) - timedelta(minutes=i) for d in range(7, 90) for i in range(300)]
    starts = [_day(d) - timedelta(minutes=i) for d in range(0, 7) for i in range(300)]
    for surveys in (stops, starts):
        (h,) = measure_level(
            mentions, [], [], as_of=AS_OF, trend=SETTINGS, history_from=WINDOW_START,
            volume={"social": times, "survey": surveys},
        )  # fmt: skip
        assert h.trend_7d.label == "steady"
        assert h.trend_7d.ratio == pytest.approx(1.0)
        assert h.trend_7d.recent_comments == 700  # the tickets alone
    # Pooled, the stopped survey makes it "rising" fourfold: what this test guards against.
    (pooled,) = measure_level(
        mentions, [], [], as_of=AS_OF, trend=SETTINGS, history_from=WINDOW_START,
        volume=sorted([*times, *stops]),
    )  # fmt: skip
    assert pooled.trend_7d.label == "rising" and pooled.trend_7d.ratio == pytest.approx(4.0)


def test_a_source_that_stops_says_nothing_about_a_hassle_of_another_source_in_its_channel():
    # Two ticket sources: "helpdesk" at 100 a day, the hassle in 5% of them throughout, and a
    # partner's 300 a day that stops 7 days ago. Compared channel by channel (both are
    # tickets) the hassle's share jumps fourfold; source by source nothing changed.
    times, mentions = _data(lambda days_ago: 100, {"T": lambda d, i: i % 20 == 0})
    stops = [_day(d) - timedelta(minutes=i) for d in range(7, 90) for i in range(300)]
    by_source = [replace(m, channel="ticket", source="helpdesk") for m in mentions]
    (h,) = measure_level(
        by_source, [], [], as_of=AS_OF, trend=SETTINGS, history_from=WINDOW_START,
        volume={"helpdesk": times, "partner": stops},
    )  # fmt: skip
    assert (h.trend_7d.label, h.trend_7d.recent_comments) == ("steady", 700)
    assert h.trend_7d.ratio == pytest.approx(1.0)
    by_channel = [replace(m, channel="ticket") for m in mentions]
    (pooled,) = measure_level(
        by_channel, [], [], as_of=AS_OF, trend=SETTINGS, history_from=WINDOW_START,
        volume={"ticket": sorted([*times, *stops])},
    )  # fmt: skip
    assert pooled.trend_7d.label == "rising" and pooled.trend_7d.ratio == pytest.approx(4.0)
