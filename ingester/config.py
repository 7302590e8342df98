"""Settings: one frozen dataclass, built from CLI flags > environment > ``.env`` > defaults.

Every setting has an environment variable (``ENV_NAMES``); ``ingester/.env.example`` documents them all.
A missing or malformed value raises :class:`ConfigError` naming the variable and what it expects.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values

from ingester.firehose.limits import MAX_BATCH_BYTES as FIREHOSE_MAX_BATCH_BYTES
from ingester.firehose.limits import MAX_BATCH_RECORDS as FIREHOSE_MAX_BATCH_RECORDS
from ingester.firehose.limits import MAX_RECORD_BYTES as FIREHOSE_MAX_RECORD_BYTES

SourceName = Literal["x", "replay"]
SOURCES: tuple[str, ...] = ("x", "replay")
SHUTDOWN_GRACE_MAX_S = 30.0
"""Longest flush on SIGTERM: with up to 10 s for the source to let go it must fit the unit's TimeoutStopSec (45 s)."""
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

X_RULE_MAX_CHARS = 1024


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting."""


def default_state_dir(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("STATE_DIRECTORY") or "./state")


@dataclass(frozen=True)
class Settings:
    """Everything the ingester needs. Only the fields the chosen source needs lack usable defaults."""

    source: SourceName = "x"
    delivery_stream: str = ""
    aws_region: str | None = None
    tracked_terms: tuple[str, ...] = ()
    x_bearer_token: str | None = field(default=None, repr=False)
    x_bearer_token_ssm_parameter: str | None = None
    x_api_base_url: str = "https://api.twitter.com"
    x_rule_suffix: str = ""
    x_max_rules: int = 25
    x_sync_rules: bool = True
    x_reconnect_backoff_scale: float = 1.0
    stall_timeout_s: float = 20.0
    max_posts_per_day: int | None = None
    state_dir: Path = field(default_factory=default_state_dir)
    cloudwatch_metrics: bool = False
    metrics_namespace: str = "TweetSentiment/Ingester"
    metrics_interval_s: float = 60.0
    log_level: str = "INFO"
    replay_file: Path | None = None
    rate: float | None = None
    loop: bool = False
    limit: int | None = None
    linger_ms: int = 1000
    max_batch_records: int = FIREHOSE_MAX_BATCH_RECORDS
    max_batch_bytes: int = FIREHOSE_MAX_BATCH_BYTES
    queue_max_records: int = 20_000
    wal_commit_ms: int = 200
    spool_after_s: float = 5.0
    max_backoff_s: float = 30.0
    shutdown_grace_s: float = 10.0
    dedupe_window: int = 100_000
    stats_interval_s: float = 60.0
    status_interval_s: float = 5.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "state_dir", Path(self.state_dir))
        if self.replay_file is not None:
            object.__setattr__(self, "replay_file", Path(self.replay_file))
        object.__setattr__(self, "tracked_terms", tuple(self.tracked_terms))
        if self.source not in SOURCES:
            raise ConfigError(f"INGESTER_SOURCE must be one of {', '.join(SOURCES)}; got {self.source!r}")
        if self.log_level.upper() not in LOG_LEVELS:
            raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}; got {self.log_level!r}")
        object.__setattr__(self, "log_level", self.log_level.upper())
        _check_range("LINGER_MS", self.linger_ms, 0, 60_000)
        _check_range("MAX_BATCH_RECORDS", self.max_batch_records, 1, FIREHOSE_MAX_BATCH_RECORDS)
        _check_range("MAX_BATCH_BYTES", self.max_batch_bytes, FIREHOSE_MAX_RECORD_BYTES, FIREHOSE_MAX_BATCH_BYTES)
        _check_range("QUEUE_MAX_RECORDS", self.queue_max_records, 1, 10_000_000)
        _check_range("WAL_COMMIT_MS", self.wal_commit_ms, 1, 10_000)
        _check_range("SPOOL_AFTER_S", self.spool_after_s, 0, 3600)
        _check_range("MAX_BACKOFF_S", self.max_backoff_s, 0.01, 3600)
        _check_range("SHUTDOWN_GRACE_S", self.shutdown_grace_s, 0, SHUTDOWN_GRACE_MAX_S)
        _check_range("DEDUPE_WINDOW", self.dedupe_window, 0, 100_000_000)
        _check_range("STATS_INTERVAL_S", self.stats_interval_s, 0.05, 86_400)
        _check_range("STATUS_INTERVAL_S", self.status_interval_s, 0.05, 86_400)
        _check_range("METRICS_INTERVAL_S", self.metrics_interval_s, 1, 86_400)
        _check_range("STALL_TIMEOUT_S", self.stall_timeout_s, 0.1, 600)
        _check_range("X_MAX_RULES", self.x_max_rules, 1, 1000)
        _check_range("X_RECONNECT_BACKOFF_SCALE", self.x_reconnect_backoff_scale, 0.0001, 100)
        if self.rate is not None:
            _check_range("REPLAY_RATE", self.rate, 0.001, 10_000_000)
        if self.limit is not None:
            if self.limit == 0:  # would read nothing and exit 0: under Restart=always, a silent do-nothing loop
                raise ConfigError("INGESTER_LIMIT=0 would read nothing; leave it empty for no limit")
            _check_range("INGESTER_LIMIT", self.limit, 1, 10**12)
        if self.max_posts_per_day is not None:
            _check_range("MAX_POSTS_PER_DAY", self.max_posts_per_day, 1, 10**12)
        if not self.x_api_base_url.startswith(("https://", "http://")):
            raise ConfigError(f"X_API_BASE_URL must be an http(s) URL; got {self.x_api_base_url!r}")
        object.__setattr__(self, "x_api_base_url", self.x_api_base_url.rstrip("/"))
        if not self.metrics_namespace or self.metrics_namespace.startswith("AWS/"):
            raise ConfigError("METRICS_NAMESPACE must be non-empty and must not start with 'AWS/'")
        for term in self.tracked_terms:
            if not term.strip():
                raise ConfigError("TRACKED_TERMS contains an empty term (check for a doubled or trailing comma)")

    # -- validation per command -------------------------------------------------------------------
    def require_for_run(self) -> None:
        """Raise ConfigError naming the first setting ``run`` needs but lacks."""
        if not self.delivery_stream:
            raise ConfigError("DELIVERY_STREAM_NAME is required (the Firehose delivery stream to put records into)")
        self.require_for_source()

    def require_for_source(self) -> None:
        if self.source == "replay":
            if self.replay_file is None:
                raise ConfigError("REPLAY_FILE is required when INGESTER_SOURCE=replay (a JSONL file)")
            if not self.replay_file.is_file():
                raise ConfigError(f"REPLAY_FILE {str(self.replay_file)!r} does not exist or is not a file")
        else:
            self.require_for_x()

    def require_for_x(self) -> None:
        if not self.tracked_terms:
            raise ConfigError("TRACKED_TERMS is required when INGESTER_SOURCE=x (comma-separated terms to track)")
        if not self.x_bearer_token and not self.x_bearer_token_ssm_parameter:
            raise ConfigError(
                "X_BEARER_TOKEN_SSM_PARAMETER (an SSM SecureString name) or X_BEARER_TOKEN (local use only) "
                "is required when INGESTER_SOURCE=x"
            )

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, dotenv_path: Path | None = None) -> Settings:
        return cls.from_sources({}, os.environ if environ is None else environ, dotenv_path)

    @classmethod
    def from_sources(
        cls,
        cli: Mapping[str, object],
        environ: Mapping[str, str],
        dotenv_path: Path | None,
    ) -> Settings:
        """Merge CLI flags (field names) > environment > ``.env`` file > defaults, and validate.

        ``cli`` values that are None are ignored (an unset flag). ``dotenv_path`` that does not exist is
        ignored; pass None to skip ``.env`` entirely.
        """
        dotenv: dict[str, str] = {}
        if dotenv_path is not None and Path(dotenv_path).is_file():
            dotenv = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
        kwargs: dict[str, Any] = {}
        known = {f.name for f in dataclasses.fields(cls)}
        for name in cli:
            if name not in known:
                raise ConfigError(f"unknown setting {name!r}")
        for name, env_name in ENV_NAMES.items():
            cli_value = cli.get(name)
            if cli_value is not None:
                kwargs[name] = _parse(name, env_name, cli_value)
                continue
            raw = environ.get(env_name)
            if raw is None or raw == "":
                raw = dotenv.get(env_name)
            if raw is None or raw == "":
                continue
            kwargs[name] = _parse(name, env_name, raw)
        if "state_dir" not in kwargs:
            kwargs["state_dir"] = Path(environ.get("STATE_DIRECTORY") or dotenv.get("STATE_DIRECTORY") or "./state")
        return cls(**kwargs)

    def public_dict(self) -> dict[str, object]:
        """The settings as JSON-able values with secrets masked (for logs and ``check``)."""
        out: dict[str, object] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "x_bearer_token":
                value = "***" if value else None
            elif isinstance(value, Path):
                value = str(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


def _check_range(env_name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{env_name} must be a finite number; got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{env_name} must be between {low:g} and {high:g}; got {value!r}")


# field name -> environment variable name
ENV_NAMES: dict[str, str] = {
    "source": "INGESTER_SOURCE",
    "delivery_stream": "DELIVERY_STREAM_NAME",
    "aws_region": "AWS_REGION",
    "tracked_terms": "TRACKED_TERMS",
    "x_bearer_token": "X_BEARER_TOKEN",
    "x_bearer_token_ssm_parameter": "X_BEARER_TOKEN_SSM_PARAMETER",
    "x_api_base_url": "X_API_BASE_URL",
    "x_rule_suffix": "X_RULE_SUFFIX",
    "x_max_rules": "X_MAX_RULES",
    "x_sync_rules": "X_SYNC_RULES",
    "x_reconnect_backoff_scale": "X_RECONNECT_BACKOFF_SCALE",
    "stall_timeout_s": "STALL_TIMEOUT_S",
    "max_posts_per_day": "MAX_POSTS_PER_DAY",
    "state_dir": "STATE_DIR",
    "cloudwatch_metrics": "CLOUDWATCH_METRICS",
    "metrics_namespace": "METRICS_NAMESPACE",
    "metrics_interval_s": "METRICS_INTERVAL_S",
    "log_level": "LOG_LEVEL",
    "replay_file": "REPLAY_FILE",
    "rate": "REPLAY_RATE",
    "loop": "REPLAY_LOOP",
    "limit": "INGESTER_LIMIT",
    "linger_ms": "LINGER_MS",
    "max_batch_records": "MAX_BATCH_RECORDS",
    "max_batch_bytes": "MAX_BATCH_BYTES",
    "queue_max_records": "QUEUE_MAX_RECORDS",
    "wal_commit_ms": "WAL_COMMIT_MS",
    "spool_after_s": "SPOOL_AFTER_S",
    "max_backoff_s": "MAX_BACKOFF_S",
    "shutdown_grace_s": "SHUTDOWN_GRACE_S",
    "dedupe_window": "DEDUPE_WINDOW",
    "stats_interval_s": "STATS_INTERVAL_S",
    "status_interval_s": "STATUS_INTERVAL_S",
}


def _as_str(env_name: str, value: object) -> str:
    return str(value).strip()


def _as_int(env_name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{env_name} must be an integer; got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{env_name} must be an integer; got {value!r}") from None


def _as_float(env_name: str, value: object) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{env_name} must be a number; got {value!r}")
    try:
        result = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        raise ConfigError(f"{env_name} must be a number; got {value!r}") from None
    if not math.isfinite(result):
        raise ConfigError(f"{env_name} must be a finite number; got {value!r}")
    return result


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _as_bool(env_name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{env_name} must be true or false; got {value!r}")


def _as_terms(env_name: str, value: object) -> tuple[str, ...]:
    items = [str(v) for v in value] if isinstance(value, list | tuple) else str(value).split(",")
    terms = tuple(_unquote(t.strip()) for t in items)
    if any(not t for t in terms):
        raise ConfigError(f"{env_name} contains an empty term (check for a doubled or trailing comma); got {value!r}")
    return terms


def _unquote(term: str) -> str:
    """``"big data"`` → ``big data``: the rules quote phrases themselves (ingester.rules.quote_term), and systemd's
    EnvironmentFile strips such quotes while a dotenv file keeps them, so both must mean the same term."""
    if len(term) >= 2 and term[0] == term[-1] == '"' and '"' not in term[1:-1]:
        return term[1:-1].strip()
    return term


def _as_optional_positive_int(env_name: str, value: object) -> int | None:
    number = _as_int(env_name, value)
    return None if number == 0 else number


def _as_path(env_name: str, value: object) -> Path:
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{env_name} must be a path")
    return Path(text).expanduser()


_PARSERS: dict[str, Callable[[str, object], object]] = {
    "x_max_rules": _as_int,
    "max_posts_per_day": _as_optional_positive_int,
    "limit": _as_int,
    "linger_ms": _as_int,
    "max_batch_records": _as_int,
    "max_batch_bytes": _as_int,
    "queue_max_records": _as_int,
    "wal_commit_ms": _as_int,
    "dedupe_window": _as_int,
    "x_reconnect_backoff_scale": _as_float,
    "stall_timeout_s": _as_float,
    "metrics_interval_s": _as_float,
    "rate": _as_float,
    "spool_after_s": _as_float,
    "max_backoff_s": _as_float,
    "shutdown_grace_s": _as_float,
    "stats_interval_s": _as_float,
    "status_interval_s": _as_float,
    "cloudwatch_metrics": _as_bool,
    "loop": _as_bool,
    "x_sync_rules": _as_bool,
    "tracked_terms": _as_terms,
    "state_dir": _as_path,
    "replay_file": _as_path,
}


def _parse(name: str, env_name: str, value: object) -> object:
    if name == "rate" and str(value).strip().lower() in {"max", "unlimited", "none"}:
        return None
    if name == "source":
        text = _as_str(env_name, value).lower()
        if text not in SOURCES:
            raise ConfigError(f"{env_name} must be one of {', '.join(SOURCES)}; got {value!r}")
        return text
    parser = _PARSERS.get(name, _as_str)
    return parser(env_name, value)
