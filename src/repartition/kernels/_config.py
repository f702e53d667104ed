"""Numba settings, in one place.

Every kernel is a serial function compiled with :data:`range_kernel` (or its exact and
strict twins) that computes a range of steps or chunks without the GIL, which
:func:`repartition.kernels.threads.run_ranges` splits over Python threads; the small helpers
called from inside a kernel use :data:`serial_kernel` (and twins). ``cache=True`` keeps the
machine code on disk between runs. ``fastmath`` allows re-association and contraction
(faster sums) but not ``nnan``/``ninf``: NaN means "no key sent for this step" in dynamic
keys, and the comparisons that detect it must survive compilation.

Kernels never read mutable module globals: the cache would freeze their values.

A function compiled as the callee of another inherits the options it does not set itself
(Numba's ``inherit_if_not_set``: ``fastmath``, ``error_model``): a helper that must run without
fastmath says ``fastmath=False``, or a fastmath caller would compile it, and cache it, with
the caller's flags (a quotient of huge numbers then came out infinite).

A hot loop runs from 0 over a slice (``part = values[start:stop]``, then ``for position in
range(part.size)``), not from ``start`` to ``stop`` over the whole array: Numba's index may
be negative (it then counts from the end), and LLVM can prove it is not, and drop the test
that keeps the loop from vectorising, only for a loop that starts at 0. The energy scan of a
year x 100 members took 0.77 ms written the second way and 0.18 ms the first (one thread).
"""

from __future__ import annotations

import numba
import numba.typed

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

range_kernel = numba.njit(cache=True, fastmath=FASTMATH, nogil=True, error_model="numpy")
"""Decorator for kernels that compute a range ``[start, stop)`` of steps or chunks, serially
and without the GIL: :func:`repartition.kernels.threads.run_ranges` runs the parts of a
problem on several threads. Also for the serial kernels their Python drivers call
(adding per-chunk sums in order, say).

``error_model="numpy"``, as Numba compiles the body of a ``prange`` loop: a division by zero
gives inf or NaN instead of raising, so no check is emitted and loops that divide can
vectorise (without it, the Shapley marginals ran 3 to 5 times slower and their sums moved
in the last bits). What a ``prange`` body also had and a range kernel has not: Numba
declares its array arguments ``noalias`` to LLVM, which could then vectorise loops that
store through an index array (the greedy's groups), re-associating their sums."""

numpy_range_kernel = numba.njit(cache=True, fastmath=FASTMATH, nogil=True, error_model="numpy")
"""Decorator for range kernels (:data:`range_kernel`) with NumPy's error model: a float
division by zero gives inf or NaN instead of raising ``ZeroDivisionError``. Python's model
checks every divisor, a branch out of the loop that keeps it from vectorising; a kernel
whose loops compute a quotient on every element (kept only where the divisor is positive)
needs this one."""

serial_kernel = numba.njit(cache=True, fastmath=FASTMATH, nogil=True, inline="always")
"""Decorator for row helpers called from inside a kernel."""

EXACT_FASTMATH = {"nsz", "contract"}
"""For the water-filling: no re-association or reciprocals, so that a cap is computed as
written, ``(k / denominator) * numerator``, which cannot overflow for the consumers that
take part in the level."""

exact_range_kernel = numba.njit(
    cache=True, fastmath=EXACT_FASTMATH, nogil=True, error_model="numpy"
)
""":data:`range_kernel` with :data:`EXACT_FASTMATH`: the water-filling kernels and the
pooled production, whose sums run in the order written."""

exact_serial_kernel = numba.njit(cache=True, fastmath=EXACT_FASTMATH, nogil=True, inline="always")
"""Decorator for the water-filling row helpers."""

strict_range_kernel = numba.njit(cache=True, nogil=True, error_model="numpy", fastmath=False)
""":data:`range_kernel` without any fastmath: the "optimal" prosumer key sums each step's
terms in the same order in both memory layouts, so that both find the same rounds to the
last bit."""

strict_serial_kernel = numba.njit(cache=True, nogil=True, fastmath=False)
"""Decorator for the row helpers of :data:`strict_range_kernel` kernels. Not inlined by
Numba (LLVM still may): inlining these nested helpers into each other made one kernel take
28 s to compile."""

strict_inline_kernel = numba.njit(cache=True, nogil=True, inline="always", fastmath=False)
"""Decorator for the few-line helpers of :data:`strict_range_kernel` kernels that run in
their innermost loops, which must vectorise."""

container_function = numba.njit(cache=True, nogil=True)
"""Decorator for the small functions, called from Python, that build a Numba container
(:data:`TypedList`) for the kernels: compiled once and cached like them, so that a process
that loads the kernels from the cache need not compile the container's methods either."""

TypedList = numba.typed.List
"""Numba's typed list: one type whatever its length (a tuple's length is part of its type)."""
