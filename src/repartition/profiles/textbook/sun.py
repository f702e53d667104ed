"""Sun and weather (pure NumPy): the production of the synthetic community's PV plants.

The sun's elevation, the clear-sky irradiance, a clearness index per day with
correlated clouds, and plant sizes and orientations.

The geometry and the irradiance are textbook approximations (no pvlib needed): good
enough for the shape of a year (day length, seasonal peak, cloudy days), not for a
production estimate of a real plant.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.profiles.textbook.calendar import _Calendar, _season

Array = NDArray[np.float64]


LATITUDE = 46.0
"""Latitude of the synthetic community, centre of France. [degrees north]"""

LONGITUDE = 2.0
"""Longitude of the synthetic community, centre of France. [degrees east]"""

_PERFORMANCE_RATIO = 0.85
"""AC energy delivered per kWp under 1 kW/m^2 of irradiance (losses, temperature). [-]"""

_PLANT_KWP = (3.0, 100.0)
"""Range of plant sizes: rooftops to a school or warehouse roof. [kWp]"""


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
