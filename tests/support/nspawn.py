"""A real systemd in a container: a Debian bookworm root filesystem booted with systemd-nspawn.

Used by the boot tests (tests/integration/boot/) to install the ingester as root, exactly as the EC2 user
data does, and to let a real systemd run it as its service user with the unit's hardening really applied.

* :func:`ensure_rootfs` builds the root filesystem once with ``debootstrap`` from the Debian mirror that this
  machine's own apt sources name (read at run time, never written down here), and caches it under
  ``build/boot-rootfs/<key>/`` (git-ignored), keyed on everything that goes into it. Reruns skip the build.
* :class:`Container` boots a fresh overlay of that cache (the cache itself is never written), so no state
  leaks from one run to the next, and drives its systemd with ``nsenter``. The container shares the host's
  network: services on 127.0.0.1 (the moto server, a fake X API) are reachable from inside.
  :meth:`Container.close` powers it off and makes sure the nspawn process is gone (killed by its PID).

Needs root, ``debootstrap``, ``systemd-nspawn`` (Debian package systemd-container) and ``nsenter``;
:func:`unavailable_reason` says why not, for a skip (which REQUIRE_ALL_TESTS=1 turns into a failure in CI).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.paths import REPO_ROOT

SUITE = "bookworm"  # Debian 12: its python3 is 3.11, the Python the bundle's wheels are built for (like AL2023's)
PACKAGES = ("systemd", "systemd-sysv", "dbus", "python3", "python3-venv", "ca-certificates", "sudo")
# The instance's aws CLI (Amazon Linux ships one). Version 1.29+ honours AWS_ENDPOINT_URL, so the user data's
# own `aws s3api` / `aws s3 cp` commands reach the moto server unchanged. Installed offline into /opt/awscli
# from wheels that the host's pip downloads (the container has no pip configuration of its own).
AWSCLI = "awscli==1.46.3"
RECIPE_VERSION = "1"  # bump when the build steps below change, so that caches built the old way are not reused
CACHE_ROOT = REPO_ROOT / "build" / "boot-rootfs"
TIMINGS = pytest.StashKey[dict[str, float]]()
"""Where the boot tests leave their phase timings (seconds) for the terminal summary."""
TOOLS = ("debootstrap", "systemd-nspawn", "nsenter", "mount", "umount")


class ContainerError(RuntimeError):
    pass


def debian_mirror(
    sources_dir: Path = Path("/etc/apt/sources.list.d"), sources_list: Path = Path("/etc/apt/sources.list")
) -> str | None:
    """The Debian URI that this machine's apt sources name for the bookworm suite (deb822 or one-line format)."""
    for path in sorted(sources_dir.glob("*.sources")) if sources_dir.is_dir() else []:
        for stanza in re.split(r"\n\s*\n", path.read_text(encoding="utf-8", errors="replace")):
            fields: dict[str, str] = {}
            for line in stanza.splitlines():
                if line.startswith("#") or ":" not in line:
                    continue
                name, value = line.split(":", 1)
                fields[name.strip().lower()] = value.strip()
            if SUITE in fields.get("suites", "").split() and "deb" in fields.get("types", "deb").split():
                uris = fields.get("uris", "").split()
                if uris:
                    return uris[0]
    if sources_list.is_file():
        for line in sources_list.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = re.sub(r"\[[^]]*\]", "", line).split()  # drop "[signed-by=...]" options
            if len(parts) >= 3 and parts[0] == "deb" and parts[2] == SUITE:
                return parts[1]
    return None


def unavailable_reason() -> str | None:
    """Why a container cannot be booted here, or None."""
    if sys.platform != "linux":
        return "systemd-nspawn needs Linux"
    if os.geteuid() != 0:
        return "booting a container with systemd-nspawn needs root"
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not found (apt-get install debootstrap systemd-container)"
    if debian_mirror() is None:
        return f"no Debian {SUITE} mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
    return None


def host_arch() -> str:
    return os.uname().machine


def cache_key() -> str:
    recipe = json.dumps([RECIPE_VERSION, SUITE, host_arch(), sorted(PACKAGES), AWSCLI]).encode()
    return hashlib.sha256(recipe).hexdigest()[:16]


def _run(args: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None) -> str:
    proc = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if proc.returncode != 0:
        raise ContainerError(f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc.stdout


def ensure_rootfs(cache_root: Path = CACHE_ROOT) -> tuple[Path, float]:
    """The cached root filesystem (built now if absent) and how long building it took (0.0 when cached)."""
    target = cache_root / cache_key()
    if (target / ".complete").is_file():
        return target, 0.0
    start = time.monotonic()
    cache_root.mkdir(parents=True, exist_ok=True)
    mirror = debian_mirror()
    if mirror is None:
        raise ContainerError(f"no Debian {SUITE} mirror in this machine's apt sources")
    work = Path(tempfile.mkdtemp(prefix="building-", dir=cache_root))
    try:
        root = work / "root"
        _run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", SUITE, str(root), mirror],
            timeout=900,
        )
        # The aws CLI: wheels downloaded by the host's pip (its index settings), installed offline inside.
        # /var/tmp, not /tmp: systemd-nspawn mounts a fresh tmpfs on /tmp.
        wheels = root / "var" / "tmp" / "awscli-wheels"
        _run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check"),
                *("--only-binary=:all:", "--platform", f"manylinux2014_{host_arch()}", "--python-version", "3.11"),
                *("--implementation", "cp", "--dest", str(wheels), AWSCLI),
            ],
            timeout=600,
        )
        script = (
            "set -e; python3 -m venv /opt/awscli; "
            "/opt/awscli/bin/pip install --quiet --disable-pip-version-check --no-index "
            f"--find-links /var/tmp/awscli-wheels '{AWSCLI}'; "
            "ln -sf /opt/awscli/bin/aws /usr/local/bin/aws; rm -rf /var/tmp/awscli-wheels; aws --version"
        )
        _run(
            [
                "systemd-nspawn",
                "-q",
                "-D",
                str(root),
                "--register=no",
                "--keep-unit",
                "--pipe",
                "/bin/sh",
                "-c",
                script,
            ],
            timeout=600,
        )
        (root / ".complete").write_text(json.dumps({"packages": PACKAGES, "awscli": AWSCLI}) + "\n", encoding="utf-8")
        if (target / ".complete").is_file():  # another run finished building it meanwhile
            return target, time.monotonic() - start
        if target.exists():  # a half-built leftover (no .complete)
            shutil.rmtree(target)
        root.rename(target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target, time.monotonic() - start


def _children(pid: int) -> list[int]:
    """PIDs whose parent is ``pid`` (the container's systemd is the child of the nspawn process)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return sorted(found)


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


class _NoSystemBus(ContainerError):
    """The container's systemd never answered on its bus within the boot timeout."""


@dataclass
class Container:
    """One booted container on a fresh overlay of ``image``; use as a context manager (always powered off)."""

    image: Path
    workdir: Path
    binds: Sequence[str] = ()  # host paths (e.g. a loop device standing in for an EBS volume) bound in at boot
    root: Path = field(init=False)
    nspawn: subprocess.Popen[bytes] | None = field(init=False, default=None)
    leader: int = field(init=False, default=0)
    _mounted: bool = field(init=False, default=False)

    def __post_init__(self) -> None:
        self.root = self.workdir / "root"

    # -- lifecycle -----------------------------------------------------------------------------------
    def prepare(self) -> None:
        """A writable root over the read-only cache: an overlay mount, else a full copy."""
        upper, work = self.workdir / "upper", self.workdir / "work"
        for path in (self.root, upper, work):
            path.mkdir(parents=True)
        options = f"lowerdir={self.image},upperdir={upper},workdir={work}"
        proc = subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(self.root)],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if proc.returncode == 0:
            self._mounted = True
        else:  # no overlayfs here: copy (slower, same result)
            self.root.rmdir()
            _run(["cp", "-a", "--reflink=auto", str(self.image), str(self.root)], timeout=600)
        (self.root / ".complete").unlink(missing_ok=True)

    def boot(self, timeout: float = 120) -> None:
        """Start the container and wait until its systemd reports the boot over ("running" or "degraded").

        Seen once in several CI runs on a loaded 2-core machine: the container's systemd never brought its bus up
        (``systemctl is-system-running --wait`` answered nothing for the whole timeout, the console stopping
        after journald started). That boot is killed and started once more on the same root; a second hang, or
        any other failure, is raised with both consoles."""
        try:
            self._boot_once(timeout)
        except _NoSystemBus as first:
            if self.nspawn is not None:
                if self.nspawn.poll() is None:
                    self.nspawn.kill()
                self.nspawn.wait(timeout=30)
            self.nspawn, self.leader = None, 0
            try:
                self._boot_once(timeout)
            except ContainerError as second:
                raise ContainerError(f"{second}\n--- the first attempt, also hung ---\n{first}") from None

    def _boot_once(self, timeout: float) -> None:
        console = (self.workdir / "console.log").open("wb")
        self.nspawn = subprocess.Popen(
            [
                *("systemd-nspawn", "-q", "-D", str(self.root), "-b", "--register=no", "--keep-unit"),
                *(f"--bind={path}" for path in self.binds),
            ],
            stdin=subprocess.DEVNULL,
            stdout=console,
            stderr=subprocess.STDOUT,
        )
        console.close()
        deadline = time.monotonic() + timeout
        while not self.leader:
            if self.nspawn.poll() is not None:
                raise ContainerError(f"systemd-nspawn exited {self.nspawn.returncode}:\n{self.console()}")
            if time.monotonic() > deadline:
                raise ContainerError(f"no container systemd after {timeout:.0f} s:\n{self.console()}")
            pids = _children(self.nspawn.pid)
            if pids:
                self.leader = pids[0]
            else:
                time.sleep(0.1)
        # "running" or "degraded" (some unit of the minimal image failed): both mean boot is over. Until the
        # container's systemd listens on its bus, systemctl answers "offline" at once, even with --wait.
        state = ""
        while state not in {"running", "degraded"}:
            if time.monotonic() > deadline:
                kind = _NoSystemBus if not state else ContainerError
                raise kind(f"container did not finish booting ({state!r}):\n{self.console()}")
            if state:
                time.sleep(0.2)
            state = self.run(["systemctl", "is-system-running", "--wait"], timeout=timeout).stdout.strip()

    def close(self) -> None:
        """Power off, wait for the nspawn process to end (killing it by its PID if it does not), unmount."""
        try:
            if self.nspawn is not None and self.nspawn.poll() is None:
                if self.leader:
                    subprocess.run(
                        ["nsenter", "-t", str(self.leader), "-a", "systemctl", "poweroff", "--no-block"],
                        capture_output=True,
                        timeout=30,
                        check=False,
                    )
                try:
                    self.nspawn.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    self.nspawn.send_signal(signal.SIGKILL)
                    self.nspawn.wait(timeout=30)
        finally:
            if self._mounted:
                subprocess.run(["umount", "-l", str(self.root)], capture_output=True, timeout=60, check=False)
                self._mounted = False
            if self.nspawn is None or self.nspawn.poll() is not None:  # the installed files: hundreds of MB
                for name in ("root", "upper", "work"):
                    shutil.rmtree(self.workdir / name, ignore_errors=True)

    def __enter__(self) -> Container:
        try:
            self.prepare()
            self.boot()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def view(self, path: str | Path) -> Path:
        """``path`` as the container's processes see it (its mount namespace: mounts made inside included),
        read from the host through /proc/<leader>/root."""
        if not self.leader:
            raise ContainerError("the container is not running")
        return Path(f"/proc/{self.leader}/root") / Path(path).relative_to("/")

    def console(self) -> str:
        path = self.workdir / "console.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    # -- driving it ----------------------------------------------------------------------------------
    def run(
        self, args: Sequence[str], *, timeout: float = 120, check: bool = False, input_text: str | None = None
    ) -> Result:
        """A command in every namespace of the container (as root, outside any unit)."""
        if not self.leader:
            raise ContainerError("the container is not running")
        proc = subprocess.run(
            ["nsenter", "-t", str(self.leader), "-a", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            input=input_text,
            env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"},
        )
        result = Result(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise ContainerError(
                f"{' '.join(args)} exited {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
            )
        return result

    def run_as_service(
        self, args: Sequence[str], *, environment: Mapping[str, str], timeout: float = 900, unit: str = "boot-script"
    ) -> Result:
        """Run a command as a transient root service of the container's systemd and wait for it.

        This is how cloud-init runs user data (from cloud-final.service): as root, umask 0022, no terminal.
        """
        props = [f"--property=Environment={k}={v}" for k, v in environment.items()]
        return self.run(
            ["systemd-run", "--quiet", "--wait", "--pipe", "--collect", f"--unit={unit}", *props, *args],
            timeout=timeout,
        )

    def show(self, unit: str, *props: str) -> dict[str, str]:
        out = self.run(["systemctl", "show", unit, *(f"--property={p}" for p in props)], check=True).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, unit: str) -> list[dict[str, object]]:
        """The unit's journal entries (JSON), oldest first."""
        out = self.run(["journalctl", "--no-pager", "-o", "json", "-u", unit], timeout=60).stdout
        return [json.loads(line) for line in out.splitlines() if line.strip()]

    def journal_text(self, unit: str, lines: int = 200) -> str:
        return self.run(["journalctl", "--no-pager", "-u", unit, "-n", str(lines)], timeout=60).stdout
