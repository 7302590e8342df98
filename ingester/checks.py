"""``python -m ingester check``: validate the configuration and reach X and Firehose, one line each."""

from __future__ import annotations

import os
import tempfile
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ingester.aws import make_boto3_client
from ingester.config import ConfigError, Settings
from ingester.config_require import require_for_run

CheckResult = tuple[str, bool, str]


def _client_error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code')}: {error.get('Message', '')}"[:300]
    return type(exc).__name__


def check_state_dir(settings: Settings) -> CheckResult:
    """STATE_DIR is writable, or can be created by the daemon. ``check`` creates nothing: an existing folder is
    tested with a temporary file that is removed again; a missing one is judged by its nearest existing parent."""
    state_dir = settings.state_dir
    if not state_dir.exists():
        parent = next((p for p in state_dir.absolute().parents if p.exists()), None)
        if parent is not None and parent.is_dir() and os.access(parent, os.W_OK | os.X_OK):
            return ("state_dir", True, f"{state_dir} does not exist yet; the ingester will create it in {parent}")
        return ("state_dir", False, f"STATE_DIR {state_dir} does not exist and {parent} is not writable")
    try:
        with tempfile.NamedTemporaryFile(dir=state_dir, prefix=".check-") as handle:
            handle.write(b"ok")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        return ("state_dir", False, f"STATE_DIR {state_dir} is not writable: {exc.strerror}")
    return ("state_dir", True, f"{state_dir} is writable")


def check_firehose(settings: Settings, client: Any = None) -> CheckResult:
    name = settings.delivery_stream
    try:
        client = client or make_boto3_client("firehose", settings)
        description = client.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    except ConfigError as exc:
        return ("firehose", False, str(exc))
    except (ClientError, BotoCoreError) as exc:
        return ("firehose", False, f"DELIVERY_STREAM_NAME {name!r}: {_client_error(exc)}")
    status = description.get("DeliveryStreamStatus")
    if status != "ACTIVE":
        return ("firehose", False, f"delivery stream {name!r} is {status}, not ACTIVE")
    if description.get("DeliveryStreamType") not in (None, "DirectPut"):
        return ("firehose", False, f"delivery stream {name!r} is not a Direct PUT stream")
    return ("firehose", True, f"delivery stream {name!r} is ACTIVE")


def check_x(settings: Settings) -> list[CheckResult]:
    from ingester.rules import RulesError, desired_rules, diff_rules, make_rules_client
    from ingester.secrets import SecretUnavailableError, resolve_bearer_token

    results: list[CheckResult] = []
    try:
        desired = desired_rules(settings.tracked_terms, suffix=settings.x_rule_suffix, max_rules=settings.x_max_rules)
        results.append(("x_rules_config", True, f"{len(desired)} rule(s) from {len(settings.tracked_terms)} term(s)"))
        token = resolve_bearer_token(settings)
        origin = "X_BEARER_TOKEN" if settings.x_bearer_token else f"SSM {settings.x_bearer_token_ssm_parameter}"
        results.append(("x_bearer_token", True, f"read from {origin}"))
    except (ConfigError, SecretUnavailableError) as exc:
        results.append(("x_config", False, str(exc)))
        return results
    try:
        current = make_rules_client(settings, token).list()
    except RulesError as exc:
        results.append(("x_api", False, str(exc)))
        return results
    diff = diff_rules(current, desired)
    detail = "rules in sync" if diff.empty else f"rules differ: {len(diff.add)} to add, {len(diff.delete)} stale"
    results.append(("x_api", True, f"reached {settings.x_api_base_url}; {detail}"))
    return results


def run_checks(settings: Settings) -> list[CheckResult]:
    results: list[CheckResult] = []
    try:
        require_for_run(settings)
        results.append(("config", True, f"source={settings.source} delivery_stream={settings.delivery_stream}"))
    except ConfigError as exc:
        results.append(("config", False, str(exc)))
    results.append(check_state_dir(settings))
    if settings.delivery_stream:
        results.append(check_firehose(settings))
    if settings.source == "x":
        results.extend(check_x(settings))
    elif settings.replay_file is not None and settings.replay_file.is_file():
        results.append(("replay_file", True, f"{settings.replay_file} is readable"))
    return results
