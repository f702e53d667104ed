"""One Enedis load-curve CSV file, read into per-line arrays.

:func:`read_file` checks everything that concerns one line (columns, units, ``Pas``,
numbers, timestamps) and returns a :class:`Part`; :mod:`repartition.io.enedis` puts the
parts of several files on one time axis. Times and the requested period are read in
:mod:`repartition.io.enedis._times`.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from repartition import errors
from repartition.io._files import Input, scan
from repartition.io.enedis._times import Period, codes, culprit, end_times, periods

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
_OPTIONAL = {"period_start": "Date de début", "period_end": "Date de fin"}
_KWH_DIVISOR = {"W": 60_000.0, "KW": 60.0}  # energy [kWh] = value x step [min] / divisor
NS_PER_MINUTE = 60_000_000_000
_PRM = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_ONE_COLUMN = ": a single column, so the file is probably not ';'-separated"


@dataclass
class Source:
    """A file being read (a path or a buffer's content): its name, encoding and number of
    fields."""

    input: Input
    fields: int = 0

    @property
    def path(self) -> Path | str:
        """The file, or the buffer's name (see :func:`repartition.io._files.source`)."""
        return self.input.path

    @property
    def encoding(self) -> str:
        return self.input.encoding

    def line(self, row: int) -> int:
        """The 1-based file line of data row ``row`` (error paths only: reads the file)."""
        count = -1  # the header is row -1
        with self.input.text_stream() as lines:
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


@dataclass
class Part:
    """One file's lines as arrays (PRM as codes into ``prms``) and requested periods."""

    prms: list[str]
    prm: np.ndarray
    role: np.ndarray
    step_ns: np.ndarray
    start_ns: np.ndarray
    energy: np.ndarray
    periods: list[Period] = field(default_factory=list)


def read_file(source: Source, tz: str) -> Part:
    """Read and check the lines of one file; energies in kWh, times in ns since the epoch."""
    table = _table(source)
    if table.num_rows == 0:
        raise errors.FileFormatError(
            f"{source.path} has a header but no data line. Export the curves again.",
            path=source.path,
        )
    prm, prms = codes(table, "prm")
    empty = np.flatnonzero(np.isin(prm, [i for i, p in enumerate(prms) if not p]))
    if len(empty):
        row = int(empty[0])
        text = "the PRM (Identifiant PRM) is empty; fill it in."
        source.fail(errors.FileFormatError, row, text, timestamp=table["end"][row].as_py())
    odd = [i for i, p in enumerate(prms) if p and not _PRM.fullmatch(p)]
    if odd:
        row = int(np.flatnonzero(np.isin(prm, odd))[0])
        text = (
            f"the PRM {prms[prm[row]]!r} holds characters other than ASCII letters, digits, "
            "'.', '-' and '_' (an Enedis PRM is 14 digits): the line is damaged, or the "
            "file is not an Enedis export."
        )
        source.fail(errors.FileFormatError, row, text, timestamp=table["end"][row].as_py())
    _lookup(source, table, "quantity", {"PA": 1}, errors.UnitError, _NOT_POWER)
    divisor = _lookup(source, table, "unit", _KWH_DIVISOR, errors.UnitError, _NOT_WATTS)
    role = _lookup(source, table, "role", {"CONS": 1, "PROD": 2}, errors.FileFormatError, _ROLE)
    role = (role - 1).astype(np.int8)
    steps = {text.upper(): _minutes(text.upper()) for text in codes(table, "step")[1]}
    minutes = _lookup(source, table, "step", steps, errors.FileFormatError, _STEP)
    end_ns = end_times(source, table, prm * 2 + role, tz)
    value = _values(source, table)
    negative = np.flatnonzero(value < 0)
    if len(negative):
        row = int(negative[0])
        text = f"the power {value[row]:g} is negative; {_NEGATIVE}"
        source.fail(errors.NegativeEnergyError, row, text, **culprit(table, row))
    step_ns = minutes.astype(np.int64) * NS_PER_MINUTE
    energy = value * minutes / divisor  # one rounding for integer watts
    requested = periods(source, table, tz)
    return Part(prms, prm, role, step_ns, end_ns - step_ns, energy, requested)


_NOT_POWER = (
    "'Grandeur physique' is {value!r}; only active power 'PA' (mean power over the step) "
    "converts to energy per step. Export the active power curve."
)
_NOT_WATTS = "the unit is {value!r}; only 'W' and 'kW' (mean power) are understood."
_ROLE = "'Grandeur métier' is {value!r}; expected CONS (consumption) or PROD (production)."
_STEP = "'Pas' is {value!r}; expected an ISO 8601 duration such as PT15M, PT30M or PT60M."
_NEGATIVE = "Enedis curves count drawn (CONS) and injected (PROD) power as positive."


def _normalise(name: str) -> str:
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return " ".join(plain.casefold().split())


def _sniff(source: Source) -> bytes:
    """The start of the file (without a BOM), after checking that the file is text and
    choosing its encoding (:func:`repartition.io._files.scan`: UTF-8 or Windows-1252)."""
    head = source.input.head(1 << 20)
    if not head.strip():
        raise errors.FileFormatError(
            f"{source.path} is empty: an Enedis export has a header line and one line per "
            "PRM and step. Export the curves again.",
            path=source.path,
        )
    scan(source.input, legacy=True)
    return head.removeprefix(b"\xef\xbb\xbf")


def _header(source: Source, head: bytes) -> dict[str, str]:
    """Map our names to the file's column names (optional columns only when present)."""
    first = next(raw for raw in head.splitlines() if raw.strip())
    names = [n.strip('"') for n in first.decode(source.encoding, errors="replace").split(";")]
    source.fields = len(names)
    found: dict[str, str] = {}
    for name in names:
        key = _normalise(name)
        if key in found and key:
            same = "" if found[key] == name else f" ({found[key]!r} and {name!r} are one name)"
            raise errors.ColumnError(
                f"{source.path}, line 1: the column {name!r} appears twice in the header"
                f"{same}, so which one holds the data cannot be told. Export the file again, "
                "or remove the extra column.",
                column=name,
                path=source.path,
                line=1,
            )
        found[key] = name
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
    wanted = {**_READ, **_OPTIONAL}
    return {ours: found[_normalise(t)] for ours, t in wanted.items() if _normalise(t) in found}


def _table(source: Source) -> pa.Table:
    """The needed columns, as text, in the encoding :func:`_sniff` chose."""
    head = _sniff(source)
    parse = pacsv.ParseOptions(delimiter=";")
    columns = _header(source, head)
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
    read = pacsv.ReadOptions(encoding=source.encoding, block_size=1 << 24)
    data = source.input.data
    file = str(source.input.file) if data is None else pa.BufferReader(data)
    try:
        table = pacsv.read_csv(file, read, parse, convert)
    except (pa.ArrowInvalid, UnicodeDecodeError) as error:  # checked text: a bad line
        _bad_line(source, error)
    return table.rename_columns(list(columns))


def _bad_line(source: Source, error: Exception) -> NoReturn:
    with source.input.text_stream() as lines:
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


def _lookup(
    source: Source, table: pa.Table, name: str, accept: dict[str, Any], error: type, text: str
) -> np.ndarray:
    """Per line, ``accept[value.upper()]``; the first line with another value is an error."""
    code, categories = codes(table, name)
    found = [accept.get(category.upper()) for category in categories]
    rows = np.flatnonzero(np.isin(code, [i for i, v in enumerate(found) if v is None]))
    if len(rows):
        row = int(rows[0])
        text = text.format(value=categories[code[row]])
        source.fail(error, row, text, **culprit(table, row))
    return np.asarray(np.array([0 if v is None else v for v in found])[code])


def _minutes(text: str) -> int | None:
    match = re.fullmatch(r"PT(\d+)([MH])", text)
    return None if match is None else int(match[1]) * (60 if match[2] == "H" else 1) or None


def _values(source: Source, table: pa.Table) -> np.ndarray:
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
        source.fail(errors.FileFormatError, row, text_, **culprit(table, row))
    return np.asarray(value, dtype=np.float64)
