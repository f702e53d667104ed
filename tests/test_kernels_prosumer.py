"""repartition.kernels.prosumer (fixed and relative) against ``reference.full_dynamic`` on the
pair table repeated over the steps.

``pair_shares_rows`` and ``pair_shares_members`` on one and two threads; the flows' scale,
rebuilt from AUTOCONS by ``pair_scale``, checked in both layouts.
"""

from __future__ import annotations

import numpy as np
import pytest

from kernel_cases import (
    STRATEGY_SHAPES,
    THREADS,
    assert_full_dynamic,
    buffers,
    frozen,
    member_major,
    prosumer_case,
)
from repartition import reference
from repartition.kernels import prosumer
from repartition.kernels.members import CHUNKS
from repartition.keys.prosumer import pair_coefficients


@pytest.mark.parametrize(("steps", "consumers", "producers"), STRATEGY_SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("variant", ["fixed", "relative"])
def test_pair_shares_both_layouts(steps, consumers, producers, threads, variant) -> None:
    """Allocations, AUTOPROD and the flows, whose scale is rebuilt from AUTOCONS by
    ``pair_scale``, against the NumPy twin in both layouts."""
    C, P, k, owners = prosumer_case(steps, consumers, producers)
    pairs = frozen(pair_coefficients(k, owners, variant))
    repeated = np.broadcast_to(pairs[:, None, :], (producers, steps, consumers))
    _, _, flows = reference.full_dynamic(C, P, repeated)

    def rebuilt_tables(allocated):
        scale = np.full(C.shape, np.nan)
        prosumer.pair_scale(frozen(allocated), P, pairs, scale)
        return [pairs[j] * scale for j in range(producers)]

    allocated, grid_supply = np.empty(C.shape), np.empty(C.shape)
    self_consumed, surplus = np.empty(P.shape), np.empty(P.shape)
    prosumer.pair_shares_rows(
        *(frozen(C), P, pairs, allocated, grid_supply, self_consumed, surplus, CHUNKS)
    )
    tables = rebuilt_tables(allocated)
    assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    prosumer.pair_shares_members(
        *(member_major(C).T, np.ascontiguousarray(P.T), pairs),
        *(allocated.T, grid_supply.T, self_consumed, surplus, CHUNKS),
    )
    tables = rebuilt_tables(allocated)
    assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows)
