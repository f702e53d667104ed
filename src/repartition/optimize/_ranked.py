"""Min bills with the producers ranked by price: one variable per producer, consumer and
step, sent as a full dynamic key (docs/optimize.md, "Ranking the producers").

With a dynamic key the DSO attributes each kWh shared to the producers prorata of their
production, so all producers sell the same share of theirs, whatever their prices. With a
full dynamic key each producer shares its own production by its own coefficients
(``A[t, j, i] = k[t, j, i] P[t, j]``), so the optimiser can sell first the production whose
surplus is paid least, as Villena et al. (2020) rank producers. Columns: the cells ``(t, j,
i)`` with ``P[t, j] > 0`` and ``C[t, i] > 0``; rows: each producer's production at each step,
each consumer's consumption at each step (with two producers or more), each floor.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from repartition import errors
from repartition.kernels.attribution import pooled_production
from repartition.kernels.threads import get_threads
from repartition.keys import Prorata
from repartition.metrics.tariffs import producer_prices_on
from repartition.optimize import _lp
from repartition.optimize._plan import Plan
from repartition.optimize._solve import (
    TOLERANCE,
    PeriodReport,
    _bounds,
    _floors,
    _infeasible,
    _retail,
    _run_horizons,
    _Tables,
    highs_options,
    horizons,
)
from repartition.optimize.objectives import MaxSavings, MaxSelfConsumption, MinBills
from repartition.problem import Problem

__all__ = ["RankedSolution", "solve_ranked"]

Array = NDArray[np.float64]


@dataclass
class RankedSolution:
    """The optimal flows ``A[t, j, i]`` [kWh per step] and the reports."""

    flows: Array  # (producers, steps, consumers)
    reports: list[PeriodReport]


def _value(plan: Plan, tables: _Tables, rows: slice) -> Array:
    """The value of a kWh from producer j to consumer i at step t, (steps, producers,
    consumers). [EUR/kWh or per kWh]"""
    steps = rows.stop - rows.start
    producers = tables.production.shape[1]
    consumers = tables.consumption.shape[1]
    value = np.zeros((steps, producers, consumers))
    for objective in plan.linear:
        if isinstance(objective, MaxSelfConsumption):
            value += objective.weight
            continue
        assert isinstance(objective, MaxSavings | MinBills)
        field = "local" if isinstance(objective, MaxSavings) else "surplus"
        prices = producer_prices_on(objective.tariffs, field, tables.axis.producers)
        retail = np.broadcast_to(_retail(objective.tariffs, tables, rows), (steps, consumers))
        per_producer = np.broadcast_to(np.asarray(prices, dtype=np.float64), (producers,))
        value += objective.weight * (retail[:, None, :] - per_producer[None, :, None])
    return value


def _clean(flows: Array, upper: Array, production: Array, consumption: Array) -> Array:
    """Clip into the bounds; scale down a producer's step above its production, then a
    consumer's step above its consumption (rounding of the solver's tolerance)."""
    np.clip(flows, 0.0, upper, out=flows)
    given = flows.sum(axis=2)
    over = given > production
    if over.any():
        flows[over] *= (production[over] / given[over])[:, None]
    received = flows.sum(axis=1)
    over = received > consumption
    if over.any():
        factor = np.where(over, consumption / np.where(over, received, 1.0), 1.0)
        flows *= factor[:, None, :]
    return flows


def solve_ranked(problem: Problem, plan: Plan, *, progress: bool = False) -> RankedSolution:
    """Per-producer optimal flows of ``problem`` under ``plan`` (rank_producers=True)."""
    axis = problem.axis
    consumption = np.ascontiguousarray(problem.consumption)
    production = np.ascontiguousarray(problem.production)
    tables = _Tables(consumption, production, pooled_production(production), axis, {})
    tables.allocation_of(Prorata(), problem)
    steps, consumers = consumption.shape
    producers = production.shape[1]
    flows = np.zeros((steps, producers, consumers))
    spans = horizons(axis, plan.horizon, plan.tz)

    def one(period: str, rows: slice) -> PeriodReport:
        begun = time.perf_counter()
        C, P = consumption[rows], production[rows]
        upper = np.minimum(C[:, None, :], P[:, :, None])
        total = tables.production_total[rows]
        # A consumer's share of the pool A[t, i] = sum_j A[t, j, i], within the bounds of the
        # invariants, MaxPoolShare and ReferenceBounds (coefficients of P_tot, as pooled).
        pooled_lower, pooled_upper, _ = _bounds(plan, tables, problem, rows, period)
        np.minimum(upper, pooled_upper[:, None, :], out=upper)
        floors, community = _floors(plan, tables, rows, pooled_upper, period)
        value = _value(plan, tables, rows)
        t, j, i = np.nonzero(upper > 0)
        n, T = len(t), len(C)
        producer_rows = t * producers + j
        entries = [producer_rows]
        row_lower = [np.full(T * producers, -_lp.INFINITY)]
        row_upper = [P.ravel()]
        base = T * producers
        banded = bool((pooled_lower > 0).any())
        if producers > 1 or banded:
            entries.append(base + t * consumers + i)
            row_lower.append(np.where(pooled_lower > 0, pooled_lower, -_lp.INFINITY).ravel())
            row_upper.append(pooled_upper.ravel())
            base += T * consumers
        if floors is not None:
            entries.append(base + i)
            row_lower.append(np.where(np.isnan(floors), -_lp.INFINITY, floors))
            row_upper.append(np.full(consumers, _lp.INFINITY))
            base += consumers
        if community is not None:
            entries.append(np.full(n, base))
            row_lower.append(np.array([community]))
            row_upper.append(np.array([_lp.INFINITY]))
        lp = _lp.LinearProgram(
            cost=value[t, j, i],
            lower=np.zeros(n),
            upper=upper[t, j, i],
            row_lower=np.concatenate(row_lower),
            row_upper=np.concatenate(row_upper),
            rows=np.concatenate(entries).astype(np.int64),
            columns=np.tile(np.arange(n, dtype=np.int64), len(entries)),
            entries=np.ones(n * len(entries)),
        )
        built = time.perf_counter()
        solved = _lp.solve_highs(lp, highs_options(plan))
        if solved.status != "Optimal":
            raise _infeasible(
                f"no per-producer allocation meets every constraint in {period} "
                f"({plan.describe()}): {solved.status}. Relax the floors.",
                period,
                "MinSelfSufficiency",
            )
        result = np.zeros((T, producers, consumers))
        result[t, j, i] = solved.x
        result = _clean(result, upper, P, pooled_upper)
        received = result.sum(axis=(0, 1))
        if floors is not None:
            wanted = np.nan_to_num(floors, nan=0.0)
            missing = wanted - received > TOLERANCE * np.maximum(1.0, wanted) + 1e-7
            if missing.any():
                raise errors.SolverError(
                    f"The per-producer solution misses a floor in {period} after cleaning; "
                    "tighten the solver's tolerances."
                )
        flows[rows] = result
        objective = float((value * result).sum())
        prorata = tables.allocation_of(Prorata(), problem)[rows]
        share = np.where(total > 0, P.T / np.where(total > 0, total, 1.0), 0.0).T
        prorata_value = float((value * (share[:, :, None] * prorata[:, None, :])).sum())
        bound = solved.details.get("dual_bound")
        gap = None if bound is None else max(0.0, bound - objective) / max(1.0, abs(objective))
        return PeriodReport(
            period,
            T,
            consumers,
            "HiGHS",
            solved.status,
            objective,
            prorata_value,
            None,
            None,
            built - begun,
            solved.seconds,
            gap,
            n,
            lp.shape[0],
        )

    reports = _run_horizons(one, spans, min(get_threads(), len(spans)), progress)
    return RankedSolution(np.ascontiguousarray(flows.transpose(1, 0, 2)), reports)
