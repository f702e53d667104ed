"""Finite energies whose sums overflow float64 are refused, never computed into a silent lie.

Every kernel relies on the per-step sums of consumption and production; two consumers at
1e308 kWh would make the sum infinite, and prorata would then allocate 0 to everyone.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from repartition import allocate, allocate_arrays, errors, keys

INDEX = pd.date_range("2025-06-01", periods=3, freq="30min", tz="UTC")


@pytest.mark.parametrize("layout", ["rows", "members"])
def test_consumption_whose_sum_overflows_is_refused(layout: str) -> None:
    values = np.array([[1.0, 1.0], [1e308, 1e308], [1.0, 1.0]])
    values = np.asfortranarray(values) if layout == "members" else np.ascontiguousarray(values)
    consumption = pd.DataFrame(values, index=INDEX, columns=["A", "B"])
    production = pd.Series(1.0, index=INDEX, name="PV")
    with pytest.raises(errors.NonFiniteError, match="summed over the members") as caught:
        allocate(consumption, production, keys.Prorata())
    assert caught.value.timestamp == INDEX[1]
    with pytest.raises(errors.NonFiniteError, match="summed over the members"):
        allocate_arrays(values, np.ones(3), keys.Prorata())


def test_production_whose_sum_overflows_is_refused() -> None:
    consumption = pd.DataFrame({"A": 1.0}, index=INDEX)
    production = pd.DataFrame({"PV1": [1.0, 1e308, 1.0], "PV2": [1.0, 1e308, 1.0]}, index=INDEX)
    with pytest.raises(errors.NonFiniteError, match="production summed") as caught:
        allocate(consumption, production, keys.Prorata())
    assert caught.value.timestamp == INDEX[1]


huge = st.one_of(st.floats(0, 10), st.floats(1e300, 1.7e308))


@settings(max_examples=80, deadline=None)
@given(
    consumption=st.lists(st.lists(huge, min_size=3, max_size=3), min_size=2, max_size=4),
    production=st.lists(st.lists(huge, min_size=2, max_size=2), min_size=2, max_size=4),
    layout=st.sampled_from(["rows", "members"]),
    key=st.sampled_from(["prorata", "static", "equal", "redistributed"]),
)
def test_huge_values_give_a_typed_error_or_results_that_keep_the_invariants(
    consumption, production, layout, key
) -> None:
    steps = min(len(consumption), len(production))
    C = np.array(consumption[:steps])
    C = np.asfortranarray(C) if layout == "members" else np.ascontiguousarray(C)
    P = np.array(production[:steps])
    chosen = {
        "prorata": keys.Prorata(),
        "static": keys.Static([0.5, 0.3, 0.2]),
        "equal": keys.EqualShare(),
        "redistributed": keys.Static([0.5, 0.3, 0.2], redistribute=True),
    }[key]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # a refusal is the typed error alone, no NumPy warning
            result = allocate_arrays(C, P, chosen)
    except errors.RepartitionError:
        with np.errstate(over="ignore"):
            assert not (np.isfinite(C.sum(axis=1)).all() and np.isfinite(P.sum(axis=1)).all())
        return
    A = result.allocated
    assert np.isfinite(A).all()
    assert (A >= 0).all()
    assert (A <= C).all()
    # Sums of values this far apart round: AUTOCONS may exceed the production by a few units
    # in the last place (a subnormal prorata ratio is computed another way, tested below).
    with np.errstate(over="ignore"):  # the bound itself may round up to inf
        assert (A.sum(axis=1) <= P.sum(axis=1) * (1 + 1e-9)).all()
    np.testing.assert_allclose(result.self_consumed + result.surplus, P, rtol=1e-12)


@pytest.mark.parametrize("layout", ["rows", "members"])
@pytest.mark.parametrize("name", ["prorata", "dynamic, no key sent"])
def test_a_subnormal_prorata_ratio_keeps_every_digit(layout, name) -> None:
    # Found by the property test above: P_tot / sum C = 4.9e-324, the smallest subnormal,
    # which keeps one bit; C * ratio then gave away up to twice the production.
    C = np.array([[0.0, 0.0, 6.362086024550062e307], [0.0, 1.0, 0.0], [1e300, 2e300, 3e300]])
    C = np.asfortranarray(C) if layout == "members" else np.ascontiguousarray(C)
    P = np.array([[0.0, 3.1432881374736066e-16], [0.0, 0.5], [1e-20, 0.0]])
    key = keys.Prorata() if name == "prorata" else keys.Dynamic(np.full(C.shape, np.nan))
    result = allocate_arrays(C, P, key)
    produced = P.sum(axis=1)
    np.testing.assert_allclose(result.allocated.sum(axis=1), produced, rtol=1e-12)
    np.testing.assert_allclose(result.allocated[2], C[2] / C[2].sum() * 1e-20, rtol=1e-12)
    np.testing.assert_array_equal(result.grid_supply, C - result.allocated)
    np.testing.assert_allclose(result.self_consumed + result.surplus, P, rtol=1e-12)
    assert (result.allocated <= C).all()
