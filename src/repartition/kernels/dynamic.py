"""The dynamic key (*clé dynamique simple*): a share per consumer and step.

``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``; a step whose row of coefficients is NaN (no
key sent) falls back to the prorata key (:mod:`repartition.kernels.prorata`). AUTOPROD and
SURPLUS are the pooled attribution (:mod:`repartition.kernels.attribution`).

:func:`dynamic_rows` reads row-major (steps, consumers) data, in parallel over steps;
:func:`dynamic_members` member-major data and coefficients as their (consumers, steps)
transposes, in chunks of members. :func:`run` picks the one for the consumption's layout and
reads the coefficients in that layout (copied into it once if they differ). NumPy twin:
:func:`repartition.reference.dynamic`. Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel
from repartition.kernels.attribution import attribute_row, attribute_steps
from repartition.kernels.layout import Outputs, like, run_pooled
from repartition.kernels.members import CHUNKS, chunk_bounds, member_sums, sum_chunks
from repartition.kernels.prorata import exact_tiny_ratios, prorata_ratio, prorata_row
from repartition.kernels.threads import run_ranges

__all__ = ["dynamic_members", "dynamic_rows", "run"]

Array = NDArray[np.float64]


# --- row-major: (steps, consumers) --------------------------------------------------------


@range_kernel
def _dynamic_steps(  # type: ignore[no-untyped-def]
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
        if np.isnan(coefficients[t, 0]):
            allocated_total = prorata_row(consumption, t, total, allocated, grid_supply)
        else:
            allocated_total = 0.0
            for i in range(consumption.shape[1]):
                c = consumption[t, i]
                share = min(c, coefficients[t, i] * total)
                allocated[t, i] = share
                grid_supply[t, i] = c - share
                allocated_total += share
        attribute_row(production, t, total, allocated_total, self_consumed, surplus)


def dynamic_rows(
    consumption: Array,
    production: Array,
    production_total: Array,
    coefficients: Array,
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Dynamic key: ``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``, in parallel over steps.

    A row of NaN coefficients (no key sent for that step) falls back to prorata.
    """
    run_ranges(
        _dynamic_steps,
        consumption.shape[0],
        consumption.size,
        *(consumption, production, production_total, coefficients),
        *(allocated, grid_supply, self_consumed, surplus),
    )


# --- member-major: (consumers, steps) -----------------------------------------------------


@range_kernel
def _dynamic_shares_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production_total,
    coefficients_by_member,
    ratio,
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


def _dynamic_shares(
    consumption_by_member: Array,
    production_total: Array,
    coefficients_by_member: Array,
    ratio: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    chunks: int,
) -> Array:
    """``min(C, k * P_tot)``, or ``C * ratio[t]`` where ``ratio[t]`` is set (not NaN);
    returns ``sum_i A`` per step."""
    partial = np.zeros((chunks, consumption_by_member.shape[1]))
    run_ranges(
        _dynamic_shares_chunks,
        chunks,
        consumption_by_member.size,
        *(consumption_by_member, production_total, coefficients_by_member, ratio),
        *(allocated_by_member, grid_supply_by_member, partial, chunks),
    )
    total: Array = sum_chunks(partial)
    return total


def dynamic_members(
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
    """:func:`dynamic_rows` on member-major data and coefficients, shape (consumers, steps);
    all-NaN steps: prorata.

    ``consumption_total``, the per-step sums if the caller has them, saves a read.
    """
    chunks = CHUNKS
    ratio = np.full(production_total.size, np.nan)  # NaN: the step has a key
    fallback = np.isnan(coefficients_by_member[0])
    if fallback.any():
        if consumption_total is None:
            consumption_total = member_sums(consumption_by_member, chunks)
        ratio[fallback] = prorata_ratio(consumption_total, production_total)[fallback]
    allocated_total = _dynamic_shares(
        consumption_by_member,
        production_total,
        coefficients_by_member,
        ratio,
        allocated_by_member,
        grid_supply_by_member,
        chunks,
    )
    if consumption_total is not None:  # some steps fell back to prorata
        exact_tiny_ratios(
            consumption_by_member, consumption_total, production_total, ratio,
            allocated_by_member, grid_supply_by_member, allocated_total,
        )  # fmt: skip
    attribute_steps(production, production_total, allocated_total, self_consumed, surplus)


# --- either layout ------------------------------------------------------------------------


def run(
    consumption: Array,
    production: Array,
    coefficients: Array,
    *,
    consumption_total: Array | None = None,
    out: tuple[Array, Array] | None = None,
) -> Outputs:
    """The dynamic key with the (steps, consumers) table ``coefficients`` on
    ``consumption`` stored either way (the table is read in the consumption's layout).

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus.
    ``consumption_total``: the per-step sums, if known (used on member-major data);
    ``out``: see :func:`repartition.kernels.layout.empty_outputs`.
    """
    return run_pooled(
        consumption,
        production,
        dynamic_rows,
        dynamic_members,
        (like(coefficients, consumption),),
        member_options={"consumption_total": consumption_total},
        out=out,
    )
