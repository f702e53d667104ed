"""Numba kernels: pure functions on contiguous float64 arrays, no pandas, no validation.

- :mod:`repartition.kernels.pooled`: prorata, static, static with redistribution, dynamic,
  on row-major (steps, members) arrays.
- :mod:`repartition.kernels.full_dynamic`: the per-pair full dynamic key, row-major.
- :mod:`repartition.kernels.by_member`: the same keys on member-major arrays (pandas'
  usual layout), read in memory order; :mod:`repartition.kernels.water_by_member` for the
  water-filling.
- :mod:`repartition.kernels.merit_order`: crediting shared energy to plants in order
  (the Italian key), plain NumPy.
- :mod:`repartition.kernels.checks`: one-pass scans used by input validation.

Their NumPy twins are in :mod:`repartition.reference`.
"""
