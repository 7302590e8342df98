"""A Firehose-compatible HTTP endpoint for tests that run the ingester as a process: PutRecordBatch (JSON 1.1
protocol) on 127.0.0.1, keeping every accepted record; ``up`` cleared = an outage (every call refused with
ServiceUnavailableException, as Firehose answers when it cannot take records)."""

from __future__ import annotations

import base64
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a client killed mid-call (kill -9) is expected
            super().handle_error(request, client_address)


class FirehoseEndpoint:
    def __init__(self) -> None:
        self.up = threading.Event()
        self.up.set()
        self.records: list[bytes] = []
        self.refused_calls = 0
        self._lock = threading.Lock()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                status, payload = endpoint.handle(self.headers.get("X-Amz-Target", ""), request)
                body = json.dumps(payload).encode()
                self.send_response(status)
                for header, value in (("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", len(body))):
                    self.send_header(header, str(value))
                self.end_headers()
                self.wfile.write(body)

        self._server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def handle(self, target: str, request: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if not target.endswith(".PutRecordBatch"):
            return 400, {"__type": "InvalidArgumentException", "message": f"unsupported {target}"}
        if not self.up.is_set():
            with self._lock:
                self.refused_calls += 1
            return 400, {"__type": "ServiceUnavailableException", "message": "Slow down."}
        data = [base64.b64decode(r["Data"]) for r in request["Records"]]
        with self._lock:
            self.records.extend(data)
        return 200, {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": [{"RecordId": "r"} for _ in data]}

    def tweet_ids(self) -> list[str]:
        with self._lock:
            return [json.loads(d)["tweet"]["id"] for d in self.records]

    def __enter__(self) -> FirehoseEndpoint:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
