"""Benchmark: embedding backends on real short texts (Banking77, 13,083 customer queries).

Usage: python bench/embed_backends.py [--data PATH] [--limit N] [--backends torch,onnx,...]
                                      [--workdir var/bench/embed] [--device cpu|cuda]
                                      [--model PATH]

For each registered backend of ``models.load_embedder`` (``models.backends.BACKENDS``) and
a plain ``SentenceTransformer(path).encode(texts, batch_size=32)`` baseline, it reports:

* texts/s of encoding alone (after a one-batch warm-up); model loading is timed apart:
  "first load" on an empty export cache (includes the one-time ONNX export/quantization) and
  "load" once that cache exists;
* mean and min cosine of each text's vector to the fp32 ``torch`` vector;
* peak RSS of the process that loaded the model and encoded the texts (and on CUDA, the
  GPU's peak allocated memory).

Then what ``models.backend: auto`` chooses on that device, with every trial behind it.
With ``--device cuda`` only the backends that run there are measured (``runs_on``).

Each measurement runs in a fresh subprocess, so its peak memory is its own; torch keeps its
default thread count (one per core). The result is a Markdown table on stdout.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import git_revision, machine, peak_rss_mb, today  # noqa: E402

from models.backends import BACKENDS  # noqa: E402
from models.paths import DEFAULT_EMBEDDING_MODEL  # noqa: E402

BASELINE = "plain-encode-bs32"
DEFAULT_DATA = REPO.parent / "shared" / "eval" / "banking77" / "all.csv"


def read_texts(path: Path, limit: int | None) -> list[str]:
    """Return the ``text`` column of a CSV file, the first ``limit`` rows (all when None)."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if "text" not in (reader.fieldnames or []):
            sys.exit(f"{path} has no 'text' column (columns: {reader.fieldnames})")
        texts = [row["text"] for row in reader]
    return texts[:limit] if limit else texts


def load(backend: str, cache_dir: Path, device: str, model: str):
    """Load the model for ``backend``: an object with ``encode(texts)`` returning vectors."""
    from models.paths import resolve_model_path

    if backend == BASELINE:
        from sentence_transformers import SentenceTransformer

        plain = SentenceTransformer(resolve_model_path(model), device=device)
        return lambda texts: plain.encode(texts, batch_size=32)
    from models import load_embedder

    return load_embedder(model, backend=backend, device=device, cache_dir=cache_dir).encode


def measure(args: argparse.Namespace, backend: str, load_only: bool) -> dict:
    """Load (and unless ``load_only``, run) one backend in this process; return its figures."""
    import numpy as np
    import torch

    texts = read_texts(args.data, args.limit)
    started = time.perf_counter()
    encode = load(backend, args.workdir / "models", args.device, args.model)
    load_s = time.perf_counter() - started
    if load_only:
        return {"load_s": load_s}
    encode(texts[:32])  # warm-up: first-call allocations, kernel selection
    started = time.perf_counter()
    vectors = np.asarray(encode(texts), dtype=np.float32)
    encode_s = time.perf_counter() - started
    np.save(args.workdir / f"{backend}.npy", vectors)
    gpu_mb = torch.cuda.max_memory_allocated() / 2**20 if args.device != "cpu" else 0.0
    return {
        "gpu_peak_mb": gpu_mb,
        "load_s": load_s,
        "encode_s": encode_s,
        "texts": len(texts),
        "texts_per_s": len(texts) / encode_s,
        "peak_rss_mb": peak_rss_mb(),
        "threads": torch.get_num_threads(),
    }


def run_child(backend: str, args: argparse.Namespace, load_only: bool = False) -> dict:
    """Run :func:`measure` in a fresh Python process and return its JSON answer."""
    command = [
        sys.executable,
        __file__,
        "--measure",
        backend,
        "--data",
        str(args.data),
        "--workdir",
        str(args.workdir),
        "--device",
        args.device,
        "--model",
        args.model,
    ]
    if args.limit:
        command += ["--limit", str(args.limit)]
    if load_only:
        command.append("--load-only")
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:  # one broken backend is a row of the table, not the end of it
        print(f"{backend} failed:\n{done.stderr[-4000:]}", file=sys.stderr, flush=True)
        lines = done.stderr.strip().splitlines() or ["no output"]
        return {"error": lines[-1][:160]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def cosine_to(reference, vectors) -> tuple[float, float]:
    """Mean and min row-wise cosine similarity of two matrices of the same shape."""
    import numpy as np

    ref = reference / np.linalg.norm(reference, axis=1, keepdims=True)
    other = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    cosines = (ref * other).sum(axis=1)
    return float(cosines.mean()), float(cosines.min())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="CSV with a text column")
    parser.add_argument("--limit", type=int, default=None, help="use the first N rows only")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="comma-separated")
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench" / "embed")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--model", default=DEFAULT_EMBEDDING_MODEL, help="models.embedding")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--load-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.data = args.data.resolve()
    args.workdir = args.workdir.resolve()
    if not args.data.is_file():
        sys.exit(
            f"benchmark data not found: {args.data}\n"
            "Pass --data PATH to a CSV file with a 'text' column (Banking77's all.csv)."
        )

    if args.measure:
        if args.measure == "auto":
            result = choose_auto(args)
        else:
            result = measure(args, args.measure, args.load_only)
        print(json.dumps(result))
        return

    import numpy as np

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = set(backends) - set(BACKENDS)
    if unknown:
        sys.exit(f"unknown backends {sorted(unknown)}; choose from {', '.join(BACKENDS)}")
    if args.device != "cpu":
        backends = [b for b in backends if BACKENDS[b].runs_on(args.device)]
    order = ["torch", *[b for b in backends if b != "torch"], BASELINE]  # torch: the reference
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)

    load_before = os.getloadavg()[0]
    rows = []
    for backend in order:
        first = run_child(backend, args, load_only=True)  # empty cache: includes any export
        result = run_child(backend, args) if "error" not in first else first
        if "error" in result:
            if backend == "torch":
                sys.exit(f"the reference failed: {result['error']}")
            rows.append((backend, result))
            continue
        result["first_load_s"] = first["load_s"]
        vectors = np.load(args.workdir / f"{backend}.npy")
        reference = np.load(args.workdir / "torch.npy")
        result["mean_cos"], result["min_cos"] = cosine_to(reference, vectors)
        rows.append((backend, result))
        print(f"{backend}: {result['texts_per_s']:.0f} texts/s", file=sys.stderr, flush=True)

    texts = rows[0][1]["texts"]
    print(f"Embedding backends, {today()}, commit {git_revision()}")
    print(f"Machine: {machine()}; torch threads: {rows[0][1]['threads']}; device {args.device}")
    print(f"Data: {args.data.name}, {texts:,} texts; model all-MiniLM-L6-v2")
    print(f"1-min load average before the run: {load_before:.2f} (other work skews the figures)\n")
    print(
        "| backend | texts/s | x torch | encode s | first load s (incl. export) | load s "
        "| mean cos vs torch | min cos vs torch | peak RSS MiB | GPU peak MiB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    torch_rate = rows[0][1]["texts_per_s"]
    for backend, r in rows:
        if "error" in r:
            print(f"| {backend} | failed: {r['error']} |" + " |" * 8)
            continue
        print(
            f"| {backend} | {r['texts_per_s']:,.0f} | {r['texts_per_s'] / torch_rate:.2f} "
            f"| {r['encode_s']:.1f} | {r['first_load_s']:.1f} | {r['load_s']:.1f} "
            f"| {r['mean_cos']:.4f} | {r['min_cos']:.4f} | {r['peak_rss_mb']:,.0f} "
            f"| {r['gpu_peak_mb']:,.0f} |"
        )
    choice = run_child("auto", args)
    if "error" in choice:
        sys.exit(f"auto failed: {choice['error']}")
    print(f"\n`models.backend: auto` on {args.device} chose **{choice['backend']}**:\n")
    print("| trial | probe texts/s | mean cos | p5 cos |")
    print("|---|---:|---:|---:|")
    for trial in choice["trials"]:
        print(
            f"| {trial['backend']} | {trial['texts_per_second']:,.0f} | {trial['cosine']:.4f} "
            f"| {trial['cosine_p5']:.4f} |"
        )


def choose_auto(args: argparse.Namespace) -> dict:
    """Return what ``auto`` chooses for the model on ``args.device``, measured afresh."""
    from dataclasses import asdict

    from models.loading import choose_for

    return asdict(choose_for(args.model, args.device, args.workdir / "auto"))


if __name__ == "__main__":
    main()
