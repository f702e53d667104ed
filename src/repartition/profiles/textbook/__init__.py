"""The textbook model: the sun, the weather and the loads in plain NumPy, no extra needed.

Textbook approximations (the sun's elevation, a clear-sky irradiance, a clearness index per
day with correlated clouds; households, offices and schools with daily patterns): good
enough for the shape of a year, not for a production estimate of a real plant
(:func:`repartition.profiles.production` is that). :func:`textbook_community` is what
:func:`repartition.synthetic.synthetic_community` returns by default; it stays bit for bit
the same, so the benchmarks and digests built on it keep their meaning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from repartition import errors
from repartition.profiles.calendar import check_step, time_index
from repartition.profiles.textbook.calendar import _Calendar
from repartition.profiles.textbook.loads import _consumer_kinds, _consumption
from repartition.profiles.textbook.sun import (
    LATITUDE,
    LONGITUDE,
    _production,
    clear_sky_irradiance,
    solar_elevation_sine,
)
from repartition.time import check_time_zone

__all__ = [
    "LATITUDE",
    "LONGITUDE",
    "clear_sky_irradiance",
    "consumer_kinds",
    "names",
    "solar_elevation_sine",
    "textbook_community",
]


def textbook_community(
    consumers: int,
    producers: int,
    year: int,
    step: str | pd.Timedelta,
    tz: str,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The textbook community (see :func:`repartition.synthetic.synthetic_community`)."""
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
        columns=pd.Index(names(kinds), name="consumer"),
    )
    production = pd.DataFrame(
        _production(calendar, int(producers), production_seed),
        index=index,
        columns=pd.Index(names(["pv"] * int(producers)), name="producer"),
    )
    return consumption, production


def consumer_kinds(consumers: int) -> list[str]:
    """The kind of each consumer: one in six an office or a school (alternately)."""
    return _consumer_kinds(consumers)


def names(kinds: list[str]) -> list[str]:
    """``home_01``, ``home_02``, ..., numbered per kind, zero-padded to the largest count."""
    counts = {kind: kinds.count(kind) for kind in kinds}
    seen: dict[str, int] = {}
    names = []
    for kind in kinds:
        seen[kind] = seen.get(kind, 0) + 1
        names.append(f"{kind}_{seen[kind]:0{len(str(counts[kind]))}d}")
    return names
