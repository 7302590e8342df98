"""Command line: ``python -m ingester {run,rules,check,status}``.

Settings come from flags > environment > ``.env`` (``--env-file``, default ``./.env``) > defaults. Every flag
of a setting is built from the setting's declaration in ingester.config (name, choices, help, default).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from ingester import __version__, logsetup
from ingester.config import SETTINGS, Command, ConfigError, Settings, default_state_dir, default_text
from ingester.config_require import require_for_x
from ingester.stats import read_status


def _setting_flags(parser: argparse.ArgumentParser, command: Command) -> None:
    """The flags of ``command``, each built from its setting's declaration (ingester.config.Settings)."""
    parser.add_argument(
        "--env-file",
        type=Path,
        default=Path(os.environ.get("INGESTER_ENV_FILE") or ".env"),
        help="dotenv file (default $INGESTER_ENV_FILE, else ./.env)",
    )
    for name, declared in SETTINGS.items():
        if declared.flag is None or command not in declared.commands:
            continue
        default = default_text(Settings, name)
        help_text = f"{declared.env}: {declared.help_with_values}"
        if default:
            help_text += f" Default: {default}."
        shape: dict[str, Any] = (
            {"action": argparse.BooleanOptionalAction, "default": None}
            if declared.switch
            else {"metavar": declared.env, "choices": declared.choices}
        )
        parser.add_argument(declared.flag, dest=name, help=help_text.replace("%", "%%"), **shape)


PROG = "python -m ingester"

# Exit codes of every subcommand; the systemd unit does not restart the daemon on 2.
EXIT_CODES = {
    0: "done (run: a non-looping replay was delivered, or the daemon was stopped)",
    1: "failed (run: fatal, systemd restarts it; rules: X refused; check: a check failed; status: no state file)",
    2: "configuration or usage error (the message names the setting or flag); restarting cannot fix it",
}
EPILOG = "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())


def _error(message: object) -> None:
    """``python -m ingester: <message>``: one line on stderr."""
    text = " ".join(line.strip() for line in str(message).splitlines() if line.strip())
    print(f"{PROG}: {text}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Tweets from the X API v2 filtered stream (or a replay file) into Amazon Data Firehose.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", help="run, rules, check or status")

    def subcommand(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=description,
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    run = subcommand(
        "run",
        "run the daemon (exits 0 when a non-looping replay is delivered)",
        "Run the daemon: read the X filtered stream (or REPLAY_FILE), deduplicate, and deliver to Firehose with a "
        "write-ahead log and a disk spool. Stops cleanly on SIGTERM/SIGINT; progress is in STATE_DIR/status.json.",
    )
    _setting_flags(run, "run")

    rules = subcommand(
        "rules",
        "show the X stream rules and the diff to TRACKED_TERMS",
        "Show the filtered-stream rules X holds, the rules TRACKED_TERMS asks for, and the difference. "
        "Changes nothing unless --apply is given.",
    )
    _setting_flags(rules, "rules")
    rules.add_argument("--apply", action="store_true", help="sync: add missing rules, delete its own stale ones")

    check = subcommand(
        "check",
        "validate the configuration and reach X and Firehose",
        "Validate the configuration, then reach X and the Firehose delivery stream read-only (creates nothing); "
        "prints one OK/FAIL line per check.",
    )
    _setting_flags(check, "check")

    status = subcommand(
        "status",
        "what the running daemon is doing (reads STATE_DIR/status.json)",
        "Print what the running daemon is doing, from the state file it rewrites every few seconds "
        "(STATE_DIR/status.json); says when the process is gone or the file is stale.",
    )
    _setting_flags(status, "status")
    status.add_argument("--json", action="store_true", help="print the raw state file")
    return parser


def settings_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> Settings:
    cli: dict[str, object] = {name: getattr(args, name) for name in SETTINGS if getattr(args, name, None) is not None}
    return Settings.from_sources(cli, dict(os.environ) if environ is None else environ, args.env_file)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "status":
        return cmd_status(args)
    try:
        settings = settings_from_args(args)
    except ConfigError as exc:
        logsetup.configure(args.log_level or "INFO")
        _error(f"configuration error: {exc}")
        return 2
    logsetup.configure(settings.log_level)
    logsetup.register_secret(settings.x_bearer_token)
    if args.command == "run":
        return cmd_run(settings)
    if args.command == "rules":
        return cmd_rules(settings, apply=args.apply)
    return cmd_check(settings)


def cmd_run(settings: Settings) -> int:
    from ingester.app import run

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return run(settings, stop_event=stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def cmd_rules(settings: Settings, *, apply: bool) -> int:
    from ingester.rules import RulesError, desired_rules, diff_rules, make_rules_client
    from ingester.secrets import SecretUnavailableError, resolve_bearer_token

    try:
        require_for_x(settings)
        desired = desired_rules(settings.tracked_terms, suffix=settings.x_rule_suffix, max_rules=settings.x_max_rules)
        token = resolve_bearer_token(settings)
        logsetup.register_secret(token)
        client = make_rules_client(settings, token)
        current = client.list()
    except (ConfigError, RulesError, SecretUnavailableError) as exc:
        _error(exc)
        return 2 if isinstance(exc, ConfigError) else 1
    diff = diff_rules(current, desired)
    print(f"current rules ({len(current)}):")
    for rule in current:
        print(f"  {rule.id}  tag={rule.tag!r}  {rule.value}")
    print(f"desired rules ({len(desired)}) from TRACKED_TERMS:")
    for rule in desired:
        print(f"  tag={rule.tag!r}  {rule.value}")
    if diff.empty:
        print("in sync: nothing to do")
        return 0
    for rule in diff.delete:
        print(f"- delete {rule.id} tag={rule.tag!r} {rule.value}")
    for rule in diff.add:
        print(f"+ add    tag={rule.tag!r} {rule.value}")
    if not apply:
        print("run again with --apply to sync")
        return 0
    try:
        client.apply(diff)
    except RulesError as exc:
        _error(exc)
        return 1
    print(f"applied: {len(diff.add)} added, {len(diff.delete)} deleted")
    return 0


def cmd_check(settings: Settings) -> int:
    from ingester.checks import run_checks

    results = run_checks(settings)
    width = max(len(name) for name, _, _ in results)
    for name, ok, detail in results:
        print(f"{'OK  ' if ok else 'FAIL'}  {name:<{width}}  {detail}")
    failed = [name for name, ok, _ in results if not ok]
    print("all checks passed" if not failed else f"{len(failed)} check(s) failed: {', '.join(failed)}")
    return 0 if not failed else 1


def _age(iso: str | None) -> str:
    if not iso:
        return "-"
    try:
        then = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    seconds = int((datetime.now(UTC) - then).total_seconds())
    if seconds < 120:
        return f"{iso} ({seconds} s ago)"
    if seconds < 7200:
        return f"{iso} ({seconds // 60} min ago)"
    return f"{iso} ({seconds // 3600} h ago)"


def _pid_alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def format_status(status: dict[str, Any], *, now: float | None = None) -> str:
    updated = status.get("updated_at")
    stale = False
    if isinstance(updated, str):
        try:
            age = (now or time.time()) - datetime.fromisoformat(updated.replace("Z", "+00:00")).timestamp()
            stale = age > 60
        except ValueError:
            stale = True
    alive = _pid_alive(status.get("pid"))
    state = status.get("state", "?")
    if state in {"running", "starting", "stopping"} and (not alive or stale):
        state = f"{state}? (pid {status.get('pid')} {'not running' if not alive else 'not updating'})"
    dropped = status.get("dropped") or {}
    dropped_text = ", ".join(f"{k}={v}" for k, v in sorted(dropped.items())) or "none"
    connected = "yes" if status.get("stream_connected") else "no"
    if status.get("source") == "replay":
        connected = "n/a (replay)"
    lines = [
        f"state            {state}   (pid {status.get('pid')}, ingester {status.get('version')})",
        f"source           {status.get('source')} -> firehose {status.get('delivery_stream')}",
        f"updated          {_age(updated if isinstance(updated, str) else None)}",
        f"started          {_age(status.get('started_at'))}",
        f"stream connected {connected}   since {_age(status.get('connected_since'))}   "
        f"reconnects {status.get('reconnects', 0)}",
        f"paused until     {status.get('paused_until') or '-'}",
        f"rate             {status.get('tweets_per_s', 0)} tweets/s",
        f"read             {status.get('read', 0)}   accepted {status.get('accepted', 0)}   "
        f"duplicates {status.get('duplicates', 0)}",
        f"delivered        {status.get('delivered', 0)}   API calls {status.get('api_calls', 0)}   "
        f"failed calls {status.get('failed_calls', 0)}   retried records {status.get('retried', 0)}",
        f"firehose         {'healthy' if status.get('firehose_healthy', True) else 'NOT ACCEPTING (spooling)'}",
        f"spool            {status.get('spool_records', 0)} records, {status.get('spool_bytes', 0)} bytes of "
        f"{status.get('spool_max_bytes', 0)} max   (spooled {status.get('spooled', 0)}, "
        f"drained {status.get('unspooled', 0)})",
        f"storage          {status.get('storage_state', 'ok')}   {status.get('source_paused') or ''}   "
        f"held {status.get('spool_held_records', 0)} records   errors {status.get('storage_errors', 0)}",
        f"queue            {status.get('queue_depth', 0)} records   WAL unsettled {status.get('wal_unsettled', 0)}",
        f"dead-lettered    {status.get('dead_lettered', 0)}   (STATE_DIR/dead-letter.jsonl)",
        f"dropped          {status.get('dropped_total', 0)}   ({dropped_text})",
        f"last error       {status.get('last_error') or '-'}   {status.get('last_error_at') or ''}".rstrip(),
    ]
    return "\n".join(lines)


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = None if args.state_dir is None else Path(args.state_dir).expanduser()
    if state_dir is None:
        try:
            settings = Settings.from_sources({}, dict(os.environ), args.env_file)
            state_dir = settings.state_dir
        except ConfigError:
            state_dir = default_state_dir()
    try:
        status = read_status(state_dir)
    except FileNotFoundError:
        _error(f"no state file in {state_dir}: the ingester has not run with this STATE_DIR")
        return 1
    except (OSError, ValueError) as exc:
        _error(f"cannot read the state file in {state_dir}: {exc}")
        return 1
    if args.json:
        print(json.dumps(status, indent=2, sort_keys=True))
        return 0
    try:
        text = format_status(status)
    except (TypeError, ValueError, AttributeError) as exc:  # hand-edited, or written by another version
        _error(f"the state file in {state_dir} has unexpected values ({exc}); see it with --json")
        return 1
    print(text)
    return 0
