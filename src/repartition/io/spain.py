"""Spain: the hourly sharing coefficients file sent to the distributor.

In Spanish collective self-consumption (*autoconsumo colectivo*, RD 244/2019 as amended by
Orden TED/1247/2021) each consumer ``i`` receives the share ``beta[h, i]`` of the
production in hour ``h``; for every hour the shares sum to exactly 1. They are a fixed set
or one set per hour of the year (*coeficientes variables horarios*), sent to the
distributor as a text file::

    ES0021000000000001AA;0001;0,500000
    ES0021000000000001AA;0002;0,250000
    ...
    ES0021000000000002BB;0001;0,500000

- Named ``<CAU>_<YYYY>.txt`` (the CAU is the self-consumption installation's code).
- One line ``CUPS;HHHH;d,dddddd`` per consumer and hour: the CUPS, the hour of the year on
  four digits (0001 to 8760, 8784 in a leap year) and the coefficient with a comma and six
  decimals. Written consumer by consumer, hours in order (the reader accepts any order).
- Written as UTF-8 without BOM, lines ending in ``"\\r\\n"`` by default
  (``line_ending="\\n"`` on request), the last line included; both are read. A CUPS
  padded with trailing spaces (some tools pad it to 22 characters) is read without them.

**Hours and instants** (*assumption*: no primary source read states it). Hour 1 is the
first hour of 1 January in Spanish local time (``Europe/Madrid``; pass
``tz="Atlantic/Canary"`` for the Canary Islands), and hour ``h`` starts ``h - 1`` real
hours later. The spring change removes a wall-clock hour and the autumn one repeats one,
so a year always has ``24 x days`` real hours: 8,760 or 8,784, the counts the format uses.
What was found: a tool published for Spanish energy communities (GitHub
``iotlibre/calculo_coeficientes_reparto``, ``ComprobacionCondiciontxt.py``) writes this
layout (lines grouped by CUPS, hours ``0001`` to ``24 x days``, six decimals with a comma,
the CUPS padded to 22 characters); press reports of the order (aqui.madrid, 16 November
2021; El Correo de Andalucía, March 2021, on the draft) say the coefficients may differ
for every hour of the year and must sum to 1 in each hour. Neither says how hours map to
clock times on the days of the DST changes.

**Rounding** to six decimals must keep each hour's sum at exactly 1: the largest remainder
method (:func:`round_to_millionths`).

References
----------
Real Decreto 244/2019, de 5 de abril, anexo I; Orden TED/1247/2021, de 15 de noviembre
(coeficientes de reparto variables). docs/rules.md, "Spain"; docs/formats.md, "Spanish
coefficient file".
https://aqui.madrid/el-gobierno-aprueba-el-reparto-variable-de-la-energia-en-el-autoconsumo-compartido/
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from repartition import errors
from repartition._align import check_sums
from repartition.io import _files
from repartition.io._files import Readable
from repartition.io.keyfile import _text as text
from repartition.io.keyfile import _write as keywrite
from repartition.io.keyfile.rounding import floor_units
from repartition.time import check_time_zone

__all__ = [
    "MADRID",
    "SpanishCoefficients",
    "hours_of_year",
    "read_spanish_coefficients",
    "round_to_millionths",
    "write_spanish_coefficients",
]

MADRID = "Europe/Madrid"
"""The local time of peninsular Spain (and the Balearic Islands)."""

SCALE = 1_000_000
"""Millionths in 1: the file's resolution."""

_NAME = re.compile(r"^(?P<cau>[A-Za-z0-9][A-Za-z0-9.-]*)_(?P<year>[0-9]{4})\.txt$")
_HOUR = re.compile(r"[0-9]{4}")


def hours_of_year(year: int, tz: str = MADRID) -> pd.DatetimeIndex:
    """The UTC starts of the hours of a local year: hour ``h`` of the file is row ``h - 1``.

    Examples
    --------
    >>> len(hours_of_year(2025)), len(hours_of_year(2024))
    (8760, 8784)
    >>> hours_of_year(2025)[0]
    Timestamp('2024-12-31 23:00:00+0000', tz='UTC')
    """
    tz = check_time_zone(tz)
    start, end = (pd.Timestamp(year=y, month=1, day=1, tz=tz) for y in (year, year + 1))
    return pd.date_range(
        start.tz_convert("UTC"), end.tz_convert("UTC"), freq="1h", inclusive="left"
    ).rename("timestamp")


@dataclass(frozen=True, eq=False)
class SpanishCoefficients:
    """What :func:`write_spanish_coefficients` wrote.

    Attributes
    ----------
    path : pathlib.Path or None
        The file; ``None`` when it was written to a buffer.
    name : str
        The file name the format gives it, ``<CAU>_<YYYY>.txt`` (also for a buffer).
    cau : str
        The installation's code.
    year : int
        The year covered.
    coefficients : pandas.DataFrame
        Hours (UTC starts) x CUPS, the coefficients as written (millionths, each hour
        summing to exactly 1 in millionths): what :func:`read_spanish_coefficients` returns.
    """

    path: Path | None
    cau: str
    year: int
    coefficients: pd.DataFrame

    @property
    def name(self) -> str:
        return f"{self.cau}_{self.year:04d}.txt"


def round_to_millionths(coefficients: pd.DataFrame) -> pd.DataFrame:
    """Round each hour's coefficients to millionths, keeping their sum at exactly 1.

    Largest remainder method, deterministic: each coefficient is first rounded down,
    ``floor(beta * 10**6 + 1e-6)`` (the key files' rule,
    :func:`repartition.io.keyfile.rounding.floor_units`: the ``1e-6`` keeps a value that
    *is* six decimals, such as 0.123457, from losing a millionth to binary floating
    point); the millionths
    still missing to reach 1 go one each to the coefficients with the largest remainders,
    ties to the leftmost column. Every coefficient moves by less than a millionth; a zero
    stays zero (the remainders sum to the missing count, so the ones served are all
    positive). Input hours must sum to 1 within 1e-9.

    Parameters
    ----------
    coefficients : pandas.DataFrame
        Hours x CUPS shares in [0, 1], each row summing to 1 (within 1e-9).

    Returns
    -------
    pandas.DataFrame
        Same labels; every value a whole number of millionths, every row summing to 1 in
        millionths.

    Examples
    --------
    >>> thirds = pd.DataFrame({"A": [1 / 3], "B": [1 / 3], "C": [1 / 3]},
    ...                       index=hours_of_year(2025)[:1])
    >>> (round_to_millionths(thirds) * 10**6).round().astype(int).to_numpy().tolist()
    [[333334, 333333, 333333]]
    """
    units = _millionths(_checked(coefficients))
    return pd.DataFrame(units / SCALE, index=coefficients.index, columns=coefficients.columns)


def _checked(coefficients: pd.DataFrame) -> np.ndarray:
    values, _ = keywrite.checked_key(coefficients, "The Spanish coefficients", hours=True)
    check_sums(
        values.sum(axis=1),
        "The Spanish coefficients",
        where=lambda row: f"of hour {row + 1:04d} ({coefficients.index[row]})",
        timestamp=lambda row: coefficients.index[row],
        exactly_one=True,
        advice="In Spain each hour's coefficients must sum to 1: scale that hour so that it "
        "sums to 1.",
    )
    return values


def _millionths(values: np.ndarray) -> np.ndarray:
    scaled = values * SCALE
    units = floor_units(values, SCALE).astype(np.int64)
    missing = SCALE - units.sum(axis=1)  # in [0, columns] for rows summing to 1 +- 1e-9
    order = np.argsort(-(scaled - units), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(values.shape[1])[None, :], axis=1)
    units += rank < missing[:, None]
    return units


def write_spanish_coefficients(
    coefficients: pd.DataFrame | pd.Series,
    directory: str | os.PathLike[str] | IO[bytes] | IO[str],
    cau: str,
    year: int,
    *,
    tz: str = MADRID,
    line_ending: str = "\r\n",
    overwrite: bool = False,
) -> SpanishCoefficients:
    """Write hourly coefficients as ``<CAU>_<YYYY>.txt``, rounded to millionths summing to 1.

    Parameters
    ----------
    coefficients : pandas.DataFrame or pandas.Series
        Hours x CUPS shares (0.25 for 25 %) on the year's hours (:func:`hours_of_year`,
        any time zone), each hour summing to 1 within 1e-9; or a Series CUPS -> share, a
        fixed set repeated every hour.
    directory : path or file-like
        The folder to write ``<CAU>_<YYYY>.txt`` into, or a writable buffer
        (``io.BytesIO``, ``io.StringIO``, an open file), which receives the content once
        it is checked (the result's ``path`` is then ``None``, its ``name`` the file
        name).
    cau : str
        The installation's code (letters, digits, ``.``, ``-``).
    year : int
        The year covered.
    tz : str
        The local time whose 1 January 00:00 is hour 1.
    line_ending : {"\\r\\n", "\\n"}
        How lines end.
    overwrite : bool
        Replace an existing file (``False``: raise :class:`FileExistsError`).

    Raises
    ------
    repartition.errors.CoefficientSumError
        An hour whose coefficients do not sum to 1 within 1e-9, naming the hour.
    repartition.errors.CoefficientRangeError
        NaN or a value outside [0, 1].
    repartition.errors.IndexMismatchError
        A table that is not on the year's hours.

    Examples
    --------
    >>> import tempfile
    >>> fixed = pd.Series({"ES0021000000000001AA": 0.6, "ES0021000000000002BB": 0.4})
    >>> written = write_spanish_coefficients(fixed, tempfile.mkdtemp(), "CAU1", 2025)
    >>> written.path.name
    'CAU1_2025.txt'
    >>> written.path.read_text().splitlines()[:2]
    ['ES0021000000000001AA;0001;0,600000', 'ES0021000000000001AA;0002;0,600000']
    >>> len(written.path.read_text().splitlines())
    17520
    """
    tz = check_time_zone(tz)
    if not isinstance(cau, str) or not _NAME.match(f"{cau}_{year:04d}.txt"):
        raise errors.FileFormatError(
            f"CAU {cau!r} and year {year!r} do not make a file name <CAU>_<YYYY>.txt: use "
            "letters, digits, '.' and '-' for the CAU, four digits for the year."
        )
    hours = hours_of_year(year, tz)
    if isinstance(coefficients, pd.Series):
        values = np.broadcast_to(coefficients.to_numpy(), (len(hours), len(coefficients)))
        frame = pd.DataFrame(values, index=hours, columns=coefficients.index)
    else:
        frame = coefficients
        index = getattr(frame, "index", None)
        if not (
            isinstance(index, pd.DatetimeIndex)
            and index.tz is not None
            and index.tz_convert("UTC").equals(hours)
        ):
            raise errors.IndexMismatchError(
                f"The Spanish coefficients must be on the {len(hours)} hours of {year} "
                f"({tz}): use `repartition.io.spain.hours_of_year({year})` as their index, "
                "or give a Series for a fixed set.",
            )
    _files.check_writable(directory, "directory")
    path = None
    if isinstance(directory, (str, os.PathLike)):
        path = Path(directory) / f"{cau}_{year:04d}.txt"
        keywrite.refuse_existing(path, overwrite)
    units = _millionths(_checked(frame))
    cups = np.asarray(frame.columns, dtype=str)
    hour = np.strings.zfill(np.arange(1, len(hours) + 1).astype(str), 4)
    share = np.strings.add(
        np.strings.add((units // SCALE).astype(str), ","),
        np.strings.zfill((units % SCALE).astype(str), 6),
    )
    lines = np.strings.add(np.strings.add(cups[None, :], ";"), np.strings.add(hour[:, None], ";"))
    lines = np.strings.add(lines, share)
    if path is None:
        keywrite.write_buffer(directory, lines.T.ravel().tolist(), line_ending)
    else:
        keywrite.write_text(path, lines.T.ravel().tolist(), line_ending)
    written = pd.DataFrame(units / SCALE, index=hours, columns=pd.Index(list(frame.columns)))
    return SpanishCoefficients(path, cau, year, written)


def read_spanish_coefficients(
    path: Readable,
    *,
    members: Iterable[str] | None = None,
    tz: str = MADRID,
    name: str | os.PathLike[str] | None = None,
) -> pd.DataFrame:
    """Read a ``<CAU>_<YYYY>.txt`` file into hours x CUPS shares, checking it.

    Parameters
    ----------
    path : path or file-like
        The file, or a buffer open for reading (``io.BytesIO``, ``io.StringIO``, an open
        file), read from where it stands.
    members : iterable of str, optional
        The installation's CUPS: one of the file outside them, or one of them missing, is
        an error.
    tz : str
        The local time whose 1 January 00:00 is hour 1.
    name : str or path, optional
        The file name, which gives the year: by default the path's own name, or a
        buffer's ``name``. A buffer without a name needs it.

    Returns
    -------
    pandas.DataFrame
        Hours (UTC starts, :func:`hours_of_year`) x CUPS (in order of first appearance).

    Raises
    ------
    repartition.errors.EncodingError
        Bytes that are not UTF-8 text, naming the line and byte offset.
    repartition.errors.FileFormatError
        A bad name; a line that is not ``CUPS;HHHH;d,dddddd``; an hour outside 1 to the
        year's count (8760 or 8784). Each names the file and line.
    repartition.errors.ConflictingValuesError
        A CUPS and hour given twice with different coefficients (identical repetitions
        are accepted).
    repartition.errors.MissingValueError
        A CUPS without a coefficient for some hour.
    repartition.errors.CoefficientRangeError
        A coefficient outside [0, 1].
    repartition.errors.CoefficientSumError
        An hour whose coefficients do not sum to 1 within a millionth.
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        CUPS that do not match ``members``.
    """
    tz = check_time_zone(tz)
    input = _files.source(path, "Spanish coefficients file")
    path = input.path
    if name is None and input.label.startswith("<"):
        raise errors.ParameterError(
            f"{path} has no file name, which gives the year: pass name='<CAU>_<YYYY>.txt'."
        )
    named = Path(input.label if name is None else name).name
    match = _NAME.match(named)
    if match is None:
        raise errors.FileFormatError(
            f"{path}: a Spanish coefficients file is named <CAU>_<YYYY>.txt, not {named!r}.",
            path=path,
        )
    hours = hours_of_year(int(match["year"]), tz)
    what = "a line is CUPS;HHHH;d,dddddd (3 fields)"
    cells = text.split_rows(text.read_lines(input), 3, path, 1, what)
    lines = np.arange(1, len(cells) + 1)
    cups, hour_text = np.strings.rstrip(cells[:, 0], " "), cells[:, 1]
    column, unique = pd.factorize(cups)  # CUPS in order of first appearance
    ids = np.asarray(unique, dtype=str)
    first = np.empty(len(ids), dtype=np.int64)
    first[column[::-1]] = np.arange(len(cups))[::-1]
    text.check_ids(list(ids), path, "CUPS", lines=list(first + 1))
    if members is not None:
        text.check_members(list(ids), members, path, lines=list(first + 1))
    well_formed = text.ascii_match(hour_text, _HOUR)
    hour = np.where(well_formed, hour_text, "0").astype(np.int64)
    bad = ~well_formed | (hour < 1) | (hour > len(hours))
    if bad.any():
        at = int(np.argmax(bad))
        raise errors.FileFormatError(
            f"{path}, line {at + 1}: hour {str(hour_text[at])!r} is not 0001 to "
            f"{len(hours):04d} ({match['year']} has {len(hours)} hours).",
            path=path,
            line=at + 1,
            member=cups[at],
        )
    units = text.decimal_units(
        cells[:, 2],
        6,
        1,
        path=path,
        members=cups,
        stamps=np.strings.add("hour ", hour_text),
        what="share",
        instants=hours[hour - 1].tz_convert(tz),
        lines=lines,
    )
    return _assemble(units, cups, hour, column, ids, hours, path, tz)


def _assemble(
    units: np.ndarray,
    cups: np.ndarray,
    hour: np.ndarray,
    column: np.ndarray,
    ids: np.ndarray,
    hours: pd.DatetimeIndex,
    path: object,
    tz: str,
) -> pd.DataFrame:
    grid = np.full((len(hours), len(ids)), -1, dtype=np.int64)
    line_of = np.zeros_like(grid)
    _, first = np.unique((hour - 1) * len(ids) + column, return_index=True)
    grid[hour[first] - 1, column[first]] = units[first]  # the first line of each pair
    line_of[hour[first] - 1, column[first]] = first + 1
    differs = grid[hour - 1, column] != units  # a later line that says otherwise
    if differs.any():
        row = int(np.argmax(differs))
        raise errors.ConflictingValuesError(
            f"{path}, line {row + 1}: {cups[row]} hour {hour[row]:04d} is given again, with "
            f"another coefficient (also on line {line_of[hour[row] - 1, column[row]]}). Keep one.",
            path=path,
            line=row + 1,
            member=cups[row],
            timestamp=hours[hour[row] - 1].tz_convert(tz),
        )
    missing = grid < 0
    if missing.any():
        h, c = (int(i) for i in np.argwhere(missing)[0])
        raise errors.MissingValueError(
            f"{path}: {ids[c]} has no coefficient for hour {h + 1:04d} "
            f"({hours[h].tz_convert(tz)}). Every CUPS needs one every hour (0,000000 for none).",
            path=path,
            member=ids[c],
            timestamp=hours[h].tz_convert(tz),
        )
    sums = grid.sum(axis=1)
    off = np.abs(sums - SCALE) > 1
    if off.any():
        h = int(np.argmax(off))
        raise errors.CoefficientSumError(
            f"{path}: the coefficients of hour {h + 1:04d} ({hours[h].tz_convert(tz)}) sum to "
            f"{sums[h] / SCALE:.6f}, not 1 (line {line_of[h, 0]} and the other lines of that "
            "hour). In Spain each hour's coefficients sum to 1.",
            path=path,
            line=int(line_of[h, 0]),
            timestamp=hours[h].tz_convert(tz),
        )
    return pd.DataFrame(grid / SCALE, index=hours, columns=pd.Index(list(ids)))
