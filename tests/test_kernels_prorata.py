"""repartition.kernels.prorata against its NumPy twin, :func:`repartition.reference.prorata`.

``prorata_rows`` on fixed and hypothesis' communities, ``prorata_members`` on transposed
copies on one and two threads (style.md point 3: a naive oracle for every kernel).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import strategies as gen
from kernel_cases import (
    C_FIXED,
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
from repartition.kernels import prorata
from repartition.kernels.attribution import pooled_production


def run_prorata(C, P):
    C, P = frozen(C), frozen(P)
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    total = pooled_production(P)
    prorata.prorata_rows(C, P, total, allocated, grid_supply, self_consumed, surplus)
    check_grid_supply(C, allocated, grid_supply)
    return allocated, self_consumed, surplus


# --- row-major ----------------------------------------------------------------------------


def test_fixed_prorata() -> None:
    out = run_prorata(C_FIXED, P_FIXED)
    assert_pooled_matches(C_FIXED, P_FIXED, out, reference.prorata(C_FIXED, P_FIXED), "prorata")
    # Step 0 by hand: ratio 6 / 10.
    np.testing.assert_allclose(out[0][0], [0.6, 2.4, 3.0])


@given(community=gen.communities())
def test_prorata_agrees_with_reference(community: gen.Community) -> None:
    C, P = community.consumption, community.production
    out = run_prorata(C, P)
    assert_pooled_matches(C, P, out, reference.prorata(C, P), "prorata")


# --- member-major -------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_prorata_members_agree_with_reference(steps, consumers, producers, threads) -> None:
    C, P = community(1, steps, consumers, producers)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    total = pooled_production(P)
    prorata.prorata_members(F.T, P, total, allocated.T, grid_supply.T, self_consumed, surplus)
    expected = reference.prorata(C, P)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)
