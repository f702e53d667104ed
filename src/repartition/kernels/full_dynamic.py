"""The full dynamic key (*clé full dynamique*): a share per producer, consumer and step.

``A[t, j, i] = k[t, j, i] * P[t, j]``; where a consumer is offered more than it consumes,
``D[t, i] = sum_j A[t, j, i] > C[t, i]``, all its pair shares are scaled down by the same
factor ``C[t, i] / D[t, i]`` (*assumption*: docs/rules.md, "Full dynamic key"): ``A[t, i] =
min(C[t, i], D[t, i])`` and ``AUTOPROD[t, j] = P[t, j] * min(1, sum_i k[t, j, i] * scale[t, i])``.

The coefficients arrive as one (steps, consumers) table per producer, each stored row-major
or member-major (or as a view whose rows or columns are contiguous, such as a month of a
year-long table). They are read where they are (never copied, never converted, never stacked
into a (steps, producers, consumers) array), once: while a table's rows are in cache, one
pass computes ``D``, ``A``, ``C - A``, the scale and AUTOPROD, and what the coefficients'
checks need (:class:`Scan`: per producer and step the row sum ``sum_i k[t, j, i]``, and the
count of values outside [0, 1] or NaN; the caller raises the errors, naming the culprit). A
row summing above 1 (within the caller's tolerance) is scaled to sum to 1: producer ``j``'s
offers at step ``t`` are computed from ``P[t, j] / sum_i k[t, j, i]``.

- :func:`full_dynamic_rows` reads row-major consumption one step at a time, in parallel over
  blocks of steps. A step's row sums are known after its first read, so a row summing above
  1 is rescaled from cache. Member-major tables are read 8 steps (one cache line per member)
  at a time, transposed into a small buffer.
- :func:`full_dynamic_members` reads member-major consumption as its (consumers, steps)
  transpose, in parallel over chunks of members, by blocks of steps; each chunk sums ``k *
  scale`` and ``k`` per producer and step into its own buffers, added in chunk order
  (:mod:`repartition.kernels.members`). A row sum is known only at the end of the pass: if
  one is above 1, :func:`run` makes the pass again with the production so divided.
  Row-major tables are read in tiles of members and steps, transposed into a buffer.
- :func:`run` picks the kernel for the consumption's layout; :func:`window_scale` rebuilds
  the scale ``min(1, C / D)`` of a window of steps from AUTOCONS, for the flows, so that
  nothing of the size of the data is kept besides AUTOCONS and COMPLEMENT.

Per-step results do not depend on how steps or chunks are split among threads. NumPy twin:
:func:`repartition.reference.full_dynamic`. Energies in kWh per step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from repartition.kernels._config import (
    TypedList,
    container_function,
    numpy_range_kernel,
    range_kernel,
    serial_kernel,
)
from repartition.kernels.layout import (
    empty_outputs,
    flat_lines,
    is_by_member,
    line_stride,
    read_only,
    row_major,
)
from repartition.kernels.members import CHUNKS, chunk_bounds, sum_chunks
from repartition.kernels.threads import run_ranges

__all__ = [
    "MEMBERS",
    "ROWS",
    "Scan",
    "capped",
    "full_dynamic_members",
    "full_dynamic_rows",
    "run",
    "window_scale",
]

Array = NDArray[np.float64]

ROWS = 0
"""A table read by lines of steps: each step's row of consumers is contiguous (row-major)."""

MEMBERS = 1
"""A table read by lines of members: each consumer's steps are contiguous (member-major)."""

BLOCK_ROWS = 8
"""Steps per block of :func:`full_dynamic_rows`: one cache line of a member-major table."""

BLOCK_MEMBERS = 4096
"""Steps per block of :func:`full_dynamic_members` when every table is member-major: the
chunk's sums of a block (2 x producers x 32 KB) stay in cache while its members go by."""

GROUP = 4
"""Members :func:`full_dynamic_members` computes together: the powers and the chunk's sums
of a block are read once for four members (a third less time than one by one)."""

BLOCK_MIXED = 256
"""Steps per block of :func:`full_dynamic_members` when a table is row-major."""

TILE_MIXED = 64
"""Members per tile of a row-major table transposed by :func:`full_dynamic_members`."""


class Scan(NamedTuple):
    """What the pass found in the coefficients, for the caller's checks.

    Attributes
    ----------
    sums : ndarray, shape (producers, steps)
        ``sum_i k[t, j, i]`` (NaN where a coefficient is NaN). [-]
    bad : ndarray of int64, shape (producers,)
        Coefficients of each table outside [0, 1], NaN included.
    divisor : ndarray, shape (steps, producers), or None
        The row sums above 1 (1 elsewhere), which the production was divided by; None when
        no row sums above 1. [-]
    """

    sums: Array
    bad: NDArray[np.int64]
    divisor: Array | None


# --- both layouts, element by element -----------------------------------------------------


@serial_kernel
def capped(consumption, offered):  # type: ignore[no-untyped-def]
    """One consumer at one step offered ``D``: ``(A, C - A, scale)`` with ``A = min(C, D)``
    and the scale ``min(1, C / D)`` of all its pair shares (``C / D`` where ``D > C``)."""
    over = offered > consumption
    # No branch: the quotient is computed everywhere (and kept where D > C >= 0, so D > 0),
    # which lets loops of this vectorise in kernels on NumPy's error model; a branch on
    # D > C is mispredicted wherever capped and uncapped consumers alternate.
    ratio = consumption / (offered if over else 1.0)
    allocated = consumption if over else offered
    return allocated, consumption - allocated, ratio if over else 1.0


@serial_kernel
def _is_share(value):  # type: ignore[no-untyped-def]
    # True for a value in [0, 1], False for anything else, NaN included; no branch.
    return (value >= 0.0) & (value <= 1.0)


# --- row-major consumption: (steps, consumers) --------------------------------------------


@serial_kernel
def _line(flat, stride, line, first, last):  # type: ignore[no-untyped-def]
    """Elements ``[first, last)`` of line ``line`` of a table given as ``(flat, stride)``
    (:func:`repartition.kernels.layout.flat_lines`): a contiguous view."""
    start = line * stride
    return flat[start + first : start + last]


@serial_kernel
def _add_row(shares, power, offered, first):  # type: ignore[no-untyped-def]
    """``offered (+)= shares * power``; returns the shares' sum and how many of them are
    in [0, 1]."""
    total = 0.0
    good = 0
    if first:
        for i in range(offered.shape[0]):
            share = shares[i]
            offered[i] = share * power
            total += share
            good += _is_share(share)
    else:
        for i in range(offered.shape[0]):
            share = shares[i]
            offered[i] += share * power
            total += share
            good += _is_share(share)
    return total, good


@serial_kernel
def _row_fraction(shares, scale):  # type: ignore[no-untyped-def]
    """``sum_i shares[i] * scale[i]``."""
    fraction = 0.0
    for i in range(scale.shape[0]):
        fraction += shares[i] * scale[i]
    return fraction


@numpy_range_kernel
def _rows_blocks(  # type: ignore[no-untyped-def]
    consumption, production, tables, strides, kinds, slots, allocated, grid_supply,
    self_consumed, surplus, sums, bad, block, start, stop,
):  # fmt: skip
    steps, consumers = consumption.shape
    producers = len(tables)
    buffered = 0
    for j in range(producers):
        buffered += kinds[j] == MEMBERS
    transposed = np.empty((buffered, block, consumers))
    offered = np.empty(consumers)  # D, then the scale
    totals = np.empty(producers)
    for number in range(start, stop):
        first = number * block
        last = min(first + block, steps)
        # Member-major tables: the block's steps (one cache line per member), transposed.
        for j in range(producers):
            if kinds[j] == MEMBERS:
                buffer = transposed[slots[j]]
                table, stride = tables[j], strides[j]  # one read of the list per block
                for i in range(consumers):
                    steps_of_member = _line(table, stride, i, first, last)
                    for s in range(last - first):
                        buffer[s, i] = steps_of_member[s]
        for t in range(first, last):
            # (Each call reads one type of array: a variable holding either a table's or
            # the buffer's rows would be typed as strided, and the loops would not vectorise.)
            over = False
            for j in range(producers):
                power = production[t, j]
                if kinds[j] == MEMBERS:
                    total, good = _add_row(transposed[slots[j], t - first], power, offered, j == 0)
                else:
                    shares = _line(tables[j], strides[j], t, 0, consumers)
                    total, good = _add_row(shares, power, offered, j == 0)
                totals[j] = total
                sums[j, t] = total
                bad[t, j] = consumers - good
                over |= total > 1.0
            if over:  # a row sums above 1: D again, from P / sum, the rows still in cache
                for j in range(producers):
                    power = production[t, j]
                    if totals[j] > 1.0:
                        power = power / totals[j]
                    if kinds[j] == MEMBERS:
                        _add_row(transposed[slots[j], t - first], power, offered, j == 0)
                    else:
                        _add_row(
                            _line(tables[j], strides[j], t, 0, consumers), power, offered, j == 0
                        )
            for i in range(consumers):
                allocated[t, i], grid_supply[t, i], offered[i] = capped(
                    consumption[t, i], offered[i]
                )
            for j in range(producers):
                if kinds[j] == MEMBERS:
                    fraction = _row_fraction(transposed[slots[j], t - first], offered)
                else:
                    fraction = _row_fraction(_line(tables[j], strides[j], t, 0, consumers), offered)
                if totals[j] > 1.0:
                    fraction = fraction / totals[j]
                fraction = min(1.0, fraction)
                power = production[t, j]
                shared = fraction * power
                self_consumed[t, j] = shared
                surplus[t, j] = power - shared


def full_dynamic_rows(
    consumption: Array,
    production: Array,
    tables: TableList,
    strides: NDArray[np.int64],
    kinds: NDArray[np.int64],
    allocated: Array,
    grid_supply: Array,
    self_consumed: Array,
    surplus: Array,
) -> tuple[Array, NDArray[np.int64]]:
    """The rule on row-major (steps, consumers) data, in parallel over blocks of steps.

    Producer ``j``'s table is ``(tables[j], strides[j])``
    (:func:`repartition.kernels.layout.flat_lines`): lines of steps where ``kinds[j]`` is
    :data:`ROWS`, of members where it is :data:`MEMBERS`. Returns the row sums, shape
    (producers, steps), and the count of coefficients outside [0, 1] (NaN included) per
    step and producer, shape (steps, producers).
    """
    steps = consumption.shape[0]
    sums = np.empty((len(tables), steps))
    bad = np.empty((steps, len(tables)), dtype=np.int64)
    run_ranges(
        _rows_blocks,
        (steps + BLOCK_ROWS - 1) // BLOCK_ROWS,
        consumption.size * (len(tables) + 1),
        *(consumption, production, tables, strides, kinds, _slots(kinds, MEMBERS)),
        *(allocated, grid_supply, self_consumed, surplus, sums, bad, BLOCK_ROWS),
    )
    return sums, bad


# --- member-major consumption: (consumers, steps) -----------------------------------------


@serial_kernel
def _add_segment(shares, powers, offered, sums, first):  # type: ignore[no-untyped-def]
    """``offered (+)= shares * powers`` and ``sums += shares`` (one member's block of
    steps); returns how many of the shares are in [0, 1]."""
    good = 0
    if first:
        for s in range(offered.shape[0]):
            share = shares[s]
            offered[s] = share * powers[s]
            sums[s] += share
            good += _is_share(share)
    else:
        for s in range(offered.shape[0]):
            share = shares[s]
            offered[s] += share * powers[s]
            sums[s] += share
            good += _is_share(share)
    return good


@serial_kernel
def _add_segments(a, b, c, d, powers, offered, sums, first):  # type: ignore[no-untyped-def]
    """:func:`_add_segment` for :data:`GROUP` members at once (shares ``a``, ``b``, ``c``,
    ``d``; ``offered`` has a row per member): the powers and sums are read once for all."""
    good = 0
    oa, ob, oc, od = offered[0], offered[1], offered[2], offered[3]
    if first:
        for s in range(powers.shape[0]):
            power = powers[s]
            x, y, z, w = a[s], b[s], c[s], d[s]
            oa[s], ob[s], oc[s], od[s] = x * power, y * power, z * power, w * power
            sums[s] += (x + y) + (z + w)
            good += _is_share(x)  # one at a time: NumPy adds two booleans as "or"
            good += _is_share(y)
            good += _is_share(z)
            good += _is_share(w)
    else:
        for s in range(powers.shape[0]):
            power = powers[s]
            x, y, z, w = a[s], b[s], c[s], d[s]
            oa[s] += x * power
            ob[s] += y * power
            oc[s] += z * power
            od[s] += w * power
            sums[s] += (x + y) + (z + w)
            good += _is_share(x)  # one at a time: NumPy adds two booleans as "or"
            good += _is_share(y)
            good += _is_share(z)
            good += _is_share(w)
    return good


@serial_kernel
def _cap_segment(consumption, allocated, grid_supply, offered):  # type: ignore[no-untyped-def]
    """:func:`capped` over one member's block of steps; ``offered`` becomes the scale."""
    for s in range(offered.shape[0]):
        allocated[s], grid_supply[s], offered[s] = capped(consumption[s], offered[s])


@serial_kernel
def _add_fractions(shares, scale, fractions):  # type: ignore[no-untyped-def]
    """``fractions += shares * scale`` (one member's block of steps)."""
    for s in range(scale.shape[0]):
        fractions[s] += shares[s] * scale[s]


@serial_kernel
def _add_group_fractions(a, b, c, d, scale, fractions):  # type: ignore[no-untyped-def]
    """:func:`_add_fractions` for :data:`GROUP` members at once, added member after member
    (the same sums, to the last bit, as one member at a time)."""
    sa, sb, sc, sd = scale[0], scale[1], scale[2], scale[3]
    for s in range(fractions.shape[0]):
        total = fractions[s]
        total += a[s] * sa[s]
        total += b[s] * sb[s]
        total += c[s] * sc[s]
        total += d[s] * sd[s]
        fractions[s] = total


@numpy_range_kernel
def _members_chunks(  # type: ignore[no-untyped-def]
    consumption_by_member, powers, tables, strides, kinds, slots, allocated_by_member,
    grid_supply_by_member, fractions, sums, bad, chunks, block, tile, first_chunk, stop_chunk,
):  # fmt: skip
    members, steps = consumption_by_member.shape
    producers = len(tables)
    buffered = 0
    for j in range(producers):
        buffered += kinds[j] == ROWS
    transposed = np.empty((buffered, tile, block))
    offered_block = np.empty((GROUP, block))  # D, then the scale, of a group of members
    for chunk in range(first_chunk, stop_chunk):
        first, stop = chunk_bounds(chunk, chunks, members)
        for first_step in range(0, steps, block):
            last_step = min(first_step + block, steps)
            width = last_step - first_step
            offered = offered_block[:, :width]
            for first_member in range(first, stop, tile):
                last_member = min(first_member + tile, stop)
                # Row-major tables: this tile of members and steps, transposed.
                for j in range(producers):
                    if kinds[j] == ROWS:
                        buffer = transposed[slots[j]]
                        table, stride = tables[j], strides[j]  # one read of the list per tile
                        for s in range(width):
                            members_of_step = _line(
                                table, stride, first_step + s, first_member, last_member
                            )
                            for m in range(last_member - first_member):
                                buffer[m, s] = members_of_step[m]
                # Groups of members, then the last few one by one. (Each call reads one
                # type of array: a variable holding either a table's or the buffer's rows
                # would be typed as a strided array, and the loops would not vectorise.)
                grouped = first_member + (last_member - first_member) // GROUP * GROUP
                for i in range(first_member, grouped, GROUP):
                    for j in range(producers):
                        powers_j = powers[j, first_step:last_step]
                        sums_j = sums[chunk, j, first_step:last_step]
                        if kinds[j] == MEMBERS:
                            table, stride = tables[j], strides[j]
                            good = _add_segments(
                                _line(table, stride, i, first_step, last_step),
                                _line(table, stride, i + 1, first_step, last_step),
                                _line(table, stride, i + 2, first_step, last_step),
                                _line(table, stride, i + 3, first_step, last_step),
                                powers_j, offered, sums_j, j == 0,
                            )  # fmt: skip
                        else:
                            buffer = transposed[
                                slots[j], i - first_member : i - first_member + GROUP
                            ]
                            good = _add_segments(
                                buffer[0, :width], buffer[1, :width], buffer[2, :width],
                                buffer[3, :width], powers_j, offered, sums_j, j == 0,
                            )  # fmt: skip
                        bad[chunk, j] += GROUP * width - good
                    for m in range(GROUP):
                        _cap_segment(
                            consumption_by_member[i + m, first_step:last_step],
                            allocated_by_member[i + m, first_step:last_step],
                            grid_supply_by_member[i + m, first_step:last_step],
                            offered[m],
                        )
                    for j in range(producers):
                        fractions_j = fractions[chunk, j, first_step:last_step]
                        if kinds[j] == MEMBERS:
                            table, stride = tables[j], strides[j]
                            _add_group_fractions(
                                _line(table, stride, i, first_step, last_step),
                                _line(table, stride, i + 1, first_step, last_step),
                                _line(table, stride, i + 2, first_step, last_step),
                                _line(table, stride, i + 3, first_step, last_step),
                                offered, fractions_j,
                            )  # fmt: skip
                        else:
                            buffer = transposed[
                                slots[j], i - first_member : i - first_member + GROUP
                            ]
                            _add_group_fractions(
                                buffer[0, :width], buffer[1, :width], buffer[2, :width],
                                buffer[3, :width], offered, fractions_j,
                            )  # fmt: skip
                scale = offered[0]
                for i in range(grouped, last_member):
                    for j in range(producers):
                        powers_j = powers[j, first_step:last_step]
                        sums_j = sums[chunk, j, first_step:last_step]
                        if kinds[j] == MEMBERS:
                            shares = _line(tables[j], strides[j], i, first_step, last_step)
                            good = _add_segment(shares, powers_j, scale, sums_j, j == 0)
                        else:
                            buffered_shares = transposed[slots[j], i - first_member, :width]
                            good = _add_segment(buffered_shares, powers_j, scale, sums_j, j == 0)
                        bad[chunk, j] += width - good
                    _cap_segment(
                        consumption_by_member[i, first_step:last_step],
                        allocated_by_member[i, first_step:last_step],
                        grid_supply_by_member[i, first_step:last_step],
                        scale,
                    )
                    for j in range(producers):
                        fractions_j = fractions[chunk, j, first_step:last_step]
                        if kinds[j] == MEMBERS:
                            shares = _line(tables[j], strides[j], i, first_step, last_step)
                            _add_fractions(shares, scale, fractions_j)
                        else:
                            buffered_shares = transposed[slots[j], i - first_member, :width]
                            _add_fractions(buffered_shares, scale, fractions_j)


def full_dynamic_members(
    consumption_by_member: Array,
    powers: Array,
    tables: TableList,
    strides: NDArray[np.int64],
    kinds: NDArray[np.int64],
    allocated_by_member: Array,
    grid_supply_by_member: Array,
) -> tuple[Array, Array, NDArray[np.int64]]:
    """The rule on member-major data, shape (consumers, steps), in parallel over chunks of
    members.

    ``powers`` (producers, steps) is what the coefficients multiply: the production, or the
    production divided by the row sums above 1. Producer ``j``'s table is ``(tables[j],
    strides[j])`` (:func:`repartition.kernels.layout.flat_lines`): lines of members where
    ``kinds[j]`` is :data:`MEMBERS`, of steps where it is :data:`ROWS`. Returns, per
    producer and step, ``sum_i k * scale`` and the row sums ``sum_i k`` (each summed in
    :data:`CHUNKS` chunks of members, added in chunk order), and the count of coefficients
    outside [0, 1] per producer.
    """
    members, steps = consumption_by_member.shape
    producers = len(tables)
    every_member_major = bool((kinds == MEMBERS).all())
    block = BLOCK_MEMBERS if every_member_major else BLOCK_MIXED
    tile = max(members, 1) if every_member_major else TILE_MIXED
    fractions = np.zeros((CHUNKS, producers, steps))
    sums = np.zeros((CHUNKS, producers, steps))
    bad = np.zeros((CHUNKS, producers), dtype=np.int64)
    run_ranges(
        _members_chunks,
        CHUNKS,
        consumption_by_member.size * (producers + 1),
        *(consumption_by_member, powers, tables, strides, kinds, _slots(kinds, ROWS)),
        *(allocated_by_member, grid_supply_by_member, fractions, sums, bad),
        *(CHUNKS, max(1, min(block, steps)), tile),
    )
    return _chunk_totals(fractions), _chunk_totals(sums), bad.sum(axis=0)


def _chunk_totals(partial: Array) -> Array:
    """(chunks, producers, steps) partial sums added in chunk order: (producers, steps)."""
    chunks, producers, steps = partial.shape
    total: Array = sum_chunks(partial.reshape(chunks, producers * steps))
    return total.reshape(producers, steps)


def _slots(kinds: NDArray[np.int64], buffered: int) -> NDArray[np.int64]:
    """Each table's row in the kernel's transposition buffer (-1: read in place)."""
    slots = np.full(len(kinds), -1, dtype=np.int64)
    where = np.flatnonzero(kinds == buffered)
    slots[where] = np.arange(len(where))
    return slots


# --- either layout ------------------------------------------------------------------------


TableList = Any
"""The tables as the kernels receive them: a Numba typed list of read-only 1-D arrays.

A tuple would do as well at run time, but its length is part of its type: every number of
producers would compile the kernels again (3 to 5 s each, cold). A typed list has one type,
whatever its length; it is built by the two cached functions below, so that a process that
loads the kernels from Numba's cache does not compile the list's methods either."""


@container_function
def _new_table_list(first):  # type: ignore[no-untyped-def]
    tables = TypedList()
    tables.append(first)
    return tables


@container_function
def _append_table(tables, table):  # type: ignore[no-untyped-def]
    tables.append(table)


def _table_list(flats: Sequence[Array]) -> TableList:
    """``flats`` (read-only 1-D float64 arrays, at least one) as a :data:`TableList`."""
    tables = _new_table_list(flats[0])
    for flat in flats[1:]:
        _append_table(tables, flat)
    return tables


def _as_read(
    tables: Sequence[Array], by_member: bool
) -> tuple[TableList, NDArray[np.int64], NDArray[np.int64]]:
    """The tables as the kernel for ``by_member`` consumption reads them, in place: their
    lines (:func:`repartition.kernels.layout.flat_lines`) and kinds. Lines of members are
    preferred on member-major consumption, of steps on row-major; a table with neither
    (strided both ways) is copied row-major."""
    flats: list[Array] = []
    strides = np.empty(len(tables), dtype=np.int64)
    kinds = np.empty(len(tables), dtype=np.int64)
    for j, table in enumerate(tables):
        table = read_only(np.asarray(table, dtype=np.float64))
        order = (True, False) if by_member else (False, True)
        member_lines = next(
            (lines for lines in order if line_stride(table, lines) is not None), None
        )
        if member_lines is None:
            table, member_lines = row_major(table), False
        flat, strides[j] = flat_lines(table, member_lines)
        kinds[j] = MEMBERS if member_lines else ROWS
        flats.append(flat)
    return _table_list(flats), strides, kinds


def run(
    consumption: Array,
    production: Array,
    tables: Sequence[Array],
    *,
    limit: float = np.inf,
    out: tuple[Array, Array] | None = None,
) -> tuple[Array, Array, Array, Array, Scan]:
    """The full dynamic key with one (steps, consumers) table of coefficients per producer,
    each stored either way, on ``consumption`` stored either way.

    Returns allocated, grid_supply (stored like ``consumption``), self_consumed, surplus,
    and the :class:`Scan` of the coefficients. The tables are read in place, once (twice
    on member-major data with a row summing above 1). ``limit``: the largest row sum the
    caller accepts. When a table breaks a rule (a value outside [0, 1], NaN, a row sum above
    ``limit``), the outputs are not the rule's: the caller raises. ``out``: see
    :func:`repartition.kernels.layout.empty_outputs`.
    """
    consumption, production = read_only(consumption), read_only(production)
    allocated, grid_supply, self_consumed, surplus = empty_outputs(consumption, production, out)
    by_member = is_by_member(consumption)
    read, strides, kinds = _as_read(tables, by_member)
    if not by_member:
        sums, bad_per_step = full_dynamic_rows(
            *(consumption, production, read, strides, kinds),
            *(allocated, grid_supply, self_consumed, surplus),
        )
        scan = Scan(sums, bad_per_step.sum(axis=0), _divisor(sums))
        return allocated, grid_supply, self_consumed, surplus, scan
    powers = read_only(np.ascontiguousarray(production.T))
    fractions, sums, bad = full_dynamic_members(
        consumption.T, powers, read, strides, kinds, allocated.T, grid_supply.T
    )
    divisor = _divisor(sums)
    if divisor is not None and not bad.any() and bool((sums <= limit).all()):
        # Rows summing above 1: the pass again, from the production divided by their sums.
        powers = read_only(np.ascontiguousarray((production / divisor).T))
        fractions, _, _ = full_dynamic_members(
            consumption.T, powers, read, strides, kinds, allocated.T, grid_supply.T
        )
        fractions = fractions / divisor.T
    shared = np.minimum(1.0, fractions).T * production
    self_consumed[:] = shared
    surplus[:] = production - shared
    return allocated, grid_supply, self_consumed, surplus, Scan(sums, bad, divisor)


def _divisor(sums: Array) -> Array | None:
    """The (steps, producers) row sums above 1, 1 elsewhere; None when none is above 1."""
    over = sums > 1.0
    if not over.any():
        return None
    return read_only(np.ascontiguousarray(np.where(over, sums, 1.0).T))


# --- the flows' scale, rebuilt from AUTOCONS ----------------------------------------------


@range_kernel
def _add_offered(source, powers, offered, first, start, stop):  # type: ignore[no-untyped-def]
    """``offered[t, i] (+)= source[t, i] * powers[t]`` for the steps ``[start, stop)`` of a
    row-major window."""
    for t in range(start, stop):
        power = powers[t]
        if first:
            for i in range(offered.shape[1]):
                offered[t, i] = source[t, i] * power
        else:
            for i in range(offered.shape[1]):
                offered[t, i] += source[t, i] * power


@range_kernel
def _add_offered_by_member(source_by_member, powers, offered, first, start, stop):  # type: ignore[no-untyped-def]
    """:func:`_add_offered` from a member-major window, given as its (consumers, steps)
    transpose: the same terms, added member by member."""
    for i in range(source_by_member.shape[0]):
        if first:
            for t in range(start, stop):
                offered[t, i] = source_by_member[i, t] * powers[t]
        else:
            for t in range(start, stop):
                offered[t, i] += source_by_member[i, t] * powers[t]


@numpy_range_kernel
def _scale_from_allocated(allocated, offered, start, stop):  # type: ignore[no-untyped-def]
    """``offered`` becomes the scale: ``A / D`` where ``D > A`` (the consumer was capped,
    ``A = C``), else 1; rows ``[start, stop)`` of same-shaped arrays."""
    for t in range(start, stop):
        for i in range(offered.shape[1]):
            share = allocated[t, i]
            demand = offered[t, i]
            capped_here = demand > share
            ratio = share / (demand if capped_here else 1.0)  # no branch: vectorises
            offered[t, i] = ratio if capped_here else 1.0


def window_scale(
    allocated: Array,
    production: Array,
    tables: Sequence[Array],
    divisor: Array | None,
    start: int,
    stop: int,
) -> Array:
    """The scale ``min(1, C / D)`` of steps ``[start, stop)``, shape (steps, consumers),
    stored like ``allocated``, rebuilt from AUTOCONS ``allocated`` and the tables (each
    stored either way) with the allocation's own terms: ``D = sum_j k_j * P_j``, ``P_j``
    divided by ``divisor`` where it is given (rows summing above 1)."""
    steps = stop - start
    by_member = is_by_member(allocated)
    offered = np.empty((steps, allocated.shape[1]), order="F" if by_member else "C")
    powers = production[start:stop]
    if divisor is not None:
        powers = powers / divisor[start:stop]
    for j, table in enumerate(tables):
        window = read_only(table[start:stop])
        power = read_only(np.ascontiguousarray(powers[:, j]))
        if is_by_member(table):
            _add_offered_by_member(window.T, power, offered, j == 0, 0, steps)
        else:
            _add_offered(row_major(window), power, offered, j == 0, 0, steps)
    window = read_only(allocated[start:stop])
    if by_member:  # member by member, in memory order
        _scale_from_allocated(window.T, offered.T, 0, offered.shape[1])
    else:
        _scale_from_allocated(row_major(window), offered, 0, steps)
    return offered
