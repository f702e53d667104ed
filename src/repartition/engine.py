"""``allocate`` and ``allocate_arrays``: apply a sharing key to a community's energies."""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from repartition import _inputs, errors
from repartition.allocation import Allocation, AllocationArrays, Shares, frozen
from repartition.kernels import threads as kernel_threads
from repartition.kernels.layout import read_only
from repartition.keys import SharingKey
from repartition.problem import Axis, Problem

__all__ = ["allocate", "allocate_arrays", "assemble", "labelled", "prepare"]


def _check_key(key: Any) -> SharingKey:
    if not isinstance(key, SharingKey):
        raise errors.ParameterTypeError(
            f"key must be a sharing key from repartition.keys (Prorata(), Static(...), "
            f"Dynamic(...), FullDynamic(...), EqualShare(), WeightedShare(...), ...), "
            f"not {type(key).__name__}."
        )
    return key


def _threads(count: int | None) -> contextlib.AbstractContextManager[None]:
    """The ``threads=`` of a call: a :func:`~repartition.kernels.threads.threads` block, or
    the context's setting for ``None``."""
    if count is None:
        return contextlib.nullcontext()
    return kernel_threads.threads(count)


def _run(key: SharingKey, consumption: Any, production: Any, axis: Axis) -> AllocationArrays:
    # Production is small (steps x producers): keep an own row-major copy, so that flows()
    # never depends on what the caller does with its table afterwards, and every kernel
    # sees production with one type.
    production = read_only(np.array(production, dtype=np.float64, order="C"))
    shares = key.share(Problem(consumption, production, axis))
    _check_shares(key, shares, consumption.shape, production.shape)
    return AllocationArrays(consumption, production, frozen(shares))


def _check_shares(
    key: SharingKey, shares: Any, consumers: tuple[int, ...], producers: tuple[int, ...]
) -> None:
    """What a key returns has the shapes of the problem (a key of one's own may be wrong)."""
    if not isinstance(shares, Shares):
        raise errors.ParameterTypeError(
            f"{type(key).__name__}.share returned {type(shares).__name__}, not "
            "repartition.allocation.Shares."
        )
    expected = {
        "allocated": consumers,
        "grid_supply": consumers,
        "self_consumed": producers,
        "surplus": producers,
    }
    for name, shape in expected.items():
        array = getattr(shares, name)
        if not isinstance(array, np.ndarray) or array.shape != shape or array.dtype != np.float64:
            found = getattr(array, "shape", None), getattr(array, "dtype", type(array).__name__)
            raise errors.ParameterError(
                f"{type(key).__name__}.share returned {name} of shape and type {found}, where "
                f"float64 of shape {shape} is expected."
            )


def allocate(
    consumption: pd.DataFrame,
    production: pd.DataFrame | pd.Series,
    key: SharingKey,
    *,
    threads: int | None = None,
) -> Allocation:
    """Share the pooled production among consumers, step by step, with a sharing key.

    Parameters
    ----------
    consumption : pandas.DataFrame
        Energy drawn by each consumer (CONS), one column per consumer id, indexed by a
        tz-aware, sorted, regular ``DatetimeIndex`` giving the start of each step.
        [kWh per step]
    production : pandas.DataFrame or pandas.Series
        Energy injected by each producer (PROD), one column per producer id (a Series is
        one producer, named by its ``name``), on the same index as ``consumption``.
        [kWh per step]
    key : SharingKey
        The DSO's keys :class:`~repartition.keys.Prorata`,
        :class:`~repartition.keys.Static`, :class:`~repartition.keys.Dynamic`,
        :class:`~repartition.keys.FullDynamic`, or another strategy from
        :mod:`repartition.keys` (:class:`~repartition.keys.EqualShare`,
        :class:`~repartition.keys.WeightedShare`, :class:`~repartition.keys.SpanishKey`,
        :class:`~repartition.keys.ItalianKey`).
    threads : int, optional
        Threads the kernels of this call may use, the calling thread included (1: never
        start a thread). ``None``, the default, takes the setting of the current
        :func:`repartition.threads` block, else all the cores the process may use. Small
        problems run in the calling thread whatever the setting. Flows computed later by
        :meth:`Allocation.flows` use the setting of that later call.

    Returns
    -------
    Allocation
        AUTOCONS, COMPLEMENT, AUTOPROD and SURPLUS per step and member, with flows and totals.

    Raises
    ------
    repartition.errors.RepartitionError
        Before any computation, for NaN, infinite, negative or non-numeric energy; a
        naive, unsorted, duplicated or irregular index; tables on different steps; no
        consumer or no producer; an empty period; or key coefficients that break their
        key's rules. The error names the member and timestamp at fault.

    Notes
    -----
    Inputs are never modified. For every step ``t`` and consumer ``i``:
    ``0 <= A[t, i] <= C[t, i]``, ``sum_i A[t, i] <= P_tot[t]`` and, per producer,
    ``AUTOPROD + SURPLUS = PROD``, to floating-point rounding.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> index = pd.date_range("2025-06-01", periods=2, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, 2.0]}, index=index)
    >>> production = pd.Series([2.0, 5.0], index=index, name="PV")
    >>> allocate(consumption, production, keys.Prorata()).allocated
                                 A    B
    2025-06-01 00:00:00+02:00  0.5  1.5
    2025-06-01 00:30:00+02:00  2.0  2.0

    In a process pool whose processes already fill the cores, one thread each is fastest;
    the results do not depend on the threads:

    >>> one = allocate(consumption, production, keys.Prorata(), threads=1)
    >>> one.allocated.equals(allocate(consumption, production, keys.Prorata()).allocated)
    True
    """
    with _threads(threads):
        return _allocate(consumption, production, key)


def _allocate(
    consumption: pd.DataFrame, production: pd.DataFrame | pd.Series, key: SharingKey
) -> Allocation:
    key = _check_key(key)
    problem = prepare(consumption, production)
    arrays = _run(key, problem.consumption, problem.production, problem.axis)
    return labelled(key, problem.axis, arrays)


def prepare(consumption: pd.DataFrame, production: pd.DataFrame | pd.Series) -> Problem:
    """The checks of :func:`allocate` on labelled energies, and the checked problem.

    For the modules that solve a problem their own way (:mod:`repartition.optimize`) and
    must refuse exactly what :func:`allocate` refuses, with the same errors.

    Parameters
    ----------
    consumption, production : pandas.DataFrame
        As for :func:`allocate`. [kWh per step]

    Returns
    -------
    Problem
        The arrays as :func:`allocate` gives them to a key (production not yet copied), and
        their axis, with ``index`` and ``step`` set.
    """
    consumption_frame = _inputs.as_frame(consumption, "consumption")
    production_frame = _inputs.as_frame(production, "production")
    step = _inputs.check_time_index(consumption_frame.index, "consumption")
    _inputs.check_time_index(production_frame.index, "production")
    index = consumption_frame.index
    assert isinstance(index, pd.DatetimeIndex)
    _inputs.check_same_steps(index, production_frame.index, "production")
    consumption_values = _inputs.frame_values(consumption_frame, "consumption")
    production_values = _inputs.frame_values(production_frame, "production")
    consumers, producers = consumption_frame.columns, production_frame.columns
    axis = Axis(len(index), consumers, producers, index, step)
    totals = _inputs.check_energy_values(consumption_values, "consumption", consumers, axis)
    _inputs.check_energy_values(production_values, "production", producers, axis)
    axis = replace(axis, consumption_total=totals)
    return Problem(consumption_values, production_values, axis)


def labelled(key: SharingKey, axis: Axis, arrays: AllocationArrays) -> Allocation:
    """The :class:`Allocation` of ``arrays`` on the labelled ``axis`` of :func:`prepare`."""
    assert axis.index is not None
    return Allocation(key, axis.index, axis.step, axis.consumers, axis.producers, arrays)


def assemble(
    key: SharingKey, consumption: Any, production: Any, shares: Shares
) -> AllocationArrays:
    """The results of shares computed outside a key's :meth:`~SharingKey.share`, checked
    and frozen as :func:`allocate` freezes a key's. [kWh per step]"""
    production = read_only(np.array(production, dtype=np.float64, order="C"))
    consumption = read_only(np.asarray(consumption, dtype=np.float64))
    _check_shares(key, shares, consumption.shape, production.shape)
    return AllocationArrays(consumption, production, frozen(shares))


def allocate_arrays(
    consumption: Any, production: Any, key: SharingKey, *, threads: int | None = None
) -> AllocationArrays:
    """Array-level :func:`allocate`, for NumPy users and for the package's own modules.

    Parameters
    ----------
    consumption : array_like, shape (steps, consumers)
        Energy drawn by each consumer. [kWh per step]
    production : array_like, shape (steps, producers) or (steps,)
        Energy injected by each producer. [kWh per step]
    key : SharingKey
        A key whose coefficients are plain arrays in the columns' order (labelled
        coefficients are accepted by :func:`allocate` only).
    threads : int, optional
        Threads the kernels of this call may use, as for :func:`allocate`.

    Returns
    -------
    AllocationArrays
        ``allocated`` (AUTOCONS), ``grid_supply`` (COMPLEMENT), ``self_consumed``
        (AUTOPROD), ``surplus`` and ``flows()``, as float64 arrays. [kWh per step]

    Raises
    ------
    repartition.errors.RepartitionError
        As :func:`allocate`, naming members by column number and steps by row number.

    Examples
    --------
    >>> import numpy as np
    >>> from repartition import allocate_arrays, keys
    >>> result = allocate_arrays(np.array([[1.0, 3.0]]), np.array([2.0]), keys.Static([0.5, 0.5]))
    >>> result.allocated, result.surplus
    (array([[1., 1.]]), array([[0.]]))
    >>> prorata = allocate_arrays(np.array([[1.0, 3.0]]), [2.0], keys.Prorata(), threads=1)
    >>> prorata.allocated
    array([[0.5, 1.5]])
    """
    with _threads(threads):
        return _allocate_arrays(consumption, production, key)


def _allocate_arrays(consumption: Any, production: Any, key: SharingKey) -> AllocationArrays:
    key = _check_key(key)
    consumption_values = _inputs.energy_array(consumption, "consumption")
    steps = consumption_values.shape[0]
    production_values = _inputs.energy_array(production, "production", rows=steps)
    consumers = pd.RangeIndex(consumption_values.shape[1])
    producers = pd.RangeIndex(production_values.shape[1])
    axis = Axis(steps, consumers, producers)
    totals = _inputs.check_energy_values(consumption_values, "consumption", consumers, axis)
    _inputs.check_energy_values(production_values, "production", producers, axis)
    axis = replace(axis, consumption_total=totals)
    return _run(key, consumption_values, production_values, axis)
