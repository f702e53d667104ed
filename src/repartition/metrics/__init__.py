"""Metrics of an allocation: rates, bills and revenues, fairness, members served.

Pure functions of an :class:`~repartition.Allocation` (and, for money, a :class:`Tariffs`);
each docstring states its formula, since the names of these quantities differ between
sources. See ``docs/metrics.md`` for all of them side by side.

- :func:`rates`: self-consumption (*taux d'autoconsommation*, ``sum A / sum P``) and
  self-sufficiency (*taux d'autoproduction*, ``sum A / sum C``) rates, overall and per
  member. [fraction]
- :class:`Tariffs`: retail prices (flat, per consumer, time-of-use), local and surplus
  prices per producer. [EUR/kWh]
- :func:`bills`: each consumer's grid and local costs, bill, bill without the community
  and savings. [EUR]
- :func:`producer_revenue`: each producer's local and surplus revenue and its gain over
  selling everything as surplus. [EUR]
- :func:`gini`, :func:`jain`: fairness indices over any per-member quantity.
- :func:`members_served`: consumers receiving local energy at each step.
- :func:`shapley_values`, :func:`coalition_value`: each consumer's share of the community's
  gain (exact up to 15 consumers, sampled beyond, with its standard error). [EUR]

>>> import pandas as pd
>>> from repartition import allocate, keys, metrics
>>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
>>> consumption = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, 2.0]}, index=index)
>>> production = pd.Series([2.0, 5.0], index=index, name="PV")
>>> allocation = allocate(consumption, production, keys.Prorata())
>>> tariffs = metrics.Tariffs(retail=0.2, local=0.1, surplus=0.05)
>>> savings = metrics.bills(allocation, tariffs)["savings"]
>>> round(metrics.gini(savings), 4)  # |0.25 - 0.35| * 2 / (2 * 2 * 0.6)
0.0833
"""

from repartition.metrics.fairness import gini, jain
from repartition.metrics.money import bills, producer_revenue
from repartition.metrics.rates import members_served, rates
from repartition.metrics.shapley import coalition_value, shapley_values
from repartition.metrics.tariffs import Tariffs

__all__ = [
    "Tariffs",
    "bills",
    "coalition_value",
    "gini",
    "jain",
    "members_served",
    "producer_revenue",
    "rates",
    "shapley_values",
]
