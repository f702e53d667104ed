"""Prices for the money metrics: what consumers pay and what producers are paid.

:class:`Tariffs` checks the prices themselves when it is built (numbers, no NaN, none
negative unless allowed, labels unique). Matching them to the members and steps of an
allocation happens once per call of :func:`~repartition.metrics.bills` or
:func:`~repartition.metrics.producer_revenue` (:func:`retail_prices`,
:func:`producer_prices`): unknown or missing members and steps without a price are errors.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition._align import check_ids
from repartition._inputs import is_number
from repartition.allocation import Allocation
from repartition.time import check_time_index

__all__ = ["Tariffs"]

Array = NDArray[np.float64]
Price = float | pd.Series | pd.DataFrame | Mapping[Hashable, float]
"""A price as given: a number, a mapping or ``pd.Series`` by member (or by step), a table."""

_NAMES = {"retail": "retail price", "local": "local price", "surplus": "surplus price"}


@dataclass(frozen=True, eq=False, repr=False)
class Tariffs:
    """Energy prices of an operation, in currency per kWh (EUR/kWh in France).

    Parameters
    ----------
    retail : float, mapping, pandas.Series or pandas.DataFrame
        Price of the energy each consumer buys from its supplier (COMPLEMENT), and would
        buy for all of its consumption without the community. [EUR/kWh] One of:

        - a number: the same flat price for every consumer and step;
        - a mapping or ``pd.Series`` indexed by consumer id: a flat price per consumer;
        - a ``pd.Series`` on a tz-aware ``DatetimeIndex``: a time-of-use price per step,
          the same for every consumer;
        - a ``pd.DataFrame``, steps (tz-aware ``DatetimeIndex``) x consumer ids: a
          time-of-use price per step and consumer.

        Time-of-use prices must cover every step of the allocation; rows for other steps are
        ignored, so one table for a year serves each month's allocation.
    local : float, mapping or pandas.Series
        Price of local energy, per producer (a number for all, or by producer id): a
        consumer pays ``local_p`` for each kWh it receives from producer ``p``, and the
        producer is paid the same. [EUR/kWh]
    surplus : float, mapping or pandas.Series
        Price paid to each producer for its SURPLUS (e.g. a feed-in tariff), per producer.
        [EUR/kWh]
    allow_negative : bool, default False
        Accept prices below zero, as spot-indexed offers have for a few hours (a consumer
        then earns for what it buys, a producer pays for its surplus). Off by default: a
        negative price in these tables is far more often a sign error than a market price.

    Raises
    ------
    repartition.errors.NonNumericError
        A price that is not a number (strings, booleans).
    repartition.errors.MissingValueError, repartition.errors.NonFiniteError
        A NaN or infinite price; the error names the member and the step.
    repartition.errors.DataError
        A negative price (named by member and step), unless ``allow_negative``.
    repartition.errors.DuplicateMemberError, repartition.errors.DuplicateTimestampError
        A member or a step priced twice.
    repartition.errors.NaiveTimestampError
        A time-of-use table without a time zone.

    Notes
    -----
    The prices are stored as given, converted to float64 (a mapping becomes a
    ``pd.Series``); later changes to the caller's objects do not reach them (pandas
    copy-on-write). A ``Series`` whose index is a ``DatetimeIndex`` is read as prices per
    step, any other as prices per member.

    Negative prices are refused unless ``allow_negative=True``. Every formula of
    :mod:`repartition.metrics` holds for them: bills, savings and revenues are sums of
    price x energy, and the gain of a local kWh (``retail - local`` for a consumer) may be
    negative at such a step.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition.metrics import Tariffs
    >>> Tariffs(retail=0.25, local=0.15, surplus=0.04)
    Tariffs(retail=0.25, local=0.15, surplus=0.04)
    >>> per_consumer = Tariffs(retail={"A": 0.25, "B": 0.20}, local={"PV": 0.12}, surplus=0.04)
    >>> per_consumer.retail.to_dict()
    {'A': 0.25, 'B': 0.2}
    """

    retail: Price
    local: Price
    surplus: Price
    allow_negative: bool = dataclasses.field(default=False, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.allow_negative, bool):
            raise errors.ParameterTypeError(
                f"allow_negative must be True or False, not {self.allow_negative!r}."
            )
        for name, tables in (("retail", True), ("local", False), ("surplus", False)):
            price = _checked(getattr(self, name), name, tables=tables, negative=self.allow_negative)
            object.__setattr__(self, name, price)

    def __repr__(self) -> str:
        fields = [f"{name}={_describe(getattr(self, name))}" for name in _NAMES]
        if self.allow_negative:
            fields.append("allow_negative=True")
        return f"Tariffs({', '.join(fields)})"


def _describe(price: Price) -> str:
    if isinstance(price, pd.DataFrame):
        return f"<{len(price):,} steps x {price.shape[1]:,} consumers>"
    if isinstance(price, pd.Series) and isinstance(price.index, pd.DatetimeIndex):
        return f"<{len(price):,} steps>"
    if isinstance(price, pd.Series):
        return repr(price.to_dict()) if len(price) <= 4 else f"<{len(price):,} members>"
    return repr(price)


# --- checks of the prices themselves (when a Tariffs is built) ---------------------------


def _checked(
    price: Any, field: str, *, tables: bool, negative: bool = False
) -> float | pd.Series | pd.DataFrame:
    name = _NAMES[field]
    if isinstance(price, Mapping):
        price = pd.Series(price, dtype=None if len(price) else "float64")
    if isinstance(price, pd.DataFrame):
        if not tables:
            raise errors.ParameterTypeError(
                f"The {name} is per producer: give a number or a Series by producer id, not a "
                "table (time-of-use prices are supported for retail only)."
            )
        return _checked_frame(price, name, negative)
    if isinstance(price, pd.Series):
        if isinstance(price.index, pd.DatetimeIndex) and not tables:
            raise errors.ParameterTypeError(
                f"The {name} is per producer: give a number or a Series by producer id, not "
                "a Series by step (time-of-use prices are supported for retail only)."
            )
        return _checked_series(price, name, negative)
    if not _is_real(price):
        raise errors.NonNumericError(
            f"The {name} must be a number in currency per kWh (e.g. 0.25 EUR/kWh), a Series "
            f"or a mapping by member{', or a table by step' if tables else ''}; got "
            f"{price!r} ({type(price).__name__}).",
            column=field,
        )
    value = float(price)
    _check_values(np.array([value]), name, lambda _: {"column": field}, "", negative=negative)
    return value


def _is_real(value: Any) -> bool:
    """A real number (Python or NumPy, NaN included), not a boolean."""
    return isinstance(value, Real) and not isinstance(value, bool | np.bool_)


def _checked_series(series: pd.Series, name: str, negative: bool) -> pd.Series:
    by_step = isinstance(series.index, pd.DatetimeIndex)
    if by_step:
        check_time_index(series.index, f"The {name}s", regular=False)
    elif series.index.has_duplicates:
        member = series.index[series.index.duplicated()][0]
        raise errors.DuplicateMemberError(
            f"The {name}s name member {member!r} twice: give one price per member.",
            member=member,
            column=member,
        )
    if not is_number(series.dtype):
        # An object Series of plain numbers is fine; anything else names its first culprit.
        bad = [label for label, value in series.items() if not _is_real(value)]
        if bad or not len(series) or pd.api.types.is_bool_dtype(series.dtype):
            label = bad[0] if bad else None
            raise errors.NonNumericError(
                f"The {name} of {label!r} is {series.get(label)!r}, not a number: give "
                "prices as floats in currency per kWh (0.25 for 0.25 EUR/kWh).",
                **_culprit(label, by_step),
            )
    values = series.to_numpy(dtype=np.float64, na_value=np.nan)

    def culprit(position: int) -> dict[str, Any]:
        return _culprit(series.index[position], by_step)

    where = " at step {label}" if by_step else " of {label!r}"
    _check_values(values, name, culprit, where, labels=series.index, negative=negative)
    return pd.Series(values, index=series.index, name=series.name)


def _culprit(label: Any, by_step: bool) -> dict[str, Any]:
    """The error keywords naming a price's step or member."""
    return {"timestamp": label} if by_step else {"member": label, "column": label}


def _checked_frame(frame: pd.DataFrame, name: str, negative: bool) -> pd.DataFrame:
    check_time_index(frame.index, f"The {name}s", regular=False)
    columns = frame.columns
    if columns.has_duplicates:
        member = columns[columns.duplicated()][0]
        raise errors.DuplicateMemberError(
            f"The {name}s have two columns for consumer {member!r}: keep one.",
            member=member,
            column=member,
        )
    for label, dtype in frame.dtypes.items():
        if not is_number(dtype):
            raise errors.NonNumericError(
                f"The {name} column {label!r} has dtype {dtype}, not numbers. Convert it, "
                f"e.g. `table[{label!r}] = pd.to_numeric(table[{label!r}])` (per kWh).",
                member=label,
                column=label,
            )
    values = frame.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = _bad_prices(values, negative)
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        member, step = columns[column], frame.index[row]
        _raise_bad_price(
            float(values[row, column]),
            f"The {name} of {member!r} at step {step}",
            {"member": member, "column": member, "timestamp": step},
        )
    return pd.DataFrame(values, index=frame.index, columns=columns)


def _bad_prices(values: Array, negative: bool) -> NDArray[np.bool_]:
    """NaN, infinite, or negative unless ``negative`` prices are allowed."""
    if negative:
        return ~np.isfinite(values)
    return ~(values >= 0.0) | np.isinf(values)


def _check_values(
    values: Array,
    name: str,
    culprit: Any,
    where: str,
    labels: pd.Index | None = None,
    negative: bool = False,
) -> None:
    """Raise for the first NaN, infinite or (unless allowed) negative value of a 1-D price
    vector."""
    bad = _bad_prices(values, negative)
    if not bad.any():
        return
    position = int(np.argmax(bad))
    label = labels[position] if labels is not None else None
    _raise_bad_price(
        float(values[position]), f"The {name}{where.format(label=label)}", culprit(position)
    )


def _raise_bad_price(value: float, what: str, culprit: dict[str, Any]) -> None:
    if np.isnan(value):
        raise errors.MissingValueError(
            f"{what} is missing (NaN). Every member and step needs a price: fill it in "
            "(repartition never guesses one).",
            **culprit,
        )
    if np.isinf(value):
        raise errors.NonFiniteError(f"{what} is {value}: prices must be finite.", **culprit)
    raise errors.DataError(
        f"{what} is negative ({value} per kWh): check the sign and the unit. For spot-indexed "
        "prices that do go below zero, pass `Tariffs(..., allow_negative=True)`.",
        **culprit,
    )


# --- matching the prices to an allocation (once per call) ---------------------------------


@dataclass(frozen=True)
class RetailPrices:
    """Retail prices matched to an allocation.

    ``values`` is a float (flat), an array of shape (consumers,) (``per='consumer'``),
    (steps,) (``per='step'``) or (steps, consumers) (``per='table'``). [EUR/kWh]
    """

    values: float | Array
    per: str

    def cost(self, energy: Array) -> Array:
        """``sum_t retail[t, i] * energy[t, i]`` per consumer, for a (steps, consumers)
        energy table [kWh]: a cost in currency, shape (consumers,)."""
        if self.per == "table":
            return np.asarray(np.einsum("ti,ti->i", self.values, energy), dtype=np.float64)
        if self.per == "step":
            return np.asarray(np.asarray(self.values) @ energy, dtype=np.float64)
        return np.asarray(self.values * energy.sum(axis=0), dtype=np.float64)


def retail_prices(tariffs: Tariffs, allocation: Allocation) -> RetailPrices:
    """The retail prices of ``tariffs`` on the consumers and steps of ``allocation``."""
    return retail_prices_on(tariffs, allocation.index, allocation.consumers)


def retail_prices_on(
    tariffs: Tariffs, index: pd.DatetimeIndex, consumers: pd.Index
) -> RetailPrices:
    """The retail prices of ``tariffs`` on the steps ``index`` and the ``consumers``."""
    retail = tariffs.retail
    name = _NAMES["retail"]
    if isinstance(retail, pd.DataFrame):
        _check_prices(retail.columns, consumers, name, "consumer")
        rows = _step_rows(retail.index, index, name)
        table = retail.to_numpy()
        if not (retail.index.equals(index) and retail.columns.equals(consumers)):
            table = table[rows][:, retail.columns.get_indexer(consumers)]
        return RetailPrices(table, "table")
    if isinstance(retail, pd.Series) and isinstance(retail.index, pd.DatetimeIndex):
        rows = _step_rows(retail.index, index, name)
        return RetailPrices(retail.to_numpy()[rows], "step")
    if isinstance(retail, pd.Series):
        return RetailPrices(_by_member(retail, consumers, name, "consumer"), "consumer")
    return RetailPrices(_flat(retail), "flat")


def producer_prices(tariffs: Tariffs, field: str, allocation: Allocation) -> float | Array:
    """The ``local`` or ``surplus`` prices of ``tariffs``: a float, or one per producer of
    ``allocation`` in its column order. [EUR/kWh]"""
    return producer_prices_on(tariffs, field, allocation.producers)


def producer_prices_on(tariffs: Tariffs, field: str, producers: pd.Index) -> float | Array:
    """The ``local`` or ``surplus`` prices of ``tariffs`` for ``producers``. [EUR/kWh]"""
    price = getattr(tariffs, field)
    if isinstance(price, pd.Series):
        return _by_member(price, producers, _NAMES[field], "producer")
    return _flat(price)


def _flat(price: Price) -> float:
    assert isinstance(price, float), "Tariffs.__post_init__ turns numbers into floats"
    return price


def _check_prices(given: pd.Index, known: pd.Index, name: str, role: str) -> None:
    check_ids(given, known, f"The {name}s", role, noun="price", default="or one number for all")


def _by_member(prices: pd.Series, members: pd.Index, name: str, role: str) -> Array:
    _check_prices(prices.index, members, name, role)
    return np.ascontiguousarray(prices.to_numpy()[prices.index.get_indexer(members)])


def _step_rows(given: pd.Index, steps: pd.DatetimeIndex, name: str) -> NDArray[np.intp]:
    """Row of ``given`` holding each step of the allocation (same instants, any time zone)."""
    rows = given.get_indexer(steps)
    if (rows < 0).any():
        step = steps[int(np.argmax(rows < 0))]
        raise errors.IndexMismatchError(
            f"The {name}s have no row for step {step} of the allocation. Time-of-use prices "
            "must cover every step (build them on `allocation.index`, e.g. from "
            "`allocation.index.hour`).",
            timestamp=step,
        )
    return rows
