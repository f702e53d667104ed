"""A first call in a fresh environment: what compiling the kernels costs, cold against warm.

A fresh process with an empty ``NUMBA_CACHE_DIR`` makes the first call of every key of
:data:`benchmarks.digests.KEYS` (or of the names given) on both layouts of a tiny community,
its monthly flows included: every kernel those keys need is compiled. A second process with
the same cache (*warm*) makes the same calls, loading the kernels instead: the baseline, in
the same run. ``benchmarks/report.py`` and ``benchmarks/threads.py`` print these rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

FIRST_CALLS = textwrap.dedent(
    """
    import json, sys, time
    started = time.perf_counter()
    from benchmarks import data
    from benchmarks.digests import KEYS
    from repartition import allocate
    imported = time.perf_counter()
    names = json.loads(sys.argv[1]) or list(KEYS)
    seconds = {}
    for layout in data.LAYOUTS:
        community = data.community(data.TINY, layout=layout)
        for name in names:
            start = time.perf_counter()
            result = allocate(community.consumption, community.production, KEYS[name](community))
            result.flows("MS")
            seconds[f"{layout}/{name}"] = time.perf_counter() - start
    print(json.dumps({"import": imported - started, "keys": seconds}))
    """
)
"""The script a fresh process runs: ``argv[1]`` is a JSON list of key names ([]: all)."""


def run(checkout: Path, arguments: list[str], cache: Path) -> tuple[float, str]:
    """Wall seconds and stdout of ``python arguments`` on ``checkout``'s code, with Numba's
    cache in ``cache``."""
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(cache),
        "PYTHONPATH": os.pathsep.join([str(checkout), str(checkout / "src")]),
    }
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *arguments],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{arguments[:2]} on {checkout} failed:\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def fresh(checkout: Path, arguments: list[str]) -> tuple[float, str]:
    """:func:`run` with an empty cache of its own, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
        return run(checkout, arguments, Path(cache))


@dataclass(frozen=True)
class FirstCalls:
    """One process's first calls: seconds per ``layout/key``, the import, the wall time."""

    keys: dict[str, float]
    imported: float
    process: float

    @property
    def total(self) -> float:
        return sum(self.keys.values())

    @property
    def slowest(self) -> tuple[str, float]:
        return max(self.keys.items(), key=lambda item: item[1])


def first_calls(checkout: Path, names: list[str], cache: Path) -> FirstCalls:
    """The first calls of ``names`` (all keys when empty) in a new process using ``cache``."""
    wall, out = run(checkout, ["-c", FIRST_CALLS, json.dumps(names)], cache)
    report = json.loads(out.strip().splitlines()[-1])
    return FirstCalls(report["keys"], report["import"], wall)


def cold_and_warm(checkout: Path, names: list[str]) -> tuple[FirstCalls, FirstCalls]:
    """Cold (an empty cache), then warm (a second process on the cache the first filled)."""
    with tempfile.TemporaryDirectory(prefix="numba-cold-") as cache:
        cold = first_calls(checkout, names, Path(cache))
        warm = first_calls(checkout, names, Path(cache))
    return cold, warm


def rows(checkout: Path, names: list[str], repeat: int) -> list[str]:
    """Markdown rows of the first calls, cold and warm, best of ``repeat`` pairs."""
    pairs = [cold_and_warm(checkout, names) for _ in range(max(1, repeat))]
    cold = min((pair[0] for pair in pairs), key=lambda calls: calls.total)
    warm = min((pair[1] for pair in pairs), key=lambda calls: calls.total)
    key, seconds = cold.slowest
    count = len(names) if names else len({name.split("/", 1)[1] for name in cold.keys})
    return [
        f"A fresh process makes the first call of {count} keys on both layouts of a tiny "
        "community (monthly flows included): *cold* with an empty `NUMBA_CACHE_DIR` (every "
        "kernel compiled), *warm* in a second process on the cache the first filled (every "
        f"kernel loaded: the baseline). Best of {max(1, repeat)}.",
        "",
        "| first calls | every key (s) | slowest key (s) | import (s) | process (s) |",
        "| --- | ---: | --- | ---: | ---: |",
        f"| cold | {cold.total:.1f} | {seconds:.1f} ({key}) | {cold.imported:.1f} "
        f"| {cold.process:.1f} |",
        f"| warm | {warm.total:.1f} | {warm.slowest[1]:.2f} ({warm.slowest[0]}) "
        f"| {warm.imported:.1f} | {warm.process:.1f} |",
        "",
        f"cold / warm: every key {cold.total / max(warm.total, 1e-9):.1f}x, process "
        f"{cold.process / max(warm.process, 1e-9):.1f}x",
    ]
