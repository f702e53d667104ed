"""The month's statements and operator's report as HTML pages laid out for A4, charts
embedded (a browser's "print to PDF" gives the PDF a member receives)."""

from __future__ import annotations

import base64
import datetime as dt
import math
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from repartition import __version__, _optional
from repartition.report import plots
from repartition.report.labels import HOLES_POLICIES, LABELS, Lang, period
from repartition.report.money import Charge
from repartition.report.statements import ConsumerStatement, MonthReport

__all__ = ["formulas", "render_consumer", "render_operator", "render_producer", "write_html"]


def _number(value: float, decimals: int, lang: Lang) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "\u2013"
    text = f"{value:,.{decimals}f}"
    if lang == "fr":
        text = text.replace(",", "\u202f").replace(".", ",")
    return text


def _environment(lang: Lang) -> Any:
    jinja2 = _optional.import_extra("jinja2", "report", feature="the HTML statements")
    folder = resources.files("repartition.report") / "templates"
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    euro = "€" if lang == "fr" else "EUR"
    environment.filters["kwh"] = lambda v: _number(float(v), 1, lang)
    environment.filters["eur"] = lambda v: f"{_number(float(v), 2, lang)} {euro}"
    environment.filters["pct"] = lambda v: (
        "\u2013" if v is None or math.isnan(float(v)) else f"{_number(100.0 * float(v), 1, lang)} %"
    )
    return environment


def _labels(lang: Lang) -> dict[str, str]:
    return {key: words[lang] for key, words in LABELS.items()}


def _b64(png: bytes) -> str:
    return base64.b64encode(png).decode("ascii")


def _charge_line(charge: Charge, lang: Lang) -> str:
    where = {
        "fr": {"complement": "le COMPLEMENT", "autocons": "l'AUTOCONS", "consumption": "la CONS"},
        "en": {"complement": "COMPLEMENT", "autocons": "AUTOCONS", "consumption": "CONS"},
    }[lang][charge.on]
    if isinstance(charge.price, float | int):
        price = f"{_number(float(charge.price), 5, lang)} €/kWh"
    else:
        prices = sorted({float(v) for v in charge.price.values()} | {float(charge.default)})
        price = " / ".join(f"{_number(p, 5, lang)}" for p in prices) + " €/kWh"
        price += " (selon la centrale)" if lang == "fr" else " (by plant)"
    if lang == "fr":
        return f"{charge.name} : {price} sur {where}."
    return f"{charge.name}: {price} on {where}."


def producer_formulas(report: MonthReport, prm: str, lang: Lang) -> list[str]:
    """A producer's statement's formulas, with its prices."""
    local = _price_of(report.tariffs.local, prm)
    surplus = _price_of(report.tariffs.surplus, prm)
    if lang == "fr":
        return [
            "PROD : la production mesurée de votre centrale (kWh) ; AUTOPROD : la part "
            "affectée aux membres de l'opération par la clé de répartition ; SURPLUS = PROD "
            "- AUTOPROD : la part injectée sur le réseau et vendue.",
            "Taux d'autoconsommation = AUTOPROD / PROD.",
            f"Recette = prix local ({_number(local, 4, lang)} €/kWh) x AUTOPROD + prix du "
            f"surplus ({_number(surplus, 4, lang)} €/kWh) x SURPLUS ; montants hors TVA.",
            "À chaque pas de temps, l'énergie reçue par un membre vient de chaque centrale au "
            "prorata de sa production.",
        ]
    return [
        "PROD: your plant's metered production (kWh); AUTOPROD: the part the sharing key "
        "allocates to the operation's members; SURPLUS = PROD - AUTOPROD: the part injected "
        "into the grid and sold.",
        "Self-consumption rate = AUTOPROD / PROD.",
        f"Revenue = local price ({_number(local, 4, lang)} EUR/kWh) x AUTOPROD + surplus price "
        f"({_number(surplus, 4, lang)} EUR/kWh) x SURPLUS; amounts before VAT.",
        "At each step, the energy a member receives comes from each plant in proportion to "
        "its production.",
    ]


def operator_formulas(report: MonthReport, lang: Lang) -> list[str]:
    """The operator's report's formulas and definitions."""
    if lang == "fr":
        lines = [
            "Par membre : AUTOCONS, l'énergie locale affectée par la clé ; COMPLEMENT = CONS - "
            "AUTOCONS ; taux d'autoproduction = AUTOCONS / CONS. Par centrale : AUTOPROD, "
            "SURPLUS = PROD - AUTOPROD, taux d'autoconsommation = AUTOPROD / PROD.",
            "Coût de l'énergie d'un membre = prix du fournisseur x COMPLEMENT + prix local x "
            "AUTOCONS (par centrale) + taxes et réseau ; économie = coût sans l'opération - "
            "coût de l'énergie (montants hors TVA).",
            "Perte d'arrondi du fichier de clés : l'énergie que le gestionnaire de réseau ne "
            "répartit pas parce que les coefficients du fichier sont arrondis au centième de "
            "pour cent inférieur (elle part en surplus).",
            "Inégalité (Gini) : 0 si tous les membres ont le même taux d'autoproduction, "
            "proche de 1 si l'énergie locale va à un seul.",
            "Énergie déplacée : l'énergie qu'une clé donne à d'autres membres que la clé actuelle.",
        ]
    else:
        lines = [
            "Per member: AUTOCONS, the local energy the key allocates; COMPLEMENT = CONS - "
            "AUTOCONS; self-sufficiency rate = AUTOCONS / CONS. Per plant: AUTOPROD, SURPLUS "
            "= PROD - AUTOPROD, self-consumption rate = AUTOPROD / PROD.",
            "A member's energy cost = supplier's price x COMPLEMENT + local price x AUTOCONS "
            "(per plant) + taxes and network; savings = cost without the operation - energy "
            "cost (amounts before VAT).",
            "Key file rounding loss: the energy the DSO does not share because the file's "
            "coefficients are rounded down to a hundredth of a percent (it goes to surplus).",
            "Inequality (Gini): 0 when every member has the same self-sufficiency, close to 1 "
            "when the local energy goes to one of them.",
            "Energy moved: what a key gives to other members than the present key does.",
        ]
    return lines + [_charge_line(charge, lang) for charge in report.charges]


def _price_of(price: object, prm: str) -> float:
    if isinstance(price, pd.Series):
        return float(price.get(prm, float("nan")))
    return float(price)  # type: ignore[arg-type]


def formulas(report: MonthReport, lang: Lang, *, retail: str | None = None) -> list[str]:
    """A consumer's statement's last part: every formula, the prices that apply."""
    if lang == "fr":
        lines = [
            "CONS : votre consommation mesurée par le compteur (kWh), AUTOCONS : l'énergie "
            "locale qui vous est affectée par la clé de répartition, COMPLEMENT = CONS - "
            "AUTOCONS : ce que votre fournisseur vous livre.",
            "Taux d'autoproduction = AUTOCONS / CONS ; taux d'autoconsommation de "
            "l'opération = somme des AUTOCONS / production totale.",
            "Coût de l'énergie = prix du fournisseur x COMPLEMENT + prix local x AUTOCONS "
            "(par centrale) + taxes et réseau.",
            "Coût sans l'opération = prix du fournisseur x CONS + taxes et réseau sur toute "
            "la consommation ; économie = coût sans l'opération - coût de l'énergie.",
            "L'origine de l'énergie locale : à chaque pas de temps, l'énergie reçue vient de "
            "chaque centrale au prorata de sa production. Montants hors TVA.",
        ]
    else:
        lines = [
            "CONS: your consumption as metered (kWh); AUTOCONS: the local energy the sharing "
            "key allocates to you; COMPLEMENT = CONS - AUTOCONS: what your supplier delivers.",
            "Self-sufficiency rate = AUTOCONS / CONS; the operation's self-consumption rate = "
            "sum of AUTOCONS / total production.",
            "Energy cost = supplier's price x COMPLEMENT + local price x AUTOCONS (per plant) + "
            "taxes and network.",
            "Cost without the operation = supplier's price x CONS + taxes and network on the "
            "whole consumption; savings = cost without the operation - energy cost.",
            "Where the local energy came from: at each step, the energy received comes from "
            "each plant in proportion to its production.",
        ]
    if retail is not None:
        lines.append(
            f"Votre prix du fournisseur : {retail}."
            if lang == "fr"
            else f"Your supplier's price: {retail}."
        )
    lines += [_charge_line(charge, lang) for charge in report.charges]
    return lines


def _retail_of(report: MonthReport, prm: str, lang: Lang) -> str:
    tariff = report.members.table["tariff"].get(prm)
    if isinstance(tariff, float) and not math.isnan(tariff):
        return f"{_number(tariff, 4, lang)} €/kWh"
    if isinstance(tariff, str) and tariff:
        return tariff
    retail = report.tariffs.retail
    if isinstance(retail, float):
        return f"{_number(retail, 4, lang)} €/kWh"
    return "heures pleines / heures creuses" if lang == "fr" else "time of use"


def render_consumer(report: MonthReport, statement: ConsumerStatement) -> str:
    lang = report.lang
    L = _labels(lang)
    names = {
        "supplier": L["grid_cost"],
        "local": L["local_cost"],
        "cost": L["bill"],
        "cost_without": L["bill_without"],
        "savings": L["savings"],
    }
    kinds = {"cost": "subtotal", "cost_without": "separator", "savings": "total"}
    money = [
        (names.get(str(k), str(k)), v, kinds.get(str(k), "")) for k, v in statement.money.items()
    ]
    prm_of = {str(n): str(p) for p, n in report.members.producers["name"].items()}
    plants = []
    for row in statement.by_plant.to_dict("records"):
        price = _price_of(report.tariffs.local, prm_of.get(str(row["plant"]), ""))
        unit = "€/kWh" if lang == "fr" else "EUR/kWh"
        plants.append({**row, "price": f"{_number(price, 4, lang)} {unit}"})
    template = _environment(lang).get_template("consumer.html")
    return str(
        template.render(
            lang=lang,
            title=f"{L['statement_title']} {statement.month} - {statement.name}",
            L=L,
            s=statement,
            operation_name=report.operator.operation_name,
            money=money,
            plants=plants,
            **_header(report, statement.month, statement.daily.index),
            daily=[(str(day), row) for day, row in statement.daily.iterrows()],
            charts={"daily": _b64(plots.consumer_daily(statement, lang))},
            formulas=formulas(report, lang, retail=_retail_of(report, statement.prm, lang)),
            version=__version__,
        )
    )


def render_producer(report: MonthReport, prm: str) -> str:
    lang = report.lang
    L = _labels(lang)
    statement = report.producers[prm]
    template = _environment(lang).get_template("producer.html")
    return str(
        template.render(
            lang=lang,
            title=f"{L['producer_title']} {statement.month} - {statement.name}",
            L=L,
            s=statement,
            operation_name=report.operator.operation_name,
            daily=[(str(day), row) for day, row in statement.daily.iterrows()],
            charts={"daily": _b64(plots.producer_daily(statement, lang))},
            formulas=producer_formulas(report, prm, lang),
            **_header(report, statement.month, statement.daily.index),
            version=__version__,
        )
    )


def render_operator(report: MonthReport) -> str:
    lang = report.lang
    L = _labels(lang)
    operator = report.operator
    comparison = operator.comparison
    comparison_rows: list[tuple[str, list[str]]] = []
    comparison_columns: list[str] = []
    if comparison is not None:
        shown = {
            "self_consumption_rate": (f"{L['self_consumption']} [%]", 100.0, 1),
            "self_sufficiency_rate": (f"{L['self_sufficiency']} [%]", 100.0, 1),
            "gini_self_sufficiency": (L["gini"], 1.0, 3),
            "savings_total": (f"{L['savings']} [{L['eur']}]", 1.0, 2),
            "savings_min": (f"{L['least_savings']} [{L['eur']}]", 1.0, 2),
            "moved_kwh": (L["moved"], 1.0, 1),
        }
        present = [c for c in shown if c in comparison.columns]
        comparison_columns = [shown[c][0] for c in present]
        comparison_rows = [
            (
                str(name),
                [_number(shown[c][1] * float(row[c]), shown[c][2], lang) for c in present],
            )
            for name, row in comparison.iterrows()
        ]
    holes = operator.holes
    template = _environment(lang).get_template("operator.html")
    return str(
        template.render(
            lang=lang,
            title=f"{L['operator_title']} {operator.month}",
            L=L,
            r=operator,
            consumers=list(operator.consumers.iterrows()),
            producers=list(operator.producers.iterrows()),
            holes=[list(map(str, row)) for row in holes.itertuples(index=False)]
            if len(holes)
            else [],
            holes_columns=[str(c) for c in holes.columns],
            comparison=comparison_rows,
            comparison_columns=comparison_columns,
            charts={
                "production_use": _b64(plots.operator_production_use(operator, lang)),
                "curves": _b64(plots.operator_curves(operator, lang)),
                "members": _b64(plots.operator_members(operator, lang)),
            },
            formulas=operator_formulas(report, lang),
            holes_policies=HOLES_POLICIES[lang],
            **_header(report, operator.month, operator.daily.index),
            version=__version__,
        )
    )


def _header(report: MonthReport, month: str, days: pd.Index) -> dict[str, str]:
    lang = report.lang
    today = dt.date.today()
    issued = f"{today:%d/%m/%Y}" if lang == "fr" else f"{today:%Y-%m-%d}"
    return {
        "period": period(month, pd.Timestamp(days[0]).day, pd.Timestamp(days[-1]).day, lang),
        "issued": issued,
        "colon": "\u00a0:" if lang == "fr" else ":",
    }


def write_html(report: MonthReport, folder: Path) -> list[Path]:
    """``<month>_statement_<prm>.html`` per member and ``<month>_operator.html``."""
    month = report.operator.month
    written = []
    for prm, statement in report.consumers.items():
        path = folder / f"{month}_statement_{prm}.html"
        path.write_text(render_consumer(report, statement), encoding="utf-8")
        written.append(path)
    for prm in report.producers:
        path = folder / f"{month}_statement_{prm}.html"
        path.write_text(render_producer(report, prm), encoding="utf-8")
        written.append(path)
    path = folder / f"{month}_operator.html"
    path.write_text(render_operator(report), encoding="utf-8")
    written.append(path)
    return written
