"""The exceptions repartition raises.

Every error raised for bad input is a subclass of :class:`RepartitionError`, carries the
culprit as attributes (``column``, ``member``, ``timestamp``, ``step``) and says in its
message how to fix the input. Input errors also subclass :class:`ValueError` (or
:class:`TypeError` for wrong types), so generic handlers keep working.

Hierarchy::

    RepartitionError
    ├── DataError (ValueError)                 energy tables
    │   ├── NonNumericError (TypeError)        a column that is not numbers
    │   ├── MissingValueError                  NaN
    │   ├── NonFiniteError                     +/- inf
    │   └── NegativeEnergyError                energy < 0
    ├── TimeIndexError (ValueError)            the time axis
    │   ├── NaiveTimestampError                no time zone
    │   ├── UnsortedTimestampError
    │   ├── DuplicateTimestampError
    │   ├── IrregularStepError                 gaps or mixed step lengths
    │   ├── IndexMismatchError                 tables on different steps
    │   └── EmptyPeriodError                   zero steps
    ├── MemberError (ValueError)               the members (columns)
    │   ├── NoMembersError
    │   ├── DuplicateMemberError
    │   ├── UnknownMemberError                 a key names a member the data does not have
    │   └── MissingMemberError                 a key does not cover a member the data has
    └── KeyCoefficientError (ValueError)       sharing-key coefficients
        ├── NonNumericCoefficientError (TypeError)
        ├── CoefficientRangeError              outside [0, 1] or not finite
        ├── CoefficientSumError                sum above 1 (+ tolerance)
        └── PartialKeyRowError                 a dynamic row with some, not all, NaN

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CoefficientRangeError",
    "CoefficientSumError",
    "DataError",
    "DuplicateMemberError",
    "DuplicateTimestampError",
    "EmptyPeriodError",
    "IndexMismatchError",
    "IrregularStepError",
    "KeyCoefficientError",
    "MemberError",
    "MissingMemberError",
    "MissingValueError",
    "NaiveTimestampError",
    "NegativeEnergyError",
    "NoMembersError",
    "NonFiniteError",
    "NonNumericCoefficientError",
    "NonNumericError",
    "PartialKeyRowError",
    "RepartitionError",
    "TimeIndexError",
    "UnknownMemberError",
    "UnsortedTimestampError",
]


class RepartitionError(Exception):
    """Base class of every error repartition raises on purpose.

    Parameters
    ----------
    message
        What is wrong and how to fix it.
    column, member, timestamp, step
        The culprit, where known: the table column, the member id, the timestamp
        (or its row position for plain arrays) and the step length.
    """

    def __init__(
        self,
        message: str,
        *,
        column: Any = None,
        member: Any = None,
        timestamp: Any = None,
        step: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.member = member
        self.timestamp = timestamp
        self.step = step


class DataError(RepartitionError, ValueError):
    """An energy table holds values that are not energies."""


class NonNumericError(DataError, TypeError):
    """A column is not numeric (strings, booleans, objects)."""


class MissingValueError(DataError):
    """A value is NaN or missing: repartition never guesses a missing energy."""


class NonFiniteError(DataError):
    """A value is +inf or -inf."""


class NegativeEnergyError(DataError):
    """An energy is negative (consumption and production are both counted >= 0)."""


class TimeIndexError(RepartitionError, ValueError):
    """The time axis of a table is not a regular, sorted, time-zone aware index."""


class NaiveTimestampError(TimeIndexError):
    """Timestamps have no time zone, so days with a DST change are ambiguous."""


class UnsortedTimestampError(TimeIndexError):
    """Timestamps are not in increasing order."""


class DuplicateTimestampError(TimeIndexError):
    """The same timestamp appears twice."""


class IrregularStepError(TimeIndexError):
    """Steps are not all of the same length (a gap, or mixed 15/30/60-minute steps)."""


class IndexMismatchError(TimeIndexError):
    """Two tables that must share their steps do not."""


class EmptyPeriodError(TimeIndexError):
    """The period has no step."""


class MemberError(RepartitionError, ValueError):
    """The members (columns) of the tables and keys do not fit together."""


class NoMembersError(MemberError):
    """A table has no consumer or no producer."""


class DuplicateMemberError(MemberError):
    """Two columns carry the same member id."""


class UnknownMemberError(MemberError):
    """A key names a member that the data does not have."""


class MissingMemberError(MemberError):
    """A key gives no coefficient to a member that the data has."""


class KeyCoefficientError(RepartitionError, ValueError):
    """Sharing-key coefficients break the rules of the key."""


class NonNumericCoefficientError(KeyCoefficientError, TypeError):
    """A coefficient is not a number (strings, booleans, objects)."""


class CoefficientRangeError(KeyCoefficientError):
    """A coefficient is outside [0, 1], or infinite."""


class CoefficientSumError(KeyCoefficientError):
    """Coefficients that share one production sum above 1 (beyond the 1e-9 tolerance)."""


class PartialKeyRowError(KeyCoefficientError):
    """A dynamic-key row has NaN for some consumers only.

    An all-NaN row means "no key sent for this step" and falls back to the default
    dynamic key; a partly NaN row has no such meaning.
    """
