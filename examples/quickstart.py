"""Quickstart: share a synthetic community's solar production with two DSO keys.

Run with ``python examples/quickstart.py``. Energies are kWh per step (30 min).
"""

from repartition import allocate, keys
from repartition.synthetic import synthetic_community

consumption, production = synthetic_community(consumers=10, producers=2, seed=1)
shares = consumption.sum() / consumption.sum().sum()  # static key: share of annual use

for key in (keys.Prorata(), keys.Static(shares)):
    result = allocate(consumption, production, key)
    print(f"--- {key.label()}")
    print(result.summary().to_series().round(3).to_string())
    print(result.by_consumer().head().round(2))
