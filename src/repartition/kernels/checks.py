"""Validation scans, compiled: one read of an array to find its first bad value.

The rules they check (for :mod:`repartition._inputs` and :mod:`repartition._coefficients`):
an energy is a finite number ``>= 0`` (not NaN, not inf, not negative); a coefficient is in
``[0, 1]`` (NaN is left to the callers, which give it a meaning); a coefficient table's rows
have a sum of their non-NaN values and a NaN count. :func:`first_invalid_energy` and
:func:`first_invalid_coefficient` read any C-contiguous array in memory order (a member-major
table as its transpose); :func:`first_invalid_energy_by_member` also sums each step on the
way, as :func:`repartition.kernels.members.member_sums` does; :func:`row_sums_and_nans` reads
a row-major table and :func:`column_sums_and_nans` the transpose of a member-major one. The
callers pick the scan for the data's layout. NumPy twins: ``_is_bad_energy`` in
:mod:`repartition._inputs` and ``_is_out_of_range`` in :mod:`repartition._coefficients`
(which then locate the culprit), ``np.nansum`` and ``np.isnan`` for the row sums.

The scans run in parallel over chunks. Each chunk first *counts* its bad values with a
loop that has no early exit (so it vectorises and runs at memory speed); only a chunk with
a bad value is scanned again for the position. The caller, which knows the member ids and
timestamps, turns the position into an error that names the culprit.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange, serial_kernel
from repartition.kernels.members import chunk_bounds

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


@parallel_kernel
def first_invalid_energy_by_member(values_by_member, chunks):  # type: ignore[no-untyped-def]
    """:func:`first_invalid_energy` for a member-major (members, steps) array, which also
    returns ``sum_i values[i, t]`` per step, summed on the way exactly as
    :func:`repartition.kernels.members.member_sums` sums them (same chunks, same order),
    so that the kernels that need the per-step totals do not read the array again.
    """
    members, steps = values_by_member.shape
    partial = np.zeros((chunks, steps))
    found = np.full(chunks, -1, dtype=np.int64)
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            good = 0
            for t in range(steps):
                value = values_by_member[i, t]
                good += (value >= 0.0) & (value < np.inf)
                partial[chunk, t] += value
            if good < steps and found[chunk] < 0:
                for t in range(steps):
                    if _is_bad_energy(values_by_member[i, t]):
                        found[chunk] = i * steps + t
                        break
    for chunk in range(chunks):
        if found[chunk] >= 0:
            return found[chunk], partial.sum(axis=0)
    return -1, partial.sum(axis=0)


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
    """Per row of a row-major (steps, members) coefficient table, in one read: the sum of
    its non-NaN values and its NaN count; and the number of values outside [0, 1] in the
    whole table (the caller locates the first one only when there is one).
    """
    rows, columns = values.shape
    sums = np.zeros(rows)
    nans = np.zeros(rows, dtype=np.int64)
    outside = np.zeros(rows, dtype=np.int64)
    for t in prange(rows):
        total = 0.0
        missing = 0
        bad = 0
        for i in range(columns):
            value = values[t, i]
            if np.isnan(value):
                missing += 1
            else:
                total += value
                bad += (value < 0.0) | (value > 1.0)
        sums[t] = total
        nans[t] = missing
        outside[t] = bad
    return sums, nans, outside.sum()


@parallel_kernel
def column_sums_and_nans(values):  # type: ignore[no-untyped-def]
    """:func:`row_sums_and_nans` for a member-major table, given as its C-contiguous
    (members, steps) transpose: per step, non-NaN sum and NaN count; values outside [0, 1].

    Steps are split in blocks, each block's sums accumulated member by member, reading
    memory in order.
    """
    members, steps = values.shape
    sums = np.zeros(steps)
    nans = np.zeros(steps, dtype=np.int64)
    block = 1024
    blocks = (steps + block - 1) // block
    outside = np.zeros(blocks, dtype=np.int64)
    for number in prange(blocks):
        start = number * block
        stop = min(start + block, steps)
        bad = 0
        for i in range(members):
            for t in range(start, stop):
                value = values[i, t]
                if np.isnan(value):
                    nans[t] += 1
                else:
                    sums[t] += value
                    bad += (value < 0.0) | (value > 1.0)
        outside[number] = bad
    return sums, nans, outside.sum()
