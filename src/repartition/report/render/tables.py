"""The tables every format shows, with their headers in the report's language and units."""

from __future__ import annotations

import pandas as pd

from repartition.report.labels import Lang, label
from repartition.report.statements import ConsumerStatement, OperatorReport, ProducerStatement

__all__ = [
    "consumer_daily",
    "consumer_money",
    "operator_consumers",
    "operator_producers",
    "producer_daily",
]


def _energy(key: str, lang: Lang) -> str:
    return f"{label(key, lang)} [kWh]"


def _euros(key: str, lang: Lang) -> str:
    return f"{label(key, lang)} [{label('eur', lang)}]"


def _rate(key: str, lang: Lang) -> str:
    return f"{label(key, lang)} [%]"


def _daily(
    daily: pd.DataFrame, total: pd.Series, columns: list[tuple[str, str]], lang: Lang
) -> pd.DataFrame:
    """Day by day, then the month's total, with headers in ``lang`` and units: ``columns``
    holds (column, header) pairs; the rate columns (``self_...``) in %."""
    table = pd.concat([daily, total.to_frame(label("total", lang)).T])
    table.index = pd.Index([str(d) for d in daily.index] + [label("total", lang)])
    table = table[[column for column, _ in columns]]
    for column in table.columns:
        if str(column).startswith("self_"):
            table[column] = 100.0 * table[column].astype(float)
    table.columns = [header for _, header in columns]
    table.index.name = label("day", lang)
    return table


def consumer_daily(statement: ConsumerStatement, lang: Lang) -> pd.DataFrame:
    """Day by day, then the month's total; rates in %."""
    columns = [
        ("cons", _energy("cons", lang)),
        ("autocons", _energy("autocons", lang)),
        ("complement", _energy("complement", lang)),
        ("self_sufficiency", _rate("self_sufficiency", lang)),
        ("cost", _euros("bill", lang)),
        ("cost_without", _euros("bill_without", lang)),
        ("savings", _euros("savings", lang)),
    ]
    return _daily(statement.daily, statement.total, columns, lang)


def consumer_money(statement: ConsumerStatement, lang: Lang) -> pd.DataFrame:
    names = {
        "supplier": label("grid_cost", lang),
        "local": label("local_cost", lang),
        "cost": label("bill", lang),
        "cost_without": label("bill_without", lang),
        "savings": label("savings", lang),
    }
    rows = [(names.get(str(key), str(key)), float(value)) for key, value in statement.money.items()]
    return pd.DataFrame(rows, columns=[label("name", lang), f"[{label('eur', lang)}]"]).set_index(
        label("name", lang)
    )


def by_plant(statement: ConsumerStatement, lang: Lang) -> pd.DataFrame:
    table = statement.by_plant.copy()
    table["share"] = 100.0 * table["share"]
    table.columns = [label("plant", lang), "kWh", f"{label('share', lang)} [%]"]
    return table.set_index(label("plant", lang))


def producer_daily(statement: ProducerStatement, lang: Lang) -> pd.DataFrame:
    """Day by day, then the month's total; rates in %."""
    columns = [
        ("prod", _energy("prod", lang)),
        ("autoprod", _energy("autoprod", lang)),
        ("surplus", _energy("surplus", lang)),
        ("self_consumption", _rate("self_consumption", lang)),
        ("local_revenue", _euros("local_revenue", lang)),
        ("surplus_revenue", _euros("surplus_revenue", lang)),
        ("revenue", _euros("revenue", lang)),
    ]
    return _daily(statement.daily, statement.total, columns, lang)


def operator_consumers(report: OperatorReport, lang: Lang) -> pd.DataFrame:
    table = report.consumers.copy()
    table["self_sufficiency"] = 100.0 * table["self_sufficiency"]
    table.columns = [
        label("name", lang),
        _energy("cons", lang),
        _energy("autocons", lang),
        _energy("complement", lang),
        _rate("self_sufficiency", lang),
        _euros("bill", lang),
        _euros("bill_without", lang),
        _euros("savings", lang),
    ]
    table.index.name = label("prm", lang)
    return table


def operator_producers(report: OperatorReport, lang: Lang) -> pd.DataFrame:
    table = report.producers.copy()
    table["self_consumption"] = 100.0 * table["self_consumption"]
    table.columns = [
        label("name", lang),
        _energy("prod", lang),
        _energy("autoprod", lang),
        _energy("surplus", lang),
        _rate("self_consumption", lang),
        _euros("revenue", lang),
    ]
    table.index.name = label("prm", lang)
    return table
