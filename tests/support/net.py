"""Networking helpers for tests that serve or refuse connections on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago (also: an address that refuses)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class QuietHandler(BaseHTTPRequestHandler):
    """Base of the tests' fake HTTP servers: no access log on stderr, replies with a Content-Length."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def reply(self, status: int, body: bytes, content_type: str | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def reply_json(self, status: int, payload: Any) -> None:
        self.reply(status, json.dumps(payload).encode(), "application/json")


@contextmanager
def in_background(serve_forever: Callable[[], object], shutdown: Callable[[], object]) -> Iterator[None]:
    """Run a server's ``serve_forever`` in a daemon thread for the block; ``shutdown`` it after."""
    thread = threading.Thread(target=serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        shutdown()
        thread.join(timeout=5)


@contextmanager
def http_server(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free port of 127.0.0.1 from a daemon thread; yields the base URL, shuts down after."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    try:
        with in_background(server.serve_forever, server.shutdown):
            yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.server_close()
