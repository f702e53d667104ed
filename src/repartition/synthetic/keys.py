"""Keys for the demo: the coefficients a PMO could plausibly send for a community.

Static, dynamic and full dynamic, built from the community's consumption and rounded
down like the key files sent to the DSO, by the key files' own rule
(:func:`repartition.io.keyfile.rounding.round_down`, re-exported here).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition.io.keyfile.rounding import round_down

__all__ = ["DemoKeys", "demo_keys", "round_down"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class DemoKeys:
    """Coefficients of the demo's keys, labelled like the community's tables.

    Attributes
    ----------
    static : pandas.Series
        Consumer -> share of the annual consumption, summing to 1. For
        :class:`repartition.keys.Static`. [-]
    dynamic : pandas.DataFrame
        Steps x consumers, rounded down to 4 decimals (:func:`round_down`), rows summing
        to at most 1. For
        :class:`repartition.keys.Dynamic`. [-]
    full_dynamic : dict of pandas.DataFrame
        Producer -> steps x consumers, same rounding. For
        :class:`repartition.keys.FullDynamic`. [-]
    """

    static: pd.Series
    dynamic: pd.DataFrame
    full_dynamic: dict[Hashable, pd.DataFrame]


def demo_keys(
    consumption: pd.DataFrame,
    production: pd.DataFrame,
    decimals: int = 4,
    neighbour_share: float = 0.5,
) -> DemoKeys:
    """Keys a PMO could plausibly send for a community, built from its consumption.

    Parameters
    ----------
    consumption : pandas.DataFrame
        CONS, steps x consumers, on a regular tz-aware index (e.g. from
        :func:`synthetic_community`). [kWh per step]
    production : pandas.DataFrame
        PROD, steps x producers; only its columns are used. [kWh per step]
    decimals : int
        Decimal places kept by the dynamic tables, rounding down (4, as in the key files
        sent to the DSO: a hundredth of a percent).
    neighbour_share : float
        Full dynamic key: the part of each plant's production reserved for its
        neighbours, in [0, 1]. [-]

    Returns
    -------
    DemoKeys
        ``static``: ``k_i = sum_t C[t, i] / sum_t sum_i C[t, i]`` (sums to 1).

        ``dynamic``: a persistence forecast, each consumer's share of the community's
        consumption one day (24 h) earlier at the same step,
        ``k[t, i] = C[t - 1 day, i] / sum_i C[t - 1 day, i]``, rounded down, so rows
        sum to at most 1 (and to at least ``1 - consumers * 10**-decimals``). The first
        day, with no history, uses the static shares (rounded down); so does a step
        whose forecast is 0 for everyone.

        ``full_dynamic``: consumers are dealt round-robin to the plants as their
        neighbours; plant ``j`` offers ``neighbour_share`` of its production to its
        neighbours and the rest to everyone, both in proportion to the same forecast,
        rounded down. With one plant (or ``neighbour_share = 0``) it is the dynamic key.

    Raises
    ------
    ValueError
        If ``neighbour_share`` is outside [0, 1], ``decimals`` is negative, or
        ``consumption`` is empty or not indexed by time.
    """
    if not 0.0 <= neighbour_share <= 1.0:
        raise errors.ParameterError(f"neighbour_share must lie in [0, 1], not {neighbour_share!r}.")
    if decimals < 0:
        raise errors.ParameterError(f"decimals must be >= 0, not {decimals!r}.")
    index = consumption.index
    if not isinstance(index, pd.DatetimeIndex) or consumption.empty:
        raise errors.ParameterError(
            "consumption must have a DatetimeIndex, at least one step and one member."
        )
    values = consumption.to_numpy(dtype=np.float64)
    steps, members = values.shape
    total = values.sum()
    static = values.sum(axis=0) / total if total > 0 else np.full(members, 1.0 / members)
    lag = int(index.searchsorted(index[0] + pd.Timedelta(days=1)))  # steps in 24 h
    forecast = np.empty_like(values)
    forecast[:lag] = static
    forecast[lag:] = values[: steps - lag]
    dynamic = _shares(forecast, np.ones(members, dtype=bool), static)
    tables: dict[Hashable, pd.DataFrame] = {}
    plants = list(production.columns)
    for j, plant in enumerate(plants):
        neighbours = np.arange(members) % len(plants) == j
        if neighbours.any():
            mix = (1.0 - neighbour_share) * dynamic + neighbour_share * _shares(
                forecast, neighbours, static
            )
        else:
            mix = dynamic
        tables[plant] = _frame(round_down(mix, decimals), consumption)
    return DemoKeys(
        static=pd.Series(static, index=consumption.columns, name="static"),
        dynamic=_frame(round_down(dynamic, decimals), consumption),
        full_dynamic=tables,
    )


def _shares(forecast: Array, among: NDArray[np.bool_], fallback: Array) -> Array:
    """Rows of ``forecast`` restricted to ``among``, normalised to sum to 1. [-]

    A row whose restricted forecast is 0 takes ``fallback`` (restricted, normalised).
    """
    weights = np.where(among, forecast, 0.0)
    sums = weights.sum(axis=1, keepdims=True)
    default = np.where(among, fallback, 0.0)
    default = default / default.sum() if default.sum() > 0 else among / among.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        result: Array = np.where(sums > 0, weights / sums, default)
    return result


def _frame(values: Array, like: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(values, index=like.index, columns=like.columns)
