"""A fake of X's batch compliance API on 127.0.0.1: create a job, upload ids to its URL, poll, download.

``answers`` maps an id to the ``reason`` X would answer for it (ids not in it need no action). ``create_status``
answers the next job creations with those HTTP statuses first (429, 503); ``final_status`` ends the job
``complete`` (default), ``failed`` or ``expired``; ``polls`` is how many polls answer ``in_progress`` first;
``malformed`` adds lines that are not JSON objects to the results.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from tests.support.net import QuietHandler, http_server


@dataclass
class FakeXCompliance:
    token: str = "test-token"
    answers: dict[str, str] = field(default_factory=dict)
    create_status: list[int] = field(default_factory=list)
    final_status: str = "complete"
    polls: int = 1
    malformed: bool = False
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def results(self, job_id: str) -> bytes:
        lines = [
            json.dumps(
                {
                    "id": i,
                    "action": "delete",
                    "created_at": "2026-12-01T00:00:00.000Z",
                    "redacted_at": "2026-12-02T00:00:00.000Z",
                    "reason": self.answers[i],
                }
            )
            for i in self.uploads.get(job_id, [])
            if i in self.answers
        ]
        if self.malformed:
            lines += ["{not json", json.dumps(["an", "array"])]
        return "".join(f"{line}\n" for line in lines).encode()


class _Handler(QuietHandler):
    fake: FakeXCompliance

    def _send(self, status: int, body: Any, content_type: str = "application/json") -> None:
        self.reply(status, body if isinstance(body, bytes) else json.dumps(body).encode(), content_type)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.fake.token}":
            self._send(401, {"title": "Unauthorized"})
            return False
        return True

    def do_POST(self) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        if self.path != "/2/compliance/jobs" or not self._authorised():
            return
        with fake.lock:
            if fake.create_status:
                status = fake.create_status.pop(0)
                self._send(status, {"title": "Too Many Requests" if status == 429 else "Service Unavailable"})
                return
            job_id = str(uuid.uuid4().int)[:19]
            job = {"id": job_id, "type": body["type"], "name": body.get("name"), "status": "created",
                   "upload_url": f"{fake.url}/upload/{job_id}", "download_url": f"{fake.url}/download/{job_id}",
                   "upload_expires_at": "2026-12-06T00:15:00.000Z", "download_expires_at": "2026-12-13T00:00:00.000Z",
                   "polls_left": fake.polls}  # fmt: skip
            fake.jobs[job_id] = job
        self._send(200, {"data": {k: v for k, v in job.items() if k != "polls_left"}})

    def do_PUT(self) -> None:
        fake = self.fake
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length).decode()
        job_id = self.path.rsplit("/", 1)[-1]
        if not self.path.startswith("/upload/") or job_id not in fake.jobs:
            self._send(404, {"title": "Not Found"})
            return
        with fake.lock:
            fake.uploads[job_id] = [line for line in data.splitlines() if line]
            fake.jobs[job_id]["status"] = "in_progress"
        self._send(200, b"", "text/plain")

    def do_GET(self) -> None:
        fake = self.fake
        if self.path.startswith("/download/"):
            self._send(200, fake.results(self.path.rsplit("/", 1)[-1]), "application/octet-stream")
            return
        if not self.path.startswith("/2/compliance/jobs/") or not self._authorised():
            return
        job_id = self.path.rsplit("/", 1)[-1]
        with fake.lock:
            job = fake.jobs.get(job_id)
            if job is None:
                self._send(404, {"title": "Not Found"})
                return
            if job["polls_left"] > 0:
                job["polls_left"] -= 1
            elif job["status"] == "in_progress":
                job["status"] = fake.final_status
        self._send(200, {"data": {k: v for k, v in job.items() if k != "polls_left"}})


@contextmanager
def serve(fake: FakeXCompliance | None = None) -> Iterator[FakeXCompliance]:
    fake = fake or FakeXCompliance()
    handler = type("Handler", (_Handler,), {"fake": fake})
    with http_server(handler) as url:
        fake.url = url
        yield fake
