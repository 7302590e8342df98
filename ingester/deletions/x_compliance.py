"""X batch compliance: which of the posts (and authors) we stored were deleted, protected, suspended or deactivated.

X's batch compliance endpoints (open to every API v2 app; the compliance *stream* is enterprise-only), as X
documents them (developer.x.com/en/docs/x-api/compliance/batch-compliance/quick-start; docs.x.com/x-api/compliance,
"Create Compliance Job", "Upload Compliance Job Submission", "Get Compliance Job by ID"; read 2026-12):

1. ``POST /2/compliance/jobs`` with ``{"type": "tweets" | "users", "name": ...}`` (app-only bearer token) answers
   the job: ``id``, ``upload_url`` (signed, valid about 15 minutes), ``download_url`` (signed, valid about 7 days),
   ``status`` (``created``, ``in_progress``, ``complete``, ``failed``, ``expired``);
2. ``PUT upload_url`` with the ids, one per line (``Content-Type: text/plain``);
3. ``GET /2/compliance/jobs/:id`` until ``complete`` (or ``failed`` / ``expired``);
4. ``GET download_url``: one JSON object per line for each id that needs action:
   ``{"id", "action": "delete", "created_at", "redacted_at", "reason"}``, ``reason`` one of ``deleted``,
   ``suspended``, ``protected``, ``deactivated`` (and for posts ``scrub_geo``: remove the geo data only).

:func:`run_job` does one job over the ids it is given (the ledger's ids within RETENTION_DAYS) and turns every
answer into a tombstone (``post`` for a tweets job, ``author`` for a users job); the deleter applies them like
Bluesky's. ``scrub_geo`` asks to remove geo data only: the documents store no geo field (the transform keeps none),
so it is counted and nothing is deleted.

Failure policy: nothing here loses an id. An HTTP error (429 with its reset, 503, 401), a job that ends
``failed`` or ``expired``, or a poll that runs out of time raises :class:`ComplianceError` with the status; the
caller records the run as failed and tries again at its next interval, so every id is checked again (the job is
idempotent on our side: a tombstone recorded twice is recorded once). A result line that is not a JSON object
with an ``id`` is counted as ``malformed`` and skipped with one warning; the other lines are still applied, and
the run is reported ``partial`` (not a success: the 26-hour alarm keeps waiting for a clean run).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Literal

import requests

from ingester.deletions.store import DeletionStore, TombstoneKind

log = logging.getLogger(__name__)

JobType = Literal[
    "tweets",  # post ids: answers become post tombstones
    "users",  # author ids: answers become author tombstones
]
#: Reasons X answers with that mean "remove what you stored" (a users job answers the same for accounts).
REMOVE_REASONS = frozenset(("deleted", "suspended", "protected", "deactivated"))
SCRUB_GEO = "scrub_geo"
TIMEOUT_S = 30.0


class ComplianceError(Exception):
    """The job could not complete; ``status`` is the HTTP status or the job's final status."""

    def __init__(self, message: str, *, status: int | str | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class JobResult:
    job_type: JobType
    job_id: str
    uploaded: int
    answers: int = 0
    tombstones: int = 0
    scrub_geo: int = 0
    malformed: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return self.malformed == 0


def _check(response: requests.Response, what: str) -> Any:
    if response.status_code >= 400:
        hint = ""
        if response.status_code == 429:
            hint = f" (rate limited; x-rate-limit-reset {response.headers.get('x-rate-limit-reset', '?')})"
        raise ComplianceError(f"{what}: HTTP {response.status_code}{hint}", status=response.status_code)
    return response


def run_job(
    session: requests.Session,
    base_url: str,
    token: str,
    job_type: JobType,
    ids: Sequence[str],
    *,
    store: DeletionStore,
    poll_s: float = 30.0,
    timeout_s: float = 3600.0,
    sleep: Callable[[float], object] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> JobResult:
    """Create, upload, poll, download and apply one job; raises ComplianceError (see the failure policy)."""
    auth = {"Authorization": f"Bearer {token}"}
    base = base_url.rstrip("/")
    try:
        created = _check(
            session.post(
                f"{base}/2/compliance/jobs",
                json={"type": job_type, "name": f"tweet-sentiment-{job_type}"},
                headers=auth,
                timeout=TIMEOUT_S,
            ),
            "create the compliance job",
        ).json()["data"]
        job_id, upload_url = str(created["id"]), str(created["upload_url"])
        body = "".join(f"{i}\n" for i in ids).encode("ascii")
        _check(
            session.put(upload_url, data=body, headers={"Content-Type": "text/plain"}, timeout=TIMEOUT_S),
            "upload the ids",
        )
        deadline = clock() + timeout_s
        while True:
            polled = session.get(f"{base}/2/compliance/jobs/{job_id}", headers=auth, timeout=TIMEOUT_S)
            job = _check(polled, "poll the compliance job").json()["data"]
            status = job.get("status")
            if status == "complete":
                break
            if status in ("failed", "expired"):
                raise ComplianceError(f"compliance job {job_id} ended {status}", status=str(status))
            if clock() >= deadline:
                raise ComplianceError(f"compliance job {job_id} still {status} after {timeout_s:g} s", status="timeout")
            sleep(poll_s)
        download = _check(session.get(str(job["download_url"]), timeout=TIMEOUT_S), "download the results")
    except requests.RequestException as exc:
        raise ComplianceError(f"X compliance: {type(exc).__name__}") from None
    except (KeyError, TypeError, ValueError) as exc:  # an answer without the documented fields
        raise ComplianceError(f"X compliance answered unexpectedly: {type(exc).__name__}: {exc}") from None
    result = JobResult(job_type, job_id, uploaded=len(ids))
    apply_results(download.content, job_type, store, result)
    return result


def apply_results(data: bytes, job_type: JobType, store: DeletionStore, result: JobResult) -> None:
    """Each result line → a tombstone (or a scrub_geo count); malformed lines counted and skipped."""
    kind: TombstoneKind = "post" if job_type == "tweets" else "author"
    for raw in data.splitlines():
        if not raw.strip():
            continue
        try:
            line = json.loads(raw)
            item_id = str(line["id"])
            reason = str(line.get("reason", ""))
        except (ValueError, KeyError, TypeError):
            result.malformed += 1
            continue
        result.answers += 1
        result.reasons[reason] = result.reasons.get(reason, 0) + 1
        if reason == SCRUB_GEO:
            result.scrub_geo += 1  # no geo field is stored: nothing to remove
            continue
        removes = reason in REMOVE_REASONS or line.get("action") == "delete"
        if removes and store.tombstone(kind, item_id, source="x") is not None:
            result.tombstones += 1
    if result.malformed:
        log.warning("X compliance job %s: %d malformed result line(s) skipped", result.job_id, result.malformed)


STATE_FILE = "x-compliance.json"
#: After a failed run, the next try comes this much later (or at the interval, if shorter).
RETRY_AFTER_S = 3600.0


@dataclass(eq=False)
class ComplianceSchedule:
    """Runs the tweets job over the ledger's post ids and the users job over its author ids every ``interval_s``
    (X_COMPLIANCE_INTERVAL_H), in a thread of its own (a job can take minutes to an hour). The time of the last
    clean run is kept in STATE_DIR/x-compliance.json and published as the ``x_compliance_age_h`` gauge (hours since
    it, or since the ingester started when there was none): the XComplianceAgeHours metric, alarmed past 26 h."""

    store: DeletionStore
    stats: Any
    state_path: Any
    _: KW_ONLY
    base_url: str
    token: Callable[[], str]
    interval_s: float
    session: requests.Session = field(default_factory=requests.Session)
    poll_s: float = 30.0
    stop: threading.Event = field(default_factory=threading.Event, init=False)
    _started: float = field(default_factory=time.time, init=False)
    _thread: threading.Thread | None = field(default=None, init=False)

    def last_success(self) -> float | None:
        try:
            value = json.loads(self.state_path.read_text(encoding="utf-8")).get("last_success")
        except (OSError, ValueError, AttributeError):
            return None
        return float(value) if isinstance(value, int | float) else None

    def age_hours(self, now: float | None = None) -> float:
        now = time.time() if now is None else now
        return round((now - (self.last_success() or self._started)) / 3600, 2)

    def run_once(self) -> bool:
        """Both jobs; True when both completed cleanly (then the success time is saved)."""
        from ingester.storage.files import atomic_write

        ledger = self.store.ledger_ids()
        jobs: list[tuple[JobType, list[str]]] = [
            ("tweets", [post for post, _ in ledger]),
            ("users", sorted({author for _, author in ledger})),
        ]
        clean = True
        for job_type, ids in jobs:
            if not ids:
                continue
            try:
                result = run_job(self.session, self.base_url, self.token(), job_type, ids, store=self.store,
                                 poll_s=self.poll_s)  # fmt: skip
            except ComplianceError as exc:
                clean = False
                self.stats.incr("x_compliance_failures")
                self.stats.error(f"X compliance {job_type}: {exc}")
                log.error("X compliance %s job failed: %s; every id is checked again at the next run", job_type, exc)
                continue
            clean = clean and result.clean
            log.info(
                "X compliance %s job %s: %d id(s) checked, %d answer(s), %d tombstone(s), %d scrub_geo, %d malformed",
                job_type, result.job_id, result.uploaded, result.answers, result.tombstones, result.scrub_geo,
                result.malformed,
            )  # fmt: skip
        if clean:
            try:
                atomic_write(self.state_path, json.dumps({"last_success": time.time()}).encode())
            except OSError as exc:
                log.warning("could not save %s: %s", self.state_path, exc)
        self.stats.set("x_compliance_age_h", self.age_hours())
        return clean

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="x-compliance", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            self.stats.set("x_compliance_age_h", self.age_hours())
            last = self.last_success()
            wait = 0.0 if last is None else max(0.0, last + self.interval_s - time.time())
            if wait > 0 and self.stop.wait(min(wait, 300.0)):
                return
            if wait > 300.0:
                continue
            if not self.run_once() and self.stop.wait(min(RETRY_AFTER_S, self.interval_s)):
                return

    def close(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
