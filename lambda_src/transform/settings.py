"""Runtime configuration of the transform Lambda, read once per container from the environment.

An explicit argument beats the environment, which beats the default. A missing or malformed value raises
:class:`ConfigError` naming the variable and what it expects, so a misconfigured function fails at cold start
instead of sending every record to S3.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Literal, cast

BackendName = Literal["comprehend", "vader"]
BACKENDS: tuple[BackendName, ...] = ("comprehend", "vader")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_CONCURRENCY = 32


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: expected 'true' or 'false'")


@dataclass(frozen=True)
class Settings:
    """Configuration of one Lambda container (see lambda_src/README.md for the variables)."""

    sentiment_backend: BackendName = "comprehend"
    comprehend_concurrency: int = 4
    emit_metrics: bool = False
    metrics_namespace: str = "TweetSentiment"
    log_level: str = "INFO"

    def __post_init__(self) -> None:
        if self.sentiment_backend not in BACKENDS:
            raise ConfigError(
                f"SENTIMENT_BACKEND={self.sentiment_backend!r} is not a known backend: "
                f"expected one of {', '.join(BACKENDS)}"
            )
        if not 1 <= self.comprehend_concurrency <= MAX_CONCURRENCY:
            raise ConfigError(
                f"COMPREHEND_CONCURRENCY={self.comprehend_concurrency!r} is out of range: "
                f"expected an integer from 1 to {MAX_CONCURRENCY}"
            )
        if not self.metrics_namespace or len(self.metrics_namespace) > 255:
            raise ConfigError("METRICS_NAMESPACE must be a non-empty string of at most 255 characters")
        if self.log_level not in LOG_LEVELS:
            raise ConfigError(
                f"LOG_LEVEL={self.log_level!r} is not a log level: expected one of {', '.join(LOG_LEVELS)}"
            )

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); keyword ``overrides`` win over the environment."""
        source = os.environ if env is None else env
        values: dict[str, object] = {}
        if "SENTIMENT_BACKEND" in source:
            values["sentiment_backend"] = source["SENTIMENT_BACKEND"].strip().lower()
        if "COMPREHEND_CONCURRENCY" in source:
            raw = source["COMPREHEND_CONCURRENCY"]
            try:
                values["comprehend_concurrency"] = int(raw.strip())
            except ValueError:
                raise ConfigError(
                    f"COMPREHEND_CONCURRENCY={raw!r} is not an integer: expected 1 to {MAX_CONCURRENCY}"
                ) from None
        if "EMIT_METRICS" in source:
            values["emit_metrics"] = _parse_bool("EMIT_METRICS", source["EMIT_METRICS"])
        if "METRICS_NAMESPACE" in source:
            values["metrics_namespace"] = source["METRICS_NAMESPACE"].strip()
        if "LOG_LEVEL" in source:
            values["log_level"] = source["LOG_LEVEL"].strip().upper()
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values.update(overrides)
        return cls(
            sentiment_backend=cast(BackendName, values.get("sentiment_backend", cls.sentiment_backend)),
            comprehend_concurrency=cast(int, values.get("comprehend_concurrency", cls.comprehend_concurrency)),
            emit_metrics=cast(bool, values.get("emit_metrics", cls.emit_metrics)),
            metrics_namespace=cast(str, values.get("metrics_namespace", cls.metrics_namespace)),
            log_level=cast(str, values.get("log_level", cls.log_level)),
        )
