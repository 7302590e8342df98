"""`make x-token` (scripts/ops/x_token.py) against moto's SSM in-process: where the token comes from, what is written,
what is printed, and the one-line errors."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import NoCredentialsError
from moto import mock_aws

from scripts.ops import x_token

TOKEN = "AAAAAAAAAAAAAAAAAAAAAdummy%2Bbearer%3Dtoken0123456789"  # a dummy, not a secret
FLAGS = ["--no-terraform", "--parameter-name", "/stack/x-bearer-token", "--region", "us-east-1"]


def run(argv: list[str], *, stdin: str = "", ssm: Any = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = x_token.main(argv, {}, ssm=ssm, stdin=io.StringIO(stdin), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def ssm() -> Any:
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


def stored(ssm: Any) -> dict[str, Any]:
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": ["/stack/x-bearer-token"]}])
    (param,) = meta["Parameters"]
    value = ssm.get_parameter(Name="/stack/x-bearer-token", WithDecryption=True)["Parameter"]["Value"]
    return {**param, "Value": value}


def test_piped_token_is_put_as_a_secure_string_with_the_stack_key_and_never_printed(ssm: Any) -> None:
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["KeyId"]
    boto3.client("kms", region_name="us-east-1").create_alias(AliasName="alias/stack-token", TargetKeyId=key)
    code, out, err = run([*FLAGS, "--kms-key-id", "alias/stack-token"], stdin=f"{TOKEN}\n", ssm=ssm)
    assert (code, err) == (0, "")
    param = stored(ssm)
    assert param["Type"] == "SecureString"
    assert param["KeyId"] == "alias/stack-token"
    assert param["Value"] == TOKEN
    assert "/stack/x-bearer-token" in out and "us-east-1" in out and "version 1" in out
    assert TOKEN not in out
    # A second run rotates it in place (--overwrite)
    code, out, _ = run([*FLAGS, "--kms-key-id", "alias/stack-token"], stdin="BBBB-rotated\n", ssm=ssm)
    assert code == 0 and "version 2" in out
    assert stored(ssm)["Value"] == "BBBB-rotated"


def test_token_from_an_inherited_file_descriptor(ssm: Any) -> None:
    read_end, write_end = os.pipe()
    os.write(write_end, TOKEN.encode())
    os.close(write_end)
    code, _, err = run([*FLAGS, "--kms-key-id", "alias/k", "--token-fd", str(read_end)], stdin="not this", ssm=ssm)
    assert (code, err) == (0, "")
    assert stored(ssm)["Value"] == TOKEN


def test_terminal_input_is_read_without_echo(ssm: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    prompts: list[str] = []

    def fake_getpass(prompt: str, stream: Any = None) -> str:
        prompts.append(prompt)
        return TOKEN

    monkeypatch.setattr(x_token.getpass, "getpass", fake_getpass)
    out, err = io.StringIO(), io.StringIO()
    code = x_token.main([*FLAGS, "--kms-key-id", "alias/k"], {}, ssm=ssm, stdin=Tty(), out=out, err=err)
    assert code == 0 and prompts == ["X bearer token (input hidden): "]
    assert stored(ssm)["Value"] == TOKEN


def test_the_token_cannot_be_passed_on_the_command_line() -> None:
    with pytest.raises(SystemExit) as exited:
        x_token.build_parser().parse_args(["--token", TOKEN])
    assert exited.value.code == 2


@pytest.mark.parametrize(
    ("stdin", "message"),
    [
        ("", "no token given"),
        ("  \n", "no token given"),
        ("two words", "one line without spaces"),
        ("A" * 4097, "4096"),
    ],
)
def test_a_bad_token_is_refused_before_any_call(stdin: str, message: str) -> None:
    code, out, err = run([*FLAGS, "--kms-key-id", "alias/k"], stdin=stdin, ssm=object())
    assert code == 1 and out == ""
    assert err.startswith("make x-token: ") and message in err and err.count("\n") == 1


def test_missing_terraform_outputs_is_one_clear_line(tmp_path: Path) -> None:
    code, out, err = run(["--tf-dir", str(tmp_path / "no-such-dir")], stdin=TOKEN, ssm=object())
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert "--parameter-name" in err and "x_bearer_token_parameter_name" in err
    assert TOKEN not in err


def test_missing_credentials_is_one_clear_line() -> None:
    class NoCredentials:
        def put_parameter(self, **_: Any) -> Any:
            raise NoCredentialsError()

    code, out, err = run([*FLAGS, "--kms-key-id", "alias/k"], stdin=TOKEN, ssm=NoCredentials())
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no AWS credentials" in err
    assert TOKEN not in err


def test_access_denied_names_the_parameter_and_region(ssm: Any) -> None:
    from botocore.exceptions import ClientError

    class Denied:
        def put_parameter(self, **_: Any) -> Any:
            raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "PutParameter")

    code, _, err = run([*FLAGS, "--kms-key-id", "alias/k"], stdin=TOKEN, ssm=Denied())
    assert code == 1
    assert err == "make x-token: put-parameter /stack/x-bearer-token in us-east-1 failed: AccessDeniedException\n"


def test_delete_removes_the_parameter_and_tolerates_its_absence(ssm: Any) -> None:
    ssm.put_parameter(Name="/stack/x-bearer-token", Value=TOKEN, Type="SecureString")
    code, out, _ = run([*FLAGS, "--delete"], ssm=ssm)
    assert code == 0 and "deleted" in out
    assert ssm.describe_parameters()["Parameters"] == []
    code, out, _ = run([*FLAGS, "--delete"], ssm=ssm)
    assert code == 0 and "nothing to delete" in out


def test_unknown_aws_profile_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3.session

    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    monkeypatch.setenv("AWS_PROFILE", "no-such-profile-for-x-token")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/config")
    code, out, err = run([*FLAGS, "--kms-key-id", "alias/k"], stdin=TOKEN)
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "no-such-profile-for-x-token" in err
