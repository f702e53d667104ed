"""The members table: who each PRM is, read from CSV or Excel and checked against the
exports (docs/report.md, "The members table")."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from repartition import _optional, errors
from repartition.allocation import Allocation
from repartition.metrics import Tariffs

__all__ = ["COLUMNS", "Members", "read_members"]

COLUMNS = ("prm", "name", "role", "type", "tariff", "local_price", "surplus_price", "email")
"""The columns of a members table; ``prm``, ``name`` and ``role`` are required."""

_ROLES = {
    "consumer": "consumer",
    "consommateur": "consumer",
    "producer": "producer",
    "producteur": "producer",
}
_PRM = re.compile(r"^\d{14}$")


@dataclass(frozen=True)
class Members:
    """Who is who in an operation: one row per PRM (the index), with ``name``, ``role``
    (``"consumer"`` or ``"producer"``), ``type`` (home, school...), ``tariff`` (a
    consumer's retail price [EUR/kWh] or the name of a time-of-use tariff),
    ``local_price`` and ``surplus_price`` (a producer's [EUR/kWh]) and ``email``.

    Build it with :func:`read_members` or :meth:`from_frame`.
    """

    table: pd.DataFrame

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, source: str = "the members table") -> Members:
        """Check a table with the columns of :data:`COLUMNS` (``prm``, ``name``, ``role``
        required); line numbers in errors count the header as line 1."""
        table = frame.copy()
        table.columns = [str(c).strip().lower() for c in table.columns]
        missing = [c for c in ("prm", "name", "role") if c not in table.columns]
        if missing:
            raise errors.FileFormatError(
                f"{source}: no {', '.join(missing)} column (a members table has "
                f"{', '.join(COLUMNS)}).",
                path=source,
                column=missing[0],
            )
        unknown = [c for c in table.columns if c not in COLUMNS]
        if unknown:
            raise errors.FileFormatError(
                f"{source}: unknown column {unknown[0]!r} (a members table has "
                f"{', '.join(COLUMNS)}).",
                path=source,
                column=unknown[0],
            )
        for column in COLUMNS:
            if column not in table.columns:
                table[column] = np.nan if column.endswith("price") else ""
        rows = []
        seen: dict[str, int] = {}
        for position, row in enumerate(table.itertuples(index=False), start=2):
            prm = _text(row.prm)
            if not _PRM.match(prm):
                raise errors.FileFormatError(
                    f"{source}, line {position}: PRM {prm!r} is not 14 digits.",
                    path=source,
                    line=position,
                    column="prm",
                )
            if prm in seen:
                raise errors.DuplicateMemberError(
                    f"{source}, line {position}: PRM {prm} already on line {seen[prm]}.",
                    path=source,
                    line=position,
                    member=prm,
                )
            seen[prm] = position
            role = _ROLES.get(_text(row.role).lower())
            if role is None:
                raise errors.FileFormatError(
                    f"{source}, line {position}: role {_text(row.role)!r} of PRM {prm} is not "
                    "consumer or producer (consommateur, producteur).",
                    path=source,
                    line=position,
                    member=prm,
                    column="role",
                )
            name = _text(row.name)
            if not name:
                raise errors.FileFormatError(
                    f"{source}, line {position}: PRM {prm} has no name.",
                    path=source,
                    line=position,
                    member=prm,
                    column="name",
                )
            prices = {}
            for column in ("local_price", "surplus_price"):
                prices[column] = _price(getattr(row, column), source, position, prm, column)
            tariff: float | str | None = None
            raw = row.tariff
            if _text(raw):
                try:
                    tariff = _price(raw, source, position, prm, "tariff")
                except errors.FileFormatError:
                    tariff = _text(raw)  # the name of a time-of-use tariff
            rows.append(
                {
                    "prm": prm,
                    "name": name,
                    "role": role,
                    "type": _text(row.type),
                    "tariff": tariff,
                    **prices,
                    "email": _text(row.email),
                }
            )
        if not rows:
            raise errors.FileFormatError(f"{source}: no member.", path=source)
        return cls(pd.DataFrame(rows).set_index("prm"))

    @property
    def consumers(self) -> pd.DataFrame:
        return self.table[self.table["role"] == "consumer"]

    @property
    def producers(self) -> pd.DataFrame:
        return self.table[self.table["role"] == "producer"]

    def name_of(self, prm: str) -> str:
        """A member's name (its PRM when unknown)."""
        return str(self.table["name"].get(prm, prm))

    def check(self, allocation: Allocation) -> None:
        """The members are the allocation's PRMs, each in its role (see
        :meth:`check_prms`)."""
        self.check_prms(allocation.consumers, allocation.producers)

    def check_prms(self, consumers: Iterable[object], producers: Iterable[object]) -> None:
        """The members are the exports' PRMs, each in its role.

        Raises
        ------
        repartition.errors.MissingMemberError
            A PRM of the exports that the table does not have (naming it).
        repartition.errors.UnknownMemberError
            A PRM of the table that the exports do not have, or in the other role.
        """
        for role, found in (("consumer", consumers), ("producer", producers)):
            listed = set(self.table.index[self.table["role"] == role])
            present = {str(p) for p in found}
            absent = sorted(present - listed)
            if absent:
                other = [p for p in absent if p in self.table.index]
                detail = " (listed in the other role)" if other else ""
                raise errors.MissingMemberError(
                    f"PRM {absent[0]} is a {role} in the exports but not in the members "
                    f"table{detail}; {len(absent)} such PRM(s): {', '.join(absent[:5])}.",
                    member=absent[0],
                )
            extra = sorted(listed - present)
            if extra:
                raise errors.UnknownMemberError(
                    f"PRM {extra[0]} ({self.name_of(extra[0])}) is a {role} of the members "
                    f"table but not in the exports; {len(extra)} such PRM(s): "
                    f"{', '.join(extra[:5])}.",
                    member=extra[0],
                )

    def tariffs(
        self,
        index: pd.DatetimeIndex,
        *,
        time_of_use: Mapping[str, pd.Series] | None = None,
        default_local: float | None = None,
        default_surplus: float | None = None,
    ) -> Tariffs:
        """The operation's :class:`~repartition.metrics.Tariffs` from the table: each
        consumer's retail price (a number, or the name of a series of ``time_of_use`` on a
        tz-aware index covering ``index``), each producer's local and surplus prices (the
        defaults where the table leaves them empty).

        Raises
        ------
        repartition.errors.ParameterError
            A consumer without a tariff, an unknown tariff name, a producer without a price
            and no default.
        """
        time_of_use = dict(time_of_use or {})
        consumers = self.consumers
        columns = {}
        for prm, tariff in consumers["tariff"].items():
            if tariff is None or (isinstance(tariff, float) and np.isnan(tariff)):
                raise errors.ParameterError(
                    f"Consumer {prm} ({self.name_of(str(prm))}) has no tariff in the members "
                    "table: give its retail price in EUR/kWh or the name of a time-of-use tariff.",
                    member=prm,
                )
            if isinstance(tariff, str):
                if tariff not in time_of_use:
                    raise errors.ParameterError(
                        f"Consumer {prm}'s tariff {tariff!r} is not among the time-of-use "
                        f"tariffs given ({sorted(time_of_use)}).",
                        member=prm,
                    )
                series = time_of_use[tariff]
                columns[prm] = series.reindex(index)
                if columns[prm].isna().any():
                    first = index[columns[prm].isna().to_numpy()][0]
                    raise errors.ParameterError(
                        f"The time-of-use tariff {tariff!r} has no price at {first}.",
                        member=prm,
                        timestamp=first,
                    )
            else:
                columns[prm] = pd.Series(float(tariff), index=index)
        retail: float | pd.DataFrame | pd.Series
        if any(isinstance(t, str) for t in consumers["tariff"]):
            retail = pd.DataFrame(columns, index=index)
        else:
            retail = pd.Series({p: float(t) for p, t in consumers["tariff"].items()})
        prices = {}
        for column, default in (("local_price", default_local), ("surplus_price", default_surplus)):
            values = {}
            for prm, value in self.producers[column].items():
                if np.isnan(value):
                    if default is None:
                        raise errors.ParameterError(
                            f"Producer {prm} ({self.name_of(str(prm))}) has no {column} in the "
                            "members table and no default was given.",
                            member=prm,
                        )
                    value = default
                values[prm] = float(value)
            prices[column] = pd.Series(values)
        return Tariffs(retail=retail, local=prices["local_price"], surplus=prices["surplus_price"])


def read_members(path: str | os.PathLike[str]) -> Members:
    """Read a members table from CSV (``;`` or ``,``, decimal comma or point, UTF-8) or
    Excel (``.xlsx``, its first sheet).

    Raises
    ------
    repartition.errors.FileFormatError
        A missing column, a bad PRM, role or price, naming the file and the line.
    """
    path = Path(path)
    source = str(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        _optional.import_extra("openpyxl", "report", feature="read_members")
        frame = pd.read_excel(path, dtype=str)
    else:
        text = path.read_text(encoding="utf-8-sig")
        first = text.splitlines()[0] if text else ""
        separator = ";" if first.count(";") >= first.count(",") else ","
        frame = pd.read_csv(path, sep=separator, dtype=str, keep_default_na=False)
    return Members.from_frame(frame, source=source)


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    return str(value).strip()


def _price(value: object, source: str, line: int, prm: str, column: str) -> float:
    text = _text(value)
    if not text:
        return float("nan")
    try:
        price = float(text.replace(",", "."))
    except ValueError:
        raise errors.FileFormatError(
            f"{source}, line {line}: {column} {text!r} of PRM {prm} is not a number (EUR/kWh).",
            path=source,
            line=line,
            member=prm,
            column=column,
        ) from None
    if not np.isfinite(price) or price < 0:
        raise errors.FileFormatError(
            f"{source}, line {line}: {column} {text!r} of PRM {prm} must be a finite price "
            ">= 0 (EUR/kWh).",
            path=source,
            line=line,
            member=prm,
            column=column,
        )
    return price
