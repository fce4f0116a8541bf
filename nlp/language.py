"""Language detection fit for short texts: a quick English check, a detector for the rest.

Customer texts are often a few words with handles, links and emoji ("@brand it didn't work 😢",
"dm sent"). A statistical detector guesses wildly on those (Afrikaans, Welsh, Tswana), and a
wrong foreign guess drops the text. So, in order:

1. Handles, links, ``__placeholders__``, digits and emoji are stripped: they say nothing
   about the language.
2. A text mostly in Latin letters is English when enough of its words are frequent English
   function or chat words, and more of them than frequent words of other languages and words
   with accented letters (about a microsecond; most English comments stop here).
3. A Latin-letter text of fewer than :data:`MIN_DETECT_WORDS` words with no frequent word of
   another language is undetermined (``und``) rather than foreign: too short to tell, and
   ``und`` is kept.
4. The rest goes to the detector passed in; its guess counts as foreign only with at least
   ``min_confidence``, otherwise the text is undetermined.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from nlp.wordlists import GREETINGS, THANKS

# Frequent English function words and chat words (greetings and thanks among them): a text
# made mostly of Latin-letter words with several of these is English, and the slower detector
# is skipped.
_ENGLISH = (
    frozenset(
        """
    the a an and or but if so as than then because i my me mine we our us you your yours he him
    his she her it its they them their this that these those there here what when where why how
    who which is was are were be been being am have has had do did does done doing not no yes
    to of in on at for with from by about into over after before again still just also too very
    can can't cannot could couldn't will won't would wouldn't should shouldn't may might must
    don't didn't doesn't isn't aren't wasn't weren't haven't hasn't hadn't i'm i've i'll i'd
    it's that's there's what's you're you've we're they're let's get got getting go going
    all any some every each more most other only same now up out off down back even never
    ever always anyone anything nothing something please pls plz
    ok okay yeah yep yup nope lol omg btw idk im ive dont cant wont didnt doesnt isnt
    u ur sent sure done still work works working worked help fix fixed
    """.split()  # noqa: SIM905 - a word list reads better as text
    )
    | GREETINGS
    | THANKS
)
# Frequent function words of the other languages customers most often write in (Spanish,
# Portuguese, French, German, Dutch, Italian) that are not English words: a text with as many
# of these as English ones goes to the detector ("el pedido no ha llegado" is not English).
_OTHER = (
    frozenset(
        """
        el la los las del que y en por para con una es está pero muy mi tu su lo ya porque como
        o os um uma não com meu minha você é da do em mas isso muito foi sempre
        le les des et est je ne pas une pour avec mon ma du au il elle nous vous ce qui sur très
        der die das und ist nicht ich ein eine mit auf zu den dem sie wir mein meine bitte noch
        auch sehr nichts ganz schon geht
        de het een niet ik van mijn op voor dat nog ook maar wel bij zijn heb er geen
        di che non per sono della questo
        """.split()  # noqa: SIM905 - a word list reads better as text
    )
    - _ENGLISH
)
_STRIP = re.compile(r"https?://\S+|www\.\S+|@\w+|__\w+__|&\w+;|#")
_NOISE = re.compile(r"[^\w\s'.,!?;:()-]|[\d_]")  # emoji, symbols, digits
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
DETECTOR_LANGUAGES = tuple(
    "en es pt fr de it nl sv da nb fi pl cs tr id ms tl vi ro hu ru uk el ar he fa hi bn ja zh ko th".split()  # noqa: SIM905
)
"""What the detector chooses from: the languages customers most often write in, across scripts.

Fewer candidates leave fewer wrong ones for a short English text (Tswana, Welsh) and load
faster; a text in a language not listed still comes out as some other language, not English.
"""
MIN_DETECT_WORDS = 4
"""Latin-letter texts with fewer words than this are never called foreign."""


@dataclass(frozen=True)
class LanguageGuess:
    """A detected language (ISO 639-1, or ``und``) with a confidence and how it was found."""

    code: str
    confidence: float
    method: str


def primary_language(code: str) -> str:
    """The language of a stated code, without its region or script: ``"en-GB"`` is ``"en"``.

    Sources state languages as BCP 47 tags or locales (``en-GB``, ``en_US``, ``EN``,
    ``zh-Hant-TW``); the supported languages are ISO 639-1 codes, compared with this.
    """
    return re.split(r"[-_]", code.strip(), maxsplit=1)[0].lower()


def _is_latin(char: str) -> bool:
    return char < "\u0250"  # Basic Latin up to Latin Extended-B: English and most of Europe


def detect_language(
    text: str,
    fallback: Callable[[str], list[tuple[str, float]]] | None = None,
    *,
    min_confidence: float = 0.5,
) -> LanguageGuess:
    """Guess the language of ``text``.

    Args:
        text: The comment.
        fallback: A detector returning ``[(code, confidence), ...]`` best first (for example
            lingua's confidence values, adapted), used when the quick English check is unsure.
            Without one, unsure texts come back as ``und`` (undetermined).
        min_confidence: A detector's non-English guess below this is ``und``, not foreign.

    Returns:
        ``en`` from the quick check, ``und`` when there is too little to tell, or the
        detector's guess.
    """
    cleaned = _STRIP.sub(" ", text.replace("\u2019", "'"))
    words = _WORD.findall(cleaned.lower())
    if not words:
        return LanguageGuess("und", 0.0, "no-words")
    letters = [c for word in words for c in word]
    if sum(map(_is_latin, letters)) >= 0.5 * len(letters):
        hits = sum(word in _ENGLISH for word in words)
        other = sum(word in _OTHER or not word.isascii() for word in words)
        english = hits / len(words)
        short = len(words) < MIN_DETECT_WORDS
        if hits > other and (english >= 0.2 or short):
            return LanguageGuess("en", round(min(1.0, 0.5 + english), 3), "stopwords")
        if short and not other:
            return LanguageGuess("und", 0.0, "too-short")
    if fallback is None:
        return LanguageGuess("und", 0.0, "none")
    guesses = fallback(" ".join(_NOISE.sub(" ", cleaned).split()))
    if not guesses:
        return LanguageGuess("und", 0.0, "detector")
    code, confidence = guesses[0]
    if code != "en" and confidence < min_confidence:
        return LanguageGuess("und", round(float(confidence), 3), "detector-unsure")
    return LanguageGuess(code, round(float(confidence), 3), "detector")
