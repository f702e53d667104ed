"""Frames -> month partitions of Parquet files (long or wide), written chunk by chunk.

A long month file is sorted by role, member id (lexicographic) and timestamp, and written
in row groups of about :data:`ROW_GROUP_ROWS` rows that each hold whole members: the
row-group statistics of ``member`` then let a reader skip the row groups of the members
it does not want. Rows are built a chunk of members at a time, so the Arrow memory of a
month never exceeds one row group whatever the number of members.

Parquet settings: zstd compression; dictionary encoding for ``timestamp``, ``member``,
``role`` and the energies of an energy dataset (meter data are whole watts: few distinct
values per row group, about 4x smaller than plain floats; Parquet falls back to plain
pages by itself when a dictionary grows too large); BYTE_STREAM_SPLIT for the float
columns of results (computed, full-precision floats, where dictionaries do not pay),
encoded :data:`WRITE_BATCH_ROWS` values at a time; a CRC checksum in every page header,
which every read verifies.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from numpy.typing import NDArray

from repartition import _inputs, errors
from repartition.io.parquet._dataset import (
    CONSUMER,
    ENERGY,
    MEMBER,
    METADATA,
    PART,
    PARTITION,
    PRODUCER,
    ROLE,
    TIMESTAMP,
    release_memory,
)
from repartition.io.parquet._fingerprint import key_fingerprint as key_fingerprint  # re-exported

Array = NDArray[np.float64]

ROW_GROUP_ROWS = 1 << 20
"""Target rows per row group of a long file (whole members per row group)."""
WRITE_BATCH_ROWS = 1 << 16
"""Values the Parquet writer encodes at a time, per column, in results files."""

UTC_MICROSECONDS = pa.timestamp("us", tz="UTC")
RESULT_COLUMNS = ("autocons_kwh", "complement_kwh", "autoprod_kwh", "surplus_kwh")
"""AUTOCONS, COMPLEMENT (consumer rows) and AUTOPROD, SURPLUS (producer rows). [kWh]"""
AUTOCONS, COMPLEMENT, AUTOPROD, SURPLUS = RESULT_COLUMNS
RESULT_SCHEMA_COLUMNS = (ENERGY, *RESULT_COLUMNS)
TOTALS = ("consumption_kwh", "production_kwh", "allocated_kwh", "grid_supply_kwh", "surplus_kwh")
"""The summed energies recorded per month of a results dataset. [kWh]"""


def long_schema(quantities: Sequence[str]) -> Any:
    return pa.schema(
        [
            pa.field(TIMESTAMP, UTC_MICROSECONDS),
            pa.field(MEMBER, pa.dictionary(pa.int32(), pa.string())),
            pa.field(ROLE, pa.dictionary(pa.int8(), pa.string())),
            *(pa.field(name, pa.float64()) for name in quantities),
        ]
    )


@dataclass(frozen=True)
class Part:
    """One role's members and their (members, steps) arrays per column (None: all null)."""

    role: str
    ids: tuple[str, ...]
    columns: Mapping[str, Array | None]


def member_ids(columns: pd.Index, table: str) -> tuple[str, ...]:
    """The column labels as member ids: strings, checked."""
    for label in columns:
        if not isinstance(label, str) or not label:
            raise errors.ColumnError(
                f"{table} column {label!r} is not a member id: Parquet stores member ids "
                f"as non-empty strings. Rename it, e.g. `{table}.columns = "
                f"{table}.columns.astype(str)`.",
                column=label,
                member=label,
            )
    return tuple(columns)


def checked_energy(
    consumption: pd.DataFrame | pd.Series, production: pd.DataFrame | pd.Series
) -> tuple[pd.DatetimeIndex, pd.Timedelta, list[Part]]:
    """Check two energy tables for writing: numbers, unique string ids, one regular axis."""
    consumption = _inputs.as_frame(consumption, "consumption")
    production = _inputs.as_frame(production, "production")
    step = _inputs.check_time_index(consumption.index, "consumption")
    index = consumption.index
    assert isinstance(index, pd.DatetimeIndex)
    if step is None:
        raise errors.IrregularStepError(
            "A single step without a `freq` has no known length; set the index's freq "
            "(e.g. `frame.index.freq = '30min'`) before writing it.",
            timestamp=index[0],
        )
    _inputs.check_time_index(production.index, "production")
    _inputs.check_same_steps(index, production.index, "production")
    whole_us = index.as_unit("ns").asi8 % 1000
    if whole_us.any():
        row = int(np.argmax(whole_us != 0))
        raise errors.TimeIndexError(
            f"The timestamp {index[row]} is not a whole microsecond; Parquet datasets store "
            "microseconds.",
            timestamp=index[row],
        )
    parts = []
    for role, table, name in (
        (CONSUMER, consumption, "consumption"),
        (PRODUCER, production, "production"),
    ):
        values = _inputs.frame_values(table, name)
        _check_writable_energy(values, name, table.columns, index)
        parts.append(Part(role, member_ids(table.columns, name), {ENERGY: values.T}))
    return index, step, parts


def _check_writable_energy(
    values: NDArray[np.float64], table: str, members: pd.Index, index: pd.DatetimeIndex
) -> None:
    """Refuse, before anything is written, an energy that is negative or infinite (NaN is
    kept: a dataset may hold the holes of the meter data, which ``allocate`` refuses)."""
    with np.errstate(invalid="ignore"):
        bad = (values < 0.0) | np.isinf(values)
    if not bad.any():
        return
    row = int(np.flatnonzero(bad.any(axis=1))[0])
    column = int(np.flatnonzero(bad[row])[0])
    value, member = float(values[row, column]), members[column]
    cls = errors.NonFiniteError if np.isinf(value) else errors.NegativeEnergyError
    raise cls(
        f"{table} of {member!r} at step {index[row]} is {value} kWh: an energy dataset holds "
        "finite energies >= 0 (NaN for a missing value). Nothing was written.",
        member=member,
        column=member,
        timestamp=index[row],
    )


def utc_microseconds(index: pd.DatetimeIndex) -> NDArray[np.int64]:
    return np.asarray(index.tz_convert("UTC").as_unit("us").asi8, dtype=np.int64)


def long_tables(
    stamps: NDArray[np.int64], steps: slice, parts: Sequence[Part], quantities: Sequence[str]
) -> Iterator[Any]:
    """The long rows of one month, a chunk of whole members at a time, sorted by role,
    member id and timestamp. ``stamps``: the month's step starts [µs UTC]; ``steps``: the
    month's columns in the parts' arrays."""
    schema = long_schema(quantities)
    count = len(stamps)
    per_chunk = max(1, ROW_GROUP_ROWS // max(count, 1))
    # The columns that depend only on a chunk's number of members (the timestamps repeated
    # per member, the member codes, the role codes, the null columns) are built once per
    # chunk size and shared by every chunk of that size: Arrow arrays are immutable.
    shared: dict[int, tuple[Any, Any, Any, Any]] = {}

    def columns_of(members: int) -> tuple[Any, Any, Any, Any]:
        if members not in shared:
            rows = members * count
            shared[members] = (
                pa.array(np.tile(stamps, members), UTC_MICROSECONDS),
                pa.array(np.repeat(np.arange(members, dtype=np.int32), count)),
                pa.array(np.zeros(rows, dtype=np.int8)),
                pa.nulls(rows, pa.float64()),
            )
        return shared[members]

    for part in parts:
        order = np.array(sorted(range(len(part.ids)), key=part.ids.__getitem__), dtype=np.int64)
        role = pa.array([part.role], pa.string())
        for start in range(0, len(order), per_chunk):
            chosen = order[start : start + per_chunk]
            times, codes, roles, nulls = columns_of(len(chosen))
            # Members already in id order (the usual case) are a slice: the month's rows of
            # a (members, steps) array in C order are then handed to Arrow without a copy.
            run = slice(int(chosen[0]), int(chosen[-1]) + 1)
            rows_of: slice | NDArray[np.int64] = (
                run if run.stop - run.start == len(chosen) and _increasing(chosen) else chosen
            )
            columns = [
                times,
                # The codes index these dictionaries by construction: no bounds check.
                pa.DictionaryArray.from_arrays(
                    codes, pa.array([part.ids[i] for i in chosen], pa.string()), safe=False
                ),
                pa.DictionaryArray.from_arrays(roles, role, safe=False),
            ]
            for name in quantities:
                values = part.columns.get(name)
                columns.append(
                    nulls
                    if values is None
                    else pa.array(np.ascontiguousarray(values[rows_of, steps]).reshape(-1))
                )
            yield pa.Table.from_arrays(columns, schema=schema)


def _increasing(positions: NDArray[np.int64]) -> bool:
    """Whether ``positions`` are consecutive integers in increasing order."""
    return bool((np.diff(positions) == 1).all())


def wide_table(stamps: NDArray[np.int64], steps: slice, parts: Sequence[Part]) -> Any:
    """One month as a wide table: ``timestamp`` and one float64 column per member, each
    field carrying its role in its metadata (``{"role": "consumer"}``)."""
    seen: dict[str, str] = {}
    fields_ = [pa.field(TIMESTAMP, UTC_MICROSECONDS)]
    arrays = [pa.array(stamps, UTC_MICROSECONDS)]
    for part in parts:
        values = part.columns[ENERGY]
        assert values is not None
        for number, member in enumerate(part.ids):
            if member in (TIMESTAMP, PARTITION) or member in seen:
                also = f" and a {seen[member]}" if member in seen else ""
                raise errors.ColumnError(
                    f"Member {member!r} ({part.role}{also}) cannot be a column of a wide "
                    "file, whose columns are 'timestamp', the partition 'month' and one per "
                    "member id. Use layout='long', or rename the member.",
                    column=member,
                    member=member,
                )
            seen[member] = part.role
            fields_.append(pa.field(member, pa.float64(), metadata={ROLE: part.role}))
            arrays.append(pa.array(np.ascontiguousarray(values[number, steps])))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields_))


def write_file(path: Path, tables: Sequence[Any] | Iterator[Any], *, wide: bool) -> None:
    """Write tables (one schema) as one Parquet file, one row group per table at most."""
    writer = None
    try:
        for table in tables:
            if writer is None:
                writer = pq.ParquetWriter(str(path), table.schema, **_options(table.schema, wide))
            writer.write_table(table, row_group_size=max(ROW_GROUP_ROWS, table.num_rows))
    finally:
        if writer is not None:
            writer.close()
        release_memory()


def _options(schema: Any, wide: bool) -> dict[str, Any]:
    """zstd, and for float columns: dictionaries for energies (meter data are whole watts,
    few distinct values: about 4x smaller than plain), BYTE_STREAM_SPLIT for computed
    results (full-precision floats, where a dictionary only adds to the plain size)."""
    results = RESULT_COLUMNS[0] in schema.names
    floats = [f.name for f in schema if pa.types.is_float64(f.type)]
    options: dict[str, Any] = {
        "compression": "zstd",
        "use_dictionary": [TIMESTAMP, MEMBER, ROLE] if results else True,
        "use_byte_stream_split": floats if results else False,
        # Wide files keep the stored Arrow schema: it holds each member column's role.
        # Long files do not: readers then see `member` and `role` as plain Parquet
        # strings (dictionary-encoded in the file either way).
        "store_schema": wide,
        # A CRC per page, verified by every read: a damaged page is an error, never
        # silently different values.
        "write_page_checksum": True,
    }
    if results:
        # Values handed to the column encoders 64 Ki at a time (Arrow's default: 1,024):
        # about 10 % less CPU to encode a month of results, and the same bytes (measured
        # on the benchmarks' months). Energy files keep the default: their dictionaries
        # would fall back to plain pages a batch later, for no measurable gain.
        options["write_batch_size"] = WRITE_BATCH_ROWS
    return options


def check_replaceable(path: Path) -> None:
    """Raise :class:`FileExistsError` unless ``path`` is absent, an empty directory or a
    repartition dataset (it holds a ``_repartition.json``): what ``overwrite=True`` may
    replace. Anything else is never deleted."""
    if not os.path.lexists(path):
        return
    if (
        path.is_dir()
        and not path.is_symlink()
        and ((path / METADATA).is_file() or not any(path.iterdir()))
    ):
        return
    raise FileExistsError(
        f"{path} exists and is not a repartition dataset (no {METADATA} in it); "
        "overwrite=True only replaces a dataset or an empty directory, so it is left as it "
        "is. Choose another path, or move it away yourself."
    )


def month_directory(root: Path, label: str) -> Path:
    return root / f"{PARTITION}={label}"


def part_path(root: Path, label: str) -> Path:
    directory = month_directory(root, label)
    directory.mkdir(parents=True, exist_ok=True)
    return directory / PART


def directory_size(root: str | os.PathLike[str]) -> int:
    """Bytes of every file under ``root``."""
    return sum(path.stat().st_size for path in Path(root).rglob("*") if path.is_file())
