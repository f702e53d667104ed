"""The words of the statements and reports, in French and in English."""

from __future__ import annotations

from typing import Literal

from repartition import errors

__all__ = ["HOLES_POLICIES", "LABELS", "MONTHS", "Lang", "check_lang", "label", "period"]

Lang = Literal["fr", "en"]

LABELS: dict[str, dict[str, str]] = {
    "statement_title": {
        "fr": "Relevé mensuel d'autoconsommation collective",
        "en": "Monthly collective self-consumption statement",
    },
    "producer_title": {
        "fr": "Relevé mensuel de production",
        "en": "Monthly production statement",
    },
    "operator_title": {"fr": "Rapport mensuel de l'opération", "en": "Monthly operation report"},
    "operation": {"fr": "Opération", "en": "Operation"},
    "month": {"fr": "Mois", "en": "Month"},
    "member": {"fr": "Membre", "en": "Member"},
    "prm": {"fr": "PRM", "en": "PRM"},
    "name": {"fr": "Nom", "en": "Name"},
    "role": {"fr": "Rôle", "en": "Role"},
    "type": {"fr": "Type", "en": "Type"},
    "consumer": {"fr": "consommateur", "en": "consumer"},
    "producer": {"fr": "producteur", "en": "producer"},
    "day": {"fr": "Jour", "en": "Day"},
    "total": {"fr": "Total du mois", "en": "Month total"},
    "cons": {"fr": "Consommation (CONS)", "en": "Consumption (CONS)"},
    "autocons": {"fr": "Énergie locale reçue (AUTOCONS)", "en": "Local energy received (AUTOCONS)"},
    "complement": {
        "fr": "Complément du fournisseur (COMPLEMENT)",
        "en": "Supplier's complement (COMPLEMENT)",
    },
    "prod": {"fr": "Production (PROD)", "en": "Production (PROD)"},
    "autoprod": {"fr": "Production partagée (AUTOPROD)", "en": "Production shared (AUTOPROD)"},
    "surplus": {"fr": "Surplus (SURPLUS)", "en": "Surplus (SURPLUS)"},
    "self_sufficiency": {"fr": "Taux d'autoproduction", "en": "Self-sufficiency rate"},
    "self_consumption": {"fr": "Taux d'autoconsommation", "en": "Self-consumption rate"},
    "savings": {"fr": "Économie", "en": "Savings"},
    "bill": {"fr": "Coût de l'énergie", "en": "Energy cost"},
    "bill_without": {"fr": "Coût sans l'opération", "en": "Cost without the operation"},
    "grid_cost": {"fr": "Énergie du fournisseur", "en": "Supplier's energy"},
    "local_cost": {"fr": "Énergie locale", "en": "Local energy"},
    "charges": {"fr": "Taxes et réseau", "en": "Taxes and network"},
    "revenue": {"fr": "Recette", "en": "Revenue"},
    "local_revenue": {"fr": "Vente d'énergie locale", "en": "Local energy sold"},
    "surplus_revenue": {"fr": "Vente du surplus", "en": "Surplus sold"},
    "by_plant": {"fr": "Origine de l'énergie locale", "en": "Where the local energy came from"},
    "plant": {"fr": "Centrale", "en": "Plant"},
    "share": {"fr": "Part", "en": "Share"},
    "operation_totals": {"fr": "L'opération ce mois-ci", "en": "The operation this month"},
    "members": {"fr": "Membres", "en": "Members"},
    "consumers": {"fr": "Consommateurs", "en": "Consumers"},
    "producers": {"fr": "Producteurs", "en": "Producers"},
    "formulas": {
        "fr": "Comment ces chiffres sont calculés",
        "en": "How these figures are computed",
    },
    "key": {"fr": "Clé de répartition", "en": "Sharing key"},
    "rounding_loss": {"fr": "Perte d'arrondi du fichier de clés", "en": "Key file rounding loss"},
    "holes": {"fr": "Données manquantes", "en": "Missing data"},
    "no_holes": {"fr": "Aucune donnée manquante.", "en": "No missing data."},
    "comparison": {"fr": "Comparaison des clés", "en": "Comparison of keys"},
    "daily": {"fr": "Jour par jour", "en": "Day by day"},
    "kwh": {"fr": "kWh", "en": "kWh"},
    "eur": {"fr": "€", "en": "EUR"},
    "energy_axis": {"fr": "Énergie [kWh]", "en": "Energy [kWh]"},
    "power_axis": {"fr": "Puissance moyenne [kW]", "en": "Average power [kW]"},
    "rate_axis": {"fr": "Taux [%]", "en": "Rate [%]"},
    "chart_daily": {
        "fr": "Votre consommation jour par jour",
        "en": "Your consumption day by day",
    },
    "chart_production_use": {
        "fr": "Usage de la production jour par jour",
        "en": "Use of the production day by day",
    },
    "chart_members": {
        "fr": "Taux d'autoproduction par membre",
        "en": "Self-sufficiency rate per member",
    },
    "chart_curves": {
        "fr": "Consommation et production de l'opération",
        "en": "The operation's consumption and production",
    },
    "shared": {"fr": "partagée", "en": "shared"},
    "page": {"fr": "Page", "en": "Page"},
    "issued": {"fr": "édité le", "en": "issued on"},
    "holes_policy": {"fr": "Traitement", "en": "Treatment"},
    "local_price": {"fr": "Prix local", "en": "Local price"},
    "rate_short": {"fr": "Autoprod. %", "en": "Self-suff. %"},
    "subtotal": {"fr": "Sous-total", "en": "Subtotal"},
    "rounding_note": {
        "fr": "Montants hors TVA, arrondis au centime ; les totaux sont calculés sur les "
        "valeurs exactes (écarts d'arrondi possibles). Ce relevé ne remplace pas la facture "
        "de votre fournisseur.",
        "en": "Amounts before VAT, rounded to the cent; totals are computed on the exact "
        "values (rounding differences possible). This statement does not replace your "
        "supplier's bill.",
    },
    "comparison_note": {
        "fr": "Les mêmes données du mois réparties par chaque clé ; économies sur l'énergie, "
        "hors taxes et réseau.",
        "en": "The same month's data shared by each key; savings on energy, before taxes "
        "and network charges.",
    },
    "moved": {"fr": "Énergie déplacée [kWh]", "en": "Energy moved [kWh]"},
    "gini": {"fr": "Inégalité (Gini)", "en": "Inequality (Gini)"},
    "least_savings": {"fr": "Économie la plus faible", "en": "Least savings"},
}

MONTHS = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
        "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December",
    ),
}  # fmt: skip


HOLES_POLICIES = {
    "fr": {
        "refuse": "refusées (le mois ne contenait aucune donnée manquante)",
        "zero-consumption": "une consommation manquante compte pour 0",
        "zero-production": "une production manquante compte pour 0",
        "zero": "toute valeur manquante compte pour 0",
    },
    "en": {
        "refuse": "refused (the month had no missing value)",
        "zero-consumption": "a missing consumption counts as 0",
        "zero-production": "a missing production counts as 0",
        "zero": "every missing value counts as 0",
    },
}
"""How ``repartition.io.monthly.prepare_month``'s hole policies read on the report."""


def period(month: str, first: int, last: int, lang: Lang) -> str:
    """``"du 1er au 30 juin 2025"`` / ``"1 to 30 June 2025"`` for ``"2025-06"``, days 1-30."""
    year, number = month.split("-")
    name = MONTHS[lang][int(number) - 1]
    if lang == "fr":
        start = "1er" if first == 1 else str(first)
        return f"du {start} au {last} {name} {year}"
    return f"{first} to {last} {name} {year}"


def check_lang(lang: object) -> Lang:
    """``lang`` if it is ``"fr"`` or ``"en"``, else a ParameterError."""
    if lang not in ("fr", "en"):
        raise errors.ParameterError(f'lang must be "fr" or "en", not {lang!r}.')
    return lang


def label(key: str, lang: Lang) -> str:
    """The word for ``key`` in ``lang``."""
    return LABELS[key][lang]
