"""The Presidio engine behind :mod:`nlp.redact`: hasslemap's recognizers and the redactor.

Imported on first need only (see :func:`nlp.redact.default_redactor`): Presidio takes seconds
to import, and most texts never need it.
"""

from __future__ import annotations

from importlib import resources

import regex
import spacy
from presidio_analyzer import (
    AnalyzerEngine,
    EntityRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerRegistry,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts, SpacyNlpEngine
from presidio_analyzer.predefined_recognizers import (
    IbanRecognizer,
    PhoneRecognizer,
    UkPassportRecognizer,
    UsPassportRecognizer,
    UsSsnRecognizer,
)
from presidio_anonymizer import AnonymizerEngine
from presidio_anonymizer.entities import ConflictResolutionStrategy, OperatorConfig
from spacy.lang.en.stop_words import STOP_WORDS
from spacy.language import Language

from nlp import wordlists
from nlp.pii_support import (
    DISPLAY_NAME,
    EMAIL,
    GLUED,
    NAME_WORD,
    PHONE,
    SPELLED_EMAIL,
    DigitCountPhoneRecognizer,
    SpelledEmailRecognizer,
    bare_login,
    join_wrapped_numbers,
    mentions,
    name_key,
    plain_login,
    signed_names,
)
from nlp.wordlists import CHAT, GENERIC, NAME_ROLE, NAME_TITLE, NOT_A_STREET_WORD, NOT_NAMES

PLACEHOLDERS: dict[str, str] = {
    "EMAIL_ADDRESS": "[email]",
    "PHONE_NUMBER": "[phone]",
    "CREDIT_CARD": "[card]",
    "IBAN_CODE": "[iban]",
    "BANK_ACCOUNT": "[account]",
    "US_SSN": "[ssn]",
    "US_PASSPORT": "[passport]",
    "UK_PASSPORT": "[passport]",
    "PASSPORT": "[passport]",
    "STREET_ADDRESS": "[address]",
    "PERSON": "[name]",
    "USERNAME": "[username]",
    "PASSWORD": "[password]",
    "BIRTH_DATE": "[birthdate]",
}
# Presidio's default threshold: its phone recognizer, and a weak pattern by a context word, score it
SCORE_THRESHOLD = 0.4
_CASE_SENSITIVE = {"global_regex_flags": regex.DOTALL | regex.MULTILINE}
_VERBOSE = {"global_regex_flags": regex.VERBOSE}  # Presidio adds IGNORECASE unless told
_PHONE_CONTEXT = ["phone", "call", "ring", "text", "reach", "mobile", "cell", "tel", "number"]
# Where a national number is a phone (libphonenumber); German lengths would take order numbers too
_PHONE_REGIONS = ("US", "GB", "CA", "IE", "AU")


# Digits in a run, or in groups of four (Visa, Mastercard, ...), or 4-6-4/5 (Amex, Diners),
# separated by up to three spaces, dots, slashes, underscores or dashes (hyphen, en dash,
# figure dash, U+2010, U+2011; spaced or not), the same or mixed ("4111 1111-1111 1111"): the
# Luhn check decides.
_CARD_SEP = r"(?:[ ]{1,3}|[./_]|[ ]{0,2}[-\u2010-\u2013][ ]{0,2})"
_CARD = rf"""(?<!\d)(?<!\d{_CARD_SEP})(?:
        \d{{13,19}}
      | \d{{4}}{_CARD_SEP}\d{{4}}{_CARD_SEP}\d{{4}}{_CARD_SEP}\d{{1,7}}
      | \d{{4}}{_CARD_SEP}\d{{6}}{_CARD_SEP}\d{{4,5}}
    )(?!\d)(?!{_CARD_SEP}\d)"""
_SEVEN_DIGITS = r"(?<![\w+#@.-])\d{7}(?![\w.-])"  # 5551234, only with a context word
_STREET_TYPES = (
    "street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|court|ct|terrace|"
    "crescent|highway|hwy|parkway|pkwy"
)
_ADDRESS = (
    rf"(?<![\w#$£€.,-])\d{{1,5}}[a-z]?\s+(?:{NOT_A_STREET_WORD}[a-z][a-z'.-]*\s+){{1,4}}?"
    rf"(?:{_STREET_TYPES})\b\.?"
    r"(?:,?\s*(?:apt|apartment|unit|suite|flat|#)\.?\s*#?\w+)?"
)
# Street types that are everyday words ("all the way", "in place", "close to") name a street
# only capitalised after capitalised words: "42 Wallaby Way", "7 Abbey Road Mews".
_NAMED_ADDRESS = (
    r"(?<![\w#$£€.,-])\d{1,5}[a-z]?\s+(?:[A-Z][a-z'-]+\s+){1,3}"
    r"(?:Way|Place|Close|Row|Square|Gardens|Grove|Mews|Hill|Walk|Circle|Plaza)\b"
)
_PASSPORT = (
    r"(?<=\bpassport(?:\s+(?:no|num|number|nr|id|#))?\.?\s*(?:is\s+|[:#]\s*)?)"
    r"(?=[a-z]{0,2}\d)[a-z0-9]{6,10}\b"
)
_PASSWORD_MARK = r"\b(?:password|passwd|pwd|pw|passcode|pin)\s*"
_PASSWORD = (
    rf"(?<={_PASSWORD_MARK}[:=]\s*)[^\s,;]+"
    rf"|(?<={_PASSWORD_MARK}(?:is|was)\s+)(?=[^\s,;]*(?:\d|[^\w\s,;.!?]))(?![\d/.-]+\b)[^\s,;]+"
    r"|(?<=\b(?:pin|passcode)\s+(?:is|was)\s+)\d{4,8}\b"
    # a form's "password Summer2131!": a value of letters and digits, six characters or more
    rf"|(?<={_PASSWORD_MARK})(?=[^\s,;]*\d)(?=[^\s,;]*[^\W\d_])(?!(?:is|was)\b)[^\s,;]{{6,}}"
)
# A bank account, routing number or sort code after its name: "account number 12345678",
# "acct # 0123-4567-89", "sort code 12-34-56". Six digits at least, so "account for 3 years"
# or "account since 2019" stay.
# Not a date ("account 2024-01-15") nor a count ("account 1234567 times", "100 000 points"),
# and "routing" only with its "number" (a bare "routing 1234567 calls" is no account).
_COUNTED = (
    r"times|points|calls|miles|minutes|mins|hours|days|weeks|months|years|people|users|items"
    r"|emails|messages|texts|followers|songs|tracks"
)
_BANK_ACCOUNT = (
    r"(?<=\b(?:(?:(?:bank\s+)?account|acct|a/c|sort\s*code)(?:\s+(?:no|num|number|nr|#))?"
    r"|routing\s+(?:no|num|number|nr|#))\.?\s*(?:is\s+|[:#]\s*)?)"
    rf"(?!\d{{4}}-\d{{2}}-\d{{2}})\d(?:[ -]?\d){{5,16}}(?!\d)(?![ -]?(?:{_COUNTED})\b)"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}|\d{{4}}-\d{{2}}-\d{{2}}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"
)
_BIRTH_DATE = (
    r"(?<=\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday)"
    rf"\s*(?:is\s+|was\s+|[:=-]\s*)?){_DATE}"
)


class _LuhnCardRecognizer(PatternRecognizer):
    """Card-length digit runs that pass the Luhn check (so a failing order number stays)."""

    def validate_result(self, pattern_text: str) -> bool:
        digits = [int(c) for c in pattern_text if c.isdigit()]
        if not 13 <= len(digits) <= 19:
            return False
        total = 0
        for position, value in enumerate(reversed(digits)):
            if position % 2:
                value = value * 2 - 9 if value > 4 else value * 2
            total += value
        return total % 10 == 0


class _NoHandlePhoneRecognizer(PhoneRecognizer):
    """Presidio's phone numbers, less those in a handle ("@130780").

    The redactor keeps handles, and anonymised data sets number them.
    """

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Presidio's phone numbers in ``text`` that no "@" starts."""
        found = super().analyze(text, entities, nlp_artifacts)
        return [r for r in found if not _HANDLE_BEFORE.search(text, 0, r.start)]


_HANDLE_BEFORE = regex.compile(r"@[\w-]*\Z")


# Cues a name follows. After a strong cue any word that is not a stop word is a name; after
# a weak one ("call support") the first word must be a known first name and no courtesy word
# ("Thanks, hope it ...": nlp.wordlists.CHAT), or start a
# signature line ("Regards,\nPriya"); after a role ("agent Sarah", "the driver Mark") a
# capitalised known first name on the same line. A title ("Dr.", "Mrs") may come between a cue
# and the name ("my name is Dr. Sarah Jones"). Greetings and titles alone are no cue: "Hey
# Alexa", "Hi Hope you are well", "Dr Pepper", "Mr. Coffee" name products as often as people.
# Further words must be known last names ("Regards, Sophie Thanks for ..." keeps its "Thanks"),
# but after a self-introduction any capitalised word that is no common one ("my name is Jane
# Okonkwo-Bamidele"). "Name:" introduces at a line's start or after a person's word, not in
# "Product name:"; "this is" only before capitalised words and "speaking".
_CAPITALISED = r"(?-i:\p{Lu})[^\W\d_]*(?:['-][^\W\d_]+)*"
_INTRO_CUE = (
    r"my\s+name\s+is|my\s+name's|i\s+am\s+called"
    r"|(?<=(?:^|\n)[ \t]*|\b(?:my|full|first|last|customer|contact|caller)[ \t]+)name\s*:"
    rf"|this\s+is(?=\s+(?:{NAME_TITLE}\s+)?"
    rf"(?P<spoken>{_CAPITALISED}(?:[ \t]+{_CAPITALISED}){{0,2}})[ \t]+speaking\b)"
)
_STRONG_CUE = r"name\s*:"
_WEAK_CUE = (
    r"call|ask\s+for|speak\s+(?:to|with)|talk\s+to|talked\s+to|spoke\s+(?:to|with)|ring"
    r"|regards,?|thanks,|cheers,"
)
_NAME_CUE = regex.compile(
    rf"\b(?:(?P<intro>{_INTRO_CUE})|(?P<strong>{_STRONG_CUE})|(?P<weak>{_WEAK_CUE})"
    rf"|(?P<role>{NAME_ROLE}))\s+"
    rf"(?:(?P<title>{NAME_TITLE})\s+)?",
    regex.I,
)
_END = wordlists.NAME_END
# A second name after the first: "my name is Jane Doe, not Deang".
_SECOND_NAME = regex.compile(
    r"\G,?\s+(?:not|nor|or|but\s+not)\s+([A-Z][^\W\d_]*(?:['-][^\W\d_]+)*)" + _END
)
_WORDS = regex.compile(r"[^\W_]+")


class _NameAfterCueRecognizer(EntityRecognizer):
    """A person's name after a cue, or alone on a line (a signature: :func:`signed_names`).

    "my name is Jane Doe", "call jane doe", "ask for Raj"; "The app crashes. Fatima" with
    "Fatima" on a line of its own at the end, or above more text.
    """

    def __init__(self, first_names: frozenset[str], last_names: frozenset[str]) -> None:
        self.first_names = first_names
        self.last_names = last_names
        super().__init__(supported_entities=["PERSON"], name="NameAfterCue")

    def load(self) -> None:
        """Nothing to load: the name lists come with the constructor."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Find the names after each cue in ``text``."""
        found = []
        for cue in _NAME_CUE.finditer(text):
            start = end = cue.end()
            intro = cue.group("intro") is not None
            # A capitalised word alone on the line after "Regards," is a signature.
            strong = (
                intro
                or cue.group("strong") is not None
                or ("\n" in cue.group(0) and text[start : start + 1].isupper())
            )
            # "this is Jane Okonkwo speaking": the words before "speaking", all or none
            spoken = cue.end("spoken") if cue.group("spoken") else None
            titled = cue.group("title") is not None
            role = cue.group("role") is not None
            if role and "\n" in cue.group(0):
                continue  # a role names who is on its own line
            words = 0
            for match in NAME_WORD.finditer(text, pos=cue.end()):
                space, word = match.groups()
                if words and ("\n" in space or len(space) > 2):
                    break
                if (role and not word[0].isupper()) or (spoken and match.start(2) >= spoken):
                    break
                if not self.is_name(word, words, strong=strong, titled=titled, intro=intro):
                    if not words and not role and self.courtesy_name(text, match):
                        end, words = self.courtesy_name(text, match), 1
                    break
                end, words = match.end(), words + 1
                if words == 3:
                    break
            if words and (spoken is None or end == spoken):
                found.append(RecognizerResult("PERSON", start, end, 0.85))
            second = strong and words and _SECOND_NAME.match(text, end)
            if second and self.is_name(second.group(1), 0, strong=True, titled=False):
                found.append(RecognizerResult("PERSON", second.start(1), second.end(1), 0.85))
        for start, end in signed_names(text, self.is_name):  # alone on a line: a signature
            found.append(RecognizerResult("PERSON", start, end, 0.85))
        return found

    def is_name(
        self, word: str, position: int, *, strong=False, titled=False, signed=False, intro=False
    ) -> bool:
        """Whether ``word`` is a name's word at ``position`` (0: the first) after a cue.

        ``signed``: on a signature line, where a courtesy word that is a first name is one.
        ``intro``: after a self-introduction ("my name is"), where a capitalised word that is
        no common one is a surname, though no list knows it.
        """
        lower = name_key(word)  # as the Census lists spell it: "José" "jose", O'Connor "oconnor"
        if lower in STOP_WORDS or lower in NOT_NAMES:
            return False
        if position == 0:
            if strong:
                return True
            # "Thanks, hope it ...", "Cheers, love the ...": a courtesy word, though a first name
            if lower in CHAT and not titled and not signed:
                return False
            return lower in self.first_names or (titled and lower in self.last_names)
        if intro and word[0].isupper() and lower not in CHAT and lower not in GENERIC:
            return True
        return lower in self.last_names

    def courtesy_name(self, text: str, match: regex.Match) -> int:
        """Where a courtesy word that is a first name (``match``, after a weak cue) ends as one.

        Before a capitalised surname or a last initial ("Regards, Hope Jones", "Thanks, Hope
        J."); 0 otherwise ("Thanks, hope it ...", "Thanks, Hope you are well").
        """
        word = match.group(2)
        after = NAME_WORD.match(text, match.end())
        if not word[0].isupper() or word.lower() not in self.first_names or not after:
            return 0
        space, more = after.groups()
        if not space or "\n" in space or len(space) > 2 or not more[0].isupper():
            return 0
        if len(more) == 1:  # an initial ends its line: "Hope J.", not "Hope A lot"
            initial = more != "I" and regex.match(r"\.?[ \t]*(?:\n|\Z)", text[after.end() :])
            return after.end() if initial else 0
        surname = more.lower() not in CHAT and self.is_name(more, 1)
        return after.end() if surname else 0


# A login after its field ("username: tkraus2288", "User name is rosalind1984", "Account name:
# Kim.vandort77") is a [username], the whole value; a person's name there ("my username is Lena
# Marchetti", "I log in with Facebook so it's Ines Garland") a [name]. After "her account is"
# and a login's "it's" only a known first name, or a value with a digit or "_", is one.
_LOGIN_CUE = regex.compile(wordlists.LOGIN_CUE + r"[\"'“‘]?", regex.I)
_LOGIN = regex.compile(r"\G[^\W_]\w*(?:[.+-]\w+)*(?!@)")


class _LoginRecognizer(EntityRecognizer):
    """A login, or a person's name as one, after its cue ("username: tkraus2288")."""

    def __init__(self, names: _NameAfterCueRecognizer) -> None:
        self.names = names
        super().__init__(supported_entities=["USERNAME", "PERSON"], name="Login")

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Find the logins and the names as logins after each cue in ``text``."""
        found = []
        for cue in _LOGIN_CUE.finditer(text):
            value = _LOGIN.match(text, cue.end())
            word, field = value.group() if value else "", cue.group("field")
            # after "her account is" a login starts on a letter; after "it's" only a name does
            login = field or (word[:1].isalpha() and cue.group(0)[:2].lower() != "it")
            if login and (GLUED.match(word) or (field and "." in word and len(word) >= 4)):
                found.append(RecognizerResult("USERNAME", value.start(), value.end(), 0.8))
            elif not word or (field and regex.search(r"\bname\s*[:=]", cue.group(0), regex.I)):
                continue  # nothing, or the name's own cue ("Account name:": _NAME_CUE)
            elif word[0].isupper() and self.names.is_name(word, 0):
                end = value.end()
                for position, match in enumerate(NAME_WORD.finditer(text, pos=end), 1):
                    space, more = match.groups()
                    if "\n" in space or len(space) > 2 or position > 2 or more.islower():
                        break
                    if not self.names.is_name(more, 0, strong=True):
                        break
                    end = match.end()
                found.append(RecognizerResult("PERSON", value.start(), end, 0.8))
            elif bare_login(cue.group(0)):
                continue  # "the login is laggy": only a value with a digit, "_" or "." is one
            elif field and not word.isupper() and plain_login(word, self.names.first_names):
                found.append(RecognizerResult("USERNAME", value.start(), value.end(), 0.8))
        return [r for r in found if r.entity_type in entities]


def _census_names(resource: str) -> frozenset[str]:
    """The names (first column, lower-cased) of one of the ``names`` package's Census lists."""
    text = resources.files("names").joinpath(resource).read_text(encoding="ascii")
    return frozenset(line.split(" ", 1)[0].lower() for line in text.splitlines() if line)


@Language.component("hasslemap_lower_lemmas")
def _lower_lemmas(doc: spacy.tokens.Doc) -> spacy.tokens.Doc:
    """Use each token's lower-cased text as its lemma, for Presidio's context words."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def _patterns(entity: str, name: str, pattern: str, score: float, **kwargs) -> PatternRecognizer:
    cls = kwargs.pop("cls", PatternRecognizer)
    return cls(
        supported_entity=entity,
        name=name,
        patterns=[Pattern(name, pattern, score)],
        **kwargs,
    )


class Redactor:
    """Finds PII with a Presidio analyzer and replaces each span with its placeholder."""

    def __init__(self, analyzer: AnalyzerEngine) -> None:
        self.analyzer = analyzer
        self.anonymizer = AnonymizerEngine()
        self.operators = {
            entity: OperatorConfig("replace", {"new_value": placeholder})
            for entity, placeholder in PLACEHOLDERS.items()
        }

    def redact(self, text: str) -> str:
        """Return ``text`` with each piece of PII replaced by its placeholder."""
        return self.redact_with_words(text)[0]

    def redact_with_words(self, text: str) -> tuple[str, frozenset[str]]:
        """Return ``text`` redacted, and the lower-cased words of the PII it replaced."""
        found = self._analyze(text)
        if (joined := join_wrapped_numbers(text)) != text:
            found = _with_wrapped(found, self._analyze(joined), text, joined)
        if not found:
            return text, frozenset()
        found += mentions(text, found)
        redacted = self.anonymizer.anonymize(
            text,
            found,
            operators=self.operators,
            conflict_resolution=ConflictResolutionStrategy.REMOVE_INTERSECTIONS,
        ).text
        words = {w for r in found for w in _WORDS.findall(text[r.start : r.end].lower())}
        return redacted, frozenset(words)

    def _analyze(self, text: str) -> list[RecognizerResult]:
        return self.analyzer.analyze(
            text, language="en", entities=list(PLACEHOLDERS), score_threshold=SCORE_THRESHOLD
        )

    def name_words(self, text: str) -> frozenset[str]:
        """Return the lower-cased words of the names found in ``text`` (not their cues)."""
        found = self.analyzer.analyze(
            text, language="en", entities=["PERSON"], score_threshold=SCORE_THRESHOLD
        )
        return frozenset(w for r in found for w in _WORDS.findall(text[r.start : r.end].lower()))


def _with_wrapped(
    found: list[RecognizerResult], joined: list[RecognizerResult], text: str, joined_text: str
) -> list[RecognizerResult]:
    r"""``found`` in ``text``, and what ``joined`` finds across a line break that ``found`` lacks.

    A number wrapped onto the next line ("4111 1111 1111\n1111", "07700\n900123") is found
    only with the break read as a space (:func:`join_wrapped_numbers`). But a number whole
    before the break ("Tel: +44 7700 900123\n12 March ...") is found as it is, and the joined
    reading would take the next line's number into it: a match across a break counts only
    where nothing was found before the break.
    """
    wrapped = []
    for result in joined:
        breaks = [i for i in range(result.start, result.end) if text[i] != joined_text[i]]
        if breaks and not any(f.start < breaks[0] and f.end > result.start for f in found):
            wrapped.append(result)
    return found + wrapped


def build_redactor(tokenizer: Language) -> Redactor:
    """Build the redactor: Presidio's analyzer with hasslemap's recognizers.

    Args:
        tokenizer: A spaCy pipeline; only its tokens are used (for context words), so
            ``spacy.blank("en")`` will do. A ``hasslemap_lower_lemmas`` step is added to it.

    Returns:
        The redactor.
    """
    if "hasslemap_lower_lemmas" not in tokenizer.pipe_names:
        tokenizer.add_pipe("hasslemap_lower_lemmas")
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": tokenizer.meta["name"]}])
    engine.nlp = {"en": tokenizer}
    registry = RecognizerRegistry(supported_languages=["en"])
    for recognizer in (
        _patterns("EMAIL_ADDRESS", "email", EMAIL, 1.0),
        _patterns("EMAIL_ADDRESS", "spelled email", SPELLED_EMAIL, 0.8, cls=SpelledEmailRecognizer),
        _patterns("CREDIT_CARD", "card", _CARD, 0.5, cls=_LuhnCardRecognizer, **_VERBOSE),
        _NoHandlePhoneRecognizer(
            context=_PHONE_CONTEXT, supported_regions=_PHONE_REGIONS, leniency=2
        ),
        _patterns("PHONE_NUMBER", "phone", PHONE, 0.6, cls=DigitCountPhoneRecognizer, **_VERBOSE),
        _patterns("PHONE_NUMBER", "7-digit phone", _SEVEN_DIGITS, 0.05, context=_PHONE_CONTEXT),
        # Customers type IBANs in lower case too; the checksum still decides
        IbanRecognizer(regex_flags=regex.DOTALL | regex.MULTILINE | regex.IGNORECASE),
        _patterns("BANK_ACCOUNT", "bank account", _BANK_ACCOUNT, 0.8),
        UsSsnRecognizer(),
        UsPassportRecognizer(),
        UkPassportRecognizer(),
        _patterns("PASSPORT", "passport", _PASSPORT, 0.8),
        _patterns("STREET_ADDRESS", "address", _ADDRESS, 0.6),
        _patterns("STREET_ADDRESS", "named address", _NAMED_ADDRESS, 0.6, **_CASE_SENSITIVE),
        _patterns("PERSON", "display name", DISPLAY_NAME, 0.85, **_CASE_SENSITIVE),
        _patterns("PASSWORD", "password", _PASSWORD, 0.8),
        _patterns("BIRTH_DATE", "birth date", _BIRTH_DATE, 0.8),
        names := _NameAfterCueRecognizer(
            _census_names("dist.female.first") | _census_names("dist.male.first"),
            _census_names("dist.all.last"),
        ),
        _LoginRecognizer(names),
    ):
        registry.add_recognizer(recognizer)
    return Redactor(
        AnalyzerEngine(nlp_engine=engine, registry=registry, supported_languages=["en"])
    )
