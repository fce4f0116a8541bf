"""Benchmark: ingest N generated comments (default 1,000,000) and report rows/s and peak memory.

Usage: python bench/ingest.py [--comments 1000000] [--workdir var/bench/ingest]

The demo generator writes the three channels (reviews CSV, tickets JSONL, surveys CSV) once;
each measurement then runs in a fresh subprocess so its peak memory is its own:

* first load: every file read, landed by dlt and merged into ``comments``;
* re-run: the same files again (must skip everything).

The targets (issue 2) are >= 20,000 rows/s and < 1.5 GB peak memory on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine, peak_rss_mb, today, write_demo_workspace  # noqa: E402


def measure(workdir: Path) -> dict:
    """Run one ingest of the configured sources (in this process) and return its figures."""
    from config import load_settings
    from flows.sources.resource import ReadStats, build_source_resource
    from warehouse.connection import connect_warehouse
    from warehouse.loaders import merge_comments, merge_rejected
    from warehouse.raw import load_raw

    settings = load_settings(workdir / "bench.yaml", environ={})
    conn = connect_warehouse(settings.warehouse, memory_limit=settings.duckdb_memory_limit)
    started = time.perf_counter()
    records = 0
    for source in settings.sources:
        stats = ReadStats()
        load_raw(
            conn,
            build_source_resource(source, settings.ingest, stats),
            pipeline_name=f"bench_{source.name}",
            pipelines_dir=settings.dlt_dir,
        )
        records += stats.records_read
    landed = time.perf_counter()
    merged = merge_comments(conn)
    merge_rejected(conn)
    finished = time.perf_counter()
    [(total,)] = conn.execute("SELECT count(*) FROM comments").fetchall()
    conn.close()
    return {
        "records_read": records,
        "comments_new": merged.inserted,
        "comments_total": total,
        "extract_load_s": landed - started,
        "merge_s": finished - landed,
        "total_s": finished - started,
        "peak_rss_mb": peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/ingest"))
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    workdir = args.workdir.resolve()

    if args.measure:
        print(json.dumps(measure(workdir)))
        return

    workdir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    written = write_demo_workspace(workdir, args.comments)
    print(f"generated {written:,} records in {time.perf_counter() - started:.1f} s", flush=True)
    size_mb = sum(f.stat().st_size for f in (workdir / "data").rglob("*") if f.is_file()) / 2**20

    results = {}
    for label in ("first load", "re-run (no new data)"):
        out = subprocess.run(
            [sys.executable, __file__, "--measure", "--workdir", str(workdir)],
            capture_output=True,
            text=True,
            check=True,
        )
        results[label] = json.loads(out.stdout.strip().splitlines()[-1])

    rows = [
        "| run | records read | comments loaded | extract+load s | merge s | total s | rows/s | peak RSS MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in results.items():
        rate = r["records_read"] / r["total_s"] if r["records_read"] else 0
        rows.append(
            f"| {label} | {r['records_read']:,} | {r['comments_new']:,} | {r['extract_load_s']:.1f} "
            f"| {r['merge_s']:.1f} | {r['total_s']:.1f} | {rate:,.0f} | {r['peak_rss_mb']:,.0f} |"
        )
    print()
    print(f"bench/ingest.py, {today()}, commit {git_revision()}")
    print(f"machine: {machine()}")
    print(
        f"input: {written:,} records, {size_mb:,.0f} MiB on disk (reviews CSV, tickets JSONL, surveys CSV)"
    )
    print()
    print("\n".join(rows))


if __name__ == "__main__":
    main()
