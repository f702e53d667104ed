"""Money as a French PMO counts it: the supplier's energy, the local energy, and per-kWh
taxes and network charges on AUTOCONS and COMPLEMENT (docs/report.md, "Money").

For consumer ``i`` over a period (a day, a month), with ``r[t, i]`` its retail price,
``l_p`` producer ``p``'s local price and ``flow[p -> i]`` what it received from ``p``:

- ``supplier = sum_t r[t, i] COMPLEMENT[t, i]``;
- ``local = sum_p l_p flow[p -> i]``;
- each :class:`Charge` ``c``: ``price_c x`` the energy it applies to (``COMPLEMENT``,
  ``AUTOCONS`` or ``CONS``; on AUTOCONS a price may depend on the producer, e.g. an excise
  rate for energy shared from small plants: ``sum_p price_c,p flow[p -> i]``);
- ``cost = supplier + local + sum_c charge_c``;
- ``cost_without = sum_t r[t, i] CONS[t, i] + sum_(c on COMPLEMENT or CONS) price_c CONS``:
  everything bought from the supplier, with the charges the supplier's energy bears;
- ``savings = cost_without - cost``.

A producer's ``revenue = l_p AUTOPROD_p + s_p SURPLUS_p`` (local and surplus prices).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition.allocation import Allocation
from repartition.metrics import Tariffs
from repartition.metrics.tariffs import producer_prices, retail_prices
from repartition.time import PARIS

__all__ = ["Charge", "ConsumerMoney", "ProducerMoney", "consumer_money", "producer_money"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Charge:
    """A tax or network component, per kWh of the energy it applies to.

    Parameters
    ----------
    name : str
        As the statement prints it ("Accise sur l'électricité", "TURPE, part énergie").
    on : {"complement", "autocons", "consumption"}
        The energy it is paid on.
    price : float or mapping
        [EUR/kWh]; on ``"autocons"``, a mapping from producer PRM to price gives each
        producer's own (e.g. a reduced excise for small plants), the others at ``default``.
    default : float
        The price for producers a mapping leaves out. [EUR/kWh]
    """

    name: str
    on: Literal["complement", "autocons", "consumption"]
    price: float | Mapping[str, float]
    default: float = 0.0

    def __post_init__(self) -> None:
        if self.on not in ("complement", "autocons", "consumption"):
            raise errors.ParameterError(
                f"Charge {self.name!r}: on must be 'complement', 'autocons' or 'consumption', "
                f"not {self.on!r}."
            )
        if isinstance(self.price, Mapping):
            if self.on != "autocons":
                raise errors.ParameterError(
                    f"Charge {self.name!r}: a price per producer applies to AUTOCONS only."
                )
            prices = dict(self.price.items())
            values = [*prices.values(), self.default]
        else:
            values = [self.price]
        for value in values:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise errors.ParameterTypeError(
                    f"Charge {self.name!r}: prices are numbers in EUR/kWh, not {value!r}."
                )
            if not np.isfinite(value):
                raise errors.ParameterError(f"Charge {self.name!r}: price {value!r} is not finite.")

    def per_producer(self, producers: pd.Index) -> Array:
        """The price on energy from each producer. [EUR/kWh]"""
        if isinstance(self.price, Mapping):
            unknown = sorted(set(self.price) - {str(p) for p in producers})
            if unknown:
                raise errors.UnknownMemberError(
                    f"Charge {self.name!r} prices producer {unknown[0]}, which the operation "
                    "does not have.",
                    member=unknown[0],
                )
            return np.array([float(self.price.get(str(p), self.default)) for p in producers])
        return np.full(len(producers), float(self.price))


@dataclass(frozen=True)
class ConsumerMoney:
    """Per period (rows: the days, then the month) and consumer (columns) [EUR]."""

    supplier: pd.DataFrame
    local: pd.DataFrame
    charges: dict[str, pd.DataFrame]
    cost: pd.DataFrame
    cost_without: pd.DataFrame
    savings: pd.DataFrame


@dataclass(frozen=True)
class ProducerMoney:
    """Per day (rows) and producer (columns) [EUR]."""

    local: pd.DataFrame
    surplus: pd.DataFrame
    revenue: pd.DataFrame


def local_days(allocation: Allocation, tz: str) -> tuple[NDArray[np.intp], pd.Index]:
    """The first step of each local day in ``tz``, and the days."""
    local = pd.DatetimeIndex(allocation.index).tz_convert(tz)
    dates = pd.Index(local.date)
    starts = np.flatnonzero(np.r_[True, dates[1:] != dates[:-1]])
    return starts, pd.Index(dates[starts], name="day")


def _per_day(values: Array, starts: NDArray[np.intp]) -> Array:
    return np.add.reduceat(values, starts, axis=0) if len(values) else values


def consumer_money(
    allocation: Allocation, tariffs: Tariffs, charges: Sequence[Charge] = (), tz: str = PARIS
) -> ConsumerMoney:
    """Each consumer's money, day by day in ``tz`` (see the module's formulas)."""
    starts, days = local_days(allocation, tz)
    steps, consumers = allocation.arrays.allocated.shape
    retail = retail_prices(tariffs, allocation)
    prices = np.broadcast_to(
        np.asarray(retail.values, dtype=np.float64)[:, None]
        if retail.per == "step"
        else np.asarray(retail.values, dtype=np.float64),
        (steps, consumers),
    )
    allocated = allocation.arrays.allocated
    complement = allocation.arrays.grid_supply
    consumption = allocated + complement
    producers = allocation.producers
    # (day, producer, consumer) [kWh]: the producers' part of each local day's AUTOCONS.
    daily_flows = allocation.arrays.flows(starts.astype(np.int64))
    local_price = producer_prices(tariffs, "local", allocation)
    local_prices = np.broadcast_to(np.asarray(local_price, dtype=np.float64), (len(producers),))
    supplier = _per_day(prices * complement, starts)
    local = np.einsum("p,dpi->di", local_prices, daily_flows)
    without = _per_day(prices * consumption, starts)
    charge_tables = {}
    total_charges = np.zeros_like(supplier)
    for charge in charges:
        if charge.on == "autocons":
            amount = np.einsum("p,dpi->di", charge.per_producer(producers), daily_flows)
        else:
            energy = complement if charge.on == "complement" else consumption
            assert not isinstance(charge.price, Mapping)
            amount = float(charge.price) * _per_day(energy, starts)
            without = without + float(charge.price) * _per_day(consumption, starts)
        charge_tables[charge.name] = amount
        total_charges = total_charges + amount
    cost = supplier + local + total_charges

    def frame(values: Array) -> pd.DataFrame:
        table = pd.DataFrame(values, index=days, columns=allocation.consumers)
        return table

    return ConsumerMoney(
        supplier=frame(supplier),
        local=frame(local),
        charges={name: frame(values) for name, values in charge_tables.items()},
        cost=frame(cost),
        cost_without=frame(without),
        savings=frame(without - cost),
    )


def producer_money(allocation: Allocation, tariffs: Tariffs, tz: str = PARIS) -> ProducerMoney:
    """Each producer's revenue, day by day in ``tz``."""
    starts, days = local_days(allocation, tz)
    producers = len(allocation.producers)
    local = np.broadcast_to(
        np.asarray(producer_prices(tariffs, "local", allocation), dtype=np.float64), (producers,)
    )
    surplus_price = np.broadcast_to(
        np.asarray(producer_prices(tariffs, "surplus", allocation), dtype=np.float64),
        (producers,),
    )
    shared = _per_day(allocation.arrays.self_consumed, starts) * local
    surplus = _per_day(allocation.arrays.surplus, starts) * surplus_price

    def frame(values: Array) -> pd.DataFrame:
        return pd.DataFrame(values, index=days, columns=allocation.producers)

    return ProducerMoney(frame(shared), frame(surplus), frame(shared + surplus))
