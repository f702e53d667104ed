"""Work for ``test_process_models.py``: allocations run by threads, forked, forkserver and spawned
children, process pools and Dask workers, compared with the parent's.

A separate module (not the test module) so that spawned children import only numpy, pandas
and repartition. ``python process_work.py MODEL...`` is the parent: it allocates every case
itself first, on several threads (so a forked child inherits a process whose kernels and
thread pool have run), then has MODEL compute the same cases and prints one JSON line per
model: ``{"model": ..., "ok": ..., "detail": ...}``.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import multiprocessing
import sys
import time
import traceback
from collections.abc import Callable

import numpy as np
import pandas as pd

import repartition
from repartition import Allocation, allocate, keys

TIMEOUT = 60
"""Seconds any one wait may take: a hang fails instead of blocking."""

STEPS, CONSUMERS = 3_000, 400
"""1,200,000 cells: more than 2 x ``MIN_CELLS_PER_THREAD``, so that kernels are split."""

CASES = list(range(6))
"""Seeds; each picks data and a key (see :func:`case`)."""


def case(seed: int) -> tuple[pd.DataFrame, pd.DataFrame, keys.SharingKey]:
    """Consumption (member-major for odd seeds), production and a key, all from ``seed``."""
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-01-01", periods=STEPS, freq="30min", tz="Europe/Paris")
    columns = [f"c{i}" for i in range(CONSUMERS)]
    values = rng.gamma(1.0, 1.0, size=(STEPS, CONSUMERS))
    if seed % 2:
        consumption = pd.DataFrame({c: values[:, i] for i, c in enumerate(columns)}, index)
    else:
        consumption = pd.DataFrame(values, index, columns, copy=False)
    production = pd.DataFrame(rng.gamma(1.0, CONSUMERS / 3, size=(STEPS, 2)), index, ["pv0", "pv1"])
    shares = pd.Series(rng.dirichlet(np.ones(CONSUMERS)), index=columns)
    key = [
        keys.Prorata(),
        keys.Static(shares, redistribute=True),
        keys.EqualShare(),
        keys.Dynamic(pd.DataFrame(rng.dirichlet(np.ones(CONSUMERS), STEPS), index, columns)),
        keys.EconomicGreedy(pd.Series(np.round(rng.uniform(0, 0.1, CONSUMERS), 2), columns)),
        keys.ProsumerKey(shares, "optimal", {"pv0": "c0", "pv1": "c1"}),
    ][seed % 6]
    return consumption, production, key


def digest(result: Allocation) -> str:
    """SHA-256 of AUTOCONS, COMPLEMENT, AUTOPROD and SURPLUS: equal exactly when the bits are."""
    hasher = hashlib.sha256()
    arrays = result.arrays
    for table in (arrays.allocated, arrays.grid_supply, arrays.self_consumed, arrays.surplus):
        hasher.update(np.ascontiguousarray(table).tobytes())
    return hasher.hexdigest()


def allocation(seed: int, threads: int | None = None) -> Allocation:
    consumption, production, key = case(seed)
    return allocate(consumption, production, key, threads=threads)


def work(seed: int) -> str:
    """The task every model runs: allocate case ``seed`` and return its digest."""
    return digest(allocation(seed))


def work_one_thread(seed: int) -> str:
    return digest(allocation(seed, threads=1))


def _child(seed: int, queue: multiprocessing.Queue) -> None:
    queue.put((seed, work(seed)))


def by_process(method: str) -> dict[int, str]:
    """One ``multiprocessing.Process`` per case, made with ``method``."""
    context = multiprocessing.get_context(method)
    queue = context.Queue()
    children = [context.Process(target=_child, args=(seed, queue)) for seed in CASES[:2]]
    for child in children:
        child.start()
    found = dict(queue.get(timeout=TIMEOUT) for _ in children)
    for child in children:
        child.join(TIMEOUT)
        if child.exitcode != 0:
            raise RuntimeError(f"a {method} child ended with {child.exitcode}")
    return found


def by_executor(method: str) -> dict[int, str]:
    context = multiprocessing.get_context(method)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        futures = {seed: pool.submit(work, seed) for seed in CASES}
        return {seed: future.result(timeout=TIMEOUT) for seed, future in futures.items()}


def by_pool(method: str) -> dict[int, str]:
    with multiprocessing.get_context(method).Pool(2) as pool:
        return dict(zip(CASES, pool.map_async(work, CASES).get(timeout=TIMEOUT), strict=True))


def by_dask() -> dict[int, str]:
    """A local Dask cluster, 2 worker processes of 1 thread each; the tasks return
    ``Allocation`` objects, pickled back to the parent."""
    from dask.distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=50,
        ) as cluster,
        Client(cluster, timeout=TIMEOUT) as client,
    ):
        futures = {
            seed: client.submit(allocation, seed, 1 if seed % 2 else None, pure=False)
            for seed in CASES
        }
        results = {seed: future.result(timeout=TIMEOUT) for seed, future in futures.items()}
    for result in results.values():
        assert isinstance(result, Allocation)
        assert not result.arrays.allocated.flags.writeable
    return {seed: digest(result) for seed, result in results.items()}


MODELS: dict[str, Callable[[], dict[int, str]]] = {
    "fork": lambda: by_process("fork"),
    "forkserver": lambda: by_process("forkserver"),
    "spawn": lambda: by_process("spawn"),
    "executor-fork": lambda: by_executor("fork"),
    "executor-spawn": lambda: by_executor("spawn"),
    "pool-fork": lambda: by_pool("fork"),
    "dask": by_dask,
}


def main(models: list[str]) -> None:
    with concurrent.futures.ThreadPoolExecutor(2) as threads:  # the parent's own pool runs too
        expected = dict(zip(CASES, threads.map(work, CASES), strict=True))
    assert repartition.get_threads() >= 1
    for model in models:
        start = time.perf_counter()
        try:
            found = MODELS[model]()
            ok = all(found[seed] == expected[seed] for seed in found) and bool(found)
            detail = "" if ok else f"differ: {sorted(s for s in found if found[s] != expected[s])}"
        except Exception:
            ok, detail = False, traceback.format_exc(limit=4)
        seconds = round(time.perf_counter() - start, 1)
        print(json.dumps({"model": model, "ok": ok, "detail": detail, "seconds": seconds}))
        sys.stdout.flush()


if __name__ == "__main__":
    main(sys.argv[1:])
