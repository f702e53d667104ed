"""The dynamic key file (docs/formats.md, "Dynamic key file"): golden files, round trips, bad input.

Golden files are under tests/data/keys/, written by hand (lines end in CRLF, the writer's
default), each covering one whole local day as the DSO's files do: a few hand-computed rows
repeated over the day. Times: Paris is UTC+1 in November (CET) and UTC+2 in summer (CEST);
on 26 October 2025 the clocks go back from 03:00 CEST to 02:00 CET (a 50-step day).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from repartition import errors
from repartition.io.keyfile import (
    KeyFileName,
    _write,
    read_dynamic_key,
    read_full_dynamic_key,
    round_down_key,
    write_dynamic_key,
    write_full_dynamic_key,
)

DATA = Path(__file__).parent / "data" / "keys"
DAY = DATA / "OPE123_30_01112024_01112024.txt"
AUTUMN = DATA / "OPE123_30_26102025_26102025.txt"
FULL = sorted((DATA / "full").glob("*.txt"))
PRMS = ["30000000000001", "30000000000002", "30000000000003"]
PARIS = "Europe/Paris"


@pytest.fixture(autouse=True)
def _one_numba_thread():
    """Tiny tables: one thread avoids waiting for OpenMP workers (see test_properties.py)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(1)
    yield
    numba.set_num_threads(previous)


def utc(*stamps: str) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(list(stamps), tz="UTC")


def day_index() -> pd.DatetimeIndex:
    """1 November 2024, a whole local day: 48 half-hours."""
    return pd.date_range("2024-11-01 00:00", periods=48, freq="30min", tz=PARIS)


# The exact key behind the golden day file: four rows (fractions), repeated 12 times over
# the day's 48 steps, and why they round so:
#   0.50815 -> floor(5081.5) = 5081 -> 50,81 ; 0.39865 -> 3986 -> 39,86 ; 0.0932 -> 9,32
#   1/3 -> floor(3333.33) = 3333 -> 33,33 (three times: the row sums to 99,99 %)
#   1, 0, 0 and 0, 0, 0 are exact.
# Mass lost per row: 0.00005 + 0.00005 + 0 = 1e-4; 1 - 0.9999 = 1e-4; 0; 0.
CYCLE = [[0.50815, 0.39865, 0.0932], [1 / 3] * 3, [1.0, 0.0, 0.0], [0.0, 0.0, 0.0]]
EXACT_DAY = CYCLE * 12


class TestGolden:
    def test_read_a_day(self):
        key = read_dynamic_key(DAY, members=PRMS)
        # 01/11/2024 00:00 local (CET, UTC+1) is 31/10/2024 23:00 UTC; then every 30 min,
        # up to 01/11/2024 23:30 local = 22:30 UTC: 48 steps.
        assert len(key) == 48
        expected_index = utc(
            "2024-10-31 23:00", "2024-10-31 23:30", "2024-11-01 00:00", "2024-11-01 00:30"
        )
        pd.testing.assert_index_equal(
            key.index[:4], expected_index, check_names=False, check_freq=False
        )
        assert key.index[-1] == pd.Timestamp("2024-11-01 22:30", tz="UTC")
        assert key.index.freq == pd.Timedelta("30min")
        assert list(key.columns) == PRMS
        # Percent / 100: 50,81 % -> 0.5081 ...; the four rows repeat 12 times.
        expected = [
            [0.5081, 0.3986, 0.0932],
            [0.3333, 0.3333, 0.3333],
            [1.0, 0.0, 0.0],
            [0.0, 0.0, 0.0],
        ]
        assert key.to_numpy().tolist() == expected * 12

    def test_read_the_autumn_change(self):
        key = read_dynamic_key(AUTUMN)
        # 50 steps: 00:00 CEST (UTC+2) = 25/10 22:00 UTC ... 02:00, 02:30 CEST (rows 4, 5),
        # then 02:00, 02:30 CET (UTC+1, rows 6, 7), 03:00 CET ... 23:30 CET = 22:30 UTC.
        assert len(key) == 50
        expected_index = utc(
            "2025-10-25 23:30",
            "2025-10-26 00:00",
            "2025-10-26 00:30",
            "2025-10-26 01:00",
            "2025-10-26 01:30",
            "2025-10-26 02:00",
        )
        pd.testing.assert_index_equal(
            key.index[3:9], expected_index, check_names=False, check_freq=False
        )
        assert key.index[0] == pd.Timestamp("2025-10-25 22:00", tz="UTC")
        assert key.index[-1] == pd.Timestamp("2025-10-26 22:30", tz="UTC")
        # Row r carries 2r % for PRM 1 and 100 - 2r % for PRM 2.
        assert key["30000000000001"].tolist() == [2 * r / 100 for r in range(50)]
        assert key["30000000000002"].tolist() == [(100 - 2 * r) / 100 for r in range(50)]

    def test_write_a_day(self, tmp_path):
        key = pd.DataFrame(EXACT_DAY, index=day_index(), columns=PRMS)
        before = key.copy()
        written = write_dynamic_key(key, tmp_path, "OPE123")
        pd.testing.assert_frame_equal(key, before)  # the input is not modified
        assert written.path == tmp_path / DAY.name
        assert written.path.read_bytes() == DAY.read_bytes()  # CRLF, no BOM
        np.testing.assert_allclose(written.rounding_loss, [1e-4, 1e-4, 0.0, 0.0] * 12, atol=1e-12)
        pd.testing.assert_frame_equal(written.coefficients, read_dynamic_key(DAY))
        assert written.energy_lost is None
        assert written.energy_lost_kwh is None

    def test_energy_lost_by_hand(self, tmp_path):
        # Production 10, 3, 2, 0 kWh (repeated over the day like the key); consumption
        # 10 kWh everywhere but PRM 1 at the first step of each cycle (5 kWh).
        # Step 1: exact k * P = 5.0815, 3.9865, 0.932 -> A = 5 (capped), 3.9865, 0.932;
        #         rounded 5.081, 3.986, 0.932 -> A = 5, 3.986, 0.932: lost 0.0005 kWh.
        # Step 2: exact 1/3 * 3 = 1 each; rounded 0.3333 * 3 = 0.9999 each: lost 0.0003.
        # Step 3: k = (1, 0, 0) is exact: 0. Step 4: nothing produced: 0.
        # 0.0008 kWh a cycle, 12 cycles: 0.0096 kWh.
        consumption = pd.DataFrame(10.0, index=day_index(), columns=PRMS)
        consumption.iloc[::4, 0] = 5.0
        production = pd.Series([10.0, 3.0, 2.0, 0.0] * 12, index=day_index(), name="PV")
        written = write_dynamic_key(
            pd.DataFrame(EXACT_DAY, index=day_index(), columns=PRMS),
            tmp_path,
            "OPE123",
            consumption=consumption,
            production=production,
        )
        assert written.energy_lost is not None
        np.testing.assert_allclose(written.energy_lost, [5e-4, 3e-4, 0, 0] * 12, atol=1e-12)
        pd.testing.assert_index_equal(written.energy_lost.index, written.coefficients.index)
        assert written.energy_lost_kwh == pytest.approx(96e-4, abs=1e-12)
        assert written.rounding == "down"

    def test_read_a_full_dynamic_key(self):
        tables = read_full_dynamic_key(FULL, members=PRMS[:2])
        assert list(tables) == ["PV01", "PV02"]
        # Two rows each, alternating over the day's 48 steps.
        assert tables["PV01"].to_numpy().tolist() == [[0.7, 0.3], [0.255, 0.7449]] * 24
        assert tables["PV02"].to_numpy().tolist() == [[0.0, 1.0], [0.1234, 0.5678]] * 24
        assert list(read_full_dynamic_key(FULL, operation="OPE123")) == ["PV01", "PV02"]

    def test_write_a_full_dynamic_key(self, tmp_path):
        # Two steps, repeated over the day:
        # PV01 exact (0.7, 0.3) then (0.255059, 0.744941) -> 25,50 ; 74,49: loses 1e-4.
        # PV02 exact (0, 1) then (0.12345, 0.56789) -> 12,34 ; 56,78: loses 1.4e-4.
        # Production PV01 = 10, 4 and PV02 = 5, 10 kWh; consumption 100 kWh (never capped):
        # each producer's AUTOPROD falls by its lost mass times its production:
        # PV01: 0, 4 * 1e-4 = 4e-4 ; PV02: 0, 10 * 1.4e-4 = 1.4e-3 kWh.
        index = day_index()
        coefficients = {
            "PV01": pd.DataFrame([[0.7, 0.3], [0.255059, 0.744941]] * 24, index, PRMS[:2]),
            "PV02": pd.DataFrame([[0.0, 1.0], [0.12345, 0.56789]] * 24, index, PRMS[:2]),
        }
        consumption = pd.DataFrame(100.0, index=index, columns=PRMS[:2])
        production = pd.DataFrame({"PV01": [10.0, 4.0] * 24, "PV02": [5.0, 10.0] * 24}, index)
        written = write_full_dynamic_key(
            coefficients, tmp_path, "OPE123", consumption=consumption, production=production
        )
        for golden in FULL:
            producer = golden.name.split("_")[1]
            assert written[producer].path.read_bytes() == golden.read_bytes()
            assert written[producer].name.producer == producer
        np.testing.assert_allclose(written["PV01"].energy_lost, [0, 4e-4] * 24, atol=1e-12)
        np.testing.assert_allclose(written["PV02"].energy_lost, [0, 1.4e-3] * 24, atol=1e-12)

    def test_name(self):
        name = KeyFileName.parse("OPE_12_3_15_01112024_30112024.txt")
        assert name.operation == "OPE_12_3"  # underscores inside the operation id are kept
        assert name.step == pd.Timedelta("15min")
        assert str(name) == "OPE_12_3_15_01112024_30112024.txt"


class TestMonths:
    def test_november_2024_at_15_minutes(self, tmp_path):
        index = pd.date_range("2024-11-01", "2024-12-01", freq="15min", tz=PARIS, inclusive="left")
        key = pd.DataFrame({"A": 0.5081, "B": 0.4919}, index=index)
        written = write_dynamic_key(key, tmp_path, "OPE123")
        assert written.path.name == "OPE123_15_01112024_30112024.txt"  # last day inclusive
        assert len(written.path.read_text().splitlines()) == 1 + 2880  # 30 days x 96
        back = read_dynamic_key(written.path)
        assert len(back) == 2880
        pd.testing.assert_frame_equal(back, written.coefficients)
        assert (back["A"] == 0.5081).all()  # an exact hundredth survives binary rounding

    def test_october_2025_at_30_minutes_has_two_more_steps(self, tmp_path):
        index = pd.date_range("2025-10-01", "2025-11-01", freq="30min", tz=PARIS, inclusive="left")
        key = pd.DataFrame({"A": np.linspace(0, 1, len(index))}, index=index)
        written = write_dynamic_key(key, tmp_path, "OPE123")
        lines = written.path.read_text().splitlines()
        assert written.path.name == "OPE123_30_01102025_31102025.txt"
        assert len(lines) - 1 == 1490  # 31 x 48 + 2
        stamps = [line.split(";")[0] for line in lines[1:]]
        assert stamps.count("26/10/2025 02:00") == 2
        assert stamps.count("26/10/2025 02:30") == 2
        back = read_dynamic_key(written.path)
        pd.testing.assert_index_equal(
            back.index, index.tz_convert("UTC"), check_names=False, check_freq=False
        )

    def test_march_2025_at_30_minutes_has_two_fewer_steps(self, tmp_path):
        index = pd.date_range("2025-03-01", "2025-04-01", freq="30min", tz=PARIS, inclusive="left")
        written = write_dynamic_key(pd.DataFrame({"A": 0.25}, index=index), tmp_path, "OPE123")
        stamps = [line.split(";")[0] for line in written.path.read_text().splitlines()[1:]]
        assert len(stamps) == 31 * 48 - 2
        assert "30/03/2025 02:00" not in stamps
        assert len(read_dynamic_key(written.path)) == len(stamps)


# --- properties ------------------------------------------------------------------------------


DAYS = ("2024-11-01", "2025-03-30", "2025-10-26", "2024-12-31")
"""An ordinary day, the spring change (23 hours), the autumn change (25 hours), New Year's Eve."""


def whole_day(day: str, step: str) -> pd.DatetimeIndex:
    """The step starts of one local day (Paris), from 00:00 to the step that ends at 00:00."""
    start = pd.Timestamp(day, tz=PARIS)
    return pd.date_range(start, start + pd.DateOffset(days=1), freq=step, inclusive="left")


@st.composite
def key_tables(draw: st.DrawFn) -> pd.DataFrame:
    """Keys on a whole day: up to 12 drawn rows, repeated over the day's steps."""
    steps = draw(st.integers(1, gen.MAX_STEPS))
    consumers = draw(st.integers(1, gen.MAX_CONSUMERS))
    if draw(st.booleans()):
        values = draw(gen.dynamic_tables(steps, consumers, missing_rows=False))
    else:  # exact hundredths of a percent, rows up to exactly 100 %
        rows = []
        for _ in range(steps):
            cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=consumers)))
            rows.append(np.diff(np.array([0, *cuts[: consumers - 1], cuts[-1]])) / 10_000)
        values = np.vstack(rows)
    index = whole_day(draw(st.sampled_from(DAYS)), draw(st.sampled_from(["30min", "60min"])))
    values = np.resize(values, (len(index), consumers))  # the drawn rows, cyclically
    return pd.DataFrame(values, index, gen.consumer_ids(consumers))


@given(key_tables())
def test_rounding_down_never_exceeds_100_percent(key):
    rounded = round_down_key(key)
    units = np.rint(rounded.to_numpy() * 10_000)
    assert (units.sum(axis=1) <= 10_000).all()
    lost = key.to_numpy() - rounded.to_numpy()
    assert (lost < 1e-4).all()  # each value loses less than 0.01 %...
    assert (lost > -1e-9).all()  # ...and rises at most by the 1e-10 of the epsilon
    on_grid = np.rint(key.to_numpy() * 10_000) / 10_000 == key.to_numpy()
    assert (rounded.to_numpy()[on_grid] == key.to_numpy()[on_grid]).all()  # 0.5081 stays


@given(key_tables())
def test_write_then_read_gives_the_rounded_key_exactly(key):
    with tempfile.TemporaryDirectory() as directory:
        written = write_dynamic_key(key, directory, "OPE123", line_ending="\n")
        back = read_dynamic_key(written.path, members=list(key.columns))
    pd.testing.assert_frame_equal(back, written.coefficients, check_exact=True)
    expected = round_down_key(key).set_axis(key.index.tz_convert("UTC"))
    np.testing.assert_array_equal(back.to_numpy(), expected.to_numpy())
    pd.testing.assert_index_equal(back.index, expected.index, check_names=False, check_freq=False)


# --- bad files -------------------------------------------------------------------------------

NAME = "OPE1_30_01112024_01112024.txt"
HEADER = "Horodate;30000000000001;30000000000002"
ROWS = [
    "01/11/2024 00:00;50,00;50,00",
    "01/11/2024 00:30;25,00;75,00",
    *(
        f"01/11/2024 {hour:02d}:{minute:02d};10,00;20,00"
        for hour in range(1, 24)
        for minute in (0, 30)
    ),
]
"""A valid file's rows: 1 November 2024, 00:00 to 23:30 (48 half-hours)."""


def key_file(folder: Path, lines: list[str], name: str = NAME) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def replaced(row: int, line: str) -> list[str]:
    """The valid file with line ``row`` (1-based, the header is 1) replaced."""
    lines = [HEADER, *ROWS]
    lines[row - 1] = line
    return lines


BAD_FILES = {
    # id: (lines, error class, line, PRM, text the message must show)
    "row above 100 %": (
        replaced(4, "01/11/2024 01:00;60,00;40,01"),
        errors.CoefficientSumError,
        4,
        None,
        ["100,01 %", "01/11/2024 01:00"],
    ),
    "header": (
        replaced(1, "Date;30000000000001;30000000000002"),
        errors.ColumnError,
        1,
        None,
        ["Horodate;<PRM 1>"],
    ),
    "header without PRM": (replaced(1, "Horodate"), errors.ColumnError, 1, None, ["header"]),
    "PRM twice": (
        replaced(1, "Horodate;30000000000001;30000000000001"),
        errors.ColumnError,
        1,
        "30000000000001",
        ["twice"],
    ),
    "empty PRM": (replaced(1, "Horodate;30000000000001;"), errors.ColumnError, 1, "", ["empty"]),
    "short row": (
        replaced(3, "01/11/2024 00:30;25,00"),
        errors.ColumnError,
        3,
        None,
        ["01/11/2024 00:30", "2 fields"],
    ),
    "decimal point": (
        replaced(2, "01/11/2024 00:00;50.00;50,00"),
        errors.FileFormatError,
        2,
        "30000000000001",
        ["'50.00'", "01/11/2024 00:00", "comma"],
    ),
    "one decimal": (
        replaced(3, "01/11/2024 00:30;25,00;75,0"),
        errors.FileFormatError,
        3,
        "30000000000002",
        ["'75,0'", "01/11/2024 00:30"],
    ),
    "empty cell": (
        replaced(3, "01/11/2024 00:30;;75,00"),
        errors.FileFormatError,
        3,
        "30000000000001",
        ["''"],
    ),
    "text": (
        replaced(3, "01/11/2024 00:30;abc;75,00"),
        errors.FileFormatError,
        3,
        "30000000000001",
        ["'abc'"],
    ),
    "negative": (
        replaced(4, "01/11/2024 01:00;-5,00;20,00"),
        errors.CoefficientRangeError,
        4,
        "30000000000001",
        ["-5,00", "01/11/2024 01:00"],
    ),
    "above 100": (
        replaced(4, "01/11/2024 01:00;0,00;150,00"),
        errors.CoefficientRangeError,
        4,
        "30000000000002",
        ["150,00"],
    ),
    "time format": (
        replaced(3, "1/11/2024 00:30;25,00;75,00"),
        errors.FileFormatError,
        3,
        None,
        ["'1/11/2024 00:30'", "dd/mm/yyyy HH:MM"],
    ),
    "impossible date": (
        replaced(3, "31/11/2024 00:30;25,00;75,00"),
        errors.FileFormatError,
        3,
        None,
        ["31/11/2024 00:30"],
    ),
    "step twice": (
        replaced(3, "01/11/2024 00:00;25,00;75,00"),
        errors.DuplicateTimestampError,
        3,
        None,
        ["listed twice", "01/11/2024 00:00"],
    ),
    "unsorted": (
        [HEADER, ROWS[1], ROWS[0], *ROWS[2:]],
        errors.UnsortedTimestampError,
        3,
        None,
        ["01/11/2024 00:00"],
    ),
    "missing step": (
        [HEADER, ROWS[0], *ROWS[2:]],
        errors.StepLengthError,
        3,
        None,
        ["missing steps", "01/11/2024 01:00"],
    ),
    "15-minute rows in a 30-minute file": (
        replaced(3, "01/11/2024 00:15;25,00;75,00"),
        errors.StepLengthError,
        3,
        None,
        ["0 days 00:15:00", "30"],
    ),
    "empty line": ([HEADER, ROWS[0], "", *ROWS[1:]], errors.FileFormatError, 3, None, ["empty"]),
    "fullwidth digits": (
        replaced(3, "01/11/2024 00:30;\uff12\uff15,00;75,00"),
        errors.FileFormatError,
        3,
        "30000000000001",
        ["'\uff12\uff15,00'", "digits 0-9", "01/11/2024 00:30"],
    ),
    "Arabic-Indic digits": (
        replaced(4, "01/11/2024 01:00;10,00;\u0662\u0660,\u0660\u0660"),
        errors.FileFormatError,
        4,
        "30000000000002",
        ["digits 0-9", "01/11/2024 01:00"],
    ),
    "starts at 00:30": (
        [HEADER, *ROWS[1:]],
        errors.FileFormatError,
        2,
        None,
        ["first step starts at 01/11/2024 00:30, not at 00:00", "whole local days"],
    ),
    "ends at 23:30": (
        [HEADER, *ROWS[:-1]],
        errors.FileFormatError,
        48,
        None,
        ["last step, 01/11/2024 23:00, ends at 01/11/2024 23:30", "whole local days"],
    ),
    "no step": ([HEADER], errors.FileFormatError, 1, None, ["no row"]),
    "blank file": ([""], errors.FileFormatError, 1, None, ["empty"]),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_file(tmp_path, case):
    lines, error, line, member, shown = BAD_FILES[case]
    path = key_file(tmp_path, lines)
    with pytest.raises(error) as caught:
        read_dynamic_key(path)
    assert caught.value.path == path
    assert caught.value.line == line
    message = str(caught.value)
    assert str(path) in message
    assert f"line {line}" in message
    if member is not None:
        assert caught.value.member == member
        assert member in message
    for text in shown:
        assert text in message


@pytest.mark.parametrize(
    ("line", "error"),
    [
        ("01/11/2024 01:00;60,00;40,01", errors.CoefficientSumError),
        ("01/11/2024 01:00;60.00;40,00", errors.FileFormatError),
        ("01/11/2024 01:00;-1,00;40,00", errors.CoefficientRangeError),
    ],
)
def test_the_failing_timestamp_is_attached(tmp_path, line, error):
    path = key_file(tmp_path, replaced(4, line))
    with pytest.raises(error) as caught:
        read_dynamic_key(path)
    assert caught.value.timestamp == pd.Timestamp("2024-11-01 01:00", tz=PARIS)


def test_a_partial_day_names_its_step(tmp_path):
    # Half a day (00:00 to 11:30) under a name that claims the whole day.
    path = key_file(tmp_path, [HEADER, *ROWS[:24]])
    with pytest.raises(errors.FileFormatError, match="ends at 01/11/2024 12:00") as caught:
        read_dynamic_key(path)
    assert (caught.value.path, caught.value.line) == (path, 25)
    assert caught.value.timestamp == pd.Timestamp("2024-11-01 11:30", tz=PARIS)


def test_whole_days_across_the_changes(tmp_path):
    # 30 March 2025 has 46 half-hours (no 02:00, 02:30); 26 October 2025 has 50.
    for day, steps in (("2025-03-30", 46), ("2025-10-26", 50)):
        index = whole_day(day, "30min")
        assert len(index) == steps
        written = write_dynamic_key(pd.DataFrame({"A": 0.5}, index), tmp_path, "OPE1")
        assert len(read_dynamic_key(written.path)) == steps
        # without its last step, the day is not whole, on write and on read
        with pytest.raises(errors.FileFormatError, match="not at 00:00"):
            write_dynamic_key(pd.DataFrame({"A": 0.5}, index[:-1]), tmp_path, "OPE2")
        lines = written.path.read_text().splitlines()
        short = key_file(tmp_path, lines[:-1], written.path.name.replace("OPE1", "OPE3"))
        with pytest.raises(errors.FileFormatError, match="not at 00:00") as caught:
            read_dynamic_key(short)
        assert caught.value.line == steps


def test_a_time_skipped_in_spring(tmp_path):
    lines = ["Horodate;A", "30/03/2025 01:30;50,00", "30/03/2025 02:00;50,00"]
    path = key_file(tmp_path, lines, "OPE1_30_30032025_30032025.txt")
    with pytest.raises(errors.NonexistentTimeError) as caught:
        read_dynamic_key(path)
    assert (caught.value.path, caught.value.line) == (path, 3)
    assert str(path) in str(caught.value)
    assert "2025-03-30 02:00" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "which"),
    [("OPE1_30_02112024_02112024.txt", "first"), ("OPE1_30_01112024_02112024.txt", "last")],
)
def test_days_that_contradict_the_name(tmp_path, name, which):
    path = key_file(tmp_path, [HEADER, *ROWS], name)
    with pytest.raises(errors.FileFormatError, match=f"the {which} step is on 01/11/2024"):
        read_dynamic_key(path)


@pytest.mark.parametrize(
    "name",
    [
        "OPE1_30_01112024.txt",  # one day only
        "OPE1_30_01112024_01112024.csv",
        "OPE1_30_31022024_31022024.txt",  # 31 February
        "OPE1_30_02112024_01112024.txt",  # last day before the first
        "OPE1_0_01112024_01112024.txt",  # no step
        "_30_01112024_01112024.txt",  # no operation
    ],
)
def test_bad_names(tmp_path, name):
    path = key_file(tmp_path, [HEADER, *ROWS], name)
    with pytest.raises(errors.FileFormatError) as caught:
        read_dynamic_key(path)
    assert caught.value.path == path
    assert name in str(caught.value)


class TestMembers:
    def test_a_prm_outside_the_operation(self, tmp_path):
        path = key_file(tmp_path, [HEADER, *ROWS])
        with pytest.raises(errors.UnknownMemberError) as caught:
            read_dynamic_key(path, members=["30000000000001"])
        assert (caught.value.member, caught.value.line, caught.value.path) == (
            "30000000000002",
            1,
            path,
        )
        assert "30000000000002" in str(caught.value)
        assert str(path) in str(caught.value)

    def test_a_member_missing_from_the_file(self, tmp_path):
        path = key_file(tmp_path, [HEADER, *ROWS])
        with pytest.raises(errors.MissingMemberError) as caught:
            read_dynamic_key(path, members=[*PRMS])
        assert caught.value.member == "30000000000003"
        assert caught.value.path == path
        assert "30000000000003" in str(caught.value)


def test_an_empty_file(tmp_path):
    path = tmp_path / NAME
    path.write_bytes(b"")
    with pytest.raises(errors.FileFormatError, match="is empty") as caught:
        read_dynamic_key(path)
    assert caught.value.path == path


def test_encodings_and_line_endings(tmp_path):
    body = "\r\n".join([HEADER, *ROWS]) + "\r\n"
    with_bom = tmp_path / NAME
    with_bom.write_bytes(b"\xef\xbb\xbf" + body.encode())
    assert read_dynamic_key(with_bom).shape == (48, 2)
    with_bom.write_bytes(b"\xff\xfe" + body.encode("utf-16-le"))
    with pytest.raises(errors.CorruptFileError, match="UTF-8"):
        read_dynamic_key(with_bom)


def test_full_key_files_must_agree(tmp_path):
    for producer in ("PV1", "PV2"):
        key_file(tmp_path, [HEADER, *ROWS], f"OPE1_{producer}_30_01112024_01112024.txt")
    next_day = [row.replace("01/11/2024", "02/11/2024") for row in ROWS]
    key_file(tmp_path, [HEADER, *next_day], "OPE1_PV3_30_02112024_02112024.txt")
    paths = sorted(tmp_path.iterdir())
    with pytest.raises(errors.FileFormatError, match="period") as caught:
        read_full_dynamic_key(paths)
    assert caught.value.member == "PV3"
    with pytest.raises(errors.FileFormatError, match="named twice"):
        read_full_dynamic_key([paths[0], paths[0]])
    with pytest.raises(errors.FileFormatError, match="no producer"):
        read_full_dynamic_key([paths[0]], operation="OPE1_PV1")
    single = key_file(tmp_path, [HEADER, *ROWS], NAME)
    with pytest.raises(errors.FileFormatError, match="no producer"):
        read_full_dynamic_key([single], operation="OPE1")


# --- bad keys to write -----------------------------------------------------------------------


def a_key() -> pd.DataFrame:
    """A valid key for a whole day."""
    return pd.DataFrame({"A": [0.5, 0.25] * 24, "B": [0.5, 0.75] * 24}, index=day_index())


@pytest.mark.parametrize(
    ("change", "error", "shown"),
    [
        (lambda k: k.iloc.__setitem__((1, 0), np.nan), errors.CoefficientRangeError, "NaN"),
        (lambda k: k.iloc.__setitem__((1, 0), 1.5), errors.CoefficientRangeError, "1.5"),
        (lambda k: k.iloc.__setitem__((1, 0), -0.1), errors.CoefficientRangeError, "-0.1"),
        (lambda k: k.iloc.__setitem__((1, 0), 0.26), errors.CoefficientSumError, "1.01"),
    ],
    ids=["NaN", "above 1", "negative", "row sum"],
)
def test_bad_coefficients_are_not_written(tmp_path, change, error, shown):
    key = a_key()
    change(key)
    with pytest.raises(error, match=shown) as caught:
        write_dynamic_key(key, tmp_path, "OPE1")
    assert caught.value.timestamp == key.index[1]
    assert list(tmp_path.iterdir()) == []


def test_an_all_nan_row_cannot_be_written(tmp_path):
    key = a_key()
    key.iloc[0] = np.nan
    with pytest.raises(errors.CoefficientRangeError, match="no key") as caught:
        write_dynamic_key(key, tmp_path, "OPE1")
    assert caught.value.member == "A"


def test_rows_within_the_tolerance_stay_below_100_percent(tmp_path):
    key = pd.DataFrame({"A": 0.5 + 4e-10, "B": 0.5 + 4e-10}, index=day_index())
    written = write_dynamic_key(key, tmp_path, "OPE1")
    assert written.path.read_text().splitlines()[1] == "01/11/2024 00:00;50,00;50,00"


@pytest.mark.parametrize(
    ("key", "error"),
    [
        (a_key().set_axis([1, 2], axis=1), errors.ColumnError),
        (a_key().set_axis(["A B", "C"], axis=1), errors.ColumnError),
        (a_key().set_axis(["A", "A"], axis=1), errors.ColumnError),
        (a_key().astype({"A": str}), errors.NonNumericCoefficientError),
        (a_key().tz_localize(None), errors.NaiveTimestampError),
        (
            a_key().iloc[:1].set_axis(pd.DatetimeIndex(day_index()[:1], freq=None)),
            errors.IrregularStepError,
        ),
        (pd.DataFrame({"A": [0.1] * 3}, day_index()[[0, 1, 3]]), errors.IrregularStepError),
        (
            a_key().set_axis(pd.date_range("2024-11-01", periods=48, freq="90s", tz=PARIS)),
            errors.StepLengthError,
        ),
        (a_key().iloc[1:], errors.FileFormatError),
        (a_key().iloc[:-1], errors.FileFormatError),
    ],
    ids=[
        "int ids",
        "space",
        "twice",
        "strings",
        "naive",
        "one step no freq",
        "gap",
        "90 s",
        "starts at 00:30",
        "ends at 23:30",
    ],
)
def test_bad_tables_are_not_written(tmp_path, key, error):
    with pytest.raises(error):
        write_dynamic_key(key, tmp_path, "OPE1")
    assert list(tmp_path.iterdir()) == []


def test_writer_arguments(tmp_path):
    with pytest.raises(errors.FileFormatError, match="Operation id"):
        write_dynamic_key(a_key(), tmp_path, "OPE/1")
    with pytest.raises(errors.FileFormatError, match="Producer id"):
        write_full_dynamic_key({"PV_1": a_key()}, tmp_path, "OPE1")
    with pytest.raises(TypeError, match="both"):
        write_dynamic_key(a_key(), tmp_path, "OPE1", consumption=a_key())
    with pytest.raises(ValueError, match="line_ending"):
        write_dynamic_key(a_key(), tmp_path, "OPE1", line_ending="\r")
    assert list(tmp_path.iterdir()) == []


def test_an_existing_file_is_kept_unless_overwrite(tmp_path):
    first = write_dynamic_key(a_key(), tmp_path, "OPE1")
    before = first.path.read_bytes()
    changed = a_key().iloc[:, ::-1].set_axis(["A", "B"], axis=1)
    with pytest.raises(FileExistsError):
        write_dynamic_key(changed, tmp_path, "OPE1")
    assert first.path.read_bytes() == before
    write_dynamic_key(changed, tmp_path, "OPE1", overwrite=True)
    assert first.path.read_bytes() != before


def test_a_partial_day_is_not_written(tmp_path):
    # The review's case: 01/11 12:00 to 02/11 11:30 would be named ..._01112024_02112024.txt
    # as if it covered both days.
    index = pd.date_range("2024-11-01 12:00", periods=48, freq="30min", tz=PARIS)
    with pytest.raises(errors.FileFormatError) as caught:
        write_dynamic_key(pd.DataFrame({"A": 0.5}, index), tmp_path, "OPE1")
    assert "first step starts at 01/11/2024 12:00, not at 00:00" in str(caught.value)
    assert caught.value.timestamp == index[0]
    with pytest.raises(errors.FileFormatError, match="of producer 'PV2'") as caught:
        write_full_dynamic_key({"PV1": a_key(), "PV2": a_key().iloc[:-1]}, tmp_path, "OPE1")
    assert caught.value.member == "PV2"
    assert caught.value.timestamp == day_index()[-2]
    assert list(tmp_path.iterdir()) == []


def test_full_key_tables_must_cover_the_same_steps(tmp_path):
    other_day = a_key().set_axis(day_index() + pd.Timedelta(days=1))
    with pytest.raises(errors.IndexMismatchError, match="02/11/2024 to 02/11/2024") as caught:
        write_full_dynamic_key({"PV1": a_key(), "PV2": other_day}, tmp_path, "OPE1")
    assert caught.value.member == "PV2"
    assert list(tmp_path.iterdir()) == []


def fail_on_call(monkeypatch, module, name: str, call: int, counted=lambda *args: True) -> list:
    """Make ``module.name`` raise OSError on its ``call``-th call among those ``counted``;
    return the arguments of those calls."""
    calls: list = []
    real = getattr(module, name)

    def failing(*args):
        if counted(*args):
            calls.append(args)
            if len(calls) == call:
                raise OSError("disk full")
        return real(*args)

    monkeypatch.setattr(module, name, failing)
    return calls


def test_a_failed_full_key_leaves_no_file(tmp_path, monkeypatch):
    # The second file fails to be written: the first, written, is never renamed into place.
    calls = fail_on_call(monkeypatch, _write, "write_lines", 2)
    with pytest.raises(OSError, match="disk full"):
        write_full_dynamic_key({"PV1": a_key(), "PV2": a_key()}, tmp_path, "OPE1")
    assert len(calls) == 2
    assert list(tmp_path.iterdir()) == []  # no key file, no temporary file


def into_a_key_file(source, destination) -> bool:
    """An ``os.replace`` that moves a new file into place (not the restoring of a previous
    file from its backup)."""
    return Path(destination).name.startswith("OPE1_") and str(source).endswith(".tmp")


@pytest.mark.parametrize(
    ("name", "call"),
    [("write_lines", 2), ("replace", 1), ("replace", 2)],
    ids=["second write", "first rename", "second rename"],
)
def test_a_failed_overwrite_keeps_the_previous_files(tmp_path, monkeypatch, name, call):
    # Regression: the files already replaced used to be deleted, leaving a mixed set.
    # Whether the second file fails to be written (before any rename) or, less likely, a
    # file fails to be renamed into place (those already renamed are then put back), the
    # old set stays whole and no temporary file is left.
    old = write_full_dynamic_key({"PV1": a_key(), "PV2": a_key()}, tmp_path, "OPE1")
    before = {path.name: path.read_bytes() for path in tmp_path.iterdir()}
    new = {"PV1": a_key() / 2, "PV2": a_key() / 4}
    if name == "write_lines":
        calls = fail_on_call(monkeypatch, _write, name, call)
    else:  # os.replace, as repartition._atomic.atomic_files calls it
        calls = fail_on_call(monkeypatch, os, name, call, into_a_key_file)
    with pytest.raises(OSError, match="disk full"):
        write_full_dynamic_key(new, tmp_path, "OPE1", overwrite=True)
    assert len(calls) == call
    monkeypatch.undo()
    assert {path.name: path.read_bytes() for path in tmp_path.iterdir()} == before
    assert sorted(before) == sorted(result.path.name for result in old.values())
    written = write_full_dynamic_key(new, tmp_path, "OPE1", overwrite=True)
    assert read_dynamic_key(written["PV2"].path).iloc[0].tolist() == [0.125, 0.125]
    assert len(list(tmp_path.iterdir())) == 2
