"""Every strategy of benchmarks/strategies.py, timed by pytest-benchmark (once, untimed in CI).

The ratios to Prorata come from ``python benchmarks/strategies.py``; this keeps its
registry runnable and checks each strategy's result on the benchmark data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmarks import data, strategies
from repartition import allocate


@pytest.mark.parametrize("name", list(strategies.STRATEGIES))
def test_strategy(benchmark: Any, name: str) -> None:
    community = data.community(data.TINY, layout="members")
    key = strategies.STRATEGIES[name](community)
    result = benchmark(allocate, community.consumption, community.production, key)
    allocated = result.allocated.to_numpy()
    production = community.production.to_numpy().sum(axis=1)
    assert (allocated >= 0).all()
    assert (allocated <= community.consumption.to_numpy() + 1e-12).all()
    np.testing.assert_allclose(
        allocated.sum(axis=1) + result.surplus.to_numpy().sum(axis=1), production, rtol=1e-12
    )


def test_report_runs_on_a_small_year(capsys: pytest.CaptureFixture[str]) -> None:
    assert strategies.main(["--consumers", "3", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in strategies.STRATEGIES)
