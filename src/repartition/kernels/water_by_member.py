"""Member-major water-filling: static keys with redistribution on pandas' usual layout.

The same rounds as :func:`repartition.kernels.pooled._water_level`, taken for every step at
once: each round reads the consumption (a C-contiguous (members, steps) array, the transpose
of what the user sees) once, in memory order, in chunks of members as in
:mod:`repartition.kernels.by_member`. Compiled without re-association (see
:data:`repartition.kernels._config.EXACT_FASTMATH`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import exact_parallel_kernel, prange
from repartition.kernels.attribution import attribute_steps
from repartition.kernels.members import CHUNKS, chunk_bounds
from repartition.kernels.pooled import EXACT, MAX_LEVEL_PASSES, _water_level

Array = NDArray[np.float64]

FINISH_ONE_BY_ONE = 16
"""Once fewer than 1 step in 16 is unsettled, solve those steps one by one."""


@exact_parallel_kernel
def _level_sums(consumption_by_member, coefficients, numerator, denominator, chunks):  # type: ignore[no-untyped-def]
    """One water-filling pass over every step at once, reading memory in order.

    With the level ``L[t] = numerator[t] / denominator[t]``, returns per step the energy of
    the saturated keyed consumers (``C <= k * L``), the coefficient sum of the others and
    the count of the saturated.
    """
    members, steps = consumption_by_member.shape
    saturated_energy = np.zeros((chunks, steps))
    unsaturated_key = np.zeros((chunks, steps))
    saturated = np.zeros((chunks, steps), dtype=np.int64)
    for chunk in prange(chunks):
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
    return saturated_energy.sum(axis=0), unsaturated_key.sum(axis=0), saturated.sum(axis=0)


@exact_parallel_kernel
def _level_shares(  # type: ignore[no-untyped-def]
    consumption_by_member,
    coefficients,
    numerator,
    denominator,
    allocated_by_member,
    grid_supply_by_member,
    chunks,
):
    """``A = min(C, (k / denominator) * numerator)`` (0 where ``k = 0``) and ``C - A``;
    returns ``sum_i A`` per step."""
    members, steps = consumption_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            k = coefficients[i]
            for t in range(steps):
                c = consumption_by_member[i, t]
                share = min(c, (k / denominator[t]) * numerator[t]) if k > 0.0 else 0.0
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                partial[chunk, t] += share
    return partial.sum(axis=0)


@exact_parallel_kernel
def _finish_steps(  # type: ignore[no-untyped-def]
    consumption_by_member,
    coefficients,
    production_total,
    rounds,
    steps,
    numerator,
    denominator,
    passes,
):
    """Solve the listed steps one by one: gather each step's row, run the row-major rounds."""
    members = consumption_by_member.shape[0]
    for position in prange(steps.size):
        t = steps[position]
        row = np.empty((1, members))
        for i in range(members):
            row[0, i] = consumption_by_member[i, t]
        numerator[t], denominator[t], passes[t] = _water_level(
            row, 0, coefficients, production_total[t], rounds
        )


def static_redistributed(
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
    """Static key with redistribution (see :func:`repartition.kernels.pooled.static_redistributed`).

    The same rounds as :func:`repartition.kernels.pooled._water_level`, taken for every
    step at once: each pass reads the consumption once, in memory order, and the steps
    whose level is settled stop counting passes. When few steps are left (one in
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
