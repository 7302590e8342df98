"""Run a terraform command with ``dashboards_allowed_cidrs`` set to this machine's public IP, unless the user set it.

``make plan``, ``make deploy`` and ``make destroy`` run terraform through this wrapper::

    python3 -m scripts.ops.deployer_ip [--checkip-url URL] -- terraform -chdir=terraform apply -var-file=/abs/my.tfvars

The root module refuses an empty ``dashboards_allowed_cidrs`` for a public domain, so that a default deployment
is never open to the internet. A user who set nothing should still get a working Dashboards from the machine that
deploys, so the wrapper fills the list with that machine's public address (``/32``, or ``/128`` for IPv6).

Failure policy, decided before terraform starts:

- The user's own setting always wins. If ``dashboards_allowed_cidrs`` or a non-null ``opensearch_vpc`` (a VPC
  domain takes no IP list) is set in any place Terraform reads variables from (a ``TF_VAR_`` variable,
  ``terraform.tfvars[.json]`` or ``*.auto.tfvars[.json]`` in the ``-chdir`` directory, a ``-var-file`` or ``-var``
  of the command), the command runs unchanged and no address is looked up. (Any var file would beat a
  ``TF_VAR_`` value anyway: it comes later in Terraform's precedence order.)
- Otherwise the address is fetched from ``--checkip-url``. If that fails, or the answer is not a public IP
  address, the wrapper prints one line naming what to set, exits 2 and does not run the command.
- The command then replaces this process (``exec``), so Ctrl-C reaches terraform alone and it can release its
  state lock, and its exit status is the wrapper's.

Var files are HCL; they are read with a line match on top-level assignments (``name = value``), which is what
tfvars files hold. A ``/* ... */`` block and ``#``/``//`` comment lines are skipped.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.ops.cli_support import tool_parser

CIDRS_VAR = "dashboards_allowed_cidrs"
VPC_VAR = "opensearch_vpc"
DEFAULT_CHECKIP_URL = "https://checkip.amazonaws.com"
LOOKUP_TIMEOUT_S = 10.0
EXIT_REFUSED = 2

_ASSIGNMENT = re.compile(rf"^[ \t]*({CIDRS_VAR}|{VPC_VAR})[ \t]*=[ \t]*(.*)$", re.MULTILINE)
_BLOCK_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_LINE_COMMENT = re.compile(r"^[ \t]*(#|//).*$", re.MULTILINE)


class LookupFailed(RuntimeError):
    """The public address could not be determined; the message says why."""


@dataclass(frozen=True)
class Command:
    """What the wrapper needs from the terraform command line."""

    chdir: Path
    var_files: tuple[Path, ...]
    var_names: frozenset[str]  # names given with -var NAME=VALUE


def parse_command(argv: Sequence[str], cwd: Path) -> Command:
    """Read ``-chdir=``, ``-var-file=`` and ``-var=`` (also in their two-argument forms) from a terraform argv."""
    chdir = cwd
    files: list[str] = []
    names: set[str] = set()
    args = list(argv[1:])
    i = 0
    while i < len(args):
        arg = args[i]
        for flag in ("-chdir", "-var-file", "-var"):
            if arg == flag and i + 1 < len(args):
                value = args[i + 1]
                i += 1
            elif arg.startswith(flag + "="):
                value = arg[len(flag) + 1 :]
            else:
                continue
            if flag == "-chdir":
                chdir = cwd / value if value else cwd
            elif flag == "-var-file":
                files.append(value)
            else:
                names.add(value.split("=", 1)[0].strip())
            break
        i += 1
    # -var-file paths are relative to the -chdir directory, like every other path terraform reads.
    return Command(chdir, tuple(chdir / f for f in files), frozenset(names))


def hcl_settings(text: str) -> dict[str, str]:
    """The top-level assignments of the two variables in a ``.tfvars`` text: ``{name: raw value}``."""
    text = _LINE_COMMENT.sub("", _BLOCK_COMMENT.sub("", text))
    return {m.group(1): m.group(2).strip() for m in _ASSIGNMENT.finditer(text)}


def file_settings(path: Path) -> dict[str, str]:
    """The two variables as set in one var file (JSON values re-encoded, so ``null`` reads the same in both)."""
    text = path.read_text(encoding="utf-8")
    if path.name.endswith(".json"):
        data = json.loads(text)
        return (
            {k: json.dumps(v) for k, v in data.items() if k in (CIDRS_VAR, VPC_VAR)} if isinstance(data, dict) else {}
        )
    return hcl_settings(text)


def auto_var_files(directory: Path) -> list[Path]:
    """The var files terraform loads by itself from its working directory."""
    names = [directory / "terraform.tfvars", directory / "terraform.tfvars.json"]
    autos = sorted([*directory.glob("*.auto.tfvars"), *directory.glob("*.auto.tfvars.json")])
    return [p for p in [*names, *autos] if p.is_file()]


def user_setting(command: Command, environ: Mapping[str, str]) -> str | None:
    """Where the user already decided who reaches the domain, or None when nothing is set anywhere."""
    found: list[str] = []

    def note(name: str, value: str, where: str) -> None:
        if name == CIDRS_VAR or (name == VPC_VAR and value.strip() != "null"):
            found.append(f"{name} is set in {where}")

    for name in (CIDRS_VAR, VPC_VAR):
        if f"TF_VAR_{name}" in environ:
            note(name, environ[f"TF_VAR_{name}"], f"TF_VAR_{name}")
        if name in command.var_names:
            note(name, "", "-var")
    for path in [*auto_var_files(command.chdir), *command.var_files]:
        if path.is_file():
            for name, value in file_settings(path).items():
                note(name, value, str(path))
    return "; ".join(found) if found else None


def fetch_public_ip(url: str, timeout: float = LOOKUP_TIMEOUT_S) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address the lookup service sees this machine connect from (a plain-text body such as ``198.51.100.7``)."""
    if not url.startswith(("https://", "http://")):
        raise LookupFailed(f"{url} is not an http(s) URL")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            body = response.read(64).decode("ascii", errors="replace").strip()
    except (urllib.error.URLError, OSError) as exc:
        raise LookupFailed(f"{url} did not answer ({getattr(exc, 'reason', exc)})") from exc
    try:
        address = ipaddress.ip_address(body)
    except ValueError as exc:
        raise LookupFailed(f"{url} answered {body[:40]!r}, not an IP address") from exc
    if not address.is_global:
        raise LookupFailed(f"{url} answered {address}, which is not a public address")
    return address


def cidr_of(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    return f"{address}/{address.max_prefixlen}"


def resolve_env(
    command: Command, environ: Mapping[str, str], checkip_url: str, log: list[str]
) -> dict[str, str] | None:
    """The environment to run terraform with, or None (after logging one line) when the wrapper must refuse."""
    env = dict(environ)
    setting = user_setting(command, environ)
    if setting is not None:
        log.append(f"dashboards_allowed_cidrs: using your setting ({setting})")
        return env
    try:
        address = fetch_public_ip(checkip_url)
    except LookupFailed as exc:
        log.append(
            f"dashboards_allowed_cidrs is not set and this machine's public IP is unknown: {exc}. "
            f'Set dashboards_allowed_cidrs = ["<your IP>/32"] in {command.chdir / "terraform.tfvars"} '
            "(or opensearch_vpc for a VPC domain) and run again."
        )
        return None
    cidr = cidr_of(address)
    env[f"TF_VAR_{CIDRS_VAR}"] = json.dumps([cidr])
    log.append(
        f"dashboards_allowed_cidrs is not set: allowing only this machine's public IP {cidr} (from {checkip_url}). "
        f"Set dashboards_allowed_cidrs in {command.chdir / 'terraform.tfvars'} to choose the networks yourself."
    )
    return env


def main(argv: Sequence[str] | None = None) -> int:  # noqa: RET503 - ends in execvpe, which never returns
    parser = tool_parser(
        "python -m scripts.ops.deployer_ip",
        "Run a terraform command with dashboards_allowed_cidrs = [this machine's public IP] "
        "unless dashboards_allowed_cidrs or opensearch_vpc is set.",
        codes={
            0: "terraform succeeded (after the lookup, terraform replaces this process: its exit code is the tool's)",
            EXIT_REFUSED: "refused (the public IP is unknown: one line names what to set), or a usage error",
        },
        usage="%(prog)s [--checkip-url URL] -- terraform [-chdir=DIR] COMMAND [ARGS...]",
    )
    parser.add_argument("--checkip-url", default=DEFAULT_CHECKIP_URL, help="plain-text public IP lookup service")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the terraform command line, after --")
    args = parser.parse_args(argv)
    command_argv = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command_argv:
        parser.error("no command given after --")
    log: list[str] = []
    env = resolve_env(parse_command(command_argv, Path.cwd()), os.environ, args.checkip_url, log)
    for line in log:
        print(line, file=sys.stderr, flush=True)
    if env is None:
        return EXIT_REFUSED
    # terraform replaces this process (execvpe never returns), so its exit status is the make target's.
    os.execvpe(command_argv[0], command_argv, env)  # noqa: S606 - the make target's own terraform command


if __name__ == "__main__":
    raise SystemExit(main())
