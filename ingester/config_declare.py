"""The setting declaration machinery: :class:`Setting`, :func:`setting` and :func:`declaration`.

Each setting of ``ingester.config.Settings`` is one dataclass field declared with :func:`setting`, which holds
everything about it (the environment variable, parser, validator, range, help text, ``.env.example`` line and
command-line flag). The CLI flags (ingester.cli), ``ingester/.env.example`` and the settings tables of the READMEs
are built from these declarations (``python scripts/dev/settings_docs.py --write``).

Failure policy: none at run time; a malformed declaration fails at import (a test imports every declaration).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values

from ingester.config_parse import ConfigError, as_bool, as_str, check_range

Command = Literal["run", "rules", "check", "status"]
ALL_COMMANDS: tuple[Command, ...] = ("run", "rules", "check", "status")

#: Sections of ``.env.example``, in order (a setting's ``section`` is one of these keys).
SECTIONS: dict[str, str] = {
    "where": "what to read and where to put it",
    "x": "X source",
    "bluesky": "Bluesky source (Jetstream)",
    "replay": "replay source",
    "writer": "Firehose writer",
    "state": "state and observability",
    "deletions": "deletions (tombstones, the deleter)",
}


@dataclass(frozen=True)
class Setting:
    """Everything about one setting but its field name, type and default (those are the dataclass field's).

    The same shape as ``transform.settings.Setting`` (the Lambda's own copy; tests check both agree on it).
    """

    env: str
    """The environment variable (also the key in ``.env`` and in the systemd EnvironmentFile)."""
    help: str
    """One paragraph: the CLI flag's help, the ``.env.example`` comment, the README tables' text."""
    parse: Callable[[str, object], object] = as_str
    """Raw text (or a flag's value) -> typed value; raises ConfigError naming the variable."""
    check: Callable[[str, Any], Any] | None = None
    """Validates and normalises the field's value (skipped for None); runs on every construction."""
    range: tuple[float, float] | None = None
    """Inclusive bounds of a number (checked after ``check``, skipped for None)."""
    section: str = "state"
    """Its section of ``.env.example`` (a key of SECTIONS)."""
    example: str | None = None
    """Its value in ``.env.example`` when that is not the default."""
    commented: bool = False
    """Shown commented out in ``.env.example`` (optional, or for local use only)."""
    flag: str | None = None
    """Its command-line flag, if any, for ``commands``; the flag's value goes through ``parse``."""
    commands: tuple[Command, ...] = ()
    choices: tuple[str, ...] | None = None
    """Closed set of values (also the flag's choices)."""
    fallback_env: tuple[str, ...] = ()
    """Variables read, in order, when ``env`` is set nowhere (STATE_DIR falls back to systemd's STATE_DIRECTORY)."""
    essential: bool = False
    """Listed in docs/operate.md's essentials table (the full table is in ingester/README.md)."""
    secret: bool = False
    """Never shown: left out of ``repr`` and masked in ``public_dict``."""
    default_text: str | None = None
    """How the documentation states the default when it is computed (STATE_DIR's)."""

    @property
    def values_text(self) -> str:
        """The accepted values in words: the choices, or the range ("" when any value of its type will do)."""
        if self.choices is not None:
            return ", ".join(self.choices)
        if self.range is not None:
            return " to ".join(f"{int(v):,}" if float(v).is_integer() else f"{v:g}" for v in self.range)
        return ""

    @property
    def help_with_values(self) -> str:
        """``help`` and the accepted values, as the CLI and ``.env.example`` show it."""
        if self.range is not None:
            return f"{self.help} From {self.values_text}."
        if self.choices is not None:
            return f"{self.help} One of {self.values_text}."
        return self.help

    @property
    def switch(self) -> bool:
        """A true/false setting: its flag is ``--name`` / ``--no-name``."""
        return self.parse is as_bool


_SETTING = "setting"


def setting(default: Any = None, *, default_factory: Callable[[], Any] | None = None, **spec: Any) -> Any:
    """A :class:`Settings` field declared with its :class:`Setting` (keyword arguments)."""
    declared = Setting(**spec)
    metadata = {_SETTING: declared}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata, repr=not declared.secret)
    return dataclasses.field(default=default, metadata=metadata, repr=not declared.secret)


def declaration(f: dataclasses.Field[Any]) -> Setting:
    declared = f.metadata[_SETTING]
    assert isinstance(declared, Setting)
    return declared


def check_fields(settings: Any) -> None:
    """Run each field's ``check`` (which may normalise the value) and ``range`` on a new frozen settings object."""
    for f in dataclasses.fields(settings):
        declared = declaration(f)
        value = getattr(settings, f.name)
        if value is None:
            continue
        if declared.check is not None:
            value = declared.check(declared.env, value)
            object.__setattr__(settings, f.name, value)
        if declared.range is not None:
            check_range(declared.env, value, *declared.range)


def default_text(cls: type[Any], name: str) -> str:
    """The default of field ``name`` of settings class ``cls`` as it is written in ``.env`` ("" when none)."""
    f = next(f for f in dataclasses.fields(cls) if f.name == name)
    declared = declaration(f)
    if declared.default_text is not None:
        return declared.default_text
    return format_value(f.default)


def format_value(value: object) -> str:
    """A setting's value as it is written in ``.env`` ("" for None and for no default)."""
    if value is None or value is dataclasses.MISSING:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def merged_values(
    cls: type[Any], cli: Mapping[str, object], environ: Mapping[str, str], dotenv_path: Path | None
) -> dict[str, Any]:
    """The fields of settings class ``cls`` that are set somewhere, parsed: CLI flags (field names) > environment >
    ``.env`` file (defaults are the class's).

    ``cli`` values that are None are ignored (an unset flag). ``dotenv_path`` that does not exist is ignored; pass
    None to skip ``.env`` entirely. An empty value counts as unset. An unknown flag is a ConfigError.
    """
    dotenv: dict[str, str] = {}
    if dotenv_path is not None and Path(dotenv_path).is_file():
        dotenv = {k: v for k, v in dotenv_values(dotenv_path).items() if v is not None}
    known = {f.name for f in dataclasses.fields(cls)}
    for name in cli:
        if name not in known:
            raise ConfigError(f"unknown setting {name!r}")
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        declared = declaration(f)
        cli_value = cli.get(f.name)
        if cli_value is not None:
            kwargs[f.name] = declared.parse(declared.env, cli_value)
            continue
        for env_name in (declared.env, *declared.fallback_env):
            raw = environ.get(env_name) or dotenv.get(env_name)
            if raw:
                kwargs[f.name] = declared.parse(env_name, raw)
                break
    return kwargs


def public_values(settings: Any) -> dict[str, object]:
    """A settings object's values as JSON-able values with secrets masked (for logs and ``check``)."""
    out: dict[str, object] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if declaration(f).secret:
            value = "***" if value else None
        elif isinstance(value, Path):
            value = str(value)
        elif isinstance(value, tuple):
            value = list(value)
        out[f.name] = value
    return out
