"""A small OpenSearch stand-in on 127.0.0.1: root info, index templates, _bulk with strict dynamic mapping."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeOpenSearch:
    def __init__(self, distribution: str = "opensearch") -> None:
        self.distribution = distribution
        self.templates: dict[str, Any] = {}
        self.indices: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.fail_ids: set[str] = set()
        self.unavailable = 0  # answer this many _bulk calls with 503 first
        self.url = ""

    def _mapping(self) -> dict[str, Any] | None:
        for template in self.templates.values():
            return template["template"]["mappings"]
        return None

    def _strict_problem(self, doc: dict[str, Any], props: dict[str, Any], prefix: str = "") -> str | None:
        for key, value in doc.items():
            if key not in props:
                return f"mapping set to strict, dynamic introduction of [{prefix}{key}] is not allowed"
            sub = props[key].get("properties")
            if sub is not None and isinstance(value, dict):
                problem = self._strict_problem(value, sub, f"{prefix}{key}.")
                if problem:
                    return problem
        return None

    def bulk(self, body: str) -> dict[str, Any]:
        lines = [line for line in body.split("\n") if line]
        items = []
        mapping = self._mapping()
        for action_line, doc_line in zip(lines[::2], lines[1::2], strict=True):
            meta = json.loads(action_line)["index"]
            doc = json.loads(doc_line)
            problem = None
            if meta["_id"] in self.fail_ids:
                problem = ("mapper_parsing_exception", "failed to parse field [created_at]")
            elif mapping is not None:
                reason = self._strict_problem(doc, mapping["properties"])
                if reason:
                    problem = ("strict_dynamic_mapping_exception", reason)
            if problem:
                items.append({"index": {"_index": meta["_index"], "_id": meta["_id"], "status": 400,
                                        "error": {"type": problem[0], "reason": problem[1]}}})  # fmt: skip
                continue
            self.indices.setdefault(meta["_index"], {})[meta["_id"]] = doc
            items.append({"index": {"_index": meta["_index"], "_id": meta["_id"], "status": 201}})
        return {"took": 1, "errors": any(i["index"]["status"] >= 300 for i in items), "items": items}


@contextmanager
def serve(fake: FakeOpenSearch) -> Iterator[FakeOpenSearch]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> str:
            return self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()

        def do_GET(self) -> None:
            fake.requests.append(("GET", self.path, dict(self.headers)))
            if self.path == "/":
                self._reply(200, {"version": {"distribution": fake.distribution, "number": "2.13.0"}})
            else:
                self._reply(404, {"error": "not found"})

        def do_PUT(self) -> None:
            fake.requests.append(("PUT", self.path, dict(self.headers)))
            body = json.loads(self._body())
            if self.path.startswith("/_index_template/"):
                fake.templates[self.path.rsplit("/", 1)[1]] = body
                self._reply(200, {"acknowledged": True})
            else:
                self._reply(404, {"error": "no handler found"})

        def do_POST(self) -> None:
            fake.requests.append(("POST", self.path, dict(self.headers)))
            body = self._body()
            if self.path != "/_bulk":
                self._reply(404, {"error": "no handler found"})
            elif fake.unavailable > 0:
                fake.unavailable -= 1
                self._reply(503, {"error": "unavailable"})
            else:
                self._reply(200, fake.bulk(body))

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
