"""repartition.distributed.sweep's throughput against a plain Python loop, in the same run.

Usage (from the repository root)::

    python benchmarks/sweeps.py                      # 40 operations
    python benchmarks/sweeps.py --operations 200 --output run.md

Synthetic operations (the textbook model, no extra) of 20 to 200 members (log-uniform),
one to five plants, a year at 30 min; 5 strategies (Prorata, Static by annual consumption,
Static redistributed, Equal share, Weighted share by consumption: the DSO's keys and the
water-filling ones) plus the metrics of ``compare`` with flat tariffs. The **baseline** is
the same work in a plain loop in this process (read each operation's dataset, ``compare``,
the per-member monthly results); the sweep runs on a local Dask cluster of 1 and 2 worker
processes of one thread each (already started, warmed up on one operation), writing its
parts. Throughput in operation-years per minute.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from repartition import keys
from repartition.distributed import local_client, sweep
from repartition.distributed._task import run_operation
from repartition.io import list_operations, write_operations
from repartition.metrics import Tariffs
from repartition.synthetic import synthetic_community


def population(count: int, root: Path) -> Path:
    rng = np.random.default_rng(0)
    made = {}
    for number in range(count):
        members = int(np.exp(rng.uniform(np.log(20), np.log(200))))
        plants = int(rng.integers(1, 6))
        made[f"OPE{number:04d}"] = synthetic_community(
            consumers=members, producers=plants, seed=number
        )
    return write_operations(root, made)


def annual_shares(consumption, production):
    """A static key on the operation's annual consumption (the DSO's static rule)."""
    return keys.Static(consumption.sum() / consumption.sum().sum())


def redistributed(consumption, production):
    """The same coefficients, what saturated consumers cannot use shared among the others."""
    return keys.Static(consumption.sum() / consumption.sum().sum(), redistribute=True)


def by_consumption(consumption, production):
    """Water-filling weighted by annual consumption."""
    return keys.WeightedShare(consumption.sum())


STRATEGIES = {
    "Prorata": keys.Prorata(),
    "Static": annual_shares,
    "Static redistributed": redistributed,
    "Equal share": keys.EqualShare(),
    "Weighted share": by_consumption,
}
"""The DSO's keys and the water-filling strategies."""


def warm(dataset: Path, chosen: dict, tariffs: Tariffs) -> None:
    """Run every strategy once in this process, out of the timing."""
    run_operation(dataset, "OPE0000", chosen, tariffs, tempfile.mkdtemp(), "Europe/Paris", 1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=40)
    parser.add_argument("--output", type=Path)
    arguments = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp())
    dataset = population(arguments.operations, work / "operations")
    tariffs = Tariffs(retail=0.25, local=0.12, surplus=0.04)
    chosen = STRATEGIES
    count = len(list_operations(dataset))
    rows = []
    # The baseline: a plain loop in this process (warm: one operation first).
    run_operation(dataset, "OPE0000", chosen, tariffs, work / "warm", "Europe/Paris")
    start = time.perf_counter()
    for operation in list_operations(dataset):
        run_operation(dataset, operation, chosen, tariffs, work / "loop", "Europe/Paris")
    loop = time.perf_counter() - start
    rows.append(("plain loop, one process", loop, 1.0))
    for workers in (1, 2):
        client = local_client(workers)
        try:
            client.run(lambda: None)
            # Warm: every strategy once in every worker (each process loads the kernels).
            client.run(warm, dataset, chosen, tariffs)
            start = time.perf_counter()
            result = sweep(dataset, chosen, out=work / f"sweep{workers}", tariffs=tariffs,
                           client=client, progress=False)  # fmt: skip
            seconds = time.perf_counter() - start
        finally:
            cluster = client.cluster
            client.close()
            cluster.close()
        assert (result.status["status"] == "done").all()
        rows.append(
            (f"sweep, {workers} worker{'s' if workers > 1 else ''}", seconds, loop / seconds)
        )
    lines = [
        f"{count} operations of 20-200 members x a year at 30 min, {len(chosen)} strategies "
        "+ metrics, 2 cores:",
        "",
        "| run | time | operation-years per minute | speed-up against the loop |",
        "| :--- | ---: | ---: | ---: |",
    ]
    for label, seconds, ratio in rows:
        lines.append(f"| {label} | {seconds:.1f} s | {60 * count / seconds:,.0f} | {ratio:.2f}x |")
    text = "\n".join(lines)
    print(text)
    if arguments.output is not None:
        arguments.output.write_text(text + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
