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
from repartition.kernels.layout import (
    contiguous,
    is_by_member,
    line_stride,
    memory_order,
    read_only,
)
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
    if given.equals(known) and known.is_unique:  # the common case, without set operations
        return
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
        if not series.index.equals(consumers):
            series = series.reindex(consumers)
        return np.ascontiguousarray(series.to_numpy(dtype=np.float64))
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


def _run_of_rows(index: pd.DatetimeIndex, steps: pd.DatetimeIndex) -> slice | None:
    """The rows of ``index`` (which holds every step of ``steps``, once) that are
    ``steps``, when they are consecutive and in order; else None."""
    start = index.get_loc(steps[0])
    if not isinstance(start, int):
        return None
    rows = slice(start, start + len(steps))
    return rows if index[rows].equals(steps) else None


def step_table(coefficients: Any, axis: Axis, key: str, *, lines: bool = False) -> Array:
    """Steps x consumers coefficients in the data's order, as float64 stored row-major or
    member-major (or, with ``lines``, with contiguous lines).

    The table's own memory (a view, in its own layout) when it needs no conversion:
    float64, on the data's consumers in their order, and on the data's steps or a run of
    consecutive steps of a longer table. Otherwise a converted copy, row-major where the
    array was neither row- nor member-major. With ``lines``, an array whose steps' rows or
    members' columns are each contiguous is kept as it is (a month of a year-long
    member-major table: :func:`repartition.kernels.layout.line_stride`), for the kernels
    that read such tables in place.
    """
    if isinstance(coefficients, pd.DataFrame):
        if axis.index is None:
            raise errors.ParameterTypeError(
                f"{key} coefficients are a labelled DataFrame but the data are plain arrays: "
                "pass `coefficients.to_numpy()` in the data's order, or allocate DataFrames."
            )
        # Each kind of dtype once (10,000 columns have one or two): 0.1 s saved per 5 tables.
        if not all(is_number(dtype) for dtype in set(coefficients.dtypes)):
            member, dtype = next(
                (member, dtype)
                for member, dtype in coefficients.dtypes.items()
                if not is_number(dtype)
            )
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
            rows = _run_of_rows(index, axis.index)
            if rows is not None and coefficients.columns.equals(axis.consumers):
                aligned = coefficients.iloc[rows]  # a view: e.g. a month of a year's table
            else:
                aligned = coefficients.reindex(index=axis.index, columns=axis.consumers)
        return _stored(aligned.to_numpy(dtype=np.float64, na_value=np.nan), lines)
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
    return _stored(np.asarray(values, dtype=np.float64), lines)


def _stored(values: Array, lines: bool) -> Array:
    if lines and (line_stride(values, True) is not None or line_stride(values, False) is not None):
        return values
    return contiguous(values)


ROW_SUM_ADVICE = "Scale that row down; when rounding keys for the DSO, round down."
"""How a message about a row of coefficients summing above 1 ends, unless a key says otherwise."""


def checked_rows(
    values: Array,
    axis: Axis,
    key: str,
    *,
    allow_missing_rows: bool,
    exactly_one: bool = False,
    advice: str = ROW_SUM_ADVICE,
) -> Array:
    """Range, NaN and row-sum checks of a steps x consumers coefficient table, in one read.

    With ``allow_missing_rows``, an all-NaN row is "no key sent for this step"; otherwise
    any NaN is an error. Rows summing above 1 by no more than :data:`SUM_TOLERANCE` are
    scaled to sum to 1 (in a copy), so that no step allocates more than is produced. With
    ``exactly_one`` (Spain), a row must sum to 1, within :data:`SUM_TOLERANCE`; ``advice``
    ends the message of a row whose sum is wrong.
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
    _check_row_sums(sums, axis, key, exactly_one=exactly_one, advice=advice)
    return within_one(values, sums)


def _check_row_sums(
    sums: Array,
    axis: Axis,
    key: str,
    *,
    exactly_one: bool = False,
    advice: str = ROW_SUM_ADVICE,
) -> None:
    check_sums(
        sums,
        f"{key} coefficients",
        where=lambda row: f"at {axis.step_name(row)}",
        timestamp=axis.timestamp,
        exactly_one=exactly_one,
        advice=advice,
    )


def check_scanned_rows(values: Array, sums: Array, bad: int, axis: Axis, key: str) -> None:
    """The checks of :func:`checked_rows` (every coefficient given: no NaN) on a table a
    kernel has already scanned while computing the rule with it.

    ``sums`` (per step) and ``bad`` (the count of values outside [0, 1] or NaN) come from
    that one pass (:class:`repartition.kernels.full_dynamic.Scan`). Only a table with a bad
    value is read again, to name the first culprit, member and step; a row sum above 1 +
    :data:`SUM_TOLERANCE` is named from ``sums``. Rows summing above 1 within the
    tolerance are the kernel's to scale.

    Raises
    ------
    repartition.errors.CoefficientRangeError, CoefficientSumError
        As :func:`checked_rows`, naming the member and step.
    """
    if bad:
        checked_rows(values, axis, key, allow_missing_rows=False)  # finds it and raises
    _check_row_sums(sums, axis, key)


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


def producer_tables(coefficients: Any, axis: Axis, key: str) -> list[Array]:
    """One steps x consumers table per producer, in the data's producer order.

    Each table is read-only, and the caller's own memory, in its own layout, wherever
    :func:`step_table` can view it (``lines=True``): a key that keeps its tables holds
    references to the caller's data, not copies. A mapping is matched by producer id; a
    sequence of arrays or a (producers, steps, consumers) array is taken in the data's
    producer order.
    """
    if isinstance(coefficients, Mapping):
        given = pd.Index(list(coefficients.keys()))
        check_ids(given, axis.producers, key, "producer")
        return [
            read_only(step_table(coefficients[producer], axis, f"{key}[{producer!r}]", lines=True))
            for producer in axis.producers
        ]
    if isinstance(coefficients, Sequence) and any(
        isinstance(table, pd.DataFrame | pd.Series) for table in coefficients
    ):
        raise errors.ParameterTypeError(
            f"{key} coefficients are labelled tables in a sequence, which would be matched by "
            "position. Pass a mapping producer id -> DataFrame instead."
        )
    expected = (len(axis.producers), axis.steps, len(axis.consumers))
    if isinstance(coefficients, Sequence) and all(
        isinstance(table, np.ndarray) and table.ndim == 2 for table in coefficients
    ):
        tables: Sequence[Any] | np.ndarray = coefficients  # one array per producer: not stacked
    else:
        tables = np.asarray(coefficients)
    if isinstance(tables, np.ndarray):
        wrong, found = tables.shape != expected, str(tables.shape)
    else:
        shapes = sorted({str(table.shape) for table in tables})
        wrong = len(tables) != expected[0] or any(table.shape != expected[1:] for table in tables)
        found = f"{len(tables)} arrays of shape {' or '.join(shapes)}"
    if wrong:
        raise errors.MemberError(
            f"{key} coefficients given as an array must have shape (producers, steps, "
            f"consumers) = {expected}, not {found}; or pass a mapping producer -> table."
        )
    return [
        read_only(step_table(tables[j], axis, f"{key}[{producer!r}]", lines=True))
        for j, producer in enumerate(axis.producers)
    ]
