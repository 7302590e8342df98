"""A fake Bluesky Jetstream on 127.0.0.1, built with the server side of the ingester's WebSocket library.

It holds a log of events (each with its ``time_us``, increasing) and serves ``/subscribe``: a connection with
``cursor`` gets every event with ``time_us >= cursor`` first (as Jetstream replays), then the events appended
later, live. The test scripts faults per connection: ``cut_after`` closes the connection abruptly (no close
frame) after that many events; raw frames (malformed input) go into the log as bytes or strings.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from tests.support.net import in_background

BASE_TIME_US = 1_764_000_000_000_000
DID = "did:plc:abcdefghijklmnopqrstuvwx"


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
        query = parse_qs(urlsplit(target).query)
        cursor = int(query["cursor"][0]) if "cursor" in query else None
        with self.changed:
            number = len(self.cursors)
            self.cursors.append(cursor)
            self.paths.append(target)
            position = len(self.events) if cursor is None else 0
        cut = self.cut_after[number] if number < len(self.cut_after) else None
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
                if cursor is not None and stamp < cursor:
                    continue
                if cut is not None and sent >= cut:
                    ws.socket.close()  # abrupt: no close frame, as a dropped TCP connection
                    return
                ws.send(frame)
                sent += 1
        except ConnectionClosed:
            return

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
    with serve(fake.serve_connection, "127.0.0.1", 0) as server, in_background(server.serve_forever, server.shutdown):
        fake.url = f"ws://127.0.0.1:{server.socket.getsockname()[1]}/subscribe?wantedCollections=app.bsky.feed.post"
        try:
            yield fake
        finally:
            fake.close()
