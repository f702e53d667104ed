"""One horizon's linear program, built straight into arrays (docs/optimize.md, "The linear
program").

Columns: one per *free cell* ``(t, i)`` (``upper[t, i] > 0``; the others are 0), in step
order, or two per cell (``x = r + p - n``) when the objective measures an L1 distance to
a reference ``r``; then the fairness level ``z``; then the storage's charge, discharge and
state of charge per step. Rows: one per step (the pool), then the consumers' floors, the
community's floor, the fairness rows and the storage's balance rows, in that order. All
energies in kWh per step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from repartition.optimize._lp import INFINITY, LinearProgram
from repartition.optimize.storage import Storage

__all__ = ["Fairness", "Horizon", "Layout", "PoolShares", "build"]

Array = NDArray[np.float64]
Integers = NDArray[np.int64]


@dataclass
class Fairness:
    """``sum_t weight[t, i] A[t, i] >= z * scale[i]`` for the consumers with ``scale > 0``."""

    weight: Array  # (steps, consumers), broadcastable
    scale: Array  # (consumers,)
    upper: float  # the largest z can be (1 for self-sufficiency)


@dataclass
class PoolShares:
    """With storage, the bounds on each consumer's share of the pool the DSO sees, the
    plants' production and the discharge (``P_tot[t] + d[t]``), as rows:
    ``A[t, i] <= high[t, i] (P_tot[t] + d[t])`` where ``high`` is finite, and ``A[t, i] >=
    low_base[t, i] + low_slope[t, i] d[t]`` where ``low_slope > 0`` (docs/optimize.md,
    "Storage")."""

    high: Array  # (steps, consumers), inf where uncapped
    low_base: Array  # (steps, consumers) [kWh per step]
    low_slope: Array  # (steps, consumers) [kWh per kWh discharged]


@dataclass
class Horizon:
    """What one horizon's program is made of (arrays of shape (steps, consumers) or
    broadcastable to it)."""

    consumption: Array
    production_total: Array
    cost: Array  # EUR (or kWh) per kWh of A, to maximise
    lower: Array
    upper: Array
    floors: Array | None = None  # (consumers,) kWh, NaN where none
    community_floor: float | None = None
    fairness: Fairness | None = None
    distance_target: Array | None = None  # r, for an L1 distance
    distance_weight: float = 0.0
    storage: Storage | None = None
    hours: float = 0.5
    shares: PoolShares | None = None  # with storage only


@dataclass
class Layout:
    """Where the parts of the solution sit among the columns."""

    steps: Integers
    members: Integers
    split: bool  # x = r + p - n: cells twice
    fairness: int | None
    storage: int | None  # first storage column; charge, discharge, soc of `steps` each
    horizon_steps: int
    consumers: int
    target: Array | None = None  # the L1 target of each cell, within its bounds

    @property
    def cells(self) -> int:
        return len(self.steps)

    def allocation(self, x: Array) -> Array:
        """The (steps, consumers) allocation the columns ``x`` describe."""
        values = np.zeros((self.horizon_steps, self.consumers))
        n = self.cells
        if self.split:
            assert self.target is not None
            cells = self.target + x[:n] - x[n : 2 * n]
        else:
            cells = x[:n]
        values[self.steps, self.members] = cells
        return values

    def storage_schedule(self, x: Array) -> tuple[Array, Array, Array] | None:
        if self.storage is None:
            return None
        t = self.horizon_steps
        first = self.storage
        return x[first : first + t], x[first + t : first + 2 * t], x[first + 2 * t : first + 3 * t]


def _share_rows(
    shares: PoolShares,
    t_index: Integers,
    i_index: Integers,
    discharge: Integers,
    first_row: int,
    target: Array | None,
    production_total: Array,
) -> tuple[list[Integers], list[Integers], list[Array], Array, Array]:
    """The pool-share rows: (columns, rows, entries) of the cells then of the discharge,
    and the rows' lower and upper sides; ``target`` shifts them when ``x = r + p - n``."""
    high = shares.high[t_index, i_index]
    slope = shares.low_slope[t_index, i_index]
    capped = np.flatnonzero(np.isfinite(high))
    floored = np.flatnonzero(slope > 0)
    cells = np.concatenate([capped, floored])
    count = len(cells)
    row = first_row + np.arange(count, dtype=np.int64)
    coefficient = np.concatenate([high[capped], slope[floored]])
    base = np.concatenate(
        [np.zeros(len(capped)), shares.low_base[t_index[floored], i_index[floored]]]
    )
    shift = np.zeros(count) if target is None else target[cells]
    lower_side = np.concatenate([np.full(len(capped), -INFINITY), base[len(capped) :]])
    # A - high d <= high P_tot: the plants' production enters the row's side.
    upper_side = np.concatenate(
        [high[capped] * production_total[t_index[capped]], np.full(len(floored), INFINITY)]
    )
    lower_side = lower_side - shift
    upper_side = upper_side - shift
    return (
        [cells.astype(np.int64), discharge[t_index[cells]]],
        [row, row],
        [np.ones(count), -coefficient],
        lower_side,
        upper_side,
    )


def build(horizon: Horizon) -> tuple[LinearProgram, Layout]:
    """The program of ``horizon``, and where its solution's parts are."""
    consumption = horizon.consumption
    steps, consumers = consumption.shape
    upper = np.broadcast_to(horizon.upper, consumption.shape)
    lower = np.broadcast_to(horizon.lower, consumption.shape)
    cost = np.broadcast_to(horizon.cost, consumption.shape)
    t_index, i_index = np.nonzero(upper > 0.0)
    cell_lower, cell_upper = lower[t_index, i_index], upper[t_index, i_index]
    cell_cost = cost[t_index, i_index]
    n = len(t_index)

    row_lower: list[Array] = []
    row_upper: list[Array] = []
    row_of_cell: list[Integers] = []  # per kind of row, the row of each cell (or -1)
    weight_of_cell: list[Array] = []
    # The pool at each step.
    pool_upper = np.asarray(horizon.production_total, dtype=np.float64).copy()
    row_lower.append(np.full(steps, -INFINITY))
    row_upper.append(pool_upper)
    row_of_cell.append(t_index.astype(np.int64))
    weight_of_cell.append(np.ones(n))
    rows = steps
    if horizon.floors is not None:
        floors = horizon.floors
        row_lower.append(np.where(np.isnan(floors), -INFINITY, floors))
        row_upper.append(np.full(consumers, INFINITY))
        row_of_cell.append(rows + i_index.astype(np.int64))
        weight_of_cell.append(np.ones(n))
        rows += consumers
    if horizon.community_floor is not None:
        row_lower.append(np.array([horizon.community_floor]))
        row_upper.append(np.array([INFINITY]))
        row_of_cell.append(np.full(n, rows, dtype=np.int64))
        weight_of_cell.append(np.ones(n))
        rows += 1
    fairness_row = None
    if horizon.fairness is not None:
        fairness_row = rows
        row_lower.append(np.zeros(consumers))
        row_upper.append(np.full(consumers, INFINITY))
        weights = np.broadcast_to(horizon.fairness.weight, consumption.shape)[t_index, i_index]
        row_of_cell.append(rows + i_index.astype(np.int64))
        weight_of_cell.append(np.asarray(weights, dtype=np.float64))
        rows += consumers

    # The cells' columns: once, or twice (p then n) for a distance to a target.
    split = horizon.distance_target is not None
    columns: list[Integers] = []
    matrix_rows: list[Integers] = []
    values: list[Array] = []
    cell_columns = np.arange(n, dtype=np.int64)
    for kind_rows, kind_weights in zip(row_of_cell, weight_of_cell, strict=True):
        columns.append(cell_columns)
        matrix_rows.append(kind_rows)
        values.append(kind_weights)
    offset = 0.0
    target = None
    if split:
        assert horizon.distance_target is not None
        target = np.broadcast_to(horizon.distance_target, consumption.shape)[t_index, i_index]
        target = np.clip(target, cell_lower, cell_upper)
        for kind_rows, kind_weights in zip(row_of_cell, weight_of_cell, strict=True):
            columns.append(cell_columns + n)
            matrix_rows.append(kind_rows)
            values.append(-kind_weights)
        # Rows shift by what the target already gives them.
        shift = np.zeros(rows)
        for kind_rows, kind_weights in zip(row_of_cell, weight_of_cell, strict=True):
            np.add.at(shift, kind_rows, kind_weights * target)
        lowers = np.concatenate(row_lower) - shift
        uppers = np.concatenate(row_upper) - shift
        weight = horizon.distance_weight
        column_cost = np.concatenate([cell_cost - weight, -cell_cost - weight])
        column_lower = np.zeros(2 * n)
        column_upper = np.concatenate([cell_upper - target, target - cell_lower])
        # The distance the bounds impose, from a target outside them (fixed cells included).
        full_target = np.broadcast_to(horizon.distance_target, consumption.shape)
        bounded = np.clip(full_target, lower, upper)
        imposed = float(np.abs(full_target - bounded).sum())
        offset = float(cell_cost @ target) - horizon.distance_weight * imposed
        next_column = 2 * n
    else:
        lowers = np.concatenate(row_lower)
        uppers = np.concatenate(row_upper)
        column_cost = cell_cost.astype(np.float64)
        column_lower = cell_lower.astype(np.float64)
        column_upper = cell_upper.astype(np.float64)
        next_column = n

    extra_cost: list[Array] = [column_cost]
    extra_lower: list[Array] = [column_lower]
    extra_upper: list[Array] = [column_upper]
    fairness_column = None
    if horizon.fairness is not None:
        assert fairness_row is not None
        fairness_column = next_column
        scale = horizon.fairness.scale
        rated = np.flatnonzero(scale > 0)
        columns.append(np.full(len(rated), fairness_column, dtype=np.int64))
        matrix_rows.append(fairness_row + rated.astype(np.int64))
        values.append(-scale[rated])
        unrated = np.flatnonzero(scale <= 0)
        lowers[fairness_row + unrated] = -INFINITY  # no rate for who consumes nothing
        extra_cost.append(np.zeros(1))
        extra_lower.append(np.zeros(1))
        extra_upper.append(np.array([horizon.fairness.upper]))
        next_column += 1

    storage_column = None
    if horizon.storage is not None:
        storage = horizon.storage
        storage_column = next_column
        step_rows = np.arange(steps, dtype=np.int64)
        balance = rows + step_rows
        charge = storage_column + step_rows
        discharge = charge + steps
        state = discharge + steps
        eta = storage.charge_efficiency
        columns += [charge, charge, discharge, discharge, state, state[:-1]]
        matrix_rows += [step_rows, balance, step_rows, balance, balance, balance[1:]]
        values += [
            np.ones(steps),
            np.full(steps, -eta),
            np.full(steps, -1.0),
            np.full(steps, 1.0 / eta),
            np.ones(steps),
            np.full(steps - 1, -1.0),
        ]
        # soc[t] - soc[t-1] - eta charge[t] + discharge[t] / eta = 0; soc[-1] = initial.
        first = np.zeros(steps)
        first[0] = storage.initial
        lowers = np.concatenate([lowers, first])
        uppers = np.concatenate([uppers, first])
        limit = storage.power * horizon.hours
        state_lower = np.zeros(steps)
        state_lower[-1] = storage.end
        extra_cost.append(np.zeros(3 * steps))
        extra_lower.append(np.concatenate([np.zeros(2 * steps), state_lower]))
        extra_upper.append(
            np.concatenate([np.full(2 * steps, limit), np.full(steps, storage.capacity)])
        )
        rows += steps
        next_column += 3 * steps
        if horizon.shares is not None:
            share_columns, share_matrix_rows, share_values, share_lower, share_upper = _share_rows(
                horizon.shares, t_index, i_index, discharge, rows, target, pool_upper
            )
            columns += share_columns
            matrix_rows += share_matrix_rows
            values += share_values
            if split:  # x = r + p - n: the n column enters with the opposite sign
                columns.append(share_columns[0] + n)
                matrix_rows.append(share_matrix_rows[0])
                values.append(-share_values[0])
            lowers = np.concatenate([lowers, share_lower])
            uppers = np.concatenate([uppers, share_upper])
            rows += len(share_lower)

    lp = LinearProgram(
        cost=np.concatenate(extra_cost),
        lower=np.concatenate(extra_lower),
        upper=np.concatenate(extra_upper),
        row_lower=lowers,
        row_upper=uppers,
        rows=np.concatenate(matrix_rows),
        columns=np.concatenate(columns),
        entries=np.concatenate(values).astype(np.float64),
        offset=offset,
    )
    layout = Layout(
        steps=t_index.astype(np.int64),
        members=i_index.astype(np.int64),
        split=split,
        fairness=fairness_column,
        storage=storage_column,
        horizon_steps=steps,
        consumers=consumers,
        target=target,
    )
    return lp, layout
