"""Check, before Terraform starts, that the shell has AWS credentials Terraform's provider could find.

    python3 -m scripts.ops.aws_credentials [--for "make plan"]

Without credentials, ``terraform plan`` refreshes nothing, prints its planned output changes and then fails with a
17-line error that ends in ``dial tcp 169.254.169.254:80`` (the provider's last resort, the EC2 instance metadata
service). This check looks where the AWS SDKs' default credential chain looks, in its order, and stops at the first
source that exists; when none does it prints one line naming what to do and exits 1.

It checks that a source exists, not that its keys are valid or its SSO session is current: Terraform's own first
call says that, in its own words. The sources, as the AWS SDKs and CLI document them:

1. ``AWS_ACCESS_KEY_ID`` and ``AWS_SECRET_ACCESS_KEY`` in the environment;
2. web identity: ``AWS_WEB_IDENTITY_TOKEN_FILE`` with ``AWS_ROLE_ARN`` (EKS, CI runners);
3. the profile ``AWS_PROFILE`` (else ``AWS_DEFAULT_PROFILE``, else ``default``) in the shared files
   (``AWS_SHARED_CREDENTIALS_FILE``, default ``~/.aws/credentials``; ``AWS_CONFIG_FILE``, default ``~/.aws/config``,
   where it is ``[profile NAME]``) with keys, a role, a ``credential_process`` or SSO settings;
4. a container credentials endpoint (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` or ``..._FULL_URI``: ECS, CodeBuild);
5. the instance metadata service (an EC2 instance role), unless ``AWS_EC2_METADATA_DISABLED=true``: one IMDSv2
   token request with a one-second timeout.

A profile named in ``AWS_PROFILE`` that neither file has is an error of its own (the SDKs refuse it too).
Stdlib only: it runs with the system Python, before any virtualenv exists.
"""

from __future__ import annotations

import argparse
import configparser
import contextlib
import os
import sys
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from scripts.ops.cli_support import print_error, tool_parser

IMDS_TOKEN_URL = "http://169.254.169.254/latest/api/token"  # noqa: S105 (a URL, not a secret)
IMDS_TIMEOUT_S = 1.0
# Settings that make a profile a credential source (keys, an assumed role, a helper process, IAM Identity Center).
PROFILE_SOURCES = (
    "aws_access_key_id",
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
)
FIX = (
    "run `aws configure` or `aws sso login --profile NAME` and export AWS_PROFILE=NAME, "
    "or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
)


class NoCredentials(RuntimeError):
    """No credential source exists; the message says what to do."""


def _read(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    with contextlib.suppress(configparser.Error, UnicodeDecodeError):  # unreadable for the SDKs too: no source
        parser.read(path, encoding="utf-8")
    return parser


def profile_source(environ: Mapping[str, str], home: Path) -> str | None:
    """Where the shared files give the selected profile credentials, or None; :class:`NoCredentials` when a profile
    named in the environment is in neither file."""
    named = environ.get("AWS_PROFILE") or environ.get("AWS_DEFAULT_PROFILE")
    profile = named or "default"
    credentials_file = Path(environ.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials")
    config_file = Path(environ.get("AWS_CONFIG_FILE") or home / ".aws" / "config")
    credentials, config = _read(credentials_file), _read(config_file)
    sections = [(credentials, profile, credentials_file)]
    sections.append((config, profile if profile == "default" else f"profile {profile}", config_file))
    found = False
    for parser, section, path in sections:
        if parser.has_section(section):
            found = True
            if any(parser.get(section, key, fallback="").strip() for key in PROFILE_SOURCES):
                return f"profile {profile} in {path}"
    if named and not found:
        raise NoCredentials(f"AWS profile {named!r} is in neither {credentials_file} nor {config_file}: {FIX}")
    return None


def imds_reachable(timeout: float = IMDS_TIMEOUT_S) -> bool:
    """Whether the EC2 instance metadata service answers an IMDSv2 token request (we run on an instance)."""
    request = urllib.request.Request(
        IMDS_TOKEN_URL, method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (fixed http URL: IMDS)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError, ValueError):
        return False


def credential_source(environ: Mapping[str, str], home: Path, imds: Callable[[], bool] = imds_reachable) -> str:
    """The first credential source of the default chain that exists; :class:`NoCredentials` when none does."""
    if environ.get("AWS_ACCESS_KEY_ID") and environ.get("AWS_SECRET_ACCESS_KEY"):
        return "AWS_ACCESS_KEY_ID in the environment"
    if environ.get("AWS_WEB_IDENTITY_TOKEN_FILE") and environ.get("AWS_ROLE_ARN"):
        return "AWS_WEB_IDENTITY_TOKEN_FILE in the environment"
    found = profile_source(environ, home)
    if found:
        return found
    if environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") or environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return "the container credentials endpoint"
    if environ.get("AWS_EC2_METADATA_DISABLED", "").lower() != "true" and imds():
        return "the EC2 instance metadata service"
    raise NoCredentials(f"no AWS credentials in this shell: {FIX}")


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    parser = tool_parser(
        "python -m scripts.ops.aws_credentials", "Check that AWS credentials exist before Terraform runs."
    )
    parser.add_argument(
        "--for", dest="prog", default="python -m scripts.ops.aws_credentials", help="name to prefix the error with"
    )
    args: argparse.Namespace = parser.parse_args(argv)
    env = dict(os.environ if environ is None else environ)
    try:
        credential_source(env, Path(env.get("HOME") or Path.home()))
    except NoCredentials as exc:
        print_error(args.prog, exc)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
