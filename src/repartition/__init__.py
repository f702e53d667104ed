"""repartition: share the local production of an energy community among its members.

Step by step, for a whole year, fast: the keys the French DSO applies (prorata, static,
dynamic, full dynamic) reproduced exactly, on pandas tables or plain NumPy arrays.

>>> from repartition import allocate, keys
>>> # allocation = allocate(consumption, production, keys.Prorata())
"""

from repartition import errors, keys
from repartition.allocation import Allocation, AllocationArrays, AllocationSummary
from repartition.engine import allocate, allocate_arrays

__all__ = [
    "Allocation",
    "AllocationArrays",
    "AllocationSummary",
    "allocate",
    "allocate_arrays",
    "errors",
    "keys",
]

__version__ = "0.1.0"
