"""Member-major twins of the pooled and full dynamic kernels.

pandas stores a frame of float columns as one (members, steps) block, so the
(steps, members) array behind a typical DataFrame is column-major. Turning it row-major
would cost a transposition, several times a copy; these kernels read it in memory order
instead. Every array named ``*_by_member`` here is C-contiguous with shape
(members, steps): the transpose of the (steps, members) array the user sees.

The members are split in a fixed number of chunks, shared among the threads; each chunk's
rows are read whole, in memory order, and what a rule needs per step is summed into the
chunk's own buffer, added afterwards in chunk order (style.md: no two threads write the
same cell; the result does not depend on the number of threads). The water-filling is in
:mod:`repartition.kernels.water_by_member`. Same formulas,
same outputs as :mod:`repartition.kernels.pooled` and :mod:`repartition.kernels.full_dynamic`;
NumPy twins in :mod:`repartition.reference`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import parallel_kernel, prange
from repartition.kernels.members import CHUNKS, chunk_bounds

Array = NDArray[np.float64]


@parallel_kernel
def add_offered(coefficients_by_member, production, producer, offered_by_member, first):  # type: ignore[no-untyped-def]
    """Full dynamic: ``offered[t, i] (+)= k[t, i] * P[t, producer]``, member by member."""
    members, steps = coefficients_by_member.shape
    for i in prange(members):
        if first:
            for t in range(steps):
                offered_by_member[i, t] = coefficients_by_member[i, t] * production[t, producer]
        else:
            for t in range(steps):
                offered_by_member[i, t] += coefficients_by_member[i, t] * production[t, producer]


@parallel_kernel
def _pair_sums(coefficients_by_member, scale_by_member, chunks):  # type: ignore[no-untyped-def]
    """``sum_i k[i, t] * scale[i, t]`` per step (per-thread partial sums, as above)."""
    members, steps = coefficients_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                partial[chunk, t] += coefficients_by_member[i, t] * scale_by_member[i, t]
    return partial.sum(axis=0)


def attribute_producer(
    coefficients_by_member: Array,
    production: Array,
    producer: int,
    scale_by_member: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Full dynamic: AUTOPROD ``= P[t, j] * min(1, sum_i k[t, i] * scale[t, i])`` and SURPLUS."""
    fraction = np.minimum(1.0, _pair_sums(coefficients_by_member, scale_by_member, CHUNKS))
    power = production[:, producer]
    shared = fraction * power
    self_consumed[:, producer] = shared
    surplus[:, producer] = power - shared
