"""The strategies' kernels, called directly, agree with their NumPy twins in both layouts.

``repartition.kernels.greedy`` (economic greedy) and ``repartition.kernels.prosumer``
(prosumer-aware keys), row-major and member-major, on one and two threads, every output
checked against ``repartition.reference``. Like the other kernel modules, these tests also
run with ``NUMBA_DISABLE_JIT=1`` (``python -m pytest -m slow``), so that coverage sees the
kernels' Python code.
"""

from __future__ import annotations

import numpy as np
import pytest

from repartition import reference
from repartition.kernels import greedy
from repartition.kernels import prosumer as prosumer_kernels
from repartition.kernels import prosumer_optimal as optimal_kernels
from repartition.kernels.attribution import pooled_production
from repartition.kernels.members import CHUNKS
from repartition.keys.prosumer import _owner_slots, _relative_scale, pair_coefficients
from test_kernels import frozen
from test_kernels_by_member import THREADS, assert_pooled, buffers, community, member_major

SHAPES = [(1, 1, 1), (37, 5, 2), (50, 23, 3)]
RTOL = 1e-12


def greedy_values(consumers: int) -> np.ndarray:
    """Values with ties, a zero and a negative value, so that every branch runs."""
    values = np.round(np.random.default_rng(21).uniform(-0.05, 0.2, consumers), 2)
    values[::4] = 0.05
    values[-1] = 0.0
    return frozen(values)


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("serve_zero", [True, False])
def test_greedy_fixed_both_layouts(steps, consumers, producers, threads, serve_zero) -> None:
    C, P = community(22, steps, consumers, producers)
    values = greedy_values(consumers)
    order = np.argsort(-values, kind="stable")
    order.flags.writeable = False
    total = pooled_production(P)
    expected = reference.economic_greedy(C, P, values, serve_zero)
    rows = np.empty(C.shape), np.empty(C.shape), np.empty(P.shape), np.empty(P.shape)
    greedy.greedy_fixed_rows(frozen(C), P, total, values, order, serve_zero, *rows)
    assert_pooled(C, P, *rows, expected)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    greedy.greedy_fixed_members(
        member_major(C).T,
        P,
        total,
        values,
        order,
        serve_zero,
        allocated.T,
        grid_supply.T,
        self_consumed,
        surplus,
        CHUNKS,
    )
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)


def prosumer_case(steps: int, consumers: int, producers: int):
    """Consumption, production, static keys and producer 0 owned by consumer 0."""
    C, P = community(23, steps, consumers, producers)
    k = np.random.default_rng(24).dirichlet(np.ones(consumers)) * 0.9
    owners = np.full(producers, -1, dtype=np.intp)
    owners[0] = 0
    return C, P, k, owners


def assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows):
    """Against ``reference.full_dynamic``'s outputs: allocations, AUTOPROD and every flow."""
    scale = np.maximum(C.max(initial=0.0), P.sum(axis=1).max(initial=0.0)) + 1.0
    atol = RTOL * scale
    expected_allocated = flows.sum(axis=1).clip(max=C)
    np.testing.assert_allclose(allocated, expected_allocated, rtol=RTOL, atol=atol)
    np.testing.assert_array_equal(grid_supply, C - allocated)
    expected_self = np.minimum(flows.sum(axis=2), P)
    np.testing.assert_allclose(self_consumed, expected_self, rtol=RTOL, atol=atol)
    np.testing.assert_allclose(surplus, P - expected_self, rtol=RTOL, atol=atol)
    got = np.stack([table * P[:, j, None] for j, table in enumerate(tables)], axis=1)
    np.testing.assert_allclose(got, flows, rtol=RTOL, atol=atol)


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
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
        prosumer_kernels.pair_scale(frozen(allocated), P, pairs, scale)
        return [pairs[j] * scale for j in range(producers)]

    allocated, grid_supply = np.empty(C.shape), np.empty(C.shape)
    self_consumed, surplus = np.empty(P.shape), np.empty(P.shape)
    prosumer_kernels.pair_shares_rows(
        *(frozen(C), P, pairs, allocated, grid_supply, self_consumed, surplus, CHUNKS)
    )
    tables = rebuilt_tables(allocated)
    assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    prosumer_kernels.pair_shares_members(
        *(member_major(C).T, np.ascontiguousarray(P.T), pairs),
        *(allocated.T, grid_supply.T, self_consumed, surplus, CHUNKS),
    )
    tables = rebuilt_tables(allocated)
    assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows)


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("owned", [0, 2], ids=["one-owned-producer", "two-owned-by-one"])
def test_optimal_both_layouts(steps, consumers, producers, threads, owned) -> None:
    """Allocations, AUTOPROD and the flows rebuilt by replaying the rounds on AUTOCONS,
    against the NumPy twin; both layouts find the same rounds and levels to the last bit."""
    C, P, k, owners = prosumer_case(steps, consumers, producers)
    if owned and producers > 1:
        owners[1] = 0  # consumer 0 owns producers 0 and 1
    k, owners = frozen(k), np.asarray(owners, dtype=np.intp)
    owners.flags.writeable = False
    c = frozen(_relative_scale(k, owners))
    slots = _owner_slots(owners, consumers)
    _, flows = reference.prosumer_optimal(C, P, k, owners)
    results = {}
    for layout in ("rows", "members"):
        level, owner_level = np.empty(steps), np.empty((steps, len(slots[2])))
        delivered, passes = np.empty(P.shape), np.full(steps, -9, dtype=np.int32)
        if layout == "rows":
            allocated, grid_supply = np.empty(C.shape), np.empty(C.shape)
            optimal_kernels.optimal_rows(
                *(frozen(C), P, k, c, *slots, allocated, grid_supply),
                *(level, owner_level, delivered, passes, CHUNKS),
            )
        else:
            allocated, grid_supply, _, _ = buffers(C, P)
            optimal_kernels.optimal_members(
                *(member_major(C).T, P, k, c, *slots, allocated.T, grid_supply.T),
                *(level, owner_level, delivered, passes, CHUNKS),
            )
        self_consumed = np.minimum(delivered, P)
        tables = np.empty((producers, steps, consumers))
        optimal_kernels.flow_tables(frozen(allocated), P, k, c, *slots, tables)
        tables = [tables[j] for j in range(producers)]
        surplus = P - self_consumed
        assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows)
        assert (passes >= 1).all()
        results[layout] = level, owner_level, passes, allocated
    for rows, members in zip(results["rows"], results["members"], strict=True):
        np.testing.assert_array_equal(members, rows)


@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_optimal_by_member_finishes_steps_row_by_row(threads, monkeypatch) -> None:
    """With no pass allowed, every step is gathered and solved row by row from the start,
    and with one pass the rest is finished from where the pass left it: the same results."""
    C, P, k, owners = prosumer_case(60, 23, 3)
    owners = np.asarray(owners, dtype=np.intp)
    c = frozen(_relative_scale(frozen(k), owners))
    slots = _owner_slots(owners, 23)
    outputs = []
    for passes_allowed in (0, 1, optimal_kernels.MAX_PASSES):
        monkeypatch.setattr(optimal_kernels, "MAX_PASSES", passes_allowed)
        allocated, grid_supply, _, _ = buffers(C, P)
        level, owner_level = np.empty(60), np.empty((60, len(slots[2])))
        delivered, passes = np.empty(P.shape), np.empty(60, dtype=np.int32)
        optimal_kernels.optimal_members(
            *(member_major(C).T, P, frozen(k), c, *slots, allocated.T, grid_supply.T),
            *(level, owner_level, delivered, passes, CHUNKS),
        )
        outputs.append((allocated, level, owner_level, delivered, passes))
    for first, other in zip(outputs[0], outputs[2], strict=True):
        np.testing.assert_array_equal(other, first)
    for first, other in zip(outputs[1], outputs[2], strict=True):
        np.testing.assert_array_equal(other, first)
