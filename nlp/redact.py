r"""PII redaction for everything published, with Microsoft Presidio.

Presidio's analyzer finds the PII, its anonymizer puts a placeholder in each span:

=====================  ==============  ==========================================================
kind                   placeholder     detector
=====================  ==============  ==========================================================
email address          ``[email]``     pattern, domains in any script ("jürgen@müller-shop.de"),
                                       "@" full-width or URL-encoded ("%40"); also spelled out
                                       ("bob at example dot com", "jane.doe(at)gmail.com",
                                       "jane.doe at gmail.com")
phone number           ``[phone]``     Presidio ``PhoneRecognizer`` (libphonenumber) and patterns:
                                       separated, unseparated (``5551234567``), 7-digit, UK
                                       (``(+44) 7700 900123``, ``0044 ...``, ``07700-900-123``),
                                       French (``06 12 34 56 78``), German and Indian mobiles
payment card           ``[card]``      pattern (spaces, dots, slashes, underscores or dashes, en
                                       dashes too, mixed or not) with the Luhn check
IBAN                   ``[iban]``      Presidio ``IbanRecognizer`` (country format and checksum),
                                       in either case
bank account           ``[account]``   6-17 digits after "account (number)", "acct", "a/c",
                                       "routing" or "sort code"
US social security     ``[ssn]``       Presidio ``UsSsnRecognizer``
passport number        ``[passport]``  Presidio ``UsPassportRecognizer``, ``UkPassportRecognizer``
                                       (both need the word "passport" nearby), and a pattern
street address         ``[address]``   pattern: house number, street name, street type ("Way",
                                       "Place", "Close", ...: capitalised, after capitalised words)
person's name          ``[name]``      a name after a cue ("my name is", "call", "ask for", ...):
                                       capitalised, or in the US Census name lists (after a
                                       self-introduction, "my name is", "I am called", "this is
                                       X speaking", "Name:", capitalised words all); after a
                                       role ("agent", "the driver"), "contact", or "I am"
                                       before two capitalised words: a capitalised Census
                                       first name on the cue's line; alone on a message's
                                       last line (a signature): a capitalised Census first
                                       name, then known last names or initials; alone on a
                                       line above more text: the same, all the line, the
                                       first name no common word ("Hope."); after
                                       "my name is X": "not Y"; a login that is a name;
                                       an e-mail's display name ("From: Jane Doe <...>"),
                                       not a desk's ("Nimbus Support <...>"); accents
                                       folded for the lists ("José")
login                  ``[username]``  the value after "username", "user ID", "login",
                                       "account name" (+ "is" or ":", or a space before
                                       a value with a digit or "_"): a word that says
                                       how a login is ("wrong", "embarrassing") stays;
                                       after "her account is" only letters with digits or
                                       "_". A known first name there, or after "it's"
                                       near "log in", starts a ``[name]``
password or PIN        ``[password]``  the value after "password:", "PW:", "PIN=" (or "is" + a
                                       value with a digit or symbol, or a space + six
                                       characters or more of letters and digits)
birth date             ``[birthdate]`` a date after "born", "DOB", "date of birth", "birthday"
=====================  ==============  ==========================================================

Invisible characters (:func:`nlp.clean.remove_invisible`: soft hyphens, zero-width spaces,
word joiners, bidi controls) are removed first: "4111\xad1111\xad1111\xad1111" is a card
number. A line break between digits reads as a space (:func:`nlp.pii_support.
join_wrapped_numbers`): an e-mail wrapped "4111 1111 1111\n1111" or "07700\n900123".

Dates, times, prices, ratings and order numbers are left alone: no recognizer matches them
without a cue, and a card-length number must pass the Luhn check. So are handles, digits only
or not ("@SpotifyCares", "@130780"): no phone number starts with an "@". Only the cue-less
part of a match is replaced ("PW: [password]", "born on [birthdate]", "call [name]"); a name
or login a cue revealed is replaced at each mention spelled the same ("I spoke to [name] and
[name] never called back").

The analyzer runs on spaCy's English tokenizer alone (no trained model, nothing to
download): the patterns need tokens only for Presidio's context words. It is built once, on
first use, by :func:`default_redactor` (the engine lives in :mod:`nlp.pii_engine`).
"""

from __future__ import annotations

import _imp
import functools
import hashlib
import importlib
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nlp.clean import remove_invisible
from nlp.wordlists import LOGIN_CUE_SEARCH, NAME_ROLE, NAME_TITLE, SIGNED_LINE

if TYPE_CHECKING:
    from nlp.pii_engine import Redactor

# Anything a recognizer can match holds a digit, an "@" (or a bracketed "at", or " at " after a
# dotted name), a spelled "dot", a name cue, a role
# before a capitalised word ("agent Tom"), a password word or a login's cue ("username:"); most
# comments hold none, and skip the analyzer.
_MAYBE_PII = re.compile(
    r"\d|@|\uff20|(?i:[(\[{<]\s*at\s*[)\]}>]|\w[._]\w[\w.+-]{0,64}\s+at\s+\w)"
    r"|(?i:\bdot\b|\b(?:name|call|called|ask|speak|speaking|talk|spoke|talked|ring|regards"
    r"|thanks|cheers|password|passwd|pwd|pw|passcode|pin)\b)"
    rf"|(?i:{LOGIN_CUE_SEARCH})"
    rf"|(?i:\b(?:{NAME_ROLE}))\s+(?:(?i:{NAME_TITLE})\s+)?[A-Z]"
    # capitalised words alone on the last line, or on a line above more text: a signature
    # (nlp.pii_support.SIGN_OFF, SIGNATURE)
    rf"|{SIGNED_LINE}"
)


# Presidio's Hugging Face token pipe, a spaCy factory entry point: spaCy imports it when it
# builds its first pipeline, and it imports `transformers.pipeline` (1.7 s) when it can.
_PRESIDIO_HF_PIPE = "presidio_analyzer.nlp_engine.huggingface_token_pipe"


def import_presidio_without_transformers() -> None:
    """Import Presidio's Hugging Face token pipe with ``transformers`` out of its reach.

    Call before the process's first spaCy pipeline or Presidio import. The pipe is a spaCy
    factory that hasslemap never uses, but spaCy imports every factory entry point, and the
    pipe's module imports ``transformers.pipeline`` if it can: 1.7 s in each fresh process,
    where the nightly run otherwise needs no ``transformers`` at all (the cached trace embeds
    without it). Seen through a ``None`` in ``sys.modules``, ``transformers`` is missing, which
    the module handles by disabling the pipe. Where ``transformers`` is already imported, its
    cost is paid and nothing changes. The global import lock keeps other threads from
    importing meanwhile.
    """
    _imp.acquire_lock()
    try:
        if _PRESIDIO_HF_PIPE in sys.modules or "transformers" in sys.modules:
            return
        sys.modules["transformers"] = None  # type: ignore[assignment]
        try:
            importlib.import_module(_PRESIDIO_HF_PIPE)
        finally:
            del sys.modules["transformers"]
    finally:
        _imp.release_lock()


# What decides what the redactor finds, besides Presidio itself.
_REDACTOR_SOURCES = ("redact.py", "pii_engine.py", "pii_support.py", "wordlists.py", "clean.py")
_NAME_LISTS = ("dist.female.first", "dist.male.first", "dist.all.last")


@functools.cache
def redactor_version() -> str:
    """A hash of what decides what the redactor finds: its code, word lists, name lists, Presidio.

    Stored beside each redaction the warehouse keeps, so that an upgrade that finds more (a new
    recognizer, a wider pattern) redacts every kept text again on the next run.
    """
    from importlib import metadata, resources

    digest = hashlib.blake2b(digest_size=8)
    for name in _REDACTOR_SOURCES:
        digest.update(resources.files("nlp").joinpath(name).read_bytes())
    for name in _NAME_LISTS:
        digest.update(resources.files("names").joinpath(name).read_bytes())
    for package in ("presidio-analyzer", "presidio-anonymizer"):
        digest.update(metadata.version(package).encode())
    return digest.hexdigest()


@functools.cache
def default_redactor() -> Redactor:
    """The process's redactor, built on first use over ``spacy.blank("en")``.

    Presidio is imported here, not at module level: it costs seconds, and a night whose texts
    all fail the cheap pre-check never needs it.
    """
    import_presidio_without_transformers()
    import spacy

    from nlp.pii_engine import build_redactor

    return build_redactor(spacy.blank("en"))


def redact_pii(text: str) -> str:
    """Replace each piece of PII in ``text`` with its placeholder (``[email]``, ``[name]``, ...).

    Args:
        text: Any text.

    Returns:
        The text with each piece of PII replaced by its placeholder, and without the invisible
        characters that could hide one (:func:`nlp.clean.remove_invisible`: a soft hyphen in
        a card number); everything else unchanged.
    """
    return redact_with_words(text)[0]


def redact_with_words(text: str) -> tuple[str, frozenset[str]]:
    """Redact ``text`` like :func:`redact_pii`; also return the words of the PII replaced.

    For text that comes with lemmas or noun chunks made from the raw text (the labeller's
    input): drop those holding a returned word, and no name reaches a label.

    Args:
        text: Any text.

    Returns:
        The redacted text, and the lower-cased words (letters and digits) of each PII span.
    """
    text = remove_invisible(text)  # ingest removes them too, but not from older texts
    if not text or not _MAYBE_PII.search(text):
        return text, frozenset()
    if len(text) > _REMEMBERED_CHARS:
        return default_redactor().redact_with_words(text)
    return _redact_short(text)


REDACTED = "[redacted]"
"""What :func:`redact_in_context` puts in place of a name found in the context alone."""


def redact_in_context(piece: str, context: str) -> tuple[str, frozenset[str]]:
    """Redact ``piece``, a part of ``context``, also of the names only the whole context shows.

    A name is found by its cue, which may sit outside the piece: "Thanks, Sarah Jones for
    nothing" redacts the name, while its sentence "Sarah Jones for nothing" alone (a quote's
    highlighted part, or a unit whose "Thanks," normalisation cut) does not. Every word of a
    name the context shows is replaced in the piece, whole and in any case, by ``[redacted]``;
    so is a second mention of a name the piece's own cue revealed, in another case ("I spoke to
    Sarah and SARAH never called back"; spelled the same, the redaction's own ``[name]``).
    Other kinds (e-mails, phones, cards) need no cue: the piece's own redaction finds them.

    Args:
        piece: The text to publish or read, cut from ``context`` (or a normalised copy of such
            a cut: normalisation only deletes).
        context: The text as the customer wrote it, around ``piece`` ("" for the piece alone).

    Returns:
        The redacted piece, and the lower-cased words of its PII and of the context's names.
    """
    redacted, words = redact_with_words(piece)
    names = name_words(context or piece)
    return _mask_names(redacted, names), words | names


def redact_parts(parts: Sequence[str], context: str) -> list[str]:
    """Each of ``parts`` of ``context`` redacted as by :func:`redact_in_context`.

    The context's names are found once for all the parts (a report quote's text before, in
    and after its sentence). Each part is read after the end of the part before it: a cue the
    sentence split left there ("DOB:", "Password:") still marks what starts the part.
    """
    names = name_words(context)
    return [
        _mask_names(_redact_after(parts[i - 1] if i else "", part), names)
        for i, part in enumerate(parts)
    ]


# What a part's lead holds of the part before it: enough for a cue ("date of birth:").
_LEAD_CHARS = 24


def _redact_after(before: str, part: str) -> str:
    """``part`` redacted, read after the last words of ``before``."""
    lead = before[-_LEAD_CHARS:]
    if len(before) > _LEAD_CHARS and " " in lead:
        lead = lead[lead.index(" ") :]  # from a word's start
    if lead.strip():
        read = redact_pii(lead + part)
        if read.startswith(lead):  # the lead itself unchanged: the part's redaction follows it
            return read[len(lead) :]
    return redact_pii(part)


def _mask_names(text: str, names: frozenset[str]) -> str:
    """``text`` with each of ``names`` replaced, whole and in any case, by ``REDACTED``."""
    if not names:
        return text
    alternatives = "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
    return re.sub(rf"(?<![\w\[])(?:{alternatives})(?![\w\]])", REDACTED, text, flags=re.IGNORECASE)


def name_words(text: str) -> frozenset[str]:
    """The lower-cased words of the names in ``text`` (:func:`redact_pii` replaces them)."""
    text = remove_invisible(text)
    if not text or not _MAYBE_PII.search(text):
        return frozenset()
    if len(text) > _REMEMBERED_CHARS:
        return default_redactor().name_words(text)
    return _name_words_short(text)


# Sentences recur (the labeller redacts every clustered unit each night, and "Thanks, Anna"
# comes back): the analyzer runs once per distinct short text in a process.
_REMEMBERED_CHARS = 500


@functools.lru_cache(maxsize=1 << 15)
def _redact_short(text: str) -> tuple[str, frozenset[str]]:
    return default_redactor().redact_with_words(text)


@functools.lru_cache(maxsize=1 << 15)
def _name_words_short(text: str) -> frozenset[str]:
    return default_redactor().name_words(text)
