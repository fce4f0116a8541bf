"""The demo-data generator: determinism, file shapes, planted hassles, extra days."""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from flows.demo import DemoSpec, DemoSummary, generate_demo, write_demo_data
from flows.demo.generator import FILES, REVIEW_HEADER, SURVEY_HEADER, TRUTH_FILE, TRUTH_HEADER
from flows.demo.phrases import NEW_HASSLES, PLANTED_HASSLES, PLANTED_PAIN, STAGES

pytestmark = pytest.mark.unit  # pure: run in the fast lane (tests/conftest.py)

BASE_FILES = [FILES[channel, False] for channel in ("review", "ticket", "survey")]
EXTRA_FILES = [FILES[channel, True] for channel in ("review", "ticket", "survey")]


def read_truth(out: Path) -> list[dict[str, str]]:
    with (out / TRUTH_FILE).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_csv(path: Path) -> tuple[list[str], list[dict]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def read_jsonl(path: Path) -> tuple[list[dict], list[str]]:
    parsed, broken = [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            broken.append(line)
    return parsed, broken


def good(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [r for r in rows if not r["bad_record"]]


def parse_ts(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    out = tmp_path_factory.mktemp("demo")
    return out, write_demo_data(out, DemoSpec())


@pytest.fixture(scope="module")
def truth(demo: tuple[Path, DemoSummary]) -> list[dict[str, str]]:
    return read_truth(demo[0])


def test_same_spec_gives_identical_bytes(tmp_path: Path) -> None:
    spec = DemoSpec(n_comments=1500, extra_days=2)
    first = write_demo_data(tmp_path / "a", spec)
    write_demo_data(tmp_path / "b", spec)
    write_demo_data(tmp_path / "c", DemoSpec(n_comments=1500, extra_days=2, seed=7))
    names = [p.relative_to(first.out_dir) for p in first.files]
    assert len(names) == 7
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes(), name


def test_volume_customers_and_window(demo: tuple[Path, DemoSummary], truth: list[dict]) -> None:
    _, summary = demo
    assert len(truth) >= 3000
    assert sum(summary.counts.values()) == len(truth)
    shares = {k: v / len(truth) for k, v in summary.counts.items()}
    assert shares["reviews"] == pytest.approx(0.45, abs=0.04)
    assert shares["tickets"] == pytest.approx(0.30, abs=0.04)
    assert shares["surveys"] == pytest.approx(0.25, abs=0.04)

    channels_of: dict[str, set[str]] = defaultdict(set)
    for row in truth:
        channels_of[row["customer_id"]].add(row["channel"])
    assert 900 <= len(channels_of) <= 1100
    cross = sum(1 for channels in channels_of.values() if len(channels) > 1)
    assert cross / len(channels_of) >= 0.15
    assert (summary.customers, summary.cross_channel_customers) == (len(channels_of), cross)
    per_customer = Counter(row["customer_id"] for row in truth)
    assert max(per_customer.values()) >= 8

    first = datetime(2026, 8, 23, tzinfo=UTC)
    last = datetime(2026, 11, 21, tzinfo=UTC)
    stamps = [parse_ts(row["created_at"]) for row in good(truth)]
    assert all(first <= ts < last for ts in stamps)
    assert min(stamps) < first + timedelta(days=2) and max(stamps) > last - timedelta(days=2)
    assert len({ts.weekday() for ts in stamps}) == 7
    assert len({ts.hour for ts in stamps}) >= 20


def test_sentiment_stages_and_languages(truth: list[dict[str, str]]) -> None:
    rows = good(truth)
    sentiments = Counter(row["sentiment"] for row in rows)
    assert sentiments["praise"] / len(rows) == pytest.approx(0.35, abs=0.03)
    assert sentiments["neutral"] > 0.05 * len(rows)
    complaints = [row for row in rows if row["sentiment"] == "complaint"]
    assert {row["stage"] for row in complaints} == set(STAGES)
    assert all(row["stage"] and row["theme"] and row["pain_sentence"] for row in complaints)
    assert all(not row["stage"] for row in rows if row["sentiment"] != "complaint")
    background = [row for row in complaints if not row["planted_hassle"]]
    assert len({row["theme"] for row in background}) >= 8

    languages = Counter(row["language"] for row in rows)
    foreign = sum(count for lang, count in languages.items() if lang != "en")
    assert 0.02 <= foreign / len(rows) <= 0.05
    assert {"es", "de", "fr"} <= set(languages)


def test_planted_hassles_match_their_shares(
    demo: tuple[Path, DemoSummary], truth: list[dict[str, str]]
) -> None:
    rows = good(truth)
    counts = Counter(row["planted_hassle"] for row in rows if row["planted_hassle"])
    assert set(counts) == set(PLANTED_HASSLES)
    assert demo[1].planted == dict(counts)
    for key, hassle in PLANTED_HASSLES.items():
        expected = hassle.share * 3000
        assert abs(counts[key] - expected) <= 0.2 * expected, key
        planted = [row for row in rows if row["planted_hassle"] == key]
        assert {(row["stage"], row["theme"]) for row in planted} == {(hassle.stage, hassle.theme)}
        assert {row["channel"] for row in planted} == {"review", "ticket", "survey"}
    ranked = [key for key, _ in counts.most_common()]
    assert ranked == list(PLANTED_HASSLES)
    assert "promo_code_rejected" not in counts


def test_app_logout_grows_in_the_last_30_days(truth: list[dict[str, str]]) -> None:
    cutoff = datetime(2026, 11, 21, tzinfo=UTC) - timedelta(days=30)
    stamps = [parse_ts(r["created_at"]) for r in good(truth) if r["planted_hassle"] == "app_logout"]
    late = sum(1 for ts in stamps if ts >= cutoff) / 30
    early = sum(1 for ts in stamps if ts < cutoff) / 60
    assert late >= 2 * early
    flat = [parse_ts(r["created_at"]) for r in good(truth) if r["planted_hassle"] == "refund_delay"]
    assert (
        sum(1 for ts in flat if ts >= cutoff) / 30 < 1.5 * sum(1 for ts in flat if ts < cutoff) / 60
    )


def test_files_parse_with_exact_headers(demo: tuple[Path, DemoSummary]) -> None:
    out, summary = demo
    header, reviews = read_csv(out / "reviews" / "reviews.csv")
    assert header == list(REVIEW_HEADER)
    assert sum(1 for row in reviews if None in row) == 1
    assert all(1 <= int(row["rating"]) <= 5 for row in reviews)
    header, surveys = read_csv(out / "surveys" / "surveys.csv")
    assert header == list(SURVEY_HEADER)
    assert Counter(row["survey"] for row in surveys)["nps"] / len(surveys) == pytest.approx(
        0.6, abs=0.06
    )
    for row in surveys:
        low, high = (0, 10) if row["survey"] == "nps" else (1, 5)
        assert low <= int(row["score"]) <= high
    assert max(len(row["verbatim"]) for row in surveys) >= 6000
    tickets, broken = read_jsonl(out / "tickets" / "tickets.jsonl")
    assert len(broken) == 1 and broken[0].startswith('{"id": ')
    for ticket in tickets:
        assert ticket["status"] in {"new", "open", "pending", "solved", "closed"}
        assert 1 <= len(ticket["comments"]) <= 4
        assert ticket["comments"][0]["author_role"] == "agent"
        roles = [c["author_role"] for c in ticket["comments"]]
        assert all(a != b for a, b in zip(roles, roles[1:], strict=False))
        assert all(c["created_at"] >= ticket["created_at"] for c in ticket["comments"])
    assert any("<p>" in ticket["description"] for ticket in tickets)
    missing = sum(1 for t in tickets if t.get("customer_value") is None) / len(tickets)
    assert 0.12 <= missing <= 0.28
    assert summary.counts == {
        "reviews": len(reviews),
        "tickets": len(tickets) + 1,
        "surveys": len(surveys),
    }
    header = (out / TRUTH_FILE).read_text(encoding="utf-8").splitlines()[0]
    assert header == ",".join(TRUTH_HEADER)


def test_truth_describes_every_record(demo: tuple[Path, DemoSummary], truth: list[dict]) -> None:
    out, _ = demo
    texts: dict[tuple[str, str], list[str]] = defaultdict(list)
    ratings: dict[str, int] = {}
    for row in read_csv(out / "reviews" / "reviews.csv")[1]:
        texts["review", row["id"]].append(f"{row['title']}\n{row['body']}")
        ratings.setdefault(row["id"], int(row["rating"]))
    for row in read_csv(out / "surveys" / "surveys.csv")[1]:
        texts["survey", row["response_id"]].append(row["verbatim"])
    for ticket in read_jsonl(out / "tickets" / "tickets.jsonl")[0]:
        texts["ticket", str(ticket["id"])].append(ticket["description"])
    assert len(truth) == sum(len(v) for v in texts.values()) + 1
    for row in good(truth):
        first_text = texts[row["channel"], row["external_id"]][0]
        assert row["pain_sentence"] in first_text
    by_sentiment: dict[str, list[int]] = defaultdict(list)
    for row in good(truth):
        if row["channel"] == "review":
            by_sentiment[row["sentiment"]].append(ratings[row["external_id"]])
    mean = {k: sum(v) / len(v) for k, v in by_sentiment.items()}
    assert mean["complaint"] < 2.3 and mean["praise"] > 4.4 and 2.5 < mean["neutral"] < 4
    bad = Counter(row["bad_record"] for row in truth if row["bad_record"])
    assert set(bad) == {
        "bad_date",
        "empty_text",
        "html",
        "duplicate_id",
        "extra_fields",
        "invalid_json",
        "blank_text",
        "too_long",
    }
    assert all(not row["planted_hassle"] for row in truth if row["bad_record"])


def test_text_reads_like_real_customers(truth: list[dict[str, str]], demo: tuple) -> None:
    _, reviews = read_csv(demo[0] / "reviews" / "reviews.csv")
    bodies = [row["body"] for row in reviews]
    words = [len(body.split()) for body in bodies if body]
    assert min(words) <= 4 and max(words) >= 30
    assert sum(1 for b in bodies if "!!!" in b) > 20
    assert sum(1 for b in bodies if re.search(r"\bi\b", b)) > 10
    assert sum(1 for b in bodies if re.search(r"\b[A-Z]{4,}\b", b)) > 10
    assert sum(1 for b in bodies if "\n" in b) > 10
    assert sum(1 for r in reviews if not r["title"]) / len(reviews) == pytest.approx(0.2, abs=0.05)


def test_text_carries_the_noise_of_real_channels(truth: list[dict[str, str]], demo: tuple) -> None:
    """Handles, emoji, tags, sign-offs, mail footers and quoted replies, in moderation."""
    _, reviews = read_csv(demo[0] / "reviews" / "reviews.csv")
    bodies = [row["body"] for row in reviews]
    handled = sum(1 for b in bodies if b.startswith("@")) / len(bodies)
    assert 0.05 <= handled <= 0.25
    assert sum(1 for b in bodies if re.search(r"(?<!\w)#[A-Za-z]", b)) > 20
    assert sum(1 for b in bodies if not b.isascii() and any(ch in b for ch in "😡🙄😤👎😍👍")) > 40
    tickets, _ = read_jsonl(demo[0] / "tickets" / "tickets.jsonl")
    footers = sum(1 for t in tickets if re.search(r"Sent from|Get Outlook", t["description"]))
    assert 0.05 <= footers / len(tickets) <= 0.25
    replies = [c["body"] for t in tickets for c in t["comments"] if c["author_role"] == "end-user"]
    quoting = [r for r in replies if re.search(r"^On .+ wrote:\n> ", r, re.MULTILINE)]
    assert 0.2 <= len(quoting) / len(replies) <= 0.6
    # Praise and a complaint in one message.
    complaints = {r["external_id"] for r in good(truth) if r["sentiment"] == "complaint"}
    praise = re.compile(r"I like the product|happy with Nimbus until now|I'll give it that")
    mixed = [r for r in reviews if r["id"] in complaints and praise.search(r["body"])]
    assert len(mixed) >= 20


def test_normalising_the_demo_removes_the_noise_and_keeps_every_pain_sentence(
    truth: list[dict[str, str]], demo: tuple
) -> None:
    from nlp.clean import clean_text, join_parts
    from nlp.normalize import normalise

    def stored(*parts: str) -> str:  # the text as ingest stores it
        return join_parts([clean_text(p, max_chars=5000).text for p in parts])

    by_id = {(r["channel"], r["external_id"]): r for r in good(truth)}
    texts: dict[tuple[str, str], str] = {}
    for row in read_csv(demo[0] / "reviews" / "reviews.csv")[1]:
        texts["review", row["id"]] = stored(row["body"])
    for row in read_csv(demo[0] / "surveys" / "surveys.csv")[1]:
        texts["survey", row["response_id"]] = stored(row["verbatim"])
    for ticket in read_jsonl(demo[0] / "tickets" / "tickets.jsonl")[0]:
        replies = [c["body"] for c in ticket["comments"] if c["author_role"] == "end-user"]
        texts["ticket", str(ticket["id"])] = stored(ticket["description"], *replies)
    changed = 0
    for key, text in texts.items():
        result = normalise(text)
        changed += bool(result.removed)
        assert not re.search(r"@Nimbus|wrote:|^> |Sent from my|#fail", result.text, re.M), text
        row = by_id.get(key)
        if row and row["pain_sentence"]:
            assert row["pain_sentence"] in text
            assert row["pain_sentence"] in result.text, (row["pain_sentence"], result.text)
    assert changed / len(texts) >= 0.2


def template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile("^" + ".+?".join(re.escape(part) for part in parts) + "$")


def test_each_planted_hassle_has_many_phrasings(truth: list[dict[str, str]]) -> None:
    for key in PLANTED_HASSLES:
        sentences = {r["pain_sentence"] for r in good(truth) if r["planted_hassle"] == key}
        assert len(sentences) >= 12, key
        patterns = [template_regex(t) for t in PLANTED_PAIN[key]]
        used = {i for s in sentences for i, p in enumerate(patterns) if p.match(s)}
        assert len(used) >= 12, key


def test_pain_banks_do_not_share_sentences() -> None:
    seen: dict[str, str] = {}
    for key, templates in PLANTED_PAIN.items():
        assert len(templates) >= 12, key
        for template in templates:
            assert template not in seen, (key, seen.get(template))
            seen[template] = key


def test_extra_days_leave_base_files_untouched(tmp_path: Path) -> None:
    write_demo_data(tmp_path / "base", DemoSpec())
    summary = write_demo_data(tmp_path / "more", DemoSpec(extra_days=1))
    for name in BASE_FILES:
        assert (tmp_path / "base" / name).read_bytes() == (tmp_path / "more" / name).read_bytes()
    base_truth = (tmp_path / "base" / TRUTH_FILE).read_text(encoding="utf-8")
    more_truth = (tmp_path / "more" / TRUTH_FILE).read_text(encoding="utf-8")
    assert more_truth.startswith(base_truth)
    assert all((tmp_path / "more" / name).exists() for name in EXTRA_FILES)
    assert not any((tmp_path / "base" / name).exists() for name in EXTRA_FILES)

    rows = read_truth(tmp_path / "more")
    extra = rows[len(read_truth(tmp_path / "base")) :]
    assert 25 <= len(extra) <= 45
    day = datetime(2026, 11, 21, tzinfo=UTC)
    assert all(day <= parse_ts(row["created_at"]) < day + timedelta(days=1) for row in extra)
    promo = [row for row in extra if row["planted_hassle"] == "promo_code_rejected"]
    assert len(promo) / len(extra) == pytest.approx(0.25, abs=0.05)
    assert {(r["stage"], r["theme"]) for r in promo} == {("purchase", "broken")}
    assert summary.planted["promo_code_rejected"] == len(promo)
    assert set(NEW_HASSLES) == {"promo_code_rejected"}

    ids = Counter((row["channel"], row["external_id"]) for row in rows)
    duplicated = {key for key, count in ids.items() if count > 1}
    assert duplicated == {
        ("review", row["external_id"]) for row in rows if row["bad_record"] == "duplicate_id"
    }
    extra_ids = [row["id"] for row in read_csv(tmp_path / "more" / EXTRA_FILES[0])[1]]
    extra_ids += [str(t["id"]) for t in read_jsonl(tmp_path / "more" / EXTRA_FILES[1])[0]]
    extra_ids += [row["response_id"] for row in read_csv(tmp_path / "more" / EXTRA_FILES[2])[1]]
    assert sorted(extra_ids) == sorted(row["external_id"] for row in extra)

    write_demo_data(tmp_path / "more", DemoSpec())
    assert not any((tmp_path / "more" / name).exists() for name in EXTRA_FILES)


def test_generate_demo_is_pure_and_matches_the_files(demo: tuple, truth: list[dict]) -> None:
    data = generate_demo(DemoSpec())
    assert [list(row) for row in data.truth()] == [list(row.values()) for row in truth]
    clean = generate_demo(DemoSpec(bad_records=False))
    rows = list(clean.truth())
    assert not any(row.bad_record for row in rows)
    assert len(rows) == 3000


def test_spec_is_validated() -> None:
    with pytest.raises(ValueError):
        DemoSpec(n_comments=0)
    with pytest.raises(ValueError):
        DemoSpec(extra_days=-1)


def test_a_planted_sentence_is_found_in_the_unit_that_holds_it() -> None:
    from flows.demo.truth import dominant_hassles, planted_units

    truth = [
        {
            "channel": "review",
            "external_id": "r1",
            "planted_hassle": "refund_delay",
            "pain_sentence": "Refund still not here after three weeks of waiting for it.",
        },
        {
            "channel": "ticket",
            "external_id": "t1",
            "planted_hassle": "app_logout",
            "pain_sentence": "The app logs me out every time I switch to another app.",
        },
        {"channel": "review", "external_id": "r2", "planted_hassle": "", "pain_sentence": ""},
    ]
    units = [
        ("u1", "review", "r1", "Hi team, "),  # the greeting before it is another unit
        ("u2", "review", "r1", "Refund still not here after three weeks of waiting for it."),
        ("u3", "ticket", "t1", "The app logs me out every time I switch to another app"),
        ("u4", "survey", "t1", "The app logs me out every time I switch to another app."),
        ("u5", "review", "r2", "Love it."),
    ]
    planted = planted_units(truth, units)
    assert planted == {"u2": "refund_delay", "u3": "app_logout"}  # not another channel's t1
    assert dominant_hassles(
        {**planted, "u9": "refund_delay"}, {"u2": "H1", "u3": "H2", "u9": "H1"}
    ) == {
        "refund_delay": "H1",
        "app_logout": "H2",
    }
