"""repartition.kernels.full_dynamic against its NumPy twin, ``reference.full_dynamic``.

``run()`` on row-major and member-major consumption, with tables stored like it, the other
way, or mixed, on one and two threads (the range split into parts even for small cases):
allocations, AUTOPROD, the coefficients' scan, and the flows rebuilt by ``window_scale``,
on fixed and hypothesis' communities; rows summing above 1 within the tolerance; and,
through the key, tables read in place, flows rebuilt from them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from kernel_cases import (
    C_FIXED,
    P_FIXED,
    SHAPES,
    THREADS,
    assert_close,
    community,
    frozen,
    step_scale,
)
from repartition import allocate, allocate_arrays, keys, reference
from repartition.kernels import full_dynamic
from repartition.kernels import threads as pool

LIMIT = 1.0 + keys.SUM_TOLERANCE

TABLE_LAYOUTS = ["rows", "members", "mixed"]
"""How the tables are stored: all row-major, all member-major, or alternating."""


@pytest.fixture(params=THREADS, ids=lambda n: f"{n} thread{'s' if n > 1 else ''}")
def thread_count(request, monkeypatch):
    """Run the kernels on 1 or 2 threads, splitting even the smallest ranges in parts."""
    monkeypatch.setattr(pool, "MIN_CELLS_PER_THREAD", 1)
    with pool.threads(request.param):
        yield request.param


def stored(values: np.ndarray, order: str) -> np.ndarray:
    """A read-only copy of ``values`` stored row-major (``"C"``) or member-major (``"F"``)."""
    result = np.array(values, dtype=np.float64, order=order, copy=True)
    result.flags.writeable = False
    return result


def table_orders(layout: str, producers: int) -> list[str]:
    return {
        "rows": ["C"] * producers,
        "members": ["F"] * producers,
        "mixed": ["CF"[j % 2] for j in range(producers)],
    }[layout]


def run_full_dynamic(C, P, tables, consumption_order="C", table_layout="rows"):
    """``full_dynamic.run`` on the given layouts. Returns its outputs and the flows, shape
    (steps, producers, consumers), rebuilt from AUTOCONS by ``window_scale``."""
    C, P = stored(C, consumption_order), frozen(P)
    orders = table_orders(table_layout, len(tables))
    tables = [stored(table, order) for table, order in zip(tables, orders, strict=True)]
    allocated, grid_supply, self_consumed, surplus, scan = full_dynamic.run(
        C, P, tables, limit=LIMIT
    )
    if C.shape[0] > 1 and C.shape[1] > 1:  # outputs are stored like the consumption
        assert allocated.flags.f_contiguous == (consumption_order == "F")
    np.testing.assert_array_equal(grid_supply, C - allocated)
    scale = full_dynamic.window_scale(allocated, P, tables, scan.divisor, 0, C.shape[0])
    divisor = np.ones(P.shape) if scan.divisor is None else scan.divisor
    flows = np.stack(
        [table / divisor[:, j, None] * P[:, j, None] * scale for j, table in enumerate(tables)],
        axis=1,
    )
    return allocated, self_consumed, surplus, flows, scan


def expected(C, P, tables):
    """The reference (which divides each row summing above 1 by its sum, as the kernels do)."""
    return reference.full_dynamic(C, P, tables)


def assert_matches(C, P, tables, out) -> None:
    allocated, self_consumed, surplus, flows, scan = out
    expected_allocated, expected_self, expected_flows = expected(C, P, tables)
    scale = step_scale(C, P)
    assert_close(allocated, expected_allocated, scale, "allocated")
    assert_close(self_consumed, expected_self, scale, "self_consumed")
    assert_close(surplus, P - expected_self, scale, "surplus")
    assert_close(flows, expected_flows, scale[:, :, None], "flows")
    sums = np.asarray(tables).sum(axis=2)
    np.testing.assert_allclose(scan.sums, sums, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(scan.bad, 0)
    assert (scan.divisor is None) == (not (scan.sums > 1.0).any())


def random_tables(seed: int, steps: int, consumers: int, producers: int, *, over: bool = False):
    """Shares per producer, rows summing to at most 1 (``over``: some rows above 1 by less
    than the tolerance, as keys normalised to 1 in floating point do)."""
    rng = np.random.default_rng(seed)
    tables = rng.dirichlet(np.ones(consumers), size=(producers, steps))
    if over:
        tables[:, ::3] = np.minimum(tables[:, ::3] * (1.0 + 5e-10), 1.0)
    else:
        tables *= rng.uniform(0.3, 1.0, (producers, steps, 1))
    return tables


# --- fixed and hypothesis' communities ----------------------------------------------------


FIXED_TABLES = np.array(
    [
        [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.2, 0.2], [0.5, 0.5, 0.0]],
        [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.3, 0.3, 0.3]],
    ]
)


@pytest.mark.parametrize("consumption_order", ["C", "F"])
@pytest.mark.parametrize("table_layout", TABLE_LAYOUTS)
def test_fixed_full_dynamic(consumption_order, table_layout) -> None:
    out = run_full_dynamic(C_FIXED, P_FIXED, FIXED_TABLES, consumption_order, table_layout)
    assert_matches(C_FIXED, P_FIXED, FIXED_TABLES, out)
    allocated, self_consumed = out[0], out[1]
    # Step 0 by hand: a is offered 2 (takes 1, scale 1/2), b 2, c 2 from the second producer.
    np.testing.assert_allclose(allocated[0], [1.0, 2.0, 2.0])
    np.testing.assert_allclose(self_consumed[0], [3.0, 2.0])


@given(community=gen.communities(), data=st.data())
def test_full_dynamic_agrees_with_reference(community: gen.Community, data) -> None:
    C, P = community.consumption, community.production
    tables = data.draw(
        gen.full_dynamic_tables(community.producers, community.steps, community.consumers)
    )
    order = data.draw(st.sampled_from(["C", "F"]))
    layout = data.draw(st.sampled_from(TABLE_LAYOUTS))
    assert_matches(C, P, tables, run_full_dynamic(C, P, tables, order, layout))


# --- layouts and threads ------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "consumers", "producers"), [*SHAPES, (300, 70, 2)])
@pytest.mark.parametrize("consumption_order", ["C", "F"])
@pytest.mark.parametrize("table_layout", TABLE_LAYOUTS)
@pytest.mark.parametrize("over", [False, True], ids=["sums <= 1", "sums above 1"])
def test_every_layout_agrees_with_reference(
    steps, consumers, producers, consumption_order, table_layout, over, thread_count
) -> None:
    C, P = community(8, steps, consumers, producers)
    tables = random_tables(9, steps, consumers, producers, over=over)
    out = run_full_dynamic(C, P, tables, consumption_order, table_layout)
    assert_matches(C, P, tables, out)
    if over and consumers > 1:
        assert out[4].divisor is not None


@pytest.mark.parametrize("consumption_order", ["C", "F"])
@pytest.mark.parametrize("table_layout", TABLE_LAYOUTS)
def test_results_do_not_depend_on_threads_or_the_tables_layout(
    consumption_order, table_layout, monkeypatch
) -> None:
    """Per-step results are the same bits on 1 and 2 threads (any split of the range), and
    the same whether the tables are stored like the consumption or not."""
    monkeypatch.setattr(pool, "MIN_CELLS_PER_THREAD", 1)
    C, P = community(10, 203, 37, 3)
    tables = random_tables(11, 203, 37, 3, over=True)
    results = []
    for count in (1, 2):
        with pool.threads(count):
            for layout in ("rows" if consumption_order == "C" else "members", table_layout):
                results.append(run_full_dynamic(C, P, tables, consumption_order, layout))
    first = results[0]
    for other in results[1:]:
        for a, b in zip(first[:4], other[:4], strict=True):
            np.testing.assert_array_equal(a, b)


# --- the scan of the coefficients ---------------------------------------------------------


@pytest.mark.parametrize("consumption_order", ["C", "F"])
@pytest.mark.parametrize("table_layout", TABLE_LAYOUTS)
def test_scan_counts_bad_coefficients_per_producer(consumption_order, table_layout) -> None:
    C, P = community(12, 30, 6, 3)
    tables = random_tables(13, 30, 6, 3)
    tables[0, 4, 2] = np.nan
    tables[2, 7, 1] = -0.25
    tables[2, 9, 0] = 1.5
    tables[2, 11, 3] = np.inf
    C, P = stored(C, consumption_order), frozen(P)
    orders = table_orders(table_layout, 3)
    read = [stored(table, order) for table, order in zip(tables, orders, strict=True)]
    *_, scan = full_dynamic.run(C, P, read, limit=LIMIT)
    np.testing.assert_array_equal(scan.bad, [1, 0, 3])
    assert np.isnan(scan.sums[0, 4])
    assert np.isfinite(np.delete(scan.sums[0], 4)).all()
    np.testing.assert_allclose(scan.sums[1], tables[1].sum(axis=1), rtol=1e-12)


def test_rows_above_the_limit_are_left_to_the_caller() -> None:
    """A row summing above ``limit`` is an error the caller raises: the member-major pass is
    not made again for it (the outputs are not the rule's)."""
    C, P = community(14, 20, 4, 2)
    tables = random_tables(15, 20, 4, 2, over=True)
    tables[1, 5] *= 1.01
    *_, scan = full_dynamic.run(
        stored(C, "F"), frozen(P), [stored(t, "F") for t in tables], limit=LIMIT
    )
    assert scan.sums[1, 5] > LIMIT


# --- the flows' scale ---------------------------------------------------------------------


@pytest.mark.parametrize("consumption_order", ["C", "F"])
@pytest.mark.parametrize("table_layout", TABLE_LAYOUTS)
@pytest.mark.parametrize(("start", "stop"), [(0, 40), (7, 31), (39, 40)])
def test_window_scale_is_the_allocation_s(consumption_order, table_layout, start, stop) -> None:
    C, P = community(16, 40, 9, 3)
    tables = random_tables(17, 40, 9, 3, over=True)
    C, P = stored(C, consumption_order), frozen(P)
    orders = table_orders(table_layout, 3)
    read = [stored(table, order) for table, order in zip(tables, orders, strict=True)]
    allocated, *_, scan = full_dynamic.run(C, P, read, limit=LIMIT)
    scale = full_dynamic.window_scale(allocated, P, read, scan.divisor, start, stop)
    assert scale.flags.f_contiguous == (consumption_order == "F" or stop - start == 1)
    sums = tables.sum(axis=2)
    demand = np.einsum("jtc,tj->tc", tables / np.where(sums > 1, sums, 1)[:, :, None], P)
    with np.errstate(divide="ignore", invalid="ignore"):
        want = np.where(demand > C, C / demand, 1.0)[start:stop]
    np.testing.assert_allclose(scale, want, rtol=1e-12, atol=1e-15)


# --- through the key ----------------------------------------------------------------------


def frames_case(order: str):
    C, P = community(15, 12, 3, 2)
    index = pd.date_range("2025-06-01", periods=12, freq="30min", tz="Europe/Paris")
    columns = ["a", "b", "c"]
    consumption = pd.DataFrame(np.asarray(C, order=order), index=index, columns=columns)
    production = pd.DataFrame(P, index=index, columns=["p0", "p1"])
    return consumption, production, index, columns


@pytest.mark.parametrize("order", ["C", "F"])
def test_the_key_reads_the_callers_tables_in_place(order) -> None:
    consumption, production, index, columns = frames_case(order)
    arrays = [np.asarray(np.full((12, 3), 0.3), order=o) for o in "CF"]
    frames = {
        p: pd.DataFrame(array, index=index, columns=columns, copy=False)
        for p, array in zip(["p0", "p1"], arrays, strict=True)
    }
    for key in (
        keys.FullDynamic(frames),
        keys.FullDynamic(dict(zip(["p0", "p1"], arrays, strict=True))),
    ):
        result = allocate(consumption, production, key)
        kept = result.arrays.shares.split.tables_for.tables
        for table, array in zip(kept, arrays, strict=True):
            assert np.shares_memory(table, array)
            assert not table.flags.writeable
    result = allocate_arrays(
        consumption.to_numpy(), production.to_numpy(), keys.FullDynamic(arrays)
    )
    assert all(
        np.shares_memory(table, array)
        for table, array in zip(result.shares.split.tables_for.tables, arrays, strict=True)
    )


def test_a_month_of_a_longer_table_is_read_in_place() -> None:
    consumption, production, index, columns = frames_case("F")
    longer = pd.date_range(index[0] - pd.Timedelta(hours=3), periods=30, freq="30min", tz=index.tz)
    year = np.asfortranarray(np.full((30, 3), 0.3))
    table = pd.DataFrame(year, index=longer, columns=columns, copy=False)
    result = allocate(consumption, production, keys.FullDynamic({"p0": table, "p1": table}))
    kept = result.arrays.shares.split.tables_for.tables
    assert all(np.shares_memory(kept_table, year) for kept_table in kept)
    month = allocate(
        consumption, production, keys.FullDynamic({"p0": table.loc[index], "p1": table.loc[index]})
    )
    pd.testing.assert_frame_equal(result.allocated, month.allocated)
    pd.testing.assert_frame_equal(result.flows(), month.flows())


def test_flows_are_rebuilt_from_the_callers_tables() -> None:
    """The key and its results hold references to the caller's tables (documented in
    FullDynamic's notes): changing them afterwards changes the flows, not the allocation."""
    consumption, production, _index, _columns = frames_case("F")
    arrays = [np.full((12, 3), 0.3), np.full((12, 3), 0.3)]
    result = allocate(
        consumption, production, keys.FullDynamic(dict(zip(["p0", "p1"], arrays, strict=True)))
    )
    allocated, flows = result.allocated.copy(), result.flows().to_numpy().copy()
    np.testing.assert_allclose(flows.sum(axis=0), allocated.sum().to_numpy())
    arrays[0][:] = 0.0
    pd.testing.assert_frame_equal(result.allocated, allocated)
    assert not np.array_equal(result.flows().to_numpy(), flows)
