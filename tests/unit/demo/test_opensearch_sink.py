"""--opensearch-url: template applied, bulk indexing into daily indices, refusals kept like Firehose does."""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from scripts.demo.delivery import DemoStats, StoreTarget
from scripts.demo.failed import FailedWriter
from scripts.demo.firehose import BatchOutcome, BufferedRecord
from scripts.demo.opensearch_sink import OpenSearchIndexer, client_from_url
from scripts.demo.store import SQLiteStore
from scripts.ops.opensearch.client import OpenSearchError
from scripts.ops.opensearch.resources import ingest_pipeline
from tests.support.demo import make_doc
from tests.support.fake_opensearch import FakeOpenSearch, serve
from tests.support.net import free_port

NOW = datetime(2026, 11, 26, 23, 59, 0, tzinfo=UTC)


def test_prepare_checks_the_cluster_and_applies_the_template(fake_os: FakeOpenSearch) -> None:
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    assert indexer.prepare() == "OpenSearch 2.13.0"
    assert fake_os.state.pipelines["tweets-id"] == ingest_pipeline()
    template = fake_os.state.templates["tweets"]
    assert template["index_patterns"] == ["tweets-*"]
    assert template["template"]["settings"]["index"]["number_of_replicas"] == 0
    assert template["template"]["mappings"]["dynamic"] == "strict"


def test_documents_go_to_the_daily_index_by_tweet_id(fake_os: FakeOpenSearch) -> None:
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    indexer.prepare()
    docs = [make_doc(tweet_id="1"), make_doc(tweet_id="2")]
    assert indexer.index(docs, NOW) == []
    assert indexer.index([make_doc(tweet_id="1", sentiment="NEGATIVE")], NOW) == []  # a replay overwrites
    assert set(fake_os.state.indices) == {"tweets-2026-11-26"}
    assert sorted(fake_os.state.indices["tweets-2026-11-26"]) == ["1", "2"]
    assert fake_os.state.indices["tweets-2026-11-26"]["1"]["sentiment"] == "NEGATIVE"
    (bulk,) = [r for r in fake_os.state.requests if r.path == "/_bulk"][:1]
    assert bulk.header("Content-Type") == "application/x-ndjson"
    assert indexer.indexed == 3


def bulk_actions(fake: FakeOpenSearch) -> list[dict[str, object]]:
    lines = [json.loads(x) for r in fake.state.requests if r.path == "/_bulk" for x in r.body.decode().splitlines()]
    return [line["index"] for line in lines[::2]]


def test_the_same_tweets_delivered_twice_are_one_document_each(fake_os: FakeOpenSearch) -> None:
    # Given the demo's OpenSearch path, which sends documents without an id as Firehose does (NO_DOCUMENT_ID)
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    indexer.prepare()
    docs = [make_doc(tweet_id=str(i)) for i in range(1, 4)]
    # When the same three tweets are delivered twice (an at-least-once resend), the second time with a new score
    assert indexer.index(docs, NOW) == []
    assert indexer.index([{**d, "sentiment": "NEGATIVE"} for d in docs], NOW) == []
    # Then the index's default pipeline keyed them by tweet_id: one document per tweet, the last delivery's
    assert all("_id" not in action for action in bulk_actions(fake_os))
    index = fake_os.state.indices["tweets-2026-11-26"]
    assert sorted(index) == ["1", "2", "3"]
    assert {d["sentiment"] for d in index.values()} == {"NEGATIVE"}


def test_without_the_pipeline_a_resend_would_be_a_second_document(fake_os: FakeOpenSearch) -> None:
    # The control case: the same deliveries into a template with no default pipeline give each copy a random
    # id, so the test above depends on the pipeline and not on the fake.
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    indexer.prepare()
    del fake_os.state.templates["tweets"]["template"]["settings"]["index"]["default_pipeline"]
    doc = make_doc(tweet_id="1")
    assert indexer.index([doc], NOW) == [] and indexer.index([doc], NOW) == []
    assert len(fake_os.state.indices["tweets-2026-11-26"]) == 2


def test_a_document_without_tweet_id_is_refused_not_indexed_under_a_random_id(fake_os: FakeOpenSearch) -> None:
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    indexer.prepare()
    (refused,) = indexer.index([{**make_doc(), "tweet_id": ""}], NOW)
    assert refused.status == "500"
    assert "no tweet_id" in refused.reason
    assert fake_os.state.indices == {}


def test_a_missing_pipeline_refuses_the_documents(fake_os: FakeOpenSearch) -> None:
    # What happens when a template names a pipeline the cluster does not have (setup not run in order).
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    indexer.prepare()
    fake_os.state.pipelines.clear()
    (refused,) = indexer.index([make_doc()], NOW)
    assert refused.status == "400"
    assert "pipeline with id [tweets-id] does not exist" in refused.reason


def test_the_schema_document_passes_the_strict_template(fake_os: FakeOpenSearch) -> None:
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    indexer.prepare()
    assert indexer.index([make_doc()], NOW) == []
    (refused,) = indexer.index([{**make_doc(tweet_id="5"), "extra": 1}], NOW)
    assert refused.status == "400"
    assert "strict" in refused.reason


def test_refused_documents_land_in_the_failed_folder(fake_os: FakeOpenSearch, tmp_path: Path) -> None:
    fake_os.state.fail_ids = {"2"}
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}))
    indexer.prepare()
    store = SQLiteStore(tmp_path / "t.db")
    failed = FailedWriter(tmp_path / "failed")
    stats = DemoStats()
    target = StoreTarget(store, failed, stats, "arn", indexer=indexer)
    ok = [(BufferedRecord(f"r{i}", b"{}", 1), json.dumps(make_doc(tweet_id=str(i))).encode()) for i in (1, 2, 3)]
    target.deliver(BatchOutcome(ok=ok))
    assert store.count() == 3
    (path,) = failed.files()
    assert path.relative_to(tmp_path / "failed").parts[0] == "AmazonOpenSearchService-failed"
    (line,) = [json.loads(x) for x in path.read_text().splitlines()]
    assert line["errorCode"] == "400"
    assert "mapper_parsing_exception" in line["errorMessage"]
    assert line["esDocumentId"] == "2"
    assert line["esIndexName"].startswith("tweets-")
    assert json.loads(base64.b64decode(line["rawData"]))["tweet_id"] == "2"
    assert stats.snapshot().failed_by_code == {"OpenSearch.400": 1}
    store.close()


def test_busy_cluster_is_retried(fake_os: FakeOpenSearch) -> None:
    fake_os.state.unavailable = 2
    indexer = OpenSearchIndexer(client_from_url(fake_os.url, {}), retries=3, backoff_s=0)
    assert indexer.index([make_doc()], NOW) == []
    assert len(fake_os.state.indices["tweets-2026-11-26"]) == 1


def test_unreachable_cluster_fails_the_batch_with_a_reason() -> None:
    indexer = OpenSearchIndexer(client_from_url(f"http://127.0.0.1:{free_port()}", {}), retries=1, backoff_s=0)
    refused = indexer.index([make_doc(tweet_id="1"), make_doc(tweet_id="2")], NOW)
    assert [r.status for r in refused] == ["503", "503"]
    assert "cannot reach" in refused[0].reason


def test_elasticsearch_is_refused_at_start() -> None:
    with serve() as es, pytest.raises(OpenSearchError, match="version"):
        es.state.version = {"distribution": "elasticsearch", "number": "2.13.0"}
        OpenSearchIndexer(client_from_url(es.url, {})).prepare()


def test_client_from_url_takes_credentials_from_the_url_or_environment() -> None:
    client = client_from_url("https://admin:s3cret@localhost:9200/", {})
    assert client.base_url == "https://localhost:9200"
    assert client.auth.kind == "basic" and client.auth.principal == "admin"
    client = client_from_url("http://localhost:9200", {"OPENSEARCH_USERNAME": "bob", "OPENSEARCH_PASSWORD": "x"})
    assert client.auth.principal == "bob"
    assert client_from_url("http://localhost:9200", {}).auth.kind == "none"
    with pytest.raises(OpenSearchError, match="http"):
        client_from_url("localhost:9200", {})


@pytest.mark.opt_in
def test_real_cluster_round_trip() -> None:
    url = os.environ.get("OPENSEARCH_URL")
    if not url:
        pytest.skip("set OPENSEARCH_URL (and OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD) to run against a real cluster")
    client = client_from_url(url, verify=os.environ.get("OPENSEARCH_INSECURE") != "1")
    indexer = OpenSearchIndexer(client)
    indexer.prepare()
    doc = make_doc(tweet_id="demo-opt-in-1")
    assert indexer.index([doc]) == []
    assert indexer.index([doc]) == []  # delivered twice, sent without an id both times
    index = indexer.index_name(datetime.now(UTC))
    auth, verify = client.auth.requests_auth, client.session.verify
    got = requests.get(f"{client.base_url}/{index}/_doc/demo-opt-in-1", auth=auth, verify=verify, timeout=30)
    assert got.json()["_source"] == doc  # the default pipeline made the tweet id the document id
    requests.post(f"{client.base_url}/{index}/_refresh", auth=auth, verify=verify, timeout=30)
    count = requests.post(f"{client.base_url}/{index}/_count", json={"query": {"term": {"tweet_id": "demo-opt-in-1"}}},
                          auth=auth, verify=verify, timeout=30)  # fmt: skip
    assert count.json()["count"] == 1
