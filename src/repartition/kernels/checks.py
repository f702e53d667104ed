"""Validation scans, compiled: one read of an array to find its first bad value.

They return the flat position of the first offending value (or -1), so that the caller,
which knows the member ids and timestamps, can name the culprit. Scanning in parallel
chunks and keeping the smallest position found keeps "first" well defined.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange

NAN = 0
INFINITE = 1
NEGATIVE = 2
ABOVE_ONE = 3

_CHUNK = 1 << 16


@parallel_kernel
def first_invalid_energy(values):  # type: ignore[no-untyped-def]
    """First position holding NaN, inf or a negative number in a C-contiguous array.

    Returns ``(position, kind)`` with kind one of ``NAN``, ``INFINITE``, ``NEGATIVE``;
    ``(-1, -1)`` when every value is a finite energy >= 0.
    """
    flat = values.reshape(-1)
    size = flat.size
    chunks = (size + _CHUNK - 1) // _CHUNK
    found = np.full(chunks, -1, dtype=np.int64)
    for chunk in prange(chunks):
        start = chunk * _CHUNK
        stop = min(start + _CHUNK, size)
        for position in range(start, stop):
            value = flat[position]
            # One comparison rejects NaN, -inf and negatives; inf is caught next.
            if not (value >= 0.0) or value == np.inf:
                found[chunk] = position
                break
    for chunk in range(chunks):
        if found[chunk] >= 0:
            value = flat[found[chunk]]
            if np.isnan(value):
                return found[chunk], NAN
            if np.isinf(value):
                return found[chunk], INFINITE
            return found[chunk], NEGATIVE
    return -1, -1


@parallel_kernel
def first_invalid_coefficient(values):  # type: ignore[no-untyped-def]
    """First position holding a value outside [0, 1] (NaN excluded: callers treat NaN)."""
    flat = values.reshape(-1)
    size = flat.size
    chunks = (size + _CHUNK - 1) // _CHUNK
    found = np.full(chunks, -1, dtype=np.int64)
    for chunk in prange(chunks):
        start = chunk * _CHUNK
        stop = min(start + _CHUNK, size)
        for position in range(start, stop):
            value = flat[position]
            if value < 0.0 or value > 1.0:
                found[chunk] = position
                break
    for chunk in range(chunks):
        if found[chunk] >= 0:
            return found[chunk]
    return -1


@parallel_kernel
def row_sums_and_nans(values):  # type: ignore[no-untyped-def]
    """Per row: the sum of the non-NaN values and the count of NaN values."""
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
