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
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel, serial_kernel
from repartition.kernels.threads import run_ranges

__all__ = ["CHUNKS", "chunk_bounds", "member_sums", "sum_chunks"]

Array = NDArray[np.float64]

CHUNKS = 16
"""Chunks of members summed separately, then added in chunk order. A fixed number, not one
per thread, so that the result does not depend on the number of threads to the last bit."""


@serial_kernel
def chunk_bounds(chunk, chunks, members):  # type: ignore[no-untyped-def]
    """Members ``[first, stop)`` of one of ``chunks`` equal chunks."""
    return chunk * members // chunks, (chunk + 1) * members // chunks


@range_kernel
def _member_sums_chunks(values_by_member, partial, chunks, first_chunk, stop_chunk):  # type: ignore[no-untyped-def]
    members, steps = values_by_member.shape
    for chunk in range(first_chunk, stop_chunk):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                partial[chunk, t] += values_by_member[i, t]


@range_kernel
def sum_chunks(partial):  # type: ignore[no-untyped-def]
    """``partial.sum(axis=0)``, the chunks added in their order (0, 1, ...), as one thread
    would."""
    chunks, steps = partial.shape
    total = np.zeros(steps)
    for chunk in range(chunks):
        for t in range(steps):
            total[t] += partial[chunk, t]
    return total


def member_sums(values_by_member: Array, chunks: int) -> Array:
    """``sum_i values[i, t]`` per step, reading memory in order.

    Each chunk of members is summed into its own row of a buffer, on the threads of
    :func:`~repartition.kernels.threads.run_ranges`; the rows are added in chunk order
    afterwards (no two threads ever write the same cell).
    """
    partial = np.zeros((chunks, values_by_member.shape[1]))
    run_ranges(
        _member_sums_chunks, chunks, values_by_member.size, values_by_member, partial, chunks
    )
    total: Array = sum_chunks(partial)
    return total
