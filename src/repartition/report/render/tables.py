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


def consumer_daily(statement: ConsumerStatement, lang: Lang) -> pd.DataFrame:
    """Day by day, then the month's total; rates in %."""
    table = pd.concat([statement.daily, statement.total.to_frame(label("total", lang)).T])
    table.index = [str(d) for d in statement.daily.index] + [label("total", lang)]
    table["self_sufficiency"] = 100.0 * table["self_sufficiency"].astype(float)
    table = table[
        ["cons", "autocons", "complement", "self_sufficiency", "cost", "cost_without", "savings"]
    ]
    table.columns = [
        _energy("cons", lang),
        _energy("autocons", lang),
        _energy("complement", lang),
        _rate("self_sufficiency", lang),
        _euros("bill", lang),
        _euros("bill_without", lang),
        _euros("savings", lang),
    ]
    table.index.name = label("day", lang)
    return table


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
    table = pd.concat([statement.daily, statement.total.to_frame(label("total", lang)).T])
    table.index = [str(d) for d in statement.daily.index] + [label("total", lang)]
    table["self_consumption"] = 100.0 * table["self_consumption"].astype(float)
    table = table[
        [
            "prod",
            "autoprod",
            "surplus",
            "self_consumption",
            "local_revenue",
            "surplus_revenue",
            "revenue",
        ]
    ]
    table.columns = [
        _energy("prod", lang),
        _energy("autoprod", lang),
        _energy("surplus", lang),
        _rate("self_consumption", lang),
        _euros("local_revenue", lang),
        _euros("surplus_revenue", lang),
        _euros("revenue", lang),
    ]
    table.index.name = label("day", lang)
    return table


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
