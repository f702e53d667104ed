"""repartition.metrics: golden cases worked by hand, hypothesis properties, bad tariffs.

The golden cases follow the formulas of docs/metrics.md, for tariffs per member, per producer
and per step, and the docstrings of
:mod:`repartition.metrics`. Prices and energies are dyadic (0.125, 0.0625, ...) so that the
arithmetic in the comments is exact in binary floating point; the tolerance is 1e-12.
"""

from __future__ import annotations

import dataclasses

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import strategies as gen
from repartition import Allocation, allocate, errors, keys
from repartition.metrics import (
    Tariffs,
    bills,
    gini,
    jain,
    members_served,
    producer_revenue,
    rates,
)

TOL = {"rtol": 1e-12, "atol": 1e-12}

BILL_COLUMNS = ["grid_cost", "local_cost", "bill", "bill_without_community", "savings"]
REVENUE_COLUMNS = [
    "local_revenue",
    "surplus_revenue",
    "revenue",
    "revenue_without_community",
    "gain",
]


@pytest.fixture(autouse=True)
def _one_numba_thread():
    """Tiny allocations: one kernel thread avoids waiting for OpenMP workers (see
    test_properties.py)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(previous)


def assert_frame(frame: pd.DataFrame, expected: dict[str, list[float]], index: list) -> None:
    assert list(frame.index) == index
    assert list(frame.columns) == list(expected)
    for column, values in expected.items():
        np.testing.assert_allclose(frame[column].to_numpy(), values, **TOL, err_msg=column)


# ------------------------------------------------------------------------------------------
# The golden community: 3 consumers, 2 producers, 3 half-hours, default dynamic key
# (prorata: A = C * min(1, P_tot / sum C)), producers attributed in proportion to their
# production: flow[t, p, i] = A[t, i] * P[t, p] / P_tot[t] (docs/rules.md, "Attribution to
# producers").
#
# step  C (A, B, C)   P (P1, P2)   P_tot  sum C  ratio  A (A, B, C)      weights (P1, P2)
#  1    1, 2, 1       1.5, 0.5      2      4      0.5   0.5, 1, 0.5      0.75, 0.25
#  2    2, 0, 2       6,   2        8      4      1     2,   0, 2        0.75, 0.25
#  3    1, 1, 1       0,   0        0      3      0     0,   0, 0        -
#
# Totals: CONS A 4, B 3, C 4; AUTOCONS A 2.5, B 1, C 2.5; COMPLEMENT A 1.5, B 2, C 1.5
#   (step 1: 0.5, 1, 0.5; step 3: 1, 1, 1).
# Flows over the period (0.75 and 0.25 of each A):
#   P1 -> A 0.375 + 1.5 = 1.875, P1 -> B 0.75, P1 -> C 1.875
#   P2 -> A 0.125 + 0.5 = 0.625, P2 -> B 0.25, P2 -> C 0.625
# Producers: AUTOPROD P1 1.5 + 3 = 4.5, P2 0.5 + 1 = 1.5; SURPLUS P1 0 + 3 = 3, P2 0 + 1 = 1;
#   PROD P1 7.5, P2 2.5.
# ------------------------------------------------------------------------------------------

INDEX = pd.date_range("2025-06-01 11:00", periods=3, freq="30min", tz="Europe/Paris")
CONSUMERS = ["A", "B", "C"]
PRODUCERS = ["P1", "P2"]


def golden() -> Allocation:
    consumption = pd.DataFrame(
        {"A": [1.0, 2.0, 1.0], "B": [2.0, 0.0, 1.0], "C": [1.0, 2.0, 1.0]}, index=INDEX
    )
    production = pd.DataFrame({"P1": [1.5, 6.0, 0.0], "P2": [0.5, 2.0, 0.0]}, index=INDEX)
    return allocate(consumption, production, keys.Prorata())


def test_golden_allocation_is_as_worked_out() -> None:
    allocation = golden()
    np.testing.assert_allclose(allocation.allocated.sum().to_numpy(), [2.5, 1.0, 2.5], **TOL)
    np.testing.assert_allclose(
        allocation.flows().to_numpy(), [[1.875, 0.75, 1.875], [0.625, 0.25, 0.625]], **TOL
    )


class TestRates:
    def test_golden(self) -> None:
        table = rates(golden())
        assert list(table.columns) == [
            "scope",
            "member",
            "rate",
            "shared_kwh",
            "total_kwh",
            "value",
        ]
        assert list(table["scope"]) == ["community"] * 2 + ["producer"] * 2 + ["consumer"] * 3
        assert list(table["member"]) == [None, None, "P1", "P2", "A", "B", "C"]
        assert (
            list(table["rate"])
            == ["self_consumption", "self_sufficiency"]
            + ["self_consumption"] * 2
            + ["self_sufficiency"] * 3
        )
        # community: sum A = 6; sum P = 7.5 + 2.5 = 10; sum C = 4 + 3 + 4 = 11
        # producers: AUTOPROD / PROD = 4.5 / 7.5 = 0.6, 1.5 / 2.5 = 0.6
        # consumers: AUTOCONS / CONS = 2.5 / 4, 1 / 3, 2.5 / 4
        np.testing.assert_allclose(table["shared_kwh"], [6, 6, 4.5, 1.5, 2.5, 1, 2.5], **TOL)
        np.testing.assert_allclose(table["total_kwh"], [10, 11, 7.5, 2.5, 4, 3, 4], **TOL)
        np.testing.assert_allclose(
            table["value"], [0.6, 6 / 11, 0.6, 0.6, 0.625, 1 / 3, 0.625], **TOL
        )

    def test_nan_when_nothing_consumed_or_produced(self) -> None:
        # "D" never consumes (CONS = 0) and "P3" never produces (PROD = 0): their rates are
        # 0/0, NaN by definition (AllocationSummary docstring), not 0.
        index = INDEX[:2]
        consumption = pd.DataFrame({"A": [1.0, 1.0], "D": [0.0, 0.0]}, index=index)
        production = pd.DataFrame({"P1": [1.0, 0.0], "P3": [0.0, 0.0]}, index=index)
        table = rates(allocate(consumption, production, keys.Prorata())).set_index("member")
        assert np.isnan(table.loc["D", "value"])
        assert np.isnan(table.loc["P3", "value"])
        assert table.loc["A", "value"] == 0.5  # 1 kWh of 2
        # Nothing at all: both community rates are NaN.
        nothing = allocate(consumption * 0.0, production * 0.0, keys.Prorata())
        assert rates(nothing)["value"].isna().all()

    def test_matches_allocation_summaries(self) -> None:
        allocation = golden()
        table = rates(allocation)
        summary = allocation.summary()
        assert table["value"].iloc[0] == summary.self_consumption_rate
        assert table["value"].iloc[1] == summary.self_sufficiency_rate
        np.testing.assert_array_equal(
            table["value"].iloc[4:], allocation.by_consumer()["self_sufficiency_rate"]
        )


class TestMembersServed:
    def test_golden(self) -> None:
        # A > 0: step 1 A, B, C (0.5, 1, 0.5) -> 3; step 2 A, C (B consumes 0) -> 2; step 3 -> 0
        served = members_served(golden())
        assert served.name == "members_served"
        assert served.dtype == np.int64
        pd.testing.assert_index_equal(served.index, INDEX)
        assert served.to_list() == [3, 2, 0]
        share = members_served(golden(), normalize=True)
        assert share.name == "share_served"
        np.testing.assert_allclose(share.to_numpy(), [1.0, 2 / 3, 0.0], **TOL)

    def test_threshold(self) -> None:
        # Strictly above 0.5 kWh: step 1 only B (1); step 2 A and C (2 each).
        assert members_served(golden(), threshold_kwh=0.5).to_list() == [1, 2, 0]

    @pytest.mark.parametrize("threshold", [-1.0, float("nan"), float("inf")])
    def test_bad_threshold(self, threshold: float) -> None:
        with pytest.raises(ValueError, match="threshold_kwh"):
            members_served(golden(), threshold_kwh=threshold)


class TestBills:
    def test_flat_retail_local_price_per_producer(self) -> None:
        tariffs = Tariffs(retail=0.25, local={"P1": 0.125, "P2": 0.0625}, surplus=0.0)
        expected = {
            # 0.25 x COMPLEMENT (1.5, 2, 1.5)
            "grid_cost": [0.375, 0.5, 0.375],
            # A: 0.125 x 1.875 + 0.0625 x 0.625 = 0.234375 + 0.0390625; B: 0.125 x 0.75 +
            # 0.0625 x 0.25 = 0.09375 + 0.015625; C as A
            "local_cost": [0.2734375, 0.109375, 0.2734375],
            "bill": [0.6484375, 0.609375, 0.6484375],
            # 0.25 x CONS (4, 3, 4)
            "bill_without_community": [1.0, 0.75, 1.0],
            # 1 - 0.6484375; 0.75 - 0.609375 (also 0.25 x 2.5 - 0.2734375)
            "savings": [0.3515625, 0.140625, 0.3515625],
        }
        assert_frame(bills(golden(), tariffs), expected, CONSUMERS)

    def test_retail_per_consumer_one_local_price(self) -> None:
        # docs/metrics.md's bill: price_retail_i * COMPLEMENT + price_local * AUTOCONS.
        tariffs = Tariffs(retail={"C": 0.125, "A": 0.25, "B": 0.5}, local=0.125, surplus=0.0)
        expected = {
            "grid_cost": [0.25 * 1.5, 0.5 * 2, 0.125 * 1.5],  # 0.375, 1, 0.1875
            "local_cost": [0.125 * 2.5, 0.125 * 1, 0.125 * 2.5],  # 0.3125, 0.125, 0.3125
            "bill": [0.6875, 1.125, 0.5],
            "bill_without_community": [0.25 * 4, 0.5 * 3, 0.125 * 4],  # 1, 1.5, 0.5
            # C: local energy at its own retail price saves nothing
            "savings": [0.3125, 0.375, 0.0],
        }
        assert_frame(bills(golden(), tariffs), expected, CONSUMERS)

    def test_time_of_use_for_all(self) -> None:
        # r = (0.25, 0.5, 0.125) per step, given in UTC: the same instants as INDEX.
        retail = pd.Series([0.25, 0.5, 0.125], index=INDEX.tz_convert("UTC"))
        tariffs = Tariffs(retail=retail, local=0.125, surplus=0.0)
        expected = {
            # COMPLEMENT per step: A (0.5, 0, 1), B (1, 0, 1), C (0.5, 0, 1)
            # A: 0.25 x 0.5 + 0.125 x 1 = 0.25; B: 0.25 + 0.125 = 0.375; C as A
            "grid_cost": [0.25, 0.375, 0.25],
            "local_cost": [0.3125, 0.125, 0.3125],
            "bill": [0.5625, 0.5, 0.5625],
            # CONS per step: A (1, 2, 1): 0.25 + 1 + 0.125 = 1.375; B (2, 0, 1): 0.5 + 0.125
            "bill_without_community": [1.375, 0.625, 1.375],
            # A: 0.25 x 0.5 + 0.5 x 2 - 0.3125 = 0.8125; B: 0.25 x 1 - 0.125 = 0.125
            "savings": [0.8125, 0.125, 0.8125],
        }
        assert_frame(bills(golden(), tariffs), expected, CONSUMERS)

    def test_time_of_use_per_consumer(self) -> None:
        # A table with columns in another order and an extra step before the period (ignored).
        index = INDEX.insert(0, INDEX[0] - pd.Timedelta("30min"))
        retail = pd.DataFrame(
            {
                "C": [9.0, 0.125, 0.25, 0.5],
                "A": [9.0, 0.25, 0.5, 0.125],
                "B": [9.0, 0.5, 0.5, 0.5],
            },
            index=index,
        )
        tariffs = Tariffs(retail=retail, local=0.125, surplus=0.0)
        expected = {
            # A as in the previous case; B: 0.5 x 2; C: 0.125 x 0.5 + 0.5 x 1 = 0.5625
            "grid_cost": [0.25, 1.0, 0.5625],
            "local_cost": [0.3125, 0.125, 0.3125],
            "bill": [0.5625, 1.125, 0.875],
            # B: 0.5 x 3; C: 0.125 x 1 + 0.25 x 2 + 0.5 x 1 = 1.125
            "bill_without_community": [1.375, 1.5, 1.125],
            # C: 0.125 x 0.5 + 0.25 x 2 - 0.3125 = 0.25
            "savings": [0.8125, 0.375, 0.25],
        }
        assert_frame(bills(golden(), tariffs), expected, CONSUMERS)

    def test_full_dynamic_pairs_decide_who_pays_which_producer(self) -> None:
        # Pair shares k[t, p, i]:
        #   step 1: C = (2, 2), P = (2, 2); k_P1 = (1, 0), k_P2 = (0, 1): A gets P1's 2 kWh,
        #     B gets P2's 2 kWh.
        #   step 2: C = (1, 1), P = (4, 0); k_P1 = (0.5, 0.5): each is offered 2 kWh > 1, so
        #     its pairs are scaled down to 1 kWh (FullDynamic docstring).
        # Flows: P1 -> A 2 + 1 = 3, P1 -> B 1, P2 -> B 2. AUTOPROD P1 4, P2 2; SURPLUS P1 2.
        index = INDEX[:2]
        consumption = pd.DataFrame({"A": [2.0, 1.0], "B": [2.0, 1.0]}, index=index)
        production = pd.DataFrame({"P1": [2.0, 4.0], "P2": [2.0, 0.0]}, index=index)
        key = keys.FullDynamic(
            {
                "P1": pd.DataFrame({"A": [1.0, 0.5], "B": [0.0, 0.5]}, index=index),
                "P2": pd.DataFrame({"A": [0.0, 0.0], "B": [1.0, 1.0]}, index=index),
            }
        )
        allocation = allocate(consumption, production, key)
        tariffs = Tariffs(retail=0.5, local={"P1": 0.25, "P2": 0.125}, surplus=0.0625)
        # A: 0.25 x 3 = 0.75; B: 0.25 x 1 + 0.125 x 2 = 0.5. (Prorata attribution of the
        # same A would have charged both 0.625.) Nothing from the grid: bill = local cost.
        assert_frame(
            bills(allocation, tariffs),
            {
                "grid_cost": [0.0, 0.0],
                "local_cost": [0.75, 0.5],
                "bill": [0.75, 0.5],
                "bill_without_community": [1.5, 1.5],  # 0.5 x 3
                "savings": [0.75, 1.0],
            },
            ["A", "B"],
        )
        # P1: 0.25 x 4 = 1, 0.0625 x 2 = 0.125; P2: 0.125 x 2 = 0.25, no surplus.
        assert_frame(
            producer_revenue(allocation, tariffs),
            {
                "local_revenue": [1.0, 0.25],
                "surplus_revenue": [0.125, 0.0],
                "revenue": [1.125, 0.25],
                "revenue_without_community": [0.0625 * 6, 0.0625 * 2],  # 0.375, 0.125
                "gain": [0.75, 0.125],  # (0.25 - 0.0625) x 4, (0.125 - 0.0625) x 2
            },
            PRODUCERS,
        )

    def test_inputs_are_not_changed(self) -> None:
        allocation = golden()
        retail = pd.Series({"A": 0.25, "B": 0.5, "C": 0.125})
        before = retail.copy()
        tariffs = Tariffs(retail=retail, local=0.125, surplus=0.0)
        first = bills(allocation, tariffs)
        retail["A"] = 100.0  # the caller's object changes later: the tariffs do not
        pd.testing.assert_series_equal(tariffs.retail, before)
        pd.testing.assert_frame_equal(bills(allocation, tariffs), first)
        with pytest.raises(dataclasses.FrozenInstanceError):
            tariffs.local = 1.0  # type: ignore[misc]


class TestProducerRevenue:
    def test_golden(self) -> None:
        tariffs = Tariffs(
            retail=0.25, local={"P1": 0.125, "P2": 0.0625}, surplus={"P2": 0.03125, "P1": 0.0625}
        )
        expected = {
            "local_revenue": [0.5625, 0.09375],  # 0.125 x 4.5, 0.0625 x 1.5
            "surplus_revenue": [0.1875, 0.03125],  # 0.0625 x 3, 0.03125 x 1
            "revenue": [0.75, 0.125],
            "revenue_without_community": [0.46875, 0.078125],  # 0.0625 x 7.5, 0.03125 x 2.5
            "gain": [0.28125, 0.046875],  # (0.125 - 0.0625) x 4.5, (0.0625 - 0.03125) x 1.5
        }
        assert_frame(producer_revenue(golden(), tariffs), expected, PRODUCERS)
        # Money is conserved: consumers pay 0.2734375 x 2 + 0.109375 = 0.65625 for local
        # energy (TestBills), producers receive 0.5625 + 0.09375 = 0.65625.
        assert bills(golden(), tariffs)["local_cost"].sum() == 0.65625

    def test_gain_is_negative_below_the_surplus_price(self) -> None:
        tariffs = Tariffs(retail=0.25, local=0.0, surplus=0.0625)
        np.testing.assert_allclose(
            producer_revenue(golden(), tariffs)["gain"], [-0.0625 * 4.5, -0.0625 * 1.5], **TOL
        )


class TestNegativePrices:
    """Spot-indexed prices below zero, allowed on request only."""

    def test_refused_unless_allowed(self) -> None:
        with pytest.raises(errors.DataError, match="allow_negative=True"):
            Tariffs(retail=0.25, local=0.125, surplus=-0.01)
        for bad in (float("nan"), float("inf"), float("-inf")):
            with pytest.raises(errors.RepartitionError):
                Tariffs(retail=0.25, local=0.125, surplus=bad, allow_negative=True)
        with pytest.raises(TypeError, match="allow_negative"):
            Tariffs(retail=0.25, local=0.125, surplus=0.0, allow_negative=1)  # type: ignore[arg-type]

    def test_bills_and_revenue_by_hand(self) -> None:
        # Retail per step (0.25, -0.125, 0.25): consumers are paid at the middle step (a
        # negative spot hour); the surplus costs its producers 0.03125 per kWh.
        retail = pd.Series([0.25, -0.125, 0.25], index=INDEX)
        tariffs = Tariffs(retail=retail, local=0.125, surplus=-0.03125, allow_negative=True)
        assert "allow_negative=True" in repr(tariffs)
        # COMPLEMENT per step: A (0.5, 0, 1), B (1, 0, 1), C (0.5, 0, 1); CONS: A (1, 2, 1),
        # B (2, 0, 1), C (1, 2, 1); AUTOCONS totals (2.5, 1, 2.5).
        expected = {
            "grid_cost": [0.375, 0.5, 0.375],  # 0.25 x 0.5 + 0.25 x 1; B 0.25 x 2
            "local_cost": [0.3125, 0.125, 0.3125],  # 0.125 x AUTOCONS
            "bill": [0.6875, 0.625, 0.6875],
            # A: 0.25 x 1 - 0.125 x 2 + 0.25 x 1 = 0.25; B: 0.25 x 2 + 0.25 x 1 = 0.75
            "bill_without_community": [0.25, 0.75, 0.25],
            "savings": [-0.4375, 0.125, -0.4375],
        }
        assert_frame(bills(golden(), tariffs), expected, CONSUMERS)
        # AUTOPROD (4.5, 1.5), SURPLUS (3, 1): the surplus is paid for, not paid.
        expected_revenue = {
            "local_revenue": [0.5625, 0.1875],  # 0.125 x 4.5, 0.125 x 1.5
            "surplus_revenue": [-0.09375, -0.03125],  # -0.03125 x 3, x 1
            "revenue": [0.46875, 0.15625],
            "revenue_without_community": [-0.234375, -0.078125],  # -0.03125 x 7.5, x 2.5
            "gain": [0.703125, 0.234375],  # (0.125 + 0.03125) x 4.5, x 1.5
        }
        assert_frame(producer_revenue(golden(), tariffs), expected_revenue, PRODUCERS)


class TestFairnessGolden:
    def test_gini(self) -> None:
        # Ordered pairs of (1, 2, 3, 4): |differences| 1, 2, 3, 1, 2, 1 -> 10, twice = 20;
        # 2 n^2 mean = 2 x 16 x 2.5 = 80 -> 0.25.
        assert gini([1.0, 2.0, 3.0, 4.0]) == pytest.approx(0.25, abs=1e-15)
        assert gini(np.array([4.0, 1.0, 3.0, 2.0])) == pytest.approx(0.25, abs=1e-15)
        # One member holds all: 1 - 1/n; a single member: 0.
        assert gini([0.0, 0.0, 5.0]) == pytest.approx(2 / 3, abs=1e-15)
        assert gini([7.0]) == 0.0

    def test_gini_and_jain_of_golden_savings(self) -> None:
        tariffs = Tariffs(retail=0.25, local={"P1": 0.125, "P2": 0.0625}, surplus=0.0)
        savings = bills(golden(), tariffs)["savings"]  # (0.3515625, 0.140625, 0.3515625)
        # Proportional to (2.5, 1, 2.5): Gini = 4 x 1.5 / (2 x 9 x 2) = 1/6;
        # Jain = 6^2 / (3 x (6.25 + 1 + 6.25)) = 36 / 40.5 = 8/9.
        assert gini(savings) == pytest.approx(1 / 6, abs=1e-15)
        assert jain(savings) == pytest.approx(8 / 9, abs=1e-15)

    def test_gini_with_negative_values(self) -> None:
        # (-1, 0, 3): |differences| 1, 4, 3 -> 8, twice = 16. Normalised by
        # 2 n sum |x| = 2 x 3 x 4 = 24 (Raffinetti, Siletti, Vernizzi 2015) -> 2/3, where
        # the usual 2 n^2 mean = 2 x 9 x 2/3 = 12 would give 16/12 > 1.
        assert gini([-1.0, 0.0, 3.0]) == pytest.approx(2 / 3, abs=1e-15)
        # Polarised case (one holds T+, one -T-, the rest 0) reaches the maximum (n-1)/n.
        assert gini([-2.0, 0.0, 0.0, 5.0]) == pytest.approx(0.75, abs=1e-15)
        # A mean of zero: the usual formula divides by zero, this one does not.
        assert gini([-1.0, 1.0]) == pytest.approx(0.5, abs=1e-15)

    def test_jain(self) -> None:
        # (1 + 2 + 3 + 4)^2 / (4 x (1 + 4 + 9 + 16)) = 100 / 120
        assert jain([1.0, 2.0, 3.0, 4.0]) == pytest.approx(5 / 6, abs=1e-15)
        assert jain(pd.Series([0.0, 3.0, 0.0])) == pytest.approx(1 / 3, abs=1e-15)
        assert jain([7.0]) == 1.0

    def test_all_zero(self) -> None:
        # Documented choice: equal values, so perfect equality (0/0 otherwise).
        assert gini([0.0, 0.0, 0.0]) == 0.0
        assert jain([0.0, 0.0, 0.0]) == 1.0

    def test_extreme_magnitudes(self) -> None:
        # Squares of 1e200 overflow and of 1e-200 underflow without the rescaling.
        for scale in (1e200, 1e-200, 5e-324):
            assert gini(np.array([0.0, 1.0]) * scale) == pytest.approx(0.5, abs=1e-15)
            assert jain(np.array([0.0, 1.0]) * scale) == pytest.approx(0.5, abs=1e-15)


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------


def naive_gini(x: np.ndarray) -> float:
    """The O(n^2) definition: sum_i sum_j |x_i - x_j| / (2 n sum |x|)."""
    total = float(np.abs(x).sum())
    if total == 0.0:
        return 0.0
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) * total))


def naive_jain(x: np.ndarray) -> float:
    """(sum x)^2 / (n sum x^2), on x / max(x) (the same value) so that x^2 cannot underflow."""
    if not x.any():
        return 1.0
    x = x / x.max()
    return float(x.sum() ** 2 / (len(x) * (x**2).sum()))


values_non_negative = hnp.arrays(
    np.float64,
    st.integers(1, 40),
    elements=st.one_of(
        st.just(0.0), st.floats(0.0, 1e6, allow_subnormal=False), st.sampled_from([1.0, 2.0])
    ),
)
values_moderate = hnp.arrays(
    np.float64,
    st.integers(1, 40),
    # Away from the subnormal range, where scaling by 1e-3 would drop digits.
    elements=st.one_of(st.just(0.0), st.floats(1e-100, 1e6), st.sampled_from([1.0, 2.0])),
)
values_signed = hnp.arrays(
    np.float64,
    st.integers(1, 40),
    elements=st.floats(-1e6, 1e6, allow_subnormal=False),
)


@given(values_non_negative)
def test_gini_and_jain_bounds(x: np.ndarray) -> None:
    n = len(x)
    g, j = gini(x), jain(x)
    assert 0.0 <= g <= 1.0 - 1.0 / n + 1e-12
    assert 1.0 / n <= j <= 1.0
    assert g == pytest.approx(naive_gini(x), abs=1e-12)
    assert j == pytest.approx(naive_jain(x), abs=1e-12)


@given(values_signed)
def test_gini_of_signed_values_matches_the_definition(x: np.ndarray) -> None:
    g = gini(x)
    assert 0.0 <= g < 1.0
    assert g == pytest.approx(naive_gini(x), abs=1e-12)


@given(st.floats(-1e6, 1e6, allow_subnormal=False), st.integers(1, 50))
def test_equal_values(value: float, n: int) -> None:
    assert gini(np.full(n, value)) == 0.0
    if value >= 0.0:
        assert jain(np.full(n, value)) == 1.0


@given(values_moderate, st.floats(1e-3, 1e3), st.randoms(use_true_random=False))
def test_scale_and_order_invariance(x: np.ndarray, factor: float, random) -> None:
    shuffled = x.copy()
    random.shuffle(shuffled)
    assert gini(x * factor) == pytest.approx(gini(x), abs=1e-12)
    assert jain(x * factor) == pytest.approx(jain(x), abs=1e-12)
    assert gini(shuffled) == pytest.approx(gini(x), abs=1e-12)
    assert jain(x * 2.0**-30) == jain(x)  # a power of two is exact here
    assert gini(x * 2.0**-30) == gini(x)


tariff_price = st.one_of(st.just(0.0), st.floats(0.0, 1.0), st.sampled_from([0.1, 0.25]))
signed_price = st.one_of(tariff_price, st.floats(-0.5, 0.0), st.sampled_from([-0.1, -0.25]))
"""Spot-indexed prices, for ``Tariffs(..., allow_negative=True)``."""


@st.composite
def priced_allocations(draw: st.DrawFn) -> tuple[Allocation, Tariffs]:
    """A random community allocated by a random pooled or full dynamic key, and random
    tariffs of every form (flat, per member, per step, per step and consumer), with negative
    prices allowed or not."""
    community, frames = draw(gen.community_frames())
    steps, consumers, producers = community.steps, community.consumers, community.producers
    kind = draw(st.sampled_from(["prorata", "static", "redistributed", "full-dynamic"]))
    if kind == "full-dynamic":
        tables = draw(gen.full_dynamic_tables(producers, steps, consumers))
        key: keys.SharingKey = keys.FullDynamic(
            {
                producer: pd.DataFrame(table, index=frames.index, columns=frames.consumers)
                for producer, table in zip(frames.producers, tables, strict=True)
            }
        )
    elif kind == "prorata":
        key = keys.Prorata()
    else:
        shares = pd.Series(draw(gen.static_coefficients(consumers)), index=frames.consumers)
        key = keys.Static(shares, redistribute=kind == "redistributed")
    allocation = allocate(frames.consumption, frames.production, key)
    allow_negative = draw(st.booleans())
    price = signed_price if allow_negative else tariff_price
    retail_kind = draw(st.sampled_from(["flat", "consumer", "step", "table"]))
    shapes = {"flat": (), "consumer": (consumers,), "step": (steps,), "table": (steps, consumers)}
    values = draw(hnp.arrays(np.float64, shapes[retail_kind], elements=price))
    retail: float | pd.Series | pd.DataFrame = {
        "flat": lambda: float(values),
        "consumer": lambda: pd.Series(values, index=frames.consumers),
        "step": lambda: pd.Series(values, index=frames.index),
        "table": lambda: pd.DataFrame(values, index=frames.index, columns=frames.consumers),
    }[retail_kind]()

    def per_producer() -> float | pd.Series:
        if draw(st.booleans()):
            return draw(price)
        prices = draw(hnp.arrays(np.float64, producers, elements=price))
        return pd.Series(prices, index=frames.producers)

    tariffs = Tariffs(
        retail=retail,
        local=per_producer(),
        surplus=per_producer(),
        allow_negative=allow_negative,
    )
    return allocation, tariffs


def retail_table(allocation: Allocation, tariffs: Tariffs) -> np.ndarray:
    """The retail price of every step and consumer, (steps, consumers), the slow way."""
    shape = allocation.allocated.shape
    retail = tariffs.retail
    if isinstance(retail, pd.DataFrame):
        return retail.loc[allocation.index, allocation.consumers].to_numpy()
    if isinstance(retail, pd.Series) and isinstance(retail.index, pd.DatetimeIndex):
        return np.repeat(retail.loc[allocation.index].to_numpy()[:, None], shape[1], axis=1)
    if isinstance(retail, pd.Series):
        return np.repeat(retail.loc[allocation.consumers].to_numpy()[None, :], shape[0], axis=0)
    return np.full(shape, retail)


def local_prices(allocation: Allocation, price: float | pd.Series) -> np.ndarray:
    if isinstance(price, pd.Series):
        return price.loc[allocation.producers].to_numpy()
    return np.full(len(allocation.producers), price)


@given(priced_allocations())
def test_bills_and_revenue_match_per_step_sums(case: tuple[Allocation, Tariffs]) -> None:
    allocation, tariffs = case
    retail = retail_table(allocation, tariffs)
    local = local_prices(allocation, tariffs.local)  # type: ignore[arg-type]
    surplus = local_prices(allocation, tariffs.surplus)  # type: ignore[arg-type]
    consumption = allocation.consumption.to_numpy()
    # Every flow of every step (steps x producers x consumers), summed the slow way.
    per_step = (
        allocation.flows("step").to_numpy().reshape(len(allocation.index), -1, retail.shape[1])
    )
    paid = np.einsum("p,tpi->i", local, per_step)
    table = bills(allocation, tariffs)
    scale = max(1.0, float(consumption.sum()), float(allocation.production.to_numpy().sum()))
    close = {"rtol": 1e-9, "atol": 1e-9 * scale}
    np.testing.assert_allclose(
        table["grid_cost"], (retail * allocation.grid_supply.to_numpy()).sum(axis=0), **close
    )
    np.testing.assert_allclose(table["local_cost"], paid, **close)
    np.testing.assert_allclose(
        table["bill_without_community"], (retail * consumption).sum(axis=0), **close
    )
    np.testing.assert_allclose(table["bill"], table["grid_cost"] + table["local_cost"], **close)
    np.testing.assert_allclose(
        table["savings"], table["bill_without_community"] - table["bill"], **close
    )
    revenue = producer_revenue(allocation, tariffs)
    totals = allocation.by_producer()
    np.testing.assert_allclose(revenue["local_revenue"], local * totals["self_consumed"], **close)
    np.testing.assert_allclose(revenue["surplus_revenue"], surplus * totals["surplus"], **close)
    np.testing.assert_allclose(
        revenue["revenue_without_community"], surplus * totals["production"], **close
    )
    np.testing.assert_allclose(
        revenue["gain"], revenue["revenue"] - revenue["revenue_without_community"], **close
    )
    # Money is conserved: what consumers pay for local energy, producers receive.
    assert table["local_cost"].sum() == pytest.approx(
        revenue["local_revenue"].sum(), rel=1e-9, abs=1e-9 * scale
    )


@given(priced_allocations())
def test_no_production_saves_nothing(case: tuple[Allocation, Tariffs]) -> None:
    allocation, tariffs = case
    silent = allocate(allocation.consumption, allocation.production * 0.0, allocation.key)
    table = bills(silent, tariffs)
    assert (table["savings"] == 0.0).all()
    assert (table["local_cost"] == 0.0).all()
    assert table["bill"].equals(table["bill_without_community"])
    revenue = producer_revenue(silent, tariffs)
    assert (revenue["revenue"] == 0.0).all()
    assert (revenue["gain"] == 0.0).all()


@given(priced_allocations(), tariff_price)
def test_local_price_equal_to_retail_saves_nothing(
    case: tuple[Allocation, Tariffs], price: float
) -> None:
    allocation, _ = case
    table = bills(allocation, Tariffs(retail=price, local=price, surplus=0.0))
    assert (table["savings"] == 0.0).all()
    np.testing.assert_allclose(table["bill"], table["bill_without_community"], rtol=1e-12)


@given(priced_allocations())
def test_members_served_counts_positive_allocations(case: tuple[Allocation, Tariffs]) -> None:
    allocation, _ = case
    served = members_served(allocation)
    assert served.to_list() == (allocation.allocated > 0).sum(axis=1).to_list()
    assert (members_served(allocation, normalize=True) <= 1.0).all()


# ------------------------------------------------------------------------------------------
# Bad tariffs and bad values: the error class, and the member or step in the message
# ------------------------------------------------------------------------------------------


def make_tariffs(**changes) -> Tariffs:
    return Tariffs(**({"retail": 0.25, "local": 0.125, "surplus": 0.0625} | changes))


STEP = INDEX[1]


@pytest.mark.parametrize(
    ("changes", "error", "names"),
    [
        ({"retail": -0.25}, errors.DataError, "negative"),
        ({"retail": float("nan")}, errors.MissingValueError, "NaN"),
        ({"surplus": float("inf")}, errors.NonFiniteError, "surplus price"),
        ({"retail": True}, errors.NonNumericError, "True"),
        ({"local": "0.1"}, errors.NonNumericError, "'0.1'"),
        ({"retail": {"A": 0.25, "B": -0.5, "C": 0.25}}, errors.DataError, "'B'"),
        ({"local": {"P1": 0.1, "P2": float("nan")}}, errors.MissingValueError, "'P2'"),
        ({"retail": pd.Series(["0.2", "x"], index=["A", "B"])}, errors.NonNumericError, "'A'"),
        (
            {"retail": pd.Series([0.2, None], ["A", "B"], dtype=object)},
            errors.NonNumericError,
            "'B'",
        ),
        (
            {"retail": pd.Series([0.25, 0.25], index=["A", "A"])},
            errors.DuplicateMemberError,
            "'A'",
        ),
        (
            {"retail": pd.Series([0.25, -1.0, 0.25], index=INDEX)},
            errors.DataError,
            str(STEP),
        ),
        (
            {"retail": pd.Series([0.25] * 3, index=INDEX.tz_localize(None))},
            errors.NaiveTimestampError,
            "time zone",
        ),
        (
            {"retail": pd.Series([0.25] * 3, index=INDEX[[0, 1, 1]])},
            errors.DuplicateTimestampError,
            str(STEP),
        ),
        (
            {"retail": pd.DataFrame({"A": [0.25, np.nan, 0.25], "B": 0.5}, index=INDEX)},
            errors.MissingValueError,
            f"'A' at step {STEP}",
        ),
        (
            {"retail": pd.DataFrame({"A": [0.25, 0.25, 0.25], "B": "x"}, index=INDEX)},
            errors.NonNumericError,
            "'B'",
        ),
        (
            {"retail": pd.DataFrame({"A": [0.25, 0.5]}, index=["x", "y"])},
            errors.TimeIndexError,
            "DatetimeIndex",
        ),
        (
            {"retail": pd.DataFrame([[0.25, 0.5]] * 3, index=INDEX, columns=["A", "A"])},
            errors.DuplicateMemberError,
            "'A'",
        ),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, type) else None,
)
def test_bad_prices(changes: dict, error: type[Exception], names: str) -> None:
    with pytest.raises(error) as raised:
        make_tariffs(**changes)
    assert names in str(raised.value)
    assert isinstance(raised.value, errors.RepartitionError)


def test_bad_price_errors_carry_member_and_step() -> None:
    table = pd.DataFrame({"A": [0.25, -1.0, 0.25], "B": 0.5}, index=INDEX)
    with pytest.raises(errors.DataError) as raised:
        make_tariffs(retail=table)
    assert (raised.value.member, raised.value.timestamp) == ("A", STEP)
    with pytest.raises(errors.MissingValueError) as missing:
        make_tariffs(local={"P1": 0.1, "P2": float("nan")})
    assert missing.value.member == "P2"


@pytest.mark.parametrize(
    "changes",
    [
        {"local": pd.DataFrame({"P1": [0.1] * 3}, index=INDEX)},
        {"surplus": pd.Series([0.1] * 3, index=INDEX)},
    ],
)
def test_producer_prices_by_step_are_refused(changes: dict) -> None:
    with pytest.raises(TypeError, match="per producer"):
        make_tariffs(**changes)


@pytest.mark.parametrize(
    ("function", "changes", "error", "culprit"),
    [
        (bills, {"retail": {"A": 0.25, "B": 0.25}}, errors.MissingMemberError, "C"),
        (
            bills,
            {"retail": {"A": 0.2, "B": 0.2, "C": 0.2, "Z": 0.2}},
            errors.UnknownMemberError,
            "Z",
        ),
        (bills, {"local": {"P1": 0.1}}, errors.MissingMemberError, "P2"),
        (bills, {"local": {"P1": 0.1, "P2": 0.1, "PX": 0.1}}, errors.UnknownMemberError, "PX"),
        (producer_revenue, {"surplus": {"P2": 0.1}}, errors.MissingMemberError, "P1"),
        (
            producer_revenue,
            {"local": {"P1": 0.1, "P2": 0.1, "C": 0.1}},
            errors.UnknownMemberError,
            "C",
        ),
        (
            bills,
            {"retail": pd.DataFrame({"A": 0.2, "B": 0.2}, index=INDEX)},
            errors.MissingMemberError,
            "C",
        ),
    ],
)
def test_prices_not_matching_the_members(function, changes, error, culprit) -> None:
    with pytest.raises(error) as raised:
        function(golden(), make_tariffs(**changes))
    assert raised.value.member == culprit
    assert repr(culprit) in str(raised.value)


@pytest.mark.parametrize(
    "retail",
    [
        pd.Series([0.25, 0.25], index=INDEX[[0, 2]]),
        pd.DataFrame({"A": 0.2, "B": 0.2, "C": 0.2}, index=INDEX[[0, 2]]),
        # The right wall-clock times in the wrong time zone are other instants.
        pd.Series([0.25] * 3, index=INDEX.tz_localize(None).tz_localize("UTC")),
    ],
    ids=["series", "table", "wrong-zone"],
)
def test_time_of_use_must_cover_every_step(retail) -> None:
    with pytest.raises(errors.IndexMismatchError) as raised:
        bills(golden(), make_tariffs(retail=retail))
    assert raised.value.timestamp in INDEX
    assert str(raised.value.timestamp) in str(raised.value)


def test_wrong_argument_types() -> None:
    with pytest.raises(TypeError, match="Allocation"):
        bills(golden().allocated, make_tariffs())  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Tariffs"):
        producer_revenue(golden(), {"local": 0.1})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Allocation"):
        rates(None)  # type: ignore[arg-type]


@pytest.mark.parametrize("function", [gini, jain])
@pytest.mark.parametrize(
    ("values", "error", "names"),
    [
        (pd.Series([1.0, np.nan], index=["A", "B"]), errors.MissingValueError, "'B'"),
        ([1.0, np.inf], errors.NonFiniteError, "inf"),
        ([], errors.NoMembersError, "none"),
        (np.ones((2, 2)), errors.DataError, "shape"),
        (["a", "b"], errors.NonNumericError, "dtype"),
    ],
)
def test_bad_fairness_values(function, values, error, names) -> None:
    with pytest.raises(error, match=names):
        function(values)


def test_nan_error_names_the_member() -> None:
    with pytest.raises(errors.MissingValueError) as raised:
        gini(pd.Series([1.0, np.nan], index=["A", "B"]))
    assert raised.value.member == "B"
    assert "dropna" in str(raised.value)


def test_jain_refuses_negative_values() -> None:
    with pytest.raises(errors.DataError, match=r"'B'.*gini") as raised:
        jain(pd.Series([1.0, -0.5], index=["A", "B"]))
    assert raised.value.member == "B"


def test_fairness_of_a_frame_is_refused() -> None:
    with pytest.raises(TypeError, match="column"):
        gini(pd.DataFrame({"x": [1.0]}))
