"""Benchmark: the demo's planted hassles over several clustering seeds.

Usage: python bench/demo_quality.py [--seeds 5] [--workdir var/bench/demo_quality]

The demo plants hassles in its comments (``flows/demo``). The tests read one nightly run with
``cluster.seed`` 0: ``tests/flows/test_cluster_flow.py`` asks for a planted-hassle NMI of at
least 0.75 over the covered planted sentences, ``tests/flows/test_publish_flow.py`` for the
planted top 3 (refund, app logout and hidden fees, in any order). UMAP's layout, and with it
every cluster boundary, moves with the seed, so one seed is one draw: a change to the code
can pass or fail those tests by its draw alone. This script writes the tests' demo data
(``DemoSpec()``), runs the real nightly flow once, then again with ``cluster.seed`` 1, 2, ...
(a changed setting makes the night cluster afresh; nothing is ingested or enriched again),
and prints per seed:

- the planted NMI and the share of planted sentences in a hassle, as the test computes them;
- children and parents;
- whether the three top-ranked children are the planted top 3, as the test asks, and whether
  they also come in the order refund and app logout (either way), then hidden fees.

Then the mean and standard deviation of the NMI. With ``bench/versus.py`` it compares two
commits in one run (``versus.py --before REV -- demo_quality.py``). Pin the embedder's backend
(``HASSLEMAP_MODELS__BACKEND=torch-bf16-jit``, the tests' own) so that ``auto`` does not pick
a different one per side.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import yaml
from _common import git_revision, machine, today

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

# The planted top 3 the ranking test asks for, in any order; by reach, these two lead, then this.
TOP_TWO = frozenset({"refund_delay", "app_logout"})
THIRD = "hidden_fee"
NMI_BAR = 0.75  # tests/flows/test_cluster_flow.py


def score_night(warehouse: Path, truth_csv: Path) -> dict:
    """Planted NMI, coverage, level sizes and the planted top 3 of the latest clustering."""
    import duckdb
    from sklearn.metrics import normalized_mutual_info_score

    from flows.demo.truth import dominant_hassles, planted_units

    with open(truth_csv, newline="", encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        units = conn.execute(
            "SELECT u.unit_id, c.channel, c.external_id, u.text "
            "FROM units u JOIN comments c USING (comment_id)"
        ).fetchall()
        run = conn.execute(
            "SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC LIMIT 1"
        ).fetchone()[0]
        members = dict(
            conn.execute(
                "SELECT unit_id, hassle_id FROM hassle_members WHERE run_id = ?", [run]
            ).fetchall()
        )
        levels = dict(
            conn.execute(
                "SELECT level, count(*) FROM hassle_runs WHERE run_id = ? GROUP BY level", [run]
            ).fetchall()
        )
        ranked = conn.execute("SELECT hassle_id FROM v_latest_hassles ORDER BY rank").fetchall()
        top3 = [h for (h,) in ranked]
    planted = planted_units(truth, units)
    covered = [u for u in planted if u in members]
    dominant = dominant_hassles(planted, members)
    nmi = normalized_mutual_info_score([planted[u] for u in covered], [members[u] for u in covered])
    planted_top = {dominant.get(p) for p in (*TOP_TWO, THIRD)} == set(top3[:3])
    in_order = {dominant.get(p) for p in TOP_TWO} == set(top3[:2]) and top3[2:3] == [
        dominant.get(THIRD)
    ]
    return {
        "nmi": nmi,
        "coverage": len(covered) / len(planted) if planted else 0.0,
        "children": levels.get("child", 0),
        "parents": levels.get("parent", 0),
        "top3": planted_top,
        "in_order": in_order,
    }


def run_seeds(workdir: Path, seeds: int) -> list[dict]:
    """Write the tests' demo, run the nightly flow with seed 0, then again with each later seed."""
    from config.sources import demo_source_dicts
    from flows.demo import DemoSpec, write_demo_data
    from flows.nightly import nightly

    shutil.rmtree(workdir, ignore_errors=True)
    write_demo_data(workdir / "data", DemoSpec())
    config = workdir / "bench.yaml"
    settings = {
        "warehouse": str(workdir / "bench.duckdb"),
        "sources": demo_source_dicts(str(workdir / "data")),
        "report": {"out_dir": str(workdir / "reports")},
    }
    rows = []
    for seed in range(seeds):
        settings["cluster"] = {"seed": seed}
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        started = time.perf_counter()
        nightly(str(config))
        row = score_night(workdir / "bench.duckdb", workdir / "data" / "truth.csv")
        rows.append({"seed": seed, "seconds": time.perf_counter() - started, **row})
        print(
            f"[{time.strftime('%H:%M:%S')}] seed {seed}: NMI {row['nmi']:.3f}, "
            f"planted top 3 {'yes' if row['top3'] else 'no'}",
            flush=True,
        )
    return rows


def table(rows: list[dict]) -> str:
    """The Markdown table of the seeds, and their mean and spread."""
    lines = [
        "| cluster.seed | planted NMI | planted covered | children | parents | planted top 3 "
        "| ... in planted order | s |",
        "|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['seed']} | {r['nmi']:.3f} | {r['coverage']:.3f} | {r['children']} | "
            f"{r['parents']} | {'yes' if r['top3'] else 'no'} | {'yes' if r['in_order'] else 'no'} | "
            f"{r['seconds']:.0f} |"
        )
    nmis = [r["nmi"] for r in rows]
    spread = statistics.stdev(nmis) if len(nmis) > 1 else 0.0
    lines.append(
        f"\nplanted NMI {statistics.mean(nmis):.3f} ± {spread:.3f} (min {min(nmis):.3f}); "
        f"at least {NMI_BAR} in {sum(n >= NMI_BAR for n in nmis)} of {len(nmis)} seeds; planted "
        f"top 3 in {sum(r['top3'] for r in rows)} of {len(rows)}, in planted order in "
        f"{sum(r['in_order'] for r in rows)}"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5, help="cluster.seed 0 .. N-1")
    parser.add_argument("--workdir", type=Path, help="keep the warehouse here (default: temporary)")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from prefect import flow
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    @flow
    def warm_up() -> None:
        """Start the temporary API server before anything runs."""

    temporary = None
    if args.workdir:
        workdir = args.workdir.resolve()
        workdir.mkdir(parents=True, exist_ok=True)
    else:
        temporary = tempfile.TemporaryDirectory(prefix="hasslemap-demo-quality-")
        workdir = Path(temporary.name)
    try:
        with prefect_test_harness(server_startup_timeout=600):
            warm_up()
            os.environ["PREFECT_API_URL"] = PREFECT_API_URL.value()
            rows = run_seeds(workdir / "run", args.seeds)
    finally:
        if temporary is not None:
            temporary.cleanup()
    backend = os.environ.get("HASSLEMAP_MODELS__BACKEND", "auto")
    print(f"\nbench/demo_quality.py, {today()}, commit {git_revision()}")
    print(f"machine: {machine()}; embedder backend: {backend}")
    print(table(rows))


if __name__ == "__main__":
    main()
