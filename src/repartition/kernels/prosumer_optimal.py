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

Both layouts sum each step's terms in consumer order without fastmath
(:data:`~repartition.kernels._config.strict_parallel_kernel`), so they find the same rounds.
NumPy twin: :func:`repartition.reference.prosumer_optimal`. Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import (
    prange,
    strict_inline_kernel,
    strict_parallel_kernel,
    strict_serial_kernel,
)

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


@strict_parallel_kernel
def optimal(  # type: ignore[no-untyped-def]
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
):
    """The optimal variant on row-major (steps, consumers) data, in parallel over steps.

    Writes AUTOCONS and COMPLEMENT, and per step the final ``level`` (steps,), the owners'
    ``owner_level`` (steps, owners), the energy each producer ``delivered`` (steps,
    producers: AUTOPROD is ``min(delivered, P)``) and the rounds in ``passes``.
    """
    steps = consumption.shape[0]
    producers = production.shape[1]
    owners = slot_consumers.shape[0]
    for chunk in prange(chunks):
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


@strict_parallel_kernel
def flow_tables(  # type: ignore[no-untyped-def]
    allocated, production, k, c, producer_slots, consumer_slots, slot_consumers, tables
):
    """Each producer's flows as a share of its production, ``tables[j, t, i] = flow / P``.

    For the steps of one window: ``allocated`` (steps, consumers, row-major) is the key's
    AUTOCONS and ``production`` (steps, producers); the rounds are replayed on ``A`` (see
    the module's docstring), so the consumption is not needed.
    """
    steps, consumers = allocated.shape
    producers = production.shape[1]
    owners = slot_consumers.shape[0]
    for t in prange(steps):
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
