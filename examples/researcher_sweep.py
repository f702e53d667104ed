"""A researcher's sweep: every strategy on many synthetic communities, and a plot.

Run with ``python examples/researcher_sweep.py [communities] [output.png]`` (100
communities by default; the tests run 4). Each community is drawn by
``repartition.profiles.generate`` (homes, a school, PV sized to the homes; real profiles
from pvlib and the BDEW load profiles, a year at 1 h to keep the sweep short), every
strategy shares its year, and the plot shows how each strategy's savings and fairness
spread across the communities. For thousands of communities on a cluster, see the Dask
sweep (issue 15).
"""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from repartition import compare, keys
from repartition.metrics import Tariffs
from repartition.profiles import generate

communities = int(sys.argv[1]) if len(sys.argv) > 1 else 100
output = Path(sys.argv[2]) if len(sys.argv) > 2 else Path("sweep.png")
rng = np.random.default_rng(0)
rows = []
for number in range(communities):
    homes = int(rng.integers(10, 60))
    community = generate(
        homes,
        buildings=(("school", "École", 30_000.0),),
        kwp_per_home=float(rng.uniform(0.5, 2.0)),
        seed=number,
    )
    consumption, production = community.tables(2025, "1h", seed=number)
    retail = pd.Series(
        np.where(consumption.columns.str.startswith("30000000001"), 0.20, 0.2516),
        index=consumption.columns,
    )
    tariffs = Tariffs(retail=retail, local=0.12, surplus=0.04)
    strategies = {
        "Prorata": keys.Prorata(),
        "Static (annual shares)": keys.Static(consumption.sum() / consumption.sum().sum()),
        "Equal share": keys.EqualShare(),
        "Economic greedy": keys.EconomicGreedy(retail - 0.12),
    }
    table = compare(consumption, production, strategies, tariffs=tariffs)
    table["community"] = number
    table["kwp_per_home"] = sum(p.kwp for p in community.plants) / homes
    rows.append(table)

results = pd.concat(rows).rename_axis("strategy").reset_index()
summary = results.groupby("strategy")[
    ["self_sufficiency_rate", "savings_total", "gini_self_sufficiency"]
].median()
print(f"{communities} communities, medians per strategy:")
print(summary.round(3).to_string())

figure, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
for name, group in results.groupby("strategy"):
    left.scatter(group["kwp_per_home"], 100 * group["self_sufficiency_rate"], s=12, label=name)
    right.scatter(group["gini_self_sufficiency"], group["savings_total"] / 1000, s=12, label=name)
left.set_xlabel("PV per home [kWp]")
left.set_ylabel("self-sufficiency [%]")
right.set_xlabel("Gini of the members' self-sufficiency [-]")
right.set_ylabel("members' savings [kEUR a year]")
right.legend(fontsize=8)
figure.suptitle(f"Every strategy on {communities} synthetic communities (a year at 1 h)")
figure.tight_layout()
figure.savefig(output, dpi=100)
print(f"plot: {output}")
