"""repartition.kernels.greedy against its NumPy twin, ``reference.economic_greedy``.

``greedy_fixed_rows`` and ``greedy_fixed_members`` on one and two threads, with ties, a zero
and a negative value. (``greedy_per_step_rows`` is checked through the key, on both layouts,
in ``test_economic.py``.)
"""

from __future__ import annotations

import numpy as np
import pytest

from kernel_cases import (
    STRATEGY_SHAPES,
    THREADS,
    assert_pooled,
    buffers,
    community,
    frozen,
    member_major,
)
from repartition import reference
from repartition.kernels import greedy
from repartition.kernels.attribution import pooled_production
from repartition.kernels.members import CHUNKS


def greedy_values(consumers: int) -> np.ndarray:
    """Values with ties, a zero and a negative value, so that every branch runs."""
    values = np.round(np.random.default_rng(21).uniform(-0.05, 0.2, consumers), 2)
    values[::4] = 0.05
    values[-1] = 0.0
    return frozen(values)


@pytest.mark.parametrize(("steps", "consumers", "producers"), STRATEGY_SHAPES)
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
