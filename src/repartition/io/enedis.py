"""Enedis load-curve CSV exports, read into energies per step [kWh].

The files are ``;``-separated, one line per PRM and step (domain.md, "Data formats")::

    Identifiant PRM;Date de début;Date de fin;Grandeur physique;Grandeur métier;Etape métier;
    Unité;Horodate;Valeur;Nature;Pas;Indice de vraisemblance;Etat complémentaire

``Valeur`` is the mean active power (``Grandeur physique`` = ``PA``) over the step ``Pas``
(``PT15M``, ``PT30M``, ``PT60M``...), in ``W`` or ``kW``, with a point or a comma as decimal
mark; ``Horodate`` is the END of the step in local time, either naive
(``2025-10-26 02:30:00``) or with its UTC offset (``2025-10-26T02:30:00+02:00``).
``Grandeur métier`` says whether the curve is drawn (``CONS``: a consumer) or injected
(``PROD``: a producer). Only the columns PRM, Grandeur physique, Grandeur métier, Unité,
Horodate, Valeur and Pas are read; the others may be absent, and extra columns are
ignored. Header names are matched ignoring case and accents (``Unite`` is ``Unité``).
Files may be UTF-8 (with or without a BOM) or Windows-1252/Latin-1.

Every error names the file, the line (1-based, header = line 1, blank lines counted), the
PRM and, as ``timestamp``, the ``Horodate`` as written (errors about one line) or the UTC
start of the step (errors between lines, such as conflicting values).
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa  # type: ignore[import-untyped]
import pyarrow.compute as pc  # type: ignore[import-untyped]
import pyarrow.csv as pacsv  # type: ignore[import-untyped]

from repartition import errors
from repartition.time import PARIS, localize

__all__ = ["COLUMNS", "LoadCurves", "read_load_curves"]

COLUMNS = (
    "Identifiant PRM",
    "Date de début",
    "Date de fin",
    "Grandeur physique",
    "Grandeur métier",
    "Etape métier",
    "Unité",
    "Horodate",
    "Valeur",
    "Nature",
    "Pas",
    "Indice de vraisemblance",
    "Etat complémentaire",
)
"""The header of an Enedis load-curve export, in order."""

_READ = {  # our name -> column of the file
    "prm": "Identifiant PRM",
    "quantity": "Grandeur physique",
    "role": "Grandeur métier",
    "unit": "Unité",
    "end": "Horodate",
    "value": "Valeur",
    "step": "Pas",
}
_ROLES = ("consumer", "producer")  # Grandeur métier CONS, PROD
_KWH_DIVISOR = {"W": 60_000.0, "KW": 60.0}  # energy [kWh] = value x step [min] / divisor
_OFFSET = r"(Z|[+-]\d\d:?\d\d)$"
_NS_PER_MINUTE = 60_000_000_000
_ONE_COLUMN = ": a single column, so the file is probably not ';'-separated"
_FIX_TIME = "Write it as ISO 8601, e.g. 2025-01-01 00:30:00 or 2025-01-01T00:30:00+01:00."


@dataclass(frozen=True, repr=False)
class LoadCurves:
    """Load curves read from Enedis exports, as energy per step [kWh].

    Attributes
    ----------
    consumption, production : pandas.DataFrame
        CONS and PROD curves: one float64 column per PRM id (a string, sorted), on a
        regular tz-aware UTC ``DatetimeIndex`` of step starts shared by both tables and
        running from the earliest to the latest step found in the files. NaN where a PRM
        has no value (no line, or an empty ``Valeur``): nothing is invented, and
        :func:`repartition.allocate` refuses NaN with a
        :class:`~repartition.errors.MissingValueError` naming the PRM and step. A table
        without PRM has no column. [kWh per step]
    step : pandas.Timedelta
        The step length (``Pas``).
    missing : pandas.DataFrame
        One row per hole: ``prm``, ``role`` (``consumer`` or ``producer``), ``first``
        and ``last`` (UTC starts of the first and last missing steps) and ``steps`` (how
        many). Empty when the curves are complete.
    sources : tuple of pathlib.Path
        The files read, in the order given.
    tz : str
        The time zone used to read naive ``Horodate`` and to display the period.
    """

    consumption: pd.DataFrame
    production: pd.DataFrame
    step: pd.Timedelta
    missing: pd.DataFrame
    sources: tuple[Path, ...] = field(default=())
    tz: str = PARIS

    @property
    def index(self) -> pd.DatetimeIndex:
        """The step starts (UTC) shared by both tables."""
        index = self.consumption.index
        assert isinstance(index, pd.DatetimeIndex)
        return index

    @property
    def missing_steps(self) -> int:
        """The number of (PRM, step) values absent from the files."""
        return int(self.missing["steps"].sum())

    def __repr__(self) -> str:
        local = self.index.tz_convert(self.tz)
        period = f"from {local[0]:%Y-%m-%d %H:%M%z} to {local[-1]:%Y-%m-%d %H:%M%z}"
        holes = (
            "complete"
            if self.missing.empty
            else f"{len(self.missing):,} holes ({self.missing_steps:,} missing values)"
        )
        return (
            f"<LoadCurves: {len(self.index):,} steps of {self.step.seconds // 60} min "
            f"{period}, {self.consumption.shape[1]:,} consumer(s), "
            f"{self.production.shape[1]:,} producer(s), {holes}>"
        )


def read_load_curves(
    paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
    *,
    tz: str = PARIS,
) -> LoadCurves:
    """Read Enedis load-curve CSV exports into energy per step [kWh].

    Parameters
    ----------
    paths
        One file or several (several PRMs per file, periods may overlap).
    tz
        The time zone of naive ``Horodate`` values. In the repeated autumn hour the first
        line of a PRM is taken as summer time and the second as winter time (see
        :func:`repartition.time.localize`); ``Horodate`` with a UTC offset need no rule.

    Returns
    -------
    LoadCurves
        ``consumption`` and ``production`` [kWh per step] on step starts in UTC, the
        ``step`` and the ``missing`` steps.

    Raises
    ------
    repartition.errors.ColumnError
        A needed column is missing (or the file is not ``;``-separated).
    repartition.errors.UnitError
        A ``Grandeur physique`` other than ``PA`` or a unit other than ``W`` and ``kW``.
    repartition.errors.StepLengthError
        A PRM given at two step lengths, or PRMs at different steps: read them
        separately and bring them to one step with :func:`repartition.time.resample`.
    repartition.errors.IrregularStepError
        Steps that do not line up (e.g. a PRM on the quarter past, another on the hour).
    repartition.errors.ConflictingValuesError
        One PRM and step given twice with different values (identical repetitions, as
        in overlapping exports, are merged; a value also wins over an empty one).
    repartition.errors.NonexistentTimeError
        A naive ``Horodate`` skipped by the spring DST change, or a repeated autumn time
        whose line order cannot tell summer from winter time.
    repartition.errors.NegativeEnergyError
        A negative power.
    repartition.errors.FileFormatError
        An empty file, a truncated line, an unknown ``Grandeur métier`` or ``Pas``, or a
        number or timestamp that cannot be read.

    Notes
    -----
    energy [kWh] = ``Valeur`` [W] x step [min] / 60,000 (``Valeur`` [kW] x step [min] /
    60), computed in one rounding for integer watts; step start = ``Horodate`` - ``Pas``.
    Missing steps stay NaN: :attr:`LoadCurves.missing` lists them, and
    ``repartition.time.inspect_steps(curves.consumption[prm].dropna().index)`` gives one
    PRM's gaps as a :class:`~repartition.time.StepReport`. Supply the values, or choose a
    period without holes, before :func:`repartition.allocate`.

    The autumn rule for naive ``Horodate`` works within one file: a naive export that
    starts inside the repeated hour cannot be read right (its first line is taken as
    summer time); prefer exports with UTC offsets.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "curves.csv"
    >>> _ = path.write_text(
    ...     "Identifiant PRM;Grandeur physique;Grandeur métier;Unité;Horodate;Valeur;Pas\\n"
    ...     "30000000000001;PA;CONS;W;2025-01-01T00:30:00+01:00;1200;PT30M\\n"
    ...     "30000000000001;PA;CONS;W;2025-01-01T01:00:00+01:00;;PT30M\\n"
    ...     "30000000000002;PA;PROD;W;2025-01-01T00:30:00+01:00;500;PT30M\\n", encoding="utf-8")
    >>> curves = read_load_curves(path)
    >>> curves.consumption  # 1200 W x 0.5 h / 1000 = 0.6 kWh
                               30000000000001
    2024-12-31 23:00:00+00:00             0.6
    2024-12-31 23:30:00+00:00             NaN
    >>> curves.missing[["prm", "role", "steps"]]
                  prm      role  steps
    0  30000000000001  consumer      1
    1  30000000000002  producer      1
    """
    items = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
    if not items:
        raise ValueError("read_load_curves needs at least one file.")
    sources = [_Source(Path(item)) for item in items]
    parts = [_read_file(source, tz) for source in sources]
    return _assemble(parts, sources, tz)


# ------------------------------------------------------------------------------------------
# One file
# ------------------------------------------------------------------------------------------


@dataclass
class _Source:
    path: Path
    encoding: str = "utf-8"
    fields: int = 0

    def line(self, row: int) -> int:
        """The 1-based file line of data row ``row`` (error paths only: reads the file)."""
        count = -1  # the header is row -1
        with open(self.path, encoding=self.encoding, errors="replace", newline="") as lines:
            for number, text in enumerate(lines, start=1):
                if text.strip("\r\n"):
                    count += 1
                    if count == row + 1:
                        return number
        return row + 2

    def fail(
        self, cls: type[errors.RepartitionError], row: int, text: str, **culprit: Any
    ) -> NoReturn:
        """Raise ``cls`` about data row ``row``, naming the file, line, PRM and Horodate."""
        line = self.line(row)
        member, when = culprit.get("member"), culprit.get("timestamp")
        detail = ", ".join([f"PRM {member}"] * bool(member) + [f"Horodate {when}"] * bool(when))
        detail = f" ({detail})" if detail else ""
        raise cls(f"{self.path}, line {line}{detail}: {text}", path=self.path, line=line, **culprit)


def _normalise(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(plain.casefold().split())


def _sniff(source: _Source) -> bytes:
    """The start of the file (without a BOM); sets the encoding to try first."""
    with open(source.path, "rb") as handle:
        head = handle.read(1 << 20)
    if not head.strip():
        raise errors.FileFormatError(
            f"{source.path} is empty: an Enedis export has a header line and one line per "
            "PRM and step. Export the curves again.",
            path=source.path,
        )
    head = head.removeprefix(codecs.BOM_UTF8)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        source.encoding = "cp1252"
    return head


def _header(source: _Source, head: bytes, encoding: str) -> dict[str, str]:
    """Map our names to the file's column names."""
    first = next(raw for raw in head.splitlines() if raw.strip())
    names = [n.strip('"') for n in first.decode(encoding, errors="replace").split(";")]
    source.fields = len(names)
    found = {_normalise(name): name for name in names}
    for theirs in _READ.values():
        if _normalise(theirs) not in found:
            raise errors.ColumnError(
                f"{source.path}, line 1: the column {theirs!r} is missing (the header has "
                f"{names}{_ONE_COLUMN * (len(names) == 1)}). An Enedis load-curve export "
                f"is ';'-separated with the columns {'; '.join(COLUMNS)}.",
                column=theirs,
                path=source.path,
                line=1,
            )
    return {ours: found[_normalise(theirs)] for ours, theirs in _READ.items()}


def _table(source: _Source) -> pa.Table:
    """The needed columns, as text; the encoding falls back to cp1252, then latin-1."""
    head = _sniff(source)
    parse = pacsv.ParseOptions(delimiter=";")
    for encoding in dict.fromkeys((source.encoding, "cp1252", "latin-1")):
        columns = _header(source, head, encoding)
        text = {columns["end"], columns["value"]}
        convert = pacsv.ConvertOptions(
            column_types={
                name: pa.string() if name in text else pa.dictionary(pa.int32(), pa.string())
                for name in columns.values()
            },
            include_columns=list(columns.values()),
            strings_can_be_null=True,
            null_values=[""],
        )
        try:
            read = pacsv.ReadOptions(encoding=encoding, block_size=1 << 24)
            table = pacsv.read_csv(source.path, read, parse, convert)
        except UnicodeDecodeError:
            continue
        except pa.ArrowInvalid as error:
            if "UTF8" in str(error):
                continue
            _bad_line(source, error)
        source.encoding = encoding
        return table.rename_columns(list(columns))
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _bad_line(source: _Source, error: Exception) -> None:
    with open(source.path, encoding=source.encoding, errors="replace", newline="") as lines:
        for number, row in enumerate(csv.reader(lines, delimiter=";"), start=1):
            if row and len(row) != source.fields:
                raise errors.CorruptFileError(
                    f"{source.path}, line {number}: {len(row)} fields where the header has "
                    f"{source.fields} (truncated or damaged line: {';'.join(row)!r}). "
                    "Export the file again.",
                    path=source.path,
                    line=number,
                )
    raise errors.CorruptFileError(f"{source.path} cannot be read: {error}", path=source.path)


@dataclass
class _Part:
    """One file's lines as arrays (PRM as codes into ``prms``)."""

    prms: list[str]
    prm: np.ndarray
    role: np.ndarray
    step_ns: np.ndarray
    start_ns: np.ndarray
    energy: np.ndarray


def _codes(table: pa.Table, name: str) -> tuple[np.ndarray, list[str]]:
    """Per-line codes of a dictionary column and its stripped values; empty cells are ''."""
    values = table.column(name).to_pandas()
    categories = [str(c).strip() for c in values.cat.categories]
    codes = values.cat.codes.to_numpy(np.int64)
    return np.where(codes < 0, len(categories), codes), [*categories, ""]


def _lookup(
    source: _Source, table: pa.Table, name: str, accept: dict[str, Any], error: type, text: str
) -> np.ndarray:
    """Per line, ``accept[value.upper()]``; the first line with another value is an error."""
    codes, categories = _codes(table, name)
    found = [accept.get(category.upper()) for category in categories]
    rows = np.flatnonzero(np.isin(codes, [i for i, v in enumerate(found) if v is None]))
    if len(rows):
        row = int(rows[0])
        text = text.format(value=categories[codes[row]])
        source.fail(error, row, text, **_culprit(table, row))
    return np.asarray(np.array([0 if v is None else v for v in found])[codes])


def _culprit(table: pa.Table, row: int) -> dict[str, Any]:
    return {"member": table["prm"][row].as_py(), "timestamp": table["end"][row].as_py()}


def _minutes(text: str) -> int | None:
    match = re.fullmatch(r"PT(\d+)([MH])", text)
    return None if match is None else int(match[1]) * (60 if match[2] == "H" else 1) or None


def _read_file(source: _Source, tz: str) -> _Part:
    table = _table(source)
    if table.num_rows == 0:
        raise errors.FileFormatError(
            f"{source.path} has a header but no data line. Export the curves again.",
            path=source.path,
        )
    prm, prms = _codes(table, "prm")
    empty = np.flatnonzero(np.isin(prm, [i for i, p in enumerate(prms) if not p]))
    if len(empty):
        row = int(empty[0])
        text = "the PRM (Identifiant PRM) is empty; fill it in."
        source.fail(errors.FileFormatError, row, text, timestamp=table["end"][row].as_py())
    _lookup(source, table, "quantity", {"PA": 1}, errors.UnitError, _NOT_POWER)
    divisor = _lookup(source, table, "unit", _KWH_DIVISOR, errors.UnitError, _NOT_WATTS)
    role = _lookup(source, table, "role", {"CONS": 1, "PROD": 2}, errors.FileFormatError, _ROLE)
    role = (role - 1).astype(np.int8)
    steps = {text.upper(): _minutes(text.upper()) for text in _codes(table, "step")[1]}
    minutes = _lookup(source, table, "step", steps, errors.FileFormatError, _STEP)
    end_ns = _end_times(source, table, prm * 2 + role, tz)
    value = _values(source, table)
    negative = np.flatnonzero(value < 0)
    if len(negative):
        row = int(negative[0])
        text = f"the power {value[row]:g} is negative; {_NEGATIVE}"
        source.fail(errors.NegativeEnergyError, row, text, **_culprit(table, row))
    step_ns = minutes.astype(np.int64) * _NS_PER_MINUTE
    energy = value * minutes / divisor  # one rounding for integer watts
    return _Part(prms, prm, role, step_ns, end_ns - step_ns, energy)


_NOT_POWER = (
    "'Grandeur physique' is {value!r}; only active power 'PA' (mean power over the step) "
    "converts to energy per step. Export the active power curve."
)
_NOT_WATTS = "the unit is {value!r}; only 'W' and 'kW' (mean power) are understood."
_ROLE = "'Grandeur métier' is {value!r}; expected CONS (consumption) or PROD (production)."
_STEP = "'Pas' is {value!r}; expected an ISO 8601 duration such as PT15M, PT30M or PT60M."
_NEGATIVE = "Enedis curves count drawn (CONS) and injected (PROD) power as positive."


def _end_times(source: _Source, table: pa.Table, groups: np.ndarray, tz: str) -> np.ndarray:
    """UTC ends of the steps [ns since the epoch] from ``Horodate``."""
    text = table["end"]
    if text.null_count:
        row = int(np.flatnonzero(pc.is_null(text).to_numpy(zero_copy_only=False))[0])
        source.fail(
            errors.FileFormatError,
            row,
            f"the Horodate is empty. {_FIX_TIME}",
            member=table["prm"][row].as_py(),
        )
    offset = pc.match_substring_regex(text, _OFFSET).to_numpy(zero_copy_only=False)
    aware = bool(offset[0])
    mixed = np.flatnonzero(offset != aware)
    if len(mixed):
        row = int(mixed[0])
        source.fail(
            errors.FileFormatError,
            row,
            f"this Horodate {'lacks' if aware else 'has'} a UTC offset, unlike line "
            f"{source.line(0)}; a file must use one convention.",
            **_culprit(table, row),
        )
    try:
        parsed = pc.cast(text, pa.timestamp("ns", tz="UTC" if aware else None))
    except pa.ArrowInvalid:
        strings = text.to_pandas()
        bad = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=aware).isna()
        row = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
        text_ = f"cannot read the Horodate {strings.iloc[row]!r}. {_FIX_TIME}"
        source.fail(errors.FileFormatError, row, text_, **_culprit(table, row))
    ns = np.asarray(pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False), np.int64)
    if aware:
        return ns
    naive = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    try:
        utc = localize(naive, tz, groups=groups, path=source.path).as_unit("ns").asi8
    except errors.NonexistentTimeError as error:
        row = (error.line or 2) - 2
        text_ = (
            f"the local time {naive[row]} does not exist in {tz}: clocks skip that hour at the "
            "spring DST change. Horodate is the END of the step in local time; check the "
            "export's time convention, or export with UTC offsets."
        )
        source.fail(errors.NonexistentTimeError, row, text_, **_culprit(table, row))
    _check_order(source, table, groups, naive, utc, tz)
    return utc


def _check_order(
    source: _Source,
    table: pa.Table,
    groups: np.ndarray,
    naive: pd.DatetimeIndex,
    utc: np.ndarray,
    tz: str,
) -> None:
    """The autumn rule (first = summer time) needs each PRM's lines in time order."""
    order = np.argsort(groups, kind="stable")
    g, u = groups[order], utc[order]
    back = order[np.flatnonzero((g[1:] == g[:-1]) & (u[1:] <= u[:-1])) + 1]
    if not len(back):
        return
    ambiguous = naive.tz_localize(tz, ambiguous="NaT", nonexistent="NaT").isna()
    back = back[np.isin(groups[back], groups[ambiguous])]
    if len(back):
        row = int(back.min())
        text = (
            f"the lines of this PRM are not in time order, so the local times repeated at "
            f"the autumn DST change ({tz}) cannot be told apart (the first is read as summer "
            "time, the second as winter time). Sort each PRM's lines by time, or export "
            "with UTC offsets."
        )
        source.fail(errors.NonexistentTimeError, row, text, **_culprit(table, row))


def _values(source: _Source, table: pa.Table) -> np.ndarray:
    """``Valeur`` as float64 (NaN where empty); a point or a comma as decimal mark."""
    text = pc.replace_substring(table["value"], ",", ".")
    try:
        value = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        value = pd.to_numeric(text.to_pandas(), errors="coerce").to_numpy(np.float64)
    given = ~pc.is_null(text).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(given & ~np.isfinite(value))
    if len(bad):
        row = int(bad[0])
        text_ = f"cannot read the Valeur {table['value'][row].as_py()!r} as a number (mean power)."
        source.fail(errors.FileFormatError, row, text_, **_culprit(table, row))
    return np.asarray(value, dtype=np.float64)


# ------------------------------------------------------------------------------------------
# All files together
# ------------------------------------------------------------------------------------------


def _pas(step_ns: int) -> str:
    """A step length as Enedis writes it: ``PT30M``."""
    return f"PT{step_ns // _NS_PER_MINUTE}M"


def _assemble(parts: list[_Part], sources: list[_Source], tz: str) -> LoadCurves:
    ids = pd.Index(sorted({p for part in parts for p in part.prms if p}), dtype=object)
    prm = np.concatenate([ids.get_indexer(pd.Index(part.prms))[part.prm] for part in parts])
    role, step, start, energy = (
        np.concatenate([getattr(part, name) for part in parts])
        for name in ("role", "step_ns", "start_ns", "energy")
    )
    file = np.concatenate([np.full(len(part.prm), k) for k, part in enumerate(parts)])
    row = np.concatenate([np.arange(len(part.prm)) for part in parts])
    lines = _Lines(sources, file, row, ids, prm, start)
    key = prm.astype(np.int64) * 2 + role
    _check_steps(lines, key, step)
    step_ns, first = int(step[0]), int(start.min())
    offset = start - first
    skewed = np.flatnonzero(offset % step_ns)
    if len(skewed):
        i = int(skewed[0])
        raise errors.IrregularStepError(
            f"{lines.at(i)}: this step does not line up with the "
            f"{_pas(step_ns)} steps of {lines.at(int(np.argmin(start)))}. Read such curves "
            "separately.",
            step=pd.Timedelta(step_ns),
            **lines.culprit(i),
        )
    position = offset // step_ns
    count = int(position.max()) + 1
    _check_conflicts(lines, key * count + position, energy)
    index = pd.date_range(
        pd.Timestamp(first, tz="UTC"), periods=count, freq=pd.Timedelta(step_ns), unit="us"
    )
    tables, holes = [], []
    for code, name in enumerate(_ROLES):
        mine = role == code
        members = np.unique(prm[mine])
        column = np.full(len(ids), -1)
        column[members] = np.arange(len(members))
        values = np.full((count, len(members)), np.nan)
        filled = mine & ~np.isnan(energy)
        values[position[filled], column[prm[filled]]] = energy[filled]
        tables.append(pd.DataFrame(values, index=index, columns=ids[members], copy=False))
        holes.append(_holes(values, ids[members], name, index))
    return LoadCurves(
        consumption=tables[0],
        production=tables[1],
        step=pd.Timedelta(step_ns),
        missing=pd.concat(holes, ignore_index=True),
        sources=tuple(source.path for source in sources),
        tz=tz,
    )


@dataclass
class _Lines:
    """Where each line of the concatenated files comes from, for messages."""

    sources: list[_Source]
    file: np.ndarray
    row: np.ndarray
    ids: pd.Index
    prm: np.ndarray
    start: np.ndarray

    def at(self, i: int, detail: bool = True) -> str:
        source = self.sources[int(self.file[i])]
        where = f"{source.path}, line {source.line(int(self.row[i]))}"
        return (
            f"{where} (PRM {self.ids[self.prm[i]]}, step starting {self.when(i)})" * detail or where
        )

    def when(self, i: int) -> pd.Timestamp:
        return pd.Timestamp(int(self.start[i]), tz="UTC")

    def culprit(self, i: int) -> dict[str, Any]:
        source = self.sources[int(self.file[i])]
        return {
            "path": source.path,
            "line": source.line(int(self.row[i])),
            "member": self.ids[self.prm[i]],
            "timestamp": self.when(i),
        }

    def first(self, *candidates: int) -> list[int]:
        """The candidates in file order."""
        return sorted(candidates, key=lambda i: (int(self.file[i]), int(self.row[i])))


def _check_steps(lines: _Lines, key: np.ndarray, step: np.ndarray) -> None:
    if (step == step[0]).all():
        return
    order = np.lexsort((step, key))
    k, s = key[order], step[order]
    two = np.flatnonzero((k[1:] == k[:-1]) & (s[1:] != s[:-1]))
    if len(two):
        a, b = lines.first(int(order[two[0]]), int(order[two[0] + 1]))
        where = "inside one file" if lines.file[a] == lines.file[b] else "between files"
        text = f"The PRM {lines.ids[lines.prm[a]]} changes its Pas {where}"
    else:
        a, b = lines.first(0, int(np.flatnonzero(step != step[0])[0]))
        text = f"The PRMs {lines.ids[lines.prm[a]]} and {lines.ids[lines.prm[b]]} differ in Pas"
    raise errors.StepLengthError(
        f"{text}: {_pas(int(step[a]))} at {lines.at(a)}, {_pas(int(step[b]))} at "
        f"{lines.at(b)}. One LoadCurves has one step: read them separately and bring them "
        "to one step with repartition.time.resample.",
        step=pd.Timedelta(int(step[b])),
        **lines.culprit(b),
    )


def _check_conflicts(lines: _Lines, cell: np.ndarray, energy: np.ndarray) -> None:
    """The same (PRM, role, step) twice: equal values merge, different ones are an error."""
    order = np.lexsort((np.isnan(energy), cell))  # empty values last within a cell
    c, e = cell[order], energy[order]
    with np.errstate(invalid="ignore"):
        clash = (c[1:] == c[:-1]) & ~np.isnan(e[1:])
        clash &= ~np.isclose(e[1:], e[:-1], rtol=1e-12, atol=0.0)
    if clash.any():
        a, b = lines.first(int(order[np.argmax(clash)]), int(order[np.argmax(clash) + 1]))
        culprit = lines.culprit(b)
        raise errors.ConflictingValuesError(
            f"The PRM {culprit['member']} has two different values for the step starting "
            f"{culprit['timestamp']}: {energy[a]:.6g} kWh at {lines.at(a)} and "
            f"{energy[b]:.6g} kWh at {lines.at(b)}. Keep the right export and drop the other.",
            **culprit,
        )


def _holes(
    values: np.ndarray, members: pd.Index, role: str, index: pd.DatetimeIndex
) -> pd.DataFrame:
    """Runs of NaN in each column of ``values``."""
    padded = np.zeros((values.shape[1], values.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = np.isnan(values).T
    change = np.diff(padded, axis=1)
    member, first = np.nonzero(change == 1)
    stop = np.nonzero(change == -1)[1]
    return pd.DataFrame(
        {
            "prm": pd.Series(members[member], dtype=object),
            "role": role,
            "first": index[first],
            "last": index[stop - 1],
            "steps": (stop - first).astype(np.int64),
        }
    )
