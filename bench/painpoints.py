"""Benchmark: pain points and language detection on real customer text (issue 12, items 7-8).

Usage: python bench/painpoints.py [--eval ../shared/eval] [--tweets 2000] [--limit N] [--seed 0]
       [--ceiling] [--skip-language | --only-language]

Reads the real sets in ``<eval>/real`` at run time (nothing of them is stored or trained on):

* Sentiment-labelled sentences (UCI amazon/yelp: label 0 is a complaint; issue 12's F1 bar is
  on these, the "bar" column) and SemEval 2014/2016 restaurant sentences (a sentence with a
  negative aspect polarity is a complaint, an all-positive one is not, neutral- or
  conflict-only ones are left out and counted). Text-level precision, recall, F1.
* Rated reviews (women's clothing, TripAdvisor hotels): the share of 1-2 star reviews with at
  least one pain-point sentence, and of 5-star reviews with one.
* Spotify support tweets (a seeded sample): the share of tweets with a pain point, and passed
  tweets that read as praise, thanks or chit-chat for a person to check.
* ``--pain-model PATH``: the pain points as enrich finds them with ``models.pain_embedding``
  set to PATH (the same classifier, on that model's vectors; fp32 ``torch`` backend here):
  the column ``after, <model>``, with that model's sentences per second.
* ``--ceiling``: how far a logistic regression on these sentence vectors could go. Per
  sentence set, a logistic regression is fitted on that set's own labels and scored by 5-fold
  cross-validation (each text scored by a model that never saw it), on the mean vector of the
  text's sentences, then with the project's VADER scores of the text beside it. This trains on
  the scoring sets, so it is a measurement only: nothing of it is stored or shipped.

Every text is cleaned and normalised as ingest and enrich read it from a source of its channel
(``social`` for the tweets, ``review`` for the rest: handles, URLs, emoji, greetings and thanks
out), then split with the pipeline's spaCy model and embedded with its embedder, as enrich
does. A text has a pain point when any of its sentences is one. Two rules, side by side:

* ``before``: the rule of commit 88ebb23, rebuilt here: best theme similarity (mean of the top 3
  example similarities) minus the same for the taxonomy's no-hassle examples, above 0.
* ``after``: the tagger enrich builds now (``flows.enrich.build_tagger``) with today's config;
  a rated review's sentences are weighed by its stars (``nlp.tag.weigh_by_rating``), as enrich
  weighs a source's rating field. ``after, ratings unweighed`` is the same tagger with
  ``tagging.pain_prior_delighted`` and ``pain_prior_furious`` at 0.5, side by side.

The language part runs each detector on every text of the English sets and reports the share
marked as another language (neither English nor undetermined), and detections per second.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from _common import git_revision, machine, today  # noqa: E402

BASE_COMMIT = "88ebb23"  # the rule and taxonomy before issue 12
PAIN_F1_BAR = 0.85  # issue 12, on the sentiment-labelled (UCI) sentences


@dataclass
class Text:
    """One real text with its gold label: True complaint, False not, None unknown."""

    dataset: str
    text: str
    gold: bool | None
    rating: int | None = None


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_sentences(real: Path) -> tuple[list[Text], dict[str, int]]:
    """The sentiment-labelled sentences, and per SemEval set how many were left out."""
    texts = []
    for name in ("amazon_cells", "yelp"):
        rows = _csv(real / "reviews" / f"uci_sentiment_{name}.csv")
        texts += [Text(f"uci_{name}", r["text"], r["label"] == "0") for r in rows]
    skipped = {}
    for edition, key in (("se14", "aspect_categories"), ("se16", "opinions")):
        skipped[edition] = 0
        for split in ("train", "test"):
            for row in _jsonl(real / "semeval_absa" / f"{edition}_restaurants_{split}.jsonl"):
                polarities = {item["polarity"] for item in row[key]}
                if "negative" in polarities:
                    texts.append(Text(f"semeval_{edition}", row["text"], True))
                elif polarities == {"positive"}:
                    texts.append(Text(f"semeval_{edition}", row["text"], False))
                else:
                    skipped[edition] += 1
    return texts, skipped


def load_reviews(real: Path) -> list[Text]:
    """The rated reviews; gold is True for 1-2 stars, False for 5, None otherwise."""
    texts = []
    for name, file in (
        ("clothing", "womens_clothing_reviews_partial.csv"),
        ("hotels", "tripadvisor_hotel_reviews_partial_2000.csv"),
    ):
        for row in _csv(real / "reviews" / file):
            rating = int(row["rating"])
            gold = True if rating <= 2 else False if rating == 5 else None
            texts.append(Text(f"reviews_{name}", row["text"], gold, rating))
    return texts


def load_tweets(real: Path, sample: int, seed: int) -> list[Text]:
    """A seeded sample of the Spotify support tweets (no labels)."""
    rows = _csv(real / "twcs" / "twcs_spotifycares_inbound_15096.csv")
    rows = random.Random(seed).sample(rows, min(sample, len(rows)))
    return [Text("twcs_spotify", r["text"], None) for r in rows]


def as_enrich_reads(text: Text, max_chars: int) -> str:
    """``text`` as the flow splits it: cleaned at ingest, normalised by its channel's rules."""
    from config.sources import channel_normalise_rules
    from nlp.clean import clean_text
    from nlp.normalize import Rules, normalise

    channel = "social" if text.dataset == "twcs_spotify" else "review"
    rules = Rules(**channel_normalise_rules(channel))
    return normalise(clean_text(text.text, max_chars=max_chars).text, rules).text


def _limit(texts: list[Text], limit: int | None, seed: int) -> list[Text]:
    if not limit:
        return texts
    out: list[Text] = []
    for name in dict.fromkeys(t.dataset for t in texts):
        group = [t for t in texts if t.dataset == name]
        out += random.Random(seed).sample(group, min(limit, len(group)))
    return out


# ------------------------------------------------------------------------------- rules


def _at_base(path: str) -> str:
    """The text of ``path`` (from the repository root) at the base commit, read from git."""
    return subprocess.run(
        ["git", "show", f"{BASE_COMMIT}:{path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def base_taxonomy():
    """The taxonomy of the base commit, read from git (the 'before' rule's examples)."""
    import yaml

    from config.taxonomy import Taxonomy

    return Taxonomy.model_validate(yaml.safe_load(_at_base("config/taxonomy.yaml")))


def before_rule(embedder) -> Callable[[np.ndarray, Sequence[str]], np.ndarray]:
    """The base commit's rule: best theme score minus best no-hassle score, above 0."""
    from nlp.tag import TOP_K, _Prototypes, _topk_mean

    taxonomy = base_taxonomy()
    themes = _Prototypes(
        [label.key for label in taxonomy.themes],
        [embedder.encode(list(label.examples)) for label in taxonomy.themes],
    )
    calm = embedder.encode(list(taxonomy.no_hassle))

    def rule(vectors: np.ndarray, texts: Sequence[str], verdicts: Sequence) -> np.ndarray:
        return themes.scores(vectors).max(axis=1) - _topk_mean(vectors @ calm.T, TOP_K) > 0

    return rule


def after_rule(settings, embedder) -> Callable[[np.ndarray, Sequence[str]], np.ndarray]:
    """Today's rule: the tagger enrich builds from the current config, ratings weighed in."""
    from config.taxonomy import load_taxonomy, resolve_taxonomy_path
    from flows.enrich import build_tagger

    tagger = build_tagger(settings, load_taxonomy(resolve_taxonomy_path(settings)), embedder)

    def rule(vectors: np.ndarray, texts: Sequence[str], verdicts: Sequence) -> np.ndarray:
        tags = tagger.tag(vectors, texts=texts, dissatisfaction=verdicts)
        return np.array([tag.is_pain_point for tag in tags], dtype=bool)

    return rule


def other_model_flags(
    settings, model: Path, texts: list[Text], sentences: list[list[str]], unique: list[str]
) -> tuple[np.ndarray, dict[str, bool], float]:
    """``after`` with ``model`` as ``models.pain_embedding``: flags, verdicts, sentences/s.

    Only the pain score decides a flag, and it reads the pain model alone, so the tagger is
    built on the pain model's settings (:func:`flows.enrich_models.pain_model_settings`).
    """
    from flows.enrich_models import Models, pain_model_settings

    models = settings.models.model_copy(update={"pain_embedding": str(model), "backend": "torch"})
    other = pain_model_settings(settings.model_copy(update={"models": models}))
    embedder = Models(other).embedder
    started = time.perf_counter()
    vectors = dict(zip(unique, embedder.encode(unique), strict=True))
    per_second = len(unique) / (time.perf_counter() - started)
    flags, verdicts = text_flags(texts, sentences, vectors, after_rule(other, embedder))
    return flags, verdicts, per_second


# ------------------------------------------------------------------------------- scoring


def text_flags(
    texts: Sequence[Text],
    sentences: Sequence[Sequence[str]],
    vectors: dict[str, np.ndarray],
    rule: Callable,
) -> tuple[np.ndarray, dict[str, bool]]:
    """Per text: has any pain-point sentence; and each distinct sentence's verdict.

    A sentence is judged once per rating it comes with (the tagger weighs the writer's rating,
    as enrich does with a source's rating field).
    """
    from nlp.severity import source_signal

    pairs = list(
        dict.fromkeys(
            (s, t.rating) for t, sents in zip(texts, sentences, strict=True) for s in sents
        )
    )
    flags = rule(
        np.vstack([vectors[s] for s, _ in pairs]),
        [s for s, _ in pairs],
        [source_signal(rating, None, None) for _, rating in pairs],
    )
    verdict = dict(zip(pairs, flags, strict=True))
    has_pain = [
        any(verdict[(s, t.rating)] for s in sents)
        for t, sents in zip(texts, sentences, strict=True)
    ]
    return np.array(has_pain), {s: bool(v) for (s, _), v in verdict.items()}


def prf(gold: np.ndarray, predicted: np.ndarray) -> tuple[float, float, float]:
    """Precision, recall and F1 of predicting True."""
    tp = float((gold & predicted).sum())
    precision = tp / max(predicted.sum(), 1)
    recall = tp / max(gold.sum(), 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-9)
    return precision, recall, f1


def pain_tables(texts: list[Text], sentences: list[list[str]], flags: dict[str, np.ndarray]) -> str:
    """The before/after tables, as markdown."""
    names = list(flags)
    lines = [
        "Labelled sentences (a complaint: label 0 / a negative polarity). Issue 12's bar, F1 >= "
        "0.85, is on the sentiment-labelled sentences (UCI); SemEval's aspect polarity is shown "
        f"beside it. Bar: {names[-1]!r}",
        "",
        "| set | texts | " + " | ".join(f"{n} P / R / F1" for n in names) + " | bar |",
        "|---|---:|" + "---:|" * len(names) + "---|",
    ]
    datasets = list(dict.fromkeys(t.dataset for t in texts))
    sentence_sets = [d for d in datasets if d.startswith(("uci", "semeval"))]
    groups = {d: [i for i, t in enumerate(texts) if t.dataset == d] for d in datasets}
    groups_all = [i for d in sentence_sets for i in groups[d]]
    for name, rows in [*((d, groups[d]) for d in sentence_sets), ("all sentences", groups_all)]:
        gold = np.array([texts[i].gold for i in rows], dtype=bool)
        cells = []
        for rule in names:
            p, r, f = prf(gold, flags[rule][rows])
            cells.append(f"{p:.2f} / {r:.2f} / **{f:.2f}**")
        bar_f1 = prf(gold, flags[names[-1]][rows])[2]
        bar = ("holds" if bar_f1 >= PAIN_F1_BAR else "misses") if name.startswith("uci") else "–"
        lines.append(f"| {name} | {len(rows)} | " + " | ".join(cells) + f" | {bar} |")
    lines += [
        "",
        "Rated reviews: share with at least one pain-point sentence (target: 1-2 stars >= 0.90, "
        "5 stars <= 0.15)",
        "",
        "| set | 1-2 star texts | 5 star texts | "
        + " | ".join(f"{n} 1-2 star / 5 star" for n in names)
        + " |",
        "|---|---:|---:|" + "---:|" * len(names),
    ]
    for name in [d for d in datasets if d.startswith("reviews")]:
        low = [i for i in groups[name] if texts[i].gold is True]
        top = [i for i in groups[name] if texts[i].gold is False]
        cells = [f"{flags[n][low].mean():.2f} / {flags[n][top].mean():.2f}" for n in names]
        lines.append(f"| {name} | {len(low)} | {len(top)} | " + " | ".join(cells) + " |")
    if "twcs_spotify" in groups:
        rows = groups["twcs_spotify"]
        units = [s for i in rows for s in sentences[i]]
        lines += [
            "",
            f"Spotify support tweets ({len(rows)} sampled, {len(units)} sentences): share of "
            "tweets with a pain point: "
            + ", ".join(f"{n} {flags[n][rows].mean():.2f}" for n in names),
        ]
    return "\n".join(lines)


def ceiling_table(
    texts: list[Text],
    sentences: list[list[str]],
    vectors: dict[str, np.ndarray],
    analyzer,
    shipped: np.ndarray,
    seed: int,
) -> str:
    """Per sentence set: the shipped classifier beside one fitted on the set's own labels.

    The fitted ones are scored by stratified 5-fold cross-validation on the mean sentence
    vector of each text, alone and with VADER's compound, negative, neutral and positive
    scores of the whole text (``analyzer``, the project's sentiment model) beside it.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    lines = [
        "Ceiling: a logistic regression fitted on each set's own labels, 5-fold "
        "cross-validated (measurement only; P / R / F1)",
        "",
        "| set | texts | shipped (own examples) | own labels, vectors | own labels, vectors "
        "+ VADER |",
        "|---|---:|---:|---:|---:|",
    ]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    datasets = dict.fromkeys(t.dataset for t in texts if t.dataset.startswith(("uci", "semeval")))
    for name in datasets:
        rows = [i for i, t in enumerate(texts) if t.dataset == name and sentences[i]]
        gold = np.array([texts[i].gold for i in rows], dtype=bool)
        mean = np.vstack([np.mean([vectors[s] for s in sentences[i]], axis=0) for i in rows])
        vader = np.array(
            [
                [score[k] for k in ("compound", "neg", "neu", "pos")]
                for score in (analyzer.polarity_scores(texts[i].text) for i in rows)
            ]
        )
        cells = [prf(gold, shipped[rows])]
        for features in (mean, np.hstack([mean, vader])):
            model = LogisticRegression(C=10.0, max_iter=3000, class_weight="balanced")
            scores = cross_val_predict(model, features, gold, cv=folds, method="predict_proba")
            cells.append(prf(gold, scores[:, 1] >= 0.5))
        lines.append(
            f"| {name} | {len(rows)} | "
            + " | ".join(f"{p:.2f} / {r:.2f} / **{f:.2f}**" for p, r, f in cells)
            + " |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------- language


def language_table(texts: list[Text], detectors: dict[str, Callable[[str], str]]) -> str:
    """Share of texts of each English set marked as another language, per detector."""
    datasets = list(dict.fromkeys(t.dataset for t in texts))
    lines = [
        "Language: share of texts marked as another language (all sets are English; target "
        "<= 0.01), and detections per second",
        "",
        "| detector | " + " | ".join(datasets) + " | texts/s |",
        "|---|" + "---:|" * (len(datasets) + 1),
    ]
    examples: dict[str, list[str]] = {}
    for name, detect in detectors.items():
        started = time.perf_counter()
        codes = [detect(t.text) for t in texts]
        speed = len(texts) / (time.perf_counter() - started)
        foreign = [code not in ("en", "und") for code in codes]
        cells = []
        for dataset in datasets:
            rows = [i for i, t in enumerate(texts) if t.dataset == dataset]
            cells.append(f"{np.mean([foreign[i] for i in rows]):.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {speed:,.0f} |")
        examples[name] = [f"{codes[i]}: {texts[i].text[:80]!r}" for i in np.flatnonzero(foreign)]
    for name, found in examples.items():
        lines.append(f"\n{name}: {len(found)} marked foreign, e.g.")
        lines += [f"  {line}" for line in found[:8]]
    return "\n".join(lines)


def language_detectors(models) -> dict[str, Callable[[str], str]]:
    """The base commit's rule (langdetect fallback), lingua on its own, and today's rule."""
    from nlp.language import detect_language

    detectors: dict[str, Callable[[str], str]] = {}
    base = _base_language_module()
    from langdetect import DetectorFactory, LangDetectException, detect_langs

    DetectorFactory.seed = 0

    def langdetect_fallback(text: str) -> list[tuple[str, float]]:
        try:
            return [(g.lang, g.prob) for g in detect_langs(text)]
        except LangDetectException:
            return []

    detectors["before: stopwords + langdetect"] = lambda t: (
        base.detect_language(t, langdetect_fallback).code
    )
    detectors["quick check + langdetect, unsure is und"] = lambda t: (
        detect_language(
            t, langdetect_fallback, min_confidence=models.settings.enrich.language_min_confidence
        ).code
    )
    fallback = models.language_fallback  # lingua over the candidate languages
    fallback("load the models before timing")

    def lingua_only(text: str) -> str:
        guesses = fallback(text)
        return guesses[0][0] if guesses else "und"

    detectors["lingua alone (candidate languages)"] = lingua_only
    detectors["after: quick check + lingua, unsure is und"] = lambda t: (
        detect_language(
            t, fallback, min_confidence=models.settings.enrich.language_min_confidence
        ).code
    )
    return detectors


def _base_language_module():
    """nlp/language.py as it was at the base commit, loaded as a module of its own."""
    import types

    source = _at_base("nlp/language.py")
    module = types.ModuleType("base_language")
    sys.modules["base_language"] = module  # dataclasses look their module up
    exec(compile(source, "base_language.py", "exec"), module.__dict__)  # noqa: S102
    return module


# ------------------------------------------------------------------------------- main


def main() -> None:
    """Run the benchmark and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=ROOT.parent / "shared" / "eval")
    parser.add_argument("--tweets", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=None, help="texts per set (quick runs)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--examples", type=int, default=15)
    parser.add_argument("--skip-language", action="store_true")
    parser.add_argument("--only-language", action="store_true")
    parser.add_argument(
        "--pain-model",
        type=Path,
        default=None,
        help="also run the tagger on this sentence-transformers model's vectors",
    )
    parser.add_argument(
        "--ceiling",
        action="store_true",
        help="also fit a classifier on each sentence set's own labels, cross-validated",
    )
    args = parser.parse_args()
    real = args.eval / "real"
    if not real.is_dir():
        sys.exit(f"{real}: not found; pass --eval with the folder holding real/")

    from config import load_settings
    from flows.enrich_models import Models
    from nlp.units import split_sentences

    settings = load_settings(None)
    models = Models(settings)
    labelled, skipped = load_sentences(real)
    texts = _limit(labelled + load_reviews(real), args.limit, args.seed)
    texts += load_tweets(real, args.tweets if not args.limit else args.limit, args.seed)
    if args.only_language:
        print(language_table(texts, language_detectors(models)))
        return

    started = time.perf_counter()
    read = [as_enrich_reads(t, settings.ingest.max_text_chars) for t in texts]
    sentences = [
        [s.text for s in sents]
        for sents in split_sentences(
            models.spacy,
            read,
            batch_size=256,
            run_on_words=settings.enrich.run_on_words,
            clause_words=settings.enrich.clause_words,
            contrast_words=settings.enrich.contrast_words,
        )
    ]
    unique = list(dict.fromkeys(s for sents in sentences for s in sents))
    vectors = dict(zip(unique, models.embedder.encode(unique), strict=True))
    prepared = time.perf_counter() - started

    unweighed = settings.tagging.model_copy(
        update={"pain_prior_delighted": 0.5, "pain_prior_furious": 0.5}
    )
    rules = {
        "before": before_rule(models.embedder),
        "after, ratings unweighed": after_rule(
            settings.model_copy(update={"tagging": unweighed}), models.embedder
        ),
        "after": after_rule(settings, models.embedder),
    }
    flags, verdicts = {}, {}
    for name, rule in rules.items():
        flags[name], verdicts[name] = text_flags(texts, sentences, vectors, rule)
    if args.pain_model:
        name = f"after, {args.pain_model.name}"
        flags[name], verdicts[name], per_second = other_model_flags(
            settings, args.pain_model, texts, sentences, unique
        )
        print(f"{args.pain_model.name}: {per_second:.0f} sentences/s (fp32 torch)")

    print(f"# Pain points and language on real text ({today()}, {git_revision()})")
    print(f"{machine()}; {len(texts)} texts, {len(unique)} distinct sentences ")
    print(f"(split and embedded in {prepared:.0f} s); seed {args.seed}")
    print(f"SemEval sentences left out (neutral or conflict only): {skipped}\n")
    print(pain_tables(texts, sentences, flags))

    tweets = [i for i, t in enumerate(texts) if t.dataset == "twcs_spotify"]
    passed = [i for i in tweets if flags["after"][i]]
    sentiment = models.sentiment
    calm = sorted(passed, key=lambda i: -sentiment.polarity_scores(texts[i].text)["compound"])
    print(f"\nTweets passed by 'after', most positive by VADER first (read them; {args.examples}):")
    for i in calm[: args.examples]:
        hit = [s for s in sentences[i] if verdicts["after"][s]]
        print(f"  - {texts[i].text[:110]!r}  <- {hit[0][:60]!r}")

    if args.ceiling:
        print("\n" + ceiling_table(texts, sentences, vectors, sentiment, flags["after"], args.seed))

    if not args.skip_language:
        print("\n" + language_table(texts, language_detectors(models)))


if __name__ == "__main__":
    main()
