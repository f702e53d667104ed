"""Reading month-partitioned datasets: the selection, the members, the scan.

Partition pruning first (only the directories of the selected local months are listed,
no file of another month is opened), then, per file: the footer (schema check), the row
groups whose statistics can hold the selected members (long files), the selected columns
(wide files), and the rows of the time range, streamed batch by batch into the month's
arrays (:mod:`repartition.io._arrow_grid`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from repartition import errors, time
from repartition.io import _arrow
from repartition.io import _arrow_grid as _grid
from repartition.io._arrow import LONG, MEMBER, ROLE, ROLES, TIMESTAMP, DatasetInfo

Quantities = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Selection:
    """What to read: the files of the selected months, the time filter, the members."""

    root: Path
    layout: str
    tz: str
    step: pd.Timedelta | None
    months: dict[str, list[Any]]
    row_filter: Any
    bounds: tuple[int | None, int | None]
    wanted: tuple[str, ...] | None
    members: dict[str, tuple[str, ...]] | None


def wanted_members(members: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if members is None:
        return None
    chosen = (members,) if isinstance(members, str) else tuple(members)
    for member in chosen:
        if not isinstance(member, str):
            raise TypeError(f"Member ids are strings, not {member!r}.")
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
) -> Selection:
    if info is not None and tz is not None and tz != info.tz:
        raise ValueError(
            f"{root} is partitioned by local months of {info.tz!r}, not {tz!r}; leave tz unset."
        )
    zone = info.tz if info is not None else (tz or time.PARIS)
    chosen = None
    if months is not None:
        labels = [months] if isinstance(months, str) else list(months)
        chosen = {_arrow.check_month(label) for label in labels}
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
            raise ValueError(f"end ({end}) must come after start ({start}).")
        before = pd.DatetimeIndex([stop - pd.Timedelta(microseconds=1)])
        last = str(time.month_labels(before, zone)[0])
        bounds[1] = stop.value // 1000
        conditions.append(ds.field(TIMESTAMP) < pa.scalar(bounds[1], _UTC))
    files = _arrow.month_fragments(root, chosen, first, last)
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
    if info is None:
        layout = LONG if MEMBER in _first_schema(files).names else _arrow.WIDE
        return Selection(
            root, layout, zone, None, files, row_filter, (bounds[0], bounds[1]), wanted, None
        )
    plan = {
        role: tuple(m for m in ids if wanted is None or m in wanted)
        for role, ids in zip(ROLES, (info.consumers, info.producers), strict=True)
    }
    _check_known(wanted, plan, root)
    return Selection(
        root, info.layout, zone, info.step, files, row_filter, (bounds[0], bounds[1]), wanted, plan
    )


_UTC = pa.timestamp("us", tz="UTC")


def _first_schema(files: dict[str, list[Any]]) -> Any:
    return _arrow.physical_schema(next(iter(files.values()))[0])


def _check_known(
    wanted: tuple[str, ...] | None, plan: dict[str, tuple[str, ...]], root: Path
) -> None:
    known = set(plan[ROLES[0]]) | set(plan[ROLES[1]])
    for member in wanted or ():
        if member not in known:
            raise errors.UnknownMemberError(
                f"{root} has no member {member!r}. Check the id (members are listed in its "
                f"{_arrow.METADATA}).",
                member=member,
                path=root,
            )


def _member_filter(selection: Selection) -> Any:
    return None if selection.wanted is None else ds.field(MEMBER).isin(list(selection.wanted))


def _and(left: Any, right: Any) -> Any:
    return right if left is None else left if right is None else left & right


def _discover_long(selection: Selection) -> tuple[dict[str, tuple[str, ...]], pd.Timedelta]:
    """Members (sorted ids per role) and step of a long dataset without metadata."""
    found: dict[str, set[str]] = {role: set() for role in ROLES}
    counts: Counter[int] = Counter()
    row_filter = _and(selection.row_filter, _member_filter(selection))
    for fragments in selection.months.values():
        for fragment in fragments:
            schema = _arrow.physical_schema(fragment)
            _arrow.timestamp_factor(schema, fragment.path)
            _arrow.check_columns(schema, fragment.path, (MEMBER, ROLE), ())
            for batch in _arrow.read_fragment(
                fragment, [TIMESTAMP, MEMBER, ROLE], row_filter, dictionary=True
            ):
                member_index, member_values = _grid.dictionary_codes(batch, MEMBER, fragment.path)
                role_index, role_values = _grid.dictionary_codes(batch, ROLE, fragment.path)
                width = max(len(role_values), 1)
                for pair in np.unique(member_index * width + role_index):
                    role = str(role_values[pair % width])
                    found.setdefault(role, set()).add(str(member_values[pair // width]))
                _count_steps(batch.column(TIMESTAMP), counts)
    members = {role: tuple(sorted(ids)) for role, ids in found.items() if role in ROLES}
    if selection.wanted:
        _check_known(selection.wanted, members, selection.root)
    return members, _step_or_fail(counts, selection.root)


def _count_steps(column: Any, counts: Counter[int]) -> None:
    """Add the differences between the sorted distinct timestamps of ``column`` [ns]."""
    stamps = np.unique(np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False)))
    unit = pd.Timedelta(1, unit=column.type.unit).value
    lengths, times = np.unique(np.diff(stamps), return_counts=True)
    counts.update({int(length) * unit: int(n) for length, n in zip(lengths, times, strict=True)})


def _step_or_fail(counts: Counter[int], root: Path) -> pd.Timedelta:
    """The most common difference between timestamps: the step (as inspect_steps finds it)."""
    if not counts:
        raise errors.IrregularStepError(
            f"The step of {root} cannot be inferred from a single timestamp, and it has no "
            f"{_arrow.METADATA}: write it with repartition.io.parquet, or read more steps.",
            path=root,
        )
    return pd.Timedelta(counts.most_common(1)[0][0], unit="ns")


def read_long(
    selection: Selection, quantities: Quantities
) -> tuple[pd.DatetimeIndex, dict[str, Any], dict[str, pd.Index]]:
    """Scatter the selected long rows; (index, arrays per role, member ids per role)."""
    members, step = selection.members, selection.step
    if members is None or step is None:
        members, step = _discover_long(selection)
    ids = {role: pd.Index(list(members[role]), dtype=object) for role in ROLES}
    shapes = {role: (len(quantities[role]), len(ids[role])) for role in ROLES}
    names = list(dict.fromkeys(name for role in ROLES for name in quantities[role]))
    prune = _member_filter(selection)
    row_filter = _and(selection.row_filter, prune)
    canvas, grids = _canvas(selection, step, shapes)
    for fragments, grid in zip(selection.months.values(), grids, strict=True):
        offset = canvas.offset(grid, selection.root)
        for fragment in fragments:
            schema = _arrow.physical_schema(fragment)
            factor = _arrow.timestamp_factor(schema, fragment.path)
            _arrow.check_columns(schema, fragment.path, (MEMBER, ROLE), names)
            for batch in _arrow.read_fragment(
                fragment,
                [TIMESTAMP, MEMBER, ROLE, *names],
                row_filter,
                prune=prune,
                dictionary=True,
            ):
                _grid.scatter_long(
                    canvas, grid, offset, batch, ids, quantities, factor, fragment.path
                )
    _arrow.release_memory()
    index, arrays = _grid.assemble(canvas, selection.root)
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
        members, step = _discover_wide(selection)
    ids = {role: pd.Index(list(members[role]), dtype=object) for role in ROLES}
    shapes = {role: (1, len(ids[role])) for role in ROLES}
    canvas, grids = _canvas(selection, step, shapes)
    for fragments, grid in zip(selection.months.values(), grids, strict=True):
        offset = canvas.offset(grid, selection.root)
        for fragment in fragments:
            schema = _arrow.physical_schema(fragment)
            factor = _arrow.timestamp_factor(schema, fragment.path)
            present = set(schema.names)
            columns = []
            for role in ROLES:
                for code, member in enumerate(ids[role]):
                    if member in present:
                        _arrow.check_float(schema, member, fragment.path)
                        _check_role(schema.field(member), role, fragment.path)
                        columns.append((role, code, member))
            read = [TIMESTAMP, *(name for _, _, name in columns)]
            batches = list(_arrow.read_fragment(fragment, read, selection.row_filter))
            if batches:
                table = pa.Table.from_batches(batches)
                del batches
                _grid.scatter_wide(canvas, grid, offset, table, columns, factor, fragment.path)
    _arrow.release_memory()
    index, arrays = _grid.assemble(canvas, selection.root)
    return index, arrays, ids


def _role_of(field: Any) -> str | None:
    metadata = field.metadata or {}
    value = metadata.get(ROLE.encode())
    return None if value is None else value.decode("utf-8", "replace")


def _check_role(field: Any, role: str, path: str) -> None:
    found = _role_of(field)
    if found is not None and found != role:
        raise errors.ColumnError(
            f"{path}: column {field.name!r} is a {found} in the file but a {role} in the "
            f"dataset's {_arrow.METADATA}. Write the dataset again.",
            column=field.name,
            member=field.name,
            path=path,
        )


def _discover_wide(selection: Selection) -> tuple[dict[str, tuple[str, ...]], pd.Timedelta]:
    """Members (by role, from each column's field metadata) and step, without metadata."""
    found: dict[str, set[str]] = {role: set() for role in ROLES}
    counts: Counter[int] = Counter()
    for fragments in selection.months.values():
        for fragment in fragments:
            schema = _arrow.physical_schema(fragment)
            _arrow.timestamp_factor(schema, fragment.path)
            for field in schema:
                if field.name == TIMESTAMP:
                    continue
                role = _role_of(field)
                if role not in ROLES:
                    raise errors.ColumnError(
                        f"{fragment.path}: column {field.name!r} has no role (field metadata "
                        f"'role' = 'consumer' or 'producer', found {role!r}) and the dataset "
                        f"has no {_arrow.METADATA} to tell it.",
                        column=field.name,
                        path=fragment.path,
                    )
                _arrow.check_float(schema, field.name, fragment.path)
                found[role].add(field.name)
            if not counts:
                for batch in _arrow.read_fragment(fragment, [TIMESTAMP], selection.row_filter):
                    _count_steps(batch.column(TIMESTAMP), counts)
    members = {
        role: tuple(m for m in sorted(ids) if selection.wanted is None or m in selection.wanted)
        for role, ids in found.items()
    }
    if selection.wanted:
        _check_known(selection.wanted, members, selection.root)
    return members, _step_or_fail(counts, selection.root)
