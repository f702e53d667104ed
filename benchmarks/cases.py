"""The benchmarked keys, shared by the pytest benchmarks and ``report.py``.

For each key name: the :mod:`repartition.keys` value on labelled data (for ``allocate``),
the same key on plain arrays (for ``allocate_arrays``), the key's computation without the
input boundary (``SharingKey._share``), and the key's pandas baseline. Every one of them
runs on the community it is given, in that community's memory layout
(:data:`benchmarks.data.LAYOUTS`): the arrays are the frames' own memory, so the three
``repartition`` paths and the pandas baseline all see the same layout.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from benchmarks import baselines, data
from repartition import allocate, allocate_arrays, keys
from repartition.problem import Axis, Problem

KEYS = (
    "prorata",
    "static",
    "static-redistribute",
    "static-rounds2",
    "dynamic",
    "full-dynamic",
)
"""Prorata, Static, Static(redistribute=True), Static(rounds=2), Dynamic, FullDynamic."""

FULL_DYNAMIC_MAX_CONSUMERS = 10_000
"""Largest size at which FullDynamic is benchmarked by default: every size of the targets.
At 10,000 consumers its coefficients are 5 x 1.4 GB = 7 GB, built once per layout;
FullDynamic reads them in place and adds only its results (2 x 1.4 GB)."""

PANDAS_FULL_DYNAMIC_MAX_CONSUMERS = 1_000
"""Largest size at which FullDynamic's pandas baseline runs: its temporaries (the offers of
each producer, their sum, the scale, ...) take about 4.5 times the consumption, 6.3 GB at
10,000 consumers on top of the 8.4 GB of data, more than this benchmark should take on a
shared machine; see docs/performance.md."""


def pandas_skipped(name: str, size: data.Size) -> bool:
    """True when the pandas baseline of ``name`` is not run at ``size`` (for its memory)."""
    return name == "full-dynamic" and size.consumers > PANDAS_FULL_DYNAMIC_MAX_CONSUMERS


PANDAS_MAX_ROUNDS = 50
"""Cap on the rounds of the literal pandas redistribution loop (exact limit). The loop
stops earlier when nothing is left to hand on, which takes 7 to 9 rounds on the
synthetic data; the cap only guards against a pathological run."""


LARGE_BYTES = 1 << 30
"""From this consumption size (1 GiB: 10,000 consumers over a year), the exact pandas
redistribution loop is timed once, see :func:`pandas_rounds`."""


def pandas_rounds(name: str, size: data.Size, repeat: int) -> tuple[int, int]:
    """``(warm-up rounds, timed rounds)`` of a pandas baseline: like repartition's, one
    warm-up then ``repeat`` timed rounds, except the exact redistribution loop at
    :data:`LARGE_BYTES` and above (about a minute a call), timed once without warm-up.

    The warm-up matters even without a JIT: at 10,000 consumers a first call ran up to
    8 times slower than the next ones (fresh memory from the OS for its temporaries).
    """
    if name == "static-redistribute" and size.consumption_bytes >= LARGE_BYTES:
        return 0, 1
    return 1, repeat


@dataclass(frozen=True, eq=False)
class Inputs:
    """A community and the coefficient tables the key needs (``None`` when it needs none)."""

    community: data.Community
    dynamic: pd.DataFrame | None = None
    full_dynamic: dict[str, pd.DataFrame] | None = None


def needs(name: str) -> str | None:
    """Which coefficient table the key needs: ``"dynamic"``, ``"full_dynamic"`` or None."""
    return {"dynamic": "dynamic", "full-dynamic": "full_dynamic"}.get(name)


def labelled_key(name: str, inputs: Inputs) -> keys.SharingKey:
    """The key with labelled coefficients (Series, DataFrames), for ``allocate``."""
    static = inputs.community.static_series
    if name == "prorata":
        return keys.Prorata()
    if name == "static":
        return keys.Static(static)
    if name == "static-redistribute":
        return keys.Static(static, redistribute=True)
    if name == "static-rounds2":
        return keys.Static(static, rounds=2)
    if name == "dynamic":
        assert inputs.dynamic is not None
        return keys.Dynamic(inputs.dynamic)
    if name == "full-dynamic":
        assert inputs.full_dynamic is not None
        return keys.FullDynamic(inputs.full_dynamic)
    raise ValueError(f"unknown key {name!r}")


def array_key(name: str, inputs: Inputs) -> keys.SharingKey:
    """The key with plain-array coefficients (views, no copy), for ``allocate_arrays``."""
    static = inputs.community.static_coefficients
    if name == "prorata":
        return keys.Prorata()
    if name == "static":
        return keys.Static(static)
    if name == "static-redistribute":
        return keys.Static(static, redistribute=True)
    if name == "static-rounds2":
        return keys.Static(static, rounds=2)
    if name == "dynamic":
        assert inputs.dynamic is not None
        return keys.Dynamic(inputs.dynamic.to_numpy())
    if name == "full-dynamic":
        assert inputs.full_dynamic is not None
        return keys.FullDynamic(
            {j: table.to_numpy() for j, table in enumerate(inputs.full_dynamic.values())}
        )
    raise ValueError(f"unknown key {name!r}")


def run_allocate(name: str, inputs: Inputs) -> Callable[[], object]:
    """``allocate(consumption, production, key)`` on the DataFrames."""
    key = labelled_key(name, inputs)
    community = inputs.community
    return lambda: allocate(community.consumption, community.production, key)


def run_allocate_arrays(name: str, inputs: Inputs) -> Callable[[], object]:
    """``allocate_arrays(consumption, production, key)`` on the NumPy arrays."""
    key = array_key(name, inputs)
    community = inputs.community
    return lambda: allocate_arrays(community.consumption_array, community.production_array, key)


def run_pandas(
    name: str,
    inputs: Inputs,
    max_rounds: int = PANDAS_MAX_ROUNDS,
    rounds_run: list[int] | None = None,
) -> Callable[[], baselines.Frames]:
    """The pandas baseline of the key, on the community's frames (returns
    :class:`benchmarks.baselines.Frames`: allocated, grid_supply, self_consumed, surplus).

    For ``static-redistribute``, the loop runs at most ``max_rounds`` rounds and appends
    the number it ran to ``rounds_run`` if given.
    """
    community = inputs.community
    consumption, production = community.consumption, community.production
    static = community.static_series
    if name == "prorata":
        return lambda: baselines.prorata(consumption, production)
    if name == "static":
        return lambda: baselines.static(consumption, production, static)
    if name == "static-redistribute":

        def redistributed() -> baselines.Frames:
            frames, rounds = baselines.static_redistributed(
                consumption, production, static, max_rounds=max_rounds
            )
            if rounds_run is not None:
                rounds_run.append(rounds)
            return frames

        return redistributed
    if name == "static-rounds2":
        return lambda: baselines.static_redistributed(consumption, production, static, rounds=2)[0]
    if name == "dynamic":
        dynamic = inputs.dynamic
        assert dynamic is not None
        return lambda: baselines.dynamic(consumption, production, dynamic)
    if name == "full-dynamic":
        full_dynamic = inputs.full_dynamic
        assert full_dynamic is not None
        return lambda: baselines.full_dynamic(consumption, production, full_dynamic)
    raise ValueError(f"unknown key {name!r}")


def inputs_for(name: str, community: data.Community) -> Inputs:
    """Build the coefficient tables ``name`` needs (for report.py; pytest uses fixtures)."""
    need = needs(name)
    if need == "dynamic":
        return Inputs(community, dynamic=data.dynamic_coefficients(community))
    if need == "full_dynamic":
        return Inputs(community, full_dynamic=data.full_dynamic_coefficients(community))
    return Inputs(community)


def warm_jit(layouts: tuple[data.Layout, ...] = data.LAYOUTS) -> None:
    """Run every key once on the tiny community of each layout, labelled and plain: compiles
    every kernel of both paths, row-major and member-major (or loads it from Numba's on-disk
    cache), so that no timing includes a compilation."""
    for layout in layouts:
        community = data.community(data.TINY, layout=layout)
        for name in KEYS:
            inputs = inputs_for(name, community)
            run_allocate(name, inputs)()
            run_allocate_arrays(name, inputs)()
            run_share(name, inputs)()


def run_share(name: str, inputs: Inputs) -> Callable[[], object]:
    """The key's computation alone: ``key.share`` on the arrays, as ``allocate`` calls it.

    That is the Numba kernel, the allocation of its outputs and the key's own coefficient
    checks (Dynamic, FullDynamic), without the input boundary (no energy scan, no labels,
    no result object). Going through :meth:`SharingKey.share` rather than the kernels'
    signatures keeps this column working while the kernels change.
    """
    community = inputs.community
    C, P = community.consumption_array, community.production_array
    key = array_key(name, inputs)
    axis = Axis(C.shape[0], pd.RangeIndex(C.shape[1]), pd.RangeIndex(P.shape[1]))
    return lambda: key.share(Problem(C, P, axis))
