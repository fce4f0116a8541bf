"""Cluster labels that name the problem, and how specific each cluster is (c-TF-IDF based).

Each unit contributes candidate terms (:mod:`nlp.terms`: lemmas, bigrams, noun chunks, surface
phrases, with handles, URLs, emoji and chit-chat cut out). A term counts once per unit. For
cluster ``c`` and term ``t``::

    tf(t, c) = units of c containing t / units in c
    idf(t)   = log(1 + A / f(t))

where ``f(t)`` is the count of ``t`` over all clusters and ``A`` the average number of term
occurrences per cluster, so terms every cluster shares ("app", "customer") score low. Which
terms are *specific*, and the cluster's specificity, are measured in :mod:`nlp.specificity`.

* Keyphrases: the top specific terms, dropping any whose words contain, or are contained in,
  those of a better-scored keyphrase (compared on crude stems).
* Label: a readable phrase (a surface phrase or a 2+ word noun chunk) that is specific and holds
  a word of the two top keyphrases. Its support is the share of members holding all its
  content words, in any wording ("music stops", "stops the music"), and for a phrase
  denying something one of them negated ("no refund" is not said by "the refund came", "not
  parking" not by "the parking fee");
  it needs two words that are not fillers (not "one playlist") and
  ``label_min_share``. Of the 50 best-scored phrases, the label maximises::

      support * idf(phrase) * (1 + share of members holding its most common word)
              * (1 + 0.1 per content word beyond one - 0.1 per filler stopword)
              * (1.5 when it names a problem, else 1)

  A phrase names a problem when it holds a negation ("not received", "can't log in") or pairs
  a noun with a word that is not one ("shuffle repeats", "downloads disappear"). The
  most-common-word factor lets a parent's label name what its children share. A parent is
  also offered its children's labels and takes one when more of its members hold its words
  than hold its own label's, and as many as a phrase needs to be its label
  (:func:`most_held_label`): what most of the parent says, not what sets its smallest child
  apart.
  Without such a phrase the label is ``"<keyphrase> + <keyphrase>"``, or
  ``NO_PROBLEM_LABEL`` when fewer than a quarter of the members name a concrete object
  (thanks and chit-chat). Never a lone word, a handle, a URL, a greeting, nor a name alone
  (:meth:`nlp.specificity.Corpus.names_only`: "wells fargo", "citi bank") nor cut from inside
  one ("fargo closed my account"). A keyphrase of names is no half of the fallback, and a
  cluster of concrete members whose keyphrases are all names reads
  ``"<name> (no detail given)"``.
* Specificity (0..1): how specific the members' sentences are (:mod:`nlp.specificity`); a
  cluster labelled ``NO_PROBLEM_LABEL`` gets at most its share of concrete members.
* Quotes: members closest to the cluster centroid, skipping near-duplicates of quotes taken;
  members the pain filter is sure of (pain score at least ``SURE_COMPLAINT``) first, so
  context that only just passed ("I ordered the plug on Friday.") is no hassle's headline.
* Stage and theme: the most common real tag and its share of all members.

Pure and deterministic: ties are broken by term string and by input order.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from config.taxonomy import UNASSIGNED
from nlp.label_support import (
    KEYPHRASE_AND,
    LABEL_MIN_SHARE,
    NO_DETAIL,
    NO_PROBLEM_LABEL,
    content_stems,
    is_unfit_label,
    most_held_label,
    says,
    says_two_things,
)
from nlp.rows import comment_of
from nlp.specificity import Corpus, coherence, specificity
from nlp.terms import WORD, ReadUnit, find_handle_names, read_unit, stem, word_before_particle
from nlp.wordlists import END_PARTICLES, GENERIC, NEGATIONS, OBJECT_PRONOUNS, STOP

_MAX_LABEL_WORDS = 6
_LENGTH_BONUS = 0.1  # label score multiplier per content word beyond one
_FILLER_PENALTY = 0.1  # label score penalty per stopword (but negations and particles)
_PROBLEM_BONUS = 0.5  # label score multiplier for a phrase that names a problem
_LABEL_POOL = 50  # label candidates checked for support, best-scored first
_QUOTE_POOL = 200  # quotes are picked among this many members closest to the centroid
SURE_COMPLAINT = 0.6
"""The pain score from which a member is quoted before the members that only just passed."""
# Without a phrase to label it, a cluster where fewer members than this name a concrete object
# is labelled NO_PROBLEM_LABEL rather than by two of its keyphrases ("woo + cute").
_FALLBACK_MIN_CONCRETE = 0.25
_UnitKey = tuple[str, tuple[str, ...], tuple[str, ...]]  # text, lemmas, noun chunks


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
        pain_score: How sure the pain filter is that the sentence is a complaint (0..1), or
            None when not known (then it counts as sure).
    """

    unit_id: str
    text: str
    lemmas: tuple[str, ...]
    noun_chunks: tuple[str, ...]
    stage: str | None
    theme: str | None
    pain_score: float | None = None


@dataclass(frozen=True)
class ClusterLabel:
    """What a cluster is about, for people reading the report.

    Attributes:
        label: Short readable label, e.g. ``"refund takes weeks"``.
        keyphrases: Top keyphrases, most characteristic first.
        quote_unit_ids: Representative units, no near-duplicates: those the pain filter is
            sure of, closest to the centroid first, then the others.
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


class CtfidfLabeller:
    """The labeller: c-TF-IDF keyphrases and labels, centroid quotes.

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
        label_min_share: float = LABEL_MIN_SHARE,
    ) -> None:
        self.top_keyphrases = top_keyphrases
        self.quotes = quotes
        self.min_quotes = min_quotes
        self.near_duplicate_cosine = near_duplicate_cosine
        self.near_duplicate_jaccard = near_duplicate_jaccard
        self.label_min_share = label_min_share
        # What each distinct unit reads as, per set of handles cut out: the children's and the
        # parents' labelling read the same units (a few seconds at 100,000 units).
        self._read: dict[frozenset[str], dict[_UnitKey, ReadUnit]] = {}

    def label(
        self,
        units: Sequence[LabelInput],
        vectors: np.ndarray,
        labels: np.ndarray,
        brand_handles: frozenset[str] = frozenset(),
        offered: Mapping[int, Sequence[str]] | None = None,
    ) -> dict[int, ClusterLabel]:
        """Label every cluster and measure how specific it is.

        Args:
            units: The units; ``units[i]`` has vector ``vectors[i]`` and cluster ``labels[i]``.
            vectors: L2-normalised float32 vectors, one row per unit.
            labels: Cluster id per unit; -1 is noise and is ignored.
            brand_handles: Handles of the brand found where the units' text no longer has them
                (lower case, e.g. ``spotifycares``): the brand's name, the start of one, is then
                no specific word, as for handles found in the units.
            offered: Labels offered to some clusters (a parent's children's labels). Such a
                cluster takes the one, of these and its own, whose content words the most of its
                members hold; a tie keeps its own. A parent thus says what most of its members
                say, not what sets its smallest child apart.

        Returns:
            One :class:`ClusterLabel` per cluster id >= 0.
        """
        labels = np.asarray(labels)
        kept = np.flatnonzero(labels >= 0)
        cluster_ids, sizes = np.unique(labels[kept], return_counts=True)
        if not len(cluster_ids):
            return {}
        members = np.split(kept[np.argsort(labels[kept], kind="stable")], np.cumsum(sizes)[:-1])
        read, found_brands = self.read(units, labels)
        corpus = Corpus(read, members, found_brands | brand_handles)

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
            # the two most characteristic keyphrases' words ("refund takes weeks" for "refund"),
            # or of the two that are more than a name ("wells fargo" names no problem).
            named = [term for term in keyphrases if not corpus.names_only(term)]
            anchors = {stem(w) for term in (*keyphrases[:2], *named[:2]) for w in term.split()}
            candidates = [
                (-score[k] * _label_weight(corpus, term), term)
                for k in np.flatnonzero(present >= min(2, sizes[row]))
                if (term := terms[k]) in readable
                and 1 <= term.count(" ") < _MAX_LABEL_WORDS
                and says_two_things(term)
                and not corpus.cuts_a_name(term)
                and anchors & {stem(w) for w in term.split()}
                and _reads_well(corpus, term)
            ]
            # A phrase is shared by the members holding all its content words, in any wording
            # ("music stops", "music just stops", "stops the music"); of those shared by enough
            # members, the label is the one scoring best on that share, its idf, its weight
            # and how common its most common word is (a parent's label names what its
            # children share).
            held = [read[i] for i in members[row]]
            stem_counts = Counter(stem for unit in held for stem in unit.stems)
            shared = []
            for _, term in sorted(candidates)[:_LABEL_POOL]:
                needed = content_stems(term)
                support = sum(map(says(term), held))
                if support >= min_count:
                    common = max(stem_counts[stem] for stem in needed) / sizes[row]
                    idf = math.log1p(average / total[term])
                    weight = _label_weight(corpus, term) * (1 + common)
                    shared.append((-support / sizes[row] * idf * weight, term))
            candidates = shared
            concrete = float(np.mean([corpus.is_concrete(read[i]) for i in members[row]]))
            if candidates:
                label = min(candidates)[1]
            elif concrete < _FALLBACK_MIN_CONCRETE or not keyphrases:
                label = NO_PROBLEM_LABEL
            elif len(named) >= 2:
                label = f"{named[0]}{KEYPHRASE_AND}{named[1]}"
            elif named and " " in named[0]:
                label = named[0]
            else:  # a lone word, or only names: "wells fargo (no detail given)"
                label = f"{(named or keyphrases)[0]}{NO_DETAIL}"
            offers = offered.get(int(cluster_ids[row])) if offered else None
            if offers and (chosen := most_held_label(label, offers, held, min_count)) != label:
                label, candidates = chosen, [(0.0, chosen)]  # its words are then the focus
            idx = members[row]
            stage, stage_share = _dominant([units[i].stage for i in idx])
            theme, theme_share = _dominant([units[i].theme for i in idx])
            focus = {
                stem(w)
                for term in (label if candidates else "", *named[:2])
                for w in WORD.findall(term)
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
                specificity=_specificity_of(
                    label,
                    concrete=concrete,
                    focused=float(np.mean([not focus.isdisjoint(read[i].stems) for i in idx])),
                    coherence=coherence(vectors, idx),
                ),
            )
        return result

    def read(
        self, units: Sequence[LabelInput], labels: np.ndarray
    ) -> tuple[dict[int, ReadUnit], frozenset[str]]:
        """What each clustered unit reads as, by index, and the brand handles found.

        The handles are those of the clustered units (``labels >= 0``), cut out of each. A
        unit is read once per set of handles however often it is asked for, so reading the
        same units again, to judge a kept label (:func:`nlp.label_support.keep_label`), costs
        a lookup each.
        """
        kept = np.flatnonzero(np.asarray(labels) >= 0)
        handles, found_brands = find_handle_names([units[i].text for i in kept])
        read: dict[int, ReadUnit] = {}
        seen = self._read.setdefault(handles, {})
        for i in kept.tolist():  # equal units (a repeated "Thanks!") are read once
            key = (units[i].text, units[i].lemmas, units[i].noun_chunks)
            read[i] = seen.get(key) or seen.setdefault(key, read_unit(*key, handles))
        return read, found_brands

    def _keyphrases(self, ranked: Iterable[str]) -> tuple[str, ...]:
        chosen: list[tuple[str, frozenset[str]]] = []
        for term in ranked:
            if len(chosen) >= self.top_keyphrases:
                break
            stems = frozenset(stem(w) for w in term.split())
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
        pool = order[:_QUOTE_POOL]
        sure = np.array([_is_sure(units[idx[pos]]) for pos in pool], dtype=bool)
        taken: list[int] = []  # positions in order
        taken_words: list[frozenset[str]] = []
        seen: set[tuple[str, ...]] = set()
        quoted: set[str] = set()  # comments already quoted: two sentences of one read as one
        for k in np.argsort(~sure, kind="stable"):  # the sure first, each closest first
            if len(taken) >= self.quotes:
                break
            pos = pool[k]
            unit = units[idx[pos]]
            words = _words(unit.text)
            word_set = frozenset(words)
            if (
                words in seen
                or comment_of(unit.unit_id) in quoted
                or any(
                    _jaccard(word_set, other) >= self.near_duplicate_jaccard
                    for other in taken_words
                )
            ):
                continue
            similarity = member_vectors[order[taken]] @ member_vectors[pos]
            if taken and float(similarity.max()) >= self.near_duplicate_cosine:
                continue
            taken.append(int(k))
            taken_words.append(word_set)
            seen.add(words)
            quoted.add(comment_of(unit.unit_id))
        for k, pos in enumerate(order):  # too few: fill with near-duplicates, never identical
            if len(taken) >= self.min_quotes:
                break
            unit = units[idx[pos]]
            words = _words(unit.text)
            if k not in taken and words not in seen and comment_of(unit.unit_id) not in quoted:
                taken.append(k)
                seen.add(words)
                quoted.add(comment_of(unit.unit_id))
        # Sure members first, each part closest to the centroid first.
        taken.sort(key=lambda k: (not _is_sure(units[idx[order[k]]]), k))
        return tuple(units[idx[order[k]]].unit_id for k in taken)


def _is_sure(unit: LabelInput) -> bool:
    """Whether the pain filter is sure ``unit`` is a complaint (or its score is not known)."""
    return unit.pain_score is None or unit.pain_score >= SURE_COMPLAINT


def _specificity_of(label: str, *, concrete: float, focused: float, coherence: float) -> float:
    """The cluster's specificity, held to its share of concrete members when it names no problem.

    Such a cluster has under a quarter of its members naming a concrete object, so it is never
    ranked as specific ("A shame!", "Sad!" head noun chunks, but name no problem).
    """
    measured = specificity(concrete=concrete, focused=focused, coherence=coherence)
    return min(measured, round(concrete, 3)) if label == NO_PROBLEM_LABEL else measured


def _reads_well(corpus: Corpus, phrase: str) -> bool:
    """Whether a phrase ends where a phrase can end, and reads as English.

    Not on a particle after a noun ("songs in"; "log in" is fine), nor on a word that
    mostly modifies a noun ("violated my protected consumer" of "... consumer rights"), nor
    unfit for a label (:func:`nlp.label_support.is_unfit_label`: a fragment cut from a
    sentence, "not" before a noun or a relative clause cut short; names alone; swearing).
    """
    if is_unfit_label(phrase, corpus):
        return False
    *rest, last = phrase.split()
    if last in END_PARTICLES:
        return not corpus.is_noun(rest[-1])
    return not corpus.is_modifier(last)


def _label_weight(corpus: Corpus, phrase: str) -> float:
    """The label score multiplier: content words, an end particle, naming a problem add; fillers cost.

    A name ("wells fargo closed") counts as no content word: the phrase is scored as "closed".

    A filler is a stopword other than a negation, a particle or the pronoun before the particle
    that ends the phrase ("using it on my windows" has two; "logs me out" none).
    """
    words = phrase.split()
    # A name says which company or product, not what is wrong: it adds nothing here.
    content = [w for w in words if w not in STOP and not corpus.is_name(w)]
    ends_on_particle = words[-1] in END_PARTICLES
    filler = sum(w in STOP and w not in NEGATIONS and w not in END_PARTICLES for w in words)
    if ends_on_particle and words[word_before_particle(words, len(words) - 1)] in OBJECT_PRONOUNS:
        filler -= 1  # "me" of "logs me out" (or "it" of "turn it back on") belongs to the verb
    noun = any(map(corpus.is_noun, content))
    predicate = any(not corpus.is_noun(w) and w not in GENERIC for w in content)
    problem = any(w in NEGATIONS for w in words) or (noun and predicate)
    said = len(content) + ends_on_particle  # "log in" says more than "log"
    length = 1 + _LENGTH_BONUS * (said - 1) - _FILLER_PENALTY * filler
    return length * (1 + _PROBLEM_BONUS * problem)


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
    return tuple(WORD.findall(text.lower().replace("’", "'"))) or (text.strip().lower(),)


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


def labels_by_parent(
    children: Mapping[int, ClusterLabel], parent_of_child: np.ndarray
) -> dict[int, list[str]]:
    """Each parent's children's labels, to offer the parent (``CtfidfLabeller.label``)."""
    offered: dict[int, list[str]] = {}
    for child, labelled in children.items():
        offered.setdefault(int(parent_of_child[child]), []).append(labelled.label)
    return offered
