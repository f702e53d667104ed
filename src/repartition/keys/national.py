"""Rules abroad, as keys: Spain's fixed coefficients and Italy's CER attribution.

- :class:`SpanishKey`: Spain's coefficients (RD 244/2019), summing to 1 at every step, a
  consumer's unused share being its own surplus;
- :class:`ItalianKey`: Italy's CER rule, shared energy ``min(injected, withdrawn)``
  attributed to plants in order of commissioning.

Re-exported by :mod:`repartition.keys`, where they are best imported from. See
``docs/keys.md`` for each formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._align import (
    check_ids,
    check_sums,
    checked_rows,
    member_vector,
    step_table,
    within_one,
)
from repartition._inputs import is_number
from repartition.allocation import PairSplit, Shares
from repartition.kernels import dynamic, merit_order, static
from repartition.keys._base import SharingKey
from repartition.keys.dso import Prorata
from repartition.problem import Problem

__all__ = ["ItalianKey", "SpanishKey"]


@dataclass(frozen=True, eq=False)
class SpanishKey(SharingKey):
    """Spain's distribution coefficients (*coeficientes de reparto*), hourly or fixed.

    ``A[t, i] = min(C[t, i], beta[t, i] * P_tot[t])`` with ``sum_i beta[t, i] = 1`` at every
    step: a consumer's unused share is its own surplus, it is not redistributed. This is the
    rule of :class:`~repartition.keys.Dynamic` (or :class:`~repartition.keys.Static` for a
    fixed set) with the sum required to be 1, and no default: a NaN is an error.

    Parameters
    ----------
    coefficients : pandas.DataFrame or 2-D array; or mapping, pandas.Series or 1-D array
        Per step (the rows of the data: hours in Spain) x consumer, matched like
        :class:`~repartition.keys.Dynamic`'s; or one fixed set for every step, matched like
        :class:`~repartition.keys.Static`'s. Each row sums to 1 within
        :data:`~repartition.keys.SUM_TOLERANCE`.

    Raises
    ------
    repartition.errors.CoefficientSumError
        For a step (or the fixed set) whose coefficients do not sum to 1, naming the step.
    repartition.errors.CoefficientRangeError
        For a coefficient outside [0, 1] or NaN.

    References
    ----------
    Real Decreto 244/2019, art. 4 and annex I; Orden TED/1247/2021 (hourly coefficients).

    Computed by :func:`repartition.kernels.dynamic.run` (or, for a fixed set,
    :func:`repartition.kernels.static.run`).

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays, keys
    >>> key = keys.SpanishKey([0.5, 0.25, 0.25])
    >>> result = allocate_arrays(np.array([[1.0, 4.0, 6.0]]), np.array([8.0]), key)
    >>> result.allocated, result.surplus
    (array([[1., 2., 2.]]), array([[3.]]))
    """

    coefficients: pd.DataFrame | np.ndarray | pd.Series | Mapping[Any, float] | Sequence[float]
    name: ClassVar[str] = "spain"

    def step_tables(self) -> dict[str, Any]:
        hourly = isinstance(self.coefficients, pd.DataFrame) or (
            not isinstance(self.coefficients, Mapping | pd.Series)
            and np.ndim(self.coefficients) == 2
        )
        return {"coefficients": self.coefficients} if hourly else {}

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        key = "SpanishKey"
        coefficients = self.coefficients
        if isinstance(coefficients, Mapping | pd.Series) or (
            not isinstance(coefficients, pd.DataFrame) and np.asarray(coefficients).ndim != 2
        ):
            fixed = member_vector(self.coefficients, axis.consumers, key)
            total = np.sort(fixed).sum()
            check_sums(
                np.asarray(total),
                f"{key} coefficients",
                exactly_one=True,
                advice="In Spain every hour's coefficients add up to 1: scale them so that "
                "they do.",
            )
            fixed = within_one(fixed, np.asarray(total))
            return Shares(*static.run(consumption, production, fixed, out=axis.outputs))
        table = checked_rows(
            step_table(self.coefficients, axis, key),
            axis,
            key,
            allow_missing_rows=False,
            exactly_one=True,
            advice="In Spain every hour's coefficients add up to 1: scale that row to 1.",
        )
        outputs = dynamic.run(
            consumption,
            production,
            table,
            consumption_total=axis.consumption_total,
            out=axis.outputs,
        )
        return Shares(*outputs)


def _commissioning_ranks(commissioning: Any, producers: pd.Index, key: str) -> NDArray[np.int64]:
    """Merit rank of each producer (0 first; equal dates, equal ranks), in the data's order."""
    if isinstance(commissioning, Mapping | pd.Series):
        series = commissioning if isinstance(commissioning, pd.Series) else pd.Series(commissioning)
        check_ids(series.index, producers, key, "producer")
        values = series.reindex(producers)
    else:
        array = np.asarray(commissioning)
        if array.ndim != 1 or len(array) != len(producers):
            raise errors.MemberError(
                f"{key} commissioning given as a sequence must have one value per producer "
                f"({len(producers)}), not shape {array.shape}; or pass a mapping producer -> date."
            )
        values = pd.Series(array, index=producers)
    if is_number(values.dtype):
        order: Any = values.to_numpy(dtype=np.float64)
        missing = np.isnan(order)
    else:
        try:
            dates = pd.to_datetime(values)
        except (ValueError, TypeError, OverflowError) as error:
            producer, value = _unreadable_date(values)
            raise errors.NonNumericCoefficientError(
                f"{key} commissioning date of producer {producer!r} is {value!r}, which is "
                "not a date: give dates (all naive or all with a time zone, e.g. "
                f"'2021-06-15') or numbers giving the order ({error}).",
                member=producer,
                column=producer,
            ) from error
        order = dates.to_numpy()
        missing = dates.isna().to_numpy()
    if missing.any():
        producer = producers[int(np.argmax(missing))]
        raise errors.CoefficientRangeError(
            f"{key} has no commissioning date for producer {producer!r} (NaN or NaT). Give "
            "every producer a date, or a number giving the order.",
            member=producer,
            column=producer,
        )
    ranks = np.unique(order, return_inverse=True)[1]
    return np.asarray(ranks, dtype=np.int64).reshape(-1)


def _unreadable_date(values: pd.Series) -> tuple[Any, Any]:
    """The first producer whose commissioning value is not a date on its own (or, when each
    is readable alone but not together, e.g. naive and aware mixed, the first one)."""
    for producer, value in values.items():
        try:
            pd.to_datetime(value)
        except (ValueError, TypeError, OverflowError):
            return producer, value
    return values.index[0], values.iloc[0]


@dataclass(frozen=True, eq=False)
class ItalianKey(SharingKey):
    """Italy's renewable energy communities (CER): shared energy, plants by commissioning.

    Per step the shared energy is ``E[t] = min(sum_j P[t, j], sum_i C[t, i])``. Members
    receive it in proportion to their withdrawal, ``A[t, i] = C[t, i] * E[t] / sum_i
    C[t, i]`` (exactly :class:`~repartition.keys.Prorata`). It is attributed to the plants
    in order of commissioning, earliest first, each up to its injection: ``AUTOPROD[t, j] =
    clip(E[t] - sum_{k earlier than j} P[t, k], 0, P[t, j])``, not pooled.

    Plants commissioned on the same date (or with the same order number) form one group
    that takes its part as a whole and splits it in proportion to production (*assumption*:
    the rule names no tie-break; this one does not depend on the order of the columns).

    Flows (:meth:`~repartition.allocation.Allocation.flows`): each consumer's energy comes
    from the plants in proportion to their AUTOPROD, ``flow[t, j, i] = A[t, i] *
    AUTOPROD[t, j] / E[t]`` (*assumption*: in a CER members split the incentive privately,
    no pair is metered).

    Parameters
    ----------
    commissioning : mapping or pandas.Series producer id -> date or number; or a sequence
        The commissioning date of each producer (anything ``pandas.to_datetime`` reads,
        all naive or all tz-aware), or a number giving the order (smaller first). A
        sequence is taken in the order of the production's columns.

    References
    ----------
    D.Lgs. 199/2021, art. 8 and 31; ARERA, TIAD (delibera 727/2022/R/eel), shared energy
    per hour as the minimum of injection and withdrawal; GSE operating rules for CER.

    AUTOCONS is computed by :func:`repartition.kernels.prorata.run`; the attribution to plants by
    :func:`repartition.kernels.merit_order.attribute` (NumPy twin:
    :func:`repartition.reference.merit_order_attribution`).

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays, keys
    >>> key = keys.ItalianKey(["2023-05-01", "2021-02-01"])  # the second plant is older
    >>> result = allocate_arrays(np.array([[1.0, 4.0]]), np.array([[4.0, 3.0]]), key)
    >>> result.allocated, result.self_consumed
    (array([[1., 4.]]), array([[2., 3.]]))
    """

    commissioning: Mapping[Any, Any] | pd.Series | Sequence[Any] | np.ndarray
    name: ClassVar[str] = "italy (CER)"

    def share(self, problem: Problem) -> Shares:
        production, axis = problem.production, problem.axis
        ranks = _commissioning_ranks(self.commissioning, axis.producers, "ItalianKey")
        pooled_shares = Prorata().share(problem)
        # The pooled attribution sums to sum_i A at each step (in increasing order of the
        # values, so that the total does not depend on the order of the producers).
        shared = np.sort(pooled_shares.self_consumed, axis=1).sum(axis=1)
        self_consumed, surplus = merit_order.attribute(production, shared, ranks)
        # flow[t, j, i] = (AUTOPROD[t, j] / P[t, j] / E[t]) * P[t, j] * A[t, i]: one factor
        # per (step, producer), broadcast over the consumers without copying, and the
        # allocation itself as the per-consumer scale.
        with np.errstate(divide="ignore", invalid="ignore"):
            used = np.where(production > 0.0, self_consumed / production, 0.0)
            factor = np.where(shared[:, None] > 0.0, used / shared[:, None], 0.0)
        allocated = pooled_shares.allocated
        tables = [np.broadcast_to(factor[:, j, None], allocated.shape) for j in range(len(ranks))]
        split = PairSplit(coefficients=tables, scale=allocated)
        return Shares(allocated, pooled_shares.grid_supply, self_consumed, surplus, split=split)
