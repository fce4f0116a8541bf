"""Benchmark: how long a nightly run takes when little or nothing is new.

Usage: python bench/incremental.py [--comments 20000] [--workdir var/bench/incremental]

1. Writes N demo comments (and, separately, one newer day: about 1.1% more comments).
2. Under one temporary Prefect server (its start-up not counted), in one process, runs the
   real ``nightly`` flow three times: the first run on the N comments; a run with no new data;
   and a run after the extra day's files are added. Prints each run's seconds, per stage.

Targets (issue 6): no new data < 10% of the first run's time or about 15 s, whichever is
larger; 1% new comments < 15% of the first run's time.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine, peak_rss_mb, today, write_demo_workspace  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def stage_seconds(result: dict) -> dict[str, float]:
    """Seconds per stage, from the counts each stage returns (where it reports them)."""
    stages = result["stages"]
    enrich = stages.get("enrich", {})
    return {
        "enrich": sum(enrich.get(k, 0) for k in ("split_seconds", "embed_seconds", "tag_seconds")),
        "cluster": stages.get("cluster", {}).get("cluster_seconds", 0.0),
        "snapshot": stages.get("snapshot", {}).get("seconds", 0.0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/incremental"))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("bench.duckdb", "bench-analyst.duckdb", "reports"):
        path = args.workdir / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    write_demo_workspace(args.workdir, args.comments)
    from flows.demo import DemoSpec, write_demo_data

    extra = args.workdir / "extra"
    shutil.rmtree(extra, ignore_errors=True)
    write_demo_data(extra, DemoSpec(n_comments=args.comments, bad_records=False, extra_days=1))
    config = args.workdir / "bench.yaml"
    config.write_text(
        config.read_text() + f"\nreport:\n  out_dir: {args.workdir / 'reports'}\n", encoding="utf-8"
    )

    from prefect import flow
    from prefect.testing.utilities import prefect_test_harness

    from flows.nightly import nightly

    @flow
    def warm_up() -> None:
        """Start the temporary API server before anything is timed."""

    rows = []
    with prefect_test_harness(server_startup_timeout=120):
        warm_up()
        for name in ("first run", "no new data", "1 new day (+1.1% comments)"):
            if name.startswith("1 new day"):
                for new in extra.glob("*/*_extra.*"):
                    shutil.copy2(new, args.workdir / "data" / new.parent.name / new.name)
            started = time.perf_counter()
            result = nightly(str(config))
            seconds = time.perf_counter() - started
            rows.append(
                (
                    name,
                    result["stages"]["ingest"]["comments_new"],
                    result["stages"]["enrich"]["comments_enriched"],
                    result["stages"]["cluster"].get("skipped", False),
                    seconds,
                    stage_seconds(result),
                )
            )
    first = rows[0][4]
    print(f"\n{today()}, commit {git_revision()}, {machine()}")
    print(f"{args.comments:,} demo comments; peak RSS {peak_rss_mb():,.0f} MiB\n")
    print(
        "| run | new comments | enriched | clustering skipped | seconds | share of first | enrich s | cluster s | snapshot s |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|---:|")
    for name, new, enriched, skipped, seconds, parts in rows:
        print(
            f"| {name} | {new:,} | {enriched:,} | {'yes' if skipped else 'no'} | {seconds:.1f} | "
            f"{seconds / first:.1%} | {parts['enrich']:.1f} | {parts['cluster']:.1f} | "
            f"{parts['snapshot']:.1f} |"
        )


if __name__ == "__main__":
    main()
