"""repartition.profiles' PV model: the vectorised pass against pvlib's own ModelChain,
physical bounds, plausibility against published yields, seeds, DST days, weather files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repartition import errors
from repartition.profiles import (
    CLERMONT_FERRAND,
    Location,
    Plant,
    clear_sky,
    modelchain_power,
    production,
    read_weather,
    sample_times,
    stochastic_weather,
    time_index,
)

pvlib = pytest.importorskip("pvlib")  # the extra "profiles" is part of "dev"

YEAR = time_index(2025, "30min")
STEP = pd.Timedelta("30min")


def various_plants(count: int, location: Location = CLERMONT_FERRAND) -> list[Plant]:
    rng = np.random.default_rng(7)
    mountings = [
        "open_rack_glass_polymer",
        "close_mount_glass_glass",
        "insulated_back_glass_polymer",
    ]
    return [
        Plant(
            f"pv_{k}",
            location,
            kwp=float(rng.uniform(3, 100)),
            tilt=float(rng.uniform(0, 60)),
            azimuth=float(rng.uniform(90, 270)),
            losses=float(rng.uniform(8, 18)),
            dc_ac_ratio=float(rng.uniform(1.0, 1.5)),  # clipping on bright hours
            inverter_efficiency=float(rng.uniform(0.94, 0.98)),
            gamma_pdc=float(rng.uniform(-0.005, -0.003)),
            temperature_model=mountings[k % 3],  # type: ignore[arg-type]
            albedo=float(rng.uniform(0.1, 0.3)),
        )
        for k in range(count)
    ]


def test_the_vectorised_pass_equals_pvlib_modelchain_plant_by_plant():
    # The same weather at the same instants: each plant's energy per step from one pass
    # over every plant equals a ModelChain run of that plant alone, to 1e-9 relative.
    plants = various_plants(6)
    weather = stochastic_weather(CLERMONT_FERRAND, sample_times(YEAR, STEP), seed=3)
    table = production(plants, YEAR, weather=weather)
    for plant in plants:
        power = modelchain_power(plant, weather).to_numpy()  # [W] at the samples
        expected = power.reshape(len(YEAR), 2).mean(axis=1) * 0.5 / 1000.0
        np.testing.assert_allclose(table[plant.name].to_numpy(), expected, rtol=1e-9, atol=1e-12)
        assert expected.sum() > 500 * plant.kwp  # a real year, not zeros


def test_production_scales_with_kwp_and_is_zero_at_night():
    small, large = (Plant(name, CLERMONT_FERRAND, kwp) for name, kwp in (("a", 9.0), ("b", 36.0)))
    table = production([small, large], YEAR, weather="clear_sky")
    np.testing.assert_allclose(table["b"].to_numpy(), 4.0 * table["a"].to_numpy(), rtol=1e-12)
    # No sun above the horizon during a whole step: nothing produced in it.
    site = pvlib.location.Location(45.78, 3.08, altitude=400, tz="Europe/Paris")
    samples = sample_times(YEAR, STEP)
    elevation = site.get_solarposition(samples)["apparent_elevation"].to_numpy()
    dark = (elevation.reshape(len(YEAR), 2) < -1.0).all(axis=1)
    assert dark.sum() > 7000
    assert (table.to_numpy()[dark] == 0).all()
    # Never above the inverter's rating (kWp / DC-AC ratio) times the step, nor kWp x step.
    for plant in (small, large):
        rating = plant.inverter_efficiency * plant.kwp / plant.dc_ac_ratio
        assert table[plant.name].max() <= rating * 0.5 + 1e-12
        assert (table[plant.name] >= 0).all()


def test_a_clipped_inverter_never_passes_its_rating():
    plant = Plant("clipped", CLERMONT_FERRAND, 10.0, dc_ac_ratio=1.6)
    table = production([plant], time_index(2025, "15min"), weather="clear_sky")
    # PVWatts' AC rating is the nominal efficiency times the inverter's DC rating.
    ceiling = 0.96 * 10.0 / 1.6 * 0.25
    assert table["clipped"].max() == pytest.approx(ceiling, rel=1e-9)  # clear noons clip


def test_yields_in_clermont_ferrand_match_published_figures():
    # PVGIS gives about 1,200-1,350 kWh/kWp a year for a south-facing 30 deg roof in
    # Clermont-Ferrand with real weather; the clear sky is an upper bound well above it.
    roof = Plant("roof", CLERMONT_FERRAND, 1.0, tilt=30, azimuth=180)
    clear = float(production([roof], YEAR, weather="clear_sky")["roof"].sum())
    assert clear > 1_600
    years = [float(production([roof], YEAR, seed=seed)["roof"].sum()) for seed in range(5)]
    assert all(1_150 <= value <= 1_400 for value in years), years  # the documented band
    assert 1_200 <= np.mean(years) <= 1_350
    assert max(years) < clear


def test_the_same_seed_gives_the_same_bits_and_another_seed_other_clouds():
    plant = [Plant("roof", CLERMONT_FERRAND, 9.0)]
    first = production(plant, YEAR, seed=11)
    again = production(plant, YEAR, seed=11)
    other = production(plant, YEAR, seed=12)
    assert first.equals(again)
    assert not first.equals(other)
    # Plants of one location share the clouds: two orientations fall on the same bad days.
    east, west = (
        Plant("east", CLERMONT_FERRAND, 1.0, azimuth=90),
        Plant("west", CLERMONT_FERRAND, 1.0, azimuth=270),
    )
    pair = production([east, west], YEAR, seed=11)
    daily = pair.groupby(pair.index.date).sum()
    assert daily["east"].corr(daily["west"]) > 0.9


def test_dst_days_have_46_and_50_half_hours_of_production():
    table = production([Plant("roof", CLERMONT_FERRAND, 9.0)], YEAR, seed=0)
    steps_per_day = table.groupby(table.index.date).size()
    assert steps_per_day.loc[pd.Timestamp("2025-03-30").date()] == 46
    assert steps_per_day.loc[pd.Timestamp("2025-10-26").date()] == 50
    assert np.isfinite(table.to_numpy()).all()


def test_a_weather_file_read_by_pvlib_drives_the_model():
    # pvlib's bundled TMY3 file (Greensboro, North Carolina), put in 2025.
    path = Path(pvlib.__file__).parent / "data" / "723170TYA.CSV"
    weather = read_weather(path, "tmy3", year=2025)
    assert {"ghi", "dni", "dhi", "temp_air", "wind_speed"} <= set(weather.columns)
    site = Location(36.1, -79.95, 270.0, "America/New_York", "Greensboro")
    index = pd.date_range(
        "2025-01-02", "2025-12-30", freq="1h", tz="America/New_York", inclusive="left"
    )
    table = production([Plant("roof", site, 1.0, tilt=30)], index, weather=weather)
    assert 1_200 < table["roof"].sum() < 1_700  # NC: about 1,400-1,500 kWh/kWp
    # The year's first hours are not in the file (it starts at 01:00 local): a typed error
    # that names the instant.
    january = pd.date_range("2025-01-01", periods=48, freq="1h", tz="America/New_York")
    with pytest.raises(errors.ParameterError, match="does not cover 2025-01-01"):
        production([Plant("roof", site, 1.0)], january, weather=weather)


def test_an_unreadable_weather_file_is_a_file_format_error(tmp_path):
    bad = tmp_path / "tmy.csv"
    bad.write_text("not,a,tmy\n1,2,3\n")
    with pytest.raises(errors.FileFormatError, match=r"tmy\.csv"):
        read_weather(bad, "tmy3")


def test_bad_plants_and_indexes_are_typed_errors():
    with pytest.raises(errors.ParameterError, match="kwp"):
        Plant("x", CLERMONT_FERRAND, 0.0)
    with pytest.raises(errors.ParameterError, match="tilt"):
        Plant("x", CLERMONT_FERRAND, 1.0, tilt=95)
    with pytest.raises(errors.ParameterError, match="temperature_model"):
        Plant("x", CLERMONT_FERRAND, 1.0, temperature_model="roof")  # type: ignore[arg-type]
    with pytest.raises(errors.ParameterError, match="latitude"):
        Location(91.0, 0.0)
    plant = Plant("x", CLERMONT_FERRAND, 1.0)
    with pytest.raises(errors.ParameterError, match="named 'x'"):
        production([plant, plant], YEAR)
    with pytest.raises(errors.ParameterError, match="tz-aware"):
        production([plant], pd.date_range("2025-01-01", periods=4, freq="30min"))
    with pytest.raises(errors.ParameterError, match="weather"):
        production([plant], YEAR, weather="sunny")  # type: ignore[arg-type]


def test_clear_sky_irradiance_is_physical():
    samples = sample_times(YEAR, STEP)
    sky = clear_sky(CLERMONT_FERRAND, samples)
    assert (sky[["ghi", "dni", "dhi"]] >= 0).all().all()
    assert sky["ghi"].max() < 1_100  # W/m2 at 45.8 N


def test_a_pvgis_typical_year_is_put_in_the_index_year(tmp_path):
    # A PVGIS TMY as its JSON output lays it out (months taken from different years, UTC
    # hours), made here from the clear sky of 2010-2013 so that no download is needed.
    import json

    months = {m: 2010 + m % 4 for m in range(1, 13)}
    hours = pd.date_range("2019-01-01", "2020-01-01", freq="1h", tz="UTC", inclusive="left")
    stamps = [h.replace(year=months[h.month]) for h in hours]
    sky = clear_sky(CLERMONT_FERRAND, pd.DatetimeIndex(stamps))
    records = [
        {
            "time(UTC)": f"{stamp:%Y%m%d:%H%M}",
            "T2m": 15.0,
            "RH": 70.0,
            "G(h)": float(row.ghi),
            "Gb(n)": float(row.dni),
            "Gd(h)": float(row.dhi),
            "IR(h)": 300.0,
            "WS10m": 2.0,
            "WD10m": 180.0,
            "SP": 97_000.0,
        }
        for stamp, row in zip(stamps, sky.itertuples(), strict=True)
    ]
    document = {
        "inputs": {"location": {"latitude": 45.78, "longitude": 3.08, "elevation": 400.0}},
        "outputs": {
            "months_selected": [{"month": m, "year": y} for m, y in months.items()],
            "tmy_hourly": records,
        },
        "meta": {"inputs": {}, "outputs": {}},
    }
    path = tmp_path / "tmy_45.780_3.080.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    weather = read_weather(path, "pvgis", year=2025)
    assert weather.index.year.unique().tolist() == [2025]
    assert weather.index.is_monotonic_increasing
    assert weather["temp_air"].iloc[0] == 15.0
    # Covered from the first to the last hour of 2025 UTC: a year's production on the
    # hours inside it, about a clear sky's.
    index = pd.date_range(
        "2025-01-01 02:00", "2025-12-31 22:00", freq="1h", tz="Europe/Paris", inclusive="left"
    )
    table = production([Plant("roof", CLERMONT_FERRAND, 1.0)], index, weather=weather)
    assert 1_550 < table["roof"].sum() < 1_800
