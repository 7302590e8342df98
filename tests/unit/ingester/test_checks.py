"""``ingester check``'s STATE_DIR check: it tells whether the daemon can write its state, and creates nothing."""

from __future__ import annotations

from pathlib import Path

from ingester.checks import check_state_dir
from ingester.config import Settings


def test_an_existing_writable_state_dir_passes_and_is_left_as_it_was(tmp_path: Path) -> None:
    (tmp_path / "kept").write_text("x")
    name, ok, detail = check_state_dir(Settings(state_dir=tmp_path))
    assert (name, ok) == ("state_dir", True) and "is writable" in detail
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept"]  # the probe file is gone again


def test_a_missing_state_dir_is_not_created(tmp_path: Path) -> None:
    # Given a STATE_DIR that does not exist yet under a writable parent
    target = tmp_path / "a" / "state"
    _, ok, detail = check_state_dir(Settings(state_dir=target))
    # Then check says the daemon will create it, and creates nothing itself
    assert ok and "will create it" in detail and str(tmp_path) in detail
    assert not (tmp_path / "a").exists()


def test_a_missing_state_dir_that_cannot_be_created_fails(tmp_path: Path) -> None:
    # Given a STATE_DIR below a regular file (no folder can ever be made there)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    _, ok, detail = check_state_dir(Settings(state_dir=blocker / "state"))
    assert not ok and "does not exist" in detail and "is not writable" in detail
