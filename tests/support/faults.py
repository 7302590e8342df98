"""Fault injection for the ingester's storage tests (and the chaos tier): a folder that turns read-only or full.

Tests run as root in CI containers, where ``chmod`` does not stop a write; so the read-only state is injected at
the ``os`` calls the storage makes (``open`` for writing, ``unlink``, ``replace``, ``rename``, ``mkdir``), only for
paths under the chosen folder. Reads and already open descriptors are untouched, as on a filesystem remounted
read-only after an error... except that the kernel would also refuse writes through open descriptors: ``write``
and ``writev`` are refused too for descriptors opened under the folder while it was writable.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import pytest

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class ReadOnlyFolder:
    """``install``, then ``active`` True / False: while active, every mutation under ``root`` fails with EROFS; with
    ``full`` set instead it is a full disk: writes fail with ENOSPC, while deletes and renames (which need no new
    blocks) still work."""

    def __init__(self, root: Path) -> None:
        self.root = str(root.resolve())
        self.active = False
        self.full = False
        self.refused = 0
        self._fds: set[int] = set()

    def _under(self, path: Any) -> bool:
        try:
            text = os.path.abspath(os.fspath(path))
        except TypeError:
            return False
        return text == self.root or text.startswith(self.root + os.sep)

    def _refuse(self, what: str) -> None:
        self.refused += 1
        if self.full:
            raise OSError(errno.ENOSPC, f"No space left on device ({what})")
        raise OSError(errno.EROFS, f"Read-only file system ({what})")

    @property
    def _writes_refused(self) -> bool:
        return self.active or self.full

    @property
    def _changes_refused(self) -> bool:
        return self.active

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open, real_unlink, real_replace, real_rename = os.open, os.unlink, os.replace, os.rename
        real_write, real_writev, real_mkdir, real_close = os.write, os.writev, os.mkdir, os.close

        def fake_open(path: Any, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
            if self._writes_refused and flags & _WRITE_FLAGS and self._under(path):
                self._refuse("open")
            fd = real_open(path, flags, mode, dir_fd=dir_fd)
            if self._under(path):
                self._fds.add(fd)
            return fd

        def fake_close(fd: int) -> None:
            self._fds.discard(fd)
            real_close(fd)

        def fake_unlink(path: Any, *, dir_fd: int | None = None) -> None:
            if self._changes_refused and self._under(path):
                self._refuse("unlink")
            real_unlink(path, dir_fd=dir_fd)

        def fake_replace(src: Any, dst: Any, **kw: Any) -> None:
            if self._changes_refused and (self._under(src) or self._under(dst)):
                self._refuse("replace")
            real_replace(src, dst, **kw)

        def fake_rename(src: Any, dst: Any, **kw: Any) -> None:
            if self._changes_refused and (self._under(src) or self._under(dst)):
                self._refuse("rename")
            real_rename(src, dst, **kw)

        def fake_mkdir(path: Any, mode: int = 0o777, *, dir_fd: int | None = None) -> None:
            if self._writes_refused and self._under(path):
                self._refuse("mkdir")
            real_mkdir(path, mode, dir_fd=dir_fd)

        def fake_write(fd: int, data: Any) -> int:
            if self._writes_refused and fd in self._fds:
                self._refuse("write")
            return real_write(fd, data)

        def fake_writev(fd: int, buffers: Any) -> int:
            if self._writes_refused and fd in self._fds:
                self._refuse("writev")
            return real_writev(fd, buffers)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "close", fake_close)
        monkeypatch.setattr(os, "unlink", fake_unlink)
        monkeypatch.setattr(os, "replace", fake_replace)
        monkeypatch.setattr(os, "rename", fake_rename)
        monkeypatch.setattr(os, "mkdir", fake_mkdir)
        monkeypatch.setattr(os, "write", fake_write)
        monkeypatch.setattr(os, "writev", fake_writev)
