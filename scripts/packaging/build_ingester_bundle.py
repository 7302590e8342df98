"""Build dist/ingester-bundle.tar.gz: the ingester package, its dependencies as wheels, the unit, install.sh.

    python scripts/packaging/build_ingester_bundle.py [--output PATH]

Layout of the tarball (reproducible: sorted entries, fixed mtime, root owner, normalised modes, gzip
header without name or time, so the same inputs give the same bytes)::

    install.sh                 ingester/deploy/install.sh (run as root after extracting)
    requirements.txt           ingester/requirements.txt
    tweet-ingester.service     ingester/systemd/tweet-ingester.service
    ingester/                  the package (no tests, no __pycache__)
    wheels/                    pure-Python wheels (py3-none-any) of requirements.txt and all their dependencies
    BUNDLE.json                platform ("any"), python, and the sha256 of every other file

The bundle is architecture-independent: every dependency is taken as a pure-Python wheel
(``pip download --only-binary=:all: --platform any --implementation py --abi none --python-version 3.11``),
so the same bundle installs on arm64 (Graviton) and x86_64 boxes and the EC2 architecture is one Terraform
setting (``ingester_architecture``) instead of three that must agree. A dependency with no pure-Python wheel
makes the build fail loudly instead of slipping in a wheel for one architecture. Wheels are cached in
build/ingester-wheels/any/ (keyed on requirements.txt), so rebuilds are fast and offline. ``--wheels-dir`` uses
a prepared directory instead (air-gapped builds).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "ingester"
REQUIREMENTS = PACKAGE / "requirements.txt"
UNIT = PACKAGE / "systemd" / "tweet-ingester.service"
INSTALL = PACKAGE / "deploy" / "install.sh"
FIXED_MTIME = 315_532_800  # 1980-01-01T00:00:00Z
PYTHON_VERSION = "3.11"
PLATFORM = "any"
EXCLUDED_PARTS = {"__pycache__", ".mypy_cache", ".pytest_cache", "tests"}
EXCLUDED_SUFFIXES = {".pyc", ".pyo"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download_wheels(cache_root: Path) -> Path:
    """pip download into build/ingester-wheels/any/, skipped when requirements.txt is unchanged."""
    target = cache_root / PLATFORM
    stamp = target / ".requirements.sha256"
    key = sha256(REQUIREMENTS.read_bytes() + f"{PLATFORM} py{PYTHON_VERSION}".encode())
    if stamp.is_file() and stamp.read_text().strip() == key and any(target.glob("*.whl")):
        print(f"wheels ({PLATFORM}): cached in {target}")
        return target
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--quiet",
        "--only-binary=:all:",
        "--platform",
        PLATFORM,
        "--python-version",
        PYTHON_VERSION,
        "--implementation",
        "py",
        "--abi",
        "none",
        "--dest",
        str(target),
        "-r",
        str(REQUIREMENTS),
    ]
    print(f"wheels ({PLATFORM}): pip download into {target}")
    subprocess.run(command, check=True)
    stamp.write_text(key + "\n")
    return target


def package_files() -> list[tuple[str, Path]]:
    files: list[tuple[str, Path]] = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if not path.is_file() or EXCLUDED_PARTS & set(rel.parts) or path.suffix in EXCLUDED_SUFFIXES:
            continue
        files.append((f"ingester/{rel.as_posix()}", path))
    return files


def collect(wheels_dir: Path) -> dict[str, tuple[bytes, int]]:
    """archive name -> (content, mode)"""
    entries: dict[str, tuple[bytes, int]] = {
        "install.sh": (INSTALL.read_bytes(), 0o755),
        "requirements.txt": (REQUIREMENTS.read_bytes(), 0o644),
        "tweet-ingester.service": (UNIT.read_bytes(), 0o644),
    }
    for name, path in package_files():
        entries[name] = (path.read_bytes(), 0o755 if name.endswith(".sh") else 0o644)
    wheels = sorted(wheels_dir.glob("*.whl"))
    if not wheels:
        raise SystemExit(f"no wheels in {wheels_dir}")
    for wheel in wheels:
        entries[f"wheels/{wheel.name}"] = (wheel.read_bytes(), 0o644)
    return entries


def build_tar(entries: dict[str, tuple[bytes, int]], manifest: dict[str, object]) -> bytes:
    entries = {**entries, "BUNDLE.json": ((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode(), 0o644)}
    dirs: set[str] = set()
    for name in entries:
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            dirs.add("/".join(parts[:i]))
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(dirs | set(entries)):
            info = tarfile.TarInfo(name)
            info.mtime = FIXED_MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            if name in entries:
                data, mode = entries[name]
                info.size = len(data)
                info.mode = mode
                tar.addfile(info, io.BytesIO(data))
            else:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                tar.addfile(info)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=out, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(raw.getvalue())
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / "ingester-bundle.tar.gz")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "build" / "ingester-wheels")
    parser.add_argument("--wheels-dir", type=Path, help="use these wheels instead of pip download")
    args = parser.parse_args(argv)
    wheels_dir = args.wheels_dir or download_wheels(args.cache_dir)
    entries = collect(wheels_dir)
    from ingester import __version__

    manifest: dict[str, object] = {
        "name": "tweet-ingester",
        "version": __version__,
        "platform": PLATFORM,
        "python": f"cp{PYTHON_VERSION.replace('.', '')}",
        "files": {name: sha256(data) for name, (data, _) in sorted(entries.items())},
    }
    payload = build_tar(entries, manifest)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    from ingester.storage.files import atomic_write  # the one fsync'ed "tmp then replace" (ROOT is on sys.path)

    atomic_write(args.output, payload, mode=0o644)
    wheels = sum(1 for name in entries if name.startswith("wheels/"))
    print(f"wrote {args.output} ({len(payload) / 1e6:.1f} MB, {wheels} wheels, sha256 {sha256(payload)[:16]}...)")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
