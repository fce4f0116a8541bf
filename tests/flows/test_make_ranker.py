"""make_ranker: every rank.trend_* setting reaches the ranker's TrendSettings."""

import pytest

from config.settings import Settings
from flows.ranking import make_ranker
from nlp.evidence import TrendSettings

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)


def test_every_trend_setting_reaches_the_ranker():
    rank = {
        "trend_short_days": 3,
        "trend_long_days": 21,
        "trend_baseline_days": 14,
        "trend_min_mentions": 2,
        "trend_alpha": 0.01,
        "trend_min_change": 0.5,
        "min_specificity": 0.2,
    }
    ranker = make_ranker(Settings.model_validate({"rank": rank}))

    assert ranker.trend == TrendSettings(
        short_days=3, long_days=21, baseline_days=14, min_mentions=2, alpha=0.01, min_change=0.5
    )
    assert ranker.min_specificity == 0.2
    assert make_ranker(Settings()).trend == TrendSettings()
