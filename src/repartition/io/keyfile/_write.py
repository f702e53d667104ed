"""Writing machinery of the two key-file formats (:mod:`repartition.io.keyfile`,
:mod:`repartition.io.spain`).

The checks of a steps x members table of coefficients (:func:`checked_key`), atomic text
output of one file or of several all or nothing (:func:`write_text`, :func:`write_texts`),
and the rounding of a dynamic key to the hundredths of a percent of its file, in two ways
(:func:`repartition.io.keyfile.write_dynamic_key`'s ``rounding``):

- ``"down"`` (the format's rule, docs/formats.md, "Dynamic key file"): every coefficient
  rounded down (:func:`round_down_units`, the rule of :mod:`.rounding`). A row never sums
  above 100 %, and each consumer can lose up to ``1e-4 * P_tot`` per step.
- ``"recover"``: after rounding down, each consumer that the exact key *saturates* under
  the DSO's rule ``A = min(C, k * P_tot)`` (it receives its whole consumption) gets back the
  smallest coefficient that still saturates it, while the row stays at or below 100 %
  (:func:`recover_saturated`). Each consumer's share depends on its own coefficient only,
  so this raises no one's share above the exact key's and lowers nobody's: it only
  removes loss.

The energy lost is computed by applying both keys with the DSO's rule (:func:`energy_lost`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from repartition import errors
from repartition._align import check_sums
from repartition._atomic import atomic_file, atomic_files
from repartition._inputs import check_time_index, is_number
from repartition.allocation import Allocation
from repartition.engine import allocate
from repartition.io._files import write_blocks
from repartition.io.keyfile.rounding import UNITS, floor_units
from repartition.keys import SharingKey

SATURATION_TOLERANCE = 1e-9
"""The exact key saturates a consumer where ``k * P_tot >= C * (1 - 1e-9)``: the relative
floating-point noise that ``k = A / P_tot`` (:func:`repartition.to_key.to_dynamic_key`)
leaves on ``k * P_tot`` for a consumer that receives ``A = C``."""

ROUNDINGS = ("down", "recover")


def round_down_units(values: np.ndarray, index: pd.Index) -> np.ndarray:
    """The hundredths of a percent of the file, rounded down (:func:`.rounding.floor_units`),
    as int64; a row above 100 % is a bug (see ``round_down_key`` for the bound)."""
    units = floor_units(values, UNITS).astype(np.int64)
    _check_rows(units, index, "Rounding down")
    return units


def _check_rows(units: np.ndarray, index: pd.Index, what: str) -> None:
    sums = units.sum(axis=1)
    if (sums > UNITS).any():  # unreachable (round_down_key's bound; recover checks the room)
        row = int(np.argmax(sums > UNITS))
        raise errors.CoefficientSumError(
            f"{what} left a row above 100 % at {index[row]}: please report this bug.",
            timestamp=index[row],
        )


def check_rounding(rounding: object, data: bool) -> None:
    """ValueError for an unknown mode; TypeError for ``"recover"`` without the data."""
    if rounding not in ROUNDINGS:
        raise errors.ParameterError(f"rounding must be 'down' or 'recover', not {rounding!r}.")
    if rounding == "recover" and not data:
        raise errors.ParameterTypeError(
            "rounding='recover' needs consumption and production: which consumers the key "
            "saturates depends on them. Give both, or use rounding='down'."
        )


def exact_allocation(
    consumption: pd.DataFrame | None,
    production: pd.DataFrame | pd.Series | None,
    exact: SharingKey,
    steps: pd.DatetimeIndex,
) -> Allocation | None:
    """The allocation under the exact key, on exactly the key's ``steps`` (UTC); ``None``
    without data; TypeError when only one table is given."""
    if consumption is None and production is None:
        return None
    if consumption is None or production is None:
        raise errors.ParameterTypeError(
            "Give both consumption and production to compute the energy lost."
        )
    index = consumption.index if isinstance(consumption, pd.DataFrame) else None
    if isinstance(index, pd.DatetimeIndex) and index.tz is not None:
        data_steps = index.tz_convert("UTC")
        if not data_steps.equals(steps):
            differ = data_steps.symmetric_difference(steps)
            first = differ[0] if len(differ) else data_steps[0]
            raise errors.IndexMismatchError(
                f"The consumption covers {len(data_steps)} steps, the key {len(steps)} (first "
                f"step in one and not in the other: {first.tz_convert(index.tz)}). Give the "
                "consumption and production on the key's steps, so that the energy lost is "
                "counted on every step of the file.",
                timestamp=first.tz_convert(index.tz),
            )
    return allocate(consumption, production, exact)  # checks the rest


def recover_saturated(
    units: np.ndarray, values: np.ndarray, allocation: Allocation, columns: pd.Index
) -> np.ndarray:
    """Rounded-down ``units`` raised for the consumers the exact key saturates.

    For each step with ``P_tot > 0`` and each consumer ``i`` with ``k * P_tot >= C * (1 -
    SATURATION_TOLERANCE)``: ``need`` is the smallest whole number of hundredths of a
    percent ``u`` with ``(u / UNITS) * P_tot >= C``, checked with that very floating-point
    expression (the DSO's rule takes ``min(C, k * P_tot)``), starting from
    ``ceil(C / P_tot * UNITS)``. Its coefficient becomes ``max(units, need)`` if ``need <=
    UNITS`` and the row stays at or below ``UNITS``. When the room left by the rounding is
    too small for every such consumer, they are served by decreasing recovery (``C`` minus
    their share under the rounded-down key), ties in column order, each only if its whole
    increase fits.
    """
    consumption = allocation.consumption[columns].to_numpy(dtype=np.float64)
    total = allocation.arrays.production_total()
    produced = total > 0.0
    production_total = np.where(produced, total, 1.0)[:, None]
    saturated = produced[:, None] & (
        values * production_total >= consumption * (1.0 - SATURATION_TOLERANCE)
    )
    guess = np.ceil(np.minimum(consumption / production_total, 2.0) * UNITS)
    need = np.where(saturated, guess, 0.0).astype(np.int64)
    for _ in range(8):  # the guess is off by one at most, but float is float
        short = saturated & (need <= UNITS) & ((need / UNITS) * production_total < consumption)
        need += short
        spare = saturated & (need > 0) & (((need - 1) / UNITS) * production_total >= consumption)
        need -= spare
        if not (short.any() or spare.any()):
            break
    enough = (need / UNITS) * production_total >= consumption
    extra = np.where(saturated & enough & (need <= UNITS), np.maximum(need - units, 0), 0)
    raised = units.copy()
    room = UNITS - units.sum(axis=1)
    fits = extra.sum(axis=1) <= room
    raised[fits] += extra[fits]
    for row in np.flatnonzero(~fits):
        share = np.minimum(consumption[row], (units[row] / UNITS) * total[row])
        recovery = np.where(extra[row] > 0, consumption[row] - share, -np.inf)
        left = int(room[row])
        for column in np.argsort(-recovery, kind="stable"):
            if 0 < extra[row, column] <= left:
                raised[row, column] += extra[row, column]
                left -= int(extra[row, column])
    _check_rows(raised, allocation.index, "Recovering saturated consumers")
    return raised


def energy_lost(
    before: Allocation | None,
    rounded: SharingKey,
    consumption: pd.DataFrame | None,
    production: pd.DataFrame | pd.Series | None,
    *,
    by_producer: bool,
) -> pd.DataFrame | None:
    """AUTOCONS under the exact key (``before``) minus under ``rounded``, per step (UTC
    index). [kWh]

    ``by_producer``: AUTOPROD per producer instead (a column each); the columns then sum
    to the AUTOCONS difference. ``None`` without data.
    """
    if before is None or consumption is None or production is None:
        return None
    after = allocate(consumption, production, rounded)
    if by_producer:
        lost = before.self_consumed - after.self_consumed
    else:
        lost = (before.allocated.sum(axis=1) - after.allocated.sum(axis=1)).to_frame("lost")
    lost = lost.set_axis(pd.DatetimeIndex(lost.index).tz_convert("UTC").rename("timestamp"))
    return lost.rename_axis(columns=None)


def checked_key(
    coefficients: pd.DataFrame, who: str, hours: bool = False
) -> tuple[np.ndarray, pd.Timedelta]:
    """A steps x members table of fractions, checked; its values and its step.

    String ids without ``;`` or spaces; numbers, no NaN; values in [0, 1]; rows at most
    1 + SUM_TOLERANCE; a regular, sorted, tz-aware index with a known step. With
    ``hours``, messages name rows as hours of the year (``hour 0001`` is row 0).
    """
    if not isinstance(coefficients, pd.DataFrame):
        raise errors.ParameterTypeError(
            f"{who} must be a DataFrame (steps x members), not {type(coefficients)}."
        )
    columns = coefficients.columns
    if len(columns) == 0:
        raise errors.ColumnError(f"{who} has no column: give one per member.")
    for label in columns:
        if not isinstance(label, str) or not label or any(c in label for c in "; \t\r\n"):
            raise errors.ColumnError(
                f"{who} has the member id {label!r}: ids go in the file as they are, so they "
                "must be non-empty strings without ';' or spaces (keep a PRM's leading zeros: "
                "'01234567890123', not 1234567890123).",
                member=label,
                column=label,
            )
    if columns.has_duplicates:
        twice = columns[columns.duplicated()][0]
        raise errors.ColumnError(f"{who} has two columns {twice!r}.", member=twice, column=twice)
    step = check_time_index(coefficients.index, who)
    if step is None:
        raise errors.IrregularStepError(
            f"{who} has a single step and its index has no freq: set it "
            "(`pd.DatetimeIndex(index, freq='30min')`) so the step length is known."
        )
    index = coefficients.index
    for member, dtype in coefficients.dtypes.items():
        if not is_number(dtype):
            raise errors.NonNumericCoefficientError(
                f"{who}: column {member!r} has dtype {dtype}, not numbers (fractions, 0.25 for "
                "25 %).",
                member=member,
                column=member,
            )
    values = coefficients.to_numpy(dtype=np.float64, na_value=np.nan)
    invalid = ~((values >= 0.0) & (values <= 1.0))
    if invalid.any():
        row, column = (int(i) for i in np.argwhere(invalid)[0])
        member, value = columns[column], values[row, column]
        reason = (
            "NaN: a key file cannot say 'no key for this step'; give every coefficient, e.g. "
            "the default key's (to_dynamic_key of a Prorata allocation)"
            if np.isnan(value)
            else f"{value}, outside [0, 1] (fractions: 0.25 means 25 %)"
        )
        raise errors.CoefficientRangeError(
            f"{who}: the coefficient of {member!r} {_at(index, row, hours)} is {reason}.",
            member=member,
            column=member,
            timestamp=index[row],
        )
    check_sums(
        values.sum(axis=1),
        f"{who}: the coefficients",
        where=lambda row: _at(index, row, hours),
        timestamp=lambda row: index[row],
        advice="Scale that row down.",
    )
    return values, step


def _at(index: pd.Index, row: int, hours: bool) -> str:
    return f"of hour {row + 1:04d} ({index[row]})" if hours else f"at {index[row]}"


def write_text(path: Path, lines: list[str], line_ending: str) -> None:
    """Write ``lines`` (each ended by ``line_ending``) as UTF-8 without BOM, atomically."""
    _check_line_ending(line_ending)
    with atomic_file(path) as temporary:
        write_lines(temporary, lines, line_ending)


def write_texts(files: Mapping[Path, list[str]], line_ending: str) -> None:
    """Write several files (see :func:`write_text`) all or nothing
    (:func:`repartition._atomic.atomic_files`): if one fails, no file is touched."""
    _check_line_ending(line_ending)
    with atomic_files(files) as temporaries:
        for temporary, lines in zip(temporaries, files.values(), strict=True):
            write_lines(temporary, lines, line_ending)


def write_buffer(buffer: object, lines: list[str], line_ending: str) -> None:
    """Write ``lines`` (each ended by ``line_ending``) to a writable buffer, in one write:
    UTF-8 bytes to a binary buffer, the text to a text buffer."""
    _check_line_ending(line_ending)
    write_blocks(buffer, [(line_ending.join(lines) + line_ending).encode("utf-8")])


def write_lines(path: Path, lines: list[str], line_ending: str) -> None:
    """Write ``lines`` to ``path`` as they are, not atomically (the caller's temporary file)."""
    path.write_bytes((line_ending.join(lines) + line_ending).encode("utf-8"))


def _check_line_ending(line_ending: str) -> None:
    if line_ending not in ("\r\n", "\n"):
        raise errors.ParameterError(f"line_ending must be '\\r\\n' or '\\n', not {line_ending!r}.")


def refuse_existing(path: Path, overwrite: bool) -> None:
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it.")
