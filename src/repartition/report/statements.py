"""The month's documents as data: each consumer's and producer's statement, and the
operator's report (docs/report.md). The renderers (:mod:`repartition.report.render`) write
them as CSV, Excel and HTML."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from repartition import errors
from repartition.allocation import Allocation
from repartition.keys import SharingKey
from repartition.metrics import Tariffs
from repartition.report.labels import Lang, check_lang
from repartition.report.members import Members
from repartition.report.money import Charge, consumer_money, producer_money
from repartition.time import PARIS, check_time_zone

__all__ = [
    "ConsumerStatement",
    "MonthReport",
    "OperatorReport",
    "ProducerStatement",
    "month_report",
]


@dataclass(frozen=True)
class OperationTotals:
    """The operation's aggregates for the month, the only figures of others a member sees."""

    consumers: int
    producers: int
    consumption: float  # [kWh]
    production: float
    autocons: float
    surplus: float
    self_consumption: float  # [-]
    self_sufficiency: float


@dataclass(frozen=True)
class ConsumerStatement:
    """One consumer's month: ``daily`` has one row per local day with ``cons``,
    ``autocons``, ``complement`` [kWh], ``self_sufficiency`` [-], ``cost``,
    ``cost_without`` and ``savings`` [EUR]; ``total`` the same for the month; ``money``
    the month's lines (supplier, local, each charge, cost, cost without, savings) [EUR];
    ``by_plant`` the kWh received from each plant (named) and its share."""

    prm: str
    name: str
    month: str
    daily: pd.DataFrame
    total: pd.Series
    money: pd.Series
    by_plant: pd.DataFrame
    operation: OperationTotals


@dataclass(frozen=True)
class ProducerStatement:
    """One producer's month: ``daily`` with ``prod``, ``autoprod``, ``surplus`` [kWh],
    ``self_consumption`` [-], ``local_revenue``, ``surplus_revenue``, ``revenue`` [EUR]."""

    prm: str
    name: str
    month: str
    daily: pd.DataFrame
    total: pd.Series
    operation: OperationTotals


@dataclass(frozen=True)
class OperatorReport:
    """The PMO's view of the month: every consumer and producer, the rates, the key, the
    key file's rounding loss, the holes and a comparison of keys."""

    month: str
    operation_name: str
    consumers: pd.DataFrame
    producers: pd.DataFrame
    operation: OperationTotals
    key: str
    rounding_loss: float | None  # [kWh]
    holes: pd.DataFrame
    comparison: pd.DataFrame | None
    daily: pd.DataFrame  # the operation's days: consumption, production, autocons, surplus
    curves: pd.DataFrame  # the same per step [kWh per step]
    step_hours: float
    holes_policy: str | None = None  # how the holes were treated (io.monthly.HOLES)


@dataclass(frozen=True)
class MonthReport:
    """Everything a PMO sends for a month; :func:`repartition.report.write_month` writes it."""

    operator: OperatorReport
    consumers: dict[str, ConsumerStatement]
    producers: dict[str, ProducerStatement]
    charges: tuple[Charge, ...]
    tariffs: Tariffs
    lang: Lang
    members: Members = field(repr=False)


def month_report(
    allocation: Allocation,
    members: Members,
    tariffs: Tariffs,
    *,
    charges: Sequence[Charge] = (),
    key: str | SharingKey = "",
    operation_name: str = "",
    rounding_loss: float | None = None,
    holes: pd.DataFrame | None = None,
    holes_policy: str | None = None,
    comparison: pd.DataFrame | None = None,
    lang: Lang = "fr",
    tz: str = PARIS,
) -> MonthReport:
    """The month's statements and operator's report, as data.

    Parameters
    ----------
    allocation : Allocation
        One local calendar month (steps of any length), on a tz-aware index.
    members : Members
        Names and roles; checked against the allocation's PRMs.
    tariffs : Tariffs
        Retail, local and surplus prices ([EUR/kWh]; :meth:`Members.tariffs` builds them
        from the members table).
    charges : sequence of Charge
        Taxes and network components per kWh.
    key : str or SharingKey
        The key used, as the report names it.
    operation_name : str
    rounding_loss : float, optional
        The energy the key file's rounding loses over the month [kWh]
        (``KeyFile.rounding_loss.sum()``).
    holes : pandas.DataFrame, optional
        The values filled (``MonthFiles.filled``).
    holes_policy : str, optional
        How they were filled (``MonthFiles.policy``: ``"zero-consumption"``...).
    comparison : pandas.DataFrame, optional
        Other keys on the same month (:func:`repartition.compare`).
    lang : {"fr", "en"}
    tz : str
        The local time of the days and the month (the DSO's exports are read in UTC).

    Raises
    ------
    repartition.errors.MissingMemberError, repartition.errors.UnknownMemberError
        A PRM in the exports and not in the table, or the reverse.
    repartition.errors.ParameterError
        An allocation without a tz-aware index, or spanning more than one month.
    """
    lang = check_lang(lang)
    if not isinstance(allocation, Allocation):
        raise errors.ParameterTypeError(
            f"month_report takes an Allocation, not {type(allocation).__name__}."
        )
    index = allocation.index
    if not isinstance(index, pd.DatetimeIndex) or index.tz is None:
        raise errors.ParameterError("A month's report needs an allocation on a tz-aware index.")
    local = index.tz_convert(check_time_zone(tz))
    days_of = local.date
    months = sorted(set(local.strftime("%Y-%m")))
    if len(months) != 1:
        raise errors.ParameterError(
            f"A month's report covers one local month; this allocation spans {', '.join(months)}."
        )
    month = months[0]
    members.check(allocation)
    charges = tuple(charges)
    key_name = key.label() if isinstance(key, SharingKey) else str(key)
    totals = _operation(allocation)
    money = consumer_money(allocation, tariffs, charges, tz)
    revenue = producer_money(allocation, tariffs, tz)
    plant_names = {str(p): members.name_of(str(p)) for p in allocation.producers}
    flows = allocation.flows()  # producers x consumers [kWh]
    starts_consumption = allocation.consumption.groupby(days_of).sum()
    daily_allocated = allocation.allocated.groupby(days_of).sum()
    daily_complement = allocation.grid_supply.groupby(days_of).sum()
    consumer_statements = {}
    for prm in allocation.consumers:
        daily = pd.DataFrame(
            {
                "cons": starts_consumption[prm].to_numpy(),
                "autocons": daily_allocated[prm].to_numpy(),
                "complement": daily_complement[prm].to_numpy(),
                "cost": money.cost[prm].to_numpy(),
                "cost_without": money.cost_without[prm].to_numpy(),
                "savings": money.savings[prm].to_numpy(),
            },
            index=pd.Index(starts_consumption.index, name="day"),
        )
        daily.insert(3, "self_sufficiency", _ratio(daily["autocons"], daily["cons"]))
        total = daily.drop(columns="self_sufficiency").sum()
        total["self_sufficiency"] = _ratio_value(total["autocons"], total["cons"])
        lines = {
            "supplier": float(money.supplier[prm].sum()),
            "local": float(money.local[prm].sum()),
        }
        for name, table in money.charges.items():
            lines[name] = float(table[prm].sum())
        lines["cost"] = float(money.cost[prm].sum())
        lines["cost_without"] = float(money.cost_without[prm].sum())
        lines["savings"] = float(money.savings[prm].sum())
        received = flows[prm]
        by_plant = pd.DataFrame(
            {
                "plant": [plant_names[str(p)] for p in received.index],
                "kwh": received.to_numpy(),
                "share": _ratio(received, pd.Series(received.sum(), index=received.index)),
            }
        )
        consumer_statements[str(prm)] = ConsumerStatement(
            str(prm),
            members.name_of(str(prm)),
            month,
            daily,
            total,
            pd.Series(lines),
            by_plant,
            totals,
        )
    production = allocation.production.groupby(days_of).sum()
    shared = allocation.self_consumed.groupby(days_of).sum()
    surplus = allocation.surplus.groupby(days_of).sum()
    producer_statements = {}
    for prm in allocation.producers:
        daily = pd.DataFrame(
            {
                "prod": production[prm].to_numpy(),
                "autoprod": shared[prm].to_numpy(),
                "surplus": surplus[prm].to_numpy(),
                "local_revenue": revenue.local[prm].to_numpy(),
                "surplus_revenue": revenue.surplus[prm].to_numpy(),
                "revenue": revenue.revenue[prm].to_numpy(),
            },
            index=pd.Index(production.index, name="day"),
        )
        daily.insert(3, "self_consumption", _ratio(daily["autoprod"], daily["prod"]))
        total = daily.drop(columns="self_consumption").sum()
        total["self_consumption"] = _ratio_value(total["autoprod"], total["prod"])
        producer_statements[str(prm)] = ProducerStatement(
            str(prm), members.name_of(str(prm)), month, daily, total, totals
        )
    consumers_table = pd.DataFrame(
        [
            {
                "prm": s.prm,
                "name": s.name,
                "cons": s.total["cons"],
                "autocons": s.total["autocons"],
                "complement": s.total["complement"],
                "self_sufficiency": s.total["self_sufficiency"],
                "cost": s.money["cost"],
                "cost_without": s.money["cost_without"],
                "savings": s.money["savings"],
            }
            for s in consumer_statements.values()
        ]
    ).set_index("prm")
    producers_table = pd.DataFrame(
        [
            {
                "prm": s.prm,
                "name": s.name,
                "prod": s.total["prod"],
                "autoprod": s.total["autoprod"],
                "surplus": s.total["surplus"],
                "self_consumption": s.total["self_consumption"],
                "revenue": s.total["revenue"],
            }
            for s in producer_statements.values()
        ]
    ).set_index("prm")
    curves = pd.DataFrame(
        {
            "consumption": allocation.consumption.sum(axis=1),
            "production": allocation.production.sum(axis=1),
            "autocons": allocation.allocated.sum(axis=1),
            "surplus": allocation.surplus.sum(axis=1),
        }
    )
    operator = OperatorReport(
        month,
        operation_name,
        consumers_table,
        producers_table,
        totals,
        key_name,
        rounding_loss,
        holes if holes is not None else pd.DataFrame(),
        comparison,
        curves.groupby(days_of).sum().rename_axis("day"),
        curves,
        _step_hours(index),
        holes_policy,
    )
    return MonthReport(
        operator, consumer_statements, producer_statements, charges, tariffs, lang, members
    )


def _step_hours(index: pd.DatetimeIndex) -> float:
    if len(index) < 2:
        return 1.0
    return float(pd.Series(index).diff().dropna().min() / pd.Timedelta(hours=1))


def _operation(allocation: Allocation) -> OperationTotals:
    summary = allocation.summary()
    return OperationTotals(
        consumers=len(allocation.consumers),
        producers=len(allocation.producers),
        consumption=summary.consumption_kwh,
        production=summary.production_kwh,
        autocons=summary.allocated_kwh,
        surplus=summary.surplus_kwh,
        self_consumption=_ratio_value(summary.allocated_kwh, summary.production_kwh),
        self_sufficiency=_ratio_value(summary.allocated_kwh, summary.consumption_kwh),
    )


def _ratio(numerator: pd.Series, denominator: pd.Series) -> np.ndarray:
    top, bottom = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)


def _ratio_value(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else float("nan")


def names_of(report: MonthReport) -> Mapping[str, str]:
    """PRM -> name for every member."""
    return {str(p): str(n) for p, n in report.members.table["name"].items()}
