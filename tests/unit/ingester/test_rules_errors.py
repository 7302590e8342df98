"""X rules errors are typed by HTTP status, and the X source's retry-or-stop decision branches on the type."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests
import tweepy

from ingester.config import ConfigError, Settings
from ingester.rules import (
    NOT_RETRYABLE,
    BadRequest,
    Forbidden,
    Rule,
    RulesClient,
    RulesError,
    RulesRejected,
    TooManyRequests,
    Unauthorized,
)
from ingester.sources.x import XSource
from ingester.stats import Stats


def http_error(kind: type[tweepy.HTTPException], status: int, body: dict[str, Any]) -> tweepy.HTTPException:
    response = requests.Response()
    response.status_code = status
    response.reason = "Reason"
    response._content = json.dumps(body).encode()
    return kind(response)


UNAUTHORIZED = http_error(tweepy.Unauthorized, 401, {"title": "Unauthorized", "detail": "Unauthorized"})
FORBIDDEN = http_error(tweepy.Forbidden, 403, {"errors": [{"title": "client-not-enrolled", "detail": "no access"}]})
BAD_REQUEST = http_error(tweepy.BadRequest, 400, {"errors": [{"title": "Invalid Request", "message": "bad rule"}]})
# The text says "invalid" and "(401)": only the type may decide, so this is still worth retrying.
SERVER_ERROR = http_error(tweepy.TwitterServerError, 503, {"detail": "invalid upstream (401) state"})


class FakeStreamingClient:
    """``get_rules`` raises or returns the scripted outcomes in order, then repeats the last one."""

    def __init__(self, *outcomes: Exception | list[str], add_errors: list[dict[str, Any]] | None = None) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0
        self.added: list[Any] = []
        self.add_errors = add_errors

    def get_rules(self) -> Any:
        assert self.calls < 20, "retried a request that cannot succeed"  # not a RulesError: ends the retry loop
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if isinstance(outcome, Exception):
            raise outcome
        return SimpleNamespace(data=[SimpleNamespace(value=v, tag=v, id=str(i)) for i, v in enumerate(outcome)])

    def add_rules(self, rules: list[Any]) -> Any:
        self.added.extend(rules)
        return SimpleNamespace(errors=self.add_errors)

    def delete_rules(self, ids: list[str]) -> Any:
        return SimpleNamespace(errors=None)


@pytest.mark.parametrize(
    ("raised", "kind", "status"),
    [
        (UNAUTHORIZED, Unauthorized, 401),
        (FORBIDDEN, Forbidden, 403),
        (BAD_REQUEST, BadRequest, 400),
        (http_error(tweepy.TooManyRequests, 429, {"title": "Too Many Requests"}), TooManyRequests, 429),
        (SERVER_ERROR, RulesError, 503),
        (requests.ConnectionError("refused"), RulesError, None),
    ],
)
def test_tweepy_errors_become_typed_rules_errors_with_the_status(
    raised: Exception, kind: type[RulesError], status: int | None
) -> None:
    with pytest.raises(kind) as caught:
        RulesClient(FakeStreamingClient(raised)).list()
    assert caught.value.status == status
    assert (type(caught.value) in NOT_RETRYABLE) == (status in (400, 401, 403))
    if isinstance(raised, tweepy.HTTPException):
        assert list(caught.value.api_errors) == raised.api_errors


def test_rules_x_rejects_in_a_2xx_answer_are_invalid_rules() -> None:
    errors = [{"value": "a:b", "details": ["Reference to invalid field 'a'"], "title": "UnprocessableEntity"}]
    client = RulesClient(FakeStreamingClient([], add_errors=errors))
    with pytest.raises(RulesRejected) as caught:
        client.sync([Rule("a:b", "a:b")])
    assert isinstance(caught.value, BadRequest) and caught.value.api_errors == tuple(errors)


# --- the X source's decision -----------------------------------------------------------------------------------


def _settings(tmp_path: Path, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "source": "x",
        "tracked_terms": ("aws",),
        "x_bearer_token": "tok",
        "x_reconnect_backoff_scale": 0.0001,  # 5 s first wait -> 0.5 ms
        "state_dir": tmp_path,
    }
    return Settings(**{**values, **changes})


def test_unauthorized_with_a_token_from_ssm_re_reads_it_and_retries(tmp_path: Path) -> None:
    reads: list[str] = []

    def refresher() -> str:
        reads.append("tok2")
        return "tok2"

    settings = _settings(tmp_path, x_bearer_token=None, x_bearer_token_ssm_parameter="/t")
    source = XSource(settings, "tok", Stats(), token_refresher=refresher)
    client = FakeStreamingClient(UNAUTHORIZED, UNAUTHORIZED, ["aws"])
    source.sync_rules(client, threading.Event())  # type: ignore[arg-type]
    assert client.calls == 3 and reads == ["tok2", "tok2"]


@pytest.mark.parametrize("raised", [UNAUTHORIZED, FORBIDDEN, BAD_REQUEST])
def test_unauthorized_forbidden_or_invalid_without_a_refresher_is_a_config_error(
    tmp_path: Path, raised: Exception
) -> None:
    source = XSource(_settings(tmp_path), "tok", Stats())
    client = FakeStreamingClient(raised, ["aws"])
    with pytest.raises(ConfigError, match="TRACKED_TERMS rules could not be synced"):
        source.sync_rules(client, threading.Event())  # type: ignore[arg-type]
    assert client.calls == 1


def test_forbidden_stops_even_with_a_refresher(tmp_path: Path) -> None:
    source = XSource(_settings(tmp_path), "tok", Stats(), token_refresher=lambda: "tok")
    with pytest.raises(ConfigError, match="403"):
        source.sync_rules(FakeStreamingClient(FORBIDDEN), threading.Event())  # type: ignore[arg-type]


def test_rejected_rules_are_a_config_error(tmp_path: Path) -> None:
    source = XSource(_settings(tmp_path), "tok", Stats())
    errors = [{"value": "aws", "details": ["Rule has too many operators"], "title": "UnprocessableEntity"}]
    client = FakeStreamingClient([], add_errors=errors)
    with pytest.raises(ConfigError, match="rejected some rules"):
        source.sync_rules(client, threading.Event())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "raised",
    [SERVER_ERROR, http_error(tweepy.TooManyRequests, 429, {"title": "Too Many Requests"}), requests.Timeout()],
)
def test_other_errors_are_retried_whatever_their_text_says(tmp_path: Path, raised: Exception) -> None:
    source = XSource(_settings(tmp_path), "tok", Stats())
    client = FakeStreamingClient(raised, raised, ["aws"])
    source.sync_rules(client, threading.Event())  # type: ignore[arg-type]
    assert client.calls == 3
