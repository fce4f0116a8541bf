"""Word lists of the text stages: greetings and thanks, and the labeller's word classes.

Greeting and thanks words are listed once here. Each stage adds what only it needs:
:mod:`nlp.normalize_rules` deletes greetings and thanks (elongated ones too, "hiii"),
:mod:`nlp.language` counts them as English, and the labeller never puts them in a label
(:data:`CHAT`).
"""

from __future__ import annotations

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

GREETINGS = frozenset({"hi", "hello", "hey"})
"""Greeting words every text stage knows."""
THANKS = frozenset({"thanks", "thank", "thx", "ty"})
"""Thanks words every text stage knows."""

# Words that may not start or end a phrase. sklearn's list holds a few words customers use as
# content ("bill", "call", "system"); those stay allowed.
_CONTRACTIONS = {"i'm", "i've", "i'd", "i'll", "don't", "doesn't", "didn't", "won't", "can't"}
_CONTRACTIONS |= {"isn't", "wasn't", "aren't", "weren't", "haven't", "hadn't", "wouldn't"}
_CONTRACTIONS |= {"shouldn't", "couldn't", "it's", "that's", "there's", "you're", "they're"}
_CONTRACTIONS |= {"we've", "you've", "let's", "he's", "she's", "we're", "hasn't"}
STOP = (
    ENGLISH_STOP_WORDS
    | _CONTRACTIONS
    | {c.replace("'", "") for c in _CONTRACTIONS}
    | {"just", "really", "u", "ur", "ok", "im", "ive", "actually", "also", "still", "got"}
) - {"bill", "call", "system", "amount", "detail", "interest", "empty", "full", "front", "name"}
"""Stopwords of the labeller: a phrase neither starts nor ends on one."""
NEGATIONS = frozenset(
    {"not", "no", "never", "cannot", "without", "nothing", "nobody", "none", "still"}
    | {c for c in _CONTRACTIONS if c.endswith("n't")}
    | {c.replace("'", "") for c in _CONTRACTIONS if c.endswith("n't")}
)
"""Negations: they may start a phrase ("not received", "can't log in") and mark a problem."""
DENIALS = (NEGATIONS - {"still"}) | {"zero"}
"""Words that deny what follows ("no refund", "not working", "zero stars"): the words after one
are negated. "still" marks a problem but turns nothing into its opposite ("still works")."""
CHAT = frozenset(
    GREETINGS
    | THANKS
    | {"heya", "hiya", "yo", "dear", "morning", "evening", "afternoon"}
    | {"thankyou", "thanx", "thnx", "tysm", "cheers", "regards"}
    | {"appreciate", "appreciated", "grateful", "please", "pls", "plz", "sorry", "welcome"}
    | {"yes", "yeah", "yep", "yup", "ya", "yea", "nope", "nah", "okay", "okey", "sure"}
    | {"alright", "lol", "lmao", "haha", "hahaha", "omg", "wow", "cool", "great", "awesome"}
    | {"amazing", "nice", "perfect", "brilliant", "fantastic", "love", "lovely", "guys"}
    | {"folks", "bye", "anyways", "anyway", "btw", "hope", "hopefully", "xx", "xoxo"}
    | {"cheer", "yay", "ha", "oh", "uh", "ah", "hmm", "aww", "babe", "bae", "luck", "pleasure"}
    | {"thanku", "tyvm", "congrat", "congrats", "congratulations", "woo", "yess", "fam"}
)
"""Greetings, thanks, courtesy, assent and chit-chat: never part of a label; a phrase breaks
there."""
GENERIC = frozenset(
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
    | {"update", "updates"}  # the cause told, not the problem: "last update" says neither
    | {"feel", "feels", "felt", "seem", "seems", "seemed"}  # hedges: "feels like support"
)
"""Words too general to name a problem on their own, or a concrete object: a label needs a
word beside them ("payment issue"), and they never make a sentence concrete."""
PROFANITY = frozenset(
    {"fuck", "fucks", "fucked", "fucking", "fuckin", "fucker", "fuckers", "motherfucker"}
    | {"shit", "shits", "shitty", "bullshit", "bitch", "bitches", "bitching", "asshole"}
    | {"assholes", "bastard", "bastards", "cunt", "twat", "dick", "dicks", "wtf", "damn"}
    | {"dammit", "goddamn", "crap", "crappy", "piss", "pissed"}
)
"""Swearing: it says how the customer feels, never what is wrong, and a product owner reads
the labels. No label holds one, and none is a specific word."""
ORGANISATION_WORDS = frozenset(
    {"bank", "inc", "llc", "ltd", "plc", "corp", "corporation", "company", "co", "group"}
    | {"holdings", "financial", "airlines", "airline", "airways"}
)
"""Words that make a name an organisation's ("Citi Bank", "Acme Inc"): a label of a name and
one of these still names no problem."""
DEGREE = frozenset({"bit", "tad"})
"""Degree words ("a bit bigger", "a tad slow"): they modify what follows, so a phrase read off
the sentence's words neither starts nor ends on one ("cam is a bit" of "the cam is a bit bigger
than I expected"); a noun chunk keeps its own ("64 bit version")."""
HOLLOW_EDGES = frozenset({"like", "does", "did"})
"""Words, not stopwords, that a phrase read off the sentence neither starts nor ends on: "like"
is a preposition or a verb of liking, so a phrase on its edge is cut short or praise ("tasted
like", "like the dress"), and "does" and "did" are auxiliaries sklearn's stopwords lack ("does
on the model" of "it doesn't look like it does on the model")."""
END_PARTICLES = frozenset({"out", "up", "down", "off", "back", "in", "on"})
"""Particles that may end a phrase after a verb ("logs me out", "can't log in"), never start
one."""
OBJECT_PRONOUNS = frozenset({"me", "us", "him", "her", "them", "it"})
"""Pronouns that may stand between a verb and its particle ("logs me out", "cut us off")."""
OBJECT_STARTS = OBJECT_PRONOUNS | frozenset(
    {"my", "our", "your", "his", "their", "its", "the", "a", "an"}
    | {"this", "that", "these", "those", "any", "some"}
)
"""Stopwords that start the object of a preposition: a particle before one is a preposition
whose object was cut ("short on" of "short on me", "available in" of "available in my
country"). A content word after a particle is its object too ("charged me in euros")."""
CLAUSE_GOES_ON = frozenset(
    {"today", "tonight", "yesterday", "anymore", "overnight", "online", "everywhere"}
)
"""Content words after a particle that do not make it a preposition, as an adverb in "-ly"
("logs me out constantly") does not: when or where it happens ("can't log in today", "sold
out online")."""
NAME_ROLE = (
    r"agent|rep|representative|advisor|adviser|technician|engineer|courier|driver|manager"
    r"|contact|i(?:\s+a|['’])m(?=\s+(?-i:[A-Z][a-z]+[ \t]+[A-Z]))"
)
"""Roles a person's name may follow ("agent Sarah"), "contact", and a self-introduction without
"my name is" before two capitalised words ("I am Jane Smith"; not "I'm Frank, this is
terrible"), as a regex alternation: the redactor's cue (:mod:`nlp.pii_engine`: a capitalised
known first name on the same line, then known surnames; "contact chase" or "contact page" in
lower case is no name) and its cheap pre-check (:mod:`nlp.redact`)."""
NAME_TITLE = r"(?:dr|mr|mrs|ms|mx|miss|prof)\.?"
"""Titles that may stand between a name's cue and the name ("my name is Dr. Sarah Jones")."""
_SIGNED = (
    r"\n[ \t]*(?:[-\u2013\u2014~]+[ \t]*)?(?P<name>[A-Z][a-z'-]+(?:[ \t]+[A-Z][\w'-]*\.?){0,2})"
    r"[ \t]*"
)
SIGN_OFF_LINE = _SIGNED + r"[.!]?\s*\Z"
r"""A message's last line holding only capitalised words ("...\n\nFatima", "\n- Anna K."): the
redactor's signature (:data:`nlp.pii_support.SIGN_OFF`)."""
SIGNATURE_LINE = _SIGNED + r"[.,]?(?=[ \t]*\n)"
r"""A line holding only capitalised words above more text, after a blank line or not
("wifi.\n\nSophie.\n\nStill broken!", "Thanks\nJohn\nStill no refund"): a signature too
(:data:`nlp.pii_support.SIGNATURE`)."""
SIGNED_LINE = _SIGNED + r"(?:[.!]?\s*\Z|[.,]?[ \t]*\n)"
""":data:`SIGN_OFF_LINE` or :data:`SIGNATURE_LINE`, for ``re``: the redactor's cheap pre-check
(:mod:`nlp.redact`)."""
NOT_NAMES = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "january february march april may june july august september october november december "
        "monday tuesday wednesday thursday friday saturday sunday today tomorrow tonight again "
        "back center centre customer service support team agent manager billing sales help "
        # a sentence after a heading ("Incorrect Name : Despite my previous dispute"): words
        # that start one and are no stop words
        "despite concerning according following including excluding pending plus versus "
        "instead nonetheless regardless unfortunately additionally furthermore recently "
        "currently previously initially finally basically apparently obviously incorrect "
        "wrong correct missing unknown"
    ).split()
)
"""Words that are no person's name after the redactor's name cues, though the Census may list
them (:mod:`nlp.pii_engine`)."""
NOT_LOGINS = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "invalid valid fine ok okay slow stuck weird strange gone taken blank empty broken "
        "different same public private visible hidden random new old right good bad great "
        "available unavailable facebook google apple email mail gmail spotify case required "
        "needed shown displayed changed locked secure insecure safe unsafe laggy sluggish flaky "
        "buggy glitchy garbage trash rubbish junk kaput dead down terrible awful horrible "
        "useless crap messed bugged borked"
    ).split()
)
"""Words that say what a login is ("my username is wrong"), not which: no login after its field
(:mod:`nlp.pii_engine`)."""
_LOGIN_FIELD = (
    r"\b(?:(?P<field>(?:user|account|screen|display)\s*name|user\s*id|log-?in(?:\s+(?:name|id))?)"
    r"(?:\s+(?:is|was)\s+|\s*[:=]\s*|\s+(?=[\w.+-]*[\d_]))"  # bare: "Username jdoe_2111"
    r"|(?:my|his|her|their|your|our)\s+account\s+(?:is|was)\s+"
)
_LOGGING_IN = r"\b(?:log(?:ged)?[\s-]*in|login|sign(?:ed)?[\s-]*in|username)\b[^.!?\n]{0,60}"
LOGIN_CUE = rf"{_LOGIN_FIELD}|(?<={_LOGGING_IN})\bit['’]?s\s+)"
"""What a login follows ("username:", "User name is", "her account is", "it's" after "log in"),
as a regex (of the ``regex`` module: a lookbehind of any length) to use case-blind: the
redactor's cue (:mod:`nlp.pii_engine`)."""
LOGIN_CUE_SEARCH = rf"{_LOGIN_FIELD}|{_LOGGING_IN}\bit['’]?s\s+)"
""":data:`LOGIN_CUE` for ``re``, to search with: the redactor's pre-check (:mod:`nlp.redact`)."""
NAME_END = r"(?![\w@]|\.[\p{Ll}\d_])"
"""What follows a name's last letter, as a regex (of the ``regex`` module): no letter, digit,
"@", nor a dot then a lower-case letter, digit or "_" (a login's: "Kim.vandort77"); a capital
after a dot starts a sentence ("my name is Sarah.I need help") (:mod:`nlp.pii_engine`)."""
NOT_IN_A_STREET_NAME = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "on the to in at of for from down up off by with into onto over along across a an my "
        "your our his her their this that and or is was tb gb mb kb usb ssd hdd"
    ).split()
)
"""Words no street's name holds between a house number and "road", "drive" or "st", in any
case: a preposition, article or pronoun ("6h on the road"), a storage unit ("my 2 TB drive")
(:mod:`nlp.pii_engine`)."""
UNITS_BEFORE_A_ROAD = frozenset(
    (  # noqa: SIM905 - a word list reads best as words
        "hr hrs hour hours min mins minute minutes secs seconds day days night nights week weeks "
        "month months year years mi mile miles km kms kilometer kilometers kilometre kilometres "
        "meter meters metre metres ft feet foot yard yards block blocks inch inches lane lanes "
        "storey story stories floor floors star stars bedroom bedrooms bed beds room rooms "
        "people person persons guest guests bus buses stop stops time times hard external "
        "internal flash disk disc"
    ).split()
)
"""Units, counts and a device's words written in lower case between a number and "drive",
"road" or "st": "a 4 hour drive", "2 blocks away great street", "5 star stay westin st", "my
2 TB external hard drive" say how far, how long or how big, not where. Capitalised they may
name the street ("123 Mile End Road", "5 Star Lane", "221 Park Room St") (:mod:`nlp.pii_engine`)."""
NOT_A_STREET_WORD = (
    rf"(?!(?:{'|'.join(sorted(NOT_IN_A_STREET_NAME))})\b"
    rf"|(?-i:(?:{'|'.join(sorted(UNITS_BEFORE_A_ROAD))})\b))"
)
"""A regex lookahead refusing a word of :data:`NOT_IN_A_STREET_NAME` (any case) or of
:data:`UNITS_BEFORE_A_ROAD` (lower case) as a street's name, for a pattern matched case-blind
(:mod:`nlp.pii_engine`)."""
