"""benchmarks/optimize.py and benchmarks/profiles.py on tiny cases, untimed in CI, so that
the scripts cannot rot (their full runs take minutes)."""

from __future__ import annotations

import pytest

from benchmarks import optimize, profiles, sweeps


def test_the_optimize_benchmark_runs_on_a_tiny_case(capsys: pytest.CaptureFixture[str]) -> None:
    optimize.main(["--sizes", "20", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "| 20 |" in out
    assert "yes" in out  # the same optimum as HiGHS called directly
    assert "-59.3770" in out  # the published min-bills case


def test_the_profiles_benchmark_runs_on_a_tiny_case(capsys: pytest.CaptureFixture[str]) -> None:
    profiles.main(["--plants", "3", "--repeat", "1"])
    out = capsys.readouterr().out
    assert "a village's roofs" in out
    assert "every plant different" in out


def test_the_sweeps_benchmark_runs_on_a_tiny_case(capsys: pytest.CaptureFixture[str]) -> None:
    sweeps.main(["--operations", "2"])
    out = capsys.readouterr().out
    assert "plain loop, one process" in out
    assert "sweep, 2 workers" in out
