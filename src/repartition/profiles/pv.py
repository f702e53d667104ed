"""PV production with pvlib, many plants at once (docs/profiles.md, "PV production").

The model is pvlib's PVWatts chain, the one :class:`pvlib.modelchain.ModelChain` runs with
``dc_model="pvwatts"``: the sun's position (NREL SPA), Hay-Davies transposition to the
plane of the array, the physical incidence-angle modifier, SAPM cell temperature, PVWatts
DC power with its temperature coefficient and system losses, and the PVWatts inverter.

Plants that share a location and its weather are computed in one pass: the sun's position,
the air mass and the extraterrestrial irradiance once per location; the plane-of-array
irradiance, cell temperature, DC and AC power of every distinct configuration (orientation,
losses, inverter ratio...) at once, as (instants, configurations) arrays; and each plant's
production is its configuration's production per kWp times its kWp. Every stage of the PVWatts chain
is proportional to the peak power at a fixed DC/AC ratio, so the scaling is exact (the
tests compare each plant with a ModelChain run of its own).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import _optional, errors
from repartition.kernels.threads import get_threads
from repartition.profiles.site import Location
from repartition.profiles.weather import (
    WEATHER_COLUMNS,
    clear_sky,
    nanoseconds,
    sample_times,
    stochastic_weather,
)
from repartition.time import check_time_index

__all__ = ["Plant", "modelchain_power", "production", "production_per_kwp"]

Array = NDArray[np.float64]

TemperatureModel = Literal[
    "open_rack_glass_glass",
    "close_mount_glass_glass",
    "open_rack_glass_polymer",
    "insulated_back_glass_polymer",
]


@dataclass(frozen=True)
class Plant:
    """A PV plant: where it is, how big, how it faces.

    Parameters
    ----------
    name : str
        Its column in the production table (a PRM id, or a name).
    location : Location
    kwp : float
        Peak DC power [kWp], > 0.
    tilt : float
        From horizontal [degrees], 0-90.
    azimuth : float
        Compass direction the modules face [degrees], 180 = south, 90 = east.
    losses : float
        System losses (soiling, wiring, mismatch, availability...) [%], PVWatts' 14.08 by
        default.
    dc_ac_ratio : float
        kWp over the inverter's AC rating; above 1 the inverter clips on bright hours.
    inverter_efficiency : float
        PVWatts' nominal inverter efficiency.
    gamma_pdc : float
        Temperature coefficient of the DC power [1/°C].
    temperature_model : str
        SAPM mounting (``"close_mount_glass_glass"`` for a roof-integrated array).
    albedo : float
        Ground reflectance.
    """

    name: str
    location: Location
    kwp: float
    tilt: float = 30.0
    azimuth: float = 180.0
    losses: float = 14.08
    dc_ac_ratio: float = 1.1
    inverter_efficiency: float = 0.96
    gamma_pdc: float = -0.004
    temperature_model: TemperatureModel = "open_rack_glass_polymer"
    albedo: float = 0.25

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise errors.ParameterTypeError(
                f"A plant's name is a non-empty str, not {self.name!r}."
            )
        if not isinstance(self.location, Location):
            raise errors.ParameterTypeError(
                f"Plant {self.name!r}: location must be a repartition.profiles.Location, not "
                f"{type(self.location).__name__}."
            )
        checks = {
            "kwp": (0.0, math.inf, False),
            "tilt": (0.0, 90.0, True),
            "azimuth": (0.0, 360.0, True),
            "losses": (0.0, 100.0, True),
            "dc_ac_ratio": (0.0, 10.0, False),
            "inverter_efficiency": (0.0, 1.0, False),
            "gamma_pdc": (-0.1, 0.0, True),
            "albedo": (0.0, 1.0, True),
        }
        for field, (low, high, closed) in checks.items():
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise errors.ParameterTypeError(
                    f"Plant {self.name!r}: {field} must be a number, not {value!r}."
                )
            value = float(value)
            inside = (low <= value if closed else low < value) and value <= high
            if not inside or math.isnan(value):
                raise errors.ParameterError(
                    f"Plant {self.name!r}: {field} = {value!r} is outside "
                    f"{'[' if closed else '('}{low:g}, {high:g}]."
                )
            object.__setattr__(self, field, value)
        parameters = _temperature_parameters()
        if self.temperature_model not in parameters:
            raise errors.ParameterError(
                f"Plant {self.name!r}: temperature_model must be one of {sorted(parameters)}, "
                f"not {self.temperature_model!r}."
            )

    @property
    def configuration(self) -> tuple[float | str, ...]:
        """What the production per kWp depends on, besides the location and weather."""
        return (
            self.tilt,
            self.azimuth,
            self.losses,
            self.dc_ac_ratio,
            self.inverter_efficiency,
            self.gamma_pdc,
            self.temperature_model,
            self.albedo,
        )


def _temperature_parameters() -> dict[str, dict[str, float]]:
    temperature = _optional.import_extra(
        "pvlib.temperature", "profiles", feature="repartition.profiles"
    )
    return dict(temperature.TEMPERATURE_MODEL_PARAMETERS["sapm"])


Weather = Literal["clear_sky", "stochastic"] | pd.DataFrame | Mapping[str, pd.DataFrame]


def production(
    plants: Sequence[Plant],
    index: pd.DatetimeIndex,
    weather: Weather = "stochastic",
    seed: int = 0,
) -> pd.DataFrame:
    """Each plant's AC production on ``index`` [kWh per step].

    Parameters
    ----------
    plants : sequence of Plant
        Distinct names.
    index : pandas.DatetimeIndex
        Step starts, tz-aware and regular (15, 30 or 60 min...), as ``allocate`` takes them.
    weather : "stochastic", "clear_sky", DataFrame or mapping
        ``"stochastic"``: :func:`~repartition.profiles.stochastic_weather` with ``seed``
        (the same clouds for every plant of a location); ``"clear_sky"``; a weather table
        (:func:`~repartition.profiles.read_weather`) for every location, or a mapping from
        location name to weather table. Tables are interpolated in time to the model's
        instants (the middle of each 15-minute part of a step) and must cover them.
    seed : int
        Of the stochastic weather.

    Returns
    -------
    pandas.DataFrame
        PROD, shape (steps, plants), columns the plants' names, on ``index``: finite,
        >= 0, 0 while the sun is down, and at most the inverter's AC rating times the step,
        ``inverter_efficiency * kwp / dc_ac_ratio * step_h``.
        [kWh per step]

    Raises
    ------
    repartition.errors.ParameterError
        For duplicate names, a bad index, or a weather table that does not cover it.
    """
    plants = list(plants)
    if not plants:
        raise errors.ParameterError("production needs at least one Plant.")
    for plant in plants:
        if not isinstance(plant, Plant):
            raise errors.ParameterTypeError(
                f"production takes repartition.profiles.Plant objects, not {type(plant).__name__}."
            )
    names = [plant.name for plant in plants]
    if len(set(names)) != len(names):
        duplicate = next(n for n in names if names.count(n) > 1)
        raise errors.ParameterError(f"Two plants are named {duplicate!r}: names are columns.")
    step = _step(index)
    result = np.zeros((len(index), len(plants)))
    by_location: dict[Location, list[int]] = {}
    for column, plant in enumerate(plants):
        by_location.setdefault(plant.location, []).append(column)
    for location, columns in by_location.items():
        times = sample_times(index, step)
        table = _weather_for(location, times, weather, seed)
        configurations = sorted({plants[c].configuration for c in columns}, key=str)
        per_kwp = production_per_kwp(location, table, configurations)  # [W per kWp]
        parts = len(times) // len(index)
        energy = per_kwp.reshape(len(index), parts, -1).mean(axis=1) * (
            step / pd.Timedelta(hours=1) / 1000.0
        )
        for column in columns:
            plant = plants[column]
            result[:, column] = energy[:, configurations.index(plant.configuration)] * plant.kwp
    return pd.DataFrame(result, index=index, columns=pd.Index(names, name="producer"))


def _step(index: pd.DatetimeIndex) -> pd.Timedelta:
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise errors.ParameterError(
            "production needs a tz-aware pandas.DatetimeIndex of step starts "
            "(repartition.profiles.time_index(2025, '30min'))."
        )
    step = check_time_index(index, "the production index")
    if step is None:
        raise errors.ParameterError("production needs at least two steps, evenly spaced.")
    return step


def _weather_for(
    location: Location, times: pd.DatetimeIndex, weather: Weather, seed: int
) -> pd.DataFrame:
    if isinstance(weather, str):
        if weather == "stochastic":
            return stochastic_weather(location, times, seed)
        if weather == "clear_sky":
            return clear_sky(location, times)
        raise errors.ParameterError(
            f"weather must be 'stochastic', 'clear_sky' or a weather table, not {weather!r}."
        )
    if isinstance(weather, Mapping):
        if location.name not in weather:
            raise errors.ParameterError(
                f"No weather table for location {location.name!r} (given: {sorted(weather)})."
            )
        weather = weather[location.name]
    if not isinstance(weather, pd.DataFrame):
        raise errors.ParameterTypeError(
            f"weather must be a str or a pandas.DataFrame, not {type(weather).__name__}."
        )
    return _interpolated(weather, times, location)


def _interpolated(table: pd.DataFrame, times: pd.DatetimeIndex, location: Location) -> pd.DataFrame:
    missing = [c for c in ("ghi", "dni", "dhi") if c not in table.columns]
    if missing:
        raise errors.ParameterError(f"The weather table has no {', '.join(missing)} column.")
    index = table.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise errors.ParameterError("The weather table needs a tz-aware DatetimeIndex.")
    source = nanoseconds(index).astype(np.float64)
    target = nanoseconds(times).astype(np.float64)
    if len(source) == 0 or target[0] < source[0] or target[-1] > source[-1]:
        first_uncovered = (
            times[(target < source[0]) | (target > source[-1])][0] if len(source) else times[0]
        )
        raise errors.ParameterError(
            f"The weather table ({index[0] if len(index) else 'empty'} to "
            f"{index[-1] if len(index) else ''}) does not cover "
            f"{first_uncovered.tz_convert(location.tz)} for {location.name!r}: give weather "
            "for the whole period (read_weather(..., year=) puts a typical year in the index's "
            "year)."
        )
    order = np.argsort(source, kind="stable")
    columns = {}
    for column in WEATHER_COLUMNS:
        if column in table.columns:
            values = table[column].to_numpy(dtype=np.float64)[order]
            bad = ~np.isfinite(values)
            if bad.any():
                raise errors.ParameterError(
                    f"The weather table's {column} is not finite at {index[order][bad][0]}."
                )
            columns[column] = np.interp(target, source[order], values)
        else:
            columns[column] = np.full(len(times), {"temp_air": 20.0, "wind_speed": 1.0}[column])
    return pd.DataFrame(columns, index=times)


def production_per_kwp(
    location: Location,
    weather: pd.DataFrame,
    configurations: Sequence[tuple[float | str, ...]],
) -> Array:
    """AC power per kWp of each configuration at the weather's instants, (instants,
    configurations) [W per kWp]: the vectorised PVWatts chain.

    Only the instants with light (some irradiance in the weather) are computed: with none,
    every stage of the chain gives 0. The configurations are split among
    ``repartition.threads`` threads (NumPy releases the GIL in its loops).
    """
    pvlib: Any = _optional.import_extra("pvlib", "profiles", feature="repartition.profiles")
    lit = (
        (weather["ghi"].to_numpy() > 0)
        | (weather["dni"].to_numpy() > 0)
        | (weather["dhi"].to_numpy() > 0)
    )
    result = np.zeros((len(weather), len(configurations)))
    if not lit.any():
        return result
    day = weather[lit]
    times = pd.DatetimeIndex(day.index)
    site = pvlib.location.Location(
        location.latitude, location.longitude, tz=location.tz, altitude=location.altitude
    )
    position = site.get_solarposition(times, method="nrel_numpy", temperature=day["temp_air"])
    airmass = site.get_airmass(solar_position=position, model="kastenyoung1989")
    column = np.newaxis
    sky = _Sky(
        zenith=position["apparent_zenith"].to_numpy()[:, column],
        azimuth=position["azimuth"].to_numpy()[:, column],
        dni_extra=pvlib.irradiance.get_extra_radiation(times).to_numpy()[:, column],
        airmass=airmass["airmass_relative"].to_numpy()[:, column],
        ghi=day["ghi"].to_numpy()[:, column],
        dni=day["dni"].to_numpy()[:, column],
        dhi=day["dhi"].to_numpy()[:, column],
        temp_air=day["temp_air"].to_numpy()[:, column],
        wind_speed=day["wind_speed"].to_numpy()[:, column],
    )
    chunks = np.array_split(
        np.arange(len(configurations)), max(1, min(get_threads(), len(configurations)))
    )
    chunks = [chunk for chunk in chunks if len(chunk)]

    def one(chunk: NDArray[np.int64]) -> Array:
        return _chain(pvlib, sky, [configurations[k] for k in chunk])

    if len(chunks) == 1:
        parts = [one(chunks[0])]
    else:
        with ThreadPoolExecutor(len(chunks)) as pool:
            parts = list(pool.map(one, chunks))
    rows = np.flatnonzero(lit)
    for chunk, part in zip(chunks, parts, strict=True):
        result[np.ix_(rows, chunk)] = part
    return result


@dataclass(frozen=True)
class _Sky:
    """The sun and the weather at the lit instants, as (instants, 1) columns."""

    zenith: Array  # apparent [degrees]
    azimuth: Array  # [degrees]
    dni_extra: Array  # [W/m²]
    airmass: Array  # relative [-]
    ghi: Array  # [W/m²]
    dni: Array
    dhi: Array
    temp_air: Array  # [°C]
    wind_speed: Array  # [m/s]


def _chain(pvlib: Any, sky: _Sky, configurations: Sequence[tuple[float | str, ...]]) -> Array:
    """The PVWatts chain of ``configurations`` at once, as (instants, configurations)
    arrays (pvlib's functions are NumPy expressions that broadcast). [W per kWp]"""
    (tilt, surface_azimuth, losses, ratio, efficiency, gamma, mounting, albedo) = (
        list(values) for values in zip(*configurations, strict=True)
    )

    def row(values: list[Any]) -> Array:
        return np.asarray(values, dtype=np.float64)[np.newaxis, :]

    tilt_row, azimuth_row = row(tilt), row(surface_azimuth)
    irradiance = pvlib.irradiance.get_total_irradiance(
        tilt_row,
        azimuth_row,
        sky.zenith,
        sky.azimuth,
        sky.dni,
        sky.ghi,
        sky.dhi,
        dni_extra=sky.dni_extra,
        airmass=sky.airmass,
        albedo=row(albedo),
        model="haydavies",
    )
    incidence = pvlib.irradiance.aoi(tilt_row, azimuth_row, sky.zenith, sky.azimuth)
    effective = irradiance["poa_direct"] * pvlib.iam.physical(incidence) + irradiance["poa_diffuse"]
    parameters = _temperature_parameters()
    cell = pvlib.temperature.sapm_cell(
        irradiance["poa_global"],
        sky.temp_air,
        sky.wind_speed,
        row([parameters[str(m)]["a"] for m in mounting]),
        row([parameters[str(m)]["b"] for m in mounting]),
        row([parameters[str(m)]["deltaT"] for m in mounting]),
    )
    dc = pvlib.pvsystem.pvwatts_dc(effective, cell, 1000.0, row(gamma))
    dc = dc * ((100.0 - row(losses)) / 100.0)
    ac = pvlib.inverter.pvwatts(dc, 1000.0 / row(ratio), eta_inv_nom=row(efficiency))
    result = np.nan_to_num(np.asarray(ac, dtype=np.float64), nan=0.0)
    # PVWatts' inverter draws a small tare at night (negative AC): no production then.
    np.maximum(result, 0.0, out=result)
    return result


def modelchain_power(plant: Plant, weather: pd.DataFrame) -> pd.Series:
    """One plant's AC power by pvlib's own :class:`~pvlib.modelchain.ModelChain`, with the
    same models as :func:`production`: the reference the tests and the benchmark compare
    the vectorised pass with. [W]"""
    pvlib: Any = _optional.import_extra("pvlib", "profiles", feature="repartition.profiles")
    location = plant.location
    site = pvlib.location.Location(
        location.latitude, location.longitude, tz=location.tz, altitude=location.altitude
    )
    system = pvlib.pvsystem.PVSystem(
        surface_tilt=plant.tilt,
        surface_azimuth=plant.azimuth,
        albedo=plant.albedo,
        module_parameters={"pdc0": 1000.0 * plant.kwp, "gamma_pdc": plant.gamma_pdc},
        inverter_parameters={
            "pdc0": 1000.0 * plant.kwp / plant.dc_ac_ratio,
            "eta_inv_nom": plant.inverter_efficiency,
        },
        temperature_model_parameters=_temperature_parameters()[plant.temperature_model],
    )
    chain = pvlib.modelchain.ModelChain(
        system,
        site,
        aoi_model="physical",
        spectral_model="no_loss",
        temperature_model="sapm",
        dc_model="pvwatts",
        ac_model="pvwatts",
        losses_model="no_loss",
        transposition_model="haydavies",
        solar_position_method="nrel_numpy",
        airmass_model="kastenyoung1989",
    )
    chain.run_model(weather)
    dc_factor = (100.0 - plant.losses) / 100.0
    # ModelChain's "pvwatts" losses model takes PVWatts' default loss table; a plant's own
    # total is applied the same way, to the DC power, before the inverter.
    chain.results.dc = chain.results.dc * dc_factor
    chain.ac_model()
    power: pd.Series = chain.results.ac.clip(lower=0.0)
    return power
