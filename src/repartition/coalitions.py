"""Coalition values of the default key, for Shapley values: the engine's entry to their kernels.

With :class:`~repartition.keys.Prorata`, what a coalition ``S`` of consumers receives alone
has a closed form per step, ``v_t(S) = W_t(S) * min(1, P_tot[t] / E_t(S))`` with ``E_t(S) =
sum_{i in S} C[t, i]`` and ``W_t(S) = sum_{i in S} value[t, i] * C[t, i]``
(:mod:`repartition.kernels.shapley`). :mod:`repartition.metrics.shapley` calls these two
functions instead of allocating each coalition.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels import shapley as kernels
from repartition.kernels.attribution import pooled_production
from repartition.kernels.layout import read_only
from repartition.kernels.threads import get_threads

__all__ = ["prorata_coalition_values", "prorata_permutation_marginals"]

Array = NDArray[np.float64]


def prorata_coalition_values(consumption: Array, production: Array, value: Array) -> Array:
    """``v(S)`` of every coalition under the default key, indexed by bit mask.

    Parameters
    ----------
    consumption : ndarray, shape (steps, consumers)
        Checked consumption. [kWh per step]
    production : ndarray, shape (steps, producers)
        Checked production. [kWh per step]
    value : ndarray, shape (steps, consumers)
        What a kWh received is worth to each consumer at each step. [currency per kWh]

    Returns
    -------
    ndarray, shape (2 ** consumers,)
        ``v(S)`` for the coalition whose bit ``i`` is set when consumer ``i`` is in it.
        [currency]
    """
    production_total = pooled_production(read_only(np.ascontiguousarray(production)))
    chunks = max(1, min(len(production_total), 4 * get_threads()))
    return np.asarray(
        kernels.prorata_coalition_values(
            read_only(np.ascontiguousarray(consumption)),
            production_total,
            read_only(np.ascontiguousarray(value)),
            chunks,
        ),
        dtype=np.float64,
    )


def prorata_permutation_marginals(
    consumption: Array, production: Array, value: Array, permutations: NDArray[np.int64]
) -> Array:
    """Each member's marginal contribution in each permutation, under the default key.

    Parameters are as :func:`prorata_coalition_values`'s, with ``permutations`` of shape
    (samples, consumers), each row an order of the column positions. Returns an array of
    shape (samples, consumers). [currency]
    """
    return np.asarray(
        kernels.prorata_permutation_marginals(
            read_only(np.ascontiguousarray(consumption.T)),
            pooled_production(read_only(np.ascontiguousarray(production))),
            read_only(np.ascontiguousarray(value.T)),
            read_only(np.ascontiguousarray(permutations)),
        ),
        dtype=np.float64,
    )
