"""What re-enriches every comment (:func:`nlp.enrich.enrich_version`), and the row counts."""

from __future__ import annotations

from datetime import datetime

import pytest

from config import Settings
from config.taxonomy import load_taxonomy
from nlp.enrich import CommentEnrichment, enrich_version, unsupported_languages
from nlp.language import primary_language

TAXONOMY = load_taxonomy()


def test_enrich_version_changes_with_what_changes_units_only():
    base = Settings()
    assert enrich_version(base, TAXONOMY) == enrich_version(Settings(), load_taxonomy())
    assert len(enrich_version(base, TAXONOMY)) == 12
    weights = {**base.enrich.severity_weights, "sentiment": 0.9}
    changed = base.model_copy(
        update={"enrich": base.enrich.model_copy(update={"severity_weights": weights})}
    )
    assert enrich_version(changed, TAXONOMY) != enrich_version(base, TAXONOMY)
    for run_on in ({"run_on_words": None}, {"clause_words": 20}, {"contrast_words": 3}):
        cut = base.model_copy(update={"enrich": base.enrich.model_copy(update=run_on)})
        assert enrich_version(cut, TAXONOMY) != enrich_version(base, TAXONOMY)
    other_report = base.model_copy(update={"report": base.report.model_copy(update={"top": 3})})
    assert enrich_version(other_report, TAXONOMY) == enrich_version(base, TAXONOMY)


def test_an_edited_pattern_re_enriches_and_an_edited_example_does_not():
    # Patterns are matched as sentences are split: stored hits would stay the old pattern's.
    base = Settings()
    theme = TAXONOMY.themes[0]
    pattern = ({"LEMMA": "log"}, {"LOWER": "out"})
    with_pattern = TAXONOMY.model_copy(
        update={
            "themes": (
                theme.model_copy(update={"patterns": (*theme.patterns, pattern)}),
                *TAXONOMY.themes[1:],
            )
        }
    )
    with_example = TAXONOMY.model_copy(
        update={
            "themes": (
                theme.model_copy(update={"examples": (*theme.examples, "new one")}),
                *TAXONOMY.themes[1:],
            )
        }
    )
    assert enrich_version(base, with_pattern) != enrich_version(base, TAXONOMY)
    assert enrich_version(base, with_example) == enrich_version(base, TAXONOMY)


def test_unsupported_languages_are_counted_by_code_from_the_flag():
    def row(language: str, supported: bool) -> CommentEnrichment:
        return CommentEnrichment(
            "c", "h", "v", language, 1.0, supported, "t", 0.0, 0.0, "{}", 1, datetime(2026, 1, 1)
        )

    rows = [row("en", True), row("de", False), row("fr", False), row("de", False)]
    assert unsupported_languages(rows) == {"de": 2, "fr": 1}
    assert unsupported_languages([]) == {}


@pytest.mark.parametrize(
    ("code", "language"),
    [("en-GB", "en"), ("en_US", "en"), ("EN", "en"), (" zh-Hant-TW", "zh"), ("und", "und")],
)
def test_a_stated_language_is_read_without_its_region(code, language):
    assert primary_language(code) == language
