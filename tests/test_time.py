"""Time axes: step lengths, days with a DST change, UTC, a single step.

The oracle is :mod:`repartition.reference` (plain NumPy, the formulas of docs/rules.md,
"French keys applied by the DSO"); the per-producer attribution of pooled keys follows
docs/rules.md, "Attribution to producers".
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, keys, reference

TOL = {"rtol": 1e-12, "atol": 1e-12}
CONSUMERS = ["c1", "c2", "c3", "c4"]
PRODUCERS = ["p1", "p2"]
STATIC = np.array([0.4, 0.3, 0.2, 0.0])  # sum 0.9: some production covered by no key


def local_day(day: str, freq: str = "30min") -> pd.DatetimeIndex:
    start = pd.Timestamp(day).tz_localize("Europe/Paris")  # local midnight
    end = (pd.Timestamp(day) + pd.Timedelta(days=1)).tz_localize("Europe/Paris")
    return pd.date_range(start, end, freq=freq, inclusive="left", tz="Europe/Paris")


def community(index: pd.DatetimeIndex, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random energies with exact zeros, on ``index``. [kWh per step]"""
    rng = np.random.default_rng(seed)
    steps = len(index)
    C = rng.uniform(0.0, 2.0, (steps, len(CONSUMERS)))
    C[rng.random(C.shape) < 0.1] = 0.0
    P = rng.uniform(0.0, 3.0, (steps, len(PRODUCERS)))
    P[rng.random(P.shape) < 0.15] = 0.0
    return (
        pd.DataFrame(C, index=index, columns=CONSUMERS),
        pd.DataFrame(P, index=index, columns=PRODUCERS),
    )


def dynamic_table(index: pd.DatetimeIndex, seed: int = 1) -> pd.DataFrame:
    """Rows summing to at most 1; every fifth row all NaN (no key sent)."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(0.0, 1.0, (len(index), len(CONSUMERS)))
    k /= k.sum(axis=1, keepdims=True) * rng.uniform(1.0, 1.5, (len(index), 1))
    k[::5] = np.nan
    return pd.DataFrame(k, index=index, columns=CONSUMERS)


def full_tables(index: pd.DatetimeIndex, seed: int = 2) -> np.ndarray:
    """(producers, steps, consumers) shares, each producer's row summing to at most 1."""
    rng = np.random.default_rng(seed)
    k = rng.uniform(0.0, 1.0, (len(PRODUCERS), len(index), len(CONSUMERS)))
    return k / (
        k.sum(axis=2, keepdims=True) * rng.uniform(1.0, 1.3, (len(PRODUCERS), len(index), 1))
    )


KEY_NAMES = ["prorata", "static", "static 1 round", "static limit", "dynamic", "full dynamic"]


def key_and_oracle(name: str, index: pd.DatetimeIndex, C: np.ndarray, P: np.ndarray):
    """The key labelled by ``index`` and the reference (allocated, self_consumed, flows)."""
    if name == "full dynamic":
        tables = full_tables(index)
        key = keys.FullDynamic(
            {
                producer: pd.DataFrame(tables[j], index=index, columns=CONSUMERS)
                for j, producer in enumerate(PRODUCERS)
            }
        )
        allocated, self_consumed, flows = reference.full_dynamic(C, P, tables)
        return key, allocated, self_consumed, flows
    coefficients = dict(zip(CONSUMERS, STATIC, strict=True))
    if name == "prorata":
        key, allocated = keys.Prorata(), reference.prorata(C, P)
    elif name == "static":
        key, allocated = keys.Static(coefficients), reference.static(C, P, STATIC)
    elif name == "static 1 round":
        key = keys.Static(coefficients, rounds=1)
        allocated = reference.static_rounds(C, P, STATIC, 1)
    elif name == "static limit":
        key = keys.Static(coefficients, redistribute=True)
        allocated = reference.static_limit(C, P, STATIC)
    else:
        table = dynamic_table(index)
        key, allocated = keys.Dynamic(table), reference.dynamic(C, P, table.to_numpy())
    self_consumed, _ = reference.attribute_pooled(allocated, P)
    P_tot = P.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        weights = np.where(P_tot[:, None] > 0, P / P_tot[:, None], 0.0)
    flows = weights[:, :, None] * allocated[:, None, :]
    return key, allocated, self_consumed, flows


def check_against_reference(index: pd.DatetimeIndex, name: str):
    consumption, production = community(index)
    C, P = consumption.to_numpy(), production.to_numpy()
    key, allocated, self_consumed, flows = key_and_oracle(name, index, C, P)
    result = allocate(consumption, production, key)
    # Per step, against the formulas.
    np.testing.assert_allclose(result.allocated.to_numpy(), allocated, **TOL)
    np.testing.assert_allclose(result.self_consumed.to_numpy(), self_consumed, **TOL)
    np.testing.assert_allclose(result.surplus.to_numpy(), P - self_consumed, **TOL)
    np.testing.assert_allclose(result.grid_supply.to_numpy(), C - allocated, **TOL)
    np.testing.assert_allclose(
        result.flows("step").to_numpy(), flows.reshape(-1, len(CONSUMERS)), **TOL
    )
    return result, flows


def assert_outputs_on(result, index: pd.DatetimeIndex) -> None:
    """Every per-step output is labelled by the input's index, unchanged."""
    pd.testing.assert_index_equal(result.index, index, check_freq=True)
    for table in (
        result.consumption,
        result.production,
        result.allocated,
        result.grid_supply,
        result.self_consumed,
        result.surplus,
    ):
        pd.testing.assert_index_equal(table.index, index, exact=True, check_freq=True)
    if result.passes is not None:
        pd.testing.assert_index_equal(result.passes.index, index)
    steps = result.flows("step").index.get_level_values("timestamp").unique()
    pd.testing.assert_index_equal(steps, index, check_names=False, exact=False, check_freq=False)


# ----------------------------------------------------------------------------------------
# Step lengths
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("freq", ["15min", "30min", "60min"])
@pytest.mark.parametrize("name", KEY_NAMES)
def test_step_lengths(freq, name):
    index = pd.date_range("2025-06-02", periods=3 * 96, freq=freq, tz="Europe/Paris")
    result, _ = check_against_reference(index, name)
    assert result.step == pd.Timedelta(freq)
    assert_outputs_on(result, index)


@pytest.mark.parametrize("freq", ["15min", "30min", "60min"])
def test_step_length_without_freq(freq):
    # The step is read from the timestamps, not from index.freq.
    index = pd.date_range("2025-06-02", periods=10, freq=freq, tz="Europe/Paris")
    index = pd.DatetimeIndex(list(index))
    assert index.freq is None
    consumption, production = community(index)
    result = allocate(consumption, production, keys.Prorata())
    assert result.step == pd.Timedelta(freq)
    pd.testing.assert_index_equal(result.allocated.index, index)


# ----------------------------------------------------------------------------------------
# Days with a DST change, Europe/Paris
# ----------------------------------------------------------------------------------------

DST_DAYS = [
    # day, step, number of steps
    pytest.param("2025-03-30", "30min", 46, id="spring-30min"),
    pytest.param("2025-10-26", "30min", 50, id="autumn-30min"),
    pytest.param("2025-03-30", "15min", 92, id="spring-15min"),
    pytest.param("2025-10-26", "15min", 100, id="autumn-15min"),
    pytest.param("2025-03-30", "60min", 23, id="spring-60min"),
    pytest.param("2025-10-26", "60min", 25, id="autumn-60min"),
]


@pytest.mark.parametrize(("day", "freq", "steps"), DST_DAYS)
def test_dst_day_lengths(day, freq, steps):
    index = local_day(day, freq)
    assert len(index) == steps
    assert index[0] == pd.Timestamp(day, tz="Europe/Paris")
    # Every step lasts ``freq`` in absolute time, across the change of offset.
    assert ((index[1:] - index[:-1]) == pd.Timedelta(freq)).all()
    assert index[0].utcoffset() != index[-1].utcoffset()


@pytest.mark.parametrize(("day", "freq", "steps"), DST_DAYS[:2])
@pytest.mark.parametrize("name", KEY_NAMES)
def test_dst_day_every_key(day, freq, steps, name):
    index = local_day(day, freq)
    assert len(index) == steps
    result, flows = check_against_reference(index, name)
    assert result.step == pd.Timedelta(freq)
    assert_outputs_on(result, index)
    # flows("D") gives one local day, which holds every step's flows.
    per_day = result.flows("D")
    periods = per_day.index.get_level_values("period").unique()
    assert list(periods) == [pd.Timestamp(day, tz="Europe/Paris")]
    assert list(per_day.index.get_level_values("producer")) == PRODUCERS
    np.testing.assert_allclose(per_day.to_numpy(), flows.sum(axis=0), **TOL)
    np.testing.assert_allclose(per_day.to_numpy(), result.flows().to_numpy(), **TOL)


@pytest.mark.parametrize("day", ["2025-03-30", "2025-10-26"])
def test_dst_day_dynamic_key_given_in_utc(day):
    # The key file's timestamps are matched by instant, whatever their time zone.
    index = local_day(day)
    consumption, production = community(index)
    table = dynamic_table(index)
    local = allocate(consumption, production, keys.Dynamic(table))
    utc = allocate(consumption, production, keys.Dynamic(table.tz_convert("UTC")))
    pd.testing.assert_frame_equal(utc.allocated, local.allocated)


def test_dst_days_inside_a_longer_period():
    # Three days around the autumn change: 48 + 50 + 48 steps; daily flows per local day.
    start = pd.Timestamp("2025-10-25", tz="Europe/Paris")
    end = pd.Timestamp("2025-10-28", tz="Europe/Paris")
    index = pd.date_range(start, end, freq="30min", inclusive="left", tz="Europe/Paris")
    assert len(index) == 48 + 50 + 48
    result, flows = check_against_reference(index, "static limit")
    per_day = result.flows("D")
    days = per_day.index.get_level_values("period").unique()
    assert list(days) == [pd.Timestamp(f"2025-10-{d}", tz="Europe/Paris") for d in (25, 26, 27)]
    sizes = [48, 50, 48]
    bounds = np.cumsum([0, *sizes])
    for g, day in enumerate(days):
        np.testing.assert_allclose(
            per_day.loc[day].to_numpy(), flows[bounds[g] : bounds[g + 1]].sum(axis=0), **TOL
        )


# ----------------------------------------------------------------------------------------
# Other time zones, a single step
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", KEY_NAMES)
def test_utc_index(name):
    index = pd.date_range("2025-10-25 22:00", periods=96, freq="30min", tz="UTC")
    result, flows = check_against_reference(index, name)
    assert result.step == pd.Timedelta("30min")
    assert_outputs_on(result, index)
    # Days follow the index's time zone: 22:00 UTC to midnight, then a whole UTC day, ...
    per_day = result.flows("D")
    days = per_day.index.get_level_values("period").unique()
    assert list(days) == [pd.Timestamp(f"2025-10-{d}", tz="UTC") for d in (25, 26, 27)]
    np.testing.assert_allclose(per_day.loc[days[0]].to_numpy(), flows[:4].sum(axis=0), **TOL)
    np.testing.assert_allclose(per_day.loc[days[1]].to_numpy(), flows[4:52].sum(axis=0), **TOL)


def test_utc_and_local_inputs_give_the_same_result():
    index = local_day("2025-10-26")
    consumption, production = community(index)
    key = keys.Static(dict(zip(CONSUMERS, STATIC, strict=True)), rounds=2)
    local = allocate(consumption, production, key)
    utc = allocate(consumption.tz_convert("UTC"), production.tz_convert("UTC"), key)
    np.testing.assert_array_equal(utc.allocated.to_numpy(), local.allocated.to_numpy())
    pd.testing.assert_index_equal(utc.allocated.index, index.tz_convert("UTC"))


@pytest.mark.parametrize("name", KEY_NAMES)
def test_single_step(name):
    index = pd.date_range("2025-06-01 12:00", periods=1, freq="30min", tz="Europe/Paris")
    result, flows = check_against_reference(index, name)
    assert result.step == pd.Timedelta("30min")  # from the index's freq
    assert_outputs_on(result, index)
    np.testing.assert_allclose(result.flows().to_numpy(), flows[0], **TOL)


def test_single_step_without_freq():
    index = pd.DatetimeIndex([pd.Timestamp("2025-06-01 12:00", tz="Europe/Paris")])
    assert index.freq is None
    consumption = pd.DataFrame({"c1": [3.0], "c2": [1.0]}, index=index)
    production = pd.Series([2.0], index=index, name="pv")
    result = allocate(consumption, production, keys.Prorata())
    assert result.step is None  # documented: no step length can be read
    # prorata: ratio 2/4 -> (1.5, 0.5)
    np.testing.assert_allclose(result.allocated.to_numpy(), [[1.5, 0.5]], **TOL)
    pd.testing.assert_index_equal(result.allocated.index, index)
