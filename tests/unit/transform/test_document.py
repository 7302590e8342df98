"""Envelope v1 → document: entities, fallbacks, flags, metrics, author, timestamps, strict required fields."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from transform.codec import DecodeError
from transform.document import (
    MAX_ANNOTATIONS,
    MAX_TEXT_CHARS,
    build_draft,
    hashtags_from_text,
    mentions_from_text,
    parse_timestamp,
)

from tests.support.transform import BASE_ENVELOPE, envelope

NOW = "2026-11-26T10:00:01.000Z"


def doc(env: dict[str, Any]) -> dict[str, Any]:
    return build_draft(env, NOW).document


def test_full_envelope_maps_every_field() -> None:
    document = doc(envelope())
    assert document == {
        "tweet_id": "1861000000000000001",
        "created_at": "2026-11-26T09:59:58.000Z",
        "received_at": "2026-11-26T10:00:00.123Z",
        "processed_at": NOW,
        "text": "I love the new #AWS console, thanks @awscloud!",
        "lang": "en",
        "author": {"id": "42", "username": "alice", "name": "Alice", "followers_count": 100},
        "hashtags": ["aws"],
        "mentions": ["awscloud"],
        "entities": [{"type": "Organization", "text": "AWS", "probability": 0.8123}],
        "topics": [
            {"domain": "Brand", "entity": "Amazon"},
            {"domain": "Unified Twitter Taxonomy", "entity": "Technology"},
        ],
        "is_retweet": False,
        "is_reply": False,
        "is_quote": False,
        "metrics": {"retweet_count": 1, "reply_count": 2, "like_count": 3, "quote_count": 4},
        "rules": ["aws"],
        "source": "x",
    }


def test_entities_are_lower_cased_deduplicated_in_order_of_appearance() -> None:
    env = envelope()
    env["tweet"]["entities"] = {
        "hashtags": [
            {"start": 30, "end": 35, "tag": "Beta"},
            {"start": 0, "end": 6, "tag": "ALPHA"},
            {"start": 40, "end": 46, "tag": "alpha"},
        ],
        "mentions": [{"start": 10, "end": 14, "username": "Bob"}, {"start": 2, "end": 5, "username": "amy"}],
    }
    document = doc(env)
    assert document["hashtags"] == ["alpha", "beta"]
    assert document["mentions"] == ["amy", "bob"]


def test_entities_without_hashtags_mean_none_even_if_text_has_a_hash() -> None:
    env = envelope()
    env["tweet"]["entities"] = {"urls": []}
    assert doc(env)["hashtags"] == []
    assert doc(env)["mentions"] == []


def test_missing_entities_fall_back_to_parsing_the_text() -> None:
    text = "#Launch day! @Bob and @bob: #launch #2026 #v2 mail me@example.com, a#b, C#, &#39; #日本 ＃Full"
    document = doc(envelope(text=text))
    assert document["hashtags"] == ["launch", "v2", "日本", "full"]
    assert document["mentions"] == ["bob"]


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("RT @user_1: hi", ["user_1"]),
        ("@a @abcdefghijklmnop too long", ["a"]),  # 16 characters: not a username
        ("x@y.com", []),
        ("(@Paren)", ["paren"]),
    ],
)
def test_mention_parsing(text: str, mentions: list[str]) -> None:
    assert [m.lower() for m in mentions_from_text(text)] == mentions


def test_x_annotations_become_entities_once_per_type_and_text_with_the_highest_probability() -> None:
    env = envelope()
    env["tweet"]["entities"]["annotations"] = [
        {"start": 0, "end": 4, "probability": 0.5, "type": "Person", "normalized_text": "Jeff"},
        {"start": 9, "end": 13, "probability": 0.9, "type": "Person", "normalized_text": "jeff "},
        {"start": 20, "end": 24, "probability": 0.7, "type": "Place", "normalized_text": "Jeff"},
        {"start": 30, "end": 33, "type": "Product", "normalized_text": "S3"},  # no probability: kept, null
        {"start": 40, "end": 44, "probability": True, "type": "Other", "normalized_text": "Odd"},  # bool is no number
        {"type": "Person", "normalized_text": "  "},  # blank text: dropped
        {"type": None, "normalized_text": "NoType"},  # no type: dropped
        "not an object",
    ]
    assert doc(env)["entities"] == [
        {"type": "Person", "text": "Jeff", "probability": 0.9},
        {"type": "Place", "text": "Jeff", "probability": 0.7},
        {"type": "Product", "text": "S3", "probability": None},
        {"type": "Other", "text": "Odd", "probability": None},
    ]


def test_note_tweet_annotations_win_and_the_tweets_own_are_the_fallback() -> None:
    env = envelope()
    env["tweet"]["note_tweet"] = {"text": "the full text about Lambda", "entities": {"hashtags": []}}
    assert doc(env)["entities"] == [{"type": "Organization", "text": "AWS", "probability": 0.8123}]
    env["tweet"]["note_tweet"]["entities"]["annotations"] = [
        {"probability": 0.6, "type": "Product", "normalized_text": "Lambda"}
    ]
    assert doc(env)["entities"] == [{"type": "Product", "text": "Lambda", "probability": 0.6}]


def test_context_annotations_become_topic_names_each_pair_once() -> None:
    env = envelope()
    brand = {"domain": {"id": "47", "name": "Brand"}, "entity": {"id": "1", "name": "Amazon"}}
    env["tweet"]["context_annotations"] = [
        brand,
        {"domain": {"id": "46", "name": "Business Taxonomy"}, "entity": {"id": "1", "name": "Amazon"}},
        copy.deepcopy(brand),
        {"domain": {"name": "Brand"}},  # no entity
        {"domain": "Brand", "entity": {"name": "x"}},  # domain not an object
        {"domain": {"name": ""}, "entity": {"name": "x"}},
    ]
    assert doc(env)["topics"] == [
        {"domain": "Brand", "entity": "Amazon"},
        {"domain": "Business Taxonomy", "entity": "Amazon"},
    ]


@pytest.mark.parametrize("bad", [None, "text", {"annotations": "no list"}, {"annotations": []}])
def test_missing_or_malformed_annotations_give_empty_lists(bad: object) -> None:
    env = envelope()
    env["tweet"]["entities"] = bad
    env["tweet"]["context_annotations"] = bad
    document = doc(env)
    assert (document["entities"], document["topics"]) == ([], [])


def test_annotations_are_capped_per_document() -> None:
    env = envelope()
    env["tweet"]["entities"]["annotations"] = [
        {"type": "Other", "normalized_text": f"thing {i}", "probability": 0.5} for i in range(MAX_ANNOTATIONS + 5)
    ]
    env["tweet"]["context_annotations"] = [
        {"domain": {"name": "D"}, "entity": {"name": f"e{i}"}} for i in range(MAX_ANNOTATIONS + 5)
    ]
    document = doc(env)
    assert len(document["entities"]) == len(document["topics"]) == MAX_ANNOTATIONS
    assert document["entities"][-1]["text"] == f"thing {MAX_ANNOTATIONS - 1}"


def test_hashtag_needs_a_letter() -> None:
    assert hashtags_from_text("#1 #123 #a1 #_x") == ["a1", "_x"]


def test_note_tweet_supplies_full_text_and_its_own_entities() -> None:
    env = envelope()
    env["tweet"]["text"] = "A long post that X truncated… https://t.co/abc"
    env["tweet"]["note_tweet"] = {
        "text": "A long post that X truncated, now in full. #Serverless with @Jeff",
        "entities": {"hashtags": [{"start": 43, "end": 54, "tag": "Serverless"}], "mentions": []},
    }
    document = doc(env)
    assert document["text"].endswith("#Serverless with @Jeff")
    assert document["hashtags"] == ["serverless"]
    assert document["mentions"] == []


def test_note_tweet_without_entities_is_parsed() -> None:
    env = envelope()
    env["tweet"]["note_tweet"] = {"text": "full text #One @two"}
    document = doc(env)
    assert (document["hashtags"], document["mentions"]) == (["one"], ["two"])


@pytest.mark.parametrize("note", [{"text": ""}, {"text": None}, "not an object", {"entities": {}}])
def test_unusable_note_tweet_is_ignored(note: object) -> None:
    env = envelope()
    env["tweet"]["note_tweet"] = note
    assert doc(env)["text"] == BASE_ENVELOPE["tweet"]["text"]


@pytest.mark.parametrize(
    ("refs", "flags"),
    [
        (None, (False, False, False)),
        ([{"type": "retweeted", "id": "1"}], (True, False, False)),
        ([{"type": "replied_to", "id": "1"}], (False, True, False)),
        ([{"type": "quoted", "id": "1"}], (False, False, True)),
        ([{"type": "replied_to", "id": "1"}, {"type": "quoted", "id": "2"}], (False, True, True)),
        (["garbage", {"id": "3"}], (False, False, False)),
        ("not a list", (False, False, False)),
    ],
)
def test_referenced_tweets_flags(refs: object, flags: tuple[bool, bool, bool]) -> None:
    env = envelope()
    if refs is not None:
        env["tweet"]["referenced_tweets"] = refs
    document = doc(env)
    assert (document["is_retweet"], document["is_reply"], document["is_quote"]) == flags


def test_metrics_default_to_zero_and_ignore_bad_values() -> None:
    env = envelope()
    env["tweet"]["public_metrics"] = {
        "retweet_count": -1,
        "reply_count": "7",
        "like_count": True,
        "quote_count": 2**40,
        "impression_count": 9,
    }
    assert doc(env)["metrics"] == {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 2**31 - 1}
    del env["tweet"]["public_metrics"]
    assert doc(env)["metrics"] == {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0}


def test_author_falls_back_to_author_id_and_x_user_public_metrics() -> None:
    env = envelope()
    env["author"] = {"username": "bob", "public_metrics": {"followers_count": 5}}
    assert doc(env)["author"] == {"id": "42", "username": "bob", "name": None, "followers_count": 5}
    env["author"] = None
    assert doc(env)["author"] == {"id": "42", "username": None, "name": None, "followers_count": None}
    del env["author"]
    del env["tweet"]["author_id"]
    assert doc(env)["author"] == {"id": None, "username": None, "name": None, "followers_count": None}


def test_created_at_falls_back_to_received_at() -> None:
    env = envelope()
    del env["tweet"]["created_at"]
    assert doc(env)["created_at"] == "2026-11-26T10:00:00.123Z"
    env["tweet"]["created_at"] = "yesterday"
    assert doc(env)["created_at"] == "2026-11-26T10:00:00.123Z"


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("2026-11-26T10:00:00Z", "2026-11-26T10:00:00.000Z"),
        ("2026-11-26T10:00:00.123456789Z", "2026-11-26T10:00:00.123Z"),
        ("2026-11-26t12:00:00+02:00", "2026-11-26T10:00:00.000Z"),
        ("2026-11-26 10:00:00.5-01:30", "2026-11-26T11:30:00.500Z"),
        ("2026-11-26T10:00:00", None),  # no offset: ambiguous
        ("2026-11-26", None),
        ("2026-13-01T00:00:00Z", None),
        ("9999-12-31T23:00:00-05:00", None),  # past datetime's range once in UTC
        (1764151200, None),
    ],
)
def test_timestamps_are_rfc3339_normalised_to_utc_millis(raw: object, normalised: str | None) -> None:
    assert parse_timestamp(raw) == normalised


def test_lang_defaults_to_und_and_rules_skip_null_tags() -> None:
    env = envelope()
    del env["tweet"]["lang"]
    env["matching_rules"] = [{"id": "1", "tag": None}, {"id": "2", "tag": "cats"}, {"tag": "cats"}, "junk"]
    document = doc(env)
    assert document["lang"] == "und"
    assert document["rules"] == ["cats"]


def test_x_html_escapes_are_undone_once() -> None:
    document = doc(envelope(text="Q&amp;A: 1 &lt; 2 &gt; 0, literally &amp;lt;"))
    assert document["text"] == "Q&A: 1 < 2 > 0, literally &lt;"


def test_numeric_tweet_id_is_accepted_as_string() -> None:
    assert doc(envelope(id=1861))["tweet_id"] == "1861"


def _drop(path: str) -> dict[str, Any]:
    env = copy.deepcopy(BASE_ENVELOPE)
    *parents, leaf = path.split(".")
    target = env
    for part in parents:
        target = target[part]
    del target[leaf]
    return env


@pytest.mark.parametrize("path", ["source", "received_at", "matching_rules", "tweet", "tweet.id", "tweet.text"])
def test_missing_required_field_is_an_invalid_envelope(path: str) -> None:
    with pytest.raises(DecodeError) as info:
        build_draft(_drop(path), NOW)
    assert info.value.reason == "invalid_envelope"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("source", ""),
        ("received_at", "not a time"),
        ("matching_rules", {"tag": "x"}),
        ("tweet", "text"),
        ("tweet.id", ""),
        ("tweet.id", True),
        ("tweet.text", None),
        ("tweet.text", 42),
    ],
)
def test_wrong_typed_required_field_is_an_invalid_envelope(path: str, value: object) -> None:
    env = copy.deepcopy(BASE_ENVELOPE)
    *parents, leaf = path.split(".")
    target = env
    for part in parents:
        target = target[part]
    target[leaf] = value
    with pytest.raises(DecodeError) as info:
        build_draft(env, NOW)
    assert info.value.reason == "invalid_envelope"


def test_text_length_cut_off() -> None:
    assert build_draft(envelope(text="a" * MAX_TEXT_CHARS), NOW).text == "a" * MAX_TEXT_CHARS
    with pytest.raises(DecodeError) as info:
        build_draft(envelope(text="a" * (MAX_TEXT_CHARS + 1)), NOW)
    assert info.value.reason == "text_too_long"
    env = envelope()
    env["tweet"]["note_tweet"] = {"text": "é" * 1_000_000}
    with pytest.raises(DecodeError) as info:
        build_draft(env, NOW)
    assert info.value.reason == "text_too_long"
