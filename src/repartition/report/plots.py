"""The statements' and report's charts (matplotlib), as PNG bytes to embed in HTML.

Units on every axis, names rather than PRM ids, rates in %."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from repartition import _optional
from repartition.report.labels import Lang, label
from repartition.report.statements import ConsumerStatement, OperatorReport, ProducerStatement

__all__ = [
    "consumer_daily",
    "operator_curves",
    "operator_members",
    "operator_production_use",
    "producer_daily",
]

LOCAL = "#2a9d8f"
SUPPLIER = "#c9ced6"
SURPLUS = "#e9c46a"
CONSUMPTION = "#264653"


def _pyplot() -> Any:
    matplotlib = _optional.import_extra("matplotlib", "report", feature="the report's charts")
    matplotlib.use("Agg", force=False)
    return _optional.import_extra("matplotlib.pyplot", "report", feature="the report's charts")


def _png(figure: Any) -> bytes:
    plt = _pyplot()
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=110)
    plt.close(figure)
    return buffer.getvalue()


def _days(index: pd.Index) -> list[str]:
    return [pd.Timestamp(day).strftime("%d") for day in index]


def _stacked_days(
    daily: pd.DataFrame,
    month: str,
    bars: tuple[tuple[str, str], tuple[str, str]],
    title: str,
    lang: Lang,
) -> bytes:
    """Two energies per day, stacked: ``bars`` holds (column, colour) pairs, labelled by
    their column's words. [kWh]"""
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7.0, 2.8))
    days = _days(daily.index)
    (lower, lower_colour), (upper, upper_colour) = bars
    bottom = daily[lower].to_numpy(dtype=float)
    axis.bar(days, bottom, color=lower_colour, label=label(lower, lang))
    axis.bar(
        days,
        daily[upper].to_numpy(dtype=float),
        bottom=bottom,
        color=upper_colour,
        label=label(upper, lang),
    )
    axis.set_ylabel(label("energy_axis", lang))
    axis.set_xlabel(f"{label('day', lang)} ({month})")
    axis.set_title(label(title, lang), fontsize=10)
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False)
    axis.tick_params(axis="x", labelsize=6)
    return _png(figure)


def consumer_daily(statement: ConsumerStatement, lang: Lang) -> bytes:
    """A consumer's days: the local energy received and the supplier's complement."""
    bars = (("autocons", LOCAL), ("complement", SUPPLIER))
    return _stacked_days(statement.daily, statement.month, bars, "chart_daily", lang)


def producer_daily(statement: ProducerStatement, lang: Lang) -> bytes:
    """A producer's days: the production shared and the surplus."""
    bars = (("autoprod", LOCAL), ("surplus", SURPLUS))
    return _stacked_days(statement.daily, statement.month, bars, "chart_production_use", lang)


def operator_production_use(report: OperatorReport, lang: Lang) -> bytes:
    """The operation's days: production shared (AUTOCONS) and surplus, stacked."""
    bars = (("autocons", LOCAL), ("surplus", SURPLUS))
    return _stacked_days(report.daily, report.month, bars, "chart_production_use", lang)


def operator_members(report: OperatorReport, lang: Lang) -> bytes:
    """Each consumer's self-sufficiency rate, by name, in %."""
    plt = _pyplot()
    table = report.consumers.sort_values("self_sufficiency")
    height = max(2.5, 0.18 * len(table) + 1.0)
    figure, axis = plt.subplots(figsize=(7.0, height))
    axis.barh(table["name"], 100.0 * table["self_sufficiency"].fillna(0.0), color=LOCAL)
    axis.set_xlabel(label("rate_axis", lang))
    axis.set_title(label("chart_members", lang), fontsize=10)
    axis.tick_params(axis="y", labelsize=6)
    return _png(figure)


def operator_curves(report: OperatorReport, lang: Lang) -> bytes:
    """The month's consumption and production, average power per step [kW]."""
    plt = _pyplot()
    curves = report.curves
    hours = float(report.step_hours)
    figure, axis = plt.subplots(figsize=(7.0, 2.8))
    axis.plot(
        curves.index,
        curves["consumption"] / hours,
        color=CONSUMPTION,
        lw=0.7,
        label=label("cons", lang),
    )
    axis.plot(
        curves.index, curves["production"] / hours, color=SURPLUS, lw=0.7, label=label("prod", lang)
    )
    axis.fill_between(
        curves.index,
        np.zeros(len(curves)),
        curves["autocons"] / hours,
        color=LOCAL,
        alpha=0.5,
        label=label("autocons", lang),
    )
    axis.set_ylabel(label("power_axis", lang))
    axis.set_title(label("chart_curves", lang), fontsize=10)
    axis.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.3), ncol=3, frameon=False)
    axis.tick_params(axis="x", labelsize=6, labelrotation=30)
    return _png(figure)
