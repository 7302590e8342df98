"""A fake X API v2 on 127.0.0.1: stream rules endpoints and a scripted filtered stream.

The stream endpoint plays one scripted *connection* per request, in order: an HTTP error status, or a
200 with chunked newline-delimited JSON whose steps are lines, keep-alive blank lines, pauses, an
abrupt close mid-line, a stall (no bytes), a gate (keep-alives until the test opens it), or a clean end.
This is what X does on the wire.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.net import QuietHandler, http_server

# ("line", dict|bytes) ("keepalive", None) ("sleep", s) ("cut", bytes) ("stall", s) ("end", None)
# ("gate", threading.Event): keep-alives until the test sets the event, then the next steps
Step = tuple[str, Any]


@dataclass
class Connection:
    status: int = 200
    steps: list[Step] = field(default_factory=list)
    body: dict[str, Any] | None = None


@dataclass
class FakeX:
    connections: list[Connection]
    token: str = "test-token"
    rules: list[dict[str, str]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, list[str]]]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)
    stream_attempts: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)
    _next_rule_id: int = 1000
    url: str = ""
    #: What GET /2/usage/tweets answers (its ``data``, as X documents it), or None for a 503.
    usage: dict[str, Any] | None = None


def _handler(fake: FakeX) -> type[BaseHTTPRequestHandler]:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"

        def _authorized(self) -> bool:
            header = self.headers.get("Authorization", "")
            fake.auth_headers.append(header)
            if header != f"Bearer {fake.token}":
                self.reply_json(401, {"title": "Unauthorized", "detail": "Unauthorized", "status": 401})
                return False
            return True

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            fake.requests.append(("GET", parsed.path, parse_qs(parsed.query)))
            if not self._authorized():
                return
            if parsed.path == "/2/tweets/search/stream/rules":
                meta = {"sent": "2026-11-26T10:00:00.000Z", "result_count": len(fake.rules)}
                self.reply_json(200, {"data": list(fake.rules), "meta": meta} if fake.rules else {"meta": meta})
            elif parsed.path == "/2/tweets/search/stream":
                self._stream()
            elif parsed.path == "/2/usage/tweets":
                if fake.usage is None:
                    self.reply_json(503, {"title": "Service Unavailable"})
                else:
                    self.reply_json(200, {"data": fake.usage})
            else:
                self.reply_json(404, {"title": "Not Found"})

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            fake.requests.append(("POST", parsed.path, parse_qs(parsed.query)))
            length = int(self.headers.get("Content-Length", "0"))
            payload = json.loads(self.rfile.read(length) or b"{}")
            if not self._authorized():
                return
            if "delete" in payload:
                ids = set(payload["delete"]["ids"])
                fake.rules = [r for r in fake.rules if r["id"] not in ids]
                self.reply_json(200, {"meta": {"sent": "now", "summary": {"deleted": len(ids), "not_deleted": 0}}})
                return
            created = []
            for rule in payload.get("add", []):
                fake._next_rule_id += 1
                created.append({"id": str(fake._next_rule_id), **rule})
            fake.rules += created
            self.reply_json(201, {"data": created, "meta": {"sent": "now", "summary": {"created": len(created)}}})

        def _chunk(self, data: bytes) -> None:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()

        def _stream(self) -> None:
            index = fake.stream_attempts
            fake.stream_attempts += 1
            stall = Connection(steps=[("stall", 60.0)])
            conn = fake.connections[index] if index < len(fake.connections) else stall
            if conn.status != 200:
                self.reply_json(
                    conn.status, conn.body or {"title": "Too Many Requests", "detail": "Too Many Connections"}
                )
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                for kind, arg in conn.steps:
                    if kind == "line":
                        data = arg if isinstance(arg, bytes) else json.dumps(arg).encode()
                        self._chunk(data + b"\r\n")
                    elif kind == "keepalive":
                        self._chunk(b"\r\n")
                    elif kind == "sleep":
                        time.sleep(arg)
                    elif kind == "cut":  # abrupt close in the middle of a line, no terminating chunk
                        self._chunk(arg)
                        self.close_connection = True
                        return
                    elif kind == "stall":  # hold the connection open, send nothing
                        fake.stopping.wait(arg)
                        self.close_connection = True
                        return
                    elif kind == "gate":  # the test decides when the rest of the script plays
                        while not arg.wait(0.2) and not fake.stopping.is_set():
                            self._chunk(b"\r\n")
                    elif kind == "end":  # clean end of the response
                        self.wfile.write(b"0\r\n\r\n")
                        self.wfile.flush()
                        return
                while not fake.stopping.wait(0.2):  # then keep-alives until the test ends
                    self._chunk(b"\r\n")
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

    return Handler


@contextmanager
def serve(fake: FakeX) -> Iterator[FakeX]:
    with http_server(_handler(fake)) as url:
        fake.url = url
        try:
            yield fake
        finally:
            fake.stopping.set()  # ends the streams still playing, before the server shuts down
