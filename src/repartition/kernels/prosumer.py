"""The prosumer keys "fixed" and "relative": the full dynamic rule with pair coefficients
constant over the steps.

The fixed and relative prosumer keys (:class:`repartition.keys.ProsumerKey`) give
producer ``j`` the same share ``k[j, i]`` of consumer ``i`` at every step: the rule of
:mod:`repartition.kernels.full_dynamic` with ``k[t, j, i] = pairs[j, i]``. These kernels
take the (producers, consumers) table ``pairs`` instead of (steps, consumers) tables per
producer, so nothing of the size of the data is built for the key:

- offered ``D[t, i] = sum_j pairs[j, i] * P[t, j]``; ``A = min(C, D)``, ``C - A``;
- the scale ``s[t, i] = min(1, C / D)``;
- ``AUTOPROD[t, j] = P[t, j] * min(1, sum_i pairs[j, i] * s[t, i])`` and SURPLUS.

The scale is not kept: :func:`pair_scale` (through :func:`window_scale`) rebuilds it from
``A`` for the flows of any window of steps, ``s = A / D`` where ``D > A`` (the consumer was
capped: ``A = C``), else 1.

The "optimal" variant is in :mod:`repartition.kernels.prosumer_optimal`.

:func:`pair_shares_rows` reads row-major (steps, consumers) data, in parallel over chunks of
steps; :func:`pair_shares_members` member-major data as its (consumers, steps) transpose,
members summed in fixed chunks (:mod:`repartition.kernels.members`). :func:`run` picks the
one for the data's layout; :func:`window_scale` rebuilds the scale of a window of steps.
NumPy twin: :func:`repartition.reference.full_dynamic` on the tables repeated over the
steps. Energies in kWh per step.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import range_kernel, serial_kernel
from repartition.kernels.full_dynamic import capped
from repartition.kernels.layout import empty_outputs, is_by_member, read_only, row_major
from repartition.kernels.members import CHUNKS, chunk_bounds, sum_chunks
from repartition.kernels.threads import run_ranges

__all__ = ["pair_scale", "pair_shares_members", "pair_shares_rows", "run", "window_scale"]

Array = NDArray[np.float64]


# --- row-major: (steps, consumers) --------------------------------------------------------


@serial_kernel
def _offered(pairs, production, t, i):  # type: ignore[no-untyped-def]
    """``D[t, i] = sum_j pairs[j, i] * P[t, j]``."""
    offered = 0.0
    for j in range(pairs.shape[0]):
        offered += pairs[j, i] * production[t, j]
    return offered


@serial_kernel
def _pair_step(consumption, production, pairs, t, scale, allocated, grid_supply):  # type: ignore[no-untyped-def]
    """Step ``t``: ``A``, ``C - A`` and the scale of each consumer (into ``scale``)."""
    for i in range(consumption.shape[1]):
        allocated[t, i], grid_supply[t, i], scale[i] = capped(
            consumption[t, i], _offered(pairs, production, t, i)
        )


@serial_kernel
def _attribute_step(production, pairs, t, scale, self_consumed, surplus):  # type: ignore[no-untyped-def]
    """Step ``t``: AUTOPROD ``= P * min(1, sum_i pairs[j, i] * scale[i])`` and SURPLUS."""
    for j in range(production.shape[1]):
        fraction = 0.0
        for i in range(scale.shape[0]):
            fraction += pairs[j, i] * scale[i]
        power = production[t, j]
        shared = min(1.0, fraction) * power
        self_consumed[t, j] = shared
        surplus[t, j] = power - shared


@range_kernel
def _pair_shares_chunks(  # type: ignore[no-untyped-def]
    consumption,
    production,
    pairs,
    allocated,
    grid_supply,
    self_consumed,
    surplus,
    chunks,
    first_chunk,
    stop_chunk,
):
    steps, consumers = consumption.shape
    for chunk in range(first_chunk, stop_chunk):
        scale = np.empty(consumers)
        for t in range(chunk * steps // chunks, (chunk + 1) * steps // chunks):
            _pair_step(consumption, production, pairs, t, scale, allocated, grid_supply)
            _attribute_step(production, pairs, t, scale, self_consumed, surplus)


def pair_shares_rows(
    consumption: Array,
    production: Array,
    pairs: Array,
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
    chunks: int,
) -> None:
    """The rule on row-major (steps, consumers) data, in parallel over chunks of steps."""
    run_ranges(
        _pair_shares_chunks,
        chunks,
        consumption.size,
        *(consumption, production, pairs, allocated, grid_supply, self_consumed, surplus),
        chunks,
    )


# --- member-major: (consumers, steps) -----------------------------------------------------


@range_kernel
def _pair_shares_members_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member,
    production_by_producer,
    pairs,
    allocated_by_member,
    grid_supply_by_member,
    partial,
    chunks,
    first_chunk,
    stop_chunk,
):
    members, steps = consumption_by_member.shape
    producers = production_by_producer.shape[0]
    for chunk in range(first_chunk, stop_chunk):
        offered = np.empty(steps)
        scale = np.empty(steps)
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            offered[:] = 0.0
            for j in range(producers):
                share = pairs[j, i]
                for t in range(steps):
                    offered[t] += share * production_by_producer[j, t]
            for t in range(steps):
                allocated_by_member[i, t], grid_supply_by_member[i, t], scale[t] = capped(
                    consumption_by_member[i, t], offered[t]
                )
            for j in range(producers):
                share = pairs[j, i]
                for t in range(steps):
                    partial[chunk, j, t] += share * scale[t]


@range_kernel
def _attribute_members_steps(  # type: ignore[no-untyped-def]
    production_by_producer, fraction, self_consumed, surplus, start, stop
):
    producers = production_by_producer.shape[0]
    for t in range(start, stop):
        for j in range(producers):
            power = production_by_producer[j, t]
            shared = min(1.0, fraction[j, t]) * power
            self_consumed[t, j] = shared
            surplus[t, j] = power - shared


def pair_shares_members(
    consumption_by_member: Array,
    production_by_producer: Array,
    pairs: Array,
    allocated_by_member: Array,
    grid_supply_by_member: Array,
    self_consumed: Array,
    surplus: Array,
    chunks: int,
) -> None:
    """The rule on member-major (consumers, steps) data, in parallel over chunks of members.

    ``production_by_producer`` is the (producers, steps) transpose of production, so that
    every loop runs over the steps of one member in memory order. Each chunk sums
    ``pairs[j, i] * s[i, t]`` into its own per-producer buffer; the chunks are added in
    order afterwards, so the result does not depend on the number of threads.
    """
    producers, steps = production_by_producer.shape
    partial = np.zeros((chunks, producers, steps))
    run_ranges(
        _pair_shares_members_chunks,
        chunks,
        consumption_by_member.size,
        *(consumption_by_member, production_by_producer, pairs),
        *(allocated_by_member, grid_supply_by_member, partial, chunks),
    )
    fraction = sum_chunks(partial.reshape(chunks, producers * steps)).reshape(producers, steps)
    run_ranges(
        _attribute_members_steps,
        steps,
        production_by_producer.size,
        *(production_by_producer, fraction, self_consumed, surplus),
    )


# --- the flows' scale, from a window of AUTOCONS read row-major ---------------------------


@range_kernel
def _pair_scale_steps(allocated, production, pairs, scale, start, stop):  # type: ignore[no-untyped-def]
    for t in range(start, stop):
        for i in range(allocated.shape[1]):
            offered = _offered(pairs, production, t, i)
            share = allocated[t, i]
            scale[t, i] = share / offered if offered > share else 1.0


def pair_scale(allocated: Array, production: Array, pairs: Array, scale: Array) -> None:
    """The scale ``min(1, C / D)`` of a window of steps, from AUTOCONS (row-major (steps,
    consumers)): ``A / D`` where ``D > A``, else 1."""
    run_ranges(
        _pair_scale_steps,
        allocated.shape[0],
        allocated.size,
        *(allocated, production, pairs, scale),
    )


# --- either layout ------------------------------------------------------------------------


def run(
    consumption: Array,
    production: Array,
    pairs: Array,
    *,
    out: tuple[Array, Array] | None = None,
) -> tuple[Array, Array, Array, Array, Array]:
    """The rule with the (producers, consumers) table ``pairs`` on ``consumption`` stored
    either way.

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus,
    and ``pairs`` as the kernels read it (read-only, C-contiguous), which
    :func:`window_scale` rebuilds the flows' scale from; ``out``: see
    :func:`repartition.kernels.layout.empty_outputs`.
    """
    consumption, production = read_only(consumption), read_only(production)
    pairs = row_major(pairs)
    outputs = empty_outputs(consumption, production, out)
    allocated, grid_supply, self_consumed, surplus = outputs
    if is_by_member(consumption):
        pair_shares_members(
            *(consumption.T, np.ascontiguousarray(production.T), pairs),
            *(allocated.T, grid_supply.T, self_consumed, surplus),
            CHUNKS,
        )
    else:
        pair_shares_rows(
            *(consumption, production, pairs),
            *(allocated, grid_supply, self_consumed, surplus),
            CHUNKS,
        )
    return allocated, grid_supply, self_consumed, surplus, pairs


def window_scale(allocated: Array, production: Array, pairs: Array, start: int, stop: int) -> Array:
    """The scale ``min(1, C / D)`` of steps ``[start, stop)``, shape (steps, consumers),
    rebuilt by :func:`pair_scale` from AUTOCONS ``allocated`` (stored either way: the
    window is read row-major)."""
    scale = np.empty((stop - start, allocated.shape[1]))
    pair_scale(row_major(allocated[start:stop]), production[start:stop], pairs, scale)
    return scale
