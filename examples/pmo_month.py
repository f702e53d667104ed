"""A PMO's month: from the DSO's load-curve CSV exports to the key file and monthly totals.

Run with ``python examples/pmo_month.py [output folder]``. The walk-through is in
docs/io.md. To stay self-contained, the script first writes Enedis-like exports of a
synthetic operation (12 consumers, 2 PV plants, 2025); with real exports, start at step 1.
"""

import sys
import tempfile
from pathlib import Path

import pandas as pd

from repartition import allocate, keys, to_dynamic_key
from repartition.io import (
    read_load_curves,
    write_dso_results,
    write_dynamic_key,
    write_monthly_totals,
)
from repartition.synthetic import synthetic_community
from repartition.synthetic.enedis import write_enedis_export
from repartition.time import select_month

folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp())
consumption, production = synthetic_community(consumers=12, producers=2, seed=7)
consumption.columns = [f"300000000000{i:02d}" for i in range(1, 13)]
production.columns = ["50000000000001", "50000000000002"]
exports = [
    write_enedis_export(folder / "exports" / "cons.csv", consumption=consumption),
    write_enedis_export(folder / "exports" / "prod.csv", production=production),
]

# 1. Read the exports: mean power in W at the end of each step -> kWh per step start (UTC).
curves = read_load_curves(exports)
print(curves)
assert curves.missing.empty, curves.missing  # holes are reported, never filled

# 2. One month, in local time (November 2025: 30 days x 48 half-hours).
month_consumption = select_month(curves.consumption, "2025-11")
month_production = select_month(curves.production, "2025-11")

# 3. Share it: static key on annual consumption, redistributing what saturated consumers
#    cannot use (the exact water-filling limit), then compute the dynamic key that makes
#    the DSO's rule reproduce it.
shares = curves.consumption.sum() / curves.consumption.sum().sum()
allocation = allocate(month_consumption, month_production, keys.Static(shares, redistribute=True))
print(allocation.summary())
coefficients = to_dynamic_key(allocation)

# 4. The key file for the DSO (rounded down to 0.01 %, so no row sums above 100 %), and
#    what that rounding costs the operation; "recover" gives back what rounding down takes
#    from consumers the key saturates anyway.
for rounding in ("down", "recover"):
    key_file = write_dynamic_key(
        coefficients,
        folder / "keys",
        "OPE123",
        consumption=month_consumption,
        production=month_production,
        rounding=rounding,
        overwrite=True,
    )
    print(f"energy lost to the rounding ({rounding}): {key_file.energy_lost_kwh:.3f} kWh")
print(f"key file: {key_file.path.name}, {len(key_file.coefficients)} steps")

# 5. Per-step results as the DSO reports them, and monthly totals per member.
write_dso_results(allocation, folder / "results" / "2025-11_steps.csv")
totals = write_monthly_totals(allocation, folder / "results" / "2025-11_totals.csv")
print(f"written in {folder}: {totals.name} and the per-step results")

# 6. What the PMO sends its members: a statement each (HTML for "print to PDF", Excel, CSV)
#    and the operator's report, with names and euros from the members table
#    (repartition[report]; docs/report.md). Prices and the excise rate are illustrative.
from repartition.report import Charge, Members, month_report, write_month  # noqa: E402

members = Members.from_frame(
    pd.DataFrame(
        {
            "prm": [*month_consumption.columns, *month_production.columns],
            "name": [f"Foyer {i}" for i in range(1, 13)] + ["Toit de l'école", "Toit du gymnase"],
            "role": ["consommateur"] * 12 + ["producteur"] * 2,
            "tariff": ["0,2516"] * 12 + ["", ""],
            "local_price": [""] * 12 + ["0,12", "0,10"],
            "surplus_price": [""] * 12 + ["0,04", "0,04"],
        }
    )
)
report = month_report(
    allocation,
    members,
    members.tariffs(month_consumption.index),
    charges=[Charge("Accise sur l'électricité", "complement", 0.0225)],
    key="static, redistributed",
    operation_name="OPE123",
    rounding_loss=key_file.energy_lost_kwh,
)
written = write_month(report, folder / "statements", overwrite=True)
print(f"statements: {len(written)} files in {folder / 'statements'}")
