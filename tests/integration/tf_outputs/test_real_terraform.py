"""scripts/ops/tf_outputs.py reading the outputs of a real terraform state."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.ops.tf_outputs import read_outputs


@pytest.mark.terraform
@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_read_outputs_from_a_real_terraform_state(tmp_path: Path) -> None:
    (tmp_path / "main.tf").write_text(
        'output "backup_bucket_name" { value = "tweets-backup-123" }\noutput "retention_days" { value = 14 }\n'
    )
    for cmd in (["init", "-input=false"], ["apply", "-auto-approve", "-input=false"]):
        subprocess.run(["terraform", f"-chdir={tmp_path}", *cmd], check=True, capture_output=True, timeout=120)
    assert read_outputs(tmp_path) == {"backup_bucket_name": "tweets-backup-123", "retention_days": 14}
