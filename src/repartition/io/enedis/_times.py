"""Times of an Enedis load-curve file: ``Horodate`` and the requested period.

Naive local ``Horodate`` repeat in the autumn hour; :func:`end_times` tells summer from
winter time by the order of each PRM's lines (see :func:`summer_time`). ``Date de début`` and
``Date de fin`` give the period requested from the DSO (:func:`periods`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from repartition import errors

if TYPE_CHECKING:
    from repartition.io.enedis._csv import Source

_OFFSET = r"(Z|[+-]\d\d:?\d\d)$"
_ISO = re.compile(r"\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?(Z|[+-]\d\d:?\d\d)?")
_DAY_NS = 86_400 * 1_000_000_000
_FIX_TIME = "Write it as ISO 8601, e.g. 2025-01-01 00:30:00 or 2025-01-01T00:30:00+01:00."
_BOUNDS = {"period_start": "Date de début", "period_end": "Date de fin"}


def codes(table: pa.Table, name: str) -> tuple[np.ndarray, list[str]]:
    """Per-line codes of a dictionary column and its stripped values; empty cells are ''."""
    values = table.column(name).to_pandas()
    categories = [str(c).strip() for c in values.cat.categories]
    code = values.cat.codes.to_numpy(np.int64)
    return np.where(code < 0, len(categories), code), [*categories, ""]


def culprit(table: pa.Table, row: int) -> dict[str, Any]:
    """The PRM and ``Horodate`` (as written) of data row ``row``, for an error."""
    return {"member": table["prm"][row].as_py(), "timestamp": table["end"][row].as_py()}


# ------------------------------------------------------------------------------------------
# Horodate
# ------------------------------------------------------------------------------------------


def end_times(source: Source, table: pa.Table, groups: np.ndarray, tz: str) -> np.ndarray:
    """UTC ends of the steps [ns since the epoch] from ``Horodate``.

    ``groups`` labels each line's curve (PRM and role): naive times repeat per curve.
    """
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
            **culprit(table, row),
        )
    try:
        parsed = pc.cast(text, pa.timestamp("ns", tz="UTC" if aware else None))
    except pa.ArrowInvalid:
        strings = text.to_pandas()
        row = _first_unreadable(strings, aware)
        text_ = f"cannot read the Horodate {strings.iloc[row]!r}. {_FIX_TIME}"
        source.fail(errors.FileFormatError, row, text_, **culprit(table, row))
    ns = np.asarray(pc.cast(parsed, pa.int64()).to_numpy(zero_copy_only=False), np.int64)
    if aware:
        return ns
    naive = pd.DatetimeIndex(ns.view("datetime64[ns]"))
    skipped = np.asarray(naive.tz_localize(tz, ambiguous=True, nonexistent="NaT").isna())
    if skipped.any():
        row = int(np.argmax(skipped))
        text_ = _NONEXISTENT.format(time=naive[row], tz=tz)
        source.fail(errors.NonexistentTimeError, row, text_, **culprit(table, row))
    probe = naive.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    ambiguous = np.asarray(probe.isna())
    if not ambiguous.any():
        return np.asarray(probe.as_unit("ns").asi8)
    summer = summer_time(groups, ns, ambiguous)
    unknown = ambiguous & (summer < 0)
    if unknown.any():
        row = int(np.argmax(unknown))
        text_ = _AMBIGUOUS.format(time=naive[row], tz=tz)
        source.fail(errors.NonexistentTimeError, row, text_, **culprit(table, row))
    utc = naive.tz_localize(tz, ambiguous=summer == 1, nonexistent="NaT")
    return np.asarray(utc.as_unit("ns").asi8)


def _first_unreadable(strings: pd.Series, aware: bool) -> int:
    """The row of the first Horodate Arrow could not read (0 if pandas reads them all)."""
    try:
        bad = pd.to_datetime(strings, format="ISO8601", errors="coerce", utc=aware).isna()
        return int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
    except ValueError:
        # Mixed offsets in a file of local times ("03:30:0+0"): look string by string.
        for row, string in enumerate(strings):
            try:
                stamp = pd.Timestamp(string)
            except ValueError:
                return row
            if (stamp.tzinfo is not None) != aware:
                return row
        return 0


_NONEXISTENT = (
    "the local time {time} does not exist in {tz}: clocks skip that hour at the spring DST "
    "change. Horodate is the END of the step in local time; check the export's time "
    "convention, or export with UTC offsets."
)
_AMBIGUOUS = (
    "the local time {time} is ambiguous in {tz}: clocks go back at the autumn DST change, "
    "so it happens twice (summer time, then winter time), and this PRM's lines of that "
    "night, in file order, never go back in time, so the order cannot tell whether this "
    "line is summer or winter time. The export left out the rest of the repeated hour, "
    "starts or ends inside it, or its lines are not in time order (a line of that hour "
    "repeated, an export appended). Export the curves with UTC offsets (e.g. "
    "2025-10-26T02:30:00+02:00), which need no rule."
)


def summer_time(groups: np.ndarray, naive: np.ndarray, ambiguous: np.ndarray) -> np.ndarray:
    """Which lines of the repeated autumn hour are summer time, by the order of the file.

    A naive export lists each curve in time order, so within a curve the local time only
    goes back at the autumn change, from a time of the repeated hour to an earlier (or
    the same) one of that hour, once per night: the *fold*. Any other step back (or
    repeat) starts a new run of lines: an overlapping export appended to the file, or
    lines out of order. Within a run, the lines of the repeated hour before the fold are
    summer time and those after it winter time, whichever lines are missing (02:00,
    02:30, 02:00, 03:00 lacks 02:30 winter time; 02:00, 02:00, 02:30 lacks 02:30 summer
    time). A run with lines of the repeated hour but no fold that night cannot be placed
    (summer time could end anywhere among them): those lines are unknown. Repeated steps
    of different runs are merged (or refused if they differ) like any other repeated
    step.

    Parameters
    ----------
    groups
        The curve of each line (integer codes).
    naive
        Naive local ``Horodate`` [ns], in file order.
    ambiguous
        Whether each local time occurs twice (the repeated autumn hour).

    Returns
    -------
    numpy.ndarray
        Per line, 1 for summer time, 0 for winter time, -1 where the order cannot tell
        (and for the lines outside the repeated hour, which need no rule).
    """
    order = np.argsort(groups, kind="stable")
    g, t, a = groups[order], naive[order], ambiguous[order]
    night = t // _DAY_NS
    new = np.ones(len(g), dtype=bool)
    new[1:] = g[1:] != g[:-1]
    back = np.flatnonzero(~new[1:] & (t[1:] <= t[:-1])) + 1
    fold_at: list[int] = []
    if len(back):
        fold = a[back] & a[back - 1] & (night[back] == night[back - 1])
        current, folded = None, set[int]()  # the nights already folded in this run
        for i, curve, is_fold in zip(back.tolist(), g[back].tolist(), fold.tolist(), strict=True):
            if curve != current:
                current, folded = curve, set[int]()
            if is_fold and int(night[i]) not in folded:
                folded.add(int(night[i]))
                fold_at.append(i)
            else:
                new[i] = True
                folded = set[int]()
    run = np.cumsum(new)
    # An ambiguous line is summer time if it comes before the fold of its run and night,
    # winter time after it, unknown without one (a few lines per curve and night).
    key = (run.astype(np.int64) << 20) + (night - night.min())
    fold_line = dict(zip(key[fold_at].tolist(), fold_at, strict=True))
    lines = np.flatnonzero(a)
    fold = np.array([fold_line.get(k, -1) for k in key[lines].tolist()], dtype=np.int64)
    sorted_summer = np.full(len(g), -1, dtype=np.int64)
    sorted_summer[lines] = np.where(fold < 0, -1, (lines < fold).astype(np.int64))
    summer = np.empty(len(g), dtype=np.int64)
    summer[order] = sorted_summer
    return summer


# ------------------------------------------------------------------------------------------
# Date de début, Date de fin
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A period requested from the DSO, as UTC instants [ns]; ``None`` where not given.

    ``end`` is exclusive: a date ``2025-01-02`` ends the period at 00:00 local time.
    """

    start: int | None
    end: int | None
    row: int
    text: str
    member: str


def periods(source: Source, table: pa.Table, tz: str) -> list[Period]:
    """The distinct non-empty periods of a file (``Date de début``, ``Date de fin``).

    A date is 00:00 local time that day (``Date de fin`` is exclusive: the period of a
    whole day ``2025-01-01`` is ``2025-01-01;2025-01-02``); an ISO 8601 timestamp (naive:
    local time, or with its UTC offset) is that instant. An empty period (``Date de
    fin`` = ``Date de début``) asks for nothing; an empty cell leaves that side open.
    """
    code: dict[str, np.ndarray] = {}
    written: dict[str, list[str]] = {}
    value: dict[str, list[int | None]] = {}
    for name in _BOUNDS:
        if name in table.column_names:
            code[name], written[name] = codes(table, name)
        else:
            code[name], written[name] = np.zeros(table.num_rows, dtype=np.int64), [""]
        value[name] = [
            _instant(source, table, name, text, np.flatnonzero(code[name] == k), tz)
            for k, text in enumerate(written[name])
        ]
    width = len(written["period_end"])
    pairs, rows = np.unique(code["period_start"] * width + code["period_end"], return_index=True)
    found = []
    for pair, row in zip(pairs.tolist(), rows.tolist(), strict=True):
        first, last = divmod(pair, width)
        start, end = value["period_start"][first], value["period_end"][last]
        if start == end:  # both empty, or an empty period
            continue
        text = (
            f"Date de début {written['period_start'][first] or '(empty)'}, "
            f"Date de fin {written['period_end'][last] or '(empty)'}"
        )
        if start is not None and end is not None and end < start:
            source.fail(
                errors.FileFormatError,
                row,
                f"the period requested ends before it starts ({text}). Date de fin is the "
                "day after the last day requested; export the curves again.",
                **culprit(table, row),
            )
        found.append(Period(start, end, row, text, table["prm"][row].as_py()))
    return found


def _instant(
    source: Source, table: pa.Table, name: str, text: str, rows: np.ndarray, tz: str
) -> int | None:
    """A ``Date de début`` or ``Date de fin`` (on ``rows``) as a UTC instant [ns]."""
    if not text or not len(rows):
        return None
    try:
        if not _ISO.fullmatch(text):
            raise ValueError(text)
        stamp = pd.Timestamp(text)
        if stamp.tz is None:  # the first instant of that local time (a day's start)
            stamp = stamp.tz_localize(tz, ambiguous=True, nonexistent="shift_forward")
        return int(stamp.tz_convert("UTC").as_unit("ns").value)
    except (ValueError, OverflowError):  # pandas' OutOfBoundsDatetime is a ValueError
        row = int(rows[0])
        source.fail(
            errors.FileFormatError,
            row,
            f"cannot read the {_BOUNDS[name]} {text!r}: expected a date such as 2025-01-01 "
            "(00:00 local time that day) or an ISO 8601 timestamp, from 1678 to 2261.",
            **culprit(table, row),
        )
