"""What a streaming run computes: the months, the source's period and step, the grid of
steps each month is read over, and the checks made before any month is computed.

Every month is read over its whole local grid of steps, cut only to the source's first
and last steps (recorded in its ``_repartition.json``; for a source without them, the
first and last steps found in its first and last months): a step missing at the start or
the end of a month is NaN, and :func:`repartition.allocate` refuses it, naming the member
and timestamp.

The months of a run are read one ahead (:class:`ReadAhead`): while a month is allocated and
written, a background thread fingerprints and reads the next one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pandas as pd

from repartition import errors, time
from repartition.io.parquet import _dataset, _read
from repartition.io.parquet._dataset import DatasetInfo
from repartition.io.parquet._fingerprint import files_fingerprint
from repartition.io.parquet._grid import MonthGrid
from repartition.io.parquet._scan import source_period
from repartition.keys import SharingKey

ENERGY_KIND = "energy"


@dataclass(frozen=True)
class Plan:
    """A run's source: its description, files by month, time zone, step and period
    ([first step, end of the last step) in µs UTC), and the months to compute."""

    source: Path
    info: DatasetInfo | None
    files: dict[str, list[Any]]
    tz: str
    step: pd.Timedelta
    period: tuple[int, int]
    months: list[str]

    def steps(self, label: str) -> np.ndarray:
        """The month's steps [µs UTC]: its local grid, cut to the source's period."""
        grid = MonthGrid.of(label, self.tz, self.step)
        stamps = grid.start + np.arange(grid.steps, dtype=np.int64) * grid.step
        return stamps[(stamps >= self.period[0]) & (stamps < self.period[1])]

    def fingerprint(self, label: str) -> str | None:
        """The source month's fingerprint (its files, and the steps it is read over)."""
        files = self.files.get(label)
        if not files:
            return None
        steps = self.steps(label)
        context = f"{label}:{steps[0] if len(steps) else ''}:{len(steps)}:{self.step}"
        return files_fingerprint([fragment.path for fragment in files], self.source, context)

    def read(self, label: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The month's consumption and production, over every step of :meth:`steps`."""
        tz = None if self.info is not None else self.tz
        selection = _read.select(
            self.source, self.info, tz, None, None, [label], None, period=self.period
        )
        consumption, production = _read.energy_frames(selection)
        found: Any = getattr(consumption.index, "freq", None)
        if found is None or pd.Timedelta(found) != self.step:
            raise errors.IrregularStepError(
                f"The month {label} of {self.source} has steps of {found}, its first month "
                f"steps of {self.step}: resample it to one step (repartition.time.resample).",
                step=found,
                path=self.source,
            )
        return consumption, production


Month = tuple[str | None, pd.DataFrame, pd.DataFrame]
"""A month read: its source's fingerprint, its consumption and its production."""


class ReadAhead:
    """The months of a run, each fingerprinted and read by a background thread while the
    month before it is allocated and written.

    Writing a month's results (Parquet encoding and compression) and reading the next one
    (Parquet decoding, the scatter into arrays, the fingerprint's hashing of its files)
    run mostly outside Python's GIL, so the two overlap on two cores. One month is read
    ahead at most: memory holds the month being written and the next month's energies,
    never more, whatever the number of months. A month that fails to read raises its error
    when it is taken, after the months before it are written and recorded. Leaving the
    ``with`` block cancels the reading of a month not yet taken (waiting for one being
    read to finish, at most one month's read).

    Use as a context manager; :meth:`take` the months in the order given.
    """

    def __init__(self, plan: Plan, labels: Sequence[str]) -> None:
        self.plan = plan
        self._labels = list(labels)
        self._next = 0
        self._pool: ThreadPoolExecutor | None = None
        self._queued: dict[str, Future[Month]] = {}

    def __enter__(self) -> ReadAhead:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="repartition-read")
        self._queue()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        for future in self._queued.values():
            future.cancel()
        self._queued.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def take(self, label: str) -> Month:
        """The month ``label`` (the next one in order), and start reading the one after it."""
        future = self._queued.pop(label, None)
        if future is None:  # out of order (or outside the block): read it here
            return self._read(label)
        month = future.result()
        self._queue()
        return month

    def _queue(self) -> None:
        if self._pool is None or self._next >= len(self._labels):
            return
        label = self._labels[self._next]
        self._next += 1
        self._queued[label] = self._pool.submit(self._read, label)

    def _read(self, label: str) -> Month:
        source = self.plan.fingerprint(label)
        consumption, production = self.plan.read(label)
        return source, consumption, production


def make_plan(source: Path, months: str | Iterable[str] | None) -> Plan:
    info = _dataset.read_info(source, ENERGY_KIND)
    files = _dataset.month_fragments(source)
    if months is None:
        chosen = list(files)
    else:
        labels = [months] if isinstance(months, str) else list(months)
        chosen = sorted({_dataset.check_month(label) for label in labels})
        missing = [label for label in chosen if label not in files]
        if missing:
            raise errors.EmptyPeriodError(
                f"{source} has no file for the month {missing[0]} (months: {list(files)}).",
                path=source,
            )
    if not chosen:
        raise errors.EmptyPeriodError(f"{source} has no month=YYYY-MM directory.", path=source)
    tz = info.tz if info is not None else time.PARIS
    period = info.period() if info is not None else None
    if info is not None and period is not None:
        return Plan(source, info, files, tz, info.step, period, chosen)
    first, last, found = source_period(source, files)
    step = info.step if info is not None else found
    end = last + int(step / pd.Timedelta(microseconds=1))
    return Plan(source, info, files, tz, step, (first, end), chosen)


def check_key(key: SharingKey, plan: Plan) -> None:
    """Every per-step table the key declares (:meth:`~repartition.keys.SharingKey.step_tables`)
    has a row for every planned step: checked before any month is computed, so that a run
    never stops on a month the key lacks, whatever the key calls its tables."""
    for parameter, table in key.step_tables().items():
        _check_table(f"{type(key).__name__}.{parameter}", table, plan)


def _check_table(name: str, table: Any, plan: Plan) -> None:
    if isinstance(table, pd.DataFrame):
        index = table.index
        if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
            return  # allocate names what is wrong with it
        known = np.asarray(index.as_unit("us").asi8, dtype=np.int64)
        for label in plan.months:
            steps = plan.steps(label)
            absent = steps[~np.isin(steps, known)]
            if len(absent):
                when = pd.Timestamp(int(absent[0]), unit="us", tz="UTC").tz_convert(plan.tz)
                raise errors.IndexMismatchError(
                    f"{name} has no row for the step {when} (month {label}); "
                    f"allocate_dataset checks every planned step before computing any month. "
                    "Give rows for every step of the months to allocate (NaN rows fall back "
                    "to the default key for Dynamic), or choose the months they cover with "
                    "months=[...].",
                    timestamp=when,
                )
        return
    rows = np.shape(table)[0] if np.ndim(table) >= 1 else None
    for label in plan.months:
        if rows != len(plan.steps(label)):
            raise errors.IndexMismatchError(
                f"{name}, given as an array ({rows} rows), is matched by "
                f"position, and the month {label} has {len(plan.steps(label))} steps: "
                "allocate_dataset needs coefficients labelled by timestamp (a DataFrame "
                "indexed by the steps), which each month can take its rows from."
            )
