"""Attribution of the shared energy to producers in merit order (Italy's CER rule).

The plants are served in order of commissioning, earliest first, each up to its production:
``AUTOPROD[t, j] = clip(E[t] - sum_{k earlier than j} P[t, k], 0, P[t, j])`` for the energy
``E[t]`` the consumers received (plants of equal rank share their group's part in proportion
to production), ``SURPLUS = P - AUTOPROD``. The consumers' side is the prorata key
(:mod:`repartition.kernels.prorata`); the attribution reads production only, which is
row-major in both layouts, so there is one function and no layout to pick.

Plain NumPy, vectorised over steps: the work is ``steps x producers`` (a handful of
producers), far below the consumers' side of an allocation, so it needs no Numba. Its
oracle, written differently (per producer, from the production of earlier plants), is
:func:`repartition.reference.merit_order_attribution`.

Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

__all__ = ["attribute"]


def attribute(production: Array, shared: Array, ranks: NDArray[np.int64]) -> tuple[Array, Array]:
    """AUTOPROD and SURPLUS per producer, filling the earliest-ranked plants first.

    Parameters
    ----------
    production : ndarray, shape (steps, producers)
        PROD. [kWh]
    shared : ndarray, shape (steps,)
        Energy received by the consumers at each step, ``sum_i A[t, i] <= P_tot[t]``. [kWh]
    ranks : ndarray of int, shape (producers,)
        Merit order of each producer: 0 is served first. Producers of equal rank form one
        group, which takes its part as a whole and splits it in proportion to production.

    Returns
    -------
    self_consumed, surplus : ndarray, shape (steps, producers)
        ``AUTOPROD`` and ``SURPLUS = PROD - AUTOPROD``, both >= 0. [kWh]

    Notes
    -----
    Group by group in rank order: ``taken = min(G[t], remaining[t])`` with ``G`` the group's
    production (summed in increasing order of the values, so that the result does not depend
    on the order of the columns) and ``remaining`` what earlier groups left of ``shared``;
    each producer of the group gets ``P[t, j] * taken / G[t]``.
    """
    steps, producers = production.shape
    self_consumed = np.zeros((steps, producers))
    remaining = np.array(shared, dtype=np.float64, copy=True)
    for rank in np.unique(ranks):
        members = np.flatnonzero(ranks == rank)
        group = production[:, members]
        group_total = np.sort(group, axis=1).sum(axis=1)
        taken = np.minimum(group_total, remaining)
        with np.errstate(divide="ignore", invalid="ignore"):
            fraction = np.where(group_total > 0.0, np.minimum(taken / group_total, 1.0), 0.0)
        self_consumed[:, members] = group * fraction[:, None]
        remaining = np.maximum(remaining - taken, 0.0)
    surplus = production - self_consumed
    return self_consumed, surplus
