"""Consumption profiles: standard load profiles, public buildings and households, on the
French calendar, with seeded member-to-member variation (docs/profiles.md, "Consumption").

Every profile is built at 15 minutes over the local calendar years the index touches,
scaled so that each calendar year sums to the annual energy asked, then summed (or split)
to the index's step. Sources:

- **households, offices, farms**: the BDEW 2025 standard load profiles H25 (households,
  with its day-of-year dynamisation), G25 (business) and L25 (agriculture), shipped and
  computed by ``demandlib``, with French public holidays as holidays;
- **school, gymnasium, swimming pool, town hall, shop**: no published profile exists for
  these French public buildings; each is built from its opening hours (the French school
  week, club evenings, a pool's long hours and its 24-hour filtration...), a standby base
  and a winter lighting factor, as written in :data:`BUILDINGS` and docs/profiles.md;
- **electric heating**: a share of the annual energy follows heating degree-days on base
  18 °C (the French "degrés-jours unifiés"), spread over the day by a heating schedule;
- **prosumers**: a home's own PV (pvlib, :mod:`repartition.profiles.pv`) is used first;
  its consumption from the grid is what the PV leaves.
"""

from __future__ import annotations

import functools
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import _optional, errors
from repartition.profiles.calendar import Zone, public_holidays, school_holidays
from repartition.profiles.pv import Plant, production
from repartition.profiles.site import CLERMONT_FERRAND, Location
from repartition.profiles.weather import CENTRAL_FRANCE, Climate, nanoseconds
from repartition.time import check_time_index

__all__ = ["BUILDINGS", "KINDS", "Consumer", "Kind", "consumption", "temperature_year"]

Array = NDArray[np.float64]

Kind = Literal[
    "household", "office", "farm", "school", "gymnasium", "swimming_pool", "town_hall", "shop"
]
KINDS: tuple[str, ...] = (
    "household",
    "office",
    "farm",
    "school",
    "gymnasium",
    "swimming_pool",
    "town_hall",
    "shop",
)
_STANDARD = {"household": "H25", "office": "G25", "farm": "L25"}
QUARTER = pd.Timedelta(minutes=15)


@dataclass(frozen=True)
class _Opening:
    """One block of a building's week: from ``start`` to ``end`` o'clock [h] on the days
    of ``days`` (0 = Monday), at ``level`` (1 = fully used)."""

    days: tuple[int, ...]
    start: float
    end: float
    level: float
    school_days_only: bool = False  # only when the schools are open
    also_in_school_holidays: float = 1.0  # the level's factor in the school holidays


@dataclass(frozen=True)
class Building:
    """How a kind of public building uses electricity through the week and the year."""

    base: float  # standby (fridges, servers, pumps, emergency lighting), relative to use
    openings: tuple[_Opening, ...]
    closed_in_school_holidays: bool = False
    closed_weeks: tuple[int, ...] = ()  # ISO weeks with only the base (summer, draining)
    winter_lighting: float = 0.2  # extra use at the winter solstice, relative [-]
    source: str = ""


_WEEKDAYS = (0, 1, 2, 3, 4)
BUILDINGS: dict[str, Building] = {
    "school": Building(
        base=0.15,
        openings=(
            _Opening((0, 1, 3, 4), 8.0, 16.5, 1.0, school_days_only=True),
            _Opening((2,), 8.0, 12.0, 1.0, school_days_only=True),  # Wednesday mornings
            _Opening((0, 1, 3, 4), 11.25, 13.5, 0.6, school_days_only=True),  # the canteen
        ),
        closed_in_school_holidays=True,
        source="the French primary-school week (four and a half days), closed at weekends, "
        "on public holidays and in the school holidays of its zone; canteen at noon",
    ),
    "gymnasium": Building(
        base=0.08,
        openings=(
            _Opening(_WEEKDAYS, 9.0, 12.0, 0.5, school_days_only=True),  # school sport
            _Opening(_WEEKDAYS, 14.0, 16.5, 0.5, school_days_only=True),
            _Opening(_WEEKDAYS, 17.5, 22.5, 1.0, also_in_school_holidays=0.6),  # clubs
            _Opening((5,), 9.0, 18.0, 0.8),  # Saturday matches
            _Opening((6,), 9.0, 12.0, 0.5),
        ),
        closed_weeks=(31, 32, 33),
        winter_lighting=0.35,
        source="school sport on school days, club evenings (fewer in the holidays), "
        "Saturday matches, closed three weeks in August; lighting-dominated",
    ),
    "swimming_pool": Building(
        base=1.0,
        openings=(
            _Opening(_WEEKDAYS, 7.0, 21.0, 1.0),
            _Opening((5, 6), 9.0, 19.0, 1.0),
        ),
        closed_weeks=(36, 37),
        winter_lighting=0.25,
        source="filtration, water heating and dehumidification around the clock (a base as "
        "large as the open hours' extra), open 7-21 on weekdays and 9-19 at weekends, "
        "drained two weeks in September",
    ),
    "town_hall": Building(
        base=0.15,
        openings=(
            _Opening(_WEEKDAYS, 8.5, 12.0, 1.0),
            _Opening(_WEEKDAYS, 13.5, 17.5, 1.0),
            _Opening((5,), 9.0, 12.0, 0.5),  # Saturday mornings: civil registry, weddings
        ),
        source="office hours on weekdays with a lunch break, Saturday mornings",
    ),
    "shop": Building(
        base=0.35,
        openings=(
            _Opening((1, 2, 3, 4, 5), 9.0, 19.0, 1.0),
            _Opening((6,), 8.5, 12.5, 0.6),
        ),
        winter_lighting=0.1,
        source="a village shop: refrigeration around the clock, open Tuesday to Saturday "
        "and Sunday mornings, closed Mondays",
    ),
}


@dataclass(frozen=True)
class Consumer:
    """A consuming member.

    Parameters
    ----------
    name : str
        Its column (a PRM id or a name).
    kind : str
        One of :data:`KINDS`.
    annual_kwh : float
        The energy it uses in a calendar year, its own PV included for a prosumer [kWh].
    electric_heating : bool
        Heated by electricity: ``heating_share`` of the annual energy follows the
        heating degree-days.
    heating_share : float, optional
        Default 0.45 for a household (heating is 40-60 % of an all-electric French home's
        electricity), 0.3 for a building.
    pv_kwp : float
        A prosumer's own PV [kWp], south at 30°, on the operation's location and weather.
    """

    name: str
    kind: Kind
    annual_kwh: float
    electric_heating: bool = False
    heating_share: float | None = None
    pv_kwp: float = 0.0

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise errors.ParameterTypeError(
                f"A consumer's name is a non-empty str, not {self.name!r}."
            )
        if self.kind not in KINDS:
            raise errors.ParameterError(
                f"Consumer {self.name!r}: kind must be one of {list(KINDS)}, not {self.kind!r}."
            )
        for field in ("annual_kwh", "pv_kwp"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise errors.ParameterTypeError(
                    f"Consumer {self.name!r}: {field} must be a number, not {value!r}."
                )
            if not (np.isfinite(value) and value >= 0):
                raise errors.ParameterError(
                    f"Consumer {self.name!r}: {field} must be finite and >= 0, not {value!r}."
                )
            object.__setattr__(self, field, float(value))
        share = self.heating_share
        if share is None:
            share = (0.45 if self.kind == "household" else 0.3) if self.electric_heating else 0.0
        elif not self.electric_heating:
            raise errors.ParameterError(
                f"Consumer {self.name!r}: a heating_share needs electric_heating=True."
            )
        if not 0.0 <= float(share) < 1.0:
            raise errors.ParameterError(
                f"Consumer {self.name!r}: heating_share must be in [0, 1), not {share!r}."
            )
        object.__setattr__(self, "heating_share", float(share))


def consumption(
    consumers: Sequence[Consumer],
    index: pd.DatetimeIndex,
    *,
    location: Location = CLERMONT_FERRAND,
    zone: Zone = "A",
    seed: int = 0,
    weather: pd.DataFrame | str = "stochastic",
    climate: Climate = CENTRAL_FRANCE,
) -> pd.DataFrame:
    """Each consumer's consumption from the grid on ``index`` [kWh per step].

    Parameters
    ----------
    consumers : sequence of Consumer
        Distinct names.
    index : pandas.DatetimeIndex
        Step starts, tz-aware, regular, on the quarter-hour grid (15 min, 30 min, 1 h...).
    location : Location
        Of the operation (its prosumers' PV and its temperatures).
    zone : {"A", "B", "C"}
        The school-holiday zone (Clermont-Ferrand: A).
    seed : int
        Of the member-to-member variation, the temperatures and the prosumers' weather:
        the same seed gives the same bits; a member's curve depends on its name and the
        seed only, not on the other members.
    weather : "stochastic", "clear_sky" or a weather table
        For the prosumers' PV (see :func:`repartition.profiles.production`); a table's
        ``temp_air`` also drives the heating.
    climate : Climate
        The monthly temperatures the heating follows without a weather table.

    Returns
    -------
    pandas.DataFrame
        CONS, shape (steps, consumers), columns the names, finite and >= 0. Each calendar
        year a consumer's load (before its own PV) sums to its ``annual_kwh`` over the
        whole year. [kWh per step]
    """
    consumers = list(consumers)
    if not consumers:
        raise errors.ParameterError("consumption needs at least one Consumer.")
    names = [c.name for c in consumers]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise errors.ParameterError(f"Two consumers are named {duplicate!r}: names are columns.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise errors.ParameterError(f"seed must be a whole number >= 0, not {seed!r}.")
    step = _quarter_step(index)
    if zone not in ("A", "B", "C"):
        raise errors.ParameterError(f"zone must be 'A', 'B' or 'C', not {zone!r}.")
    grid = _QuarterGrid.of(index, location.tz, zone)
    temperature = None
    if any(c.electric_heating for c in consumers):
        temperature = _temperature_on(grid.quarters, weather, climate, seed)
    standard: dict[str, Array] = {}
    result = np.empty((len(index), len(consumers)))
    for column, consumer in enumerate(consumers):
        rng = np.random.default_rng(
            np.random.SeedSequence([int(seed), zlib.crc32(consumer.name.encode())])
        )
        if consumer.kind in _STANDARD:
            if consumer.kind not in standard:
                standard[consumer.kind] = _standard(_STANDARD[consumer.kind], grid)
            shape = standard[consumer.kind]
        else:
            if consumer.kind not in standard:
                standard[consumer.kind] = _building(BUILDINGS[consumer.kind], grid)
            shape = standard[consumer.kind]
        load = _varied(shape, grid, consumer.kind, rng)
        if consumer.electric_heating:
            assert temperature is not None
            assert consumer.heating_share is not None
            heating = _heating(temperature, grid, consumer.kind)
            load = grid.scaled(load, 1.0 - consumer.heating_share) + grid.scaled(
                heating, consumer.heating_share
            )
        else:
            load = grid.scaled(load, 1.0)
        result[:, column] = grid.on_index(load * consumer.annual_kwh, step)
    table = pd.DataFrame(result, index=index, columns=pd.Index(names, name="consumer"))
    prosumers = [c for c in consumers if c.pv_kwp > 0]
    if prosumers:
        own = production(
            [Plant(c.name, location, c.pv_kwp) for c in prosumers],
            index,
            weather=weather,  # type: ignore[arg-type]
            seed=seed,
        )
        for consumer in prosumers:
            table[consumer.name] = np.maximum(table[consumer.name] - own[consumer.name], 0.0)
    return table


def _quarter_step(index: pd.DatetimeIndex) -> pd.Timedelta:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise errors.ParameterError(
            "consumption needs a tz-aware pandas.DatetimeIndex of step starts "
            "(repartition.profiles.time_index(2025, '30min'))."
        )
    step = check_time_index(index, "the consumption index")
    if step is None:
        raise errors.ParameterError("consumption needs at least two steps, evenly spaced.")
    if step % QUARTER != pd.Timedelta(0) or (nanoseconds(index[:1])[0] % QUARTER.value) != 0:
        raise errors.ParameterError(
            f"consumption works on quarter hours: the step ({step}) must be a multiple of "
            "15 minutes, starting on a quarter hour."
        )
    return step


@dataclass
class _QuarterGrid:
    """The quarter hours of the local calendar years the index touches."""

    quarters: pd.DatetimeIndex  # tz-aware, local
    years: NDArray[np.int64]  # the local calendar year of each quarter
    first: int  # the quarter of the index's first step
    index_length: int
    day_of: NDArray[np.intp]  # the local day of each quarter, 0 for the first
    days: int
    public_holiday: NDArray[np.bool_]
    zone: Zone

    @functools.cached_property
    def school_holiday(self) -> NDArray[np.bool_]:
        return school_holidays(self.quarters, self.zone)

    @classmethod
    def of(cls, index: pd.DatetimeIndex, tz: str, zone: Zone) -> _QuarterGrid:
        local = index.tz_convert(tz)
        first_year, last_year = int(local[0].year), int((local[-1]).year)
        quarters = pd.date_range(
            f"{first_year}-01-01",
            f"{last_year + 1}-01-01",
            freq=QUARTER,
            tz=tz,
            inclusive="left",
        )
        start = int(np.searchsorted(nanoseconds(quarters), nanoseconds(local[:1])[0]))
        days, day_of = np.unique(nanoseconds(quarters.normalize()), return_inverse=True)
        return cls(
            quarters,
            quarters.year.to_numpy(np.int64),
            start,
            len(index),
            day_of,
            len(days),
            public_holidays(quarters),
            zone,
        )

    def scaled(self, values: Array, fraction: float) -> Array:
        """``values`` scaled so that each calendar year sums to ``fraction``."""
        result = np.zeros_like(values)
        for year in np.unique(self.years):
            mask = self.years == year
            total = values[mask].sum()
            if total > 0:
                result[mask] = values[mask] * (fraction / total)
        return result

    def on_index(self, quarters: Array, step: pd.Timedelta) -> Array:
        """Quarter-hour energies summed into the index's steps. [kWh per step]"""
        parts = step // QUARTER
        stop = self.first + self.index_length * parts
        if stop > len(quarters):
            raise errors.ParameterError("The index runs past the calendar years it starts in.")
        window = quarters[self.first : stop]
        summed: Array = window.reshape(self.index_length, parts).sum(axis=1)
        return summed


def _standard(profile: str, grid: _QuarterGrid) -> Array:
    """A BDEW 2025 profile from demandlib on the quarter hours, French holidays."""
    bdew: Any = _optional.import_extra("demandlib.bdew", "profiles", feature="consumption")
    quarters = grid.quarters
    days = np.unique(quarters[grid.public_holiday].tz_localize(None).normalize())
    holidays = [pd.Timestamp(d).to_pydatetime() for d in days]
    values = getattr(bdew, profile)(quarters, holidays=holidays)
    return np.asarray(values, dtype=np.float64)


def _building(building: Building, grid: _QuarterGrid) -> Array:
    """A public building's relative use on the quarter hours, from its week and calendar."""
    quarters = grid.quarters
    middle = quarters + QUARTER / 2
    hour = middle.hour.to_numpy() + middle.minute.to_numpy() / 60.0
    weekday = middle.day_of_week.to_numpy()
    holiday = grid.public_holiday
    in_school_holidays = grid.school_holiday
    week = middle.isocalendar().week.to_numpy()
    use = np.zeros(len(quarters))
    for opening in building.openings:
        on = np.isin(weekday, opening.days) & (hour >= opening.start) & (hour < opening.end)
        level = np.full(len(quarters), opening.level)
        if opening.school_days_only:
            on &= ~in_school_holidays
        else:
            level = np.where(in_school_holidays, level * opening.also_in_school_holidays, level)
        use = np.maximum(use, np.where(on, level, 0.0))
    closed = holiday | np.isin(week, building.closed_weeks)
    if building.closed_in_school_holidays:
        closed |= in_school_holidays
    use[closed] = 0.0
    season = 0.5 + 0.5 * np.cos(2.0 * np.pi * (middle.day_of_year.to_numpy() - 355) / 365.25)
    result: Array = building.base + use * (1.0 + building.winter_lighting * season)
    return result


def _varied(shape: Array, grid: _QuarterGrid, kind: str, rng: np.random.Generator) -> Array:
    """One member's curve from its kind's shape: a shift of its habits (up to an hour for a
    home, 30 minutes for the others), a level per day (Gamma, mean 1, 25 % for a home) and
    noise per quarter hour (Gamma, mean 1), seeded per member."""
    home = kind == "household"
    shift = int(rng.integers(-4, 5)) if home else int(rng.integers(-2, 3))
    varied = np.roll(shape, shift)
    daily_shape = 16.0 if home else 50.0
    daily = rng.gamma(daily_shape, 1.0 / daily_shape, grid.days)[grid.day_of]
    step_shape = 6.0 if home else 25.0
    noise = rng.gamma(step_shape, 1.0 / step_shape, len(shape))
    result: Array = varied * daily * noise
    return result


def temperature_year(
    quarters: pd.DatetimeIndex, climate: Climate = CENTRAL_FRANCE, seed: int = 0
) -> Array:
    """Air temperature on ``quarters`` [°C]: the month's mean, interpolated day by day,
    plus a daily anomaly (AR(1), 3 °C, day-to-day correlation 0.8) and a daily cycle of
    ``climate.daily_range`` peaking at 15:00."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 18]))
    local_days = quarters.normalize()
    days, day_of = np.unique(nanoseconds(local_days), return_inverse=True)
    day_index = pd.DatetimeIndex(pd.to_datetime(days, unit="ns"))
    # The monthly normals sit at mid-month: interpolate day by day (periodic over the year).
    middle = day_index.day_of_year.to_numpy() - 0.5
    months = (np.arange(12) + 0.5) * 365.25 / 12
    normals = np.interp(middle, months, np.asarray(climate.temperature), period=365.25)
    anomaly = np.empty(len(days))
    shocks = rng.standard_normal(len(days)) * 3.0
    anomaly[0] = shocks[0]
    for d in range(1, len(days)):
        anomaly[d] = 0.8 * anomaly[d - 1] + np.sqrt(1 - 0.64) * shocks[d]
    hour = quarters.hour.to_numpy() + quarters.minute.to_numpy() / 60.0
    cycle = climate.daily_range * np.cos(2 * np.pi * (hour - 15.0) / 24.0)
    result: Array = (normals + anomaly)[day_of] + cycle
    return result


def _temperature_on(
    quarters: pd.DatetimeIndex, weather: pd.DataFrame | str, climate: Climate, seed: int
) -> Array:
    if isinstance(weather, pd.DataFrame) and "temp_air" in weather.columns:
        source = nanoseconds(pd.DatetimeIndex(weather.index)).astype(np.float64)
        target = nanoseconds(quarters).astype(np.float64)
        if target[0] < source.min() or target[-1] > source.max():
            raise errors.ParameterError(
                "The weather table does not cover the calendar years of the index: the "
                "heating needs the temperature of whole years."
            )
        order = np.argsort(source)
        values = weather["temp_air"].to_numpy(dtype=np.float64)[order]
        interpolated: Array = np.interp(target, source[order], values)
        return interpolated
    return temperature_year(quarters, climate, seed)


def _heating(temperature: Array, grid: _QuarterGrid, kind: str) -> Array:
    """Heating on the quarter hours, relative: each day's degree-days on base 18 °C (from
    its mean temperature) spread by a schedule (a home: comfort 6-22 h, night setback to
    60 %; a building: its working hours, frost protection otherwise)."""
    day_of = grid.day_of
    mean = np.bincount(day_of, temperature) / np.bincount(day_of)
    degree_days = np.maximum(0.0, 18.0 - mean)[day_of]
    hour = grid.quarters.hour.to_numpy() + grid.quarters.minute.to_numpy() / 60.0
    if kind == "household":
        schedule = np.where((hour >= 6.0) & (hour < 22.0), 1.0, 0.6)
    else:
        weekday = grid.quarters.day_of_week.to_numpy()
        schedule = np.where((weekday < 5) & (hour >= 6.0) & (hour < 18.0), 1.0, 0.3)
    result: Array = degree_days * schedule
    return result
