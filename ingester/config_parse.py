"""Parsers and validators of the ingester's settings, and :class:`ConfigError`.

A parser turns raw text (from a flag, the environment or ``.env``) into a typed value; a validator checks and
normalises a field's value on every construction of ``Settings``. Both take the variable's name first, so every
message names it.

Failure policy: a missing or malformed value raises :class:`ConfigError` with the variable and what it expects;
nothing here guesses or falls back.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the setting."""


# -- parsers: (variable name, raw value from a flag, the environment or .env) -> typed value -------------------


def as_str(env_name: str, value: object) -> str:
    return str(value).strip()


def as_lower(env_name: str, value: object) -> str:
    return str(value).strip().lower()


def as_int(env_name: str, value: object) -> int:
    if isinstance(value, bool):
        raise ConfigError(f"{env_name} must be an integer; got {value!r}")
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip().replace("_", ""))
    except ValueError:
        raise ConfigError(f"{env_name} must be an integer; got {value!r}") from None


def as_float(env_name: str, value: object) -> float:
    if isinstance(value, bool):
        raise ConfigError(f"{env_name} must be a number; got {value!r}")
    try:
        result = float(value) if isinstance(value, int | float) else float(str(value).strip())
    except ValueError:
        raise ConfigError(f"{env_name} must be a number; got {value!r}") from None
    if not math.isfinite(result):
        raise ConfigError(f"{env_name} must be a finite number; got {value!r}")
    return result


def as_rate(env_name: str, value: object) -> float | None:
    if str(value).strip().lower() in {"max", "unlimited", "none"}:
        return None
    return as_float(env_name, value)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def as_bool(env_name: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigError(f"{env_name} must be true or false; got {value!r}")


def as_terms(env_name: str, value: object) -> tuple[str, ...]:
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


def as_optional_positive_int(env_name: str, value: object) -> int | None:
    number = as_int(env_name, value)
    return None if number == 0 else number


def as_path(env_name: str, value: object) -> Path:
    text = str(value).strip()
    if not text:
        raise ConfigError(f"{env_name} must be a path")
    return Path(text).expanduser()


# -- validators: (variable name, value of the field) -> the value, normalised; run on every construction ---------


def check_range(env_name: str, value: float, low: float, high: float) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{env_name} must be a finite number; got {value!r}")
    if not low <= value <= high:
        raise ConfigError(f"{env_name} must be between {low:g} and {high:g}; got {value!r}")


def one_of(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[str, Any], Any]:
    def check(env_name: str, value: Any) -> Any:
        normal = value.upper() if upper and isinstance(value, str) else value
        if normal not in choices:
            raise ConfigError(f"{env_name} must be one of {', '.join(choices)}; got {value!r}")
        return normal

    return check


def to_path(env_name: str, value: Any) -> Path:
    return Path(value)


def check_terms(env_name: str, value: Any) -> tuple[str, ...]:
    terms = tuple(value)
    for term in terms:
        if not term.strip():
            raise ConfigError(f"{env_name} contains an empty term (check for a doubled or trailing comma)")
    return terms


def check_http_url(env_name: str, value: Any) -> str:
    if not value.startswith(("https://", "http://")):
        raise ConfigError(f"{env_name} must be an http(s) URL; got {value!r}")
    return str(value.rstrip("/"))


def check_s3_uri(env_name: str, value: Any) -> str:
    text = str(value)
    bucket, _, key = text.removeprefix("s3://").partition("/")
    if not text.startswith("s3://") or not bucket or not key.strip("/"):
        raise ConfigError(f"{env_name} must be s3://bucket/key; got {value!r}")
    return text


def check_ws_urls(env_name: str, value: Any) -> tuple[str, ...]:
    urls = tuple(value)
    if not urls:
        raise ConfigError(f"{env_name} needs at least one ws:// or wss:// URL")
    for url in urls:
        if not url.startswith(("wss://", "ws://")):
            raise ConfigError(f"{env_name} must be ws:// or wss:// URLs; got {url!r}")
    return urls


def check_metrics_namespace(env_name: str, value: Any) -> str:
    if not value or value.startswith("AWS/"):
        raise ConfigError(f"{env_name} must be non-empty and must not start with 'AWS/'")
    return str(value)


def check_limit(env_name: str, value: Any) -> int:
    if value == 0:  # would read nothing and exit 0: under Restart=always, a silent do-nothing loop
        raise ConfigError(f"{env_name}=0 would read nothing; leave it empty for no limit")
    return int(value)
