"""The member-major toolkit: chunks of members, and per-step sums over them.

A member-major kernel reads a C-contiguous (members, steps) array, the transpose of the
(steps, members) table the user sees (pandas' usual layout; see
:mod:`repartition.kernels.layout`). Its members are split in :data:`CHUNKS` fixed chunks,
shared among the threads; each chunk's rows are read whole, in memory order, and what a rule
needs per step is summed into the chunk's own buffer, the buffers being added afterwards in
chunk order (style.md: no two threads write the same cell; the result does not depend on the
number of threads).

No rule here: the rules' member-major kernels sit beside their row-major twins in each
rule's module. NumPy twin of :func:`member_sums`: ``values.sum(axis=0)``.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange, serial_kernel

__all__ = ["CHUNKS", "chunk_bounds", "member_sums"]

CHUNKS = 16
"""Chunks of members summed separately, then added in chunk order. A fixed number, not one
per thread, so that the result does not depend on the number of threads to the last bit."""


@serial_kernel
def chunk_bounds(chunk, chunks, members):  # type: ignore[no-untyped-def]
    """Members ``[first, stop)`` of one of ``chunks`` equal chunks."""
    return chunk * members // chunks, (chunk + 1) * members // chunks


@parallel_kernel
def member_sums(values_by_member, chunks):  # type: ignore[no-untyped-def]
    """``sum_i values[i, t]`` per step, reading memory in order.

    Each thread sums its own chunk of members into its own row of ``partial``; the rows
    are added serially afterwards (no two threads ever write the same step).
    """
    members, steps = values_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                partial[chunk, t] += values_by_member[i, t]
    return partial.sum(axis=0)
