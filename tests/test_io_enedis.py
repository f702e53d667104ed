"""Reading Enedis load-curve CSV exports: :func:`repartition.io.enedis.read_load_curves`.

The golden files in ``tests/data/enedis/`` are written by hand. Every expected energy is
computed from docs/formats.md, "Enedis load curves": ``Valeur`` is the mean power over the
step ``Pas``, so energy [kWh] = power [W] x step [h] / 1000 (power [kW] x step [h] for ``kW``), and
``Horodate`` is the END of the step, so step start = Horodate - Pas.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from repartition import allocate, errors, keys
from repartition.io.enedis import COLUMNS, LoadCurves, read_load_curves
from repartition.time import inspect_steps, local_days, localize

DATA = Path(__file__).parent / "data" / "enedis"
PRM_1, PRM_2, PRM_3 = "30000000000001", "30000000000002", "30000000000003"
TOL = {"rtol": 1e-12, "atol": 1e-15}


def utc(start: str, periods: int, freq: str = "30min") -> pd.DatetimeIndex:
    return pd.date_range(start, periods=periods, freq=freq, tz="UTC")


def assert_frame(frame: pd.DataFrame, expected: dict[str, list[float]], index) -> None:
    """Same columns (PRM ids as strings), index (UTC step starts) and values to 1e-12."""
    assert list(frame.columns) == list(expected)
    pd.testing.assert_index_equal(frame.index, index, check_exact=True, exact=False)
    assert (frame.dtypes == np.float64).all()
    np.testing.assert_allclose(frame.to_numpy(), np.array(list(expected.values())).T, **TOL)


# ------------------------------------------------------------------------------------------
# Golden files
# ------------------------------------------------------------------------------------------


def test_offsets_file_two_consumers_one_producer():
    # offsets_pt30m_bom.csv: UTF-8 with a BOM, Horodate with offsets, PT30M, unit W.
    # The first Horodate, 2025-01-01T00:30:00+01:00, is the end of the step that starts
    # at 00:00+01:00 = 2024-12-31 23:00 UTC.
    curves = read_load_curves(DATA / "offsets_pt30m_bom.csv")
    index = utc("2024-12-31 23:00", 4)
    assert_frame(
        curves.consumption,
        {
            # 1200, 800, 400, 0 W x 0.5 h / 1000 = 0.6, 0.4, 0.2, 0.0 kWh
            PRM_1: [0.6, 0.4, 0.2, 0.0],
            # 600, 1000, 2000, 1600 W x 0.5 h / 1000
            PRM_2: [0.3, 0.5, 1.0, 0.8],
        },
        index,
    )
    # 0, 900, 3000, 1500 W x 0.5 h / 1000
    assert_frame(curves.production, {PRM_3: [0.0, 0.45, 1.5, 0.75]}, index)
    assert curves.step == pd.Timedelta("30min")
    assert curves.index.freq == pd.Timedelta("30min")
    assert curves.missing.empty
    assert list(curves.missing.columns) == [
        "prm", "role", "first", "last", "steps", "first_horodate", "last_horodate"
    ]  # fmt: skip
    assert curves.sources == (DATA / "offsets_pt30m_bom.csv",)


def test_naive_local_times_across_the_autumn_change():
    # autumn_pt30m_naive.csv: naive local ends on 2025-10-26, when 02:00-03:00 happens twice.
    # Ends 01:30, 02:00, 02:30 (summer, UTC+2), 02:00, 02:30 (winter, UTC+1), 03:00, 03:30
    # = 23:30, 00:00, 00:30, 01:00, 01:30, 02:00, 02:30 UTC; starts 30 min earlier:
    # seven regular steps from 2025-10-25 23:00 UTC.
    curves = read_load_curves(DATA / "autumn_pt30m_naive.csv")
    index = utc("2025-10-25 23:00", 7)
    # 100, 200, ..., 700 W x 0.5 h / 1000 = 0.05, 0.10, ..., 0.35 kWh
    assert_frame(curves.consumption, {PRM_1: [0.05 * k for k in range(1, 8)]}, index)
    # 0, 10, ..., 60 W x 0.5 h / 1000 = 0, 0.005, ..., 0.03 kWh
    assert_frame(curves.production, {PRM_3: [0.005 * k for k in range(7)]}, index)
    assert curves.missing.empty


def test_naive_spring_day_has_46_half_hours():
    # spring_pt30m_naive.csv: the whole of 2025-03-30 (Date de début 2025-03-30, Date de
    # fin 2025-03-31), naive ends. Clocks jump from 02:00 CET to 03:00 CEST, so the ends
    # are 00:30, 01:00, 01:30 (UTC+1), then 03:00 (= 02:00 UTC+1, the end of the step
    # 01:30-02:00 CET) to 23:30 and 2025-03-31 00:00 (UTC+2): 3 + 42 + 1 = 46 lines.
    # The day runs from 00:00 CET = 2025-03-29 23:00 UTC to 00:00 CEST = 22:00 UTC, 23 h.
    curves = read_load_curves(DATA / "spring_pt30m_naive.csv")
    index = utc("2025-03-29 23:00", 46)
    # Line k (1..46) has 20 k W: 20 k W x 0.5 h / 1000 = 0.01 k kWh.
    assert_frame(curves.consumption, {PRM_1: [0.01 * k for k in range(1, 47)]}, index)
    # End 03:00 CEST = 01:00 UTC, start 00:30 UTC: the 4th step, 80 W -> 0.04 kWh.
    assert curves.consumption.loc["2025-03-30 00:30+00:00", PRM_1] == pytest.approx(0.04)
    assert curves.missing.empty
    assert local_days(curves.index).tolist() == [46]
    # 0.01 x (1 + ... + 46) = 0.01 x 46 x 47 / 2 = 10.81 kWh
    assert curves.consumption[PRM_1].sum() == pytest.approx(10.81, rel=1e-12)


def test_naive_autumn_day_at_60_minutes_has_25_hours():
    # autumn_pt60m_naive.csv: the whole of 2025-10-26 at PT60M, naive ends 01:00,
    # 02:00 (summer, UTC+2), 02:00 (winter, UTC+1), 03:00 ... 23:00, 2025-10-27 00:00:
    # 25 lines. Ends in UTC: 23:00, 00:00, 01:00, 02:00, ..., 23:00; starts one hour
    # earlier, from 00:00 CEST = 2025-10-25 22:00 UTC to 23:00 CET = 22:00 UTC.
    curves = read_load_curves(DATA / "autumn_pt60m_naive.csv")
    index = utc("2025-10-25 22:00", 25, "60min")
    # Line k (1..25) has 1000 k W: 1000 k W x 1 h / 1000 = k kWh.
    assert_frame(curves.consumption, {PRM_1: [float(k) for k in range(1, 26)]}, index)
    # Line 2, the first 02:00 (summer time: end 00:00 UTC), starts at 2025-10-25 23:00
    # UTC; line 3, the second 02:00 (winter time: end 01:00 UTC), starts at 00:00 UTC.
    assert curves.consumption.loc["2025-10-25 23:00+00:00", PRM_1] == 2.0
    assert curves.consumption.loc["2025-10-26 00:00+00:00", PRM_1] == 3.0
    assert curves.missing.empty  # Date de début 2025-10-26, Date de fin 2025-10-27
    assert local_days(curves.index).tolist() == [25]


def test_naive_autumn_at_15_minutes():
    # autumn_pt15m_naive.csv: ends 01:45, 02:00, 02:15, 02:30, 02:45 (summer, UTC+2),
    # then 02:00, 02:15, 02:30, 02:45 (winter, UTC+1), 03:00: in UTC 23:45, 00:00, 00:15,
    # 00:30, 00:45, 01:00, 01:15, 01:30, 01:45, 02:00; starts 15 min earlier: ten steps
    # from 2025-10-25 23:30 UTC. The period (naive timestamps 01:30 summer to 03:00
    # winter) is exactly those ten steps.
    curves = read_load_curves(DATA / "autumn_pt15m_naive.csv")
    index = utc("2025-10-25 23:30", 10, "15min")
    # Line k (1..10) has 400 k W: 400 k W x 0.25 h / 1000 = 0.1 k kWh.
    assert_frame(curves.consumption, {PRM_1: [0.1 * k for k in range(1, 11)]}, index)
    assert curves.missing.empty


def test_steps_missing_at_the_edges_of_the_requested_period_are_reported():
    # period_edges_pt60m.csv: Date de début 2025-01-01, Date de fin 2025-01-02 (the day
    # after the last day: 2025-01-01 00:00 to 2025-01-02 00:00 local = 2024-12-31 23:00
    # to 2025-01-01 23:00 UTC, 24 hours), but only the ends 03:00, 04:00, 05:00 +01:00
    # (starts 01:00, 02:00, 03:00 UTC) are in the file.
    curves = read_load_curves(DATA / "period_edges_pt60m.csv")
    index = utc("2024-12-31 23:00", 24, "60min")
    nan = np.nan
    # 1500, 2500, 500 W x 1 h / 1000 = 1.5, 2.5, 0.5 kWh
    expected = [nan, nan, 1.5, 2.5, 0.5] + [nan] * 19
    assert_frame(curves.consumption, {PRM_1: expected}, index)
    # Two holes: the first two hours (23:00 and 00:00 UTC) and the last 19 (04:00 to
    # 22:00 UTC): 2 + 3 + 19 = 24.
    assert curves.missing.to_dict("records") == [
        {
            "prm": PRM_1,
            "role": "consumer",
            "first": pd.Timestamp("2024-12-31 23:00", tz="UTC"),
            "last": pd.Timestamp("2025-01-01 00:00", tz="UTC"),
            "steps": 2,
            # As the export stamps them: the ends, in local time (01:00 and 02:00 +01:00).
            "first_horodate": pd.Timestamp("2025-01-01 01:00", tz="Europe/Paris"),
            "last_horodate": pd.Timestamp("2025-01-01 02:00", tz="Europe/Paris"),
        },
        {
            "prm": PRM_1,
            "role": "consumer",
            "first": pd.Timestamp("2025-01-01 04:00", tz="UTC"),
            "last": pd.Timestamp("2025-01-01 22:00", tz="UTC"),
            "steps": 19,
            "first_horodate": pd.Timestamp("2025-01-01 06:00", tz="Europe/Paris"),
            "last_horodate": pd.Timestamp("2025-01-02 00:00", tz="Europe/Paris"),
        },
    ]
    assert curves.missing_steps == 21


def test_the_autumn_night_given_twice_in_one_naive_file_is_merged():
    # autumn_repeated_block.csv: the six lines 01:30, 02:00, 02:30, 02:00, 02:30, 03:00
    # (100 ... 600 W), then the same six lines again, as when an overlapping export is
    # appended. The step back 03:00 -> 01:30 starts a second run, read like the first;
    # identical steps merge. Ends 23:30 ... 02:00 UTC, starts from 23:00 UTC.
    curves = read_load_curves(DATA / "autumn_repeated_block.csv")
    index = utc("2025-10-25 23:00", 6)
    # 100, ..., 600 W x 0.5 h / 1000 = 0.05, ..., 0.3 kWh
    assert_frame(curves.consumption, {PRM_1: [0.05 * k for k in range(1, 7)]}, index)
    assert curves.missing.empty


def test_quarter_hours_in_kilowatts_with_comma_decimals_in_windows_1252():
    # pt15m_kw_cp1252.csv: Windows-1252 (accents in the header and in Nature), PT15M, kW.
    # End 12:15+02:00 -> start 12:00+02:00 = 10:00 UTC.
    curves = read_load_curves(DATA / "pt15m_kw_cp1252.csv")
    index = utc("2025-06-01 10:00", 3, "15min")
    # 1,2 kW x 0.25 h = 0.3 kWh; 0,8 kW -> 0.2; 2 kW -> 0.5
    assert_frame(curves.consumption, {PRM_1: [0.3, 0.2, 0.5]}, index)
    # 4,4 kW x 0.25 h = 1.1 kWh; 3,6 -> 0.9; 0,4 -> 0.1
    assert_frame(curves.production, {PRM_3: [1.1, 0.9, 0.1]}, index)
    assert curves.step == pd.Timedelta("15min")


def test_overlapping_exports_are_merged_and_holes_reported():
    # overlap_a.csv: PRM 1 at ends 00:30 (1000 W), 01:00 (empty), 01:30 (3000), 02:00 (4000)
    #   and PRM 2 at ends 00:30..02:00 (100, 200, 300, 400 W), all +01:00.
    # overlap_b.csv: PRM 1 at ends 01:00 (2000 W, fills a's empty value), 01:30 and 02:00
    #   (identical to a: merged), 03:00 (6000 W; 02:30 is absent), and the producer PRM 3 at
    #   500 W from 00:30 to 03:00.
    # Union of steps: ends 00:30 to 03:00 +01:00 = starts 2025-01-31 23:00 to 01:30 UTC.
    curves = read_load_curves([DATA / "overlap_a.csv", DATA / "overlap_b.csv"])
    index = utc("2025-01-31 23:00", 6)
    nan = np.nan
    assert_frame(
        curves.consumption,
        {
            # 1000, 2000, 3000, 4000, -, 6000 W x 0.5 h / 1000
            PRM_1: [0.5, 1.0, 1.5, 2.0, nan, 3.0],
            # 100, 200, 300, 400 W x 0.5 h / 1000; nothing after 02:00 +01:00
            PRM_2: [0.05, 0.1, 0.15, 0.2, nan, nan],
        },
        index,
    )
    assert_frame(curves.production, {PRM_3: [0.25] * 6}, index)  # 500 W x 0.5 h / 1000
    expected = pd.DataFrame(
        {
            "prm": [PRM_1, PRM_2],
            "role": ["consumer", "consumer"],
            "first": pd.DatetimeIndex([index[4], index[4]]),
            "last": pd.DatetimeIndex([index[4], index[5]]),
            "steps": [1, 2],
            "first_horodate": pd.DatetimeIndex([index[5], index[5]]).tz_convert("Europe/Paris"),
            "last_horodate": pd.DatetimeIndex(
                [index[5], index[5] + pd.Timedelta("30min")]
            ).tz_convert("Europe/Paris"),
        }
    )
    pd.testing.assert_frame_equal(curves.missing, expected, check_dtype=False)
    assert curves.missing_steps == 3
    # The order of the files does not matter.
    again = read_load_curves([DATA / "overlap_b.csv", DATA / "overlap_a.csv"])
    pd.testing.assert_frame_equal(again.consumption, curves.consumption)
    pd.testing.assert_frame_equal(again.missing, curves.missing)


def test_an_empty_value_is_missing_never_invented():
    curves = read_load_curves(DATA / "overlap_a.csv")
    assert np.isnan(curves.consumption.loc["2025-01-31 23:30+00:00", PRM_1])
    assert curves.missing.to_dict("records") == [
        {
            "prm": PRM_1,
            "role": "consumer",
            "first": pd.Timestamp("2025-01-31 23:30", tz="UTC"),
            "last": pd.Timestamp("2025-01-31 23:30", tz="UTC"),
            "steps": 1,
            "first_horodate": pd.Timestamp("2025-02-01 01:00", tz="Europe/Paris"),
            "last_horodate": pd.Timestamp("2025-02-01 01:00", tz="Europe/Paris"),
        }
    ]
    # inspect_steps on one PRM's values shows the same gap.
    report = inspect_steps(curves.consumption[PRM_1].dropna().index)
    assert report.missing_steps == 1


def test_holes_stop_allocate_with_the_prm_and_step():
    curves = read_load_curves([DATA / "overlap_a.csv", DATA / "overlap_b.csv"])
    with pytest.raises(errors.MissingValueError) as caught:
        allocate(curves.consumption, curves.production, keys.Prorata())
    assert caught.value.member in (PRM_1, PRM_2)
    assert caught.value.member in str(caught.value)


def test_read_then_allocate_with_prorata():
    # Prorata (docs/rules.md): A = C x min(1, P_tot / sum C), on the offsets file's energies.
    # step 1: P = 0             -> A = 0, 0
    # step 2: 0.45 / 0.9 = 0.5  -> A = 0.4 x 0.5, 0.5 x 0.5 = 0.2, 0.25
    # step 3: 1.5 >= 1.2        -> A = 0.2, 1.0 (surplus 0.3)
    # step 4: 0.75 / 0.8        -> A = 0, 0.8 x 0.9375 = 0.75
    curves = read_load_curves(DATA / "offsets_pt30m_bom.csv")
    allocation = allocate(curves.consumption, curves.production, keys.Prorata())
    np.testing.assert_allclose(
        allocation.allocated.to_numpy(), [[0, 0], [0.2, 0.25], [0.2, 1.0], [0, 0.75]], **TOL
    )
    np.testing.assert_allclose(allocation.surplus[PRM_3], [0, 0, 0.3, 0], **TOL)


@pytest.mark.parametrize(
    "name",
    [
        "offsets_pt30m_bom.csv",
        "autumn_pt30m_naive.csv",
        "pt15m_kw_cp1252.csv",
        "spring_pt30m_naive.csv",
        "autumn_pt15m_naive.csv",
        "autumn_pt60m_naive.csv",
    ],
)
def test_energy_back_to_power_gives_the_file_values(name):
    """kWh -> W (x 1000 / step [h]) reproduces every Valeur of the file."""
    path = DATA / name
    curves = read_load_curves(path)
    hours = curves.step / pd.Timedelta("1h")
    encoding = "cp1252" if "cp1252" in name else "utf-8-sig"
    with open(path, encoding=encoding, newline="") as handle:
        lines = list(csv.DictReader(handle, delimiter=";"))
    assert len(lines) == curves.consumption.size + curves.production.size
    # File order is PRM by PRM, in time order: the same order as the columns, step by step.
    watts = [
        float(line["Valeur"].replace(",", ".")) * (1000 if line["Unité"] == "kW" else 1)
        for line in lines
    ]
    tables = pd.concat([curves.consumption, curves.production], axis=1)
    back = tables.to_numpy().T.ravel() * 1000 / hours
    np.testing.assert_allclose(back, watts, rtol=1e-12)


@given(
    watts=st.lists(st.integers(0, 250_000), min_size=1, max_size=30),
    minutes=st.sampled_from([15, 30, 60]),
)
def test_power_round_trip_property(tmp_path_factory, watts, minutes):
    folder = tmp_path_factory.mktemp("curves")
    ends = pd.date_range(
        "2025-03-29 22:00", periods=len(watts), freq=f"{minutes}min", tz="Europe/Paris"
    ) + pd.Timedelta(minutes=minutes)
    lines = [";".join(COLUMNS)] + [
        f"{PRM_1};;;PA;CONS;BRUT;W;{end.isoformat()};{w};B;PT{minutes}M;;"
        for end, w in zip(ends, watts, strict=True)
    ]
    (folder / "curve.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    curves = read_load_curves(folder / "curve.csv")
    energy = curves.consumption[PRM_1].to_numpy()
    np.testing.assert_array_equal(energy, np.array(watts) * minutes / 60_000)
    np.testing.assert_array_equal(np.rint(energy * 60_000 / minutes), watts)


# ------------------------------------------------------------------------------------------
# The requested period (Date de début, Date de fin)
# ------------------------------------------------------------------------------------------


def one_line_file(folder: Path, start: str, end: str, name: str = "one.csv") -> Path:
    """PRM 1 at one step, end 2025-01-01 00:30+01:00 (start 2024-12-31 23:00 UTC)."""
    line = f"{PRM_1};{start};{end};PA;CONS;BRUT;W;2025-01-01T00:30:00+01:00;1000;B;PT30M;;"
    (folder / name).write_text(f"{';'.join(COLUMNS)}\n{line}\n", encoding="utf-8")
    return folder / name


@pytest.mark.parametrize(
    ("start", "end", "steps", "first"),
    [
        # A whole day: 2025-01-01 00:00 to 2025-01-02 00:00 local, 48 half-hours.
        ("2025-01-01", "2025-01-02", 48, "2024-12-31 23:00"),
        # Naive timestamps are local time: 00:00 to 02:00 +01:00, 4 half-hours.
        ("2025-01-01 00:00:00", "2025-01-01 02:00:00", 4, "2024-12-31 23:00"),
        # Timestamps with an offset are taken as written: 23:00 to 01:00 UTC.
        ("2024-12-31T23:00:00Z", "2025-01-01T01:00:00+00:00", 4, "2024-12-31 23:00"),
        # One side empty: only the other one counts (here 4 half-hours up to 02:00).
        ("", "2025-01-01T02:00:00+01:00", 4, "2024-12-31 23:00"),
        # An empty period (as repartition.synthetic writes for part of a day) or empty
        # cells ask for nothing: just the step of the line.
        ("2025-01-01", "2025-01-01", 1, "2024-12-31 23:00"),
        ("", "", 1, "2024-12-31 23:00"),
        # A period that does not contain the line: the line is kept, and the axis runs
        # from it to the period's end (2025-01-03 00:00 local = 2025-01-02 23:00 UTC).
        ("2025-01-02", "2025-01-03", 96, "2024-12-31 23:00"),
        # The period starts a day earlier: 2024-12-31 00:00 local = 2024-12-30 23:00 UTC
        # to the end of the line's step, 00:30 +01:00: 48 + 1 half-hours.
        ("2024-12-31", "2025-01-01", 49, "2024-12-30 23:00"),
    ],
)
def test_the_time_axis_spans_the_requested_period(tmp_path, start, end, steps, first):
    curves = read_load_curves(one_line_file(tmp_path, start, end))
    assert len(curves.index) == steps
    assert curves.index[0] == pd.Timestamp(first, tz="UTC")
    assert curves.consumption.loc["2024-12-31 23:00+00:00", PRM_1] == 0.5  # 1000 W x 0.5 h
    assert curves.missing_steps == steps - 1  # every step but the line's is reported


def test_periods_of_several_files_are_united(tmp_path):
    # File a asks for 2025-01-01, file b for 2025-01-02 (each has one line on 2025-01-01):
    # the axis covers both days, 96 half-hours, for both PRMs' columns.
    a = one_line_file(tmp_path, "2025-01-01", "2025-01-02", "a.csv")
    b = one_line_file(tmp_path, "2025-01-02", "2025-01-03", "b.csv")
    b.write_text(b.read_text(encoding="utf-8").replace(PRM_1, PRM_2), encoding="utf-8")
    curves = read_load_curves([a, b])
    assert len(curves.index) == 96
    assert curves.index[-1] == pd.Timestamp("2025-01-02 22:30", tz="UTC")
    assert curves.missing_steps == 2 * 95


# ------------------------------------------------------------------------------------------
# The repeated autumn hour in naive files
# ------------------------------------------------------------------------------------------

_AUTUMN_ENDS = pd.date_range("2025-10-25 23:00", "2025-10-26 03:00", freq="15min", tz="UTC")


@given(
    minutes=st.sampled_from([15, 30, 60]),
    keep=st.lists(st.booleans(), min_size=17, max_size=17),
)
def test_naive_autumn_lines_are_never_shifted(tmp_path_factory, minutes, keep):
    """Any lines of a naive autumn export: right values at the right steps, or an error.

    The truth: ends every ``minutes`` from 01:00 CEST (23:00 UTC) to 04:00 CET (03:00
    UTC), written as naive local times, each line with its own power. Some lines are
    left out (as Enedis leaves out missing values). Whatever is left out, each value
    read must sit at its true step, and the lines are read exactly when the order can
    place them: when no line of the repeated hour is left, or when the lines left go
    back in time at the change of hour (the last summer line kept is not before the
    first winter line kept, in local time). Otherwise the file is refused
    (NonexistentTimeError), never guessed.
    """
    ends = _AUTUMN_ENDS[:: minutes // 15]
    kept = [k for k, flag in enumerate(keep[: len(ends)]) if flag]
    if not kept:
        return
    folder = tmp_path_factory.mktemp("autumn")
    local = ends.tz_convert("Europe/Paris").strftime("%Y-%m-%d %H:%M:%S")
    lines = [";".join(COLUMNS)] + [
        f"{PRM_1};;;PA;CONS;BRUT;W;{local[k]};{1000 * (k + 1)};B;PT{minutes}M;;" for k in kept
    ]
    (folder / "autumn.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    utc_hour = ends.hour
    summer = [k for k in kept if utc_hour[k] == 0]  # ends 00:00 to 00:45 UTC: 02:xx CEST
    winter = [k for k in kept if utc_hour[k] == 1]  # ends 01:00 to 01:45 UTC: 02:xx CET
    placeable = not (summer or winter) or bool(
        summer and winter and local[winter[0]] <= local[summer[-1]]
    )
    if not placeable:
        with pytest.raises(errors.NonexistentTimeError, match="ambiguous") as caught:
            read_load_curves(folder / "autumn.csv")
        assert caught.value.member == PRM_1
        return
    curves = read_load_curves(folder / "autumn.csv")
    energy = curves.consumption[PRM_1].dropna()
    starts = ends[kept] - pd.Timedelta(minutes=minutes)
    pd.testing.assert_index_equal(energy.index, starts, exact=False, check_freq=False)
    np.testing.assert_allclose(energy, [1000 * (k + 1) * minutes / 60_000 for k in kept])
    assert curves.missing_steps == curves.consumption.size - len(kept)


@pytest.mark.parametrize("left_out", [1, 2, 3, 4])
def test_one_line_missing_in_the_repeated_hour_is_a_reported_hole(tmp_path, left_out):
    # The autumn night at 30 min: ends 01:30, 02:00 S, 02:30 S, 02:00 W, 02:30 W, 03:00
    # (starts 23:00 to 01:30 UTC), each PRM line k with k x 100 W; line `left_out` missing.
    # The step back in time still shows the change of hour, so every other line is placed.
    night = ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
    lines = [";".join(COLUMNS)] + [
        f"{prm};;;PA;CONS;BRUT;W;2025-10-26 {end}:00;{watts * (k + 1)};B;PT30M;;"
        for k, end in enumerate(night)
        for prm, watts in ((PRM_1, 100), (PRM_2, 10))
        if not (prm == PRM_1 and k == left_out)
    ]
    (tmp_path / "holed.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    curves = read_load_curves(tmp_path / "holed.csv")
    index = utc("2025-10-25 23:00", 6)
    expected = [0.05 * (k + 1) for k in range(6)]  # 100 (k + 1) W x 0.5 h / 1000
    expected[left_out] = np.nan
    assert_frame(
        curves.consumption, {PRM_1: expected, PRM_2: [0.005 * k for k in range(1, 7)]}, index
    )
    hole = curves.missing.iloc[0]
    assert (hole["prm"], hole["first"], hole["steps"]) == (PRM_1, index[left_out], 1)
    # As the export would stamp it: the end of the step, with its offset (summer or winter).
    assert hole["first_horodate"].isoformat() == (
        f"2025-10-26T{night[left_out]}:00{'+02:00' if left_out < 3 else '+01:00'}"
    )


def test_curves_listed_step_by_step_are_read_per_prm(tmp_path):
    # The autumn night with two PRMs interleaved (each step: PRM 1 then PRM 2): the order
    # rule applies to each PRM's own lines. Same ends as autumn_pt30m_naive.csv.
    night = ["01:30", "02:00", "02:30", "02:00", "02:30", "03:00"]
    lines = [";".join(COLUMNS)] + [
        f"{prm};;;PA;CONS;BRUT;W;2025-10-26 {end}:00;{watts};B;PT30M;;"
        for k, end in enumerate(night)
        for prm, watts in ((PRM_1, 100 * (k + 1)), (PRM_2, 10 * (k + 1)))
    ]
    (tmp_path / "interleaved.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    curves = read_load_curves(tmp_path / "interleaved.csv")
    # 100 k W x 0.5 h / 1000 = 0.05 k kWh; 10 k W -> 0.005 k kWh
    expected = {PRM_1: [0.05 * k for k in range(1, 7)], PRM_2: [0.005 * k for k in range(1, 7)]}
    assert_frame(curves.consumption, expected, utc("2025-10-25 23:00", 6))


class TestLocalizeAmbiguousOnce:
    """repartition.time.localize refuses an ambiguous time given once in its group."""

    def test_once_is_an_error_naming_file_line_group_and_time(self):
        local = pd.DatetimeIndex(["2025-10-26 01:30", "2025-10-26 02:30", "2025-10-26 03:00"])
        with pytest.raises(errors.NonexistentTimeError) as caught:
            localize(local, groups=np.array(["A", "A", "A"]), path="curves.csv")
        raised = caught.value
        assert (raised.path, raised.line, raised.member) == ("curves.csv", 3, "A")
        assert raised.timestamp == pd.Timestamp("2025-10-26 02:30")
        for word in ("curves.csv", "line 3", "group A", "2025-10-26 02:30:00", "ambiguous"):
            assert word in str(raised)

    def test_twice_in_one_group_does_not_cover_another_group(self):
        # A has 02:00 twice (summer, winter); B has it once: B's line is refused.
        local = pd.DatetimeIndex(["2025-10-26 02:00"] * 3)
        with pytest.raises(errors.NonexistentTimeError) as caught:
            localize(local, groups=np.array(["A", "A", "B"]))
        assert (caught.value.line, caught.value.member) == (4, "B")

    def test_twice_keeps_the_order_rule(self):
        # 02:00 summer = 00:00 UTC, 02:00 winter = 01:00 UTC
        local = pd.DatetimeIndex(["2025-10-26 02:00", "2025-10-26 02:00"])
        assert list(localize(local).strftime("%H:%M")) == ["00:00", "01:00"]
        with pytest.raises(errors.NonexistentTimeError) as caught:
            localize(local[:1], first_line=7)
        assert caught.value.line == 7
        assert caught.value.member is None


# ------------------------------------------------------------------------------------------
# Encodings and headers
# ------------------------------------------------------------------------------------------


def test_encodings_and_header_spellings_give_the_same_curves(tmp_path):
    reference = read_load_curves(DATA / "offsets_pt30m_bom.csv")
    text = (DATA / "offsets_pt30m_bom.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "plain.csv").write_text(text, encoding="utf-8")
    (tmp_path / "latin.csv").write_text(text, encoding="cp1252")
    header, body = text.split("\n", 1)
    spelled = header.replace("Unité", "UNITE").replace("Grandeur métier", "grandeur  metier")
    (tmp_path / "spelled.csv").write_text(spelled + "\r\n" + body.replace("\n", "\r\n"))
    for name in ("plain.csv", "latin.csv", "spelled.csv"):
        curves = read_load_curves(tmp_path / name)
        pd.testing.assert_frame_equal(curves.consumption, reference.consumption)
        pd.testing.assert_frame_equal(curves.production, reference.production)


def test_an_encoding_change_after_the_first_megabyte_is_handled(tmp_path):
    # An ASCII header and 16,000 ASCII lines (over 1 MB, the part sniffed), then lines with
    # a Windows-1252 byte: bytes in columns that are not read do not matter; in a column
    # that is read, the file is read again as Windows-1252 (here to report the unit 'µW').
    header = ";".join(COLUMNS).replace("é", "e")
    line = f"{PRM_1};;;PA;CONS;BRUT;{{}};{{}};1200;{{}};PT30M;;"
    ends = [
        end.isoformat()
        for end in pd.date_range(
            "2025-01-01 00:30", periods=16_002, freq="30min", tz="Europe/Paris"
        )
    ]
    body = [line.format("W", end, "B") for end in ends[:-2]]
    assert len("\n".join(body)) > 1 << 20
    body.append(line.format("W", ends[-2], "Réelle"))
    (tmp_path / "late.csv").write_bytes("\n".join([header, *body]).encode("cp1252"))
    curves = read_load_curves(tmp_path / "late.csv")
    assert curves.consumption.shape == (16_001, 1)
    assert (curves.consumption[PRM_1] == 0.6).all()  # 1200 W x 0.5 h / 1000
    body.append(line.format("µW", ends[-1], "B"))
    (tmp_path / "late.csv").write_bytes("\n".join([header, *body]).encode("cp1252"))
    with pytest.raises(errors.UnitError, match="'µW'") as caught:
        read_load_curves(tmp_path / "late.csv")
    assert caught.value.line == 16_003


# ------------------------------------------------------------------------------------------
# Damaged bytes, other encodings, duplicated columns: EncodingError / ColumnError
# ------------------------------------------------------------------------------------------

REFERENCE = (DATA / "offsets_pt30m_bom.csv").read_bytes()  # UTF-8 with a BOM, 'é' in the header
REFERENCE_TEXT = REFERENCE.decode("utf-8-sig")


def _third_line_offset() -> int:
    """The offset of the 20th byte of line 3 (a data line: the PRM's digits)."""
    return REFERENCE.index(b"\n", REFERENCE.index(b"\n") + 1) + 20


@pytest.mark.parametrize(
    ("damage", "line", "offset", "words"),
    [
        # One byte of a UTF-8 file replaced by 0xFF: UTF-8 never has it.
        (
            lambda: REFERENCE[: _third_line_offset()]
            + b"\xff"
            + REFERENCE[_third_line_offset() + 1 :],
            3,
            _third_line_offset(),
            ["not valid UTF-8", "0xFF", "the file is UTF-8", "damaged"],
        ),
        # A Latin-1 'é' (0xE9) in a UTF-8 file: not read as 'é' on a guess.
        (
            lambda: REFERENCE[: _third_line_offset()] + b"\xe9" + REFERENCE[_third_line_offset() :],
            3,
            _third_line_offset(),
            ["not valid UTF-8", "0xE9"],
        ),
        # Excel's "Unicode text": UTF-16 LE with the byte-order mark FF FE, NUL bytes.
        (lambda: REFERENCE_TEXT.encode("utf-16"), 1, 0, ["UTF-16", "FF FE", "save it as UTF-8"]),
        (lambda: REFERENCE_TEXT.encode("utf-16-be"), 1, 0, ["UTF-16", "every other byte"]),
        (lambda: REFERENCE_TEXT.encode("utf-32"), 1, 0, ["UTF-32"]),
        (
            lambda: REFERENCE[:200] + b"\x00" + REFERENCE[200:],
            2,
            200,
            ["NUL", "damaged"],
        ),
        (lambda: REFERENCE[:200] + b"\x1a" + REFERENCE[201:], 2, 200, ["control", "0x1A"]),
        # Windows-1252 (its first non-ASCII byte is not UTF-8) with a byte it does not define.
        (
            lambda: REFERENCE_TEXT.encode("cp1252").replace(b"BRUT", b"BR\x81T", 1),
            2,
            REFERENCE_TEXT.encode("cp1252").index(b"BRUT") + 2,
            ["no character of Windows-1252"],
        ),
        # A UTF-8 sequence cut by the end of the file.
        (
            lambda: REFERENCE + b"\xc3",
            REFERENCE.count(b"\n") + 1,
            len(REFERENCE),
            ["not valid UTF-8"],
        ),
    ],
    ids=["0xFF", "latin-1 byte", "utf-16", "utf-16 without mark", "utf-32", "nul", "control",
         "cp1252 undefined", "cut sequence"],
)  # fmt: skip
def test_bytes_that_are_not_text_name_the_file_line_and_offset(
    tmp_path, damage, line, offset, words
):
    data = damage()
    (tmp_path / "damaged.csv").write_bytes(data)
    for what, path in ((tmp_path / "damaged.csv", tmp_path / "damaged.csv"), (data, "<BytesIO>")):
        with pytest.raises(errors.EncodingError) as caught:
            read_load_curves(what if isinstance(what, Path) else io.BytesIO(what))
        raised = caught.value
        assert isinstance(raised, errors.CorruptFileError)
        assert (raised.path, raised.line, raised.offset) == (path, line, offset)
        message = str(raised)
        for word in [str(path), f"line {line}", f"offset {offset}", *words]:
            assert word.lower() in message.lower()


def test_windows_1252_is_read_only_when_its_first_non_ascii_bytes_are_not_utf8(tmp_path):
    # An ASCII header, then 'µW' in UTF-8 (a unit to report), then a Windows-1252 'é':
    # the first non-ASCII bytes are UTF-8, so the file is UTF-8, and the 'é' is damage.
    header = ";".join(COLUMNS).replace("é", "e")
    line = f"{PRM_1};;;PA;CONS;BRUT;W;2025-01-01T00:30:00+01:00;1200;{{}};PT30M;;"
    body = "\n".join([header, line.format("µ"), line.format("x")]).encode("utf-8")
    (tmp_path / "mixed.csv").write_bytes(body + b"\n" + line.format("\xe9").encode("cp1252"))
    with pytest.raises(errors.EncodingError, match="line 4") as caught:
        read_load_curves(tmp_path / "mixed.csv")
    assert caught.value.encoding == "utf-8"


@pytest.mark.parametrize(
    ("old", "new", "column"),
    # The column named in the error is the second of the two, in the header's order.
    [("Nature", "Valeur", "Valeur"), ("Nature", "Unite", "Unite"), ("Nature", "PAS", "Pas")],
)
def test_a_column_named_twice_is_refused(tmp_path, old, new, column):
    (tmp_path / "twice.csv").write_text(REFERENCE_TEXT.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(errors.ColumnError, match="appears twice") as caught:
        read_load_curves(tmp_path / "twice.csv")
    assert (caught.value.column, caught.value.line) == (column, 1)
    assert str(tmp_path / "twice.csv") in str(caught.value)


def test_empty_column_names_are_not_names(tmp_path):
    # Lines ending in ';;' give empty column names: they are not read, so not ambiguous.
    text = "\n".join(f"{line};;" for line in REFERENCE_TEXT.splitlines())
    (tmp_path / "trailing.csv").write_text(text, encoding="utf-8")
    curves = read_load_curves(tmp_path / "trailing.csv")
    assert curves.consumption.shape == (4, 2)


@pytest.mark.parametrize("prm", ["3000000000 001", "3000000000\u00e9001", "30000000'00001"])
def test_a_prm_with_odd_characters_is_refused_at_its_line(tmp_path, prm):
    text = REFERENCE_TEXT.replace(PRM_1, prm, 2).replace(prm, PRM_1, 1)
    (tmp_path / "odd.csv").write_text(text, encoding="utf-8")
    with pytest.raises(errors.FileFormatError, match="PRM") as caught:
        read_load_curves(tmp_path / "odd.csv")
    assert caught.value.line == 3


def test_a_wrong_year_is_named_not_a_memory_error(tmp_path, monkeypatch):
    from repartition.io import enedis

    # Date de fin 2225 instead of 2025 asks for two centuries of steps: the tables would
    # be too large for real data (here the limit is lowered to keep the test small).
    monkeypatch.setattr(enedis, "_MAX_VALUES", 10_000)
    text = REFERENCE_TEXT.replace(
        "2025-01-01T02:00:00+01:00;PA;PROD", "2225-01-01T02:00:00+01:00;PA;PROD"
    )
    (tmp_path / "year.csv").write_text(text, encoding="utf-8")
    with pytest.raises(errors.FileFormatError, match="a date is probably wrong") as caught:
        read_load_curves(tmp_path / "year.csv")
    assert "2225-01-01 02:00" in str(caught.value)
    # A year 0025 is outside the years repartition reads: the line is named.
    text = REFERENCE_TEXT.replace(
        "2025-01-01T02:00:00+01:00;PA;PROD", "0025-01-01T02:00:00+01:00;PA;PROD"
    )
    (tmp_path / "year.csv").write_text(text, encoding="utf-8")
    with pytest.raises(errors.FileFormatError, match="Date de fin") as caught:
        read_load_curves(tmp_path / "year.csv")
    assert caught.value.line is not None


# ------------------------------------------------------------------------------------------
# Buffers: io.BytesIO, io.StringIO, open files
# ------------------------------------------------------------------------------------------


def test_buffers_read_like_files(tmp_path):
    reference = read_load_curves(DATA / "offsets_pt30m_bom.csv")
    latin = REFERENCE_TEXT.encode("cp1252")
    with (
        open(DATA / "offsets_pt30m_bom.csv", "rb") as binary,
        open(DATA / "offsets_pt30m_bom.csv", encoding="utf-8-sig") as text,
    ):
        for given in (io.BytesIO(REFERENCE), io.BytesIO(latin), io.StringIO(REFERENCE_TEXT),
                      binary, text):  # fmt: skip
            curves = read_load_curves(given)
            pd.testing.assert_frame_equal(curves.consumption, reference.consumption)
            pd.testing.assert_frame_equal(curves.production, reference.production)
    # A buffer among paths; the sources are named.
    curves = read_load_curves([io.BytesIO(REFERENCE), DATA / "overlap_a.csv"])
    assert curves.sources == ("<BytesIO>", DATA / "overlap_a.csv")


def test_errors_name_the_buffer(tmp_path):
    bad = (DATA / "bad_negative.csv").read_bytes()
    with pytest.raises(errors.NegativeEnergyError) as caught:
        read_load_curves(io.BytesIO(bad))
    assert (caught.value.path, caught.value.line) == ("<BytesIO>", 3)
    assert str(caught.value).startswith("<BytesIO>, line 3")
    named = io.BytesIO(bad)
    named.name = "upload/cons.csv"
    with pytest.raises(errors.NegativeEnergyError, match=r"^upload/cons\.csv, line 3"):
        read_load_curves(named)
    with (
        open(DATA / "bad_negative.csv", "rb") as handle,
        pytest.raises(errors.NegativeEnergyError, match=r"bad_negative\.csv, line 3"),
    ):
        read_load_curves(handle)


def test_what_is_not_a_file_is_a_typed_error():
    for what in (42, [42], None):
        with pytest.raises(errors.ParameterTypeError, match="path"):
            read_load_curves(what)
    # A text buffer whose opener could not decode the file.
    undecodable = io.TextIOWrapper(io.BytesIO("Unité".encode("utf-16")), encoding="utf-8")
    with pytest.raises(errors.EncodingError, match="binary mode"):
        read_load_curves(undecodable)
    with pytest.raises(errors.EncodingError, match="surrogate"):
        read_load_curves(io.StringIO(REFERENCE_TEXT.replace("1200", "12\udcff0")))


# ------------------------------------------------------------------------------------------
# Random damage: a typed error or a correct read, never anything else
# ------------------------------------------------------------------------------------------


def _cells(curves: LoadCurves) -> dict[tuple[str, str, pd.Timestamp], float]:
    cells = {}
    for role, table in (("consumer", curves.consumption), ("producer", curves.production)):
        for prm in table.columns:
            for when, value in table[prm].dropna().items():
                cells[role, prm, when] = float(value)
    return cells


def _reference(data: bytes) -> tuple[dict, dict[int, set]]:
    """The cells of a valid export, and the cell each line (1-based) gives: the files list
    each curve in time order, so a curve's k-th line is its k-th step."""
    clean = _cells(read_load_curves(io.BytesIO(data)))
    by_curve: dict[tuple[str, str], list] = {}
    for cell in sorted(clean, key=lambda cell: cell[2]):
        by_curve.setdefault(cell[:2], []).append(cell)
    lines: dict[int, set] = {}
    seen: dict[tuple[str, str], int] = {}
    for number, line in enumerate(data.decode("utf-8-sig").split("\n")[1:], start=2):
        if line.strip():
            fields = line.split(";")
            curve = ("consumer" if fields[4] == "CONS" else "producer", fields[0])
            lines[number] = {by_curve[curve][seen.get(curve, 0)]}
            seen[curve] = seen.get(curve, 0) + 1
    return clean, lines


NAIVE = (DATA / "autumn_pt30m_naive.csv").read_bytes()  # the autumn night, naive local time
_REFERENCES = {"offsets": (REFERENCE, *_reference(REFERENCE)), "naive": (NAIVE, *_reference(NAIVE))}


@example(file="naive", where=0.9911016572310937, new=b"+", insert=True)  # "03:30:0+0": mixed
@given(
    file=st.sampled_from(sorted(_REFERENCES)),
    where=st.floats(0, 1, exclude_max=True),
    new=st.one_of(
        st.binary(min_size=1, max_size=4),
        st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=3).map(
            str.encode
        ),
        st.sampled_from([b"\xff", b"\xe9", b"\x00", b"\xc3", b";", b"\n", b",", b"-", b"9", b"k"]),
        # Times of the repeated autumn hour, to move lines of the naive night around.
        st.sampled_from([b"02:00", b"02:30", b"03:00", b"01:30"]),
    ),
    insert=st.booleans(),
)
def test_random_damage_gives_a_typed_error_or_a_correct_read(file, where, new, insert):
    """Bytes replaced or inserted anywhere in a valid export (with UTC offsets, or naive
    across the autumn change): a RepartitionError, or a read in which every line left
    whole gives its value at its step, and the damaged line at most one value (what it
    now says)."""
    data, clean, line_cells = _REFERENCES[file]
    at = int(where * len(data))
    damaged = data[:at] + new + data[at + (0 if insert else len(new)) :]
    try:
        curves = read_load_curves(io.BytesIO(damaged))
    except errors.RepartitionError:
        return
    first = data.count(b"\n", 0, at) + 1
    last = data.count(b"\n", 0, min(len(data), at + len(new))) + 1
    touched = set().union(*(line_cells.get(n, set()) for n in range(first, last + 1)))
    cells = _cells(curves)
    for cell, value in clean.items():
        if cell not in touched:
            assert cells.get(cell) == value, cell
    others = {cell for cell in cells if cell not in clean or cell in touched}
    assert len(others) <= len(touched) + new.count(b"\n")


def test_only_the_needed_columns_are_required(tmp_path):
    text = "Identifiant PRM;Grandeur physique;Grandeur métier;Unité;Horodate;Valeur;Pas\n"
    text += f"{PRM_1};PA;CONS;W;2025-01-01T00:30:00+01:00;1200;PT30M\n"
    (tmp_path / "short.csv").write_text(text, encoding="utf-8")
    curves = read_load_curves(str(tmp_path / "short.csv"))
    assert curves.consumption[PRM_1].tolist() == [0.6]  # 1200 W x 0.5 h / 1000
    assert curves.production.shape == (1, 0)


def test_repr_summarises():
    curves = read_load_curves([DATA / "overlap_a.csv", DATA / "overlap_b.csv"])
    assert repr(curves) == (
        "<LoadCurves: 6 steps of 30 min from 2025-02-01 00:00+0100 to 2025-02-01 02:30+0100, "
        "2 consumer(s), 1 producer(s), 2 holes (3 missing values)>"
    )
    assert isinstance(curves, LoadCurves)


# ------------------------------------------------------------------------------------------
# Bad files: the right error, naming the file, line, PRM and timestamp
# ------------------------------------------------------------------------------------------

BAD = [
    # (files, error, line, PRM, timestamp or None, words in the message)
    ("bad_missing_column.csv", errors.ColumnError, 1, None, None, ["'Pas' is missing"]),
    ("bad_comma_separated.csv", errors.ColumnError, 1, None, None, ["not ';'-separated"]),
    ("bad_unit.csv", errors.UnitError, 3, PRM_1, "2025-02-01T01:00:00+01:00", ["'Wh'"]),
    ("bad_quantity.csv", errors.UnitError, 3, PRM_2, "2025-02-01T00:30:00+01:00", ["'PRI'"]),
    ("bad_role.csv", errors.FileFormatError, 2, PRM_1, "2025-02-01T00:30:00+01:00", ["'INJ'"]),
    ("bad_pas.csv", errors.FileFormatError, 2, PRM_1, "2025-02-01T00:30:00+01:00", ["'30min'"]),
    (
        "bad_step_inside.csv",
        errors.StepLengthError,
        3,
        PRM_1,
        pd.Timestamp("2025-01-31 23:30", tz="UTC"),
        ["inside one file", "PT30M", "line 2", "PT15M", "resample"],
    ),
    (
        ("overlap_a.csv", "bad_step_other_file.csv"),
        errors.StepLengthError,
        2,
        PRM_2,
        pd.Timestamp("2025-02-01 01:00", tz="UTC"),
        ["between files", "overlap_a.csv, line 6", "PT15M", "resample"],
    ),
    (
        "bad_step_prms.csv",
        errors.StepLengthError,
        3,
        PRM_2,
        pd.Timestamp("2025-01-31 23:00", tz="UTC"),
        [PRM_1, "PT30M", "resample"],
    ),
    (
        "bad_misaligned.csv",
        errors.IrregularStepError,
        3,
        PRM_2,
        pd.Timestamp("2025-01-31 23:15", tz="UTC"),
        ["does not line up", "line 2"],
    ),
    (
        "bad_conflict.csv",
        errors.ConflictingValuesError,
        4,
        PRM_1,
        pd.Timestamp("2025-01-31 23:00", tz="UTC"),
        ["0.5 kWh at", "line 2", "0.55 kWh", "line 4"],
    ),
    (
        ("overlap_a.csv", "bad_conflict_other_file.csv"),
        errors.ConflictingValuesError,
        2,
        PRM_1,
        pd.Timestamp("2025-02-01 00:00", tz="UTC"),
        ["overlap_a.csv, line 4", "1.75 kWh"],
    ),
    (
        "bad_nonexistent.csv",
        errors.NonexistentTimeError,
        3,
        PRM_1,
        "2025-03-30 02:30:00",
        ["does not exist", "spring"],
    ),
    (
        # 02:30, 02:00, 02:30, 02:00: the step back 02:30 -> 02:00 is the change of hour
        # (02:30 summer, 02:00 and 02:30 winter time); the second one starts a new run,
        # whose only line, 02:00 (line 5), the order cannot place.
        "bad_autumn_order.csv",
        errors.NonexistentTimeError,
        5,
        PRM_1,
        "2025-10-26 02:00:00",
        ["ambiguous", "never go back in time", "not in time order", "autumn"],
    ),
    (
        # 01:30, 02:00, 02:30, 03:00: the summer (or winter) half of the repeated hour is
        # missing, and no step back says where summer time ends; 02:00 could be 00:00 or
        # 01:00 UTC, so it is refused, not guessed.
        "bad_autumn_once.csv",
        errors.NonexistentTimeError,
        3,
        PRM_1,
        "2025-10-26 02:00:00",
        ["ambiguous", "never go back in time", "the order cannot tell", "UTC offsets"],
    ),
    (
        # 01:30, 02:00, 02:00 (a repeated line), 02:30, 02:00, 02:30, 03:00: the repeat
        # reads as the change of hour (it could be one, with 02:30 summer missing), so the
        # step back at line 6 starts a new run, 02:00, 02:30, 03:00, which never goes back.
        "bad_autumn_repeated_line.csv",
        errors.NonexistentTimeError,
        6,
        PRM_1,
        "2025-10-26 02:00:00",
        ["ambiguous", "repeated"],
    ),
    (
        # The autumn night twice (an overlapping export appended), the second time with
        # 450 W instead of 400 W at 02:00 winter time (end 01:00 UTC, start 00:30 UTC):
        # 400 W x 0.5 h / 1000 = 0.2 kWh (line 5) against 0.225 kWh (line 11).
        "bad_autumn_block_conflict.csv",
        errors.ConflictingValuesError,
        11,
        PRM_1,
        pd.Timestamp("2025-10-26 00:30", tz="UTC"),
        ["0.2 kWh at", "line 5", "0.225 kWh", "line 11"],
    ),
    (
        "bad_period_date.csv",
        errors.FileFormatError,
        2,
        PRM_1,
        "2025-02-01T00:30:00+01:00",
        ["Date de début", "'01/02/2025'", "2025-01-01"],
    ),
    (
        "bad_period_backwards.csv",
        errors.FileFormatError,
        3,
        PRM_1,
        "2025-02-01T01:00:00+01:00",
        ["ends before it starts", "Date de début 2025-02-02, Date de fin 2025-02-01"],
    ),
    (
        # Date de début 00:10 is not on the PT30M steps (which start on the hour and half).
        "bad_period_misaligned.csv",
        errors.IrregularStepError,
        2,
        PRM_1,
        None,
        ["period requested", "PT30M", "2025-02-01T00:10:00+01:00"],
    ),
    ("bad_value.csv", errors.FileFormatError, 3, PRM_1, "2025-02-01T01:00:00+01:00", ["'12a'"]),
    (
        "bad_timestamp.csv",
        errors.FileFormatError,
        3,
        PRM_1,
        "2025-02-30T01:00:00+01:00",
        ["cannot read the Horodate"],
    ),
    (
        "bad_mixed_offsets.csv",
        errors.FileFormatError,
        3,
        PRM_1,
        "2025-02-01 01:00:00",
        ["lacks a UTC offset", "line 2"],
    ),
    (
        "bad_negative.csv",
        errors.NegativeEnergyError,
        3,
        PRM_1,
        "2025-02-01T01:00:00+01:00",
        ["-250", "negative"],
    ),
    ("bad_empty_horodate.csv", errors.FileFormatError, 3, PRM_1, None, ["Horodate is empty"]),
    ("bad_empty_prm.csv", errors.FileFormatError, 3, None, "2025-02-01T00:30:00+01:00", ["PRM"]),
    ("bad_truncated.csv", errors.CorruptFileError, 3, None, None, ["8 fields", "13"]),
    ("empty.csv", errors.FileFormatError, None, None, None, ["is empty"]),
    ("header_only.csv", errors.FileFormatError, None, None, None, ["no data line"]),
]


@pytest.mark.parametrize(
    ("files", "error", "line", "prm", "timestamp", "words"),
    BAD,
    ids=[str(case[0]) for case in BAD],
)
def test_bad_files(files, error, line, prm, timestamp, words):
    names = [files] if isinstance(files, str) else list(files)
    with pytest.raises(error) as caught:
        read_load_curves([DATA / name for name in names])
    raised = caught.value
    message = str(raised)
    assert raised.path == DATA / names[-1]
    assert str(DATA / names[-1]) in message
    assert raised.line == line
    if line is not None:
        assert f"line {line}" in message
    assert raised.member == prm
    if prm is not None:
        assert prm in message
    assert raised.timestamp == timestamp
    if timestamp is not None:
        assert str(timestamp) in message
    for word in words:
        assert word in message


def test_line_numbers_count_blank_lines(tmp_path):
    text = (DATA / "bad_negative.csv").read_text(encoding="utf-8")
    header, first, second = text.splitlines()
    (tmp_path / "blank.csv").write_text(f"{header}\n{first}\n\n{second}\n", encoding="utf-8")
    with pytest.raises(errors.NegativeEnergyError) as caught:
        read_load_curves(tmp_path / "blank.csv")
    assert caught.value.line == 4
    assert "line 4" in str(caught.value)


def test_no_file_is_an_error():
    with pytest.raises(ValueError, match="at least one file"):
        read_load_curves([])


def test_files_are_not_modified(tmp_path):
    shutil.copy(DATA / "overlap_a.csv", tmp_path / "a.csv")
    before = (tmp_path / "a.csv").read_bytes()
    read_load_curves(tmp_path / "a.csv")
    assert (tmp_path / "a.csv").read_bytes() == before


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (np.nan, errors.MissingValueError),
        (np.inf, errors.NonFiniteError),
        (1e306, errors.NonFiniteError),  # finite energy, infinite power
        (-0.5, errors.NegativeEnergyError),
    ],
)
def test_the_synthetic_export_writer_refuses_what_no_export_holds(tmp_path, value, error):
    from repartition.synthetic.enedis import write_enedis_export

    index = pd.date_range("2025-01-01", periods=3, freq="30min", tz="Europe/Paris")
    with pytest.raises(error) as caught:
        write_enedis_export(tmp_path / "x.csv", pd.DataFrame({PRM_1: [1.0, value, 2.0]}, index))
    assert caught.value.member == PRM_1
    assert "2025-01-01T01:00:00+01:00" in str(caught.value)  # the Horodate: the step's end
    assert not (tmp_path / "x.csv").exists()
