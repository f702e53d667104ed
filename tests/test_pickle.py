"""Every allocation pickles and unpickles to an equal result, for every key.

Results travel between processes (multiprocessing, Dask workers), so an ``Allocation`` must
be plain data: its flows are rebuilt from arrays, never from a closure.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
import test_properties
import test_strategies
from repartition import Allocation, allocate, allocate_arrays, keys

OTHER_KINDS = [
    "cascade",
    "economic",
    "prosumer-fixed",
    "prosumer-relative",
    "prosumer-optimal",
    "prosumer-pooled",
]


def make_key(data: st.DataObject, kind: str, frames: gen.Frames) -> keys.SharingKey:
    if kind in test_properties.KEY_KINDS:
        return test_properties.make_key(data, kind, frames)
    if kind in test_strategies.NEW_KINDS:
        return test_strategies.make_key(data, kind, frames)
    consumers, producers = list(frames.consumers), list(frames.producers)
    if kind == "cascade":
        cut = data.draw(st.integers(1, len(consumers)))
        groups = [("first", consumers[:cut], keys.Prorata())]
        if consumers[cut:]:
            groups.append(("rest", consumers[cut:], keys.EqualShare()))
        return keys.PriorityCascade(groups)
    if kind == "economic":
        values = data.draw(
            st.lists(st.floats(0, 1), min_size=len(consumers), max_size=len(consumers))
        )
        return keys.EconomicGreedy(pd.Series(values, index=consumers))
    variant = kind.removeprefix("prosumer-")
    unused = "pooled" if variant == "pooled" else "producer"
    variant = "optimal" if variant == "pooled" else variant
    coefficients = data.draw(gen.static_coefficients(len(consumers)))
    owners = {producer: consumers[j % len(consumers)] for j, producer in enumerate(producers)}
    return keys.ProsumerKey(pd.Series(coefficients, index=consumers), variant, owners, unused)  # type: ignore[arg-type]


def assert_same(before: Allocation, after: Allocation) -> None:
    for name in (
        "consumption",
        "production",
        "allocated",
        "grid_supply",
        "self_consumed",
        "surplus",
    ):
        pd.testing.assert_frame_equal(getattr(after, name), getattr(before, name))
        assert not getattr(after.arrays, name).flags.writeable, name
    pd.testing.assert_frame_equal(after.flows(), before.flows())
    pd.testing.assert_frame_equal(after.flows("D"), before.flows("D"))
    pd.testing.assert_series_equal(after.summary().to_series(), before.summary().to_series())
    assert (after.passes is None) == (before.passes is None)
    if before.passes is not None:
        pd.testing.assert_series_equal(after.passes, before.passes)
    assert after.key.label() == before.key.label()


ALL_KINDS = test_properties.KEY_KINDS + test_strategies.NEW_KINDS + OTHER_KINDS


@pytest.mark.parametrize("kind", ALL_KINDS)
@given(case=gen.community_frames(), data=st.data())
def test_every_allocation_pickles_to_an_equal_result(kind: str, case, data: st.DataObject) -> None:
    _, frames = case
    result = allocate(frames.consumption, frames.production, make_key(data, kind, frames))
    assert_same(result, pickle.loads(pickle.dumps(result)))


def test_array_results_pickle_too() -> None:
    consumption = np.array([[1.0, 3.0], [2.0, 0.5]])
    production = np.array([[2.0, 1.0], [0.0, 3.0]])
    key = keys.ProsumerKey([0.5, 0.5], "optimal", {0: 0, 1: 1})
    result = allocate_arrays(consumption, production, key)
    again = pickle.loads(pickle.dumps(result))
    np.testing.assert_array_equal(again.flows(), result.flows())
    np.testing.assert_array_equal(again.flows_per_step(), result.flows_per_step())
    assert not again.allocated.flags.writeable
