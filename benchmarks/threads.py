"""The kernels' threads: when a second thread pays, many small communities, one month's
latency, and the cost of a first call in a fresh environment, with ratios measured in the
same run.

Usage (from the repository root)::

    python benchmarks/threads.py                                  # every section
    python benchmarks/threads.py --baseline ../old-checkout       # cold start before/after
    python benchmarks/threads.py --sections crossover --repeat 15 --output run.md

Sections (``--sections``):

- ``crossover``: one allocation, 1 thread against 2 with every kernel split in two
  (``MIN_CELLS_PER_THREAD`` set to 1), from a week x 33 members to a year x 100, both
  layouts. Where 2 threads start to pay is what ``MIN_CELLS_PER_THREAD`` is set from.
- ``sweep``: ``--communities`` synthetic communities (2 to 50 consumers, a year at 30 min)
  x 6 strategies, one after the other, with the default threads and with ``threads(1)``.
- ``latency``: a month x 33 members, each of the 6 strategies, default against one thread.
- ``pool``: a process pool with one process per core, each allocating communities of a year x
  ``--pool-consumers`` (large enough to be split), with the default threads in every process
  and with ``threads(1)``; and the same allocations one after the other in this process.
- ``cold``: a fresh process with an empty ``NUMBA_CACHE_DIR`` runs every key of
  :data:`benchmarks.digests.KEYS` on both layouts of a tiny community (total seconds, and
  the slowest key), and ``repartition demo`` runs in another (seconds); with ``--baseline``
  the same runs on that checkout's code, interleaved, best of ``--cold-repeat``.

Every timing is the best of ``--repeat`` rounds after a warm-up; in each round the
variants run one after the other, in alternating order, so that a slow spell of the
machine hits them alike.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import contextlib
import functools
import json
import multiprocessing
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

import repartition
from benchmarks import cold as first_call
from benchmarks import data
from benchmarks.digests import KEYS
from benchmarks.report import _load, machine
from repartition import allocate
from repartition.kernels import threads as kernel_threads

ROOT = Path(__file__).resolve().parent.parent

SECTIONS = ("crossover", "sweep", "latency", "pool", "cold")

STRATEGIES = (
    "Prorata (baseline)",
    "Static",
    "Static, redistributed",
    "Dynamic",
    "EconomicGreedy (a value per consumer)",
    "ProsumerKey (optimal)",
)
"""The 6 strategies of the sweep and the latency (names of :data:`benchmarks.digests.KEYS`)."""

CROSSOVER_KEYS = ("Prorata (baseline)", "Dynamic", "Static, redistributed")

MONTH = 30 * 48
"""A month at 30 min. [steps]"""

CROSSOVER_SIZES = (
    (7 * 48, 33),
    (MONTH, 33),
    (MONTH, 100),
    (3 * MONTH, 100),
    (data.YEAR_STEPS, 33),
    (data.YEAR_STEPS, 100),
)
"""(steps, members) of the crossover: a week, a month and a quarter, then a year."""


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f}"


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.2f}x" if reference > 0 else "-"


@contextlib.contextmanager
def _split_always() -> Iterator[None]:
    """Every kernel call split in as many parts as threads, however small."""
    saved = kernel_threads.MIN_CELLS_PER_THREAD
    kernel_threads.MIN_CELLS_PER_THREAD = 1
    try:
        yield
    finally:
        kernel_threads.MIN_CELLS_PER_THREAD = saved


def race(variants: dict[str, Callable[[], Any]], repeat: int, warmup: int = 1) -> dict[str, float]:
    """Best seconds of each variant over ``repeat`` rounds, the order alternating per round."""
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    best = dict.fromkeys(names, float("inf"))
    for round_ in range(repeat):
        for name in names if round_ % 2 == 0 else names[::-1]:
            start = time.perf_counter()
            result = variants[name]()
            best[name] = min(best[name], time.perf_counter() - start)
            del result
    return best


def _call(community: data.Community, key: Any, threads: int | None) -> Callable[[], Any]:
    return lambda: allocate(community.consumption, community.production, key, threads=threads)


# --- sections ---------------------------------------------------------------------------------


def crossover(repeat: int, sizes: tuple[tuple[int, int], ...] = CROSSOVER_SIZES) -> list[str]:
    lines = [
        "| steps x members | cells | layout | key | 1 thread (ms) | 2 threads, split (ms) "
        "| 2 / 1 |",
        "| --- | ---: | --- | --- | ---: | ---: | ---: |",
    ]
    for steps, members in sizes:
        for layout in data.LAYOUTS:
            community = data.community(data.Size(steps, members), layout=layout)
            for name in CROSSOVER_KEYS:
                key = KEYS[name](community)
                one, two = _call(community, key, 1), _call(community, key, 2)

                def split(two: Callable[[], Any] = two) -> Any:
                    with _split_always():
                        return two()

                best = race({"one": one, "two": split}, repeat)
                lines.append(
                    f"| {steps:,} x {members} | {steps * members:,} | {layout} | {name} "
                    f"| {_ms(best['one'])} | {_ms(best['two'])} "
                    f"| {_ratio(best['two'], best['one'])} |"
                )
    return lines


def _communities(count: int, steps: int) -> list[data.Community]:
    """``count`` communities of 2 to 50 consumers, half of them member-major."""
    sizes = np.random.default_rng(4).integers(2, 51, count)
    return [
        data.community(
            data.Size(steps, int(size)), seed=n, layout=data.LAYOUTS[n % len(data.LAYOUTS)]
        )
        for n, size in enumerate(sizes)
    ]


def sweep(repeat: int, count: int, steps: int) -> list[str]:
    communities = _communities(count, steps)
    work = [(community, KEYS[name](community)) for community in communities for name in STRATEGIES]

    def run(threads: int | None) -> Callable[[], None]:
        def every() -> None:
            for community, key in work:
                allocate(community.consumption, community.production, key, threads=threads)

        return every

    best = race({"default": run(None), "one": run(1)}, repeat)
    consumers = sum(community.size.consumers for community in communities)
    return [
        f"{count} communities ({consumers:,} consumers in all, 2 to 50 each, {steps:,} steps, "
        f"half member-major) x {len(STRATEGIES)} strategies = {len(work)} allocations, "
        "one after the other:",
        "",
        "| threads | total (s) | per allocation (ms) | x one thread |",
        "| --- | ---: | ---: | ---: |",
        f"| default ({repartition.get_threads()}) | {best['default']:.2f} "
        f"| {_ms(best['default'] / len(work))} | {_ratio(best['default'], best['one'])} |",
        f"| `threads(1)` | {best['one']:.2f} | {_ms(best['one'] / len(work))} | 1.00x |",
    ]


def latency(repeat: int, steps: int = MONTH, members: int = 33) -> list[str]:
    lines = [
        f"{steps:,} steps x {members} members ({steps * members:,} cells), member-major:",
        "",
        "| strategy | default (ms) | `threads(1)` (ms) | default / one |",
        "| --- | ---: | ---: | ---: |",
    ]
    community = data.community(data.Size(steps, members), layout="members")
    for name in STRATEGIES:
        key = KEYS[name](community)
        best = race(
            {"default": _call(community, key, None), "one": _call(community, key, 1)}, repeat
        )
        lines.append(
            f"| {name} | {_ms(best['default'])} | {_ms(best['one'])} "
            f"| {_ratio(best['default'], best['one'])} |"
        )
    return lines


@functools.cache
def _pool_community(consumers: int, steps: int) -> data.Community:
    return data.community(data.Size(steps, consumers), layout="members")


def _pool_task(consumers: int, steps: int, name: str, threads: int | None) -> float:
    """In a pool's process: one allocation; returns its AUTOCONS total (a check value)."""
    community = _pool_community(consumers, steps)
    key = KEYS[name](community)
    result = allocate(community.consumption, community.production, key, threads=threads)
    return float(result.arrays.allocated.sum())


def pool(repeat: int, consumers: int, steps: int, tasks_per_process: int = 4) -> list[str]:
    processes = kernel_threads.available_threads()
    names = ["Prorata (baseline)", "Static, redistributed"]
    tasks = processes * tasks_per_process
    context = multiprocessing.get_context("spawn")
    lines = [
        f"{tasks} allocations of {steps:,} steps x {consumers:,} members (member-major) per "
        f"strategy, {processes} processes (`ProcessPoolExecutor`, spawn; each compiled and "
        "warmed first) or this process alone:",
        "",
        "| strategy | pool, default threads (s) | pool, `threads(1)` (s) | this process, default "
        "threads (s) | pool default / pool one |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    with concurrent.futures.ProcessPoolExecutor(processes, mp_context=context) as executor:
        for name in names:

            def in_pool(threads: int | None, name: str = name) -> Callable[[], None]:
                def run() -> None:
                    futures = [
                        executor.submit(_pool_task, consumers, steps, name, threads)
                        for _ in range(tasks)
                    ]
                    for future in futures:
                        future.result(timeout=600)

                return run

            def alone(name: str = name) -> None:
                for _ in range(tasks):
                    _pool_task(consumers, steps, name, None)

            best = race({"default": in_pool(None), "one": in_pool(1), "alone": alone}, repeat)
            lines.append(
                f"| {name} | {best['default']:.2f} | {best['one']:.2f} | {best['alone']:.2f} "
                f"| {_ratio(best['default'], best['one'])} |"
            )
    return lines


def cold(baseline: Path | None, repeat: int, names: list[str], demo: bool) -> list[str]:
    inf = float("inf")
    checkouts = {"after (this checkout)": ROOT}
    if baseline is not None:
        checkouts = {f"before ({baseline})": baseline, **checkouts}
    best: dict[tuple[str, str], float] = {}
    slowest: dict[str, tuple[float, str]] = {}
    tasks = ["keys", "demo"] if demo else ["keys"]
    for round_ in range(repeat):
        order = list(checkouts) if round_ % 2 == 0 else list(checkouts)[::-1]
        for task in tasks:
            for label in order:
                if task == "keys":
                    wall, out = first_call.fresh(
                        checkouts[label], ["-c", first_call.FIRST_CALLS, json.dumps(names)]
                    )
                    report = json.loads(out.strip().splitlines()[-1])
                    keys_total = sum(report["keys"].values())
                    best[(label, "keys")] = min(best.get((label, "keys"), inf), keys_total)
                    best[(label, "process")] = min(best.get((label, "process"), inf), wall)
                    key, seconds = max(report["keys"].items(), key=lambda item: item[1])
                    if seconds < slowest.get(label, (inf, ""))[0]:
                        slowest[label] = (seconds, key)
                else:
                    wall, _ = first_call.fresh(checkouts[label], ["-m", "repartition", "demo"])
                    best[(label, "demo")] = min(best.get((label, "demo"), inf), wall)
    count = len(names) or len(KEYS)
    lines = [
        f"A fresh process, empty `NUMBA_CACHE_DIR`; best of {repeat}. *every key*: the first "
        f"call of each of the {count} keys on both layouts of a tiny community (flows "
        "included), in one process; *process*: the same process's wall time, imports "
        "included; *demo*: `python -m repartition demo`, wall time.",
        "",
        "| code | every key (s) | slowest key (s) | process (s) | demo (s) |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    first = next(iter(checkouts))
    for label in checkouts:
        seconds, key = slowest[label]
        demo_cell = f"{best[(label, 'demo')]:.1f}" if demo else "-"
        lines.append(
            f"| {label} | {best[(label, 'keys')]:.1f} | {seconds:.1f} ({key}) "
            f"| {best[(label, 'process')]:.1f} | {demo_cell} |"
        )
    if baseline is not None:
        label = list(checkouts)[1]
        ratios = [_ratio(best[(label, "keys")], best[(first, "keys")])]
        if demo:
            ratios.append(_ratio(best[(label, "demo")], best[(first, "demo")]))
        demo_ratio = f", demo {ratios[1]}" if demo else ""
        lines += ["", f"after / before: every key {ratios[0]}{demo_ratio}"]
    return lines


# --- the report -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument("--repeat", type=int, default=7, help="rounds per timing (best of)")
    parser.add_argument("--communities", type=int, default=100, help="communities of the sweep")
    parser.add_argument("--steps", type=int, default=data.YEAR_STEPS, help="steps of the sweep")
    parser.add_argument(
        "--crossover-sizes",
        type=lambda text: tuple(int(part) for part in text.split("x")),
        nargs="+",
        help="steps x members of the crossover, e.g. 1440x33 (default: a week to a year)",
    )
    parser.add_argument(
        "--latency-size",
        type=lambda text: tuple(int(part) for part in text.split("x")),
        default=(MONTH, 33),
        help="steps x members of the latency (default: a month x 33)",
    )
    parser.add_argument(
        "--pool-consumers", type=int, default=400, help="members of the pool's communities"
    )
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--cold-repeat", type=int, default=2, help="fresh processes per code")
    parser.add_argument("--cold-keys", nargs="*", default=[], help="a subset of the keys")
    parser.add_argument("--no-demo", action="store_true", help="cold: skip repartition demo")
    parser.add_argument("--output", type=Path, help="also write the markdown to this file")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    load_before = _load()
    out = [f"# Threads: `python benchmarks/threads.py {' '.join(argv or sys.argv[1:])}`", ""]
    if "crossover" in args.sections:
        sizes = tuple(args.crossover_sizes or CROSSOVER_SIZES)
        out += ["## When a second thread pays", "", *crossover(args.repeat, sizes), ""]
    if "sweep" in args.sections:
        out += ["## Many small communities", ""]
        out += [*sweep(args.repeat, args.communities, args.steps), ""]
    if "latency" in args.sections:
        out += ["## One month's latency", "", *latency(args.repeat, *args.latency_size), ""]
    if "pool" in args.sections:
        out += ["## A process per core", ""]
        out += [*pool(args.repeat, args.pool_consumers, args.steps), ""]
    if "cold" in args.sections:
        out += ["## A first call, cold", ""]
        out += [*cold(args.baseline, args.cold_repeat, args.cold_keys, not args.no_demo), ""]
    out += ["## Machine", "", "| | |", "| --- | --- |"]
    out += [f"| {name} | {value} |" for name, value in machine()]
    out += [
        f"| load average (1, 5, 15 min) | before {load_before}; after {_load()} |",
        f"| timing | best of {args.repeat}, rounds alternating the variants' order; "
        f"run took {(time.perf_counter() - started) / 60:.1f} min |",
    ]
    text = "\n".join(out) + "\n"
    print(text)
    if args.output:
        args.output.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
