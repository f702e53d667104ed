"""Benchmark settings: sizes, synthetic data built once per size, JIT warm-up, ratios.

Sizes (``--bench-size``, or the environment variable ``REPARTITION_BENCH_SIZE``):

- ``tiny`` (default): one day at 30 min (48 steps) x 10 consumers x 5 producers. What CI
  runs, with ``--benchmark-disable``: every benchmark executes once, so none can rot.
- ``year``: a year at 30 min (17,520 steps) x {10, 1,000} consumers x 5 producers.
- ``full``: the sizes of docs/performance.md, 17,520 steps x {10, 1,000, 10,000} consumers x 5
  producers (``REPARTITION_BENCH_FULL=1`` is a shorthand for it). About 8.5 GB of memory at the
  peak and 2.5 minutes on 2 cores, as measured with the row-major layout alone; both
  layouts take about twice the time, not twice the memory (never alive together).

Layouts (``--bench-layouts``, or ``REPARTITION_BENCH_LAYOUTS``, comma-separated; default
``rows,members``): every size is benchmarked on frames stored row-major (``rows``: built
with ``copy=False`` from a C-ordered array) and member-major (``members``: pandas' usual
layout), see :mod:`benchmarks.data`. The floor, ``allocate``, ``allocate_arrays`` and the
pandas baseline all run on the data of the same layout.

The data of a (size, layout) is built once (a session fixture parametrised by both;
pytest runs the tests grouped by it and frees one community before building the next,
so two layouts of a size are never alive together). Every kernel of both layouts is
compiled on a tiny case before any timing. After the run, a table of ratios against the
two baselines measured in the same run (``benchmarks/baselines.py``) is printed below
pytest-benchmark's own tables.
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


def _layouts(value: str) -> tuple[data.Layout, ...]:
    """``"rows,members"`` -> ``("rows", "members")``, checked."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in data.LAYOUTS]
    if unknown or not names:
        raise pytest.UsageError(
            f"--bench-layouts: {value!r}; expected a comma-separated subset of {data.LAYOUTS}"
        )
    return tuple(layout for layout in data.LAYOUTS if layout in names)


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
        "--bench-layouts",
        default=os.environ.get("REPARTITION_BENCH_LAYOUTS") or ",".join(data.LAYOUTS),
        help="Memory layouts, comma-separated: rows (copy=False from a C-ordered array), "
        "members (pandas' usual layout). Default: rows,members.",
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
        layouts = _layouts(metafunc.config.getoption("--bench-layouts"))
        params = [(size, layout) for size in sizes for layout in layouts]
        metafunc.parametrize(
            "community",
            params,
            indirect=True,
            scope="session",
            ids=[f"{size.label}-{layout}" for size, layout in params],
        )


@pytest.fixture(scope="session", autouse=True)
def _warm_jit(pytestconfig: pytest.Config) -> None:
    """Compile (or load from Numba's cache) every kernel of the benchmarked layouts before
    anything is timed."""
    warm_jit(_layouts(pytestconfig.getoption("--bench-layouts")))


@pytest.fixture(scope="session")
def community(request: pytest.FixtureRequest) -> Iterator[data.Community]:
    """The synthetic community of one size and layout, built once; freed before the next."""
    size, layout = request.param
    built = data.community(size, layout=layout)
    yield built
    del built
    gc.collect()


@pytest.fixture(scope="session")
def dynamic_coefficients(community: data.Community) -> Iterator[pd.DataFrame]:
    """The dynamic key's table for ``community``'s size (2 % of steps without a key),
    stored in ``community``'s layout."""
    table = data.dynamic_coefficients(community)
    yield table
    del table
    gc.collect()


@pytest.fixture(scope="session")
def full_dynamic_coefficients(
    community: data.Community,
) -> Iterator[dict[str, pd.DataFrame]]:
    """The full dynamic key's tables, one per producer, in ``community``'s layout; skipped
    above :data:`~benchmarks.cases.FULL_DYNAMIC_MAX_CONSUMERS` consumers."""
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


@pytest.fixture(scope="session", params=data.LAYOUTS)
def tiny_community(request: pytest.FixtureRequest) -> data.Community:
    """Always the tiny size, in each layout: for the checks that the baselines are right."""
    return data.community(data.TINY, layout=request.param)


@dataclass
class Timings:
    """Best time of each (size, layout, key, implementation) benchmarked in this session. [s]"""

    best: dict[tuple[str, str, str, str], float] = field(default_factory=dict)


_TIMINGS = pytest.StashKey[Timings]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[_TIMINGS] = Timings()


@pytest.fixture
def measure(benchmark: Any, request: pytest.FixtureRequest) -> Callable[..., Any]:
    """``measure(function, community, key, impl)``: time ``function()`` (which runs on
    ``community``, of one size and layout), record its best time.

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

    def run(function: Callable[[], Any], community: data.Community, key: str, impl: str) -> Any:
        size, layout = community.size, community.layout
        benchmark.group = f"{size.label} {layout} {key}"
        benchmark.extra_info.update(size=size.label, layout=layout, key=key, impl=impl)
        warmup, timed = cases.pandas_rounds(key, size, rounds) if impl == "pandas" else (1, rounds)
        result = benchmark.pedantic(function, rounds=timed, warmup_rounds=warmup, iterations=1)
        if benchmark.stats is not None:
            timings.best[(size.label, layout, key, impl)] = benchmark.stats.stats.min
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
        "floor = consumption.copy(order='K') (read + write an array of the consumption's "
        "size, in its layout); times are the best round, in ms"
    )
    write(
        "layout: rows = frames built with copy=False from a C-ordered array; members = "
        "pandas' usual layout; floor and pandas measured on the same layout"
    )
    write(
        f"{'size':>16} {'key':>20} {'layout':>8} {'allocate':>10} {'arrays':>10} "
        f"{'floor':>8} {'x floor':>8} {'pandas':>10} {'vs pandas':>10}"
    )
    sizes = dict.fromkeys(size for size, _, _, _ in timings.best)
    for size in sizes:
        for key in KEYS:
            for layout in data.LAYOUTS:
                floor = timings.best.get((size, layout, "floor", "numpy"))
                allocate = timings.best.get((size, layout, key, "allocate"))
                arrays = timings.best.get((size, layout, key, "arrays"))
                pandas = timings.best.get((size, layout, key, "pandas"))
                if allocate is None:
                    continue
                write(
                    f"{size:>16} {key:>20} {layout:>8} {_ms(allocate):>10} {_ms(arrays):>10} "
                    f"{_ms(floor):>8} {_ratio(allocate, floor):>8} "
                    f"{_ms(pandas):>10} {_ratio(pandas, allocate):>10}"
                )


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:.2f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator == 0:
        return "-"
    return f"{numerator / denominator:.2f}x"
