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

The scans run in parallel over chunks (:func:`repartition.kernels.threads.run_ranges`).
Each chunk first *counts* its bad values with a loop that has no early exit (so it
vectorises and runs at memory speed); only a chunk with a bad value is scanned again for
the position, which it writes to its own slot of a buffer; the first chunk with one wins,
whatever the threads. The caller, which knows the member ids and timestamps, turns the
position into an error that names the culprit.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel, serial_kernel
from repartition.kernels.members import chunk_bounds, sum_chunks
from repartition.kernels.threads import run_ranges

Array = NDArray[np.float64]

_CHUNK = 1 << 16


@serial_kernel
def _is_bad_energy(value):  # type: ignore[no-untyped-def]
    # One comparison rejects NaN, -inf and negatives; +inf is caught by the second.
    return not (value >= 0.0) or value == np.inf


def _first_found(found: NDArray[np.int64]) -> int:
    """The position found by the first chunk that found one; -1 if none did."""
    hits = np.flatnonzero(found >= 0)
    return int(found[hits[0]]) if hits.size else -1


@range_kernel
def _first_invalid_energy_chunks(flat, limit, found, large, first_chunk, stop_chunk):  # type: ignore[no-untyped-def]
    size = flat.size
    for chunk in range(first_chunk, stop_chunk):
        start = chunk * _CHUNK
        stop = min(start + _CHUNK, size)
        part = flat[start:stop]  # a loop from 0 over a slice vectorises; see _config
        good = 0
        for position in range(part.size):
            value = part[position]
            # Both comparisons are false for NaN; no branch, so the loop vectorises.
            good += (value >= 0.0) & (value <= limit)
        if good < stop - start:
            for position in range(start, stop):
                if _is_bad_energy(flat[position]):
                    found[chunk] = position
                    break
            else:
                large[chunk] = True  # finite, but large enough for a sum to overflow


def first_invalid_energy(values: Array, limit: float = np.inf) -> tuple[int, bool]:
    """First position (flattened memory order) holding NaN, inf or a negative number.

    ``values`` is a C-contiguous array of any number of dimensions. Returns that position
    (-1 when every value is a finite energy >= 0) and whether some finite value exceeds
    ``limit`` (for a caller that must check sums: with ``n`` values per row, no row sum
    can overflow while every value is at most ``float max / n``), found in the same read.
    """
    flat = values.reshape(-1)
    chunks = (flat.size + _CHUNK - 1) // _CHUNK
    found = np.full(chunks, -1, dtype=np.int64)
    large = np.zeros(chunks, dtype=np.bool_)
    # At most the largest finite number, so that +inf is never "within the limit".
    bound = min(float(limit), float(np.finfo(np.float64).max))
    run_ranges(_first_invalid_energy_chunks, chunks, flat.size, flat, bound, found, large)
    return _first_found(found), bool(large.any())


@range_kernel
def _first_invalid_energy_by_member_chunks(  # type: ignore[no-untyped-def]
    values_by_member, partial, found, chunks, first_chunk, stop_chunk
):
    members, steps = values_by_member.shape
    for chunk in range(first_chunk, stop_chunk):
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


def first_invalid_energy_by_member(values_by_member: Array, chunks: int) -> tuple[int, Array]:
    """:func:`first_invalid_energy` for a member-major (members, steps) array, which also
    returns ``sum_i values[i, t]`` per step, summed on the way exactly as
    :func:`repartition.kernels.members.member_sums` sums them (same chunks, same order),
    so that the kernels that need the per-step totals do not read the array again.
    """
    partial = np.zeros((chunks, values_by_member.shape[1]))
    found = np.full(chunks, -1, dtype=np.int64)
    run_ranges(
        _first_invalid_energy_by_member_chunks,
        chunks,
        values_by_member.size,
        *(values_by_member, partial, found, chunks),
    )
    totals: Array = sum_chunks(partial)
    return _first_found(found), totals


@serial_kernel
def _is_out_of_range(value):  # type: ignore[no-untyped-def]
    # NaN compares false both ways: it is left to the callers, which give it a meaning.
    return value < 0.0 or value > 1.0


@range_kernel
def _first_invalid_coefficient_chunks(flat, found, first_chunk, stop_chunk):  # type: ignore[no-untyped-def]
    size = flat.size
    for chunk in range(first_chunk, stop_chunk):
        start = chunk * _CHUNK
        stop = min(start + _CHUNK, size)
        part = flat[start:stop]
        good = 0
        for position in range(part.size):
            value = part[position]
            good += (value >= 0.0) & (value <= 1.0) | (value != value)
        if good < stop - start:
            for position in range(start, stop):
                if _is_out_of_range(flat[position]):
                    found[chunk] = position
                    break


def first_invalid_coefficient(values: Array) -> int:
    """First position (memory order) holding a value outside [0, 1], inf included; -1 if none."""
    flat = values.reshape(-1)
    chunks = (flat.size + _CHUNK - 1) // _CHUNK
    found = np.full(chunks, -1, dtype=np.int64)
    run_ranges(_first_invalid_coefficient_chunks, chunks, flat.size, flat, found)
    return _first_found(found)


@range_kernel
def _row_sums_and_nans_steps(values, sums, nans, outside, start, stop):  # type: ignore[no-untyped-def]
    columns = values.shape[1]
    for t in range(start, stop):
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


def row_sums_and_nans(values: Array) -> tuple[Array, NDArray[np.int64], int]:
    """Per row of a row-major (steps, members) coefficient table, in one read: the sum of
    its non-NaN values and its NaN count; and the number of values outside [0, 1] in the
    whole table (the caller locates the first one only when there is one).
    """
    rows = values.shape[0]
    sums = np.zeros(rows)
    nans = np.zeros(rows, dtype=np.int64)
    outside = np.zeros(rows, dtype=np.int64)
    run_ranges(_row_sums_and_nans_steps, rows, values.size, values, sums, nans, outside)
    return sums, nans, int(outside.sum())


_BLOCK = 1024
"""Steps per block of :func:`column_sums_and_nans`."""


@range_kernel
def _column_sums_and_nans_blocks(values, sums, nans, outside, first_block, stop_block):  # type: ignore[no-untyped-def]
    members, steps = values.shape
    block = _BLOCK
    for number in range(first_block, stop_block):
        start = number * block
        stop = min(start + block, steps)
        bad = 0
        block_sums = sums[start:stop]  # loops from 0 over slices vectorise (see _config)
        block_nans = nans[start:stop]
        for i in range(members):
            line = values[i, start:stop]
            for s in range(line.size):
                value = line[s]
                missing = value != value
                block_nans[s] += missing
                block_sums[s] += 0.0 if missing else value
                bad += (value < 0.0) | (value > 1.0)
        outside[number] = bad


def column_sums_and_nans(values: Array) -> tuple[Array, NDArray[np.int64], int]:
    """:func:`row_sums_and_nans` for a member-major table, given as its C-contiguous
    (members, steps) transpose: per step, non-NaN sum and NaN count; values outside [0, 1].

    Steps are split in blocks, each block's sums accumulated member by member, reading
    memory in order.
    """
    steps = values.shape[1]
    sums = np.zeros(steps)
    nans = np.zeros(steps, dtype=np.int64)
    blocks = (steps + _BLOCK - 1) // _BLOCK
    outside = np.zeros(blocks, dtype=np.int64)
    run_ranges(_column_sums_and_nans_blocks, blocks, values.size, values, sums, nans, outside)
    return sums, nans, int(outside.sum())
