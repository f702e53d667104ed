"""Kernels for keys that share the pooled production ``P_tot[t] = sum_j P[t, j]``.

Every kernel takes C-contiguous float64 arrays, reads each row of ``consumption`` once
from memory (later passes over the same row hit the cache), writes its outputs into
arrays allocated by the caller, and runs the steps in parallel with ``prange``.
Kernels trust their input: validation happens in :mod:`repartition._inputs`.

Shapes: ``consumption`` and ``allocated`` (steps, consumers); ``production``,
``self_consumed`` and ``surplus`` (steps, producers). Energies in kWh per step.

The plain NumPy twin of each kernel lives in :mod:`repartition.reference`.
"""

from __future__ import annotations

import math

import numpy as np

from repartition.kernels._config import parallel_kernel, prange, serial_kernel

EXACT = -1
"""``rounds`` value asking :func:`static_redistributed` for the exact water-filling limit."""

MAX_LEVEL_PASSES = 12
"""Passes of the iterative water-filling before the row is solved by sorting instead."""


@serial_kernel
def _row_total(array, t):  # type: ignore[no-untyped-def]
    total = 0.0
    for column in range(array.shape[1]):
        total += array[t, column]
    return total


@serial_kernel
def _attribute_row(production, t, production_total, allocated_total, self_consumed, surplus):  # type: ignore[no-untyped-def]
    """AUTOPROD and SURPLUS of each producer at step t, prorata of its production.

    ``fraction = min(1, allocated_total / production_total)``; ``self_consumed = fraction *
    P[t, j]`` can never exceed ``P[t, j]`` (rounding is monotonic), so ``surplus =
    P[t, j] - self_consumed`` is never negative.
    """
    fraction = 0.0
    if production_total > 0.0:
        fraction = min(1.0, allocated_total / production_total)
    for j in range(production.shape[1]):
        shared = fraction * production[t, j]
        self_consumed[t, j] = shared
        surplus[t, j] = production[t, j] - shared


@serial_kernel
def _prorata_row(consumption, t, production_total, allocated):  # type: ignore[no-untyped-def]
    consumption_total = _row_total(consumption, t)
    ratio = 1.0
    if consumption_total > production_total:  # implies consumption_total > 0
        ratio = production_total / consumption_total
    allocated_total = 0.0
    for i in range(consumption.shape[1]):
        share = consumption[t, i] * ratio
        allocated[t, i] = share
        allocated_total += share
    return allocated_total


@parallel_kernel
def prorata(consumption, production, allocated, self_consumed, surplus):  # type: ignore[no-untyped-def]
    """Default dynamic key: ``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``."""
    for t in prange(consumption.shape[0]):
        production_total = _row_total(production, t)
        allocated_total = _prorata_row(consumption, t, production_total, allocated)
        _attribute_row(production, t, production_total, allocated_total, self_consumed, surplus)


@parallel_kernel
def static(consumption, production, coefficients, allocated, self_consumed, surplus):  # type: ignore[no-untyped-def]
    """Static key, the DSO's rule: ``A[t, i] = min(C[t, i], k[i] * P_tot[t])``."""
    for t in prange(consumption.shape[0]):
        production_total = _row_total(production, t)
        allocated_total = 0.0
        for i in range(consumption.shape[1]):
            share = min(consumption[t, i], coefficients[i] * production_total)
            allocated[t, i] = share
            allocated_total += share
        _attribute_row(production, t, production_total, allocated_total, self_consumed, surplus)


@serial_kernel
def _sorted_level(consumption, t, coefficients, production_total):  # type: ignore[no-untyped-def]
    """Exact water-filling level of row t by sorting consumers by ``C[t, i] / k[i]``.

    Returns the level ``L`` (``lambda * P_tot``) such that ``min(C, k * L)`` is the limit
    of redistribution; ``inf`` when every keyed consumer is saturated.
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
        return np.inf
    # Sum the keys left afresh: the running difference carries a rounding residue, which
    # would turn "everyone is saturated" into a finite level.
    key_left = 0.0
    for position in range(saturated, keyed):
        key_left += coefficients[order[position]]
    return max(remaining, 0.0) / key_left


@serial_kernel
def _water_level(consumption, t, coefficients, production_total, rounds):  # type: ignore[no-untyped-def]
    """Level ``L`` after ``rounds`` redistribution rounds (``EXACT``: the limit).

    The first pass is the DSO's rule, ``L = P_tot``. A round gives what no one has yet
    received, ``P_tot - sum_i min(C, k * L)``, to the unsaturated keyed consumers in
    proportion to their coefficients, which raises the common level by
    ``leftover / sum_{unsaturated} k``. The limit is reached when a round saturates no
    one new. Returns ``(level, passes)``.
    """
    level = production_total
    passes = 0
    saturated_before = -1
    while True:
        allocated_total = 0.0
        unsaturated_key = 0.0
        saturated = 0
        for i in range(consumption.shape[1]):
            k = coefficients[i]
            if k > 0.0:
                cap = k * level
                c = consumption[t, i]
                if c <= cap:
                    allocated_total += c
                    saturated += 1
                else:
                    allocated_total += cap
                    unsaturated_key += k
        passes += 1
        if unsaturated_key <= 0.0:
            return math.inf, passes
        if rounds != EXACT and passes > rounds:
            return level, passes
        if rounds == EXACT and saturated == saturated_before:
            return level, passes
        leftover = production_total - allocated_total
        if leftover <= 0.0:
            return level, passes
        if rounds == EXACT and passes >= MAX_LEVEL_PASSES:
            return _sorted_level(consumption, t, coefficients, production_total), passes + 1
        level += leftover / unsaturated_key
        saturated_before = saturated


@parallel_kernel
def static_redistributed(  # type: ignore[no-untyped-def]
    consumption, production, coefficients, rounds, allocated, self_consumed, surplus, passes
):
    """Static key with redistribution: ``A[t, i] = min(C[t, i], k[i] * L[t])``.

    ``L[t]`` is the level reached after ``rounds`` rounds, or (``rounds == EXACT``) the
    water-filling limit: ``sum_i min(C[t, i], L * k[i]) = min(P_tot[t], sum_{k_i > 0} C[t, i])``.
    ``passes[t]`` receives the number of passes over the row the level needed.
    """
    for t in prange(consumption.shape[0]):
        production_total = _row_total(production, t)
        level, row_passes = _water_level(consumption, t, coefficients, production_total, rounds)
        passes[t] = row_passes
        allocated_total = 0.0
        for i in range(consumption.shape[1]):
            share = 0.0
            if coefficients[i] > 0.0:
                share = min(consumption[t, i], coefficients[i] * level)
            allocated[t, i] = share
            allocated_total += share
        _attribute_row(production, t, production_total, allocated_total, self_consumed, surplus)


@parallel_kernel
def dynamic(consumption, production, coefficients, allocated, self_consumed, surplus):  # type: ignore[no-untyped-def]
    """Dynamic key: ``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``.

    A row of NaN coefficients (no key sent for that step) falls back to :func:`prorata`.
    """
    for t in prange(consumption.shape[0]):
        production_total = _row_total(production, t)
        if np.isnan(coefficients[t, 0]):
            allocated_total = _prorata_row(consumption, t, production_total, allocated)
        else:
            allocated_total = 0.0
            for i in range(consumption.shape[1]):
                share = min(consumption[t, i], coefficients[t, i] * production_total)
                allocated[t, i] = share
                allocated_total += share
        _attribute_row(production, t, production_total, allocated_total, self_consumed, surplus)
