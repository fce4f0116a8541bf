"""Rank and publish on the demo data: planted hassles in order, views, report, artifacts."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest
from conftest import (
    chromium,
    copy_workspace,
    demo_sources,
    dom_facts,
    dominant_hassles,
    latest_members,
    planted_units,
    published_report,
    review_source,
    run_chromium,
)
from typer.testing import CliRunner

from flows.cli import app

pytestmark = pytest.mark.usefixtures("prefect_server")

REPO = Path(__file__).resolve().parents[2]
SCRIPT = "<script>document.body.setAttribute('data-pwned','1')</script>"
IMG = "<img src=x onerror=\"document.title='PWNED'\">"


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)


def test_the_planted_top_three_lead_the_ranking_and_the_growing_one_is_flagged(
    nightly_demo, demo_dir
):
    folder, _, result = nightly_demo
    with connect(folder) as conn:
        dominant = dominant_hassles(
            planted_units(conn, demo_dir / "truth.csv"), latest_members(conn)
        )
        ranking = conn.execute(
            "SELECT hassle_id, trend, total_score, reach_score FROM v_latest_hassles ORDER BY rank"
        ).fetchall()
        stored = conn.execute(
            "SELECT count(*) FROM hassle_rankings WHERE run_id = ? AND level = 'child'",
            [result["run_id"]],
        ).fetchone()[0]
    assert stored == len(ranking) == result["stages"]["rank"]["hassles_ranked"]
    # Planted: refund_delay (9%, high), app_logout (7% and tripling, high), hidden_fee (5.5%,
    # steady, high): those three lead. Their order among themselves is not the plant's to fix:
    # refund's sentences split over two to four children (its "not been credited" wording, and
    # product-named catch-alls), so its largest child holds 60-85% of them and ranked below
    # hidden fees in 2 of 8 float32 seeds (bench/demo_quality.py).
    top3 = {hassle_id for hassle_id, *_ in ranking[:3]}
    assert top3 == {dominant["refund_delay"], dominant["app_logout"], dominant["hidden_fee"]}
    reach = {hassle_id: r for hassle_id, _, _, r in ranking}
    assert all(reach[hassle_id] > 0 for hassle_id in top3)
    trend = {hassle_id: t for hassle_id, t, *_ in ranking}
    assert trend[dominant["app_logout"]] == "rising"  # planted to triple over the last month
    assert trend[dominant["hidden_fee"]] != "rising"
    scores = [score for _, _, score, _ in ranking]
    generic_rows = [r for r in ranking if r[0] not in dominant.values()]
    assert generic_rows and all(0 <= s <= 1 for s in scores)


def test_every_score_part_is_stored_and_adds_up_to_the_total(nightly_demo):
    folder, _, _ = nightly_demo
    parts = ("reach", "severity", "repeat", "spread", "trend", "value", "impact")
    with connect(folder) as conn:
        rows = conn.execute(
            f"SELECT total_score, weights, {', '.join(p + '_score' for p in parts)} FROM v_latest_hassles"
        ).fetchall()
    for total, weights, *values in rows:
        weights = json.loads(weights)
        assert sum(weights.values()) == pytest.approx(1.0)
        # The demo has customer values (tickets) and NPS/CSAT scores (surveys): every part counts.
        assert set(weights) == set(parts)
        assert total == pytest.approx(
            sum(weights[p] * v for p, v in zip(parts, values, strict=True))
        )


def test_nightly_writes_the_report_and_publishes_prefect_artifacts(nightly_demo):
    folder, _, result = nightly_demo
    publish = result["stages"]["publish"]
    html, markdown, rows = published_report(publish)
    with connect(folder) as conn:
        top = conn.execute("SELECT label FROM v_latest_hassles ORDER BY rank LIMIT 10").fetchall()
        groups = conn.execute(
            "SELECT label, child_labels FROM v_latest_parent_hassles ORDER BY rank LIMIT 10"
        ).fetchall()
        shares = dict(
            conn.execute(
                "SELECT hassle_id, stage_share FROM v_latest_hassles UNION ALL "
                "SELECT hassle_id, stage_share FROM v_latest_parent_hassles"
            ).fetchall()
        )
        # The top child's stage share is the share of its members tagged with its stage.
        top_id, top_stage, counted = conn.execute(
            "SELECT h.hassle_id, h.stage, count(*) FILTER (t.stage = h.stage) / count(*) "
            "FROM v_latest_hassles AS h JOIN hassle_members AS m "
            "ON m.hassle_id = h.hassle_id AND m.run_id = h.run_id "
            "JOIN tags AS t ON t.subject_kind = 'unit' AND t.subject_id = m.unit_id "
            "WHERE h.rank = 1 GROUP BY ALL"
        ).fetchone()
    labels = [label for (label,) in top]
    if groups:  # two levels: the top 10 parents, each followed by its children
        labels = [label for parent, kids in groups for label in (parent, *kids)]
    assert [r["label"] for r in rows] == labels
    assert top_stage and shares[top_id] == pytest.approx(counted)
    for r in rows:
        assert float(r["stage_share"]) == pytest.approx(shares[r["hassle_id"]], abs=5e-4)
    assert labels[0] in html and labels[0] in markdown
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html

    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    async def read(key: str):
        async with get_client() as client:
            found = await client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key]))
            )
            return found

    import asyncio

    tables = asyncio.run(read("hassle-ranking"))
    summaries = asyncio.run(read("hassle-summary"))
    assert tables and summaries
    assert any(labels[0] in str(a.data) for a in tables)
    assert any(labels[0] in str(a.data) for a in summaries)


def test_pii_is_redacted_in_views_report_and_artifacts(nightly_demo, demo_dir, tmp_path):
    folder, _, _ = nightly_demo
    pii = ("jane.doe@example.com", "+44 20 7946 0958", "4111 1111 1111 1111")
    extra = tmp_path / "extra.csv"
    extra.write_text(
        "id,author,rating,title,body,date,product\n"
        "PII1,cust-0007,1,Logged out again,The app keeps logging me out. Email me at "
        f"{pii[0]} or call {pii[1]}; I paid with {pii[2]}.,2026-11-19T10:00:00Z,Nimbus Hub\n",
        encoding="utf-8",
    )
    sources = [*demo_sources(demo_dir), review_source(extra, "extra_reviews")]
    config = copy_workspace(folder, tmp_path / "work", sources)
    config.write_text(
        config.read_text() + f"report:\n  out_dir: {tmp_path / 'reports'}\n  top: 30\n"
    )
    from flows.nightly import nightly

    result = nightly(str(config))
    with connect(tmp_path / "work") as conn:
        journey = conn.execute(
            "SELECT text FROM v_customer_journeys WHERE comment_id = "
            "(SELECT comment_id FROM comments WHERE external_id = 'PII1')"
        ).fetchone()[0]
        published = conn.execute(
            "SELECT string_agg(comment_text, ' ') FROM v_hassle_examples"
        ).fetchone()[0]
        labels = conn.execute("SELECT string_agg(label, ' ') FROM hassles").fetchone()[0]
    assert "[email]" in journey and "[phone]" in journey and "[card]" in journey
    outputs = [journey, published, labels]
    outputs += [
        Path(result["stages"]["publish"][k]).read_text()
        for k in ("report", "report_markdown", "report_csv")
    ]
    outputs.append(json.dumps(result["stages"]))
    for text in outputs:
        for secret in pii:
            assert secret not in text


def test_a_script_in_a_comment_never_runs_in_the_report(nightly_demo, demo_dir, tmp_path):
    """A comment holding <script> and <img onerror> reaches the report; Chromium runs nothing."""
    binary = chromium()
    folder, _, _ = nightly_demo
    config = copy_workspace(folder, tmp_path / "work", demo_sources(demo_dir))
    with duckdb.connect(str(tmp_path / "work" / "warehouse.duckdb")) as conn:
        # As if a source had delivered markup that the cleaning step missed: append it to the
        # comment quoted first for the top hassle, after its pain-point sentence.
        conn.execute(
            "UPDATE comments AS c SET text = substr(c.text, 1, u.end_char) || ? || substr(c.text, u.end_char + 1) "
            "FROM units AS u WHERE u.comment_id = c.comment_id AND u.unit_id = "
            "(SELECT h.quote_unit_ids[1] FROM v_latest_hassles JOIN hassles AS h USING (hassle_id) WHERE rank = 1)",
            [f" Also {SCRIPT} and {IMG} here."],
        )
        top_label = conn.execute("SELECT label FROM v_latest_hassles WHERE rank = 1").fetchone()[0]
    out = tmp_path / "reports"
    result = CliRunner().invoke(app, ["report", "--config", str(config), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page = out / "hasslemap-report.html"
    html = page.read_text(encoding="utf-8")
    # Tagged by this taxonomy (tags.taxonomy_version carries the tagger's version after it).
    assert "earlier taxonomy" not in result.output and "earlier taxonomy" not in html
    assert "&lt;script&gt;" in html  # the payload is in the report, as text

    shot = tmp_path / "report.png"
    run_chromium(
        binary, tmp_path, "shot", f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri()
    )
    dom = run_chromium(binary, tmp_path, "dom", "--dump-dom", page.as_uri()).stdout
    assert shot.stat().st_size > 10_000
    assert top_label in dom
    facts = dom_facts(dom)
    assert "PWNED" not in facts.title
    assert facts.body_attrs is not None and "data-pwned" not in facts.body_attrs
    assert "<script" not in dom and "<img" not in dom


def test_report_command_filters_and_refuses_bad_options(nightly_demo, tmp_path):
    folder, config, _ = nightly_demo
    out = tmp_path / "tickets"
    result = CliRunner().invoke(
        app,
        ["report", "--config", str(config), "--channel", "ticket", "--top", "5", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    with open(out / "hasslemap-report.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    # --top counts the parents when there are two levels; every child of theirs is listed.
    assert 1 <= len([r for r in rows if not r["parent_id"]]) <= 5
    assert all(
        int(r["channel_review"] or 0) == 0 and int(r["channel_survey"] or 0) == 0 for r in rows
    )
    assert "channel: ticket" in (out / "hasslemap-report.md").read_text()

    bad = CliRunner().invoke(app, ["report", "--config", str(config), "--stage", "checkout"])
    assert bad.exit_code == 2 and "checkout" in bad.output


def test_the_demo_report_in_headless_chromium(nightly_demo, tmp_path):
    """The real demo report renders: a screenshot, the top label, and no script."""
    binary = chromium()
    folder, _, result = nightly_demo
    page = Path(result["stages"]["publish"]["report"])
    with connect(folder) as conn:
        top_label = conn.execute("SELECT label FROM v_latest_hassles WHERE rank = 1").fetchone()[0]
    shot = tmp_path / "report.png"
    run_chromium(
        binary, tmp_path, "shot", f"--screenshot={shot}", "--window-size=1280,2200", page.as_uri()
    )
    dom = run_chromium(binary, tmp_path, "dom", "--dump-dom", page.as_uri()).stdout
    assert shot.stat().st_size > 10_000 and top_label in dom
    assert dom_facts(dom).body_attrs is not None and "<script" not in dom
    if os.environ.get("HASSLEMAP_UPDATE_SCREENSHOT") == "1":
        shutil.copyfile(shot, REPO / "docs" / "report-screenshot.png")


# --- two levels: the demo's hassles grouped under parents (tests/conftest.py) --------------


def test_both_levels_are_ranked_each_within_its_level(two_level_demo):
    folder, _, result = two_level_demo
    with connect(folder) as conn:
        rows = conn.execute(
            "SELECT level, rank, hassle_id, parent_id, generic, specificity, comments, customers "
            "FROM hassle_rankings WHERE run_id = ? ORDER BY level, rank",
            [result["run_id"]],
        ).fetchall()
        # Distinct comments and customers of each parent's children, straight from the members.
        truth = dict(
            (parent, (comments, customers))
            for parent, comments, customers in conn.execute(
                """
                SELECT r.parent_id, count(DISTINCT c.comment_id),
                       count(DISTINCT coalesce(c.customer_id, c.comment_id))
                FROM hassle_members AS m
                JOIN hassle_runs AS r USING (run_id, hassle_id)
                JOIN units AS u USING (unit_id)
                JOIN comments AS c ON c.comment_id = u.comment_id
                WHERE m.run_id = (SELECT max_by(run_id, clustered_at) FROM cluster_runs)
                GROUP BY r.parent_id
                """
            ).fetchall()
        )
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM v_latest_hassles), "
            "(SELECT count(*) FROM v_latest_parent_hassles)"
        ).fetchone()
    children = [r for r in rows if r[0] == "child"]
    parents = [r for r in rows if r[0] == "parent"]
    stage = result["stages"]["rank"]
    assert len(parents) >= 2 and counts == (len(children), len(parents))
    assert (stage["hassles_ranked"], stage["parents_ranked"]) == counts
    assert [r[1] for r in children] == list(range(1, len(children) + 1))
    assert [r[1] for r in parents] == list(range(1, len(parents) + 1))
    assert all(r[3] is None for r in parents) and all(r[3] for r in children)
    for _, _, hassle_id, _, generic, _, comments, customers in parents:
        # A comment (and a customer) in two children of a parent counts once for the parent.
        assert (comments, customers) == truth[hassle_id]
        kids = [r for r in children if r[3] == hassle_id]
        assert sum(r[6] for r in kids) >= comments >= max(r[6] for r in kids)
        assert generic == all(r[4] for r in kids)
    for *_, generic, specificity, _, _ in children:
        assert specificity is not None and generic == (specificity < 0.5)  # rank.min_specificity
    assert any(r[4] for r in children) and not all(r[4] for r in children)


def test_the_report_opens_each_parent_into_its_children(two_level_demo):
    folder, _, result = two_level_demo
    publish = result["stages"]["publish"]
    html, markdown, rows = published_report(publish)
    with connect(folder) as conn:
        parents = conn.execute(
            "SELECT hassle_id, label, child_ids FROM v_latest_parent_hassles ORDER BY rank LIMIT 10"
        ).fetchall()
    expected = [
        row
        for parent, _, kids in parents
        for row in [(parent, "parent", ""), *((k, "child", parent) for k in kids)]
    ]
    assert [(r["hassle_id"], r["level"], r["parent_id"]) for r in rows] == expected
    for parent, label, kids in parents:
        section = html[html.index(f'id="{parent}"') :]
        details = section[section.index("<details") : section.index("</details>")]
        assert [details.index(f'id="{k}"') for k in kids] == sorted(
            details.index(f'id="{k}"') for k in kids
        )
        assert f"## #{parents.index((parent, label, kids)) + 1} " in markdown
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html


def test_the_run_summary_shows_parents_with_their_top_children(two_level_demo, capsys):
    from config import load_settings
    from config.taxonomy import load_enrich_config
    from flows.cli import _print_top_hassles
    from flows.report.artifacts import SUMMARY_CHILDREN, artifact_rows, summary_markdown
    from flows.report.build import build_report

    folder, config, result = two_level_demo
    settings = load_settings(str(config))
    _print_top_hassles(settings, 3)
    printed = capsys.readouterr().out
    with connect(folder) as conn:
        parents = conn.execute(
            "SELECT hassle_id, label, child_ids FROM v_latest_parent_hassles ORDER BY rank LIMIT 4"
        ).fetchall()
        data = build_report(
            conn, settings, load_enrich_config(settings), run_id=result["run_id"], top=3
        )
    assert "Top 3 hassle groups" in printed and "↳" in printed
    positions = [printed.index(p) for p, _, _ in parents[:3]]
    assert positions == sorted(positions) and parents[3][0] not in printed
    for parent, _, kids in parents[:3]:
        shown = [printed.index(k) for k in kids[:SUMMARY_CHILDREN]]
        assert printed.index(parent) < min(shown) and shown == sorted(shown)
        assert all(k not in printed for k in kids[SUMMARY_CHILDREN:])
    # The Prefect artifacts: the markdown summary likewise, the table with every child.
    summary = summary_markdown(data, None)
    assert summary.splitlines()[5].startswith(f"| 1 | {parents[0][1]} |")
    assert summary.count("| ↳ ") == sum(min(len(k), SUMMARY_CHILDREN) for *_, k in parents[:3])
    table = artifact_rows(data)
    assert [(r["hassle_id"], r["level"]) for r in table] == [
        row
        for parent, _, kids in parents[:3]
        for row in [(parent, "parent"), *((k, "child") for k in kids)]
    ]


def test_a_stage_filtered_group_quotes_only_the_children_in_that_stage(two_level_demo):
    from config import load_settings
    from config.taxonomy import load_enrich_config
    from flows.report.build import build_report
    from warehouse.ranking import ReportFilter

    folder, config, result = two_level_demo
    with connect(folder) as conn:
        # A group whose children are of more than one stage, and its smallest child's stage
        # (the group's own quotes come mostly from its biggest child).
        [(parent, stage)] = conn.execute(
            "SELECT parent_id, arg_min(stage, comments) FROM v_latest_hassles "
            "WHERE parent_id IS NOT NULL GROUP BY parent_id "
            "HAVING count(DISTINCT stage) > 1 ORDER BY parent_id LIMIT 1"
        ).fetchall()
        kept = {
            comment
            for (comment,) in conn.execute(
                "SELECT DISTINCT u.comment_id FROM v_latest_hassles AS h "
                "JOIN hassle_members AS m ON m.hassle_id = h.hassle_id "
                "AND m.run_id = (SELECT max_by(run_id, clustered_at) FROM cluster_runs) "
                "JOIN units AS u USING (unit_id) WHERE h.parent_id = ? AND h.stage = ?",
                [parent, stage],
            ).fetchall()
        }
    settings = load_settings(str(config))
    with duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True) as conn:
        data = build_report(
            conn,
            settings,
            load_enrich_config(settings),
            run_id=result["run_id"],
            filters=ReportFilter(stages=(stage,)),
        )
    [group] = [h for h in data.hassles if h.hassle_id == parent]
    assert group.quotes and {q.comment_id for q in group.quotes} <= kept
    assert "Comments matching the filters, any stage" in data.figures
    # The heatmap's "No stage" row counts comments; this figure says it counts sentences.
    assert "Pain-point sentences with no journey stage" in data.figures
