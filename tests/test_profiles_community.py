"""Communities made of profiles: the village of the demo, PV sized to the community, seeds."""

from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from repartition import allocate, errors, keys
from repartition.profiles import (
    CLERMONT_FERRAND,
    Community,
    Consumer,
    Member,
    Plant,
    generate,
    village,
)

pytest.importorskip("pvlib")


def digest(*tables) -> str:
    return hashlib.sha256(b"".join(t.to_numpy().tobytes() for t in tables)).hexdigest()


def test_the_village_is_a_real_operation():
    community = village()
    directory = community.directory
    consumption, production = community.tables(2025, "30min", seed=0)
    assert list(consumption.columns) == directory.query("role == 'consumer'").index.tolist()
    assert list(production.columns) == directory.query("role == 'producer'").index.tolist()
    assert {"school", "gymnasium", "swimming_pool", "town_hall"} <= set(directory["kind"])
    assert (directory.query("kind == 'household'").shape[0]) == 40
    # Members without their own roof use exactly their annual energy from the grid.
    plain = directory.query("role == 'consumer' and kwp == 0")
    np.testing.assert_allclose(
        consumption[plain.index].sum().to_numpy(), plain["annual_kwh"].to_numpy(), rtol=1e-12
    )
    yields = production.sum() / directory.loc[production.columns, "kwp"]
    assert ((yields > 1_000) & (yields < 1_450)).all()  # kWh/kWp in the Puy-de-Dôme
    result = allocate(consumption, production, keys.Prorata())
    shared = result.allocated.to_numpy().sum()
    assert 0.2 < shared / consumption.to_numpy().sum() < 0.45  # self-sufficiency
    assert shared / production.to_numpy().sum() > 0.7  # collective self-consumption


def test_pv_is_sized_to_the_community():
    large = generate(200, kwp_per_home=1.0, seed=1)
    kwp = sum(plant.kwp for plant in large.plants)
    assert kwp == pytest.approx(200.0, abs=0.05)
    assert len(large.plants) == 4
    consumption, production = large.tables(2025, "1h", seed=1)
    result = allocate(consumption, production, keys.Prorata())
    # Not the 6 % of three fixed plants: about a fifth of the homes' energy.
    assert result.allocated.to_numpy().sum() / consumption.to_numpy().sum() > 0.15
    fixed = generate(10, total_kwp=36.0, plants=2, seed=1)
    assert sum(p.kwp for p in fixed.plants) == pytest.approx(36.0, abs=0.05)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_bits_in_another_process():
    community = generate(5, buildings=(("school", "École", 30_000.0),), seed=3)
    here = digest(*community.tables(2025, "30min", seed=3))
    again = digest(*community.tables(2025, "30min", seed=3))
    assert here == again
    code = (
        "import hashlib; from repartition.profiles import generate; "
        "c = generate(5, buildings=(('school', 'École', 30_000.0),), seed=3); "
        "t = c.tables(2025, '30min', seed=3); "
        "print(hashlib.sha256(b''.join(x.to_numpy().tobytes() for x in t)).hexdigest())"
    )
    other = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert other == here
    assert digest(*community.tables(2025, "30min", seed=4)) != here


def test_bad_communities_are_typed_errors():
    home = Consumer("30000000000001", "household", 4_000.0)
    with pytest.raises(errors.ParameterError, match="14 digits"):
        Member("123", "x", Consumer("123", "household", 1.0))
    with pytest.raises(errors.ParameterError, match="PRM"):
        Member("30000000000002", "x", home)
    plant = Plant("30000000000001", CLERMONT_FERRAND, 9.0)
    with pytest.raises(errors.ParameterError, match="distinct"):
        Community("c", CLERMONT_FERRAND, (Member("30000000000001", "x", home),), (plant,))
    with pytest.raises(errors.ParameterError, match="homes"):
        generate(-1)
