"""REPLAY_SHIFT_TO_NOW: the replay dates the file's newest tweet at the pass's start, gaps kept; off by default."""

from __future__ import annotations

import itertools
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ingester.config import Settings
from ingester.sources.replay import ReplaySource, newest_created_at
from tests.support.ingester import ListSink

NOW = datetime(2027, 3, 1, 12, 0, 0, 500_000, tzinfo=UTC)
SAMPLE = Path(__file__).resolve().parents[3] / "scripts" / "demo" / "data" / "sample_tweets.jsonl"


def message(i: int, created_at: object) -> str:
    data = {"id": str(100 + i), "text": f"tweet {i}", "author_id": "7", "lang": "en", "created_at": created_at}
    return json.dumps({"data": data, "matching_rules": [{"id": "1", "tag": "t"}]})


def replay_file(tmp_path: Path) -> Path:
    path = tmp_path / "r.jsonl"
    lines = [
        message(0, "2026-11-26T09:00:00.000Z"),
        "not json",
        message(1, "2026-11-26T09:34:56.843Z"),  # the newest
        message(2, "2026-11-26T09:10:00.250Z"),
        message(3, "yesterday"),  # not a timestamp: left as it is
        json.dumps({"v": 1, "tweet": {"id": "9", "text": "an envelope", "created_at": "2026-11-26T09:30:00Z"}}),
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def dates(sink: ListSink) -> list[object]:
    return [envelope["tweet"].get("created_at") for envelope in sink.accepted]


def test_shift_dates_the_newest_tweet_now_and_keeps_the_gaps(tmp_path: Path) -> None:
    sink = ListSink()
    ReplaySource(replay_file(tmp_path), shift_to_now=True, clock=lambda: NOW).run(sink, threading.Event())
    assert dates(sink) == [
        "2027-03-01T11:25:03.657Z",  # 34:56.843 before the newest
        "2027-03-01T12:00:00.500Z",  # the newest: the pass's start
        "2027-03-01T11:35:03.907Z",
        "yesterday",
        "2027-03-01T11:55:03.657Z",  # envelope lines are shifted too
    ]
    assert sink.dropped == ["invalid_json"]


def test_without_the_option_the_dates_are_the_files(tmp_path: Path) -> None:
    sink = ListSink()
    ReplaySource(replay_file(tmp_path), clock=lambda: NOW).run(sink, threading.Event())
    assert dates(sink)[:3] == ["2026-11-26T09:00:00.000Z", "2026-11-26T09:34:56.843Z", "2026-11-26T09:10:00.250Z"]
    assert Settings().replay_shift_to_now is False  # the service's default replay is unchanged


def test_each_loop_pass_is_dated_from_its_own_start(tmp_path: Path) -> None:
    starts = (NOW + timedelta(hours=n) for n in itertools.count())
    sink = ListSink()

    stop = threading.Event()
    source = ReplaySource(replay_file(tmp_path), loop=True, shift_to_now=True, clock=lambda: next(starts))

    def accept(envelope: dict[str, object]) -> bool:
        sink.accepted.append(envelope)
        if len(sink.accepted) == 10:
            stop.set()
        return True

    sink.accept = accept  # type: ignore[method-assign]
    source.run(sink, stop)
    assert dates(sink)[1] == "2027-03-01T12:00:00.500Z" and dates(sink)[6] == "2027-03-01T13:00:00.500Z"


def test_the_bundled_sample_lands_in_the_last_hour() -> None:
    newest = newest_created_at(SAMPLE)
    assert newest == datetime(2026, 11, 26, 9, 34, 56, 843_000, tzinfo=UTC)
    sink = ListSink()
    ReplaySource(SAMPLE, shift_to_now=True, clock=lambda: NOW).run(sink, threading.Event())
    shifted = [datetime.fromisoformat(str(d)) for d in dates(sink)]
    assert len(shifted) == 3000 and max(shifted) == NOW and min(shifted) > NOW - timedelta(hours=1)
