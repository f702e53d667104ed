"""``allocate`` in every process model a server or a batch job uses, started for real.

Many threads of one process at once; children made with ``fork`` after the parent has run
its kernels (the case that used to kill the child under Numba's OpenMP layer), with
``forkserver`` and ``spawn``; ``ProcessPoolExecutor`` (fork and spawn), ``multiprocessing.Pool``
and a local Dask cluster (2 worker processes of 1 thread) returning ``Allocation`` objects.
Each compares its results, bit for bit, with the parent's. The process models run in one
fresh parent process (``process_work.py``), as a server's would: a pytest process has
imported and run much else. No kernel uses Numba's OpenMP threads (a forked child of a
process that did died when it ran them: the last test checks FullDynamic, the last kernel
converted). Every wait has a timeout, so a hang fails instead of blocking.
"""

from __future__ import annotations

import concurrent.futures
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import process_work
import repartition
from repartition.kernels import threads as kernel_threads

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def test_the_cases_are_large_enough_for_the_kernels_to_be_split() -> None:
    cells = process_work.STEPS * process_work.CONSUMERS
    assert kernel_threads.parts_for(process_work.STEPS, cells) == min(
        2, kernel_threads.get_threads()
    )
    assert cells >= 2 * kernel_threads.MIN_CELLS_PER_THREAD


def run_parent(*arguments: str, timeout: float = 150) -> subprocess.CompletedProcess[str]:
    path = os.pathsep.join([str(HERE), str(ROOT / "src"), *sys.path])
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=HERE,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="module")
def models() -> dict[str, dict[str, object]]:
    """Every process model, run once by a fresh parent process; one report per model."""
    names = [
        name
        for name in process_work.MODELS
        if name != "dask" or importlib.util.find_spec("distributed") is not None
    ]
    done = run_parent("-c", f"import process_work; process_work.main({names})")
    assert done.returncode == 0, done.stderr[-4000:]
    reports = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return {report["model"]: report for report in reports}


@pytest.mark.parametrize("model", list(process_work.MODELS))
def test_each_process_model_gives_the_parents_results(models, model) -> None:
    if model == "dask" and importlib.util.find_spec("distributed") is None:
        pytest.skip('Dask is not installed: pip install -e ".[distributed]"')
    report = models[model]
    assert report["ok"], report["detail"]


def test_eight_threads_at_once_give_the_serial_results() -> None:
    """8 threads call ``allocate`` at once, each on its own data and key, each also using
    the kernels' own pool: the results are those of the same calls one after the other."""
    seeds = list(range(8))
    serial = {seed: process_work.work(seed) for seed in seeds}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        futures = {seed: pool.submit(process_work.work, seed) for seed in seeds}
        found = {
            seed: future.result(timeout=process_work.TIMEOUT) for seed, future in futures.items()
        }
    assert found == serial
    assert repartition.get_threads() >= 1


def test_full_dynamic_in_a_child_forked_after_the_parent_ran_it() -> None:
    """No kernel uses Numba's OpenMP threads any more, FullDynamic's included: a child
    forked after the parent ran it runs it too (it used to die, "fork() called from a
    process already using GNU OpenMP")."""
    code = """
import multiprocessing, numpy as np, pandas as pd
from repartition import allocate, keys
index = pd.date_range("2025-01-01", periods=3000, freq="30min", tz="UTC")
C = pd.DataFrame(np.random.default_rng(0).random((3000, 200)), index)
P = pd.DataFrame(np.ones((3000, 2)), index, ["a", "b"])
table = pd.DataFrame(np.full((3000, 200), 0.004), index, C.columns)
def run():
    allocate(C, P, keys.FullDynamic({"a": table, "b": table}))
if __name__ == "__main__":
    run()
    child = multiprocessing.get_context("fork").Process(target=run)
    child.start()
    child.join(60)
    assert child.exitcode == 0, child.exitcode
"""
    done = run_parent("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
