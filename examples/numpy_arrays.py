"""Plain NumPy arrays in, plain arrays out: ``allocate_arrays``, without labels.

Run with ``python examples/numpy_arrays.py``. Arrays are (steps, members), kWh per step;
key coefficients are taken in the columns' order.
"""

import numpy as np

from repartition import allocate_arrays, keys
from repartition.synthetic import demo_keys, synthetic_community

consumption, production = synthetic_community(consumers=8, producers=2, step="1h", seed=2)
C, P = consumption.to_numpy(), production.to_numpy()  # (8760, 8) and (8760, 2)
dynamic = demo_keys(consumption, production).dynamic.to_numpy()  # (8760, 8), rows <= 1

static = keys.Static(np.full(C.shape[1], 1 / C.shape[1]), redistribute=True)
for key in (keys.Prorata(), static, keys.Dynamic(dynamic)):
    result = allocate_arrays(C, P, key)
    allocated, surplus = result.allocated.sum(), result.surplus.sum()
    print(f"{key.label():22} allocated {allocated:9.1f} kWh  surplus {surplus:9.1f} kWh")
    print("  per consumer [kWh]:", np.round(result.allocated.sum(axis=0)).astype(int))
    print("  producer -> consumer [kWh]:\n", np.round(result.flows()[0]).astype(int))
