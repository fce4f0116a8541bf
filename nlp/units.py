"""Text units: each comment split into sentences, with lemmas, noun chunks and negation.

Taxonomy pattern hits are found per sentence, negation-aware. The spaCy pipeline is passed in;
nothing here touches files.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

NEGATION_WORDS = frozenset(
    {"no", "not", "never", "without", "n't", "nothing", "nobody", "none", "neither", "nor"}
)
# A hit is negated when a negation sits this many tokens before it in the same sentence.
NEGATION_WINDOW = 4
# spaCy components the unit analysis needs: sentences and negation come from the parser,
# lemmas from the tagger, attribute ruler and lemmatizer. Everything else is disabled.
NEEDED_COMPONENTS = ("tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter")
# Where a run-on sentence may be cut: after these punctuation marks, or before these words.
CLAUSE_PUNCT = frozenset({",", ";", ":", "-", "\u2013", "\u2014"})
CLAUSE_WORDS = frozenset({"but", "however", "although", "though"})
# Before these the word makes no contrast: "nothing but problems", "even though", "as though",
# "can't help but".
_NO_CONTRAST_BEFORE = frozenset({"nothing", "anything", "all", "even", "as", "help"})
# The full stops of Chinese and Japanese. Written without spaces, a CJK comment reaches spaCy's
# English tokenizer as one token, inside which the parser cannot end a sentence.
CJK_STOPS = "\u3002\uff01\uff1f"  # 。！？
_CJK_STOP_RUN = re.compile(f"([{CJK_STOPS}]+)")


@dataclass(frozen=True)
class PatternHit:
    """A taxonomy pattern that matched inside a sentence."""

    dimension: str
    label: str
    negated: bool


@dataclass(frozen=True)
class Sentence:
    """One sentence of a comment, with character offsets into the comment's text."""

    index: int
    start: int
    end: int
    text: str
    lemmas: tuple[str, ...]
    noun_chunks: tuple[str, ...]
    negated: bool
    hits: tuple[PatternHit, ...]


def build_matcher(
    nlp: Any, patterns: Iterable[tuple[str, str, Sequence[Sequence[dict[str, Any]]]]]
) -> Any:
    """Build a spaCy ``Matcher`` from (dimension, label, patterns) triples.

    Match ids are ``"dimension|label"`` so hits can be traced back to the taxonomy.
    """
    from spacy.matcher import Matcher

    matcher = Matcher(nlp.vocab)
    for dimension, label, label_patterns in patterns:
        if label_patterns:
            matcher.add(f"{dimension}|{label}", [list(p) for p in label_patterns])
    return matcher


def _is_negation(token: Any) -> bool:
    return token.dep_ == "neg" or token.lower_ in NEGATION_WORDS


def _hit_is_negated(sent: Any, start: int, end: int) -> bool:
    span_tokens = {t.i for t in sent.doc[start:end]}
    for token in sent:
        if not _is_negation(token):
            continue
        if start - NEGATION_WINDOW <= token.i < start:
            return True
        # "no problem with the delivery": the negation governs a head above the matched words.
        if any(t.i in span_tokens for t in token.head.subtree) and token.i < start:
            return True
    return False


def _sentence(sent: Any, index: int, matches: list[tuple[int, int, int]], strings: Any) -> Sentence:
    hits = []
    for match_id, start, end in matches:
        if sent.start <= start and end <= sent.end:
            dimension, label = strings[match_id].split("|", 1)
            hits.append(PatternHit(dimension, label, _hit_is_negated(sent, start, end)))
    lemmas = tuple(
        t.lemma_.lower() for t in sent if not (t.is_stop or t.is_punct or t.is_space or t.like_num)
    )
    try:
        # Determiners and pronouns add nothing to a keyphrase: "the app" -> "app", "I" -> dropped.
        # A negating one is the point of it: "still no refund" must not become "still refund".
        chunks = tuple(
            phrase
            for chunk in sent.noun_chunks
            if (
                phrase := " ".join(
                    t.lower_ for t in chunk if t.pos_ not in ("DET", "PRON") or _is_negation(t)
                )
            )
        )
    except ValueError:  # a pipeline without a parser has no noun chunks
        chunks = ()
    return Sentence(
        index=index,
        start=sent.start_char,
        end=sent.end_char,
        text=sent.text,
        lemmas=lemmas,
        noun_chunks=chunks,
        negated=any(_is_negation(t) for t in sent),
        hits=tuple(hits),
    )


def _is_word(token: Any) -> bool:
    """Whether a token holds a word: it is alphabetic, or a non-ASCII token with a letter in it.

    spaCy's ``is_alpha`` is false for letters that carry combining marks ("t̷h̷e̷") and
    for a CJK run holding punctuation ("退款没到账，客服不回复"). ASCII tokens keep spaCy's
    meaning, so a sentence of only "3rd" or a URL still makes no unit.
    """
    return token.is_alpha or (not token.is_ascii and any(c.isalpha() for c in token.text))


def _is_stop(token: Any) -> bool:
    return _CJK_STOP_RUN.fullmatch(token.text) is not None


def _split_cjk_stops(doc: Any) -> Any:
    """Split each CJK full stop off the token it is written in, before the parser runs.

    A stop is marked as never starting a sentence, so the parser keeps it with the words before
    it; :func:`cut_at_cjk_stops` then ends the sentence there. A doc without one is untouched.
    """
    if not _CJK_STOP_RUN.search(doc.text):
        return doc
    with doc.retokenize() as retokenizer:
        for token in doc:
            parts = [part for part in _CJK_STOP_RUN.split(token.text) if part]
            if len(parts) > 1:
                # Placeholder heads: the parser sets the real ones.
                retokenizer.split(token, parts, heads=[(token, 0)] * len(parts))
    for token in doc:
        if _is_stop(token):
            token.is_sent_start = False
    return doc


def cut_at_cjk_stops(sent: Any) -> list[Any]:
    """Cut a sentence after each run of CJK full stops (:data:`CJK_STOPS`).

    The English parser ignores a sentence start set before it runs and seldom ends a sentence
    at "。" itself, so a Chinese or Japanese comment would otherwise be one unit.
    """
    doc, pieces, start = sent.doc, [], sent.start
    for token in sent[:-1]:
        if _is_stop(token) and not _is_stop(doc[token.i + 1]):
            pieces.append(doc[start : token.i + 1])
            start = token.i + 1
    pieces.append(doc[start : sent.end])
    return pieces


def _words_before(sent: Any) -> list[int]:
    """``[k]``: the words in the sentence's first k tokens (one pass, not one per cut)."""
    counts = [0]
    for token in sent:
        counts.append(counts[-1] + token.is_alpha)
    return counts


def cut_run_on(sent: Any, max_words: int, min_words: int) -> list[Any]:
    """Cut a sentence of more than ``max_words`` words into clauses of ``min_words`` or more.

    Run-on text ("nice hotel, room smelled musty, carpet stained, staff lovely") reaches the
    embedder as one long vector in which each complaint is a small part. The cuts fall after a
    comma, semicolon, colon or dash, or before "but"/"however"/"although"/"though", and only
    where both sides keep at least ``min_words`` words; a sentence without such a place stays
    whole. A sentence of ``max_words`` or fewer is returned as it is.
    """
    words_before = _words_before(sent)
    total = words_before[-1]
    if total <= max_words:
        return [sent]
    doc, first = sent.doc, sent.start
    pieces, start = [], first
    for token in sent:
        if token.text in CLAUSE_PUNCT:
            end = next_start = token.i + 1
        elif token.lower_ in CLAUSE_WORDS:
            end = next_start = token.i
        else:
            continue
        taken = words_before[end - first] - words_before[start - first]
        if taken >= min_words and total - words_before[next_start - first] >= min_words:
            pieces.append(doc[start:end])
            start = next_start
    pieces.append(doc[start : sent.end])
    return pieces


def cut_at_contrast(sent: Any, min_words: int) -> list[Any]:
    """Cut a sentence before each "but"/"however"/"although"/"though" with ``min_words`` a side.

    Praise and a complaint often share one sentence ("Nice ambience, but highly overrated
    place"; "They fixed it but it broke again"): whole, its vector is neither. Each side of the
    contrast becomes a unit of its own, so the complaint is read, quoted and clustered alone.
    """
    words_before = _words_before(sent)
    total, doc, first = words_before[-1], sent.doc, sent.start
    pieces, start = [], first
    for token in sent:
        if token.lower_ not in CLAUSE_WORDS or (
            token.i > first and doc[token.i - 1].lower_ in _NO_CONTRAST_BEFORE
        ):
            continue
        taken = words_before[token.i - first] - words_before[start - first]
        after = total - words_before[token.i - first + 1]  # the contrast word not counted
        if taken >= min_words and after >= min_words:
            pieces.append(doc[start : token.i])
            start = token.i
    pieces.append(doc[start : sent.end])
    return pieces


def split_sentences(
    nlp: Any,
    texts: Iterable[str],
    *,
    matcher: Any = None,
    batch_size: int = 256,
    run_on_words: int | None = None,
    clause_words: int = 12,
    contrast_words: int | None = None,
) -> Iterator[list[Sentence]]:
    """Yield, for each text, its sentences (skipping ones with no word in them).

    Chinese and Japanese text is also cut after each of its full stops (:func:`cut_at_cjk_stops`).

    Args:
        nlp: A loaded spaCy pipeline; components not in :data:`NEEDED_COMPONENTS` are disabled
            for the run.
        texts: The comments' texts.
        matcher: Optional spaCy ``Matcher`` from :func:`build_matcher`.
        batch_size: Texts per ``nlp.pipe`` batch.
        run_on_words: A sentence of more words than this is cut into clauses
            (:func:`cut_run_on`); ``None`` keeps every sentence whole.
        clause_words: The fewest words a clause cut from a run-on sentence keeps.
        contrast_words: Each sentence (or clause) is also cut before a contrast word where
            both sides keep this many words (:func:`cut_at_contrast`); ``None``: never.
    """
    unneeded = [name for name in nlp.pipe_names if name not in NEEDED_COMPONENTS]
    with nlp.select_pipes(disable=unneeded):
        docs = (_split_cjk_stops(nlp.make_doc(text)) for text in texts)
        for doc in nlp.pipe(docs, batch_size=batch_size):
            matches = list(matcher(doc)) if matcher is not None else []
            sentences = []
            for sent in (s for parsed in doc.sents for s in cut_at_cjk_stops(parsed)):
                if not any(_is_word(t) for t in sent):
                    continue
                pieces = (
                    [sent] if run_on_words is None else cut_run_on(sent, run_on_words, clause_words)
                )
                if contrast_words is not None:
                    pieces = [c for p in pieces for c in cut_at_contrast(p, contrast_words)]
                for piece in pieces:
                    sentences.append(_sentence(piece, len(sentences), matches, nlp.vocab.strings))
            yield sentences
