""":class:`OptimalKey`: an optimisation usable wherever a sharing key is."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from repartition import errors
from repartition.allocation import Shares
from repartition.kernels.attribution import attribute_steps, pooled_production
from repartition.keys import SharingKey
from repartition.optimize._plan import Plan, plan
from repartition.optimize._solve import Solution, solve
from repartition.optimize.constraints import Constraint
from repartition.optimize.objectives import Objective
from repartition.problem import Problem

__all__ = ["OptimalKey", "pooled_shares"]


def pooled_shares(consumption: Any, production: Any, allocated: Any) -> Shares:
    """The shares of ``allocated`` [kWh per step], attributed to producers as the DSO does
    for a dynamic key (prorata of production)."""
    production = np.ascontiguousarray(production, dtype=np.float64)
    allocated = np.ascontiguousarray(allocated, dtype=np.float64)
    total = pooled_production(production)
    self_consumed = np.empty_like(production)
    surplus = np.empty_like(production)
    attribute_steps(production, total, allocated.sum(axis=1), self_consumed, surplus)
    grid_supply = np.asarray(consumption, dtype=np.float64) - allocated
    np.maximum(grid_supply, 0.0, out=grid_supply)
    return Shares(allocated, grid_supply, self_consumed, surplus)


@dataclass(frozen=True, eq=False)
class OptimalKey(SharingKey):
    """The optimal allocation of :mod:`repartition.optimize` as a sharing key.

    ``allocate(consumption, production, OptimalKey(MaxSavings(tariffs),
    [MinSelfSufficiency(0.1)]))`` gives the same allocation as
    :func:`repartition.optimize.optimize` (which also returns the solver's reports and the
    key file); use it where a key is expected (``compare``, streaming).

    Parameters
    ----------
    objective : objective or sequence of objectives
        See :mod:`repartition.optimize.objectives`.
    constraints : sequence of constraints
        See :mod:`repartition.optimize.constraints`.
    horizon : str or None
        The period each optimisation covers: a pandas frequency (``"MS"``, the default,
        calendar months) or ``None`` for the whole data.
    solver_options : mapping, optional
        HiGHS options (``{"solver": "ipm"}``, ``{"time_limit": 60}``...).
    tz : str, optional
        The time zone of the horizons' calendar: the index's own by default; give
        ``"Europe/Paris"`` for local months on the DSO's UTC index.

    Notes
    -----
    A storage changes the members (it is one more consumer and producer), so it is not a
    key's parameter: pass it to :func:`repartition.optimize.optimize`.
    """

    objective: Objective | tuple[Objective, ...]
    constraints: tuple[Constraint, ...] = ()
    horizon: str | None = "MS"
    solver_options: Mapping[str, Any] = field(default_factory=dict)
    tz: str | None = None
    name: ClassVar[str] = "optimal"

    def __post_init__(self) -> None:
        objective = self.objective
        if not isinstance(objective, tuple) and isinstance(objective, Iterable):
            object.__setattr__(self, "objective", tuple(objective))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        object.__setattr__(self, "solver_options", dict(self.solver_options))
        self.plan()  # check everything now, not at the first allocation

    def plan(self) -> Plan:
        """The checked optimisation this key runs."""
        return plan(
            self.objective, self.constraints, None, self.horizon, self.solver_options, self.tz
        )

    def label(self) -> str:
        return f"optimal ({self.plan().describe()})"

    def solution(self, problem: Problem, *, progress: bool = False) -> Solution:
        """The optimum on ``problem``, with the solver's reports."""
        return solve(problem, self.plan(), progress=progress)

    def share(self, problem: Problem) -> Shares:
        if problem.axis.index is None and self.horizon is not None:
            raise errors.ParameterError(
                "OptimalKey's horizon needs timestamps: use repartition.allocate on labelled "
                "tables, or horizon=None for the whole array."
            )
        solution = self.solution(problem)
        return pooled_shares(problem.consumption, problem.production, solution.allocated)
