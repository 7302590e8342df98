"""The ingester end to end with deletions: a fake Jetstream with delete commits and account events, Firehose
(scripted) delivering into the fake OpenSearch, the deleter removing what was deleted, in the races of a delete
that arrives before its post was delivered, while OpenSearch refuses deletes, and across a restart."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from ingester.app import run
from ingester.config import Settings
from ingester.envelope import bluesky_post_uri
from ingester.stats import read_status
from tests.support.fake_jetstream import (
    BASE_TIME_US,
    FakeJetstream,
    account_event,
    delete_event,
    fake_jetstream,
    post_event,
)
from tests.support.fake_opensearch import FakeOpenSearch, serve
from tests.support.ingester import FakeFirehose, throttled

INDEX = "tweets-2026-12-06"


@pytest.fixture
def fake_os() -> Iterator[FakeOpenSearch]:
    with serve() as server:
        yield server


class FirehoseIntoOpenSearch(FakeFirehose):
    """What the deployed path does with a delivered record, reduced to what deletions need: a document with
    ``tweet_id`` and ``author.id`` in a ``tweets-*`` index. ``down`` makes every call fail (an outage)."""

    def __init__(self, fake: FakeOpenSearch) -> None:
        self.down = threading.Event()
        super().__init__(lambda n, data: throttled() if self.down.is_set() else None)
        self.fake = fake

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        answer = super().put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=Records)
        for record, response in zip(Records, answer["RequestResponses"], strict=True):
            if "RecordId" in response:
                envelope = json.loads(record["Data"])
                doc = {"tweet_id": envelope["tweet"]["id"], "author": {"id": envelope["author"]["id"]}}
                self.fake.state.indices.setdefault(INDEX, {})[doc["tweet_id"]] = doc
        return answer


def settings(tmp_path: Path, jetstream_url: str, opensearch_url: str) -> Settings:
    return Settings(
        source="bluesky",
        delivery_stream="test-stream",
        state_dir=tmp_path / "state",
        tracked_terms=("aws",),
        bluesky_endpoints=(jetstream_url,),
        opensearch_endpoint=opensearch_url,
        linger_ms=10,
        status_interval_s=0.05,
        stall_timeout_s=5.0,
        spool_after_s=0.2,
        max_backoff_s=0.2,
        deletion_interval_s=0.05,
        deletion_reapply_interval_s=0.2,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


class Running:
    def __init__(self, s: Settings, client: FakeFirehose) -> None:
        self.stop = threading.Event()
        self.result: list[int] = []
        self.thread = threading.Thread(
            target=lambda: self.result.append(run(s, firehose_client=client, stop_event=self.stop)), daemon=True
        )
        self.thread.start()

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(timeout=60)
        assert self.result == [0]


@contextmanager
def ingester_on_jetstream(
    tmp_path: Path, fake_os: FakeOpenSearch
) -> Iterator[tuple[FakeJetstream, FirehoseIntoOpenSearch, Running]]:
    """A fake Jetstream, and the ingester reading it (connected) with Firehose delivering into ``fake_os``."""
    with fake_jetstream() as js:
        client = FirehoseIntoOpenSearch(fake_os)
        running = Running(settings(tmp_path, js.url, fake_os.url), client)
        wait_for(lambda: js.connections() >= 1)
        yield js, client, running


def indexed(fake: FakeOpenSearch) -> set[str]:
    return set(fake.state.indices.get(INDEX, {}))


def status(tmp_path: Path) -> dict[str, Any]:
    try:
        return read_status(tmp_path / "state")
    except FileNotFoundError:  # not written yet
        return {}


def uri(n: int) -> str:
    return bluesky_post_uri("did:plc:abcdefghijklmnopqrstuvwx", f"3k{n}")


def test_a_thousand_posts_then_a_hundred_deletes_leave_only_the_others(tmp_path: Path, fake_os: FakeOpenSearch) -> None:
    # Given a Jetstream that sends 1,000 posts (500 match) and then deletes 100 matching ones and 50 others
    with ingester_on_jetstream(tmp_path, fake_os) as (js, _client, running):
        for i in range(1000):
            js.add(post_event(BASE_TIME_US + i, "all about aws" if i % 2 == 0 else "nothing", rkey=f"3k{i}"))
        doomed = list(range(0, 1000, 2))[:100]
        others = list(range(1, 1000, 2))[:50]
        for n, i in enumerate(doomed + others):
            js.add(delete_event(BASE_TIME_US + 1000 + n, f"3k{i}"))
        # When the ingester has read them all and the deleter caught up
        wait_for(
            lambda: status(tmp_path).get("deletions_seen") == 150 and status(tmp_path).get("deletions_pending") == 0
        )
        wait_for(lambda: len(indexed(fake_os)) == 400)
        running.finish()
    # Then every deleted post is gone and every other matching post stays
    assert indexed(fake_os) == {uri(i) for i in range(0, 1000, 2)} - {uri(i) for i in doomed}
    final = status(tmp_path)
    assert final["deletions_recorded"] == 100  # the 50 deletes of posts we never stored leave no tombstone
    assert final["deletion_lag_p99_s"] is not None


def test_a_delete_before_its_post_is_delivered_wins_and_an_account_takedown_removes_all(
    tmp_path: Path, fake_os: FakeOpenSearch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every log line the ingester writes, outage warnings and deletions included
    with ingester_on_jetstream(tmp_path, fake_os) as (js, client, running):
        js.add(post_event(BASE_TIME_US, "aws early", rkey="3k0"))
        wait_for(lambda: indexed(fake_os) == {uri(0)})
        # Given Firehose is down: the next posts wait in the writer and the spool
        client.down.set()
        for i in range(1, 6):
            js.add(post_event(BASE_TIME_US + i, "aws in an outage", rkey=f"3k{i}"))
        other = "did:plc:zzzzzzzzzzzzzzzzzzzzzzzz"
        js.add(post_event(BASE_TIME_US + 6, "aws by someone else", rkey="3k6", did=other))
        wait_for(lambda: status(tmp_path).get("accepted") == 7 and status(tmp_path).get("spool_records", 0) >= 1)
        # When posts 2 and 3 are deleted, and the other author's account is taken down, before Firehose is back
        js.add(delete_event(BASE_TIME_US + 7, "3k2"))
        js.add(delete_event(BASE_TIME_US + 8, "3k3"))
        js.add(account_event(BASE_TIME_US + 9, "takendown", did=other))
        wait_for(lambda: status(tmp_path).get("deletions_recorded") == 3)
        client.down.clear()
        wait_for(lambda: indexed(fake_os) == {uri(i) for i in (0, 1, 4, 5)})
        running.finish()
    # Then the deleted posts never reached Firehose at all
    delivered = set(client.delivered_ids())
    assert not delivered & {uri(2), uri(3), bluesky_post_uri(other, "3k6")}
    assert status(tmp_path)["deleted_before_send"] >= 3
    # And no log line holds a post's text (journald and CloudWatch Logs keep ids and counts only)
    assert caplog.records, "the ingester logged nothing: the check below would prove nothing"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for text in ("aws early", "aws in an outage", "aws by someone else"):
        assert text not in logged


def test_a_delete_during_an_opensearch_outage_is_applied_when_it_is_back(
    tmp_path: Path, fake_os: FakeOpenSearch
) -> None:
    with ingester_on_jetstream(tmp_path, fake_os) as (js, _client, running):
        js.add(post_event(BASE_TIME_US, "aws one", rkey="3k0"))
        js.add(post_event(BASE_TIME_US + 1, "aws two", rkey="3k1"))
        wait_for(lambda: len(indexed(fake_os)) == 2)
        fake_os.state.refuse_deletes = 10**6  # OpenSearch refuses every delete
        js.add(delete_event(BASE_TIME_US + 2, "3k0"))
        wait_for(lambda: status(tmp_path).get("deletion_failures", 0) >= 3)
        assert uri(0) in indexed(fake_os) and status(tmp_path)["deletions_pending"] == 1
        js.add(post_event(BASE_TIME_US + 3, "aws three", rkey="3k3"))  # nothing else stops
        wait_for(lambda: uri(3) in indexed(fake_os))
        fake_os.state.refuse_deletes = 0
        wait_for(lambda: indexed(fake_os) == {uri(1), uri(3)})
        running.finish()


def test_tombstones_of_a_previous_run_are_swept_at_start(tmp_path: Path, fake_os: FakeOpenSearch) -> None:
    with ingester_on_jetstream(tmp_path, fake_os) as (js, client, running):
        js.add(post_event(BASE_TIME_US, "aws", rkey="3k0"))
        wait_for(lambda: indexed(fake_os) == {uri(0)})
        js.add(delete_event(BASE_TIME_US + 1, "3k0"))
        wait_for(lambda: indexed(fake_os) == set())
        running.finish()
        # Given a copy of the deleted post indexed while the ingester was down (a redrive, a late Firehose retry)
        fake_os.state.indices[INDEX][uri(0)] = {"tweet_id": uri(0), "author": {"id": "x"}}
        # When the ingester starts again, Then its first sweep removes it
        restarted = Running(settings(tmp_path, js.url, fake_os.url), client)
        wait_for(lambda: indexed(fake_os) == set())
        restarted.finish()
