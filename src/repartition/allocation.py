"""Results of an allocation: the DSO's per-member quantities, labelled, and their totals.

:class:`AllocationArrays` holds plain arrays (what :func:`repartition.allocate_arrays`
returns); :class:`Allocation` adds the member ids and timestamps (what
:func:`repartition.allocate` returns). Both are immutable; their arrays are read-only.

Vocabulary (Enedis R15 ACC flux): per consumer CONS, AUTOCONS (``allocated``) and
COMPLEMENT (``grid_supply``); per producer PROD, AUTOPROD (``self_consumed``) and SURPLUS
(``surplus``). Every energy is in kWh per step.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from repartition import errors
from repartition.kernels import attribution

if TYPE_CHECKING:
    from repartition.keys import SharingKey

__all__ = [
    "Allocation",
    "AllocationArrays",
    "AllocationSummary",
    "PairSplit",
    "Shares",
    "Tables",
]

Array = NDArray[np.float64]


def _read_only(value: Any) -> Any:
    """``value`` with every array in it (alone, or in a tuple or list) made read-only."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, tuple | list):
        for item in value:
            _read_only(item)
    return value


def frozen(value: Any) -> Any:
    """``value`` with every array in it, however deep (tuples, lists, dataclasses such as
    :class:`Shares`, :class:`PairSplit` and the table builders they hold), replaced by a
    read-only view: a result can then not be changed by writing into it."""
    if isinstance(value, np.ndarray):
        if not value.flags.writeable:
            return value
        view = value.view()
        view.flags.writeable = False
        return view
    if isinstance(value, list | tuple):
        return type(value)(frozen(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {
            item.name: frozen(getattr(value, item.name)) for item in fields(value) if item.init
        }
        return replace(value, **changes)
    return value


class ReadOnlyArrays:
    """Base of the result types: their arrays stay read-only through pickling.

    ``pickle`` rebuilds arrays writeable; results must stay immutable (and kernels see
    read-only inputs, one compiled machine code per layout), so unpickling marks them
    read-only again.
    """

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            object.__setattr__(self, name, _read_only(value))


Tables = tuple[Sequence[Array], Array]
"""Per-producer (steps, consumers) tables and the (steps, consumers) scale of a window."""


@dataclass(frozen=True, eq=False)
class PairSplit(ReadOnlyArrays):
    """How to recover producer -> consumer flows without storing them.

    Pooled keys (nothing given): ``flow[t, j, i] = A[t, i] * P[t, j] / P_tot[t]``.
    Otherwise ``flow[t, j, i] = table_j[t, i] * P[t, j] * scale[t, i]``, with the tables
    either stored (``coefficients`` and ``scale``, e.g. a full dynamic key's), or rebuilt
    for a window of steps on demand by ``tables_for(start, stop)`` from what the key
    recorded (ProsumerKey "optimal").
    """

    coefficients: Sequence[Array] | None = None
    scale: Array | None = None
    tables_for: Callable[[int, int], Tables] | None = None

    @property
    def pooled(self) -> bool:
        """True when the flows follow the pooled rule (no tables)."""
        return self.coefficients is None and self.tables_for is None

    def window(self, start: int, stop: int) -> Tables:
        """The tables and scale of steps ``[start, stop)``."""
        if self.tables_for is not None:
            return self.tables_for(start, stop)
        if self.coefficients is None or self.scale is None:
            raise ValueError("A pooled split has no tables: use the pooled rule.")
        return [table[start:stop] for table in self.coefficients], self.scale[start:stop]


@dataclass(frozen=True, eq=False)
class Shares(ReadOnlyArrays):
    """The arrays of an allocation, in kWh per step.

    Attributes
    ----------
    allocated : ndarray, shape (steps, consumers)
        AUTOCONS: energy each consumer receives from the operation. [kWh]
    grid_supply : ndarray, shape (steps, consumers)
        COMPLEMENT ``= C - A``: what each consumer still draws from its supplier. [kWh]
    self_consumed : ndarray, shape (steps, producers)
        AUTOPROD: part of each producer's production allocated to consumers. [kWh]
    surplus : ndarray, shape (steps, producers)
        SURPLUS: part of each producer's production no consumer received. [kWh]
    passes : ndarray of int32, shape (steps,), or None
        For water-filling keys, the passes over each row the level needed.
    """

    allocated: Array
    grid_supply: Array
    self_consumed: Array
    surplus: Array
    split: PairSplit = field(default_factory=PairSplit)
    passes: NDArray[np.int32] | None = None


FLOW_CHUNK = 2048
"""Steps per piece when :meth:`AllocationArrays.flows` sums tables over a period (bounded
memory when a key rebuilds its tables on demand)."""


def _count(number: int, noun: str) -> str:
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


@dataclass(frozen=True, eq=False, repr=False)
class AllocationArrays(ReadOnlyArrays):
    """An allocation as plain arrays, in kWh per step.

    Attributes
    ----------
    consumption : ndarray, shape (steps, consumers)
        CONS: the consumption as passed, not copied (a read-only float64 view of it, in its
        own layout, row- or member-major; or a converted copy). No result reads it after the
        call. [kWh]
    production : ndarray, shape (steps, producers)
        PROD: a read-only copy of the production. [kWh]
    allocated : ndarray, shape (steps, consumers)
        AUTOCONS: energy each consumer receives from the operation. [kWh]
    grid_supply : ndarray, shape (steps, consumers)
        COMPLEMENT ``= C - A``: energy each consumer still draws from its supplier. [kWh]
    self_consumed : ndarray, shape (steps, producers)
        AUTOPROD: part of each producer's production received by consumers. [kWh]
    surplus : ndarray, shape (steps, producers)
        SURPLUS: part of each producer's production that no consumer received. [kWh]
    passes : ndarray of int32, shape (steps,), or None
        Water-filling keys only: passes over each step's row that the level needed.
    """

    consumption: Array
    production: Array
    shares: Shares

    def __repr__(self) -> str:
        steps, consumers = self.allocated.shape
        return (
            f"<AllocationArrays: {_count(steps, 'step')}, {_count(consumers, 'consumer')}, "
            f"{_count(self.production.shape[1], 'producer')}>"
        )

    @property
    def allocated(self) -> Array:
        return self.shares.allocated

    @property
    def self_consumed(self) -> Array:
        return self.shares.self_consumed

    @property
    def surplus(self) -> Array:
        return self.shares.surplus

    @property
    def passes(self) -> NDArray[np.int32] | None:
        return self.shares.passes

    @property
    def grid_supply(self) -> Array:
        return self.shares.grid_supply

    def production_total(self) -> Array:
        """P_tot, the pooled production of each step, summed as the keys sum it. [kWh per step]

        Returns
        -------
        ndarray, shape (steps,)
            ``P_tot[t] = sum_j P[t, j]``, summed in increasing order of the values
            (:func:`repartition.kernels.attribution.pooled_production`), so that it does not
            depend on the order of the producers to the last bit: the very ``P_tot`` the
            pooled keys compare ``k * P_tot`` with. [kWh]

        Examples
        --------
        >>> import numpy as np
        >>> from repartition import allocate_arrays, keys
        >>> result = allocate_arrays(np.array([[1.0], [3.0]]), np.array([[2.0, 1.0], [0.5, 0.0]]),
        ...                          keys.Prorata())
        >>> result.production_total().tolist()
        [3.0, 0.5]
        """
        total: Array = attribution.pooled_production(np.ascontiguousarray(self.production))
        return total

    def flows(self, boundaries: NDArray[np.int64] | None = None) -> Array:
        """Producer -> consumer energy, summed over periods of consecutive steps.

        Parameters
        ----------
        boundaries : ndarray of int, optional
            Row numbers where periods start, increasing, beginning with 0; each period runs
            to the next boundary (the last to the end). ``None``: one period, every step.

        Returns
        -------
        ndarray, shape (periods, producers, consumers)
            ``flow[g, j, i]``: energy from producer j to consumer i during period g. [kWh]
            For pooled keys ``flow[t, j, i] = A[t, i] * P[t, j] / P_tot[t]`` (prorata of
            production, an *assumption*: docs/rules.md, "Attribution to producers"); for
            the full dynamic key, the scaled pair shares. No (steps, producers, consumers)
            array is built.
        """
        steps = self.allocated.shape[0]
        starts = np.zeros(1, dtype=np.int64) if boundaries is None else np.asarray(boundaries)
        if (
            starts.ndim != 1
            or not len(starts)
            or starts[0] != 0
            or (np.diff(starts) <= 0).any()
            or starts[-1] >= steps
        ):
            raise errors.ParameterError(
                f"boundaries must be increasing row numbers starting with 0 and below {steps}, "
                f"not {starts!r}."
            )
        stops = np.append(starts[1:], steps)
        producers, consumers = self.production.shape[1], self.allocated.shape[1]
        result = np.zeros((len(starts), producers, consumers))
        split = self.shares.split
        weights = self._pooled_weights() if split.pooled else None
        for g, (start, stop) in enumerate(zip(starts, stops, strict=True)):
            if weights is not None:
                window = slice(int(start), int(stop))
                result[g] = weights[window].T @ self.allocated[window]
                continue
            # By chunks of steps: tables rebuilt on demand stay small.
            for first in range(int(start), int(stop), FLOW_CHUNK):
                last = min(first + FLOW_CHUNK, int(stop))
                tables, scale = split.window(first, last)
                for j, table in enumerate(tables):
                    result[g, j] += self.production[first:last, j] @ (table * scale)
        return result

    def flows_per_step(self) -> Array:
        """Producer -> consumer energy at every step, shape (steps, producers, consumers). [kWh]

        Materialises ``steps x producers x consumers`` floats: a year at 30 min for 5
        producers and 1,000 consumers is 700 MB. Prefer :meth:`flows` over periods.
        """
        split = self.shares.split
        if split.pooled:
            return self._pooled_weights()[:, :, None] * self.allocated[:, None, :]
        tables, scale = split.window(0, self.allocated.shape[0])
        return np.stack(
            [table * self.production[:, j, None] * scale for j, table in enumerate(tables)],
            axis=1,
        )

    def _pooled_weights(self) -> Array:
        """``P[t, j] / P_tot[t]`` (0 where nothing is produced)."""
        production_total = self.production.sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(production_total > 0, self.production / production_total, 0.0)


@dataclass(frozen=True)
class AllocationSummary:
    """Totals of an allocation over its whole period, and the two rates.

    Attributes
    ----------
    consumption_kwh, production_kwh : float
        Total CONS and PROD. [kWh]
    allocated_kwh : float
        Total AUTOCONS (= total AUTOPROD). [kWh]
    grid_supply_kwh : float
        Total COMPLEMENT ``= consumption - allocated``. [kWh]
    surplus_kwh : float
        Total SURPLUS ``= production - allocated``. [kWh]
    self_consumption_rate : float
        Collective self-consumption rate (*taux d'autoconsommation*)
        ``= sum_t sum_i A[t, i] / sum_t P_tot[t]``; NaN when nothing is produced.
    self_sufficiency_rate : float
        Self-sufficiency rate (*taux d'autoproduction*, *taux de couverture*)
        ``= sum_t sum_i A[t, i] / sum_t sum_i C[t, i]``; NaN when nothing is consumed.
    """

    consumption_kwh: float
    production_kwh: float
    allocated_kwh: float
    grid_supply_kwh: float
    surplus_kwh: float
    self_consumption_rate: float
    self_sufficiency_rate: float

    def to_series(self) -> pd.Series:
        """The summary as a ``pd.Series`` named by field."""
        return pd.Series(self.__dict__, dtype="float64")

    def to_dict(self) -> dict[str, float | None]:
        """The summary as plain JSON-ready data: field -> float, ``None`` for an undefined
        rate (NaN, e.g. nothing produced)."""
        return {name: _plain(value) for name, value in self.__dict__.items()}

    def __str__(self) -> str:
        energies = [
            ("consumption (CONS)", self.consumption_kwh),
            ("production (PROD)", self.production_kwh),
            ("allocated (AUTOCONS)", self.allocated_kwh),
            ("grid supply (COMPLEMENT)", self.grid_supply_kwh),
            ("surplus (SURPLUS)", self.surplus_kwh),
        ]
        lines = [f"{name:<26}{value:>16,.3f} kWh" for name, value in energies]
        lines.append(f"{'self-consumption rate':<26}{self.self_consumption_rate:>16.2%}")
        lines.append(f"{'self-sufficiency rate':<26}{self.self_sufficiency_rate:>16.2%}")
        return "\n".join(lines)


def _rate(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else float("nan")


@dataclass(frozen=True, eq=False, repr=False)
class Allocation:
    """The result of :func:`repartition.allocate`, labelled by timestamp and member id.

    Every table is a ``pd.DataFrame`` on the input's index (start of each step), with one
    column per consumer or producer id, in kWh per step.

    Attributes
    ----------
    key : SharingKey
        The key that was applied.
    index : pandas.DatetimeIndex
        Start of each step, as given.
    step : pandas.Timedelta or None
        Step length (``None`` for a single step with no ``freq``).
    consumers, producers : pandas.Index
        Member ids, in the input's column order.
    arrays : AllocationArrays
        The same results as plain arrays.
    """

    key: SharingKey
    index: pd.DatetimeIndex
    step: pd.Timedelta | None
    consumers: pd.Index
    producers: pd.Index
    arrays: AllocationArrays

    def __repr__(self) -> str:
        step = f" of {self.step}" if self.step is not None else ""
        return (
            f"<Allocation {self.key.label()}: {_count(len(self.index), 'step')}{step} from "
            f"{self.index[0]} to {self.index[-1]}, {_count(len(self.consumers), 'consumer')}, "
            f"{_count(len(self.producers), 'producer')}>"
        )

    def __getstate__(self) -> dict[str, Any]:
        """Pickle the fields only: the cached tables are views of the arrays, rebuilt on use."""
        return {name: self.__dict__[name] for name in self.__dataclass_fields__}

    def _consumer_table(self, values: Array) -> pd.DataFrame:
        return pd.DataFrame(values, index=self.index, columns=self.consumers, copy=False)

    def _producer_table(self, values: Array) -> pd.DataFrame:
        return pd.DataFrame(values, index=self.index, columns=self.producers, copy=False)

    @cached_property
    def consumption(self) -> pd.DataFrame:
        """CONS: energy each consumer drew: the input's values, not a copy. [kWh]"""
        return self._consumer_table(self.arrays.consumption)

    @cached_property
    def production(self) -> pd.DataFrame:
        """PROD: energy each producer injected, as given. [kWh]"""
        return self._producer_table(self.arrays.production)

    @cached_property
    def allocated(self) -> pd.DataFrame:
        """AUTOCONS: energy each consumer receives from the operation. [kWh]"""
        return self._consumer_table(self.arrays.allocated)

    @cached_property
    def grid_supply(self) -> pd.DataFrame:
        """COMPLEMENT ``= consumption - allocated``, bought from each consumer's supplier. [kWh]"""
        return self._consumer_table(self.arrays.grid_supply)

    @cached_property
    def self_consumed(self) -> pd.DataFrame:
        """AUTOPROD: part of each producer's production received by consumers. [kWh]

        For pooled keys, ``AUTOPROD[t, j] = (sum_i A[t, i]) * P[t, j] / P_tot[t]``.
        """
        return self._producer_table(self.arrays.self_consumed)

    @cached_property
    def surplus(self) -> pd.DataFrame:
        """SURPLUS ``= production - self_consumed``, injected into the grid. [kWh]"""
        return self._producer_table(self.arrays.surplus)

    @property
    def passes(self) -> pd.Series | None:
        """Water-filling keys only: passes over each step's row that the level needed."""
        passes = self.arrays.passes
        return None if passes is None else pd.Series(passes, index=self.index, name="passes")

    def flows(self, by: str | None = None) -> pd.DataFrame:
        """Producer -> consumer energy, summed over the period or per ``by`` period. [kWh]

        Parameters
        ----------
        by : str, optional
            ``None``: one table producers x consumers for the whole period. A pandas
            frequency (``"D"``, ``"W"``, ``"MS"``, ...): a table with a (period start,
            producer) row index; periods follow the index's time zone, so ``"MS"`` on a
            Europe/Paris index gives local calendar months. ``"step"``: every step, which
            materialises steps x producers x consumers values.

        Returns
        -------
        pandas.DataFrame
            Rows producers (or (period, producer) pairs), columns consumers.

        Notes
        -----
        For pooled keys (prorata, static, dynamic) the energy a consumer receives at a step
        comes from each producer in proportion to its production,
        ``flow[t, j, i] = A[t, i] * P[t, j] / P_tot[t]`` (*assumption*: docs/rules.md,
        "Attribution to producers"). For the full dynamic key it is the pair share, scaled
        down with the consumer's other pairs when they exceed its consumption.
        """
        if by is None:
            return pd.DataFrame(
                self.arrays.flows()[0], index=self.producers, columns=self.consumers
            )
        if by == "step":
            values = self.arrays.flows_per_step()
            rows = pd.MultiIndex.from_product(
                [self.index, self.producers], names=["timestamp", "producer"]
            )
            return pd.DataFrame(
                values.reshape(-1, len(self.consumers)), index=rows, columns=self.consumers
            )
        counts = pd.Series(np.ones(len(self.index)), index=self.index).resample(by).count()
        counts = counts[counts > 0]
        boundaries = np.concatenate([[0], np.cumsum(counts.to_numpy())[:-1]]).astype(np.int64)
        values = self.arrays.flows(boundaries)
        rows = pd.MultiIndex.from_product(
            [counts.index, self.producers], names=["period", "producer"]
        )
        return pd.DataFrame(
            values.reshape(-1, len(self.consumers)), index=rows, columns=self.consumers
        )

    def summary(self) -> AllocationSummary:
        """Totals over the period and the collective rates.

        Totals are computed from the results (consumption as allocated + grid supply), so
        they stay consistent with them whatever happens to the inputs after the call.

        ``self_consumption_rate = sum A / sum P_tot`` (*taux d'autoconsommation*) and
        ``self_sufficiency_rate = sum A / sum C`` (*taux d'autoproduction*), summed over
        every step and member.
        """
        allocated = float(self.arrays.allocated.sum())
        grid_supply = float(self.arrays.grid_supply.sum())
        consumption = allocated + grid_supply
        production = float(self.arrays.production.sum())
        return AllocationSummary(
            consumption_kwh=consumption,
            production_kwh=production,
            allocated_kwh=allocated,
            grid_supply_kwh=grid_supply,
            surplus_kwh=float(self.arrays.surplus.sum()),
            self_consumption_rate=_rate(allocated, production),
            self_sufficiency_rate=_rate(allocated, consumption),
        )

    def by_consumer(self) -> pd.DataFrame:
        """Per consumer totals: ``consumption``, ``allocated``, ``grid_supply`` [kWh] and
        ``self_sufficiency_rate = allocated / consumption``."""
        allocated = self.arrays.allocated.sum(axis=0)
        grid_supply = self.arrays.grid_supply.sum(axis=0)
        consumption = allocated + grid_supply
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(consumption > 0, allocated / consumption, np.nan)
        return pd.DataFrame(
            {
                "consumption": consumption,
                "allocated": allocated,
                "grid_supply": grid_supply,
                "self_sufficiency_rate": rate,
            },
            index=self.consumers,
        )

    def by_producer(self) -> pd.DataFrame:
        """Per producer totals: ``production``, ``self_consumed``, ``surplus`` [kWh] and
        ``self_consumption_rate = self_consumed / production``."""
        production = self.arrays.production.sum(axis=0)
        self_consumed = self.arrays.self_consumed.sum(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(production > 0, self_consumed / production, np.nan)
        return pd.DataFrame(
            {
                "production": production,
                "self_consumed": self_consumed,
                "surplus": self.arrays.surplus.sum(axis=0),
                "self_consumption_rate": rate,
            },
            index=self.producers,
        )

    def to_records(self, *, per_step: bool = False) -> list[dict[str, Any]]:
        """The allocation as JSON-ready records, the shape a web service returns.

        Plain Python values only (``str``, ``float``, ``None`` for an undefined rate, times
        as ISO 8601 text with their UTC offset), so ``json.dumps(result.to_records())``
        works as is.

        Parameters
        ----------
        per_step : bool, default False
            ``False``: one record per member with its totals over the period. ``True``: one
            record per member and step, with the step's start.

        Returns
        -------
        list of dict
            Consumers first, then producers, in the columns' order. A consumer's record
            holds ``member``, ``role`` (``"consumer"``), ``consumption_kwh``,
            ``allocated_kwh`` (AUTOCONS), ``grid_supply_kwh`` (COMPLEMENT) and, per
            member, ``self_sufficiency_rate``; a producer's ``production_kwh``,
            ``self_consumed_kwh`` (AUTOPROD), ``surplus_kwh`` and, per member,
            ``self_consumption_rate``. Per step, records also hold ``start``. [kWh]

        Examples
        --------
        >>> import json
        >>> import pandas as pd
        >>> from repartition import allocate, keys
        >>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
        >>> consumption = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0]}, index=index)
        >>> result = allocate(consumption, pd.Series([2.0, 2.0], index=index, name="PV"),
        ...                   keys.Prorata())
        >>> print(json.dumps(result.to_records()[0]))
        {"member": "A", "role": "consumer", "consumption_kwh": 4.0, "allocated_kwh": 2.0, \
"grid_supply_kwh": 2.0, "self_sufficiency_rate": 0.5}
        >>> result.to_records(per_step=True)[0]["start"]
        '2025-06-01T12:00:00+02:00'
        """
        if not per_step:
            consumers = self.by_consumer()
            producers = self.by_producer()
            return [
                {
                    "member": _plain_id(member),
                    "role": "consumer",
                    "consumption_kwh": _plain(row["consumption"]),
                    "allocated_kwh": _plain(row["allocated"]),
                    "grid_supply_kwh": _plain(row["grid_supply"]),
                    "self_sufficiency_rate": _plain(row["self_sufficiency_rate"]),
                }
                for member, row in consumers.iterrows()
            ] + [
                {
                    "member": _plain_id(member),
                    "role": "producer",
                    "production_kwh": _plain(row["production"]),
                    "self_consumed_kwh": _plain(row["self_consumed"]),
                    "surplus_kwh": _plain(row["surplus"]),
                    "self_consumption_rate": _plain(row["self_consumption_rate"]),
                }
                for member, row in producers.iterrows()
            ]
        starts = [stamp.isoformat() for stamp in self.index]
        arrays = self.arrays
        consumer_columns = (
            # CONS from the results (never the caller's table, which it may have changed since)
            ("consumption_kwh", arrays.allocated + arrays.grid_supply),
            ("allocated_kwh", arrays.allocated),
            ("grid_supply_kwh", arrays.grid_supply),
        )
        producer_columns = (
            ("production_kwh", arrays.production),
            ("self_consumed_kwh", arrays.self_consumed),
            ("surplus_kwh", arrays.surplus),
        )
        records: list[dict[str, Any]] = []
        for role, members, columns in (
            ("consumer", self.consumers, consumer_columns),
            ("producer", self.producers, producer_columns),
        ):
            for j, member in enumerate(members):
                identifier = _plain_id(member)
                values = [table[:, j].tolist() for _, table in columns]
                names = [name for name, _ in columns]
                for t, start in enumerate(starts):
                    record: dict[str, Any] = {"member": identifier, "role": role, "start": start}
                    record.update(
                        (name, column[t]) for name, column in zip(names, values, strict=True)
                    )
                    records.append(record)
        return records


def _plain(value: Any) -> float | None:
    """A number as a Python float, ``None`` for NaN (JSON has no NaN)."""
    number = float(value)
    return None if number != number else number


def _plain_id(member: Any) -> Any:
    """A member id as JSON can hold it: strings and whole numbers as they are, else text."""
    if isinstance(member, str | int) and not isinstance(member, bool):
        return member
    if isinstance(member, np.integer):
        return int(member)
    return str(member)
