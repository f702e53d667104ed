"""Where a streaming run writes, and what it records: the manifest, the partial directory
of an overwrite run, resuming, and the final swap.

A run writes its months into a *target*:

- the destination itself, for a first run (each month is readable as soon as it is
  recorded) and for ``resume=True`` on it;
- ``<destination>.partial``, a sibling, for ``overwrite=True`` on an existing results
  dataset: the old results stay whole and readable until every month of the new run is
  written; then the partial directory replaces the destination (the old one is moved
  aside under a temporary name, the partial one renamed into place, the old one deleted).
  If the run stops, the partial directory stays: ``resume=True`` continues it (and swaps
  at the end); ``overwrite=True`` deletes it and starts again.

The manifest (the target's ``_repartition.json``) records, per month done: the totals, the
rows and bytes of the month's file, and a fingerprint of the source month's files (names,
sizes, bytes and the steps it was read over). Resuming refuses another key, time zone,
step or source members, and a done month whose source changed; a done month whose file
is missing or unreadable (footer, row count, size) is computed again. Temporary entries
that a killed run leaves (``.month=YYYY-MM.<random>.tmp`` or ``.old`` in the target,
``.<destination>.<random>.tmp`` or ``.old`` beside it) are deleted when a run resumes or
overwrites.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from repartition import errors
from repartition.io.parquet import _dataset, _write
from repartition.io.parquet._dataset import LONG, METADATA, PART, DatasetInfo

RESULTS_KIND = "results"
PARTIAL = ".partial"
"""Suffix of the sibling directory an overwrite run fills before it replaces the results."""

_INSIDE = re.compile(r"^\.(month=\d{4}-\d{2}|_repartition\.json)\.[A-Za-z0-9_]+\.(tmp|old)$")


@dataclass
class Manifest:
    """The results dataset's ``_repartition.json`` while a run fills it."""

    tz: str
    step: pd.Timedelta
    period: tuple[int, int]
    consumers: list[str]
    producers: list[str]
    key: str
    fingerprint: str
    source: dict[str, list[str]]
    months: dict[str, dict[str, float]] = field(default_factory=dict)
    files: dict[str, dict[str, int]] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def add(
        self, label: str, totals: dict[str, float], record: dict[str, int], source: str
    ) -> None:
        """Record a month written: its totals, its file and its source's fingerprint."""
        self.months[label] = totals
        self.files[label] = record
        self.sources[label] = source

    def members(self, consumers: pd.Index, producers: pd.Index) -> None:
        """Add the members of a month (a source without metadata lists them per month)."""
        for ids, new in ((self.consumers, consumers), (self.producers, producers)):
            known = set(ids)
            ids.extend(str(member) for member in new if member not in known)

    def write(self, target: Path) -> None:
        step_us = int(self.step / pd.Timedelta(microseconds=1))
        first, last = (
            pd.Timestamp(value, unit="us", tz="UTC")
            for value in (self.period[0], self.period[1] - step_us)
        )
        extra = {
            "key": self.key,
            "key_fingerprint": self.fingerprint,
            "months": {label: self.months[label] for label in sorted(self.months)},
            "files": {label: self.files[label] for label in sorted(self.files)},
            "source_months": {label: self.sources[label] for label in sorted(self.sources)},
            "source": self.source,
        }
        members = (tuple(self.consumers), tuple(self.producers))
        info = DatasetInfo(RESULTS_KIND, LONG, self.tz, self.step, *members, extra, first, last)
        target.mkdir(parents=True, exist_ok=True)
        _dataset.write_info(target, info)


def partial_of(destination: Path) -> Path:
    return destination.with_name(destination.name + PARTIAL)


def check_places(source: Path, destination: Path) -> None:
    """The results (and their partial directory) are neither the source, nor inside it,
    nor around it: discovery would read them as data, an overwrite would delete it."""
    origin = source.resolve()
    for place in (destination.resolve(), partial_of(destination.resolve())):
        if place == origin or origin in place.parents or place in origin.parents:
            raise errors.ParameterError(
                f"The results {place} would be inside the source dataset {source} (or "
                "contain it). Write them elsewhere, e.g. beside the source."
            )


def results_info(place: Path) -> DatasetInfo | None:
    """A results dataset's description; None when ``place`` is absent or empty."""
    if not place.exists():
        return None
    try:
        info = _dataset.read_info(place, RESULTS_KIND)
    except errors.FileFormatError as error:
        raise FileExistsError(
            f"{place} is not a results dataset ({error.message}); it is left as it is. "
            "Choose another destination."
        ) from error
    if info is None:
        if place.is_dir() and not any(place.iterdir()):
            return None
        raise FileExistsError(
            f"{place} exists and is not a results dataset (no {METADATA}); it is left as it "
            "is. Choose another destination."
        )
    return info


def clean_stale(target: Path, destination: Path) -> None:
    """Delete the temporary entries a killed run left: in ``target`` (any ``.month=...``
    or ``._repartition.json`` temporary name), and beside ``destination`` (the exact
    names the atomic writers and the swap use: ``.<name>.<8 characters>.tmp|.old``)."""
    if target.is_dir():
        for entry in target.iterdir():
            if _INSIDE.match(entry.name):
                _remove(entry)
    names = "|".join(re.escape(n) for n in (destination.name, partial_of(destination).name))
    beside = re.compile(rf"^\.({names})\.[a-z0-9_]{{8}}\.(tmp|old)$")
    if destination.parent.is_dir():
        for entry in destination.parent.iterdir():
            if beside.match(entry.name):
                _remove(entry)


def _remove(entry: Path) -> None:
    if entry.is_dir() and not entry.is_symlink():
        shutil.rmtree(entry, ignore_errors=True)
    else:
        entry.unlink(missing_ok=True)


def open_run(
    destination: Path,
    manifest: Manifest,
    *,
    resume: bool,
    overwrite: bool,
    source_fingerprint: Callable[[str], str | None],
) -> tuple[Path, bool]:
    """Choose the run's target (the destination or its partial directory), clear or load
    it into ``manifest``; returns (target, whether to swap it onto the destination)."""
    partial = partial_of(destination)
    existing, pending = results_info(destination), results_info(partial)
    if resume or overwrite:
        clean_stale(destination, destination)
        clean_stale(partial, destination)
    if overwrite:
        if partial.exists():
            shutil.rmtree(partial)
        return (destination, False) if existing is None else (partial, True)
    if resume:
        if pending is not None:
            _load(manifest, pending, partial, source_fingerprint)
            return partial, True
        if existing is not None:
            _load(manifest, existing, destination, source_fingerprint)
        return destination, False
    if existing is not None:
        also = f" (an interrupted overwrite run is in {partial})" if pending is not None else ""
        raise FileExistsError(
            f"{destination} already exists{also}; pass resume=True to continue it or "
            "overwrite=True to replace it."
        )
    if pending is not None:
        raise FileExistsError(
            f"An interrupted overwrite run of {destination} is in {partial}: pass resume=True "
            "to continue it, or overwrite=True to start again."
        )
    return destination, False


def _load(
    manifest: Manifest,
    existing: DatasetInfo,
    target: Path,
    source_fingerprint: Callable[[str], str | None],
) -> None:
    """Check that ``existing`` continues the same computation; load its months done."""
    extra = existing.extra
    fix = "Resume with the same key and source, or pass overwrite=True to start again."
    if extra.get("key_fingerprint") != manifest.fingerprint:
        raise errors.ParameterError(
            f"{target} was computed with the key {extra.get('key')!r} (fingerprint "
            f"{extra.get('key_fingerprint')}), not this {manifest.key!r} key (fingerprint "
            f"{manifest.fingerprint}): resuming would mix two keys. {fix}"
        )
    if existing.tz != manifest.tz:
        raise errors.ParameterError(
            f"{target} is partitioned by months of {existing.tz!r}, the source by "
            f"{manifest.tz!r}. Write the results elsewhere."
        )
    if existing.step != manifest.step:
        raise errors.ParameterError(
            f"{target} holds steps of {existing.step}, the source steps of {manifest.step}: "
            f"it was computed from another source. {fix}"
        )
    recorded = extra.get("source", {})
    for role, now in manifest.source.items():
        if now and recorded.get(role) and recorded[role] != now:
            raise errors.ParameterError(
                f"The source's {role}s differ from those the results in {target} were "
                f"computed from. {fix}"
            )
    files, sources = extra.get("files", {}), extra.get("source_months", {})
    for label, totals in extra.get("months", {}).items():
        if not _readable(target, label, files.get(label)):
            continue  # computed again
        current, recorded = source_fingerprint(label), sources.get(label)
        if recorded is None or recorded != current:
            reason = (
                "no fingerprint of its source was recorded (written by an older version)"
                if recorded is None
                else "the source no longer has that month"
                if current is None
                else "the source's files for that month have changed since"
            )
            raise errors.ParameterError(
                f"{target} holds results for {label}, but {reason}: resuming could mix "
                f"results of two sources. {fix}"
            )
        manifest.add(label, dict(totals), dict(files[label]), sources[label])
    manifest.consumers[:] = list(dict.fromkeys([*existing.consumers, *manifest.consumers]))
    manifest.producers[:] = list(dict.fromkeys([*existing.producers, *manifest.producers]))


def _readable(target: Path, label: str, record: Any) -> bool:
    """A done month's file is there, its footer parses and its rows and bytes are those
    recorded when it was written."""
    path = _write.month_directory(target, label) / PART
    if not isinstance(record, dict) or not path.is_file():
        return False
    try:
        rows = pq.read_metadata(str(path)).num_rows
    except (pa.ArrowException, OSError):
        return False
    return bool(rows == record.get("rows") and path.stat().st_size == record.get("bytes"))


def swap(partial: Path, destination: Path) -> None:
    """Put the finished ``partial`` directory in the destination's place."""
    backup = destination.with_name(f".{destination.name}.{secrets.token_hex(4)}.old")
    moved = os.path.lexists(destination)
    if moved:
        os.replace(destination, backup)
    try:
        os.replace(partial, destination)
    except BaseException:
        if moved:
            os.replace(backup, destination)
        raise
    _flush(destination.parent)
    if moved:
        shutil.rmtree(backup, ignore_errors=True)


def _flush(folder: Path) -> None:
    """``fsync`` a directory, so that the renames in it survive a power cut."""
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
