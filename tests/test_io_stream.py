"""Streaming allocation of a Parquet dataset (repartition.io.stream.allocate_dataset).

Every key computes each step from that step's data alone (docs/rules.md, "Keys the DSO
applies": every formula is per step t), so allocating month by month must give
exactly, bit for bit, what one ``allocate`` over the whole year gives. The tests compare
the results dataset read back with ``allocate`` on the concatenated year.

Data: the synthetic community (repartition.synthetic) at 1 h for speed: 8,760 steps,
4 consumers, 2 producers, local months of Europe/Paris (March has 743 hours, October 745).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from repartition import allocate, errors, keys
from repartition.allocation import Shares
from repartition.io import parquet, stream
from repartition.io.parquet import _read, _write, read_results, write_energy
from repartition.io.stream import _state, allocate_dataset
from repartition.keys._fingerprint import key_fingerprint
from repartition.problem import Problem
from repartition.synthetic import synthetic_community

TABLES = ("consumption", "allocated", "grid_supply", "production", "self_consumed", "surplus")


@pytest.fixture(scope="module")
def year(tmp_path_factory):
    consumption, production = synthetic_community(consumers=4, producers=2, step="1h", seed=5)
    root = tmp_path_factory.mktemp("stream") / "energy"
    write_energy(root, consumption, production, layout="wide")
    write_energy(root.with_name("energy_long"), consumption, production, layout="long")
    return root, consumption, production


def dynamic_key(consumption: pd.DataFrame) -> keys.Dynamic:
    """A year of random shares, each row summing to at most 0.9, and one month without
    any key (all NaN: the prorata fallback)."""
    rng = np.random.default_rng(1)
    shares = rng.random(consumption.shape)
    shares *= 0.9 / shares.sum(axis=1, keepdims=True)
    table = pd.DataFrame(shares, index=consumption.index, columns=consumption.columns)
    table.loc["2025-02"] = np.nan
    return keys.Dynamic(table)


def full_dynamic_key(consumption: pd.DataFrame, producers: pd.Index) -> keys.FullDynamic:
    rng = np.random.default_rng(2)
    tables = {}
    for producer in producers:
        shares = rng.random(consumption.shape)
        shares /= shares.sum(axis=1, keepdims=True) * 1.01
        tables[producer] = pd.DataFrame(
            shares, index=consumption.index, columns=consumption.columns
        )
    return keys.FullDynamic(tables)


def assert_results_equal(results: parquet.ResultTables, allocation) -> None:
    for name in TABLES:
        read, expected = getattr(results, name), getattr(allocation, name)
        assert (read.index == expected.index).all(), name
        assert list(read.columns) == list(expected.columns), name
        np.testing.assert_array_equal(
            read.to_numpy().view(np.int64), np.ascontiguousarray(expected.to_numpy()).view(np.int64)
        )


@pytest.mark.parametrize(
    "make_key",
    [
        lambda c, p: keys.Prorata(),
        lambda c, p: keys.Static(dict(zip(c.columns, [0.4, 0.3, 0.2, 0.1], strict=True))),
        lambda c, p: keys.Static(pd.Series(0.25, index=c.columns), redistribute=True),
        lambda c, p: keys.Static(pd.Series(0.25, index=c.columns), rounds=2),
        lambda c, p: dynamic_key(c),
        lambda c, p: full_dynamic_key(c, p.columns),
    ],
    ids=["prorata", "static", "static-exact", "static-rounds", "dynamic", "full-dynamic"],
)
def test_streaming_equals_one_allocation_of_the_year(year, tmp_path, make_key):
    root, consumption, production = year
    key = make_key(consumption, production)
    summary = allocate_dataset(root, tmp_path / "results", key, progress=False)
    whole = allocate(consumption, production, key)
    assert_results_equal(read_results(tmp_path / "results"), whole)
    assert summary.computed == tuple(f"2025-{m:02d}" for m in range(1, 13))
    assert summary.resumed == ()
    expected = whole.summary()
    total = summary.total()
    for name in ("consumption_kwh", "production_kwh", "allocated_kwh", "surplus_kwh"):
        # Summed month by month: the same numbers, added in another order.
        assert getattr(total, name) == pytest.approx(getattr(expected, name), rel=1e-12)
    assert summary.key == key.label()


def test_streaming_a_long_dataset(year, tmp_path):
    root, consumption, production = year
    key = dynamic_key(consumption)
    allocate_dataset(root.with_name("energy_long"), tmp_path / "r", key, progress=False)
    assert_results_equal(read_results(tmp_path / "r"), allocate(consumption, production, key))


def test_each_month_is_read_alone(year, tmp_path, monkeypatch):
    root, _, _ = year
    calls = []
    original = _read.select

    def spy(*arguments, **options):
        calls.append(arguments[5])  # the months selected
        return original(*arguments, **options)

    monkeypatch.setattr(_read, "select", spy)
    allocate_dataset(
        root, tmp_path / "r", keys.Prorata(), months=["2025-03", "2025-10"], progress=False
    )
    assert calls == [["2025-03"], ["2025-10"]]
    # March 2025 in Paris: 31 x 24 - 1 hours; October: 31 x 24 + 1.
    assert len(read_results(tmp_path / "r", months="2025-03").allocated) == 743
    assert len(read_results(tmp_path / "r", months="2025-10").allocated) == 745


def test_resume_after_an_interruption(year, tmp_path, monkeypatch):
    root, consumption, production = year
    key = keys.Static(pd.Series(0.25, index=consumption.columns))
    original = stream._allocate_month
    done = []

    def interrupted(source, destination, label, key, manifest):
        if len(done) == 2:
            raise KeyboardInterrupt  # the user stops the run during the third month
        original(source, destination, label, key, manifest)
        done.append(label)

    monkeypatch.setattr(stream, "_allocate_month", interrupted)
    with pytest.raises(KeyboardInterrupt):
        allocate_dataset(root, tmp_path / "r", key, progress=False)
    manifest = json.loads((tmp_path / "r" / "_repartition.json").read_text())
    assert sorted(manifest["months"]) == ["2025-01", "2025-02"]
    assert sorted(p.name for p in (tmp_path / "r").glob("month=*")) == [
        "month=2025-01",
        "month=2025-02",
    ]
    # The two completed months are readable already.
    assert read_results(tmp_path / "r").allocated.index[-1] == pd.Timestamp(
        "2025-02-28 22:00", tz="UTC"
    )
    monkeypatch.setattr(stream, "_allocate_month", original)
    with pytest.raises(FileExistsError, match="resume=True"):
        allocate_dataset(root, tmp_path / "r", key, progress=False)
    summary = allocate_dataset(root, tmp_path / "r", key, progress=False, resume=True)
    assert summary.resumed == ("2025-01", "2025-02")
    assert summary.computed == tuple(f"2025-{m:02d}" for m in range(3, 13))
    assert len(summary.months) == 12  # totals of the resumed months come from the manifest
    assert_results_equal(read_results(tmp_path / "r"), allocate(consumption, production, key))
    again = allocate_dataset(root, tmp_path / "r", key, progress=False, resume=True)
    assert again.computed == ()
    assert len(again.resumed) == 12


def test_resume_refuses_another_key(year, tmp_path):
    root, consumption, _ = year
    allocate_dataset(root, tmp_path / "r", keys.Prorata(), months="2025-01", progress=False)
    before = (tmp_path / "r" / "_repartition.json").read_text()
    with pytest.raises(ValueError, match="'prorata'"):
        allocate_dataset(root, tmp_path / "r", keys.Static([0.25] * 4), resume=True, progress=False)
    static = keys.Static(pd.Series(0.25, index=consumption.columns))
    allocate_dataset(root, tmp_path / "s", static, months="2025-01", progress=False)
    other = keys.Static(pd.Series([0.4, 0.2, 0.2, 0.2], index=consumption.columns))
    with pytest.raises(ValueError, match="fingerprint"):
        allocate_dataset(root, tmp_path / "s", other, resume=True, progress=False)
    assert (tmp_path / "r" / "_repartition.json").read_text() == before


def test_month_written_but_not_recorded_is_computed_again(year, tmp_path, monkeypatch):
    root, _, _ = year
    original = _state.Manifest.write
    writes = []

    def crash_before_recording(self, destination):
        writes.append(sorted(self.months))
        if len(writes) == 2:  # after month 1's directory is in place
            raise SystemExit("power cut")
        original(self, destination)

    monkeypatch.setattr(_state.Manifest, "write", crash_before_recording)
    with pytest.raises(SystemExit):
        allocate_dataset(root, tmp_path / "r", keys.Prorata(), months=["2025-01"], progress=False)
    monkeypatch.setattr(_state.Manifest, "write", original)
    assert (tmp_path / "r" / "month=2025-01" / "part-0.parquet").exists()
    summary = allocate_dataset(
        root, tmp_path / "r", keys.Prorata(), months=["2025-01"], progress=False, resume=True
    )
    assert summary.computed == ("2025-01",)


def test_overwrite_and_destination_checks(year, tmp_path):
    root, _, _ = year
    allocate_dataset(root, tmp_path / "r", keys.Prorata(), months="2025-01", progress=False)
    summary = allocate_dataset(
        root, tmp_path / "r", keys.Prorata(), months="2025-02", progress=False, overwrite=True
    )
    assert summary.computed == ("2025-02",)
    assert parquet.dataset_months(tmp_path / "r") == ["2025-02"]
    # A directory that is not a results dataset is never deleted.
    with pytest.raises(FileExistsError, match="not a results dataset"):
        allocate_dataset(root, root.with_name("energy_long"), keys.Prorata(), overwrite=True)
    assert (root.with_name("energy_long") / "_repartition.json").exists()
    # Nor the source, nor a directory around it.
    for place in (root, root / "results", root.parent):
        with pytest.raises(ValueError, match="inside the source"):
            allocate_dataset(root, place, keys.Prorata(), progress=False, overwrite=True)
    assert (root / "_repartition.json").exists()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    with pytest.raises(FileExistsError):
        allocate_dataset(root, tmp_path / "notes", keys.Prorata(), progress=False, overwrite=True)
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
    with pytest.raises(errors.EmptyPeriodError, match="2030-01"):
        allocate_dataset(root, tmp_path / "x", keys.Prorata(), months=["2030-01"], progress=False)
    with pytest.raises(ValueError, match="not both"):
        allocate_dataset(root, tmp_path / "x", keys.Prorata(), resume=True, overwrite=True)
    with pytest.raises(TypeError, match="sharing key"):
        allocate_dataset(root, tmp_path / "x", "prorata", progress=False)


def test_bad_data_stops_at_its_month_and_keeps_the_others(tmp_path):
    consumption, production = synthetic_community(consumers=2, producers=1, step="1h")
    consumption.loc["2025-03-05 10:00", "home_1"] = np.nan
    write_energy(tmp_path / "e", consumption, production)
    with pytest.raises(errors.MissingValueError) as caught:
        allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    assert caught.value.member == "home_1"
    assert caught.value.timestamp == pd.Timestamp("2025-03-05 09:00", tz="UTC")
    assert parquet.dataset_months(tmp_path / "r") == ["2025-01", "2025-02"]


def test_progress_bar_can_be_turned_off(year, tmp_path, capsys):
    root, _, _ = year
    allocate_dataset(root, tmp_path / "quiet", keys.Prorata(), months="2025-01", progress=False)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == ""
    allocate_dataset(root, tmp_path / "loud", keys.Prorata(), months="2025-01", progress=True)
    captured = capsys.readouterr()
    assert "1/1" in captured.err
    assert captured.out == ""


def test_summary_by_month(year, tmp_path):
    root, consumption, production = year
    summary = allocate_dataset(
        root, tmp_path / "r", keys.Prorata(), months="2025-06", progress=False
    )
    june = allocate(consumption.loc["2025-06"], production.loc["2025-06"], keys.Prorata())
    assert summary.by_month()["2025-06"] == june.summary()
    assert "prorata on 1 month(s)" in str(summary)
    assert isinstance(summary.destination, Path)


# --- review fixes: gaps at month edges, resume checks, overwrite in a partial directory ---


def quarter_frames(step: str = "1h", seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """January to March 2025 (Paris), two consumers and a producer: small and fast."""
    index = pd.date_range(
        "2025-01-01", "2025-04-01", freq=step, tz="Europe/Paris", inclusive="left"
    )
    rng = np.random.default_rng(seed)
    consumption = pd.DataFrame(rng.random((len(index), 2)), index=index, columns=["A", "B"])
    production = pd.DataFrame(rng.random((len(index), 1)), index=index, columns=["PV"])
    return consumption, production


def drop_rows(path: Path, before=None, after=None) -> None:
    """Rewrite a month file without its rows before ``before`` or from ``after`` (UTC)."""
    table = pq.read_table(path)
    stamps = pd.DatetimeIndex(table.column("timestamp").to_pandas())
    keep = np.ones(len(stamps), dtype=bool)
    if before is not None:
        keep &= stamps >= pd.Timestamp(before, tz="UTC")
    if after is not None:
        keep &= stamps < pd.Timestamp(after, tz="UTC")
    pq.write_table(table.filter(pa.array(keep)), path)


@pytest.mark.parametrize("metadata", [True, False], ids=["with-metadata", "foreign"])
@pytest.mark.parametrize("edge", ["end", "start"])
def test_steps_missing_at_a_month_edge_are_reported(tmp_path, edge, metadata):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    if not metadata:  # a dataset from another tool: the period is found in its files
        (tmp_path / "e" / "_repartition.json").unlink()
    february = tmp_path / "e" / "month=2025-02" / "part-0.parquet"
    # February (Paris) runs from 2025-01-31 23:00 to 2025-02-28 23:00 UTC; its last two
    # days, or its first day, lose every row.
    if edge == "end":
        drop_rows(february, after="2025-02-26 23:00")
        expected = pd.Timestamp("2025-02-26 23:00", tz="UTC")
    else:
        drop_rows(february, before="2025-02-01 23:00")
        expected = pd.Timestamp("2025-01-31 23:00", tz="UTC")
    with pytest.raises(errors.MissingValueError) as caught:
        allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    assert caught.value.member == "A"
    assert caught.value.timestamp == expected
    assert parquet.dataset_months(tmp_path / "r") == ["2025-01"]


def test_the_dataset_period_is_not_padded(tmp_path):
    # A source starting and ending mid-month: only its own steps are allocated.
    consumption, production = quarter_frames()
    part = slice("2025-01-10 06:00", "2025-03-20 17:00")
    write_energy(tmp_path / "e", consumption.loc[part], production.loc[part])
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    results = read_results(tmp_path / "r")
    assert_results_equal(
        results, allocate(consumption.loc[part], production.loc[part], keys.Prorata())
    )


def test_resume_refuses_another_step_or_changed_values(tmp_path):
    hourly, half_hourly = quarter_frames("1h", 0), quarter_frames("30min", 1)
    write_energy(tmp_path / "e1h", *hourly)
    write_energy(tmp_path / "e30", *half_hourly)  # same members, another step and values
    allocate_dataset(
        tmp_path / "e1h", tmp_path / "r", keys.Prorata(), months="2025-01", progress=False
    )
    before = (tmp_path / "r" / "_repartition.json").read_text()
    with pytest.raises(ValueError, match="steps of 0 days 01:00:00"):
        allocate_dataset(
            tmp_path / "e30", tmp_path / "r", keys.Prorata(), resume=True, progress=False
        )
    # Same step, other values in January: the recorded fingerprint no longer matches.
    consumption, production = hourly
    changed = consumption.copy()
    changed.iloc[3, 0] += 0.5
    write_energy(tmp_path / "e1h", changed, production, overwrite=True)
    with pytest.raises(ValueError, match=r"2025-01.*changed"):
        allocate_dataset(
            tmp_path / "e1h", tmp_path / "r", keys.Prorata(), resume=True, progress=False
        )
    assert (tmp_path / "r" / "_repartition.json").read_text() == before
    # The unchanged source resumes.
    write_energy(tmp_path / "e1h", consumption, production, overwrite=True)
    summary = allocate_dataset(
        tmp_path / "e1h", tmp_path / "r", keys.Prorata(), resume=True, progress=False
    )
    assert summary.resumed == ("2025-01",)
    assert_results_equal(read_results(tmp_path / "r"), allocate(*hourly, keys.Prorata()))


def test_resume_of_a_foreign_source_checks_its_files(tmp_path):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    (tmp_path / "e" / "_repartition.json").unlink()
    allocate_dataset(
        tmp_path / "e", tmp_path / "r", keys.Prorata(), months="2025-01", progress=False
    )
    again = allocate_dataset(
        tmp_path / "e", tmp_path / "r", keys.Prorata(), resume=True, progress=False
    )
    assert again.resumed == ("2025-01",)
    assert again.computed == ("2025-02", "2025-03")
    january = tmp_path / "e" / "month=2025-01" / "part-0.parquet"
    drop_rows(january, after="2025-01-31 22:00")  # the source's January changes
    with pytest.raises(ValueError, match="2025-01"):
        allocate_dataset(
            tmp_path / "e", tmp_path / "r", keys.Prorata(), resume=True, progress=False
        )


def test_resume_recomputes_a_damaged_or_missing_month_file(tmp_path):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    january = tmp_path / "r" / "month=2025-01" / "part-0.parquet"
    january.write_bytes(january.read_bytes()[:-30])  # truncated: the footer is gone
    (tmp_path / "r" / "month=2025-03" / "part-0.parquet").unlink()
    summary = allocate_dataset(
        tmp_path / "e", tmp_path / "r", keys.Prorata(), resume=True, progress=False
    )
    assert summary.computed == ("2025-01", "2025-03")
    assert summary.resumed == ("2025-02",)
    assert_results_equal(
        read_results(tmp_path / "r"), allocate(consumption, production, keys.Prorata())
    )


def test_resume_removes_the_temporary_entries_of_a_killed_run(tmp_path):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    # What a SIGKILL inside the atomic writers leaves (random parts as mkdtemp names them).
    (tmp_path / "r" / ".month=2025-02.k3x9q0ab.tmp").mkdir()
    (tmp_path / "r" / ".month=2025-02.k3x9q0ab.tmp" / "part-0.parquet").write_bytes(b"PAR1")
    (tmp_path / "r" / "._repartition.json.a1b2c3d4.tmp").write_text("{")
    (tmp_path / ".r.zz9_1ab2.old").mkdir()
    kept = [tmp_path / ".r.notes", tmp_path / "r" / "_notes.txt", tmp_path / ".other.k3x9q0ab.tmp"]
    for path in kept:
        path.write_text("not ours")
    assert parquet.dataset_months(tmp_path / "r") == ["2025-01", "2025-02", "2025-03"]
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), resume=True, progress=False)
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == [
        "_notes.txt",
        "_repartition.json",
        "month=2025-01",
        "month=2025-02",
        "month=2025-03",
    ]
    assert not (tmp_path / ".r.zz9_1ab2.old").exists()
    assert all(path.read_text() == "not ours" for path in kept)


def test_overwrite_keeps_the_old_results_until_the_new_run_is_complete(tmp_path, monkeypatch):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    old = read_results(tmp_path / "r")
    static = keys.Static({"A": 0.5, "B": 0.5})
    original = stream._allocate_month

    def stopped(plan, target, label, key, manifest):
        if label == "2025-03":
            raise KeyboardInterrupt
        original(plan, target, label, key, manifest)

    monkeypatch.setattr(stream, "_allocate_month", stopped)
    with pytest.raises(KeyboardInterrupt):
        allocate_dataset(tmp_path / "e", tmp_path / "r", static, progress=False, overwrite=True)
    # The old results are whole; the new months wait in r.partial.
    assert read_results(tmp_path / "r").key == "prorata"
    assert_results_equal(
        read_results(tmp_path / "r"), allocate(consumption, production, keys.Prorata())
    )
    assert old.key == "prorata"
    assert parquet.dataset_months(tmp_path / "r.partial") == ["2025-01", "2025-02"]
    with pytest.raises(FileExistsError, match=r"r\.partial"):
        allocate_dataset(tmp_path / "e", tmp_path / "r", static, progress=False)
    monkeypatch.setattr(stream, "_allocate_month", original)
    summary = allocate_dataset(tmp_path / "e", tmp_path / "r", static, progress=False, resume=True)
    assert summary.resumed == ("2025-01", "2025-02")
    assert summary.computed == ("2025-03",)
    assert not (tmp_path / "r.partial").exists()
    assert_results_equal(read_results(tmp_path / "r"), allocate(consumption, production, static))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e", "r"]


def test_the_next_month_is_read_while_a_month_is_written(tmp_path, monkeypatch):
    # Writing January waits until February's read has started: without the read-ahead,
    # February would only be read after January's write returns (the wait would time out).
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    february = threading.Event()
    original_select, original_write = _read.select, _write.write_file
    waited = []

    def select(*arguments, **options):
        if arguments[5] == ["2025-02"]:
            february.set()
        return original_select(*arguments, **options)

    def write_file(path, tables, *, wide):
        if "month=2025-01" in str(path.parent):  # its temporary directory
            waited.append(february.wait(timeout=10))
        return original_write(path, tables, wide=wide)

    monkeypatch.setattr(_read, "select", select)
    monkeypatch.setattr(_write, "write_file", write_file)
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    assert waited == [True]
    assert_results_equal(
        read_results(tmp_path / "r"), allocate(consumption, production, keys.Prorata())
    )


def test_a_month_that_cannot_be_read_stops_the_run_after_the_months_before_it(tmp_path):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    march = tmp_path / "e" / "month=2025-03" / "part-0.parquet"
    march.write_bytes(b"PAR1" + bytes(200) + b"PAR1")  # read ahead while February is written
    threads = threading.active_count()
    with pytest.raises(errors.CorruptFileError, match="month=2025-03"):
        allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    assert parquet.dataset_months(tmp_path / "r") == ["2025-01", "2025-02"]
    assert threading.active_count() == threads  # the reading thread is gone


def test_an_interrupted_run_leaves_no_reading_thread(tmp_path, monkeypatch):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    original = stream._allocate_month

    def stopped(reader, target, label, key, manifest):
        if label == "2025-02":  # March is being read ahead, or queued
            raise KeyboardInterrupt
        original(reader, target, label, key, manifest)

    monkeypatch.setattr(stream, "_allocate_month", stopped)
    threads = threading.active_count()
    with pytest.raises(KeyboardInterrupt):
        allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    assert threading.active_count() == threads
    assert parquet.dataset_months(tmp_path / "r") == ["2025-01"]


class PerStepShares(keys.SharingKey):
    """A user's key with a per-step table under its own name: declared, so checked."""

    name = "per-step shares"

    def __init__(self, shares: pd.DataFrame) -> None:
        self.shares = shares

    def step_tables(self) -> dict[str, pd.DataFrame]:
        return {"shares": self.shares}

    def share(self, problem: Problem) -> Shares:
        return keys.Dynamic(self.shares).share(problem)


def test_a_dynamic_key_must_cover_every_planned_step_before_any_month(tmp_path):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    january = pd.DataFrame(0.4, index=consumption.loc["2025-01"].index, columns=["A", "B"])
    spanish = keys.SpanishKey(january * 1.25)  # rows summing to 1, as in Spain
    cascade = keys.PriorityCascade([(["A"], keys.Prorata()), (["B"], keys.Dynamic(january))])
    economic = keys.EconomicGreedy(january)  # a value per step
    for key in (
        keys.Dynamic(january),
        keys.FullDynamic({"PV": january}),
        spanish,
        cascade,
        economic,
        PerStepShares(january),
    ):
        with pytest.raises(errors.IndexMismatchError, match="month 2025-02") as caught:
            allocate_dataset(tmp_path / "e", tmp_path / "r", key, progress=False, overwrite=True)
        # February 1st, 00:00 in Paris: the first step the key lacks.
        assert caught.value.timestamp == pd.Timestamp("2025-02-01 00:00", tz="Europe/Paris")
    assert parquet.dataset_months(tmp_path / "r") == ["2025-01", "2025-02", "2025-03"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e", "r"]
    # Enough for the months asked.
    allocate_dataset(
        tmp_path / "e", tmp_path / "j", keys.Dynamic(january), months="2025-01", progress=False
    )
    with pytest.raises(errors.IndexMismatchError, match="array"):
        allocate_dataset(
            tmp_path / "e", tmp_path / "x", keys.Dynamic(january.to_numpy()), progress=False
        )


def test_a_month_with_another_step_in_a_foreign_source(tmp_path):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    fine = quarter_frames("30min")
    write_energy(tmp_path / "f", fine[0].loc["2025-03"], fine[1].loc["2025-03"])
    (tmp_path / "e" / "_repartition.json").unlink()
    march = tmp_path / "e" / "month=2025-03"
    (march / "part-0.parquet").unlink()
    (tmp_path / "f" / "month=2025-03" / "part-0.parquet").rename(march / "part-0.parquet")
    with pytest.raises(errors.IrregularStepError, match="2025-03"):
        allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)


def test_resume_after_a_crash_inside_the_final_swap(tmp_path, monkeypatch):
    consumption, production = quarter_frames()
    write_energy(tmp_path / "e", consumption, production)
    allocate_dataset(tmp_path / "e", tmp_path / "r", keys.Prorata(), progress=False)
    static = keys.Static({"A": 0.5, "B": 0.5})

    def power_cut(partial, destination):  # the old results moved aside, nothing renamed
        destination.rename(destination.with_name(".r.0a1b2c3d.old"))
        raise SystemExit("power cut")

    monkeypatch.setattr(_state, "swap", power_cut)
    with pytest.raises(SystemExit):
        allocate_dataset(tmp_path / "e", tmp_path / "r", static, progress=False, overwrite=True)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".r.0a1b2c3d.old", "e", "r.partial"]
    summary = allocate_dataset(tmp_path / "e", tmp_path / "r", static, progress=False, resume=True)
    assert summary.computed == ()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e", "r"]
    assert_results_equal(read_results(tmp_path / "r"), allocate(consumption, production, static))


def test_key_fingerprints_follow_values_not_python_types():
    index = pd.date_range("2025-01-01", periods=4, freq="30min", tz="Europe/Paris")
    table = pd.DataFrame({"A": [0.5] * 4, "B": [0.25] * 4}, index=index)
    same = [
        (keys.Static({"A": 0.5, "B": 0.25}), keys.Static({"A": np.float64(0.5), "B": 0.25})),
        (keys.Static({"A": 0.5, "B": 0.25}), keys.Static(pd.Series({"B": 0.25, "A": 0.5}))),
        (keys.Static({"A": 1, "B": 0}), keys.Static({"A": 1.0, "B": 0.0})),
        (keys.Dynamic(table), keys.Dynamic(table.tz_convert("UTC")[["B", "A"]])),
        (keys.Dynamic(table), keys.Dynamic(table.set_axis(index.as_unit("ns")))),
        (keys.FullDynamic({"P": table}), keys.FullDynamic({"P": table.copy()})),
    ]
    for left, right in same:
        assert key_fingerprint(left) == key_fingerprint(right), (left, right)
    different = [
        (keys.Static({"A": 0.5, "B": 0.25}), keys.Static({"A": 0.5, "B": 0.2500000000000001})),
        (keys.Static({"A": 0.0, "B": 0.25}), keys.Static({"A": -0.0, "B": 0.25})),
        (keys.Static({"A": 0.5, "B": 0.25}), keys.Static([0.5, 0.25])),  # by position
        (keys.Static({"A": 0.5}), keys.Static({"A": 0.5}, rounds=1)),
        (keys.Dynamic(table), keys.Dynamic(table.shift(1, freq="30min"))),
        (keys.Dynamic(table), keys.FullDynamic({"P": table})),
        (keys.Prorata(), keys.Static({"A": 0.5})),
    ]
    for left, right in different:
        assert key_fingerprint(left) != key_fingerprint(right), (left, right)
