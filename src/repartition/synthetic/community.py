"""The synthetic community: its consumption and production tables over a year."""

from __future__ import annotations

import numpy as np
import pandas as pd

from repartition import errors
from repartition.profiles.calendar import check_step, time_index
from repartition.synthetic.calendar import _Calendar
from repartition.synthetic.loads import _consumer_kinds, _consumption
from repartition.synthetic.sun import _production
from repartition.time import check_time_zone


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
    tz = check_time_zone(tz)
    for name, count in (("consumers", consumers), ("producers", producers)):
        if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < 1:
            raise errors.ParameterError(f"{name} must be a whole number >= 1, not {count!r}.")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise errors.ParameterError(f"seed must be a whole number >= 0, not {seed!r}.")
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
