"""One log format across the deployables: the ingester's and the transform's JsonFormatter are two copies
(the Lambda zip holds transform/ only, the ingester bundle ingester/ only) that must give the same keys."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

import pytest
from transform import observability
from transform.observability import Fields

from ingester import logsetup

FORMATTERS = {"ingester": logsetup.JsonFormatter(), "transform": observability.JsonFormatter()}
ISO_MS_Z = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z")


def make_record(msg: str, args: Any = None, exc: bool = False, **extra: Any) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError("boom")
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("transform.handler", logging.WARNING, __file__, 7, msg, args, exc_info)
    record.created = 1_764_524_319.123_9  # 2025-11-30T17:38:39.123Z
    record.msecs = 123.9
    for key, value in extra.items():
        setattr(record, key, value)
    return record


CASES = {
    "plain message": lambda: make_record("sent %s records", (3,)),
    "extra fields": lambda: make_record("stats", stats={"sent": 3}, stream="s"),
    "structured fields": lambda: make_record("%s", (Fields(event="records_failed", reasons={"bad_base64": 1}),)),
    "exception": lambda: make_record("unexpected error while %s", ("decoding",), exc=True),
}


@pytest.mark.parametrize("case", CASES)
def test_both_copies_write_the_same_keys_and_values(case: str) -> None:
    lines = {name: json.loads(formatter.format(CASES[case]())) for name, formatter in FORMATTERS.items()}
    assert lines["ingester"] == lines["transform"]
    line = lines["ingester"]
    assert list(line)[:4] == ["timestamp", "level", "logger", "message"]
    assert line["timestamp"] == "2025-11-30T17:38:39.123Z" and ISO_MS_Z.fullmatch(line["timestamp"])
    assert line["level"] == "WARNING" and line["logger"] == "transform.handler"
    assert isinstance(line["message"], str)


def test_extra_and_structured_fields_are_top_level_and_never_json_in_a_string() -> None:
    for formatter in FORMATTERS.values():
        plain = json.loads(formatter.format(CASES["plain message"]()))
        assert set(plain) == {"timestamp", "level", "logger", "message"} and plain["message"] == "sent 3 records"
        extra = json.loads(formatter.format(CASES["extra fields"]()))
        assert extra["message"] == "stats" and extra["stats"] == {"sent": 3} and extra["stream"] == "s"
        fields = json.loads(formatter.format(CASES["structured fields"]()))
        assert fields["message"] == "records_failed" and fields["reasons"] == {"bad_base64": 1}
        error = json.loads(formatter.format(CASES["exception"]()))
        assert error["message"] == "unexpected error while decoding"
        assert error["exception"].startswith("Traceback") and "ValueError: boom" in error["exception"]


def test_a_field_cannot_replace_the_four_fixed_keys() -> None:
    record = make_record("%s", (Fields(event="e", level="nope", logger="nope", timestamp="nope"),))
    for formatter in FORMATTERS.values():
        line = json.loads(formatter.format(record))
        assert (line["level"], line["logger"], line["message"]) == ("WARNING", "transform.handler", "e")
        assert ISO_MS_Z.fullmatch(line["timestamp"])


def test_secrets_are_redacted_inside_structured_fields_too() -> None:
    logsetup.register_secret("AAAA-structured-token")
    record = make_record("%s", (Fields(event="auth", header="Bearer AAAA-structured-token"),))
    logsetup.RedactingFilter().filter(record)
    line = json.loads(logsetup.JsonFormatter().format(record))
    assert line["header"] == "Bearer ***" and line["message"] == "auth"
    assert "AAAA-structured-token" not in record.getMessage()
