"""The scripts under examples/ run as documented (they are part of the docs)."""

from __future__ import annotations

import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest

from repartition.io import read_dynamic_key

EXAMPLES = Path(__file__).parent.parent / "examples"


@pytest.mark.parametrize("name", ["quickstart.py", "numpy_arrays.py", "python_service.py"])
def test_example_runs(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLES / name), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_pmo_month_writes_key_file_and_totals(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["pmo_month.py", str(tmp_path)])
    runpy.run_path(str(EXAMPLES / "pmo_month.py"), run_name="__main__")
    assert "energy lost to the rounding" in capsys.readouterr().out
    (key_path,) = (tmp_path / "keys").iterdir()
    # November 2025 at 30 min: 30 days x 48 steps, named by its first and last local day.
    assert key_path.name == "OPE123_30_01112025_30112025.txt"
    key = read_dynamic_key(key_path)
    assert len(key) == 30 * 48
    # In hundredths of a percent (exact integers), no row above 100 %.
    assert ((key * 10_000).round().sum(axis=1) <= 10_000).all()
    totals = pd.read_csv(tmp_path / "results" / "2025-11_totals.csv", sep=";", decimal=",")
    consumers = totals[totals["role"] == "consumer"]
    assert len(consumers) == 12
    assert (consumers["AUTOCONS"] + consumers["COMPLEMENT"] - consumers["CONS"]).abs().max() < 2e-6
    # The members' statements and the operator's report, named and in euros.
    statements = tmp_path / "statements"
    assert len(list(statements.glob("2025-11_statement_*.html"))) == 14
    assert "Foyer 1" in (statements / "2025-11_operator.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_researchers_sweep_plots_every_strategy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("pvlib")
    plot = tmp_path / "sweep.png"
    monkeypatch.setattr(sys, "argv", ["researcher_sweep.py", "3", str(plot)])
    runpy.run_path(str(EXAMPLES / "researcher_sweep.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "3 communities, medians per strategy" in out
    for name in ("Prorata", "Equal share", "Economic greedy"):
        assert name in out
    assert plot.stat().st_size > 10_000
