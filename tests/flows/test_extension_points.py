"""A new cluster method and a new source type, registered from outside the package, run nightly.

The clusterer (k-means) and the source type (a JSON API served by http.server on 127.0.0.1)
are defined here, as a user would define them in their own module: one class each, registered
by name, chosen by name in the settings. Nothing in the package changes.
"""

from __future__ import annotations

import csv
import json
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np
import pytest
import yaml
from conftest import REVIEW_FIELDS, QuietHandler, serving_locally

from config import IngestSettings, SourceConfig
from flows.nightly import nightly
from flows.sources.base import ReadStats, SourceItem, register_source_type
from flows.sources.readers import RawItem
from nlp.cluster import Clustering, clustering_from_labels, register_clusterer

pytestmark = pytest.mark.usefixtures("prefect_server")

# --- a new cluster method: k-means ------------------------------------------------------------

KMEANS_CALLS: list[int] = []


@dataclass(frozen=True)
class KMeansParams:
    """k-means: how many clusters, and the seed."""

    k: int = 5
    seed: int = 0


@register_clusterer("test_kmeans", KMeansParams)
class KMeansClusterer:
    """Every unit in one of ``k`` clusters."""

    def __init__(self, params: KMeansParams) -> None:
        self.params = params

    def cluster(self, vectors: np.ndarray, tags: Any = None) -> Clustering:
        from sklearn.cluster import KMeans

        KMEANS_CALLS.append(len(vectors))
        k = min(self.params.k, len(vectors))
        labels = KMeans(n_clusters=k, random_state=self.params.seed, n_init=3).fit_predict(vectors)
        return clustering_from_labels(vectors, labels)


# --- a new source type: a JSON API that lists comments after a sequence number ------------------


class JsonApiSourceConfig(SourceConfig):
    """A JSON API: ``GET url?after=N`` answers the comments with ``seq`` above N."""

    type: Literal["test_json_api"] = "test_json_api"
    url: str


@register_source_type("test_json_api", JsonApiSourceConfig)
class JsonApiSource:
    """One page per run: the comments after the last ``seq`` read (the state's ``after``)."""

    def __init__(self, source: JsonApiSourceConfig, ingest: IngestSettings) -> None:
        self.source = source

    def where(self) -> str:
        return self.source.url

    def list_new(self, state: dict[str, Any], stats: ReadStats) -> Iterator[SourceItem]:
        after = int(state.get("after", 0))
        query = urllib.parse.urlencode({"after": after})
        with urllib.request.urlopen(f"{self.source.url}?{query}", timeout=10) as answer:
            records = json.load(answer)
        stats.files_found += 1
        if not records:
            stats.files_skipped += 1
            return
        last = max(int(r["seq"]) for r in records)
        yield SourceItem(
            key=str(last), location=self.source.url, version=f"after={after}", handle=records
        )

    def read(self, item: SourceItem) -> Iterator[RawItem]:
        for position, record in enumerate(item.handle, start=1):
            yield RawItem(position, record, json.dumps(record))

    def mark_read(self, state: dict[str, Any], item: SourceItem) -> None:
        state["after"] = max(int(r["seq"]) for r in item.handle)


class _Api(QuietHandler):
    server: CommentApi

    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        after = int(urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)["after"][0])
        self.server.asked.append(after)
        body = json.dumps([r for r in self.server.comments if r["seq"] > after]).encode()
        self.reply(200, "application/json", body)


class CommentApi(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, comments: list[dict[str, Any]]) -> None:
        super().__init__(("127.0.0.1", 0), _Api)
        self.comments = comments
        self.asked: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/comments"


def demo_reviews(demo_dir: Path, n: int) -> list[dict[str, Any]]:
    """The first ``n`` demo reviews as API records, numbered by ``seq``."""
    with (demo_dir / "reviews" / "reviews.csv").open(encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("id") and r.get("date")][:n]
    return [{**row, "seq": seq} for seq, row in enumerate(rows, start=1)]


def test_nightly_runs_a_clusterer_and_a_source_type_registered_outside_the_package(
    tmp_path, demo_dir, monkeypatch
):
    comments = demo_reviews(demo_dir, 600)
    with serving_locally(CommentApi(comments), monkeypatch) as api:
        source = {
            "type": "test_json_api",
            "name": "posts_api",
            "channel": "social",
            "url": api.url,
            "fields": {k: v for k, v in REVIEW_FIELDS.items() if k != "rating"},
        }
        config = tmp_path / "hasslemap.yaml"
        settings = {
            "warehouse": str(tmp_path / "warehouse.duckdb"),
            "report": {"out_dir": str(tmp_path / "reports")},
            "sources": [source],
            "cluster": {"method": "test_kmeans", "k": 4, "seed": 1},
        }
        config.write_text(yaml.safe_dump(settings), encoding="utf-8")
        KMEANS_CALLS.clear()

        first = nightly(str(config))
        second = nightly(str(config))

    ingest, clustered = first["stages"]["ingest"], first["stages"]["cluster"]
    assert ingest["comments_new"] == len(comments) and ingest["quarantined"] == 0
    assert clustered["skipped"] is False and clustered["mode"] == "full"
    assert [clustered["units_in"]] == KMEANS_CALLS  # the units went to k-means, once
    assert clustered["hassles"] == 4 and clustered["units_clustered"] == clustered["units_in"]
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        assert conn.execute(
            "SELECT DISTINCT source, channel, source_file FROM comments"
        ).fetchall() == [("posts_api", "social", api.url)]
        [(method, k, mcs)] = conn.execute(
            "SELECT params->>'method', params->>'k', min_cluster_size FROM cluster_runs"
        ).fetchall()
        assert (method, k, mcs) == ("test_kmeans", "4", None)
        children = conn.execute(
            "SELECT count(*) FROM hassles WHERE level = 'child' AND status <> 'retired'"
        ).fetchone()[0]
        assert children == 4

    # The second night asks the API for what came after the last comment read, gets nothing,
    # and so ingests, embeds and clusters nothing.
    assert api.asked == [0, len(comments)]
    again = second["stages"]["ingest"]
    assert again["comments_new"] == 0 and again["records_read"] == 0
    assert second["stages"]["cluster"]["skipped"] is True
    assert [clustered["units_in"]] == KMEANS_CALLS
