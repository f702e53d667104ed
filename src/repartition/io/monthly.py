"""A PMO's month in one call: DSO exports in, key file, per-step results and totals out.

This strings together :func:`~repartition.io.read_load_curves`,
:func:`~repartition.time.select_month`, :func:`repartition.allocate`,
:func:`repartition.to_dynamic_key`, :func:`~repartition.io.write_dynamic_key`,
:func:`~repartition.io.write_dso_results` and :func:`~repartition.io.write_monthly_totals`;
``repartition month`` is its console form. docs/io.md walks through the same steps one by one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from repartition import errors
from repartition._atomic import together
from repartition.allocation import Allocation
from repartition.engine import allocate
from repartition.io.dso import write_dso_results, write_monthly_totals
from repartition.io.enedis import LoadCurves, read_load_curves
from repartition.io.keyfile import KeyFile, write_dynamic_key
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


def read_static_coefficients(path: PathLike) -> pd.Series:
    """Read static key coefficients: ``;``-separated, header ``PRM;coefficient``.

    Each line gives a consumer's share of the pooled production as a fraction in [0, 1],
    with a point or a comma as decimal mark (``30000000000001;0,25``). Checking the values
    against the operation is :class:`repartition.keys.Static`'s job.

    Returns
    -------
    pandas.Series
        PRM id (string) -> coefficient.

    Raises
    ------
    repartition.errors.ColumnError
        The header is not ``PRM;coefficient``.
    repartition.errors.FileFormatError
        A coefficient that is not a number (naming the line), or a PRM given twice.
    """
    table = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8-sig")
    names = [str(column).strip().lower() for column in table.columns]
    if names != ["prm", "coefficient"]:
        raise errors.ColumnError(
            f"{path}: the header must be 'PRM;coefficient', not {';'.join(table.columns)!r}.",
            path=path,
            line=1,
        )
    prm = table.iloc[:, 0].str.strip()
    text = table.iloc[:, 1].str.strip().str.replace(",", ".", regex=False)
    values = pd.to_numeric(text, errors="coerce")
    bad = values.isna().to_numpy().nonzero()[0]
    if len(bad):
        row = int(bad[0])
        raise errors.FileFormatError(
            f"{path}, line {row + 2}: the coefficient of {prm.iloc[row]!r} is "
            f"{table.iloc[row, 1]!r}, not a number (write a fraction such as 0,25).",
            path=path,
            line=row + 2,
            member=prm.iloc[row],
        )
    repeated = prm.duplicated().to_numpy().nonzero()[0]
    if len(repeated):
        row = int(repeated[0])
        raise errors.FileFormatError(
            f"{path}, line {row + 2}: {prm.iloc[row]!r} is given twice.",
            path=path,
            line=row + 2,
            member=prm.iloc[row],
        )
    return pd.Series(values.to_numpy(), index=pd.Index(prm, name="PRM"), name="coefficient")


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
