"""Bluesky source: the public Jetstream firehose (JSON over a WebSocket), filtered locally by TRACKED_TERMS.

Jetstream has no server-side text filter: the subscription asks for ``wantedCollections=app.bsky.feed.post``
only, and every ``commit``/``create`` of a post whose text matches a tracked term
(:class:`ingester.rules.TermMatcher`, the X rules' terms) becomes an envelope v1 with ``source = "bluesky"``
(:func:`ingester.envelope.from_bluesky_post`). Other events (deletes, updates, identity and account events) and
posts that match nothing are counted as ``filtered_out``, not read. A frame that is not JSON, or a post commit
without a usable record, is logged and counted as dropped with its reason, never fatal.

WebSocket library: ``websockets`` (its threaded ``websockets.sync.client``). It is maintained, has no
dependencies, and ships a pure-Python wheel (its C speed-up for masking is optional), which the architecture-
independent ingester bundle needs; its server side runs the tests' fake Jetstream. Compression: Jetstream's
``compress=true`` is zstd with a custom dictionary, which needs the ``zstandard`` C extension (no pure-Python
wheel): not used. WebSocket permessage-deflate is offered (websockets' default) and used if the server agrees.

Reconnects: a failed connection moves to the next of BLUESKY_ENDPOINTS; every retry waits the shared backoff
(``ingester.backoff``, 1 s doubling to 60 s, reset after a connection that delivered events). A connection
silent for STALL_TIMEOUT_S is closed and re-opened (websockets' own pings catch a dead peer as well).

Resuming: Jetstream replays from ``cursor`` (Unix microseconds, its events' ``time_us``). The ``time_us`` of the
last event handled (accepted into the WAL, filtered or dropped) is kept in STATE_DIR/bluesky-cursor.json with the
ids of the posts accepted in the last 2 × BLUESKY_CURSOR_REWIND_S, written atomically at most once a second and
when the source stops. A reconnect or a restart asks for ``cursor - BLUESKY_CURSOR_REWIND_S`` (instances stamp
``time_us`` with their own clocks, so a failover to another endpoint must not leave a gap); the posts replayed
are skipped by id: within a run by the pipeline's dedupe window, after a restart by the saved ids. After a kill -9
or a power loss at most the last second of saved ids may be missing: those posts can be sent twice, which the
OpenSearch ``_id`` (the post's AT URI) absorbs.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ingester.backoff import Backoff
from ingester.config import Settings
from ingester.envelope import MalformedMessage, bluesky_post, from_bluesky_post, loads, utc_now_iso
from ingester.rules import TermMatcher
from ingester.sources import Sink
from ingester.stats import Stats
from ingester.storage.files import atomic_write

log = logging.getLogger(__name__)

CURSOR_FILE = "bluesky-cursor.json"
RECONNECT_START_S = 1.0
RECONNECT_MAX_S = 60.0
OPEN_TIMEOUT_S = 5.0
#: Largest frame accepted (a post record is far smaller; a larger frame closes the connection with 1009).
MAX_FRAME_BYTES = 4 * 1024 * 1024
#: How often the read loop checks ``stop`` while no frame arrives.
POLL_S = 0.5
SAVE_INTERVAL_S = 1.0
#: Most post ids kept in the cursor file (accepted posts of the last 2 × rewind).
MAX_SAVED_IDS = 20_000


class JetstreamCursor:
    """The last ``time_us`` handled and the ids of the posts accepted just before it, in ``path``."""

    def __init__(self, path: Path, rewind_s: float) -> None:
        self.path = path
        self.rewind_us = int(rewind_s * 1_000_000)
        self.time_us: int | None = None
        self._recent: deque[tuple[int, str]] = deque()
        self._last_save = 0.0
        self._dirty = False
        self._warned = False

    def load(self) -> set[str]:
        """Read the saved cursor; returns the ids accepted in the replay window (to skip once replayed)."""
        try:
            saved = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return set()
        except (OSError, ValueError) as exc:
            log.warning("ignoring %s (%s): starting from the live tip", self.path.name, exc)
            return set()
        cursor = saved.get("time_us") if isinstance(saved, dict) else None
        if not isinstance(cursor, int) or isinstance(cursor, bool) or cursor <= 0:
            return set()
        self.time_us = cursor
        recent = saved.get("recent")
        for item in recent if isinstance(recent, list) else []:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], int) and isinstance(item[1], str):
                self._recent.append((item[0], item[1]))
        return {uri for _, uri in self._recent}

    def resume_from(self) -> int | None:
        """The ``cursor`` to ask for: the rewind before the last event handled (None: the live tip)."""
        return None if self.time_us is None else max(1, self.time_us - self.rewind_us)

    def advance(self, time_us: object, accepted_id: str | None = None) -> None:
        if not isinstance(time_us, int) or isinstance(time_us, bool):
            return
        if accepted_id is not None:
            self._recent.append((time_us, accepted_id))
        if self.time_us is None or time_us > self.time_us:
            self.time_us = time_us
        self._dirty = True
        horizon = self.time_us - 2 * self.rewind_us
        while self._recent and (self._recent[0][0] < horizon or len(self._recent) > MAX_SAVED_IDS):
            self._recent.popleft()
        if time.monotonic() - self._last_save >= SAVE_INTERVAL_S:
            self.save()

    def save(self) -> None:
        """Persist atomically; a failure is logged once, never raised (the rewind and _id absorb a stale file)."""
        if not self._dirty or self.time_us is None:
            return
        self._last_save = time.monotonic()
        payload = {"time_us": self.time_us, "saved_at": utc_now_iso(), "recent": [list(i) for i in self._recent]}
        try:
            atomic_write(self.path, json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("could not save the Jetstream cursor in %s: %s", self.path, exc)
            return
        self._dirty = False
        self._warned = False


def with_cursor(url: str, cursor: int | None) -> str:
    """``url`` with its ``cursor`` query parameter set to ``cursor`` (removed for None)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "cursor"]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query, safe=".")))


class _Stalled(Exception):
    pass


class BlueskySource:
    name = "bluesky"

    def __init__(self, settings: Settings, stats: Stats, *, backoff: Backoff | None = None) -> None:
        self.endpoints = settings.bluesky_endpoints
        self.stats = stats
        self.stall_timeout_s = settings.stall_timeout_s
        self.matcher = TermMatcher(settings.tracked_terms)
        self.cursor = JetstreamCursor(settings.state_dir / CURSOR_FILE, settings.bluesky_cursor_rewind_s)
        self.backoff = backoff or Backoff(RECONNECT_START_S, RECONNECT_MAX_S)
        self._replayed: set[str] = set()
        self._connections = 0

    # -- one frame ----------------------------------------------------------------------------------
    def handle_frame(self, frame: str | bytes, sink: Sink, stop: threading.Event) -> None:
        """One Jetstream message; never raises for bad input."""
        time_us, envelope = self._envelope(frame, sink)
        if envelope is None:
            self.cursor.advance(time_us)
            return
        uri: str = envelope["tweet"]["id"]
        if uri in self._replayed:  # accepted before the restart, replayed by the rewind
            self._replayed.discard(uri)
            self.stats.incr("duplicates")
            self.cursor.advance(time_us)
            return
        if not sink.accept(envelope) and stop.is_set():
            return  # not taken because stopping: the cursor stays before it, the next start reads it again
        self.cursor.advance(time_us, uri)

    def _envelope(self, frame: str | bytes, sink: Sink) -> tuple[object, dict[str, Any] | None]:
        """(time_us, the envelope of a tracked new post or None); counts what is filtered out or dropped."""
        try:
            event = loads(frame)
        except MalformedMessage as exc:
            self._drop(sink, exc.reason)
            return None, None
        except (ValueError, UnicodeDecodeError, RecursionError):
            self._drop(sink, "invalid_json")
            return None, None
        time_us = event.get("time_us") if isinstance(event, dict) else None
        try:
            post = bluesky_post(event)
            terms = self.matcher.matches(post[1]["record"]["text"]) if post is not None else []
            if post is None or not terms:
                self.stats.incr("filtered_out")
                return time_us, None
            return time_us, from_bluesky_post(*post, terms)
        except MalformedMessage as exc:
            self._drop(sink, exc.reason)
            return time_us, None

    def _drop(self, sink: Sink, reason: str) -> None:
        log.warning("unusable message from Jetstream: %s; skipped", reason)
        sink.drop(reason)

    # -- connections --------------------------------------------------------------------------------
    def run(self, sink: Sink, stop: threading.Event) -> None:
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

        self._replayed = self.cursor.load()
        if self.cursor.time_us is not None:
            log.info("resuming Jetstream at cursor %d (%d saved post ids)", self.cursor.time_us, len(self._replayed))
        endpoint = 0
        try:
            while not stop.is_set() and sink.wants_more:
                url = with_cursor(self.endpoints[endpoint], self.cursor.resume_from())
                host = urlsplit(url).netloc
                try:
                    delivered = self._connection(url, host, sink, stop)
                except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
                    self.stats.error(f"Jetstream {host}: {type(exc).__name__}: {exc}")
                    log.warning("cannot connect to Jetstream %s: %s: %s", host, type(exc).__name__, exc)
                    endpoint = (endpoint + 1) % len(self.endpoints)
                    delivered = False
                except (ConnectionClosed, _Stalled) as exc:
                    self.stats.set("stream_connected", False)
                    self.stats.error(f"Jetstream {host} disconnected: {exc or 'stalled'}")
                    log.warning("Jetstream %s disconnected (%s); reconnecting", host, exc or "stalled")
                    delivered = True
                if stop.is_set() or not sink.wants_more:
                    return
                if delivered:
                    self.backoff.reset()
                wait = self.backoff.next()
                log.info("reconnecting to Jetstream in %.1f s", wait)
                if stop.wait(wait):
                    return
        finally:
            self.stats.set("stream_connected", False)
            self.cursor.save()

    def _connection(self, url: str, host: str, sink: Sink, stop: threading.Event) -> bool:
        """Read one connection until ``stop`` or the sink wants no more (True), or raise why it ended."""
        from websockets.sync.client import connect

        with connect(url, open_timeout=OPEN_TIMEOUT_S, close_timeout=1.0, max_size=MAX_FRAME_BYTES) as ws:
            self._connections += 1
            if self._connections > 1:
                self.stats.incr("reconnects")
            self.stats.set("stream_connected", True)
            self.stats.set("connected_since", utc_now_iso())
            log.info("connected to Jetstream %s (connection %d)", host, self._connections)
            last_frame = time.monotonic()
            while not stop.is_set() and sink.wants_more:
                try:
                    frame: Any = ws.recv(timeout=POLL_S)
                except TimeoutError:
                    if time.monotonic() - last_frame > self.stall_timeout_s:
                        raise _Stalled from None
                    continue
                last_frame = time.monotonic()
                self.handle_frame(frame, sink, stop)
        self.stats.set("stream_connected", False)
        return True

    def drained(self) -> None:
        """Nothing to forget: the stream's resume state is needed whether or not the records are delivered."""

    def close(self) -> None:
        """The read loop checks ``stop`` every POLL_S; the cursor is saved when ``run`` returns."""
