"""The two baselines every benchmark report is measured against, in the same run.

(a) **pandas**: each sharing rule as an analyst would write it on DataFrames, vectorised
    over the whole table with idiomatic pandas (``sum(axis=1)``, ``mul(..., axis=0)``,
    ``np.minimum`` on frames), no Numba, no Python loop over steps or consumers. These are
    correct implementations of the rules of ``docs/rules.md`` (the benchmark
    tests check that they agree with :func:`repartition.allocate`), not strawmen: where
    two idioms are equally natural the faster one is used (``np.minimum(frame, cap)``
    rather than ``frame.clip(upper=cap)``, which is 5 to 15 times slower in pandas 3.1 and
    would flatter repartition; see ``docs/performance.md``).
(b) **the floor**: reading and writing an array of the consumption's size with NumPy,
    ``consumption.copy(order="K")``: what any function that reads the consumption once and
    returns a fresh array of its size cannot beat. It includes the allocation of the new
    array (the kernel's first touch of each page), as :func:`repartition.allocate` must
    also allocate its result. The copy keeps the input's memory layout (row-major or
    member-major), as ``allocate``'s results do: a plain ``ndarray.copy()`` would turn a
    member-major array row-major, a transposition several times slower than a copy.
    :func:`copy_into` (``np.copyto`` into an array allocated once) is the pure bandwidth
    figure without that first touch, reported beside it.

Every pandas function returns :class:`Frames`, the four tables of
:class:`repartition.Allocation`: ``(allocated, grid_supply, self_consumed, surplus)``,
i.e. AUTOCONS and COMPLEMENT ``= consumption - allocated`` per consumer, AUTOPROD and
SURPLUS per producer, as DataFrames on the input's index. [kWh per step]
``repartition``'s kernels write COMPLEMENT in the same pass as AUTOCONS, so a fair
baseline computes it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd
from numpy.typing import NDArray

Array = NDArray[np.float64]


class Frames(NamedTuple):
    """What a pandas baseline returns, in the order of ``repartition``'s ``Shares``. [kWh]"""

    allocated: pd.DataFrame
    """AUTOCONS, (steps, consumers)."""
    grid_supply: pd.DataFrame
    """COMPLEMENT ``= consumption - allocated``, (steps, consumers)."""
    self_consumed: pd.DataFrame
    """AUTOPROD, (steps, producers)."""
    surplus: pd.DataFrame
    """SURPLUS ``= production - self_consumed``, (steps, producers)."""


__all__ = [
    "Frames",
    "copy",
    "copy_into",
    "dynamic",
    "full_dynamic",
    "prorata",
    "static",
    "static_clip",
    "static_redistributed",
]


# --- (b) the memory-bandwidth floor -------------------------------------------------------


def copy(consumption: Array) -> Array:
    """The floor: read the consumption and write a fresh array of its size, in its layout."""
    return consumption.copy(order="K")


def copy_into(out: Array, consumption: Array) -> Array:
    """Read the consumption and write it into ``out``, allocated (and touched) beforehand."""
    np.copyto(out, consumption)
    return out


# --- (a) pandas, as an analyst would write it ---------------------------------------------


def _frames(consumption: pd.DataFrame, allocated: pd.DataFrame, production: pd.DataFrame) -> Frames:
    """The four tables of a pooled key, given AUTOCONS: COMPLEMENT, and AUTOPROD and SURPLUS
    per producer, prorata of production (docs/rules.md)."""
    production_total = production.sum(axis=1)
    fraction = (allocated.sum(axis=1) / production_total).clip(upper=1).fillna(0)
    self_consumed = production.mul(fraction, axis=0)
    return Frames(allocated, consumption - allocated, self_consumed, production - self_consumed)


def prorata(consumption: pd.DataFrame, production: pd.DataFrame) -> Frames:
    """Default dynamic key: ``A = C * min(1, P_tot / sum_i C)``, 0 when nobody consumes."""
    ratio = (production.sum(axis=1) / consumption.sum(axis=1)).clip(upper=1).fillna(0)
    allocated = consumption.mul(ratio, axis=0)
    return _frames(consumption, allocated, production)


def static(consumption: pd.DataFrame, production: pd.DataFrame, coefficients: pd.Series) -> Frames:
    """Static key, the DSO's rule: ``A = min(C, k_i * P_tot)``."""
    cap = np.outer(production.sum(axis=1), coefficients)  # k_i * P_tot[t]
    allocated = np.minimum(consumption, cap)
    return _frames(consumption, allocated, production)


def static_clip(
    consumption: pd.DataFrame, production: pd.DataFrame, coefficients: pd.Series
) -> Frames:
    """:func:`static` written with ``DataFrame.clip(upper=...)``: the same result, another
    idiom an analyst may well reach for; reported beside the baseline, never instead."""
    cap = np.outer(production.sum(axis=1), coefficients)
    allocated = consumption.clip(upper=cap)
    return _frames(consumption, allocated, production)


def static_redistributed(
    consumption: pd.DataFrame,
    production: pd.DataFrame,
    coefficients: pd.Series,
    rounds: int | None = None,
    max_rounds: int | None = None,
) -> tuple[Frames, int]:
    """Static key, then redistribution rounds, literally, over the whole table.

    A round gives what is still unallocated, ``P_tot - sum_i A``, to the consumers with
    ``k_i > 0`` and ``A < C``, in proportion to ``k_i``, each capped by ``C``. ``rounds``:
    that many rounds; ``None``: until no step has anything left to hand on (the exact
    limit, reached after at most one round per consumer), or ``max_rounds`` if given
    (the benchmark's cap, see ``docs/performance.md``). Returns the frames and the
    number of rounds run.
    """
    production_total = production.sum(axis=1)
    allocated = np.minimum(consumption, np.outer(production_total, coefficients))
    keyed = coefficients > 0
    limit = rounds if rounds is not None else max_rounds
    done = 0
    while limit is None or done < limit:
        leftover = (production_total - allocated.sum(axis=1)).clip(lower=0)
        open_keys = ((allocated < consumption) & keyed).mul(coefficients, axis=1)
        open_total = open_keys.sum(axis=1)
        per_key = (leftover / open_total).where(open_total > 0, 0)
        if rounds is None and not (per_key * open_total > 1e-12 * production_total).any():
            break  # nothing left to hand on anywhere: this is the limit
        allocated = np.minimum(allocated + open_keys.mul(per_key, axis=0), consumption)
        done += 1
    return _frames(consumption, allocated, production), done


def dynamic(
    consumption: pd.DataFrame, production: pd.DataFrame, coefficients: pd.DataFrame
) -> Frames:
    """Dynamic key: ``A = min(C, k[t, i] * P_tot)``; steps with no key (NaN row) get prorata."""
    production_total = production.sum(axis=1)
    allocated = np.minimum(consumption, coefficients.mul(production_total, axis=0))
    no_key = coefficients.isna().all(axis=1)
    if no_key.any():
        fallback = prorata(consumption.loc[no_key], production.loc[no_key])
        allocated.loc[no_key] = fallback.allocated
    return _frames(consumption, allocated, production)


def full_dynamic(
    consumption: pd.DataFrame,
    production: pd.DataFrame,
    coefficients: Mapping[str, pd.DataFrame],
) -> Frames:
    """Full dynamic key: ``A[t, j, i] = k[t, j, i] * P[t, j]``, scaled down to ``C``.

    Where a consumer is offered more than it consumes, all its pair shares are scaled by
    the same factor ``C / sum_j A[t, j, i]`` (*assumption*: docs/rules.md, "Full dynamic key").
    """
    offered = sum(coefficients[j].mul(production[j], axis=0) for j in production.columns)
    assert isinstance(offered, pd.DataFrame)
    allocated = np.minimum(consumption, offered)
    scale = (consumption / offered).clip(upper=1).fillna(1)
    self_consumed = pd.DataFrame(
        {
            j: (coefficients[j] * scale).sum(axis=1).clip(upper=1) * production[j]
            for j in production.columns
        }
    )
    return Frames(allocated, consumption - allocated, self_consumed, production - self_consumed)
