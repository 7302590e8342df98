"""Settings: precedence, parsing, and errors that name the setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingester.config import ConfigError, Settings
from ingester.config_require import require_for_run


def test_precedence_cli_over_env_over_dotenv_over_default(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("DELIVERY_STREAM_NAME=from-dotenv\nLINGER_MS=300\nTRACKED_TERMS=a,b\nLOG_LEVEL=debug\n")
    env = {"DELIVERY_STREAM_NAME": "from-env", "LINGER_MS": "200"}
    s = Settings.from_sources({"linger_ms": 100}, env, dotenv)
    assert s.linger_ms == 100  # flag
    assert s.delivery_stream == "from-env"  # environment beats .env
    assert s.tracked_terms == ("a", "b")  # .env beats default
    assert s.log_level == "DEBUG"
    assert s.max_batch_records == 500  # default
    s2 = Settings.from_sources({"linger_ms": None}, env, dotenv)
    assert s2.linger_ms == 200  # a None flag is "not given"


def test_state_dir_defaults_to_systemd_state_directory(tmp_path: Path) -> None:
    assert Settings.from_sources({}, {"STATE_DIRECTORY": "/var/lib/tweet-ingester"}, None).state_dir == Path(
        "/var/lib/tweet-ingester"
    )
    assert Settings.from_sources({}, {}, None).state_dir == Path("./state")
    assert Settings.from_sources({}, {"STATE_DIR": "/x", "STATE_DIRECTORY": "/y"}, None).state_dir == Path("/x")


def test_keyword_construction_for_replay(tmp_path: Path) -> None:
    replay = tmp_path / "t.jsonl"
    replay.write_text("")
    s = Settings(source="replay", replay_file=replay, delivery_stream="demo", state_dir=tmp_path, rate=None, loop=False)
    require_for_run(s)
    with pytest.raises(AttributeError):
        s.source = "x"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"LINGER_MS": "soon"}, "LINGER_MS"),
        ({"MAX_BATCH_RECORDS": "501"}, "MAX_BATCH_RECORDS"),
        ({"MAX_BATCH_BYTES": "5000000"}, "MAX_BATCH_BYTES"),
        ({"CLOUDWATCH_METRICS": "maybe"}, "CLOUDWATCH_METRICS"),
        ({"INGESTER_SOURCE": "kafka"}, "INGESTER_SOURCE"),
        ({"TRACKED_TERMS": "aws,,lambda"}, "TRACKED_TERMS"),
        ({"REPLAY_RATE": "fast"}, "REPLAY_RATE"),
        ({"REPLAY_RATE": "nan"}, "REPLAY_RATE"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"X_API_BASE_URL": "api.twitter.com"}, "X_API_BASE_URL"),
        ({"METRICS_NAMESPACE": "AWS/Firehose"}, "METRICS_NAMESPACE"),
        ({"MAX_POSTS_PER_DAY": "-5"}, "MAX_POSTS_PER_DAY"),
        ({"WAL_COMMIT_MS": "0"}, "WAL_COMMIT_MS"),
        ({"INGESTER_LIMIT": "0"}, "INGESTER_LIMIT"),  # not "no limit" (unlike MAX_POSTS_PER_DAY=0): reads nothing
        ({"INGESTER_LIMIT": "-1"}, "INGESTER_LIMIT"),
        ({"SHUTDOWN_GRACE_S": "31"}, "SHUTDOWN_GRACE_S"),  # systemd would SIGKILL a flush that long
    ],
)
def test_malformed_values_name_the_setting(env: dict[str, str], names: str) -> None:
    with pytest.raises(ConfigError, match=names):
        Settings.from_sources({}, env, None)


def test_malformed_dotenv_value_names_the_setting(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("QUEUE_MAX_RECORDS=lots\n")
    with pytest.raises(ConfigError, match="QUEUE_MAX_RECORDS"):
        Settings.from_sources({}, {}, dotenv)


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"INGESTER_SOURCE": "replay", "REPLAY_FILE": "x.jsonl"}, "DELIVERY_STREAM_NAME"),
        ({"INGESTER_SOURCE": "replay", "DELIVERY_STREAM_NAME": "s"}, "REPLAY_FILE"),
        (
            {"INGESTER_SOURCE": "replay", "DELIVERY_STREAM_NAME": "s", "REPLAY_FILE": "/nonexistent.jsonl"},
            "REPLAY_FILE",
        ),
        ({"INGESTER_SOURCE": "x", "DELIVERY_STREAM_NAME": "s", "X_BEARER_TOKEN": "t"}, "TRACKED_TERMS"),
        ({"INGESTER_SOURCE": "x", "DELIVERY_STREAM_NAME": "s", "TRACKED_TERMS": "aws"}, "X_BEARER_TOKEN_SSM_PARAMETER"),
    ],
)
def test_missing_settings_for_run_are_named(env: dict[str, str], names: str) -> None:
    settings = Settings.from_sources({}, env, None)
    with pytest.raises(ConfigError, match=names):
        require_for_run(settings)


def test_parsing_of_types() -> None:
    s = Settings.from_sources(
        {},
        {
            "TRACKED_TERMS": " aws , #serverless,machine learning ",
            "CLOUDWATCH_METRICS": "yes",
            "REPLAY_RATE": "max",
            "REPLAY_LOOP": "true",
            "MAX_POSTS_PER_DAY": "0",
            "QUEUE_MAX_RECORDS": "50_000",
        },
        None,
    )
    assert s.tracked_terms == ("aws", "#serverless", "machine learning")
    assert s.cloudwatch_metrics is True
    assert s.rate is None
    assert s.loop is True
    assert s.max_posts_per_day is None
    assert s.queue_max_records == 50_000


def test_secret_is_masked_in_repr_and_public_dict() -> None:
    s = Settings(x_bearer_token="AAAA-secret-token")
    assert "secret" not in repr(s)
    assert s.public_dict()["x_bearer_token"] == "***"


def test_unknown_cli_setting_is_rejected() -> None:
    with pytest.raises(ConfigError, match="unknown setting"):
        Settings.from_sources({"bogus": 1}, {}, None)


def test_env_example_documents_every_setting_and_parses() -> None:
    from ingester.config import ENV_NAMES
    from tests.support.paths import REPO_ROOT

    example = REPO_ROOT / "ingester" / ".env.example"
    text = example.read_text()
    missing = [name for name in ENV_NAMES.values() if f"{name}=" not in text]
    assert missing == []
    # The example itself is a valid configuration
    settings = Settings.from_sources({}, {}, example)
    assert settings.delivery_stream == "tweet-sentiment"
    assert settings.tracked_terms == ("aws", "#serverless", "amazon web services")


def test_every_log_level_terraform_allows_is_accepted() -> None:
    # terraform/modules/ingester validates log_level against DEBUG, INFO, WARNING, ERROR, CRITICAL and writes
    # it to the env file: each of them must start the daemon, not exit 2.
    for level in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        assert Settings.from_sources({}, {"LOG_LEVEL": level}, None).log_level == level


def test_a_quoted_phrase_in_tracked_terms_is_the_phrase_itself() -> None:
    # systemd's EnvironmentFile strips the quotes of TRACKED_TERMS=aws,"big data" while a dotenv file keeps them;
    # the rules quote phrases themselves, so a kept pair of quotes must not become literal quote characters.
    from ingester.rules import desired_rules

    quoted = Settings.from_sources({}, {"TRACKED_TERMS": 'aws, "big data" ,#x'}, None).tracked_terms
    bare = Settings.from_sources({}, {"TRACKED_TERMS": "aws,big data,#x"}, None).tracked_terms
    assert quoted == bare == ("aws", "big data", "#x")
    assert [r.value for r in desired_rules(quoted)] == ["aws", '"big data"', "#x"]
    with pytest.raises(ConfigError, match="TRACKED_TERMS"):
        Settings.from_sources({}, {"TRACKED_TERMS": 'aws,""'}, None)


def test_state_directory_of_the_process_does_not_leak_into_an_explicit_environ(monkeypatch) -> None:
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/elsewhere")
    assert Settings.from_sources({}, {}, None).state_dir == Path("./state")
    assert Settings().state_dir == Path("/var/lib/elsewhere")  # direct construction: the process environment
