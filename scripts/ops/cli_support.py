"""What every operator tool's command line shares: ``--version``, the exit-code epilog, ``--verbose`` logging,
one-line errors."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping, Sequence
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


# Operator tools are run by hand at a terminal: their log is plain "LEVEL logger message" lines on stderr, warnings
# only unless --verbose; their result goes to stdout and a failure to print_error's one line.
LOG_FORMAT = "%(levelname)s %(name)s %(message)s"


def add_verbose_argument(parser: argparse.ArgumentParser, help: str) -> None:
    """``-v/--verbose``: log at DEBUG (read back by :func:`parse_tool_args`); ``help`` says what that shows."""
    parser.add_argument("-v", "--verbose", action="store_true", help=help)


def parse_tool_args(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse a tool's command line and configure its logging (DEBUG with ``--verbose``, else WARNING)."""
    args = parser.parse_args(argv)
    verbose = bool(getattr(args, "verbose", False))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.WARNING, format=LOG_FORMAT)
    return args


def print_error(prog: str, error: BaseException | str, file: TextIO | None = None) -> None:
    """``<prog>: <message>`` on one line of stderr (a multi-line message is joined)."""
    message = " ".join(line.strip() for line in str(error).splitlines() if line.strip()) or type(error).__name__
    print(f"{prog}: {message}", file=file or sys.stderr)
