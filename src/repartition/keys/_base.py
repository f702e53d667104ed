"""The protocol every sharing key follows: :class:`SharingKey`.

A key is a small immutable value that knows its parameters. :func:`repartition.allocate`
checks the energies once, then calls the key's :meth:`SharingKey.share` with a
:class:`~repartition.problem.Problem` (read-only arrays and their labelled
:class:`~repartition.problem.Axis`); the key checks its own parameters against that axis,
calls its rule's kernel, and returns a :class:`~repartition.allocation.Shares`.
``docs/adding-a-strategy.md`` walks through writing one.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, ClassVar

from repartition.allocation import Shares
from repartition.keys._fingerprint import key_fingerprint
from repartition.problem import Problem

__all__ = ["SharingKey"]


class SharingKey(abc.ABC):
    """Base class of every sharing key: subclass it to add a strategy.

    A subclass sets :attr:`name`, implements :meth:`share`, and, when it holds tables with
    a value per step (as :class:`~repartition.keys.Dynamic` does), lists them in
    :meth:`step_tables` so that callers can check them before a long run.

    Keys are values: two keys are equal (``==``) and hash alike when they are of the same
    class and their parameters mean the same (:meth:`fingerprint`): ``Static({"A": 0.5,
    "B": 0.5})`` equals ``Static(pd.Series([0.5, 0.5], index=["A", "B"]))``. So they can be
    cache keys. A key keeps references to the tables it is given, not copies (a year of full
    dynamic coefficients is gigabytes): treat them as frozen once the key is made. The
    fingerprint is computed once, from the tables as they were then; a key whose tables
    were modified afterwards neither allocates nor compares as before: make a new key.
    A key that is not a dataclass compares by identity unless it defines
    :meth:`fingerprint`. A subclass written as a dataclass must say ``eq=False`` (as
    the package's keys do), or the dataclass's own ``__eq__`` replaces this one.

    Attributes
    ----------
    name : str
        A short identifier of the strategy, e.g. ``"prorata"``.

    Examples
    --------
    >>> from repartition import keys
    >>> keys.Static({"A": 0.5, "B": 0.5}) == keys.Static({"B": 0.5, "A": 0.5})
    True
    >>> len({keys.Prorata(), keys.Prorata(), keys.EqualShare()})
    2
    """

    name: ClassVar[str]

    def fingerprint(self) -> str:
        """A digest of the key's class and parameters by meaning: numbers by their float64
        value, labelled coefficients by member id, tables by instant (computed once)."""
        cached = self.__dict__.get("_fingerprint")
        if cached is None:
            cached = key_fingerprint(self)
            object.__setattr__(self, "_fingerprint", cached)  # keys are frozen dataclasses
        return str(cached)

    def __eq__(self, other: object) -> bool:
        if self is other:
            return True
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, SharingKey)
        return self.fingerprint() == other.fingerprint()

    def __hash__(self) -> int:
        return hash(self.fingerprint())

    @abc.abstractmethod
    def share(self, problem: Problem) -> Shares:
        """Share ``problem.production`` among the consumers of ``problem.consumption``.

        Parameters
        ----------
        problem : Problem
            Checked energies [kWh per step] and their axis. The arrays are read-only and
            must not be kept beyond what the returned shares need.

        Returns
        -------
        Shares
            AUTOCONS and COMPLEMENT (steps, consumers), AUTOPROD and SURPLUS (steps,
            producers), in kWh per step, with ``0 <= allocated <= consumption``,
            ``grid_supply = consumption - allocated`` and ``self_consumed + surplus =
            production``.

        Raises
        ------
        repartition.errors.KeyCoefficientError
            When the key's parameters do not fit the problem (a member without a
            coefficient, a row summing above 1, ...), naming the member and step.
        """

    def step_tables(self) -> Mapping[str, Any]:
        """The key's parameters that hold a value per step, by parameter name.

        Each value is a steps x consumers table (a ``pd.DataFrame`` matched by timestamp,
        or an array in the data's order), or a mapping of such tables (one per producer).
        Streaming (:func:`repartition.io.allocate_dataset`) checks that they cover every
        month before the first one is computed. Keys without such tables return ``{}``.
        """
        return {}

    def label(self) -> str:
        """A short human-readable name, e.g. for the rows of a comparison table."""
        return self.name
