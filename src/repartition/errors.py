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
    │   ├── NegativeEnergyError                energy < 0
    │   └── ValueRangeError                    too large for the file it is written to
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
    ├── KeyCoefficientError (ValueError)       sharing-key coefficients
    │   ├── NonNumericCoefficientError (TypeError)
    │   ├── CoefficientRangeError              outside [0, 1] or not finite
    │   ├── CoefficientSumError                sum above 1 (+ tolerance)
    │   └── PartialKeyRowError                 a dynamic row with some, not all, NaN
    ├── FileFormatError (ValueError)           files read or written by repartition.io
    │   ├── ColumnError                        wrong, missing or unexpected columns
    │   ├── UnitError                          unknown physical quantity or unit
    │   ├── StepLengthError                    a step length that differs inside a file
    │   ├── ConflictingValuesError             one member and step given twice, differently
    │   ├── CorruptFileError                   truncated or unreadable file
    │   │   └── EncodingError                  not text in a readable encoding (UTF-16...)
    │   └── NonexistentTimeError (TimeIndexError)  a local time skipped by a DST change
    ├── ParameterError (ValueError)            a function's or key's parameter
    │   ├── ParameterTypeError (TypeError)     of the wrong type
    │   └── TimeZoneError                      an unknown time zone
    ├── OptimizationError                      repartition.optimize
    │   ├── InfeasibleError (ValueError)       constraints no allocation meets
    │   ├── UnboundedError (ValueError)        an objective without a finite optimum
    │   └── SolverError (RuntimeError)         the solver failed or stopped early
    └── MissingExtraError (ImportError)        an optional package to install

Errors about a file also carry ``path`` and, where known, ``line`` (1-based, header
included) or ``row_group``; an :class:`EncodingError` also the byte ``offset``. For a
file-like object (``io.BytesIO``, an open file), ``path`` is its ``name`` when it has one,
else a label such as ``"<BytesIO>"``. Errors that are about a file's content but belong to an
older family (a key file whose row sums above 100 % is a :class:`CoefficientSumError`)
carry ``path`` and ``line`` as well.

This module imports nothing from the rest of the package.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "CoefficientRangeError",
    "CoefficientSumError",
    "ColumnError",
    "ConflictingValuesError",
    "CorruptFileError",
    "DataError",
    "DuplicateMemberError",
    "DuplicateTimestampError",
    "EmptyPeriodError",
    "EncodingError",
    "FileFormatError",
    "IndexMismatchError",
    "InfeasibleError",
    "IrregularStepError",
    "KeyCoefficientError",
    "MemberError",
    "MissingExtraError",
    "MissingMemberError",
    "MissingValueError",
    "NaiveTimestampError",
    "NegativeEnergyError",
    "NoMembersError",
    "NonFiniteError",
    "NonNumericCoefficientError",
    "NonNumericError",
    "NonexistentTimeError",
    "OptimizationError",
    "ParameterError",
    "ParameterTypeError",
    "PartialKeyRowError",
    "RepartitionError",
    "SolverError",
    "StepLengthError",
    "TimeIndexError",
    "TimeZoneError",
    "UnboundedError",
    "UnitError",
    "UnknownMemberError",
    "UnsortedTimestampError",
    "ValueRangeError",
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
    path, line, row_group
        For errors found in a file: the file, the 1-based line (header included) and
        the Parquet row group, where known.
    """

    def __init__(
        self,
        message: str,
        *,
        column: Any = None,
        member: Any = None,
        timestamp: Any = None,
        step: Any = None,
        path: Any = None,
        line: int | None = None,
        row_group: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.member = member
        self.timestamp = timestamp
        self.step = step
        self.path = path
        self.line = line
        self.row_group = row_group


def in_context(error: RepartitionError, context: str) -> RepartitionError:
    """A copy of ``error``, of the same class and culprit, its message prefixed by
    ``context`` (e.g. ``"compare, strategy 'static': "``): for callers that run several
    computations and must say which one failed."""
    culprit = {
        name: getattr(error, name)
        for name in ("column", "member", "timestamp", "step", "path", "line", "row_group")
    }
    copy = type(error)(f"{context}{error.message}", **culprit)
    for name, value in vars(error).items():  # the attributes of a subclass (offset...)
        if name != "message" and name not in culprit:
            setattr(copy, name, value)
    return copy


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


class ValueRangeError(DataError):
    """A value too large for the file it is written to.

    The result files write energies as whole units of their last decimal (a millionth of a
    kWh by default): beyond 2**53 units (9.0e9 kWh at 6 decimals) float64 no longer holds
    every whole number, so the number cannot be written exactly and is refused rather
    than written wrong.
    """


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


class FileFormatError(RepartitionError, ValueError):
    """A file does not follow the format repartition reads (or was asked to write)."""


class ColumnError(FileFormatError):
    """A file or table lacks a required column, or has one it must not have."""


class UnitError(FileFormatError):
    """A physical quantity (``Grandeur physique``) or unit that repartition cannot convert."""


class StepLengthError(FileFormatError):
    """A file mixes step lengths (``Pas``) where one length is required."""


class ConflictingValuesError(FileFormatError):
    """The same member and step appear twice with different values.

    Identical repetitions (overlapping exports) are harmless and are merged; different
    values are never arbitrated silently.
    """


class CorruptFileError(FileFormatError):
    """A file is truncated, corrupted or not of the expected kind."""


class EncodingError(CorruptFileError):
    """A file is not text in an encoding its reader accepts.

    UTF-16 (what Excel saves as "Unicode text"), a byte that is not valid UTF-8 (or, in a
    Windows-1252 file, not a character of it), a NUL or another control byte. The message
    names the file, the line and the byte, and says how to save the file.

    Attributes
    ----------
    offset : int or None
        The byte at fault, counted from 0 at the start of the file (a byte-order mark
        included).
    encoding : str or None
        The encoding the file was read in, or recognised (``"utf-16"``).
    """

    def __init__(
        self,
        message: str,
        *,
        offset: int | None = None,
        encoding: str | None = None,
        **culprit: Any,
    ) -> None:
        super().__init__(message, **culprit)
        self.offset = offset
        self.encoding = encoding


class NonexistentTimeError(FileFormatError, TimeIndexError):
    """A local time that does not exist (skipped by the spring DST change), or an
    ambiguous one (repeated in autumn) that its order in the file cannot resolve."""


class ParameterError(RepartitionError, ValueError):
    """A parameter of a function or key that is not valid (a month that does not exist, a
    negative number of rounds, an unknown variant, no file at all...)."""


class ParameterTypeError(ParameterError, TypeError):
    """A parameter of the wrong type (a string where a number is expected...)."""


class TimeZoneError(ParameterError):
    """A time zone name that the IANA database does not know."""


class OptimizationError(RepartitionError):
    """An optimisation of :mod:`repartition.optimize` that has no answer to give.

    Besides the culprit attributes, carries ``period`` (the horizon at fault, e.g.
    ``"2025-03"``), ``constraint`` (the name of the constraint to relax, when one is
    known) and ``status`` (the solver's status, when the solver was reached).
    """

    period: Any = None
    constraint: Any = None
    status: Any = None


class InfeasibleError(OptimizationError, ValueError):
    """Constraints that no allocation meets: the message says which one to relax and by
    how much, e.g. "member 'A' cannot reach 30 % self-sufficiency in 2025-03: at most 22 %
    is available from the pool". Checked before solving where that is cheap."""


class UnboundedError(OptimizationError, ValueError):
    """An objective without a finite optimum (not reachable with bounded energies; kept for
    a solver that reports it)."""


class SolverError(OptimizationError, RuntimeError):
    """The solver failed, hit a limit, or returned a solution that does not check."""


class MissingExtraError(RepartitionError, ImportError):
    """An optional dependency is not installed: the message says which extra installs it.

    Raised by :func:`repartition._optional.import_extra`, the one place that imports the
    optional packages (matplotlib, and the extras of the modules that need them).
    """
