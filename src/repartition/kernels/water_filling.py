"""The static key with redistribution: water-filling, by rounds or to the exact limit.

``A[t, i] = min(C[t, i], k[i] * L[t])`` with the level ``L[t] >= P_tot[t]``: after ``rounds``
redistribution rounds (each gives what no one has yet received, ``P_tot - sum_i A``, to the
unsaturated keyed consumers in proportion to ``k``), or, for ``rounds == EXACT``, the limit
``sum_i min(C[t, i], k[i] * L[t]) = min(P_tot[t], sum_{k_i > 0} C[t, i])``. Consumers with
``k[i] = 0`` receive nothing. AUTOPROD and SURPLUS are the pooled attribution
(:mod:`repartition.kernels.attribution`). The keys :class:`~repartition.keys.Static` (with
``rounds`` or ``redistribute=True``), :class:`~repartition.keys.EqualShare` and
:class:`~repartition.keys.WeightedShare` run it.

:func:`water_filling_rows` takes the rounds row by row, in parallel over steps, and solves a
row that needs more than ``MAX_LEVEL_PASSES`` passes by sorting; :func:`water_filling_members`
takes the same rounds for every step at once on member-major data (its (consumers, steps)
transpose), one read of the consumption per pass, in chunks of members (each chunk's sums
in its own row of a buffer, added in chunk order), and hands the last unsettled steps to the
row-major rounds. :func:`run` picks the one for the data's layout.
Both are compiled without re-association (see
:data:`repartition.kernels._config.EXACT_FASTMATH`). NumPy twins:
:func:`repartition.reference.static_rounds` (literal rounds) and
:func:`repartition.reference.static_limit` (bisection on the level). Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import exact_range_kernel, exact_serial_kernel
from repartition.kernels.attribution import attribute_row, attribute_steps
from repartition.kernels.layout import run_pooled
from repartition.kernels.members import CHUNKS, chunk_bounds
from repartition.kernels.threads import run_ranges

ROW_WORK = 4
"""The row-major water-filling's work per cell, in passes, for the threads' threshold
(:data:`repartition.kernels.threads.MIN_CELLS_PER_THREAD`): it reads a row 2 to 6 times,
and two threads paid from a year of 33 members (0.69x) where they did not for Prorata."""

__all__ = [
    "EXACT",
    "MAX_LEVEL_PASSES",
    "run",
    "water_filling_members",
    "water_filling_rows",
]

Array = NDArray[np.float64]

EXACT = -1
"""``rounds`` value asking for the exact water-filling limit."""

MAX_LEVEL_PASSES = 12
"""Passes of the iterative water-filling before the row is solved by sorting instead."""

FINISH_ONE_BY_ONE = 16
"""Member-major: once fewer than 1 step in 16 is unsettled, solve those steps one by one."""


# --- row-major: (steps, consumers) --------------------------------------------------------


@exact_serial_kernel
def _level_row(consumption, t, coefficients, numerator, denominator, allocated, grid_supply):  # type: ignore[no-untyped-def]
    """``A[t, i] = min(C[t, i], k[i] * L)`` with the level ``L = numerator / denominator``.

    The cap is computed as ``(k / denominator) * numerator``: for a consumer that takes
    part in the level, ``k <= denominator``, so nothing overflows however small the keys;
    for one already saturated, an overflow to ``inf`` still means "saturated". ``sum_i A``
    is returned.
    """
    allocated_total = 0.0
    for i in range(consumption.shape[1]):
        c = consumption[t, i]
        k = coefficients[i]
        share = min(c, (k / denominator) * numerator) if k > 0.0 else 0.0
        allocated[t, i] = share
        grid_supply[t, i] = c - share
        allocated_total += share
    return allocated_total


@exact_serial_kernel
def _sorted_level(consumption, t, coefficients, production_total):  # type: ignore[no-untyped-def]
    """Exact water-filling level of row t by sorting consumers by ``C[t, i] / k[i]``.

    Returns the level as ``(numerator, denominator)``: what the unsaturated consumers share
    and the sum of their coefficients; ``(inf, 1)`` when every keyed consumer is saturated.
    """
    n = consumption.shape[1]
    ratios = np.empty(n)
    key_total = 0.0
    keyed = 0
    for i in range(n):
        if coefficients[i] > 0.0:
            ratios[i] = consumption[t, i] / coefficients[i]
            key_total += coefficients[i]
            keyed += 1
        else:
            ratios[i] = np.inf
    order = np.argsort(ratios)
    remaining = production_total
    saturated = 0
    for i in order[:keyed]:
        k = coefficients[i]
        if consumption[t, i] * key_total <= remaining * k:
            remaining -= consumption[t, i]
            key_total -= k
            saturated += 1
        else:
            break
    if saturated == keyed:
        return np.inf, 1.0
    # Sum the keys left afresh: the running difference carries a rounding residue, which
    # would turn "everyone is saturated" into a finite level.
    key_left = 0.0
    for position in range(saturated, keyed):
        key_left += coefficients[order[position]]
    return max(remaining, 0.0), key_left


@exact_serial_kernel
def _water_level(consumption, t, coefficients, production_total, rounds):  # type: ignore[no-untyped-def]
    """Level after ``rounds`` redistribution rounds (``EXACT``: the limit).

    The first pass is the DSO's rule, level ``P_tot``. A round gives what no one has yet
    received, ``P_tot - sum_i min(C, k * L)``, to the unsaturated keyed consumers in
    proportion to their coefficients, which moves the common level to
    ``L' = (P_tot - sum_{saturated} C) / sum_{unsaturated} k``. The limit is reached when a
    round saturates no one new. The level is kept as that fraction, never divided out, so
    that tiny coefficients cannot overflow it. Returns ``(numerator, denominator, passes)``.
    """
    numerator = production_total
    denominator = 1.0
    passes = 0
    saturated_before = -1
    while True:
        saturated_energy = 0.0
        unsaturated_key = 0.0
        saturated = 0
        for i in range(consumption.shape[1]):
            k = coefficients[i]
            if k > 0.0:
                c = consumption[t, i]
                if c <= (k / denominator) * numerator:
                    saturated_energy += c
                    saturated += 1
                else:
                    unsaturated_key += k
        passes += 1
        if unsaturated_key <= 0.0:
            return np.inf, 1.0, passes
        if rounds != EXACT and passes > rounds:
            return numerator, denominator, passes
        if rounds == EXACT and saturated == saturated_before:
            return numerator, denominator, passes
        remaining = production_total - saturated_energy
        allocated_total = saturated_energy + (unsaturated_key / denominator) * numerator
        if remaining <= 0.0 or allocated_total >= production_total:
            return numerator, denominator, passes
        if rounds == EXACT and passes >= MAX_LEVEL_PASSES:
            numerator, denominator = _sorted_level(consumption, t, coefficients, production_total)
            return numerator, denominator, passes + 1
        numerator = remaining
        denominator = unsaturated_key
        saturated_before = saturated


@exact_range_kernel
def _water_filling_steps(  # type: ignore[no-untyped-def]
    consumption,
    production,
    production_total,
    coefficients,
    rounds,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
    passes,
    start,
    stop,
):
    for t in range(start, stop):
        total = production_total[t]
        numerator, denominator, row_passes = _water_level(
            consumption, t, coefficients, total, rounds
        )
        passes[t] = row_passes
        allocated_total = _level_row(
            consumption, t, coefficients, numerator, denominator, allocated, grid_supply
        )
        attribute_row(production, t, total, allocated_total, self_consumed, surplus)


def water_filling_rows(
    consumption: Array,
    production: Array,
    production_total: Array,
    coefficients: Array,
    rounds: int,
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
    passes: NDArray[np.int32],
) -> None:
    """Static key with redistribution, row-major: ``A[t, i] = min(C[t, i], k[i] * L[t])``,
    in parallel over steps.

    ``L[t]`` is the level reached after ``rounds`` rounds, or (``rounds == EXACT``) the
    water-filling limit: ``sum_i min(C[t, i], L * k[i]) = min(P_tot[t], sum_{k_i > 0} C[t, i])``.
    ``passes[t]`` receives the number of passes over the row the level needed.
    """
    run_ranges(
        _water_filling_steps,
        consumption.shape[0],
        consumption.size * ROW_WORK,
        *(consumption, production, production_total, coefficients, rounds),
        *(allocated, grid_supply, self_consumed, surplus, passes),
    )


# --- member-major: (consumers, steps), every step at once ---------------------------------


@exact_range_kernel
def _add_chunks(partial):  # type: ignore[no-untyped-def]
    """``partial.sum(axis=0)``: the rows of a (chunks, steps) buffer added in chunk order,
    as NumPy and Numba add them (spelled out: Numba's ``sum(axis=...)`` took 2.5 s of a
    cold compile)."""
    chunks, steps = partial.shape
    total = np.zeros(steps, dtype=partial.dtype)
    for chunk in range(chunks):
        for t in range(steps):
            total[t] += partial[chunk, t]
    return total


@exact_range_kernel
def _level_sums_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member,
    coefficients,
    numerator,
    denominator,
    saturated_energy,
    unsaturated_key,
    saturated,
    chunks,
    first_chunk,
    stop_chunk,
):
    members, steps = consumption_by_member.shape
    for chunk in range(first_chunk, stop_chunk):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            k = coefficients[i]
            if k <= 0.0:
                continue
            for t in range(steps):
                c = consumption_by_member[i, t]
                if c <= (k / denominator[t]) * numerator[t]:
                    saturated_energy[chunk, t] += c
                    saturated[chunk, t] += 1
                else:
                    unsaturated_key[chunk, t] += k


def _level_sums(
    consumption_by_member: Array,
    coefficients: Array,
    numerator: Array,
    denominator: Array,
    chunks: int,
) -> tuple[Array, Array, NDArray[np.int64]]:
    """One water-filling pass over every step at once, reading memory in order.

    With the level ``L[t] = numerator[t] / denominator[t]``, returns per step the energy of
    the saturated keyed consumers (``C <= k * L``), the coefficient sum of the others and
    the count of the saturated.
    """
    steps = consumption_by_member.shape[1]
    saturated_energy = np.zeros((chunks, steps))
    unsaturated_key = np.zeros((chunks, steps))
    saturated = np.zeros((chunks, steps), dtype=np.int64)
    run_ranges(
        _level_sums_chunks,
        chunks,
        consumption_by_member.size,
        *(consumption_by_member, coefficients, numerator, denominator),
        *(saturated_energy, unsaturated_key, saturated, chunks),
    )
    # Counts add up exactly in any order: NumPy's sum, and one compiled signature (float64)
    # for _add_chunks.
    return _add_chunks(saturated_energy), _add_chunks(unsaturated_key), saturated.sum(axis=0)


@exact_range_kernel
def _level_shares_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member,
    coefficients,
    numerator,
    denominator,
    allocated_by_member,
    grid_supply_by_member,
    partial,
    chunks,
    first_chunk,
    stop_chunk,
):
    members, steps = consumption_by_member.shape
    for chunk in range(first_chunk, stop_chunk):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            k = coefficients[i]
            for t in range(steps):
                c = consumption_by_member[i, t]
                share = min(c, (k / denominator[t]) * numerator[t]) if k > 0.0 else 0.0
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                partial[chunk, t] += share


def _level_shares(
    consumption_by_member: Array,
    coefficients: Array,
    numerator: Array,
    denominator: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    chunks: int,
) -> Array:
    """``A = min(C, (k / denominator) * numerator)`` (0 where ``k = 0``) and ``C - A``;
    returns ``sum_i A`` per step."""
    partial = np.zeros((chunks, consumption_by_member.shape[1]))
    run_ranges(
        _level_shares_chunks,
        chunks,
        consumption_by_member.size,
        *(consumption_by_member, coefficients, numerator, denominator),
        *(allocated_by_member, grid_supply_by_member, partial, chunks),
    )
    total: Array = _add_chunks(partial)
    return total


@exact_range_kernel
def _finish_steps_range(  # type: ignore[no-untyped-def]
    consumption_by_member,
    coefficients,
    production_total,
    rounds,
    steps,
    numerator,
    denominator,
    passes,
    first_position,
    stop_position,
):
    members = consumption_by_member.shape[0]
    for position in range(first_position, stop_position):
        t = steps[position]
        row = np.empty((1, members))
        for i in range(members):
            row[0, i] = consumption_by_member[i, t]
        numerator[t], denominator[t], passes[t] = _water_level(
            row, 0, coefficients, production_total[t], rounds
        )


def _finish_steps(
    consumption_by_member: Array,
    coefficients: Array,
    production_total: Array,
    rounds: int,
    steps: NDArray[np.intp],
    numerator: Array,
    denominator: Array,
    passes: NDArray[np.int32],
) -> None:
    """Solve the listed steps one by one: gather each step's row, run the row-major rounds."""
    run_ranges(
        _finish_steps_range,
        steps.size,
        steps.size * consumption_by_member.shape[0],
        *(consumption_by_member, coefficients, production_total, rounds, steps),
        *(numerator, denominator, passes),
    )


def water_filling_members(
    consumption_by_member: Array,
    production: Array,
    production_total: Array,
    coefficients: Array,
    rounds: int,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
    passes: NDArray[np.int32],
) -> None:
    """:func:`water_filling_rows` on member-major data, shape (consumers, steps).

    The same rounds as the row-major ``_water_level``, taken for every step at once: each
    pass reads the consumption once, in memory order, and the steps whose level is settled
    stop counting passes. When few steps are left (one in
    ``FINISH_ONE_BY_ONE``), or after ``MAX_LEVEL_PASSES`` passes, a whole pass would be
    wasted on them: they are gathered and solved row by row, from the start, by the
    row-major function (which sorts a row that needs too many passes).
    """
    chunks = CHUNKS
    steps = production_total.size
    numerator = production_total.astype(np.float64, copy=True)
    denominator = np.ones(steps)
    saturated_before = np.full(steps, -1, dtype=np.int64)
    active = np.ones(steps, dtype=np.bool_)
    passes[:] = 0
    while active.any():
        saturated_energy, unsaturated_key, saturated = _level_sums(
            consumption_by_member, coefficients, numerator, denominator, chunks
        )
        passes[active] += 1
        everyone = active & (unsaturated_key <= 0.0)
        numerator[everyone], denominator[everyone] = np.inf, 1.0
        settled = everyone.copy()
        if rounds == EXACT:
            settled |= active & (saturated == saturated_before)
        else:
            settled |= active & (passes > rounds)
        remaining = production_total - saturated_energy
        with np.errstate(invalid="ignore", over="ignore"):
            allocated_total = saturated_energy + (unsaturated_key / denominator) * numerator
        settled |= active & ((remaining <= 0.0) | (allocated_total >= production_total))
        active &= ~settled
        numerator[active] = remaining[active]
        denominator[active] = unsaturated_key[active]
        saturated_before[active] = saturated[active]
        left = np.flatnonzero(active)
        if left.size and (
            left.size <= steps // FINISH_ONE_BY_ONE or passes[left[0]] >= MAX_LEVEL_PASSES
        ):
            _finish_steps(
                consumption_by_member,
                coefficients,
                production_total,
                rounds,
                left,
                numerator,
                denominator,
                passes,
            )
            break
    allocated_total = _level_shares(
        consumption_by_member,
        coefficients,
        numerator,
        denominator,
        allocated_by_member,
        grid_supply_by_member,
        chunks,
    )
    attribute_steps(production, production_total, allocated_total, self_consumed, surplus)


# --- either layout ------------------------------------------------------------------------


def run(
    consumption: Array,
    production: Array,
    coefficients: Array,
    rounds: int,
    *,
    out: tuple[Array, Array] | None = None,
) -> tuple[Array, Array, Array, Array, NDArray[np.int32]]:
    """The static key ``coefficients`` (consumers,) with ``rounds`` redistribution rounds
    (``EXACT``: the limit) on ``consumption`` stored either way.

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus, and
    the passes over each step the level needed; ``out``: see
    :func:`repartition.kernels.layout.empty_outputs`.
    """
    passes = np.empty(consumption.shape[0], dtype=np.int32)
    outputs = run_pooled(
        consumption,
        production,
        water_filling_rows,
        water_filling_members,
        (coefficients, rounds),
        passes=passes,
        out=out,
    )
    return (*outputs, passes)
