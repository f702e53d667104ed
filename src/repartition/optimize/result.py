"""What :func:`repartition.optimize.optimize` returns."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from typing import IO, Any

import pandas as pd

from repartition.allocation import Allocation
from repartition.io.keyfile import KeyFile, write_dynamic_key, write_full_dynamic_key
from repartition.optimize._solve import PeriodReport
from repartition.to_key import to_dynamic_key

__all__ = ["OptimizationResult"]


@dataclass(frozen=True, eq=False)
class OptimizationResult:
    """An optimal allocation, its dynamic key, the storage schedule and the solver's report.

    Attributes
    ----------
    allocation : Allocation
        The optimum, the same type as :func:`repartition.allocate` returns (with a storage,
        it is one more consumer, charging, and one more producer, discharging, under the
        storage's id).
    periods : tuple of PeriodReport
        How each horizon was solved (see :attr:`report`).
    storage : pandas.DataFrame or None
        With a storage: ``charge``, ``discharge`` [kWh per step] and ``state_of_charge``
        [kWh, at the end of each step].
    full_dynamic : dict of pandas.DataFrame or None
        With ``MinBills(rank_producers=True)``: the full dynamic key, one steps x consumers
        table of fractions per producer id (the allocation is this key applied by the DSO's
        rule, :class:`repartition.keys.FullDynamic`).
    """

    allocation: Allocation
    periods: tuple[PeriodReport, ...]
    storage: pd.DataFrame | None = None
    full_dynamic: dict[str, pd.DataFrame] | None = None

    @property
    def report(self) -> pd.DataFrame:
        """One row per horizon: objective (and Prorata's and the reference's on the same
        objective), method, status, times, duality gap, program size."""
        return pd.DataFrame([asdict(period) for period in self.periods]).set_index("period")

    @property
    def objective(self) -> float:
        """The objective summed over the horizons (for MaxMinFairness: the smallest rate
        of any horizon)."""
        values = [period.objective for period in self.periods]
        if self.periods and self.periods[0].secondary is not None:
            return min(values)
        return float(sum(values))

    def coefficients(self) -> pd.DataFrame:
        """The dynamic key that makes the DSO's rule reproduce :attr:`allocation`
        (:func:`repartition.to_dynamic_key`): steps x consumers fractions. (With ranked
        producers, the key is :attr:`full_dynamic`.)"""
        return to_dynamic_key(self.allocation)

    def write_key_file(
        self,
        directory: str | os.PathLike[str] | IO[bytes] | IO[str],
        operation: str,
        **options: Any,
    ) -> KeyFile | dict[str, KeyFile]:
        """Write :meth:`coefficients` as the DSO's dynamic key file, with the rounding loss
        measured on this allocation's energies (:attr:`KeyFile.energy_lost`); with ranked
        producers, :attr:`full_dynamic` as one file per producer
        (:func:`repartition.io.write_full_dynamic_key`, a dict by producer id).

        ``options`` go to :func:`repartition.io.write_dynamic_key` (``rounding="recover"``,
        ``tz``, ``overwrite``, ``line_ending``).
        """
        if self.full_dynamic is not None:
            return write_full_dynamic_key(
                self.full_dynamic,
                directory,  # type: ignore[arg-type]
                operation,
                consumption=self.allocation.consumption,
                production=self.allocation.production,
                **options,
            )
        return write_dynamic_key(
            self.coefficients(),
            directory,
            operation,
            consumption=self.allocation.consumption,
            production=self.allocation.production,
            **options,
        )
