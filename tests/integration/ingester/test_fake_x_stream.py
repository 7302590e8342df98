"""The X source against a fake X API on 127.0.0.1: rules sync, keep-alives, a 429, a mid-stream
disconnect, a clean operational disconnect, a stall; it reconnects and loses nothing it received."""

from __future__ import annotations

import logging
import re
import threading
import time
from dataclasses import replace
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from ingester.app import run
from ingester.config import Settings
from ingester.sources.x import XSource
from ingester.stats import Stats, read_status
from tests.support.fake_x import Connection, FakeX, serve
from tests.support.ingester import FakeFirehose, ListSink, stream_message, tweet_id
from tests.support.paths import REPO_ROOT


def tweets(start: int, stop: int) -> list[tuple[str, object]]:
    steps: list[tuple[str, object]] = []
    for i in range(start, stop):
        steps.append(("line", stream_message(i)))
        if i % 3 == 0:
            steps.append(("keepalive", None))
    return steps


def settings(tmp_path: Path, url: str, **kwargs: object) -> Settings:
    return Settings(
        source="x",
        delivery_stream="tweets",
        tracked_terms=("aws", "machine learning"),
        x_bearer_token="test-token",
        x_api_base_url=url,
        stall_timeout_s=0.5,
        x_reconnect_backoff_scale=0.01,
        state_dir=tmp_path / "state",
        linger_ms=20,
        status_interval_s=0.1,
        **kwargs,  # type: ignore[arg-type]
    )


def run_until(s: Settings, client: FakeFirehose, done: object, timeout: float = 30.0) -> int:
    stop = threading.Event()
    codes: list[int] = []
    thread = threading.Thread(target=lambda: codes.append(run(s, firehose_client=client, stop_event=stop)))
    thread.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done():  # type: ignore[operator]
        time.sleep(0.05)
    stop.set()
    thread.join(20)
    assert not thread.is_alive(), "run() did not return after stop"
    return codes[0]


def contract_tweet_fields() -> tuple[set[str], str]:
    """The tweet fields and the expansion docs/design.md's envelope contract says X is asked for (read from the
    document, so the code, the contract and this test cannot drift apart unnoticed)."""
    text = " ".join((REPO_ROOT / "docs" / "design.md").read_text(encoding="utf-8").split())
    match = re.search(r"X API v2 tweet object as received \(fields `([a-z_, ]+)`; expansion `([a-z_]+)`\)", text)
    assert match is not None, "docs/design.md no longer states the tweet fields X is asked for"
    return {f.strip() for f in match.group(1).split(",")}, match.group(2)


def test_reconnects_through_429_disconnects_and_stall_without_losing_tweets(tmp_path: Path) -> None:
    # Given an X that answers 429 first, then cuts a stream mid-line, then ends one cleanly after an
    # operational-disconnect payload, then stalls, then replays some posts on the next connection
    fake = FakeX(
        connections=[
            Connection(status=429),
            Connection(steps=[*tweets(0, 10), ("cut", b'{"data": {"id": "10000')]),
            Connection(
                steps=[
                    *tweets(10, 20),
                    ("line", b"{this is not json"),
                    (
                        "line",
                        {
                            "errors": [
                                {
                                    "title": "operational-disconnect",
                                    "disconnect_type": "UpstreamOperationalDisconnect",
                                    "detail": "x",
                                }
                            ]
                        },
                    ),
                    ("end", None),
                ]
            ),
            Connection(steps=[*tweets(20, 25), ("stall", 30.0)]),
            Connection(steps=tweets(15, 30)),  # posts 15..24 again (backfill-like), then 25..29
        ],
        rules=[
            {"id": "98", "value": "kubernetes", "tag": "another tool's rule"},
            {"id": "99", "value": "old rule", "tag": "tsp:old"},
        ],
    )
    client = FakeFirehose()
    with serve(fake):
        code = run_until(settings(tmp_path, fake.url), client, lambda: len(set(client.delivered_ids())) >= 30)
    # Then it exits 0 on stop, and every tweet it received was delivered exactly once
    assert code == 0
    assert sorted(client.delivered_ids()) == sorted(tweet_id(i) for i in range(30))
    # It connected 5 times (429, cut, clean end, stall, final) and counted its reconnects
    assert fake.stream_attempts == 5
    status = read_status(tmp_path / "state")
    assert status["reconnects"] == 3  # four successful connections, the first is not a reconnect
    assert status["duplicates"] == 10
    assert status["dropped"] == {"invalid_json": 1, "stream_error_payload": 1}
    # The rules were synced: our stale rule deleted, one marked rule per term, another tool's rule left alone
    assert sorted((r["value"], r["tag"]) for r in fake.rules) == [
        ('"machine learning"', "tsp:machine learning"),
        ("aws", "tsp:aws"),
        ("kubernetes", "another tool's rule"),
    ]
    # It asked for the fields and the author expansion the envelope contract (docs/design.md §2.1) names, with the
    # bearer token
    fields, expansion = contract_tweet_fields()
    stream_query = next(q for m, p, q in fake.requests if p == "/2/tweets/search/stream")
    assert stream_query["expansions"] == [expansion]
    assert set(stream_query["tweet.fields"][0].split(",")) >= fields
    assert set(fake.auth_headers) == {"Bearer test-token"}


def test_daily_cap_disconnects(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    fake = FakeX(connections=[Connection(steps=tweets(0, 20))])
    client = FakeFirehose()
    with serve(fake):
        code = run_until(
            settings(tmp_path, fake.url, max_posts_per_day=5),
            client,
            lambda: read_status_or_none(tmp_path) is not None and read_status_or_none(tmp_path).get("paused_until"),  # type: ignore[union-attr]
        )
    assert code == 0
    # Only the capped number of posts was read, and the stream was not reconnected
    assert sorted(client.delivered_ids()) == sorted(tweet_id(i) for i in range(5))
    assert fake.stream_attempts == 1
    assert "daily cap MAX_POSTS_PER_DAY=5 reached" in caplog.text


def test_a_line_over_the_limit_is_skipped_and_the_posts_after_it_still_arrive(tmp_path: Path) -> None:
    # Given a stream whose first line is 5 MB (over MAX_LINE_BYTES, 4 MiB), then 20 posts
    huge = b'{"data": {"id": "1", "text": "' + b"a" * 5_000_000 + b'"}}'
    fake = FakeX(connections=[Connection(steps=[("line", huge), *tweets(0, 20), ("gate", threading.Event())])])
    client = FakeFirehose()
    with serve(fake):
        code = run_until(settings(tmp_path, fake.url), client, lambda: len(client.delivered_ids()) >= 20)
    # Then the posts are delivered, and the long line is reported dropped (never parsed, never buffered whole)
    assert code == 0
    assert sorted(client.delivered_ids()) == sorted(tweet_id(i) for i in range(20))
    status = read_status_or_none(tmp_path)
    assert status is not None and status["dropped"] == {"line_too_long": 1}


def test_the_monthly_cap_disconnects_and_x_usage_becomes_a_metric(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Given 18 posts read earlier this month and a monthly cap of 20, and X reporting 1.7 of 2 million reads
    (tmp_path / "state").mkdir()
    month = time.strftime("%Y-%m", time.gmtime())
    (tmp_path / "state" / "x-monthly-count.json").write_text(f'{{"date": "{month}", "count": 18}}')
    fake = FakeX(connections=[Connection(steps=tweets(0, 20))])
    fake.usage = {"cap_reset_day": 10, "project_cap": "2000000", "project_id": "1", "project_usage": "1700000"}
    client = FakeFirehose()
    with serve(fake):
        code = run_until(
            settings(tmp_path, fake.url, max_posts_per_month=20, x_usage_interval_s=0.2),
            client,
            lambda: (
                (read_status_or_none(tmp_path) or {}).get("paused_until")
                and (read_status_or_none(tmp_path) or {}).get("x_usage_percent") is not None
            ),
        )
    # Then only 2 more posts were read, and X's count is in the status (85 % of its cap: warned)
    assert code == 0
    assert len(client.delivered_ids()) == 2
    assert "monthly cap MAX_POSTS_PER_MONTH=20 reached" in caplog.text
    status = read_status_or_none(tmp_path)
    assert status is not None and status["x_usage_percent"] == 85.0 and status["x_usage_cap"] == 2_000_000
    assert "X usage at 85.0 % of the monthly cap" in caplog.text
    assert any(path == "/2/usage/tweets" for _, path, _ in fake.requests)


def read_status_or_none(tmp_path: Path) -> dict[str, object] | None:
    try:
        return read_status(tmp_path / "state")
    except (FileNotFoundError, ValueError):
        return None


def test_bad_token_fails_rule_sync_with_exit_2(tmp_path: Path) -> None:
    fake = FakeX(connections=[], token="the-real-token")
    client = FakeFirehose()
    with serve(fake):
        code = run(settings(tmp_path, fake.url), firehose_client=client)
    assert code == 2
    assert fake.stream_attempts == 0


def test_placeholder_token_in_ssm_is_re_read_until_x_accepts_it(tmp_path: Path) -> None:
    # Given a token from SSM that is still Terraform's placeholder, and set to the real one a little later
    fake = FakeX(connections=[Connection(steps=tweets(0, 5))], token="the-real-token")
    reads = iter(["placeholder", "the-real-token"])
    sink = ListSink()
    stop = threading.Event()
    with serve(fake):
        s = replace(
            settings(tmp_path, fake.url), x_bearer_token=None, x_bearer_token_ssm_parameter="/tweets/x-bearer-token"
        )
        source = XSource(s, "placeholder", Stats(), token_refresher=lambda: next(reads, "the-real-token"))
        thread = threading.Thread(target=source.run, args=(sink, stop))
        # When the ingester starts
        thread.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(sink.accepted) < 5:
            time.sleep(0.05)
        stop.set()
        source.close()
        thread.join(20)
    # Then it kept re-reading the token instead of exiting, synced the rules and streamed every tweet
    assert not thread.is_alive()
    assert [e["tweet"]["id"] for e in sink.accepted] == [tweet_id(i) for i in range(5)]
    assert {r["tag"] for r in fake.rules} == {"tsp:aws", "tsp:machine learning"}
    assert fake.auth_headers.count("Bearer placeholder") == 2
    assert fake.auth_headers[-1] == "Bearer the-real-token"


@pytest.mark.moto_server
def test_cli_rules_and_check(
    tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ingester.cli import main
    from tests.support.firehose import make_stream

    make_stream("tweets", "tweets-raw")
    fake = FakeX(
        connections=[],
        rules=[
            {"id": "98", "value": "kubernetes", "tag": "demo"},  # another tool's: never deleted
            {"id": "99", "value": "old rule", "tag": "tsp:old"},
        ],
    )
    with serve(fake):
        for key, value in {
            "INGESTER_SOURCE": "x",
            "DELIVERY_STREAM_NAME": "tweets",
            "AWS_REGION": "us-east-1",
            "TRACKED_TERMS": "aws,machine learning",
            "X_BEARER_TOKEN": "test-token",
            "X_API_BASE_URL": fake.url,
            "STATE_DIR": str(tmp_path / "state"),
        }.items():
            monkeypatch.setenv(key, value)
        common = ["--env-file", str(tmp_path / "none")]
        # rules: shows the diff, changes nothing
        assert main(["rules", *common]) == 0
        out = capsys.readouterr().out
        assert "- delete 99 tag='tsp:old' old rule" in out
        assert "+ add    tag='tsp:aws' aws" in out
        assert "delete 98" not in out
        assert "--apply" in out
        assert [r["id"] for r in fake.rules] == ["98", "99"]
        # check: everything reachable, rules differ (reported, not a failure)
        assert main(["check", *common]) == 0
        out = capsys.readouterr().out
        assert "OK    firehose" in out and "rules differ: 2 to add, 1 stale" in out
        # rules --apply syncs; a second look is in sync
        assert main(["rules", "--apply", *common]) == 0
        assert sorted(r["tag"] for r in fake.rules) == ["demo", "tsp:aws", "tsp:machine learning"]
        capsys.readouterr()
        assert main(["rules", *common]) == 0
        assert "in sync" in capsys.readouterr().out
        # check fails clearly on a bad token and a missing stream
        monkeypatch.setenv("X_BEARER_TOKEN", "wrong")
        monkeypatch.setenv("DELIVERY_STREAM_NAME", "missing")
        assert main(["check", *common]) == 1
        out = capsys.readouterr().out
        assert "FAIL  firehose" in out and "ResourceNotFoundException" in out
        assert "FAIL  x_api" in out and "401" in out


# --- token parameter not put yet (Terraform creates only the key; `make x-token` puts the parameter) ---------------


def ssm_settings(tmp_path: Path, url: str) -> Settings:
    return replace(
        settings(tmp_path, url),
        x_bearer_token=None,
        x_bearer_token_ssm_parameter="/tweets/x-bearer-token",
        aws_region="us-east-1",
    )


@mock_aws
def test_missing_token_parameter_is_waited_for_then_streamed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Given a box whose token parameter does not exist yet (poll interval 30 s x 0.01 = 0.3 s)
    fake = FakeX(connections=[Connection(steps=tweets(0, 5))], token="the-real-token")
    client = FakeFirehose()
    ssm = boto3.client("ssm", region_name="us-east-1")
    waited: list[bool] = []

    def put_later() -> bool:
        # When the operator puts it after the daemon started and found it missing
        if not waited:
            status = read_status_or_none(tmp_path)
            if status is None or not status.get("waiting_for_token"):
                return False
            waited.append(True)
            ssm.put_parameter(Name="/tweets/x-bearer-token", Value="the-real-token", Type="SecureString")
        return len(client.delivered_ids()) >= 5

    with caplog.at_level(logging.INFO), serve(fake):
        code = run_until(ssm_settings(tmp_path, fake.url), client, put_later)
    # Then it waited instead of exiting, and streamed with the token once it existed
    assert code == 0
    assert waited
    assert sorted(client.delivered_ids()) == sorted(tweet_id(i) for i in range(5))
    assert set(fake.auth_headers) == {"Bearer the-real-token"}
    missing = [r.getMessage() for r in caplog.records if "does not exist yet" in r.getMessage()]
    assert len(missing) == 1, missing  # said once, not at every re-read
    assert "/tweets/x-bearer-token" in missing[0] and "make x-token" in missing[0]
    assert "the-real-token" not in caplog.text


@mock_aws
def test_token_parameter_created_with_the_wrong_type_stops_with_exit_2(tmp_path: Path) -> None:
    # Given a missing parameter that is then created as a plain String
    fake = FakeX(connections=[], token="the-real-token")
    ssm = boto3.client("ssm", region_name="us-east-1")
    stop = threading.Event()
    codes: list[int] = []
    with serve(fake):
        thread = threading.Thread(
            target=lambda: codes.append(
                run(ssm_settings(tmp_path, fake.url), firehose_client=FakeFirehose(), stop_event=stop)
            )
        )
        thread.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (read_status_or_none(tmp_path) or {}).get("waiting_for_token"):
            time.sleep(0.05)
        ssm.put_parameter(Name="/tweets/x-bearer-token", Value="the-real-token", Type="String")
        thread.join(20)
        stop.set()
    # Then the daemon stops as a configuration error (not restarted) and never called X
    assert not thread.is_alive()
    assert codes == [2]
    assert fake.stream_attempts == 0 and fake.auth_headers == []
