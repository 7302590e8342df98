"""The Bluesky source makes progress or says loudly that it cannot (issue 19), against local fake Jetstreams:
a dead endpoint, an endpoint that closes every connection, an oversized frame, a cursor older than retention,
Jetstream v2's sequence cursors and its subscribeEvents wire."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ingester.backoff import Backoff
from ingester.sources.bluesky import CURSOR_FILE, BlueskySource
from ingester.stats import Stats
from tests.support.fake_jetstream import BASE_TIME_US, FakeJetstream, fake_jetstream, post_event
from tests.support.ingester import ListSink
from tests.unit.ingester.test_bluesky_source import run_source, settings

STEP_US = 1_000  # posts 1 ms apart in Jetstream time


def posts(fake: FakeJetstream, n: int, *, start: int = 0, text: str = "aws") -> None:
    for i in range(start, start + n):
        fake.add(post_event(BASE_TIME_US + i * STEP_US, f"{text} post {i}", rkey=f"3k{i:06d}"))


def save_cursor(tmp_path: Path, time_us: int, **extra: Any) -> None:
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / CURSOR_FILE).write_text(json.dumps({"time_us": time_us, "recent": [], **extra}))


def source_for(tmp_path: Path, *urls: str, stats: Stats | None = None, **kwargs: Any) -> BlueskySource:
    s = settings(tmp_path, urls[0], bluesky_endpoints=urls, **kwargs)
    (tmp_path / "state").mkdir(exist_ok=True)
    return BlueskySource(s, stats or Stats(), backoff=Backoff(0.01, 0.05))


def distinct(sink: ListSink) -> set[str]:
    return {e["tweet"]["id"] for e in sink.accepted}


def dead_then_healthy(
    tmp_path: Path, n: int, stats: Stats, done: Callable[[FakeJetstream], bool] = lambda dead: True
) -> tuple[FakeJetstream, FakeJetstream]:
    """Run the source over a dead endpoint (it accepts each connection and closes it at once), then a healthy one
    holding ``n`` posts, until all ``n`` arrived and ``done(dead)``; return both fakes."""
    dead, healthy = FakeJetstream(dead=True), FakeJetstream()
    posts(healthy, n)
    save_cursor(tmp_path, BASE_TIME_US)
    sink = ListSink()
    with fake_jetstream(dead), fake_jetstream(healthy):
        source = source_for(tmp_path, dead.url, healthy.url, stats=stats)
        run_source(source, sink, lambda: len(distinct(sink)) == n and done(dead))
    return dead, healthy


def test_a_dead_endpoint_fails_over_to_the_healthy_one(tmp_path: Path) -> None:
    # Given a first endpoint that accepts each connection and closes it at once, and a healthy second one
    stats = Stats()
    # When the source runs, Then every post arrives through the second endpoint
    dead, healthy = dead_then_healthy(tmp_path, 500, stats)
    assert healthy.connections() >= 1
    assert dead.connections() <= 3  # a connection that delivers nothing is a failure: it moves on
    assert stats.get("unproductive_connections") >= 1


def test_an_endpoint_that_closes_every_connection_after_50_events_still_gets_through(tmp_path: Path) -> None:
    # Given an endpoint that closes each connection after 50 events, and a 5 s rewind (5,000 posts' worth here)
    fake = FakeJetstream(close_every=50)
    posts(fake, 500)
    save_cursor(tmp_path, BASE_TIME_US)
    with fake_jetstream(fake):
        source = source_for(tmp_path, fake.url, bluesky_cursor_rewind_s=5.0)
        sink = ListSink()
        run_source(source, sink, lambda: len(distinct(sink)) == 500)
    # Then each reconnect to the same endpoint resumes where the last one ended (no rewind there)
    assert fake.connections() <= 15
    assert fake.cursors[2] is not None and fake.cursors[1] is not None and fake.cursors[2] > fake.cursors[1]


def test_a_frame_over_the_limit_is_skipped_and_counted_and_the_rest_arrives(tmp_path: Path) -> None:
    fake = FakeJetstream()
    posts(fake, 10)
    huge = post_event(BASE_TIME_US + 10 * STEP_US, "aws " + "x" * (5 * 1024 * 1024), rkey="3khuge")
    fake.add(json.dumps(huge))
    posts(fake, 10, start=11)
    save_cursor(tmp_path, BASE_TIME_US)
    with fake_jetstream(fake):
        source = source_for(tmp_path, fake.url)
        sink = ListSink()
        run_source(source, sink, lambda: len(distinct(sink)) == 20)
    assert sink.dropped == ["frame_too_large"]
    assert fake.connections() == 1


def test_a_cursor_older_than_retention_is_a_gap_logged_counted_and_passed(tmp_path: Path) -> None:
    # Given a saved cursor an hour before Jetstream's oldest event (/subscribe then starts there silently)
    fake = FakeJetstream(floor_time_us=BASE_TIME_US)
    posts(fake, 20)
    save_cursor(tmp_path, BASE_TIME_US - 3600 * 1_000_000)
    stats = Stats()
    with fake_jetstream(fake):
        source = source_for(tmp_path, fake.url, stats=stats)
        sink = ListSink()
        run_source(source, sink, lambda: len(distinct(sink)) == 20)
    # Then the gap is reported with its start, end and size, and reading goes on after it
    snap = stats.snapshot()
    assert snap["gaps"] == 1
    assert snap["gap_seconds"] >= 3600
    assert snap["last_gap"]["reason"] == "cursor_too_old"
    assert snap["last_gap"]["seconds"] >= 3600


def test_jetstream_v2_resumes_by_sequence_number_on_the_same_endpoint(tmp_path: Path) -> None:
    fake = FakeJetstream(v2=True, cut_after=[5, None])
    posts(fake, 20)
    save_cursor(tmp_path, BASE_TIME_US)
    with fake_jetstream(fake):
        source = source_for(tmp_path, fake.url)
        sink = ListSink()
        run_source(source, sink, lambda: len(distinct(sink)) == 20)
    # The first connection asks by time (a v1 timestamp cursor); the reconnect by the instance's own seq
    assert fake.cursors[0] is not None and fake.cursors[0] >= 10**15
    assert fake.cursors[1] == 5  # inclusive: the 5th event again, skipped by id
    saved = json.loads((tmp_path / "state" / CURSOR_FILE).read_text())
    assert saved["seq"] == 20 and saved["endpoint"] == fake.url


def test_the_v2_subscribe_events_wire_and_its_cursor_too_old(tmp_path: Path) -> None:
    # Given the v2 stream endpoint, a saved sequence cursor below its floor (seq 11 is the oldest event kept)
    fake = FakeJetstream(floor_time_us=BASE_TIME_US + 10 * STEP_US + 3600 * 1_000_000)
    posts(fake, 10)
    posts(fake, 10, start=3_600_010)  # an hour later
    stats = Stats()
    with fake_jetstream(fake):
        save_cursor(tmp_path, BASE_TIME_US + 2 * STEP_US, seq=3, endpoint=fake.v2_url)
        source = source_for(tmp_path, fake.v2_url, stats=stats)
        sink = ListSink()
        run_source(source, sink, lambda: len(distinct(sink)) == 10)
    # Then CursorTooOld makes it resume by time, and the hour it could not read is a gap
    assert fake.rejected == 1
    assert fake.cursors[0] is not None and fake.cursors[0] >= 10**15
    assert stats.snapshot()["gaps"] == 1
    assert sorted(distinct(sink))[0].endswith("3k3600010")


class RecordingStats(Stats):
    """Stats that remember every value ``stream_connected`` was set to."""

    def __init__(self) -> None:
        super().__init__()
        self.connected_values: list[object] = []

    def set(self, name: str, value: Any) -> None:
        if name == "stream_connected":
            self.connected_values.append(value)
        super().set(name, value)


def test_stream_connected_means_events_are_arriving(tmp_path: Path) -> None:
    # Given a dead endpoint (accepts each socket, closes it at once), then a healthy one
    stats = RecordingStats()
    dead, healthy = dead_then_healthy(tmp_path, 3, stats, done=lambda dead: dead.connections() >= 1)
    # Then only connections that brought events turned it on (the dead endpoint's sockets never did)
    assert dead.connections() >= 1 and healthy.connections() >= 1
    assert 1 <= stats.connected_values.count(True) <= healthy.connections()
    assert stats.connected_values[-1] is False  # stopped
