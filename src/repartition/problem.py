"""What a sharing key receives: the problem's arrays and its labelled axis.

:func:`repartition.allocate` checks the data once at the input boundary, then hands every
key a :class:`Problem`: the energies as read-only float64 arrays (consumption in either
memory layout, production row-major) and an :class:`Axis` that names the steps and members
(for error messages and labelled coefficients). A key returns a
:class:`~repartition.allocation.Shares`. See ``docs/adding-a-strategy.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

__all__ = ["Axis", "Problem"]

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Axis:
    """The labels of an allocation problem: its steps and its members (and, where the input
    scan computed them on the way, the per-step consumption totals).

    ``index`` is ``None`` for plain arrays, where steps are named by their row number.
    """

    steps: int
    consumers: pd.Index
    producers: pd.Index
    index: pd.DatetimeIndex | None = None
    step: pd.Timedelta | None = None
    consumption_total: Array | None = None
    """Per-step total consumption [kWh], when the input scan computed it (member-major data)."""
    outputs: tuple[Array, Array] | None = None
    """Where the key may write AUTOCONS and COMPLEMENT, when its caller provides them (views
    into a larger result, given by :class:`repartition.keys.PriorityCascade` to its groups'
    keys). A key that cannot use them allocates its own."""

    def timestamp(self, row: int) -> Any:
        """The label of step ``row``: its timestamp, or the row number for plain arrays."""
        return self.index[row] if self.index is not None else row

    def step_name(self, row: int) -> str:
        return f"step {self.timestamp(row)}" if self.index is not None else f"row {row}"


@dataclass(frozen=True, eq=False)
class Problem:
    """One allocation problem, checked: what :meth:`repartition.keys.SharingKey.share`
    receives.

    Attributes
    ----------
    consumption : ndarray, shape (steps, consumers)
        CONS, read-only float64, finite and >= 0, stored row-major or member-major (pandas'
        usual layout); kernels pick the layout (:mod:`repartition.kernels.layout`).
        [kWh per step]
    production : ndarray, shape (steps, producers)
        PROD, read-only, row-major float64, finite and >= 0. [kWh per step]
    axis : Axis
        The steps and members the rows and columns stand for.
    """

    consumption: Array
    production: Array
    axis: Axis
