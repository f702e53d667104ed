"""The strategies beyond the DSO keys: equal share, weighted share, Spain, Italy.

Golden cases are worked by hand in the comments from the rules of docs/rules.md ("Strategies
sent as dynamic keys", "Rules abroad") and the keys' docstrings; the invariants of docs/rules.md
are checked as hypothesis properties on every new key, with the helpers of
test_properties.py; then each key against an independent computation.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import allocate, allocate_arrays, errors, keys, reference
from repartition.kernels import merit_order
from repartition.keys import SharingKey
from test_properties import (  # _one_numba_thread: autouse fixture, kernels on one thread
    _one_numba_thread,  # noqa: F401
    assert_close,
    assert_le,
    check_flows,
    check_invariants,
    check_member_order,
    check_pooled_flows,
    step_scale,
)

TOL = {"rtol": 1e-12, "atol": 1e-12}


def half_hours(periods: int, start: str = "2025-06-01 10:00") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=periods, freq="30min", tz="Europe/Paris")


# --- generators ----------------------------------------------------------------------------


@st.composite
def unit_rows(draw: st.DrawFn, consumers: int) -> np.ndarray:
    """Shares summing to 1 (to rounding): static coefficients normalised, or one consumer
    taking everything when they were all 0."""
    shares = draw(gen.static_coefficients(consumers))
    if shares.sum() == 0.0:
        shares = np.zeros(consumers)
        shares[draw(st.integers(0, consumers - 1))] = 1.0
        return shares
    return shares / shares.sum()


@st.composite
def commissioning_orders(draw: st.DrawFn, producers: int) -> list[int]:
    """An order number per producer, with ties."""
    return draw(st.lists(st.integers(0, 3), min_size=producers, max_size=producers))


def as_dates(order: list[int]) -> list[str]:
    return [f"{2015 + number}-03-01" for number in order]


NEW_KINDS = [
    "equal-share",
    "weighted-share",
    "spanish-hourly",
    "spanish-fixed",
    "italian-order",
    "italian-dates",
]


def make_key(data: st.DataObject, kind: str, frames: gen.Frames) -> SharingKey:
    """A key of ``kind`` with coefficients labelled by the frames' ids and index."""
    consumers, producers = frames.consumers, frames.producers
    if kind == "equal-share":
        return keys.EqualShare()
    if kind == "weighted-share":
        weights = data.draw(
            st.lists(
                st.one_of(st.just(0.0), st.floats(1e-3, 1e3)),
                min_size=len(consumers),
                max_size=len(consumers),
            ).filter(any)
        )
        return keys.WeightedShare(pd.Series(weights, index=consumers))
    if kind == "spanish-hourly":
        rows = [data.draw(unit_rows(len(consumers))) for _ in frames.index]
        return keys.SpanishKey(pd.DataFrame(np.vstack(rows), index=frames.index, columns=consumers))
    if kind == "spanish-fixed":
        return keys.SpanishKey(pd.Series(data.draw(unit_rows(len(consumers))), index=consumers))
    order = data.draw(commissioning_orders(len(producers)))
    values = order if kind == "italian-order" else as_dates(order)
    return keys.ItalianKey(dict(zip(producers, values, strict=True)))


# --- invariants, flows and member order, every new key ------------------------------------


@pytest.mark.parametrize("kind", NEW_KINDS)
@given(case=gen.community_frames(), data=st.data())
def test_invariants_and_flows_hold_at_every_step(kind: str, case, data: st.DataObject) -> None:
    _, frames = case
    allocation = allocate(frames.consumption, frames.production, make_key(data, kind, frames))
    check_invariants(allocation)
    check_flows(allocation, frames)
    if not kind.startswith("italian"):
        check_pooled_flows(allocation)


@pytest.mark.parametrize("kind", NEW_KINDS)
@given(case=gen.community_frames(), data=st.data())
def test_member_order_does_not_change_results(kind: str, case, data: st.DataObject) -> None:
    _, frames = case
    check_member_order(frames, make_key(data, kind, frames), data)


# --- each key against an independent computation ------------------------------------------


@given(case=gen.community_frames())
def test_equal_share_is_max_min_fair(case) -> None:
    """``min(C, lam)`` with ``lam`` found by bisection on the cap (reference.max_min_fair),
    and everything usable is used: ``sum_i A = min(P_tot, sum_i C)``."""
    community, frames = case
    C, P = community.consumption, community.production
    allocated = allocate(frames.consumption, frames.production, keys.EqualShare()).arrays.allocated
    scale = step_scale(C, P)
    assert_close(allocated, reference.max_min_fair(C, P), scale, "max-min fair")
    served = np.minimum(P.sum(axis=1), C.sum(axis=1))[:, None]
    assert_close(allocated.sum(axis=1, keepdims=True), served, scale, "sum_i A")


@given(case=gen.community_frames(), weight=st.floats(1e-6, 1e6))
def test_equal_weights_are_equal_share(case, weight: float) -> None:
    _, frames = case
    weights = dict.fromkeys(frames.consumers, weight)
    weighted = allocate(frames.consumption, frames.production, keys.WeightedShare(weights))
    equal = allocate(frames.consumption, frames.production, keys.EqualShare())
    scale = step_scale(frames.consumption.to_numpy(), frames.production.to_numpy())
    for table in ("allocated", "self_consumed"):
        assert_close(getattr(weighted.arrays, table), getattr(equal.arrays, table), scale, table)


@given(case=gen.community_frames(), data=st.data())
def test_weighted_share_is_static_redistributed_on_normalised_weights(
    case, data: st.DataObject
) -> None:
    """``WeightedShare(w) = Static(w / sum w, redistribute=True)``; scaling ``w`` changes
    nothing."""
    community, _ = case
    weights = np.array(
        data.draw(
            st.lists(
                st.one_of(st.just(0.0), st.floats(1e-3, 1e3)),
                min_size=community.consumers,
                max_size=community.consumers,
            ).filter(any)
        )
    )
    C, P = community.consumption, community.production
    scale = step_scale(C, P)
    weighted = allocate_arrays(C, P, keys.WeightedShare(weights)).allocated
    scaled = allocate_arrays(C, P, keys.WeightedShare(weights * 1e3)).allocated
    static = allocate_arrays(C, P, keys.Static(weights / weights.sum(), redistribute=True))
    assert_close(weighted, static.allocated, scale, "weighted vs static")
    assert_close(scaled, weighted, scale, "weights x 1000")
    limit = reference.static_limit(C, P, weights / weights.sum())
    assert_close(weighted, limit, scale, "weighted vs reference.static_limit")


@given(case=gen.community_frames(), data=st.data())
def test_spanish_key_is_dynamic_when_rows_sum_to_one(case, data: st.DataObject) -> None:
    community, frames = case
    C, P = community.consumption, community.production
    table = np.vstack([data.draw(unit_rows(community.consumers)) for _ in range(community.steps)])
    coefficients = pd.DataFrame(table, index=frames.index, columns=frames.consumers)
    spanish = allocate(frames.consumption, frames.production, keys.SpanishKey(coefficients))
    dynamic = allocate(frames.consumption, frames.production, keys.Dynamic(coefficients))
    np.testing.assert_array_equal(spanish.arrays.allocated, dynamic.arrays.allocated)
    np.testing.assert_array_equal(spanish.arrays.self_consumed, dynamic.arrays.self_consumed)
    # A fixed set is the same set at every hour.
    fixed = pd.Series(table[0], index=frames.consumers)
    tiled = pd.DataFrame(np.tile(table[0], (community.steps, 1)), frames.index, frames.consumers)
    spanish_fixed = allocate(frames.consumption, frames.production, keys.SpanishKey(fixed))
    dynamic_tiled = allocate(frames.consumption, frames.production, keys.Dynamic(tiled))
    assert_close(
        spanish_fixed.arrays.allocated, dynamic_tiled.arrays.allocated, step_scale(C, P), "fixed"
    )


@given(case=gen.community_frames(), data=st.data())
def test_italian_key_is_prorata_and_fills_earliest_plants_first(case, data: st.DataObject) -> None:
    community, _ = case
    C, P = community.consumption, community.production
    order = np.array(data.draw(commissioning_orders(community.producers)), dtype=np.float64)
    italian = allocate_arrays(C, P, keys.ItalianKey(order))
    prorata = allocate_arrays(C, P, keys.Prorata())
    np.testing.assert_array_equal(italian.allocated, prorata.allocated)
    scale = step_scale(C, P)
    expected_allocated, expected_autoprod = reference.italian(C, P, order)
    assert_close(italian.allocated, expected_allocated, scale, "AUTOCONS vs reference")
    assert_close(italian.self_consumed, expected_autoprod, scale, "AUTOPROD vs reference")
    # Earliest first: a plant not fully used leaves nothing to strictly later plants.
    for j in range(community.producers):
        unfilled = italian.self_consumed[:, j] < P[:, j] - 1e-9 * scale[:, 0]
        later = order > order[j]
        assert_le(
            italian.self_consumed[unfilled][:, later],
            np.zeros((int(unfilled.sum()), int(later.sum()))),
            scale[unfilled],
            f"a plant later than {j} served while {j} is not full",
        )


@given(
    production=gen.energy_table(5, 4),
    shared_fraction=st.lists(st.floats(0.0, 1.0), min_size=5, max_size=5),
    order=commissioning_orders(4),
)
def test_merit_order_kernel_agrees_with_its_reference(production, shared_fraction, order) -> None:
    shared = production.sum(axis=1) * np.array(shared_fraction)
    ranks = np.unique(np.array(order), return_inverse=True)[1].astype(np.int64)
    self_consumed, surplus = merit_order.attribute(production, shared, ranks)
    expected, expected_surplus = reference.merit_order_attribution(
        production, shared, np.array(order, dtype=np.float64)
    )
    scale = np.maximum(production.sum(axis=1), 1e-300)[:, None]
    assert_close(self_consumed, expected, scale, "AUTOPROD")
    assert_close(surplus, expected_surplus, scale, "SURPLUS")
    assert (surplus >= 0.0).all()


# --- golden cases, worked by hand ----------------------------------------------------------


def one_producer(values: list[float], index: pd.DatetimeIndex) -> pd.Series:
    return pd.Series(values, index=index, name="PV")


class TestEqualShare:
    INDEX = half_hours(3)
    CONSUMPTION = pd.DataFrame(
        {"a": [1.0, 1.0, 2.0], "b": [4.0, 2.0, 2.0], "c": [6.0, 0.0, 2.0]}, index=INDEX
    )
    PRODUCTION = one_producer([7.0, 5.0, 3.0], INDEX)

    def test_allocated_and_surplus(self):
        allocation = allocate(self.CONSUMPTION, self.PRODUCTION, keys.EqualShare())
        # Step 1: 7 / 3 = 2.33 each; a takes its 1, the 6 left go to b and c, 3 each (below
        #   their 4 and 6): lam = 3, A = (1, 3, 3), surplus 0.
        # Step 2: demand 1 + 2 + 0 = 3 <= 5: everyone served, A = (1, 2, 0), surplus 2.
        # Step 3: 3 / 3 = 1 each, below every consumption: A = (1, 1, 1), surplus 0.
        expected = [[1.0, 3.0, 3.0], [1.0, 2.0, 0.0], [1.0, 1.0, 1.0]]
        np.testing.assert_allclose(allocation.allocated.to_numpy(), expected, **TOL)
        np.testing.assert_allclose(allocation.surplus["PV"].to_numpy(), [0.0, 2.0, 0.0], **TOL)
        np.testing.assert_allclose(allocation.grid_supply["c"].to_numpy(), [3.0, 0.0, 1.0], **TOL)

    def test_is_static_with_equal_shares_redistributed(self):
        equal = allocate(self.CONSUMPTION, self.PRODUCTION, keys.EqualShare())
        static = keys.Static(dict.fromkeys("abc", 1 / 3), redistribute=True)
        np.testing.assert_array_equal(
            equal.allocated.to_numpy(),
            allocate(self.CONSUMPTION, self.PRODUCTION, static).allocated.to_numpy(),
        )
        assert equal.passes is not None
        assert keys.EqualShare().label() == "equal share"


class TestWeightedShare:
    INDEX = half_hours(2)
    CONSUMPTION = pd.DataFrame({"a": [5.0, 1.0], "b": [4.0, 1.0], "c": [6.0, 6.0]}, index=INDEX)
    PRODUCTION = one_producer([8.0, 6.0], INDEX)
    KVA: ClassVar[dict[str, float]] = {
        "a": 6.0,
        "b": 3.0,
        "c": 3.0,
    }  # subscribed power: shares 1/2, 1/4, 1/4

    def test_allocated(self):
        allocation = allocate(self.CONSUMPTION, self.PRODUCTION, keys.WeightedShare(self.KVA))
        # Step 1: A = min(C, w * L / 12): L = 8 gives (4, 2, 2), nobody capped (4 < 5, 2 < 4,
        #   2 < 6), sum 8 = P.
        # Step 2: a is capped at 1 (L >= 2), b at 1 (L >= 4); c takes 0.25 * L = 6 - 2 = 4
        #   (L = 16, 4 < 6): A = (1, 1, 4).
        expected = [[4.0, 2.0, 2.0], [1.0, 1.0, 4.0]]
        np.testing.assert_allclose(allocation.allocated.to_numpy(), expected, **TOL)

    def test_zero_weight_receives_nothing(self):
        key = keys.WeightedShare({"a": 0.0, "b": 1.0, "c": 1.0})
        allocation = allocate(self.CONSUMPTION, self.PRODUCTION, key)
        # Step 1: b and c at 1/2 each: 4 each, b capped at its 4: A = (0, 4, 4).
        # Step 2: b capped at 1, c takes the other 5 (< 6): A = (0, 1, 5).
        expected = [[0.0, 4.0, 4.0], [0.0, 1.0, 5.0]]
        np.testing.assert_allclose(allocation.allocated.to_numpy(), expected, **TOL)

    @pytest.mark.parametrize(
        ("weights", "error", "culprit"),
        [
            ({"a": -1.0, "b": 1.0, "c": 1.0}, errors.CoefficientRangeError, "a"),
            ({"a": 1.0, "b": np.nan, "c": 1.0}, errors.CoefficientRangeError, "b"),
            ({"a": 1.0, "b": 1.0, "c": np.inf}, errors.CoefficientRangeError, "c"),
            ({"a": 0.0, "b": 0.0, "c": 0.0}, errors.CoefficientSumError, None),
            ({"a": 1.0, "b": 1.0, "c": 1.0, "z": 1.0}, errors.UnknownMemberError, "z"),
            ({"a": 1.0, "b": 1.0}, errors.MissingMemberError, "c"),
            ({"a": 1.0, "b": "x", "c": 1.0}, errors.NonNumericCoefficientError, "b"),
        ],
        ids=["negative", "nan", "infinite", "all-zero", "unknown", "missing", "text"],
    )
    def test_bad_weights(self, weights, error, culprit):
        with pytest.raises(error) as caught:
            allocate(self.CONSUMPTION, self.PRODUCTION, keys.WeightedShare(weights))
        assert caught.value.member == culprit
        if culprit is not None:
            assert repr(culprit) in str(caught.value)

    def test_array_of_wrong_length(self):
        with pytest.raises(errors.MemberError, match="one value per consumer"):
            allocate(self.CONSUMPTION, self.PRODUCTION, keys.WeightedShare([1.0, 2.0]))


class TestSpanishKey:
    INDEX = half_hours(2)
    CONSUMPTION = pd.DataFrame({"a": [1.0, 2.0], "b": [4.0, 1.0], "c": [6.0, 0.0]}, index=INDEX)
    PRODUCTION = one_producer([8.0, 10.0], INDEX)
    BETA = pd.DataFrame({"a": [0.5, 0.2], "b": [0.25, 0.3], "c": [0.25, 0.5]}, index=INDEX)

    def test_hourly_coefficients(self):
        allocation = allocate(self.CONSUMPTION, self.PRODUCTION, keys.SpanishKey(self.BETA))
        # Step 1: beta * P = (4, 2, 2): A = min(C, .) = (1, 2, 2); surplus 8 - 5 = 3 (a's
        #   unused 3 kWh stay its own surplus, not redistributed).
        # Step 2: beta * P = (2, 3, 5): A = (2, 1, 0); surplus 10 - 3 = 7.
        np.testing.assert_allclose(
            allocation.allocated.to_numpy(), [[1.0, 2.0, 2.0], [2.0, 1.0, 0.0]], **TOL
        )
        np.testing.assert_allclose(allocation.surplus["PV"].to_numpy(), [3.0, 7.0], **TOL)

    def test_fixed_set(self):
        key = keys.SpanishKey({"a": 0.5, "b": 0.25, "c": 0.25})
        allocation = allocate(self.CONSUMPTION, self.PRODUCTION, key)
        # Step 1 as above: (1, 2, 2). Step 2: beta * P = (5, 2.5, 2.5): A = (2, 1, 0).
        np.testing.assert_allclose(
            allocation.allocated.to_numpy(), [[1.0, 2.0, 2.0], [2.0, 1.0, 0.0]], **TOL
        )

    def test_row_not_summing_to_one_names_the_step(self):
        beta = self.BETA.copy()
        beta.loc[self.INDEX[1], "c"] = 0.4  # row sums to 0.9
        with pytest.raises(errors.CoefficientSumError, match=r"sum to 0\.9") as caught:
            allocate(self.CONSUMPTION, self.PRODUCTION, keys.SpanishKey(beta))
        assert caught.value.timestamp == self.INDEX[1]
        assert str(self.INDEX[1]) in str(caught.value)
        beta.loc[self.INDEX[1], "c"] = 0.6  # row sums to 1.1
        with pytest.raises(errors.CoefficientSumError) as caught:
            allocate(self.CONSUMPTION, self.PRODUCTION, keys.SpanishKey(beta))
        assert caught.value.timestamp == self.INDEX[1]

    def test_tolerance(self):
        beta = self.BETA.copy()
        beta.loc[self.INDEX[0], "a"] -= 5e-10  # within 1e-9 of 1: accepted
        allocate(self.CONSUMPTION, self.PRODUCTION, keys.SpanishKey(beta))

    def test_nan_is_an_error_not_a_fallback(self):
        beta = self.BETA.copy()
        beta.loc[self.INDEX[0]] = np.nan
        with pytest.raises(errors.CoefficientRangeError, match="NaN") as caught:
            allocate(self.CONSUMPTION, self.PRODUCTION, keys.SpanishKey(beta))
        assert caught.value.timestamp == self.INDEX[0]
        assert caught.value.member == "a"

    def test_fixed_set_not_summing_to_one(self):
        with pytest.raises(errors.CoefficientSumError, match=r"sum to 0\.75"):
            allocate(
                self.CONSUMPTION,
                self.PRODUCTION,
                keys.SpanishKey({"a": 0.5, "b": 0.25, "c": 0.0}),
            )


class TestItalianKey:
    INDEX = half_hours(4)
    CONSUMPTION = pd.DataFrame({"a": [1.0, 1.0, 0.5, 1.0], "b": [3.0, 1.0, 0.0, 1.0]}, index=INDEX)
    # Columns deliberately newest first: the order of attribution comes from the dates.
    PRODUCTION = pd.DataFrame(
        {"new": [2.0, 2.0, 2.0, 0.0], "old": [1.0, 1.0, 1.0, 0.0]}, index=INDEX
    )
    KEY = keys.ItalianKey({"new": "2023-06-01", "old": "2019-01-01"})

    def test_allocated_self_consumed_surplus(self):
        allocation = allocate(self.CONSUMPTION, self.PRODUCTION, self.KEY)
        # E = min(sum P, sum C) per step: min(3, 4) = 3, min(3, 2) = 2, min(3, 0.5) = 0.5, 0.
        # AUTOCONS = C * E / sum C: (0.75, 2.25), (1, 1), (0.5, 0), (0, 0).
        np.testing.assert_allclose(
            allocation.allocated.to_numpy(),
            [[0.75, 2.25], [1.0, 1.0], [0.5, 0.0], [0.0, 0.0]],
            **TOL,
        )
        # "old" first, up to its 1 kWh, then "new": E = 3 -> old 1, new 2; E = 2 -> old 1,
        # new 1 (pooled would give 2/3 and 4/3); E = 0.5 -> old 0.5, new 0; E = 0 -> 0, 0.
        np.testing.assert_allclose(
            allocation.self_consumed[["new", "old"]].to_numpy(),
            [[2.0, 1.0], [1.0, 1.0], [0.0, 0.5], [0.0, 0.0]],
            **TOL,
        )
        np.testing.assert_allclose(
            allocation.surplus[["new", "old"]].to_numpy(),
            [[0.0, 0.0], [1.0, 0.0], [2.0, 0.5], [0.0, 0.0]],
            **TOL,
        )

    def test_flows(self):
        flows = allocate(self.CONSUMPTION, self.PRODUCTION, self.KEY).flows()
        # flow = A[t, i] * AUTOPROD[t, j] / E[t]:
        #   step 1: old->a 0.75/3 = 0.25, new->a 0.5, old->b 0.75, new->b 1.5;
        #   step 2: 1 * 1/2 = 0.5 for each pair; step 3: old->a 0.5, others 0.
        # old: a 0.25 + 0.5 + 0.5 = 1.25, b 0.75 + 0.5 = 1.25; new: a 0.5 + 0.5 = 1,
        # b 1.5 + 0.5 = 2.
        np.testing.assert_allclose(flows.loc["old", ["a", "b"]].to_numpy(), [1.25, 1.25], **TOL)
        np.testing.assert_allclose(flows.loc["new", ["a", "b"]].to_numpy(), [1.0, 2.0], **TOL)

    def test_plants_of_the_same_date_share_in_proportion(self):
        index = half_hours(1)
        consumption = pd.DataFrame({"a": [2.0]}, index=index)
        production = pd.DataFrame({"x": [1.0], "y": [3.0], "z": [2.0]}, index=index)
        key = keys.ItalianKey({"x": 2020, "y": 2020, "z": 2022})
        allocation = allocate(consumption, production, key)
        # E = min(6, 2) = 2; x and y (2020) take it as a group of 4 kWh: x 2 * 1/4 = 0.5,
        # y 2 * 3/4 = 1.5; z (2022) nothing.
        np.testing.assert_allclose(allocation.self_consumed.to_numpy(), [[0.5, 1.5, 0.0]], **TOL)

    @pytest.mark.parametrize(
        ("commissioning", "error", "culprit"),
        [
            ({"new": "2023-06-01"}, errors.MissingMemberError, "old"),
            ({"new": 1, "old": 0, "PV": 2}, errors.UnknownMemberError, "PV"),
            ({"new": 1.0, "old": np.nan}, errors.CoefficientRangeError, "old"),
            ({"new": "2023-06-01", "old": None}, errors.CoefficientRangeError, "old"),
            ({"new": "2023-06-01", "old": "someday"}, errors.NonNumericCoefficientError, "old"),
        ],
        ids=["missing", "unknown", "nan", "no-date", "not-a-date"],
    )
    def test_bad_commissioning(self, commissioning, error, culprit):
        with pytest.raises(error) as caught:
            allocate(self.CONSUMPTION, self.PRODUCTION, keys.ItalianKey(commissioning))
        assert caught.value.member == culprit
        if culprit is not None:
            assert repr(culprit) in str(caught.value)

    def test_sequence_in_column_order(self):
        by_order = allocate(self.CONSUMPTION, self.PRODUCTION, keys.ItalianKey([1, 0]))
        by_date = allocate(self.CONSUMPTION, self.PRODUCTION, self.KEY)
        pd.testing.assert_frame_equal(by_order.self_consumed, by_date.self_consumed)
        with pytest.raises(errors.MemberError, match="one value per producer"):
            allocate(self.CONSUMPTION, self.PRODUCTION, keys.ItalianKey([0]))
