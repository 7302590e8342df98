"""X source: the API v2 filtered stream through tweepy (see ingester.xclient for the connect loop).

At start it syncs the stream rules to TRACKED_TERMS (X_SYNC_RULES), then streams with the fields and
the author expansion of docs/design.md §2.1. Each line becomes an envelope with ``source = "x"``; a line that is
not a usable tweet is logged and counted as dropped with its reason, never fatal. Error payloads inside
the stream (operational disconnects and the like) are logged with their title and detail.

Bearer token from SSM: Terraform does not create the parameter, so on a fresh box it may not exist yet. The source
then logs once which parameter is missing and how to set it, re-reads it every TOKEN_POLL_S (stop honoured), and
connects as soon as it exists. A token X rejects (401) is re-read before each retry. Any other failure to read it
(access denied, a String instead of a SecureString) stops the daemon as a configuration error.

Rule sync failures (a 401 while the token is still the placeholder, or a transient error) are retried with the shared
capped exponential backoff and jitter (``ingester.backoff``) from the policy's HTTP-error start (5 s) to its cap
(320 s), 401 waits at most UNAUTHORIZED_RETRY_MAX_S; the stream's reconnects follow X's documented schedule instead
(``ingester.xclient``).

MAX_POSTS_PER_DAY and MAX_POSTS_PER_MONTH: X bills per post read, and its pay-per-use access stops at 2 million
post reads a month per app (https://docs.x.com/x-api/usage/introduction). When the count of posts read today
(UTC, persisted in STATE_DIR/x-daily-count.json so restarts do not reset it) or this month (UTC calendar month,
STATE_DIR/x-monthly-count.json) reaches its cap, the stream disconnects until the next day, or month, starts.

X's own count: every X_USAGE_INTERVAL_S (default 15 minutes; X allows 50 calls per 15 minutes) the source reads
GET /2/usage/tweets (https://docs.x.com/x-api/x-api-v2/usage/tweets: ``project_usage``, ``project_cap``,
``cap_reset_day``) into ``x_usage_posts``, ``x_usage_cap`` and ``x_usage_percent`` (the XUsagePercent metric, its
alarm at 80 %). The percentage is of X's ``project_cap`` (2,000,000 for pay-per-use when X reports none): X counts
every app of the project, so it is not compared with MAX_POSTS_PER_MONTH, which caps this ingester's own reads. A
failed read is logged once per failure spell and tried again at the next interval, never fatal.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingester.backoff import Backoff
from ingester.config import ConfigError, Settings
from ingester.envelope import (
    EXPANSIONS,
    TWEET_FIELDS,
    USER_FIELDS,
    MalformedMessage,
    from_stream_message,
    loads,
    utc_now_iso,
)
from ingester.rules import NOT_RETRYABLE, RulesClient, RulesError, Unauthorized, desired_rules
from ingester.secrets import SET_TOKEN_COMMAND, SecretNotSetError, SecretUnavailableError
from ingester.sources import Sink
from ingester.stats import Stats
from ingester.storage.files import atomic_write
from ingester.xclient import ReconnectPolicy, StreamHandler, XStreamingClient

log = logging.getLogger(__name__)

DAILY_COUNT_FILE = "x-daily-count.json"
MONTHLY_COUNT_FILE = "x-monthly-count.json"
USAGE_PATH = "/2/usage/tweets"
#: X's pay-per-use access: at most this many post reads a month per app (https://docs.x.com/x-api/usage/introduction).
PAY_PER_USE_MONTHLY_CAP = 2_000_000
#: X usage above this share of the monthly cap is logged as a warning at each read (the alarm fires there too).
USAGE_WARN_PERCENT = 80.0


def _today() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d")


def _this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m")


def seconds_until_next_utc_month(now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (
        first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
    )
    return max(0.0, (following - now).total_seconds())


def seconds_until_next_utc_day(now: datetime | None = None) -> float:
    now = now or datetime.now(UTC)
    tomorrow = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(0.0, (tomorrow - now).total_seconds())


class DailyCounter:
    """Posts read in the current period (``today`` names it: the UTC day, or the month for the monthly cap),
    persisted at most once a second and on close."""

    def __init__(self, path: Path, cap: int | None, today: Callable[[], str] = _today) -> None:
        self.path = path
        self.cap = cap
        self._today = today
        self.day = today()
        self.count = 0
        self._last_save = 0.0
        self._lock = threading.Lock()
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(saved, dict) and saved.get("date") == self.day and isinstance(saved.get("count"), int):
                self.count = saved["count"]
        except (FileNotFoundError, ValueError):
            pass

    def _roll(self) -> None:
        today = self._today()
        if today != self.day:
            self.day = today
            self.count = 0

    def add(self) -> None:
        self._roll()
        self.count += 1
        if time.monotonic() - self._last_save >= 1.0:
            self.save()

    def reached(self) -> bool:
        self._roll()
        return self.cap is not None and self.count >= self.cap

    def save(self) -> None:
        """Persist (atomically); a failure is logged, never raised: the cap is best-effort across restarts."""
        with self._lock:
            self._last_save = time.monotonic()
            try:
                atomic_write(self.path, json.dumps({"date": self.day, "count": self.count}).encode("utf-8"))
            except OSError as exc:
                log.warning("could not save %s: %s", self.path.name, exc.strerror)


class _Handler(StreamHandler):
    def __init__(self, source: XSource, sink: Sink) -> None:
        self.source = source
        self.sink = sink

    def on_line(self, line: bytes) -> None:
        self.source.handle_line(line, self.sink)

    def on_connected(self) -> None:
        self.source.on_connected()

    def on_disconnected(self, reason: str) -> None:
        self.source.on_disconnected(reason)

    def on_unauthorized(self) -> None:
        self.source.refresh_token()

    def on_oversized(self, limit: int) -> None:
        log.warning("a stream line over %d bytes was skipped", limit)
        self.sink.drop("line_too_long")


UNAUTHORIZED_RETRY_MAX_S = 60.0
"""Longest wait between token re-reads while X answers 401 to the rule sync (token from SSM only)."""

TOKEN_POLL_S = 30.0
"""Wait between reads of a token parameter that does not exist yet (scaled by X_RECONNECT_BACKOFF_SCALE). Half
a minute, so a token put on a running box is streaming within a minute."""


class XSource:
    name = "x"

    def __init__(
        self,
        settings: Settings,
        bearer_token: str | None,
        stats: Stats,
        *,
        token_refresher: Callable[[], str] | None = None,
        policy: ReconnectPolicy | None = None,
    ) -> None:
        if bearer_token is None and token_refresher is None:
            raise ValueError("XSource needs a bearer token or a token_refresher to wait for one")
        self.settings = settings
        self.stats = stats
        self._token = bearer_token
        self._token_refresher = token_refresher
        self.policy = policy or ReconnectPolicy().scaled(settings.x_reconnect_backoff_scale)
        self.daily = DailyCounter(settings.state_dir / DAILY_COUNT_FILE, settings.max_posts_per_day)
        self.monthly = DailyCounter(
            settings.state_dir / MONTHLY_COUNT_FILE, settings.max_posts_per_month, today=_this_month
        )
        self._usage_failing = False
        self._usage_polling = False
        self._client: XStreamingClient | None = None
        self._connections = 0
        self._stop = threading.Event()
        self._paused = False
        self._rules_synced = False

    # -- stream callbacks ---------------------------------------------------------------------------
    def on_connected(self) -> None:
        self._connections += 1
        if self._connections > 1:
            self.stats.incr("reconnects")
        self.stats.set("stream_connected", True)
        self.stats.set("connected_since", utc_now_iso())
        log.info("connected to the X filtered stream (connection %d)", self._connections)

    def on_disconnected(self, reason: str) -> None:
        self.stats.set("stream_connected", False)
        self.stats.error(f"stream disconnected: {reason}")

    def refresh_token(self) -> None:
        if self._token_refresher is None:
            return
        try:
            token = self._token_refresher()
        except (ConfigError, SecretUnavailableError) as exc:
            log.error("could not re-read the bearer token: %s", exc)
            return
        self._token = token
        if self._client is not None:
            self._client.bearer_token = token

    def handle_line(self, line: bytes, sink: Sink) -> None:
        """One stream message; never raises for bad input."""
        try:
            message = loads(line)
        except MalformedMessage as exc:
            log.warning("malformed line from the X stream (%d bytes): %s; skipped", len(line), exc.reason)
            sink.drop(exc.reason)
            return
        except (ValueError, UnicodeDecodeError, RecursionError):
            log.warning("malformed line from the X stream (%d bytes): not JSON; skipped", len(line))
            sink.drop("invalid_json")
            return
        if isinstance(message, dict) and "data" not in message and "errors" in message:
            self._log_stream_errors(message["errors"])
            sink.drop("stream_error_payload")
            return
        try:
            envelope = from_stream_message(message, source="x")
        except MalformedMessage as exc:
            log.warning("unusable message from the X stream: %s; skipped", exc.reason)
            sink.drop(exc.reason)
            return
        if isinstance(message, dict) and message.get("errors"):
            log.debug("tweet id=%s came with partial errors: %s", envelope["tweet"]["id"], message["errors"])
        sink.accept(envelope)
        self.daily.add()
        self.monthly.add()
        if (self.daily.reached() or self.monthly.reached()) and self._client is not None:
            self._pause_for_cap()
        if not sink.wants_more and self._client is not None:
            self._client.disconnect()

    @staticmethod
    def _log_stream_errors(errors: Any) -> None:
        for err in errors if isinstance(errors, list) else [errors]:
            if not isinstance(err, dict):
                log.warning("X stream error payload: %s", str(err)[:200])
                continue
            title = err.get("title") or err.get("type") or "error"
            detail = err.get("detail") or err.get("message") or ""
            kind = err.get("disconnect_type") or ""
            if "disconnect" in str(title).lower() or kind:
                log.warning(
                    "X announced a disconnect: %s %s: %s (the ingester reconnects with backoff)", title, kind, detail
                )
            else:
                log.warning("X stream error payload: %s: %s", title, detail)

    def _cap_wait(self) -> tuple[str, float]:
        """Which cap is reached and the seconds until it resets (the monthly one first: it is the longer wait)."""
        if self.monthly.reached():
            return f"monthly cap MAX_POSTS_PER_MONTH={self.monthly.cap}", seconds_until_next_utc_month()
        return f"daily cap MAX_POSTS_PER_DAY={self.daily.cap}", seconds_until_next_utc_day()

    def _pause_for_cap(self) -> None:
        self._paused = True
        self.daily.save()
        self.monthly.save()
        which, wait = self._cap_wait()
        until = (datetime.now(UTC) + timedelta(seconds=wait)).isoformat(timespec="seconds").replace("+00:00", "Z")
        self.stats.set("paused_until", until)
        log.warning(
            "%s reached (%d posts read today, %d this month): disconnecting until %s",
            which,
            self.daily.count,
            self.monthly.count,
            until,
        )
        assert self._client is not None
        self._client.disconnect()

    # -- main loop ----------------------------------------------------------------------------------
    def sync_rules(self, client: XStreamingClient, stop: threading.Event) -> None:
        desired = desired_rules(
            self.settings.tracked_terms, suffix=self.settings.x_rule_suffix, max_rules=self.settings.x_max_rules
        )
        backoff = Backoff(self.policy.http_start_s, self.policy.http_max_s)
        while not stop.is_set():
            try:
                RulesClient(client).sync(desired)
                return
            except RulesError as exc:
                text = str(exc)
                if isinstance(exc, Unauthorized) and self._token_refresher is not None:
                    # The token lives in SSM: right after a deploy it is still Terraform's placeholder. Keep
                    # trying (re-reading it each time) so setting the parameter is enough, no restart needed.
                    wait = min(backoff.next(), UNAUTHORIZED_RETRY_MAX_S * self.settings.x_reconnect_backoff_scale)
                    log.error(
                        "X rejected the bearer token (401): set the SSM parameter %s; re-reading it in %.0f s",
                        self.settings.x_bearer_token_ssm_parameter,
                        wait,
                    )
                    if stop.wait(wait):
                        return
                    self.refresh_token()
                    continue
                if isinstance(exc, NOT_RETRYABLE):
                    raise ConfigError(f"TRACKED_TERMS rules could not be synced: {text}") from None
                wait = backoff.next()
                log.error("syncing X rules failed: %s; retrying in %.0f s", text, wait)
                stop.wait(wait)

    def wait_for_token(self, stop: threading.Event) -> str | None:
        """Re-read a token parameter that does not exist yet until it does; None when ``stop`` is set first.

        Logs the missing parameter once; a transient SSM failure is logged and retried; any other ConfigError
        (access denied, wrong type, empty) propagates.
        """
        if self._token is not None:
            return self._token
        assert self._token_refresher is not None
        interval = TOKEN_POLL_S * self.settings.x_reconnect_backoff_scale
        log.warning(
            "X bearer token parameter %s does not exist yet: set it with `%s`; checking again every %.0f s",
            self.settings.x_bearer_token_ssm_parameter,
            SET_TOKEN_COMMAND,
            interval,
        )
        self.stats.set("waiting_for_token", True)
        while not stop.wait(interval):
            try:
                token = self._token_refresher()
            except SecretNotSetError:
                continue
            except SecretUnavailableError as exc:
                log.warning("%s; retrying in %.0f s", exc, interval)
                continue
            self._token = token
            self.stats.set("waiting_for_token", False)
            log.info("X bearer token parameter %s is set; connecting", self.settings.x_bearer_token_ssm_parameter)
            return token
        return None

    # -- X's usage endpoint --------------------------------------------------------------------------
    def read_usage(self) -> dict[str, int] | None:
        """One read of GET /2/usage/tweets into the stats; None (logged once per failure spell) when it fails."""
        import requests

        url = self.settings.x_api_base_url + USAGE_PATH
        try:
            resp = requests.get(url, headers={"Authorization": f"Bearer {self._token}"}, timeout=10)
            data = resp.json().get("data") if resp.status_code == 200 else None
            usage, cap = int(data["project_usage"]), int(data["project_cap"])  # type: ignore[index]
        except (requests.RequestException, ValueError, KeyError, TypeError) as exc:
            if not self._usage_failing:
                log.warning("could not read X's usage (%s %s): %s", "GET", USAGE_PATH, type(exc).__name__)
            self._usage_failing = True
            return None
        self._usage_failing = False
        limit = cap if cap > 0 else PAY_PER_USE_MONTHLY_CAP  # X's count is of all the project's apps: its own cap
        percent = round(100.0 * usage / limit, 2)
        self.stats.set("x_usage_posts", usage)
        self.stats.set("x_usage_cap", limit)
        self.stats.set("x_usage_percent", percent)
        if percent >= USAGE_WARN_PERCENT:
            log.warning("X usage at %.1f %% of the monthly cap (%d of %d posts read)", percent, usage, limit)
        return {"usage": usage, "cap": cap}

    def _poll_usage(self, stop: threading.Event) -> None:
        interval = self.settings.x_usage_interval_s
        while not stop.is_set():
            self.read_usage()
            if stop.wait(interval):
                return

    def run(self, sink: Sink, stop: threading.Event) -> None:
        self._stop = stop
        token = self.wait_for_token(stop)
        if token is None:
            return
        while not stop.is_set() and sink.wants_more:
            if self.daily.reached() or self.monthly.reached():
                which, wait = self._cap_wait()
                log.info("%s reached; stream resumes in %.0f s (00:00 UTC)", which, wait)
                if stop.wait(wait + 1):
                    return
                self.stats.set("paused_until", None)
            self._paused = False
            client = XStreamingClient(
                self._token or token,
                base_url=self.settings.x_api_base_url,
                handler=_Handler(self, sink),
                stall_timeout_s=self.settings.stall_timeout_s,
                policy=self.policy,
                stop=stop,
            )
            self._client = client
            if self.settings.x_sync_rules and not self._rules_synced:
                self.sync_rules(client, stop)
                if stop.is_set():
                    return
                self._rules_synced = True
            if self.settings.x_usage_interval_s > 0 and not self._usage_polling:  # once the token works
                self._usage_polling = True
                threading.Thread(target=self._poll_usage, args=(stop,), name="x-usage", daemon=True).start()
            client.filter(
                tweet_fields=list(TWEET_FIELDS),
                expansions=list(EXPANSIONS),
                user_fields=list(USER_FIELDS),
            )
            self.stats.set("stream_connected", False)
            self.daily.save()
            self.monthly.save()
            if not self._paused:
                return

    def drained(self) -> None:
        """Nothing to forget: the stream's resume state is needed whether or not the records are delivered."""

    def close(self) -> None:
        client = self._client
        if client is not None:
            client.disconnect()
        self.daily.save()
        self.monthly.save()
