"""``python -m scripts.demo``: the command line and the run loop of the local pipeline, with a live view.

    ingester (replay of the bundled sample, or the live X stream with --live)
      → LocalFirehose (PutRecordBatch limits, buffer by size and interval, Firehose events)
      → transform.handler.process_event with the embedded backend (built by scripts.demo.wiring)
      → SQLite (demo-output/tweets.db) | demo-output/failed/processing-failed/YYYY/MM/DD/HH/...
      (+ a real OpenSearch with --opensearch-url)

This module parses the flags, asks :mod:`scripts.demo.wiring` for the pieces, runs them and prints the
summary. The ingester runs in a worker thread exactly as in production (``ingester.app.run`` with a Firehose
client and a stop event); this thread draws the view. Ctrl-C (or SIGTERM, or --duration) sets the stop event:
the ingester stops reading and flushes, the local firehose delivers what it buffered, the store commits, and
the summary is printed with exit status 0.

Failure policy (exit status): 2 (EXIT_CONFIG) for anything the user can fix, found while the pieces are built
and before a record is read, with one ``demo: ...`` line on stderr; 1 (EXIT_FATAL) when the ingester crashes
or exits non-zero, or --live never reached X within LIVE_CONNECT_TIMEOUT_S; 130 when a second Ctrl-C
abandons the ingester. In every case after start-up what the local firehose holds is still delivered and the
summary printed: nothing accepted is dropped silently.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, TextIO

from ingester import __version__
from ingester.stats import Stats
from scripts.demo.deletions import final_sweep
from scripts.demo.delivery import Snapshot
from scripts.demo.report import ReportWriter
from scripts.demo.store import StoreError
from scripts.demo.view import LiveView, Summary, render_progress, render_summary
from scripts.demo.wiring import DEFAULT_OUTPUT, DEFAULT_SAMPLE, REPO_ROOT, VIEW_RATE, DemoConfigError, Pieces, build
from scripts.ops.opensearch.client import OpenSearchError

log = logging.getLogger("scripts.demo")

LIVE_SOURCES = {"x": "X stream", "bluesky": "Bluesky Jetstream", "replay": "replay"}
LIVE_CONNECT_TIMEOUT_S = 60.0  # a live source never reached in this time: stop with a clear message
# What each live source's "never connected" most likely means, beyond the network (the last error is quoted too).
LIVE_CAUSES = {"x": "network, token or rules", "bluesky": "network or BLUESKY_ENDPOINTS"}
# A failed name lookup, as the ingester's status records it (the exception's type and text: socket.gaierror from
# the Jetstream client, urllib3's NameResolutionError under the X client). Only text crosses the status file, so the
# demo reads these markers; one is enough to stop at once: offline, waiting LIVE_CONNECT_TIMEOUT_S changes nothing.
NAME_LOOKUP_FAILED = (
    "gaierror",
    "NameResolutionError",
    "Name or service not known",
    "Temporary failure in name resolution",
    "nodename nor servname provided",
)
EXIT_OK, EXIT_FATAL, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a number > 0, got {text!r}")
    return value


def _non_negative_float(text: str) -> float:
    try:
        if float(text) == 0:
            return 0.0
    except ValueError:
        pass  # _positive_float words the error
    return _positive_float(text)


def _ranged(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = _positive_float(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"expected a number from {low:g} to {high:g}, got {text!r}")
        return value

    return parse


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.demo",
        description="Run the tweet sentiment pipeline locally: ingester → local Firehose → transform "
        "(embedded model) → SQLite, with a live terminal view. No AWS account needed.",
    )
    default_sample = DEFAULT_SAMPLE.relative_to(REPO_ROOT)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--sample", type=Path, help=f"replay this JSONL file (default {default_sample})")
    source.add_argument(
        "--live",
        action="store_true",
        help="read the live X filtered stream instead of a file "
        "(needs X_BEARER_TOKEN in the environment or the --env-file; X bills every post read)",
    )
    source.add_argument(
        "--source",
        choices=("x", "bluesky"),
        help="read a live source instead of a file: x (as --live) or bluesky (Bluesky's public Jetstream: free, "
        "needs internet; TRACKED_TERMS from the environment or the --env-file; BLUESKY_ENDPOINTS overrides the "
        "servers)",
    )
    parser.add_argument("--limit", type=_positive_int, help="stop after this many tweets read")
    parser.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    parser.add_argument(
        "--rate",
        type=_non_negative_float,
        help=f"replay rate in tweets/s (default {VIEW_RATE:g} with the live view, full speed without; 0 = full speed)",
    )
    parser.add_argument("--loop", action="store_true", help="replay the file again and again (until Ctrl-C)")
    parser.add_argument(
        "--original-dates",
        action="store_true",
        help="keep the file's created_at (default: shifted so the newest tweet is dated now, gaps kept)",
    )
    parser.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT, help="where everything goes (default demo-output)"
    )
    parser.add_argument("--db", type=Path, help="SQLite database path (default OUTPUT_DIR/tweets.db)")
    parser.add_argument("--no-view", action="store_true", help="plain progress lines instead of the live view")
    parser.add_argument(
        "--reset", action="store_true", help="delete the previous run's database, failed folder and state first"
    )
    parser.add_argument(
        "--env-file", type=Path, help="dotenv file with X_BEARER_TOKEN for --live (default ./.env when it exists)"
    )
    parser.add_argument(
        "--buffer-mb",
        type=_ranged(0.2, 3.0),
        default=1.0,
        help="Firehose processor buffer size hint, 0.2-3 MB (default 1)",
    )
    parser.add_argument(
        "--buffer-interval",
        type=_ranged(0.01, 900.0),
        default=1.0,
        help="Firehose buffer interval hint in seconds, up to 900 (default 1)",
    )
    parser.add_argument(
        "--opensearch-url",
        help="also index into this OpenSearch, applying the index template (credentials in the URL or "
        "OPENSEARCH_USERNAME/OPENSEARCH_PASSWORD)",
    )
    parser.add_argument(
        "--opensearch-insecure", action="store_true", help="do not verify the cluster's TLS certificate"
    )
    return parser  # fmt: skip


def read_source_status(state_dir: Path) -> dict[str, Any]:
    """The ingester's own counters (read, duplicates, malformed lines by reason) from its state file."""
    try:
        status = json.loads((state_dir / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(status, dict):
        return {}
    raw_dropped = status.get("dropped")
    dropped: dict[str, int] = raw_dropped if isinstance(raw_dropped, dict) else {}
    return {
        "read": status.get("read", 0),
        "accepted": status.get("accepted", 0),
        "duplicates": status.get("duplicates", 0),
        "delivered": status.get("delivered", 0),
        "dead_lettered": status.get("dead_lettered", 0),
        "spool_records": status.get("spool_records", 0),
        "stream_connected": bool(status.get("stream_connected")),
        "last_error": str(status.get("last_error") or ""),
        "malformed": sum(int(n) for n in dropped.values()),
        "dropped": dropped,
        **{key: status.get(key) for key in DELETION_KEYS},
    }


#: The ingester's deletion counters and gauges the summary and the report show.
DELETION_KEYS = (
    "deletions_seen",
    "deletions_recorded",
    "deletions_applied",
    "deleted_before_send",
    "deletions_pending",
    "deletion_failures",
    "deletion_lag_p50_s",
    "deletion_lag_p99_s",
    "tombstones",
)


class Stopper:
    """Signal handlers only set the event; a second Ctrl-C aborts at once."""

    def __init__(self, stop: threading.Event) -> None:
        self.stop = stop
        self.reason: str | None = None
        self._previous: dict[int, Any] = {}

    def request(self, reason: str) -> None:
        if not self.stop.is_set():
            self.reason = reason
            self.stop.set()

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if self.stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.request("Ctrl-C" if signum == signal.SIGINT else signal.Signals(signum).name)

    def install(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._on_signal)

    def restore(self) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()


class Demo:
    """One run: the worker thread, the view loop and the summary, over pieces built by :func:`wiring.build`.

    The constructor does no I/O; :meth:`open` builds (and opens) the pieces and makes the Demo.
    """

    def __init__(self, pieces: Pieces, args: argparse.Namespace, out: TextIO) -> None:
        self.pieces = pieces
        self.args = args
        self.out = out
        self.live = pieces.live
        self.paths = pieces.paths
        self.settings = pieces.settings
        self.source_desc = pieces.source_desc
        self.tail = pieces.tail
        self.store = pieces.store
        self.stats = pieces.stats
        self.failed = pieces.failed
        self.indexer = pieces.indexer
        self.firehose = pieces.firehose
        self.stop = threading.Event()
        self.stopper = Stopper(self.stop)
        self.code: int | None = None
        self.sweep: Stats | None = None
        self.unreachable = False
        self.report = ReportWriter(self.paths.db, self.paths.report, source=self.source_desc)
        self.view: LiveView | None = None
        if pieces.view_on:
            self.view = LiveView(out, title=f"tweet sentiment · local demo · {self.source_desc}", color=pieces.color)

    @classmethod
    def open(cls, args: argparse.Namespace, out: TextIO, environ: Mapping[str, str] | None = None) -> Demo:
        """Build every piece of the run from the flags and ``environ`` (default ``os.environ``), then the Demo."""
        return cls(build(args, out, os.environ if environ is None else environ), args, out)

    def _ingest(self) -> None:
        from ingester.app import run as run_ingester

        try:
            self.code = run_ingester(
                self.settings,
                firehose_client=self.firehose,
                stop_event=self.stop,
                deletion_targets=self.pieces.deletion_targets,
            )
        except Exception:
            log.exception("the ingester crashed")
            self.code = EXIT_FATAL

    def snapshot(self, *, full: bool = False) -> Snapshot:
        snap = self.stats.snapshot(full=full)
        snap.source = read_source_status(self.paths.state)
        snap.buffered = self.firehose.pending()
        return snap

    def run(self) -> int:
        if self.live and self.settings.source == "x":
            print("demo: reading the live X stream; X bills every post read. Cap it with --limit or --duration.",
                  file=sys.stderr)  # fmt: skip
        started = time.monotonic()
        self.stopper.install()
        print(f"demo: HTML report {self.paths.report.resolve().as_uri()} (rewritten every {self.report.refresh_s:g} s)",
              file=sys.stderr)  # fmt: skip
        self.firehose.start()
        worker = threading.Thread(target=self._ingest, name="ingester", daemon=True)
        worker.start()
        try:
            self._watch(worker, started)
        except KeyboardInterrupt:
            # A second Ctrl-C: stop waiting for the ingester; still deliver what the local firehose holds.
            self.stopper.request("Ctrl-C")
            worker.join(timeout=5)
            if self.code is None:
                self.code = EXIT_INTERRUPTED
        finally:
            self.stopper.restore()
            self.firehose.close()
            self.sweep = final_sweep(
                self.paths.state,
                self.pieces.deletion_targets,
                retention_days=self.settings.retention_days,
                tombstone_days=self.settings.tombstone_days,
            )
        return self._finish()

    def _watch(self, worker: threading.Thread, started: float) -> None:
        next_progress = started + 2.0
        connected_once = False
        while worker.is_alive():
            worker.join(timeout=0.25)
            now = time.monotonic()
            self.report.notes = deletion_notes(read_source_status(self.paths.state), None)
            self.report.maybe_write(now)
            if self.args.duration and now - started >= self.args.duration:
                self.stopper.request(f"--duration {self.args.duration:g} s")
            if self.live and not connected_once and not self.unreachable:
                status = read_source_status(self.paths.state)
                connected_once = bool(status.get("stream_connected"))
                why = self._never_connected(status, now - started)
                if not connected_once and why:
                    self.unreachable = True
                    self.stopper.request(why)
            if self.view is not None:
                footer = "stopping: flushing…" if self.stop.is_set() else (self.tail.last or "")
                self.view.draw(self.snapshot(), footer=footer)
            elif now >= next_progress:
                print(render_progress(self.snapshot()), file=self.out, flush=True)
                next_progress = now + 2.0

    def _never_connected(self, status: dict[str, Any], elapsed: float) -> str | None:
        """Why to stop a live run that has not connected yet, or None to keep waiting."""
        name, error = LIVE_SOURCES[self.settings.source], str(status.get("last_error") or "")
        if any(marker in error for marker in NAME_LOOKUP_FAILED):
            return (
                f"cannot look up the {name} server's address ({error}): no network or no DNS on this machine; "
                "the replay demo (make demo, no ARGS) needs neither"
            )
        if elapsed >= LIVE_CONNECT_TIMEOUT_S:
            last = f"; last error: {error}" if error else ""
            return (
                f"could not connect to the {name} within {LIVE_CONNECT_TIMEOUT_S:.0f} s "
                f"({LIVE_CAUSES.get(self.settings.source, 'network')}{last}; see {self.paths.log})"
            )
        return None

    def _stop_reason(self, snap: Snapshot, code: int) -> str:
        if self.stopper.reason is not None:
            return self.stopper.reason
        if self.args.limit and snap.source.get("read", 0) >= self.args.limit:
            return f"--limit {self.args.limit} reached"
        if code != EXIT_OK:
            return f"the ingester exited with status {code}; see {self.paths.log}"
        return "the stream ended" if self.live else "end of the replay file"

    def _finish(self) -> int:
        code = EXIT_FATAL if self.code is None or self.unreachable else self.code
        snap = self.snapshot(full=True)
        if self.view is not None:
            self.view.draw(snap, footer="finished")
            self.view.close()
        state = self.paths.state
        notes = []
        if snap.source.get("dead_lettered"):
            notes.append(
                f"the ingester dead-lettered {snap.source['dead_lettered']} record(s): {state / 'dead-letter.jsonl'}"
            )
        if snap.source.get("spool_records"):
            notes.append(
                f"{snap.source['spool_records']} record(s) wait in {state / 'spool'}; the next run sends them first"
            )
        if self.indexer is not None:
            notes.append(
                f"indexed {self.indexer.indexed:,} document(s) into {self.indexer.version} at "
                f"{self.indexer.client.base_url} ({self.indexer.index_name(datetime.now(UTC))})"
            )
        self.report.notes = deletion_notes(snap.source, self.sweep)
        notes.extend(self.report.notes)
        if self.tail.count:
            notes.append(f"{self.tail.count} warning(s) logged; details in {self.paths.log}")
        report_written = self.report.write(final=True)
        self.report.close()
        summary = Summary(
            snap=snap,
            stop_reason=self._stop_reason(snap, code),
            source_desc=self.source_desc,
            db_path=str(self.paths.db),
            rows_in_db=self.store.count(),
            failed_dir=str(self.paths.failed),
            failed_files=len(self.failed.files()),
            put_calls=self.firehose.put_calls,
            invocations=self.firehose.invocations,
            exit_code=code,
            source_counts=snap.source,
            notes=notes,
            report_path=str(self.paths.report) if report_written else "",
        )
        self.store.close()
        print(render_summary(summary, color=self.view is not None and self.view.color), file=self.out, flush=True)
        return code


def deletion_notes(source: Mapping[str, Any], sweep: Stats | None) -> list[str]:
    """The summary's deletion lines: what the source saw and recorded, what the deleter applied and how fast."""
    seen = int(source.get("deletions_seen") or 0)
    if not seen and not source.get("tombstones"):
        return []
    lines = [
        f"deletions: {seen:,} seen, {int(source.get('deletions_recorded') or 0):,} of stored posts or authors "
        f"recorded, {int(source.get('deletions_applied') or 0):,} applied, "
        f"{int(source.get('deleted_before_send') or 0):,} kept out of Firehose, "
        f"{int(source.get('deletions_pending') or 0):,} pending"
    ]
    p50, p99 = source.get("deletion_lag_p50_s"), source.get("deletion_lag_p99_s")
    if p50 is not None and p99 is not None:
        lines.append(f"deletion lag (recorded to applied): p50 {p50:.2f} s, p99 {p99:.2f} s")
    if sweep is not None:
        again = sweep.get("deletions_removed")
        failures = sweep.get("deletion_failures")
        lines.append(
            f"final deletion sweep after the flush: {again:,} late copies removed"
            + (f", {failures:,} delete call(s) failed (ids pending for the next run)" if failures else "")
        )
    return lines


def run(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        demo = Demo.open(args, stdout or sys.stdout)
    except (DemoConfigError, StoreError, OpenSearchError) as exc:
        print(f"demo: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except ValueError as exc:  # the transform's ConfigError (a ValueError) from its cold start
        print(f"demo: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except OSError as exc:  # --output-dir / --db not creatable or writable
        print(f"demo: cannot use {exc.filename or args.output_dir}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_CONFIG
    return demo.run()


def main() -> None:
    sys.exit(run())
