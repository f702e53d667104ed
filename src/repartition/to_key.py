"""Any allocation as the dynamic key that makes the DSO reproduce it.

The DSO applies a dynamic key (*clé dynamique simple*) with the rule
``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])`` (:class:`repartition.keys.Dynamic`). Any
allocation that satisfies the invariants of docs/rules.md, "Invariants" (``0 <= A <= C`` and
``sum_i A[t, i] <= P_tot[t]``) is reproduced by the coefficients
``k[t, i] = A[t, i] / P_tot[t]``: ``k * P_tot = A <= C``, so the ``min`` keeps ``A``. This
is how a strategy the DSO does not apply itself (redistribution, optimisation...) reaches
the real world: the PMO sends these coefficients as its dynamic key for the month.

References
----------
docs/rules.md, "Strategies sent as dynamic keys".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from repartition import errors
from repartition._align import check_sums, within_one
from repartition.allocation import Allocation
from repartition.kernels.attribution import pooled_production

__all__ = ["to_dynamic_key"]


def to_dynamic_key(allocation: Allocation) -> pd.DataFrame:
    """The dynamic key coefficients that make the DSO's rule reproduce ``allocation``.

    ``k[t, i] = A[t, i] / P_tot[t]`` where the pooled production ``P_tot[t] > 0``, with
    ``A`` the energy allocated (AUTOCONS) and ``P_tot[t] = sum_j P[t, j]`` summed as the
    keys sum it (:func:`repartition.kernels.attribution.pooled_production`).

    Parameters
    ----------
    allocation : Allocation
        Any allocation of :func:`repartition.allocate` (any key).

    Returns
    -------
    pandas.DataFrame
        Steps x consumers fractions in [0, 1] (0.25 means 25 %), on the allocation's index
        and with its consumer ids: the convention of :class:`repartition.keys.Dynamic`.
        Applying ``Dynamic(result)`` to the same consumption and production gives back
        ``allocation.allocated`` to a few units in the last place.

    Raises
    ------
    repartition.errors.CoefficientSumError
        If a step allocates more than is produced beyond floating-point rounding, or
        allocates anything at a step without production (an allocation that breaks
        invariant 2 cannot be sent as a key). No key of the library produces such an
        allocation; a hand-built or modified one can.

    Notes
    -----
    *Steps without production* (``P_tot[t] == 0``): nothing is shared, every ``A[t, i]``
    is 0 (checked: a nonzero one is an error, not a coefficient of 0 that would silently
    drop it) and any coefficient reproduces it. The coefficients are set to **0**, not NaN: a
    NaN row would mean "no key sent" (the DSO falls back to its default key, which also
    gives 0 here, but the row could not be written to a key file), and 0 says what happens.

    *Row sums*: mathematically ``sum_i k[t, i] = sum_i A[t, i] / P_tot[t] <= 1``. In
    floating point each division rounds, so a row can sum to ``1 + n * 2**-53`` or so
    (``n`` consumers). Such rows are divided by their sum, which brings them to 1 within a
    few units in the last place, far below the ``1 + 1e-9`` that
    :class:`~repartition.keys.Dynamic` accepts; a row above ``1 + 1e-9`` before that
    division means the allocation itself gives away more than is produced, and is an
    error rather than something to scale away. Each coefficient stays in [0, 1]: it is a
    non-negative term of a non-negative sum at most 1 (floating-point addition of
    non-negative numbers never decreases).

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0]}, index=index)
    >>> production = pd.Series([3.0, 0.0], index=index, name="PV")
    >>> redistributed = keys.Static({"A": 0.5, "B": 0.5}, redistribute=True)
    >>> allocation = allocate(consumption, production, redistributed)
    >>> allocation.allocated  # A is saturated at 1 kWh, B receives the rest
                                 A    B
    2025-06-01 12:00:00+02:00  1.0  2.0
    2025-06-01 12:30:00+02:00  0.0  0.0
    >>> key = to_dynamic_key(allocation)
    >>> key.round(4)
                                    A       B
    2025-06-01 12:00:00+02:00  0.3333  0.6667
    2025-06-01 12:30:00+02:00  0.0000  0.0000
    >>> allocate(consumption, production, keys.Dynamic(key)).allocated.equals(
    ...     allocation.allocated)
    True
    """
    if not isinstance(allocation, Allocation):
        raise errors.ParameterTypeError(
            "to_dynamic_key takes the Allocation returned by repartition.allocate, not "
            f"{type(allocation).__name__}."
        )
    allocated = allocation.arrays.allocated
    production_total = pooled_production(np.ascontiguousarray(allocation.arrays.production))
    produced = production_total > 0.0
    given = ~produced[:, None] & (allocated != 0.0)
    if given.any():
        row, column = (int(i) for i in np.argwhere(given)[0])
        member = allocation.consumers[column]
        raise errors.CoefficientSumError(
            f"The allocation gives {float(allocated[row, column])!r} kWh to {member!r} at step "
            f"{allocation.index[row]}, when nothing is produced (P_tot = 0): it breaks the "
            "invariant sum_i A <= P_tot, so no key can reproduce it (any coefficient gives "
            "0 there). Check the strategy that computed it.",
            member=member,
            column=member,
            timestamp=allocation.index[row],
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        coefficients = np.where(produced[:, None], allocated / production_total[:, None], 0.0)
    sums = coefficients.sum(axis=1)
    check_sums(
        sums,
        "The coefficients that reproduce the allocation",
        where=lambda row: f"at step {allocation.index[row]}",
        timestamp=lambda row: allocation.index[row],
        advice="The allocation gives away that many times the production: it breaks the "
        "invariant sum_i A <= P_tot, so no key can reproduce it. Check the strategy that "
        "computed it.",
    )
    coefficients = within_one(coefficients, sums)
    return pd.DataFrame(coefficients, index=allocation.index, columns=allocation.consumers)
