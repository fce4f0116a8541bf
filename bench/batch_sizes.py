"""Benchmark: embedding speed by batch size, per backend, on real short texts.

Usage: python bench/batch_sizes.py [--backends onnx-int8,torch-bf16-jit] [--sizes 32,64,128]
                                   [--texts 3000] [--rounds 2]

Reads the dated support tweets of ``twcs/`` in the real evaluation sets at run time (never
copied into the project), cuts them into sentences at ``.``, ``!`` and ``?`` (close to the
units enrich embeds; spaCy is not needed to time the embedder) and keeps the first ``--texts``
distinct ones. Every backend is loaded once and timed in turns at each size (each backend and
size once per round), so a burst of load from elsewhere slows every row alike; the table shows
texts/s of each round. What it decides: each backend's ``cpu_batch_size`` in
``models/backends``. Run it with ``LD_PRELOAD`` of ``bench/no_amx.c`` for a CPU without AMX.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import git_revision, machine, today  # noqa: E402
from enrich import cpu_line  # noqa: E402
from split_step import read_tweets  # noqa: E402

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def unit_texts(count: int) -> list[str]:
    """The first ``count`` distinct sentences of the real support tweets."""
    sentences = (s.strip() for tweet in read_tweets() for s in _SENTENCE_END.split(tweet))
    return list(dict.fromkeys(s for s in sentences if s))[:count]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backends", default="onnx-int8,onnx-int8-mixed,onnx,torch-bf16-jit")
    parser.add_argument("--sizes", default="32,64,128,256")
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--cache-dir", type=Path, default=REPO / "var" / "models")
    args = parser.parse_args()

    from models import load_embedder

    texts = unit_texts(args.texts)
    sizes = [int(s) for s in args.sizes.split(",")]
    backends = args.backends.split(",")
    embedders = {
        backend: load_embedder(backend=backend, cache_dir=args.cache_dir) for backend in backends
    }
    for embedder in embedders.values():
        embedder.batch_size = max(sizes)
        embedder.encode(texts[: max(sizes)])  # warm-up: allocations, kernel choice, trace shapes
    rates: dict[tuple[str, int], list[float]] = {(b, s): [] for b in backends for s in sizes}
    for round_ in range(args.rounds):
        for backend, size in rates:
            embedder = embedders[backend]
            embedder.batch_size = size  # only the embedder's batching reads it
            started = time.perf_counter()
            embedder.encode(texts)
            rates[(backend, size)].append(len(texts) / (time.perf_counter() - started))
            print(
                f"round {round_ + 1}: {backend} at {size}: {rates[(backend, size)][-1]:,.0f} texts/s"
            )

    print(f"\n**{today()}**, commit {git_revision()}, {machine()}")
    print(cpu_line())
    print(f"{len(texts):,} distinct real tweet sentences, {args.rounds} rounds\n")
    print("| backend | " + " | ".join(f"batch {s} texts/s" for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for backend in backends:
        cells = [", ".join(f"{r:,.0f}" for r in rates[(backend, s)]) for s in sizes]
        print(f"| {backend} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
