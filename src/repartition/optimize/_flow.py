"""Floors without anything else that couples cells: a transportation problem, solved as a
min-cost flow, then made exact and certified on the true data (docs/optimize.md, "Large
operations: the flow route").

``max sum v A`` s.t. ``0 <= A <= u``, ``sum_i A[t] <= P_tot[t]``, ``sum_t A[:, i] >= F_i`` is
a flow from a source through the steps (capacity ``P_tot[t]``) and the cells (capacity
``u[t, i]``, cost ``-v[t, i]``) to the consumers, each of which must pass on at least ``F_i``,
and a sink; the pool's surplus goes from the source straight to the sink. Three stages:

1. **The flow**, on integer data (energies in units of ``UNIT`` kWh, rounded so that the
   flow stays feasible on the true data: capacities down, floors up; values in
   ``PRICE_UNIT``), by OR-tools' min-cost flow (cost scaling, exact on integers): a month x
   10,000 consumers in about 5 s, where an interior point took minutes.
2. **Exact on the true data**: the cells the flow leaves strictly between its bounds are the
   only free columns of a small linear program (HiGHS), the others fixed at 0 or at their
   capacity. Its row duals ``pi[t]`` (the pool) and ``lambda[i]`` (the floors) give every
   cell's reduced cost ``v + lambda - pi``; a fixed cell whose reduced cost has the wrong
   sign is freed and the small program solved again, until none has.
3. **The certificate**: from ``pi, lambda >= 0``, weak duality bounds the optimum by
   ``sum_t P_tot pi + sum u max(0, v + lambda - pi) - sum_i F lambda``; the gap to the value
   of the cleaned allocation is reported.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from repartition import _optional, errors
from repartition.optimize import _lp
from repartition.optimize._build import Horizon, build

__all__ = ["UNIT", "solve_transport"]

Array = NDArray[np.float64]

UNIT = 1e-7
"""kWh per unit of the integer flow: 0.1 mWh, coarser when a large pool needs it (_unit)."""
COST_LIMIT = 2.0**61
"""The most the integer flow's total cost may reach: int64 with a factor 4 to spare."""
PRICE_UNIT = 1e-6
"""Value units per integer cost unit (EUR/kWh: a millionth of a euro per kWh)."""
TOLERANCE = 1e-9
"""A reduced cost within this of zero has the right sign."""
ROUNDS = 30
"""The most times the small program is solved again."""


def _unit(value: Array, pool: Array) -> float:
    """kWh per integer unit: ``UNIT``, or coarser so that the flow's cost fits in int64.

    A month of a large operation's pool (3 GWh in June for 10,000 consumers) in 0.1 mWh
    units at 0.15 EUR/kWh in micro-euros is 1e19, past int64; the exact stage afterwards
    works on the true data, so a coarser unit only frees a few more cells.
    """
    price = float(np.abs(value).max(initial=0.0)) / PRICE_UNIT
    return max(UNIT, float(pool.sum()) * price / COST_LIMIT)


def _flow(value: Array, upper: Array, pool: Array, floors: Array, unit: float) -> Array | None:
    """The min-cost flow on integer data, in units of ``unit`` kWh, as an allocation
    [kWh]; None if infeasible."""
    flow_module = _optional.import_extra(
        "ortools.graph.python.min_cost_flow", "optimize", feature="repartition.optimize"
    )
    steps, consumers = upper.shape
    t, i = np.nonzero(upper > 0)
    capacity = np.floor(upper[t, i] / unit).astype(np.int64)
    supply_of_step = np.floor(pool / unit).astype(np.int64)
    wanted = np.ceil(floors / unit).astype(np.int64)
    total = int(supply_of_step.sum())
    if wanted.sum() > total:
        return None
    cost = -np.round(value[t, i] / PRICE_UNIT)
    if total and np.abs(cost).max(initial=0.0) * float(total) > 2 * COST_LIMIT:
        return None  # the integer costs could overflow (_unit prevents it): let HiGHS solve it
    source, first_step, first_member = 0, 1, 1 + steps
    sink = first_member + consumers
    tails = np.concatenate(
        [np.zeros(steps), first_step + t, first_member + np.arange(consumers), [source]]
    ).astype(np.int64)
    heads = np.concatenate(
        [first_step + np.arange(steps), first_member + i, np.full(consumers, sink), [sink]]
    ).astype(np.int64)
    capacities = np.concatenate(
        [supply_of_step, capacity, np.full(consumers, total), [total]]
    ).astype(np.int64)
    costs = np.concatenate([np.zeros(steps), cost, np.zeros(consumers), [0.0]]).astype(np.int64)
    solver = flow_module.SimpleMinCostFlow()
    solver.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[source] = total
    supplies[first_member:sink] = -wanted
    supplies[sink] = -(total - int(wanted.sum()))
    solver.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    if solver.solve() != solver.OPTIMAL:
        return None
    flows = solver.flows(np.arange(steps, steps + len(t), dtype=np.int64))
    allocated = np.zeros((steps, consumers))
    allocated[t, i] = flows * unit
    return allocated


def _restricted(
    value: Array,
    upper: Array,
    pool: Array,
    floors: Array,
    free: NDArray[np.bool_],
    full: NDArray[np.bool_],
    options: Any,
) -> tuple[_lp.Solved, Array, NDArray[np.int64], NDArray[np.int64]]:
    """The program on the free cells, the others fixed (``full``: at capacity, else 0)."""
    fixed = np.where(full, upper, 0.0)
    # The horizon's own program (_build), on the free cells, with what the fixed ones
    # already take out of the pool and give the floors.
    lp, layout = build(
        Horizon(
            consumption=upper,
            production_total=pool - fixed.sum(axis=1),
            cost=value,
            lower=np.zeros(1),
            upper=np.where(free, upper, 0.0),
            floors=floors - fixed.sum(axis=0),
        )
    )
    t, i = layout.steps, layout.members
    # HiGHS's interior point with its crossover: a vertex, so duals that price every cell.
    return _lp.solve_highs(lp, dict(options)), fixed, t, i


def dual_bound(
    value: Array, upper: Array, pool: Array, floors: Array, pi: Array, lam: Array
) -> float:
    """Weak duality's bound on the optimum from ``pi, lambda >= 0``."""
    reduced = value + lam[None, :] - pi[:, None]
    np.maximum(reduced, 0.0, out=reduced)
    return float(pool @ pi + np.einsum("ti,ti->", upper, reduced) - floors @ lam)


def solve_transport(
    value: Array, upper: Array, pool: Array, floors: Array, options: Any
) -> tuple[Array, _lp.Solved] | None:
    """The exact optimum of the transportation problem and its certificate, or None when
    the route does not apply (the integer flow is infeasible or could overflow)."""
    start = time.perf_counter()
    floors = np.nan_to_num(floors, nan=0.0)
    unit = _unit(value, pool)
    allocated = _flow(value, upper, pool, floors, unit)
    if allocated is None:
        return None
    flow_seconds = time.perf_counter() - start
    positive = upper > 0
    full = positive & (allocated >= upper - 2 * unit)
    free = positive & ~full & (allocated > 0)
    rounds = 0
    while True:
        rounds += 1
        solved, fixed, t, i = _restricted(value, upper, pool, floors, free, full, options)
        if solved.status == "Optimal" and solved.row_duals is None:  # no free cell at all
            holds = (fixed.sum(axis=1) <= pool).all() and (fixed.sum(axis=0) >= floors).all()
            if holds:
                solved.row_duals = np.zeros(upper.shape[0] + upper.shape[1])
            else:
                solved.status = "Infeasible"
        if solved.status != "Optimal" or solved.row_duals is None:
            # The rounding fixed too much at capacity somewhere: free those steps' cells.
            if rounds > ROUNDS:
                raise errors.SolverError(
                    f"The flow route did not settle ({solved.status}); solve with "
                    "solver_options={'flow': False}."
                )
            over = fixed.sum(axis=1) > pool
            free |= full & over[:, None]
            full &= ~over[:, None]
            free |= positive & ~full & (rounds > 2)
            continue
        steps = upper.shape[0]
        duals = solved.row_duals
        pi = np.maximum(duals[:steps], 0.0)
        lam = np.maximum(-duals[steps:], 0.0)
        reduced = value + lam[None, :] - pi[:, None]
        wrong = (
            positive & ~free & ((full & (reduced < -TOLERANCE)) | (~full & (reduced > TOLERANCE)))
        )
        if not wrong.any() or rounds > ROUNDS:
            break
        free |= wrong
        full &= ~wrong
    result = fixed
    result[t, i] = solved.x
    bound = dual_bound(value, upper, pool, floors, pi, lam)
    seconds = time.perf_counter() - start
    report = _lp.Solved(
        np.empty(0),
        float(np.einsum("ti,ti->", value, result)),
        "Optimal",
        "min-cost flow + HiGHS",
        seconds,
        None,
        None,
        {
            "dual_bound": bound,
            "flow_seconds": flow_seconds,
            "rounds": rounds,
            "free_cells": int(free.sum()),
        },
    )
    return result, report
