"""Invite a Dashboards user: ``python -m scripts.ops.opensearch.dashboards_user EMAIL``
(``make dashboards-user EMAIL=…``).

The user is created in the Cognito user pool Terraform made for the Dashboards login (output
``cognito_user_pool_id``) with ``AdminCreateUser``. Cognito generates the temporary password and e-mails it to the
address itself, and asks for a new password (and, with MFA on, an authenticator app) at the first sign-in, so no
password passes through this tool, the terminal or Terraform. ``--resend`` sends the invitation again to a user
who has not signed in yet (the temporary password expires after the pool's validity, read back from Cognito).

What the user may do in OpenSearch comes from the role mappings ``make opensearch-setup`` applies to the role
every signed-in user gets (``dashboards_user_role_arn``): read ``tweets-*`` and use Dashboards.
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from scripts.ops.cli_support import print_error, tool_parser
from scripts.ops.tf_outputs import TerraformOutputsError, add_terraform_arguments, start_tool

log = logging.getLogger(__name__)

# One "@", something on both sides, a dot in the domain: enough to catch typos; Cognito checks the rest.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class DashboardsUserError(RuntimeError):
    """A failure with a message a person can act on."""


def invite(cognito: Any, user_pool_id: str, email: str, *, resend: bool = False) -> str:
    """Create the user (or resend the invitation); return the user's status, e.g. ``FORCE_CHANGE_PASSWORD``."""
    from botocore.exceptions import ClientError

    if not _EMAIL.match(email):
        raise DashboardsUserError(f"'{email}' is not an e-mail address: Dashboards users sign in with their e-mail")
    request: dict[str, Any] = {
        "UserPoolId": user_pool_id,
        "Username": email,
        "DesiredDeliveryMediums": ["EMAIL"],
    }
    if resend:
        request["MessageAction"] = "RESEND"
    else:
        # The address is the one the invitation goes to, so it counts as verified (password reset by e-mail).
        request["UserAttributes"] = [
            {"Name": "email", "Value": email},
            {"Name": "email_verified", "Value": "true"},
        ]
    try:
        user = cognito.admin_create_user(**request)["User"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code == "UsernameExistsException":
            raise DashboardsUserError(
                f"{email} already exists in user pool {user_pool_id}; pass --resend to e-mail a new invitation "
                "(only while the user has not signed in yet)"
            ) from exc
        if code == "ResourceNotFoundException":
            raise DashboardsUserError(
                f"user pool {user_pool_id} not found: check --user-pool-id / --region (Terraform output "
                "cognito_user_pool_id)"
            ) from exc
        raise DashboardsUserError(f"cannot create {email} in user pool {user_pool_id}: {exc}") from exc
    return str(user.get("UserStatus", "UNKNOWN"))


def temporary_password_days(cognito: Any, user_pool_id: str) -> int | None:
    """How long the e-mailed temporary password stays valid (the pool's password policy), if Cognito says."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        pool = cognito.describe_user_pool(UserPoolId=user_pool_id)["UserPool"]
    except (ClientError, BotoCoreError):
        return None
    days = pool.get("Policies", {}).get("PasswordPolicy", {}).get("TemporaryPasswordValidityDays")
    return int(days) if days is not None else None


def build_parser() -> argparse.ArgumentParser:
    p = tool_parser("python -m scripts.ops.opensearch.dashboards_user", __doc__.split("\n")[0])
    add_terraform_arguments(p)
    p.add_argument("email", help="e-mail address of the user (the sign-in name; receives the invitation)")
    p.add_argument("--user-pool-id", help="Cognito user pool; default: output cognito_user_pool_id")
    p.add_argument("--region", help="AWS region; default: env AWS_REGION, else output aws_region")
    p.add_argument("--resend", action="store_true", help="e-mail the invitation again to a user not yet signed in")
    return p


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    parser = build_parser()
    args, resolve = start_tool(parser, argv, environ)
    try:
        pool = str(resolve.require(args.user_pool_id, flag="--user-pool-id", output="cognito_user_pool_id"))
        region = resolve.get(args.region, output="aws_region", env="AWS_REGION")
        cognito = boto3.client("cognito-idp", region_name=region)
        status = invite(cognito, pool, args.email, resend=args.resend)
        days = temporary_password_days(cognito, pool)
    except (DashboardsUserError, TerraformOutputsError, BotoCoreError, ClientError) as exc:
        print_error(parser.prog, exc)
        return 1
    url = resolve.get(None, output="dashboards_url") or "the Terraform output dashboards_url"
    validity = f", valid for {days} day(s)" if days else ""
    print(
        f"{'re-invited' if args.resend else 'invited'} {args.email} (status {status}): Cognito e-mailed a temporary "
        f"password{validity}; sign in at {url} and choose a new password"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
