"""Money: each consumer's bill and savings, each producer's revenue and gain.

Prices come from a :class:`~repartition.metrics.Tariffs`; energies from the
:class:`~repartition.Allocation`, summed over its whole period. Amounts are in the currency
of the prices (EUR when prices are in EUR/kWh).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from repartition import errors
from repartition.allocation import Allocation
from repartition.metrics.tariffs import Tariffs, producer_prices, retail_prices

__all__ = ["bills", "producer_revenue"]


def _check_arguments(allocation: object, tariffs: object, function: str) -> None:
    if not isinstance(allocation, Allocation):
        raise errors.ParameterTypeError(
            f"{function} takes the Allocation returned by repartition.allocate, not "
            f"{type(allocation).__name__}."
        )
    if not isinstance(tariffs, Tariffs):
        raise errors.ParameterTypeError(
            f"{function} takes a repartition.metrics.Tariffs, not {type(tariffs).__name__}: "
            "e.g. `Tariffs(retail=0.25, local=0.15, surplus=0.04)`."
        )


def bills(allocation: Allocation, tariffs: Tariffs) -> pd.DataFrame:
    """Each consumer's bill over the period, with and without the community.

    With ``r[t, i]`` the retail price (``tariffs.retail``), ``l_p`` the local price of
    producer ``p`` (``tariffs.local``), ``COMPLEMENT[t, i]`` the grid supply, ``A[t, i]``
    the energy allocated (AUTOCONS), ``CONS = A + COMPLEMENT`` and
    ``flow[p -> i] = sum_t flow[t, p, i]`` the energy consumer ``i`` received from producer
    ``p`` over the period (:meth:`repartition.Allocation.flows`):

    - ``grid_cost = sum_t r[t, i] * COMPLEMENT[t, i]``: bought from the supplier;
    - ``local_cost = sum_p l_p * flow[p -> i]``: paid for local energy;
    - ``bill = grid_cost + local_cost``;
    - ``bill_without_community = sum_t r[t, i] * CONS[t, i]``: everything bought from
      the supplier;
    - ``savings = bill_without_community - bill
      = sum_t r[t, i] * A[t, i] - local_cost``.

    With one local price ``l`` for every producer, ``local_cost = l * sum_t A[t, i]`` and
    the bill is, as in docs/metrics.md, "Bills and savings (consumers)",
    ``price_retail_i * COMPLEMENT + price_local * AUTOCONS``, the special case of a flat
    retail price and a single local price.

    Parameters
    ----------
    allocation : Allocation
        Any result of :func:`repartition.allocate`.
    tariffs : Tariffs
        Retail and local prices; ``tariffs.surplus`` is not used here.

    Returns
    -------
    pandas.DataFrame
        One row per consumer (the allocation's consumer ids), columns ``grid_cost``,
        ``local_cost``, ``bill``, ``bill_without_community`` and ``savings``, in currency
        (EUR for prices in EUR/kWh). ``savings`` is computed as
        ``sum_t r * A - local_cost`` (no cancellation between two large bills), equal to
        ``bill_without_community - bill`` up to rounding; it is negative for a consumer whose
        local energy costs more than the retail energy it replaces.

    Raises
    ------
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        A price for a member the allocation does not have, or a member without a price.
    repartition.errors.IndexMismatchError
        Time-of-use retail prices without a row for a step of the allocation.

    Notes
    -----
    The local cost is computed from the producer -> consumer flows summed over the period
    (one matrix product, no steps x producers x consumers array) when local prices differ
    between producers, and from ``sum_t A[t, i]`` when there is one local price. What
    consumers pay for local energy is what producers receive for it
    (:func:`producer_revenue`'s ``local_revenue``), to rounding.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> from repartition.metrics import Tariffs, bills
    >>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, 2.0]}, index=index)
    >>> production = pd.Series([2.0, 5.0], index=index, name="PV")
    >>> allocation = allocate(consumption, production, keys.Prorata())
    >>> allocation.allocated.sum().to_dict()  # 0.5 + 2 and 1.5 + 2 kWh
    {'A': 2.5, 'B': 3.5}
    >>> bills(allocation, Tariffs(retail=0.2, local=0.1, surplus=0.05)).round(4)
       grid_cost  local_cost  bill  bill_without_community  savings
    A        0.1        0.25  0.35                     0.6     0.25
    B        0.3        0.35  0.65                     1.0     0.35
    """
    _check_arguments(allocation, tariffs, "bills")
    retail = retail_prices(tariffs, allocation)
    local = producer_prices(tariffs, "local", allocation)
    allocated = allocation.arrays.allocated
    grid_cost = retail.cost(allocation.arrays.grid_supply)
    allocated_value = retail.cost(allocated)  # what AUTOCONS would cost at retail prices
    if isinstance(local, float):
        local_cost = local * allocated.sum(axis=0)
    else:
        local_cost = local @ allocation.arrays.flows()[0]
    return pd.DataFrame(
        {
            "grid_cost": grid_cost,
            "local_cost": local_cost,
            "bill": grid_cost + local_cost,
            "bill_without_community": grid_cost + allocated_value,
            "savings": allocated_value - local_cost,
        },
        index=allocation.consumers,
    )


def producer_revenue(allocation: Allocation, tariffs: Tariffs) -> pd.DataFrame:
    """Each producer's revenue over the period, with and without the community.

    With ``l_p`` the local price and ``s_p`` the surplus price of producer ``p``
    (``tariffs.local``, ``tariffs.surplus``) and its totals over the period AUTOPROD,
    SURPLUS and PROD (:meth:`repartition.Allocation.by_producer`):

    - ``local_revenue = l_p * AUTOPROD_p``: paid by the consumers for local energy;
    - ``surplus_revenue = s_p * SURPLUS_p``: paid for the energy no consumer received;
    - ``revenue = local_revenue + surplus_revenue``;
    - ``revenue_without_community = s_p * PROD_p``: all of the production sold as surplus
      (*assumption*: outside the community the producer sells everything at its surplus
      price, as under a feed-in contract);
    - ``gain = revenue - revenue_without_community = (l_p - s_p) * AUTOPROD_p`` (since
      ``PROD = AUTOPROD + SURPLUS``); negative when the local price is below the surplus
      price.

    Parameters
    ----------
    allocation : Allocation
        Any result of :func:`repartition.allocate`.
    tariffs : Tariffs
        Local and surplus prices; ``tariffs.retail`` is not used here.

    Returns
    -------
    pandas.DataFrame
        One row per producer, columns ``local_revenue``, ``surplus_revenue``, ``revenue``,
        ``revenue_without_community`` and ``gain``, in currency (EUR for prices in EUR/kWh).

    Raises
    ------
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        A price for a producer the allocation does not have, or a producer without a price.

    Notes
    -----
    Money is conserved: ``producer_revenue(...)["local_revenue"].sum()`` equals
    ``bills(...)["local_cost"].sum()`` to rounding, since ``sum_i flow[p -> i] =
    AUTOPROD_p``. The community's gain over the period is
    ``bills(...)["savings"].sum() + producer_revenue(...)["gain"].sum()``, in which the
    local prices cancel out: ``sum_t sum_i r[t, i] * A[t, i] - sum_p s_p * AUTOPROD_p``.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> from repartition.metrics import Tariffs, producer_revenue
    >>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, 2.0]}, index=index)
    >>> production = pd.Series([2.0, 5.0], index=index, name="PV")
    >>> allocation = allocate(consumption, production, keys.Prorata())
    >>> producer_revenue(allocation, Tariffs(retail=0.2, local=0.1, surplus=0.05)).round(4)
        local_revenue  surplus_revenue  revenue  revenue_without_community  gain
    PV            0.6             0.05     0.65                       0.35   0.3
    """
    _check_arguments(allocation, tariffs, "producer_revenue")
    local = producer_prices(tariffs, "local", allocation)
    surplus = producer_prices(tariffs, "surplus", allocation)
    totals = allocation.by_producer()
    self_consumed = totals["self_consumed"].to_numpy()
    local_revenue = np.multiply(local, self_consumed)
    surplus_revenue = np.multiply(surplus, totals["surplus"].to_numpy())
    return pd.DataFrame(
        {
            "local_revenue": local_revenue,
            "surplus_revenue": surplus_revenue,
            "revenue": local_revenue + surplus_revenue,
            "revenue_without_community": np.multiply(surplus, totals["production"].to_numpy()),
            "gain": np.subtract(local, surplus) * self_consumed,
        },
        index=allocation.producers,
    )
