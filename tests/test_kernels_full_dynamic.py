"""repartition.kernels.full_dynamic against its NumPy twin, ``reference.full_dynamic``.

The row-major kernels in the order ``run()`` calls them, on fixed and hypothesis'
communities, flows included; the member-major ones on transposed copies on one and two
threads; and the flows a key keeps do not follow later changes of its tables.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from kernel_cases import (
    C_FIXED,
    P_FIXED,
    SHAPES,
    THREADS,
    TIGHT_RTOL,
    assert_close,
    buffers,
    check_grid_supply,
    community,
    frozen,
    member_major,
    outputs,
    step_scale,
)
from repartition import allocate, keys, reference
from repartition.kernels import full_dynamic


def run_full_dynamic(C, P, tables):
    """The three full-dynamic kernels in the order :class:`repartition.keys.FullDynamic` uses.

    Returns ``(allocated, self_consumed, surplus, flows)`` with flows rebuilt from the
    scale factors the kernels leave behind, shape (steps, producers, consumers).
    """
    C, P = frozen(C), frozen(P)
    tables = [frozen(table) for table in tables]
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    scale = np.full_like(allocated, np.nan)
    for j, table in enumerate(tables):
        full_dynamic.add_offered_rows(table, P, j, scale, j == 0)
    full_dynamic.cap_offered(C, scale, allocated, grid_supply)
    check_grid_supply(C, allocated, grid_supply)
    for j, table in enumerate(tables):
        full_dynamic.attribute_producer_rows(table, P, j, scale, self_consumed, surplus)
    flows = np.stack([table * P[:, j, None] * scale for j, table in enumerate(tables)], axis=1)
    return allocated, self_consumed, surplus, flows


# --- row-major ----------------------------------------------------------------------------


def test_fixed_full_dynamic() -> None:
    tables = np.array(
        [
            [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.2, 0.2], [0.5, 0.5, 0.0]],
            [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.3, 0.3, 0.3]],
        ]
    )
    allocated, self_consumed, surplus, flows = run_full_dynamic(C_FIXED, P_FIXED, tables)
    expected_allocated, expected_self, expected_flows = reference.full_dynamic(
        C_FIXED, P_FIXED, tables
    )
    scale = step_scale(C_FIXED, P_FIXED)
    assert_close(allocated, expected_allocated, scale, "allocated")
    assert_close(self_consumed, expected_self, scale, "self_consumed")
    assert_close(surplus, P_FIXED - expected_self, scale, "surplus")
    assert_close(flows, expected_flows, scale[:, :, None], "flows")
    # Step 0 by hand: a is offered 2 (takes 1, scale 1/2), b 2, c 2 from the second producer.
    np.testing.assert_allclose(allocated[0], [1.0, 2.0, 2.0])
    np.testing.assert_allclose(self_consumed[0], [3.0, 2.0])


@given(community=gen.communities(), data=st.data())
def test_full_dynamic_agrees_with_reference(community: gen.Community, data) -> None:
    C, P = community.consumption, community.production
    tables = data.draw(
        gen.full_dynamic_tables(community.producers, community.steps, community.consumers)
    )
    allocated, self_consumed, surplus, flows = run_full_dynamic(C, P, tables)
    expected_allocated, expected_self, expected_flows = reference.full_dynamic(C, P, tables)
    scale = step_scale(C, P)
    assert_close(allocated, expected_allocated, scale, "allocated")
    assert_close(self_consumed, expected_self, scale, "self_consumed")
    assert_close(surplus, P - expected_self, scale, "surplus")
    assert_close(flows, expected_flows, scale[:, :, None], "flows")


# --- member-major -------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_full_dynamic_members_agree_with_reference(steps, consumers, producers, threads) -> None:
    C, P = community(8, steps, consumers, producers)
    rng = np.random.default_rng(9)
    tables = [
        rng.dirichlet(np.ones(consumers), size=steps) * rng.uniform(0.3, 1.0, (steps, 1))
        for _ in range(producers)
    ]
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    scale = np.empty(C.shape, order="F")
    for j, table in enumerate(tables):
        full_dynamic.add_offered_members(member_major(table).T, P, j, scale.T, j == 0)
    full_dynamic.cap_offered(F.T, scale.T, allocated.T, grid_supply.T)
    for j, table in enumerate(tables):
        full_dynamic.attribute_producer_members(
            member_major(table).T, P, j, scale.T, self_consumed, surplus
        )
    expected, expected_self, _ = reference.full_dynamic(C, P, np.stack(tables))
    atol = TIGHT_RTOL * (C.max(initial=0.0) + P.max(initial=0.0) + 1.0)
    np.testing.assert_allclose(allocated, expected, rtol=TIGHT_RTOL, atol=atol)
    np.testing.assert_array_equal(grid_supply, C - allocated)
    np.testing.assert_allclose(self_consumed, expected_self, rtol=TIGHT_RTOL, atol=atol)
    np.testing.assert_allclose(surplus, P - expected_self, rtol=TIGHT_RTOL, atol=atol)


# --- through the key ----------------------------------------------------------------------


def test_full_dynamic_flows_do_not_follow_later_changes_of_the_key() -> None:
    C, P = community(15, 12, 3, 2)
    index = pd.date_range("2025-06-01", periods=12, freq="30min", tz="Europe/Paris")
    columns = ["a", "b", "c"]
    consumption = pd.DataFrame(C, index=index, columns=columns)
    production = pd.DataFrame(P, index=index, columns=["p0", "p1"])
    tables = {p: pd.DataFrame(0.3, index=index, columns=columns) for p in ["p0", "p1"]}
    arrays = [np.full((12, 3), 0.3), np.full((12, 3), 0.3)]
    for key, change in [
        (keys.FullDynamic(tables), lambda: tables["p0"].iloc.__setitem__((slice(None),), 0.0)),
        (keys.FullDynamic(dict(zip(["p0", "p1"], arrays, strict=True))), lambda: arrays[0].fill(0)),
    ]:
        result = allocate(consumption, production, key)
        before = result.flows().to_numpy().copy()
        change()
        np.testing.assert_array_equal(result.flows().to_numpy(), before)
