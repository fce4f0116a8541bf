"""Benchmark: clustering quality on labelled intent datasets, beside BERTopic and k-means.

Usage: python bench/clustering.py [--eval ../shared/eval] [--datasets banking77,clinc150,...]
       [--skip-bertopic] [--seed N] [--markdown]

Datasets (from ``--eval``, see its README): banking77 (``all.csv``, 13,083 rows), clinc150
(``clinc150_full.csv``, the 22,500 in-scope rows) and the three DSTC11 intent-clustering sets
(insurance, banking, finance). Every text is embedded once with the default embedder
(``models.load_embedder()``) and the vectors are cached under
``var/bench/clustering/<dataset>.npy`` (with the texts and labels in ``<dataset>.csv``); a cache
whose texts or labels differ from the dataset is recomputed. All methods get the same vectors,
and embedding time is not counted.

Methods:

* ``hasslemap (default)``: ``HdbscanClusterer(ClusterParams())`` (UMAP to 5 dims, HDBSCAN,
  kNN-vote soft assignment of the noise);
* ``hasslemap pca``: the same with ``reduction="pca"`` (32 dims), the default before
  session 16;
* ``hasslemap none``: no reduction, HDBSCAN in 384 dimensions; only on sets of at most
  ``--none-max-rows`` rows (it is slow), otherwise reported as skipped;
* ``BERTopic default``: ``BERTopic(calculate_probabilities=False)`` with its default UMAP
  (plus a seed) and HDBSCAN (``min_cluster_size=10``); the time is ``fit_transform``, which
  includes its c-TF-IDF topic representation;
* ``BERTopic + reduce_outliers``: BERTopic's own reassignment of the outliers
  (``strategy="embeddings"``); its time is the extra time on top of ``fit_transform``;
* ``k-means (k = true labels)``: ``KMeans(n_clusters=true k, n_init=3)``, a reference that is
  told the number of intents.

Metrics (``sklearn.metrics``): NMI and ARI on the covered rows (noise left out) and on all
rows (noise counted as one extra cluster); coverage is the share of rows not noise. Times are
wall-clock seconds of the clustering alone, after a warm-up run of every method on a few rows
(imports and numba compilation are not counted).

Targets (issue 4): banking77 NMI >= 0.80 with coverage >= 0.80, ahead of BERTopic on both, and
faster.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import git_revision, machine, today  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench" / "clustering"
DATASETS = ("banking77", "clinc150", "dstc11_insurance", "dstc11_banking", "dstc11_finance")
DSTC11_FILES = {
    "dstc11_insurance": "development_insurance.csv",
    "dstc11_banking": "test-banking_banking.csv",
    "dstc11_finance": "test-finance_finance.csv",
}


@dataclass
class Result:
    """One method's result on one dataset (``labels`` is None when skipped)."""

    method: str
    labels: object = None
    seconds: float = 0.0
    note: str = ""
    steps: dict | None = None


def revision() -> str:
    """The commit, marked when the clusterer under test has uncommitted changes."""
    import subprocess

    changed = subprocess.run(
        ["git", "diff", "--quiet", "HEAD", "--", "nlp/cluster.py"], cwd=ROOT, check=False
    ).returncode
    return git_revision() + (" + uncommitted nlp/cluster.py" if changed else "")


def _read(path: Path, keep=None) -> tuple[list[str], list[str]]:
    with open(path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if keep is None or keep(r)]
    return [r["text"] for r in rows], [r["label"] for r in rows]


def load_dataset(eval_dir: Path, name: str) -> tuple[list[str], list[str]]:
    """(texts, labels) of one dataset."""
    if name == "banking77":
        return _read(eval_dir / "banking77" / "all.csv")
    if name == "clinc150":
        return _read(eval_dir / "clinc150" / "clinc150_full.csv", lambda r: r["label"] != "oos")
    if name in DSTC11_FILES:
        return _read(eval_dir / "dstc11_intent_clustering" / DSTC11_FILES[name])
    raise SystemExit(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")


def embeddings(name: str, texts: list[str], labels: list[str], embedder_box: list):
    """The cached vectors of a dataset, computed (and cached) when absent or stale."""
    import numpy as np

    vectors_path, rows_path = CACHE / f"{name}.npy", CACHE / f"{name}.csv"
    if vectors_path.exists() and rows_path.exists():
        cached_texts, cached_labels = _read(rows_path)
        vectors = np.load(vectors_path)
        if cached_texts == texts and cached_labels == labels and len(vectors) == len(texts):
            return vectors, 0.0
        print(f"{name}: cache is stale, re-embedding", file=sys.stderr)
    if not embedder_box:
        from models import load_embedder

        embedder_box.append(load_embedder())
    started = time.perf_counter()
    vectors = np.asarray(embedder_box[0].encode(texts), dtype=np.float32)
    seconds = time.perf_counter() - started
    CACHE.mkdir(parents=True, exist_ok=True)
    np.save(vectors_path, vectors)
    with open(rows_path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels, strict=True))
    return vectors, seconds


def run_hasslemap(vectors, **params) -> tuple[object, float, dict]:
    """Labels, seconds and seconds per step of the project's clusterer with these parameters."""
    from nlp.clusterers.hdbscan import ClusterParams, HdbscanClusterer

    started = time.perf_counter()
    clustering = HdbscanClusterer(ClusterParams(**params)).cluster(vectors)
    return clustering.labels, time.perf_counter() - started, clustering.timings


def run_bertopic(texts, vectors, seed: int) -> list[Result]:
    """BERTopic's default pipeline on the given vectors, then its outlier reduction."""
    import numpy as np
    from bertopic import BERTopic
    from umap import UMAP

    umap_model = UMAP(
        n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=seed
    )
    model = BERTopic(umap_model=umap_model, calculate_probabilities=False, verbose=False)
    started = time.perf_counter()
    topics, _ = model.fit_transform(texts, embeddings=vectors)
    fit_s = time.perf_counter() - started
    started = time.perf_counter()
    if min(topics) == -1:
        reduced = model.reduce_outliers(texts, topics, strategy="embeddings", embeddings=vectors)
    else:  # nothing to reassign (reduce_outliers raises on that)
        reduced = topics
    extra_s = time.perf_counter() - started
    return [
        Result("BERTopic default", np.asarray(topics), fit_s, "incl. c-TF-IDF"),
        Result("BERTopic + reduce_outliers", np.asarray(reduced), extra_s, "extra time"),
    ]


def run_kmeans(vectors, k: int, seed: int) -> tuple[object, float]:
    """k-means told the true number of clusters."""
    from sklearn.cluster import KMeans

    started = time.perf_counter()
    labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(vectors)
    return labels, time.perf_counter() - started


def warm_up(texts, vectors, skip_bertopic: bool, rows: int = 400) -> None:
    """Run every method once on a few rows, so imports and JIT compilation are not timed.

    UMAP switches from exact neighbours to NN-descent (compiled on first use) at 4,096 rows,
    so it is warmed up on 5,000 rows where the dataset has them.
    """
    run_hasslemap(vectors[:rows])
    run_hasslemap(vectors[:5000], reduction="umap", n_components=5)
    run_hasslemap(vectors[:rows], reduction="none")
    if not skip_bertopic:
        run_bertopic(texts[:rows], vectors[:rows], 0)
    run_kmeans(vectors[:rows], 5, 0)


def score(truth, labels) -> dict[str, float]:
    """Clusters, coverage, and NMI/ARI on covered rows and on all rows."""
    import numpy as np
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    truth = np.asarray(truth)
    covered = labels != -1
    out = {
        "clusters": len(set(labels[covered].tolist())),
        "coverage": float(covered.mean()),
        "nmi_all": normalized_mutual_info_score(truth, labels),
        "ari_all": adjusted_rand_score(truth, labels),
    }
    if covered.any():
        out["nmi_cov"] = normalized_mutual_info_score(truth[covered], labels[covered])
        out["ari_cov"] = adjusted_rand_score(truth[covered], labels[covered])
    else:
        out["nmi_cov"] = out["ari_cov"] = float("nan")
    return out


COLUMNS = (
    "method",
    "clusters",
    "coverage",
    "NMI covered",
    "ARI covered",
    "NMI all",
    "ARI all",
    "cluster s",
)


def table_rows(truth, results: list[Result]) -> list[list[str]]:
    """Formatted table cells, one row per method."""
    rows = []
    for r in results:
        if r.labels is None:
            rows.append([r.method, r.note, "", "", "", "", "", ""])
            continue
        m = score(truth, r.labels)
        seconds = f"{r.seconds:.1f}" + (f" ({r.note})" if r.note else "")
        rows.append(
            [
                r.method,
                f"{m['clusters']}",
                f"{m['coverage']:.3f}",
                f"{m['nmi_cov']:.3f}",
                f"{m['ari_cov']:.3f}",
                f"{m['nmi_all']:.3f}",
                f"{m['ari_all']:.3f}",
                seconds,
            ]
        )
    return rows


def print_markdown(title: str, rows: list[list[str]]) -> None:
    """A markdown table with a bold title line."""
    print(f"**{title}**")
    print()
    print("| " + " | ".join(COLUMNS) + " |")
    print("|---|" + "---:|" * (len(COLUMNS) - 1))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def print_rich(title: str, rows: list[list[str]]) -> None:
    """The same table, drawn by rich."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for i, column in enumerate(COLUMNS):
        table.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=160).print(table)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--skip-bertopic", action="store_true")
    parser.add_argument(
        "--seed",
        type=int,
        default=None,
        help="one seed for every method (default: hasslemap 0, BERTopic's UMAP 42, k-means 0)",
    )
    parser.add_argument(
        "--none-max-rows",
        type=int,
        default=15_000,
        help="run 'hasslemap none' only on sets this small (banking77 takes about 90 s)",
    )
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    args = parser.parse_args()

    if not args.eval.is_dir():
        sys.exit(
            f"{args.eval}: not found. The benchmark reads the shared evaluation datasets "
            "(banking77, clinc150, dstc11_intent_clustering); pass --eval with their folder."
        )
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    for name in names:
        if name not in DATASETS:
            sys.exit(f"unknown dataset {name!r}; choose from {', '.join(DATASETS)}")
    hm_seed = 0 if args.seed is None else args.seed
    umap_seed = 42 if args.seed is None else args.seed
    km_seed = 0 if args.seed is None else args.seed
    warnings.filterwarnings("ignore", message=".*n_jobs value.*overridden.*")

    import numpy as np

    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    embedder_box: list = []
    tables = []
    warmed = False
    for name in names:
        texts, labels = load_dataset(args.eval, name)
        vectors, embed_s = embeddings(name, texts, labels, embedder_box)
        k = len(set(labels))
        if not warmed:  # imports and numba compilation (UMAP, HDBSCAN) are not timed
            warm_up(texts, vectors, args.skip_bertopic)
            warmed = True
        results: list[Result] = []
        for method, params in (
            ("hasslemap (default)", {}),
            ("hasslemap pca", {"reduction": "pca"}),
            ("hasslemap none", {"reduction": "none"}),
        ):
            if params.get("reduction") == "none" and len(texts) > args.none_max_rows:
                results.append(
                    Result(
                        method, None, note=f"skipped: too slow (over {args.none_max_rows:,} rows)"
                    )
                )
                continue
            found, seconds, steps = run_hasslemap(vectors, seed=hm_seed, **params)
            results.append(Result(method, found, seconds, steps=steps))
            print(f"{name}: {method} {seconds:.1f}s", file=sys.stderr, flush=True)
        if not args.skip_bertopic:
            results += run_bertopic(texts, vectors, umap_seed)
            print(f"{name}: BERTopic done", file=sys.stderr, flush=True)
        found, seconds = run_kmeans(vectors, k, km_seed)
        results.append(Result("k-means (k = true labels)", np.asarray(found), seconds))
        embedded = f"embedded in {embed_s:.1f} s" if embed_s else "embeddings cached"
        title = f"{name}: {len(texts):,} texts, {k} intents ({embedded}, not counted)"
        steps = "; ".join(
            f"{r.method}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.steps.items())
            for r in results
            if r.steps
        )
        tables.append((title, table_rows(labels, results), f"seconds per step: {steps}"))

    print(f"bench/clustering.py, {today()}, commit {revision()}")
    print(f"machine: {machine()}; load average before: {load_before}")
    print()
    for title, rows, steps in tables:
        if args.markdown:
            print_markdown(title, rows)
        else:
            print_rich(title, rows)
        print(steps)
        print()


if __name__ == "__main__":
    main()
