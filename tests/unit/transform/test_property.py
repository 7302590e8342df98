"""Property: whatever Firehose hands the handler, it never raises and answers every recordId, in order.

Ok data is either a redriven document returned untouched or a new document valid against the schema;
ProcessingFailed data is the original data.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from transform.handler import process_event
from transform.sentiment.comprehend import ComprehendBackend
from transform.sentiment.vader import VaderBackend

from tests.support.transform import BASE_ENVELOPE, StubComprehend, assert_valid_document, b64, decode

VADER = VaderBackend()

json_leaf = st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False) | st.text(max_size=20)
json_value = st.recursive(
    json_leaf,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
langs = st.sampled_from(["en", "EN", "es", "zh-tw", "zh", "und", "zxx", "qme", "nl", "", "hi-Latn"]) | st.text(
    max_size=6
)
tweet_text = st.text(max_size=300) | st.sampled_from(["", "  ", "RT @a: good", "#x @y https://t.co/z", "&amp;"])


@st.composite
def envelopes(draw: st.DrawFn) -> dict[str, Any]:
    env = json.loads(json.dumps(BASE_ENVELOPE))
    tweet = env["tweet"]
    tweet["text"] = draw(tweet_text)
    tweet["lang"] = draw(langs)
    if draw(st.booleans()):
        tweet.pop("entities")
    for key in ("entities", "public_metrics", "referenced_tweets", "note_tweet", "created_at", "author_id"):
        if draw(st.integers(0, 4)) == 0:
            tweet[key] = draw(json_value)
    for key in ("author", "matching_rules", "source", "received_at"):
        if draw(st.integers(0, 8)) == 0:
            env[key] = draw(json_value)
    if draw(st.integers(0, 8)) == 0:
        env.pop(draw(st.sampled_from(sorted(env))))
    return env


def _encode(value: Any, surrogate: bool) -> str:
    text = json.dumps(value)  # ASCII escapes: a lone surrogate can ride along as "\ud83d"
    if surrogate:
        text = text.replace('"text": "', '"text": "\\ud83d', 1)
    return b64(text)


document_data = st.builds(
    lambda doc: b64(json.dumps(doc)),
    st.fixed_dictionaries({"tweet_id": st.text(max_size=5), "sentiment_model": st.text(max_size=5)}, optional={
        "text": st.text(max_size=10)}),
)  # fmt: skip
datas = st.one_of(
    st.builds(_encode, envelopes(), st.booleans()),
    st.builds(_encode, envelopes(), st.just(False)),
    document_data,
    st.builds(lambda v: b64(json.dumps(v)), json_value),
    st.builds(lambda raw: base64.b64encode(raw).decode(), st.binary(max_size=64)),
    st.text(max_size=40),
    st.none(),
)
events = st.lists(datas, max_size=30).map(
    lambda ds: {"invocationId": "prop", "records": [{"recordId": f"id-{i}", "data": d} for i, d in enumerate(ds)]}
)


def check(event: dict[str, Any], response: dict[str, Any]) -> None:
    assert [r["recordId"] for r in response["records"]] == [r["recordId"] for r in event["records"]]
    for given_record, returned in zip(event["records"], response["records"], strict=True):
        assert returned["result"] in ("Ok", "ProcessingFailed")
        assert isinstance(returned["data"], str)
        if returned["result"] == "ProcessingFailed":
            assert returned["data"] == (given_record["data"] if isinstance(given_record["data"], str) else "")
            continue
        raw = base64.b64decode(returned["data"], validate=True)
        assert b"\n" not in raw
        if returned["data"] == given_record["data"]:
            continue  # a redriven document, passed through untouched
        assert_valid_document(decode(returned["data"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events)
def test_vader_handler_never_raises_and_answers_every_record(event: dict[str, Any]) -> None:
    check(event, process_event(event, None, backend=VADER))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(events, st.integers(0, 3), st.booleans())
def test_comprehend_handler_never_raises_and_answers_every_record(
    event: dict[str, Any], throttle_every: int, item_errors: bool
) -> None:
    stub = StubComprehend(
        throttle=(lambda n, _lang: throttle_every > 0 and n % (throttle_every + 1) == 0),
        item_errors={"RT @a: good": -1, "&": 1} if item_errors else {},  # texts tweet_text can draw
    )
    backend = ComprehendBackend(stub, concurrency=2, base_backoff=0.001, max_backoff=0.002)
    check(event, process_event(event, None, backend=backend))
