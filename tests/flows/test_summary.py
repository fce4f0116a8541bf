"""What ``hasslemap run`` prints about the cluster stage: the line names how the night clustered."""

from flows.summary import cluster_line

COUNTS = {"units_in": 8903, "hassles": 35, "hassles_new": 0, "hassles_retired": 0, "coverage": 0.5}


def test_a_held_full_night_says_so():
    line = cluster_line(
        {
            **COUNTS,
            "mode": "full",
            "reason": "period",
            "late_finds_folded": 2,
            "hassles_restored": 1,
        }
    )
    assert line.startswith(
        "cluster: 8,903 pain points, 35 hassles (0 new, 0 retired), coverage 50%"
    )
    assert "clustered afresh (period)" in line
    assert "2 late find(s) joined one, 1 merged-away hassle(s) restored" in line


def test_an_incremental_night_and_a_rebuild_say_only_what_happened():
    quiet = cluster_line({**COUNTS, "mode": "incremental", "reason": None})
    rebuilt = cluster_line({**COUNTS, "mode": "full", "reason": "settings"})
    assert "afresh" not in quiet and "held" not in quiet
    assert "clustered afresh (settings)" in rebuilt and "held" not in rebuilt
    assert cluster_line({"skipped": True}).startswith("cluster: the window is unchanged")
