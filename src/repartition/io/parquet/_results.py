"""Results datasets: what :func:`repartition.io.parquet.read_results` returns, and what
their ``_repartition.json`` records (totals per month, the rows and bytes of each month's
file, the key's fingerprint)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow.parquet as pq

from repartition.allocation import AllocationSummary
from repartition.io.parquet._dataset import CONSUMER, ENERGY, PRODUCER, DatasetInfo
from repartition.io.parquet._write import AUTOCONS, AUTOPROD, COMPLEMENT, SURPLUS, Part, member_ids
from repartition.keys._fingerprint import key_fingerprint

if TYPE_CHECKING:
    from repartition.allocation import Allocation

__all__ = [
    "ResultTables",
    "file_record",
    "month_totals",
    "results_info",
    "results_parts",
    "summary_of",
]


@dataclass(frozen=True, eq=False)
class ResultTables:
    """An allocation read back from a results dataset: the DSO's six per-member tables.

    Attributes
    ----------
    consumption, allocated, grid_supply : pandas.DataFrame
        Per consumer: CONS, AUTOCONS and COMPLEMENT. [kWh per step]
    production, self_consumed, surplus : pandas.DataFrame
        Per producer: PROD, AUTOPROD and SURPLUS. [kWh per step]
    key : str or None
        The label of the key that computed them.
    """

    consumption: pd.DataFrame
    allocated: pd.DataFrame
    grid_supply: pd.DataFrame
    production: pd.DataFrame
    self_consumed: pd.DataFrame
    surplus: pd.DataFrame
    key: str | None = None

    def summary(self) -> AllocationSummary:
        """Totals and rates, as :meth:`repartition.Allocation.summary` computes them."""
        return summary_of(
            {
                "allocated_kwh": float(self.allocated.to_numpy().sum()),
                "grid_supply_kwh": float(self.grid_supply.to_numpy().sum()),
                "production_kwh": float(self.production.to_numpy().sum()),
                "surplus_kwh": float(self.surplus.to_numpy().sum()),
            }
        )


def month_totals(allocation: Allocation, steps: slice) -> dict[str, float]:
    """Summed CONS, PROD, AUTOCONS, COMPLEMENT and SURPLUS over ``steps``. [kWh]"""
    arrays = allocation.arrays
    allocated = float(arrays.allocated[steps].sum())
    grid_supply = float(arrays.grid_supply[steps].sum())
    return {
        "consumption_kwh": allocated + grid_supply,
        "production_kwh": float(arrays.production[steps].sum()),
        "allocated_kwh": allocated,
        "grid_supply_kwh": grid_supply,
        "surplus_kwh": float(arrays.surplus[steps].sum()),
    }


def summary_of(totals: dict[str, float]) -> AllocationSummary:
    """An :class:`AllocationSummary` from summed energies (consumption = allocated + grid
    supply, as :meth:`repartition.Allocation.summary` defines it). [kWh]"""
    allocated, production = totals["allocated_kwh"], totals["production_kwh"]
    consumption = allocated + totals["grid_supply_kwh"]
    return AllocationSummary(
        consumption_kwh=consumption,
        production_kwh=production,
        allocated_kwh=allocated,
        grid_supply_kwh=totals["grid_supply_kwh"],
        surplus_kwh=totals["surplus_kwh"],
        self_consumption_rate=allocated / production if production > 0 else float("nan"),
        self_sufficiency_rate=allocated / consumption if consumption > 0 else float("nan"),
    )


def results_parts(allocation: Allocation) -> list[Part]:
    """The consumer and producer parts of an allocation, as (members, steps) arrays."""
    arrays = allocation.arrays
    consumers = member_ids(allocation.consumers, "consumption")
    producers = member_ids(allocation.producers, "production")
    return [
        Part(
            CONSUMER,
            consumers,
            {
                ENERGY: arrays.consumption.T,
                AUTOCONS: arrays.allocated.T,
                COMPLEMENT: arrays.grid_supply.T,
            },
        ),
        Part(
            PRODUCER,
            producers,
            {
                ENERGY: arrays.production.T,
                AUTOPROD: arrays.self_consumed.T,
                SURPLUS: arrays.surplus.T,
            },
        ),
    ]


def results_info(
    allocation: Allocation,
    step: pd.Timedelta,
    tz: str,
    months: dict[str, dict[str, float]],
    written: dict[str, dict[str, int]],
) -> DatasetInfo:
    """The ``_repartition.json`` of a results dataset written at once: key, months written
    (totals, and rows and bytes of each month's file) and the period."""
    extra: dict[str, Any] = {
        "key": allocation.key.label(),
        "key_fingerprint": key_fingerprint(allocation.key),
        "months": {label: months[label] for label in sorted(months)},
        "files": {label: written[label] for label in sorted(written)},
    }
    return DatasetInfo(
        "results",
        "long",
        tz,
        step,
        tuple(str(m) for m in allocation.consumers),
        tuple(str(m) for m in allocation.producers),
        extra,
        allocation.index[0].tz_convert("UTC"),
        allocation.index[-1].tz_convert("UTC"),
    )


def file_record(path: Path) -> dict[str, int]:
    """The rows and bytes of a written file, as the manifest records them."""
    return {"rows": int(pq.read_metadata(str(path)).num_rows), "bytes": path.stat().st_size}
