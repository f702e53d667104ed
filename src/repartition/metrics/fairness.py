"""Fairness indices over any per-member quantity: Gini and Jain.

Both take one value per member (a ``pd.Series`` by member id, or any 1-D array): a
self-sufficiency rate per consumer (``allocation.by_consumer()["self_sufficiency_rate"]``),
savings per consumer (``bills(...)["savings"]``), energy allocated, a Shapley value...
Both are scale invariant: multiplying every value by the same ``c > 0`` changes neither.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._inputs import is_number

__all__ = ["gini", "jain"]

Array = NDArray[np.float64]


def _values(values: Any, function: str) -> tuple[Array, pd.Index | None]:
    """The values as a 1-D float64 array, checked, and their labels (``None`` for arrays)."""
    if isinstance(values, pd.DataFrame):
        raise errors.ParameterTypeError(
            f"{function} takes one value per member (a Series or a 1-D array), not a "
            f"DataFrame: pick a column, e.g. `{function}(table['savings'])`."
        )
    labels = values.index if isinstance(values, pd.Series) else None
    array = values.to_numpy() if isinstance(values, pd.Series) else np.asarray(values)
    if not is_number(array.dtype):
        raise errors.NonNumericError(
            f"{function} takes numbers, not values of dtype {array.dtype}. Convert them "
            "with `pd.to_numeric` first."
        )
    if array.ndim != 1:
        raise errors.DataError(
            f"{function} takes one value per member (a 1-D array), not an array of shape "
            f"{array.shape}."
        )
    if len(array) == 0:
        raise errors.NoMembersError(f"{function} needs at least one value, got none.")
    floats = np.asarray(array, dtype=np.float64)
    if not np.isfinite(floats).all():
        position = int(np.argmax(~np.isfinite(floats)))
        member = labels[position] if labels is not None else position
        culprit = {"member": member, "column": member} if labels is not None else {}
        if np.isnan(floats[position]):
            raise errors.MissingValueError(
                f"{function}: the value of {member!r} is NaN. Drop the members for which "
                "the quantity is undefined first (e.g. `rates.dropna()` for consumers that "
                "consumed nothing), so that the choice is explicit.",
                **culprit,
            )
        raise errors.NonFiniteError(
            f"{function}: the value of {member!r} is {floats[position]}; values must be finite.",
            **culprit,
        )
    return floats, labels


def _power_of_two_scaled(x: Array) -> Array:
    """``x`` times the power of two that brings its largest magnitude into [0.5, 1).

    Exact (only exponents change, barring values that fall far below the largest into the
    subnormal range), and it keeps sums of huge or tiny values from overflowing or
    underflowing.
    """
    _, exponent = np.frexp(np.max(np.abs(x)))
    return np.ldexp(x, -int(exponent))


def gini(values: Any) -> float:
    """Gini index of per-member values: 0 when all are equal, towards 1 when one holds all.

    ``G = sum_i sum_j |x_i - x_j| / (2 n sum_i |x_i|)``, which is the usual
    ``sum_i sum_j |x_i - x_j| / (2 n^2 mean(x))`` for non-negative values.

    Parameters
    ----------
    values : pandas.Series or array_like
        One finite value per member (n >= 1), in any unit.

    Returns
    -------
    float
        In ``[0, 1 - 1/n]`` for non-negative values (``1 - 1/n`` when one member holds
        everything); in ``[0, 1)`` for any values.

    Raises
    ------
    repartition.errors.MissingValueError
        A NaN value (named by member for a Series): drop undefined values explicitly.
    repartition.errors.NonFiniteError
        An infinite value.
    repartition.errors.NoMembersError
        No value at all.

    Notes
    -----
    *All values zero*: the formula is 0/0; the index is **0**, the value for equal values
    (nobody has more than anyone else).

    *Negative values* (savings, gains can be below zero): with a mean at or below zero the
    usual formula is undefined or negative, and with a positive mean it can exceed 1. The
    normalisation of Raffinetti, Siletti and Vernizzi (2015) divides instead by
    ``2 n sum_i |x_i| = 2 n (T+ + T-)``, with ``T+`` the sum of the positive values and
    ``T-`` the absolute sum of the negative ones. It is the usual index when no value is
    negative, and stays in ``[0, 1)`` otherwise; its maximum is reached by the "polarised"
    case where one member holds all of ``T+``, another all of ``-T-`` and the rest zero.
    Compare indices of signed quantities only with each other, not with indices of
    non-negative ones.

    Computed in ``O(n log n)``: with the values sorted, ``sum_i sum_j |x_i - x_j| =
    2 sum_k k (n - k) (x_(k+1) - x_(k))``, a sum of non-negative terms (so the result is
    never below 0, and exactly 0 for equal values). The values are first scaled by the power
    of two that brings the largest magnitude near 1 (exact; no overflow or underflow).

    References
    ----------
    C. Gini (1912), *Variabilità e mutabilità*. E. Raffinetti, E. Siletti, A. Vernizzi
    (2015), "On the Gini coefficient normalization when attributes with negative values
    are considered", *Statistical Methods & Applications* 24(3), 507-521,
    doi:10.1007/s10260-014-0293-4.

    Examples
    --------
    >>> from repartition.metrics import gini
    >>> gini([1.0, 1.0, 1.0, 1.0])
    0.0
    >>> gini([0.0, 0.0, 0.0, 4.0])  # one member holds everything: 1 - 1/4
    0.75
    >>> gini([1.0, 3.0])  # |1 - 3| * 2 / (2 * 2 * 4)
    0.25
    >>> gini([-1.0, 1.0])  # signed: 2 * 2 / (2 * 2 * (1 + 1))
    0.5
    """
    x, _ = _values(values, "gini")
    if not x.any():
        return 0.0
    x = np.sort(_power_of_two_scaled(x))
    n = len(x)
    k = np.arange(1, n, dtype=np.float64)
    total_difference = 2.0 * float(np.dot(k * (n - k), np.diff(x)))
    return total_difference / (2.0 * n * float(np.abs(x).sum()))


def jain(values: Any) -> float:
    """Jain's fairness index of per-member values: 1 when all are equal, 1/n when one
    member holds everything.

    ``J = (sum_i x_i)^2 / (n sum_i x_i^2)``. For ``k`` members sharing equally and the
    others receiving nothing, ``J = k / n``: it reads as the share of members treated
    fairly.

    Parameters
    ----------
    values : pandas.Series or array_like
        One finite, non-negative value per member (n >= 1), in any unit.

    Returns
    -------
    float
        In ``[1/n, 1]``.

    Raises
    ------
    repartition.errors.DataError
        A negative value (named by member for a Series): the index is defined for
        non-negative quantities only.
    repartition.errors.MissingValueError
        A NaN value (named by member for a Series): drop undefined values explicitly.
    repartition.errors.NonFiniteError
        An infinite value.
    repartition.errors.NoMembersError
        No value at all.

    Notes
    -----
    *All values zero*: the formula is 0/0; the index is **1**, the value for equal values.

    *Negative values* are refused. Jain, Chiu and Hawe define the index for allocations
    ``x_i >= 0``; with mixed signs ``(sum x)^2`` can vanish while values differ, the
    bound ``1/n`` fails and the "share of members treated fairly" reading is lost. For
    signed quantities such as savings use :func:`gini`, which has a normalisation for them.

    The values are first divided by the largest one (no overflow of ``x^2``; equal values
    give exactly 1), and the result is kept in ``[1/n, 1]`` against the last-digit rounding
    of the sums.

    References
    ----------
    R. Jain, D.-M. Chiu, W. Hawe (1984), "A quantitative measure of fairness and
    discrimination for resource allocation in shared computer systems", DEC Research
    Report TR-301.

    Examples
    --------
    >>> from repartition.metrics import jain
    >>> jain([2.0, 2.0, 2.0, 2.0])
    1.0
    >>> jain([0.0, 0.0, 0.0, 4.0])  # one member holds everything: 1/4
    0.25
    >>> jain([1.0, 1.0, 0.0, 0.0])  # two of four served equally: 2/4
    0.5
    """
    x, labels = _values(values, "jain")
    negative = x < 0.0
    if negative.any():
        position = int(np.argmax(negative))
        member = labels[position] if labels is not None else position
        raise errors.DataError(
            f"jain: the value of {member!r} is negative ({x[position]}). Jain's index is "
            "defined for non-negative quantities; use gini for signed ones (e.g. savings).",
            **({"member": member, "column": member} if labels is not None else {}),
        )
    n = len(x)
    if not x.any():
        return 1.0
    x = x / x.max()
    index = float(x.sum()) ** 2 / (n * float(np.dot(x, x)))
    return min(1.0, max(1.0 / n, index))
