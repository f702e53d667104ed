"""The time axis of profiles: the index of a year, and the French calendar.

A year's index of step starts in local time (:func:`time_index`), and for each local day
whether it is a public holiday (the ``holidays`` package, France) or in the school
holidays of a zone (A, B or C: the ``vacances-scolaires-france`` package, from the
ministry's published calendar), so that schools close and homes fill when they do.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from repartition import _optional, errors

__all__ = [
    "Zone",
    "check_step",
    "check_year",
    "day_types",
    "public_holidays",
    "school_holidays",
    "time_index",
]

Zone = Literal["A", "B", "C"]
"""A French school-holiday zone; Clermont-Ferrand is in zone A."""


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


def _local_days(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """The local calendar day of each step's start, as naive midnights."""
    return (
        index.tz_localize(None).normalize()
        if index.tz is None
        else index.normalize().tz_localize(None)
    )


def public_holidays(index: pd.DatetimeIndex) -> np.ndarray:
    """Whether each step falls on a French public holiday (métropole), by its local day.

    Returns
    -------
    numpy.ndarray of bool, one per step.
    """
    holidays = _optional.import_extra("holidays", "profiles", feature="public_holidays")
    days = _local_days(index)
    years = sorted(set(days.year))
    calendar = holidays.country_holidays("FR", years=years)
    unique, position = np.unique(days.to_numpy(), return_inverse=True)
    marks = np.array([pd.Timestamp(day).date() in calendar for day in unique], dtype=bool)
    return marks[position]


def school_holidays(index: pd.DatetimeIndex, zone: Zone = "A") -> np.ndarray:
    """Whether each step falls in the school holidays of ``zone``, by its local day.

    Raises
    ------
    repartition.errors.ParameterError
        For another zone, or days the package's calendar does not cover (it is published
        a few years ahead; update ``vacances-scolaires-france``).
    """
    if zone not in ("A", "B", "C"):
        raise errors.ParameterError(f"zone must be 'A', 'B' or 'C', not {zone!r}.")
    module = _optional.import_extra(
        "vacances_scolaires_france", "profiles", feature="school_holidays"
    )
    days = _local_days(index)
    unique, position = np.unique(days.to_numpy(), return_inverse=True)
    calendar = module.SchoolHolidayDates()
    marks = np.empty(len(unique), dtype=bool)
    for k, day in enumerate(unique):
        date = pd.Timestamp(day).date()
        try:
            marks[k] = calendar.is_holiday_for_zone(date, zone)
        except Exception as error:  # UnsupportedYearException and friends
            raise errors.ParameterError(
                f"The school calendar of vacances-scolaires-france does not cover {date}: "
                f"{error}. Upgrade the package, or give days it covers."
            ) from error
    return marks[position]


def day_types(index: pd.DatetimeIndex) -> np.ndarray:
    """The BDEW day type of each step's local day: ``"WT"`` working day, ``"SA"`` Saturday,
    ``"FT"`` Sunday or public holiday."""
    days = _local_days(index)
    weekday = days.day_of_week.to_numpy()
    types = np.where(weekday == 5, "SA", "WT").astype("<U2")
    types[(weekday == 6) | public_holidays(index)] = "FT"
    return types
