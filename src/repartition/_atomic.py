"""Writing a file, a directory, or several files so that a reader never sees half of one.

Everything is first written under a temporary name in the destination's own directory
(so the final rename stays on one file system and is atomic), then renamed into place.
If the writer fails or is interrupted, the temporary file or directory is removed and
the destination is left as it was. Several files (the tables of one key, one per
producer) are written all or nothing (:func:`atomic_files`): none is renamed before all
are written. Writes made one after the other by different writers are made all or nothing
together inside :func:`together` (a PMO's month: the key file, the per-step results and the
totals). This module imports nothing of repartition's: every layer may use it.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["atomic_directory", "atomic_file", "atomic_files", "together"]

_PENDING: contextvars.ContextVar[list[tuple[Path, Path]] | None] = contextvars.ContextVar(
    "repartition_atomic_pending", default=None
)
"""Inside :func:`together`: the (temporary, destination) pairs written and not yet renamed."""


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
    temporary = _temporary_file(destination, ".tmp")
    pending = _PENDING.get()
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_UMASK)
        _flush_to_disk(temporary)
        if pending is not None:  # renamed with the others when together() ends
            pending.append((temporary, destination))
            return
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _flush_to_disk(destination.parent)


@contextlib.contextmanager
def together() -> Iterator[None]:
    """Make the files that :func:`atomic_file` writes inside the block appear all or nothing.

    Each file is written to its temporary name as usual; the renames wait for the end of
    the block, and happen only if it ends without an exception (then as in
    :func:`atomic_files`: an existing file is replaced, and put back if a later rename
    fails). On any exception in the block, every file written in it is deleted and no
    destination is touched. Blocks may nest: an inner block that fails discards its own
    files only (the outer block may go on), one that succeeds hands them to the outer block,
    and the outermost renames. A directory written with :func:`atomic_directory` inside the
    block is not part of it: it is renamed when its own block ends.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> try:
    ...     with together():
    ...         with atomic_file(folder / "key.txt") as temporary:
    ...             _ = temporary.write_text("written")
    ...         raise RuntimeError("the next writer refused")
    ... except RuntimeError:
    ...     pass
    >>> list(folder.iterdir())
    []
    """
    parent = _PENDING.get()
    pending: list[tuple[Path, Path]] = []
    token = _PENDING.set(pending)
    try:
        yield
    except BaseException:
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        raise
    finally:
        _PENDING.reset(token)
    destinations = [destination.resolve() for _, destination in pending]
    if parent is not None:
        destinations += [destination.resolve() for _, destination in parent]
    if len(set(destinations)) != len(destinations):
        for temporary, _ in pending:
            temporary.unlink(missing_ok=True)
        twice = next(path for path in destinations if destinations.count(path) > 1)
        raise ValueError(f"{twice} is written twice in one together() block.")
    if parent is not None:  # an inner block that succeeded: renamed with the outermost
        parent.extend(pending)
        return
    _replace_all([destination for _, destination in pending], [t for t, _ in pending])


@contextlib.contextmanager
def atomic_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[list[Path]]:
    """Yield a temporary path next to each of ``paths``; rename them all on success.

    All or nothing: the caller writes each whole file to its temporary path, and only
    when the ``with`` block ends without an exception are the files renamed into place,
    one by one. On any exception in the block every temporary file is deleted and no
    destination is touched. If a rename fails (which on one file system should not
    happen), the files already renamed are put back as they were: the previous versions
    are kept as backup copies until every rename has succeeded. Each destination always
    holds a whole file, the old one or the new one.

    Parameters
    ----------
    paths
        The files to write, each once.

    Yields
    ------
    list of pathlib.Path
        The temporary paths, in the order of ``paths``.

    Raises
    ------
    ValueError
        If a path is given twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_files([folder / "PV1.txt", folder / "PV2.txt"]) as temporaries:
    ...     for temporary, text in zip(temporaries, ["one", "two"]):
    ...         _ = temporary.write_text(text)
    >>> sorted(path.read_text() for path in folder.iterdir())
    ['one', 'two']
    """
    destinations = [Path(path) for path in paths]
    if len(set(destinations)) != len(destinations):
        twice = next(path for path in destinations if destinations.count(path) > 1)
        raise ValueError(f"{twice} is given twice: each file is written once.")
    temporaries: list[Path] = []
    try:
        for destination in destinations:
            temporaries.append(_temporary_file(destination, ".tmp"))
        yield temporaries
        for temporary in temporaries:
            os.chmod(temporary, 0o666 & ~_UMASK)
            _flush_to_disk(temporary)
    except BaseException:
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    pending = _PENDING.get()
    if pending is not None:  # renamed with the others when together() ends
        pending.extend(zip(temporaries, destinations, strict=True))
        return
    _replace_all(destinations, temporaries)


def _replace_all(destinations: list[Path], temporaries: list[Path]) -> None:
    """Rename each of ``temporaries`` onto its destination; all or nothing (see
    :func:`atomic_files`)."""
    backups: dict[Path, Path] = {}
    renamed: list[Path] = []
    try:
        for destination in destinations:
            if destination.exists():
                backups[destination] = _temporary_file(destination, ".old")
                shutil.copy2(destination, backups[destination])
        for destination, temporary in zip(destinations, temporaries, strict=True):
            os.replace(temporary, destination)
            renamed.append(destination)
    except BaseException:
        for destination in renamed:
            if destination in backups:
                os.replace(backups.pop(destination), destination)
            else:
                destination.unlink(missing_ok=True)
        for temporary in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    finally:
        for backup in backups.values():
            backup.unlink(missing_ok=True)
    for folder in dict.fromkeys(destination.parent for destination in destinations):
        _flush_to_disk(folder)


def _temporary_file(destination: Path, suffix: str) -> Path:
    """A new empty file ``.<name>.<random><suffix>`` beside ``destination`` (its directory
    created if needed), closed."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(
        prefix=f".{destination.name}.", suffix=suffix, dir=destination.parent
    )
    os.close(handle)
    return Path(name)


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
    # The files written inside belong to the private temporary tree: they are written at
    # once, not deferred by an enclosing together() block.
    token = _PENDING.set(None)
    try:
        try:
            yield temporary
        finally:
            _PENDING.reset(token)
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
