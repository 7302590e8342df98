"""Module READMEs in step with the code, every variable and output described and typed, checkov skip comments
well formed (the checkov run itself is tests/integration/terraform/test_checkov.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scripts.dev.terraform_docs import documented_dirs, parse_outputs, parse_variables, readme_docs_block, render_docs
from tests.support.terraform import TERRAFORM_DIR

SKIP_COMMENT = re.compile(r"#checkov:skip=(CKV2?_AWS_\d+):(.*)")


def test_skip_comments_are_well_formed() -> None:
    # A malformed skip comment would silently not apply; every one must name a check and give a reason.
    for path in TERRAFORM_DIR.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                match = SKIP_COMMENT.search(line)
                assert match, f"{path}: malformed skip comment: {line.strip()}"
                assert len(match.group(2).split()) >= 6, f"{path}: {match.group(1)} skipped without a reason"


@pytest.mark.parametrize("directory", documented_dirs(), ids=lambda p: p.name)
def test_readme_tables_match_variables_and_outputs(directory: Path) -> None:
    readme = directory / "README.md"
    assert readme.is_file(), f"{directory} has no README.md"
    block = readme_docs_block(readme)
    assert block is not None, f"{readme} has no generated inputs/outputs tables"
    assert block == render_docs(directory), (
        f"{readme} is out of date with variables.tf/outputs.tf: run `python -m scripts.dev.terraform_docs`"
    )


@pytest.mark.parametrize("directory", documented_dirs(), ids=lambda p: p.name)
def test_every_variable_and_output_is_described_and_typed(directory: Path) -> None:
    variables = parse_variables(directory)
    outputs = parse_outputs(directory)
    assert variables and outputs
    text = (directory / "variables.tf").read_text()
    assert len(variables) == text.count('\nvariable "') + text.startswith('variable "'), "variable blocks missed"
    for v in variables:
        assert len(v.description) > 10, f"{directory.name}: variable {v.name} lacks a description"
        assert v.type not in {"any", ""}, f"{directory.name}: variable {v.name} has no concrete type"
    for o in outputs:
        assert len(o.description) > 10, f"{directory.name}: output {o.name} lacks a description"


def test_docs_tables_detect_drift(tmp_path: Path) -> None:
    # The generator must notice a new variable: a README generated before it was added no longer matches.
    module = tmp_path / "m"
    module.mkdir()
    (module / "variables.tf").write_text(
        'variable "a" {\n  description = "first one here"\n  type        = string\n}\n'
    )
    (module / "outputs.tf").write_text('output "o" {\n  description = "an output here"\n  value       = 1\n}\n')
    before = render_docs(module)
    with (module / "variables.tf").open("a") as f:
        f.write('\nvariable "b" {\n  description = "second | piped"\n  type        = number\n  default     = 3\n}\n')
    after = render_docs(module)
    assert before != after
    assert "| `b` | second \\| piped | `number` | `3` | no |" in after
    assert "| `a` | first one here | `string` | n/a | yes |" in after
    assert "| `o` | an output here |" in after
