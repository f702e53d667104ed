"""The dynamic key file a PMO sends the DSO, written and read back.

Format (docs/formats.md, "Dynamic key file"; details marked *assumption* there)::

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
  ``OPE123_30_01112024_30112024.txt``). A file covers **whole local days**, from 00:00 on
  its first day to 00:00 after its last, as the DSO's files do: the writer refuses a key
  and the reader a file that starts or ends mid-day. A full dynamic key is one file per
  producer, named ``<operation>_<producer>_<step>_<first>_<last>.txt``: the producer id
  comes right after the operation id and may not contain ``_`` (a PRM, 14 digits, never
  does), so the name still ends with the step and the two days.
- Written as UTF-8 without a byte-order mark (the content is ASCII anyway), lines ending
  in ``"\\r\\n"`` by default (RFC 4180, what Excel writes; ``line_ending="\\n"`` on request),
  the last line included. The reader accepts both endings and a byte-order mark, and
  UTF-8 only: a Latin-1 or UTF-16 file is an :class:`~repartition.errors.EncodingError`
  naming the line and the byte.
- Readers take a path or a buffer (``name=`` gives a buffer's file name); writers a folder
  or a writable buffer (:attr:`KeyFile.name` then gives the file name).

The reader (:func:`read_dynamic_key`, in :mod:`._read`) is strict (two decimals, a
comma, ASCII digits, the exact header, whole days): it doubles as a check of a file before
it is sent. Every error names the file, the line, the PRM and the time. The writer rounds
down (the format's rule, whose one home is :mod:`.rounding`) or, on request, recovers what
rounding down takes from saturated consumers (:func:`write_dynamic_key`,
``rounding="recover"``, in :mod:`._write` with the checks of a key and the all-or-nothing
writes). :mod:`._text` holds the text machinery this format shares with
:mod:`repartition.io.spain`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from repartition import errors
from repartition.io._files import check_writable
from repartition.io.keyfile import _text as text
from repartition.io.keyfile import _write as keywrite
from repartition.io.keyfile._read import (
    HEADER,
    OPERATION,
    PRODUCER,
    KeyFileName,
    read_dynamic_key,
    read_full_dynamic_key,
)
from repartition.io.keyfile.rounding import UNITS
from repartition.keys import Dynamic, FullDynamic
from repartition.time import PARIS, check_time_zone

__all__ = [
    "KeyFile",
    "KeyFileName",
    "read_dynamic_key",
    "read_full_dynamic_key",
    "round_down_key",
    "write_dynamic_key",
    "write_full_dynamic_key",
]


@dataclass(frozen=True, eq=False)
class KeyFile:
    """What :func:`write_dynamic_key` wrote.

    Attributes
    ----------
    path : pathlib.Path or None
        The file; ``None`` when it was written to a buffer.
    name : KeyFileName
        Its name, parsed: ``str(key_file.name)`` is the file name the format gives it
        (``OPE123_30_01112024_30112024.txt``), also when it was written to a buffer.
    coefficients : pandas.DataFrame
        The coefficients as the file carries them (fractions, whole hundredths of a
        percent), steps (UTC starts) x PRMs: exactly what :func:`read_dynamic_key` returns.
    rounding_loss : pandas.Series
        Per step, ``sum_i k[t, i] - sum_i rounded[t, i]``: the share of the pooled
        production that the rounding withholds from the consumers (with ``"down"``,
        between 0 and ``n * 1e-4`` for ``n`` PRMs; with ``"recover"`` it may be negative,
        the raised coefficients offering more than the exact key). [fraction of P_tot]
    energy_lost : pandas.Series or None
        With consumption and production given: per step, the AUTOCONS of the operation
        under the exact key minus under the rounded key, both applied with the DSO's rule
        (:class:`repartition.keys.Dynamic`; for a full dynamic key, this producer's
        AUTOPROD under each). [kWh]
    rounding : {"down", "recover"}
        How the coefficients were rounded (see :func:`write_dynamic_key`).
    """

    path: Path | None
    name: KeyFileName
    coefficients: pd.DataFrame
    rounding_loss: pd.Series
    energy_lost: pd.Series | None = None
    rounding: str = "down"

    @property
    def energy_lost_kwh(self) -> float | None:
        """The total of :attr:`energy_lost` over the period. [kWh]"""
        return None if self.energy_lost is None else float(self.energy_lost.sum())


def round_down_key(coefficients: pd.DataFrame) -> pd.DataFrame:
    """Dynamic key coefficients rounded down to 0.01 %, as a key file carries them.

    Each fraction ``k`` becomes ``floor(k * 10000 + 1e-6) / 10000``, the key files'
    rounding rule (:func:`repartition.io.keyfile.rounding.floor_units`). The ``1e-6`` (a
    millionth of a hundredth of a percent) keeps a coefficient that *is* a hundredth
    from losing one to binary floating point: 0.0029 is stored as 0.00289999..., and
    ``0.0029 * 10000`` is 28.999999999999996. A value may thus rise by at most ``1e-10``;
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
    values = keywrite.checked_key(coefficients, "The key")[0]
    rounded = keywrite.round_down_units(values, coefficients.index) / UNITS
    return pd.DataFrame(rounded, index=coefficients.index, columns=coefficients.columns)


def write_dynamic_key(
    coefficients: pd.DataFrame,
    directory: str | os.PathLike[str] | IO[bytes] | IO[str],
    operation: str,
    *,
    tz: str = PARIS,
    consumption: pd.DataFrame | None = None,
    production: pd.DataFrame | pd.Series | None = None,
    rounding: str = "down",
    line_ending: str = "\r\n",
    overwrite: bool = False,
) -> KeyFile:
    """Write dynamic key coefficients as the DSO's key file, in hundredths of a percent.

    **Rounding.** The file carries whole hundredths of a percent, and no row may sum above
    100 %. With ``rounding="down"`` (the default, the format's rule) every coefficient is
    rounded down (:func:`round_down_key`); each consumer can lose up to 0.01 % of the
    pooled production per step, which goes to the surplus even where that consumer still
    consumes. With ``rounding="recover"`` (needs ``consumption`` and ``production``), the
    coefficients are rounded down, then each consumer that the exact key **saturates**
    (``k * P_tot >= C``, up to a relative 1e-9: it receives its whole consumption) is
    raised to the smallest hundredth of a percent that still saturates it under the DSO's
    rule ``min(C, k * P_tot)`` (checked with that very floating-point expression), as long
    as the row stays at or below 100 %; if the room is short, the consumers with the
    largest recovery go first (ties in column order). Under the dynamic rule each
    consumer's share depends on its own coefficient only, so "recover" lowers nobody's
    share compared with "down" and gives nobody more than the exact key (a saturated
    consumer gets its consumption): it only removes loss. With much surplus (every
    consumer saturated) it removes almost all of it; consumers the key does not saturate
    still lose their rounding. :attr:`KeyFile.energy_lost` reports the loss in both modes.

    The key must cover whole local days, from 00:00 on its first day to 00:00 after its
    last (usually a month), as the file's name says.

    Parameters
    ----------
    coefficients : pandas.DataFrame
        Steps x PRMs (string ids) fractions in [0, 1] (0.5081 for 50.81 %), each row
        summing to at most 1: :class:`repartition.keys.Dynamic`'s convention, for example
        :func:`repartition.to_key.to_dynamic_key`'s result. Index: the starts of regular
        steps (a whole number of minutes), tz-aware, whole local days. NaN (no key for a
        step) cannot be written and is an error.
    directory : path or file-like
        The folder to write into; the file name is built from ``operation``, the step and
        the first and last local days. Or a writable buffer (``io.BytesIO``: UTF-8 bytes;
        ``io.StringIO``: the text; an open file), which receives the file's content once
        everything is checked; the name the format gives the file is then
        ``str(result.name)``, and ``result.path`` is ``None``.
    operation : str
        The operation id.
    tz : str
        The local time of the file.
    consumption, production : pandas.DataFrame, optional
        Both or neither, on exactly the key's steps (``production`` may be a Series). With
        them, :attr:`KeyFile.energy_lost` is computed. [kWh per step]
    rounding : {"down", "recover"}
        See above.
    line_ending : {"\\r\\n", "\\n"}
        How lines end.
    overwrite : bool
        Replace an existing file (``False``: raise :class:`FileExistsError`). Not used
        with a buffer.

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
    repartition.errors.FileFormatError
        A key that does not start at 00:00 or end at 00:00 local time, naming the step.
    repartition.errors.TimeIndexError
        An irregular, unsorted or naive index (see :func:`repartition.allocate`);
        :class:`~repartition.errors.IndexMismatchError` for data not on the key's steps.
    TypeError
        Only one of ``consumption`` and ``production``, or ``"recover"`` without them.

    Examples
    --------
    >>> import tempfile
    >>> index = pd.date_range("2024-11-01", periods=48, freq="30min", tz="Europe/Paris")
    >>> key = pd.DataFrame({"30000000000001": 0.6, "30000000000002": 0.39869}, index=index)
    >>> written = write_dynamic_key(key, tempfile.mkdtemp(), "OPE123")
    >>> written.path.name
    'OPE123_30_01112024_01112024.txt'
    >>> print(*written.path.read_text().splitlines()[:3], sep="\\n")
    Horodate;30000000000001;30000000000002
    01/11/2024 00:00;60,00;39,86
    01/11/2024 00:30;60,00;39,86

    Consumer 2 consumes 3.9869 kWh of the 10 kWh produced: the exact key saturates it,
    rounding down takes 0.0009 kWh from it, "recover" writes 39,87 % instead:

    >>> consumption = pd.DataFrame({"30000000000001": 9.0, "30000000000002": 3.9869},
    ...                            index=index)
    >>> production = pd.Series(10.0, index=index, name="PV")
    >>> for mode in ("down", "recover"):
    ...     written = write_dynamic_key(key, tempfile.mkdtemp(), "OPE123", rounding=mode,
    ...                                 consumption=consumption, production=production)
    ...     print(mode, written.coefficients.iloc[0].tolist(),
    ...           round(written.energy_lost.iloc[0], 6))
    down [0.6, 0.3986] 0.0009
    recover [0.6, 0.3987] 0.0

    To a buffer (for a web service, say), with the file name the format gives it:

    >>> import io
    >>> buffer = io.StringIO()
    >>> written = write_dynamic_key(key, buffer, "OPE123", line_ending="\\n")
    >>> str(written.name), written.path
    ('OPE123_30_01112024_01112024.txt', None)
    >>> buffer.getvalue().splitlines()[1]
    '01/11/2024 00:00;60,00;39,86'
    """
    tz = check_time_zone(tz)
    keywrite.check_rounding(rounding, consumption is not None or production is not None)
    prepared = _prepare(coefficients, directory, operation, None, tz, overwrite)
    exact = Dynamic(coefficients)
    before = keywrite.exact_allocation(consumption, production, exact, prepared.steps)
    if before is not None and rounding == "recover":
        raised = keywrite.recover_saturated(
            prepared.units, prepared.exact, before, prepared.columns
        )
        prepared = replace(prepared, units=raised)
    result = _result(prepared, rounding)
    lost = keywrite.energy_lost(
        before, Dynamic(result.coefficients), consumption, production, by_producer=False
    )
    if prepared.path is None:
        keywrite.write_buffer(directory, _lines(prepared, tz), line_ending)
    else:
        keywrite.write_text(prepared.path, _lines(prepared, tz), line_ending)
    return _with_loss(result, None if lost is None else lost["lost"])


def write_full_dynamic_key(
    coefficients: Mapping[str, pd.DataFrame],
    directory: str | os.PathLike[str] | Mapping[str, IO[bytes] | IO[str]],
    operation: str,
    *,
    tz: str = PARIS,
    consumption: pd.DataFrame | None = None,
    production: pd.DataFrame | None = None,
    line_ending: str = "\r\n",
    overwrite: bool = False,
) -> dict[str, KeyFile]:
    """Write a full dynamic key: one key file per producer, all or nothing.

    Parameters are those of :func:`write_dynamic_key`; ``coefficients`` maps each producer
    id (letters, digits, ``.``, ``-``: no ``_``) to its steps x consumers table
    (:class:`repartition.keys.FullDynamic`'s convention), all covering whole local days.
    ``directory`` is a folder, or maps each producer id to a writable buffer (the
    producers of ``coefficients`` exactly), which receive their content once every table
    is checked.
    Coefficients are rounded down (``rounding="recover"`` is not offered: under the full
    dynamic rule a consumer's share depends on every producer's coefficients). With
    ``consumption`` and ``production`` (one column per producer), each file's
    ``energy_lost`` is its producer's AUTOPROD under the exact key minus under the rounded
    one, both through the full dynamic rule; their sum is the operation's AUTOCONS lost to
    rounding.

    Every table is checked and rounded before anything is written. Then every file is
    written under a temporary name next to its destination, and only when all are written
    are they renamed into place: if a write fails, no file is created or replaced (with
    ``overwrite=True``, the previous files stay as they were).

    Returns
    -------
    dict
        Producer id -> :class:`KeyFile`.
    """
    tz = check_time_zone(tz)
    if not isinstance(coefficients, Mapping) or not coefficients:
        raise errors.ParameterTypeError(
            "coefficients must be a non-empty mapping producer id -> DataFrame."
        )
    if isinstance(directory, Mapping):
        if set(directory) != set(coefficients):
            raise errors.ParameterError(
                f"The buffers are for the producers {sorted(map(str, directory))}, the key "
                f"for {sorted(map(str, coefficients))}: give one buffer per producer."
            )
        for buffer in directory.values():
            check_writable(buffer, "buffer")
    prepared = {
        producer: _prepare(
            table,
            directory[producer] if isinstance(directory, Mapping) else directory,
            operation,
            producer,
            tz,
            overwrite,
        )
        for producer, table in coefficients.items()
    }
    first, steps = next((producer, one.steps) for producer, one in prepared.items())
    for producer, one in prepared.items():
        if not one.steps.equals(steps):
            raise errors.IndexMismatchError(
                f"The key of producer {producer!r} covers {one.name.first_day:%d/%m/%Y} to "
                f"{one.name.last_day:%d/%m/%Y} at {one.name.step}, that of {first!r} "
                f"{prepared[first].name.first_day:%d/%m/%Y} to "
                f"{prepared[first].name.last_day:%d/%m/%Y} at {prepared[first].name.step}: "
                "the files of a full dynamic key cover the same steps.",
                member=producer,
            )
    exact = FullDynamic(dict(coefficients))
    before = keywrite.exact_allocation(consumption, production, exact, steps)
    results = {producer: _result(one, "down") for producer, one in prepared.items()}
    rounded = FullDynamic({producer: results[producer].coefficients for producer in results})
    lost = keywrite.energy_lost(before, rounded, consumption, production, by_producer=True)
    if isinstance(directory, Mapping):
        for producer, one in prepared.items():
            keywrite.write_buffer(directory[producer], _lines(one, tz), line_ending)
    else:
        files = {one.path: _lines(one, tz) for one in prepared.values() if one.path is not None}
        keywrite.write_texts(files, line_ending)
    return {
        producer: _with_loss(result, None if lost is None else lost[producer])
        for producer, result in results.items()
    }


@dataclass(frozen=True)
class _Prepared:
    """A key checked and rounded, before anything is written."""

    path: Path | None  # None: to a buffer
    name: KeyFileName
    steps: pd.DatetimeIndex  # UTC starts, with the step as freq
    columns: pd.Index
    exact: np.ndarray  # the fractions given
    units: np.ndarray  # the rounded hundredths of a percent (int64)


def _prepare(
    coefficients: pd.DataFrame,
    directory: object,
    operation: str,
    producer: str | None,
    tz: str,
    overwrite: bool,
) -> _Prepared:
    """Check and round down."""
    check_writable(directory, "directory")
    if not isinstance(operation, str) or not OPERATION.match(operation):
        raise errors.FileFormatError(
            f"Operation id {operation!r} cannot go in a file name: use letters, digits, "
            "'.', '-' and '_' only."
        )
    if producer is not None and (not isinstance(producer, str) or not PRODUCER.match(producer)):
        raise errors.FileFormatError(
            f"Producer id {producer!r} cannot go in a key file name: use letters, digits, "
            "'.' and '-' only (no '_', which separates the parts of the name).",
            member=producer,
        )
    who = "The key" if producer is None else f"The key of producer {producer!r}"
    values, step = keywrite.checked_key(coefficients, who)
    if step % pd.Timedelta(minutes=1):
        raise errors.StepLengthError(
            f"{who} has steps of {step}, not a whole number of minutes, which the file "
            "name cannot carry. Resample it (repartition.time.resample).",
            step=step,
        )
    local = pd.DatetimeIndex(coefficients.index).tz_convert(tz)
    partial = text.partial_day(local, step, tz)
    if partial is not None:
        row, problem = partial
        raise errors.FileFormatError(
            f"{who} does not cover whole days of {tz}: {problem}. A key file covers whole "
            "local days (usually a month, e.g. `repartition.time.select_month`), as its "
            "name says: give the key from 00:00 on its first day to 00:00 after its last.",
            member=producer,
            timestamp=local[row],
        )
    name = KeyFileName(operation, step, local[0].date(), local[-1].date(), producer)
    path = None
    if isinstance(directory, (str, os.PathLike)):
        path = Path(directory) / str(name)
        keywrite.refuse_existing(path, overwrite)
    units = keywrite.round_down_units(values, local)
    utc = pd.DatetimeIndex(local.tz_convert("UTC"), freq=to_offset(step), name="timestamp")
    return _Prepared(path, name, utc, pd.Index(list(coefficients.columns)), values, units)


def _result(prepared: _Prepared, rounding: str) -> KeyFile:
    frame = pd.DataFrame(prepared.units / UNITS, index=prepared.steps, columns=prepared.columns)
    loss = prepared.exact.sum(axis=1) - prepared.units.sum(axis=1) / UNITS
    rounding_loss = pd.Series(loss, index=prepared.steps, name="rounding_loss")
    return KeyFile(prepared.path, prepared.name, frame, rounding_loss, rounding=rounding)


def _with_loss(result: KeyFile, energy: pd.Series | None) -> KeyFile:
    return replace(result, energy_lost=None if energy is None else energy.rename("energy_lost"))


def _lines(prepared: _Prepared, tz: str) -> list[str]:
    percent = np.array([f"{u // 100},{u % 100:02d}" for u in range(UNITS + 1)])[prepared.units]
    times = prepared.steps.tz_convert(tz).strftime("%d/%m/%Y %H:%M")
    lines = [";".join([HEADER, *prepared.columns])]
    lines += [";".join([time, *row]) for time, row in zip(times, percent.tolist(), strict=True)]
    return lines
