"""Numba settings, in one place.

Every kernel is compiled with :data:`parallel_kernel` (or :data:`serial_kernel` for the
small helpers called from inside a kernel). ``cache=True`` keeps the machine code on disk
between runs. ``fastmath`` allows re-association and contraction (faster sums) but not
``nnan``/``ninf``: NaN means "no key sent for this step" in dynamic keys, and the
comparisons that detect it must survive compilation.

Kernels never read mutable module globals: the cache would freeze their values.
"""

from __future__ import annotations

import numba

FASTMATH = {"nsz", "arcp", "contract", "afn", "reassoc"}

parallel_kernel = numba.njit(cache=True, parallel=True, fastmath=FASTMATH, nogil=True)
"""Decorator for kernels that loop over steps with ``numba.prange``."""

range_kernel = numba.njit(cache=True, fastmath=FASTMATH, nogil=True)
"""Decorator for kernels that compute a range ``[start, stop)`` of steps or chunks, serially
and without the GIL: :func:`repartition.kernels.threads.run_ranges` runs the parts of a
problem on several threads."""

numpy_range_kernel = numba.njit(cache=True, fastmath=FASTMATH, nogil=True, error_model="numpy")
"""Decorator for range kernels (:data:`range_kernel`) with NumPy's error model: a float
division by zero gives inf or NaN instead of raising ``ZeroDivisionError``. Python's model
checks every divisor, a branch out of the loop that keeps it from vectorising; a kernel
whose loops compute a quotient on every element (kept only where the divisor is positive)
needs this one."""

serial_kernel = numba.njit(cache=True, fastmath=FASTMATH, nogil=True, inline="always")
"""Decorator for row helpers called from inside a parallel kernel."""

EXACT_FASTMATH = {"nsz", "contract"}
"""For the water-filling: no re-association or reciprocals, so that a cap is computed as
written, ``(k / denominator) * numerator``, which cannot overflow for the consumers that
take part in the level."""

exact_parallel_kernel = numba.njit(cache=True, parallel=True, fastmath=EXACT_FASTMATH, nogil=True)
"""Decorator for the parallel water-filling kernels (see :data:`EXACT_FASTMATH`)."""

exact_serial_kernel = numba.njit(cache=True, fastmath=EXACT_FASTMATH, nogil=True, inline="always")
"""Decorator for the water-filling row helpers."""

strict_parallel_kernel = numba.njit(cache=True, parallel=True, nogil=True)
"""Decorator for kernels computed exactly as written (no fastmath at all): the "optimal"
prosumer key sums each step's terms in the same order in both memory layouts, so that both
find the same rounds to the last bit."""

strict_serial_kernel = numba.njit(cache=True, nogil=True)
"""Decorator for the row helpers of :data:`strict_parallel_kernel` kernels. Not inlined by
Numba (LLVM still may): inlining these nested helpers into each other made one kernel take
28 s to compile."""

strict_inline_kernel = numba.njit(cache=True, nogil=True, inline="always")
"""Decorator for the few-line helpers of :data:`strict_parallel_kernel` kernels that run in
their innermost loops, which must vectorise."""

prange = numba.prange
