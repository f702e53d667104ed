"""Kernels for the Shapley value of the Prorata key (:mod:`repartition.metrics.shapley`).

With the Prorata key, a coalition ``S`` of consumers sharing the pooled production
``P_tot[t]`` alone receives ``A_S[t, i] = C[t, i] * min(1, P_tot[t] / sum_{j in S} C[t, j])``,
so its value at step ``t`` needs only two sums over ``S``:

``v_t(S) = W_t(S) * min(1, P_tot[t] / E_t(S))``, with ``E_t(S) = sum_{i in S} C[t, i]``
[kWh] and ``W_t(S) = sum_{i in S} value[t, i] * C[t, i]`` [currency], and 0 when
``E_t(S) = 0``.

- :func:`prorata_coalition_values` computes ``v(S) = sum_t v_t(S)`` for all ``2^N``
  coalitions at once: each step's subset sums follow from a smaller coalition's by one
  addition (``S`` from ``S`` without its lowest member), ``O(2^N)`` per step.
- :func:`prorata_permutation_marginals` adds the members of each sampled permutation one
  by one, keeping ``E_t`` and ``W_t`` per step: ``O(N x steps)`` per permutation.

Each reads the layout its loops need, whatever the data's (the coalition values row-major
tables, the marginals member-major ones): :mod:`repartition.metrics.shapley` hands them
that, so no key picks a layout here and there is no ``run()``. Their plain NumPy twins are
``_numpy_coalition_values`` and ``_numpy_marginals`` in :mod:`repartition.metrics.shapley`;
the tests check that they agree.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel, serial_kernel
from repartition.kernels.members import sum_chunks
from repartition.kernels.threads import run_ranges

Array = NDArray[np.float64]


@serial_kernel
def _step_value(energy, worth, production_total):  # type: ignore[no-untyped-def]
    """``W * min(1, P / E)``, and ``W`` (which is 0) when ``E`` is 0."""
    if energy > production_total:
        return worth * (production_total / energy)
    return worth


@range_kernel
def _lowest_members(size):  # type: ignore[no-untyped-def]
    """The lowest member (bit) of each coalition ``1 .. size - 1``."""
    lowest = np.zeros(size, dtype=np.int64)
    for mask in range(1, size):
        bit = 0
        while not (mask >> bit) & 1:
            bit += 1
        lowest[mask] = bit
    return lowest


@range_kernel
def _coalition_values_chunks(  # type: ignore[no-untyped-def]
    consumption, production_total, value, lowest, partial, chunks, first_chunk, stop_chunk
):
    steps = consumption.shape[0]
    size = lowest.shape[0]
    for chunk in range(first_chunk, stop_chunk):
        start = chunk * steps // chunks
        stop = (chunk + 1) * steps // chunks
        energy = np.zeros(size)
        worth = np.zeros(size)
        for t in range(start, stop):
            production = production_total[t]
            for mask in range(1, size):
                bit = lowest[mask]
                smaller = mask ^ (1 << bit)
                energy[mask] = energy[smaller] + consumption[t, bit]
                worth[mask] = worth[smaller] + value[t, bit] * consumption[t, bit]
                partial[chunk, mask] += _step_value(energy[mask], worth[mask], production)


def prorata_coalition_values(
    consumption: Array, production_total: Array, value: Array, chunks: int
) -> Array:
    """``v(S)`` of every coalition ``S`` (bit ``i`` of the index set when ``i`` is in ``S``).

    Parameters: ``consumption`` and ``value`` row-major (steps, consumers) [kWh, currency
    per kWh], ``production_total`` (steps,) [kWh], ``chunks`` the number of blocks of steps
    run in parallel (each with its own ``2^N`` accumulator, added in block order). Returns
    (2^N,) [currency].
    """
    steps, members = consumption.shape
    size = 1 << members
    lowest = _lowest_members(size)
    partial = np.zeros((chunks, size))
    run_ranges(
        _coalition_values_chunks,
        chunks,
        steps * size,
        *(consumption, production_total, value, lowest, partial, chunks),
    )
    totals: Array = sum_chunks(partial)
    return totals


@range_kernel
def _permutation_marginals_range(  # type: ignore[no-untyped-def]
    consumption, production_total, value, permutations, marginals, first_sample, stop_sample
):
    members = permutations.shape[1]
    steps = consumption.shape[1]
    for k in range(first_sample, stop_sample):
        energy = np.zeros(steps)
        worth = np.zeros(steps)
        previous = 0.0
        for position in range(members):
            i = permutations[k, position]
            total = 0.0
            for t in range(steps):
                energy[t] += consumption[i, t]
                worth[t] += value[i, t] * consumption[i, t]
                total += _step_value(energy[t], worth[t], production_total[t])
            marginals[k, i] = total - previous
            previous = total


def prorata_permutation_marginals(
    consumption: Array, production_total: Array, value: Array, permutations: NDArray[np.int64]
) -> Array:
    """Marginal contribution of each member in each permutation.

    Parameters: ``consumption`` and ``value`` member-major (consumers, steps) [kWh,
    currency per kWh], ``production_total`` (steps,) [kWh], ``permutations`` (samples,
    consumers) of member positions. Returns (samples, consumers): ``out[k, i] = v(P_k(i) +
    i) - v(P_k(i))`` with ``P_k(i)`` the members before ``i`` in permutation ``k``
    [currency]. Each row sums to ``v(N)`` (the sum telescopes). In parallel over samples.
    """
    samples, members = permutations.shape
    marginals = np.empty((samples, members))
    run_ranges(
        _permutation_marginals_range,
        samples,
        samples * consumption.size,
        *(consumption, production_total, value, permutations, marginals),
    )
    return marginals
