"""The demo: the embedded village's year with every key, and the PMO's files for a month
(``repartition demo``; docs/report.md, "The demo").

The village of :func:`repartition.profiles.village` (40 homes, a school, a gymnasium, a pool,
a town hall, a bakery; roofs of 9 to 100 kWp), a year at 30 minutes, every key of the DSO and
the fairer and economic ones, and the optimal key when the ``optimize`` extra is installed;
then, for one month, the dynamic key file the DSO would receive, the members' statements and
the operator's report, and the year's per-step results as Parquet.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from repartition import errors, keys
from repartition._atomic import atomic_directory
from repartition.compare import compare
from repartition.engine import allocate
from repartition.io import write_dynamic_key, write_results
from repartition.keys import SharingKey
from repartition.metrics import Tariffs
from repartition.profiles import village
from repartition.report import Charge, Members, month_report, write_month
from repartition.synthetic import demo_keys
from repartition.to_key import to_dynamic_key

__all__ = ["HOME_TARIFF", "DemoResult", "run_demo"]

HOME_TARIFF = 0.2516
"""The homes' supplier price [EUR/kWh]: the regulated base tariff (TRVE) of 2025."""
BUILDING_TARIFF = 0.2000
"""The public buildings' and the bakery's [EUR/kWh]."""
LOCAL_PRICE = 0.12
"""What members pay the town for local energy [EUR/kWh]."""
SURPLUS_PRICE = 0.04
"""What the surplus is sold for [EUR/kWh]."""
CHARGES = (
    Charge("Accise sur l'électricité", "complement", 0.0225),
    Charge("TURPE, part énergie (autoconsommation)", "autocons", 0.0102),
)
"""The demo's taxes and network charges per kWh (illustrative rates: a PMO enters its own)."""


@dataclass
class DemoResult:
    """What the demo computed and where its files are."""

    comparison: pd.DataFrame
    chosen: str
    folder: Path | None
    files: list[Path] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    consumption: pd.DataFrame | None = None
    production: pd.DataFrame | None = None


def village_members(directory: pd.DataFrame) -> Members:
    """The village's members table, with the demo's prices."""
    table = directory.reset_index()[["prm", "name", "role", "kind"]].rename(
        columns={"kind": "type"}
    )
    homes = table["type"] == "household"
    consumers = table["role"] == "consumer"
    table["tariff"] = ""
    table.loc[consumers & homes, "tariff"] = str(HOME_TARIFF)
    table.loc[consumers & ~homes, "tariff"] = str(BUILDING_TARIFF)
    table["local_price"] = ""
    table["surplus_price"] = ""
    table.loc[~consumers, "local_price"] = str(LOCAL_PRICE)
    table.loc[~consumers, "surplus_price"] = str(SURPLUS_PRICE)
    return Members.from_frame(table.astype(str))


def demo_candidates(
    consumption: pd.DataFrame, production: pd.DataFrame, tariffs: Tariffs, optimal: bool
) -> dict[str, SharingKey]:
    """The keys the demo compares: the DSO's, the fair and economic ones, the optimal."""
    coefficients = demo_keys(consumption, production)
    retail = tariffs.retail
    assert isinstance(retail, pd.Series)
    candidates: dict[str, SharingKey] = {
        "Prorata (DSO default)": keys.Prorata(),
        "Static, by annual consumption": keys.Static(coefficients.static),
        "Static, redistributed": keys.Static(coefficients.static, redistribute=True),
        "Dynamic, yesterday's shares": keys.Dynamic(coefficients.dynamic),
        "Full dynamic, neighbours first": keys.FullDynamic(coefficients.full_dynamic),
        "Equal share": keys.EqualShare(),
        "Economic greedy": keys.EconomicGreedy(retail - LOCAL_PRICE),
    }
    if optimal:
        from repartition.optimize import MaxSavings, MinSelfSufficiency, OptimalKey

        candidates["Optimal: max savings, 5 % each"] = OptimalKey(
            MaxSavings(tariffs), (MinSelfSufficiency(0.05),)
        )
    return candidates


def _optimize_installed() -> bool:
    """Whether the ``optimize`` extra's solvers are installed (found, not imported)."""
    return all(importlib.util.find_spec(name) is not None for name in ("highspy", "ortools"))


@contextlib.contextmanager
def _timed(seconds: dict[str, float], name: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    seconds[name] = time.perf_counter() - start


def run_demo(
    output: str | os.PathLike[str] | None = "repartition-demo",
    *,
    year: int = 2025,
    step: str = "30min",
    seed: int = 0,
    month: str | None = None,
    optimal: bool | None = None,
    overwrite: bool = False,
    progress: Callable[[str], None] | None = None,
) -> DemoResult:
    """The village's year with every key, and a month's files in ``output``.

    Parameters
    ----------
    output : path or None
        The folder written (all or nothing); ``None`` writes nothing.
    year, step, seed
        The year, its step and the seed of the profiles.
    month : str, optional
        ``"YYYY-MM"`` of the files; June of ``year`` by default.
    optimal : bool, optional
        Add the optimal key (default: when the ``optimize`` extra is installed).
    overwrite : bool
        Replace an existing ``output``.
    progress : callable, optional
        Called with the name of each stage as it starts.

    Returns
    -------
    DemoResult
    """
    say = progress or (lambda _: None)
    seconds: dict[str, float] = {}
    month = month or f"{year}-06"
    if optimal is None:
        optimal = _optimize_installed()
    say("building the village's year (pvlib, BDEW profiles, French calendar)")
    with _timed(seconds, "profiles"):
        community = village(seed)
        consumption, production = community.tables(year, step, seed=seed)
    members = village_members(community.directory)
    index = pd.DatetimeIndex(consumption.index)
    tariffs = members.tariffs(index)
    candidates = demo_candidates(consumption, production, tariffs, optimal)
    say(f"allocating the year with {len(candidates)} keys")
    with _timed(seconds, "keys"):
        table = compare(consumption, production, candidates, tariffs=tariffs, timed=True)
    chosen = next(reversed(candidates)) if optimal else "Dynamic, yesterday's shares"
    result = DemoResult(table, chosen, None, [], seconds, consumption, production)
    if output is None:
        return result
    selected = index.strftime("%Y-%m") == month
    if not selected.any():
        raise errors.ParameterError(f"month {month!r} is not in the demo's year {year}.")
    say(f"writing {month}'s key file, statements and report")
    with _timed(seconds, "files"):
        year_allocation = allocate(consumption, production, candidates[chosen])
        month_allocation = allocate(consumption[selected], production[selected], candidates[chosen])
        target = Path(output)
        with atomic_directory(target, overwrite=overwrite) as staging:
            write_results(staging / "results.parquet", year_allocation)
            key_file = write_dynamic_key(
                to_dynamic_key(month_allocation),
                staging,
                "VILLAGE-DEMO",
                consumption=consumption[selected],
                production=production[selected],
            )
            rounding_loss = float(key_file.rounding_loss.sum())
            others = compare(
                consumption[selected], production[selected], candidates, tariffs=tariffs
            )
            report = month_report(
                month_allocation,
                members,
                tariffs,
                charges=CHARGES,
                key=chosen,
                operation_name=community.name,
                rounding_loss=rounding_loss,
                comparison=others,
            )
            write_month(report, staging / "statements", formats=("html", "xlsx"))
            table.to_csv(staging / "comparison.csv", sep=";", decimal=",")
        result.folder = target
        result.files = sorted(p for p in target.rglob("*") if p.is_file())
    return result
