"""The dynamic key file's name, and its reader (the format: :mod:`repartition.io.keyfile`).

The reader is strict (two decimals, a comma, ASCII digits, the exact header, whole local
days): it doubles as a check of a file before it is sent. Every error names the file, the
line, the PRM and the time.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from repartition import errors
from repartition.io import _files
from repartition.io._files import Readable
from repartition.io.keyfile import _text as text
from repartition.io.keyfile.rounding import UNITS
from repartition.time import PARIS, check_time_zone, localize

HEADER = "Horodate"

_NAME = re.compile(r"^(?P<prefix>.+)_(?P<step>[0-9]+)_(?P<first>[0-9]{8})_(?P<last>[0-9]{8})\.txt$")
OPERATION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
PRODUCER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*$")


@dataclass(frozen=True)
class KeyFileName:
    """The parts of a key file's name.

    Attributes
    ----------
    operation : str
        The operation id (letters, digits, ``.``, ``-``, ``_``).
    step : pandas.Timedelta
        The step length, a whole number of minutes.
    first_day, last_day : datetime.date
        The first and the last local day covered, inclusive.
    producer : str or None
        The producer, for one file of a full dynamic key.
    """

    operation: str
    step: pd.Timedelta
    first_day: dt.date
    last_day: dt.date
    producer: str | None = None

    def __str__(self) -> str:
        minutes = int(self.step / pd.Timedelta(minutes=1))
        parts = [self.operation, *([self.producer] if self.producer else []), str(minutes)]
        days = [f"{day:%d%m%Y}" for day in (self.first_day, self.last_day)]
        return "_".join(parts + days) + ".txt"

    @classmethod
    def parse(cls, path: str | os.PathLike[str]) -> KeyFileName:
        """Split a file name; the producer, if any, stays part of ``operation``.

        Raises :class:`~repartition.errors.FileFormatError` for a name that does not
        follow ``<operation>_<step minutes>_<ddmmyyyy>_<ddmmyyyy>.txt``.

        Examples
        --------
        >>> KeyFileName.parse("OPE123_30_01112024_30112024.txt")  # doctest: +NORMALIZE_WHITESPACE
        KeyFileName(operation='OPE123', step=Timedelta('0 days 00:30:00'),
                    first_day=datetime.date(2024, 11, 1), last_day=datetime.date(2024, 11, 30),
                    producer=None)
        """
        name = Path(path).name
        match = _NAME.match(name)
        first, last = (_day(match[part]) if match else None for part in ("first", "last"))
        if match is None or first is None or last is None or last < first or not int(match["step"]):
            raise errors.FileFormatError(
                f"Key file name {name!r} is not valid: name it <operation>_<step minutes>_"
                "<ddmmyyyy first day>_<ddmmyyyy last day>.txt, with a step above 0 and real "
                "days, the last not before the first.",
                path=path,
            )
        step = pd.Timedelta(minutes=int(match["step"]))
        return cls(match["prefix"], step, first, last)


def _day(digits: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(digits, "%d%m%Y").date()
    except ValueError:
        return None


def read_dynamic_key(
    path: Readable,
    *,
    members: Iterable[str] | None = None,
    tz: str = PARIS,
    name: str | os.PathLike[str] | KeyFileName | None = None,
) -> pd.DataFrame:
    """Read a dynamic key file into fractions, checking it against its name.

    Parameters
    ----------
    path : path or file-like
        A file named ``<operation>_<step minutes>_<ddmmyyyy>_<ddmmyyyy>.txt``, or a
        buffer open for reading (``io.BytesIO``, ``io.StringIO``, an open file), read
        from where it stands.
    members : iterable of str, optional
        The operation's consumer PRMs: a PRM of the file outside them, or one of them
        missing from the file, is an error.
    tz : str
        The local time of the file.
    name : str, path or KeyFileName, optional
        The file name to check the content against (step, first and last day). By
        default the path's own name, or a buffer's ``name`` (an open file's path, an
        upload's file name); a buffer without a name is checked without one: its step is
        that of its first two rows, its days those of its rows.

    Returns
    -------
    pandas.DataFrame
        Steps x PRMs (in the file's order) fractions (50,81 -> 0.5081), indexed by the UTC
        start of each step (``freq`` = the step of the name). Ready for
        :class:`repartition.keys.Dynamic`.

    Raises
    ------
    repartition.errors.EncodingError
        Bytes that are not UTF-8 text (a Latin-1 file, UTF-16, a NUL byte...), naming the
        line and the byte offset.
    repartition.errors.FileFormatError
        A bad name; a header, row, time or number that does not follow the format
        (:class:`~repartition.errors.ColumnError` for header and field counts); digits
        other than ASCII ``0-9``; a step, first or last day that contradicts the name; a
        first step that does not start at 00:00 or a last one that does not end at 00:00
        local time (a key file covers whole days).
    repartition.errors.NonexistentTimeError
        A local time skipped by the spring change.
    repartition.errors.DuplicateTimestampError, repartition.errors.UnsortedTimestampError
        A step listed twice (beyond the autumn hour) or out of order.
    repartition.errors.CoefficientRangeError
        A negative value or one above 100 %.
    repartition.errors.CoefficientSumError
        A row above 100 %.
    repartition.errors.UnknownMemberError, repartition.errors.MissingMemberError
        PRMs that do not match ``members``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "OPE123_30_01112024_01112024.txt"
    >>> rows = [f"01/11/2024 {h:02d}:{m:02d};50,81;39,86" for h in range(24) for m in (0, 30)]
    >>> _ = path.write_text("\\n".join(["Horodate;PRM1;PRM2", *rows]) + "\\n")
    >>> read_dynamic_key(path).head(2)  # doctest: +NORMALIZE_WHITESPACE
                                 PRM1    PRM2
    timestamp
    2024-10-31 23:00:00+00:00  0.5081  0.3986
    2024-10-31 23:30:00+00:00  0.5081  0.3986

    From a buffer (an upload, say), with the name it came with:

    >>> import io
    >>> upload = io.BytesIO(path.read_bytes())
    >>> read_dynamic_key(upload, name="OPE123_30_01112024_01112024.txt").shape
    (48, 2)
    """
    tz = check_time_zone(tz)
    input = _files.source(path, "key file")
    key_name = _key_name(input, name)
    where = input.path
    prms, cells = text.read_table(input, HEADER, "PRM", members)
    naive = text.parse_local_times(cells[:, 0], where)
    index = localize(naive, tz, path=where, first_line=2)
    if key_name is None:  # a buffer without a name: its step and days are its content's
        if len(index) < 2:
            raise errors.ParameterError(
                f"{where} has a single row, so its step is not known: give the file's name "
                "(name='<operation>_<step minutes>_<first day>_<last day>.txt')."
            )
        step = pd.Timedelta(index[1] - index[0])
        days = (naive[0].date(), naive[-1].date())
    else:
        step, days = key_name.step, (key_name.first_day, key_name.last_day)
    text.check_steps(index, naive, step, where, tz, days=days)
    units = text.decimal_units(
        cells[:, 1:],
        2,
        100,
        path=where,
        members=prms,
        stamps=cells[:, 0],
        what="percent",
        instants=index.tz_convert(tz),
    )
    sums = units.sum(axis=1)
    if (sums > UNITS).any():
        bad = int(np.argmax(sums > UNITS))
        raise errors.CoefficientSumError(
            f"{where}, line {bad + 2} ({cells[bad, 0]}): the coefficients sum to "
            f"{sums[bad] // 100},{sums[bad] % 100:02d} %, above 100 %. Round them down so "
            "that each row sums to 100 % or less.",
            path=where,
            line=bad + 2,
            timestamp=index[bad].tz_convert(tz),
        )
    frame_index = pd.DatetimeIndex(index, freq=to_offset(step), name="timestamp")
    return pd.DataFrame(units / UNITS, index=frame_index, columns=pd.Index(prms))


def _key_name(
    input: _files.Input, name: str | os.PathLike[str] | KeyFileName | None
) -> KeyFileName | None:
    """The name a key file's content is checked against (see :func:`read_dynamic_key`)."""
    if isinstance(name, KeyFileName):
        return name
    if name is not None:
        return KeyFileName.parse(name)
    if input.file is not None:
        return KeyFileName.parse(input.file)
    if input.label.startswith("<"):  # a buffer without a name
        return None
    return KeyFileName.parse(input.label)


def read_full_dynamic_key(
    paths: Iterable[Readable] | Mapping[str, Readable],
    *,
    operation: str | None = None,
    members: Iterable[str] | None = None,
    tz: str = PARIS,
) -> dict[str, pd.DataFrame]:
    """Read the files of a full dynamic key: producer id -> table (see :func:`read_dynamic_key`).

    ``paths`` lists the files (paths, or buffers with a ``name``), or maps each producer
    id to its file or buffer. From a list, the producer is the part of each name between
    ``<operation>_`` and the step; without ``operation``, the last ``_``-separated part
    before the step. All files must belong to one operation, cover the same steps and
    name each producer once.
    """
    tz = check_time_zone(tz)
    members = None if members is None else list(members)
    tables: dict[str, pd.DataFrame] = {}
    first: tuple[str | None, object, pd.Index] | None = None  # operation, file, steps
    items = _producers(paths, operation)
    for found, producer, item in items:
        table = read_dynamic_key(item, members=members, tz=tz)
        label = item if isinstance(item, (str, os.PathLike)) else _files.buffer_name(item)
        first = first or (found, label, table.index)
        if producer in tables or found != first[0] or not table.index.equals(first[2]):
            raise errors.FileFormatError(
                f"{label}: producer {producer!r} is named twice, or the file is not of the "
                f"operation and period of {first[1]}. Pass one file per producer.",
                path=label,
                member=producer,
            )
        tables[producer] = table
    if not tables:
        raise errors.ParameterError("read_full_dynamic_key needs at least one file.")
    return tables


def _producers(
    paths: Iterable[Readable] | Mapping[str, Readable], operation: str | None
) -> list[tuple[str | None, str, Readable]]:
    """(operation, producer, file) for each file of a full dynamic key."""
    if isinstance(paths, Mapping):
        for producer in paths:
            if not isinstance(producer, str) or not PRODUCER.match(producer):
                raise errors.ParameterError(
                    f"Producer id {producer!r}: use letters, digits, '.' and '-' only.",
                    member=producer,
                )
        return [(operation, producer, item) for producer, item in paths.items()]
    one = isinstance(paths, (str, os.PathLike)) or _files.is_buffer(paths)
    listed: list[Any] = [paths] if one else list(paths)
    found_items: list[tuple[str | None, str, Readable]] = []
    for item in listed:
        if isinstance(item, (str, os.PathLike)):
            label = str(item)
        elif _files.is_buffer(item):
            label = _files.buffer_name(item)
            if label.startswith("<"):
                raise errors.ParameterError(
                    f"A buffer ({label}) has no name to take its producer from: pass a "
                    "mapping producer id -> buffer instead."
                )
        else:
            raise errors.ParameterTypeError(
                f"The key files must be paths or buffers, not {type(item).__name__}."
            )
        prefix = KeyFileName.parse(label).operation
        if operation is None:
            found, _, producer = prefix.rpartition("_")
        else:
            found, producer = operation, prefix.removeprefix(f"{operation}_")
        if not found or producer == prefix or not PRODUCER.match(producer):
            raise errors.FileFormatError(
                f"{label}: the name carries no producer after the operation id "
                "(<operation>_<producer>_<step>_<first day>_<last day>.txt).",
                path=item if isinstance(item, (str, os.PathLike)) else label,
            )
        found_items.append((found, producer, item))
    return found_items
