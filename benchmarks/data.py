"""Synthetic communities for the benchmarks: seeded, shaped like real load curves.

Consumption has a daily pattern (night trough, morning and evening peaks for households,
a daytime plateau for small businesses) and a winter/summer swing; production is
daylight-shaped (zero at night, longer days in summer, a random cloudiness per day and
producer). Production is sized so that the year's pooled production is about 40 % of the
year's consumption: around noon in summer the producers cover everyone (the ``min(1, .)``
of the prorata key and the saturation of static keys both happen), at night nothing is
produced (the ``P_tot = 0`` path).

Two memory layouts hold the same values (:data:`LAYOUTS`), and ``repartition`` has one
kernel path for each (``repartition.kernels.layout.is_by_member``):

- ``"rows"``: every table is a C-contiguous float64 (steps, members) array, and the
  DataFrames are built on it with ``copy=False``, so ``frame.to_numpy()`` is the array
  itself, row-major. That is the frame of ``pd.DataFrame(c_ordered_array, copy=False)``.
- ``"members"``: every table is an F-contiguous (steps, members) array, stored member by
  member, wrapped the same way: ``frame.to_numpy()`` is again the array itself. That is
  pandas' usual layout: a frame built with the default ``copy`` (pandas 3), column by
  column, or read from a file, holds its floats as one (members, steps) block.

The coefficient tables of Dynamic and FullDynamic follow the consumption's layout (a key
in the other layout would pay a transposition inside ``allocate``); :func:`check_layout`
asserts it.

Large arrays are generated in row chunks: building the consumption of 10,000 consumers
over a year (1.4 GB) never needs a second array of that size, whatever the layout (each
chunk is drawn into a small row-major buffer and written into the member-major array, so
both layouts draw the same random numbers in the same order and hold the same values).
Only one layout of a size should be alive at a time: build one, measure, free it.

All energies in kWh per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Array = NDArray[np.float64]
Layout = Literal["rows", "members"]

LAYOUTS: tuple[Layout, ...] = ("rows", "members")
"""``"rows"``: row-major (steps, members) tables; ``"members"``: member-major, pandas' usual."""

TIME_ZONE = "Europe/Paris"
STEP = pd.Timedelta(minutes=30)
PRODUCERS = 5
YEAR_STEPS = 17_520
"""Half-hours of 2025 in Europe/Paris: 365 x 48 (the DST days of 46 and 50 steps cancel)."""

_CHUNK_ROWS = 512
_NO_KEY_ROWS = 0.02
"""Share of steps for which the dynamic key has no row (all NaN: the prorata fallback)."""


@dataclass(frozen=True)
class Size:
    """A benchmark size: steps x consumers x producers."""

    steps: int
    consumers: int
    producers: int = PRODUCERS

    @property
    def label(self) -> str:
        return f"{self.steps}x{self.consumers}x{self.producers}"

    @property
    def consumption_bytes(self) -> int:
        return self.steps * self.consumers * 8


TINY = Size(48, 10)
"""One day at 30 min, 10 consumers: what CI runs (with ``--benchmark-disable``)."""


def year_sizes(consumers: tuple[int, ...] = (10, 1_000, 10_000)) -> list[Size]:
    return [Size(YEAR_STEPS, n) for n in consumers]


@dataclass(frozen=True, eq=False)
class Community:
    """Synthetic data of one size and layout, as arrays and as DataFrames sharing the same
    memory (``consumption.to_numpy()`` is ``consumption_array``, stored as ``layout`` says)."""

    size: Size
    index: pd.DatetimeIndex
    consumption_array: Array
    production_array: Array
    consumption: pd.DataFrame
    production: pd.DataFrame
    static_coefficients: Array
    layout: Layout = "rows"

    @property
    def static_series(self) -> pd.Series:
        return pd.Series(self.static_coefficients, index=self.consumption.columns)

    @property
    def label(self) -> str:
        """``<steps>x<consumers>x<producers>-<layout>``, e.g. ``48x10x5-members``."""
        return f"{self.size.label}-{self.layout}"


def is_layout(values: Array, layout: Layout) -> bool:
    """True when the (steps, members) ``values`` are stored as ``layout`` says.

    A table with one step or one member is both C- and F-contiguous; it counts as either.
    """
    if layout == "rows":
        return bool(values.flags.c_contiguous)
    if layout == "members":
        return bool(values.flags.f_contiguous)
    raise ValueError(f"unknown layout {layout!r}, expected one of {LAYOUTS}")


def check_layout(frame: pd.DataFrame, values: Array | None, layout: Layout, table: str) -> None:
    """Assert that ``frame.to_numpy()`` is stored as ``layout`` says and, given ``values``,
    that it is that array itself (no copy at ``allocate``'s boundary)."""
    held = frame.to_numpy()
    order = "C" if held.flags.c_contiguous else "F" if held.flags.f_contiguous else "neither"
    assert is_layout(held, layout), f"{table}: to_numpy() is {order}-ordered, not {layout}"
    if values is not None:
        assert np.shares_memory(held, values), f"{table}: to_numpy() is a copy of its array"


def _empty(steps: int, members: int, layout: Layout) -> Array:
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}, expected one of {LAYOUTS}")
    return np.empty((steps, members), order="C" if layout == "rows" else "F")


def _row_chunks(values: Array) -> Iterator[tuple[slice, Array]]:
    """``(rows, block)`` per chunk of rows of ``values``: ``block`` is a C-contiguous
    (rows, members) array to fill; for a member-major ``values`` it is a buffer, copied
    into ``values[rows]`` when the caller moves on to the next chunk."""
    steps, members = values.shape
    row_major = values.flags.c_contiguous
    buffer = None if row_major else np.empty((min(_CHUNK_ROWS, steps), members))
    for start in range(0, steps, _CHUNK_ROWS):
        rows = slice(start, min(start + _CHUNK_ROWS, steps))
        if buffer is None:
            yield rows, values[rows]
        else:
            block = buffer[: rows.stop - rows.start]
            yield rows, block
            values[rows] = block


def _frame(values: Array, index: pd.Index, columns: pd.Index, layout: Layout) -> pd.DataFrame:
    """``values`` (already stored as ``layout``) as a DataFrame on the same memory."""
    frame = pd.DataFrame(values, index=index, columns=columns, copy=False)
    check_layout(frame, values, layout, str(columns.name))
    return frame


def time_index(steps: int) -> pd.DatetimeIndex:
    """Start of each step: all of 2025 for a year, else from the summer solstice, local time."""
    if steps == YEAR_STEPS:
        index = pd.date_range("2025-01-01", "2026-01-01", freq=STEP, tz=TIME_ZONE, inclusive="left")
        assert len(index) == YEAR_STEPS, len(index)
        return index
    return pd.date_range("2025-06-21", periods=steps, freq=STEP, tz=TIME_ZONE)


def _hours_and_days(index: pd.DatetimeIndex) -> tuple[Array, Array, NDArray[np.int64]]:
    """Local hour of day (0-24, fractional), day-of-year angle, and a day number per step."""
    hours = (index.hour + index.minute / 60.0).to_numpy(dtype=np.float64)
    day_of_year = index.day_of_year.to_numpy(dtype=np.float64)
    season = np.cos(2.0 * np.pi * (day_of_year - 172.0) / 365.0)  # +1 at midsummer
    days = (index.normalize().asi8 // (86_400 * 10**9)).astype(np.int64)
    return hours, season, days - days[0]


def _household_shape(hours: Array, season: Array) -> Array:
    morning = np.exp(-0.5 * ((hours - 7.5) / 1.2) ** 2)
    evening = np.exp(-0.5 * ((hours - 19.5) / 1.8) ** 2)
    shape = 0.35 + 0.6 * morning + 1.0 * evening
    return shape * (1.0 - 0.3 * season)  # more in winter (heating, lighting)


def _business_shape(hours: Array, season: Array) -> Array:
    open_hours = 1.0 / (1.0 + np.exp(-(hours - 8.0) * 2.0)) / (1.0 + np.exp((hours - 18.5) * 2.0))
    return (0.25 + 1.2 * open_hours) * (1.0 - 0.15 * season)


def _consumption(
    rng: np.random.Generator, hours: Array, season: Array, consumers: int, layout: Layout
) -> tuple[Array, Array, float]:
    """(steps, consumers) consumption [kWh per step] stored as ``layout``, each consumer's
    base, and the total (summed chunk by chunk, so the same in both layouts)."""
    steps = len(hours)
    household = _household_shape(hours, season)
    business = _business_shape(hours, season)
    household /= household.mean()
    business /= business.mean()
    # Mean energy per half-hour: lognormal around 4,500 kWh a year.
    base = rng.lognormal(mean=np.log(4_500.0 / YEAR_STEPS), sigma=0.5, size=consumers)
    weight = (rng.random(consumers) < 0.8).astype(np.float64)  # 80 % households
    values = _empty(steps, consumers, layout)
    total = 0.0
    for rows, block in _row_chunks(values):
        rng.random(out=block)
        block *= 1.2
        block += 0.4  # noise in [0.4, 1.6]
        block *= (
            household[rows, None] * weight[None, :] + business[rows, None] * (1.0 - weight)
        ) * base[None, :]
        total += float(block.sum())
    return values, base, total


def _production(
    rng: np.random.Generator,
    hours: Array,
    season: Array,
    days: NDArray[np.int64],
    producers: int,
    consumption_total: float,
) -> Array:
    """(steps, producers) daylight-shaped production [kWh per step], 40 % of consumption."""
    day_length = 12.0 + 4.0 * season  # 8 h in midwinter, 16 h at midsummer
    solar_noon = 13.5 + 0.5 * np.sign(season)  # local clock, roughly CET / CEST
    phase = (hours + 0.25 - (solar_noon - day_length / 2.0)) / day_length  # mid-step
    daylight = np.where((phase > 0.0) & (phase < 1.0), np.sin(np.pi * phase), 0.0)
    daylight *= 0.6 + 0.4 * (season + 1.0) / 2.0  # higher sun in summer
    cloudiness = rng.uniform(0.25, 1.0, size=(int(days.max()) + 1, producers))
    size = rng.uniform(0.5, 1.5, size=producers)
    values = daylight[:, None] * cloudiness[days] * size[None, :]
    total = values.sum()
    if total > 0.0:
        values *= 0.4 * consumption_total / total
    return np.ascontiguousarray(values)


def community(size: Size, seed: int = 2025, layout: Layout = "rows") -> Community:
    """Build the synthetic community of ``size``, the same values for a given seed in
    either ``layout`` (``"rows"`` or ``"members"``, see the module's docstring)."""
    rng = np.random.default_rng(seed)
    index = time_index(size.steps)
    hours, season, days = _hours_and_days(index)
    consumption, base, consumption_total = _consumption(rng, hours, season, size.consumers, layout)
    production = _production(rng, hours, season, days, size.producers, consumption_total)
    if layout == "members":
        production = np.asfortranarray(production)  # steps x 5: small
    # Static key: in proportion to each consumer's typical consumption, 5 % with no share.
    static = base.copy()
    static[rng.random(size.consumers) < 0.05] = 0.0
    if static.sum() == 0.0:
        static[0] = 1.0
    static /= static.sum() * (1.0 + 1e-12)  # never above 1 after rounding
    consumers = pd.Index([f"PRM{i:05d}" for i in range(size.consumers)], name="consumer")
    producers = pd.Index([f"PV{j}" for j in range(size.producers)], name="producer")
    return Community(
        size=size,
        index=index,
        consumption_array=consumption,
        production_array=production,
        consumption=_frame(consumption, index, consumers, layout),
        production=_frame(production, index, producers, layout),
        static_coefficients=static,
        layout=layout,
    )


def _normalised_rows(rng: np.random.Generator, steps: int, consumers: int, layout: Layout) -> Array:
    """Random (steps, consumers) shares stored as ``layout``, each row summing to just under 1."""
    values = _empty(steps, consumers, layout)
    for _, block in _row_chunks(values):
        rng.random(out=block)
        block /= block.sum(axis=1, keepdims=True) * (1.0 + 1e-12)
    return values


def dynamic_coefficients(data: Community, seed: int = 7) -> pd.DataFrame:
    """The PMO's dynamic key: random shares per step, 2 % of steps with no key (NaN rows).

    Stored like ``data``'s consumption (``data.layout``)."""
    rng = np.random.default_rng(seed)
    values = _normalised_rows(rng, data.size.steps, data.size.consumers, data.layout)
    missing = rng.random(data.size.steps) < _NO_KEY_ROWS
    values[missing] = np.nan
    return _frame(values, data.index, data.consumption.columns, data.layout)


def full_dynamic_coefficients(data: Community, seed: int = 11) -> dict[str, pd.DataFrame]:
    """One table of random shares per producer, each row summing to just under 1.

    Each stored like ``data``'s consumption (``data.layout``)."""
    rng = np.random.default_rng(seed)
    return {
        producer: _frame(
            _normalised_rows(rng, data.size.steps, data.size.consumers, data.layout),
            data.index,
            data.consumption.columns,
            data.layout,
        )
        for producer in data.production.columns
    }
