"""The month's tables as CSV in the French conventions the project writes: ``;`` between
fields, a decimal comma, UTF-8, units in the headers, rates in %."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from repartition.report.render import tables
from repartition.report.statements import MonthReport

__all__ = ["write_csv"]

DECIMALS = 6
"""Decimals of every number written (kWh to the mWh; euros to the micro-euro)."""


def _write(table: pd.DataFrame, path: Path) -> Path:
    table.to_csv(path, sep=";", decimal=",", float_format=f"%.{DECIMALS}f", encoding="utf-8")
    return path


def write_csv(report: MonthReport, folder: Path) -> list[Path]:
    """One CSV per statement (``<month>_statement_<prm>.csv``, day by day then the month)
    and the operator's tables (``<month>_consumers.csv``, ``<month>_producers.csv``)."""
    lang = report.lang
    month = report.operator.month
    written = []
    for prm, statement in report.consumers.items():
        written.append(
            _write(tables.consumer_daily(statement, lang), folder / f"{month}_statement_{prm}.csv")
        )
    for prm, production in report.producers.items():
        written.append(
            _write(tables.producer_daily(production, lang), folder / f"{month}_statement_{prm}.csv")
        )
    written.append(
        _write(tables.operator_consumers(report.operator, lang), folder / f"{month}_consumers.csv")
    )
    written.append(
        _write(tables.operator_producers(report.operator, lang), folder / f"{month}_producers.csv")
    )
    return written
