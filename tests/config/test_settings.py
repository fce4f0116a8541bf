from pathlib import Path

import pytest

from config import ConfigError, load_settings
from config.base import ConfigWarning


def test_defaults_need_no_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={})
    assert settings.warehouse == Path("var/hasslemap.duckdb")
    assert [s.channel for s in settings.sources] == ["review", "ticket", "survey"]


def test_the_bundled_config_file_states_the_defaults():
    bundled = Path(__file__).parents[2] / "config" / "hasslemap.yaml"
    assert load_settings(bundled, environ={}) == load_settings(environ={})


def test_environment_variables_override_nested_keys(tmp_path):
    settings = load_settings(
        environ={
            "HASSLEMAP_WAREHOUSE": str(tmp_path / "x.duckdb"),
            "HASSLEMAP_INGEST__MAX_TEXT_CHARS": "8000",
        }
    )
    assert settings.warehouse == tmp_path / "x.duckdb"
    assert settings.ingest.max_text_chars == 8000


def test_a_bad_environment_value_names_the_variable():
    with pytest.raises(ConfigError, match=r"HASSLEMAP_INGEST__CHUNK_ROWS: key 'ingest.chunk_rows'"):
        load_settings(environ={"HASSLEMAP_INGEST__CHUNK_ROWS": "lots"})
    # A section's own check fails on a key a variable set: the variable is named.
    with pytest.raises(
        ConfigError, match=r"variable HASSLEMAP_CLUSTER__MIN_PARENTS: key 'cluster'"
    ):
        load_settings(environ={"HASSLEMAP_CLUSTER__MIN_PARENTS": "30"})
    # YAML reads it as a timestamp it cannot build: the variable is named all the same.
    with pytest.raises(ConfigError, match=r"HASSLEMAP_INGEST__EARLIEST_DATE: key 'ingest"):
        load_settings(environ={"HASSLEMAP_INGEST__EARLIEST_DATE": "2000-13-01"})


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("warehous: x.duckdb\n", r"key 'warehous': unknown key"),
        (
            "sources:\n  - {name: a, channel: email, path: x, format: csv, fields: {external_id: id, created_at: d, text: [t]}}\n",
            r"key 'sources\[0\]\.channel': expected one of 'review', 'ticket', 'survey' or 'social', got 'email'",
        ),
        (
            "sources:\n  - {name: a, channel: review, path: x, format: csv, fields: {external_id: id, text: [t]}}\n",
            r"key 'sources\[0\]\.fields\.created_at': required but missing",
        ),
        (
            "sources:\n  - {name: a, channel: survey, path: x, format: csv, fields: {external_id: id, created_at: d, text: [t], score: s}}\n",
            r"key 'sources\[0\]': .*set score_kind",
        ),
        (
            "sources:\n  - {name: Bad Name, channel: review, path: x, format: csv, fields: {external_id: id, created_at: d, text: [t]}}\n",
            r"key 'sources\[0\]\.name': expected lower-case letters",
        ),
        (
            "ingest: {max_text_chars: 0}\n",
            r"key 'ingest\.max_text_chars': Input should be greater than 0",
        ),
        (
            "tagging: {channel_pain_prior: {email: 0.6}}\n",
            r"key 'tagging\.channel_pain_prior\.email\.\[key\]': expected one of 'review'",
        ),
        (
            "tagging: {channel_pain_prior: {ticket: 1.2}}\n",
            r"key 'tagging\.channel_pain_prior\.ticket': Input should be less than 1",
        ),
        ("sources: [\n", r"line \d+, column \d+: not valid YAML"),
        (
            "ingest: {earliest_date: 2000-02-30}\n",
            r"a value is not what it looks like \(day is out of range",
        ),
        ("- just\n- a list\n", r"expected a mapping of settings"),
    ],
)
def test_config_errors_name_the_file_and_key(tmp_path, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message) as info:
        load_settings(path, environ={})
    assert str(path) in str(info.value)


def test_duplicate_source_names_are_refused(tmp_path):
    source = "{name: a, channel: review, path: x, format: csv, fields: {external_id: id, created_at: d, text: [t]}}"
    path = tmp_path / "dup.yaml"
    path.write_text(f"sources:\n  - {source}\n  - {source}\n")
    with pytest.raises(ConfigError, match="used twice"):
        load_settings(path, environ={})


def test_a_missing_config_file_is_an_error_naming_where_it_came_from(tmp_path):
    with pytest.raises(ConfigError, match="HASSLEMAP_CONFIG"):
        load_settings(environ={"HASSLEMAP_CONFIG": str(tmp_path / "nope.yaml")})


def test_a_key_given_twice_is_an_error_naming_the_file_key_and_line(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("report:\n  top: 5\n  title: Hassles\n  top: 7\n")
    with pytest.raises(
        ConfigError, match=r"line 4: key 'top' appears twice \(first on line 2\)"
    ) as info:
        load_settings(path, environ={})
    assert str(path) in str(info.value)


def test_a_key_given_twice_in_one_flow_mapping_is_an_error_too(tmp_path):
    """The bundled config writes weights as {reach: 0.30, ...}: a copy there was last-wins."""
    path = tmp_path / "dup.yaml"
    path.write_text("rank:\n  weights: {reach: 0.30, severity: 0.25, reach: 0.9}\n")
    with pytest.raises(ConfigError, match=r"line 2: key 'reach' appears twice \(first on line 2\)"):
        load_settings(path, environ={})


def test_a_yaml_merge_key_is_read_and_may_be_overridden(tmp_path):
    path = tmp_path / "merge.yaml"
    path.write_text("report:\n  <<: {top: 5, title: Hassles}\n  top: 7\n")
    report = load_settings(path, environ={}).report
    assert (report.top, report.title) == (7, "Hassles")


def test_a_path_may_start_at_the_home_folder(tmp_path, monkeypatch):
    """'~/cx/...' was a folder named '~' in the working directory."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = tmp_path / "c.yaml"
    path.write_text(
        "warehouse: ~/cx/hasslemap.duckdb\nreport: {out_dir: ~/reports}\n"
        + TWEETS_SOURCE.replace("path: x.csv", "path: ~/in/*.csv")
    )
    settings = load_settings(path, environ={})
    home = tmp_path / "home"
    assert settings.warehouse == home / "cx" / "hasslemap.duckdb"
    assert settings.report.out_dir == home / "reports"
    assert settings.sources[0].path == str(home / "in" / "*.csv")


def test_an_environment_value_keeps_a_hash_and_reads_numbers_and_lists(tmp_path):
    """A variable is no YAML file: '#1' is part of the title, not a comment."""
    settings = load_settings(
        None,
        environ={
            "HASSLEMAP_REPORT__TITLE": "Top hassles #1 this week",
            "HASSLEMAP_REPORT__TOP": "7",
            "HASSLEMAP_ENRICH__SUPPORTED_LANGUAGES": "[en, de]",
        },
    )
    assert settings.report.title == "Top hassles #1 this week"
    assert settings.report.top == 7
    assert settings.enrich.supported_languages == ("en", "de")


def test_a_webhook_url_with_a_space_in_it_is_refused(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("alerts: {webhook_url: 'https://hooks.example.com/T0 01/x'}\n")
    with pytest.raises(ConfigError, match="webhook_url': the URL has a space"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    "title", ["Hassles\n# injected", "Hassles \x1b]0;owned\x07", "Hassles \u202ereversed"]
)
def test_a_report_title_with_a_line_break_or_control_character_is_refused(title):
    with pytest.raises(ConfigError, match=r"report\.title': holds a line break or control"):
        load_settings(environ={"HASSLEMAP_REPORT__TITLE": title})
    emoji = "Hassles \U0001f469\u200d\U0001f4bb of week 3"  # a joiner in an emoji is no control
    assert load_settings(environ={"HASSLEMAP_REPORT__TITLE": emoji}).report.title == emoji


def test_a_mistyped_variable_warns_with_the_closest_name(tmp_path):
    with pytest.warns(ConfigWarning) as caught:
        settings = load_settings(
            environ={
                "HASSLEMAP_WAREHOSE": str(tmp_path / "x.duckdb"),
                "HASSLEMAP_INGSET__MAX_TEXT_CHARS": "8000",
            }
        )
    messages = sorted(str(w.message) for w in caught)
    assert "HASSLEMAP_INGSET__MAX_TEXT_CHARS" in messages[0]
    assert "did you mean HASSLEMAP_INGEST__MAX_TEXT_CHARS?" in messages[0]
    assert "did you mean HASSLEMAP_WAREHOUSE?" in messages[1]
    assert settings.warehouse == Path("var/hasslemap.duckdb")


def test_known_variables_do_not_warn(tmp_path, recwarn):
    load_settings(environ={"HASSLEMAP_WAREHOUSE": str(tmp_path / "x.duckdb"), "HOME": "/"})
    assert not [w for w in recwarn if issubclass(w.category, ConfigWarning)]


@pytest.mark.parametrize(
    "url", ["hooks.slack.com/services/x", "ftp://hooks.example.com/x", "https://", "not a url"]
)
def test_an_invalid_webhook_url_fails_config_validation(url):
    with pytest.raises(ConfigError, match=r"key 'alerts\.webhook_url': expected an http\(s\) URL"):
        load_settings(environ={"HASSLEMAP_ALERTS__WEBHOOK_URL": url})


def test_a_webhook_url_refused_is_shown_up_to_its_host_only():
    # The error reaches the terminal, the cron mail and, from a served run, Prefect's log and
    # UI: the hook's secret path must not.
    secret = "htps://hooks.slack.com/services/T0/B0/SECRETx"
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"HASSLEMAP_ALERTS__WEBHOOK_URL": secret})
    assert "SECRETx" not in str(raised.value)
    assert "(got 'htps://hooks.slack.com…', the rest hidden)" in str(raised.value)
    with_user = "htps://bot:xoxb-SECRET@hooks.example.com:8443/services/x"
    with pytest.raises(ConfigError) as raised:
        load_settings(environ={"HASSLEMAP_ALERTS__WEBHOOK_URL": with_user})
    assert "SECRET" not in str(raised.value) and "htps://hooks.example.com:8443…" in str(
        raised.value
    )


def test_a_valid_webhook_url_is_kept_as_written():
    url = "https://hooks.slack.com/services/T000/B000/XXXX"
    assert load_settings(environ={"HASSLEMAP_ALERTS__WEBHOOK_URL": url}).alerts.webhook_url == url


TWEETS_SOURCE = (
    "sources:\n  - name: tweets\n    channel: review\n    path: x.csv\n    format: csv\n"
    "    fields: {external_id: id, created_at: d, text: [t]}\n"
)


def test_normalisation_defaults_follow_the_channel():
    from nlp.normalize import Rules

    rules = {s.channel: s.normalise_rules() for s in load_settings(environ={}).sources}
    assert set(rules["ticket"]) == set(Rules.names())
    assert all(rules["ticket"].values())
    assert rules["review"]["quoted_replies"] is False and rules["review"]["handles"] is True
    assert rules["survey"]["quoted_replies"] is False


def test_a_source_sets_its_own_normalisation(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(TWEETS_SOURCE + "    normalise: {hashtags: false, quoted_replies: true}\n")
    [source] = load_settings(path, environ={}).sources
    rules = source.normalise_rules()
    assert rules["hashtags"] is False and rules["quoted_replies"] is True
    assert rules["handles"] is True


@pytest.mark.parametrize(
    ("normalise", "message"),
    [
        ("{handles: maybe}", r"key 'sources\[0\]\.normalise\.handles': .*boolean.*'maybe'"),
        ("{greetngs: false}", r"key 'sources\[0\]\.normalise\.greetngs': unknown key"),
        ("strip", r"key 'sources\[0\]\.normalise'"),
    ],
)
def test_a_bad_normalisation_setting_names_the_source_and_key(tmp_path, normalise, message):
    path = tmp_path / "c.yaml"
    path.write_text(TWEETS_SOURCE + f"    normalise: {normalise}\n")
    with pytest.raises(ConfigError, match=message + r".*\(source 'tweets'\)"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("written", "delimiter"),
    [
        ("tab", "\t"),
        ("'\\t'", "\t"),  # single quotes keep a backslash and a t: what people type for a tab
        ("\\t", "\t"),
        ('"\\t"', "\t"),
        ("Semicolon", ";"),
        ("pipe", "|"),
        ("';'", ";"),
        ("auto", "auto"),
    ],
)
def test_a_delimiter_is_a_character_or_its_name_however_it_is_quoted(tmp_path, written, delimiter):
    path = tmp_path / "c.yaml"
    path.write_text(TWEETS_SOURCE + f"    delimiter: {written}\n")
    [source] = load_settings(path, environ={}).sources
    assert source.delimiter == delimiter


def test_an_unknown_delimiter_name_says_what_is_accepted(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(TWEETS_SOURCE + "    delimiter: tabs\n")
    with pytest.raises(ConfigError, match=r"delimiter'.*a name \(comma, semicolon, tab, pipe\)"):
        load_settings(path, environ={})


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("enrich: {supported_languages: [English]}", r"supported_languages'.*ISO 639-1"),
        ("enrich: {supported_languages: []}", r"supported_languages'"),
        ("enrich: {severity_weights: {source: -1}}", r"severity_weights'.*negative"),
        (
            "enrich: {severity_weights: {source: 0, text: 0, intensity: 0}}",
            r"severity_weights'.*above 0",
        ),
    ],
)
def test_a_setting_that_would_silently_drop_or_flatten_every_comment_is_refused(
    tmp_path, section, message
):
    """'English' is no code a detector returns: every comment would be left untagged."""
    path = tmp_path / "c.yaml"
    path.write_text(section + "\n")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})


def test_a_language_code_is_read_in_any_case(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("enrich: {supported_languages: [EN, ' de']}\n")
    assert load_settings(path, environ={}).enrich.supported_languages == ("en", "de")


def test_normalisation_settings_do_not_change_how_files_are_read(tmp_path):
    plain, custom = tmp_path / "a.yaml", tmp_path / "b.yaml"
    plain.write_text(TWEETS_SOURCE)
    custom.write_text(TWEETS_SOURCE + "    normalise: {emoji: false}\n")
    [a] = load_settings(plain, environ={}).sources
    [b] = load_settings(custom, environ={}).sources
    assert a.fingerprint() == b.fingerprint()


def test_a_sources_time_zone_is_checked_and_read_again_only_when_set(tmp_path):
    # Unset, it leaves every source's fingerprint as it was (no file is read again on upgrade).
    plain, zoned, wrong = tmp_path / "a.yaml", tmp_path / "b.yaml", tmp_path / "c.yaml"
    plain.write_text(TWEETS_SOURCE)
    zoned.write_text(TWEETS_SOURCE + "    timezone: America/Denver\n")
    [a] = load_settings(plain, environ={}).sources
    [b] = load_settings(zoned, environ={}).sources
    assert a.fingerprint() == "ed525f0d985e"  # the hash before the setting existed
    assert b.fingerprint() != a.fingerprint()
    wrong.write_text(TWEETS_SOURCE + "    timezone: Mountain Time\n")
    with pytest.raises(ConfigError, match="unknown time zone 'Mountain Time': use an IANA name"):
        load_settings(wrong, environ={})
    for zone, says in (
        ("America", "unknown time zone 'America'"),  # a folder of zones: no traceback
        ("Etc/GMT+5", "sign is POSIX's"),
        ("localtime", "this machine's own zone file"),
    ):
        wrong.write_text(TWEETS_SOURCE + f"    timezone: {zone}\n")
        with pytest.raises(ConfigError, match=says):
            load_settings(wrong, environ={})
    fixed = tmp_path / "d.yaml"
    fixed.write_text(TWEETS_SOURCE + "    timezone: EST\n")  # what an export may write
    assert load_settings(fixed, environ={}).sources[0].timezone == "EST"


def test_a_sections_check_names_the_file_and_the_variables_that_set_its_keys(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("cluster: {min_parents: 40}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={"HASSLEMAP_CLUSTER__WINDOW_DAYS": "30"})
    assert f"{path} and environment variable HASSLEMAP_CLUSTER__WINDOW_DAYS" in str(raised.value)
    path.write_text("ingest: {chunk_rows: 500}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(path, environ={"HASSLEMAP_CLUSTER__MIN_PARENTS": "30"})
    assert f"{path} and" not in str(raised.value)
    assert "environment variable HASSLEMAP_CLUSTER__MIN_PARENTS" in str(raised.value)


@pytest.mark.parametrize(
    ("schedule", "key", "message"),
    [
        ({"timezone": "posixrules"}, "timezone", "unknown time zone 'posixrules'"),
        ({"timezone": "localtime"}, "timezone", "this machine's own zone file"),
        ({"timezone": "Factory"}, "timezone", "placeholder"),
        ({"timezone": "EST"}, "timezone", "fixed UTC offset"),
        ({"timezone": "Etc/GMT+2"}, "timezone", "sign is POSIX's (Etc/GMT+2 is UTC-2)"),
        ({"cron": "0 2 1W * *"}, "cron", "not a cron expression Prefect can schedule"),
        ({"cron": "0 2 31 2 *"}, "cron", "never fires"),
    ],
)
def test_a_schedule_serve_cannot_use_is_refused_naming_the_file_and_key(
    tmp_path, schedule, key, message
):
    """serve builds Prefect's Cron from these: what Prefect refuses must fail here, not there."""
    config = tmp_path / "hasslemap.yaml"
    config.write_text(f"schedule: {schedule}\n")
    with pytest.raises(ConfigError) as raised:
        load_settings(config, environ={})
    assert f"{config}: key 'schedule.{key}': " in str(raised.value)
    assert message in str(raised.value)


@pytest.mark.parametrize(
    ("variable", "key", "whole"),
    [
        ("HASSLEMAP_SOURCES__0__PATH", "sources[0].path", "HASSLEMAP_SOURCES"),
        ("HASSLEMAP_SOURCES__PATH", "sources.path", "HASSLEMAP_SOURCES"),
        (
            "HASSLEMAP_ENRICH__SUPPORTED_LANGUAGES__1",
            "enrich.supported_languages[1]",
            "HASSLEMAP_ENRICH__SUPPORTED_LANGUAGES",
        ),
    ],
)
def test_a_variable_inside_a_list_says_lists_are_set_in_the_config_file(
    tmp_path, variable, key, whole
):
    config = tmp_path / "c.yaml"
    config.write_text("report: {top: 5}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={variable: "/x/*.csv"})
    message = str(caught.value)
    assert f"environment variable {variable}: key '{key}'" in message
    assert "cannot be set from the environment" in message
    # What to do: edit the file in use, or name another; a variable replaces a whole list.
    assert str(config) in message and "--config" in message and "HASSLEMAP_CONFIG" in message
    assert f"{whole}=" in message
    assert "valid tuple" not in message


def test_a_variable_inside_a_list_with_no_config_file_says_to_write_one(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # no config/hasslemap.yaml here: the built-in defaults
    with pytest.raises(ConfigError, match=r"set the list in a config file .* --config"):
        load_settings(environ={"HASSLEMAP_SOURCES__0__PATH": "/x/*.csv"})


def test_a_mapping_names_the_settings_that_read_a_source_key():
    from config.sources import FieldMapping

    fields = FieldMapping(
        external_id="id",
        created_at="created",
        text=("subject", "body"),
        customer_id="requester_id",
        rating="stars",
        score="stars",
        replies={"field": "comments"},
    )
    assert fields.settings_reading("stars") == ["fields.rating", "fields.score"]
    assert fields.settings_reading("body") == ["fields.text[1]"]
    assert fields.settings_reading("comments") == ["fields.replies.field"]
    assert fields.settings_reading("nothing") == []


def test_a_module_named_under_extensions_registers_before_the_settings_are_checked(tmp_path):
    """A factor of one's own could not be used by the shipped CLI (session 42's extender probe)."""
    import sys

    from nlp.factors import FACTORS

    module = "hasslemap_test_ext_factor"
    (tmp_path / f"{module}.py").write_text(
        "from nlp.factors import factor\n\n\n"
        "@factor(weight=0.0)\n"
        "def test_ext_volume(level):\n"
        '    """Comments."""\n'
        "    return [1.0 for _ in level]\n",
        encoding="utf-8",
    )
    config = tmp_path / "hasslemap.yaml"
    weights = "rank:\n  weights: {test_ext_volume: 0.2}\n"
    config.write_text(weights, encoding="utf-8")
    with pytest.raises(ConfigError, match="test_ext_volume.*name its module under `extensions`"):
        load_settings(config, environ={})
    config.write_text(f"extensions: [{module}]\n" + weights, encoding="utf-8")
    try:
        settings = load_settings(config, environ={})
        assert settings.rank.weights["test_ext_volume"] == 0.2
        assert settings.extensions == (module,)
    finally:
        FACTORS.unregister("test_ext_volume")
        sys.modules.pop(module, None)
        sys.path.remove(str(tmp_path.resolve()))


def test_an_extension_that_cannot_be_imported_is_named_with_its_error(tmp_path):
    (tmp_path / "broken_ext.py").write_text("raise RuntimeError('needs a licence key')\n")
    config = tmp_path / "hasslemap.yaml"
    config.write_text("extensions: [no_such_module_xyz, broken_ext]\n", encoding="utf-8")
    try:
        with pytest.raises(ConfigError) as err:
            load_settings(config, environ={})
    finally:
        import sys

        sys.path.remove(str(tmp_path.resolve()))
    said = str(err.value)
    assert f"{config}: key 'extensions[0]': cannot import 'no_such_module_xyz'" in said
    assert "key 'extensions[1]': cannot import 'broken_ext' (RuntimeError: needs a licence" in said
