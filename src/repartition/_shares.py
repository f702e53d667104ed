"""What a key computes, as plain arrays: the hand-off between keys and results."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]
ArrayT = TypeVar("ArrayT", bound=NDArray[Any])


Tables = tuple[Sequence[Array], Array]
"""Per-producer (steps, consumers) tables and the (steps, consumers) scale of a window."""


@dataclass(frozen=True, eq=False)
class PairSplit:
    """How to recover producer -> consumer flows without storing them.

    Pooled keys (nothing given): ``flow[t, j, i] = A[t, i] * P[t, j] / P_tot[t]``.
    Otherwise ``flow[t, j, i] = table_j[t, i] * P[t, j] * scale[t, i]``, with the tables
    either stored (``coefficients`` and ``scale``, e.g. a full dynamic key's), or rebuilt
    for a window of steps on demand by ``tables_for(start, stop)`` from what the key
    recorded (ProsumerKey "optimal").
    """

    coefficients: Sequence[Array] | None = None
    scale: Array | None = None
    tables_for: Callable[[int, int], Tables] | None = None

    @property
    def pooled(self) -> bool:
        """True when the flows follow the pooled rule (no tables)."""
        return self.coefficients is None and self.tables_for is None

    def window(self, start: int, stop: int) -> Tables:
        """The tables and scale of steps ``[start, stop)``."""
        if self.tables_for is not None:
            return self.tables_for(start, stop)
        if self.coefficients is None or self.scale is None:
            raise ValueError("A pooled split has no tables: use the pooled rule.")
        return [table[start:stop] for table in self.coefficients], self.scale[start:stop]


@dataclass(frozen=True, eq=False)
class Shares:
    """The arrays of an allocation, in kWh per step.

    Attributes
    ----------
    allocated : ndarray, shape (steps, consumers)
        AUTOCONS: energy each consumer receives from the operation. [kWh]
    grid_supply : ndarray, shape (steps, consumers)
        COMPLEMENT ``= C - A``: what each consumer still draws from its supplier. [kWh]
    self_consumed : ndarray, shape (steps, producers)
        AUTOPROD: part of each producer's production allocated to consumers. [kWh]
    surplus : ndarray, shape (steps, producers)
        SURPLUS: part of each producer's production no consumer received. [kWh]
    passes : ndarray of int32, shape (steps,), or None
        For water-filling keys, the passes over each row the level needed.
    """

    allocated: Array
    grid_supply: Array
    self_consumed: Array
    surplus: Array
    split: PairSplit = field(default_factory=PairSplit)
    passes: NDArray[np.int32] | None = None


def is_by_member(values: Array) -> bool:
    """True when a (steps, members) array is stored member by member (column-major).

    That is how pandas stores a frame of float columns; the kernels of
    :mod:`repartition.kernels.by_member` read such arrays in memory order.
    """
    return bool(values.flags.f_contiguous and not values.flags.c_contiguous)


def contiguous(values: Array) -> Array:
    """``values`` as is when stored in either order, else a row-major copy."""
    if values.flags.c_contiguous or values.flags.f_contiguous:
        return values
    return np.ascontiguousarray(values)


def read_only(values: ArrayT) -> ArrayT:
    """A read-only view of ``values`` (``values`` itself when it is already read-only).

    Every array a kernel only reads is handed to it read-only. Numba compiles one machine
    code per argument type, and a read-only array is another type than a writable one: a
    kernel fed both kinds would be compiled (and cached) twice, or more with several
    inputs. It also guarantees that no kernel writes into the caller's data.
    """
    if not values.flags.writeable:
        return values
    view = values.view()
    view.flags.writeable = False
    return view


def like(values: Array, reference: Array) -> Array:
    """``values`` stored in the same order as ``reference`` (copied only when they differ)."""
    if is_by_member(reference):
        return values if values.flags.f_contiguous else np.asfortranarray(values)
    return values if values.flags.c_contiguous else np.ascontiguousarray(values)


def empty_shares(
    consumption: Array, production: Array, out: tuple[Array, Array] | None = None
) -> tuple[Array, Array, Array, Array]:
    """Output buffers for a kernel: allocated, grid_supply (stored like ``consumption``),
    self_consumed, surplus.

    ``out``, a caller's (allocated, grid_supply) buffers (e.g. views into a larger result),
    is used when it is stored like ``consumption``; otherwise fresh arrays are allocated.
    """
    by_member = is_by_member(consumption)
    if out is not None and all(
        buffer.shape == consumption.shape
        and buffer.flags.writeable
        and (buffer.flags.f_contiguous if by_member else buffer.flags.c_contiguous)
        for buffer in out
    ):
        allocated, grid_supply = out
    else:
        order: Literal["C", "F"] = "F" if by_member else "C"
        allocated = np.empty(consumption.shape, order=order)
        grid_supply = np.empty(consumption.shape, order=order)
    return (
        allocated,
        grid_supply,
        np.empty(production.shape),
        np.empty(production.shape),
    )
