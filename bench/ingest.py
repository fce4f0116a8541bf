"""Benchmark: ingest N generated comments (default 1,000,000) and report rows/s and peak memory.

Usage: python bench/ingest.py [--comments 1000000] [--workdir var/bench/ingest]
       python bench/ingest.py --hostile [--base PATH] [--workdir var/bench/ingest-hostile]

The demo generator writes the three channels (reviews CSV, tickets JSONL, surveys CSV) once;
each measurement then runs in a fresh subprocess so its peak memory is its own:

* first load: every file read, landed by dlt and merged into ``comments``;
* re-run: the same files again (must skip everything).

The targets (issue 2) are >= 20,000 rows/s and < 1.5 GB peak memory on a 2-core machine.

``--hostile`` measures the big-file cases of issue 11 instead, each in a fresh warehouse and a
fresh subprocess at the default DuckDB memory limit (512 MB): a 1,000,000-row CSV of about
400 MB; a CSV of four records with a 50 MB text each, then the same file touched (the
warehouse must not grow); and a load forced to fail (an out-of-memory error in dlt's load
step) followed by a later, one-row file, which must load. ``--base PATH`` runs the same
cases on another checkout (e.g. a ``git worktree`` of the base commit) for a before/after
table; the target is < 1.5 GB peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine, peak_rss_mb, today, write_demo_workspace  # noqa: E402


def measure(workdir: Path) -> dict:
    """Run one ingest of the configured sources (in this process) and return its figures."""
    from config import load_settings
    from flows.sources.base import ReadStats
    from flows.sources.resource import build_source_resource
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


REVIEW_HEADER = "id,author,rating,title,body,date,product\n"
PHRASES = (
    "The app logs me out every time I switch to the camera view and I have to sign in again",
    "Delivery took three weeks and nobody answered my emails about where the parcel was",
    "I was charged twice for the same subscription month and the refund is still pending",
    "Setup was easy but the night vision is blurry unless the hallway light is switched on",
)


def write_big_csv(path: Path, rows: int) -> None:
    """Write ``rows`` reviews of about 400 bytes each."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(REVIEW_HEADER)
        for i in range(rows):
            body = "; ".join(PHRASES[(i + k) % 4] for k in range(4)) + f" ({i})"
            day = 1 + i % 28
            out.write(
                f"B{i:07d},cust-{i % 5000:04d},{1 + i % 5},Not what I expected,{body},"
                f"2026-09-{day:02d},Hub\n"
            )


def write_wide_csv(path: Path, records: int, field_mb: int) -> None:
    """Write ``records`` reviews whose text is ``field_mb`` MB long each."""
    word = "slowly "
    body = word * (field_mb * 2**20 // len(word))
    with open(path, "w", encoding="utf-8") as out:
        out.write(REVIEW_HEADER)
        for i in range(records):
            out.write(f"W{i},cust-{i},2,,{body},2026-09-0{1 + i},Hub\n")


def write_hostile_config(workdir: Path) -> None:
    """A config with one review source over ``workdir/in/*.csv`` and default limits."""
    import yaml

    from config.sources import demo_source_dicts

    source = {
        "name": "reviews",
        "channel": "review",
        "path": str(workdir / "in" / "*.csv"),
        "format": "csv",
        "fields": demo_source_dicts()[0]["fields"],  # the demo's review mapping
    }
    config = {"warehouse": str(workdir / "bench.duckdb"), "sources": [source]}
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")


def _describe(exc: BaseException) -> str:
    """One short line for a failure: its type, and whether DuckDB ran out of memory."""
    text = str(exc)
    oom = "forced out of memory" if "forced by bench" in text else "out of memory"
    if "OutOfMemory" in text or "Out of Memory" in text:
        return f"{type(exc).__name__}: {oom}"
    return f"{type(exc).__name__}: {text.splitlines()[0][:80]}"


def measure_hostile(workdir: Path, fail_load: bool) -> dict:
    """Ingest the configured source once (in this process); return figures, never raise."""
    from config import load_settings
    from flows.sources.base import ReadStats
    from flows.sources.resource import build_source_resource
    from warehouse.connection import connect_warehouse
    from warehouse.loaders import merge_comments, merge_rejected
    from warehouse.raw import load_raw

    if fail_load:
        import duckdb
        from dlt.destinations.impl.duckdb.duck import DuckDbCopyJob

        def out_of_memory(self) -> None:
            raise duckdb.OutOfMemoryException("forced by bench/ingest.py: out of memory")

        DuckDbCopyJob.run = out_of_memory

    settings = load_settings(workdir / "bench.yaml", environ={})
    conn = connect_warehouse(settings.warehouse, memory_limit=settings.duckdb_memory_limit)
    started = time.perf_counter()
    stats = ReadStats()
    error = ""
    try:
        load_raw(
            conn,
            build_source_resource(settings.sources[0], settings.ingest, stats),
            pipeline_name="bench_reviews",
            pipelines_dir=settings.dlt_dir,
        )
    except Exception as exc:  # noqa: BLE001 - the failure is the measurement
        error = _describe(exc)
    try:
        merge_comments(conn)
        merge_rejected(conn)
    except Exception as exc:  # noqa: BLE001
        error = error or f"merge: {_describe(exc)}"
    elapsed = time.perf_counter() - started
    [(total,)] = conn.execute("SELECT count(*) FROM comments").fetchall()
    [(new_row,)] = conn.execute("SELECT count(*) FROM comments WHERE external_id = 'S1'").fetchall()
    conn.execute("CHECKPOINT").fetchall()
    conn.close()
    return {
        "records_read": stats.records_read,
        "files_read": stats.files_read,
        "comments_total": total,
        "seconds": elapsed,
        "peak_rss_mb": peak_rss_mb(),
        "warehouse_mb": settings.warehouse.stat().st_size / 2**20,
        "error": error,
        "new_row_loaded": bool(new_row),
    }


def _child(code: Path, workdir: Path, fail_load: bool = False) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code), "RUNTIME__DLTHUB_TELEMETRY": "false"}
    args = [sys.executable, __file__, "--measure-hostile", "--workdir", str(workdir)]
    out = subprocess.run(
        [*args, *(["--fail-load"] if fail_load else [])],
        capture_output=True,
        text=True,
        cwd=code,
        env=env,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (out.stderr or out.stdout).strip().splitlines()[-1:] or ["no output"]
        return {"error": f"exit {out.returncode}: {tail[0][:80]}", "peak_rss_mb": float("nan")}
    return json.loads(lines[-1])


def _fresh(workdir: Path) -> Path:
    if workdir.exists():
        shutil.rmtree(workdir)
    (workdir / "in").mkdir(parents=True)
    write_hostile_config(workdir)
    return workdir / "in"


def run_hostile(
    code: Path, workdir: Path, big: Path, wide: Path, rows: int, field_mb: int
) -> list[tuple[str, dict]]:
    """Run the big-file cases on the checkout at ``code``; return (case, figures) pairs."""
    results = []
    shutil.copy(big, _fresh(workdir) / big.name)
    results.append((f"{rows:,}-row CSV", _child(code, workdir)))

    inbox = _fresh(workdir)
    shutil.copy(wide, inbox / wide.name)
    results.append((f"4 x {field_mb} MB fields", _child(code, workdir)))
    later = time.time() + 60
    os.utime(inbox / wide.name, (later, later))
    results.append(("  same file touched", _child(code, workdir)))

    inbox = _fresh(workdir)
    write_big_csv(inbox / "mid.csv", min(rows, 100_000))
    results.append(("forced load failure (100k rows)", _child(code, workdir, fail_load=True)))
    (inbox / "mid.csv").unlink()
    (inbox / "small.csv").write_text(REVIEW_HEADER + "S1,c1,2,,one new row,2026-09-01,Hub\n")
    after = _child(code, workdir)
    after["error"] = after["error"] or ("" if after.get("new_row_loaded") else "new row NOT loaded")
    results.append(("  then a one-row file", after))
    return results


def hostile_main(args: argparse.Namespace) -> None:
    """Write the big files once, run every case on this checkout (and ``--base``), print."""
    workdir = args.workdir.resolve()
    files = workdir / "files"
    files.mkdir(parents=True, exist_ok=True)
    big, wide = files / "big.csv", files / "wide.csv"
    if not big.exists():
        write_big_csv(big, args.rows)
    if not wide.exists():
        write_wide_csv(wide, records=4, field_mb=args.field_mb)
    here = Path(__file__).resolve().parents[1]
    checkouts = {"after": here}
    if args.base:
        checkouts = {"before": args.base.resolve(), **checkouts}
    rows = [
        "| case | code | records read | comments | s | peak RSS MiB | warehouse MiB | error |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for label, code in checkouts.items():
        for case, r in run_hostile(
            code, workdir / f"run-{label}", big, wide, args.rows, args.field_mb
        ):
            rows.append(
                f"| {case} | {label} | {r.get('records_read', 0):,} | "
                f"{r.get('comments_total', 0):,} | {r.get('seconds', 0):.1f} | "
                f"{r['peak_rss_mb']:,.0f} | {r.get('warehouse_mb', 0):,.0f} | "
                f"{r['error'] or '-'} |"
            )
            print(rows[-1], flush=True)
    print()
    print(f"bench/ingest.py --hostile, {today()}, commit {git_revision()}")
    print(f"machine: {machine()}")
    print(
        f"inputs: {big.stat().st_size / 2**20:,.0f} MiB CSV of {args.rows:,} rows; "
        f"{wide.stat().st_size / 2**20:,.0f} MiB CSV of 4 records with a "
        f"{args.field_mb} MiB text each; "
        "DuckDB memory limit 512MB (the default)"
    )
    print()
    print("\n".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=1_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/ingest"))
    parser.add_argument("--hostile", action="store_true", help="the big-file cases of issue 11")
    parser.add_argument("--base", type=Path, help="with --hostile: also run this checkout")
    parser.add_argument("--rows", type=int, default=1_000_000, help="with --hostile")
    parser.add_argument("--field-mb", type=int, default=50, help="with --hostile")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure-hostile", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--fail-load", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.hostile and args.workdir == Path("var/bench/ingest"):
        args.workdir = Path("var/bench/ingest-hostile")
    workdir = args.workdir.resolve()

    if args.measure_hostile:
        print(json.dumps(measure_hostile(workdir, args.fail_load)))
        return
    if args.hostile:
        hostile_main(args)
        return
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
