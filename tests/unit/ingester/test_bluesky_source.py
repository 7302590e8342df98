"""The Bluesky source against a local fake Jetstream: envelopes, filtering, malformed frames, reconnects, resuming."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from transform.document import build_draft

from ingester.app import run
from ingester.backoff import Backoff
from ingester.config import ConfigError, Settings
from ingester.config_require import require_for_run
from ingester.envelope import bluesky_post, from_bluesky_post
from ingester.rules import TermMatcher
from ingester.sources.bluesky import CURSOR_FILE, BlueskySource, with_cursor
from ingester.stats import Stats
from tests.support.fake_jetstream import BASE_TIME_US, DID, FakeJetstream, fake_jetstream, post_event
from tests.support.ingester import FakeFirehose, ListSink
from tests.support.paths import SCHEMAS_DIR

TERMS = ("aws", "#serverless", "amazon web services", "@alice")


def settings(tmp_path: Path, url: str, **kwargs: Any) -> Settings:
    values: dict[str, Any] = {
        "source": "bluesky",
        "delivery_stream": "test-stream",
        "state_dir": tmp_path / "state",
        "tracked_terms": TERMS,
        "bluesky_endpoints": (url,),
        "linger_ms": 10,
        "status_interval_s": 0.05,
        "stall_timeout_s": 5.0,
        **kwargs,
    }
    return Settings(**values)


def wait_for(condition: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


# -- envelope and document ---------------------------------------------------------------------------------


def test_a_post_becomes_an_envelope_the_transform_turns_into_the_usual_document() -> None:
    text = "Replying to @bob.bsky.social about #Serverless on AWS"
    encoded = text.encode()
    at = encoded.index(b"@bob")
    tag = encoded.index(b"#Serverless")
    facets = [
        {
            "index": {"byteStart": at, "byteEnd": at + len(b"@bob.bsky.social")},
            "features": [{"$type": "app.bsky.richtext.facet#mention", "did": "did:plc:bob"}],
        },
        {
            "index": {"byteStart": tag, "byteEnd": tag + len(b"#Serverless")},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "Serverless"}],
        },
    ]
    parent = "at://did:plc:other/app.bsky.feed.post/3kparent"
    quoted = "at://did:plc:third/app.bsky.feed.post/3kquoted"
    event = post_event(BASE_TIME_US, text, rkey="3kabc", langs=["de", "en"], facets=facets, reply_to=parent)
    event["commit"]["record"]["embed"] = {
        "$type": "app.bsky.embed.recordWithMedia",
        "record": {"$type": "app.bsky.embed.record", "record": {"uri": quoted, "cid": "bafyq"}},
        "media": {"$type": "app.bsky.embed.images", "images": []},
    }
    post = bluesky_post(event)
    assert post is not None
    envelope = from_bluesky_post(*post, TermMatcher(TERMS).matches(text))
    assert envelope["source"] == "bluesky"
    assert envelope["tweet"]["id"] == f"at://{DID}/app.bsky.feed.post/3kabc"
    assert envelope["matching_rules"] == [{"id": None, "tag": "aws"}, {"id": None, "tag": "#serverless"}]
    jsonschema.validate(envelope, json.loads((SCHEMAS_DIR / "envelope.schema.json").read_text()))

    document = build_draft(json.loads(json.dumps(envelope)), "2026-11-30T12:00:01.000Z").document
    assert document["tweet_id"] == f"at://{DID}/app.bsky.feed.post/3kabc"
    assert document["source"] == "bluesky"
    assert document["lang"] == "de"
    assert document["hashtags"] == ["serverless"]
    assert document["mentions"] == ["bob.bsky.social"]
    assert (document["is_reply"], document["is_quote"], document["is_retweet"]) == (True, True, False)
    assert document["author"]["id"] == DID
    assert document["created_at"].startswith("2026-11-30T12:00:00")
    assert document["rules"] == ["aws", "#serverless"]


@pytest.mark.parametrize(
    "event",
    [
        post_event(BASE_TIME_US, "aws", operation="delete"),
        {"did": DID, "time_us": BASE_TIME_US, "kind": "identity", "identity": {"did": DID}},
        {**post_event(BASE_TIME_US, "aws"), "commit": {**post_event(BASE_TIME_US, "aws")["commit"], "collection": "x"}},
    ],
)
def test_events_that_create_no_post_are_not_posts(event: dict[str, Any]) -> None:
    assert bluesky_post(event) is None


def test_the_local_filter_matches_whole_words_hashtags_phrases_and_mentions_in_any_case() -> None:
    matcher = TermMatcher(TERMS)
    assert matcher.matches("I love AWS.") == ["aws"]
    assert matcher.matches("#aws rocks") == ["aws"]
    assert matcher.matches("new laws and jaws") == []
    assert matcher.matches("going #SERVERLESS today") == ["#serverless"]
    assert matcher.matches("serverless without the hash") == []
    assert matcher.matches("Amazon   Web\nServices is big") == ["amazon web services"]
    assert matcher.matches("amazon web servicesx") == []
    assert matcher.matches("hi @Alice.bsky.social") == ["@alice"]
    assert matcher.matches("hi @alicex") == []
    with pytest.raises(ConfigError):
        TermMatcher(["  "])


def test_bluesky_needs_tracked_terms_but_no_x_token(tmp_path: Path) -> None:
    require_for_run(Settings(source="bluesky", delivery_stream="s", tracked_terms=("aws",)))
    with pytest.raises(ConfigError, match="TRACKED_TERMS"):
        require_for_run(Settings(source="bluesky", delivery_stream="s"))
    with pytest.raises(ConfigError, match="ws:// or wss://"):
        Settings(source="bluesky", bluesky_endpoints=("https://example.com",))


def test_the_cursor_replaces_any_cursor_already_in_the_url() -> None:
    url = "wss://h/subscribe?wantedCollections=app.bsky.feed.post&cursor=5"
    assert with_cursor(url, 42) == "wss://h/subscribe?wantedCollections=app.bsky.feed.post&cursor=42"
    assert with_cursor(url, None) == "wss://h/subscribe?wantedCollections=app.bsky.feed.post"


# -- against the fake Jetstream ---------------------------------------------------------------------------------


def run_source(source: BlueskySource, sink: ListSink, until: Any) -> None:
    stop = threading.Event()
    thread = threading.Thread(target=source.run, args=(sink, stop), daemon=True)
    thread.start()
    try:
        wait_for(until)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_matching_posts_are_accepted_the_rest_filtered_and_malformed_frames_dropped(tmp_path: Path) -> None:
    with fake_jetstream() as fake:
        stats = Stats()
        source = BlueskySource(settings(tmp_path, fake.url), stats)
        sink = ListSink()
        (tmp_path / "state").mkdir()
        frames: list[dict[str, Any] | str | bytes] = [
            post_event(BASE_TIME_US + 1, "all about AWS"),
            post_event(BASE_TIME_US + 2, "nothing to see"),
            "{not json",
            b"\xff\xfe",
            json.dumps({"did": DID, "time_us": BASE_TIME_US + 5, "kind": "commit", "commit": "x"}),
            post_event(BASE_TIME_US + 6, "aws", operation="delete"),
            {"did": DID, "time_us": BASE_TIME_US + 7, "kind": "account", "account": {"active": True}},
            json.dumps({**post_event(BASE_TIME_US + 8, "aws"), "did": 5}),
            post_event(BASE_TIME_US + 9, "Try #serverless"),
        ]

        def feed() -> bool:
            if fake.connections() and not fake.events:
                for frame in frames:
                    fake.add(frame)
            return len(sink.accepted) >= 2 and len(sink.dropped) >= 4

        run_source(source, sink, feed)
    assert [e["tweet"]["text"] for e in sink.accepted] == ["all about AWS", "Try #serverless"]
    assert sorted(sink.dropped) == ["bad_commit", "invalid_json", "invalid_json", "missing_tweet_id"]
    # the delete is a deletion event (of a post this source has no store for), not a filtered post
    assert stats.snapshot()["filtered_out"] == 2
    assert stats.snapshot()["deletions_seen"] == 1
    saved = json.loads((tmp_path / "state" / CURSOR_FILE).read_text())
    assert saved["time_us"] == BASE_TIME_US + 9


def test_a_cut_connection_is_reopened_with_a_rewound_cursor_and_nothing_is_lost(tmp_path: Path) -> None:
    fake = FakeJetstream(cut_after=[3, None])
    for i in range(10):
        fake.add(post_event(BASE_TIME_US + i * 1_000_000, f"aws post {i}"))
    with fake_jetstream(fake):
        # A first connection without a cursor starts at the live tip: give it a saved cursor to start from.
        state = tmp_path / "state"
        state.mkdir()
        (state / CURSOR_FILE).write_text(json.dumps({"time_us": BASE_TIME_US + 2_000_000, "recent": []}))
        source = BlueskySource(
            settings(tmp_path, fake.url, bluesky_cursor_rewind_s=2.0), Stats(), backoff=Backoff(0.01, 0.05)
        )
        sink = ListSink()
        run_source(source, sink, lambda: len({e["tweet"]["text"] for e in sink.accepted}) == 10)
    assert fake.cursors[0] == BASE_TIME_US  # the saved cursor minus the 2 s rewind
    # 3 events sent (0, 1, 2); the reconnect asks from the last one handled (2) minus 2 s: 0 again.
    assert fake.cursors[1] == BASE_TIME_US
    texts = [e["tweet"]["text"] for e in sink.accepted]
    assert sorted(set(texts)) == sorted(f"aws post {i}" for i in range(10))
    # ListSink keeps repeats: the pipeline's dedupe window removes them (next test, through the whole ingester).
    assert len(texts) > 10


def test_the_whole_ingester_resumes_after_a_restart_with_nothing_lost_and_nothing_twice(tmp_path: Path) -> None:
    """Disconnect mid-run, stop, more posts while it is down, restart: Firehose gets each matching post once."""
    fake = FakeJetstream(cut_after=[4, None, None])
    client = FakeFirehose()
    expected: list[str] = []
    step = 300_000  # 0.3 s apart in Jetstream time: the 5 s rewind replays several posts

    def add(i: int) -> None:
        text = f"aws post {i}" if i % 3 else f"unrelated post {i}"
        event = post_event(BASE_TIME_US + i * step, text, rkey=f"3k{i:04d}")
        if i % 3:
            expected.append(f"at://{DID}/app.bsky.feed.post/3k{i:04d}")
        fake.add(event)

    with fake_jetstream(fake):
        s = settings(tmp_path, fake.url)

        def one_run(until: Any) -> int:
            stop = threading.Event()
            result: list[int] = []
            thread = threading.Thread(target=lambda: result.append(run(s, firehose_client=client, stop_event=stop)))
            thread.start()
            wait_for(until)
            stop.set()
            thread.join(timeout=30)
            assert result == [0]
            return result[0]

        def first_run_done() -> bool:
            if fake.connections() == 1 and not fake.events:
                for i in range(30):
                    add(i)
            return len(set(client.delivered_ids())) == len(expected) == 20

        one_run(first_run_done)
        assert fake.connections() >= 2  # the cut after 4 events made it reconnect
        for i in range(30, 45):  # posted while the ingester is down
            add(i)
        one_run(lambda: len(set(client.delivered_ids())) == len(expected) == 30)

    delivered = client.delivered_ids()
    assert sorted(delivered) == sorted(expected)  # every matching post, once, across the cut and the restart
    assert fake.cursors[-1] is not None and fake.cursors[-1] < BASE_TIME_US + 29 * step
    documents = [json.loads(d) for d in client.delivered]
    assert {d["source"] for d in documents} == {"bluesky"}
