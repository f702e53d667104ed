"""Parquet datasets on disk: the metadata file, month partitions, schema checks, guarded reads.

A dataset written by :mod:`repartition.io.parquet` is a directory::

    <root>/_repartition.json          what the dataset is (kind, layout, tz, step, members)
    <root>/month=2025-01/part-0.parquet
    <root>/month=2025-02/part-0.parquet
    ...

``month`` is the local month (``repartition.time.month_labels``) in the time zone
recorded in ``_repartition.json``. Only ``<root>/month=YYYY-MM/<file>`` is data: names
starting with ``_`` or ``.`` (the metadata file, the temporary names of the atomic
writers) are skipped, and anything else in the dataset (another directory, a file
beside the months, a directory inside a month) is an error, never read and never ignored.

Files are written with a CRC checksum per page and every page read is verified against
it. Every read of a file goes through :func:`physical_schema` or :func:`read_fragment`,
which turn pyarrow's errors into :class:`~repartition.errors.CorruptFileError` naming the
file and, where it can be found, the row group.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.fs as pafs

from repartition import errors
from repartition._atomic import atomic_file

METADATA = "_repartition.json"
"""The dataset's description, next to the month directories."""
PART = "part-0.parquet"
"""The file each month directory holds, when written by repartition."""
PARTITION = "month"
CONSUMER, PRODUCER = "consumer", "producer"
ROLES = (CONSUMER, PRODUCER)
TIMESTAMP = "timestamp"
MEMBER, ROLE = "member", "role"
ENERGY = "energy_kwh"
LONG, WIDE = "long", "wide"
FORMAT, VERSION = "repartition-parquet", 1

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_VERIFIED = ds.ParquetFragmentScanOptions(page_checksum_verification=True)
_PLAIN = ds.ParquetFileFormat(default_fragment_scan_options=_VERIFIED)
_DICTIONARY = ds.ParquetFileFormat(
    read_options=ds.ParquetReadOptions(dictionary_columns={MEMBER, ROLE}),
    default_fragment_scan_options=_VERIFIED,
)
_LOCAL = pafs.LocalFileSystem()
_UNIT_US = {"s": 1_000_000, "ms": 1_000, "us": 1, "ns": None}


@dataclass(frozen=True)
class DatasetInfo:
    """What ``_repartition.json`` records about a dataset.

    ``consumers`` and ``producers`` are in the order of the frames that were written;
    ``extra`` holds kind-specific entries (for results: the key and the months done).
    ``first`` and ``last`` are the dataset's first and last steps (UTC starts), the
    period every month of it is read over; ``None`` in datasets written before they were
    recorded.
    """

    kind: str
    layout: str
    tz: str
    step: pd.Timedelta
    consumers: tuple[str, ...]
    producers: tuple[str, ...]
    extra: Mapping[str, Any] = field(default_factory=dict)
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None

    def to_json(self) -> str:
        document = {
            "format": FORMAT,
            "version": VERSION,
            "kind": self.kind,
            "layout": self.layout,
            "tz": self.tz,
            "step_seconds": int(self.step.total_seconds()),
        }
        for name, stamp in (("first_step", self.first), ("last_step", self.last)):
            if stamp is not None:
                document[name] = stamp.tz_convert("UTC").isoformat()
        document.update(self.extra)
        document["consumers"] = list(self.consumers)
        document["producers"] = list(self.producers)
        return json.dumps(document, indent=1, ensure_ascii=False) + "\n"

    def period(self) -> tuple[int, int] | None:
        """``(first step, end of the last step)`` in µs UTC, if recorded."""
        if self.first is None or self.last is None:
            return None
        step = int(self.step / pd.Timedelta(microseconds=1))
        return microseconds_of(self.first), microseconds_of(self.last) + step


def microseconds_of(stamp: pd.Timestamp) -> int:
    """A timestamp as µs since the epoch (UTC)."""
    return int(stamp.value) // 1000  # Timestamp.value is in ns whatever the unit


def read_info(root: Path, kind: str) -> DatasetInfo | None:
    """The dataset's ``_repartition.json``, or ``None`` if it has none.

    Raises :class:`~repartition.errors.CorruptFileError` for an unreadable file and
    :class:`~repartition.errors.FileFormatError` for a dataset of another kind.
    """
    path = root / METADATA
    if not path.exists():
        return None
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        layout, tz = document["layout"], document["tz"]
        step = pd.Timedelta(seconds=int(document["step_seconds"]))
        consumers = tuple(str(member) for member in document["consumers"])
        producers = tuple(str(member) for member in document["producers"])
        found = document["kind"]
        first, last = (
            None if document.get(name) is None else pd.Timestamp(document[name]).tz_convert("UTC")
            for name in ("first_step", "last_step")
        )
        if document.get("format") != FORMAT or layout not in (LONG, WIDE):
            raise errors.ParameterError(f"format {document.get('format')!r}, layout {layout!r}")
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise errors.CorruptFileError(
            f"{path} is not a valid repartition dataset description ({error}). Write the "
            "dataset again, or delete the file to read the Parquet files without it.",
            path=path,
        ) from error
    if found != kind:
        raise errors.FileFormatError(
            f"{root} holds a {found} dataset, not a {kind} dataset (see {path}).", path=root
        )
    known = {"format", "version", "kind", "layout", "tz", "step_seconds", "consumers", "producers"}
    known |= {"first_step", "last_step"}
    extra = {name: value for name, value in document.items() if name not in known}
    return DatasetInfo(found, layout, tz, step, consumers, producers, extra, first, last)


def write_info(root: Path, info: DatasetInfo) -> None:
    """Write ``_repartition.json`` atomically."""
    with atomic_file(root / METADATA) as temporary:
        temporary.write_text(info.to_json(), encoding="utf-8")


def check_month(label: str) -> str:
    if not isinstance(label, str) or not _MONTH.match(label):
        raise errors.ParameterError(
            f"A month is written 'YYYY-MM' (e.g. '2025-01'), not {label!r}."
        )
    return label


def month_directories(root: Path) -> dict[str, Path]:
    """The ``month=YYYY-MM`` directories of a dataset, by month, in time order.

    Only ``root``'s entries are listed (no file is opened). Names starting with ``_`` or
    ``.`` are skipped; any other entry that is not a month directory is a
    :class:`~repartition.errors.FileFormatError`.
    """
    if not root.is_dir():
        raise FileNotFoundError(f"{root} is not a directory: no Parquet dataset there.")
    found: dict[str, Path] = {}
    with os.scandir(root) as entries:
        for entry in entries:
            if entry.name.startswith((".", "_")):
                continue
            label = entry.name.removeprefix(f"{PARTITION}=")
            if label == entry.name or not _MONTH.match(label) or not entry.is_dir():
                raise errors.FileFormatError(
                    f"{entry.path} is not a month=YYYY-MM directory of the dataset {root}: a "
                    "dataset holds only <root>/month=YYYY-MM/<file>. Move it out of the "
                    "dataset (or into its month's directory).",
                    path=entry.path,
                )
            found[label] = Path(entry.path)
    return {label: found[label] for label in sorted(found)}


def month_fragments(
    root: Path,
    months: Collection[str] | None = None,
    first: str | None = None,
    last: str | None = None,
) -> dict[str, list[Any]]:
    """The Parquet files of the selected local months, by month, in time order.

    Only directory names are read (partition pruning): no file is opened, and the
    directories of the months outside the selection are not even listed.
    """
    selected: dict[str, list[Any]] = {}
    for label, folder in month_directories(root).items():
        if months is not None and label not in months:
            continue
        if (first is not None and label < first) or (last is not None and label > last):
            continue
        files = []
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith((".", "_")):
                    continue
                if not entry.is_file():
                    raise errors.FileFormatError(
                        f"{entry.path} is not a file: a month directory holds the month's "
                        "Parquet files only. Move it out of the dataset.",
                        path=entry.path,
                    )
                files.append(entry.path)
        if files:
            expression = ds.field(PARTITION) == label
            selected[label] = [
                _PLAIN.make_fragment(name, _LOCAL, expression) for name in sorted(files)
            ]
    return selected


def physical_schema(fragment: Any) -> Any:
    """The schema stored in a fragment's file (opens its footer)."""
    try:
        return fragment.physical_schema
    except (pa.ArrowException, OSError) as error:
        raise _corrupt(fragment.path, None, error) from error


def read_fragment(
    fragment: Any,
    columns: list[str],
    row_filter: Any = None,
    *,
    prune: Any = None,
    dictionary: bool = False,
) -> Iterator[Any]:
    """Yield record batches of ``columns`` for the rows of a file that pass ``row_filter``.

    ``prune``: a filter whose row-group statistics decide which row groups are read at
    all (pruned row groups are never decoded). ``dictionary``: read ``member`` and
    ``role`` as dictionary arrays (one small dictionary per row group, int indices).
    Batches are streamed: memory holds a few batches, not the whole file.
    """
    row_groups = None
    try:
        if prune is not None:
            row_groups = [
                group.id
                for piece in fragment.split_by_row_group(filter=prune)
                for group in piece.row_groups
            ]
            if not row_groups:
                return
        source = _part(fragment, row_groups, dictionary)
        # A short read-ahead: a few batches decoded in advance are as fast here as the
        # default 16, and hold less memory while a month is scattered.
        yield from source.to_batches(columns=columns, filter=row_filter, batch_readahead=4)
    except (pa.ArrowException, OSError) as error:
        raise corrupt_fragment(fragment, columns, row_groups, dictionary, error) from error


def corrupt_fragment(
    fragment: Any,
    columns: list[str],
    row_groups: list[int] | None,
    dictionary: bool,
    error: Exception,
) -> errors.CorruptFileError:
    """The error for a file that failed to decode (or whose values make no sense, e.g.
    dictionary indices beyond the dictionary), naming the first row group that fails."""
    group = _failing_row_group(fragment, columns, row_groups, dictionary)
    return _corrupt(fragment.path, group, error)


def release_memory() -> None:
    """Give the memory Arrow's allocator keeps for reuse back to the system.

    Called after a read or a write of a month: the next step (a kernel, NumPy arrays)
    does not allocate through Arrow, so memory kept in Arrow's pool would only add to
    the peak.
    """
    pa.default_memory_pool().release_unused()


def _part(fragment: Any, row_groups: list[int] | None, dictionary: bool) -> Any:
    if row_groups is None and not dictionary:
        return fragment
    form = _DICTIONARY if dictionary else _PLAIN
    return form.make_fragment(
        fragment.path, fragment.filesystem, fragment.partition_expression, row_groups=row_groups
    )


def _failing_row_group(
    fragment: Any, columns: list[str], row_groups: list[int] | None, dictionary: bool
) -> int | None:
    """The first row group that cannot be read, if the footer can say which exist."""
    try:
        fragment.ensure_complete_metadata()
        candidates = row_groups if row_groups is not None else [g.id for g in fragment.row_groups]
    except (pa.ArrowException, OSError):
        return None
    for group in candidates:
        try:
            _part(fragment, [group], dictionary).to_table(columns=columns).validate(full=True)
        except (pa.ArrowException, OSError):
            return int(group)
    return None


def _corrupt(path: str, row_group: int | None, error: Exception) -> errors.CorruptFileError:
    where = f", row group {row_group}" if row_group is not None else ""
    reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return errors.CorruptFileError(
        f"{path}{where} cannot be read: the Parquet file is truncated or corrupted "
        f"({reason}). Write that month again from the source data.",
        path=path,
        row_group=row_group,
    )


def timestamp_factor(schema: Any, path: str) -> int | None:
    """Check the ``timestamp`` column; return the factor to microseconds (``None``: ns)."""
    if TIMESTAMP not in schema.names:
        raise missing_column(path, TIMESTAMP)
    kind = schema.field(TIMESTAMP).type
    if not pa.types.is_timestamp(kind) or kind.tz is None:
        raise errors.ColumnError(
            f"{path}: column {TIMESTAMP!r} has type {kind}; expected UTC instants, "
            "timestamp[us, tz=UTC]. Convert local wall-clock times to UTC first "
            "(repartition.time.localize).",
            column=TIMESTAMP,
            path=path,
        )
    return _UNIT_US[kind.unit]


def check_columns(schema: Any, path: str, strings: Iterable[str], floats: Iterable[str]) -> None:
    """Raise ColumnError unless ``schema`` has the string and float64 columns named."""
    for name in strings:
        if name not in schema.names:
            raise missing_column(path, name)
        kind = schema.field(name).type
        if pa.types.is_dictionary(kind):
            kind = kind.value_type
        if not (pa.types.is_string(kind) or pa.types.is_large_string(kind)):
            raise wrong_type(path, name, schema.field(name).type, "string")
    for name in floats:
        if name not in schema.names:
            raise missing_column(path, name)
        check_float(schema, name, path)


def check_float(schema: Any, name: str, path: str) -> None:
    kind = schema.field(name).type
    if not pa.types.is_float64(kind):
        raise wrong_type(path, name, kind, "float64 (double)")


def missing_column(path: str, name: str) -> errors.ColumnError:
    return errors.ColumnError(
        f"{path} has no column {name!r}. Write the file with the columns repartition "
        "expects (see repartition.io.parquet).",
        column=name,
        path=path,
    )


def wrong_type(path: str, name: str, found: Any, expected: str) -> errors.ColumnError:
    return errors.ColumnError(
        f"{path}: column {name!r} has type {found}, expected {expected}. Cast it before "
        "writing (repartition never converts values silently).",
        column=name,
        path=path,
    )
