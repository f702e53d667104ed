"""Consumers (pure NumPy): the load curves of households, offices and schools."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.profiles.textbook.calendar import _Calendar, _season

Array = NDArray[np.float64]


_ANNUAL_KWH = {"home": (4_500.0, 0.35), "office": (25_000.0, 0.4), "school": (35_000.0, 0.4)}
"""Median annual consumption [kWh] and log-normal spread [-] of each kind of consumer."""

_TERTIARY_EVERY = 6
"""One consumer in six is an office or a school (alternately), the others are homes."""


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
