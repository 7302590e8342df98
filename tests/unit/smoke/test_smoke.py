"""``python -m scripts.ops.smoke`` against moto in process (stream, logs, S3) and the fake OpenSearch.

The fake "indexes" by reading what the stream delivered to its S3 destination whenever it is searched, standing in
for Firehose -> Lambda -> OpenSearch (which no emulator here provides).
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import jsonschema
import pytest
from moto import mock_aws

from scripts.ops import smoke
from tests.support.fake_opensearch import FakeOpenSearch, FakeState
from tests.support.paths import SCHEMAS_DIR

STREAM, DELIVERED, BACKUP, LOG_GROUP = "tweets-smoke", "smoke-delivered", "smoke-backup", "/aws/kinesisfirehose/tweets"
ENVELOPE_SCHEMA = json.loads((SCHEMAS_DIR / "envelope.schema.json").read_text())


@pytest.fixture
def aws() -> Iterator[Any]:
    with mock_aws():
        yield create_stream()


def create_stream() -> Any:
    s3 = boto3.client("s3", region_name="us-east-1")
    for bucket in (DELIVERED, BACKUP):
        s3.create_bucket(Bucket=bucket)
    boto3.client("firehose", region_name="us-east-1").create_delivery_stream(
        DeliveryStreamName=STREAM,
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::123456789012:role/fh",
                                            "BucketARN": f"arn:aws:s3:::{DELIVERED}"},
    )  # fmt: skip
    return s3


def delivered_envelopes(s3: Any) -> list[dict[str, Any]]:
    out = []
    for obj in s3.list_objects_v2(Bucket=DELIVERED).get("Contents", []):
        text, decoder, pos = (
            s3.get_object(Bucket=DELIVERED, Key=obj["Key"])["Body"].read().decode(),
            json.JSONDecoder(),
            0,
        )
        while pos < len(text):
            item, pos = decoder.raw_decode(text, pos)
            out.append(item)
    return out


def run(fake: FakeOpenSearch, *extra: str) -> int:
    return smoke.main(
        ["--no-terraform", "--stream", STREAM, "--endpoint", fake.url, "--username", "master", "--region", "us-east-1",
         "--log-group", LOG_GROUP, "--bucket", BACKUP, "--poll-interval", "0.05", *extra],
        environ={"OPENSEARCH_PASSWORD": "pw"},
    )  # fmt: skip


def test_smoke_passes_when_the_tweets_become_searchable_and_cleans_up(aws: Any, capsys) -> None:
    fake = FakeOpenSearch().start()
    searches = []

    def index_delivered(state: FakeState) -> None:
        searches.append(1)
        if len(searches) < 3:  # searchable only from the third poll on, like a buffering stream
            return
        for env in delivered_envelopes(aws):
            tags = [h["tag"].lower() for h in env["tweet"]["entities"]["hashtags"]]
            state.documents[env["tweet"]["id"]] = {"tweet_id": env["tweet"]["id"], "source": env["source"],
                                                   "sentiment": "POSITIVE", "sentiment_model": "fake",
                                                   "hashtags": tags}  # fmt: skip

    fake.state.on_search = index_delivered
    try:
        code = run(fake, "--count", "4", "--spacing", "0.1")
    finally:
        fake.stop()
    out = capsys.readouterr().out

    assert code == 0, out
    envelopes = delivered_envelopes(aws)
    assert len(envelopes) == 4
    for env in envelopes:
        jsonschema.validate(env, ENVELOPE_SCHEMA)
        assert env["source"] == "smoke" and env["v"] == 1
        text, (tag,) = env["tweet"]["text"], env["tweet"]["entities"]["hashtags"]
        assert text[tag["start"] : tag["end"]] == "#smoketest"
    ids = sorted(e["tweet"]["id"] for e in envelopes)
    assert len(set(ids)) == 4
    assert "PASS: 4/4 searchable, 4 put call(s); put -> searchable p50 " in out
    # each search asks only for tweets already put and not yet found: the first one for the first tweet alone
    searches = [r.json()["query"]["terms"]["tweet_id"] for r in fake.state.requests if r.path.endswith("/_search")]
    assert len(searches[0]) == 1 and all(set(terms) <= set(ids) for terms in searches)
    (delete,) = [r for r in fake.state.requests if r.path == "/tweets-*/_delete_by_query"]
    assert sorted(delete.json()["query"]["terms"]["tweet_id"]) == ids
    assert delete.query["refresh"] == ["true"]
    assert fake.state.documents == {}
    assert "deleted 4 smoke document(s)" in out


def test_smoke_times_out_with_a_diagnosis_from_logs_and_failed_prefixes(aws: Any, capsys) -> None:
    logs = boto3.client("logs", region_name="us-east-1")
    logs.create_log_group(logGroupName=LOG_GROUP)
    logs.create_log_stream(logGroupName=LOG_GROUP, logStreamName="DestinationDelivery")
    message = '{"errorCode":"OpenSearch.AccessDenied","errorMessage":"403"}'
    logs.put_log_events(logGroupName=LOG_GROUP, logStreamName="DestinationDelivery",
                        logEvents=[{"timestamp": int(time.time() * 1000), "message": message}])  # fmt: skip
    fake = FakeOpenSearch().start()

    def fail_transform(state: FakeState) -> None:  # the "Lambda" rejects every record into processing-failed/
        lines = [{"errorCode": "Lambda.ProcessingFailed", "errorMessage": "bad envelope",
                  "rawData": base64.b64encode(json.dumps(e).encode()).decode()}
                 for e in delivered_envelopes(aws)]  # fmt: skip
        body = gzip.compress("".join(json.dumps(x) + "\n" for x in lines).encode())
        aws.put_object(Bucket=BACKUP, Key="processing-failed/2026/11/26/12/obj", Body=body)

    fake.state.on_search = fail_transform
    try:
        code = run(fake, "--count", "2", "--spacing", "0", "--timeout", "0.3")
    finally:
        fake.stop()
    out = capsys.readouterr().out

    assert code == 1
    assert "FAIL: 2/2 not searchable 0.3s after the last put" in out
    assert "OpenSearch.AccessDenied" in out
    assert (
        f"s3://{BACKUP}/processing-failed/2026/11/26/12/obj: 2 of this run's records, errorCode Lambda.ProcessingFailed"
        in out
    )
    assert "bad envelope" in out
    assert "deleted 0 smoke document(s)" in out


def test_cleanup_deletes_every_smoke_document(aws: Any, capsys) -> None:
    fake = FakeOpenSearch().start()
    fake.state.documents = {"a": {"tweet_id": "a", "source": "smoke"}, "b": {"tweet_id": "b", "source": "x"}}
    try:
        assert run(fake, "--cleanup") == 0
    finally:
        fake.stop()
    assert fake.state.documents == {"b": {"tweet_id": "b", "source": "x"}}
    assert "deleted 1 smoke document(s)" in capsys.readouterr().out


def test_smoke_signs_as_the_admin_role_from_terraform_by_default(aws: Any, capsys, monkeypatch) -> None:
    from scripts.ops import tf_outputs

    # Given the stack's outputs (no auth flag given): the admin role is the domain's master user
    admin = "arn:aws:iam::123456789012:role/tweet-sentiment-opensearch-admin"
    fake = FakeOpenSearch().start()
    fake.state.documents = {"a": {"tweet_id": "a", "source": "smoke"}}
    monkeypatch.setattr(tf_outputs, "read_outputs", lambda tf_dir: {"opensearch_endpoint": fake.url,
                                                                     "opensearch_admin_role_arn": admin,
                                                                     "aws_region": "us-east-1"})  # fmt: skip
    try:
        code = smoke.main(["--tf-dir", "anything", "--cleanup"], environ={})
    finally:
        fake.stop()
    # Then the request was signed with credentials of an assumed-role session of that role
    assert code == 0, capsys.readouterr().err
    (request,) = fake.state.requests
    key = (request.header("Authorization") or "").split("Credential=")[1].split("/")[0]
    sts = boto3.client("sts", region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key="unused",
                       aws_session_token=request.header("X-Amz-Security-Token"))  # fmt: skip
    assert sts.get_caller_identity()["Arn"].startswith(
        "arn:aws:sts::123456789012:assumed-role/tweet-sentiment-opensearch-admin/"
    )
    assert fake.state.documents == {}


class ScriptedFirehose:
    """Accepts every record; remembers each call's record count."""

    def __init__(self) -> None:
        self.calls: list[int] = []

    def put_record_batch(self, *, DeliveryStreamName: str, Records: list[dict[str, bytes]]) -> dict[str, Any]:
        self.calls.append(len(Records))
        return {"FailedPutCount": 0, "RequestResponses": [{"RecordId": str(i)} for i in range(len(Records))]}


def test_schedule_puts_one_tweet_per_spacing_and_notes_each_put_time() -> None:
    now = [100.0]
    firehose = ScriptedFirehose()
    puts = smoke.Schedule(firehose, "s", [("a", b"{}"), ("b", b"{}"), ("c", b"{}")], 2.0, lambda: now[0])
    puts.put_due()
    assert puts.put_at == {"a": 100.0} and puts.due_in() == 2.0
    now[0] = 101.9
    puts.put_due()
    assert list(puts.put_at) == ["a"]
    now[0] = 107.0  # late: both overdue tweets go now, each in its own call, stamped with the actual put time
    puts.put_due()
    assert puts.put_at == {"a": 100.0, "b": 107.0, "c": 107.0}
    assert firehose.calls == [1, 1, 1] and puts.done and puts.due_in() == float("inf")


def test_schedule_with_no_spacing_puts_everything_in_one_call() -> None:
    firehose = ScriptedFirehose()
    puts = smoke.Schedule(firehose, "s", [(str(i), b"{}") for i in range(5)], 0.0, lambda: 5.0)
    puts.put_due()
    assert firehose.calls == [5] and puts.done


def test_latency_is_per_tweet_from_its_own_put_with_p50_and_p99() -> None:
    # 100 tweets put at t = i and found 1..100 s after their own put: p50 / p99 of 1..100 (inclusive method)
    put_at = {f"t{i}": float(i) for i in range(100)}
    seen_at = {f"t{i}": float(i) + (i + 1) for i in range(100)}
    latency = smoke.Latency.of(put_at, seen_at)
    assert latency == smoke.Latency(p50=50.5, p99=99.01, max=100.0, count=100)
    # tweets never found are left out, not counted as zero
    assert smoke.Latency.of({"a": 0.0, "b": 0.0}, {"a": 3.0}) == smoke.Latency(3.0, 3.0, 3.0, 1)
    assert smoke.Latency.of({"a": 0.0}, {}) is None
    assert "p50 50.5s, p99 99.0s, max 100.0s over 100 tweet(s) (polled every 1s" in latency.describe(1.0)
