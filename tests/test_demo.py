"""The synthetic community, the demo's keys and the ``repartition demo`` command."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, keys
from repartition.cli import main
from repartition.synthetic import (
    clear_sky_irradiance,
    demo_keys,
    round_down,
    solar_elevation_sine,
    synthetic_community,
    time_index,
)

LABELS = (
    "prorata",
    "static",
    "static, 2 rounds",
    "static, redistributed",
    "dynamic",
    "full dynamic",
)


@pytest.fixture(scope="module")
def community() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synthetic_community(consumers=12, producers=3, seed=7)


# ---------------------------------------------------------------------------- time axis


@pytest.mark.parametrize(
    ("year", "step", "steps"),
    [
        (2025, "30min", 17_520),
        (2025, "15min", 35_040),
        (2025, "60min", 8_760),
        (2025, "1h", 8_760),
        (2024, "30min", 17_568),
    ],
)
def test_time_index_has_every_step_of_the_year(year: int, step: str, steps: int) -> None:
    index = time_index(year, step)
    assert len(index) == steps
    assert str(index.tz) == "Europe/Paris"
    assert index[0] == pd.Timestamp(f"{year}-01-01", tz="Europe/Paris")
    assert index[-1] + pd.Timedelta(step) == pd.Timestamp(f"{year + 1}-01-01", tz="Europe/Paris")
    assert ((index[1:] - index[:-1]) == pd.Timedelta(step)).all()


def test_time_index_dst_days_have_46_and_50_half_hours() -> None:
    per_day = time_index(2025, "30min").normalize().value_counts()
    assert per_day[pd.Timestamp("2025-03-30", tz="Europe/Paris")] == 46
    assert per_day[pd.Timestamp("2025-10-26", tz="Europe/Paris")] == 50
    assert (per_day.drop(per_day.index[per_day != 48]) == 48).sum() == 363


@pytest.mark.parametrize("step", ["7min", "90min", "30s", "abc", "0min", "-30min"])
def test_time_index_rejects_steps_that_do_not_divide_an_hour(step: str) -> None:
    with pytest.raises(ValueError, match="step"):
        time_index(2025, step)


# ------------------------------------------------------------------------ synthetic data


@pytest.mark.parametrize(
    ("step", "steps"), [("30min", 17_520), ("15min", 35_040), ("60min", 8_760)]
)
def test_shape_and_labels(step: str, steps: int) -> None:
    consumption, production = synthetic_community(consumers=7, producers=2, step=step)
    assert consumption.shape == (steps, 7)
    assert production.shape == (steps, 2)
    assert consumption.index.equals(production.index)
    assert consumption.index.equals(time_index(2025, step))
    assert list(production.columns) == ["pv_1", "pv_2"]
    assert list(consumption.columns) == [f"home_{i}" for i in range(1, 7)] + ["office_1"]


def test_deterministic_for_a_seed() -> None:
    first = synthetic_community(consumers=6, producers=2, seed=3)
    second = synthetic_community(consumers=6, producers=2, seed=3)
    other = synthetic_community(consumers=6, producers=2, seed=4)
    for a, b, c in zip(first, second, other, strict=True):
        pd.testing.assert_frame_equal(a, b)
        assert not np.allclose(a.to_numpy(), c.to_numpy())


def test_a_member_does_not_depend_on_the_community_size() -> None:
    small, _ = synthetic_community(consumers=3, producers=1, seed=5)
    large, _ = synthetic_community(consumers=20, producers=4, seed=5)
    assert np.array_equal(small["home_1"].to_numpy(), large["home_01"].to_numpy())


def test_energies_are_finite_and_non_negative(
    community: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    for table in community:
        values = table.to_numpy()
        assert values.dtype == np.float64
        assert np.isfinite(values).all()
        assert (values >= 0).all()
    consumption, _ = community
    assert (consumption.to_numpy() > 0).all()  # everyone has a base load


def test_production_is_zero_at_night_and_positive_at_summer_noon(
    community: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    _, production = community
    hour = pd.DatetimeIndex(production.index).hour
    night = production[(hour >= 23) | (hour < 4)]
    assert (night.to_numpy() == 0).all()
    summer_noon = production.loc["2025-06-01":"2025-08-31"].between_time("13:00", "14:30")
    assert (summer_noon.to_numpy() > 0).all()


def test_production_follows_the_seasons(community: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    _, production = community
    total = production.sum(axis=1)
    monthly = total.groupby(pd.DatetimeIndex(total.index).month).sum()
    assert monthly[6] + monthly[7] > 3 * (monthly[12] + monthly[1])
    # Longer days in summer: hours with production at the solstices.
    june = (total.loc["2025-06-21"] > 0).sum()
    december = (total.loc["2025-12-21"] > 0).sum()
    assert june > december + 10  # half-hours: about 15.5 h of daylight against 8.5 h
    # Yield in a plausible range for horizontal PV at 46 N. [kWh / kWp / year]
    peak_kw = production.max() * 2  # kWh per half-hour -> kW
    assert ((production.sum() / peak_kw) > 700).all()


def test_sun_at_solar_noon_at_the_solstices() -> None:
    # 46 N: elevation at solar noon = 90 - 46 +- 23.44 degrees.
    hours = np.linspace(10.0, 13.0, 3001)
    for day, expected in ((172, 90 - 46 + 23.44), (355, 90 - 46 - 23.44)):
        sine = solar_elevation_sine(np.full_like(hours, day), hours, 46.0, 0.0)
        assert np.degrees(np.arcsin(sine.max())) == pytest.approx(expected, abs=0.3)
        assert hours[np.argmax(sine)] == pytest.approx(12.0, abs=0.25)  # equation of time
    assert clear_sky_irradiance(np.array([-0.5, 0.0]))[:2].tolist() == [0.0, 0.0]
    assert clear_sky_irradiance(np.array([1.0]))[0] == pytest.approx(1098 * np.exp(-0.059))


def test_consumption_has_daily_patterns(community: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    consumption, _ = community
    homes = consumption.filter(like="home").sum(axis=1)
    by_hour = homes.groupby(pd.DatetimeIndex(homes.index).hour).mean()
    assert by_hour.loc[19:21].mean() > 2 * by_hour.loc[2:4].mean()  # evening peak
    assert by_hour.loc[7:8].mean() > 1.5 * by_hour.loc[2:4].mean()  # morning peak
    assert by_hour.loc[7:8].mean() > by_hour.loc[10:15].mean()  # out at work or school
    winter = homes.loc["2025-01"].mean()
    summer = homes.loc["2025-07"].mean()
    assert winter > 1.2 * summer
    offices = consumption.filter(like="office").sum(axis=1)
    index = pd.DatetimeIndex(offices.index)
    weekday = index.day_of_week < 5
    daytime = (index.hour >= 10) & (index.hour < 16)
    night = index.hour < 5
    assert offices[weekday & daytime].mean() > 3 * offices[weekday & night].mean()
    assert offices[weekday & daytime].mean() > 3 * offices[~weekday & daytime].mean()
    annual = consumption.sum()
    assert 1_000 < annual.filter(like="home").median() < 10_000  # kWh a year


@pytest.mark.parametrize(
    "kwargs",
    [{"consumers": 0}, {"producers": 0}, {"consumers": 2.5}, {"seed": -1}, {"year": 3000}],
)
def test_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="must be"):
        synthetic_community(**kwargs)  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- demo keys


def test_round_down() -> None:
    assert round_down(np.array([0.12345, 0.99999, 1 / 3, 0.0])).tolist() == [
        0.1234,
        0.9999,
        0.3333,
        0.0,
    ]


def test_demo_keys_are_valid(community: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    consumption, production = community
    coefficients = demo_keys(consumption, production)
    members = consumption.shape[1]
    static = coefficients.static
    assert static.index.equals(consumption.columns)
    assert static.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(static, consumption.sum() / consumption.sum().sum())
    tables = [coefficients.dynamic, *coefficients.full_dynamic.values()]
    assert list(coefficients.full_dynamic) == list(production.columns)
    for table in tables:
        assert table.index.equals(consumption.index)
        assert table.columns.equals(consumption.columns)
        values = table.to_numpy()
        assert (values >= 0).all()
        units = values * 10_000
        np.testing.assert_allclose(units, np.round(units), atol=1e-6)  # 4 decimals
        sums = values.sum(axis=1)
        assert (sums <= 1.0 + 1e-12).all()
        assert (sums > 1.0 - members * 1e-4 - 1e-12).all()  # rounded down, not lower


def test_dynamic_key_is_yesterdays_shares_rounded_down(
    community: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    consumption, production = community
    dynamic = demo_keys(consumption, production).dynamic
    t = pd.Timestamp("2025-05-14 12:30", tz="Europe/Paris")
    yesterday = consumption.loc[t - pd.Timedelta(days=1)]
    expected = np.floor(yesterday / yesterday.sum() * 10_000) / 10_000
    np.testing.assert_allclose(dynamic.loc[t], expected, atol=1e-12)
    # Across the DST change too: 24 hours earlier, in absolute time.
    t = pd.Timestamp("2025-03-31 02:00", tz="Europe/Paris")
    yesterday = consumption.loc[t - pd.Timedelta(hours=24)]
    expected = np.floor(yesterday / yesterday.sum() * 10_000) / 10_000
    np.testing.assert_allclose(dynamic.loc[t], expected, atol=1e-12)


def test_full_dynamic_with_one_plant_is_the_dynamic_key() -> None:
    consumption, production = synthetic_community(consumers=4, producers=1, step="1h")
    coefficients = demo_keys(consumption, production)
    pd.testing.assert_frame_equal(coefficients.full_dynamic["pv_1"], coefficients.dynamic)


def test_demo_keys_allocate(community: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    consumption, production = community
    coefficients = demo_keys(consumption, production)
    dynamic = allocate(consumption, production, keys.Dynamic(coefficients.dynamic))
    full = allocate(consumption, production, keys.FullDynamic(coefficients.full_dynamic))
    for result in (dynamic, full):
        allocated = result.allocated.to_numpy()
        assert (allocated <= consumption.to_numpy() + 1e-12).all()
        assert (allocated.sum(axis=1) <= production.sum(axis=1).to_numpy() + 1e-9).all()


# ---------------------------------------------------------------------------------- CLI


def test_demo_prints_a_row_per_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--consumers", "5", "--producers", "1"]) == 0
    out = capsys.readouterr().out
    assert "5 consumers, 1 producers" in out
    assert "17,520" in out
    lines = out.splitlines()
    totals = {line.split()[0]: float(line.split()[1]) for line in lines if "MWh" in line[:30]}
    for label in LABELS:
        rows = [line for line in lines if line.startswith(f"{label}  ")]
        assert len(rows) == 1, label
        cells = rows[0][len(label) :].split()
        assert len(cells) == 6
        allocated, surplus, grid, self_consumption, self_sufficiency, _ = (
            float(cell.replace(",", "")) for cell in cells
        )
        assert allocated + surplus == pytest.approx(totals["production"], abs=0.15)
        assert allocated + grid == pytest.approx(totals["consumption"], abs=0.15)
        assert self_consumption == pytest.approx(100 * allocated / totals["production"], abs=0.3)
        assert self_sufficiency == pytest.approx(100 * allocated / totals["consumption"], abs=0.3)
    assert "self-consumption rate = allocated / production" in out
    assert "self-sufficiency rate  = allocated / consumption" in out


def test_demo_at_one_hour_steps(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--consumers", "3", "--producers", "2", "--step", "1h"]) == 0
    assert "8,760 of 1 h" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "required"),
        (["demo", "--consumers", "0"], "--consumers: must be at least 1"),
        (["demo", "--producers", "many"], "--producers: expected a whole number"),
        (["demo", "--step", "7min"], "--step: step '7min' must divide one hour"),
        (["demo", "--year", "20x5"], "--year: expected a year"),
        (["demo", "--seed", "-1"], "--seed: must be at least 0"),
        (["demo", "--bogus"], "unrecognized arguments"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["--help"], ["demo", "--help"]])
def test_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "usage: repartition" in out
    assert "demo" in out


def test_python_dash_m() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "repartition", "demo", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "--consumers" in done.stdout


# ---------------------------------------------------------------------------- the village


def test_the_village_demo_compares_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pvlib")
    assert main(["demo", "--no-files"]) == 0
    out = capsys.readouterr().out
    assert "the village of the Puy-de-Dome" in out
    assert "45 consumers, 4 PV plants" in out
    for name in ("Prorata (DSO default)", "Dynamic, yesterday's shares", "Economic greedy"):
        assert name in out
    assert "Optimal: max savings" in out  # the optimize extra is part of dev
    assert "written to" not in out


@pytest.mark.slow
def test_the_village_demo_writes_the_pmos_files(tmp_path: Path) -> None:
    pytest.importorskip("pvlib")
    from repartition.io import read_dynamic_key, read_results

    folder = tmp_path / "demo"
    assert main(["demo", "--output", str(folder), "--month", "2025-07"]) == 0
    results = read_results(folder / "results.parquet")
    assert len(results.allocated) == 17_520
    (key_path,) = folder.glob("VILLAGE-DEMO_30_*.txt")
    assert key_path.name == "VILLAGE-DEMO_30_01072025_31072025.txt"
    key = read_dynamic_key(key_path)
    assert key.shape == (31 * 48, 45)
    statements = sorted((folder / "statements").iterdir())
    assert len([p for p in statements if p.suffix == ".html"]) == 45 + 4 + 1
    assert len([p for p in statements if p.suffix == ".xlsx"]) == 45 + 4 + 1
    assert (folder / "comparison.csv").exists()
    # An existing folder is not replaced without --overwrite: exit code 1, one line.
    assert main(["demo", "--output", str(folder)]) == 1


def test_the_synthetic_community_from_real_profiles_has_the_same_members() -> None:
    pytest.importorskip("pvlib")
    textbook = synthetic_community(consumers=8, producers=2, step="1h", seed=4)
    real = synthetic_community(consumers=8, producers=2, step="1h", seed=4, model="profiles")
    for ours, theirs in zip(real, textbook, strict=True):
        assert list(ours.columns) == list(theirs.columns)
        assert ours.index.equals(theirs.index)
    consumption, production = real
    assert consumption["office_1"].sum() == pytest.approx(25_000.0)
    # PV sized to the community: 1 kWp per consumer in all, a real year's yield.
    assert 7_000 < production.to_numpy().sum() < 12_000
    with pytest.raises(ValueError, match="model"):
        synthetic_community(consumers=2, model="sine")  # type: ignore[arg-type]
