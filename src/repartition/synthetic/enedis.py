"""Enedis-like load-curve exports of synthetic (or any) energies, for demos and tests.

The inverse of :func:`repartition.io.enedis.read_load_curves`: energies per step [kWh]
become lines of mean power [W] over the step, stamped with the END of the step in local
time, one line per PRM and step, as the DSO's CSV exports are.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from repartition import errors
from repartition._atomic import atomic_file
from repartition.io.enedis import COLUMNS
from repartition.time import PARIS, check_time_zone

__all__ = ["write_enedis_export"]


def write_enedis_export(
    path: str | os.PathLike[str],
    consumption: pd.DataFrame | None = None,
    production: pd.DataFrame | None = None,
    *,
    tz: str = PARIS,
    decimals: int = 0,
    offsets: bool = True,
) -> Path:
    """Write energies as an Enedis load-curve CSV export (mean power in W).

    Parameters
    ----------
    path
        The file to write (atomically).
    consumption, production
        Energy per step of each PRM (CONS, PROD) on a regular tz-aware index of step
        starts. [kWh per step]
    tz
        The local time of ``Horodate``.
    decimals
        Decimals of the power: Enedis writes whole watts (0), so a round trip through
        the file is exact only to ``0.5 W x step``.
    offsets
        Write ``Horodate`` with its UTC offset (``2025-01-01T00:30:00+01:00``, as recent
        exports do) or as naive local time (``2025-01-01 00:30:00``).

    Returns
    -------
    pathlib.Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from repartition.io.enedis import read_load_curves
    >>> index = pd.date_range("2025-01-01", periods=2, freq="30min", tz="Europe/Paris")
    >>> cons = pd.DataFrame({"30000000000001": [0.6, 0.25]}, index=index)
    >>> path = write_enedis_export(pathlib.Path(tempfile.mkdtemp()) / "cons.csv", cons)
    >>> print(path.read_text().splitlines()[1])
    30000000000001;2025-01-01T00:00:00+01:00;2025-01-01T01:00:00+01:00;PA;CONS;BRUT;W;2025-01-01T00:30:00+01:00;1200;R;PT30M;;
    >>> read_load_curves(path).consumption.sum().round(6).tolist()
    [0.85]
    """
    tz = check_time_zone(tz)
    tables = [(t, "CONS") for t in (consumption,) if t is not None]
    tables += [(t, "PROD") for t in (production,) if t is not None]
    if not tables:
        raise errors.ParameterError("Give consumption, production or both.")
    lines = [";".join(COLUMNS)]
    for table, role in tables:
        lines.extend(_lines(table, role, tz, decimals, offsets))
    with atomic_file(path) as temporary:
        temporary.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Path(path)


def _lines(table: pd.DataFrame, role: str, tz: str, decimals: int, offsets: bool) -> list[str]:
    index = table.index
    assert isinstance(index, pd.DatetimeIndex)
    if len(index) > 1:
        step = pd.Timedelta(index[1] - index[0])
    else:
        if not isinstance(index.freq, pd.offsets.Tick):
            raise errors.ParameterError(
                "A single step needs an index with a fixed freq (its length)."
            )
        step = pd.Timedelta(index.freq.nanos, unit="ns")
    minutes = step / pd.Timedelta(minutes=1)
    ends = (index + step).tz_convert(tz)
    naive = np.asarray(ends.strftime("%Y-%m-%d %H:%M:%S"), dtype=object)
    stamps = _iso(ends) if offsets else naive
    # The requested period (Date de début, Date de fin): exactly the steps written, as
    # timestamps with their offset, so a partial day is not read as a day with holes.
    first = _iso(index[:1].tz_convert(tz))[0]
    last = _iso(ends[-1:])[0]
    pas = f"PT{int(minutes)}M"
    lines: list[str] = []
    for prm in table.columns:
        energy = table[prm].to_numpy(dtype=np.float64)
        with np.errstate(over="ignore"):
            power = np.round(energy * 60_000.0 / minutes, decimals)
        _check(energy, power, prm, ends)
        values = [f"{value:.{decimals}f}" for value in power]
        prefix = f"{prm};{first};{last};PA;{role};BRUT;W;"
        lines.extend(
            f"{prefix}{stamp};{value};R;{pas};;"
            for stamp, value in zip(stamps, values, strict=True)
        )
    return lines


def _check(energy: np.ndarray, power: np.ndarray, prm: object, ends: pd.DatetimeIndex) -> None:
    """A typed error naming the PRM and the step (its Horodate) for a value no export holds."""
    checks: list[tuple[np.ndarray, type[errors.DataError], str]] = [
        (np.isnan(energy), errors.MissingValueError, "NaN: an export leaves such a line out"),
        (~np.isfinite(power), errors.NonFiniteError, "not a finite power"),
        (energy < 0, errors.NegativeEnergyError, "negative: exports count energy >= 0"),
    ]
    for bad, cls, why in checks:
        if bad.any():
            row = int(np.argmax(bad))
            raise cls(
                f"PRM {prm!r}, step ending {ends[row].isoformat()} (Horodate): the energy "
                f"{float(energy[row])!r} kWh is {why}. Nothing was written.",
                member=prm,
                timestamp=ends[row],
            )


def _iso(times: pd.DatetimeIndex) -> np.ndarray:
    """ISO 8601 with the UTC offset, ``2025-01-01T00:30:00+01:00``."""
    text = times.strftime("%Y-%m-%dT%H:%M:%S%z")
    return np.array([f"{s[:-2]}:{s[-2:]}" for s in text], dtype=object)
