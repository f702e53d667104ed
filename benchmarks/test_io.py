"""Benchmarks of repartition.io: read a Parquet dataset, read + allocate + write the
results, and the month-by-month streaming path.

Sizes follow ``--bench-size`` (benchmarks/conftest.py): ``tiny`` (default, what CI runs
once with ``--benchmark-disable``: one day of 48 steps x 10 consumers x 5 producers, a
few seconds in all), ``year`` (17,520 steps x 1,000 consumers), ``full`` (17,520 x
10,000). The data is the benchmarks' synthetic community (benchmarks/data.py) in pandas'
usual member-major layout, written once per session as a long and a wide dataset.

Groups: ``<size> io read`` (long and wide: the baseline), ``<size> io pipeline`` (read +
``allocate`` with the prorata key + ``write_results``) and ``<size> io stream``
(``allocate_dataset`` month by month). The outputs of a previous round are deleted before
each round, outside the timed part. ``benchmarks/io_report.py`` prints the ratios to
reading alone, the streaming path's as a ratio to read + allocate + write of the whole
year (measured round robin), the file sizes and the streaming path's peak memory.
"""

from __future__ import annotations

import gc
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks import data
from repartition import allocate, keys
from repartition.io.parquet import read_energy, read_results, write_energy, write_results
from repartition.io.stream import allocate_dataset

SIZES = {
    "tiny": data.TINY,
    "year": data.Size(data.YEAR_STEPS, 1_000),
    "full": data.Size(data.YEAR_STEPS, 10_000),
}
LAYOUTS = ("long", "wide")


@pytest.fixture(scope="session")
def io_size(pytestconfig: pytest.Config) -> data.Size:
    return SIZES[pytestconfig.getoption("--bench-size")]


@pytest.fixture(scope="session")
def datasets(io_size: data.Size, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The synthetic community of ``io_size`` written as ``long/`` and ``wide/`` datasets."""
    folder = tmp_path_factory.mktemp(f"io-{io_size.label}")
    community = data.community(io_size, layout="members")
    for layout in LAYOUTS:
        write_energy(folder / layout, community.consumption, community.production, layout=layout)
    del community
    gc.collect()
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _pedantic(
    benchmark: Any, request: pytest.FixtureRequest, function: Any, output: Path | None = None
) -> Any:
    """Time ``function``; ``output`` (the directory it writes) is deleted before each call,
    outside the timed part."""
    rounds = request.config.getoption("--bench-rounds")

    def setup() -> None:
        if output is not None:
            shutil.rmtree(output, ignore_errors=True)

    return benchmark.pedantic(function, setup=setup, rounds=rounds, warmup_rounds=1, iterations=1)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_read(benchmark, request, datasets, io_size, layout):
    """``read_energy`` of the whole dataset: the baseline of the ratios."""
    benchmark.group = f"{io_size.label} io read"
    consumption, production = _pedantic(benchmark, request, lambda: read_energy(datasets / layout))
    assert consumption.shape == (io_size.steps, io_size.consumers)
    assert production.shape == (io_size.steps, io_size.producers)


def test_read_allocate_write(benchmark, request, datasets, io_size, tmp_path):
    """Read the long dataset, allocate (prorata), write the results dataset."""
    benchmark.group = f"{io_size.label} io pipeline"

    def pipeline() -> Path:
        allocation = allocate(*read_energy(datasets / "long"), keys.Prorata())
        return write_results(tmp_path / "results", allocation)

    written = _pedantic(benchmark, request, pipeline, tmp_path / "results")
    assert read_results(written).allocated.shape == (io_size.steps, io_size.consumers)


def test_stream(benchmark, request, datasets, io_size, tmp_path):
    """``allocate_dataset``: one local month at a time, long source, prorata key."""
    benchmark.group = f"{io_size.label} io stream"

    def run() -> Any:
        return allocate_dataset(
            datasets / "long", tmp_path / "streamed", keys.Prorata(), progress=False
        )

    summary = _pedantic(benchmark, request, run, tmp_path / "streamed")
    assert summary.total().consumption_kwh > 0


def test_io_report_states_the_streaming_ratio(io_size, tmp_path):
    """``benchmarks/io_report.py``'s times (tiny in CI): the streaming row is given as a
    ratio to read + allocate + write of the whole year, both measured in the same rounds."""
    from benchmarks import io_report

    times, sizes = io_report.measure_times(tmp_path, io_size, 1, lambda message: None)
    measured = dict(times)
    assert measured[io_report.PIPELINE] > 0
    assert measured[io_report.STREAM] > 0
    extras = {"dataset": 1, "month_mib": 1.0, "key_mib": 1.0}
    report = io_report.render(io_size, times, sizes, [], 1.0, extras, 10, ("", ""), 1, 1.0)
    ratio = measured[io_report.STREAM] / measured[io_report.PIPELINE]
    assert "| path | time (s) | x read + allocate + write |" in report
    assert f"| {io_report.STREAM} | {measured[io_report.STREAM]:.3f} | {ratio:.2f}x |" in report
