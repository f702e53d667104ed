"""repartition.kernels.members: per-step sums over chunks of members, whatever the threads."""

from __future__ import annotations

import numba
import numpy as np
import pytest

from kernel_cases import (
    TIGHT_RTOL,
)
from repartition.kernels import members


@pytest.mark.parametrize("threads", [1, 2])
def test_member_sums_split_among_threads(threads) -> None:
    """Per-thread partial sums give the plain sum whatever the number of threads."""
    values = np.random.default_rng(13).random((7, 29))
    previous = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        sums = members.member_sums(values, numba.get_num_threads())
        np.testing.assert_allclose(sums, values.sum(axis=0), rtol=TIGHT_RTOL)
    finally:
        numba.set_num_threads(previous)
