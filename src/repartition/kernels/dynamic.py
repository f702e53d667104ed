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

from repartition.kernels._config import parallel_kernel, prange
from repartition.kernels.attribution import attribute_row, attribute_steps
from repartition.kernels.layout import Outputs, like, run_pooled
from repartition.kernels.members import CHUNKS, chunk_bounds, member_sums
from repartition.kernels.prorata import prorata_ratio, prorata_row

__all__ = ["dynamic_members", "dynamic_rows", "run"]

Array = NDArray[np.float64]


# --- row-major: (steps, consumers) --------------------------------------------------------


@parallel_kernel
def dynamic_rows(  # type: ignore[no-untyped-def]
    consumption,
    production,
    production_total,
    coefficients,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
):
    """Dynamic key: ``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``.

    A row of NaN coefficients (no key sent for that step) falls back to prorata.
    """
    for t in prange(consumption.shape[0]):
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


# --- member-major: (consumers, steps) -----------------------------------------------------


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
