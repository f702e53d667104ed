"""The DSO-style results export: :mod:`repartition.io.dso_results`.

One small allocation worked by hand with the default dynamic key (prorata, docs/rules.md):
``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``, producers' AUTOPROD = sum_i A
(one producer), SURPLUS = P - AUTOPROD. Four steps from 2025-01-31 22:00 UTC: the first
two start on 31 January in Paris (23:00 and 23:30, UTC+1), the last two on 1 February
(00:00 and 00:30), so the local months split them 2 + 2.

    step (UTC)   C_a   C_b   P    factor         A_a   A_b   AUTOPROD  SURPLUS
    22:00        1.0   1.0   1.0  1/2 = 0.5      0.5   0.5   1.0       0.0
    22:30        2.0   0.0   3.0  min(1, 3/2)=1  2.0   0.0   2.0       1.0
    23:00        0.0   2.0   1.0  0.5            0.0   1.0   1.0       0.0
    23:30        0.0   2.0   0.0  0              0.0   0.0   0.0       0.0

Monthly totals (local months):

    2025-01  a: CONS 3.0, AUTOCONS 2.5, COMPLEMENT 0.5, self-sufficiency 2.5/3 = 5/6
             b: CONS 1.0, AUTOCONS 0.5, COMPLEMENT 0.5, self-sufficiency 0.5
             PV: PROD 4.0, AUTOPROD 3.0, SURPLUS 1.0, self-consumption 3/4 = 0.75
    2025-02  a: CONS 0.0, AUTOCONS 0.0, COMPLEMENT 0.0, self-sufficiency NaN (0/0)
             b: CONS 4.0, AUTOCONS 1.0, COMPLEMENT 3.0, self-sufficiency 0.25
             PV: PROD 1.0, AUTOPROD 1.0, SURPLUS 0.0, self-consumption 1.0
"""

from __future__ import annotations

import io
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from repartition import allocate, errors, keys
from repartition.io import dso as module
from repartition.io.dso import (
    dso_results,
    monthly_totals,
    write_dso_results,
    write_monthly_totals,
)

A, B, PV = "30000000000001", "30000000000002", "30000000000003"
INDEX = pd.date_range("2025-01-31 22:00", periods=4, freq="30min", tz="UTC")
TOL = {"rtol": 1e-12, "atol": 1e-12}
NAN = np.nan
ENERGIES = ["CONS", "AUTOCONS", "COMPLEMENT", "PROD", "AUTOPROD", "SURPLUS"]


def hand_allocation():
    consumption = pd.DataFrame({A: [1.0, 2.0, 0.0, 0.0], B: [1.0, 0.0, 2.0, 2.0]}, index=INDEX)
    production = pd.Series([1.0, 3.0, 1.0, 0.0], index=INDEX, name=PV)
    return allocate(consumption, production, keys.Prorata())


def random_allocation(seed: int, steps: int = 96, consumers: int = 3, producers: int = 2):
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-03-30 20:00", periods=steps, freq="15min", tz="UTC")
    consumption = pd.DataFrame(
        rng.exponential(0.3, (steps, consumers)),
        index=index,
        columns=[f"c{i}" for i in range(consumers)],
    )
    production = pd.DataFrame(
        rng.exponential(0.5, (steps, producers)),
        index=index,
        columns=[f"p{j}" for j in range(producers)],
    )
    return allocate(consumption, production, keys.Prorata())


# ------------------------------------------------------------------------------------------
# Per step
# ------------------------------------------------------------------------------------------


def test_dso_results_per_member_and_step():
    table = dso_results(hand_allocation())
    assert list(table.columns) == ["prm", "role", "start_utc", "start_local", *ENERGIES]
    assert table["prm"].tolist() == [A] * 4 + [B] * 4 + [PV] * 4
    assert table["role"].tolist() == ["consumer"] * 8 + ["producer"] * 4
    assert table["start_utc"].tolist() == list(INDEX) * 3
    assert str(table["start_local"].dt.tz) == "Europe/Paris"
    assert table["start_local"].iloc[2] == pd.Timestamp("2025-02-01 00:00", tz="Europe/Paris")
    expected = {  # from the table in the module docstring
        "CONS": [1.0, 2.0, 0.0, 0.0, 1.0, 0.0, 2.0, 2.0] + [NAN] * 4,
        "AUTOCONS": [0.5, 2.0, 0.0, 0.0, 0.5, 0.0, 1.0, 0.0] + [NAN] * 4,
        "COMPLEMENT": [0.5, 0.0, 0.0, 0.0, 0.5, 0.0, 1.0, 2.0] + [NAN] * 4,
        "PROD": [NAN] * 8 + [1.0, 3.0, 1.0, 0.0],
        "AUTOPROD": [NAN] * 8 + [1.0, 2.0, 1.0, 0.0],
        "SURPLUS": [NAN] * 8 + [0.0, 1.0, 0.0, 0.0],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(table[name].to_numpy(), values, **TOL, err_msg=name)


@given(seed=st.integers(0, 2**32 - 1))
def test_every_row_adds_up(seed):
    table = dso_results(random_allocation(seed))
    consumers = table["role"] == "consumer"
    np.testing.assert_allclose(
        table.loc[consumers, "CONS"],
        table.loc[consumers, "AUTOCONS"] + table.loc[consumers, "COMPLEMENT"],
        **TOL,
    )
    producers = ~consumers
    np.testing.assert_allclose(
        table.loc[producers, "PROD"],
        table.loc[producers, "AUTOPROD"] + table.loc[producers, "SURPLUS"],
        **TOL,
    )
    assert table.loc[consumers, ["PROD", "AUTOPROD", "SURPLUS"]].isna().all().all()
    assert table.loc[producers, ["CONS", "AUTOCONS", "COMPLEMENT"]].isna().all().all()


# ------------------------------------------------------------------------------------------
# Monthly totals
# ------------------------------------------------------------------------------------------


def test_monthly_totals_by_hand():
    totals = monthly_totals(hand_allocation())
    assert totals["month"].tolist() == ["2025-01"] * 3 + ["2025-02"] * 3
    assert totals["prm"].tolist() == [A, B, PV] * 2
    assert totals["role"].tolist() == ["consumer", "consumer", "producer"] * 2
    assert totals["steps"].tolist() == [2] * 6
    expected = {  # from the monthly table in the module docstring
        "CONS": [3.0, 1.0, NAN, 0.0, 4.0, NAN],
        "AUTOCONS": [2.5, 0.5, NAN, 0.0, 1.0, NAN],
        "COMPLEMENT": [0.5, 0.5, NAN, 0.0, 3.0, NAN],
        "PROD": [NAN, NAN, 4.0, NAN, NAN, 1.0],
        "AUTOPROD": [NAN, NAN, 3.0, NAN, NAN, 1.0],
        "SURPLUS": [NAN, NAN, 1.0, NAN, NAN, 0.0],
        "self_sufficiency_rate": [5 / 6, 0.5, NAN, NAN, 0.25, NAN],
        "self_consumption_rate": [NAN, NAN, 0.75, NAN, NAN, 1.0],
    }
    for name, values in expected.items():
        np.testing.assert_allclose(totals[name].to_numpy(), values, **TOL, err_msg=name)


def test_months_follow_the_time_zone():
    # In UTC all four steps (22:00 to 23:30 on 31 January) are in January.
    totals = monthly_totals(hand_allocation(), tz="UTC")
    assert totals["month"].tolist() == ["2025-01"] * 3
    assert totals["steps"].tolist() == [4] * 3
    np.testing.assert_allclose(totals["CONS"].iloc[:2], [3.0, 5.0], **TOL)  # 1+2+0+0, 1+0+2+2


@given(seed=st.integers(0, 2**32 - 1))
def test_monthly_totals_sum_the_steps(seed):
    allocation = random_allocation(seed)
    per_step = dso_results(allocation, tz="Europe/Paris")
    per_step["month"] = per_step["start_local"].dt.strftime("%Y-%m")
    summed = per_step.groupby(["month", "prm"])[ENERGIES].sum(min_count=1)
    totals = monthly_totals(allocation).set_index(["month", "prm"])[ENERGIES]
    pd.testing.assert_frame_equal(totals.sort_index(), summed.sort_index(), rtol=1e-12)


# ------------------------------------------------------------------------------------------
# Files
# ------------------------------------------------------------------------------------------


def read_back(path, decimal=","):
    return pd.read_csv(path, sep=";", decimal=decimal, dtype={"prm": str, "month": str})


@pytest.mark.parametrize("block_rows", [1_000_000, 150])
def test_written_results_parse_back(tmp_path, monkeypatch, block_rows):
    # 150 rows: the 96-step allocation is written one member at a time.
    monkeypatch.setattr(module, "_BLOCK_ROWS", block_rows)
    allocation = random_allocation(7)
    path = write_dso_results(allocation, tmp_path / "results.csv")
    written = read_back(path)
    table = dso_results(allocation)
    assert list(written.columns) == list(table.columns)
    assert written["prm"].tolist() == table["prm"].tolist()
    local = pd.to_datetime(written["start_local"], utc=True)  # the offsets give the instant
    assert (local == table["start_utc"]).all()
    assert (pd.to_datetime(written["start_utc"], utc=True) == table["start_utc"]).all()
    for name in ENERGIES:
        # Each written value is within one unit of the 6th decimal (1e-6 kWh) of the exact
        # one; the rounded ones (not COMPLEMENT, SURPLUS) within half a unit.
        limit = 1e-6 if name in ("COMPLEMENT", "SURPLUS") else 0.5e-6
        error = np.abs(written[name].to_numpy() - table[name].to_numpy())
        assert np.nanmax(error) <= limit + 1e-12, name
        assert (np.isnan(written[name]) == np.isnan(table[name])).all()


def test_local_times_keep_their_offset_across_the_autumn_change(tmp_path):
    # 2025-10-26 00:00 to 01:30 UTC is 02:00, 02:30 (UTC+2), then 02:00, 02:30 (UTC+1)
    # in Paris: the offset tells the repeated hour apart.
    index = pd.date_range("2025-10-26 00:00", periods=4, freq="30min", tz="UTC")
    index = index.tz_convert("Europe/Paris")
    consumption = pd.DataFrame({A: [1.0] * 4}, index=index)
    production = pd.Series([0.5] * 4, index=index, name=PV)
    path = write_dso_results(allocate(consumption, production, keys.Prorata()), tmp_path / "r.csv")
    rows = [line.split(";") for line in path.read_text().splitlines()[1:5]]
    assert [row[2] for row in rows] == [
        "2025-10-26T00:00:00Z",
        "2025-10-26T00:30:00Z",
        "2025-10-26T01:00:00Z",
        "2025-10-26T01:30:00Z",
    ]
    assert [row[3] for row in rows] == [
        "2025-10-26T02:00:00+02:00",
        "2025-10-26T02:30:00+02:00",
        "2025-10-26T02:00:00+01:00",
        "2025-10-26T02:30:00+01:00",
    ]


def test_written_rows_add_up_exactly(tmp_path):
    path = write_dso_results(random_allocation(3), tmp_path / "results.csv")
    text = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False)

    def number(column):
        return [Decimal(value.replace(",", ".")) if value else None for value in text[column]]

    for total, shared, rest in [
        ("CONS", "AUTOCONS", "COMPLEMENT"),
        ("PROD", "AUTOPROD", "SURPLUS"),
    ]:
        for t, s, r in zip(number(total), number(shared), number(rest), strict=True):
            assert (t is None) == (s is None) == (r is None)
            if t is not None:
                assert t == s + r


def test_monthly_file_by_hand(tmp_path):
    path = write_monthly_totals(hand_allocation(), tmp_path / "monthly.csv")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "month;prm;role;steps;CONS;AUTOCONS;COMPLEMENT;PROD;AUTOPROD;SURPLUS;"
        "self_sufficiency_rate;self_consumption_rate"
    )
    # 5/6 = 0.8333333... -> 0,833333; the NaN rate of February (0/0) is an empty cell.
    assert lines[1] == f"2025-01;{A};consumer;2;3,000000;2,500000;0,500000;;;;0,833333;"
    assert lines[3] == f"2025-01;{PV};producer;2;;;;4,000000;3,000000;1,000000;;0,750000"
    assert lines[4] == f"2025-02;{A};consumer;2;0,000000;0,000000;0,000000;;;;;"
    written = read_back(path)
    expected = monthly_totals(hand_allocation())
    assert written["month"].tolist() == expected["month"].tolist()
    for name in [*ENERGIES, "self_sufficiency_rate", "self_consumption_rate"]:
        np.testing.assert_allclose(written[name], expected[name], atol=1e-6, rtol=0, err_msg=name)


def test_point_decimal_and_fewer_decimals(tmp_path):
    path = write_monthly_totals(hand_allocation(), tmp_path / "m.csv", decimal=".", decimals=2)
    assert path.read_text().splitlines()[1] == f"2025-01;{A};consumer;2;3.00;2.50;0.50;;;;0.83;"
    written = read_back(path, decimal=".")
    np.testing.assert_allclose(written["CONS"], monthly_totals(hand_allocation())["CONS"])


def test_rounding_keeps_rows_adding_up(tmp_path):
    # C = 0.1234565 and A = 0.0000005 round (6 decimals, half to even on the binary value)
    # independently; COMPLEMENT is written as their difference, so the row adds up as
    # written.
    index = INDEX[:1]
    consumption = pd.DataFrame({A: [0.1234565]}, index=index)
    production = pd.Series([0.0000005], index=index, name=PV)
    path = write_dso_results(allocate(consumption, production, keys.Prorata()), tmp_path / "r.csv")
    row = path.read_text().splitlines()[1].split(";")
    cons, auto, complement = (Decimal(v.replace(",", ".")) for v in row[4:7])
    assert cons == auto + complement
    assert abs(float(complement) - (0.1234565 - 0.0000005)) <= 1e-6


@pytest.mark.parametrize("writer", [write_dso_results, write_monthly_totals])
def test_interrupted_writes_leave_no_partial_file(tmp_path, monkeypatch, writer):
    target = tmp_path / "out.csv"
    target.write_text("old content\n")

    def failing_write(table, sink, options):
        sink.write(b"half a line;")
        raise KeyboardInterrupt  # e.g. Ctrl-C in the middle of the write

    monkeypatch.setattr(module.pacsv, "write_csv", failing_write)
    with pytest.raises(KeyboardInterrupt):
        writer(hand_allocation(), target)
    assert target.read_text() == "old content\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_bad_format_options_and_ids(tmp_path):
    allocation = hand_allocation()
    with pytest.raises(ValueError, match="decimal"):
        write_dso_results(allocation, tmp_path / "x.csv", decimal=";")
    with pytest.raises(ValueError, match="decimals"):
        write_dso_results(allocation, tmp_path / "x.csv", decimals=12)
    consumption = pd.DataFrame({"a;b": [1.0]}, index=INDEX[:1])
    production = pd.Series([1.0], index=INDEX[:1], name="pv")
    with pytest.raises(errors.FileFormatError) as caught:
        write_monthly_totals(allocate(consumption, production, keys.Prorata()), tmp_path / "x.csv")
    assert caught.value.member == "a;b"
    assert "'a;b'" in str(caught.value)
    assert not (tmp_path / "x.csv").exists()


# ------------------------------------------------------------------------------------------
# Values checked before anything is written; buffers
# ------------------------------------------------------------------------------------------


def forged(consumption: np.ndarray, allocated: np.ndarray, production: np.ndarray):
    """An Allocation built by hand (as a user or a faulty key could), unchecked."""
    from repartition.allocation import Allocation, AllocationArrays, Shares

    steps = consumption.shape[0]
    index = pd.date_range("2025-10-25 23:00", periods=steps, freq="30min", tz="UTC")
    shares = Shares(
        allocated=allocated,
        grid_supply=consumption - allocated,
        self_consumed=allocated.sum(axis=1, keepdims=True),
        surplus=production - allocated.sum(axis=1, keepdims=True),
    )
    arrays = AllocationArrays(consumption=consumption, production=production, shares=shares)
    return Allocation(
        key=keys.Prorata(),
        index=index,
        step=pd.Timedelta("30min"),
        consumers=pd.Index([A, B]),
        producers=pd.Index([PV]),
        arrays=arrays,
    )


def good_arrays(steps: int = 6):
    consumption = np.full((steps, 2), 1.0)
    allocated = np.full((steps, 2), 0.5)
    production = np.full((steps, 1), 1.5)
    return consumption, allocated, production


@pytest.mark.parametrize(
    ("array", "value", "error", "quantity"),
    [
        ("consumption", 1e13, errors.ValueRangeError, "CONS"),  # once written --9223372036855
        ("consumption", np.inf, errors.NonFiniteError, "CONS"),
        ("consumption", np.nan, errors.MissingValueError, "CONS"),
        ("consumption", -1.0, errors.NegativeEnergyError, "CONS"),
        ("allocated", -0.25, errors.NegativeEnergyError, "AUTOCONS"),
        ("allocated", 2.0, errors.NegativeEnergyError, "COMPLEMENT"),  # AUTOCONS > CONS
        ("production", 1e300, errors.ValueRangeError, "PROD"),
        ("production", -2.0, errors.NegativeEnergyError, "PROD"),
    ],
)
def test_bad_values_are_refused_before_anything_is_written(tmp_path, array, value, error, quantity):
    arrays = dict(zip(("consumption", "allocated", "production"), good_arrays(), strict=True))
    member = PV if array == "production" else B
    arrays[array][4, -1] = value  # step 4: 2025-10-26 01:00 UTC = 02:00 CET, the second 02:00
    allocation = forged(**arrays)
    path = tmp_path / "steps.csv"
    path.write_text("before")
    buffer = io.StringIO()
    for destination in (path, buffer):
        with pytest.raises(error) as caught:
            write_dso_results(allocation, destination)
        raised = caught.value
        assert raised.member == member
        assert raised.timestamp == pd.Timestamp("2025-10-26 01:00", tz="UTC")
        message = str(raised)
        for word in (quantity, member, "2025-10-26T02:00:00+01:00", "2025-10-26T01:00:00Z"):
            assert word in message
    assert path.read_text() == "before"
    assert buffer.getvalue() == ""


def test_monthly_sums_are_checked_too(tmp_path):
    consumption, allocated, production = good_arrays()
    consumption[:, 0] = 1e308  # each finite, their sum is not
    allocated[:, 0] = 0.0
    production[:] = 1e308
    allocation = forged(consumption, allocated, production)
    with pytest.raises(errors.ValueRangeError):
        write_dso_results(allocation, tmp_path / "steps.csv")
    with pytest.raises(errors.NonFiniteError) as caught:
        write_monthly_totals(allocation, tmp_path / "totals.csv")
    assert (caught.value.member, caught.value.timestamp) == (A, "2025-10")
    assert "the 2025-10 total of CONS" in str(caught.value)
    assert not (tmp_path / "totals.csv").exists()
    consumption, allocated, production = good_arrays()
    consumption[:, 1] = 2e9  # 6 steps of 2e9: a month of 1.2e10 kWh
    allocation = forged(consumption, allocated, production)
    write_dso_results(allocation, tmp_path / "steps.csv")  # each step can be written
    with pytest.raises(errors.ValueRangeError, match="fewer decimals"):
        write_monthly_totals(allocation, tmp_path / "totals.csv")
    write_monthly_totals(allocation, tmp_path / "totals.csv", decimals=3)  # 1.2e13 units
    text = (tmp_path / "totals.csv").read_text()
    assert "12000000000,000" in text
    assert "--" not in text


@given(
    value=st.floats(allow_nan=True, allow_infinity=True, width=64),
    decimals=st.integers(0, 9),
)
def test_any_value_is_written_exactly_or_refused(value, decimals):
    """Random (huge, tiny, negative, non-finite) CONS: the text read back is the value
    rounded to ``decimals``, or a typed error; never a wrapped integer or a minus sign."""
    consumption, allocated, production = good_arrays(1)
    consumption[0, 0] = value
    allocated[0, 0] = 0.0
    buffer = io.BytesIO()
    try:
        write_dso_results(forged(consumption, allocated, production), buffer, decimals=decimals)
    except errors.DataError:
        assert not (np.isfinite(value) and -0.5 <= value * 10**decimals <= 2**53)
        assert buffer.getvalue() == b""
        return
    row = buffer.getvalue().decode().splitlines()[1].split(";")
    written = Decimal(row[4].replace(",", "."))
    assert written >= 0
    # Within one unit of the last decimal (the product value x 10**decimals is rounded).
    assert abs(written - Decimal(value)) <= Decimal(10) ** -decimals
    assert row[6] == row[4]  # COMPLEMENT = CONS - AUTOCONS (0)


def test_results_to_buffers(tmp_path):
    allocation = hand_allocation()
    for writer in (write_dso_results, write_monthly_totals):
        path = writer(allocation, tmp_path / "file.csv")
        assert path == tmp_path / "file.csv"
        binary, text = io.BytesIO(), io.StringIO()
        assert writer(allocation, binary) is None
        assert writer(allocation, text) is None
        assert binary.getvalue() == path.read_bytes()
        assert text.getvalue() == path.read_text()
        with open(tmp_path / "open.csv", "wb") as handle:
            writer(allocation, handle)
        assert (tmp_path / "open.csv").read_bytes() == path.read_bytes()
        with pytest.raises(errors.ParameterTypeError, match="open for writing"):
            writer(allocation, 42)


def test_results_in_blocks_to_a_buffer(monkeypatch):
    monkeypatch.setattr(module, "_BLOCK_ROWS", 5)
    allocation = random_allocation(3)
    buffer = io.StringIO()
    write_dso_results(allocation, buffer)
    back = pd.read_csv(io.StringIO(buffer.getvalue()), sep=";", decimal=",", dtype={"prm": str})
    assert len(back) == 96 * 5
