"""The credentials check `make plan` runs before Terraform: each source of the default chain, and one line when none."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.ops.aws_credentials import NoCredentials, credential_source, main


def no_imds() -> bool:
    return False


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s"}, "AWS_ACCESS_KEY_ID in the environment"),
        (
            {"AWS_WEB_IDENTITY_TOKEN_FILE": "/t", "AWS_ROLE_ARN": "arn"},
            "AWS_WEB_IDENTITY_TOKEN_FILE in the environment",
        ),
        ({"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/c"}, "the container credentials endpoint"),
    ],
)
def test_environment_sources(tmp_path: Path, environ: dict[str, str], expected: str) -> None:
    assert credential_source(environ, tmp_path, no_imds) == expected


def test_a_key_id_without_its_secret_is_no_source(tmp_path: Path) -> None:
    with pytest.raises(NoCredentials, match="no AWS credentials in this shell"):
        credential_source({"AWS_ACCESS_KEY_ID": "AKIA"}, tmp_path, no_imds)


@pytest.mark.parametrize(
    ("file", "text", "environ"),
    [
        ("credentials", "[default]\naws_access_key_id = AKIA\naws_secret_access_key = s\n", {}),
        ("config", "[profile ops]\nsso_session = corp\nsso_account_id = 1\n", {"AWS_PROFILE": "ops"}),
        ("config", "[default]\ncredential_process = /bin/creds\n", {}),
        (
            "config",
            "[profile ci]\nrole_arn = arn:aws:iam::1:role/ci\nsource_profile = default\n",
            {"AWS_DEFAULT_PROFILE": "ci"},
        ),
    ],
)
def test_profile_sources(tmp_path: Path, file: str, text: str, environ: dict[str, str]) -> None:
    write(tmp_path / ".aws" / file, text)
    assert credential_source(environ, tmp_path, no_imds).startswith("profile ")


def test_a_profile_with_only_a_region_is_no_source(tmp_path: Path) -> None:
    write(tmp_path / ".aws" / "config", "[default]\nregion = eu-west-1\n")
    with pytest.raises(NoCredentials, match="no AWS credentials in this shell"):
        credential_source({}, tmp_path, no_imds)


def test_a_named_profile_missing_from_both_files_is_named(tmp_path: Path) -> None:
    write(tmp_path / ".aws" / "config", "[profile other]\nregion = eu-west-1\n")
    with pytest.raises(NoCredentials, match="AWS profile 'ops' is in neither"):
        credential_source({"AWS_PROFILE": "ops"}, tmp_path, no_imds)


def test_the_files_named_in_the_environment_are_read(tmp_path: Path) -> None:
    write(tmp_path / "elsewhere", "[default]\naws_access_key_id = AKIA\n")
    found = credential_source({"AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "elsewhere")}, tmp_path / "home", no_imds)
    assert found == f"profile default in {tmp_path / 'elsewhere'}"


def test_instance_metadata_is_the_last_resort_unless_disabled(tmp_path: Path) -> None:
    assert credential_source({}, tmp_path, lambda: True) == "the EC2 instance metadata service"
    with pytest.raises(NoCredentials):
        credential_source({"AWS_EC2_METADATA_DISABLED": "true"}, tmp_path, lambda: True)


def test_main_prints_one_line_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    environ = {"HOME": str(tmp_path), "AWS_EC2_METADATA_DISABLED": "true"}
    assert main(["--for", "make plan"], environ=environ) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("make plan: no AWS credentials in this shell: run `aws configure`")
    environ["AWS_ACCESS_KEY_ID"], environ["AWS_SECRET_ACCESS_KEY"] = "AKIA", "s"
    assert main(["--for", "make plan"], environ=environ) == 0
