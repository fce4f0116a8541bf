"""A night with new data, as the scheduled run meets it.

One module fixture copies the demo workspace (and runs once on it, as sources moved), adds
two newer demo days (which plant a new
hassle, promo codes being rejected), then, with a webhook receiver on 127.0.0.1 and three
processes reading the analyst snapshot in a loop, runs ``nightly`` and then runs it again.
The tests check that run from every side: only the new comments were processed (through the
per-stage counts in ``runs``), hassle ids held, the new hassle was announced exactly once,
and no analyst query failed or saw a mix of two snapshots.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml
from conftest import (
    RECOGNISABLE,
    copy_workspace,
    demo_sources,
    dominant_hassles,
    latest_members,
    planted_units,
    running_webhook,
)

from config.stages import AlertSettings
from config.taxonomy import load_taxonomy
from flows.alerts import escape_mrkdwn
from flows.demo import DemoSpec, write_demo_data
from flows.nightly import nightly
from warehouse.alerts import read_alert_candidates

pytestmark = pytest.mark.usefixtures("prefect_server")

READERS = 3

# Everything one analyst query sees of a snapshot; two snapshots never share all of it.
SIGNATURE_SQL = {
    "snapshot_run": "SELECT run_id FROM snapshot_info",
    "ranking_runs": "SELECT list(DISTINCT run_id ORDER BY run_id) FROM v_latest_hassles",
    "ranked": "SELECT count(*) FROM v_latest_hassles",
    "top": "SELECT list(hassle_id ORDER BY rank) FROM v_latest_hassles WHERE rank <= 5",
    "comments": "SELECT count(*) FROM comments",
    "hassles": "SELECT count(*) FROM hassles",
    "runs": "SELECT count(*) FROM runs",
}

# A read-only analyst in a loop: one connection per query, as a notebook or BI tool would,
# until the stop file appears. Each line is one query's signature, or the error it hit.
READER = f"""
import json, os, sys, time
import duckdb
path, stop = sys.argv[1], sys.argv[2]
queries = {SIGNATURE_SQL!r}
while not os.path.exists(stop):
    try:
        with duckdb.connect(path, read_only=True, config={{"threads": 1}}) as con:
            seen = {{k: con.execute(q).fetchone()[0] for k, q in queries.items()}}
        print(json.dumps({{"ok": True, "seen": seen}}), flush=True)
    except Exception as exc:
        print(json.dumps({{"ok": False, "error": repr(exc)}}), flush=True)
    time.sleep(0.05)
"""


def snapshot_signature(path: Path) -> dict[str, Any]:
    """The signature the readers record, read here directly."""
    with duckdb.connect(str(path), read_only=True) as con:
        seen = {k: con.execute(q).fetchone()[0] for k, q in SIGNATURE_SQL.items()}
    return json.loads(json.dumps(seen))  # the same JSON types the readers report


def connect(folder: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(folder / "warehouse.duckdb"), read_only=True)


def stage_counts(folder: Path, run_id: str) -> dict[str, Any]:
    with connect(folder) as conn:
        [(status, counts)] = conn.execute(
            "SELECT status, stage_counts FROM runs WHERE run_id = ?", [run_id]
        ).fetchall()
    assert status == "completed"
    return json.loads(counts)


@dataclass
class NewDays:
    """What the fixture saw: the folders, both runs, the alerts and the readers' queries."""

    work: Path
    data: Path
    extra_files: list[Path]
    before: dict[str, Any]
    result: dict[str, Any]
    rerun: dict[str, Any]
    posts_after_run: list[dict[str, Any]]
    posts_after_rerun: list[dict[str, Any]]
    old_snapshot: dict[str, Any]
    new_snapshot: dict[str, Any]
    observations: list[list[dict[str, Any]]]


def read_observations(file: Path) -> list[dict[str, Any]]:
    """A reader's lines so far; a last line still being written is left out."""
    lines = file.read_text().splitlines()
    observations = []
    for number, line in enumerate(lines, 1):
        try:
            observations.append(json.loads(line))
        except json.JSONDecodeError:
            if number < len(lines):
                raise
    return observations


def wait_for_readers(files: list[Path], done: Any, timeout: float = 60) -> None:
    """Wait until ``done(observations)`` holds for every reader's observations so far."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = [read_observations(f) for f in files]
        if all(done(s) for s in seen):
            return
        time.sleep(0.1)
    raise AssertionError(f"readers stalled after {[len(s) for s in seen]} queries")


def saw_run(run_id: str) -> Any:
    """A condition: the reader's latest successful query saw the snapshot of ``run_id``."""

    def done(observations: list[dict[str, Any]]) -> bool:
        ok = [o for o in observations if o["ok"]]
        return bool(ok) and ok[-1]["seen"]["snapshot_run"] == run_id

    return done


@pytest.fixture(scope="module")
def new_days(nightly_demo, demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> NewDays:
    folder, _, _ = nightly_demo
    root = tmp_path_factory.mktemp("new_days")
    data = root / "demo"
    shutil.copytree(demo_dir, data)
    work = root / "work"
    config = copy_workspace(folder, work, demo_sources(data))
    with config.open("a", encoding="utf-8") as f:
        f.write(f"report:\n  out_dir: {work / 'reports'}\n")
    # The copied demo files sit at a new path, so this run reads them again (merging nothing):
    # from here on, the only new files are the two new days.
    nightly(str(config))
    snapshot = work / "warehouse-analyst.duckdb"
    more = root / "more"
    write_demo_data(more, DemoSpec(extra_days=2))
    extra_files = []
    for extra in sorted(more.glob("*/*_extra.*")):
        extra_files.append(data / extra.parent.name / extra.name)
        shutil.copy2(extra, extra_files[-1])
    shutil.copy2(more / "truth.csv", data / "truth.csv")

    with connect(work) as conn:
        planted = planted_units(conn, demo_dir / "truth.csv")
        before = {
            "comment_ids": {
                c for (c,) in conn.execute("SELECT comment_id FROM comments").fetchall()
            },
            "embeddings": conn.execute("SELECT count(*) FROM embeddings").fetchone()[0],
            "dominant": dominant_hassles(planted, latest_members(conn)),
            "hassles": conn.execute(
                "SELECT hassle_id, level, parent_id, label FROM hassles "
                "WHERE status <> 'retired' ORDER BY 1"
            ).fetchall(),
        }
    old_snapshot = snapshot_signature(snapshot)

    with pytest.MonkeyPatch.context() as patch, running_webhook(patch) as hook:
        with config.open("a", encoding="utf-8") as f:
            f.write(f"alerts:\n  webhook_url: {hook.url}/hook\n")
        stop = root / "stop-readers"
        outputs = [root / f"reader-{i}.jsonl" for i in range(READERS)]
        readers = []
        try:
            for out in outputs:
                with out.open("w") as sink:
                    readers.append(
                        subprocess.Popen(
                            [sys.executable, "-c", READER, str(snapshot), str(stop)],
                            stdout=sink,
                            stderr=subprocess.STDOUT,
                        )
                    )
            # Every reader is querying the old snapshot before the run starts ...
            wait_for_readers(outputs, saw_run(old_snapshot["snapshot_run"]))
            result = nightly(str(config))
            # ... and keeps querying until it has seen the new one.
            wait_for_readers(outputs, saw_run(result["run_id"]))
        finally:
            stop.touch()
            for reader in readers:
                try:
                    reader.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    reader.kill()
                    reader.wait(timeout=30)
        posts_after_run = hook.bodies()
        new_snapshot = snapshot_signature(snapshot)
        rerun = nightly(str(config))
        posts_after_rerun = hook.bodies()[len(posts_after_run) :]

    return NewDays(
        work=work,
        data=data,
        extra_files=extra_files,
        before=before,
        result=result,
        rerun=rerun,
        posts_after_run=posts_after_run,
        posts_after_rerun=posts_after_rerun,
        old_snapshot=old_snapshot,
        new_snapshot=new_snapshot,
        observations=[read_observations(out) for out in outputs],
    )


# --- only what is new is processed ------------------------------------------------------------


def test_the_new_day_run_ingests_only_the_new_files(new_days: NewDays):
    ingest = stage_counts(new_days.work, new_days.result["run_id"])["ingest"]
    with connect(new_days.work) as conn:
        rows = conn.execute("SELECT comment_id, source_file FROM comments").fetchall()
    new = {c: f for c, f in rows if c not in new_days.before["comment_ids"]}
    assert ingest["files_read"] == len(new_days.extra_files) == 3
    assert ingest["files_skipped"] == 3  # the base files, unchanged since the first run
    assert ingest["comments_new"] == len(new) > 20 and ingest["comments_updated"] == 0
    assert {Path(f) for f in new.values()} == set(new_days.extra_files)
    assert ingest["comments_total"] == len(rows)


def test_the_new_day_run_enriches_and_embeds_only_the_new_comments(new_days: NewDays):
    counts = stage_counts(new_days.work, new_days.result["run_id"])
    enrich = counts["enrich"]
    with connect(new_days.work) as conn:
        units = conn.execute("SELECT comment_id FROM units").fetchall()
        embeddings = conn.execute("SELECT count(*) FROM embeddings").fetchone()[0]
    new_units = [c for (c,) in units if c not in new_days.before["comment_ids"]]
    assert enrich["comments_enriched"] == counts["ingest"]["comments_new"]
    assert enrich["units_written"] == len(new_units) > 0
    # Only texts never seen before get a vector; the taxonomy's examples are not re-embedded.
    assert enrich["texts_embedded"] == embeddings - new_days.before["embeddings"]
    assert 0 < enrich["texts_embedded"] <= len(new_units)
    assert enrich["examples_embedded"] == 0
    assert counts["cluster"]["skipped"] is False  # the window changed, so it is re-clustered


def test_a_rerun_with_nothing_new_processes_nothing(new_days: NewDays):
    counts = stage_counts(new_days.work, new_days.rerun["run_id"])
    assert counts["ingest"]["comments_new"] == 0 and counts["ingest"]["files_read"] == 0
    assert counts["enrich"]["comments_enriched"] == 0
    assert counts["cluster"]["skipped"] is True


# --- hassle ids hold, and the planted new hassle is new ----------------------------------------


def test_new_days_keep_existing_ids_and_the_new_hassle_is_new(new_days: NewDays):
    # One new day plants 8 or 9 promo-code complaints, under min_cluster_size (10): a hassle
    # needs two days of them to be a recurring one.
    with connect(new_days.work) as conn:
        planted = planted_units(conn, new_days.data / "truth.csv")
        members = latest_members(conn)
        status = dict(conn.execute("SELECT hassle_id, status FROM hassles").fetchall())
        first_run = dict(conn.execute("SELECT hassle_id, first_run_id FROM hassles").fetchall())
    dominant = dominant_hassles(planted, members)
    for hassle in RECOGNISABLE:
        assert dominant[hassle] == new_days.before["dominant"][hassle], hassle
        assert status[dominant[hassle]] == "active"
    promo = dominant["promo_code_rejected"]
    assert status[promo] == "new" and first_run[promo] == new_days.result["run_id"]
    assert promo not in new_days.before["dominant"].values()


def test_new_days_keep_the_ids_of_both_levels_no_merge_no_split(new_days: NewDays):
    counts = stage_counts(new_days.work, new_days.result["run_id"])["cluster"]
    # Two new days are about 2% new text: the night builds on the last full clustering.
    assert counts["mode"] == "incremental"
    assert counts["hassles_retired"] == 0 and counts["parents_retired"] == 0
    with connect(new_days.work) as conn:
        after = {
            h: (level, parent, status, label)
            for h, level, parent, status, label in conn.execute(
                "SELECT hassle_id, level, parent_id, status, label FROM hassles"
            ).fetchall()
        }
        lineage = conn.execute(
            "SELECT count(*) FROM hassle_lineage WHERE run_id = ?", [new_days.result["run_id"]]
        ).fetchone()[0]
    assert new_days.before["hassles"] and lineage == 0
    levels = {level for _, level, _, _ in new_days.before["hassles"]}
    assert levels == {"child", "parent"}
    for hassle_id, level, parent, label in new_days.before["hassles"]:
        # Every hassle of either level is still there, at its level, under the same parent,
        # and (the same units still saying it) with the same label.
        assert after[hassle_id] == (level, parent, "active", label), hassle_id
    # The new hassle (promo codes) is a new child; its parent is an existing one or new.
    new = {h: v for h, v in after.items() if v[2] == "new"}
    assert {v[0] for v in new.values()} <= {"child", "parent"}
    assert sum(1 for v in new.values() if v[0] == "child") == counts["hassles_new"] >= 1


# --- alerts: the new hassle exactly once ------------------------------------------------------


def test_the_planted_new_hassle_is_announced_once_and_not_on_the_rerun(new_days: NewDays):
    with connect(new_days.work) as conn:
        planted = planted_units(conn, new_days.data / "truth.csv")
        promo = dominant_hassles(planted, latest_members(conn))["promo_code_rejected"]
        [(label, stage, theme)] = conn.execute(
            "SELECT label, stage, theme FROM hassles WHERE hassle_id = ?", [promo]
        ).fetchall()
        sent = conn.execute(
            "SELECT hassle_id, state, channel FROM alerts_sent WHERE run_id = ? AND state = 'new'",
            [new_days.result["run_id"]],
        ).fetchall()
    [payload] = new_days.posts_after_run  # one message for the night
    header, *sections, context = payload["blocks"]
    [section] = sections  # naming one hassle: the planted one
    text = section["text"]["text"]
    assert escape_mrkdwn(label) in text
    taxonomy = load_taxonomy()  # named as the report names them
    stages, themes = ({t.key: t.name for t in ts} for ts in (taxonomy.stages, taxonomy.themes))
    assert f"Stage: *{stages[stage]}*" in text and f"Theme: *{themes[theme]}*" in text
    assert "hasslemap-report.html" in context["elements"][0]["text"]
    assert sent == [(promo, "new", "webhook")]
    assert new_days.posts_after_rerun == []
    assert new_days.rerun["stages"]["alerts"]["alerts_sent"] == 0


def test_only_the_emerging_new_hassle_alerts_not_those_regrouped_from_old_comments(
    new_days: NewDays,
):
    with connect(new_days.work) as conn:
        planted = planted_units(conn, new_days.data / "truth.csv")
        promo = dominant_hassles(planted, latest_members(conn))["promo_code_rejected"]
        fresh = {
            row["hassle_id"]: row["fresh_share"]
            for row in read_alert_candidates(conn, new_days.result["run_id"])
            if row["status"] == "new"
        }
    threshold = AlertSettings().new_min_fresh_share
    # The planted hassle is the one emerging; any other new cluster tonight was regrouped from
    # comments the last clustering already had (measured: 0.02), and was not announced.
    assert {hassle for hassle, share in fresh.items() if share >= threshold} == {promo}
    regrouped = {hassle for hassle, share in fresh.items() if share < threshold}
    assert new_days.result["stages"]["alerts"]["new_regrouped"] == len(regrouped)


# --- analysts reading the snapshot throughout -------------------------------------------------


def test_no_analyst_query_failed_during_the_run(new_days: NewDays):
    failures = [o["error"] for reader in new_days.observations for o in reader if not o["ok"]]
    assert failures == []
    assert all(len(reader) >= 2 for reader in new_days.observations)


def test_every_query_saw_the_old_snapshot_or_the_new_one_never_a_mix(new_days: NewDays):
    old, new = new_days.old_snapshot, new_days.new_snapshot
    assert old != new and new["snapshot_run"] == new_days.result["run_id"]
    assert new["ranking_runs"] == [new_days.result["run_id"]]
    for reader in new_days.observations:
        seen = [o["seen"] for o in reader]
        assert all(s in (old, new) for s in seen)
        # Each reader saw the old one first, then the new one, and never went back.
        assert seen[0] == old and seen[-1] == new
        switched = seen.index(new)
        assert all(s == new for s in seen[switched:])


def test_an_edited_comment_is_voted_in_again_not_kept_in_its_old_hassle(
    nightly_demo, demo_dir: Path, tmp_path: Path
):
    """Its new sentences take the old unit ids: keeping their membership kept the old text's."""
    import csv
    import io

    data = tmp_path / "data"
    shutil.copytree(demo_dir, data)
    config = copy_workspace(nightly_demo[0], tmp_path / "ws", demo_sources(data))
    settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    settings["report"] = {"out_dir": str(tmp_path / "reports")}  # not the working tree's var/
    config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    with connect(tmp_path / "ws") as conn:
        latest = "(SELECT max_by(run_id, clustered_at) FROM cluster_runs)"
        # A one-sentence review in one hassle, and a one-sentence review of another hassle.
        members = conn.execute(
            "SELECT c.external_id, m.hassle_id, c.text FROM hassle_members AS m "
            "JOIN units AS u USING (unit_id) JOIN comments AS c ON c.comment_id = u.comment_id "
            "JOIN comment_enrichment AS e ON e.comment_id = c.comment_id "
            f"WHERE m.run_id = {latest} AND c.channel = 'review' AND e.unit_count = 1 "
            "ORDER BY c.external_id"
        ).fetchall()
    edited, old_hassle, _ = members[0]
    new_text = next(text for _, hassle, text in members if hassle != old_hassle)
    # The file holds the demo's malformed rows too: only the edited line is rewritten.
    reviews = data / "reviews" / "reviews.csv"
    lines = reviews.read_text(encoding="utf-8").splitlines(keepends=True)
    [at] = [i for i, line in enumerate(lines) if line.startswith(f"{edited},")]
    [fields] = list(csv.reader([lines[at]]))
    fields[3], fields[4] = "", new_text  # id, author, rating, title, body, date, product
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerow(fields)
    lines[at] = out.getvalue()
    reviews.write_text("".join(lines), encoding="utf-8")

    result = nightly(str(config))

    assert result["stages"]["ingest"]["comments_updated"] == 1
    assert result["stages"]["cluster"]["mode"] == "incremental"
    with connect(tmp_path / "ws") as conn:
        now_in = conn.execute(
            "SELECT m.hassle_id FROM hassle_members AS m JOIN units AS u USING (unit_id) "
            "JOIN comments AS c ON c.comment_id = u.comment_id "
            f"WHERE m.run_id = {latest} AND c.external_id = ?",
            [edited],
        ).fetchall()
    assert (old_hassle,) not in now_in
