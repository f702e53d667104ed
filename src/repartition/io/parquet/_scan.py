"""Scanning the files of a selection: batches with damaged-file errors mapped, and the
members and step of datasets written without ``_repartition.json``."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds

from repartition import errors
from repartition.io.parquet import _dataset, _scatter
from repartition.io.parquet._dataset import MEMBER, ROLE, ROLES, TIMESTAMP

Quantities = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class Selection:
    """What to read: the files of the selected months, the time filter, the members.

    ``bounds``: the canvas's limits [µs UTC] (the time filter and the dataset's period);
    ``whole``: return every step within them (the period is known), not only those seen;
    ``known``: every member id of the dataset's metadata (``None`` without it).
    """

    root: Path
    layout: str
    tz: str
    step: pd.Timedelta | None
    months: dict[str, list[Any]]
    row_filter: Any
    bounds: tuple[int | None, int | None]
    wanted: tuple[str, ...] | None
    members: dict[str, tuple[str, ...]] | None
    whole: bool = False
    known: frozenset[str] | None = None


def check_known(
    wanted: tuple[str, ...] | None, plan: dict[str, tuple[str, ...]], root: Path
) -> None:
    known = set(plan[ROLES[0]]) | set(plan[ROLES[1]])
    for member in wanted or ():
        if member not in known:
            raise errors.UnknownMemberError(
                f"{root} has no member {member!r}. Check the id (members are listed in its "
                f"{_dataset.METADATA}).",
                member=member,
                path=root,
            )


def member_filter(selection: Selection) -> Any:
    return None if selection.wanted is None else ds.field(MEMBER).isin(list(selection.wanted))


def both(left: Any, right: Any) -> Any:
    return right if left is None else left if right is None else left & right


def scan(
    fragment: Any,
    columns: list[str],
    row_filter: Any,
    handle: Callable[[Any], None],
    *,
    prune: Any = None,
    dictionary: bool = False,
    batches: Iterable[Any] | None = None,
) -> None:
    """Pass each batch of a file (or each of ``batches``, already read from it) to
    ``handle``. Errors that only a damaged file explains (an index beyond a dictionary, a
    value Arrow cannot convert) become a :class:`~repartition.errors.CorruptFileError`
    naming the file and row group; the library's own errors pass as they are."""
    try:
        if batches is None:
            batches = _dataset.read_fragment(
                fragment, columns, row_filter, prune=prune, dictionary=dictionary
            )
        for batch in batches:
            handle(batch)
    except errors.RepartitionError:
        raise
    except (IndexError, KeyError, TypeError, ValueError, OverflowError, pa.ArrowException) as error:
        raise _dataset.corrupt_fragment(fragment, columns, None, dictionary, error) from error


def discover_long(selection: Selection) -> tuple[dict[str, tuple[str, ...]], pd.Timedelta]:
    """Members (sorted ids per role) and step of a long dataset without metadata."""
    found: dict[str, set[str]] = {role: set() for role in ROLES}
    counts: Counter[int] = Counter()
    row_filter = both(selection.row_filter, member_filter(selection))
    for fragments in selection.months.values():
        for fragment in fragments:
            schema = _dataset.physical_schema(fragment)
            _dataset.timestamp_factor(schema, fragment.path)
            _dataset.check_columns(schema, fragment.path, (MEMBER, ROLE), ())

            def members_of(batch: Any, path: str = fragment.path) -> None:
                member_index, member_values = _scatter.dictionary_codes(batch, MEMBER, path)
                role_index, role_values = _scatter.dictionary_codes(batch, ROLE, path)
                width = max(len(role_values), 1)
                for pair in np.unique(member_index * width + role_index):
                    role = str(role_values[pair % width])
                    found.setdefault(role, set()).add(str(member_values[pair // width]))
                count_steps(batch.column(TIMESTAMP), counts)

            scan(fragment, [TIMESTAMP, MEMBER, ROLE], row_filter, members_of, dictionary=True)
    members = {role: tuple(sorted(ids)) for role, ids in found.items() if role in ROLES}
    if selection.wanted:
        check_known(selection.wanted, members, selection.root)
    return members, step_or_fail(counts, selection.root)


def count_steps(column: Any, counts: Counter[int]) -> None:
    """Add the differences between the sorted distinct timestamps of ``column`` [ns]."""
    stamps = np.unique(np.asarray(column.cast(pa.int64()).to_numpy(zero_copy_only=False)))
    unit = pd.Timedelta(1, unit=column.type.unit).value
    lengths, times = np.unique(np.diff(stamps), return_counts=True)
    counts.update({int(length) * unit: int(n) for length, n in zip(lengths, times, strict=True)})


def step_or_fail(counts: Counter[int], root: Path) -> pd.Timedelta:
    """The most common difference between timestamps: the step (as inspect_steps finds it)."""
    if not counts:
        raise errors.IrregularStepError(
            f"The step of {root} cannot be inferred from a single timestamp, and it has no "
            f"{_dataset.METADATA}: write it with repartition.io.parquet, or read more steps.",
            path=root,
        )
    return pd.Timedelta(counts.most_common(1)[0][0], unit="ns")


def role_of(field: Any) -> str | None:
    metadata = field.metadata or {}
    value = metadata.get(ROLE.encode())
    return None if value is None else value.decode("utf-8", "replace")


def discover_wide(selection: Selection) -> tuple[dict[str, tuple[str, ...]], pd.Timedelta]:
    """Members (by role, from each column's field metadata) and step, without metadata."""
    found: dict[str, set[str]] = {role: set() for role in ROLES}
    counts: Counter[int] = Counter()
    for fragments in selection.months.values():
        for fragment in fragments:
            schema = _dataset.physical_schema(fragment)
            _dataset.timestamp_factor(schema, fragment.path)
            for field in schema:
                if field.name == TIMESTAMP:
                    continue
                role = role_of(field)
                if role not in ROLES:
                    raise errors.ColumnError(
                        f"{fragment.path}: column {field.name!r} has no role (field metadata "
                        f"'role' = 'consumer' or 'producer', found {role!r}) and the dataset "
                        f"has no {_dataset.METADATA} to tell it.",
                        column=field.name,
                        path=fragment.path,
                    )
                _dataset.check_float(schema, field.name, fragment.path)
                found[role].add(field.name)
            if not counts:
                for batch in _dataset.read_fragment(fragment, [TIMESTAMP], selection.row_filter):
                    count_steps(batch.column(TIMESTAMP), counts)
    members = {
        role: tuple(m for m in sorted(ids) if selection.wanted is None or m in selection.wanted)
        for role, ids in found.items()
    }
    if selection.wanted:
        check_known(selection.wanted, members, selection.root)
    return members, step_or_fail(counts, selection.root)


def source_period(root: Path, months: Mapping[str, list[Any]]) -> tuple[int, int, pd.Timedelta]:
    """The first and last steps [µs UTC] of a dataset without a recorded period, and its
    step (the most common difference between the first month's timestamps): read from
    the ``timestamp`` column of its first and last months only."""
    labels = list(months)
    found: list[int] = []
    counts: Counter[int] = Counter()
    for label in dict.fromkeys((labels[0], labels[-1])):
        for fragment in months[label]:
            factor = _dataset.timestamp_factor(_dataset.physical_schema(fragment), fragment.path)

            def extremes(
                batch: Any, path: str = fragment.path, label: str = label, factor: Any = factor
            ) -> None:
                stamps = _scatter.microseconds(batch.column(TIMESTAMP), factor, path)
                if len(stamps):
                    found.extend((int(stamps.min()), int(stamps.max())))
                if label == labels[0]:
                    count_steps(batch.column(TIMESTAMP), counts)

            scan(fragment, [TIMESTAMP], None, extremes)
    if not found:
        raise errors.EmptyPeriodError(f"{root} has no rows in its first or last month.", path=root)
    return min(found), max(found), step_or_fail(counts, root)
