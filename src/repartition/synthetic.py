"""Synthetic energy communities: seeded load and production curves, and keys for them.

For demos, tests and benchmarks: a year of steps for a few producers with a daylight
production that follows the sun and the weather, and a few dozen consumers (households,
offices, schools) with daily patterns. Everything is a pure function of its arguments:
the same seed gives the same tables, bit for bit, on every machine.

The geometry and the irradiance are textbook approximations (no pvlib needed): good
enough for the shape of a year (day length, seasonal peak, cloudy days), not for a
production estimate of a real plant.

>>> from repartition.synthetic import synthetic_community
>>> consumption, production = synthetic_community(consumers=5, producers=1)
>>> consumption.shape, production.shape
((17520, 5), (17520, 1))
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = [
    "LATITUDE",
    "LONGITUDE",
    "DemoKeys",
    "check_step",
    "check_year",
    "clear_sky_irradiance",
    "demo_keys",
    "round_down",
    "solar_elevation_sine",
    "synthetic_community",
    "time_index",
]

Array = NDArray[np.float64]

LATITUDE = 46.0
"""Latitude of the synthetic community, centre of France. [degrees north]"""

LONGITUDE = 2.0
"""Longitude of the synthetic community, centre of France. [degrees east]"""

_PERFORMANCE_RATIO = 0.85
"""AC energy delivered per kWp under 1 kW/m^2 of irradiance (losses, temperature). [-]"""

_PLANT_KWP = (3.0, 100.0)
"""Range of plant sizes: rooftops to a school or warehouse roof. [kWp]"""

_ANNUAL_KWH = {"home": (4_500.0, 0.35), "office": (25_000.0, 0.4), "school": (35_000.0, 0.4)}
"""Median annual consumption [kWh] and log-normal spread [-] of each kind of consumer."""

_TERTIARY_EVERY = 6
"""One consumer in six is an office or a school (alternately), the others are homes."""


# --------------------------------------------------------------------------------------
# Time axis


def check_step(step: str | pd.Timedelta) -> pd.Timedelta:
    """Parse a step length and check that it divides an hour into whole minutes.

    Parameters
    ----------
    step : str or pandas.Timedelta
        A duration such as ``"15min"``, ``"30min"`` or ``"1h"``.

    Returns
    -------
    pandas.Timedelta
        The step.

    Raises
    ------
    ValueError
        If ``step`` is not a duration, or does not divide one hour into whole minutes (a
        step must start on the hour so that local days, with their DST changes, hold a
        whole number of steps).
    """
    try:
        delta = pd.Timedelta(step)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"step {step!r} is not a duration: write e.g. '15min', '30min' or '1h'."
        ) from error
    hour = pd.Timedelta(hours=1)
    minute = pd.Timedelta(minutes=1)
    if (
        pd.isna(delta)
        or delta < minute
        or delta > hour
        or delta % minute != pd.Timedelta(0)
        or hour % delta != pd.Timedelta(0)
    ):
        raise ValueError(
            f"step {step!r} must divide one hour into whole minutes (1min to 1h, e.g. "
            "'15min', '30min' or '1h')."
        )
    return delta


def check_year(year: int) -> int:
    """Check that ``year`` is a whole number from 1678 to 2261 (pandas' timestamp range).

    Raises
    ------
    ValueError
        Otherwise.
    """
    if (
        isinstance(year, bool)
        or not isinstance(year, int | np.integer)
        or not (1678 <= year <= 2261)
    ):
        raise ValueError(f"year must be a whole number from 1678 to 2261, not {year!r}.")
    return int(year)


def time_index(
    year: int = 2025, step: str | pd.Timedelta = "30min", tz: str = "Europe/Paris"
) -> pd.DatetimeIndex:
    """The start of every step of a calendar year, in local time.

    Parameters
    ----------
    year : int
        Calendar year (local time), between 1678 and 2261 (pandas' timestamp range).
    step : str or pandas.Timedelta
        Step length, dividing one hour (see :func:`check_step`).
    tz : str
        IANA time zone of the community.

    Returns
    -------
    pandas.DatetimeIndex
        Tz-aware, regular in absolute time, named ``"timestamp"``. Local days have 24
        hours of steps, except the DST changes (23 and 25 hours: 46 and 50 steps of 30
        min in Europe). A year at 30 min has 17,520 steps (17,568 in a leap year).

    Raises
    ------
    ValueError
        For a year out of range or a bad step.
    """
    year = check_year(year)
    delta = check_step(step)
    return pd.date_range(
        f"{year}-01-01",
        f"{year + 1}-01-01",
        freq=delta,
        inclusive="left",
        tz=tz,
        name="timestamp",
    )


@dataclass(frozen=True)
class _Calendar:
    """Plain arrays describing each step of a time index, at the middle of the step."""

    step_hours: float
    local_hour: Array  # local clock time of the step's middle [h, 0-24)
    day_of_year: NDArray[np.int64]  # local calendar day, 1-366
    weekday: NDArray[np.int64]  # local, 0 = Monday
    utc_hour: Array  # UTC time of the step's middle [h, 0-24)
    utc_day_of_year: NDArray[np.int64]  # UTC calendar day of the step's middle, 1-366

    @classmethod
    def of(cls, index: pd.DatetimeIndex, step: pd.Timedelta) -> _Calendar:
        middle = index + step / 2
        utc = middle.tz_convert("UTC")
        return cls(
            step_hours=step / pd.Timedelta(hours=1),
            local_hour=_hours(middle),
            day_of_year=middle.day_of_year.to_numpy(dtype=np.int64),
            weekday=middle.day_of_week.to_numpy(dtype=np.int64),
            utc_hour=_hours(utc),
            utc_day_of_year=utc.day_of_year.to_numpy(dtype=np.int64),
        )


def _hours(index: pd.DatetimeIndex) -> Array:
    return (
        index.hour.to_numpy(dtype=np.float64)
        + index.minute.to_numpy(dtype=np.float64) / 60.0
        + index.second.to_numpy(dtype=np.float64) / 3600.0
    )


# --------------------------------------------------------------------------------------
# Sun and weather (pure NumPy)


def solar_elevation_sine(
    day_of_year: NDArray[np.integer] | NDArray[np.floating],
    utc_hour: NDArray[np.floating],
    latitude: float = LATITUDE,
    longitude: float = LONGITUDE,
) -> Array:
    """Sine of the sun's elevation above the horizon (= cosine of the zenith angle).

    Parameters
    ----------
    day_of_year : array_like
        Day of the year in UTC, 1 on 1 January. [day]
    utc_hour : array_like
        Time of day in UTC. [h]
    latitude : float
        [degrees north]
    longitude : float
        [degrees east]

    Returns
    -------
    ndarray
        ``sin(elevation)`` in [-1, 1]; negative when the sun is below the horizon. [-]

    Notes
    -----
    Declination and equation of time from Spencer's Fourier series [1]_, hour angle from
    the apparent solar time ``utc_hour + longitude / 15 + EoT / 60``, and
    ``sin(elevation) = sin(lat) sin(decl) + cos(lat) cos(decl) cos(hour angle)``.
    Accurate to about a degree, with no refraction: plenty for day length and the
    seasonal peak.

    References
    ----------
    .. [1] J. W. Spencer, "Fourier series representation of the position of the sun",
       Search 2(5), p. 172, 1971.
    """
    day = np.asarray(day_of_year, dtype=np.float64)
    hour = np.asarray(utc_hour, dtype=np.float64)
    gamma = 2.0 * np.pi / 365.0 * (day - 1.0 + (hour - 12.0) / 24.0)
    declination = (
        0.006918
        - 0.399912 * np.cos(gamma)
        + 0.070257 * np.sin(gamma)
        - 0.006758 * np.cos(2 * gamma)
        + 0.000907 * np.sin(2 * gamma)
        - 0.002697 * np.cos(3 * gamma)
        + 0.00148 * np.sin(3 * gamma)
    )
    equation_of_time = 229.18 * (  # [min]
        0.000075
        + 0.001868 * np.cos(gamma)
        - 0.032077 * np.sin(gamma)
        - 0.014615 * np.cos(2 * gamma)
        - 0.040849 * np.sin(2 * gamma)
    )
    solar_time = hour + longitude / 15.0 + equation_of_time / 60.0
    hour_angle = np.deg2rad(15.0 * (solar_time - 12.0))
    phi = np.deg2rad(latitude)
    result: Array = np.sin(phi) * np.sin(declination) + np.cos(phi) * np.cos(declination) * np.cos(
        hour_angle
    )
    return result


def clear_sky_irradiance(elevation_sine: NDArray[np.floating]) -> Array:
    """Global horizontal irradiance under a clear sky, Haurwitz model.

    Parameters
    ----------
    elevation_sine : array_like
        Sine of the sun's elevation (cosine of the zenith angle), as from
        :func:`solar_elevation_sine`. [-]

    Returns
    -------
    ndarray
        ``1098 cos(z) exp(-0.059 / cos(z))``, and exactly 0 when the sun is below the
        horizon. [W/m^2]

    References
    ----------
    .. [1] B. Haurwitz, "Insolation in relation to cloudiness and cloud density",
       Journal of Meteorology 2, pp. 154-166, 1945.
    .. [2] M. Reno, C. Hansen, J. Stein, "Global Horizontal Irradiance Clear Sky Models:
       Implementation and Analysis", Sandia National Laboratories, SAND2012-2389, 2012.
    """
    cos_zenith = np.asarray(elevation_sine, dtype=np.float64)
    up = cos_zenith > 0.0
    result = np.zeros_like(cos_zenith)
    result[up] = 1098.0 * cos_zenith[up] * np.exp(-0.059 / cos_zenith[up])
    return result


def _season(day_of_year: NDArray[np.int64]) -> Array:
    """1 in mid-January, 0 in mid-July: how deep in winter a day is. [-]"""
    result: Array = 0.5 + 0.5 * np.cos(2.0 * np.pi * (day_of_year - 15.0) / 365.25)
    return result


def _smooth_noise(rng: np.random.Generator, steps: int, width: int) -> Array:
    """Standard normal noise correlated over ``width`` steps (unit variance). [-]"""
    white = rng.standard_normal(steps + width - 1)
    result: Array = np.convolve(white, np.full(width, 1.0 / np.sqrt(width)), mode="valid")
    return result


def _daily_clearness(rng: np.random.Generator) -> Array:
    """Clear-sky index of each day of the year (366 values, index = day of year - 1). [-]

    Beta-distributed, clearer in summer (mean 0.72) than in winter (mean 0.48), in
    [0.08, 1].
    """
    days = np.arange(1, 367, dtype=np.int64)
    mean = 0.72 - 0.24 * _season(days)
    concentration = 3.0
    draws = rng.beta(mean * concentration, (1.0 - mean) * concentration)
    return 0.08 + 0.92 * draws


def _plant_sizes(rng: np.random.Generator, producers: int) -> Array:
    """Peak power of each plant, log-spread over :data:`_PLANT_KWP` (one per stratum). [kWp]"""
    low, high = np.log(_PLANT_KWP[0]), np.log(_PLANT_KWP[1])
    strata = (np.arange(producers) + rng.uniform(size=producers)) / producers
    sizes: Array = np.round(np.exp(low + (high - low) * rng.permutation(strata)), 1)
    return sizes


def _production(calendar: _Calendar, producers: int, seed: np.random.SeedSequence) -> Array:
    """Energy injected by each plant at each step, shape (steps, producers). [kWh]"""
    weather_seed, sizes_seed, *plant_seeds = seed.spawn(2 + producers)
    steps = len(calendar.local_hour)
    width = max(1, round(1.0 / calendar.step_hours))  # clouds pass over about an hour
    weather = np.random.default_rng(weather_seed)
    clearness_by_day = _daily_clearness(weather)
    shared_noise = _smooth_noise(weather, steps, width)
    clearness = clearness_by_day[calendar.day_of_year - 1]
    spread = 0.6 * np.sqrt(clearness * (1.0 - clearness))  # partly cloudy days vary most
    sun_up = solar_elevation_sine(calendar.utc_day_of_year, calendar.utc_hour) > 0.0
    sizes = _plant_sizes(np.random.default_rng(sizes_seed), producers)
    result = np.empty((steps, producers))
    for j, plant_seed in enumerate(plant_seeds):
        rng = np.random.default_rng(plant_seed)
        orientation = rng.uniform(-0.75, 0.75)  # east (-) or west (+) facing [h]
        local_noise = _smooth_noise(rng, steps, width)
        noise = np.sqrt(0.8) * shared_noise + np.sqrt(0.2) * local_noise
        factor = np.clip(clearness + spread * noise, 0.05, 1.0)
        irradiance = clear_sky_irradiance(
            solar_elevation_sine(calendar.utc_day_of_year, calendar.utc_hour - orientation)
        )
        power = sizes[j] * _PERFORMANCE_RATIO * irradiance / 1000.0 * factor  # [kW]
        result[:, j] = np.where(sun_up, power * calendar.step_hours, 0.0)
    return result


# --------------------------------------------------------------------------------------
# Consumers (pure NumPy)


def _bump(hour: Array, centre: float | Array, width: float) -> Array:
    """A Gaussian bump on the 24-hour clock (wraps around midnight). [-]"""
    distance = (hour - centre + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (distance / width) ** 2)


def _home(calendar: _Calendar, rng: np.random.Generator) -> Array:
    """Relative load of a household: night base, morning and evening peaks, winter high."""
    hour = calendar.local_hour
    weekend = (calendar.weekday >= 5).astype(np.float64)
    morning = rng.normal(7.0, 0.5) + 1.5 * weekend
    evening = rng.normal(19.5, 0.6)
    base = rng.uniform(0.15, 0.35)
    heating = rng.uniform(0.1, 1.2)  # electric heating: up to 2.2x in mid-winter
    shape = (
        base
        + 0.9 * _bump(hour, morning, 1.0)
        + (0.15 + 0.45 * weekend) * _bump(hour, 13.0, 2.0)
        + 1.4 * _bump(hour, evening, 1.7)
    )
    season = 1.0 + heating * _season(calendar.day_of_year)
    return shape * season * _noise(calendar, rng, step_shape=4.0, day_shape=20.0)


def _tertiary(calendar: _Calendar, rng: np.random.Generator, school: bool) -> Array:
    """Relative load of an office or a school: open on weekday daytime, low otherwise."""
    hour = calendar.local_hour
    opens = rng.normal(8.0 if school else 7.5, 0.3)
    closes = rng.normal(17.5 if school else 18.5, 0.4)
    occupied = 1.0 / (1.0 + np.exp(-(hour - opens) / 0.4))
    occupied *= 1.0 / (1.0 + np.exp(-(closes - hour) / 0.4))
    open_day = calendar.weekday < 5
    if school:
        day = calendar.day_of_year
        holidays = ((day >= 186) & (day <= 243)) | (day >= 355) | (day <= 5)
        wednesday_afternoon = (calendar.weekday == 2) & (hour > 12.5)
        open_day = open_day & ~holidays & ~wednesday_afternoon
    base = rng.uniform(0.12, 0.25)
    heating = rng.uniform(0.2, 0.6)
    shape = base + occupied * open_day
    season = 1.0 + heating * _season(calendar.day_of_year)
    return shape * season * _noise(calendar, rng, step_shape=16.0, day_shape=40.0)


def _noise(
    calendar: _Calendar, rng: np.random.Generator, step_shape: float, day_shape: float
) -> Array:
    """Multiplicative noise of mean 1: Gamma per step times Gamma per day. [-]"""
    per_day = rng.gamma(day_shape, 1.0 / day_shape, size=367)
    per_step = rng.gamma(step_shape, 1.0 / step_shape, size=len(calendar.local_hour))
    result: Array = per_step * per_day[calendar.day_of_year]
    return result


def _consumer_kinds(consumers: int) -> list[str]:
    """Homes, with an office or a school (alternately) every :data:`_TERTIARY_EVERY`."""
    tertiary = round(consumers / _TERTIARY_EVERY)
    return ["home"] * (consumers - tertiary) + [
        "office" if k % 2 == 0 else "school" for k in range(tertiary)
    ]


def _consumption(calendar: _Calendar, kinds: list[str], seed: np.random.SeedSequence) -> Array:
    """Energy drawn by each consumer at each step, shape (steps, consumers). [kWh]"""
    result = np.empty((len(calendar.local_hour), len(kinds)))
    for i, (kind, member_seed) in enumerate(zip(kinds, seed.spawn(len(kinds)), strict=True)):
        rng = np.random.default_rng(member_seed)
        median, spread = _ANNUAL_KWH[kind]
        annual = median * np.exp(spread * rng.standard_normal())
        shape = (
            _home(calendar, rng)
            if kind == "home"
            else _tertiary(calendar, rng, school=kind == "school")
        )
        # Scale to the member's annual energy (pro rata of the period covered).
        hours = len(shape) * calendar.step_hours
        result[:, i] = shape * (annual * hours / 8766.0 / shape.sum())
    return result


# --------------------------------------------------------------------------------------
# Tables


def synthetic_community(
    consumers: int = 30,
    producers: int = 3,
    year: int = 2025,
    step: str | pd.Timedelta = "30min",
    tz: str = "Europe/Paris",
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded synthetic energy community over one calendar year.

    Parameters
    ----------
    consumers : int
        Number of consumers, >= 1. One in six is a small office or a school
        (alternately), the others are households.
    producers : int
        Number of PV plants, >= 1, sized from 3 to 100 kWp (log-spread, one per
        stratum so that small and large plants both appear).
    year : int
        Calendar year, local time.
    step : str or pandas.Timedelta
        Step length dividing one hour: ``"15min"``, ``"30min"`` (French DSO), ``"1h"``...
    tz : str
        Time zone of the index (the consumers live by its clock).
    seed : int
        Seed of the random draws, >= 0 (:class:`numpy.random.SeedSequence`). Each consumer and
        each plant draws from its own child stream, so ``home_01`` is the same curve in
        a community of 5 or 50 (the homes come first).

    Returns
    -------
    consumption : pandas.DataFrame
        CONS, shape (steps, consumers), columns ``home_01``, ..., ``office_01``,
        ``school_01``, ... [kWh per step]
    production : pandas.DataFrame
        PROD, shape (steps, producers), columns ``pv_1``, ... [kWh per step]

    Both on the same tz-aware index of step starts (:func:`time_index`), all values
    finite and >= 0.

    Raises
    ------
    ValueError
        For a count below 1, a negative seed, a year out of range or a bad step.

    Notes
    -----
    *Production*: ``kWp * 0.85 * GHI / 1000 * clearness * step_h``, with the clear-sky
    GHI of :func:`clear_sky_irradiance` at the step's middle, the sun from
    :func:`solar_elevation_sine` at 46 N 2 E (so day length and peak follow the season),
    a random clear-sky index per day (Beta, clearer in summer) with correlated
    within-day variation, and a random east/west orientation per plant (shifts the peak
    by up to 45 min). Exactly 0 while the sun is down. Horizontal irradiance, no tilt:
    about 1,000 kWh per kWp and year.

    *Consumption*: households have a night base, a morning and an evening peak (later
    mornings and a midday load at weekends) and are higher in winter (electric heating,
    random per home); offices and schools are open on weekday daytime (schools close on
    Wednesday afternoons and in the holidays). Each member has its own annual energy
    (log-normal around 4.5 MWh for a home, 25 and 35 MWh for an office and a school),
    peak hours and noise (Gamma per step and per day, mean 1).

    Examples
    --------
    >>> consumption, production = synthetic_community(consumers=4, producers=2, step="1h")
    >>> list(consumption.columns), list(production.columns)
    (['home_1', 'home_2', 'home_3', 'office_1'], ['pv_1', 'pv_2'])
    """
    for name, count in (("consumers", consumers), ("producers", producers)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise ValueError(f"{name} must be a whole number >= 1, not {count!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a whole number >= 0, not {seed!r}.")
    index = time_index(year, step, tz)
    calendar = _Calendar.of(index, check_step(step))
    consumption_seed, production_seed = np.random.SeedSequence(seed).spawn(2)
    kinds = _consumer_kinds(int(consumers))
    consumption = pd.DataFrame(
        _consumption(calendar, kinds, consumption_seed),
        index=index,
        columns=pd.Index(_names(kinds), name="consumer"),
    )
    production = pd.DataFrame(
        _production(calendar, int(producers), production_seed),
        index=index,
        columns=pd.Index(_names(["pv"] * int(producers)), name="producer"),
    )
    return consumption, production


def _names(kinds: list[str]) -> list[str]:
    """``home_01``, ``home_02``, ..., numbered per kind, zero-padded to the largest count."""
    counts = {kind: kinds.count(kind) for kind in kinds}
    seen: dict[str, int] = {}
    names = []
    for kind in kinds:
        seen[kind] = seen.get(kind, 0) + 1
        names.append(f"{kind}_{seen[kind]:0{len(str(counts[kind]))}d}")
    return names


# --------------------------------------------------------------------------------------
# Keys


def round_down(values: NDArray[np.floating], decimals: int = 4) -> Array:
    """Round shares down to ``decimals`` places, so that a row never sums above its total.

    Parameters
    ----------
    values : array_like
        Shares in [0, 1]. [-]
    decimals : int
        Decimal places kept (4: a hundredth of a percent, as in DSO key files).

    Returns
    -------
    ndarray
        ``floor(values * 10**decimals) / 10**decimals``. [-]
    """
    scale = 10.0**decimals
    result: Array = np.floor(np.asarray(values, dtype=np.float64) * scale) / scale
    return result


@dataclass(frozen=True, eq=False)
class DemoKeys:
    """Coefficients of the demo's keys, labelled like the community's tables.

    Attributes
    ----------
    static : pandas.Series
        Consumer -> share of the annual consumption, summing to 1. For
        :class:`repartition.keys.Static`. [-]
    dynamic : pandas.DataFrame
        Steps x consumers, rounded down to 4 decimals, rows summing to at most 1. For
        :class:`repartition.keys.Dynamic`. [-]
    full_dynamic : dict of pandas.DataFrame
        Producer -> steps x consumers, same rounding. For
        :class:`repartition.keys.FullDynamic`. [-]
    """

    static: pd.Series
    dynamic: pd.DataFrame
    full_dynamic: dict[Hashable, pd.DataFrame]


def demo_keys(
    consumption: pd.DataFrame,
    production: pd.DataFrame,
    decimals: int = 4,
    neighbour_share: float = 0.5,
) -> DemoKeys:
    """Keys a PMO could plausibly send for a community, built from its consumption.

    Parameters
    ----------
    consumption : pandas.DataFrame
        CONS, steps x consumers, on a regular tz-aware index (e.g. from
        :func:`synthetic_community`). [kWh per step]
    production : pandas.DataFrame
        PROD, steps x producers; only its columns are used. [kWh per step]
    decimals : int
        Decimal places kept by the dynamic tables, rounding down (4, as in the key files
        sent to the DSO: a hundredth of a percent).
    neighbour_share : float
        Full dynamic key: the part of each plant's production reserved for its
        neighbours, in [0, 1]. [-]

    Returns
    -------
    DemoKeys
        ``static``: ``k_i = sum_t C[t, i] / sum_t sum_i C[t, i]`` (sums to 1).

        ``dynamic``: a persistence forecast, each consumer's share of the community's
        consumption one day (24 h) earlier at the same step,
        ``k[t, i] = C[t - 1 day, i] / sum_i C[t - 1 day, i]``, rounded down, so rows
        sum to at most 1 (and to at least ``1 - consumers * 10**-decimals``). The first
        day, with no history, uses the static shares (rounded down); so does a step
        whose forecast is 0 for everyone.

        ``full_dynamic``: consumers are dealt round-robin to the plants as their
        neighbours; plant ``j`` offers ``neighbour_share`` of its production to its
        neighbours and the rest to everyone, both in proportion to the same forecast,
        rounded down. With one plant (or ``neighbour_share = 0``) it is the dynamic key.

    Raises
    ------
    ValueError
        If ``neighbour_share`` is outside [0, 1], ``decimals`` is negative, or
        ``consumption`` is empty or not indexed by time.
    """
    if not 0.0 <= neighbour_share <= 1.0:
        raise ValueError(f"neighbour_share must lie in [0, 1], not {neighbour_share!r}.")
    if decimals < 0:
        raise ValueError(f"decimals must be >= 0, not {decimals!r}.")
    index = consumption.index
    if not isinstance(index, pd.DatetimeIndex) or consumption.empty:
        raise ValueError("consumption must have a DatetimeIndex, at least one step and one member.")
    values = consumption.to_numpy(dtype=np.float64)
    steps, members = values.shape
    total = values.sum()
    static = values.sum(axis=0) / total if total > 0 else np.full(members, 1.0 / members)
    lag = int(index.searchsorted(index[0] + pd.Timedelta(days=1)))  # steps in 24 h
    forecast = np.empty_like(values)
    forecast[:lag] = static
    forecast[lag:] = values[: steps - lag]
    dynamic = _shares(forecast, np.ones(members, dtype=bool), static)
    tables: dict[Hashable, pd.DataFrame] = {}
    plants = list(production.columns)
    for j, plant in enumerate(plants):
        neighbours = np.arange(members) % len(plants) == j
        if neighbours.any():
            mix = (1.0 - neighbour_share) * dynamic + neighbour_share * _shares(
                forecast, neighbours, static
            )
        else:
            mix = dynamic
        tables[plant] = _frame(round_down(mix, decimals), consumption)
    return DemoKeys(
        static=pd.Series(static, index=consumption.columns, name="static"),
        dynamic=_frame(round_down(dynamic, decimals), consumption),
        full_dynamic=tables,
    )


def _shares(forecast: Array, among: NDArray[np.bool_], fallback: Array) -> Array:
    """Rows of ``forecast`` restricted to ``among``, normalised to sum to 1. [-]

    A row whose restricted forecast is 0 takes ``fallback`` (restricted, normalised).
    """
    weights = np.where(among, forecast, 0.0)
    sums = weights.sum(axis=1, keepdims=True)
    default = np.where(among, fallback, 0.0)
    default = default / default.sum() if default.sum() > 0 else among / among.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        result: Array = np.where(sums > 0, weights / sums, default)
    return result


def _frame(values: Array, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(values, index=like.index, columns=like.columns)
