"""The month's tables as Excel workbooks (openpyxl): one sheet per table, units in the
headers, numbers as numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from repartition import _optional
from repartition.report.labels import label
from repartition.report.render import tables
from repartition.report.statements import MonthReport

__all__ = ["write_excel"]


def _sheet(name: str) -> str:
    """An Excel sheet name: at most 31 characters, none of ``[]:*?/\\``."""
    for character in "[]:*?/\\":
        name = name.replace(character, " ")
    return name[:31]


def _workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> Path:
    _optional.import_extra("openpyxl", "report", feature="write_month (Excel)")
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, table in sheets.items():
            table.to_excel(writer, sheet_name=_sheet(name))
            sheet = writer.sheets[_sheet(name)]
            for column in sheet.columns:
                width = max(len(str(cell.value or "")) for cell in column)
                sheet.column_dimensions[column[0].column_letter].width = min(60, width + 2)
    return path


def write_excel(report: MonthReport, folder: Path) -> list[Path]:
    """A workbook per statement (``<month>_statement_<prm>.xlsx``) and the operator's
    (``<month>_operator.xlsx``)."""
    lang = report.lang
    month = report.operator.month
    written = []
    for prm, statement in report.consumers.items():
        sheets = {
            label("daily", lang): tables.consumer_daily(statement, lang),
            label("bill", lang): tables.consumer_money(statement, lang),
            label("by_plant", lang): tables.by_plant(statement, lang),
            label("operation_totals", lang): operation_table(report, lang),
        }
        written.append(_workbook(folder / f"{month}_statement_{prm}.xlsx", sheets))
    for prm, production in report.producers.items():
        sheets = {
            label("daily", lang): tables.producer_daily(production, lang),
            label("operation_totals", lang): operation_table(report, lang),
        }
        written.append(_workbook(folder / f"{month}_statement_{prm}.xlsx", sheets))
    operator = report.operator
    sheets = {
        label("consumers", lang): tables.operator_consumers(operator, lang),
        label("producers", lang): tables.operator_producers(operator, lang),
        label("operation_totals", lang): operation_table(report, lang),
    }
    if operator.comparison is not None:
        sheets[label("comparison", lang)] = operator.comparison
    if len(operator.holes):
        sheets[label("holes", lang)] = operator.holes
    written.append(_workbook(folder / f"{month}_operator.xlsx", sheets))
    return written


def operation_table(report: MonthReport, lang: str) -> pd.DataFrame:
    """The operation's totals, one row each."""
    totals = report.operator.operation
    rows = [
        (label("consumers", lang), float(totals.consumers), ""),  # type: ignore[arg-type]
        (label("producers", lang), float(totals.producers), ""),  # type: ignore[arg-type]
        (label("cons", lang), totals.consumption, "kWh"),  # type: ignore[arg-type]
        (label("prod", lang), totals.production, "kWh"),  # type: ignore[arg-type]
        (label("autocons", lang), totals.autocons, "kWh"),  # type: ignore[arg-type]
        (label("surplus", lang), totals.surplus, "kWh"),  # type: ignore[arg-type]
        (label("self_consumption", lang), 100.0 * totals.self_consumption, "%"),  # type: ignore[arg-type]
        (label("self_sufficiency", lang), 100.0 * totals.self_sufficiency, "%"),  # type: ignore[arg-type]
    ]
    return pd.DataFrame(rows, columns=["", "value", "unit"]).set_index("")
