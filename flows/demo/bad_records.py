"""The fixed set of deliberately bad records appended to the base files, with their truth."""

from __future__ import annotations

from collections.abc import Iterator

from flows.demo import phrases as ph
from flows.demo.plan import PartPlan
from flows.demo.render import format_customer_id, format_external_id
from flows.demo.spec import DemoRecord, DemoSpec, TruthRow


def _rant() -> str:
    sentences: list[str] = []
    length = -1
    while length < 6000:
        sentence = ph.RANT_SENTENCES[len(sentences) % len(ph.RANT_SENTENCES)]
        sentences.append(sentence)
        length += len(sentence) + 1
    return " ".join(sentences)


def _bad(
    channel: str,
    external_id: str,
    customer: str,
    created: str,
    reason: str,
    sentiment: str,
    stage: str = "",
    theme: str = "",
) -> TruthRow:
    return TruthRow(
        channel, external_id, customer, created, "", stage, theme, sentiment, "en", "", reason
    )


def render_bad_records(spec: DemoSpec, base: PartPlan, channel: str) -> Iterator[DemoRecord]:
    """The fixed set of deliberately bad records, appended to the base files."""
    n_customers = len(base.customer_values)
    who = [format_customer_id(min(i, n_customers - 1), base.id_width) for i in range(4)]
    number = base.first_ids[channel] + len(base.slots[channel])
    ids = [format_external_id(channel, number + i) for i in range(4)]
    day = spec.end_date.isoformat()
    if channel == "review":
        first = format_external_id(channel, base.first_ids[channel])
        yield from _bad_reviews(ids, who, day, first if base.slots[channel] else ids[0])
    elif channel == "ticket":
        line = f'{{"id": {ids[0]}, "requester_id": "{who[1]}", "subject": "broken'
        truth = _bad(channel, ids[0], who[1], f"{day}T10:03:00Z", "invalid_json", "neutral")
        yield DemoRecord(line, truth)
    else:
        yield from _bad_surveys(ids, who, day)


def _bad_reviews(ids: list[str], who: list[str], day: str, duplicate: str) -> Iterator[DemoRecord]:
    at = [f"{day}T{hm}:00Z" for hm in ("09:12", "11:40", "13:05", "18:22")]
    body = "The plug stopped responding after the last update."
    yield DemoRecord(
        [ids[0], who[0], "2", "Stopped working", body, "last tuesday", "Nimbus Plug"],
        _bad("review", ids[0], who[0], "last tuesday", "bad_date", "complaint", "usage", "broken"),
    )
    yield DemoRecord(
        [ids[1], who[1], "3", "", "", at[0], "Nimbus Hub"],
        _bad("review", ids[1], who[1], at[0], "empty_text", "neutral"),
    )
    html = "<p>The app <b>crashes</b> on start</p>"
    yield DemoRecord(
        [ids[2], who[2], "1", "Crashes", html, at[1], "Nimbus App"],
        _bad("review", ids[2], who[2], at[1], "html", "complaint", "usage", "broken"),
    )
    text = "Second review from me: the Cam is still going strong after a month."
    yield DemoRecord(
        [duplicate, who[0], "5", "Update", text, at[2], "Nimbus Cam"],
        _bad("review", duplicate, who[0], at[2], "duplicate_id", "praise"),
    )
    text = "Great little plug, does what it says."
    yield DemoRecord(
        [ids[3], who[3], "4", "Good value", text, at[3], "Nimbus Plug", "unexpected extra field"],
        _bad("review", ids[3], who[3], at[3], "extra_fields", "praise"),
    )


def _bad_surveys(ids: list[str], who: list[str], day: str) -> Iterator[DemoRecord]:
    at = (f"{day}T08:45:00Z", f"{day}T21:17:00Z")
    question = ph.NPS_QUESTION
    yield DemoRecord(
        [ids[0], who[2], "nps", "7", question, "   \n\t  ", at[0], "Nimbus Hub"],
        _bad("survey", ids[0], who[2], at[0], "blank_text", "neutral"),
    )
    yield DemoRecord(
        [ids[1], who[3], "nps", "0", question, _rant(), at[1], "Nimbus Hub"],
        _bad("survey", ids[1], who[3], at[1], "too_long", "complaint", "usage", "broken"),
    )
