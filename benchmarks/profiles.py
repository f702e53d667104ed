"""repartition.profiles' PV model timed against a loop of pvlib ModelChain runs, in the same
run, on the same weather.

Usage (from the repository root)::

    python benchmarks/profiles.py                 # 100 plants x a year at 30 min
    python benchmarks/profiles.py --plants 20 --repeat 1 --output run.md

Cases: ``--plants`` plants in one village (Clermont-Ferrand, the stochastic weather of seed
1 at the model's instants, the middle of each 15-minute part of each 30-minute step):

- **a village's roofs**: sizes from 3 to 100 kWp, tilts of 15, 30 or 45 deg, facing east,
  south-east, south, south-west or west: at most 15 distinct configurations;
- **every plant different**: tilt, azimuth, losses, DC/AC ratio and mounting drawn per plant.

``production`` end to end (weather interpolation, the sun, the chain, the energy per step),
warm, best of ``--repeat``, against the **baseline**: one ``ModelChain.run_model`` per plant
with the same models (``repartition.profiles.modelchain_power``), the way pvlib's users
simulate many plants today (pvlib issue #2120), then the same energy per step. The largest
relative difference between the two, over every plant and step, is printed with the ratio.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from repartition.profiles import (
    CLERMONT_FERRAND,
    Plant,
    modelchain_power,
    production,
    sample_times,
    stochastic_weather,
    time_index,
)


def village(count: int) -> list[Plant]:
    rng = np.random.default_rng(0)
    return [
        Plant(
            f"roof_{k:03d}",
            CLERMONT_FERRAND,
            kwp=float(np.round(rng.uniform(3, 100), 1)),
            tilt=float(rng.choice([15.0, 30.0, 45.0])),
            azimuth=float(rng.choice([90.0, 135.0, 180.0, 225.0, 270.0])),
        )
        for k in range(count)
    ]


def all_different(count: int) -> list[Plant]:
    rng = np.random.default_rng(1)
    mountings = ["open_rack_glass_polymer", "close_mount_glass_glass"]
    return [
        Plant(
            f"plant_{k:03d}",
            CLERMONT_FERRAND,
            kwp=float(rng.uniform(3, 100)),
            tilt=float(rng.uniform(0, 60)),
            azimuth=float(rng.uniform(90, 270)),
            losses=float(rng.uniform(8, 18)),
            dc_ac_ratio=float(rng.uniform(1.0, 1.4)),
            temperature_model=mountings[k % 2],  # type: ignore[arg-type]
        )
        for k in range(count)
    ]


def measure(plants: list[Plant], repeat: int) -> tuple[float, float, float, int]:
    index = time_index(2025, "30min")
    weather = stochastic_weather(CLERMONT_FERRAND, sample_times(index, pd.Timedelta("30min")), 1)
    times = []
    table = None
    for _ in range(repeat):
        start = time.perf_counter()
        table = production(plants, index, weather=weather)
        times.append(time.perf_counter() - start)
    assert table is not None
    start = time.perf_counter()
    worst = 0.0
    for plant in plants:
        power = modelchain_power(plant, weather).to_numpy()
        expected = power.reshape(len(index), 2).mean(axis=1) * 0.5 / 1000.0
        got = table[plant.name].to_numpy()
        lit = expected > 0
        worst = max(worst, float(np.max(np.abs(got[lit] - expected[lit]) / expected[lit])))
        if (got[~lit] != 0).any():
            worst = float("inf")
    loop = time.perf_counter() - start
    distinct = len({plant.configuration for plant in plants})
    return min(times), loop, worst, distinct


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plants", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args(argv)
    lines = [
        f"{arguments.plants} plants x a year at 30 min (17,520 steps, 35,040 instants), 2 cores:",
        "",
        "| plants | distinct configurations | production, end to end | ModelChain loop "
        "| speed-up | largest relative difference |",
        "| :--- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, plants in (
        ("a village's roofs", village(arguments.plants)),
        ("every plant different", all_different(arguments.plants)),
    ):
        ours, loop, worst, distinct = measure(plants, arguments.repeat)
        lines.append(
            f"| {label} | {distinct} | {ours:.3f} s | {loop:.2f} s | {loop / ours:.0f}x "
            f"| {worst:.1e} |"
        )
    text = "\n".join(lines)
    print(text)
    if arguments.output is not None:
        arguments.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
