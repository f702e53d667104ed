"""The economic greedy: serve consumers in decreasing order of the value of a local kWh.

At each step the pooled production ``P_tot[t]`` goes to the consumers in decreasing order
of ``value[t, i]`` (retail price minus local price, EUR/kWh), each up to its consumption,
until it runs out. Consumers of equal value form one group: when the production left
cannot serve the whole group, the group shares it in proportion to consumption (so that
the result does not depend on the column order). Consumers of negative value receive
nothing; consumers of value 0 are served last, or not at all (``serve_zero``). AUTOPROD and
SURPLUS are the pooled attribution (:mod:`repartition.kernels.attribution`).

A group that cannot be served whole gets ``C[t, i] * left / demand``; a group of one
consumer gets exactly ``left``, so that no rounding can hand out more than is left.

:func:`greedy_fixed_rows` (one value per consumer) and :func:`greedy_per_step_rows` (a value
per step and consumer, each row sorted on its own) take row-major (steps, consumers) data;
:func:`greedy_fixed_members` reads member-major data (pandas' usual layout) in memory order,
for one value per consumer. :func:`run` picks the kernel: with a value per step,
member-major consumption and values are copied once into row-major (results row-major).
NumPy twin: :func:`repartition.reference.economic_greedy`. Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel, serial_kernel
from repartition.kernels.attribution import attribute_row, pooled_production
from repartition.kernels.layout import Outputs, empty_outputs, is_by_member, read_only, row_major
from repartition.kernels.members import CHUNKS
from repartition.kernels.threads import run_ranges

__all__ = ["greedy_fixed_members", "greedy_fixed_rows", "greedy_per_step_rows", "run"]

Array = NDArray[np.float64]


# --- row-major: (steps, consumers) --------------------------------------------------------


@serial_kernel
def _greedy_row(  # type: ignore[no-untyped-def]
    consumption, t, values, order, production_total, serve_zero, allocated, grid_supply
):
    """Fill row t in the given ``order`` (decreasing ``values``); returns ``sum_i A[t, i]``."""
    n = consumption.shape[1]
    for i in range(n):
        allocated[t, i] = 0.0
        grid_supply[t, i] = consumption[t, i]
    remaining = production_total
    allocated_total = 0.0
    start = 0
    while start < n and remaining > 0.0:
        value = values[order[start]]
        if value < 0.0 or (value == 0.0 and not serve_zero):
            break
        end = start
        demand = 0.0
        while end < n and values[order[end]] == value:
            demand += consumption[t, order[end]]
            end += 1
        if demand <= remaining:
            for position in range(start, end):
                i = order[position]
                c = consumption[t, i]
                allocated[t, i] = c
                grid_supply[t, i] = 0.0
                allocated_total += c
            remaining -= demand
        elif end == start + 1:
            i = order[start]
            allocated[t, i] = remaining
            grid_supply[t, i] = consumption[t, i] - remaining
            allocated_total += remaining
            remaining = 0.0
        else:
            ratio = remaining / demand  # < 1: every share stays below its consumption
            for position in range(start, end):
                i = order[position]
                c = consumption[t, i]
                share = c * ratio
                allocated[t, i] = share
                grid_supply[t, i] = c - share
                allocated_total += share
            remaining = 0.0
        start = end
    return allocated_total


@range_kernel
def _greedy_fixed_steps(  # type: ignore[no-untyped-def]
    consumption,
    production,
    production_total,
    values,
    order,
    serve_zero,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
    start,
    stop,
):
    for t in range(start, stop):
        total = production_total[t]
        allocated_total = _greedy_row(
            consumption, t, values, order, total, serve_zero, allocated, grid_supply
        )
        attribute_row(production, t, total, allocated_total, self_consumed, surplus)


def greedy_fixed_rows(
    consumption: Array,
    production: Array,
    production_total: Array,
    values: Array,
    order: NDArray[np.intp],
    serve_zero: bool,
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Economic greedy with one value per consumer; ``order`` sorts ``values`` decreasingly.
    In parallel over steps."""
    run_ranges(
        _greedy_fixed_steps,
        consumption.shape[0],
        consumption.size,
        *(consumption, production, production_total, values, order, serve_zero),
        *(allocated, grid_supply, self_consumed, surplus),
    )


@range_kernel
def _greedy_per_step_steps(  # type: ignore[no-untyped-def]
    consumption,
    production,
    production_total,
    values,
    serve_zero,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
    start,
    stop,
):
    for t in range(start, stop):
        total = production_total[t]
        row = values[t]
        order = np.argsort(-row)
        allocated_total = _greedy_row(
            consumption, t, row, order, total, serve_zero, allocated, grid_supply
        )
        attribute_row(production, t, total, allocated_total, self_consumed, surplus)


def greedy_per_step_rows(
    consumption: Array,
    production: Array,
    production_total: Array,
    values: Array,
    serve_zero: bool,
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """Economic greedy with a value per step and consumer (row-major ``values``), each row
    sorted in the kernel. In parallel over steps."""
    run_ranges(
        _greedy_per_step_steps,
        consumption.shape[0],
        consumption.size,
        *(consumption, production, production_total, values, serve_zero),
        *(allocated, grid_supply, self_consumed, surplus),
    )


# --- member-major: (consumers, steps), one value per consumer -----------------------------


@serial_kernel
def _serve_member(  # type: ignore[no-untyped-def]
    consumption_by_member,
    i,
    first,
    remaining,
    allocated_by_member,
    grid_supply_by_member,
    allocated_total,
):
    """Serve consumer i alone on steps ``first + t``: ``min(C, left)``."""
    for t in range(remaining.shape[0]):
        c = consumption_by_member[i, first + t]
        left = remaining[t]
        share = c if c <= left else left
        allocated_by_member[i, first + t] = share
        grid_supply_by_member[i, first + t] = c - share
        allocated_total[t] += share
        remaining[t] = left - share


@serial_kernel
def _serve_group(  # type: ignore[no-untyped-def]
    consumption_by_member,
    group,
    first,
    remaining,
    demand,
    allocated_by_member,
    grid_supply_by_member,
    allocated_total,
):
    """Serve the consumers ``group`` (equal value) together on steps ``first + t``."""
    width = remaining.shape[0]
    demand[:] = 0.0
    for i in group:
        for t in range(width):
            demand[t] += consumption_by_member[i, first + t]
    for i in group:
        for t in range(width):
            c = consumption_by_member[i, first + t]
            share = c
            if demand[t] > remaining[t]:
                share = c * (remaining[t] / demand[t])  # < c: the group shares what is left
            allocated_by_member[i, first + t] = share
            grid_supply_by_member[i, first + t] = c - share
            allocated_total[t] += share
    for t in range(width):
        remaining[t] = max(remaining[t] - demand[t], 0.0)


@range_kernel
def _greedy_fixed_members_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    production_total,
    values,
    order,
    serve_zero,
    allocated_by_member,
    grid_supply_by_member,
    self_consumed,
    surplus,
    chunks,
    first_chunk,
    stop_chunk,
):
    members, steps = consumption_by_member.shape
    for chunk in range(first_chunk, stop_chunk):
        first = chunk * steps // chunks
        stop = (chunk + 1) * steps // chunks
        remaining = production_total[first:stop].copy()
        allocated_total = np.zeros(stop - first)
        demand = np.empty(stop - first)
        start = 0
        while start < members:
            value = values[order[start]]
            end = start + 1
            while end < members and values[order[end]] == value:
                end += 1
            if value < 0.0 or (value == 0.0 and not serve_zero):
                remaining[:] = 0.0  # nobody else is served
            if end == start + 1:
                _serve_member(
                    consumption_by_member,
                    order[start],
                    first,
                    remaining,
                    allocated_by_member,
                    grid_supply_by_member,
                    allocated_total,
                )
            else:
                _serve_group(
                    consumption_by_member,
                    order[start:end],
                    first,
                    remaining,
                    demand,
                    allocated_by_member,
                    grid_supply_by_member,
                    allocated_total,
                )
            start = end
        for t in range(stop - first):
            attribute_row(
                production,
                first + t,
                production_total[first + t],
                allocated_total[t],
                self_consumed,
                surplus,
            )


def greedy_fixed_members(
    consumption_by_member: Array,
    production: Array,
    production_total: Array,
    values: Array,
    order: NDArray[np.intp],
    serve_zero: bool,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
    chunks: int,
) -> None:
    """:func:`greedy_fixed_rows` on member-major data, shape (consumers, steps).

    The steps are cut in ``chunks`` blocks, shared among the threads; each block walks the
    consumers in ``order``, reading each one's block of steps in memory order, with what is
    left of the production per step in the block's own buffer. Consumers of negative
    value (or 0 without ``serve_zero``) receive nothing.
    """
    run_ranges(
        _greedy_fixed_members_chunks,
        chunks,
        consumption_by_member.size,
        *(consumption_by_member, production, production_total, values, order, serve_zero),
        *(allocated_by_member, grid_supply_by_member, self_consumed, surplus, chunks),
    )


# --- either layout ------------------------------------------------------------------------


def _order(values: Array) -> NDArray[np.intp]:
    """Consumers by decreasing value; equal values keep their column order."""
    return read_only(np.argsort(-values, kind="stable"))


def run(consumption: Array, production: Array, values: Array, serve_zero: bool) -> Outputs:
    """The economic greedy with ``values`` [EUR/kWh], one per consumer (consumers,) or one
    per step and consumer (steps, consumers), on ``consumption`` stored either way.

    Returns allocated, grid_supply (stored like ``consumption`` for one value per consumer,
    row-major for a value per step), self_consumed, surplus.
    """
    production = read_only(production)
    production_total = pooled_production(production)
    if values.ndim == 1 and is_by_member(consumption):
        outputs = empty_outputs(consumption, production)  # member-major, like the input
        allocated, grid_supply, self_consumed, surplus = outputs
        greedy_fixed_members(
            read_only(consumption).T,
            production,
            production_total,
            read_only(values),
            _order(values),
            serve_zero,
            allocated.T,
            grid_supply.T,
            self_consumed,
            surplus,
            CHUNKS,
        )
        return outputs
    rows = row_major(consumption)  # one copy for member-major data
    outputs = empty_outputs(rows, production)
    if values.ndim == 2:
        greedy_per_step_rows(
            rows, production, production_total, row_major(values), serve_zero, *outputs
        )
    else:
        greedy_fixed_rows(
            rows,
            production,
            production_total,
            read_only(values),
            _order(values),
            serve_zero,
            *outputs,
        )
    return outputs
