"""The "optimal" prosumer key on member-major data: one pass per round, every step at once.

The rounds of :mod:`repartition.kernels.prosumer_optimal`, taken for every step together:
a round's sums over the consumers (what they took, the keys still open, the count newly
saturated) need one pass over the consumption, a C-contiguous (consumers, steps) array
(the transpose of what the user sees), read in memory order; the rest of the round is
``O(producers * owners)`` per step. Each step's terms are added in consumer order, as in
the row-major kernel, so both layouts find the same rounds to the last bit. When few steps
are left unsettled, they are gathered and finished row by row.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import prange, strict_parallel_kernel
from repartition.kernels.prosumer_optimal import (
    CONSUMER_CHUNKS,
    _begin,
    _end_round,
    _finish,
    _taken,
    _total,
)

Array = NDArray[np.float64]

FINISH_ONE_BY_ONE = 16
"""Once at most 1 step in 16 is unsettled, finish those steps one by one."""

MAX_PASSES = 12
"""After this many passes, finish the steps left one by one whatever their number."""


@strict_parallel_kernel
def _begin_steps(production, c, rho, delivered, owner_level, level, new_level, passes, active):  # type: ignore[no-untyped-def]
    for t in prange(production.shape[0]):
        passes[t] = _begin(production[t], c, rho[t], delivered[t], owner_level[t])
        active[t] = passes[t] == 0
        level[t] = 0.0
        new_level[t] = _total(rho[t]) if active[t] else 0.0


@strict_parallel_kernel
def _level_sums(  # type: ignore[no-untyped-def]
    consumption_by_member, k, consumer_slots, level, new_level, partial, taken, open_key, newly
):
    """:func:`repartition.kernels.prosumer_optimal._level_sums` for every step at once.

    Each chunk of consumers reads its rows whole, in memory order, into its own sums
    ``partial`` (3, chunks, steps); the chunks are then added in order.
    """
    consumers, steps = consumption_by_member.shape
    for chunk in prange(CONSUMER_CHUNKS):
        chunk_taken, chunk_open, chunk_newly = (
            partial[0, chunk],
            partial[1, chunk],
            partial[2, chunk],
        )
        chunk_taken[:] = 0.0
        chunk_open[:] = 0.0
        chunk_newly[:] = 0.0
        for i in range(
            chunk * consumers // CONSUMER_CHUNKS, (chunk + 1) * consumers // CONSUMER_CHUNKS
        ):
            weight = k[i]
            if weight <= 0.0 or consumer_slots[i] >= 0:
                continue
            for t in range(steps):
                part, state = _taken(consumption_by_member[i, t], weight, level[t], new_level[t])
                chunk_taken[t] += part
                if state == 0:
                    chunk_open[t] += weight
                elif state > 0:
                    chunk_newly[t] += 1.0
    for t in prange(steps):
        step_taken = 0.0
        step_open = 0.0
        step_newly = 0
        for chunk in range(CONSUMER_CHUNKS):
            step_taken += partial[0, chunk, t]
            step_open += partial[1, chunk, t]
            step_newly += int(partial[2, chunk, t])
        taken[t] = step_taken
        open_key[t] = step_open
        newly[t] = step_newly


@strict_parallel_kernel
def _end_rounds(  # type: ignore[no-untyped-def]
    rounds_cap,
    production,
    k,
    producer_slots,
    slot_consumers,
    owner_needs,
    taken,
    open_key,
    newly,
    level,
    new_level,
    owner_level,
    rho,
    delivered,
    passes,
    active,
    chunks,
):
    """Close the round of every unsettled step, and set the level of its next round."""
    steps = production.shape[0]
    for chunk in prange(chunks):
        slot_scratch = np.empty((3, slot_consumers.shape[0]))
        for t in range(chunk * steps // chunks, (chunk + 1) * steps // chunks):
            if not active[t]:
                continue
            status = _end_round(
                passes[t],
                rounds_cap,
                production[t],
                k,
                producer_slots,
                slot_consumers,
                owner_needs[t],
                taken[t],
                open_key[t],
                newly[t],
                owner_level[t],
                rho[t],
                delivered[t],
                slot_scratch,
            )
            level[t] = new_level[t]
            passes[t] += 1
            if status != 0:
                active[t] = False
                if status < 0:
                    passes[t] = -1
            else:
                new_level[t] = level[t] + _total(rho[t])


@strict_parallel_kernel
def _finish_steps(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    k,
    producer_slots,
    consumer_slots,
    slot_consumers,
    left,
    level,
    owner_level,
    rho,
    delivered,
    passes,
):
    """Gather each listed step's row and finish its rounds from where the passes left it."""
    consumers = consumption_by_member.shape[0]
    owners = slot_consumers.shape[0]
    for position in prange(left.size):
        t = left[position]
        row = np.empty(consumers)
        for i in range(consumers):
            row[i] = consumption_by_member[i, t]
        passes[t], level[t] = _finish(
            row,
            production[t],
            k,
            producer_slots,
            consumer_slots,
            slot_consumers,
            passes[t],
            level[t],
            owner_level[t],
            rho[t],
            delivered[t],
            np.empty(owners),
            np.empty((3, owners)),
            np.empty((production.shape[1], 0)),
        )


@strict_parallel_kernel
def _write(  # type: ignore[no-untyped-def]
    consumption_by_member,
    k,
    consumer_slots,
    level,
    owner_level,
    allocated_by_member,
    grid_supply_by_member,
):
    """``A_i = min(C_i, k_i * L)`` (an owner's own level for an owner) and ``C - A``,
    consumer by consumer, in memory order."""
    consumers, steps = consumption_by_member.shape
    for i in prange(consumers):
        weight = k[i]
        slot = consumer_slots[i]
        if weight <= 0.0:
            for t in range(steps):
                allocated_by_member[i, t] = 0.0
                grid_supply_by_member[i, t] = consumption_by_member[i, t]
        elif slot < 0:
            for t in range(steps):
                need = consumption_by_member[i, t]
                cap = weight * level[t]
                share = need if need < cap else cap
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = need - share
        else:
            for t in range(steps):
                need = consumption_by_member[i, t]
                cap = weight * owner_level[t, slot]
                share = need if need < cap else cap
                allocated_by_member[i, t] = share
                grid_supply_by_member[i, t] = need - share


def optimal_by_member(
    consumption_by_member: Array,
    production: Array,
    k: Array,
    c: Array,
    producer_slots: NDArray[np.intp],
    consumer_slots: NDArray[np.intp],
    slot_consumers: NDArray[np.intp],
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    level: Array,
    owner_level: Array,
    delivered: Array,
    passes: NDArray[np.int32],
    chunks: int,
) -> None:
    """The optimal variant on member-major (consumers, steps) data; the arguments and
    outputs of :func:`repartition.kernels.prosumer_optimal.optimal`, the data transposed.

    One pass over the consumption per round for every unsettled step; the steps left when
    they are at most one in ``FINISH_ONE_BY_ONE`` (on fewer than that many steps: none), or
    after ``MAX_PASSES`` passes, are finished row by row.
    """
    consumers, steps = consumption_by_member.shape
    rho = np.empty((steps, production.shape[1]))
    new_level = np.empty(steps)
    active = np.empty(steps, dtype=np.bool_)
    _begin_steps(production, c, rho, delivered, owner_level, level, new_level, passes, active)
    owner_needs = np.ascontiguousarray(consumption_by_member[slot_consumers].T)
    taken, open_key = np.empty(steps), np.empty(steps)
    newly = np.empty(steps, dtype=np.int64)
    partial = np.empty((3, CONSUMER_CHUNKS, steps))
    for round_ in range(MAX_PASSES + 1):
        left = np.flatnonzero(active)
        if left.size == 0:
            break
        if left.size <= steps // FINISH_ONE_BY_ONE or round_ == MAX_PASSES:
            _finish_steps(
                *(consumption_by_member, production, k, producer_slots, consumer_slots),
                *(slot_consumers, left, level, owner_level, rho, delivered, passes),
            )
            break
        _level_sums(
            *(consumption_by_member, k, consumer_slots, level, new_level),
            *(partial, taken, open_key, newly),
        )
        _end_rounds(
            *(consumers + 2, production, k, producer_slots, slot_consumers, owner_needs),
            *(taken, open_key, newly, level, new_level, owner_level, rho, delivered),
            *(passes, active, chunks),
        )
    _write(
        *(consumption_by_member, k, consumer_slots, level, owner_level),
        *(allocated_by_member, grid_supply_by_member),
    )
