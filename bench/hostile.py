"""Benchmark: hostile and unlucky inputs, one real nightly run each; prints the reliability table.

Usage: python bench/hostile.py [--workdir var/bench/hostile] [--only NAME,...] [--markdown FILE]

Each input class gets a fresh warehouse holding one review source: the same 60 good rows
(three recurring complaints, dated over the last 30 days) plus the class's bad records or bad
file. The real ``nightly`` flow runs on it, against a temporary Prefect server, and the script
reads back from the warehouse:

* the rows quarantined or repaired, with their reason codes (``rejected``);
* the good rows loaded, as expected/actual, and how many came out changed (their stored text
  differs from what was written);
* the run's status in ``runs`` (or the exception, when the run itself failed);
* the hassles ranked, so that a record that moves the window is seen.

The table is the evidence behind docs/reliability.md; run it before and after a change (from a
checkout of each commit) to compare.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import git_revision, machine, today  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")

HEADER = ["id", "author", "rating", "title", "body", "date", "product"]
COMPLAINTS = (
    (
        "The app keeps logging me out",
        "I get signed out of the app",
        "The app logs me out again",
        "Being logged out of the app",
    ),
    (
        "My refund has still not arrived",
        "Still waiting for my refund",
        "The refund never reached my account",
        "No sign of the refund I was promised",
    ),
    (
        "A hidden delivery fee was added at checkout",
        "There was a surprise delivery fee at checkout",
        "Checkout added a delivery fee nobody mentioned",
        "An extra delivery charge appeared at checkout",
    ),
)
DETAILS = (
    "every time I switch screens.",
    "after three weeks of waiting.",
    "and support had no answer.",
    "which is really frustrating.",
    "so I am thinking of leaving.",
)
GOOD_ROWS = 60


def good_rows(now: datetime) -> list[dict[str, str]]:
    """The 60 good review rows every class shares: three complaints, dated in the last 30 days.

    Each of the 60 texts is distinct (4 phrasings x 5 endings per complaint), as real ones are.
    """
    rows = []
    for index in range(GOOD_ROWS):
        theme, variant = index % 3, index // 3
        text = f"{COMPLAINTS[theme][variant % 4]} {DETAILS[variant // 4]}"
        created = now - timedelta(days=1 + index % 30, hours=index % 7)
        rows.append(
            {
                "id": f"g{index:03d}",
                "author": f"cust{index % 40}",
                "rating": str(1 + index % 2),
                "title": "",
                "body": text,
                "date": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "product": "app",
            }
        )
    return rows


def _csv_text(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    import io

    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=HEADER, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def _bad(row_id: str, **values: str) -> dict[str, str]:
    row = {
        "id": row_id,
        "author": "z",
        "rating": "2",
        "title": "",
        "body": "x",
        "date": "2026-01-01",
        "product": "P",
    }
    row.update(values)
    return row


@dataclass
class Case:
    """One class of bad input: how to write its files, and the bad rows it plants."""

    name: str
    description: str
    write: Callable[[Path, list[dict[str, str]]], None]
    planted: int = 1
    extra_sources: list[dict] = field(default_factory=list)
    check: Callable[[Any], str] | None = None
    """Reads the warehouse after the run; returns what is wrong with the bad rows' outcome."""


def _none_match(sql: str, what: str) -> Callable[[Any], str]:
    def check(conn: Any) -> str:
        [(count,)] = conn.execute(sql).fetchall()
        return f"{count} {what}" if count else ""

    return check


def _expect(sql: str, expected: Any, what: str) -> Callable[[Any], str]:
    def check(conn: Any) -> str:
        got = conn.execute(sql).fetchall()
        return "" if got == expected else f"{what}: {got!r}"

    return check


def _with_rows(*bad: dict[str, str], at: int = 30) -> Callable[[Path, list[dict[str, str]]], None]:
    def write(folder: Path, good: list[dict[str, str]]) -> None:
        rows = [*good[:at], *bad, *good[at:]]
        (folder / "reviews.csv").write_text(_csv_text(rows), encoding="utf-8")

    return write


def _with_raw_lines(*lines: str, at: int = 30) -> Callable[[Path, list[dict[str, str]]], None]:
    def write(folder: Path, good: list[dict[str, str]]) -> None:
        head, *body = _csv_text(good).splitlines(keepends=True)
        text = head + "".join(body[:at]) + "".join(line + "\n" for line in lines)
        (folder / "reviews.csv").write_text(text + "".join(body[at:]), encoding="utf-8")

    return write


def _duplicate_across_files(folder: Path, good: list[dict[str, str]]) -> None:
    (folder / "reviews.csv").write_text(_csv_text(good), encoding="utf-8")
    other = folder / "reviews-late.csv"
    other.write_text(_csv_text([_bad("dup1", body="Second copy of an id.")]), encoding="utf-8")
    first = folder / "reviews-early.csv"
    first.write_text(_csv_text([_bad("dup1", body="First copy of an id.")]), encoding="utf-8")
    past = time.time() - 3600
    os.utime(first, (past, past))


def _gzip_csv(folder: Path, good: list[dict[str, str]]) -> None:
    half = len(good) // 2
    (folder / "reviews.csv").write_text(_csv_text(good[:half]), encoding="utf-8")
    with gzip.open(folder / "reviews-more.csv.gz", "wt", encoding="utf-8") as out:
        out.write(_csv_text(good[half:]))


def _semicolons(folder: Path, good: list[dict[str, str]]) -> None:
    half = len(good) // 2
    (folder / "reviews.csv").write_text(_csv_text(good[:half]), encoding="utf-8")
    (folder / "reviews-more.csv").write_text(_csv_text(good[half:], ";"), encoding="utf-8")


def _dangling_symlink(folder: Path, good: list[dict[str, str]]) -> None:
    (folder / "reviews.csv").write_text(_csv_text(good), encoding="utf-8")
    (folder / "gone.csv").symlink_to(folder / "no-such-file.csv")


def _invalid_utf8(folder: Path, good: list[dict[str, str]]) -> None:
    head, *body = _csv_text(good).encode("utf-8").splitlines(keepends=True)
    bad = b"bad8,z,2,,caf\xe9 au lait was cold \xff\xfe,2026-01-01,P\n"
    (folder / "reviews.csv").write_bytes(head + b"".join(body[:30]) + bad + b"".join(body[30:]))


def _jsonl_oddities(folder: Path, good: list[dict[str, str]]) -> None:
    (folder / "reviews.csv").write_text(_csv_text(good), encoding="utf-8")
    lines = [
        "{not json",
        "[1, 2, 3]",
        json.dumps({"id": True, "created_at": "2026-01-01", "subject": "x", "description": "y"}),
        '{"id": 123456789012345678901, "created_at": "2026-01-01", "subject": "Big id one"}',
        '{"id": 123456789012345678902, "created_at": "2026-01-01", "subject": "Big id two"}',
    ]
    (folder / "tickets.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


_TICKETS = {
    "name": "tickets",
    "channel": "ticket",
    "format": "jsonl",
    "fields": {"external_id": "id", "created_at": "created_at", "text": ["subject", "description"]},
}


def cases(now: datetime) -> list[Case]:
    """Every class of bad input the benchmark tries."""
    soon = (now + timedelta(days=30)).strftime("%Y-%m-%d")
    return [
        Case("clean", "60 good rows and nothing else (the baseline)", _with_rows(), planted=0),
        Case(
            "date_offset_max",
            "date 9999-12-31T23:59:59-05:00 (overflows when moved to UTC)",
            _with_rows(_bad("X1", date="9999-12-31T23:59:59-05:00")),
        ),
        Case(
            "date_offset_min",
            "date 0001-01-01T00:30:00+01:00 (underflows when moved to UTC)",
            _with_rows(_bad("X2", date="0001-01-01T00:30:00+01:00")),
        ),
        Case(
            "date_sentinel_9999",
            "date 9999-12-31, the enterprise 'no date' sentinel",
            _with_rows(_bad("X3", date="9999-12-31")),
            check=_none_match(
                "SELECT count(*) FROM comments WHERE created_at > now()", "future-dated comments"
            ),
        ),
        Case(
            "date_future",
            f"date {soon}, a month after the run",
            _with_rows(_bad("X4", date=soon)),
        ),
        Case(
            "date_ancient",
            "date 1970-01-01, before 2000",
            _with_rows(_bad("X5", date="1970-01-01")),
        ),
        Case(
            "unclosed_quote",
            'a body that opens a quote and never closes it ("the app ...)',
            _with_raw_lines('Q1,z,2,,"the app is broken,2026-01-01,P', at=20),
        ),
        Case(
            "ragged_row",
            "a row with two extra fields",
            _with_raw_lines("R1,z,2,,body,2026-01-01,P,extra,more"),
        ),
        Case(
            "duplicate_in_file",
            "the same id twice in one file",
            _with_rows(_bad("g005", body="A second row reusing id g005.")),
        ),
        Case(
            "duplicate_across_files",
            "the same id in two files of one source (the newer file wins)",
            _duplicate_across_files,
            check=_expect(
                "SELECT text FROM comments WHERE external_id = 'dup1'",
                [("Second copy of an id.",)],
                "dup1 holds",
            ),
        ),
        Case(
            "missing_fields",
            "no id; no text; no date",
            _with_rows(_bad("", body="Has no id."), _bad("M2", body=""), _bad("M3", date="")),
            planted=3,
        ),
        Case(
            "html_entities",
            "&lt;script&gt;alert(1)&lt;/script&gt; in a body (must not become markup)",
            _with_rows(_bad("H1", body="Broken &lt;script&gt;alert(1)&lt;/script&gt; page")),
            check=_none_match(
                "SELECT count(*) FROM comments WHERE text ILIKE '%<script%'", "texts with <script"
            ),
        ),
        Case(
            "terminal_markup",
            "rich markup in a body: [/x] [b]bold[/b] [link=http://x]y[/link]",
            _with_rows(_bad("T1", body="Checkout fails [/x] [b]bold[/b] [link=http://x]y[/link]")),
        ),
        Case(
            "nul_in_id",
            "a NUL byte inside an id",
            _with_rows(_bad("N\x001", body="Nul id.")),
            check=_none_match(
                "SELECT count(*) FROM comments WHERE contains(external_id, chr(0))", "ids with NUL"
            ),
        ),
        Case("invalid_utf8", "bytes that are not UTF-8 in a body", _invalid_utf8),
        Case(
            "long_field",
            "a 2,000,000-character body",
            _with_rows(_bad("L1", body="slow checkout " * 142_858)),
        ),
        Case("gzip_file", "half the rows in a gzip-compressed CSV", _gzip_csv, planted=0),
        Case("semicolon_file", "half the rows in a ;-delimited CSV", _semicolons, planted=0),
        Case("dangling_symlink", "a symlink to a missing file in the folder", _dangling_symlink),
        Case(
            "jsonl_oddities",
            "a second source: invalid JSON, a non-object, id true, two ids over 64 bits",
            _jsonl_oddities,
            planted=5,
            extra_sources=[_TICKETS],
            check=_expect(
                "SELECT external_id FROM comments WHERE source = 'tickets' ORDER BY 1",
                [("123456789012345678901",), ("123456789012345678902",)],
                "ticket ids",
            ),
        ),
    ]


def run_case(case: Case, workdir: Path, now: datetime) -> dict:
    """Write one case's files, run ``nightly`` on them, and read back what happened."""
    import duckdb

    from config.sources import demo_source_dicts
    from flows.nightly import nightly

    folder = workdir / case.name
    if folder.exists():
        shutil.rmtree(folder)
    data = folder / "data"
    data.mkdir(parents=True)
    good = good_rows(now)
    case.write(data, good)
    sources = [
        {
            "name": "reviews",
            "channel": "review",
            "path": str(data / "*.csv*"),
            "format": "csv",
            "fields": demo_source_dicts()[0]["fields"],  # the demo's review mapping
        },
        *({**s, "path": str(data / "*.jsonl")} for s in case.extra_sources),
    ]
    config = folder / "hasslemap.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "warehouse": str(folder / "warehouse.duckdb"),
                "sources": sources,
                "report": {"out_dir": str(folder / "reports")},
            }
        ),
        encoding="utf-8",
    )
    error = ""
    try:
        nightly(config_path=str(config))
    except Exception as exc:  # the table shows a sunk run rather than stopping the benchmark
        error = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    conn = duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)
    try:
        texts = dict(
            conn.execute(
                "SELECT external_id, text FROM comments WHERE source = 'reviews'"
            ).fetchall()
        )
        rejected = conn.execute(
            "SELECT reason_code, action, count(*) FROM rejected GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        status = conn.execute("SELECT status FROM runs ORDER BY started_at DESC LIMIT 1").fetchone()
        ranked = conn.execute(
            "SELECT count(*) FROM hassle_rankings WHERE run_id = "
            "(SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1)"
        ).fetchone()
        outcome = (case.check(conn) or "ok") if case.check else "-"
    finally:
        conn.close()
    expected = {row["id"]: row["body"] for row in good}
    loaded = [key for key in expected if key in texts]
    changed = [key for key in loaded if texts[key] != expected[key]]
    return {
        "case": case.name,
        "input": case.description,
        "quarantined": ", ".join(
            f"{code} {n}" for code, action, n in rejected if action != "repaired"
        )
        or "-",
        "repaired": ", ".join(f"{code} {n}" for code, action, n in rejected if action == "repaired")
        or "-",
        "good": f"{len(loaded)}/{len(expected)}",
        "changed": len(changed),
        "status": error or (status[0] if status else "none"),
        "hassles": ranked[0] if ranked else 0,
        "bad rows' outcome": outcome,
        "warehouse MB": round((folder / "warehouse.duckdb").stat().st_size / 2**20, 1),
    }


COLUMNS = (
    "case",
    "input",
    "quarantined",
    "repaired",
    "good",
    "changed",
    "status",
    "hassles",
    "bad rows' outcome",
    "warehouse MB",
)


def markdown_table(results: list[dict]) -> str:
    """The results as a Markdown table."""
    lines = [
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "|".join("---" for _ in COLUMNS) + "|",
    ]
    for row in results:
        cells = [str(row[c]).replace("|", "\\|") for c in COLUMNS]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/hostile"))
    parser.add_argument("--only", default="", help="comma-separated case names")
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = parser.parse_args()

    from prefect.testing.utilities import prefect_test_harness

    now = datetime.now(UTC).replace(microsecond=0, tzinfo=None)
    wanted = {name for name in args.only.split(",") if name}
    chosen = [case for case in cases(now) if not wanted or case.name in wanted]
    results = []
    with prefect_test_harness(server_startup_timeout=120):
        for case in chosen:
            started = time.perf_counter()
            results.append(run_case(case, args.workdir.resolve(), now))
            print(f"{case.name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    table = markdown_table(results)
    sunk = sum(1 for row in results if row["status"] != "completed")
    lost = sum(int(row["good"].split("/")[1]) - int(row["good"].split("/")[0]) for row in results)
    changed = sum(row["changed"] for row in results)
    header = (
        f"hostile inputs, {today()}, commit {git_revision()}, {machine()}\n"
        f"runs not completed: {sunk} of {len(results)}; good rows lost: {lost}; "
        f"good rows changed: {changed}\n"
    )
    print(header)
    print(table)
    if args.markdown:
        args.markdown.write_text(header + "\n" + table + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
