"""What an optimal key maximises: the objectives of :mod:`repartition.optimize`.

Each objective is a small immutable value. Linear objectives (:class:`MaxSavings`,
:class:`MinBills`, :class:`MaxSelfConsumption`, :class:`ClosestToReference` with the L1
norm) can be combined with weights: the optimum of ``sum_k weight_k * objective_k``.
:class:`MaxMinFairness` is lexicographic: first the largest possible smallest rate, then,
among the allocations that reach it, the other objectives (or the savings). The math of each
is in docs/optimize.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from repartition import errors
from repartition.keys import Prorata, SharingKey
from repartition.metrics import Tariffs

__all__ = [
    "ClosestToReference",
    "MaxMinFairness",
    "MaxSavings",
    "MaxSelfConsumption",
    "MinBills",
    "Objective",
]


def _weight(weight: object) -> float:
    if isinstance(weight, bool) or not isinstance(weight, int | float):
        raise errors.ParameterTypeError(f"An objective's weight must be a number, not {weight!r}.")
    if not 0.0 < float(weight) < float("inf"):
        raise errors.ParameterError(
            f"An objective's weight must be positive and finite, not {weight!r}."
        )
    return float(weight)


def _tariffs(tariffs: object, objective: str) -> None:
    if not isinstance(tariffs, Tariffs):
        raise errors.ParameterTypeError(
            f"{objective} needs tariffs=repartition.metrics.Tariffs(...), not "
            f"{type(tariffs).__name__}."
        )


def _key(key: object, what: str) -> None:
    if not isinstance(key, SharingKey):
        raise errors.ParameterTypeError(
            f"{what} must be a sharing key of repartition.keys (Prorata(), Static(...), ...), "
            f"not {type(key).__name__}."
        )


@dataclass(frozen=True)
class MaxSavings:
    """Maximise the consumers' savings: ``sum_t sum_i v[t, i] * A[t, i]``. [EUR]

    ``v[t, i] = retail[t, i] - local[t]`` is what a local kWh saves consumer ``i`` at step
    ``t``: its supplier's price (flat, time-of-use, per consumer) minus the local price,
    the producers' local prices weighted by their production at that step (the DSO
    attributes each consumer's AUTOCONS to the producers prorata of production).

    Parameters
    ----------
    tariffs : repartition.metrics.Tariffs
        Retail and local prices. [EUR/kWh]
    weight : float
        Its weight when combined with other objectives.
    """

    tariffs: Tariffs
    weight: float = 1.0

    def __post_init__(self) -> None:
        _tariffs(self.tariffs, "MaxSavings")
        object.__setattr__(self, "weight", _weight(self.weight))


@dataclass(frozen=True)
class MinBills:
    """Minimise the members' total bills (Villena et al. 2020), from a reference key.

    The members' bills, consumers and producers together: what consumers pay their supplier
    for COMPLEMENT minus what producers are paid for SURPLUS (local payments are transfers
    between members and cancel out). Minimising it is maximising ``sum_t sum_i (retail[t, i]
    - surplus[t]) * A[t, i]``, with ``surplus[t]`` the producers' surplus prices weighted by
    production, minus ``deviation_price`` for every kWh moved away from the allocation of
    the ``reference`` key. With :class:`~repartition.optimize.constraints.ReferenceBounds`
    added, coefficients stay within a band around the reference's: the published method.

    Parameters
    ----------
    tariffs : repartition.metrics.Tariffs
        Retail and surplus prices. [EUR/kWh]
    reference : SharingKey
        The key the members agreed on (static, proportional-static, proportional-dynamic):
        :class:`~repartition.keys.Prorata` by default.
    deviation_price : float
        Cost of each kWh allocated differently from the reference (``|A - A_ref|``, summed
        over steps and consumers) [EUR/kWh]; 0 leaves only the bounds.
    weight : float
        Its weight when combined with other objectives.
    rank_producers : bool
        Choose which producer sells to whom (the cheapest surplus first), as the paper does:
        one variable per producer, consumer and step, and the result is a **full dynamic
        key** (one key file per producer). ``False`` (the default): the DSO's pooled
        attribution of a dynamic key, where every producer sells the same share of its
        production. With it, only ``MinSelfSufficiency`` constraints, no reference band, no
        deviation price, no storage.

    References
    ----------
    M. Manuel de Villena, S. Mathieu, E. Vermeulen, D. Ernst, "Allocation of locally
    generated electricity in renewable energy communities", arXiv:2009.05411 (2020).
    """

    tariffs: Tariffs
    reference: SharingKey = field(default_factory=Prorata)
    deviation_price: float = 0.0
    weight: float = 1.0
    rank_producers: bool = False

    def __post_init__(self) -> None:
        _tariffs(self.tariffs, "MinBills")
        if not isinstance(self.rank_producers, bool):
            raise errors.ParameterTypeError(
                f"rank_producers must be True or False, not {self.rank_producers!r}."
            )
        _key(self.reference, "MinBills' reference")
        price = self.deviation_price
        if isinstance(price, bool) or not isinstance(price, int | float) or not price >= 0:
            raise errors.ParameterError(
                f"deviation_price must be a number >= 0 [EUR/kWh], not {price!r}."
            )
        object.__setattr__(self, "deviation_price", float(price))
        object.__setattr__(self, "weight", _weight(self.weight))


@dataclass(frozen=True)
class MaxSelfConsumption:
    """Maximise the energy shared, ``sum A`` (equivalently, minimise the surplus). [kWh]

    Alone, any allocation that shares ``min(P_tot, sum_i C)`` at every step is optimal
    (Prorata is one); it is useful combined with floors or as a tie-breaker.
    """

    weight: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "weight", _weight(self.weight))


@dataclass(frozen=True)
class MaxMinFairness:
    """Maximise the smallest rate among the consumers over the horizon, then the rest.

    ``measure="self_sufficiency"``: the rate of consumer ``i`` is ``sum_t A[t, i] / sum_t
    C[t, i]``. ``measure="savings"``: its savings relative to its bill without the
    operation, ``sum_t v[t, i] A[t, i] / sum_t retail[t, i] C[t, i]`` (needs ``tariffs``).
    Consumers who consume nothing over the horizon are left out.

    **Lexicographic, two stages**: the first maximises the smallest rate ``z``; the second
    keeps every rate at least ``z * (1 - 1e-9)`` and maximises the other objectives given
    (or, with none, the savings when ``tariffs`` are given, else the energy shared). It
    does not raise the second-smallest rate further (that would be the full leximin).
    """

    measure: Literal["self_sufficiency", "savings"] = "self_sufficiency"
    tariffs: Tariffs | None = None

    def __post_init__(self) -> None:
        if self.measure not in ("self_sufficiency", "savings"):
            raise errors.ParameterError(
                f"MaxMinFairness measure must be 'self_sufficiency' or 'savings', not "
                f"{self.measure!r}."
            )
        if self.measure == "savings" or self.tariffs is not None:
            _tariffs(self.tariffs, "MaxMinFairness(measure='savings')")


@dataclass(frozen=True)
class ClosestToReference:
    """Minimise the distance to the allocation of a reference key, within the constraints.

    ``norm="l1"``: ``sum_t sum_i |A[t, i] - A_ref[t, i]|`` [kWh], a linear program (HiGHS).
    ``norm="l2"``: ``sum_t sum_i (A[t, i] - A_ref[t, i])**2`` [kWh^2], a quadratic program
    (cvxpy with Clarabel); it spreads the changes over many consumers where L1 moves few.

    Parameters
    ----------
    reference : SharingKey
        The key to stay close to.
    norm : {"l1", "l2"}
    weight : float
        Its weight when combined with other objectives (per kWh, or per kWh^2).
    """

    reference: SharingKey
    norm: Literal["l1", "l2"] = "l1"
    weight: float = 1.0

    def __post_init__(self) -> None:
        _key(self.reference, "ClosestToReference's reference")
        if self.norm not in ("l1", "l2"):
            raise errors.ParameterError(f"norm must be 'l1' or 'l2', not {self.norm!r}.")
        object.__setattr__(self, "weight", _weight(self.weight))


Objective = MaxSavings | MinBills | MaxSelfConsumption | MaxMinFairness | ClosestToReference
"""Any objective of :mod:`repartition.optimize`."""
