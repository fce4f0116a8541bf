"""Readers of the cluster stage: the brand handles of the window, read from comments as written."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from warehouse import hassles as store
from warehouse.connection import connect_warehouse, run_sql

END = datetime(2026, 3, 1)


@pytest.fixture
def conn(tmp_path):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    texts = [f"@SpotifyCares song {i} skips" for i in range(97)]
    texts += ["@Spotify also @spotifycares", "ask .@friend", "mail me at me@example.org"]
    rows = [(f"c{i}", f"e{i}", END - timedelta(days=1), text) for i, text in enumerate(texts)]
    rows.append(("old", "e-old", END - timedelta(days=200), "@OldBrand " * 3))
    for comment_id, external_id, created, text in rows:
        run_sql(
            conn,
            "INSERT INTO comments (comment_id, source, channel, external_id, created_at, text, "
            "content_hash, source_file, source_line, ingested_at, updated_at) "
            "VALUES (?, 'tweets', 'review', ?, ?, ?, 'h', 'f.csv', 1, ?, ?)",
            [comment_id, external_id, created, text, created, created],
        )
    yield conn
    conn.close()


def window(units: int = 1) -> store.PainPointWindow:
    unit = store.PainPoint("u", "song skips", "h", (), (), None, None)
    return store.PainPointWindow([unit] * units, END - timedelta(days=90), END, "f")


def test_brand_handles_are_those_most_comments_in_the_window_write_to(conn):
    # 98 of 100 comments in the window name @SpotifyCares (once counted per comment, in any
    # case); @Spotify and .@friend one each; an e-mail address is no handle; @OldBrand is
    # outside the window.
    brands = store.read_brand_handles(conn, window(), 0.01)
    assert brands == {"spotifycares", "spotify", "friend"}
    assert store.read_brand_handles(conn, window(), 0.02) == {"spotifycares"}
    assert store.read_brand_handles(conn, window(), 0.99) == frozenset()


def test_the_window_counts_the_comments_older_than_it(conn):
    # 100 comments a day before END and one 200 days before: 90 days hold all but that one.
    assert store.read_pain_points(conn, 90, "k", END).comments_before == 1
    assert store.read_pain_points(conn, 300, "k", END).comments_before == 0


def test_an_empty_window_has_no_brand(conn):
    assert store.read_brand_handles(conn, window(units=0), 0.01) == frozenset()


def test_a_pain_point_carries_what_the_customer_wrote_before_it(tmp_path):
    conn = connect_warehouse(tmp_path / "w.duckdb")
    text = "Thanks, Sarah Jones for nothing. " + "x" * 100 + " My refund never arrived."
    spans = [(0, text.index(" x")), (text.index("My"), len(text))]
    run_sql(
        conn,
        "INSERT INTO comments (comment_id, source, channel, external_id, created_at, text, "
        "content_hash, source_file, source_line, ingested_at, updated_at) "
        "VALUES ('c1', 's', 'review', 'e1', ?, ?, 'h', 'f.csv', 1, ?, ?)",
        [END, text, END, END],
    )
    for i, (start, end) in enumerate(spans):
        run_sql(
            conn,
            "INSERT INTO units VALUES (?, 'c1', ?, ?, ?, ?, ?, [], [], false, '[]', 0, 0, '{}')",
            [f"c1:{i}", i, start, end, text[start:end], f"h{i}"],
        )
        run_sql(
            conn,
            "INSERT INTO tags (subject_kind, subject_id, comment_id, is_pain_point, pain_score, "
            "method, taxonomy_version, model_id, tagged_at) VALUES ('unit', ?, 'c1', true, ?, "
            "'m', 't', 'm', ?)",
            [f"c1:{i}", 0.4 + 0.5 * i, END],
        )

    units = store.read_pain_points(conn, 90, "k", END).units

    assert [u.said for u in units] == [
        text[: spans[0][1]],
        text[spans[1][0] - store.CONTEXT_CHARS : spans[1][1]],
    ]
    assert [u.pain_score for u in units] == [pytest.approx(0.4), pytest.approx(0.9)]
    assert [u.source for u in units] == ["s", "s"]  # the split step centres on its mean
    conn.close()
