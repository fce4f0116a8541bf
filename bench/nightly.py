"""Benchmark: the whole nightly run: first run, no new data, and about 1% new comments.

Usage: python bench/nightly.py [--comments 20000,100000] [--workdir var/bench/nightly]

For each size N:

1. Writes N demo comments, and separately one newer demo day (about 1.1% more comments).
2. Under one temporary Prefect server (its start-up not counted), runs the real ``nightly``
   flow three times, each in a fresh Python process as a served deployment runs it (so every
   run loads its models): the first run on the N comments; a run with no new data; and a run
   after the extra day's files are added. Seconds are the flow run itself (ingest, enrich,
   cluster, rank, publish, alerts, analyst snapshot), timed inside that process; the
   process's start-up and imports before the flow starts are shown apart. Peak RSS is each
   run's process.

Prints one Markdown table for all sizes, ready for docs/benchmarks.md.

Targets (issue 6): no new data < 10% of the first run's time or about 15 s, whichever is
larger; 1% new comments < 15% of the first run's time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine, today, write_demo_workspace  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

RUNS = ("first run", "no new data", "1 new day")


def stage_seconds(result: dict) -> dict[str, float]:
    """Seconds per stage, from the counts each stage returns (where it reports them)."""
    stages = result["stages"]
    enrich = stages.get("enrich", {})
    return {
        "enrich": sum(enrich.get(k, 0) for k in ("split_seconds", "embed_seconds", "tag_seconds")),
        "cluster": stages.get("cluster", {}).get("cluster_seconds", 0.0),
        "snapshot": stages.get("snapshot", {}).get("seconds", 0.0),
    }


# One nightly run in this (fresh) process: its figures as one JSON line.
RUN_ONE = """
import json, sys, time
started = time.perf_counter()
from flows.nightly import nightly
imported = time.perf_counter()
result = nightly(sys.argv[1])
done = time.perf_counter()
sys.path.insert(0, sys.argv[2])
from _common import peak_rss_mb
print("RUN " + json.dumps({"result": result, "seconds": done - imported,
                           "startup": imported - started, "peak_rss_mb": peak_rss_mb()}))
"""


def run_nightly_in_fresh_process(config: Path) -> dict:
    """Run ``nightly`` once in a new Python process; return its result, seconds and memory."""
    child = subprocess.run(
        [sys.executable, "-c", RUN_ONE, str(config), str(Path(__file__).resolve().parent)],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
        env={
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p
                for p in (str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH"))
                if p
            ),
        },
    )
    line = next(x for x in child.stdout.splitlines() if x.startswith("RUN "))
    return json.loads(line.removeprefix("RUN "))


def measure_one_size(comments: int, workdir: Path) -> dict:
    """Run the three nightly runs on ``comments`` demo comments; return their figures."""
    workdir.mkdir(parents=True, exist_ok=True)
    for stale in ("bench.duckdb", "bench-analyst.duckdb", "reports", "extra"):
        path = workdir / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    write_demo_workspace(workdir, comments)
    from flows.demo import DemoSpec, write_demo_data

    extra = workdir / "extra"
    write_demo_data(extra, DemoSpec(n_comments=comments, bad_records=False, extra_days=1))
    config = workdir / "bench.yaml"
    # Each size starts without a cached model trace, as a fresh install does.
    models = workdir / "models"
    shutil.rmtree(models, ignore_errors=True)
    text = config.read_text().replace("cache_dir: var/models", f"cache_dir: {models}")
    text = text.replace("out_dir: var/reports", f"out_dir: {workdir / 'reports'}")
    config.write_text(text, encoding="utf-8")

    from prefect import flow
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    @flow
    def warm_up() -> None:
        """Start the temporary API server before anything is timed."""

    rows = []
    with prefect_test_harness(server_startup_timeout=120):
        warm_up()
        os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()
        for name in RUNS:
            if name == "1 new day":
                for new in extra.glob("*/*_extra.*"):
                    shutil.copy2(new, workdir / "data" / new.parent.name / new.name)
            run = run_nightly_in_fresh_process(config)
            stages = run["result"]["stages"]
            rows.append(
                {
                    "run": name,
                    "comments_total": stages["ingest"]["comments_total"],
                    "comments_new": stages["ingest"]["comments_new"],
                    "enriched": stages["enrich"]["comments_enriched"],
                    "cluster_skipped": stages["cluster"].get("skipped", False),
                    "units_in_window": stages["cluster"].get("units_in", 0),
                    "seconds": run["seconds"],
                    "startup": run["startup"],
                    "peak_rss_mb": run["peak_rss_mb"],
                    **stage_seconds(run["result"]),
                }
            )
    return {"comments": comments, "rows": rows}


def print_table(results: list[dict]) -> None:
    """Print every size's runs as one Markdown table."""
    print(f"\n{today()}, commit {git_revision()}, {machine()}\n")
    print(
        "| comments | run | new comments | enriched | clustering skipped | seconds "
        "| share of first | enrich s | cluster s | snapshot s | process start-up s "
        "| peak RSS MiB |"
    )
    print("|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for result in results:
        first = result["rows"][0]["seconds"]
        for row in result["rows"]:
            name = row["run"]
            if name == "1 new day":
                base = row["comments_total"] - row["comments_new"]
                name = f"1 new day (+{row['comments_new'] / base:.1%} comments)"
            print(
                f"| {result['comments']:,} | {name} | {row['comments_new']:,} | "
                f"{row['enriched']:,} | {'yes' if row['cluster_skipped'] else 'no'} | "
                f"{row['seconds']:.1f} | {row['seconds'] / first:.1%} | {row['enrich']:.1f} | "
                f"{row['cluster']:.1f} | {row['snapshot']:.1f} | {row['startup']:.1f} | "
                f"{row['peak_rss_mb']:,.0f} |"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", default="20000,100000", help="sizes, comma-separated")
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/nightly"))
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size, JSON out
    args = parser.parse_args()
    if args.one:
        result = measure_one_size(args.one, args.workdir / str(args.one))
        print("RESULT " + json.dumps(result))
        return
    results = []
    for comments in (int(n) for n in args.comments.split(",")):
        child = subprocess.run(
            [sys.executable, __file__, "--one", str(comments), "--workdir", str(args.workdir)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        line = next(x for x in child.stdout.splitlines() if x.startswith("RESULT "))
        results.append(json.loads(line.removeprefix("RESULT ")))
        print_table(results[-1:])
    print_table(results)


if __name__ == "__main__":
    main()
