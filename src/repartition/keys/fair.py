"""Fair shares: water-filling keys that give no consumer more than it needs.

- :class:`EqualShare`: max-min fair water-filling (static key ``1/N`` with redistribution);
- :class:`WeightedShare`: water-filling with any non-negative weights (e.g. subscribed
  power in kVA).

Both are thin layers over :class:`~repartition.keys.Static` with ``redistribute=True``.
Re-exported by :mod:`repartition.keys`, where they are best imported from. See
``docs/keys.md`` for each formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from repartition import errors
from repartition._align import (
    member_values,
)
from repartition.allocation import Shares
from repartition.keys._base import SharingKey
from repartition.keys.dso import Static
from repartition.problem import Array, Problem

__all__ = ["EqualShare", "WeightedShare"]


@dataclass(frozen=True, eq=False)
class EqualShare(SharingKey):
    """Equal share with redistribution: max-min fair water-filling.

    Each consumer receives ``A[t, i] = min(C[t, i], lam[t])``, with the cap ``lam[t]`` such
    that everything that can be used is used: ``sum_i A[t, i] = min(P_tot[t], sum_i
    C[t, i])``. No consumer can get more without taking from one that has less.

    This is exactly ``Static([1/N] * N, redistribute=True)`` (``lam = L / N`` for its level
    ``L``), and is computed by it: :func:`repartition.kernels.water_filling.run`.

    References
    ----------
    docs/rules.md, "Equal share": equal share with redistribution; HubWatt's
    *égalitaire avec réaffectation* taken to its limit.

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays, keys
    >>> result = allocate_arrays(np.array([[1.0, 4.0, 6.0]]), np.array([7.0]), keys.EqualShare())
    >>> result.allocated
    array([[1., 3., 3.]])
    """

    name: ClassVar[str] = "equal share"

    def share(self, problem: Problem) -> Shares:
        axis = problem.axis
        count = len(axis.consumers)
        static = Static(np.full(count, 1.0 / count), redistribute=True)
        return static.share(problem)


def _weights(weights: Any, consumers: pd.Index, key: str) -> Array:
    """Non-negative finite weights per consumer, in the data's column order, not all zero."""
    values = member_values(weights, consumers, key, "weights")
    bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0.0)))
    if len(bad):
        member = consumers[bad[0]]
        raise errors.CoefficientRangeError(
            f"{key} weight of {member!r} is {values[bad[0]]}: weights must be finite and "
            ">= 0 (0 for a consumer that receives nothing).",
            member=member,
            column=member,
        )
    if not values.any():
        raise errors.CoefficientSumError(
            f"{key} weights are all 0: nobody would receive anything. Give at least one "
            "consumer a positive weight."
        )
    return values


@dataclass(frozen=True, eq=False)
class WeightedShare(SharingKey):
    """Weighted share with redistribution: water-filling with any non-negative weights.

    ``A[t, i] = min(C[t, i], w_i * L[t])`` with the level ``L[t]`` such that ``sum_i A[t, i]
    = min(P_tot[t], sum_{w_i > 0} C[t, i])``: what a saturated consumer cannot use goes to
    the others in proportion to their weights. Consumers of weight 0 receive nothing.

    This is exactly ``Static(w / sum(w), redistribute=True)``, and is computed by it.

    Parameters
    ----------
    weights : mapping, pandas.Series or 1-D array
        Consumer id -> weight ``w_i >= 0`` (e.g. subscribed power in kVA), in any unit; they
        need not sum to 1, only their ratios matter. Every consumer of the data needs one;
        a plain array is taken in the order of the consumption's columns.

    Raises
    ------
    repartition.errors.CoefficientRangeError
        For a negative, infinite or NaN weight, naming the consumer.
    repartition.errors.CoefficientSumError
        When every weight is 0.
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        For a weight of a consumer not in the data, or a consumer without a weight.

    References
    ----------
    docs/rules.md, "Static key with redistribution" (the Belgian "optimal" key) with weights in
    place of shares.

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays, keys
    >>> key = keys.WeightedShare([6.0, 3.0, 3.0])  # kVA
    >>> allocate_arrays(np.array([[1.0, 4.0, 6.0]]), np.array([7.0]), key).allocated
    array([[1., 3., 3.]])
    """

    weights: Mapping[Any, float] | pd.Series | Sequence[float] | np.ndarray
    name: ClassVar[str] = "weighted share"

    def share(self, problem: Problem) -> Shares:
        axis = problem.axis
        weights = _weights(self.weights, axis.consumers, "WeightedShare")
        weights = weights / weights.max()  # no overflow in the sum below
        static = Static(weights / weights.sum(), redistribute=True)
        return static.share(problem)
