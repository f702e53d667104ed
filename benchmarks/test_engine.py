"""Benchmarks of the core engine: every key, against the floor and pandas, per size.

Run (see docs/performance.md):

- CI, once, untimed, tiny size: ``pytest benchmarks --benchmark-disable``
- the sizes of docs/performance.md, timed: ``pytest benchmarks --bench-size=full``
- one layout only: ``--bench-layouts=members`` (default: ``rows,members``)

Each benchmark group is one (size, layout, key): ``allocate`` on DataFrames,
``allocate_arrays`` on arrays and the pandas baseline, all on the data of that layout, and
the group ``<size> <layout> floor`` holds the copy. The ratios are printed at the end of
the run. The ``test_pandas_baseline_*`` checks are not timed: they keep the baselines
honest (all four outputs, COMPLEMENT included), in both layouts, on the tiny case and on a
year of 20 consumers.
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
    """Baseline (b): ``consumption.copy(order="K")``, the memory-bandwidth floor."""
    values = community.consumption_array
    result = measure(lambda: baselines.copy(values), community, "floor", "numpy")
    assert result.shape == community.consumption_array.shape
    assert data.is_layout(result, community.layout)


@pytest.mark.parametrize("key", cases.KEYS)
def test_allocate(
    measure: Any, community: data.Community, key: str, request: pytest.FixtureRequest
) -> None:
    """``allocate`` on DataFrames: the public path, input checks included."""
    function = cases.run_allocate(key, _inputs(key, community, request))
    result = measure(function, community, key, "allocate")
    assert result.allocated.shape == community.consumption.shape


@pytest.mark.parametrize("key", cases.KEYS)
def test_allocate_arrays(
    measure: Any, community: data.Community, key: str, request: pytest.FixtureRequest
) -> None:
    """``allocate_arrays`` on NumPy arrays: no labels, the same checks and kernel."""
    function = cases.run_allocate_arrays(key, _inputs(key, community, request))
    result = measure(function, community, key, "arrays")
    assert result.allocated.shape == community.consumption_array.shape


@pytest.mark.parametrize("key", cases.KEYS)
def test_pandas(
    measure: Any, community: data.Community, key: str, request: pytest.FixtureRequest
) -> None:
    """Baseline (a): the same rule written with pandas."""
    if cases.pandas_skipped(key, community.size):
        pytest.skip(
            f"pandas {key} is not run above {cases.PANDAS_FULL_DYNAMIC_MAX_CONSUMERS:,} "
            "consumers: its temporaries take 4.5 times the consumption (docs/performance.md)."
        )
    function = cases.run_pandas(key, _inputs(key, community, request))
    frames = measure(function, community, key, "pandas")
    assert frames.allocated.shape == frames.grid_supply.shape == community.consumption.shape


# --- the baselines are right: untimed checks ------------------------------------------------

CHECKED_SIZES = [data.TINY, data.Size(data.YEAR_STEPS, 20)]


CHECKED = [(size, layout) for size in CHECKED_SIZES for layout in data.LAYOUTS]


@pytest.fixture(
    scope="module", params=CHECKED, ids=[f"{size.label}-{layout}" for size, layout in CHECKED]
)
def checked_community(request: pytest.FixtureRequest) -> data.Community:
    size, layout = request.param
    return data.community(size, layout=layout)


@pytest.mark.parametrize("key", cases.KEYS)
def test_pandas_baseline_agrees_with_allocate(checked_community: data.Community, key: str) -> None:
    """Each pandas baseline computes the same AUTOCONS, COMPLEMENT, AUTOPROD and SURPLUS as
    repartition, on the frames of each layout."""
    inputs = cases.inputs_for(key, checked_community)
    result = cases.run_allocate(key, inputs)()
    frames = cases.run_pandas(key, inputs)()
    atol = 1e-12 * max(1.0, float(checked_community.consumption_array.max()))
    for name in baselines.Frames._fields:
        np.testing.assert_allclose(
            getattr(frames, name).to_numpy(),
            getattr(result, name).to_numpy(),
            atol=atol,
            err_msg=f"{key}, {checked_community.label}: {name}",
        )
    # COMPLEMENT is what each consumer still draws from its supplier: C - A.
    np.testing.assert_allclose(
        frames.grid_supply.to_numpy(),
        checked_community.consumption_array - result.allocated.to_numpy(),
        atol=atol,
    )


def test_allocate_is_the_same_in_both_layouts() -> None:
    """The two layouts hold the same data, and repartition returns the same results on each
    (so the two rows of a key in the report time the same computation)."""
    rows, members = (data.community(data.TINY, layout=layout) for layout in data.LAYOUTS)
    np.testing.assert_array_equal(rows.consumption_array, members.consumption_array)
    np.testing.assert_array_equal(rows.production_array, members.production_array)
    for key in cases.KEYS:
        by_rows = cases.run_allocate(key, cases.inputs_for(key, rows))()
        by_members = cases.run_allocate(key, cases.inputs_for(key, members))()
        for name in baselines.Frames._fields:
            np.testing.assert_allclose(
                getattr(by_members, name).to_numpy(),
                getattr(by_rows, name).to_numpy(),
                rtol=1e-12,
                atol=1e-15,
                err_msg=f"{key}: {name}",
            )


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
    """A copy in the same layout (no transposition), and ``copy_into`` likewise."""
    values = tiny_community.consumption_array
    copied = baselines.copy(values)
    assert not np.shares_memory(copied, values)
    assert copied.strides == values.strides
    np.testing.assert_array_equal(copied, values)
    out = np.empty_like(values)
    assert out.strides == values.strides
    np.testing.assert_array_equal(baselines.copy_into(out, values), values)


def test_frames_share_the_arrays(tiny_community: data.Community) -> None:
    """The DataFrames are views of arrays stored in the community's layout (C-contiguous
    for ``rows``, F-contiguous for ``members``), and so are the coefficient tables:
    allocate needs no copy and no transposition at the boundary."""
    layout = tiny_community.layout
    values = tiny_community.consumption.to_numpy()
    assert data.is_layout(values, layout)
    assert not data.is_layout(values, "members" if layout == "rows" else "rows")
    assert np.shares_memory(values, tiny_community.consumption_array)
    assert data.is_layout(tiny_community.production.to_numpy(), layout)
    assert np.shares_memory(tiny_community.production.to_numpy(), tiny_community.production_array)
    assert data.is_layout(data.dynamic_coefficients(tiny_community).to_numpy(), layout)
    for table in data.full_dynamic_coefficients(tiny_community).values():
        assert data.is_layout(table.to_numpy(), layout)


def test_static_clip_idiom_agrees(tiny_community: data.Community) -> None:
    """The same four tables, to rounding: the two idioms' results may be stored differently
    by pandas, so their row sums (hence SURPLUS near 0) can differ in the last bits."""
    consumption, production = tiny_community.consumption, tiny_community.production
    static = tiny_community.static_series
    atol = 1e-12 * max(1.0, float(tiny_community.consumption_array.max()))
    for expected, got in zip(
        baselines.static(consumption, production, static),
        baselines.static_clip(consumption, production, static),
        strict=True,
    ):
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-7, atol=atol)


def test_report_runs_on_the_tiny_size() -> None:
    """report.py cannot rot either: one tiny run, every key, every column."""
    arguments = ["--steps", "48", "--consumers", "10", "--repeat", "1", "--quiet"]
    text = report.main([*arguments, "--cold-keys", "Prorata (baseline)"])
    for key in cases.KEYS:
        for layout in data.LAYOUTS:
            assert f"| {key} | 10 | {layout} |" in text
    for layout in data.LAYOUTS:
        assert f"| prorata | {layout} |" in text  # the targets, per layout
    assert report.FLOOR in text
    assert "### A first call, cold and warm" in text
    assert "| cold |" in text
    assert "| warm |" in text
