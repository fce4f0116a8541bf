"""Cluster labels that name the problem, and how specific each cluster is (c-TF-IDF based).

Each unit contributes candidate terms: its lemmas, lemma bigrams, noun chunks, and 2-4 word
surface phrases of its text ("logs me out", "refund not received", "can't log in"). Before
that, the text is cleaned of what never names a problem: @handles (and the same names written
without "@"), URLs, emoji, redaction placeholders ("[email]"), and greeting, thanks and chit-chat
words ("hi", "thanks", "yes", "lol"), which break a phrase like punctuation. A term counts once
per unit. For cluster ``c`` and term ``t``::

    tf(t, c) = units of c containing t / units in c
    idf(t)   = log(1 + A / f(t))

where ``f(t)`` is the count of ``t`` over all clusters and ``A`` the average number of term
occurrences per cluster, so terms every cluster shares ("app", "customer") score low.

* Corpus-wide words: words in at least 3% of the units and present in at least half of the
  clusters (of three or more), such as the product ("app"); and the brand: a word that begins
  a handle in at least 1% of the units ("spotify" of "@SpotifyCares"). A generic
  word is one of a short list ("issue", "problem", "help", "time", "message", ...). A term is
  *specific* when it holds a word that is neither a stopword, nor generic, nor corpus-wide.
* Keyphrases: the top specific terms, dropping any whose words contain, or are contained in,
  those of a better-scored keyphrase (compared on crude stems).
* Label: a readable phrase (a surface phrase or a 2+ word noun chunk) that is specific and holds
  a word of the two top keyphrases. Its support is the share of members holding all its
  content words, in any wording ("music stops", "stops the music"); it needs
  ``label_min_share``. Of the 50 best-scored phrases, the label maximises::

      support * idf(phrase) * (1 + share of members holding its most common word)
              * (1 + 0.1 per content word beyond one - 0.1 per filler stopword)
              * (1.5 when it names a problem, else 1)

  A phrase names a problem when it holds a negation ("not received", "can't log in") or pairs
  a noun with a word that is not one ("shuffle repeats", "downloads disappear"). Nouns are told
  apart without a tagger: a word is a noun when most units holding it hold it inside a noun
  chunk. The most-common-word factor lets a parent's label name what its children share.
  Without such a phrase the label is ``"<keyphrase> + <keyphrase>"``, or
  ``NO_PROBLEM_LABEL`` when fewer than a quarter of the members name a concrete object
  (thanks and chit-chat). Never a lone word, a handle, a URL or a greeting.
* Specificity (0..1): how specific the members' sentences are, one problem told concretely,
  whatever the taxonomy knows. The geometric mean of three shares::

      concrete  = members naming a concrete object: a specific word heading a noun chunk
      focused   = members holding a specific word of the label or of the two top keyphrases
      coherence = clip((mean cosine of members to their centroid - 0.3) / 0.4, 0, 1)

      specificity = (concrete * focused * coherence) ** (1 / 3)

  "Shuffle repeats the same two artists" scores high though no taxonomy theme fits it;
  "Frustrating." or "This is terrible" score near 0 (no concrete object), and so does a
  grab-bag cluster (few members share its label's words, members far from the centroid).
* Quotes: members closest to the cluster centroid, skipping near-duplicates of quotes taken.
* Stage and theme: the most common real tag and its share of all members.

Pure and deterministic: ties are broken by term string and by input order.
"""

from __future__ import annotations

import functools
import html
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
_HANDLE = re.compile(r"[@＠](\w+)")
_REDACTED = re.compile(r"x{2,}")  # what some sources redact personal data to ("XXXX")
# Cut out of the text before phrases are read, leaving a break: URLs, handles, redaction
# placeholders ("[email]") and symbols such as emoji. A hashtag keeps its word.
_NOISE = re.compile(
    r"https?://\S*|www\.\S*|\b\S+\.(?:com|net|org|ly|co|me)(?:/\S*)?"
    r"|[@＠]\w+|\[\w+\]|[^\w\s'’.,;:!?()\[\]{}\"“”/|…#-]+"
)
# Words that may not start or end a phrase. sklearn's list holds a few words customers use as
# content ("bill", "call", "system"); those stay allowed.
_CONTRACTIONS = {"i'm", "i've", "i'd", "i'll", "don't", "doesn't", "didn't", "won't", "can't"}
_CONTRACTIONS |= {"isn't", "wasn't", "aren't", "weren't", "haven't", "hadn't", "wouldn't"}
_CONTRACTIONS |= {"shouldn't", "couldn't", "it's", "that's", "there's", "you're", "they're"}
_CONTRACTIONS |= {"we've", "you've", "let's", "he's", "she's", "we're", "hasn't"}
_STOP = (
    ENGLISH_STOP_WORDS
    | _CONTRACTIONS
    | {c.replace("'", "") for c in _CONTRACTIONS}
    | {"just", "really", "u", "ur", "ok", "im", "ive", "actually", "also", "still", "got"}
) - {"bill", "call", "system", "amount", "detail", "interest", "empty", "full", "front", "name"}
# Negations may start a phrase ("not received", "can't log in") and mark it as a problem.
_NEGATIONS = frozenset(
    {"not", "no", "never", "cannot", "without", "nothing", "nobody", "none", "still"}
    | {c for c in _CONTRACTIONS if c.endswith("n't")}
    | {c.replace("'", "") for c in _CONTRACTIONS if c.endswith("n't")}
)
# Greetings, thanks, courtesy, assent and chit-chat: never part of a label; a phrase breaks there.
_CHAT = frozenset(
    {"hi", "hello", "hey", "heya", "hiya", "yo", "dear", "morning", "evening", "afternoon"}
    | {"thanks", "thank", "thankyou", "thanx", "thx", "thnx", "ty", "tysm", "cheers", "regards"}
    | {"appreciate", "appreciated", "grateful", "please", "pls", "plz", "sorry", "welcome"}
    | {"yes", "yeah", "yep", "yup", "ya", "yea", "nope", "nah", "okay", "okey", "sure"}
    | {"alright", "lol", "lmao", "haha", "hahaha", "omg", "wow", "cool", "great", "awesome"}
    | {"amazing", "nice", "perfect", "brilliant", "fantastic", "love", "lovely", "guys"}
    | {"folks", "bye", "anyways", "anyway", "btw", "hope", "hopefully", "xx", "xoxo"}
    | {"cheer", "yay", "ha", "oh", "uh", "ah", "hmm", "aww", "babe", "bae", "luck", "pleasure"}
    | {"thanku", "tyvm", "congrat", "congrats", "congratulations", "woo", "yess", "fam"}
)
# Words too general to name a problem on their own, or a concrete object: a label needs a word
# beside them ("payment issue"), and they never make a sentence concrete.
_GENERIC = frozenset(
    {"app", "apps", "application", "service", "services", "issue", "issues", "problem"}
    | {"problems", "thing", "things", "stuff", "experience", "company", "customer", "support"}
    | {"customers", "help", "time", "times", "day", "days", "week", "weeks", "month", "months"}
    | {"year", "years", "hour", "hours", "minute", "minutes", "today", "yesterday", "moment"}
    | {"way", "lot", "bit", "people", "person", "guy", "everything", "anything", "something"}
    | {"one", "ones", "question", "questions", "answer", "answers", "info", "information"}
    | {"details", "reason", "matter", "situation", "case", "example", "fix", "work", "works"}
    | {"working", "worked", "try", "tried", "trying", "use", "using", "dm", "dms", "pm"}
    | {"message", "messages", "reply", "replies", "response", "tweet", "tweets", "email"}
    | {"option", "options", "request", "idea", "point", "fact", "kind", "sort", "type"}
    | {"part", "end", "team", "product", "products", "business", "place", "number", "level"}
    | {"need", "want", "know", "think", "like", "happen", "happens", "happened", "happening"}
    | {"having", "getting", "going", "doing", "make", "let", "come", "say", "said", "says"}
    | {"tell", "look", "looking", "wait", "waiting", "contact", "check", "sense", "understand"}
)
# Particles that may end a phrase after a verb ("logs me out", "can't log in"), never start one.
_END_PARTICLES = frozenset({"out", "up", "down", "off", "back", "in", "on"})
_MAX_PHRASE_WORDS = 4
_MAX_LABEL_WORDS = 6
_LENGTH_BONUS = 0.1  # label score multiplier per content word beyond one
_FILLER_PENALTY = 0.1  # label score penalty per stopword (but negations and particles)
_PROBLEM_BONUS = 0.5  # label score multiplier for a phrase that names a problem
_LABEL_POOL = 50  # label candidates checked for support, best-scored first
_QUOTE_POOL = 200  # quotes are picked among this many members closest to the centroid
# A word is corpus-wide (the brand, the product) when at least this share of the units holds
# it and it is present in at least this share of the clusters (counted from three clusters).
_CORPUS_WIDE_UNITS = 0.03
_CORPUS_WIDE_CLUSTERS = 0.5
_BRAND_HANDLE_UNITS = 0.01  # a handle in this share of the units is the brand's
_NOUN_SHARE = 0.5  # a word is a noun when at least this share of its units hold it in a chunk
_HEAD_SHARE = 0.2  # ... and a modifier when it heads fewer than this share of those chunks
# Coherence: the mean cosine of members to their centroid, mapped from this range onto 0..1.
_COHERENCE_RANGE = (0.3, 0.7)
# Without a phrase to label it, a cluster where fewer members than this name a concrete object
# is labelled NO_PROBLEM_LABEL rather than by two of its keyphrases ("woo + cute").
_FALLBACK_MIN_CONCRETE = 0.25
NO_PROBLEM_LABEL = "no problem named"
"""The label of a cluster whose members name nothing but handles, greetings or chit-chat."""


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
        """Label every cluster and measure how specific it is.

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
        handles, brand_handles = _handle_names([units[i].text for i in kept])
        read: dict[int, _ReadUnit] = {}
        seen: dict[tuple[str, tuple[str, ...], tuple[str, ...]], _ReadUnit] = {}
        for i in kept.tolist():  # equal units (a repeated "Thanks!") are read once
            key = (units[i].text, units[i].lemmas, units[i].noun_chunks)
            read[i] = seen.get(key) or seen.setdefault(key, _read_unit(units[i], handles))
        corpus = _Corpus(read, members, brand_handles)

        # Units of each cluster containing each term (a term counts once per unit), and totals.
        counters: list[Counter[str]] = []
        total: Counter[str] = Counter()
        readable: set[str] = set()
        for idx in members:
            counter: Counter[str] = Counter()
            for i in idx:
                counter.update(read[i].terms)
                readable.update(read[i].phrases)
            total.update(counter)
            counters.append(counter)
        average = sum(total.values()) / len(members)  # term occurrences per cluster

        result = {}
        for row, counter in enumerate(counters):
            terms = [t for t in counter if corpus.is_specific(t)]
            present = np.fromiter(map(counter.__getitem__, terms), np.float64, len(terms))
            frequency = np.fromiter(map(total.__getitem__, terms), np.float64, len(terms))
            score = present / sizes[row] * np.log1p(average / frequency)
            keyphrases = self._keyphrases(_best_first(terms, score))
            min_count = max(math.ceil(self.label_min_share * sizes[row]), min(2, sizes[row]))
            # The label must say what the cluster is about: a readable phrase holding one of
            # the two most characteristic keyphrases' words ("refund takes weeks" for "refund").
            anchors = {_stem(w) for term in keyphrases[:2] for w in term.split()}
            candidates = [
                (-score[k] * corpus.label_weight(term), term)
                for k in np.flatnonzero(present >= min(2, sizes[row]))
                if (term := terms[k]) in readable
                and 1 <= term.count(" ") < _MAX_LABEL_WORDS
                and anchors & {_stem(w) for w in term.split()}
                and corpus.reads_well(term)
            ]
            # A phrase is shared by the members holding all its content words, in any wording
            # ("music stops", "music just stops", "stops the music"); of those shared by enough
            # members, the label is the one scoring best on that share, its idf, its weight
            # and how common its most common word is (a parent's label names what its
            # children share).
            stems = [read[i].stems for i in members[row]]
            stem_counts = Counter(stem for unit in stems for stem in unit)
            shared = []
            for _, term in sorted(candidates)[:_LABEL_POOL]:
                needed = {_stem(w) for w in term.split() if w not in _STOP}
                support = sum(needed <= unit for unit in stems)
                if support >= min_count:
                    common = max(stem_counts[stem] for stem in needed) / sizes[row]
                    idf = math.log1p(average / total[term])
                    weight = corpus.label_weight(term) * (1 + common)
                    shared.append((-support / sizes[row] * idf * weight, term))
            candidates = shared
            concrete = float(np.mean([corpus.is_concrete(read[i]) for i in members[row]]))
            if candidates:
                label = min(candidates)[1]
            elif concrete < _FALLBACK_MIN_CONCRETE or not keyphrases:
                label = NO_PROBLEM_LABEL
            elif len(keyphrases) >= 2:
                label = f"{keyphrases[0]} + {keyphrases[1]}"
            elif " " in keyphrases[0]:
                label = keyphrases[0]
            else:
                label = f"{keyphrases[0]} (no detail given)"
            idx = members[row]
            stage, stage_share = _dominant([units[i].stage for i in idx])
            theme, theme_share = _dominant([units[i].theme for i in idx])
            focus = {
                _stem(w)
                for term in (label if candidates else "", *keyphrases[:2])
                for w in _WORD.findall(term)
                if corpus.is_specific_word(w)
            }
            result[int(cluster_ids[row])] = ClusterLabel(
                label=label,
                keyphrases=keyphrases,
                quote_unit_ids=self._quotes(units, vectors, idx),
                stage=stage,
                stage_share=stage_share,
                theme=theme,
                theme_share=theme_share,
                specificity=_specificity(
                    concrete=concrete,
                    focused=float(np.mean([not focus.isdisjoint(read[i].stems) for i in idx])),
                    coherence=_coherence(vectors, idx),
                ),
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


@dataclass(frozen=True)
class _ReadUnit:
    """What the labeller reads from one unit once handles, URLs and chit-chat are cut out."""

    terms: frozenset[str]  # candidate terms: lemmas, lemma bigrams, noun chunks, phrases
    phrases: tuple[str, ...]  # the readable ones among them, which a label may use
    words: frozenset[str]  # surface words and lemmas
    stems: frozenset[str]  # crude stems of ``words``
    chunk_words: frozenset[str]  # words inside noun chunks
    heads: frozenset[str]  # the last word of each noun chunk


def _handle_names(texts: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The @handles in ``texts``, and the brand handles among them, lower case.

    Each handle comes with "s" dropped too (spaCy's lemma of "@SpotifyCares"). A brand handle
    is one in at least ``_BRAND_HANDLE_UNITS`` of the texts (the support account written to).
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({name.lower() for name in _HANDLE.findall(text)})
    names = set(counts) | {name[:-1] for name in counts if name.endswith("s")}
    brands = {name for name, n in counts.items() if n >= _BRAND_HANDLE_UNITS * len(texts)}
    return frozenset(names), frozenset(brands)


@functools.lru_cache(maxsize=1 << 16)
def _keep_word(word: str, handles: frozenset[str]) -> bool:
    return (
        _WORD.fullmatch(word) is not None
        and _REDACTED.fullmatch(word) is None
        and word not in _CHAT
        and word not in handles
        and _LETTER.search(word) is not None
    )


def _read_unit(unit: LabelInput, handles: frozenset[str]) -> _ReadUnit:
    """Read a unit's candidate terms, phrases and words, without handles, URLs or chit-chat."""
    # Every word kept holds a letter (_keep_word), so every term is wordlike once 2+ long.
    lemmas = [w for w in unit.lemmas if len(w) >= 2 and _keep_word(w, handles)]
    chunks = []
    for chunk in unit.noun_chunks:
        kept = [w for w in _unhyphen(chunk).split() if _keep_word(w, handles)]
        if kept and (len(kept) > 1 or len(kept[0]) >= 2):
            chunks.append(" ".join(kept))
    text = html.unescape(unit.text) if "&" in unit.text else unit.text
    text = _NOISE.sub(" | ", text.replace("’", "'")).replace("#", " ")
    phrases = [c for c in chunks if " " in c]
    surface: set[str] = set()
    for part in _BREAK.split(text.lower()):
        # Chit-chat and handle names break a phrase, as punctuation does.
        kept = [w if _keep_word(w, handles) else "" for w in _WORD.findall(part)]
        surface.update(kept)
        edge = [bool(w) and w not in _STOP and not w.isdigit() for w in kept]
        n = len(kept)
        for i in range(n - 1):
            if edge[i] or kept[i] in _NEGATIONS:
                for j in range(i + 1, min(i + _MAX_PHRASE_WORDS, n)):
                    if not kept[j]:
                        break
                    if edge[j] or (kept[j] in _END_PARTICLES and edge[j - 1]):
                        phrases.append(" ".join(kept[i : j + 1]))
    surface.discard("")
    bigrams = map(" ".join, zip(lemmas, lemmas[1:], strict=False))
    words = frozenset(surface.union(lemmas))
    return _ReadUnit(
        terms=frozenset((*lemmas, *bigrams, *chunks, *phrases)),
        phrases=tuple(phrases),
        words=words,
        stems=frozenset(map(_stem, words)),
        chunk_words=frozenset(w for c in chunks for w in c.split()),
        heads=frozenset(c.rsplit(" ", 1)[-1] for c in chunks),
    )


class _Corpus:
    """Word statistics over all clustered units: corpus-wide words and which words are nouns."""

    def __init__(
        self, read: dict[int, _ReadUnit], members: list[np.ndarray], brand_handles: frozenset[str]
    ) -> None:
        units: Counter[str] = Counter()
        in_chunks: Counter[str] = Counter()
        heads: Counter[str] = Counter()
        clusters: Counter[str] = Counter()
        for idx in members:
            seen: set[str] = set()
            for i in idx:
                units.update(read[i].words)
                in_chunks.update(read[i].chunk_words)
                heads.update(read[i].heads)
                seen |= read[i].words
            clusters.update(seen)
        self._in_chunks = in_chunks
        self._heads = heads
        self._units = units
        self._specific: dict[str, bool] = {}
        # The brand's own name begins its support handle: "spotify" of "@SpotifyCares".
        self._wide = frozenset(
            w for w in units if len(w) >= 4 and any(h.startswith(w) for h in brand_handles)
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
        return self._in_chunks[word] >= _NOUN_SHARE * max(self._units[word], 1)

    def is_specific_word(self, word: str) -> bool:
        """A word that may name a problem: no stopword, generic word or corpus-wide word."""
        known = self._specific.get(word)
        if known is None:
            known = self._specific[word] = self._is_specific_word(word)
        return known

    def _is_specific_word(self, word: str) -> bool:
        return (
            word not in _STOP
            and word not in _GENERIC
            and word not in self._wide
            and not word.isdigit()
            and len(word) >= 2
        )

    def is_specific(self, term: str) -> bool:
        """Whether a term holds a specific word."""
        return any(map(self.is_specific_word, term.split()))

    def is_concrete(self, unit: _ReadUnit) -> bool:
        """Whether a unit names a concrete object: a specific noun heading a noun chunk."""
        return any(self.is_specific_word(h) and h.isalpha() for h in unit.heads)

    def reads_well(self, phrase: str) -> bool:
        """Whether a phrase ends where a phrase can end.

        Not on a particle after a noun ("songs in"; "log in" is fine), nor on a word that
        mostly modifies a noun ("violated my protected consumer" of "... consumer rights").
        """
        *rest, last = phrase.split()
        if last in _END_PARTICLES:
            return not self.is_noun(rest[-1])
        return not (self.is_noun(last) and self._heads[last] < _HEAD_SHARE * self._in_chunks[last])

    def label_weight(self, phrase: str) -> float:
        """The label score multiplier: content words and naming a problem add, fillers cost.

        A filler is a stopword other than a negation or particle ("using it on my windows").
        """
        words = phrase.split()
        content = [w for w in words if w not in _STOP]
        filler = sum(w in _STOP and w not in _NEGATIONS and w not in _END_PARTICLES for w in words)
        noun = any(map(self.is_noun, content))
        predicate = any(not self.is_noun(w) and w not in _GENERIC for w in content)
        problem = any(w in _NEGATIONS for w in words) or (noun and predicate)
        length = 1 + _LENGTH_BONUS * (len(content) - 1) - _FILLER_PENALTY * filler
        return length * (1 + _PROBLEM_BONUS * problem)


def _coherence(vectors: np.ndarray, idx: np.ndarray) -> float:
    """Mean cosine of the members to their centroid, mapped onto 0..1."""
    member_vectors = np.asarray(vectors[idx], dtype=np.float32)
    centroid = member_vectors.mean(axis=0)
    centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
    low, high = _COHERENCE_RANGE
    return float(np.clip((float(np.mean(member_vectors @ centroid)) - low) / (high - low), 0, 1))


def _specificity(*, concrete: float, focused: float, coherence: float) -> float:
    """The geometric mean of the three shares (module docstring), rounded to 3 places."""
    return round(float((concrete * focused * coherence) ** (1 / 3)), 3)


def _unhyphen(term: str) -> str:
    return _SPACED_HYPHEN.sub("-", term) if " - " in term else term


@functools.lru_cache(maxsize=1 << 18)
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


@functools.lru_cache(maxsize=1 << 16)
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
