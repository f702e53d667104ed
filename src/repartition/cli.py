"""The ``repartition`` console command.

Parses arguments, calls the library, prints, exits: no logic of its own.

``repartition demo`` builds a seeded synthetic community
(:func:`repartition.synthetic.synthetic_community`), allocates its year with every key and
prints a comparison table. ``repartition month`` turns the DSO's load-curve exports into a
month's key file, per-step results and totals (:func:`repartition.io.monthly.prepare_month`).
Exit codes: 0 on success, 1 for bad input data (the message names the file, line, PRM or
step at fault), 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

import pandas as pd

from repartition import __version__, errors, keys, synthetic
from repartition.compare import compare

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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repartition",
        description=(
            "Share the pooled production of an energy community among its consumers, "
            "step by step, with the keys of the French DSO (prorata, static, dynamic, "
            "full dynamic)."
        ),
        epilog="Run 'repartition demo' to see every key on a synthetic community.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(title="commands", dest="command", metavar="COMMAND")
    commands.required = True
    demo = commands.add_parser(
        "demo",
        help="allocate a synthetic community's year with every key and compare them",
        description=(
            "Build a seeded synthetic community (households, offices and schools; PV "
            "plants whose production follows the sun and daily cloudiness), allocate a "
            "year with every key and print a comparison table (energies in MWh)."
        ),
        epilog="Example: repartition demo --consumers 50 --producers 5 --step 15min",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument("--consumers", type=_whole(1), default=30, help="number of consumers")
    demo.add_argument("--producers", type=_whole(1), default=3, help="number of PV plants")
    demo.add_argument("--year", type=_year, default=2025, help="calendar year (Europe/Paris)")
    demo.add_argument("--seed", type=_whole(0), default=0, help="seed of the random draws")
    demo.add_argument(
        "--step", type=_step, default="30min", help="step length: 15min, 30min, 1h, ..."
    )
    demo.set_defaults(run=_demo)
    _add_month(commands)
    return parser


def _add_month(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    month = commands.add_parser(
        "month",
        help="a month of DSO load-curve exports -> key file, per-step results, totals",
        description=(
            "Read Enedis load-curve CSV exports, allocate one local month with a key, and "
            "write the dynamic key file that makes the DSO reproduce it (with --operation), "
            "the per-step results (CONS/AUTOCONS/COMPLEMENT, PROD/AUTOPROD/SURPLUS) and the "
            "monthly totals per member."
        ),
        epilog=(
            "Example: repartition month exports/*.csv --month 2025-11 --operation OPE123 "
            "--key redistributed --coefficients static.csv --out out/"
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    month.add_argument("exports", nargs="+", help="Enedis load-curve CSV files")
    month.add_argument("--month", required=True, help="local month, YYYY-MM")
    month.add_argument("--out", required=True, help="folder for the files written")
    month.add_argument("--operation", help="operation id naming the key file (none: no key file)")
    month.add_argument(
        "--key",
        choices=("prorata", "static", "redistributed"),
        default="prorata",
        help="prorata (the DSO's default), static (the DSO's static rule) or redistributed "
        "(static coefficients, what saturated consumers cannot use shared among the others)",
    )
    month.add_argument(
        "--coefficients", help="static coefficients, 'PRM;coefficient' CSV of fractions"
    )
    month.add_argument(
        "--rounding",
        choices=("down", "recover"),
        default="down",
        help="key-file rounding: down (the format's rule) or recover (saturated consumers "
        "rounded up within 100 %%)",
    )
    month.add_argument("--tz", default="Europe/Paris", help="local time zone")
    month.add_argument("--overwrite", action="store_true", help="replace an existing key file")
    month.set_defaults(run=_month)


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
    return run(args)


def _month(args: argparse.Namespace) -> int:
    from repartition.io.monthly import prepare_month, read_static_coefficients

    try:
        if args.key == "prorata":
            key: keys.SharingKey = keys.Prorata()
        elif args.coefficients is None:
            print(f"repartition month: --key {args.key} needs --coefficients", file=sys.stderr)
            return 2
        else:
            coefficients = read_static_coefficients(args.coefficients)
            key = keys.Static(coefficients, redistribute=args.key == "redistributed")
        files = prepare_month(
            args.exports,
            args.month,
            key,
            args.out,
            operation=args.operation,
            rounding=args.rounding,
            tz=args.tz,
            overwrite=args.overwrite,
        )
    except (errors.RepartitionError, FileExistsError, FileNotFoundError) as error:
        print(f"repartition month: {error}", file=sys.stderr)
        return 1
    lines = [f"{files.month}, {files.allocation.key.label()}", str(files.allocation.summary())]
    if files.key_file is not None:
        lost = files.key_file.energy_lost_kwh or 0.0
        lines.append(f"key file      {files.key_file.path}  (rounding loses {lost:.3f} kWh)")
    lines.append(f"per step      {files.steps}")
    lines.append(f"month totals  {files.totals}")
    _print(*lines)
    return 0


def _demo(args: argparse.Namespace) -> int:
    tz = "Europe/Paris"
    consumption, production = synthetic.synthetic_community(
        consumers=args.consumers,
        producers=args.producers,
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
