"""The dense (members, steps) arrays a read fills, one local month grid at a time.

A read allocates one :class:`Canvas` over the selected months before any file is opened;
:mod:`repartition.io.parquet._scatter` writes the rows of each file into it. Each cell
remembers whether a row gave it a value (a boolean mask beside the values), so that a
member and step given twice is compared bit for bit with what was written first: identical
bits are merged, anything else (another value, ``0.0`` against ``-0.0``, another NaN
payload) is a :class:`~repartition.errors.ConflictingValuesError`. NaN values, payloads
included, are kept as they are; cells that no row gives stay NaN (never invented), and
:func:`repartition.allocate` refuses them, naming the member and timestamp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition.io.parquet._dataset import TIMESTAMP

Array = NDArray[np.float64]
Ints = NDArray[np.int64]
Flags = NDArray[np.bool_]


def month_start(label: str, tz: str) -> int:
    """The first instant of the local month ``label`` (``"YYYY-MM"``) in ``tz``, µs UTC.

    Midnight on the 1st may not exist (a spring change at midnight, as in America/Havana:
    the month then starts at the first time after the gap) or occur twice (an autumn
    change: the month starts at its first occurrence).
    """
    midnight = pd.Timestamp(f"{label}-01").tz_localize(
        tz, ambiguous=True, nonexistent="shift_forward"
    )
    return int(midnight.value) // 1000  # Timestamp.value is in ns whatever the unit


def next_month(label: str) -> str:
    year, month = int(label[:4]), int(label[5:7])
    return f"{year + month // 12:04d}-{month % 12 + 1:02d}"


@dataclass(frozen=True)
class MonthGrid:
    """The steps of one local month: ``steps`` steps of ``step`` µs from ``start`` (µs, UTC)."""

    label: str
    start: int
    steps: int
    step: int

    @classmethod
    def of(cls, label: str, tz: str, step: pd.Timedelta) -> MonthGrid:
        start = month_start(label, tz)
        length = month_start(next_month(label), tz) - start
        step_us = int(step / pd.Timedelta(microseconds=1))
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


def _bits(values: Array) -> Ints:
    return values.view(np.int64)


@dataclass
class Canvas:
    """The arrays being filled for a whole selection: per role, a (quantities, members,
    width) array of NaN over ``width`` steps of ``step`` µs from ``start`` (µs, UTC), and a
    (members, width) mask of the cells some row has given.

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
    written: dict[str, Flags]
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
        written = {role: np.zeros(n * width, dtype=bool) for role, (_, n) in shapes.items()}
        return cls(begin, step, width, arrays, written)

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

    def seen(self, positions: Ints, path: str) -> None:
        """Record the positions of rows; a row outside the canvas (the dataset's recorded
        period, or the selection when the time filter did not apply) is an error."""
        if not len(positions):
            return
        low, top = int(positions.min()), int(positions.max())
        if low < 0 or top >= self.width:
            outside = int(positions[np.argmax((positions < 0) | (positions >= self.width))])
            when = timestamp_of(self.start + outside * self.step)
            raise errors.ColumnError(
                f"{path}: the step {when} is outside the period of the dataset recorded in "
                "its _repartition.json (first_step, last_step). Write the dataset again "
                "with repartition.io.parquet.write_energy, or delete its _repartition.json.",
                column=TIMESTAMP,
                timestamp=when,
                path=path,
            )
        self.first = low if self.first is None else min(self.first, low)
        self.last = top if self.last is None else max(self.last, top)

    def claim(self, role: str, month: int, flat: Ints) -> Flags | None:
        """Mark the cells at ``flat`` (flat positions in a role's (members, width) arrays)
        as given. Returns ``None`` when ``flat`` is increasing and above every cell of that
        role and month (canvas offset) written so far, so that no cell can be written
        twice and the conflict checks can be skipped; otherwise which of the cells had been
        given before."""
        mask = self.written[role]
        if not len(flat):
            return None
        high = self.high.get((role, month), -1)
        fresh = bool(flat[0] > high) and bool((flat[1:] > flat[:-1]).all())
        self.high[(role, month)] = max(high, int(flat[-1]) if fresh else int(flat.max()))
        if fresh:
            mask[_cells(flat)] = True
            return None
        prior = mask[flat]
        mask[flat] = True
        return prior

    def claim_run(self, role: str, month: int, start: int, count: int) -> bool:
        """Like :meth:`claim` for the flat positions ``start, ..., start + count - 1``;
        True when none had been given (the slice can be copied as it is)."""
        if start <= self.high.get((role, month), -1):
            return False
        self.high[(role, month)] = start + count - 1
        self.written[role][start : start + count] = True
        return True

    def put(
        self,
        role: str,
        quantity: int,
        flat: Ints,
        values: Array,
        prior: Flags | None,
        culprit: Callable[[int, float, float], None],
    ) -> None:
        """Write ``values`` at the flat positions of ``arrays[role][quantity]``.

        ``prior`` (from :meth:`claim`): which cells had been given before (``None``: none,
        and ``flat`` strictly increasing). A cell given twice with other bits calls
        ``culprit(row, value, other value)``.
        """
        target = self.arrays[role][quantity].reshape(-1)
        if prior is None:
            target[_cells(flat)] = values
            return
        before = target[flat]
        clash = prior & (_bits(before) != _bits(values))
        target[flat] = values
        # A cell twice in ``flat``: the last value wins the write; the others differ from it.
        after = target[flat]
        clash |= _bits(after) != _bits(values)
        if clash.any():
            row = int(np.argmax(clash))
            other = before[row] if prior[row] else after[row]
            culprit(row, float(values[row]), float(other))


def _cells(flat: Ints) -> Ints | slice:
    """Strictly increasing flat positions (what :meth:`Canvas.claim` found fresh) as a
    slice when they are consecutive: the rows of whole members in a file sorted by member
    and time, in the dataset's member order, are then a plain copy, not a scatter."""
    if len(flat) and int(flat[-1]) - int(flat[0]) == len(flat) - 1:
        return slice(int(flat[0]), int(flat[-1]) + 1)
    return flat


def assemble(
    canvas: Canvas, root: Any, *, whole: bool = False
) -> tuple[pd.DatetimeIndex, dict[str, Array]]:
    """The canvas's arrays and their UTC index: the whole canvas (``whole``: the dataset's
    period is known, every step of it is returned and a missing one stays NaN), or from
    the first to the last step seen.

    Steps in between that no row gives stay NaN (never invented). When the rows cover
    the whole canvas the arrays are returned as they are; otherwise the steps seen are
    copied out.
    """
    canvas.written = {}
    if whole and canvas.width:
        first, last = 0, canvas.width - 1
    elif canvas.first is None or canvas.last is None:
        raise errors.EmptyPeriodError(
            f"No step of {root} matches the selection (months, start, end, members).",
            path=root,
        )
    else:
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
