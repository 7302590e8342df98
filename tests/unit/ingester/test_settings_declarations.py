"""Each ingester setting is declared once, and the CLI flags and the documentation are built from that."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import pytest

from ingester.cli import build_parser, settings_from_args
from ingester.config import ENV_NAMES, SECTIONS, SETTINGS, ConfigError, Settings, declaration
from scripts.dev import settings_docs


def test_the_generated_settings_documentation_is_current() -> None:
    stale = [
        str(path.relative_to(settings_docs.REPO_ROOT))
        for path, text in settings_docs.expected_files().items()
        if path.read_text(encoding="utf-8") != text
    ]
    assert stale == [], "run: python scripts/dev/settings_docs.py --write"


def test_every_field_is_declared_completely_and_once() -> None:
    fields = dataclasses.fields(Settings)
    assert [f.name for f in fields] == list(SETTINGS) == list(ENV_NAMES)
    assert len(set(ENV_NAMES.values())) == len(ENV_NAMES)
    for f in fields:
        declared = declaration(f)
        assert declared.help.strip() and declared.help.rstrip().endswith((".", ")")), f.name
        assert declared.section in SECTIONS, f.name
    flags = [d.flag for d in SETTINGS.values() if d.flag]
    assert len(flags) == len(set(flags))


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


@pytest.mark.parametrize("command", ["run", "rules", "check", "status"])
def test_every_setting_flag_comes_from_its_declaration(command: str) -> None:
    parser = _subcommands()[command]
    own = {"help", "env_file", "apply", "json"}  # not settings: the command's own switches
    dests = set()
    for action in parser._actions:
        if action.dest in own:
            continue
        declared = SETTINGS[action.dest]
        assert declared.flag in action.option_strings, action.dest
        assert action.help is not None and action.help.startswith(f"{declared.env}: {declared.help}")
        dests.add(action.dest)
    assert dests == {name for name, d in SETTINGS.items() if command in d.commands}


def test_flags_go_through_the_settings_parsers_and_beat_the_environment(tmp_path: Path) -> None:
    none = str(tmp_path / "none.env")
    env = {"REPLAY_LOOP": "true", "LINGER_MS": "5", "INGESTER_LIMIT": "7"}
    args = build_parser().parse_args(["run", "--env-file", none, "--no-loop", "--linger-ms", "1_000", "--rate", "max"])
    settings = settings_from_args(args, env)
    assert (settings.loop, settings.linger_ms, settings.rate, settings.limit) == (False, 1000, None, 7)
    for argv, name in [(["--limit", "0"], "INGESTER_LIMIT"), (["--linger-ms", "soon"], "LINGER_MS")]:
        with pytest.raises(ConfigError, match=name):
            settings_from_args(build_parser().parse_args(["run", "--env-file", none, *argv]), {})
    with pytest.raises(SystemExit):  # a closed set is checked by argparse, from the declared choices
        build_parser().parse_args(["run", "--source", "kafka"])


def test_a_stale_generated_table_is_detected() -> None:
    text = f"intro\n{settings_docs.begin_marker('t')}\n| old |\n{settings_docs.END_MARKER}\nrest\n"
    assert settings_docs.with_table(text, "t", "| new |") == text.replace("| old |", "| new |")
    with pytest.raises(ValueError, match="'u'"):
        settings_docs.with_table(text, "u", "| new |")
