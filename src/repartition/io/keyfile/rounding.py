"""The rounding rule of key files: a share becomes a whole number of the file's units, rounded down.

A key file carries each share as a whole number of units: hundredths of a percent in the
DSO's dynamic key file (:data:`UNITS` in 1), millionths in Spain's hourly coefficients.
Rounding down keeps every row at or below its total, as the format requires. This module
is the one home of that rule, ``floor(k * units + 1e-6)``
(:func:`floor_units`), for every writer of a key file (:mod:`repartition.io.keyfile`,
:mod:`repartition.io.spain`) and for the demo keys (:mod:`repartition.synthetic`, through
:func:`round_down`). The ``1e-6`` (a millionth of a unit) keeps a share that *is* a whole
number of units from losing one to binary floating point: 0.0029 is stored as
0.00289999..., so ``0.0029 * 10000`` is 28.999..., which a plain ``floor`` makes 28 (0.28 %
instead of the 0.29 % asked for). A share may thus rise by at most a millionth of a unit
(``1e-10`` of the production in a dynamic key file); every other share loses less than
one unit. Why a row still never sums above its total:
:func:`repartition.io.keyfile.round_down_key`.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["EPSILON", "UNITS", "floor_units", "round_down"]

UNITS = 10_000
"""Hundredths of a percent in 100 %: the dynamic key file's resolution is 1 / UNITS of the
production."""

EPSILON = 1e-6
"""What :func:`floor_units` adds before the floor, in units: far above the error of
``k * units`` for a share ``k`` that is a whole number of units (about ``units * 2**-53``),
far below a unit."""


def floor_units(values: ArrayLike, units: float = UNITS) -> NDArray[np.float64]:
    """Shares as whole numbers of units, rounded down: the key files' rounding rule.

    Parameters
    ----------
    values : array_like
        Shares, fractions in [0, 1] (0.5081 for 50.81 %). [-]
    units : float
        Units in a share of 1: :data:`UNITS` (hundredths of a percent) for the dynamic key
        file, ``10**6`` for Spain's coefficients, ``10**decimals`` for ``decimals``
        places.

    Returns
    -------
    ndarray of float64
        ``floor(values * units + EPSILON)``, whole numbers (exact in float64 up to
        ``2**53``; cast them to int64 to count), same shape as ``values``. [units]

    Examples
    --------
    >>> floor_units([0.0029, 0.5081, 0.39869, 1.0]).tolist()
    [29.0, 5081.0, 3986.0, 10000.0]
    >>> floor_units([0.123457, 1 / 3], units=10**6).tolist()
    [123457.0, 333333.0]
    """
    scaled = np.asarray(values, dtype=np.float64) * units
    result: NDArray[np.float64] = np.floor(scaled + EPSILON)
    return result


def round_down(values: ArrayLike, decimals: int = 4) -> NDArray[np.float64]:
    """Shares rounded down to ``decimals`` places, so that a row never sums above its total.

    The key files' rule (:func:`floor_units`) with ``10**decimals`` units.

    Parameters
    ----------
    values : array_like
        Shares in [0, 1]. [-]
    decimals : int
        Decimal places kept (4: a hundredth of a percent, as in DSO key files).

    Returns
    -------
    ndarray of float64
        ``floor(values * 10**decimals + 1e-6) / 10**decimals``, same shape. [-]

    Examples
    --------
    >>> round_down([0.12345, 0.99999, 1 / 3, 0.0029]).tolist()
    [0.1234, 0.9999, 0.3333, 0.0029]
    """
    scale = 10.0**decimals
    result: NDArray[np.float64] = floor_units(values, scale) / scale
    return result
