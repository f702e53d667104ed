"""Allocate a Parquet energy dataset month by month: bounded memory, progress, resumable.

:func:`allocate_dataset` reads one local month of an energy dataset over every step of
its local grid (cut only to the dataset's first and last steps), allocates it with any
key, writes that month's results partition atomically, records it in the results'
``_repartition.json`` (the manifest) and frees everything before the next month. While a
month is allocated and written, the next one is read by a background thread (see
:class:`._plan.ReadAhead`), so reading and writing share the two cores. Peak memory is
set by one month of data and the results being written (plus the next month's energies,
read ahead, and the key's own tables), not by the length of the dataset.

Every step of every key is computed from that step's data alone (the keys' coefficient
tables may cover a whole year: each month takes its rows), so the month-by-month results
are exactly those of one :func:`repartition.allocate` over the whole period.

The manifest lists the months whose partition is completely written, with their
totals, the rows and bytes of their file and a fingerprint of their source files, the
key's label and fingerprint (a digest of its type and coefficients) and the source's
members. A run that stops (an error, Ctrl-C, a crash) leaves the months done so far,
each complete; ``resume=True`` computes only the others (and the done months whose file
is missing or damaged), and refuses a different key, step or source. A month directory
that is not in the manifest (the run stopped between writing it and recording it) is
written again. ``overwrite=True`` on existing results builds the new run in
``<destination>.partial`` and swaps it in at the end (see
:mod:`._state`).

Inside the package: :mod:`._plan` (what a run computes, checked before any month is) and
:mod:`._state` (where it writes and what it records). Both read and write through the
private modules of :mod:`repartition.io.parquet`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from repartition import errors
from repartition._atomic import atomic_directory
from repartition.allocation import AllocationSummary
from repartition.engine import allocate
from repartition.io.parquet import _dataset, _results, _write
from repartition.io.parquet._fingerprint import key_fingerprint
from repartition.io.stream import _state
from repartition.io.stream._plan import ReadAhead, check_key, make_plan
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
        return _results.summary_of(
            {str(name): float(self.months[name].sum()) for name in self.months}
        )

    def by_month(self) -> dict[str, AllocationSummary]:
        """The summary of each month."""
        return {
            str(label): _results.summary_of(
                {str(name): float(value) for name, value in row.items()}
            )
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
        Continue a results dataset written by an earlier call with the same key and
        source: only the months not yet written are computed (an interrupted
        ``overwrite=True`` run, in ``<destination>.partial``, is continued and then
        replaces the destination). Harmless on a first run.
    overwrite
        Replace an existing results dataset at ``destination``. The new run is written
        into ``<destination>.partial`` and replaces the old results only once every
        month is written: until then, and if the run stops, the old results stay whole.

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
        ``destination`` inside ``source`` (or around it); ``resume=True`` with another
        key, time zone, step or source members than the results, or a source month
        whose files changed since its results were written.
    repartition.errors.IndexMismatchError
        A ``Dynamic`` or ``FullDynamic`` key without a row for a planned step (checked
        before any month is computed).
    repartition.errors.RepartitionError
        Bad data in a month, named as :func:`repartition.allocate` and
        :func:`~repartition.io.parquet.read_energy` name it (a step missing in the
        source, even at the start or end of a month, is a
        :class:`~repartition.errors.MissingValueError`); the months before it stay
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
        raise errors.ParameterTypeError(
            f"key must be a sharing key from repartition.keys, not {type(key).__name__}."
        )
    if resume and overwrite:
        raise errors.ParameterError(
            "Choose resume=True (continue) or overwrite=True (start again), not both."
        )
    source, destination = Path(source), Path(destination)
    _state.check_places(source, destination)
    plan = make_plan(source, months)
    check_key(key, plan)
    info = plan.info
    members = (list(info.consumers), list(info.producers)) if info is not None else ([], [])
    manifest = _state.Manifest(
        tz=plan.tz,
        step=plan.step,
        period=plan.period,
        consumers=list(members[0]),
        producers=list(members[1]),
        key=key.label(),
        fingerprint=key_fingerprint(key),
        source={"consumers": members[0], "producers": members[1]},
    )
    target, swap = _state.open_run(
        destination,
        manifest,
        resume=resume,
        overwrite=overwrite,
        source_fingerprint=plan.fingerprint,
    )
    manifest.write(target)
    todo = [label for label in plan.months if label not in manifest.months]
    resumed = tuple(label for label in plan.months if label in manifest.months)
    with (
        tqdm(
            total=len(plan.months),
            initial=len(resumed),
            disable=not progress,
            unit="month",
            desc=f"allocate ({key.label()})",
        ) as bar,
        ReadAhead(plan, todo) as reader,
    ):
        for label in todo:
            bar.set_postfix_str(label)
            _allocate_month(reader, target, label, key, manifest)
            manifest.write(target)
            bar.update(1)
    if swap:
        _state.swap(target, destination)
    totals = pd.DataFrame.from_dict(
        {label: manifest.months[label] for label in plan.months},
        orient="index",
        columns=list(_write.TOTALS),
    )
    totals.index.name = "month"
    return StreamSummary(destination, key.label(), totals, tuple(todo), resumed)


def _allocate_month(
    reader: ReadAhead, target: Path, label: str, key: SharingKey, manifest: _state.Manifest
) -> None:
    """Take one month from ``reader``, allocate and write it, and record it in
    ``manifest``. Nothing of the month's data outlives the call."""
    source, consumption, production = reader.take(label)
    assert source is not None  # a planned month has files
    allocation = allocate(consumption, production, key)
    del consumption, production  # the allocation holds what is still needed
    parts = _results.results_parts(allocation)
    stamps = _write.utc_microseconds(allocation.index)
    with atomic_directory(_write.month_directory(target, label), overwrite=True) as folder:
        tables = _write.long_tables(stamps, slice(None), parts, _write.RESULT_SCHEMA_COLUMNS)
        _write.write_file(folder / _dataset.PART, tables, wide=False)
        record = _results.file_record(folder / _dataset.PART)
    manifest.members(allocation.consumers, allocation.producers)
    manifest.add(label, _results.month_totals(allocation, slice(None)), record, source)
