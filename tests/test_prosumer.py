"""Prosumer-aware keys (Belgian / Flemish protocol): fixed, relative, optimal.

Golden cases are worked by hand in the comments from docs/rules.md ("Belgium")
and :class:`repartition.keys.ProsumerKey`'s docstring; docs/rules.md's invariants are
hypothesis properties (helpers of test_properties.py); then each variant against an
independent computation (:mod:`repartition.reference`) and the keys it reduces to.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import allocate, allocate_arrays, errors, keys, reference
from repartition.allocation import FLOW_CHUNK
from repartition.keys.prosumer import VARIANTS, ProsumerKey, owner_columns, pair_coefficients
from test_properties import (  # _one_numba_thread: autouse fixture, kernels on one thread
    _one_numba_thread,  # noqa: F401
    assert_close,
    assert_le,
    check_flows,
    check_invariants,
    check_member_order,
    step_scale,
)

TOL = {"rtol": 1e-12, "atol": 1e-12}


def half_hours(periods: int) -> pd.DatetimeIndex:
    return pd.date_range("2025-06-01 10:00", periods=periods, freq="30min", tz="Europe/Paris")


# --- golden cases, worked by hand ---------------------------------------------------------

# Three consumers: "ann" owns the plant "ann" (same id: a prosumer), "bob" and "cat" do not
# produce. Keys k = (ann 0.5, bob 0.3, cat 0.2), sum S = 1. Two steps.
#   step 0: C = (ann 4, bob 10, cat 1), P_ann = 10
#   step 1: C = (ann 0, bob 1, cat 1),  P_ann = 2
GOLDEN_C = pd.DataFrame(
    {"ann": [4.0, 0.0], "bob": [10.0, 1.0], "cat": [1.0, 1.0]}, index=half_hours(2)
)
GOLDEN_P = pd.DataFrame({"ann": [10.0, 2.0]}, index=half_hours(2))
GOLDEN_K = {"ann": 0.5, "bob": 0.3, "cat": 0.2}

GOLDEN = {
    # fixed: ann's own share 0.5 is not allocated.
    #   step 0: bob 0.3 * 10 = 3 (<= 10), cat 0.2 * 10 = 2 -> capped at 1. A = (0, 3, 1),
    #           AUTOPROD = 4, SURPLUS = 6.
    #   step 1: bob 0.3 * 2 = 0.6, cat 0.2 * 2 = 0.4. A = (0, 0.6, 0.4), AUTOPROD = 1, SURPLUS 1.
    "fixed": ([[0.0, 3.0, 1.0], [0.0, 0.6, 0.4]], [4.0, 1.0]),
    # relative: k / (1 - 0.5): bob 0.6, cat 0.4.
    #   step 0: bob 6, cat 4 -> capped at 1. A = (0, 6, 1), AUTOPROD 7, SURPLUS 3.
    #   step 1: bob 1.2 -> capped at 1, cat 0.8. A = (0, 1, 0.8), AUTOPROD 1.8, SURPLUS 0.2.
    "relative": ([[0.0, 6.0, 1.0], [0.0, 1.0, 0.8]], [7.0, 1.8]),
    # optimal: relative, then the leftover to the open non-owners.
    #   step 0: left 10 - 7 = 3, cat saturated, only bob open: bob 6 + 3 = 9 (<= 10).
    #           A = (0, 9, 1), AUTOPROD 10, SURPLUS 0.
    #   step 1: left 2 - 1.8 = 0.2, bob saturated, cat open: 0.8 + 0.2 = 1 (= its C).
    #           A = (0, 1, 1), AUTOPROD 2, SURPLUS 0.
    "optimal": ([[0.0, 9.0, 1.0], [0.0, 1.0, 1.0]], [10.0, 2.0]),
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_golden_prosumer_by_same_id(variant: str) -> None:
    result = allocate(GOLDEN_C, GOLDEN_P, ProsumerKey(GOLDEN_K, variant))
    allocated, self_consumed = GOLDEN[variant]
    np.testing.assert_allclose(result.allocated.to_numpy(), allocated, **TOL)
    np.testing.assert_allclose(result.self_consumed["ann"].to_numpy(), self_consumed, **TOL)
    np.testing.assert_allclose(
        result.surplus["ann"].to_numpy(), GOLDEN_P["ann"].to_numpy() - self_consumed, **TOL
    )
    flows = result.flows()
    # A prosumer never receives its own production.
    assert flows.loc["ann", "ann"] == 0.0
    # One producer: every consumer's energy comes from it.
    np.testing.assert_allclose(flows.loc["ann"].to_numpy(), np.sum(allocated, axis=0), **TOL)


def test_golden_two_producers_explicit_owners() -> None:
    # Plants "pv1" owned by "ann", "pv2" owned by "bob"; k = (ann 0.5, bob 0.5). One step,
    # C = (ann 4, bob 4), P = (pv1 2, pv2 6).
    #   fixed:    pv1 -> bob 0.5 * 2 = 1; pv2 -> ann 0.5 * 6 = 3. A = (3, 1), AUTOPROD (1, 3).
    #   relative: k / (1 - 0.5) = 1: pv1 -> bob 2; pv2 -> ann 6, capped at 4.
    #             A = (4, 2), AUTOPROD (2, 4), SURPLUS (0, 2).
    #   optimal:  pv2's 2 left could only go to bob, its owner: nobody open. Same as relative.
    consumption = pd.DataFrame({"ann": [4.0], "bob": [4.0]}, index=half_hours(1))
    production = pd.DataFrame({"pv1": [2.0], "pv2": [6.0]}, index=half_hours(1))
    owners = {"pv1": "ann", "pv2": "bob"}
    expected = {
        "fixed": ([3.0, 1.0], [1.0, 3.0]),
        "relative": ([4.0, 2.0], [2.0, 4.0]),
        "optimal": ([4.0, 2.0], [2.0, 4.0]),
    }
    for variant, (allocated, self_consumed) in expected.items():
        result = allocate(consumption, production, ProsumerKey([0.5, 0.5], variant, owners))
        np.testing.assert_allclose(result.allocated.to_numpy()[0], allocated, **TOL)
        np.testing.assert_allclose(result.self_consumed.to_numpy()[0], self_consumed, **TOL)
        flows = result.flows()
        assert flows.loc["pv1", "ann"] == 0.0
        assert flows.loc["pv2", "bob"] == 0.0


def test_plain_arrays_pair_columns_by_number_unless_told() -> None:
    # allocate_arrays: ids are column numbers, so producer 0 is consumer 0's by default.
    # C = (2, 2), P = 2, k = (0.5, 0.5), fixed: default -> (0, 1); owners={} -> (1, 1).
    C, P = np.array([[2.0, 2.0]]), np.array([[2.0]])
    owned = allocate_arrays(C, P, ProsumerKey([0.5, 0.5], "fixed"))
    free = allocate_arrays(C, P, ProsumerKey([0.5, 0.5], "fixed", owners={}))
    np.testing.assert_allclose(owned.allocated, [[0.0, 1.0]], **TOL)
    np.testing.assert_allclose(free.allocated, [[1.0, 1.0]], **TOL)


def test_owner_holding_every_share_leaves_everything_unallocated() -> None:
    # k = (1, 0): producer 0's owner holds all the key; relative S - k_owner = 0 -> nothing.
    C, P = np.array([[2.0, 2.0]]), np.array([[3.0]])
    for variant in VARIANTS:
        result = allocate_arrays(C, P, ProsumerKey([1.0, 0.0], variant))
        np.testing.assert_allclose(result.allocated, [[0.0, 0.0]], **TOL)
        np.testing.assert_allclose(result.surplus, [[3.0]], **TOL)


def test_pair_coefficients() -> None:
    # k = (0.5, 0.3, 0.2); producer 0 owned by 0, producer 1 by nobody.
    coefficients = np.array([0.5, 0.3, 0.2])
    owners = np.array([0, -1])
    fixed = pair_coefficients(coefficients, owners, "fixed")
    np.testing.assert_allclose(fixed, [[0.0, 0.3, 0.2], [0.5, 0.3, 0.2]], **TOL)
    # relative: 0.3 / 0.5 = 0.6, 0.2 / 0.5 = 0.4.
    relative = pair_coefficients(coefficients, owners, "relative")
    np.testing.assert_allclose(relative, [[0.0, 0.6, 0.4], [0.5, 0.3, 0.2]], **TOL)
    # S = 0.8 < 1: k_i * S / (S - k_owner) keeps 1 - S unallocated: 0.3 * 0.8 / 0.5 = 0.48.
    partial = pair_coefficients(np.array([0.3, 0.3, 0.2]), np.array([0]), "relative")
    np.testing.assert_allclose(partial, [[0.0, 0.48, 0.32]], **TOL)


# --- errors ---------------------------------------------------------------------------------


def test_unknown_owner_producer_and_consumer_are_named() -> None:
    with pytest.raises(errors.UnknownMemberError, match="'pv9'"):
        allocate(GOLDEN_C, GOLDEN_P, ProsumerKey(GOLDEN_K, owners={"pv9": "ann"}))
    with pytest.raises(errors.UnknownMemberError, match="'zed'") as caught:
        allocate(GOLDEN_C, GOLDEN_P, ProsumerKey(GOLDEN_K, owners={"ann": "zed"}))
    assert caught.value.member == "zed"


def test_bad_variant_and_sum() -> None:
    with pytest.raises(ValueError, match="variant"):
        ProsumerKey(GOLDEN_K, "pooled")  # type: ignore[arg-type]
    with pytest.raises(errors.CoefficientSumError, match="above 1"):
        allocate(GOLDEN_C, GOLDEN_P, ProsumerKey({"ann": 0.6, "bob": 0.3, "cat": 0.2}))
    with pytest.raises(TypeError, match="mapping"):
        owner_columns([("a", "b")], pd.Index(["a"]), pd.Index(["b"]))  # type: ignore[arg-type]


def test_label() -> None:
    assert ProsumerKey(GOLDEN_K, "optimal").label() == "prosumer (optimal)"


# --- properties -----------------------------------------------------------------------------


@st.composite
def prosumer_cases(draw: st.DrawFn) -> tuple[gen.Frames, pd.Series, dict[str, str]]:
    """Frames, keys ``k_i`` and an owner (or none) per producer."""
    _, frames = draw(gen.community_frames())
    coefficients = pd.Series(
        draw(gen.static_coefficients(len(frames.consumers))), index=frames.consumers
    )
    owners = {}
    for producer in frames.producers:
        owner = draw(st.one_of(st.none(), st.sampled_from(list(frames.consumers))))
        if owner is not None:
            owners[producer] = owner
    return frames, coefficients, owners


@pytest.mark.parametrize("variant", VARIANTS)
@given(case=prosumer_cases())
def test_invariants_flows_and_no_self_sharing(variant: str, case) -> None:
    frames, coefficients, owners = case
    key = ProsumerKey(coefficients, variant, owners)
    allocation = allocate(frames.consumption, frames.production, key)
    check_invariants(allocation)
    check_flows(allocation, frames)
    flows = allocation.flows()
    for producer, owner in owners.items():
        assert flows.loc[producer, owner] == 0.0


@pytest.mark.parametrize("variant", ["fixed", "relative"])
@given(case=prosumer_cases())
def test_fixed_and_relative_agree_with_the_full_dynamic_reference(variant: str, case) -> None:
    """Both kernels (row-major and member-major data) against the NumPy full dynamic rule
    on the pair tables repeated over the steps: allocations, AUTOPROD and every flow."""
    frames, coefficients, owners = case
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    columns = owner_columns(owners, frames.producers, frames.consumers)
    pairs = pair_coefficients(coefficients.to_numpy(), columns, variant)
    tables = np.broadcast_to(pairs[:, None, :], (len(pairs), *C.shape))
    allocated, self_consumed, flows = reference.full_dynamic(C, P, tables)
    scale = step_scale(C, P)
    by_number = {int(j): int(i) for j, i in enumerate(columns) if i >= 0}
    key = ProsumerKey(coefficients.to_numpy(), variant, by_number)
    for layout in (np.ascontiguousarray, np.asfortranarray):
        result = allocate_arrays(layout(C), P, key)
        assert_close(result.allocated, allocated, scale, f"allocated, {layout.__name__}")
        assert_close(result.self_consumed, self_consumed, scale, "self_consumed")
        assert_close(result.flows_per_step(), flows, scale[:, :, None], "flows per step")
    labelled = allocate(
        frames.consumption, frames.production, ProsumerKey(coefficients, variant, owners)
    )
    assert_close(labelled.allocated.to_numpy(), allocated, scale, "allocated, labelled")


@given(case=prosumer_cases())
def test_optimal_agrees_with_its_reference_and_beats_relative(case) -> None:
    frames, coefficients, owners = case
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    optimal = allocate(
        frames.consumption, frames.production, ProsumerKey(coefficients, "optimal", owners)
    )
    relative = allocate(
        frames.consumption, frames.production, ProsumerKey(coefficients, "relative", owners)
    )
    columns = owner_columns(owners, frames.producers, frames.consumers)
    allocated, flows = reference.prosumer_optimal(C, P, coefficients.to_numpy(), columns)
    scale = step_scale(C, P)
    assert_close(optimal.allocated.to_numpy(), allocated, scale, "allocated")
    assert_close(optimal.arrays.flows_per_step(), flows, scale[:, :, None], "flows per step")
    # Both kernels: row-major and member-major arrays.
    by_number = {int(j): int(i) for j, i in enumerate(columns) if i >= 0}
    key = ProsumerKey(coefficients.to_numpy(), "optimal", by_number)
    for layout in (np.ascontiguousarray, np.asfortranarray):
        result = allocate_arrays(layout(C), P, key)
        assert_close(result.allocated, allocated, scale, f"allocated, {layout.__name__}")
        assert_close(result.flows_per_step(), flows, scale[:, :, None], "flows per step")
    # Round 1 of optimal is relative; later rounds only add: more AUTOCONS at every step.
    assert_le(
        relative.allocated.to_numpy().sum(axis=1)[:, None],
        optimal.allocated.to_numpy().sum(axis=1)[:, None],
        scale,
        "relative <= optimal",
    )


@given(case=prosumer_cases())
def test_without_prosumers_the_variants_are_static(case) -> None:
    frames, coefficients, _ = case
    C, P = frames.consumption, frames.production
    scale = step_scale(C.to_numpy(), P.to_numpy())
    static = allocate(C, P, keys.Static(coefficients))
    limit = allocate(C, P, keys.Static(coefficients, redistribute=True))
    for variant, expected in (("fixed", static), ("relative", static), ("optimal", limit)):
        result = allocate(C, P, ProsumerKey(coefficients, variant, owners={}))
        for table in ("allocated", "self_consumed", "surplus"):
            assert_close(
                getattr(result, table).to_numpy(),
                getattr(expected, table).to_numpy(),
                scale,
                f"{variant} {table}",
            )


@pytest.mark.parametrize("variant", VARIANTS)
@given(case=prosumer_cases(), data=st.data())
def test_member_order_does_not_change_results(variant: str, case, data: st.DataObject) -> None:
    frames, coefficients, owners = case
    key = ProsumerKey(coefficients, variant, owners)
    check_member_order(frames, key, data, ("allocated", "self_consumed", "surplus"))


@pytest.mark.parametrize("variant", VARIANTS)
@given(case=prosumer_cases())
def test_row_major_and_member_major_arrays_agree(variant: str, case) -> None:
    frames, coefficients, owners = case
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    columns = owner_columns(owners, frames.producers, frames.consumers)
    by_number = {int(j): int(i) for j, i in enumerate(columns) if i >= 0}
    key = ProsumerKey(coefficients.to_numpy(), variant, by_number)
    rows = allocate_arrays(np.ascontiguousarray(C), P, key)
    members = allocate_arrays(np.asfortranarray(C), P, key)
    scale = step_scale(C, P)
    for table in ("allocated", "grid_supply", "self_consumed", "surplus"):
        assert_close(getattr(members, table), getattr(rows, table), scale, table)


def test_optimal_flows_are_rebuilt_by_chunks_and_never_follow_the_input() -> None:
    """The optimal variant keeps no flow tables: ``flows()`` rebuilds them by chunks of
    steps (more steps than one chunk here) from what it recorded, so they equal the
    per-step flows summed, stay the same after the caller overwrites its input, and add
    up to AUTOCONS and AUTOPROD."""
    rng = np.random.default_rng(31)
    steps = 2 * FLOW_CHUNK + 17
    C = rng.gamma(1.0, 1.0, size=(steps, 4))
    P = rng.gamma(1.0, 2.0, size=(steps, 2))
    P[::3] = 0.0
    key = ProsumerKey([0.4, 0.3, 0.2, 0.1], "optimal", owners={0: 1, 1: 1})
    for layout in (np.ascontiguousarray, np.asfortranarray):
        data = layout(C)
        result = allocate_arrays(data, P, key)
        per_step = result.flows_per_step()
        boundaries = np.array([0, 5, FLOW_CHUNK + 3, steps - 1])
        flows = result.flows(boundaries)
        data[:] = 0.0  # the caller reuses its buffer
        again = result.flows(boundaries)
        np.testing.assert_array_equal(again, flows)
        stops = [*boundaries[1:], steps]
        for g, (start, stop) in enumerate(zip(boundaries, stops, strict=True)):
            np.testing.assert_allclose(
                flows[g], per_step[start:stop].sum(axis=0), rtol=1e-12, atol=1e-9
            )
        np.testing.assert_allclose(per_step.sum(axis=1), result.allocated, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(
            per_step.sum(axis=2), result.self_consumed, rtol=1e-12, atol=1e-12
        )
        assert (per_step[:, :, 1] == 0.0).all()  # consumer 1 owns both producers


# --- regressions found by the review of the O(consumers + producers) rounds ----------------


def test_optimal_flows_do_not_follow_the_callers_coefficients() -> None:
    C, P = np.array([[1.0, 2.0, 3.0], [1.5, 1.0, 0.5]]), np.array([[2.0, 3.0], [1.0, 2.0]])
    coefficients = np.array([0.5, 0.3, 0.2])
    result = allocate_arrays(C, P, ProsumerKey(coefficients, "optimal", owners={0: 0}))
    before = result.flows_per_step()
    coefficients[:] = [0.0, 0.0, 1.0]
    np.testing.assert_array_equal(result.flows_per_step(), before)


@pytest.mark.parametrize(
    ("C", "P", "k", "owners"),
    [
        # A tie (C0 = k0 * P1) next to a large producer consumer 0 owns.
        ([[0.1, 1.1]], [[0.0, 1 / 3, 1.1]], [0.3, 1 / 3], {2: 0}),
        # Consumer 0 owns a 1e6 kWh producer; the other makes 1e-10 kWh.
        ([[1.0, 1e7]], [[1e6, 1e-10]], [0.5, 0.5], {0: 0}),
        # Every consumer owns a producer (the review's case 296).
        (
            [[0.05189205, 0.0], [0.41430894, 0.0]],
            [[0.28620573, 4.15933103], [1.94553077, 0.70772884]],
            [0.66202217, 0.33797783],
            {0: 0, 1: 1},
        ),
    ],
)
def test_optimal_owners_do_not_cancel_the_others_offers(C, P, k, owners) -> None:
    """The offers to an owner and the energy a producer delivers are sums, never a total
    minus the owner's part: the result matches the plain-loop twin, and AUTOPROD >= 0 and
    SURPLUS <= PROD hold exactly."""
    C, P, k = np.array(C), np.array(P), np.array(k)
    result = allocate_arrays(C, P, ProsumerKey(k, "optimal", owners=owners))
    columns = np.full(P.shape[1], -1, dtype=np.intp)
    for producer, owner in owners.items():
        columns[producer] = owner
    allocated, flows = reference.prosumer_optimal(C, P, k, columns)
    scale = step_scale(C, P)
    assert_close(result.allocated, allocated, scale, "allocated")
    assert_close(result.flows_per_step(), flows, scale[:, :, None], "flows per step")
    assert (result.self_consumed >= 0.0).all()
    assert (result.surplus <= P).all()


@given(
    data=st.data(),
    consumers=st.integers(1, 4),
    producers=st.integers(1, 3),
)
def test_optimal_keeps_autoprod_and_surplus_in_range_exactly(data, consumers, producers) -> None:
    """On round values, where sums tie exactly, AUTOPROD is in [0, PROD] with no tolerance."""
    grid = st.sampled_from([0.0, 0.1, 0.2, 0.3, 1 / 3, 0.6, 0.7, 1.1])
    C = np.array(data.draw(st.lists(grid, min_size=4 * consumers, max_size=4 * consumers)))
    P = np.array(data.draw(st.lists(grid, min_size=4 * producers, max_size=4 * producers)))
    shares = st.sampled_from([0.0, 0.1, 0.2, 1 / 3, 0.5])
    k = np.array(data.draw(st.lists(shares, min_size=consumers, max_size=consumers)))
    if k.sum() > 1.0:
        k = k / k.sum()
    owners = {
        producer: data.draw(st.integers(0, consumers - 1))
        for producer in range(producers)
        if data.draw(st.booleans())
    }
    C, P = C.reshape(4, consumers), P.reshape(4, producers)
    result = allocate_arrays(C, P, ProsumerKey(k, "optimal", owners=owners))
    assert (result.self_consumed >= 0.0).all()
    assert (result.surplus <= P).all()
    assert (result.surplus >= 0.0).all()
    assert (result.allocated <= C).all()


def test_optimal_offers_that_would_overflow_are_an_error_naming_the_step() -> None:
    """A coefficient of 1e-305 left alone with 1e4 kWh to share: its offer would overflow.
    The plain-loop twin gives NaN here; the key refuses, naming the step."""
    index = pd.date_range("2025-06-01 12:00", periods=1, freq="30min", tz="Europe/Paris")
    consumption = pd.DataFrame([[1.0, 1.0, 2e4]], index=index, columns=["a", "b", "c"])
    production = pd.DataFrame([[1e4]], index=index, columns=["pv"])
    key = ProsumerKey({"a": 0.5, "b": 0.5, "c": 1e-305}, "optimal", owners={})
    with pytest.raises(errors.CoefficientRangeError, match="2025-06-01 12:00") as caught:
        allocate(consumption, production, key)
    assert caught.value.timestamp == index[0]


def test_optimal_relative_scale_that_would_overflow_is_an_error_naming_the_producer() -> None:
    """The others' coefficients sum to a subnormal number next to the owner's 1: the relative
    key's scale ``S / (S - k_owner)`` overflows. It gave NaN allocations, silently (review)."""
    index = pd.date_range("2025-06-01 12:00", periods=1, freq="30min", tz="Europe/Paris")
    consumption = pd.DataFrame([[1.0, 1.0]], index=index, columns=["a", "b"])
    production = pd.DataFrame([[0.0, 1.0]], index=index, columns=["pv-a", "pv"])
    key = ProsumerKey({"a": 1.0, "b": 1e-320}, "optimal", owners={"pv-a": "a"})
    with pytest.raises(errors.CoefficientRangeError, match="'pv-a'") as caught:
        allocate(consumption, production, key)
    assert caught.value.member == "pv-a"


@pytest.mark.parametrize("layout", ["C", "F"])
def test_optimal_exact_tie_by_hand(layout: str) -> None:
    """A consumer offered exactly what it needs stays open one more round (saturation is
    strict), and the rule is discontinuous there: worked by hand, both ways.

    C = (1, 3), P = (3, 3, 1, 1), k = (0.1, 0.1); producer 1 is consumer 1's, producer 3
    consumer 0's, so c = (1, 2, 1, 2) and round 0 offers rho = (3, 6, 1, 2).

    - Round 0: consumer 0 is offered 0.1 * (3 + 6 + 1) = 1, exactly its need: it takes 1 and
      stays open; consumer 1 takes 0.1 * (3 + 1 + 2) = 0.6. Delivered (0.6, 0.6, 0.2, 0.2).
    - Round 1: both open, rho = (2.4 / 0.2, 2.4 / 0.1, 0.8 / 0.2, 0.8 / 0.1) = (12, 24, 4, 8).
      Consumer 0 is offered 4 and needs 0: saturated, takes 0. Consumer 1 is offered
      0.1 * (12 + 4 + 8) = 2.4, exactly its need: takes it, stays open. Delivered
      (1.8, 0.6, 0.6, 1.0).
    - Round 2 saturates consumer 1 (offered 1.6, needs 0); round 3 saturates nobody: 4 rounds.

    Had consumer 0 saturated in round 0 (its tie decided the other way), consumer 1 alone
    would have been offered 40 in round 1 and taken 2.4 of it (factor 0.6): AUTOPROD
    (2.04, 0.6, 0.68, 0.68), the same allocations. The plain-loop twin, whose sums of offers
    round the tie up, gives that; the kernels decide it as written, in both layouts.
    """
    C = np.array([[1.0, 3.0]], order=layout)
    P = np.array([[3.0, 3.0, 1.0, 1.0]])
    result = allocate_arrays(C, P, ProsumerKey([0.1, 0.1], "optimal", owners={1: 1, 3: 0}))
    np.testing.assert_allclose(result.allocated, [[1.0, 3.0]], **TOL)
    np.testing.assert_allclose(result.self_consumed, [[1.8, 0.6, 0.6, 1.0]], **TOL)
    assert result.passes.tolist() == [4]
    flows = result.flows_per_step()[0]
    np.testing.assert_allclose(flows[3], [0.0, 1.0], **TOL)  # producer 3: all to consumer 1
    np.testing.assert_allclose(flows.sum(axis=0), [1.0, 3.0], **TOL)
    _, twin_flows = reference.prosumer_optimal(C, P, np.array([0.1, 0.1]), np.array([-1, 1, -1, 0]))
    np.testing.assert_allclose(twin_flows[0].sum(axis=1), [2.04, 0.6, 0.68, 0.68], **TOL)
