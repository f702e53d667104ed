"""Memory layouts: the only module that knows how (steps, members) arrays are stored.

A (steps, members) table is *row-major* (C-contiguous: one step after the other, as NumPy
makes arrays) or *member-major* (column-major: one member's steps after the other, as pandas
stores a frame of float columns). Every rule has a kernel for each layout, side by side in
the rule's module (a generic driver over both measured 4-6x slower); the rule's ``run()``
calls :func:`run_pooled` or asks :func:`is_by_member` which one to call, and the
member-major kernels (``*_members``) receive the (members, steps) transposes, which are
C-contiguous. The keys never ask: they call a rule's ``run()``.

This module also makes the arrays kernels read read-only (:func:`read_only`: one compiled
machine code per kernel and layout), brings tables into the consumption's layout
(:func:`like`) or row-major (:func:`row_major`, for kernels that have only a row-major
form), and allocates outputs in the input's layout, the two (steps, consumers) results
in one block (:func:`empty_outputs`, :func:`empty_pair`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import NDArray

from repartition.kernels.attribution import pooled_production

Array = NDArray[np.float64]
ArrayT = TypeVar("ArrayT", bound=NDArray[Any])


def is_by_member(values: Array) -> bool:
    """True when a (steps, members) array is stored member by member (column-major).

    That is how pandas stores a frame of float columns; the member-major kernels
    (``*_members``) read such arrays, as their transposes, in memory order.
    """
    return bool(values.flags.f_contiguous and not values.flags.c_contiguous)


def contiguous(values: Array) -> Array:
    """``values`` as is when stored in either order, else a row-major copy."""
    if values.flags.c_contiguous or values.flags.f_contiguous:
        return values
    return np.ascontiguousarray(values)


def line_stride(values: Array, by_member: bool) -> int | None:
    """The stride, in elements, between consecutive *lines* of a (steps, members) float64
    array whose lines are each contiguous and do not overlap, else None.

    A line is a step's row of members (``by_member`` False) or a member's column of steps
    (``by_member`` True). A row-major or member-major array has such lines, and so do views
    that are neither: the steps of a month in a year-long member-major table (each member's
    steps are contiguous, a year apart), or a run of members of a wider row-major table. The
    full dynamic kernels read those in place (:func:`flat_lines`).
    """
    steps, members = values.shape
    length, lines = (steps, members) if by_member else (members, steps)
    along, across = values.strides if by_member else values.strides[::-1]
    itemsize = values.itemsize
    if length > 1 and along != itemsize:
        return None
    if lines == 1:
        return int(length)
    if across % itemsize or across < length * itemsize:
        return None
    return int(across // itemsize)


def flat_lines(values: Array, by_member: bool) -> tuple[Array, int]:
    """``(flat, stride)``: line ``r`` of ``values`` (see :func:`line_stride`) is
    ``flat[r * stride : r * stride + length]``, ``flat`` a read-only one-dimensional view
    of the memory from the first element of ``values`` to its last (no copy)."""
    stride = line_stride(values, by_member)
    if stride is None:
        raise ValueError("values have no contiguous lines: copy them first")
    steps, members = values.shape
    length, lines = (steps, members) if by_member else (members, steps)
    span = (lines - 1) * stride + length if values.size else 0
    flat = np.lib.stride_tricks.as_strided(
        values, shape=(span,), strides=(values.itemsize,), writeable=False
    )
    return flat, stride


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


def row_major(values: Array) -> Array:
    """``values`` stored row-major (C-contiguous) and read-only, copied only when it is not
    row-major: for the rules that have no member-major kernel, or the steps of a window."""
    return read_only(np.ascontiguousarray(values))


def like(values: Array, reference: Array) -> Array:
    """``values`` stored in the same order as ``reference`` (copied only when they differ)."""
    if is_by_member(reference):
        return values if values.flags.f_contiguous else np.asfortranarray(values)
    return values if values.flags.c_contiguous else np.ascontiguousarray(values)


Outputs = tuple[Array, Array, Array, Array]
"""What a pooled kernel writes: allocated, grid_supply (steps, consumers), self_consumed,
surplus (steps, producers). [kWh per step]"""


def memory_order(values: Array) -> Array:
    """The contiguous array whose flat order is ``values``' memory order (for the scans)."""
    return values.T if is_by_member(values) else values


def empty_pair(consumption: Array) -> tuple[Array, Array]:
    """Two arrays of ``consumption``'s shape, stored like it, in one block of memory.

    Allocated as one block, the two results are freed as one: the C allocator then keeps
    the block for the next call of the same size instead of handing it back to the system,
    and the next call writes into memory it need not fault in again (with two separate
    blocks of a year x 100 members, 14 MB each, a call spent 4 of its 5 ms touching fresh
    pages).
    """
    steps, members = consumption.shape
    if is_by_member(consumption):
        block = np.empty((2, members, steps))
        return block[0].T, block[1].T
    block = np.empty((2, steps, members))
    return block[0], block[1]


def empty_outputs(
    consumption: Array, production: Array, out: tuple[Array, Array] | None = None
) -> Outputs:
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
        allocated, grid_supply = empty_pair(consumption)
    return (
        allocated,
        grid_supply,
        np.empty(production.shape),
        np.empty(production.shape),
    )


def run_pooled(
    consumption: Array,
    production: Array,
    row_kernel: Callable[..., None],
    member_kernel: Callable[..., None],
    parameters: tuple[Any, ...] = (),
    *,
    passes: NDArray[np.int32] | None = None,
    member_options: dict[str, Any] | None = None,
    out: tuple[Array, Array] | None = None,
) -> Outputs:
    """Run a pooled rule's kernel for the layout of ``consumption``; return its outputs.

    Both kernels take ``(consumption, production, production_total, *parameters, allocated,
    grid_supply, self_consumed, surplus[, passes])``: the row-major one on (steps, members)
    arrays, the member-major one on their (members, steps) transposes (2-D parameters are
    transposed too), with ``member_options`` as keywords. ``out``: see :func:`empty_outputs`.
    """
    outputs = empty_outputs(consumption, production, out)
    allocated, grid_supply, self_consumed, surplus = outputs
    consumption, production = read_only(consumption), read_only(production)
    parameters = tuple(
        read_only(parameter) if isinstance(parameter, np.ndarray) else parameter
        for parameter in parameters
    )
    production_total = pooled_production(production)
    tail = () if passes is None else (passes,)
    if is_by_member(consumption):
        transposed = tuple(
            parameter.T if isinstance(parameter, np.ndarray) and parameter.ndim == 2 else parameter
            for parameter in parameters
        )
        member_kernel(
            consumption.T,
            production,
            production_total,
            *transposed,
            allocated.T,
            grid_supply.T,
            self_consumed,
            surplus,
            *tail,
            **(member_options or {}),
        )
    else:
        row_kernel(consumption, production, production_total, *parameters, *outputs, *tail)
    return outputs
