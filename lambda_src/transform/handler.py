"""Firehose data-transformation Lambda: envelope v1 records in, sentiment-scored documents out.

Entry point ``transform.handler.lambda_handler(event, context)``. The handler is thin: decode every record
(codec), build its document (document), score the unique texts once (sentiment backend), encode. Every input
recordId comes back exactly once, in order, ``Ok`` or ``ProcessingFailed`` (with its original data, so
Firehose keeps it in S3 for redrive); one bad record never fails the batch. ``context`` may be None (the
local demo): the time budget is then :data:`DEFAULT_BUDGET_S`.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, TextIO

from transform.codec import DecodeError, Reason, decode_record, encode_document
from transform.document import Draft, build_draft, format_timestamp
from transform.enrichments import Enricher, empty_fields
from transform.observability import Fields, configure_lambda_logging, emf_line
from transform.sentiment import Deadline, Failed, Outcome, Scored, ScoreRequest, SentimentBackend, Skipped
from transform.sentiment.languages import normalise
from transform.settings import Settings

log = logging.getLogger(__name__)

Result = Literal["Ok", "ProcessingFailed"]

DEFAULT_BUDGET_S = 300.0
"""Time budget without a Lambda context: Firehose's longest processor invocation (5 minutes)."""
SAFETY_MARGIN_S = 3.0
"""Kept back from the remaining time for encoding and returning the response; sentiment work stops before."""


MAX_RESPONSE_BYTES = 6_000_000
"""Lambda's synchronous response limit is 6 MB (6,291,456 bytes); this leaves room for the JSON around the data."""
RECORD_OVERHEAD = 64  # {"recordId": "", "result": "ProcessingFailed", "data": ""}, per record, rounded up


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@dataclass(frozen=True)
class Runtime:
    """What one container keeps between invocations."""

    settings: Settings
    backend: SentimentBackend
    enricher: Enricher | None = None


def build_backend(settings: Settings) -> SentimentBackend:
    """The backend SENTIMENT_BACKEND names, behind Comprehend when SENTIMENT_FALLBACK=comprehend (embedded, vader)."""
    if settings.sentiment_backend == "comprehend":
        from transform.sentiment.comprehend import ComprehendBackend

        return ComprehendBackend(concurrency=settings.comprehend_concurrency)
    backend: SentimentBackend
    if settings.sentiment_backend == "embedded":
        from transform.sentiment.embedded import EmbeddedBackend

        backend = EmbeddedBackend()
    else:
        from transform.sentiment.vader import VaderBackend

        backend = VaderBackend()
    if settings.sentiment_fallback == "comprehend":
        from transform.sentiment.comprehend import ComprehendBackend
        from transform.sentiment.fallback import FallbackBackend

        return FallbackBackend(backend, ComprehendBackend(concurrency=settings.comprehend_concurrency))
    return backend


def build_enricher(settings: Settings) -> Enricher | None:
    """The Comprehend enrichments ENRICHMENTS enables, or None (the default: no extra calls, no extra cost)."""
    if not settings.enrichments:
        return None
    from transform.sentiment.comprehend import ComprehendBatcher

    return Enricher(settings.enrichments, ComprehendBatcher(concurrency=settings.comprehend_concurrency))


_runtime: Runtime | None = None
_runtime_lock = threading.Lock()


def get_runtime() -> Runtime:
    """The container's settings and backend, built from the environment on first use."""
    global _runtime  # noqa: PLW0603 -- one per container, by design
    with _runtime_lock:
        if _runtime is None:
            settings = Settings.from_env()
            _runtime = Runtime(settings=settings, backend=build_backend(settings), enricher=build_enricher(settings))
        return _runtime


def reset_runtime() -> None:
    """Forget the cached runtime (tests, or a host that changes the environment between calls)."""
    global _runtime  # noqa: PLW0603
    with _runtime_lock:
        _runtime = None


def lambda_handler(event: Mapping[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    runtime = get_runtime()
    return process_event(event, context, backend=runtime.backend, settings=runtime.settings, enricher=runtime.enricher)


def remaining_seconds(context: LambdaContext | None) -> float:
    if context is None:
        return DEFAULT_BUDGET_S
    return max(0.0, context.get_remaining_time_in_millis() / 1000.0)


def _records(event: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    records = event.get("records") if isinstance(event, Mapping) else None
    if not isinstance(records, list) or not all(
        isinstance(r, Mapping) and isinstance(r.get("recordId"), str) for r in records
    ):
        raise ValueError("not a Firehose data-transformation event: expected records[] each with a recordId")
    return records


@dataclass
class _Slot:
    """Per-record state while the batch is processed."""

    record_id: str
    data: object
    result: Result | None = None
    reason: Reason | None = None
    out: str | None = None
    draft: Draft | None = None
    request: int | None = None  # index into the unique score requests
    label: str | None = None  # POSITIVE/NEGATIVE/NEUTRAL/MIXED, for the summary
    skipped: str | None = None  # why sentiment is null, for the summary


@dataclass
class _Stats:
    """What the invocation's summary line reports."""

    passthrough: int = 0
    unique_texts: int = 0
    api_calls: int = 0
    api_throttles: int = 0
    internal_errors: int = 0


def process_event(
    event: Mapping[str, Any],
    context: LambdaContext | None,
    *,
    backend: SentimentBackend,
    settings: Settings | None = None,
    enricher: Enricher | None = None,
    metrics_stream: TextIO | None = None,
) -> dict[str, Any]:
    """The whole transformation, with the backend (and the optional enricher) passed in (tests pass stubbed
    clients this way)."""
    settings = settings or Settings()
    started = time.perf_counter()
    deadline = Deadline(max(0.0, remaining_seconds(context) - SAFETY_MARGIN_S))
    processed_at = format_timestamp(datetime.now(UTC))
    slots = [_Slot(record_id=r["recordId"], data=r.get("data")) for r in _records(event)]
    stats = _Stats()

    requests = _decode_all(slots, processed_at, stats)
    calls_before, throttles_before = backend.api_calls, backend.api_throttles
    outcomes = _score(backend, requests, deadline)
    stats.api_calls = backend.api_calls - calls_before
    stats.api_throttles = backend.api_throttles - throttles_before
    enrichments: list[dict[str, Any] | Failed] | None = None
    if enricher is not None:
        calls_before, throttles_before = enricher.api_calls, enricher.api_throttles
        enrichments = _enrich(enricher, requests, outcomes, deadline)
        stats.api_calls += enricher.api_calls - calls_before
        stats.api_throttles += enricher.api_throttles - throttles_before
    stats.unique_texts = len(requests)
    _complete(slots, outcomes, enrichments, backend.model_name, stats)

    _fit_response(slots)
    response = {"records": [_response_record(slot) for slot in slots]}
    _log_summary(
        event,
        slots,
        settings,
        model_name=backend.model_name,
        request_id=getattr(context, "aws_request_id", None),
        stats=stats,
        started=started,
        metrics_stream=metrics_stream,
    )
    return response


def _internal_error(slot: _Slot, stats: _Stats, what: str) -> None:
    """A bug must not fail the batch: keep the record for redrive; log the first traceback of the invocation."""
    stats.internal_errors += 1
    if stats.internal_errors == 1:
        log.exception("unexpected error while %s (record kept as ProcessingFailed)", what)
    slot.result, slot.reason = "ProcessingFailed", "internal_error"


def _decode_all(slots: list[_Slot], processed_at: str, stats: _Stats) -> list[ScoreRequest]:
    """Decode every record and build its draft; return the unique (language, text) pairs to score."""
    requests: list[ScoreRequest] = []
    request_index: dict[tuple[str, str], int] = {}
    for slot in slots:
        try:
            decoded = decode_record(slot.data)
            if decoded.kind == "document":
                slot.result, slot.out = "Ok", str(slot.data)  # redrive: exactly the bytes we were given
                stats.passthrough += 1
                continue
            slot.draft = build_draft(decoded.value, processed_at)
        except DecodeError as exc:
            slot.result, slot.reason = "ProcessingFailed", exc.reason
            continue
        except Exception:
            _internal_error(slot, stats, "decoding a record")
            continue
        if slot.draft.text.strip():
            key = (normalise(slot.draft.lang), slot.draft.text)
            if key not in request_index:
                request_index[key] = len(requests)
                requests.append(ScoreRequest(text=slot.draft.text, lang=slot.draft.lang))
            slot.request = request_index[key]
    return requests


def _complete(
    slots: list[_Slot],
    outcomes: list[Outcome],
    enrichments: list[dict[str, Any] | Failed] | None,
    model_name: str,
    stats: _Stats,
) -> None:
    """Add the sentiment (and enrichment) fields to every draft and encode it (or mark the record failed)."""
    for slot in slots:
        if slot.draft is None:
            continue
        outcome: Outcome = Skipped("empty_text") if slot.request is None else outcomes[slot.request]
        enriched = empty_fields() if enrichments is None or slot.request is None else enrichments[slot.request]
        if isinstance(outcome, Failed):
            slot.result, slot.reason = "ProcessingFailed", outcome.reason
            continue
        if isinstance(enriched, Failed):
            slot.result, slot.reason = "ProcessingFailed", enriched.reason
            continue
        document = dict(slot.draft.document)
        document.update(enriched)
        if isinstance(outcome, Scored):
            document.update(sentiment=outcome.label, sentiment_skipped=None, sentiment_score=outcome.scores.as_dict())
            slot.label = outcome.label
        else:
            document.update(sentiment=None, sentiment_skipped=outcome.reason, sentiment_score=None)
            slot.skipped = outcome.reason
        document["sentiment_model"] = (outcome.model if isinstance(outcome, Scored) else None) or model_name
        try:
            slot.result, slot.out = "Ok", encode_document(document)
        except (ValueError, TypeError):
            _internal_error(slot, stats, "encoding a document")


def _score(backend: SentimentBackend, requests: list[ScoreRequest], deadline: Deadline) -> list[Outcome]:
    if not requests:
        return []
    try:
        outcomes = backend.score(requests, deadline)
    except Exception:  # backends never raise per item; if one breaks as a whole, its records are kept for redrive
        log.exception("sentiment backend failed for the whole batch")
        return [Failed("sentiment_error")] * len(requests)
    if len(outcomes) != len(requests):
        log.error("sentiment backend returned %s outcomes for %s texts", len(outcomes), len(requests))
        return [Failed("sentiment_error")] * len(requests)
    return outcomes


def _enrich(
    enricher: Enricher, requests: list[ScoreRequest], outcomes: list[Outcome], deadline: Deadline
) -> list[dict[str, Any] | Failed]:
    """The enrichments of the texts sentiment did not fail (a failed record is not sent for more billed calls)."""
    results: list[dict[str, Any] | Failed] = [
        outcome if isinstance(outcome, Failed) else empty_fields() for outcome in outcomes
    ]
    live = [index for index, outcome in enumerate(outcomes) if not isinstance(outcome, Failed)]
    if not live:
        return results
    try:
        enriched = enricher.enrich([requests[index] for index in live], deadline)
    except Exception:  # like a backend: if the enricher breaks as a whole, its records are kept for redrive
        log.exception("enrichments failed for the whole batch")
        enriched = [Failed("enrichment_error")] * len(live)
    if len(enriched) != len(live):
        log.error("enricher returned %s results for %s texts", len(enriched), len(live))
        enriched = [Failed("enrichment_error")] * len(live)
    for index, result in zip(live, enriched, strict=True):
        results[index] = result
    return results


def _response_size(slot: _Slot) -> int:
    data = slot.out if slot.result == "Ok" and slot.out is not None else slot.data
    return len(slot.record_id) + (len(data) if isinstance(data, str) else 0) + RECORD_OVERHEAD


def _fit_response(slots: list[_Slot]) -> None:
    """Keep the response under Lambda's limit: documents are bigger than tiny envelopes, so a full batch of
    minimal records could otherwise fail the whole invocation. The last transformed records give way first
    (returned ProcessingFailed with their smaller original data, so nothing is lost)."""
    total = sum(_response_size(slot) for slot in slots)
    for slot in reversed(slots):
        if total <= MAX_RESPONSE_BYTES:
            return
        if slot.result == "Ok" and slot.draft is not None:
            before = _response_size(slot)
            slot.result, slot.reason = "ProcessingFailed", "response_too_large"
            total -= before - _response_size(slot)


def _response_record(slot: _Slot) -> dict[str, str]:
    if slot.result == "Ok" and slot.out is not None:
        return {"recordId": slot.record_id, "result": "Ok", "data": slot.out}
    data = slot.data if isinstance(slot.data, str) else ""
    return {"recordId": slot.record_id, "result": "ProcessingFailed", "data": data}


def _log_summary(
    event: Mapping[str, Any],
    slots: list[_Slot],
    settings: Settings,
    *,
    model_name: str,
    request_id: str | None,
    stats: _Stats,
    started: float,
    metrics_stream: TextIO | None,
) -> None:
    results = Counter(slot.result or "ProcessingFailed" for slot in slots)
    ok = [slot for slot in slots if slot.result == "Ok"]
    sentiments = Counter(slot.label for slot in ok if slot.label is not None)
    skipped = Counter(slot.skipped for slot in ok if slot.skipped is not None)
    failed = Counter(slot.reason for slot in slots if slot.result != "Ok" and slot.reason is not None)
    summary = Fields(
        event="invocation",
        invocation_id=str(event.get("invocationId", "")),
        request_id=request_id,
        backend=model_name.split("-", 1)[0],
        sentiment_model=model_name,
        records=len(slots),
        results=dict(sorted(results.items())),
        sentiment=dict(sorted(sentiments.items())),
        skipped=dict(sorted(skipped.items())),
        failed=dict(sorted(failed.items())),
        passthrough=stats.passthrough,
        unique_texts=stats.unique_texts,
        api_calls=stats.api_calls,
        api_throttles=stats.api_throttles,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )
    if failed:
        log.warning("%s", Fields(event="records_failed", reasons=dict(sorted(failed.items()))))
    if settings.emit_metrics:
        # The EMF line is the invocation's summary line, written whatever LOG_LEVEL says (metrics must not vanish).
        line = emf_line(summary, settings.metrics_namespace, summary["backend"], int(time.time() * 1000))
        stream = metrics_stream or sys.stdout
        stream.write(f"{line}\n")
        stream.flush()
    else:
        log.info("%s", summary)


def _init_lambda() -> None:
    """In Lambda: JSON logs, and configuration checked during init so a bad value fails the cold start."""
    runtime = get_runtime()
    configure_lambda_logging(runtime.settings.log_level_number)


if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    _init_lambda()
