"""repartition.kernels.attribution: the pooled production ``P_tot`` and its attribution.

The attribution itself (AUTOPROD and SURPLUS prorata of production) is checked against
:func:`repartition.reference.attribute_pooled` in every pooled rule's tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernel_cases import (
    frozen,
)
from repartition.kernels.attribution import pooled_production


def test_pooled_production_does_not_depend_on_producer_order() -> None:
    """``P_tot`` is summed in value order: every permutation of producers gives the same
    bits, and the sum agrees with NumPy's."""
    rng = np.random.default_rng(7)
    P = rng.random((50, 6)) * 10.0 ** rng.integers(-3, 4, size=(50, 6))
    P[0] = [0.1, 0.2, 0.3, 0.0, 0.0, 0.0]
    totals = pooled_production(frozen(P))
    for _ in range(5):
        permuted = frozen(P[:, rng.permutation(6)])
        np.testing.assert_array_equal(pooled_production(permuted), totals)
    np.testing.assert_allclose(totals, P.sum(axis=1), rtol=1e-15)


@pytest.mark.parametrize("producers", [1, 2, 5, 40])
def test_pooled_production_sums_in_increasing_order_exactly(producers: int) -> None:
    """The sum is exactly ``sum(sorted(row))``, left to right: not re-associated (a fastmath
    build vectorised it and moved the last bits), ties and zeros included."""
    rng = np.random.default_rng(producers)
    P = rng.random((300, producers)) * 10.0 ** rng.integers(-3, 4, size=(300, producers))
    P[::4] = np.round(P[::4], 1)
    P[::7] = 0.0
    expected = np.array([sum(sorted(row), 0.0) for row in P.tolist()])
    np.testing.assert_array_equal(pooled_production(frozen(P)), expected)
