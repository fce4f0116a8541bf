"""Cluster labels for pain-point sentences by class-based TF-IDF (c-TF-IDF, as in BERTopic).

Each unit contributes candidate terms: its lemmas, lemma bigrams, noun chunks, and 2-4 word
surface phrases of its text that neither start nor end with a stopword ("logs me out",
"refund takes weeks"). A term counts once per unit. For cluster ``c`` and term ``t``::

    tf(t, c) = units of c containing t / units in c
    idf(t)   = log(1 + A / f(t))

where ``f(t)`` is the count of ``t`` over all clusters and ``A`` the average number of term
occurrences per cluster, so terms every cluster shares ("app", "customer") score low.

* Keyphrases: the top terms, dropping any whose words contain, or are contained in, those of a
  better-scored keyphrase (compared on crude stems, so "refund take" repeats "refund takes").
* Label: the best-scored readable phrase (a surface phrase or a noun chunk of 2+ words) that
  enough members share, with a mild bonus per extra word; else the top keyphrase.
* Quotes: members closest to the cluster centroid, skipping near-duplicates of quotes taken.
* Stage and theme: the most common real tag and its share of all members.

Pure and deterministic: ties are broken by term string and by input order.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

from config.taxonomy import UNASSIGNED

_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")  # "don't" and "long-time" are one word
# A term must hold a letter and two characters: a lone symbol or number ("€", "%", "30") says
# nothing as a label, while "5g" or "2fa" do.
_LETTER = re.compile(r"[^\W\d_]")
# spaCy splits "long-time" into "long - time"; labels and keyphrases put the hyphen back.
_SPACED_HYPHEN = re.compile(r"(?<=\w) - (?=\w)")
# Surface phrases do not run across punctuation or a dash between words.
_BREAK = re.compile(r"[.,;:!?()\[\]{}\"“”/|…]+|\s[-–—]+\s")
# Words that may not start or end a phrase. sklearn's list holds a few words customers use as
# content ("bill", "call", "system"); those stay allowed.
_CONTRACTIONS = {"i'm", "i've", "i'd", "i'll", "don't", "doesn't", "didn't", "won't", "can't"}
_CONTRACTIONS |= {"isn't", "wasn't", "aren't", "weren't", "haven't", "hadn't", "wouldn't"}
_CONTRACTIONS |= {"shouldn't", "couldn't", "it's", "that's", "there's", "you're", "they're"}
_CONTRACTIONS |= {"we've", "you've", "let's", "he's", "she's", "we're"}
_STOP = (
    ENGLISH_STOP_WORDS
    | _CONTRACTIONS
    | {c.replace("'", "") for c in _CONTRACTIONS}
    | {"just", "really", "u", "ur", "ok"}
) - {"bill", "call", "system", "amount", "detail", "interest", "empty", "full", "front", "name"}
# Particles that may end a phrase ("logs me out", "cut off"), though never start one.
_END_PARTICLES = frozenset({"out", "up", "down", "off", "back"})
_MAX_PHRASE_WORDS = 4
_MAX_LABEL_WORDS = 6
_LENGTH_BONUS = 0.1  # label score multiplier per word beyond two
_QUOTE_POOL = 200  # quotes are picked among this many members closest to the centroid


@dataclass(frozen=True)
class LabelInput:
    """One clustered unit (a sentence) as the labeller sees it.

    Attributes:
        unit_id: Id of the unit.
        text: The sentence, as the customer wrote it.
        lemmas: Content-word lemmas, lower case, in order (no stopwords, punctuation, numbers).
        noun_chunks: Lower-case noun chunks without determiners or pronouns ("app").
        stage: Journey-stage tag, ``"unassigned"`` or None.
        theme: Hassle-theme tag, ``"unassigned"`` or None.
    """

    unit_id: str
    text: str
    lemmas: tuple[str, ...]
    noun_chunks: tuple[str, ...]
    stage: str | None
    theme: str | None


@dataclass(frozen=True)
class ClusterLabel:
    """What a cluster is about, for people reading the report.

    Attributes:
        label: Short readable label, e.g. ``"refund takes weeks"``.
        keyphrases: Top keyphrases, most characteristic first.
        quote_unit_ids: Representative units, closest to the centroid first, no near-duplicates.
        stage: Dominant stage among members (``"unassigned"`` or None only if nothing else).
        stage_share: Members with that stage / all members.
        theme: Dominant theme, chosen like ``stage``.
        theme_share: Members with that theme / all members.
        specificity: 0..1, how specific the members' sentences are (one problem, told
            concretely); None when not measured.
    """

    label: str
    keyphrases: tuple[str, ...]
    quote_unit_ids: tuple[str, ...]
    stage: str | None
    stage_share: float
    theme: str | None
    theme_share: float
    specificity: float | None = None


class Labeller(Protocol):
    """Anything that labels clusters of units."""

    def label(
        self, units: Sequence[LabelInput], vectors: np.ndarray, labels: np.ndarray
    ) -> dict[int, ClusterLabel]:
        """Label every cluster.

        Args:
            units: The units; ``units[i]`` has vector ``vectors[i]`` and cluster ``labels[i]``.
            vectors: L2-normalised float32 vectors, one row per unit.
            labels: Cluster id per unit; -1 is noise and is ignored.

        Returns:
            One :class:`ClusterLabel` per cluster id >= 0.
        """
        ...


class CtfidfLabeller:
    """The default :class:`Labeller`: c-TF-IDF keyphrases and labels, centroid quotes.

    Args:
        top_keyphrases: Keyphrases kept per cluster.
        quotes: Most quotes per cluster.
        min_quotes: Fewest quotes per cluster when it has that many distinct texts; near-
            duplicates (but never identical texts) fill up to this number.
        near_duplicate_cosine: Quotes at least this similar to a quote taken are skipped.
        near_duplicate_jaccard: Quotes whose word sets overlap a quote taken this much
            (Jaccard) are skipped.
        label_min_share: A label phrase must occur in at least this share of the members (and
            in at least two of them when the cluster has two or more).
    """

    def __init__(
        self,
        *,
        top_keyphrases: int = 8,
        quotes: int = 5,
        min_quotes: int = 3,
        near_duplicate_cosine: float = 0.92,
        near_duplicate_jaccard: float = 0.6,
        label_min_share: float = 0.08,
    ) -> None:
        self.top_keyphrases = top_keyphrases
        self.quotes = quotes
        self.min_quotes = min_quotes
        self.near_duplicate_cosine = near_duplicate_cosine
        self.near_duplicate_jaccard = near_duplicate_jaccard
        self.label_min_share = label_min_share

    def label(
        self, units: Sequence[LabelInput], vectors: np.ndarray, labels: np.ndarray
    ) -> dict[int, ClusterLabel]:
        """Label every cluster.

        Args:
            units: The units; ``units[i]`` has vector ``vectors[i]`` and cluster ``labels[i]``.
            vectors: L2-normalised float32 vectors, one row per unit.
            labels: Cluster id per unit; -1 is noise and is ignored.

        Returns:
            One :class:`ClusterLabel` per cluster id >= 0.
        """
        labels = np.asarray(labels)
        kept = np.flatnonzero(labels >= 0)
        cluster_ids, sizes = np.unique(labels[kept], return_counts=True)
        if not len(cluster_ids):
            return {}
        members = np.split(kept[np.argsort(labels[kept], kind="stable")], np.cumsum(sizes)[:-1])

        # Units of each cluster containing each term (a term counts once per unit), and totals.
        counters: list[Counter[str]] = []
        total: Counter[str] = Counter()
        readable: set[str] = set()
        for idx in members:
            counter: Counter[str] = Counter()
            for i in idx:
                unit_terms, phrases = _candidate_terms(units[i])
                counter.update(unit_terms)
                total.update(unit_terms)
                readable.update(phrases)
            counters.append(counter)
        average = sum(total.values()) / len(members)  # term occurrences per cluster

        result = {}
        for row, counter in enumerate(counters):
            terms = list(counter)
            present = np.fromiter(counter.values(), np.float64, len(terms))
            frequency = np.fromiter(map(total.__getitem__, terms), np.float64, len(terms))
            score = present / sizes[row] * np.log1p(average / frequency)
            keyphrases = self._keyphrases(_best_first(terms, score))
            min_count = max(math.ceil(self.label_min_share * sizes[row]), min(2, sizes[row]))
            # The label must say what the cluster is about: a readable phrase holding one of
            # the two most characteristic keyphrases' words ("refund takes weeks" for "refund").
            anchors = {_stem(w) for term in keyphrases[:2] for w in term.split()}
            candidates = [
                (-score[k] * (1 + _LENGTH_BONUS * (term.count(" ") - 1)), term)
                for k in np.flatnonzero(present >= min_count)
                if (term := terms[k]) in readable
                and term.count(" ") < _MAX_LABEL_WORDS
                and anchors & {_stem(w) for w in term.split()}
            ]
            label = min(candidates)[1] if candidates else (keyphrases or ("unlabelled",))[0]
            idx = members[row]
            stage, stage_share = _dominant([units[i].stage for i in idx])
            theme, theme_share = _dominant([units[i].theme for i in idx])
            result[int(cluster_ids[row])] = ClusterLabel(
                label=label,
                keyphrases=keyphrases,
                quote_unit_ids=self._quotes(units, vectors, idx),
                stage=stage,
                stage_share=stage_share,
                theme=theme,
                theme_share=theme_share,
            )
        return result

    def _keyphrases(self, ranked: Iterable[str]) -> tuple[str, ...]:
        chosen: list[tuple[str, frozenset[str]]] = []
        for term in ranked:
            if len(chosen) >= self.top_keyphrases:
                break
            stems = frozenset(_stem(w) for w in term.split())
            if not any(stems <= other or other <= stems for _, other in chosen):
                chosen.append((term, stems))
        return tuple(term for term, _ in chosen)

    def _quotes(
        self, units: Sequence[LabelInput], vectors: np.ndarray, idx: np.ndarray
    ) -> tuple[str, ...]:
        member_vectors = np.asarray(vectors[idx], dtype=np.float32)
        centroid = member_vectors.mean(axis=0)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        order = np.argsort(-(member_vectors @ centroid), kind="stable")  # closest first
        taken: list[int] = []  # positions in order
        taken_words: list[frozenset[str]] = []
        seen: set[tuple[str, ...]] = set()
        for k, pos in enumerate(order[:_QUOTE_POOL]):
            if len(taken) >= self.quotes:
                break
            words = _words(units[idx[pos]].text)
            word_set = frozenset(words)
            if words in seen or any(
                _jaccard(word_set, other) >= self.near_duplicate_jaccard for other in taken_words
            ):
                continue
            similarity = member_vectors[order[taken]] @ member_vectors[pos]
            if taken and float(similarity.max()) >= self.near_duplicate_cosine:
                continue
            taken.append(k)
            taken_words.append(word_set)
            seen.add(words)
        for k, pos in enumerate(order):  # too few: fill with near-duplicates, never identical
            if len(taken) >= self.min_quotes:
                break
            words = _words(units[idx[pos]].text)
            if k not in taken and words not in seen:
                taken.append(k)
                seen.add(words)
        return tuple(units[idx[order[k]]].unit_id for k in sorted(taken))


def _candidate_terms(unit: LabelInput) -> tuple[set[str], list[str]]:
    """Return a unit's candidate terms, and the readable phrases among them a label may use."""
    lemmas = unit.lemmas
    phrases = [c for c in unit.noun_chunks if " " in c and _is_wordlike(c)]
    for part in _BREAK.split(unit.text.lower().replace("’", "'")):
        words = _WORD.findall(part)
        edge = [w not in _STOP and not w.isdigit() for w in words]  # may start or end a phrase
        for i in range(len(words) - 1):
            if edge[i]:
                for j in range(i + 1, min(i + _MAX_PHRASE_WORDS, len(words))):
                    if edge[j] or words[j] in _END_PARTICLES:
                        phrases.append(" ".join(words[i : j + 1]))
    bigrams = map(" ".join, zip(lemmas, lemmas[1:], strict=False))
    phrases = [_SPACED_HYPHEN.sub("-", p) for p in phrases]
    terms = {_SPACED_HYPHEN.sub("-", t) for t in (*lemmas, *bigrams, *unit.noun_chunks)}
    return {t for t in (*terms, *phrases) if _is_wordlike(t)}, phrases


def _is_wordlike(term: str) -> bool:
    return len(term.strip()) >= 2 and _LETTER.search(term) is not None


def _best_first(terms: list[str], score: np.ndarray) -> Iterator[str]:
    """Yield terms by descending score; equal scores in alphabetical order."""
    order = np.argsort(-score, kind="stable")
    descending = -score[order]  # ascending, for searchsorted
    start = 0
    while start < len(order):
        end = int(np.searchsorted(descending, descending[start], side="right"))
        yield from sorted(terms[k] for k in order[start:end])
        start = end


def _words(text: str) -> tuple[str, ...]:
    """Lower-case words of a text; equal tuples count as identical texts."""
    return tuple(_WORD.findall(text.lower().replace("’", "'"))) or (text.strip().lower(),)


def _stem(word: str) -> str:
    """Crude suffix stripping, only to spot repeated keyphrases ("takes" ~ "take")."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(stem) > 3 and stem[-1] == stem[-2]:
                stem = stem[:-1]  # "logged" -> "log"
            return stem
    return word


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    union = len(a | b)
    return len(a & b) / union if union else 1.0


def _dominant(values: list[str | None]) -> tuple[str | None, float]:
    """Return the most common real tag and its share of all values (ties: alphabetical)."""
    counts = Counter(v for v in values if v is not None and v != UNASSIGNED)
    if not counts:
        unassigned = sum(v == UNASSIGNED for v in values)
        if unassigned:
            return UNASSIGNED, unassigned / len(values)
        return None, 1.0
    value, count = min(counts.items(), key=lambda item: (-item[1], item[0]))
    return value, count / len(values)
