"""``make ssh`` and ``make logs``: a shell on the ingester, or its journal followed, from the Terraform outputs.

    python3 -m scripts.ops.ingester_shell {ssh,logs} [--tf-dir terraform] [--terraform terraform]

Failure policy: everything that can be known before connecting is checked first, and each failure is one line on
stderr that says what to do, with exit status 1:

- no deployed stack (a fresh clone: ``terraform output`` fails because ``init`` never ran; after ``init``, no state
  and so no outputs): run ``make deploy`` first, or point ``TF_DIR`` at the root module that deployed it;
- the AWS CLI missing when the outputs choose Session Manager.

Then the connection replaces this process (``exec``), so Ctrl-C and the exit status are those of ssh or aws.
Terraform's ``output -raw`` is not used: on an empty state it prints its "No outputs found" warning box to stdout
with exit status 0, which the shell recipe this module replaces then ran as a command.

Stdlib only, like :mod:`scripts.ops.deployer_ip`: it runs with the system Python, before any virtualenv exists.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NoReturn

from scripts.ops.cli_support import print_error, tool_parser
from scripts.ops.tf_outputs import DEFAULT_TF_DIR, TerraformOutputsError, read_outputs

Action = Literal[
    "ssh",  # an interactive shell
    "logs",  # journalctl -u tweet-ingester -f
]
FOLLOW = "sudo journalctl -u tweet-ingester -f"


class NotDeployed(RuntimeError):
    """The outputs name no ingester to reach; the message says what to run."""


def first_error(message: str) -> str:
    """The ``Error: <summary>`` part of a one-line Terraform diagnostic (its summary, without the explanation)."""
    _, found, rest = message.partition("Error: ")
    summary = rest if found else message
    for stop in (" The ", " Terraform ", " To ", " Run "):  # the explanation paragraph that follows the summary
        summary = summary.split(stop, 1)[0]
    return summary.strip().rstrip(".")


def read_stack(tf_dir: str, terraform: str, action: Action) -> dict[str, Any]:
    """The root module's outputs, or :class:`NotDeployed` saying how to get a stack."""
    hint = f"run `make deploy` first, or TF_DIR=<the root module you deployed from> make {action}"
    try:
        outputs = read_outputs(tf_dir, terraform)
    except TerraformOutputsError as exc:
        raise NotDeployed(f"no deployed stack in {tf_dir} ({first_error(str(exc))}): {hint}") from exc
    if not outputs.get("ssh_command"):
        raise NotDeployed(f"no deployed stack in {tf_dir} (its Terraform state has no ssh_command output): {hint}")
    return outputs


def command(action: Action, outputs: Mapping[str, Any]) -> tuple[list[str], str]:
    """(argv to exec, the line echoed before it). ``ssh_command`` is shell text (``~`` in its key path), so an SSH
    command runs through bash, as the Makefile's ``eval`` did."""
    ssh = str(outputs["ssh_command"])
    if action == "ssh":
        return ["bash", "-c", ssh], ssh
    if ssh.startswith("ssh"):
        line = f"{ssh} -t {FOLLOW}"
        return ["bash", "-c", line], line
    region, instance = outputs.get("aws_region"), outputs.get("ingester_instance_id")
    if not region or not instance:
        raise NotDeployed("the Terraform state has no aws_region or ingester_instance_id output: run `make deploy`")
    argv = ["aws", "ssm", "start-session", "--region", str(region), "--target", str(instance)]
    argv += [
        "--document-name",
        "AWS-StartInteractiveCommand",
        "--parameters",
        json.dumps({"command": [FOLLOW]}, separators=(",", ":")),
    ]
    return argv, f"aws ssm start-session --region {region} --target {instance} (AWS-StartInteractiveCommand: {FOLLOW})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = tool_parser(
        "python -m scripts.ops.ingester_shell", "A shell on the ingester (ssh) or its journal followed (logs)."
    )
    parser.add_argument("action", choices=["ssh", "logs"], help="ssh: a shell; logs: follow the service journal")
    parser.add_argument("--tf-dir", default=str(DEFAULT_TF_DIR), help="Terraform root module that deployed the stack")
    parser.add_argument("--terraform", default="terraform", help="terraform executable")
    args = parser.parse_args(argv)
    prog = f"make {args.action}"
    try:
        outputs = read_stack(args.tf_dir, args.terraform, args.action)
        exe_argv, shown = command(args.action, outputs)
    except NotDeployed as exc:
        print_error(prog, exc)
        return 1
    if shutil.which(exe_argv[0]) is None:
        print_error(prog, f"'{exe_argv[0]}' is not on PATH: install the AWS CLI and its Session Manager plugin")
        return 1
    print(f"+ {shown}", flush=True)
    return replace_process(exe_argv)


def replace_process(argv: list[str]) -> NoReturn:
    """Become ``argv`` (ssh, bash or aws): its exit status and signals are the target's."""
    os.execvp(argv[0], argv)  # noqa: S606 (the argv is ours; ssh_command is the stack's own output)


if __name__ == "__main__":
    sys.exit(main())
