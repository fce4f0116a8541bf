"""Sentences that are no complaint, whatever their vector says.

They say all is well (a problem denied, a fix reported, a process praised as easy), or only
give a way to reach the customer. A complaint-shaped word pulls such a sentence's vector towards the complaints ("I had no
problem with delivery", "support sorted my issue in one call", "returning it was easy"), so
the pain-point classifier (:mod:`nlp.tag`) passes it; these rules keep it out. Each is undone
by a contrast ("but", "until", ...) and by what turns it around (a negation, a question, a
past that no longer holds). Pure: text in, a verdict out.
"""

from __future__ import annotations

import re

_PROBLEM_DENIED = re.compile(
    r"\b(?:no|never(?: had)?(?: a| an| any)?|not (?:a|any|one)|without(?: a| an| any)?|nothing|zero)"
    r"\s+(?:[\w'-]+\s+){0,2}?"
    r"(?:problems?|issues?|trouble|complaints?|hassles?|wrong|difficult(?:y|ies))\b"
    # A fuss only right after the denial: "never made a fuss" and "made no fuss" are the
    # customer's, told before a complaint.
    r"|(?<!made )(?<!make )(?<!making )\b(?:no|without(?: a| any| the)?|zero)[\s-]fuss\b",
    re.IGNORECASE,
)
# Praise told as a denied letdown ("never been disappointed", "you can't go wrong here",
# "not once has a dish disappointed", "you won't be sorry") or in a negated idiom ("the price
# can't be beat", "the photos don't do it justice"): its negative words pull the vector
# towards the complaints, as a denied problem does. Customers' spellings count too
# ("never been disapointed", "dissapointed"). Not "no regrets": a customer who left says it
# too ("cancelled my account, no regrets").
_LETDOWN_DENIED = re.compile(
    r"\b(?:never|not|cannot|(?:won|wouldn|didn|doesn|don|wasn|weren|isn|aren|haven|hasn|hadn|"
    r"can|couldn)['’]t)\s+(?:(?:be|been|ever|once|even|at|all|really|one|bit)\s+){0,3}"
    r"(?:dis+ap+oint(?:s|ed|ing)?|a dis+ap+ointment|let (?:me|us|you) down)\b"
    r"|\bnot once\s+(?:has|have|had|did|does|do|was|were)\s+"
    r"(?:(?!(?:so|very|really|extremely|totally|super|quite|im|i'm|am|me|us|failed|fail|to)\b)"
    r"[\w'’-]+\s+){0,5}?dis+ap+oint(?:s|ed)?\b"
    r"|\b(?:won['’]?t|will not)\s+be\s+sorry\b(?!\s+(?:to|when|if|that|you|for|about|i|we)\b)"
    r"|\b(?:can['’]?t|cannot|can not|won['’]t|couldn['’]t|could not)\s+(?:go wrong|be\s+beat(?:en)?"
    r"|beat\s+(?:(?:the|their|its|that|this|these|those|our)\s+)?(?:prices?|value|deals?))\b"
    r"|\b(?:don['’]?t|doesn['’]?t|didn['’]?t|do not|does not|did not|can['’]?t|cannot)\s+do\s+"
    r"(?:it|them|him|her|this|these)\s+justice\b",
    re.IGNORECASE,
)
# "Worth every penny" is praise whose sentence may name what went wrong before ("they swapped
# my faulty cam, worth every penny"), unless _WORTH_UNDONE turns it.
_WORTH_IT = re.compile(
    r"\bworth every (?:single )?(?:penny|cent|dollar|pound|euro)\b", re.IGNORECASE
)
# What turns "worth every penny" around: a negation a few words before ("isnt even worth
# every penny", "no longer worth every penny"), a past it no longer has ("used to be worth
# every penny") or a question ("is it worth every penny?").
_WORTH_UNDONE = re.compile(
    r"(?:\b(?:not|never|no longer|hardly|barely|used to|cannot)|(?:isn|wasn|aren|weren|ain|"
    r"wouldn|couldn|doesn|didn|don|won|can)['’]?t)\b(?:\W+\w+){0,3}?\W+worth every\b|\?",
    re.IGNORECASE,
)
_CONTRAST = re.compile(
    r"\b(?:but|however|though|although|even if|except|apart from|other than|until|unless|yet|"
    r"still)\b",
    re.IGNORECASE,
)

_FIX_REPORTED = re.compile(
    r"\b(?:fixed|sorted|solved|resolved)(?:\s+out)?\s+(?:[\w'-]+\s+){0,2}?"
    r"(?:it|issue|issues|problem|problems|that|this|everything|things)\b"
    r"|\b(?:it|that|this|issue|problem|everything)(?:'s|\s+is|\s+was|\s+has\s+been|\s+got)"
    r"\s+(?:now\s+|all\s+)?(?:fixed|sorted|solved|resolved|working)\b"
    r"|\b(?:it|that|this|everything)\s+(?:(?:actually|really|just)\s+)?(?:works|worked)\s*"
    r"(?:now|fine|perfectly|great)?\s*(?:[!.,]|$)"
    # A fix the customer had made ("support were able to get the issue resolved", "got it
    # sorted in one call"): "got" and "able to get" say it happened; a bare "get" is a wish.
    r"|\b(?:got|able to (?:get|have))\s+(?:[\w'-]+\s+){0,3}?(?:fixed|sorted|solved|resolved)\b",
    re.IGNORECASE,
)
# What turns a reported fix back into a hassle, besides a contrast (_CONTRAST): a negation, a
# question, the wait it took ("finally fixed it after three weeks"), a fix only asked for
# ("I'd like this resolved this week"), claimed ("they said it was resolved") or imagined ("a
# lining might have solved the problem"), one that holds only now and then ("the rare
# instance that it worked"), or one the customer had to make ("I fixed it myself").
_FIX_UNDONE = re.compile(
    r"\b(?:not|no|never|nothing|nobody|without|finally|after|took|only|again|stopped|broke|"
    r"broken|said|says|told|claim|claimed|claims|supposedly|apparently|supposed|myself|"
    r"ourselves|might|would|could|should|rare|rarely|sometimes|occasionally|like|want|wants|"
    r"wanted|need|needs|hope|hoping|please|wish|expect|expecting|waiting|will|asap|soon|doubt|"
    r"wonder|whether)\b"
    r"|n't\b|'ll\b|'d\b|\?",
    re.IGNORECASE,
)


def reports_a_fix(text: str) -> bool:
    """Whether ``text`` reports the problem fixed, and nothing in it turns that around.

    "Support sorted my issue in one call", "the latest update fixed it, thanks", "it worked!",
    "all good, everything is working now": yes. "They fixed it but it broke again", "finally
    sorted after three weeks", "has it been fixed?", "it worked until the update", "nobody
    fixed my problem", "I'd like this resolved this week", "they said it was resolved", "I
    fixed it myself": no.
    """
    return (
        bool(_FIX_REPORTED.search(text))
        and not _CONTRAST.search(text)
        and not _FIX_UNDONE.search(text)
    )


def denies_a_problem(text: str) -> bool:
    """Whether ``text`` says there was no problem, and nothing in it turns that around.

    "I had no problem with delivery", "never had an issue with billing", "nothing wrong with the
    app", "we have never been disappointed", "you can't go wrong with the basic plan",
    "returned it with no fuss", "worth every penny": yes. "No problem with delivery, but the
    box was crushed", "never had an issue until this week", "no one fixed my problem", "I have
    never been so disappointed", "I can't believe how disappointing it was", "I made no fuss
    the first time", "it used to be worth every penny": no.
    """
    denied = (
        _PROBLEM_DENIED.search(text)
        or _LETDOWN_DENIED.search(text)
        or (_WORTH_IT.search(text) and not _WORTH_UNDONE.search(text))
    )
    return bool(denied) and not _CONTRAST.search(text)


# A process praised as easy or quick ("returning the plug was easy", "closing my account was
# quick", "cancelling took two clicks"): returns, refunds and cancellations are the topics of
# so many complaints that the classifier scores such praise 0.97 (the demo's, session 30). Not
# "easy to break", "quick to blame", "quick with the charges" (what follows turns it). Not
# "fast" either: "my battery drain is really fast" is a complaint.
_EASE = re.compile(
    r"\b(?:was|is|were|are|been|be|it['’]s|felt)\s+(?:(?:so|very|really|super|quite|pretty|"
    r"extremely|incredibly|surprisingly|nice and)\s+)?(?:easy|quick|painless|simple|smooth|"
    r"effortless|seamless|hassle[- ]free|straightforward|a breeze)(?![\w-])"
    r"(?!\s+(?:to|enough|for|at|as|with)\b)"
    r"|\btook (?:only |just )?(?:one|two|three|1|2|3|a few|a couple of) clicks?\b",
    re.IGNORECASE,
)
# What turns it around, a few words before it: a negation ("nothing was easy", "the only thing
# that was easy"), a past that no longer holds ("it used to be so easy"), or a wish, a claim or
# an expectation ("it should be quick", "they said it was easy", "I want cancelling to be
# simple", "I was told it was easy").
_EASE_UNDONE = re.compile(
    r"\b(?:not|never|nothing|neither|nor|only|no longer|hardly|barely|used to|should|would|could|"
    r"ought|supposed|meant|will|might|may|must|hope|hoped|wish|want|wants|wanted|expect|expected|"
    r"thought|said|told|claim|claimed|claims|promised)\b"
    r"|n['’]t\b",
    re.IGNORECASE,
)
_EASE_UNDONE_REACH = 40  # characters before the praise searched for what turns it around
# After it, a second clause that may say what went wrong ("ordering was easy, cancelling is
# impossible", "the call was quick because they hung up").
_CLAUSE_AFTER = re.compile(r"[,;:–—]|\s-\s|\b(?:because|since|as|so|then)\b", re.IGNORECASE)


def praises_the_ease(text: str) -> bool:
    """Whether ``text`` praises a process as easy or quick, and nothing turns that around.

    "Returning the extra plug was easy and the money was back within two days", "closing my
    account was quick", "stopping the subscription took two clicks": yes. "It was easy to
    break", "it used to be so easy", "they said the refund would be quick", "setup was easy
    but the app crashes", "ordering was easy, cancelling is impossible", "was it quick for
    you?": no.
    """
    found = _EASE.search(text)
    return (
        found is not None
        and not _EASE_UNDONE.search(text[: found.start()][-_EASE_UNDONE_REACH:])
        and not _CLAUSE_AFTER.search(text, found.end())
        and "?" not in text
        and not _CONTRAST.search(text)
    )


# An e-mail address, a phone number, a handle, or one of them redacted.
_CONTACT_WAY = r"(?:[\w.+-]+@[\w-]+(?:\.[\w-]+)+|\+?\d[\d ().-]{5,}\d|@\w+|\[(?:email|phone)\])"
_CONTACT_WAYS = rf"{_CONTACT_WAY}(?:\s*(?:,|or|and|/)\s*(?:(?:at|on|via|by)\s+)?{_CONTACT_WAY})*"
_CLOSE = r"(?:[\s,]+(?:please|pls|plz|thanks|thank\s+you|thx|asap))?[\s.!]*$"
# "Contact me at jane@example.com or +44 7700 900008.", "Please call me back on 555-1234",
# "My email is jane@example.com": the whole sentence, so "call me, the app is broken" or
# "email me at x@y.com, I want my refund" stay complaints.
_CONTACT_ONLY = re.compile(
    r"^\W*(?:(?:please|pls|plz|kindly)\s+)?(?:(?:you\s+can|feel\s+free\s+to)\s+)?"
    r"(?:contact|reach|e-?mail|mail|call|text|ring|phone|message|dm|write\s+to|get\s+back\s+to)"
    r"\s+(?:me|us)(?:\s+(?:back|directly|anytime|any\s+time))?"
    rf"(?:\s+(?:at|on|via|by|through|with|using))?\s*:?\s*{_CONTACT_WAYS}{_CLOSE}"
    r"|^\W*my\s+(?:e-?mail|phone|mobile|cell|number|phone\s+number|contact\s+details?)"
    rf"(?:\s+address)?\s*(?:is|:)\s*{_CONTACT_WAYS}{_CLOSE}",
    re.IGNORECASE,
)


def only_gives_contact(text: str) -> bool:
    """Whether ``text`` only says how to reach the customer.

    "Contact me at jane@example.com or +44 7700 900008.", "Please call me back on 555-1234",
    "My email is jane@example.com": yes. "Call me, the app is broken", "email me at x@y.com,
    I want my refund", "why does nobody call me back?": no. Such a sentence closes many
    complaints, and its vector sits among them: it pulled unrelated complaints into one hassle.
    """
    return bool(_CONTACT_ONLY.search(text))


def says_all_is_well(text: str) -> bool:
    """Whether ``text`` is no complaint whatever its vector says.

    It denies a problem, reports it fixed, praises a process as easy, or only gives a way to
    reach the customer.
    """
    return (
        denies_a_problem(text)
        or reports_a_fix(text)
        or praises_the_ease(text)
        or only_gives_contact(text)
    )
