"""The input boundary: tables in, checked C-contiguous float64 arrays out.

Every check on energies and time axes happens here, once, before any kernel runs; the
errors name the table, the member (column) and the timestamp at fault. Nothing here
modifies its input: arrays handed on are either views of the caller's read-only data
or fresh copies.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition.kernels import checks
from repartition.kernels.layout import contiguous, is_by_member, read_only
from repartition.kernels.members import CHUNKS
from repartition.problem import Axis
from repartition.time import check_time_index

__all__ = [
    "as_frame",
    "check_energy_values",
    "check_members",
    "check_same_steps",
    "check_time_index",
    "energy_array",
    "first_cell",
    "frame_values",
    "is_number",
]

Array = NDArray[np.float64]


def _describe(table: str, member: Hashable, axis: Axis, row: int) -> str:
    return f"{table} of {member!r} at {axis.step_name(row)}"


def first_cell(
    position: int, values: Array, is_bad: Callable[[Array], NDArray[np.bool_]]
) -> tuple[int, int]:
    """(row, column) of the earliest bad value, given a scan's first ``position`` in memory
    order and the test ``is_bad`` it applied.

    For row-major arrays memory order is time order; for member-major ones the scan's
    first hit may be a later step of an earlier member, so the mask decides (this only runs
    when the input is already known to be wrong).
    """
    if values.ndim == 1:
        return 0, position
    if is_by_member(values):
        with np.errstate(invalid="ignore"):
            bad = is_bad(values)
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        return row, int(np.flatnonzero(bad[row])[0])
    row, column = divmod(position, values.shape[1])
    return row, column


def _is_bad_energy(values: Array) -> NDArray[np.bool_]:
    bad: NDArray[np.bool_] = ~(values >= 0.0) | (values == np.inf)
    return bad


def check_energy_values(values: Array, table: str, members: pd.Index, axis: Axis) -> Array | None:
    """Raise the error of the first NaN, infinite or negative value of ``values``.

    For member-major data the scan also sums each step over the members on the way, and
    returns these totals [kWh] (``None`` otherwise): the kernels that need them are then
    spared a second read of the data.
    """
    totals = None
    large = False
    if is_by_member(values):
        position, totals = checks.first_invalid_energy_by_member(values.T, CHUNKS)
    else:
        # No row sum can overflow while each value is at most float max / members: values
        # above that (finite, absurd as energies) are flagged by the same read, and only
        # then are the sums taken.
        limit = np.finfo(np.float64).max / max(1, values.shape[-1])
        position, large = checks.first_invalid_energy(values, limit)
    if position < 0:
        if totals is not None:
            check_sums_are_finite(totals, table, axis)
        elif large or table == "production":  # production is small: its sums cost nothing
            with np.errstate(over="ignore"):  # an overflow is the error raised next
                sums = values.sum(axis=1)
            check_sums_are_finite(sums, table, axis)
        return totals
    row, column = first_cell(int(position), values, _is_bad_energy)
    member = members[column]
    value = values[row, column]
    where = _describe(table, member, axis, row)
    culprit = {"column": member, "member": member, "timestamp": axis.timestamp(row)}
    if np.isnan(value):
        raise errors.MissingValueError(
            f"{where} is missing (NaN). repartition never invents energy: fill the gap "
            "from the meter data, or leave the step out of the period.",
            **culprit,
        )
    if np.isinf(value):
        raise errors.NonFiniteError(
            f"{where} is {value}. Energies must be finite kWh per step.", **culprit
        )
    raise errors.NegativeEnergyError(
        f"{where} is negative ({value} kWh). Consumption and production are both counted "
        "as energies >= 0; a meter's injection belongs in `production`, not as a negative "
        "consumption.",
        **culprit,
    )


def check_sums_are_finite(totals: Array, table: str, axis: Axis) -> None:
    """Raise when the per-step sum of finite energies overflows float64 (above 1.8e308 kWh):
    every kernel relies on those sums, which would silently turn into infinity."""
    bad = ~np.isfinite(totals)
    if not bad.any():
        return
    row = int(np.argmax(bad))
    raise errors.NonFiniteError(
        f"The {table} summed over the members at {axis.step_name(row)} overflows (above "
        f"{np.finfo(np.float64).max:.3g} kWh), although each value is finite: no allocation "
        "can be computed from it. Check the unit of the data (kWh per step).",
        timestamp=axis.timestamp(row),
    )


def check_members(members: pd.Index, table: str) -> None:
    if len(members) == 0:
        raise errors.NoMembersError(
            f"{table} has no column: give at least one "
            f"{'consumer' if table == 'consumption' else 'producer'}."
        )
    duplicated = members[members.duplicated()]
    if len(duplicated):
        raise errors.DuplicateMemberError(
            f"{table} has two columns named {duplicated[0]!r}: each member must appear once.",
            column=duplicated[0],
            member=duplicated[0],
        )


def as_frame(frame: pd.DataFrame | pd.Series, table: str) -> pd.DataFrame:
    """A consumption or production table as a DataFrame.

    A ``Series`` is a single member, named by the series' name (``table`` if unnamed).
    """
    if isinstance(frame, pd.Series):
        name = frame.name if frame.name is not None else table
        frame = frame.to_frame(name=name)
    if not isinstance(frame, pd.DataFrame):
        raise errors.ParameterTypeError(
            f"{table} must be a pandas DataFrame or Series, not {type(frame).__name__}."
        )
    return frame


def is_number(dtype: Any) -> bool:
    """Real numbers: not booleans, not complex, not strings or objects."""
    return bool(
        pd.api.types.is_numeric_dtype(dtype)
        and not pd.api.types.is_bool_dtype(dtype)
        and not pd.api.types.is_complex_dtype(dtype)
    )


def frame_values(frame: pd.DataFrame, table: str) -> Array:
    """Check the members and dtypes of ``frame``; its values as float64 (steps, members).

    The result is a view of the frame's data where it is contiguous (pandas usually stores
    it member by member: the array is then column-major), otherwise a row-major copy. It is
    never written to, and read-only (:func:`repartition.kernels.layout.read_only`).
    """
    check_members(frame.columns, table)
    dtypes = frame.dtypes
    if not all(is_number(dtype) for dtype in set(dtypes)):  # a frame has few distinct dtypes
        member, dtype = next((m, d) for m, d in dtypes.items() if not is_number(d))
        raise errors.NonNumericError(
            f"{table} column {member!r} has dtype {dtype}, not numbers. Convert it, e.g. "
            f"`frame[{member!r}] = pd.to_numeric(frame[{member!r}])` (kWh per step).",
            column=member,
            member=member,
        )
    return read_only(contiguous(frame.to_numpy(dtype=np.float64, na_value=np.nan)))


def energy_array(values: Any, table: str, rows: int | None = None) -> Array:
    """Check a plain array of energies (steps, members); return it as contiguous, read-only
    float64."""
    array = np.asarray(values)
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise errors.DataError(f"{table} must be a 2-D array (steps, members), not {array.ndim}-D.")
    if not is_number(array.dtype):
        raise errors.NonNumericError(f"{table} has dtype {array.dtype}, not numbers.")
    if array.shape[0] == 0:
        raise errors.EmptyPeriodError(f"{table} has no step: the period is empty.")
    if array.shape[1] == 0:
        raise errors.NoMembersError(f"{table} has no column.")
    if rows is not None and array.shape[0] != rows:
        raise errors.IndexMismatchError(
            f"{table} has {array.shape[0]} steps where consumption has {rows}."
        )
    return read_only(contiguous(np.asarray(array, dtype=np.float64)))


def check_same_steps(index: pd.DatetimeIndex, other: pd.Index, table: str) -> None:
    """Raise unless ``other`` holds exactly the steps of ``index`` (same instants, same order)."""
    if len(index) == len(other) and bool((index == other).all()):
        return
    missing = index.difference(pd.DatetimeIndex(other))
    extra = other.difference(index)
    culprit = missing[0] if len(missing) else (extra[0] if len(extra) else None)
    detail = (
        f"consumption has {missing[0]} but {table} does not"
        if len(missing)
        else f"{table} has {extra[0]}, which consumption does not"
        if len(extra)
        else "the steps are in another order"
    )
    raise errors.IndexMismatchError(
        f"consumption and {table} are not on the same steps: {detail}. Align them first, "
        f"e.g. `{table}.reindex(consumption.index)` once the gap is understood.",
        timestamp=culprit,
    )
