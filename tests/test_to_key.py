"""``to_dynamic_key``: any allocation, sent as a dynamic key, comes back from the DSO's rule.

docs/rules.md, "Strategies sent as dynamic keys":
``k[t, i] = A[t, i] / P_tot[t]`` and the DSO's ``min(C, k * P_tot)`` reproduces ``A``.
"""

from __future__ import annotations

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import allocate, errors, keys
from repartition.to_key import to_dynamic_key

INDEX = pd.date_range("2025-06-01 10:00", periods=3, freq="30min", tz="Europe/Paris")


@pytest.fixture(autouse=True)
def _one_numba_thread():
    """Tiny tables: one thread avoids waiting for OpenMP workers (see test_properties.py)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(previous)


class TestGolden:
    def test_static_with_redistribution(self):
        # Static 0.5 / 0.5 with redistribution (water-filling, docs/rules.md):
        # step 1: C = (1, 3), P_tot = 3. Level L with min(1, L/2) + min(3, L/2) = 3 -> L = 4:
        #         A = (1, 2); k = A / 3 = (1/3, 2/3).
        # step 2: P_tot = 0: nothing to share, k = (0, 0) by the documented choice.
        # step 3: C = (2, 2), P_tot = 2: L = 2, A = (1, 1), k = (0.5, 0.5).
        consumption = pd.DataFrame({"a": [1.0, 3.0, 2.0], "b": [3.0, 1.0, 2.0]}, index=INDEX)
        production = pd.Series([3.0, 0.0, 2.0], index=INDEX, name="pv")
        allocation = allocate(consumption, production, keys.Static([0.5, 0.5], redistribute=True))
        key = to_dynamic_key(allocation)
        pd.testing.assert_index_equal(key.index, INDEX)
        assert list(key.columns) == ["a", "b"]
        expected = [[1 / 3, 2 / 3], [0.0, 0.0], [0.5, 0.5]]
        np.testing.assert_allclose(key.to_numpy(), expected, rtol=1e-15, atol=0)

    def test_several_producers_are_pooled(self):
        # P = (1, 3) -> P_tot = 4; prorata with C = (1, 1): A = (1, 1); k = (1/4, 1/4).
        consumption = pd.DataFrame({"a": [1.0], "b": [1.0]}, index=INDEX[:1])
        production = pd.DataFrame({"pv1": [1.0], "pv2": [3.0]}, index=INDEX[:1])
        key = to_dynamic_key(allocate(consumption, production, keys.Prorata()))
        assert key.to_numpy().tolist() == [[0.25, 0.25]]

    def test_not_an_allocation(self):
        with pytest.raises(TypeError, match="Allocation"):
            to_dynamic_key(pd.DataFrame())


def rows_at_most_one(key: pd.DataFrame) -> None:
    values = key.to_numpy()
    assert not np.isnan(values).any()
    assert (values >= 0).all()
    assert (values <= 1).all()
    assert (values.sum(axis=1) <= 1 + keys.SUM_TOLERANCE).all()


@st.composite
def allocations(draw: st.DrawFn):
    community, frames = draw(gen.community_frames())
    kind = draw(st.sampled_from(["prorata", "static", "redistributed"]))
    if kind == "prorata":
        key: keys.SharingKey = keys.Prorata()
    else:
        coefficients = draw(gen.static_coefficients(community.consumers))
        key = keys.Static(coefficients, redistribute=kind == "redistributed")
    return frames, allocate(frames.consumption, frames.production, key)


@given(allocations())
def test_the_dsos_rule_reproduces_any_allocation(case):
    frames, allocation = case
    key = to_dynamic_key(allocation)
    rows_at_most_one(key)
    pd.testing.assert_index_equal(key.index, allocation.index)
    pd.testing.assert_index_equal(key.columns, allocation.consumers)
    again = allocate(frames.consumption, frames.production, keys.Dynamic(key))
    # A[t, i] / P_tot * P_tot is A to a few units in the last place (and the min with
    # C >= A keeps it); rows scaled down to 1 move by n * 2**-53 at most.
    np.testing.assert_allclose(
        again.allocated.to_numpy(), allocation.allocated.to_numpy(), rtol=1e-12, atol=1e-300
    )


def test_rows_that_round_above_one_are_brought_back():
    # Prorata with consumption above production hands out all of P_tot; the divisions
    # A / P_tot then sum, in floating point, to 1 + 2**-52 on some rows (checked below, so
    # the case is not vacuous). The key stays within a few ulps of 1.
    index = pd.date_range("2025-06-01", periods=50, freq="30min", tz="Europe/Paris")
    rng = np.random.default_rng(0)
    consumption = pd.DataFrame(rng.random((50, 10)) * 10, index=index)
    consumption.columns = [f"c{i}" for i in range(10)]
    production = pd.Series(rng.random(50) * 3, index=index, name="pv")
    allocation = allocate(consumption, production, keys.Prorata())
    raw = allocation.allocated.to_numpy() / production.to_numpy()[:, None]
    assert (raw.sum(axis=1) > 1).any()
    key = to_dynamic_key(allocation)
    rows_at_most_one(key)
    assert (key.sum(axis=1) <= 1 + 1e-14).all()


def test_an_allocation_above_the_production_is_refused():
    # An allocation that gives away more than is produced (forged here, since no key of
    # the library produces one) cannot become a key.
    consumption = pd.DataFrame({"a": [4.0], "b": [4.0]}, index=INDEX[:1])
    production = pd.Series([2.0], index=INDEX[:1], name="pv")
    allocation = allocate(consumption, production, keys.Prorata())
    forged = np.array([[2.0, 2.0]])
    allocation.arrays.shares.allocated.flags.writeable = True
    allocation.arrays.shares.allocated[:] = forged
    with pytest.raises(
        errors.CoefficientSumError, match=r"sum to 2, above 1.*that many times the production"
    ) as caught:
        to_dynamic_key(allocation)
    assert caught.value.timestamp == INDEX[0]


def test_energy_given_without_production_is_refused():
    # Regression: a step where AUTOCONS > 0 but nothing is produced used to get
    # coefficient 0 silently, dropping that energy. No key of the library allocates
    # anything without production: the allocation is forged (as a hand-built one could be).
    consumption = pd.DataFrame({"a": [1.0, 1.0], "b": [1.0, 1.0]}, index=INDEX[:2])
    production = pd.Series([2.0, 0.0], index=INDEX[:2], name="pv")
    allocation = allocate(consumption, production, keys.Prorata())
    allocation.arrays.shares.allocated.flags.writeable = True
    allocation.arrays.shares.allocated[1, 1] = 0.25
    with pytest.raises(errors.CoefficientSumError, match="nothing is produced") as caught:
        to_dynamic_key(allocation)
    assert caught.value.timestamp == INDEX[1]
    assert caught.value.member == "b"
    message = str(caught.value)
    assert "0.25 kWh to 'b'" in message
    assert str(INDEX[1]) in message
