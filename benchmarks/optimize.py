"""repartition.optimize timed against HiGHS called directly on the same LP, in the same run.

Usage (from the repository root)::

    python benchmarks/optimize.py                    # every case of issue 12 but the years
    python benchmarks/optimize.py --year             # and a year x 1,000 and x 10,000
    python benchmarks/optimize.py --sizes 50 200 --output run.md

Cases (a month at 30 min, March 2025, the benchmarks' synthetic community with its
production scaled to half the consumption, so that floors bind; retail prices drawn per
consumer in [0.15, 0.25] EUR/kWh, local 0.10):

- **max savings with a 10 % floor per consumer**: ``optimize`` end to end (input checks,
  program, HiGHS, cleaning, Prorata's value, the Allocation), warm, best of ``--repeat``;
  against the **baseline**: the same LP built by hand here (cells with consumption and
  production, one row per step and per consumer) and passed to ``highspy`` directly, solve
  only, with the same options (interior point, one thread). The ratio must stay within
  1.5x at 1,000 consumers.
- **one shared storage** (100 kWh, 50 kW, 90 % round trip) on the 50-consumer month.
- **the published min-bills method** (Villena et al. 2020): 15-minute steps, 6 members, 2
  producers, a month: our ``MinBills`` + ``ReferenceBounds`` against the same problem written
  with the paper's variables (keys, verified allocation, locally sold production) in cvxpy
  and solved by HiGHS, both optima printed; the paper's pyomo + CBC took 21 s (issue 12).
- ``--year [sizes]``: a year with monthly floors, month by month, for 1,000 and 10,000
  consumers (production scaled to half the year's consumption, so winter floors bind hard):
  each month's time, method and certified duality gap; at 1,000 against that month's
  HiGHS-direct solve, at 10,000 against HiGHS on the first month under a 300 s limit.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from repartition import keys
from repartition.metrics import Tariffs
from repartition.optimize import (
    MaxSavings,
    MinBills,
    MinSelfSufficiency,
    ReferenceBounds,
    Storage,
    optimize,
)
from repartition.synthetic import synthetic_community


def community(consumers: int, month: str | None = "2025-03", step: str = "30min"):
    consumption, production = synthetic_community(
        consumers=consumers, producers=5, seed=1, step=step
    )
    if month is not None:
        consumption, production = consumption.loc[month], production.loc[month]
    scale = 0.5 * consumption.to_numpy().sum() / production.to_numpy().sum()
    rng = np.random.default_rng(0)
    retail = pd.Series(rng.uniform(0.15, 0.25, consumers), index=consumption.columns)
    return consumption, production * scale, Tariffs(retail=retail, local=0.10, surplus=0.05)


def highs_direct(
    consumption, production, tariffs, floor: float, time_limit: float | None = None
) -> tuple[float, float]:
    """The baseline: the LP built here by hand, solved by highspy; (solve seconds, optimum)."""
    import highspy

    C = consumption.to_numpy()
    P = production.to_numpy().sum(axis=1)
    T, N = C.shape
    values = np.broadcast_to(tariffs.retail.reindex(consumption.columns).to_numpy() - 0.10, C.shape)
    t, i = np.nonzero((C > 0) & (P[:, None] > 0))
    n = len(t)
    highs = highspy.Highs()
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("solver", "ipm")  # as repartition.optimize (_lp.DEFAULT_OPTIONS)
    if time_limit is not None:
        highs.setOptionValue("time_limit", time_limit)
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, T + N
    lp.col_cost_ = values[t, i]
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.minimum(C[t, i], P[t])
    lp.row_lower_ = np.concatenate([np.full(T, -highspy.kHighsInf), floor * C.sum(axis=0)])
    lp.row_upper_ = np.concatenate([P, np.full(N, highspy.kHighsInf)])
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(0, 2 * n + 1, 2, dtype=np.int32)
    index = np.empty(2 * n, dtype=np.int32)
    index[0::2], index[1::2] = t, T + i
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = np.ones(2 * n)
    highs.passModel(lp)
    start = time.perf_counter()
    highs.run()
    seconds = time.perf_counter() - start
    return seconds, float(highs.getInfo().objective_function_value)


def best(function, repeat: int) -> tuple[float, object]:
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - start)
    return min(times), value


def savings_rows(sizes: list[int], repeat: int) -> list[str]:
    lines = [
        "| consumers | optimize, end to end | HiGHS direct, solve only | ratio | optimum (EUR) "
        "| same optimum | duality gap |",
        "| ---: | ---: | ---: | ---: | ---: | :---: | ---: |",
    ]
    for size in sizes:
        consumption, production, tariffs = community(size)
        objective, floors = MaxSavings(tariffs), [MinSelfSufficiency(0.1)]
        optimize(consumption, production, objective, floors)  # warm: kernels loaded
        ours, result = best(
            lambda c=consumption, p=production, o=objective, f=floors: optimize(c, p, o, f),
            repeat,
        )
        direct = min(highs_direct(consumption, production, tariffs, 0.1)[0] for _ in range(repeat))
        _, optimum = highs_direct(consumption, production, tariffs, 0.1)
        same = abs(result.objective - optimum) <= 1e-7 * max(1.0, abs(optimum))
        lines.append(
            f"| {size:,} | {ours:.3f} s | {direct:.3f} s | {ours / direct:.2f}x | "
            f"{result.objective:,.2f} | {'yes' if same else 'NO'} | {result.periods[0].gap:.1e} |"
        )
    return lines


def storage_rows(repeat: int) -> list[str]:
    consumption, production, tariffs = community(50)
    storage = Storage(capacity=100.0, power=50.0, round_trip_efficiency=0.9)
    objective, floors = MaxSavings(tariffs), [MinSelfSufficiency(0.1)]
    plain, without = best(lambda: optimize(consumption, production, objective, floors), repeat)
    timed, result = best(
        lambda: optimize(consumption, production, objective, floors, storage=storage), repeat
    )
    return [
        "| month x 50, max savings, 10 % floors | time | optimum (EUR) |",
        "| :--- | ---: | ---: |",
        f"| without storage | {plain:.3f} s | {without.objective:,.2f} |",
        f"| with a shared 100 kWh / 50 kW battery | {timed:.3f} s | {result.objective:,.2f} |",
    ]


def published_min_bills(consumption, production, retail: float, surplus: float, deviation):
    """The min-bills problem with the paper's variables (keys k, verified allocation V,
    locally sold production S), in cvxpy, solved by HiGHS: the optimum of the members' bills."""
    import cvxpy as cp

    C = consumption.to_numpy()
    P = production.to_numpy()
    P_tot = P.sum(axis=1)
    demand = C.sum(axis=1)
    # The reference: the DSO's default key, A = C * min(1, P_tot / sum C), as coefficients.
    shared = C * np.minimum(1.0, P_tot / np.where(demand > 0, demand, 1.0))[:, None]
    k_ref = np.where(P_tot[:, None] > 0, shared / np.where(P_tot > 0, P_tot, 1.0)[:, None], 0.0)
    T, U = C.shape
    k = cp.Variable((T, U), nonneg=True)
    V = cp.Variable((T, U), nonneg=True)
    S = cp.Variable(P.shape, nonneg=True)
    constraints = [
        V <= C,
        cp.multiply(k, np.broadcast_to(P_tot[:, None], (T, U))) >= V,
        cp.sum(k, axis=1) <= 1,
        cp.abs(k - k_ref) <= deviation,
        S <= P,
        cp.sum(V, axis=1) == cp.sum(S, axis=1),
    ]
    bills = cp.sum(retail * (C - V)) - cp.sum(surplus * (P - S))
    problem = cp.Problem(cp.Minimize(bills), constraints)
    start = time.perf_counter()
    problem.solve(solver=cp.HIGHS)
    return (
        time.perf_counter() - start,
        float(problem.value),
        float(retail * C.sum() - surplus * P.sum()),
    )


def min_bills_rows(repeat: int) -> list[str]:
    consumption, production = synthetic_community(consumers=6, producers=2, seed=3, step="15min")
    consumption, production = consumption.loc["2025-05"], production.loc["2025-05"]
    tariffs = Tariffs(retail=0.20, local=0.10, surplus=0.06)
    band = [ReferenceBounds(keys.Prorata(), 0.10)]
    objective = MinBills(tariffs)
    optimize(consumption, production, objective, band)
    ours, result = best(lambda: optimize(consumption, production, objective, band), repeat)
    seconds, bills, without = published_min_bills(consumption, production, 0.20, 0.06, 0.10)
    our_bills = without - result.objective
    return [
        "| min bills, a month at 15 min, 6 members, 2 producers | time | members' bills (EUR) |",
        "| :--- | ---: | ---: |",
        f"| repartition.optimize (MinBills + ReferenceBounds) | {ours:.3f} s | {our_bills:,.4f} |",
        f"| the paper's variables in cvxpy + HiGHS, same run | {seconds:.3f} s | {bills:,.4f} |",
        "| the paper's pyomo + CBC (issue 12, not this run) | 21 s | |",
        f"| speed-up against 21 s | {21 / ours:,.0f}x | |",
    ]


def year_rows(consumers: int, baseline: bool) -> list[str]:
    """A year month by month with 10 % monthly floors; each month against HiGHS called
    directly on that month's LP (``baseline``), or, without it, against one month's HiGHS
    solve under a time limit (a year of them would take hours)."""
    consumption, production, tariffs = community(consumers, month=None)
    objective, floors = MaxSavings(tariffs), [MinSelfSufficiency(0.1)]
    start = time.perf_counter()
    result = optimize(consumption, production, objective, floors, progress=True)
    total = time.perf_counter() - start
    lines = [
        f"A year x {consumers:,} consumers, 10 % floors each month:",
        "",
        "| month | optimize (build + solve) | method | duality gap | HiGHS direct, solve only |",
        "| :--- | ---: | :--- | ---: | ---: |",
    ]
    for number, report in enumerate(result.periods):
        month = report.period
        direct = ""
        if baseline:
            seconds, _ = highs_direct(consumption.loc[month], production.loc[month], tariffs, 0.1)
            direct = f"{seconds:.2f} s"
        elif number == 0:
            seconds, _ = highs_direct(
                consumption.loc[month], production.loc[month], tariffs, 0.1, time_limit=300.0
            )
            direct = f"{seconds:.0f} s" if seconds < 300 else "not solved in 300 s"
        mine = report.build_seconds + report.solve_seconds
        lines.append(f"| {month} | {mine:.2f} s | {report.method} | {report.gap:.1e} | {direct} |")
    worst = max(report.gap for report in result.periods)
    lines.append(f"| **year, end to end** | **{total:.1f} s** | | **{worst:.1e}** | |")
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[50, 200, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--year",
        type=int,
        nargs="*",
        default=None,
        help="also a year month by month for these sizes (default 1000 10000)",
    )
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args(argv)
    import os
    import platform

    lines = [f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores.", ""]
    lines += [*savings_rows(arguments.sizes, arguments.repeat), ""]
    lines += [*storage_rows(arguments.repeat), ""]
    lines += [*min_bills_rows(arguments.repeat), ""]
    if arguments.year is not None:
        for size in arguments.year or [1000, 10000]:
            lines += [*year_rows(size, baseline=size <= 1000), ""]
    text = "\n".join(lines)
    print(text)
    if arguments.output is not None:
        arguments.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
