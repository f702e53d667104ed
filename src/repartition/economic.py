"""The economic greedy key, and whole-Wh allocations for invoices that add up.

- :class:`EconomicGreedy`: at each step, serve consumers in decreasing order of the value
  of a local kWh to them; the exact optimum of ``max sum_i value_i * A_i`` when nothing
  couples the steps.
- :func:`to_whole_wh`: any allocation in integer Wh, every invariant of domain.md kept
  exactly (:class:`WholeWh`).

Both are re-exported by :mod:`repartition.keys`. See ``docs/keys.md``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._coefficients import member_values, step_table
from repartition._inputs import Array, Axis
from repartition._shares import Shares, empty_shares, is_by_member, read_only
from repartition.allocation import Allocation, AllocationArrays
from repartition.kernels import by_member, greedy, pooled
from repartition.keys import SharingKey

__all__ = ["EconomicGreedy", "WholeWh", "to_whole_wh"]

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
    One value per consumer (sorted once): :func:`repartition.kernels.greedy.greedy_fixed`
    on row-major data, :func:`~repartition.kernels.greedy.greedy_fixed_by_member` on
    member-major data (pandas' usual layout), results in the input's layout. A value per
    step: :func:`~repartition.kernels.greedy.greedy_per_step` sorts each row, on row-major
    data (member-major consumption and values are copied once into row-major; results are
    row-major). NumPy twin: :func:`repartition.reference.economic_greedy`.

    References
    ----------
    domain.md, "Economic optimum"; the greedy solution of the fractional knapsack
    (Dantzig, 1957).

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays
    >>> from repartition.economic import EconomicGreedy
    >>> key = EconomicGreedy([0.10, 0.15, -0.01])  # EUR/kWh
    >>> allocate_arrays(np.array([[2.0, 3.0, 1.0]]), np.array([4.0]), key).allocated
    array([[1., 3., 0.]])
    """

    values: pd.DataFrame | np.ndarray | pd.Series | Mapping[Any, float] | Sequence[float]
    serve_zero: bool = True
    name: ClassVar[str] = "economic greedy"

    def __post_init__(self) -> None:
        if not isinstance(self.serve_zero, bool | np.bool_):
            raise TypeError(f"serve_zero must be True or False, not {self.serve_zero!r}.")

    def _share(self, consumption: Array, production: Array, axis: Axis) -> Shares:
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
        production = read_only(production)
        production_total = pooled.pooled_production(production)
        serve_zero = bool(self.serve_zero)
        if not per_step and is_by_member(consumption):
            outputs = empty_shares(consumption, production)  # member-major, like the input
            allocated, grid_supply, self_consumed, surplus = outputs
            greedy.greedy_fixed_by_member(
                read_only(consumption).T,
                production,
                production_total,
                read_only(table),
                _order(table),
                serve_zero,
                allocated.T,
                grid_supply.T,
                self_consumed,
                surplus,
                by_member.CHUNKS,
            )
            return Shares(*outputs)
        rows = read_only(np.ascontiguousarray(consumption))  # one copy for member-major data
        allocated, grid_supply, self_consumed, surplus = outputs = empty_shares(rows, production)
        if per_step:
            greedy.greedy_per_step(
                rows,
                production,
                production_total,
                read_only(np.ascontiguousarray(table)),
                serve_zero,
                *outputs,
            )
        else:
            greedy.greedy_fixed(
                rows,
                production,
                production_total,
                read_only(table),
                _order(table),
                serve_zero,
                *outputs,
            )
        return Shares(allocated, grid_supply, self_consumed, surplus)


def _order(values: Array) -> NDArray[np.intp]:
    """Consumers by decreasing value; equal values keep their column order."""
    return read_only(np.argsort(-values, kind="stable"))


# --- whole Wh ------------------------------------------------------------------------------


def _half_up(wh: Array) -> Integers:
    """Wh -> whole Wh, half up, after rounding away float noise below 1e-6 Wh."""
    rounded: Integers = np.floor(np.round(wh, 6) + 0.5).astype(np.int64)
    return rounded


def whole_wh(energy: Array) -> Integers:
    """kWh -> whole Wh, rounding half up, after removing the float noise of the conversion.

    ``floor(round(1000 * x, 6) + 0.5)``: 0.2705 kWh (541 W over 30 min) is 270.5 Wh and
    rounds to 271, although ``1000 * 0.2705`` is ``270.49999999999997`` in floating point.
    """
    return _half_up(np.asarray(energy, dtype=np.float64) * 1000.0)


def _to_wh(energy: Array) -> Array:
    wh: Array = np.round(np.asarray(energy, dtype=np.float64) * 1000.0, 6)
    return wh


def apportion(target: Integers, exact: Array, cap: Integers) -> Integers:
    """Integers ``x[t, k]`` in ``[0, cap[t, k]]`` summing to ``target[t]``, close to ``exact``.

    Largest remainder per row: start from ``clip(floor(exact), 0, cap)``, then give one more
    unit to the members furthest below their exact value (or take one from those furthest
    above), ties to the earlier column, until the row sums to its target. Requires ``0 <=
    target <= sum_k cap``. When ``sum_k floor(exact) <= target <= sum_k ceil(exact)`` and
    ``exact <= cap``, every ``x`` is ``floor(exact)`` or ``ceil(exact)``.
    """
    result = np.clip(np.floor(exact), 0, cap).astype(np.int64)
    columns = np.arange(exact.shape[1])
    while True:
        gap = target - result.sum(axis=1)
        rows = np.flatnonzero(gap)  # only the rows still off their target
        if not len(rows):
            return result
        row_result, row_exact, row_cap = result[rows], exact[rows], cap[rows]
        up = gap[rows, None] > 0
        # Rank by how far below (adding) or above (removing) its exact value each member is.
        distance = np.where(up, row_exact - row_result, row_result - row_exact)
        room = np.where(up, row_result < row_cap, row_result > 0)
        distance = np.where(room, distance, -np.inf)
        order = np.argsort(-distance, axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, columns[None, :], axis=1)
        chosen = room & (rank < np.abs(gap[rows])[:, None])
        if not chosen.any(axis=1).all():
            raise ValueError("apportion needs 0 <= target <= sum of caps on every row.")
        result[rows] = row_result + np.where(chosen, np.where(up, 1, -1), 0)


@dataclass(frozen=True)
class WholeWh:
    """An allocation in whole Wh (int64) per step, every invariant exact in integers.

    Attributes
    ----------
    consumption, allocated, grid_supply : pandas.DataFrame
        CONS, AUTOCONS, COMPLEMENT per consumer: ``0 <= allocated <= consumption`` and
        ``grid_supply = consumption - allocated``. [Wh]
    production, self_consumed, surplus : pandas.DataFrame
        PROD, AUTOPROD, SURPLUS per producer: ``self_consumed + surplus = production``,
        both ``>= 0``. [Wh]

    At every step ``sum_i allocated = sum_j self_consumed <= sum_j production``.
    """

    consumption: pd.DataFrame
    production: pd.DataFrame
    allocated: pd.DataFrame
    grid_supply: pd.DataFrame
    self_consumed: pd.DataFrame
    surplus: pd.DataFrame


def to_whole_wh(allocation: Allocation | AllocationArrays) -> WholeWh:
    """An allocation in whole Wh that keeps every invariant exactly, for invoices.

    Rules, per step ``t`` (all values in Wh, ``x_wh = 1000 * x_kWh``):

    1. ``C_int[t, i]``: consumption rounded half up (:func:`whole_wh`), within 0.5 Wh.
    2. ``P_int[t, :]``: production by largest remainder over the producers of the step, so
       that ``sum_j P_int = round_half_up(P_tot_wh)`` (each within 1 Wh; exactly half up
       with one producer). Rounding each producer alone could lose up to 0.5 Wh per
       producer from the pooled production, and then some consumer would have to move by
       1 Wh or more.
    3. ``a[t, i] = min(A_wh[t, i], C_int[t, i])`` and the step's total ``S_int[t] =
       min(round_half_up(sum_i a), sum_j P_int)``; ``A_int`` is ``a`` apportioned to
       ``S_int`` by largest remainder (:func:`apportion`): each ``A_int`` is within 1 Wh
       of ``A_wh`` (strictly) and never above ``C_int``.
    4. ``AUTOPROD_int``: ``b = AUTOPROD_wh * S_int / sum_j AUTOPROD_wh`` (the exact
       attribution scaled to the integer total), ``min(b, P_int)`` apportioned to ``S_int``
       with caps ``P_int``. Where no cap binds each is within 1 Wh of ``b``, hence within
       ``1 + |S_int - sum_i A_wh|`` Wh of ``AUTOPROD_wh``: the consumers' side is exact to
       1 Wh, the producers' side absorbs the rounding of the total (which comes from
       consumption rounded below what a consumer was allocated).
    5. ``COMPLEMENT_int = C_int - A_int``, ``SURPLUS_int = P_int - AUTOPROD_int``.

    Ties between equal remainders go to the member whose id sorts first (the column order
    when ids cannot be sorted), so that the result does not depend on the column order.

    Parameters
    ----------
    allocation : Allocation or AllocationArrays
        Any allocation (from :func:`repartition.allocate` or
        :func:`repartition.allocate_arrays`). For arrays, members are named by column number
        and steps by row number.

    Returns
    -------
    WholeWh
        int64 tables in Wh on the allocation's index and member ids.

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays, keys
    >>> from repartition.economic import to_whole_wh
    >>> consumption = np.array([[0.001, 0.001, 0.001]])  # kWh: 1 Wh each
    >>> result = allocate_arrays(consumption, np.array([0.002]), keys.Prorata())
    >>> whole = to_whole_wh(result)  # 2 Wh for 3 consumers: 2/3 Wh each
    >>> whole.allocated.to_numpy(), whole.surplus.to_numpy()
    (array([[1, 1, 0]]), array([[0]]))
    """
    arrays = allocation.arrays if isinstance(allocation, Allocation) else allocation
    if isinstance(allocation, Allocation):
        index: pd.Index = allocation.index
        consumers, producers = allocation.consumers, allocation.producers
    else:
        index = pd.RangeIndex(arrays.consumption.shape[0])
        consumers = pd.RangeIndex(arrays.consumption.shape[1])
        producers = pd.RangeIndex(arrays.production.shape[1])
    consumer_order, producer_order = _tie_order(consumers), _tie_order(producers)
    back_c, back_p = np.argsort(consumer_order), np.argsort(producer_order)

    consumption = whole_wh(arrays.consumption[:, consumer_order])
    production_wh = _to_wh(arrays.production[:, producer_order])
    production_total = _half_up(np.sort(production_wh, axis=1).sum(axis=1))
    production = apportion(production_total, production_wh, np.ceil(production_wh).astype(np.int64))
    exact = np.minimum(_to_wh(arrays.allocated[:, consumer_order]), consumption)
    total = np.minimum(_half_up(np.sort(exact, axis=1).sum(axis=1)), production_total)
    allocated = apportion(total, exact, consumption)
    exact_prod = _to_wh(arrays.self_consumed[:, producer_order])
    exact_total = np.sort(exact_prod, axis=1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(exact_total > 0, total / exact_total, 0.0)
    exact_prod = np.minimum(exact_prod * factor[:, None], production)
    self_consumed = apportion(total, exact_prod, production)

    def table(values: Integers, columns: pd.Index, back: NDArray[np.intp]) -> pd.DataFrame:
        return pd.DataFrame(values[:, back], index=index, columns=columns)

    return WholeWh(
        consumption=table(consumption, consumers, back_c),
        production=table(production, producers, back_p),
        allocated=table(allocated, consumers, back_c),
        grid_supply=table(consumption - allocated, consumers, back_c),
        self_consumed=table(self_consumed, producers, back_p),
        surplus=table(production - self_consumed, producers, back_p),
    )


def _tie_order(members: pd.Index) -> NDArray[np.intp]:
    """Column positions in the order of the sorted ids (column order if they do not sort)."""
    try:
        order: NDArray[np.intp] = np.asarray(members.argsort(kind="stable"), dtype=np.intp)
    except TypeError:
        return np.arange(len(members), dtype=np.intp)
    return order
