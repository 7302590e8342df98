"""X source pieces that need no server: the daily cap counter and line handling."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ingester.config import ConfigError, Settings
from ingester.secrets import SecretNotSetError, SecretUnavailableError
from ingester.sources.x import DailyCounter, XSource, seconds_until_next_utc_day
from ingester.stats import Stats
from tests.support.ingester import ListSink


def test_daily_counter_persists_and_rolls_over(tmp_path: Path) -> None:
    day = {"value": "2026-11-26"}
    counter = DailyCounter(tmp_path / "c.json", 3, today=lambda: day["value"])
    for _ in range(3):
        counter.add()
    counter.save()
    assert counter.reached()
    # A restart the same day keeps the count
    again = DailyCounter(tmp_path / "c.json", 3, today=lambda: day["value"])
    assert again.count == 3 and again.reached()
    # The next UTC day starts from zero
    day["value"] = "2026-11-27"
    assert not again.reached()
    assert again.count == 0


def test_seconds_until_next_utc_day() -> None:
    assert seconds_until_next_utc_day(datetime(2026, 11, 26, 23, 59, 30, tzinfo=UTC)) == 30


def test_lines_become_envelopes_or_counted_drops(tmp_path: Path) -> None:
    source = XSource(Settings(state_dir=tmp_path, tracked_terms=("aws",), x_bearer_token="t"), "t", Stats())
    sink = ListSink()
    source.handle_line(b'{"data": {"id": "1", "text": "hi"}, "matching_rules": [{"id": "5", "tag": "aws"}]}', sink)
    source.handle_line(b"\xff not json", sink)
    source.handle_line(b'{"errors": [{"title": "operational-disconnect", "detail": "bye"}]}', sink)
    source.handle_line(b'{"data": {"id": "2"}}', sink)
    assert [e["tweet"]["id"] for e in sink.accepted] == ["1"]
    assert sink.accepted[0]["source"] == "x"
    assert sink.dropped == ["invalid_json", "stream_error_payload", "missing_text"]
    assert source.daily.count == 1


def test_stop_interrupts_a_cap_pause(tmp_path: Path) -> None:
    settings = Settings(state_dir=tmp_path, tracked_terms=("aws",), x_bearer_token="t", max_posts_per_day=1)
    source = XSource(settings, "t", Stats())
    source.daily.add()
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(ListSink(), stop))
    thread.start()
    thread.join(0.2)
    assert thread.is_alive()  # waiting for the next UTC day
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


def test_reconnect_backoff_follows_x_policy() -> None:
    from ingester.xclient import ReconnectPolicy, _ReconnectBackoff

    b = _ReconnectBackoff(ReconnectPolicy())
    assert [b.network() for _ in range(3)] == [0.25, 0.5, 0.75]
    assert max(b.network() for _ in range(100)) == 16.0  # linear, capped
    b.reset()
    assert [b.http(503) for _ in range(8)] == [5, 10, 20, 40, 80, 160, 320, 320]
    b.reset()
    assert [b.http(429) for _ in range(4)] == [60, 120, 240, 320]
    assert ReconnectPolicy().scaled(0.01).rate_limit_start_s == 0.6


def test_a_line_nested_too_deeply_is_a_counted_drop_not_a_crash(tmp_path: Path) -> None:
    # json.loads raises RecursionError (not a ValueError) on deep nesting: it must not end the source.
    source = XSource(Settings(state_dir=tmp_path, tracked_terms=("aws",), x_bearer_token="t"), "t", Stats())
    sink = ListSink()
    source.handle_line(b'{"data": {"id": "1", "text": "x", "deep": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", sink)
    assert sink.accepted == []
    assert sink.dropped == ["invalid_json"]


# --- waiting for a token parameter that does not exist yet --------------------------------------------------------


def _ssm_settings(tmp_path: Path) -> Settings:
    return Settings(
        source="x",
        tracked_terms=("aws",),
        x_bearer_token_ssm_parameter="/tweets/x-bearer-token",
        x_reconnect_backoff_scale=0.001,  # 30 s poll -> 30 ms
        state_dir=tmp_path,
    )


class ScriptedReads:
    """A token refresher that raises or returns the scripted outcomes in order, then repeats the last one."""

    def __init__(self, *outcomes: str | Exception) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self) -> str:
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def test_token_not_set_is_re_read_until_it_exists(tmp_path: Path) -> None:
    reads = ScriptedReads(
        SecretNotSetError("absent"), SecretUnavailableError("throttled"), SecretNotSetError("absent"), "tok"
    )
    stats = Stats()
    source = XSource(_ssm_settings(tmp_path), None, stats, token_refresher=reads)
    assert source.wait_for_token(threading.Event()) == "tok"
    assert reads.calls == 4
    assert stats.snapshot()["waiting_for_token"] is False


def test_access_denied_while_waiting_is_a_config_error(tmp_path: Path) -> None:
    reads = ScriptedReads(
        SecretNotSetError("absent"), ConfigError("X_BEARER_TOKEN_SSM_PARAMETER: AccessDeniedException")
    )
    source = XSource(_ssm_settings(tmp_path), None, Stats(), token_refresher=reads)
    with pytest.raises(ConfigError, match="AccessDeniedException") as raised:
        source.run(_NoSink(), threading.Event())
    assert not isinstance(raised.value, SecretNotSetError)
    assert reads.calls == 2


def test_stop_ends_the_wait_for_a_token(tmp_path: Path) -> None:
    settings = replace(_ssm_settings(tmp_path), x_reconnect_backoff_scale=1.0)  # 30 s between reads
    reads = ScriptedReads(SecretNotSetError("absent"))
    source = XSource(settings, None, Stats(), token_refresher=reads)
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(_NoSink(), stop))
    thread.start()
    time.sleep(0.1)
    stop.set()
    thread.join(2)
    assert not thread.is_alive()
    assert reads.calls == 0  # never re-read before the interval, and the stop cut the interval short


class _NoSink(ListSink):
    def accept(self, envelope: dict[str, Any]) -> bool:
        raise AssertionError("nothing may be streamed without a token")
