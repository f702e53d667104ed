"""The economic greedy key and whole-Wh allocations.

Golden cases are worked by hand in the comments from the rules in the docstrings of
:class:`repartition.keys.EconomicGreedy` and :func:`repartition.whole_wh.to_whole_wh`;
the invariants of docs/rules.md are hypothesis properties (helpers of test_properties.py); the
kernel is checked against its NumPy twin (``reference.economic_greedy``, written without
sorting) and its objective against a brute-force optimum; whole-Wh results are checked
exactly, in integers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import allocate, allocate_arrays, errors, keys, reference
from repartition.keys import EconomicGreedy, SharingKey
from repartition.whole_wh import WholeWh, apportion, to_whole_wh, whole_wh
from test_properties import (  # _one_numba_thread: autouse fixture, kernels on one thread
    _one_numba_thread,  # noqa: F401
    assert_close,
    check_flows,
    check_invariants,
    check_member_order,
    check_pooled_flows,
    step_scale,
)

TOL = {"rtol": 1e-12, "atol": 1e-12}

VALUES = [-0.05, 0.0, 0.04, 0.1, 0.1, 0.15, 0.2]
"""EUR/kWh drawn from this set (with repeats) so that ties, zeros and negatives are frequent."""


def half_hours(periods: int) -> pd.DatetimeIndex:
    return pd.date_range("2025-06-01 10:00", periods=periods, freq="30min", tz="Europe/Paris")


def value_element() -> st.SearchStrategy[float]:
    return st.one_of(st.sampled_from(VALUES), st.floats(-1.0, 1.0, allow_subnormal=False))


@st.composite
def greedy_keys(draw: st.DrawFn, frames: gen.Frames) -> EconomicGreedy:
    """A key with one value per consumer (Series) or per step and consumer (DataFrame)."""
    consumers = len(frames.consumers)
    serve_zero = draw(st.booleans())
    if draw(st.booleans()):
        values = draw(st.lists(value_element(), min_size=consumers, max_size=consumers))
        return EconomicGreedy(pd.Series(values, index=frames.consumers), serve_zero)
    table = [
        draw(st.lists(value_element(), min_size=consumers, max_size=consumers))
        for _ in frames.index
    ]
    frame = pd.DataFrame(table, index=frames.index, columns=frames.consumers)
    return EconomicGreedy(frame, serve_zero)


# --- golden cases ------------------------------------------------------------------------


def test_serves_highest_value_first() -> None:
    # P_tot = 4. Values 0.10, 0.15, -0.01: consumer 1 first, takes its 3; consumer 0 gets
    # the 1 left; consumer 2 (negative value) nothing. Surplus 4 - 4 = 0.
    result = allocate_arrays(
        np.array([[2.0, 3.0, 1.0]]), np.array([4.0]), EconomicGreedy([0.10, 0.15, -0.01])
    )
    np.testing.assert_allclose(result.allocated, [[1.0, 3.0, 0.0]], **TOL)
    np.testing.assert_allclose(result.grid_supply, [[1.0, 0.0, 1.0]], **TOL)
    np.testing.assert_allclose(result.surplus, [[0.0]], **TOL)


def test_ties_share_in_proportion_to_consumption() -> None:
    # Values 0.2, 0.1, 0.1, 0.1; C = 1, 1, 2, 3; P_tot = 4 (two producers 1 + 3).
    # Consumer 0 takes 1; 3 left for the tied group of demand 1 + 2 + 3 = 6: ratio 1/2,
    # so 0.5, 1, 1.5. AUTOPROD pooled: 4 * (1/4, 3/4) = 1, 3; surplus 0.
    result = allocate_arrays(
        np.array([[1.0, 1.0, 2.0, 3.0]]),
        np.array([[1.0, 3.0]]),
        EconomicGreedy([0.2, 0.1, 0.1, 0.1]),
    )
    np.testing.assert_allclose(result.allocated, [[1.0, 0.5, 1.0, 1.5]], **TOL)
    np.testing.assert_allclose(result.self_consumed, [[1.0, 3.0]], **TOL)
    np.testing.assert_allclose(result.surplus, [[0.0, 0.0]], **TOL)


def test_zero_value_served_last_or_left_as_surplus() -> None:
    # Values 0.1, 0, -0.1; C = 1, 2, 2; P_tot = 5. Consumer 0 takes 1; consumer 1 (value 0)
    # takes its 2 with serve_zero (default), leaving a surplus of 2; without, a surplus of 4.
    # Consumer 2 (value < 0) never gets anything.
    consumption, production = np.array([[1.0, 2.0, 2.0]]), np.array([5.0])
    served = allocate_arrays(consumption, production, EconomicGreedy([0.1, 0.0, -0.1]))
    np.testing.assert_allclose(served.allocated, [[1.0, 2.0, 0.0]], **TOL)
    np.testing.assert_allclose(served.surplus, [[2.0]], **TOL)
    kept = allocate_arrays(consumption, production, EconomicGreedy([0.1, 0.0, -0.1], False))
    np.testing.assert_allclose(kept.allocated, [[1.0, 0.0, 0.0]], **TOL)
    np.testing.assert_allclose(kept.surplus, [[4.0]], **TOL)


def test_values_per_step_from_a_frame() -> None:
    # Two steps, consumers "a", "b", C = 2 each, P_tot = 3. Step 0: b worth more (0.2 > 0.1)
    # takes 2, a gets 1. Step 1: a worth more, takes 2, b gets 1. The frame's columns are
    # given in the other order: they are matched by id.
    index = half_hours(2)
    consumption = pd.DataFrame({"a": [2.0, 2.0], "b": [2.0, 2.0]}, index=index)
    production = pd.DataFrame({"pv": [3.0, 3.0]}, index=index)
    values = pd.DataFrame({"b": [0.2, 0.1], "a": [0.1, 0.2]}, index=index)
    result = allocate(consumption, production, EconomicGreedy(values))
    expected = pd.DataFrame({"a": [1.0, 2.0], "b": [2.0, 1.0]}, index=index)
    pd.testing.assert_frame_equal(result.allocated, expected)


def test_label_and_member_major_input() -> None:
    # pandas' usual layout (member-major) gives the same numbers as row-major arrays.
    consumption = np.asfortranarray([[2.0, 3.0, 1.0], [1.0, 1.0, 1.0]])
    key = EconomicGreedy([0.10, 0.15, 0.12])
    assert key.label() == "economic greedy"
    by_member = allocate_arrays(consumption, np.array([4.0, 2.5]), key)
    by_row = allocate_arrays(np.ascontiguousarray(consumption), np.array([4.0, 2.5]), key)
    # Step 0: 3 to consumer 1, 1 to consumer 2 (0.12), 0 to consumer 0. Step 1: 1, 1, 0.5.
    np.testing.assert_allclose(by_member.allocated, [[0.0, 3.0, 1.0], [0.5, 1.0, 1.0]], **TOL)
    np.testing.assert_array_equal(by_member.allocated, by_row.allocated)


# --- errors ------------------------------------------------------------------------------


def test_bad_values_are_errors_naming_member_and_step() -> None:
    index = half_hours(2)
    consumption = pd.DataFrame({"a": [1.0, 1.0], "b": [1.0, 1.0]}, index=index)
    production = pd.DataFrame({"pv": [1.0, 1.0]}, index=index)

    def run(values: object) -> None:
        allocate(consumption, production, EconomicGreedy(values))  # type: ignore[arg-type]

    with pytest.raises(errors.CoefficientRangeError, match="'b'") as caught:
        run(pd.Series({"a": 0.1, "b": np.nan}))
    assert caught.value.member == "b"
    table = pd.DataFrame({"a": [0.1, 0.1], "b": [0.1, np.inf]}, index=index)
    with pytest.raises(errors.CoefficientRangeError, match="'b' at step 2025-06-01 10:30") as cell:
        run(table)
    assert cell.value.timestamp == index[1]
    with pytest.raises(errors.UnknownMemberError, match="'c'"):
        run({"a": 0.1, "b": 0.1, "c": 0.1})
    with pytest.raises(errors.MissingMemberError, match="'b'"):
        run({"a": 0.1})
    with pytest.raises(errors.MemberError, match="one value per consumer"):
        run([0.1, 0.2, 0.3])
    with pytest.raises(errors.NonNumericCoefficientError, match="'b'"):
        run(pd.Series({"a": 0.1, "b": "cheap"}))
    with pytest.raises(TypeError, match="serve_zero"):
        EconomicGreedy([0.1], serve_zero="yes")  # type: ignore[arg-type]


# --- properties --------------------------------------------------------------------------


@given(case=gen.community_frames(), data=st.data())
def test_invariants_and_flows_hold_at_every_step(case, data: st.DataObject) -> None:
    _, frames = case
    allocation = allocate(frames.consumption, frames.production, data.draw(greedy_keys(frames)))
    check_invariants(allocation)
    check_flows(allocation, frames)
    check_pooled_flows(allocation)


@given(case=gen.community_frames(), data=st.data())
def test_member_order_does_not_change_results(case, data: st.DataObject) -> None:
    _, frames = case
    check_member_order(frames, data.draw(greedy_keys(frames)), data)


@given(case=gen.communities(), data=st.data())
def test_kernel_equals_reference(case: gen.Community, data: st.DataObject) -> None:
    """Both kernels (fixed and per-step values), both layouts, against the NumPy twin."""
    steps, consumers = case.consumption.shape
    shape = data.draw(st.sampled_from([(consumers,), (steps, consumers)]))
    values = np.array(data.draw(st.lists(value_element(), min_size=int(np.prod(shape)))))
    values = values[: int(np.prod(shape))].reshape(shape)
    serve_zero = data.draw(st.booleans())
    layout = data.draw(st.sampled_from([np.ascontiguousarray, np.asfortranarray]))
    result = allocate_arrays(
        layout(case.consumption), case.production, EconomicGreedy(values, serve_zero)
    )
    expected = reference.economic_greedy(case.consumption, case.production, values, serve_zero)
    scale = step_scale(case.consumption, case.production)
    assert_close(result.allocated, expected, scale, "allocated")
    self_consumed, _ = reference.attribute_pooled(expected, case.production)
    assert_close(result.self_consumed, self_consumed, scale, "self_consumed")


def best_objective(consumption: np.ndarray, production_total: float, values: np.ndarray) -> float:
    """Brute force: the LP optimum of one step is reached by filling consumers in some order,
    each up to its consumption, and stopping after some of them (never serving a negative
    value is one of the choices). Every permutation and every stopping point."""
    best = 0.0
    for order in itertools.permutations(range(len(consumption))):
        left, objective = production_total, 0.0
        for i in order:
            given_ = min(consumption[i], left)
            left -= given_
            objective += values[i] * given_
            best = max(best, objective)
    return best


@given(case=gen.communities(max_consumers=4, max_steps=3), data=st.data())
def test_greedy_reaches_the_brute_force_optimum(case: gen.Community, data: st.DataObject) -> None:
    steps, consumers = case.consumption.shape
    rows = 1 if data.draw(st.booleans(), label="one value per consumer") else steps
    values = np.array(
        [
            data.draw(st.lists(value_element(), min_size=consumers, max_size=consumers))
            for _ in range(rows)
        ]
    )
    key = EconomicGreedy(values[0] if rows == 1 else values)
    result = allocate_arrays(case.consumption, case.production, key)
    table = np.broadcast_to(values, case.consumption.shape)
    for t in range(steps):
        production_total = float(case.production[t].sum())
        best = best_objective(case.consumption[t], production_total, table[t])
        objective = float(table[t] @ result.allocated[t])
        scale = max(production_total, float(case.consumption[t].sum()), 1e-300)
        assert abs(objective - best) <= 1e-9 * scale, (t, objective, best)


# --- whole Wh ----------------------------------------------------------------------------


def test_whole_wh_golden() -> None:
    # C = 0.0004, 0.0006, 0.0015 kWh = 0.4, 0.6, 1.5 Wh -> half up: 0, 1, 2.
    # Two producers 0.0007 + 0.0007 kWh = 1.4 Wh pooled -> 1 Wh in all; floors 0 + 0, one
    # unit to give, equal remainders (0.7 each): to the id that sorts first, "pv-a" (given
    # second).
    # Prorata: ratio 1.4 / 2.5 = 0.56, A = 0.224, 0.336, 0.84 Wh; capped by C_int: 0, 0.336,
    # 0.84; their total 1.176 rounds to 1 (<= 1 Wh produced). Floors 0, 0, 0; one unit to the
    # largest remainder, 0.84: consumer "c". AUTOPROD exact 0.7, 0.7 capped by P_int (0 for
    # "pv-b", 1 for "pv-a"): 1 for "pv-a".
    index = half_hours(1)
    consumption = pd.DataFrame({"a": [0.0004], "b": [0.0006], "c": [0.0015]}, index=index)
    production = pd.DataFrame({"pv-b": [0.0007], "pv-a": [0.0007]}, index=index)
    whole = to_whole_wh(allocate(consumption, production, keys.Prorata()))
    assert isinstance(whole, WholeWh)
    assert whole.consumption.to_numpy().tolist() == [[0, 1, 2]]
    assert whole.production.to_numpy().tolist() == [[0, 1]]
    assert whole.allocated.to_numpy().tolist() == [[0, 0, 1]]
    assert whole.grid_supply.to_numpy().tolist() == [[0, 1, 1]]
    assert whole.self_consumed.to_numpy().tolist() == [[0, 1]]
    assert whole.surplus.to_numpy().tolist() == [[0, 0]]
    pd.testing.assert_index_equal(whole.allocated.index, index)
    pd.testing.assert_index_equal(whole.surplus.columns, production.columns)


def test_whole_wh_half_up_of_meter_values() -> None:
    # 541 W over 30 min = 270.5 Wh = 0.2705 kWh: half up gives 271, although 1000 * 0.2705
    # is 270.49999999999997 in floating point. 0.0005 kWh = 0.5 Wh -> 1; 0.00049 -> 0.
    assert whole_wh(np.array([541 * 0.5 / 1000, 0.0005, 0.00049])).tolist() == [271, 1, 0]


def test_whole_wh_ties_follow_ids_not_columns() -> None:
    # Two consumers of 1 Wh sharing 1 Wh: 0.5 each, the step's total 1 goes to one of them,
    # the one whose id sorts first ("a"), whichever the column order.
    index = half_hours(1)
    production = pd.DataFrame({"pv": [0.001]}, index=index)
    for columns in (["a", "b"], ["b", "a"]):
        consumption = pd.DataFrame([[0.001, 0.001]], index=index, columns=columns)
        whole = to_whole_wh(allocate(consumption, production, keys.Prorata()))
        assert whole.allocated["a"].tolist() == [1]
        assert whole.allocated["b"].tolist() == [0]


def test_apportion_moves_whole_units_both_ways() -> None:
    # Row 0: floors 1, 2 (sum 3), target 5, caps 2, 5: +1 to each (remainders 0.9, 0.5),
    # then one more to the only one with room: 2, 3 -> 2, 3 is 5. Row 1: floors 3, 3 = 6,
    # target 4: take from the one furthest above its exact value first (3.1 then 3.5).
    exact = np.array([[1.9, 2.5], [3.1, 3.5]])
    cap = np.array([[2, 5], [4, 4]])
    result = apportion(np.array([5, 4]), exact, cap)
    assert result.tolist() == [[2, 3], [2, 2]]


def whole_wh_keys(frames: gen.Frames) -> list[SharingKey]:
    return [
        keys.Prorata(),
        keys.EqualShare(),
        keys.Static(np.full(len(frames.consumers), 0.5 / len(frames.consumers))),
        keys.ItalianKey(list(range(len(frames.producers)))),
        EconomicGreedy(np.linspace(-0.1, 0.2, len(frames.consumers))),
    ]


@given(case=gen.community_frames(), data=st.data(), scale=st.sampled_from([1e-3, 1e-2, 1.0]))
def test_whole_wh_invariants_exact(case, data: st.DataObject, scale: float) -> None:
    """Every invariant in integers, each value within 1 Wh, deterministic, totals add up.

    ``scale`` shrinks the energies so that many are a few Wh, where rounding matters."""
    _, frames = case
    frames = gen.Frames(frames.consumption * scale, frames.production * scale)
    key = data.draw(st.sampled_from(whole_wh_keys(frames)))
    allocation = allocate(frames.consumption, frames.production, key)
    whole = to_whole_wh(allocation)
    C, P = whole.consumption.to_numpy(), whole.production.to_numpy()
    A, G = whole.allocated.to_numpy(), whole.grid_supply.to_numpy()
    S, U = whole.self_consumed.to_numpy(), whole.surplus.to_numpy()
    for table in (C, P, A, G, S, U):
        assert table.dtype == np.int64
        assert (table >= 0).all()
    assert (A <= C).all()
    assert (G == C - A).all()
    assert (S + U == P).all()
    assert (A.sum(axis=1) == S.sum(axis=1)).all()
    assert (A.sum(axis=1) <= P.sum(axis=1)).all()
    assert A.sum() + G.sum() == C.sum()
    assert S.sum() + U.sum() == P.sum()
    # Within 1 Wh of the float values (0.5 for consumption, which is rounded half up).
    slack = 1e-6
    assert (np.abs(C - 1000 * allocation.arrays.consumption) <= 0.5 + slack).all()
    assert (np.abs(P - 1000 * allocation.arrays.production) < 1 + slack).all()
    assert (np.abs(A - 1000 * allocation.arrays.allocated) < 1 + slack).all()
    # Producers absorb the rounding of the step's total: within 1 Wh plus that rounding.
    total_rounding = np.abs(A.sum(axis=1) - 1000 * allocation.arrays.allocated.sum(axis=1))
    producer_gap = np.abs(S - 1000 * allocation.arrays.self_consumed)
    assert (producer_gap < 1 + total_rounding[:, None] + slack * C.shape[1]).all()
    # The step's total is the rounded total allocation (unless production rounded below it).
    exact_total = np.minimum(1000 * allocation.arrays.allocated, C).sum(axis=1)
    rounded = np.abs(A.sum(axis=1) - exact_total) <= 0.5 + slack * C.shape[1]
    assert (rounded | (A.sum(axis=1) == P.sum(axis=1))).all()
    again = to_whole_wh(allocation)
    for name in ("consumption", "production", "allocated", "grid_supply", "self_consumed"):
        pd.testing.assert_frame_equal(getattr(again, name), getattr(whole, name))


def test_apportion_refuses_an_impossible_target() -> None:
    # Caps 1 + 1 cannot hold 3 units: an error, not an endless loop.
    with pytest.raises(ValueError, match="target"):
        apportion(np.array([3]), np.array([[1.0, 1.0]]), np.array([[1, 1]]))
