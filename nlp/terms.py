"""What the labeller reads from one unit: candidate terms, readable phrases, words and stems.

Each unit contributes candidate terms: its lemmas, lemma bigrams, noun chunks, and 2-4 word
surface phrases of its text ("logs me out", "refund not received", "can't log in"). Before
that, the text is cleaned of what never names a problem: @handles (and the same names written
without "@"), URLs, emoji, redaction placeholders ("[email]"), and greeting, thanks and chit-chat
words (:data:`nlp.wordlists.CHAT`), which break a phrase like punctuation. It also says how
the unit writes its words, capitalised inside a sentence or in lower case, from which the
corpus tells names apart (:meth:`nlp.specificity.Corpus.is_name`).
"""

from __future__ import annotations

import functools
import html
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from nlp.wordlists import (
    CHAT,
    CLAUSE_GOES_ON,
    DEGREE,
    DENIALS,
    END_PARTICLES,
    HOLLOW_EDGES,
    NEGATIONS,
    OBJECT_PRONOUNS,
    OBJECT_STARTS,
    STOP,
)

_NO_EDGE = STOP | DEGREE | HOLLOW_EDGES  # a phrase read off the words neither starts nor ends on
WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")
"""A lower-case word: "don't" and "long-time" are one word."""
_CASED_WORD = re.compile(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*")
# A word after one of these (or first) starts a sentence, a quote or what a cut-out handle
# left: its capital says nothing of whether it is a name.
_STARTS_AFTER = frozenset(".!?:;|\"“”()…-–—*'‘")
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
_MAX_PHRASE_WORDS = 4
BRAND_HANDLE_SHARE = 0.01  # a handle in this share of the texts is the brand's


@dataclass(frozen=True)
class ReadUnit:
    """What the labeller reads from one unit once handles, URLs and chit-chat are cut out.

    Attributes:
        terms: Candidate terms: lemmas, lemma bigrams, noun chunks, phrases.
        phrases: The readable ones among them, which a label may use.
        words: Surface words and lemmas.
        stems: Crude stems of ``words``.
        negated_stems: Stems of the content words a denial puts in doubt: those after a
            denial in the phrase it starts ("song" and "play" in "no songs play"; none in
            "songs are fine").
        chunk_words: Words inside noun chunks.
        heads: The last word of each noun chunk.
        capitalised: Content words written with a capital inside a sentence ("Wells Fargo",
            "TransUnion"), but not in capitals only ("ATM") nor in a title-case sentence.
        lower_case: Content words written in lower case.
        capital_pairs: Two content words written with capitals side by side, the first
            perhaps starting the sentence: ("wells", "fargo") of "Wells Fargo closed it".
    """

    terms: frozenset[str]
    phrases: tuple[str, ...]
    words: frozenset[str]
    stems: frozenset[str]
    negated_stems: frozenset[str]
    chunk_words: frozenset[str]
    heads: frozenset[str]
    capitalised: frozenset[str] = frozenset()
    lower_case: frozenset[str] = frozenset()
    capital_pairs: frozenset[tuple[str, str]] = frozenset()


def find_handle_names(texts: Sequence[str]) -> tuple[frozenset[str], frozenset[str]]:
    """The @handles in ``texts``, and the brand handles among them, lower case.

    Each handle comes with "s" dropped too (spaCy's lemma of "@SpotifyCares"). A brand handle
    is one in at least ``BRAND_HANDLE_SHARE`` of the texts (the support account written to).
    """
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({name.lower() for name in _HANDLE.findall(text)})
    names = set(counts) | {name[:-1] for name in counts if name.endswith("s")}
    brands = {name for name, n in counts.items() if n >= BRAND_HANDLE_SHARE * len(texts)}
    return frozenset(names), frozenset(brands)


@functools.lru_cache(maxsize=1 << 16)
def _keep_word(word: str, handles: frozenset[str]) -> bool:
    return (
        WORD.fullmatch(word) is not None
        and _REDACTED.fullmatch(word) is None
        and word not in CHAT
        and word not in handles
        and _LETTER.search(word) is not None
    )


def read_unit(
    text: str, lemmas: Sequence[str], noun_chunks: Sequence[str], handles: frozenset[str]
) -> ReadUnit:
    """Read a unit's candidate terms, phrases and words, without handles, URLs or chit-chat.

    Args:
        text: The sentence, as the customer wrote it.
        lemmas: Its content-word lemmas, lower case, in order.
        noun_chunks: Its lower-case noun chunks.
        handles: Handle names to cut out (:func:`find_handle_names`).
    """
    # Every word kept holds a letter (_keep_word), so every term is wordlike once 2+ long.
    kept_lemmas = [w for w in lemmas if len(w) >= 2 and _keep_word(w, handles)]
    chunks = []
    for chunk in noun_chunks:
        kept = [w for w in _unhyphen(chunk).split() if _keep_word(w, handles)]
        if kept and (len(kept) > 1 or len(kept[0]) >= 2):
            chunks.append(" ".join(kept))
    text = html.unescape(text) if "&" in text else text
    text = _NOISE.sub(" | ", text.replace("’", "'")).replace("#", " ")
    capitalised, lower_case, capital_pairs = _cased_words(text, handles)
    phrases = [c for c in chunks if " " in c]
    surface: set[str] = set()
    negated: set[str] = set()
    n_words = 0
    for part in _BREAK.split(text.lower()):
        # Chit-chat and handle names break a phrase, as punctuation does.
        kept = [w if _keep_word(w, handles) else "" for w in WORD.findall(part)]
        n_words += len(kept)
        surface.update(kept)
        # A lone letter is no edge: the "s" of "Wells Fargo 's", the "t" of "don t".
        edge = [len(w) >= 2 and w not in _NO_EDGE and not w.isdigit() for w in kept]
        n = len(kept)
        for i in range(n - 1):
            if edge[i] or kept[i] in NEGATIONS:
                for j in range(i + 1, min(i + _MAX_PHRASE_WORDS, n)):
                    if not kept[j]:
                        break
                    if edge[j] or _ends_on_particle(kept, edge, j):
                        phrases.append(" ".join(kept[i : j + 1]))
                    if edge[j] and kept[i] in DENIALS:
                        negated.add(stem(kept[j]))
    surface.discard("")
    # Tickets pasted from forms repeat words ("cable cable", "password password reset"):
    # a phrase saying a word twice names nothing more than the word. The multi-word noun
    # chunks are among the phrases, so each term is checked once.
    phrases = [p for p in phrases if not _repeats_a_word(p)]
    pairs = map(" ".join, zip(kept_lemmas, kept_lemmas[1:], strict=False))
    bigrams = [b for b in pairs if not _repeats_a_word(b)]
    single_chunks = [c for c in chunks if " " not in c]
    words = frozenset(surface.union(kept_lemmas))
    # A chunk's words in their lemma too ("song" of "my songs"): the corpus counts a word's
    # units by surface and lemma, so it must count its chunks the same way.
    chunk_words = {w for c in chunks for w in c.split()}
    chunk_stems = {stem(w) for w in chunk_words}
    chunk_words.update(w for w in kept_lemmas if stem(w) in chunk_stems)
    return ReadUnit(
        terms=frozenset((*kept_lemmas, *bigrams, *single_chunks, *phrases)),
        phrases=tuple(phrases),
        words=words,
        stems=frozenset(map(stem, words)),
        negated_stems=frozenset(negated),
        chunk_words=frozenset(chunk_words),
        # A one-word sentence ("Avoid.", "Frustrating.") names no object, whatever spaCy made
        # of it: parsed alone, an imperative or an adjective comes out as a noun chunk.
        heads=frozenset(c.rsplit(" ", 1)[-1] for c in chunks) if n_words > 1 else frozenset(),
        capitalised=capitalised,
        lower_case=lower_case,
        capital_pairs=capital_pairs,
    )


def _cased_words(
    text: str, handles: frozenset[str]
) -> tuple[frozenset[str], frozenset[str], frozenset[tuple[str, str]]]:
    """How ``text`` writes its content words: capitalised, lower case, capitalised side by side.

    A word starting a sentence or a line, or written in capitals only ("ATM", "FCRA"), counts
    as neither capitalised nor lower case, though it may start a pair ("Wells Fargo closed
    it"). A sentence in title case ("Spotify Keeps Crashing On My Phone": three words or more
    inside it, none in lower case) says nothing of names: no capitalised word, no pair.
    """
    capitalised: set[str] = set()
    lower_case: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    inside = 0
    end = 0  # where the word before ended
    before = ""  # the word before, when a content word written with a capital
    for match in _CASED_WORD.finditer(text):
        word, lower, gap = match.group(), match.group().lower(), text[end : match.start()]
        starts = gap.strip()[-1:] in _STARTS_AFTER if gap.strip() else end == 0 or "\n" in gap
        end = match.end()
        content = len(word) >= 2 and lower not in STOP and _keep_word(lower, handles)
        titled = content and word[0].isupper() and not word.isupper()
        if titled and before and not gap.strip():
            pairs.add((before, lower))
        before = lower if titled else ""
        if starts or not content:
            continue
        inside += 1
        if word == lower:
            lower_case.add(lower)
        elif not word.isupper():
            capitalised.add(lower)
    if inside >= 3 and capitalised and not lower_case:
        return frozenset(), frozenset(), frozenset()
    return frozenset(capitalised), frozenset(lower_case), frozenset(pairs)


def _ends_on_particle(kept: Sequence[str], edge: Sequence[bool], j: int) -> bool:
    """Whether a phrase may end on ``kept[j]``, a particle that ends its verb's clause.

    The verb comes right before it ("log in"), before an object pronoun ("logs me out") or
    before "back" ("log back in", "turn it back on"). What follows must end the clause: a
    break, a stopword that starts no object ("log in to", "logs me out every day"), an adverb
    ("constantly", "today"). A particle with its object after it ("short on me", "available
    in this country", "charged me in euros", "delivered on saturday") is a preposition, and a
    phrase ending there is cut short.
    """
    after = kept[j + 1] if j + 1 < len(kept) else ""
    if kept[j] not in END_PARTICLES or (kept[j] == "back" and after in END_PARTICLES):
        return False  # "logs me back" of "logs me back in" is cut short
    if _starts_an_object(after):
        return False
    verb = word_before_particle(kept, j)
    return edge[verb] or (verb >= 1 and kept[verb] in OBJECT_PRONOUNS and edge[verb - 1])


def word_before_particle(words: Sequence[str], j: int) -> int:
    """The index of the word the particle ``words[j]`` follows, past a "back" ("log back in")."""
    return j - 2 if j >= 2 and words[j - 1] == "back" else j - 1


def _starts_an_object(word: str) -> bool:
    """Whether ``word``, right after a particle, starts its object: the particle is a preposition.

    An object stopword (:data:`nlp.wordlists.OBJECT_STARTS`) or a content word does; a break
    (``""``), an adverb in "-ly" or one of :data:`nlp.wordlists.CLAUSE_GOES_ON` does not.
    """
    if not word or word in CLAUSE_GOES_ON or word.endswith("ly"):
        return False
    return word in OBJECT_STARTS or word not in STOP


def _repeats_a_word(term: str) -> bool:
    """Whether a multi-word term holds one content word twice (compared on crude stems)."""
    content = [stem(w) for w in term.split() if w not in STOP]
    return len(set(content)) < len(content)


def _unhyphen(term: str) -> str:
    return _SPACED_HYPHEN.sub("-", term) if " - " in term else term


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Crude suffix stripping, only to spot repeated keyphrases ("takes" ~ "take")."""
    for suffix in ("ing", "ed", "es", "s", "e"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            root = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(root) > 3 and root[-1] == root[-2]:
                root = root[:-1]  # "logged" -> "log"
            return root
    return word
