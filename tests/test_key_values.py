"""Keys are values: equal and hashed alike when their parameters mean the same.

A service caches results by key (``functools.lru_cache``, a dict), and a researcher puts keys
in sets; the meaning of "the same" is the fingerprint's (tests/test_io_stream.py checks it in
detail): numbers by float64 value, labelled coefficients by id, tables by instant.
"""

from __future__ import annotations

import functools
import pickle
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, keys
from repartition.allocation import Shares
from repartition.problem import Problem

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


def test_ids_that_look_like_numbers_stay_ids() -> None:
    def cascade(first: list) -> keys.PriorityCascade:
        return keys.PriorityCascade([(first, keys.Prorata())])

    assert cascade(["01", "02"]) != cascade(["1", "2"])
    assert cascade(["1", "2"]) != cascade([1, 2])
    assert cascade(["12345678901234567"]) != cascade(["12345678901234568"])
    assert keys.Static({1: 0.5, 2: 0.5}) == keys.Static({np.int64(1): 0.5, np.int64(2): 0.5})


@dataclass(frozen=True, eq=False)
class Halves(keys.SharingKey):
    """A user's key, written as the docs say (a dataclass with eq=False)."""

    share_of_first: float
    name: ClassVar[str] = "halves"

    def share(self, problem: Problem) -> Shares:  # pragma: no cover - never allocated here
        raise NotImplementedError


class Opaque(keys.SharingKey):
    """A user's key that is not a dataclass: compared by identity."""

    name = "opaque"

    def __init__(self, value: float) -> None:
        self.value = value

    def __repr__(self) -> str:
        return "Opaque()"  # hides its parameter: the fingerprint must not rely on it

    def share(self, problem: Problem) -> Shares:  # pragma: no cover - never allocated here
        raise NotImplementedError


def test_user_keys_compare_by_their_parameters_or_identity() -> None:
    assert Halves(0.5) == Halves(0.5)
    assert Halves(0.5) != Halves(0.25)
    first = Opaque(0.1)
    assert first == first
    assert first != Opaque(0.1)
    assert Opaque(0.1) != Opaque(0.9)
    inside = keys.PriorityCascade([(["A"], Halves(0.5))])
    assert inside == keys.PriorityCascade([(["A"], Halves(0.5))])
    assert inside != keys.PriorityCascade([(["A"], Halves(0.25))])


def test_nan_rows_compare_equal_whatever_their_bits() -> None:
    quiet = TABLE.copy()
    quiet.iloc[1] = np.nan
    other = TABLE.copy()
    with np.errstate(invalid="ignore"):
        other.iloc[1] = -(np.float64(np.inf) * 0.0)  # a NaN with other bits
    assert keys.Dynamic(quiet) == keys.Dynamic(other)


def test_results_are_read_only_before_any_pickling() -> None:
    consumption = pd.DataFrame({"A": [1.0, 3.0, 0.0, 2.0], "B": [3.0, 1.0, 0.0, 2.0]}, index=INDEX)
    production = pd.Series([2.0, 2.0, 1.0, 0.0], index=INDEX, name="PV")
    redistributed = allocate(
        consumption, production, keys.Static({"A": 0.5, "B": 0.5}, redistribute=True)
    )
    assert redistributed.arrays.passes is not None
    assert not redistributed.arrays.passes.flags.writeable
    tables = {"PV": pd.DataFrame(0.5, index=INDEX, columns=["A", "B"])}
    full = allocate(consumption, production.to_frame(), keys.FullDynamic(tables))
    split = full.arrays.shares.split
    for array in [*(split.coefficients or []), split.scale]:
        if array is not None:
            assert not array.flags.writeable


def test_a_key_of_ones_own_that_returns_the_wrong_shapes_is_named() -> None:
    from repartition import errors

    class Transposed(keys.SharingKey):
        name = "transposed"

        def share(self, problem: Problem) -> Shares:
            c, p = problem.consumption, problem.production
            return Shares(c.T.copy(), c.T.copy(), p.copy(), p.copy())

    consumption = pd.DataFrame({"A": [1.0, 3.0, 0.0], "B": [3.0, 1.0, 0.0]}, index=INDEX[:3])
    production = pd.Series([2.0, 2.0, 1.0], index=INDEX[:3], name="PV")
    with pytest.raises(errors.ParameterError, match=r"Transposed\.share returned allocated"):
        allocate(consumption, production, Transposed())


def test_per_step_records_come_from_the_results_not_the_callers_table() -> None:
    consumption = pd.DataFrame({"A": [1.0, 3.0, 0.0, 2.0], "B": [3.0, 1.0, 0.0, 2.0]}, index=INDEX)
    production = pd.Series([2.0, 2.0, 1.0, 0.0], index=INDEX, name="PV")
    result = allocate(consumption, production, keys.Prorata())
    consumption.iloc[0, 0] = 100.0
    records = result.to_records(per_step=True)
    assert records[0]["consumption_kwh"] == 1.0
    total = sum(r["consumption_kwh"] for r in records if r["member"] == "A")
    assert total == result.to_records()[0]["consumption_kwh"]


def test_a_pickled_allocation_does_not_carry_its_cached_tables() -> None:
    consumption = pd.DataFrame(
        {"A": np.arange(96.0), "B": 1.0},
        index=pd.date_range("2025-06-01", periods=96, freq="15min", tz="UTC"),
    )
    production = pd.Series(20.0, index=consumption.index, name="PV")
    result = allocate(consumption, production, keys.Prorata())
    before = len(pickle.dumps(result))
    _ = result.allocated, result.grid_supply, result.consumption, result.surplus
    assert len(pickle.dumps(result)) == before
    pd.testing.assert_frame_equal(pickle.loads(pickle.dumps(result)).allocated, result.allocated)
