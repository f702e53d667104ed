"""Rows of Parquet files -> the cells of a :class:`~repartition.io.parquet._grid.Canvas`.

Long rows are scattered into a preallocated float64 array per role and quantity: each
row's member becomes a code through the file's own dictionary (a few thousand strings,
looked up once per row group), its timestamp a step position by integer arithmetic on
microseconds. No pandas pivot, no per-row Python.

A cell given twice keeps the library's policy (:class:`~repartition.errors.
ConflictingValuesError`): identical values (bit for bit) are merged, different ones are an
error naming the member, the timestamp and the file. NaN or null energies and absent rows
leave the cell NaN (a NaN's payload is kept): the reader does not judge them;
:func:`repartition.allocate` refuses NaN, naming the member and timestamp.

Values that only a damaged file can hold (dictionary indices beyond the dictionary) raise
:class:`IndexError`, which the reader turns into a
:class:`~repartition.errors.CorruptFileError` naming the file and row group.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from repartition import errors
from repartition.io.parquet._dataset import MEMBER, ROLE, ROLES, TIMESTAMP
from repartition.io.parquet._grid import Array, Canvas, Ints, MonthGrid, timestamp_of


def positions(stamps: Ints, grid: MonthGrid, path: str, member: Any = None) -> Ints:
    """Step positions of UTC µs timestamps in ``grid``; errors for off-grid or other months."""
    offset = stamps - grid.start
    # Float64 arithmetic is exact enough here (a month is < 2**53 µs) and much faster
    # than integer division; the product below checks every position exactly.
    position: Ints = np.rint(offset * (1.0 / grid.step)).astype(np.int64)
    if (
        len(position)
        and np.array_equal(position * grid.step, offset)
        and position.min() >= 0
        and position.max() < grid.steps
    ):
        return position
    on_grid = position * grid.step == offset
    bad = ~on_grid | (position < 0) | (position >= grid.steps)
    if bad.any():
        row = int(np.argmax(bad))
        when = timestamp_of(int(stamps[row]))
        who = f" ({member(row)!r})" if callable(member) else ""
        if not on_grid[row]:
            raise errors.IrregularStepError(
                f"{path}: the timestamp {when}{who} is not the start of a "
                f"{pd.Timedelta(microseconds=grid.step)} step of the dataset. Resample the "
                "data to the dataset's step first (repartition.time.resample).",
                timestamp=when,
                step=pd.Timedelta(microseconds=grid.step),
                path=path,
                member=member(row) if callable(member) else None,
            )
        raise errors.ColumnError(
            f"{path}: the timestamp {when}{who} is not in the local month {grid.label} of its "
            "directory. Each month=YYYY-MM directory holds the steps that start in that "
            "local month: move the rows to their month.",
            column=TIMESTAMP,
            timestamp=when,
            path=path,
        )
    return position


def microseconds(column: Any, factor: int | None, path: str) -> Ints:
    """A timestamp column as int64 µs since the epoch (``factor``: µs per unit, None = ns)."""
    if column.null_count:
        raise _null(path, TIMESTAMP)
    values = np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64)
    if factor is None:
        whole, rest = np.divmod(values, 1000)
        if rest.any():
            raise errors.IrregularStepError(
                f"{path}: the timestamp {pd.Timestamp(int(values[np.argmax(rest != 0)]), tz='UTC')}"
                " is not a whole microsecond, so it cannot start a step.",
                path=path,
            )
        return np.asarray(whole, dtype=np.int64)
    return values * factor if factor != 1 else values


def floats(column: Any) -> Array:
    """A float64 column as a NumPy array, nulls as NaN."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


def _null(path: str, name: str) -> errors.ColumnError:
    return errors.ColumnError(
        f"{path}: column {name!r} has a null value. Every row needs its {name}.",
        column=name,
        path=path,
    )


def dictionary_codes(batch: Any, name: str, path: str) -> tuple[Ints, NDArray[np.object_]]:
    """(indices, values) of a string column of ``batch``, dictionary-encoding it if needed."""
    column = batch.column(name)
    if column.null_count:
        raise _null(path, name)
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    indices = np.asarray(column.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    size = len(column.dictionary)
    if len(indices) and (int(indices.min()) < 0 or int(indices.max()) >= size):
        # Only a damaged file holds these; the reader turns it into a CorruptFileError
        # naming the file and row group.
        raise IndexError(f"column {name!r} refers to entries beyond its dictionary")
    return indices, np.asarray(column.dictionary.to_pylist(), dtype=object)


def scatter_long(
    canvas: Canvas,
    grid: MonthGrid,
    offset: int,
    batch: Any,
    members: dict[str, pd.Index],
    quantities: Mapping[str, Sequence[str]],
    factor: int | None,
    path: str,
) -> None:
    """Scatter one record batch of long rows of ``grid``'s month into ``canvas``."""
    if not batch.num_rows:
        return
    member_index, member_values = dictionary_codes(batch, MEMBER, path)
    role_index, role_values = dictionary_codes(batch, ROLE, path)
    stamps = microseconds(batch.column(TIMESTAMP), factor, path)

    def member_of(row: int) -> Any:
        return member_values[member_index[row]]

    role_code = np.array([ROLES.index(v) if v in ROLES else -1 for v in role_values])[role_index]
    if (role_code < 0).any():
        row = int(np.argmax(role_code < 0))
        raise errors.ColumnError(
            f"{path}: role {role_values[role_index[row]]!r} of member {member_of(row)!r} at "
            f"{timestamp_of(int(stamps[row]))} is neither 'consumer' nor 'producer'.",
            column=ROLE,
            member=member_of(row),
            timestamp=timestamp_of(int(stamps[row])),
            path=path,
        )
    position = positions(stamps, grid, path, member_of) + offset
    canvas.seen(position, path)
    for code, role in enumerate(ROLES):
        if role not in members:
            continue
        mine = role_code == code
        if not mine.any():
            continue
        rows = None if mine.all() else np.flatnonzero(mine)
        lookup = np.asarray(members[role].get_indexer(pd.Index(member_values)), dtype=np.int64)
        member_code = lookup[member_index] if rows is None else lookup[member_index[rows]]
        if (member_code < 0).any():
            row = int(np.argmax(member_code < 0)) if rows is None else int(rows[member_code < 0][0])
            raise errors.UnknownMemberError(
                f"{path}: {role} {member_of(row)!r} is not a {role} of the dataset (its "
                "_repartition.json lists the members). Write the dataset again with it, or "
                "remove its rows.",
                member=member_of(row),
                timestamp=timestamp_of(int(stamps[row])),
                path=path,
            )
        flat = member_code * canvas.width + (position if rows is None else position[rows])
        prior = canvas.claim(role, offset, flat)
        for number, name in enumerate(quantities[role]):
            values = floats(batch.column(name))
            if rows is not None:
                values = values[rows]

            def conflict(
                row: int, value: float, other: float, name: str = name, rows: Any = rows
            ) -> None:
                original = row if rows is None else int(rows[row])
                _conflict(path, name, member_of(original), stamps[original], value, other)

            canvas.put(role, number, flat, values, prior, conflict)


def scatter_wide(
    canvas: Canvas,
    grid: MonthGrid,
    offset: int,
    table: Any,
    columns: Sequence[tuple[str, int, str]],
    factor: int | None,
    path: str,
) -> None:
    """Scatter a wide table (``timestamp`` + one column per member) into ``canvas``.

    ``columns``: (role, member code, column name) of the members to read.
    """
    if not table.num_rows:
        return
    column = table.column(TIMESTAMP)
    stamps = microseconds(column.combine_chunks(), factor, path)
    position = positions(stamps, grid, path) + offset
    canvas.seen(position, path)
    low, count = int(position[0]), len(position)
    run = bool(position[-1] - low == count - 1 and (np.diff(position) == 1).all())
    for role, code, name in columns:
        start = code * canvas.width + low
        if run and canvas.claim_run(role, offset, start, count):
            # Consecutive steps never written before: a plain slice copy (the usual case:
            # one file per month, columns in the dataset's member order).
            canvas.arrays[role][0, code, low : low + count] = floats(table.column(name))
            continue
        flat = code * canvas.width + position
        prior = canvas.claim(role, offset, flat)

        def conflict(row: int, value: float, other: float, name: str = name) -> None:
            _conflict(path, name, name, stamps[row], value, other)

        canvas.put(role, 0, flat, floats(table.column(name)), prior, conflict)


def _shown(value: float, other: float) -> str:
    """A value as the message shows it: its bits too where repr cannot tell it from the
    other (0.0 and -0.0 are told apart by repr; two NaNs are not)."""
    if math.isnan(value) and math.isnan(other):
        return f"nan (bits 0x{struct.unpack('<Q', struct.pack('<d', value))[0]:016x})"
    return repr(value)


def _conflict(path: str, column: str, member: Any, stamp: Any, value: float, other: float) -> None:
    when = timestamp_of(int(stamp))
    low, high = (value, other) if math.isnan(value) or math.isnan(other) else sorted((value, other))
    raise errors.ConflictingValuesError(
        f"{path}: {column} of member {member!r} at {when} is given twice, with the values "
        f"{_shown(low, high)} and {_shown(high, low)}. Keep one row per member and step "
        "(check overlapping files in the month's directory).",
        column=column,
        member=member,
        timestamp=when,
        path=path,
    )
