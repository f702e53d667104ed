"""Member-major twins of the pooled and full dynamic kernels.

pandas stores a frame of float columns as one (members, steps) block, so the
(steps, members) array behind a typical DataFrame is column-major. Turning it row-major
would cost a transposition, several times a copy; these kernels read it in memory order
instead. Every array named ``*_by_member`` here is C-contiguous with shape
(members, steps): the transpose of the (steps, members) array the user sees.

Steps are processed in blocks of ``block`` steps (see :func:`block_steps`), in parallel.
Within a block the members are read one after the other, each over consecutive steps, and
the block is small enough to stay in cache between the passes a rule needs. Same formulas,
same outputs as :mod:`repartition.kernels.pooled` and :mod:`repartition.kernels.full_dynamic`;
NumPy twins in :mod:`repartition.reference`.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange
from repartition.kernels.pooled import _attribute_row, _level_row, _water_level

_CACHE_BYTES = 1 << 18


def block_steps(members: int, passes: int = 2) -> int:
    """Steps per block so that a block of every member (``passes`` arrays) fits in cache."""
    steps = _CACHE_BYTES // (8 * max(members, 1) * passes)
    return int(min(4096, max(8, steps - steps % 8)))


@parallel_kernel
def prorata(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    production_total,
    allocated_by_member,
    grid_supply_by_member,
    self_consumed,
    surplus,
    block,
):
    """Default dynamic key: ``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``."""
    members, steps = consumption_by_member.shape
    for number in prange((steps + block - 1) // block):
        start = number * block
        stop = min(start + block, steps)
        consumption_total = np.zeros(stop - start)
        for i in range(members):
            for t in range(start, stop):
                consumption_total[t - start] += consumption_by_member[i, t]
        ratio = np.ones(stop - start)
        for t in range(start, stop):
            if consumption_total[t - start] > production_total[t]:
                ratio[t - start] = production_total[t] / consumption_total[t - start]
        allocated_total = np.zeros(stop - start)
        for i in range(members):
            for t in range(start, stop):
                c = consumption_by_member[i, t]
                share = c * ratio[t - start]
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                allocated_total[t - start] += share
        for t in range(start, stop):
            _attribute_row(
                production,
                t,
                production_total[t],
                allocated_total[t - start],
                self_consumed,
                surplus,
            )


@parallel_kernel
def static(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    production_total,
    coefficients,
    allocated_by_member,
    grid_supply_by_member,
    self_consumed,
    surplus,
    block,
):
    """Static key, the DSO's rule: ``A[t, i] = min(C[t, i], k[i] * P_tot[t])``."""
    members, steps = consumption_by_member.shape
    for number in prange((steps + block - 1) // block):
        start = number * block
        stop = min(start + block, steps)
        allocated_total = np.zeros(stop - start)
        for i in range(members):
            k = coefficients[i]
            for t in range(start, stop):
                c = consumption_by_member[i, t]
                share = min(c, k * production_total[t])
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                allocated_total[t - start] += share
        for t in range(start, stop):
            _attribute_row(
                production,
                t,
                production_total[t],
                allocated_total[t - start],
                self_consumed,
                surplus,
            )


@parallel_kernel
def dynamic(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    production_total,
    coefficients_by_member,
    allocated_by_member,
    grid_supply_by_member,
    self_consumed,
    surplus,
    block,
):
    """Dynamic key: ``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``; all-NaN steps: prorata."""
    members, steps = consumption_by_member.shape
    for number in prange((steps + block - 1) // block):
        start = number * block
        stop = min(start + block, steps)
        ratio = np.full(stop - start, np.nan)  # NaN: the step has a key
        fallback = False
        for t in range(start, stop):
            if np.isnan(coefficients_by_member[0, t]):
                ratio[t - start] = 1.0
                fallback = True
        if fallback:
            consumption_total = np.zeros(stop - start)
            for i in range(members):
                for t in range(start, stop):
                    consumption_total[t - start] += consumption_by_member[i, t]
            for t in range(start, stop):
                if ratio[t - start] == 1.0 and consumption_total[t - start] > production_total[t]:
                    ratio[t - start] = production_total[t] / consumption_total[t - start]
        allocated_total = np.zeros(stop - start)
        for i in range(members):
            for t in range(start, stop):
                c = consumption_by_member[i, t]
                r = ratio[t - start]
                if np.isnan(r):
                    share = min(c, coefficients_by_member[i, t] * production_total[t])
                else:
                    share = c * r
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                allocated_total[t - start] += share
        for t in range(start, stop):
            _attribute_row(
                production,
                t,
                production_total[t],
                allocated_total[t - start],
                self_consumed,
                surplus,
            )


@parallel_kernel
def static_redistributed(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    production_total,
    coefficients,
    rounds,
    allocated_by_member,
    grid_supply_by_member,
    self_consumed,
    surplus,
    passes,
    block,
):
    """Static key with redistribution (see :func:`repartition.kernels.pooled.static_redistributed`).

    Each block of steps is transposed into a small row-major buffer that stays in cache,
    solved row by row with the same row functions as the row-major kernel, and written back.
    """
    members, steps = consumption_by_member.shape
    for number in prange((steps + block - 1) // block):
        start = number * block
        stop = min(start + block, steps)
        rows = np.empty((stop - start, members))
        allocated_rows = np.empty((stop - start, members))
        grid_supply_rows = np.empty((stop - start, members))
        for i in range(members):
            for t in range(start, stop):
                rows[t - start, i] = consumption_by_member[i, t]
        for t in range(start, stop):
            row = t - start
            numerator, denominator, row_passes = _water_level(
                rows, row, coefficients, production_total[t], rounds
            )
            passes[t] = row_passes
            allocated_total = _level_row(
                rows, row, coefficients, numerator, denominator, allocated_rows, grid_supply_rows
            )
            _attribute_row(
                production, t, production_total[t], allocated_total, self_consumed, surplus
            )
        for i in range(members):
            for t in range(start, stop):
                allocated_by_member[i, t] = allocated_rows[t - start, i]
                grid_supply_by_member[i, t] = grid_supply_rows[t - start, i]


@parallel_kernel
def add_offered(coefficients_by_member, production, producer, offered_by_member, first):  # type: ignore[no-untyped-def]
    """Full dynamic: ``offered[t, i] (+)= k[t, i] * P[t, producer]``, member by member."""
    members, steps = coefficients_by_member.shape
    for i in prange(members):
        if first:
            for t in range(steps):
                offered_by_member[i, t] = coefficients_by_member[i, t] * production[t, producer]
        else:
            for t in range(steps):
                offered_by_member[i, t] += coefficients_by_member[i, t] * production[t, producer]


@parallel_kernel
def attribute_producer(  # type: ignore[no-untyped-def]
    coefficients_by_member, production, producer, scale_by_member, self_consumed, surplus, block
):
    """Full dynamic: AUTOPROD ``= P[t, j] * min(1, sum_i k[t, i] * scale[t, i])`` and SURPLUS."""
    members, steps = coefficients_by_member.shape
    for number in prange((steps + block - 1) // block):
        start = number * block
        stop = min(start + block, steps)
        fraction = np.zeros(stop - start)
        for i in range(members):
            for t in range(start, stop):
                fraction[t - start] += coefficients_by_member[i, t] * scale_by_member[i, t]
        for t in range(start, stop):
            power = production[t, producer]
            shared = min(1.0, fraction[t - start]) * power
            self_consumed[t, producer] = shared
            surplus[t, producer] = power - shared
