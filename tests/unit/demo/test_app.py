"""The demo CLI's own decisions (scripts/demo/app.py, __main__.py): flags, exit codes, the stop handler."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from scripts.demo import app, wiring


def test_defaults_and_paths(tmp_path: Path) -> None:
    args = app.build_parser().parse_args(["--output-dir", str(tmp_path)])
    paths = wiring.Paths.from_args(args)
    assert paths.db == tmp_path / "tweets.db"
    assert paths.failed == tmp_path / "failed"
    assert args.rate is None and args.limit is None and not args.loop


@pytest.mark.parametrize(
    "argv",
    [
        ["--rate", "-1"],
        ["--limit", "0"],
        ["--duration", "nan"],
        ["--duration", "0"],
        ["--limit", "x"],
        ["--buffer-mb", "5"],
        ["--buffer-mb", "0.1"],
        ["--buffer-interval", "901"],
    ],
)
def test_bad_flags_are_rejected(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        app.build_parser().parse_args(argv)
    assert info.value.code == 2


def test_rate_zero_means_full_speed() -> None:
    assert app.build_parser().parse_args(["--rate", "0"]).rate == 0.0


def test_stopper_records_the_first_reason_only() -> None:
    stop = threading.Event()
    stopper = app.Stopper(stop)
    stopper.request("--duration 5 s")
    stopper.request("Ctrl-C")
    assert stop.is_set()
    assert stopper.reason == "--duration 5 s"


def test_source_status_is_read_from_the_ingester_state_file(tmp_path: Path) -> None:
    assert app.read_source_status(tmp_path) == {}
    (tmp_path / "status.json").write_text('{"read": 9, "duplicates": 1, "dropped": {"invalid_json": 2}}')
    status = app.read_source_status(tmp_path)
    assert (status["read"], status["duplicates"], status["malformed"]) == (9, 1, 2)


def test_an_unusable_output_dir_is_a_clear_error_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an --output-dir below a regular file (it cannot be created), the demo exits 2 naming the path.
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code = app.run(["--output-dir", str(blocker / "out"), "--no-view", "--limit", "1"])
    assert code == app.EXIT_CONFIG
    err = capsys.readouterr().err
    assert err.startswith("demo: cannot use ")
    assert str(blocker / "out") in err
    assert "Traceback" not in err


def test_a_token_in_dotenv_does_not_switch_to_live_x(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Given a token in .env but no --live
    env_file = tmp_path / ".env"
    env_file.write_text("X_BEARER_TOKEN=abc123\nTRACKED_TERMS=aws\n")
    code = app.run(["--output-dir", str(tmp_path / "out"), "--env-file", str(env_file), "--no-view", "--limit", "5"])
    # Then the demo replays the sample and says the token was ignored
    out, err = capsys.readouterr()
    assert code == app.EXIT_OK
    assert "X_BEARER_TOKEN is configured but ignored" in err
    assert "replay" in out and "abc123" not in out + err


def test_live_without_a_token_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.chdir(tmp_path)
    code = app.run(["--output-dir", str(tmp_path / "out"), "--live", "--no-view"])
    assert code == app.EXIT_CONFIG
    assert capsys.readouterr().err.startswith("demo: --live needs X_BEARER_TOKEN")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--env-file", "/nonexistent/.env"], "demo: --env-file /nonexistent/.env: no such file"),
        (["--sample", "/"], "demo: --sample /: is a folder"),
    ],
)
def test_bad_paths_are_named(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    code = app.run(["--output-dir", str(tmp_path / "out"), "--no-view", *argv])
    assert code == app.EXIT_CONFIG
    assert capsys.readouterr().err.startswith(message)


def test_rate_zero_is_zero_however_written() -> None:
    for text in ("0", "0.0", "0.00", "0e0"):
        assert app.build_parser().parse_args(["--rate", text]).rate == 0.0
    with pytest.raises(SystemExit):
        app.build_parser().parse_args(["--rate", "-1"])


def test_live_and_sample_exclude_each_other_and_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        app.build_parser().parse_args(["--live", "--sample", "x.jsonl"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        app.build_parser().parse_args(["--version"])
    assert exc.value.code == 0
    from ingester import __version__

    assert capsys.readouterr().out.strip().endswith(__version__)


def test_live_with_x_unreachable_stops_after_the_connect_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given --live with a token, but the X API address refuses connections
    monkeypatch.setattr(app, "LIVE_CONNECT_TIMEOUT_S", 1.0)
    monkeypatch.setenv("X_BEARER_TOKEN", "t0ken")
    monkeypatch.setenv("TRACKED_TERMS", "aws")
    monkeypatch.setenv("X_API_BASE_URL", "http://127.0.0.1:9")
    monkeypatch.chdir(tmp_path)
    code = app.run(["--output-dir", str(tmp_path / "out"), "--live", "--no-view", "--duration", "60"])
    # Then it stops on its own (well before --duration) with a message saying why, and a failure status
    out = capsys.readouterr().out
    assert code == app.EXIT_FATAL
    assert "could not connect to the X stream within 1 s" in out


def test_a_malformed_transform_variable_fails_before_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    code = app.run(["--output-dir", str(tmp_path / "out"), "--no-view", "--limit", "1"])
    assert code == app.EXIT_CONFIG
    assert capsys.readouterr().err.startswith("demo: configuration error: LOG_LEVEL='CHATTY'")
    assert not (tmp_path / "out" / "tweets.db").exists()


def test_the_entry_point_adds_lambda_src_to_pythonpath_only_when_transform_is_missing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scripts.demo import __main__ as entry

    assert entry.environ_with_lambda_src({"PYTHONPATH": "x"}) is None  # importable here: no re-execution
    monkeypatch.setattr(entry.importlib.util, "find_spec", lambda name: None)
    env = entry.environ_with_lambda_src({"PYTHONPATH": "x", "A": "1"})
    assert env == {"PYTHONPATH": f"{entry.LAMBDA_SRC}{os.pathsep}x", "A": "1"}
    assert entry.environ_with_lambda_src(env) is None  # still missing with lambda_src on the path: no loop
