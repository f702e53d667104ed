"""Kernels for the "optimal" prosumer key: relative offers, then rounds over the open consumers.

Every offer producer ``j`` makes in round ``r`` has the form ``k_i * rho[r, j]`` to each
open consumer ``i`` other than its owner ``o(j)``:

- round 0 is the relative key, ``rho[0, j] = P[j] * c[j]`` with ``c[j] = S / (S - k_o(j))``
  (``S = sum_i k_i``; 0 when the owner holds every share);
- round ``r + 1`` hands on what producer ``j`` has left, in proportion to ``k_i`` over the
  consumers still open (not saturated) other than its owner:
  ``rho[r + 1, j] = left[j] / sum_{open i != o(j)} k_i``.

A consumer offered more than it still needs takes all its offers scaled by one factor ``f``
and is saturated; the step ends after a redistribution round that saturates nobody (the
first one always runs). So a round costs ``O(consumers + producers)``, not one pass per
producer: a consumer's demand is ``k_i * (sum_j rho[r, j] - sum_{j owned by i} rho[r, j])``.

What a step's flows need is recorded compactly: for each consumer, the round in which it
saturated (``-1``: never) and its factor then. From these, :func:`flow_tables` rebuilds
``flow[t, j, i] = k_i * (sum_{r < s_i} rho[r, j] + rho[s_i, j] * f_i)`` (``i != o(j)``;
a consumer never saturated takes every round whole) on demand, for any window of steps,
without the consumption. NumPy twin: :func:`repartition.reference.prosumer_optimal`.
Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange, serial_kernel

BLOCK = 8
"""Steps gathered at a time by :func:`optimal_by_member`: one 64-byte line of a member's row."""

MAX_OFFER_RATE = 1e300
"""Above this ``rho`` (energy left per unit of open coefficient), offers would overflow:
the step is reported (``passes = -1``) instead of giving NaN or breaking the invariants."""


@serial_kernel
def _offered(rho, producer_slots, slot):  # type: ignore[no-untyped-def]
    """``sum_j rho[j]`` over the producers whose owner is not the consumer of ``slot``
    (every producer when ``slot < 0``): summed afresh, never as a difference, so that a
    consumer owning a large producer does not lose the others' offers to cancellation."""
    total = 0.0
    for j in range(rho.shape[0]):
        if slot < 0 or producer_slots[j] != slot:
            total += rho[j]
    return total


@serial_kernel
def _except_owner(free, per_slot, slot):  # type: ignore[no-untyped-def]
    """``free + sum_s per_slot[s]`` over the owner slots other than ``slot``: a sum of terms
    >= 0, never a difference."""
    total = free
    for other in range(per_slot.shape[0]):
        if other != slot:
            total += per_slot[other]
    return total


@serial_kernel
def _take(consumption, allocated, saturation, factor, i, demand, round_):  # type: ignore[no-untyped-def]
    """Consumer i takes ``demand``, or only what it still needs, scaled by one factor: then
    it saturates in ``round_``. Returns the factor (1 when it took everything)."""
    need = consumption[i] - allocated[i]
    if demand > need:
        share = need / demand
        allocated[i] = consumption[i]
        saturation[i] = round_
        factor[i] = share
        return share
    allocated[i] += demand
    return 1.0


@serial_kernel
def _rounds(  # type: ignore[no-untyped-def]
    consumption,
    production,
    k,
    c,
    producer_slots,
    consumer_slots,
    slot_consumers,
    allocated,
    saturation,
    factor,
    scratch,
    slot_scratch,
):
    """Solve one step; returns the rounds it took, or -1 if an offer overflowed.

    ``consumption`` (consumers,) and ``production`` (producers,) are the step's rows.
    Owners are numbered by slot: ``producer_slots[j]`` is the slot of producer j's owner,
    ``consumer_slots[i]`` consumer i's slot (-1: none) and ``slot_consumers[s]`` the
    consumer of slot s; owners are served after the others in each round (the order does
    not matter within a round: each consumer reacts to the round's offers alone).
    ``allocated``, ``saturation`` (round of saturation, -1 if never) and ``factor`` (the
    factor then, 0 if never) receive the result. ``scratch`` (2, producers) holds ``rho``
    and the energy each producer delivered (AUTOPROD is ``min(scratch[1], P)``);
    ``slot_scratch`` (3, owners) the owners' offers, gains and open keys of a round.
    """
    consumers = consumption.shape[0]
    producers = production.shape[0]
    rho = scratch[0]
    delivered = scratch[1]
    offered_to = slot_scratch[0]
    owner_gain = slot_scratch[1]
    owner_open = slot_scratch[2]
    for i in range(consumers):
        allocated[i] = 0.0
        saturation[i] = -1
        factor[i] = 0.0
    produced = False
    for j in range(producers):
        rho[j] = production[j] * c[j]
        delivered[j] = 0.0
        produced = produced or production[j] > 0.0
    if not produced:
        return 2  # nothing to share: round 0 and the first redistribution round find it
    rounds = 0
    for round_ in range(consumers + 2):
        rounds += 1
        offered = _offered(rho, producer_slots, -1)
        for slot in range(offered_to.shape[0]):
            offered_to[slot] = _offered(rho, producer_slots, slot)
            owner_gain[slot] = 0.0
            owner_open[slot] = 0.0
        gained = 0.0  # sum of k_i * factor over the non-owners open this round
        open_key = 0.0  # sum of k_i over the non-owners still open after it
        newly = 0
        for i in range(consumers):
            if saturation[i] >= 0 or consumer_slots[i] >= 0:
                continue  # saturated earlier (takes nothing), or an owner (below)
            share = _take(consumption, allocated, saturation, factor, i, k[i] * offered, round_)
            gained += k[i] * share
            if saturation[i] < 0:
                open_key += k[i]
            else:
                newly += 1
        for slot in range(slot_consumers.shape[0]):
            i = slot_consumers[slot]
            if saturation[i] >= 0:
                continue
            demand = k[i] * offered_to[slot]
            share = _take(consumption, allocated, saturation, factor, i, demand, round_)
            owner_gain[slot] = k[i] * share
            if saturation[i] < 0:
                owner_open[slot] = k[i]
            else:
                newly += 1
        for j in range(producers):
            delivered[j] += rho[j] * _except_owner(gained, owner_gain, producer_slots[j])
        if round_ > 0 and newly == 0:
            break
        for j in range(producers):
            weight = _except_owner(open_key, owner_open, producer_slots[j])
            left = max(production[j] - delivered[j], 0.0)
            rho[j] = left / weight if weight > 0.0 else 0.0
            if rho[j] > MAX_OFFER_RATE:
                return -1
    for i in range(consumers):
        allocated[i] = min(allocated[i], consumption[i])
    return rounds


@serial_kernel
def _attribute(production, t, delivered, self_consumed, surplus):  # type: ignore[no-untyped-def]
    for j in range(production.shape[1]):
        power = production[t, j]
        shared = min(delivered[j], power)
        self_consumed[t, j] = shared
        surplus[t, j] = power - shared


@parallel_kernel
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
    saturation,
    factor,
    self_consumed,
    surplus,
    passes,
    chunks,
):
    """The optimal variant on row-major (steps, consumers) data, in parallel over steps."""
    steps = consumption.shape[0]
    producers = production.shape[1]
    owners = max(1, producer_slots.max() + 1)
    for chunk in prange(chunks):
        scratch = np.empty((2, producers))
        slot_scratch = np.empty((3, owners))
        for t in range(chunk * steps // chunks, (chunk + 1) * steps // chunks):
            passes[t] = _rounds(
                consumption[t],
                production[t],
                k,
                c,
                producer_slots,
                consumer_slots,
                slot_consumers,
                allocated[t],
                saturation[t],
                factor[t],
                scratch,
                slot_scratch,
            )
            for i in range(consumption.shape[1]):
                grid_supply[t, i] = consumption[t, i] - allocated[t, i]
            _attribute(production, t, scratch[1], self_consumed, surplus)


@parallel_kernel
def optimal_by_member(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    k,
    c,
    producer_slots,
    consumer_slots,
    slot_consumers,
    allocated_by_member,
    grid_supply_by_member,
    saturation,
    factor,
    self_consumed,
    surplus,
    passes,
    chunks,
):
    """The optimal variant on member-major (consumers, steps) data.

    Each step is solved on its own, so the steps are taken a block of ``BLOCK`` at a time:
    the block is gathered into a row-major buffer (one cache line per member), solved step
    by step as in :func:`optimal`, and AUTOCONS scattered back; COMPLEMENT is then written
    member by member, in memory order. ``saturation`` and ``factor``, which only the flows
    read, stay row-major (steps, consumers): transposing costs more than solving here.
    """
    consumers, steps = consumption_by_member.shape
    producers = production.shape[1]
    owners = max(1, producer_slots.max() + 1)
    blocks = (steps + BLOCK - 1) // BLOCK
    for chunk in prange(chunks):
        rows = np.empty((BLOCK, consumers))
        allocated = np.empty((BLOCK, consumers))
        scratch = np.empty((2, producers))
        slot_scratch = np.empty((3, owners))
        for block in range(chunk * blocks // chunks, (chunk + 1) * blocks // chunks):
            first = block * BLOCK
            width = min(BLOCK, steps - first)
            for i in range(consumers):
                for r in range(width):
                    rows[r, i] = consumption_by_member[i, first + r]
            for r in range(width):
                t = first + r
                passes[t] = _rounds(
                    rows[r],
                    production[t],
                    k,
                    c,
                    producer_slots,
                    consumer_slots,
                    slot_consumers,
                    allocated[r],
                    saturation[t],
                    factor[t],
                    scratch,
                    slot_scratch,
                )
                _attribute(production, t, scratch[1], self_consumed, surplus)
            for i in range(consumers):
                for r in range(width):
                    allocated_by_member[i, first + r] = allocated[r, i]
    for i in prange(consumers):
        for t in range(steps):
            grid_supply_by_member[i, t] = consumption_by_member[i, t] - allocated_by_member[i, t]


@parallel_kernel
def flow_tables(  # type: ignore[no-untyped-def]
    production, k, c, producer_slots, consumer_slots, saturation, factor, passes, tables
):
    """Each producer's flows as a share of its production, ``tables[j, t, i] = flow / P``.

    For the steps of one window: ``production`` (steps, producers), ``saturation`` and
    ``factor`` (steps, consumers, row-major) and ``passes`` (steps,) as recorded by
    :func:`optimal`. The rounds' ``rho`` are recomputed from them with the sums of
    :func:`_rounds`, in the same order: the consumption is not needed.
    """
    steps, consumers = saturation.shape
    producers = production.shape[1]
    owners = max(1, producer_slots.max() + 1)
    for t in prange(steps):
        rho = np.empty(producers)
        delivered = np.zeros(producers)
        owner_gain = np.empty(owners)
        owner_open = np.empty(owners)
        received = np.zeros((producers, consumers))  # k_i * the rho it took, per producer
        for j in range(producers):
            rho[j] = production[t, j] * c[j]
        for round_ in range(passes[t]):
            owner_gain[:] = 0.0
            owner_open[:] = 0.0
            gained = 0.0
            open_key = 0.0
            for i in range(consumers):
                saturated = saturation[t, i]
                if 0 <= saturated < round_:
                    continue
                share = factor[t, i] if saturated == round_ else 1.0
                still_open = 0.0 if saturated == round_ else k[i]
                slot = consumer_slots[i]
                if slot < 0:
                    gained += k[i] * share
                    open_key += still_open
                else:
                    owner_gain[slot] = k[i] * share
                    owner_open[slot] = still_open
                for j in range(producers):
                    if slot < 0 or producer_slots[j] != slot:
                        received[j, i] += rho[j] * share
            for j in range(producers):
                delivered[j] += rho[j] * _except_owner(gained, owner_gain, producer_slots[j])
            for j in range(producers):
                weight = _except_owner(open_key, owner_open, producer_slots[j])
                left = max(production[t, j] - delivered[j], 0.0)
                rho[j] = left / weight if weight > 0.0 else 0.0
        for j in range(producers):
            power = production[t, j]
            for i in range(consumers):
                tables[j, t, i] = k[i] * received[j, i] / power if power > 0.0 else 0.0
