"""Every strategy on the same data, side by side: :func:`compare` and :func:`plot_comparison`.

A PMO choosing its key, or a researcher comparing strategies, wants one table: one row per
strategy, the rates, the energy left as surplus, the money (with tariffs) and how fairly it
is spread. Every column is computed by :mod:`repartition.metrics` from one
:func:`repartition.allocate` per strategy, so each formula is the one documented there.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from repartition import errors
from repartition._optional import import_extra
from repartition.allocation import Allocation
from repartition.engine import allocate
from repartition.keys import SharingKey
from repartition.metrics import Tariffs, bills, gini, jain, producer_revenue

__all__ = ["Recommendation", "compare", "metrics_of", "plot_comparison", "recommend"]


def compare(
    consumption: pd.DataFrame,
    production: pd.DataFrame | pd.Series,
    keys: Mapping[str, SharingKey] | Sequence[SharingKey],
    *,
    tariffs: Tariffs | None = None,
    per_member: bool = False,
    timed: bool = False,
    reference: str | None = None,
) -> pd.DataFrame:
    """Allocate the same data with every key and compare the results in one table.

    Parameters
    ----------
    consumption, production
        As for :func:`repartition.allocate`. [kWh per step]
    keys
        The strategies: a mapping name -> key, or a sequence of keys (named by their
        ``label()``).
    tariffs
        Prices for the money columns (:class:`repartition.metrics.Tariffs`); without
        them, the table has energies, rates and fairness of self-sufficiency only.
    per_member
        Also add one column per consumer with its savings (``savings <id>``); needs
        ``tariffs``.
    timed
        Also add ``seconds``: the wall-clock time of :func:`~repartition.allocate` with
        each key, measured on a second call (the first one compiles or loads the kernels
        for these arrays' layout).
    reference
        The name of one of ``keys`` (the present key): also add ``moved_kwh``, the energy
        each key gives to other consumers than the reference does,
        ``sum_t sum_i |A_key[t, i] - A_ref[t, i]| / 2``. [kWh]

    Returns
    -------
    pandas.DataFrame
        One row per strategy (in the order given), with columns:

        - ``self_consumption_rate`` ``= sum A / sum P_tot`` (*taux d'autoconsommation*)
          and ``self_sufficiency_rate`` ``= sum A / sum C`` (*taux d'autoproduction*);
        - ``allocated_kwh`` (AUTOCONS), ``surplus_kwh`` (SURPLUS), ``grid_supply_kwh``
          (COMPLEMENT) [kWh];
        - ``gini_self_sufficiency`` and ``jain_self_sufficiency``: fairness of the
          consumers' own rates ``A_i / C_i`` (consumers who consumed nothing left out);
        - with tariffs: ``savings_total``, ``savings_mean``, ``savings_min``,
          ``savings_max`` (consumers' savings against buying everything from their
          supplier), ``producer_gain`` (producers' gain against selling everything as
          surplus), ``community_gain`` (their sum) [currency], and ``gini_savings``,
          ``jain_savings`` (Jain is NaN when a consumer loses money, since it is only
          defined for non-negative values);
        - with ``timed``: ``seconds``.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import keys
    >>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0]}, index=index)
    >>> production = pd.Series([2.0, 2.0], index=index, name="PV")
    >>> table = compare(consumption, production,
    ...                 {"prorata": keys.Prorata(), "equal": keys.EqualShare()})
    >>> table[["self_sufficiency_rate", "gini_self_sufficiency"]]
             self_sufficiency_rate  gini_self_sufficiency
    prorata                    0.5                    0.0
    equal                      0.5                    0.0
    """
    named = _named(keys)
    if per_member and tariffs is None:
        raise errors.ParameterError("per_member=True needs tariffs (the savings are in money).")
    if reference is not None and reference not in named:
        raise errors.ParameterError(
            f"reference {reference!r} is not one of the keys compared ({', '.join(named)})."
        )
    rows: dict[str, dict[str, float]] = {}
    allocated: dict[str, np.ndarray] = {}
    for name, key in named.items():
        start = time.perf_counter()
        try:
            allocation = allocate(consumption, production, key)
        except errors.RepartitionError as error:
            raise errors.in_context(error, f"compare, strategy {name!r}: ") from error
        if timed:
            start = time.perf_counter()
            allocation = allocate(consumption, production, key)
        seconds = time.perf_counter() - start
        row = metrics_of(allocation, tariffs, per_member=per_member)
        if timed:
            row["seconds"] = seconds
        rows[name] = row
        if reference is not None:
            allocated[name] = allocation.arrays.allocated
    table = pd.DataFrame.from_dict(rows, orient="index")
    if reference is not None:
        base = allocated[reference]
        table["moved_kwh"] = [float(np.abs(allocated[n] - base).sum()) / 2 for n in table.index]
    return table


def metrics_of(
    allocation: Allocation, tariffs: Tariffs | None = None, *, per_member: bool = False
) -> dict[str, float]:
    """One row of :func:`compare` for an allocation already computed (its columns, in its
    order, without ``seconds`` and ``moved_kwh``)."""
    summary = allocation.summary()
    sufficiency = allocation.by_consumer()["self_sufficiency_rate"].dropna()
    row: dict[str, float] = {
        "self_consumption_rate": summary.self_consumption_rate,
        "self_sufficiency_rate": summary.self_sufficiency_rate,
        "allocated_kwh": summary.allocated_kwh,
        "surplus_kwh": summary.surplus_kwh,
        "grid_supply_kwh": summary.grid_supply_kwh,
        "gini_self_sufficiency": gini(sufficiency) if len(sufficiency) else np.nan,
        "jain_self_sufficiency": jain(sufficiency) if len(sufficiency) else np.nan,
    }
    if tariffs is not None:
        savings = bills(allocation, tariffs)["savings"]
        gain = float(producer_revenue(allocation, tariffs)["gain"].sum())
        row.update(
            savings_total=float(savings.sum()),
            savings_mean=float(savings.mean()),
            savings_min=float(savings.min()),
            savings_max=float(savings.max()),
            producer_gain=gain,
            community_gain=float(savings.sum()) + gain,
            gini_savings=gini(savings),
            jain_savings=jain(savings) if (savings >= 0).all() else np.nan,
        )
        if per_member:
            row.update({f"savings {member}": float(v) for member, v in savings.items()})
    return row


@dataclass(frozen=True)
class Recommendation:
    """The key that best serves a goal, and why, in one sentence."""

    goal: str
    key: str
    why: str


def recommend(table: pd.DataFrame, reference: str | None = None) -> list[Recommendation]:
    """For each goal a PMO weighs, the best key of a :func:`compare` table, and why.

    Goals: the most self-consumption (``self_consumption_rate``), the fairest (the lowest
    Gini of the members' self-sufficiency), the most savings (``savings_total``, with
    tariffs) and the closest to the present key (``moved_kwh``, with ``reference``). Ties
    go to the first key in the table's order; the sentence compares with the reference (or
    the first key).
    """
    if table.empty:
        raise errors.ParameterError("recommend needs a compare table with at least one key.")
    base = reference if reference is not None else str(table.index[0])
    found = []
    rate = table["self_consumption_rate"]
    best = str(rate.idxmax())
    found.append(
        Recommendation(
            "most self-consumption",
            best,
            f"{100 * rate[best]:.1f} % of the production consumed in the operation, against "
            f"{100 * rate[base]:.1f} % with {base}.",
        )
    )
    gini_rates = table["gini_self_sufficiency"]
    fairest = str(gini_rates.idxmin())
    found.append(
        Recommendation(
            "fairest",
            fairest,
            f"the members' self-sufficiency is the most even (Gini {gini_rates[fairest]:.3f}, "
            f"against {gini_rates[base]:.3f} with {base}; 0 is perfectly even).",
        )
    )
    if "savings_total" in table:
        savings = table["savings_total"]
        richest = str(savings.idxmax())
        found.append(
            Recommendation(
                "most savings",
                richest,
                f"the members save {savings[richest]:,.0f} in all, "
                f"{savings[richest] - savings[base]:+,.0f} against {base}; the least any "
                f"member saves is {table['savings_min'][richest]:,.0f}.",
            )
        )
    if "moved_kwh" in table and reference is not None:
        others = table.drop(index=reference)
        if len(others):
            moved = others["moved_kwh"]
            closest = str(moved.idxmin())
            found.append(
                Recommendation(
                    "closest to the present key",
                    closest,
                    f"it gives {moved[closest]:,.0f} kWh to other members than {reference} does, "
                    f"the least of the other keys.",
                )
            )
    return found


def _named(keys: Mapping[str, SharingKey] | Sequence[SharingKey]) -> dict[str, SharingKey]:
    if isinstance(keys, Mapping):
        named = {str(name): key for name, key in keys.items()}
    else:
        named = {}
        for key in keys:
            label = key.label() if isinstance(key, SharingKey) else repr(key)
            if label in named:
                raise errors.ParameterError(
                    f"Two keys are both labelled {label!r}: pass a mapping name -> key."
                )
            named[label] = key
    if not named:
        raise errors.ParameterError("compare needs at least one key.")
    for name, key in named.items():
        if not isinstance(key, SharingKey):
            raise errors.ParameterTypeError(
                f"{name!r} is a {type(key).__name__}, not a sharing key from repartition.keys."
            )
    return named


def plot_comparison(
    table: pd.DataFrame,
    columns: Sequence[str] = ("self_sufficiency_rate", "self_consumption_rate"),
    *,
    ax: Any = None,
) -> Any:
    """Plot columns of a :func:`compare` table as grouped horizontal bars, one group per
    strategy.

    Needs matplotlib (``pip install "repartition[plot]"``).

    Parameters
    ----------
    table
        The result of :func:`compare`.
    columns
        The columns to show (same unit, for one axis to make sense).
    ax
        A matplotlib ``Axes`` to draw on; a new figure's by default.

    Returns
    -------
    matplotlib.axes.Axes
    """
    plt = import_extra("matplotlib.pyplot", "plot", feature="plot_comparison")
    missing = [column for column in columns if column not in table.columns]
    if missing:
        raise KeyError(f"The table has no column {missing[0]!r}; it has {list(table.columns)}.")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 0.6 + 0.5 * len(table) * max(1, len(columns))))
    table.loc[::-1, list(columns)].plot.barh(ax=ax)
    ax.set_xlabel(", ".join(columns))
    ax.legend(loc="best")
    return ax
