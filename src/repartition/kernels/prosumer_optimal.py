"""Kernels for the "optimal" prosumer key: relative offers, then rounds over the open consumers.

Every offer producer ``j`` makes in round ``r`` has the form ``k_i * rho[r, j]`` to each
open consumer ``i`` other than its owner ``o(j)``:

- round 0 is the relative key, ``rho[0, j] = P[j] * c[j]`` with ``c[j] = S / (S - k_o(j))``
  (``S = sum_i k_i``; 0 when the owner holds every share);
- round ``r + 1`` hands on what producer ``j`` has left, in proportion to ``k_i`` over the
  consumers still open (not saturated) other than its owner:
  ``rho[r + 1, j] = left[j] / sum_{open i != o(j)} k_i``.

A consumer offered more than it still needs takes all its offers scaled by one factor and
is saturated; the step ends after a redistribution round that saturates nobody (the first
one always runs).

**Levels.** A consumer that owns no producer is offered every producer's ``rho``, so after
round ``r`` it has been offered ``k_i * L[r]`` in all, with ``L[r] = sum_{q <= r} sum_j
rho[q, j]`` one *level* per step, and it holds ``min(C_i, k_i * L[r])``: it saturated in
the first round where ``k_i * L[r] > C_i``. An owner ``s`` has a level of its own,
``L_s[r]``, summed over the producers it does not own. So a round takes one pass over the
consumers (the sum of what they took, the keys still open, the count newly saturated) and
``O(producers * owners)`` to hand on the rest; no per-consumer state is kept, and the
results are ``A_i = min(C_i, k_i * L)`` with the final levels.

**Flows** come from the same rounds replayed on ``A`` instead of ``C``: ``min(A_i, k_i *
L[r]) = min(C_i, k_i * L[r])`` for every ``L[r] <= L``, so the replay finds the same levels
to the last bit, and producer ``j`` gives consumer ``i`` its part ``rho[r, j] / sum_j rho[r,
j]`` of what ``i`` took in each round (:func:`flow_tables`).

**Layouts.** :func:`optimal_rows` reads row-major (steps, consumers) data and runs each step's
rounds on its own, in parallel over chunks of steps. :func:`optimal_members` takes the rounds
for every step together on member-major data (the C-contiguous (consumers, steps) transpose,
pandas' usual layout): a round's sums over the consumers need one pass over the consumption,
read in memory order, and the rest of the round is ``O(producers * owners)`` per step; when
few steps are left unsettled, they are gathered and finished row by row. Both layouts sum
each step's terms in consumer order without fastmath
(:data:`~repartition.kernels._config.strict_range_kernel`), so they find the same rounds
to the last bit, on any number of threads. :func:`run` picks the one for the data's layout;
:func:`window_tables` rebuilds the flows of a window of steps (:func:`flow_tables`). NumPy twin:
:func:`repartition.reference.prosumer_optimal`. Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import (
    strict_inline_kernel,
    strict_range_kernel,
    strict_serial_kernel,
)
from repartition.kernels.layout import empty_outputs, is_by_member, read_only, row_major
from repartition.kernels.members import CHUNKS
from repartition.kernels.threads import run_ranges

__all__ = [
    "MAX_OFFER_RATE",
    "flow_tables",
    "optimal_members",
    "optimal_rows",
    "run",
    "window_tables",
]

Array = NDArray[np.float64]

MAX_OFFER_RATE = 1e300
"""Above this ``rho`` (energy left per unit of open coefficient), offers would overflow:
the step is reported (``passes = -1``) instead of giving NaN or breaking the invariants."""

# Ties. A consumer is saturated when it is offered strictly more than it needs (``k_i * L >
# C_i``); one offered exactly its need stays open one more round, takes nothing then, and its
# key still counts in that round's open keys. The rule is discontinuous there: when a tie
# falls either way by one rounding, the producers' parts of the later rounds (AUTOPROD, the
# flows) can change by a large fraction, the allocations by a little. These kernels decide
# every tie the same way in both layouts and on any number of threads; the NumPy twin, which
# compares sums of offers with what is still needed, can decide an exact tie the other way.

CONSUMER_CHUNKS = 16
"""A step's sums over the consumers are taken chunk by chunk (see :func:`_level_sums`)."""

NOTHING_PRODUCED = 2
"""The rounds of a step with no production: round 0 and the first redistribution round."""

FINISH_ONE_BY_ONE = 16
"""Member-major: once at most 1 step in 16 is unsettled, finish those steps one by one."""

MAX_PASSES = 12
"""Member-major: after this many passes, finish the steps left one by one whatever their
number."""


# --- one step, row by row: the rounds -----------------------------------------------------


@strict_inline_kernel
def _total(rho):  # type: ignore[no-untyped-def]
    total = 0.0
    for j in range(rho.shape[0]):
        total += rho[j]
    return total


@strict_inline_kernel
def _offered_to(rho, producer_slots, slot):  # type: ignore[no-untyped-def]
    """``sum_j rho[j]`` over the producers the owner of ``slot`` does not own."""
    total = 0.0
    for j in range(rho.shape[0]):
        if producer_slots[j] != slot:
            total += rho[j]
    return total


@strict_serial_kernel
def _begin(production, c, rho, delivered, owner_level):  # type: ignore[no-untyped-def]
    """Round 0's offers ``rho = P * c``; returns the step's rounds so far: 0 to go on,
    ``NOTHING_PRODUCED`` when nothing is produced (the step is settled) and -1 when an offer
    overflows."""
    produced = False
    overflow = False
    for j in range(production.shape[0]):
        rho[j] = production[j] * c[j]
        delivered[j] = 0.0
        produced = produced or production[j] > 0.0
        overflow = overflow or not rho[j] <= MAX_OFFER_RATE  # NaN included
    owner_level[:] = 0.0
    if overflow:
        return -1
    return 0 if produced else NOTHING_PRODUCED


@strict_inline_kernel
def _taken(need, weight, level, new_level):  # type: ignore[no-untyped-def]
    """What a consumer of key ``weight`` takes as its level goes from ``level`` to
    ``new_level``, and whether it saturates then (1), was saturated before (-1) or stays
    open (0)."""
    before = weight * level
    after = weight * new_level
    taken = (need if need < after else after) - (need if need < before else before)
    if after <= need:
        return taken, 0
    return taken, 1 if before <= need else -1


@strict_serial_kernel
def _level_sums(row, k, consumer_slots, level, new_level):  # type: ignore[no-untyped-def]
    """The consumers owning no producer, as their level goes from ``level`` to
    ``new_level``: what they took, the keys still open, and the count newly saturated.

    Summed over each of ``CONSUMER_CHUNKS`` chunks of consumers, then the chunks in order:
    the member-major kernel adds the same terms in the same order.
    """
    taken = 0.0
    open_key = 0.0
    newly = 0
    consumers = row.shape[0]
    for chunk in range(CONSUMER_CHUNKS):
        chunk_taken = 0.0
        chunk_open = 0.0
        for i in range(
            chunk * consumers // CONSUMER_CHUNKS, (chunk + 1) * consumers // CONSUMER_CHUNKS
        ):
            weight = k[i]
            if weight <= 0.0 or consumer_slots[i] >= 0:
                continue
            part, state = _taken(row[i], weight, level, new_level)
            chunk_taken += part
            if state == 0:
                chunk_open += weight
            elif state > 0:
                newly += 1
        taken += chunk_taken
        open_key += chunk_open
    return taken, open_key, newly


@strict_serial_kernel
def _end_round(  # type: ignore[no-untyped-def]
    round_,
    rounds_cap,
    production,
    k,
    producer_slots,
    slot_consumers,
    owner_needs,
    taken,
    open_key,
    newly,
    owner_level,
    rho,
    delivered,
    slot_scratch,
):
    """Close a round: the owners take their offers, each producer's delivered energy grows
    by its part of what everyone took, and what is left is offered for the next round.

    ``taken``, ``open_key`` and ``newly`` are :func:`_level_sums`'s. Returns 0 to go on,
    1 when the step is settled and -1 when an offer would overflow.
    """
    offered_to = slot_scratch[0]
    owner_taken = slot_scratch[1]
    owner_open = slot_scratch[2]
    offered = _total(rho)
    for s in range(slot_consumers.shape[0]):
        total = _offered_to(rho, producer_slots, s)
        offered_to[s] = total
        weight = k[slot_consumers[s]]
        level = owner_level[s]
        owner_level[s] = level + total
        owner_taken[s], state = _taken(owner_needs[s], weight, level, owner_level[s])
        owner_open[s] = weight if state == 0 else 0.0
        if state > 0:
            newly += 1
    for j in range(rho.shape[0]):
        # Each term >= 0 and each ratio <= 1: no cancellation, no overflow.
        part = taken * (rho[j] / offered) if offered > 0.0 else 0.0
        for s in range(slot_consumers.shape[0]):
            if s != producer_slots[j] and offered_to[s] > 0.0:
                part += owner_taken[s] * (rho[j] / offered_to[s])
        delivered[j] += part
    if (round_ > 0 and newly == 0) or round_ + 1 >= rounds_cap:
        return 1
    for j in range(rho.shape[0]):
        weight = open_key
        for s in range(slot_consumers.shape[0]):
            if s != producer_slots[j]:
                weight += owner_open[s]
        left = max(production[j] - delivered[j], 0.0)
        rho[j] = left / weight if weight > 0.0 else 0.0
        if not rho[j] <= MAX_OFFER_RATE:  # NaN included
            return -1
    return 0


@strict_serial_kernel
def _record(row, k, consumer_slots, producer_slots, level, new_level, owner_level, rho, received):  # type: ignore[no-untyped-def]
    """Add each producer's part of what each consumer takes in this round to ``received``
    (producers, consumers): ``rho[j]`` over the ``rho`` offered to that consumer."""
    offered = _total(rho)
    for i in range(row.shape[0]):
        weight = k[i]
        slot = consumer_slots[i]
        if weight <= 0.0:
            continue
        if slot < 0:
            total, start, stop = offered, level, new_level
        else:
            total = _offered_to(rho, producer_slots, slot)
            start, stop = owner_level[slot], owner_level[slot] + total
        part, _ = _taken(row[i], weight, start, stop)
        if part > 0.0:
            for j in range(rho.shape[0]):
                if slot < 0 or producer_slots[j] != slot:
                    received[j, i] += part * (rho[j] / total)


@strict_serial_kernel
def _finish(  # type: ignore[no-untyped-def]
    row,
    production,
    k,
    producer_slots,
    consumer_slots,
    slot_consumers,
    round_,
    level,
    owner_level,
    rho,
    delivered,
    owner_needs,
    slot_scratch,
    received,
):
    """Run the rounds of one step from ``round_`` (state: ``level``, ``owner_level``,
    ``rho``, ``delivered``) until it settles; returns ``(rounds, level)``, rounds -1 on
    overflow. With ``received`` of shape (producers, consumers), also records the flows."""
    for s in range(slot_consumers.shape[0]):
        owner_needs[s] = row[slot_consumers[s]]
    rounds_cap = row.shape[0] + 2
    while True:
        new_level = level + _total(rho)
        taken, open_key, newly = _level_sums(row, k, consumer_slots, level, new_level)
        if received.shape[1] > 0:
            _record(
                row, k, consumer_slots, producer_slots, level, new_level, owner_level, rho, received
            )
        status = _end_round(
            round_,
            rounds_cap,
            production,
            k,
            producer_slots,
            slot_consumers,
            owner_needs,
            taken,
            open_key,
            newly,
            owner_level,
            rho,
            delivered,
            slot_scratch,
        )
        level = new_level
        round_ += 1
        if status != 0:
            return (round_ if status > 0 else -1), level


@strict_serial_kernel
def _solve(  # type: ignore[no-untyped-def]
    row,
    production,
    k,
    c,
    producer_slots,
    consumer_slots,
    slot_consumers,
    owner_level,
    rho,
    delivered,
    owner_needs,
    slot_scratch,
    received,
):
    """One step from the start: ``(rounds, level)``."""
    rounds = _begin(production, c, rho, delivered, owner_level)
    if rounds != 0:
        return rounds, 0.0
    return _finish(
        row,
        production,
        k,
        producer_slots,
        consumer_slots,
        slot_consumers,
        0,
        0.0,
        owner_level,
        rho,
        delivered,
        owner_needs,
        slot_scratch,
        received,
    )


@strict_serial_kernel
def _write_row(row, k, consumer_slots, level, owner_level, allocated, grid_supply):  # type: ignore[no-untyped-def]
    """``A_i = min(C_i, k_i * L)`` (an owner's own level for an owner) and ``C - A``."""
    for i in range(row.shape[0]):
        need = row[i]
        slot = consumer_slots[i]
        weight = k[i]
        share = 0.0
        if weight > 0.0:
            cap = weight * (level if slot < 0 else owner_level[slot])
            share = need if need < cap else cap
        allocated[i] = share
        grid_supply[i] = need - share


# --- row-major: (steps, consumers) --------------------------------------------------------


@strict_range_kernel
def _optimal_rows_chunks(  # type: ignore[no-untyped-def]
    consumption,
    production,
    k,
    c,
    producer_slots,
    consumer_slots,
    slot_consumers,
    allocated,
    grid_supply,
    level,
    owner_level,
    delivered,
    passes,
    chunks,
    first_chunk,
    stop_chunk,
):
    steps = consumption.shape[0]
    producers = production.shape[1]
    owners = slot_consumers.shape[0]
    for chunk in range(first_chunk, stop_chunk):
        rho = np.empty(producers)
        owner_needs = np.empty(owners)
        slot_scratch = np.empty((3, owners))
        no_record = np.empty((producers, 0))
        for t in range(chunk * steps // chunks, (chunk + 1) * steps // chunks):
            passes[t], level[t] = _solve(
                consumption[t],
                production[t],
                k,
                c,
                producer_slots,
                consumer_slots,
                slot_consumers,
                owner_level[t],
                rho,
                delivered[t],
                owner_needs,
                slot_scratch,
                no_record,
            )
            _write_row(
                consumption[t],
                k,
                consumer_slots,
                level[t],
                owner_level[t],
                allocated[t],
                grid_supply[t],
            )


def optimal_rows(
    consumption: Array,
    production: Array,
    k: Array,
    c: Array,
    producer_slots: NDArray[np.intp],
    consumer_slots: NDArray[np.intp],
    slot_consumers: NDArray[np.intp],
    allocated: Array,
    grid_supply: Array,
    level: Array,
    owner_level: Array,
    delivered: Array,
    passes: NDArray[np.int32],
    chunks: int,
) -> None:
    """The optimal variant on row-major (steps, consumers) data, in parallel over chunks of
    steps.

    Writes AUTOCONS and COMPLEMENT, and per step the final ``level`` (steps,), the owners'
    ``owner_level`` (steps, owners), the energy each producer ``delivered`` (steps,
    producers: AUTOPROD is ``min(delivered, P)``) and the rounds in ``passes``.
    """
    run_ranges(
        _optimal_rows_chunks,
        chunks,
        consumption.size,
        *(consumption, production, k, c, producer_slots, consumer_slots, slot_consumers),
        *(allocated, grid_supply, level, owner_level, delivered, passes, chunks),
    )


# --- the flows, from a window of AUTOCONS read row-major ----------------------------------


@strict_range_kernel
def _flow_tables_steps(  # type: ignore[no-untyped-def]
    allocated, production, k, c, producer_slots, consumer_slots, slot_consumers, tables, start, stop
):
    consumers = allocated.shape[1]
    producers = production.shape[1]
    owners = slot_consumers.shape[0]
    for t in range(start, stop):
        rho = np.empty(producers)
        delivered = np.empty(producers)
        owner_level = np.empty(owners)
        owner_needs = np.empty(owners)
        slot_scratch = np.empty((3, owners))
        received = np.zeros((producers, consumers))
        _solve(
            allocated[t],
            production[t],
            k,
            c,
            producer_slots,
            consumer_slots,
            slot_consumers,
            owner_level,
            rho,
            delivered,
            owner_needs,
            slot_scratch,
            received,
        )
        for j in range(producers):
            power = production[t, j]
            for i in range(consumers):
                tables[j, t, i] = received[j, i] / power if power > 0.0 else 0.0


def flow_tables(
    allocated: Array,
    production: Array,
    k: Array,
    c: Array,
    producer_slots: NDArray[np.intp],
    consumer_slots: NDArray[np.intp],
    slot_consumers: NDArray[np.intp],
    tables: Array,
) -> None:
    """Each producer's flows as a share of its production, ``tables[j, t, i] = flow / P``.

    For the steps of one window: ``allocated`` (steps, consumers, row-major) is the key's
    AUTOCONS and ``production`` (steps, producers); the rounds are replayed on ``A`` (see
    the module's docstring), so the consumption is not needed. In parallel over steps.
    """
    run_ranges(
        _flow_tables_steps,
        allocated.shape[0],
        allocated.size,
        *(allocated, production, k, c, producer_slots, consumer_slots, slot_consumers, tables),
    )


# --- member-major: (consumers, steps), one pass per round for every step ------------------


@strict_range_kernel
def _begin_steps_range(  # type: ignore[no-untyped-def]
    production, c, rho, delivered, owner_level, level, new_level, passes, active, start, stop
):
    for t in range(start, stop):
        passes[t] = _begin(production[t], c, rho[t], delivered[t], owner_level[t])
        active[t] = passes[t] == 0
        level[t] = 0.0
        new_level[t] = _total(rho[t]) if active[t] else 0.0


def _begin_steps(
    production: Array,
    c: Array,
    rho: Array,
    delivered: Array,
    owner_level: Array,
    level: Array,
    new_level: Array,
    passes: NDArray[np.int32],
    active: NDArray[np.bool_],
) -> None:
    run_ranges(
        _begin_steps_range,
        production.shape[0],
        production.size,
        *(production, c, rho, delivered, owner_level, level, new_level, passes, active),
    )


@strict_range_kernel
def _level_sums_members_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member, k, consumer_slots, level, new_level, partial, first_chunk, stop_chunk
):
    consumers, steps = consumption_by_member.shape
    for chunk in range(first_chunk, stop_chunk):
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


@strict_range_kernel
def _add_level_sums_steps(partial, taken, open_key, newly, start, stop):  # type: ignore[no-untyped-def]
    for t in range(start, stop):
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


def _level_sums_members(
    consumption_by_member: Array,
    k: Array,
    consumer_slots: NDArray[np.intp],
    level: Array,
    new_level: Array,
    partial: Array,
    taken: Array,
    open_key: Array,
    newly: NDArray[np.int64],
) -> None:
    """:func:`_level_sums` for every step at once.

    Each chunk of consumers reads its rows whole, in memory order, into its own sums
    ``partial`` (3, chunks, steps); the chunks are then added in order.
    """
    run_ranges(
        _level_sums_members_chunks,
        CONSUMER_CHUNKS,
        consumption_by_member.size,
        *(consumption_by_member, k, consumer_slots, level, new_level, partial),
    )
    run_ranges(
        _add_level_sums_steps,
        consumption_by_member.shape[1],
        partial.size,
        *(partial, taken, open_key, newly),
    )


@strict_range_kernel
def _end_rounds_chunks(  # type: ignore[no-untyped-def]
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
    first_chunk,
    stop_chunk,
):
    steps = production.shape[0]
    for chunk in range(first_chunk, stop_chunk):
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


def _end_rounds(
    rounds_cap: int,
    production: Array,
    k: Array,
    producer_slots: NDArray[np.intp],
    slot_consumers: NDArray[np.intp],
    owner_needs: Array,
    taken: Array,
    open_key: Array,
    newly: NDArray[np.int64],
    level: Array,
    new_level: Array,
    owner_level: Array,
    rho: Array,
    delivered: Array,
    passes: NDArray[np.int32],
    active: NDArray[np.bool_],
    chunks: int,
) -> None:
    """Close the round of every unsettled step, and set the level of its next round."""
    run_ranges(
        _end_rounds_chunks,
        chunks,
        production.shape[0] * (slot_consumers.shape[0] + 1),
        *(rounds_cap, production, k, producer_slots, slot_consumers, owner_needs),
        *(taken, open_key, newly, level, new_level, owner_level, rho, delivered),
        *(passes, active, chunks),
    )


@strict_range_kernel
def _finish_steps_range(  # type: ignore[no-untyped-def]
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
    first_position,
    stop_position,
):
    consumers = consumption_by_member.shape[0]
    owners = slot_consumers.shape[0]
    for position in range(first_position, stop_position):
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


def _finish_steps(
    consumption_by_member: Array,
    production: Array,
    k: Array,
    producer_slots: NDArray[np.intp],
    consumer_slots: NDArray[np.intp],
    slot_consumers: NDArray[np.intp],
    left: NDArray[np.intp],
    level: Array,
    owner_level: Array,
    rho: Array,
    delivered: Array,
    passes: NDArray[np.int32],
) -> None:
    """Gather each listed step's row and finish its rounds from where the passes left it."""
    run_ranges(
        _finish_steps_range,
        left.size,
        left.size * consumption_by_member.shape[0],
        *(consumption_by_member, production, k, producer_slots, consumer_slots),
        *(slot_consumers, left, level, owner_level, rho, delivered, passes),
    )


@strict_range_kernel
def _write_members(  # type: ignore[no-untyped-def]
    consumption_by_member,
    k,
    consumer_slots,
    level,
    owner_level,
    allocated_by_member,
    grid_supply_by_member,
    first_member,
    stop_member,
):
    steps = consumption_by_member.shape[1]
    for i in range(first_member, stop_member):
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


def _write(
    consumption_by_member: Array,
    k: Array,
    consumer_slots: NDArray[np.intp],
    level: Array,
    owner_level: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
) -> None:
    """``A_i = min(C_i, k_i * L)`` (an owner's own level for an owner) and ``C - A``,
    consumer by consumer, in memory order."""
    run_ranges(
        _write_members,
        consumption_by_member.shape[0],
        consumption_by_member.size,
        *(consumption_by_member, k, consumer_slots, level, owner_level),
        *(allocated_by_member, grid_supply_by_member),
    )


def optimal_members(
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
    outputs of :func:`optimal_rows`, the data transposed.

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
            )
            break
        _level_sums_members(
            *(consumption_by_member, k, consumer_slots, level, new_level),
            *(partial, taken, open_key, newly),
        )
        _end_rounds(
            consumers + 2,
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
        )
    _write(
        *(consumption_by_member, k, consumer_slots, level, owner_level),
        *(allocated_by_member, grid_supply_by_member),
    )


# --- either layout ------------------------------------------------------------------------


def run(
    consumption: Array,
    production: Array,
    k: Array,
    c: Array,
    slots: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]],
    *,
    out: tuple[Array, Array] | None = None,
) -> tuple[Array, Array, Array, Array, NDArray[np.int32]]:
    """The optimal variant on ``consumption`` stored either way: static keys ``k``
    (consumers,), the relative scale ``c`` (producers,) and the owners' ``slots`` (the slot
    of each producer's owner, each consumer's slot, the consumer of each slot), all
    read-only.

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus and
    the rounds of each step (``-1`` where an offer overflowed: the caller reports it, the
    other outputs of that step mean nothing); ``out``: see
    :func:`repartition.kernels.layout.empty_outputs`.
    """
    consumption, production = read_only(consumption), read_only(production)
    steps = consumption.shape[0]
    outputs = empty_outputs(consumption, production, out)
    allocated, grid_supply, self_consumed, surplus = outputs
    level = np.empty(steps)
    owner_level = np.empty((steps, len(slots[2])))
    delivered = np.empty(production.shape)
    passes = np.empty(steps, dtype=np.int32)
    records = (level, owner_level, delivered, passes, CHUNKS)
    if is_by_member(consumption):
        optimal_members(
            *(consumption.T, production, k, c, *slots, allocated.T, grid_supply.T), *records
        )
    else:
        optimal_rows(*(consumption, production, k, c, *slots, allocated, grid_supply), *records)
    np.minimum(delivered, production, out=self_consumed)
    np.subtract(production, self_consumed, out=surplus)
    return allocated, grid_supply, self_consumed, surplus, passes


def window_tables(
    allocated: Array,
    production: Array,
    k: Array,
    c: Array,
    slots: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]],
    start: int,
    stop: int,
) -> Array:
    """Each producer's flows over steps ``[start, stop)`` as a share of its production,
    shape (producers, steps, consumers), replaying the rounds (:func:`flow_tables`) on
    AUTOCONS ``allocated`` (stored either way: the window is read row-major)."""
    tables = np.empty((len(c), stop - start, allocated.shape[1]))
    flow_tables(row_major(allocated[start:stop]), production[start:stop], *(k, c, *slots, tables))
    return tables
