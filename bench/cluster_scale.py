"""Benchmark: the default clusterer on 100,000 and 1,000,000 vectors, time and peak memory.

Usage: python bench/cluster_scale.py [--sizes 100000,1000000] [--sigma 0.02] [--seed 0]

The vectors are real: the cached all-MiniLM-L6-v2 embeddings of banking77 and clinc150
(in-scope), 35,583 texts (``var/bench/clustering/``, written by ``bench/clustering.py``; computed
here if absent). N rows are drawn from them with replacement (seeded), each gets Gaussian noise
(``--sigma`` per dimension; 0.02 gives a cosine of about 0.93 to its source) and is
L2-normalised again, so the data has the near-duplicates real comments have.

Each size runs in a fresh process, so its peak memory is its own. The process builds the
vectors (not timed; their memory, 1.5 GB at a million, counts in the peak since the clusterer
needs them in memory), then runs ``HdbscanClusterer(ClusterParams())`` and reports seconds per
step (``Clustering.timings``: ``reduce`` includes drawing the sample and, with the default
UMAP, numba compiling it, about 24 s, as every fresh nightly process does), the total, peak
RSS, the clusters, the coverage, and the NMI on covered rows against the intent of the row
each vector was drawn from.

Then the same process runs a night with 1% new text (``nlp.hierarchy.assign_incrementally``):
the last 1% of the rows count as new and unassigned, every other row keeps its cluster, and
the new rows are voted in or left for new clusters. It reports the night's seconds, the share
of new rows voted into a cluster, and the peak RSS after it.

Targets (issue 4): 100,000 units in under 2 minutes with peak memory under 4 GB on this 2-core
machine; 1,000,000 units possible (fit on a sample, assign the rest).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import eval_parser, machine, peak_rss_mb, today  # noqa: E402

SOURCES = ("banking77", "clinc150")
_CHUNK = 65_536


def build_vectors(n: int, sigma: float, seed: int):
    """N perturbed copies of the cached real vectors, and the source label of each."""
    import numpy as np
    from clustering import CACHE, _read

    real, labels = [], []
    for name in SOURCES:
        real.append(np.load(CACHE / f"{name}.npy").astype(np.float32))
        labels += [f"{name}:{label}" for label in _read(CACHE / f"{name}.csv")[1]]
    real = np.concatenate(real)
    _, label_ids = np.unique(np.asarray(labels), return_inverse=True)
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(real), size=n)
    vectors = np.empty((n, real.shape[1]), dtype=np.float32)
    for first in range(0, n, _CHUNK):
        block = real[source[first : first + _CHUNK]]
        block += rng.standard_normal(block.shape, dtype=np.float32) * np.float32(sigma)
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        vectors[first : first + len(block)] = block
    return vectors, label_ids[source], len(real)


def _children(parent: int) -> list[int]:
    """Process ids whose parent is ``parent``, read from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


class WorkerWatch:
    """Polls this process's child processes (joblib workers) for their peak RSS (``VmHWM``).

    Workers come and go (loky stops idle ones), so each one's peak is recorded while it lives;
    :meth:`stop` returns their sum, an upper bound on what they held at any one time.
    """

    def __init__(self, every: float = 0.5) -> None:
        import threading

        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        for pid in _children(os.getpid()):
            try:
                status = Path(f"/proc/{pid}/status").read_text().splitlines()
                kb = next(int(x.split()[1]) for x in status if x.startswith("VmHWM:"))
            except (OSError, StopIteration, ValueError):
                continue
            self.peaks[pid] = max(self.peaks.get(pid, 0), kb)

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            self._poll()

    def stop(self) -> float:
        """Stop polling; return the summed peaks in MiB."""
        self._poll()
        self._stop.set()
        self._thread.join()
        return sum(self.peaks.values()) / 1024


def measure(n: int, sigma: float, seed: int) -> dict:
    """Build N vectors and cluster them, in this process; return the measurements."""
    import numpy as np
    from sklearn.metrics import normalized_mutual_info_score

    from nlp.clusterers.hdbscan import ClusterParams, HdbscanClusterer
    from nlp.hierarchy import assign_incrementally

    vectors, truth, n_real = build_vectors(n, sigma, seed)
    rss_before = peak_rss_mb()
    watch = WorkerWatch()
    started = time.perf_counter()
    clustering = HdbscanClusterer(ClusterParams()).cluster(vectors)
    total = time.perf_counter() - started
    peak = peak_rss_mb()
    workers = watch.stop()
    is_new = np.arange(n) >= n - max(1, n // 100)
    started = time.perf_counter()
    night = assign_incrementally(
        vectors,
        np.where(is_new, -1, clustering.labels),
        is_new,
        clustering.n_clusters,
        np.zeros(clustering.n_clusters, dtype=np.int32),
        ClusterParams(),
        min_cluster_size=clustering.min_cluster_size or 10,
    )
    night_s = time.perf_counter() - started
    covered = clustering.labels != -1
    return {
        "night_s": round(night_s, 2),
        "night_joined": float(night.joined[is_new].mean()),
        "night_peak_rss_mb": round(peak_rss_mb()),
        "n": n,
        "n_real": n_real,
        "timings": clustering.timings,
        "total_s": round(total, 2),
        "rss_before_mb": round(rss_before),
        "peak_rss_mb": round(peak),
        "with_workers_mb": round(peak + workers),
        "clusters": clustering.n_clusters,
        "fitted_on": clustering.fitted_on,
        "min_cluster_size": clustering.min_cluster_size,
        "coverage": clustering.coverage,
        "nmi_covered": float(
            normalized_mutual_info_score(truth[covered], clustering.labels[covered])
        ),
    }


def main() -> None:
    parser = eval_parser(__doc__)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--sigma", type=float, default=0.02)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.measure:
        print("RESULT " + json.dumps(measure(args.measure, args.sigma, args.seed)))
        return

    from clustering import CACHE, embeddings, load_dataset, revision

    box: list = []
    for name in SOURCES:  # reuse the cache, or embed once (needs the eval datasets)
        if not (CACHE / f"{name}.npy").exists() and not args.eval.is_dir():
            sys.exit(f"{args.eval}: not found, and no cached vectors for {name}; pass --eval")
        if not (CACHE / f"{name}.npy").exists():
            embeddings(name, *load_dataset(args.eval, name), box)

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    results = []
    for n in (int(s) for s in args.sizes.split(",")):
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--measure",
                str(n),
                "--sigma",
                str(args.sigma),
                "--seed",
                str(args.seed),
            ],
            capture_output=True,
            text=True,
        )
        lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
        if not lines:
            sys.exit(f"clustering {n:,} vectors failed:\n{out.stderr[-3000:]}")
        results.append(json.loads(lines[-1][len("RESULT ") :]))
        print(f"{n:,}: {results[-1]['total_s']} s", file=sys.stderr, flush=True)

    print(f"bench/cluster_scale.py, {today()}, commit {revision()}")
    print(f"machine: {machine()}; load average before: {load_before}")
    print(
        f"data: {results[0]['n_real']:,} real vectors (banking77 + clinc150 in-scope), resampled with Gaussian noise sigma {args.sigma} per dim, renormalised; seed {args.seed}; default ClusterParams"
    )
    print()
    steps = list(dict.fromkeys(k for r in results for k in r["timings"]))
    print(
        "| units | fitted on | min_cluster_size | "
        + " | ".join(f"{k} s" for k in steps)
        + " | other s | total s | RSS before MiB | peak RSS MiB | + workers MiB | clusters "
        "| coverage | NMI covered | 1%-new night s | new voted in | peak RSS after night MiB |"
    )
    print("|" + "---:|" * (14 + len(steps)))
    for r in results:
        cells = [f"{r['n']:,}", f"{r['fitted_on']:,}", str(r["min_cluster_size"])]
        cells += [f"{r['timings'].get(k, 0):.1f}" for k in steps]
        cells += [
            f"{r['total_s'] - sum(r['timings'].values()):.1f}",
            f"**{r['total_s']:.1f}**",
            f"{r['rss_before_mb']:,}",
            f"**{r['peak_rss_mb']:,}**",
            f"{r['with_workers_mb']:,}",
            str(r["clusters"]),
            f"{r['coverage']:.3f}",
            f"{r['nmi_covered']:.3f}",
            f"**{r['night_s']:.1f}**",
            f"{r['night_joined']:.3f}",
            f"{r['night_peak_rss_mb']:,}",
        ]
        print("| " + " | ".join(cells) + " |")
    print(
        "\nother s: finding distinct rows, mapping the result back, final centroids. "
        "+ workers: the process's peak plus the peaks of its joblib workers (HDBSCAN's core "
        "distances), an upper bound on the total."
    )


if __name__ == "__main__":
    main()
