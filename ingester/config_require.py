"""What each command needs beyond valid fields: settings that depend on one another or on the source.

:class:`ingester.config.Settings` checks every field on its own when it is built; these checks run when a command
that needs them starts (``run`` and ``check``: :func:`require_for_run`; ``rules``: :func:`require_for_x`).

Failure policy: each raises :class:`ConfigError` naming the first setting that is missing or inconsistent.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingester.config_parse import ConfigError

if TYPE_CHECKING:
    from ingester.config import Settings


def require_for_run(settings: Settings) -> None:
    """Raise ConfigError naming the first setting ``run`` needs but lacks."""
    if settings.tombstone_days < settings.retention_days:
        raise ConfigError(
            f"TOMBSTONE_DAYS ({settings.tombstone_days}) must be at least RETENTION_DAYS ({settings.retention_days}): "
            "a deletion must be enforced as long as any copy of the post can come back"
        )
    if not settings.delivery_stream:
        raise ConfigError("DELIVERY_STREAM_NAME is required (the Firehose delivery stream to put records into)")
    require_for_source(settings)


def require_for_source(settings: Settings) -> None:
    """Raise ConfigError naming the first setting the configured source needs but lacks."""
    if settings.source == "bluesky":
        if not settings.tracked_terms:
            raise ConfigError(
                "TRACKED_TERMS is required when INGESTER_SOURCE=bluesky (comma-separated terms; posts are "
                "filtered locally)"
            )
    elif settings.source == "replay":
        if settings.replay_file is None:
            raise ConfigError("REPLAY_FILE is required when INGESTER_SOURCE=replay (a JSONL file)")
        if not settings.replay_file.is_file():
            raise ConfigError(f"REPLAY_FILE {str(settings.replay_file)!r} does not exist or is not a file")
    else:
        require_for_x(settings)


def require_for_x(settings: Settings) -> None:
    """Raise ConfigError naming the first setting the X source (and ``rules``) needs but lacks."""
    if not settings.tracked_terms:
        raise ConfigError("TRACKED_TERMS is required when INGESTER_SOURCE=x (comma-separated terms to track)")
    if not settings.x_bearer_token and not settings.x_bearer_token_ssm_parameter:
        raise ConfigError(
            "X_BEARER_TOKEN_SSM_PARAMETER (an SSM SecureString name) or X_BEARER_TOKEN (local use only) "
            "is required when INGESTER_SOURCE=x"
        )
