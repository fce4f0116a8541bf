"""check_ready: what the settings name is there before a run does any work (issue 11)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import review_source, without_dac_override

from config import ConfigError, load_settings
from config.preflight import check_ready


def _settings(tmp_path, sources, **extra):
    data = {"warehouse": str(tmp_path / "w.duckdb"), "sources": sources, **extra}
    path = tmp_path / "hasslemap.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_settings(path, environ={})


def test_a_source_folder_that_does_not_exist_is_an_error(tmp_path):
    settings = _settings(tmp_path, [review_source(tmp_path / "exports" / "*.csv")])
    with pytest.raises(
        ConfigError, match=r"key 'sources\[0\]\.path': folder .*exports does not exist"
    ):
        check_ready(settings)


def test_an_existing_folder_with_no_matching_file_is_a_warning(tmp_path):
    (tmp_path / "exports").mkdir()
    settings = _settings(tmp_path, [review_source(tmp_path / "exports" / "*.csv")])
    [warning] = check_ready(settings)
    assert "source reviews: no file matches" in warning and "exports" in warning


def test_a_matching_file_needs_no_warning(tmp_path):
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "a.csv").write_text("id\n")
    assert check_ready(_settings(tmp_path, [review_source(tmp_path / "exports" / "*.csv")])) == []


def test_a_report_folder_that_is_a_file_is_an_error(tmp_path):
    (tmp_path / "reports").write_text("not a folder")
    settings = _settings(tmp_path, [], report={"out_dir": str(tmp_path / "reports")})
    with pytest.raises(ConfigError, match=r"key 'report\.out_dir': .*reports is a file"):
        check_ready(settings)


def test_a_snapshot_on_the_warehouse_itself_is_an_error(tmp_path):
    # The snapshot is renamed onto its path: on the warehouse's, it would replace the warehouse.
    settings = _settings(tmp_path, [], snapshot={"path": str(tmp_path / "w.duckdb")})
    with pytest.raises(ConfigError, match=r"key 'snapshot\.path': .*w\.duckdb is the warehouse"):
        check_ready(settings)


def test_a_file_setting_that_names_a_folder_is_an_error(tmp_path):
    (tmp_path / "snap").mkdir()
    (tmp_path / "exports").mkdir()
    settings = _settings(
        tmp_path,
        [review_source(tmp_path / "exports")],
        snapshot={"path": str(tmp_path / "snap")},
    )
    with pytest.raises(ConfigError) as raised:
        check_ready(settings)
    assert "key 'snapshot.path': " in str(raised.value) and "snap is a folder" in str(raised.value)
    assert "key 'sources[0].path': " in str(raised.value) and "exports/*.csv" in str(raised.value)


def test_a_missing_spacy_model_is_an_error(tmp_path):
    settings = _settings(tmp_path, [], models={"spacy": "en_core_web_nonexistent_xyz"})
    with pytest.raises(
        ConfigError, match=r"key 'models\.spacy': spaCy pipeline 'en_core_web_nonexistent_xyz'"
    ):
        check_ready(settings)


def test_a_missing_embedding_model_folder_is_an_error(tmp_path):
    settings = _settings(tmp_path, [], models={"embedding": str(tmp_path / "no-model")})
    with pytest.raises(ConfigError, match=r"key 'models\.embedding': .*no-model"):
        check_ready(settings)


def test_a_missing_pain_model_is_an_error_naming_its_own_setting(tmp_path):
    settings = _settings(tmp_path, [], models={"pain_embedding": str(tmp_path / "no-model")})
    with pytest.raises(ConfigError) as info:
        check_ready(settings)
    message = str(info.value)
    assert "key 'models.pain_embedding'" in message and "no-model" in message
    assert "set `models.pain_embedding` to" in message and "models.embedding" not in message


def test_every_problem_is_reported_at_once(tmp_path):
    (tmp_path / "reports").write_text("x")
    settings = _settings(
        tmp_path,
        [review_source(tmp_path / "nope" / "*.csv")],
        report={"out_dir": str(tmp_path / "reports")},
        models={"spacy": "en_core_web_nonexistent_xyz"},
    )
    with pytest.raises(ConfigError) as info:
        check_ready(settings)
    message = str(info.value)
    for key in ("sources[0].path", "report.out_dir", "models.spacy"):
        assert f"key '{key}'" in message


def test_every_registered_embedding_backend_passes_and_an_unknown_one_is_an_error(tmp_path):
    from models.backends import BACKENDS

    for name in ["auto", *BACKENDS]:
        check_ready(_settings(tmp_path, [], models={"backend": name}))
    with pytest.raises(
        ConfigError,
        match="key 'models.backend': unknown embedding backend 'onnx-int4'; set it to one of: auto",
    ):
        check_ready(_settings(tmp_path, [], models={"backend": "onnx-int4"}))


def test_a_problem_names_the_config_file_that_set_the_key(tmp_path):
    settings = _settings(tmp_path, [review_source(tmp_path / "exports" / "*.csv")])
    with pytest.raises(ConfigError) as raised:
        check_ready(settings)
    assert f"{tmp_path / 'hasslemap.yaml'}: key 'sources[0].path': folder" in str(raised.value)


def test_a_problem_names_the_variable_that_set_the_key(tmp_path):
    if not Path("/proc/self").is_dir():
        pytest.skip("needs Linux's /proc, a folder that takes no new files")
    settings = load_settings(environ={"HASSLEMAP_WAREHOUSE": "/proc/hm/x.duckdb"})
    with pytest.raises(ConfigError) as raised:
        check_ready(settings)
    message = str(raised.value)
    assert (
        "environment variable HASSLEMAP_WAREHOUSE: key 'warehouse': the folder /proc/hm cannot "
        "be created in /proc (it takes no new files)"
    ) in message
    assert "No such file" not in message


def test_a_file_on_the_way_to_a_path_is_named_once(tmp_path):
    (tmp_path / "notes.txt").write_text("a file")
    warehouse = tmp_path / "notes.txt" / "w.duckdb"
    settings = _settings(tmp_path, [], warehouse=str(warehouse))
    with pytest.raises(ConfigError) as raised:
        check_ready(settings)
    assert (
        f"key 'warehouse': {warehouse} cannot be created: {tmp_path / 'notes.txt'} is a file, "
        "not a folder"
    ) in str(raised.value)


def test_an_unreadable_source_folder_is_one_line_naming_its_key(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "a.csv").write_text("id\n")
    _settings(tmp_path, [review_source(folder / "*.csv")])
    check = (
        "from config import ConfigError, load_settings\n"
        "from config.preflight import check_ready\n"
        "try:\n"
        f"    check_ready(load_settings({str(tmp_path / 'hasslemap.yaml')!r}, environ={{}}))\n"
        "except ConfigError as exc:\n"
        "    print(exc)\n"
    )
    folder.chmod(0)
    try:
        result = subprocess.run(
            [*without_dac_override(), sys.executable, "-c", check],
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        folder.chmod(0o755)
    assert "Traceback" not in result.stderr, result.stderr
    [problem] = result.stdout.strip().splitlines()[1:]
    assert f"key 'sources[0].path': cannot read the folder {folder} (Permission denied" in problem
    assert "read and search access" in problem


def test_a_dask_scheduler_no_one_answers_at_is_an_error_before_any_work(tmp_path):
    # The run ingested, then failed at enrich after a 30 s timeout, naming no key.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings = _settings(tmp_path, [], scale={"dask_address": f"tcp://127.0.0.1:{port}"})
    with pytest.raises(ConfigError, match=r"key 'scale\.dask_address': no Dask scheduler answers"):
        check_ready(settings)
    with socket.socket() as listening:  # one that answers passes
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        address = f"127.0.0.1:{listening.getsockname()[1]}"
        assert check_ready(_settings(tmp_path, [], scale={"dask_address": address})) == []
