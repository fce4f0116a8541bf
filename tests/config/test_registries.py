"""The registries the settings read: channels, cluster methods, source types."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from config import ConfigError, FilesSourceConfig, SourceConfig, load_settings
from config.channels import CHANNEL_NAMES, CHANNELS, normalise_defaults
from config.sources import CHANNEL_NORMALISE, register_source_settings
from config.stages import ClusterSettings
from nlp.cluster import register_clusterer
from nlp.clusterers.hdbscan import ClusterParams

FIELDS = {"external_id": "id", "created_at": "at", "text": ["text"]}


def write(tmp_path, text):
    path = tmp_path / "hasslemap.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_channels_are_declared_once_with_their_defaults():
    assert CHANNEL_NAMES == ("review", "ticket", "survey", "social")
    assert {c: normalise_defaults(c) for c in CHANNEL_NAMES} == CHANNEL_NORMALISE
    assert CHANNEL_NORMALISE["ticket"] == {} and CHANNEL_NORMALISE["review"] == {
        "quoted_replies": False
    }
    assert not CHANNELS["social"].report_column


def test_a_social_source_cleans_handles_and_hashtags_but_keeps_quoted_lines():
    source = FilesSourceConfig(
        name="tweets", channel="social", path="x", format="jsonl", fields=FIELDS
    )
    rules = source.normalise_rules()
    assert rules["handles"] and rules["hashtags"] and rules["urls"]
    assert rules["quoted_replies"] is False


def test_cluster_keys_beside_the_stage_keys_are_the_method_parameters():
    settings = ClusterSettings(window_days=30, min_cluster_size=12, selection="leaf")

    assert settings.method == "hdbscan" and settings.window_days == 30
    assert settings.method_params() == ClusterParams(min_cluster_size=12, selection="leaf")
    dumped = settings.model_dump()
    assert dumped["min_cluster_size"] == 12 and dumped["method"] == "hdbscan"
    assert "params" not in dumped
    assert ClusterSettings.model_validate(dumped) == settings


def test_a_cluster_parameter_of_another_method_is_refused_with_its_name(tmp_path):
    @dataclass(frozen=True)
    class OnlyK:
        k: int = 3

    register_clusterer("test_only_k", OnlyK)(lambda params: None)

    ok = load_settings(write(tmp_path, "cluster: {method: test_only_k, k: 7}\n"))
    assert ok.cluster.params == {"k": 7}
    with pytest.raises(ConfigError, match="unknown key 'min_cluster_size' for cluster method"):
        load_settings(write(tmp_path, "cluster: {method: test_only_k, min_cluster_size: 7}\n"))
    # Switching methods with the other's settings still in the file: every one named at once.
    with pytest.raises(
        ConfigError,
        match="unknown keys 'min_cluster_size', 'reduction' for cluster method 'test_only_k'",
    ):
        load_settings(
            write(tmp_path, "cluster: {method: test_only_k, min_cluster_size: 7, reduction: pca}\n")
        )
    with pytest.raises(ConfigError, match="unknown cluster method 'kmeanz'"):
        load_settings(write(tmp_path, "cluster: {method: kmeanz}\n"))
    with pytest.raises(ConfigError, match="key 'min_cluster_size': Input should be greater"):
        load_settings(write(tmp_path, "cluster: {min_cluster_size: 1}\n"))


def test_sources_are_files_by_default_and_other_types_bring_their_own_fields(tmp_path):
    class QueueSourceConfig(SourceConfig):
        type: Literal["test_queue"] = "test_queue"
        queue: str

    register_source_settings("test_queue", QueueSourceConfig)
    text = (
        "sources:\n"
        "  - {name: files_one, channel: review, path: in/*.csv, format: csv,\n"
        "     fields: {external_id: id, created_at: at, text: [text]}}\n"
        "  - {type: test_queue, name: queued, channel: social, queue: posts,\n"
        "     fields: {external_id: id, created_at: at, text: [text]}}\n"
    )
    files, queued = load_settings(write(tmp_path, text)).sources

    assert isinstance(files, FilesSourceConfig) and files.type == "files"
    assert isinstance(queued, QueueSourceConfig) and queued.queue == "posts"
    missing = "sources:\n  - {type: test_queue, name: q, channel: social, fields: {external_id: id, created_at: at, text: [text]}}\n"
    with pytest.raises(ConfigError, match=r"key 'sources\[0\]\.queue': required but missing"):
        load_settings(write(tmp_path, missing))
    with pytest.raises(ConfigError, match="unknown source type 'ftp'"):
        load_settings(write(tmp_path, text.replace("test_queue", "ftp")))


def test_a_files_fingerprint_is_the_one_from_before_source_types():
    source = FilesSourceConfig(name="r", channel="review", path="x", format="csv", fields=FIELDS)
    # The hash a source had before source types existed (9857bc7): no file is read again.
    assert source.fingerprint() == "b1f4fcba4358"
