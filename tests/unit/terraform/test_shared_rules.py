"""Rules Terraform cannot share between modules are copied on purpose (each module validates its own inputs and
is usable alone). The root passes a module's input through without a copy of its rule (Terraform's error shows
the module call's line, which names the root variable). Each copy says so beside it; these tests keep the copies
in agreement and the root free of them."""

from __future__ import annotations

import re

from tests.support.terraform import TERRAFORM_DIR

# CloudWatch Logs' accepted retention values (PutRetentionPolicy, retentionInDays).
CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
                             2922, 3288, 3653]  # fmt: skip
AUTO_TUNE_UNSUPPORTED = r'"^t[23]\\."'


def tf_files() -> dict[str, str]:
    return {str(p.relative_to(TERRAFORM_DIR)): p.read_text(encoding="utf-8") for p in TERRAFORM_DIR.rglob("*.tf")
            if ".terraform" not in p.parts}  # fmt: skip


def test_every_retention_validation_is_cloudwatch_logs_list() -> None:
    copies = {
        (name, match.group(2)): [int(v) for v in match.group(1).split(",")]
        for name, text in tf_files().items()
        for match in re.finditer(r"contains\(\[([0-9, ]+)\], var\.([\w.]*retention_days)\)", text)
    }
    # the three modules with log groups (firehose, lambda, opensearch); not the root, which passes it through
    assert {name.split("/")[1] if "/" in name else "root" for name, _ in copies} == {
        "firehose",
        "lambda",
        "opensearch",
    }
    for where, values in copies.items():
        assert values == CLOUDWATCH_RETENTION_DAYS, where


def test_the_auto_tune_rule_is_one_pattern() -> None:
    uses = {name: text.count(f"regex({AUTO_TUNE_UNSUPPORTED}") for name, text in tf_files().items()}
    assert {name: n for name, n in uses.items() if n} == {
        "modules/opensearch/variables.tf": 1,
        "modules/opensearch/main.tf": 1,
    }
    # and nothing spells the t2/t3 rule another way
    for name, text in tf_files().items():
        assert not re.search(r'regex\("\^t[^"]*"', text.replace(f"regex({AUTO_TUNE_UNSUPPORTED}", "")), name


# modules/lambda's sentiment.backend and modules/monitoring's transform.sentiment_backend
BACKEND_FIELD = r"var\.(?:sentiment\.backend|transform\.sentiment_backend)"


def backend_lists() -> dict[str, list[str]]:
    """Every list a sentiment backend is validated against, by file."""
    return {
        name: re.findall(r'"([a-z]+)"', match.group(1))
        for name, text in tf_files().items()
        for match in re.finditer(rf"contains\(\[([^\]]*)\], {BACKEND_FIELD}\)", text)
    }


def test_the_backend_names_are_the_transforms_and_listed_in_two_modules_only() -> None:
    # The transform's own list (SENTIMENT_BACKEND) is the truth; modules/lambda holds the Terraform source of truth,
    # which the root passes its variable to unvalidated; modules/monitoring keeps a copy because it stands alone.
    from transform.settings import BACKENDS

    lists = backend_lists()
    assert set(lists) == {"modules/lambda/variables.tf", "modules/monitoring/variables.tf"}
    for where, names in lists.items():
        assert names == list(BACKENDS), where
    # and the root declares the variable without a validation of its own
    root = tf_files()["variables.tf"]
    block = root.split('variable "sentiment_backend" {', 1)[1].split("\n}\n", 1)[0]
    assert "validation" not in block


def test_the_fallback_names_are_the_transforms() -> None:
    # modules/lambda validates sentiment.fallback once (the root passes its sentiment_fallback through): its list is the
    # transform's.
    from transform.settings import FALLBACKS

    lists = [
        (name, re.findall(r'"([a-z]+)"', match.group(1)))
        for name, text in tf_files().items()
        for match in re.finditer(r"contains\(\[([^\]]*)\], var\.sentiment\.fallback\)", text)
    ]
    assert lists == [("modules/lambda/variables.tf", list(FALLBACKS))]


# Root variables whose rule lives in the module they are passed to (one copy), and that module's file.
PASSED_THROUGH = {
    "sentiment_backend": "modules/lambda/variables.tf",
    "sentiment_fallback": "modules/lambda/variables.tf",
    "lambda_reserved_concurrent_executions": "modules/lambda/variables.tf",
    "log_retention_days": "modules/lambda/variables.tf",
    "opensearch_auto_tune_enabled": "modules/opensearch/variables.tf",
    "ingester_architecture": "modules/ingester/variables.tf",
    "x_bearer_token_key_deletion_days": "modules/ingester/variables.tf",
    "retention_days": "modules/ingester/variables.tf",
}


def root_block(name: str) -> str:
    return tf_files()["variables.tf"].split(f'variable "{name}" {{', 1)[1].split("\n}\n", 1)[0]


def test_the_root_passes_module_validated_inputs_through_without_a_copy_of_their_rule() -> None:
    files = tf_files()
    for name, module_file in PASSED_THROUGH.items():
        assert "validation" not in root_block(name), name
        assert "validation {" in files[module_file], module_file
