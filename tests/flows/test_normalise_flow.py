"""Normalisation in the enrich flow: the normalised text is embedded, the original is kept.

Real models, a real DuckDB file and the real flows: tweets aimed at a brand handle and an
e-mailed ticket go in; the units (what is embedded and clustered) lose the handles, emoji,
greetings and quoted thread, while ``comments.text`` and the report's quote keep what the
customer wrote, PII redacted.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import review_source, ticket_source, write_jsonl

from flows.enrich import enrich
from flows.ingest import ingest
from flows.report.build import cut_quote
from warehouse import ranking

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

TWEETS = [
    (
        "T1",
        "@NimbusHelp @NimbusHome hey, my hub drops off the wifi every night 😡 #fail",
    ),
    (
        "T2",
        "Hi @NimbusHelp, the app logs me out every single morning. "
        "Mail me at jo.bloggs@example.com. Thanks in advance!",
    ),
    ("T3", "@NimbusHelp Thanks!"),
]
TICKET = {
    "id": 9001,
    "requester_id": "cust-9001",
    "created_at": "2026-11-02T09:00:00Z",
    "subject": "Refund",
    "description": "Hello team,\n\nMy refund for the returned cam has not arrived after 5 weeks."
    "\n\nKind regards,\nPriya Raman\n\nSent from my iPhone",
    "comments": [
        {"author_role": "agent", "body": "We have escalated this.\n\nSam\nNimbus Support"},
        {
            "author_role": "end-user",
            "body": "Still nothing on my card.\n\n"
            "On Mon, 3 Nov 2026 at 10:14, Nimbus Support <support@nimbus.example> wrote:\n"
            "> We have escalated this.\n>\n> Sam\n> Nimbus Support",
        },
    ],
    "product": "Nimbus Cam",
}


@pytest.fixture(scope="module")
def enriched(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("normalise")
    with (folder / "tweets.csv").open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "author", "rating", "title", "body", "date", "product"])
        for number, (tweet_id, text) in enumerate(TWEETS):
            writer.writerow(
                [tweet_id, f"cust-{number}", 1, "", text, "2026-11-01T10:00:00Z", "Nimbus Hub"]
            )
    write_jsonl(folder / "tickets.jsonl", [TICKET])
    config = folder / "hasslemap.yaml"
    settings = {
        "warehouse": str(folder / "warehouse.duckdb"),
        "sources": [
            review_source(folder / "tweets.csv", "tweets"),
            ticket_source(folder / "tickets.jsonl", "tickets"),
        ],
    }
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    ingest(str(config))
    enrich(str(config))
    return folder


def query(folder: Path, sql: str, params=None):
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def units_of(folder: Path, external_id: str) -> list[tuple[str, str, int, int, str, str]]:
    return query(
        folder,
        "SELECT u.unit_id, u.text, u.start_char, u.end_char, u.text_hash, c.text "
        "FROM units u JOIN comments c USING (comment_id) WHERE c.external_id = ? "
        "ORDER BY u.unit_index",
        [external_id],
    )


def test_the_warehouse_keeps_the_text_as_received(enriched):
    stored = dict(query(enriched, "SELECT external_id, text FROM comments"))
    assert stored["T1"] == TWEETS[0][1]
    assert stored["T2"] == TWEETS[1][1]
    assert "On Mon, 3 Nov 2026" in stored["9001"] and "Sent from my iPhone" in stored["9001"]


def test_units_are_the_normalised_sentences_and_point_at_the_original(enriched):
    [(_, text, start, end, _, original)] = units_of(enriched, "T1")
    assert text == "my hub drops off the wifi every night"
    assert original[start:end] == "my hub drops off the wifi every night"
    texts = [u[1] for u in units_of(enriched, "T2")]
    assert texts == [
        "the app logs me out every single morning.",
        "Mail me at jo.bloggs@example.com.",
    ]
    ticket = [u[1].strip() for u in units_of(enriched, "9001")]
    assert ticket == [
        "Refund.",
        "My refund for the returned cam has not arrived after 5 weeks.",
        "Still nothing on my card.",
    ]
    # A tweet that is only a handle and thanks has nothing to cluster.
    assert units_of(enriched, "T3") == []


def test_what_is_embedded_is_the_normalised_text(enriched, spacy_nlp):
    from nlp.units import split_sentences

    units = [u for external_id in ("T1", "T2", "9001") for u in units_of(enriched, external_id)]
    assert all(h == hashlib.sha1(text.encode()).hexdigest() for _, text, _, _, h, _ in units)
    embedded = {h for (h,) in query(enriched, "SELECT text_hash FROM embeddings")}
    assert {h for *_, h, _ in units} <= embedded
    # The sentences of the text as written, where normalising changed them, were never embedded.
    originals = sorted({u[5] for u in units})
    as_written = {
        sentence.text
        for sentences in split_sentences(spacy_nlp, originals)
        for sentence in sentences
    } - {text for _, text, *_ in units}
    assert any("@NimbusHelp" in t for t in as_written) and any("wrote:" in t for t in as_written)
    assert {hashlib.sha1(t.encode()).hexdigest() for t in as_written}.isdisjoint(embedded)


def test_the_report_quote_shows_what_the_customer_wrote_redacted(enriched):
    unit_ids = [u[0] for u in units_of(enriched, "T2")]
    with duckdb.connect(str(enriched / "warehouse.duckdb"), read_only=True) as conn:
        rows = ranking.read_quotes(conn, unit_ids)
    quote = cut_quote(rows[unit_ids[1]])
    assert quote.text.startswith("Hi @NimbusHelp, the app logs me out")
    assert quote.text.endswith("Thanks in advance!")
    assert "jo.bloggs@example.com" not in quote.text
    highlighted = quote.text[quote.highlight_start : quote.highlight_end]
    assert highlighted.startswith("Mail me at ") and highlighted.endswith(".")


def test_changing_a_sources_rules_re_enriches_and_adding_a_default_source_does_not():
    from config.settings import Settings
    from config.taxonomy import load_taxonomy
    from nlp.enrich import enrich_version

    taxonomy = load_taxonomy()
    base = Settings()
    sources = [s.model_dump() for s in base.sources]
    changed = Settings(sources=[*sources[:2], {**sources[2], "normalise": {"emoji": False}}])
    extra = {**sources[0], "name": "more_reviews", "path": "elsewhere/*.csv"}
    added = Settings(sources=[*sources, extra])
    assert enrich_version(changed, taxonomy) != enrich_version(base, taxonomy)
    assert enrich_version(added, taxonomy) == enrich_version(base, taxonomy)
