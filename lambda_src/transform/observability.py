"""Structured logs and CloudWatch Embedded Metric Format (EMF) for the transform Lambda.

Inside Lambda (``AWS_LAMBDA_FUNCTION_NAME`` set) the ``transform`` logger writes one JSON object per line to
stdout and does not propagate to the runtime's text handler. Elsewhere (the local demo, tests) the host
application configures logging; the summary line is still a JSON string.

Log lines use the keys of AWS Lambda's JSON log format, the same keys the ingester writes
(``ingester/logsetup.py`` holds the other copy; the Lambda zip holds ``transform/`` only, and a test checks that
both give the same keys): ``timestamp`` (ISO 8601 UTC, milliseconds, ``Z``), ``level``, ``logger``,
``message``, then extra fields at top level (a ``Fields`` payload, or ``extra=``), then ``exception`` (the
traceback) when there is one. A ``Fields`` record's message is its ``event``. The EMF summary line is written
straight to stdout by the handler, not through this formatter: its shape is CloudWatch's, not this one.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Mapping
from typing import Any, TextIO

PACKAGE_LOGGER = "transform"


class Fields(dict[str, Any]):
    """A structured log payload: ``log.info("%s", Fields(...))`` renders as compact JSON, lazily."""

    def __str__(self) -> str:
        return json.dumps(self, separators=(",", ":"), sort_keys=False, default=str)


_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def structured_fields(record: logging.LogRecord) -> Mapping[str, Any] | None:
    """The mapping of ``log.info("%s", Fields(...))`` (logging unpacks a lone Mapping argument), else None."""
    args: object = record.args
    if isinstance(args, tuple) and len(args) == 1:
        args = args[0]
    if record.msg == "%s" and isinstance(args, Mapping):
        return args
    return None


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, extra fields, exception: the keys of Lambda's JSON log format."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
        }
        fields = structured_fields(record)
        out["message"] = str(fields.get("event", "")) if fields is not None else record.getMessage()
        extra = dict(fields) if fields is not None else {}
        extra.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_"))
        for key, value in extra.items():
            out.setdefault(key, value)  # the four keys above always win
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, separators=(",", ":"), default=str)


def configure_lambda_logging(level: int, stream: TextIO | None = None) -> logging.Logger:
    """JSON lines to stdout for the ``transform`` logger tree (idempotent)."""
    logger = logging.getLogger(PACKAGE_LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "_transform_json", False) for h in logger.handlers):
        handler = logging.StreamHandler(stream or sys.stdout)
        handler.setFormatter(JsonFormatter())
        handler._transform_json = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False
    return logger


def emf_line(summary: Mapping[str, Any], namespace: str, backend: str, timestamp_ms: int) -> Fields:
    """The invocation summary as one EMF object: CloudWatch turns its top-level numbers into metrics."""
    results: Mapping[str, int] = summary.get("results", {})
    sentiments: Mapping[str, int] = summary.get("sentiment", {})
    metrics: dict[str, tuple[float, str]] = {
        "Records": (summary.get("records", 0), "Count"),
        "RecordsOk": (results.get("Ok", 0), "Count"),
        "RecordsProcessingFailed": (results.get("ProcessingFailed", 0), "Count"),
        "Positive": (sentiments.get("POSITIVE", 0), "Count"),
        "Negative": (sentiments.get("NEGATIVE", 0), "Count"),
        "Neutral": (sentiments.get("NEUTRAL", 0), "Count"),
        "Mixed": (sentiments.get("MIXED", 0), "Count"),
        "Skipped": (sum(summary.get("skipped", {}).values()), "Count"),
        "ApiCalls": (summary.get("api_calls", 0), "Count"),
        "ApiThrottles": (summary.get("api_throttles", 0), "Count"),
        "DurationMs": (summary.get("duration_ms", 0), "Milliseconds"),
    }
    line = Fields(summary)
    line["Backend"] = backend
    line["_aws"] = {
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [
            {
                "Namespace": namespace,
                "Dimensions": [["Backend"]],
                "Metrics": [{"Name": name, "Unit": unit} for name, (_, unit) in metrics.items()],
            }
        ],
    }
    for name, (value, _) in metrics.items():
        line[name] = value
    return line
