"""repartition: share the local production of an energy community among its members.

Step by step, for a whole year, fast: the keys the French DSO applies (prorata, static,
dynamic, full dynamic) reproduced exactly, on pandas tables or plain NumPy arrays.

>>> import pandas as pd
>>> from repartition import allocate, keys
>>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
>>> consumption = pd.DataFrame({"PRM_A": [1.0, 2.0], "PRM_B": [3.0, 2.0]}, index=index)
>>> production = pd.Series([2.0, 5.0], index=index, name="PV")
>>> allocate(consumption, production, keys.Prorata()).summary().self_sufficiency_rate
0.75
"""

from repartition import errors, keys, metrics
from repartition.allocation import Allocation, AllocationArrays, AllocationSummary
from repartition.compare import compare, plot_comparison
from repartition.engine import allocate, allocate_arrays
from repartition.kernels.threads import get_threads, threads
from repartition.to_key import to_dynamic_key
from repartition.warming import warm_up

__all__ = [
    "Allocation",
    "AllocationArrays",
    "AllocationSummary",
    "allocate",
    "allocate_arrays",
    "compare",
    "errors",
    "get_threads",
    "keys",
    "metrics",
    "plot_comparison",
    "threads",
    "to_dynamic_key",
    "warm_up",
]

__version__ = "0.1.0"
