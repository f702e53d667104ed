"""repartition.compare: every strategy on the same data, in one table."""

from __future__ import annotations

import matplotlib as mpl

mpl.use("Agg")  # no screen in CI

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, compare, errors, keys, metrics, plot_comparison

INDEX = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
# Step 1: C = (1, 3), P = 2. Step 2: C = (3, 1), P = 2.
CONSUMPTION = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0]}, index=INDEX)
PRODUCTION = pd.Series([2.0, 2.0], index=INDEX, name="PV")
TARIFFS = metrics.Tariffs(retail=0.20, local=0.10, surplus=0.05)


def test_hand_computed_table() -> None:
    table = compare(
        CONSUMPTION,
        PRODUCTION,
        {"prorata": keys.Prorata(), "static A": keys.Static({"A": 1.0, "B": 0.0})},
        tariffs=TARIFFS,
    )
    assert list(table.index) == ["prorata", "static A"]
    # Prorata: each step shares 2 kWh in proportion 1:3 then 3:1, so A gets 0.5 + 1.5 = 2 kWh
    # of its 4 kWh and B the same: both 50 % self-sufficient, nothing left as surplus.
    prorata = table.loc["prorata"]
    assert prorata["allocated_kwh"] == pytest.approx(4.0)
    assert prorata["surplus_kwh"] == pytest.approx(0.0)
    assert prorata["grid_supply_kwh"] == pytest.approx(4.0)
    assert prorata["gini_self_sufficiency"] == pytest.approx(0.0)
    # Savings: 2 kWh at 0.20 - 0.10 = 0.10 EUR/kWh each -> 0.20 EUR per consumer; the producer
    # sells 4 kWh at 0.10 instead of 0.05 -> gain 0.20 EUR.
    assert prorata["savings_total"] == pytest.approx(0.40)
    assert prorata["producer_gain"] == pytest.approx(0.20)
    assert prorata["community_gain"] == pytest.approx(0.60)
    assert prorata["jain_savings"] == pytest.approx(1.0)
    # Static, all to A: A gets min(1, 2) + min(3, 2) = 3 kWh, B nothing; surplus 1 kWh.
    static = table.loc["static A"]
    assert static["allocated_kwh"] == pytest.approx(3.0)
    assert static["surplus_kwh"] == pytest.approx(1.0)
    assert static["savings_min"] == pytest.approx(0.0)
    assert static["savings_max"] == pytest.approx(0.30)
    # Savings (0.30, 0): Gini = |0.3 - 0| * 2 / (2 * 2 * 0.3) = 0.5; Jain = 0.09 / (2 * 0.09).
    assert static["gini_savings"] == pytest.approx(0.5)
    assert static["jain_savings"] == pytest.approx(0.5)


def test_columns_agree_with_the_metrics_of_each_allocation() -> None:
    strategies = [keys.Prorata(), keys.EqualShare(), keys.Static({"A": 0.3, "B": 0.6})]
    table = compare(CONSUMPTION, PRODUCTION, strategies, tariffs=TARIFFS, per_member=True)
    assert list(table.index) == [key.label() for key in strategies]
    for key in strategies:
        allocation = allocate(CONSUMPTION, PRODUCTION, key)
        row = table.loc[key.label()]
        summary = allocation.summary()
        assert row["self_consumption_rate"] == summary.self_consumption_rate
        assert row["self_sufficiency_rate"] == summary.self_sufficiency_rate
        savings = metrics.bills(allocation, TARIFFS)["savings"]
        np.testing.assert_allclose(row[["savings A", "savings B"]].to_numpy(float), savings)
        gain = metrics.producer_revenue(allocation, TARIFFS)["gain"].sum()
        assert row["community_gain"] == pytest.approx(savings.sum() + gain)


def test_without_tariffs_there_are_no_money_columns() -> None:
    table = compare(CONSUMPTION, PRODUCTION, [keys.Prorata()])
    assert "savings_total" not in table.columns
    assert table.loc["prorata", "self_sufficiency_rate"] == pytest.approx(0.5)


def test_timed_adds_the_seconds_and_changes_nothing_else() -> None:
    strategies = {"prorata": keys.Prorata(), "equal": keys.EqualShare()}
    untimed = compare(CONSUMPTION, PRODUCTION, strategies)
    timed = compare(CONSUMPTION, PRODUCTION, strategies, timed=True)
    pd.testing.assert_frame_equal(timed.drop(columns="seconds"), untimed)
    assert (timed["seconds"] > 0).all()
    assert "seconds" not in untimed.columns


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="labelled 'prorata'"):
        compare(CONSUMPTION, PRODUCTION, [keys.Prorata(), keys.Prorata()])
    with pytest.raises(TypeError, match="'x' is a str"):
        compare(CONSUMPTION, PRODUCTION, {"x": "prorata"})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="at least one key"):
        compare(CONSUMPTION, PRODUCTION, [])
    with pytest.raises(ValueError, match="needs tariffs"):
        compare(CONSUMPTION, PRODUCTION, [keys.Prorata()], per_member=True)


def test_plot_draws_one_bar_per_strategy_and_column() -> None:
    table = compare(CONSUMPTION, PRODUCTION, [keys.Prorata(), keys.EqualShare()])
    ax = plot_comparison(table)
    assert len(ax.patches) == 2 * 2
    labels = [text.get_text() for text in ax.get_yticklabels()]
    assert labels == ["equal share", "prorata"]  # first strategy on top
    with pytest.raises(KeyError, match="savings_total"):
        plot_comparison(table, ["savings_total"])


def test_recommend_names_the_key_of_each_goal_and_why():
    from repartition import keys as key_module
    from repartition.compare import compare as compare_keys
    from repartition.compare import recommend
    from repartition.metrics import Tariffs

    index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
    consumption = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0]}, index=index)
    production = pd.Series([2.0, 2.0], index=index, name="PV")
    tariffs = Tariffs(retail={"A": 0.3, "B": 0.2}, local=0.1, surplus=0.05)
    candidates = {
        "prorata": key_module.Prorata(),
        "A first": key_module.EconomicGreedy(pd.Series({"A": 0.2, "B": 0.1})),
        "static": key_module.Static({"A": 0.9, "B": 0.1}),
    }
    table = compare_keys(consumption, production, candidates, tariffs=tariffs, reference="prorata")
    # Prorata gives A 0.5 then 1.5 of the 2 kWh; "A first" gives A 1 then 2: 0.5 kWh moved
    # from B to A at each step.
    assert table.loc["A first", "moved_kwh"] == pytest.approx(1.0)
    assert table.loc["prorata", "moved_kwh"] == 0.0
    found = {r.goal: r for r in recommend(table, "prorata")}
    assert found["most savings"].key == "A first"  # A's kWh saves 0.2, B's 0.1
    assert "against prorata" in found["most savings"].why
    assert found["closest to the present key"].key in ("A first", "static")
    assert found["fairest"].key == "prorata"
    with pytest.raises(errors.ParameterError, match="reference"):
        compare_keys(consumption, production, candidates, reference="other")
