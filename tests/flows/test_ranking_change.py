"""change_since: a hassle's move in rank since the previous ranking, not its trend."""

from types import SimpleNamespace

import pytest

from flows.ranking import change_since

PREVIOUS = {"H-0001": (1, 0.59), "H-0002": (2, 0.55), "H-0003": (3, 0.40)}


@pytest.mark.parametrize(
    ("hassle_id", "rank", "trend", "change"),
    [
        # Rank 1 both times with a rising trend: it did not move (it read "rising" before).
        ("H-0001", 1, "rising", "steady"),
        # Fell from #1 to #3 while its trend was steady (it read "steady").
        ("H-0001", 3, "steady", "falling"),
        ("H-0003", 2, "falling", "rising"),
        ("H-0009", 4, "steady", "new"),
    ],
)
def test_change_is_the_move_in_rank_since_the_previous_ranking(hassle_id, rank, trend, change):
    score = SimpleNamespace(hassle_id=hassle_id, rank=rank, trend_label=trend)
    assert change_since(score, PREVIOUS) == change
