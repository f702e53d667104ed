"""repartition.profiles' consumption: annual energies, the French calendar, public
buildings' hours, heating, prosumers, seeds and DST days."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from repartition import errors
from repartition.profiles import (
    KINDS,
    Consumer,
    consumption,
    public_holidays,
    school_holidays,
    time_index,
)

pytest.importorskip("demandlib")

YEAR = time_index(2025, "30min")


def at(table: pd.DataFrame, local: str) -> pd.Series:
    return table.loc[pd.Timestamp(local, tz="Europe/Paris")]


@pytest.mark.parametrize("step", ["15min", "30min", "1h"])
def test_every_kind_integrates_to_its_annual_energy(step):
    index = time_index(2025, step)
    members = [Consumer(kind, kind, 1_000.0 * (k + 1)) for k, kind in enumerate(KINDS)]
    table = consumption(members, index, seed=2)
    np.testing.assert_allclose(table.sum().to_numpy(), [m.annual_kwh for m in members], rtol=1e-12)
    assert np.isfinite(table.to_numpy()).all()
    assert (table.to_numpy() >= 0).all()


def test_each_calendar_year_and_any_part_of_it_agree():
    two_years = pd.date_range(
        "2025-01-01", "2027-01-01", freq="30min", tz="Europe/Paris", inclusive="left"
    )
    home = [Consumer("home", "household", 4_000.0, electric_heating=True)]
    table = consumption(home, two_years, seed=1)
    by_year = table["home"].groupby(table.index.year).sum()
    np.testing.assert_allclose(by_year.to_numpy(), [4_000.0, 4_000.0], rtol=1e-12)
    # A month alone is that month of the year: the profile belongs to the calendar year.
    march = YEAR[(YEAR.month == 3)]
    month = consumption(home, march, seed=1)
    year = consumption(home, YEAR, seed=1)
    np.testing.assert_allclose(month["home"].to_numpy(), year.loc[march, "home"].to_numpy())


def test_the_french_calendar_public_and_school_holidays():
    days = pd.DatetimeIndex(
        ["2025-07-14 12:00", "2025-05-29 12:00", "2025-07-15 12:00", "2025-10-27 12:00"],
        tz="Europe/Paris",
    )
    # Bastille Day and Ascension Thursday are public holidays; 27 October 2025 is in the
    # All Saints' holidays of every zone; 15 July is in the summer holidays.
    assert public_holidays(days).tolist() == [True, True, False, False]
    assert school_holidays(days, "A").tolist() == [True, False, True, True]


def test_a_school_is_closed_at_weekends_and_in_the_school_holidays():
    table = consumption([Consumer("school", "school", 30_000.0)], YEAR, seed=0)
    school = table["school"]
    open_day = at(table, "2025-10-16 10:00")["school"]  # a Thursday in term
    saturday = at(table, "2025-10-11 10:00")["school"]
    holidays = at(table, "2025-10-23 10:00")["school"]  # Thursday of the All Saints' break
    wednesday_afternoon = at(table, "2025-10-15 15:00")["school"]
    for closed in (saturday, holidays, wednesday_afternoon):
        assert closed < 0.3 * open_day
    # August, all holidays: standby only (fridges, servers), well below a term month, and
    # the same standby as a term month's nights.
    august, november = school.index.month == 8, school.index.month == 11
    assert school[august].sum() < 0.5 * school[november].sum()
    nights = school.index.hour.isin([1, 2, 3])
    assert school[august & nights].mean() == pytest.approx(
        school[november & nights].mean(), rel=0.1
    )


def test_a_gymnasium_lives_in_the_evening_and_a_pool_around_the_clock():
    members = [Consumer("gym", "gymnasium", 25_000.0), Consumer("pool", "swimming_pool", 4e5)]
    table = consumption(members, YEAR, seed=0)
    weekdays = table[(table.index.day_of_week < 5) & (table.index.month == 11)]
    by_hour = weekdays.groupby(weekdays.index.hour).mean()
    assert by_hour.loc[20, "gym"] > 1.5 * by_hour.loc[15, "gym"]
    assert by_hour.loc[3, "gym"] < 0.2 * by_hour.loc[20, "gym"]
    assert by_hour.loc[3, "pool"] > 0.4 * by_hour.loc[12, "pool"]  # filtration at night


def test_households_follow_the_bdew_profile_on_average():
    homes = [Consumer(f"home_{k}", "household", 4_000.0) for k in range(150)]
    table = consumption(homes, YEAR, seed=3)
    reference = consumption([Consumer("alone", "household", 4_000.0)], YEAR, seed=3)
    mean = table.mean(axis=1)
    # Each home is its own (shifted, noisy) curve; their mean is the standard profile's shape.
    assert table["home_0"].corr(table["home_1"]) < 0.8
    daily_mean = mean.groupby(mean.index.hour).mean()
    daily_one = reference["alone"].groupby(reference.index.hour).mean()
    assert daily_mean.corr(daily_one) > 0.9
    assert daily_mean.idxmax() in range(17, 22)  # the evening peak


def test_electric_heating_follows_the_winter():
    members = [
        Consumer("plain", "household", 6_000.0),
        Consumer("heated", "household", 6_000.0, electric_heating=True),
    ]
    table = consumption(members, YEAR, seed=0)
    monthly = table.groupby(table.index.month).sum()
    assert monthly.loc[1, "heated"] / monthly.loc[7, "heated"] > 3.0
    assert monthly.loc[1, "plain"] / monthly.loc[7, "plain"] < 2.0
    summer = table.index.month.isin([6, 7, 8])
    heated_summer = table.loc[summer, "heated"].sum()
    assert heated_summer == pytest.approx(0.55 * table.loc[summer, "plain"].sum(), rel=0.25)


def test_a_prosumer_draws_what_its_own_pv_leaves():
    members = [
        Consumer("home", "household", 5_000.0),
        Consumer("prosumer", "household", 5_000.0, pv_kwp=3.0),
    ]
    same_habits = consumption(members[:1], YEAR, seed=4)["home"]
    table = consumption([Consumer("prosumer", "household", 5_000.0, pv_kwp=3.0)], YEAR, seed=4)
    without = consumption([Consumer("prosumer", "household", 5_000.0)], YEAR, seed=4)
    assert (table["prosumer"] <= without["prosumer"] + 1e-12).all()
    assert (table["prosumer"] >= 0).all()
    saved = without["prosumer"].sum() - table["prosumer"].sum()
    assert 500 < saved < 2_500  # a 3 kWp roof covers part of the daytime load
    night = table.index.hour.isin([0, 1, 2, 3])
    np.testing.assert_array_equal(table.loc[night, "prosumer"], without.loc[night, "prosumer"])
    assert same_habits.sum() == pytest.approx(5_000.0)


def test_a_members_curve_depends_on_its_name_and_the_seed_only():
    small = consumption([Consumer("home_1", "household", 4_000.0)], YEAR, seed=9)
    large = consumption(
        [Consumer(f"home_{k}", "household", 4_000.0) for k in range(5)], YEAR, seed=9
    )
    np.testing.assert_array_equal(small["home_1"].to_numpy(), large["home_1"].to_numpy())
    again = consumption([Consumer("home_1", "household", 4_000.0)], YEAR, seed=9)
    assert again.equals(small)
    other = consumption([Consumer("home_1", "household", 4_000.0)], YEAR, seed=10)
    assert not other.equals(small)


def test_dst_days_have_46_and_50_half_hours():
    table = consumption([Consumer("home", "household", 4_000.0)], YEAR, seed=0)
    per_day = table.groupby(table.index.date).size()
    assert per_day.loc[pd.Timestamp("2025-03-30").date()] == 46
    assert per_day.loc[pd.Timestamp("2025-10-26").date()] == 50
    assert table.sum().iloc[0] == pytest.approx(4_000.0, rel=1e-12)


def test_bad_consumers_and_indexes_are_typed_errors():
    with pytest.raises(errors.ParameterError, match="kind"):
        Consumer("x", "castle", 1.0)  # type: ignore[arg-type]
    with pytest.raises(errors.ParameterError, match="annual_kwh"):
        Consumer("x", "household", -1.0)
    with pytest.raises(errors.ParameterError, match="heating_share"):
        Consumer("x", "household", 1.0, heating_share=0.5)
    home = Consumer("x", "household", 1.0)
    with pytest.raises(errors.ParameterError, match="named 'x'"):
        consumption([home, home], YEAR)
    ten_minutes = pd.date_range("2025-01-01", periods=10, freq="10min", tz="Europe/Paris")
    with pytest.raises(errors.ParameterError, match="15 minutes"):
        consumption([home], ten_minutes)
    with pytest.raises(errors.ParameterError, match="zone"):
        consumption([home], YEAR, zone="D")  # type: ignore[arg-type]
