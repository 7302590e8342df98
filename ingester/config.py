"""Settings: each declared once, as a field of the frozen dataclass :class:`Settings`.

Beside it: :mod:`ingester.config_declare` (:func:`setting` and the machinery), :mod:`ingester.config_parse` (parsers,
validators, :class:`ConfigError`; re-exported here) and :mod:`ingester.config_require` (what each command needs).

A field's declaration (:func:`setting`) holds everything about it: the field name and type, the default, the
environment variable, the parser, the range or validator, the help text, the ``.env.example`` line and the
command-line flag. The CLI flags (ingester.cli), ``ingester/.env.example`` and the settings tables of the READMEs
are built from it (``python scripts/dev/settings_docs.py --write``; a test checks the committed files are current).

Precedence: an explicit argument (a CLI flag) > the environment > the ``.env`` file > the default.

Failure policy: a missing or malformed value raises :class:`ConfigError`, whose message names the environment
variable and what it expects; the daemon exits 2 on it, which systemd does not restart (RestartPreventExitStatus).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from ingester.config_declare import (
    ALL_COMMANDS,
    SECTIONS,
    Command,
    Setting,
    check_fields,
    declaration,
    default_text,
    format_value,
    merged_values,
    public_values,
    setting,
)
from ingester.config_parse import (
    ConfigError,
    as_bool,
    as_float,
    as_int,
    as_lower,
    as_optional_positive_int,
    as_path,
    as_rate,
    as_terms,
    check_http_url,
    check_limit,
    check_metrics_namespace,
    check_s3_uri,
    check_terms,
    check_ws_urls,
    one_of,
    to_path,
)
from ingester.firehose import limits as firehose

SourceName = Literal["x", "bluesky", "replay"]
SOURCES: tuple[str, ...] = ("x", "bluesky", "replay")
SHUTDOWN_GRACE_MAX_S = 30.0
"""Longest flush on SIGTERM: with up to 10 s for the source to let go it must fit the unit's TimeoutStopSec (45 s)."""
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

X_RULE_MAX_CHARS = 1024
#: Bluesky's public Jetstream instances (https://github.com/bluesky-social/jetstream#public-instances), posts only.
BLUESKY_PUBLIC_ENDPOINTS: tuple[str, ...] = tuple(
    f"wss://jetstream{n}.us-{region}.bsky.network/subscribe?wantedCollections=app.bsky.feed.post"
    for region in ("east", "west")
    for n in (1, 2)
)


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("STATE_DIRECTORY") or "./state")


_RUN_CHECK: tuple[Command, ...] = ("run", "check")


@dataclass(frozen=True)
class Settings:
    """Everything the ingester needs. Only the fields the chosen source needs lack usable defaults."""

    source: SourceName = setting(
        "x",
        env="INGESTER_SOURCE",
        help="`x` (the X API v2 filtered stream), `bluesky` (Bluesky's public Jetstream, free, filtered locally "
        "by TRACKED_TERMS) or `replay` (a JSONL file, REPLAY_FILE).",
        parse=as_lower,
        check=one_of(SOURCES),
        choices=SOURCES,
        section="where",
        example="replay",
        flag="--source",
        commands=_RUN_CHECK,
        essential=True,
    )
    delivery_stream: str = setting(
        "",
        env="DELIVERY_STREAM_NAME",
        help="The Firehose delivery stream (Direct PUT). Required for `run`.",
        section="where",
        example="tweet-sentiment",
        flag="--delivery-stream",
        commands=_RUN_CHECK,
        essential=True,
    )
    aws_region: str | None = setting(
        env="AWS_REGION",
        help="AWS region of the delivery stream (and of the SSM parameter). boto3 also honours AWS_ENDPOINT_URL "
        "(set it in the real environment, not in a file) to talk to an emulator such as moto.",
        section="where",
        example="us-east-1",
        flag="--region",
        commands=_RUN_CHECK,
        essential=True,
    )
    tracked_terms: tuple[str, ...] = setting(
        (),
        env="TRACKED_TERMS",
        help="Comma-separated terms to track: words, phrases (no quotes needed: a phrase becomes one quoted rule "
        "operand), #hashtags, @mentions. X gets them as stream rules; Bluesky posts are matched locally (case-"
        "insensitive, whole words).",
        parse=as_terms,
        check=check_terms,
        section="x",
        example="aws,#serverless,amazon web services",
        flag="--tracked-terms",
        commands=("run", "rules", "check"),
        essential=True,
    )
    x_bearer_token: str | None = setting(
        env="X_BEARER_TOKEN",
        help="Local use only: the X app bearer token itself (wins over the SSM parameter). Never logged.",
        section="x",
        commented=True,
        secret=True,
    )
    x_bearer_token_ssm_parameter: str | None = setting(
        env="X_BEARER_TOKEN_SSM_PARAMETER",
        help="On EC2: the name of an SSM Parameter Store SecureString holding the app bearer token (waited for "
        "while missing, re-read after a 401, so rotating it needs no restart). Never put the token itself in a "
        "file there.",
        section="x",
        example="/tweet-sentiment/x-bearer-token",
        essential=True,
    )
    x_api_base_url: str = setting(
        "https://api.twitter.com",
        env="X_API_BASE_URL",
        help="Base URL of the X API (tests point it at a local fake server).",
        check=check_http_url,
        section="x",
        commented=True,
    )
    x_rule_suffix: str = setting(
        "",
        env="X_RULE_SUFFIX",
        help="Appended to every rule, e.g. `-is:retweet lang:en` (X bills per post read: precise rules save money).",
        section="x",
        essential=True,
    )
    x_max_rules: int = setting(
        25,
        env="X_MAX_RULES",
        help="Rule-count limit of your X access level (Basic 25). More terms than this are packed into "
        '`(a OR b OR "c d")` rules of at most 1,024 characters.',
        parse=as_int,
        range=(1, 1000),
        section="x",
    )
    x_sync_rules: bool = setting(
        True,
        env="X_SYNC_RULES",
        help="Sync the stream rules to TRACKED_TERMS at start-up (adds missing rules, deletes its own stale ones; "
        "rules it did not create are left alone).",
        parse=as_bool,
        section="x",
    )
    x_reconnect_backoff_scale: float = setting(
        1.0,
        env="X_RECONNECT_BACKOFF_SCALE",
        help="Multiplier on X's reconnect backoff (network +250 ms..16 s, HTTP 5..320 s, 429 from 60 s). Tests "
        "only: do not lower it in production, X penalises fast reconnects.",
        parse=as_float,
        range=(0.0001, 100),
        section="x",
    )
    stall_timeout_s: float = setting(
        20.0,
        env="STALL_TIMEOUT_S",
        help="Seconds without data or keep-alive before the connection counts as stalled and is re-opened "
        "(X sends a keep-alive every 20 s).",
        parse=as_float,
        range=(0.1, 600),
        section="x",
    )
    max_posts_per_day: int | None = setting(
        env="MAX_POSTS_PER_DAY",
        help="Daily cap on posts read (UTC day, survives restarts); 0 or unset = no cap. X bills per post read: "
        "when reached the stream disconnects until 00:00 UTC.",
        parse=as_optional_positive_int,
        range=(1, 10**12),
        section="x",
        example="0",
        essential=True,
    )
    max_posts_per_month: int | None = setting(
        env="MAX_POSTS_PER_MONTH",
        help="Monthly cap on posts read (UTC calendar month, survives restarts) beside the daily one; 0 or unset = "
        "none. X's pay-per-use access stops at 2,000,000 post reads a month per app: when reached the stream "
        "disconnects until the 1st, 00:00 UTC.",
        parse=as_optional_positive_int,
        range=(1, 10**12),
        section="x",
        example="0",
    )
    x_usage_interval_s: float = setting(
        900.0,
        env="X_USAGE_INTERVAL_S",
        help="Seconds between reads of X's usage endpoint (GET /2/usage/tweets: posts read this billing cycle and "
        "the cap) into the XUsagePercent metric (alarm at 80 %); 0 = never. X allows 50 calls per 15 minutes.",
        parse=as_float,
        range=(0, 86_400),
        section="x",
    )
    bluesky_endpoints: tuple[str, ...] = setting(
        BLUESKY_PUBLIC_ENDPOINTS,
        env="BLUESKY_ENDPOINTS",
        help="Comma-separated Jetstream subscribe URLs, tried in order (the next one after a failed connection); "
        "keep `wantedCollections=app.bsky.feed.post`, the ingester adds `cursor`.",
        parse=as_terms,
        check=check_ws_urls,
        section="bluesky",
        commented=True,
    )
    bluesky_cursor_rewind_s: float = setting(
        5.0,
        env="BLUESKY_CURSOR_REWIND_S",
        help="On reconnect or restart, resume this many seconds before the last post handled (STATE_DIR/"
        "bluesky-cursor.json), so nothing falls in a gap (instances' clocks differ); the repeats are skipped by "
        "post id.",
        parse=as_float,
        range=(0, 3600),
        section="bluesky",
    )
    bluesky_reconnect_max_s: float = setting(
        60.0,
        env="BLUESKY_RECONNECT_MAX_S",
        help="Cap of the reconnect backoff (1 s doubling, with jitter) after a Jetstream connection that brought no "
        "new event; a connection that did resets it.",
        parse=as_float,
        range=(0.05, 3600),
        section="bluesky",
    )
    bluesky_gap_min_s: float = setting(
        30.0,
        env="BLUESKY_GAP_MIN_S",
        help="The first event after a cursor this many seconds past the last one handled is a gap (Jetstream no "
        "longer had the events in between): logged with its start, end and size, counted (Gaps), then passed.",
        parse=as_float,
        range=(0.001, 86_400),
        section="bluesky",
    )
    state_dir: Path = setting(
        default_factory=default_state_dir,
        env="STATE_DIR",
        help="WAL, spool, dead letters, status.json (/var/lib/tweet-ingester under systemd).",
        parse=as_path,
        check=to_path,
        example="./state",
        commented=True,
        flag="--state-dir",
        commands=ALL_COMMANDS,
        fallback_env=("STATE_DIRECTORY",),
        default_text="$STATE_DIRECTORY (systemd's StateDirectory=), else ./state",
        essential=True,
    )
    cloudwatch_metrics: bool = setting(
        False,
        env="CLOUDWATCH_METRICS",
        help="CloudWatch custom metrics, one batched PutMetricData call per METRICS_INTERVAL_S: Received, "
        "Delivered, Spooled, Dropped, DeadLettered, Duplicates, StorageErrors, StreamConnected, SpoolRecords, "
        "SpoolFullPercent, Gaps, GapSeconds, DeletionsApplied, DeletionFailures, DeletionsPending, DeletionLagP50, "
        "DeletionLagP99.",
        parse=as_bool,
        essential=True,
    )
    metrics_namespace: str = setting(
        "TweetSentiment/Ingester",
        env="METRICS_NAMESPACE",
        help="CloudWatch namespace of those metrics (not `AWS/...`).",
        check=check_metrics_namespace,
        essential=True,
    )
    metrics_interval_s: float = setting(
        60.0,
        env="METRICS_INTERVAL_S",
        help="Seconds between CloudWatch metric publications.",
        parse=as_float,
        range=(1, 86_400),
    )
    log_level: str = setting(
        "INFO",
        env="LOG_LEVEL",
        help="Log level of the JSON log lines.",
        check=one_of(LOG_LEVELS, upper=True),
        choices=LOG_LEVELS,
        flag="--log-level",
        commands=ALL_COMMANDS,
    )
    replay_file: Path | None = setting(
        env="REPLAY_FILE",
        help="JSONL of envelope v1 objects or raw X v2 stream messages (required when INGESTER_SOURCE=replay).",
        parse=as_path,
        check=to_path,
        section="replay",
        example="tweets.jsonl",
        commented=True,
        flag="--replay-file",
        commands=_RUN_CHECK,
    )
    rate: float | None = setting(
        env="REPLAY_RATE",
        help="Tweets per second; empty or `max` = as fast as possible.",
        parse=as_rate,
        range=(0.001, 10_000_000),
        section="replay",
        flag="--rate",
        commands=("run",),
    )
    loop: bool = setting(
        False,
        env="REPLAY_LOOP",
        help="Start again at the end of the file (each pass re-sends the same tweets).",
        parse=as_bool,
        section="replay",
        flag="--loop",
        commands=("run",),
    )
    replay_shift_to_now: bool = setting(
        False,
        env="REPLAY_SHIFT_TO_NOW",
        help="Shift every tweet's `created_at` by one offset so the file's newest tweet is dated when each pass "
        "starts (gaps kept): an old sample then shows in a dashboard's recent time range. Off: dates as in the file.",
        parse=as_bool,
        section="replay",
        flag="--replay-shift-to-now",
        commands=("run",),
    )
    limit: int | None = setting(
        env="INGESTER_LIMIT",
        help="Stop after N messages read (any source), flush, exit 0. Empty = no limit.",
        parse=as_int,
        check=check_limit,
        range=(1, 10**12),
        section="replay",
        flag="--limit",
        commands=("run",),
    )
    linger_ms: int = setting(
        1000,
        env="LINGER_MS",
        help="Longest age of a batch: it is sent at MAX_BATCH_RECORDS records, MAX_BATCH_BYTES bytes, or this "
        "many milliseconds after its first record, whichever comes first.",
        parse=as_int,
        range=(0, 60_000),
        section="writer",
        flag="--linger-ms",
        commands=("run",),
    )
    max_batch_records: int = setting(
        firehose.MAX_BATCH_RECORDS,
        env="MAX_BATCH_RECORDS",
        help="Records per PutRecordBatch call (Firehose's limit: 500).",
        parse=as_int,
        range=(1, firehose.MAX_BATCH_RECORDS),
        section="writer",
    )
    max_batch_bytes: int = setting(
        firehose.MAX_BATCH_BYTES,
        env="MAX_BATCH_BYTES",
        help="Bytes per PutRecordBatch call (Firehose's limit: 4 MiB; at least one 1,000 KiB record).",
        parse=as_int,
        range=(firehose.MAX_RECORD_BYTES, firehose.MAX_BATCH_BYTES),
        section="writer",
    )
    queue_max_records: int = setting(
        20_000,
        env="QUEUE_MAX_RECORDS",
        help="Bounded queue between the source and the writer (back-pressure, flat memory).",
        parse=as_int,
        range=(1, 10_000_000),
        section="writer",
    )
    wal_commit_ms: int = setting(
        200,
        env="WAL_COMMIT_MS",
        help="Write-ahead-log group commit interval: kill -9 or power loss loses at most this window of tweets "
        "that Firehose had not yet accepted.",
        parse=as_int,
        range=(1, 10_000),
        section="writer",
    )
    spool_max_bytes: int = setting(
        0,
        env="SPOOL_MAX_BYTES",
        parse=as_int,
        range=(0, 2**62),
        section="writer",
        help="Cap of the disk spool in bytes; 0 (default) = computed at start from the filesystem holding STATE_DIR: "
        "90 % of it when STATE_DIR is a mount point (its own volume), else half. At the cap (or on a full disk) the "
        "source is paused, nothing accepted is dropped.",
    )
    spool_share: float = setting(
        0.0,
        env="SPOOL_SHARE",
        parse=as_float,
        range=(0, 0.95),
        section="writer",
        help="When SPOOL_MAX_BYTES is 0: the share of the filesystem holding STATE_DIR the spool may fill; 0 (default) "
        "= 0.9 on a volume of its own, else 0.5. Services sharing one volume (ingester_source = both) split it: "
        "Terraform sets 0.45 for each.",
    )
    spool_after_s: float = setting(
        5.0,
        env="SPOOL_AFTER_S",
        help="Firehose accepting nothing for this many seconds (every call refused or every record failed) turns the "
        "writer degraded: records go to the disk spool and a probe tries every MAX_BACKOFF_S at most.",
        parse=as_float,
        range=(0, 3600),
        section="writer",
    )
    max_backoff_s: float = setting(
        2.0,
        env="MAX_BACKOFF_S",
        help="Cap of the backoff (0.1 s doubling, with jitter) after a call Firehose accepted nothing of, so of the "
        "probe interval in spool mode: delivery resumes within about this long after Firehose is back.",
        parse=as_float,
        range=(0.01, 3600),
        section="writer",
    )
    shutdown_grace_s: float = setting(
        10.0,
        env="SHUTDOWN_GRACE_S",
        help="On SIGTERM: time allowed to flush before the rest goes to the spool (it must fit the unit's "
        "TimeoutStopSec).",
        parse=as_float,
        range=(0, SHUTDOWN_GRACE_MAX_S),
        section="writer",
    )
    dedupe_window: int = setting(
        100_000,
        env="DEDUPE_WINDOW",
        help="Tweet ids remembered for dedupe (reconnects can repeat posts).",
        parse=as_int,
        range=(0, 100_000_000),
        section="writer",
    )
    stats_interval_s: float = setting(
        60.0,
        env="STATS_INTERVAL_S",
        help="Seconds between JSON stats lines in the log.",
        parse=as_float,
        range=(0.05, 86_400),
    )
    status_interval_s: float = setting(
        5.0,
        env="STATUS_INTERVAL_S",
        help="Seconds between updates of the state file (STATE_DIR/status.json, read by `ingester status`).",
        parse=as_float,
        range=(0.05, 86_400),
    )

    opensearch_endpoint: str | None = setting(
        env="OPENSEARCH_ENDPOINT",
        help="The OpenSearch domain's https endpoint the deleter removes deleted posts from (`_delete_by_query` on "
        "tweets-*, SigV4-signed with the instance role); unset: deletions are still recorded as tombstones and "
        "kept out of Firehose, and applied to OpenSearch once it is set.",
        check=check_http_url,
        section="deletions",
        example="https://search-tweets-abc123.eu-west-1.es.amazonaws.com",
        commented=True,
    )
    retention_days: int = setting(
        30,
        env="RETENTION_DAYS",
        help="Days a post stays in OpenSearch (the index retention): how long the ingester remembers the ids it "
        "accepted, so their deletes are applied and the X compliance job can check them.",
        parse=as_int,
        range=(1, 3650),
        section="deletions",
    )
    tombstone_days: int = setting(
        35,
        env="TOMBSTONE_DAYS",
        help="Days a deletion (tombstone) is kept and enforced: at least RETENTION_DAYS, the longest any copy of a "
        "post can come back (spool, Firehose retries, a redrive of a failed-record file, which S3 expires at "
        "RETENTION_DAYS).",
        parse=as_int,
        range=(1, 3650),
        section="deletions",
    )
    x_compliance_interval_h: float = setting(
        24.0,
        env="X_COMPLIANCE_INTERVAL_H",
        help="Hours between X batch compliance runs (INGESTER_SOURCE=x): the ids stored within RETENTION_DAYS are "
        "checked and what X answers deleted, protected, suspended or deactivated is removed; 0 disables it.",
        parse=as_float,
        range=(0, 24 * 7),
        section="deletions",
    )
    tombstones_s3_uri: str | None = setting(
        env="TOMBSTONES_S3_URI",
        help="s3://bucket/key the deleter publishes the live tombstones to (ids only), so `make redrive` skips "
        "deleted posts; unset: not published.",
        check=check_s3_uri,
        section="deletions",
        example="s3://tweet-sentiment-failed-records/tombstones/ingester.jsonl",
        commented=True,
    )
    deletion_interval_s: float = setting(
        5.0,
        env="DELETION_INTERVAL_S",
        help="Seconds between the deleter's rounds (pending tombstones sent to OpenSearch, failures retried).",
        parse=as_float,
        range=(0.05, 3600),
        section="deletions",
    )
    deletion_reapply_window_s: float = setting(
        9000.0,
        env="DELETION_REAPPLY_WINDOW_S",
        help="Tombstones this recent are deleted again every DELETION_REAPPLY_INTERVAL_S: a copy can still come out "
        "of a Firehose buffer (up to 900 s) or its OpenSearch retries (up to 7,200 s) after the delete.",
        parse=as_float,
        range=(0, 7 * 86_400),
        section="deletions",
    )
    deletion_reapply_interval_s: float = setting(
        300.0,
        env="DELETION_REAPPLY_INTERVAL_S",
        help="Seconds between re-applications of the recent tombstones (see DELETION_REAPPLY_WINDOW_S).",
        parse=as_float,
        range=(0.05, 86_400),
        section="deletions",
    )

    def __post_init__(self) -> None:
        check_fields(self)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None) -> Settings:
        return cls.from_sources({}, os.environ if environ is None else environ, dotenv_path)

    @classmethod
    def from_sources(cls, cli: Mapping[str, object], environ: Mapping[str, str], dotenv_path: Path | None) -> Settings:
        """Merge CLI flags (field names) > environment > ``.env`` file > defaults, and validate
        (:func:`ingester.config_declare.merged_values`)."""
        kwargs = merged_values(cls, cli, environ, dotenv_path)
        if "state_dir" not in kwargs:  # its default_factory reads os.environ: here only ``environ`` counts
            kwargs["state_dir"] = default_state_dir({})
        return cls(**kwargs)

    def public_dict(self) -> dict[str, object]:
        """The settings as JSON-able values with secrets masked (for logs and ``check``)."""
        return public_values(self)


#: Field name -> its declaration, in field order.
SETTINGS: dict[str, Setting] = {f.name: declaration(f) for f in dataclasses.fields(Settings)}
#: Field name -> environment variable.
ENV_NAMES: dict[str, str] = {name: declared.env for name, declared in SETTINGS.items()}


__all__ = [
    "ALL_COMMANDS",
    "BLUESKY_PUBLIC_ENDPOINTS",
    "ENV_NAMES",
    "LOG_LEVELS",
    "SECTIONS",
    "SETTINGS",
    "SHUTDOWN_GRACE_MAX_S",
    "SOURCES",
    "X_RULE_MAX_CHARS",
    "Command",
    "ConfigError",
    "Setting",
    "Settings",
    "SourceName",
    "declaration",
    "default_state_dir",
    "default_text",
    "format_value",
    "setting",
]
