"""Both memory layouts through the public API: the same results, in the input's layout.

A frame stored member by member (pandas' usual layout) and one stored step by step go
through each rule's ``run()`` to its member-major and its row-major kernels; the results
agree, come back in the input's layout, and do not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel_cases import (
    TIGHT_RTOL,
    community,
)
from repartition import allocate, allocate_arrays, keys
from repartition.kernels.layout import empty_pair, is_by_member


def key_for(name: str, consumers: list[str], producers: list[str], index: pd.DatetimeIndex):
    rng = np.random.default_rng(11)
    shares = pd.Series(rng.dirichlet(np.ones(len(consumers))) * 0.9, index=consumers)
    table = pd.DataFrame(
        rng.dirichlet(np.ones(len(consumers)), size=len(index)) * 0.95,
        index=index,
        columns=consumers,
    )
    sent = np.broadcast_to((np.arange(len(index)) % 4 != 1)[:, None], table.shape)
    return {
        "prorata": keys.Prorata(),
        "static": keys.Static(shares),
        "rounds": keys.Static(shares, rounds=2),
        "limit": keys.Static(shares, redistribute=True),
        "dynamic": keys.Dynamic(table.where(sent)),
        "full dynamic": keys.FullDynamic({p: table * 0.5 for p in producers}),
    }[name]


@pytest.mark.parametrize(
    "name", ["prorata", "static", "rounds", "limit", "dynamic", "full dynamic"]
)
@given(seed=st.integers(0, 2**16), steps=st.integers(1, 60), consumers=st.integers(1, 12))
def test_both_layouts_give_the_same_allocation(name, seed, steps, consumers) -> None:
    """A frame stored member by member (pandas' usual layout) and one stored step by step
    (built from a C-ordered array with ``copy=False``) give the same results."""
    C, P = community(seed, steps, consumers, 2)
    index = pd.date_range("2025-10-25 20:00", periods=steps, freq="30min", tz="Europe/Paris")
    columns = [f"c{i}" for i in range(consumers)]
    by_step = pd.DataFrame(np.ascontiguousarray(C), index=index, columns=columns, copy=False)
    by_member_frame = pd.DataFrame(
        {column: C[:, i].copy() for i, column in enumerate(columns)}, index=index
    )
    production = pd.DataFrame(P, index=index, columns=["p0", "p1"])
    key = key_for(name, columns, ["p0", "p1"], index)
    first = allocate(by_step, production, key)
    second = allocate(by_member_frame, production, key)
    if consumers > 1 and steps > 1:
        assert not is_by_member(first.arrays.allocated)
        assert is_by_member(second.arrays.allocated)
    scale = C.max(initial=0.0) + P.sum(axis=1).max(initial=0.0) + 1.0
    for attribute in ("allocated", "grid_supply", "self_consumed", "surplus"):
        np.testing.assert_allclose(
            getattr(second, attribute).to_numpy(),
            getattr(first, attribute).to_numpy(),
            rtol=TIGHT_RTOL,
            atol=TIGHT_RTOL * scale,
            err_msg=attribute,
        )
    np.testing.assert_allclose(second.flows().to_numpy(), first.flows().to_numpy(), rtol=1e-9)


def test_array_api_takes_either_layout() -> None:
    C, P = community(12, 40, 6, 2)
    row_major = allocate_arrays(np.ascontiguousarray(C), P, keys.Prorata())
    column_major = allocate_arrays(np.asfortranarray(C), P, keys.Prorata())
    np.testing.assert_allclose(column_major.allocated, row_major.allocated, rtol=TIGHT_RTOL)


@pytest.mark.parametrize("threads", [3], indirect=True)
@pytest.mark.parametrize("name", ["prorata", "static", "limit", "dynamic"])
def test_results_do_not_depend_on_the_number_of_threads(name, threads) -> None:
    """Members are summed in a fixed number of chunks: 1 and 3 threads give the same bits
    (the ``threads`` fixture splits even this small problem)."""
    C, P = community(14, 30, 40, 2)
    index = pd.date_range("2025-06-01", periods=30, freq="30min", tz="Europe/Paris")
    columns = [f"c{i}" for i in range(40)]
    frame = pd.DataFrame({column: C[:, i].copy() for i, column in enumerate(columns)}, index)
    production = pd.DataFrame(P, index=index, columns=["p0", "p1"])
    key = key_for(name, columns, ["p0", "p1"], index)
    one = allocate(frame, production, key, threads=1)
    many = allocate(frame, production, key)
    assert is_by_member(one.arrays.allocated)
    np.testing.assert_array_equal(one.allocated.to_numpy(), many.allocated.to_numpy())
    np.testing.assert_array_equal(one.self_consumed.to_numpy(), many.self_consumed.to_numpy())


def test_flows_reject_bad_boundaries() -> None:
    C, P = community(16, 4, 2, 1)
    result = allocate_arrays(C, P, keys.Prorata())
    for boundaries in ([2], [0, 3, 1], [0, 4], [[0]]):
        with pytest.raises(ValueError, match="boundaries"):
            result.flows(np.array(boundaries))
    np.testing.assert_allclose(result.flows(np.array([0, 2])).sum(), result.allocated.sum())


@pytest.mark.parametrize("layout", ["rows", "members"])
def test_both_results_share_one_block_stored_like_the_consumption(layout) -> None:
    # One block, freed as one, is what the allocator keeps for the next call of that size.
    consumption = np.ones((48, 3), order="F" if layout == "members" else "C")
    allocated, grid_supply = empty_pair(consumption)
    assert allocated.shape == grid_supply.shape == consumption.shape
    assert allocated.base is grid_supply.base
    assert not np.shares_memory(allocated, grid_supply)
    assert is_by_member(allocated) == is_by_member(grid_supply) == (layout == "members")
    result = allocate_arrays(consumption, np.full((48, 1), 2.0), keys.Prorata())
    assert is_by_member(result.allocated) == (layout == "members")
    assert result.allocated.base is not None
    assert result.allocated.base is result.grid_supply.base
