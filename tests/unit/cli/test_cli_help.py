"""Every operator tool's command line: help on every flag and subcommand, ``--version``, exit codes in ``--help``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ingester import __version__
from ingester.cli import build_parser as ingester_parser
from ingester.cli import main as ingester_main
from scripts.ops import (
    aws_credentials,
    deployer_ip,
    ingester_shell,
    redrive,
    smoke,
    state_backend,
    upgrade_ingester,
    x_token,
)
from scripts.ops.opensearch import dashboards_user, setup

# deployer_ip and state_backend build their parser inside main(): capture it from the ArgumentParser they make.
ParserFactory = Callable[[], argparse.ArgumentParser]


def _parser_built_by(main: Callable[[list[str]], object]) -> argparse.ArgumentParser:
    built: list[argparse.ArgumentParser] = []
    original = argparse.ArgumentParser.parse_args

    def capture(self: argparse.ArgumentParser, *args: object, **kwargs: object) -> object:
        built.append(self)
        raise SystemExit(0)

    argparse.ArgumentParser.parse_args = capture  # type: ignore[assignment,method-assign]
    try:
        with pytest.raises(SystemExit):
            main([])
    finally:
        argparse.ArgumentParser.parse_args = original  # type: ignore[method-assign]
    return built[0]


TOOLS: dict[str, ParserFactory] = {
    "ingester": ingester_parser,
    "redrive": redrive.build_parser,
    "smoke": smoke.build_parser,
    "x_token": x_token.build_parser,
    "upgrade_ingester": upgrade_ingester.build_parser,
    "opensearch": setup.build_parser,
    "dashboards_user": dashboards_user.build_parser,
    "state_backend": lambda: _parser_built_by(state_backend.main),
    "deployer_ip": lambda: _parser_built_by(deployer_ip.main),
    "aws_credentials": lambda: _parser_built_by(aws_credentials.main),
    "ingester_shell": lambda: _parser_built_by(ingester_shell.main),
}
MAINS: dict[str, Callable[[list[str]], object]] = {
    "ingester": ingester_main,
    "redrive": redrive.main,
    "smoke": smoke.main,
    "x_token": x_token.main,
    "upgrade_ingester": upgrade_ingester.main,
    "opensearch": setup.main,
    "dashboards_user": dashboards_user.main,
    "state_backend": state_backend.main,
    "deployer_ip": deployer_ip.main,
    "aws_credentials": aws_credentials.main,
    "ingester_shell": ingester_shell.main,
}


def _walk(parser: argparse.ArgumentParser, path: str) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, f"{path} {name}")


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_every_flag_and_subcommand_has_help(tool: str) -> None:
    missing: list[str] = []
    for path, parser in _walk(TOOLS[tool](), tool):
        if not (parser.description or "").strip():
            missing.append(f"{path}: no description")
        for action in parser._actions:
            if action.help is None or action.help == argparse.SUPPRESS or not str(action.help).strip():
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}: no help")
            if isinstance(action, argparse._SubParsersAction):
                helped = {choice.dest for choice in action._choices_actions if choice.help}
                missing += [f"{path} {name}: no summary" for name in action.choices if name not in helped]
    assert missing == []


@pytest.mark.parametrize("tool", sorted(TOOLS))
def test_help_documents_the_exit_codes(tool: str) -> None:
    for path, parser in _walk(TOOLS[tool](), tool):
        text = parser.format_help()
        assert "exit codes:" in text, path
        assert "  0  " in text and "  2  " in text, path


@pytest.mark.parametrize("tool", sorted(MAINS))
def test_version_prints_prog_and_the_project_version(tool: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        MAINS[tool](["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"{TOOLS[tool]().prog} {__version__}\n"


def test_an_ingester_configuration_error_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("LOG_LEVEL=CHATTY\n")
    assert ingester_main(["check", "--env-file", str(env_file)]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "python -m ingester: configuration error: LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL; "
        "got 'CHATTY'"
    ]


def test_a_script_error_is_one_line_prefixed_with_the_prog_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert redrive.main(["--no-terraform"], environ={}) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("python -m scripts.ops.redrive: missing setting: pass --bucket")


def test_botocore_errors_are_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from botocore.exceptions import NoCredentialsError

    def no_credentials(*_: object, **__: object) -> object:
        raise NoCredentialsError()

    monkeypatch.setattr(dashboards_user, "invite", no_credentials)
    argv = ["--no-terraform", "--user-pool-id", "us-east-1_x", "--region", "us-east-1", "a@example.com"]
    assert dashboards_user.main(argv, environ={}) == 1
    assert capsys.readouterr().err == "python -m scripts.ops.opensearch.dashboards_user: Unable to locate credentials\n"
