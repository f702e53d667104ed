"""benchmarks/threads.py on a tiny case, untimed in CI, so that the script cannot rot."""

from __future__ import annotations

import pytest

from benchmarks import threads


def test_threads_report_runs_on_a_tiny_case(capsys: pytest.CaptureFixture[str]) -> None:
    arguments = ["--repeat", "1", "--communities", "2", "--steps", "48"]
    arguments += ["--crossover-sizes", "48x3", "--latency-size", "48x3", "--pool-consumers", "3"]
    arguments += ["--cold-repeat", "1", "--no-demo"]
    assert threads.main([*arguments, "--cold-keys", "Prorata (baseline)"]) == 0
    out = capsys.readouterr().out
    titles = ("When a second thread pays", "Many small communities", "latency", "per core", "cold")
    for title in titles:
        assert title in out
    assert all(name in out for name in threads.STRATEGIES)
