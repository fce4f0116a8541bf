"""The enrich stage end to end on the demo data, with the real spaCy and embedding models."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import demo_sources, review_source

from config.taxonomy import BUNDLED_TAXONOMY
from flows.enrich import enrich
from flows.ingest import ingest
from models import DEFAULT_EMBEDDING_MODEL, resolve_model_path

pytestmark = pytest.mark.usefixtures("prefect_server")

EXTRA_REVIEWS = (
    "id,author,rating,title,body,date,product\n"
    "X1,cust-x1,5,Smooth,I had no problem with delivery.,2026-11-01T10:00:00Z,Nimbus Hub\n"
    "X2,cust-x2,1,Late,My parcel arrived a week late and the tracking never updated.,2026-11-01T11:00:00Z,Nimbus Hub\n"
)


@pytest.fixture(scope="module")
def enriched(tmp_path_factory, demo_dir):
    """A warehouse with the demo data (plus two hand-written reviews) ingested and enriched."""
    folder = tmp_path_factory.mktemp("enriched")
    (folder / "extra").mkdir()
    (folder / "extra" / "reviews.csv").write_text(EXTRA_REVIEWS)
    config = folder / "hasslemap.yaml"
    settings = {
        "warehouse": str(folder / "warehouse.duckdb"),
        "sources": [
            *demo_sources(demo_dir),
            review_source(folder / "extra" / "reviews.csv", "extra_reviews"),
        ],
    }
    config.write_text(yaml.safe_dump(settings))
    ingest(str(config))
    first = enrich(str(config))
    return folder, config, first


def query(folder: Path, sql: str, params=None):
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql, params or []).fetchall()


def test_every_comment_is_enriched_and_every_unit_tagged(enriched):
    folder, _, first = enriched
    [(comments,)] = query(folder, "SELECT count(*) FROM comments")
    assert first["comments_enriched"] == comments
    assert query(folder, "SELECT count(*) FROM comment_enrichment") == [(comments,)]
    [(units, tagged)] = query(
        folder,
        "SELECT count(*), count(t.subject_id) FROM units u LEFT JOIN tags t ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id",
    )
    assert units == tagged > comments
    # Offsets point back into the comment's text: the unit is its normalised sentence, the
    # original words with handles, emoji, greetings and the like deleted (nlp/normalize.py).
    spans = query(
        folder,
        "SELECT u.text, substr(c.text, u.start_char + 1, u.end_char - u.start_char) "
        "FROM units u JOIN comments c USING (comment_id)",
    )
    assert all(is_deletion_of(text, original) for text, original in spans)
    # Normalisation takes the demo's noise out (greetings, thanks, sign-offs, handles, bare asks):
    # a thousand comments of the demo hold words that no unit covers.
    covered = query(
        folder,
        "SELECT c.text, list(u.start_char), list(u.end_char) FROM comments c "
        "JOIN units u USING (comment_id) GROUP BY c.comment_id, c.text",
    )
    assert sum(has_uncovered_words(*row) for row in covered) >= 500


def has_uncovered_words(text: str, starts: list[int], ends: list[int]) -> bool:
    """Whether ``text`` holds a letter outside every ``[start, end)`` span."""
    inside = bytearray(len(text))
    for start, end in zip(starts, ends, strict=True):
        inside[start:end] = b"\x01" * (end - start)
    return any(ch.isalpha() and not inside[i] for i, ch in enumerate(text))


def is_deletion_of(text: str, original: str) -> bool:
    """Whether ``text`` is ``original`` with characters deleted, keeping its ends."""
    if not text or text[0] != original[0] or text[-1] != original[-1]:
        return False
    rest = iter(original)
    return all(ch in rest for ch in text)


def test_planted_hassles_get_their_expected_stage_and_theme(enriched, demo_dir):
    folder, _, _ = enriched
    with open(demo_dir / "truth.csv", newline="", encoding="utf-8") as f:
        planted = [
            r
            for r in csv.DictReader(f)
            if r["planted_hassle"] and r["language"] == "en" and not r["bad_record"]
        ]
    units = query(
        folder,
        """
        SELECT c.channel, c.external_id, u.text, t.stage, t.theme
        FROM units u JOIN comments c USING (comment_id)
        JOIN tags t ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
        """,
    )
    by_comment: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for channel, external_id, text, stage, theme in units:
        by_comment.setdefault((channel, external_id), []).append((text, stage, theme))
    right = 0
    for row in planted:
        candidates = by_comment[(row["channel"], row["external_id"])]
        # The unit holding the planted sentence: the one sharing the most words with it.
        words = set(row["pain_sentence"].lower().split())
        _, stage, theme = max(candidates, key=lambda c: len(words & set(c[0].lower().split())))
        right += (stage, theme) == (row["stage"], row["theme"])
    assert len(planted) > 900
    assert right / len(planted) >= 0.90, (
        f"{right}/{len(planted)} planted pain points tagged as planted"
    )


def test_no_problem_with_delivery_is_not_a_delivery_hassle(enriched):
    folder, _, _ = enriched
    rows = query(
        folder,
        """
        SELECT c.external_id, t.stage, t.is_pain_point
        FROM units u JOIN comments c USING (comment_id)
        JOIN tags t ON t.subject_kind = 'unit' AND t.subject_id = u.unit_id
        WHERE c.source = 'extra_reviews'
        """,
    )
    tags = {external_id: (stage, pain) for external_id, stage, pain in rows}
    assert not (tags["X1"][0] == "delivery" and tags["X1"][1])
    assert tags["X2"] == ("delivery", True)


def test_non_english_comments_are_detected_and_not_mis_tagged(enriched, demo_dir):
    folder, _, first = enriched
    with open(demo_dir / "truth.csv", newline="", encoding="utf-8") as f:
        foreign = {
            (r["channel"], r["external_id"]): r["language"]
            for r in csv.DictReader(f)
            if r["language"] != "en" and not r["bad_record"]
        }
    rows = query(
        folder,
        "SELECT c.channel, c.external_id, e.language, e.language_supported FROM comments c JOIN comment_enrichment e USING (comment_id)",
    )
    detected = {(ch, ext): (lang, ok) for ch, ext, lang, ok in rows}
    hits = sum(detected[key][0] == lang for key, lang in foreign.items())
    assert hits / len(foreign) >= 0.9
    assert first["unsupported_language"] >= 0.9 * len(foreign)
    untagged = query(
        folder,
        "SELECT count(*) FROM tags WHERE method = 'unsupported_language' AND stage IS NOT NULL",
    )
    assert untagged == [(0,)]


def test_rerunning_enrich_recomputes_nothing(enriched):
    folder, config, _ = enriched
    before = query(folder, "SELECT count(*) FROM embeddings")
    second = enrich(str(config))
    assert (second["comments_enriched"], second["texts_embedded"], second["tags_written"]) == (
        0,
        0,
        0,
    )
    assert query(folder, "SELECT count(*) FROM embeddings") == before


def test_the_waiting_during_delivery_question_is_answerable_in_sql(enriched):
    folder, _, _ = enriched
    rows = query(
        folder,
        """
        SELECT c.comment_id, c.text, e.severity
        FROM comments c
        JOIN comment_enrichment e USING (comment_id)
        WHERE EXISTS (SELECT 1 FROM tags t WHERE t.comment_id = c.comment_id AND t.subject_kind = 'unit'
                      AND t.is_pain_point AND t.stage = 'delivery' AND t.theme = 'waiting')
        ORDER BY e.severity DESC
        """,
    )
    assert len(rows) >= 50
    assert all(0 <= severity <= 1 for _, _, severity in rows)


def test_adding_a_theme_to_the_taxonomy_retags_on_the_next_run(enriched, tmp_path):
    folder, config, _ = enriched
    shutil.copy(folder / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    taxonomy = yaml.safe_load(BUNDLED_TAXONOMY.read_text())
    taxonomy["themes"].append(
        {
            "key": "privacy",
            "name": "Privacy",
            "description": "Data and camera privacy.",
            "examples": [
                "who can see my camera footage",
                "is my data shared with third parties",
                "I worry about privacy",
            ],
        }
    )
    (tmp_path / "taxonomy.yaml").write_text(yaml.safe_dump(taxonomy))
    settings = yaml.safe_load(config.read_text())
    settings["warehouse"] = str(tmp_path / "warehouse.duckdb")
    settings["tagging"] = {"taxonomy": str(tmp_path / "taxonomy.yaml")}
    (tmp_path / "hasslemap.yaml").write_text(yaml.safe_dump(settings))

    result = enrich(str(tmp_path / "hasslemap.yaml"))

    [(subjects,)] = query(tmp_path, "SELECT count(*) FROM tags")
    assert result["comments_enriched"] == 0 and result["tags_written"] == subjects
    assert result["texts_embedded"] == 0  # units and comments keep their vectors
    assert result["examples_embedded"] == 3  # only the new theme's examples are new
    versions = query(tmp_path, "SELECT DISTINCT taxonomy_version FROM tags")
    assert versions == [(result["taxonomy_version"],)]
    assert query(tmp_path, "SELECT count(*) FROM tags WHERE theme = 'privacy'")[0][0] >= 1


def retag_with(enriched, tmp_path, tagging: dict, scores_sql: str) -> tuple[list, list, dict]:
    """Enrich a copy of the enriched warehouse again with other ``tagging`` settings.

    Returns the rows of ``scores_sql`` before and after, and the enrich result; checks that
    every subject was tagged again under one new version and nothing was re-enriched.
    """
    folder, config, _ = enriched
    shutil.copy(folder / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    before = query(tmp_path, scores_sql)
    settings = yaml.safe_load(config.read_text())
    settings["warehouse"] = str(tmp_path / "warehouse.duckdb")
    settings["tagging"] = tagging
    (tmp_path / "hasslemap.yaml").write_text(yaml.safe_dump(settings))

    result = enrich(str(tmp_path / "hasslemap.yaml"))

    [(subjects,)] = query(tmp_path, "SELECT count(*) FROM tags")
    assert result["comments_enriched"] == 0 and result["tags_written"] == subjects
    assert query(tmp_path, "SELECT DISTINCT taxonomy_version FROM tags") == [
        (result["taxonomy_version"],)
    ]
    after = query(tmp_path, scores_sql)
    assert [row[0] for row in after] == [row[0] for row in before]
    return before, after, result


def test_a_changed_rating_prior_retags_and_weighs_the_rated_comments_only(enriched, tmp_path):
    scores_sql = (
        "SELECT t.subject_id, t.pain_score, c.rating IS NOT NULL OR c.score IS NOT NULL "
        "FROM tags t JOIN comments c USING (comment_id) "
        "WHERE t.subject_kind = 'unit' AND t.pain_score IS NOT NULL ORDER BY 1"
    )
    tagging = {"pain_prior_delighted": 0.5, "pain_prior_furious": 0.5}
    before, after, _ = retag_with(enriched, tmp_path, tagging, scores_sql)
    changed = [b[2] for b, a in zip(before, after, strict=True) if abs(b[1] - a[1]) > 1e-6]
    # Unrated comments (tickets) keep their scores; rated ones (reviews, surveys) move.
    assert changed and all(changed)
    assert any(not rated for _, _, rated in before)


def test_a_changed_channel_prior_retags_and_moves_only_that_channels_unrated_units(
    enriched, tmp_path
):
    scores_sql = (
        "SELECT t.subject_id, t.pain_score, c.channel, c.rating IS NULL AND c.score IS NULL "
        "FROM tags t JOIN comments c USING (comment_id) "
        "WHERE t.subject_kind = 'unit' AND t.pain_score IS NOT NULL ORDER BY 1"
    )
    tagging = {"channel_pain_prior": {"ticket": 0.7}}
    before, after, _ = retag_with(enriched, tmp_path, tagging, scores_sql)
    moved = [(b[2], b[3]) for b, a in zip(before, after, strict=True) if abs(b[1] - a[1]) > 1e-6]
    # At 0.5 (the default) a ticket's unrated sentence is the sentence alone; at 0.7 it is more
    # likely a complaint, and no other channel's score moves.
    assert moved and set(moved) == {("ticket", True)}
    raised = [a[1] > b[1] for b, a in zip(before, after, strict=True) if b[2] == "ticket"]
    assert raised and all(raised)


def test_comment_vectors_are_sentence_means_by_default_and_can_be_embedded(enriched, tmp_path):
    folder, config, _ = enriched
    [(comments, tagged)] = query(
        folder,
        "SELECT count(*), count(t.stage) FROM comment_enrichment e "
        "LEFT JOIN tags t ON t.subject_kind = 'comment' AND t.subject_id = e.comment_id "
        "WHERE e.language_supported AND e.unit_count > 0",
    )
    assert comments == tagged
    # By default no comment text was sent to the model: every stored vector is a unit's or an example's.
    [(comment_vectors,)] = query(
        folder,
        "SELECT count(*) FROM embeddings v WHERE v.text_hash IN (SELECT text_hash FROM comment_enrichment) "
        "AND v.text_hash NOT IN (SELECT text_hash FROM units)",
    )
    assert comment_vectors == 0

    shutil.copy(folder / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    settings = yaml.safe_load(config.read_text())
    settings["warehouse"] = str(tmp_path / "warehouse.duckdb")
    settings["enrich"] = {"comment_vectors": "embed"}
    (tmp_path / "hasslemap.yaml").write_text(yaml.safe_dump(settings))
    result = enrich(str(tmp_path / "hasslemap.yaml"))
    assert (
        result["comments_enriched"]
        == comments
        + query(
            folder,
            "SELECT count(*) FROM comment_enrichment WHERE NOT language_supported OR unit_count = 0",
        )[0][0]
    )
    assert result["texts_embedded"] > 0.5 * comments


def test_a_pain_model_embeds_every_unit_once_and_only_the_pain_scores_follow_it(enriched, tmp_path):
    folder, config, _ = enriched
    # Another model: the bundled one with its first token's vector instead of the mean.
    model = tmp_path / "first-token-minilm"
    shutil.copytree(resolve_model_path(DEFAULT_EMBEDDING_MODEL), model)
    pooling = model / "1_Pooling" / "config.json"
    pooling.write_text(
        pooling.read_text()
        .replace('"pooling_mode_cls_token": false', '"pooling_mode_cls_token": true')
        .replace('"pooling_mode_mean_tokens": true', '"pooling_mode_mean_tokens": false')
    )
    scores_sql = (
        "SELECT subject_id, pain_score, stage, theme, model_id FROM tags "
        "WHERE subject_kind = 'unit' AND pain_score IS NOT NULL ORDER BY 1"
    )
    shutil.copy(folder / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    before = query(tmp_path, scores_sql)
    settings = yaml.safe_load(config.read_text())
    settings["warehouse"] = str(tmp_path / "warehouse.duckdb")
    settings["models"] = {"pain_embedding": str(model)}
    (tmp_path / "hasslemap.yaml").write_text(yaml.safe_dump(settings))

    result = enrich(str(tmp_path / "hasslemap.yaml"))
    again = enrich(str(tmp_path / "hasslemap.yaml"))

    pain_id = result["pain_model_id"]
    assert pain_id.startswith("first-token-minilm@") and pain_id != result["model_id"]
    [(texts,)] = query(tmp_path, "SELECT count(DISTINCT text_hash) FROM units")
    assert result["pain_texts_embedded"] == texts
    missing = query(
        tmp_path,
        "SELECT count(*) FROM units u WHERE NOT EXISTS (SELECT 1 FROM embeddings e "
        "WHERE e.model_id = ? AND e.text_hash = u.text_hash)",
        [pain_id],
    )
    assert missing == [(0,)]
    after = query(tmp_path, scores_sql)
    assert [row[0] for row in after] == [row[0] for row in before]
    moved = sum(abs(b[1] - a[1]) > 0.01 for b, a in zip(before, after, strict=True))
    assert moved > 0.5 * len(before)  # the pain scores read the other model's vectors ...
    assert [row[2:] for row in after] == [row[2:] for row in before]  # ... the tags do not
    assert again["pain_texts_embedded"] == 0 and again["tags_written"] == 0
