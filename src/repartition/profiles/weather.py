"""Weather for the PV model: the clear sky, a seeded stochastic year, or a user's file.

A weather table is a :class:`pandas.DataFrame` on a tz-aware index of instants with the
columns pvlib's ModelChain reads: ``ghi``, ``dni``, ``dhi`` [W/m²], ``temp_air`` [°C] and
``wind_speed`` [m/s]. Nothing is downloaded: the clear sky uses pvlib's bundled Linke
turbidity climatology, the stochastic model is drawn here, and files are read with
:mod:`pvlib.iotools` (docs/profiles.md, "Weather").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import _optional, errors
from repartition.profiles.site import Location

__all__ = [
    "CENTRAL_FRANCE",
    "WEATHER_COLUMNS",
    "Climate",
    "clear_sky",
    "read_weather",
    "sample_times",
    "stochastic_weather",
]

Array = NDArray[np.float64]

WEATHER_COLUMNS = ("ghi", "dni", "dhi", "temp_air", "wind_speed")
"""The columns of a weather table, in pvlib's names."""

SAMPLE = pd.Timedelta(minutes=15)
"""The longest interval one sample of the PV model stands for."""


def _pvlib(module: str = "pvlib") -> object:
    return _optional.import_extra(module, "profiles", feature="repartition.profiles")


def sample_times(index: pd.DatetimeIndex, step: pd.Timedelta) -> pd.DatetimeIndex:
    """The instants the PV model is computed at: the middle of each 15-minute part of each
    step (one per step at 15 min, two at 30 min, four at 1 h), so that a step's energy is
    the mean of its samples' power times its length."""
    parts = max(1, int(np.ceil(step / SAMPLE)))
    offsets = [(k + 0.5) * step / parts for k in range(parts)]
    starts = nanoseconds(index)
    stacked = np.stack([starts + offset.value for offset in offsets], axis=1).ravel()
    return pd.DatetimeIndex(pd.to_datetime(stacked, utc=True, unit="ns")).tz_convert(index.tz)


def nanoseconds(index: pd.DatetimeIndex) -> NDArray[np.int64]:
    """The instants as nanoseconds since the epoch, whatever the index's unit."""
    return np.asarray(index.as_unit("ns").asi8, dtype=np.int64)


def clear_sky(location: Location, times: pd.DatetimeIndex) -> pd.DataFrame:
    """The clear sky at ``location``: Ineichen-Perez with pvlib's monthly Linke turbidity
    climatology (bundled with pvlib), 20 °C and 1 m/s.

    Parameters
    ----------
    location : Location
    times : pandas.DatetimeIndex
        Tz-aware instants.

    Returns
    -------
    pandas.DataFrame
        A weather table (:data:`WEATHER_COLUMNS`) on ``times``. [W/m², °C, m/s]
    """
    return _clear(location, times)[0]


def _clear(location: Location, times: pd.DatetimeIndex) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The clear sky and the sun's position it was computed with."""
    site: Any = _site(location)
    position = site.get_solarposition(times, method="nrel_numpy", temperature=20.0)
    sky = site.get_clearsky(times, model="ineichen", solar_position=position)
    table = pd.DataFrame(
        {
            "ghi": sky["ghi"],
            "dni": sky["dni"],
            "dhi": sky["dhi"],
            "temp_air": 20.0,
            "wind_speed": 1.0,
        },
        index=times,
    )
    return table, position


@dataclass(frozen=True)
class Climate:
    """The parameters of the stochastic weather (docs/profiles.md, "The stochastic year").

    Parameters
    ----------
    clear_sky_index : 12 floats
        Mean daily clear-sky index of each month, ``GHI / GHI_clear`` (0-1).
    temperature : 12 floats
        Mean air temperature of each month [°C].
    daily_range : float
        Half the day's temperature range on a clear day [°C]; overcast days have a third.
    wind_speed : float
        [m/s], constant.
    concentration : float
        ``a + b`` of the daily index's Beta distribution (larger: days closer to the mean).
    persistence : float
        Day-to-day correlation of the daily index (the AR(1) coefficient of its Gaussian
        copula), 0-1.
    variability : float
        Standard deviation of the log of the within-day fluctuation on the most mixed
        days (daily index 0.5); clear and overcast days fluctuate less.
    time_constant : float
        Memory of the within-day fluctuation [h].
    """

    clear_sky_index: tuple[float, ...] = field(
        default=(0.625, 0.705, 0.765, 0.785, 0.815, 0.865, 0.915, 0.895, 0.845, 0.735, 0.645, 0.605)
    )
    temperature: tuple[float, ...] = field(
        default=(4.0, 4.9, 8.1, 10.9, 14.6, 18.3, 20.6, 20.3, 16.5, 12.6, 7.6, 4.7)
    )
    daily_range: float = 5.5
    wind_speed: float = 2.0
    concentration: float = 4.0
    persistence: float = 0.5
    variability: float = 0.6
    time_constant: float = 1.0

    def __post_init__(self) -> None:
        for name in ("clear_sky_index", "temperature"):
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != 12 or not all(np.isfinite(values)):
                raise errors.ParameterError(f"Climate {name} needs 12 finite monthly values.")
            object.__setattr__(self, name, values)
        if not all(0.05 <= v <= 0.95 for v in self.clear_sky_index):
            raise errors.ParameterError(
                "Climate clear_sky_index values are monthly means between 0.05 and 0.95."
            )
        if not 0.0 <= self.persistence < 1.0:
            raise errors.ParameterError("Climate persistence must be in [0, 1).")
        for name in ("concentration", "time_constant"):
            if not getattr(self, name) > 0:
                raise errors.ParameterError(f"Climate {name} must be > 0.")
        for name in ("daily_range", "wind_speed", "variability"):
            if not getattr(self, name) >= 0:
                raise errors.ParameterError(f"Climate {name} must be >= 0.")


CENTRAL_FRANCE = Climate()
"""Central France (Clermont-Ferrand): the monthly temperatures are rounded 1991-2020
normals of Clermont-Ferrand-Aulnat (Météo-France); the clear-sky indices are set so that a
south-facing 30° roof yields about 1,280 kWh/kWp a year, within PVGIS's 1,200-1,350 for
the city (docs/profiles.md)."""


def stochastic_weather(
    location: Location,
    times: pd.DatetimeIndex,
    seed: int = 0,
    climate: Climate = CENTRAL_FRANCE,
) -> pd.DataFrame:
    """A seeded weather year: clear sky times a random clear-sky index, split into direct
    and diffuse by Erbs' model.

    The index of each local day is drawn from a Beta distribution whose mean is the
    month's (``climate.clear_sky_index``), correlated from day to day by a Gaussian AR(1)
    copula (daily clearness is a first-order Markov process: Aguiar, Collares-Pereira and
    Conde, Solar Energy 40, 1988); within the day, a mean-one log-normal AR(1) fluctuation
    whose amplitude is largest on mixed days (Aguiar and Collares-Pereira's TAG model,
    Solar Energy 49, 1992, in spirit). Air temperature follows the month's mean with a
    daily cycle peaking at 15:00, wider on clear days.

    Parameters
    ----------
    location : Location
    times : pandas.DatetimeIndex
        Tz-aware instants, increasing.
    seed : int
        The same seed gives the same weather, bit for bit; plants of one operation share
        it (the same clouds over a village).
    climate : Climate

    Returns
    -------
    pandas.DataFrame
        A weather table (:data:`WEATHER_COLUMNS`) on ``times``. [W/m², °C, m/s]
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise errors.ParameterError(f"seed must be a whole number >= 0, not {seed!r}.")
    pvlib: Any = _pvlib()
    stats: Any = _optional.import_extra("scipy.stats", "profiles", feature="repartition.profiles")
    sky, position = _clear(location, times)
    local = times.tz_convert(location.tz)
    day_labels = local.normalize()
    days, day_of = np.unique(nanoseconds(day_labels), return_inverse=True)
    day_months = pd.DatetimeIndex(pd.to_datetime(days, unit="ns")).month.to_numpy() - 1
    day_stream, time_stream = np.random.SeedSequence(int(seed)).spawn(2)
    day_rng = np.random.default_rng(day_stream)
    shocks = day_rng.standard_normal(len(days))
    latent = np.empty(len(days))
    rho = climate.persistence
    latent[0] = shocks[0]
    for d in range(1, len(days)):
        latent[d] = rho * latent[d - 1] + np.sqrt(1.0 - rho * rho) * shocks[d]
    mean = np.asarray(climate.clear_sky_index)[day_months]
    daily = stats.beta.ppf(
        stats.norm.cdf(latent), mean * climate.concentration, (1 - mean) * climate.concentration
    )
    daily = np.asarray(daily, dtype=np.float64)[day_of]
    # Within the day: a log-normal AR(1) of mean one, widest on mixed days.
    time_rng = np.random.default_rng(time_stream)
    instants = nanoseconds(times)
    gaps = np.diff(instants, prepend=instants[:1]) / 3.6e12
    phi = np.exp(-gaps / climate.time_constant)
    noise = time_rng.standard_normal(len(times))
    fluctuation = np.empty(len(times))
    if len(times):
        fluctuation[0] = noise[0]
    for t in range(1, len(times)):
        fluctuation[t] = phi[t] * fluctuation[t - 1] + np.sqrt(1 - phi[t] ** 2) * noise[t]
    spread = climate.variability * 4.0 * daily * (1.0 - daily)
    index = daily * np.exp(spread * fluctuation - 0.5 * spread**2)
    np.clip(index, 0.02, 1.15, out=index)
    ghi = sky["ghi"].to_numpy() * index
    zenith = position["zenith"].to_numpy()
    split = pvlib.irradiance.erbs(ghi, zenith, times.day_of_year.to_numpy())
    months = local.month.to_numpy() - 1
    hours = local.hour.to_numpy() + local.minute.to_numpy() / 60.0
    temperature = np.asarray(climate.temperature)[months] + climate.daily_range * (
        0.33 + 0.67 * daily
    ) * np.cos(2 * np.pi * (hours - 15.0) / 24.0)
    return pd.DataFrame(
        {
            "ghi": ghi,
            "dni": np.asarray(split["dni"], dtype=np.float64),
            "dhi": np.asarray(split["dhi"], dtype=np.float64),
            "temp_air": temperature,
            "wind_speed": climate.wind_speed,
        },
        index=times,
    )


def read_weather(
    path: str | Path,
    format: Literal["pvgis", "tmy3", "epw"],
    year: int | None = None,
) -> pd.DataFrame:
    """A weather file read by :mod:`pvlib.iotools`, as a weather table.

    Parameters
    ----------
    path : str or pathlib.Path
        A PVGIS typical meteorological year (CSV, JSON or EPW as PVGIS writes them, the
        "TMY" tab of https://re.jrc.ec.europa.eu/pvg_tools/ for the plant's coordinates),
        a TMY3 file, or an EnergyPlus EPW file.
    format : {"pvgis", "tmy3", "epw"}
    year : int, optional
        Put every record in this calendar year (a typical year mixes months of different
        years): the year of the index the production is computed on.

    Returns
    -------
    pandas.DataFrame
        A weather table (:data:`WEATHER_COLUMNS`), tz-aware (the file's own offset, or
        UTC).

    Raises
    ------
    repartition.errors.FileFormatError
        When pvlib cannot read the file or a column is missing, naming the file.
    """
    iotools = _optional.import_extra("pvlib.iotools", "profiles", feature="read_weather")
    path = Path(path)
    readers = {
        "pvgis": lambda: iotools.read_pvgis_tmy(path, map_variables=True),
        "tmy3": lambda: iotools.read_tmy3(path, coerce_year=year, map_variables=True),
        "epw": lambda: iotools.read_epw(path, coerce_year=year),
    }
    if format not in readers:
        raise errors.ParameterError(
            f"read_weather format must be 'pvgis', 'tmy3' or 'epw', not {format!r}."
        )
    try:
        data = readers[format]()[0]
    except FileNotFoundError:
        raise
    except Exception as error:  # pvlib's parsers raise what their formats meet
        raise errors.FileFormatError(
            f"{path}: not a readable {format} weather file ({type(error).__name__}: {error})."
        ) from error
    missing = [c for c in ("ghi", "dni", "dhi") if c not in data.columns]
    if missing:
        raise errors.FileFormatError(
            f"{path}: no {', '.join(missing)} column in the {format} file."
        )
    table = pd.DataFrame(index=data.index)
    for column in WEATHER_COLUMNS:
        default = {"temp_air": 20.0, "wind_speed": 1.0}.get(column)
        table[column] = data[column].astype(float) if column in data.columns else default
    index = pd.DatetimeIndex(table.index)
    if index.tz is None:
        index = index.tz_localize("UTC")
    if year is not None and format == "pvgis":
        utc = index.tz_convert("UTC")
        index = pd.DatetimeIndex(
            [stamp.replace(year=int(year)) for stamp in utc], tz="UTC"
        ).tz_convert(index.tz)
    table.index = index
    return table.sort_index()


def _site(location: Location) -> object:
    pvlib = _pvlib()
    return pvlib.location.Location(  # type: ignore[attr-defined]
        location.latitude,
        location.longitude,
        tz=location.tz,
        altitude=location.altitude,
        name=location.name,
    )
