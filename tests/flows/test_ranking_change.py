"""change_since: a hassle's move in rank since the previous ranking, not its trend."""

from types import SimpleNamespace

import pytest

from flows.ranking import change_since, changes_since
from warehouse.ranking import PreviousRank

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)

PREVIOUS = {
    "H-0001": PreviousRank(1, 0.59, "rising"),
    "H-0002": PreviousRank(2, 0.55, "new"),
    "H-0003": PreviousRank(3, 0.40, "falling"),
}


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


def ranking_of(*places, parents=()):
    def score(hassle_id, rank, total):
        return SimpleNamespace(hassle_id=hassle_id, rank=rank, total=total)

    return SimpleNamespace(scores=[score(*p) for p in places], parents=[score(*p) for p in parents])


def test_a_rerun_over_the_same_data_keeps_the_previous_changes():
    same = ranking_of(("H-0001", 1, 0.59), ("H-0002", 2, 0.55), ("H-0003", 3, 0.40))
    assert changes_since(same, PREVIOUS) == {
        "H-0001": "rising",
        "H-0002": "new",
        "H-0003": "falling",
    }


@pytest.mark.parametrize(
    "ranking",
    [
        # One score moved (a new day's comments): every change is measured again.
        ranking_of(("H-0001", 1, 0.60), ("H-0002", 2, 0.55), ("H-0003", 3, 0.40)),
        # The same children, and a parent the previous ranking did not have.
        ranking_of(
            ("H-0001", 1, 0.59),
            ("H-0002", 2, 0.55),
            ("H-0003", 3, 0.40),
            parents=[("P-0001", 1, 0.7)],
        ),
    ],
)
def test_a_ranking_that_moved_at_all_measures_its_changes_again(ranking):
    changes = changes_since(ranking, PREVIOUS)
    assert changes["H-0001"] == "steady" and changes["H-0003"] == "steady"
    assert changes.get("P-0001", "new") == "new"


def test_a_first_ranking_is_all_new():
    assert changes_since(ranking_of(("H-0001", 1, 0.5)), {}) == {"H-0001": "new"}
