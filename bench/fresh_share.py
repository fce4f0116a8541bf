"""Report: how fresh each new hassle is, in a warehouse after a run with new data.

Usage: python bench/fresh_share.py WAREHOUSE [WAREHOUSE ...]

For each warehouse (e.g. ``var/bench/nightly/20000/bench.duckdb`` after ``bench/nightly.py``),
prints the hassles whose status is ``new`` in the latest ranking, with their size and
``fresh_share``: the share of their pain-point sentences written after the newest comment
the clustering before saw. Alerts announce a new hassle only at ``alerts.new_min_fresh_share``
or more (docs/benchmarks.md has the measurements behind the default).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import duckdb  # noqa: E402

from warehouse.alerts import read_alert_candidates  # noqa: E402


def main() -> None:
    """Print the fresh share of every new hassle in each warehouse given."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("warehouses", nargs="+", type=Path, metavar="WAREHOUSE")
    args = parser.parse_args()
    missing = [str(p) for p in args.warehouses if not p.is_file()]
    if missing:
        parser.error(f"no warehouse at {', '.join(missing)}; pass the .duckdb file a run wrote")
    print("| warehouse | new hassle | units | fresh share |")
    print("|---|---|---:|---:|")
    for path in args.warehouses:
        with duckdb.connect(str(path), read_only=True) as conn:
            [(run_id,)] = conn.execute(
                "SELECT run_id FROM hassle_rankings ORDER BY ranked_at DESC, run_id DESC LIMIT 1"
            ).fetchall()
            latest = (
                "SELECT run_id FROM cluster_runs ORDER BY clustered_at DESC, run_id DESC LIMIT 1"
            )
            units = dict(
                conn.execute(
                    f"SELECT hassle_id, units FROM hassle_runs WHERE run_id = ({latest})"  # noqa: S608
                ).fetchall()
            )
            for row in read_alert_candidates(conn, run_id):
                if row["status"] != "new":
                    continue
                share = row["fresh_share"]
                print(
                    f'| {path} | {row["hassle_id"]} "{row["label"]}" | {units.get(row["hassle_id"], 0):,} | '
                    f"{'n/a (first clustering)' if share is None else f'{share:.3f}'} |"
                )


if __name__ == "__main__":
    main()
