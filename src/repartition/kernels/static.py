"""The static key, the DSO's rule (*clé statique*): a fixed share of the pooled production.

``A[t, i] = min(C[t, i], k[i] * P_tot[t])``: what a consumer cannot use becomes surplus, it
is not redistributed (the redistributed variants are in
:mod:`repartition.kernels.water_filling`). AUTOPROD and SURPLUS are the pooled attribution
(:mod:`repartition.kernels.attribution`).

:func:`static_rows` reads row-major (steps, consumers) data, in parallel over steps;
:func:`static_members` member-major data as its (consumers, steps) transpose, in chunks of
members. :func:`run` picks the one for the data's layout. NumPy twin:
:func:`repartition.reference.static`. Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel, serial_kernel
from repartition.kernels.attribution import attribute_row, attribute_steps
from repartition.kernels.layout import Outputs, run_pooled
from repartition.kernels.members import CHUNKS, chunk_bounds, sum_chunks
from repartition.kernels.threads import run_ranges

__all__ = ["run", "static_members", "static_rows"]

Array = NDArray[np.float64]


# --- row-major: (steps, consumers) --------------------------------------------------------


@serial_kernel
def _capped_row(consumption, t, coefficients, level, allocated, grid_supply):  # type: ignore[no-untyped-def]
    """``A[t, i] = min(C[t, i], k[i] * level)`` (0 where ``k[i] = 0``); returns ``sum_i A``."""
    allocated_total = 0.0
    for i in range(consumption.shape[1]):
        c = consumption[t, i]
        k = coefficients[i]
        share = min(c, k * level) if k > 0.0 else 0.0
        allocated[t, i] = share
        grid_supply[t, i] = c - share
        allocated_total += share
    return allocated_total


@range_kernel
def _static_steps(  # type: ignore[no-untyped-def]
    consumption,
    production,
    production_total,
    coefficients,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
    start,
    stop,
):
    for t in range(start, stop):
        total = production_total[t]
        allocated_total = _capped_row(consumption, t, coefficients, total, allocated, grid_supply)
        attribute_row(production, t, total, allocated_total, self_consumed, surplus)


def static_rows(
    consumption: Array,
    production: Array,
    production_total: Array,
    coefficients: Array,
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Static key, the DSO's rule: ``A[t, i] = min(C[t, i], k[i] * P_tot[t])``, in
    parallel over steps."""
    run_ranges(
        _static_steps,
        consumption.shape[0],
        consumption.size,
        *(consumption, production, production_total, coefficients),
        *(allocated, grid_supply, self_consumed, surplus),
    )


# --- member-major: (consumers, steps) -----------------------------------------------------


@range_kernel
def _static_shares_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production_total,
    coefficients,
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
                share = min(c, k * production_total[t])
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = c - share
                partial[chunk, t] += share


def _static_shares(
    consumption_by_member: Array,
    production_total: Array,
    coefficients: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    chunks: int,
) -> Array:
    """``min(C, k_i * P_tot[t])`` and ``C - A``; returns ``sum_i A`` per step."""
    partial = np.zeros((chunks, consumption_by_member.shape[1]))
    run_ranges(
        _static_shares_chunks,
        chunks,
        consumption_by_member.size,
        *(consumption_by_member, production_total, coefficients),
        *(allocated_by_member, grid_supply_by_member, partial, chunks),
    )
    total: Array = sum_chunks(partial)
    return total


def static_members(
    consumption_by_member: Array,
    production: Array,
    production_total: Array,
    coefficients: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """:func:`static_rows` on member-major data, shape (consumers, steps)."""
    allocated_total = _static_shares(
        consumption_by_member,
        production_total,
        coefficients,
        allocated_by_member,
        grid_supply_by_member,
        CHUNKS,
    )
    attribute_steps(production, production_total, allocated_total, self_consumed, surplus)


# --- either layout ------------------------------------------------------------------------


def run(
    consumption: Array,
    production: Array,
    coefficients: Array,
    *,
    out: tuple[Array, Array] | None = None,
) -> Outputs:
    """The static key (DSO rule) with shares ``coefficients`` (consumers,) on
    ``consumption`` stored either way.

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus;
    ``out``: see :func:`repartition.kernels.layout.empty_outputs`.
    """
    return run_pooled(
        consumption, production, static_rows, static_members, (coefficients,), out=out
    )
