"""Member-major twins of the pooled and full dynamic kernels.

pandas stores a frame of float columns as one (members, steps) block, so the
(steps, members) array behind a typical DataFrame is column-major. Turning it row-major
would cost a transposition, several times a copy; these kernels read it in memory order
instead. Every array named ``*_by_member`` here is C-contiguous with shape
(members, steps): the transpose of the (steps, members) array the user sees.

The members are split in a fixed number of chunks, shared among the threads; each chunk's
rows are read whole, in memory order, and what a rule needs per step is summed into the
chunk's own buffer, added afterwards in chunk order (style.md: no two threads write the
same cell; the result does not depend on the number of threads). The water-filling is in
:mod:`repartition.kernels.water_by_member`. Same formulas,
same outputs as :mod:`repartition.kernels.pooled` and :mod:`repartition.kernels.full_dynamic`;
NumPy twins in :mod:`repartition.reference`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import parallel_kernel, prange
from repartition.kernels.attribution import attribute_steps
from repartition.kernels.members import CHUNKS, chunk_bounds, member_sums

Array = NDArray[np.float64]


@parallel_kernel
def _prorata_shares(  # type: ignore[no-untyped-def]
    consumption_by_member, ratio, allocated_by_member, grid_supply_by_member, chunks
):
    """``A[i, t] = C[i, t] * ratio[t]`` and ``C - A``; returns ``sum_i A`` per step."""
    members, steps = consumption_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                c = consumption_by_member[i, t]
                share = c * ratio[t]
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                partial[chunk, t] += share
    return partial.sum(axis=0)


def _prorata_ratio(consumption_total: Array, production_total: Array) -> Array:
    """``min(1, P_tot / sum_i C)`` per step, 1 where nobody consumes (then ``A = C = 0``).

    The quotient ``np.where`` discards (where ``sum_i C <= P_tot``) may overflow or divide by
    0 on tiny demands: those warnings are silenced, the kept ratios are all below 1."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio: Array = np.where(
            consumption_total > production_total, production_total / consumption_total, 1.0
        )
    return ratio


def prorata(
    consumption_by_member: Array,
    production: Array,
    production_total: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
    consumption_total: Array | None = None,
) -> None:
    """Default dynamic key: ``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``.

    ``consumption_total``, the per-step sums if the caller has them, saves a read.
    """
    chunks = CHUNKS
    if consumption_total is None:
        consumption_total = member_sums(consumption_by_member, chunks)
    ratio = _prorata_ratio(consumption_total, production_total)
    allocated_total = _prorata_shares(
        consumption_by_member, ratio, allocated_by_member, grid_supply_by_member, chunks
    )
    attribute_steps(production, production_total, allocated_total, self_consumed, surplus)


@parallel_kernel
def _static_shares(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production_total,
    coefficients,
    allocated_by_member,
    grid_supply_by_member,
    chunks,
):
    """``min(C, k_i * P_tot[t])`` and ``C - A``; returns ``sum_i A`` per step."""
    members, steps = consumption_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            k = coefficients[i]
            for t in range(steps):
                c = consumption_by_member[i, t]
                share = min(c, k * production_total[t])
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                partial[chunk, t] += share
    return partial.sum(axis=0)


def static(
    consumption_by_member: Array,
    production: Array,
    production_total: Array,
    coefficients: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Static key, the DSO's rule: ``A[t, i] = min(C[t, i], k[i] * P_tot[t])``."""
    allocated_total = _static_shares(
        consumption_by_member,
        production_total,
        coefficients,
        allocated_by_member,
        grid_supply_by_member,
        CHUNKS,
    )
    attribute_steps(production, production_total, allocated_total, self_consumed, surplus)


@parallel_kernel
def _dynamic_shares(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production_total,
    coefficients_by_member,
    ratio,
    allocated_by_member,
    grid_supply_by_member,
    chunks,
):
    """``min(C, k * P_tot)``, or ``C * ratio[t]`` where ``ratio[t]`` is set (not NaN)."""
    members, steps = consumption_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                c = consumption_by_member[i, t]
                r = ratio[t]
                if np.isnan(r):
                    share = min(c, coefficients_by_member[i, t] * production_total[t])
                else:
                    share = c * r
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                partial[chunk, t] += share
    return partial.sum(axis=0)


def dynamic(
    consumption_by_member: Array,
    production: Array,
    production_total: Array,
    coefficients_by_member: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
    consumption_total: Array | None = None,
) -> None:
    """Dynamic key: ``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``; all-NaN steps: prorata.

    ``consumption_total``, the per-step sums if the caller has them, saves a read.
    """
    chunks = CHUNKS
    ratio = np.full(production_total.size, np.nan)  # NaN: the step has a key
    fallback = np.isnan(coefficients_by_member[0])
    if fallback.any():
        if consumption_total is None:
            consumption_total = member_sums(consumption_by_member, chunks)
        ratio[fallback] = _prorata_ratio(consumption_total, production_total)[fallback]
    allocated_total = _dynamic_shares(
        consumption_by_member,
        production_total,
        coefficients_by_member,
        ratio,
        allocated_by_member,
        grid_supply_by_member,
        chunks,
    )
    attribute_steps(production, production_total, allocated_total, self_consumed, surplus)


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
def _pair_sums(coefficients_by_member, scale_by_member, chunks):  # type: ignore[no-untyped-def]
    """``sum_i k[i, t] * scale[i, t]`` per step (per-thread partial sums, as above)."""
    members, steps = coefficients_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                partial[chunk, t] += coefficients_by_member[i, t] * scale_by_member[i, t]
    return partial.sum(axis=0)


def attribute_producer(
    coefficients_by_member: Array,
    production: Array,
    producer: int,
    scale_by_member: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Full dynamic: AUTOPROD ``= P[t, j] * min(1, sum_i k[t, i] * scale[t, i])`` and SURPLUS."""
    fraction = np.minimum(1.0, _pair_sums(coefficients_by_member, scale_by_member, CHUNKS))
    power = production[:, producer]
    shared = fraction * power
    self_consumed[:, producer] = shared
    surplus[:, producer] = power - shared
