"""repartition.kernels.static against its NumPy twin, :func:`repartition.reference.static`.

``static_rows`` on fixed and hypothesis' communities, ``static_members`` on transposed copies
on one and two threads.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from kernel_cases import (
    C_FIXED,
    K_FIXED,
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
from repartition.kernels import static
from repartition.kernels.attribution import pooled_production


def run_static(C, P, k):
    C, P, k = frozen(C), frozen(P), frozen(k)
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    total = pooled_production(P)
    static.static_rows(C, P, total, k, allocated, grid_supply, self_consumed, surplus)
    check_grid_supply(C, allocated, grid_supply)
    return allocated, self_consumed, surplus


# --- row-major ----------------------------------------------------------------------------


def test_fixed_static() -> None:
    out = run_static(C_FIXED, P_FIXED, K_FIXED)
    expected = reference.static(C_FIXED, P_FIXED, K_FIXED)
    assert_pooled_matches(C_FIXED, P_FIXED, out, expected, "static")
    np.testing.assert_allclose(out[0][0], [1.0, 1.5, 0.0])


@given(community=gen.communities(), data=st.data())
def test_static_agrees_with_reference(community: gen.Community, data: st.DataObject) -> None:
    C, P = community.consumption, community.production
    k = data.draw(gen.static_coefficients(community.consumers))
    out = run_static(C, P, k)
    assert_pooled_matches(C, P, out, reference.static(C, P, k), "static")


# --- member-major -------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_static_members_agree_with_reference(steps, consumers, producers, threads) -> None:
    C, P = community(2, steps, consumers, producers)
    k = frozen(np.random.default_rng(3).dirichlet(np.ones(consumers)) * 0.9)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    total = pooled_production(P)
    static.static_members(F.T, P, total, k, allocated.T, grid_supply.T, self_consumed, surplus)
    expected = reference.static(C, P, k)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)
