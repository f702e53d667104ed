"""The synthetic community: its consumption and production tables over a year, a thin layer
over :mod:`repartition.profiles` (its textbook model by default, its real profiles with
``model="profiles"``)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from repartition import errors
from repartition.profiles.textbook import consumer_kinds, names, textbook_community

__all__ = ["synthetic_community"]


def synthetic_community(
    consumers: int = 30,
    producers: int = 3,
    year: int = 2025,
    step: str | pd.Timedelta = "30min",
    tz: str = "Europe/Paris",
    seed: int = 0,
    model: Literal["textbook", "profiles"] = "textbook",
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
    model : {"textbook", "profiles"}
        ``"textbook"`` (the default, no extra needed, bit for bit as before): the
        plain-NumPy curves of :mod:`repartition.profiles.textbook`. ``"profiles"``: the same
        members built from real profiles (:mod:`repartition.profiles`: pvlib plants sized to
        the community, 1 kWp per consumer in all, the BDEW load profiles, schools on the
        French calendar; extra ``profiles``), with the same column names.
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
    if model == "textbook":
        return textbook_community(consumers, producers, year, step, tz, seed)
    if model != "profiles":
        raise errors.ParameterError(f"model must be 'textbook' or 'profiles', not {model!r}.")
    return _from_profiles(consumers, producers, year, step, tz, seed)


def _from_profiles(
    consumers: int, producers: int, year: int, step: str | pd.Timedelta, tz: str, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same members as the textbook community, from real profiles."""
    from repartition.profiles import Location, generate

    for name, count in (("consumers", consumers), ("producers", producers)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise errors.ParameterError(f"{name} must be a whole number >= 1, not {count!r}.")
    kinds = consumer_kinds(int(consumers))
    buildings = [
        (
            "office" if kind == "office" else "school",
            kind,
            25_000.0 if kind == "office" else 35_000.0,
        )
        for kind in kinds
        if kind != "home"
    ]
    homes = kinds.count("home")
    location = Location(46.0, 2.0, 200.0, tz, "centre of France")
    community = generate(
        homes,
        buildings=buildings,  # type: ignore[arg-type]
        total_kwp=float(consumers),
        plants=int(producers),
        location=location,
        seed=seed,
        name="synthetic",
    )
    consumption, production = community.tables(year, step, seed=seed)
    # The generated order is the homes, then the buildings: back to the textbook order.
    home_columns = [m.prm for m in community.members if m.consumer.kind == "household"]
    building_columns = [m.prm for m in community.members if m.consumer.kind != "household"]
    order, homes_left, buildings_left = [], iter(home_columns), iter(building_columns)
    for kind in kinds:
        order.append(next(homes_left) if kind == "home" else next(buildings_left))
    consumption = consumption[order]
    consumption.columns = pd.Index(names(kinds), name="consumer")
    production.columns = pd.Index(names(["pv"] * int(producers)), name="producer")
    return consumption, production
