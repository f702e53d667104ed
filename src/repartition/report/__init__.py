"""The PMO's month, finished: member statements, producers' statements and the operator's
report, as CSV, Excel and HTML (extra ``report``; docs/report.md).

>>> from repartition.report import Charge
>>> Charge("Accise sur l'électricité", on="complement", price=0.0225).on
'complement'
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from repartition import errors
from repartition._atomic import atomic_directory
from repartition.report.labels import LABELS, Lang
from repartition.report.members import COLUMNS, Members, read_members
from repartition.report.money import Charge, consumer_money, producer_money
from repartition.report.statements import (
    ConsumerStatement,
    MonthReport,
    OperatorReport,
    ProducerStatement,
    month_report,
)

__all__ = [
    "COLUMNS",
    "FORMATS",
    "LABELS",
    "Charge",
    "ConsumerStatement",
    "Lang",
    "Members",
    "MonthReport",
    "OperatorReport",
    "ProducerStatement",
    "consumer_money",
    "month_report",
    "producer_money",
    "read_members",
    "write_month",
]

FORMATS = ("html", "xlsx", "csv")
"""The formats :func:`write_month` writes."""


def write_month(
    report: MonthReport,
    folder: str | os.PathLike[str],
    formats: Sequence[str] = FORMATS,
    *,
    overwrite: bool = False,
) -> list[Path]:
    """Write every statement and the operator's report into ``folder``, all or nothing (a
    reader never sees part of it: it is written aside, then renamed into place).

    Parameters
    ----------
    report : MonthReport
        From :func:`month_report`.
    folder : path
        Created; an existing one is replaced only with ``overwrite=True``.
    formats : sequence of {"html", "xlsx", "csv"}

    Returns
    -------
    list of pathlib.Path
        The files written, in ``folder``.
    """
    from repartition.report.render.csv import write_csv
    from repartition.report.render.excel import write_excel
    from repartition.report.render.html import write_html

    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise errors.ParameterError(
            f"formats are among {', '.join(FORMATS)}, not {unknown or list(formats)!r}."
        )
    writers = {"html": write_html, "xlsx": write_excel, "csv": write_csv}
    target = Path(folder)
    names: list[str] = []
    with atomic_directory(target, overwrite=overwrite) as staging:
        for name in formats:
            names += [p.name for p in writers[name](report, staging)]
    return [target / name for name in names]
