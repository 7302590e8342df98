"""The X bearer token: X_BEARER_TOKEN (local use) or an SSM Parameter Store SecureString (EC2).

Failure policy, by the SSM error code (never its message text):

- ``ParameterNotFound``: :class:`SecretNotSetError`. Terraform does not create the parameter (the operator puts
  it with ``make x-token`` after deploying), so on a fresh box it is normal: the X source waits for it.
- throttling, server errors, no network or no instance credentials yet: :class:`SecretUnavailableError`, transient
  (the daemon exits 1 at start and systemd restarts it; the waiting source retries).
- anything else (``AccessDeniedException``, a disabled key, a String instead of a SecureString, an empty value):
  :class:`~ingester.config.ConfigError`, which the operator must fix (exit 2, not restarted).

The token is never logged: it is registered with the log redaction filter as soon as it is known.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from ingester import logsetup
from ingester.aws import make_boto3_client
from ingester.config import ConfigError, Settings


class SecretUnavailableError(RuntimeError):
    """SSM could not be reached (transient); not a configuration error."""


class SecretNotSetError(ConfigError):
    """The SSM parameter does not exist (yet): nobody has run ``make x-token``.

    A ConfigError for one-shot commands (``ingester check``, ``ingester rules``); the X source catches it and
    waits for the parameter instead (ingester.sources.x).
    """


#: The command that creates the parameter, named in every message about a missing one.
SET_TOKEN_COMMAND = "make x-token"  # noqa: S105 (a make target, not a secret)


#: SSM answers that say "try again", not "the setting is wrong": the daemon exits 1 and systemd restarts it,
#: whereas a ConfigError exits 2, which the unit never restarts (RestartPreventExitStatus=2).
TRANSIENT_SSM_CODES = frozenset(
    {"ThrottlingException", "InternalServerError", "ServiceUnavailable", "RequestTimeout", "RequestLimitExceeded"}
)


def resolve_bearer_token(settings: Settings, *, ssm_client: Any = None) -> str:
    """X_BEARER_TOKEN if set, else the decrypted value of X_BEARER_TOKEN_SSM_PARAMETER."""
    if settings.x_bearer_token:
        logsetup.register_secret(settings.x_bearer_token)
        return settings.x_bearer_token
    name = settings.x_bearer_token_ssm_parameter
    if not name:
        raise ConfigError("X_BEARER_TOKEN_SSM_PARAMETER or X_BEARER_TOKEN is required for the X source")
    if ssm_client is None:
        ssm_client = make_boto3_client("ssm", settings)
    try:
        response = ssm_client.get_parameter(Name=name, WithDecryption=True)
    except ClientError as exc:
        code = str(exc.response.get("Error", {}).get("Code", "ClientError"))
        if code in TRANSIENT_SSM_CODES:
            raise SecretUnavailableError(f"X_BEARER_TOKEN_SSM_PARAMETER {name!r} could not be read: {code}") from None
        if code == "ParameterNotFound":
            raise SecretNotSetError(
                f"X_BEARER_TOKEN_SSM_PARAMETER {name!r} does not exist yet in this region: "
                f"set it with `{SET_TOKEN_COMMAND}` from the checkout that deployed the stack"
            ) from None
        hint = {
            "AccessDeniedException": "the instance role may not read it (ssm:GetParameter) or the token key's "
            "policy does not let it decrypt (kms:Decrypt via SSM)",
            "InvalidKeyId": "its KMS key is disabled, pending deletion or not usable by SSM",
        }.get(code, "")
        raise ConfigError(
            f"X_BEARER_TOKEN_SSM_PARAMETER {name!r} could not be read: {code}{': ' + hint if hint else ''}"
        ) from None
    except BotoCoreError as exc:  # no network yet, endpoint unreachable, instance credentials not there yet
        raise SecretUnavailableError(
            f"X_BEARER_TOKEN_SSM_PARAMETER {name!r} could not be read: {type(exc).__name__}"
        ) from None
    parameter = response.get("Parameter", {})
    value = parameter.get("Value")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"X_BEARER_TOKEN_SSM_PARAMETER {name!r} is empty")
    if parameter.get("Type") != "SecureString":
        raise ConfigError(
            f"X_BEARER_TOKEN_SSM_PARAMETER {name!r} is a {parameter.get('Type')}; store the token as a SecureString"
        )
    token = value.strip()
    logsetup.register_secret(token)
    return token
