"""The pooled production and its attribution to producers, shared by the pooled rules.

``P_tot[t] = sum_j P[t, j]`` (:func:`pooled_production`), and the DSO's attribution of what
the consumers received, prorata of production::

    AUTOPROD[t, j] = P[t, j] * min(1, sum_i A[t, i] / P_tot[t]),  SURPLUS = P - AUTOPROD

:func:`attribute_row` attributes one step, from inside a row-major kernel;
:func:`attribute_steps` every step at once, from the per-step totals a member-major kernel
summed. Production is (steps, producers) and row-major in both layouts. NumPy twin:
:func:`repartition.reference.attribute_pooled`. Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import exact_range_kernel, range_kernel, serial_kernel
from repartition.kernels.threads import run_ranges

__all__ = ["attribute_row", "attribute_steps", "pooled_production"]

Array = NDArray[np.float64]


@exact_range_kernel  # no re-association: the sum runs in the order of the values
def _pooled_production_chunks(production, totals, chunks, first_chunk, stop_chunk):  # type: ignore[no-untyped-def]
    steps, producers = production.shape
    for chunk in range(first_chunk, stop_chunk):
        values = np.empty(producers)  # one buffer per chunk: no allocation per step
        for t in range(chunk * steps // chunks, (chunk + 1) * steps // chunks):
            # Insertion sort: a community has few producers.
            for j in range(producers):
                value = production[t, j]
                position = j
                while position > 0 and values[position - 1] > value:
                    values[position] = values[position - 1]
                    position -= 1
                values[position] = value
            total = 0.0
            for j in range(producers):
                total += values[j]
            totals[t] = total


def pooled_production(production: Array) -> Array:
    """``P_tot[t] = sum_j P[t, j]``, summed in increasing order of the values.

    The order of the sum is fixed by the values, not by the order of the producers, so
    that ``P_tot`` (and every rule that compares against it) does not depend on member
    order to the last bit (invariant 5). A community has few producers: the sort is cheap.
    """
    steps = production.shape[0]
    totals = np.empty(steps)
    chunks = min(steps, 256)  # enough for any thread count; one small buffer each
    run_ranges(_pooled_production_chunks, chunks, production.size, production, totals, chunks)
    return totals


@serial_kernel
def attribute_row(production, t, production_total, allocated_total, self_consumed, surplus):  # type: ignore[no-untyped-def]
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


@range_kernel
def _attribute_steps(  # type: ignore[no-untyped-def]
    production, production_total, allocated_total, self_consumed, surplus, start, stop
):
    for t in range(start, stop):
        attribute_row(
            production, t, production_total[t], allocated_total[t], self_consumed, surplus
        )


def attribute_steps(
    production: Array,
    production_total: Array,
    allocated_total: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """:func:`attribute_row` for every step, from the per-step ``allocated_total``."""
    run_ranges(
        _attribute_steps,
        production.shape[0],
        production.size,
        *(production, production_total, allocated_total, self_consumed, surplus),
    )
