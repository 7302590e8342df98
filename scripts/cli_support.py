"""What every operator tool's command line shares: ``--version``, the exit-code epilog, one-line errors."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from typing import TextIO

from ingester import __version__

# The exit codes of every tool in scripts/ (deployer_ip adds none: 2 is also its refusal).
EXIT_CODES: Mapping[int, str] = {
    0: "done",
    1: "failed (the message says why: AWS error, missing Terraform output, unreachable endpoint...)",
    2: "usage error (bad or missing flag)",
}


def exit_codes_epilog(codes: Mapping[int, str] = EXIT_CODES) -> str:
    return "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in sorted(codes.items()))


def tool_parser(
    prog: str, description: str, *, codes: Mapping[int, str] = EXIT_CODES, usage: str | None = None
) -> argparse.ArgumentParser:
    """An ArgumentParser with ``--version`` (``<prog> <version>``) and the exit codes in its ``--help`` epilog."""
    parser = argparse.ArgumentParser(
        prog=prog,
        description=description,
        epilog=exit_codes_epilog(codes),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        usage=usage,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def print_error(prog: str, error: BaseException | str, file: TextIO | None = None) -> None:
    """``<prog>: <message>`` on one line of stderr (a multi-line message is joined)."""
    message = " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__
    print(f"{prog}: {message}", file=file or sys.stderr)
