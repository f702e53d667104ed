"""repartition.kernels.prosumer_optimal against ``reference.prosumer_optimal``.

``optimal_rows`` and ``optimal_members`` on one and two threads, the flows rebuilt by
``flow_tables``; both layouts find the same rounds and levels to the last bit, and the
member-major kernel's row-by-row finish gives the same results.
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
from repartition.kernels import prosumer_optimal
from repartition.kernels.members import CHUNKS
from repartition.keys.prosumer import _owner_slots, _relative_scale


@pytest.mark.parametrize(("steps", "consumers", "producers"), STRATEGY_SHAPES)
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
            prosumer_optimal.optimal_rows(
                *(frozen(C), P, k, c, *slots, allocated, grid_supply),
                *(level, owner_level, delivered, passes, CHUNKS),
            )
        else:
            allocated, grid_supply, _, _ = buffers(C, P)
            prosumer_optimal.optimal_members(
                *(member_major(C).T, P, k, c, *slots, allocated.T, grid_supply.T),
                *(level, owner_level, delivered, passes, CHUNKS),
            )
        self_consumed = np.minimum(delivered, P)
        tables = np.empty((producers, steps, consumers))
        prosumer_optimal.flow_tables(frozen(allocated), P, k, c, *slots, tables)
        tables = [tables[j] for j in range(producers)]
        surplus = P - self_consumed
        assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows)
        assert (passes >= 1).all()
        results[layout] = level, owner_level, passes, allocated
    for rows, members in zip(results["rows"], results["members"], strict=True):
        np.testing.assert_array_equal(members, rows)


@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_optimal_members_finishes_steps_row_by_row(threads, monkeypatch) -> None:
    """With no pass allowed, every step is gathered and solved row by row from the start,
    and with one pass the rest is finished from where the pass left it: the same results."""
    C, P, k, owners = prosumer_case(60, 23, 3)
    owners = np.asarray(owners, dtype=np.intp)
    c = frozen(_relative_scale(frozen(k), owners))
    slots = _owner_slots(owners, 23)
    outputs = []
    for passes_allowed in (0, 1, prosumer_optimal.MAX_PASSES):
        monkeypatch.setattr(prosumer_optimal, "MAX_PASSES", passes_allowed)
        allocated, grid_supply, _, _ = buffers(C, P)
        level, owner_level = np.empty(60), np.empty((60, len(slots[2])))
        delivered, passes = np.empty(P.shape), np.empty(60, dtype=np.int32)
        prosumer_optimal.optimal_members(
            *(member_major(C).T, P, frozen(k), c, *slots, allocated.T, grid_supply.T),
            *(level, owner_level, delivered, passes, CHUNKS),
        )
        outputs.append((allocated, level, owner_level, delivered, passes))
    for first, other in zip(outputs[0], outputs[2], strict=True):
        np.testing.assert_array_equal(other, first)
    for first, other in zip(outputs[1], outputs[2], strict=True):
        np.testing.assert_array_equal(other, first)
