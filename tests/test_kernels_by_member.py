"""The member-major kernels agree with the NumPy reference and with the row-major kernels.

pandas hands over (steps, members) arrays stored member by member; the kernels of
``repartition.kernels.by_member`` read their transpose, a C-contiguous (members, steps)
array, the threads splitting the members. These tests run them on transposed copies on one
and two threads (so that chunks of members are empty, single or uneven), and check every
output against ``repartition.reference``.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repartition import allocate, allocate_arrays, keys, reference
from repartition.kernels import (
    checks,
    dynamic,
    full_dynamic,
    members,
    prorata,
    static,
    water_filling,
)
from repartition.kernels.attribution import pooled_production
from repartition.kernels.layout import is_by_member
from test_kernels import frozen, staircase

RTOL = 1e-12


def community(seed: int, steps: int, consumers: int, producers: int):
    """Consumption with zeros and empty rows, production with night steps."""
    rng = np.random.default_rng(seed)
    C = rng.gamma(1.0, 1.0, size=(steps, consumers))
    C[rng.random((steps, consumers)) < 0.1] = 0.0
    C[::7] = 0.0
    P = rng.gamma(1.0, consumers / 2, size=(steps, producers))
    P[::5] = 0.0
    return C, frozen(P)


def member_major(values: np.ndarray) -> np.ndarray:
    """A (steps, members) array stored member by member, read-only like pandas' views."""
    result = np.asfortranarray(values)
    result.flags.writeable = False
    return result


def buffers(C: np.ndarray, P: np.ndarray):
    """allocated, grid_supply (member-major, NaN-filled), self_consumed, surplus."""
    return (
        np.full(C.shape, np.nan, order="F"),
        np.full(C.shape, np.nan, order="F"),
        np.full(P.shape, np.nan),
        np.full(P.shape, np.nan),
    )


def assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected):
    scale = np.maximum(C.max(initial=0.0), P.sum(axis=1).max(initial=0.0)) + 1.0
    np.testing.assert_allclose(allocated, expected, rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_array_equal(grid_supply, C - allocated)
    expected_self, expected_surplus = reference.attribute_pooled(expected, P)
    np.testing.assert_allclose(self_consumed, expected_self, rtol=RTOL, atol=RTOL * scale)
    np.testing.assert_allclose(surplus, expected_surplus, rtol=RTOL, atol=RTOL * scale)


SHAPES = [(1, 1, 1), (37, 5, 2), (64, 3, 1), (50, 23, 3)]
THREADS = [1, 2]


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_prorata(steps, consumers, producers, threads) -> None:
    C, P = community(1, steps, consumers, producers)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    total = pooled_production(P)
    prorata.prorata_members(F.T, P, total, allocated.T, grid_supply.T, self_consumed, surplus)
    expected = reference.prorata(C, P)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_static(steps, consumers, producers, threads) -> None:
    C, P = community(2, steps, consumers, producers)
    k = frozen(np.random.default_rng(3).dirichlet(np.ones(consumers)) * 0.9)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    total = pooled_production(P)
    static.static_members(F.T, P, total, k, allocated.T, grid_supply.T, self_consumed, surplus)
    expected = reference.static(C, P, k)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("rounds", [1, 2, water_filling.EXACT])
def test_static_redistributed(steps, consumers, producers, threads, rounds) -> None:
    C, P = community(4, steps, consumers, producers)
    k = np.random.default_rng(5).dirichlet(np.ones(consumers)) * 0.95
    k[0] = 0.0
    k = frozen(k)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    passes = np.full(steps, -1, dtype=np.int32)
    total = pooled_production(P)
    water_filling.water_filling_members(
        F.T, P, total, k, rounds, allocated.T, grid_supply.T, self_consumed, surplus, passes
    )
    if rounds == water_filling.EXACT:
        expected = reference.static_limit(C, P, k)
    else:
        expected = reference.static_rounds(C, P, k, rounds)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)
    row_passes = np.full(steps, -1, dtype=np.int32)
    outputs = (np.empty_like(C), np.empty_like(C), np.empty_like(P), np.empty_like(P))
    water_filling.water_filling_rows(frozen(C), P, total, k, rounds, *outputs, row_passes)
    # The same passes as the row-major kernel, up to one where a total summed in another
    # order lands on the other side of "everything is allocated" (a last round that would
    # hand on a rounding residue).
    assert np.abs(passes - row_passes).max() <= 1
    assert np.mean(passes == row_passes) > 0.9


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_dynamic(steps, consumers, producers, threads) -> None:
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


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
def test_full_dynamic(steps, consumers, producers, threads) -> None:
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
    atol = RTOL * (C.max(initial=0.0) + P.max(initial=0.0) + 1.0)
    np.testing.assert_allclose(allocated, expected, rtol=RTOL, atol=atol)
    np.testing.assert_array_equal(grid_supply, C - allocated)
    np.testing.assert_allclose(self_consumed, expected_self, rtol=RTOL, atol=atol)
    np.testing.assert_allclose(surplus, P - expected_self, rtol=RTOL, atol=atol)


@pytest.mark.parametrize("threads", [1, 2])
def test_member_sums_split_among_threads(threads) -> None:
    """Per-thread partial sums give the plain sum whatever the number of threads."""
    values = np.random.default_rng(13).random((7, 29))
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        sums = members.member_sums(values, numba.get_num_threads())
        np.testing.assert_allclose(sums, values.sum(axis=0), rtol=RTOL)
    finally:
        numba.set_num_threads(previous)


# --- through the public API -------------------------------------------------------------


def key_for(name: str, consumers: list[str], producers: list[str], index: pd.DatetimeIndex):
    rng = np.random.default_rng(11)
    shares = pd.Series(rng.dirichlet(np.ones(len(consumers))) * 0.9, index=consumers)
    table = pd.DataFrame(
        rng.dirichlet(np.ones(len(consumers)), size=len(index)) * 0.95,
        index=index,
        columns=consumers,
    )
    sent = np.broadcast_to((np.arange(len(index)) % 4 != 1)[:, None], table.shape)
    return {
        "prorata": keys.Prorata(),
        "static": keys.Static(shares),
        "rounds": keys.Static(shares, rounds=2),
        "limit": keys.Static(shares, redistribute=True),
        "dynamic": keys.Dynamic(table.where(sent)),
        "full dynamic": keys.FullDynamic({p: table * 0.5 for p in producers}),
    }[name]


@pytest.mark.parametrize(
    "name", ["prorata", "static", "rounds", "limit", "dynamic", "full dynamic"]
)
@given(seed=st.integers(0, 2**16), steps=st.integers(1, 60), consumers=st.integers(1, 12))
def test_both_layouts_give_the_same_allocation(name, seed, steps, consumers) -> None:
    """A frame stored member by member (pandas' usual layout) and one stored step by step
    (built from a C-ordered array with ``copy=False``) give the same results."""
    C, P = community(seed, steps, consumers, 2)
    index = pd.date_range("2025-10-25 20:00", periods=steps, freq="30min", tz="Europe/Paris")
    columns = [f"c{i}" for i in range(consumers)]
    by_step = pd.DataFrame(np.ascontiguousarray(C), index=index, columns=columns, copy=False)
    by_member_frame = pd.DataFrame(
        {column: C[:, i].copy() for i, column in enumerate(columns)}, index=index
    )
    production = pd.DataFrame(P, index=index, columns=["p0", "p1"])
    key = key_for(name, columns, ["p0", "p1"], index)
    first = allocate(by_step, production, key)
    second = allocate(by_member_frame, production, key)
    if consumers > 1 and steps > 1:
        assert not is_by_member(first.arrays.allocated)
        assert is_by_member(second.arrays.allocated)
    scale = C.max(initial=0.0) + P.sum(axis=1).max(initial=0.0) + 1.0
    for attribute in ("allocated", "grid_supply", "self_consumed", "surplus"):
        np.testing.assert_allclose(
            getattr(second, attribute).to_numpy(),
            getattr(first, attribute).to_numpy(),
            rtol=RTOL,
            atol=RTOL * scale,
            err_msg=attribute,
        )
    np.testing.assert_allclose(second.flows().to_numpy(), first.flows().to_numpy(), rtol=1e-9)


def test_array_api_takes_either_layout() -> None:
    C, P = community(12, 40, 6, 2)
    row_major = allocate_arrays(np.ascontiguousarray(C), P, keys.Prorata())
    column_major = allocate_arrays(np.asfortranarray(C), P, keys.Prorata())
    np.testing.assert_allclose(column_major.allocated, row_major.allocated, rtol=RTOL)


def test_water_filling_staircase_on_every_step() -> None:
    """Every step needs more passes than ``MAX_LEVEL_PASSES`` (each round saturates one
    more consumer): the member-major kernel hands all of them to the row-major rounds,
    which sort, and still reaches the exact limit."""
    consumers, steps = water_filling.MAX_LEVEL_PASSES + 4, 20
    k, row = staircase(consumers)  # one step, 1 kWh produced
    scale = np.linspace(0.5, 1.5, steps)[:, None]  # scaling C and P together keeps the stairs
    C = row * scale
    P = frozen(scale)
    k = frozen(k)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    passes = np.zeros(steps, dtype=np.int32)
    total = pooled_production(P)
    water_filling.water_filling_members(
        F.T,
        P,
        total,
        k,
        water_filling.EXACT,
        allocated.T,
        grid_supply.T,
        self_consumed,
        surplus,
        passes,
    )
    assert (passes > water_filling.MAX_LEVEL_PASSES).all()
    expected = reference.static_limit(C, P, k)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)


@pytest.mark.parametrize("name", ["prorata", "static", "limit", "dynamic"])
def test_results_do_not_depend_on_the_number_of_threads(name) -> None:
    """Members are summed in a fixed number of chunks: 1 and 2 threads give the same bits."""
    C, P = community(14, 30, 40, 2)
    index = pd.date_range("2025-06-01", periods=30, freq="30min", tz="Europe/Paris")
    columns = [f"c{i}" for i in range(40)]
    frame = pd.DataFrame({column: C[:, i].copy() for i, column in enumerate(columns)}, index)
    production = pd.DataFrame(P, index=index, columns=["p0", "p1"])
    key = key_for(name, columns, ["p0", "p1"], index)
    previous = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = allocate(frame, production, key)
        numba.set_num_threads(2)
        two = allocate(frame, production, key)
    finally:
        numba.set_num_threads(previous)
    assert is_by_member(one.arrays.allocated)
    np.testing.assert_array_equal(one.allocated.to_numpy(), two.allocated.to_numpy())
    np.testing.assert_array_equal(one.self_consumed.to_numpy(), two.self_consumed.to_numpy())


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


def test_flows_reject_bad_boundaries() -> None:
    C, P = community(16, 4, 2, 1)
    result = allocate_arrays(C, P, keys.Prorata())
    for boundaries in ([2], [0, 3, 1], [0, 4], [[0]]):
        with pytest.raises(ValueError, match="boundaries"):
            result.flows(np.array(boundaries))
    np.testing.assert_allclose(result.flows(np.array([0, 2])).sum(), result.allocated.sum())


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, -1.0, None])
def test_member_major_scan_finds_bad_values_and_sums_steps(bad) -> None:
    """The member-major input scan reports a bad value (memory order, as the row scan does
    on the transpose) and returns the per-step totals the kernels would otherwise compute."""
    rng = np.random.default_rng(17)
    values = rng.random((23, 70))  # (members, steps), C-contiguous
    if bad is not None:
        values[5, 40] = bad
        values[9, 3] = bad
    position, totals = checks.first_invalid_energy_by_member(values, members.CHUNKS)
    assert position == checks.first_invalid_energy(values)
    if bad is None:
        assert position == -1
        expected = members.member_sums(values, members.CHUNKS)
        np.testing.assert_array_equal(totals, expected)  # the same sums, to the bit
    else:
        assert position == 5 * 70 + 40
