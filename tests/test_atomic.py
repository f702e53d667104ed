"""Atomic writes (:mod:`repartition._atomic`): a reader sees the old file or the whole new one,
never a part; several files are replaced all or nothing."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from repartition._atomic import atomic_directory, atomic_file, atomic_files, together


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


def _contents(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in sorted(folder.iterdir())}


def test_files_are_written_all_together(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a")
    with atomic_files([tmp_path / "a.txt", tmp_path / "sub" / "b.txt"]) as temporaries:
        assert [p.parent for p in temporaries] == [tmp_path, tmp_path / "sub"]
        for temporary, text in zip(temporaries, ["new a", "new b"], strict=True):
            temporary.write_text(text)
        assert (tmp_path / "a.txt").read_text() == "old a"  # nothing renamed in the block
        assert not (tmp_path / "sub" / "b.txt").exists()
    assert (tmp_path / "a.txt").read_text() == "new a"
    assert _contents(tmp_path / "sub") == {"b.txt": "new b"}
    assert _mode(tmp_path / "sub" / "b.txt") == 0o666 & ~_umask()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "sub"]


def test_failed_files_write_touches_no_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("old a")

    def interrupted() -> None:
        with atomic_files([tmp_path / "a.txt", tmp_path / "b.txt"]) as temporaries:
            temporaries[0].write_text("new a")
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        interrupted()
    assert _contents(tmp_path) == {"a.txt": "old a"}


def test_failed_rename_puts_the_files_already_renamed_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.txt").write_text("old a")
    real_replace = os.replace
    calls: list[str] = []

    def replace_failing_on_third(source: Path, destination: Path) -> None:
        calls.append(Path(destination).name)
        if len(calls) == 3:  # the third file onto its destination
            raise OSError("disk full")
        real_replace(source, destination)

    monkeypatch.setattr(os, "replace", replace_failing_on_third)
    names = ["a.txt", "b.txt", "c.txt"]

    def write() -> None:
        with atomic_files([tmp_path / name for name in names]) as temporaries:
            for temporary, name in zip(temporaries, names, strict=True):
                temporary.write_text(f"new {name}")

    with pytest.raises(OSError, match="disk full"):
        write()
    # a renamed then restored from its backup; b renamed then deleted (it did not exist).
    assert calls == ["a.txt", "b.txt", "c.txt", "a.txt"]
    assert _contents(tmp_path) == {"a.txt": "old a"}


def test_files_refuse_a_path_given_twice(tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match="given twice"),
        atomic_files([tmp_path / "a", tmp_path / "a"]),
    ):
        pass
    assert list(tmp_path.iterdir()) == []


def test_writes_made_together_appear_together(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("old")
    with together():
        with atomic_file(tmp_path / "one.txt") as temporary:
            temporary.write_text("one")
        with atomic_files([tmp_path / "two.txt", tmp_path / "old.txt"]) as temporaries:
            for temporary, text in zip(temporaries, ["two", "new"], strict=True):
                temporary.write_text(text)
        with together(), atomic_file(tmp_path / "three.txt") as temporary:
            temporary.write_text("three")  # nested: the outermost block renames
        visible = {name: text for name, text in _contents(tmp_path).items() if name[0] != "."}
        assert visible == {"old.txt": "old"}  # nothing renamed yet
    assert _contents(tmp_path) == {
        "old.txt": "new",
        "one.txt": "one",
        "three.txt": "three",
        "two.txt": "two",
    }


def _write_then(tmp_path: Path, failure: BaseException) -> None:
    with together():
        with atomic_file(tmp_path / "old.txt") as temporary:
            temporary.write_text("new")
        with atomic_file(tmp_path / "other.txt") as temporary:
            temporary.write_text("other")
        raise failure


@pytest.mark.parametrize("failure", [RuntimeError("refused"), KeyboardInterrupt()])
def test_a_failure_in_a_together_block_writes_nothing(
    tmp_path: Path, failure: BaseException
) -> None:
    (tmp_path / "old.txt").write_text("old")
    with pytest.raises(type(failure)):
        _write_then(tmp_path, failure)
    assert _contents(tmp_path) == {"old.txt": "old"}


def _write_twice(path: Path) -> None:
    with together():
        for text in ("first", "second"):
            with atomic_file(path) as temporary:
                temporary.write_text(text)


def test_a_file_written_twice_together_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="written twice"):
        _write_twice(tmp_path / "a.txt")
    assert _contents(tmp_path) == {}


def _inner_fails_outer_goes_on(folder: Path) -> None:
    with together():
        try:
            with together(), atomic_file(folder / "january.txt") as temporary:
                temporary.write_text("january")
                raise RuntimeError("january refused")
        except RuntimeError:
            pass
        with together(), atomic_file(folder / "february.txt") as temporary:
            temporary.write_text("february")


def test_an_inner_block_that_fails_discards_only_its_own_files(tmp_path: Path) -> None:
    _inner_fails_outer_goes_on(tmp_path)
    assert _contents(tmp_path) == {"february.txt": "february"}


def test_a_directory_written_inside_a_together_block_is_whole(tmp_path: Path) -> None:
    with together():
        with atomic_directory(tmp_path / "dataset") as folder:
            with atomic_file(folder / "metadata.json") as temporary:
                temporary.write_text("{}")
            (folder / "part.parquet").write_text("rows")
        with atomic_file(tmp_path / "key.txt") as temporary:
            temporary.write_text("key")
    assert _contents(tmp_path / "dataset") == {"metadata.json": "{}", "part.parquet": "rows"}
    assert (tmp_path / "key.txt").read_text() == "key"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["dataset", "key.txt"]


def _write_one_path_two_ways(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    with together():
        for path in (folder / "a.txt", Path("a.txt")):
            with atomic_file(path) as temporary:
                temporary.write_text(str(path))


def test_one_path_spelled_two_ways_is_written_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ValueError, match="written twice"):
        _write_one_path_two_ways(tmp_path, monkeypatch)
    assert list(tmp_path.iterdir()) == []
