"""Runtime configuration of the transform Lambda, read once per container from the environment.

Each setting is declared once, as a field of :class:`Settings` (:func:`setting`): name, type, default, environment
variable, parser, validator and help text. The table of lambda_src/README.md is generated from it
(``python scripts/dev/settings_docs.py --write``). The shape is the ingester's (``ingester.config.Setting``); the
Lambda is a separate zip and cannot import the ingester, so it keeps this small copy, and a test checks that both
declare the same attributes.

An explicit argument beats the environment, which beats the default.

Failure policy: a missing or malformed value raises :class:`ConfigError` naming the variable and what it expects,
so a misconfigured function fails at cold start instead of sending every record to S3.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

BackendName = Literal["embedded", "vader", "comprehend"]
BACKENDS: tuple[BackendName, ...] = ("embedded", "vader", "comprehend")
FallbackName = Literal[
    "none",  # texts the backend cannot score stay unscored (sentiment_skipped: unsupported_language)
    "comprehend",  # those Comprehend supports go to BatchDetectSentiment (billed; needs the IAM grant)
]
FALLBACKS: tuple[FallbackName, ...] = ("none", "comprehend")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
MAX_CONCURRENCY = 32
EnrichmentName = Literal["entities", "key_phrases"]
ENRICHMENTS: tuple[EnrichmentName, ...] = ("entities", "key_phrases")


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message names the variable."""


# -- parsers: (variable name, raw text from the environment) -> typed value ------------------------------------


def _strip(name: str, raw: str) -> str:
    return raw.strip()


def _lower(name: str, raw: str) -> str:
    return raw.strip().lower()


def _upper(name: str, raw: str) -> str:
    return raw.strip().upper()


def _parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer: expected 1 to {MAX_CONCURRENCY}") from None


def _parse_list(name: str, raw: str) -> tuple[str, ...]:
    """Comma-separated, case-insensitive, blanks ignored, each name once in the order given."""
    return tuple(dict.fromkeys(item.strip().lower() for item in raw.split(",") if item.strip()))


def _parse_bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in ("true", "1", "yes"):
        return True
    if value in ("false", "0", "no", ""):
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean: expected 'true' or 'false'")


# -- validators: (variable name, value of the field) -> the value; run on every construction ------------------


def _one_of(kind: str, choices: tuple[str, ...]) -> Callable[[str, Any], Any]:
    """A check that the value is one of ``choices``; the error calls the value "not <kind>"."""

    def check(name: str, value: Any) -> Any:
        if value not in choices:
            raise ConfigError(f"{name}={value!r} is not {kind}: expected one of {', '.join(choices)}")
        return value

    return check


_backend = _one_of("a known backend", BACKENDS)
_fallback = _one_of("a known fallback", FALLBACKS)
_log_level = _one_of("a log level", LOG_LEVELS)


def _enrichments(name: str, value: Any) -> Any:
    unknown = [item for item in value if item not in ENRICHMENTS]
    if unknown:
        raise ConfigError(
            f"{name}={','.join(value)!r} names unknown enrichment(s) {', '.join(unknown)}: expected a comma-separated "
            f"subset of {', '.join(ENRICHMENTS)}, or empty for none"
        )
    return tuple(value)


def _concurrency(name: str, value: Any) -> Any:
    if not 1 <= value <= MAX_CONCURRENCY:
        raise ConfigError(f"{name}={value!r} is out of range: expected an integer from 1 to {MAX_CONCURRENCY}")
    return value


def _namespace(name: str, value: Any) -> Any:
    if not value or len(value) > 255:
        raise ConfigError(f"{name} must be a non-empty string of at most 255 characters")
    return value


# -- the declaration --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """Everything about one setting but its field name, type and default (those are the dataclass field's)."""

    env: str
    """The environment variable."""
    help: str
    """One paragraph: the README table's text."""
    parse: Callable[[str, str], object] = _strip
    """Raw text -> typed value; raises ConfigError naming the variable."""
    check: Callable[[str, Any], Any] | None = None
    """Validates (and may normalise) the field's value; runs on every construction."""


_SETTING = "setting"


def setting(default: Any, **spec: Any) -> Any:
    """A :class:`Settings` field declared with its :class:`Setting` (keyword arguments)."""
    return dataclasses.field(default=default, metadata={_SETTING: Setting(**spec)})


def declaration(f: dataclasses.Field[Any]) -> Setting:
    declared = f.metadata[_SETTING]
    assert isinstance(declared, Setting)
    return declared


@dataclass(frozen=True)
class Settings:
    """Configuration of one Lambda container."""

    sentiment_backend: BackendName = setting(
        "embedded",
        env="SENTIMENT_BACKEND",
        help="`embedded` (the trained model in the zip), `vader` or `comprehend` (case-insensitive). Any other "
        "value fails the cold start with "
        "`ConfigError: SENTIMENT_BACKEND='…' is not a known backend: expected one of embedded, vader, comprehend`.",
        parse=_lower,
        check=_backend,
    )
    comprehend_concurrency: int = setting(
        4,
        env="COMPREHEND_CONCURRENCY",
        help=f"BatchDetectSentiment calls in flight at once (1–{MAX_CONCURRENCY}).",
        parse=_parse_int,
        check=_concurrency,
    )
    emit_metrics: bool = setting(
        False,
        env="EMIT_METRICS",
        help="`true` writes the invocation summary as a CloudWatch Embedded Metric Format line.",
        parse=_parse_bool,
    )
    metrics_namespace: str = setting(
        "TweetSentiment",
        env="METRICS_NAMESPACE",
        help="CloudWatch namespace for those metrics.",
        check=_namespace,
    )
    log_level: str = setting(
        "INFO",
        env="LOG_LEVEL",
        help="`DEBUG`, `INFO`, `WARNING`, `ERROR` or `CRITICAL`. Applies in Lambda; elsewhere the host application "
        "configures logging.",
        parse=_upper,
        check=_log_level,
    )
    enrichments: tuple[EnrichmentName, ...] = setting(
        (),
        env="ENRICHMENTS",
        help="Optional Amazon Comprehend enrichments, comma-separated: `entities` (BatchDetectEntities → "
        "`comprehend_entities`) and/or `key_phrases` (BatchDetectKeyPhrases → `key_phrases`). Empty (the default) "
        "runs none; each one enabled is billed like sentiment (docs/costs.md). Batched, deduplicated, retried and "
        "bounded by the invocation's deadline exactly as Comprehend sentiment; a record an enrichment fails is "
        "ProcessingFailed (`enrichment_error` / `enrichment_timeout`).",
        parse=_parse_list,
        check=_enrichments,
    )

    # Last, so positional construction (Settings("vader", 8, ...)) keeps its meaning.
    sentiment_fallback: FallbackName = setting(
        "none",
        env="SENTIMENT_FALLBACK",
        help="`none` or `comprehend` (case-insensitive). With `comprehend`, posts the embedded or `vader` backend "
        "cannot score (languages without an embedded model) go to Amazon Comprehend BatchDetectSentiment when "
        "Comprehend supports their language (ja, ko, zh, zh-TW, Hindi in Devanagari, …; billed, docs/costs.md; the "
        "function needs `comprehend:BatchDetectSentiment`). No effect with `SENTIMENT_BACKEND=comprehend`.",
        parse=_lower,
        check=_fallback,
    )

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            declared = declaration(f)
            if declared.check is not None:
                object.__setattr__(self, f.name, declared.check(declared.env, getattr(self, f.name)))

    @property
    def log_level_number(self) -> int:
        return int(logging.getLevelName(self.log_level))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from ``env`` (default ``os.environ``); keyword ``overrides`` win over the environment.

        A variable that is present counts, even empty (an empty SENTIMENT_BACKEND is an error, not the default).
        """
        source = os.environ if env is None else env
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        values: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            declared = declaration(f)
            if declared.env in source:
                values[f.name] = declared.parse(declared.env, source[declared.env])
        values.update(overrides)
        return cls(**values)
