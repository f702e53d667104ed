"""repartition.kernels.dynamic against its NumPy twin, :func:`repartition.reference.dynamic`.

``dynamic_rows`` on fixed and hypothesis' communities, ``dynamic_members`` on transposed
copies (coefficients too) on one and two threads; NaN rows fall back to prorata.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from kernel_cases import (
    C_FIXED,
    K_DYNAMIC_FIXED,
    P_FIXED,
    SHAPES,
    THREADS,
    assert_pooled,
    assert_pooled_matches,
    buffers,
    check_grid_supply,
    community,
    frozen,
    member_major,
    outputs,
)
from repartition import reference
from repartition.kernels import dynamic
from repartition.kernels.attribution import pooled_production


def run_dynamic(C, P, k):
    C, P, k = frozen(C), frozen(P), frozen(k)
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    total = pooled_production(P)
    dynamic.dynamic_rows(C, P, total, k, allocated, grid_supply, self_consumed, surplus)
    check_grid_supply(C, allocated, grid_supply)
    return allocated, self_consumed, surplus


# --- row-major ----------------------------------------------------------------------------


def test_fixed_dynamic() -> None:
    out = run_dynamic(C_FIXED, P_FIXED, K_DYNAMIC_FIXED)
    expected = reference.dynamic(C_FIXED, P_FIXED, K_DYNAMIC_FIXED)
    assert_pooled_matches(C_FIXED, P_FIXED, out, expected, "dynamic")
    np.testing.assert_allclose(out[0][0], [0.6, 1.2, 4.2])
    # The NaN row is prorata: 3 kWh for 0.75 kWh of consumption covers it.
    np.testing.assert_allclose(out[0][1], [0.5, 0.0, 0.25])


@given(community=gen.communities(), data=st.data())
def test_dynamic_agrees_with_reference(community: gen.Community, data: st.DataObject) -> None:
    C, P = community.consumption, community.production
    k = data.draw(gen.dynamic_tables(community.steps, community.consumers))
    out = run_dynamic(C, P, k)
    assert_pooled_matches(C, P, out, reference.dynamic(C, P, k), "dynamic")


# --- member-major -------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_dynamic_members_agree_with_reference(steps, consumers, producers, threads) -> None:
    C, P = community(6, steps, consumers, producers)
    rng = np.random.default_rng(7)
    k = rng.dirichlet(np.ones(consumers), size=steps) * rng.uniform(0.5, 1.0, (steps, 1))
    k[1::3] = np.nan  # no key sent: prorata
    F, K = member_major(C), member_major(k)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    total = pooled_production(P)
    dynamic.dynamic_members(F.T, P, total, K.T, allocated.T, grid_supply.T, self_consumed, surplus)
    expected = reference.dynamic(C, P, k)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)
