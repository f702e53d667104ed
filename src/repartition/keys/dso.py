"""The keys the DSO applies itself (*clés de répartition*): prorata, static, dynamic, full dynamic.

A key knows its parameters, checks them against the members and steps of the data it is
applied to, and hands the kernel that computes it plain arrays. Pass one to
:func:`repartition.allocate` (tables) or :func:`repartition.allocate_arrays` (arrays).

Keys whose coefficients are labelled (a mapping, ``pd.Series`` or ``pd.DataFrame``) are
matched to the data by member id and timestamp; keys given plain NumPy arrays are taken
in the data's column (and row) order.

Coefficient sums may exceed 1 by at most :data:`SUM_TOLERANCE` (``1e-9``), to absorb
the rounding of keys computed elsewhere; such sums are scaled to exactly 1 before use, so
that no step allocates more than is produced. Beyond the tolerance they are rejected.

References
----------
Code de l'énergie, articles L315-2 and D315-1 to D315-11; Enedis, *Autoconsommation
collective: répartition de la production* (static, default dynamic and dynamic keys).
See ``docs/keys.md`` for each formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._align import (
    SUM_TOLERANCE,
    check_scanned_rows,
    checked_rows,
    producer_tables,
    static_shares,
    step_table,
)
from repartition.allocation import PairSplit, ReadOnlyArrays, Shares, Tables
from repartition.kernels import dynamic, full_dynamic, prorata, static, water_filling
from repartition.keys._base import SharingKey
from repartition.problem import Problem

__all__ = ["SUM_TOLERANCE", "Dynamic", "FullDynamic", "Prorata", "Static"]

Array = NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Prorata(SharingKey):
    """Default dynamic key (*clé dynamique par défaut*), applied by the DSO when none is sent.

    ``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``, and 0 when nobody consumes:
    each consumer receives the same fraction of its own consumption.

    Germany's consumption-proportional key for shared building supply (*gemeinschaftliche
    Gebäudeversorgung*, §42b EnWG) is this rule on 15-minute data.

    Computed by :func:`repartition.kernels.prorata.run`: ``prorata_rows`` on row-major data,
    ``prorata_members`` on member-major data (pandas' usual layout).
    """

    name: ClassVar[str] = "prorata"

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        outputs = prorata.run(
            consumption,
            production,
            consumption_total=axis.consumption_total,
            out=axis.outputs,
        )
        return Shares(*outputs)


@dataclass(frozen=True, eq=False)
class Static(SharingKey):
    """Static key (*clé statique*): a fixed share of the pooled production per consumer.

    DSO rule (the default): ``A[t, i] = min(C[t, i], k_i * P_tot[t])``; what a consumer
    cannot use becomes surplus, it is **not** redistributed.

    Germany's constant key for shared building supply (*gemeinschaftliche Gebäudeversorgung*,
    §42b EnWG) is this rule (``redistribute=False``) on 15-minute data.

    Parameters
    ----------
    coefficients : mapping, pandas.Series or 1-D array
        Consumer id -> share ``k_i`` in [0, 1], with ``sum_i k_i <= 1``. Every consumer
        of the data needs one (write 0 explicitly). A plain array is taken in the order of
        the consumption's columns.
    redistribute : bool, default False
        Give consumers the exact limit of redistribution (water-filling): the level
        ``L[t] >= P_tot[t]`` such that ``sum_i min(C[t, i], k_i * L[t]) = min(P_tot[t],
        sum_{k_i > 0} C[t, i])``, and ``A[t, i] = min(C[t, i], k_i * L[t])``. Consumers
        with ``k_i = 0`` receive nothing.
    rounds : int, optional
        Apply exactly this many redistribution rounds after the DSO's first pass. A round
        gives what is still unallocated, ``P_tot[t] - sum_i A[t, i]``, to the consumers not
        yet saturated (``k_i > 0`` and ``A < C``), in proportion to their coefficients,
        each capped by its consumption. ``rounds=0`` is the DSO's rule; as ``rounds``
        grows the result reaches ``redistribute=True`` (at most one round per consumer).

    Notes
    -----
    Redistribution hands on everything still unallocated, including the share
    ``1 - sum_i k_i`` that no coefficient covers, as the limit of docs/rules.md, "Static
    key with redistribution", prescribes: with redistribution, coefficients act as
    relative weights. Operators apply 1 to 3 rounds (HubWatt's *égalitaire avec
    réaffectation*); the Belgian "optimal" key is the limit.

    Computed by :func:`repartition.kernels.static.run` (DSO rule) and
    :func:`repartition.kernels.water_filling.run` (rounds, redistribute), each with a kernel
    for row-major and one for member-major data.
    """

    coefficients: Mapping[Any, float] | pd.Series | Sequence[float] | np.ndarray
    redistribute: bool = False
    rounds: int | None = None
    name: ClassVar[str] = "static"

    def __post_init__(self) -> None:
        if not isinstance(self.redistribute, bool | np.bool_):
            raise errors.ParameterTypeError(
                f"redistribute must be True or False, not {self.redistribute!r}."
            )
        if self.redistribute and self.rounds is not None:
            raise errors.ParameterError(
                "Static takes redistribute=True (the exact limit) or rounds=k, not both."
            )
        if self.rounds is not None and (
            isinstance(self.rounds, bool) or not isinstance(self.rounds, int | np.integer)
        ):
            raise errors.ParameterTypeError(f"rounds must be a whole number, not {self.rounds!r}.")
        if self.rounds is not None and self.rounds < 0:
            raise errors.ParameterError(f"rounds must be >= 0, not {self.rounds}.")

    def label(self) -> str:
        if self.redistribute:
            return "static, redistributed"
        if self.rounds:
            return f"static, {self.rounds} round{'s' if self.rounds > 1 else ''}"
        return "static"

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        coefficients = static_shares(self.coefficients, axis.consumers, "Static")
        if not self.redistribute and not self.rounds:
            return Shares(*static.run(consumption, production, coefficients, out=axis.outputs))
        rounds = water_filling.EXACT if self.redistribute else int(self.rounds or 0)
        allocated, grid_supply, self_consumed, surplus, passes = water_filling.run(
            consumption, production, coefficients, rounds, out=axis.outputs
        )
        return Shares(allocated, grid_supply, self_consumed, surplus, passes=passes)


@dataclass(frozen=True, eq=False)
class Dynamic(SharingKey):
    """Dynamic key (*clé dynamique simple*): the PMO sends a share per consumer and step.

    ``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``, with ``sum_i k[t, i] <= 1``. A step
    whose row is all NaN (no key sent) falls back to the default key, :class:`Prorata`
    (*assumption*, following the law's default). A row with only some NaN is an error.

    Parameters
    ----------
    coefficients : pandas.DataFrame or 2-D array
        Steps x consumers shares in [0, 1]. A frame is matched by timestamp and consumer
        id and must hold a row for every step of the data (extra rows are ignored, so a
        year of keys can serve one month); reindex it on the data's index to send NaN
        rows explicitly. A plain array must have the data's shape.

    Computed by :func:`repartition.kernels.dynamic.run` (``dynamic_rows`` or, on member-major
    data, ``dynamic_members``); the coefficients are read in the consumption's layout (copied
    into it once if they differ).
    """

    coefficients: pd.DataFrame | np.ndarray
    name: ClassVar[str] = "dynamic"

    def step_tables(self) -> dict[str, Any]:
        return {"coefficients": self.coefficients}

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        coefficients = step_table(self.coefficients, axis, "Dynamic")
        coefficients = checked_rows(coefficients, axis, "Dynamic", allow_missing_rows=True)
        outputs = dynamic.run(
            consumption,
            production,
            coefficients,
            consumption_total=axis.consumption_total,
            out=axis.outputs,
        )
        return Shares(*outputs)


@dataclass(frozen=True, eq=False)
class FullDynamic(SharingKey):
    """Full dynamic key (*clé full dynamique*): a share per producer, consumer and step.

    ``A[t, j, i] = k[t, j, i] * P[t, j]`` with ``sum_i k[t, j, i] <= 1`` for each producer.
    Where a consumer is offered more than it consumes, ``sum_j A[t, j, i] > C[t, i]``, its
    pair shares are all scaled down by the same factor so that they sum to ``C[t, i]``
    (*assumption*: docs/rules.md, "Full dynamic key"). Every coefficient must be given
    (NaN is an error).

    Parameters
    ----------
    coefficients : mapping producer id -> pandas.DataFrame or 2-D array, or 3-D array
        One steps x consumers table per producer, matched like :class:`Dynamic`'s; or an
        array of shape (producers, steps, consumers) (or a sequence of (steps, consumers)
        arrays) in the data's order. Each table may be stored row-major or member-major
        (pandas' usual layout), independently of the others and of the consumption.

    Notes
    -----
    The key holds references to the caller's tables, like any value built from its
    inputs, and so do its results: the tables are read in place (read-only views, no
    copy, in whichever layout they come) and :meth:`~repartition.allocation.Allocation.flows`
    is rebuilt from them, with the scale of each consumer's pair shares recomputed from
    AUTOCONS. A caller who modifies its tables after the allocation changes the flows it
    reports (not AUTOCONS, COMPLEMENT, AUTOPROD or SURPLUS): pass copies to keep them
    apart.

    Computed by :func:`repartition.kernels.full_dynamic.run`: one pass that reads each
    table once, computing the rule and the coefficients' checks together; bad coefficients
    raise their error (naming the producer, the consumer and the step) before any result
    is returned. No (steps, producers, consumers) array is ever built.
    """

    coefficients: Mapping[Any, pd.DataFrame | np.ndarray] | np.ndarray
    name: ClassVar[str] = "full dynamic"

    def step_tables(self) -> dict[str, Any]:
        if isinstance(self.coefficients, Mapping):
            return {
                f"coefficients[{producer!r}]": table
                for producer, table in self.coefficients.items()
            }
        array = np.asarray(self.coefficients)
        if array.ndim != 3:
            return {"coefficients": array}  # allocate names what is wrong with it
        return {f"coefficients[{j}]": table for j, table in enumerate(array)}

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        tables = producer_tables(self.coefficients, axis, "FullDynamic")
        allocated, grid_supply, self_consumed, surplus, scan = full_dynamic.run(
            consumption, production, tables, limit=1.0 + SUM_TOLERANCE, out=axis.outputs
        )
        for j, producer in enumerate(axis.producers):
            name = f"FullDynamic[{producer!r}]"
            check_scanned_rows(tables[j], scan.sums[j], int(scan.bad[j]), axis, name)
        split = PairSplit(
            tables_for=_FullDynamicTables(allocated, production, tables, scan.divisor)
        )
        return Shares(allocated, grid_supply, self_consumed, surplus, split=split)


@dataclass(frozen=True, eq=False)
class _FullDynamicTables(ReadOnlyArrays):
    """The flows' tables of :class:`FullDynamic`, for a window of steps: the key's tables
    (divided by their row sums where these are above 1) and the scale of each consumer's
    pair shares, rebuilt from AUTOCONS (:func:`repartition.kernels.full_dynamic.window_scale`).
    Data, not a closure, so that a result pickles."""

    allocated: Array
    production: Array
    tables: list[Array]
    divisor: Array | None

    def __call__(self, start: int, stop: int) -> Tables:
        scale = full_dynamic.window_scale(
            self.allocated, self.production, self.tables, self.divisor, start, stop
        )
        windows = [table[start:stop] for table in self.tables]
        if self.divisor is not None:
            divisor = self.divisor[start:stop]
            windows = [
                window / divisor[:, j, None] if (divisor[:, j] != 1.0).any() else window
                for j, window in enumerate(windows)
            ]
        return windows, scale
