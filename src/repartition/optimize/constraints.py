"""What an optimal allocation must respect beyond the invariants: floors, caps, bands.

Each constraint is a small immutable value; :func:`repartition.optimize.optimize` takes a
list of them. Per-member values are one number for everyone, or a mapping / ``pd.Series``
by consumer id (members left out get no constraint). The math is in docs/optimize.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from repartition import errors
from repartition.keys import SharingKey

__all__ = ["Constraint", "MaxPoolShare", "MinSelfSufficiency", "ReferenceBounds"]

PerMember = float | Mapping[Any, float] | pd.Series
"""One fraction for every consumer, or one per consumer id."""


def _fractions(value: object, what: str, upper: float = 1.0) -> float | pd.Series:
    """``value`` as a float or a float Series in [0, upper], or a typed error naming it."""
    if isinstance(value, Mapping):
        value = pd.Series(dict(value), dtype=object)
    if isinstance(value, pd.Series):
        if value.index.has_duplicates:
            member = value.index[value.index.duplicated()][0]
            raise errors.DuplicateMemberError(
                f"{what} gives {member!r} twice.", member=member, column=member
            )
        for member, item in value.items():
            _fraction(item, f"{what} of {member!r}", upper, member)
        return value.astype(float)
    return _fraction(value, what, upper, None)


def _fraction(value: object, what: str, upper: float, member: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.ParameterTypeError(
            f"{what} must be a number (a fraction: 0.3 for 30 %), not {value!r}.",
            member=member,
        )
    if not 0.0 <= float(value) <= upper:
        raise errors.ParameterError(
            f"{what} is {value!r}: it must be a fraction between 0 and {upper:g} (0.3 for 30 %).",
            member=member,
        )
    return float(value)


@dataclass(frozen=True)
class MinSelfSufficiency:
    """A minimum self-sufficiency over each horizon: ``sum_t A[t, i] >= minimum_i * sum_t
    C[t, i]`` per consumer (``per="member"``), or ``sum A >= minimum * sum C`` for the whole
    community (``per="community"``).

    Parameters
    ----------
    minimum : float, mapping or pandas.Series
        The fraction of consumption (0.1 for 10 %), one for all or per consumer id.
    per : {"member", "community"}
    """

    minimum: PerMember
    per: Literal["member", "community"] = "member"

    def __post_init__(self) -> None:
        if self.per not in ("member", "community"):
            raise errors.ParameterError(
                f"MinSelfSufficiency per must be 'member' or 'community', not {self.per!r}."
            )
        minimum = _fractions(self.minimum, "The minimum self-sufficiency")
        if self.per == "community" and isinstance(minimum, pd.Series):
            raise errors.ParameterTypeError(
                "A community's minimum self-sufficiency is one number, not one per member."
            )
        object.__setattr__(self, "minimum", minimum)


@dataclass(frozen=True)
class MaxPoolShare:
    """At most a fraction of the pooled production per consumer and step: ``A[t, i] <=
    maximum_i * P_tot[t]``.

    Parameters
    ----------
    maximum : float, mapping or pandas.Series
        The fraction of ``P_tot`` (0.2 for 20 %), one for all or per consumer id.
    """

    maximum: PerMember

    def __post_init__(self) -> None:
        object.__setattr__(self, "maximum", _fractions(self.maximum, "The maximum pool share"))


@dataclass(frozen=True)
class ReferenceBounds:
    """Coefficients within a band around a reference key's: ``|k[t, i] - k_ref[t, i]| <=
    max_deviation_i``, with ``k = A / P_tot`` (as :func:`repartition.to_dynamic_key`
    computes them) and ``k_ref`` the reference's coefficients in that sense (its
    allocation divided by ``P_tot``). The band of Villena et al. (2020).

    Parameters
    ----------
    reference : SharingKey
        The agreed key.
    max_deviation : float, mapping or pandas.Series
        The largest move of a coefficient, as a fraction of ``P_tot`` (0.05 for 5 points).
    """

    reference: SharingKey
    max_deviation: PerMember

    def __post_init__(self) -> None:
        if not isinstance(self.reference, SharingKey):
            raise errors.ParameterTypeError(
                "ReferenceBounds' reference must be a sharing key of repartition.keys, not "
                f"{type(self.reference).__name__}."
            )
        deviation = _fractions(self.max_deviation, "The maximum deviation")
        object.__setattr__(self, "max_deviation", deviation)


Constraint = MinSelfSufficiency | MaxPoolShare | ReferenceBounds
"""Any constraint of :mod:`repartition.optimize`."""
