"""The priority cascade: ordered groups, each served by its own key on what is left.

Golden cases are worked by hand in the comments from docs/rules.md ("Priority cascade", pooled
attribution); the invariants of docs/rules.md are hypothesis properties with the helpers of
test_properties.py; then the cascade against its definition: one group is its inner key, each
group is served as ``allocate`` on its columns and the production left, the first group is never
worse off, and the NumPy twin ``reference.priority_cascade`` agrees.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import allocate, allocate_arrays, errors, keys, reference
from repartition.keys import SharingKey
from repartition.keys.cascade import CascadeGroup, PriorityCascade
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


def half_hours(periods: int) -> pd.DatetimeIndex:
    return pd.date_range("2025-06-01 10:00", periods=periods, freq="30min", tz="Europe/Paris")


# --- generators ----------------------------------------------------------------------------

INNER_KINDS = [
    "prorata",
    "static",
    "static-redistributed",
    "dynamic",
    "equal-share",
    "weighted-share",
    "italian",
    "full-dynamic",
    "prosumer-optimal",
]
POOLED_KINDS = INNER_KINDS[:6]


def inner_key(data: st.DataObject, kind: str, members: list[str], frames: gen.Frames) -> SharingKey:
    """A key of ``kind`` whose coefficients name ``members`` only."""
    size, steps, producers = len(members), len(frames.index), frames.producers
    if kind == "prorata":
        return keys.Prorata()
    if kind in ("static", "static-redistributed"):
        shares = pd.Series(data.draw(gen.static_coefficients(size)), index=members)
        return keys.Static(shares, redistribute=kind == "static-redistributed")
    if kind == "dynamic":
        table = data.draw(gen.dynamic_tables(steps, size))
        return keys.Dynamic(pd.DataFrame(table, index=frames.index, columns=members))
    if kind == "equal-share":
        return keys.EqualShare()
    if kind == "weighted-share":
        weights = data.draw(
            st.lists(
                st.one_of(st.just(0.0), st.floats(1e-3, 1e3)), min_size=size, max_size=size
            ).filter(any)
        )
        return keys.WeightedShare(pd.Series(weights, index=members))
    if kind == "italian":
        order = data.draw(
            st.lists(st.integers(0, 3), min_size=len(producers), max_size=len(producers))
        )
        return keys.ItalianKey(dict(zip(producers, order, strict=True)))
    if kind == "prosumer-optimal":  # flows rebuilt on demand (PairSplit.tables_for)
        shares = pd.Series(data.draw(gen.static_coefficients(size)), index=members)
        owner = data.draw(st.sampled_from(members))
        return keys.ProsumerKey(shares, "optimal", owners={producers[0]: owner})
    tables = data.draw(gen.full_dynamic_tables(len(producers), steps, size))
    return keys.FullDynamic(
        {
            producer: pd.DataFrame(table, index=frames.index, columns=members)
            for producer, table in zip(producers, tables, strict=True)
        }
    )


@st.composite
def partitions(draw: st.DrawFn, members: list[str], runs: bool = False) -> list[list[str]]:
    """``members`` shuffled and cut into 1 to 3 non-empty groups (``runs``: not shuffled, so
    that each group is a run of consecutive columns, which the cascade serves in place)."""
    shuffled = members if runs else draw(st.permutations(members))
    count = draw(st.integers(1, min(3, len(members))))
    cuts = (
        sorted(
            draw(st.sets(st.integers(1, len(members) - 1), min_size=count - 1, max_size=count - 1))
        )
        if count > 1
        else []
    )
    bounds = [0, *cuts, len(members)]
    return [list(shuffled[a:b]) for a, b in itertools.pairwise(bounds)]


def make_cascade(
    data: st.DataObject, frames: gen.Frames, kinds: list[str], runs: bool = False
) -> tuple[PriorityCascade, list[list[str]]]:
    groups = data.draw(partitions(list(frames.consumers), runs), label="groups")
    specs = [
        (members, inner_key(data, data.draw(st.sampled_from(kinds), label="kind"), members, frames))
        for members in groups
    ]
    return PriorityCascade(specs), groups


# --- invariants, flows and member order ----------------------------------------------------


@given(case=gen.community_frames(), data=st.data())
def test_invariants_and_pooled_flows_with_pooled_inner_keys(case, data: st.DataObject) -> None:
    _, frames = case
    key, _ = make_cascade(data, frames, POOLED_KINDS)
    allocation = allocate(frames.consumption, frames.production, key)
    check_invariants(allocation)
    check_flows(allocation, frames)
    check_pooled_flows(allocation)


@given(case=gen.community_frames(), data=st.data())
def test_invariants_and_flows_with_any_inner_keys(case, data: st.DataObject) -> None:
    _, frames = case
    key, _ = make_cascade(data, frames, INNER_KINDS)
    allocation = allocate(frames.consumption, frames.production, key)
    check_invariants(allocation)
    check_flows(allocation, frames)


@given(case=gen.community_frames(), data=st.data())
def test_member_order_does_not_change_results(case, data: st.DataObject) -> None:
    _, frames = case
    key, _ = make_cascade(data, frames, INNER_KINDS)
    check_member_order(frames, key, data)


@given(case=gen.community_frames(), data=st.data())
def test_row_major_and_member_major_data_agree(case, data: st.DataObject) -> None:
    """Groups are cut out of the data in its own layout; both layouts give the same result."""
    _, frames = case
    key, _ = make_cascade(data, frames, INNER_KINDS)
    member_major = allocate(frames.consumption, frames.production, key)
    rows = np.ascontiguousarray(frames.consumption.to_numpy())
    row_frame = pd.DataFrame(rows, index=frames.index, columns=frames.consumers, copy=False)
    row_major = allocate(row_frame, frames.production, key)
    scale = step_scale(rows, frames.production.to_numpy())
    for table in ("allocated", "grid_supply", "self_consumed", "surplus"):
        want, got = getattr(member_major, table), getattr(row_major, table)
        assert_close(got.to_numpy(), want.to_numpy(), scale, f"{table}, row-major")


# --- the cascade against its definition ----------------------------------------------------


@pytest.mark.parametrize("kind", INNER_KINDS)
@given(case=gen.community_frames(), data=st.data())
def test_one_group_is_its_inner_key(kind: str, case, data: st.DataObject) -> None:
    _, frames = case
    members = list(frames.consumers)
    inner = inner_key(data, kind, members, frames)
    cascade = allocate(frames.consumption, frames.production, PriorityCascade([(members, inner)]))
    alone = allocate(frames.consumption, frames.production, inner)
    for table in ("allocated", "grid_supply", "self_consumed", "surplus"):
        np.testing.assert_array_equal(getattr(cascade, table), getattr(alone, table), table)
    np.testing.assert_allclose(cascade.flows(), alone.flows(), rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("runs", [False, True], ids=["any-groups", "runs-of-columns"])
@given(case=gen.community_frames(), data=st.data())
def test_each_group_is_served_as_if_alone_on_what_is_left(
    runs: bool, case, data: st.DataObject
) -> None:
    """Chain public ``allocate`` calls: group g on its columns and the previous surplus.

    With groups in runs of columns of member-major frames, the groups' keys write into the
    cascade's results in place; otherwise into their own arrays, copied in."""
    _, frames = case
    key, groups = make_cascade(data, frames, INNER_KINDS, runs)
    cascade = allocate(frames.consumption, frames.production, key)
    scale = step_scale(frames.consumption.to_numpy(), frames.production.to_numpy())
    left = frames.production
    for members, group in zip(groups, key.cascade_groups, strict=True):
        alone = allocate(frames.consumption[members], left, group.key)
        assert_close(
            cascade.allocated[members].to_numpy(), alone.allocated.to_numpy(), scale, "group"
        )
        left = alone.surplus
    assert_close(cascade.surplus.to_numpy(), left.to_numpy(), scale, "surplus after the last")


SAME_RULE_OVER_EVERYONE: dict[str, SharingKey] = {
    "prorata": keys.Prorata(),
    "equal-share": keys.EqualShare(),
}


@pytest.mark.parametrize("kind", ["prorata", "equal-share"])
@given(case=gen.community_frames(), data=st.data())
def test_first_group_is_never_worse_off(kind: str, case, data: st.DataObject) -> None:
    """Its members get at least what the same rule gives them over everyone, and the group
    takes ``min(P_tot, its demand)`` (both rules use all they can)."""
    _, frames = case
    key, groups = make_cascade(data, frames, INNER_KINDS)
    first = groups[0]
    inner = SAME_RULE_OVER_EVERYONE[kind]
    cascade = PriorityCascade(
        [(first, inner), *((g.members, g.key) for g in key.cascade_groups[1:])]
    )
    prioritised = allocate(frames.consumption, frames.production, cascade)
    shared = allocate(frames.consumption, frames.production, inner)
    C, P = frames.consumption.to_numpy(), frames.production.to_numpy()
    scale = step_scale(C, P)
    assert_le(
        shared.allocated[first].to_numpy(),
        prioritised.allocated[first].to_numpy(),
        scale,
        "first group",
    )
    served = prioritised.allocated[first].to_numpy().sum(axis=1)
    demand = frames.consumption[first].to_numpy().sum(axis=1)
    assert_close(served, np.minimum(P.sum(axis=1), demand), scale[:, 0], "first group's total")


RULES: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "prorata": reference.prorata,
    "equal-share": reference.max_min_fair,
}


@given(case=gen.community_frames(), data=st.data())
def test_agrees_with_the_numpy_twin(case, data: st.DataObject) -> None:
    community, _ = case
    consumers = community.consumers
    groups = data.draw(partitions([str(i) for i in range(consumers)]))
    kinds = [data.draw(st.sampled_from(sorted(RULES))) for _ in groups]
    inner = {"prorata": keys.Prorata(), "equal-share": keys.EqualShare()}
    positions = [[int(member) for member in members] for members in groups]
    key = PriorityCascade([(p, inner[k]) for p, k in zip(positions, kinds, strict=True)])
    result = allocate_arrays(community.consumption, community.production, key)
    allocated, self_consumed = reference.priority_cascade(
        community.consumption,
        community.production,
        [(np.array(p), RULES[k]) for p, k in zip(positions, kinds, strict=True)],
    )
    scale = step_scale(community.consumption, community.production)
    # The twin's equal share is a bisection to ~1e-15 of the production.
    assert_close(result.allocated, allocated, scale, "allocated")
    assert_close(result.self_consumed, self_consumed, scale, "self_consumed")


# --- golden cases, by hand -----------------------------------------------------------------


def golden_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    index = half_hours(3)
    consumption = pd.DataFrame(
        {"a": [2.0, 2.0, 1.0], "b": [2.0, 4.0, 0.0], "c": [3.0, 1.0, 1.0], "d": [5.0, 0.0, 2.0]},
        index=index,
    )
    production = pd.DataFrame({"PV1": [6.0, 3.0, 4.0], "PV2": [2.0, 0.0, 4.0]}, index=index)
    return consumption, production


PUBLIC_FIRST = PriorityCascade(
    [
        ("public", ["a", "b"], keys.Prorata()),
        ("households", ["c", "d"], keys.Static({"c": 0.5, "d": 0.5}, redistribute=True)),
    ]
)


class TestGolden:
    def test_allocated_self_consumed_surplus(self):
        consumption, production = golden_frames()
        allocation = allocate(consumption, production, PUBLIC_FIRST)
        # Step 1, P_tot = 6 + 2 = 8. Public: demand 2 + 2 = 4 <= 8, prorata ratio 1: a = 2,
        #   b = 2, taken 4 * 6/8 = 3 from PV1 and 4 * 2/8 = 1 from PV2; left PV1 3, PV2 1 (4).
        #   Households: 0.5 * 4 = 2 each, c = min(3, 2) = 2, d = min(5, 2) = 2; nobody is
        #   saturated, all 4 used: left 0. AUTOPROD PV1 6, PV2 2; surplus 0.
        # Step 2, P_tot = 3 + 0 = 3. Public: demand 2 + 4 = 6 > 3, ratio 1/2: a = 1, b = 2;
        #   left 0, so c = d = 0. AUTOPROD PV1 3, PV2 0.
        # Step 3, P_tot = 4 + 4 = 8. Public: a = 1, b = 0 (demand 1); left PV1 3.5, PV2 3.5
        #   (7). Households: 0.5 * 7 = 3.5 each, c = min(1, 3.5) = 1, d = min(2, 3.5) = 2,
        #   both saturated: 3 used of 7, left 4 = surplus, split 2 / 2. AUTOPROD 1 + 3 = 4,
        #   split 2 / 2 (pooled: 4 * 4/8 each).
        expected = [[2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 0.0, 0.0], [1.0, 0.0, 1.0, 2.0]]
        np.testing.assert_allclose(allocation.allocated.to_numpy(), expected, **TOL)
        np.testing.assert_allclose(
            allocation.self_consumed.to_numpy(), [[6.0, 2.0], [3.0, 0.0], [2.0, 2.0]], **TOL
        )
        np.testing.assert_allclose(
            allocation.surplus.to_numpy(), [[0.0, 0.0], [0.0, 0.0], [2.0, 2.0]], **TOL
        )
        # COMPLEMENT = C - A: a 0, 1, 0; d 3, 0, 0.
        np.testing.assert_allclose(allocation.grid_supply["a"].to_numpy(), [0.0, 1.0, 0.0], **TOL)
        np.testing.assert_allclose(allocation.grid_supply["d"].to_numpy(), [3.0, 0.0, 0.0], **TOL)

    def test_flows_are_pooled(self):
        consumption, production = golden_frames()
        flows = allocate(consumption, production, PUBLIC_FIRST).flows()
        # flow = A * P_j / P_tot, summed over the 3 steps:
        # PV1 -> a: 2 * 6/8 + 1 * 3/3 + 1 * 4/8 = 1.5 + 1 + 0.5 = 3
        # PV2 -> a: 2 * 2/8 + 0 + 1 * 4/8 = 0.5 + 0.5 = 1
        # PV1 -> d: 2 * 6/8 + 0 + 2 * 4/8 = 1.5 + 1 = 2.5; PV2 -> d: 2 * 2/8 + 2 * 4/8 = 1.5
        np.testing.assert_allclose(flows.loc[["PV1", "PV2"], "a"].to_numpy(), [3.0, 1.0], **TOL)
        np.testing.assert_allclose(flows.loc[["PV1", "PV2"], "d"].to_numpy(), [2.5, 1.5], **TOL)

    def test_order_matters(self):
        consumption, production = golden_frames()
        households_first = PriorityCascade(list(reversed(PUBLIC_FIRST.cascade_groups)))
        allocation = allocate(consumption, production, households_first)
        # Step 2, P_tot 3: households first, c = min(1, 0.5 * 3) = 1, d = 0 (consumes 0);
        #   the redistribution gives d nothing (saturated at 0): 1 used, left 2.
        #   Public on 2: demand 6, ratio 1/3: a = 2/3, b = 4/3 (instead of 1 and 2).
        # Step 1: households c = 3, d = 5 -> 0.5 * 8 = 4 each, c saturated at 3, d gets
        #   min(5, 4 + 1) = 5: 8 used, the public gets nothing (instead of 2 and 2).
        np.testing.assert_allclose(
            allocation.allocated.iloc[:2].to_numpy(),
            [[0.0, 0.0, 3.0, 5.0], [2 / 3, 4 / 3, 1.0, 0.0]],
            **TOL,
        )

    def test_italian_group_attributes_its_energy_by_merit_order(self):
        consumption, production = golden_frames()
        key = PriorityCascade(
            [(["a", "b"], keys.Prorata()), (["c", "d"], keys.ItalianKey({"PV1": 2, "PV2": 1}))]
        )
        allocation = allocate(consumption, production, key)
        # Step 3, P = 4, 4. Public: a = 1, pooled: 0.5 from each; left PV1 3.5, PV2 3.5.
        #   Households, Italy: E = min(7, 1 + 2) = 3, prorata c = 1, d = 2 (both served);
        #   PV2 is older: it gives all 3 (it has 3.5 left). AUTOPROD PV1 0.5, PV2 3.5;
        #   surplus PV1 3.5, PV2 0.5.
        np.testing.assert_allclose(allocation.self_consumed.iloc[2].to_numpy(), [0.5, 3.5], **TOL)
        np.testing.assert_allclose(allocation.surplus.iloc[2].to_numpy(), [3.5, 0.5], **TOL)
        step = allocation.flows("step").loc[consumption.index[2]]
        # Flows at step 3: a gets 0.5 + 0.5; c and d only from PV2 (c 1, d 2).
        np.testing.assert_allclose(step.loc["PV1"].to_numpy(), [0.5, 0.0, 0.0, 0.0], **TOL)
        np.testing.assert_allclose(step.loc["PV2"].to_numpy(), [0.5, 0.0, 1.0, 2.0], **TOL)

    def test_arrays_and_passes(self):
        consumption, production = golden_frames()
        key = PriorityCascade([([0, 1], keys.Prorata()), ([3, 2], keys.EqualShare())])
        result = allocate_arrays(consumption.to_numpy(), production.to_numpy(), key)
        # Step 1 as above: households on 4, equal share 2 and 2.
        np.testing.assert_allclose(result.allocated[0], [2.0, 2.0, 2.0, 2.0], **TOL)
        assert result.passes is not None
        assert result.passes.shape == (3,)

    def test_nested_cascade_and_group_objects(self):
        consumption, production = golden_frames()
        inner = PriorityCascade([(["c"], keys.Prorata()), (["d"], keys.Prorata())])
        key = PriorityCascade(
            [CascadeGroup(("a", "b"), keys.Prorata(), "public"), ("homes", ["c", "d"], inner)]
        )
        allocation = allocate(consumption, production, key)
        # Step 1: public 2 + 2, left 4; c first takes 3, d the last 1.
        np.testing.assert_allclose(
            allocation.allocated.iloc[0].to_numpy(), [2.0, 2.0, 3.0, 1.0], **TOL
        )
        assert key.label() == (
            "priority cascade: public (prorata) > homes (priority cascade: group 1 (prorata) > "
            "group 2 (prorata))"
        )

    def test_inputs_are_not_mutated(self):
        consumption, production = golden_frames()
        before = consumption.copy(), production.copy()
        allocate(consumption, production, PUBLIC_FIRST)
        pd.testing.assert_frame_equal(consumption, before[0])
        pd.testing.assert_frame_equal(production, before[1])


# --- bad groups ----------------------------------------------------------------------------


class TestErrors:
    def test_unknown_member(self):
        consumption, production = golden_frames()
        key = PriorityCascade([(["a", "b", "z"], keys.Prorata()), (["c", "d"], keys.Prorata())])
        with pytest.raises(errors.UnknownMemberError, match="'z'") as info:
            allocate(consumption, production, key)
        assert info.value.member == "z"
        assert "group 1" in str(info.value)

    def test_missing_member(self):
        consumption, production = golden_frames()
        key = PriorityCascade([(["a", "b"], keys.Prorata()), (["d"], keys.Prorata())])
        with pytest.raises(errors.MissingMemberError, match="'c'") as info:
            allocate(consumption, production, key)
        assert info.value.member == "c"

    def test_member_in_two_groups(self):
        with pytest.raises(errors.DuplicateMemberError, match=r"'b'.*'public'.*'homes'") as info:
            PriorityCascade(
                [("public", ["a", "b"], keys.Prorata()), ("homes", ["b", "c"], keys.Prorata())]
            )
        assert info.value.member == "b"

    def test_member_twice_in_one_group(self):
        with pytest.raises(errors.DuplicateMemberError, match="'a' twice") as info:
            PriorityCascade([(["a", "a"], keys.Prorata())])
        assert info.value.member == "a"

    def test_coefficient_of_a_member_of_another_group(self):
        consumption, production = golden_frames()
        key = PriorityCascade(
            [
                (["a", "b"], keys.Static({"a": 0.5, "b": 0.5, "c": 0.0})),
                (["c", "d"], keys.Prorata()),
            ]
        )
        with pytest.raises(errors.UnknownMemberError, match="'c'"):
            allocate(consumption, production, key)

    @pytest.mark.parametrize(
        ("groups", "error", "text"),
        [
            ([], errors.NoMembersError, "no group"),
            ([("empty", [], keys.Prorata())], errors.NoMembersError, "'empty' has no member"),
            ([(["a"], "prorata")], TypeError, "sharing key"),
            ([("abc", keys.Prorata())], TypeError, "list of member ids"),
            ([["a"]], TypeError, "must be \\(members, key\\)"),
            ("a", TypeError, "list of groups"),
        ],
    )
    def test_bad_groups(self, groups, error, text):
        with pytest.raises(error, match=text):
            PriorityCascade(groups)
