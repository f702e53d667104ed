"""ProsumerKey(..., "optimal", unused="pooled"): openenergyid's reading of the Flemish optimal key.

The consumers' side (AUTOCONS, COMPLEMENT) is checked against openenergyid itself (its
``energysharing.calculate`` with ``CalculationMethod.OPTIMAL``) on random small communities;
the producers' side keeps the invariants, which openenergyid's own figures can break.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openenergyid.energysharing import CalculationMethod, calculate
from openenergyid.energysharing.const import NET_INJECTION, NET_OFFTAKE, SHARED_ENERGY
from openenergyid.energysharing.data_formatting import create_multi_index_input_frame

from repartition import allocate, errors, keys

INDEX = pd.date_range("2025-06-01 12:00", periods=4, freq="15min", tz="Europe/Paris")


def openenergyid(
    consumption: pd.DataFrame, production: pd.DataFrame, shares: pd.Series
) -> pd.DataFrame:
    key = pd.DataFrame(np.tile(shares.to_numpy(), (len(consumption), 1)), index=consumption.index,
                       columns=shares.index)  # fmt: skip
    frame = create_multi_index_input_frame(production, consumption, key)
    return calculate(frame, CalculationMethod.OPTIMAL)


@st.composite
def communities(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    members = draw(st.integers(2, 6))
    producers = draw(st.integers(1, members))
    ids = [f"member {i}" for i in range(members)]
    energy = st.one_of(st.just(0.0), st.floats(0.01, 5.0))
    consumption = pd.DataFrame(
        [[draw(energy) for _ in ids] for _ in INDEX], index=INDEX, columns=ids
    )
    production = pd.DataFrame(
        [[draw(energy) for _ in range(producers)] for _ in INDEX],
        index=INDEX,
        columns=ids[:producers],
    )
    raw = draw(
        st.lists(
            st.one_of(st.just(0.0), st.floats(0.05, 1.0)), min_size=members, max_size=members
        ).filter(any)
    )
    shares = pd.Series(raw, index=ids) / sum(raw)
    return consumption, production, shares


@settings(max_examples=60, deadline=None)
@given(case=communities())
def test_the_consumers_side_is_openenergyids(case) -> None:
    consumption, production, shares = case
    theirs = openenergyid(consumption, production, shares)
    ours = allocate(consumption, production, keys.ProsumerKey(shares, "optimal", unused="pooled"))
    np.testing.assert_allclose(
        ours.allocated.to_numpy(), theirs[SHARED_ENERGY].to_numpy(), atol=1e-12
    )
    np.testing.assert_allclose(
        ours.grid_supply.to_numpy(), theirs[NET_OFFTAKE].to_numpy(), atol=1e-12
    )
    # Our producers' side keeps the invariants; where openenergyid's net injection stays within
    # the production it agrees with the pooled total.
    assert (ours.self_consumed.to_numpy() >= 0).all()
    assert (ours.surplus.to_numpy() >= -1e-12).all()
    np.testing.assert_allclose(
        ours.self_consumed.sum(axis=1), ours.allocated.sum(axis=1), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        theirs[NET_INJECTION].to_numpy().sum(axis=1), ours.surplus.to_numpy().sum(axis=1), atol=1e-9
    )


def test_openenergyid_can_credit_a_producer_with_more_than_it_injected() -> None:
    """The case of docs/rules.md, "Where readings differ", worked by hand: shares 1/7, 3/7, 3/7;
    A consumes 2 and produces 2 kWh, B produces 4 kWh. Round 1: B offers A 1 and C 3, A offers
    B 1 and C 1; A takes 1, 5 kWh are turned down and go back 2:4 (5/3 to A, 10/3 to B). Round 2:
    only A is open: B offers it 10/3, A takes 1, 7/3 go back 5/3 : 10/3; A ends with 5/3 + 7/9
    = 22/9 = 2.44 kWh of net injection, more than the 2 kWh it injected."""
    index = INDEX[:1]
    consumption = pd.DataFrame({"A": [2.0], "B": [0.0], "C": [0.0]}, index=index)
    production = pd.DataFrame({"A": [2.0], "B": [4.0]}, index=index)
    shares = pd.Series([1 / 7, 3 / 7, 3 / 7], index=["A", "B", "C"])
    theirs = openenergyid(consumption, production, shares)
    assert theirs[NET_INJECTION].to_numpy()[0, 0] == pytest.approx(22 / 9)
    ours = allocate(consumption, production, keys.ProsumerKey(shares, "optimal", unused="pooled"))
    assert ours.allocated.to_numpy().tolist() == [[2.0, 0.0, 0.0]]
    # Pooled by production: A gave 2/6 of the 2 kWh shared, B 4/6.
    np.testing.assert_allclose(ours.self_consumed.to_numpy(), [[2 / 3, 4 / 3]])
    np.testing.assert_allclose(ours.surplus.to_numpy(), [[4 / 3, 8 / 3]])


def test_the_readings_differ_with_prosumers_and_agree_without() -> None:
    rng = np.random.default_rng(3)
    ids = [f"m{i}" for i in range(6)]
    index = pd.date_range("2025-06-01", periods=96, freq="15min", tz="UTC")
    consumption = pd.DataFrame(rng.uniform(0, 2, (96, 6)), columns=ids, index=index)
    production = pd.DataFrame(rng.uniform(0, 4, (96, 3)), columns=ids[:3], index=consumption.index)
    shares = pd.Series(rng.uniform(0.1, 1, 6), index=ids)
    shares /= shares.sum()
    ours = allocate(consumption, production, keys.ProsumerKey(shares, "optimal"))
    pooled = allocate(consumption, production, keys.ProsumerKey(shares, "optimal", unused="pooled"))
    assert np.abs(ours.allocated - pooled.allocated).to_numpy().max() > 1e-3
    nobody = {}  # no consumer owns a producer: both are the static key's redistribution limit
    ours = allocate(consumption, production, keys.ProsumerKey(shares, "optimal", nobody))
    pooled = allocate(
        consumption, production, keys.ProsumerKey(shares, "optimal", nobody, "pooled")
    )
    np.testing.assert_allclose(ours.allocated, pooled.allocated, atol=1e-12)


@pytest.mark.parametrize(
    ("arguments", "said"),
    [
        ({"variant": "relative", "unused": "pooled"}, "optimal"),
        ({"variant": "optimal", "unused": "shared"}, "unused must be one of"),
    ],
)
def test_unused_is_checked(arguments: dict, said: str) -> None:
    with pytest.raises(errors.ParameterError, match=said):
        keys.ProsumerKey([0.5, 0.5], **arguments)
