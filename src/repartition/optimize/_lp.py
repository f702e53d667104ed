"""A linear program in the arrays HiGHS takes, and its solve.

The problems of :mod:`repartition.optimize` are built straight into compressed sparse
columns (:class:`LinearProgram`) and passed to HiGHS in one call (:func:`solve_highs`): no
modelling layer between. Measured on a month x 1,000 consumers, cvxpy's canonicalisation
took 2-3 times the solve itself (issue 12's table), and re-solving through cvxpy Parameters
8-15 times more. The quadratic objective (``ClosestToReference(norm="l2")``) goes through
cvxpy and Clarabel (:func:`solve_quadratic`), built once as one sparse expression.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from repartition import _optional, errors

__all__ = ["LinearProgram", "Solved", "solve_highs", "solve_quadratic"]

Array = NDArray[np.float64]
INFINITY = float("inf")


@dataclass
class LinearProgram:
    """``max cost @ x`` s.t. ``row_lower <= A x <= row_upper``, ``lower <= x <= upper``.

    ``A`` is given by its nonzeros in coordinate form (``rows``, ``columns``, ``entries``),
    turned into compressed columns once by :meth:`columns_format`.
    """

    cost: Array
    lower: Array
    upper: Array
    row_lower: Array
    row_upper: Array
    rows: NDArray[np.int64]
    columns: NDArray[np.int64]
    entries: Array
    offset: float = 0.0

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.row_lower), len(self.cost)

    def columns_format(self) -> tuple[NDArray[np.int32], NDArray[np.int32], Array]:
        """(start, index, value) of ``A`` by columns, in the order the entries were given
        within a column (the builder gives each column's rows in increasing order)."""
        order = np.argsort(self.columns, kind="stable")  # a radix sort for integers
        counts = np.bincount(self.columns, minlength=len(self.cost))
        start = np.zeros(len(self.cost) + 1, dtype=np.int64)
        np.cumsum(counts, out=start[1:])
        if start[-1] > np.iinfo(np.int32).max:
            raise errors.SolverError(
                f"The linear program has {start[-1]:,} nonzeros, more than HiGHS takes "
                "(2**31 - 1): optimise over shorter horizons (horizon='W' or 'D')."
            )
        return (
            start.astype(np.int32),
            self.rows[order].astype(np.int32),
            np.ascontiguousarray(self.entries[order]),
        )

    def matrix(self) -> Any:
        """``A`` as a ``scipy.sparse.csc_array`` (for cvxpy and the tests)."""
        sparse = _optional.import_extra("scipy.sparse", "optimize", feature="repartition.optimize")
        start, index, value = self.columns_format()
        return sparse.csc_array((value, index, start), shape=self.shape)


@dataclass
class Solved:
    """What a solve returned: the solution and how it was reached."""

    x: Array
    objective: float
    status: str
    solver: str
    seconds: float
    gap: float | None = None
    row_duals: Array | None = None
    details: dict[str, Any] = field(default_factory=dict)


DEFAULT_OPTIONS = {"threads": 1, "solver": "ipm"}
"""HiGHS's interior point (with its crossover to a vertex, HiGHS's default) on one thread.
Measured on a January x 200 consumers with 10 % floors (docs/optimize.md): 2.4 s against
17.6 s for the dual simplex HiGHS chooses by itself; on a March x 1,000, 1.3 s against 1.6 s.
One thread: HiGHS's parallel parts did not pay on 2 cores, and callers running months in
parallel processes want one each."""

_BANNER = threading.Lock()
_QUIET = False


def _highs() -> Any:
    """A silent ``highspy.Highs``. HiGHS prints its banner on stdout when the first instance
    of a process is made, before any option can turn it off; that one time, stdout's file
    descriptor points to /dev/null (under a lock, so no other thread's output is lost by
    this module's doing)."""
    global _QUIET
    highspy = _optional.import_extra("highspy", "optimize", feature="repartition.optimize")
    with _BANNER:
        if _QUIET:
            highs = highspy.Highs()
        else:
            with _stdout_silenced():
                highs = highspy.Highs()
            _QUIET = True
    highs.setOptionValue("output_flag", False)
    return highs


@contextlib.contextmanager
def _stdout_silenced() -> Any:
    try:
        saved = os.dup(1)
    except OSError:  # no stdout at all (a daemon): nothing to silence
        yield
        return
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def new_highs(lp: LinearProgram, options: dict[str, Any] | None = None) -> Any:
    """A HiGHS instance holding ``lp`` (maximisation), with ``options`` set."""
    highspy = _optional.import_extra("highspy", "optimize", feature="repartition.optimize")
    highs = _highs()
    for name, value in {**DEFAULT_OPTIONS, **(options or {})}.items():
        status = highs.setOptionValue(name, value)
        if status != highspy.HighsStatus.kOk:
            raise errors.ParameterError(f"HiGHS does not take the option {name}={value!r}.")
    begin, index, value = lp.columns_format()
    # The overload that takes NumPy arrays as they are: assigning them to a HighsLp's
    # fields converts them element by element (0.27 s at a month x 1,000 consumers).
    status = highs.passModel(
        len(lp.cost),
        len(lp.row_lower),
        len(value),
        int(highspy.MatrixFormat.kColwise),
        int(highspy.ObjSense.kMaximize),
        float(lp.offset),
        np.ascontiguousarray(lp.cost, dtype=np.float64),
        np.ascontiguousarray(lp.lower, dtype=np.float64),
        np.ascontiguousarray(lp.upper, dtype=np.float64),
        np.ascontiguousarray(lp.row_lower, dtype=np.float64),
        np.ascontiguousarray(lp.row_upper, dtype=np.float64),
        begin[:-1],  # the C API takes the starts without the end
        index,
        value,
        np.zeros(len(lp.cost), dtype=np.int32),  # every column continuous
    )
    if status == highspy.HighsStatus.kError:
        raise errors.SolverError("HiGHS refused the linear program (passModel).")
    return highs


def dual_bound(lp: LinearProgram, row_duals: Array) -> float:
    """An upper bound on ``lp``'s optimum from row multipliers ``y`` (weak duality).

    For any ``y``, with ``z = cost - A^T y``: ``cost @ x = y @ (A x) + z @ x``, and each
    term is at most its largest value over the row's or column's bounds. So the bound holds
    whatever the solver's sign conventions or tolerances; both signs of the solver's duals
    are tried and the smaller bound kept. Infinite where a multiplier meets an infinite
    bound.
    """
    best = INFINITY
    for sign in (1.0, -1.0):
        y = sign * row_duals
        z = lp.cost - np.bincount(
            lp.columns, weights=lp.entries * y[lp.rows], minlength=len(lp.cost)
        )
        with np.errstate(invalid="ignore"):
            rows = np.where(y > 0, y * lp.row_upper, np.where(y < 0, y * lp.row_lower, 0.0))
            columns = np.where(z > 0, z * lp.upper, np.where(z < 0, z * lp.lower, 0.0))
        best = min(best, float(rows.sum() + columns.sum()) + lp.offset)
    return best


def run_highs(highs: Any, lp: LinearProgram) -> Solved:
    """Run ``highs`` (holding ``lp``) and read its solution, status and duality gap."""
    highspy = _optional.import_extra("highspy", "optimize", feature="repartition.optimize")
    start = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - start
    status = highs.getModelStatus()
    text = highs.modelStatusToString(status)
    if status == highspy.HighsModelStatus.kModelEmpty and len(lp.cost) == 0:
        return Solved(np.empty(0), lp.offset, "Optimal", "HiGHS", seconds, 0.0)
    if status != highspy.HighsModelStatus.kOptimal:
        return Solved(np.empty(0), float("nan"), text, "HiGHS", seconds)
    solution = highs.getSolution()
    info = highs.getInfo()
    x = np.asarray(solution.col_value, dtype=np.float64)
    row_duals = np.asarray(solution.row_dual, dtype=np.float64)
    primal = float(lp.cost @ x) + lp.offset
    dual = dual_bound(lp, row_duals)
    gap = max(0.0, dual - primal) / max(1.0, abs(primal))
    return Solved(
        x,
        primal,
        text,
        "HiGHS",
        seconds,
        gap,
        row_duals,
        {
            "simplex_iterations": int(info.simplex_iteration_count),
            "ipm_iterations": int(info.ipm_iteration_count),
            "dual_bound": dual,
        },
    )


def solve_highs(lp: LinearProgram, options: dict[str, Any] | None = None) -> Solved:
    """Solve ``lp`` with HiGHS; the status is HiGHS's ("Optimal", "Infeasible", ...)."""
    return run_highs(new_highs(lp, options), lp)


def solve_quadratic(
    lp: LinearProgram, square_weight: Array, square_target: Array, columns: NDArray[np.int64]
) -> Solved:
    """``max cost @ x - sum_k w_k (x[columns_k] - target_k)**2`` under ``lp``'s constraints,
    with cvxpy and Clarabel (the quadratic part of ``ClosestToReference(norm="l2")``)."""
    cp = _optional.import_extra("cvxpy", "optimize", feature="ClosestToReference(norm='l2')")
    matrix = lp.matrix()
    x = cp.Variable(len(lp.cost))
    constraints = [x >= lp.lower, x <= lp.upper]
    upper = np.isfinite(lp.row_upper)
    lower = np.isfinite(lp.row_lower)
    product = matrix @ x
    if upper.any():
        constraints.append(product[np.flatnonzero(upper)] <= lp.row_upper[upper])
    if lower.any():
        constraints.append(product[np.flatnonzero(lower)] >= lp.row_lower[lower])
    objective = lp.cost @ x - cp.sum(
        cp.multiply(square_weight, cp.square(x[columns] - square_target))
    )
    problem = cp.Problem(cp.Maximize(objective), constraints)
    start = time.perf_counter()
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError as error:
        return Solved(np.empty(0), float("nan"), f"solver error: {error}", "Clarabel", 0.0)
    seconds = time.perf_counter() - start
    status = str(problem.status)
    if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or x.value is None:
        return Solved(np.empty(0), float("nan"), status, "Clarabel", seconds)
    stats = problem.solver_stats
    gap = None
    extra = getattr(stats, "extra_stats", None)
    if extra is not None and hasattr(extra, "obj_val") and hasattr(extra, "obj_val_dual"):
        primal, dual = float(extra.obj_val), float(extra.obj_val_dual)
        gap = abs(primal - dual) / max(1.0, abs(primal))
    value = float(problem.value) + lp.offset
    return Solved(np.asarray(x.value, dtype=np.float64), value, "Optimal", "Clarabel", seconds, gap)
