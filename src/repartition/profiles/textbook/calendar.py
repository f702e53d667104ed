"""Time axis of the synthetic community.

The calendar arrays (hour of the day, day of the year, weekday, season) the curves are
drawn from; the index of a year comes from :mod:`repartition.profiles.calendar`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Array = NDArray[np.float64]


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


def _season(day_of_year: NDArray[np.int64]) -> Array:
    """1 in mid-January, 0 in mid-July: how deep in winter a day is. [-]"""
    result: Array = 0.5 + 0.5 * np.cos(2.0 * np.pi * (day_of_year - 15.0) / 365.25)
    return result
