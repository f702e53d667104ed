"""Digests of every key's results on the benchmark data, to show a change keeps them bit for bit.

Usage (from the repository root)::

    python benchmarks/digests.py --consumers 1000 --output before.json   # on the old code
    python benchmarks/digests.py --consumers 1000 --compare before.json  # on the new code

For each memory layout of the benchmarks' synthetic community (a year at 30 min, 5 producers),
every key of :data:`KEYS` is applied with :func:`repartition.allocate`, and the SHA-256 of the
bytes of AUTOCONS, COMPLEMENT, AUTOPROD, SURPLUS and the monthly flows is recorded. Two runs on
the same machine give the same digests exactly when the results are the same to the last bit.
(Across processors they may differ: Numba compiles for the host, and re-associated sums depend
on the vector width.) ``tests/test_digests.py`` asserts the same on a small community.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from benchmarks import data
from benchmarks.strategies import STRATEGIES, KeyFactory, _prosumer
from repartition import Allocation, allocate, keys

KEYS: dict[str, KeyFactory] = {
    **STRATEGIES,
    "Static": lambda community: keys.Static(community.static_series),
    "Static, 2 rounds": lambda community: keys.Static(community.static_series, rounds=2),
    "Dynamic": lambda community: keys.Dynamic(data.dynamic_coefficients(community)),
    "FullDynamic": lambda community: keys.FullDynamic(data.full_dynamic_coefficients(community)),
    "ProsumerKey (fixed)": _prosumer("fixed"),
}
"""Name -> the key for a community: the strategies benchmark's and the DSO's other keys."""


def digest(result: Allocation) -> str:
    """SHA-256 of the bytes of every result table and of the monthly flows."""
    hasher = hashlib.sha256()
    for table in (
        result.arrays.allocated,
        result.arrays.grid_supply,
        result.arrays.self_consumed,
        result.arrays.surplus,
    ):
        hasher.update(np.ascontiguousarray(table).tobytes())
    hasher.update(np.ascontiguousarray(result.flows("MS").to_numpy()).tobytes())
    return hasher.hexdigest()


def digests(
    size: data.Size, factories: dict[str, Callable[[data.Community], keys.SharingKey]] = KEYS
) -> dict[str, str]:
    """``"<layout>/<key name>" -> digest`` for every key and layout."""
    found = {}
    for layout in data.LAYOUTS:
        community = data.community(size, layout=layout)
        for name, factory in factories.items():
            result = allocate(community.consumption, community.production, factory(community))
            found[f"{layout}/{name}"] = digest(result)
            del result
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--consumers", type=int, default=1_000)
    parser.add_argument("--steps", type=int, default=data.YEAR_STEPS)
    parser.add_argument("--output", type=Path, help="write the digests to this JSON file")
    parser.add_argument("--compare", type=Path, help="compare with the digests of this file")
    options = parser.parse_args(argv)
    found = digests(data.Size(options.steps, options.consumers))
    if options.output:
        options.output.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n")
    if not options.compare:
        print(json.dumps(found, indent=1, sort_keys=True))
        return 0
    expected = json.loads(options.compare.read_text())
    differ = sorted(name for name in expected | found if expected.get(name) != found.get(name))
    for name in sorted(expected | found):
        print(f"{'differs' if name in differ else 'same   '}  {name}")
    print(f"{len(found) - len(differ)} of {len(found)} results bit-identical")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
