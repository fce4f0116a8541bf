from datetime import datetime

import pytest
from conftest import REVIEW_FIELDS, SURVEY_FIELDS

from config import SourceConfig
from flows.sources.records import normalise_record, parse_timestamp

REVIEWS = SourceConfig(name="r", channel="review", path="x", format="csv", fields=REVIEW_FIELDS)
SURVEYS = SourceConfig(name="s", channel="survey", path="x", format="csv", fields=SURVEY_FIELDS)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-14T08:31:00Z", datetime(2026, 9, 14, 8, 31)),
        ("2026-09-14T10:31:00+02:00", datetime(2026, 9, 14, 8, 31)),
        ("2026-09-14", datetime(2026, 9, 14)),
        ("09/14/2026", datetime(2026, 9, 14)),
        ("14.09.2026", datetime(2026, 9, 14)),
        ("Sep 14, 2026", datetime(2026, 9, 14)),
        (1789374660, datetime(2026, 9, 14, 8, 31)),
        (1789374660000, datetime(2026, 9, 14, 8, 31)),
        ("last tuesday", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_timestamp(value, expected):
    assert parse_timestamp(value) == expected


def test_day_first_sources_read_ambiguous_dates_day_first():
    assert parse_timestamp("03/04/2026", day_first=True) == datetime(2026, 4, 3)
    assert parse_timestamp("03/04/2026") == datetime(2026, 3, 4)


def review(**overrides):
    record = {
        "id": "R1",
        "author": "c1",
        "rating": "2",
        "title": "Slow",
        "body": "Refund took weeks",
        "date": "2026-09-01",
        "product": "Hub",
    }
    record.update(overrides)
    return record


def test_a_good_review_is_normalised():
    row, problems = normalise_record(review(), REVIEWS, max_text_chars=100)
    assert problems == []
    assert row.text == "Slow.\n\nRefund took weeks"
    assert (row.external_id, row.customer_id, row.rating, row.product) == ("R1", "c1", 2, "Hub")


def test_the_content_hash_changes_with_the_text_only_when_content_changes():
    first, _ = normalise_record(review(), REVIEWS, max_text_chars=100)
    same, _ = normalise_record(review(), REVIEWS, max_text_chars=100)
    edited, _ = normalise_record(review(body="Refund took months"), REVIEWS, max_text_chars=100)
    assert first.content_hash == same.content_hash != edited.content_hash


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"id": ""}, "missing_id"),
        ({"date": "last tuesday"}, "bad_date"),
        ({"date": ""}, "missing_date"),
        ({"title": "", "body": "  "}, "missing_text"),
        ({"title": "", "body": "<p> </p>"}, "empty_text"),
    ],
)
def test_unusable_records_are_quarantined_with_a_reason(overrides, code):
    row, problems = normalise_record(review(**overrides), REVIEWS, max_text_chars=100)
    assert row is None
    assert code in [p.code for p in problems if p.fatal]


def test_repairs_keep_the_row_and_say_what_was_done():
    row, problems = normalise_record(
        review(title="", body="<b>Broken</b> caf\ufffd " + "x" * 200, rating="9"),
        REVIEWS,
        max_text_chars=50,
    )
    assert row is not None and len(row.text) <= 50 and row.rating is None
    assert set(row.flags) == {"html_stripped", "invalid_utf8", "truncated", "rating_out_of_range"}
    assert all(not p.fatal for p in problems)


def test_survey_scores_are_checked_against_their_kind():
    ok, _ = normalise_record(
        {
            "response_id": "S1",
            "respondent": "c",
            "survey": "nps",
            "score": "9",
            "verbatim": "ok",
            "submitted_at": "2026-09-01",
        },
        SURVEYS,
        max_text_chars=100,
    )
    bad, problems = normalise_record(
        {
            "response_id": "S2",
            "respondent": "c",
            "survey": "csat",
            "score": "9",
            "verbatim": "ok",
            "submitted_at": "2026-09-01",
        },
        SURVEYS,
        max_text_chars=100,
    )
    assert (ok.score, ok.score_kind) == (9, "nps")
    assert (bad.score, bad.score_kind) == (None, "csat")
    assert [p.code for p in problems] == ["score_out_of_range"]


def test_ticket_text_joins_subject_description_and_customer_replies_only():
    tickets = SourceConfig(
        name="t",
        channel="ticket",
        path="x",
        format="jsonl",
        fields={
            "external_id": "id",
            "created_at": "created_at",
            "text": ["subject", "description"],
            "replies": {"field": "comments"},
        },
    )
    record = {
        "id": 7,
        "created_at": "2026-09-01T10:00:00Z",
        "subject": "Refund",
        "description": "Where is my refund?",
        "comments": [
            {"author_role": "agent", "body": "We are looking into it."},
            {"author_role": "end-user", "body": "Still nothing after 3 weeks."},
        ],
    }
    row, _ = normalise_record(record, tickets, max_text_chars=500)
    assert row.external_id == "7"
    assert row.text == "Refund.\n\nWhere is my refund?\n\nStill nothing after 3 weeks."
    assert "looking into it" not in row.text
