"""Enedis load-curve CSV exports, read into energies per step [kWh].

The files are ``;``-separated, one line per PRM and step (docs/formats.md, "Enedis load curves")::

    Identifiant PRM;Date de début;Date de fin;Grandeur physique;Grandeur métier;Etape métier;
    Unité;Horodate;Valeur;Nature;Pas;Indice de vraisemblance;Etat complémentaire

``Valeur`` is the mean active power (``Grandeur physique`` = ``PA``) over the step ``Pas``
(``PT15M``, ``PT30M``, ``PT60M``...), in ``W`` or ``kW``, with a point or a comma as decimal
mark; ``Horodate`` is the END of the step in local time, either naive
(``2025-10-26 02:30:00``) or with its UTC offset (``2025-10-26T02:30:00+02:00``).
``Grandeur métier`` says whether the curve is drawn (``CONS``: a consumer) or injected
(``PROD``: a producer). ``Date de début`` and ``Date de fin`` give the period requested
from the DSO, so that steps missing at its edges are reported too. Only the columns PRM,
Grandeur physique, Grandeur métier, Unité, Horodate, Valeur and Pas are required; the
period columns are read when present, and the other columns are ignored.
Header names are matched ignoring case and accents (``Unite`` is ``Unité``).
Files may be UTF-8 (with or without a BOM) or Windows-1252/Latin-1.

Every error names the file, the line (1-based, header = line 1, blank lines counted), the
PRM and, as ``timestamp``, the ``Horodate`` as written (errors about one line) or the UTC
start of the step (errors between lines, such as conflicting values).

One file's lines are read in :mod:`._csv`, their times and the requested period in
:mod:`._times`; this module puts the parts of several files on one time axis.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from repartition import errors
from repartition.io import _files
from repartition.io._files import Readable
from repartition.io.enedis._csv import COLUMNS, NS_PER_MINUTE, Part, Source, read_file
from repartition.time import PARIS, check_time_zone

__all__ = ["COLUMNS", "LoadCurves", "read_load_curves"]

_ROLES = ("consumer", "producer")  # Grandeur métier CONS, PROD


@dataclass(frozen=True, repr=False)
class LoadCurves:
    """Load curves read from Enedis exports, as energy per step [kWh].

    Attributes
    ----------
    consumption, production : pandas.DataFrame
        CONS and PROD curves: one float64 column per PRM id (a string, sorted), on a
        regular tz-aware UTC ``DatetimeIndex`` of step starts shared by both tables,
        covering every step found in the files and every period requested (``Date de
        début`` to ``Date de fin``). NaN where a PRM has no value (no line, or an empty
        ``Valeur``): nothing is invented, and
        :func:`repartition.allocate` refuses NaN with a
        :class:`~repartition.errors.MissingValueError` naming the PRM and step. A table
        without PRM has no column. [kWh per step]
    step : pandas.Timedelta
        The step length (``Pas``).
    missing : pandas.DataFrame
        One row per hole: ``prm``, ``role`` (``consumer`` or ``producer``), ``first``
        and ``last`` (UTC starts of the first and last missing steps), ``steps`` (how
        many), and ``first_horodate`` and ``last_horodate``: the same steps as the export
        stamps them, their local END in ``tz`` (``2025-11-01 00:30:00+01:00`` for the
        step starting 2025-10-31 23:00 UTC). Empty when the curves are complete.
    sources : tuple of pathlib.Path or str
        The files read, in the order given (a buffer by its ``name``, or a label such as
        ``"<BytesIO>"``).
    tz : str
        The time zone used to read naive ``Horodate`` and to display the period.
    """

    consumption: pd.DataFrame
    production: pd.DataFrame
    step: pd.Timedelta
    missing: pd.DataFrame
    sources: tuple[Path | str, ...] = field(default=())
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
    paths: Readable | Iterable[Readable],
    *,
    tz: str = PARIS,
) -> LoadCurves:
    """Read Enedis load-curve CSV exports into energy per step [kWh].

    Parameters
    ----------
    paths
        One file or several (several PRMs per file, periods may overlap): paths
        (``str``, ``os.PathLike``) or buffers open for reading (``io.BytesIO``,
        ``io.StringIO``, an open file), read from where they stand. Errors name a buffer
        by its ``name`` (an open file's path), else as ``"<BytesIO>"``.
    tz
        The time zone of naive ``Horodate`` (and ``Date de début``, ``Date de fin``)
        values. In the repeated autumn hour a PRM's lines before the step back in time
        are summer time, those after it winter time (see Notes); ``Horodate`` with a UTC
        offset need no rule.

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
        Steps that do not line up (e.g. a PRM on the quarter past, another on the hour),
        or a requested period that does not start or end on a step boundary.
    repartition.errors.ConflictingValuesError
        One PRM and step given twice with different values (identical repetitions, as
        in overlapping exports, are merged; a value also wins over an empty one).
    repartition.errors.NonexistentTimeError
        A naive ``Horodate`` skipped by the spring DST change, or lines of the repeated
        autumn hour whose order cannot tell summer from winter time (a PRM's lines of
        that night never go back in time: half the hour or more is missing, the export
        starts or ends inside it, or the lines are out of order).
    repartition.errors.EncodingError
        Bytes that are not text: UTF-16 (Excel's "Unicode text"), a byte that is not
        valid UTF-8 in a UTF-8 file (or no character of Windows-1252 in such a file), a
        NUL or control byte; naming the line and the byte offset.
    repartition.errors.NegativeEnergyError
        A negative power.
    repartition.errors.FileFormatError
        An empty file, a truncated line, a column named twice
        (:class:`~repartition.errors.ColumnError`), an unknown ``Grandeur métier`` or
        ``Pas``, a PRM with characters other than letters, digits, ``.``, ``-``, ``_``, a
        number, timestamp or date that cannot be read, a ``Date de fin`` before the
        ``Date de début``, or dates so far apart that the tables would exceed 2**30
        values (a year mistyped).

    Notes
    -----
    energy [kWh] = ``Valeur`` [W] x step [min] / 60,000 (``Valeur`` [kW] x step [min] /
    60), computed in one rounding for integer watts; step start = ``Horodate`` - ``Pas``.
    Missing steps stay NaN: :attr:`LoadCurves.missing` lists them, and
    ``repartition.time.inspect_steps(curves.consumption[prm].dropna().index)`` gives one
    PRM's gaps as a :class:`~repartition.time.StepReport`. Supply the values, or choose a
    period without holes, before :func:`repartition.allocate`.

    The requested period runs from ``Date de début`` 00:00 to ``Date de fin`` 00:00 local
    time, ``Date de fin`` excluded (a whole day D is ``D;D+1``, the convention of Enedis
    exports, whose last ``Horodate`` is ``Date de fin`` 00:00); timestamps in these
    columns are taken as written. The time axis spans every requested period and every
    line, so steps missing at the edges of a period are in ``missing``; lines outside
    their period are kept. An empty period (``Date de fin`` = ``Date de début``) or
    empty cells request nothing.

    Naive ``Horodate`` are read per PRM in file order: the local time goes back only
    at the autumn change (e.g. from 02:30 to 02:00 in Paris, or from 02:00 to 02:00 at
    60 minutes), and a PRM's lines of the repeated hour before that step back are
    summer time, those after it winter time. So a line missing in that hour is a hole
    like any other (01:30, 02:00, 02:00, 02:30, 03:00 lacks 02:30 summer time), reported
    in ``missing``. Where the lines never go back in time that night (01:30, 02:00,
    02:30, 03:00: summer or winter time?), the order cannot tell and the file is
    refused rather than guessed. Any other step back in time starts a new run of lines,
    read the same way: an overlapping export appended to the file gives repeated steps,
    merged when equal. Exports with UTC offsets need none of this and are safer.

    The file's bytes are checked as text first. A file is UTF-8 (a byte-order mark is
    allowed) when its first non-ASCII bytes are valid UTF-8, and Windows-1252 when they
    are not; then any byte its encoding does not allow is an error, never a guess.

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
    tz = check_time_zone(tz)
    one = isinstance(paths, (str, os.PathLike)) or _files.is_buffer(paths)
    items: list[Any] = [paths] if one or not isinstance(paths, Iterable) else list(paths)
    if not items:
        raise errors.ParameterError("read_load_curves needs at least one file.")
    sources = [Source(_files.source(item, "export")) for item in items]
    parts = [read_file(source, tz) for source in sources]
    return _assemble(parts, sources, tz)


def _pas(step_ns: int) -> str:
    """A step length as Enedis writes it: ``PT30M``."""
    return f"PT{step_ns // NS_PER_MINUTE}M"


def _assemble(parts: list[Part], sources: list[Source], tz: str) -> LoadCurves:
    ids = pd.Index(sorted({p for part in parts for p in part.prms if p}), dtype=object)
    prm = np.concatenate([ids.get_indexer(pd.Index(part.prms))[part.prm] for part in parts])
    role, step, start, energy = (
        np.concatenate([getattr(part, name) for part in parts])
        for name in ("role", "step_ns", "start_ns", "energy")
    )
    file = np.concatenate([np.full(len(part.prm), k) for k, part in enumerate(parts)])
    row = np.concatenate([np.arange(len(part.prm)) for part in parts])
    lines = _Lines(sources, file, row, ids, prm, start, step, tz)
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
    first, stop = _span(parts, sources, first, int(start.max()) + step_ns, step_ns, tz)
    position = (start - first) // step_ns
    count = (stop - first) // step_ns
    _check_size(lines, count, len(ids), first, stop, tz)
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
        holes.append(_holes(values, ids[members], name, index, tz))
    return LoadCurves(
        consumption=tables[0],
        production=tables[1],
        step=pd.Timedelta(step_ns),
        missing=pd.concat(holes, ignore_index=True),
        sources=tuple(one.path for one in sources),
        tz=tz,
    )


_MAX_VALUES = 1 << 30
"""The most values (steps x PRMs) the tables may hold: 8 GiB of float64. A span of time
beyond it comes from a wrong date (a year 2225 for 2025), not from metered data."""


def _check_size(lines: _Lines, count: int, prms: int, first: int, stop: int, tz: str) -> None:
    if count * max(prms, 1) <= _MAX_VALUES:
        return
    span = [pd.Timestamp(instant, tz="UTC").tz_convert(tz) for instant in (first, stop)]
    early, late = int(np.argmin(lines.start)), int(np.argmax(lines.start))
    raise errors.FileFormatError(
        f"The curves span {span[0]:%Y-%m-%d %H:%M} to {span[1]:%Y-%m-%d %H:%M} ({tz}): "
        f"{count:,} steps x {prms:,} PRMs, more values than a table of metered data holds, so "
        f"a date is probably wrong. The earliest line is {lines.at(early)}, the latest "
        f"{lines.at(late)}; check them and the periods requested (Date de début, Date de fin).",
        **lines.culprit(late),
    )


def _span(
    parts: list[Part], sources: list[Source], first: int, stop: int, step_ns: int, tz: str
) -> tuple[int, int]:
    """The steps ``[first, stop)`` [ns] of the lines, widened to every requested period."""
    origin = first
    for part, source in zip(parts, sources, strict=True):
        for period in part.periods:
            bounds = [bound for bound in (period.start, period.end) if bound is not None]
            if any((bound - origin) % step_ns for bound in bounds):
                line = source.line(period.row)
                start = pd.Timestamp(origin, tz="UTC").tz_convert(tz)
                raise errors.IrregularStepError(
                    f"{source.path}, line {line} (PRM {period.member}): the period requested "
                    f"({period.text}) does not start and end on the {_pas(step_ns)} steps of "
                    f"the curves (the first starts at {start}). Check the period's time zone "
                    "and the curves' step.",
                    step=pd.Timedelta(step_ns),
                    member=period.member,
                    path=source.path,
                    line=line,
                )
            if period.start is not None:
                first = min(first, period.start)
            if period.end is not None:
                stop = max(stop, period.end)
    return first, stop


@dataclass
class _Lines:
    """Where each line of the concatenated files comes from, for messages."""

    sources: list[Source]
    file: np.ndarray
    row: np.ndarray
    ids: pd.Index
    prm: np.ndarray
    start: np.ndarray
    step: np.ndarray
    tz: str

    def at(self, i: int, detail: bool = True) -> str:
        source = self.sources[int(self.file[i])]
        where = f"{source.path}, line {source.line(int(self.row[i]))}"
        if not detail:
            return where
        return f"{where} (PRM {self.ids[self.prm[i]]}, {self.step_text(i)})"

    def step_text(self, i: int) -> str:
        """The step as the export shows it (its local end), with its UTC start beside."""
        end = pd.Timestamp(int(self.start[i]) + int(self.step[i]), tz="UTC").tz_convert(self.tz)
        return f"Horodate {end.isoformat()}, the step starting {self.when(i)} UTC"

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
            f"The PRM {culprit['member']} has two different values for one step "
            f"({lines.step_text(b)}): {energy[a]:.6g} kWh at {lines.at(a, detail=False)} and "
            f"{energy[b]:.6g} kWh at {lines.at(b, detail=False)}. Keep the right export and "
            "drop the other.",
            **culprit,
        )


def _holes(
    values: np.ndarray, members: pd.Index, role: str, index: pd.DatetimeIndex, tz: str
) -> pd.DataFrame:
    """Runs of NaN in each column of ``values``."""
    padded = np.zeros((values.shape[1], values.shape[0] + 2), dtype=np.int8)
    padded[:, 1:-1] = np.isnan(values).T
    change = np.diff(padded, axis=1)
    member, first = np.nonzero(change == 1)
    stop = np.nonzero(change == -1)[1]
    step = index.freq
    assert step is not None
    return pd.DataFrame(
        {
            "prm": pd.Series(members[member], dtype=object),
            "role": role,
            "first": index[first],
            "last": index[stop - 1],
            "steps": (stop - first).astype(np.int64),
            "first_horodate": (index[first] + step).tz_convert(tz),
            "last_horodate": (index[stop - 1] + step).tz_convert(tz),
        }
    )
