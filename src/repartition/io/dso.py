"""Per-member results as the DSO reports them (R15 ACC-like), per step and per local month.

The DSO reports, per member and step, CONS, AUTOCONS and COMPLEMENT for a consumer and
PROD, AUTOPROD and SURPLUS for a producer (docs/formats.md, "DSO results"). This module lays an
:class:`~repartition.Allocation` out the same way, so a PMO can check the DSO's figures
line by line, and writes it as the ``;``-separated, comma-decimal CSV a French spreadsheet
opens directly.

Layout: one row per member and step (consumers first, then producers; each member's steps
in time order), with the member id ``prm``, its ``role`` (``consumer`` or ``producer``),
the step start ``start_utc`` and ``start_local``, and six value columns named after the
DSO's terms, of which a row fills the three of its role (the others are empty). Why:

- one row is one member's step as the DSO reports it, so CONS = AUTOCONS + COMPLEMENT (and
  PROD = AUTOPROD + SURPLUS) can be read on the row;
- the column names are the DSO's own, with no mapping table to learn, and a column never
  mixes a consumer's and a producer's energy, so summing a column is always meaningful;
- it has a third of the rows of a one-value-per-row layout: a year at 30 minutes is
  17,520 rows per member, and a spreadsheet stops at 1,048,576 rows (59 members here,
  19 with one value per row).

Number format of the files: energies in kWh with a fixed number of decimals (``decimals``,
6 by default, i.e. 1 mWh, 500 times finer than a meter's 0.5 Wh over 30 minutes), no
thousands separator, ``decimal`` as decimal mark. CONS, AUTOCONS, PROD and AUTOPROD are
rounded to the nearest unit of the last decimal; COMPLEMENT and SURPLUS are written as
the difference of the rounded values, so that every row adds up exactly as written
(each written value is within one unit of the last decimal of the exact one). Rates
are fractions (0.75, not 75 %) with the same decimals. Empty cells are empty.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, overload

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from repartition import errors
from repartition._atomic import atomic_file
from repartition.allocation import Allocation
from repartition.io._files import Writable, check_writable, write_blocks
from repartition.time import PARIS, check_time_zone, local_months

__all__ = [
    "CONSUMER_QUANTITIES",
    "PRODUCER_QUANTITIES",
    "dso_results",
    "monthly_totals",
    "write_dso_results",
    "write_monthly_totals",
]

CONSUMER_QUANTITIES = ("CONS", "AUTOCONS", "COMPLEMENT")
"""Energy drawn; part of it covered by the operation; the rest, from the supplier."""
PRODUCER_QUANTITIES = ("PROD", "AUTOPROD", "SURPLUS")
"""Energy injected; part of it allocated to consumers; the rest."""
_QUANTITIES = CONSUMER_QUANTITIES + PRODUCER_QUANTITIES
_RATES = ("self_sufficiency_rate", "self_consumption_rate")
_BLOCK_ROWS = 1_000_000  # rows formatted at a time by write_dso_results


def _tables(allocation: Allocation) -> list[tuple[str, pd.Index, list[np.ndarray]]]:
    """Per role: the member ids and the three (steps, members) arrays of its quantities."""
    arrays = allocation.arrays
    return [
        (
            "consumer",
            allocation.consumers,
            [np.asarray(arrays.consumption), arrays.allocated, arrays.grid_supply],
        ),
        (
            "producer",
            allocation.producers,
            [arrays.production, arrays.self_consumed, arrays.surplus],
        ),
    ]


def _rows(
    allocation: Allocation, totals: list[list[np.ndarray]]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Stack per-role (periods, members) arrays as rows: member-major, periods inside."""
    members: list[np.ndarray] = []
    roles: list[np.ndarray] = []
    values: dict[str, list[np.ndarray]] = {name: [] for name in _QUANTITIES}
    for (role, ids, _), tables in zip(_tables(allocation), totals, strict=True):
        periods = tables[0].shape[0]
        members.append(np.repeat(np.asarray(ids, dtype=object), periods))
        roles.append(np.full(periods * len(ids), role, dtype=object))
        names = CONSUMER_QUANTITIES if role == "consumer" else PRODUCER_QUANTITIES
        for name in _QUANTITIES:
            if name in names:
                table = tables[names.index(name)]
                values[name].append(np.asarray(table, dtype=np.float64).T.ravel())
            else:
                values[name].append(np.full(periods * len(ids), np.nan))
    stacked = {name: np.concatenate(parts) for name, parts in values.items()}
    return np.concatenate(members), np.concatenate(roles), stacked


def dso_results(allocation: Allocation, *, tz: str = PARIS) -> pd.DataFrame:
    """Per member and step, the DSO's quantities (layout in the module docstring).

    Parameters
    ----------
    allocation
        The result of :func:`repartition.allocate`.
    tz
        The time zone of ``start_local``.

    Returns
    -------
    pandas.DataFrame
        Columns ``prm``, ``role`` (``consumer`` or ``producer``), ``start_utc`` (step start,
        UTC), ``start_local`` (the same instant in ``tz``), then CONS, AUTOCONS, COMPLEMENT
        (consumers; NaN for producers) and PROD, AUTOPROD, SURPLUS (producers; NaN for
        consumers). [kWh per step]. CONS and PROD are the allocation's inputs; AUTOCONS =
        ``allocation.allocated``, COMPLEMENT = ``allocation.grid_supply``, AUTOPROD =
        ``allocation.self_consumed``, SURPLUS = ``allocation.surplus``, unrounded.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> index = pd.date_range("2025-01-31 22:00", periods=2, freq="30min", tz="UTC")
    >>> consumption = pd.DataFrame({"A": [1.0, 2.0]}, index=index)
    >>> production = pd.Series([0.5, 3.0], index=index, name="PV")
    >>> table = dso_results(allocate(consumption, production, keys.Prorata()))
    >>> table[["prm", "start_local", "CONS", "AUTOCONS", "COMPLEMENT", "PROD", "SURPLUS"]]
      prm               start_local  CONS  AUTOCONS  COMPLEMENT  PROD  SURPLUS
    0   A 2025-01-31 23:00:00+01:00   1.0       0.5         0.5   NaN      NaN
    1   A 2025-01-31 23:30:00+01:00   2.0       2.0         0.0   NaN      NaN
    2  PV 2025-01-31 23:00:00+01:00   NaN       NaN         NaN   0.5      0.0
    3  PV 2025-01-31 23:30:00+01:00   NaN       NaN         NaN   3.0      1.0
    """
    tz = check_time_zone(tz)
    members, roles, values = _rows(allocation, [tables for *_, tables in _tables(allocation)])
    index = allocation.index.tz_convert("UTC")
    repeats = len(allocation.consumers) + len(allocation.producers)
    starts = index[np.tile(np.arange(len(index)), repeats)]
    return pd.DataFrame(
        {
            "prm": members,
            "role": roles,
            "start_utc": starts,
            "start_local": starts.tz_convert(tz),
            **values,
        }
    )


def monthly_totals(allocation: Allocation, *, tz: str = PARIS) -> pd.DataFrame:
    """Per member and local month, the DSO's quantities summed, and the member's rate.

    Months are calendar months in ``tz`` (:func:`repartition.time.local_months`): a
    step belongs to the month in which it starts, in local time.

    Returns
    -------
    pandas.DataFrame
        One row per month and member (months in time order; consumers, then producers):
        ``month`` (``"YYYY-MM"``), ``prm``, ``role``, ``steps`` (steps of the month in the
        allocation), CONS, AUTOCONS, COMPLEMENT, PROD, AUTOPROD, SURPLUS [kWh per month]
        (NaN for the other role) and two rates (fractions):

        - ``self_sufficiency_rate = AUTOCONS / CONS`` for consumers (*taux
          d'autoproduction*: the share of the consumption covered by the operation);
        - ``self_consumption_rate = AUTOPROD / PROD`` for producers (*taux
          d'autoconsommation*: the share of the production used in the operation).

        A rate is NaN when its denominator is 0 (nothing drawn or injected that month)
        and for the other role.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> index = pd.date_range("2025-01-31 22:00", periods=4, freq="30min", tz="UTC")
    >>> consumption = pd.DataFrame({"A": [1.0, 2.0, 0.0, 1.0]}, index=index)
    >>> production = pd.Series([0.5, 3.0, 0.0, 0.0], index=index, name="PV")
    >>> totals = monthly_totals(allocate(consumption, production, keys.Prorata()))
    >>> totals[["month", "prm", "CONS", "AUTOCONS", "self_sufficiency_rate", "PROD"]]
         month prm  CONS  AUTOCONS  self_sufficiency_rate  PROD
    0  2025-01   A   3.0       2.5               0.833333   NaN
    1  2025-01  PV   NaN       NaN                    NaN   3.5
    2  2025-02   A   1.0       0.0               0.000000   NaN
    3  2025-02  PV   NaN       NaN                    NaN   0.0
    """
    tz = check_time_zone(tz)
    months = local_months(allocation.index, tz)
    starts = np.array([part.start for _, part in months], dtype=np.intp)
    sums = [
        [np.add.reduceat(np.asarray(table, dtype=np.float64), starts, axis=0) for table in tables]
        for *_, tables in _tables(allocation)
    ]
    members, roles, values = _rows(allocation, sums)
    count = len(months)
    month = np.tile(np.array([label for label, _ in months], dtype=object), len(members) // count)
    steps = np.tile([part.stop - part.start for _, part in months], len(members) // count)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = {
            "self_sufficiency_rate": _ratio(values["AUTOCONS"], values["CONS"]),
            "self_consumption_rate": _ratio(values["AUTOPROD"], values["PROD"]),
        }
    table = pd.DataFrame(
        {"month": month, "prm": members, "role": roles, "steps": steps, **values, **rates}
    )
    # Month-major: every member of a month together, members in the allocation's order.
    order = np.lexsort((np.arange(len(table)), month.astype(str)))
    return table.iloc[order].reset_index(drop=True)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    return np.where(denominator > 0, numerator / denominator, np.nan)


@overload
def write_dso_results(
    allocation: Allocation,
    path: str | os.PathLike[str],
    *,
    tz: str = ...,
    decimal: str = ...,
    decimals: int = ...,
) -> Path: ...
@overload
def write_dso_results(
    allocation: Allocation,
    path: IO[bytes] | IO[str],
    *,
    tz: str = ...,
    decimal: str = ...,
    decimals: int = ...,
) -> None: ...
def write_dso_results(
    allocation: Allocation,
    path: Writable,
    *,
    tz: str = PARIS,
    decimal: str = ",",
    decimals: int = 6,
) -> Path | None:
    """Write :func:`dso_results` as a ``;``-separated CSV, atomically.

    Every value is checked before anything is written (see Raises).

    Parameters
    ----------
    allocation
        The result of :func:`repartition.allocate`.
    path
        The file to write; written under a temporary name and renamed, so an interrupted
        write leaves no partial file (an existing file keeps its content). Or a writable
        buffer: ``io.BytesIO`` (UTF-8 bytes), ``io.StringIO`` (text), an open file; it
        receives the rows only once every value is checked.
    tz
        The time zone of ``start_local``.
    decimal
        The decimal mark: ``","`` (French spreadsheets, default) or ``"."``.
    decimals
        Decimals of the energies [kWh] (see the module docstring for the rounding).

    Returns
    -------
    pathlib.Path or None
        The file written (``None`` for a buffer). Timestamps are ISO 8601:
        ``start_local`` with its UTC offset (``2025-10-26T02:00:00+02:00``), ``start_utc``
        ending in ``Z``. Read it back with
        ``pandas.read_csv(path, sep=";", decimal=",", dtype={"prm": str})``.

    Raises
    ------
    repartition.errors.MissingValueError, repartition.errors.NonFiniteError
        A NaN or infinite energy.
    repartition.errors.NegativeEnergyError
        A negative energy, or an AUTOCONS above CONS (AUTOPROD above PROD) as written:
        its COMPLEMENT (SURPLUS) would be negative.
    repartition.errors.ValueRangeError
        An energy too large to write exactly with ``decimals`` decimals: above 2**53
        (9.0e15) units of the last one, 9.0e9 kWh at 6 decimals, where float64 no longer
        holds every whole number.

    Each error names the member, the quantity and the step (its local start, as in
    ``start_local``, with UTC beside).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> index = pd.date_range("2025-01-31 22:00", periods=1, freq="30min", tz="UTC")
    >>> consumption = pd.DataFrame({"A": [1.0]}, index=index)
    >>> production = pd.Series([0.3], index=index, name="PV")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "results.csv"
    >>> _ = write_dso_results(allocate(consumption, production, keys.Prorata()), path)
    >>> print(path.read_text())
    prm;role;start_utc;start_local;CONS;AUTOCONS;COMPLEMENT;PROD;AUTOPROD;SURPLUS
    A;consumer;2025-01-31T22:00:00Z;2025-01-31T23:00:00+01:00;1,000000;0,300000;0,700000;;;
    PV;producer;2025-01-31T22:00:00Z;2025-01-31T23:00:00+01:00;;;;0,300000;0,300000;0,000000
    <BLANKLINE>
    """
    tz = check_time_zone(tz)
    _check_format(allocation, decimal, decimals)
    check_writable(path, "path")
    _check_steps(allocation, decimals, tz)
    header = ["prm", "role", "start_utc", "start_local", *_QUANTITIES]
    return _write(path, header, _result_blocks(allocation, tz, decimal, decimals))


_MAX_UNITS = float(2**53)
"""The most units of the last decimal written: beyond 2**53 (9.0e15), float64 no longer
holds every whole number, so the last digits written would be wrong (and beyond 9.2e18
the int64 that formats them wraps around)."""
_ERRORS = {
    "nan": (errors.MissingValueError, "NaN: the allocation has no value there"),
    "inf": (errors.NonFiniteError, "infinite"),
    "negative": (errors.NegativeEnergyError, "negative: energies are counted >= 0"),
    "large": (
        errors.ValueRangeError,
        "too large to be written exactly with {decimals} decimals (at most 2**53 units of "
        "the last one: {limit:.3g} kWh): no meter counts so much, check the data (or "
        "write fewer decimals)",
    ),
}


def _check_steps(allocation: Allocation, decimals: int, tz: str) -> None:
    """Every energy :func:`write_dso_results` writes, checked as written (see Raises)."""
    index = allocation.index
    for role, ids, tables in _tables(allocation):
        names = CONSUMER_QUANTITIES if role == "consumer" else PRODUCER_QUANTITIES
        size = max(1, _BLOCK_ROWS // max(len(index), 1))
        for first in range(0, len(ids), size):
            part = slice(first, first + size)
            found = _first_bad([np.asarray(t[:, part], np.float64) for t in tables], decimals)
            if found is not None:
                step, member, quantity, kind, value = found
                when = pd.Timestamp(index[step])
                where = (
                    f"{names[quantity]} of {role} {ids[first + member]!r} for the step "
                    f"starting {when.tz_convert(tz).isoformat()} (local time; "
                    f"{when.tz_convert('UTC'):%Y-%m-%dT%H:%M:%S}Z)"
                )
                _refuse(kind, where, value, decimals, ids[first + member], when.tz_convert(tz))


def _first_bad(tables: list[np.ndarray], decimals: int) -> tuple[int, int, int, str, float] | None:
    """The first (in file order: member, then row) bad value of one role's three (rows,
    members) quantities: (row, member, quantity, kind, value), ``None`` if all are good.

    The first two quantities are written rounded, the third as their difference, which
    must not be negative (the second may not exceed the first as written).
    """
    scale = 10.0**decimals
    found: list[tuple[int, int, int, str, float]] = []
    for number, values in enumerate(tables):
        checks = [("nan", np.isnan(values)), ("inf", np.isinf(values))]
        if number < 2:
            checks += [("negative", values < -0.5 / scale), ("large", values > _MAX_UNITS / scale)]
        for kind, bad in checks:
            if bad.any():
                member, row = (int(i) for i in np.argwhere(bad.T)[0])
                found.append((row, member, number, kind, float(values[row, member])))
    if not found:
        rest = np.rint(tables[0] * scale) - np.rint(tables[1] * scale)
        bad = rest < 0
        if bad.any():
            member, row = (int(i) for i in np.argwhere(bad.T)[0])
            found.append((row, member, 2, "negative", float(rest[row, member] / scale)))
    if not found:
        return None
    return min(found, key=lambda item: (item[1], item[0], item[2]))


def _refuse(
    kind: str, where: str, value: float, decimals: int, member: object, when: object
) -> None:
    cls, why = _ERRORS[kind]
    why = why.format(decimals=decimals, limit=_MAX_UNITS / 10.0**decimals)
    raise cls(
        f"Not written: {where} is {value!r}, {why}. Nothing was written.",
        member=member,
        timestamp=when,
    )


def _result_blocks(
    allocation: Allocation, tz: str, decimal: str, decimals: int
) -> Iterator[pa.Table]:
    """The rows of :func:`write_dso_results` as text, a few members at a time."""
    index = allocation.index.tz_convert("UTC")
    steps = len(index)
    times = {
        "start_utc": pa.array([f"{t:%Y-%m-%dT%H:%M:%S}Z" for t in index]),
        "start_local": pa.array([t.isoformat() for t in index.tz_convert(tz)]),
    }
    size = max(1, _BLOCK_ROWS // steps)
    for role, ids, tables in _tables(allocation):
        names = CONSUMER_QUANTITIES if role == "consumer" else PRODUCER_QUANTITIES
        for first in range(0, len(ids), size):
            part = slice(first, first + size)
            members = len(ids[part])
            rows = members * steps
            values = {n: t[:, part].T.ravel() for n, t in zip(names, tables, strict=True)}
            text = _energy_text(values, decimals, decimal)
            position = pa.array(np.tile(np.arange(steps, dtype=np.int32), members))
            member = pa.array(np.repeat(np.arange(members, dtype=np.int32), steps))
            yield pa.table(
                {
                    "prm": pa.DictionaryArray.from_arrays(member, [str(i) for i in ids[part]]),
                    "role": pa.DictionaryArray.from_arrays(
                        pa.array(np.zeros(rows, np.int32)), [role]
                    ),
                    **{
                        name: pa.DictionaryArray.from_arrays(position, labels)
                        for name, labels in times.items()
                    },
                    **{n: text.get(n, pa.nulls(rows, pa.string())) for n in _QUANTITIES},
                }
            )


@overload
def write_monthly_totals(
    allocation: Allocation,
    path: str | os.PathLike[str],
    *,
    tz: str = ...,
    decimal: str = ...,
    decimals: int = ...,
) -> Path: ...
@overload
def write_monthly_totals(
    allocation: Allocation,
    path: IO[bytes] | IO[str],
    *,
    tz: str = ...,
    decimal: str = ...,
    decimals: int = ...,
) -> None: ...
def write_monthly_totals(
    allocation: Allocation,
    path: Writable,
    *,
    tz: str = PARIS,
    decimal: str = ",",
    decimals: int = 6,
) -> Path | None:
    """Write :func:`monthly_totals` as a ``;``-separated CSV, atomically.

    Same parameters, number format, destinations (a path or a writable buffer) and
    checks as :func:`write_dso_results`, on the monthly sums: an error names the member
    and the local month (a sum of finite energies may still overflow to infinity). The
    rates are fractions written with ``decimals`` decimals.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> index = pd.date_range("2025-01-31 22:00", periods=1, freq="30min", tz="UTC")
    >>> consumption = pd.DataFrame({"A": [1.0]}, index=index)
    >>> production = pd.Series([0.3], index=index, name="PV")
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "monthly.csv"
    >>> _ = write_monthly_totals(allocate(consumption, production, keys.Prorata()), path)
    >>> print(path.read_text().splitlines()[1])
    2025-01;A;consumer;1;1,000000;0,300000;0,700000;;;;0,300000;
    """
    tz = check_time_zone(tz)
    _check_format(allocation, decimal, decimals)
    check_writable(path, "path")
    with np.errstate(over="ignore"):  # a sum that overflows is refused just below
        table = monthly_totals(allocation, tz=tz)
    _check_totals(table, decimals)
    columns = {
        "month": pa.array(table["month"].to_numpy(dtype=str)),
        "prm": pa.array(table["prm"].astype(str).to_numpy(dtype=str)),
        "role": pa.array(table["role"].to_numpy(dtype=str)),
        "steps": pa.array(table["steps"].to_numpy(dtype=np.int64)),
        **_energy_text({name: table[name].to_numpy() for name in _QUANTITIES}, decimals, decimal),
    }
    for name in _RATES:
        columns[name] = _fixed(_units(table[name].to_numpy(), decimals), decimals, decimal)
    return _write(path, list(columns), [pa.table(columns)])


def _check_totals(table: pd.DataFrame, decimals: int) -> None:
    """The monthly sums :func:`write_monthly_totals` writes, checked as written."""
    for role, names in (("consumer", CONSUMER_QUANTITIES), ("producer", PRODUCER_QUANTITIES)):
        mine = (table["role"] == role).to_numpy()
        if not mine.any():
            continue
        rows = table.loc[mine]
        found = _first_bad([rows[[name]].to_numpy(np.float64) for name in names], decimals)
        if found is not None:
            row, _, quantity, kind, value = found
            month, member = rows["month"].iloc[row], rows["prm"].iloc[row]
            where = f"the {month} total of {names[quantity]} of {role} {member!r}"
            _refuse(kind, where, value, decimals, member, month)


def _check_format(allocation: Allocation, decimal: str, decimals: int) -> None:
    if decimal not in (",", "."):
        raise errors.ParameterError(f"decimal must be ',' or '.', not {decimal!r}.")
    if not 0 <= decimals <= 9:
        raise errors.ParameterError(f"decimals must be between 0 and 9, not {decimals!r}.")
    for member in (*allocation.consumers, *allocation.producers):
        if any(character in str(member) for character in ';"\r\n'):
            raise errors.FileFormatError(
                f"The member id {member!r} contains a ';', a quote or a line break, which the "
                "CSV file cannot hold unquoted. Rename the member.",
                member=member,
            )


def _units(values: np.ndarray, decimals: int) -> np.ndarray:
    """``values`` in units of the last decimal, rounded half to even (NaN stays NaN)."""
    return np.rint(np.asarray(values, dtype=np.float64) * 10.0**decimals)


def _energy_text(values: dict[str, np.ndarray], decimals: int, decimal: str) -> dict[str, pa.Array]:
    """Energy columns as text; COMPLEMENT and SURPLUS as differences of rounded values.

    ``values`` holds the three quantities of one role, or all six.
    """
    units = {name: _units(value, decimals) for name, value in values.items()}
    for total, shared, rest in (CONSUMER_QUANTITIES, PRODUCER_QUANTITIES):
        if rest in units:
            units[rest] = units[total] - units[shared]
    return {name: _fixed(value, decimals, decimal) for name, value in units.items()}


def _fixed(units: np.ndarray, decimals: int, decimal: str) -> pa.Array:
    """Integers counting units of the last decimal, as fixed-point text; NaN -> empty."""
    missing = np.isnan(units)
    whole_units = np.where(missing, 0, units).astype(np.int64)
    magnitude = np.abs(whole_units)
    scale = 10**decimals
    text = pc.cast(pa.array(magnitude // scale), pa.string())
    if decimals:
        fraction = pc.utf8_lpad(pc.cast(pa.array(magnitude % scale), pa.string()), decimals, "0")
        text = pc.binary_join_element_wise(text, fraction, decimal)
    text = pc.if_else(pa.array(whole_units < 0), pc.binary_join_element_wise("-", text, ""), text)
    return pc.if_else(pa.array(missing), pa.scalar(None, pa.string()), text)


def _write(path: Writable, header: list[str], blocks: Iterable[pa.Table]) -> Path | None:
    """Write the header, then each block's table, to a temporary file renamed onto ``path``
    (or to a writable buffer)."""
    options = pacsv.WriteOptions(include_header=False, delimiter=";", quoting_style="none")
    first = (";".join(header) + "\n").encode("utf-8")
    if not isinstance(path, (str, os.PathLike)):
        write_blocks(path, itertools.chain([first], (_csv_bytes(b, options) for b in blocks)))
        return None
    destination = Path(path)
    with atomic_file(destination) as temporary, pa.OSFile(str(temporary), "wb") as sink:
        sink.write(first)
        for block in blocks:
            pacsv.write_csv(block, sink, options)
    return destination


def _csv_bytes(block: pa.Table, options: pacsv.WriteOptions) -> bytes:
    sink = pa.BufferOutputStream()
    pacsv.write_csv(block, sink, options)
    return bytes(sink.getvalue().to_pybytes())
