"""Benchmark: writing a query's result to CSV (``hasslemap sql --out x.csv``): rows/s, memory.

Usage: python bench/export.py [--rows 1000000] [--base PATH ...] [--workdir var/bench/export]

A result of ``--rows`` rows is made in memory: a comment text (one in ten starts with "=" or
"-", as a formula would), a product (an ENUM, dictionary-encoded), a channel, a number and a
list. ``warehouse.export.write_export`` writes it as CSV, in a fresh subprocess per checkout
so that each peak memory is its own: this checkout, and each ``--base PATH`` (a
``git worktree`` of another commit) for a before/after table in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine, peak_rss_mb, today  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def result_table(rows: int):
    """The result to export: text, an ENUM, a channel, a number and a list per row."""
    import pyarrow as pa

    texts = [
        ("=HYPERLINK(1)" if n % 20 == 0 else "-2+3" if n % 20 == 10 else "")
        + f"My refund for order {n} never arrived and support keeps closing the ticket"
        for n in range(rows)
    ]
    products = pa.array([("Nimbus Hub", "Nimbus Cam", "=Plug")[n % 3] for n in range(rows)])
    return pa.table(
        {
            "text": texts,
            "product": products.dictionary_encode(),
            "channel": [("review", "ticket", "survey")[n % 3] for n in range(rows)],
            "customers": list(range(rows)),
            "hassle_ids": [[f"H-{n % 40:04d}"] for n in range(rows)],
        }
    )


def measure(rows: int, out: Path) -> dict:
    """Write the CSV once (in this process) and return its figures."""
    from warehouse.export import write_export

    table = result_table(rows)
    started = time.perf_counter()
    write_export(table, out)
    seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 2),
        "rows_per_s": round(rows / seconds),
        "peak_mb": round(peak_rss_mb()),
        "bytes": out.stat().st_size,
    }


def run_checkout(checkout: Path, rows: int, out: Path) -> dict:
    """Measure ``checkout``'s export in a fresh subprocess."""
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); import export as b; "
        "print(json.dumps(b.measure(int(sys.argv[2]), __import__('pathlib').Path(sys.argv[3]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "bench"), str(rows), str(out)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=checkout,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    """Measure this checkout and each base; print the table for docs/benchmarks.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--base", type=Path, action="append", default=[])
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench" / "export")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{today()}, commit {git_revision()}, {machine()}; {args.rows:,} rows\n")
    print("| checkout | seconds | rows/s | peak MiB | CSV bytes |")
    print("|---|---:|---:|---:|---:|")
    for number, checkout in enumerate([*args.base, REPO]):
        figures = run_checkout(checkout.resolve(), args.rows, args.workdir / f"out{number}.csv")
        print(
            f"| {checkout} | {figures['seconds']} | {figures['rows_per_s']:,} | "
            f"{figures['peak_mb']:,} | {figures['bytes']:,} |"
        )


if __name__ == "__main__":
    main()
