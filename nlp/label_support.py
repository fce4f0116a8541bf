"""Who says a label: the members that hold its words, and the labels kept night to night.

A member says a phrase when it holds all the phrase's content words, in any wording ("music
stops", "stops the music"), for a phrase denying something ("no errors", "not working") one of
them negated, and for a phrase saying how much or how often ("more songs") one of those words. The
labeller (:mod:`nlp.label`) chooses labels by this support; a kept hassle keeps its label by
the same measure (:func:`keep_label`).

Pure: phrases and what each member reads as (:class:`nlp.terms.ReadUnit`) in, numbers out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from nlp.specificity import NOUN_SHARE, Corpus
from nlp.terms import WORD, ReadUnit, stem
from nlp.wordlists import DENIALS, END_PARTICLES, NEGATIONS, PROFANITY, STOP

LABEL_MIN_SHARE = 0.08
"""The share of a cluster's members that must say a phrase for it to be the label."""
ALWAYS_NOUN_SHARE = 0.9
"""A word nearly always said inside a noun chunk (its share of units) is a noun to a label."""
NO_PROBLEM_LABEL = "no problem named"
"""The label of a cluster whose members name nothing but handles, greetings or chit-chat."""
KEYPHRASE_AND = " + "
"""Between two keyphrases: the label of a cluster no phrase describes."""
NO_DETAIL = " (no detail given)"
"""After a lone keyphrase: the same."""
_SUBJECT_PRONOUNS = frozenset({"i", "we", "you", "they", "he", "she"})
# Stopwords saying how much or how often ("too much fabric", "charged twice").
_QUANTITY = frozenset({"too", "more", "less", "much", "again", "twice", "once"})
# Stopwords that say something in a label: how much, how often, that it went wrong.
_NOT_FILLER = NEGATIONS | END_PARTICLES | _QUANTITY


def says_two_things(phrase: str) -> bool:
    """Whether a phrase has two words that are not fillers: not "one playlist", "same error".

    A negation, a particle and a word saying how or how often count ("not solve", "logs me
    out", "charged twice").
    """
    words = [w for w in phrase.split() if w != KEYPHRASE_AND.strip()]
    return sum(w not in STOP or w in _NOT_FILLER for w in words) >= 2


def negates_a_noun(phrase: str, noun_share: Callable[[str], float]) -> bool:
    """Whether ``phrase`` has "not" right before a noun: "not song" of "it's not song specific".

    Such a phrase rarely reads as a problem on its own (it is cut from "not song specific",
    "not your fault"), yet every member naming the noun says it and "not" makes it a problem,
    so it would outscore the phrases that say what is wrong. A noun here is a word nearly always
    in a noun chunk (``noun_share``, :data:`ALWAYS_NOUN_SHARE`): in tickets' clipped language
    the chunker puts verbs in chunks too ("print" 71%, "work" 62% of IT tickets; "song" 98%
    and "account" 96% of support tweets), and "not print" must stay.
    """
    words = phrase.split()
    return any(
        w == "not" and noun_share(n) >= ALWAYS_NOUN_SHARE
        for w, n in zip(words, words[1:], strict=False)
    )


def cuts_a_relative_clause(phrase: str, noun_share: Callable[[str], float]) -> bool:
    """Whether ``phrase`` has a noun then a subject pronoun: "agent i spoke".

    That begins a relative clause ("every agent I spoke to was rude"), which a phrase of a
    few words cuts off before its point. A noun is a word most units hold inside a noun chunk
    (``noun_share`` at least :data:`nlp.specificity.NOUN_SHARE`, the corpus's own test).
    """
    words = phrase.split()
    return any(
        w in _SUBJECT_PRONOUNS and noun_share(before) >= NOUN_SHARE
        for before, w in zip(words, words[1:], strict=False)
    )


def is_unfit_label(phrase: str, corpus: Corpus) -> bool:
    """Whether ``phrase`` is no label tonight nor kept, whoever says it.

    A fragment cut from a sentence: "not" before a noun (:func:`negates_a_noun`) or a relative
    clause cut short (:func:`cuts_a_relative_clause`), by ``corpus``'s nouns; a phrase of names
    alone (:meth:`nlp.specificity.Corpus.names_only`: "wells fargo"); or swearing
    (:data:`nlp.wordlists.PROFANITY`).
    """
    return (
        negates_a_noun(phrase, corpus.noun_share)
        or cuts_a_relative_clause(phrase, corpus.noun_share)
        or corpus.names_only(phrase)
        or not PROFANITY.isdisjoint(WORD.findall(phrase))
    )


def night_corpus(read: Iterable[ReadUnit]) -> Corpus:
    """The word statistics of the night's clustered units, to judge a kept label by.

    Which words are nouns (:meth:`nlp.specificity.Corpus.noun_share`) and names
    (:meth:`~nlp.specificity.Corpus.names_only`) does not depend on how the units group into
    clusters, so a kept label is judged by the measures tonight's labels are chosen by.
    """
    units = dict(enumerate(read))
    return Corpus(units, [np.arange(len(units))], frozenset())


def most_held_label(
    own: str, offered: Sequence[str], members: Sequence[ReadUnit], min_held: int = 0
) -> str:
    """Of ``own`` and ``offered``, the label the most members say (:func:`says`).

    ``members`` holds what each member reads as (:func:`nlp.terms.read_unit`). A tie keeps
    ``own``, and so does an offered label fewer than ``min_held`` members say: a small child's
    label ("rooms ocean", said by 6 of a group's 263 members) does not name a group its
    members do not say it of, however few say ``own`` (a pair of keyphrases, "small + dated",
    is said only by the members holding both). ``NO_PROBLEM_LABEL`` is never offered nor
    replaced: a group whose sentences name no problem says so, rather than borrow what a few
    of its members say.
    """
    if own == NO_PROBLEM_LABEL:
        return own

    def held(label: str) -> int:
        if not content_stems(label) or label == NO_PROBLEM_LABEL:
            return -1
        return sum(map(says(label), members))

    best, best_held = own, held(own)
    for label in offered:
        if (count := held(label)) > best_held and count >= min_held:
            best, best_held = label, count
    return best


def keep_label(
    previous: str | None,
    candidate: str,
    members: Sequence[ReadUnit],
    min_share: float,
    *,
    corpus: Corpus,
) -> bool:
    """Whether a kept hassle keeps its previous label tonight instead of ``candidate``.

    A label's share is the share of ``members`` that say it (:func:`says`), as tonight's
    labels are chosen. The previous label stays while its share is at least ``min_share``,
    or while ``candidate`` is no clearer: below ``min_share`` itself, or not at least twice
    the previous share. Only a clearly better label replaces an established one; the history
    keeps the old one. A previous label that could not be tonight's gives way: one that says
    too little (one word and a filler, "one playlist"; a lone word from an older labeller),
    one with "not" before a noun ("not song", :func:`negates_a_noun`, by ``corpus``:
    :func:`night_corpus` of the night's clustered units), a relative clause cut short
    ("agent i spoke", :func:`cuts_a_relative_clause`), one of names alone ("wells fargo",
    :meth:`nlp.specificity.Corpus.names_only`),
    and a phrase that fewer than ``LABEL_MIN_SHARE`` of the members say (an absence claim,
    "no errors", where few deny an error; a parent's label, chosen on its children) when
    tonight's is a phrase that at least twice as many of them say.
    ``NO_PROBLEM_LABEL`` is said by none; labels are compared in lower case.
    """
    if not previous or not members:
        return False
    if previous == candidate:
        return True
    previous, candidate = previous.lower(), candidate.lower()
    if not says_two_things(previous) or is_unfit_label(previous, corpus):
        return False
    before = 0.0 if previous == NO_PROBLEM_LABEL else label_share(previous, members)
    after = label_share(candidate, members) if candidate != NO_PROBLEM_LABEL else 0.0
    if before < LABEL_MIN_SHARE and _is_phrase(previous) and _is_phrase(candidate):
        # A parent's candidate is chosen on its specific children only; one no member says
        # never replaces another.
        return after == 0 or after < 2 * before
    if before >= min_share:
        return True
    return after < min_share or after < 2 * before


def _is_phrase(label: str) -> bool:
    """Whether a label is a phrase members say, not a pair of keyphrases or no problem named."""
    return (
        label != NO_PROBLEM_LABEL and KEYPHRASE_AND not in label and not label.endswith(NO_DETAIL)
    )


def label_share(label: str, members: Sequence[ReadUnit]) -> float:
    """The share of ``members`` that say ``label`` (:func:`says`); 0 for a label of stopwords.

    A keyphrase labelled "(no detail given)" is measured on the keyphrase.
    """
    label = label.lower().removesuffix(NO_DETAIL)  # the members say the keyphrase, not the note
    if not members or not content_stems(label):
        return 0.0
    return sum(map(says(label), members)) / len(members)


def says(phrase: str) -> Callable[[ReadUnit], bool]:
    """Whether a member says ``phrase``: holds all its content words, in any wording.

    A phrase that denies something ("no errors", "no refund", "not parking", "app not
    working", "can't log in") also needs one of them negated in the member: "no errors" is
    said by "no error shows", not by "error 17 again", and "not parking" not by "the parking
    fee is steep"; otherwise the rare wording would borrow the support of every member naming
    the thing. For the same reason a phrase saying how much or how often ("more songs", "too
    much fabric", "charged twice") needs one of those words in the member too.
    """
    words = WORD.findall(phrase)
    needed = content_stems(phrase)
    quantity = _QUANTITY.intersection(words)
    absent = not DENIALS.isdisjoint(words)

    def said(unit: ReadUnit) -> bool:
        return (
            needed <= unit.stems
            and (not quantity or not quantity.isdisjoint(unit.words))
            and (not absent or not needed.isdisjoint(unit.negated_stems))
        )

    return said


def content_stems(phrase: str) -> set[str]:
    """The stems a member must hold to share ``phrase``: its words but the stopwords."""
    return {stem(w) for w in WORD.findall(phrase) if w not in STOP}


def tell_apart(
    labels: Mapping[int, str],
    keyphrases: Mapping[int, Sequence[str]],
    sizes: Mapping[int, int],
    previous: Mapping[int, str],
    corpus: Corpus,
) -> dict[int, str]:
    """The labels of one level, each saying something no label before it says.

    Two hassles whose labels hold the same content words ("violated my rights" and "violating
    my rights", "checking account" and "checking accounts") read as one problem in the report.
    The first of them keeps its label: an established one (its label last night, in
    ``previous``), then the larger (``sizes``). Each other adds a keyphrase that its label
    does not say, that is no name and that makes a label no label before it is ("my credit
    report + late"): the one it added last night while it still may, so a told-apart label
    holds from night to night, else its most characteristic word, else its most
    characteristic phrase. ``NO_PROBLEM_LABEL`` and
    a keyphrase "(no detail given)" are left as they are.
    """
    taken: set[frozenset[str]] = set()
    out = dict(labels)
    for k in sorted(labels, key=lambda k: (labels[k] != previous.get(k), -sizes[k], k)):
        said = frozenset(content_stems(labels[k]))
        if labels[k] == NO_PROBLEM_LABEL or labels[k].endswith(NO_DETAIL) or not said:
            continue
        if said in taken:
            told = f"{labels[k]}{KEYPHRASE_AND}"
            before = previous.get(k, "")
            added_before = before.removeprefix(told) if before.startswith(told) else ""
            # A single word reads best after a label ("+ lyrics"); longer keyphrases after.
            ranked = sorted(keyphrases[k], key=lambda phrase: " " in phrase)
            for phrase in (added_before, *ranked):
                more = frozenset(content_stems(phrase))
                if (
                    more
                    and more.isdisjoint(said)
                    and (said | more) not in taken
                    and not corpus.names_only(phrase)
                ):
                    out[k], said = f"{labels[k]}{KEYPHRASE_AND}{phrase}", said | more
                    break
        taken.add(said)
    return out
