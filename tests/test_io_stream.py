"""Streaming allocation of a Parquet dataset (repartition.io.stream.allocate_dataset).

Every key computes each step from that step's data alone (domain.md, "French keys
applied by the DSO": every formula is per step t), so allocating month by month must give
exactly, bit for bit, what one ``allocate`` over the whole year gives. The tests compare
the results dataset read back with ``allocate`` on the concatenated year.

Data: the synthetic community (repartition.synthetic) at 1 h for speed: 8,760 steps,
4 consumers, 2 producers, local months of Europe/Paris (March has 743 hours, October 745).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, errors, keys
from repartition.io import parquet, stream
from repartition.io.parquet import read_results, write_energy
from repartition.io.stream import allocate_dataset
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
    original = parquet.read_energy

    def spy(path, **options):
        calls.append(options["months"])
        return original(path, **options)

    monkeypatch.setattr(parquet, "read_energy", spy)
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
    original = stream._Manifest.write
    writes = []

    def crash_before_recording(self, destination):
        writes.append(sorted(self.months))
        if len(writes) == 2:  # after month 1's directory is in place
            raise SystemExit("power cut")
        original(self, destination)

    monkeypatch.setattr(stream._Manifest, "write", crash_before_recording)
    with pytest.raises(SystemExit):
        allocate_dataset(root, tmp_path / "r", keys.Prorata(), months=["2025-01"], progress=False)
    monkeypatch.setattr(stream._Manifest, "write", original)
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
        allocate_dataset(root, root, keys.Prorata(), progress=False, overwrite=True)
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
