"""How one demo run is built (scripts/demo/wiring.py): live-X detection, output paths, settings, the transform."""

from __future__ import annotations

import io
import os
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
    keep = tmp_path / "notes.txt"
    keep.write_text("mine")
    paths.reset()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


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


def test_the_transform_is_built_with_vader_and_no_metrics_without_touching_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an environment that asks the Lambda for Comprehend and EMF metrics
    monkeypatch.setenv("SENTIMENT_BACKEND", "comprehend")
    monkeypatch.setenv("EMIT_METRICS", "true")
    before = dict(os.environ)
    # When the demo builds its transform and runs one record through it
    processor = wiring.build_transform(os.environ)
    response = processor(firehose_event([record_data(envelope())]), None)
    # Then it scored with VADER, wrote no EMF line, and left the environment as it was
    (record,) = response["records"]
    assert record["result"] == "Ok"
    assert decode(record["data"])["sentiment_model"].startswith("vader")
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
