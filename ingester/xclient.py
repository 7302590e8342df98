"""tweepy's StreamingClient (X API v2), with the reconnect loop the ingester needs.

What tweepy 4.17's ``BaseStream._connect`` does and why this module replaces that one method:

* It reconnects with X's documented backoff (network errors: linear +250 ms up to 16 s; HTTP errors:
  exponential from 5 s up to 320 s; 420/429 exponential from 60 s), but the constants are local
  variables, so tests cannot shorten them; here they are a :class:`ReconnectPolicy`.
* Its read timeout is 21 s (the stall detector). Here it is STALL_TIMEOUT_S (default 20 s, docs/design.md §2.4).
* ``on_data`` does ``json.loads`` on every line: one malformed line raises into ``on_exception`` and
  **ends the stream for good**. Here lines go to a handler that never raises for bad input.
* It reads the stream with requests' ``iter_lines(chunk_size=512)``, which joins and re-splits everything pending
  at each 512-byte read: quadratic in a line's length (a 4 MB line took 12.8 s and held back the posts after it).
  Here :class:`LineSplitter` takes whatever the socket has (up to READ_BYTES a read) and scans only new bytes; a
  line over MAX_LINE_BYTES is skipped whole and reported (``on_oversized``), never buffered.
* It logs the HTTP error body but not what to do; here 401/403/429 get a line saying what to do.
* Its host is hard-coded to https://api.twitter.com; X_API_BASE_URL rebases every request (rules API
  and stream) through :class:`RebasedSession`, so tests can point it at a local fake server.

The rules API calls (``get_rules``, ``add_rules``, ``delete_rules``) are tweepy's, unchanged.
"""

from __future__ import annotations

import logging
import ssl
import threading
from dataclasses import dataclass, replace
from typing import Any

import requests
import tweepy
import urllib3

log = logging.getLogger(__name__)

X_DEFAULT_BASE_URL = "https://api.twitter.com"
#: Bytes asked of the socket per read: whatever has arrived, up to this much (``read1``), so a line is handed on
#: as soon as it ends.
READ_BYTES = 64 * 1024
#: A stream line longer than this is skipped whole (the source counts it dropped, ``line_too_long``). X's largest
#: messages (a post with every expansion) are tens of KB; a Firehose record is at most 1,000 KiB.
MAX_LINE_BYTES = 4 * 1024 * 1024


class LineSplitter:
    """Splits a byte stream into its lines (``\\n`` or ``\\r\\n``, stripped), scanning each byte once.

    ``feed`` returns the lines completed by the new bytes. A line longer than ``max_bytes`` is not kept: its bytes
    are dropped as they come until its end, and ``oversized`` counts it once.
    """

    def __init__(self, max_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_bytes = max_bytes
        self.oversized = 0
        self._pending = bytearray()
        self._skipping = False

    def feed(self, data: bytes) -> list[bytes]:
        lines: list[bytes] = []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            if self._skipping:
                self._skipping = False
            elif len(self._pending) + end - start > self.max_bytes:
                self.oversized += 1
            else:
                self._pending += data[start:end]
                if self._pending.endswith(b"\r"):
                    del self._pending[-1]
                lines.append(bytes(self._pending))
            self._pending.clear()
            start = end + 1
        if not self._skipping and start < len(data):
            if len(self._pending) + len(data) - start > self.max_bytes:
                self.oversized += 1
                self._skipping = True
                self._pending.clear()
            else:
                self._pending += data[start:]
        return lines


class RebasedSession(requests.Session):
    """A requests session that sends tweepy's https://api.twitter.com URLs to another base URL."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if isinstance(url, str) and url.startswith(X_DEFAULT_BASE_URL):
            url = self.base_url + url[len(X_DEFAULT_BASE_URL) :]
        return super().request(method, url, *args, **kwargs)


@dataclass(frozen=True)
class ReconnectPolicy:
    """X's reconnect policy (docs/design.md §2.4). ``scaled`` shortens it for tests only."""

    network_step_s: float = 0.25
    network_max_s: float = 16.0
    http_start_s: float = 5.0
    http_max_s: float = 320.0
    rate_limit_start_s: float = 60.0

    def scaled(self, factor: float) -> ReconnectPolicy:
        return replace(
            self,
            network_step_s=self.network_step_s * factor,
            network_max_s=self.network_max_s * factor,
            http_start_s=self.http_start_s * factor,
            http_max_s=self.http_max_s * factor,
            rate_limit_start_s=self.rate_limit_start_s * factor,
        )


class StreamHandler:
    """Callbacks of :class:`XStreamingClient`; the X source implements them."""

    def on_line(self, line: bytes) -> None:
        """One non-empty line of the stream (a JSON message)."""

    def on_connected(self) -> None:
        """HTTP 200: the stream is open."""

    def on_disconnected(self, reason: str) -> None:
        """The connection ended (reason: closed, stalled, network, http_<status>)."""

    def on_unauthorized(self) -> None:
        """HTTP 401: the token may have been rotated; refresh it before the next attempt."""

    def on_oversized(self, limit: int) -> None:
        """A line longer than ``limit`` bytes was skipped (never buffered)."""


_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    ssl.SSLError,
    urllib3.exceptions.ReadTimeoutError,
    urllib3.exceptions.ProtocolError,
    OSError,
)


class _ReconnectBackoff:
    """X's schedule: network errors linear (+step up to max); HTTP errors exponential; 429 from 60 s."""

    def __init__(self, policy: ReconnectPolicy) -> None:
        self.policy = policy
        self.network_wait = 0.0
        self.http_wait = 0.0

    def reset(self) -> None:
        self.network_wait = 0.0
        self.http_wait = 0.0

    def network(self) -> float:
        self.network_wait = min(self.policy.network_max_s, self.network_wait + self.policy.network_step_s)
        return self.network_wait

    def http(self, status: int) -> float:
        if status in (420, 429):
            self.http_wait = max(self.policy.rate_limit_start_s, self.http_wait * 2)
        else:
            self.http_wait = self.policy.http_start_s if self.http_wait == 0 else self.http_wait * 2
        self.http_wait = min(self.http_wait, self.policy.http_max_s)
        return self.http_wait


def _is_stall(exc: BaseException) -> bool:
    if isinstance(exc, requests.ReadTimeout | urllib3.exceptions.ReadTimeoutError):
        return True
    inner = exc.args[0] if exc.args else None
    return isinstance(inner, urllib3.exceptions.ReadTimeoutError)


def _error_summary(resp: requests.Response) -> str:
    """Title/detail of an X error body, without echoing anything long."""
    try:
        body = resp.json()
    except ValueError:
        return resp.text[:200].replace("\n", " ")
    if isinstance(body, dict):
        parts = [str(body.get(k)) for k in ("title", "detail", "reason") if body.get(k)]
        if not parts and isinstance(body.get("errors"), list) and body["errors"]:
            first = body["errors"][0]
            if isinstance(first, dict):
                parts = [str(first.get(k)) for k in ("title", "message", "detail") if first.get(k)]
        return "; ".join(parts)[:300]
    return str(body)[:200]


class XStreamingClient(tweepy.StreamingClient):  # type: ignore[misc]
    """StreamingClient whose connect loop follows X's policy with a configurable stall timeout."""

    def __init__(
        self,
        bearer_token: str,
        *,
        base_url: str = X_DEFAULT_BASE_URL,
        handler: StreamHandler | None = None,
        stall_timeout_s: float = 20.0,
        policy: ReconnectPolicy | None = None,
        stop: threading.Event | None = None,
        max_line_bytes: int = MAX_LINE_BYTES,
    ) -> None:
        super().__init__(bearer_token, wait_on_rate_limit=False)
        self.session = RebasedSession(base_url)
        self.base_url = base_url.rstrip("/")
        self.handler = handler or StreamHandler()
        self.stall_timeout_s = stall_timeout_s
        self.max_line_bytes = max_line_bytes
        self.policy = policy or ReconnectPolicy()
        self.stop_event = stop or threading.Event()
        self._response: requests.Response | None = None
        self._response_lock = threading.Lock()

    def disconnect(self) -> None:
        """Stop (from any thread): no reconnect, and the open response is closed to unblock the read."""
        self.running = False
        with self._response_lock:
            response = self._response
        if response is not None:
            try:
                response.close()
            except Exception:  # closing a socket another thread reads may raise anything
                log.debug("closing the stream response raised", exc_info=True)

    def _sleep(self, seconds: float) -> None:
        self.stop_event.wait(seconds)

    def _stopping(self) -> bool:
        return not self.running or self.stop_event.is_set()

    def _connect(self, method: str, endpoint: str, params: dict[str, Any] | None = None, **kwargs: Any) -> None:
        """Connect, read, reconnect with X's backoff until ``disconnect()`` or the stop event."""
        url = f"{self.base_url}/2/tweets/{endpoint}/stream"
        self.session.headers["User-Agent"] = self.user_agent
        self.running = True
        backoff = _ReconnectBackoff(self.policy)
        try:
            while not self._stopping():
                self.session.headers["Authorization"] = f"Bearer {self.bearer_token}"
                try:
                    outcome = self._read_once(method, url, params, backoff)
                except _NETWORK_ERRORS as exc:
                    if self._stopping():
                        break
                    wait = self._after_network_error(exc, backoff)
                except Exception:
                    if self._stopping():  # disconnect() closed the response under the reading thread
                        break
                    raise
                else:
                    if self._stopping():
                        break
                    wait = self._after_response(outcome, backoff)
                self._sleep(wait)
        finally:
            self.session.close()
            self.running = False

    def _after_network_error(self, exc: BaseException, backoff: _ReconnectBackoff) -> float:
        wait = backoff.network()
        if _is_stall(exc):
            log.warning(
                "no data or keep-alive from X for %g s: stalled connection; reconnecting in %.2f s",
                self.stall_timeout_s,
                wait,
            )
            self.handler.on_disconnected("stalled")
        else:
            log.warning("stream connection error (%s); reconnecting in %.2f s", type(exc).__name__, wait)
            self.handler.on_disconnected("network")
        return wait

    def _after_response(self, outcome: requests.Response | None, backoff: _ReconnectBackoff) -> float:
        if outcome is None:
            wait = backoff.network()
            log.warning("X closed the stream (operational disconnect); reconnecting in %.2f s", wait)
            self.handler.on_disconnected("closed")
            return wait
        status = outcome.status_code
        wait = backoff.http(status)
        self._log_http_error(outcome, wait)
        self.handler.on_disconnected(f"http_{status}")
        if status == 401:
            self.handler.on_unauthorized()
        return wait

    def _read_once(
        self, method: str, url: str, params: dict[str, Any] | None, backoff: _ReconnectBackoff
    ) -> requests.Response | None:
        """One connection: None after a 200 stream ended, or the error response (already read)."""
        try:
            with self.session.request(
                method, url, params=params, timeout=(10, self.stall_timeout_s), stream=True
            ) as resp:
                with self._response_lock:
                    self._response = resp
                if resp.status_code != 200:
                    _ = resp.content  # read the (small) error body before the connection closes
                    return resp
                backoff.reset()
                self.handler.on_connected()
                splitter = LineSplitter(self.max_line_bytes)
                while not self._stopping():
                    data = resp.raw.read1(READ_BYTES, decode_content=True)
                    if not data:
                        break
                    skipped = splitter.oversized
                    for line in splitter.feed(data):
                        if line:
                            self.handler.on_line(line)
                    for _ in range(splitter.oversized - skipped):
                        self.handler.on_oversized(splitter.max_bytes)
                return None
        finally:
            with self._response_lock:
                self._response = None

    def _log_http_error(self, resp: requests.Response, wait: float) -> None:
        status = resp.status_code
        summary = _error_summary(resp)
        if status == 401:
            log.error(
                "X rejected the bearer token (401 Unauthorized: %s). Put a valid app bearer token in the SSM "
                "parameter (X_BEARER_TOKEN_SSM_PARAMETER); it is re-read before the retry in %.0f s",
                summary,
                wait,
            )
        elif status == 403:
            log.error(
                "X refused the filtered stream (403 Forbidden: %s). The app's project needs filtered-stream "
                "access (X API Basic or Pro) and the app must be attached to that project; retrying in %.0f s",
                summary,
                wait,
            )
        elif status in (420, 429):
            log.error(
                "X says too many requests (429: %s). Another process may hold this app's single stream "
                "connection (stop it), or the connection limit was hit; retrying in %.0f s",
                summary,
                wait,
            )
        elif status >= 500:
            log.warning("X server error %d (%s); retrying in %.0f s", status, summary, wait)
        else:
            log.error("X stream request failed with HTTP %d (%s); retrying in %.0f s", status, summary, wait)
