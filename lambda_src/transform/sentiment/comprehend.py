"""Amazon Comprehend backend: BatchDetectSentiment, batched, concurrent, throttle-proof.

The machinery (:class:`ComprehendBatcher`) runs any Comprehend ``BatchDetect*`` :class:`Operation` the same way;
the sentiment backend is one operation, the optional enrichments (``transform.enrichments``) are two more. What
follows holds for every operation, with the operation's own failure reasons in place of ``sentiment_*``.

- Texts are grouped by Comprehend language and sent in chunks of at most 25 (the API limit), each text cut to
  5,000 UTF-8 bytes on a character boundary. The handler already removed duplicate texts, so a retweet storm
  costs one document.
- Up to ``concurrency`` chunks are in flight at once (a thread pool; the client is thread-safe).
- botocore's own retries are off (``max_attempts`` 1): throttling (``ThrottlingException``) and transient
  server or connection errors are retried here with capped exponential backoff and jitter, but never past the
  invocation's deadline: a chunk still unscored when time runs short comes back ``Failed("sentiment_timeout")``
  and the handler returns those records ProcessingFailed instead of letting the function time out.
- Items reported in ``ErrorList`` are retried alone (up to ``max_item_retries`` times); an item that still
  fails becomes ``Failed("sentiment_error")``: that record alone is ProcessingFailed.
- Any other client error (AccessDenied, validation) fails the chunk's items with ``sentiment_error`` and is
  logged once per invocation by error code.
"""

from __future__ import annotations

import logging
import random
import threading
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import KW_ONLY, dataclass, field
from typing import Any, Generic, Protocol, TypeVar, cast

from transform.observability import Fields
from transform.sentiment import (
    Deadline,
    Failed,
    FailReason,
    Label,
    Outcome,
    Scored,
    ScoreRequest,
    Scores,
    Skipped,
)
from transform.sentiment.languages import to_comprehend

log = logging.getLogger(__name__)

MAX_BATCH = 25
MAX_TEXT_BYTES = 5000
LABELS: frozenset[str] = frozenset({"POSITIVE", "NEGATIVE", "NEUTRAL", "MIXED"})
THROTTLE_CODES = frozenset({"ThrottlingException", "TooManyRequestsException", "Throttling", "RequestLimitExceeded"})
TRANSIENT_CODES = frozenset({"InternalServerException", "ServiceUnavailableException", "InternalFailure"})
MAX_TRANSIENT_ATTEMPTS = 4


MAX_DOUBLINGS = 62


# A copy of ingester/backoff.py's ``backoff_delay`` (the project's one backoff formula), kept here because the Lambda
# zip holds ``transform/`` only (scripts/packaging/build_lambda.py): importing the ingester package would ship the
# ingester
# and its dependencies in every invocation's package for five lines. tests/unit/transform/test_comprehend.py checks
# that both give the same delays; change them together.
def backoff_delay(attempt: int, base_s: float, cap_s: float, unit: float) -> float:
    """The delay before retry ``attempt`` (0-based) for a uniform draw ``unit`` in [0, 1): equal jitter, uniform in
    [d/2, d] with d = min(cap, base * 2**attempt)."""
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt, MAX_DOUBLINGS))
    return ceiling / 2 + unit * ceiling / 2


class ComprehendClient(Protocol):
    """The call the sentiment backend makes (a boto3 ``comprehend`` client satisfies it)."""

    def batch_detect_sentiment(self, *, TextList: list[str], LanguageCode: str) -> Mapping[str, Any]: ...


T = TypeVar("T")


@dataclass(frozen=True)
class Operation(Generic[T]):
    """One Comprehend ``BatchDetect*`` API as the batcher runs it."""

    call: Callable[[Any, list[str], str], Mapping[str, Any]]
    """(client, texts, language code) -> the API response. The client is a boto3 ``comprehend`` client (or a test's
    stand-in with the operation's one method), hence ``Any``: each operation needs another method of it."""
    parse: Callable[[Mapping[str, Any]], T | None]
    """One ``ResultList`` item -> the result, or None when it is unusable (the item fails with ``error``)."""
    error: FailReason
    """Why an item fails after retries (or on a non-retryable error)."""
    timeout: FailReason
    """Why an item fails when the deadline comes first."""


def cut_utf8(text: str, limit: int = MAX_TEXT_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes without splitting a character."""
    encoded = text.encode("utf-8")
    if len(encoded) <= limit:
        return text
    return encoded[:limit].decode("utf-8", errors="ignore")


def default_client(concurrency: int) -> ComprehendClient:
    """A boto3 Comprehend client without botocore retries (this module retries, bounded by the deadline)."""
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "max_attempts": 1},
        connect_timeout=3,
        read_timeout=10,
        max_pool_connections=max(10, concurrency),
    )
    return cast(ComprehendClient, boto3.client("comprehend", config=config))


@dataclass
class _ChunkResult(Generic[T]):
    outcomes: dict[int, T | Failed] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)


@dataclass(eq=False)
class ComprehendBatcher:
    """Runs Comprehend operations with dedupe-friendly chunking, bounded concurrency and deadline-bounded retries.

    ``client``, when not given, is made by ``client_factory(concurrency)`` on first use (once per container)."""

    client: ComprehendClient | None = None
    _: KW_ONLY
    concurrency: int = 4
    client_factory: Callable[[int], ComprehendClient] = default_client
    max_item_retries: int = 2
    base_backoff: float = 0.1
    max_backoff: float = 2.0
    rng: Callable[[], float] = random.random

    def __post_init__(self) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        self._client_error: type[ClientError] = ClientError
        self._botocore_error: type[BotoCoreError] = BotoCoreError
        self._calls = 0
        self._throttles = 0  # calls refused with a THROTTLE_CODES error (Comprehend publishes no such metric)
        self._calls_lock = threading.Lock()

    @property
    def api_calls(self) -> int:
        return self._calls

    @property
    def api_throttles(self) -> int:
        return self._throttles

    def _client_now(self) -> ComprehendClient:
        if self.client is None:
            self.client = self.client_factory(self.concurrency)
        return self.client

    def run(
        self, operation: Operation[T], requests: Sequence[ScoreRequest], deadline: Deadline
    ) -> list[T | Skipped | Failed]:
        """One result per request, in order: ``operation``'s result, Skipped for an unsupported language, or Failed."""
        outcomes: list[T | Skipped | Failed | None] = [None] * len(requests)
        by_language: dict[str, list[tuple[int, str]]] = {}
        for index, req in enumerate(requests):
            code = to_comprehend(req.lang)
            if code is None:
                outcomes[index] = Skipped("unsupported_language")
            else:
                by_language.setdefault(code, []).append((index, cut_utf8(req.text)))
        chunks = [
            (code, items[start : start + MAX_BATCH])
            for code, items in by_language.items()
            for start in range(0, len(items), MAX_BATCH)
        ]
        if chunks:
            self._run_chunks(operation, chunks, deadline, outcomes)
        return [o if o is not None else Failed(operation.error) for o in outcomes]

    def _run_chunks(
        self,
        operation: Operation[T],
        chunks: list[tuple[str, list[tuple[int, str]]]],
        deadline: Deadline,
        outcomes: list[T | Skipped | Failed | None],
    ) -> None:
        client = self._client_now()
        stop = threading.Event()
        errors: Counter[str] = Counter()
        pool = ThreadPoolExecutor(max_workers=min(self.concurrency, len(chunks)), thread_name_prefix="comprehend")
        try:
            futures: dict[Future[_ChunkResult[T]], list[tuple[int, str]]] = {
                pool.submit(self._run_chunk, operation, client, code, items, deadline=deadline, stop=stop): items
                for code, items in chunks
            }
            done, _ = wait(futures, timeout=deadline.remaining())
        finally:
            stop.set()  # chunks still running give up at their next check; calls in flight end by read timeout
            pool.shutdown(wait=False, cancel_futures=True)
        for future, items in futures.items():
            if future in done and future.exception() is None:
                result = future.result()
                errors.update(result.errors)
                for index, outcome in result.outcomes.items():
                    outcomes[index] = outcome
            else:
                if future in done:
                    log.error("Comprehend chunk raised unexpectedly", exc_info=future.exception())
                    errors["unexpected_exception"] += 1
                for index, _ in items:
                    if outcomes[index] is None:
                        outcomes[index] = Failed(operation.timeout if future not in done else operation.error)
        if errors:
            log.warning("%s", Fields(event="comprehend_errors", codes=dict(sorted(errors.items()))))

    def _backoff(self, attempt: int) -> float:
        """The delay after ``attempt`` consecutive failures (1 for the first)."""
        return backoff_delay(attempt - 1, self.base_backoff, self.max_backoff, self.rng())

    def _call(
        self, operation: Operation[T], client: ComprehendClient, code: str, texts: list[str]
    ) -> Mapping[str, Any]:
        with self._calls_lock:
            self._calls += 1
        return operation.call(client, texts, code)

    def _run_chunk(
        self,
        operation: Operation[T],
        client: ComprehendClient,
        code: str,
        items: list[tuple[int, str]],
        *,
        deadline: Deadline,
        stop: threading.Event,
    ) -> _ChunkResult[T]:
        result: _ChunkResult[T] = _ChunkResult()
        error, timeout = Failed(operation.error), Failed(operation.timeout)
        pending = list(items)
        item_attempts: Counter[int] = Counter()
        failures = 0  # consecutive throttles / transient errors; reset on success
        while pending:
            if stop.is_set() or deadline.expired():
                result.outcomes.update((index, timeout) for index, _ in pending)
                break
            try:
                response = self._call(operation, client, code, [text for _, text in pending])
            except self._client_error as exc:
                error_code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
                result.errors[error_code] += 1
                if error_code in THROTTLE_CODES:
                    with self._calls_lock:
                        self._throttles += 1
                if error_code in THROTTLE_CODES or error_code in TRANSIENT_CODES:
                    failures += 1
                    if error_code in TRANSIENT_CODES and failures >= MAX_TRANSIENT_ATTEMPTS:
                        result.outcomes.update((index, error) for index, _ in pending)
                        break
                    if not self._sleep(self._backoff(failures), deadline, stop):
                        result.outcomes.update((index, timeout) for index, _ in pending)
                        break
                    continue
                result.outcomes.update((index, error) for index, _ in pending)
                break
            except self._botocore_error as exc:  # connection reset, read timeout, ...
                result.errors[type(exc).__name__] += 1
                failures += 1
                if failures >= MAX_TRANSIENT_ATTEMPTS or not self._sleep(self._backoff(failures), deadline, stop):
                    result.outcomes.update((index, error) for index, _ in pending)
                    break
                continue
            failures = 0
            pending = self._collect(operation, response, pending, item_attempts, result)
            if pending and not self._sleep(self.base_backoff, deadline, stop):
                result.outcomes.update((index, timeout) for index, _ in pending)
                break
        return result

    def _collect(
        self,
        operation: Operation[T],
        response: Mapping[str, Any],
        pending: list[tuple[int, str]],
        item_attempts: Counter[int],
        result: _ChunkResult[T],
    ) -> list[tuple[int, str]]:
        """Record the response's results; return the ErrorList items that deserve another try."""
        answered: set[int] = set()
        for item in response.get("ResultList", []):
            position = item["Index"]
            index = pending[position][0]
            answered.add(position)
            parsed = operation.parse(item)
            result.outcomes[index] = Failed(operation.error) if parsed is None else parsed
        retry: list[tuple[int, str]] = []
        for item in response.get("ErrorList", []):
            position = item["Index"]
            index = pending[position][0]
            answered.add(position)
            result.errors[f"item:{item.get('ErrorCode', 'Unknown')}"] += 1
            item_attempts[index] += 1
            if item_attempts[index] > self.max_item_retries:
                result.outcomes[index] = Failed(operation.error)
            else:
                retry.append(pending[position])
        for position, (index, _) in enumerate(pending):
            if position not in answered:  # neither result nor error: never seen, but never silently lost either
                result.errors["item:missing_from_response"] += 1
                result.outcomes[index] = Failed(operation.error)
        return retry

    @staticmethod
    def _sleep(seconds: float, deadline: Deadline, stop: threading.Event) -> bool:
        """Wait ``seconds`` unless that would pass the deadline; False means give up now."""
        if seconds >= deadline.remaining():
            return False
        return not stop.wait(seconds)


def _scored(item: Mapping[str, Any]) -> Scored | None:
    label = item.get("Sentiment")
    raw = item.get("SentimentScore") or {}
    if label not in LABELS:
        return None

    def unit(key: str) -> float:
        value: object = raw.get(key, 0.0)
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0
        return min(1.0, max(0.0, number))

    scores = Scores(positive=unit("Positive"), negative=unit("Negative"), neutral=unit("Neutral"), mixed=unit("Mixed"))
    return Scored(cast(Label, label), scores)


SENTIMENT: Operation[Scored] = Operation(
    call=lambda client, texts, code: client.batch_detect_sentiment(TextList=texts, LanguageCode=code),
    parse=_scored,
    error="sentiment_error",
    timeout="sentiment_timeout",
)


class ComprehendBackend(ComprehendBatcher):
    """The sentiment backend: BatchDetectSentiment through the batcher."""

    model_name = "comprehend"

    def score(self, requests: Sequence[ScoreRequest], deadline: Deadline) -> list[Outcome]:
        results: list[Scored | Skipped | Failed] = self.run(SENTIMENT, requests, deadline)
        return list(results)
