"""repartition.metrics.shapley: hand-worked games, the Shapley axioms, kernels vs NumPy.

The characteristic function is ``v(S) = sum_t sum_{i in S} value[t, i] * A_S[t, i]``, with
``A_S`` the allocation of the pooled production among the consumers of ``S`` only
(docs/metrics.md, "Shapley value"). For N = 3,
``phi_i = v(i)/3 + (v(ij) - v(j))/6 + (v(ik) - v(k))/6 + (v(ijk) - v(jk))/3``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from repartition import allocate, errors, keys
from repartition.kernels import shapley as kernels
from repartition.kernels.attribution import pooled_production
from repartition.metrics import Tariffs, bills, producer_revenue
from repartition.metrics.shapley import (
    _numpy_coalition_values,
    _numpy_marginals,
    coalition_value,
    shapley_values,
)

TOL = {"rtol": 1e-12, "atol": 1e-12}


def community(consumption, production, names=None):
    """Frames on half-hour steps from nested lists (steps x consumers) and a list."""
    consumption = np.asarray(consumption, dtype=np.float64)
    steps, members = consumption.shape
    index = pd.date_range("2025-06-01 10:00", periods=steps, freq="30min", tz="Europe/Paris")
    names = names or [f"c{i}" for i in range(members)]
    return (
        pd.DataFrame(consumption, index=index, columns=names),
        pd.Series(np.asarray(production, dtype=np.float64), index=index, name="PV"),
    )


def random_community(members, steps, seed):
    rng = np.random.default_rng(seed)
    consumption = rng.random((steps, members)) * rng.random(members) * 2.0
    return community(consumption, rng.random(steps) * members * 0.6)


# --- hand-worked games ---------------------------------------------------------------------


def test_three_members_flat_value_by_hand():
    # value 1 per kWh, Prorata: v(S) = sum_t min(E_t(S), P_t), E_t(S) = sum_{i in S} C[t, i].
    # step 1: C = (1, 1, 2), P = 2 -> A 1, B 1, C 2, AB 2, AC 2, BC 2, ABC 2
    # step 2: C = (2, 0, 2), P = 3 -> A 2, B 0, C 2, AB 2, AC 3, BC 2, ABC 3
    # v: A 3, B 1, C 4, AB 4, AC 5, BC 4, ABC 5
    # phi_A = 3/3 + (4 - 1)/6 + (5 - 4)/6 + (5 - 4)/3 = 1 + 1/2 + 1/6 + 1/3 = 2
    # phi_B = 1/3 + (4 - 3)/6 + (4 - 4)/6 + (5 - 5)/3 = 1/2
    # phi_C = 4/3 + (5 - 3)/6 + (4 - 1)/6 + (5 - 4)/3 = 5/2
    consumption, production = community([[1, 1, 2], [2, 0, 2]], [2, 3], ["A", "B", "C"])
    result = shapley_values(consumption, production, 1.0)
    np.testing.assert_allclose(result["shapley"], [2.0, 0.5, 2.5], **TOL)
    assert (result["standard_error"] == 0.0).all()
    assert list(result.index) == ["A", "B", "C"]
    for members, expected in [(["A"], 3), (["B", "C"], 4), (["C", "A"], 5), ([], 0)]:
        assert coalition_value(consumption, production, 1.0, members) == pytest.approx(expected)


def test_two_members_value_per_consumer_by_hand():
    # One step, C = (1, 3), P = 2, value A 1, B 0.25 per kWh.
    # v(A) = 1 x min(1, 2) = 1; v(B) = 0.25 x min(3, 2) = 0.5
    # v(AB): E = 4 > 2, W = 1 x 1 + 0.25 x 3 = 1.75, v = 1.75 x 2 / 4 = 0.875
    # phi_A = (v(A) + v(AB) - v(B)) / 2 = (1 + 0.375) / 2 = 0.6875
    # phi_B = (0.5 + 0.875 - 1) / 2 = 0.1875
    consumption, production = community([[1, 3]], [2], ["A", "B"])
    result = shapley_values(consumption, production, {"A": 1.0, "B": 0.25})
    np.testing.assert_allclose(result["shapley"], [0.6875, 0.1875], **TOL)
    sampled = shapley_values(
        consumption, production, {"A": 1.0, "B": 0.25}, exact_limit=0, samples=64, seed=3
    )
    # Two orders only: A first gives (1, -0.125), B first gives (0.375, 0.5); rows sum to v(N).
    np.testing.assert_allclose(sampled["shapley"].sum(), 0.875, **TOL)


def test_equal_share_by_hand():
    # EqualShare, one step, C = (1, 4, 6), P = 7, value 1: v(S) = min(E(S), 7).
    # v: A 1, B 4, C 6, AB 5, AC 7, BC 7, ABC 7
    # phi_A = 1/3 + (5 - 4)/6 + (7 - 6)/6 + (7 - 7)/3 = 2/3
    # phi_B = 4/3 + (5 - 1)/6 + (7 - 6)/6 + (7 - 7)/3 = 13/6
    # phi_C = 6/3 + (7 - 1)/6 + (7 - 4)/6 + (7 - 5)/3 = 25/6
    consumption, production = community([[1, 4, 6]], [7])
    result = shapley_values(consumption, production, 1.0, key=keys.EqualShare())
    np.testing.assert_allclose(result["shapley"], [2 / 3, 13 / 6, 25 / 6], **TOL)


def test_coalitions_are_allocated_row_major(monkeypatch):
    """Each coalition's columns reach the key row-major (one kernel on a few columns), not as
    the column-major array that fancy indexing on columns gives (the member-major kernels'
    passes cost ten times more there); the values are unchanged."""
    import repartition.metrics.shapley as module

    consumption, production = random_community(4, 48, seed=5)
    expected = shapley_values(consumption, production, 1.0, key=keys.EqualShare())
    layouts = []
    original = module.allocate_arrays

    def recording(values, *args, **kwargs):
        layouts.append(values.flags.c_contiguous)
        return original(values, *args, **kwargs)

    monkeypatch.setattr(module, "allocate_arrays", recording)
    result = shapley_values(consumption, production, 1.0, key=keys.EqualShare())
    assert len(layouts) == 2**4 - 1
    assert all(layouts)
    pd.testing.assert_frame_equal(result, expected, check_exact=True)


# --- axioms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [keys.Prorata(), keys.EqualShare(), lambda s: keys.Static(np.full(len(s), 0.2))],
    ids=["prorata", "equal", "static"],
)
def test_efficiency_symmetry_null_player(key):
    consumption, production = random_community(3, 6, seed=1)
    consumption["twin"] = consumption["c0"]  # identical to c0
    consumption["idle"] = 0.0  # consumes nothing
    result = shapley_values(consumption, production, 0.2, key=key)
    grand = coalition_value(consumption, production, 0.2, list(consumption.columns), key=key)
    np.testing.assert_allclose(result["shapley"].sum(), grand, **TOL)
    np.testing.assert_allclose(result.loc["twin", "shapley"], result.loc["c0", "shapley"], **TOL)
    assert result.loc["idle", "shapley"] == pytest.approx(0.0, abs=1e-12)


def test_static_without_redistribution_is_additive():
    # A_S[t, i] = min(C, k_i P) does not depend on the others: phi_i = v({i}).
    consumption, production = random_community(3, 5, seed=2)
    coefficients = np.array([0.5, 0.25, 0.125])
    result = shapley_values(
        consumption, production, 1.0, key=lambda s: keys.Static(coefficients[s])
    )
    alone = np.minimum(consumption.to_numpy(), np.outer(production, coefficients)).sum(axis=0)
    np.testing.assert_allclose(result["shapley"], alone, **TOL)


QUARTERS = st.integers(0, 80).map(lambda n: n / 4)  # 0 to 20 kWh in quarters (exact sums)


@given(
    hnp.arrays(np.float64, (3, 4), elements=QUARTERS),
    hnp.arrays(np.float64, 3, elements=QUARTERS),
)
def test_axioms_property(consumption, production):
    consumption, production = community(consumption, production)
    consumption["twin"] = consumption["c0"]
    consumption["idle"] = 0.0
    result = shapley_values(consumption, production, 0.25)
    allocated = allocate(consumption, production, keys.Prorata()).allocated.to_numpy()
    total = 0.25 * allocated.sum()
    np.testing.assert_allclose(result["shapley"].sum(), total, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(result.loc["twin", "shapley"], result.loc["c0", "shapley"], **TOL)
    assert result.loc["idle", "shapley"] == 0.0
    # Anonymity: reordering the consumers reorders their values.
    reordered = shapley_values(consumption.iloc[:, ::-1], production, 0.25)
    np.testing.assert_allclose(
        reordered["shapley"], result["shapley"].iloc[::-1], rtol=1e-9, atol=1e-12
    )


def test_grand_coalition_is_community_gain():
    # With Tariffs, value = retail - surplus: v(N) = savings + producers' gain.
    consumption, production = random_community(5, 8, seed=4)
    tariffs = Tariffs(retail={f"c{i}": 0.2 + 0.01 * i for i in range(5)}, local=0.1, surplus=0.05)
    result = shapley_values(consumption, production, tariffs)
    allocation = allocate(consumption, production, keys.Prorata())
    gain = (
        bills(allocation, tariffs)["savings"].sum()
        + producer_revenue(allocation, tariffs)["gain"].sum()
    )
    np.testing.assert_allclose(result["shapley"].sum(), gain, rtol=1e-12)


# --- sampling ------------------------------------------------------------------------------


def test_monte_carlo_agrees_with_exact():
    consumption, production = random_community(6, 48, seed=5)
    exact = shapley_values(consumption, production, 0.2)
    sampled = shapley_values(consumption, production, 0.2, exact_limit=0, samples=2000, seed=7)
    assert (sampled["standard_error"] > 0).all()
    deviation = (sampled["shapley"] - exact["shapley"]).abs()
    assert (deviation <= 4 * sampled["standard_error"]).all()
    np.testing.assert_allclose(sampled["shapley"].sum(), exact["shapley"].sum(), rtol=1e-12)
    again = shapley_values(consumption, production, 0.2, exact_limit=0, samples=2000, seed=7)
    pd.testing.assert_frame_equal(sampled, again)


def test_monte_carlo_general_key_agrees_with_exact():
    consumption, production = random_community(4, 6, seed=6)
    key = keys.EqualShare()
    exact = shapley_values(consumption, production, 1.0, key=key)
    sampled = shapley_values(
        consumption, production, 1.0, key=key, exact_limit=0, samples=300, seed=1
    )
    deviation = (sampled["shapley"] - exact["shapley"]).abs()
    assert (deviation <= 4 * sampled["standard_error"] + 1e-12).all()


# --- kernels vs NumPy, closed form vs allocate --------------------------------------------


def test_kernels_agree_with_numpy():
    consumption, production = random_community(7, 30, seed=8)
    c = np.ascontiguousarray(consumption.to_numpy())
    value = np.random.default_rng(0).random(c.shape)
    total = pooled_production(production.to_numpy()[:, None])
    values = kernels.prorata_coalition_values(c, total, value, 3)
    np.testing.assert_allclose(values, _numpy_coalition_values(c, total, value), rtol=1e-12)
    permutations = np.random.default_rng(1).permuted(np.tile(np.arange(7), (20, 1)), axis=1)
    marginals = kernels.prorata_permutation_marginals(
        np.ascontiguousarray(c.T), total, np.ascontiguousarray(value.T), permutations
    )
    expected = _numpy_marginals(c, total, value, permutations)
    np.testing.assert_allclose(marginals, expected, rtol=1e-10, atol=1e-12)


def test_closed_form_agrees_with_allocate():
    consumption, production = random_community(5, 12, seed=9)
    fast = shapley_values(consumption, production, 0.3)
    general = shapley_values(consumption, production, 0.3, key=lambda s: keys.Prorata())
    np.testing.assert_allclose(fast["shapley"], general["shapley"], rtol=1e-12)


def test_time_of_use_values():
    consumption, production = random_community(3, 4, seed=10)
    table = pd.DataFrame(0.2, index=consumption.index, columns=consumption.columns)
    table.iloc[2:] = 0.1
    result = shapley_values(consumption, production, table)
    allocated = allocate(consumption, production, keys.Prorata()).allocated
    np.testing.assert_allclose(result["shapley"].sum(), (table * allocated).to_numpy().sum())


# --- bad input -----------------------------------------------------------------------------


def test_errors():
    consumption, production = community([[1, 3]], [2], ["A", "B"])
    with pytest.raises(TypeError, match="function of a coalition"):
        shapley_values(consumption, production, 1.0, key=keys.Static([0.5, 0.5]))
    with pytest.raises(ValueError, match="samples"):
        shapley_values(consumption, production, 1.0, samples=1)
    with pytest.raises(errors.UnknownMemberError, match="'Z'"):
        coalition_value(consumption, production, 1.0, ["Z"])
    with pytest.raises(errors.MissingValueError, match="value per kWh of 'B'") as caught:
        shapley_values(consumption, production, {"A": 1.0, "B": float("nan")})
    assert caught.value.member == "B"
    with pytest.raises(errors.MissingMemberError, match="value per kWh"):
        shapley_values(consumption, production, {"A": 1.0})
    with pytest.raises(ValueError, match="one surplus price"):
        shapley_values(
            consumption, production, Tariffs(retail=0.2, local=0.1, surplus={"PV": 0.05, "X": 0})
        )


def test_signed_values_as_plain_values_or_tariffs():
    """A value per kWh below zero is accepted, as the same value through Tariffs (retail
    below the surplus price): v(S) = -0.1 x what S receives, and the values still sum to v(N)."""
    consumption, production = community([[1, 4, 6]], [7])
    plain = shapley_values(consumption, production, -0.1, key=keys.EqualShare())
    through_tariffs = shapley_values(
        consumption, production, Tariffs(retail=0.1, local=0.0, surplus=0.2), key=keys.EqualShare()
    )
    # -0.1 x the values worked out in test_equal_share_by_hand.
    np.testing.assert_allclose(plain["shapley"], [-2 / 30, -13 / 60, -25 / 60], **TOL)
    pd.testing.assert_frame_equal(plain, through_tariffs, check_exact=False, rtol=1e-14)
    with pytest.raises(errors.NonFiniteError, match="value per kWh"):
        shapley_values(consumption, production, float("-inf"))


def test_too_many_members_to_enumerate():
    consumption, production = random_community(25, 1, seed=11)
    with pytest.raises(ValueError, match="2\\^25 coalitions"):
        shapley_values(consumption, production, 1.0, exact_limit=30)
