"""An error names the right culprit: the member, producer, strategy or line that is wrong."""

from __future__ import annotations

import pandas as pd
import pytest

from repartition import allocate, compare, errors, keys

INDEX = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
CONSUMPTION = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0], "C": [0.5, 0.5]}, index=INDEX)
PRODUCTION = pd.DataFrame({"PV1": [2.0, 2.0], "PV2": [1.0, 0.0]}, index=INDEX)


@pytest.mark.parametrize(
    "coefficients",
    [
        {"A": 0.2, "B": "0.3", "C": 0.1},  # a string that would convert
        {"A": 0.2, "B": "a third", "C": 0.1},
        pd.Series([0.2, "0,3", 0.1], index=["A", "B", "C"], dtype=object),
    ],
)
def test_a_coefficient_that_is_not_a_number_names_its_member(coefficients) -> None:
    with pytest.raises(errors.NonNumericCoefficientError, match="'B'") as caught:
        allocate(CONSUMPTION, PRODUCTION, keys.Static(coefficients))
    assert caught.value.member == "B"


def test_numbers_held_as_python_objects_are_numbers() -> None:
    coefficients = pd.Series([0.2, 0.3, 0.1], index=["A", "B", "C"], dtype=object)
    result = allocate(CONSUMPTION, PRODUCTION, keys.Static(coefficients))
    assert result.allocated.to_numpy().sum() > 0


@pytest.mark.parametrize("date", ["not a date", "2021-13-45"])
def test_an_unreadable_commissioning_date_names_its_producer(date: str) -> None:
    key = keys.ItalianKey({"PV1": "2021-06-15", "PV2": date})
    with pytest.raises(errors.NonNumericCoefficientError, match="'PV2'") as caught:
        allocate(CONSUMPTION, PRODUCTION, key)
    assert caught.value.member == "PV2"
    assert date in str(caught.value)


def test_compare_names_the_strategy_whose_key_is_wrong() -> None:
    strategies = {
        "prorata": keys.Prorata(),
        "my static": keys.Static({"A": 0.5, "B": 0.5}),  # C has no coefficient
    }
    with pytest.raises(
        errors.MissingMemberError, match="compare, strategy 'my static': "
    ) as caught:
        compare(CONSUMPTION, PRODUCTION, strategies)
    assert caught.value.member == "C"
