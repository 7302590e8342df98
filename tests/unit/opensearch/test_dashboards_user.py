"""``python -m scripts.ops.opensearch.dashboards_user``: inviting Dashboards users into the Cognito pool (moto)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from scripts.ops.opensearch import dashboards_user

EMAIL = "alice@example.com"


@pytest.fixture
def pool() -> Iterator[tuple[Any, str]]:
    with mock_aws():
        cognito = boto3.client("cognito-idp", region_name="us-east-1")
        pool_id = cognito.create_user_pool(
            PoolName="tweet-sentiment-dashboards",
            UsernameAttributes=["email"],
            AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
            Policies={"PasswordPolicy": {"MinimumLength": 14, "TemporaryPasswordValidityDays": 3}},
        )["UserPool"]["Id"]
        yield cognito, pool_id


def invite(pool_id: str, *extra: str) -> int:
    return dashboards_user.main(["--no-terraform", "--user-pool-id", pool_id, "--region", "us-east-1", *extra],
                                environ={})  # fmt: skip


def test_invite_creates_the_user_and_leaves_the_password_to_cognito(pool: tuple[Any, str], capsys) -> None:
    cognito, pool_id = pool
    # When an administrator invites a user
    assert invite(pool_id, EMAIL) == 0
    out = capsys.readouterr().out
    # Then the user exists with a verified e-mail, must set a new password, and nothing secret was printed
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=EMAIL)
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attributes["email"] == EMAIL
    assert attributes["email_verified"] == "true"
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD"
    assert f"invited {EMAIL} (status FORCE_CHANGE_PASSWORD)" in out
    assert "valid for 3 day(s)" in out  # read back from the pool's password policy
    assert "password:" not in out.lower()


def test_an_existing_user_is_not_invited_twice_unless_resend(pool: tuple[Any, str], capsys) -> None:
    _cognito, pool_id = pool
    assert invite(pool_id, EMAIL) == 0
    capsys.readouterr()
    assert invite(pool_id, EMAIL) == 1
    err = capsys.readouterr().err
    assert "already exists" in err and "pass --resend" in err
    assert invite(pool_id, EMAIL, "--resend") == 0
    assert f"re-invited {EMAIL}" in capsys.readouterr().out


@pytest.mark.parametrize("email", ["alice", "alice@", "alice example@example.com", "@example.com"])
def test_a_malformed_address_is_refused_before_any_call(pool: tuple[Any, str], capsys, email: str) -> None:
    cognito, pool_id = pool
    assert invite(pool_id, email) == 1
    assert "is not an e-mail address" in capsys.readouterr().err
    assert cognito.list_users(UserPoolId=pool_id)["Users"] == []


def test_an_unknown_pool_names_the_terraform_output(pool: tuple[Any, str], capsys) -> None:
    assert invite("us-east-1_doesnotexist", EMAIL) == 1
    err = capsys.readouterr().err
    assert "us-east-1_doesnotexist" in err and "cognito_user_pool_id" in err
