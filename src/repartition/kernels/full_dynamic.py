"""The full dynamic key (*clé full dynamique*): a share per producer, consumer and step.

``A[t, j, i] = k[t, j, i] * P[t, j]``; where a consumer is offered more than it consumes,
``D[t, i] = sum_j A[t, j, i] > C[t, i]``, all its pair shares are scaled down by the same
factor ``C[t, i] / D[t, i]`` (*assumption*: docs/rules.md, "Full dynamic key"): ``A[t, i] =
min(C[t, i], D[t, i])`` and ``AUTOPROD[t, j] = P[t, j] * min(1, sum_i k[t, j, i] * scale[t, i])``.

The coefficients arrive as one (steps, consumers) table per producer, so that no
(steps, producers, consumers) array is ever built. The computation takes two passes over
each producer's table: ``add_offered_*`` accumulates ``D``, :func:`cap_offered` turns ``D``
into the allocation and the scale factor in place (element by element: one kernel serves
both layouts), and ``attribute_producer_*`` sums each producer's scaled pair shares. The
``*_rows`` kernels read row-major tables in parallel over steps, the ``*_members`` kernels
member-major ones as their (consumers, steps) transposes, in chunks of members;
:func:`run` does the whole computation in the consumption's layout. NumPy twin:
:func:`repartition.reference.full_dynamic`. Energies in kWh per step.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import parallel_kernel, prange, serial_kernel
from repartition.kernels.layout import empty_outputs, is_by_member, like, read_only
from repartition.kernels.members import CHUNKS, chunk_bounds

__all__ = [
    "add_offered_members",
    "add_offered_rows",
    "attribute_producer_members",
    "attribute_producer_rows",
    "cap_offered",
    "capped",
    "run",
]

Array = NDArray[np.float64]


# --- row-major: (steps, consumers) --------------------------------------------------------


@parallel_kernel
def add_offered_rows(coefficients, production, producer, offered, first):  # type: ignore[no-untyped-def]
    """``offered[t, i] (+)= k[t, i] * P[t, producer]``; assign instead of add when ``first``."""
    for t in prange(coefficients.shape[0]):
        power = production[t, producer]
        if first:
            for i in range(coefficients.shape[1]):
                offered[t, i] = coefficients[t, i] * power
        else:
            for i in range(coefficients.shape[1]):
                offered[t, i] += coefficients[t, i] * power


@parallel_kernel
def attribute_producer_rows(coefficients, production, producer, scale, self_consumed, surplus):  # type: ignore[no-untyped-def]
    """AUTOPROD ``= P[t, j] * min(1, sum_i k[t, i] * scale[t, i])`` and SURPLUS of one producer."""
    for t in prange(coefficients.shape[0]):
        fraction = 0.0
        for i in range(coefficients.shape[1]):
            fraction += coefficients[t, i] * scale[t, i]
        fraction = min(1.0, fraction)
        power = production[t, producer]
        shared = fraction * power
        self_consumed[t, producer] = shared
        surplus[t, producer] = power - shared


# --- both layouts, element by element -----------------------------------------------------


@serial_kernel
def capped(consumption, offered):  # type: ignore[no-untyped-def]
    """One consumer at one step offered ``D``: ``(A, C - A, scale)`` with ``A = min(C, D)``
    and the scale ``min(1, C / D)`` of all its pair shares."""
    if offered > consumption:
        return consumption, 0.0, consumption / offered
    return offered, consumption - offered, 1.0


@parallel_kernel
def cap_offered(consumption, offered, allocated, grid_supply):  # type: ignore[no-untyped-def]
    """``allocated = min(C, D)``, ``grid_supply = C - allocated``; ``offered`` is overwritten
    with the scale ``min(1, C / D)``."""
    for t in prange(consumption.shape[0]):
        for i in range(consumption.shape[1]):
            allocated[t, i], grid_supply[t, i], offered[t, i] = capped(
                consumption[t, i], offered[t, i]
            )


# --- member-major: (consumers, steps) -----------------------------------------------------


@parallel_kernel
def add_offered_members(coefficients_by_member, production, producer, offered_by_member, first):  # type: ignore[no-untyped-def]
    """:func:`add_offered_rows` on member-major coefficients and offers, member by member."""
    members, steps = coefficients_by_member.shape
    for i in prange(members):
        if first:
            for t in range(steps):
                offered_by_member[i, t] = coefficients_by_member[i, t] * production[t, producer]
        else:
            for t in range(steps):
                offered_by_member[i, t] += coefficients_by_member[i, t] * production[t, producer]


@parallel_kernel
def _pair_sums(coefficients_by_member, scale_by_member, chunks):  # type: ignore[no-untyped-def]
    """``sum_i k[i, t] * scale[i, t]`` per step, summed in chunks of members as
    :func:`repartition.kernels.members.member_sums` sums."""
    members, steps = coefficients_by_member.shape
    partial = np.zeros((chunks, steps))
    for chunk in prange(chunks):
        first, stop = chunk_bounds(chunk, chunks, members)
        for i in range(first, stop):
            for t in range(steps):
                partial[chunk, t] += coefficients_by_member[i, t] * scale_by_member[i, t]
    return partial.sum(axis=0)


def attribute_producer_members(
    coefficients_by_member: Array,
    production: Array,
    producer: int,
    scale_by_member: Array,
    self_consumed: Array,
    surplus: Array,
) -> None:
    """:func:`attribute_producer_rows` on member-major coefficients and scale (members
    summed in fixed chunks)."""
    fraction = np.minimum(1.0, _pair_sums(coefficients_by_member, scale_by_member, CHUNKS))
    power = production[:, producer]
    shared = fraction * power
    self_consumed[:, producer] = shared
    surplus[:, producer] = power - shared


# --- either layout ------------------------------------------------------------------------


def run(
    consumption: Array, production: Array, tables: Sequence[Array]
) -> tuple[Array, Array, Array, Array, list[Array], Array]:
    """The full dynamic key with one (steps, consumers) table of coefficients per producer,
    on ``consumption`` stored either way.

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus;
    the tables as read (read-only, in the consumption's layout: copied once into it where
    they differ) and the scale ``min(1, C / D)`` of each consumer's pair shares, stored like
    ``consumption``: what the flows are rebuilt from.
    """
    tables = [read_only(like(table, consumption)) for table in tables]
    consumption, production = read_only(consumption), read_only(production)
    allocated, grid_supply, self_consumed, surplus = empty_outputs(consumption, production)
    scale = np.empty_like(allocated)  # holds the offered energy, then the scale factor
    if is_by_member(consumption):
        for j, table in enumerate(tables):
            add_offered_members(table.T, production, j, scale.T, j == 0)
        cap_offered(consumption.T, scale.T, allocated.T, grid_supply.T)
        for j, table in enumerate(tables):
            attribute_producer_members(table.T, production, j, scale.T, self_consumed, surplus)
    else:
        for j, table in enumerate(tables):
            add_offered_rows(table, production, j, scale, j == 0)
        cap_offered(consumption, scale, allocated, grid_supply)
        for j, table in enumerate(tables):
            attribute_producer_rows(table, production, j, scale, self_consumed, surplus)
    return allocated, grid_supply, self_consumed, surplus, tables, scale
