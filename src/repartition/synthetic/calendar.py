"""Time axis of the synthetic community.

Checked years and steps, the index of a year, and the calendar arrays (hour of the day,
day of the year, weekday, season) the curves are drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors

Array = NDArray[np.float64]


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
        raise errors.ParameterError(
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
        raise errors.ParameterError(
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
        raise errors.ParameterError(f"year must be a whole number from 1678 to 2261, not {year!r}.")
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


def _season(day_of_year: NDArray[np.int64]) -> Array:
    """1 in mid-January, 0 in mid-July: how deep in winter a day is. [-]"""
    result: Array = 0.5 + 0.5 * np.cos(2.0 * np.pi * (day_of_year - 15.0) / 365.25)
    return result
