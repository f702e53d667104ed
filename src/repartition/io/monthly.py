"""A PMO's month in one call: DSO exports in, key file, per-step results and totals out.

This strings together :func:`~repartition.io.read_load_curves`,
:func:`~repartition.time.select_month`, :func:`repartition.allocate`,
:func:`repartition.to_dynamic_key`, :func:`~repartition.io.write_dynamic_key`,
:func:`~repartition.io.write_dso_results` and :func:`~repartition.io.write_monthly_totals`;
``repartition month`` is its console form. docs/io.md walks through the same steps one by one.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from repartition import errors
from repartition._atomic import atomic_file, together
from repartition.allocation import Allocation
from repartition.engine import allocate
from repartition.io import _files
from repartition.io._files import Readable
from repartition.io.dso import write_dso_results, write_monthly_totals
from repartition.io.enedis import LoadCurves, read_load_curves
from repartition.io.keyfile import KeyFile, write_dynamic_key
from repartition.io.keyfile import _text as text
from repartition.keys import SharingKey
from repartition.time import PARIS, check_time_zone, select_month
from repartition.to_key import to_dynamic_key

__all__ = ["HOLES", "MonthFiles", "prepare_month", "read_static_coefficients"]

PathLike = str | os.PathLike[str]


HOLES = ("refuse", "zero-consumption", "zero-production", "zero")
"""The policies of :func:`prepare_month` for missing values (``holes=``)."""

HOLE_COLUMNS = ("prm", "role", "start_utc", "start_local", "horodate", "filled_kwh")
"""The columns of :attr:`MonthFiles.filled` and of ``<month>_holes.csv``."""


@dataclass(frozen=True)
class MonthFiles:
    """What :func:`prepare_month` computed and wrote.

    Attributes
    ----------
    month : str
        The local month, ``"YYYY-MM"``.
    allocation : Allocation
        The month's allocation with the chosen key.
    key_file : KeyFile or None
        The dynamic key file that makes the DSO reproduce ``allocation`` (``None`` when no
        operation id was given), with the energy its rounding loses.
    steps, totals : pathlib.Path
        The per-step results (CONS/AUTOCONS/COMPLEMENT, PROD/AUTOPROD/SURPLUS) and the
        monthly totals per member, ``;``-separated CSV.
    holes : pathlib.Path
        ``<month>_holes.csv``: every missing value the ``holes`` policy filled, one line
        per PRM and step (a header alone when none was), so that the folder never keeps
        the report of an earlier run.
    filled : pandas.DataFrame
        The same as a table: ``prm``, ``role``, ``start_utc`` (the step's UTC start),
        ``start_local`` (the same in local time), ``horodate`` (the step's local END, as
        the DSO's export stamps it) and ``filled_kwh`` (what the policy put there: 0).
        Empty when the month was complete. [kWh per step]
    policy : str
        The ``holes`` policy applied.
    """

    month: str
    allocation: Allocation
    key_file: KeyFile | None
    steps: Path
    totals: Path
    holes: Path | None = None
    filled: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=HOLE_COLUMNS))
    policy: str = "refuse"


def read_static_coefficients(path: Readable) -> pd.Series:
    """Read static key coefficients: ``;``-separated, header ``PRM;coefficient``.

    Each line gives a consumer's share of the pooled production as a fraction in [0, 1],
    with a point or a comma as decimal mark (``30000000000001;0,25``). The file is read
    line by line, strictly: UTF-8 text (a byte-order mark is allowed), the header
    ``PRM;coefficient`` (case and spaces around the names aside), then exactly two fields
    per line, a PRM (no spaces or quotes inside) and a plain decimal number (digits, at
    most one ``.`` or ``,``). Spaces around a field are ignored; an empty line, an empty
    file or a header alone is an error. Checking the coefficients against the operation
    (its members, a sum at most 1) is :class:`repartition.keys.Static`'s job.

    Parameters
    ----------
    path : path or file-like
        The file, or a buffer open for reading (``io.BytesIO``, ``io.StringIO``, an open
        file), read from where it stands.

    Returns
    -------
    pandas.Series
        PRM id (string) -> coefficient, in the file's order.

    Raises
    ------
    repartition.errors.EncodingError
        Bytes that are not UTF-8 text (a Windows-1252 file, UTF-16...), naming the line
        and the byte offset.
    repartition.errors.ColumnError
        The header is not ``PRM;coefficient``, or a line has another number of fields.
    repartition.errors.FileFormatError
        An empty file or line, a header alone, an empty or malformed PRM, a coefficient
        that is not a number, or a PRM given twice (both lines named).
    repartition.errors.CoefficientRangeError
        A coefficient above 1 (a percent?), naming its line.

    Examples
    --------
    >>> import io
    >>> read_static_coefficients(io.StringIO("PRM;coefficient\\nA;0,25\\nB;0.5\\n"))
    PRM
    A    0.25
    B    0.50
    Name: coefficient, dtype: float64
    """
    input = _files.source(path, "coefficient file")
    where = input.path
    lines = text.read_lines(input)
    names = [name.strip().lower() for name in lines[0].split(";")]
    if names != ["prm", "coefficient"]:
        raise errors.ColumnError(
            f"{where}, line 1: the header must be 'PRM;coefficient', not {lines[0][:60]!r}.",
            path=where,
            line=1,
            column=lines[0].split(";")[0],
        )
    if len(lines) == 1:
        raise errors.FileFormatError(
            f"{where}, line 1: a header but no coefficient below it.", path=where, line=1
        )
    members: list[str] = []
    values: list[float] = []
    first_line: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        fields = line.split(";")
        if len(fields) != 2:
            raise errors.ColumnError(
                f"{where}, line {number}: {len(fields)} fields where 'PRM;coefficient' has 2 "
                f"({line[:60]!r}).",
                path=where,
                line=number,
            )
        prm, value = (field.strip() for field in fields)
        culprit: dict[str, Any] = {"path": where, "line": number, "member": prm or None}
        if not prm or any(character.isspace() or character in "\"'" for character in prm):
            raise errors.FileFormatError(
                f"{where}, line {number}: the PRM {prm!r} is empty or holds spaces or quotes.",
                **culprit,
            )
        if not _DECIMAL.fullmatch(value):
            raise errors.FileFormatError(
                f"{where}, line {number}: the coefficient of {prm!r} is {value!r}, not a "
                "number (write a fraction such as 0,25).",
                **culprit,
            )
        coefficient = float(value.replace(",", "."))
        if coefficient > 1:
            raise errors.CoefficientRangeError(
                f"{where}, line {number}: the coefficient of {prm!r} is {value}, above 1: "
                f"coefficients are fractions (0,25 for 25 %).",
                **culprit,
            )
        if prm in first_line:
            raise errors.FileFormatError(
                f"{where}, line {number}: {prm!r} is given twice (also on line "
                f"{first_line[prm]}). Keep one line per PRM.",
                **culprit,
            )
        first_line[prm] = number
        members.append(prm)
        values.append(coefficient)
    return pd.Series(values, index=pd.Index(members, name="PRM"), name="coefficient")


_DECIMAL = re.compile(r"[0-9]+(?:[.,][0-9]+)?")
"""A plain decimal number, ASCII digits only (``str.isdigit`` would take any Unicode digit)."""


def prepare_month(
    exports: Readable | Iterable[Readable] | LoadCurves,
    month: str,
    key: SharingKey,
    folder: PathLike,
    *,
    operation: str | None = None,
    rounding: Literal["down", "recover"] = "down",
    holes: Literal["refuse", "zero-consumption", "zero-production", "zero"] = "refuse",
    tz: str = PARIS,
    overwrite: bool = False,
) -> MonthFiles:
    """Allocate one local month of the DSO's load curves and write the PMO's files.

    Parameters
    ----------
    exports
        Enedis load-curve CSV exports (one or several paths or buffers, see
        :func:`repartition.io.read_load_curves`), or curves already read (perhaps
        completed by hand: the data passed is what is checked).
    month
        The local month, ``"YYYY-MM"``.
    key
        Any sharing key, e.g. ``keys.Static(coefficients, redistribute=True)``.
    folder
        Where to write ``<month>_steps.csv``, ``<month>_totals.csv``,
        ``<month>_holes.csv`` and, with an ``operation``, the key file
        ``<operation>_<step>_<first day>_<last day>.txt``.
    operation
        The operation id that names the key file; ``None`` writes no key file.
    rounding
        How the key file rounds (see :func:`repartition.io.write_dynamic_key`).
    holes
        What to do with a missing value (NaN) in the month's curves, checked on the data
        itself. repartition invents nothing unless told:

        - ``"refuse"`` (the default): a hole is a
          :class:`~repartition.errors.MissingValueError`;
        - ``"zero-consumption"``: a consumer's missing step counts as 0 consumption (it
          receives nothing; a producer's hole is still refused);
        - ``"zero-production"``: a producer's missing step counts as 0 production (its
          share of the step is lost to nobody: there is none; a consumer's hole is still
          refused);
        - ``"zero"``: both.

        Every value filled is reported, per PRM and step, in :attr:`MonthFiles.filled`
        and in ``<month>_holes.csv``.
    tz
        The local time of the month and of the files.
    overwrite
        Replace a key file that already exists (the CSV files are always replaced).
        The files appear all together or not at all: if one cannot be written, or the
        run is interrupted, none of them is, and files already there keep their content.

    Returns
    -------
    MonthFiles

    Raises
    ------
    repartition.errors.MissingValueError
        The month's curves have holes that the ``holes`` policy does not fill: how many,
        and the first one (PRM, Horodate in local time, UTC start).
    repartition.errors.EmptyPeriodError
        The exports have no step in that month.
    repartition.errors.ParameterError
        An unknown ``holes`` policy.
    """
    tz = check_time_zone(tz)
    if holes not in HOLES:
        raise errors.ParameterError(
            f"holes must be one of {', '.join(map(repr, HOLES))}, not {holes!r}."
        )
    curves = exports if isinstance(exports, LoadCurves) else read_load_curves(exports, tz=tz)
    consumption = select_month(curves.consumption, month, tz)
    production = select_month(curves.production, month, tz)
    assert isinstance(consumption, pd.DataFrame)
    assert isinstance(production, pd.DataFrame)
    consumption, production, filled = _treat_holes(consumption, production, holes, month, tz)
    allocation = allocate(consumption, production, key)
    folder = Path(folder)
    key_file = None
    with together():  # the month's files appear all together, or none does
        if operation is not None:
            key_file = write_dynamic_key(
                to_dynamic_key(allocation),
                folder,
                operation,
                tz=tz,
                consumption=consumption,
                production=production,
                rounding=rounding,
                overwrite=overwrite,
            )
        steps = write_dso_results(allocation, folder / f"{month}_steps.csv", tz=tz)
        totals = write_monthly_totals(allocation, folder / f"{month}_totals.csv", tz=tz)
        report = _write_holes(filled, folder / f"{month}_holes.csv")
    return MonthFiles(month, allocation, key_file, steps, totals, report, filled, holes)


_FILLS = {
    "refuse": (),
    "zero-consumption": ("consumer",),
    "zero-production": ("producer",),
    "zero": ("consumer", "producer"),
}


def _treat_holes(
    consumption: pd.DataFrame, production: pd.DataFrame, policy: str, month: str, tz: str
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The month's tables with the holes ``policy`` fills set to 0, and the table of them;
    a MissingValueError for the holes it does not fill."""
    tables = {"consumer": consumption, "producer": production}
    missing = {role: np.isnan(table.to_numpy(dtype=np.float64)) for role, table in tables.items()}
    refused = [role for role in tables if missing[role].any() and role not in _FILLS[policy]]
    if refused:
        _refuse_holes(tables, missing, refused, policy, month, tz)
    rows = []
    for role in _FILLS[policy]:
        if missing[role].any():
            table = tables[role]
            tables[role] = table.fillna(0.0)
            member, step = np.nonzero(missing[role].T)  # member-major, as the results
            starts = pd.DatetimeIndex(table.index[step]).tz_convert("UTC")
            rows.append(
                pd.DataFrame(
                    {
                        "prm": np.asarray(table.columns, dtype=object)[member],
                        "role": role,
                        "start_utc": starts,
                        "start_local": starts.tz_convert(tz),
                        "horodate": (starts + _step(table)).tz_convert(tz),
                        "filled_kwh": 0.0,
                    }
                )
            )
    filled = (
        pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=list(HOLE_COLUMNS))
    )
    return tables["consumer"], tables["producer"], filled


def _step(table: pd.DataFrame) -> pd.Timedelta:
    index = pd.DatetimeIndex(table.index)
    if index.freq is not None:
        return pd.Timedelta(index.freq.nanos, unit="ns")
    return pd.Timedelta(index[1] - index[0])


def _refuse_holes(
    tables: dict[str, pd.DataFrame],
    missing: dict[str, np.ndarray],
    refused: list[str],
    policy: str,
    month: str,
    tz: str,
) -> None:
    role = refused[0]
    table, holes = tables[role], missing[role]
    member, step = (int(i) for i in np.argwhere(holes.T)[0])
    run = holes[step:, member]
    length = int(np.argmin(run)) if not run.all() else len(run)
    start = pd.Timestamp(table.index[step]).tz_convert("UTC")
    duration = _step(table)
    first, last = (start + duration).tz_convert(tz), start + duration * length
    sizes = {r: int(missing[r].sum()) for r in refused}
    counts = " and ".join(f"{n:,} {r} value{'s' * (n > 1)}" for r, n in sizes.items())
    fix = {
        "consumer": "holes='zero-consumption' (--holes zero-consumption) counts a missing "
        "consumer step as 0 consumption",
        "producer": "holes='zero-production' (--holes zero-production) counts a missing "
        "producer step as 0 production",
    }
    choices = "; ".join(fix[r] for r in refused) + ("; holes='zero' (--holes zero) does both")
    raise errors.MissingValueError(
        f"{month} ({tz}) has missing values in the curves: {counts}"
        f"{'' if policy == 'refuse' else f' that the policy {policy!r} does not fill'}. "
        f"The first: {role} {table.columns[member]}, {length} step{'s' * (length > 1)} "
        "from Horodate "
        f"{first.isoformat()} to {last.tz_convert(tz).isoformat()} (in UTC, the steps "
        f"starting {start:%Y-%m-%dT%H:%M}Z to {start + duration * (length - 1):%Y-%m-%dT%H:%M}Z"
        "). repartition never invents a value: get the missing "
        f"data from the DSO, choose another month, or choose a policy: {choices}; each "
        "value filled is reported in <month>_holes.csv.",
        member=table.columns[member],
        timestamp=start.tz_convert(tz),
    )


def _write_holes(filled: pd.DataFrame, path: Path) -> Path:
    """``<month>_holes.csv``: ``;``-separated, times in ISO 8601, comma decimals."""
    columns = [
        filled["prm"].astype(str).tolist(),
        filled["role"].astype(str).tolist(),
        [f"{t:%Y-%m-%dT%H:%M:%S}Z" for t in pd.DatetimeIndex(filled["start_utc"])],
        [t.isoformat() for t in pd.DatetimeIndex(filled["start_local"])],
        [t.isoformat() for t in pd.DatetimeIndex(filled["horodate"])],
        [f"{v:.6f}".replace(".", ",") for v in filled["filled_kwh"].to_numpy(np.float64)],
    ]
    lines = [";".join(HOLE_COLUMNS), *(";".join(row) for row in zip(*columns, strict=True))]
    with atomic_file(path) as temporary:
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
