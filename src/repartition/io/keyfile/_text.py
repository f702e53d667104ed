"""Reading machinery shared by the two key-file formats (:mod:`repartition.io.keyfile`,
:mod:`repartition.io.spain`).

Lines and ``;``-separated rows, member ids, comma decimals (ASCII digits only) as whole
units, local times and their steps, each error naming the file, line, member and time.
Writing is in :mod:`._write`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from repartition import errors
from repartition.io._files import Input, read_text

_TIME = re.compile(r"^[0-9]{2}/[0-9]{2}/[0-9]{4} [0-9]{2}:[0-9]{2}$")


def read_lines(input: Input) -> list[str]:
    """The lines of a UTF-8 text file or buffer (a BOM is allowed), ``\r\n`` or ``\n``.

    The bytes are checked as text first (:func:`repartition.io._files.scan`: UTF-16, bytes
    that are not UTF-8, NUL and control bytes are an
    :class:`~repartition.errors.EncodingError` naming the line and byte offset). One
    final line ending is allowed; an empty file or an empty line is an error.
    """
    content = read_text(input)
    path = input.path
    lines = content.replace("\r\n", "\n").split("\n")
    if lines[-1] == "":
        lines.pop()
    if not lines:
        raise errors.FileFormatError(f"{path} is empty.", path=path)
    if "" in lines:
        line = lines.index("") + 1
        raise errors.FileFormatError(
            f"{path}, line {line} is empty. Remove empty lines.", path=path, line=line
        )
    return lines


def read_table(
    input: Input, first: str, role: str, members: Iterable[str] | None
) -> tuple[list[str], np.ndarray]:
    """A ``;``-separated table whose header is ``first;<id>;<id>...``: the ids, and the
    cells of the rows below (rows x (1 + ids), strings), every row of the header's width."""
    lines = read_lines(input)
    path = input.path
    header = lines[0].split(";")
    if header[0] != first or len(header) < 2:
        raise errors.ColumnError(
            f"{path}, line 1: the header must be '{first};<{role} 1>;<{role} 2>;...', not "
            f"{lines[0][:60]!r}.",
            path=path,
            line=1,
            column=header[0],
        )
    ids = header[1:]
    check_ids(ids, path, role)
    if members is not None:
        check_members(ids, members, path)
    if len(lines) == 1:
        raise errors.FileFormatError(
            f"{path}, line 1: a header but no row below it.", path=path, line=1
        )
    what = f"the header has {len(header)} ({first} and {len(ids)} {role}s)"
    return ids, split_rows(lines[1:], len(header), path, 2, what)


def split_rows(
    lines: list[str], width: int, path: object, first_line: int, what: str
) -> np.ndarray:
    """``;``-separated lines, each of ``width`` fields, as a (lines x width) string array."""
    counts = np.strings.count(np.array(lines, dtype=str), ";") + 1
    if (counts != width).any():
        row = int(np.argmax(counts != width))
        raise errors.ColumnError(
            f"{path}, line {first_line + row} ({lines[row][:40]}): {counts[row]} fields where "
            f"{what}.",
            path=path,
            line=first_line + row,
            timestamp=lines[row].split(";")[0],
        )
    return np.array(";".join(lines).split(";"), dtype=str).reshape(len(lines), width)


def check_ids(
    ids: Sequence[str], path: object, role: str, lines: Sequence[int] | None = None
) -> None:
    """Raise ColumnError for an empty id, one with spaces, or one listed twice."""
    seen: set[str] = set()
    for position, member in enumerate(ids):
        line = 1 if lines is None else lines[position]
        if not member or member != member.strip():
            raise errors.ColumnError(
                f"{path}, line {line}: {role} {member!r} is empty or has spaces around it.",
                path=path,
                line=line,
                member=member,
                column=member,
            )
        if member in seen and lines is None:
            raise errors.ColumnError(
                f"{path}, line {line}: {role} {member!r} appears twice in the header.",
                path=path,
                line=line,
                member=member,
                column=member,
            )
        seen.add(member)


def check_members(
    ids: Sequence[str], members: Iterable[str], path: object, lines: Sequence[int] | None = None
) -> None:
    """UnknownMemberError for an id outside ``members``; MissingMemberError for a member absent."""
    known = [str(member) for member in members]
    known_set, found = set(known), set(ids)
    for position, member in enumerate(ids):
        if member not in known_set:
            line = 1 if lines is None else lines[position]
            raise errors.UnknownMemberError(
                f"{path}, line {line}: {member!r} is not a member of the operation. Remove it "
                "from the file, or add it to the operation's members.",
                path=path,
                line=line,
                member=member,
                column=member,
            )
    for member in known:
        if member not in found:
            raise errors.MissingMemberError(
                f"{path} has no coefficient for {member!r}, a member of the operation. Give it "
                "its coefficients (0,00 for a member that receives nothing).",
                path=path,
                member=member,
                column=member,
            )


def decimal_units(
    cells: np.ndarray,
    decimals: int,
    largest: int,
    *,
    path: object,
    members: Sequence[str] | np.ndarray,
    stamps: np.ndarray,
    what: str,
    instants: pd.DatetimeIndex,
    lines: np.ndarray | None = None,
) -> np.ndarray:
    """Cells ``d+,dd`` (exactly ``decimals`` decimals, a comma) as integers of the last digit.

    ``"50,81"`` with two decimals is 5081. A malformed cell is a FileFormatError; a value
    below 0 or above ``largest`` a CoefficientRangeError, naming line, member and time
    (``stamps`` as the file writes it, ``instants`` for the error's ``timestamp``).
    ``cells`` is 2-D (rows x members) or 1-D (one member per row, ``members`` per row).
    """
    grid = np.atleast_2d(cells.T).T if cells.ndim == 1 else cells
    well_formed = ascii_match(grid, re.compile(rf"-?[0-9]+,[0-9]{{{decimals}}}"))
    values = np.strings.replace(np.where(well_formed, grid, "0,0"), ",", ".").astype(np.float64)
    outside = well_formed & ((values < 0) | (values > largest))
    for bad, problem in ((~well_formed, "format"), (outside, "range")):
        if bad.any():
            row, column = (int(i) for i in np.argwhere(bad)[0])
            member = members[row] if cells.ndim == 1 else members[column]
            line = int(lines[row]) if lines is not None else row + 2
            where = f"{path}, line {line}, {member} at {stamps[row]}"
            if problem == "format":
                example = "0," + "0" * (decimals - 1) + "5"
                raise errors.FileFormatError(
                    f"{where}: {str(grid[row, column])!r} is not a {what} written with the "
                    f"digits 0-9, a comma and exactly {decimals} decimals (e.g. {example}).",
                    path=path,
                    line=line,
                    member=member,
                    column=member,
                    timestamp=instants[row],
                )
            raise errors.CoefficientRangeError(
                f"{where}: {grid[row, column]} is outside [0, {largest}] {what}.",
                path=path,
                line=line,
                member=member,
                column=member,
                timestamp=instants[row],
            )
    units: np.ndarray = np.rint(values * 10**decimals).astype(np.int64)
    return units[:, 0] if cells.ndim == 1 else units


def ascii_match(cells: np.ndarray, pattern: re.Pattern[str]) -> np.ndarray:
    """Where each string cell matches ``pattern`` in full (a boolean array of the same shape).

    Patterns spell digits ``[0-9]``: ``str.isdecimal`` (and ``\\d``) would also take any
    Unicode digit (fullwidth, Arabic-Indic...), which the DSO's files never hold.
    """
    matches = [pattern.fullmatch(cell) is not None for cell in cells.ravel().tolist()]
    return np.array(matches, dtype=bool).reshape(cells.shape)


def parse_local_times(stamps: np.ndarray, path: object) -> pd.DatetimeIndex:
    """Naive ``dd/mm/yyyy HH:MM`` times of rows 2, 3, ...; a malformed one is an error."""
    malformed = [_TIME.match(stamp) is None for stamp in stamps]
    parsed = pd.to_datetime(pd.Series(stamps), format="%d/%m/%Y %H:%M", errors="coerce")
    bad = np.asarray(malformed) | parsed.isna().to_numpy()
    if bad.any():
        row = int(np.argmax(bad))
        raise errors.FileFormatError(
            f"{path}, line {row + 2}: {stamps[row]!r} is not a local time dd/mm/yyyy HH:MM "
            "(the start of the step, e.g. 01/11/2024 00:00).",
            path=path,
            line=row + 2,
            timestamp=stamps[row],
        )
    return pd.DatetimeIndex(parsed)


def partial_day(index: pd.DatetimeIndex, step: pd.Timedelta, tz: str) -> tuple[int, str] | None:
    """``None`` if the steps of ``index`` (their starts) cover whole days of local time
    ``tz``; otherwise the row of the first or last step, and what is wrong with it."""
    first = index[0].tz_convert(tz)
    if first != first.normalize():
        return 0, f"the first step starts at {first:%d/%m/%Y %H:%M}, not at 00:00"
    last = index[-1].tz_convert(tz)
    end = (index[-1] + step).tz_convert(tz)
    if end != end.normalize():
        return len(index) - 1, (
            f"the last step, {last:%d/%m/%Y %H:%M}, ends at {end:%d/%m/%Y %H:%M}, not at 00:00"
        )
    return None


def check_steps(
    index: pd.DatetimeIndex,
    naive: pd.DatetimeIndex,
    step: pd.Timedelta,
    path: object,
    tz: str,
    days: tuple[dt.date, dt.date],
) -> None:
    """Rows 2, 3, ... (UTC ``index``, local ``naive``) must follow each other by ``step``,
    from 00:00 on the first local day of ``days`` (as a file's name says) to 00:00 after
    the last."""
    last = len(naive) + 1
    for which, line, named in (("first", 2, days[0]), ("last", last, days[1])):
        if naive[line - 2].date() != named:
            raise errors.FileFormatError(
                f"{path}, line {line}: the {which} step is on {naive[line - 2]:%d/%m/%Y} but "
                f"the file name says {named:%d/%m/%Y}. Rename the file or fix its content.",
                path=path,
                line=line,
                timestamp=index[line - 2].tz_convert(tz),
            )
    differences = np.diff(index.asi8)
    wrong = np.flatnonzero(differences != step / pd.Timedelta(1, unit=index.unit))
    if not len(wrong):
        partial = partial_day(index, step, tz)
        if partial is not None:
            row, problem = partial
            raise errors.FileFormatError(
                f"{path}, line {row + 2}: {problem}. A key file covers whole local days, "
                "from 00:00 on its first day to 00:00 after its last (its last step ends at "
                "midnight): complete the file, or cut it at midnight and fix its name.",
                path=path,
                line=row + 2,
                timestamp=index[row].tz_convert(tz),
            )
        return
    row = int(wrong[0]) + 1
    found = pd.Timedelta(int(differences[row - 1]), unit=index.unit)
    where = f"{path}, line {row + 2} ({naive[row]:%d/%m/%Y %H:%M})"
    line, timestamp = row + 2, index[row].tz_convert(tz)
    if found == pd.Timedelta(0):
        raise errors.DuplicateTimestampError(
            f"{where}: the step is listed twice.", path=path, line=line, timestamp=timestamp
        )
    if found < pd.Timedelta(0):
        raise errors.UnsortedTimestampError(
            f"{where}: comes before the line above.", path=path, line=line, timestamp=timestamp
        )
    raise errors.StepLengthError(
        f"{where}: {found} after the line above, where the file name says {step} steps"
        + (" (missing steps?)." if found > step else "."),
        step=found,
        path=path,
        line=line,
        timestamp=timestamp,
    )
