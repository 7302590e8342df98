"""Post-deploy smoke test (``make smoke``): a few synthetic tweets through the real pipeline, end to end.

1. Put ``--count`` synthetic envelope v1 records (docs/design.md §2.1) with ``source: "smoke"`` and unique tweet
   ids into the delivery stream (PutRecordBatch, failed entries resent), one every ``--spacing`` seconds (0: all
   in one call), as a live stream trickles them in.
2. Meanwhile poll ``<index prefix>-*/_search`` for the tweet ids put so far, every ``--poll-interval`` seconds,
   until all are searchable or ``--timeout`` passes after the last put.
3. Report the latency put -> searchable of each tweet, from its own put (p50, p99, max; resolution: the poll
   interval), and what the transform made of each tweet. The ingester's linger (``LINGER_MS``) is not in it:
   the smoke test puts directly, so tweet -> searchable on a deploy is this plus at most ``LINGER_MS``.
4. On timeout, diagnose: recent events of the Firehose CloudWatch log group, and objects written since the put
   under the backup bucket's ``processing-failed/`` and ``AmazonOpenSearchService-failed/`` prefixes (with our
   records found in them and their error codes).
5. Delete the smoke documents (``_delete_by_query`` on their tweet ids), unless ``--keep``.

``--cleanup`` deletes every document with ``source: smoke`` (e.g. stragglers indexed after a timed-out run).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ingester.firehose.put import StreamUnusable, put_all
from scripts.demo.view import percentile
from scripts.ops.cli_support import EXIT_CODES, print_error, tool_parser
from scripts.ops.opensearch.client import (
    Auth,
    Client,
    OpenSearchError,
    add_auth_arguments,
    choose_auth,
    endpoint_url,
    region_from_endpoint,
)
from scripts.ops.redrive import DEFAULT_PREFIXES, RedriveError, parse_object
from scripts.ops.tf_outputs import TerraformOutputsError, add_terraform_arguments, start_tool

log = logging.getLogger(__name__)

TEXTS = (
    "I love how smooth this deploy went, great work everyone! #smoketest",
    "This is terrible, the pipeline is broken and I hate waiting. #smoketest",
    "The pipeline smoke test runs at noon. #smoketest",
    "Great dashboards but awful latency today. #smoketest",
    "Checking that sentiment arrives in OpenSearch. #smoketest",
)


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _hashtags(text: str) -> list[dict[str, Any]]:
    """X API v2 entities.hashtags for the words starting with '#' (start/end are character offsets)."""
    out, pos = [], 0
    for word in text.split(" "):
        if word.startswith("#") and len(word) > 1:
            out.append({"start": pos, "end": pos + len(word), "tag": word[1:]})
        pos += len(word) + 1
    return out


def make_envelopes(run_id: str, count: int) -> list[dict[str, Any]]:
    """Envelope v1 records, one per synthetic tweet; tweet ids are unique per run (``smoke-<run>-<n>``)."""
    now = _now()
    return [
        {
            "v": 1,
            "source": "smoke",
            "received_at": now,
            "matching_rules": [{"id": "smoke", "tag": "smoke"}],
            "tweet": {
                "id": f"smoke-{run_id}-{i}",
                "text": TEXTS[i % len(TEXTS)],
                "created_at": now,
                "lang": "en",
                "author_id": "0",
                "entities": {"hashtags": _hashtags(TEXTS[i % len(TEXTS)])},
                "public_metrics": {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0},
            },
            "author": {"id": "0", "username": "smoke_test", "name": "Pipeline smoke test", "followers_count": 0},
        }
        for i in range(count)
    ]


@dataclass(frozen=True)
class Settings:
    stream: str
    endpoint: str
    region: str | None
    auth: Auth
    index_pattern: str
    log_group: str | None
    bucket: str | None
    count: int = 20
    timeout: float = 600.0
    poll_interval: float = 1.0
    spacing: float = 2.0
    keep: bool = False


@dataclass(frozen=True)
class Latency:
    """Put -> searchable, per tweet from its own put, in seconds."""

    p50: float
    p99: float
    max: float
    count: int

    @classmethod
    def of(cls, put_at: Mapping[str, float], seen_at: Mapping[str, float]) -> Latency | None:
        """From the clock reading of each tweet's put and of the first search that found it (tweets never
        found are left out; None when none was)."""
        values = sorted(seen_at[i] - put_at[i] for i in seen_at if i in put_at)
        p50, p99 = percentile(values, 50), percentile(values, 99)
        if p50 is None or p99 is None:
            return None
        return cls(p50=p50, p99=p99, max=values[-1], count=len(values))

    def describe(self, poll_interval: float) -> str:
        return (
            f"put -> searchable p50 {self.p50:.1f}s, p99 {self.p99:.1f}s, max {self.max:.1f}s over {self.count} "
            f"tweet(s) (polled every {poll_interval:g}s; the ingester's LINGER_MS comes on top)"
        )


def search_ids(client: Client, index_pattern: str, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    resp = client.request(
        "POST",
        f"{index_pattern}/_search",
        json_body={"query": {"terms": {"tweet_id": list(ids)}}, "size": len(ids),
                   "_source": ["tweet_id", "sentiment", "sentiment_model", "processed_at", "hashtags"]},
        ok=(200, 404),
    )  # fmt: skip
    if resp.status_code == 404:  # no tweets-* index exists yet
        return {}
    hits = resp.json().get("hits", {}).get("hits", [])
    return {h["_source"]["tweet_id"]: h["_source"] for h in hits if "tweet_id" in h.get("_source", {})}


def delete_docs(client: Client, index_pattern: str, query: dict[str, Any]) -> int:
    resp = client.request(
        "POST",
        f"{index_pattern}/_delete_by_query",
        params={"refresh": "true", "conflicts": "proceed"},
        json_body={"query": query},
        ok=(200, 404),
    )
    return int(resp.json().get("deleted", 0)) if resp.status_code == 200 else 0


def diagnose(settings: Settings, run_id: str, since: float, out: Any) -> None:
    """Why did the tweets not arrive? Firehose's log group and the failed prefixes written since the put."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    start_ms = int((since - 300) * 1000)
    print("diagnosis:", file=out)
    if settings.log_group:
        try:
            logs = boto3.client("logs", region_name=settings.region)
            events = logs.filter_log_events(logGroupName=settings.log_group, startTime=start_ms, limit=50).get(
                "events", []
            )
            print(
                f"  Firehose log group {settings.log_group}: {len(events)} event(s) since 5 min before the put",
                file=out,
            )
            for event in events[-15:]:
                print(f"    {event.get('message', '').strip()[:400]}", file=out)
        except (ClientError, BotoCoreError) as exc:
            print(f"  cannot read log group {settings.log_group}: {exc}", file=out)
    else:
        print("  no Firehose log group given (--log-group / output firehose_log_group_name)", file=out)
    if settings.bucket:
        try:
            s3 = boto3.client("s3", region_name=settings.region)
            for prefix in DEFAULT_PREFIXES:
                for page in s3.get_paginator("list_objects_v2").paginate(Bucket=settings.bucket, Prefix=prefix):
                    for obj in page.get("Contents", []):
                        if obj["LastModified"].timestamp() * 1000 < start_ms:
                            continue
                        body = s3.get_object(Bucket=settings.bucket, Key=obj["Key"])["Body"].read()
                        try:
                            ours = [r for r in parse_object(body) if r.data and f"smoke-{run_id}-".encode() in r.data]
                        except ValueError:
                            ours = []
                        codes = sorted({r.error_code for r in ours})
                        detail = (
                            f"{len(ours)} of this run's records, errorCode {', '.join(codes)}"
                            if ours
                            else "other records"
                        )
                        print(f"  s3://{settings.bucket}/{obj['Key']}: {detail}", file=out)
                        for rec in ours[:3]:
                            print(f"    {str(rec.raw.get('errorMessage'))[:300]}", file=out)
        except (ClientError, BotoCoreError) as exc:
            print(f"  cannot list s3://{settings.bucket}: {exc}", file=out)
    print(
        "  hints: records under processing-failed/ -> the transform Lambda rejected them (see its log group); "
        "under AmazonOpenSearchService-failed/ -> OpenSearch refused them (mapping: run make opensearch-setup); "
        "403 in the Firehose log -> the Firehose role is not mapped to tweets_writer (make opensearch-setup); "
        "nothing anywhere -> delivery is still buffering (raise --timeout) or the stream is not delivering",
        file=out,
    )


class Schedule:
    """Puts the payloads one every ``spacing`` seconds (all in one call when 0) and notes the clock at each put."""

    def __init__(
        self,
        firehose: Any,
        stream: str,
        items: Sequence[tuple[str, bytes]],
        spacing: float,
        clock: Callable[[], float],
    ) -> None:
        self.firehose, self.stream, self.items, self.spacing, self.clock = firehose, stream, items, spacing, clock
        self.start = clock()
        self.put_at: dict[str, float] = {}
        self.calls = 0
        self.last_put = self.start

    @property
    def done(self) -> bool:
        return len(self.put_at) == len(self.items)

    def due_in(self) -> float:
        """Seconds until the next put is due (0 when it is; infinity when all are put)."""
        if self.done:
            return float("inf")
        return max(0.0, self.start + self.spacing * len(self.put_at) - self.clock())

    def put_due(self) -> None:
        while not self.done and self.due_in() == 0:
            group = list(self.items[len(self.put_at) :]) if self.spacing <= 0 else [self.items[len(self.put_at)]]
            calls, failed = put_all(self.firehose, self.stream, [payload for _, payload in group])
            self.calls += calls
            if failed:
                reasons = sorted({str(reason) for reason in failed.values()})
                raise RedriveError(f"PutRecordBatch refused {len(failed)} record(s): {reasons[:3]}")
            self.last_put = self.clock()
            self.put_at.update((tweet_id, self.last_put) for tweet_id, _ in group)


def run(settings: Settings, *, firehose: Any = None, out: Any = None, clock: Any = time.monotonic) -> bool:
    import boto3

    out = out or sys.stdout
    firehose = firehose or boto3.client("firehose", region_name=settings.region)
    client = Client(settings.endpoint, settings.auth)
    run_id = uuid.uuid4().hex[:12]
    envelopes = make_envelopes(run_id, settings.count)
    ids = [e["tweet"]["id"] for e in envelopes]
    payloads = [json.dumps(e, separators=(",", ":")).encode() for e in envelopes]
    wall_start = time.time()
    start = clock()
    puts = Schedule(firehose, settings.stream, list(zip(ids, payloads, strict=True)), settings.spacing, clock)
    found: dict[str, dict[str, Any]] = {}
    first_seen: dict[str, float] = {}
    try:
        puts.put_due()
        print(
            f"putting {len(payloads)} smoke tweets (run {run_id}) into {settings.stream}, "
            + (f"one every {settings.spacing:g}s" if settings.spacing > 0 else "in one call"),
            file=out,
            flush=True,
        )
        while True:
            puts.put_due()
            waiting = [i for i in puts.put_at if i not in found]
            for tweet_id, doc in (search_ids(client, settings.index_pattern, waiting) if waiting else {}).items():
                if tweet_id not in first_seen:
                    first_seen[tweet_id] = clock()
                found[tweet_id] = doc
            elapsed = clock() - start
            print(f"  {elapsed:6.1f}s: {len(puts.put_at)} put, {len(found)}/{len(ids)} searchable", file=out,
                  flush=True)  # fmt: skip
            if len(found) == len(ids) or (puts.done and clock() - puts.last_put >= settings.timeout):
                break
            time.sleep(min(settings.poll_interval, puts.due_in()))
        latency = Latency.of(puts.put_at, first_seen)
        if len(found) == len(ids) and latency is not None:
            print(f"PASS: {len(ids)}/{len(ids)} searchable, {puts.calls} put call(s); "
                  f"{latency.describe(settings.poll_interval)}", file=out)  # fmt: skip
            for tweet_id in ids:
                doc = found[tweet_id]
                print(f"  {tweet_id}: sentiment={doc.get('sentiment')} model={doc.get('sentiment_model')} "
                      f"hashtags={doc.get('hashtags')}", file=out)  # fmt: skip
            return True
        missing = [i for i in ids if i not in found]
        print(
            f"FAIL: {len(missing)}/{len(ids)} not searchable {settings.timeout:g}s after the last put: "
            f"{', '.join(missing)}" + (f"; the others: {latency.describe(settings.poll_interval)}" if latency else ""),
            file=out,
        )
        diagnose(settings, run_id, wall_start, out)
        return False
    finally:
        if not settings.keep:
            try:
                deleted = delete_docs(client, settings.index_pattern, {"terms": {"tweet_id": ids}})
                print(f"deleted {deleted} smoke document(s)", file=out, flush=True)
            except OpenSearchError as exc:
                print(f"could not delete the smoke documents ({exc}); run: make smoke ARGS=--cleanup", file=out)


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser(
        "python -m scripts.ops.smoke",
        __doc__.split("\n\n")[0],
        codes={**EXIT_CODES, 1: "failed: a tweet did not arrive in time, or an AWS/OpenSearch/Terraform error"},
    )
    add_terraform_arguments(p)
    p.add_argument("--stream", help="delivery stream; default: output delivery_stream_name")
    p.add_argument("--endpoint", help="OpenSearch endpoint; default: output opensearch_endpoint")
    add_auth_arguments(p)
    p.add_argument("--region", help="AWS region; default: env AWS_REGION, output aws_region, else from the endpoint")
    p.add_argument("--index-prefix", help="index name prefix; default: output index_name_prefix, else 'tweets'")
    p.add_argument("--log-group", help="Firehose log group; default: output firehose_log_group_name")
    p.add_argument("--bucket", help="backup bucket; default: output backup_bucket_name")
    p.add_argument("--count", type=int, default=20, help="synthetic tweets to send (default 20)")
    p.add_argument(
        "--spacing", type=float, default=2.0, help="seconds between two puts (default 2; 0 = all in one call)"
    )
    p.add_argument("--timeout", type=float, default=600.0, help="seconds to wait after the last put (default 600)")
    p.add_argument(
        "--poll-interval",
        type=float,
        default=1.0,
        help="seconds between searches: the latency's resolution (default 1)",
    )
    p.add_argument("--keep", action="store_true", help="do not delete the smoke documents afterwards")
    p.add_argument("--cleanup", action="store_true", help="only delete every source:smoke document, then exit")
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    parser = build_parser()
    args, resolve = start_tool(parser, argv, environ)
    try:
        if not 1 <= args.count <= 500:
            raise OpenSearchError(f"--count must be between 1 and 500, got {args.count}")
        endpoint = endpoint_url(resolve.require(args.endpoint, flag="--endpoint", output="opensearch_endpoint"))
        region = resolve.get(args.region, output="aws_region", env="AWS_REGION") or region_from_endpoint(endpoint)
        role_arn = None
        if not (args.sigv4 or args.username):
            role_arn = resolve.require(
                args.role_arn, flag="--role-arn (or --sigv4, or --username)", output="opensearch_admin_role_arn"
            )
        auth = choose_auth(
            sigv4=args.sigv4, username=args.username, role_arn=role_arn, region=region, environ=resolve.environ
        )
        prefix = resolve.get(args.index_prefix, output="index_name_prefix", default="tweets")
        if args.cleanup:
            deleted = delete_docs(Client(endpoint, auth), f"{prefix}-*", {"term": {"source": "smoke"}})
            print(f"deleted {deleted} smoke document(s)")
            return 0
        settings = Settings(
            stream=str(resolve.require(args.stream, flag="--stream", output="delivery_stream_name")),
            endpoint=endpoint,
            region=str(region) if region else None,
            auth=auth,
            index_pattern=f"{prefix}-*",
            log_group=resolve.get(args.log_group, output="firehose_log_group_name"),
            bucket=resolve.get(args.bucket, output="backup_bucket_name"),
            count=args.count,
            timeout=args.timeout,
            poll_interval=args.poll_interval,
            spacing=max(0.0, args.spacing),
            keep=args.keep,
        )
        return 0 if run(settings) else 1
    except (OpenSearchError, RedriveError, StreamUnusable, TerraformOutputsError, BotoCoreError, ClientError) as exc:
        print_error(parser.prog, exc)
        return 1


if __name__ == "__main__":
    sys.exit(main())
