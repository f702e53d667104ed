"""Benchmarks of the core engine: every key, against the floor and pandas, per size.

Run (see docs/performance.md):

- CI, once, untimed, tiny size: ``pytest benchmarks --benchmark-disable``
- the issue's sizes, timed: ``pytest benchmarks --bench-size=full``

Each benchmark group is one (size, key): ``allocate`` on DataFrames, ``allocate_arrays``
on arrays and the pandas baseline, and the group ``<size> floor`` holds the copy. The
ratios are printed at the end of the run. The ``test_pandas_baseline_*`` checks are not
timed: they keep the baselines honest, on the tiny case and on a year of 20 consumers.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmarks import baselines, cases, data, report


def _inputs(name: str, community: data.Community, request: pytest.FixtureRequest) -> cases.Inputs:
    need = cases.needs(name)
    if need == "dynamic":
        return cases.Inputs(community, dynamic=request.getfixturevalue("dynamic_coefficients"))
    if need == "full_dynamic":
        tables = request.getfixturevalue("full_dynamic_coefficients")
        return cases.Inputs(community, full_dynamic=tables)
    return cases.Inputs(community)


def test_floor(measure: Any, community: data.Community) -> None:
    """Baseline (b): ``consumption.copy()``, the memory-bandwidth floor."""
    result = measure(
        lambda: baselines.copy(community.consumption_array), community.size, "floor", "numpy"
    )
    assert result.shape == community.consumption_array.shape


@pytest.mark.parametrize("key", cases.KEYS)
def test_allocate(
    measure: Any, community: data.Community, key: str, request: pytest.FixtureRequest
) -> None:
    """``allocate`` on DataFrames: the public path, input checks included."""
    function = cases.run_allocate(key, _inputs(key, community, request))
    result = measure(function, community.size, key, "allocate")
    assert result.allocated.shape == community.consumption.shape


@pytest.mark.parametrize("key", cases.KEYS)
def test_allocate_arrays(
    measure: Any, community: data.Community, key: str, request: pytest.FixtureRequest
) -> None:
    """``allocate_arrays`` on NumPy arrays: no labels, the same checks and kernel."""
    function = cases.run_allocate_arrays(key, _inputs(key, community, request))
    result = measure(function, community.size, key, "arrays")
    assert result.allocated.shape == community.consumption_array.shape


@pytest.mark.parametrize("key", cases.KEYS)
def test_pandas(
    measure: Any, community: data.Community, key: str, request: pytest.FixtureRequest
) -> None:
    """Baseline (a): the same rule written with pandas."""
    function = cases.run_pandas(key, _inputs(key, community, request))
    allocated, _, _ = measure(function, community.size, key, "pandas")
    assert allocated.shape == community.consumption.shape


# --- the baselines are right: untimed checks ------------------------------------------------

CHECKED_SIZES = [data.TINY, data.Size(data.YEAR_STEPS, 20)]


@pytest.fixture(scope="module", params=CHECKED_SIZES, ids=[s.label for s in CHECKED_SIZES])
def checked_community(request: pytest.FixtureRequest) -> data.Community:
    return data.community(request.param)


@pytest.mark.parametrize("key", cases.KEYS)
def test_pandas_baseline_agrees_with_allocate(checked_community: data.Community, key: str) -> None:
    """Each pandas baseline computes the same AUTOCONS, AUTOPROD and SURPLUS as repartition."""
    inputs = cases.inputs_for(key, checked_community)
    result = cases.run_allocate(key, inputs)()
    allocated, self_consumed, surplus = cases.run_pandas(key, inputs)()
    atol = 1e-12 * max(1.0, float(checked_community.consumption_array.max()))
    np.testing.assert_allclose(allocated.to_numpy(), result.allocated.to_numpy(), atol=atol)
    np.testing.assert_allclose(self_consumed.to_numpy(), result.self_consumed.to_numpy(), atol=atol)
    np.testing.assert_allclose(surplus.to_numpy(), result.surplus.to_numpy(), atol=atol)


def test_pandas_redistribution_reaches_the_limit(checked_community: data.Community) -> None:
    """The literal pandas loop stops by itself, well before its cap."""
    static = checked_community.static_series
    _, rounds = baselines.static_redistributed(
        checked_community.consumption,
        checked_community.production,
        static,
        max_rounds=cases.PANDAS_MAX_ROUNDS,
    )
    assert rounds < cases.PANDAS_MAX_ROUNDS


def test_floor_is_a_copy(tiny_community: data.Community) -> None:
    values = tiny_community.consumption_array
    copied = baselines.copy(values)
    assert not np.shares_memory(copied, values)
    np.testing.assert_array_equal(copied, values)
    out = np.empty_like(values)
    np.testing.assert_array_equal(baselines.copy_into(out, values), values)


def test_frames_share_the_arrays(tiny_community: data.Community) -> None:
    """The DataFrames are views of C-contiguous arrays: allocate needs no copy at the boundary."""
    values = tiny_community.consumption.to_numpy()
    assert values.flags.c_contiguous
    assert np.shares_memory(values, tiny_community.consumption_array)


def test_static_clip_idiom_agrees(tiny_community: data.Community) -> None:
    consumption, production = tiny_community.consumption, tiny_community.production
    static = tiny_community.static_series
    for expected, got in zip(
        baselines.static(consumption, production, static),
        baselines.static_clip(consumption, production, static),
        strict=True,
    ):
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy())


def test_report_runs_on_the_tiny_size() -> None:
    """report.py cannot rot either: one tiny run, every key, every column."""
    text = report.main(["--steps", "48", "--consumers", "10", "--repeat", "1", "--quiet"])
    for key in cases.KEYS:
        assert f"| {key} | 10 |" in text
    assert "floor: consumption.copy()" in text
