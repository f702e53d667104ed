"""Threads for the kernels: a pool of Python threads running compiled kernels on ranges.

Every kernel is a serial Numba function that releases the GIL (``nogil``) and works on a
range of steps, or of chunks of members: :func:`run_ranges` splits the range in parts, runs
the first part in the calling thread and the others on a pool of Python threads (or in the
calling thread, when it is free before a pool thread has started), and waits.
Numba's own parallel backends (``parallel=True`` with OpenMP, TBB or workqueue) are not
used, because:

- a process forked after an OpenMP-backed call dies ("fork() called from a process already
  using GNU OpenMP"), which breaks gunicorn ``--preload``, Celery prefork and every
  fork-based pool; the workqueue backend aborts when two threads call a kernel at once;
  TBB is a large binary dependency. Python threads are safe in every process model: a
  forked child starts with no pool and makes its own (:func:`os.register_at_fork`);
- parallel kernels take 3 to 4 times longer to compile (the parfor passes), and the first
  call of a key in a fresh environment pays it;
- the number of threads is then a plain per-context setting (:func:`threads`), and small
  problems run in the calling thread without any hand-off.

The split never changes a result: each part computes its own steps (or its own chunks of
members, whose sums are added in chunk order afterwards) exactly as a single part would.
"""

from __future__ import annotations

import contextlib
import contextvars
import operator
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

__all__ = ["MIN_CELLS_PER_THREAD", "available_threads", "get_threads", "run_ranges", "threads"]

MIN_CELLS_PER_THREAD = 1 << 19
"""Least work (cells: steps x members) worth handing to each thread: a problem is split in
as many parts as it holds this many cells, at most one per thread, so that a split needs
twice this (1,048,576 cells: a year at 30 min of 60 members). A kernel that does more per
cell than one pass (the row-major water-filling) counts its work as a multiple of its
cells. Measured (``benchmarks/threads.py``, *When a second thread pays*): two threads cost
more than one below about a million cells for Prorata and Dynamic (a year of 33 members:
1.0x to 1.2x), and paid at 1.75 million (a year of 100 members: 0.64x to 1.1x). See
docs/performance.md, "Threads and processes"."""

_CHOSEN: contextvars.ContextVar[int | None] = contextvars.ContextVar(
    "repartition_threads", default=None
)
_LOCK = threading.Lock()
_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0


def available_threads() -> int:
    """The cores this process may run on (its CPU affinity, else the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _from_environment() -> int | None:
    text = os.environ.get("REPARTITION_NUM_THREADS")
    if not text:
        return None
    try:
        count = int(text)
    except ValueError:
        return None
    return count if count >= 1 else None


def get_threads() -> int:
    """The number of threads the kernels called here may use.

    Returns
    -------
    int
        The count of the innermost :func:`threads` block of the current thread (or asyncio
        task); outside any block, the environment variable ``REPARTITION_NUM_THREADS`` (a
        whole number >= 1), else :func:`available_threads`, the cores this process may run
        on.

    See Also
    --------
    threads : set it for a block of code.

    Examples
    --------
    >>> import repartition
    >>> with repartition.threads(1):
    ...     repartition.get_threads()
    1
    """
    chosen = _CHOSEN.get()
    if chosen is not None:
        return chosen
    return _from_environment() or available_threads()


def _checked(count: Any) -> int:
    if isinstance(count, bool):
        raise TypeError(f"threads takes a whole number >= 1, not {count!r}.")
    try:
        whole = operator.index(count)
    except TypeError:
        raise TypeError(
            f"threads takes a whole number >= 1, not {count!r} ({type(count).__name__})."
        ) from None
    if whole < 1:
        raise ValueError(
            f"threads takes a whole number >= 1, not {whole}: 1 runs every kernel in the "
            "calling thread."
        )
    return whole


def threads(count: int) -> contextlib.AbstractContextManager[None]:
    """Run the kernels called inside the block on at most ``count`` threads.

    Parameters
    ----------
    count : int
        Threads per kernel call, the calling thread included: 1 runs every kernel in the
        calling thread and never starts a thread. A problem smaller than
        ``MIN_CELLS_PER_THREAD`` cells (steps x members) per thread uses fewer.

    Returns
    -------
    context manager
        Sets the count on entry and restores the previous one on exit.

    Raises
    ------
    TypeError
        When ``count`` is not a whole number (``True`` and ``2.0`` included).
    ValueError
        When ``count`` is below 1.

    Notes
    -----
    The setting belongs to the current thread (and asyncio task, as a
    :mod:`contextvars` variable): other threads keep theirs, so a web server's request
    threads or a thread pool's workers each choose for themselves. Outside any block the
    count is :func:`get_threads`'s default, the cores the process may use. Where processes
    already fill the cores (a process pool, gunicorn or Celery workers, a Dask worker per
    core), ``threads(1)`` in each is the fastest: see docs/performance.md, "Threads and
    processes". :func:`repartition.allocate` and :func:`repartition.allocate_arrays` take
    the same setting per call (``threads=``).

    Examples
    --------
    >>> import numpy as np
    >>> import repartition
    >>> with repartition.threads(1):
    ...     result = repartition.allocate_arrays(
    ...         np.array([[1.0, 3.0]]), np.array([2.0]), repartition.keys.Prorata()
    ...     )
    >>> result.allocated
    array([[0.5, 1.5]])
    """
    return _block(_checked(count))


@contextlib.contextmanager
def _block(count: int) -> Iterator[None]:
    token = _CHOSEN.set(count)
    try:
        yield
    finally:
        _CHOSEN.reset(token)


def _pool(workers: int) -> ThreadPoolExecutor:
    """The shared pool, with at least ``workers`` threads (made on first use)."""
    global _POOL, _POOL_SIZE
    with _LOCK:
        if _POOL is None or workers > _POOL_SIZE:
            # A larger pool replaces the smaller one, which is never shut down: another
            # caller may hold it and be about to submit. Its idle threads end with it.
            _POOL = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="repartition")
            _POOL_SIZE = workers
        return _POOL


def _forget_pool() -> None:
    """In a forked child: the parent's threads do not exist there; make a new pool on use."""
    global _POOL, _POOL_SIZE, _LOCK
    _POOL, _POOL_SIZE, _LOCK = None, 0, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def parts_for(count: int, cells: int) -> int:
    """How many parts ``count`` items (steps or chunks) holding ``cells`` cells are split in."""
    by_work = max(1, cells // MIN_CELLS_PER_THREAD)
    return max(1, min(get_threads(), count, by_work))


def run_ranges(kernel: Callable[..., Any], count: int, cells: int, *arguments: Any) -> None:
    """Call ``kernel(*arguments, start, stop)`` on parts of ``range(count)``, in parallel.

    Parameters
    ----------
    kernel : callable
        A compiled kernel releasing the GIL, computing items ``[start, stop)``; no two parts
        may write the same cell.
    count : int
        Items to compute (steps, or chunks of members).
    cells : int
        The work they hold (e.g. steps x members), which decides whether other threads are
        worth it (:data:`MIN_CELLS_PER_THREAD`).
    arguments
        The kernel's arguments before ``start, stop``.

    Notes
    -----
    The parts are fixed by ``count`` and the number of threads, not by who runs them: the
    calling thread computes the first part, then takes the next part left until none is,
    and so does each pool thread once it starts. When the pool's threads are late (the
    cores are busy with other processes, or other callers' parts queue before them), the
    caller computes the parts itself instead of waiting, and the pool's tasks that have not
    begun are withdrawn.
    """
    parts = parts_for(count, cells)
    if parts == 1:
        kernel(*arguments, 0, count)
        return
    bounds = [count * part // parts for part in range(parts + 1)]
    following = [1]  # the next part nobody has taken; the first is the caller's
    lock = threading.Lock()

    def take_parts() -> None:
        while True:
            with lock:
                part = following[0]
                following[0] = part + 1
            if part >= parts:
                return
            kernel(*arguments, bounds[part], bounds[part + 1])

    pool = _pool(parts - 1)
    futures: list[Future[Any]] = [pool.submit(take_parts) for _ in range(parts - 1)]
    begun: list[Future[Any]] = []
    try:
        kernel(*arguments, bounds[0], bounds[1])
        take_parts()
    finally:
        # Never return (nor raise) while a part may still be writing: wait for every task
        # that has begun; the caller's own error, if any, is the one raised.
        begun = [future for future in futures if not future.cancel()]
        wait(begun)
    for future in begun:
        future.result()  # a part's error, raised once every part has ended
