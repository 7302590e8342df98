"""Put failed Firehose records from the backup bucket back into the delivery stream (``make redrive``).

Sources (under ``--key-prefix``, default the bucket root): ``processing-failed/`` (records the transform Lambda
failed; ``rawData`` is the envelope the ingester put: it goes back as-is and is transformed again) and
``AmazonOpenSearchService-failed/`` (documents OpenSearch refused; ``rawData`` is the transformed document: it goes
back as-is too, and the transform Lambda passes through unchanged any record that is already a document, a JSON
object without ``"v"`` that has ``tweet_id`` and ``sentiment_model``, so it is not transformed twice). Pass
``--prefix`` to read any other folder. The line format and how it is read are ``ingester.firehose.failed_records``'s;
batching, the put and its retries are ``ingester.firehose.put.put_all``'s: this tool chooses what to send and what
to do with each object afterwards.

Deleted posts are not brought back: the tombstones the ingester publishes (``--tombstones``, default every object
under ``tombstones/`` in the bucket: ids only) are read first, and a record of a deleted post, or of a post whose
author's account was removed, is not sent; it counts as done (``skipped: deleted``), so its object is moved like
one whose records were all accepted. A post deleted after the last publication that a redrive sends is removed
again by the ingester's deleter within its re-apply interval.

Guarantees (failure policy): PutRecordBatch calls of at most 500 records and 4 MiB; only the entries that failed
are resent (at once after a call that accepted some, after capped exponential backoff with jitter when one accepted
none: ``ingester.firehose.put.pause_after``), up to ``RetryPolicy.attempts`` calls a batch; a missing
stream, a refused request or a missing permission stops the run (exit 1), leaving the current object where it is.
An object whose records were all accepted is moved (copy + delete) to ``redriven/<original key>``, so a second
run sends nothing. An object with records that still fail stays where it is, rewritten to hold only those records
with the new reason in ``errorCode`` / ``errorMessage`` (the bucket's versioning keeps the original). Delivery is at
least once: if the process dies between a successful put and the move, the next run sends that object's records
again.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ingester.deletions.store import read_tombstone_lines, record_ids
from ingester.firehose import failed_records
from ingester.firehose.failed_records import OPENSEARCH_FAILED, PROCESSING_FAILED, Line
from ingester.firehose.limits import MAX_RECORD_BYTES
from ingester.firehose.put import FirehoseClient, RetryPolicy, StreamUnusable, put_all
from scripts.ops.cli_support import EXIT_CODES, add_verbose_argument, print_error, tool_parser
from scripts.ops.tf_outputs import TerraformOutputsError, add_terraform_arguments, start_tool

log = logging.getLogger(__name__)

DEFAULT_PREFIXES = (f"{PROCESSING_FAILED}/", f"{OPENSEARCH_FAILED}/")
REDRIVEN = "redriven/"
TOMBSTONES = "tombstones/"


@dataclass(frozen=True)
class Tombstones:
    """Post ids and author ids deleted at the source: their records are never put back."""

    posts: frozenset[str] = frozenset()
    authors: frozenset[str] = frozenset()

    def covers(self, data: bytes | None) -> bool:
        ids = record_ids(data) if data is not None else None
        return ids is not None and (ids[0] in self.posts or (ids[1] is not None and ids[1] in self.authors))


def load_tombstones(s3: Any, bucket: str, prefix: str = TOMBSTONES) -> Tombstones:
    """Every tombstone published under ``prefix`` (one object per ingester service)."""
    posts: set[str] = set()
    authors: set[str] = set()
    for key in list_keys(s3, bucket, prefix):
        more_posts, more_authors = read_tombstone_lines(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        posts |= more_posts
        authors |= more_authors
    return Tombstones(frozenset(posts), frozenset(authors))


class RedriveError(RuntimeError):
    """A failure that stops the run (missing bucket or stream, bad settings)."""


@dataclass
class FailedRecord:
    """One line of a failed-records object, with its decoded payload."""

    raw: Line  # the JSON line as Firehose wrote it
    data: bytes | None  # decoded rawData; None when it could not be decoded
    error_code: str
    kind: str  # "envelope" | "document" | "json" | "not-json" | "undecodable" | "too-large"

    @property
    def sendable(self) -> bool:
        return self.data is not None and self.kind in ("envelope", "document", "json")


def classify(data: bytes) -> str:
    """What the payload is: an envelope (has "v"), a transformed document, other JSON, or not JSON."""
    try:
        obj = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        return "not-json"
    if not isinstance(obj, dict):
        return "not-json"
    if "v" in obj:
        return "envelope"
    if "tweet_id" in obj and "sentiment_model" in obj:
        return "document"
    return "json"


def parse_object(body: bytes) -> list[FailedRecord]:
    """A failed-records object's lines, each with its payload decoded and classified (see ``failed_records``)."""
    return [_record(line) for line in failed_records.parse_object(body)]


def _record(line: Line) -> FailedRecord:
    code = failed_records.error_code(line)
    data = failed_records.raw_data(line)
    if data is None:
        return FailedRecord(line, None, code, "undecodable")
    if len(data) > MAX_RECORD_BYTES:
        return FailedRecord(line, data, code, "too-large")
    return FailedRecord(line, data, code, classify(data))


def _still_failing(rec: FailedRecord, code: str, message: str, now_ms: int) -> Line:
    """The record's line kept as it was, with the reason it still fails and when redrive tried."""
    return {**rec.raw, "errorCode": f"Redrive.{code}", "errorMessage": message, "redriveAttemptTimestamp": now_ms}


@dataclass
class Report:
    dry_run: bool
    objects_seen: int = 0
    objects_moved: int = 0
    records_seen: int = 0
    records_put: int = 0
    records_deleted: int = 0
    tombstones: int = 0
    put_calls: int = 0
    by_prefix: Counter[str] = field(default_factory=Counter)
    by_error_code: Counter[str] = field(default_factory=Counter)
    by_kind: Counter[str] = field(default_factory=Counter)
    left: list[tuple[str, int, str]] = field(default_factory=list)  # (key, records still failing, reason)
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"redrive {'DRY RUN (nothing sent, nothing moved)' if self.dry_run else 'summary'}"]
        lines.append(f"  objects: {self.objects_seen} found, {self.objects_moved} moved to {REDRIVEN}")
        lines.append(
            f"  records: {self.records_seen} found, {self.records_put} put ({self.put_calls} PutRecordBatch calls)"
        )
        lines.append(
            f"  skipped: deleted {self.records_deleted} (posts deleted at the source; "
            f"{self.tombstones} tombstones read)"
        )
        for prefix, n in sorted(self.by_prefix.items()):
            lines.append(f"  {prefix:<34} {n:>8} records")
        lines.append("  by error code:")
        lines += [f"    {code:<40} {n:>8}" for code, n in self.by_error_code.most_common()]
        lines.append("  by payload: " + ", ".join(f"{k} {n}" for k, n in sorted(self.by_kind.items())))
        for key, n, reason in self.left:
            lines.append(f"  STAYS PUT: {key}: {n} record(s) still failing: {reason}")
        for key, reason in self.unreadable:
            lines.append(f"  UNREADABLE (left untouched): {key}: {reason}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Settings:
    bucket: str
    stream: str
    region: str | None
    prefixes: tuple[str, ...] = DEFAULT_PREFIXES
    dry_run: bool = False
    include_non_json: bool = False
    max_objects: int | None = None
    progress_every: float = 5.0
    tombstones_prefix: str = TOMBSTONES


def list_keys(s3: Any, bucket: str, prefix: str) -> Iterator[str]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith("/"):
                yield obj["Key"]


def redrive_object(
    s3: Any,
    firehose: FirehoseClient,
    settings: Settings,
    key: str,
    prefix: str,
    *,
    report: Report,
    policy: RetryPolicy,
    tombstones: Tombstones | None = None,
) -> None:
    body = s3.get_object(Bucket=settings.bucket, Key=key)["Body"].read()
    try:
        records = parse_object(body)
    except (ValueError, OSError, EOFError) as exc:
        report.unreadable.append((key, str(exc)))
        return
    report.records_seen += len(records)
    report.by_prefix[prefix] += len(records)
    report.by_error_code.update(r.error_code for r in records)
    report.by_kind.update(r.kind for r in records)
    deleted = {id(r) for r in records if tombstones is not None and tombstones.covers(r.data)}
    report.records_deleted += len(deleted)
    if settings.dry_run:
        return
    records = [r for r in records if id(r) not in deleted]  # done: a deleted post is never put back
    send = [r for r in records if r.sendable or (settings.include_non_json and r.kind == "not-json")]
    try:
        calls, failed = put_all(firehose, settings.stream, [r.data or b"" for r in send], policy)
    except StreamUnusable as exc:
        raise RedriveError(str(exc)) from exc
    report.put_calls += calls
    report.records_put += len(send) - len(failed)
    still_failing: list[Line] = []
    now = int(time.time() * 1000)
    for i, rec in enumerate(send):
        if i in failed:
            code, message = failed[i]
            still_failing.append(_still_failing(rec, code, message, now))
    sent = {id(r) for r in send}
    for rec in records:
        if id(rec) not in sent:
            reason = {
                "not-json": "rawData is not JSON (neither an envelope nor a document); "
                "pass --include-non-json to send it anyway",
                "undecodable": "rawData is not valid base64",
                "too-large": f"record is larger than the Firehose limit of {MAX_RECORD_BYTES} bytes",
            }[rec.kind]
            still_failing.append(_still_failing(rec, rec.kind, reason, now))
    if not still_failing:
        s3.copy_object(
            Bucket=settings.bucket, Key=f"{REDRIVEN}{key}", CopySource={"Bucket": settings.bucket, "Key": key}
        )
        s3.delete_object(Bucket=settings.bucket, Key=key)
        report.objects_moved += 1
        return
    if len(still_failing) < len(records) + len(
        deleted
    ):  # keep only what still fails, so a re-run never resends what got through
        rewritten = failed_records.encode_object(still_failing, gzipped=failed_records.is_gzipped(body))
        s3.put_object(Bucket=settings.bucket, Key=key, Body=rewritten)
    reasons = Counter(f"{r['errorCode']}: {r['errorMessage']}" for r in still_failing)
    report.left.append((key, len(still_failing), "; ".join(f"{n}x {reason}" for reason, n in reasons.most_common(3))))


def run(
    settings: Settings, *, s3: Any = None, firehose: Any = None, policy: RetryPolicy | None = None, out: Any = None
) -> Report:
    import boto3
    from botocore.exceptions import ClientError

    out = out or sys.stdout
    s3 = s3 or boto3.client("s3", region_name=settings.region)
    firehose = firehose or boto3.client("firehose", region_name=settings.region)
    policy = policy or RetryPolicy()
    report = Report(dry_run=settings.dry_run)
    try:
        if not settings.dry_run:
            status = firehose.describe_delivery_stream(DeliveryStreamName=settings.stream)
            state = status["DeliveryStreamDescription"]["DeliveryStreamStatus"]
            if state != "ACTIVE":
                raise RedriveError(f"delivery stream {settings.stream} is {state}, not ACTIVE")
        work = [(key, prefix) for prefix in settings.prefixes for key in list_keys(s3, settings.bucket, prefix)]
        tombstones = load_tombstones(s3, settings.bucket, settings.tombstones_prefix)
    except ClientError as exc:
        raise RedriveError(f"cannot read s3://{settings.bucket} or stream {settings.stream}: {exc}") from exc
    if settings.max_objects is not None:
        work = work[: settings.max_objects]
    print(f"{len(work)} object(s) under {', '.join(settings.prefixes)} in s3://{settings.bucket}", file=out, flush=True)
    report.tombstones = len(tombstones.posts) + len(tombstones.authors)
    last = time.monotonic()
    for n, (key, prefix) in enumerate(work, start=1):
        redrive_object(s3, firehose, settings, key, prefix, report=report, policy=policy, tombstones=tombstones)
        report.objects_seen += 1
        if time.monotonic() - last >= settings.progress_every or n == len(work):
            print(f"progress: {n}/{len(work)} objects, {report.records_seen} records read, {report.records_put} put",
                  file=out, flush=True)  # fmt: skip
            last = time.monotonic()
    print(report.render(), file=out, flush=True)
    return report


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser(
        "python -m scripts.ops.redrive",
        __doc__.split("\n\n")[0],
        codes={**EXIT_CODES, 1: "failed, or records are left in the bucket / unreadable (see the report)"},
    )
    add_terraform_arguments(p)
    p.add_argument("--bucket", help="backup bucket; default: output backup_bucket_name")
    p.add_argument("--stream", help="delivery stream; default: output delivery_stream_name")
    p.add_argument("--region", help="AWS region; default: env AWS_REGION, output aws_region, else the SDK default")
    p.add_argument(
        "--key-prefix", default="", help="prefix in front of the failed prefixes (the stream's S3 backup prefix)"
    )
    p.add_argument("--only", choices=["processing-failed", "opensearch-failed"], help="redrive one source only")
    p.add_argument(
        "--prefix",
        action="append",
        help="read this failed-records prefix instead of the two defaults (repeatable; --key-prefix still applies)",
    )
    p.add_argument("--dry-run", action="store_true", help="count records by error code; send nothing, move nothing")
    p.add_argument("--include-non-json", action="store_true", help="also send rawData that is not JSON")
    p.add_argument("--max-objects", type=int, help="stop after this many objects (for a careful first run)")
    p.add_argument(
        "--tombstones-prefix",
        default=TOMBSTONES,
        help="where the ingester publishes its tombstones in the bucket (records of deleted posts are not sent)",
    )
    add_verbose_argument(p, help="log every object and API call")
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    parser = build_parser()
    args, resolve = start_tool(parser, argv, environ)
    try:
        bucket = resolve.require(args.bucket, flag="--bucket", output="backup_bucket_name")
        stream = resolve.require(args.stream, flag="--stream", output="delivery_stream_name")
        region = resolve.get(args.region, output="aws_region", env="AWS_REGION")
        chosen = tuple(args.prefix) if args.prefix else {
            "processing-failed": DEFAULT_PREFIXES[:1], "opensearch-failed": DEFAULT_PREFIXES[1:]
        }.get(args.only or "", DEFAULT_PREFIXES)  # fmt: skip
        settings = Settings(
            bucket=str(bucket),
            stream=str(stream),
            region=str(region) if region else None,
            prefixes=tuple(f"{args.key_prefix}{p}" for p in chosen),
            dry_run=args.dry_run,
            include_non_json=args.include_non_json,
            max_objects=args.max_objects,
            tombstones_prefix=args.tombstones_prefix,
        )
        report = run(settings)
    except (RedriveError, TerraformOutputsError, BotoCoreError, ClientError) as exc:
        print_error(parser.prog, exc)
        return 1
    return 1 if report.left or report.unreadable else 0


if __name__ == "__main__":
    sys.exit(main())
