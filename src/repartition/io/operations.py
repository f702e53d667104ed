"""Many operations in one dataset: one energy dataset per operation (docs/distributed.md).

::

    operations/_operations.json            {"kind": "operations", "operations": [...]}
    operations/operation=OPE001/           an energy dataset (repartition.io.write_energy)
    operations/operation=OPE001/_repartition.json
    operations/operation=OPE001/month=2025-01/part-0.parquet
    ...

Each operation's directory is a complete energy dataset, written atomically and readable on
its own with :func:`repartition.io.read_energy`; a worker reads its operation's directory
itself, so no data passes through the scheduler of a sweep.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

import pandas as pd

from repartition import errors, time
from repartition._atomic import atomic_file
from repartition.io.parquet import write_energy

__all__ = ["list_operations", "operation_path", "write_operations"]

PathLike = str | os.PathLike[str]
INDEX = "_operations.json"
_ID = re.compile(r"^[A-Za-z0-9._-]+$")


def operation_path(root: PathLike, operation: str) -> Path:
    """The directory of ``operation`` in the dataset ``root``."""
    return Path(root) / f"operation={operation}"


def write_operations(
    root: PathLike,
    operations: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]]
    | Iterable[tuple[str, tuple[pd.DataFrame, pd.DataFrame]]],
    *,
    tz: str = time.PARIS,
    overwrite: bool = False,
) -> Path:
    """Write many operations' consumption and production, one energy dataset each.

    Parameters
    ----------
    root : path
        The dataset's directory (created).
    operations : mapping or iterable of (id, (consumption, production))
        Operation ids (letters, digits, ``.``, ``-``, ``_``) to their CONS and PROD frames,
        as :func:`repartition.io.write_energy` takes them. [kWh per step]
    tz, overwrite
        As for :func:`repartition.io.write_energy`; ``overwrite`` replaces operations
        already written.

    Returns
    -------
    pathlib.Path
        ``root``. Its ``_operations.json`` lists every operation written so far, sorted.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    items = operations.items() if isinstance(operations, Mapping) else operations
    written = set(list_operations(root)) if (root / INDEX).exists() else set()
    for operation, (consumption, production) in items:
        if not isinstance(operation, str) or not _ID.match(operation):
            raise errors.ParameterError(
                f"An operation id has letters, digits, '.', '-' or '_' only, not {operation!r}."
            )
        write_energy(
            operation_path(root, operation), consumption, production, tz=tz, overwrite=overwrite
        )
        written.add(operation)
    with atomic_file(root / INDEX) as temporary:
        temporary.write_text(
            json.dumps({"kind": "operations", "operations": sorted(written)}, indent=1),
            encoding="utf-8",
        )
    return root


def list_operations(root: PathLike) -> list[str]:
    """The operations of the dataset ``root``, sorted.

    Raises
    ------
    repartition.errors.FileFormatError
        When ``root`` is not an operations dataset, or lists an operation it does not hold.
    """
    root = Path(root)
    index = root / INDEX
    if not index.exists():
        raise errors.FileFormatError(
            f"{root} is not an operations dataset (no {INDEX}; write it with "
            "repartition.io.write_operations).",
            path=root,
        )
    listed = json.loads(index.read_text(encoding="utf-8"))
    if listed.get("kind") != "operations":
        raise errors.FileFormatError(f"{index}: not an operations index.", path=index)
    operations = [str(o) for o in listed.get("operations", [])]
    for operation in operations:
        if not (operation_path(root, operation) / "_repartition.json").exists():
            raise errors.FileFormatError(
                f"{index} lists operation {operation!r}, but {operation_path(root, operation)} "
                "is not a complete energy dataset.",
                path=operation_path(root, operation),
            )
    return operations
