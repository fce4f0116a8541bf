from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import REVIEW_FIELDS, SURVEY_FIELDS

from config import FilesSourceConfig
from flows.sources.records import DateRange, normalise_record
from flows.sources.timestamps import date_order_of, parse_timestamp

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)

DATES = DateRange(earliest=datetime(2000, 1, 1), latest=datetime(2026, 11, 30))
REVIEWS = FilesSourceConfig(
    name="r", channel="review", path="x", format="csv", fields=REVIEW_FIELDS
)
SURVEYS = FilesSourceConfig(
    name="s", channel="survey", path="x", format="csv", fields=SURVEY_FIELDS
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-09-14T08:31:00Z", datetime(2026, 9, 14, 8, 31)),
        ("2026-09-14T10:31:00+02:00", datetime(2026, 9, 14, 8, 31)),
        ("2026-09-14", datetime(2026, 9, 14)),
        ("09/14/2026", datetime(2026, 9, 14)),
        ("14.09.2026", datetime(2026, 9, 14)),
        ("Sep 14, 2026", datetime(2026, 9, 14)),
        ("Mon Sep 14 10:31:00 +0200 2026", datetime(2026, 9, 14, 8, 31)),  # Twitter's format
        (1789374660, datetime(2026, 9, 14, 8, 31)),
        (1789374660000, datetime(2026, 9, 14, 8, 31)),
        ("Mon, 14 Sep 2026 10:31:00 GMT", datetime(2026, 9, 14, 10, 31)),  # mail and HTTP
        ("Mon, 14 Sep 2026 10:31:00 +0200", datetime(2026, 9, 14, 8, 31)),
        ("14.09.2026 10:31:05", datetime(2026, 9, 14, 10, 31, 5)),
        ("2026-09-14 10:31:05 UTC", datetime(2026, 9, 14, 10, 31, 5)),  # a database's export
        ("46279", datetime(2026, 9, 14)),  # Excel's serial date, a cell saved without format
        (46279.4375, datetime(2026, 9, 14, 10, 30)),
        ("46279.4375", datetime(2026, 9, 14, 10, 30)),
        ("Mon, the 14th", None),
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


@pytest.mark.parametrize(
    ("value", "day_first", "expected"),
    [
        ("11/03/2026 2:05:11 PM", False, datetime(2026, 11, 3, 14, 5, 11)),  # SurveyMonkey
        ("11/3/26 2:05 PM", False, datetime(2026, 11, 3, 14, 5)),
        ("11/03/2026 12:30 AM", False, datetime(2026, 11, 3, 0, 30)),
        ("03/11/2026 2:05:11 pm", True, datetime(2026, 11, 3, 14, 5, 11)),
        ("Nov 3, 2026 2:05 PM", False, datetime(2026, 11, 3, 14, 5)),
        ("2026-11-03 02:05:11 PM", False, datetime(2026, 11, 3, 14, 5, 11)),
    ],
)
def test_a_twelve_hour_clock_is_read(value, day_first, expected):
    # Survey tools export "2:05:11 PM"; every such record was quarantined as bad_date.
    assert parse_timestamp(value, day_first=day_first) == expected


def test_a_naive_time_is_read_in_the_sources_zone_and_an_explicit_one_keeps_its_own():
    denver = ZoneInfo("America/Denver")
    # 23:55 in Denver on 3 November is 06:55 UTC on the 4th (MST, UTC-7).
    assert parse_timestamp("2026-11-03 23:55:00", zone=denver) == datetime(2026, 11, 4, 6, 55)
    assert parse_timestamp("11/03/2026 11:55 PM", zone=denver) == datetime(2026, 11, 4, 6, 55)
    assert parse_timestamp("2026-07-01 12:00", zone=denver) == datetime(2026, 7, 1, 18)  # MDT
    assert parse_timestamp("2026-11-03T23:55:00Z", zone=denver) == datetime(2026, 11, 3, 23, 55)
    assert parse_timestamp(1789374660, zone=denver) == datetime(2026, 9, 14, 8, 31)  # epoch: UTC
    assert parse_timestamp("1789374660", zone=denver) == datetime(2026, 9, 14, 8, 31)
    assert parse_timestamp("46279", zone=denver) == datetime(2026, 9, 14, 6)  # a local day
    # A record of a source with a timezone lands on the UTC day it was written.
    zoned = REVIEWS.model_copy(update={"timezone": "America/Denver"})
    row, _ = normalise_record(
        review(date="2026-11-03 23:55:00"), zoned, max_text_chars=100, dates=DATES
    )
    assert row.created_at == datetime(2026, 11, 4, 6, 55)


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
    row, problems = normalise_record(review(), REVIEWS, max_text_chars=100, dates=DATES)
    assert problems == []
    assert row.text == "Slow.\n\nRefund took weeks"
    assert (row.external_id, row.customer_id, row.rating, row.product) == ("R1", "c1", 2, "Hub")


def test_the_content_hash_changes_with_the_text_only_when_content_changes():
    first, _ = normalise_record(review(), REVIEWS, max_text_chars=100, dates=DATES)
    same, _ = normalise_record(review(), REVIEWS, max_text_chars=100, dates=DATES)
    edited, _ = normalise_record(
        review(body="Refund took months"), REVIEWS, max_text_chars=100, dates=DATES
    )
    assert first.content_hash == same.content_hash != edited.content_hash


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"id": ""}, "missing_id"),
        ({"date": "last tuesday"}, "bad_date"),
        ({"date": ""}, "missing_date"),
        ({"title": "", "body": "  "}, "missing_text"),
        ({"title": "", "body": "<p> </p>"}, "empty_text"),
        ({"title": "", "body": "\u200b\u2060\ufeff"}, "empty_text"),  # zero-width only
    ],
)
def test_unusable_records_are_quarantined_with_a_reason(overrides, code):
    row, problems = normalise_record(review(**overrides), REVIEWS, max_text_chars=100, dates=DATES)
    assert row is None
    assert code in [p.code for p in problems if p.fatal]


def test_repairs_keep_the_row_and_say_what_was_done():
    row, problems = normalise_record(
        review(title="", body="<b>Broken</b> caf\ufffd " + "x" * 200, rating="9"),
        REVIEWS,
        max_text_chars=50,
        dates=DATES,
    )
    assert row is not None and len(row.text) <= 50 and row.rating is None
    assert set(row.flags) == {"html_stripped", "invalid_utf8", "truncated", "rating_out_of_range"}
    assert all(not p.fatal for p in problems)


def test_survey_scores_are_checked_against_their_kind():
    def answer(response_id: str, kind: str):
        record = {
            "response_id": response_id,
            "respondent": "c",
            "survey": kind,
            "score": "9",
            "verbatim": "ok",
            "submitted_at": "2026-09-01",
        }
        return normalise_record(record, SURVEYS, max_text_chars=100, dates=DATES)

    ok, _ = answer("S1", "nps")
    bad, problems = answer("S2", "csat")
    assert (ok.score, ok.score_kind) == (9, "nps")
    assert (bad.score, bad.score_kind) == (None, "csat")
    assert [p.code for p in problems] == ["score_out_of_range"]


def test_ticket_text_joins_subject_description_and_customer_replies_only():
    tickets = FilesSourceConfig(
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
    row, _ = normalise_record(record, tickets, max_text_chars=500, dates=DATES)
    assert row.external_id == "7"
    assert row.text == "Refund.\n\nWhere is my refund?\n\nStill nothing after 3 weeks."
    assert "looking into it" not in row.text


@pytest.mark.parametrize("value", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:30:00+01:00"])
def test_an_offset_past_the_year_limits_is_no_date_rather_than_a_crash(value):
    assert parse_timestamp(value) is None
    row, problems = normalise_record(review(date=value), REVIEWS, max_text_chars=100, dates=DATES)
    assert row is None
    [fatal] = [p for p in problems if p.fatal]
    assert fatal.code == "date_out_of_range" and "year 9999" in fatal.reason


@pytest.mark.parametrize(
    ("value", "loads"),
    [
        ("9999-12-31", False),
        ("1999-12-31T23:59:59Z", False),
        ("2000-01-01T00:00:00Z", True),
        ("2026-11-30T00:00:00Z", True),
        ("2026-11-30T00:00:01Z", False),
        (0, False),  # the epoch: another common "no date"
    ],
)
def test_dates_outside_the_plausible_range_are_quarantined(value, loads):
    row, problems = normalise_record(review(date=value), REVIEWS, max_text_chars=100, dates=DATES)
    assert (row is not None) == loads
    if not loads:
        [fatal] = [p for p in problems if p.fatal]
        assert fatal.code == "date_out_of_range"
        assert "ingest.earliest_date" in fatal.reason and "ingest.max_future_days" in fatal.reason


TICKETS = FilesSourceConfig(
    name="t",
    channel="ticket",
    path="x",
    format="jsonl",
    fields={"external_id": "id", "created_at": "at", "text": ["body"], "product": "product"},
)


def ticket(**fields):
    return {"id": "T1", "at": "2026-09-01", "body": "Refund late", **fields}


@pytest.mark.parametrize(
    ("value", "words"), [(True, "true"), (False, "false"), ({"a": 1}, "nested")]
)
def test_ids_that_are_not_ids_are_quarantined_with_a_clear_reason(value, words):
    row, problems = normalise_record(ticket(id=value), TICKETS, max_text_chars=100, dates=DATES)
    assert row is None
    [fatal] = [p for p in problems if p.fatal]
    assert fatal.code == "bad_id" and words in fatal.reason and "'id'" in fatal.reason


def test_numeric_ids_stay_exact_and_an_inexact_float_id_is_refused():
    big = 2**64 + 1
    row, _ = normalise_record(ticket(id=big), TICKETS, max_text_chars=100, dates=DATES)
    assert row.external_id == str(big)
    row, _ = normalise_record(ticket(id=42.0), TICKETS, max_text_chars=100, dates=DATES)
    assert row.external_id == "42"
    row, problems = normalise_record(ticket(id=1.8e19), TICKETS, max_text_chars=100, dates=DATES)
    assert row is None and [p.code for p in problems if p.fatal] == ["bad_id"]


def test_control_characters_are_removed_from_identifiers_and_the_repair_recorded():
    row, problems = normalise_record(
        ticket(id="T\x001", product="Hub\x1b[31m"), TICKETS, max_text_chars=100, dates=DATES
    )
    assert (row.external_id, row.product) == ("T1", "Hub[31m")
    assert row.flags == ("control_chars_removed",)
    assert [p.code for p in problems] == ["control_chars_removed"]
    row, problems = normalise_record(ticket(id="\x00"), TICKETS, max_text_chars=100, dates=DATES)
    assert row is None and [p.code for p in problems if p.fatal] == ["missing_id"]
    row, problems = normalise_record(
        ticket(id="z0\u202e", product="Nimbus \u202eedoc\u202c \u2066[Pro]\u2069 zero\u200bwidth"),
        TICKETS,
        max_text_chars=100,
        dates=DATES,
    )
    assert (row.external_id, row.product) == ("z0", "Nimbus edoc [Pro] zerowidth")
    assert [p.code for p in problems] == ["control_chars_removed"]


def test_nested_values_in_text_fields_are_stored_as_json_not_python_repr():
    row, _ = normalise_record(
        ticket(body={"issue": "refund", "urgent": True, "tags": ["late", None]}),
        TICKETS,
        max_text_chars=200,
        dates=DATES,
    )
    assert row.text == '{"issue": "refund", "urgent": true, "tags": ["late", null]}'


def test_reasons_never_echo_raw_values_unredacted_and_are_capped():
    row, problems = normalise_record(
        review(date="mail bob@example.com or call 202-555-0143 " + "x" * 300),
        REVIEWS,
        max_text_chars=100,
        dates=DATES,
    )
    [fatal] = problems
    assert fatal.code == "bad_date"
    assert "bob@example.com" not in fatal.reason and "202-555-0143" not in fatal.reason
    assert "[email]" in fatal.reason and "x" * 61 not in fatal.reason
    _, problems = normalise_record(
        review(rating="4111 1111 1111 1111"), REVIEWS, max_text_chars=100, dates=DATES
    )
    assert [p.code for p in problems] == ["rating_out_of_range"]
    assert "4111" not in problems[0].reason


def test_surrounding_whitespace_in_an_id_is_trimmed_without_a_repair_flag():
    row, problems = normalise_record(ticket(id=" T1\n"), TICKETS, max_text_chars=100, dates=DATES)
    assert row.external_id == "T1" and problems == []
    row, problems = normalise_record(
        ticket(id=float("nan")), TICKETS, max_text_chars=100, dates=DATES
    )
    assert row is None and [p.code for p in problems] == ["missing_id"]


@pytest.mark.parametrize(
    ("settings", "ok"),
    [
        ({"delimiter": ";"}, True),
        ({"delimiter": "\t"}, True),
        ({"delimiter": "auto"}, True),
        ({"delimiter": ";;"}, False),
        ({"delimiter": '"'}, False),
        ({"compression": "gzip"}, True),
        ({"compression": "zip"}, False),
    ],
)
def test_source_delimiter_and_compression_settings_are_validated(settings, ok):
    def build():
        return FilesSourceConfig(
            name="r", channel="review", path="x", format="csv", fields=REVIEW_FIELDS, **settings
        )

    if ok:
        assert build().model_dump()[next(iter(settings))] == next(iter(settings.values()))
    else:
        with pytest.raises(ValueError):
            build()


VALUED = TICKETS.model_copy(
    update={"fields": TICKETS.fields.model_copy(update={"customer_value": "value"})}
)


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("1,234", 1234.0),  # thousands, never 1.234
        ("1,234.50", 1234.5),
        ("$1,200", 1200.0),
        ("1.234,50 EUR", 1234.5),
        ("12,5", 12.5),
        ("1 234,50", 1234.5),
        ("1\u202f234,50", 1234.5),
        ("1.000.000", 1000000.0),
        (10**400, None),
        (" 99.90 ", 99.9),
        (250, 250.0),
        ("", None),
        (None, None),
    ],
)
def test_a_customer_value_is_read_as_exports_write_amounts(raw, value):
    row, problems = normalise_record(ticket(value=raw), VALUED, max_text_chars=100, dates=DATES)
    assert row.customer_value == value
    assert [p.code for p in problems] == (
        [] if value or raw in ("", None) else ["customer_value_unreadable"]
    )


@pytest.mark.parametrize("raw", ["abc", "NaN", True, "-5", "1,2,3", float("inf"), "0,500"])
def test_a_customer_value_that_is_no_amount_is_dropped_and_said(raw):
    row, problems = normalise_record(ticket(value=raw), VALUED, max_text_chars=100, dates=DATES)
    assert row is not None and row.customer_value is None
    [problem] = problems
    assert problem.code == "customer_value_unreadable" and not problem.fatal
    assert "value dropped" in problem.reason


def test_a_date_that_reads_only_day_first_says_which_setting_reads_it():
    _, problems = normalise_record(
        ticket(at="13/04/2026"), TICKETS, max_text_chars=100, dates=DATES
    )
    [problem] = problems
    assert problem.code == "bad_date" and "day_first: true" in problem.reason
    _, problems = normalise_record(ticket(at="next week"), TICKETS, max_text_chars=100, dates=DATES)
    assert "day_first" not in problems[0].reason


def test_an_emoji_newer_than_pythons_unicode_tables_is_text():
    row, problems = normalise_record(
        review(title="", body="\U0001fa77\U0001fa77"), REVIEWS, max_text_chars=100, dates=DATES
    )
    assert row is not None and not [p for p in problems if p.fatal]


@pytest.mark.parametrize(
    ("value", "day_first", "order"),
    [
        ("13/04/2026", False, "other"),
        ("04/13/2026", False, "this"),
        ("03/04/2026", False, "either"),
        ("03/03/2026", False, None),  # the same day either way
        ("13/04/2026", True, "this"),
        ("04/13/2026", True, "other"),
        ("03/04/26 10:00", True, "either"),
        ("31/02/2026", False, None),  # no day either way
        ("2026-03-04", False, None),
        (20260304, False, None),
    ],
)
def test_a_slashed_dates_order_is_read_from_its_numbers(value, day_first, order):
    assert date_order_of(value, day_first) == order
