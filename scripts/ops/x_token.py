"""Put the X bearer token into the ingester's SSM SecureString (``make x-token``), or delete it (``--delete``).

Terraform creates the token's KMS key but not the parameter (a managed parameter would be read back decrypted on
every refresh, so whoever runs Terraform would need kms:Decrypt). This tool puts it: ``put-parameter --type
SecureString --key-id <the stack's key alias> --overwrite``. The key policy lets the account encrypt through SSM
for this one parameter and lets only the ingester's instance role decrypt, so after this nobody but the ingester
reads the token back, this tool included. The running ingester picks it up within a minute (it re-reads a missing
parameter every 30 s, and re-reads the token after a 401), no restart needed.

Where the token comes from, never the command line (ps and the shell history would keep it):

- standard input: typed with the terminal's echo off when stdin is a terminal, else piped (``pass x | make x-token``);
- ``--token-fd N``: an inherited file descriptor (``make x-token ARGS="--token-fd 3" 3<token.txt``).

Which parameter, region and key: the flags, else the Terraform outputs ``x_bearer_token_parameter_name``,
``aws_region`` (then env ``AWS_REGION``) and ``x_bearer_token_kms_key_alias``. It prints the parameter, region, key
and version it wrote, never the token. Any failure is one line on stderr and exit 1.

``--delete`` removes the parameter (run it before ``make destroy``: Terraform does not own it, and once the key is
deleted the parameter can never be decrypted again). A parameter that is already gone is not an error.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from scripts.ops.cli_support import EXIT_CODES, print_error, tool_parser
from scripts.ops.tf_outputs import TerraformOutputsError, add_terraform_arguments, resolver_for

#: SSM standard-tier parameters hold at most 4 KB; the tool never creates an advanced (billed) parameter.
MAX_TOKEN_BYTES = 4096
DESCRIPTION = "X API v2 bearer token of the tweet ingester (set with make x-token; only the ingester role decrypts)"


class TokenToolError(RuntimeError):
    """A failure the tool reports as one line."""


@dataclass(frozen=True)
class Target:
    parameter: str
    region: str
    key_id: str | None  # None for --delete, which needs no key


def read_token(*, fd: int | None, stdin: TextIO, prompt: TextIO) -> str:
    """The token from ``fd``, or stdin (no echo on a terminal); stripped, validated, never logged."""
    if fd is not None:
        try:
            with os.fdopen(fd, encoding="utf-8", closefd=True) as stream:
                raw = stream.read()
        except OSError as exc:
            raise TokenToolError(f"cannot read the token from file descriptor {fd}: {exc.strerror}") from None
    elif stdin.isatty():
        raw = getpass.getpass("X bearer token (input hidden): ", stream=prompt)
    else:
        raw = stdin.read()
    token = raw.strip()
    if not token:
        raise TokenToolError("no token given: type it at the prompt, pipe it on stdin, or pass --token-fd N")
    if any(c.isspace() for c in token):
        raise TokenToolError("the token must be one line without spaces (a bearer token has none)")
    if len(token.encode("utf-8")) > MAX_TOKEN_BYTES:
        raise TokenToolError(f"the token is longer than {MAX_TOKEN_BYTES} bytes, the SSM standard-parameter limit")
    return token


def _error_code(exc: Exception) -> str:
    response: Any = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(exc).__name__))
    return type(exc).__name__


def _aws_failure(action: str, target: Target, exc: Exception) -> TokenToolError:
    from botocore.exceptions import NoCredentialsError, NoRegionError

    if isinstance(exc, NoCredentialsError):
        return TokenToolError(
            f"no AWS credentials found for {action} (set AWS_PROFILE, or run aws sso login / aws configure)"
        )
    if isinstance(exc, NoRegionError):
        return TokenToolError("no AWS region: pass --region")
    return TokenToolError(f"{action} {target.parameter} in {target.region} failed: {_error_code(exc)}")


def make_client(target: Target) -> Any:
    """The SSM client; a broken AWS configuration (unknown AWS_PROFILE, bad config file) is one line too."""
    import boto3
    from botocore.exceptions import BotoCoreError

    try:
        return boto3.client("ssm", region_name=target.region)
    except BotoCoreError as exc:
        raise TokenToolError(f"AWS configuration error: {exc}") from None


def put_token(ssm: Any, target: Target, token: str) -> int:
    """put-parameter SecureString with the stack's key; returns the new version."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = ssm.put_parameter(
            Name=target.parameter,
            Description=DESCRIPTION,
            Value=token,
            Type="SecureString",
            KeyId=target.key_id,
            Overwrite=True,
            Tier="Standard",
        )
    except (BotoCoreError, ClientError) as exc:
        raise _aws_failure("put-parameter", target, exc) from None
    return int(response.get("Version", 0))


def delete_token(ssm: Any, target: Target) -> bool:
    """delete-parameter; False when it did not exist."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        ssm.delete_parameter(Name=target.parameter)
    except ClientError as exc:
        if _error_code(exc) == "ParameterNotFound":
            return False
        raise _aws_failure("delete-parameter", target, exc) from None
    except BotoCoreError as exc:
        raise _aws_failure("delete-parameter", target, exc) from None
    return True


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser(
        "make x-token",
        "Put the X bearer token (read from stdin or --token-fd, never argv) into its SSM SecureString.",
        codes={**EXIT_CODES, 1: "failed: no or bad token, missing Terraform output, AWS error (one line on stderr)"},
    )
    add_terraform_arguments(p)
    p.add_argument("--parameter-name", help="SSM parameter; default: output x_bearer_token_parameter_name")
    p.add_argument("--region", help="AWS region; default: output aws_region, else env AWS_REGION")
    p.add_argument("--kms-key-id", help="KMS key id, ARN or alias; default: output x_bearer_token_kms_key_alias")
    p.add_argument("--token-fd", type=int, metavar="N", help="read the token from inherited file descriptor N")
    p.add_argument("--delete", action="store_true", help="delete the parameter instead (before make destroy)")
    return p


def resolve_target(args: argparse.Namespace, environ: Mapping[str, str]) -> Target:
    resolve = resolver_for(args, environ)
    parameter = resolve.require(args.parameter_name, flag="--parameter-name", output="x_bearer_token_parameter_name")
    region = resolve.get(args.region, output="aws_region") or environ.get("AWS_REGION")
    if not region:
        raise TokenToolError("missing setting: pass --region (no Terraform output 'aws_region', no env AWS_REGION)")
    key_id = None
    if not args.delete:
        key_id = resolve.require(args.kms_key_id, flag="--kms-key-id", output="x_bearer_token_kms_key_alias")
    return Target(parameter=str(parameter), region=str(region), key_id=str(key_id) if key_id else None)


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    ssm: Any = None,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    env = os.environ if environ is None else environ
    stdout, stderr = out or sys.stdout, err or sys.stderr
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        target = resolve_target(args, env)
        if ssm is None:
            ssm = make_client(target)
        if args.delete:
            deleted = delete_token(ssm, target)
            state = "deleted" if deleted else "did not exist; nothing to delete"
            print(f"SSM parameter {target.parameter} in {target.region}: {state}", file=stdout)
            return 0
        token = read_token(fd=args.token_fd, stdin=stdin or sys.stdin, prompt=stderr)
        version = put_token(ssm, target, token)
    except (TokenToolError, TerraformOutputsError) as exc:
        print_error(parser.prog, exc, file=stderr)
        return 1
    print(
        f"X bearer token stored: SecureString {target.parameter} in {target.region}, key {target.key_id}, "
        f"version {version}. The ingester picks it up within a minute.",
        file=stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
