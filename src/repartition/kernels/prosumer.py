"""Kernels for the full dynamic rule with pair coefficients constant over the steps.

The fixed and relative prosumer keys (:class:`repartition.prosumer.ProsumerKey`) give
producer ``j`` the same share ``k[j, i]`` of consumer ``i`` at every step: the rule of
:mod:`repartition.kernels.full_dynamic` with ``k[t, j, i] = pairs[j, i]``. These kernels
take the (producers, consumers) table ``pairs`` instead of (steps, consumers) tables per
producer, so nothing of the size of the data is built for the key:

- offered ``D[t, i] = sum_j pairs[j, i] * P[t, j]``; ``A = min(C, D)``, ``C - A``;
- the scale ``s[t, i] = min(1, C / D)``, kept for the flows;
- ``AUTOPROD[t, j] = P[t, j] * min(1, sum_i pairs[j, i] * s[t, i])`` and SURPLUS.

:func:`pair_shares` reads row-major data, :func:`pair_shares_by_member` member-major data
(shapes as in :mod:`repartition.kernels.by_member`, members summed in fixed chunks). NumPy
twin: :func:`repartition.reference.full_dynamic` on the tables repeated over the steps.
Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np

from repartition.kernels._config import parallel_kernel, prange, serial_kernel
from repartition.kernels.by_member import _chunk


@serial_kernel
def _offered(pairs, production, t, i):  # type: ignore[no-untyped-def]
    """``D[t, i] = sum_j pairs[j, i] * P[t, j]``."""
    offered = 0.0
    for j in range(pairs.shape[0]):
        offered += pairs[j, i] * production[t, j]
    return offered


@parallel_kernel
def pair_shares(  # type: ignore[no-untyped-def]
    consumption, production, pairs, allocated, grid_supply, scale, self_consumed, surplus
):
    """The rule on row-major (steps, consumers) data, in parallel over steps."""
    steps, consumers = consumption.shape
    for t in prange(steps):
        for i in range(consumers):
            c = consumption[t, i]
            d = _offered(pairs, production, t, i)
            if d > c:
                allocated[t, i] = c
                grid_supply[t, i] = 0.0
                scale[t, i] = c / d
            else:
                allocated[t, i] = d
                grid_supply[t, i] = c - d
                scale[t, i] = 1.0
        for j in range(production.shape[1]):
            fraction = 0.0
            for i in range(consumers):
                fraction += pairs[j, i] * scale[t, i]
            power = production[t, j]
            shared = min(1.0, fraction) * power
            self_consumed[t, j] = shared
            surplus[t, j] = power - shared


@parallel_kernel
def pair_shares_by_member(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production_by_producer,
    pairs,
    allocated_by_member,
    grid_supply_by_member,
    scale_by_member,
    self_consumed,
    surplus,
    chunks,
):
    """The rule on member-major (consumers, steps) data, in parallel over chunks of members.

    ``production_by_producer`` is the (producers, steps) transpose of production, so that
    every loop runs over the steps of one member in memory order. Each chunk sums
    ``pairs[j, i] * s[i, t]`` into its own per-producer buffer; the chunks are added in
    order afterwards, so the result does not depend on the number of threads.
    """
    members, steps = consumption_by_member.shape
    producers = production_by_producer.shape[0]
    partial = np.zeros((chunks, producers, steps))
    for chunk in prange(chunks):
        offered = np.empty(steps)
        first, stop = _chunk(chunk, chunks, members)
        for i in range(first, stop):
            offered[:] = 0.0
            for j in range(producers):
                share = pairs[j, i]
                for t in range(steps):
                    offered[t] += share * production_by_producer[j, t]
            scale = scale_by_member[i]
            for t in range(steps):
                c = consumption_by_member[i, t]
                d = offered[t]
                capped = d > c
                allocated_by_member[i, t] = c if capped else d
                grid_supply_by_member[i, t] = 0.0 if capped else c - d
                scale[t] = c / d if capped else 1.0
            for j in range(producers):
                share = pairs[j, i]
                for t in range(steps):
                    partial[chunk, j, t] += share * scale[t]
    fraction = partial.sum(axis=0)
    for t in prange(steps):
        for j in range(producers):
            power = production_by_producer[j, t]
            shared = min(1.0, fraction[j, t]) * power
            self_consumed[t, j] = shared
            surplus[t, j] = power - shared


# --- the "optimal" variant: relative offers, then rounds over the open consumers ------------


@serial_kernel
def _optimal_step(consumption, production, pairs, allocated, flows, offers, scratch):  # type: ignore[no-untyped-def]
    """One step of the optimal variant; returns the rounds it took.

    ``consumption`` (consumers,) and ``production`` (producers,) are the step's rows;
    ``allocated`` (consumers,) and ``flows`` (producers, consumers) receive the result
    (``flows[j, i]``: energy from producer j to consumer i); ``offers`` and ``scratch``
    (3, consumers) are work space. Round 0 offers ``P[j] * pairs[j, i]`` (the relative
    key); a consumer offered more than it still needs takes all its offers scaled by one
    factor and is saturated. Then, while a round saturates someone new (the first
    redistribution round always runs), each producer offers what it has left to its open
    consumers in proportion to ``pairs[j, i]`` (0 for its owner).
    """
    producers, consumers = pairs.shape
    demand = scratch[0]
    factor = scratch[1]
    open_ = scratch[2]  # 1 for a consumer not yet saturated, else 0
    for i in range(consumers):
        allocated[i] = 0.0
        open_[i] = 1.0
    for j in range(producers):
        for i in range(consumers):
            flows[j, i] = 0.0
    produced = False
    for j in range(producers):
        produced = produced or production[j] > 0.0
    if not produced:
        return 2  # nothing to share: round 0 and the first redistribution round find it
    for j in range(producers):
        for i in range(consumers):
            offers[j, i] = production[j] * pairs[j, i]
    rounds = 0
    for round_ in range(consumers + 2):
        rounds += 1
        # Loops over consumers innermost, each producer's row in memory order (SIMD).
        demand[:] = 0.0
        for j in range(producers):
            for i in range(consumers):
                demand[i] += offers[j, i]
        newly = 0.0
        for i in range(consumers):
            need = consumption[i] - allocated[i]
            capped = demand[i] > need
            factor[i] = need / demand[i] if capped else 1.0
            allocated[i] = consumption[i] if capped else allocated[i] + demand[i]
            newly += open_[i] if capped else 0.0
            open_[i] = 0.0 if capped else open_[i]
        for j in range(producers):
            delivered = 0.0
            weight_total = 0.0
            for i in range(consumers):
                flow = flows[j, i] + offers[j, i] * factor[i]
                flows[j, i] = flow
                delivered += flow
                weight_total += pairs[j, i] * open_[i]
            if round_ > 0 and newly == 0.0:
                continue  # the step is done: no new offers
            left = max(production[j] - delivered, 0.0)
            ratio = left / weight_total if weight_total > 0.0 else 0.0
            for i in range(consumers):
                offers[j, i] = pairs[j, i] * open_[i] * ratio
        if round_ > 0 and newly == 0.0:
            break
    for i in range(consumers):
        allocated[i] = min(max(allocated[i], 0.0), consumption[i])
    return rounds


@serial_kernel
def _step_results(production, t, flows, self_consumed, surplus, tables, table_row):  # type: ignore[no-untyped-def]
    """AUTOPROD, SURPLUS of step t, and each producer's flows as a share of its production
    (``tables[j, table_row, i]``, 0 when nothing is produced)."""
    producers, consumers = flows.shape
    for j in range(producers):
        power = production[t, j]
        delivered = 0.0
        for i in range(consumers):
            delivered += flows[j, i]
        shared = min(delivered, power)
        self_consumed[t, j] = shared
        surplus[t, j] = power - shared
        for i in range(consumers):
            tables[j, table_row, i] = flows[j, i] / power if power > 0.0 else 0.0


@parallel_kernel
def optimal(  # type: ignore[no-untyped-def]
    consumption,
    production,
    pairs,
    allocated,
    grid_supply,
    tables,
    self_consumed,
    surplus,
    passes,
    chunks,
):
    """The optimal variant on row-major data; ``tables`` (producers, steps, consumers)
    receives each pair's flow as a share of its producer's production."""
    steps, consumers = consumption.shape
    producers = pairs.shape[0]
    for chunk in prange(chunks):
        flows = np.empty((producers, consumers))
        offers = np.empty((producers, consumers))
        scratch = np.empty((3, consumers))
        for t in range(chunk * steps // chunks, (chunk + 1) * steps // chunks):
            passes[t] = _optimal_step(
                consumption[t], production[t], pairs, allocated[t], flows, offers, scratch
            )
            for i in range(consumers):
                grid_supply[t, i] = consumption[t, i] - allocated[t, i]
            _step_results(production, t, flows, self_consumed, surplus, tables, t)


BLOCK = 8
"""Steps gathered at a time by :func:`optimal_by_member`: one 64-byte line of a member's row."""


@parallel_kernel
def optimal_by_member(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production,
    pairs,
    allocated_by_member,
    grid_supply_by_member,
    tables_by_member,
    self_consumed,
    surplus,
    passes,
    chunks,
):
    """The optimal variant on member-major data, shape (consumers, steps).

    Each step is solved on its own, so the steps are taken a block of ``BLOCK`` at a time:
    the block is gathered into row-major buffers (one cache line per member), solved step by
    step as in :func:`optimal`, and scattered back. ``tables_by_member`` has shape
    (producers, consumers, steps).
    """
    consumers, steps = consumption_by_member.shape
    producers = pairs.shape[0]
    blocks = (steps + BLOCK - 1) // BLOCK
    for chunk in prange(chunks):
        rows = np.empty((BLOCK, consumers))
        allocated = np.empty((BLOCK, consumers))
        tables = np.empty((producers, BLOCK, consumers))
        flows = np.empty((producers, consumers))
        offers = np.empty((producers, consumers))
        scratch = np.empty((3, consumers))
        for block in range(chunk * blocks // chunks, (chunk + 1) * blocks // chunks):
            first = block * BLOCK
            width = min(BLOCK, steps - first)
            for i in range(consumers):
                for r in range(width):
                    rows[r, i] = consumption_by_member[i, first + r]
            for r in range(width):
                t = first + r
                passes[t] = _optimal_step(
                    rows[r], production[t], pairs, allocated[r], flows, offers, scratch
                )
                _step_results(production, t, flows, self_consumed, surplus, tables, r)
            for i in range(consumers):
                for r in range(width):
                    share = allocated[r, i]
                    allocated_by_member[i, first + r] = share
                    grid_supply_by_member[i, first + r] = rows[r, i] - share
            for j in range(producers):
                for i in range(consumers):
                    for r in range(width):
                        tables_by_member[j, i, first + r] = tables[j, r, i]
