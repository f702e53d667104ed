"""Parquet datasets (repartition.io.parquet): golden data, round trips, pruning, bad input.

Golden datasets are under tests/data/parquet/ (energy_long, energy_wide, results). They
were written once by ``write_energy`` / ``write_results`` (repartition 0.1, pyarrow 26)
from the frames of :func:`golden_frames` below, and are kept so that files written by
that version stay readable: they have no page checksums and their ``_repartition.json``
records no first and last steps (the reader then returns the steps it finds). Their four
steps start at 23:00, 23:30 (31 October 2025, CET, UTC+1) and 00:00, 00:30 (1 November):
the first two belong to the local month 2025-10, the last two to 2025-11, while all four
are on 31 October in UTC.

Expected results of the prorata key, worked by hand from docs/rules.md ("Default dynamic
(prorata)", A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])), with C = (PRM_B,
PRM_A) and P = PV_1:

- 23:00: C = (1.5, 0.5), sum 2.0, P 1.0, ratio 0.5 -> A = (0.75, 0.25); COMPLEMENT =
  (0.75, 0.25); AUTOPROD 1.0; SURPLUS 0.
- 23:30: C = (0.0, 0.25), P 0.5, ratio min(1, 2) = 1 -> A = (0, 0.25); COMPLEMENT 0;
  AUTOPROD 0.25; SURPLUS 0.5 - 0.25 = 0.25.
- 00:00: P 0 -> A = 0; COMPLEMENT = C = (0.75, 1.0); AUTOPROD 0; SURPLUS 0.
- 00:30: C = (1.5, 0.125), sum 1.625, P 2.0, ratio 1 -> A = C; COMPLEMENT 0; AUTOPROD
  1.625; SURPLUS 0.375.

Every number is exact in binary floating point, so the comparisons are exact.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repartition import allocate, errors, keys
from repartition.io.parquet import (
    _dataset,
    _write,
    dataset_months,
    read_energy,
    read_results,
    write_energy,
    write_results,
)

DATA = Path(__file__).parent / "data" / "parquet"
PARIS = "Europe/Paris"
UTC_INDEX = pd.date_range(
    "2025-10-31 22:00", periods=4, freq="30min", tz="UTC", unit="us", name="timestamp"
)


def golden_frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    index = pd.date_range("2025-10-31 23:00", periods=4, freq="30min", tz=PARIS)
    consumption = pd.DataFrame(
        {"PRM_B": [1.5, 0.0, 0.75, 1.5], "PRM_A": [0.5, 0.25, 1.0, 0.125]}, index=index
    )
    production = pd.DataFrame({"PV_1": [1.0, 0.5, 0.0, 2.0]}, index=index)
    return consumption, production


def bits(frame: pd.DataFrame) -> np.ndarray:
    """The values' bit patterns: equal bits = exact round trip (NaN and -0.0 included)."""
    return np.ascontiguousarray(frame.to_numpy(dtype=np.float64)).view(np.int64)


def assert_same(read: pd.DataFrame, written: pd.DataFrame) -> None:
    """Same steps (instants), same member ids in the same order, same bits."""
    assert read.index.tz is not None
    assert str(read.index.tz) == "UTC"
    assert read.index.freq == written.index.freq
    assert (read.index == written.index).all()
    assert list(read.columns) == list(written.columns)
    assert read.dtypes.eq(np.float64).all()
    np.testing.assert_array_equal(bits(read), bits(written))


def long_file(path: Path, rows: list[tuple[str, str, str, float]], **types) -> Path:
    """Write long rows (UTC time, member, role, energy) with pyarrow alone."""
    schema = {
        "timestamp": pa.timestamp("us", tz="UTC"),
        "member": pa.string(),
        "role": pa.string(),
        "energy_kwh": pa.float64(),
    }
    schema.update(types)
    columns = list(zip(*rows, strict=True)) if rows else [[]] * 4
    arrays = {}
    for (name, kind), values in zip(schema.items(), columns, strict=True):
        if name == "timestamp":
            values = pd.DatetimeIndex(values, tz="UTC").as_unit("us").asi8
            arrays[name] = pa.array(values, pa.int64()).cast(kind)
        else:
            arrays[name] = pa.array(values, kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(arrays), path)
    return path


def corrupt_chunk(path: Path, row_group: int, column: str) -> None:
    """Overwrite the bytes of one column chunk of one row group with garbage."""
    metadata = pq.ParquetFile(path).metadata
    group = metadata.row_group(row_group)
    chunk = next(
        group.column(j)
        for j in range(group.num_columns)
        if group.column(j).path_in_schema == column
    )
    start = chunk.dictionary_page_offset or chunk.data_page_offset
    raw = bytearray(path.read_bytes())
    raw[start : start + chunk.total_compressed_size] = b"\xab" * chunk.total_compressed_size
    path.write_bytes(bytes(raw))


def part(root: Path, month: str) -> Path:
    return root / f"month={month}" / "part-0.parquet"


# --- golden data ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["energy_long", "energy_wide"])
def test_golden_energy_datasets_read(name):
    consumption, production = read_energy(DATA / name)
    # The steps, in UTC: 23:00 CET on 31 October is 22:00 UTC.
    pd.testing.assert_index_equal(consumption.index, UTC_INDEX)
    assert consumption.index.freq == pd.Timedelta("30min")
    # Members in the order they were written (PRM_B before PRM_A), values as written.
    assert list(consumption.columns) == ["PRM_B", "PRM_A"]
    assert consumption.columns.name == "consumer"
    assert production.columns.name == "producer"
    np.testing.assert_array_equal(
        consumption.to_numpy(), [[1.5, 0.5], [0.0, 0.25], [0.75, 1.0], [1.5, 0.125]]
    )
    np.testing.assert_array_equal(production["PV_1"].to_numpy(), [1.0, 0.5, 0.0, 2.0])


@pytest.mark.parametrize("name", ["energy_long", "energy_wide"])
def test_golden_energy_one_local_month(name):
    # 2025-11 (Paris) holds the steps of 00:00 and 00:30 local, 23:00 and 23:30 UTC.
    consumption, production = read_energy(DATA / name, months="2025-11")
    assert list(consumption.index.strftime("%H:%M")) == ["23:00", "23:30"]
    np.testing.assert_array_equal(consumption["PRM_A"].to_numpy(), [1.0, 0.125])
    np.testing.assert_array_equal(production["PV_1"].to_numpy(), [0.0, 2.0])


def test_golden_results_read():
    results = read_results(DATA / "results")
    assert results.key == "prorata"
    # Hand-worked values: see the module's docstring.
    np.testing.assert_array_equal(
        results.allocated.to_numpy(), [[0.75, 0.25], [0.0, 0.25], [0.0, 0.0], [1.5, 0.125]]
    )
    np.testing.assert_array_equal(
        results.grid_supply.to_numpy(), [[0.75, 0.25], [0.0, 0.0], [0.75, 1.0], [0.0, 0.0]]
    )
    np.testing.assert_array_equal(results.self_consumed["PV_1"], [1.0, 0.25, 0.0, 1.625])
    np.testing.assert_array_equal(results.surplus["PV_1"], [0.0, 0.25, 0.0, 0.375])
    np.testing.assert_array_equal(results.production["PV_1"], [1.0, 0.5, 0.0, 2.0])
    # Totals: A = 0.75 + 0.25 + 0.25 + 1.625 = 2.875; C = 5.625; P = 3.5.
    summary = results.summary()
    assert summary.allocated_kwh == 2.875
    assert summary.consumption_kwh == 5.625
    assert summary.self_consumption_rate == 2.875 / 3.5
    assert dataset_months(DATA / "results") == ["2025-10", "2025-11"]


def test_results_match_allocate_on_golden_frames(tmp_path):
    allocation = allocate(*golden_frames(), keys.Prorata())
    write_results(tmp_path / "results", allocation)
    results = read_results(tmp_path / "results")
    for name in (
        "consumption",
        "allocated",
        "grid_supply",
        "production",
        "self_consumed",
        "surplus",
    ):
        assert_same(getattr(results, name), getattr(allocation, name))
    assert results.summary() == allocation.summary()


def test_writer_rows_long_sorted_by_role_member_time(tmp_path):
    write_energy(tmp_path / "energy", *golden_frames())
    table = pq.read_table(part(tmp_path / "energy", "2025-10"))
    # Plain Parquet strings for member and role (no stored Arrow schema).
    assert table.schema.field("member").type == pa.string()
    assert table.schema.field("role").type == pa.string()
    assert table.schema.field("timestamp").type == pa.timestamp("us", tz="UTC")
    rows = [
        (t.strftime("%H:%M"), m, r, e)
        for t, m, r, e in zip(*(table.column(i).to_pylist() for i in range(4)), strict=True)
    ]
    # Consumers first, ids sorted (PRM_A before PRM_B), then time; only October's steps.
    assert rows == [
        ("22:00", "PRM_A", "consumer", 0.5),
        ("22:30", "PRM_A", "consumer", 0.25),
        ("22:00", "PRM_B", "consumer", 1.5),
        ("22:30", "PRM_B", "consumer", 0.0),
        ("22:00", "PV_1", "producer", 1.0),
        ("22:30", "PV_1", "producer", 0.5),
    ]
    description = json.loads((tmp_path / "energy" / "_repartition.json").read_text())
    assert description["layout"] == "long"
    assert description["tz"] == PARIS
    assert description["step_seconds"] == 1800
    assert description["consumers"] == ["PRM_B", "PRM_A"]


def test_writer_wide_roles_in_field_metadata(tmp_path):
    write_energy(tmp_path / "energy", *golden_frames(), layout="wide")
    schema = pq.read_schema(part(tmp_path / "energy", "2025-11"))
    assert schema.names == ["timestamp", "PRM_B", "PRM_A", "PV_1"]
    assert schema.field("PRM_A").metadata == {b"role": b"consumer"}
    assert schema.field("PV_1").metadata == {b"role": b"producer"}


def test_results_file_has_nulls_where_a_quantity_does_not_apply(tmp_path):
    write_results(tmp_path / "results", allocate(*golden_frames(), keys.Prorata()))
    table = pq.read_table(part(tmp_path / "results", "2025-11")).to_pandas()
    consumers, producers = table[table.role == "consumer"], table[table.role == "producer"]
    assert consumers[["autoprod_kwh", "surplus_kwh"]].isna().all().all()
    assert producers[["autocons_kwh", "complement_kwh"]].isna().all().all()
    # 00:30 local: PV_1 surplus 0.375 (hand value above).
    assert producers.surplus_kwh.tolist() == [0.0, 0.375]


# --- round trips ----------------------------------------------------------------------


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_round_trip_a_year_across_dst(tmp_path, layout):
    index = pd.date_range("2025-01-01", "2026-01-01", freq="30min", tz=PARIS, inclusive="left")
    rng = np.random.default_rng(3)
    consumption = pd.DataFrame(rng.random((len(index), 3)), index=index, columns=["c1", "c2", "c3"])
    production = pd.DataFrame(rng.random((len(index), 2)) * 5, index=index, columns=["p1", "p2"])
    consumption.iloc[5, 1] = np.nan  # stored as is
    original = consumption.copy()
    write_energy(tmp_path / "d", consumption, production, layout=layout)
    pd.testing.assert_frame_equal(consumption, original)  # inputs untouched
    assert dataset_months(tmp_path / "d") == [f"2025-{m:02d}" for m in range(1, 13)]
    read_consumption, read_production = read_energy(tmp_path / "d")
    assert_same(read_consumption, consumption)
    assert_same(read_production, production)
    # October has the 25-hour day: 31 x 48 + 2 steps.
    october, _ = read_energy(tmp_path / "d", months=["2025-10"])
    assert len(october) == 31 * 48 + 2


@st.composite
def communities(draw):
    step = draw(st.sampled_from(["15min", "30min", "60min"]))
    start = draw(
        st.sampled_from(
            ["2025-03-29 20:00", "2025-03-31 21:00", "2025-10-25 22:00", "2024-12-31 22:00"]
        )
    )
    steps = draw(st.integers(1, 120))
    tz = draw(st.sampled_from([PARIS, PARIS, "UTC", "America/New_York"]))
    index = pd.date_range(start, periods=steps, freq=step, tz=PARIS)
    names = draw(
        st.lists(
            st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=10).filter(
                lambda name: name not in ("timestamp", "month")
            ),
            min_size=2,
            max_size=6,
            unique=True,
        )
    )
    cut = draw(st.integers(1, len(names) - 1))
    energy = st.one_of(
        st.floats(min_value=0.0, max_value=1e308, allow_subnormal=True),
        st.sampled_from([0.0, -0.0, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308]),
    )

    def table(columns):
        values = draw(
            st.lists(
                st.lists(energy, min_size=len(columns), max_size=len(columns)),
                min_size=steps,
                max_size=steps,
            )
        )
        return pd.DataFrame(values, index=index, columns=columns, dtype=np.float64)

    return table(names[:cut]), table(names[cut:]), tz


@given(community=communities(), layout=st.sampled_from(["long", "wide"]))
def test_round_trip_is_exact_property(community, layout):
    consumption, production, tz = community
    with tempfile.TemporaryDirectory() as folder:
        write_energy(Path(folder) / "d", consumption, production, layout=layout, tz=tz)
        read_consumption, read_production = read_energy(Path(folder) / "d")
    assert_same(read_consumption, consumption)
    assert_same(read_production, production)


def test_member_both_consumer_and_producer_in_long(tmp_path):
    consumption, production = golden_frames()
    production = production.rename(columns={"PV_1": "PRM_A"})
    write_energy(tmp_path / "d", consumption, production)
    read_consumption, read_production = read_energy(tmp_path / "d", members=["PRM_A"])
    assert_same(read_consumption, consumption[["PRM_A"]])
    assert_same(read_production, production)


# --- selection and pruning ------------------------------------------------------------


@pytest.fixture
def quarter(tmp_path):
    """January to March 2025 at 30 min, 3 consumers, 1 producer, long and wide."""
    index = pd.date_range("2025-01-01", "2025-04-01", freq="30min", tz=PARIS, inclusive="left")
    rng = np.random.default_rng(7)
    consumption = pd.DataFrame(rng.random((len(index), 3)), index=index, columns=["a", "b", "c"])
    production = pd.DataFrame(rng.random((len(index), 1)), index=index, columns=["pv"])
    for layout in ("long", "wide"):
        write_energy(tmp_path / layout, consumption, production, layout=layout)
    return tmp_path, consumption, production


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_other_months_are_never_opened(quarter, layout):
    root, consumption, _ = quarter
    february = part(root / layout, "2025-02")
    february.write_bytes(february.read_bytes()[:100])  # truncated: unreadable if opened
    march, _ = read_energy(root / layout, months=["2025-03"])
    assert_same(march, consumption.loc["2025-03"])
    window, _ = read_energy(root / layout, start="2025-03-10", end="2025-03-11 12:00")
    assert_same(window, consumption.loc["2025-03-10 00:00":"2025-03-11 11:30"])
    with pytest.raises(errors.CorruptFileError, match="month=2025-02") as caught:
        read_energy(root / layout, months=["2025-02"])
    assert Path(caught.value.path) == february
    february.unlink()
    january, _ = read_energy(root / layout, end="2025-02-01")
    assert_same(january, consumption.loc["2025-01"])


def test_member_filter_skips_other_members_row_groups(tmp_path, monkeypatch):
    monkeypatch.setattr(_write, "ROW_GROUP_ROWS", 2)  # one member per row group
    consumption, production = golden_frames()
    write_energy(tmp_path / "d", consumption, production)
    october = part(tmp_path / "d", "2025-10")
    # Row groups: 0 PRM_A, 1 PRM_B, 2 PV_1 (role, then sorted id).
    assert pq.ParquetFile(october).metadata.num_row_groups == 3
    corrupt_chunk(october, 1, "energy_kwh")
    read_consumption, read_production = read_energy(tmp_path / "d", members=["PRM_A", "PV_1"])
    assert_same(read_consumption, consumption[["PRM_A"]])
    assert_same(read_production, production)
    with pytest.raises(errors.CorruptFileError, match="row group 1") as caught:
        read_energy(tmp_path / "d", members=["PRM_B"])
    assert caught.value.row_group == 1
    assert Path(caught.value.path) == october


def test_wide_reads_only_the_selected_columns(tmp_path):
    consumption, production = golden_frames()
    write_energy(tmp_path / "d", consumption, production, layout="wide")
    corrupt_chunk(part(tmp_path / "d", "2025-11"), 0, "PRM_B")
    read_consumption, _ = read_energy(tmp_path / "d", members=["PRM_A"])
    assert_same(read_consumption, consumption[["PRM_A"]])
    with pytest.raises(errors.CorruptFileError, match=r"month=2025-11.*row group 0"):
        read_energy(tmp_path / "d")


def test_selection_errors(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    with pytest.raises(errors.UnknownMemberError, match="'PRM_Z'") as caught:
        read_energy(tmp_path / "d", members=["PRM_Z"])
    assert caught.value.member == "PRM_Z"
    with pytest.raises(errors.EmptyPeriodError, match="2025-12"):
        read_energy(tmp_path / "d", months=["2025-12"])
    with pytest.raises(errors.EmptyPeriodError):
        read_energy(tmp_path / "d", start="2026-01-01")
    with pytest.raises(ValueError, match="YYYY-MM"):
        read_energy(tmp_path / "d", months=["2025-1"])
    with pytest.raises(FileNotFoundError):
        read_energy(tmp_path / "nowhere")


def test_naive_bounds_are_local_times(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    # 00:00 local on 1 November is 23:00 UTC on 31 October.
    consumption, _ = read_energy(tmp_path / "d", start="2025-11-01 00:00")
    assert list(consumption.index.strftime("%H:%M")) == ["23:00", "23:30"]


# --- datasets from other tools (no _repartition.json) ---------------------------------


def test_foreign_long_dataset(tmp_path):
    # Two 30-min steps in January, UTC; PRM_B is missing at 00:30 (absent -> NaN).
    long_file(
        part(tmp_path, "2025-01"),
        [
            ("2025-01-01 00:00", "PRM_B", "consumer", 2.0),
            ("2025-01-01 00:00", "PRM_A", "consumer", 1.0),
            ("2025-01-01 00:30", "PRM_A", "consumer", 3.0),
            ("2025-01-01 00:00", "PV", "producer", 0.5),
            ("2025-01-01 00:30", "PV", "producer", 0.25),
        ],
    )
    consumption, production = read_energy(tmp_path, tz="UTC")
    assert list(consumption.columns) == ["PRM_A", "PRM_B"]  # sorted without metadata
    assert consumption.index.freq == pd.Timedelta("30min")
    np.testing.assert_array_equal(consumption.to_numpy(), [[1.0, 2.0], [3.0, np.nan]])
    with pytest.raises(errors.MissingValueError) as caught:
        allocate(consumption, production, keys.Prorata())
    assert caught.value.member == "PRM_B"
    assert caught.value.timestamp == pd.Timestamp("2025-01-01 00:30", tz="UTC")


def test_foreign_wide_dataset_needs_roles(tmp_path):
    table = pa.table(
        {
            "timestamp": pa.array([0, 1_800_000_000], pa.timestamp("us", tz="UTC")),
            "PRM_A": [1.0, 2.0],
        }
    )
    path = part(tmp_path, "1970-01")
    path.parent.mkdir(parents=True)
    pq.write_table(table, path)
    with pytest.raises(errors.ColumnError, match="'PRM_A' has no role") as caught:
        read_energy(tmp_path, tz="UTC")
    assert caught.value.column == "PRM_A"


# --- bad files ------------------------------------------------------------------------

GOOD_ROWS = [
    ("2025-01-01 00:00", "PRM_A", "consumer", 1.0),
    ("2025-01-01 00:30", "PRM_A", "consumer", 2.0),
    ("2025-01-01 00:00", "PV", "producer", 0.5),
    ("2025-01-01 00:30", "PV", "producer", 0.5),
]


def test_truncated_file(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    path = part(tmp_path / "d", "2025-10")
    path.write_bytes(path.read_bytes()[:-20])
    with pytest.raises(errors.CorruptFileError, match="truncated or corrupted") as caught:
        read_energy(tmp_path / "d")
    assert Path(caught.value.path) == path
    assert caught.value.row_group is None


@pytest.mark.parametrize(
    ("types", "column"),
    [
        ({"energy_kwh": pa.float32()}, "energy_kwh"),
        ({"timestamp": pa.timestamp("us")}, "timestamp"),
        ({"member": pa.int64()}, "member"),
    ],
)
def test_wrong_column_type(tmp_path, types, column):
    rows = [(t, 7 if column == "member" else m, r, e) for t, m, r, e in GOOD_ROWS]
    path = long_file(part(tmp_path, "2025-01"), rows, **types)
    with pytest.raises(errors.ColumnError, match=column) as caught:
        read_energy(tmp_path, tz="UTC")
    assert caught.value.column == column
    assert Path(caught.value.path) == path


def test_missing_column(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    path = part(tmp_path / "d", "2025-10")
    pq.write_table(pq.read_table(path).drop_columns(["energy_kwh"]), path)
    with pytest.raises(errors.ColumnError, match="no column 'energy_kwh'") as caught:
        read_energy(tmp_path / "d")
    assert caught.value.column == "energy_kwh"
    assert Path(caught.value.path) == path


def test_unknown_role(tmp_path):
    rows = [*GOOD_ROWS, ("2025-01-01 00:00", "BAT", "storage", 1.0)]
    path = long_file(part(tmp_path, "2025-01"), rows)
    with pytest.raises(errors.ColumnError, match="'storage' of member 'BAT'") as caught:
        read_energy(tmp_path, tz="UTC")
    assert caught.value.column == "role"
    assert caught.value.member == "BAT"
    assert Path(caught.value.path) == path


def test_conflicting_duplicate_rows(tmp_path):
    rows = [*GOOD_ROWS, ("2025-01-01 00:30", "PRM_A", "consumer", 2.5)]
    path = long_file(part(tmp_path, "2025-01"), rows)
    with pytest.raises(errors.ConflictingValuesError, match=r"values 2\.0 and 2\.5") as caught:
        read_energy(tmp_path, tz="UTC")
    assert caught.value.member == "PRM_A"
    assert caught.value.timestamp == pd.Timestamp("2025-01-01 00:30", tz="UTC")
    assert Path(caught.value.path) == path


def test_identical_duplicates_in_two_files_are_merged(tmp_path):
    long_file(part(tmp_path, "2025-01"), GOOD_ROWS)
    long_file(tmp_path / "month=2025-01" / "part-1.parquet", GOOD_ROWS[1:2])
    consumption, _ = read_energy(tmp_path, tz="UTC")
    assert consumption["PRM_A"].tolist() == [1.0, 2.0]


def test_conflict_across_two_files_names_the_second(tmp_path):
    long_file(part(tmp_path, "2025-01"), GOOD_ROWS)
    other = long_file(
        tmp_path / "month=2025-01" / "part-1.parquet",
        [("2025-01-01 00:00", "PV", "producer", 0.75)],
    )
    with pytest.raises(errors.ConflictingValuesError) as caught:
        read_energy(tmp_path, tz="UTC")
    assert Path(caught.value.path) == other
    assert caught.value.member == "PV"


def test_wide_duplicated_timestamp_with_other_values(tmp_path):
    consumption, production = golden_frames()
    write_energy(tmp_path / "d", consumption, production, layout="wide")
    path = part(tmp_path / "d", "2025-11")
    table = pq.read_table(path)
    doubled = pa.concat_tables(
        [table, table.slice(0, 1).set_column(1, table.schema.field(1), [[9.0]])]
    )
    pq.write_table(doubled, path)
    with pytest.raises(errors.ConflictingValuesError, match=r"9\.0") as caught:
        read_energy(tmp_path / "d")
    assert caught.value.member == "PRM_B"
    assert caught.value.timestamp == pd.Timestamp("2025-10-31 23:00", tz="UTC")


def test_timestamp_off_the_step_grid(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())  # 30-min steps
    rows = [("2025-10-31 22:10", "PV_1", "producer", 0.5)]
    path = long_file(tmp_path / "d" / "month=2025-10" / "part-1.parquet", rows)
    with pytest.raises(errors.IrregularStepError, match="22:10") as caught:
        read_energy(tmp_path / "d")
    assert Path(caught.value.path) == path
    assert caught.value.member == "PV_1"


def test_step_inferred_from_the_most_common_difference(tmp_path):
    # No metadata; one stray 10-minute difference among 30-minute ones.
    rows = [*GOOD_ROWS, ("2025-01-01 01:00", "PV", "producer", 0.5)]
    rows += [("2025-01-01 01:10", "PRM_A", "consumer", 0.5)]
    path = long_file(part(tmp_path, "2025-01"), rows)
    with pytest.raises(errors.IrregularStepError, match="01:10") as caught:
        read_energy(tmp_path, tz="UTC")
    assert Path(caught.value.path) == path
    assert caught.value.member == "PRM_A"


def test_row_in_the_wrong_month_directory(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    october, november = part(tmp_path / "d", "2025-10"), part(tmp_path / "d", "2025-11")
    shutil.copy(november, october.with_name("part-1.parquet"))
    with pytest.raises(errors.ColumnError, match="not in the local month 2025-10") as caught:
        read_energy(tmp_path / "d")
    assert caught.value.column == "timestamp"


def test_member_absent_from_the_metadata(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    rows = [("2025-10-31 22:00", "PRM_X", "consumer", 1.0)]
    long_file(tmp_path / "d" / "month=2025-10" / "part-1.parquet", rows)
    with pytest.raises(errors.UnknownMemberError, match="'PRM_X'") as caught:
        read_energy(tmp_path / "d")
    assert caught.value.member == "PRM_X"
    assert "part-1" in str(caught.value.path)


def test_corrupt_metadata_file(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    (tmp_path / "d" / "_repartition.json").write_text("{not json")
    with pytest.raises(errors.CorruptFileError, match=r"_repartition\.json"):
        read_energy(tmp_path / "d")
    with pytest.raises(errors.FileFormatError, match="not a results dataset"):
        read_results(DATA / "energy_long")


# --- writers --------------------------------------------------------------------------


def test_writers_refuse_bad_frames(tmp_path):
    consumption, production = golden_frames()
    with pytest.raises(errors.ColumnError, match="7") as caught:
        write_energy(tmp_path / "a", consumption.rename(columns={"PRM_A": 7}), production)
    assert caught.value.column == 7
    with pytest.raises(errors.ColumnError, match="'timestamp'"):
        write_energy(
            tmp_path / "b",
            consumption.rename(columns={"PRM_A": "timestamp"}),
            production,
            layout="wide",
        )
    with pytest.raises(errors.ColumnError, match="'PRM_A' \\(producer and a consumer\\)"):
        write_energy(
            tmp_path / "c", consumption, production.rename(columns={"PV_1": "PRM_A"}), layout="wide"
        )
    with pytest.raises(errors.NaiveTimestampError):
        write_energy(tmp_path / "d", consumption.tz_localize(None), production.tz_localize(None))
    with pytest.raises(ValueError, match="layout"):
        write_energy(tmp_path / "e", consumption, production, layout="tall")
    with pytest.raises(ValueError, match="time zone"):
        write_energy(tmp_path / "f", consumption, production, tz="Mars/Olympus")
    assert not any(tmp_path.iterdir())  # nothing left behind


def test_writers_are_atomic(tmp_path, monkeypatch):
    write_energy(tmp_path / "d", *golden_frames())
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    calls = []

    def failing(path, tables, *, wide):
        calls.append(path)
        if len(calls) % 2 == 0:  # the second month of each dataset
            raise OSError("disk full")
        return original(path, tables, wide=wide)

    original = _write.write_file
    monkeypatch.setattr(_write, "write_file", failing)
    with pytest.raises(OSError, match="disk full"):
        write_energy(tmp_path / "d", *golden_frames(), overwrite=True)
    with pytest.raises(OSError, match="disk full"):
        write_energy(tmp_path / "new", *golden_frames())
    # The old dataset is intact, no partial new one, no temporary directory left.
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    with pytest.raises(FileExistsError):
        write_energy(tmp_path / "d", *golden_frames())


def test_read_results_selection(tmp_path):
    write_results(tmp_path / "r", allocate(*golden_frames(), keys.Prorata()))
    # 23:30 local on 31 October (22:30 UTC) to the end: PV_1's surplus 0.25, 0, 0.375.
    results = read_results(tmp_path / "r", members=["PV_1"], start="2025-10-31 23:30")
    assert list(results.consumption.columns) == []
    np.testing.assert_array_equal(results.surplus["PV_1"], [0.25, 0.0, 0.375])
    with pytest.raises(errors.EmptyPeriodError, match="2025-12"):
        read_results(tmp_path / "r", months=["2025-12"])


def test_nonexistent_local_bound(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    with pytest.raises(errors.NonexistentTimeError, match="2025-03-30 02:30"):
        read_energy(tmp_path / "d", start="2025-03-30 02:30")


# --- review fixes ---------------------------------------------------------------------


def test_every_damaged_byte_of_the_pages_is_an_error_or_harmless(tmp_path):
    # Pages carry a CRC, verified on read: flipping one bit anywhere in the column
    # chunks (headers and data of every page) gives back the same values or a
    # CorruptFileError naming the file and row group, never other values.
    consumption, production = golden_frames()
    write_energy(tmp_path / "d", consumption, production)
    path = part(tmp_path / "d", "2025-10")
    good = path.read_bytes()
    metadata = pq.ParquetFile(path).metadata
    group = metadata.row_group(0)
    first = min(
        group.column(j).dictionary_page_offset or group.column(j).data_page_offset
        for j in range(group.num_columns)
    )
    end = max(
        (group.column(j).dictionary_page_offset or group.column(j).data_page_offset)
        + group.column(j).total_compressed_size
        for j in range(group.num_columns)
    )
    failures, same = [], 0
    for position in range(first, end, 5):
        damaged = bytearray(good)
        damaged[position] ^= 0x10
        path.write_bytes(bytes(damaged))
        try:
            read, _ = read_energy(tmp_path / "d", months="2025-10")
        except errors.CorruptFileError as error:
            failures.append((Path(error.path), error.row_group))
        else:
            np.testing.assert_array_equal(bits(read), bits(consumption.iloc[:2]))
            same += 1
    assert len(failures) > same  # most bytes of a page are checked
    assert set(failures) == {(path, 0)}


def test_decoding_errors_name_the_file_and_row_group(tmp_path, monkeypatch):
    from repartition.io.parquet import _scan, _scatter

    monkeypatch.setattr(_write, "ROW_GROUP_ROWS", 2)  # one member per row group
    write_energy(tmp_path / "d", *golden_frames())
    path = part(tmp_path / "d", "2025-10")
    corrupt_chunk(path, 1, "member")
    fragment = next(iter(_dataset.month_fragments(tmp_path / "d", ["2025-10"]).values()))[0]
    # Dictionary indices beyond the dictionary (what a damaged file without checksums
    # can hold) are refused before any lookup, and reported as a corrupt file.
    indices = pa.array(np.array([0, 3], dtype=np.int32))
    member = pa.DictionaryArray.from_arrays(indices, pa.array(["PRM_A"]), safe=False)
    batch = pa.record_batch({"member": member})
    with pytest.raises(errors.CorruptFileError, match="row group 1") as caught:
        _scan.scan(
            fragment,
            ["member"],
            None,
            lambda batch: _scatter.dictionary_codes(batch, "member", str(path)),
            dictionary=True,
            batches=[batch],
        )
    assert Path(caught.value.path) == path
    assert caught.value.row_group == 1
    assert "beyond its dictionary" in caught.value.message


NAN_PAYLOADS = np.array(
    [0x7FF8000000000001, 0xFFF8000000000000, 0x7FF0000000000001, 0x7FF8000000000000],
    dtype=np.uint64,
).view(np.float64)


@pytest.mark.parametrize("layout", ["long", "wide"])
def test_nan_payloads_and_signed_zeros_round_trip_in_any_member_order(tmp_path, layout):
    # Members written in the order (B, A): the long file holds them sorted (A, B), so the
    # reader scatters them out of order (the path that compares cells bit for bit).
    index = pd.date_range("2025-01-01", periods=4, freq="30min", tz=PARIS)
    consumption = pd.DataFrame(
        {"B": NAN_PAYLOADS, "A": [0.0, -0.0, NAN_PAYLOADS[0], 5e-324]}, index=index
    )
    production = pd.DataFrame({"P": -np.zeros(4)}, index=index)
    write_energy(tmp_path / "d", consumption, production, layout=layout)
    read_consumption, read_production = read_energy(tmp_path / "d")
    assert_same(read_consumption, consumption)
    assert_same(read_production, production)


@given(
    payloads=st.lists(st.integers(0, (1 << 51) - 1), min_size=3, max_size=3),
    signs=st.lists(st.booleans(), min_size=3, max_size=3),
    names=st.permutations(["m1", "m2", "m3"]),
)
def test_unsorted_members_keep_every_bit_property(payloads, signs, names):
    quiet = [
        (0xFFF8 << 48 if sign else 0x7FF8 << 48) | payload
        for payload, sign in zip(payloads, signs, strict=True)
    ]
    values = np.array(quiet, dtype=np.uint64).view(np.float64)
    index = pd.date_range("2025-01-31 23:00", periods=2, freq="30min", tz=PARIS)
    columns = {
        name: [values[number], -0.0 if signs[number] else 0.0] for number, name in enumerate(names)
    }
    consumption = pd.DataFrame(columns, index=index)
    production = pd.DataFrame({"P": [1.0, 2.0]}, index=index)
    with tempfile.TemporaryDirectory() as folder:
        write_energy(Path(folder) / "d", consumption, production)
        read_consumption, _ = read_energy(Path(folder) / "d")
    assert_same(read_consumption, consumption)


@pytest.mark.parametrize(
    ("first", "second", "shown"),
    [(0.0, -0.0, "-0.0 and 0.0"), (NAN_PAYLOADS[0], NAN_PAYLOADS[3], "bits 0x7ff8000000000001")],
)
def test_a_cell_twice_with_other_bits_is_a_conflict(tmp_path, first, second, shown):
    rows = [("2025-01-01 00:00", "PRM_A", "consumer", first), *GOOD_ROWS[2:]]
    long_file(part(tmp_path, "2025-01"), rows)
    other = long_file(
        tmp_path / "month=2025-01" / "part-1.parquet",
        [("2025-01-01 00:00", "PRM_A", "consumer", second)],
    )
    with pytest.raises(errors.ConflictingValuesError, match=shown) as caught:
        read_energy(tmp_path, tz="UTC")
    assert Path(caught.value.path) == other
    assert caught.value.member == "PRM_A"
    assert caught.value.timestamp == pd.Timestamp("2025-01-01 00:00", tz="UTC")


@pytest.mark.parametrize(
    ("tz", "start"),
    [
        ("America/Havana", "2020-10-31 20:00"),  # 1 Nov 2020: midnight occurs twice
        ("America/Asuncion", "2017-09-30 20:00"),  # 1 Oct 2017: midnight does not exist
    ],
)
def test_months_whose_first_midnight_is_ambiguous_or_skipped(tmp_path, tz, start):
    index = pd.date_range(start, periods=10, freq="1h", tz="UTC")
    consumption = pd.DataFrame({"A": np.arange(10.0)}, index=index)
    production = pd.DataFrame({"P": np.ones(10)}, index=index)
    write_energy(tmp_path / "d", consumption, production, tz=tz)
    read_consumption, _ = read_energy(tmp_path / "d")
    assert_same(read_consumption, consumption)
    # The second month starts at the first instant that is local time in it: 04:00 UTC
    # (00:00 CDT, before the clocks go back) in Havana; 04:00 UTC (01:00 -03, just after
    # the skipped midnight) in Asuncion.
    month = dataset_months(tmp_path / "d")[1]
    later, _ = read_energy(tmp_path / "d", months=month)
    assert later.index[0] == pd.Timestamp(start, tz="UTC") + pd.Timedelta(hours=8)
    assert len(later) == 2


def test_overwrite_replaces_only_a_dataset_or_an_empty_directory(tmp_path):
    consumption, production = golden_frames()
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.tex").write_text("years of work")
    (tmp_path / "notes.txt").write_text("keep")
    allocation = allocate(consumption, production, keys.Prorata())
    for target in (tmp_path / "thesis", tmp_path / "notes.txt"):
        with pytest.raises(FileExistsError, match="not a repartition dataset"):
            write_energy(target, consumption, production, overwrite=True)
        with pytest.raises(FileExistsError, match="not a repartition dataset"):
            write_results(target, allocation, overwrite=True)
    assert (tmp_path / "thesis" / "chapter1.tex").read_text() == "years of work"
    assert (tmp_path / "notes.txt").read_text() == "keep"
    (tmp_path / "empty").mkdir()
    write_energy(tmp_path / "empty", consumption, production, overwrite=True)
    write_results(tmp_path / "empty", allocation, overwrite=True)  # replaces a dataset
    assert read_results(tmp_path / "empty").key == "prorata"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "notes.txt", "thesis"]


def test_write_results_refuses_a_step_of_unknown_length(tmp_path):
    one = pd.DatetimeIndex([pd.Timestamp("2025-01-01 00:15", tz=PARIS)])
    allocation = allocate(
        pd.DataFrame({"A": [1.0]}, index=one), pd.DataFrame({"P": [1.0]}, index=one), keys.Prorata()
    )
    with pytest.raises(errors.IrregularStepError, match="freq") as caught:
        write_results(tmp_path / "r", allocation)
    assert caught.value.timestamp == one[0]
    assert not (tmp_path / "r").exists()


def test_only_month_directories_are_data(tmp_path):
    write_energy(tmp_path / "d", *golden_frames())
    (tmp_path / "d" / ".month=2025-10.ab12cd34.tmp").mkdir()  # a writer's temporary: skipped
    (tmp_path / "d" / "_notes").mkdir()
    assert dataset_months(tmp_path / "d") == ["2025-10", "2025-11"]
    write_energy(tmp_path / "d" / "results" / "x", *golden_frames())  # a dataset inside
    with pytest.raises(errors.FileFormatError, match="results") as caught:
        read_energy(tmp_path / "d")
    assert Path(caught.value.path) == tmp_path / "d" / "results"
    shutil.rmtree(tmp_path / "d" / "results")
    (tmp_path / "d" / "month=2025-10" / "old").mkdir()
    with pytest.raises(errors.FileFormatError, match="not a file") as caught:
        read_energy(tmp_path / "d", months="2025-10")
    assert Path(caught.value.path) == tmp_path / "d" / "month=2025-10" / "old"
    assert read_energy(tmp_path / "d", months="2025-11")[0].shape == (2, 2)


def test_steps_missing_at_the_edges_of_the_period_read_as_nan(tmp_path):
    consumption, production = golden_frames()
    write_energy(tmp_path / "d", consumption, production)
    description = json.loads((tmp_path / "d" / "_repartition.json").read_text())
    # The first and last steps, 23:00 local on 31 October and 00:30 on 1 November, in UTC.
    assert description["first_step"] == "2025-10-31T22:00:00+00:00"
    assert description["last_step"] == "2025-10-31T23:30:00+00:00"
    path = part(tmp_path / "d", "2025-10")
    pq.write_table(pq.read_table(path).slice(1, 1), path)  # PRM_A at 22:30 UTC only
    read, _ = read_energy(tmp_path / "d")
    assert_same(read.iloc[2:], consumption.iloc[2:])
    assert len(read) == 4  # the steps no row gives are not cut off
    assert np.isnan(read.iloc[0]).all()
    assert read["PRM_A"].iloc[1] == 0.25
    assert np.isnan(read["PRM_B"].iloc[1])
    with pytest.raises(errors.MissingValueError) as caught:
        allocate(read, production, keys.Prorata())
    assert caught.value.timestamp == pd.Timestamp("2025-10-31 22:00", tz="UTC")


def test_wide_column_of_an_unknown_member(tmp_path):
    write_energy(tmp_path / "d", *golden_frames(), layout="wide")
    path = part(tmp_path / "d", "2025-11")
    table = pq.read_table(path)
    pq.write_table(table.append_column("PRM_Z", table.column("PRM_A")), path)
    with pytest.raises(errors.UnknownMemberError, match="'PRM_Z'") as caught:
        read_energy(tmp_path / "d")
    assert caught.value.member == "PRM_Z"
    assert Path(caught.value.path) == path


@pytest.mark.parametrize("bad", [-1.0, np.inf, -np.inf])
def test_write_energy_refuses_what_is_not_an_energy_and_writes_nothing(tmp_path, bad) -> None:
    index = pd.date_range("2025-01-31 22:00", periods=4, freq="30min", tz="UTC")
    consumption = pd.DataFrame({"PRM_A": [1.0, 2.0, bad, 1.0]}, index=index)
    production = pd.DataFrame({"PV": [0.0, 0.0, 0.0, 0.25]}, index=index)
    with pytest.raises(errors.DataError, match="'PRM_A' at step 2025-01-31 23:00") as caught:
        write_energy(tmp_path / "energy", consumption, production)
    assert caught.value.member == "PRM_A"
    assert not (tmp_path / "energy").exists()
    with_hole = consumption.replace(bad, np.nan)
    write_energy(tmp_path / "energy", with_hole, production)  # a hole is kept, not refused
