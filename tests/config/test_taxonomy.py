"""config.taxonomy: a taxonomy or labelled-examples file a user edits fails when read, naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from config import ConfigError, load_settings
from config.taxonomy import (
    BUNDLED_TAXONOMY,
    load_enrich_config,
    load_taxonomy,
    read_labelled_examples,
)


def _with_pattern(tmp_path: Path, pattern: list[dict]) -> Path:
    taxonomy = yaml.safe_load(BUNDLED_TAXONOMY.read_text(encoding="utf-8"))
    taxonomy["stages"][0]["patterns"] = [pattern]
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ([{"LEMMA": "start", "OP": "++"}], "OP"),
        ([{"LEMMA": {"IN": "start"}}], "IN"),
        ([{"LENGTH": "long"}], "LENGTH"),
        ([{"LEMMAS": "start"}], "LEMMAS"),
    ],
)
def test_a_pattern_spacy_would_refuse_fails_when_the_taxonomy_is_read(tmp_path, pattern, says):
    """Not in enrich, after ingest has written: spaCy's own schema checks it on load."""
    path = _with_pattern(tmp_path, pattern)
    with pytest.raises(
        ConfigError, match=r"stages\[need_awareness\]\.patterns.*pattern 0 is no spaCy"
    ) as err:
        load_taxonomy(path)
    assert str(path) in str(err.value) and says in str(err.value)


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ([{"LEMMA": {"REGEX": "log(in"}}], "pattern 0 holds a REGEX that is no regex (missing )"),
        ([{"OP": "*"}], "pattern 0 matches every sentence"),
        ([{}, {"LOWER": "out", "OP": "?"}], "pattern 0 matches every sentence"),
        ([{"LOWER": "refund", "OP": "!"}], "pattern 0 matches every sentence"),
    ],
)
def test_a_pattern_with_a_broken_regex_or_that_matches_everything_is_one_line(
    tmp_path, pattern, says
):
    path = _with_pattern(tmp_path, pattern)
    with pytest.raises(ConfigError) as err:
        load_taxonomy(path)
    assert says in str(err.value) and "stages[need_awareness].patterns" in str(err.value)
    assert len(str(err.value).splitlines()) == 2  # "invalid taxonomy:", then the problem


def test_a_label_is_named_by_its_key_and_an_empty_list_says_to_add_one(tmp_path):
    taxonomy = yaml.safe_load(BUNDLED_TAXONOMY.read_text(encoding="utf-8"))
    key = taxonomy["themes"][5]["key"]
    taxonomy["themes"][5]["examples"] = []
    taxonomy["stages"][1]["key"] = "Bad Key"  # an invalid key is named by its place
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_taxonomy(path)
    said = str(err.value)
    assert f"key 'themes[{key}].examples': needs at least 1 item(s), has 0; add one" in said
    assert "key 'stages[1].key'" in said


@pytest.mark.parametrize("given", ["left out", "empty"])
def test_a_taxonomy_without_no_hassle_examples_is_refused(tmp_path, given):
    """Without them every sentence was a pain point, silently (session 42's adopter probe)."""
    taxonomy = yaml.safe_load(BUNDLED_TAXONOMY.read_text(encoding="utf-8"))
    if given == "left out":
        del taxonomy["no_hassle"]
    else:
        taxonomy["no_hassle"] = []
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_taxonomy(path)
    said = str(err.value)
    assert "key 'no_hassle'" in said and "every sentence would be a pain point" in said


def test_any_attribute_spacys_matcher_knows_is_accepted(tmp_path):
    path = _with_pattern(tmp_path, [{"SHAPE": "dd"}, {"LOWER": {"IN": ["days", "weeks"]}}])
    assert load_taxonomy(path).stages[0].patterns[0][0] == {"SHAPE": "dd"}


@pytest.mark.parametrize("make", ["missing", "folder", "latin-1"])
def test_a_labelled_examples_file_that_cannot_be_read_names_the_setting(tmp_path, make):
    path = tmp_path / "labelled.csv"
    if make == "folder":
        path.mkdir()
    elif make == "latin-1":
        path.write_bytes("text,label\nLe caf\u00e9 \u00e9tait froid,usage\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"tagging\.labelled_examples") as err:
        read_labelled_examples(path, load_taxonomy())
    assert str(path) in str(err.value)


def test_an_unknown_taxonomy_key_points_at_the_bundled_taxonomy(tmp_path):
    taxonomy = yaml.safe_load(BUNDLED_TAXONOMY.read_text(encoding="utf-8"))
    taxonomy["stages"][0]["exmples"] = ["typo"]
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"exmples': unknown key.*against config/taxonomy\.yaml"):
        load_taxonomy(path)


def test_a_label_that_is_both_a_stage_and_a_theme_needs_its_dimension(tmp_path):
    taxonomy = yaml.safe_load(BUNDLED_TAXONOMY.read_text(encoding="utf-8"))
    shared = taxonomy["stages"][0]["key"]
    taxonomy["themes"][0]["key"] = shared
    path = tmp_path / "taxonomy.yaml"
    path.write_text(yaml.safe_dump(taxonomy), encoding="utf-8")
    labelled = tmp_path / "labelled.csv"
    labelled.write_text(f"text,label,dimension\nWhere do I start,{shared},\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"row 2: .* is both a stage and a theme key"):
        read_labelled_examples(labelled, load_taxonomy(path))
    labelled.write_text(
        f"text,label,dimension\nWhere do I start,{shared},theme\n", encoding="utf-8"
    )
    assert read_labelled_examples(labelled, load_taxonomy(path)) == [
        ("theme", shared, "Where do I start")
    ]


def test_a_missing_taxonomy_file_names_the_config_file_and_the_key(tmp_path):
    config = tmp_path / "hasslemap.yaml"
    config.write_text(yaml.safe_dump({"tagging": {"taxonomy": str(tmp_path / "taxonomy.yml")}}))
    settings = load_settings(config, environ={})
    with pytest.raises(ConfigError) as err:
        load_enrich_config(settings)
    assert f"{config}: key 'tagging.taxonomy'" in str(err.value)
    assert "taxonomy.yml is not a file" in str(err.value)
