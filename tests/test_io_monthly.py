"""A PMO's month in one call (io.monthly.prepare_month) and its console form."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, errors, keys
from repartition.cli import main
from repartition.io import read_dynamic_key
from repartition.io.monthly import prepare_month, read_static_coefficients
from repartition.synthetic import synthetic_community
from repartition.synthetic.enedis import write_enedis_export

CONSUMERS = ["30000000000001", "30000000000002", "30000000000003"]


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame, pd.DataFrame]:
    """Two local months (October and November 2025) of 3 consumers and 1 PV plant."""
    consumption, production = synthetic_community(consumers=3, producers=1, seed=3)
    period = (consumption.index >= "2025-10-01") & (consumption.index < "2025-12-01")
    consumption = consumption.loc[period].set_axis(CONSUMERS, axis=1)
    production = production.loc[period].set_axis(["50000000000001"], axis=1)
    path = tmp_path_factory.mktemp("exports") / "export.csv"
    write_enedis_export(path, consumption, production)
    return path, consumption, production


def _coefficients(folder: Path) -> Path:
    path = folder / "static.csv"
    path.write_text("PRM;coefficient\n30000000000001;0,5\n30000000000002;0.3\n30000000000003;0,2\n")
    return path


def test_prepare_month_writes_the_three_files(exports: tuple, tmp_path: Path) -> None:
    path, consumption, production = exports
    key = keys.Static(read_static_coefficients(_coefficients(tmp_path)), redistribute=True)
    files = prepare_month(path, "2025-11", key, tmp_path / "out", operation="OPE1")
    # November 2025 in Paris: 30 days x 48 half-hours, no DST change.
    assert len(files.allocation.index) == 30 * 48
    assert files.key_file is not None
    assert files.key_file.path.name == "OPE1_30_01112025_30112025.txt"
    assert files.steps.exists()
    assert files.totals.exists()
    # The export holds whole watts: the month read back is the written month to 0.5 W x 0.5 h.
    november = consumption.index.tz_convert("Europe/Paris").month == 11
    expected = allocate(consumption.loc[november], production.loc[november], key)
    np.testing.assert_allclose(
        files.allocation.allocated.sum().to_numpy(),
        expected.allocated.sum().to_numpy(),
        atol=30 * 48 * 0.25e-3,
    )
    # Applying the written key with the DSO's rule loses exactly what the writer reported.
    written = read_dynamic_key(files.key_file.path, members=CONSUMERS)
    month = files.allocation
    replayed = allocate(month.consumption, month.production, keys.Dynamic(written))
    lost = month.allocated.to_numpy().sum() - replayed.allocated.to_numpy().sum()
    assert lost == pytest.approx(files.key_file.energy_lost_kwh, abs=1e-9)


def test_holes_in_the_month_are_refused(exports: tuple, tmp_path: Path) -> None:
    _, consumption, production = exports
    path = tmp_path / "others.csv"
    write_enedis_export(path, consumption.drop(columns=CONSUMERS[1]), production)
    holed = tmp_path / "holed.csv"
    write_enedis_export(holed, consumption[[CONSUMERS[1]]])
    lines = holed.read_text().splitlines()
    # Line k + 1 is step k (after the header); steps 1500 and 1501 fall in November.
    assert consumption.index[1500].tz_convert("Europe/Paris").month == 11
    holed.write_text("\n".join(lines[:1501] + lines[1503:]) + "\n")
    with pytest.raises(errors.MissingValueError, match="2 steps") as caught:
        prepare_month([path, holed], "2025-11", keys.Prorata(), tmp_path / "out")
    assert caught.value.member == CONSUMERS[1]
    assert caught.value.timestamp == consumption.index[1500]
    # October has no hole: it goes through, and without an operation id no key file.
    files = prepare_month([path, holed], "2025-10", keys.Prorata(), tmp_path / "out")
    assert files.key_file is None


def test_static_coefficients_file_errors(tmp_path: Path) -> None:
    path = tmp_path / "static.csv"
    path.write_text("PRM;share\n30000000000001;0,5\n")
    with pytest.raises(errors.ColumnError, match="PRM;coefficient"):
        read_static_coefficients(path)
    path.write_text("PRM;coefficient\n30000000000001;0,5\n30000000000002;half\n")
    with pytest.raises(errors.FileFormatError, match="line 3") as caught:
        read_static_coefficients(path)
    assert caught.value.member == "30000000000002"
    path.write_text("PRM;coefficient\n30000000000001;0,5\n30000000000001;0,2\n")
    with pytest.raises(errors.FileFormatError, match="twice"):
        read_static_coefficients(path)


def test_console_command(
    exports: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = exports[0]
    coefficients = _coefficients(tmp_path)
    arguments = ["month", str(path), "--month", "2025-11", "--out", str(tmp_path / "out")]
    code = main(
        [*arguments, "--operation", "OPE1", "--key", "redistributed", "--coefficients",
         str(coefficients), "--rounding", "recover"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "OPE1_30_01112025_30112025.txt" in out
    assert "static, redistributed" in out
    assert main([*arguments, "--key", "static"]) == 2
    assert "--coefficients" in capsys.readouterr().err
    assert main([*arguments[:2], "--month", "2024-01", "--out", str(tmp_path)]) == 1
    assert "2024-01" in capsys.readouterr().err


def _visible(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if not p.name.startswith(".")}


@pytest.mark.parametrize("operation", ["fsync", "replace"])
def test_a_month_appears_whole_or_not_at_all_wherever_it_is_interrupted(
    exports: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, operation: str
) -> None:
    """Interrupt the k-th fsync or rename of prepare_month, for every k: the folder holds
    the previous run's files untouched, or every new file, never a mix."""
    import os

    from repartition import _atomic

    path = exports[0]
    out = tmp_path / "out"
    prepare_month(path, "2025-11", keys.Prorata(), out, operation="OPE1")
    before = _visible(out)
    key = keys.Static(read_static_coefficients(_coefficients(tmp_path)), redistribute=True)
    prepare_month(path, "2025-11", key, tmp_path / "expected", operation="OPE1")
    expected = _visible(tmp_path / "expected")
    assert expected.keys() == before.keys()
    assert expected != before
    target = (_atomic, "_flush_to_disk") if operation == "fsync" else (os, "replace")
    real = getattr(*target)
    for k in range(1, 50):
        calls = 0

        def failing(*args: object, k: int = k) -> object:
            nonlocal calls
            calls += 1
            if calls == k:
                raise KeyboardInterrupt(f"interrupted at {operation} {k}")
            return real(*args)

        monkeypatch.setattr(*target, failing)
        try:
            prepare_month(path, "2025-11", key, out, operation="OPE1", overwrite=True)
        except KeyboardInterrupt:
            monkeypatch.setattr(*target, real)
            # Interrupted after the last rename (the folder's fsync): every new file is in.
            assert _visible(out) in (before, expected), f"interrupted at {operation} {k}"
            continue
        monkeypatch.setattr(*target, real)
        assert _visible(out) == expected
        break
    else:
        pytest.fail("prepare_month never completed")
    assert k > 3  # several interruption points were exercised


def test_a_writer_that_refuses_leaves_no_key_file(
    exports: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from repartition.io import monthly

    def refuse(*args: object, **kwargs: object) -> None:
        raise errors.FileFormatError("the totals cannot be written")

    monkeypatch.setattr(monthly, "write_monthly_totals", refuse)
    with pytest.raises(errors.FileFormatError, match="totals"):
        prepare_month(exports[0], "2025-11", keys.Prorata(), tmp_path / "out", operation="OPE1")
    assert _visible(tmp_path / "out") == {}


# ------------------------------------------------------------------------------------------
# Missing values: a policy, checked on the data, every value filled reported
# ------------------------------------------------------------------------------------------


def _holed_exports(exports: tuple, folder: Path) -> list[Path]:
    """The exports with consumer 2's steps 1500-1501 and the producer's step 1510 left out
    (all in November 2025: 1 November 04:00 and 04:30, 09:00 UTC)."""
    _, consumption, production = exports
    others = folder / "others.csv"
    write_enedis_export(others, consumption.drop(columns=CONSUMERS[1]))
    holed = folder / "holed.csv"
    write_enedis_export(holed, consumption[[CONSUMERS[1]]])
    lines = holed.read_text().splitlines()
    holed.write_text("\n".join(lines[:1501] + lines[1503:]) + "\n")
    pv = folder / "pv.csv"
    write_enedis_export(pv, production=production)
    lines = pv.read_text().splitlines()
    pv.write_text("\n".join(lines[:1511] + lines[1512:]) + "\n")
    return [others, holed, pv]


def test_each_policy_fills_only_its_role(exports: tuple, tmp_path: Path) -> None:
    _, consumption, _ = exports
    files = _holed_exports(exports, tmp_path)
    index = consumption.index
    # Refused by default and by a policy for the other role, naming the first hole.
    for policy, role, member, step in (
        ("refuse", "consumer", CONSUMERS[1], 1500),
        ("zero-production", "consumer", CONSUMERS[1], 1500),
        ("zero-consumption", "producer", "50000000000001", 1510),
    ):
        with pytest.raises(errors.MissingValueError) as caught:
            prepare_month(files, "2025-11", keys.Prorata(), tmp_path / "out", holes=policy)
        raised = caught.value
        assert (raised.member, raised.timestamp) == (member, index[step])
        horodate = (index[step] + pd.Timedelta("30min")).tz_convert("Europe/Paris")
        for words in (role, member, f"Horodate {horodate.isoformat()}", "--holes", "holes.csv"):
            assert words in str(raised)
    assert not (tmp_path / "out").exists()
    # "zero": both filled, each value reported.
    month = prepare_month(files, "2025-11", keys.Prorata(), tmp_path / "out", holes="zero")
    assert month.policy == "zero"
    filled = month.filled
    assert list(filled.columns) == ["prm", "role", "start_utc", "start_local", "horodate",
                                    "filled_kwh"]  # fmt: skip
    assert filled[["prm", "role"]].to_numpy().tolist() == [
        [CONSUMERS[1], "consumer"], [CONSUMERS[1], "consumer"], ["50000000000001", "producer"]
    ]  # fmt: skip
    assert list(filled["start_utc"]) == list(index[[1500, 1501, 1510]])
    assert filled["horodate"].iloc[0].isoformat() == "2025-11-01T05:30:00+01:00"
    assert (filled["filled_kwh"] == 0.0).all()
    allocation = month.allocation
    assert allocation.consumption.loc[index[1500], CONSUMERS[1]] == 0.0
    assert allocation.allocated.loc[index[1500], CONSUMERS[1]] == 0.0
    assert allocation.production.loc[index[1510]].sum() == 0.0
    assert month.holes == tmp_path / "out" / "2025-11_holes.csv"
    assert month.holes.read_text().splitlines() == [
        "prm;role;start_utc;start_local;horodate;filled_kwh",
        f"{CONSUMERS[1]};consumer;2025-11-01T04:00:00Z;2025-11-01T05:00:00+01:00;"
        "2025-11-01T05:30:00+01:00;0,000000",
        f"{CONSUMERS[1]};consumer;2025-11-01T04:30:00Z;2025-11-01T05:30:00+01:00;"
        "2025-11-01T06:00:00+01:00;0,000000",
        "50000000000001;producer;2025-11-01T09:00:00Z;2025-11-01T10:00:00+01:00;"
        "2025-11-01T10:30:00+01:00;0,000000",
    ]


def test_data_completed_by_hand_passes(exports: tuple, tmp_path: Path) -> None:
    """The check is on the data passed, not on the reader's list of holes."""
    from dataclasses import replace

    from repartition.io import read_load_curves

    files = _holed_exports(exports, tmp_path)
    curves = read_load_curves(files)
    assert curves.missing_steps == 3
    with pytest.raises(errors.MissingValueError):
        prepare_month(curves, "2025-11", keys.Prorata(), tmp_path / "out")
    completed = replace(
        curves,
        consumption=curves.consumption.fillna(0.2),
        production=curves.production.fillna(1.0),
    )  # the reader's `missing` still lists the holes: it is not what is checked
    month = prepare_month(completed, "2025-11", keys.Prorata(), tmp_path / "out")
    assert month.filled.empty
    assert month.holes.read_text() == "prm;role;start_utc;start_local;horodate;filled_kwh\n"
    assert month.allocation.consumption.loc[exports[1].index[1500], CONSUMERS[1]] == 0.2


def test_a_complete_month_writes_an_empty_report(exports: tuple, tmp_path: Path) -> None:
    # A report from an earlier run never stays behind: the new one is written too.
    stale = tmp_path / "out" / "2025-11_holes.csv"
    stale.parent.mkdir()
    stale.write_text("an earlier run's report\n")
    month = prepare_month(exports[0], "2025-11", keys.Prorata(), tmp_path / "out", holes="zero")
    assert month.filled.empty
    assert stale.read_text() == "prm;role;start_utc;start_local;horodate;filled_kwh\n"
    with pytest.raises(errors.ParameterError, match="holes must be one of"):
        prepare_month(exports[0], "2025-11", keys.Prorata(), tmp_path / "out", holes="zeros")


def test_a_naive_export_with_a_line_missing_in_the_autumn_hour(
    exports: tuple, tmp_path: Path
) -> None:
    """October 2025 in naive local time, with the line ending 02:30 summer time (the
    step 00:00 to 00:30 UTC) missing for one consumer: placed by the order, the hole
    reported at its Horodate, filled on request."""
    _, consumption, production = exports
    path = tmp_path / "naive.csv"
    write_enedis_export(path, consumption, production, offsets=False)
    lines = path.read_text().splitlines()
    target = f"{CONSUMERS[0]};"
    autumn = [
        k
        for k, line in enumerate(lines)
        if line.startswith(target) and ";2025-10-26 02:30:00;" in line
    ]
    assert len(autumn) == 2  # summer time, then winter time
    del lines[autumn[0]]
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(errors.MissingValueError, match=r"Horodate 2025-10-26T02:30:00\+02:00"):
        prepare_month(path, "2025-10", keys.Prorata(), tmp_path / "out")
    month = prepare_month(
        path, "2025-10", keys.Prorata(), tmp_path / "out", holes="zero-consumption"
    )
    assert len(month.allocation.index) == 31 * 48 + 2  # the 50-step day
    assert month.filled["horodate"].map(pd.Timestamp.isoformat).tolist() == [
        "2025-10-26T02:30:00+02:00"
    ]
    assert month.filled["start_utc"].iloc[0] == pd.Timestamp("2025-10-26 00:00", tz="UTC")


def test_console_holes(exports: tuple, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [str(path) for path in _holed_exports(exports, tmp_path)]
    out = str(tmp_path / "out")
    assert main(["month", *files, "--month", "2025-11", "--out", out]) == 1
    error = capsys.readouterr().err
    assert "--holes zero-consumption" in error
    assert "Horodate 2025-11-01T05:30:00+01:00" in error
    assert main(["month", *files, "--month", "2025-11", "--out", out, "--holes", "zero"]) == 0
    printed = capsys.readouterr().out
    assert "3 value(s) of 2 PRM(s) filled with 0, --holes zero" in printed
    assert (
        f"{CONSUMERS[1]} (consumer): 2 steps, Horodate 2025-11-01T05:30:00+01:00 to "
        "2025-11-01T06:00:00+01:00" in printed
    )
    assert "50000000000001 (producer): 1 step, Horodate 2025-11-01T10:30:00+01:00" in printed
    assert main(["month", files[0], files[2], "--month", "2025-11", "--out", out, "--holes",
                 "zero-production"]) == 0  # fmt: skip
    printed = capsys.readouterr().out
    assert "1 value(s) of 1 PRM(s)" in printed
    assert main(["month", str(exports[0]), "--month", "2025-11", "--out", out]) == 0
    assert "(none filled)" in capsys.readouterr().out
