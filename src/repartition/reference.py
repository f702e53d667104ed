"""Plain NumPy twins of the Numba kernels: slow, obvious, and the oracle of the tests.

Each function writes the rule as docs/rules.md states it, vectorised over steps, with no
attempt at speed. Static redistribution is computed here *differently* from the kernel
(literal rounds, and bisection for the limit), so that agreement means something.

One section per kernel module, in the order of :mod:`repartition.kernels`; each function
names the kernels it is the oracle of (in both memory layouts). The twins of the Shapley
kernels are beside their metric, in :mod:`repartition.metrics.shapley`.

Shapes: ``consumption`` and allocations (steps, consumers), ``production`` and AUTOPROD
(steps, producers). All energies in kWh per step.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray

Array = NDArray[np.float64]

__all__ = [
    "attribute_pooled",
    "dynamic",
    "economic_greedy",
    "full_dynamic",
    "italian",
    "max_min_fair",
    "merit_order_attribution",
    "priority_cascade",
    "prorata",
    "prosumer_optimal",
    "static",
    "static_limit",
    "static_rounds",
]


# --- kernels.attribution ------------------------------------------------------------------


def attribute_pooled(allocated: Array, production: Array) -> tuple[Array, Array]:
    """AUTOPROD and SURPLUS per producer, prorata of production (docs/rules.md,
    "Attribution to producers").

    ``AUTOPROD[t, j] = (sum_i A[t, i]) * P[t, j] / P_tot[t]``, ``SURPLUS = P - AUTOPROD``.
    Twin of :mod:`repartition.kernels.attribution` (``attribute_row``, ``attribute_steps``).
    """
    production_total = production.sum(axis=1)
    allocated_total = allocated.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(production_total > 0, allocated_total / production_total, 0.0)
    fraction = np.minimum(fraction, 1.0)
    self_consumed = production * fraction[:, None]
    return self_consumed, production - self_consumed


# --- kernels.prorata ----------------------------------------------------------------------


def prorata(consumption: Array, production: Array) -> Array:
    """``A[t, i] = C[t, i] * min(1, P_tot[t] / sum_i C[t, i])``, 0 when nobody consumes.

    Twin of :mod:`repartition.kernels.prorata` (``prorata_rows``, ``prorata_members``).
    """
    production_total = production.sum(axis=1)
    consumption_total = consumption.sum(axis=1)
    # A quotient that overflows (a subnormal total consumption) is capped at 1 all the same.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        ratio = np.where(
            consumption_total > 0, np.minimum(1.0, production_total / consumption_total), 0.0
        )
        # A subnormal ratio keeps few digits: (C / sum C) * P_tot keeps them all.
        tiny = (ratio > 0.0) & (ratio < np.finfo(np.float64).tiny)
        exact = (consumption / consumption_total[:, None]) * production_total[:, None]
    return np.where(tiny[:, None], exact, consumption * ratio[:, None])


# --- kernels.static -----------------------------------------------------------------------


def static(consumption: Array, production: Array, coefficients: Array) -> Array:
    """``A[t, i] = min(C[t, i], k[i] * P_tot[t])``.

    Twin of :mod:`repartition.kernels.static` (``static_rows``, ``static_members``).
    """
    production_total = production.sum(axis=1)
    allocated: Array = np.minimum(consumption, coefficients[None, :] * production_total[:, None])
    return allocated


# --- kernels.water_filling ----------------------------------------------------------------


def static_rounds(consumption: Array, production: Array, coefficients: Array, rounds: int) -> Array:
    """Static key then ``rounds`` literal redistribution rounds.

    Each round takes what is still unallocated, ``P_tot - sum_i A``, and gives it to the
    consumers with ``k_i > 0`` and ``A < C`` in proportion to ``k_i``, each capped by ``C``.
    Twin of :mod:`repartition.kernels.water_filling` with ``rounds`` rounds.
    """
    production_total = production.sum(axis=1)
    allocated = static(consumption, production, coefficients)
    keyed = coefficients > 0
    for _ in range(rounds):
        leftover = np.maximum(production_total - allocated.sum(axis=1), 0.0)
        open_ = keyed[None, :] & (allocated < consumption)
        open_key = np.where(open_, coefficients[None, :], 0.0)
        open_total = open_key.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            per_key = np.where(open_total > 0, leftover / open_total, 0.0)
            offered = np.where(open_, open_key * per_key[:, None], 0.0)
        allocated = np.minimum(consumption, allocated + offered)
    return allocated


def _served(consumption: Array, coefficients: Array, level: Array) -> Array:
    """``sum_i min(C[t, i], k_i * L[t])`` over keyed consumers, per step."""
    keyed = coefficients > 0
    with np.errstate(invalid="ignore"):  # 0 * inf in the branch np.where discards
        capped = np.where(keyed[None, :], coefficients[None, :] * level[:, None], 0.0)
    allocated: Array = np.minimum(consumption, capped)
    return allocated


def static_limit(consumption: Array, production: Array, coefficients: Array) -> Array:
    """Water-filling limit of static redistribution, by bisection on the level.

    Finds, per step, the largest level ``L >= P_tot`` with
    ``sum_i min(C, k * L) <= min(P_tot, sum_{k_i > 0} C)`` and returns ``min(C, k * L)``
    (``C`` for every keyed consumer when all can be served). The bisection runs on the bit
    patterns of the float64 levels (ordered like the levels, as they are >= 0), so after
    64 halvings it has found the level to the last bit, however small the coefficients.
    Twin of :mod:`repartition.kernels.water_filling` with ``rounds=EXACT``.
    """
    production_total = production.sum(axis=1)
    keyed = coefficients > 0
    keyed_demand = consumption[:, keyed].sum(axis=1)
    target = np.minimum(production_total, keyed_demand)
    low = production_total.astype(np.float64).view(np.int64)
    high = np.full_like(low, np.array(np.inf).view(np.int64))
    for _ in range(64):
        middle = low + (high - low + 1) // 2
        served = _served(consumption, coefficients, middle.view(np.float64)).sum(axis=1)
        fits = served <= target
        low = np.where(fits, middle, low)
        high = np.where(fits, high, middle - 1)
    level = np.where(keyed_demand <= production_total, np.inf, low.view(np.float64))
    return _served(consumption, coefficients, level)


def max_min_fair(consumption: Array, production: Array) -> Array:
    """Max-min fair (equal share) allocation, by bisection on the per-consumer cap.

    Finds, per step, the cap ``lam`` with ``sum_i min(C[t, i], lam) = min(P_tot[t],
    sum_i C[t, i])`` and returns ``min(C, lam)`` (``C`` when everyone can be served). Works
    on the cap itself, not on a level of weights: it does not share code or idea with
    :func:`static_limit` beyond the bisection. Twin of
    :mod:`repartition.kernels.water_filling` with equal keys (:class:`repartition.keys.EqualShare`).
    """
    production_total = production.sum(axis=1)
    demand = consumption.sum(axis=1)
    low = np.zeros_like(production_total)
    high = np.maximum(production_total, consumption.max(axis=1, initial=0.0))
    for _ in range(200):
        middle = 0.5 * (low + high)
        fits = np.minimum(consumption, middle[:, None]).sum(axis=1) <= production_total
        low = np.where(fits, middle, low)
        high = np.where(fits, high, middle)
    cap = np.where(demand <= production_total, np.inf, low)
    allocated: Array = np.minimum(consumption, cap[:, None])
    return allocated


# --- kernels.dynamic ----------------------------------------------------------------------


def dynamic(consumption: Array, production: Array, coefficients: Array) -> Array:
    """``A[t, i] = min(C[t, i], k[t, i] * P_tot[t])``; all-NaN rows fall back to prorata.

    Twin of :mod:`repartition.kernels.dynamic` (``dynamic_rows``, ``dynamic_members``).
    """
    production_total = production.sum(axis=1)
    missing = np.asarray(np.isnan(coefficients).all(axis=1))
    keyed = np.minimum(consumption, np.nan_to_num(coefficients) * production_total[:, None])
    return np.where(missing[:, None], prorata(consumption, production), keyed)


# --- kernels.full_dynamic (and prosumer, on tables repeated over the steps) ---------------


def full_dynamic(
    consumption: Array, production: Array, coefficients: Array
) -> tuple[Array, Array, Array]:
    """Full dynamic key with ``coefficients`` of shape (producers, steps, consumers).

    Returns ``(allocated, self_consumed, flows)`` with ``flows[t, j, i] = k[t, j, i] * P[t, j]``
    scaled per consumer by ``min(1, C / sum_j flows)``. A producer's row summing above 1 (by
    no more than the keys' tolerance: the callers check) is first divided by its sum, as the
    kernels do. Twin of :mod:`repartition.kernels.full_dynamic`, and of
    :mod:`repartition.kernels.prosumer` (fixed and relative) on its pair table repeated over
    the steps.
    """
    coefficients = np.asarray(coefficients, dtype=np.float64)
    sums = coefficients.sum(axis=2)
    coefficients = coefficients / np.where(sums > 1.0, sums, 1.0)[:, :, None]
    offered = np.transpose(coefficients, (1, 0, 2)) * production[:, :, None]
    demand = offered.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = np.where(demand > consumption, consumption / demand, 1.0)
    flows = offered * scale[:, None, :]
    allocated = np.minimum(consumption, demand)
    self_consumed = np.minimum(flows.sum(axis=2), production)
    return allocated, self_consumed, flows


# --- kernels.greedy -----------------------------------------------------------------------


def economic_greedy(
    consumption: Array, production: Array, values: Array, serve_zero: bool = True
) -> Array:
    """Economic greedy allocation, without sorting: each consumer against every other.

    ``values`` has shape (consumers,) or (steps, consumers). A consumer ``i`` that is served
    at all (``value > 0``, or ``>= 0`` with ``serve_zero``) gets what is left after every
    consumer of strictly higher value, ``left = P_tot - sum_{v_k > v_i} C_k``, shared with
    the consumers of equal value in proportion to consumption:
    ``A[t, i] = C[t, i] * clip(left / sum_{v_k = v_i} C_k, 0, 1)``. Pairwise comparisons,
    (steps, consumers, consumers): for small tables only. Twin of
    :mod:`repartition.kernels.greedy`.
    """
    production_total = production.sum(axis=1)
    value = np.broadcast_to(values, consumption.shape)
    higher = value[:, None, :] > value[:, :, None]  # [t, i, k]: k before i
    equal = value[:, None, :] == value[:, :, None]
    before = (higher * consumption[:, None, :]).sum(axis=2)
    group = (equal * consumption[:, None, :]).sum(axis=2)
    left = production_total[:, None] - before
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # clipped to [0, 1]
        fraction = np.where(group > 0, np.clip(left / group, 0.0, 1.0), 0.0)
    served = value > 0 if not serve_zero else value >= 0
    allocated: Array = np.where(served, consumption * fraction, 0.0)
    return allocated


# --- kernels.prosumer_optimal -------------------------------------------------------------


def prosumer_optimal(
    consumption: Array, production: Array, coefficients: Array, owners: NDArray[np.intp]
) -> tuple[Array, Array]:
    """Prosumer-aware "optimal" key, step by step and round by round (plain loops).

    ``coefficients`` are the static ``k_i`` (sum ``S <= 1``), ``owners`` the owner column of
    each producer (``-1``: none). Producer ``j`` first offers ``P[t, j] * k_i * S / (S -
    k_owner)`` to each consumer ``i != owner`` (the relative key); a consumer offered more
    than it needs takes all its offers scaled by one factor and is saturated. Then, while a
    round saturates someone new, each producer offers what it has left to its open
    consumers (``i != owner``, ``k_i > 0``, not saturated) in proportion to ``k_i``; the
    first such round always runs (it hands on the share ``1 - S`` too).
    Returns ``(allocated, flows)`` with ``flows`` of shape (steps, producers, consumers).
    Twin of :mod:`repartition.kernels.prosumer_optimal` (``optimal_rows``,
    ``optimal_members``, and ``flow_tables`` for the flows).
    """
    steps, consumers = consumption.shape
    producers = production.shape[1]
    total = float(coefficients.sum())
    allocated = np.zeros((steps, consumers))
    flows = np.zeros((steps, producers, consumers))
    for t in range(steps):
        weights = np.zeros((producers, consumers))
        for j in range(producers):
            for i in range(consumers):
                if i != owners[j]:
                    weights[j, i] = coefficients[i]
            others = weights[j].sum()
            weights[j] = weights[j] * (total / others) if others > 0 else 0.0
            weights[j] /= max(1.0, weights[j].sum())
        offer = production[t][:, None] * weights
        saturated = np.zeros(consumers, dtype=bool)
        for round_ in range(consumers + 2):
            need = consumption[t] - allocated[t]
            demand = offer.sum(axis=0)
            capped = demand > need
            for i in range(consumers):
                factor = need[i] / demand[i] if capped[i] else 1.0
                flows[t, :, i] += offer[:, i] * factor
                allocated[t, i] = consumption[t, i] if capped[i] else allocated[t, i] + demand[i]
            newly = capped & ~saturated
            saturated = saturated | capped
            if round_ > 0 and not newly.any():
                break
            for j in range(producers):
                open_weights = np.where(saturated, 0.0, coefficients)
                if owners[j] >= 0:
                    open_weights[owners[j]] = 0.0
                left = max(production[t, j] - flows[t, j].sum(), 0.0)
                weight_total = open_weights.sum()
                offer[j] = open_weights * (left / weight_total) if weight_total > 0 else 0.0
    return allocated, flows


# --- kernels.merit_order ------------------------------------------------------------------


def merit_order_attribution(
    production: Array, shared: Array, commissioning: Array
) -> tuple[Array, Array]:
    """AUTOPROD and SURPLUS when plants are served in order of commissioning.

    For each producer j: ``E = sum_{d_k < d_j} P[t, k]`` (strictly earlier plants),
    ``G = sum_{d_k = d_j} P[t, k]`` (its group, j included); the group takes
    ``clip(shared - E, 0, G)`` and j gets its production's part of it. Twin of
    :func:`repartition.kernels.merit_order.attribute`.
    """
    earlier = (commissioning[None, :] < commissioning[:, None]).astype(np.float64)  # [j, k]
    same = (commissioning[None, :] == commissioning[:, None]).astype(np.float64)
    earlier_production = production @ earlier.T
    group_production = production @ same.T
    taken = np.clip(shared[:, None] - earlier_production, 0.0, group_production)
    with np.errstate(divide="ignore", invalid="ignore"):
        self_consumed = np.where(group_production > 0, taken * (production / group_production), 0.0)
    return self_consumed, production - self_consumed


def italian(consumption: Array, production: Array, commissioning: Array) -> tuple[Array, Array]:
    """Italy's CER rule: ``(allocated, self_consumed)``.

    Shared energy ``min(P_tot, sum_i C)`` per step, split among consumers in proportion to
    consumption (:func:`prorata`) and attributed to plants by :func:`merit_order_attribution`.
    """
    allocated = prorata(consumption, production)
    shared = np.minimum(production.sum(axis=1), consumption.sum(axis=1))
    self_consumed, _ = merit_order_attribution(production, shared, commissioning)
    return allocated, self_consumed


# --- no kernel of its own: the cascade of keys --------------------------------------------


def priority_cascade(
    consumption: Array,
    production: Array,
    groups: list[tuple[NDArray[np.intp], Callable[[Array, Array], Array]]],
) -> tuple[Array, Array]:
    """Priority cascade: ``(allocated, self_consumed)``.

    ``groups`` lists, first served first, the column numbers of each group and its rule
    ``rule(group_consumption, production_left) -> group_allocated`` (e.g. :func:`prorata`).
    Each group's energy is taken from the producers by :func:`attribute_pooled` on what they
    have left, which is what the next group shares.
    """
    allocated = np.zeros_like(consumption)
    self_consumed = np.zeros_like(production)
    left = production
    for columns, rule in groups:
        group_allocated = rule(consumption[:, columns], left)
        allocated[:, columns] = group_allocated
        taken, left = attribute_pooled(group_allocated, left)
        self_consumed = self_consumed + taken
    return allocated, self_consumed
