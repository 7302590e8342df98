"""The sample generator is deterministic, and the committed sample has the shape the demo relies on."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

import pytest

from scripts.dev import generate_sample as gen

SOURCE = (
    b"1\t2.7\tSomehow I was blessed with some really amazing friends in my life. So lucky.\r\n"
    b"2\t1.4\tYay. Another good phone interview. @anonymous http://url_removed\r\n"
    b"3\t-2.1\tTwo words that should die this year: Sexting and jeggings. Die die die\r\n"
    b"4\t0.1\t@anonymous what time is the meeting tomorrow? #work\r\n"
    b"5\t-1.5\tMy head is killing me, I hate migraines\r\n"
    b"6\t0.0\t@anonymous http://url_removed\r\n"  # nothing left to score once mentions and links go: unused
    b"7\t3.0\tLove love love having good ppl in my corner &amp; the band\r\n"
)
SAMPLE = Path(gen.DEFAULT_OUT)


def test_same_source_and_seed_give_identical_bytes() -> None:
    rows = gen.parse_source(SOURCE)
    first = gen.render_jsonl(rows, count=300, seed=7)
    second = gen.render_jsonl(rows, count=300, seed=7)
    assert first == second
    assert gen.render_jsonl(rows, count=300, seed=8) != first


def test_output_is_pinned_for_the_embedded_source() -> None:
    # Pins the generator's behaviour: if this changes, the committed sample changes too (regenerate it,
    # update PROVENANCE.md, and update this digest in the same commit).
    out = gen.render_jsonl(gen.parse_source(SOURCE), count=50, seed=1)
    assert hashlib.sha256(out).hexdigest() == "021856c06b4d890db4012b6a848cbd6cd82f0f34ac0e0e8a9d9ef44cd4bc23e2"


def test_unusable_source_texts_are_never_emitted() -> None:
    rows = gen.parse_source(SOURCE)
    for line in gen.render_jsonl(rows, count=300, seed=3).decode().splitlines():
        data = json.loads(line)["data"]
        if data["lang"] == "en":
            assert not data["text"].endswith(("t.co/", "url_removed"))
            assert "@anonymous" not in data["text"]
            assert "url_removed" not in data["text"]


@pytest.mark.parametrize(
    "bad",
    [b"1\t2.0\n", b"x\tnot-a-number\ttext\n"],
    ids=["missing-field", "bad-rating"],
)
def test_malformed_source_is_rejected(bad: bytes) -> None:
    with pytest.raises(ValueError):
        gen.parse_source(bad)


def test_sdist_with_wrong_hash_is_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "vaderSentiment-3.3.2.tar.gz"
    fake.write_bytes(b"not the sdist")
    with pytest.raises(ValueError, match="sha256"):
        gen.load_source_from_sdist(fake)


def _sample() -> list[dict]:
    return [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]


def test_committed_sample_is_small_and_well_formed() -> None:
    assert SAMPLE.stat().st_size < 3 * 1024 * 1024
    messages = _sample()
    assert len(messages) == gen.DEFAULT_COUNT
    ids = [m["data"]["id"] for m in messages]
    assert len(set(ids)) == len(ids)
    for message in messages:
        data = message["data"]
        assert isinstance(data, dict)
        assert {"id", "text", "created_at", "lang", "author_id", "public_metrics"} <= set(data)
        assert len(data["text"]) <= 280
        users = message["includes"]["users"]
        assert users[0]["id"] == data["author_id"]
        assert message["matching_rules"]
        text = data["text"]
        entities = data.get("entities", {})
        for tag in entities.get("hashtags", []):
            assert text[tag["start"] : tag["end"]] == "#" + tag["tag"]
        for mention in entities.get("mentions", []):
            assert text[mention["start"] : mention["end"]] == "@" + mention["username"]
        for url in entities.get("urls", []):
            assert text[url["start"] : url["end"]] == url["url"]


def test_committed_sample_covers_languages_and_tweet_kinds() -> None:
    messages = _sample()
    langs = Counter(m["data"]["lang"] for m in messages)
    assert langs["en"] > 0.7 * len(messages)
    for lang in ("es", "fr", "de", "pt", "ja", "und"):
        assert langs[lang] >= 20, lang
    kinds = Counter(ref["type"] for m in messages for ref in m["data"].get("referenced_tweets", []))
    assert kinds["retweeted"] > 100
    assert kinds["replied_to"] > 100
    assert kinds["quoted"] > 50
    retweets = [m for m in messages if m["data"].get("referenced_tweets", [{}])[0].get("type") == "retweeted"]
    assert all(m["data"]["text"].startswith("RT @") for m in retweets)
    by_id = {m["data"]["id"]: m["data"] for m in messages}
    for m in messages:
        for ref in m["data"].get("referenced_tweets", []):
            parent = by_id[ref["id"]]  # every reference points inside the sample, at an earlier tweet
            assert int(parent["id"]) < int(m["data"]["id"])
            assert parent.get("referenced_tweets", [{}])[0].get("type") != "retweeted"
    notes = [m["data"] for m in messages if "note_tweet" in m["data"]]
    assert notes
    assert all(len(n["note_tweet"]["text"]) > 280 for n in notes)
    with_hashtags = [m for m in messages if m["data"].get("entities", {}).get("hashtags")]
    assert len(with_hashtags) > 500


def test_the_bluesky_sample_is_deterministic_and_replays_as_bluesky_documents() -> None:
    from transform.document import build_draft

    from ingester.envelope import from_replay_line

    rows = gen.parse_source(SOURCE)
    first = gen.render_bluesky_jsonl(rows, count=40, seed=7)
    assert first == gen.render_bluesky_jsonl(rows, count=40, seed=7)
    committed = gen.BLUESKY_OUT.read_bytes().splitlines()
    assert len(committed) == gen.BLUESKY_COUNT
    documents = [build_draft(from_replay_line(line), "2026-11-26T10:00:00.000Z").document for line in committed]
    assert {d["source"] for d in documents} == {"bluesky"}
    assert all(d["tweet_id"].startswith("at://did:plc:") for d in documents)
    assert len({d["tweet_id"] for d in documents}) == len(documents)
    assert any(d["is_reply"] for d in documents) and any(d["is_quote"] for d in documents)
    assert any(d["hashtags"] for d in documents) and any(d["mentions"] for d in documents)
    assert len({d["lang"] for d in documents}) > 3
