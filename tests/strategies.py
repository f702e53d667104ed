"""Hypothesis generators of energy communities, in one module (attrs' ``tests/strategies.py``).

Sizes stay small (1-8 consumers, 1-3 producers, 1-12 steps) so that property tests are
fast; the values are not: exact zeros, rows of zeros, very small and large energies (up
to 1e4 kWh per step), coefficients with zeros and sums exactly 1, all-NaN dynamic rows.

- :func:`communities`: a :class:`Community` of plain arrays (consumption, production).
- :func:`static_coefficients`, :func:`dynamic_tables`, :func:`full_dynamic_tables`:
  coefficients for a given number of consumers, producers and steps.
- :func:`frames`: the community as pandas tables on a tz-aware 30-min index
  (Europe/Paris, some periods crossing a DST change), with member ids.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

MAX_ENERGY = 1e4
"""Largest energy generated. [kWh per step]"""

MAX_CONSUMERS = 8
MAX_PRODUCERS = 3
MAX_STEPS = 12

TIME_ZONE = "Europe/Paris"
STEP = "30min"

STARTS = (
    "2025-06-01 00:00",
    "2025-03-30 00:30",  # spring forward: 02:00 local does not exist
    "2025-10-26 01:00",  # fall back: 02:00-03:00 local happens twice
    "2024-12-31 22:00",  # New Year
)
"""Local start times of the generated periods; two cross a DST change within 12 steps."""


def energies(max_value: float = MAX_ENERGY) -> st.SearchStrategy[float]:
    """One energy in [0, max_value] kWh: exact zeros, tiny, round and arbitrary values."""
    return st.one_of(
        st.just(0.0),
        st.floats(min_value=1e-12, max_value=1e-3),
        st.sampled_from([0.5, 1.0, 2.0, 3.0, 10.0, 0.1, 0.2, 0.3, max_value]),
        st.floats(min_value=0.0, max_value=max_value, allow_subnormal=False),
    )


@st.composite
def energy_table(draw: st.DrawFn, steps: int, members: int, zero_rows: bool = True) -> np.ndarray:
    """A (steps, members) float64 table of energies, with some rows entirely zero."""
    values = draw(hnp.arrays(np.float64, (steps, members), elements=energies()))
    if zero_rows:
        blank = draw(hnp.arrays(np.bool_, steps, elements=st.booleans()))
        values[blank] = 0.0
    return np.ascontiguousarray(values)


@dataclass(frozen=True)
class Community:
    """A community as plain arrays, in kWh per step.

    ``consumption`` has shape (steps, consumers), ``production`` (steps, producers).
    """

    consumption: np.ndarray
    production: np.ndarray

    @property
    def steps(self) -> int:
        return int(self.consumption.shape[0])

    @property
    def consumers(self) -> int:
        return int(self.consumption.shape[1])

    @property
    def producers(self) -> int:
        return int(self.production.shape[1])


@st.composite
def communities(
    draw: st.DrawFn,
    max_consumers: int = MAX_CONSUMERS,
    max_producers: int = MAX_PRODUCERS,
    max_steps: int = MAX_STEPS,
) -> Community:
    """Consumption (with zero rows) and production (with zero-production steps)."""
    steps = draw(st.integers(1, max_steps))
    consumers = draw(st.integers(1, max_consumers))
    producers = draw(st.integers(1, max_producers))
    consumption = draw(energy_table(steps, consumers))
    production = draw(energy_table(steps, producers))
    return Community(consumption, production)


MIN_SHARE = 1e-9
"""Smallest nonzero coefficient generated (a billionth of the production).

Shares far below it (1e-300) make the redistribution level overflow; that is tested by
fixed cases, not left to chance here.
"""


@st.composite
def static_coefficients(draw: st.DrawFn, consumers: int) -> np.ndarray:
    """Shares ``k_i`` in [0, 1] with ``sum_i k_i <= 1``, some zeros, some sums exactly 1.

    Three shapes: dyadic shares summing to exactly 1 (``units / 2**m``, no rounding);
    free shares each at most ``1 / consumers``; normalised weights scaled by a total in
    [0, 1] (often exactly 1 up to the rounding of the division, which the keys' 1e-9
    tolerance absorbs). Nonzero shares are at least :data:`MIN_SHARE`.
    """
    shares = draw(_raw_coefficients(consumers))
    return np.where(shares < MIN_SHARE, 0.0, shares)


@st.composite
def _raw_coefficients(draw: st.DrawFn, consumers: int) -> np.ndarray:
    kind = draw(st.sampled_from(["dyadic", "free", "scaled"]))
    if kind == "dyadic":
        denominator = 2 ** draw(st.integers(0, 6))
        # Split `denominator` units among the consumers: cut points on 0..denominator.
        cuts = sorted(
            draw(
                st.lists(
                    st.integers(0, denominator), min_size=consumers - 1, max_size=consumers - 1
                )
            )
        )
        units = np.diff(np.array([0, *cuts, denominator], dtype=np.float64))
        return units / denominator
    if kind == "free":
        share = st.one_of(
            st.just(0.0),
            st.floats(min_value=0.0, max_value=1.0 / consumers, allow_subnormal=False),
        )
        return np.array(draw(st.lists(share, min_size=consumers, max_size=consumers)))
    weights = np.array(
        draw(
            st.lists(
                st.one_of(st.just(0.0), st.floats(min_value=1e-6, max_value=1.0)),
                min_size=consumers,
                max_size=consumers,
            )
        )
    )
    if weights.sum() == 0.0:
        return weights
    total = draw(st.one_of(st.just(1.0), st.floats(min_value=0.0, max_value=1.0)))
    return weights / weights.sum() * total


@st.composite
def dynamic_tables(
    draw: st.DrawFn, steps: int, consumers: int, missing_rows: bool = True
) -> np.ndarray:
    """Steps x consumers shares, each row summing to <= 1; with ``missing_rows``, some rows
    are all NaN (no key sent for that step)."""
    rows = []
    for _ in range(steps):
        if missing_rows and draw(st.integers(0, 3)) == 0:
            rows.append(np.full(consumers, np.nan))
        else:
            rows.append(draw(static_coefficients(consumers)))
    return np.ascontiguousarray(np.vstack(rows))


@st.composite
def full_dynamic_tables(draw: st.DrawFn, producers: int, steps: int, consumers: int) -> np.ndarray:
    """Shares of shape (producers, steps, consumers), no NaN, each (producer, step) row <= 1."""
    return np.stack(
        [draw(dynamic_tables(steps, consumers, missing_rows=False)) for _ in range(producers)]
    )


@dataclass(frozen=True)
class Frames:
    """A community as pandas tables: ids in column order, one row per step (its start)."""

    consumption: pd.DataFrame
    production: pd.DataFrame

    @property
    def index(self) -> pd.DatetimeIndex:
        index = self.consumption.index
        assert isinstance(index, pd.DatetimeIndex)
        return index

    @property
    def consumers(self) -> pd.Index:
        return self.consumption.columns

    @property
    def producers(self) -> pd.Index:
        return self.production.columns


def time_index(steps: int, start: str = STARTS[0]) -> pd.DatetimeIndex:
    """``steps`` consecutive 30-min steps from ``start`` (local time, Europe/Paris)."""
    return pd.date_range(pd.Timestamp(start, tz=TIME_ZONE), periods=steps, freq=STEP)


def consumer_ids(count: int) -> list[str]:
    """14-digit PRM-like ids, deliberately not in sorted order."""
    return [f"{30000000000000 - 7919 * (i + 1) * (1 if i % 2 else -1):014d}" for i in range(count)]


def producer_ids(count: int) -> list[str]:
    return [f"PV-{'zyx'[j]}" for j in range(count)]


def frames(community: Community, start: str = STARTS[0]) -> Frames:
    """The community as DataFrames on a tz-aware 30-min index, with member ids as columns."""
    index = time_index(community.steps, start)
    consumption = pd.DataFrame(
        community.consumption.copy(), index=index, columns=consumer_ids(community.consumers)
    )
    production = pd.DataFrame(
        community.production.copy(), index=index, columns=producer_ids(community.producers)
    )
    return Frames(consumption, production)


@st.composite
def community_frames(draw: st.DrawFn, **sizes: int) -> tuple[Community, Frames]:
    """A community and its tables on a period starting at one of :data:`STARTS`."""
    community = draw(communities(**sizes))
    return community, frames(community, draw(st.sampled_from(STARTS)))
