"""Prosumer-aware keys (Belgium, Flemish protocol): nobody receives its own production.

A prosumer both produces and consumes. Its meter already nets its own consumption against
its production behind the meter; what it injects is shared among the *other* consumers of
the community. The sharing is therefore per producer: producer ``j`` (owned by consumer
``o(j)``, or by nobody) offers each consumer ``i``

    ``offered[t, j, i] = P[t, j] * k[j, i]``, with ``k[j, o(j)] = 0``,

and a consumer offered more than it consumes has all its pair shares scaled down by one
factor so that they sum to ``C[t, i]`` (the rule of :class:`~repartition.keys.FullDynamic`).
Three variants, from static coefficients ``k_i`` (``S = sum_i k_i <= 1``):

- ``"fixed"``: ``k[j, i] = k_i`` for ``i != o(j)``; the owner's share stays unallocated
  (surplus), not renormalised;
- ``"relative"``: ``k[j, i] = k_i * S / (S - k_{o(j)})`` for ``i != o(j)``, i.e.
  ``k_i / (1 - k_owner)`` for coefficients summing to 1 (the owner's share goes to the
  others in proportion to their keys); a producer whose owner holds every share gives
  nothing (``S - k_owner = 0``);
- ``"optimal"``: ``"relative"``, then what saturated consumers could not use is handed on,
  producer by producer, to the consumers that are neither saturated nor its owner, in
  proportion to ``k_i``, round after round, up to the exact limit; the share ``1 - S``
  that no coefficient covers is handed on too (see :class:`ProsumerKey`).

The class is best imported from :mod:`repartition.keys`.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._align import static_shares, within_one
from repartition.allocation import PairSplit, ReadOnlyArrays, Shares, Tables
from repartition.kernels import prosumer as prosumer_kernels
from repartition.kernels import prosumer_optimal as optimal_kernels
from repartition.kernels.layout import like, read_only
from repartition.keys._base import SharingKey
from repartition.problem import Array, Axis, Problem

__all__ = ["VARIANTS", "ProsumerKey", "owner_columns", "pair_coefficients"]

VARIANTS = ("fixed", "relative", "optimal")
"""The variants of :class:`ProsumerKey`, as in the Flemish protocol."""

Variant = Literal["fixed", "relative", "optimal"]

UNUSED = ("producer", "pooled")
"""Where the optimal variant's unused offers go: back to the ``"producer"`` that made them
(repartition's reading), or ``"pooled"`` and split by what each producer had at the start of
the round (openenergyid's reading)."""


def owner_columns(
    owners: Mapping[Hashable, Hashable] | None, producers: pd.Index, consumers: pd.Index
) -> NDArray[np.intp]:
    """The consumer column owning each producer (``-1``: none), in the data's order.

    ``owners=None`` pairs a producer with the consumer of the same id, if any.
    """
    if owners is None:
        return np.asarray(consumers.get_indexer(producers), dtype=np.intp)
    if not isinstance(owners, Mapping):
        raise errors.ParameterTypeError(
            f"ProsumerKey owners must be a mapping producer id -> consumer id, not {owners!r}."
        )
    columns = np.full(len(producers), -1, dtype=np.intp)
    known_producers = {producer: j for j, producer in enumerate(producers)}
    known_consumers = {consumer: i for i, consumer in enumerate(consumers)}
    for producer, consumer in owners.items():
        if producer not in known_producers:
            raise errors.UnknownMemberError(
                f"ProsumerKey owners name producer {producer!r}, which the data does not "
                "have. Check the id, or add its production column.",
                member=producer,
                column=producer,
            )
        if consumer not in known_consumers:
            raise errors.UnknownMemberError(
                f"ProsumerKey owners give producer {producer!r} the owner {consumer!r}, "
                "which is not a consumer of the data. Check the id, or add its consumption "
                "column.",
                member=consumer,
                column=consumer,
            )
        columns[known_producers[producer]] = known_consumers[consumer]
    return columns


def pair_coefficients(coefficients: Array, owners: NDArray[np.intp], variant: str) -> Array:
    """Per-producer coefficients ``k[j, i]``, shape (producers, consumers).

    ``coefficients`` are the checked ``k_i`` (sum at most 1); ``owners`` the owner column of
    each producer (``-1``: none). ``"fixed"`` zeroes the owner's share; ``"relative"`` and
    ``"optimal"`` also scale the others' by ``S / (S - k_owner)`` (0 when nothing is left).
    """
    table = np.repeat(coefficients[None, :], len(owners), axis=0)
    owned = np.flatnonzero(owners >= 0)
    table[owned, owners[owned]] = 0.0
    if variant == "fixed":
        return table
    total = float(coefficients.sum())
    # The others' sum, summed rather than subtracted: their ratio to S stays exact.
    others = table.sum(axis=1)
    # Divided first, then scaled: each ratio is at most 1, so nothing overflows.
    with np.errstate(divide="ignore", invalid="ignore"):
        table = np.where(others[:, None] > 0.0, table / others[:, None], 0.0) * total
    return within_one(table, table.sum(axis=1))


@dataclass(frozen=True, eq=False)
class ProsumerKey(SharingKey):
    """Prosumer-aware key (Flemish protocol): fixed, relative or optimal.

    Producer ``j`` is shared among the consumers other than its owner ``o(j)``:
    ``offered[t, j, i] = P[t, j] * k[j, i]`` with ``k[j, o(j)] = 0`` and

    - ``"fixed"``: ``k[j, i] = k_i``; the owner's share ``k_{o(j)} * P[t, j]`` is surplus;
    - ``"relative"``: ``k[j, i] = k_i * S / (S - k_{o(j)})`` (``k_i / (1 - k_{o(j)})`` when
      ``S = sum_i k_i = 1``).

    Each consumer's pair shares are scaled by ``min(1, C[t, i] / sum_j offered[t, j, i])``
    (the rule of :class:`~repartition.keys.FullDynamic`, with tables ``k[j, i]`` constant
    over the steps: :mod:`repartition.kernels.prosumer` computes it from the (producers,
    consumers) table alone), so ``A[t, i] = min(C[t, i], sum_j offered[t, j, i])``, and
    ``AUTOPROD[t, j]`` is what producer ``j``'s pairs delivered.

    ``"optimal"`` starts from ``"relative"`` and redistributes per producer (*choice*: not
    pooled, since each producer excludes its own owner): in each round, what producer ``j``
    has left, ``P[t, j] - sum_i flow[t, j, i]``, is offered to the consumers ``i != o(j)``
    with ``k_i > 0`` that are not saturated, in proportion to ``k_i``; each consumer's
    offers are capped together by what it still needs, scaled by one factor. What is left
    includes the share ``1 - S`` no coefficient covers (as
    ``Static(k, redistribute=True)``: coefficients then act as relative weights). A
    redistribution round that saturates nobody ends the step, so the exact limit is
    reached in at most one round per consumer, plus two. Computed step by step by
    :func:`repartition.kernels.prosumer_optimal.optimal_rows` (member-major data:
    :func:`repartition.kernels.prosumer_optimal.optimal_members`), each round
    one pass over the consumers plus ``O(producers * owners)``; NumPy twin:
    :func:`repartition.reference.prosumer_optimal`. *Ties*: a consumer offered exactly what
    it still needs stays open one more round; there the rule is discontinuous, and a tie
    decided the other way by one rounding can move AUTOPROD and the flows by a large
    fraction (see :mod:`repartition.kernels.prosumer_optimal`). The kernels decide ties the
    same way in both layouts and on any number of threads.

    Parameters
    ----------
    coefficients : mapping, pandas.Series or 1-D array
        Consumer id -> share ``k_i`` in [0, 1], ``sum_i k_i <= 1``, matched like
        :class:`~repartition.keys.Static`'s.
    variant : {"fixed", "relative", "optimal"}, default "relative"
    owners : mapping producer id -> consumer id, optional
        Who owns each producer. By default (``None``) a producer is owned by the consumer
        with the same id, if there is one. With :func:`repartition.allocate_arrays` the ids
        are column numbers, so producer column ``j`` is then owned by consumer column ``j``:
        pass ``owners={}`` for no prosumer. Producers not named have no owner.
    unused : {"producer", "pooled"}, default "producer"
        The ``"optimal"`` variant's reading of where the offers a saturated consumer turns
        down go. ``"producer"``: back to the producer that made them, which offers them again
        to the consumers other than its owner (as above). ``"pooled"``: the reading of
        openenergyid, which Flemish users compare against: every round, the open consumers'
        shares are renormalised, each producer offers what it has by them (its owner's set to
        0), and what all the consumers turned down together goes back to the producers in
        proportion to what each had at the start of the round; a step ends when a round
        shares nothing. AUTOCONS and COMPLEMENT are then openenergyid's (to rounding); its
        producers' figures can credit a producer with more surplus than it injected, so
        AUTOPROD and SURPLUS are the pooled attribution, ``AUTOPROD[t, j] = sum_i A[t, i] *
        P[t, j] / P_tot[t]`` (*assumption*; docs/rules.md, "Where readings differ"). Computed
        in NumPy, a round at a time over the steps still sharing.

    Raises
    ------
    repartition.errors.CoefficientSumError
        For coefficients summing above 1.
    repartition.errors.UnknownMemberError
        For an owner mapping naming a producer or consumer the data does not have.

    Notes
    -----
    Without prosumers, ``"fixed"`` and ``"relative"`` are :class:`~repartition.keys.Static`
    and ``"optimal"`` is ``Static(k, redistribute=True)``. ``passes`` (``"optimal"``) counts
    the rounds each step needed. Flows: ``"fixed"`` and ``"relative"`` keep the pair table
    (repeated over the steps as zero-copy views) and rebuild the per-step scale from AUTOCONS
    when the flows are asked for; ``"optimal"`` rebuilds them by replaying its rounds on
    AUTOCONS (:func:`repartition.kernels.prosumer_optimal.window_tables`).

    References
    ----------
    docs/rules.md, "Belgium" (Flanders protocol; Wallonia; another reading in "Where
    readings differ"), fixed, relative and optimal keys, a member not sharing with itself.

    Examples
    --------
    Producer 0 belongs to consumer 0, whose 50 % share stays unallocated (fixed) or goes to
    the others (relative: 0.25 / 0.5 = 50 % each):

    >>> import numpy as np
    >>> from repartition import allocate_arrays
    >>> from repartition.keys import ProsumerKey
    >>> C, P = np.array([[5.0, 5.0, 1.0]]), np.array([[4.0]])
    >>> allocate_arrays(C, P, ProsumerKey([0.5, 0.25, 0.25], "fixed")).allocated
    array([[0., 1., 1.]])
    >>> allocate_arrays(C, P, ProsumerKey([0.5, 0.25, 0.25], "relative")).allocated
    array([[0., 2., 1.]])
    >>> allocate_arrays(C, P, ProsumerKey([0.5, 0.25, 0.25], "optimal")).allocated
    array([[0., 3., 1.]])
    """

    coefficients: Mapping[Any, float] | pd.Series | Sequence[float] | np.ndarray
    variant: Variant = "relative"
    owners: Mapping[Hashable, Hashable] | None = None
    unused: Literal["producer", "pooled"] = "producer"
    name: ClassVar[str] = "prosumer"

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise errors.ParameterError(
                f"ProsumerKey variant must be one of {', '.join(VARIANTS)}, not {self.variant!r}."
            )
        if self.unused not in UNUSED:
            raise errors.ParameterError(
                f"ProsumerKey unused must be one of {', '.join(UNUSED)}, not {self.unused!r}."
            )
        if self.unused == "pooled" and self.variant != "optimal":
            raise errors.ParameterError(
                "ProsumerKey unused='pooled' is a reading of the optimal variant: give "
                "variant='optimal' with it."
            )

    def label(self) -> str:
        reading = ", unused offers pooled" if self.unused == "pooled" else ""
        return f"{self.name} ({self.variant}{reading})"

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        coefficients = static_shares(self.coefficients, axis.consumers, "ProsumerKey")
        owners = owner_columns(self.owners, axis.producers, axis.consumers)
        if self.variant == "optimal" and self.unused == "pooled":
            return _pooled(consumption, production, coefficients, owners)
        if self.variant == "optimal":
            return _optimal(consumption, production, coefficients, owners, axis)
        pairs = pair_coefficients(coefficients, owners, self.variant)
        return _pair_shares(consumption, production, pairs, axis)


def _pair_shares(consumption: Array, production: Array, pairs: Array, axis: Axis) -> Shares:
    """The ``"fixed"`` and ``"relative"`` variants: the full dynamic rule with the tables
    ``k[j, i]`` constant over the steps, never repeated in memory
    (:func:`repartition.kernels.prosumer.run`). The scale of the flows is rebuilt from
    AUTOCONS when they are asked for, as the pooled flows are computed from it."""
    production = read_only(production)  # kept for the flows
    allocated, grid_supply, self_consumed, surplus, pairs = prosumer_kernels.run(
        consumption, production, pairs, out=axis.outputs
    )
    tables_for = _PairTables(allocated, production, pairs)
    return Shares(
        allocated, grid_supply, self_consumed, surplus, split=PairSplit(tables_for=tables_for)
    )


def _pooled(
    consumption: Array, production: Array, coefficients: Array, owners: NDArray[np.intp]
) -> Shares:
    """The optimal variant with pooled unused offers: AUTOCONS and COMPLEMENT as
    openenergyid computes them; AUTOPROD and SURPLUS pooled by production."""
    allocated, _, rounds = _pooled_rounds(consumption, production, coefficients, owners)
    allocated = like(allocated, consumption)
    grid_supply = like(np.asarray(consumption) - allocated, consumption)
    # The pooled reading credits each producer, as its net injection, with a share of what
    # every producer's offers had turned down, which can exceed what it injected (AUTOPROD
    # < 0): the producers' side is the DSO's pooled attribution instead (*assumption*).
    shared = np.sort(allocated, axis=1).sum(axis=1)
    production_total = np.sort(production, axis=1).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(production_total > 0.0, shared / production_total, 0.0)
    self_consumed = production * np.minimum(fraction, 1.0)[:, None]
    return Shares(allocated, grid_supply, self_consumed, production - self_consumed, passes=rounds)


def _pooled_rounds(
    consumption: Array, production: Array, coefficients: Array, owners: NDArray[np.intp]
) -> tuple[Array, Array, NDArray[np.int32]]:
    """The ``"optimal"`` variant read with pooled unused offers (openenergyid's reading).

    Every round, on the steps still sharing: the open consumers (those that still need
    energy, and all of them in the first round) keep their shares ``k_i``, the others get
    0, renormalised to sum to 1; each producer offers what it has left by these shares with
    its owner's set to 0 and renormalised again; each consumer takes what it is offered, up
    to what it still needs; what all the consumers turned down together goes back to the
    producers in proportion to what each had at the start of the round. A step stops when a
    round shares nothing. Returns AUTOCONS, SURPLUS and the rounds per step.
    """
    steps, consumers = consumption.shape
    need = np.array(consumption, dtype=np.float64)  # what each consumer still needs
    left = np.array(production, dtype=np.float64)  # what each producer still has
    allocated = np.zeros((steps, consumers))
    rounds = np.zeros(steps, dtype=np.int32)
    open_ = np.ones((steps, consumers), dtype=bool)
    active = np.arange(steps)
    first = True
    while len(active):
        rounds[active] += 1
        keys = np.where(open_[active] | first, coefficients[None, :], 0.0)
        with np.errstate(divide="ignore", invalid="ignore"):
            keys = np.nan_to_num(keys / keys.sum(axis=1, keepdims=True), nan=0.0)
        offered = np.zeros((len(active), consumers))
        kept = np.zeros((len(active), production.shape[1]))
        start = left[active]
        for j, owner in enumerate(owners):
            share = keys.copy()
            if owner >= 0:
                share[:, owner] = 0.0
                with np.errstate(divide="ignore", invalid="ignore"):
                    share = np.nan_to_num(share / share.sum(axis=1, keepdims=True), nan=0.0)
            offer = start[:, j, None] * share
            offered += offer
            kept[:, j] = start[:, j] - offer.sum(axis=1)
        still = need[active] - offered
        turned_down = np.clip(still, None, 0.0).sum(axis=1) * -1.0
        remaining = np.clip(still, 0.0, None)
        taken = need[active] - remaining
        allocated[active] += taken
        need[active] = remaining
        with np.errstate(divide="ignore", invalid="ignore"):
            back = np.nan_to_num(start / start.sum(axis=1, keepdims=True), nan=0.0)
        left[active] = kept + back * turned_down[:, None]
        open_[active] = remaining != 0.0
        first = False
        active = active[(taken != 0.0).any(axis=1)]
    surplus = left
    return allocated, surplus, rounds


def _optimal(
    consumption: Array, production: Array, coefficients: Array, owners: NDArray[np.intp], axis: Axis
) -> Shares:
    """The ``"optimal"`` variant: relative offers, then rounds over the open consumers, step
    by step (:func:`repartition.kernels.prosumer_optimal.run`). The flows are rebuilt on
    demand by replaying the rounds on the allocation's own AUTOCONS, as the pooled flows are
    computed from it."""
    # The flows are rebuilt later from production and k: production reaching a key is already
    # the package's own read-only copy (engine._run; a cascade's arrays of what is left), and
    # the coefficients are copied here, whatever the caller does with its arrays meanwhile.
    production = read_only(production)
    k = read_only(np.array(coefficients, dtype=np.float64))
    c = read_only(_relative_scale(k, owners, axis))
    slots = _owner_slots(owners, len(k))
    allocated, grid_supply, self_consumed, surplus, passes = optimal_kernels.run(
        consumption, production, k, c, slots, out=axis.outputs
    )
    if (passes < 0).any():
        row = int(np.argmax(passes < 0))
        raise errors.CoefficientRangeError(
            f"ProsumerKey optimal at {axis.step_name(row)}: the energy left per unit of "
            "the open consumers' coefficients overflows (above 1e300 kWh): coefficients "
            "too small next to the energy, or energies too large. Set such coefficients "
            "to 0, or check the energies' unit.",
            timestamp=axis.timestamp(row),
        )
    # The flows replay the rounds on AUTOCONS: min(A_i, k_i L) = min(C_i, k_i L) for every
    # level L the step went through (kernels.prosumer_optimal), so they need no record.
    tables_for = _OptimalTables(allocated, production, k, c, slots)
    split = PairSplit(tables_for=tables_for)
    return Shares(allocated, grid_supply, self_consumed, surplus, split=split, passes=passes)


@dataclass(frozen=True, eq=False)
class _PairTables(ReadOnlyArrays):
    """The flows' tables of the ``"fixed"`` and ``"relative"`` variants, rebuilt on demand
    from AUTOCONS: data, not a closure, so that a result pickles."""

    allocated: Array
    production: Array
    pairs: Array

    def __call__(self, start: int, stop: int) -> Tables:
        scale = prosumer_kernels.window_scale(
            self.allocated, self.production, self.pairs, start, stop
        )
        # Each producer's table is its row of pairs, repeated over the steps without a copy.
        return [np.broadcast_to(row, scale.shape) for row in self.pairs], scale


@dataclass(frozen=True, eq=False)
class _OptimalTables(ReadOnlyArrays):
    """The flows' tables of the ``"optimal"`` variant, rebuilt on demand by replaying the
    rounds on AUTOCONS: data, not a closure, so that a result pickles."""

    allocated: Array
    production: Array
    coefficients: Array
    scale: Array
    slots: tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]

    def __call__(self, start: int, stop: int) -> Tables:
        tables = optimal_kernels.window_tables(
            self.allocated, self.production, self.coefficients, self.scale, self.slots, start, stop
        )
        return list(tables), np.broadcast_to(1.0, (stop - start, self.allocated.shape[1]))


def _owner_slots(
    owners: NDArray[np.intp], consumers: int
) -> tuple[NDArray[np.intp], NDArray[np.intp], NDArray[np.intp]]:
    """Number the consumers that own a producer 0, 1, ...: the slot of each producer's owner,
    each consumer's slot (-1: none) and the consumer of each slot, read-only."""
    owning = np.unique(owners[owners >= 0]).astype(np.intp)
    consumer_slots = np.full(consumers, -1, dtype=np.intp)
    consumer_slots[owning] = np.arange(len(owning))
    producer_slots = np.where(owners >= 0, consumer_slots[np.maximum(owners, 0)], -1)
    return (
        read_only(producer_slots.astype(np.intp)),
        read_only(consumer_slots),
        read_only(owning),
    )


def _relative_scale(
    coefficients: Array, owners: NDArray[np.intp], axis: Axis | None = None
) -> Array:
    """``c[j] = S / (S - k_o(j))``, with ``S - k_o(j)`` summed over the others (0 when the
    owner holds every share): the relative key gives ``k_i * c[j]`` to each ``i != o(j)``.

    Raises :class:`~repartition.errors.CoefficientRangeError`, naming the producer, when the
    others' coefficients are so small next to the owner's that ``c[j]`` overflows."""
    total = float(coefficients.sum())
    scale = np.zeros(len(owners))
    for j, owner in enumerate(owners):
        others = float(np.delete(coefficients, owner).sum()) if owner >= 0 else total
        if others > 0.0:
            with np.errstate(over="ignore"):
                scale[j] = total / others
            if not np.isfinite(scale[j]):
                producer = axis.producers[j] if axis is not None else j
                owner_id = axis.consumers[owner] if axis is not None else owner
                raise errors.CoefficientRangeError(
                    f"ProsumerKey optimal: the consumers other than {owner_id!r}, owner of "
                    f"producer {producer!r}, have coefficients summing to {others:.3g}, so "
                    "small next to the owner's that the relative key overflows. Set such "
                    "coefficients to 0.",
                    member=producer,
                    column=producer,
                )
    return scale
