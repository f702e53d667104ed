"""The optimisation driver: horizons, value tables, bounds, solves, cleaning, reports.

For each horizon (a calendar month in local time by default), the objectives and
constraints become one linear program (:mod:`._build`), solved by HiGHS (:mod:`._lp`),
or, when nothing couples the steps, the exact greedy kernel
(:func:`repartition.kernels.greedy.run`). The solution is then *cleaned*: clipped into its
bounds and, where a step's total exceeds the pool by the solver's tolerance, scaled down,
so that every invariant holds to rounding, whatever the solver's tolerances.
"""

from __future__ import annotations

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from tqdm.auto import tqdm

from repartition import errors
from repartition.kernels import greedy
from repartition.kernels.attribution import pooled_production
from repartition.kernels.threads import get_threads
from repartition.keys import Prorata, SharingKey
from repartition.metrics.tariffs import producer_prices_on, retail_prices_on
from repartition.optimize import _lp
from repartition.optimize._build import Fairness, Horizon, Layout, PoolShares, build
from repartition.optimize._flow import solve_transport
from repartition.optimize._plan import Plan
from repartition.optimize.constraints import MaxPoolShare, MinSelfSufficiency, ReferenceBounds
from repartition.optimize.objectives import (
    MaxSavings,
    MaxSelfConsumption,
    MinBills,
)
from repartition.problem import Axis, Problem

__all__ = ["PeriodReport", "Solution", "solve"]

Array = NDArray[np.float64]

TOLERANCE = 1e-9
"""Energy a constraint may miss after cleaning, relative to its size (and absolute, kWh)."""


@dataclass(frozen=True)
class PeriodReport:
    """How one horizon was solved.

    Attributes
    ----------
    period : str
        The horizon, e.g. ``"2025-03"``.
    steps, consumers : int
    method : str
        ``"greedy"`` (the exact kernel), ``"HiGHS"`` or ``"Clarabel"``.
    status : str
        The solver's status (``"Optimal"``).
    objective : float
        The objective's value on the optimum: EUR, kWh, a rate (fairness), or their
        weighted sum. For :class:`MaxMinFairness`, the smallest rate reached.
    prorata, reference : float or None
        The same objective on Prorata's allocation and on the first reference key's, for
        the same horizon (without storage).
    secondary : float or None
        With :class:`MaxMinFairness`: the second stage's objective.
    build_seconds, solve_seconds : float
    gap : float or None
        The relative duality gap ``|primal - dual| / max(1, |primal|)`` the solver
        certifies (0 for the greedy, exact by construction).
    columns, rows : int
        The size of the program (0 for the greedy).
    """

    period: str
    steps: int
    consumers: int
    method: str
    status: str
    objective: float
    prorata: float | None
    reference: float | None
    secondary: float | None
    build_seconds: float
    solve_seconds: float
    gap: float | None
    columns: int
    rows: int


@dataclass
class Solution:
    """The optimal allocation over the whole period (row-major) and the storage schedule."""

    allocated: Array
    charge: Array | None
    discharge: Array | None
    state_of_charge: Array | None
    reports: list[PeriodReport]


def horizons(axis: Axis, horizon: str | None, tz: str | None = None) -> list[tuple[str, slice]]:
    """The horizons: (label, rows), contiguous, in order; calendar periods in ``tz`` (the
    index's own time zone by default)."""
    if axis.index is None or horizon is None:
        if axis.index is None:
            return [("all steps", slice(0, axis.steps))]
        first, last = axis.index[0], axis.index[-1]
        return [(f"{first} to {last}", slice(0, axis.steps))]
    index = axis.index
    if tz is not None and isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        index = index.tz_convert(tz)
    positions = pd.Series(np.arange(axis.steps), index=index)
    try:
        groups = positions.groupby(pd.Grouper(freq=horizon))
    except (ValueError, TypeError) as error:
        raise errors.ParameterError(
            f"horizon {horizon!r} is not a pandas frequency ('MS', 'W', 'D', ...): {error}"
        ) from error
    found = []
    for start, rows in groups:
        if len(rows) == 0:
            continue
        label = f"{start:%Y-%m}" if horizon in ("MS", "M", "ME") else str(start)
        found.append((label, slice(int(rows.iloc[0]), int(rows.iloc[-1]) + 1)))
    return found


@dataclass
class _Tables:
    """The whole period's arrays, shared by the horizons."""

    consumption: Array  # row-major
    production: Array
    production_total: Array
    axis: Axis
    shares: dict[SharingKey, Array]  # allocation of each reference key (and Prorata)

    def allocation_of(self, key: SharingKey, problem: Problem) -> Array:
        if key not in self.shares:
            self.shares[key] = np.ascontiguousarray(key.share(problem).allocated)
        return self.shares[key]


def _pooled_price(tariffs: Any, field: str, tables: _Tables, rows: slice) -> Array | float:
    """The producers' price of a kWh shared at each step, weighted by production (the
    DSO's pooled attribution). [EUR/kWh]"""
    prices = producer_prices_on(tariffs, field, tables.axis.producers)
    if isinstance(prices, float):
        return prices
    production = tables.production[rows]
    total = tables.production_total[rows]
    with np.errstate(invalid="ignore", divide="ignore"):
        weighted = (production @ prices) / total
    return np.where(total > 0, weighted, float(np.mean(prices)))[:, None]


def _retail(tariffs: Any, tables: _Tables, rows: slice) -> Array | float:
    """The retail prices of the horizon, broadcastable to (steps, consumers). [EUR/kWh]"""
    axis = tables.axis
    if axis.index is None:
        values = retail_prices_on(tariffs, pd.DatetimeIndex([]), axis.consumers)
        if values.per in ("step", "table"):
            raise errors.ParameterError(
                "Time-of-use prices need timestamps: optimise with repartition.allocate or "
                "optimize on labelled tables."
            )
    else:
        values = retail_prices_on(tariffs, axis.index[rows], axis.consumers)
    if values.per == "flat":
        return float(values.values)  # type: ignore[arg-type,unused-ignore]
    array = np.asarray(values.values, dtype=np.float64)
    if values.per == "consumer":
        return array[None, :]
    if values.per == "step":
        return array[:, None]
    return array


def _linear_cost(plan: Plan, tables: _Tables, rows: slice) -> Array:
    """``sum_k weight_k * value_k[t, i]`` of the linear objectives. [per kWh]"""
    shape = tables.consumption[rows].shape
    cost: Array = np.zeros(shape)
    for objective in plan.linear:
        if isinstance(objective, MaxSavings):
            local = _pooled_price(objective.tariffs, "local", tables, rows)
            cost = cost + objective.weight * (_retail(objective.tariffs, tables, rows) - local)
        elif isinstance(objective, MinBills):
            surplus = _pooled_price(objective.tariffs, "surplus", tables, rows)
            cost = cost + objective.weight * (_retail(objective.tariffs, tables, rows) - surplus)
        elif isinstance(objective, MaxSelfConsumption):
            cost = cost + objective.weight
    return np.broadcast_to(cost, shape)


def _secondary_cost(plan: Plan, tables: _Tables, rows: slice) -> Array:
    """The second stage of MaxMinFairness: the other objectives, else savings or energy."""
    if plan.linear:
        return _linear_cost(plan, tables, rows)
    fairness = plan.fairness
    assert fairness is not None
    shape = tables.consumption[rows].shape
    if fairness.tariffs is not None:
        local = _pooled_price(fairness.tariffs, "local", tables, rows)
        return np.broadcast_to(_retail(fairness.tariffs, tables, rows) - local, shape)
    return np.ones(shape)


def _per_member(value: float | pd.Series, consumers: pd.Index, what: str) -> Array:
    """A per-consumer array, NaN where ``value`` (a Series) names no one."""
    if isinstance(value, float):
        return np.full(len(consumers), value)
    unknown = value.index.difference(consumers)
    if len(unknown):
        member = unknown[0]
        raise errors.UnknownMemberError(
            f"{what} names {member!r}, which is not a consumer of the data.",
            member=member,
            column=member,
        )
    return value.reindex(consumers).to_numpy(dtype=np.float64, na_value=np.nan)


def _name(axis: Axis, column: int) -> Any:
    return axis.consumers[column]


def _infeasible(
    message: str, period: str, constraint: str, member: Any = None
) -> errors.InfeasibleError:
    error = errors.InfeasibleError(message, member=member, column=member)
    error.period, error.constraint = period, constraint
    return error


def _bounds(
    plan: Plan, tables: _Tables, problem: Problem, rows: slice, period: str
) -> tuple[Array, Array, PoolShares | None]:
    """Lower and upper bounds of each cell, from the invariants and the constraints, and
    with storage the pool-share rows that replace the bounds tied to the pool."""
    consumption = tables.consumption[rows]
    total = tables.production_total[rows][:, None]
    stored = plan.storage is not None
    if stored:
        upper = consumption.copy()
        high = np.full(consumption.shape, np.inf)
        low = np.zeros(consumption.shape)
    else:
        upper = np.where(total > 0, np.minimum(consumption, total), 0.0)
    lower = np.zeros_like(upper)
    consumers = tables.axis.consumers
    for constraint in plan.constraints:
        if isinstance(constraint, MaxPoolShare):
            share = _per_member(constraint.maximum, consumers, "MaxPoolShare")  # type: ignore[arg-type]
            share = np.where(np.isnan(share), np.inf, share)[None, :]
            if stored:
                np.minimum(high, share, out=high)
            else:
                np.minimum(upper, share * total, out=upper)
        elif isinstance(constraint, ReferenceBounds):
            deviation = _per_member(constraint.max_deviation, consumers, "ReferenceBounds")  # type: ignore[arg-type]
            deviation = np.where(np.isnan(deviation), np.inf, deviation)[None, :]
            reference = tables.allocation_of(constraint.reference, problem)[rows]
            with np.errstate(invalid="ignore", divide="ignore"):
                coefficient = np.where(total > 0, reference / total, 0.0)
            if stored:
                np.minimum(high, coefficient + deviation, out=high)
                np.maximum(low, np.maximum(coefficient - deviation, 0.0), out=low)
                continue
            above = np.minimum(consumption, (coefficient + deviation) * total)
            below = np.minimum(np.maximum(coefficient - deviation, 0.0) * total, consumption)
            np.minimum(upper, above, out=upper)
            np.maximum(lower, below, out=lower)
    shares = None
    if stored:
        assert plan.storage is not None
        hours = tables.axis.step / pd.Timedelta(hours=1) if tables.axis.step is not None else 1.0
        shares = _pool_shares(consumption, total[:, 0], high, low, plan.storage.power * hours)
        lower = np.minimum(shares.low_base, upper)
        # Without discharge the cap allows high * P_tot: the band's floor must fit under it.
        clashing = (low > high) & (lower > 0)  # high is finite there
        upper = np.where(clashing, np.minimum(upper, np.where(clashing, high, 0.0) * total), upper)
    clash = lower > upper * (1 + 1e-12) + 1e-12
    if clash.any():
        t, i = (int(v) for v in np.argwhere(clash)[0])
        member = _name(tables.axis, i)
        raise _infeasible(
            f"ReferenceBounds asks at least {lower[t, i]:.6g} kWh for {member!r} at "
            f"{tables.axis.step_name(rows.start + t)}, and the other constraints allow at most "
            f"{upper[t, i]:.6g} kWh: widen max_deviation or raise MaxPoolShare.",
            period,
            "ReferenceBounds",
            member,
        )
    np.minimum(lower, upper, out=lower)
    return lower, upper, shares


def _pool_shares(
    consumption: Array, total: Array, high: Array, low: Array, most_discharged: float
) -> PoolShares:
    """The pool-share rows with storage (docs/optimize.md, "Storage").

    The cap ``A <= high (P_tot + d)`` is linear in the discharge ``d``. The band's lower
    side ``A >= min(C, low (P_tot + d))`` is concave in ``d``: the rows keep its chord from
    ``d = 0`` to the most the storage discharges in a step, exact at both ends and below
    the curve between (a weaker floor, never an infeasible one).
    """
    at_rest = np.minimum(consumption, low * total[:, None])
    if most_discharged > 0:
        at_full = np.minimum(consumption, low * (total[:, None] + most_discharged))
        slope = (at_full - at_rest) / most_discharged
    else:
        slope = np.zeros_like(at_rest)
    return PoolShares(high=high, low_base=at_rest, low_slope=slope)


def _floors(
    plan: Plan, tables: _Tables, rows: slice, upper: Array, period: str
) -> tuple[Array | None, float | None]:
    """The consumers' and the community's floors [kWh], checked against what is available."""
    consumption = tables.consumption[rows]
    consumed = consumption.sum(axis=0)
    floors = None
    community = None
    consumers = tables.axis.consumers
    for constraint in plan.constraints:
        if not isinstance(constraint, MinSelfSufficiency):
            continue
        if constraint.per == "community":
            community = float(constraint.minimum) * float(consumed.sum())  # type: ignore[arg-type]
            continue
        fraction = _per_member(constraint.minimum, consumers, "MinSelfSufficiency")  # type: ignore[arg-type]
        wanted = fraction * consumed
        floors = wanted if floors is None else np.fmax(floors, wanted)
    if plan.storage is not None:
        return floors, community  # discharge makes more available: left to the solver
    available = upper.sum(axis=0)
    if floors is not None:
        short = floors > available * (1 + 1e-12) + TOLERANCE
        if short.any():
            i = int(np.flatnonzero(short)[0])
            member = _name(tables.axis, i)
            asked = floors[i] / consumed[i]
            best = available[i] / consumed[i]
            raise _infeasible(
                f"member {member!r} cannot reach {asked:.1%} self-sufficiency in {period}: at "
                f"most {best:.1%} is available from the pool ({available[i]:.6g} of "
                f"{consumed[i]:.6g} kWh). Lower its MinSelfSufficiency below that.",
                period,
                "MinSelfSufficiency",
                member,
            )
    if community is not None:
        shared = float(np.minimum(tables.production_total[rows], upper.sum(axis=1)).sum())
        if community > shared * (1 + 1e-12) + TOLERANCE:
            raise _infeasible(
                f"the community cannot reach {community / consumed.sum():.1%} "
                f"self-sufficiency in {period}: at most {shared / consumed.sum():.1%} is "
                "available from the pool. Lower the community's MinSelfSufficiency.",
                period,
                "MinSelfSufficiency",
            )
    return floors, community


def _fairness(plan: Plan, tables: _Tables, rows: slice) -> Fairness | None:
    fairness = plan.fairness
    if fairness is None:
        return None
    consumption = tables.consumption[rows]
    if fairness.measure == "self_sufficiency":
        return Fairness(np.ones(1), consumption.sum(axis=0), 1.0)
    assert fairness.tariffs is not None
    retail = _retail(fairness.tariffs, tables, rows)
    local = _pooled_price(fairness.tariffs, "local", tables, rows)
    bills = (np.broadcast_to(retail, consumption.shape) * consumption).sum(axis=0)
    return Fairness(np.asarray(retail - local, dtype=np.float64), bills, _lp.INFINITY)


def _clean(allocated: Array, lower: Array, upper: Array, pool: Array) -> Array:
    """Clip into the bounds; scale down the steps whose total exceeds the pool."""
    np.clip(allocated, lower, upper, out=allocated)
    totals = allocated.sum(axis=1)
    over = totals > pool
    if over.any():
        factor = np.where(pool[over] > 0, pool[over] / totals[over], 0.0)
        allocated[over] *= factor[:, None]
        # Rounding of the product may leave an ulp above: take it from the largest share.
        again = np.flatnonzero(allocated.sum(axis=1) > pool)
        for t in again:
            excess = allocated[t].sum() - pool[t]
            i = int(np.argmax(allocated[t]))
            allocated[t, i] = max(0.0, allocated[t, i] - 2 * excess)
    return allocated


def _clean_storage(
    charge: Array, discharge: Array, storage: Any, hours: float
) -> tuple[Array, Array, Array]:
    """Clip the schedule into its limits and recompute the state of charge from it."""
    limit = storage.power * hours
    charge = np.clip(charge, 0.0, limit)
    discharge = np.clip(discharge, 0.0, limit)
    eta = storage.charge_efficiency
    state = storage.initial + np.cumsum(eta * charge - discharge / eta)
    low = float(state.min()) if len(state) else 0.0
    high = float(state.max()) if len(state) else 0.0
    slack = 1e-6 * max(1.0, storage.capacity)
    if low < -slack or high > storage.capacity + slack:
        raise errors.SolverError(
            f"The storage schedule leaves its state of charge between {low:.6g} and {high:.6g} "
            f"kWh, outside [0, {storage.capacity:g}] beyond the solver's tolerance."
        )
    return charge, discharge, np.clip(state, 0.0, storage.capacity)


def _evaluate(
    allocated: Array, cost: Array, horizon: Horizon, distance: tuple[Array, float, str] | None
) -> float:
    """The linear objectives' value of ``allocated``, minus the distance term."""
    value = float(np.einsum("ti,ti->", np.broadcast_to(cost, allocated.shape), allocated))
    if distance is not None:
        target, weight, norm = distance
        difference = allocated - target
        value -= weight * float(
            np.abs(difference).sum() if norm == "l1" else np.square(difference).sum()
        )
    return value


def _rate(allocated: Array, fairness: Fairness) -> float:
    achieved = (np.broadcast_to(fairness.weight, allocated.shape) * allocated).sum(axis=0)
    rated = fairness.scale > 0
    if not rated.any():
        return float("nan")
    return float(np.min(achieved[rated] / fairness.scale[rated]))


def _status_error(solved: _lp.Solved, period: str, plan: Plan) -> errors.OptimizationError:
    status = solved.status
    if "nfeasible" in status:
        error: errors.OptimizationError = _infeasible(
            f"no allocation meets every constraint in {period} ({plan.describe()}); the "
            "solver says: " + status + ". Relax the floors or the bounds.",
            period,
            None,  # type: ignore[arg-type]
        )
    elif "nbounded" in status:
        error = errors.UnboundedError(f"the objective is unbounded in {period}: {status}.")
    else:
        error = errors.SolverError(
            f"{solved.solver} did not solve {period} ({plan.describe()}): {status}."
        )
    error.period, error.status = period, status
    return error


def _elastic_floors(lp: _lp.LinearProgram, floor_rows: NDArray[np.int64], options: Any) -> Array:
    """The least shortfall of each floor row: ``max -sum slack`` with the floors relaxed."""
    count = len(floor_rows)
    first = len(lp.cost)
    elastic = _lp.LinearProgram(
        cost=np.concatenate([np.zeros(first), -np.ones(count)]),
        lower=np.concatenate([lp.lower, np.zeros(count)]),
        upper=np.concatenate([lp.upper, np.full(count, _lp.INFINITY)]),
        row_lower=lp.row_lower,
        row_upper=lp.row_upper,
        rows=np.concatenate([lp.rows, floor_rows]),
        columns=np.concatenate([lp.columns, first + np.arange(count)]),
        entries=np.concatenate([lp.entries, np.ones(count)]),
    )
    solved = _lp.solve_highs(elastic, options)  # options: HiGHS's own
    if solved.status != "Optimal":
        return np.full(count, np.nan)
    return solved.x[first:]


def _explain_floors(
    lp: _lp.LinearProgram,
    horizon: Horizon,
    tables: _Tables,
    period: str,
    options: Any,
) -> errors.InfeasibleError | None:
    """An error naming the consumers whose floors cannot all hold together, or None."""
    if horizon.floors is None:
        return None
    steps = horizon.consumption.shape[0]
    wanted = np.flatnonzero(~np.isnan(horizon.floors))
    shortfall = _elastic_floors(lp, steps + wanted.astype(np.int64), options)
    short = wanted[shortfall > TOLERANCE]
    if not len(short):
        return None
    consumed = horizon.consumption.sum(axis=0)
    parts = []
    for i in short[:5]:
        reached = (horizon.floors[i] - shortfall[np.searchsorted(wanted, i)]) / consumed[i]
        parts.append(
            f"{_name(tables.axis, int(i))!r} (asks {horizon.floors[i] / consumed[i]:.1%}, "
            f"{reached:.1%} at best together)"
        )
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    member = _name(tables.axis, int(short[0]))
    return _infeasible(
        f"the consumers' floors cannot all hold in {period}: the pool cannot give each its "
        f"minimum at once. Closest reachable: {', '.join(parts)}{more}. Lower their "
        "MinSelfSufficiency.",
        period,
        "MinSelfSufficiency",
        member,
    )


def _solve_program(
    horizon: Horizon,
    plan: Plan,
    tables: _Tables,
    period: str,
    secondary: Array | None,
    square_target: Array | None,
) -> tuple[Array, Layout, _lp.Solved, int, int]:
    """Build and solve one horizon's program; (x, layout, solved, columns, rows)."""
    lp, layout = build(horizon)
    options = highs_options(plan)
    distance = plan.distance
    if square_target is not None:
        assert distance is not None
        target = np.broadcast_to(square_target, horizon.consumption.shape)
        solved = _lp.solve_quadratic(
            lp,
            np.full(layout.cells, distance[1]),
            target[layout.steps, layout.members],
            np.arange(layout.cells),
        )
        if solved.status != "Optimal":
            raise _status_error(solved, period, plan)
        return solved.x, layout, solved, lp.shape[1], lp.shape[0]
    if layout.fairness is not None:
        assert secondary is not None
        stage_cost = lp.cost.copy()
        lp.cost = np.zeros_like(lp.cost)
        lp.cost[layout.fairness] = 1.0
        lp.offset = 0.0
        highs = _lp.new_highs(lp, options)
        first = _lp.run_highs(highs, lp)
        if first.status != "Optimal":
            raise _explain_floors(lp, horizon, tables, period, options) or _status_error(
                first, period, plan
            )
        level = first.x[layout.fairness]
        floor = max(0.0, level * (1 - 1e-9) - 1e-12)
        # Stage 2 on the same instance: warm-started from stage 1's basis.
        n = layout.cells
        cost = stage_cost
        if not plan.linear:
            cost = np.zeros_like(stage_cost)
            cells = np.broadcast_to(secondary, horizon.consumption.shape)
            cost[:n] = cells[layout.steps, layout.members]
        highs.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), cost)
        highs.changeColBounds(layout.fairness, floor, horizon.fairness.upper)  # type: ignore[union-attr]
        lp.cost = cost
        lp.lower = lp.lower.copy()
        lp.lower[layout.fairness] = floor
        second = _lp.run_highs(highs, lp)
        if second.status != "Optimal":
            raise _status_error(second, period, plan)
        second.seconds += first.seconds
        second.objective = level
        second.gap = max(first.gap or 0.0, second.gap or 0.0)
        second.details["level_bound"] = first.details.get("dual_bound")
        return second.x, layout, second, lp.shape[1], lp.shape[0]
    solved = _lp.solve_highs(lp, options)
    if solved.status != "Optimal":
        raise _explain_floors(lp, horizon, tables, period, options) or _status_error(
            solved, period, plan
        )
    return solved.x, layout, solved, lp.shape[1], lp.shape[0]


def _top_up(allocated: Array, horizon: Horizon, upper: Array, pool: Array) -> bool:
    """Give the consumers whom the solver's tolerance left just below their floor what they
    miss, from the room left in the pool at the steps where they still consume. Whether
    anything was given."""
    if horizon.floors is None:
        return False
    wanted = np.nan_to_num(horizon.floors, nan=0.0)
    short = np.flatnonzero(allocated.sum(axis=0) < wanted)
    for i in short:
        missing = wanted[i] - allocated[:, i].sum()
        room = np.minimum(upper[:, i] - allocated[:, i], pool - allocated.sum(axis=1))
        room = np.maximum(room, 0.0)
        if room.sum() > 0:
            allocated[:, i] += room * min(1.0, missing / room.sum())
        missing = wanted[i] - allocated[:, i].sum()
        if missing > 0:
            _transfer(allocated, int(i), float(missing), wanted, upper)
    np.minimum(allocated, upper, out=allocated)
    return len(short) > 0


def _transfer(allocated: Array, i: int, missing: float, wanted: Array, bound: Array) -> None:
    """Move ``missing`` kWh to consumer ``i`` from consumers above their floors, at steps
    where ``i`` has room under its upper ``bound``."""
    spare = allocated.sum(axis=0) - wanted
    spare[i] = 0.0
    for t in np.argsort(allocated[:, i] - bound[:, i]):
        room = bound[t, i] - allocated[t, i]
        if room <= 0 or missing <= 0:
            break
        for j in np.argsort(-allocated[t]):
            if j == i or spare[j] <= 0 or allocated[t, j] <= 0:
                continue
            moved = min(missing, room, allocated[t, j], spare[j])
            allocated[t, j] -= moved
            allocated[t, i] += moved
            spare[j] -= moved
            missing -= moved
            room -= moved
            if missing <= 0 or room <= 0:
                break


def highs_options(plan: Plan) -> dict[str, Any]:
    """The solver options meant for HiGHS (``"flow"`` is repartition's own)."""
    return {name: value for name, value in plan.solver_options.items() if name != "flow"}


def _flowable(plan: Plan, horizon: Horizon) -> bool:
    """The horizon is a transportation problem (docs/optimize.md, "the flow route")."""
    return (
        bool(plan.solver_options.get("flow", True))
        and plan.fairness is None
        and plan.distance is None
        and plan.storage is None
        and horizon.community_floor is None
        and not np.any(horizon.lower > 0)
    )


def _certified_gap(solved: _lp.Solved, value: float, plan: Plan) -> float | None:
    """The duality gap of the *cleaned* solution: the solver's dual bound (weak duality, so
    valid whatever its tolerances) minus the value of what is returned, relative to
    ``max(1, |value|)``. For MaxMinFairness, that of the smallest rate (stage 1)."""
    key = "level_bound" if plan.fairness is not None else "dual_bound"
    bound = solved.details.get(key)
    if bound is None or not np.isfinite(value):
        return solved.gap
    return max(0.0, float(bound) - value) / max(1.0, abs(value))


def _check_floors(allocated: Array, horizon: Horizon, period: str, tables: _Tables) -> None:
    """After cleaning, the floors hold (to TOLERANCE kWh, relative above 1 kWh): else the
    solver's answer was not good enough to trust."""
    received = allocated.sum(axis=0)
    if horizon.floors is not None:
        wanted = np.nan_to_num(horizon.floors, nan=0.0)
        missing = wanted - received > TOLERANCE * np.maximum(1.0, wanted)
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            raise errors.SolverError(
                f"The solution misses {_name(tables.axis, i)!r}'s floor in {period} by "
                f"{wanted[i] - received[i]:.3g} kWh after cleaning: tighten the solver's "
                "tolerances (solver_options={'primal_feasibility_tolerance': 1e-9})."
            )


def _greedy(
    plan: Plan, tables: _Tables, problem: Problem, spans: list[tuple[str, slice]]
) -> Solution:
    """The separable case: the exact greedy kernel over the whole period at once."""
    start = time.perf_counter()
    whole = slice(0, tables.axis.steps)
    cost = np.ascontiguousarray(_linear_cost(plan, tables, whole))
    outputs = greedy.run(tables.consumption, tables.production, cost, True)
    allocated = np.ascontiguousarray(outputs[0])
    seconds = time.perf_counter() - start
    prorata = tables.allocation_of(Prorata(), problem)
    references = plan.references()
    reports = []
    for period, rows in spans:
        horizon_cost = cost[rows]
        value = float(np.einsum("ti,ti->", horizon_cost, allocated[rows]))
        reference = None
        if references:
            chosen = tables.allocation_of(references[0], problem)[rows]
            reference = float(np.einsum("ti,ti->", horizon_cost, chosen))
        reports.append(
            PeriodReport(
                period,
                rows.stop - rows.start,
                allocated.shape[1],
                "greedy",
                "Optimal",
                value,
                float(np.einsum("ti,ti->", horizon_cost, prorata[rows])),
                reference,
                None,
                0.0,
                seconds * (rows.stop - rows.start) / max(1, tables.axis.steps),
                0.0,
                0,
                0,
            )
        )
    return Solution(allocated, None, None, None, reports)


def _run_horizons(
    one: Callable[[str, slice], PeriodReport],
    spans: list[tuple[str, slice]],
    workers: int,
    progress: bool,
) -> list[PeriodReport]:
    """``one`` on every horizon, in ``workers`` threads (HiGHS releases the GIL while it
    solves: two months at once take half the time on 2 cores); reports in period order,
    the first failing period's error raised."""
    bar = tqdm(total=len(spans), desc="optimize", unit="period") if progress else None
    try:
        if workers <= 1:
            reports = []
            for period, rows in spans:
                reports.append(one(period, rows))
                if bar is not None:
                    bar.update()
            return reports
        with ThreadPoolExecutor(workers, thread_name_prefix="repartition_optimize") as pool:
            context = contextvars.copy_context
            futures = [pool.submit(context().run, one, period, rows) for period, rows in spans]
            if bar is not None:
                for _ in as_completed(futures):
                    bar.update()
            try:
                return [future.result() for future in futures]
            except BaseException:
                pool.shutdown(cancel_futures=True)
                raise
    finally:
        if bar is not None:
            bar.close()


def solve(problem: Problem, plan: Plan, *, progress: bool = False) -> Solution:
    """The optimal allocation of ``problem`` under ``plan``, horizon by horizon."""
    axis = problem.axis
    if plan.storage is not None and axis.step is None:
        raise errors.ParameterError("Storage needs a step length: give a regular index.")
    consumption = np.ascontiguousarray(problem.consumption)
    production = np.ascontiguousarray(problem.production)
    tables = _Tables(consumption, production, pooled_production(production), axis, {})
    spans = horizons(axis, plan.horizon, plan.tz)
    if plan.separable:
        return _greedy(plan, tables, problem, spans)
    steps, consumers = consumption.shape
    allocated = np.zeros((steps, consumers))
    storage = plan.storage
    schedule = [np.zeros(steps) for _ in range(3)] if storage is not None else None
    hours = axis.step / pd.Timedelta(hours=1) if axis.step is not None else 1.0
    references = plan.references()
    distance = plan.distance
    # Computed once, before any horizon: the horizons may run in parallel threads.
    tables.allocation_of(Prorata(), problem)
    for key in references:
        tables.allocation_of(key, problem)

    def one(period: str, rows: slice) -> PeriodReport:
        begun = time.perf_counter()
        lower, upper, shares = _bounds(plan, tables, problem, rows, period)
        floors, community = _floors(plan, tables, rows, upper, period)
        cost = _linear_cost(plan, tables, rows)
        target = None
        if distance is not None:
            target = tables.allocation_of(distance[0], problem)[rows]
        square = distance is not None and distance[2] == "l2"
        horizon = Horizon(
            consumption=consumption[rows],
            production_total=tables.production_total[rows],
            cost=cost,
            lower=lower,
            upper=upper,
            floors=floors,
            community_floor=community,
            fairness=_fairness(plan, tables, rows),
            distance_target=None if square else target,
            distance_weight=distance[1] if distance is not None else 0.0,
            storage=storage,
            hours=float(hours),
            shares=shares,
        )
        secondary = _secondary_cost(plan, tables, rows) if plan.fairness is not None else None
        built = time.perf_counter()
        pool = tables.production_total[rows].copy()
        routed = None
        if _flowable(plan, horizon):
            routed = solve_transport(
                np.broadcast_to(cost, horizon.consumption.shape),
                upper,
                pool,
                floors if floors is not None else np.zeros(consumers),
                highs_options(plan),
            )
        if routed is not None:
            flow_result, solved = routed
            columns, row_count = int((upper > 0).sum()), len(pool) + consumers
            result = _clean(flow_result, lower, upper, pool)
        else:
            x, layout, solved, columns, row_count = _solve_program(
                horizon, plan, tables, period, secondary, target if square else None
            )
        if routed is None and storage is not None:
            assert schedule is not None
            parts = layout.storage_schedule(x)
            assert parts is not None
            charge, discharge, state = _clean_storage(parts[0], parts[1], storage, float(hours))
            for whole, part in zip(schedule, (charge, discharge, state), strict=True):
                whole[rows] = part
            pool = np.maximum(pool + discharge - charge, 0.0)
            if shares is not None:  # the rows' bounds, now that the discharge is known
                seen = (tables.production_total[rows] + discharge)[:, None]
                capped = np.isfinite(shares.high)
                cap = np.where(capped, shares.high, 0.0) * seen
                upper = np.where(capped, np.minimum(upper, cap), upper)
                floor = shares.low_base + shares.low_slope * discharge[:, None]
                lower = np.minimum(np.maximum(lower, floor), upper)
        if routed is None:
            result = _clean(layout.allocation(x), lower, upper, pool)
        if _top_up(result, horizon, upper, pool):
            result = _clean(result, lower, upper, pool)
        _check_floors(result, horizon, period, tables)
        allocated[rows] = result
        distance_term = None
        if distance is not None and target is not None:
            distance_term = (target, distance[1], distance[2])
        if plan.fairness is not None:
            fairness = horizon.fairness
            assert fairness is not None
            value = _rate(result, fairness)
            assert secondary is not None
            second = _evaluate(result, secondary, horizon, distance_term)
            prorata_value = _rate(tables.allocation_of(Prorata(), problem)[rows], fairness)
            reference_value = (
                _rate(tables.allocation_of(references[0], problem)[rows], fairness)
                if references
                else None
            )
        else:
            second = None
            value = _evaluate(result, cost, horizon, distance_term)
            prorata_value = _evaluate(
                tables.allocation_of(Prorata(), problem)[rows], cost, horizon, distance_term
            )
            reference_value = (
                _evaluate(
                    tables.allocation_of(references[0], problem)[rows], cost, horizon, distance_term
                )
                if references
                else None
            )
        return PeriodReport(
            period,
            rows.stop - rows.start,
            consumers,
            solved.solver,
            solved.status,
            value,
            prorata_value,
            reference_value,
            second,
            built - begun + (time.perf_counter() - built - solved.seconds),
            solved.seconds,
            _certified_gap(solved, value, plan),
            columns,
            row_count,
        )

    workers = min(get_threads(), len(spans))
    reports = _run_horizons(one, spans, workers, progress)
    if schedule is None:
        return Solution(allocated, None, None, None, reports)
    return Solution(allocated, schedule[0], schedule[1], schedule[2], reports)
