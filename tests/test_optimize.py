"""repartition.optimize: hand-worked optima, an independent LP (scipy's linprog), the greedy
kernel, infeasible cases, the key file, storage, and the invariants on random cases."""

from __future__ import annotations

import io
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from repartition import allocate, errors, keys
from repartition.io import read_dynamic_key
from repartition.metrics import Tariffs
from repartition.optimize import (
    ClosestToReference,
    MaxMinFairness,
    MaxPoolShare,
    MaxSavings,
    MaxSelfConsumption,
    MinBills,
    MinSelfSufficiency,
    OptimalKey,
    ReferenceBounds,
    Storage,
    optimize,
)
from test_properties import check_invariants

INDEX = pd.date_range("2025-06-02 12:00", periods=4, freq="30min", tz="Europe/Paris")


def frames(consumption, production, index=None):
    consumption = np.asarray(consumption, dtype=float)
    index = (
        index
        if index is not None
        else pd.date_range(
            "2025-06-02 10:00", periods=len(consumption), freq="30min", tz="Europe/Paris"
        )
    )
    members = [f"3000000000000{i}" for i in range(consumption.shape[1])]
    return (
        pd.DataFrame(consumption, index=index, columns=members),
        pd.DataFrame(
            np.asarray(production, dtype=float).reshape(len(index), -1),
            index=index,
            columns=[
                f"PV{j}" for j in range(np.asarray(production).reshape(len(index), -1).shape[1])
            ],
        ),
    )


# --- hand-worked optima ----------------------------------------------------------------------


def test_a_floor_moves_energy_to_the_member_who_values_it_less():
    # One step, 2 kWh for two consumers of 2 kWh; A saves 0.20 EUR/kWh, B 0.10.
    # Without a floor A gets all of it; with a 25 % floor B must get 0.5 kWh.
    consumption, production = frames([[2.0, 2.0]], [2.0])
    a, b = consumption.columns
    tariffs = Tariffs(retail={a: 0.30, b: 0.20}, local=0.10, surplus=0.05)
    free = optimize(consumption, production, MaxSavings(tariffs))
    assert free.allocation.allocated.iloc[0].tolist() == [2.0, 0.0]
    assert free.periods[0].method == "greedy"
    floored = optimize(consumption, production, MaxSavings(tariffs), [MinSelfSufficiency(0.25)])
    np.testing.assert_allclose(floored.allocation.allocated.iloc[0], [1.5, 0.5], atol=1e-9)
    assert floored.objective == pytest.approx(1.5 * 0.2 + 0.5 * 0.1, abs=1e-9)
    assert floored.periods[0].method == "min-cost flow + HiGHS"
    assert floored.periods[0].gap <= 1e-9


def test_max_min_self_sufficiency_equalises_the_rates_over_the_horizon():
    # Step 1: 3 kWh for A (4 kWh) and B (2 kWh); step 2: nothing produced, 1 kWh each.
    # Over the horizon A consumes 5 kWh, B 3: equal rates s need 5s + 3s = 3, s = 3/8,
    # so A receives 15/8 and B 9/8 kWh (Prorata would give A 2 and B 1: B at 1/3).
    consumption, production = frames([[4.0, 2.0], [1.0, 1.0]], [[3.0], [0.0]])
    result = optimize(consumption, production, MaxMinFairness())
    shares = result.allocation.allocated.to_numpy()
    np.testing.assert_allclose(shares[0], [15 / 8, 9 / 8], atol=1e-7)
    assert result.objective == pytest.approx(3 / 8, abs=1e-7)
    assert result.periods[0].prorata == pytest.approx(1 / 3, abs=1e-12)


def test_max_pool_share_caps_each_coefficient():
    consumption, production = frames([[5.0, 5.0]], [4.0])
    result = optimize(
        consumption, production, MaxSelfConsumption(), [MaxPoolShare(0.6)], horizon=None
    )
    shares = result.allocation.allocated.iloc[0].to_numpy()
    assert shares.max() <= 0.6 * 4.0 + 1e-9
    assert shares.sum() == pytest.approx(4.0, abs=1e-9)


def test_reference_bounds_keep_coefficients_in_their_band():
    consumption, production = frames([[1.0, 3.0], [2.0, 2.0]], [[2.0], [2.0]])
    a, b = consumption.columns
    tariffs = Tariffs(retail={a: 0.30, b: 0.20}, local=0.10, surplus=0.05)
    result = optimize(
        consumption, production, MaxSavings(tariffs), [ReferenceBounds(keys.Prorata(), 0.1)]
    )
    coefficients = result.coefficients().to_numpy()
    prorata = allocate(consumption, production, keys.Prorata()).allocated.to_numpy() / 2.0
    assert np.abs(coefficients - prorata).max() <= 0.1 + 1e-9
    # A is worth more: it gets the top of its band at both steps.
    np.testing.assert_allclose(coefficients[:, 0], prorata[:, 0] + 0.1, atol=1e-9)


def test_closest_to_a_reference_under_a_floor_moves_the_least_energy():
    # Prorata gives B 0.5 of 2 kWh (25 %); a 50 % floor needs 1 kWh for B: move exactly
    # 0.5 kWh from A to B (L1 distance 1.0), and the L2 optimum is the same here.
    consumption, production = frames([[6.0, 2.0]], [2.0])
    floor = [MinSelfSufficiency({consumption.columns[1]: 0.5})]
    for norm in ("l1", "l2"):
        result = optimize(consumption, production, ClosestToReference(keys.Prorata(), norm), floor)
        np.testing.assert_allclose(result.allocation.allocated.iloc[0], [1.0, 1.0], atol=1e-6)


def test_storage_carries_noon_to_the_evening_with_its_losses():
    # Step 1: 2 kWh produced, nothing consumed; step 2: nothing produced, 1 kWh consumed.
    # A 90 % round trip: 1 kWh out needs 1 / 0.9 kWh in.
    consumption, production = frames([[0.0], [1.0]], [[2.0], [0.0]])
    storage = Storage(capacity=5.0, power=10.0, round_trip_efficiency=0.9)
    result = optimize(consumption, production, MaxSelfConsumption(), storage=storage)
    allocation = result.allocation
    assert list(allocation.consumers)[-1] == "storage"
    assert allocation.allocated.iloc[1, 0] == pytest.approx(1.0, abs=1e-7)
    schedule = result.storage
    assert schedule["discharge"].iloc[1] == pytest.approx(1.0, abs=1e-7)
    assert schedule["charge"].sum() >= 1 / 0.9 - 1e-7
    assert (schedule["state_of_charge"] >= 0).all()
    check_invariants(allocation)


# --- against an independent LP ----------------------------------------------------------------


def linprog_savings(C, P_tot, values, floors):
    """max sum v A s.t. 0 <= A <= C, sum_i A[t] <= P_tot[t], sum_t A[:, i] >= floors[i],
    written densely for scipy's linprog (HiGHS inside scipy, another build and interface)."""
    T, N = C.shape
    cost = -values.ravel()
    rows = []
    bounds = []
    for t in range(T):
        row = np.zeros(T * N)
        row[t * N : (t + 1) * N] = 1
        rows.append(row)
        bounds.append(P_tot[t])
    for i in range(N):
        row = np.zeros(T * N)
        row[i::N] = -1
        rows.append(row)
        bounds.append(-floors[i])
    result = linprog(
        cost,
        A_ub=np.array(rows),
        b_ub=np.array(bounds),
        bounds=list(zip(np.zeros(T * N), C.ravel(), strict=True)),
        method="highs",
    )
    assert result.status == 0, result.message
    return -result.fun


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    steps=st.integers(1, 6),
    consumers=st.integers(1, 5),
    floor=st.floats(0.0, 0.9),
)
def test_the_optimum_equals_an_independent_lp(seed, steps, consumers, floor):
    rng = np.random.default_rng(seed)
    C = rng.uniform(0, 3, (steps, consumers)) * (rng.random((steps, consumers)) > 0.2)
    P = rng.uniform(0, 4, (steps, 1)) * (rng.random((steps, 1)) > 0.2)
    consumption, production = frames(C, P)
    retail = pd.Series(rng.uniform(0.1, 0.3, consumers), index=consumption.columns)
    tariffs = Tariffs(retail=retail, local=0.1, surplus=0.05)
    # Floors that each consumer can reach alone: a fraction of its own best.
    available = np.minimum(C, P).sum(axis=0)
    consumed = C.sum(axis=0)
    fractions = np.where(consumed > 0, floor * available / np.maximum(consumed, 1e-300), 0.0)
    wanted = pd.Series(fractions / consumers, index=consumption.columns)  # jointly feasible
    result = optimize(
        consumption, production, MaxSavings(tariffs), [MinSelfSufficiency(wanted)], horizon=None
    )
    values = np.broadcast_to(retail.to_numpy() - 0.1, C.shape)
    expected = linprog_savings(C, P[:, 0], values, wanted.to_numpy() * consumed)
    assert result.objective == pytest.approx(expected, rel=1e-7, abs=1e-9)
    check_invariants(result.allocation)
    received = result.allocation.allocated.to_numpy().sum(axis=0)
    assert (received >= wanted.to_numpy() * consumed - 1e-9).all()


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1), steps=st.integers(1, 6), consumers=st.integers(1, 5))
def test_the_greedy_path_is_the_lp_optimum_and_beats_every_key(seed, steps, consumers):
    rng = np.random.default_rng(seed)
    C = rng.uniform(0, 3, (steps, consumers))
    P = rng.uniform(0, 4, (steps, 2))
    consumption, production = frames(C, P)
    retail = pd.Series(rng.uniform(0.1, 0.3, consumers), index=consumption.columns)
    tariffs = Tariffs(retail=retail, local=0.12, surplus=0.05)
    result = optimize(consumption, production, MaxSavings(tariffs), horizon=None)
    assert result.periods[0].method == "greedy"
    values = np.broadcast_to(retail.to_numpy() - 0.12, C.shape)
    expected = linprog_savings(C, P.sum(axis=1), values, np.zeros(consumers))
    assert result.objective == pytest.approx(expected, rel=1e-9, abs=1e-12)
    for key in (keys.Prorata(), keys.EqualShare(), keys.Static(np.full(consumers, 1 / consumers))):
        other = allocate(consumption, production, key).allocated.to_numpy()
        assert (values * other).sum() <= result.objective + 1e-9


def test_floors_never_lose_against_prorata_when_prorata_meets_them():
    rng = np.random.default_rng(7)
    C = rng.uniform(0, 3, (48, 6))
    P = rng.uniform(0, 8, (48, 1))
    consumption, production = frames(C, P)
    tariffs = Tariffs(retail=0.25, local=0.1, surplus=0.05)
    prorata = allocate(consumption, production, keys.Prorata()).allocated.to_numpy()
    floors = pd.Series(0.9 * prorata.sum(axis=0) / C.sum(axis=0), index=consumption.columns)
    result = optimize(
        consumption,
        production,
        [MaxSavings(tariffs), MaxSelfConsumption(weight=1e-3)],
        [MinSelfSufficiency(floors)],
        horizon=None,
    )
    report = result.periods[0]
    assert report.objective >= report.prorata - 1e-9


def test_min_bills_counts_the_surplus_price_and_equals_its_lp():
    # Members' bills: retail on COMPLEMENT minus the feed-in tariff on SURPLUS.
    rng = np.random.default_rng(3)
    C = rng.uniform(0, 2, (8, 3))
    P = rng.uniform(0, 4, (8, 2))
    consumption, production = frames(C, P)
    surplus = pd.Series([0.05, 0.13], index=production.columns)
    tariffs = Tariffs(retail=0.2, local=0.1, surplus=surplus)
    band = ReferenceBounds(keys.Prorata(), 0.2)
    result = optimize(consumption, production, MinBills(tariffs), [band], horizon=None)
    # Check against linprog with the same bounds and the pooled surplus price.
    P_tot = P.sum(axis=1)
    pooled = (P @ surplus.to_numpy()) / P_tot
    values = 0.2 - pooled[:, None] * np.ones((1, 3))
    prorata = allocate(consumption, production, keys.Prorata()).allocated.to_numpy()
    k = prorata / P_tot[:, None]
    lower = np.minimum(np.maximum(k - 0.2, 0) * P_tot[:, None], C)
    upper = np.minimum(C, np.minimum((k + 0.2) * P_tot[:, None], P_tot[:, None]))
    rows = np.kron(np.eye(8), np.ones((1, 3)))
    expected = linprog(
        -values.ravel(),
        A_ub=rows,
        b_ub=P_tot,
        bounds=list(zip(lower.ravel(), upper.ravel(), strict=True)),
        method="highs",
    )
    assert result.objective == pytest.approx(-expected.fun, rel=1e-7)
    assert result.periods[0].reference == pytest.approx((values * prorata).sum(), rel=1e-12)


# --- errors -----------------------------------------------------------------------------------


def test_a_floor_above_what_the_pool_offers_names_the_member_and_the_month():
    consumption, production = frames([[4.0, 1.0], [4.0, 1.0]], [[1.0], [0.0]])
    member = consumption.columns[0]
    with pytest.raises(
        errors.InfeasibleError, match=r"cannot reach 30\.0% .*2025-06: at most 12\.5%"
    ) as caught:
        optimize(consumption, production, MaxSelfConsumption(), [MinSelfSufficiency({member: 0.3})])
    assert caught.value.member == member
    assert caught.value.period == "2025-06"
    assert caught.value.constraint == "MinSelfSufficiency"


def test_floors_that_cannot_hold_together_name_who_and_what_is_reachable():
    # 2 kWh for two consumers of 2 kWh each: 60 % each is reachable alone, not together.
    consumption, production = frames([[2.0, 2.0]], [2.0])
    with pytest.raises(errors.InfeasibleError, match="cannot all hold") as caught:
        optimize(consumption, production, MaxSelfConsumption(), [MinSelfSufficiency(0.6)])
    assert caught.value.member in set(consumption.columns)
    assert "at best together" in str(caught.value)


def test_bad_parameters_are_typed_errors():
    with pytest.raises(errors.ParameterError):
        MinSelfSufficiency(1.5)
    with pytest.raises(errors.ParameterTypeError):
        MaxSavings(0.2)  # type: ignore[arg-type]
    with pytest.raises(errors.ParameterError):
        Storage(capacity=1.0, power=1.0, round_trip_efficiency=1.2)
    consumption, production = frames([[1.0]], [1.0])
    with pytest.raises(errors.UnknownMemberError, match="nobody"):
        optimize(
            consumption, production, MaxSelfConsumption(), [MinSelfSufficiency({"nobody": 0.1})]
        )
    with pytest.raises(errors.DuplicateMemberError):
        optimize(
            consumption,
            production,
            MaxSelfConsumption(),
            storage=Storage(1.0, 1.0, id=consumption.columns[0]),
        )


def test_bad_energies_are_refused_as_allocate_refuses_them():
    consumption, production = frames([[1.0, -1.0]], [1.0])
    with pytest.raises(errors.NegativeEnergyError):
        optimize(consumption, production, MaxSelfConsumption())


def test_a_missing_solver_says_which_extra_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "highspy", None)  # `import highspy` now fails
    consumption, production = frames([[2.0, 2.0]], [2.0])
    with pytest.raises(errors.MissingExtraError, match=r'pip install "repartition\[optimize\]"'):
        optimize(consumption, production, MaxSelfConsumption(), [MinSelfSufficiency(0.1)])


# --- what the PMO sends ------------------------------------------------------------------------


def month_of_data(consumers=5, seed=0):
    index = pd.date_range(
        "2025-03-01", "2025-04-01", freq="30min", tz="Europe/Paris", inclusive="left"
    )
    rng = np.random.default_rng(seed)
    hours = index.hour.to_numpy() + index.minute.to_numpy() / 60
    sun = np.clip(np.sin((hours - 7) / 12 * np.pi), 0, None)
    C = rng.uniform(0.05, 0.6, (len(index), consumers))
    P = (sun * rng.uniform(0.5, 1.5, len(index)) * consumers * 0.4)[:, None]
    return frames(C, P, index)


def test_the_key_file_reproduces_the_allocation_within_its_reported_loss():
    consumption, production = month_of_data()
    tariffs = Tariffs(
        retail=pd.Series(np.linspace(0.18, 0.26, 5), index=consumption.columns),
        local=0.1,
        surplus=0.05,
    )
    result = optimize(consumption, production, MaxSavings(tariffs), [MinSelfSufficiency(0.15)])
    buffer = io.StringIO()
    written = result.write_key_file(buffer, "OPE123")
    assert str(written.name) == "OPE123_30_01032025_31032025.txt"
    coefficients = read_dynamic_key(io.BytesIO(buffer.getvalue().encode()), name=str(written.name))
    coefficients.index = coefficients.index.tz_convert("Europe/Paris")
    applied = allocate(consumption, production, keys.Dynamic(coefficients)).allocated.to_numpy()
    optimal = result.allocation.allocated.to_numpy()
    assert (applied <= optimal + 1e-9).all()
    lost = float((optimal - applied).sum())
    assert lost == pytest.approx(written.energy_lost_kwh, abs=1e-9)
    assert 0 <= lost <= 1e-4 * production.to_numpy().sum() * 5


def test_optimal_key_with_allocate_gives_the_optimum():
    consumption, production = month_of_data(consumers=4, seed=2)
    tariffs = Tariffs(retail=0.2, local=0.1, surplus=0.05)
    key = OptimalKey(MaxMinFairness(measure="savings", tariffs=tariffs))
    allocation = allocate(consumption, production, key)
    result = optimize(consumption, production, MaxMinFairness(measure="savings", tariffs=tariffs))
    np.testing.assert_allclose(
        allocation.allocated.to_numpy(), result.allocation.allocated.to_numpy(), atol=1e-9
    )
    check_invariants(allocation)
    assert key == OptimalKey(MaxMinFairness(measure="savings", tariffs=tariffs))


def test_a_year_is_solved_month_by_month_with_monthly_floors():
    index = pd.date_range("2025-01-01", "2025-04-01", freq="h", tz="Europe/Paris", inclusive="left")
    rng = np.random.default_rng(5)
    C = rng.uniform(0.1, 1, (len(index), 3))
    P = (np.clip(np.sin((index.hour.to_numpy() - 7) / 12 * np.pi), 0, None) * 2)[:, None]
    consumption, production = frames(C, P, index)
    result = optimize(
        consumption, production, MaxSelfConsumption(), [MinSelfSufficiency(0.2)], progress=True
    )
    assert list(result.report.index) == ["2025-01", "2025-02", "2025-03"]
    received = result.allocation.allocated.groupby(lambda t: t.month).sum()
    consumed = consumption.groupby(lambda t: t.month).sum()
    assert ((received / consumed).to_numpy() >= 0.2 - 1e-9).all()
    check_invariants(result.allocation)


@settings(max_examples=20)
@given(
    seed=st.integers(0, 2**32 - 1),
    objective=st.sampled_from(["savings", "fairness", "closest", "bills", "storage"]),
)
def test_every_objective_keeps_the_invariants(seed, objective):
    rng = np.random.default_rng(seed)
    C = rng.uniform(0, 2, (6, 3)) * (rng.random((6, 3)) > 0.3)
    P = rng.uniform(0, 3, (6, 2)) * (rng.random((6, 1)) > 0.3)
    consumption, production = frames(C, P)
    tariffs = Tariffs(retail=0.2, local=0.1, surplus=0.05)
    chosen = {
        "savings": (MaxSavings(tariffs), None),
        "fairness": (MaxMinFairness(), None),
        "closest": (ClosestToReference(keys.EqualShare()), None),
        "bills": (MinBills(tariffs, deviation_price=0.01), None),
        "storage": (MaxSavings(tariffs), Storage(capacity=2.0, power=1.0)),
    }[objective]
    result = optimize(consumption, production, chosen[0], storage=chosen[1])
    check_invariants(result.allocation)


def test_months_solved_in_parallel_threads_give_the_serial_result():
    import repartition

    index = pd.date_range("2025-01-01", "2025-04-01", freq="h", tz="Europe/Paris", inclusive="left")
    rng = np.random.default_rng(9)
    C = rng.uniform(0.1, 1, (len(index), 4))
    P = (np.clip(np.sin((index.hour.to_numpy() - 7) / 12 * np.pi), 0, None) * 2)[:, None]
    consumption, production = frames(C, P, index)
    tariffs = Tariffs(
        retail=pd.Series([0.3, 0.25, 0.2, 0.15], index=consumption.columns), local=0.1, surplus=0.05
    )
    arguments = (consumption, production, MaxSavings(tariffs), [MinSelfSufficiency(0.2)])
    with repartition.threads(1):
        serial = optimize(*arguments)
    with repartition.threads(2):
        parallel = optimize(*arguments)
    np.testing.assert_array_equal(
        serial.allocation.allocated.to_numpy(), parallel.allocation.allocated.to_numpy()
    )
    # A month that cannot meet its floor is the error raised, with its period.
    C[index.month == 2, 0] = 50.0
    consumption, production = frames(C, P, index)
    with repartition.threads(2), pytest.raises(errors.InfeasibleError) as caught:
        optimize(consumption, production, MaxSelfConsumption(), [MinSelfSufficiency(0.2)])
    assert caught.value.period == "2025-02"


def test_ranked_producers_sell_the_cheapest_surplus_first():
    # Two producers of 2 kWh, one consumer of 2 kWh. The first producer's surplus is paid
    # 0.13, the second's 0.05: the consumer should take the second's energy (the members'
    # bills then lose 0.05 x 2 of surplus revenue, not 0.13 x 2). Pooled, it takes 1 + 1.
    consumption, production = frames([[2.0]], [[2.0, 2.0]])
    surplus = pd.Series([0.13, 0.05], index=production.columns)
    tariffs = Tariffs(retail=0.25, local=0.10, surplus=surplus)
    pooled = optimize(consumption, production, MinBills(tariffs))
    ranked = optimize(consumption, production, MinBills(tariffs, rank_producers=True))
    assert ranked.objective == pytest.approx(2 * (0.25 - 0.05), abs=1e-9)
    assert pooled.objective == pytest.approx(2 * 0.25 - (0.13 + 0.05), abs=1e-9)
    np.testing.assert_allclose(ranked.allocation.self_consumed.iloc[0], [0.0, 2.0], atol=1e-9)
    assert set(ranked.full_dynamic) == set(production.columns)
    check_invariants(ranked.allocation)


def test_ranked_producers_equal_an_independent_lp_with_floors():
    rng = np.random.default_rng(11)
    C = rng.uniform(0, 2, (6, 3))
    P = rng.uniform(0, 2, (6, 2))
    consumption, production = frames(C, P)
    surplus = pd.Series([0.04, 0.12], index=production.columns)
    retail = pd.Series([0.3, 0.2, 0.15], index=consumption.columns)
    tariffs = Tariffs(retail=retail, local=0.1, surplus=surplus)
    floor = 0.2
    result = optimize(
        consumption,
        production,
        MinBills(tariffs, rank_producers=True),
        [MinSelfSufficiency(floor)],
        horizon=None,
    )
    # linprog over A[t, j, i], flattened (t, j, i).
    T, J, N = 6, 2, 3
    value = retail.to_numpy()[None, None, :] - surplus.to_numpy()[None, :, None]
    value = np.broadcast_to(value, (T, J, N)).ravel()
    rows, bounds = [], []
    for t in range(T):
        for j in range(J):
            row = np.zeros((T, J, N))
            row[t, j, :] = 1
            rows.append(row.ravel())
            bounds.append(P[t, j])
        for i in range(N):
            row = np.zeros((T, J, N))
            row[t, :, i] = 1
            rows.append(row.ravel())
            bounds.append(C[t, i])
    for i in range(N):
        row = np.zeros((T, J, N))
        row[:, :, i] = -1
        rows.append(row.ravel())
        bounds.append(-floor * C[:, i].sum())
    expected = linprog(
        -value, A_ub=np.array(rows), b_ub=np.array(bounds), bounds=(0, None), method="highs"
    )
    assert result.objective == pytest.approx(-expected.fun, rel=1e-7)
    received = result.allocation.allocated.to_numpy().sum(axis=0)
    assert (received >= floor * C.sum(axis=0) - 1e-9).all()
    check_invariants(result.allocation)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**32 - 1), floor=st.floats(0.0, 0.95))
def test_the_flow_route_equals_highs_on_the_whole_program(seed, floor):
    # The min-cost flow (integer data), made exact by a small program on the true data,
    # against HiGHS on the whole program: the same optimum, and a certificate.
    rng = np.random.default_rng(seed)
    C = rng.uniform(0, 2, (48, 12)) * (rng.random((48, 12)) > 0.1)
    P = rng.uniform(0, 6, (48, 1)) * (rng.random((48, 1)) > 0.3)
    consumption, production = frames(C, P)
    retail = pd.Series(rng.choice([0.15, 0.2, 0.25], 12), index=consumption.columns)  # ties
    tariffs = Tariffs(retail=retail, local=0.1, surplus=0.05)
    available = np.minimum(C, P).sum(axis=0)
    wanted = pd.Series(
        floor * available / 12 / np.maximum(C.sum(axis=0), 1e-300), index=consumption.columns
    )
    arguments = (consumption, production, MaxSavings(tariffs), [MinSelfSufficiency(wanted)])
    flow = optimize(*arguments, horizon=None)
    whole = optimize(*arguments, horizon=None, solver_options={"flow": False})
    assert flow.periods[0].method == "min-cost flow + HiGHS"
    assert whole.periods[0].method == "HiGHS"
    assert flow.objective == pytest.approx(whole.objective, rel=1e-9, abs=1e-9)
    assert flow.periods[0].gap <= 1e-9
    check_invariants(flow.allocation)
    received = flow.allocation.allocated.to_numpy().sum(axis=0)
    assert (received >= wanted.to_numpy() * C.sum(axis=0) - 1e-9).all()


def test_a_large_pool_keeps_the_flow_route_with_a_coarser_unit():
    # A pool of 1e9 kWh a step at 0.15 EUR/kWh is past int64 in 0.1 mWh x micro-euros: the
    # flow's unit coarsens (it fell back to HiGHS on the whole program, minutes on a year x
    # 10,000 consumers), and the exact stage still gives HiGHS's optimum.
    rng = np.random.default_rng(5)
    C = rng.uniform(0, 2e9, (48, 8))
    P = rng.uniform(0, 6e9, (48, 1))
    consumption, production = frames(C, P)
    retail = pd.Series(rng.choice([0.15, 0.2, 0.25], 8), index=consumption.columns)
    tariffs = Tariffs(retail=retail, local=0.1, surplus=0.05)
    wanted = 0.5 * np.minimum(C, P).sum(axis=0) / 8 / C.sum(axis=0)
    floors = [MinSelfSufficiency(pd.Series(wanted, index=consumption.columns))]
    arguments = (consumption, production, MaxSavings(tariffs), floors)
    flow = optimize(*arguments, horizon=None)
    whole = optimize(*arguments, horizon=None, solver_options={"flow": False})
    assert flow.periods[0].method == "min-cost flow + HiGHS"
    assert flow.objective == pytest.approx(whole.objective, rel=1e-9)
    assert flow.periods[0].gap <= 1e-9
    check_invariants(flow.allocation)


def linprog_storage_with_shares(C, P, values, storage, hours, high, low):
    """The storage program with pool shares written independently for linprog: columns A
    (t, i), then charge, discharge and state of charge per step; ``A <= high (P + d)`` and
    ``A >= min(C, low P) + slope d`` (the chord of docs/optimize.md, "Storage")."""
    T, N = C.shape
    n = T * N
    charge, discharge, state = n, n + T, n + 2 * T
    width = n + 3 * T
    eta = np.sqrt(storage.round_trip_efficiency)
    limit = storage.power * hours
    upper_rows, upper_sides, equal_rows, equal_sides = [], [], [], []
    for t in range(T):
        row = np.zeros(width)
        row[t * N : (t + 1) * N] = 1
        row[charge + t], row[discharge + t] = 1, -1
        upper_rows.append(row)
        upper_sides.append(P[t])
        row = np.zeros(width)
        row[state + t], row[charge + t], row[discharge + t] = 1, -eta, 1 / eta
        if t:
            row[state + t - 1] = -1
        equal_rows.append(row)
        equal_sides.append(storage.initial if t == 0 else 0.0)
        for i in range(N):
            row = np.zeros(width)
            row[t * N + i], row[discharge + t] = 1, -high[t, i]
            upper_rows.append(row)
            upper_sides.append(high[t, i] * P[t])
            at_rest = min(C[t, i], low[t, i] * P[t])
            slope = (min(C[t, i], low[t, i] * (P[t] + limit)) - at_rest) / limit
            row = np.zeros(width)
            row[t * N + i], row[discharge + t] = -1, slope
            upper_rows.append(row)
            upper_sides.append(-at_rest)
    bounds = [(0, c) for c in C.ravel()] + [(0, limit)] * (2 * T)
    bounds += [(0, storage.capacity)] * (T - 1) + [(storage.end, storage.capacity)]
    cost = np.concatenate([-values.ravel(), np.zeros(3 * T)])
    result = linprog(
        cost,
        A_ub=np.array(upper_rows),
        b_ub=np.array(upper_sides),
        A_eq=np.array(equal_rows),
        b_eq=np.array(equal_sides),
        bounds=bounds,
        method="highs",
    )
    assert result.status == 0, result.message
    return -result.fun


@settings(max_examples=10)
@given(seed=st.integers(0, 2**32 - 1))
def test_pool_shares_with_storage_equal_an_independent_lp(seed):
    # MaxPoolShare and a ReferenceBounds band with storage: the caps are shares of the pool
    # the DSO sees (the plants and the discharge), rows of the program, not bounds.
    rng = np.random.default_rng(seed)
    T, N = 8, 3
    C = rng.uniform(0, 2, (T, N))
    P = rng.uniform(0, 4, (T, 1)) * (np.arange(T)[:, None] < 4)  # a sunny morning, then night
    consumption, production = frames(C, P)
    retail = pd.Series(rng.uniform(0.15, 0.3, N), index=consumption.columns)
    tariffs = Tariffs(retail=retail, local=0.1, surplus=0.05)
    storage = Storage(capacity=3.0, power=2.0, round_trip_efficiency=0.9)
    share = rng.uniform(0.4, 0.9)
    deviation = 0.3
    reference = keys.Static(dict(zip(consumption.columns, [0.5, 0.3, 0.2], strict=True)))
    result = optimize(
        consumption,
        production,
        MaxSavings(tariffs),
        [MaxPoolShare(share), ReferenceBounds(reference, deviation)],
        storage=storage,
        horizon=None,
    )
    # The reference's coefficients as ReferenceBounds reads them: its allocation over P_tot.
    given = allocate(consumption, production, reference).allocated.to_numpy()
    coefficients = np.divide(given, P, out=np.zeros_like(given), where=P > 0)
    high = np.minimum(share, coefficients + deviation)
    low = np.maximum(coefficients - deviation, 0.0)
    values = np.broadcast_to(retail.to_numpy() - 0.1, C.shape)
    expected = linprog_storage_with_shares(C, P[:, 0], values, storage, 0.5, high, low)
    assert result.objective == pytest.approx(expected, rel=1e-6, abs=1e-8)
    allocated = result.allocation.allocated[consumption.columns].to_numpy()
    seen = P[:, 0] + result.storage["discharge"].to_numpy()
    assert (allocated <= high * seen[:, None] + 1e-7).all()
    check_invariants(result.allocation)


def test_ranked_producers_in_a_reference_band_under_a_pool_cap_equal_an_independent_lp():
    # Villena et al. (2020) rank the producers and keep the coefficients in a band around
    # the agreed key: the band and the cap bound each consumer's share of P_tot (sum over
    # the producers), as without ranking.
    rng = np.random.default_rng(3)
    T, J, N = 6, 2, 3
    C = rng.uniform(0, 2, (T, N))
    P = rng.uniform(0, 2, (T, J))
    consumption, production = frames(C, P)
    surplus = pd.Series([0.04, 0.12], index=production.columns)
    retail = pd.Series([0.3, 0.2, 0.15], index=consumption.columns)
    tariffs = Tariffs(retail=retail, local=0.1, surplus=surplus)
    deviation, share = 0.1, np.array([0.45, 0.45, 0.8])  # binding at some steps
    result = optimize(
        consumption,
        production,
        MinBills(tariffs, rank_producers=True),
        [
            ReferenceBounds(keys.Prorata(), deviation),
            MaxPoolShare(pd.Series(share, index=consumption.columns)),
        ],
        horizon=None,
    )
    total = P.sum(axis=1)
    reference = allocate(consumption, production, keys.Prorata()).allocated.to_numpy()
    coefficient = reference / total[:, None]
    high = np.minimum(C, np.minimum(coefficient + deviation, share) * total[:, None])
    low = np.minimum(C, np.maximum(coefficient - deviation, 0.0) * total[:, None])
    value = retail.to_numpy()[None, None, :] - surplus.to_numpy()[None, :, None]
    value = np.broadcast_to(value, (T, J, N)).ravel()
    rows, bounds = [], []
    for t in range(T):
        for j in range(J):
            row = np.zeros((T, J, N))
            row[t, j, :] = 1
            rows.append(row.ravel())
            bounds.append(P[t, j])
        for i in range(N):
            row = np.zeros((T, J, N))
            row[t, :, i] = 1
            rows += [row.ravel(), -row.ravel()]
            bounds += [high[t, i], -low[t, i]]
    expected = linprog(
        -value, A_ub=np.array(rows), b_ub=np.array(bounds), bounds=(0, None), method="highs"
    )
    assert expected.status == 0
    assert result.objective == pytest.approx(-expected.fun, rel=1e-7)
    pooled = result.allocation.allocated.to_numpy()
    assert (pooled <= high + 1e-9).all()
    assert (pooled >= low - 1e-7).all()
    check_invariants(result.allocation)


def test_a_pool_cap_with_storage_holds_for_a_distance_to_a_reference():
    # The L1 distance splits each cell (x = r + p - n): the cap's row shifts by the target.
    rng = np.random.default_rng(8)
    C = rng.uniform(0, 2, (8, 3))
    P = rng.uniform(0, 4, (8, 1)) * (np.arange(8)[:, None] < 4)
    consumption, production = frames(C, P)
    storage = Storage(capacity=3.0, power=2.0)
    capped = optimize(
        consumption,
        production,
        [ClosestToReference(keys.EqualShare()), MaxSelfConsumption(weight=0.01)],
        [MaxPoolShare(0.4)],
        storage=storage,
        horizon=None,
    )
    free = optimize(
        consumption,
        production,
        [ClosestToReference(keys.EqualShare()), MaxSelfConsumption(weight=0.01)],
        storage=storage,
        horizon=None,
    )
    allocated = capped.allocation.allocated[consumption.columns].to_numpy()
    seen = P[:, 0] + capped.storage["discharge"].to_numpy()
    assert (allocated <= 0.4 * seen[:, None] + 1e-7).all()
    uncapped = free.allocation.allocated[consumption.columns].to_numpy()
    free_seen = P[:, 0] + free.storage["discharge"].to_numpy()
    assert (uncapped > 0.4 * free_seen[:, None] + 1e-6).any()  # the cap binds
    check_invariants(capped.allocation)


def test_horizons_are_local_months_on_a_utc_index_when_asked():
    # The DSO's exports are read on a UTC index: November's first local hour is 31 October
    # 23:00 UTC. With tz="Europe/Paris" the month is one horizon, its floor over the month.
    index = pd.date_range(
        "2025-10-31 23:00", "2025-11-30 23:00", freq="1h", tz="UTC", inclusive="left"
    )
    rng = np.random.default_rng(2)
    consumption = pd.DataFrame(
        rng.uniform(0.5, 1, (len(index), 2)), index=index, columns=["a", "b"]
    )
    hours = index.tz_convert("Europe/Paris").hour
    production = pd.DataFrame({"pv": np.where((hours > 9) & (hours < 16), 1.0, 0.0)}, index=index)
    tariffs = Tariffs(retail={"a": 0.3, "b": 0.2}, local=0.1, surplus=0.05)
    floors = [MinSelfSufficiency(0.1)]
    local = optimize(consumption, production, MaxSavings(tariffs), floors, tz="Europe/Paris")
    assert [p.period for p in local.periods] == ["2025-11"]
    with pytest.raises(errors.InfeasibleError, match="2025-10"):  # one dark hour in UTC October
        optimize(consumption, production, MaxSavings(tariffs), floors)
