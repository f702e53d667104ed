"""The figures of docs/profiles.md: a typical week of each profile, winter and summer.

Run from the repository root (the tests run it too, into a temporary directory)::

    python docs/figures/profiles.py            # writes docs/figures/profiles/*.png
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "src"))

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from repartition.profiles import (
    KINDS,
    PUY_DE_DOME_VILLAGE,
    Consumer,
    Plant,
    consumption,
    production,
    time_index,
)

WEEKS = {"winter (13-19 January 2025)": "2025-01-13", "summer (16-22 June 2025)": "2025-06-16"}
TITLES = {
    "household": "Household, 4,500 kWh a year (BDEW H25)",
    "household_heated": "Household with electric heating, 8,000 kWh a year",
    "household_pv": "Household with a 3 kWp roof of its own, 4,500 kWh a year",
    "office": "Office, 20,000 kWh a year (BDEW G25)",
    "farm": "Farm, 30,000 kWh a year (BDEW L25)",
    "school": "Primary school, 32,000 kWh a year",
    "gymnasium": "Gymnasium, 24,000 kWh a year",
    "swimming_pool": "Swimming pool, 260,000 kWh a year",
    "town_hall": "Town hall, 18,000 kWh a year",
    "shop": "Bakery, 28,000 kWh a year",
}
ANNUAL = {
    "household": 4_500.0,
    "office": 20_000.0,
    "farm": 30_000.0,
    "school": 32_000.0,
    "gymnasium": 24_000.0,
    "swimming_pool": 260_000.0,
    "town_hall": 18_000.0,
    "shop": 28_000.0,
}


def draw(output: Path) -> list[Path]:
    """Every figure, written to ``output``; their paths."""
    output.mkdir(parents=True, exist_ok=True)
    index = time_index(2025, "30min")
    members = [Consumer(kind, kind, ANNUAL[kind]) for kind in KINDS]  # type: ignore[arg-type]
    members += [
        Consumer("household_heated", "household", 8_000.0, electric_heating=True),
        Consumer("household_pv", "household", 4_500.0, pv_kwp=3.0),
    ]
    loads = consumption(members, index, location=PUY_DE_DOME_VILLAGE, seed=1) * 2.0  # kW
    roof = [Plant("roof", PUY_DE_DOME_VILLAGE, 9.0)]
    written = []
    for name, title in TITLES.items():
        written.append(
            _week_figure(loads[name], title, "average power [kW]", output / f"{name}.png")
        )
    clear = production(roof, index, weather="clear_sky")["roof"] * 2.0
    cloudy = production(roof, index, seed=1)["roof"] * 2.0
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
    for axis, (label, start) in zip(axes, WEEKS.items(), strict=True):
        week = slice(
            pd.Timestamp(start, tz="Europe/Paris"),
            pd.Timestamp(start, tz="Europe/Paris") + pd.Timedelta(days=7),
        )
        axis.plot(clear.loc[week].index, clear.loc[week].to_numpy(), label="clear sky", color="0.6")
        axis.plot(
            cloudy.loc[week].index, cloudy.loc[week].to_numpy(), label="stochastic weather (seed 1)"
        )
        axis.set_title(label, fontsize=10)
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes[0].set_ylabel("AC power [kW]")
    axes[0].legend(fontsize=8)
    figure.suptitle("A 9 kWp roof facing south at 30 deg in the Puy-de-Dôme (pvlib, PVWatts)")
    figure.tight_layout()
    path = output / "pv_9kwp.png"
    figure.savefig(path, dpi=90)
    plt.close(figure)
    written.append(path)
    return written


def _week_figure(series: pd.Series, title: str, unit: str, path: Path) -> Path:
    figure, axes = plt.subplots(1, 2, figsize=(11, 3.2), sharey=True)
    for axis, (label, start) in zip(axes, WEEKS.items(), strict=True):
        first = pd.Timestamp(start, tz="Europe/Paris")
        week = series.loc[first : first + pd.Timedelta(days=7) - pd.Timedelta(minutes=30)]
        axis.plot(week.index, week.to_numpy())
        axis.set_title(label, fontsize=10)
        axis.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes[0].set_ylabel(unit)
    figure.suptitle(title)
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path(__file__).resolve().parent / "profiles")
    for path in draw(parser.parse_args().output):
        print(path)


if __name__ == "__main__":
    main()
