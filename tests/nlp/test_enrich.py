"""What re-enriches every comment (:func:`nlp.enrich.enrich_version`), and the row counts."""

from __future__ import annotations

from datetime import datetime

from config import Settings
from nlp.enrich import CommentEnrichment, enrich_version, unsupported_count


def test_enrich_version_changes_with_what_changes_units_only():
    base = Settings()
    assert enrich_version(base) == enrich_version(Settings())
    assert len(enrich_version(base)) == 12
    weights = {**base.enrich.severity_weights, "sentiment": 0.9}
    changed = base.model_copy(
        update={"enrich": base.enrich.model_copy(update={"severity_weights": weights})}
    )
    assert enrich_version(changed) != enrich_version(base)
    for run_on in ({"run_on_words": None}, {"clause_words": 20}, {"contrast_words": 3}):
        cut = base.model_copy(update={"enrich": base.enrich.model_copy(update=run_on)})
        assert enrich_version(cut) != enrich_version(base)
    other_report = base.model_copy(update={"report": base.report.model_copy(update={"top": 3})})
    assert enrich_version(other_report) == enrich_version(base)


def test_unsupported_count_reads_the_flag_by_name():
    def row(supported: bool) -> CommentEnrichment:
        return CommentEnrichment(
            "c", "h", "v", "xx", 1.0, supported, "t", 0.0, 0.0, "{}", 1, datetime(2026, 1, 1)
        )

    assert unsupported_count([row(True), row(False), row(False)]) == 2
    assert unsupported_count([]) == 0
