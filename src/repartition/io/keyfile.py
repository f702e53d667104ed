"""The dynamic key file a PMO sends the DSO, written and read back.

Format (domain.md, "Data formats"; details marked *assumption* there)::

    Horodate;30000000000001;30000000000002
    01/11/2024 00:00;50,81;39,86
    01/11/2024 00:30;50,81;39,86

- ``;``-separated; the header is ``Horodate`` then one PRM per column.
- One row per step; ``Horodate`` is the **start** of the step in local time
  (``Europe/Paris``), ``dd/mm/yyyy HH:MM``. In autumn the repeated hour is listed twice,
  summer time first (so a 30-minute October has 1,490 rows); the hour skipped in spring
  is absent.
- Coefficients are **percent** with a comma and exactly two decimals (``50,81`` is
  50.81 %, a fraction of 0.5081), **rounded down** so that a row never sums above 100 %.
- File name ``<operation>_<step minutes>_<ddmmyyyy>_<ddmmyyyy>.txt``: the first and the
  last local day covered, both inclusive (a November at 30 min is
  ``OPE123_30_01112024_30112024.txt``). A full dynamic key is one file per producer, named
  ``<operation>_<producer>_<step>_<first>_<last>.txt``: the producer id comes right after
  the operation id and may not contain ``_`` (a PRM, 14 digits, never does), so the name
  still ends with the step and the two days.
- Written as UTF-8 without a byte-order mark (the content is ASCII anyway), lines ending
  in ``"\\r\\n"`` by default (RFC 4180, what Excel writes; ``line_ending="\\n"`` on request),
  the last line included. The reader accepts both endings and a byte-order mark.

The reader is strict (two decimals, a comma, the exact header): it doubles as a check of
a file before it is sent. Every error names the file, the line, the PRM and the time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from repartition import errors
from repartition.io import _keytext as text
from repartition.keys import Dynamic, FullDynamic
from repartition.time import PARIS, localize

__all__ = [
    "KeyFile",
    "KeyFileName",
    "read_dynamic_key",
    "read_full_dynamic_key",
    "round_down_key",
    "write_dynamic_key",
    "write_full_dynamic_key",
]

HEADER = "Horodate"
UNITS = 10_000
"""Hundredths of a percent in 100 %: the file's resolution is 1 / UNITS of the production."""

_NAME = re.compile(r"^(?P<prefix>.+)_(?P<step>[0-9]+)_(?P<first>[0-9]{8})_(?P<last>[0-9]{8})\.txt$")
_OPERATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_PRODUCER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


@dataclass(frozen=True)
class KeyFileName:
    """The parts of a key file's name.

    Attributes
    ----------
    operation : str
        The operation id (letters, digits, ``.``, ``-``, ``_``).
    step : pandas.Timedelta
        The step length, a whole number of minutes.
    first_day, last_day : datetime.date
        The first and the last local day covered, inclusive.
    producer : str or None
        The producer, for one file of a full dynamic key.
    """

    operation: str
    step: pd.Timedelta
    first_day: dt.date
    last_day: dt.date
    producer: str | None = None

    def __str__(self) -> str:
        minutes = int(self.step / pd.Timedelta(minutes=1))
        parts = [self.operation, *([self.producer] if self.producer else []), str(minutes)]
        days = [f"{day:%d%m%Y}" for day in (self.first_day, self.last_day)]
        return "_".join(parts + days) + ".txt"

    @classmethod
    def parse(cls, path: str | os.PathLike[str]) -> KeyFileName:
        """Split a file name; the producer, if any, stays part of ``operation``.

        Raises :class:`~repartition.errors.FileFormatError` for a name that does not
        follow ``<operation>_<step minutes>_<ddmmyyyy>_<ddmmyyyy>.txt``.

        Examples
        --------
        >>> KeyFileName.parse("OPE123_30_01112024_30112024.txt")  # doctest: +NORMALIZE_WHITESPACE
        KeyFileName(operation='OPE123', step=Timedelta('0 days 00:30:00'),
                    first_day=datetime.date(2024, 11, 1), last_day=datetime.date(2024, 11, 30),
                    producer=None)
        """
        name = Path(path).name
        match = _NAME.match(name)
        first, last = (_day(match[part]) if match else None for part in ("first", "last"))
        if match is None or first is None or last is None or last < first or not int(match["step"]):
            raise errors.FileFormatError(
                f"Key file name {name!r} is not valid: name it <operation>_<step minutes>_"
                "<ddmmyyyy first day>_<ddmmyyyy last day>.txt, with a step above 0 and real "
                "days, the last not before the first.",
                path=path,
            )
        step = pd.Timedelta(minutes=int(match["step"]))
        return cls(match["prefix"], step, first, last)


def _day(digits: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(digits, "%d%m%Y").date()
    except ValueError:
        return None


@dataclass(frozen=True, eq=False)
class KeyFile:
    """What :func:`write_dynamic_key` wrote.

    Attributes
    ----------
    path : pathlib.Path
        The file.
    name : KeyFileName
        Its name, parsed.
    coefficients : pandas.DataFrame
        The coefficients as the file carries them (fractions, rounded down to 0.01 %),
        steps (UTC starts) x PRMs: exactly what :func:`read_dynamic_key` returns.
    rounding_loss : pandas.Series
        Per step, ``sum_i k[t, i] - sum_i rounded[t, i]``: the share of the pooled
        production that the rounding takes from the consumers (between 0 and
        ``n * 1e-4`` for ``n`` PRMs). [fraction of P_tot]
    energy_lost : pandas.Series or None
        With consumption and production given: per step, the AUTOCONS of the operation
        under the exact key minus under the rounded key, both applied with the DSO's rule
        (:class:`repartition.keys.Dynamic`; for a full dynamic key, this producer's
        AUTOPROD under each). [kWh]
    """

    path: Path
    name: KeyFileName
    coefficients: pd.DataFrame
    rounding_loss: pd.Series
    energy_lost: pd.Series | None = None

    @property
    def energy_lost_kwh(self) -> float | None:
        """The total of :attr:`energy_lost` over the period. [kWh]"""
        return None if self.energy_lost is None else float(self.energy_lost.sum())


def round_down_key(coefficients: pd.DataFrame) -> pd.DataFrame:
    """Dynamic key coefficients rounded down to 0.01 %, as a key file carries them.

    Each fraction ``k`` becomes ``floor(k * 10000 + 1e-6) / 10000``. The ``1e-6`` (a
    millionth of a hundredth of a percent) keeps a coefficient that *is* a hundredth
    from losing one to binary floating point: 0.5081 is stored as 0.508099999..., and
    ``0.5081 * 10000`` is 5080.999... A value may thus rise by at most ``1e-10``;
    every other value loses less than 0.01 %.

    **A row never sums above 100 %.** Take a row of ``n`` PRMs and ``u = 2**-53``. Its
    floating-point sum is checked to be at most ``1 + 1e-9`` (the tolerance of
    :class:`repartition.keys.Dynamic`), so its exact sum is ``S <= (1 + 1e-9)(1 + n u)``.
    Each integer is at most ``(10000 k_i (1 + u) + 1e-6)(1 + u)``, so their sum is at most
    ``10000 S (1 + u)**2 + n 1e-6 (1 + u) <= 10000 + 1e-5 + n * 1.00001e-6``, below 10001
    for any ``n`` under 900,000 PRMs; and a sum of integers below 10001 is at most 10000.
    (The bound is checked at run time too; tests/test_io_keyfile.py checks it on random
    and on exact-hundredth keys.)

    Parameters
    ----------
    coefficients : pandas.DataFrame
        Steps x PRMs fractions in [0, 1], each row summing to at most 1 (+ 1e-9), no NaN;
        on a regular, tz-aware index of step starts.

    Returns
    -------
    pandas.DataFrame
        The rounded fractions on the same index and columns.

    Examples
    --------
    >>> index = pd.date_range("2024-11-01", periods=1, freq="30min", tz="Europe/Paris")
    >>> key = pd.DataFrame({"A": [0.5081], "B": [0.39869]}, index=index)
    >>> round_down_key(key).to_numpy().tolist()
    [[0.5081, 0.3986]]
    """
    values = text.checked_key(coefficients, "The key")[0]
    rounded = _hundredths(values, coefficients.index) / UNITS
    return pd.DataFrame(rounded, index=coefficients.index, columns=coefficients.columns)


def _hundredths(values: np.ndarray, index: pd.Index) -> np.ndarray:
    units = np.floor(values * UNITS + 1e-6).astype(np.int64)
    sums = units.sum(axis=1)
    if (sums > UNITS).any():  # unreachable by the bound in round_down_key's docstring
        row = int(np.argmax(sums > UNITS))
        raise errors.CoefficientSumError(
            f"Rounding down left a row above 100 % at {index[row]}: please report this bug.",
            timestamp=index[row],
        )
    return units


def write_dynamic_key(
    coefficients: pd.DataFrame,
    directory: str | os.PathLike[str],
    operation: str,
    *,
    tz: str = PARIS,
    consumption: pd.DataFrame | None = None,
    production: pd.DataFrame | pd.Series | None = None,
    line_ending: str = "\r\n",
    overwrite: bool = False,
) -> KeyFile:
    """Write dynamic key coefficients as the DSO's key file, rounded down to 0.01 %.

    Parameters
    ----------
    coefficients : pandas.DataFrame
        Steps x PRMs (string ids) fractions in [0, 1] (0.5081 for 50.81 %), each row
        summing to at most 1: :class:`repartition.keys.Dynamic`'s convention, for example
        :func:`repartition.to_key.to_dynamic_key`'s result. Index: the starts of regular
        steps (a whole number of minutes), tz-aware; usually a whole month. NaN (no key
        for a step) cannot be written and is an error.
    directory : path
        Where to write; the file name is built from ``operation``, the step and the first
        and last local days.
    operation : str
        The operation id.
    tz : str
        The local time of the file.
    consumption, production : pandas.DataFrame, optional
        Both or neither. With them, :attr:`KeyFile.energy_lost` is computed. [kWh per step]
    line_ending : {"\\r\\n", "\\n"}
        How lines end.
    overwrite : bool
        Replace an existing file (``False``: raise :class:`FileExistsError`).

    Returns
    -------
    KeyFile
        The path, the rounded coefficients and what the rounding cost.

    Raises
    ------
    repartition.errors.CoefficientRangeError
        A NaN, or a value outside [0, 1], naming the PRM and step.
    repartition.errors.CoefficientSumError
        A row above 1 + 1e-9.
    repartition.errors.ColumnError
        A PRM id that is not a non-empty string without ``;`` or spaces, or repeated.
    repartition.errors.TimeIndexError
        An irregular, unsorted or naive index (see :func:`repartition.allocate`).

    Examples
    --------
    >>> import tempfile
    >>> index = pd.date_range("2024-11-01", periods=2, freq="30min", tz="Europe/Paris")
    >>> key = pd.DataFrame({"30000000000001": [0.5081, 0.25],
    ...                     "30000000000002": [0.39869, 0.75]}, index=index)
    >>> written = write_dynamic_key(key, tempfile.mkdtemp(), "OPE123")
    >>> written.path.name
    'OPE123_30_01112024_01112024.txt'
    >>> print(written.path.read_text())  # doctest: +NORMALIZE_WHITESPACE
    Horodate;30000000000001;30000000000002
    01/11/2024 00:00;50,81;39,86
    01/11/2024 00:30;25,00;75,00
    >>> written.rounding_loss.round(8).tolist()
    [9e-05, 0.0]
    """
    prepared = _prepare(coefficients, directory, operation, None, tz, overwrite)
    rounded = Dynamic(prepared.coefficients)
    lost = text.energy_lost(
        consumption, production, Dynamic(coefficients), rounded, by_producer=False
    )
    return _write(prepared, tz, line_ending, None if lost is None else lost["lost"])


def write_full_dynamic_key(
    coefficients: Mapping[str, pd.DataFrame],
    directory: str | os.PathLike[str],
    operation: str,
    *,
    tz: str = PARIS,
    consumption: pd.DataFrame | None = None,
    production: pd.DataFrame | None = None,
    line_ending: str = "\r\n",
    overwrite: bool = False,
) -> dict[str, KeyFile]:
    """Write a full dynamic key: one key file per producer.

    Parameters are those of :func:`write_dynamic_key`; ``coefficients`` maps each producer
    id (letters, digits, ``.``, ``-``: no ``_``) to its steps x consumers table
    (:class:`repartition.keys.FullDynamic`'s convention). With ``consumption`` and
    ``production`` (one column per producer), each file's ``energy_lost`` is its
    producer's AUTOPROD under the exact key minus under the rounded one, both through
    the full dynamic rule; their sum is the operation's AUTOCONS lost to rounding.

    Every table is checked and rounded before the first file is written; if a write fails,
    the files already written by this call are removed.

    Returns
    -------
    dict
        Producer id -> :class:`KeyFile`.
    """
    if not isinstance(coefficients, Mapping) or not coefficients:
        raise TypeError("coefficients must be a non-empty mapping producer id -> DataFrame.")
    prepared = {
        producer: _prepare(table, directory, operation, producer, tz, overwrite)
        for producer, table in coefficients.items()
    }
    rounded = FullDynamic({j: prepared[j].coefficients for j in coefficients})
    lost = text.energy_lost(
        consumption, production, FullDynamic(dict(coefficients)), rounded, by_producer=True
    )
    written: dict[str, KeyFile] = {}
    try:
        for producer, one in prepared.items():
            energy = None if lost is None else lost[producer]
            written[producer] = _write(one, tz, line_ending, energy)
    except BaseException:
        for result in written.values():
            result.path.unlink(missing_ok=True)
        raise
    return written


def _prepare(
    coefficients: pd.DataFrame,
    directory: str | os.PathLike[str],
    operation: str,
    producer: str | None,
    tz: str,
    overwrite: bool,
) -> KeyFile:
    """Check and round; the result to be, before anything is written."""
    if not isinstance(operation, str) or not _OPERATION.match(operation):
        raise errors.FileFormatError(
            f"Operation id {operation!r} cannot go in a file name: use letters, digits, "
            "'.', '-' and '_' only."
        )
    if producer is not None and (not isinstance(producer, str) or not _PRODUCER.match(producer)):
        raise errors.FileFormatError(
            f"Producer id {producer!r} cannot go in a key file name: use letters, digits, "
            "'.' and '-' only (no '_', which separates the parts of the name).",
            member=producer,
        )
    who = "The key" if producer is None else f"The key of producer {producer!r}"
    values, step = text.checked_key(coefficients, who)
    if step % pd.Timedelta(minutes=1):
        raise errors.StepLengthError(
            f"{who} has steps of {step}, not a whole number of minutes, which the file "
            "name cannot carry. Resample it (repartition.time.resample).",
            step=step,
        )
    local = pd.DatetimeIndex(coefficients.index).tz_convert(tz)
    name = KeyFileName(operation, step, local[0].date(), local[-1].date(), producer)
    path = Path(directory) / str(name)
    text.refuse_existing(path, overwrite)
    units = _hundredths(values, local)
    utc = pd.DatetimeIndex(local.tz_convert("UTC"), freq=to_offset(step), name="timestamp")
    frame = pd.DataFrame(units / UNITS, index=utc, columns=pd.Index(list(coefficients.columns)))
    loss = values.sum(axis=1) - units.sum(axis=1) / UNITS
    return KeyFile(path, name, frame, pd.Series(loss, index=utc, name="rounding_loss"))


def _write(prepared: KeyFile, tz: str, line_ending: str, energy: pd.Series | None) -> KeyFile:
    frame = prepared.coefficients
    units = np.rint(frame.to_numpy() * UNITS).astype(np.int64)
    percent = np.array([f"{u // 100},{u % 100:02d}" for u in range(UNITS + 1)])[units]
    times = pd.DatetimeIndex(frame.index).tz_convert(tz).strftime("%d/%m/%Y %H:%M")
    lines = [";".join([HEADER, *frame.columns])]
    lines += [";".join([time, *row]) for time, row in zip(times, percent.tolist(), strict=True)]
    text.write_text(prepared.path, lines, line_ending)
    return replace(prepared, energy_lost=None if energy is None else energy.rename("energy_lost"))


def read_dynamic_key(
    path: str | os.PathLike[str],
    *,
    members: Iterable[str] | None = None,
    tz: str = PARIS,
) -> pd.DataFrame:
    """Read a dynamic key file into fractions, checking it against its name.

    Parameters
    ----------
    path : path
        A file named ``<operation>_<step minutes>_<ddmmyyyy>_<ddmmyyyy>.txt``.
    members : iterable of str, optional
        The operation's consumer PRMs: a PRM of the file outside them, or one of them
        missing from the file, is an error.
    tz : str
        The local time of the file.

    Returns
    -------
    pandas.DataFrame
        Steps x PRMs (in the file's order) fractions (50,81 -> 0.5081), indexed by the UTC
        start of each step (``freq`` = the step of the name). Ready for
        :class:`repartition.keys.Dynamic`.

    Raises
    ------
    repartition.errors.FileFormatError
        A bad name; a header, row, time or number that does not follow the format
        (:class:`~repartition.errors.ColumnError` for header and field counts); a step,
        first or last day that contradicts the name.
    repartition.errors.NonexistentTimeError
        A local time skipped by the spring change.
    repartition.errors.DuplicateTimestampError, repartition.errors.UnsortedTimestampError
        A step listed twice (beyond the autumn hour) or out of order.
    repartition.errors.CoefficientRangeError
        A negative value or one above 100 %.
    repartition.errors.CoefficientSumError
        A row above 100 %.
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        PRMs that do not match ``members``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "OPE123_30_01112024_01112024.txt"
    >>> _ = path.write_text("Horodate;PRM1;PRM2\\n01/11/2024 00:00;50,81;39,86\\n")
    >>> read_dynamic_key(path)  # doctest: +NORMALIZE_WHITESPACE
                                 PRM1    PRM2
    timestamp
    2024-10-31 23:00:00+00:00  0.5081  0.3986
    """
    name = KeyFileName.parse(path)
    prms, cells = text.read_table(path, HEADER, "PRM", members)
    naive = text.parse_local_times(cells[:, 0], path)
    index = localize(naive, tz, path=path, first_line=2)
    text.check_steps(index, naive, name.step, path, tz, days=(name.first_day, name.last_day))
    units = text.decimal_units(
        cells[:, 1:],
        2,
        100,
        path=path,
        members=prms,
        stamps=cells[:, 0],
        what="percent",
        instants=index.tz_convert(tz),
    )
    sums = units.sum(axis=1)
    if (sums > UNITS).any():
        bad = int(np.argmax(sums > UNITS))
        raise errors.CoefficientSumError(
            f"{path}, line {bad + 2} ({cells[bad, 0]}): the coefficients sum to "
            f"{sums[bad] // 100},{sums[bad] % 100:02d} %, above 100 %. Round them down so "
            "that each row sums to 100 % or less.",
            path=path,
            line=bad + 2,
            timestamp=index[bad].tz_convert(tz),
        )
    frame_index = pd.DatetimeIndex(index, freq=to_offset(name.step), name="timestamp")
    return pd.DataFrame(units / UNITS, index=frame_index, columns=pd.Index(prms))


def read_full_dynamic_key(
    paths: Iterable[str | os.PathLike[str]],
    *,
    operation: str | None = None,
    members: Iterable[str] | None = None,
    tz: str = PARIS,
) -> dict[str, pd.DataFrame]:
    """Read the files of a full dynamic key: producer id -> table (see :func:`read_dynamic_key`).

    The producer is the part of each name between ``<operation>_`` and the step; without
    ``operation``, the last ``_``-separated part before the step. All files must belong
    to one operation, cover the same steps and name each producer once.
    """
    members = None if members is None else list(members)
    tables: dict[str, pd.DataFrame] = {}
    first: tuple[str, Path, pd.Index] | None = None  # operation, path, steps of the first file
    for path in map(Path, paths):
        prefix = KeyFileName.parse(path).operation
        if operation is None:
            found, _, producer = prefix.rpartition("_")
        else:
            found, producer = operation, prefix.removeprefix(f"{operation}_")
        if not found or producer == prefix or not _PRODUCER.match(producer):
            raise errors.FileFormatError(
                f"{path}: the name carries no producer after the operation id "
                "(<operation>_<producer>_<step>_<first day>_<last day>.txt).",
                path=path,
            )
        table = read_dynamic_key(path, members=members, tz=tz)
        first = first or (found, path, table.index)
        if producer in tables or found != first[0] or not table.index.equals(first[2]):
            raise errors.FileFormatError(
                f"{path}: producer {producer!r} is named twice, or the file is not of the "
                f"operation and period of {first[1]}. Pass one file per producer.",
                path=path,
                member=producer,
            )
        tables[producer] = table
    if not tables:
        raise ValueError("read_full_dynamic_key needs at least one file.")
    return tables
