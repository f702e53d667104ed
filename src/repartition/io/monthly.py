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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from repartition import errors
from repartition._atomic import together
from repartition.allocation import Allocation
from repartition.engine import allocate
from repartition.io import _files
from repartition.io._files import Readable
from repartition.io.dso import write_dso_results, write_monthly_totals
from repartition.io.enedis import LoadCurves, read_load_curves
from repartition.io.keyfile import KeyFile, write_dynamic_key
from repartition.io.keyfile import _text as text
from repartition.keys import SharingKey
from repartition.time import PARIS, check_time_zone, month_labels, select_month
from repartition.to_key import to_dynamic_key

__all__ = ["MonthFiles", "prepare_month", "read_static_coefficients"]

PathLike = str | os.PathLike[str]


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
    """

    month: str
    allocation: Allocation
    key_file: KeyFile | None
    steps: Path
    totals: Path


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
    exports: PathLike | Iterable[PathLike] | LoadCurves,
    month: str,
    key: SharingKey,
    folder: PathLike,
    *,
    operation: str | None = None,
    rounding: Literal["down", "recover"] = "down",
    tz: str = PARIS,
    overwrite: bool = False,
) -> MonthFiles:
    """Allocate one local month of the DSO's load curves and write the PMO's files.

    Parameters
    ----------
    exports
        Enedis load-curve CSV exports (one or several paths), or curves already read.
    month
        The local month, ``"YYYY-MM"``.
    key
        Any sharing key, e.g. ``keys.Static(coefficients, redistribute=True)``.
    folder
        Where to write ``<month>_steps.csv``, ``<month>_totals.csv`` and, with an
        ``operation``, the key file ``<operation>_<step>_<first day>_<last day>.txt``.
    operation
        The operation id that names the key file; ``None`` writes no key file.
    rounding
        How the key file rounds (see :func:`repartition.io.write_dynamic_key`).
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
        The exports have holes in that month (how many, and the first one).
    repartition.errors.EmptyPeriodError
        The exports have no step in that month.
    """
    tz = check_time_zone(tz)
    curves = exports if isinstance(exports, LoadCurves) else read_load_curves(exports, tz=tz)
    _refuse_holes(curves, month, tz)
    consumption = select_month(curves.consumption, month, tz)
    production = select_month(curves.production, month, tz)
    assert isinstance(consumption, pd.DataFrame)
    assert isinstance(production, pd.DataFrame)
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
    return MonthFiles(month, allocation, key_file, Path(steps), Path(totals))


def _refuse_holes(curves: LoadCurves, month: str, tz: str) -> None:
    holes = curves.missing
    if holes.empty:
        return
    first = month_labels(pd.DatetimeIndex(holes["first"]), tz)
    last = month_labels(pd.DatetimeIndex(holes["last"]), tz)
    inside = holes[(first <= month) & (last >= month)]
    if inside.empty:
        return
    hole = inside.iloc[0]
    raise errors.MissingValueError(
        f"The exports have {len(inside)} hole(s) in {month}, e.g. {hole['prm']} "
        f"({hole['role']}) from {hole['first']} to {hole['last']} ({hole['steps']} steps). "
        "repartition never invents a value: get the missing data from the DSO, or choose "
        "another month.",
        member=hole["prm"],
        timestamp=hole["first"],
    )
