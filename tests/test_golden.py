"""Golden cases worked by hand, through the public API.

Every expected value is computed in the comment beside it from the rules of
``docs/rules.md`` (the project's rules, with their sources):

- "French keys applied by the DSO": prorata, static, dynamic, full dynamic, and the
  attribution to producers for pooled keys;
- "Strategies a PMO computes itself": static with redistribution (rounds and the
  water-filling limit), with ``keys.Static``'s docstring for what a round hands on;
- "Invariants" and "Metrics" (self-consumption and self-sufficiency rates).

The numbers are chosen so that the arithmetic is exact in binary floating point where
possible; the tolerance is 1e-12.
"""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import pytest

import repartition
from repartition import allocate, allocate_arrays, keys
from repartition.kernels import attribution, water_filling

TOL = {"rtol": 1e-12, "atol": 1e-12}


def half_hours(start: str, periods: int) -> pd.DatetimeIndex:
    return pd.date_range(start, periods=periods, freq="30min", tz="Europe/Paris")


def assert_table(frame: pd.DataFrame, expected, index: pd.Index, columns) -> None:
    """``frame`` has the given labels and, to 1e-12, the given values."""
    pd.testing.assert_index_equal(frame.index, index)
    assert list(frame.columns) == list(columns)
    np.testing.assert_allclose(frame.to_numpy(), np.asarray(expected, dtype=float), **TOL)


# --------------------------------------------------------------------------------------
# Default dynamic key (prorata): docs/rules.md, "Default dynamic key":
#   A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i]), 0 when nobody consumes.
# --------------------------------------------------------------------------------------

PRORATA_INDEX = half_hours("2025-06-01 10:00", 5)


def prorata_case() -> tuple[pd.DataFrame, pd.Series]:
    consumption = pd.DataFrame(
        {"a": [1.0, 2.0, 0.0, 1.0, 0.0], "b": [3.0, 2.0, 0.0, 1.0, 0.0]}, index=PRORATA_INDEX
    )
    production = pd.Series([2.0, 5.0, 1.0, 0.0, 0.0], index=PRORATA_INDEX, name="PV")
    return consumption, production


class TestProrata:
    def test_allocated(self):
        consumption, production = prorata_case()
        result = allocate(consumption, production, keys.Prorata())
        expected = [
            [0.5, 1.5],  # shortage: P=2 < sum C=4, ratio 2/4 = 0.5 -> 1*0.5, 3*0.5
            [2.0, 2.0],  # abundance: P=5 >= sum C=4, ratio min(1, 5/4) = 1 -> A = C
            [0.0, 0.0],  # nobody consumes (sum C = 0): A = 0 by definition
            [0.0, 0.0],  # no production: ratio 0/2 = 0
            [0.0, 0.0],  # nothing at all
        ]
        assert_table(result.allocated, expected, PRORATA_INDEX, ["a", "b"])
        # Every consumer receives the same fraction of its own consumption at a step.
        assert result.allocated.iloc[0, 0] / 1.0 == result.allocated.iloc[0, 1] / 3.0

    def test_producer_side_and_complement(self):
        consumption, production = prorata_case()
        result = allocate(consumption, production, keys.Prorata())
        # AUTOPROD = sum_i A: 0.5+1.5=2, 2+2=4, 0, 0, 0 (one producer holds all of P_tot).
        assert_table(
            result.self_consumed, [[2.0], [4.0], [0.0], [0.0], [0.0]], PRORATA_INDEX, ["PV"]
        )
        # SURPLUS = P - AUTOPROD: 2-2=0, 5-4=1, 1-0=1, 0, 0.
        assert_table(result.surplus, [[0.0], [1.0], [1.0], [0.0], [0.0]], PRORATA_INDEX, ["PV"])
        # COMPLEMENT = C - A (docs/rules.md, invariant 3):
        # (1-.5, 3-1.5), (0, 0), (0, 0), (1, 1), (0, 0).
        assert_table(
            result.grid_supply,
            [[0.5, 1.5], [0.0, 0.0], [0.0, 0.0], [1.0, 1.0], [0.0, 0.0]],
            PRORATA_INDEX,
            ["a", "b"],
        )

    def test_summary(self):
        consumption, production = prorata_case()
        summary = allocate(consumption, production, keys.Prorata()).summary()
        assert summary.consumption_kwh == pytest.approx(10.0, rel=1e-12)  # a 4 + b 6
        assert summary.production_kwh == pytest.approx(8.0, rel=1e-12)  # 2+5+1+0+0
        assert summary.allocated_kwh == pytest.approx(6.0, rel=1e-12)  # 2 + 4
        assert summary.grid_supply_kwh == pytest.approx(4.0, rel=1e-12)  # 10 - 6
        assert summary.surplus_kwh == pytest.approx(2.0, rel=1e-12)  # 8 - 6
        # docs/metrics.md: self-consumption = sum A / sum P_tot = 6/8.
        assert summary.self_consumption_rate == pytest.approx(0.75, rel=1e-12)
        # self-sufficiency = sum A / sum C = 6/10.
        assert summary.self_sufficiency_rate == pytest.approx(0.6, rel=1e-12)
        series = summary.to_series()
        assert series["allocated_kwh"] == pytest.approx(6.0, rel=1e-12)
        assert series["self_sufficiency_rate"] == pytest.approx(0.6, rel=1e-12)

    def test_by_consumer_and_by_producer(self):
        consumption, production = prorata_case()
        result = allocate(consumption, production, keys.Prorata())
        by_consumer = result.by_consumer()
        assert list(by_consumer.index) == ["a", "b"]
        # a: C = 1+2+1 = 4, A = 0.5+2 = 2.5, COMPLEMENT 1.5, rate 2.5/4
        # b: C = 3+2+1 = 6, A = 1.5+2 = 3.5, COMPLEMENT 2.5, rate 3.5/6
        np.testing.assert_allclose(by_consumer["consumption"], [4.0, 6.0], **TOL)
        np.testing.assert_allclose(by_consumer["allocated"], [2.5, 3.5], **TOL)
        np.testing.assert_allclose(by_consumer["grid_supply"], [1.5, 2.5], **TOL)
        np.testing.assert_allclose(by_consumer["self_sufficiency_rate"], [2.5 / 4, 3.5 / 6], **TOL)
        by_producer = result.by_producer()
        assert list(by_producer.index) == ["PV"]
        # PV: P = 8, AUTOPROD = 6, SURPLUS = 2, rate 6/8
        np.testing.assert_allclose(by_producer["production"], [8.0], **TOL)
        np.testing.assert_allclose(by_producer["self_consumed"], [6.0], **TOL)
        np.testing.assert_allclose(by_producer["surplus"], [2.0], **TOL)
        np.testing.assert_allclose(by_producer["self_consumption_rate"], [0.75], **TOL)

    def test_flows_single_producer(self):
        consumption, production = prorata_case()
        flows = allocate(consumption, production, keys.Prorata()).flows()
        # One producer: it gives each consumer everything the consumer receives.
        assert list(flows.index) == ["PV"]
        assert list(flows.columns) == ["a", "b"]
        np.testing.assert_allclose(flows.to_numpy(), [[2.5, 3.5]], **TOL)

    def test_rates_are_nan_without_production_or_consumption(self):
        # AllocationSummary docstring: a rate is NaN when its denominator is 0.
        index = half_hours("2025-06-01 10:00", 2)
        consumption = pd.DataFrame({"a": [1.0, 2.0]}, index=index)
        nothing_produced = allocate(
            consumption, pd.Series([0.0, 0.0], index=index, name="PV"), keys.Prorata()
        ).summary()
        assert np.isnan(nothing_produced.self_consumption_rate)
        assert nothing_produced.self_sufficiency_rate == 0.0  # 0 / 3
        nothing_consumed = allocate(
            consumption * 0.0, pd.Series([1.0, 1.0], index=index, name="PV"), keys.Prorata()
        )
        assert np.isnan(nothing_consumed.summary().self_sufficiency_rate)
        assert nothing_consumed.summary().self_consumption_rate == 0.0  # 0 / 2
        assert np.isnan(nothing_consumed.by_consumer()["self_sufficiency_rate"].iloc[0])


# --------------------------------------------------------------------------------------
# Pooled keys and several producers: docs/rules.md, "Attribution to producers":
#   AUTOPROD[t, j] = (sum_i A[t, i]) * P[t, j] / P_tot[t], SURPLUS = P - AUTOPROD,
#   flow[t, j, i] = A[t, i] * P[t, j] / P_tot[t].
# Two steps on 2025-06-01 (local) and two on 2025-06-02, to check flows("D").
# --------------------------------------------------------------------------------------

POOLED_INDEX = half_hours("2025-06-01 23:00", 4)  # 23:00, 23:30, 00:00 (+1 day), 00:30


def pooled_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    consumption = pd.DataFrame(
        {"a": [1.0, 2.0, 3.0, 1.0], "b": [3.0, 2.0, 1.0, 2.0]}, index=POOLED_INDEX
    )
    production = pd.DataFrame(
        {"p1": [1.0, 6.0, 0.0, 0.0], "p2": [3.0, 2.0, 2.0, 0.0]}, index=POOLED_INDEX
    )
    return consumption, production


class TestPooledAttribution:
    def test_allocated_and_producers(self):
        consumption, production = pooled_case()
        result = allocate(consumption, production, keys.Prorata())
        expected_allocated = [
            [1.0, 3.0],  # P_tot = 1+3 = 4 = sum C: ratio 1
            [2.0, 2.0],  # P_tot = 8 > sum C = 4: ratio 1
            [1.5, 0.5],  # P_tot = 2 < sum C = 4: ratio 0.5
            [0.0, 0.0],  # P_tot = 0
        ]
        assert_table(result.allocated, expected_allocated, POOLED_INDEX, ["a", "b"])
        expected_self_consumed = [
            [1.0, 3.0],  # sum A = 4; 4 * 1/4, 4 * 3/4
            [3.0, 1.0],  # sum A = 4; 4 * 6/8, 4 * 2/8
            [0.0, 2.0],  # sum A = 2; 2 * 0/2, 2 * 2/2
            [0.0, 0.0],  # nothing produced
        ]
        assert_table(result.self_consumed, expected_self_consumed, POOLED_INDEX, ["p1", "p2"])
        expected_surplus = [
            [0.0, 0.0],  # 1-1, 3-3
            [3.0, 1.0],  # 6-3, 2-1
            [0.0, 0.0],  # 0-0, 2-2
            [0.0, 0.0],
        ]
        assert_table(result.surplus, expected_surplus, POOLED_INDEX, ["p1", "p2"])
        # COMPLEMENT = C - A
        expected_grid = [[0.0, 0.0], [0.0, 0.0], [1.5, 0.5], [1.0, 2.0]]
        assert_table(result.grid_supply, expected_grid, POOLED_INDEX, ["a", "b"])

    def test_flows_whole_period(self):
        consumption, production = pooled_case()
        flows = allocate(consumption, production, keys.Prorata()).flows()
        assert list(flows.index) == ["p1", "p2"]
        assert list(flows.columns) == ["a", "b"]
        expected = [
            # p1 -> a: 1*1/4 + 2*6/8 = 1.75 ; p1 -> b: 3*1/4 + 2*6/8 = 2.25
            [1.75, 2.25],
            # p2 -> a: 1*3/4 + 2*2/8 + 1.5*2/2 = 2.75 ; p2 -> b: 3*3/4 + 2*2/8 + 0.5 = 3.25
            [2.75, 3.25],
        ]
        np.testing.assert_allclose(flows.to_numpy(), expected, **TOL)
        # Total flow = total AUTOCONS = 4 + 4 + 2 = 10
        assert flows.to_numpy().sum() == pytest.approx(10.0, rel=1e-12)

    def test_flows_per_step(self):
        consumption, production = pooled_case()
        flows = allocate(consumption, production, keys.Prorata()).flows("step")
        assert flows.index.names == ["timestamp", "producer"]
        assert len(flows) == 4 * 2
        expected = [
            [0.25, 0.75],  # t0, p1: (1, 3) * 1/4
            [0.75, 2.25],  # t0, p2: (1, 3) * 3/4
            [1.5, 1.5],  # t1, p1: (2, 2) * 6/8
            [0.5, 0.5],  # t1, p2: (2, 2) * 2/8
            [0.0, 0.0],  # t2, p1: produces nothing
            [1.5, 0.5],  # t2, p2: (1.5, 0.5) * 2/2
            [0.0, 0.0],  # t3, p1
            [0.0, 0.0],  # t3, p2
        ]
        np.testing.assert_allclose(flows.to_numpy(), expected, **TOL)
        assert flows.index[2] == (POOLED_INDEX[1], "p1")

    def test_flows_per_local_day(self):
        consumption, production = pooled_case()
        flows = allocate(consumption, production, keys.Prorata()).flows("D")
        days = pd.DatetimeIndex(
            [
                pd.Timestamp("2025-06-01", tz="Europe/Paris"),
                pd.Timestamp("2025-06-02", tz="Europe/Paris"),
            ]
        )
        pd.testing.assert_index_equal(
            flows.index.get_level_values("period").unique(), days, check_names=False
        )
        expected = [
            [1.75, 2.25],  # 06-01, p1: t0 + t1 = (0.25+1.5, 0.75+1.5)
            [1.25, 2.75],  # 06-01, p2: (0.75+0.5, 2.25+0.5)
            [0.0, 0.0],  # 06-02, p1: produces nothing that day
            [1.5, 0.5],  # 06-02, p2: t2 only
        ]
        np.testing.assert_allclose(flows.to_numpy(), expected, **TOL)

    def test_totals(self):
        consumption, production = pooled_case()
        result = allocate(consumption, production, keys.Prorata())
        summary = result.summary()
        assert summary.consumption_kwh == pytest.approx(15.0, rel=1e-12)  # a 7 + b 8
        assert summary.production_kwh == pytest.approx(14.0, rel=1e-12)  # p1 7 + p2 7
        assert summary.allocated_kwh == pytest.approx(10.0, rel=1e-12)  # 4 + 4 + 2 + 0
        assert summary.grid_supply_kwh == pytest.approx(5.0, rel=1e-12)  # 15 - 10
        assert summary.surplus_kwh == pytest.approx(4.0, rel=1e-12)  # 14 - 10
        assert summary.self_consumption_rate == pytest.approx(10 / 14, rel=1e-12)
        assert summary.self_sufficiency_rate == pytest.approx(10 / 15, rel=1e-12)
        by_consumer = result.by_consumer()
        # a: C 7, A 1+2+1.5 = 4.5 ; b: C 8, A 3+2+0.5 = 5.5
        np.testing.assert_allclose(
            by_consumer.to_numpy(), [[7.0, 4.5, 2.5, 4.5 / 7], [8.0, 5.5, 2.5, 5.5 / 8]], **TOL
        )
        assert list(by_consumer.columns) == [
            "consumption",
            "allocated",
            "grid_supply",
            "self_sufficiency_rate",
        ]
        by_producer = result.by_producer()
        # p1: P 7, AUTOPROD 1+3 = 4, SURPLUS 3 ; p2: P 7, AUTOPROD 3+1+2 = 6, SURPLUS 1
        np.testing.assert_allclose(
            by_producer.to_numpy(), [[7.0, 4.0, 3.0, 4 / 7], [7.0, 6.0, 1.0, 6 / 7]], **TOL
        )
        assert list(by_producer.columns) == [
            "production",
            "self_consumed",
            "surplus",
            "self_consumption_rate",
        ]


# --------------------------------------------------------------------------------------
# Static key: docs/rules.md, "Static key": A = min(C, k * P_tot); unused share is surplus.
# Redistribution: docs/rules.md, "Static key with redistribution", and keys.Static's docstring.
#
# k = (a 1/2, b 1/4, c 1/8, d 1/8, e 0); two producers p1, p2 (attribution as above).
# t0: C = (4, 5, 3.25, 10, 5), P = (12, 4), P_tot = 16
#   DSO (rounds=0), level L0 = 16: caps k*16 = (8, 4, 2, 2, 0)
#       A = (min(4,8), min(5,4), min(3.25,2), min(10,2), 0) = (4, 4, 2, 2, 0), sum 12
#   round 1: leftover 16-12 = 4 to unsaturated b, c, d (keys 1/4+1/8+1/8 = 1/2):
#       b 4 + 4*(1/4)/(1/2) = 6 -> capped 5; c 2 + 1 = 3; d 2 + 1 = 3
#       A = (4, 5, 3, 3, 0), sum 15 (level 16 + 4/(1/2) = 24: min(C, k*24) agrees)
#   round 2: leftover 1 to unsaturated c, d (keys 1/4): c 3 + 0.5 = 3.5 -> capped 3.25;
#       d 3 + 0.5 = 3.5.  A = (4, 5, 3.25, 3.5, 0), sum 15.75 (level 28)
#   limit: sum_i min(C_i, k_i L) = min(P_tot, sum_{k>0} C) = min(16, 22.25) = 16
#       with a, b, c saturated: 4 + 5 + 3.25 + L/8 = 16 -> L = 30, d = 3.75 <= 10.
#       A = (4, 5, 3.25, 3.75, 0), sum 16 (round 3 gives d the last 0.25: same)
#   e has k = 0: nothing, in every variant.
# t1: C = (1, 1, 1, 1, 1), P = (12, 4): caps (8, 4, 2, 2, 0) -> A = (1, 1, 1, 1, 0) in
#   every variant (every keyed consumer served, e gets nothing), sum 4.
# t2: P = (0, 0): A = 0.
# --------------------------------------------------------------------------------------

STATIC_INDEX = half_hours("2025-06-01 12:00", 3)
STATIC_KEY = {"a": 0.5, "b": 0.25, "c": 0.125, "d": 0.125, "e": 0.0}
CONSUMERS = ["a", "b", "c", "d", "e"]


def static_case() -> tuple[pd.DataFrame, pd.DataFrame]:
    consumption = pd.DataFrame(
        [[4.0, 5.0, 3.25, 10.0, 5.0], [1.0] * 5, [2.0] * 5],
        index=STATIC_INDEX,
        columns=CONSUMERS,
    )
    production = pd.DataFrame({"p1": [12.0, 12.0, 0.0], "p2": [4.0, 4.0, 0.0]}, index=STATIC_INDEX)
    return consumption, production


STATIC_VARIANTS = {
    # name: (Static kwargs, A at t0, sum_i A at t0)
    "dso": ({}, [4.0, 4.0, 2.0, 2.0, 0.0], 12.0),
    "rounds=0": ({"rounds": 0}, [4.0, 4.0, 2.0, 2.0, 0.0], 12.0),
    "rounds=1": ({"rounds": 1}, [4.0, 5.0, 3.0, 3.0, 0.0], 15.0),
    "rounds=2": ({"rounds": 2}, [4.0, 5.0, 3.25, 3.5, 0.0], 15.75),
    "rounds=3": ({"rounds": 3}, [4.0, 5.0, 3.25, 3.75, 0.0], 16.0),
    "limit": ({"redistribute": True}, [4.0, 5.0, 3.25, 3.75, 0.0], 16.0),
}


class TestStatic:
    @pytest.mark.parametrize("variant", list(STATIC_VARIANTS))
    def test_allocated(self, variant):
        kwargs, first_row, _ = STATIC_VARIANTS[variant]
        consumption, production = static_case()
        result = allocate(consumption, production, keys.Static(STATIC_KEY, **kwargs))
        expected = [first_row, [1.0, 1.0, 1.0, 1.0, 0.0], [0.0] * 5]
        assert_table(result.allocated, expected, STATIC_INDEX, CONSUMERS)
        # COMPLEMENT = C - A
        assert_table(
            result.grid_supply,
            np.array(static_case()[0]) - np.array(expected),
            STATIC_INDEX,
            CONSUMERS,
        )

    @pytest.mark.parametrize("variant", list(STATIC_VARIANTS))
    def test_attribution_to_producers(self, variant):
        kwargs, _, allocated_t0 = STATIC_VARIANTS[variant]
        consumption, production = static_case()
        result = allocate(consumption, production, keys.Static(STATIC_KEY, **kwargs))
        # AUTOPROD[t0] = sum A * (12/16, 4/16); t1: 4 * (3/4, 1/4) = (3, 1); t2: 0
        expected_self = [[allocated_t0 * 0.75, allocated_t0 * 0.25], [3.0, 1.0], [0.0, 0.0]]
        assert_table(result.self_consumed, expected_self, STATIC_INDEX, ["p1", "p2"])
        # SURPLUS = P - AUTOPROD, e.g. DSO t0: (12 - 9, 4 - 3) = (3, 1); t1: (9, 3)
        expected_surplus = [
            [12.0 - allocated_t0 * 0.75, 4.0 - allocated_t0 * 0.25],
            [9.0, 3.0],
            [0.0, 0.0],
        ]
        assert_table(result.surplus, expected_surplus, STATIC_INDEX, ["p1", "p2"])

    def test_one_round_two_rounds_and_limit_differ(self):
        consumption, production = static_case()
        results = {
            name: allocate(consumption, production, keys.Static(STATIC_KEY, **kwargs))
            .allocated.iloc[0]
            .to_numpy()
            for name, (kwargs, _, _) in STATIC_VARIANTS.items()
        }
        # d: 2 (DSO) < 3 (1 round) < 3.5 (2 rounds) < 3.75 (limit)
        assert [results[name][3] for name in ("dso", "rounds=1", "rounds=2", "limit")] == (
            pytest.approx([2.0, 3.0, 3.5, 3.75], rel=1e-12)
        )

    def test_limit_solves_the_water_filling_equation(self):
        consumption, production = static_case()
        result = allocate(consumption, production, keys.Static(STATIC_KEY, redistribute=True))
        k = np.array(list(STATIC_KEY.values()))
        C = consumption.to_numpy()[0]
        level = 30.0  # worked out above
        # sum_i min(C_i, k_i L) = min(P_tot, sum_{k_i > 0} C_i) = min(16, 22.25)
        assert np.minimum(C, k * level).sum() == pytest.approx(16.0, rel=1e-12)
        np.testing.assert_allclose(result.allocated.to_numpy()[0], np.minimum(C, k * level), **TOL)

    def test_redistribution_hands_on_the_uncovered_share(self):
        # k = (1/4, 1/4): half the production is covered by no coefficient.
        index = half_hours("2025-06-01 12:00", 2)
        consumption = pd.DataFrame({"a": [4.0, 10.0], "b": [1.0, 1.0]}, index=index)
        production = pd.Series([8.0, 8.0], index=index, name="PV")
        coefficients = {"a": 0.25, "b": 0.25}
        dso = allocate(consumption, production, keys.Static(coefficients))
        # caps 8/4 = (2, 2): t0 (min(4,2), min(1,2)) = (2, 1); t1 (2, 1); surplus 8 - 3 = 5
        assert_table(dso.allocated, [[2.0, 1.0], [2.0, 1.0]], index, ["a", "b"])
        assert_table(dso.surplus, [[5.0], [5.0]], index, ["PV"])
        limit = allocate(consumption, production, keys.Static(coefficients, redistribute=True))
        # t0: min(P_tot, sum C) = min(8, 5) = 5: everyone is served, (4, 1), surplus 3.
        # t1: min(8, 11) = 8: b saturated (1), a gets k*L = 7 with L = 28 -> (7, 1), surplus 0.
        assert_table(limit.allocated, [[4.0, 1.0], [7.0, 1.0]], index, ["a", "b"])
        assert_table(limit.surplus, [[3.0], [0.0]], index, ["PV"])
        one_round = allocate(consumption, production, keys.Static(coefficients, rounds=1))
        # round 1: leftover 8 - 3 = 5 all to a (only unsaturated): t0 2+5 -> capped 4; t1 7.
        assert_table(one_round.allocated, [[4.0, 1.0], [7.0, 1.0]], index, ["a", "b"])

    def test_passes_only_for_redistributing_keys(self):
        consumption, production = static_case()
        assert allocate(consumption, production, keys.Static(STATIC_KEY)).passes is None
        passes = allocate(
            consumption, production, keys.Static(STATIC_KEY, redistribute=True)
        ).passes
        assert passes is not None
        pd.testing.assert_index_equal(passes.index, STATIC_INDEX)
        assert (passes >= 1).all()

    def test_plain_list_in_column_order_and_series(self):
        consumption, production = static_case()
        expected = allocate(consumption, production, keys.Static(STATIC_KEY)).allocated
        as_list = allocate(consumption, production, keys.Static(list(STATIC_KEY.values())))
        pd.testing.assert_frame_equal(as_list.allocated, expected)
        # A Series in another order is matched by consumer id.
        shuffled = pd.Series(STATIC_KEY)[["e", "c", "a", "d", "b"]]
        as_series = allocate(consumption, production, keys.Static(shuffled))
        pd.testing.assert_frame_equal(as_series.allocated, expected)

    def test_order_of_members_does_not_matter(self):
        # docs/rules.md, invariant 5, on the redistribution limit.
        consumption, production = static_case()
        expected = allocate(consumption, production, keys.Static(STATIC_KEY, redistribute=True))
        permuted = allocate(
            consumption[["d", "b", "e", "a", "c"]],
            production[["p2", "p1"]],
            keys.Static(STATIC_KEY, redistribute=True),
        )
        pd.testing.assert_frame_equal(
            permuted.allocated[CONSUMERS], expected.allocated, check_exact=False, rtol=1e-12
        )
        pd.testing.assert_frame_equal(
            permuted.surplus[["p1", "p2"]], expected.surplus, check_exact=False, rtol=1e-12
        )

    def test_limit_with_many_consumers_saturating_one_per_round(self):
        """Exact limit when the rounds saturate one consumer at a time, 15 times.

        Keys k_i = 1/2, 1/4, ..., 1/2**15, 1/2**15 (sum 1). Consumer i is given the
        consumption k_i * T_i with T_i just above the level of round i - 1 (a tenth of the
        way to the level of round i), so that each round saturates exactly one consumer and
        the rounds need more passes than the kernel's iteration cap
        (``water_filling.MAX_LEVEL_PASSES``). The last consumer consumes far more than is
        produced. The limit is then known without any rounds: everyone but the last is
        served (A = C) and the last receives the rest, P_tot - sum of the others, as long
        as the level this gives, L = A_last / k_last, leaves the others saturated
        (C_i <= k_i L, checked below).
        """
        n, P_tot = 16, 100.0
        k = 0.5 ** np.arange(1, n + 1)
        k[-1] *= 2
        thresholds = [50.0]  # C_0 / k_0: consumer 0 saturates at the DSO's level 100
        level = P_tot
        for served in range(1, n):
            allocated = (k[:served] * thresholds).sum() + (k[served:] * level).sum()
            next_level = level + (P_tot - allocated) / k[served:].sum()
            thresholds.append(level + 0.1 * (next_level - level))
            level = next_level
        thresholds[-1] = 1e9
        C = k * np.array(thresholds)
        index = half_hours("2025-06-01 12:00", 1)
        names = [f"c{i:02d}" for i in range(n)]
        consumption = pd.DataFrame([C], index=index, columns=names)
        production = pd.Series([P_tot], index=index, name="PV")
        result = allocate(
            consumption,
            production,
            keys.Static(dict(zip(names, k, strict=True)), redistribute=True),
        )
        expected = C.copy()
        expected[-1] = P_tot - C[:-1].sum()
        limit_level = expected[-1] / k[-1]
        assert (C[:-1] < 0.96 * k[:-1] * limit_level).all()  # the others are saturated at L
        np.testing.assert_allclose(result.allocated.to_numpy()[0], expected, **TOL)
        assert result.surplus.iloc[0, 0] == pytest.approx(0.0, abs=1e-12)
        assert result.passes.iloc[0] > water_filling.MAX_LEVEL_PASSES


# --------------------------------------------------------------------------------------
# Dynamic key: docs/rules.md, "Dynamic key": A = min(C, k[t, i] * P_tot); a step without key
# (all-NaN row) falls back to the default dynamic key (prorata).
# --------------------------------------------------------------------------------------

DYNAMIC_INDEX = half_hours("2025-06-01 12:00", 3)


def dynamic_case() -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    consumption = pd.DataFrame({"a": [1.0, 1.0, 4.0], "b": [3.0, 3.0, 1.0]}, index=DYNAMIC_INDEX)
    production = pd.Series([4.0, 2.0, 8.0], index=DYNAMIC_INDEX, name="PV")
    coefficients = pd.DataFrame(
        {"a": [0.5, np.nan, 0.25], "b": [0.5, np.nan, 0.5]}, index=DYNAMIC_INDEX
    )
    return consumption, production, coefficients


class TestDynamic:
    def test_allocated_surplus_and_fallback(self):
        consumption, production, coefficients = dynamic_case()
        result = allocate(consumption, production, keys.Dynamic(coefficients))
        expected = [
            [1.0, 2.0],  # k*P = (2, 2): (min(1, 2), min(3, 2))
            [0.5, 1.5],  # no key: prorata, ratio 2/4 = 0.5 -> (1*0.5, 3*0.5)
            [2.0, 1.0],  # k*P = (0.25*8, 0.5*8) = (2, 4): (min(4, 2), min(1, 4))
        ]
        assert_table(result.allocated, expected, DYNAMIC_INDEX, ["a", "b"])
        # SURPLUS = P - sum A: 4-3 = 1, 2-2 = 0, 8-3 = 5 (unused shares not redistributed)
        assert_table(result.surplus, [[1.0], [0.0], [5.0]], DYNAMIC_INDEX, ["PV"])
        assert_table(result.self_consumed, [[3.0], [2.0], [3.0]], DYNAMIC_INDEX, ["PV"])
        assert result.passes is None

    def test_coefficients_matched_by_label(self):
        # Columns in another order, and a longer table (a year of keys serving one day):
        # matched by consumer id and timestamp, extra rows ignored (keys.Dynamic docstring).
        consumption, production, coefficients = dynamic_case()
        expected = allocate(consumption, production, keys.Dynamic(coefficients)).allocated
        longer = coefficients[["b", "a"]].reindex(half_hours("2025-06-01 11:00", 6))
        longer.loc[half_hours("2025-06-01 11:00", 2)] = 0.5
        result = allocate(consumption, production, keys.Dynamic(longer))
        pd.testing.assert_frame_equal(result.allocated, expected)

    def test_dynamic_keys_reproduce_any_allocation(self):
        # docs/rules.md, "Strategies sent as dynamic keys": k = A / P_tot sent as a dynamic key
        # reproduces A. Here A is the static limit (4, 5, 3.25, 3.75, 0) of the static case.
        consumption, production = static_case()
        target = allocate(consumption, production, keys.Static(STATIC_KEY, redistribute=True))
        P_tot = production.sum(axis=1).to_numpy()
        coefficients = target.allocated.copy()
        coefficients.iloc[:2] = target.allocated.iloc[:2].to_numpy() / P_tot[:2, None]
        coefficients.iloc[2] = 0.0  # P_tot = 0: any key gives 0
        result = allocate(consumption, production, keys.Dynamic(coefficients))
        np.testing.assert_allclose(
            result.allocated.to_numpy(), target.allocated.to_numpy(), rtol=1e-12, atol=1e-12
        )


# --------------------------------------------------------------------------------------
# Full dynamic key: docs/rules.md, "Full dynamic key": A[t, j, i] = k[t, j, i] * P[t, j]; where
# sum_j A[t, j, i] > C[t, i] the consumer's pair shares are scaled by C / sum_j A[t, j, i].
# t0 = 2025-06-01 23:30 and t1 = 2025-06-02 00:00 (local), to check flows("D").
#
# t0: P = (2, 2). a offered 0.5*2 + 0.25*2 = 1.5 > C = 1: scale 1/1.5 = 2/3, pairs
#     p1->a 1*2/3 = 2/3, p2->a 0.5*2/3 = 1/3, A_a = 1.
#     b offered 0.5*2 + 0.75*2 = 2.5 <= 3: pairs p1->b 1, p2->b 1.5, A_b = 2.5.
# t1: P = (3, 1). a offered 0.75*3 + 1*1 = 3.25 <= 4: pairs 2.25, 1, A_a = 3.25.
#     b offered 0.25*3 + 0*1 = 0.75 > 0.5: scale 2/3, pairs p1->b 0.5, p2->b 0, A_b = 0.5.
# --------------------------------------------------------------------------------------

FULL_INDEX = half_hours("2025-06-01 23:30", 2)


def full_dynamic_case() -> tuple[pd.DataFrame, pd.DataFrame, dict[str, pd.DataFrame]]:
    consumption = pd.DataFrame({"a": [1.0, 4.0], "b": [3.0, 0.5]}, index=FULL_INDEX)
    production = pd.DataFrame({"p1": [2.0, 3.0], "p2": [2.0, 1.0]}, index=FULL_INDEX)
    coefficients = {
        "p1": pd.DataFrame({"a": [0.5, 0.75], "b": [0.5, 0.25]}, index=FULL_INDEX),
        "p2": pd.DataFrame({"a": [0.25, 1.0], "b": [0.75, 0.0]}, index=FULL_INDEX),
    }
    return consumption, production, coefficients


class TestFullDynamic:
    def test_allocated_self_consumed_surplus(self):
        consumption, production, coefficients = full_dynamic_case()
        result = allocate(consumption, production, keys.FullDynamic(coefficients))
        assert_table(result.allocated, [[1.0, 2.5], [3.25, 0.5]], FULL_INDEX, ["a", "b"])
        # AUTOPROD = sum of each producer's scaled pairs:
        # t0 p1: 2/3 + 1 = 5/3, p2: 1/3 + 1.5 = 11/6 ; t1 p1: 2.25 + 0.5, p2: 1 + 0
        assert_table(result.self_consumed, [[5 / 3, 11 / 6], [2.75, 1.0]], FULL_INDEX, ["p1", "p2"])
        # SURPLUS = P - AUTOPROD: t0 (2 - 5/3, 2 - 11/6) ; t1 (3 - 2.75, 1 - 1)
        assert_table(result.surplus, [[1 / 3, 1 / 6], [0.25, 0.0]], FULL_INDEX, ["p1", "p2"])
        assert_table(result.grid_supply, [[0.0, 0.5], [0.75, 0.0]], FULL_INDEX, ["a", "b"])

    def test_flows(self):
        consumption, production, coefficients = full_dynamic_case()
        result = allocate(consumption, production, keys.FullDynamic(coefficients))
        # whole period: p1->a 2/3 + 2.25, p1->b 1 + 0.5, p2->a 1/3 + 1, p2->b 1.5 + 0
        # (the pooled rule would give p1->a at t0 A_a * P1/P_tot = 0.5, not 2/3)
        flows = result.flows()
        assert list(flows.index) == ["p1", "p2"]
        np.testing.assert_allclose(flows.to_numpy(), [[2 / 3 + 2.25, 1.5], [4 / 3, 1.5]], **TOL)
        per_step = result.flows("step")
        expected_steps = [[2 / 3, 1.0], [1 / 3, 1.5], [2.25, 0.5], [1.0, 0.0]]
        np.testing.assert_allclose(per_step.to_numpy(), expected_steps, **TOL)
        assert list(per_step.index) == [
            (FULL_INDEX[0], "p1"),
            (FULL_INDEX[0], "p2"),
            (FULL_INDEX[1], "p1"),
            (FULL_INDEX[1], "p2"),
        ]
        # One step on each local day: daily flows are the per-step flows.
        per_day = result.flows("D")
        np.testing.assert_allclose(per_day.to_numpy(), expected_steps, **TOL)
        assert list(per_day.index.get_level_values("period").unique()) == [
            pd.Timestamp("2025-06-01", tz="Europe/Paris"),
            pd.Timestamp("2025-06-02", tz="Europe/Paris"),
        ]

    def test_totals(self):
        consumption, production, coefficients = full_dynamic_case()
        result = allocate(consumption, production, keys.FullDynamic(coefficients))
        summary = result.summary()
        # C = 1+3+4+0.5 = 8.5, P = 2+2+3+1 = 8, A = 1+2.5+3.25+0.5 = 7.25
        assert summary.consumption_kwh == pytest.approx(8.5, rel=1e-12)
        assert summary.production_kwh == pytest.approx(8.0, rel=1e-12)
        assert summary.allocated_kwh == pytest.approx(7.25, rel=1e-12)
        assert summary.surplus_kwh == pytest.approx(0.75, rel=1e-12)  # 1/3 + 1/6 + 0.25
        assert summary.self_consumption_rate == pytest.approx(7.25 / 8, rel=1e-12)
        assert summary.self_sufficiency_rate == pytest.approx(7.25 / 8.5, rel=1e-12)
        # p1: P 5, AUTOPROD 5/3 + 2.75 ; p2: P 3, AUTOPROD 11/6 + 1
        np.testing.assert_allclose(
            result.by_producer()["self_consumed"], [5 / 3 + 2.75, 11 / 6 + 1.0], **TOL
        )

    def test_coefficient_columns_matched_by_label(self):
        consumption, production, coefficients = full_dynamic_case()
        expected = allocate(consumption, production, keys.FullDynamic(coefficients))
        reordered = {"p2": coefficients["p2"][["b", "a"]], "p1": coefficients["p1"]}
        result = allocate(consumption, production, keys.FullDynamic(reordered))
        pd.testing.assert_frame_equal(result.allocated, expected.allocated)
        pd.testing.assert_frame_equal(result.self_consumed, expected.self_consumed)


# --------------------------------------------------------------------------------------
# Array-level API: the same golden cases on plain arrays (keys.Static docstring; the
# result's arrays are in the columns' order).
# --------------------------------------------------------------------------------------


class TestArrays:
    def test_static_two_rounds(self):
        consumption, production = static_case()
        k = np.array(list(STATIC_KEY.values()))
        result = allocate_arrays(
            consumption.to_numpy(), production.to_numpy(), keys.Static(k, rounds=2)
        )
        assert isinstance(result, repartition.AllocationArrays)
        # t0 after two rounds: (4, 5, 3.25, 3.5, 0), sum 15.75 (worked out above)
        expected = np.array([[4.0, 5.0, 3.25, 3.5, 0.0], [1.0, 1.0, 1.0, 1.0, 0.0], [0.0] * 5])
        np.testing.assert_allclose(result.allocated, expected, **TOL)
        # AUTOPROD t0: 15.75 * (3/4, 1/4) = (11.8125, 3.9375); SURPLUS (0.1875, 0.0625)
        np.testing.assert_allclose(
            result.self_consumed, [[11.8125, 3.9375], [3.0, 1.0], [0.0, 0.0]], **TOL
        )
        np.testing.assert_allclose(
            result.surplus, [[0.1875, 0.0625], [9.0, 3.0], [0.0, 0.0]], **TOL
        )
        # COMPLEMENT t0: (0, 0, 0, 10 - 3.5, 5 - 0)
        np.testing.assert_allclose(result.grid_supply[0], [0.0, 0.0, 0.0, 6.5, 5.0], **TOL)
        # flows t0: A * 3/4 from p1 and A * 1/4 from p2; t1: (1,1,1,1,0) * (3/4, 1/4)
        flows = result.flows()
        assert flows.shape == (1, 2, 5)
        np.testing.assert_allclose(
            flows[0],
            [
                [3.0 + 0.75, 3.75 + 0.75, 2.4375 + 0.75, 2.625 + 0.75, 0.0],
                [1.0 + 0.25, 1.25 + 0.25, 0.8125 + 0.25, 0.875 + 0.25, 0.0],
            ],
            **TOL,
        )
        # flows over periods [0, 1) and [1, 3)
        np.testing.assert_allclose(
            result.flows(np.array([0, 1]))[1],
            [[0.75, 0.75, 0.75, 0.75, 0.0], [0.25, 0.25, 0.25, 0.25, 0.0]],
            **TOL,
        )

    def test_dynamic_and_full_dynamic(self):
        consumption, production, coefficients = dynamic_case()
        result = allocate_arrays(
            consumption.to_numpy(), production.to_numpy(), keys.Dynamic(coefficients.to_numpy())
        )
        np.testing.assert_allclose(result.allocated, [[1.0, 2.0], [0.5, 1.5], [2.0, 1.0]], **TOL)
        consumption, production, tables = full_dynamic_case()
        stacked = np.stack([tables["p1"].to_numpy(), tables["p2"].to_numpy()])
        result = allocate_arrays(
            consumption.to_numpy(), production.to_numpy(), keys.FullDynamic(stacked)
        )
        np.testing.assert_allclose(result.allocated, [[1.0, 2.5], [3.25, 0.5]], **TOL)
        np.testing.assert_allclose(result.self_consumed, [[5 / 3, 11 / 6], [2.75, 1.0]], **TOL)

    def test_one_dimensional_production_is_one_producer(self):
        # allocate_arrays docstring example: C = (1, 3), P = 2, k = (1/2, 1/2) -> (1, 1)
        result = allocate_arrays(np.array([[1.0, 3.0]]), np.array([2.0]), keys.Static([0.5, 0.5]))
        np.testing.assert_allclose(result.allocated, [[1.0, 1.0]], **TOL)
        np.testing.assert_allclose(result.surplus, [[0.0]], **TOL)

    def test_read_only_inputs(self):
        # Arrays from Arrow are read-only (style.md, 4): they must be accepted as they are.
        consumption, production = prorata_case()
        C = consumption.to_numpy().copy()
        P = production.to_numpy()[:, None].copy()
        C.flags.writeable = False
        P.flags.writeable = False
        result = allocate_arrays(C, P, keys.Prorata())
        np.testing.assert_allclose(result.allocated[:2], [[0.5, 1.5], [2.0, 2.0]], **TOL)

    def test_results_are_read_only(self):
        consumption, production = prorata_case()
        result = allocate_arrays(consumption.to_numpy(), production.to_numpy(), keys.Prorata())
        for array in (result.allocated, result.self_consumed, result.surplus, result.grid_supply):
            assert not array.flags.writeable

    def test_result_does_not_follow_later_changes_of_the_input(self):
        # An allocation is a fixed result: reusing the input buffers for the next period
        # must not change the results already returned.
        C = np.array([[1.0, 3.0]])
        P = np.array([[2.0]])
        result = allocate_arrays(C, P, keys.Prorata())
        C[0, 0] = 10.0  # the caller reuses its buffers
        P[0, 0] = 0.0
        np.testing.assert_allclose(result.allocated, [[0.5, 1.5]], **TOL)
        # COMPLEMENT = C - A with the C that was allocated: (1 - 0.5, 3 - 1.5)
        np.testing.assert_allclose(result.grid_supply, [[0.5, 1.5]], **TOL)
        np.testing.assert_allclose(result.production, [[2.0]], **TOL)
        np.testing.assert_allclose(result.flows(), [[[0.5, 1.5]]], **TOL)
        # `consumption` is documented as the input itself, not a copy (copying a year of
        # 10,000 members would cost as much as the allocation).
        assert np.shares_memory(result.consumption, C)


# --------------------------------------------------------------------------------------
# Inputs are never modified (engine.allocate's Notes).
# --------------------------------------------------------------------------------------


def _cases():
    consumption, production = static_case()
    dynamic_coefficients = pd.DataFrame(
        {name: [0.1, np.nan, 0.2] for name in CONSUMERS}, index=STATIC_INDEX
    )
    full = {
        producer: pd.DataFrame({name: [0.2, 0.1, 0.0] for name in CONSUMERS}, index=STATIC_INDEX)
        for producer in ("p1", "p2")
    }
    return (
        consumption,
        production,
        {
            "prorata": keys.Prorata(),
            "static": keys.Static(pd.Series(STATIC_KEY)),
            "static rounds": keys.Static(dict(STATIC_KEY), rounds=2),
            "static limit": keys.Static(pd.Series(STATIC_KEY), redistribute=True),
            "dynamic": keys.Dynamic(dynamic_coefficients),
            "full dynamic": keys.FullDynamic(full),
        },
    )


def _assert_same(current, expected) -> None:
    if isinstance(expected, pd.DataFrame):
        pd.testing.assert_frame_equal(current, expected, check_freq=True)
    elif isinstance(expected, pd.Series):
        pd.testing.assert_series_equal(current, expected, check_freq=True)
    elif isinstance(expected, dict):
        assert list(current) == list(expected)
        for item, value in expected.items():
            _assert_same(current[item], value)
    else:
        assert current == expected


@pytest.mark.parametrize(
    "name", ["prorata", "static", "static rounds", "static limit", "dynamic", "full dynamic"]
)
def test_inputs_are_not_mutated(name):
    consumption, production, all_keys = _cases()
    key = all_keys[name]
    before = copy.deepcopy((consumption, production, dict(key.__dict__)))
    result = allocate(consumption, production, key)
    # Touch every result so that lazily computed ones run too.
    _ = (result.grid_supply, result.flows(), result.flows("step"), result.flows("D"))
    _ = (result.summary(), result.by_consumer(), result.by_producer())
    _assert_same(consumption, before[0])
    _assert_same(production, before[1])
    assert list(key.__dict__) == list(before[2])
    for field, value in before[2].items():
        _assert_same(key.__dict__[field], value)


def test_array_inputs_are_not_mutated():
    consumption, production = static_case()
    C = consumption.to_numpy().copy()
    P = production.to_numpy().copy()
    k = np.array(list(STATIC_KEY.values()))
    tables = np.full((2, 3, 5), 0.1)
    tables[0, 1] = np.nan  # a step without key for Dynamic
    before = (C.copy(), P.copy(), k.copy(), tables.copy())
    for key in (
        keys.Prorata(),
        keys.Static(k),
        keys.Static(k, rounds=1),
        keys.Static(k, redistribute=True),
        keys.Dynamic(tables[0]),
        keys.FullDynamic(np.nan_to_num(tables)),
    ):
        result = allocate_arrays(C, P, key)
        _ = (result.grid_supply, result.flows(), result.flows_per_step())
    for now, then in zip((C, P, k, tables), before, strict=True):
        np.testing.assert_array_equal(now, then)


def test_production_total_is_the_kernels_pooled_production():
    # P_tot of the static case by hand: 12 + 4 = 16 at t0 and t1, nothing at t2.
    consumption, production = static_case()
    result = allocate(consumption, production, keys.Prorata())
    np.testing.assert_array_equal(result.arrays.production_total(), [16.0, 16.0, 0.0])
    # Summed in increasing order of the values: bit for bit the kernels' P_tot, whatever the
    # order of the producers (a plain row sum may differ in the last bit).
    rng = np.random.default_rng(7)
    P = rng.random((50, 4)) * 10.0 ** rng.integers(-3, 4, size=(50, 4))
    C = rng.random((50, 3))
    for columns in ([0, 1, 2, 3], [3, 1, 0, 2]):
        total = allocate_arrays(C, P[:, columns], keys.Prorata()).production_total()
        np.testing.assert_array_equal(total, attribution.pooled_production(P))


def test_results_have_a_short_repr():
    consumption, production = prorata_case()
    result = allocate(consumption, production, keys.Prorata())
    text = repr(result)
    assert text.startswith("<Allocation prorata: 5 steps of 0 days 00:30:00 from 2025-")
    assert "2 consumers, 1 producer>" in text
    assert repr(result.arrays) == "<AllocationArrays: 5 steps, 2 consumers, 1 producer>"
