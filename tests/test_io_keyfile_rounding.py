"""Rounding a dynamic key file: "down" (the format's rule) and "recover", and the energy lost.

"Down" is the one rule of :mod:`repartition.io.keyfile.rounding`, also that of the demo
keys (:func:`repartition.synthetic.round_down`): both paths round alike, bit for bit.

Under the DSO's dynamic rule ``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])`` each consumer's
share depends on its own coefficient only: "recover" raises the coefficients of the
consumers the exact key saturates back to the smallest hundredth of a percent that still
saturates them, within the room rounding down left in the row.
"""

from __future__ import annotations

import tempfile

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import allocate, errors, keys, synthetic
from repartition.io.keyfile import read_dynamic_key, round_down_key, write_dynamic_key
from repartition.io.keyfile.rounding import floor_units, round_down
from repartition.to_key import to_dynamic_key

PARIS = "Europe/Paris"
PRMS = ["30000000000001", "30000000000002", "30000000000003"]


@pytest.fixture(autouse=True)
def _one_numba_thread():
    """Tiny tables: one thread avoids waiting for OpenMP workers (see test_properties.py)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(previous)


def day_index() -> pd.DatetimeIndex:
    """1 November 2024, a whole local day: 48 half-hours."""
    return pd.date_range("2024-11-01", periods=48, freq="30min", tz=PARIS)


# Four steps computed by hand, repeated 12 times over the day. P_tot = 10 kWh but at D.
#
# A: k = (0.39869, 0.12345, 0.2), C = (3.9869, 1.2345, 5). k * P = (3.9869, 1.2345, 2):
#    consumers 1 and 2 are saturated, 3 is not. Down: 39,86 ; 12,34 ; 20,00 -> shares
#    3.986, 1.234, 2: lost 0.0009 + 0.0005 = 0.0014 kWh. Recover: the smallest hundredths
#    that saturate are ceil(3986.9) = 3987 and ceil(1234.5) = 1235 (3.987 >= 3.9869,
#    1.235 >= 1.2345); the row sums to 72,22 %: room enough. Lost 0.
# B: k = (0.33335, 0.33335, 0.3333), C = (3.3335, 3.3335, 3.4): 1 and 2 saturated, 3 not
#    (3.333 < 3.4). Down: 33,33 three times (99,99 %): lost 0.0005 + 0.0005 = 0.001. Both
#    need 33,34, the room is one hundredth, their recoveries tie (0.0005 each): the first
#    column is served. Recover: 33,34 ; 33,33 ; 33,33, lost 0.0005.
# C: k = (0.33342, 0.33338, 0.3332), C = (3.3342, 3.3338, 5): 1 and 2 saturated. Down:
#    33,34 ; 33,33 ; 33,32 (99,99 %): shares 3.334 (lost 0.0002), 3.333 (lost 0.0008), 3.332
#    (exact): lost 0.001. Room: one hundredth; consumer 2 recovers more (0.0008 > 0.0002)
#    and goes first although it is the second column: 33,34 ; 33,34 ; 33,32, lost 0.0002.
# D: nothing produced: nothing to lose or recover; 50,00 ; 50,00 ; 0,00 either way.
# Lost per cycle: down 0.0014 + 0.001 + 0.001 = 0.0034; recover 0.0005 + 0.0002 = 0.0007.
EXACT = [[0.39869, 0.12345, 0.2], [0.33335, 0.33335, 0.3333], [0.33342, 0.33338, 0.3332]]
EXACT += [[0.5, 0.5, 0.0]]
CONSUMPTION = [[3.9869, 1.2345, 5.0], [3.3335, 3.3335, 3.4], [3.3342, 3.3338, 5.0]]
CONSUMPTION += [[1.0, 1.0, 1.0]]
PRODUCTION = [10.0, 10.0, 10.0, 0.0]
WRITTEN = {
    "down": ["39,86;12,34;20,00", "33,33;33,33;33,33", "33,34;33,33;33,32", "50,00;50,00;0,00"],
    "recover": ["39,87;12,35;20,00", "33,34;33,33;33,33", "33,34;33,34;33,32", "50,00;50,00;0,00"],
}
LOST = {"down": [0.0014, 0.001, 0.001, 0.0], "recover": [0.0, 0.0005, 0.0002, 0.0]}


def hand_case() -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    index = day_index()
    key = pd.DataFrame(EXACT * 12, index, PRMS)
    consumption = pd.DataFrame(CONSUMPTION * 12, index, PRMS)
    return key, consumption, pd.Series(PRODUCTION * 12, index, name="PV")


@pytest.mark.parametrize("rounding", ["down", "recover"])
def test_by_hand(tmp_path, rounding):
    key, consumption, production = hand_case()
    written = write_dynamic_key(
        key,
        tmp_path,
        "OPE1",
        consumption=consumption,
        production=production,
        rounding=rounding,
    )
    assert written.rounding == rounding
    rows = [line.split(";", 1)[1] for line in written.path.read_text().splitlines()[1:]]
    assert rows == WRITTEN[rounding] * 12
    assert written.energy_lost is not None
    np.testing.assert_allclose(written.energy_lost, LOST[rounding] * 12, rtol=0, atol=1e-12)
    expected_total = {"down": 12 * 0.0034, "recover": 12 * 0.0007}[rounding]
    assert written.energy_lost_kwh == pytest.approx(expected_total, abs=1e-11)
    # The file, read back and applied with the DSO's rule, loses exactly what is reported.
    exact = allocate(consumption, production, keys.Dynamic(key)).allocated.sum(axis=1)
    sent = read_dynamic_key(written.path, members=PRMS)
    applied = allocate(consumption, production, keys.Dynamic(sent)).allocated.sum(axis=1)
    np.testing.assert_allclose(written.energy_lost, exact - applied, rtol=0, atol=1e-12)


def review_case(surplus: float) -> tuple[pd.DataFrame, pd.Series, pd.DataFrame]:
    """20 consumers, November 2024 at 30 min, prorata, P_tot = surplus x their consumption."""
    index = pd.date_range("2024-11-01", "2024-12-01", freq="30min", tz=PARIS, inclusive="left")
    rng = np.random.default_rng(0)
    ids = [f"300000000000{i:02d}" for i in range(20)]
    consumption = pd.DataFrame(rng.uniform(0.1, 1.0, (len(index), 20)), index, ids)
    production = pd.Series(consumption.sum(axis=1).to_numpy() * surplus, index, name="PV")
    key = to_dynamic_key(allocate(consumption, production, keys.Prorata()))
    return consumption, production, key


def test_the_reviews_case_loses_almost_nothing_with_recover(tmp_path):
    # Every step has 200 % surplus: every consumer is saturated. Rounding down lost 0.3 %
    # of AUTOCONS (48 kWh of 15,872); recover gives every consumer its whole consumption.
    consumption, production, key = review_case(3.0)
    autocons = consumption.to_numpy().sum()  # all of it is covered under the exact key
    lost = {}
    for rounding in ("down", "recover"):
        written = write_dynamic_key(
            key,
            tmp_path / rounding,
            "OPE1",
            consumption=consumption,
            production=production,
            rounding=rounding,
        )
        sent = read_dynamic_key(written.path)
        assert (np.rint(sent.to_numpy() * 10_000).sum(axis=1) <= 10_000).all()
        applied = allocate(consumption, production, keys.Dynamic(sent)).allocated
        actual = autocons - applied.to_numpy().sum()
        assert written.energy_lost_kwh == pytest.approx(actual, rel=1e-9, abs=1e-9)
        lost[rounding] = actual
    assert lost["down"] / autocons > 0.003
    assert abs(lost["recover"]) < 1e-9 * autocons


def test_recover_cannot_help_where_no_one_is_saturated(tmp_path):
    # P_tot = half the consumption: prorata saturates nobody, so recover changes nothing
    # (it never gives a consumer more than the exact key does).
    consumption, production, key = review_case(0.5)
    written = {
        rounding: write_dynamic_key(
            key,
            tmp_path / rounding,
            "OPE1",
            consumption=consumption,
            production=production,
            rounding=rounding,
        )
        for rounding in ("down", "recover")
    }
    assert written["recover"].path.read_bytes() == written["down"].path.read_bytes()
    assert written["recover"].energy_lost_kwh == written["down"].energy_lost_kwh


def test_arguments(tmp_path):
    key, consumption, production = hand_case()
    with pytest.raises(ValueError, match="'down' or 'recover'"):
        write_dynamic_key(key, tmp_path, "OPE1", rounding="up")
    with pytest.raises(TypeError, match="needs consumption and production"):
        write_dynamic_key(key, tmp_path, "OPE1", rounding="recover")
    with pytest.raises(TypeError, match="both"):
        write_dynamic_key(key, tmp_path, "OPE1", rounding="recover", production=production)
    # Data on other steps than the key's (more, or fewer): the loss would not cover the
    # file, and recover would not know every step's consumption.
    longer = pd.date_range("2024-11-01", periods=96, freq="30min", tz=PARIS)
    twice = pd.concat([consumption, consumption.set_axis(longer[48:])])
    with pytest.raises(errors.IndexMismatchError, match="96 steps, the key 48") as caught:
        write_dynamic_key(
            key,
            tmp_path,
            "OPE1",
            consumption=twice,
            production=pd.concat([production, production.set_axis(longer[48:])]),
        )
    assert caught.value.timestamp == longer[48]
    assert "2024-11-02 00:00:00+01:00" in str(caught.value)
    with pytest.raises(errors.IndexMismatchError, match="47 steps, the key 48") as caught:
        write_dynamic_key(
            key,
            tmp_path,
            "OPE1",
            consumption=consumption.iloc[:-1],
            production=production.iloc[:-1],
            rounding="recover",
        )
    assert caught.value.timestamp == key.index[-1]
    assert list(tmp_path.iterdir()) == []


# --- properties ------------------------------------------------------------------------------


@st.composite
def allocations(draw: st.DrawFn):
    """An allocation on a whole day (the drawn steps repeated), and its tables."""
    community = draw(gen.communities())
    day = pd.Timestamp(draw(st.sampled_from(["2024-11-01", "2025-03-30", "2025-10-26"])), tz=PARIS)
    index = pd.date_range(day, day + pd.DateOffset(days=1), freq="60min", inclusive="left")
    consumption = pd.DataFrame(
        np.resize(community.consumption, (len(index), community.consumers)),
        index,
        gen.consumer_ids(community.consumers),
    )
    production = pd.DataFrame(
        np.resize(community.production, (len(index), community.producers)),
        index,
        gen.producer_ids(community.producers),
    )
    kind = draw(st.sampled_from(["prorata", "static", "redistributed"]))
    key: keys.SharingKey = keys.Prorata()
    if kind != "prorata":
        coefficients = draw(gen.static_coefficients(community.consumers))
        key = keys.Static(coefficients, redistribute=kind == "redistributed")
    return consumption, production, allocate(consumption, production, key)


@given(allocations())
def test_the_written_key_reproduces_the_allocation_within_the_reported_loss(case):
    consumption, production, allocation = case
    exact = allocation.allocated.to_numpy()
    production_total = production.sum(axis=1).to_numpy()
    scale = max(production_total.max(), consumption.sum(axis=1).max(), 1e-300)
    tolerance = 1e-9 * scale
    shares, reported = {}, {}
    with tempfile.TemporaryDirectory() as directory:
        for rounding in ("down", "recover"):
            written = write_dynamic_key(
                to_dynamic_key(allocation),
                f"{directory}/{rounding}",
                "OPE123",
                consumption=consumption,
                production=production,
                rounding=rounding,
            )
            sent = read_dynamic_key(written.path)
            assert (np.rint(sent.to_numpy() * 10_000).sum(axis=1) <= 10_000).all()
            shares[rounding] = allocate(consumption, production, keys.Dynamic(sent)).allocated
            assert written.energy_lost is not None
            reported[rounding] = written.energy_lost.to_numpy()
            actual = exact.sum(axis=1) - shares[rounding].to_numpy().sum(axis=1)
            np.testing.assert_allclose(reported[rounding], actual, rtol=0, atol=tolerance)
            if rounding == "down":
                # At most the lost mass times the production, never negative beyond
                # rounding (the epsilon may raise a coefficient by 1e-10).
                bound = written.rounding_loss.to_numpy() * production_total
                assert (reported["down"] <= bound + tolerance).all()
            # A saturated consumer recovered gets at most its consumption; the others
            # keep a share at most the exact one.
            assert (reported[rounding] >= -tolerance).all()
    # Recover lowers no consumer's share compared with down (beyond the last-place noise
    # of the library's rescaling of a row whose hundredths sum to 1 + 2**-52 in floats)
    # and so loses no more, step by step.
    gained = shares["recover"].to_numpy() - shares["down"].to_numpy()
    assert (gained >= -1e-12 * scale).all()
    assert (reported["recover"] <= reported["down"] + tolerance).all()


# --- one rule: the key-file writer and the demo keys --------------------------------------


def test_a_coefficient_on_the_grid_keeps_its_value_through_both_paths(tmp_path):
    # Regression: 0.0029 is stored as 0.00289999999999999980..., so 0.0029 * 10000 is
    # 28.999999999999996; the demo keys used to floor it to 28 (0.0028) while the key-file
    # writer, which adds a millionth of a unit before the floor, wrote 0,29.
    assert 0.0029 * 10_000 < 29
    assert synthetic.round_down is round_down
    assert synthetic.round_down(np.array([0.0029])).tolist() == [0.0029]
    assert floor_units(0.0029).tolist() == 29.0
    key = pd.DataFrame({PRMS[0]: 0.0029, PRMS[1]: 0.9971}, index=day_index())
    written = write_dynamic_key(key, tmp_path, "OPE1")
    assert written.path.read_text().splitlines()[1] == "01/11/2024 00:00;0,29;99,71"
    assert written.coefficients[PRMS[0]].eq(0.0029).all()
    assert read_dynamic_key(written.path)[PRMS[0]].eq(0.0029).all()
    assert round_down_key(key)[PRMS[0]].eq(0.0029).all()


@st.composite
def shares(draw: st.DrawFn) -> np.ndarray:
    """Rows of shares summing to at most 1: whole hundredths of a percent computed as
    ``u / 10000`` (0.0029 and its kind, which binary floating point may store just below the
    grid), or any fractions, normalised."""
    consumers = draw(st.integers(1, 4))
    rows = draw(st.integers(1, 6))
    if draw(st.booleans()):
        units = st.integers(0, 10_000 // consumers)
        grid = draw(
            st.lists(
                st.lists(units, min_size=consumers, max_size=consumers),
                min_size=rows,
                max_size=rows,
            )
        )
        return np.array(grid, dtype=np.int64) / 10_000
    fractions = st.floats(0.0, 1.0, allow_subnormal=False)
    drawn = draw(
        st.lists(
            st.lists(fractions, min_size=consumers, max_size=consumers),
            min_size=rows,
            max_size=rows,
        )
    )
    values = np.array(drawn, dtype=np.float64)
    return values / np.maximum(values.sum(axis=1, keepdims=True), 1.0)


@given(shares())
def test_the_key_file_writer_and_the_demo_keys_round_alike(values):
    index = day_index()
    ids = gen.consumer_ids(values.shape[1])
    key = pd.DataFrame(np.resize(values, (len(index), values.shape[1])), index, ids)
    demo = synthetic.round_down(key.to_numpy())  # the demo keys' path, 4 decimals
    with tempfile.TemporaryDirectory() as directory:
        written = write_dynamic_key(key, directory, "OPE1", line_ending="\n")
        sent = read_dynamic_key(written.path, members=ids)
    np.testing.assert_array_equal(written.coefficients.to_numpy(), demo)
    np.testing.assert_array_equal(sent.to_numpy(), demo)
    on_grid = np.rint(key.to_numpy() * 10_000) / 10_000 == key.to_numpy()
    np.testing.assert_array_equal(demo[on_grid], key.to_numpy()[on_grid])  # 0.0029 stays
