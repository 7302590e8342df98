"""scripts/ops/tf_outputs.py: parsing `terraform output -json` and the flag > env > output > default precedence."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.ops.tf_outputs import Resolver, TerraformOutputsError, parse_outputs, read_outputs


def test_parse_outputs_unwraps_values() -> None:
    raw = '{"opensearch_endpoint": {"sensitive": false, "type": "string", "value": "search-x.es.amazonaws.com"},' \
          ' "retention_days": {"sensitive": false, "type": "number", "value": 30}}'  # fmt: skip
    assert parse_outputs(raw) == {"opensearch_endpoint": "search-x.es.amazonaws.com", "retention_days": 30}
    assert parse_outputs("") == {}
    with pytest.raises(TerraformOutputsError):
        parse_outputs("not json")


def test_precedence_and_terraform_read_at_most_once() -> None:
    calls: list[str] = []

    def reader(tf_dir: str | Path) -> dict[str, object]:
        calls.append(str(tf_dir))
        return {"delivery_stream_name": "from-tf", "aws_region": "eu-west-1", "empty": ""}

    resolve = Resolver("tfdir", {"AWS_REGION": "us-west-2"}, reader=reader)
    assert resolve.get("flag", output="delivery_stream_name") == "flag"
    assert calls == []  # an explicit value never runs terraform
    assert resolve.get(None, output="aws_region", env="AWS_REGION") == "us-west-2"
    assert calls == []
    assert resolve.get(None, output="delivery_stream_name") == "from-tf"
    assert resolve.get(None, output="empty", default="d") == "d"
    assert resolve.get(None, output="missing") is None
    assert calls == ["tfdir"]


def test_require_names_the_flag_the_output_and_why_terraform_failed() -> None:
    def reader(tf_dir: str | Path) -> dict[str, object]:
        raise TerraformOutputsError("terraform -chdir=x output -json failed (No outputs found)")

    resolve = Resolver("x", {}, reader=reader)
    with pytest.raises(TerraformOutputsError, match=r"--bucket or Terraform output 'backup_bucket_name' \(terraform"):
        resolve.require(None, flag="--bucket", output="backup_bucket_name")
    no_tf = Resolver(None, {})
    with pytest.raises(TerraformOutputsError, match="--no-terraform"):
        no_tf.require(None, flag="--stream", output="delivery_stream_name")


def test_a_failed_terraform_call_shows_its_whole_error_without_colour_codes(tmp_path: Path) -> None:
    # Given a terraform that fails the way an uninitialised working directory does (colours, diagnostic box)
    red, yellow, bold, off = "\x1b[31m", "\x1b[33m", "\x1b[1m", "\x1b[0m"
    (tmp_path / "stderr.txt").write_text(
        "There are some problems with the CLI configuration:\n"
        f"{yellow}╷{off}\n{yellow}│{off} {bold}{yellow}Warning: {off}Unable to open CLI configuration file\n"
        f"{yellow}╵{off}\n{red}╷{off}{off}\n"
        f'{red}│{off} {bold}{red}Error: {off}{bold}Backend initialization required, please run "terraform init"{off}\n'
        f"{red}│{off}\n"
        f'{red}│{off} {off}Reason: Initial configuration of the requested backend "s3"\n'
        f"{red}╵{off}{off}\n",
        encoding="utf-8",
    )
    fake = tmp_path / "terraform"
    fake.write_text(f"#!/bin/sh\ncat '{tmp_path / 'stderr.txt'}' >&2\nexit 1\n")
    fake.chmod(0o755)
    read_outputs.cache_clear()
    with pytest.raises(TerraformOutputsError) as exc:
        read_outputs(tmp_path, terraform=str(fake))
    message = str(exc.value)
    # Then the cause is there in full, readable and on one line: no escape codes, no box, no unrelated warning
    assert 'Error: Backend initialization required, please run "terraform init"' in message
    assert 'Reason: Initial configuration of the requested backend "s3"' in message
    assert "\x1b" not in message and not set("╷╵│") & set(message)
    assert "Warning" not in message
    assert "\n" not in message
