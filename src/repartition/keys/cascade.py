"""Priority cascade: ordered groups of consumers, each served by its own key in turn.

The first group shares the whole production with its own inner key; the second group shares
what the first one left, with its own key; and so on. A group gets nothing before every group
ahead of it has taken what its key gives it (docs/rules.md, "Priority cascade").

Attribution to producers (*assumption*, as the DSO's pooled attribution): what a group
receives is taken from each producer in proportion to that producer's part of the
production still left, ``AUTOPROD_g[t, j] = (sum_{i in g} A[t, i]) * R_{g-1}[t, j] /
R_tot_{g-1}[t]``, where ``R_{g-1}[t, j]`` is what producer ``j`` has left after the groups
ahead of ``g`` (``R_0 = P``). With pooled inner keys every ``R_g`` stays proportional to
``P``, so the cascade's AUTOPROD is exactly the DSO's ``(sum_i A[t, i]) * P[t, j] /
P_tot[t]`` and its flows the pooled ``A[t, i] * P[t, j] / P_tot[t]``. An inner key with its
own attribution (:class:`~repartition.keys.FullDynamic`, :class:`~repartition.keys.ItalianKey`)
attributes its group's energy its own way on the production left, and the next groups see
what it left per producer.

The class is re-exported by :mod:`repartition.keys`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition.allocation import PairSplit, Shares
from repartition.kernels.layout import empty_outputs, like
from repartition.keys._base import SharingKey
from repartition.problem import Array, Problem

__all__ = ["CascadeGroup", "PriorityCascade"]


@dataclass(frozen=True)
class CascadeGroup:
    """One group of a :class:`PriorityCascade`: its members and the key that serves them.

    Parameters
    ----------
    members : sequence of member ids
        The consumers of the group (column ids of the consumption; column numbers for
        :func:`repartition.allocate_arrays`). Their order is the order in which a plain-array
        coefficient of the inner key is read.
    key : SharingKey
        The inner key: any key whose coefficients name the group's members only.
    name : str, optional
        A label for messages and :meth:`PriorityCascade.label` (default ``"group <n>"``).
    """

    members: tuple[Hashable, ...]
    key: SharingKey
    name: str | None = None


GroupSpec = (
    CascadeGroup
    | tuple[Sequence[Hashable], SharingKey]
    | tuple[str, Sequence[Hashable], SharingKey]
)
"""A group as a :class:`CascadeGroup`, ``(members, key)`` or ``(name, members, key)``."""


def _as_group(spec: object, number: int) -> CascadeGroup:
    """A checked :class:`CascadeGroup` from one of the accepted spellings."""
    name: object
    members: object
    key: object
    if isinstance(spec, CascadeGroup):
        name, members, key = spec.name, spec.members, spec.key
    elif isinstance(spec, tuple) and len(spec) == 2:
        name, (members, key) = None, spec
    elif isinstance(spec, tuple) and len(spec) == 3:
        name, members, key = spec
    else:
        raise errors.ParameterTypeError(
            f"PriorityCascade group {number} must be (members, key), (name, members, key) or a "
            f"CascadeGroup, not {spec!r}."
        )
    label = f"group {number}" if name is None else str(name)
    if isinstance(members, str | bytes) or not isinstance(members, Sequence | pd.Index):
        raise errors.ParameterTypeError(
            f"PriorityCascade {label!r}: members must be a list of member ids, not {members!r}."
        )
    if not isinstance(key, SharingKey):
        raise errors.ParameterTypeError(
            f"PriorityCascade {label!r}: the inner key must be a sharing key from "
            f"repartition.keys, not {type(key).__name__}."
        )
    if not len(members):
        raise errors.NoMembersError(
            f"PriorityCascade {label!r} has no member. Remove the group or give it members."
        )
    return CascadeGroup(tuple(members), key, label)


@dataclass(frozen=True, eq=False)
class PriorityCascade(SharingKey):
    """Priority cascade: ordered groups of consumers, each served by its own inner key on
    the production the groups ahead of it left.

    With ``R_0[t, j] = P[t, j]``, group ``g`` (consumers ``I_g``, inner key ``key_g``)
    receives ``A[t, I_g] = key_g(C[t, I_g], R_{g-1}[t, :])``, exactly what
    ``allocate(consumption[I_g], R_{g-1}, key_g)`` gives; then ``R_g = R_{g-1} -
    AUTOPROD_g``. SURPLUS is what is left after the last group, ``R_G``.

    Attribution (*assumption*, the DSO's pooled attribution): a pooled inner key takes its
    group's energy from each producer in proportion to what that producer has left, so
    with pooled inner keys ``AUTOPROD[t, j] = (sum_i A[t, i]) * P[t, j] / P_tot[t]`` and
    ``flow[t, j, i] = A[t, i] * P[t, j] / P_tot[t]``, as for any pooled key. An inner
    :class:`~repartition.keys.FullDynamic` or :class:`~repartition.keys.ItalianKey`
    attributes its group's energy its own way (its coefficients or merit order apply to the
    production left); flows are then those of each group's key on the production left.

    Parameters
    ----------
    groups : sequence of (members, key), (name, members, key) or CascadeGroup
        In order of priority, first served first. Every consumer of the data is in exactly
        one group. An inner key's coefficients name the members of its group only (a plain
        array is read in the order of the group's ``members``).

    Raises
    ------
    repartition.errors.DuplicateMemberError
        When construction finds a member in two groups (or twice in one), naming it.
    repartition.errors.NoMembersError
        For a cascade without groups, or a group without members.
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        When applied: a member that the data does not have, or a consumer in no group.

    Notes
    -----
    A cascade with one group is its inner key. Inner keys may themselves be cascades. Only
    the first group is sure to be served as if the others did not exist: it is never worse
    off than under its key applied to everyone. ``passes`` (water-filling keys) is the sum
    of the groups' passes. With an inner key that is not pooled, :meth:`flows` keeps one
    (steps, consumers) table per producer (``producers x steps x consumers`` floats).

    References
    ----------
    docs/rules.md, "Priority cascade". A PMO sends the result
    to the DSO as dynamic coefficients (:func:`repartition.to_dynamic_key`).

    Examples
    --------
    Public buildings first (prorata), then households (equal shares, redistributed):

    >>> import numpy as np
    >>> from repartition import allocate_arrays, keys
    >>> from repartition.keys import PriorityCascade
    >>> key = PriorityCascade([("public", [0, 1], keys.Prorata()), ([2, 3], keys.EqualShare())])
    >>> result = allocate_arrays(np.array([[2.0, 2.0, 3.0, 5.0]]), np.array([8.0]), key)
    >>> result.allocated
    array([[2., 2., 2., 2.]])
    >>> key.label()
    'priority cascade: public (prorata) > group 2 (equal share)'
    """

    groups: Sequence[GroupSpec]
    name: ClassVar[str] = "priority cascade"

    def __post_init__(self) -> None:
        specs: object = self.groups
        if isinstance(specs, str | bytes) or not isinstance(specs, Sequence):
            raise errors.ParameterTypeError(
                f"PriorityCascade takes a list of groups, not {specs!r}."
            )
        groups = tuple(_as_group(spec, number) for number, spec in enumerate(specs, 1))
        if not groups:
            raise errors.NoMembersError(
                "PriorityCascade has no group. Give at least one (members, key) group."
            )
        seen: dict[Hashable, str] = {}
        for group in groups:
            for member in group.members:
                if member in seen:
                    where = (
                        f"twice in {group.name!r}"
                        if seen[member] == group.name
                        else f"in {seen[member]!r} and in {group.name!r}"
                    )
                    raise errors.DuplicateMemberError(
                        f"PriorityCascade has member {member!r} {where}: every consumer "
                        "belongs to exactly one group. Keep it in one group only.",
                        member=member,
                        column=member,
                    )
                seen[member] = str(group.name)
        object.__setattr__(self, "groups", groups)

    @property
    def cascade_groups(self) -> tuple[CascadeGroup, ...]:
        """The groups in order of priority, as :class:`CascadeGroup` (named)."""
        groups = self.groups
        assert isinstance(groups, tuple)
        return groups

    def step_tables(self) -> dict[str, Any]:
        """Every group's key's tables, named ``<group>.<parameter>``."""
        return {
            f"{group.name}.{name}": table
            for group in self.cascade_groups
            for name, table in group.key.step_tables().items()
        }

    def label(self) -> str:
        inner = " > ".join(f"{group.name} ({group.key.label()})" for group in self.cascade_groups)
        return f"{self.name}: {inner}"

    def _positions(self, consumers: pd.Index) -> list[NDArray[np.intp]]:
        """The column numbers of each group's members in the data, checked."""
        known = set(consumers)
        positions = []
        for group in self.cascade_groups:
            for member in group.members:
                if member not in known:
                    raise errors.UnknownMemberError(
                        f"PriorityCascade {group.name!r} names consumer {member!r}, which the "
                        "data does not have. Check the id, or add its consumption column.",
                        member=member,
                        column=member,
                    )
            positions.append(
                np.asarray(
                    consumers.get_indexer(pd.Index(list(group.members), tupleize_cols=False)),
                    dtype=np.intp,
                )
            )
        covered = np.zeros(len(consumers), dtype=bool)
        covered[np.concatenate(positions)] = True
        if not covered.all():
            member = consumers[int(np.argmin(covered))]
            raise errors.MissingMemberError(
                f"PriorityCascade puts consumer {member!r} in no group. Add it to the group "
                "that should serve it (every consumer belongs to exactly one group).",
                member=member,
                column=member,
            )
        return positions

    def share(self, problem: Problem) -> Shares:
        consumption, production, axis = problem.consumption, problem.production, problem.axis
        positions = self._positions(axis.consumers)
        allocated, grid_supply, self_consumed, _ = empty_outputs(
            consumption, production, axis.outputs
        )
        self_consumed[:] = 0.0
        remaining = np.array(production, dtype=np.float64, order="C")
        parts: list[tuple[NDArray[np.intp], Array, Shares]] = []
        whole = len(positions) == 1 and np.array_equal(positions[0], np.arange(len(axis.consumers)))
        for group, columns in zip(self.cascade_groups, positions, strict=True):
            written: tuple[Array, Array] | None
            if whole:
                group_consumption, written = consumption, (allocated, grid_supply)
                group_axis = replace(axis, outputs=written)
            else:
                # A run of columns is a view, and so are its outputs: on member-major data
                # (pandas' usual layout) the group's key reads and writes in place.
                where = _as_slice(columns)
                group_consumption = like(consumption[:, where], consumption)
                # (Fancy indexing would give copies, not views: no outputs then.)
                written = (
                    (allocated[:, where], grid_supply[:, where])
                    if isinstance(where, slice)
                    else None
                )
                group_axis = replace(
                    axis,
                    consumers=axis.consumers[columns],
                    consumption_total=None,
                    outputs=written,
                )
            shares = group.key.share(Problem(group_consumption, remaining, group_axis))
            if (
                written is None
                or shares.allocated is not written[0]
                or shares.grid_supply is not written[1]
            ):
                allocated[:, columns] = shares.allocated
                grid_supply[:, columns] = shares.grid_supply
            self_consumed += shares.self_consumed
            parts.append((columns, remaining, shares))
            remaining = np.maximum(remaining - shares.self_consumed, 0.0)
        return Shares(
            allocated,
            grid_supply,
            self_consumed,
            remaining,
            split=_split(parts, production, allocated.shape),
            passes=_passes([shares.passes for _, _, shares in parts]),
        )


def _as_slice(columns: NDArray[np.intp]) -> slice | NDArray[np.intp]:
    """``columns`` as a slice when they are a run of consecutive columns, else as they are."""
    first = int(columns[0])
    if np.array_equal(columns, np.arange(first, first + len(columns))):
        return slice(first, first + len(columns))
    return columns


def _passes(passes: list[NDArray[np.int32] | None]) -> NDArray[np.int32] | None:
    """Total passes per step over the groups whose key reports them."""
    known = [count for count in passes if count is not None]
    if not known:
        return None
    total: NDArray[np.int32] = np.sum(known, axis=0, dtype=np.int32)
    return total


def _split(
    parts: list[tuple[NDArray[np.intp], Array, Shares]],
    production: Array,
    shape: tuple[int, ...],
) -> PairSplit:
    """How :meth:`~repartition.allocation.AllocationArrays.flows` recovers the cascade's flows.

    Pooled inner keys only: the pooled split (every ``R_g`` is proportional to ``P``).
    Otherwise one table per producer, ``table[j][t, i] = flow_g[t, j, i] / P[t, j]`` for the
    group ``g`` of consumer ``i``, where ``flow_g`` is the flow of ``g``'s key on the
    production it was given, ``R_{g-1}``; scale 1.
    """
    if all(shares.split.pooled for _, _, shares in parts):
        return PairSplit()
    producers = production.shape[1]
    tables = [np.zeros(shape) for _ in range(producers)]
    with np.errstate(divide="ignore", invalid="ignore"):
        for columns, given, shares in parts:
            # r[t, j] = R_{g-1}[t, j] / P[t, j]: the part of the producer's energy still there.
            left = np.where(production > 0.0, given / production, 0.0)
            split = shares.split
            if split.pooled:
                # flow = A[t, i] * R[t, j] / R_tot[t]  =>  table = A[t, i] * r[t, j] / R_tot[t]
                given_total = given.sum(axis=1, keepdims=True)
                weight = np.where(given_total > 0.0, left / given_total, 0.0)
                for j in range(producers):
                    tables[j][:, columns] = shares.allocated * weight[:, j, None]
            else:
                # flow = k_g[j][t, i] * R[t, j] * s_g[t, i]  =>  table = k_g[j] * s_g * r[t, j]
                group_tables, scale = split.window(0, shape[0])
                for j, table in enumerate(group_tables):
                    tables[j][:, columns] = table * scale * left[:, j, None]
    return PairSplit(coefficients=tables, scale=np.ones(shape))
