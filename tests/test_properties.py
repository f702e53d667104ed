"""Property tests through :func:`repartition.allocate`, for every sharing key.

The invariants are docs/rules.md's ("Invariants"), checked per
step to a relative tolerance of 1e-9 of the step's scale ``max(P_tot[t], sum_i C[t, i])``;
then the relations between keys that the formulas of docs/rules.md imply.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import Allocation, allocate, keys
from repartition.keys import SharingKey

RTOL = 1e-9

KEY_KINDS = [
    "prorata",
    "static",
    "static-rounds-1",
    "static-rounds-2",
    "static-rounds-3",
    "static-redistributed",
    "dynamic",
    "full-dynamic",
]


@pytest.fixture(autouse=True)
def _one_numba_thread():
    """Run the kernels on one thread here.

    These tests check what the keys compute, on tiny tables; the parallel execution is
    tested in the kernel tests (test_kernels_*.py). With the default threads, each kernel
    call on a loaded machine can wait milliseconds for OpenMP workers (measured: 34 ms per
    ``allocate`` instead of 0.6 ms while other processes shared the 2 cores).
    """
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(previous)


# --- helpers -------------------------------------------------------------------------------


def step_scale(consumption: np.ndarray, production: np.ndarray) -> np.ndarray:
    """Per step ``max(P_tot, sum_i C)``, as a column: what "relative" is relative to. [kWh]"""
    return np.maximum(production.sum(axis=1), consumption.sum(axis=1))[:, None]


def assert_le(small: np.ndarray, large: np.ndarray, scale: np.ndarray, what: str) -> None:
    """``small <= large`` to ``RTOL * scale``, naming the first offending cell."""
    bad = small > large + RTOL * scale
    if bad.any():
        cell = tuple(int(i) for i in np.argwhere(bad)[0])
        pytest.fail(f"{what} fails at {cell}: {small[cell]!r} > {large[cell]!r}")


def assert_close(actual: np.ndarray, expected: np.ndarray, scale: np.ndarray, what: str) -> None:
    """``|actual - expected| <= RTOL * scale`` elementwise, naming the first offending cell."""
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, what
    bad = ~(np.abs(actual - expected) <= RTOL * np.broadcast_to(scale, actual.shape))
    if bad.any():
        cell = tuple(int(i) for i in np.argwhere(bad)[0])
        pytest.fail(f"{what} differs at {cell}: {actual[cell]!r} != {expected[cell]!r}")


def static_series(coefficients: np.ndarray, frames: gen.Frames) -> pd.Series:
    return pd.Series(coefficients, index=frames.consumers)


def make_key(data: st.DataObject, kind: str, frames: gen.Frames) -> SharingKey:
    """A key of ``kind`` whose coefficients are labelled by the frames' ids and index."""
    consumers, producers = len(frames.consumers), len(frames.producers)
    steps = len(frames.index)
    if kind == "prorata":
        return keys.Prorata()
    if kind.startswith("static"):
        coefficients = static_series(data.draw(gen.static_coefficients(consumers)), frames)
        if kind == "static":
            return keys.Static(coefficients)
        if kind == "static-redistributed":
            return keys.Static(coefficients, redistribute=True)
        return keys.Static(coefficients, rounds=int(kind.rsplit("-", 1)[1]))
    if kind == "dynamic":
        table = data.draw(gen.dynamic_tables(steps, consumers))
        return keys.Dynamic(pd.DataFrame(table, index=frames.index, columns=frames.consumers))
    assert kind == "full-dynamic"
    tables = data.draw(gen.full_dynamic_tables(producers, steps, consumers))
    return keys.FullDynamic(
        {
            producer: pd.DataFrame(tables[j], index=frames.index, columns=frames.consumers)
            for j, producer in enumerate(frames.producers)
        }
    )


def check_invariants(allocation: Allocation) -> None:
    """docs/rules.md's five invariants (order is tested separately), per step and member."""
    arrays = allocation.arrays
    C, P = arrays.consumption, arrays.production
    A = arrays.allocated
    autoprod, surplus = arrays.self_consumed, arrays.surplus
    scale = step_scale(C, P)
    production_total = P.sum(axis=1)[:, None]
    zero_consumers = np.zeros_like(A)
    zero_producers = np.zeros_like(P)
    # 1. 0 <= A <= C
    assert_le(zero_consumers, A, scale, "0 <= A")
    assert_le(A, C, scale, "A <= C")
    # 2. sum_i A <= P_tot
    allocated_total = A.sum(axis=1, keepdims=True)
    assert_le(allocated_total, production_total, scale, "sum_i A <= P_tot")
    # 3. COMPLEMENT = C - A >= 0
    assert_close(arrays.grid_supply, C - A, scale, "grid_supply = C - A")
    assert_le(zero_consumers, arrays.grid_supply, scale, "grid_supply >= 0")
    # 4. AUTOPROD + SURPLUS = PROD per producer, both >= 0
    assert_close(autoprod + surplus, P, scale, "AUTOPROD + SURPLUS = PROD")
    assert_le(zero_producers, autoprod, scale, "AUTOPROD >= 0")
    assert_le(zero_producers, surplus, scale, "SURPLUS >= 0")
    # sum_j AUTOPROD = sum_i A
    assert_close(
        autoprod.sum(axis=1, keepdims=True), allocated_total, scale, "sum_j AUTOPROD = sum_i A"
    )
    # The labelled tables are the arrays, on the input's ids and index.
    pd.testing.assert_index_equal(allocation.allocated.columns, allocation.consumers)
    pd.testing.assert_index_equal(allocation.surplus.columns, allocation.producers)
    np.testing.assert_array_equal(allocation.allocated.to_numpy(), A)
    np.testing.assert_array_equal(allocation.grid_supply.to_numpy(), arrays.grid_supply)
    np.testing.assert_array_equal(allocation.self_consumed.to_numpy(), autoprod)
    np.testing.assert_array_equal(allocation.surplus.to_numpy(), surplus)


def allocated_of(frames: gen.Frames, key: SharingKey) -> np.ndarray:
    return allocate(frames.consumption, frames.production, key).arrays.allocated


# --- invariants and flows, every key ------------------------------------------------------


def _flow_scale(frames: gen.Frames) -> np.ndarray:
    """Flows are sums over steps: relative to the total energy of the period. [kWh]"""
    total = frames.consumption.to_numpy().sum() + frames.production.to_numpy().sum()
    return np.array(max(float(total), np.finfo(float).tiny))


RESULT_TABLES = ("allocated", "grid_supply", "self_consumed", "surplus")


def check_member_order(
    frames: gen.Frames,
    key: SharingKey,
    data: st.DataObject,
    tables: tuple[str, ...] = RESULT_TABLES,
) -> None:
    """Invariant 5: shuffling consumers and producers changes nobody's result or flows."""
    reference = allocate(frames.consumption, frames.production, key)
    consumer_order = data.draw(st.permutations(list(frames.consumers)), label="consumer order")
    producer_order = data.draw(st.permutations(list(frames.producers)), label="producer order")
    shuffled = allocate(frames.consumption[consumer_order], frames.production[producer_order], key)
    scale = step_scale(frames.consumption.to_numpy(), frames.production.to_numpy())
    for table in tables:
        expected = getattr(reference, table)
        actual = getattr(shuffled, table)[expected.columns]
        assert_close(actual.to_numpy(), expected.to_numpy(), scale, f"{table} after reordering")
    flows = reference.flows()
    shuffled_flows = shuffled.flows().loc[flows.index, flows.columns]
    assert_close(shuffled_flows.to_numpy(), flows.to_numpy(), _flow_scale(frames), "flows")


def check_flows(allocation: Allocation, frames: gen.Frames) -> None:
    """``flows()`` adds up to AUTOCONS per consumer and AUTOPROD per producer, and agrees
    with ``flows("step")`` and ``flows("D")``."""
    flows = allocation.flows()
    scale = _flow_scale(frames)
    pd.testing.assert_index_equal(flows.index, frames.producers)
    pd.testing.assert_index_equal(flows.columns, frames.consumers)
    assert_le(np.zeros(flows.shape), flows.to_numpy(), scale, "flows >= 0")
    assert_close(
        flows.sum(axis=0).to_numpy(),
        allocation.allocated.sum(axis=0).to_numpy(),
        scale,
        "flows summed over producers vs allocated summed over steps",
    )
    assert_close(
        flows.sum(axis=1).to_numpy(),
        allocation.self_consumed.sum(axis=0).to_numpy(),
        scale,
        "flows summed over consumers vs self_consumed summed over steps",
    )

    per_step = allocation.flows("step")
    assert per_step.index.names == ["timestamp", "producer"]
    assert len(per_step) == len(frames.index) * len(frames.producers)
    summed = per_step.groupby(level="producer", sort=False).sum()
    assert_close(summed.loc[flows.index].to_numpy(), flows.to_numpy(), scale, "flows('step')")
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    by_step = per_step.groupby(level="timestamp", sort=False).sum()
    assert_close(
        by_step.loc[frames.index].to_numpy(),
        allocation.arrays.allocated,
        step_scale(C, P),
        "flows('step') summed over producers vs allocated",
    )
    # The arrays' per-step flows are the labelled ones.
    np.testing.assert_array_equal(
        allocation.arrays.flows_per_step().reshape(-1, len(frames.consumers)),
        per_step.to_numpy(),
    )

    daily = allocation.flows("D")
    assert_close(
        daily.groupby(level="producer", sort=False).sum().loc[flows.index].to_numpy(),
        flows.to_numpy(),
        scale,
        "flows('D') summed over days",
    )


def check_pooled_flows(allocation: Allocation) -> None:
    """Pooled keys: ``flow[t, j, i] = A[t, i] * P[t, j] / P_tot[t]`` (docs/rules.md,
    "Attribution to producers")."""
    C, P = allocation.arrays.consumption, allocation.arrays.production
    totals = P.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        weights = np.where(totals > 0, P / totals, 0.0)
    expected = weights[:, :, None] * allocation.arrays.allocated[:, None, :]
    assert_close(
        allocation.arrays.flows_per_step(),
        expected,
        step_scale(C, P)[:, :, None],
        "pooled flows",
    )


@pytest.mark.parametrize("kind", KEY_KINDS)
@given(case=gen.community_frames(), data=st.data())
def test_invariants_and_flows_hold_at_every_step(kind: str, case, data: st.DataObject) -> None:
    _, frames = case
    key = make_key(data, kind, frames)
    allocation = allocate(frames.consumption, frames.production, key)
    pd.testing.assert_index_equal(allocation.allocated.index, frames.index)
    check_invariants(allocation)
    check_flows(allocation, frames)
    if kind != "full-dynamic":
        check_pooled_flows(allocation)


@pytest.mark.parametrize("kind", KEY_KINDS)
@given(case=gen.community_frames(), data=st.data())
def test_member_order_does_not_change_results(kind: str, case, data: st.DataObject) -> None:
    _, frames = case
    check_member_order(frames, make_key(data, kind, frames), data)


# --- static keys with redistribution ------------------------------------------------------


@given(case=gen.community_frames(), data=st.data())
def test_rounds_rise_to_the_redistribution_limit(case, data: st.DataObject) -> None:
    """``rounds=0`` is the DSO rule ``min(C, k * P_tot)``; each round gives every consumer
    at least as much as the one before (``A = min(C, k * level)`` and the level only rises);
    one round per consumer, plus one, reaches the exact limit."""
    _, frames = case
    k = data.draw(gen.static_coefficients(len(frames.consumers)))
    coefficients = static_series(k, frames)
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    scale = step_scale(C, P)
    dso = allocated_of(frames, keys.Static(coefficients))
    assert_close(dso, np.minimum(C, k[None, :] * P.sum(axis=1)[:, None]), scale, "static")
    np.testing.assert_array_equal(allocated_of(frames, keys.Static(coefficients, rounds=0)), dso)
    previous = dso
    for rounds in range(1, len(frames.consumers) + 2):
        current = allocated_of(frames, keys.Static(coefficients, rounds=rounds))
        assert_le(previous, current, scale, f"A after {rounds - 1} <= after {rounds} rounds")
        assert_le(
            previous.sum(axis=1, keepdims=True),
            current.sum(axis=1, keepdims=True),
            scale,
            f"total after {rounds - 1} <= after {rounds} rounds",
        )
        previous = current
    limit = allocated_of(frames, keys.Static(coefficients, redistribute=True))
    assert_close(previous, limit, scale, "rounds = consumers + 1 vs the exact limit")


@given(case=gen.community_frames(), data=st.data())
def test_redistribution_limit_serves_min_of_production_and_keyed_demand(
    case, data: st.DataObject
) -> None:
    """``sum_i A = min(P_tot, sum_{k_i > 0} C_i)`` at every step (docs/rules.md, "Static key
    with redistribution")."""
    _, frames = case
    coefficients = data.draw(gen.static_coefficients(len(frames.consumers)))
    allocation = allocate(
        frames.consumption,
        frames.production,
        keys.Static(static_series(coefficients, frames), redistribute=True),
    )
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    keyed = coefficients > 0
    expected = np.minimum(P.sum(axis=1), C[:, keyed].sum(axis=1))[:, None]
    allocated = allocation.arrays.allocated
    assert_close(allocated.sum(axis=1, keepdims=True), expected, step_scale(C, P), "sum_i A")
    # Consumers without a coefficient receive nothing, exactly.
    assert (allocated[:, ~keyed] == 0.0).all()
    assert allocation.passes is not None
    assert (allocation.passes.to_numpy() >= 1).all()


# --- prorata and dynamic ------------------------------------------------------------------


@given(case=gen.community_frames())
def test_prorata_is_dynamic_with_consumption_shares(case) -> None:
    """``C / sum(C)`` as dynamic coefficients reproduces the default key.

    Where nobody consumes, the share is undefined: a NaN row ("no key sent") falls back
    to prorata itself and a row of zeros gives every consumer 0; both must give exactly 0,
    like prorata. Elsewhere ``min(C, (C / S) * P)`` and ``C * min(1, P / S)`` differ by
    rounding only.
    """
    _, frames = case
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    scale = step_scale(C, P)
    totals = C.sum(axis=1, keepdims=True)
    idle = totals[:, 0] == 0.0
    prorata = allocate(frames.consumption, frames.production, keys.Prorata())
    # Prorata written out from docs/rules.md.
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(totals > 0, np.minimum(1.0, P.sum(axis=1, keepdims=True) / totals), 0.0)
    assert_close(prorata.arrays.allocated, C * ratio, scale, "prorata formula")
    assert (prorata.arrays.allocated[idle] == 0.0).all()
    for idle_share in (np.nan, 0.0):
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(totals > 0, C / totals, idle_share)
        coefficients = pd.DataFrame(shares, index=frames.index, columns=frames.consumers)
        dynamic = allocate(frames.consumption, frames.production, keys.Dynamic(coefficients))
        what = f"idle rows {idle_share}"
        assert_close(dynamic.arrays.allocated, prorata.arrays.allocated, scale, what)
        assert_close(dynamic.arrays.self_consumed, prorata.arrays.self_consumed, scale, what)
        assert (dynamic.arrays.allocated[idle] == 0.0).all(), what


@given(case=gen.community_frames())
def test_dynamic_without_any_key_is_prorata_exactly(case) -> None:
    _, frames = case
    missing = pd.DataFrame(np.nan, index=frames.index, columns=frames.consumers)
    dynamic = allocate(frames.consumption, frames.production, keys.Dynamic(missing))
    prorata = allocate(frames.consumption, frames.production, keys.Prorata())
    for table in ("allocated", "self_consumed", "surplus"):
        np.testing.assert_array_equal(
            getattr(dynamic.arrays, table), getattr(prorata.arrays, table), err_msg=table
        )


@given(case=gen.community_frames(), data=st.data())
def test_dynamic_is_min_of_consumption_and_share(case, data: st.DataObject) -> None:
    """Keyed rows follow ``min(C, k * P_tot)``; all-NaN rows follow prorata (docs/rules.md,
    "Dynamic key")."""
    _, frames = case
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    table = data.draw(gen.dynamic_tables(C.shape[0], C.shape[1]))
    coefficients = pd.DataFrame(table, index=frames.index, columns=frames.consumers)
    dynamic = allocate(frames.consumption, frames.production, keys.Dynamic(coefficients))
    prorata = allocate(frames.consumption, frames.production, keys.Prorata())
    missing = np.isnan(table).all(axis=1)
    keyed = np.minimum(C, np.nan_to_num(table) * P.sum(axis=1, keepdims=True))
    expected = np.where(missing[:, None], prorata.arrays.allocated, keyed)
    assert_close(dynamic.arrays.allocated, expected, step_scale(C, P), "dynamic")


@given(case=gen.community_frames(), data=st.data())
def test_full_dynamic_scales_pairs_down_to_consumption(case, data: st.DataObject) -> None:
    """``A[t, i] = min(C, sum_j k[t, j, i] * P[t, j])`` and the pairs keep their proportions."""
    _, frames = case
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    tables = data.draw(gen.full_dynamic_tables(P.shape[1], C.shape[0], C.shape[1]))
    key = keys.FullDynamic(
        {
            producer: pd.DataFrame(tables[j], index=frames.index, columns=frames.consumers)
            for j, producer in enumerate(frames.producers)
        }
    )
    allocation = allocate(frames.consumption, frames.production, key)
    offered = np.einsum("jtc,tj->tjc", tables, P)  # k[t, j, i] * P[t, j]
    demand = offered.sum(axis=1)
    scale = step_scale(C, P)
    assert_close(allocation.arrays.allocated, np.minimum(C, demand), scale, "allocated")
    # Each pair is its offer times one factor per consumer: min(1, C / demand).
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = np.where(demand > C, C / demand, 1.0)
    flows = allocation.arrays.flows_per_step()
    assert_close(flows, offered * factor[:, None, :], scale[:, :, None], "pair flows")


# --- fixed cases, worked by hand from docs/rules.md ---------------------------------------------

INDEX = gen.time_index(1)


def _one_step(consumption: dict[str, float], production: float) -> gen.Frames:
    return gen.Frames(
        pd.DataFrame({member: [value] for member, value in consumption.items()}, index=INDEX),
        pd.DataFrame({"PV": [production]}, index=INDEX),
    )


CASES: list[tuple[str, Callable[[], SharingKey], dict[str, float]]] = [
    # C = (1, 2, 5), P_tot = 6: prorata ratio 6 / 8 = 0.75.
    ("prorata", lambda: keys.Prorata(), {"a": 0.75, "b": 1.5, "c": 3.75}),
    # Static k = (0.5, 0.25, 0.25): min(C, k * 6) = (1, 1.5, 1.5); 2 kWh left as surplus.
    ("static", lambda: keys.Static(KEY), {"a": 1.0, "b": 1.5, "c": 1.5}),
    # One round: the 2 kWh left go to b and c (equal keys), 1 each, b capped at 2.
    ("one round", lambda: keys.Static(KEY, rounds=1), {"a": 1.0, "b": 2.0, "c": 2.5}),
    # Two rounds: the 0.5 kWh b could not take goes to c, the only one still open.
    ("two rounds", lambda: keys.Static(KEY, rounds=2), {"a": 1.0, "b": 2.0, "c": 3.0}),
    # Limit: a and b saturated, c takes the rest: 6 - 1 - 2 = 3 (level L = 12).
    ("limit", lambda: keys.Static(KEY, redistribute=True), {"a": 1.0, "b": 2.0, "c": 3.0}),
    # Dynamic k = (0.1, 0.2, 0.7): min(C, k * 6) = (0.6, 1.2, 4.2).
    (
        "dynamic",
        lambda: keys.Dynamic(pd.DataFrame({"a": [0.1], "b": [0.2], "c": [0.7]}, index=INDEX)),
        {"a": 0.6, "b": 1.2, "c": 4.2},
    ),
]
KEY = {"a": 0.5, "b": 0.25, "c": 0.25}


@pytest.mark.parametrize(("name", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hand_worked_single_step(name, make, expected) -> None:
    """One step worked by hand from the formulas of docs/rules.md ("Keys the DSO applies",
    "Static key with redistribution")."""
    frames = _one_step({"a": 1.0, "b": 2.0, "c": 5.0}, 6.0)
    allocation = allocate(frames.consumption, frames.production, make())
    actual = allocation.allocated.iloc[0]
    np.testing.assert_allclose(actual[list(expected)].to_numpy(), list(expected.values()))
    check_invariants(allocation)


# --- fixed cases exposing bugs in src/ ----------------------------------------------------


def test_rounds_do_not_depend_on_producer_order_at_a_saturation_tie() -> None:
    """BUG (invariant 5): ``Static(rounds=1)`` depends on the producers' column order by
    far more than rounding.

    ``P_tot`` is 0.1 + 0.2 + 0.3: 0.6000000000000001 summed in this order, 0.6 in the
    reverse one. Consumer a (k = 0.25) consumes ``0.25 * 0.6000000000000001``: in one
    order it is saturated by the first pass (``C <= k * P_tot``), in the other it is open
    by one ulp and takes a third of the 0.15 kWh redistributed though it can use none of
    it, so c receives 0.40 instead of 0.45 kWh (11 % apart).
    """
    index = gen.time_index(1)
    consumption = pd.DataFrame({"a": [0.25 * (0.1 + 0.2 + 0.3)], "b": [0.0], "c": [10.0]}, index)
    production = pd.DataFrame({"x": [0.1], "y": [0.2], "z": [0.3]}, index)
    key = keys.Static({"a": 0.25, "b": 0.25, "c": 0.5}, rounds=1)
    forward = allocate(consumption, production, key).allocated
    backward = allocate(consumption, production[["z", "y", "x"]], key).allocated
    scale = np.array([[0.6]])
    assert_close(backward.to_numpy(), forward.to_numpy(), scale, "allocated, producers reversed")


@pytest.mark.parametrize(
    "options", [{"redistribute": True}, {"rounds": 1}], ids=["limit", "one round"]
)
def test_a_tiny_coefficient_does_not_create_energy(options: dict[str, Any]) -> None:
    """BUG (invariant 2): a coefficient of 2.5e-308 is accepted (it lies in [0, 1]) but makes
    the water level overflow: ``level += leftover / unsaturated_key`` gives ``inf``, and
    ``min(C, k * inf) = C`` serves consumer 1 its 10,000 kWh out of 12 kWh produced."""
    index = gen.time_index(1)
    consumption = pd.DataFrame({"a": [1.0], "b": [1e4]}, index)
    production = pd.DataFrame({"PV": [12.0]}, index)
    key = keys.Static({"a": 0.5, "b": 2.5e-308}, **options)
    allocation = allocate(consumption, production, key)
    check_invariants(allocation)
    # The exact answer: a takes its 1 kWh, b (the only one open) the remaining 11.
    np.testing.assert_allclose(allocation.allocated.iloc[0].to_numpy(), [1.0, 11.0])
