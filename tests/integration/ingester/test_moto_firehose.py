"""Over real HTTP: the ingester replays N tweets into a moto Firehose stream with an S3 destination;
moto writes the delivered records into its S3, and every tweet is found there."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from ingester.app import run
from ingester.checks import check_firehose
from ingester.config import Settings
from tests.support.firehose import make_stream, read_back
from tests.support.ingester import tweet_id, write_replay

pytestmark = pytest.mark.moto_server


def replay_settings(tmp_path: Path, stream: str, tweets: int, **overrides: Any) -> Settings:
    """The ingester replaying ``tweets`` generated tweets into ``stream``, its state under tmp_path."""
    replay = write_replay(tmp_path / "tweets.jsonl", tweets)
    return Settings(
        source="replay",
        replay_file=replay,
        delivery_stream=stream,
        aws_region="us-east-1",
        state_dir=tmp_path / "state",
        **overrides,
    )


def test_replay_lands_every_tweet_in_s3(moto_endpoint: str, tmp_path: Path) -> None:
    # Given a delivery stream with an S3 destination in the emulator
    make_stream("tweets", "tweets-raw")
    # A linger longer than the run: only full batches and the end-of-input flush make calls (with 50 ms a
    # loaded machine's reader can fall behind and flush a part batch on age, a 4th call).
    settings = replay_settings(tmp_path, "tweets", 1500, linger_ms=60_000)
    assert check_firehose(settings)[1] is True
    # When the ingester replays the file through boto3 (AWS_ENDPOINT_URL points at moto)
    assert run(settings) == 0
    # Then every tweet is in S3, once, as an envelope from the replay source
    found = read_back("tweets-raw")
    ids = sorted(str(item["tweet"]["id"]) for item in found)  # type: ignore[index]
    assert ids == sorted(tweet_id(i) for i in range(1500))
    assert {item["source"] for item in found} == {"replay"}
    status = json.loads((tmp_path / "state" / "status.json").read_text())
    assert status["api_calls"] == 3  # 500 + 500 + 500


def test_missing_stream_is_spooled_then_delivered_when_it_exists(moto_endpoint: str, tmp_path: Path) -> None:
    # Given no delivery stream yet: the ingester spools what it reads and exits on stop with it on disk
    import threading

    settings = replay_settings(tmp_path, "late", 50, linger_ms=20, spool_after_s=0.2, max_backoff_s=0.2)
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(run(settings, stop_event=stop)))
    thread.start()
    spool_dir = tmp_path / "state" / "spool"
    for _ in range(100):
        if sum(p.read_bytes().count(b"\n") for p in spool_dir.glob("*.jsonl")) == 50:
            break
        thread.join(0.1)
    stop.set()
    thread.join(20)
    assert codes == [0]
    assert sum(p.read_bytes().count(b"\n") for p in spool_dir.glob("*.jsonl")) == 50
    # When the stream exists and the ingester runs again (an empty replay: only the spool to drain)
    make_stream("late", "late-raw")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert run(Settings(**{**settings.__dict__, "replay_file": empty})) == 0
    # Then the spooled tweets are delivered
    assert sorted(str(i["tweet"]["id"]) for i in read_back("late-raw")) == sorted(tweet_id(i) for i in range(50))  # type: ignore[index]


def test_cloudwatch_metrics_are_published(moto_endpoint: str, tmp_path: Path) -> None:
    make_stream("tweets", "tweets-raw")
    settings = replay_settings(
        tmp_path, "tweets", 40, linger_ms=20, cloudwatch_metrics=True, metrics_namespace="Test/Ingester"
    )
    assert run(settings) == 0
    cloudwatch = boto3.client("cloudwatch", region_name="us-east-1")
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace="Test/Ingester")["Metrics"]}
    assert {"Received", "Delivered", "Spooled", "Dropped", "StreamConnected"} <= names
    import datetime as dt

    now = dt.datetime.now(dt.UTC)
    stats = cloudwatch.get_metric_statistics(
        Namespace="Test/Ingester",
        MetricName="Delivered",
        Dimensions=[{"Name": "DeliveryStream", "Value": "tweets"}],
        StartTime=now - dt.timedelta(minutes=5),
        EndTime=now + dt.timedelta(minutes=5),
        Period=60,
        Statistics=["Sum"],
    )
    assert sum(p["Sum"] for p in stats["Datapoints"]) == 40
