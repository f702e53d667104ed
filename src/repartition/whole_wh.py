"""Whole-Wh allocations for invoices that add up: :func:`to_whole_wh`.

Any allocation in integer Wh per step, every invariant kept exactly in integers
(:class:`WholeWh`): ``0 <= allocated <= consumption``, ``grid_supply = consumption -
allocated``, ``self_consumed + surplus = production``, and per step ``sum_i allocated =
sum_j self_consumed``. Re-exported by :mod:`repartition.keys`. See ``docs/keys.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition.allocation import Allocation, AllocationArrays

__all__ = ["WholeWh", "apportion", "to_whole_wh", "whole_wh"]

Array = NDArray[np.float64]
Integers = NDArray[np.int64]


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
    >>> from repartition.keys import to_whole_wh
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
