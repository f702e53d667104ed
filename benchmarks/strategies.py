"""The strategies beyond the DSO's keys, timed against Prorata in the same run.

Usage (from the repository root)::

    python benchmarks/strategies.py                      # a year x 1,000 and 10,000 consumers
    python benchmarks/strategies.py --consumers 1000 --repeat 3 --output run.md

For each size, the benchmarks' synthetic community (a year at 30 min, 5 producers, in
pandas' usual member-major layout) is allocated with every strategy of :data:`STRATEGIES`,
best of ``--repeat`` rounds after one warm-up round (which also compiles the kernels), each
round running every strategy once (so that a slow spell of the machine hits them all alike),
and each time is printed as a ratio to ``Prorata`` measured in the same run. For the water-filling
strategies the table also says how many passes the steps needed (``Allocation.passes``):
they should stay within 4x of Prorata, a few passes over a row that stays in cache.

**Fresh memory.** On a virtual machine that hands freed memory back to its host (virtio-balloon
free page reporting, as on the machine of docs/performance.md), the first touch of a page costs
about 15 times more once the host has taken it back, about a second after it was freed: a
1.4 GB result then takes 2 to 3 s to write instead of 0.15 s, whatever the key. So before each
timed call the script writes and frees a buffer the size of the results (``_recycle``), and every
strategy gets memory in the same state; ``--fresh-memory`` skips this, to see what the calls
cost with memory as it comes.

``benchmarks/test_strategies.py`` runs the same registry once per strategy on a tiny
community, untimed in CI, so this script cannot rot.
"""

from __future__ import annotations

import argparse
import functools
import gc
import sys
import time
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import pandas as pd

from benchmarks import data
from benchmarks.report import _load, machine
from repartition import Allocation, allocate, keys

KeyFactory = Callable[[data.Community], keys.SharingKey]


def _weights(community: data.Community) -> pd.Series:
    """Subscribed power (kVA) per consumer: 6, 9 or 12, fixed by position."""
    kva = np.array([6.0, 9.0, 12.0])[np.arange(community.size.consumers) % 3]
    return pd.Series(kva, index=community.consumption.columns)


def _spanish(community: data.Community) -> pd.Series:
    return community.static_series / community.static_series.sum()


def _italian(community: data.Community) -> pd.Series:
    producers = community.production.columns
    return pd.Series(range(len(producers)), index=producers)


def _values(community: data.Community) -> pd.Series:
    """Value of a local kWh per consumer (EUR/kWh): retail minus local price, 0.02 to 0.10."""
    value = 0.02 + 0.08 * (np.arange(community.size.consumers) % 5) / 4
    return pd.Series(value, index=community.consumption.columns)


def _cascade(community: data.Community) -> keys.PriorityCascade:
    """The first tenth of the consumers (public buildings) first, then everyone else."""
    members = list(community.consumption.columns)
    first = members[: max(1, len(members) // 10)]
    rest = members[len(first) :]
    groups = [("public", first, keys.Prorata())]
    if rest:
        groups.append(("households", rest, keys.EqualShare()))
    return keys.PriorityCascade(groups)


def _prosumer(variant: str) -> KeyFactory:
    """Static-like shares, each producer owned by a consumer (the first ones): prosumers."""

    def factory(community: data.Community) -> keys.ProsumerKey:
        consumers = community.consumption.columns
        owners = {
            producer: consumers[j % len(consumers)]
            for j, producer in enumerate(community.production.columns)
        }
        return keys.ProsumerKey(community.static_series, variant, owners)  # type: ignore[arg-type]

    return factory


STRATEGIES: dict[str, KeyFactory] = {
    "Prorata (baseline)": lambda community: keys.Prorata(),
    "Static, redistributed": lambda community: keys.Static(
        community.static_series, redistribute=True
    ),
    "EqualShare": lambda community: keys.EqualShare(),
    "WeightedShare (kVA)": lambda community: keys.WeightedShare(_weights(community)),
    "SpanishKey (fixed set)": lambda community: keys.SpanishKey(_spanish(community)),
    "ItalianKey": lambda community: keys.ItalianKey(_italian(community)),
    "PriorityCascade (prorata, then equal share)": _cascade,
    "EconomicGreedy (a value per consumer)": lambda community: keys.EconomicGreedy(
        _values(community)
    ),
    "ProsumerKey (relative)": _prosumer("relative"),
    "ProsumerKey (optimal)": _prosumer("optimal"),
}
"""Name -> the key for a community. The first entry is the baseline of the ratios."""


def _recycle(nbytes: int) -> None:
    """Write ``nbytes`` of new memory and free it: pages the guest has just freed are still
    backed by the host, so the next call's results do not pay the host's page faults."""
    if nbytes > 0:
        ballast = np.ones(nbytes // 8)
        del ballast


def _timed(run: Callable[[], Allocation], recycle: int = 0) -> tuple[float, Allocation]:
    gc.collect()
    _recycle(recycle)
    start = time.perf_counter()
    result = run()
    return time.perf_counter() - start, result


def _passes(result: Allocation) -> str:
    passes = result.passes
    if passes is None:
        return ""
    values = passes.to_numpy()
    median, p99 = np.percentile(values, [50, 99])
    return f"{median:.0f} / {p99:.0f} / {values.max()}"


def measure(consumers: int, repeat: int, fresh_memory: bool = False) -> list[str]:
    """The markdown table of one size."""
    community = data.community(data.Size(data.YEAR_STEPS, consumers), layout="members")
    # AUTOCONS and COMPLEMENT, each the consumption's size (8 bytes a value), and a margin.
    steps, consumers = community.consumption.shape
    recycle = 0 if fresh_memory else 5 * 8 * steps * consumers // 2
    lines = [
        f"### A year at 30 min, {consumers:,} consumers x {data.PRODUCERS} producers",
        "",
        "| strategy | time (s) | x Prorata | passes: median / p99 / max |",
        "| --- | ---: | ---: | ---: |",
    ]
    strategy_keys = {name: factory(community) for name, factory in STRATEGIES.items()}
    runs = {
        name: functools.partial(allocate, community.consumption, community.production, key)
        for name, key in strategy_keys.items()
    }
    # Round robin: every strategy once per round, so that a slow spell of the machine hits
    # them all alike; one warm-up round first (it compiles, or loads Numba's cache), and one
    # result alive at a time (each is twice the data).
    best = dict.fromkeys(runs, float("inf"))
    passes = dict.fromkeys(runs, "")
    for round_ in range(repeat + 1):
        for name, run in runs.items():
            seconds, result = _timed(run, recycle)
            if round_:
                best[name] = min(best[name], seconds)
            passes[name] = _passes(result)
            del result
    baseline = best[next(iter(runs))]
    for name, seconds in best.items():
        lines.append(f"| {name} | {seconds:.3f} | {seconds / baseline:.2f}x | {passes[name]} |")
    return [*lines, ""]


def _at_least_one(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"--repeat must be 1 or more, not {number}")
    return number


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument(
        "--repeat", type=_at_least_one, default=3, help="timed runs (1 or more), best kept"
    )
    parser.add_argument("--output", type=Path, help="also write the markdown to this file")
    parser.add_argument(
        "--fresh-memory",
        action="store_true",
        help="do not recycle memory before each call (see the module's docstring)",
    )
    args = parser.parse_args(argv)
    lines = ["# Strategies against Prorata", "", "| machine | |", "| --- | --- |"]
    lines += [f"| {name} | {value} |" for name, value in machine()]
    lines += [f"| load average before | {_load()} |"]
    memory = "as it comes (--fresh-memory)" if args.fresh_memory else "recycled before each call"
    lines += [f"| memory for the results | {memory} |", ""]
    for consumers in args.consumers:
        lines += measure(consumers, args.repeat, args.fresh_memory)
    text = "\n".join(lines)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
