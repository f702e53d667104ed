"""Steps, local calendars and resampling.

Timestamps are stored in UTC and shown in local time. A French operation counts its
days and months in ``Europe/Paris``, where a day of 30-minute steps has 46 or 50 steps
at the DST changes; these helpers do that arithmetic once, correctly, for everyone.

- :func:`localize` turns local wall-clock times read from a file into UTC instants,
  resolving the repeated autumn hour by order of appearance and refusing the skipped
  spring hour.
- :func:`month_labels`, :func:`local_months` and :func:`local_days` group steps by
  local month or day.
- :func:`inspect_steps` reports gaps, duplicates and mixed step lengths without raising.
- :func:`resample` changes the step length while conserving energy.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pandas.tseries.frequencies import to_offset

from repartition import errors

__all__ = [
    "PARIS",
    "StepReport",
    "check_time_index",
    "check_time_zone",
    "inspect_steps",
    "local_days",
    "local_months",
    "localize",
    "month_labels",
    "resample",
    "select_month",
]

PARIS = "Europe/Paris"
"""The time zone in which French operations count their days and months."""


def check_time_zone(tz: object) -> str:
    """``tz`` if it names a time zone of the IANA database, else a
    :class:`~repartition.errors.TimeZoneError` saying what to give.

    Examples
    --------
    >>> check_time_zone("Europe/Paris")
    'Europe/Paris'
    """
    if isinstance(tz, str):
        try:
            pd.Timestamp("2000-01-01", tz=tz)
        except Exception:  # zoneinfo, pytz and dateutil each raise their own
            pass
        else:
            return tz
    raise errors.TimeZoneError(
        f"Unknown time zone {tz!r}: give an IANA name such as 'Europe/Paris' or 'UTC'."
    )


def localize(
    local: pd.DatetimeIndex | pd.Series,
    tz: str = PARIS,
    *,
    groups: pd.Series | np.ndarray | None = None,
    path: object = None,
    first_line: int = 2,
) -> pd.DatetimeIndex:
    """UTC instants of naive local wall-clock times, in the order a file lists them.

    In autumn one local hour happens twice (02:00 to 03:00 in Paris). Files written in
    local time list it twice, first in summer time then in winter time; so the first
    occurrence of an ambiguous wall-clock time (within its group) is taken as summer
    time and the second as winter time. An ambiguous time that appears only once in its
    group cannot be placed (the file left out its other occurrence, or starts or ends
    inside the repeated hour) and is an error, as is a time skipped in spring.

    Parameters
    ----------
    local
        Naive timestamps, in file order.
    tz
        The time zone the wall-clock times are in.
    groups
        Labels (e.g. the PRM of each line) within which times repeat independently; the
        order rule applies within each group.
    path, first_line
        Named in the error: the file, and the line number of ``local[0]`` (default 2,
        the line after a header).

    Returns
    -------
    pd.DatetimeIndex
        The same instants in UTC.

    Raises
    ------
    errors.NonexistentTimeError
        A wall-clock time that the spring change skips, or an ambiguous autumn time that
        appears once in its group; the error names the time, line and group
        (``member``).

    Examples
    --------
    >>> autumn = pd.DatetimeIndex(["2025-10-26 02:30", "2025-10-26 02:30", "2025-10-26 03:00"])
    >>> list(localize(autumn).strftime("%H:%M"))
    ['00:30', '01:30', '02:00']
    """
    tz = check_time_zone(tz)
    values = pd.DatetimeIndex(local)
    if values.tz is not None:
        return values.tz_convert("UTC")
    keys: list[object] = [values]
    if groups is not None:
        keys.insert(0, np.asarray(groups))
    occurrence = pd.Series(np.arange(len(values))).groupby(keys, sort=False).cumcount()
    summer = occurrence.to_numpy() == 0
    aware = values.tz_localize(tz, ambiguous=summer, nonexistent="NaT")
    missing = np.asarray(aware.isna()) & ~np.asarray(values.isna())
    if missing.any():
        row = int(np.flatnonzero(missing)[0])
        where = f" in {path}" if path is not None else ""
        raise errors.NonexistentTimeError(
            f"The local time {values[row]} ({tz}){where}, line {first_line + row}, does not "
            "exist: clocks skip that hour at the spring DST change. Check the file's time "
            "convention (start or end of step, local time or UTC).",
            timestamp=values[row],
            path=path,
            line=first_line + row,
        )
    # An ambiguous time must appear twice in its group (summer, then winter time).
    probe = values.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    rows = np.flatnonzero(np.asarray(probe.isna()) & ~np.asarray(values.isna()))
    labels = None if groups is None else np.asarray(groups)[rows]
    keys = [values[rows]] if labels is None else [labels, values[rows]]
    counts = pd.Series(rows).groupby(keys, sort=False).transform("size").to_numpy()
    once = np.flatnonzero(counts == 1)
    if len(once):
        row = int(rows[once[0]])
        member = None if labels is None else labels[once[0]]
        member = member.item() if isinstance(member, np.generic) else member
        where = f" in {path}" if path is not None else ""
        group = f" (group {member})" if labels is not None else ""
        raise errors.NonexistentTimeError(
            f"The local time {values[row]} ({tz}){where}, line {first_line + row}{group}, "
            "is ambiguous: clocks go back at the autumn DST change, so it happens twice "
            "(summer time, then winter time), but it appears only once, so summer time "
            "cannot be told from winter time (the other occurrence is missing, or the file "
            "starts or ends inside the repeated hour). Use timestamps with their UTC offset "
            "(e.g. an export with offsets, 2025-10-26T02:30:00+02:00), which need no rule.",
            timestamp=values[row],
            member=member,
            path=path,
            line=first_line + row,
        )
    return aware.tz_convert("UTC")


def month_labels(index: pd.DatetimeIndex, tz: str = PARIS) -> np.ndarray:
    """The local month (``"YYYY-MM"``) in which each step starts.

    Examples
    --------
    >>> steps = pd.DatetimeIndex(["2025-01-31 22:30", "2025-01-31 23:00"], tz="UTC")
    >>> list(month_labels(steps))
    ['2025-01', '2025-02']
    """
    tz = check_time_zone(tz)
    local = _aware(index).tz_convert(tz)
    return np.asarray(local.strftime("%Y-%m"), dtype=object)


def local_months(index: pd.DatetimeIndex, tz: str = PARIS) -> list[tuple[str, slice]]:
    """The steps of a sorted index grouped by local month, in time order.

    Returns
    -------
    list of (label, slice)
        ``label`` is ``"YYYY-MM"``; ``slice`` selects that month's steps by position.

    Examples
    --------
    >>> steps = pd.date_range("2025-01-31 22:00", periods=4, freq="30min", tz="UTC")
    >>> local_months(steps)
    [('2025-01', slice(0, 2, None)), ('2025-02', slice(2, 4, None))]
    """
    tz = check_time_zone(tz)
    return _runs(month_labels(index, tz))


def select_month(
    table: pd.DataFrame | pd.Series, month: str, tz: str = PARIS
) -> pd.DataFrame | pd.Series:
    """The rows of ``table`` whose step starts in the local month ``month`` (``"YYYY-MM"``).

    Raises
    ------
    errors.EmptyPeriodError
        No step of ``table`` starts in that month.

    Examples
    --------
    >>> steps = pd.date_range("2025-10-31 22:00", periods=4, freq="30min", tz="UTC")
    >>> select_month(pd.Series(range(4), index=steps), "2025-11").tolist()
    [2, 3]
    """
    assert isinstance(table.index, pd.DatetimeIndex)
    mask = month_labels(table.index, tz) == month
    if not mask.any():
        raise errors.EmptyPeriodError(
            f"No step starts in {month} ({tz}); the table runs from {table.index[0]} to "
            f"{table.index[-1]}.",
            timestamp=month,
        )
    selected: pd.DataFrame | pd.Series = table.loc[mask]
    return selected


def local_days(index: pd.DatetimeIndex, tz: str = PARIS) -> pd.Series:
    """The number of steps in each local day, indexed by the day (``datetime.date``).

    At 30 minutes a Paris day has 48 steps, 46 on the last Sunday of March and 50 on the
    last Sunday of October.

    Examples
    --------
    >>> steps = pd.date_range("2025-10-26", "2025-10-27", freq="30min", tz="Europe/Paris",
    ...                       inclusive="left")
    >>> local_days(steps).tolist()
    [50]
    """
    tz = check_time_zone(tz)
    local = _aware(index).tz_convert(tz)
    days = pd.Series(local.date, index=index)
    return days.groupby(days.to_numpy(), sort=False).size()


@dataclass(frozen=True)
class StepReport:
    """What :func:`inspect_steps` found on a time axis.

    Attributes
    ----------
    step
        The most common step length (``None`` with fewer than two timestamps).
    lengths
        Every distinct step length and how often it occurs; more than one row means
        gaps or mixed steps.
    gaps
        One row per hole: ``after`` (last timestamp before it), ``before`` (first after
        it) and ``missing`` (whole steps of length ``step`` that are absent).
    duplicates
        Timestamps that appear more than once.
    unsorted
        Timestamps that come earlier than the one before them.
    """

    step: pd.Timedelta | None
    lengths: pd.Series
    gaps: pd.DataFrame
    duplicates: pd.DatetimeIndex
    unsorted: pd.DatetimeIndex

    @property
    def is_regular(self) -> bool:
        """True when the axis is sorted, unique and has one step length."""
        return len(self.lengths) <= 1 and not len(self.duplicates) and not len(self.unsorted)

    @property
    def missing_steps(self) -> int:
        """The number of steps absent from the gaps."""
        return int(self.gaps["missing"].sum())


def inspect_steps(index: pd.DatetimeIndex) -> StepReport:
    """Report the gaps, duplicates, disorder and mixed step lengths of a time axis.

    Unlike :func:`repartition.allocate`, which refuses an irregular axis, this never
    raises on irregularity: it tells what is wrong, so that a data set can be repaired
    knowingly.

    Examples
    --------
    >>> steps = pd.DatetimeIndex(["2025-01-01 00:00", "2025-01-01 00:30", "2025-01-01 02:00"],
    ...                          tz="UTC")
    >>> report = inspect_steps(steps)
    >>> report.step, report.missing_steps
    (Timedelta('0 days 00:30:00'), 2)
    """
    index = _aware(index)
    instants = index.asi8
    differences = np.diff(instants)
    positive = differences[differences > 0]
    if len(positive):
        values, counts = np.unique(positive, return_counts=True)
        step_units = int(values[np.argmax(counts)])
        step: pd.Timedelta | None = pd.Timedelta(step_units, unit=index.unit)
        lengths = pd.Series(
            counts, index=pd.to_timedelta(values, unit=index.unit), name="count"
        ).rename_axis("length")
    else:
        step_units, step = 0, None
        lengths = pd.Series([], dtype=np.int64, name="count")
    after = np.flatnonzero(differences > step_units) if step_units else np.array([], int)
    gaps = pd.DataFrame(
        {
            "after": index[after],
            "before": index[after + 1],
            "missing": (differences[after] // step_units - 1) if step_units else [],
        }
    )
    return StepReport(
        step=step,
        lengths=lengths,
        gaps=gaps,
        duplicates=pd.DatetimeIndex(index[index.duplicated()].unique()),
        unsorted=index[1:][differences < 0],
    )


def resample(
    energy: pd.DataFrame | pd.Series,
    step: str | pd.Timedelta,
    *,
    method: Literal["uniform"] | None = None,
    profile: pd.DataFrame | pd.Series | None = None,
) -> pd.DataFrame | pd.Series:
    """Change the step length of an energy table, conserving energy exactly per period.

    Coarsening (e.g. 15 to 60 minutes) sums the energies of the fine steps inside each
    coarse step; every coarse step must be complete (a partial first or last hour is an
    error, never a silently smaller value). Refining (e.g. 60 to 30 minutes) has no
    single right answer, so it needs an explicit choice:

    - ``method="uniform"``: each coarse energy is split equally among its fine steps
      (a constant mean power over the coarse step);
    - ``profile=``: each coarse energy is split in proportion to a non-negative table on
      the fine steps (for example a typical load curve); where the profile is zero over
      a whole coarse step, the split is uniform.

    Parameters
    ----------
    energy
        Energy per step [kWh per step] on a regular, tz-aware index of step starts.
    step
        The new step length (``"15min"``, ``"30min"``, ``"60min"``...). Must divide, or
        be a multiple of, the current step.
    method, profile
        How to refine; ignored (and must be unset) when coarsening.

    Returns
    -------
    pd.DataFrame or pd.Series
        Energy per new step [kWh per step]; the total of every column is unchanged.

    Examples
    --------
    >>> hours = pd.date_range("2025-06-01", periods=2, freq="60min", tz="UTC")
    >>> hourly = pd.Series([1.0, 3.0], index=hours)
    >>> resample(hourly, "30min", method="uniform").tolist()
    [0.5, 0.5, 1.5, 1.5]
    >>> resample(resample(hourly, "30min", method="uniform"), "60min").tolist()
    [1.0, 3.0]
    """
    target = pd.Timedelta(step)
    current = check_time_index(energy.index, "energy")
    if current is None:
        raise errors.IrregularStepError(
            "A single step without a `freq` has no known length; set the index's freq."
        )
    if target == current:
        return energy.copy()
    if target > current:
        if method is not None or profile is not None:
            raise errors.ParameterError("method and profile only apply when refining the step.")
        return _coarsen(energy, current, target)
    return _refine(energy, current, target, method, profile)


def _coarsen(
    energy: pd.DataFrame | pd.Series, current: pd.Timedelta, target: pd.Timedelta
) -> pd.DataFrame | pd.Series:
    ratio = _ratio(target, current)
    index = energy.index
    assert isinstance(index, pd.DatetimeIndex)
    # Floor in UTC: a local floor fails inside the repeated autumn hour, and every
    # supported step divides an hour, which every time zone offset here is a multiple of.
    origin = index[0].tz_convert("UTC").floor(target)
    if index[0] != origin:
        raise errors.IrregularStepError(
            f"The first step, {index[0]}, does not start a {target} step; coarsening would "
            f"leave the {target} step starting at {origin} incomplete. Drop the leading "
            "partial steps.",
            timestamp=index[0],
            step=target,
        )
    if len(index) % ratio:
        row = len(index) - len(index) % ratio
        raise errors.IrregularStepError(
            f"The last {target} step, from {index[row]}, is incomplete ({len(index) % ratio} "
            f"of {ratio} steps). Drop the trailing partial steps.",
            timestamp=index[row],
            step=target,
        )
    values = energy.to_numpy(dtype=np.float64)
    shape = (len(index) // ratio, ratio, *values.shape[1:])
    coarse = values.reshape(shape).sum(axis=1)
    new_index = pd.DatetimeIndex(index[::ratio], freq=to_offset(target))
    if isinstance(energy, pd.Series):
        return pd.Series(coarse, index=new_index, name=energy.name)
    return pd.DataFrame(coarse, index=new_index, columns=energy.columns)


def _refine(
    energy: pd.DataFrame | pd.Series,
    current: pd.Timedelta,
    target: pd.Timedelta,
    method: str | None,
    profile: pd.DataFrame | pd.Series | None,
) -> pd.DataFrame | pd.Series:
    ratio = _ratio(current, target)
    if (method is None) == (profile is None):
        raise errors.ParameterError(
            "Refining a step needs exactly one explicit method: method='uniform' (equal "
            "parts) or profile=<table on the fine steps> (proportional parts)."
        )
    if method is not None and method != "uniform":
        raise errors.ParameterError(
            f"Unknown refining method {method!r}; use 'uniform' or profile=."
        )
    index = energy.index
    assert isinstance(index, pd.DatetimeIndex)
    offsets = np.arange(ratio) * (target.value // _unit_ns(index))
    instants = (index.asi8[:, None] + offsets).ravel()
    fine_index = pd.DatetimeIndex(
        pd.to_datetime(instants, unit=index.unit, utc=True).tz_convert(index.tz),
        freq=to_offset(target),
    )
    values = energy.to_numpy(dtype=np.float64)
    if profile is None:
        weights = np.full((len(index), ratio, *values.shape[1:]), 1.0 / ratio)
    else:
        weights = _profile_weights(profile, energy, fine_index, ratio)
    fine = (values[:, None, ...] * weights).reshape(len(fine_index), *values.shape[1:])
    if isinstance(energy, pd.Series):
        return pd.Series(fine, index=fine_index, name=energy.name)
    return pd.DataFrame(fine, index=fine_index, columns=energy.columns)


def _profile_weights(
    profile: pd.DataFrame | pd.Series,
    energy: pd.DataFrame | pd.Series,
    fine_index: pd.DatetimeIndex,
    ratio: int,
) -> np.ndarray:
    if isinstance(energy, pd.DataFrame):
        if isinstance(profile, pd.Series):
            profile = pd.DataFrame({column: profile for column in energy.columns})
        missing: list[Hashable] = [c for c in energy.columns if c not in profile.columns]
        if missing:
            raise errors.MissingMemberError(
                f"The profile has no column for {missing[0]!r}.", member=missing[0]
            )
        profile = profile[energy.columns]
    try:
        aligned = profile.reindex(fine_index)
    except ValueError as error:
        raise errors.IndexMismatchError(f"The profile cannot be aligned: {error}") from error
    shape = (len(energy), ratio, *energy.shape[1:])
    weights = aligned.to_numpy(dtype=np.float64).reshape(shape)
    if np.isnan(weights).any():
        row = int(
            np.flatnonzero(np.isnan(aligned.to_numpy()).reshape(len(aligned), -1).any(axis=1))[0]
        )
        raise errors.MissingValueError(
            f"The profile has no value for the fine step {fine_index[row]}.",
            timestamp=fine_index[row],
        )
    if (weights < 0).any() or not np.isfinite(weights).all():
        raise errors.NegativeEnergyError("The profile must be finite and non-negative.")
    totals = weights.sum(axis=1, keepdims=True)
    uniform = np.full_like(weights, 1.0 / ratio)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, weights / totals, uniform)


def _ratio(longer: pd.Timedelta, shorter: pd.Timedelta) -> int:
    ratio, remainder = divmod(longer.value, shorter.value)
    if remainder:
        raise errors.IrregularStepError(
            f"A {longer} step is not a whole number of {shorter} steps.", step=longer
        )
    return int(ratio)


def _unit_ns(index: pd.DatetimeIndex) -> int:
    return int(pd.Timedelta(1, unit=index.unit).value)


def _aware(index: pd.Index) -> pd.DatetimeIndex:
    if not isinstance(index, pd.DatetimeIndex):
        raise errors.TimeIndexError(f"Expected a DatetimeIndex, not {type(index).__name__}.")
    if index.tz is None:
        raise errors.NaiveTimestampError(
            "Timestamps have no time zone; localise them first (see repartition.time.localize).",
            timestamp=index[0] if len(index) else None,
        )
    return index


def _runs(labels: np.ndarray) -> list[tuple[str, slice]]:
    if len(labels) == 0:
        return []
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    ends = np.r_[starts[1:], len(labels)]
    return [(str(labels[s]), slice(int(s), int(e))) for s, e in zip(starts, ends, strict=True)]


def check_time_index(index: pd.Index, table: str, *, regular: bool = True) -> pd.Timedelta | None:
    """Check a table's time axis: the one check of every time axis the package reads.

    ``index`` must be a tz-aware ``DatetimeIndex`` of step starts without NaT or duplicates;
    with ``regular`` (the default, for energies) it must also be non-empty, sorted and on
    steps of one length. Tables matched to the energies by timestamp (key coefficients,
    prices) pass ``regular=False``.

    Parameters
    ----------
    index : pandas.Index
        The table's index.
    table : str
        What the table is, as the error messages name it (e.g. ``"consumption"``).
    regular : bool, default True
        Also require a non-empty, sorted index on regular steps.

    Returns
    -------
    pandas.Timedelta or None
        The step length (``None`` for a single step without a ``freq``, or when not
        ``regular``).

    Raises
    ------
    repartition.errors.TimeIndexError
        Or a subclass (naive, duplicated, unsorted, irregular, empty), naming the timestamp
        at fault.
    """
    if not isinstance(index, pd.DatetimeIndex):
        raise errors.TimeIndexError(
            f"{table} must have a DatetimeIndex (the start of each step), not "
            f"{type(index).__name__}. Use `frame.set_index(pd.to_datetime(...))`."
        )
    if regular and len(index) == 0:
        raise errors.EmptyPeriodError(f"{table} has no step: the period is empty.")
    if index.tz is None:
        raise errors.NaiveTimestampError(
            f"{table} has timestamps without a time zone, so days with a DST change are "
            "ambiguous. Localise them, e.g. `frame.tz_localize('Europe/Paris', "
            "ambiguous='infer')`, or `tz_localize('UTC')` if they are UTC.",
            timestamp=index[0] if len(index) else None,
        )
    if index.hasnans:
        row = int(np.flatnonzero(index.isna())[0])
        raise errors.TimeIndexError(
            f"{table} has a missing timestamp (NaT) at row {row}. Every step needs its start "
            "time: fix or drop that row.",
            timestamp=row,
        )
    if not regular:
        if index.has_duplicates:
            twice = index[index.duplicated()][0]
            raise errors.DuplicateTimestampError(
                f"{table} have the step {twice} twice: give one row per step.", timestamp=twice
            )
        return None
    instants = index.asi8
    differences = np.diff(instants)
    if len(differences) and (differences <= 0).any():
        row = int(np.argmax(differences <= 0)) + 1
        if differences[row - 1] == 0:
            raise errors.DuplicateTimestampError(
                f"{table} has the timestamp {index[row]} twice. Keep one row per step "
                "(`frame[~frame.index.duplicated()]` after checking which value is right).",
                timestamp=index[row],
            )
        raise errors.UnsortedTimestampError(
            f"{table} is not sorted in time: {index[row]} comes after {index[row - 1]}. "
            "Use `frame.sort_index()`.",
            timestamp=index[row],
        )
    if len(differences) == 0:
        return (
            pd.Timedelta(index.freq.nanos, unit="ns")
            if isinstance(index.freq, pd.offsets.Tick)
            else None
        )
    # The expected step: the index's own freq if it has a fixed length, else the most
    # common difference (a gap right after the first step must not set the step).
    if isinstance(index.freq, pd.offsets.Tick):
        step = pd.Timedelta(index.freq.nanos, unit="ns")
        step_units = int(step / pd.Timedelta(1, unit=index.unit))
    else:
        lengths, counts = np.unique(differences, return_counts=True)
        step_units = int(lengths[np.argmax(counts)])
        step = pd.Timedelta(step_units, unit=index.unit)
    irregular = np.flatnonzero(differences != step_units)
    if len(irregular):
        row = int(irregular[0]) + 1
        found = index[row] - index[row - 1]
        raise errors.IrregularStepError(
            f"{table} is not on regular steps: {index[row - 1]} is followed by {index[row]} "
            f"({found}) where steps of {step} were expected. Missing steps are never "
            "invented: supply them, or split the period. Resample first if steps are mixed.",
            timestamp=index[row],
            step=step,
        )
    return step
