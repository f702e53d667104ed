"""Economic greedy: serve consumers in decreasing order of the value of a local kWh.

At each step the pooled production ``P_tot[t]`` goes to the consumers in decreasing order
of ``value[t, i]`` (retail price minus local price, EUR/kWh), each up to its consumption,
until it runs out. Consumers of equal value form one group: when the production left
cannot serve the whole group, the group shares it in proportion to consumption (so that
the result does not depend on the column order). Consumers of negative value receive
nothing; consumers of value 0 are served last, or not at all (``serve_zero``).

Row-major (C-contiguous) data only: :class:`repartition.economic.EconomicGreedy` copies
member-major consumption once into row-major before calling. Shapes and conventions as in
:mod:`repartition.kernels.pooled` (whose producer attribution, prorata of production, is
reused). Energies in kWh per step. The NumPy twin is
:func:`repartition.reference.economic_greedy`.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange, serial_kernel
from repartition.kernels.pooled import _attribute_row


@serial_kernel
def _greedy_row(  # type: ignore[no-untyped-def]
    consumption, t, values, order, production_total, serve_zero, allocated, grid_supply
):
    """Fill row t in the given ``order`` (decreasing ``values``); returns ``sum_i A[t, i]``."""
    n = consumption.shape[1]
    for i in range(n):
        allocated[t, i] = 0.0
        grid_supply[t, i] = consumption[t, i]
    remaining = production_total
    allocated_total = 0.0
    start = 0
    while start < n and remaining > 0.0:
        value = values[order[start]]
        if value < 0.0 or (value == 0.0 and not serve_zero):
            break
        end = start
        demand = 0.0
        while end < n and values[order[end]] == value:
            demand += consumption[t, order[end]]
            end += 1
        if demand <= remaining:
            for position in range(start, end):
                i = order[position]
                c = consumption[t, i]
                allocated[t, i] = c
                grid_supply[t, i] = 0.0
                allocated_total += c
            remaining -= demand
        else:
            ratio = remaining / demand  # < 1: every share stays below its consumption
            for position in range(start, end):
                i = order[position]
                c = consumption[t, i]
                share = c * ratio
                allocated[t, i] = share
                grid_supply[t, i] = c - share
                allocated_total += share
            remaining = 0.0
        start = end
    return allocated_total


@parallel_kernel
def greedy_fixed(  # type: ignore[no-untyped-def]
    consumption,
    production,
    production_total,
    values,
    order,
    serve_zero,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
):
    """Economic greedy with one value per consumer; ``order`` sorts ``values`` decreasingly."""
    for t in prange(consumption.shape[0]):
        total = production_total[t]
        allocated_total = _greedy_row(
            consumption, t, values, order, total, serve_zero, allocated, grid_supply
        )
        _attribute_row(production, t, total, allocated_total, self_consumed, surplus)


@parallel_kernel
def greedy_per_step(  # type: ignore[no-untyped-def]
    consumption,
    production,
    production_total,
    values,
    serve_zero,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
):
    """Economic greedy with a value per step and consumer (row-major ``values``), each row
    sorted in the kernel."""
    for t in prange(consumption.shape[0]):
        total = production_total[t]
        row = values[t]
        order = np.argsort(-row)
        allocated_total = _greedy_row(
            consumption, t, row, order, total, serve_zero, allocated, grid_supply
        )
        _attribute_row(production, t, total, allocated_total, self_consumed, surplus)
