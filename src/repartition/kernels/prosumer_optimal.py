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


@serial_kernel
def _rounds(consumption, production, k, c, owners, allocated, saturation, factor, scratch, own):  # type: ignore[no-untyped-def]
    """Solve one step; returns the rounds it took.

    ``consumption`` (consumers,) and ``production`` (producers,) are the step's rows;
    ``allocated``, ``saturation`` (round of saturation, -1 if never) and ``factor`` (the
    factor then, 0 if never) receive the result. ``scratch`` (2, producers) holds ``rho``
    and the energy each producer delivered (AUTOPROD is ``min(scratch[1], P)``);
    ``own`` (consumers,), all 0 on entry and on return, what each consumer's own producers
    offer in a round.
    """
    consumers = consumption.shape[0]
    producers = production.shape[0]
    rho = scratch[0]
    delivered = scratch[1]
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
        offered = 0.0
        for j in range(producers):
            offered += rho[j]
            if owners[j] >= 0:
                own[owners[j]] += rho[j]
        gained = 0.0  # sum over the consumers open this round of k_i * their factor
        open_key = 0.0  # sum of k_i over the consumers still open after this round
        newly = 0
        for i in range(consumers):
            was_open = saturation[i] < 0
            demand = k[i] * (offered - own[i]) if was_open else 0.0
            need = consumption[i] - allocated[i]
            if demand > need:
                share = need / demand
                allocated[i] = consumption[i]
                saturation[i] = round_
                factor[i] = share
                newly += 1
                gained += k[i] * share
            else:
                allocated[i] += demand
                if was_open:
                    gained += k[i]
                    open_key += k[i]
        for j in range(producers):
            owner = owners[j]
            taken = gained
            if owner >= 0:
                own[owner] = 0.0
                if saturation[owner] < 0:
                    taken -= k[owner]
                elif saturation[owner] == round_:
                    taken -= k[owner] * factor[owner]
            delivered[j] += rho[j] * taken
        if round_ > 0 and newly == 0:
            break
        for j in range(producers):
            owner = owners[j]
            weight = open_key
            if owner >= 0 and saturation[owner] < 0:
                weight -= k[owner]
            left = max(production[j] - delivered[j], 0.0)
            rho[j] = left / weight if weight > 0.0 else 0.0
    for i in range(consumers):
        allocated[i] = min(max(allocated[i], 0.0), consumption[i])
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
    owners,
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
    for chunk in prange(chunks):
        scratch = np.empty((2, producers))
        own = np.zeros(consumption.shape[1])
        for t in range(chunk * steps // chunks, (chunk + 1) * steps // chunks):
            passes[t] = _rounds(
                consumption[t],
                production[t],
                k,
                c,
                owners,
                allocated[t],
                saturation[t],
                factor[t],
                scratch,
                own,
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
    owners,
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
    blocks = (steps + BLOCK - 1) // BLOCK
    for chunk in prange(chunks):
        rows = np.empty((BLOCK, consumers))
        allocated = np.empty((BLOCK, consumers))
        scratch = np.empty((2, producers))
        own = np.zeros(consumers)
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
                    owners,
                    allocated[r],
                    saturation[t],
                    factor[t],
                    scratch,
                    own,
                )
                _attribute(production, t, scratch[1], self_consumed, surplus)
            for i in range(consumers):
                for r in range(width):
                    allocated_by_member[i, first + r] = allocated[r, i]
    for i in prange(consumers):
        for t in range(steps):
            grid_supply_by_member[i, t] = consumption_by_member[i, t] - allocated_by_member[i, t]


@parallel_kernel
def flow_tables(production, k, c, owners, saturation, factor, passes, tables):  # type: ignore[no-untyped-def]
    """Each producer's flows as a share of its production, ``tables[j, t, i] = flow / P``.

    For the steps of one window: ``production`` (steps, producers), ``saturation`` and
    ``factor`` (steps, consumers, row-major) and ``passes`` (steps,) as recorded by
    :func:`optimal`. The rounds' ``rho`` are recomputed from them, as :func:`_rounds` did:
    the consumption is not needed.
    """
    steps, consumers = saturation.shape
    producers = production.shape[1]
    for t in prange(steps):
        rho = np.empty(producers)
        delivered = np.zeros(producers)
        received = np.zeros((producers, consumers))  # sum of rho over the rounds taken whole
        for j in range(producers):
            rho[j] = production[t, j] * c[j]
        for round_ in range(passes[t]):
            gained = 0.0
            open_key = 0.0
            for i in range(consumers):
                s = saturation[t, i]
                if s == round_:
                    gained += k[i] * factor[t, i]
                    for j in range(producers):
                        received[j, i] += rho[j] * factor[t, i]
                elif s < 0 or s > round_:
                    gained += k[i]
                    open_key += k[i]
                    for j in range(producers):
                        received[j, i] += rho[j]
            for j in range(producers):
                owner = owners[j]
                taken = gained
                if owner >= 0:
                    s = saturation[t, owner]
                    if s < 0 or s > round_:
                        taken -= k[owner]
                    elif s == round_:
                        taken -= k[owner] * factor[t, owner]
                delivered[j] += rho[j] * taken
            for j in range(producers):
                owner = owners[j]
                weight = open_key
                if owner >= 0 and (saturation[t, owner] < 0 or saturation[t, owner] > round_):
                    weight -= k[owner]
                left = max(production[t, j] - delivered[j], 0.0)
                rho[j] = left / weight if weight > 0.0 else 0.0
        for j in range(producers):
            power = production[t, j]
            owner = owners[j]
            for i in range(consumers):
                share = 0.0
                if power > 0.0 and i != owner:
                    share = k[i] * received[j, i] / power
                tables[j, t, i] = share
