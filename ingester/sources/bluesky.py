"""Bluesky source: the public Jetstream firehose (JSON over a WebSocket), filtered locally by TRACKED_TERMS.

Jetstream has no server-side text filter: the subscription asks for posts only, and every ``commit``/``create`` of
a post whose text matches a tracked term (:class:`ingester.rules.TermMatcher`, the X rules' terms) becomes an
envelope v1 with ``source = "bluesky"`` (:func:`ingester.envelope.from_bluesky_post`). Delete commits of posts and
``#account`` events of deleted, taken-down or suspended accounts become tombstones when we stored the post or a
post of the author (:mod:`ingester.deletions`; counted ``deletions_seen`` / ``deletions_recorded``); a tombstone
that cannot be made durable ends the connection before the cursor passes it. Other events (updates, identity
events) and posts that match nothing are counted as ``filtered_out``, not read.

Failure policy: a source makes progress or says loudly that it cannot.

* A frame that is not JSON, a post commit without a usable record, or a frame over MAX_FRAME_BYTES is logged and
  counted as dropped with its reason (``frame_too_large`` for the last: skipped and passed, never fatal); a frame
  over WS_MAX_FRAME_BYTES, which the WebSocket layer refuses (close 1009), is stepped over by moving the cursor a
  little past the last event handled (1 unit, doubling while the refusals go on), reported as a gap.
* A connection that ends without a new event (refused, closed at once, closed after repeating what was already
  handled) is a failure: the backoff grows (``ingester.backoff``: 1 s doubling to BLUESKY_RECONNECT_MAX_S, 60 s)
  and the next attempt goes to the next of BLUESKY_ENDPOINTS. A connection that delivered new events resets the
  backoff and is reopened on the same endpoint. A connection silent for STALL_TIMEOUT_S is closed and re-opened.
* ``stream_connected`` (the StreamConnected metric) means "events are arriving": it turns true on the first event
  of a connection and false when it ends or stalls, so the ingester-stream-disconnected alarm fires when a
  Bluesky source has had no event for its N minutes.
* Gaps are measured, never silent: when Jetstream cannot serve from the cursor (older than its retention, 36 h by
  default: ``/subscribe`` then starts at its oldest event silently, ``subscribeEvents`` answers ``CursorTooOld``
  or announces ``OutdatedCursor``), the first event after the cursor is more than BLUESKY_GAP_MIN_S past the last
  one handled (posts flow every second; a reconnect asks from the last event handled, or the rewind before it): the
  source logs an error line with the gap's start, end and size, counts it (``gaps``,
  ``gap_seconds``: the Gaps and GapSeconds metrics, the ingester-stream-gap alarm) and goes on from there. It
  does not backfill the gap: Jetstream keeps no older events for ``/subscribe``, and v2's archive backfill
  (``planSnapshot``, zstd segment files) is out of scope; the gap is for the operator to judge.

Jetstream v1 and v2 (bluesky-social/jetstream, docs/README.md, sections 2 and 5, read 2026-12): v2 serves the v1
wire at ``/subscribe`` (each event then also carries ``cursor``, its instance-local sequence number) and its own
at ``/xrpc/network.bsky.jetstream.subscribeEvents`` (``{"$type": "message", "payload": {"seq", "time", ...}}``,
filters ``kinds`` and ``collections``). Both kinds of endpoint may be listed in BLUESKY_ENDPOINTS. Cursors: a
value below 10^15 is a v2 sequence number, at or above it a microsecond timestamp, which every endpoint
accepts. Sequence numbers are instance-local, so the source resumes by sequence number only on the endpoint that
numbered the events, and by timestamp (``time_us`` minus BLUESKY_CURSOR_REWIND_S) after a failover or a
restart on another endpoint. Both cursors are inclusive: the last event is received again and skipped by id.

WebSocket library: ``websockets`` (its threaded ``websockets.sync.client``). It is maintained, has no
dependencies, and ships a pure-Python wheel, which the architecture-independent ingester bundle needs; its
server side runs the tests' fake Jetstream. Compression, decided: none but permessage-deflate where the server
offers it. Jetstream's ``compress=true`` (v1) and ``zstdDictionary`` (v2) are zstd with a custom dictionary,
which needs the ``zstandard`` C extension (no pure-Python wheel; Python's own ``compression.zstd`` arrives in
3.14, the ingester targets 3.12): the posts-only stream is small enough uncompressed. Revisit with Python 3.14.

Resuming: the ``time_us`` (and, from a v2 server, the sequence number and its endpoint) of the last event handled
(accepted into the WAL, filtered or dropped) is kept in STATE_DIR/bluesky-cursor.json with the ids of the posts
accepted in the last 2 × BLUESKY_CURSOR_REWIND_S, written atomically at most every SAVE_INTERVAL_S (0.2 s) and when
the source stops. Reconnecting to the endpoint that delivered the last event resumes exactly there (no rewind: a
rewind there only repeats events, and an endpoint that closes every connection after a few events would never get
past it); a failover to another endpoint, or a restart, rewinds by BLUESKY_CURSOR_REWIND_S (instances stamp
``time_us`` with their own clocks). The posts replayed are skipped by id: within a run by the pipeline's dedupe
window, after a restart by the saved ids. After a kill -9 or a power loss at most the last SAVE_INTERVAL_S (0.2 s)
of saved ids may be missing: those posts can be sent twice, which the OpenSearch ``_id`` (the post's AT URI)
absorbs.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import deque
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ingester.backoff import Backoff
from ingester.config import Settings
from ingester.deletions.bluesky import bluesky_deletion
from ingester.deletions.store import DeletionStore
from ingester.envelope import MalformedMessage, bluesky_post, from_bluesky_post, loads, utc_now_iso
from ingester.rules import TermMatcher
from ingester.sources import Sink
from ingester.stats import Stats
from ingester.storage.files import atomic_write

log = logging.getLogger(__name__)

CURSOR_FILE = "bluesky-cursor.json"
RECONNECT_START_S = 1.0
OPEN_TIMEOUT_S = 5.0
#: Largest frame handled (a post record is far smaller): a larger one is dropped (``frame_too_large``), passed.
MAX_FRAME_BYTES = 4 * 1024 * 1024
#: Largest frame the WebSocket layer takes into memory; beyond it the connection closes with 1009.
WS_MAX_FRAME_BYTES = 4 * MAX_FRAME_BYTES
#: How often the read loop checks ``stop`` while no frame arrives.
POLL_S = 0.5
#: The cursor file is rewritten at most this often: after a kill -9 the posts accepted in the last interval are
#: read again and, missing from the saved ids, sent again.
SAVE_INTERVAL_S = 0.2
#: Most post ids kept in the cursor file (accepted posts of the last 2 × rewind).
MAX_SAVED_IDS = 20_000
#: Below this a cursor is a Jetstream v2 sequence number; at or above it a microsecond timestamp (docs, 5.1).
SEQ_CURSOR_LIMIT = 10**15
#: The path of Jetstream v2's own stream (its frames wrap each event as ``{"$type": "message", "payload": ...}``).
V2_STREAM_PATH = "/xrpc/network.bsky.jetstream.subscribeEvents"
#: Close code of a frame over the WebSocket layer's limit.
MESSAGE_TOO_BIG = 1009
_HEAD_NUMBER = {key: re.compile(rb'"%s"\s*:\s*(\d+)' % key.encode()) for key in ("time_us", "cursor", "seq")}


class JetstreamCursor:
    """The last event handled (``time_us``; from a v2 server also its sequence number and the endpoint that
    numbered it) and the ids of the posts accepted just before it, in ``path``."""

    def __init__(self, path: Path, rewind_s: float) -> None:
        self.path = path
        self.rewind_us = int(rewind_s * 1_000_000)
        self.time_us: int | None = None
        self.seq: int | None = None
        #: the endpoint the last event came from (its sequence numbers are its own)
        self.endpoint: str | None = None
        self._recent: deque[tuple[int, str]] = deque()
        self._last_save = 0.0
        self._dirty = False
        self._warned = False
        #: loaded from the file and nothing newer handled since: resume with the rewind, wherever
        self._restarted = False

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
        seq, endpoint = saved.get("seq"), saved.get("endpoint")
        if isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0 and isinstance(endpoint, str):
            self.seq, self.endpoint = seq, endpoint
        recent = saved.get("recent")
        for item in recent if isinstance(recent, list) else []:
            if isinstance(item, list) and len(item) == 2 and isinstance(item[0], int) and isinstance(item[1], str):
                self._recent.append((item[0], item[1]))
        self._restarted = True  # by time, a restart rewinds: the file may be a second older than the stream
        return {uri for _, uri in self._recent}

    def resume_from(self, endpoint: str) -> int | None:
        """The ``cursor`` to ask ``endpoint`` for (None: the live tip): the last sequence number if ``endpoint``
        numbered it; else the last ``time_us``, exactly on the endpoint that delivered it, rewound elsewhere."""
        if self.time_us is None:
            return None
        if self.seq is not None and self.endpoint == endpoint:
            return self.seq
        if self.endpoint == endpoint and not self._restarted:
            return self.time_us
        return max(SEQ_CURSOR_LIMIT, self.time_us - self.rewind_us)

    def forget_seq(self) -> None:
        """The endpoint refused the sequence cursor (CursorTooOld): resume by time instead."""
        self.seq = None

    def skip(self, units: int) -> tuple[int, int] | None:
        """Move past an event the connection cannot carry: ``units`` past the last one handled, by sequence number
        when there is one, else by microseconds. Returns the skipped (start, end) in microseconds, if known."""
        if self.time_us is None:
            return None
        start = self.time_us
        if self.seq is not None:
            self.seq += units
            return start, start
        self.time_us += units
        self._dirty = True
        return start, self.time_us

    def advance(
        self, time_us: object, accepted_id: str | None = None, *, seq: object = None, endpoint: str | None = None
    ) -> bool:
        """Record an event handled (from ``endpoint``, numbered ``seq`` there); True when it is newer than the last
        one handled: progress."""
        if not isinstance(time_us, int) or isinstance(time_us, bool):
            return False
        if accepted_id is not None:
            self._recent.append((time_us, accepted_id))
        progressed = self.time_us is None or time_us > self.time_us
        if progressed:
            self.time_us = time_us
            self._restarted = False
            if endpoint is not None:
                self.endpoint = endpoint
                self.seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
        self._dirty = True
        horizon = (self.time_us or time_us) - 2 * self.rewind_us
        while self._recent and (self._recent[0][0] < horizon or len(self._recent) > MAX_SAVED_IDS):
            self._recent.popleft()
        if time.monotonic() - self._last_save >= SAVE_INTERVAL_S:
            self.save()
        return progressed

    def save(self) -> None:
        """Persist atomically; a failure is logged once, never raised (the rewind and _id absorb a stale file)."""
        if not self._dirty or self.time_us is None:
            return
        self._last_save = time.monotonic()
        payload: dict[str, Any] = {"time_us": self.time_us, "saved_at": utc_now_iso()}
        if self.seq is not None and self.endpoint is not None:
            payload.update(seq=self.seq, endpoint=self.endpoint)
        payload["recent"] = [list(i) for i in self._recent]
        try:
            atomic_write(self.path, json.dumps(payload, separators=(",", ":")).encode("utf-8"))
        except OSError as exc:
            if not self._warned:
                self._warned = True
                log.warning("could not save the Jetstream cursor in %s: %s", self.path, exc)
            return
        self._dirty = False
        self._warned = False


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def with_cursor(url: str, cursor: int | None) -> str:
    """``url`` with its ``cursor`` query parameter set to ``cursor`` (removed for None)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "cursor"]
    if cursor is not None:
        query.append(("cursor", str(cursor)))
    return urlunsplit(parts._replace(query=urlencode(query, safe=".")))


def v1_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """A Jetstream v2 ``subscribeEvents`` frame as the v1 event it carries (with ``cursor`` = its ``seq``), or None
    for a frame that carries no event (``#info``, an ``error`` frame: logged)."""
    kind = event.get("$type")
    if kind == "error":
        log.warning("Jetstream error frame: %s: %s", event.get("error"), event.get("message"))
        return None
    if kind == "info" or (kind == "message" and str(_payload(event).get("$type", "")).endswith("#info")):
        info = _payload(event) if kind == "message" else event
        log.warning("Jetstream info frame: %s: %s", info.get("name"), info.get("message"))
        return None
    payload = _payload(event)
    name = str(payload.get("$type", "")).rpartition("#")[2]
    time_us: int | None = None
    moment = payload.get("time")
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment)
            parsed = parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
            time_us = int(parsed.timestamp()) * 1_000_000 + parsed.microsecond
        except ValueError:
            time_us = None
    out: dict[str, Any] = {"did": payload.get("did"), "time_us": time_us, "cursor": payload.get("seq"), "kind": name}
    if name == "commit":
        keys = ("rev", "operation", "collection", "rkey", "cid", "record")
        out["commit"] = {k: payload[k] for k in keys if k in payload}
    elif name == "account":
        out["account"] = {k: payload[k] for k in ("active", "status", "did", "seq", "time") if k in payload}
    return out


def _payload(event: dict[str, Any]) -> dict[str, Any]:
    payload = event.get("payload")
    return payload if isinstance(payload, dict) else {}


def _head_number(frame: str | bytes, key: str) -> int | None:
    """A number field near the start of a frame too large to parse (Jetstream puts ``time_us`` and ``cursor``
    before the record)."""
    head = frame[:4096].encode("utf-8", "replace") if isinstance(frame, str) else frame[:4096]
    match = _HEAD_NUMBER[key].search(head)
    return int(match.group(1)) if match else None


class _Stalled(Exception):
    pass


class _Rejected(Exception):
    """The endpoint answered the upgrade with an XRPC error (``error`` is its name, e.g. CursorTooOld)."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(f"{error}: {message}")
        self.error = error


class BlueskySource:
    name = "bluesky"

    def __init__(
        self,
        settings: Settings,
        stats: Stats,
        *,
        backoff: Backoff | None = None,
        deletions: DeletionStore | None = None,
    ) -> None:
        self.deletions = deletions
        self.endpoints = settings.bluesky_endpoints
        self.stats = stats
        self.stall_timeout_s = settings.stall_timeout_s
        self.matcher = TermMatcher(settings.tracked_terms)
        self.cursor = JetstreamCursor(settings.state_dir / CURSOR_FILE, settings.bluesky_cursor_rewind_s)
        self.backoff = backoff or Backoff(RECONNECT_START_S, settings.bluesky_reconnect_max_s)
        self.gap_min_us = int(settings.bluesky_gap_min_s * 1_000_000)
        self._replayed: set[str] = set()
        self._connections = 0
        self._endpoint = ""
        #: events past the cursor in the current connection (progress), and the cursor it asked for
        self._new_events = 0
        self._asked: int | None = None
        self._skip_units = 1
        self._live = False

    # -- one frame ----------------------------------------------------------------------------------
    def handle_frame(self, frame: str | bytes, sink: Sink, stop: threading.Event) -> None:
        """One Jetstream message; never raises for bad input."""
        if not self._live:  # events are arriving
            self._live = True
            self.stats.set("stream_connected", True)
        self.stats.set("last_event_at", utc_now_iso())
        if len(frame) > MAX_FRAME_BYTES:
            self._oversized(frame, sink)
            return
        time_us, seq, envelope = self._envelope(frame, sink)
        if time_us is not None and self._new_events == 0:
            self._check_gap(time_us)
        if envelope is None:
            self._progress(self.cursor.advance(time_us, seq=seq, endpoint=self._endpoint))
            return
        uri: str = envelope["tweet"]["id"]
        if uri in self._replayed:  # accepted before the restart, replayed by the rewind
            self._replayed.discard(uri)
            self.stats.incr("duplicates")
            self._progress(self.cursor.advance(time_us, seq=seq, endpoint=self._endpoint))
            return
        if not sink.accept(envelope) and stop.is_set():
            return  # not taken because stopping: the cursor stays before it, the next start reads it again
        self._progress(self.cursor.advance(time_us, uri, seq=seq, endpoint=self._endpoint))

    def _progress(self, progressed: bool) -> None:
        if progressed:
            self._new_events += 1
            self._skip_units = 1

    def _oversized(self, frame: str | bytes, sink: Sink) -> None:
        log.warning("Jetstream frame of %d bytes (over %d) skipped", len(frame), MAX_FRAME_BYTES)
        sink.drop("frame_too_large")
        seq = _head_number(frame, "cursor") or _head_number(frame, "seq")
        self._progress(self.cursor.advance(_head_number(frame, "time_us"), seq=seq, endpoint=self._endpoint))

    def _check_gap(self, time_us: int) -> None:
        """The first event of a connection that asked for a cursor: a jump past the last event handled is a gap."""
        last = self.cursor.time_us
        if self._asked is None or last is None or time_us - last <= self.gap_min_us:
            return
        self._report_gap(last, time_us, "cursor_too_old")

    def _report_gap(self, start_us: int, end_us: int, reason: str) -> None:
        seconds = (end_us - start_us) / 1_000_000
        start, end = (datetime.fromtimestamp(t / 1_000_000, UTC).isoformat() for t in (start_us, end_us))
        self.stats.incr("gaps")
        self.stats.incr("gap_seconds", max(1, int(-(-seconds // 1))))
        gap = {"start": start, "end": end, "seconds": round(seconds, 3), "reason": reason, "endpoint": self._host()}
        self.stats.set("last_gap", gap)
        self.stats.error(f"Jetstream gap of {seconds:.1f} s ({reason})")
        log.error(
            "gap in the Bluesky stream: %.1f s from %s to %s could not be read (%s, %s); posts in it are lost, "
            "reading goes on after it",
            seconds,
            start,
            end,
            reason,
            self._host(),
            extra={"gap": gap},
        )

    def _host(self) -> str:
        return urlsplit(self._endpoint).netloc

    def _envelope(self, frame: str | bytes, sink: Sink) -> tuple[int | None, int | None, dict[str, Any] | None]:
        """(time_us, seq, the envelope of a tracked new post or None); counts what is filtered out or dropped."""
        try:
            event = loads(frame)
        except MalformedMessage as exc:
            self._drop(sink, exc.reason)
            return None, None, None
        except (ValueError, UnicodeDecodeError, RecursionError):
            self._drop(sink, "invalid_json")
            return None, None, None
        if isinstance(event, dict) and "$type" in event:  # Jetstream v2's own wire
            event = v1_event(event)
            if event is None:
                return None, None, None
        raw_time = event.get("time_us") if isinstance(event, dict) else None
        raw_seq = event.get("cursor") if isinstance(event, dict) else None
        time_us = raw_time if _is_int(raw_time) else None
        seq = raw_seq if _is_int(raw_seq) else None
        deletion = bluesky_deletion(event)
        if deletion is not None:
            self._record_deletion(*deletion)
        try:
            post = bluesky_post(event) if deletion is None else None
            terms = self.matcher.matches(post[1]["record"]["text"]) if post is not None else []
            if post is None or not terms:
                if deletion is None:
                    self.stats.incr("filtered_out")
                return time_us, seq, None
            return time_us, seq, from_bluesky_post(*post, terms)
        except MalformedMessage as exc:
            self._drop(sink, exc.reason)
            return time_us, seq, None

    def _record_deletion(self, kind: Literal["post", "author"], item_id: str, event_at: float | None) -> None:
        """A post delete or a removed account: a tombstone when we stored the post (or a post of the author).
        ``OSError`` (the tombstone could not be made durable) propagates: the connection ends with the cursor
        before this event, so it is read again after the reconnect."""
        self.stats.incr("deletions_seen")
        if self.deletions is None or not self.deletions.stored(kind, item_id):
            return
        try:
            recorded = self.deletions.tombstone(kind, item_id, source="bluesky", event_at=event_at)
        except OSError:
            self.stats.incr("storage_errors")
            log.error("could not record a Bluesky deletion (%s); reading it again after a reconnect", kind)
            raise
        if recorded is not None:
            self.stats.incr("deletions_recorded")

    def _drop(self, sink: Sink, reason: str) -> None:
        log.warning("unusable message from Jetstream: %s; skipped", reason)
        sink.drop(reason)

    # -- connections --------------------------------------------------------------------------------
    def run(self, sink: Sink, stop: threading.Event) -> None:
        self._replayed = self.cursor.load()
        if self.cursor.time_us is not None:
            log.info("resuming Jetstream at cursor %d (%d saved post ids)", self.cursor.time_us, len(self._replayed))
        endpoint = 0
        try:
            while not stop.is_set() and sink.wants_more:
                outcome = self._attempt(self.endpoints[endpoint], sink, stop)
                if stop.is_set() or not sink.wants_more:
                    return
                if outcome == "retry":
                    continue
                if outcome == "too_big":
                    self._step_over_frame()
                if self._new_events:
                    self.backoff.reset()
                else:
                    self.stats.incr("unproductive_connections")
                    if outcome != "too_big":  # another endpoint would send the same frame
                        endpoint = (endpoint + 1) % len(self.endpoints)
                wait = self.backoff.next()
                log.info("reconnecting to Jetstream %s in %.1f s", urlsplit(self.endpoints[endpoint]).netloc, wait)
                if stop.wait(wait):
                    return
        finally:
            self.stats.set("stream_connected", False)
            self.cursor.save()

    def _attempt(self, endpoint: str, sink: Sink, stop: threading.Event) -> Literal["ended", "retry", "too_big"]:
        """One connection to ``endpoint`` from the cursor: ``retry`` (at once: the cursor was refused and is now
        by time), ``too_big`` (closed by a frame over WS_MAX_FRAME_BYTES) or ``ended`` (any other end)."""
        from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

        self._endpoint = endpoint
        self._asked = self.cursor.resume_from(endpoint)
        self._new_events = 0
        host = self._host()
        try:
            self._connection(with_cursor(endpoint, self._asked), host, sink, stop)
        except _Rejected as exc:
            self.stats.error(f"Jetstream {host}: {exc}")
            log.warning("Jetstream %s refused the subscription: %s", host, exc)
            if exc.error == "CursorTooOld" and self.cursor.seq is not None:
                self.cursor.forget_seq()  # by time instead: the first event then shows the gap
                return "retry"
        except (OSError, TimeoutError, InvalidHandshake, InvalidURI) as exc:
            self.stats.error(f"Jetstream {host}: {type(exc).__name__}: {exc}")
            log.warning("cannot connect to Jetstream %s: %s: %s", host, type(exc).__name__, exc)
        except (ConnectionClosed, _Stalled) as exc:
            self.stats.error(f"Jetstream {host} disconnected: {exc or 'stalled'}")
            log.warning("Jetstream %s disconnected (%s); reconnecting", host, exc or "stalled")
            if isinstance(exc, ConnectionClosed) and exc.sent is not None and exc.sent.code == MESSAGE_TOO_BIG:
                return "too_big"
        finally:
            self._live = False
            self.stats.set("stream_connected", False)
        return "ended"

    def _step_over_frame(self) -> None:
        """A frame over WS_MAX_FRAME_BYTES closed the connection (1009): move the cursor past it, twice as far at
        each refusal in a row, and report what is skipped as a gap."""
        log.error("a Jetstream frame over %d bytes closed the connection; stepping over it", WS_MAX_FRAME_BYTES)
        self.stats.drop("frame_too_large")
        skipped = self.cursor.skip(self._skip_units)
        self._skip_units *= 2
        if skipped is not None:
            self._report_gap(skipped[0], skipped[1], "frame_too_large")

    def _connection(self, url: str, host: str, sink: Sink, stop: threading.Event) -> None:
        """Read one connection until ``stop`` or the sink wants no more, or raise why it ended."""
        from websockets.exceptions import InvalidStatus
        from websockets.sync.client import connect

        try:
            ws = connect(url, open_timeout=OPEN_TIMEOUT_S, close_timeout=1.0, max_size=WS_MAX_FRAME_BYTES)
        except InvalidStatus as exc:
            error = _xrpc_error(bytes(exc.response.body or b""))
            if error is not None:
                raise _Rejected(*error) from exc
            raise
        with ws:
            self._connections += 1
            if self._connections > 1:
                self.stats.incr("reconnects")
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

    def drained(self) -> None:
        """Nothing to forget: the stream's resume state is needed whether or not the records are delivered."""

    def close(self) -> None:
        """The read loop checks ``stop`` every POLL_S; the cursor is saved when ``run`` returns."""


def _xrpc_error(body: bytes) -> tuple[str, str] | None:
    """(error, message) of an XRPC error envelope (``{"error": "CursorTooOld", "message": ...}``), or None."""
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), str):
        return parsed["error"], str(parsed.get("message", ""))
    return None
