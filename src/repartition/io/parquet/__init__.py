"""Energies and allocation results as Parquet datasets, partitioned by local month.

A dataset is a directory with one ``month=YYYY-MM`` sub-directory per **local** month
(``repartition.time.month_labels`` in the dataset's time zone, Europe/Paris by default)
and a small ``_repartition.json`` recording its kind, layout, time zone, step and member
ids (in the order of the frames written)::

    energy/_repartition.json
    energy/month=2025-01/part-0.parquet
    energy/month=2025-02/part-0.parquet

Energy layouts (``layout=``):

- ``"long"``: one row per member and step: ``timestamp`` (timestamp[us, tz=UTC], the
  step's start), ``member`` (string), ``role`` (string, ``"consumer"`` or
  ``"producer"``), ``energy_kwh`` (float64, kWh per step). ``member`` and ``role`` are
  Parquet strings, dictionary-encoded in the file. Rows are sorted by role, member id
  and timestamp, in row groups of whole members, so a member filter skips the other
  members' row groups. A member may be both a consumer and a producer.
- ``"wide"``: ``timestamp`` and one float64 column per member, named by its id. Each
  member column carries its role in its Arrow field metadata (``{"role": "consumer"}``),
  so one file per month holds both roles and a reader of some members reads only their
  columns. An id cannot be both a consumer and a producer, nor be named ``timestamp``
  or ``month``.

Results (:func:`write_results`) are long: ``timestamp``, ``member``, ``role``,
``energy_kwh`` (CONS or PROD), ``autocons_kwh`` and ``complement_kwh`` (AUTOCONS and
COMPLEMENT, consumer rows; null on producer rows), ``autoprod_kwh`` and ``surplus_kwh``
(AUTOPROD and SURPLUS, producer rows; null on consumer rows): the DSO's per-member
quantities, one row per member and step, like its R15 ACC flux. Their
``_repartition.json`` also records the key and the months written, with their totals.

Reading uses ``pyarrow.dataset``: the month directories outside the selection are never
opened, long files are read only in the row groups that can hold the selected members,
wide files only in the selected columns. Values round-trip bit for bit.

Missing data is reported, never invented: ``_repartition.json`` records the dataset's
first and last steps, and a read returns every step of the selection between them; a
member and step without a row (or with a NaN or null energy) is NaN in the frames read,
and :func:`repartition.allocate` refuses it, naming the member and timestamp. The same
member and step given twice with different values (bit for bit: ``0.0`` and ``-0.0``
differ) is a :class:`~repartition.errors.ConflictingValuesError` naming the member,
timestamp and file (identical repetitions are merged). Files are written with a CRC
checksum per page, verified on every read: a truncated or corrupted file is a
:class:`~repartition.errors.CorruptFileError` naming the file and row group; a missing
column, a wrong type or an unknown role a :class:`~repartition.errors.ColumnError`
naming the file and column.

Datasets written by other tools can be read too, if they follow the schema and the
``<root>/month=YYYY-MM/<file>`` layout: without ``_repartition.json``, the layout is
taken from the columns, the step from the most common difference between timestamps,
the time zone from ``tz`` (default Europe/Paris), roles of wide columns from their field
metadata, members are sorted by id, and the frames run from the first to the last step
found.

Inside the package: :mod:`._dataset` (the directory, its ``_repartition.json``, schema
checks, guarded reads), :mod:`._write` (frames -> month files), :mod:`._read` (a
selection -> frames, through :mod:`._scan`, :mod:`._scatter` and :mod:`._grid`),
:mod:`._results` (what a results dataset holds and records) and :mod:`._fingerprint`
(of a key and of a source month, for resumed runs).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from repartition import errors, time
from repartition._atomic import atomic_directory
from repartition.allocation import Allocation
from repartition.io.parquet import _dataset, _grid, _read, _results, _write
from repartition.io.parquet._dataset import CONSUMER, ENERGY, LONG, PRODUCER, WIDE, DatasetInfo
from repartition.io.parquet._results import ResultTables

__all__ = [
    "ResultTables",
    "dataset_months",
    "read_energy",
    "read_results",
    "write_energy",
    "write_results",
]

PathLike = str | os.PathLike[str]
ENERGY_KIND, RESULTS_KIND = "energy", "results"
AUTOCONS, COMPLEMENT, AUTOPROD, SURPLUS = _write.RESULT_COLUMNS
CONSUMER_COLUMNS = (ENERGY, AUTOCONS, COMPLEMENT)
PRODUCER_COLUMNS = (ENERGY, AUTOPROD, SURPLUS)
TOTALS = _write.TOTALS
month_totals = _results.month_totals
results_parts = _results.results_parts
summary_of = _results.summary_of


def write_energy(
    path: PathLike,
    consumption: pd.DataFrame | pd.Series,
    production: pd.DataFrame | pd.Series,
    *,
    layout: Literal["long", "wide"] = "long",
    tz: str = time.PARIS,
    overwrite: bool = False,
) -> Path:
    """Write consumption and production as a Parquet dataset partitioned by local month.

    Parameters
    ----------
    path
        The dataset's directory (created; written atomically: it appears complete or
        not at all).
    consumption, production : pandas.DataFrame or pandas.Series
        CONS and PROD per member (columns: member ids, strings) on one regular, tz-aware
        index of step starts, as :func:`repartition.allocate` takes them. NaN is stored
        as is. [kWh per step]
    layout
        ``"long"`` (a row per member and step) or ``"wide"`` (a column per member); see
        the module's documentation.
    tz
        The time zone of the months of the partition.
    overwrite
        Replace an existing dataset at ``path`` (``True``) or raise
        :class:`FileExistsError`. Only a directory holding a ``_repartition.json`` (or an
        empty one) is replaced; anything else raises :class:`FileExistsError`.

    Returns
    -------
    pathlib.Path
        The dataset's directory.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> index = pd.date_range("2025-01-31 23:00", periods=4, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"PRM_A": [1.0, 2.0, 0.5, 1.0]}, index=index)
    >>> production = pd.DataFrame({"PV": [0.0, 0.0, 0.0, 0.25]}, index=index)
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "energy"
    >>> _ = write_energy(folder, consumption, production)
    >>> sorted(p.name for p in folder.iterdir())
    ['_repartition.json', 'month=2025-01', 'month=2025-02']
    >>> cons, prod = read_energy(folder, months=["2025-02"])
    >>> cons["PRM_A"].tolist(), str(cons.index[0])
    ([0.5, 1.0], '2025-01-31 23:00:00+00:00')
    """
    if layout not in (LONG, WIDE):
        raise errors.ParameterError(f"layout must be 'long' or 'wide', not {layout!r}.")
    _check_tz(tz)
    index, step, parts = _write.checked_energy(consumption, production)
    stamps = _write.utc_microseconds(index)
    first, last = (index[position].tz_convert("UTC") for position in (0, -1))
    info = DatasetInfo(ENERGY_KIND, layout, tz, step, parts[0].ids, parts[1].ids, {}, first, last)
    if overwrite:
        _write.check_replaceable(Path(path))
    with atomic_directory(path, overwrite=overwrite) as temporary:
        for label, steps in time.local_months(index, tz):
            target = _write.part_path(temporary, label)
            if layout == WIDE:
                _write.write_file(
                    target, [_write.wide_table(stamps[steps], steps, parts)], wide=True
                )
            else:
                tables = _write.long_tables(stamps[steps], steps, parts, [ENERGY])
                _write.write_file(target, tables, wide=False)
        _dataset.write_info(temporary, info)
    return Path(path)


def read_energy(
    path: PathLike,
    *,
    start: Any = None,
    end: Any = None,
    members: str | Iterable[str] | None = None,
    months: str | Iterable[str] | None = None,
    tz: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read consumption and production from a Parquet dataset, ready for ``allocate``.

    Only the selected months' files are opened; in long files only the row groups that
    can hold the selected members are decoded, in wide files only their columns.

    Parameters
    ----------
    path
        The dataset's directory.
    start, end
        Keep the steps starting at or after ``start`` and before ``end`` (timestamps or
        strings; naive ones are local times of the dataset's time zone).
    members
        Member ids to read (both roles); default all. An id the dataset does not have
        is an :class:`~repartition.errors.UnknownMemberError`.
    months
        Local months to read, ``"YYYY-MM"``; default all (within ``start``/``end``). A
        month without a file is an :class:`~repartition.errors.EmptyPeriodError`.
    tz
        The partition's time zone, for datasets without ``_repartition.json`` only
        (default Europe/Paris); otherwise the recorded one is used.

    Returns
    -------
    consumption, production : pandas.DataFrame
        CONS and PROD [kWh per step], float64, one column per member (ids in the order
        they were written; sorted without ``_repartition.json``), on a UTC
        ``DatetimeIndex`` of step starts with its ``freq``: every step of the selection
        between the dataset's first and last steps (recorded in ``_repartition.json``;
        without them, from the first to the last step found). Cells without data are
        NaN (see the module's documentation).

    Raises
    ------
    repartition.errors.CorruptFileError, repartition.errors.ColumnError
        An unreadable file, or a missing or mistyped column (naming the file).
    repartition.errors.ConflictingValuesError
        A member and step given twice with different values.
    repartition.errors.EmptyPeriodError
        No step matches the selection.

    Examples
    --------
    See :func:`write_energy`.
    """
    root = Path(path)
    info = _dataset.read_info(root, ENERGY_KIND)
    return _read.energy_frames(_read.select(root, info, tz, start, end, months, members))


def dataset_months(path: PathLike) -> list[str]:
    """The local months (``"YYYY-MM"``) of a dataset that hold files, in order.

    For a results dataset, only the months recorded as completely written.
    """
    root = Path(path)
    months = list(_dataset.month_fragments(root))
    try:
        info = _dataset.read_info(root, RESULTS_KIND)
    except errors.CorruptFileError:
        raise
    except errors.FileFormatError:  # an energy dataset: every month with a file
        return months
    if info is None:
        return months
    done = set(info.extra.get("months", {}))
    return [month for month in months if month in done]


def write_results(
    path: PathLike, allocation: Allocation, *, tz: str = time.PARIS, overwrite: bool = False
) -> Path:
    """Write an allocation's per-member results as a Parquet dataset, by local month.

    The long layout of the module's documentation: for each member and step, CONS,
    AUTOCONS and COMPLEMENT (consumers) or PROD, AUTOPROD and SURPLUS (producers), in
    kWh per step. Written atomically.

    Parameters
    ----------
    path
        The dataset's directory.
    allocation
        What :func:`repartition.allocate` returned (member ids must be strings).
    tz
        The time zone of the months of the partition.
    overwrite
        Replace an existing dataset at ``path`` (``True``) or raise
        :class:`FileExistsError`; as in :func:`write_energy`, only a dataset or an empty
        directory is replaced.

    Raises
    ------
    repartition.errors.IrregularStepError
        A single step whose length is unknown (an index without ``freq``).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from repartition import allocate, keys
    >>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, 2.0]}, index=index)
    >>> production = pd.DataFrame({"PV": [2.0, 5.0]}, index=index)
    >>> folder = pathlib.Path(tempfile.mkdtemp()) / "results"
    >>> _ = write_results(folder, allocate(consumption, production, keys.Prorata()))
    >>> results = read_results(folder)
    >>> results.allocated["A"].tolist(), results.surplus["PV"].tolist()
    ([0.5, 2.0], [0.0, 1.0])
    """
    _check_tz(tz)
    if allocation.step is None:
        raise errors.IrregularStepError(
            "A single step without a `freq` has no known length; set the index's freq "
            "(e.g. `frame.index.freq = '30min'`) before allocating, then write the results.",
            timestamp=allocation.index[0],
        )
    parts = results_parts(allocation)
    stamps = _write.utc_microseconds(allocation.index)
    totals, written = {}, {}
    if overwrite:
        _write.check_replaceable(Path(path))
    with atomic_directory(path, overwrite=overwrite) as temporary:
        for label, steps in time.local_months(allocation.index, tz):
            tables = _write.long_tables(stamps[steps], steps, parts, _write.RESULT_SCHEMA_COLUMNS)
            target = _write.part_path(temporary, label)
            _write.write_file(target, tables, wide=False)
            totals[label] = month_totals(allocation, steps)
            written[label] = _results.file_record(target)
        info = _results.results_info(allocation, allocation.step, tz, totals, written)
        _dataset.write_info(temporary, info)
    return Path(path)


def read_results(
    path: PathLike,
    *,
    start: Any = None,
    end: Any = None,
    members: str | Iterable[str] | None = None,
    months: str | Iterable[str] | None = None,
) -> ResultTables:
    """Read a results dataset (from :func:`write_results` or
    :func:`repartition.io.stream.allocate_dataset`).

    Selection as :func:`read_energy`. Only months recorded as completely written in
    ``_repartition.json`` are read (a streaming run that stopped leaves its completed
    months readable).

    Returns
    -------
    ResultTables
        CONS, AUTOCONS, COMPLEMENT per consumer and PROD, AUTOPROD, SURPLUS per
        producer, as frames like those of :func:`read_energy`. [kWh per step]

    Examples
    --------
    See :func:`write_results`.
    """
    root = Path(path)
    info = _dataset.read_info(root, RESULTS_KIND)
    if info is None:
        raise errors.FileFormatError(
            f"{root} has no {_dataset.METADATA}: it is not a results dataset written by "
            "repartition (write_results or allocate_dataset).",
            path=root,
        )
    done = sorted(info.extra.get("months", {}))
    if months is not None:
        requested = [months] if isinstance(months, str) else list(months)
        missing = [m for m in requested if m not in done]
        if missing:
            raise errors.EmptyPeriodError(
                f"{root} has no completed results for the month {missing[0]} (done: {done}).",
                path=root,
            )
        done = requested
    selection = _read.select(root, info, None, start, end, done, members)
    quantities = {CONSUMER: CONSUMER_COLUMNS, PRODUCER: PRODUCER_COLUMNS}
    index, arrays, ids = _read.read_long(selection, quantities)
    tables = {}
    for role, columns in quantities.items():
        names = pd.Index(ids[role], name=role)
        for number, column in enumerate(columns):
            tables[(role, column)] = _grid.frame(arrays[role][number], index, names)
    return ResultTables(
        consumption=tables[(CONSUMER, ENERGY)],
        allocated=tables[(CONSUMER, AUTOCONS)],
        grid_supply=tables[(CONSUMER, COMPLEMENT)],
        production=tables[(PRODUCER, ENERGY)],
        self_consumed=tables[(PRODUCER, AUTOPROD)],
        surplus=tables[(PRODUCER, SURPLUS)],
        key=info.extra.get("key"),
    )


def _check_tz(tz: str) -> None:
    time.check_time_zone(tz)
