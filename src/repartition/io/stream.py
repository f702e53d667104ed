"""Allocate a Parquet energy dataset month by month: bounded memory, progress, resumable.

:func:`allocate_dataset` reads one local month of an energy dataset
(:func:`repartition.io.parquet.read_energy`), allocates it with any key, writes that
month's results partition atomically, records it in the results' ``_repartition.json``
(the manifest) and frees everything before the next month. Peak memory is set by one
month of data, not by the length of the dataset.

Every step of every key is computed from that step's data alone (the keys' coefficient
tables may cover a whole year: each month takes its rows), so the month-by-month results
are exactly those of one :func:`repartition.allocate` over the whole period.

The manifest lists the months whose partition is completely written, with their
totals, the key's label and fingerprint (a digest of its type and coefficients) and the
source's members. A run that stops (an error, Ctrl-C, a crash) leaves the months done so
far, each complete; ``resume=True`` computes only the others, and refuses a different
key. A month directory that is not in the manifest (the run stopped between writing it
and recording it) is written again.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from repartition import errors, time
from repartition.allocation import Allocation, AllocationSummary
from repartition.engine import allocate
from repartition.io import _arrow, parquet
from repartition.io import _arrow_write as _write
from repartition.io._atomic import atomic_directory
from repartition.keys import SharingKey

__all__ = ["StreamSummary", "allocate_dataset"]


@dataclass(frozen=True, eq=False)
class StreamSummary:
    """What :func:`allocate_dataset` did, and the totals of the results dataset.

    Attributes
    ----------
    destination : pathlib.Path
        The results dataset.
    key : str
        The key's label.
    months : pandas.DataFrame
        One row per month of the run (``"YYYY-MM"``, in order), columns
        ``consumption_kwh``, ``production_kwh``, ``allocated_kwh``, ``grid_supply_kwh``,
        ``surplus_kwh`` [kWh], including months found done when resuming.
    computed, resumed : tuple of str
        The months computed by this call, and those found already written.
    """

    destination: Path
    key: str
    months: pd.DataFrame
    computed: tuple[str, ...]
    resumed: tuple[str, ...]

    def total(self) -> AllocationSummary:
        """Totals and rates over every month of the run (as ``Allocation.summary``)."""
        return parquet.summary_of(
            {str(name): float(self.months[name].sum()) for name in self.months}
        )

    def by_month(self) -> dict[str, AllocationSummary]:
        """The summary of each month."""
        return {
            str(label): parquet.summary_of({str(name): float(value) for name, value in row.items()})
            for label, row in self.months.iterrows()
        }

    def __str__(self) -> str:
        return (
            f"{self.key} on {len(self.months)} month(s) ({len(self.computed)} computed, "
            f"{len(self.resumed)} already done) -> {self.destination}\n{self.total()}"
        )


def allocate_dataset(
    source: str | Path,
    destination: str | Path,
    key: SharingKey,
    *,
    months: str | Iterable[str] | None = None,
    progress: bool = True,
    resume: bool = False,
    overwrite: bool = False,
) -> StreamSummary:
    """Allocate an energy dataset one local month at a time and write the results dataset.

    Parameters
    ----------
    source
        An energy dataset (:func:`repartition.io.parquet.write_energy`).
    destination
        The results dataset to write (:func:`repartition.io.parquet.read_results` reads it).
    key
        Any sharing key. Coefficient tables (``Dynamic``, ``FullDynamic``) may cover the
        whole period: each month uses its own rows.
    months
        Local months to allocate (``"YYYY-MM"``); default every month of ``source``.
    progress
        Show a progress bar (tqdm, on stderr), one tick per month.
    resume
        Continue a results dataset written by an earlier call with the same key: only the
        months not yet written are computed. Harmless on a first run.
    overwrite
        Replace an existing results dataset at ``destination``.

    Returns
    -------
    StreamSummary
        The months computed or found done, with their totals [kWh].

    Raises
    ------
    FileExistsError
        ``destination`` exists and neither ``resume`` nor ``overwrite`` is set, or it is
        not a results dataset (never deleted then).
    ValueError
        ``resume=True`` with another key, time zone or source members than the results.
    repartition.errors.RepartitionError
        Bad data in a month, named as :func:`repartition.allocate` and
        :func:`~repartition.io.parquet.read_energy` name it; the months before it stay
        written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from repartition import keys
    >>> from repartition.io.parquet import write_energy, read_results
    >>> from repartition.synthetic import synthetic_community
    >>> consumption, production = synthetic_community(consumers=3, producers=1)
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_energy(folder / "energy", consumption, production)
    >>> done = allocate_dataset(folder / "energy", folder / "results", keys.Prorata(),
    ...                         months=["2025-06", "2025-07"], progress=False)
    >>> done.computed, round(done.total().self_consumption_rate, 3)
    (('2025-06', '2025-07'), 0.115)
    >>> again = allocate_dataset(folder / "energy", folder / "results", keys.Prorata(),
    ...                          resume=True, progress=False)
    >>> len(again.resumed), len(again.computed)
    (2, 10)
    """
    if not isinstance(key, SharingKey):
        raise TypeError(
            f"key must be a sharing key from repartition.keys, not {type(key).__name__}."
        )
    if resume and overwrite:
        raise ValueError("Choose resume=True (continue) or overwrite=True (start again), not both.")
    source, destination = Path(source), Path(destination)
    info = _arrow.read_info(source, parquet.ENERGY_KIND)
    plan = _plan(source, months)
    manifest = _Manifest(
        tz=info.tz if info is not None else time.PARIS,
        step=info.step if info is not None else None,
        consumers=list(info.consumers) if info is not None else [],
        producers=list(info.producers) if info is not None else [],
        key=key.label(),
        fingerprint=_write.key_fingerprint(key),
    )
    manifest.source = {"consumers": list(manifest.consumers), "producers": list(manifest.producers)}
    _prepare(destination, manifest, resume=resume, overwrite=overwrite)
    manifest.write(destination)
    todo = [label for label in plan if label not in manifest.months]
    resumed = tuple(label for label in plan if label in manifest.months)
    with tqdm(
        total=len(plan),
        initial=len(resumed),
        disable=not progress,
        unit="month",
        desc=f"allocate ({key.label()})",
    ) as bar:
        for label in todo:
            bar.set_postfix_str(label)
            _allocate_month(source, destination, label, key, manifest)
            manifest.write(destination)
            bar.update(1)
    totals = pd.DataFrame.from_dict(
        {label: manifest.months[label] for label in plan},
        orient="index",
        columns=list(parquet.TOTALS),
    )
    totals.index.name = "month"
    return StreamSummary(destination, key.label(), totals, tuple(todo), resumed)


@dataclass
class _Manifest:
    """The results dataset's ``_repartition.json`` while a run fills it."""

    tz: str
    step: pd.Timedelta | None
    consumers: list[str]
    producers: list[str]
    key: str
    fingerprint: str
    months: dict[str, dict[str, float]] = field(default_factory=dict)
    source: dict[str, list[str]] = field(default_factory=dict)

    def add(self, label: str, allocation: Allocation) -> None:
        """Record a month written: its totals, members and step."""
        self.months[label] = parquet.month_totals(allocation, slice(None))
        for ids, new in (
            (self.consumers, allocation.consumers),
            (self.producers, allocation.producers),
        ):
            known = set(ids)
            ids.extend(member for member in new if member not in known)
        if allocation.step is not None:
            self.step = allocation.step

    def write(self, destination: Path) -> None:
        info = _arrow.DatasetInfo(
            parquet.RESULTS_KIND,
            _arrow.LONG,
            self.tz,
            self.step if self.step is not None else pd.Timedelta(0),
            tuple(self.consumers),
            tuple(self.producers),
            {
                "key": self.key,
                "key_fingerprint": self.fingerprint,
                "months": {label: self.months[label] for label in sorted(self.months)},
                "source": self.source,
            },
        )
        destination.mkdir(parents=True, exist_ok=True)
        _arrow.write_info(destination, info)


def _plan(source: Path, months: str | Iterable[str] | None) -> list[str]:
    available = list(_arrow.month_fragments(source))
    if months is None:
        chosen = available
    else:
        labels = [months] if isinstance(months, str) else list(months)
        chosen = sorted({_arrow.check_month(label) for label in labels})
        missing = [label for label in chosen if label not in available]
        if missing:
            raise errors.EmptyPeriodError(
                f"{source} has no file for the month {missing[0]} (months: {available}).",
                path=source,
            )
    if not chosen:
        raise errors.EmptyPeriodError(f"{source} has no month=YYYY-MM directory.", path=source)
    return chosen


def _prepare(destination: Path, manifest: _Manifest, *, resume: bool, overwrite: bool) -> None:
    """Check (or clear) the destination; load the months already done into ``manifest``."""
    if not destination.exists():
        return
    existing = _results_info(destination)
    if existing is None:  # an empty directory: nothing was written
        return
    if not resume:
        if not overwrite:
            raise FileExistsError(
                f"{destination} already exists; pass resume=True to continue it or "
                "overwrite=True to replace it."
            )
        backup = destination.with_name(f".{destination.name}.old")
        shutil.rmtree(backup, ignore_errors=True)
        destination.rename(backup)
        shutil.rmtree(backup, ignore_errors=True)
        return
    if existing.extra.get("key_fingerprint") != manifest.fingerprint:
        raise ValueError(
            f"{destination} was computed with the key {existing.extra.get('key')!r} "
            f"(fingerprint {existing.extra.get('key_fingerprint')}), not this "
            f"{manifest.key!r} key (fingerprint {manifest.fingerprint}): resuming would mix "
            "two keys. Pass the same key, or overwrite=True to start again."
        )
    if existing.tz != manifest.tz:
        raise ValueError(
            f"{destination} is partitioned by months of {existing.tz!r}, the source by "
            f"{manifest.tz!r}. Write the results elsewhere."
        )
    recorded = existing.extra.get("source", {})
    for role, now in manifest.source.items():
        if now and recorded.get(role) and recorded[role] != now:
            raise ValueError(
                f"The source's {role} differ from those the results in {destination} were "
                "computed from: resume with that source, or overwrite=True."
            )
    manifest.consumers = list(dict.fromkeys([*existing.consumers, *manifest.consumers]))
    manifest.producers = list(dict.fromkeys([*existing.producers, *manifest.producers]))
    if manifest.step is None and existing.step > pd.Timedelta(0):
        manifest.step = existing.step
    manifest.months = {
        label: dict(totals)
        for label, totals in existing.extra.get("months", {}).items()
        if (_write.month_directory(destination, label) / _arrow.PART).exists()
    }


def _results_info(destination: Path) -> _arrow.DatasetInfo | None:
    """The results dataset's description; None for an empty directory."""
    try:
        info = _arrow.read_info(destination, parquet.RESULTS_KIND)
    except errors.FileFormatError as error:
        raise FileExistsError(
            f"{destination} is not a results dataset ({error.message}); it is left as it is. "
            "Choose another destination."
        ) from error
    if info is None:
        if destination.is_dir() and not any(destination.iterdir()):
            return None
        raise FileExistsError(
            f"{destination} exists and is not a results dataset (no {_arrow.METADATA}); it "
            "is left as it is. Choose another destination."
        )
    return info


def _allocate_month(
    source: Path, destination: Path, label: str, key: SharingKey, manifest: _Manifest
) -> None:
    """Read, allocate and write one month, and record it in ``manifest``. Nothing of the
    month's data outlives the call."""
    consumption, production = parquet.read_energy(source, months=[label], tz=manifest.tz)
    allocation = allocate(consumption, production, key)
    del consumption, production  # the allocation holds what is still needed
    parts = parquet.results_parts(allocation)
    stamps = _write.utc_microseconds(allocation.index)
    with atomic_directory(_write.month_directory(destination, label), overwrite=True) as folder:
        tables = _write.long_tables(stamps, slice(None), parts, _write.RESULT_SCHEMA_COLUMNS)
        _write.write_file(folder / _arrow.PART, tables, wide=False)
    manifest.add(label, allocation)
