"""The Spanish hourly coefficients file, ``<CAU>_<YYYY>.txt`` (docs/formats.md, "Spanish
coefficient file").

A whole year is 8,760 lines per CUPS, too long to keep as a hand-written file: the golden
tests check hand-derived lines and hour numbers instead, and the bad files are a valid
year (built line by line here, independently of the writer) with one line changed.

Hours by hand (Europe/Madrid is UTC+1 in winter, UTC+2 in summer; hour 1 starts at
1 January 00:00 local, hour h starts h - 1 real hours later):
- 2025: hour 0001 starts 2024-12-31 23:00 UTC; hour 8760 starts 2025-12-31 22:00 UTC.
- 30 March 2025: 1 January to 29 March is 31 + 28 + 29 = 88 days = 2,112 hours, so
  00:00 CET is hour 2113 (29 March 23:00 UTC), 01:00 CET hour 2114 (00:00 UTC), and the
  next hour, 03:00 CEST, hour 2115 (01:00 UTC).
- 26 October 2025: 298 days before it, less the hour lost in March: 7,151 hours; 00:00
  CEST is hour 7152 (25 October 22:00 UTC), 02:00 CEST hour 7154 (00:00 UTC), 02:00 CET
  hour 7155 (01:00 UTC), 03:00 CET hour 7156 (02:00 UTC).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repartition import errors
from repartition.io.spain import (
    hours_of_year,
    read_spanish_coefficients,
    round_to_millionths,
    write_spanish_coefficients,
)

CUPS = ["ES0021000000000001AA", "ES0021000000000002BB"]
NAME = "ES0021000000000001AA1F001_2025.txt"


def utc(stamp: str) -> pd.Timestamp:
    return pd.Timestamp(stamp, tz="UTC")


class TestHours:
    def test_counts(self):
        assert len(hours_of_year(2025)) == 8760
        assert len(hours_of_year(2024)) == 8784  # leap year

    def test_hand_derived_hours(self):
        hours = hours_of_year(2025)
        for hour, start in [
            (1, "2024-12-31 23:00"),
            (2113, "2025-03-29 23:00"),
            (2114, "2025-03-30 00:00"),
            (2115, "2025-03-30 01:00"),
            (7152, "2025-10-25 22:00"),
            (7154, "2025-10-26 00:00"),
            (7155, "2025-10-26 01:00"),
            (7156, "2025-10-26 02:00"),
            (8760, "2025-12-31 22:00"),
        ]:
            assert hours[hour - 1] == utc(start)
        local = hours.tz_convert("Europe/Madrid")
        assert local[2114].strftime("%H:%M %Z") == "03:00 CEST"  # hour 2115
        assert local[7154].strftime("%H:%M %Z") == "02:00 CET"  # hour 7155, the second 02:00


class TestGoldenWrite:
    def test_a_fixed_set(self, tmp_path):
        fixed = pd.Series({CUPS[0]: 0.6, CUPS[1]: 0.4})
        written = write_spanish_coefficients(fixed, tmp_path, "ES0021000000000001AA1F001", 2025)
        assert written.path == tmp_path / NAME
        content = written.path.read_bytes()
        assert content.endswith(b"\r\n")
        assert not content.startswith(b"\xef\xbb\xbf")
        lines = content.decode().split("\r\n")[:-1]
        assert len(lines) == 2 * 8760
        # CUPS by CUPS, hours in order, four-digit hours, six decimals with a comma.
        assert lines[0] == "ES0021000000000001AA;0001;0,600000"
        assert lines[8759] == "ES0021000000000001AA;8760;0,600000"
        assert lines[8760] == "ES0021000000000002BB;0001;0,400000"
        assert lines[-1] == "ES0021000000000002BB;8760;0,400000"
        assert written.coefficients.shape == (8760, 2)
        assert (written.coefficients.to_numpy() == [0.6, 0.4]).all()

    def test_hourly_coefficients_keep_each_hour_at_one(self, tmp_path):
        # Largest remainder, by hand (millionths):
        # hour 1: 1/3 each -> floors 333333 x 3 = 999999, 1 missing; equal remainders: the
        #         leftmost column gets it -> 333334, 333333, 333333.
        # hour 2: 0.2000004, 0.2999996, 0.5 -> floors 200000, 299999, 500000; remainders
        #         0.4, 0.6, 0 -> the second gets the missing one -> 200000, 300000, 500000.
        # hour 3: 0, 0.9999997, 0.0000003 -> floors 0, 999999, 0; remainders 0, 0.7, 0.3
        #         -> 0, 1000000, 0 (a zero stays zero).
        # other hours: 0.5, 0.25, 0.25, exact.
        hours = hours_of_year(2025)
        values = np.tile([0.5, 0.25, 0.25], (len(hours), 1))
        values[:3] = [[1 / 3] * 3, [0.2000004, 0.2999996, 0.5], [0.0, 0.9999997, 0.0000003]]
        cups = [*CUPS, "ES0021000000000003CC"]
        frame = pd.DataFrame(values, index=hours.tz_convert("Europe/Madrid"), columns=cups)
        written = write_spanish_coefficients(frame, tmp_path, "CAU1", 2025, line_ending="\n")
        lines = written.path.read_text().split("\n")
        assert lines[:4] == [
            "ES0021000000000001AA;0001;0,333334",
            "ES0021000000000001AA;0002;0,200000",
            "ES0021000000000001AA;0003;0,000000",
            "ES0021000000000001AA;0004;0,500000",
        ]
        assert lines[8760:8763] == [
            "ES0021000000000002BB;0001;0,333333",
            "ES0021000000000002BB;0002;0,300000",
            "ES0021000000000002BB;0003;1,000000",
        ]
        assert lines[2 * 8760 + 2] == "ES0021000000000003CC;0003;0,000000"
        back = read_spanish_coefficients(written.path, members=cups)
        pd.testing.assert_frame_equal(back, written.coefficients, check_exact=True)
        assert back.index.equals(hours)


def year_lines(year: int = 2025, shares: tuple[str, ...] = ("0,500000", "0,500000")) -> list[str]:
    """A valid year, written independently of the writer: CUPS by CUPS, hour by hour."""
    count = 8784 if year % 4 == 0 else 8760
    return [
        f"{cups};{hour:04d};{share}"
        for cups, share in zip(CUPS, shares, strict=True)
        for hour in range(1, count + 1)
    ]


def spanish_file(folder: Path, lines: list[str], name: str = NAME) -> Path:
    path = folder / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class TestRead:
    def test_a_valid_year(self, tmp_path):
        path = spanish_file(tmp_path, year_lines(shares=("0,250000", "0,750000")))
        table = read_spanish_coefficients(path, members=CUPS)
        assert list(table.columns) == CUPS
        assert table.index.equals(hours_of_year(2025))
        assert (table.to_numpy() == [0.25, 0.75]).all()

    def test_lines_in_any_order_and_identical_repetitions(self, tmp_path):
        lines = year_lines()
        shuffled = lines[::-1] + lines[:3]  # reversed, with three lines repeated
        table = read_spanish_coefficients(spanish_file(tmp_path, shuffled))
        assert list(table.columns) == CUPS[::-1]  # order of first appearance
        assert (table.to_numpy() == 0.5).all()

    def test_cups_padded_to_22_characters(self, tmp_path):
        # As written by iotlibre/calculo_coeficientes_reparto: "{:22s}" pads a 20-character
        # CUPS with two spaces, and the last line has no line ending.
        lines = [f"{line[:20]}  {line[20:]}" for line in year_lines()]
        path = tmp_path / NAME
        path.write_text("\n".join(lines))
        table = read_spanish_coefficients(path, members=CUPS)
        assert list(table.columns) == CUPS

    def test_a_leap_year(self, tmp_path):
        path = spanish_file(tmp_path, year_lines(2024), "CAU1_2024.txt")
        assert len(read_spanish_coefficients(path)) == 8784


def changed(line: int, text: str | None) -> list[str]:
    """A valid year with line ``line`` (1-based) replaced, or removed (``None``)."""
    lines = year_lines()
    if text is None:
        del lines[line - 1]
    else:
        lines[line - 1] = text
    return lines


BAD = {
    # id: (lines, error, line, CUPS, text shown)
    "two fields": (
        changed(5, "ES0021000000000001AA;0005"),
        errors.ColumnError,
        5,
        None,
        "2 fields",
    ),
    "four fields": (
        changed(5, "ES0021000000000001AA;0005;0,500000;x"),
        errors.ColumnError,
        5,
        None,
        "4 fields",
    ),
    "hour 0": (
        changed(1, "ES0021000000000001AA;0000;0,500000"),
        errors.FileFormatError,
        1,
        CUPS[0],
        "'0000'",
    ),
    "hour after the year": (
        changed(9, "ES0021000000000001AA;8761;0,500000"),
        errors.FileFormatError,
        9,
        CUPS[0],
        "2025 has 8760 hours",
    ),
    "hour on one digit": (
        changed(1, "ES0021000000000001AA;1;0,500000"),
        errors.FileFormatError,
        1,
        CUPS[0],
        "'1'",
    ),
    "fullwidth hour": (
        changed(4, "ES0021000000000001AA;\uff10\uff10\uff10\uff14;0,500000"),
        errors.FileFormatError,
        4,
        CUPS[0],
        "'\uff10\uff10\uff10\uff14' is not 0001 to 8760",
    ),
    "Arabic-Indic coefficient": (
        changed(4, "ES0021000000000001AA;0004;\u0660,\u0665\u0660\u0660\u0660\u0660"),
        errors.FileFormatError,
        4,
        CUPS[0],
        "digits 0-9",
    ),
    "decimal point": (
        changed(3, "ES0021000000000001AA;0003;0.500000"),
        errors.FileFormatError,
        3,
        CUPS[0],
        "'0.500000'",
    ),
    "two decimals": (
        changed(8763, "ES0021000000000002BB;0003;0,50"),
        errors.FileFormatError,
        8763,
        CUPS[1],
        "6 decimals",
    ),
    "above one": (
        changed(3, "ES0021000000000001AA;0003;1,500000"),
        errors.CoefficientRangeError,
        3,
        CUPS[0],
        "1,500000",
    ),
    "conflicting repetition": (
        [*year_lines(), "ES0021000000000001AA;0007;0,400000"],
        errors.ConflictingValuesError,
        2 * 8760 + 1,
        CUPS[0],
        "hour 0007",
    ),
    "CUPS with spaces": (
        changed(1, " ES0021000000000001AA;0001;0,500000"),
        errors.ColumnError,
        1,
        " ES0021000000000001AA",
        "spaces",
    ),
    "sum not one": (
        changed(10, "ES0021000000000001AA;0010;0,499990"),
        errors.CoefficientSumError,
        10,
        None,
        "hour 0010",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_file(tmp_path, case):
    lines, error, line, member, shown = BAD[case]
    path = spanish_file(tmp_path, lines)
    with pytest.raises(error) as caught:
        read_spanish_coefficients(path)
    message = str(caught.value)
    assert caught.value.path == path
    assert str(path) in message
    assert caught.value.line == line
    assert f"line {line}" in message
    if member is not None:
        assert caught.value.member == member
        assert member in message
    assert shown in message


def test_a_bad_coefficient_names_its_time(tmp_path):
    path = spanish_file(tmp_path, changed(3, "ES0021000000000001AA;0003;1,500000"))
    with pytest.raises(errors.CoefficientRangeError, match="hour 0003") as caught:
        read_spanish_coefficients(path)
    # Hour 3 of 2025 starts at 02:00 CET on 1 January.
    assert caught.value.timestamp == pd.Timestamp("2025-01-01 02:00", tz="Europe/Madrid")


def test_a_sum_within_a_millionth_is_accepted(tmp_path):
    path = spanish_file(tmp_path, changed(10, "ES0021000000000001AA;0010;0,499999"))
    assert read_spanish_coefficients(path).iloc[9, 0] == 0.499999


def test_a_missing_hour(tmp_path):
    # Line 8770 is CUPS 2, hour 10.
    path = spanish_file(tmp_path, changed(8770, None))
    with pytest.raises(errors.MissingValueError) as caught:
        read_spanish_coefficients(path)
    assert caught.value.member == CUPS[1]
    assert caught.value.path == path
    assert caught.value.timestamp == pd.Timestamp("2025-01-01 09:00", tz="Europe/Madrid")
    assert "hour 0010" in str(caught.value)
    assert CUPS[1] in str(caught.value)


def test_a_leap_year_file_with_8760_hours(tmp_path):
    path = spanish_file(tmp_path, year_lines(2025), "CAU1_2024.txt")
    with pytest.raises(errors.MissingValueError, match="hour 8761"):
        read_spanish_coefficients(path)


def test_the_hour_sum_error_names_the_time(tmp_path):
    path = spanish_file(tmp_path, changed(2115, "ES0021000000000001AA;2115;0,400000"))
    with pytest.raises(errors.CoefficientSumError) as caught:
        read_spanish_coefficients(path)
    # Hour 2115 is 30 March 2025, 03:00 CEST (see the module docstring).
    assert caught.value.timestamp == pd.Timestamp("2025-03-30 03:00", tz="Europe/Madrid")
    assert "hour 2115" in str(caught.value)


class TestMembers:
    def test_unknown(self, tmp_path):
        path = spanish_file(tmp_path, year_lines())
        with pytest.raises(errors.UnknownMemberError) as caught:
            read_spanish_coefficients(path, members=CUPS[:1])
        assert (caught.value.member, caught.value.line) == (CUPS[1], 8761)
        assert str(path) in str(caught.value)

    def test_missing(self, tmp_path):
        path = spanish_file(tmp_path, year_lines())
        with pytest.raises(errors.MissingMemberError) as caught:
            read_spanish_coefficients(path, members=[*CUPS, "ES0021000000000003CC"])
        assert caught.value.member == "ES0021000000000003CC"


@pytest.mark.parametrize("name", ["CAU1.txt", "CAU1_25.txt", "CAU1_2025.csv", "_2025.txt"])
def test_bad_names(tmp_path, name):
    path = spanish_file(tmp_path, year_lines(), name)
    with pytest.raises(errors.FileFormatError) as caught:
        read_spanish_coefficients(path)
    assert caught.value.path == path


class TestWriteErrors:
    def table(self) -> pd.DataFrame:
        return pd.DataFrame(0.5, index=hours_of_year(2025), columns=CUPS)

    @pytest.mark.parametrize(("value", "shown"), [(0.4, "0.9"), (0.6, "1.1")])
    def test_an_hour_that_does_not_sum_to_one(self, tmp_path, value, shown):
        table = self.table()
        table.iloc[2, 0] = value
        with pytest.raises(errors.CoefficientSumError, match="hour 0003") as caught:
            write_spanish_coefficients(table, tmp_path, "CAU1", 2025)
        assert shown in str(caught.value)
        assert caught.value.timestamp == table.index[2]
        assert list(tmp_path.iterdir()) == []

    def test_nan(self, tmp_path):
        table = self.table()
        table.iloc[5, 1] = np.nan
        with pytest.raises(errors.CoefficientRangeError, match="NaN") as caught:
            write_spanish_coefficients(table, tmp_path, "CAU1", 2025)
        assert caught.value.member == CUPS[1]

    def test_not_the_years_hours(self, tmp_path):
        with pytest.raises(errors.IndexMismatchError, match="8784 hours of 2024"):
            write_spanish_coefficients(self.table(), tmp_path, "CAU1", 2024)
        with pytest.raises(errors.IndexMismatchError):
            write_spanish_coefficients(self.table().iloc[:-1], tmp_path, "CAU1", 2025)

    def test_fixed_set_not_summing_to_one(self, tmp_path):
        with pytest.raises(errors.CoefficientSumError, match="hour 0001"):
            write_spanish_coefficients(pd.Series({CUPS[0]: 0.5}), tmp_path, "CAU1", 2025)

    def test_arguments(self, tmp_path):
        with pytest.raises(errors.FileFormatError, match="CAU"):
            write_spanish_coefficients(self.table(), tmp_path, "CAU/1", 2025)
        write_spanish_coefficients(self.table(), tmp_path, "CAU1", 2025)
        with pytest.raises(FileExistsError):
            write_spanish_coefficients(self.table(), tmp_path, "CAU1", 2025)
        write_spanish_coefficients(self.table(), tmp_path, "CAU1", 2025, overwrite=True)
        assert [path.name for path in tmp_path.iterdir()] == ["CAU1_2025.txt"]


@st.composite
def hourly_rows(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 6))
    columns = draw(st.integers(1, 8))
    weights = st.one_of(st.just(0.0), st.floats(1e-6, 1.0), st.sampled_from([1 / 3, 0.1, 0.7]))
    values = np.array(
        draw(
            st.lists(
                st.lists(weights, min_size=columns, max_size=columns), min_size=rows, max_size=rows
            )
        )
    )
    values[values.sum(axis=1) == 0, 0] = 1.0
    values = values / values.sum(axis=1, keepdims=True)
    return pd.DataFrame(values, hours_of_year(2025)[:rows], [f"C{i}" for i in range(columns)])


@given(hourly_rows())
def test_largest_remainder_rounding(table):
    rounded = round_to_millionths(table)
    units = np.rint(rounded.to_numpy() * 1e6).astype(np.int64)
    assert (units.sum(axis=1) == 1_000_000).all()  # every hour sums to exactly 1
    assert np.allclose(units / 1e6, rounded.to_numpy(), rtol=0, atol=0)
    moved = np.abs(rounded.to_numpy() - table.to_numpy())
    assert (moved < 1e-6 + 1e-12).all()  # each value moves by less than a millionth
    assert (rounded.to_numpy()[table.to_numpy() == 0] == 0).all()  # zeros stay zero
    assert round_to_millionths(table).equals(rounded)  # deterministic
