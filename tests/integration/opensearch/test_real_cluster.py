"""Opt-in: the setup against a real OpenSearch cluster (``OPENSEARCH_URL``), for users who run one.

    OPENSEARCH_URL=https://localhost:9200 OPENSEARCH_USERNAME=admin OPENSEARCH_PASSWORD=... \\
    REQUESTS_CA_BUNDLE=/path/to/root-ca.pem .venv/bin/python -m pytest tests/integration/opensearch -m opt_in

Optional: ``OPENSEARCH_DASHBOARDS_URL`` (also import the saved objects), ``OPENSEARCH_FIREHOSE_ROLE_ARN`` (also
apply the security roles and the mapping; without it ``--skip-roles`` is passed so nothing is left in the security
index). What it leaves behind is what ``make opensearch-setup`` creates: the ``tweets-id`` ingest pipeline, the
``tweets`` index template and the ``tweets-retention`` ISM policy. The test index it creates is deleted.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from scripts.ops.opensearch import setup
from scripts.ops.opensearch.resources import ism_policy
from tests.support.paths import SCHEMAS_DIR

URL = os.environ.get("OPENSEARCH_URL", "")
pytestmark = [
    pytest.mark.opt_in,
    pytest.mark.skipif(
        not URL,
        reason="OPENSEARCH_URL is not set: this opt-in test needs a real OpenSearch cluster (see its docstring)",
    ),
]

USER = os.environ.get("OPENSEARCH_USERNAME", "admin")
PASSWORD = os.environ.get("OPENSEARCH_PASSWORD", "")
DASHBOARDS = os.environ.get("OPENSEARCH_DASHBOARDS_URL", "")
ROLE_ARN = os.environ.get("OPENSEARCH_FIREHOSE_ROLE_ARN", "")


def argv() -> list[str]:
    args = ["--no-terraform", "--endpoint", URL, "--username", USER, "--retention-days", "30"]
    args += ["--firehose-role-arn", ROLE_ARN] if ROLE_ARN else ["--skip-roles"]
    args += ["--dashboards-url", DASHBOARDS] if DASHBOARDS else ["--skip-dashboards"]
    return args


def http(method: str, path: str, body: Any = None) -> requests.Response:
    return requests.request(method, f"{URL.rstrip('/')}/{path}", json=body, auth=(USER, PASSWORD), timeout=30)


@pytest.fixture
def test_index() -> Iterator[str]:
    name = f"tweets-optin-{uuid.uuid4().hex[:8]}"
    yield name
    http("DELETE", name)


def test_setup_applies_then_is_idempotent_and_the_template_types_new_indices(capsys, test_index: str) -> None:
    env = {"OPENSEARCH_PASSWORD": PASSWORD or "unused"}
    assert setup.main(argv(), environ=env) == 0, capsys.readouterr().err
    capsys.readouterr()
    assert setup.main(argv(), environ=env) == 0
    out = capsys.readouterr().out
    assert "done: 0 write request(s)" in out, out

    policy = http("GET", "_plugins/_ism/policies/tweets-retention").json()["policy"]
    assert policy["states"][0]["transitions"][0]["conditions"]["min_index_age"] == "30d"
    assert policy["ism_template"][0]["index_patterns"] == ism_policy(30)["policy"]["ism_template"][0]["index_patterns"]

    # a document shaped by the schema indexes; the template typed it
    doc = {"tweet_id": "1", "created_at": "2026-11-26T10:00:00.000Z", "received_at": "2026-11-26T10:00:00.100Z",
           "processed_at": "2026-11-26T10:00:01Z", "text": "hello #aws", "lang": "en",
           "author": {"id": "1", "username": "u", "name": "U", "followers_count": 1}, "hashtags": ["aws"],
           "mentions": [], "is_retweet": False, "is_reply": False, "is_quote": False,
           "metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0}, "rules": ["aws"],
           "source": "optin", "sentiment": "NEUTRAL", "sentiment_skipped": None,
           "sentiment_score": {"positive": 0.1, "negative": 0.1, "neutral": 0.8, "mixed": 0.0},
           "sentiment_model": "vader-3.3.2"}  # fmt: skip
    schema = json.loads((SCHEMAS_DIR / "document.schema.json").read_text())
    assert set(doc) == set(schema["properties"])
    assert http("PUT", f"{test_index}/_doc/1?refresh=true", doc).status_code in (200, 201)
    props = http("GET", f"{test_index}/_mapping").json()[test_index]["mappings"]["properties"]
    assert props["created_at"]["type"] == "date"
    assert props["text"]["fields"]["keyword"]["type"] == "keyword"
    assert props["sentiment_score"]["properties"]["negative"]["type"] == "float"
    # strict mapping: an unknown field is refused (Firehose would back it up under AmazonOpenSearchService-failed/)
    refused = http("PUT", f"{test_index}/_doc/2", {**doc, "surprise": 1})
    assert refused.status_code == 400
    assert "strict_dynamic_mapping_exception" in refused.text


def test_the_same_tweet_bulk_indexed_twice_without_an_id_is_one_document(capsys, test_index: str) -> None:
    # What Firehose does with NO_DOCUMENT_ID and an at-least-once resend: two bulk index actions with no _id.
    env = {"OPENSEARCH_PASSWORD": PASSWORD or "unused"}
    assert setup.main(argv(), environ=env) == 0, capsys.readouterr().err
    tweet_id = f"optin-{uuid.uuid4().hex[:8]}"
    doc = {"tweet_id": tweet_id, "text": "hello", "lang": "en", "source": "optin"}
    action = json.dumps({"index": {"_index": test_index}})
    body = "".join(f"{action}\n{json.dumps(d)}\n" for d in (doc, {**doc, "text": "hello again"}))
    resp = requests.post(f"{URL.rstrip('/')}/_bulk?refresh=true", data=body.encode(), auth=(USER, PASSWORD),
                         headers={"Content-Type": "application/x-ndjson"}, timeout=30)  # fmt: skip
    assert resp.status_code == 200 and not resp.json()["errors"], resp.text
    assert [item["index"]["_id"] for item in resp.json()["items"]] == [tweet_id, tweet_id]
    count = http("POST", f"{test_index}/_count", {"query": {"term": {"tweet_id": tweet_id}}}).json()["count"]
    assert count == 1
    assert http("GET", f"{test_index}/_doc/{tweet_id}").json()["_source"]["text"] == "hello again"
    # a document without tweet_id is refused by the pipeline instead of indexed under a random id
    refused = requests.post(
        f"{URL.rstrip('/')}/_bulk",
        data=f"{action}\n{json.dumps({'text': 'x'})}\n".encode(),
        auth=(USER, PASSWORD),
        headers={"Content-Type": "application/x-ndjson"},
        timeout=30,
    )
    assert refused.json()["errors"] is True
    assert "no tweet_id" in refused.text
