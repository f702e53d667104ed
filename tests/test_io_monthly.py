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
