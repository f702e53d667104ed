"""Every Numba kernel agrees with its NumPy twin in :mod:`repartition.reference`.

style.md point 3: a naive oracle for every kernel, on fixed and random inputs. The kernels
are called directly on arrays, the way :mod:`repartition.keys` calls them (outputs
preallocated by the caller, inputs read-only). The last test runs this module again with
``NUMBA_DISABLE_JIT=1`` so that coverage sees the kernels' Python code.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import strategies as gen
from repartition import allocate_arrays, keys, reference
from repartition.kernels import checks, dynamic, prorata, static, water_filling
from repartition.kernels import full_dynamic as full_dynamic_kernels
from repartition.kernels.attribution import pooled_production

RTOL = 1e-9


# --- calling the kernels ------------------------------------------------------------------


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only C-contiguous float64 copy: kernels must never write into their inputs."""
    result = np.array(array, dtype=np.float64, order="C", copy=True)
    result.flags.writeable = False
    return result


def outputs(consumption: np.ndarray, production: np.ndarray) -> tuple[np.ndarray, ...]:
    """Output buffers filled with NaN, so that a cell the kernel forgets shows up:
    allocated, grid_supply, self_consumed, surplus."""
    steps, consumers = consumption.shape
    producers = production.shape[1]
    return (
        np.full((steps, consumers), np.nan),
        np.full((steps, consumers), np.nan),
        np.full((steps, producers), np.nan),
        np.full((steps, producers), np.nan),
    )


def check_grid_supply(C, allocated, grid_supply):
    """Every kernel writes COMPLEMENT = C - A itself, in the same pass as A."""
    np.testing.assert_array_equal(grid_supply, C - allocated)


def run_prorata(C, P):
    C, P = frozen(C), frozen(P)
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    total = pooled_production(P)
    prorata.prorata_rows(C, P, total, allocated, grid_supply, self_consumed, surplus)
    check_grid_supply(C, allocated, grid_supply)
    return allocated, self_consumed, surplus


def run_static(C, P, k):
    C, P, k = frozen(C), frozen(P), frozen(k)
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    total = pooled_production(P)
    static.static_rows(C, P, total, k, allocated, grid_supply, self_consumed, surplus)
    check_grid_supply(C, allocated, grid_supply)
    return allocated, self_consumed, surplus


def run_redistributed(C, P, k, rounds):
    C, P, k = frozen(C), frozen(P), frozen(k)
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    passes = np.full(C.shape[0], -7, dtype=np.int32)
    total = pooled_production(P)
    water_filling.water_filling_rows(
        C, P, total, k, rounds, allocated, grid_supply, self_consumed, surplus, passes
    )
    check_grid_supply(C, allocated, grid_supply)
    return allocated, self_consumed, surplus, passes


def run_dynamic(C, P, k):
    C, P, k = frozen(C), frozen(P), frozen(k)
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    total = pooled_production(P)
    dynamic.dynamic_rows(C, P, total, k, allocated, grid_supply, self_consumed, surplus)
    check_grid_supply(C, allocated, grid_supply)
    return allocated, self_consumed, surplus


def run_full_dynamic(C, P, tables):
    """The three full-dynamic kernels in the order :class:`repartition.keys.FullDynamic` uses.

    Returns ``(allocated, self_consumed, surplus, flows)`` with flows rebuilt from the
    scale factors the kernels leave behind, shape (steps, producers, consumers).
    """
    C, P = frozen(C), frozen(P)
    tables = [frozen(table) for table in tables]
    allocated, grid_supply, self_consumed, surplus = outputs(C, P)
    scale = np.full_like(allocated, np.nan)
    for j, table in enumerate(tables):
        full_dynamic_kernels.add_offered_rows(table, P, j, scale, j == 0)
    full_dynamic_kernels.cap_offered(C, scale, allocated, grid_supply)
    check_grid_supply(C, allocated, grid_supply)
    for j, table in enumerate(tables):
        full_dynamic_kernels.attribute_producer_rows(table, P, j, scale, self_consumed, surplus)
    flows = np.stack([table * P[:, j, None] * scale for j, table in enumerate(tables)], axis=1)
    return allocated, self_consumed, surplus, flows


def test_pooled_production_does_not_depend_on_producer_order() -> None:
    """``P_tot`` is summed in value order: every permutation of producers gives the same
    bits, and the sum agrees with NumPy's."""
    rng = np.random.default_rng(7)
    P = rng.random((50, 6)) * 10.0 ** rng.integers(-3, 4, size=(50, 6))
    P[0] = [0.1, 0.2, 0.3, 0.0, 0.0, 0.0]
    totals = pooled_production(frozen(P))
    for _ in range(5):
        permuted = frozen(P[:, rng.permutation(6)])
        np.testing.assert_array_equal(pooled_production(permuted), totals)
    np.testing.assert_allclose(totals, P.sum(axis=1), rtol=1e-15)


@pytest.mark.parametrize("producers", [1, 2, 5, 40])
def test_pooled_production_sums_in_increasing_order_exactly(producers: int) -> None:
    """The sum is exactly ``sum(sorted(row))``, left to right: not re-associated (a fastmath
    build vectorised it and moved the last bits), ties and zeros included."""
    rng = np.random.default_rng(producers)
    P = rng.random((300, producers)) * 10.0 ** rng.integers(-3, 4, size=(300, producers))
    P[::4] = np.round(P[::4], 1)
    P[::7] = 0.0
    expected = np.array([sum(sorted(row), 0.0) for row in P.tolist()])
    np.testing.assert_array_equal(pooled_production(frozen(P)), expected)


# --- comparing ----------------------------------------------------------------------------


def step_scale(C: np.ndarray, P: np.ndarray) -> np.ndarray:
    """Per step ``max(P_tot, sum_i C)`` as a column: what the tolerance is relative to."""
    return np.maximum(C.sum(axis=1), P.sum(axis=1))[:, None]


def assert_close(actual, expected, scale, what: str) -> None:
    actual, expected = np.asarray(actual), np.asarray(expected)
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    bad = ~(np.abs(actual - expected) <= RTOL * np.broadcast_to(scale, actual.shape))
    if bad.any():
        cell = tuple(int(i) for i in np.argwhere(bad)[0])
        pytest.fail(f"{what} differs at {cell}: {actual[cell]!r} != {expected[cell]!r}")


def assert_pooled_matches(C, P, kernel_out, expected_allocated, what: str) -> None:
    """Allocation against the oracle; AUTOPROD and SURPLUS against ``attribute_pooled``."""
    allocated, self_consumed, surplus = kernel_out[:3]
    scale = step_scale(C, P)
    assert_close(allocated, expected_allocated, scale, f"{what}: allocated")
    expected_self, expected_surplus = reference.attribute_pooled(allocated, P)
    assert_close(self_consumed, expected_self, scale, f"{what}: self_consumed")
    assert_close(surplus, expected_surplus, scale, f"{what}: surplus")


# --- fixed cases --------------------------------------------------------------------------

# Four steps, three consumers, two producers: a normal step, a step where production
# covers everyone, a step where nobody consumes, and one without production.
C_FIXED = np.array(
    [
        [1.0, 4.0, 5.0],
        [0.5, 0.0, 0.25],
        [0.0, 0.0, 0.0],
        [2.0, 3.0, 1e-9],
    ]
)
P_FIXED = np.array([[4.0, 2.0], [3.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
K_FIXED = np.array([0.5, 0.25, 0.0])
K_DYNAMIC_FIXED = np.array(
    [[0.1, 0.2, 0.7], [np.nan, np.nan, np.nan], [0.0, 0.0, 0.0], [0.5, 0.5, 0.0]]
)


def test_fixed_prorata() -> None:
    out = run_prorata(C_FIXED, P_FIXED)
    assert_pooled_matches(C_FIXED, P_FIXED, out, reference.prorata(C_FIXED, P_FIXED), "prorata")
    # Step 0 by hand: ratio 6 / 10.
    np.testing.assert_allclose(out[0][0], [0.6, 2.4, 3.0])


def test_fixed_static() -> None:
    out = run_static(C_FIXED, P_FIXED, K_FIXED)
    expected = reference.static(C_FIXED, P_FIXED, K_FIXED)
    assert_pooled_matches(C_FIXED, P_FIXED, out, expected, "static")
    np.testing.assert_allclose(out[0][0], [1.0, 1.5, 0.0])


@pytest.mark.parametrize("rounds", [0, 1, 2, 3, 10])
def test_fixed_static_rounds(rounds: int) -> None:
    out = run_redistributed(C_FIXED, P_FIXED, K_FIXED, rounds)
    expected = reference.static_rounds(C_FIXED, P_FIXED, K_FIXED, rounds)
    assert_pooled_matches(C_FIXED, P_FIXED, out, expected, f"{rounds} rounds")
    assert (out[3] >= 1).all()


def test_fixed_static_limit() -> None:
    out = run_redistributed(C_FIXED, P_FIXED, K_FIXED, water_filling.EXACT)
    expected = reference.static_limit(C_FIXED, P_FIXED, K_FIXED)
    assert_pooled_matches(C_FIXED, P_FIXED, out, expected, "limit")
    # Step 0 by hand: k3 = 0 gets nothing; a (1) and b (4) saturate with 6 kWh: (1, 4, 0).
    np.testing.assert_allclose(out[0][0], [1.0, 4.0, 0.0])


def test_fixed_dynamic() -> None:
    out = run_dynamic(C_FIXED, P_FIXED, K_DYNAMIC_FIXED)
    expected = reference.dynamic(C_FIXED, P_FIXED, K_DYNAMIC_FIXED)
    assert_pooled_matches(C_FIXED, P_FIXED, out, expected, "dynamic")
    np.testing.assert_allclose(out[0][0], [0.6, 1.2, 4.2])
    # The NaN row is prorata: 3 kWh for 0.75 kWh of consumption covers it.
    np.testing.assert_allclose(out[0][1], [0.5, 0.0, 0.25])


def test_fixed_full_dynamic() -> None:
    tables = np.array(
        [
            [[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.2, 0.2, 0.2], [0.5, 0.5, 0.0]],
            [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.3, 0.3, 0.3]],
        ]
    )
    allocated, self_consumed, surplus, flows = run_full_dynamic(C_FIXED, P_FIXED, tables)
    expected_allocated, expected_self, expected_flows = reference.full_dynamic(
        C_FIXED, P_FIXED, tables
    )
    scale = step_scale(C_FIXED, P_FIXED)
    assert_close(allocated, expected_allocated, scale, "allocated")
    assert_close(self_consumed, expected_self, scale, "self_consumed")
    assert_close(surplus, P_FIXED - expected_self, scale, "surplus")
    assert_close(flows, expected_flows, scale[:, :, None], "flows")
    # Step 0 by hand: a is offered 2 (takes 1, scale 1/2), b 2, c 2 from the second producer.
    np.testing.assert_allclose(allocated[0], [1.0, 2.0, 2.0])
    np.testing.assert_allclose(self_consumed[0], [3.0, 2.0])


# --- random cases -------------------------------------------------------------------------


@given(community=gen.communities())
def test_prorata_agrees_with_reference(community: gen.Community) -> None:
    C, P = community.consumption, community.production
    out = run_prorata(C, P)
    assert_pooled_matches(C, P, out, reference.prorata(C, P), "prorata")


@given(community=gen.communities(), data=st.data())
def test_static_agrees_with_reference(community: gen.Community, data: st.DataObject) -> None:
    C, P = community.consumption, community.production
    k = data.draw(gen.static_coefficients(community.consumers))
    out = run_static(C, P, k)
    assert_pooled_matches(C, P, out, reference.static(C, P, k), "static")


@given(community=gen.communities(), data=st.data())
def test_static_rounds_agree_with_reference(community: gen.Community, data) -> None:
    C, P = community.consumption, community.production
    k = data.draw(gen.static_coefficients(community.consumers))
    for rounds in (0, 1, 2, 3, community.consumers + 1):
        out = run_redistributed(C, P, k, rounds)
        expected = reference.static_rounds(C, P, k, rounds)
        assert_pooled_matches(C, P, out, expected, f"{rounds} rounds")
        assert ((out[3] >= 1) & (out[3] <= rounds + 1)).all()


@given(community=gen.communities(), data=st.data())
def test_static_limit_agrees_with_reference(community: gen.Community, data) -> None:
    C, P = community.consumption, community.production
    k = data.draw(gen.static_coefficients(community.consumers))
    out = run_redistributed(C, P, k, water_filling.EXACT)
    assert_pooled_matches(C, P, out, reference.static_limit(C, P, k), "limit")
    # Without the sorting fallback, each pass saturates someone new: one per consumer, + 1.
    assert ((out[3] >= 1) & (out[3] <= community.consumers + 1)).all()


@given(community=gen.communities(), data=st.data())
def test_dynamic_agrees_with_reference(community: gen.Community, data: st.DataObject) -> None:
    C, P = community.consumption, community.production
    k = data.draw(gen.dynamic_tables(community.steps, community.consumers))
    out = run_dynamic(C, P, k)
    assert_pooled_matches(C, P, out, reference.dynamic(C, P, k), "dynamic")


@given(community=gen.communities(), data=st.data())
def test_full_dynamic_agrees_with_reference(community: gen.Community, data) -> None:
    C, P = community.consumption, community.production
    tables = data.draw(
        gen.full_dynamic_tables(community.producers, community.steps, community.consumers)
    )
    allocated, self_consumed, surplus, flows = run_full_dynamic(C, P, tables)
    expected_allocated, expected_self, expected_flows = reference.full_dynamic(C, P, tables)
    scale = step_scale(C, P)
    assert_close(allocated, expected_allocated, scale, "allocated")
    assert_close(self_consumed, expected_self, scale, "self_consumed")
    assert_close(surplus, P - expected_self, scale, "surplus")
    assert_close(flows, expected_flows, scale[:, :, None], "flows")


# --- the water-filling's sorting fallback -------------------------------------------------


def staircase(consumers: int, everyone_served: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Keys and consumption (one step, 1 kWh produced) such that every redistribution round
    saturates exactly one more consumer: the iterative water-filling needs one pass per
    consumer.

    Keys fall geometrically (``k_m`` proportional to ``3**-m``), so that the share a
    saturated consumer frees keeps the level rising by about as much each round. Let
    ``L_m`` be the level once consumers ``0..m-1`` are saturated (``L_0 = P_tot``); consumer
    ``m`` gets the ratio ``C_m / k_m`` halfway between ``L_{m-1}`` and ``L_m``: above the
    previous level, reached by the next one. Consumer 0 is saturated by the DSO's pass.
    The last consumer's ratio is far above every level (the limit is interior: it takes
    the rest), or, with ``everyone_served``, follows the same rule, so that the 1 kWh
    covers every consumer with a little left over.
    """
    production = 1.0
    k = 3.0 ** -np.arange(consumers)
    k /= k.sum()
    ratios = np.empty(consumers)
    ratios[0] = 0.5 * production
    previous_level = production
    saturated_demand, saturated_key = k[0] * ratios[0], k[0]
    for m in range(1, consumers):
        level = (production - saturated_demand) / (1.0 - saturated_key)
        ratios[m] = 0.5 * (previous_level + level)
        saturated_demand += k[m] * ratios[m]
        saturated_key += k[m]
        previous_level = level
    if not everyone_served:
        ratios[-1] = 1e6 * production
    return k, (k * ratios)[None, :]


SIZES = [water_filling.MAX_LEVEL_PASSES + 2, 20]


@pytest.mark.parametrize("consumers", SIZES)
@pytest.mark.parametrize("everyone_served", [False, True])
def test_staircase_saturates_one_consumer_per_round(consumers: int, everyone_served) -> None:
    """The construction does what it says, checked on the oracle (literal rounds)."""
    k, C = staircase(consumers, everyone_served)
    P = np.array([[1.0]])
    saturated = [
        int((reference.static_rounds(C, P, k, rounds) >= C).sum())
        for rounds in range(consumers + 1)
    ]
    last = consumers if everyone_served else consumers - 1
    assert saturated == [*range(1, last + 1)] + [last] * (consumers + 1 - last)


@pytest.mark.parametrize("consumers", SIZES)
def test_sorting_fallback_reaches_the_limit(consumers: int) -> None:
    k, C = staircase(consumers)
    P = np.array([[0.6, 0.4]])  # P_tot = 1, as the staircase was built for
    out = run_redistributed(C, P, k, water_filling.EXACT)
    assert out[3][0] > water_filling.MAX_LEVEL_PASSES, "the row should need the sorting fallback"
    assert_pooled_matches(C, P, out, reference.static_limit(C, P, k), "limit by sorting")
    np.testing.assert_allclose(out[0].sum(), 1.0, rtol=RTOL)
    # The literal rounds get there too, one round per consumer.
    rounds = run_redistributed(C, P, k, consumers)
    assert rounds[3][0] >= consumers - 1
    assert_close(rounds[0], out[0], step_scale(C, P), "rounds vs fallback")
    assert_pooled_matches(
        C, P, rounds, reference.static_rounds(C, P, k, consumers), "rounds on the staircase"
    )


@pytest.mark.parametrize("consumers", SIZES)
def test_sorting_fallback_when_production_covers_everyone(consumers: int) -> None:
    k, C = staircase(consumers, everyone_served=True)
    P = np.array([[1.0]])
    assert C.sum() < 1.0
    out = run_redistributed(C, P, k, water_filling.EXACT)
    assert out[3][0] > water_filling.MAX_LEVEL_PASSES, "the row should need the sorting fallback"
    assert_pooled_matches(C, P, out, reference.static_limit(C, P, k), "everyone served")
    np.testing.assert_array_equal(out[0], C)


def test_sorted_level_when_production_exactly_covers_keyed_demand() -> None:
    """Regression (``_sorted_level`` before 694c409).

    When ``P_tot`` equals the keyed demand, every keyed consumer saturates and the level
    must be infinite (everyone served). A running ``key_total -= k`` leaves a rounding
    residue (here ``(0.3 + 0.7) - 0.7 - 0.3 = 5.6e-17 > 0``), and dividing ``remaining``
    by it divides two rounding residues: the old code returned a finite level (0.5 here)
    that served 0.25 of the 0.3 kWh available and demanded.
    """
    C = np.array([[0.2, 0.1]])
    k = np.array([0.3, 0.7])
    production_total = 0.1 + 0.2  # 0.30000000000000004 = sum of C
    numerator, denominator = water_filling._sorted_level(C, 0, k, production_total)
    level = numerator / denominator
    served = np.minimum(C, k * level).sum()
    expected = reference.static_limit(C, np.array([[production_total]]), k).sum()
    assert served == pytest.approx(expected, rel=RTOL), f"level {level}"


# Found by searching staircases with random keys and member order: a row that needs the
# sorting fallback, with P_tot equal to the sum of consumption (to the last bit).
BUG_KEYS = [
    0.08314693031025724,
    0.07163329015820655,
    0.08596728869936816,
    0.08471591538655286,
    0.07828930595173693,
    0.0632595532313054,
    0.08561770473944479,
    0.06952985242324256,
    0.08567094709624036,
    0.059680411502854996,
    0.08684824768441166,
    0.07518046818174164,
    0.07046008463463668,
]
BUG_CONSUMPTION = [
    0.0866210058378028,
    0.07462629812778997,
    0.08952247757298204,
    0.0879296156964529,
    0.07831897800256639,
    0.06590268719277843,
    0.08919493822813405,
    0.072431291358439,
    0.08925048225974587,
    0.062173990507885885,
    0.09047697068359654,
    0.07832122215213343,
    0.03523004231731834,
]
BUG_PRODUCTION = 0.9999999999376256


def test_redistribution_limit_serves_everyone_when_production_covers_demand() -> None:
    """Regression, the same seen through the public API: ``Static(redistribute=True)`` on a
    row that needs the sorting fallback, where production equals total consumption, left
    3.5 % of it as surplus instead of serving every consumer in full (domain.md: ``sum_i A
    = min(P_tot, sum_{k_i > 0} C_i)``)."""
    C = np.array([BUG_CONSUMPTION])
    P = np.array([BUG_PRODUCTION])
    assert C.sum() == pytest.approx(BUG_PRODUCTION, rel=1e-15)
    result = allocate_arrays(C, P, keys.Static(np.array(BUG_KEYS), redistribute=True))
    assert result.passes is not None
    assert result.passes[0] > water_filling.MAX_LEVEL_PASSES
    expected = reference.static_limit(C, P[:, None], np.array(BUG_KEYS))
    assert_close(result.allocated, expected, step_scale(C, P[:, None]), "limit")


# --- the oracle itself ---------------------------------------------------------------------


def test_reference_limit_gives_nothing_without_production() -> None:
    """Regression (``reference.static_limit`` before 694c409): a bisection from ``high =
    keyed_demand / min(k)`` with a fixed 200 halvings is not enough when the smallest key is
    tiny: with ``k = (0.125, 3.3e-65)`` and no production, the level stayed near 2e-8 and
    the oracle allocated consumption from nothing."""
    C = np.array([[1e-12, 0.0]])
    P = np.array([[0.0]])
    k = np.array([0.125, 3.3e-65])
    np.testing.assert_array_equal(run_redistributed(C, P, k, water_filling.EXACT)[0], [[0.0, 0.0]])
    np.testing.assert_array_equal(reference.static_limit(C, P, k), [[0.0, 0.0]])


def test_reference_rounds_without_nan() -> None:
    """Regression (``reference.static_rounds`` before 694c409): when ``leftover /
    open_total`` overflows (a tiny key is the only one open), ``open_key * per_key`` is
    ``0 * inf = NaN`` for the consumers with ``k = 0``, and the oracle gave them NaN."""
    C = np.array([[1.0, 1.0]])
    P = np.array([[1e4]])
    k = np.array([0.0, 1e-306])
    assert np.isfinite(run_redistributed(C, P, k, 1)[0]).all()
    assert np.isfinite(reference.static_rounds(C, P, k, 1)).all()


# --- validation scans ---------------------------------------------------------------------

CHUNK = 1 << 16
BIG = 2 * CHUNK + 4_321  # three chunks, the last one partial
BAD_ENERGIES = [np.nan, np.inf, -np.inf, -1.0, -5e-324]


def energy_oracle(flat: np.ndarray) -> int:
    bad = np.flatnonzero(~(flat >= 0.0) | (flat == np.inf))
    return int(bad[0]) if len(bad) else -1


def test_first_invalid_energy_accepts_valid_energies() -> None:
    values = np.zeros((BIG // 7, 7))
    values[::3] = -0.0  # signed zero is an energy of 0
    values[1::5] = np.finfo(float).max
    values[2::7] = 5e-324
    assert checks.first_invalid_energy(values) == -1


@pytest.mark.parametrize(
    "positions",
    [
        [CHUNK - 1, CHUNK, 2 * CHUNK],  # last of chunk 0 beats the first of chunk 1
        [2 * CHUNK + 4_000, CHUNK + 17],  # chunk 1 before chunk 2 whatever the order found
        [BIG - 1],  # the very last value, alone in the partial chunk
        [0, BIG - 1],
        [2 * CHUNK - 1, 2 * CHUNK, CHUNK + CHUNK // 2],
    ],
)
@pytest.mark.parametrize("bad", BAD_ENERGIES, ids=["nan", "inf", "-inf", "negative", "-tiny"])
def test_first_invalid_energy_finds_the_first_across_chunks(positions, bad) -> None:
    flat = np.ones(BIG)
    for n, position in enumerate(sorted(positions, reverse=True)):
        flat[position] = BAD_ENERGIES[n % len(BAD_ENERGIES)]
    flat[min(positions)] = bad
    expected = energy_oracle(flat)
    assert expected == min(positions)
    assert checks.first_invalid_energy(flat) == expected
    # The same values as a 2-D table (C order): the position is flat.
    table = flat[: BIG - BIG % 9].reshape(-1, 9)
    assert checks.first_invalid_energy(table) == energy_oracle(table.reshape(-1))


@given(
    positions=st.lists(st.integers(0, BIG - 1), min_size=1, max_size=6),
    bad=st.lists(st.sampled_from(BAD_ENERGIES), min_size=6, max_size=6),
)
def test_first_invalid_energy_agrees_with_numpy(positions: list[int], bad: list[float]) -> None:
    flat = np.full(BIG, 0.5)
    for position, value in zip(positions, bad, strict=False):
        flat[position] = value
    assert checks.first_invalid_energy(flat) == energy_oracle(flat)


def coefficient_oracle(flat: np.ndarray) -> int:
    bad = np.flatnonzero((flat < 0.0) | (flat > 1.0))
    return int(bad[0]) if len(bad) else -1


BAD_COEFFICIENTS = [-1e-12, 1.0000001, np.inf, -np.inf, 2.0]


@given(
    positions=st.lists(st.integers(0, BIG - 1), max_size=6),
    bad=st.lists(st.sampled_from(BAD_COEFFICIENTS), min_size=6, max_size=6),
    nan_positions=st.lists(st.integers(0, BIG - 1), max_size=4),
)
def test_first_invalid_coefficient_agrees_with_numpy(positions, bad, nan_positions) -> None:
    flat = np.full(BIG, 1.0)
    flat[::2] = 0.0
    flat[nan_positions] = np.nan  # NaN is the callers' business: never reported here
    for position, value in zip(positions, bad, strict=False):
        flat[position] = value
    expected = coefficient_oracle(flat)
    assert checks.first_invalid_coefficient(flat) == expected
    table = flat[: BIG - BIG % 8].reshape(-1, 8)
    assert checks.first_invalid_coefficient(table) == coefficient_oracle(table.reshape(-1))


def test_first_invalid_coefficient_first_across_chunks() -> None:
    flat = np.full(BIG, 0.25)
    flat[2 * CHUNK + 1] = -0.5
    flat[CHUNK + 3] = 1.5
    flat[CHUNK - 1] = np.nan  # skipped
    assert checks.first_invalid_coefficient(flat) == CHUNK + 3
    flat[CHUNK - 2] = np.inf
    assert checks.first_invalid_coefficient(flat) == CHUNK - 2
    assert checks.first_invalid_coefficient(np.array([0.0, 1.0, np.nan])) == -1


@given(
    values=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=9),
        elements=st.one_of(st.just(np.nan), st.floats(0.0, 1.0)),
    )
)
def test_row_sums_and_nans_agree_with_numpy(values: np.ndarray) -> None:
    values = np.ascontiguousarray(values)
    sums, nans, outside = checks.row_sums_and_nans(values)
    np.testing.assert_array_equal(nans, np.isnan(values).sum(axis=1))
    np.testing.assert_allclose(sums, np.nansum(values, axis=1), rtol=1e-12, atol=1e-15)
    assert outside == 0
    # The member-major twin, on the transpose, gives the same.
    column_sums, column_nans, column_outside = checks.column_sums_and_nans(
        np.ascontiguousarray(values.T)
    )
    np.testing.assert_array_equal(column_nans, nans)
    np.testing.assert_allclose(column_sums, sums, rtol=1e-12, atol=1e-15)
    assert column_outside == 0


def test_row_sums_and_nans_fixed() -> None:
    values = np.array([[0.25, np.nan, 0.5], [np.nan, np.nan, np.nan], [0.0, 0.0, 1.0]])
    sums, nans, outside = checks.row_sums_and_nans(values)
    np.testing.assert_array_equal(sums, [0.75, 0.0, 1.0])
    np.testing.assert_array_equal(nans, [1, 3, 0])
    assert outside == 0
    values[0, 0], values[2, 1] = 1.5, -np.inf
    assert checks.row_sums_and_nans(values)[2] == 2
    assert checks.column_sums_and_nans(np.ascontiguousarray(values.T))[2] == 2


# --- the same tests without the JIT -------------------------------------------------------


@pytest.mark.slow
def test_kernels_pure_python() -> None:
    """This module, the member-major and the strategies' kernel tests again with
    ``NUMBA_DISABLE_JIT=1``:
    the kernels as plain Python, which coverage can see (style.md point 3)."""
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    command = [
        sys.executable,
        "-m",
        "pytest",
        str(Path(__file__).resolve()),
        str(Path(__file__).resolve().parent / "test_kernels_by_member.py"),
        str(Path(__file__).resolve().parent / "test_kernels_strategies.py"),
        "-q",
        "-p",
        "no:cacheprovider",
        "-k",
        "not pure_python",
    ]
    completed = subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
