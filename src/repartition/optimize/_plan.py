"""The objectives, constraints and options of one optimisation, checked together."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from repartition import errors
from repartition.keys import SharingKey
from repartition.optimize.constraints import (
    Constraint,
    MaxPoolShare,
    MinSelfSufficiency,
    ReferenceBounds,
)
from repartition.optimize.objectives import (
    ClosestToReference,
    MaxMinFairness,
    MaxSavings,
    MaxSelfConsumption,
    MinBills,
    Objective,
)
from repartition.optimize.storage import Storage
from repartition.time import check_time_zone

__all__ = ["Plan", "plan"]

OBJECTIVES = (MaxSavings, MinBills, MaxSelfConsumption, MaxMinFairness, ClosestToReference)
CONSTRAINTS = (MinSelfSufficiency, MaxPoolShare, ReferenceBounds)


@dataclass(frozen=True)
class Plan:
    """A checked optimisation: what to maximise, under which constraints, over which
    horizons, with which solver options."""

    objectives: tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    storage: Storage | None = None
    horizon: str | None = "MS"
    solver_options: Mapping[str, Any] = field(default_factory=dict)
    tz: str | None = None  # the calendar of the horizons; None: the index's own

    @property
    def fairness(self) -> MaxMinFairness | None:
        found = [o for o in self.objectives if isinstance(o, MaxMinFairness)]
        return found[0] if found else None

    @property
    def linear(self) -> tuple[Objective, ...]:
        return tuple(o for o in self.objectives if not isinstance(o, MaxMinFairness))

    @property
    def distance(self) -> tuple[SharingKey, float, str] | None:
        """The reference, weight and norm of the distance term, if any."""
        for objective in self.objectives:
            if isinstance(objective, ClosestToReference):
                return objective.reference, objective.weight, objective.norm
            if isinstance(objective, MinBills) and objective.deviation_price > 0:
                return objective.reference, objective.weight * objective.deviation_price, "l1"
        return None

    @property
    def ranked(self) -> bool:
        """One variable per producer: a full dynamic key (MinBills(rank_producers=True))."""
        return any(isinstance(o, MinBills) and o.rank_producers for o in self.objectives)

    @property
    def separable(self) -> bool:
        """Nothing couples steps or cells: the exact greedy kernel solves it."""
        return (
            not self.constraints
            and self.storage is None
            and self.fairness is None
            and self.distance is None
            and not self.ranked
        )

    def references(self) -> tuple[SharingKey, ...]:
        """Every reference key named by an objective or a constraint, first one first."""
        found: list[SharingKey] = []
        for item in (*self.objectives, *self.constraints):
            key = getattr(item, "reference", None)
            if isinstance(key, SharingKey) and key not in found:
                found.append(key)
        return tuple(found)

    def describe(self) -> str:
        names = [type(o).__name__ for o in self.objectives]
        names += [type(c).__name__ for c in self.constraints]
        if self.storage is not None:
            names.append("Storage")
        return " + ".join(names)


def plan(
    objective: Objective | Iterable[Objective],
    constraints: Iterable[Constraint] = (),
    storage: Storage | None = None,
    horizon: str | None = "MS",
    solver_options: Mapping[str, Any] | None = None,
    tz: str | None = None,
) -> Plan:
    """Check and gather the parameters of an optimisation (typed errors naming the bad one)."""
    given: Any = objective
    if isinstance(given, OBJECTIVES) or not isinstance(given, Iterable) or isinstance(given, str):
        objectives: tuple[Any, ...] = (given,)  # a wrong one is refused just below, by name
    else:
        objectives = tuple(given)
    if not objectives:
        raise errors.ParameterError(
            "optimize needs at least one objective (MaxSavings(tariffs), MinBills(tariffs), "
            "MaxSelfConsumption(), MaxMinFairness(), ClosestToReference(key))."
        )
    for item in objectives:
        if not isinstance(item, OBJECTIVES):
            raise errors.ParameterTypeError(
                f"{item!r} is not an objective of repartition.optimize.objectives."
            )
    checked = tuple(constraints)
    for constraint in checked:
        if not isinstance(constraint, CONSTRAINTS):
            raise errors.ParameterTypeError(
                f"{constraint!r} is not a constraint of repartition.optimize.constraints."
            )
    if sum(isinstance(o, MaxMinFairness) for o in objectives) > 1:
        raise errors.ParameterError("Give at most one MaxMinFairness objective.")
    distances = [
        o
        for o in objectives
        if isinstance(o, ClosestToReference) or (isinstance(o, MinBills) and o.deviation_price)
    ]
    if len(distances) > 1:
        raise errors.ParameterError(
            "Give at most one distance to a reference (ClosestToReference, or MinBills with "
            "a deviation_price): their sum is not what either measures."
        )
    if storage is not None and not isinstance(storage, Storage):
        raise errors.ParameterTypeError(
            f"storage must be a repartition.optimize.Storage, not {type(storage).__name__}."
        )
    if storage is not None and any(
        isinstance(o, ClosestToReference) and o.norm == "l2" for o in objectives
    ):
        raise errors.ParameterError("ClosestToReference(norm='l2') takes no storage.")
    if any(isinstance(o, MinBills) and o.rank_producers for o in objectives):
        others = [
            o
            for o in objectives
            if not isinstance(o, MaxSavings | MaxSelfConsumption | MinBills)
            or (isinstance(o, MinBills) and o.deviation_price)
        ]
        if others or storage is not None:
            raise errors.ParameterError(
                "MinBills(rank_producers=True) combines with MaxSavings, MaxSelfConsumption "
                "and every constraint, but not with a deviation price, MaxMinFairness, "
                "ClosestToReference or storage in this version."
            )
    if horizon is not None and not isinstance(horizon, str):
        raise errors.ParameterTypeError(
            f"horizon must be a pandas frequency ('MS' for calendar months, 'W', 'D', ...) "
            f"or None for the whole period, not {horizon!r}."
        )
    options = dict(solver_options or {})
    if tz is not None:
        tz = check_time_zone(tz)
    return Plan(objectives, checked, storage, horizon, options, tz)
