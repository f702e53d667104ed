"""Compile every kernel ahead of the first real call: for images, servers and batch jobs.

repartition's kernels are compiled by Numba the first time they run, then kept in Numba's
on-disk cache (``cache=True``): a later process loads them instead of compiling them again.
In a fresh environment (a new virtual environment, a new container image) the first call of a
key pays its compilation, 0.2 to 4 s per key and layout, about 20 s for every key in both
memory layouts (docs/performance.md, *A first call*). :func:`warm_up` pays it once, at a time
of your choosing: when an image is built (``RUN python -m repartition warm-up``), in a
deployment step, or in a server's master process before it forks its workers. Later processes
that see the same cache then start in about a second, whatever keys they use.

Numba writes its cache beside the installed package (in ``__pycache__``) when that folder
is writable, else in a cache folder of the user; ``NUMBA_CACHE_DIR`` chooses another one (the
build and the run must then set the same).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Literal

import numpy as np
import pandas as pd

from repartition import errors, keys, metrics
from repartition.engine import allocate

__all__ = ["KEY_FAMILIES", "warm_up"]

Layout = Literal["rows", "members"]
KeyFactory = Callable[[pd.DataFrame], keys.SharingKey]

_STEPS = 192  # four days at 30 min
_CONSUMERS = tuple(f"c{i}" for i in range(1, 9))
_PRODUCERS = ("pv1", "pv2", "pv3")
_SHARES = np.array([0.25, 0.2, 0.15, 0.1, 0.1, 0.1, 0.05, 0.05])


def _stored(values: np.ndarray, layout: Layout) -> np.ndarray:
    return np.array(values, dtype=np.float64, order="C" if layout == "rows" else "F")


def _frame(values: np.ndarray, index: pd.Index, layout: Layout) -> pd.DataFrame:
    """A steps x consumers frame on ``values`` stored in ``layout``, as the kernels see it."""
    return pd.DataFrame(_stored(values, layout), index=index, columns=list(_CONSUMERS), copy=False)


def _community(layout: Layout) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A small community, its consumption stored in ``layout``: consumers of very different
    sizes, so that the water-filling and prosumer keys need several rounds on some steps."""
    index = pd.date_range("2025-06-01", periods=_STEPS, freq="30min", tz="Europe/Paris")
    hours = np.arange(_STEPS) % 48 / 2
    sun = np.clip(np.sin((hours - 6.0) / 12.0 * np.pi), 0.0, None)
    production = np.column_stack([3.0 * sun, 1.5 * sun, 0.5 * sun])
    base = 0.3 + 0.2 * np.cos(hours / 24.0 * 2 * np.pi)
    day = np.arange(_STEPS) // 48
    sizes = np.array([0.05, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0])
    consumption = base[:, None] * sizes[None, :] * (1.0 + 0.3 * np.sin(day[:, None] + sizes))
    return _frame(consumption, index, layout), pd.DataFrame(
        production, index=index, columns=list(_PRODUCERS)
    )


def _static() -> pd.Series:
    return pd.Series(_SHARES, index=list(_CONSUMERS))


def _dynamic(consumption: pd.DataFrame) -> pd.DataFrame:
    """A dynamic key table stored like ``consumption``."""
    layout = _layout(consumption)
    table = np.tile(_SHARES, (len(consumption), 1))
    table[:2] = np.nan  # no key sent for two steps: the prorata fallback runs too
    return _frame(table, consumption.index, layout)


def _full_dynamic(consumption: pd.DataFrame) -> dict[str, pd.DataFrame]:
    layout = _layout(consumption)
    rows = np.tile(_SHARES, (len(consumption), 1))
    other: Layout = "members" if layout == "rows" else "rows"
    # Tables in both layouts: the kernels read each table in its own layout.
    return {
        "pv1": _frame(rows, consumption.index, layout),
        "pv2": _frame(rows[:, ::-1], consumption.index, other),
        "pv3": _frame(rows, consumption.index, layout),
    }


def _layout(consumption: pd.DataFrame) -> Layout:
    values = consumption.to_numpy()
    return "members" if values.flags.f_contiguous and not values.flags.c_contiguous else "rows"


def _prosumer(
    variant: Literal["fixed", "relative", "optimal"],
    unused: Literal["producer", "pooled"] = "producer",
) -> KeyFactory:
    owners: dict[Hashable, Hashable] = {"pv1": "c1", "pv2": "c8"}
    return lambda consumption: keys.ProsumerKey(_static(), variant, owners, unused)


KEY_FAMILIES: dict[str, tuple[KeyFactory, ...]] = {
    "prorata": (lambda consumption: keys.Prorata(),),
    "static": (
        lambda consumption: keys.Static(_static()),
        lambda consumption: keys.Static(_static(), rounds=2),
        lambda consumption: keys.Static(_static(), redistribute=True),
    ),
    "dynamic": (lambda consumption: keys.Dynamic(_dynamic(consumption)),),
    "full_dynamic": (lambda consumption: keys.FullDynamic(_full_dynamic(consumption)),),
    "equal_share": (lambda consumption: keys.EqualShare(),),
    "weighted_share": (lambda consumption: keys.WeightedShare(_static() * 10),),
    "spain": (
        lambda consumption: keys.SpanishKey(_static()),
        lambda consumption: keys.SpanishKey(_dynamic(consumption).fillna(1 / 8)),
    ),
    "italy": (lambda consumption: keys.ItalianKey(pd.Series([0, 2, 1], index=list(_PRODUCERS))),),
    "cascade": (
        lambda consumption: keys.PriorityCascade(
            [
                ("first", ["c1", "c2"], keys.Prorata()),
                ("others", list(_CONSUMERS[2:]), keys.EqualShare()),
            ]
        ),
    ),
    "economic_greedy": (
        lambda consumption: keys.EconomicGreedy(_static()),
        lambda consumption: keys.EconomicGreedy(_dynamic(consumption).fillna(0.1)),
    ),
    "prosumer": (
        _prosumer("fixed"),
        _prosumer("relative"),
        _prosumer("optimal"),
        _prosumer("optimal", "pooled"),
    ),
}
"""Family -> the keys :func:`warm_up` runs for it: every variant that has kernels of its own."""


def warm_up(
    families: Iterable[str] | None = None,
    *,
    layouts: Iterable[Layout] = ("rows", "members"),
    shapley: bool = True,
) -> float:
    """Compile (or load from Numba's cache) the kernels of every key, in both memory layouts.

    Each key of ``families`` runs once on a small community (four days, eight consumers of
    very different sizes, three producers, two of them owned by a consumer), with its flows
    and monthly flows; with ``shapley``, :func:`repartition.metrics.shapley_values` runs too.
    Results are discarded.

    Parameters
    ----------
    families : iterable of str, optional
        Names from :data:`KEY_FAMILIES` (``"prorata"``, ``"static"``, ``"dynamic"``,
        ``"full_dynamic"``, ...); default: all of them.
    layouts : iterable of {"rows", "members"}, default both
        The memory layouts to compile for: ``"members"`` is how pandas stores a frame of
        float columns (what a user's frames usually are), ``"rows"`` a frame made from a
        C-ordered array with ``copy=False`` (and NumPy arrays).
    shapley : bool, default True
        Also compile the Shapley-value kernels.

    Returns
    -------
    float
        The seconds it took: the compilation in a fresh environment, about a second when
        every kernel was already in the cache.

    Raises
    ------
    repartition.errors.ParameterError
        For a family or layout that does not exist.

    Examples
    --------
    >>> import repartition
    >>> seconds = repartition.warm_up(["prorata"], layouts=["rows"], shapley=False)
    >>> seconds >= 0.0
    True
    """

    chosen = list(KEY_FAMILIES) if families is None else list(families)
    unknown = [family for family in chosen if family not in KEY_FAMILIES]
    if unknown:
        raise errors.ParameterError(
            f"warm_up: unknown key family {unknown[0]!r}; known: {', '.join(KEY_FAMILIES)}."
        )
    chosen_layouts = list(layouts)
    for layout in chosen_layouts:
        if layout not in ("rows", "members"):
            raise errors.ParameterError(
                f"warm_up: unknown layout {layout!r}; expected 'rows' or 'members'."
            )
    start = time.perf_counter()
    for layout in chosen_layouts:
        consumption, production = _community(layout)
        for family in chosen:
            for factory in KEY_FAMILIES[family]:
                result = allocate(consumption, production, factory(consumption))
                result.flows()
                result.flows("MS")
        if shapley:
            metrics.shapley_values(consumption, production, 0.1)
            metrics.shapley_values(consumption, production, 0.1, exact_limit=2, samples=8, seed=0)
    return time.perf_counter() - start
