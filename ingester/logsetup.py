"""Logging for the entry point only: JSON lines to stdout (journald and CloudWatch keep them structured).

One JSON object per line with the keys of AWS Lambda's JSON log format, the same keys the transform Lambda
writes (``lambda_src/transform/observability.py`` holds the other copy; the two deployables share no code, and
a test checks that both give the same keys): ``timestamp`` (ISO 8601 UTC, milliseconds, ``Z``), ``level``,
``logger``, ``message``, then the ``extra=`` fields at top level, then ``exception`` (the traceback) when
there is one. A structured record, ``log.info("%s", {"event": "x", ...})``, has its mapping merged at top
level and its ``event`` as the message, so no line holds JSON inside a string.

A redaction filter replaces registered secrets (the bearer token) wherever they would appear, and the
HTTP libraries are kept at INFO or above because their DEBUG output includes request headers.
"""

from __future__ import annotations

import copy
import json
import logging
import sys
from collections.abc import Mapping, MutableMapping
from datetime import UTC, datetime
from typing import Any

_SECRETS: set[str] = set()
_QUIET = ("botocore", "boto3", "urllib3", "s3transfer", "requests_oauthlib", "oauthlib", "tweepy")
_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


def register_secret(value: str | None) -> None:
    """Never let this value reach a log line."""
    if value and len(value) >= 4:
        _SECRETS.add(value)


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def structured_fields(record: logging.LogRecord) -> Mapping[str, Any] | None:
    """The mapping of ``log.info("%s", mapping)`` (logging unpacks a lone Mapping argument), else None."""
    args: object = record.args
    if isinstance(args, tuple) and len(args) == 1:
        args = args[0]
    if record.msg == "%s" and isinstance(args, Mapping):
        return args
    return None


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            fields = structured_fields(record)
            cleaned: Any = None
            if fields is not None:  # keep it a mapping (merged at top level), with the secrets replaced
                try:
                    cleaned = json.loads(redact(json.dumps(fields, default=str)))
                except ValueError:  # a secret that spans JSON syntax: fall back to the flat message
                    fields = None
            if fields is not None:
                copied = copy.copy(fields)  # the caller's object is left alone; a dict subclass keeps its __str__
                if isinstance(copied, MutableMapping):
                    copied.clear()
                    copied.update(cleaned)
                    cleaned = copied
                record.args = cleaned
            else:
                record.msg = redact(record.getMessage())
                record.args = None
        return True


class JsonFormatter(logging.Formatter):
    """timestamp, level, logger, message, extra fields, exception: the keys of Lambda's JSON log format."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
        }
        fields = structured_fields(record)
        payload["message"] = str(fields.get("event", "")) if fields is not None else record.getMessage()
        extra = dict(fields) if fields is not None else {}
        extra.update((k, v) for k, v in record.__dict__.items() if k not in _RESERVED and not k.startswith("_"))
        for key, value in extra.items():
            payload.setdefault(key, value)  # the four keys above always win
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(payload, ensure_ascii=False, default=str))


def configure(level: str = "INFO") -> None:
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RedactingFilter())
    root.addHandler(handler)
    root.setLevel(level)
    for name in _QUIET:
        logging.getLogger(name).setLevel(max(logging.INFO, logging.getLevelName(level)))
    for name in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(name).setLevel(logging.WARNING)
