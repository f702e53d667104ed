"""Benchmark settings: sizes, synthetic data built once per size, JIT warm-up, ratios.

Sizes (``--bench-size``, or the environment variable ``REPARTITION_BENCH_SIZE``):

- ``tiny`` (default): one day at 30 min (48 steps) x 10 consumers x 5 producers. What CI
  runs, with ``--benchmark-disable``: every benchmark executes once, so none can rot.
- ``year``: a year at 30 min (17,520 steps) x {10, 1,000} consumers x 5 producers.
- ``full``: the issue's sizes, 17,520 steps x {10, 1,000, 10,000} consumers x 5 producers
  (``REPARTITION_BENCH_FULL=1`` is a shorthand for it). About 8.5 GB of memory at the
  peak (maximum resident size measured), about 2.5 minutes on 2 cores.

The data of a size is built once (a session fixture parametrised by size; pytest runs the
tests grouped by size and frees one size's data before building the next). Every
kernel is compiled on a tiny case before any timing. After the run, a table of ratios
against the two baselines measured in the same run (``benchmarks/baselines.py``) is
printed below pytest-benchmark's own tables.
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest

from benchmarks import cases, data
from benchmarks.cases import FULL_DYNAMIC_MAX_CONSUMERS, KEYS, warm_jit

SIZES = {
    "tiny": [data.TINY],
    "year": data.year_sizes((10, 1_000)),
    "full": data.year_sizes((10, 1_000, 10_000)),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("repartition benchmarks")
    default = os.environ.get("REPARTITION_BENCH_SIZE") or (
        "full" if os.environ.get("REPARTITION_BENCH_FULL") == "1" else "tiny"
    )
    group.addoption(
        "--bench-size",
        choices=sorted(SIZES),
        default=default,
        help="tiny (CI, default), year (10 and 1,000 consumers) or full (also 10,000).",
    )
    group.addoption(
        "--bench-rounds",
        type=int,
        default=3,
        help="Timed rounds per benchmark, after one warm-up round (default 3).",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "community" in metafunc.fixturenames:
        sizes = SIZES[metafunc.config.getoption("--bench-size")]
        metafunc.parametrize(
            "community", sizes, indirect=True, scope="session", ids=[s.label for s in sizes]
        )


@pytest.fixture(scope="session", autouse=True)
def _warm_jit() -> None:
    """Compile (or load from Numba's cache) every kernel before anything is timed."""
    warm_jit()


@pytest.fixture(scope="session")
def community(request: pytest.FixtureRequest) -> Iterator[data.Community]:
    """The synthetic community of one size, built once; freed before the next size."""
    built = data.community(request.param)
    yield built
    del built
    gc.collect()


@pytest.fixture(scope="session")
def dynamic_coefficients(community: data.Community) -> Iterator[pd.DataFrame]:
    """The dynamic key's table for ``community``'s size (2 % of steps without a key)."""
    table = data.dynamic_coefficients(community)
    yield table
    del table
    gc.collect()


@pytest.fixture(scope="session")
def full_dynamic_coefficients(
    community: data.Community,
) -> Iterator[dict[str, pd.DataFrame]]:
    """The full dynamic key's tables, one per producer; skipped above 1,000 consumers."""
    if community.size.consumers > FULL_DYNAMIC_MAX_CONSUMERS:
        gigabytes = community.size.producers * community.size.consumption_bytes / 1e9
        pytest.skip(
            f"FullDynamic needs {community.size.producers} coefficient tables of the "
            f"consumption's size ({gigabytes:.0f} GB here): not benchmarked above "
            f"{FULL_DYNAMIC_MAX_CONSUMERS:,} consumers (docs/performance.md)."
        )
    tables = data.full_dynamic_coefficients(community)
    yield tables
    del tables
    gc.collect()


@pytest.fixture(scope="session")
def tiny_community() -> data.Community:
    """Always the tiny size: for the checks that the pandas baselines are right."""
    return data.community(data.TINY)


@dataclass
class Timings:
    """Best time of each (size, key, implementation) benchmarked in this session. [s]"""

    best: dict[tuple[str, str, str], float] = field(default_factory=dict)


_TIMINGS = pytest.StashKey[Timings]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TIMINGS] = Timings()


@pytest.fixture
def measure(benchmark: Any, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``measure(function, size, key, impl)``: time ``function()``, record its best time.

    ``impl`` is ``"allocate"``, ``"arrays"`` (``allocate_arrays``), ``"pandas"`` or, for
    ``key="floor"``, ``"numpy"``.

    One warm-up round, then ``--bench-rounds`` timed rounds (the exact pandas
    redistribution at 10,000 consumers: once, see :func:`benchmarks.cases.pandas_rounds`). With
    ``--benchmark-disable`` the function runs exactly once and nothing is recorded.
    Returns the function's result.
    """
    config = request.config
    timings = config.stash[_TIMINGS]
    rounds = config.getoption("--bench-rounds")

    def run(function: Callable[[], Any], size: data.Size, key: str, impl: str) -> Any:
        benchmark.group = f"{size.label} {key}"
        benchmark.extra_info.update(size=size.label, key=key, impl=impl)
        warmup, timed = cases.pandas_rounds(key, size, rounds) if impl == "pandas" else (1, rounds)
        result = benchmark.pedantic(function, rounds=timed, warmup_rounds=warmup, iterations=1)
        if benchmark.stats is not None:
            timings.best[(size.label, key, impl)] = benchmark.stats.stats.min
        return result

    return run


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    """Ratios against the floor and the pandas baseline, all measured in this run."""
    timings = config.stash[_TIMINGS]
    if not timings.best:
        return
    write = terminalreporter.write_line
    terminalreporter.section("repartition: ratios to the baselines of this run")
    write(
        "floor = consumption.copy() (read + write an array of the consumption's size); "
        "times are the best round, in ms"
    )
    write(
        f"{'size':>16} {'key':>20} {'allocate':>10} {'arrays':>10} {'floor':>8} "
        f"{'x floor':>8} {'pandas':>10} {'vs pandas':>10}"
    )
    sizes = dict.fromkeys(size for size, _, _ in timings.best)
    for size in sizes:
        floor = timings.best.get((size, "floor", "numpy"))
        for key in KEYS:
            allocate = timings.best.get((size, key, "allocate"))
            arrays = timings.best.get((size, key, "arrays"))
            pandas = timings.best.get((size, key, "pandas"))
            if allocate is None:
                continue
            write(
                f"{size:>16} {key:>20} {_ms(allocate):>10} {_ms(arrays):>10} "
                f"{_ms(floor):>8} {_ratio(allocate, floor):>8} "
                f"{_ms(pandas):>10} {_ratio(pandas, allocate):>10}"
            )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.2f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator == 0:
        return "-"
    return f"{numerator / denominator:.2f}x"
