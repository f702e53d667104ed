"""repartition.kernels.threads: ranges split over threads, the per-context setting, and
every key's results bit for bit the same on any number of threads.

The ``threads`` fixture (conftest.py) sets ``MIN_CELLS_PER_THREAD`` to 1, so that even these
small problems are split and every part boundary is crossed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import repartition
from kernel_cases import community
from repartition import allocate, allocate_arrays, keys
from repartition.kernels import threads as kernel_threads

ROOT = Path(__file__).resolve().parent.parent


# --- run_ranges ---------------------------------------------------------------------------


def recorder():
    """A stand-in kernel that records each part it is given, and where it ran."""
    calls: list[tuple[int, int, str]] = []
    lock = threading.Lock()

    def kernel(tag, start, stop):
        assert tag == "argument"
        with lock:
            calls.append((start, stop, threading.current_thread().name))

    return kernel, calls


@pytest.mark.parametrize("threads", [1, 2, 3, 4], indirect=True)
@pytest.mark.parametrize("count", [1, 2, 7, 100])
def test_run_ranges_covers_each_item_once_first_part_in_the_caller(threads, count) -> None:
    kernel, calls = recorder()
    kernel_threads.run_ranges(kernel, count, 10**9, "argument")
    calls.sort()
    assert len(calls) == min(threads, count)
    assert calls[0][0] == 0
    assert calls[-1][1] == count
    assert all(calls[n][1] == calls[n + 1][0] for n in range(len(calls) - 1))
    here = threading.current_thread().name
    assert calls[0][2] == here
    assert all(name == here or name.startswith("repartition") for _, _, name in calls[1:])


def test_small_problems_run_in_the_calling_thread() -> None:
    """Below ``MIN_CELLS_PER_THREAD`` cells per thread, no hand-off: one part, here."""
    kernel, calls = recorder()
    with repartition.threads(4):
        kernel_threads.run_ranges(
            kernel, 1000, 2 * kernel_threads.MIN_CELLS_PER_THREAD - 1, "argument"
        )
        assert calls == [(0, 1000, threading.current_thread().name)]
        kernel_threads.run_ranges(kernel, 1000, 3 * kernel_threads.MIN_CELLS_PER_THREAD, "argument")
    assert len(calls) == 1 + 3


def test_a_failing_part_raises_in_the_caller(monkeypatch) -> None:
    monkeypatch.setattr(kernel_threads, "MIN_CELLS_PER_THREAD", 1)

    def kernel(start, stop):
        if start > 0:
            raise RuntimeError(f"part {start}")

    with repartition.threads(2), pytest.raises(RuntimeError, match="part 5"):
        kernel_threads.run_ranges(kernel, 10, 10)


def test_no_part_still_runs_when_a_failing_part_is_raised(monkeypatch) -> None:
    """A part that fails is raised only once every other part has ended (they may write
    the caller's buffers)."""
    import time

    monkeypatch.setattr(kernel_threads, "MIN_CELLS_PER_THREAD", 1)
    ended: list[int] = []

    def kernel(start, stop):
        if start == 0:
            raise RuntimeError("the caller's part failed")
        time.sleep(0.2)
        ended.append(start)

    with repartition.threads(3), pytest.raises(RuntimeError, match="caller's part"):
        kernel_threads.run_ranges(kernel, 3, 3)
    # Parts that had begun have ended; parts that had not were withdrawn: none runs later.
    seen = list(ended)
    time.sleep(0.5)
    assert ended == seen
    assert set(seen) <= {1, 2}


def test_a_part_may_itself_run_ranges(monkeypatch) -> None:
    """Nested: a part that splits its own work does not wait for a pool thread it holds."""
    monkeypatch.setattr(kernel_threads, "MIN_CELLS_PER_THREAD", 1)
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def inner(start, stop):
        with lock:
            seen.append((start, stop))

    def outer(start, stop):
        kernel_threads.run_ranges(inner, 4, 4)

    done = threading.Event()

    def call() -> None:
        with repartition.threads(2):
            kernel_threads.run_ranges(outer, 2, 2)
        done.set()

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    assert done.wait(30), "nested run_ranges deadlocked"
    assert len(seen) >= 2


def test_the_pool_grows_while_other_threads_use_it(monkeypatch) -> None:
    """Threads asking for more and more parts at once: a larger pool replaces the smaller
    one without breaking a caller that holds it."""
    monkeypatch.setattr(kernel_threads, "MIN_CELLS_PER_THREAD", 1)
    errors: list[BaseException] = []

    def kernel(start, stop):
        pass

    def call(count: int) -> None:
        try:
            for _ in range(50):
                with repartition.threads(count):
                    kernel_threads.run_ranges(kernel, count, count)
        except BaseException as error:
            errors.append(error)

    callers = [threading.Thread(target=call, args=(count,)) for count in range(2, 10)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(60)
    assert not errors


# --- the setting --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [0, -1])
def test_threads_refuses_fewer_than_one(count) -> None:
    with pytest.raises(ValueError, match="whole number >= 1"):
        repartition.threads(count)


@pytest.mark.parametrize("count", [1.5, 2.0, "2", None, True])
def test_threads_refuses_what_is_not_a_whole_number(count) -> None:
    with pytest.raises(TypeError, match="whole number >= 1"):
        repartition.threads(count)


def test_allocate_checks_threads_before_computing() -> None:
    with pytest.raises(ValueError, match="whole number >= 1"):
        allocate_arrays(np.ones((2, 2)), np.ones(2), keys.Prorata(), threads=0)


def test_threads_nest_and_restore() -> None:
    default = repartition.get_threads()
    with repartition.threads(np.int64(3)):
        assert repartition.get_threads() == 3
        with repartition.threads(1):
            assert repartition.get_threads() == 1
        assert repartition.get_threads() == 3
    assert repartition.get_threads() == default


def test_the_setting_belongs_to_each_thread() -> None:
    seen = []
    with repartition.threads(1):
        worker = threading.Thread(target=lambda: seen.append(repartition.get_threads()))
        worker.start()
        worker.join()
        assert repartition.get_threads() == 1
    assert seen == [kernel_threads.get_threads()]


def test_default_is_the_environment_else_the_cores(monkeypatch) -> None:
    monkeypatch.setenv("REPARTITION_NUM_THREADS", "3")
    assert repartition.get_threads() == 3
    for ignored in ("0", "many", ""):
        monkeypatch.setenv("REPARTITION_NUM_THREADS", ignored)
        assert repartition.get_threads() == kernel_threads.available_threads()
    monkeypatch.delenv("REPARTITION_NUM_THREADS")
    assert repartition.get_threads() == len(os.sched_getaffinity(0))


def test_threads_1_never_starts_a_thread() -> None:
    """In a fresh process: with ``threads(1)`` every key runs in the calling thread (no pool,
    no other thread), on data large enough to be split otherwise; the default then starts
    the pool."""
    code = textwrap.dedent(
        """
        import threading
        import numpy as np
        import repartition
        from repartition import allocate_arrays, keys
        from repartition.kernels import threads as kernel_threads

        rng = np.random.default_rng(1)
        C = rng.random((4000, 300))
        P = rng.random((4000, 2)) * 50
        k = np.full(300, 1 / 300)
        before = threading.active_count()
        with repartition.threads(1):
            for key in (keys.Prorata(), keys.Static(k), keys.Static(k, redistribute=True)):
                allocate_arrays(C, P, key)
                allocate_arrays(np.asfortranarray(C), P, key)
        assert threading.active_count() == before, threading.enumerate()
        assert kernel_threads._POOL is None
        allocate_arrays(C, P, keys.Prorata(), threads=2)
        assert kernel_threads._POOL is not None
        assert threading.active_count() == before + 1, threading.enumerate()
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), *sys.path])},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "ok"


# --- every key, any number of threads -----------------------------------------------------


def every_key(consumers: pd.Index, producers: pd.Index, index: pd.DatetimeIndex):
    rng = np.random.default_rng(5)
    shares = pd.Series(rng.dirichlet(np.ones(len(consumers))) * 0.9, index=consumers)
    table = pd.DataFrame(
        rng.dirichlet(np.ones(len(consumers)), size=len(index)) * 0.95, index, consumers
    )
    sent = np.broadcast_to((np.arange(len(index)) % 4 != 1)[:, None], table.shape)
    values = pd.Series(np.round(rng.uniform(-0.02, 0.1, len(consumers)), 2), index=consumers)
    values.iloc[::3] = 0.05
    owners = {producer: consumers[j] for j, producer in enumerate(producers)}
    half = len(consumers) // 2
    return {
        "prorata": keys.Prorata(),
        "static": keys.Static(shares),
        "static 2 rounds": keys.Static(shares, rounds=2),
        "static redistributed": keys.Static(shares, redistribute=True),
        "dynamic": keys.Dynamic(table.where(sent)),
        "full dynamic": keys.FullDynamic({p: table * 0.5 for p in producers}),
        "equal share": keys.EqualShare(),
        "weighted share": keys.WeightedShare(shares + 0.01),
        "spanish": keys.SpanishKey(shares / shares.sum()),
        "italian": keys.ItalianKey(pd.Series(range(len(producers)), index=producers)),
        "cascade": keys.PriorityCascade(
            [
                ("first", list(consumers[:half]), keys.Prorata()),
                ("rest", list(consumers[half:]), keys.EqualShare()),
            ]
        ),
        "greedy": keys.EconomicGreedy(values),
        "greedy per step": keys.EconomicGreedy(
            pd.DataFrame(np.round(rng.uniform(0, 0.1, table.shape), 2), index, consumers)
        ),
        "prosumer fixed": keys.ProsumerKey(shares, "fixed", owners),
        "prosumer relative": keys.ProsumerKey(shares, "relative", owners),
        "prosumer optimal": keys.ProsumerKey(shares, "optimal", owners),
    }


@pytest.mark.parametrize("threads", [2, 3, 4], indirect=True)
@pytest.mark.parametrize("layout", ["rows", "members"])
def test_every_key_gives_the_same_bits_on_any_number_of_threads(threads, layout) -> None:
    C, P = community(31, 97, 41, 3)
    index = pd.date_range("2025-03-29 20:00", periods=97, freq="30min", tz="Europe/Paris")
    consumers = pd.Index([f"c{i}" for i in range(41)])
    producers = pd.Index(["p0", "p1", "p2"])
    if layout == "rows":
        consumption = pd.DataFrame(np.ascontiguousarray(C), index, consumers, copy=False)
    else:
        consumption = pd.DataFrame({c: C[:, i].copy() for i, c in enumerate(consumers)}, index)
    production = pd.DataFrame(P, index, producers)
    for name, key in every_key(consumers, producers, index).items():
        one = allocate(consumption, production, key, threads=1)
        many = allocate(consumption, production, key)
        for table in ("allocated", "grid_supply", "self_consumed", "surplus"):
            np.testing.assert_array_equal(
                getattr(many.arrays, table), getattr(one.arrays, table), err_msg=f"{name} {table}"
            )
        with repartition.threads(1):
            flows_one = one.flows("D").to_numpy()
        np.testing.assert_array_equal(many.flows("D").to_numpy(), flows_one, err_msg=name)
