"""Labelled parameters in: matched to the members and steps of the data, checked, as arrays.

The one home of the rules every labelled parameter follows, whoever reads it (keys, tariffs,
key files): ids matched one to one with the data's members (:func:`check_ids`), one value
per member (:func:`member_values`, :func:`member_vector`), tables per step
(:func:`step_table`), and shares summing to at most 1, or exactly 1 (:func:`check_sums`,
within :data:`SUM_TOLERANCE`). Errors name the parameter, the member and the step at fault.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._inputs import first_cell, is_number
from repartition.kernels import checks
from repartition.kernels.layout import contiguous, is_by_member, memory_order, read_only
from repartition.problem import Array, Axis
from repartition.time import check_time_index

SUM_TOLERANCE = 1e-9
"""How far above 1 a sum of coefficients may go before it is an error (absorbs rounding)."""


def check_ids(
    given: pd.Index,
    known: pd.Index,
    key: str,
    role: str,
    *,
    noun: str = "coefficient",
    default: str = "0 for one that receives nothing",
) -> None:
    """Raise unless ``given`` names each of the ``known`` members exactly once.

    Parameters
    ----------
    given : pandas.Index
        The ids a parameter is labelled with.
    known : pandas.Index
        The data's ids.
    key : str
        The parameter, as errors name it (e.g. ``"Static"``).
    role : str
        ``"consumer"`` or ``"producer"``.
    noun : str, default "coefficient"
        What the parameter gives each member (``"price"`` for tariffs).
    default : str
        What to give a member that needs none, for the message.

    Raises
    ------
    repartition.errors.DuplicateMemberError, UnknownMemberError, MissingMemberError
        Naming the first id given twice, given but unknown, or known but not given.
    """
    duplicated = given[given.duplicated()]
    if len(duplicated):
        raise errors.DuplicateMemberError(
            f"{key} names {role} {duplicated[0]!r} twice.",
            member=duplicated[0],
            column=duplicated[0],
        )
    unknown = given.difference(known, sort=False)
    if len(unknown):
        raise errors.UnknownMemberError(
            f"{key} has a {noun} for {role} {unknown[0]!r}, which the data does not "
            f"have (known {role}s: {_preview(known)}). Check the id, or add its column.",
            member=unknown[0],
            column=unknown[0],
        )
    missing = known.difference(given, sort=False)
    if len(missing):
        raise errors.MissingMemberError(
            f"{key} has no {noun} for {role} {missing[0]!r}. Give every {role} of the "
            f"data a {noun} ({default}).",
            member=missing[0],
            column=missing[0],
        )


def _preview(ids: pd.Index, most: int = 5) -> str:
    shown = ", ".join(repr(member) for member in ids[:most])
    return shown + (f", ... ({len(ids)} in all)" if len(ids) > most else "")


def _is_out_of_range(values: Array) -> NDArray[np.bool_]:
    return (values < 0.0) | (values > 1.0)


def _check_range(values: Array, key: str, members: pd.Index, axis: Axis | None) -> None:
    position = int(checks.first_invalid_coefficient(read_only(memory_order(values))))
    if position < 0:
        return
    row, column = first_cell(position, values, _is_out_of_range)
    member = members[column]
    where = f" at {axis.step_name(row)}" if axis is not None and values.ndim == 2 else ""
    value = values[row, column] if values.ndim == 2 else values[column]
    raise errors.CoefficientRangeError(
        f"{key} coefficient of {member!r}{where} is {value}, "
        "outside [0, 1]. Coefficients are shares of production: 0.25 means 25 %.",
        member=member,
        column=member,
        timestamp=axis.timestamp(row) if axis is not None and values.ndim == 2 else None,
    )


def _check_numbers(series: pd.Series, key: str) -> None:
    """Raise NonNumericError naming the first member whose coefficient is not a number."""
    if is_number(series.dtype):
        return
    # The first value that is not a real number itself: a string "0.5" is refused, and
    # blamed, even though it would convert.
    bad = [member for member, value in series.items() if not _is_real(value)]
    if not bad:  # an object Series of plain numbers (e.g. Python floats and ints)
        return
    member = bad[0]
    raise errors.NonNumericCoefficientError(
        f"{key} coefficient of {member!r} is {series.get(member)!r}, not a number: give "
        "shares as floats (0.25 for 25 %).",
        member=member,
        column=member,
    )


def _is_real(value: Any) -> bool:
    """A real number (Python or NumPy, NaN included), not a boolean or a string."""
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


def member_values(values: Any, consumers: pd.Index, key: str, noun: str = "coefficients") -> Array:
    """One number per consumer, in the data's column order, without range checks.

    Labelled values (a mapping or Series) are matched by id, every consumer exactly once;
    a plain array is taken in column order. ``noun`` names the values in the errors.
    """
    if isinstance(values, Mapping | pd.Series):
        series = values if isinstance(values, pd.Series) else pd.Series(values)
        _check_numbers(series, key)
        check_ids(series.index, consumers, key, "consumer")
        return np.ascontiguousarray(series.reindex(consumers).to_numpy(dtype=np.float64))
    array = np.asarray(values)
    if not is_number(array.dtype):
        raise errors.NonNumericCoefficientError(
            f"{key} {noun} have dtype {array.dtype}, not numbers: give floats "
            "(0.25 for a 25 % share)."
        )
    vector = np.ascontiguousarray(array, dtype=np.float64)
    if vector.ndim != 1 or len(vector) != len(consumers):
        raise errors.MemberError(
            f"{key} {noun} given as an array must have one value per consumer "
            f"({len(consumers)}), not shape {vector.shape}."
        )
    return vector


def member_vector(coefficients: Any, consumers: pd.Index, key: str) -> Array:
    """One coefficient per consumer, in the data's column order, checked to lie in [0, 1]."""
    values = member_values(coefficients, consumers, key)
    missing = np.flatnonzero(np.isnan(values))
    if len(missing):
        member = consumers[missing[0]]
        raise errors.CoefficientRangeError(
            f"{key} coefficient of {member!r} is NaN. Give a share in [0, 1].",
            member=member,
            column=member,
        )
    _check_range(values, key, consumers, None)
    return values


def static_shares(coefficients: Any, consumers: pd.Index, key: str) -> Array:
    """Static shares ``k_i``, one per consumer, checked (:func:`member_vector`), their sum at
    most 1 (+ :data:`SUM_TOLERANCE`, then scaled down to exactly 1 by :func:`within_one`)."""
    values = member_vector(coefficients, consumers, key)
    total = float(values.sum())
    check_sums(
        np.asarray(total),
        f"{key} coefficients",
        advice="The consumers would receive more than is produced: scale them down so "
        "that they sum to 1 or less.",
    )
    return within_one(values, np.asarray(total))


def step_table(coefficients: Any, axis: Axis, key: str) -> Array:
    """Steps x consumers coefficients in the data's order, as C-contiguous float64."""
    if isinstance(coefficients, pd.DataFrame):
        if axis.index is None:
            raise errors.ParameterTypeError(
                f"{key} coefficients are a labelled DataFrame but the data are plain arrays: "
                "pass `coefficients.to_numpy()` in the data's order, or allocate DataFrames."
            )
        for member, dtype in coefficients.dtypes.items():
            if not is_number(dtype):
                raise errors.NonNumericCoefficientError(
                    f"{key} column {member!r} has dtype {dtype}, not numbers.",
                    column=member,
                    member=member,
                )
        check_ids(coefficients.columns, axis.consumers, key, "consumer")
        index = coefficients.index
        check_time_index(index, f"{key} coefficients", regular=False)
        assert isinstance(index, pd.DatetimeIndex)
        missing = axis.index.difference(index)
        if len(missing):
            raise errors.IndexMismatchError(
                f"{key} coefficients have no row for step {missing[0]}. Send a row for every "
                "step; to fall back to the default key on some steps, reindex the coefficients "
                "on the data's index (`coefficients.reindex(consumption.index)`).",
                timestamp=missing[0],
            )
        aligned = coefficients
        if not (index.equals(axis.index) and coefficients.columns.equals(axis.consumers)):
            aligned = coefficients.reindex(index=axis.index, columns=axis.consumers)
        return contiguous(aligned.to_numpy(dtype=np.float64, na_value=np.nan))
    values = np.asarray(coefficients)
    if values.ndim != 2 or values.shape != (axis.steps, len(axis.consumers)):
        raise errors.MemberError(
            f"{key} coefficients given as an array must have the data's shape "
            f"(steps, consumers) = ({axis.steps}, {len(axis.consumers)}), not {values.shape}."
        )
    if not is_number(values.dtype):
        raise errors.NonNumericCoefficientError(
            f"{key} coefficients have dtype {values.dtype}, not numbers."
        )
    return contiguous(np.asarray(values, dtype=np.float64))


def checked_rows(values: Array, axis: Axis, key: str, *, allow_missing_rows: bool) -> Array:
    """Range, NaN and row-sum checks of a steps x consumers coefficient table.

    With ``allow_missing_rows``, an all-NaN row is "no key sent for this step"; otherwise
    any NaN is an error. Rows summing above 1 by no more than :data:`SUM_TOLERANCE` are
    scaled to sum to 1 (in a copy), so that no step allocates more than is produced.
    """
    # One read for the range, NaN and sum checks; the first value out of range is located
    # (by a second scan) only when there is one.
    if is_by_member(values):
        sums, missing, outside = checks.column_sums_and_nans(read_only(values.T))
    else:
        sums, missing, outside = checks.row_sums_and_nans(read_only(values))
    if outside:
        _check_range(values, key, axis.consumers, axis)
    columns = values.shape[1]
    bad_nan = (missing > 0) & (missing < columns) if allow_missing_rows else missing > 0
    if bad_nan.any():
        row = int(np.argmax(bad_nan))
        column = int(np.flatnonzero(np.isnan(values[row]))[0])
        member = axis.consumers[column]
        if allow_missing_rows:
            raise errors.PartialKeyRowError(
                f"{key} row at {axis.step_name(row)} has NaN for {member!r} but not for every "
                "consumer. A whole row of NaN means 'no key sent' (the default key applies); "
                "otherwise give every consumer a share (0 for none).",
                member=member,
                column=member,
                timestamp=axis.timestamp(row),
            )
        raise errors.CoefficientRangeError(
            f"{key} coefficient of {member!r} at {axis.step_name(row)} is NaN: this key needs "
            "every coefficient (0 for none).",
            member=member,
            column=member,
            timestamp=axis.timestamp(row),
        )
    check_sums(
        sums,
        f"{key} coefficients",
        where=lambda row: f"at {axis.step_name(row)}",
        timestamp=axis.timestamp,
        advice="Scale that row down; when rounding keys for the DSO, round down.",
    )
    return within_one(values, sums)


def check_sums(
    sums: Array,
    what: str,
    *,
    where: Callable[[int], str] | None = None,
    timestamp: Callable[[int], Any] | None = None,
    exactly_one: bool = False,
    advice: str = "Scale them down so that they sum to 1 or less.",
) -> None:
    """Raise for the first sum of shares above 1 (or, with ``exactly_one``, away from 1).

    Parameters
    ----------
    sums : ndarray
        One sum per row (step), or a 0-d array for a single set of shares.
    what : str
        The shares, as errors name them (``"Static coefficients"``).
    where : callable, optional
        Row number -> how the message names it (``"at step 2025-06-01 12:00+02:00"``).
    timestamp : callable, optional
        Row number -> the error's ``timestamp``.
    exactly_one : bool, default False
        Sums must be 1 (Spain), not at most 1; both within :data:`SUM_TOLERANCE`.
    advice : str
        How to fix it, ending the message.

    Raises
    ------
    repartition.errors.CoefficientSumError
    """
    sums = np.atleast_1d(sums)
    bad = sums > 1.0 + SUM_TOLERANCE
    if exactly_one:
        bad |= sums < 1.0 - SUM_TOLERANCE
    if not bad.any():
        return
    row = int(np.argmax(bad))
    at = f" {where(row)}" if where is not None else ""
    side = "not 1" if exactly_one else "above 1"
    raise errors.CoefficientSumError(
        f"{what}{at} sum to {sums[row]:.12g}, {side} (tolerance {SUM_TOLERANCE:g}). {advice}",
        timestamp=timestamp(row) if timestamp is not None else None,
    )


def within_one(values: Array, sums: Array) -> Array:
    """``values`` with each row (or the vector) whose sum exceeds 1 divided by that sum.

    Only sums within the tolerance reach here; the input is copied, never modified.
    """
    over = sums > 1.0
    if not np.any(over):
        return values
    if values.ndim == 1:
        return values / sums
    scaled = values.copy(order="K")
    scaled[over] /= sums[over, None]
    return scaled


def _private(table: Array, source: Any) -> Array:
    """``table``, copied if it may share memory with the caller's ``source``, read-only.

    The full dynamic key keeps its tables for ``Allocation.flows()``: they must not follow
    later changes of the caller's data.
    """
    # An array that owns its memory was made for us, unless it is the caller's own
    # ndarray; anything else (a view) is copied. Asking the caller's frame whether it
    # shares memory would cost a full copy of a frame made of many blocks (a year-long
    # table, when streaming month by month), while copying a view costs one table.
    caller_array = isinstance(source, np.ndarray) and np.may_share_memory(table, source)
    if caller_array or not table.flags.owndata:
        table = table.copy(order="K")
    table.flags.writeable = False
    return table


def producer_tables(coefficients: Any, axis: Axis, key: str) -> list[Array]:
    """One steps x consumers table per producer, in the data's producer order.

    The tables are private, read-only arrays (see :func:`_private`).
    """
    if isinstance(coefficients, Mapping):
        given = pd.Index(list(coefficients.keys()))
        check_ids(given, axis.producers, key, "producer")
        tables: list[Array] = []
        for producer in axis.producers:
            table = step_table(coefficients[producer], axis, f"{key}[{producer!r}]")
            tables.append(_private(table, coefficients[producer]))
        return tables
    if isinstance(coefficients, Sequence) and any(
        isinstance(table, pd.DataFrame | pd.Series) for table in coefficients
    ):
        raise errors.ParameterTypeError(
            f"{key} coefficients are labelled tables in a sequence, which would be matched by "
            "position. Pass a mapping producer id -> DataFrame instead."
        )
    values = np.asarray(coefficients)
    expected = (len(axis.producers), axis.steps, len(axis.consumers))
    if values.shape != expected:
        raise errors.MemberError(
            f"{key} coefficients given as an array must have shape (producers, steps, "
            f"consumers) = {expected}, not {values.shape}; or pass a mapping producer -> table."
        )
    return [
        _private(step_table(values[j], axis, f"{key}[{producer!r}]"), values)
        for j, producer in enumerate(axis.producers)
    ]
