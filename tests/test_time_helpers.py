"""repartition.time: local-time conversion, local calendars, step inspection, resampling.

The expected step counts come from the Paris calendar: a day has 24 h = 48 half-hours, the
last Sunday of March 23 h (46), the last Sunday of October 25 h (50).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from repartition import errors
from repartition.time import (
    inspect_steps,
    local_days,
    local_months,
    localize,
    month_labels,
    resample,
)


def _year(freq: str = "30min", year: int = 2025) -> pd.DatetimeIndex:
    return pd.date_range(
        f"{year}-01-01", f"{year + 1}-01-01", freq=freq, tz="Europe/Paris", inclusive="left"
    ).tz_convert("UTC")


class TestLocalize:
    def test_autumn_hour_by_order(self) -> None:
        # 26 Oct 2025: 02:00-03:00 local happens twice, first CEST (UTC+2) then CET (UTC+1).
        local = pd.DatetimeIndex(
            ["2025-10-26 01:30", "2025-10-26 02:00", "2025-10-26 02:30", "2025-10-26 02:00",
             "2025-10-26 02:30", "2025-10-26 03:00"]
        )  # fmt: skip
        utc = localize(local)
        expected = pd.date_range("2025-10-25 23:30", periods=6, freq="30min", tz="UTC")
        assert utc.equals(expected)

    def test_groups_repeat_independently(self) -> None:
        # Two PRMs listed one after the other: the order rule applies within each PRM.
        one = ["2025-10-26 02:00", "2025-10-26 02:00"]
        local = pd.DatetimeIndex(one + one)
        utc = localize(local, groups=np.array(["A", "A", "B", "B"]))
        hours = list(utc.strftime("%H:%M"))
        assert hours == ["00:00", "01:00", "00:00", "01:00"]

    def test_spring_gap_is_an_error_naming_line_and_file(self) -> None:
        local = pd.DatetimeIndex(["2025-03-30 01:30", "2025-03-30 02:00", "2025-03-30 03:00"])
        with pytest.raises(errors.NonexistentTimeError, match=r"line 3") as caught:
            localize(local, path="curves.csv")
        assert caught.value.line == 3
        assert caught.value.path == "curves.csv"
        assert caught.value.timestamp == pd.Timestamp("2025-03-30 02:00")
        assert isinstance(caught.value, errors.TimeIndexError)

    def test_aware_input_is_only_converted(self) -> None:
        aware = pd.DatetimeIndex(["2025-06-01 12:00+02:00"])
        assert localize(aware)[0] == pd.Timestamp("2025-06-01 10:00", tz="UTC")


class TestCalendar:
    def test_months_of_a_year_follow_local_time(self) -> None:
        steps = _year()
        months = local_months(steps)
        assert [label for label, _ in months] == [f"2025-{m:02d}" for m in range(1, 13)]
        sizes = {label: part.stop - part.start for label, part in months}
        assert sizes["2025-03"] == 31 * 48 - 2  # 23-hour day on 30 March
        assert sizes["2025-10"] == 31 * 48 + 2  # 25-hour day on 26 October
        assert sizes["2025-02"] == 28 * 48
        assert sum(sizes.values()) == 17_520
        # The year starts at 23:00 UTC on 31 December: that step is January in Paris.
        assert month_labels(steps[:1])[0] == "2025-01"

    def test_days_at_dst_changes(self) -> None:
        per_day = local_days(_year())
        assert per_day.loc[pd.Timestamp("2025-03-30").date()] == 46
        assert per_day.loc[pd.Timestamp("2025-10-26").date()] == 50
        assert per_day.loc[pd.Timestamp("2025-06-01").date()] == 48
        assert len(per_day) == 365

    def test_naive_index_is_refused(self) -> None:
        with pytest.raises(errors.NaiveTimestampError):
            month_labels(pd.DatetimeIndex(["2025-01-01"]))


class TestInspectSteps:
    def test_regular(self) -> None:
        report = inspect_steps(_year()[:100])
        assert report.is_regular
        assert report.step == pd.Timedelta("30min")
        assert report.missing_steps == 0

    def test_gap_duplicate_and_disorder(self) -> None:
        steps = pd.DatetimeIndex(
            ["2025-01-01 00:00", "2025-01-01 00:30", "2025-01-01 00:30", "2025-01-01 02:00",
             "2025-01-01 01:30"],
            tz="UTC",
        )  # fmt: skip
        report = inspect_steps(steps)
        assert not report.is_regular
        assert report.step == pd.Timedelta("30min")
        assert list(report.duplicates) == [pd.Timestamp("2025-01-01 00:30", tz="UTC")]
        assert list(report.unsorted) == [pd.Timestamp("2025-01-01 01:30", tz="UTC")]
        # 00:30 -> 02:00 misses 01:00 and 01:30.
        assert report.gaps["missing"].tolist() == [2]
        assert report.gaps["after"].iloc[0] == pd.Timestamp("2025-01-01 00:30", tz="UTC")

    def test_mixed_step_lengths(self) -> None:
        steps = pd.DatetimeIndex(
            ["2025-01-01 00:00", "2025-01-01 00:15", "2025-01-01 00:30", "2025-01-01 01:30"],
            tz="UTC",
        )
        report = inspect_steps(steps)
        assert report.step == pd.Timedelta("15min")
        assert report.lengths.to_dict() == {pd.Timedelta("15min"): 2, pd.Timedelta("60min"): 1}
        assert report.missing_steps == 3


class TestResample:
    def test_coarsen_sums_and_keeps_labels(self) -> None:
        index = pd.date_range("2025-10-25 22:00", periods=8, freq="15min", tz="UTC")
        frame = pd.DataFrame({"a": np.arange(8.0), "b": np.ones(8)}, index=index)
        hourly = resample(frame, "60min")
        assert isinstance(hourly, pd.DataFrame)
        assert hourly["a"].tolist() == [0 + 1 + 2 + 3, 4 + 5 + 6 + 7]
        assert hourly["b"].tolist() == [4.0, 4.0]
        assert hourly.index.freq == pd.Timedelta("60min")
        assert frame["a"].tolist() == list(np.arange(8.0))  # input untouched

    def test_coarsen_refuses_partial_first_or_last_step(self) -> None:
        index = pd.date_range("2025-01-01 00:30", periods=4, freq="30min", tz="UTC")
        with pytest.raises(errors.IrregularStepError, match="00:30") as caught:
            resample(pd.Series(1.0, index=index), "60min")
        assert caught.value.timestamp == index[0]
        index = pd.date_range("2025-01-01 00:00", periods=3, freq="30min", tz="UTC")
        with pytest.raises(errors.IrregularStepError, match="incomplete") as caught:
            resample(pd.Series(1.0, index=index), "60min")
        assert caught.value.timestamp == index[2]

    def test_refine_needs_an_explicit_method(self) -> None:
        index = pd.date_range("2025-01-01", periods=2, freq="60min", tz="UTC")
        with pytest.raises(ValueError, match="explicit"):
            resample(pd.Series(1.0, index=index), "30min")

    def test_refine_with_a_profile(self) -> None:
        hours = pd.date_range("2025-01-01", periods=2, freq="60min", tz="UTC")
        hourly = pd.Series([3.0, 2.0], index=hours)
        halves = pd.date_range("2025-01-01", periods=4, freq="30min", tz="UTC")
        # First hour split 1:2; the second hour's profile is all zero, so it splits evenly.
        profile = pd.Series([1.0, 2.0, 0.0, 0.0], index=halves)
        fine = resample(hourly, "30min", profile=profile)
        assert fine.tolist() == [1.0, 2.0, 1.0, 1.0]
        assert fine.index.equals(halves)

    def test_profile_must_cover_the_fine_steps(self) -> None:
        hours = pd.date_range("2025-01-01", periods=2, freq="60min", tz="UTC")
        halves = pd.date_range("2025-01-01", periods=3, freq="30min", tz="UTC")
        with pytest.raises(errors.MissingValueError, match="01:30"):
            resample(pd.Series(1.0, index=hours), "30min", profile=pd.Series(1.0, index=halves))

    def test_step_that_does_not_divide(self) -> None:
        index = pd.date_range("2025-01-01", periods=4, freq="15min", tz="UTC")
        with pytest.raises(errors.IrregularStepError, match="whole number"):
            resample(pd.Series(1.0, index=index), "40min")

    @given(
        values=hnp.arrays(
            np.float64,
            st.tuples(st.integers(1, 12), st.integers(1, 3)),
            # Above 1e-300 so that x / 4 stays a normal number (a subnormal loses bits).
            elements=st.one_of(st.just(0.0), st.floats(1e-300, 1e4)),
        ),
        ratio=st.sampled_from([2, 4]),
    )
    def test_refine_then_coarsen_is_identity_and_conserves(
        self, values: np.ndarray, ratio: int
    ) -> None:
        # Paris local hours across the autumn change: UTC arithmetic keeps every hour whole.
        index = pd.date_range("2025-10-25 23:00", periods=len(values), freq="60min", tz="UTC")
        hourly = pd.DataFrame(values, index=index)
        fine = resample(hourly, f"{60 // ratio}min", method="uniform")
        np.testing.assert_allclose(fine.sum().to_numpy(), values.sum(axis=0), rtol=1e-12)
        back = resample(fine, "60min")
        # Splitting a normal number by 2 or 4 is exact in binary floating point.
        np.testing.assert_array_equal(back.to_numpy(), values)


def test_coarsen_a_paris_index_starting_in_the_repeated_hour() -> None:
    # 26 Oct 2025 02:00 CET (the second 02:00) is 01:00 UTC: a whole hour, in UTC and in Paris.
    index = pd.date_range("2025-10-26 01:00", periods=4, freq="30min", tz="UTC")
    paris = pd.Series([1.0, 2.0, 3.0, 4.0], index=index.tz_convert("Europe/Paris"))
    hourly = resample(paris, "60min")
    assert hourly.tolist() == [3.0, 7.0]
    assert hourly.index[0] == index[0]
