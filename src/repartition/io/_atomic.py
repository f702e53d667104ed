"""Writing files and directories so that a reader never sees half of one.

Everything is first written under a temporary name in the destination's own directory
(so the final rename stays on one file system and is atomic), then renamed into place.
If the writer fails or is interrupted, the temporary file or directory is removed and
the destination is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_directory", "atomic_file"]


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()
"""Read once at import: ``tempfile`` creates private (0600/0700) entries, while a file
written by :func:`open` gets ``0o666 & ~umask``; the renamed result must look like the latter."""


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; rename it onto ``path`` on success.

    The caller writes the whole file to the yielded path. On any exception the
    temporary file is deleted and ``path`` is untouched (an existing file keeps its old
    content).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_file(folder / "keys.txt") as temporary:
    ...     _ = temporary.write_text("Horodate;PRM\\n")
    >>> (folder / "keys.txt").read_text()
    'Horodate;PRM\\n'
    """
    destination = Path(path)
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent
    )
    os.close(handle)
    temporary = Path(name)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_UMASK)
        _flush_to_disk(temporary)
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _flush_to_disk(destination.parent)


def _flush_to_disk(path: Path) -> None:
    """``fsync`` a file or directory, so that a power cut after the rename cannot leave
    an empty file under the final name (some file systems reorder data and renames)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory next to ``path``; move it to ``path`` on success.

    Parameters
    ----------
    path
        The directory to create.
    overwrite
        If ``path`` already exists: replace it (``True``) or raise
        :class:`FileExistsError` before writing anything (``False``).
    """
    destination = Path(path)
    if destination.exists() and not overwrite:
        raise FileExistsError(f"{destination} already exists; pass overwrite=True to replace it.")
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(
        tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".tmp", dir=destination.parent)
    )
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_UMASK)
        _flush_tree(temporary)
        if not destination.exists():
            os.replace(temporary, destination)
            _flush_to_disk(destination.parent)
            return
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    # A directory cannot be renamed onto a non-empty one: move the old copy aside first,
    # and put it back if the second rename fails, so ``path`` always holds a whole dataset.
    backup = Path(
        tempfile.mkdtemp(prefix=f".{destination.name}.", suffix=".old", dir=destination.parent)
    )
    backup.rmdir()
    os.replace(destination, backup)
    try:
        os.replace(temporary, destination)
    except BaseException:
        os.replace(backup, destination)
        shutil.rmtree(temporary, ignore_errors=True)
        raise
    _flush_to_disk(destination.parent)
    shutil.rmtree(backup, ignore_errors=True)


def _flush_tree(root: Path) -> None:
    """``fsync`` every file and directory under ``root`` (before it is renamed into place)."""
    for folder, _, files in os.walk(root, topdown=False):
        for name in files:
            _flush_to_disk(Path(folder) / name)
        _flush_to_disk(Path(folder))
