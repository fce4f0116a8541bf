"""Evaluation on real tweets: hassle labels name problems, and both hassle levels are published.

The tweets are read at test time from ``../shared/eval/real/twcs/`` (beside the repository;
``$EVAL_REAL_DIR`` names another folder holding ``twcs/``), never copied into the project: a
seeded sample is written to pytest's temporary folder only, with Twitter's dates written as
ISO 8601 beside the original ones (hasslemap reads no date-format setting). Skipped only when
that folder does not exist; CI has it. bench/realworld.py measures the same on all of it.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import get_args

import duckdb
import pytest

from config.channels import Channel
from flows.nightly import nightly

pytestmark = [pytest.mark.usefixtures("prefect_server"), pytest.mark.e2e]

REAL = Path(
    os.environ.get("EVAL_REAL_DIR") or Path(__file__).resolve().parents[3] / "shared/eval/real"
)
TWEETS = REAL / "twcs" / "twcs_spotifycares_inbound_15096.csv"
SAMPLE = 400
TWITTER_DATE = "%a %b %d %H:%M:%S %z %Y"

HANDLE = re.compile(r"(?<![\w.])@\w")
GREETING = re.compile(
    r"^\s*(?:hi|hello|hey|dear|greetings|hiya|good (?:morning|afternoon|evening))\b", re.I
)
THANKS = re.compile(r"\b(?:thanks?|thank you|thankyou|thx|ty|cheers|appreciated?)\b", re.I)


def not_a_problem(label: str) -> str | None:
    """Why a label names no problem (a handle, a greeting, thanks), or None."""
    for why, pattern in (("handle", HANDLE), ("greeting", GREETING), ("thanks", THANKS)):
        if pattern.search(label):
            return why
    return None


def test_the_label_checks_catch_what_the_issue_saw():
    assert not_a_problem("@spotifycares") == "handle"
    assert not_a_problem("hi there") == "greeting"
    assert not_a_problem("thanks for the help") == "thanks"
    assert not_a_problem("shuffle repeats the same songs") is None
    assert not_a_problem("offline downloads disappear") is None
    assert not_a_problem("email@example.com login") is None  # an address, not a handle


@pytest.fixture(scope="module")
def real_tweets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded sample of the real tweets, in pytest's temporary folder."""
    if not TWEETS.parent.is_dir():
        where = f"{TWEETS.parent} does not exist: the real evaluation sets are not here"
        if os.environ.get("CI"):  # CI has ../shared: an evaluation test there runs, never skips
            pytest.fail(f"{where} (set EVAL_REAL_DIR to where they are)")
        pytest.skip(where)
    import pandas as pd

    frame = pd.read_csv(TWEETS, dtype=str, keep_default_na=False)
    frame = frame.sample(n=SAMPLE, random_state=12).reset_index(drop=True)
    frame["created_utc"] = [
        datetime.strptime(d, TWITTER_DATE).astimezone(UTC).isoformat() for d in frame["created_at"]
    ]
    folder = tmp_path_factory.mktemp("twcs")
    frame.to_csv(folder / "tweets.csv", index=False)
    return folder


def test_real_tweets_give_problem_labels_at_both_levels(real_tweets, write_config, tmp_path):
    channel = "social" if "social" in get_args(Channel) else "ticket"
    source = {
        "name": "support_tweets",
        "channel": channel,
        "path": str(real_tweets / "*.csv"),
        "format": "csv",
        "fields": {
            "external_id": "tweet_id",
            "customer_id": "author_id",
            "created_at": "created_utc",
            "text": ["text"],
        },
    }
    # A few hundred tweets: smaller clusters than the default minimum of 10 may form.
    config = write_config([source], cluster={"min_cluster_size": 5})

    result = nightly(str(config))

    # Nearly every tweet loads (their dates were converted); a few may be set aside honestly.
    assert result["stages"]["ingest"]["comments_new"] >= 0.95 * SAMPLE
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        rows = conn.execute(
            "SELECT hassle_id, level, parent_id, label FROM hassle_runs WHERE run_id = "
            "(SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC LIMIT 1)"
        ).fetchall()
    children = [r for r in rows if r[1] == "child"]
    parents = {r[0] for r in rows if r[1] == "parent"}
    assert children, "no child hassles on real tweets"
    bad = [(level, label, not_a_problem(label)) for _, level, _, label in rows]
    assert [b for b in bad if b[2]] == []
    assert parents, "no parent hassles: the two levels are not both published"
    assert all(parent in parents for _, _, parent, _ in children if parent)
    assert any(parent in parents for _, _, parent, _ in children)
