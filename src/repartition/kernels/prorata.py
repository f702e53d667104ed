"""Prorata, the DSO's default dynamic key (*clé dynamique par défaut*).

``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``, and 0 when nobody consumes: each
consumer receives the same fraction of its own consumption. AUTOPROD and SURPLUS are the
pooled attribution (:mod:`repartition.kernels.attribution`).

:func:`prorata_rows` reads row-major (steps, consumers) data one step at a time, in
parallel over steps; :func:`prorata_members` reads member-major data (pandas' usual layout)
as its C-contiguous (consumers, steps) transpose, in chunks of members
(:mod:`repartition.kernels.members`). :func:`run` picks the one for the data's layout.
:func:`prorata_row` and :func:`prorata_ratio` are public for the dynamic key, which falls
back to prorata on steps without a key. NumPy twin: :func:`repartition.reference.prorata`.
Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel, serial_kernel, strict_serial_kernel
from repartition.kernels.attribution import attribute_row, attribute_steps
from repartition.kernels.layout import Outputs, run_pooled
from repartition.kernels.members import CHUNKS, chunk_bounds, member_sums, sum_chunks
from repartition.kernels.threads import run_ranges

__all__ = [
    "SMALLEST_NORMAL",
    "exact_tiny_ratios",
    "prorata_members",
    "prorata_ratio",
    "prorata_row",
    "prorata_rows",
    "run",
]

Array = NDArray[np.float64]

SMALLEST_NORMAL = float(np.finfo(np.float64).tiny)
"""2**-1022. A ratio ``P_tot / sum_i C`` below it is subnormal and keeps few digits (the
smallest one keeps one bit): ``C * ratio`` could then give away up to twice the production.
On such steps (a tiny production against an enormous consumption) the shares are computed as
``(C / sum_i C) * P_tot`` instead, which keeps every digit."""


# --- row-major: (steps, consumers) --------------------------------------------------------


@serial_kernel
def _row_total(array, t):  # type: ignore[no-untyped-def]
    total = 0.0
    for column in range(array.shape[1]):
        total += array[t, column]
    return total


@serial_kernel
def prorata_row(consumption, t, production_total, allocated, grid_supply):  # type: ignore[no-untyped-def]
    """Row ``t`` of :func:`prorata_rows`: ``A``, ``C - A``; returns ``sum_i A[t, i]``."""
    consumption_total = _row_total(consumption, t)
    ratio = 1.0
    if consumption_total > production_total:  # implies consumption_total > 0
        ratio = production_total / consumption_total
        if 0.0 < ratio < SMALLEST_NORMAL:
            return _tiny_ratio_row(
                consumption, t, consumption_total, production_total, allocated, grid_supply
            )
    allocated_total = 0.0
    for i in range(consumption.shape[1]):
        c = consumption[t, i]
        share = c * ratio
        allocated[t, i] = share
        grid_supply[t, i] = c - share
        allocated_total += share
    return allocated_total


@strict_serial_kernel  # not inlined, no fastmath: the quotient and product as written
def _tiny_ratio_row(consumption, t, consumption_total, production_total, allocated, grid_supply):  # type: ignore[no-untyped-def]
    """Row ``t`` of :func:`prorata_row` when its ratio is subnormal (:data:`SMALLEST_NORMAL`):
    ``A = (C / sum_i C) * P_tot``; returns ``sum_i A[t, i]``."""
    allocated_total = 0.0
    for i in range(consumption.shape[1]):
        c = consumption[t, i]
        share = (c / consumption_total) * production_total
        allocated[t, i] = share
        grid_supply[t, i] = c - share
        allocated_total += share
    return allocated_total


@range_kernel
def _prorata_steps(  # type: ignore[no-untyped-def]
    consumption, production, production_total, allocated, grid_supply, self_consumed, surplus,
    start, stop,
):  # fmt: skip
    for t in range(start, stop):
        total = production_total[t]
        allocated_total = prorata_row(consumption, t, total, allocated, grid_supply)
        attribute_row(production, t, total, allocated_total, self_consumed, surplus)


def prorata_rows(
    consumption: Array,
    production: Array,
    production_total: Array,
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Default dynamic key: ``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``, in
    parallel over steps."""
    run_ranges(
        _prorata_steps,
        consumption.shape[0],
        consumption.size,
        *(consumption, production, production_total),
        *(allocated, grid_supply, self_consumed, surplus),
    )


# --- member-major: (consumers, steps) -----------------------------------------------------


@range_kernel
def _prorata_shares_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member, ratio, allocated_by_member, grid_supply_by_member, partial, chunks,
    first_chunk, stop_chunk,
):  # fmt: skip
    members, steps = consumption_by_member.shape
    for chunk in range(first_chunk, stop_chunk):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                c = consumption_by_member[i, t]
                share = c * ratio[t]
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                partial[chunk, t] += share


def _prorata_shares(
    consumption_by_member: Array,
    ratio: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    chunks: int,
) -> Array:
    """``A[i, t] = C[i, t] * ratio[t]`` and ``C - A``; returns ``sum_i A`` per step."""
    partial = np.zeros((chunks, consumption_by_member.shape[1]))
    run_ranges(
        _prorata_shares_chunks,
        chunks,
        consumption_by_member.size,
        *(consumption_by_member, ratio, allocated_by_member, grid_supply_by_member),
        *(partial, chunks),
    )
    total: Array = sum_chunks(partial)
    return total


def prorata_ratio(consumption_total: Array, production_total: Array) -> Array:
    """``min(1, P_tot / sum_i C)`` per step, 1 where nobody consumes (then ``A = C = 0``).

    The quotient ``np.where`` discards (where ``sum_i C <= P_tot``) may overflow or divide by
    0 on tiny demands: those warnings are silenced, the kept ratios are all below 1."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio: Array = np.where(
            consumption_total > production_total, production_total / consumption_total, 1.0
        )
    return ratio


def prorata_members(
    consumption_by_member: Array,
    production: Array,
    production_total: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
    consumption_total: Array | None = None,
) -> None:
    """:func:`prorata_rows` on member-major data, shape (consumers, steps).

    ``consumption_total``, the per-step sums if the caller has them, saves a read.
    """
    chunks = CHUNKS
    if consumption_total is None:
        consumption_total = member_sums(consumption_by_member, chunks)
    ratio = prorata_ratio(consumption_total, production_total)
    allocated_total = _prorata_shares(
        consumption_by_member, ratio, allocated_by_member, grid_supply_by_member, chunks
    )
    exact_tiny_ratios(
        consumption_by_member, consumption_total, production_total, ratio,
        allocated_by_member, grid_supply_by_member, allocated_total,
    )  # fmt: skip
    attribute_steps(production, production_total, allocated_total, self_consumed, surplus)


def exact_tiny_ratios(
    consumption_by_member: Array,
    consumption_total: Array,
    production_total: Array,
    ratio: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    allocated_total: Array,
) -> None:
    """Recompute, in place, the member-major steps whose prorata ``ratio`` is subnormal
    (:data:`SMALLEST_NORMAL`) as ``A = (C / sum_i C) * P_tot``, with their ``sum_i A``.

    Such steps are rare (a tiny production against an enormous consumption): NumPy does
    them after the kernel, which stays one multiplication per value. NaN ratios (steps
    with a key of their own, for the dynamic key) are left alone.
    """
    steps = np.flatnonzero((ratio > 0.0) & (ratio < SMALLEST_NORMAL))
    if steps.size == 0:
        return
    consumption = consumption_by_member[:, steps]
    shares = (consumption / consumption_total[steps]) * production_total[steps]
    allocated_by_member[:, steps] = shares
    grid_supply_by_member[:, steps] = consumption - shares
    allocated_total[steps] = shares.sum(axis=0)


# --- either layout ------------------------------------------------------------------------


def run(
    consumption: Array,
    production: Array,
    *,
    consumption_total: Array | None = None,
    out: tuple[Array, Array] | None = None,
) -> Outputs:
    """The prorata key on (steps, consumers) ``consumption`` stored either way.

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus.
    ``consumption_total``: the per-step sums, if known (used on member-major data);
    ``out``: see :func:`repartition.kernels.layout.empty_outputs`.
    """
    return run_pooled(
        consumption,
        production,
        prorata_rows,
        prorata_members,
        member_options={"consumption_total": consumption_total},
        out=out,
    )
