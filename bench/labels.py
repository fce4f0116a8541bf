"""Benchmark: cluster labels and specificity on real text, before and after a labeller change.

Usage: python bench/labels.py [--real ../shared/eval/real] [--sets twcs,semeval,cfpb]
       [--limit N] [--before REV] [--merge-similarity 1.0] [--top 30]

Sets (read at run time from ``--real``, see its README; nothing is copied into the project):

* ``twcs``: the 15,096 customer tweets to @SpotifyCares, unlabelled, handles left in;
* ``semeval``: the SemEval-2014 restaurant sentences (train and test), with aspect categories;
* ``cfpb``: the 530 raw CFPB complaint narratives, with their ``issue``.

Each text is split into sentences with the project's spaCy pipeline (``nlp.units``, as enrich
does: lemmas and noun chunks per sentence) and embedded with the default embedder; both are
cached under ``var/bench/labels/``. Every sentence is clustered (no pain-point filter, so thanks
and chit-chat are in the mix) by ``HdbscanClusterer`` with ``merge_similarity`` 1.0 (no merge:
the fine clusters of two-level hassles), and the clusters are labelled by the labeller at
``--before`` (the whole ``nlp`` package of that commit, loaded from git) and by the working
tree's, one after the other in this process.

Printed per set: the share of labels that are a handle, URL, greeting, thanks or a lone word
(every one-word label is listed), the top labels by size side by side, the labelling time, and
the specificity of the most and least specific clusters with two sample sentences each, and
``--parents`` parent groups (average linkage on the cluster centroids) labelled by the same
labeller, beside their children's labels.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib
import io
import json
import os
import pickle
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench" / "labels"
SETS = ("twcs", "semeval", "cfpb", "hotels")

# What the issue forbids in a label: a handle, a URL, a greeting or thanks, a lone word.
_HANDLE = re.compile(r"@\w")
_URL = re.compile(r"https?://|www\.|\.com\b|\bt\.co\b")
_GREETING = re.compile(
    r"\b(hi|hello|hey|hiya|dear|morning|evening|thanks|thank|thx|ty|cheers|appreciate[ds]?|"
    r"regards|please|pls|plz)\b"
)


def defects(label: str) -> list[str]:
    """What is wrong with a label by the issue's rules (empty when nothing)."""
    found = []
    if _HANDLE.search(label):
        found.append("handle")
    if _URL.search(label):
        found.append("url")
    if _GREETING.search(label.lower()):
        found.append("greeting/thanks")
    if len(re.findall(r"[\w'-]+", label)) < 2:
        found.append("lone word")
    return found


def read_set(real: Path, name: str, limit: int | None) -> tuple[list[str], list[str]]:
    """Texts and their human label ("" when the set has none)."""
    if name == "twcs":
        with open(real / "twcs" / "twcs_spotifycares_inbound_15096.csv", newline="") as f:
            rows = [(r["text"], "") for r in csv.DictReader(f)]
    elif name == "cfpb":
        with open(real / "cfpb_complaints" / "cfpb_raw_narratives.csv", newline="") as f:
            rows = [(r["text"], r["issue"]) for r in csv.DictReader(f)]
    elif name == "semeval":
        rows = []
        for part in ("train", "test"):
            with open(real / "semeval_absa" / f"se14_restaurants_{part}.jsonl") as f:
                for line in f:
                    record = json.loads(line)
                    rows.append((record["text"], "+".join(record["categories"])))
    elif name == "hotels":
        with open(real / "reviews" / "tripadvisor_hotel_reviews_partial_2000.csv", newline="") as f:
            rows = [(r["text"], r["rating"]) for r in csv.DictReader(f)]
    else:
        raise SystemExit(f"unknown set {name!r}; choose from {', '.join(SETS)}")
    rows = rows[:limit] if limit else rows
    return [t for t, _ in rows], [lab for _, lab in rows]


def prepare(real: Path, name: str, limit: int | None):
    """Sentences (text, lemmas, noun chunks, source label) and their vectors, cached."""
    import numpy as np

    texts, labels = read_set(real, name, limit)
    key = hashlib.sha256("\x00".join(texts).encode()).hexdigest()[:16]
    path = CACHE / f"{name}-{key}.pkl"
    if path.exists():
        with open(path, "rb") as f:
            return pickle.load(f)
    from models import load_embedder, load_spacy
    from nlp.units import split_sentences

    started = time.perf_counter()
    sentences = []
    for label, split in zip(labels, split_sentences(load_spacy(), texts), strict=True):
        sentences += [(s.text, s.lemmas, s.noun_chunks, label) for s in split]
    print(f"{name}: {len(sentences):,} sentences in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    vectors = np.asarray(load_embedder(device="cpu").encode([s[0] for s in sentences]))
    print(f"{name}: embedded in {time.perf_counter() - started:.0f} s")
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        pickle.dump((sentences, vectors.astype(np.float32)), f)
    return sentences, vectors


def old_labeller(rev: str):
    """``nlp.label`` as it was at ``rev``, with the rest of ``nlp`` as it was then, as a module.

    The ``nlp`` package at ``rev`` is unpacked to a temporary folder as ``nlp_before`` (its
    imports of ``nlp`` renamed), so the labeller reads units with the terms, corpus and
    wordlists of its own commit, not the working tree's.
    """
    folder = Path(tempfile.mkdtemp(prefix="labels-before-"))
    archive = subprocess.run(
        ["git", "archive", rev, "nlp"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    package = folder / "nlp_before"
    (folder / "nlp").rename(package)
    for path in package.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(re.sub(r"^(\s*)(from|import) nlp\b", r"\1\2 nlp_before", text, flags=re.M))
    sys.path.insert(0, str(folder))
    return importlib.import_module("nlp_before.label")


def run_set(name: str, args: argparse.Namespace, before) -> None:
    """Cluster one set and print its labels before and after."""
    import numpy as np

    import nlp.label as after
    from nlp.clusterers.hdbscan import ClusterParams, HdbscanClusterer

    sentences, vectors = prepare(Path(args.real), name, args.limit)
    started = time.perf_counter()
    params = ClusterParams(
        merge_similarity=args.merge_similarity,
        selection=args.selection,
        min_cluster_size=args.min_cluster_size,
    )
    labels = HdbscanClusterer(params).cluster(vectors).labels
    n_clusters = int(labels.max()) + 1
    print(
        f"\n## {name}: {len(sentences):,} sentences, {n_clusters} clusters, coverage "
        f"{np.mean(labels >= 0):.2f} (clustered in {time.perf_counter() - started:.0f} s)"
    )
    results = {}
    for tag, module in (("before", before), ("after", after)):
        units = [
            module.LabelInput(f"u{i}", text, tuple(lemmas), tuple(chunks), None, None)
            for i, (text, lemmas, chunks, _) in enumerate(sentences)
        ]
        started = time.perf_counter()
        results[tag] = module.CtfidfLabeller().label(units, vectors, labels)
        seconds = time.perf_counter() - started
        found = {k: defects(cl.label) for k, cl in results[tag].items()}
        bad = sum(1 for d in found.values() if d)
        kinds = {kind: sum(kind in d for d in found.values()) for kind in ("handle", "url")}
        kinds |= {k: sum(k in d for d in found.values()) for k in ("greeting/thanks", "lone word")}
        print(
            f"{tag}: labelled in {seconds:.1f} s; {bad}/{len(found)} labels "
            f"({bad / len(found):.0%}) are a handle, URL, greeting/thanks or lone word {kinds}"
        )
        lone = sorted(cl.label for cl in results[tag].values() if "lone word" in defects(cl.label))
        print(f"  one-word labels: {', '.join(lone) or '(none)'}")
        other = sorted(
            cl.label for k, cl in results[tag].items() if found[k] and "lone word" not in found[k]
        )
        print(f"  other defects: {', '.join(other) or '(none)'}")

    sizes = np.bincount(labels[labels >= 0], minlength=n_clusters)
    moved = [k for k in results["after"] if results["after"][k].label != results["before"][k].label]
    print(f"\nlabels that differ: {len(moved)} of {len(results['after'])}; the largest 25:")
    for k in sorted(moved, key=lambda k: (-sizes[k], k))[:25]:
        print(
            f"  {sizes[k]:5d}  {results['before'][k].label!r:32} -> {results['after'][k].label!r}"
        )
    truth = [s[3] for s in sentences]
    print(f"\ntop {args.top} clusters by size: before | after (specificity) [top human label]")
    for k in np.argsort(-sizes, kind="stable")[: args.top]:
        members = np.flatnonzero(labels == k)
        human = ""
        if any(truth):
            values, counts = np.unique([truth[i] for i in members], return_counts=True)
            human = f" [{values[counts.argmax()]} {counts.max() / len(members):.0%}]"
        a = results["after"][k]
        spec = "-" if a.specificity is None else f"{a.specificity:.2f}"
        print(f"  {sizes[k]:5d}  {results['before'][k].label!r:32} | {a.label!r} ({spec}){human}")

    if args.parents:
        print_parents(units_after(sentences), vectors, labels, results["after"], args.parents)
    scored = [(cl.specificity, k) for k, cl in results["after"].items()]
    if any(s is None for s, _ in scored):
        return
    scored.sort()
    values = np.array([s for s, _ in scored])
    print(
        f"\nspecificity: quartiles {np.round(np.percentile(values, [25, 50, 75]), 2).tolist()}, "
        f"share below 0.3/0.4/0.5: "
        + "/".join(f"{np.mean(values < t):.2f}" for t in (0.3, 0.4, 0.5))
    )
    rng = np.random.default_rng(0)
    for title, chosen in (("most", scored[::-1][:10]), ("least", scored[:10])):
        print(f"\n{title} specific:")
        for spec, k in chosen:
            members = np.flatnonzero(labels == k)
            sample = rng.choice(members, size=min(2, len(members)), replace=False)
            quotes = " / ".join(repr(sentences[i][0][:80]) for i in sample)
            print(f"  {spec:.2f} {sizes[k]:4d} {results['after'][k].label!r}: {quotes}")


def units_after(sentences):
    """The sentences as the working tree's labeller reads them."""
    from nlp.label import LabelInput

    return [
        LabelInput(f"u{i}", text, tuple(lemmas), tuple(chunks), None, None)
        for i, (text, lemmas, chunks, _) in enumerate(sentences)
    ]


def print_parents(units, vectors, labels, children, n_parents: int) -> None:
    """Group the clusters into parents (average-linkage on centroids) and label the parents.

    The same labeller labels the parents, called with each unit's parent number, as the
    two-level hassles do.
    """
    import numpy as np
    from sklearn.cluster import AgglomerativeClustering

    from nlp.cluster import cluster_centroids
    from nlp.label import CtfidfLabeller

    n_clusters = int(labels.max()) + 1
    centroids = cluster_centroids(vectors, labels, n_clusters)
    grouping = AgglomerativeClustering(
        n_clusters=min(n_parents, n_clusters), metric="cosine", linkage="average"
    ).fit_predict(centroids)
    parent_of_unit = np.where(labels >= 0, grouping[np.maximum(labels, 0)], -1)
    parents = CtfidfLabeller().label(units, vectors, parent_of_unit)
    sizes = np.bincount(parent_of_unit[parent_of_unit >= 0])
    print(f"\nparents ({len(parents)}, grouping the clusters' centroids): label (specificity)")
    for p in np.argsort(-sizes, kind="stable"):
        kids = [children[k].label for k in np.flatnonzero(grouping == p)]
        shown = "; ".join(kids[:6]) + ("; ..." if len(kids) > 6 else "")
        print(f"  {sizes[p]:5d} {parents[p].label!r} ({parents[p].specificity:.2f}) <- {shown}")


def main() -> None:
    """Parse the arguments and run every set."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", default=str(ROOT.parent / "shared" / "eval" / "real"))
    parser.add_argument("--sets", default=",".join(SETS))
    parser.add_argument("--limit", type=int, default=None, help="first N texts of each set")
    parser.add_argument("--before", default="88ebb23", help="git revision of the old labeller")
    parser.add_argument("--merge-similarity", type=float, default=1.0)
    parser.add_argument("--selection", default="leaf", choices=("eom", "leaf"))
    parser.add_argument("--min-cluster-size", type=int, default=None)
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--parents", type=int, default=20, help="parents to group into; 0: none")
    args = parser.parse_args()
    before = old_labeller(args.before)
    for name in args.sets.split(","):
        run_set(name, args, before)


if __name__ == "__main__":
    main()
