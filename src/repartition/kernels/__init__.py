"""Numba kernels: pure functions on C-contiguous float64 arrays, no pandas, no validation.

- :mod:`repartition.kernels.pooled`: prorata, static, static with redistribution, dynamic.
- :mod:`repartition.kernels.full_dynamic`: the per-pair full dynamic key.
- :mod:`repartition.kernels.checks`: one-pass scans used by input validation.

Their NumPy twins are in :mod:`repartition.reference`.
"""
