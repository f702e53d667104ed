"""Keys are values: equal and hashed alike when their parameters mean the same.

A service caches results by key (``functools.lru_cache``, a dict), and a researcher puts keys
in sets; the meaning of "the same" is the fingerprint's (tests/test_io_stream.py checks it in
detail): numbers by float64 value, labelled coefficients by id, tables by instant.
"""

from __future__ import annotations

import functools
import pickle

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, keys

INDEX = pd.date_range("2025-06-01 12:00", periods=4, freq="30min", tz="Europe/Paris")
TABLE = pd.DataFrame({"A": [0.5] * 4, "B": [0.25] * 4}, index=INDEX)

SAME = [
    (keys.Prorata(), keys.Prorata()),
    (keys.EqualShare(), keys.EqualShare()),
    (keys.Static({"A": 0.5, "B": 0.25}), keys.Static(pd.Series({"B": 0.25, "A": 0.5}))),
    (keys.Static({"A": 1, "B": 0}, rounds=2), keys.Static({"A": 1.0, "B": 0.0}, rounds=2)),
    (keys.Dynamic(TABLE), keys.Dynamic(TABLE.tz_convert("UTC")[["B", "A"]])),
    (keys.FullDynamic({"P": TABLE}), keys.FullDynamic({"P": TABLE.copy()})),
    (
        keys.PriorityCascade(
            [("first", ["A"], keys.Prorata()), ("rest", ["B"], keys.EqualShare())]
        ),
        keys.PriorityCascade(
            [("first", ["A"], keys.Prorata()), ("rest", ["B"], keys.EqualShare())]
        ),
    ),
    (
        keys.ProsumerKey({"A": 0.5, "B": 0.5}, "optimal"),
        keys.ProsumerKey({"B": 0.5, "A": 0.5}, "optimal"),
    ),
    (keys.EconomicGreedy({"A": 0.1, "B": 0.2}), keys.EconomicGreedy({"A": 0.1, "B": 0.2})),
]
DIFFERENT = [
    (keys.Prorata(), keys.EqualShare()),
    (keys.Static({"A": 0.5, "B": 0.25}), keys.Static({"A": 0.5, "B": 0.25}, redistribute=True)),
    (keys.Static({"A": 0.5, "B": 0.25}), keys.Static({"A": 0.25, "B": 0.5})),
    (keys.Dynamic(TABLE), keys.Dynamic(TABLE * 0.5)),
    (
        keys.ProsumerKey({"A": 0.5, "B": 0.5}, "fixed"),
        keys.ProsumerKey({"A": 0.5, "B": 0.5}, "relative"),
    ),
    (keys.WeightedShare({"A": 1.0, "B": 2.0}), keys.WeightedShare({"A": 2.0, "B": 1.0})),
]


@pytest.mark.parametrize(("left", "right"), SAME, ids=lambda key: type(key).__name__)
def test_keys_meaning_the_same_are_equal_and_hash_alike(
    left: keys.SharingKey, right: keys.SharingKey
) -> None:
    assert left == right
    assert hash(left) == hash(right)
    assert len({left, right}) == 1
    assert pickle.loads(pickle.dumps(left)) == left


@pytest.mark.parametrize(("left", "right"), DIFFERENT, ids=lambda key: type(key).__name__)
def test_keys_meaning_something_else_differ(left: keys.SharingKey, right: keys.SharingKey) -> None:
    assert left != right
    assert len({left, right}) == 2


def test_a_key_is_a_cache_key() -> None:
    consumption = pd.DataFrame({"A": [1.0, 3.0, 0.0, 2.0], "B": [3.0, 1.0, 0.0, 2.0]}, index=INDEX)
    production = pd.Series([2.0, 2.0, 1.0, 0.0], index=INDEX, name="PV")
    calls = []

    @functools.lru_cache
    def cached(key: keys.SharingKey) -> float:
        calls.append(key)
        return allocate(consumption, production, key).summary().allocated_kwh

    assert cached(keys.Static({"A": 0.5, "B": 0.5})) == cached(
        keys.Static(pd.Series([0.5, 0.5], index=["A", "B"]))
    )
    assert len(calls) == 1


def test_keys_of_other_classes_are_not_equal_even_with_the_same_parameters() -> None:
    assert keys.EqualShare() != keys.Prorata()
    assert keys.Static(np.array([0.5, 0.5])) != keys.SpanishKey(np.array([0.5, 0.5]))
    assert keys.Prorata() != "prorata"


def test_results_convert_to_json_ready_records() -> None:
    import json
    import math

    consumption = pd.DataFrame({"A": [1.0, 3.0, 0.0, 0.0], "B": [3.0, 1.0, 0.0, 0.0]}, index=INDEX)
    production = pd.DataFrame({"PV": [2.0, 2.0, 1.0, 0.0], "idle": 0.0}, index=INDEX)
    result = allocate(consumption, production, keys.Prorata())
    totals = json.loads(json.dumps(result.to_records(), allow_nan=False))
    assert [(r["member"], r["role"]) for r in totals] == [
        ("A", "consumer"),
        ("B", "consumer"),
        ("PV", "producer"),
        ("idle", "producer"),
    ]
    assert totals[0]["allocated_kwh"] == 2.0
    assert totals[3]["self_consumption_rate"] is None  # produced nothing: undefined
    steps = json.loads(json.dumps(result.to_records(per_step=True), allow_nan=False))
    assert len(steps) == 4 * 4
    assert steps[0] == {
        "member": "A",
        "role": "consumer",
        "start": "2025-06-01T12:00:00+02:00",
        "consumption_kwh": 1.0,
        "allocated_kwh": 0.5,
        "grid_supply_kwh": 0.5,
    }
    summary = json.loads(json.dumps(result.summary().to_dict(), allow_nan=False))
    assert math.isclose(summary["self_sufficiency_rate"], 0.5)
