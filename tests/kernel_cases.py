"""What the kernel tests (``tests/test_kernels_*.py``) share: inputs, output buffers, checks.

The kernels are called directly on arrays, the way each rule's ``run()`` calls them (outputs
preallocated, NaN-filled so that a cell a kernel forgets shows up; inputs read-only): the
row-major ones on C-contiguous (steps, members) arrays, the member-major ones on the
C-contiguous (members, steps) transposes of column-major arrays, as pandas stores frames.
"""

from __future__ import annotations

import numpy as np
import pytest

from repartition import reference

RTOL = 1e-9
"""Tolerance of :func:`assert_close`, relative to each step's scale: the row-major kernels
against their NumPy twins on hypothesis' communities."""

TIGHT_RTOL = 1e-12
"""The member-major and the strategies' kernels against their twins, on tamer data."""

SHAPES = [(1, 1, 1), (37, 5, 2), (64, 3, 1), (50, 23, 3)]
"""(steps, consumers, producers) of the member-major tests: chunks of members empty, single
or uneven."""

STRATEGY_SHAPES = [(1, 1, 1), (37, 5, 2), (50, 23, 3)]
"""(steps, consumers, producers) of the strategies' kernel tests."""

THREADS = [1, 2]
"""Threads the layout tests run on (the ``threads`` fixture, ``indirect``)."""


# --- inputs -------------------------------------------------------------------------------


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous float64 copy: kernels must never write into their inputs."""
    result = np.array(array, dtype=np.float64, order="C", copy=True)
    result.flags.writeable = False
    return result


def member_major(values: np.ndarray) -> np.ndarray:
    """A (steps, members) array stored member by member, read-only like pandas' views."""
    result = np.asfortranarray(values)
    result.flags.writeable = False
    return result


def community(seed: int, steps: int, consumers: int, producers: int):
    """Consumption with zeros and empty rows, production with night steps."""
    rng = np.random.default_rng(seed)
    C = rng.gamma(1.0, 1.0, size=(steps, consumers))
    C[rng.random((steps, consumers)) < 0.1] = 0.0
    C[::7] = 0.0
    P = rng.gamma(1.0, consumers / 2, size=(steps, producers))
    P[::5] = 0.0
    return C, frozen(P)


# Four steps, three consumers, two producers: a normal step, a step where production
# covers everyone, a step where nobody consumes, and one without production.
C_FIXED = np.array(
    [
        [1.0, 4.0, 5.0],
        [0.5, 0.0, 0.25],
        [0.0, 0.0, 0.0],
        [2.0, 3.0, 1e-9],
    ]
)


P_FIXED = np.array([[4.0, 2.0], [3.0, 0.0], [1.0, 1.0], [0.0, 0.0]])


K_FIXED = np.array([0.5, 0.25, 0.0])


K_DYNAMIC_FIXED = np.array(
    [[0.1, 0.2, 0.7], [np.nan, np.nan, np.nan], [0.0, 0.0, 0.0], [0.5, 0.5, 0.0]]
)


def prosumer_case(steps: int, consumers: int, producers: int):
    """Consumption, production, static keys and producer 0 owned by consumer 0."""
    C, P = community(23, steps, consumers, producers)
    k = np.random.default_rng(24).dirichlet(np.ones(consumers)) * 0.9
    owners = np.full(producers, -1, dtype=np.intp)
    owners[0] = 0
    return C, P, k, owners


# --- outputs ------------------------------------------------------------------------------


def outputs(consumption: np.ndarray, production: np.ndarray) -> tuple[np.ndarray, ...]:
    """Output buffers filled with NaN, so that a cell the kernel forgets shows up:
    allocated, grid_supply, self_consumed, surplus."""
    steps, consumers = consumption.shape
    producers = production.shape[1]
    return (
        np.full((steps, consumers), np.nan),
        np.full((steps, consumers), np.nan),
        np.full((steps, producers), np.nan),
        np.full((steps, producers), np.nan),
    )


def buffers(C: np.ndarray, P: np.ndarray):
    """allocated, grid_supply (member-major, NaN-filled), self_consumed, surplus."""
    return (
        np.full(C.shape, np.nan, order="F"),
        np.full(C.shape, np.nan, order="F"),
        np.full(P.shape, np.nan),
        np.full(P.shape, np.nan),
    )


# --- checks -------------------------------------------------------------------------------


def check_grid_supply(C, allocated, grid_supply):
    """Every kernel writes COMPLEMENT = C - A itself, in the same pass as A."""
    np.testing.assert_array_equal(grid_supply, C - allocated)


def step_scale(C: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Per step ``max(P_tot, sum_i C)`` as a column: what the tolerance is relative to."""
    return np.maximum(C.sum(axis=1), P.sum(axis=1))[:, None]


def assert_close(actual, expected, scale, what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    bad = ~(np.abs(actual - expected) <= RTOL * np.broadcast_to(scale, actual.shape))
    if bad.any():
        cell = tuple(int(i) for i in np.argwhere(bad)[0])
        pytest.fail(f"{what} differs at {cell}: {actual[cell]!r} != {expected[cell]!r}")


def assert_pooled_matches(C, P, kernel_out, expected_allocated, what: str) -> None:
    """Allocation against the oracle; AUTOPROD and SURPLUS against ``attribute_pooled``."""
    allocated, self_consumed, surplus = kernel_out[:3]
    scale = step_scale(C, P)
    assert_close(allocated, expected_allocated, scale, f"{what}: allocated")
    expected_self, expected_surplus = reference.attribute_pooled(allocated, P)
    assert_close(self_consumed, expected_self, scale, f"{what}: self_consumed")
    assert_close(surplus, expected_surplus, scale, f"{what}: surplus")


def assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected):
    scale = np.maximum(C.max(initial=0.0), P.sum(axis=1).max(initial=0.0)) + 1.0
    np.testing.assert_allclose(allocated, expected, rtol=TIGHT_RTOL, atol=TIGHT_RTOL * scale)
    np.testing.assert_array_equal(grid_supply, C - allocated)
    expected_self, expected_surplus = reference.attribute_pooled(expected, P)
    np.testing.assert_allclose(
        self_consumed, expected_self, rtol=TIGHT_RTOL, atol=TIGHT_RTOL * scale
    )
    np.testing.assert_allclose(surplus, expected_surplus, rtol=TIGHT_RTOL, atol=TIGHT_RTOL * scale)


def assert_full_dynamic(C, P, allocated, grid_supply, self_consumed, surplus, tables, flows):
    """Against ``reference.full_dynamic``'s outputs: allocations, AUTOPROD and every flow."""
    scale = np.maximum(C.max(initial=0.0), P.sum(axis=1).max(initial=0.0)) + 1.0
    atol = TIGHT_RTOL * scale
    expected_allocated = flows.sum(axis=1).clip(max=C)
    np.testing.assert_allclose(allocated, expected_allocated, rtol=TIGHT_RTOL, atol=atol)
    np.testing.assert_array_equal(grid_supply, C - allocated)
    expected_self = np.minimum(flows.sum(axis=2), P)
    np.testing.assert_allclose(self_consumed, expected_self, rtol=TIGHT_RTOL, atol=atol)
    np.testing.assert_allclose(surplus, P - expected_self, rtol=TIGHT_RTOL, atol=atol)
    got = np.stack([table * P[:, j, None] for j, table in enumerate(tables)], axis=1)
    np.testing.assert_allclose(got, flows, rtol=TIGHT_RTOL, atol=atol)
