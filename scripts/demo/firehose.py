"""A local stand-in for an Amazon Data Firehose Direct PUT stream with a Lambda processor.

``LocalFirehose`` accepts ``put_record_batch`` calls exactly as boto3's Firehose client does (same keyword
arguments, same limits, same response shape), buffers the records, and when the buffer reaches its size or
age hint invokes the transform handler with a Firehose-shaped event (invocationId, deliveryStreamArn, region,
records with recordId, approximateArrivalTimestamp and base64 data). It then checks the response contract
(every recordId exactly once, a known result, base64 data for Ok) the way Firehose does: a broken contract
or a handler exception fails the whole batch, after the configured retries. The outcome of every record goes
to a :class:`DeliveryTarget`: Ok documents to be stored, ProcessingFailed records with the error Firehose
would write under ``processing-failed/``. Limits and the failed-record line come from ``ingester.firehose``, the
same module the real ingester and ``make redrive`` use.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from botocore.exceptions import ClientError

from ingester.firehose.failed_records import Failure, Line, processing_failed_line
from ingester.firehose.limits import (
    MAX_BATCH_BYTES,
    MAX_BATCH_RECORDS,
    MAX_LAMBDA_PAYLOAD_BYTES,
    MAX_RECORD_BYTES,
    PROCESSOR_BUFFER_MAX_BYTES,
    PROCESSOR_BUFFER_MIN_BYTES,
)

log = logging.getLogger(__name__)

VALID_RESULTS = frozenset({"Ok", "Dropped", "ProcessingFailed"})

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class BufferedRecord:
    record_id: str
    data: bytes
    arrival_ms: int


@dataclass(frozen=True)
class FailedRecord:
    """One line of a ``processing-failed/`` object, as Firehose writes it."""

    record: BufferedRecord
    error_code: str
    error_message: str
    attempts: int
    ended_ms: int

    def as_json(self, lambda_arn: str) -> Line:
        failure = Failure(self.error_code, self.error_message, self.attempts, self.record.arrival_ms, self.ended_ms)
        return processing_failed_line(self.record.data, failure, lambda_arn=lambda_arn)


@dataclass
class BatchOutcome:
    """What one processor invocation produced, record by record."""

    ok: list[tuple[BufferedRecord, bytes]] = field(default_factory=list)
    failed: list[FailedRecord] = field(default_factory=list)
    dropped: int = 0
    attempts: int = 1
    duration_s: float = 0.0


class DeliveryTarget(Protocol):
    """Where a processed batch goes (the SQLite store and failed folder in the demo)."""

    def deliver(self, outcome: BatchOutcome) -> None: ...


class ContractError(Exception):
    """The processor's response broke the Firehose transformation contract (fails the whole batch)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "PutRecordBatch")


def check_response(records: Sequence[BufferedRecord], response: Any) -> list[tuple[BufferedRecord, str, bytes]]:
    """Validate a processor response against its input; return (record, result, decoded data) in input order.

    Raises :class:`ContractError` with the code Firehose reports when the response is unusable.
    """
    if not isinstance(response, Mapping) or not isinstance(response.get("records"), list):
        raise ContractError("Lambda.JsonProcessingException", "response is not an object with a 'records' list")
    by_id = {r.record_id: r for r in records}
    seen: dict[str, tuple[str, bytes]] = {}
    for item in response["records"]:
        if not isinstance(item, Mapping) or not isinstance(item.get("recordId"), str):
            raise ContractError("Lambda.JsonProcessingException", f"response record without a recordId: {item!r:.200}")
        record_id = item["recordId"]
        if record_id not in by_id:
            raise ContractError("Lambda.MissingRecordId", f"response has recordId {record_id!r} that was not sent")
        if record_id in seen:
            raise ContractError("Lambda.DuplicatedRecordId", f"recordId {record_id!r} appears more than once")
        result = item.get("result")
        if result not in VALID_RESULTS:
            raise ContractError(
                "Lambda.JsonProcessingException",
                f"recordId {record_id!r}: result {result!r} is not Ok/Dropped/ProcessingFailed",
            )
        raw = item.get("data", "")
        if result == "Ok" and not isinstance(raw, str):
            raise ContractError("Lambda.JsonProcessingException", f"recordId {record_id!r}: Ok without base64 data")
        try:
            data = base64.b64decode(raw, validate=True) if isinstance(raw, str) else b""
        except (binascii.Error, ValueError):
            raise ContractError(
                "Lambda.JsonProcessingException", f"recordId {record_id!r}: data is not valid base64"
            ) from None
        seen[record_id] = (result, data)
    missing = [r.record_id for r in records if r.record_id not in seen]
    if missing:
        raise ContractError(
            "Lambda.MissingRecordId", f"{len(missing)} recordId(s) missing from the response, first {missing[0]!r}"
        )
    return [(r, *seen[r.record_id]) for r in records]


class LocalFirehose:
    """A boto3-compatible ``put_record_batch`` that buffers and runs the processor like Firehose does.

    Thread-safe: the ingester's writer thread calls ``put_record_batch`` while a background thread flushes on
    age. A size-triggered flush runs in the caller's thread, which gives the caller back-pressure when the
    processor is slower than the input (Firehose throttles in that case).
    """

    def __init__(
        self,
        handler: Handler,
        target: DeliveryTarget,
        *,
        stream_name: str = "demo",
        region: str = "us-east-1",
        account_id: str = "123456789012",
        buffer_bytes: int = 1024 * 1024,
        buffer_interval_s: float = 1.0,
        processor_retries: int = 1,
        context: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not PROCESSOR_BUFFER_MIN_BYTES <= buffer_bytes <= PROCESSOR_BUFFER_MAX_BYTES:
            raise ValueError(f"buffer_bytes must be within the Lambda processor's 0.2-3 MB range; got {buffer_bytes}")
        if not 0 < buffer_interval_s <= 900:
            raise ValueError(f"buffer_interval_s must be within (0, 900] seconds; got {buffer_interval_s}")
        if not 0 <= processor_retries <= 300:
            raise ValueError(f"processor_retries must be within 0-300; got {processor_retries}")
        self.handler = handler
        self.target = target
        self.stream_name = stream_name
        self.region = region
        self.stream_arn = f"arn:aws:firehose:{region}:{account_id}:deliverystream/{stream_name}"
        self.lambda_arn = f"arn:aws:lambda:{region}:{account_id}:function:{stream_name}-transform:$LATEST"
        self.buffer_bytes = buffer_bytes
        self.buffer_interval_s = buffer_interval_s
        self.processor_retries = processor_retries
        self.context = context
        self._clock = clock
        self._lock = threading.Lock()  # guards the buffer and counters
        self._deliver_lock = threading.Lock()  # one processor invocation at a time, in arrival order
        self._buffer: list[BufferedRecord] = []
        self._buffered_bytes = 0
        self._oldest: float | None = None
        self._seq = 0
        self._stop = threading.Event()
        self._closed = False  # set under _lock by close(): later puts are refused, never buffered and lost
        self._thread: threading.Thread | None = None
        self.put_calls = 0
        self.records_in = 0
        self.invocations = 0
        self.contract_errors = 0

    # -- boto3-compatible API ----------------------------------------------------------------------------

    def put_record_batch(self, *, DeliveryStreamName: str, Records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
        if DeliveryStreamName != self.stream_name:
            raise ClientError(
                {"Error": {"Code": "ResourceNotFoundException", "Message": f"stream {DeliveryStreamName} not found"}},
                "PutRecordBatch",
            )
        if not 1 <= len(Records) <= MAX_BATCH_RECORDS:
            raise _client_error("ValidationException", f"Records must hold 1-{MAX_BATCH_RECORDS} entries")
        payloads: list[bytes] = []
        for index, entry in enumerate(Records):
            data = entry.get("Data") if isinstance(entry, Mapping) else None
            if isinstance(data, str):
                data = data.encode("utf-8")
            if not isinstance(data, bytes | bytearray):
                raise _client_error("ValidationException", f"Records[{index}].Data must be bytes")
            if len(data) > MAX_RECORD_BYTES:
                raise _client_error(
                    "ValidationException", f"Records[{index}].Data is {len(data)} bytes; the limit is 1,000 KiB"
                )
            payloads.append(bytes(data))
        if sum(len(p) for p in payloads) > MAX_BATCH_BYTES:
            raise _client_error("ValidationException", "the batch exceeds 4 MiB")
        arrival_ms = int(time.time() * 1000)
        responses = []
        with self._lock:
            if self._closed:
                # close() has delivered the buffer for the last time: a record buffered now would never be
                # delivered although the caller was told it was. Refuse it the way Firehose refuses a call it
                # cannot take, so the ingester's writer keeps it (retries, then its spool).
                raise _client_error("ServiceUnavailableException", f"stream {self.stream_name} is closed")
            self.put_calls += 1
            self.records_in += len(payloads)
            for data in payloads:
                self._seq += 1
                record_id = f"49{self._seq:054d}"
                self._buffer.append(BufferedRecord(record_id, data, arrival_ms))
                self._buffered_bytes += len(data)
                responses.append({"RecordId": record_id})
            if self._oldest is None:
                self._oldest = self._clock()
            full = self._buffered_bytes >= self.buffer_bytes
        if full:
            self._flush(only_if_full=True)
        return {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": responses}

    def put_record(self, *, DeliveryStreamName: str, Record: Mapping[str, Any]) -> dict[str, Any]:
        response = self.put_record_batch(DeliveryStreamName=DeliveryStreamName, Records=[Record])
        return {"RecordId": response["RequestResponses"][0]["RecordId"], "Encrypted": False}

    # -- buffering ---------------------------------------------------------------------------------------

    def start(self) -> LocalFirehose:
        """Start the background thread that flushes the buffer when it reaches its age hint."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run_timer, name="local-firehose", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Refuse further puts, stop the timer and deliver everything still buffered."""
        with self._lock:
            self._closed = True
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.flush()

    def __enter__(self) -> LocalFirehose:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def pending(self) -> int:
        with self._lock:
            return len(self._buffer)

    def flush(self) -> None:
        """Deliver every buffered record now, whatever its age."""
        self._flush(only_if_full=False)

    def flush_if_due(self) -> bool:
        """Deliver the buffer if its oldest record has waited the interval hint; True if it did."""
        with self._lock:
            due = self._oldest is not None and self._clock() - self._oldest >= self.buffer_interval_s
        if due:
            self._flush(only_if_full=False)
        return due

    def _run_timer(self) -> None:
        tick = min(0.05, self.buffer_interval_s / 4)
        while not self._stop.wait(tick):
            try:
                self.flush_if_due()
            except Exception:
                # The target failed (disk full, database locked): the batch went back into the buffer (see
                # _flush) and is retried once it is due again, as Firehose keeps retrying its destination.
                log.exception("local firehose: delivery failed; the batch stays buffered and is retried")

    def _take_batch(self, only_if_full: bool) -> list[BufferedRecord]:
        """Take up to buffer_bytes of records from the head of the buffer (at least one)."""
        with self._lock:
            if not self._buffer or (only_if_full and self._buffered_bytes < self.buffer_bytes):
                return []
            size = 0
            count = 0
            for record in self._buffer:
                if count and size + len(record.data) > self.buffer_bytes:
                    break
                size += len(record.data)
                count += 1
            batch = self._buffer[:count]
            del self._buffer[:count]
            self._buffered_bytes -= size
            self._oldest = self._clock() if self._buffer else None
            return batch

    def _flush(self, *, only_if_full: bool) -> None:
        with self._deliver_lock:
            while True:
                batch = self._take_batch(only_if_full)
                if not batch:
                    return
                try:
                    self.target.deliver(self.invoke(batch))
                except BaseException:
                    self._requeue(batch)
                    raise

    def _requeue(self, batch: list[BufferedRecord]) -> None:
        """Put a batch whose delivery failed back at the head of the buffer, due again one interval from now.

        The caller was told these records were accepted, so they must not vanish; delivering them again is
        safe because the store upserts on tweet_id.
        """
        with self._lock:
            self._buffer[:0] = batch
            self._buffered_bytes += sum(len(record.data) for record in batch)
            self._oldest = self._clock()

    # -- processor invocation ----------------------------------------------------------------------------

    def build_event(self, batch: Sequence[BufferedRecord]) -> dict[str, Any]:
        return {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": self.stream_arn,
            "region": self.region,
            "records": [
                {
                    "recordId": r.record_id,
                    "approximateArrivalTimestamp": r.arrival_ms,
                    "data": base64.b64encode(r.data).decode("ascii"),
                }
                for r in batch
            ],
        }

    def invoke(self, batch: Sequence[BufferedRecord]) -> BatchOutcome:
        """Run the processor on one batch, with Firehose's retry and contract rules."""
        started = time.perf_counter()
        event = self.build_event(batch)
        attempts = 0
        error_code = error_message = ""
        while attempts <= self.processor_retries:
            attempts += 1
            with self._lock:
                self.invocations += 1
            try:
                response = self.handler(event, self.context)
                encoded = json.dumps(response, separators=(",", ":"))
                if len(encoded) > MAX_LAMBDA_PAYLOAD_BYTES:
                    raise ContractError("Lambda.FunctionError", f"response is {len(encoded)} bytes; Lambda allows 6 MB")
                checked = check_response(batch, response)
            except ContractError as exc:
                with self._lock:
                    self.contract_errors += 1
                error_code, error_message = exc.code, str(exc)
                log.error("processor response rejected (attempt %s): %s: %s", attempts, exc.code, exc)
                continue
            except Exception as exc:  # the handler raised: Firehose sees a function error and retries
                error_code, error_message = "Lambda.FunctionError", f"{type(exc).__name__}: {exc}"
                log.exception("processor invocation failed (attempt %s)", attempts)
                continue
            outcome = BatchOutcome(attempts=attempts)
            now_ms = int(time.time() * 1000)
            for record, result, data in checked:
                if result == "Ok":
                    outcome.ok.append((record, data))
                elif result == "Dropped":
                    outcome.dropped += 1
                else:
                    outcome.failed.append(
                        FailedRecord(record, "Lambda.ProcessingFailed", describe_failure(data), attempts, now_ms)
                    )
            outcome.duration_s = time.perf_counter() - started
            return outcome
        now_ms = int(time.time() * 1000)
        failed = [FailedRecord(r, error_code, error_message, attempts, now_ms) for r in batch]
        return BatchOutcome(failed=failed, attempts=attempts, duration_s=time.perf_counter() - started)


def describe_failure(data: bytes) -> str:
    """The error message for a ProcessingFailed record: the processor's own reason when its data carries one."""
    try:
        decoded = json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return "the processor marked the record ProcessingFailed"
    if isinstance(decoded, Mapping):
        for key in ("errorMessage", "error_message", "error", "reason", "message"):
            value = decoded.get(key)
            if isinstance(value, str) and value:
                code = decoded.get("errorCode") or decoded.get("error_code")
                return f"{code}: {value}" if isinstance(code, str) and code else value
    return "the processor marked the record ProcessingFailed"
