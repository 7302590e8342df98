"""A fake Bluesky Jetstream on 127.0.0.1, built with the server side of the ingester's WebSocket library.

It holds a log of events (each with its ``time_us``, increasing, and a sequence number, 1, 2, ...) and serves
``/subscribe`` (Jetstream v1's wire; with ``v2`` set, as Jetstream v2 serves it: each frame also carries its
``cursor``, the instance-local sequence number) and ``/xrpc/network.bsky.jetstream.subscribeEvents`` (v2's
wire: ``{"$type": "message", "payload": {... "seq", "time" ...}}``). A ``cursor`` below 10^15 is a sequence
number, at or above a microsecond timestamp, as Jetstream v2's docs (docs/README.md, section 5.1) define it. A
connection with a cursor gets every event at or after it first (as Jetstream replays), then the events appended
later, live.

Faults, scripted by the test: ``cut_after`` closes a connection abruptly (no close frame) after that many
events, per connection; ``close_every`` after that many events on every connection; ``dead`` accepts each
connection and closes it at once (a dead instance behind a healthy load balancer); ``floor_time_us`` is the
retention floor: events before it are gone, a cursor before it is clamped silently on ``/subscribe`` (v1),
rejected before the upgrade with HTTP 400 ``CursorTooOld`` for a sequence cursor on ``subscribeEvents``, and
announced by an ``#info OutdatedCursor`` frame for a timestamp cursor there. Raw frames (malformed or oversized
input) go into the log as bytes or strings.
"""

from __future__ import annotations

import http
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.sync.server import ServerConnection, serve

from tests.support.net import in_background

BASE_TIME_US = 1_764_000_000_000_000
#: Below this a cursor is a v2 sequence number, at or above it a v1 microsecond timestamp (Jetstream v2 docs, 5.1).
SEQ_CURSOR_LIMIT = 10**15
V2_PATH = "/xrpc/network.bsky.jetstream.subscribeEvents"
DID = "did:plc:abcdefghijklmnopqrstuvwx"


def delete_event(time_us: int, rkey: str, *, did: str = DID) -> dict[str, Any]:
    """A Jetstream delete commit of a post (no record), as Jetstream sends it."""
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {"rev": "3l3qo2vutsw2c", "operation": "delete", "collection": "app.bsky.feed.post", "rkey": rkey},
    }


def account_event(time_us: int, status: str | None, *, did: str = DID, active: bool = False) -> dict[str, Any]:
    """A Jetstream ``account`` event (an account's hosting status changed)."""
    account: dict[str, Any] = {"active": active, "did": did, "seq": 1409753013, "time": "2026-12-01T12:00:00Z"}
    if status is not None:
        account["status"] = status
    return {"did": did, "time_us": time_us, "kind": "account", "account": account}


def post_event(
    time_us: int,
    text: str,
    *,
    rkey: str | None = None,
    did: str = DID,
    langs: list[str] | None = None,
    facets: list[dict[str, Any]] | None = None,
    reply_to: str | None = None,
    quote: str | None = None,
    operation: str = "create",
) -> dict[str, Any]:
    """A Jetstream commit event for a post, as Jetstream sends it."""
    record: dict[str, Any] = {
        "$type": "app.bsky.feed.post",
        "text": text,
        "createdAt": "2026-11-30T12:00:00.000Z",
        "langs": langs or ["en"],
    }
    if facets:
        record["facets"] = facets
    if reply_to:
        ref = {"uri": reply_to, "cid": "bafyparent"}
        record["reply"] = {"root": ref, "parent": ref}
    if quote:
        record["embed"] = {"$type": "app.bsky.embed.record", "record": {"uri": quote, "cid": "bafyquoted"}}
    return {
        "did": did,
        "time_us": time_us,
        "kind": "commit",
        "commit": {
            "rev": "3l3qo2vutsw2b",
            "operation": operation,
            "collection": "app.bsky.feed.post",
            "rkey": rkey or f"3k{time_us}",
            "record": record,
            "cid": f"bafy{time_us}",
        },
    }


@dataclass
class FakeJetstream:
    events: list[tuple[int, str | bytes]] = field(default_factory=list)
    #: Per connection (in order): close abruptly after this many events sent (None: never).
    cut_after: list[int | None] = field(default_factory=list)
    #: The ``cursor`` each connection asked for (None: none), and its path with query.
    cursors: list[int | None] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    url: str = ""
    changed: threading.Condition = field(default_factory=threading.Condition)
    closing: bool = False
    #: Every connection: close abruptly after this many events (None: never).
    close_every: int | None = None
    #: Accept each connection and close it at once.
    dead: bool = False
    #: Jetstream v2: frames on /subscribe carry ``cursor`` (their sequence number).
    v2: bool = False
    #: Retention floor (events before it are gone); None: everything is kept.
    floor_time_us: int | None = None
    #: Connections rejected before the upgrade (CursorTooOld).
    rejected: int = 0

    @property
    def v2_url(self) -> str:
        """The v2 stream's URL on this server (posts only)."""
        base = self.url.split("/subscribe", 1)[0]
        return f"{base}{V2_PATH}?kinds=commit&collections=app.bsky.feed.post"

    def floor_seq(self) -> int:
        with self.changed:
            if self.floor_time_us is None:
                return 1
            return next((i + 1 for i, (stamp, _) in enumerate(self.events) if stamp >= self.floor_time_us), 1)

    def process_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Before the upgrade: v2's CursorTooOld for a sequence cursor below the floor."""
        parts = urlsplit(request.path)
        cursor = parse_qs(parts.query).get("cursor")
        if parts.path == V2_PATH and cursor and int(cursor[0]) < SEQ_CURSOR_LIMIT:
            floor = self.floor_seq()
            if int(cursor[0]) < floor:
                with self.changed:
                    self.rejected += 1
                body = json.dumps({"error": "CursorTooOld", "message": f"cursor is below the floor seq {floor}"})
                response = connection.respond(http.HTTPStatus.BAD_REQUEST, body)
                response.headers["Content-Type"] = "application/json"
                return response
        return None

    def add(self, event: dict[str, Any] | str | bytes, time_us: int | None = None) -> None:
        """Append an event (a dict is JSON-encoded; its ``time_us`` orders it) and wake the live connections."""
        frame: str | bytes
        if isinstance(event, dict):
            stamp, frame = int(event["time_us"]), json.dumps(event)
        else:
            stamp, frame = (time_us if time_us is not None else self._next_stamp()), event
        with self.changed:
            self.events.append((stamp, frame))
            self.changed.notify_all()

    def _next_stamp(self) -> int:
        return (self.events[-1][0] + 1) if self.events else BASE_TIME_US

    def serve_connection(self, ws: ServerConnection) -> None:
        request = ws.request
        target = request.path if request is not None else "/"
        parts = urlsplit(target)
        v2_wire = parts.path == V2_PATH
        query = parse_qs(parts.query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        with self.changed:
            number = len(self.cursors)
            self.cursors.append(cursor)
            self.paths.append(target)
            position = len(self.events) if cursor is None else 0
        if self.dead:
            ws.socket.close()
            return
        by_seq = cursor is not None and cursor < SEQ_CURSOR_LIMIT
        floor = self.floor_time_us
        if cursor is not None and not by_seq and floor is not None and cursor < floor:
            if v2_wire:  # the timestamp-cursor path clamps and says so
                ws.send(json.dumps({"$type": "info", "name": "OutdatedCursor", "message": f"resumed at {floor}"}))
            cursor = floor  # v1 /subscribe: silently, from the oldest event kept
        cut = self.cut_after[number] if number < len(self.cut_after) else self.close_every
        sent = 0
        try:
            while True:
                with self.changed:
                    while position >= len(self.events) and not self.closing:
                        self.changed.wait(0.2)
                    if self.closing:
                        return
                    stamp, frame = self.events[position]
                position += 1
                seq = position
                if cursor is not None and (seq < cursor if by_seq else stamp < cursor):
                    continue
                if floor is not None and stamp < floor:
                    continue
                if cut is not None and sent >= cut:
                    ws.socket.close()  # abrupt: no close frame, as a dropped TCP connection
                    return
                ws.send(self._wire(frame, seq, stamp, v2_wire))
                sent += 1
        except ConnectionClosed:
            return

    def _wire(self, frame: str | bytes, seq: int, stamp: int, v2_wire: bool) -> str | bytes:
        if not isinstance(frame, str) or not (self.v2 or v2_wire):
            return frame
        try:
            event = json.loads(frame)
        except ValueError:
            return frame
        if not isinstance(event, dict) or "time_us" not in event:
            return frame
        if not v2_wire:
            return json.dumps({**event, "cursor": seq})
        commit: dict[str, Any] = event["commit"] if isinstance(event.get("commit"), dict) else {}
        moment = datetime.fromtimestamp(stamp / 1_000_000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        payload = {
            "$type": f"network.bsky.jetstream.subscribeEvents#{event.get('kind', 'commit')}",
            "seq": seq,
            "did": event.get("did"),
            "time": moment,
            **{k: v for k, v in commit.items() if k in ("rev", "operation", "collection", "rkey", "cid", "record")},
        }
        return json.dumps({"$type": "message", "payload": payload})

    def close(self) -> None:
        """End every connection's loop (the server then closes them)."""
        with self.changed:
            self.closing = True
            self.changed.notify_all()

    def connections(self) -> int:
        with self.changed:
            return len(self.cursors)


@contextmanager
def fake_jetstream(fake: FakeJetstream | None = None) -> Iterator[FakeJetstream]:
    """Serve ``fake`` on a free port of 127.0.0.1; ``fake.url`` is its subscribe URL for posts."""
    fake = fake or FakeJetstream()
    with (
        serve(fake.serve_connection, "127.0.0.1", 0, process_request=fake.process_request, max_size=None) as server,
        in_background(server.serve_forever, server.shutdown),
    ):
        fake.url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/subscribe?wantedCollections=app.bsky.feed.post"
        try:
            yield fake
        finally:
            fake.close()
