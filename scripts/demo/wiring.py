"""Building one demo run: the paths, the ingester's settings, the transform, the store and the local Firehose.

Every piece the run needs is made here, by :func:`build`, and handed to :class:`scripts.demo.app.Demo` as one
:class:`Pieces`; nothing else in the demo opens a file, reads the environment or connects to a cluster.

The transform is driven the way Lambda drives it, minus the container: :func:`build_transform` builds the
embedded backend (the trained model, the Lambda's default) and the transform's
:class:`~transform.settings.Settings` once and returns a Firehose processor that calls
:func:`transform.handler.process_event` with them. The environment is read (LOG_LEVEL and the other transform
variables keep working) but never written: the backend and EMIT_METRICS=false are arguments.

Failure policy: every problem a user can fix fails here, before any record is read, with a message that names
the flag, the variable or the path: :class:`DemoConfigError` (flags, --sample, --env-file, --live without a
token, the ingester's own ConfigError), the transform's ``ConfigError`` (a ``ValueError``, e.g. LOG_LEVEL),
:class:`~scripts.demo.store.StoreError` (a database of another layout), ``OpenSearchError`` (--opensearch-url)
and ``OSError`` (an output folder that cannot be created or written). :func:`scripts.demo.app.run` turns each
into exit status 2. Nothing is retried: a wrong setting does not fix itself.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from scripts.demo.deletions import OpenSearchSinkDeleteTarget, SQLiteDeleteTarget
from scripts.demo.delivery import DemoStats, StoreTarget
from scripts.demo.failed import FailedWriter
from scripts.demo.firehose import LocalFirehose
from scripts.demo.store import SQLiteStore

if TYPE_CHECKING:
    from ingester.config import Settings as IngesterSettings
    from ingester.deletions.deleter import DeletionTarget
    from scripts.demo.opensearch_sink import OpenSearchIndexer

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SAMPLE = REPO_ROOT / "scripts" / "demo" / "data" / "sample_tweets.jsonl"
DEFAULT_OUTPUT = Path("demo-output")
STREAM_NAME = "demo"
VIEW_RATE = 200.0  # tweets/s replayed by default when the live view is on, so there is something to watch
# Terms the Bluesky demo tracks when TRACKED_TERMS is set nowhere (the environment, the --env-file): the sample's
# tracked rules, so `make demo ARGS="--source bluesky"` runs as the README writes it. Bluesky is free to read.
DEMO_BLUESKY_TERMS = ("travel", "music", "sports", "food", "tech")
IGNORED_X_HINT = "demo: X_BEARER_TOKEN is configured but ignored; replaying the sample (--live reads the X stream)"
NOISY_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer", "requests_oauthlib", "oauthlib", "tweepy")

Processor = Callable[[dict[str, Any], Any], Any]
"""What LocalFirehose invokes: ``(event, context) -> response``, like a Lambda handler."""


class DemoConfigError(ValueError):
    """A flag or the environment is unusable; the message says which and why."""


@dataclass(frozen=True)
class Paths:
    output_dir: Path
    db: Path
    failed: Path
    state: Path
    log: Path
    report: Path

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Paths:
        out = Path(args.output_dir)
        return cls(
            out,
            Path(args.db) if args.db else out / "tweets.db",
            out / "failed",
            out / "ingester-state",
            out / "demo.log",
            out / "report.html",
        )

    def reset(self) -> None:
        for path in (self.db, Path(f"{self.db}-wal"), Path(f"{self.db}-shm"), self.log, self.report):
            path.unlink(missing_ok=True)
        for folder in (self.failed, self.state):
            if folder.is_dir():
                shutil.rmtree(folder)


def live_x_configured(environ: Mapping[str, str], env_file: Path) -> bool:
    """True when a bearer token is set in the environment or in the dotenv file (its value is not kept)."""
    if environ.get("X_BEARER_TOKEN"):
        return True
    if env_file.is_file():
        from dotenv import dotenv_values

        return bool(dotenv_values(env_file).get("X_BEARER_TOKEN"))
    return False


def ingester_settings(
    args: argparse.Namespace,
    paths: Paths,
    *,
    live: bool,
    view: bool,
    environ: Mapping[str, str] | None = None,
) -> IngesterSettings:
    """The ingester's settings for this run; ``environ`` (default ``os.environ``) feeds --live only."""
    from ingester.config import ConfigError, Settings
    from ingester.config_require import require_for_run

    rate = args.rate if args.rate is not None else (VIEW_RATE if view and not live else 0.0)
    common: dict[str, Any] = {
        "delivery_stream": STREAM_NAME,
        "state_dir": paths.state,
        "limit": args.limit,
        "linger_ms": 250,  # a demo wants to see tweets soon; production keeps its own default
        "status_interval_s": 0.5,
        "stats_interval_s": 3600.0,
        # deletions reach SQLite (and --opensearch-url) within a second; the re-apply window covers the local
        # Firehose's buffer, as the deployed one covers Firehose's (a post deleted while buffered does not stay)
        "deletion_interval_s": 0.5,
        "deletion_reapply_interval_s": 1.0,
        "deletion_reapply_window_s": float(getattr(args, "buffer_interval", 0.0) or 0.0) + 60.0,
    }
    try:
        if live:
            env = dict(os.environ if environ is None else environ)
            source = "bluesky" if getattr(args, "source", None) == "bluesky" else "x"
            settings = Settings.from_sources({"source": source, **common}, env, args.env_file)
            if source == "bluesky" and not settings.tracked_terms:
                settings = replace(settings, tracked_terms=DEMO_BLUESKY_TERMS)
                print(f"demo: TRACKED_TERMS is not set: tracking the demo's terms {', '.join(DEMO_BLUESKY_TERMS)} "
                      "(set TRACKED_TERMS to choose yours)", file=sys.stderr)  # fmt: skip
        else:
            sample = Path(args.sample) if args.sample else DEFAULT_SAMPLE
            if sample.is_dir():
                raise DemoConfigError(f"--sample {sample}: is a folder; pass a JSONL file of stream messages")
            if not sample.is_file():
                raise DemoConfigError(f"--sample {sample}: no such file")
            settings = Settings(
                source="replay",
                replay_file=sample,
                rate=rate or None,
                loop=args.loop,
                replay_shift_to_now=not args.original_dates,  # so a dashboard's last-24-hours range shows the run
                **common,
            )
        require_for_run(settings)  # a missing setting fails here with its name, before anything starts
        return settings
    except ConfigError as exc:
        raise DemoConfigError(str(exc)) from None


def build_transform(environ: Mapping[str, str]) -> Processor:
    """The transform Lambda's processing with the embedded backend (the trained model), built once for the run.

    Same code path as the deployed function (``lambda_handler`` calls ``process_event`` with the container's
    backend and settings); the transform's variables in ``environ`` apply, except that the backend is always
    ``embedded`` (no AWS account) and no EMF metrics lines are written (the demo's terminal is not CloudWatch).
    A malformed variable raises the transform's ConfigError here, before any record is read.
    """
    from transform.handler import build_backend, process_event
    from transform.settings import Settings

    settings = Settings.from_env(environ, sentiment_backend="embedded", emit_metrics=False)
    backend = build_backend(settings)

    def processor(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return process_event(event, context, backend=backend, settings=settings)

    return processor


def display_path(path: Path) -> str:
    """``path`` relative to the working directory when it is inside it (shorter in the view), else as given."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def connect_opensearch(url: str | None, *, insecure: bool) -> OpenSearchIndexer | None:
    """The indexer for --opensearch-url, with the template applied; None without the flag."""
    if not url:
        return None
    from scripts.demo.opensearch_sink import OpenSearchIndexer, client_from_url

    indexer = OpenSearchIndexer(client_from_url(url, verify=not insecure))
    indexer.prepare()
    return indexer


class WarningTail(logging.Handler):
    """Keeps the last warning for the live view's footer."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0
        self.last: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
        self.last = f"{record.levelname.lower()}: {record.getMessage()}"


def configure_logging(paths: Paths, *, view: bool) -> WarningTail:
    """JSON lines to OUTPUT_DIR/demo.log; warnings also to stderr unless the live view owns the terminal.

    The ingester's formatter writes every line, the transform's too (its loggers propagate here outside Lambda):
    one JSON object per line with the keys both deployables use, structured fields at top level.
    """
    from ingester.logsetup import JsonFormatter, RedactingFilter

    paths.output_dir.mkdir(parents=True, exist_ok=True)
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    file_handler = logging.FileHandler(paths.log, encoding="utf-8")
    file_handler.setFormatter(JsonFormatter())
    file_handler.addFilter(RedactingFilter())
    root.addHandler(file_handler)
    if not view:
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.WARNING)
        stderr.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        stderr.addFilter(RedactingFilter())
        root.addHandler(stderr)
    tail = WarningTail()
    root.addHandler(tail)
    root.setLevel(logging.INFO)
    for name in NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    return tail


@dataclass
class Pieces:
    """Everything one run uses, built and opened by :func:`build`."""

    paths: Paths
    live: bool
    view_on: bool
    color: bool  # ANSI colours in the view and the summary: a live view, and NO_COLOR not set (no-color.org)
    settings: IngesterSettings
    source_desc: str
    tail: WarningTail
    store: SQLiteStore
    stats: DemoStats
    failed: FailedWriter
    indexer: OpenSearchIndexer | None
    firehose: LocalFirehose
    deletion_targets: list[DeletionTarget]


def source_description(settings: IngesterSettings, *, live: bool) -> str:
    if live and settings.source == "bluesky":
        return f"live Bluesky Jetstream, filtered by TRACKED_TERMS ({len(settings.tracked_terms)} term(s))"
    if live:
        return "live X filtered stream (X_BEARER_TOKEN from the environment or .env)"
    rate = f"{settings.rate:g} tweets/s" if settings.rate else "full speed"
    looping = ", looping" if settings.loop else ""
    replay_file = settings.replay_file or DEFAULT_SAMPLE  # always set for a replay (require_for_run checked it)
    return f"replay {display_path(replay_file)} ({rate}{looping})"


def build(args: argparse.Namespace, out: TextIO, environ: Mapping[str, str]) -> Pieces:
    """Check the flags, then make and open every piece of the run (see the module's failure policy)."""
    view_on = not args.no_view and out.isatty() and environ.get("TERM") != "dumb"
    paths = Paths.from_args(args)
    if args.reset:
        paths.reset()
    if args.env_file is not None and not args.env_file.is_file():
        raise DemoConfigError(f"--env-file {args.env_file}: no such file")
    env_file = args.env_file = args.env_file or Path(".env")
    # Live mode only when asked: a token in .env alone never switches the demo to X (billed per post).
    live = bool(args.live) or getattr(args, "source", None) is not None
    token = live_x_configured(environ, env_file)
    if live and not token and getattr(args, "source", None) != "bluesky":
        raise DemoConfigError(
            f"--live needs X_BEARER_TOKEN in the environment or in {env_file} (see ingester/.env.example)"
        )
    if token and not live:
        print(IGNORED_X_HINT, file=sys.stderr)
    tail = configure_logging(paths, view=view_on)
    settings = ingester_settings(args, paths, live=live, view=view_on, environ=environ)
    processor = build_transform(environ)
    store = SQLiteStore(paths.db)
    stats = DemoStats()
    failed = FailedWriter(paths.failed, STREAM_NAME)
    indexer = connect_opensearch(args.opensearch_url, insecure=args.opensearch_insecure)
    target = StoreTarget(store, failed, stats, lambda_arn="", indexer=indexer)
    firehose = LocalFirehose(
        processor,
        target,
        stream_name=STREAM_NAME,
        buffer_bytes=int(args.buffer_mb * 1024 * 1024),
        buffer_interval_s=args.buffer_interval,
    )
    target.lambda_arn = firehose.lambda_arn
    deletion_targets: list[DeletionTarget] = [SQLiteDeleteTarget(store)]
    if indexer is not None:
        deletion_targets.append(OpenSearchSinkDeleteTarget(indexer.client))
    return Pieces(
        paths=paths,
        live=live,
        view_on=view_on,
        color=view_on and not environ.get("NO_COLOR"),
        settings=settings,
        source_desc=source_description(settings, live=live),
        tail=tail,
        store=store,
        stats=stats,
        failed=failed,
        indexer=indexer,
        firehose=firehose,
        deletion_targets=deletion_targets,
    )
