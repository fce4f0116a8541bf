"""Which words are specific, and how specific a cluster's sentences are.

* Swearing (:data:`nlp.wordlists.PROFANITY`) is never specific: it says how the customer
  feels, not what is wrong.
* Corpus-wide words: words in at least 3% of the units and present in at least half of the
  clusters (of three or more), such as the product ("app"); and the brand: a word that begins
  a handle in at least 1% of the units ("spotify" of "@SpotifyCares"). A generic word is one of
  :data:`nlp.wordlists.GENERIC` ("issue", "problem", "help", "time", "message", ...). A term is
  *specific* when it holds a word that is neither a stopword, nor generic, nor corpus-wide.
* Names: a word the units write with a capital inside a sentence ("Wells Fargo",
  "TransUnion") at least twice and in at least 90% of the units that write it inside a
  sentence. A name stays a specific word (a keyphrase may say which company or product), but
  a phrase of names alone, or of a name and an organisation word ("citi bank"), names no
  problem: it is no label. Nor is a phrase cut from inside a name: one starting on the second
  word of a name most units write whole ("fargo closed my account"), or ending on its first.
* Nouns are told apart without a tagger: a word is a noun when most units holding it hold it
  inside a noun chunk.
* Specificity (0..1): how specific the members' sentences are, one problem told concretely,
  whatever the taxonomy knows. The geometric mean of three shares::

      concrete  = members naming a concrete object: a specific word heading a noun chunk,
                  in a sentence of two or more words
      focused   = members holding a specific word of the label or of the two top keyphrases
      coherence = clip((mean cosine of members to their centroid - 0.3) / 0.4, 0, 1)

      specificity = (concrete * focused * coherence) ** (1 / 3)

  "Shuffle repeats the same two artists" scores high though no taxonomy theme fits it;
  "Frustrating." or "This is terrible" score near 0 (no concrete object), and so does a
  grab-bag cluster (few members share its label's words, members far from the centroid).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from nlp.terms import ReadUnit
from nlp.wordlists import GENERIC, ORGANISATION_WORDS, PROFANITY, STOP

# A word is corpus-wide (the brand, the product) when at least this share of the units holds
# it and it is present in at least this share of the clusters (counted from three clusters).
_CORPUS_WIDE_UNITS = 0.03
_CORPUS_WIDE_CLUSTERS = 0.5
NOUN_SHARE = 0.5  # a word is a noun when at least this share of its units hold it in a chunk
_HEAD_SHARE = 0.2  # ... and a modifier when it heads fewer than this share of those chunks
# A name is written with a capital in at least this share of the units writing it inside a
# sentence, and in at least this many units.
_NAME_SHARE = 0.9
_NAME_MIN_UNITS = 2
# Coherence: the mean cosine of members to their centroid, mapped from this range onto 0..1.
_COHERENCE_RANGE = (0.3, 0.7)


class Corpus:
    """Word statistics over all clustered units: corpus-wide words and which words are nouns.

    Args:
        read: Each clustered unit as read (:func:`nlp.terms.read_unit`), by position.
        members: The positions of each cluster's units.
        brand_handles: Handles of the brand (:func:`nlp.terms.find_handle_names`).
    """

    def __init__(
        self, read: dict[int, ReadUnit], members: list[np.ndarray], brand_handles: frozenset[str]
    ) -> None:
        units: Counter[str] = Counter()
        in_chunks: Counter[str] = Counter()
        heads: Counter[str] = Counter()
        clusters: Counter[str] = Counter()
        capitalised: Counter[str] = Counter()
        lower_case: Counter[str] = Counter()
        for idx in members:
            seen: set[str] = set()
            for i in idx:
                units.update(read[i].words)
                in_chunks.update(read[i].chunk_words)
                heads.update(read[i].heads)
                capitalised.update(read[i].capitalised)
                lower_case.update(read[i].lower_case)
                seen |= read[i].words
            clusters.update(seen)
        self._names = frozenset(
            w
            for w, n in capitalised.items()
            if n >= _NAME_MIN_UNITS and n >= _NAME_SHARE * (n + lower_case[w])
        )
        # Units writing a word as the second (first) word of a name of two: "fargo" ("wells").
        self._second: Counter[str] = Counter()
        self._first: Counter[str] = Counter()
        for unit in read.values():
            named = [p for p in unit.capital_pairs if self._names.issuperset(p)]
            self._first.update({first for first, _ in named})
            self._second.update({second for _, second in named})
        self._in_chunks = in_chunks
        self._heads = heads
        self._units = units
        self._specific: dict[str, bool] = {}
        # The brand's own name begins its support handle: "spotify" of "@SpotifyCares"; a word
        # that begins only a short part of it ("spot") is not the brand's name.
        self._wide = frozenset(
            w
            for w in units
            if len(w) >= 4 and any(h.startswith(w) and 2 * len(w) >= len(h) for h in brand_handles)
        )
        if len(members) >= 3:
            self._wide |= frozenset(
                w
                for w, n in units.items()
                if n >= _CORPUS_WIDE_UNITS * len(read)
                and clusters[w] >= _CORPUS_WIDE_CLUSTERS * len(members)
            )

    def is_noun(self, word: str) -> bool:
        """Whether most units holding ``word`` hold it inside a noun chunk."""
        return self.noun_share(word) >= NOUN_SHARE

    def noun_share(self, word: str) -> float:
        """The share of the units holding ``word`` that hold it inside a noun chunk."""
        return self._in_chunks[word] / max(self._units[word], 1)

    def is_modifier(self, word: str) -> bool:
        """Whether ``word`` is a noun that mostly modifies another: it heads few of its chunks.

        "consumer" of "consumer rights" is one.
        """
        return self.is_noun(word) and self._heads[word] < _HEAD_SHARE * self._in_chunks[word]

    def is_name(self, word: str) -> bool:
        """Whether the units write ``word`` as a name, with a capital inside a sentence."""
        return word in self._names

    def names_only(self, phrase: str) -> bool:
        """Whether a phrase's content words are names, or names and organisation words.

        "wells fargo", "citi bank", "apple music": such a phrase names no problem.
        """
        content = [w for w in phrase.split() if w not in STOP and w != "+"]
        return any(map(self.is_name, content)) and all(
            self.is_name(w) or w in ORGANISATION_WORDS for w in content
        )

    def cuts_a_name(self, phrase: str) -> bool:
        """Whether a phrase starts or ends inside a name most units write whole.

        "fargo closed my account" of "Wells Fargo closed my account" starts on "fargo", which
        at least half the units writing it write after "Wells".
        """
        words = phrase.split()
        starts_inside = 2 * self._second[words[0]] >= max(self._units[words[0]], 1)
        ends_inside = 2 * self._first[words[-1]] >= max(self._units[words[-1]], 1)
        return starts_inside or ends_inside

    def is_specific_word(self, word: str) -> bool:
        """A word that may name a problem: no stopword, generic word or corpus-wide word."""
        known = self._specific.get(word)
        if known is None:
            known = self._specific[word] = self._is_specific_word(word)
        return known

    def _is_specific_word(self, word: str) -> bool:
        return (
            word not in STOP
            and word not in GENERIC
            and word not in PROFANITY
            and word not in self._wide
            and not word.isdigit()
            and len(word) >= 2
        )

    def is_specific(self, term: str) -> bool:
        """Whether a term holds a specific word, and no swearing ("shit skips" is none)."""
        words = term.split()
        return PROFANITY.isdisjoint(words) and any(map(self.is_specific_word, words))

    def is_concrete(self, unit: ReadUnit) -> bool:
        """Whether a unit names a concrete object: a specific noun heading a noun chunk."""
        return any(self.is_specific_word(h) and h.isalpha() for h in unit.heads)


def coherence(vectors: np.ndarray, idx: np.ndarray) -> float:
    """Mean cosine of the members ``vectors[idx]`` to their centroid, mapped onto 0..1."""
    member_vectors = np.asarray(vectors[idx], dtype=np.float32)
    centroid = member_vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    low, high = _COHERENCE_RANGE
    return float(np.clip((float(np.mean(member_vectors @ centroid)) - low) / (high - low), 0, 1))


def specificity(*, concrete: float, focused: float, coherence: float) -> float:
    """The geometric mean of the three shares (module docstring), rounded to 3 places."""
    return round(float((concrete * focused * coherence) ** (1 / 3)), 3)
