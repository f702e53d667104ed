"""Optimal dynamic keys: the allocation that gives the community the most, under the
constraints its members agree on, sent to the DSO as the dynamic key that reproduces it.

>>> import pandas as pd
>>> from repartition.metrics import Tariffs
>>> from repartition.optimize import MaxSavings, MinSelfSufficiency, optimize
>>> index = pd.date_range("2025-06-02 12:00", periods=1, freq="30min", tz="Europe/Paris")
>>> consumption = pd.DataFrame({"A": [2.0], "B": [2.0]}, index=index)
>>> production = pd.Series([2.0], index=index, name="PV")
>>> tariffs = Tariffs(retail={"A": 0.30, "B": 0.20}, local=0.10, surplus=0.05)
>>> result = optimize(consumption, production, MaxSavings(tariffs), [MinSelfSufficiency(0.25)])
>>> result.allocation.allocated.round(9)
                             A    B
2025-06-02 12:00:00+02:00  1.5  0.5
>>> round(result.objective, 9)  # EUR: 1.5 kWh saving 0.20 each, 0.5 kWh saving 0.10
0.35

Without the floor, B would get nothing (A's kWh are worth more); with it, B receives a
quarter of its 2 kWh. Objectives
(:mod:`~repartition.optimize.objectives`): :class:`MaxSavings`, :class:`MinBills`,
:class:`MaxSelfConsumption`, :class:`MaxMinFairness`, :class:`ClosestToReference`;
constraints (:mod:`~repartition.optimize.constraints`): :class:`MinSelfSufficiency`,
:class:`MaxPoolShare`, :class:`ReferenceBounds`; a shared :class:`Storage`. Solved with
HiGHS (``pip install "repartition[optimize]"``), or with the exact greedy kernel when
nothing couples the steps. docs/optimize.md has the math and the measurements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from repartition import engine, errors
from repartition.allocation import Allocation
from repartition.optimize._solve import PeriodReport, horizons
from repartition.optimize.constraints import (
    Constraint,
    MaxPoolShare,
    MinSelfSufficiency,
    ReferenceBounds,
)
from repartition.optimize.key import OptimalKey, pooled_shares
from repartition.optimize.objectives import (
    ClosestToReference,
    MaxMinFairness,
    MaxSavings,
    MaxSelfConsumption,
    MinBills,
    Objective,
)
from repartition.optimize.result import OptimizationResult
from repartition.optimize.storage import Storage


def _optimize_ranked(
    consumption: Any, production_frame: Any, problem: Any, checked: Any, progress: bool
) -> OptimizationResult:
    """MinBills(rank_producers=True): per-producer flows, as a full dynamic key."""
    from repartition.keys import FullDynamic
    from repartition.optimize._ranked import solve_ranked

    solution = solve_ranked(problem, checked, progress=progress)
    axis = problem.axis
    production = np.asarray(problem.production)
    tables = {}
    for j, producer in enumerate(axis.producers):
        with np.errstate(invalid="ignore", divide="ignore"):
            shares = np.where(
                production[:, j : j + 1] > 0, solution.flows[j] / production[:, j : j + 1], 0.0
            )
        tables[producer] = pd.DataFrame(shares, index=axis.index, columns=axis.consumers)
    # The DSO's rule applied to the key: the allocation it gives (the optimum, to rounding).
    allocation = engine.allocate(consumption, production_frame, FullDynamic(tables))
    return OptimizationResult(allocation, tuple(solution.reports), None, tables)


__all__ = [
    "ClosestToReference",
    "MaxMinFairness",
    "MaxPoolShare",
    "MaxSavings",
    "MaxSelfConsumption",
    "MinBills",
    "MinSelfSufficiency",
    "OptimalKey",
    "OptimizationResult",
    "PeriodReport",
    "ReferenceBounds",
    "Storage",
    "horizons",
    "optimize",
]


def optimize(
    consumption: pd.DataFrame,
    production: pd.DataFrame | pd.Series,
    objective: Objective | Iterable[Objective],
    constraints: Iterable[Constraint] = (),
    *,
    storage: Storage | None = None,
    horizon: str | None = "MS",
    solver_options: Mapping[str, Any] | None = None,
    progress: bool = False,
    tz: str | None = None,
) -> OptimizationResult:
    """The optimal allocation of an operation's energies, horizon by horizon.

    Parameters
    ----------
    consumption : pandas.DataFrame
        CONS per consumer, on a tz-aware regular index of step starts. [kWh per step]
    production : pandas.DataFrame or pandas.Series
        PROD per producer, on the same index. [kWh per step]
    objective : objective or sequence of objectives
        What to maximise (:mod:`repartition.optimize.objectives`); several are summed with
        their weights, :class:`MaxMinFairness` comes first (lexicographic).
    constraints : sequence of constraints
        :class:`MinSelfSufficiency`, :class:`MaxPoolShare`, :class:`ReferenceBounds`.
    storage : Storage, optional
        One battery shared by the operation, scheduled with the allocation.
    horizon : str or None
        The period of each optimisation, a pandas frequency: ``"MS"`` (calendar months
        in the index's time zone, the DSO's key period), ``"W"``, ``"D"``...; ``None``: the
        whole data at once. Floors hold over each horizon.
    solver_options : mapping, optional
        HiGHS options, e.g. ``{"solver": "ipm"}`` or ``{"time_limit": 60.0}``.
    progress : bool
        A progress bar over the horizons.
    tz : str, optional
        The time zone of the horizons' calendar: the index's own by default; give
        ``"Europe/Paris"`` for local months on the DSO's UTC index.

    Returns
    -------
    OptimizationResult
        ``allocation`` (an :class:`~repartition.Allocation`), ``coefficients()`` (the
        dynamic key), ``write_key_file(...)``, ``storage`` (the schedule) and ``report``.

    Raises
    ------
    repartition.errors.RepartitionError
        For energies :func:`repartition.allocate` refuses, with the same errors.
    repartition.errors.InfeasibleError
        When the constraints cannot all hold; the message names the constraint, the
        member, the period and what is reachable.
    repartition.errors.SolverError
        When the solver fails or stops early.
    repartition.errors.MissingExtraError
        Without the ``optimize`` extra, when a solver is needed.
    """
    key = OptimalKey(
        tuple(objective) if isinstance(objective, Iterable) else objective,
        tuple(constraints),
        horizon,
        dict(solver_options or {}),
        tz,
    )
    from repartition.optimize._plan import plan as make_plan
    from repartition.optimize._solve import solve

    checked = make_plan(
        key.objective, key.constraints, storage, horizon, key.solver_options, key.tz
    )
    problem = engine.prepare(consumption, production)
    axis = problem.axis
    if checked.ranked:
        return _optimize_ranked(consumption, production, problem, checked, progress)
    solution = solve(problem, checked, progress=progress)
    if storage is None:
        shares = pooled_shares(problem.consumption, problem.production, solution.allocated)
        arrays = engine.assemble(key, problem.consumption, problem.production, shares)
        return OptimizationResult(engine.labelled(key, axis, arrays), tuple(solution.reports))
    assert solution.charge is not None
    assert solution.discharge is not None
    for members, role in ((axis.consumers, "consumer"), (axis.producers, "producer")):
        if storage.id in members:
            raise errors.DuplicateMemberError(
                f"The storage's id {storage.id!r} is already a {role} of the data: give the "
                "storage its own PRM, Storage(..., id='...').",
                member=storage.id,
                column=storage.id,
            )
    consumption_values = np.column_stack([problem.consumption, solution.charge])
    production_values = np.column_stack([problem.production, solution.discharge])
    allocated = np.column_stack([solution.allocated, solution.charge])
    shares = pooled_shares(consumption_values, production_values, allocated)
    arrays = engine.assemble(key, consumption_values, production_values, shares)
    assert axis.index is not None
    allocation = Allocation(
        key,
        axis.index,
        axis.step,
        axis.consumers.append(pd.Index([storage.id])),
        axis.producers.append(pd.Index([storage.id])),
        arrays,
    )
    schedule = pd.DataFrame(
        {
            "charge": solution.charge,
            "discharge": solution.discharge,
            "state_of_charge": solution.state_of_charge,
        },
        index=axis.index,
    )
    return OptimizationResult(allocation, tuple(solution.reports), schedule)
