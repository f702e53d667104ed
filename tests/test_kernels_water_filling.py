"""repartition.kernels.water_filling against its NumPy twins, ``reference.static_rounds``
(literal rounds) and ``reference.static_limit`` (bisection on the level).

``water_filling_rows`` on fixed and hypothesis' communities and on staircases that need the
sorting fallback; ``water_filling_members`` on transposed copies on one and two threads, and
on a staircase at every step.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import strategies as gen
from kernel_cases import (
    C_FIXED,
    K_FIXED,
    P_FIXED,
    RTOL,
    SHAPES,
    THREADS,
    assert_close,
    assert_pooled,
    assert_pooled_matches,
    buffers,
    check_grid_supply,
    community,
    frozen,
    member_major,
    outputs,
    step_scale,
)
from repartition import allocate_arrays, keys, reference
from repartition.kernels import water_filling
from repartition.kernels.attribution import pooled_production
from repartition.kernels.layout import is_by_member


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


# --- row-major ----------------------------------------------------------------------------


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


# --- the row-major sorting fallback -------------------------------------------------------


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


@pytest.mark.parametrize("layout", [np.ascontiguousarray, np.asfortranarray])
def test_redistribution_limit_serves_everyone_when_production_covers_demand(layout) -> None:
    """Regression, the same seen through the public API: ``Static(redistribute=True)`` on a
    row that needs the sorting fallback, where production equals total consumption, left
    3.5 % of it as surplus instead of serving every consumer in full (docs/rules.md, "Static
    key with redistribution": ``sum_i A = min(P_tot, sum_{k_i > 0} C_i)``). In both layouts:
    the row is repeated, so that member-major data goes to the member-major kernel (which
    hands such rows to the row-major rounds)."""
    C = layout(np.array([BUG_CONSUMPTION] * 2))
    P = np.array([BUG_PRODUCTION] * 2)
    assert C[0].sum() == pytest.approx(BUG_PRODUCTION, rel=1e-15)
    result = allocate_arrays(C, P, keys.Static(np.array(BUG_KEYS), redistribute=True))
    assert is_by_member(result.allocated) == (layout is np.asfortranarray)
    assert result.passes is not None
    assert (result.passes > water_filling.MAX_LEVEL_PASSES).all()
    expected = reference.static_limit(C, P[:, None], np.array(BUG_KEYS))
    assert_close(result.allocated, expected, step_scale(C, P[:, None]), "limit")


# --- member-major -------------------------------------------------------------------------


@pytest.mark.parametrize(("steps", "consumers", "producers"), SHAPES)
@pytest.mark.parametrize("threads", THREADS, indirect=True)
@pytest.mark.parametrize("rounds", [1, 2, water_filling.EXACT])
def test_water_filling_members_agree_with_reference(
    steps, consumers, producers, threads, rounds
) -> None:
    C, P = community(4, steps, consumers, producers)
    k = np.random.default_rng(5).dirichlet(np.ones(consumers)) * 0.95
    k[0] = 0.0
    k = frozen(k)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    passes = np.full(steps, -1, dtype=np.int32)
    total = pooled_production(P)
    water_filling.water_filling_members(
        F.T, P, total, k, rounds, allocated.T, grid_supply.T, self_consumed, surplus, passes
    )
    if rounds == water_filling.EXACT:
        expected = reference.static_limit(C, P, k)
    else:
        expected = reference.static_rounds(C, P, k, rounds)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)
    row_passes = np.full(steps, -1, dtype=np.int32)
    outputs = (np.empty_like(C), np.empty_like(C), np.empty_like(P), np.empty_like(P))
    water_filling.water_filling_rows(frozen(C), P, total, k, rounds, *outputs, row_passes)
    # The same passes as the row-major kernel, up to one where a total summed in another
    # order lands on the other side of "everything is allocated" (a last round that would
    # hand on a rounding residue).
    assert np.abs(passes - row_passes).max() <= 1
    assert np.mean(passes == row_passes) > 0.9


def test_water_filling_staircase_on_every_step() -> None:
    """Every step needs more passes than ``MAX_LEVEL_PASSES`` (each round saturates one
    more consumer): the member-major kernel hands all of them to the row-major rounds,
    which sort, and still reaches the exact limit."""
    consumers, steps = water_filling.MAX_LEVEL_PASSES + 4, 20
    k, row = staircase(consumers)  # one step, 1 kWh produced
    scale = np.linspace(0.5, 1.5, steps)[:, None]  # scaling C and P together keeps the stairs
    C = row * scale
    P = frozen(scale)
    k = frozen(k)
    F = member_major(C)
    allocated, grid_supply, self_consumed, surplus = buffers(C, P)
    passes = np.zeros(steps, dtype=np.int32)
    total = pooled_production(P)
    water_filling.water_filling_members(
        F.T,
        P,
        total,
        k,
        water_filling.EXACT,
        allocated.T,
        grid_supply.T,
        self_consumed,
        surplus,
        passes,
    )
    assert (passes > water_filling.MAX_LEVEL_PASSES).all()
    expected = reference.static_limit(C, P, k)
    assert_pooled(C, P, allocated, grid_supply, self_consumed, surplus, expected)


# --- the oracle itself --------------------------------------------------------------------


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
