"""How one demo run is built (scripts/demo/wiring.py): live-X detection, output paths, settings, the transform."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.demo import app, wiring
from tests.support.transform import decode, envelope, firehose_event, record_data


def test_live_x_is_detected_from_environment_or_dotenv(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    assert not wiring.live_x_configured({}, env_file)
    assert wiring.live_x_configured({"X_BEARER_TOKEN": "t"}, env_file)
    env_file.write_text("TRACKED_TERMS=aws\nX_BEARER_TOKEN=\n")
    assert not wiring.live_x_configured({}, env_file)
    env_file.write_text("X_BEARER_TOKEN=abc123\n")
    assert wiring.live_x_configured({}, env_file)


def test_reset_removes_only_the_demo_outputs(tmp_path: Path) -> None:
    args = app.build_parser().parse_args(["--output-dir", str(tmp_path)])
    paths = wiring.Paths.from_args(args)
    (paths.failed / "processing-failed").mkdir(parents=True)
    paths.state.mkdir()
    paths.db.write_text("x")
    paths.report.write_text("<html>")
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    paths.reset()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_the_replay_is_shifted_to_now_unless_original_dates_is_asked(tmp_path: Path) -> None:
    for argv, shifted in (([], True), (["--original-dates"], False)):
        args = app.build_parser().parse_args(["--output-dir", str(tmp_path), *argv])
        settings = wiring.ingester_settings(args, wiring.Paths.from_args(args), live=False, view=False)
        assert settings.replay_shift_to_now is shifted


def test_live_x_settings_come_from_the_environment_and_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("X_BEARER_TOKEN=token-from-dotenv\nTRACKED_TERMS=aws,python\n")
    monkeypatch.delenv("X_BEARER_TOKEN", raising=False)
    monkeypatch.delenv("TRACKED_TERMS", raising=False)
    args = app.build_parser().parse_args(["--output-dir", str(tmp_path), "--env-file", str(env_file), "--limit", "5"])
    paths = wiring.Paths.from_args(args)
    settings = wiring.ingester_settings(args, paths, live=True, view=False)
    assert settings.source == "x"
    assert settings.x_bearer_token == "token-from-dotenv"
    assert settings.tracked_terms == ("aws", "python")
    assert (settings.delivery_stream, settings.state_dir, settings.limit) == ("demo", paths.state, 5)


def test_live_x_without_tracked_terms_fails_before_starting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRACKED_TERMS", raising=False)
    monkeypatch.setenv("X_BEARER_TOKEN", "t0ken")
    args = app.build_parser().parse_args(["--output-dir", str(tmp_path), "--env-file", str(tmp_path / "none")])
    with pytest.raises(wiring.DemoConfigError, match="TRACKED_TERMS"):
        wiring.ingester_settings(args, wiring.Paths.from_args(args), live=True, view=False)


def test_replay_settings_pace_the_view_and_run_flat_out_without_it(tmp_path: Path) -> None:
    args = app.build_parser().parse_args(["--output-dir", str(tmp_path)])
    paths = wiring.Paths.from_args(args)
    assert wiring.ingester_settings(args, paths, live=False, view=True).rate == wiring.VIEW_RATE
    assert wiring.ingester_settings(args, paths, live=False, view=False).rate is None
    args = app.build_parser().parse_args(["--output-dir", str(tmp_path), "--rate", "0"])
    assert wiring.ingester_settings(args, paths, live=False, view=True).rate is None


def test_the_transform_is_built_with_the_embedded_model_and_no_metrics_without_touching_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an environment that asks the Lambda for Comprehend and EMF metrics
    monkeypatch.setenv("SENTIMENT_BACKEND", "comprehend")
    monkeypatch.setenv("EMIT_METRICS", "true")
    before = dict(os.environ)
    # When the demo builds its transform and runs one record through it
    processor = wiring.build_transform(os.environ)
    response = processor(firehose_event([record_data(envelope())]), None)
    # Then it scored with the embedded model (the Lambda's default), wrote no EMF line, left the environment as it was
    (record,) = response["records"]
    assert record["result"] == "Ok"
    assert decode(record["data"])["sentiment_model"].startswith("embedded-")
    assert '"_aws"' not in capsys.readouterr().out
    assert dict(os.environ) == before


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("environ", "color"), [({"TERM": "xterm"}, True), ({"TERM": "xterm", "NO_COLOR": "1"}, False)])
def test_no_color_turns_colours_off_but_keeps_the_live_view(
    tmp_path: Path, environ: dict[str, str], color: bool
) -> None:
    args = app.build_parser().parse_args(["--output-dir", str(tmp_path)])
    pieces = wiring.build(args, _Terminal(), environ)
    try:
        assert pieces.view_on is True
        assert pieces.color is color
    finally:
        pieces.store.close()
        pieces.firehose.close()


@pytest.fixture
def restore_root_logger() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


@pytest.mark.usefixtures("restore_root_logger")
def test_demo_log_is_one_json_object_per_line_for_the_ingester_and_the_transform(tmp_path: Path) -> None:
    # Given the demo's logging, an ingester logger and the demo's transform (one bad record, one good)
    paths = wiring.Paths.from_args(app.build_parser().parse_args(["--output-dir", str(tmp_path)]))
    wiring.configure_logging(paths, view=True)
    logging.getLogger("ingester.app").info("stats", extra={"stats": {"sent": 2}})
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("ingester.writer").exception("put failed for %s records", 2)
    processor = wiring.build_transform({})
    processor(firehose_event([record_data(envelope()), "%%%"]), None)
    # Then every line of demo.log is one JSON object with the common keys, and no message is JSON
    lines = [json.loads(line) for line in paths.log.read_text(encoding="utf-8").splitlines()]
    for line in lines:
        assert list(line)[:4] == ["timestamp", "level", "logger", "message"], line
        assert isinstance(line["message"], str) and not line["message"].lstrip().startswith(("{", "[")), line
    by_message = {line["message"]: line for line in lines}
    assert by_message["stats"]["logger"] == "ingester.app" and by_message["stats"]["stats"] == {"sent": 2}
    assert "RuntimeError: boom" in by_message["put failed for 2 records"]["exception"]
    failed = by_message["records_failed"]
    assert failed["logger"].startswith("transform") and failed["reasons"] == {"bad_base64": 1}
    summary = by_message["invocation"]
    assert summary["logger"].startswith("transform") and summary["records"] == 2 and summary["event"] == "invocation"
