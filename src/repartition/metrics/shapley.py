"""The Shapley value of the community gain, per consumer.

**Players** are the consumers; the producers always take part (their production is given,
as in every allocation). **Characteristic function**: the value of a coalition ``S`` of
consumers is what the energy allocated to ``S`` is worth when ``S`` alone shares the pooled
production with the key:

``v(S) = sum_t sum_{i in S} value[t, i] * A_S[t, i]``, ``v(empty) = 0``,

with ``A_S`` the allocation of ``P_tot`` among the consumers of ``S`` only and
``value[t, i]`` the worth of a local kWh to consumer ``i`` [currency per kWh] (e.g. its
retail price minus the producers' surplus price: then ``v(N)`` is the community's gain,
``bills(...)["savings"].sum() + producer_revenue(...)["gain"].sum()``). The Shapley value
``phi_i = sum_{S not containing i} |S|! (N - |S| - 1)! / N! * (v(S + i) - v(S))`` splits
``v(N)`` among the consumers by their average marginal contribution.

The Prorata key (and :class:`~repartition.keys.ItalianKey`, the same on the consumer side)
has a closed form per step, run by Numba (:mod:`repartition.kernels.shapley`); any other key
is applied to each coalition with :func:`repartition.allocate_arrays`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from math import comb
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import coalitions, errors
from repartition.allocation import Allocation
from repartition.engine import allocate, allocate_arrays
from repartition.keys import EqualShare, ItalianKey, Prorata, SharingKey
from repartition.metrics.tariffs import Tariffs, retail_prices

__all__ = ["coalition_value", "shapley_values"]

Array = NDArray[np.float64]
Positions = NDArray[np.intp]
KeyFor = SharingKey | Callable[[Positions], SharingKey]
"""A key used by every coalition, or a function of a coalition's column positions."""

MAX_EXACT = 24
"""Most consumers :func:`shapley_values` enumerates coalitions for (2^24 values, 128 MiB)."""

_CLOSED_FORM = (Prorata, ItalianKey)
_SAME_FOR_ALL = (Prorata, ItalianKey, EqualShare)


def shapley_values(
    consumption: pd.DataFrame,
    production: pd.DataFrame | pd.Series,
    value_per_kwh: Any,
    *,
    key: KeyFor | None = None,
    exact_limit: int = 15,
    samples: int = 1000,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Shapley value of each consumer in the community's gain: exact or sampled.

    ``v(S) = sum_t sum_{i in S} value[t, i] * A_S[t, i]``, where ``A_S`` is the allocation
    of the pooled production among the consumers of ``S`` only with the key, and
    ``phi_i = sum_{S not containing i} |S|! (N - |S| - 1)! / N! * (v(S + i) - v(S))``.

    Parameters
    ----------
    consumption, production : pandas.DataFrame (or Series for production)
        As for :func:`repartition.allocate`. [kWh per step]
    value_per_kwh : float, mapping, pandas.Series, pandas.DataFrame or Tariffs
        Worth of a local kWh to each consumer, in any form :class:`Tariffs` takes for
        ``retail`` (a number, per consumer, per step, or steps x consumers), finite and of
        either sign: a local kWh is worth less than nothing where it displaces a surplus
        paid more than the retail price. [currency per kWh] A :class:`Tariffs` gives
        ``retail - surplus`` (one surplus price for all producers), so that ``v(N)`` is the
        community's gain.
    key : SharingKey or callable, default Prorata()
        The key each coalition shares the production with. ``Prorata``, ``ItalianKey``
        and ``EqualShare`` apply to any coalition as they are; for keys with one
        coefficient per consumer give a function of the coalition's column positions
        (sorted ``ndarray`` of ints) returning its key, e.g.
        ``lambda s: keys.Static(k[s])`` (unused shares become surplus).
    exact_limit : int, default 15
        Enumerate all ``2^N`` coalitions when ``N <= exact_limit`` (at most
        :data:`MAX_EXACT`, 24); sample beyond. ``exact_limit=0`` always samples.
    samples : int, default 1000
        Permutations drawn when sampling (Monte Carlo over orders of arrival).
    seed : int, numpy.random.Generator or None
        Seed of the permutations (sampling is reproducible with a fixed seed).

    Returns
    -------
    pandas.DataFrame
        One row per consumer: ``shapley`` [currency] and ``standard_error``, the
        standard error of the mean of its sampled marginal contributions
        (``std(ddof=1) / sqrt(samples)``; 0 when exact). The ``shapley`` column sums to
        ``v(N)``, exactly up to rounding in both modes (each permutation's marginal
        contributions add up to ``v(N)``).

    Raises
    ------
    repartition.errors.RepartitionError
        Bad energies or prices, as :func:`repartition.allocate` and :class:`Tariffs`.
    TypeError
        A key with per-consumer coefficients passed as is (give a function instead).
    ValueError
        ``samples < 2``, or more than :data:`MAX_EXACT` consumers to enumerate.

    Notes
    -----
    Exact cost with Prorata: ``2^N x steps`` additions (a year at N = 15 takes about a
    second); with other keys ``2^N`` allocations. Sampling costs ``samples x N x steps``
    with Prorata, ``samples x N`` allocations otherwise (coalitions met twice are reused).

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition.metrics.shapley import shapley_values
    >>> index = pd.date_range("2025-06-01 12:00", periods=1, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0], "B": [3.0]}, index=index)
    >>> production = pd.Series([2.0], index=index, name="PV")
    >>> # v(A) = 1, v(B) = 2, v(AB) = 2: phi_A = (1 + (2 - 2)) / 2, phi_B = (2 + (2 - 1)) / 2
    >>> shapley_values(consumption, production, 1.0)
       shapley  standard_error
    A      0.5             0.0
    B      1.5             0.0
    """
    _check_count(exact_limit, "exact_limit", 0)
    _check_count(samples, "samples", 2)
    game = _Game.build(consumption, production, value_per_kwh, key)
    members = game.members
    if members <= exact_limit:
        if members > MAX_EXACT:
            raise errors.ParameterError(
                f"Exact Shapley values of {members} consumers need 2^{members} coalitions; "
                f"at most {MAX_EXACT} are enumerated: lower exact_limit to sample instead."
            )
        values = game.all_values()
        phi = _exact_shapley(values, members)
        error = np.zeros(members)
    else:
        rng = np.random.default_rng(seed)
        permutations = rng.permuted(np.tile(np.arange(members), (samples, 1)), axis=1)
        marginals = game.marginals(permutations)
        phi = marginals.mean(axis=0)
        error = marginals.std(axis=0, ddof=1) / np.sqrt(samples)
    return pd.DataFrame({"shapley": phi, "standard_error": error}, index=game.consumers)


def coalition_value(
    consumption: pd.DataFrame,
    production: pd.DataFrame | pd.Series,
    value_per_kwh: Any,
    members: Sequence[Any],
    *,
    key: KeyFor | None = None,
) -> float:
    """``v(S)``: worth of the energy the consumers ``members`` receive sharing alone.

    ``v(S) = sum_t sum_{i in S} value[t, i] * A_S[t, i]`` [currency], with parameters as
    :func:`shapley_values` and ``members`` the consumer ids of ``S``.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition.metrics.shapley import coalition_value
    >>> index = pd.date_range("2025-06-01 12:00", periods=1, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0], "B": [3.0]}, index=index)
    >>> production = pd.Series([2.0], index=index, name="PV")
    >>> coalition_value(consumption, production, 0.5, ["B"])  # min(3, 2) kWh x 0.5
    1.0
    """
    game = _Game.build(consumption, production, value_per_kwh, key)
    positions = game.consumers.get_indexer(pd.Index(list(members)))
    if (positions < 0).any():
        unknown = list(members)[int(np.argmax(positions < 0))]
        raise errors.UnknownMemberError(
            f"Consumer {unknown!r} is not a column of the consumption.", member=unknown
        )
    return game.value(np.unique(positions))


def _check_count(count: Any, name: str, least: int) -> None:
    if isinstance(count, bool) or not isinstance(count, int | np.integer) or count < least:
        raise errors.ParameterError(f"{name} must be a whole number >= {least}, not {count!r}.")


class _Game:
    """The coalition game of one community: arrays, the key, cached coalition values."""

    def __init__(self, allocation: Allocation, value: Array, key: KeyFor) -> None:
        self.consumers = allocation.consumers
        self.members = len(self.consumers)
        self.consumption = np.ascontiguousarray(allocation.arrays.consumption)
        self.production = np.ascontiguousarray(allocation.arrays.production)
        self.value_table = np.ascontiguousarray(value)
        self.key = key
        self.cache: dict[bytes, float] = {}

    @classmethod
    def build(cls, consumption: Any, production: Any, value_per_kwh: Any, key: Any) -> _Game:
        key = Prorata() if key is None else key
        if isinstance(key, SharingKey) and not isinstance(key, _SAME_FOR_ALL):
            raise errors.ParameterTypeError(
                f"{type(key).__name__} has coefficients per consumer: pass a function of a "
                "coalition's column positions returning its key, e.g. "
                "`key=lambda s: keys.Static(coefficients[s])`."
            )
        if not isinstance(key, SharingKey) and not callable(key):
            raise errors.ParameterTypeError(
                f"key must be a SharingKey or a callable, not {type(key).__name__}."
            )
        # One allocation of the grand coalition checks the inputs (and the key) once.
        whole = key if isinstance(key, SharingKey) else key(np.arange(consumption.shape[1]))
        allocation = allocate(consumption, production, whole)
        return cls(allocation, _value_table(value_per_kwh, allocation), key)

    def value(self, positions: Positions) -> float:
        """``v(S)`` for the sorted column positions of ``S``. [currency]"""
        if not len(positions):
            return 0.0
        cached = self.cache.get(positions.tobytes())
        if cached is not None:
            return cached
        # Fancy indexing on columns would give a column-major array, and the member-major
        # kernels' several parallel passes cost ten times more than one row-major kernel
        # on a few columns.
        consumption = np.ascontiguousarray(self.consumption[:, positions])
        key = self.key if isinstance(self.key, SharingKey) else self.key(positions)
        allocated = allocate_arrays(consumption, self.production, key).allocated
        result = float(np.sum(self.value_table[:, positions] * allocated))
        self.cache[positions.tobytes()] = result
        return result

    def all_values(self) -> Array:
        """``v`` of every coalition, indexed by bit mask (bit ``i``: column ``i``)."""
        if isinstance(self.key, _CLOSED_FORM):
            return coalitions.prorata_coalition_values(
                self.consumption, self.production, self.value_table
            )
        bits = np.arange(self.members)
        return np.array(
            [self.value(bits[(mask >> bits) & 1 == 1]) for mask in range(1 << self.members)]
        )

    def marginals(self, permutations: NDArray[np.int64]) -> Array:
        """Marginal contribution of each member in each permutation. [currency]"""
        if isinstance(self.key, _CLOSED_FORM):
            return coalitions.prorata_permutation_marginals(
                self.consumption, self.production, self.value_table, permutations
            )
        marginals = np.empty(permutations.shape)
        for k, order in enumerate(permutations):
            previous = 0.0
            for position in range(len(order)):
                total = self.value(np.sort(order[: position + 1]))
                marginals[k, order[position]] = total - previous
                previous = total
        return marginals


def _value_table(value_per_kwh: Any, allocation: Allocation) -> Array:
    """``value[t, i]`` on the allocation's steps and consumers. [currency per kWh]"""
    surplus = 0.0
    if isinstance(value_per_kwh, Tariffs):
        prices = np.atleast_1d(np.asarray(value_per_kwh.surplus, dtype=np.float64))
        if len(prices) and (prices != prices[0]).any():
            raise errors.ParameterError(
                "The gain of a local kWh is retail - surplus only with one surplus price "
                "for all producers: pass value_per_kwh explicitly instead."
            )
        surplus = float(prices[0]) if len(prices) else 0.0
        tariffs = value_per_kwh
        retail = retail_prices(tariffs, allocation)
    else:
        try:  # Tariffs checks "retail" prices: name them as the caller did
            # Signed: a local kWh can be worth less than nothing to a member (retail below
            # the surplus price), as with Tariffs, where the value is retail - surplus.
            tariffs = Tariffs(retail=value_per_kwh, local=0.0, surplus=0.0, allow_negative=True)
            retail = retail_prices(tariffs, allocation)
        except errors.RepartitionError as error:
            raise type(error)(
                error.message.replace("retail price", "value per kWh"),
                column=error.column,
                member=error.member,
                timestamp=error.timestamp,
            ) from None
    shape = allocation.arrays.allocated.shape
    values = np.asarray(retail.values, dtype=np.float64)
    if retail.per == "step":
        values = values[:, None]
    return np.broadcast_to(values - surplus, shape).astype(np.float64)


def _exact_shapley(values: Array, members: int) -> Array:
    """``phi_i`` from ``v`` of every coalition (bit mask index), ``O(N 2^N)``."""
    masks = np.arange(1 << members)
    sizes = np.zeros(len(masks), dtype=np.int64)
    for bit in range(members):
        sizes += (masks >> bit) & 1
    # |S|! (N - |S| - 1)! / N! = 1 / (N * C(N - 1, |S|)), for |S| = 0 .. N - 1.
    weights = np.array([1.0 / (members * comb(members - 1, s)) for s in range(members)])
    phi = np.empty(members)
    for bit in range(members):
        without = masks[(masks >> bit) & 1 == 0]
        gains = values[without | (1 << bit)] - values[without]
        phi[bit] = float(np.sum(weights[sizes[without]] * gains))
    return phi


# --- plain NumPy twins of the kernels (references for the tests) ---------------------------


def _numpy_step_values(energy: Array, worth: Array, production_total: Array) -> Array:
    ratio = np.divide(production_total, energy, out=np.ones_like(energy), where=energy > 0)
    return np.asarray(worth * np.minimum(1.0, ratio), dtype=np.float64)


def _numpy_coalition_values(consumption: Array, production_total: Array, value: Array) -> Array:
    """NumPy twin of :func:`repartition.kernels.shapley.prorata_coalition_values`."""
    members = consumption.shape[1]
    masks = np.arange(1 << members)
    inside = ((masks[:, None] >> np.arange(members)) & 1).astype(np.float64)  # (2^N, N)
    energy = consumption @ inside.T  # (steps, 2^N)
    worth = (value * consumption) @ inside.T
    steps = _numpy_step_values(energy, worth, production_total[:, None])
    return np.asarray(steps.sum(axis=0), dtype=np.float64)


def _numpy_marginals(
    consumption: Array, production_total: Array, value: Array, permutations: NDArray[np.int64]
) -> Array:
    """NumPy twin of :func:`repartition.kernels.shapley.prorata_permutation_marginals`."""
    marginals = np.empty(permutations.shape)
    for k, order in enumerate(permutations):
        energy = np.cumsum(consumption[:, order], axis=1)  # (steps, N): prefixes of the order
        worth = np.cumsum((value * consumption)[:, order], axis=1)
        totals = _numpy_step_values(energy, worth, production_total[:, None]).sum(axis=0)
        marginals[k, order] = np.diff(totals, prepend=0.0)
    return marginals
