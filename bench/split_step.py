"""Benchmark: the split step of enrich (spaCy, language, VADER), per comment, on real text.

Usage: python bench/split_step.py [--limit 3000] [--data ../shared/eval/real]

Reads the dated support tweets of ``twcs/`` in the real evaluation sets at run time (never
copied into the project), normalises them as enrich does, and times, per comment:
normalisation, spaCy (as enrich runs it, and variants), language detection and VADER. Each
spaCy variant is compared with today's path: share of comments with the same sentence
boundaries, and of sentences with the same lemmas, noun chunks and negation flag.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import git_revision, machine, today  # noqa: E402

TWEETS = "twcs/twcs_spotifycares_inbound_15096.csv"


def real_dir() -> Path:
    """The real evaluation sets: ``$EVAL_REAL_DIR``, else ``shared/eval/real`` beside the repo."""
    if os.environ.get("EVAL_REAL_DIR"):
        return Path(os.environ["EVAL_REAL_DIR"])
    for root in (REPO.parent, REPO.parent.parent):
        if (root / "shared/eval/real").is_dir():
            return root / "shared/eval/real"
    return REPO.parent / "shared/eval/real"


def read_tweets(limit: int | None = None) -> list[str]:
    """The tweets' texts, cleaned as ingest cleans them."""
    import csv

    from nlp.clean import clean_text

    with open(real_dir() / TWEETS, newline="", encoding="utf-8") as handle:
        texts = [clean_text(row["text"], max_chars=5000).text for row in csv.DictReader(handle)]
    return texts[:limit] if limit else texts


def per_comment(label: str, seconds: float, n: int) -> str:
    return f"| {label} | {seconds:.2f} | {seconds / n * 1000:.3f} | {n / seconds:,.0f} |"


def spacy_variant(nlp, texts, matcher, *, batch_size, components=None):
    """Run the unit analysis with a variant of the pipeline; return (seconds, sentences)."""
    from nlp import units

    needed = units.NEEDED_COMPONENTS
    enabled = []
    if components is not None:
        units.NEEDED_COMPONENTS = components
        enabled = [name for name in components if name in nlp.disabled]
        for name in enabled:
            nlp.enable_pipe(name)
    try:
        started = time.perf_counter()
        result = list(units.split_sentences(nlp, texts, matcher=matcher, batch_size=batch_size))
        return time.perf_counter() - started, result
    finally:
        units.NEEDED_COMPONENTS = needed
        for name in enabled:
            nlp.disable_pipe(name)


def agreement(base, other) -> dict[str, float]:
    """Shares of comments with the same sentence boundaries, and of sentences that agree."""
    same_bounds = sum(
        [(s.start, s.end) for s in a] == [(s.start, s.end) for s in b]
        for a, b in zip(base, other, strict=True)
    )
    pairs = [
        (x, y)
        for a, b in zip(base, other, strict=True)
        if [(s.start, s.end) for s in a] == [(s.start, s.end) for s in b]
        for x, y in zip(a, b, strict=True)
    ]
    n = max(len(pairs), 1)
    return {
        "bounds": same_bounds / max(len(base), 1),
        "lemmas": sum(x.lemmas == y.lemmas for x, y in pairs) / n,
        "chunks": sum(x.noun_chunks == y.noun_chunks for x, y in pairs) / n,
        "negated": sum(x.negated == y.negated for x, y in pairs) / n,
        "hits": sum(x.hits == y.hits for x, y in pairs) / n,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=3000)
    parser.add_argument("--batch-sizes", default="64,256,1000")
    args = parser.parse_args()

    from config import load_settings
    from config.taxonomy import load_taxonomy, resolve_taxonomy_path
    from flows.enrich_models import Models
    from nlp.language import detect_language
    from nlp.normalize import Rules, normalise
    from nlp.severity import score_severity

    settings = load_settings(environ={})
    models = Models(settings)
    taxonomy = load_taxonomy(resolve_taxonomy_path(settings))
    matcher = models.matcher(taxonomy)
    raw = read_tweets(args.limit)
    n = len(raw)
    started = time.perf_counter()
    normalised = [normalise(t, Rules()).text for t in raw]
    normalise_s = time.perf_counter() - started

    base_s, base = spacy_variant(models.spacy, normalised, matcher, batch_size=256)
    rows = [("spaCy as enrich runs it (batch 256)", base_s, None)]
    for size in (int(s) for s in args.batch_sizes.split(",")):
        if size != 256:
            seconds, got = spacy_variant(models.spacy, normalised, matcher, batch_size=size)
            rows.append((f"spaCy, batch {size}", seconds, agreement(base, got)))
    seconds, got = spacy_variant(
        models.spacy,
        normalised,
        matcher,
        batch_size=256,
        components=("tok2vec", "tagger", "attribute_ruler", "lemmatizer", "senter"),
    )
    rows.append(("spaCy, senter instead of the parser", seconds, agreement(base, got)))

    fallback = models.language_fallback
    started = time.perf_counter()
    methods = [detect_language(t, fallback).method for t in raw]
    language_s = time.perf_counter() - started
    detector_share = sum(m.startswith("detector") for m in methods) / n

    sentiment = models.sentiment
    started = time.perf_counter()
    for text, sentences in zip(raw, base, strict=True):
        score_severity(text, sentiment)
        for s in sentences:
            score_severity(text[s.start : s.end], sentiment)
    vader_s = time.perf_counter() - started

    print(f"bench/split_step.py, {today()}, commit {git_revision()}")
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} (shared machine)")
    units_n = sum(map(len, base))
    print(f"input: {n:,} real support tweets (twcs), {units_n:,} sentences\n")
    print("| part of the split step | seconds | ms per comment | comments/s |")
    print("|---|---:|---:|---:|")
    print(per_comment("normalise", normalise_s, n))
    for label, seconds, _ in rows:
        print(per_comment(label, seconds, n))
    print(per_comment(f"language ({detector_share:.0%} need the detector)", language_s, n))
    print(per_comment("VADER (comment + each sentence)", vader_s, n))
    print("\n| spaCy variant | same sentence bounds | lemmas | noun chunks | negation | hits |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, _, agree in rows[1:]:
        print(
            f"| {label} | {agree['bounds']:.3f} | {agree['lemmas']:.3f} | {agree['chunks']:.3f} "
            f"| {agree['negated']:.3f} | {agree['hits']:.3f} |"
        )


if __name__ == "__main__":
    main()
