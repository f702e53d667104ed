"""Atomic writes: a reader sees the old file or the whole new one, never a part."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from repartition.io._atomic import atomic_directory, atomic_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_file_replaces_and_gets_ordinary_permissions(tmp_path: Path) -> None:
    target = tmp_path / "out" / "keys.txt"
    with atomic_file(target) as temporary:
        temporary.write_text("new")
    assert target.read_text() == "new"
    # Like a file created with open(): 0o666 minus the umask, not tempfile's private 0o600.
    assert _mode(target) == 0o666 & ~_umask()
    assert [p.name for p in target.parent.iterdir()] == ["keys.txt"]


def test_failed_file_write_keeps_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "keys.txt"
    target.write_text("old")

    def interrupted() -> None:
        with atomic_file(target) as temporary:
            temporary.write_text("half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted()
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["keys.txt"]


def test_directory_is_moved_in_whole(tmp_path: Path) -> None:
    target = tmp_path / "dataset"
    with atomic_directory(target) as temporary:
        (temporary / "month=2025-01").mkdir()
        (temporary / "month=2025-01" / "part-0.parquet").write_bytes(b"x")
    assert (target / "month=2025-01" / "part-0.parquet").read_bytes() == b"x"
    assert _mode(target) == 0o777 & ~_umask()
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]


def test_directory_refuses_to_overwrite_unless_asked(tmp_path: Path) -> None:
    target = tmp_path / "dataset"
    target.mkdir()
    (target / "old").write_text("old")
    with pytest.raises(FileExistsError, match="overwrite=True"), atomic_directory(target):
        pass
    with atomic_directory(target, overwrite=True) as temporary:
        (temporary / "new").write_text("new")
    assert [p.name for p in target.iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]


def test_failed_directory_write_leaves_the_old_one(tmp_path: Path) -> None:
    target = tmp_path / "dataset"
    target.mkdir()
    (target / "old").write_text("old")

    def interrupted() -> None:
        with atomic_directory(target, overwrite=True) as temporary:
            (temporary / "new").write_text("half")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted()
    assert [p.name for p in target.iterdir()] == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]


def test_failed_swap_puts_the_old_directory_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "dataset"
    target.mkdir()
    (target / "old").write_text("old")
    real_replace = os.replace
    calls: list[str] = []

    def replace_failing_on_second(source: Path, destination: Path) -> None:
        calls.append(Path(source).name)
        if len(calls) == 2:  # the new copy onto the destination
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace_failing_on_second)

    def swap() -> None:
        with atomic_directory(target, overwrite=True) as temporary:
            (temporary / "new").write_text("new")

    with pytest.raises(OSError, match="disk full"):
        swap()
    assert len(calls) == 3  # aside, onto (failed), back
    assert [p.name for p in target.iterdir()] == ["old"]
    assert [p.name for p in tmp_path.iterdir()] == ["dataset"]
