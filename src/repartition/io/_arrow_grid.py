"""Rows of Parquet files -> dense (members, steps) arrays, one local month at a time.

Long rows are scattered into a preallocated float64 array per role and quantity: each
row's member becomes a code through the file's own dictionary (a few thousand strings,
looked up once per row group), its timestamp a step position by integer arithmetic on
microseconds. No pandas pivot, no per-row Python.

A cell given twice keeps the library's policy (:class:`~repartition.errors.
ConflictingValuesError`): identical values are merged, different ones are an error naming
the member, the timestamp and the file. NaN or null energies and absent rows leave the
cell NaN: the reader does not judge them; :func:`repartition.allocate` refuses NaN, naming
the member and timestamp.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from numpy.typing import NDArray

from repartition import errors
from repartition.io._arrow import MEMBER, ROLE, ROLES, TIMESTAMP

Array = NDArray[np.float64]
Ints = NDArray[np.int64]


@dataclass(frozen=True)
class MonthGrid:
    """The steps of one local month: ``steps`` steps of ``step`` µs from ``start`` (µs, UTC)."""

    label: str
    start: int
    steps: int
    step: int

    @classmethod
    def of(cls, label: str, tz: str, step: pd.Timedelta) -> MonthGrid:
        first = pd.Timestamp(f"{label}-01", tz=tz)
        following = first + pd.offsets.MonthBegin(1)
        step_us = int(step / pd.Timedelta(microseconds=1))
        start = int(first.value) // 1000  # Timestamp.value is in ns whatever the unit
        length = int(following.value) // 1000 - start
        if step_us <= 0 or length % step_us:
            raise errors.IrregularStepError(
                f"A step of {step} does not divide the month {label} ({tz}) into whole steps.",
                step=step,
            )
        return cls(label, start, length // step_us, step_us)

    def timestamp(self, position: int) -> pd.Timestamp:
        return pd.Timestamp(self.start + int(position) * self.step, unit="us", tz="UTC")


def timestamp_of(microseconds: int) -> pd.Timestamp:
    return pd.Timestamp(int(microseconds), unit="us", tz="UTC")


@dataclass
class Canvas:
    """The arrays being filled for a whole selection: per role, a (quantities, members,
    width) array of NaN over ``width`` steps of ``step`` µs from ``start`` (µs, UTC).

    Allocated once, before any file is read, over the selected months (cut to ``start``
    and ``end``): reading a year never holds two copies of it. ``first`` and ``last`` are
    the first and last positions seen in any row; ``high`` the highest flat position
    written per role and month (the guard of the fast path: cells of two months never
    coincide, so each month keeps its own mark).
    """

    start: int
    step: int
    width: int
    arrays: dict[str, Array]
    first: int | None = None
    last: int | None = None
    high: dict[tuple[str, int], int] = field(default_factory=dict)

    @classmethod
    def over(
        cls,
        grids: Sequence[MonthGrid],
        shapes: dict[str, tuple[int, int]],
        start: int | None = None,
        end: int | None = None,
    ) -> Canvas:
        """The canvas from the first grid's start (or ``start``) to the last grid's end (or
        ``end``), all in µs UTC; ``shapes``: (quantities, members) per role."""
        step = grids[0].step
        begin, finish = grids[0].start, grids[-1].start + grids[-1].steps * step
        if start is not None and start > begin:
            begin += -(-(start - begin) // step) * step  # the first step starting >= start
        if end is not None and end < finish:
            finish = begin + max(0, -(-(end - begin) // step)) * step
        width = max(0, (finish - begin) // step)
        arrays = {
            role: np.full((quantities, members, width), np.nan)
            for role, (quantities, members) in shapes.items()
        }
        return cls(begin, step, width, arrays)

    def offset(self, grid: MonthGrid, root: Any) -> int:
        """The canvas position of ``grid``'s first step."""
        offset, remainder = divmod(grid.start - self.start, self.step)
        if remainder or grid.step != self.step:
            raise errors.IrregularStepError(
                f"The months of {root} do not share one grid of "
                f"{pd.Timedelta(microseconds=self.step)} steps.",
                path=root,
            )
        return int(offset)

    def seen(self, positions: Ints) -> None:
        if len(positions):
            low, top = int(positions.min()), int(positions.max())
            if low < 0 or top >= self.width:  # the time filter keeps rows inside
                raise RuntimeError("A row outside the selected period was not filtered out.")
            self.first = low if self.first is None else min(self.first, low)
            self.last = top if self.last is None else max(self.last, top)

    def claim(self, role: str, month: int, flat: Ints) -> bool:
        """True when ``flat`` is increasing and above every cell of that role and month
        (canvas offset) written so far, so that no cell can be written twice and the
        conflict checks can be skipped. Records the range."""
        if not len(flat):
            return True
        high = self.high.get((role, month), -1)
        fresh = bool(flat[0] > high) and bool((flat[1:] > flat[:-1]).all())
        self.high[(role, month)] = max(high, int(flat[-1]) if fresh else int(flat.max()))
        return fresh

    def put(
        self, role: str, quantity: int, flat: Ints, values: Array, fresh: bool, culprit: Any
    ) -> None:
        """Write ``values`` at the flat positions of ``arrays[role][quantity]``."""
        target = self.arrays[role][quantity].reshape(-1)
        if fresh:
            target[flat] = values
            return
        rows = np.flatnonzero(~np.isnan(values))
        flat, values = flat[rows], values[rows]
        prior = target[flat]
        clash = ~np.isnan(prior) & (prior != values)
        target[flat] = values
        clash |= target[flat] != values
        if clash.any():
            first = int(np.argmax(clash))
            other = prior[first] if not np.isnan(prior[first]) else target[flat[first]]
            culprit(int(rows[first]), float(values[first]), float(other))


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
    canvas.seen(position)
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
        fresh = canvas.claim(role, offset, flat)
        for number, name in enumerate(quantities[role]):
            values = floats(batch.column(name))
            if rows is not None:
                values = values[rows]

            def conflict(
                row: int, value: float, other: float, name: str = name, rows: Any = rows
            ) -> None:
                original = row if rows is None else int(rows[row])
                _conflict(path, name, member_of(original), stamps[original], value, other)

            canvas.put(role, number, flat, values, fresh, conflict)


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
    canvas.seen(position)
    low, count = int(position[0]), len(position)
    run = bool(position[-1] - low == count - 1 and (np.diff(position) == 1).all())
    for role, code, name in columns:
        start = code * canvas.width + low
        if run and start > canvas.high.get((role, offset), -1):
            # Consecutive steps never written before: a plain slice copy (the usual case:
            # one file per month, columns in the dataset's member order).
            canvas.high[(role, offset)] = start + count - 1
            canvas.arrays[role][0, code, low : low + count] = floats(table.column(name))
            continue
        flat = code * canvas.width + position
        fresh = canvas.claim(role, offset, flat)

        def conflict(row: int, value: float, other: float, name: str = name) -> None:
            _conflict(path, name, name, stamps[row], value, other)

        canvas.put(role, 0, flat, floats(table.column(name)), fresh, conflict)


def _conflict(path: str, column: str, member: Any, stamp: Any, value: float, other: float) -> None:
    when = timestamp_of(int(stamp))
    low, high = sorted((value, other))
    raise errors.ConflictingValuesError(
        f"{path}: {column} of member {member!r} at {when} is given twice, with the values "
        f"{low!r} and {high!r}. Keep one row per member and step (check overlapping files "
        "in the month's directory).",
        column=column,
        member=member,
        timestamp=when,
        path=path,
    )


def assemble(canvas: Canvas, root: Any) -> tuple[pd.DatetimeIndex, dict[str, Array]]:
    """The canvas's arrays from the first to the last step seen, and their UTC index.

    Steps in between that no row gives stay NaN (never invented). When the rows cover
    the whole canvas (whole months, or exactly ``start`` to ``end``) the arrays are
    returned as they are; otherwise the steps seen are copied out.
    """
    if canvas.first is None or canvas.last is None:
        raise errors.EmptyPeriodError(
            f"No step of {root} matches the selection (months, start, end, members).",
            path=root,
        )
    first, last = canvas.first, canvas.last
    index = pd.date_range(
        start=timestamp_of(canvas.start + first * canvas.step),
        periods=last - first + 1,
        freq=pd.Timedelta(microseconds=canvas.step),
        unit="us",
    ).rename(TIMESTAMP)
    if first == 0 and last == canvas.width - 1:
        return index, canvas.arrays
    arrays = {
        role: np.ascontiguousarray(array[:, :, first : last + 1])
        for role, array in canvas.arrays.items()
    }
    canvas.arrays = {}
    return index, arrays


def frame(values: Array, index: pd.DatetimeIndex, members: pd.Index) -> pd.DataFrame:
    """A (members, steps) array as a member-major frame on the same memory."""
    return pd.DataFrame(values.T, index=index, columns=members, copy=False)
