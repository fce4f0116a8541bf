"""Render planned comments as the records each channel writes: review rows, tickets, surveys.

Channel noise (brand handles, emoji, mail footers, quoted replies) is drawn from each record's
own random stream, so it leaves every other choice as it would be without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any, NamedTuple

from flows.demo import phrases as ph
from flows.demo.compose import Comment, compose_comment
from flows.demo.plan import DAY, PartPlan, epoch
from flows.demo.spec import KINDS, DemoRecord, TruthRow

_NPS_BY_RATING: dict[int, tuple[int, ...]] = {
    1: (0, 1, 2, 3),
    2: (2, 3, 4, 5),
    3: (5, 6, 7),
    4: (7, 8, 9),
    5: (9, 10),
}
_TURN_WEIGHTS: dict[bool, tuple[int, ...]] = {True: (35, 30, 20, 15), False: (55, 35, 10, 0)}


def _iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_customer_id(index: int, width: int) -> str:
    """The id of the customer at ``index``: ``cust-0001`` for index 0 and width 4."""
    return f"cust-{index + 1:0{width}d}"


def format_external_id(channel: str, number: int) -> str:
    """A record's id in its channel: ``R000001`` (review), ``40001`` (ticket), ``S000001``."""
    if channel == "ticket":
        return str(number)
    return f"{'R' if channel == 'review' else 'S'}{number:06d}"


def _truth(channel: str, external_id: str, customer: str, created: str, c: Comment) -> TruthRow:
    return TruthRow(
        channel,
        external_id,
        customer,
        created,
        c.planted,
        c.stage,
        c.theme,
        c.sentiment,
        c.language,
        c.pain,
        "",
    )


def render_part(rng: Random, part: PartPlan, channel: str) -> Iterator[DemoRecord]:
    """Yield one channel's planned comments of ``part`` as records, in time order.

    Args:
        rng: The channel's random stream for this part.
        part: The plan to render.
        channel: ``review``, ``ticket`` or ``survey``.

    Yields:
        Each record with its ground truth.
    """
    horizon = epoch(part.first_day + timedelta(days=part.days)) - 1
    render = {"review": _review, "ticket": _ticket, "survey": _survey}[channel]
    first = part.first_ids[channel]
    for offset, (ts, customer, kind, language) in enumerate(part.slots[channel]):
        comment = compose_comment(rng, KINDS[kind], language, ts, channel)
        external_id = format_external_id(channel, first + offset)
        customer_id = format_customer_id(customer, part.id_width)
        created = _iso(ts)
        context = _RecordContext(external_id, customer_id, ts, created, horizon)
        record = render(rng, comment, context, part.customer_values[customer])
        yield DemoRecord(record, _truth(channel, external_id, customer_id, created, comment))


class _RecordContext(NamedTuple):
    external_id: str
    customer_id: str
    ts: int
    created: str
    horizon: int


def _join(rng: Random, sentences: list[str]) -> str:
    if len(sentences) >= 3 and rng.random() < 0.2:
        cut = rng.randrange(1, len(sentences))
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    return " ".join(sentences)


def _review_title(rng: Random, c: Comment) -> str:
    r = rng.random()
    if r < 0.2:
        return ""
    if c.language != "en":
        return rng.choice(ph.FOREIGN_LANGUAGES[c.language].titles[c.sentiment])
    if c.planted and r < 0.5:
        title = rng.choice(ph.PLANTED_TITLES[c.planted])
    else:
        title = rng.choice(ph.REVIEW_TITLES[c.sentiment])
    return title.upper() if c.sentiment == "complaint" and rng.random() < 0.12 else title


# Share of English reviews and survey answers written the way people post: aimed at a brand
# handle, with emoji, hashtags or a short sign-off around the words that matter.
_POSTED = {"review": 0.3, "survey": 0.1}


def _noise_rng(ctx: _RecordContext) -> Random:
    """The record's own stream for channel noise (handles, emoji, footers, quoted replies).

    Drawn apart from the channel's stream, so the noise leaves every other choice (phrasing,
    typos, ratings) as it was without it.
    """
    return Random(f"noise:{ctx.external_id}:{ctx.created}")


def _as_posted(rng: Random, text: str, c: Comment, channel: str) -> str:
    """Wrap a comment in what people add when they post: handles, emoji, tags, a sign-off."""
    if c.language != "en" or rng.random() >= _POSTED[channel]:
        return text
    handle = rng.choice(ph.HANDLES)
    r = rng.random()
    if r < 0.35:
        text = f"{handle} {text}"
    elif r < 0.5:
        text = f"{handle} {rng.choice([h for h in ph.HANDLES if h != handle])} {text}"
    elif r < 0.6:
        text = f"{rng.choice(ph.POST_GREETINGS).format(handle=handle)} {text}"
    if rng.random() < 0.5:
        text = f"{text} {rng.choice(ph.POST_EMOJI[c.sentiment])}"
    if rng.random() < 0.25:
        tags = rng.sample(ph.POST_HASHTAGS[c.sentiment], rng.choice((1, 1, 2)))
        text = f"{text} {' '.join(tags)}"
    elif rng.random() < 0.2:
        text = f"{text} {rng.choice(ph.POST_SIGNOFFS).format_map(c.slots)}"
    return text


def _review(rng: Random, c: Comment, ctx: _RecordContext, value: float) -> list[str]:
    title = _review_title(rng, c)
    body = _as_posted(_noise_rng(ctx), _join(rng, c.sentences), c, "review")
    product = ph.PRODUCTS[c.product]
    return [ctx.external_id, ctx.customer_id, str(c.rating), title, body, ctx.created, product]


def _survey(rng: Random, c: Comment, ctx: _RecordContext, value: float) -> list[str]:
    if rng.random() < 0.6:
        survey, score = "nps", rng.choice(_NPS_BY_RATING[c.rating])
        question = ph.NPS_QUESTION
    else:
        survey, score = "csat", c.rating
        topic = ph.CSAT_TOPIC[c.stage] if c.stage else rng.choice(tuple(ph.CSAT_QUESTIONS))
        question = ph.CSAT_QUESTIONS[topic]
    verbatim = _as_posted(_noise_rng(ctx), " ".join(c.sentences), c, "survey")
    product = ph.PRODUCTS[c.product]
    return [
        ctx.external_id,
        ctx.customer_id,
        survey,
        str(score),
        question,
        verbatim,
        ctx.created,
        product,
    ]


def _ticket_subject(rng: Random, c: Comment) -> str:
    if c.language != "en":
        return rng.choice(ph.FOREIGN_LANGUAGES[c.language].titles[c.sentiment])
    if c.planted:
        subject = rng.choice(ph.PLANTED_SUBJECTS[c.planted])
    elif c.sentiment == "complaint":
        subject = rng.choice(ph.STAGE_SUBJECTS[c.stage])
    else:
        subject = rng.choice(ph.PRAISE_SUBJECTS if c.sentiment == "praise" else ph.NEUTRAL_SUBJECTS)
    subject = subject.format_map(c.slots)
    if c.severity == "high" and rng.random() < 0.1:
        return "URGENT: " + subject
    return subject.lower() if rng.random() < 0.08 else subject


def _ticket_description(rng: Random, c: Comment, noise: Random) -> str:
    foreign = ph.FOREIGN_LANGUAGES.get(c.language)
    greetings = foreign.greetings if foreign else ph.GREETINGS
    signoffs = foreign.signoffs if foreign else ph.SIGNOFFS
    greeting = rng.choice(greetings) if rng.random() < 0.75 else ""
    request = ""
    if not foreign and c.sentiment != "praise" and rng.random() < 0.45:
        request = rng.choice(ph.REQUESTS)
    signoff = rng.choice(signoffs).format_map(c.slots) if rng.random() < 0.65 else ""
    if not foreign and noise.random() < 0.15:
        signoff = "\n\n".join(p for p in (signoff, noise.choice(ph.MAIL_FOOTERS)) if p)
    core = " ".join(c.sentences)
    if rng.random() < 0.06:
        html = f"<p>{greeting}</p>" if greeting else ""
        html += f"<p>{core}" + (f" <b>{request}</b>" if request else "") + "</p>"
        return html + (f"<p>{signoff.replace(chr(10), '<br>')}</p>" if signoff else "")
    body = f"{core} {request}" if request else core
    return "\n\n".join(p for p in (greeting, body, signoff) if p)


def _customer_followup(rng: Random, c: Comment) -> str:
    foreign = ph.FOREIGN_LANGUAGES.get(c.language)
    if foreign and c.sentiment == "complaint":
        return rng.choice(foreign.followups)
    if c.planted and rng.random() < 0.5:
        return rng.choice(ph.PLANTED_FOLLOWUPS[c.planted])
    return rng.choice(ph.CUSTOMER_FOLLOWUPS[c.sentiment]).format_map(c.slots)


def _ticket_comments(
    rng: Random, c: Comment, ctx: _RecordContext, noise: Random
) -> tuple[list[dict], str]:
    age = ctx.horizon - ctx.ts
    if age < DAY and rng.random() < 0.5:
        at = min(ctx.ts + rng.randint(20, 120), ctx.horizon)
        auto = {"author_role": "agent", "body": ph.AUTO_REPLY, "created_at": _iso(at)}
        return [auto], "new"
    comments = []
    at = ctx.ts + rng.randint(600, 6 * 3600)
    turns = rng.choices((1, 2, 3, 4), weights=_TURN_WEIGHTS[c.sentiment == "complaint"])[0]
    for turn in range(turns):
        if at > ctx.horizon:
            if comments:
                break
            at = ctx.horizon
        if turn % 2 == 0:
            agent = rng.choice(ph.AGENT_SIGNATURES)
            reply = rng.choice(ph.AGENT_REPLIES[c.sentiment])
            role, body = "agent", f"{reply}\n\n{agent}\nNimbus Support"
        else:
            role, body = "end-user", _customer_followup(rng, c)
            if c.language == "en" and noise.random() < 0.4:
                body += "\n\n" + _quoted(comments[-1]["body"], at - noise.randint(600, 3 * 3600))
        comments.append({"author_role": role, "body": body, "created_at": _iso(at)})
        at += rng.randint(1800, 3 * DAY)
    if comments[-1]["author_role"] == "end-user":
        stale = age > 14 * DAY and rng.random() < 0.6
        return comments, ("closed" if age > 28 * DAY else "solved") if stale else "open"
    if rng.random() < 0.4 and c.sentiment == "complaint":
        return comments, "pending"
    return comments, "closed" if age > 28 * DAY else "solved"


def _quoted(previous: str, ts: int) -> str:
    """The agent's last message as a mail client quotes it under the customer's reply."""
    when = datetime.fromtimestamp(ts, UTC)
    header = f"On {when:%a, %-d %b %Y at %H:%M}, {ph.SUPPORT_ADDRESS} wrote:"
    return "\n".join([header, *(f"> {line}".rstrip() for line in previous.splitlines())])


def _ticket(rng: Random, c: Comment, ctx: _RecordContext, value: float) -> dict[str, Any]:
    subject = _ticket_subject(rng, c)
    noise = _noise_rng(ctx)
    description = _ticket_description(rng, c, noise)
    comments, status = _ticket_comments(rng, c, ctx, noise)
    topic = ph.TICKET_TOPIC_TAGS[c.stage] if c.stage else "feedback"
    if c.sentiment == "neutral":
        topic = "question"
    tags = [rng.choice(ph.TICKET_SOURCES), f"nimbus_{c.product}", topic]
    if c.severity == "high" and rng.random() < 0.3:
        tags.append("urgent")
    if value >= 80:
        tags.append("vip")
    if c.language != "en":
        tags.append(f"lang_{c.language}")
    ticket: dict[str, Any] = {
        "id": int(ctx.external_id),
        "requester_id": ctx.customer_id,
        "subject": subject,
        "description": description,
        "comments": comments,
        "created_at": ctx.created,
        "status": status,
        "tags": tags,
        "product": ph.PRODUCTS[c.product],
    }
    r = rng.random()
    if r >= 0.2:
        ticket["customer_value"] = value
    elif r >= 0.1:
        ticket["customer_value"] = None
    return ticket
