"""Reading month-partitioned datasets: the selection, the members, the scan.

Partition pruning first (only the directories of the selected local months are listed,
no file of another month is opened), then, per file: the footer (schema check), the row
groups whose statistics can hold the selected members (long files), the selected columns
(wide files), and the rows of the time range, streamed batch by batch into the month's
arrays (:mod:`repartition.io.parquet._grid`).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from repartition import errors, time
from repartition.io.parquet import _dataset, _grid, _scan, _scatter
from repartition.io.parquet._dataset import (
    ENERGY,
    LONG,
    MEMBER,
    ROLE,
    ROLES,
    TIMESTAMP,
    DatasetInfo,
)
from repartition.io.parquet._scan import Quantities, Selection

__all__ = [
    "Quantities",
    "Selection",
    "energy_frames",
    "read_long",
    "read_wide",
    "select",
    "wanted_members",
]


def energy_frames(selection: Selection) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Consumption and production of an energy dataset's selection, as frames."""
    if selection.layout == _dataset.WIDE:
        index, arrays, ids = read_wide(selection)
    else:
        quantities = {role: (ENERGY,) for role in ROLES}
        index, arrays, ids = read_long(selection, quantities)
    consumption, production = (
        _grid.frame(arrays[role][0], index, pd.Index(ids[role], name=role)) for role in ROLES
    )
    return consumption, production


def wanted_members(members: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if members is None:
        return None
    chosen = (members,) if isinstance(members, str) else tuple(members)
    for member in chosen:
        if not isinstance(member, str):
            raise errors.ParameterTypeError(f"Member ids are strings, not {member!r}.")
    return tuple(dict.fromkeys(chosen))


def _utc(value: Any, tz: str, name: str) -> pd.Timestamp:
    """A bound as a UTC instant; a naive one is a local time of ``tz`` (an ambiguous
    autumn time is taken in summer time, its first occurrence)."""
    stamp = pd.Timestamp(value)
    if stamp.tz is None:
        try:
            stamp = stamp.tz_localize(tz, ambiguous=True, nonexistent="raise")
        except ValueError as error:  # pandas' NonExistentTimeError is a ValueError
            raise errors.NonexistentTimeError(
                f"{name}={value!r} does not exist in {tz}: the clocks skip that time at the "
                "spring DST change. Give a time-zone aware timestamp instead.",
                timestamp=stamp,
            ) from error
    return stamp.tz_convert("UTC").as_unit("us")


def select(
    root: Path,
    info: DatasetInfo | None,
    tz: str | None,
    start: Any,
    end: Any,
    months: Iterable[str] | None,
    members: str | Iterable[str] | None,
    period: tuple[int, int] | None = None,
) -> Selection:
    """The selection of a read. ``period``: the dataset's [first step, end of the last
    step) [µs UTC] when ``info`` does not record it (every step of it is returned)."""
    if info is not None and tz is not None and tz != info.tz:
        raise errors.ParameterError(
            f"{root} is partitioned by local months of {info.tz!r}, not {tz!r}; leave tz unset."
        )
    zone = info.tz if info is not None else (tz or time.PARIS)
    chosen = None
    if months is not None:
        labels = [months] if isinstance(months, str) else list(months)
        chosen = {_dataset.check_month(label) for label in labels}
    first = last = None
    bounds: list[int | None] = [None, None]
    conditions = []
    if start is not None:
        begin = _utc(start, zone, "start")
        first = str(time.month_labels(pd.DatetimeIndex([begin]), zone)[0])
        bounds[0] = begin.value // 1000
        conditions.append(ds.field(TIMESTAMP) >= pa.scalar(bounds[0], _UTC))
    if end is not None:
        stop = _utc(end, zone, "end")
        if start is not None and stop <= _utc(start, zone, "start"):
            raise errors.ParameterError(f"end ({end}) must come after start ({start}).")
        before = pd.DatetimeIndex([stop - pd.Timedelta(microseconds=1)])
        last = str(time.month_labels(before, zone)[0])
        bounds[1] = stop.value // 1000
        conditions.append(ds.field(TIMESTAMP) < pa.scalar(bounds[1], _UTC))
    files = _dataset.month_fragments(root, chosen, first, last)
    absent = sorted(m for m in chosen or () if m not in files and (first or m) <= m <= (last or m))
    if absent or not files:
        what = f"the month {absent[0]}" if absent else f"months={months}, start={start}, end={end}"
        raise errors.EmptyPeriodError(
            f"{root} has no file for {what}. Its month directories are "
            f"{sorted(p.name for p in root.glob('month=*'))[:24]}.",
            path=root,
        )
    row_filter = None
    for condition in conditions:
        row_filter = condition if row_filter is None else row_filter & condition
    wanted = wanted_members(members)
    if period is None and info is not None:
        period = info.period()
    if period is not None:
        bounds[0] = period[0] if bounds[0] is None else max(bounds[0], period[0])
        bounds[1] = period[1] if bounds[1] is None else min(bounds[1], period[1])
    limits = (bounds[0], bounds[1])
    whole = period is not None
    if info is None:
        layout = LONG if MEMBER in _first_schema(files).names else _dataset.WIDE
        return Selection(root, layout, zone, None, files, row_filter, limits, wanted, None, whole)
    plan = {
        role: tuple(m for m in ids if wanted is None or m in wanted)
        for role, ids in zip(ROLES, (info.consumers, info.producers), strict=True)
    }
    _scan.check_known(wanted, plan, root)
    known = frozenset(info.consumers) | frozenset(info.producers)
    return Selection(
        root, info.layout, zone, info.step, files, row_filter, limits, wanted, plan, whole, known
    )


_UTC = pa.timestamp("us", tz="UTC")


def _first_schema(files: dict[str, list[Any]]) -> Any:
    return _dataset.physical_schema(next(iter(files.values()))[0])


def read_long(
    selection: Selection, quantities: Quantities
) -> tuple[pd.DatetimeIndex, dict[str, Any], dict[str, pd.Index]]:
    """Scatter the selected long rows; (index, arrays per role, member ids per role)."""
    members, step = selection.members, selection.step
    if members is None or step is None:
        members, step = _scan.discover_long(selection)
    ids = {role: pd.Index(list(members[role]), dtype=object) for role in ROLES}
    shapes = {role: (len(quantities[role]), len(ids[role])) for role in ROLES}
    names = list(dict.fromkeys(name for role in ROLES for name in quantities[role]))
    prune = _scan.member_filter(selection)
    row_filter = _scan.both(selection.row_filter, prune)
    canvas, grids = _canvas(selection, step, shapes)
    for fragments, grid in zip(selection.months.values(), grids, strict=True):
        offset = canvas.offset(grid, selection.root)
        for fragment in fragments:
            schema = _dataset.physical_schema(fragment)
            factor = _dataset.timestamp_factor(schema, fragment.path)
            _dataset.check_columns(schema, fragment.path, (MEMBER, ROLE), names)
            scatter = functools.partial(
                _scatter.scatter_long,
                canvas,
                grid,
                offset,
                members=ids,
                quantities=quantities,
                factor=factor,
                path=fragment.path,
            )
            columns = [TIMESTAMP, MEMBER, ROLE, *names]
            _scan.scan(fragment, columns, row_filter, scatter, prune=prune, dictionary=True)
    _dataset.release_memory()
    index, arrays = _grid.assemble(canvas, selection.root, whole=selection.whole)
    return index, arrays, ids


def _canvas(
    selection: Selection, step: pd.Timedelta, shapes: dict[str, tuple[int, int]]
) -> tuple[_grid.Canvas, list[_grid.MonthGrid]]:
    grids = [_grid.MonthGrid.of(label, selection.tz, step) for label in selection.months]
    return _grid.Canvas.over(grids, shapes, *selection.bounds), grids


def read_wide(selection: Selection) -> tuple[pd.DatetimeIndex, dict[str, Any], dict[str, pd.Index]]:
    """Read the selected member columns of a wide dataset."""
    members, step = selection.members, selection.step
    if members is None or step is None:
        members, step = _scan.discover_wide(selection)
    ids = {role: pd.Index(list(members[role]), dtype=object) for role in ROLES}
    shapes = {role: (1, len(ids[role])) for role in ROLES}
    canvas, grids = _canvas(selection, step, shapes)
    for fragments, grid in zip(selection.months.values(), grids, strict=True):
        offset = canvas.offset(grid, selection.root)
        for fragment in fragments:
            schema = _dataset.physical_schema(fragment)
            factor = _dataset.timestamp_factor(schema, fragment.path)
            if selection.known is not None:
                _check_wide_columns(schema, selection.known, selection.root, fragment.path)
            present = set(schema.names)
            columns = []
            for role in ROLES:
                for code, member in enumerate(ids[role]):
                    if member in present:
                        _dataset.check_float(schema, member, fragment.path)
                        _check_role(schema.field(member), role, fragment.path)
                        columns.append((role, code, member))
            read = [TIMESTAMP, *(name for _, _, name in columns)]
            batches: list[Any] = []
            _scan.scan(fragment, read, selection.row_filter, batches.append)
            if batches:
                table = pa.Table.from_batches(batches)
                del batches
                scatter = functools.partial(
                    _scatter.scatter_wide,
                    canvas,
                    grid,
                    offset,
                    columns=columns,
                    factor=factor,
                    path=fragment.path,
                )
                _scan.scan(fragment, read, None, scatter, batches=[table])
    _dataset.release_memory()
    index, arrays = _grid.assemble(canvas, selection.root, whole=selection.whole)
    return index, arrays, ids


def _check_wide_columns(schema: Any, known: frozenset[str], root: Path, path: str) -> None:
    """Every column of a wide file of a dataset with metadata is a member it lists."""
    for name in schema.names:
        if name != TIMESTAMP and name not in known:
            raise errors.UnknownMemberError(
                f"{path}: column {name!r} is not a member of the dataset {root} (its "
                f"{_dataset.METADATA} lists the members). Write the dataset again with it, or "
                "drop the column.",
                member=name,
                column=name,
                path=path,
            )


def _check_role(field: Any, role: str, path: str) -> None:
    found = _scan.role_of(field)
    if found is not None and found != role:
        raise errors.ColumnError(
            f"{path}: column {field.name!r} is a {found} in the file but a {role} in the "
            f"dataset's {_dataset.METADATA}. Write the dataset again.",
            column=field.name,
            member=field.name,
            path=path,
        )
