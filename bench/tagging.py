"""Benchmark: journey-stage tagging quality on Bitext customer-support requests.

Usage: python bench/tagging.py [--eval ../shared/eval] [--backends torch-bf16,torch] [--shots 20]

Reads ``bitext_customer_support/`` and its ``intent_to_stage.csv`` (24 of 27 intents mapped to
our stages; complaint, review and newsletter_subscription are left out). The mapped rows are
split 50/50 (stratified, seed 0) into a training pool and a held-out test set. On the test set:

* zero-shot: the default taxonomy alone;
* few-shot: plus ``--shots`` labelled examples per stage drawn from the training pool, given to
  the tagger as labelled examples (a logistic regression on the embeddings).

It reports accuracy, macro-F1 (an ``unassigned`` prediction counts as wrong) and coverage (the
share not ``unassigned``), for each embedding backend asked for. The text is generated and
short, so treat the scores as an upper bound for real comments.
"""

from __future__ import annotations

import csv
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import eval_parser, git_revision, machine, today  # noqa: E402


def load_rows(eval_dir: Path) -> list[tuple[str, str]]:
    """(text, stage) for every Bitext row whose intent maps to a stage."""
    folder = eval_dir / "bitext_customer_support"
    if not folder.is_dir():
        sys.exit(f"{folder}: not found; pass --eval with the folder holding the shared datasets")
    with open(folder / "intent_to_stage.csv", newline="") as f:
        stage_of = {row["intent"]: row["journey_stage"] for row in csv.DictReader(f)}
    with open(folder / "bitext_20000_utterances_21534.csv", newline="") as f:
        return [
            (r["text"], stage_of[r["intent"]]) for r in csv.DictReader(f) if r["intent"] in stage_of
        ]


def split(rows: list[tuple[str, str]], seed: int = 0) -> tuple[list, list]:
    """Stratified 50/50 split into a training pool and a test set."""
    by_stage: dict[str, list] = defaultdict(list)
    for row in rows:
        by_stage[row[1]].append(row)
    pool, test = [], []
    rng = random.Random(seed)
    for stage in sorted(by_stage):
        items = by_stage[stage]
        rng.shuffle(items)
        half = len(items) // 2
        pool += items[:half]
        test += items[half:]
    return pool, test


def score(truth: list[str], predicted: list[str]) -> dict[str, float]:
    """Accuracy, macro-F1 over the true stages, and coverage."""
    from sklearn.metrics import accuracy_score, f1_score

    labels = sorted(set(truth))
    return {
        "accuracy": accuracy_score(truth, predicted),
        "macro_f1": f1_score(truth, predicted, labels=labels, average="macro", zero_division=0),
        "coverage": sum(p != "unassigned" for p in predicted) / len(predicted),
    }


class _Cached:
    """Embeds each distinct text once per backend (the benchmark embeds the test set twice)."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.cache: dict[str, object] = {}

    def encode(self, texts):
        import numpy as np

        missing = [t for t in dict.fromkeys(texts) if t not in self.cache]
        if missing:
            for text, vector in zip(missing, self.embedder.encode(missing), strict=True):
                self.cache[text] = vector
        return np.stack([self.cache[t] for t in texts])


def main() -> None:
    parser = eval_parser(__doc__)
    parser.add_argument("--backends", default="torch-bf16,torch")
    parser.add_argument("--shots", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from config.taxonomy import load_taxonomy
    from models import load_embedder
    from nlp.tag import PrototypeTagger

    rows = load_rows(args.eval)
    pool, test = split(rows, args.seed)
    rng = random.Random(args.seed)
    by_stage: dict[str, list] = defaultdict(list)
    for text, stage in pool:
        by_stage[stage].append(text)
    labelled = [
        ("stage", stage, text)
        for stage in sorted(by_stage)
        for text in rng.sample(by_stage[stage], args.shots)
    ]
    taxonomy = load_taxonomy()
    texts = [text for text, _ in test]
    truth = [stage for _, stage in test]

    results = []
    for backend in args.backends.split(","):
        embedder = _Cached(load_embedder(backend=backend, device="cpu"))
        started = time.perf_counter()
        vectors = embedder.encode(texts)
        embed_s = time.perf_counter() - started
        for name, extra in (("zero-shot", []), (f"few-shot ({args.shots}/stage)", labelled)):
            tagger = PrototypeTagger(taxonomy, embedder, labelled=extra)
            predicted = [tag.stage for tag in tagger.tag(vectors)]
            results.append((backend, name, score(truth, predicted), embed_s))

    print(f"bench/tagging.py, {today()}, commit {git_revision()}")
    print(f"machine: {machine()}")
    print(
        f"data: bitext_customer_support, {len(rows):,} mapped rows; test {len(test):,}, pool {len(pool):,}; taxonomy {taxonomy.version_id}"
    )
    print()
    print("| backend | setting | accuracy | macro-F1 | coverage | embed test set s |")
    print("|---|---|---:|---:|---:|---:|")
    for backend, name, metrics, embed_s in results:
        print(
            f"| {backend} | {name} | {metrics['accuracy']:.3f} | {metrics['macro_f1']:.3f} "
            f"| {metrics['coverage']:.3f} | {embed_s:.1f} |"
        )


if __name__ == "__main__":
    main()
