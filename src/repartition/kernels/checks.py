"""Validation scans, compiled: one read of an array to find its first bad value.

The scans run in parallel over chunks. Each chunk first *counts* its bad values with a
loop that has no early exit (so it vectorises and runs at memory speed); only a chunk with
a bad value is scanned again for the position. The caller, which knows the member ids and
timestamps, turns the position into an error that names the culprit.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange, serial_kernel

_CHUNK = 1 << 16


@serial_kernel
def _is_bad_energy(value):  # type: ignore[no-untyped-def]
    # One comparison rejects NaN, -inf and negatives; +inf is caught by the second.
    return not (value >= 0.0) or value == np.inf


@parallel_kernel
def first_invalid_energy(values):  # type: ignore[no-untyped-def]
    """First position (flattened memory order) holding NaN, inf or a negative number.

    ``values`` is a C-contiguous array of any number of dimensions; -1 when every value is
    a finite energy >= 0.
    """
    flat = values.reshape(-1)
    size = flat.size
    chunks = (size + _CHUNK - 1) // _CHUNK
    found = np.full(chunks, -1, dtype=np.int64)
    for chunk in prange(chunks):
        start = chunk * _CHUNK
        stop = min(start + _CHUNK, size)
        good = 0
        for position in range(start, stop):
            value = flat[position]
            # Both comparisons are false for NaN; no branch, so the loop vectorises.
            good += (value >= 0.0) & (value < np.inf)
        if good < stop - start:
            for position in range(start, stop):
                if _is_bad_energy(flat[position]):
                    found[chunk] = position
                    break
    for chunk in range(chunks):
        if found[chunk] >= 0:
            return found[chunk]
    return -1


@serial_kernel
def _is_out_of_range(value):  # type: ignore[no-untyped-def]
    # NaN compares false both ways: it is left to the callers, which give it a meaning.
    return value < 0.0 or value > 1.0


@parallel_kernel
def first_invalid_coefficient(values):  # type: ignore[no-untyped-def]
    """First position (memory order) holding a value outside [0, 1], inf included; -1 if none."""
    flat = values.reshape(-1)
    size = flat.size
    chunks = (size + _CHUNK - 1) // _CHUNK
    found = np.full(chunks, -1, dtype=np.int64)
    for chunk in prange(chunks):
        start = chunk * _CHUNK
        stop = min(start + _CHUNK, size)
        good = 0
        for position in range(start, stop):
            value = flat[position]
            good += (value >= 0.0) & (value <= 1.0) | (value != value)
        if good < stop - start:
            for position in range(start, stop):
                if _is_out_of_range(flat[position]):
                    found[chunk] = position
                    break
    for chunk in range(chunks):
        if found[chunk] >= 0:
            return found[chunk]
    return -1


@parallel_kernel
def row_sums_and_nans(values):  # type: ignore[no-untyped-def]
    """Per row of a (steps, members) array: the sum of its non-NaN values, and its NaN count.

    Works on either memory layout; for a column-major array pass its transpose to
    :func:`column_sums_and_nans` instead, which reads memory in order.
    """
    rows, columns = values.shape
    sums = np.zeros(rows)
    nans = np.zeros(rows, dtype=np.int64)
    for t in prange(rows):
        total = 0.0
        missing = 0
        for i in range(columns):
            value = values[t, i]
            if np.isnan(value):
                missing += 1
            else:
                total += value
        sums[t] = total
        nans[t] = missing
    return sums, nans


@parallel_kernel
def column_sums_and_nans(values):  # type: ignore[no-untyped-def]
    """Per column of a C-contiguous (members, steps) array: non-NaN sum and NaN count.

    The member-major twin of :func:`row_sums_and_nans`: steps are split in blocks, each
    block's sums are accumulated member by member, reading memory in order.
    """
    members, steps = values.shape
    sums = np.zeros(steps)
    nans = np.zeros(steps, dtype=np.int64)
    block = 1024
    for first in prange((steps + block - 1) // block):
        start = first * block
        stop = min(start + block, steps)
        for i in range(members):
            for t in range(start, stop):
                value = values[i, t]
                if np.isnan(value):
                    nans[t] += 1
                else:
                    sums[t] += value
    return sums, nans
