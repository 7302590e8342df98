"""``run``: wire a source, the pipeline, the write-ahead log, the spool and the Firehose writer together.

Public API (stable; the local demo builds on it)::

    from ingester.app import run
    from ingester.config import Settings
    code = run(Settings(source="replay", replay_file=Path("tweets.jsonl"), delivery_stream="demo",
                        state_dir=Path("state")), firehose_client=my_client, stop_event=event)

Exit codes: 0 (finished, or stopped by ``stop_event``/SIGTERM after flushing), 1 (fatal runtime error:
systemd restarts the service), 2 (configuration error).
"""

from __future__ import annotations

import fcntl
import functools
import logging
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ingester import __version__
from ingester.aws import make_boto3_client
from ingester.config import ConfigError, Settings
from ingester.config_require import require_for_run
from ingester.deletions.deleter import Deleter, DeletionTarget, DeletionWorker
from ingester.deletions.opensearch import OpenSearchDeleteTarget, sigv4_signer
from ingester.deletions.publish import S3TombstonePublisher
from ingester.deletions.store import DeletionStore
from ingester.deletions.x_compliance import STATE_FILE as COMPLIANCE_STATE_FILE
from ingester.deletions.x_compliance import ComplianceSchedule
from ingester.firehose.put import FirehoseClient
from ingester.metrics import MetricsPublisher
from ingester.pipeline import Pipeline
from ingester.sources import Source
from ingester.stats import Stats, write_status
from ingester.storage import DeadLetter, SegmentSequence, Spool, Wal, default_spool_max_bytes
from ingester.writer import FirehoseWriter

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_CONFIG = 2


class StateLock:
    """One daemon per STATE_DIR: an flock on STATE_DIR/.lock (released by the kernel if the process dies)."""

    def __init__(self, state_dir: Path) -> None:
        self.path = state_dir / ".lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        handle = self.path.open("a+", encoding="ascii")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise ConfigError(f"STATE_DIR {str(self.path.parent)!r} is in use by another running ingester") from None
        try:  # the pid is for people; a full disk must not stop the start-up (the lock is the flock)
            os.ftruncate(handle.fileno(), 0)
            os.pwrite(handle.fileno(), str(os.getpid()).encode("ascii"), 0)
        except OSError as exc:
            log.warning("could not write the pid to %s: %s", self.path, exc)
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def make_source(settings: Settings, stats: Stats, deletions: DeletionStore | None = None) -> Source:
    if settings.source == "replay":
        from ingester.sources.replay import REPLAY_OFFSET_FILE, ReplaySource

        assert settings.replay_file is not None
        return ReplaySource(
            settings.replay_file,
            rate=settings.rate,
            loop=settings.loop,
            offset_file=settings.state_dir / REPLAY_OFFSET_FILE,
            shift_to_now=settings.replay_shift_to_now,
        )
    if settings.source == "bluesky":
        from ingester.sources.bluesky import BlueskySource

        return BlueskySource(settings, stats, deletions=deletions)
    from ingester.secrets import SecretNotSetError, resolve_bearer_token
    from ingester.sources.x import XSource

    # A 401 may mean the token in SSM was rotated: the source re-reads it before retrying.
    refresher = None if settings.x_bearer_token else functools.partial(resolve_bearer_token, settings)
    try:
        token: str | None = resolve_bearer_token(settings)
    except SecretNotSetError:
        if refresher is None:
            raise
        token = None  # the parameter is put after the deploy: the source waits for it (and says so)
    return XSource(settings, token, stats, token_refresher=refresher)


@dataclass(eq=False)
class Reporter:
    """Writes the state file every STATUS_INTERVAL_S, logs a JSON stats line every STATS_INTERVAL_S, and
    (CLOUDWATCH_METRICS=true) publishes metrics every METRICS_INTERVAL_S."""

    settings: Settings
    stats: Stats
    writer: FirehoseWriter
    wal: Wal
    metrics: MetricsPublisher | None
    state: str = field(default="starting", init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _status_failing: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self._thread = threading.Thread(target=self._run, name="reporter", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread; publish the last interval's metrics so a stop never swallows them."""
        self._stop.set()
        self._thread.join(timeout=5)
        if self.metrics is not None:
            self.metrics.publish(self.stats.snapshot())

    def extra(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "version": __version__,
            "source": self.settings.source,
            "delivery_stream": self.settings.delivery_stream,
            "state_dir": str(self.settings.state_dir),
            "wal_unsettled": self.wal.unsettled(),
            "queue_depth": self.writer.queue_depth(),
        }

    def write_status(self) -> None:
        try:
            write_status(self.settings.state_dir, self.stats.snapshot(), self.extra())
        except OSError as exc:
            if not self._status_failing:  # once per failure spell: a full disk would repeat it every interval
                log.error("could not write the state file in %s: %s", self.settings.state_dir, exc)
            self._status_failing = True
        else:
            self._status_failing = False

    def log_stats(self) -> dict[str, Any]:
        snap = self.stats.snapshot()
        snap.update(self.extra())
        log.info("stats", extra={"stats": snap})
        return snap

    def _run(self) -> None:
        s = self.settings
        now = time.monotonic()
        next_status = now
        next_stats = now + s.stats_interval_s
        next_metrics = now + s.metrics_interval_s
        while not self._stop.wait(0.05):
            now = time.monotonic()
            if now >= next_status:
                self.write_status()
                next_status = now + s.status_interval_s
            if now >= next_stats:
                snap = self.log_stats()
                next_stats = now + s.stats_interval_s
                if self.metrics is not None and now >= next_metrics:
                    self.metrics.publish(snap)
                    next_metrics = now + s.metrics_interval_s
            elif self.metrics is not None and now >= next_metrics:
                self.metrics.publish(self.stats.snapshot())
                next_metrics = now + s.metrics_interval_s


def run(
    settings: Settings,
    *,
    firehose_client: FirehoseClient | None = None,
    stop_event: threading.Event | None = None,
    deletion_targets: Sequence[DeletionTarget] = (),
) -> int:
    """Run the ingester until the source ends (replay), ``limit`` is reached, or ``stop_event`` is set.

    Returns an exit code (0 ok, 1 fatal, 2 configuration error). Setting ``stop_event`` behaves like
    SIGTERM: stop reading, flush, spool what cannot be sent, return 0.
    """
    stop = stop_event or threading.Event()
    try:
        require_for_run(settings)
        settings.state_dir.mkdir(parents=True, exist_ok=True)
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return EXIT_CONFIG
    except OSError as exc:
        log.error("configuration error: STATE_DIR %s is not usable: %s", settings.state_dir, exc)
        return EXIT_CONFIG
    lock = StateLock(settings.state_dir)
    try:
        lock.acquire()
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return EXIT_CONFIG
    try:
        return _run_locked(settings, firehose_client, stop, deletion_targets)
    except ConfigError as exc:
        log.error("configuration error: %s", exc)
        return EXIT_CONFIG
    except Exception:
        log.exception("fatal error; exiting 1 (systemd restarts the service, the WAL keeps what was read)")
        return EXIT_FATAL
    finally:
        lock.release()


@dataclass
class _Parts:
    stats: Stats
    wal: Wal
    spool: Spool
    writer: FirehoseWriter
    pipeline: Pipeline
    source: Source
    reporter: Reporter
    deletions: DeletionStore
    deleter: DeletionWorker
    compliance: ComplianceSchedule | None = None

    def start(self) -> None:
        self.wal.start()
        self.writer.start()
        self.deleter.start()
        if self.compliance is not None:
            self.compliance.start()

    def close_deletions(self) -> None:
        """A last deleter round (tombstones recorded while stopping), then the store's file."""
        if self.compliance is not None:
            self.compliance.close()
        self.deleter.close()
        self.deletions.close()


def _deletion_targets(settings: Settings, extra: Sequence[DeletionTarget]) -> list[DeletionTarget]:
    """OpenSearch (OPENSEARCH_ENDPOINT, SigV4 with the instance role unless it is a plain-http local cluster) and
    the caller's own targets (the demo's SQLite)."""
    targets = list(extra)
    if settings.opensearch_endpoint:
        signer = None
        if settings.opensearch_endpoint.startswith("https://"):
            try:
                signer = sigv4_signer(settings.aws_region)
            except ValueError as exc:
                raise ConfigError(f"OPENSEARCH_ENDPOINT is set but requests cannot be signed: {exc}") from exc
        targets.append(OpenSearchDeleteTarget(settings.opensearch_endpoint, signer=signer))
    return targets


def _build(
    settings: Settings,
    firehose_client: FirehoseClient | None,
    stop: threading.Event,
    deletion_targets: Sequence[DeletionTarget] = (),
) -> _Parts:
    stats = Stats()
    deletions = DeletionStore(
        settings.state_dir,
        retention_s=settings.retention_days * 86_400,
        tombstone_ttl_s=settings.tombstone_days * 86_400,
    )
    client: FirehoseClient = firehose_client or make_boto3_client("firehose", settings)
    metrics = None
    if settings.cloudwatch_metrics:
        metrics = MetricsPublisher(
            make_boto3_client("cloudwatch", settings), settings.metrics_namespace, settings.delivery_stream
        )
    wal_dir = settings.state_dir / "wal"
    spool_dir = settings.state_dir / "spool"
    wal_dir.mkdir(exist_ok=True)
    spool_dir.mkdir(exist_ok=True)
    sequence = SegmentSequence(wal_dir, spool_dir)
    spool_max = settings.spool_max_bytes or default_spool_max_bytes(settings.state_dir, settings.spool_share or None)
    spool = Spool(spool_dir, sequence, max_bytes=spool_max)
    stats.set("spool_max_bytes", spool_max)
    stats.set("spool_bytes", spool.pending_bytes)
    stats.set("spool_records", spool.pending_records)
    wal = Wal(wal_dir, sequence, commit_interval_s=settings.wal_commit_ms / 1000)
    for leftover in wal.leftover_segments():
        spool.adopt(leftover)
    if spool.pending_records:
        log.info("%d record(s) waiting in the spool from a previous run; draining them first", spool.pending_records)
    dead = DeadLetter(settings.state_dir / "dead-letter.jsonl")
    writer = FirehoseWriter(
        client,
        settings.delivery_stream,
        wal=wal,
        spool=spool,
        dead_letter=dead,
        stats=stats,
        max_batch_records=settings.max_batch_records,
        max_batch_bytes=settings.max_batch_bytes,
        linger_s=settings.linger_ms / 1000,
        queue_max_records=settings.queue_max_records,
        spool_after_s=settings.spool_after_s,
        max_backoff_s=settings.max_backoff_s,
        shutdown_grace_s=settings.shutdown_grace_s,
        deleted=deletions.covers_record,
    )
    pipeline = Pipeline(
        wal=wal,
        writer=writer,
        dead_letter=dead,
        stats=stats,
        dedupe_window=settings.dedupe_window,
        limit=settings.limit,
        stop_event=stop,
        deletions=deletions,
    )
    source = make_source(settings, stats, deletions)
    reporter = Reporter(settings, stats, writer, wal, metrics)
    targets = _deletion_targets(settings, deletion_targets)
    if not targets:
        log.warning("OPENSEARCH_ENDPOINT is not set: deletions are recorded and kept out of Firehose, not applied")
    publish = None
    if settings.tombstones_s3_uri:
        publish = S3TombstonePublisher(make_boto3_client("s3", settings), settings.tombstones_s3_uri)
    deleter = DeletionWorker(
        Deleter(deletions, targets, stats, reapply_window_s=settings.deletion_reapply_window_s),
        interval_s=settings.deletion_interval_s,
        reapply_interval_s=settings.deletion_reapply_interval_s,
        publish=publish,
    )
    compliance = None
    if settings.source == "x" and settings.x_compliance_interval_h > 0:
        from ingester.secrets import resolve_bearer_token

        compliance = ComplianceSchedule(
            deletions,
            stats,
            settings.state_dir / COMPLIANCE_STATE_FILE,
            base_url=settings.x_api_base_url,
            token=functools.partial(resolve_bearer_token, settings),
            interval_s=settings.x_compliance_interval_h * 3600,
        )
    return _Parts(stats, wal, spool, writer, pipeline, source, reporter, deletions, deleter, compliance)


def _run_locked(
    settings: Settings,
    firehose_client: FirehoseClient | None,
    stop: threading.Event,
    deletion_targets: Sequence[DeletionTarget] = (),
) -> int:
    parts = _build(settings, firehose_client, stop, deletion_targets)
    source, writer, reporter = parts.source, parts.writer, parts.reporter
    source_error: list[BaseException] = []

    def read() -> None:
        try:
            source.run(parts.pipeline, stop)
        except BaseException as exc:
            source_error.append(exc)
            log.exception("source %s failed", source.name)

    log.info(
        "ingester %s starting: source=%s delivery_stream=%s state_dir=%s",
        __version__,
        settings.source,
        settings.delivery_stream,
        settings.state_dir,
    )
    parts.start()
    reporter.state = "running"
    reporter.start()
    reader = threading.Thread(target=read, name=f"source-{source.name}", daemon=True)
    reader.start()
    code = EXIT_OK
    try:
        while reader.is_alive() and writer.is_alive() and not stop.wait(0.1):
            pass
        stopped = stop.is_set()
        if not writer.is_alive():
            stop.set()  # the writer died: the source must stop reading too (what it took is in the WAL)
        reporter.state = "stopping"
        if stopped:
            log.info("stop requested: no more reading; flushing")
        source.close()
        reader.join(timeout=10)
        if reader.is_alive():
            log.error("source %s did not stop within 10 s; flushing what it produced", source.name)
        if source_error:
            code = EXIT_CONFIG if isinstance(source_error[0], ConfigError) else EXIT_FATAL
        if writer.error is None:
            writer.close(drain_spool=not stopped and not source_error)
            while not writer.join(timeout=0.1):
                if stop.is_set():
                    writer.interrupt()
        if writer.error is not None:
            log.error("the Firehose writer died; records still in the WAL are recovered on the next start")
            code = EXIT_FATAL
            return code
        parts.wal.close()
        parts.spool.close()
        if parts.wal.unsettled() == 0 and parts.spool.pending_records == 0:
            source.drained()
        return code
    finally:
        parts.close_deletions()
        _report_stopped(reporter, code)


def _report_stopped(reporter: Reporter, code: int) -> None:
    reporter.state = "stopped"
    reporter.stop()
    reporter.write_status()
    snap = reporter.log_stats()
    log.info(
        "ingester stopped: read=%s delivered=%s spool_pending=%s dropped=%s exit=%s",
        snap["read"],
        snap["delivered"],
        snap["spool_records"],
        snap["dropped_total"],
        code,
    )
