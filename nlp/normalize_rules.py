"""The rules of :func:`nlp.normalize.normalise`: each finds the spans of a text it deletes.

Rules (each can be turned off per source; see ``config/settings.py``):

``quoted_replies``
    The quoted thread of an e-mail or ticket reply is cut from its header to the end: a line
    ``On <date>, <someone> wrote:``, ``-----Original Message-----``, ``---------- Forwarded
    message ----------``, a ``From: ...`` line followed by ``Sent:``/``Date:``, ``Please type
    your reply above this line``. Lines starting with ``>`` go one by one, so inline answers
    between them stay, and when an ``On ... wrote:`` header sits over ``>`` lines only the
    header and those lines go (a later reply joined into the same ticket text stays).
``boilerplate``
    Lines and sentences that recur in a large share of one source's comments (a template's
    text, a form's prompts): see :func:`find_boilerplate` and its thresholds. A template
    surrounds what the customer writes, so a line that is often all a comment says ("Too
    expensive for what you get." as a whole survey answer, one campaign tweet copied by many)
    is the customers' own words and stays, and the rule never empties a comment.
``urls``
    ``http(s)://...``, ``www....`` and bare short links (``spoti.fi/x``).
``handles``
    Every ``@handle`` goes, wherever it is: a leading run (``@SpotifyCares @jo hi``), a trailing
    one, and one inside a sentence ("I messaged @SpotifyCares twice" becomes "I messaged
    twice"). A neutral stand-in word ("support") was considered and rejected: it would become
    the most frequent word of a whole channel and pull its sentences together again. An e-mail
    address is not a handle.
``emoji``
    Emoji (the ``emoji`` package's list, skin tones, flags and joined sequences included) and
    the common text emoticons ``:) :( :/ ;) :D <3``.
``hashtags``
    ``#fail`` keeps its word: ``fail``. A trailing run of hashtags (tags after the last
    sentence, ``... #spotify #fail``) goes entirely, unless the text is nothing but tags.
    ``#1`` and ``order #12345`` are not hashtags.
``greetings``
    An opening greeting ("Hi team,", "Hello @x,", "Dear Sir/Madam,", "Good morning!"); a
    sentence that is only thanks ("Thanks in advance.", "Thank you so much for your help!",
    "Cheers"); a sign-off at the end ("Kind regards" and a name under it, "Cheers, John", "- Sam") and
    mail-client footers ("Sent from my iPhone", "Get Outlook for Android"). "Thanks for
    nothing" is not thanks.

Pure functions, no I/O; each ``find_*`` returns ``(start, end)`` spans of the text it is given.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence

import emoji

from nlp.wordlists import GREETINGS, THANKS

# Boilerplate: a line or sentence is a source's boilerplate when it recurs in at least this
# share of the source's sampled comments ...
BOILERPLATE_MIN_SHARE = 0.2
# ... and in at least this many of them (with fewer comments, nothing is boilerplate: a
# complaint that five of twelve customers word the same way is not a template) ...
BOILERPLATE_MIN_COMMENTS = 25
# ... and it has at least this many characters once case, digits and spaces are folded
# ("ok." or "Help!" recurring is customers talking, not a template).
BOILERPLATE_MIN_CHARS = 10
# ... and it is not all its comment says in at least this share of the comments it recurs in:
# a template surrounds customers' words, so a line that is often the whole comment (thirty
# survey answers "Too expensive for what you get.") is what customers wrote.
BOILERPLATE_MAX_ALONE_SHARE = 0.2

# --- quoted replies ---------------------------------------------------------------------------
_QUOTE_HEADER = re.compile(
    r"^[ \t]*(?:"
    r"On\b[^\n]{4,200}?(?:\n[^\n]{0,120}?)?\bwrote:[ \t]*$"
    r"|-{2,}[ \t]*(?:Original Message|Forwarded message)[ \t]*-{2,}"
    r"|_{8,}[ \t]*\n[ \t]*From:"
    r"|From:[^\n]{1,200}\n[ \t]*(?:Sent|Date):"
    r"|#*-*[ \t]*Please (?:type|write) your reply above this line"
    r")",
    re.MULTILINE | re.IGNORECASE,
)
_QUOTED_LINE = re.compile(r"^[ \t]*>[^\n]*(?:\n|$)", re.MULTILINE)


def find_quoted_replies(text: str) -> list[tuple[int, int]]:
    """Spans of the quoted thread of an e-mail or ticket reply (rule ``quoted_replies``)."""
    spans = [m.span() for m in _QUOTED_LINE.finditer(text)]
    for header in _QUOTE_HEADER.finditer(text):
        rest = text[header.end() :].lstrip()
        if not rest.startswith(">"):
            # An Outlook-style thread quotes without ">": it runs to the end of the text.
            spans.append((header.start(), len(text)))
            break
        # A Gmail-style header over ">" lines: the lines go one by one, and what the customer
        # wrote after them (a later reply joined into the same ticket) stays.
        spans.append(header.span())
    return spans


# --- URLs, handles, emoji, hashtags -----------------------------------------------------------
_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,6}/\S*",
    re.IGNORECASE,
)
# Not after a word character: "jo@example.com" is an address, not a handle.
_HANDLE = re.compile(r"(?<![\w@])\.?@\w{1,50}(?:'s)?")
_EMOTICON = re.compile(r"(?<!\S)(?:[:;=][-^']?[()\[\]/\\|DPpO*3]+|<3+|\^_*\^|[xX]D)(?=\s|$|[.,!?])")
_HASHTAG = re.compile(r"(?<![\w&#])#(?=\w*[^\W\d_])\w+")
_TRAILING_TAGS = re.compile(r"(?:\s*#(?=\w*[^\W\d_])\w+)+[\s.!]*$")


def find_urls(text: str) -> list[tuple[int, int]]:
    """Spans of the links in ``text`` (rule ``urls``)."""
    return [m.span() for m in _URL.finditer(text)]


def find_handles(text: str) -> list[tuple[int, int]]:
    """Spans of the @handles in ``text``, not e-mail addresses (rule ``handles``)."""
    return [m.span() for m in _HANDLE.finditer(text)] if "@" in text else []


def find_emoji(text: str) -> list[tuple[int, int]]:
    """Spans of the emoji and text emoticons in ``text`` (rule ``emoji``)."""
    spans = [m.span() for m in _EMOTICON.finditer(text)]
    if not text.isascii():
        spans += [(e["match_start"], e["match_end"]) for e in emoji.emoji_list(text)]
    return spans


def find_hashtags(text: str) -> list[tuple[int, int]]:
    """The "#" of inline hashtags and a whole trailing run of them (rule ``hashtags``)."""
    if "#" not in text:
        return []
    trailing = _TRAILING_TAGS.search(text)
    if trailing and text[: trailing.start()].strip():
        tail = [(trailing.start(), len(text))]
        text = text[: trailing.start()]
    else:
        tail = []
    # Inline tags keep their word: only the "#" goes.
    return [(m.start(), m.start() + 1) for m in _HASHTAG.finditer(text)] + tail


# --- greetings, thanks, sign-offs -------------------------------------------------------------
# The shared greeting words may be drawn out ("hiii", "heyyy").
_GREETING_WORD = (
    rf"(?:{'|'.join(word + '+' for word in sorted(GREETINGS))}|heya|hiya|howdy|hallo|dear|"
    r"greetings|yo|good[ \t]+(?:morning|afternoon|evening|day))"
)
# Who is greeted: a listed word or a capitalised name, not a sentence's subject ("Hi I ...")
# nor a Title Case complaint's verb or negation ("Hi Spotify App Keeps Crashing!"). A word
# in -ing or -ed is a verb after the first ("Hello Nimbus App Stopped Working!"), but may be
# the name itself ("Hello Mohammed,").
_NOT_NAME = (
    r"(?:I|I'm|I've|My|The|Your|This|It|We|Why|What|How|When|So|Is|Can|Are|Was|Were|Has|Have|"
    r"Had|Not|No|Never|Still|Again|Please|Keeps?|Crashes|Fails|Stops|Freezes|Won't|Can't|"
    r"Cannot|Don't|Doesn't|Didn't|Isn't|Wasn't)\b"
)
_LISTED_ADDRESSEE = (
    r"there|team|all|everyone|everybody|guys|folks|friends|support|sir|madam|sir/madam|"
    r"sirs|again|to[ \t]+whom[ \t]+it[ \t]+may[ \t]+concern"
)
_ADDRESSEE = (
    rf"(?:{_LISTED_ADDRESSEE}|(?-i:(?!{_NOT_NAME}|[A-Z]\w{{3,}}(?:ing|ed)\b)[A-Z][\w.'&/-]*))"
)
_FIRST_ADDRESSEE = rf"(?:{_LISTED_ADDRESSEE}|(?-i:(?!{_NOT_NAME})[A-Z][\w.'&/-]*))"
# "Hi team," / "Hello Nimbus support!" / "Good morning," / "Dear Sir/Madam,"
_GREETING = re.compile(
    rf"[ \t]*{_GREETING_WORD}\b(?:[ \t]+{_FIRST_ADDRESSEE}(?:[ \t]+{_ADDRESSEE}){{0,3}})?"
    r"[ \t]*(?:[,!:;\n]|\.(?=\s)|[ \t]-[ \t])\s*"
    # "Hey why is ..." / "Hi there I ...": the greeting word (and a listed addressee) alone.
    rf"|[ \t]*{_GREETING_WORD}(?:[ \t]+(?:there(?![ \t]+(?:is|are|was|were|seems|has|'s)\b)|"
    r"team|all|everyone|guys|folks))?[ \t]+(?=\S)",
    re.IGNORECASE,
)
# "thanks" and "thank" take the phrases below; the other thanks words stand alone ("thx").
_THANKS_ALONE = "|".join(sorted(THANKS - {"thanks", "thank"} | {"thnx", "tnx", "tia", "cheers"}))
_THANKS_CORE = (
    r"(?:thanks?(?:[ \t]+(?:you|u|ya|again|a[ \t]+lot|so[ \t]+much|very[ \t]+much|heaps|"
    r"a[ \t]+million|guys|team|all|everyone))*"
    r"|thank[ \t]*(?:you|u)(?:[ \t]+(?:so|very)[ \t]+much|[ \t]+again)*"
    rf"|{_THANKS_ALONE}|many[ \t]+thanks|much[ \t]+appreciated"
    r"|(?:i[ \t]+)?(?:really[ \t]+)?appreciate[ \t]+(?:it|that|any[ \t]+help|your[ \t]+help|the[ \t]+help))"
)
_THANKS_TAIL = (
    r"(?:[ \t]+(?:in[ \t]+advance"
    r"|for[ \t]+(?:your|any|the|all[ \t]+(?:your|the)|all)[ \t]+(?:quick[ \t]+)?"
    r"(?:help|time|support|assistance|reply|response|patience|understanding)"
    r"|for[ \t]+(?:looking[ \t]+into[ \t]+(?:this|it)|reading|listening|getting[ \t]+back[ \t]+to[ \t]+me"
    r"|your[ \t]+time|helping|the[ \t]+help)))*"
)
# A whole sentence that is nothing but thanks (it may start with "ok," or "and").
_THANKS_SENTENCE = re.compile(
    rf"(?:(?:ok(?:ay)?|oh|and|but|again)[ \t]*,?[ \t]*)?{_THANKS_CORE}{_THANKS_TAIL}[ \t]*[!.,:;)]*",
    re.IGNORECASE,
)
# "Thanks, hope it gets fixed" / "Thank you! Any update?": the thanks before the words.
_THANKS_PREFIX = re.compile(
    rf"{_THANKS_CORE}{_THANKS_TAIL}[ \t]*[,!;:-]+[ \t]*(?=[^\W_])", re.IGNORECASE
)
_SIGNOFF_WORD = (
    r"(?:(?:kind|best|warm|warmest|many|with[ \t]+kind)[ \t]+regards|regards|rgds|"
    r"best(?:[ \t]+wishes)?|sincerely|yours[ \t]+(?:truly|sincerely|faithfully)|"
    rf"all[ \t]+the[ \t]+best|take[ \t]+care|{_THANKS_CORE}{_THANKS_TAIL})"
)
_NAME = r"(?-i:[A-Z][\w.'-]*(?:[ \t]+[A-Z][\w.'-]*){0,2})"
# A word that makes a line a sentence, not a signature's name, title or number: in lower case,
# or capitalised as the line's first word ("Still no refund"), and "I" ("Ok, I'll try that");
# not in capitals ("IT Manager", "I.T.") nor capitalised inside a line ("Phone No. 0207...").
_SENTENCE_WORDS = (  # noqa: SIM905 - a word list reads best as words
    "is are was were be been not no never still my me it i i'm you we they has have had does "
    "did do can could will would won't can't cannot don't doesn't didn't isn't wasn't again too "
    "please why how what when"
).split()
_SENTENCE_LINE = (
    rf"(?-i:[ \t]*(?:{'|'.join(w.capitalize() for w in _SENTENCE_WORDS)})\b"
    rf"|[^\n]*(?:\b(?:{'|'.join(_SENTENCE_WORDS)})\b|\bI(?:'(?:m|ll|ve|d))?(?![\w.])))"
)
# A sign-off line at the end, and up to four short lines under it (name, title, phone).
# After "Thanks!" or "Regards." only a name; after "Thanks," or "Regards" a name, a title, a
# phone number or address, but no question or exclamation ("Thanks\nwhy is it late?" stays)
# and no line that reads as a sentence ("Thanks\nJohn\nStill no refund" keeps its last line).
_SIGNOFF_BLOCK = re.compile(
    rf"(?:^|\n)[ \t]*{_SIGNOFF_WORD}[ \t]*"
    rf"(?:[.!]+(?:[ \t]*\n[ \t]*{_NAME})?|[,-]?[ \t]*(?:{_NAME})?[ \t]*"
    rf"(?:\n[ \t]*(?!{_SENTENCE_LINE})[^\n!?]{{0,40}}){{0,4}})\s*$",
    re.IGNORECASE,
)
# Anywhere (a ticket's text is its description, then the customer's replies): a line that is
# only a sign-off, and up to two lines under it that are only a name.
_SIGNOFF_LINES = re.compile(
    rf"^[ \t]*{_SIGNOFF_WORD}[ \t]*[,.!-]*[ \t]*(?:{_NAME})?[ \t]*"
    rf"(?:\n[ \t]*{_NAME}[ \t]*){{0,2}}$",
    re.IGNORECASE | re.MULTILINE,
)
# On one line: "... still broken. Cheers, John" / "... Thanks, Sam" / "... - Sam"
_SIGNOFF_INLINE = re.compile(
    rf"(?<=[.!?])[ \t]*(?:(?i:{_SIGNOFF_WORD})[ \t]*,?[ \t]*{_NAME}|[-–—~][ \t]?[A-Z][a-z]{{0,15}})"
    r"[ \t.!]*$"
)
_CLIENT_FOOTER = re.compile(
    r"^[ \t]*(?:sent[ \t]+from[ \t]+(?:my[ \t]+)?[\w' ]{2,40}|get[ \t]+outlook[ \t]+for[ \t]+\w+)"
    r"[ \t]*\.?[ \t]*(?:\n|$)",
    re.MULTILINE | re.IGNORECASE,
)
_SEGMENT = re.compile(r"[^\n]+?(?:[.!?]+(?=\s|$)|(?=\n)|$)")


def find_segments(text: str) -> Iterable[tuple[int, int]]:
    """Spans of the sentences and lines of ``text``, stripped (a rough split: rules only)."""
    for m in _SEGMENT.finditer(text):
        start, end = m.span()
        while start < end and text[start].isspace():
            start += 1
        if start < end:
            yield start, end


_PARAGRAPH = re.compile(r"\n[ \t]*\n")


def find_opening_greetings(text: str) -> list[tuple[int, int]]:
    """Spans of the greetings opening the text or a paragraph (rule ``greetings``)."""
    # At the start of the text or of a paragraph: a ticket's text is its subject, then the
    # e-mail ("Refund\n\nHello team,\n\n...").
    starts = [0, *(m.end() for m in _PARAGRAPH.finditer(text))]
    return [m.span() for p in starts if (m := _GREETING.match(text, p))]


def find_thanks_and_signoffs(text: str) -> list[tuple[int, int]]:
    """Spans of thanks sentences, sign-offs and mail-client footers (rule ``greetings``)."""
    spans = [m.span() for m in _CLIENT_FOOTER.finditer(text)]
    spans += [m.span() for m in _SIGNOFF_LINES.finditer(text) if m.start() > 0]
    signoff = _SIGNOFF_BLOCK.search(text)
    if signoff and signoff.start() > 0:
        spans.append(signoff.span())
    else:
        inline = _SIGNOFF_INLINE.search(text)
        if inline:
            spans.append(inline.span())
    for start, end in find_segments(text):
        if _THANKS_SENTENCE.fullmatch(text, start, end):
            spans.append((start, end))
        elif prefix := _THANKS_PREFIX.match(text, start, end):
            spans.append(prefix.span())
    return spans


# --- boilerplate ------------------------------------------------------------------------------
_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")


def boilerplate_key(segment: str) -> str:
    """The form in which lines and sentences are compared: folded case, digits and spaces."""
    return _SPACES.sub(" ", _DIGITS.sub("0", segment.casefold())).strip(" .!?:;,-")


def _units_of(text: str) -> set[str]:
    keys = {boilerplate_key(line) for line in text.splitlines()}
    keys |= {boilerplate_key(text[s:e]) for s, e in find_segments(text)}
    return {k for k in keys if len(k) >= BOILERPLATE_MIN_CHARS}


def find_boilerplate(
    texts: Sequence[str],
    *,
    min_share: float = BOILERPLATE_MIN_SHARE,
    min_comments: int = BOILERPLATE_MIN_COMMENTS,
) -> frozenset[str]:
    """The boilerplate of one source: lines and sentences that recur across its comments.

    A line or sentence (compared by :func:`boilerplate_key`: case, digits and spacing folded,
    so "Order number: 1234" and "Order number: 98" are one) is boilerplate when it occurs in at
    least ``min_share`` of ``texts`` and in at least ``min_comments`` of them, and has at least
    :data:`BOILERPLATE_MIN_CHARS` characters, unless in :data:`BOILERPLATE_MAX_ALONE_SHARE` of
    the texts it occurs in there is nothing else but such recurring lines (it is then the
    customers' own answer, or a campaign's copied tweet).

    Args:
        texts: A sample of one source's comment texts, as received.
        min_share: Share of the texts a line or sentence must occur in.
        min_comments: Texts it must occur in, at least.

    Returns:
        The keys of the boilerplate lines and sentences, for :func:`normalise`.
    """
    units = [_units_of(text) for text in texts]
    counts: Counter[str] = Counter(key for keys in units for key in keys)
    needed = max(min_comments, min_share * len(texts))
    recurring = frozenset(key for key, n in counts.items() if n >= needed)
    alone: Counter[str] = Counter()
    for text, keys in zip(texts, units, strict=True):
        if (found := keys & recurring) and not _says_more_than(text, recurring):
            alone.update(found)
    return frozenset(k for k in recurring if alone[k] < BOILERPLATE_MAX_ALONE_SHARE * counts[k])


def _says_more_than(text: str, keys: Collection[str]) -> bool:
    """Whether ``text`` has a word run of its own once its lines and sentences in ``keys`` go."""
    kept, position = [], 0
    for start, end in sorted(find_boilerplate_lines(text, keys)):
        kept.append(text[position:start])
        position = max(position, end)
    kept.append(text[position:])
    return len(boilerplate_key(" ".join(kept))) >= BOILERPLATE_MIN_CHARS


def find_boilerplate_lines(text: str, keys: Collection[str]) -> list[tuple[int, int]]:
    """Spans of the lines and sentences whose :func:`boilerplate_key` is in ``keys``."""
    spans = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if boilerplate_key(line) in keys:
            spans.append((offset, offset + len(line)))
        offset += len(line)
    spans += [(s, e) for s, e in find_segments(text) if boilerplate_key(text[s:e]) in keys]
    return spans
