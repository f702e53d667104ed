"""Kernels for the full dynamic key: one coefficient per (producer, consumer) pair and step.

``A[t, j, i] = k[t, j, i] * P[t, j]``; where a consumer is offered more than it consumes,
``D[t, i] = sum_j A[t, j, i] > C[t, i]``, all its pair shares are scaled down by the same
factor ``C[t, i] / D[t, i]`` (*assumption*: docs/rules.md, "Full dynamic key").

The coefficients arrive as one (steps, consumers) array per producer, so that no
(steps, producers, consumers) array is ever built. The computation takes two passes over
each producer's coefficients: :func:`add_offered` accumulates ``D``, :func:`cap_offered`
turns ``D`` into the allocation and the scale factor in place, and
:func:`attribute_producer` sums each producer's scaled pair shares.
"""

from __future__ import annotations

from repartition.kernels._config import parallel_kernel, prange, serial_kernel


@parallel_kernel
def add_offered(coefficients, production, producer, offered, first):  # type: ignore[no-untyped-def]
    """``offered[t, i] (+)= k[t, i] * P[t, producer]``; assign instead of add when ``first``."""
    for t in prange(coefficients.shape[0]):
        power = production[t, producer]
        if first:
            for i in range(coefficients.shape[1]):
                offered[t, i] = coefficients[t, i] * power
        else:
            for i in range(coefficients.shape[1]):
                offered[t, i] += coefficients[t, i] * power


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


@parallel_kernel
def attribute_producer(coefficients, production, producer, scale, self_consumed, surplus):  # type: ignore[no-untyped-def]
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
