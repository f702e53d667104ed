"""Kernels for keys that share the pooled production ``P_tot[t] = sum_j P[t, j]``.

Every kernel takes row-major (C-contiguous) ``consumption`` and coefficient arrays (their
member-major twins are in :mod:`repartition.kernels.by_member`), reads each row once
from memory (later passes over the same row hit the cache), writes its outputs into
arrays allocated by the caller, and runs the steps in parallel with ``prange``.
Kernels trust their input: validation happens in :mod:`repartition._inputs`.

Shapes: ``consumption``, ``allocated`` and ``grid_supply`` (steps, consumers);
``production``, ``self_consumed`` and ``surplus`` (steps, producers); ``production_total``
(steps,), from :func:`repartition.kernels.attribution.pooled_production`. Energies in kWh per step.

Every kernel writes COMPLEMENT, ``grid_supply = C - A``, in the same pass as ``A``: the
results never depend on the input after the call.

The plain NumPy twin of each kernel lives in :mod:`repartition.reference`.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import (
    exact_parallel_kernel,
    exact_serial_kernel,
    prange,
)
from repartition.kernels.attribution import attribute_row

EXACT = -1
"""``rounds`` value asking :func:`static_redistributed` for the exact water-filling limit."""

MAX_LEVEL_PASSES = 12
"""Passes of the iterative water-filling before the row is solved by sorting instead."""


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


@exact_parallel_kernel
def static_redistributed(  # type: ignore[no-untyped-def]
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
):
    """Static key with redistribution: ``A[t, i] = min(C[t, i], k[i] * L[t])``.

    ``L[t]`` is the level reached after ``rounds`` rounds, or (``rounds == EXACT``) the
    water-filling limit: ``sum_i min(C[t, i], L * k[i]) = min(P_tot[t], sum_{k_i > 0} C[t, i])``.
    ``passes[t]`` receives the number of passes over the row the level needed.
    """
    for t in prange(consumption.shape[0]):
        total = production_total[t]
        numerator, denominator, row_passes = _water_level(
            consumption, t, coefficients, total, rounds
        )
        passes[t] = row_passes
        allocated_total = _level_row(
            consumption, t, coefficients, numerator, denominator, allocated, grid_supply
        )
        attribute_row(production, t, total, allocated_total, self_consumed, surplus)
