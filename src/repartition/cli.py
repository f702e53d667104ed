"""The ``repartition`` console command.

Parses arguments, calls the library, prints, exits: no logic of its own.

``repartition demo`` runs the embedded village's year with every key and writes a month's
PMO files (:mod:`repartition.demo`). ``repartition month`` turns the DSO's load-curve exports
into a month's key file, per-step results and totals with any key by name
(:func:`repartition.io.monthly.prepare_month`), and with ``--members`` each member's statement
and the operator's report (:mod:`repartition.report`); ``--holes`` chooses what a missing value
becomes (refused by default), and the summary lists every value filled, as
``<month>_holes.csv`` does. ``repartition compare`` puts every key side by side on the exports
and says which serves which goal; ``repartition optimize`` writes the optimal key file;
``repartition keys`` checks or applies a key file; ``repartition report`` writes the statements
of a key file already sent.
Exit codes: 0 on success, 1 for bad input data or a failure while running (the message, on
one line, names the file, line, PRM or step at fault), 2 for bad arguments, 130 when
interrupted (Ctrl-C). No traceback is
printed unless ``--debug`` is given.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import zoneinfo
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import pandas as pd

from repartition import __version__, errors, keys, synthetic
from repartition.compare import compare
from repartition.engine import allocate
from repartition.warming import KEY_FAMILIES, warm_up

if TYPE_CHECKING:
    from repartition.io import LoadCurves
    from repartition.report import Charge

__all__ = ["main"]

_RATES = (
    "self-consumption rate = allocated / production  (taux d'autoconsommation)",
    "self-sufficiency rate  = allocated / consumption (taux d'autoproduction)",
)


def _whole(minimum: int) -> Callable[[str], int]:
    """argparse type: a whole number >= ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def _year(text: str) -> int:
    """argparse type: a calendar year pandas can hold."""
    try:
        return synthetic.check_year(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a year from 1678 to 2261, got {text!r}"
        ) from None


def _step(text: str) -> str:
    """argparse type: a step length dividing one hour."""
    try:
        synthetic.check_step(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def _month_label(text: str) -> str:
    """argparse type: a calendar month, ``YYYY-MM``."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if match is None or not 1 <= int(match.group(2)) <= 12:
        raise argparse.ArgumentTypeError(
            f"expected a month as YYYY-MM (e.g. 2025-11), got {text!r}"
        )
    return text


def _time_zone(text: str) -> str:
    """argparse type: an IANA time zone name."""
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise argparse.ArgumentTypeError(
            f"unknown time zone {text!r}: give an IANA name such as Europe/Paris"
        ) from None
    return text


class _RefusedArgumentsError(Exception):
    """Arguments that parse but cannot go together: exit code 2, like argparse's."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repartition",
        description=(
            "Share the pooled production of an energy community among its consumers, "
            "step by step, with the keys of the French DSO (prorata, static, dynamic, "
            "full dynamic)."
        ),
        epilog="Run 'repartition demo' for every key and the PMO's files on the embedded village.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="print the full traceback of a failure"
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug",
        action="store_true",
        default=argparse.SUPPRESS,  # keeps the top-level value when not given here
        help="print the full traceback of a failure",
    )
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    demo = commands.add_parser(
        "demo",
        help="the embedded village's year with every key, and a month's PMO files",
        description=(
            "The village of the Puy-de-Dome (40 homes, a school, a gymnasium, a pool, a town "
            "hall and a bakery; roofs of 9 to 100 kWp), a year of real profiles (pvlib, BDEW "
            "load profiles, the French calendar), allocated with every key and the optimal "
            "key when repartition[optimize] is installed; then one month's dynamic key file, "
            "the members' statements and the operator's report (HTML and Excel) and the "
            "year's results (Parquet) in a folder. With --consumers or --producers: the "
            "textbook synthetic community instead, printed only."
        ),
        epilog="Example: repartition demo --output my-demo --month 2025-07",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[common],
    )
    demo.add_argument(
        "--output", default="repartition-demo", help="the folder the files are written to"
    )
    demo.add_argument(
        "--month", type=_month_label, default=None, help="month of the files (default: June)"
    )
    demo.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    demo.add_argument("--no-files", action="store_true", help="print the comparison only")
    demo.add_argument(
        "--no-optimize", action="store_true", help="leave the optimal key out even if installed"
    )
    demo.add_argument(
        "--consumers",
        type=_whole(1),
        default=None,
        help="the textbook synthetic community of this many consumers instead of the village",
    )
    demo.add_argument(
        "--producers", type=_whole(1), default=None, help="its PV plants (with --consumers)"
    )
    demo.add_argument("--year", type=_year, default=2025, help="calendar year (Europe/Paris)")
    demo.add_argument("--seed", type=_whole(0), default=0, help="seed of the random draws")
    demo.add_argument(
        "--step", type=_step, default="30min", help="step length: 15min, 30min, 1h, ..."
    )
    demo.set_defaults(run=_demo)
    _add_month(commands, common)
    _add_compare(commands, common)
    _add_keys(commands, common)
    _add_optimize(commands, common)
    _add_report(commands, common)
    warm = commands.add_parser(
        "warm-up",
        help="compile every kernel now, so that no later process pays for it",
        description=(
            "Run every key (or the families given) once on a small community, in both memory "
            "layouts: Numba compiles the kernels and keeps them in its on-disk cache, where "
            "later processes find them. Run it when an image is built or a service deployed."
        ),
        epilog="Example: repartition warm-up --families prorata static dynamic",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[common],
    )
    warm.add_argument(
        "--families",
        nargs="+",
        choices=list(KEY_FAMILIES),
        default=None,
        metavar="FAMILY",
        help=f"key families to compile (default: all): {', '.join(KEY_FAMILIES)}",
    )
    warm.add_argument(
        "--layouts",
        nargs="+",
        choices=("rows", "members"),
        default=["rows", "members"],
        help="memory layouts: members (pandas' frames) and rows (C-ordered arrays)",
    )
    warm.add_argument("--no-shapley", action="store_true", help="skip the Shapley-value kernels")
    warm.set_defaults(run=_warm_up)
    return parser


def _warm_up(args: argparse.Namespace) -> int:
    seconds = warm_up(args.families, layouts=args.layouts, shapley=not args.no_shapley)
    print(f"repartition warm-up: kernels ready in {seconds:.1f} s")
    return 0


def _add_month(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    month = commands.add_parser(
        "month",
        help="a month of DSO load-curve exports -> key file, per-step results, totals",
        description=(
            "Read Enedis load-curve CSV exports, allocate one local month with a key, and "
            "write the dynamic key file that makes the DSO reproduce it (with --operation), "
            "the per-step results (CONS/AUTOCONS/COMPLEMENT, PROD/AUTOPROD/SURPLUS), the "
            "monthly totals per member and the missing values filled (--holes), one line "
            "per PRM and step."
        ),
        epilog=(
            "Example: repartition month exports/*.csv --month 2025-11 --operation OPE123 "
            "--key redistributed --coefficients static.csv --out out/"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[common],
    )
    month.add_argument("exports", nargs="+", help="Enedis load-curve CSV files")
    month.add_argument("--month", required=True, type=_month_label, help="local month, YYYY-MM")
    month.add_argument("--out", required=True, help="folder for the files written")
    month.add_argument("--operation", help="operation id naming the key file (none: no key file)")
    month.add_argument(
        "--key",
        choices=MONTH_KEYS,
        default="prorata",
        help="prorata (the DSO's default), static (the DSO's static rule), redistributed "
        "(static coefficients, what saturated consumers cannot use shared among the others), "
        "equal-share (max-min fair), economic (each kWh where it saves most; needs --members) "
        "or optimal (max savings with --floor, repartition[optimize]; needs --members)",
    )
    month.add_argument(
        "--members",
        help="members table (CSV or Excel: prm, name, role, type, tariff, local_price, "
        "surplus_price, email): writes each member's statement and the operator's report",
    )
    month.add_argument(
        "--charges",
        help="taxes and network charges, 'name;on;price' CSV (on: complement, autocons or "
        "consumption; price in EUR/kWh), for the statements",
    )
    month.add_argument(
        "--floor",
        type=float,
        default=0.0,
        help="with --key optimal: each consumer's least self-sufficiency over the month",
    )
    month.add_argument(
        "--compare", action="store_true", help="compare every key in the operator's report"
    )
    month.add_argument("--lang", choices=("fr", "en"), default="fr", help="statements' language")
    month.add_argument(
        "--coefficients", help="static coefficients, 'PRM;coefficient' CSV of fractions"
    )
    month.add_argument(
        "--rounding",
        choices=("down", "recover"),
        default=None,
        help="key-file rounding (with --operation): down (the format's rule, the default) or "
        "recover (saturated consumers rounded up within 100 %%)",
    )
    month.add_argument(
        "--holes",
        choices=("refuse", "zero-consumption", "zero-production", "zero"),
        default="refuse",
        help="missing values in the month: refuse them, or count a missing consumer step as "
        "0 consumption (zero-consumption), a missing producer step as 0 production "
        "(zero-production), or both (zero); every value filled is listed in "
        "<month>_holes.csv and in the summary",
    )
    month.add_argument("--tz", default="Europe/Paris", type=_time_zone, help="local time zone")
    month.add_argument("--overwrite", action="store_true", help="replace an existing key file")
    month.set_defaults(run=_month)


def _add_compare(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "compare",
        help="every key on the DSO's exports for a month, and which one serves which goal",
        description=(
            "Read Enedis load-curve CSV exports, allocate one local month with every key "
            "repartition knows that the data allows (static keys with --coefficients; the "
            "economic and optimal keys with --members, which also brings the money), print "
            "one table and, for each goal (most self-consumption, fairest, most savings, "
            "closest to the present key), the key that serves it best and why. Writes nothing."
        ),
        epilog=(
            "Example: repartition compare exports/*.csv --month 2025-11 --members members.csv "
            "--coefficients static.csv --present static"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[common],
    )
    command.add_argument("exports", nargs="+", help="Enedis load-curve CSV files")
    command.add_argument("--month", required=True, type=_month_label, help="local month, YYYY-MM")
    command.add_argument("--members", help="members table (CSV or Excel), for the money")
    command.add_argument(
        "--coefficients", help="static coefficients, 'PRM;coefficient' CSV of fractions"
    )
    command.add_argument(
        "--present",
        choices=MONTH_KEYS,
        default="prorata",
        help="the key the operation uses today, for 'closest to the present key'",
    )
    command.add_argument(
        "--floor", type=float, default=0.05, help="the optimal key's least self-sufficiency"
    )
    command.add_argument("--tz", default="Europe/Paris", type=_time_zone, help="local time zone")
    command.set_defaults(run=_compare)


def _add_keys(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "keys",
        help="read and check a dynamic key file, or apply it to the DSO's exports",
        description=(
            "check: read a dynamic key file (<operation>_<step>_<first day>_<last day>.txt), "
            "check it against its name and the format (and the operation's PRMs with "
            "--exports), and print what it holds. apply: allocate its period of the exports "
            "with it as the DSO would (keys.Dynamic) and write the per-step results and the "
            "monthly totals."
        ),
        epilog=(
            "Example: repartition keys check OPE123_30_01112025_30112025.txt --exports "
            "exports/*.csv; repartition keys apply OPE123_30_01112025_30112025.txt "
            "exports/*.csv --out out/"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[common],
    )
    command.add_argument("action", choices=("check", "apply"), help="what to do with the file")
    command.add_argument("file", help="the dynamic key file")
    command.add_argument("exports", nargs="*", help="Enedis load-curve CSV files")
    command.add_argument("--out", help="with apply: the folder of the results")
    command.add_argument("--tz", default="Europe/Paris", type=_time_zone, help="local time zone")
    command.set_defaults(run=_keys)


def _keys(args: argparse.Namespace) -> int:
    from pathlib import Path

    from repartition.io import (
        KeyFileName,
        read_dynamic_key,
        read_load_curves,
        write_dso_results,
        write_monthly_totals,
    )

    if args.action == "apply" and (not args.exports or args.out is None):
        raise _RefusedArgumentsError("keys apply needs the exports and --out")
    if args.action == "check" and args.out is not None:
        raise _RefusedArgumentsError("--out applies to keys apply")
    curves = read_load_curves(args.exports, tz=args.tz) if args.exports else None
    members = list(curves.consumption.columns) if curves is not None else None
    coefficients = read_dynamic_key(args.file, members=members, tz=args.tz)
    name = KeyFileName.parse(args.file)
    sums = coefficients.sum(axis=1)
    lines = [
        f"{Path(args.file).name}: operation {name.operation}, steps of "
        f"{_duration(name.step)}, {name.first_day} to {name.last_day}",
        f"  {coefficients.shape[1]} consumers, {len(coefficients):,} steps; row sums from "
        f"{100 * sums.min():.2f} % to {100 * sums.max():.2f} % "
        f"({int((sums >= 1 - 1e-12).sum()):,} steps at 100 %)",
    ]
    if curves is not None:
        lines.append("  its PRMs are exactly the consumers of the exports")
    if args.action == "apply":
        assert curves is not None
        consumption, production = _on_key_steps(curves, coefficients, args.tz, str(name))
        result = allocate(consumption, production, keys.Dynamic(coefficients))
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{name.operation}_{name.first_day:%Y%m%d}_{name.last_day:%Y%m%d}"
        steps = write_dso_results(result, out / f"{stem}_results.csv", tz=args.tz)
        totals = write_monthly_totals(result, out / f"{stem}_totals.csv", tz=args.tz)
        lines += [str(result.summary()), f"per step      {steps}", f"totals        {totals}"]
    _print(*lines)
    return 0


OBJECTIVES = ("savings", "bills", "self-consumption", "fairness")
"""The objectives ``repartition optimize --objective`` knows by name."""


def _add_optimize(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "optimize",
        help="the optimal dynamic key of a month of the DSO's exports, and its key file",
        description=(
            "Read Enedis load-curve CSV exports and a members table (the prices), find the "
            "allocation of the local month that maximises the objective under the floors "
            "(repartition.optimize: HiGHS, OR-tools), write the dynamic key file that makes "
            "the DSO reproduce it (with the energy its rounding loses), and print the "
            "optimum against Prorata's with the certified duality gap."
        ),
        epilog=(
            "Example: repartition optimize exports/*.csv --month 2025-11 --members members.csv "
            "--objective savings --floor 0.1 --operation OPE123 --out keys/"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[common],
    )
    command.add_argument("exports", nargs="+", help="Enedis load-curve CSV files")
    command.add_argument("--month", required=True, type=_month_label, help="local month, YYYY-MM")
    command.add_argument("--members", required=True, help="members table (CSV or Excel)")
    command.add_argument(
        "--objective",
        choices=OBJECTIVES,
        default="savings",
        help="savings (the members' savings), bills (the members' bills, producers' surplus "
        "included), self-consumption (the least surplus) or fairness (the smallest "
        "self-sufficiency first)",
    )
    command.add_argument(
        "--floor", type=float, default=0.0, help="each consumer's least self-sufficiency"
    )
    command.add_argument(
        "--max-share", type=float, default=None, help="each consumer's largest share of the pool"
    )
    command.add_argument("--operation", help="operation id naming the key file (none: no file)")
    command.add_argument("--out", help="folder of the key file (with --operation)")
    command.add_argument("--tz", default="Europe/Paris", type=_time_zone, help="local time zone")
    command.set_defaults(run=_optimize)


def _optimize(args: argparse.Namespace) -> int:
    from repartition.io import read_load_curves
    from repartition.optimize import (
        MaxMinFairness,
        MaxPoolShare,
        MaxSavings,
        MaxSelfConsumption,
        MinBills,
        MinSelfSufficiency,
        optimize,
    )
    from repartition.report import read_members

    if (args.operation is None) != (args.out is None):
        raise _RefusedArgumentsError("--operation and --out go together (the key file)")
    curves = read_load_curves(args.exports, tz=args.tz)
    members = read_members(args.members)
    members.check_prms(curves.consumption.columns, curves.production.columns)
    consumption, production = _month_of(curves, args.month, args.tz)
    tariffs = members.tariffs(pd.DatetimeIndex(consumption.index))
    objective: MaxSavings | MinBills | MaxSelfConsumption | MaxMinFairness
    if args.objective == "savings":
        objective = MaxSavings(tariffs)
    elif args.objective == "bills":
        objective = MinBills(tariffs)
    elif args.objective == "self-consumption":
        objective = MaxSelfConsumption()
    else:
        objective = MaxMinFairness(tariffs=tariffs)
    constraints: list[object] = []
    if args.floor:
        constraints.append(MinSelfSufficiency(args.floor))
    if args.max_share is not None:
        constraints.append(MaxPoolShare(args.max_share))
    result = optimize(
        consumption,
        production,
        objective,
        constraints,  # type: ignore[arg-type]
        tz=args.tz,
    )
    report = result.periods[0]
    gap = "exact" if report.gap == 0 else f"{report.gap:.1e}" if report.gap is not None else "-"
    lines = [
        f"{args.month}: {consumption.shape[1]} consumers, {production.shape[1]} producers; "
        f"{args.objective}" + (f", each consumer at least {args.floor:.0%}" if args.floor else ""),
        f"  optimum      {report.objective:,.4f}  (Prorata {report.prorata:,.4f})",
        f"  solved by    {report.method} in {report.build_seconds + report.solve_seconds:.2f} s, "
        f"certified gap {gap}",
        str(result.allocation.summary()),
    ]
    if args.operation is not None:
        key_file = result.write_key_file(args.out, args.operation, tz=args.tz)
        assert not isinstance(key_file, dict)
        lost = key_file.energy_lost_kwh or 0.0
        lines.append(f"key file     {key_file.path}  (rounding loses {lost:.3f} kWh)")
    _print(*lines)
    return 0


def _add_report(
    commands: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    command = commands.add_parser(
        "report",
        help="the members' statements and the operator's report for a key file already sent",
        description=(
            "Read Enedis load-curve CSV exports, a members table and the dynamic key file "
            "sent to the DSO for a month; allocate the month as the DSO does with that key and "
            "write each member's and producer's statement and the operator's report (HTML, "
            "Excel, CSV) into a new folder."
        ),
        epilog=(
            "Example: repartition report exports/*.csv --key-file "
            "OPE123_30_01112025_30112025.txt --members members.csv --charges charges.csv "
            "--out statements/"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        parents=[common],
    )
    command.add_argument("exports", nargs="+", help="Enedis load-curve CSV files")
    command.add_argument("--key-file", required=True, help="the dynamic key file of the month")
    command.add_argument("--members", required=True, help="members table (CSV or Excel)")
    command.add_argument("--charges", help="taxes and network charges, 'name;on;price' CSV")
    command.add_argument("--out", required=True, help="the folder written (must not exist)")
    command.add_argument("--lang", choices=("fr", "en"), default="fr", help="language")
    command.add_argument(
        "--formats",
        nargs="+",
        choices=("html", "xlsx", "csv"),
        default=["html", "xlsx", "csv"],
        help="the formats written",
    )
    command.add_argument("--tz", default="Europe/Paris", type=_time_zone, help="local time zone")
    command.set_defaults(run=_report)


def _report(args: argparse.Namespace) -> int:
    from repartition.io import KeyFileName, read_dynamic_key, read_load_curves
    from repartition.report import month_report, read_members, write_month

    curves = read_load_curves(args.exports, tz=args.tz)
    members = read_members(args.members)
    members.check_prms(curves.consumption.columns, curves.production.columns)
    coefficients = read_dynamic_key(
        args.key_file, members=list(curves.consumption.columns), tz=args.tz
    )
    name = KeyFileName.parse(args.key_file)
    consumption, production = _on_key_steps(curves, coefficients, args.tz, str(name))
    key = keys.Dynamic(coefficients)
    allocation = allocate(consumption, production, key)
    charges = _read_charges(args.charges) if args.charges else ()
    report = month_report(
        allocation,
        members,
        members.tariffs(pd.DatetimeIndex(allocation.index)),
        charges=charges,
        key=f"{name} (keys.Dynamic)",
        operation_name=name.operation,
        lang=args.lang,
        tz=args.tz,
    )
    written = write_month(report, args.out, formats=args.formats)
    _print(
        f"{report.operator.month}, {name.operation}: {len(report.consumers)} consumers, "
        f"{len(report.producers)} producers",
        str(allocation.summary()),
        f"statements    {len(written)} files in {args.out}",
    )
    return 0


def _month_of(curves: LoadCurves, month: str, tz: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The consumption and production of one local month of the exports."""
    from repartition.time import select_month

    return (
        pd.DataFrame(select_month(curves.consumption, month, tz)),
        pd.DataFrame(select_month(curves.production, month, tz)),
    )


def _on_key_steps(
    curves: LoadCurves, coefficients: pd.DataFrame, tz: str, key_file: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The exports on the steps of a key file, every PRM valued at each of them."""
    consumption = curves.consumption.reindex(coefficients.index)
    production = curves.production.reindex(coefficients.index)
    missing = consumption.isna().any(axis=1) | production.isna().any(axis=1)
    if missing.any():
        first = consumption.index[missing.to_numpy()][0]
        raise errors.MissingValueError(
            f"The exports have no value for every PRM at {first.tz_convert(tz)} ({tz}), a "
            f"step of the key file {key_file}.",
            timestamp=first,
        )
    return consumption, production


def _compare(args: argparse.Namespace) -> int:
    from repartition.compare import recommend
    from repartition.io import read_load_curves
    from repartition.io.monthly import read_static_coefficients

    curves = read_load_curves(args.exports, tz=args.tz)
    consumption, production = _month_of(curves, args.month, args.tz)
    tariffs = None
    candidates: dict[str, keys.SharingKey] = {"prorata": keys.Prorata()}
    if args.coefficients is not None:
        coefficients = read_static_coefficients(args.coefficients)
        candidates["static"] = keys.Static(coefficients)
        candidates["redistributed"] = keys.Static(coefficients, redistribute=True)
    candidates["equal-share"] = keys.EqualShare()
    if args.members is not None:
        from repartition.report import read_members

        members = read_members(args.members)
        members.check_prms(curves.consumption.columns, curves.production.columns)
        tariffs = members.tariffs(pd.DatetimeIndex(consumption.index))
        candidates["economic"] = _priced_key("economic", tariffs, 0.0)
        import importlib.util

        if all(importlib.util.find_spec(m) for m in ("highspy", "ortools")):
            candidates["optimal"] = _priced_key("optimal", tariffs, args.floor, args.tz)
    if args.present not in candidates:
        raise _RefusedArgumentsError(
            f"--present {args.present} is not among the keys the data allows "
            f"({', '.join(candidates)}): give --coefficients or --members"
        )
    table = compare(consumption, production, candidates, tariffs=tariffs, reference=args.present)
    header = ["key", "self-consumption %", "self-sufficiency %", "Gini", "moved kWh"]
    if tariffs is not None:
        header += ["savings EUR", "least savings EUR"]
    rows = []
    for name, row in table.iterrows():
        cells = [
            str(name) + (" (present)" if name == args.present else ""),
            f"{100 * row.self_consumption_rate:.1f}",
            f"{100 * row.self_sufficiency_rate:.1f}",
            f"{row.gini_self_sufficiency:.3f}",
            f"{row.moved_kwh:,.0f}",
        ]
        if tariffs is not None:
            cells += [f"{row.savings_total:,.2f}", f"{row.savings_min:,.2f}"]
        rows.append(tuple(cells))
    _print(
        f"{args.month}: {consumption.shape[1]} consumers, {production.shape[1]} producers",
        "",
        *_table(header, rows),
        "",
        *(f"{r.goal:<28} {r.key}: {r.why}" for r in recommend(table, args.present)),
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``repartition`` command.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``None`` reads ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code: 0 on success. Bad arguments print a message to stderr and raise
        ``SystemExit(2)`` (argparse).
    """
    args = _parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except _RefusedArgumentsError as refused:
        _fail(args.command, f"error: {refused}")
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        _fail(args.command, "interrupted; no file was left half written")
        return 130
    except (errors.RepartitionError, OSError, UnicodeError) as error:
        if args.debug:
            raise
        _fail(args.command, _cli_spelling(str(error)))
    except Exception as error:  # a bug: still one line, the traceback with --debug
        if args.debug:
            raise
        _fail(
            args.command,
            f"unexpected {type(error).__name__}: {error} (run again with --debug for the "
            "traceback, and please report it)",
        )
    return 1


def _cli_spelling(message: str) -> str:
    """A library message in the command line's words (``--overwrite``, not ``overwrite=True``)."""
    message = message.replace("pass overwrite=True", "pass --overwrite")
    message = message.replace("overwrite=True", "--overwrite")
    return " ".join(message.split())


def _fail(command: str, message: str) -> None:
    print(f"repartition {command}: {message}", file=sys.stderr)


MONTH_KEYS = ("prorata", "static", "redistributed", "equal-share", "economic", "optimal")
"""The keys ``repartition month --key`` knows by name."""


def _month(args: argparse.Namespace) -> int:
    from repartition.io import read_load_curves
    from repartition.io.monthly import prepare_month, read_static_coefficients

    static = args.key in ("static", "redistributed")
    if not static and args.coefficients is not None:
        raise _RefusedArgumentsError(
            "--coefficients is only used with --key static or --key redistributed"
        )
    if static and args.coefficients is None:
        raise _RefusedArgumentsError(f"--key {args.key} needs --coefficients")
    if args.key in ("economic", "optimal") and args.members is None:
        raise _RefusedArgumentsError(f"--key {args.key} needs --members (its prices)")
    for option, given in (
        ("--charges", args.charges is not None),
        ("--compare", args.compare),
    ):
        if given and args.members is None:
            raise _RefusedArgumentsError(f"{option} applies to the statements: give --members")
    if args.floor and args.key != "optimal":
        raise _RefusedArgumentsError("--floor applies to --key optimal")
    for option, given in (
        ("--rounding", args.rounding is not None),
        ("--overwrite", args.overwrite),
    ):
        if given and args.operation is None:
            raise _RefusedArgumentsError(f"{option} applies to the key file: give --operation too")
    curves = read_load_curves(args.exports, tz=args.tz)
    members = tariffs = charges = None
    index = None
    if args.members is not None:
        from repartition.report import read_members
        from repartition.time import select_month

        members = read_members(args.members)
        members.check_prms(curves.consumption.columns, curves.production.columns)
        index = pd.DatetimeIndex(select_month(curves.consumption, args.month, args.tz).index)
        tariffs = members.tariffs(index)
        charges = _read_charges(args.charges) if args.charges else ()
    if args.key == "prorata":
        key: keys.SharingKey = keys.Prorata()
    elif static:
        coefficients = read_static_coefficients(args.coefficients)
        key = keys.Static(coefficients, redistribute=args.key == "redistributed")
    elif args.key == "equal-share":
        key = keys.EqualShare()
    else:
        assert tariffs is not None
        key = _priced_key(args.key, tariffs, args.floor, args.tz)
    files = prepare_month(
        curves,
        args.month,
        key,
        args.out,
        operation=args.operation,
        rounding=args.rounding or "down",
        holes=args.holes,
        tz=args.tz,
        overwrite=args.overwrite,
    )
    lines = [f"{files.month}, {files.allocation.key.label()}", str(files.allocation.summary())]
    if files.key_file is not None:
        lost = files.key_file.energy_lost_kwh or 0.0
        lines.append(f"key file      {files.key_file.path}  (rounding loses {lost:.3f} kWh)")
    lines.append(f"per step      {files.steps}")
    lines.append(f"month totals  {files.totals}")
    lines.extend(_holes_summary(files.filled, files.holes, files.policy))
    if members is not None:
        from pathlib import Path

        from repartition.report import month_report, write_month

        assert tariffs is not None
        comparison = None
        if args.compare:
            selected = files.allocation
            comparison = compare(
                selected.consumption,
                selected.production,
                _month_candidates(key, tariffs),
                tariffs=tariffs,
            )
        report = month_report(
            files.allocation,
            members,
            tariffs,
            charges=charges or (),
            key=key,
            operation_name=args.operation or "",
            rounding_loss=files.key_file.energy_lost_kwh if files.key_file else None,
            holes=files.filled,
            holes_policy=files.policy,
            comparison=comparison,
            lang=args.lang,
            tz=args.tz,
        )
        written = write_month(report, Path(args.out) / "statements", overwrite=args.overwrite)
        lines.append(
            f"statements    {len(report.consumers)} consumers, {len(report.producers)} producers"
            f" and the operator's report: {len(written)} files in {Path(args.out) / 'statements'}"
        )
    _print(*lines)
    return 0


def _priced_key(
    name: str, tariffs: object, floor: float, tz: str = "Europe/Paris"
) -> keys.SharingKey:
    """The economic greedy or the optimal key, from the members' prices."""
    from repartition.metrics import Tariffs

    assert isinstance(tariffs, Tariffs)
    if name == "economic":
        retail = tariffs.retail
        local = tariffs.local
        mean_local = float(local.mean()) if isinstance(local, pd.Series) else float(local)  # type: ignore[arg-type]
        if isinstance(retail, pd.DataFrame):
            return keys.EconomicGreedy(retail - mean_local)
        if isinstance(retail, pd.Series):
            return keys.EconomicGreedy(retail - mean_local)
        raise _RefusedArgumentsError("--key economic needs a price per consumer in --members")
    from repartition.optimize import MaxSavings, MinSelfSufficiency, OptimalKey

    constraints = (MinSelfSufficiency(floor),) if floor else ()
    return OptimalKey(MaxSavings(tariffs), constraints, tz=tz)


def _month_candidates(key: keys.SharingKey, tariffs: object) -> dict[str, keys.SharingKey]:
    candidates: dict[str, keys.SharingKey] = {
        key.label(): key,
        "Prorata": keys.Prorata(),
        "Equal share": keys.EqualShare(),
        "Economic greedy": _priced_key("economic", tariffs, 0.0),
    }
    return candidates


def _read_charges(path: str) -> tuple[Charge, ...]:
    """'name;on;price' lines (a header line first)."""
    from repartition.report import Charge

    table = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)
    table.columns = [str(c).strip().lower() for c in table.columns]
    if list(table.columns) != ["name", "on", "price"]:
        raise errors.FileFormatError(
            f"{path}: a charges file has the columns name;on;price, not {';'.join(table.columns)}.",
            path=path,
        )
    charges = []
    for line, row in enumerate(table.itertuples(index=False), start=2):
        try:
            price = float(str(row.price).replace(",", "."))
        except ValueError:
            raise errors.FileFormatError(
                f"{path}, line {line}: price {row.price!r} is not a number (EUR/kWh).",
                path=path,
                line=line,
            ) from None
        try:
            charges.append(Charge(str(row.name), row.on, price))  # type: ignore[arg-type]
        except errors.ParameterError as error:
            raise errors.FileFormatError(
                f"{path}, line {line}: {error}", path=path, line=line
            ) from error
    return tuple(charges)


_RUNS_SHOWN = 20


def _holes_summary(filled: pd.DataFrame, path: object, policy: str) -> list[str]:
    """The holes filled, one line per PRM and run of consecutive steps (Horodate, local)."""
    if filled.empty:
        return [f"holes         {path}  (none filled)"]
    prms = filled["prm"].nunique()
    lines = [
        f"holes         {path}  ({len(filled):,} value(s) of {prms} PRM(s) filled with 0, "
        f"--holes {policy}):"
    ]
    runs: list[str] = []
    ends = pd.DatetimeIndex(filled["horodate"])
    starts = pd.DatetimeIndex(filled["start_utc"])
    keys = list(zip(filled["prm"], filled["role"], strict=True))
    step = ends[0] - starts[0]
    first = 0
    for i in range(1, len(filled) + 1):
        if i < len(filled) and keys[i] == keys[i - 1] and starts[i] - starts[i - 1] == step:
            continue
        prm, role = keys[first]
        count = i - first
        span = ends[first].isoformat()
        if count > 1:
            span += f" to {ends[i - 1].isoformat()}"
        runs.append(f"  {prm} ({role}): {count} step{'s' * (count > 1)}, Horodate {span}")
        first = i
    lines.extend(runs[:_RUNS_SHOWN])
    if len(runs) > _RUNS_SHOWN:
        lines.append(f"  ... and {len(runs) - _RUNS_SHOWN} more runs: see {path}")
    return lines


def _demo(args: argparse.Namespace) -> int:
    if args.consumers is None and args.producers is None:
        return _village_demo(args)
    return _synthetic_demo(args)


def _village_demo(args: argparse.Namespace) -> int:
    from repartition.demo import run_demo

    started = time.perf_counter()

    def stage(text: str) -> None:
        sys.stderr.write(f"[{time.perf_counter() - started:5.1f} s] {text}\n")
        sys.stderr.flush()

    result = run_demo(
        None if args.no_files else args.output,
        year=args.year,
        step=args.step,
        seed=args.seed,
        month=args.month,
        optimal=False if args.no_optimize else None,
        overwrite=args.overwrite,
        progress=stage,
    )
    consumption, production = result.consumption, result.production
    assert consumption is not None
    assert production is not None
    index = consumption.index
    _print(
        "repartition demo: the village of the Puy-de-Dome (repartition.profiles.village)",
        f"  members      {consumption.shape[1]} consumers, {production.shape[1]} PV plants",
        f"  steps        {len(index):,} of {_duration(pd.Timedelta(args.step))}, {args.year}",
        f"  consumption  {consumption.to_numpy().sum() / 1000:,.1f} MWh",
        f"  production   {production.to_numpy().sum() / 1000:,.1f} MWh",
        "",
    )
    table = result.comparison
    rows = [
        (
            str(label),
            f"{100 * row.self_consumption_rate:.1f}",
            f"{100 * row.self_sufficiency_rate:.1f}",
            f"{row.savings_total:,.0f}",
            f"{row.savings_min:,.0f}",
            f"{row.gini_self_sufficiency:.3f}",
            f"{1000 * row.seconds:,.0f}",
        )
        for label, row in table.iterrows()
    ]
    header = (
        "key",
        "self-consumption %",
        "self-sufficiency %",
        "savings EUR",
        "least savings EUR",
        "Gini",
        "time ms",
    )
    _print(*_table(header, rows), "")
    _print(
        *_RATES,
        "savings = the members' energy bills without the operation minus with it, for the year",
        "Gini = inequality of the members' self-sufficiency (0: all equal)",
        "",
    )
    if result.folder is not None:
        _print(
            f"The files use the key {result.chosen!r}; written to {result.folder}/:",
            "  results.parquet            the year's per-step results",
            "  VILLAGE-DEMO_*.txt         the month's dynamic key file for the DSO",
            "  statements/                each member's statement and the operator's report",
            "  comparison.csv             the table above",
        )
    return 0


def _synthetic_demo(args: argparse.Namespace) -> int:
    tz = "Europe/Paris"
    consumption, production = synthetic.synthetic_community(
        consumers=args.consumers or 30,
        producers=args.producers or 3,
        year=args.year,
        step=args.step,
        tz=tz,
        seed=args.seed,
    )
    coefficients = synthetic.demo_keys(consumption, production)
    candidates: list[keys.SharingKey] = [
        keys.Prorata(),
        keys.Static(coefficients.static),
        keys.Static(coefficients.static, rounds=2),
        keys.Static(coefficients.static, redistribute=True),
        keys.Dynamic(coefficients.dynamic),
        keys.FullDynamic(coefficients.full_dynamic),
    ]
    index = consumption.index
    step = pd.Timedelta(args.step)
    _print(
        f"repartition demo: synthetic community (seed {args.seed})",
        f"  members      {consumption.shape[1]} consumers, {production.shape[1]} producers",
        f"  steps        {len(index):,} of {_duration(step)}",
        f"  period       {index[0]:%Y-%m-%d %H:%M} to {index[-1] + step:%Y-%m-%d %H:%M} ({tz})",
        f"  consumption  {consumption.to_numpy().sum() / 1000:,.1f} MWh",
        f"  production   {production.to_numpy().sum() / 1000:,.1f} MWh",
        "",
    )
    table = compare(consumption, production, candidates, timed=True)
    rows = [
        (
            str(label),
            f"{row.allocated_kwh / 1000:,.1f}",
            f"{row.surplus_kwh / 1000:,.1f}",
            f"{row.grid_supply_kwh / 1000:,.1f}",
            f"{100 * row.self_consumption_rate:.1f}",
            f"{100 * row.self_sufficiency_rate:.1f}",
            f"{1000 * row.seconds:,.0f}",
        )
        for label, row in table.iterrows()
    ]
    header = (
        "key",
        "allocated MWh",
        "surplus MWh",
        "grid supply MWh",
        "self-consumption %",
        "self-sufficiency %",
        "time ms",
    )
    _print(*_table(header, rows), "")
    _print(
        *_RATES,
        "time = wall clock of allocate() on the whole period (kernels compiled beforehand)",
    )
    return 0


def _duration(step: pd.Timedelta) -> str:
    minutes = int(step / pd.Timedelta(minutes=1))
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Text table: first column left-aligned, the others right-aligned."""
    widths = [max(len(row[c]) for row in [header, *rows]) for c in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first = cells[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
        return "  ".join([first, *rest])

    return [line(header), "  ".join("-" * width for width in widths), *(line(r) for r in rows)]


def _print(*lines: str) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
