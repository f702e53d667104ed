"""Measure every key against the two baselines in one run and print a markdown report.

Usage (from the repository root)::

    python benchmarks/report.py                              # 10, 1,000, 10,000 consumers
    python benchmarks/report.py --consumers 10 1000 --repeat 5
    python benchmarks/report.py --layouts members            # pandas' usual layout only
    python benchmarks/report.py --output docs/perf-run.md    # also write the markdown
    python benchmarks/report.py --no-cold                    # without the first calls

The last section, *A first call*, runs every key's first call in a fresh process with an empty
Numba cache (cold), then in a second process on that cache (warm, the baseline):
:mod:`benchmarks.cold`.

Every size is measured in each memory layout of ``--layouts`` (default: both), one after
the other, the data of one layout freed before the other is built (``benchmarks.data``):

- ``rows``: frames built with ``pd.DataFrame(c_ordered_array, copy=False)``, row-major
  (``repartition``'s row-major kernels);
- ``members``: frames stored member by member, pandas' usual layout (default ``copy`` in
  pandas 3, built column by column, read from files): the member-major kernels.

The floor, the pandas baseline and every ``repartition`` path of a row run on the data of
that row's layout, in the same run.

Every time is the best of ``--repeat`` runs (``time.perf_counter``) after one untimed
warm-up run, each run after writing and freeing twice the consumption's size of memory (the
results' size: ``recycle``; ``--fresh-memory`` skips it), and every kernel (of both
layouts) is compiled on a tiny case before anything is timed. The pandas baselines are
timed the same way, except the exact redistribution loop at 10,000 consumers (about a minute
a call), timed once: see ``cases.pandas_rounds``.

Columns of the main table, all in milliseconds except ratios:

- ``layout``: ``rows`` or ``members``, as above;
- ``allocate``: :func:`repartition.allocate` on DataFrames (checks, matching, kernel);
- ``arrays``: :func:`repartition.allocate_arrays` on the NumPy arrays (the frames' own
  memory, so the same layout);
- ``share``: the key's computation alone (``SharingKey._share`` on arrays: the Numba
  kernel, its outputs, and the key's own coefficient checks), no input boundary;
- ``floor``: ``consumption.copy(order="K")``, read and write an array of the
  consumption's size, in its layout;
- ``x floor``: ``allocate / floor``; ``pandas``: the pandas baseline of the same rule, on
  the frames of the same layout, with the same four outputs (COMPLEMENT included);
- ``vs pandas``: ``pandas / allocate``, the speed-up;
- ``peak``: the most memory ``allocate`` held beyond what it was given, as a multiple of
  the consumption (its results are 2x: AUTOCONS and COMPLEMENT), measured on one more,
  untimed, call (Linux: the process's peak resident memory, ``VmHWM``, reset before it).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import gc
import math
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numba
import numpy as np
import pandas as pd

import repartition
from benchmarks import baselines, cases, data
from benchmarks import cold as first_call
from repartition.kernels import checks

ROOT = Path(__file__).resolve().parent.parent

TARGETS = {
    # key: (max allocate / floor, min pandas / allocate), at 10,000 consumers (docs/performance.md),
    # in each layout: an analyst's frame is member-major unless built with copy=False
    "prorata": (2.0, 5.0),
    "static": (2.0, 10.0),
    "dynamic": (3.0, None),
    "full-dynamic": (3.0, None),
}


FLOOR = 'floor: consumption.copy(order="K"), same layout'
"""The floor's line in the *where the time goes* tables."""


RECYCLE = {"bytes": 0}
"""Bytes of memory written and freed before each timed call (``--fresh-memory``: none)."""


def recycle() -> None:
    """Write ``RECYCLE["bytes"]`` of new memory and free it, so that the call timed next finds
    memory in the same state whatever ran before it. On a virtual machine that hands freed
    pages back to its host (docs/performance.md, *Fresh memory on this machine*), a page
    touched again after the host took it costs about 15 times more: without this, a call's
    time depends mostly on how long ago memory was last freed."""
    if RECYCLE["bytes"] > 0:
        ballast = np.ones(RECYCLE["bytes"] // 8)
        del ballast


def best_of(function: Callable[[], Any], repeat: int, warmup: int = 1) -> float:
    """Best wall time of ``repeat`` calls after ``warmup`` untimed ones, memory recycled
    before each (:func:`recycle`). [s]"""
    for _ in range(warmup):
        result = function()
        del result
    best = math.inf
    for _ in range(repeat):
        recycle()
        start = time.perf_counter()
        result = function()
        elapsed = time.perf_counter() - start
        del result  # at most one result alive: 1.4 GB at 10,000 consumers
        best = min(best, elapsed)
    return best


# --- the machine ----------------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 2**20:.1f} GiB"
    except OSError:
        pass
    return "?"


def _transparent_huge_pages() -> str:
    try:
        return Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text().strip()
    except OSError:
        return "?"


def _load() -> str:
    try:
        return " ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "?"


def machine() -> list[tuple[str, str]]:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return [
        ("CPU", _cpu_model()),
        ("cores", f"{os.cpu_count()} logical, {affinity} usable"),
        ("memory", _memory_gib()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("transparent huge pages", _transparent_huge_pages()),
        ("Python", platform.python_version()),
        ("numpy / pandas / numba", f"{np.__version__} / {pd.__version__} / {numba.__version__}"),
        ("kernel threads", f"{repartition.get_threads()} (Python threads)"),
        ("repartition", repartition.__version__),
    ]


# --- measurements ---------------------------------------------------------------------------


@dataclass
class Row:
    size: data.Size
    layout: data.Layout
    key: str
    allocate: float
    arrays: float
    share: float
    floor: float
    pandas: float | None
    note: str = ""
    peak: float | None = None


@dataclass
class SizeExtras:
    """Per size and layout: the floor, the boundary and where allocate's time goes. [s]"""

    size: data.Size
    layout: data.Layout
    times: dict[str, float] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)


def measure_size(
    size: data.Size,
    layout: data.Layout,
    key_names: Sequence[str],
    options: argparse.Namespace,
    log: Callable[[str], None],
) -> tuple[list[Row], SizeExtras]:
    """Every measurement of one size in one layout; the data are freed on return."""
    RECYCLE["bytes"] = 0 if options.fresh_memory else 2 * size.consumption_bytes
    start = time.perf_counter()
    community = data.community(size, layout=layout)
    label = community.label
    extras = SizeExtras(size, layout)
    extras.times["build the synthetic data"] = time.perf_counter() - start
    log(f"{label}: data built in {extras.times['build the synthetic data']:.1f} s")
    floor = _floors(community, extras, options.repeat)
    _boundary(community, extras, options.repeat)
    log(f"{label}: floor {floor * 1e3:.1f} ms")
    rows: list[Row] = []
    for name in key_names:
        if name == "full-dynamic" and size.consumers > options.full_dynamic_max:
            log(f"{label}: {name} skipped (above {options.full_dynamic_max} consumers)")
            continue
        inputs = cases.inputs_for(name, community)
        row = _measure_key(name, inputs, floor, options)
        if name == "static" and not options.no_pandas:
            extras.times["pandas Static written with clip(upper=...), not np.minimum"] = (
                _time_pandas(_static_clip(community), "static-clip", size, options.repeat)
            )
        if name == "dynamic":
            _dynamic_checks(inputs, extras, options.repeat)
        rows.append(row)
        log(f"{label}: {name}: allocate {_ms(row.allocate)} ms, pandas {_ms(row.pandas)} ms")
        del inputs
        gc.collect()
    return rows, extras


def _time_pandas(function: Callable[[], Any], name: str, size: data.Size, repeat: int) -> float:
    """Fewer rounds for pandas at 10,000 consumers: see :func:`cases.pandas_rounds`."""
    warmup, timed = cases.pandas_rounds(name, size, repeat)
    if name == "static-clip" and size.consumption_bytes >= cases.LARGE_BYTES:
        warmup, timed = 1, 1  # ten seconds a call, and only reported beside the baseline
    return best_of(function, timed, warmup)


def _static_clip(community: data.Community) -> Callable[[], Any]:
    consumption, production = community.consumption, community.production
    static = community.static_series
    return lambda: baselines.static_clip(consumption, production, static)


def peak_memory(function: Callable[[], Any]) -> float | None:
    """Bytes of memory ``function()`` held at its peak beyond what the process held before
    the call (its result included), from the peak resident set size of Linux (``VmHWM``,
    reset before the call); None where /proc does not offer it. Memory the C allocator keeps
    for reuse is handed back first (glibc's ``malloc_trim``): a result written into a block
    the process already held would otherwise count for nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    try:
        Path("/proc/self/clear_refs").write_text("5")
        before = _status_bytes("VmRSS")
    except OSError:
        return None
    result = function()
    peak = _status_bytes("VmHWM") - before
    del result
    return float(peak)


def _status_bytes(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise OSError(f"no {field} in /proc/self/status")


def _measure_key(name: str, inputs: cases.Inputs, floor: float, options: argparse.Namespace) -> Row:
    size = inputs.community.size
    repeat = options.repeat
    timed_allocate = best_of(cases.run_allocate(name, inputs), repeat)
    timed_arrays = best_of(cases.run_allocate_arrays(name, inputs), repeat)
    timed_share = best_of(cases.run_share(name, inputs), repeat)
    gc.collect()
    peak = peak_memory(cases.run_allocate(name, inputs))
    notes = []
    timed_pandas: float | None = None
    if not options.no_pandas and cases.pandas_skipped(name, size):
        notes.append(
            f"pandas: not run above {cases.PANDAS_FULL_DYNAMIC_MAX_CONSUMERS:,} consumers "
            "(its temporaries: 4.5x the consumption)"
        )
    elif not options.no_pandas:
        rounds_run: list[int] = []
        function = cases.run_pandas(name, inputs, options.pandas_max_rounds, rounds_run)
        timed_pandas = _time_pandas(function, name, size, repeat)
        if rounds_run:
            capped = rounds_run[-1] >= options.pandas_max_rounds
            notes.append(f"pandas: {rounds_run[-1]} rounds{' (capped)' if capped else ''}")
        warmup, timed = cases.pandas_rounds(name, size, repeat)
        if (warmup, timed) != (1, repeat):
            notes.append(f"pandas: best of {timed}, {warmup} warm-up")
    return Row(
        size,
        inputs.community.layout,
        name,
        timed_allocate,
        timed_arrays,
        timed_share,
        floor,
        timed_pandas,
        "; ".join(notes),
        None if peak is None else peak / size.consumption_bytes,
    )


def _floors(community: data.Community, extras: SizeExtras, repeat: int) -> float:
    """The floor (a copy in the same layout), the same into an array allocated beforehand
    (``empty_like`` keeps the layout), and one read."""
    C = community.consumption_array
    assert data.is_layout(C, community.layout)
    floor = best_of(lambda: baselines.copy(C), repeat)
    out = np.empty_like(C)
    out.fill(0.0)
    extras.times[FLOOR] = floor
    extras.times["np.copyto into an array allocated beforehand"] = best_of(
        lambda: baselines.copy_into(out, C), repeat
    )
    extras.times["C.sum() (NumPy, one read)"] = best_of(lambda: C.sum(), repeat)
    return floor


def _memory_order(values: np.ndarray) -> np.ndarray:
    """``values`` as the C-contiguous array the scans of ``checks`` read: itself when
    row-major, its transpose (a view) when member-major."""
    return values.T if values.flags.f_contiguous and not values.flags.c_contiguous else values


def _order(values: np.ndarray) -> str:
    if values.flags.c_contiguous:
        return "C-contiguous (row-major)"
    return "F-contiguous (member-major)" if values.flags.f_contiguous else "not contiguous"


def _boundary(community: data.Community, extras: SizeExtras, repeat: int) -> None:
    """What the DataFrame boundary costs in this layout: building a frame, moving to the
    other layout, and the scan for bad values. ``allocate`` on the frames of each layout
    is the main table's ``allocate`` column (rows ``rows`` and ``members``)."""
    C = community.consumption_array
    frame = community.consumption
    extras.facts["consumption frame: to_numpy() is"] = f"{_order(frame.to_numpy())}, " + (
        "the array itself" if np.shares_memory(frame.to_numpy(), C) else "a copy"
    )
    extras.facts["pd.DataFrame(C) (default copy): to_numpy() is"] = _order(
        pd.DataFrame(C[:2], columns=frame.columns).to_numpy()
    )
    extras.times["pd.DataFrame(C, index, columns), pandas' default copy"] = best_of(
        lambda: pd.DataFrame(C, index=community.index, columns=frame.columns), repeat
    )
    # What a frame in the other layout would cost if the kernels could not read it as is.
    if community.layout == "rows":
        name, transpose = "np.asfortranarray(C): to member-major", np.asfortranarray
    else:
        name, transpose = "np.ascontiguousarray(C): to row-major", np.ascontiguousarray
    extras.times[f"{name} (a transposition)"] = best_of(lambda: transpose(C), repeat)
    scan = getattr(checks, "first_invalid_energy", None)
    if scan is not None:
        extras.times["input check: checks.first_invalid_energy(C), in memory order"] = best_of(
            lambda: scan(_memory_order(C)), repeat
        )
    extras.times["Prorata key._share: kernel + its outputs, no input check"] = best_of(
        cases.run_share("prorata", cases.Inputs(community)), repeat
    )
    extras.times["np.empty_like(C) then written once (fresh output, first touch)"] = best_of(
        lambda: np.empty_like(C).fill(1.0), repeat
    )


def _dynamic_checks(inputs: cases.Inputs, extras: SizeExtras, repeat: int) -> None:
    """The passes over the coefficients that Dynamic's checks make (as of this version of
    ``repartition._align``); a check missing from ``repartition.kernels.checks`` is
    skipped, so that the report survives refactoring."""
    assert inputs.dynamic is not None
    table = inputs.dynamic.to_numpy()
    assert data.is_layout(table, inputs.community.layout)
    in_memory_order = _memory_order(table)
    sums = "row_sums_and_nans" if in_memory_order is table else "column_sums_and_nans"
    for check in (sums,):  # range, NaN pattern and row sums in one read
        function = getattr(checks, check, None)
        if function is not None:
            extras.times[f"Dynamic: checks.{check}(k in memory order)"] = best_of(
                lambda function=function: function(in_memory_order), repeat
            )
    community = inputs.community
    consumers = community.consumption.columns
    labelled = inputs.dynamic
    extras.times["Dynamic: reindex + to_numpy of the labelled table"] = best_of(
        lambda: labelled.reindex(index=community.index, columns=consumers).to_numpy(
            dtype=np.float64, na_value=np.nan
        ),
        repeat,
    )


# --- the report ------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1e3:,.1f}"


def _ratio(numerator: float | None, denominator: float | None) -> str:
    if numerator is None or denominator is None or denominator <= 0:
        return "-"
    return f"{numerator / denominator:.2f}x"


def render(
    rows: list[Row],
    extras: list[SizeExtras],
    machine_rows: list[tuple[str, str]],
    load: tuple[str, str],
    repeat: int,
    elapsed: float,
) -> str:
    lines = ["### Machine", "", "| | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in machine_rows]
    lines += [
        f"| load average (1, 5, 15 min) | before {load[0]}; after {load[1]} |",
        f"| timing | best of {repeat} after 1 warm-up, `time.perf_counter`; run took "
        f"{elapsed / 60:.1f} min |",
        "",
        "### allocate against the floor and pandas (times in ms)",
        "",
        "`rows`: frames built with `pd.DataFrame(c_ordered_array, copy=False)`, row-major; "
        "`members`: stored member by member, pandas' usual layout (default copy, built "
        "column by column, read from a file). The floor and pandas of a row ran on the data "
        "of that row's layout.",
        "",
        "| key | consumers | layout | allocate | arrays | share | floor | x floor | pandas "
        "| vs pandas | peak | note |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in _sorted(rows):
        peak = "-" if row.peak is None else f"{row.peak:.2f}x"
        lines.append(
            f"| {row.key} | {row.size.consumers:,} | {row.layout} | {_ms(row.allocate)} "
            f"| {_ms(row.arrays)} | {_ms(row.share)} | {_ms(row.floor)} "
            f"| {_ratio(row.allocate, row.floor)} | {_ms(row.pandas)} "
            f"| {_ratio(row.pandas, row.allocate)} | {peak} | {row.note} |"
        )
    lines += _targets(rows)
    for extra in extras:
        size = extra.size
        lines += [
            "",
            f"### Where the time goes, {size.steps:,} steps x {size.consumers:,} consumers, "
            f"layout `{extra.layout}` (consumption {size.consumption_bytes / 1e6:,.0f} MB)",
            "",
            "| measurement | ms | x floor |",
            "| --- | ---: | ---: |",
        ]
        floor = extra.times.get(FLOOR)
        for name, value in extra.times.items():
            lines.append(f"| {name} | {_ms(value)} | {_ratio(value, floor)} |")
        for name, fact in extra.facts.items():
            lines.append(f"| {name} {fact} | | |")
    return "\n".join(lines) + "\n"


def _sorted(rows: list[Row]) -> list[Row]:
    """By size, then key (in :data:`cases.KEYS` order), the layouts of a key side by side."""
    return sorted(
        rows,
        key=lambda row: (
            row.size.consumers,
            row.size.steps,
            cases.KEYS.index(row.key),
            data.LAYOUTS.index(row.layout),
        ),
    )


def _targets(rows: list[Row]) -> list[str]:
    largest = max((row.size.consumers for row in rows), default=0)
    layouts = [layout for layout in data.LAYOUTS if any(row.layout == layout for row in rows)]
    lines = [
        "",
        f"### The targets, at {largest:,} consumers (they are stated for 10,000), "
        f"per layout ({', '.join(layouts)})",
        "",
        "The same targets apply to each layout, each against the floor and the pandas "
        "baseline measured on that layout. They are stated for frames built from a "
        "C-contiguous array (`rows`); `members` is the frame most users have.",
        "",
        "| key | layout | allocate / floor | target | pandas / allocate | target | met |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in _sorted(rows):
        if row.size.consumers != largest or row.key not in TARGETS:
            continue
        max_floor, min_pandas = TARGETS[row.key]
        floor_ratio = row.allocate / row.floor
        pandas_ratio = None if row.pandas is None else row.pandas / row.allocate
        met = floor_ratio <= max_floor and (
            min_pandas is None or (pandas_ratio is not None and pandas_ratio >= min_pandas)
        )
        lines.append(
            f"| {row.key} | {row.layout} | {floor_ratio:.2f}x | <= {max_floor:g}x "
            f"| {_ratio(row.pandas, row.allocate)} "
            f"| {'>= ' + format(min_pandas, 'g') + 'x' if min_pandas else '-'} "
            f"| {'yes' if met else 'no'} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--consumers", type=int, nargs="+", default=[10, 1_000, 10_000], help="sizes"
    )
    parser.add_argument(
        "--steps", type=int, default=data.YEAR_STEPS, help="steps (default: a year at 30 min)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept")
    parser.add_argument("--keys", nargs="+", default=list(cases.KEYS), choices=cases.KEYS)
    parser.add_argument(
        "--layouts",
        nargs="+",
        default=list(data.LAYOUTS),
        choices=data.LAYOUTS,
        help="memory layouts of the frames: rows (copy=False from a C-ordered array), "
        "members (pandas' usual layout); default: both",
    )
    parser.add_argument(
        "--full-dynamic-max",
        type=int,
        default=cases.FULL_DYNAMIC_MAX_CONSUMERS,
        help="largest size for FullDynamic (its coefficients are producers x consumption)",
    )
    parser.add_argument(
        "--pandas-max-rounds",
        type=int,
        default=cases.PANDAS_MAX_ROUNDS,
        help="cap of the pandas redistribution loop (exact limit)",
    )
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas baselines")
    parser.add_argument(
        "--fresh-memory",
        action="store_true",
        help="do not write and free the results' size of memory before each timed call",
    )
    parser.add_argument(
        "--no-cold", action="store_true", help="skip the first calls in fresh processes"
    )
    parser.add_argument(
        "--cold-keys",
        nargs="*",
        default=[],
        help="first calls: these keys of benchmarks.digests.KEYS (default: all)",
    )
    parser.add_argument("--cold-repeat", type=int, default=1, help="first calls: pairs of runs")
    parser.add_argument(
        "--threads", type=int, help="kernel threads, repartition.threads (default: all cores)"
    )
    parser.add_argument("--output", type=Path, help="also write the markdown to this file")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)

    if args.threads:
        os.environ["REPARTITION_NUM_THREADS"] = str(args.threads)  # the default, everywhere

    def log(message: str) -> None:
        if not args.quiet:
            print(message, file=sys.stderr, flush=True)

    started = time.perf_counter()
    load_before = _load()
    layouts = tuple(dict.fromkeys(args.layouts))
    cases.warm_jit(layouts)
    rows: list[Row] = []
    extras: list[SizeExtras] = []
    for consumers in args.consumers:
        for layout in layouts:  # one layout's data alive at a time
            size_rows, size_extras = measure_size(
                data.Size(args.steps, consumers), layout, args.keys, args, log
            )
            gc.collect()
            rows += size_rows
            extras.append(size_extras)
    first_calls = [] if args.no_cold else first_call.rows(ROOT, args.cold_keys, args.cold_repeat)
    report = render(
        rows,
        extras,
        machine(),
        (load_before, _load()),
        args.repeat,
        time.perf_counter() - started,
    )
    if first_calls:
        report += "\n### A first call, cold and warm\n\n" + "\n".join(first_calls) + "\n"
    print(report)
    if args.output:
        args.output.write_text(report)
    return report


if __name__ == "__main__":
    main()
