"""The economic greedy key: serve the consumers who value a local kWh most first.

:class:`EconomicGreedy`: at each step, serve consumers in decreasing order of the value of a
local kWh to them; the exact optimum of ``max sum_i value_i * A_i`` when nothing couples the
steps. Re-exported by :mod:`repartition.keys`. See ``docs/keys.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._align import member_values, step_table
from repartition.allocation import Shares
from repartition.kernels import greedy
from repartition.keys._base import SharingKey
from repartition.problem import Array, Axis, Problem

__all__ = ["EconomicGreedy"]

Integers = NDArray[np.int64]


def _finite(values: Array, axis: Axis, key: str) -> None:
    """Raise CoefficientRangeError naming the first NaN or infinite value (member, step)."""
    if np.isfinite(values).all():
        return
    table = values if values.ndim == 2 else values[None, :]
    row, column = (int(position) for position in np.argwhere(~np.isfinite(table))[0])
    member = axis.consumers[column]
    per_step = values.ndim == 2
    where = f" at {axis.step_name(row)}" if per_step else ""
    raise errors.CoefficientRangeError(
        f"{key} value of {member!r}{where} is {table[row, column]}: values must be finite "
        "numbers in EUR/kWh (retail price minus local price).",
        member=member,
        column=member,
        timestamp=axis.timestamp(row) if per_step else None,
    )


@dataclass(frozen=True, eq=False)
class EconomicGreedy(SharingKey):
    """Economic greedy: serve first the consumers to whom a local kWh is worth most.

    At each step the pooled production ``P_tot[t]`` goes to the consumers in decreasing
    order of ``value[t, i]``, each up to its consumption ``C[t, i]``, until it runs out.
    Consumers of equal value form one group; when what is left cannot serve the whole
    group, it is shared in proportion to consumption, ``A[t, i] = C[t, i] * left /
    sum_group C`` (so the result does not depend on the column order). A consumer of
    negative value receives nothing (a local kWh would cost it more than its supplier's).
    Attribution to producers is pooled, as for :class:`~repartition.keys.Prorata`.

    This is the exact optimum of ``max sum_i value[t, i] * A[t, i]`` subject to ``0 <=
    A <= C`` and ``sum_i A <= P_tot`` at each step (a fractional knapsack), hence of the
    community's savings over a period when nothing couples the steps.

    Parameters
    ----------
    values : mapping, pandas.Series or 1-D array; or pandas.DataFrame or 2-D array
        The value of a local kWh to each consumer, retail price minus local price
        [EUR/kWh], any finite real: one per consumer (matched like
        :class:`~repartition.keys.Static`'s coefficients), or one per step and consumer
        (matched like :class:`~repartition.keys.Dynamic`'s, e.g. for time-of-use tariffs).
    serve_zero : bool, default True
        Whether consumers of value exactly 0 are served (last). The optimum is indifferent;
        serving them raises the self-consumption rate and lets the producer sell at the
        local price rather than the surplus price, so it is the default. ``False`` leaves
        that energy as surplus.

    Raises
    ------
    repartition.errors.CoefficientRangeError
        For a NaN or infinite value, naming the consumer (and the step).
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        For a value of a consumer not in the data, or a consumer without a value.

    Notes
    -----
    Computed by :func:`repartition.kernels.greedy.run`. One value per consumer (sorted
    once): :func:`~repartition.kernels.greedy.greedy_fixed_rows` on row-major data,
    :func:`~repartition.kernels.greedy.greedy_fixed_members` on member-major data (pandas'
    usual layout), results in the input's layout. A value per step:
    :func:`~repartition.kernels.greedy.greedy_per_step_rows` sorts each row, on row-major
    data (member-major consumption and values are copied once into row-major; results are
    row-major). NumPy twin: :func:`repartition.reference.economic_greedy`.

    References
    ----------
    docs/rules.md, "Economic optimum"; the greedy solution of the fractional knapsack
    (Dantzig, 1957).

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays
    >>> from repartition.keys import EconomicGreedy
    >>> key = EconomicGreedy([0.10, 0.15, -0.01])  # EUR/kWh
    >>> allocate_arrays(np.array([[2.0, 3.0, 1.0]]), np.array([4.0]), key).allocated
    array([[1., 3., 0.]])
    """

    values: pd.DataFrame | np.ndarray | pd.Series | Mapping[Any, float] | Sequence[float]
    serve_zero: bool = True
    name: ClassVar[str] = "economic greedy"

    def __post_init__(self) -> None:
        if not isinstance(self.serve_zero, bool | np.bool_):
            raise errors.ParameterTypeError(
                f"serve_zero must be True or False, not {self.serve_zero!r}."
            )

    def step_tables(self) -> dict[str, Any]:
        per_step = isinstance(self.values, pd.DataFrame) or (
            not isinstance(self.values, Mapping | pd.Series) and np.ndim(self.values) == 2
        )
        return {"values": self.values} if per_step else {}

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        key = "EconomicGreedy"
        values = self.values
        per_step = isinstance(values, pd.DataFrame) or (
            not isinstance(values, Mapping | pd.Series) and np.asarray(values).ndim == 2
        )
        table = (
            step_table(values, axis, key)
            if per_step
            else member_values(values, axis.consumers, key, "values")
        )
        _finite(table, axis, key)
        return Shares(*greedy.run(consumption, production, table, bool(self.serve_zero)))
