"""``python -m scripts.demo``: run the ingester and the transform locally, with a live view.

    ingester (replay of the bundled sample, or the live X stream with --live)
      → LocalFirehose (PutRecordBatch limits, buffer by size and interval, Firehose events)
      → transform.handler.lambda_handler with the embedded VADER backend
      → SQLite (demo-output/tweets.db) | demo-output/failed/processing-failed/YYYY/MM/DD/HH/...
      (+ a real OpenSearch with --opensearch-url)

The ingester runs in a worker thread exactly as in production (``ingester.app.run`` with a Firehose client
and a stop event); this thread draws the view. Ctrl-C (or SIGTERM, or --duration) sets the stop event: the
ingester stops reading and flushes, the local firehose delivers what it buffered, the store commits, and
the summary is printed with exit status 0.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from ingester import __version__
from scripts.demo.delivery import DemoStats, Snapshot, StoreTarget
from scripts.demo.failed import FailedWriter
from scripts.demo.firehose import LocalFirehose
from scripts.demo.store import SQLiteStore, StoreError
from scripts.opensearch.client import OpenSearchError

if TYPE_CHECKING:
    from scripts.demo.opensearch_sink import OpenSearchIndexer
from scripts.demo.view import LiveView, Summary, render_progress, render_summary

log = logging.getLogger("scripts.demo")

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SAMPLE = REPO_ROOT / "scripts" / "data" / "sample_tweets.jsonl"
DEFAULT_OUTPUT = Path("demo-output")
STREAM_NAME = "demo"
LIVE_CONNECT_TIMEOUT_S = 60.0  # --live: stop with a clear message when X was never reached in this time
VIEW_RATE = 200.0  # tweets/s replayed by default when the live view is on, so there is something to watch
EXIT_OK, EXIT_FATAL, EXIT_CONFIG, EXIT_INTERRUPTED = 0, 1, 2, 130


class DemoConfigError(ValueError):
    """A flag or the environment is unusable; the message says which and why."""


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
        "(VADER) → SQLite, with a live terminal view. No AWS account needed.",
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
    parser.add_argument("--limit", type=_positive_int, help="stop after this many tweets read")
    parser.add_argument("--duration", type=_positive_float, help="stop after this many seconds")
    parser.add_argument(
        "--rate",
        type=_non_negative_float,
        help=f"replay rate in tweets/s (default {VIEW_RATE:g} with the live view, full speed without; 0 = full speed)",
    )
    parser.add_argument("--loop", action="store_true", help="replay the file again and again (until Ctrl-C)")
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


@dataclass(frozen=True)
class Paths:
    output_dir: Path
    db: Path
    failed: Path
    state: Path
    log: Path

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Paths:
        out = Path(args.output_dir)
        return cls(
            out,
            Path(args.db) if args.db else out / "tweets.db",
            out / "failed",
            out / "ingester-state",
            out / "demo.log",
        )

    def reset(self) -> None:
        for path in (self.db, Path(f"{self.db}-wal"), Path(f"{self.db}-shm"), self.log):
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


def ingester_settings(args: argparse.Namespace, paths: Paths, *, live: bool, view: bool) -> Any:
    from ingester.config import ConfigError, Settings

    rate = args.rate if args.rate is not None else (VIEW_RATE if view and not live else 0.0)
    common: dict[str, Any] = {
        "delivery_stream": STREAM_NAME,
        "state_dir": paths.state,
        "limit": args.limit,
        "linger_ms": 250,  # a demo wants to see tweets soon; production keeps its own default
        "status_interval_s": 0.5,
        "stats_interval_s": 3600.0,
    }
    try:
        if live:
            settings = Settings.from_sources({"source": "x", **common}, dict(os.environ), args.env_file)
        else:
            sample = Path(args.sample) if args.sample else DEFAULT_SAMPLE
            if sample.is_dir():
                raise DemoConfigError(f"--sample {sample}: is a folder; pass a JSONL file of stream messages")
            if not sample.is_file():
                raise DemoConfigError(f"--sample {sample}: no such file")
            settings = Settings(source="replay", replay_file=sample, rate=rate or None, loop=args.loop, **common)
        settings.require_for_run()  # a missing setting fails here with its name, before anything starts
        return settings
    except ConfigError as exc:
        raise DemoConfigError(str(exc)) from None


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
    """JSON lines to OUTPUT_DIR/demo.log; warnings also to stderr unless the live view owns the terminal."""
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
    for name in ("botocore", "boto3", "urllib3", "s3transfer", "requests_oauthlib", "oauthlib", "tweepy"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return tail


def load_handler() -> Any:
    """The transform Lambda's handler with the embedded VADER backend (chosen at cold start from the environment)."""
    os.environ["SENTIMENT_BACKEND"] = "vader"
    os.environ["EMIT_METRICS"] = "false"
    from transform import handler

    handler.reset_runtime()
    handler.get_runtime()  # a bad setting fails here, before any record is read
    return handler.lambda_handler


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
        "malformed": sum(int(n) for n in dropped.values()),
        "dropped": dropped,
    }


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
    """One run: the pieces, the worker thread, the view loop and the summary."""

    def __init__(self, args: argparse.Namespace, out: TextIO) -> None:
        self.args = args
        self.out = out
        self.view_on = not args.no_view and out.isatty() and os.environ.get("TERM") != "dumb"
        self.paths = Paths.from_args(args)
        if args.reset:
            self.paths.reset()
        if args.env_file is not None and not args.env_file.is_file():
            raise DemoConfigError(f"--env-file {args.env_file}: no such file")
        args.env_file = args.env_file or Path(".env")
        # Live mode only when asked: a token in .env alone never switches the demo to X (billed per post).
        self.live = bool(args.live)
        token = live_x_configured(os.environ, args.env_file)
        if self.live and not token:
            raise DemoConfigError(
                f"--live needs X_BEARER_TOKEN in the environment or in {args.env_file} (see ingester/.env.example)"
            )
        if token and not self.live:
            print("demo: X_BEARER_TOKEN is configured but ignored; replaying the sample (--live reads the X stream)",
                  file=sys.stderr)  # fmt: skip
        self.tail = configure_logging(self.paths, view=self.view_on)
        self.settings = ingester_settings(args, self.paths, live=self.live, view=self.view_on)
        handler = load_handler()
        self.store = SQLiteStore(self.paths.db)
        self.stats = DemoStats()
        self.failed = FailedWriter(self.paths.failed, STREAM_NAME)
        self.indexer = connect_opensearch(args.opensearch_url, insecure=args.opensearch_insecure)
        self.target = StoreTarget(self.store, self.failed, self.stats, lambda_arn="", indexer=self.indexer)
        self.firehose = LocalFirehose(
            handler,
            self.target,
            stream_name=STREAM_NAME,
            buffer_bytes=int(args.buffer_mb * 1024 * 1024),
            buffer_interval_s=args.buffer_interval,
        )
        self.target.lambda_arn = self.firehose.lambda_arn
        self.stop = threading.Event()
        self.stopper = Stopper(self.stop)
        self.code: int | None = None
        if self.live:
            self.source_desc = "live X filtered stream (X_BEARER_TOKEN from the environment or .env)"
        else:
            rate = f"{self.settings.rate:g} tweets/s" if self.settings.rate else "full speed"
            looping = ", looping" if self.settings.loop else ""
            self.source_desc = f"replay {display_path(self.settings.replay_file)} ({rate}{looping})"
        self.view: LiveView | None = None
        if self.view_on:
            self.view = LiveView(out, title=f"tweet sentiment · local demo · {self.source_desc}")

    def _ingest(self) -> None:
        from ingester.app import run as run_ingester

        try:
            self.code = run_ingester(self.settings, firehose_client=self.firehose, stop_event=self.stop)
        except Exception:
            log.exception("the ingester crashed")
            self.code = EXIT_FATAL

    def snapshot(self, *, full: bool = False) -> Snapshot:
        snap = self.stats.snapshot(full=full)
        snap.source = read_source_status(self.paths.state)
        snap.buffered = self.firehose.pending()
        return snap

    def run(self) -> int:
        if self.live:
            print("demo: reading the live X stream; X bills every post read. Cap it with --limit or --duration.",
                  file=sys.stderr)  # fmt: skip
        started = time.monotonic()
        self.stopper.install()
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
        return self._finish()

    def _watch(self, worker: threading.Thread, started: float) -> None:
        next_progress = started + 2.0
        connected_once = False
        self.unreachable = False
        while worker.is_alive():
            worker.join(timeout=0.25)
            now = time.monotonic()
            if self.args.duration and now - started >= self.args.duration:
                self.stopper.request(f"--duration {self.args.duration:g} s")
            if self.live and not connected_once:
                connected_once = bool(read_source_status(self.paths.state).get("stream_connected"))
                if not connected_once and now - started >= LIVE_CONNECT_TIMEOUT_S and not self.unreachable:
                    self.unreachable = True
                    self.stopper.request(
                        f"could not connect to the X stream within {LIVE_CONNECT_TIMEOUT_S:.0f} s "
                        f"(network, token or rules: see {self.paths.log})"
                    )
            if self.view is not None:
                footer = "stopping: flushing…" if self.stop.is_set() else (self.tail.last or "")
                self.view.draw(self.snapshot(), footer=footer)
            elif now >= next_progress:
                print(render_progress(self.snapshot()), file=self.out, flush=True)
                next_progress = now + 2.0

    def _stop_reason(self, snap: Snapshot, code: int) -> str:
        if self.stopper.reason is not None:
            return self.stopper.reason
        if self.args.limit and snap.source.get("read", 0) >= self.args.limit:
            return f"--limit {self.args.limit} reached"
        if code != EXIT_OK:
            return f"the ingester exited with status {code}; see {self.paths.log}"
        return "the stream ended" if self.live else "end of the replay file"

    def _finish(self) -> int:
        code = EXIT_FATAL if self.code is None or getattr(self, "unreachable", False) else self.code
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
        if self.tail.count:
            notes.append(f"{self.tail.count} warning(s) logged; details in {self.paths.log}")
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
        )
        self.store.close()
        print(render_summary(summary, color=self.view is not None), file=self.out, flush=True)
        return code


def run(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        demo = Demo(args, stdout or sys.stdout)
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
