"""repartition.kernels.members: per-step sums over chunks of members, whatever the threads."""

from __future__ import annotations

import numpy as np
import pytest

import repartition
from kernel_cases import (
    TIGHT_RTOL,
)
from repartition.kernels import members


@pytest.mark.parametrize("threads", [1, 2, 3], indirect=True)
@pytest.mark.parametrize("chunks", [1, 2, members.CHUNKS])
def test_member_sums_split_among_threads(threads, chunks) -> None:
    """Per-chunk partial sums give the plain sum, and the same bits, whatever the number of
    threads."""
    values = np.random.default_rng(13).random((37, 29))
    sums = members.member_sums(values, chunks)
    np.testing.assert_allclose(sums, values.sum(axis=0), rtol=TIGHT_RTOL)
    with repartition.threads(1):
        np.testing.assert_array_equal(sums, members.member_sums(values, chunks))
