"""Measure the Parquet path (read, allocate, write), file sizes and the streaming path's
peak memory, and print a markdown report.

Usage (from the repository root)::

    python benchmarks/io_report.py                         # the full sizes (docs/io.md)
    python benchmarks/io_report.py --consumers 100 --memory-consumers 1000 --repeat 1
    python benchmarks/io_report.py --output docs/io-run.md

Four tables:

1. **Times**, a year at 30 min x ``--consumers`` consumers x 5 producers (the benchmarks'
   synthetic community, pandas' usual member-major layout), each the best of
   ``--repeat`` runs after one untimed warm-up, as ratios to ``read_energy`` of the long
   dataset (the baseline, measured in the same run): reading (long, wide), ``allocate``
   (prorata) on the frames read, ``write_results``, the three in a row, the
   month-by-month ``allocate_dataset``, and ``write_energy`` for reference.
2. **Streaming against the whole year at once**: ``allocate_dataset`` month by month as a
   ratio to read + ``allocate`` + ``write_results`` of the whole year (the baseline). The
   two run round robin, one call of each per round after one warm-up call of each, best
   of ``--repeat`` rounds, so that a slow spell of the machine hits both alike.
   (They are the two rows of table 1 that come from these rounds.)
3. **File sizes** of the same year: the long and wide Parquet datasets, the results
   dataset, and the Enedis-like CSV (docs/formats.md, "Enedis load curves": ``;``-separated,
   one line per PRM and step, power in W as an integer, local end-of-step times), **estimated**:
   January is written in full (every member, 14-digit PRMs) and its size scaled by
   17,520 / January's steps; gzip of that month scaled the same way. The CSV holds
   rounded watts, the Parquet files the exact float64 energies.
4. **Peak memory** of ``allocate_dataset`` on a long dataset of ``--memory-consumers``
   consumers for 1, 3 and 12 months (the 1- and 3-month datasets are hard links to the
   12-month one's first months), with the prorata key and with a year-long ``Dynamic``
   key (its table, built in the process, counts in the peak): the peak RSS of a fresh
   Python process running it, minus that of a process that only imports ``repartition``. The
   peak is the process's VmHWM (``/proc/self/status``, Linux), with ``ru_maxrss`` beside
   it: on Linux ``ru_maxrss`` also counts the parent's RSS at the fork, which survives
   the exec, so these runs come first, from a small parent, with the data built by a
   child. For contrast, ``read_energy`` of the 12 months at once in a fresh process.
   Every kernel is compiled (or loaded from Numba's cache) by a warm-up process first.

Outputs of a previous call are deleted before each timed call, outside the timed part.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from benchmarks import data
from benchmarks.report import _load, machine
from repartition import allocate, keys
from repartition.io.parquet import read_energy, write_energy, write_results
from repartition.io.parquet._write import directory_size
from repartition.io.stream import allocate_dataset

ROOT = Path(__file__).resolve().parent.parent


def best_of(function: Callable[[], Any], repeat: int, output: Path | None = None) -> float:
    """Best wall time of ``repeat`` calls after one untimed call. [s]

    ``output``: the directory ``function`` writes, deleted before every call, outside the
    timed part (so that no call pays for deleting the previous one's output)."""

    def clear() -> None:
        if output is not None:
            shutil.rmtree(output, ignore_errors=True)

    clear()
    result = function()
    del result
    best = math.inf
    for _ in range(repeat):
        clear()
        gc.collect()
        start = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - start)
        del result
    return best


def round_robin(
    functions: dict[str, Callable[[], Any]], repeat: int, outputs: dict[str, Path]
) -> dict[str, float]:
    """Best wall time of each function over ``repeat`` rounds, one call of each per round
    (in turn), after one untimed call of each. [s]

    ``outputs``: the directory each function writes, deleted before each of its calls,
    outside the timed part."""
    best = dict.fromkeys(functions, math.inf)
    for number in range(repeat + 1):
        for name, function in functions.items():
            if name in outputs:
                shutil.rmtree(outputs[name], ignore_errors=True)
            gc.collect()
            start = time.perf_counter()
            result = function()
            elapsed = time.perf_counter() - start
            del result
            if number:  # the first round warms up
                best[name] = min(best[name], elapsed)
    for output in outputs.values():
        shutil.rmtree(output, ignore_errors=True)
    return best


# --- times and sizes ------------------------------------------------------------------

PIPELINE = "read + allocate + write_results"
STREAM = "allocate_dataset (month by month, long source)"


def measure_times(
    folder: Path, size: data.Size, repeat: int, log: Callable[[str], None]
) -> tuple[list[tuple[str, float]], dict[str, int]]:
    log(f"building {size.label} ...")
    writes, sizes = _writes_and_sizes(folder, data.community(size, layout="members"), repeat, log)
    gc.collect()
    log("read_energy, allocate, write_results ...")
    times = _read_allocate_write(folder, repeat)
    sizes["Parquet, results (long, 5 quantities)"] = directory_size(folder / "results")
    shutil.rmtree(folder / "results", ignore_errors=True)
    gc.collect()
    log("read + allocate + write_results and allocate_dataset, round robin ...")

    def pipeline() -> Path:
        allocation = allocate(*read_energy(folder / "energy-long"), keys.Prorata())
        return write_results(folder / "results", allocation)

    def stream() -> Any:
        return allocate_dataset(
            folder / "energy-long", folder / "streamed", keys.Prorata(), progress=False
        )

    best = round_robin(
        {PIPELINE: pipeline, STREAM: stream},
        repeat,
        {PIPELINE: folder / "results", STREAM: folder / "streamed"},
    )
    times += [(PIPELINE, best[PIPELINE]), (STREAM, best[STREAM])]
    return times + writes, sizes


def _writes_and_sizes(
    folder: Path, community: data.Community, repeat: int, log: Callable[[str], None]
) -> tuple[list[tuple[str, float]], dict[str, int]]:
    """Write the long and wide datasets (timed), and the sizes of every format."""
    size = community.size
    times = []
    for layout in ("long", "wide"):
        log(f"write_energy {layout} ...")
        target = folder / f"energy-{layout}"

        def write(target: Path = target, layout: str = layout) -> Path:
            return write_energy(target, community.consumption, community.production, layout=layout)

        times.append((f"write_energy ({layout})", best_of(write, repeat, target)))
    sizes = {
        "in memory (float64 consumption + production)": (
            size.steps * (size.consumers + size.producers) * 8
        ),
        "Parquet, long": directory_size(folder / "energy-long"),
        "Parquet, wide": directory_size(folder / "energy-wide"),
    }
    # The CSV holds whole watts: the same rounding, stored as Parquet, for a fair size.
    hours = pd.Timedelta(data.STEP) / pd.Timedelta(hours=1)
    rounded = [
        np.rint(table / hours * 1000.0) * hours / 1000.0
        for table in (community.consumption, community.production)
    ]
    write_energy(folder / "energy-rounded", *rounded)
    sizes["Parquet, long, energies rounded to whole W as in the CSV"] = directory_size(
        folder / "energy-rounded"
    )
    shutil.rmtree(folder / "energy-rounded")
    sizes.update(_csv_estimate(community, folder))
    return times, sizes


def _read_allocate_write(folder: Path, repeat: int) -> list[tuple[str, float]]:
    read_long = best_of(lambda: read_energy(folder / "energy-long"), repeat)
    read_wide = best_of(lambda: read_energy(folder / "energy-wide"), repeat)
    consumption, production = read_energy(folder / "energy-long")
    allocation_time = best_of(lambda: allocate(consumption, production, keys.Prorata()), repeat)
    allocation = allocate(consumption, production, keys.Prorata())
    write_time = best_of(
        lambda: write_results(folder / "results", allocation), repeat, folder / "results"
    )
    return [
        ("read_energy (long): baseline", read_long),
        ("read_energy (wide)", read_wide),
        ("allocate (prorata) on the frames read", allocation_time),
        ("write_results", write_time),
    ]


def _csv_estimate(community: data.Community, folder: Path) -> dict[str, int]:
    """Enedis-like CSV of January written in full, scaled to the year (and its gzip)."""
    index = community.index
    local = index.tz_convert(data.TIME_ZONE)
    january = np.flatnonzero((local.month == 1) & (local.year == local[0].year))
    if not len(january):
        return {}
    rows = slice(int(january[0]), int(january[-1]) + 1)
    step = pd.Timedelta(data.STEP)
    ends = (local[rows] + step).strftime("%Y-%m-%dT%H:%M:%S%z")
    ends = [f"{text[:-2]}:{text[-2:]}" for text in ends]
    start = f"{local[rows][0].strftime('%Y-%m-%dT%H:%M:%S%z')}"
    start = f"{start[:-2]}:{start[-2:]}"
    stop = (local[rows][-1] + step).strftime("%Y-%m-%dT%H:%M:%S%z")
    stop = f"{stop[:-2]}:{stop[-2:]}"
    header = (
        "Identifiant PRM;Date de début;Date de fin;Grandeur physique;Grandeur métier;"
        "Etape métier;Unité;Horodate;Valeur;Nature;Pas;Indice de vraisemblance;"
        "Etat complémentaire\n"
    )
    path = folder / "january.csv"
    hours = step / pd.Timedelta(hours=1)
    with path.open("w", encoding="utf-8") as handle:
        handle.write(header)
        tables = ((community.consumption_array, "CONS"), (community.production_array, "PROD"))
        number = 0
        for values, quantity in tables:
            for column in range(values.shape[1]):
                number += 1
                prm = f"{30000000000000 + number:014d}"
                watts = np.rint(values[rows, column] / hours * 1000.0).astype(np.int64)
                prefix = f"{prm};{start};{stop};PA;{quantity};BRUT;W;"
                handle.writelines(
                    f"{prefix}{end};{watt};B;PT30M;;\n"
                    for end, watt in zip(ends, watts.tolist(), strict=True)
                )
    scale = len(index) / (rows.stop - rows.start)
    raw = path.stat().st_size
    compressed = len(gzip.compress(path.read_bytes(), compresslevel=6))
    path.unlink()
    return {
        "Enedis-like CSV (estimated from January)": int(raw * scale),
        "Enedis-like CSV, gzip (estimated from January)": int(compressed * scale),
    }


# --- peak memory ----------------------------------------------------------------------

_PEAK = """
import resource, time
def peak():
    \"\"\"(VmHWM, ru_maxrss) in KiB: this process's own peak RSS, and getrusage's.\"\"\"
    hwm = None
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return hwm if hwm is not None else maxrss, maxrss
"""
_BASELINE = _PEAK + "import repartition\nprint(*peak(), 0.0)"
_STREAM = (
    _PEAK
    + """
import sys
from repartition import keys
from repartition.io.stream import allocate_dataset
start = time.perf_counter()
allocate_dataset(sys.argv[1], sys.argv[2], keys.Prorata(), progress=False)
print(*peak(), time.perf_counter() - start)
"""
)
_STREAM_DYNAMIC = (
    _PEAK
    + """
import json, sys
import numpy as np, pandas as pd
from benchmarks import data
from repartition import keys
from repartition.io.stream import allocate_dataset
# A year-long Dynamic key (what a PMO sends for a year): one share per consumer and step,
# built in place (no second copy), rows summing to at most 0.9.
consumers = json.loads(open(sys.argv[1] + "/_repartition.json").read())["consumers"]
shares = np.random.default_rng(3).random((data.YEAR_STEPS, len(consumers)))
shares *= 0.9 / len(consumers)
table = pd.DataFrame(shares, index=data.time_index(data.YEAR_STEPS), columns=consumers, copy=False)
start = time.perf_counter()
allocate_dataset(sys.argv[1], sys.argv[2], keys.Dynamic(table), progress=False)
print(*peak(), time.perf_counter() - start)
"""
)
_READ = (
    _PEAK
    + """
import sys
from repartition.io.parquet import read_energy
start = time.perf_counter()
consumption, production = read_energy(sys.argv[1])
print(*peak(), time.perf_counter() - start)
"""
)
_BUILD = """
import sys
from benchmarks import data
from repartition.io.parquet import write_energy
community = data.community(data.Size(data.YEAR_STEPS, int(sys.argv[2])), layout="members")
write_energy(sys.argv[1], community.consumption, community.production)
"""


def _fresh(code: str, *args: str) -> list[float]:
    """Run ``code`` in a fresh interpreter; the numbers it prints."""
    path = os.pathsep.join([str(ROOT / "src"), str(ROOT)])
    environment = {**os.environ, "PYTHONPATH": path}
    output = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        check=True,
        env=environment,
    ).stdout
    return [float(value) for value in output.split()]


def _subset(source: Path, target: Path, months: list[str]) -> None:
    """A dataset of some months of ``source``: hard links, and its own description."""
    target.mkdir(parents=True)
    shutil.copy(source / "_repartition.json", target / "_repartition.json")
    for month in months:
        (target / f"month={month}").mkdir()
        os.link(
            source / f"month={month}" / "part-0.parquet",
            target / f"month={month}" / "part-0.parquet",
        )


def measure_memory(
    folder: Path, consumers: int, month_counts: Sequence[int], log: Callable[[str], None]
) -> tuple[list[tuple[str, int, float, float, float]], float, dict[str, Any]]:
    """Peak memory of fresh processes. Run first, and with the data built by a child, so
    that this process stays small: on Linux a child's ru_maxrss starts from its parent's
    RSS at the fork (it survives the exec); VmHWM, the child's own peak, does not."""
    full = folder / "memory-12"
    log(f"building {data.YEAR_STEPS}x{consumers}x{data.PRODUCERS} for the memory runs ...")
    _fresh(_BUILD, str(full), str(consumers))
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    baseline = _fresh(_BASELINE)[0] / 1024
    log("warm-up process (kernels compiled or loaded from Numba's cache) ...")
    _subset(full, folder / "warm", months[:1])
    for code in (_STREAM, _STREAM_DYNAMIC):
        _fresh(code, str(folder / "warm"), str(folder / "warm-out"))
        shutil.rmtree(folder / "warm-out", ignore_errors=True)
    rows = []
    for count in month_counts:
        source = full if count == 12 else folder / f"memory-{count}"
        if count != 12:
            _subset(full, source, months[:count])
    for name, code in (("prorata", _STREAM), ("Dynamic, year-long table", _STREAM_DYNAMIC)):
        for count in month_counts:
            source = full if count == 12 else folder / f"memory-{count}"
            log(f"allocate_dataset ({name}) over {count} month(s) in a fresh process ...")
            hwm, maxrss, seconds = _fresh(code, str(source), str(folder / "memory-out"))
            shutil.rmtree(folder / "memory-out", ignore_errors=True)
            label = f"allocate_dataset ({name}), {count} month(s)"
            rows.append((label, count, hwm / 1024, maxrss / 1024, seconds))
    log("read_energy of the 12 months at once, in a fresh process ...")
    hwm, maxrss, seconds = _fresh(_READ, str(full))
    rows.append(
        ("read_energy of the 12 months at once (contrast)", 12, hwm / 1024, maxrss / 1024, seconds)
    )
    month_bytes = 31 * 48 * (consumers + data.PRODUCERS) * 8
    extras = {
        "dataset": directory_size(full),
        "month_mib": month_bytes / 2**20,
        "key_mib": data.YEAR_STEPS * consumers * 8 / 2**20,
    }
    for path in folder.iterdir():
        if path.name.startswith(("memory-", "warm")):
            shutil.rmtree(path, ignore_errors=True)
    return rows, baseline, extras


# --- report ---------------------------------------------------------------------------


def render(
    size: data.Size,
    times: list[tuple[str, float]],
    sizes: dict[str, int],
    memory: list[tuple[str, int, float, float, float]],
    baseline: float,
    memory_extras: dict[str, Any],
    memory_consumers: int,
    loads: tuple[str, str],
    repeat: int,
    elapsed: float,
) -> str:
    lines = ["# repartition.io: Parquet read, allocate, write; sizes; streaming memory", ""]
    lines += ["| machine | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in machine()]
    lines += [
        f"| load average (1, 5, 15 min) before / after | {loads[0]} / {loads[1]} |",
        f"| run time | {elapsed:.0f} s |",
        "",
        "Other processes shared the 2 cores during the run: times are noisy, ratios less so "
        "(each is measured in the same run as its baseline).",
        "",
        f"## Times: a year at 30 min, {size.consumers:,} consumers x {size.producers} "
        f"producers (best of {repeat})",
        "",
        "| step | time (s) | x read |",
        "| --- | ---: | ---: |",
    ]
    base = times[0][1]
    lines += [f"| {name} | {value:.3f} | {value / base:.2f}x |" for name, value in times]
    measured = dict(times)
    lines += [
        "",
        "## Streaming against the whole year at once",
        "",
        f"`allocate_dataset` month by month against read + allocate + write_results of the "
        f"whole year, measured round robin in this run (one call of each per round, best of "
        f"{repeat} rounds after a warm-up round):",
        "",
        "| path | time (s) | x read + allocate + write |",
        "| --- | ---: | ---: |",
        f"| {PIPELINE} (whole year): baseline | {measured[PIPELINE]:.3f} | 1.00x |",
        f"| {STREAM} | {measured[STREAM]:.3f} | {measured[STREAM] / measured[PIPELINE]:.2f}x |",
    ]
    lines += ["", "## File sizes of that year", "", "| format | size (MB) | x Parquet long |"]
    lines += ["| --- | ---: | ---: |"]
    reference = sizes["Parquet, long"]
    lines += [
        f"| {name} | {value / 1e6:,.1f} | {value / reference:.2f}x |"
        for name, value in sizes.items()
    ]
    lines += [
        "",
        f"## Peak memory of the streaming path: {memory_consumers:,} consumers x "
        f"{data.PRODUCERS} producers, long dataset of "
        f"{memory_extras['dataset'] / 1e6:,.0f} MB for 12 months",
        "",
        f"Baseline (peak of a process that only imports repartition): {baseline:,.0f} MiB. "
        f"One 31-day month of float64 energies is {memory_extras['month_mib']:,.0f} MiB. "
        f"The year-long Dynamic key's table (17,520 steps x {memory_consumers:,} consumers, "
        f"float64) is {memory_extras['key_mib']:,.0f} MiB, held by the process for the whole "
        "run: its peak is that plus what a month needs.",
        "",
        "Peak RSS is the fresh process's VmHWM (/proc/self/status); ru_maxrss is shown too: "
        "on Linux it also counts the parent's RSS at the fork (this report's own process), "
        "which VmHWM does not.",
        "",
        "| run | months | peak RSS (MiB) | minus baseline (MiB) | ru_maxrss (MiB) | time (s) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    lines += [
        f"| {name} | {months} | {peak:,.0f} | {peak - baseline:,.0f} | {maxrss:,.0f} "
        f"| {seconds:.1f} |"
        for name, months, peak, maxrss, seconds in memory
    ]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=1_000, help="consumers of the timed year")
    parser.add_argument(
        "--memory-consumers", type=int, default=10_000, help="consumers of the memory runs"
    )
    parser.add_argument("--months", type=int, nargs="+", default=[1, 3, 12], choices=range(1, 13))
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept")
    parser.add_argument("--workdir", type=Path, help="where to write the datasets (default: tmp)")
    parser.add_argument("--output", type=Path, help="also write the markdown to this file")
    parser.add_argument("--json", type=Path, help="also write the raw numbers as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = _load()
    folder = Path(tempfile.mkdtemp(prefix="repartition-io-", dir=args.workdir))
    try:
        memory, baseline, extras = measure_memory(folder, args.memory_consumers, args.months, log)
        size = data.Size(data.YEAR_STEPS, args.consumers)
        times, sizes = measure_times(folder, size, args.repeat, log)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    report = render(
        size,
        times,
        sizes,
        memory,
        baseline,
        extras,
        args.memory_consumers,
        (load_before, _load()),
        args.repeat,
        time.perf_counter() - started,
    )
    print(report)
    if args.output:
        args.output.write_text(report, encoding="utf-8")
    if args.json:
        numbers = {
            "times": times,
            "stream_ratio": dict(times)[STREAM] / dict(times)[PIPELINE],
            "sizes": sizes,
            "memory": memory,
            "baseline_mib": baseline,
        }
        args.json.write_text(json.dumps(numbers, indent=1), encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
