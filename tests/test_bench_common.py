"""The benchmarks' label check (bench/_common.py): what counts as naming no problem."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from _common import label_problems  # noqa: E402

BRANDS = ("spotify", "spotifycares")


@pytest.mark.parametrize(
    ("label", "problems"),
    [
        ("spotify on", ["brand"]),  # a preposition adds nothing to the brand
        ("spotify", ["brand"]),
        ("the app", ["generic word"]),
        ("@SpotifyCares", ["handle", "brand"]),
        ("hi there", ["greeting", "generic word"]),
        ("thanks so much", ["thanks", "generic word"]),
        ("spotify down", []),  # says what happened
        ("not spotify", []),
        ("app logs me out", []),
        ("charged twice", []),
        ("can't log back in", []),
        ("version of spotify", []),
    ],
)
def test_what_names_no_problem(label, problems):
    assert label_problems(label, BRANDS) == problems
