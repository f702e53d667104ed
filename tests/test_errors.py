"""Bad inputs raise the right error of :mod:`repartition.errors`, naming the culprit.

Every test here runs with the allocation kernels replaced by a function that raises
:class:`KernelReachedError` (fixture ``kernels_forbidden``): an input error must be raised by
the checks, before any kernel runs. Inputs that must be *accepted* are shown to reach the
kernel, i.e. to pass every check. The full dynamic key is the exception: its kernel reads
the coefficients once for the rule and their checks together, and the key raises their
errors after that pass, before any result is returned; for it, accepted means a result.
"""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from repartition import allocate, allocate_arrays, errors, keys
from repartition.kernels import (
    dynamic,
    prorata,
    static,
    water_filling,
)

INDEX = pd.date_range("2025-06-01 10:00", periods=4, freq="30min", tz="Europe/Paris")
BAD_ROW = 2  # the step at fault in the cases below
BAD_STEP = INDEX[BAD_ROW]


class KernelReachedError(Exception):
    """Raised by the stand-in kernels: every check passed."""


@pytest.fixture(autouse=True)
def kernels_forbidden(monkeypatch):
    def stand_in(*args, **kwargs):
        raise KernelReachedError

    for module in (prorata, static, water_filling, dynamic):
        for layout in ("rows", "members"):
            monkeypatch.setattr(module, f"{module.__name__.rsplit('.', 1)[1]}_{layout}", stand_in)


def consumption() -> pd.DataFrame:
    return pd.DataFrame(
        {"cons_a": [1.0, 2.0, 0.5, 1.0], "cons_b": [3.0, 2.0, 1.5, 1.0]}, index=INDEX
    )


def production() -> pd.DataFrame:
    return pd.DataFrame({"pv_1": [2.0, 5.0, 1.0, 0.0], "pv_2": [1.0, 1.0, 1.0, 1.0]}, index=INDEX)


def dynamic_coefficients() -> pd.DataFrame:
    return pd.DataFrame({"cons_a": [0.5] * 4, "cons_b": [0.25] * 4}, index=INDEX)


def full_coefficients() -> dict[str, pd.DataFrame]:
    return {"pv_1": dynamic_coefficients(), "pv_2": dynamic_coefficients()}


def assert_accepted(consumption_table, production_table, key) -> None:
    """Every check passes: the (stand-in) kernel is reached; for the full dynamic key,
    whose kernel is also its checks' one pass, a result is returned."""
    if isinstance(key, keys.FullDynamic):
        allocate(consumption_table, production_table, key)
        return
    with pytest.raises(KernelReachedError):
        allocate(consumption_table, production_table, key)


# ----------------------------------------------------------------------------------------
# The hierarchy
# ----------------------------------------------------------------------------------------

ERROR_CLASSES = [
    getattr(errors, name) for name in errors.__all__ if inspect.isclass(getattr(errors, name))
]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_error_is_a_repartition_error_and_a_value_error(cls):
    assert issubclass(cls, errors.RepartitionError)
    if cls is errors.MissingExtraError:  # not bad input: a package to install
        assert issubclass(cls, ImportError)
    elif cls is errors.SolverError:  # not bad input: the solver failed
        assert issubclass(cls, RuntimeError)
        assert issubclass(cls, errors.OptimizationError)
    elif cls not in (errors.RepartitionError, errors.OptimizationError):
        assert issubclass(cls, ValueError)


def test_hierarchy():
    assert len(ERROR_CLASSES) == len(errors.__all__)
    for cls in (errors.InfeasibleError, errors.UnboundedError, errors.SolverError):
        assert issubclass(cls, errors.OptimizationError)
    assert issubclass(errors.NonNumericError, TypeError)
    assert issubclass(errors.NonNumericError, errors.DataError)
    for cls in (errors.MissingValueError, errors.NonFiniteError, errors.NegativeEnergyError):
        assert issubclass(cls, errors.DataError)
    for cls in (
        errors.NaiveTimestampError,
        errors.UnsortedTimestampError,
        errors.DuplicateTimestampError,
        errors.IrregularStepError,
        errors.IndexMismatchError,
        errors.EmptyPeriodError,
    ):
        assert issubclass(cls, errors.TimeIndexError)
    for cls in (
        errors.NoMembersError,
        errors.DuplicateMemberError,
        errors.UnknownMemberError,
        errors.MissingMemberError,
    ):
        assert issubclass(cls, errors.MemberError)
    for cls in (
        errors.CoefficientRangeError,
        errors.CoefficientSumError,
        errors.PartialKeyRowError,
    ):
        assert issubclass(cls, errors.KeyCoefficientError)


def test_file_errors_added_for_encodings_and_ranges():
    assert issubclass(errors.EncodingError, errors.CorruptFileError)
    assert issubclass(errors.EncodingError, errors.FileFormatError)
    assert issubclass(errors.ValueRangeError, errors.DataError)
    error = errors.EncodingError(
        "cons.csv, line 3: ...", path="cons.csv", line=3, offset=301, encoding="utf-8"
    )
    assert (error.path, error.line, error.offset, error.encoding) == ("cons.csv", 3, 301, "utf-8")
    # in_context keeps the class, the culprit and the attributes of the subclass.
    copy = errors.in_context(error, "month 2025-11: ")
    assert type(copy) is errors.EncodingError
    assert (copy.line, copy.offset, copy.encoding) == (3, 301, "utf-8")
    assert str(copy) == "month 2025-11: cons.csv, line 3: ..."
    assert errors.EncodingError("plain").offset is None


def test_attributes_and_message():
    error = errors.MissingValueError("what and how", member="m", column="c", timestamp=3, step=4)
    assert str(error) == error.message == "what and how"
    assert (error.member, error.column, error.timestamp, error.step) == ("m", "c", 3, 4)


def test_valid_inputs_reach_the_kernel():
    # The baseline of every case below: the unmodified tables pass every check.
    for key in (
        keys.Prorata(),
        keys.Static({"cons_a": 0.5, "cons_b": 0.5}),
        keys.Static({"cons_a": 0.5, "cons_b": 0.5}, rounds=2),
        keys.Static({"cons_a": 0.5, "cons_b": 0.5}, redistribute=True),
        keys.Dynamic(dynamic_coefficients()),
        keys.FullDynamic(full_coefficients()),
    ):
        assert_accepted(consumption(), production(), key)


# ----------------------------------------------------------------------------------------
# Energy values
# ----------------------------------------------------------------------------------------

BAD_VALUES = [
    pytest.param(np.nan, errors.MissingValueError, id="nan"),
    pytest.param(np.inf, errors.NonFiniteError, id="+inf"),
    pytest.param(-np.inf, errors.NonFiniteError, id="-inf"),
    pytest.param(-0.5, errors.NegativeEnergyError, id="negative"),
    pytest.param(-1e-300, errors.NegativeEnergyError, id="tiny negative"),
]


@pytest.mark.parametrize(("value", "error"), BAD_VALUES)
@pytest.mark.parametrize(("table", "member"), [("consumption", "cons_b"), ("production", "pv_2")])
def test_bad_energy_names_member_and_timestamp(value, error, table, member):
    tables = {"consumption": consumption(), "production": production()}
    tables[table].loc[BAD_STEP, member] = value
    with pytest.raises(error) as info:
        allocate(tables["consumption"], tables["production"], keys.Prorata())
    err = info.value
    assert isinstance(err, errors.DataError)
    assert err.member == member
    assert err.column == member
    assert err.timestamp == BAD_STEP
    message = str(err)
    assert repr(member) in message
    assert str(BAD_STEP) in message
    assert table in message


def test_first_bad_energy_is_reported():
    table = consumption()
    table.loc[INDEX[3], "cons_a"] = -1.0
    table.loc[INDEX[1], "cons_b"] = np.nan
    with pytest.raises(errors.MissingValueError) as info:
        allocate(table, production(), keys.Prorata())
    assert (info.value.member, info.value.timestamp) == ("cons_b", INDEX[1])


def test_bad_energy_in_an_unnamed_series():
    series = pd.Series([1.0, 1.0, np.nan, 1.0], index=INDEX)
    with pytest.raises(errors.MissingValueError) as info:
        allocate(consumption(), series, keys.Prorata())
    assert info.value.timestamp == BAD_STEP
    assert str(BAD_STEP) in str(info.value)


NON_NUMERIC = [
    pytest.param(lambda: ["1", "2", "3", "4"], id="str"),
    pytest.param(lambda: pd.Series([1.0, 2.0, 3.0, 4.0], index=INDEX, dtype=object), id="object"),
    pytest.param(lambda: [True, False, True, True], id="bool"),
    pytest.param(lambda: pd.to_datetime(["2025-01-01"] * 4), id="datetime"),
]


@pytest.mark.parametrize("make_column", NON_NUMERIC)
@pytest.mark.parametrize(("table", "member"), [("consumption", "cons_b"), ("production", "pv_2")])
def test_non_numeric_column(make_column, table, member):
    tables = {"consumption": consumption(), "production": production()}
    tables[table][member] = make_column()
    with pytest.raises(errors.NonNumericError) as info:
        allocate(tables["consumption"], tables["production"], keys.Prorata())
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, ValueError)
    assert info.value.member == member
    assert info.value.column == member
    assert repr(member) in str(info.value)


def test_integer_columns_are_numbers():
    table = consumption().astype({"cons_a": "int64"})
    assert_accepted(table, production(), keys.Prorata())


def test_nullable_missing_value_is_nan():
    table = consumption()
    table["cons_a"] = pd.array([1.0, 2.0, None, 1.0], dtype="Float64")
    with pytest.raises(errors.MissingValueError) as info:
        allocate(table, production(), keys.Prorata())
    assert (info.value.member, info.value.timestamp) == ("cons_a", BAD_STEP)


# ----------------------------------------------------------------------------------------
# Plain arrays: members are column numbers and steps row numbers.
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "error"), BAD_VALUES)
def test_bad_energy_in_arrays(value, error):
    C = consumption().to_numpy()
    P = production().to_numpy().copy()
    P[BAD_ROW, 1] = value
    with pytest.raises(error) as info:
        allocate_arrays(C, P, keys.Prorata())
    assert (info.value.member, info.value.column, info.value.timestamp) == (1, 1, BAD_ROW)
    assert f"row {BAD_ROW}" in str(info.value)


@pytest.mark.parametrize(
    ("C", "P", "error"),
    [
        pytest.param(np.ones((2, 2), dtype=bool), np.ones(2), errors.NonNumericError, id="bool"),
        pytest.param(np.array([["1", "2"]]), np.ones(1), errors.NonNumericError, id="str"),
        pytest.param(np.ones((0, 2)), np.ones(0), errors.EmptyPeriodError, id="no step"),
        pytest.param(np.ones((2, 0)), np.ones(2), errors.NoMembersError, id="no consumer"),
        pytest.param(np.ones((2, 2)), np.ones((2, 0)), errors.NoMembersError, id="no producer"),
        pytest.param(np.ones((3, 2)), np.ones(2), errors.IndexMismatchError, id="rows"),
        pytest.param(np.ones((2, 2, 2)), np.ones(2), errors.DataError, id="3-D"),
    ],
)
def test_bad_arrays(C, P, error):
    with pytest.raises(error):
        allocate_arrays(C, P, keys.Prorata())


def test_labelled_dynamic_key_on_arrays():
    with pytest.raises(TypeError, match="to_numpy"):
        allocate_arrays(
            consumption().to_numpy(), production().to_numpy(), keys.Dynamic(dynamic_coefficients())
        )


# ----------------------------------------------------------------------------------------
# Time index
# ----------------------------------------------------------------------------------------


def with_index(table: pd.DataFrame, index) -> pd.DataFrame:
    table = table.copy()
    table.index = index
    return table


GAP = INDEX[[0, 1, 3]].append(pd.DatetimeIndex([INDEX[3] + pd.Timedelta("30min")]))
UNSORTED = INDEX[[0, 2, 1, 3]]
DUPLICATED = INDEX[[0, 1, 1, 2]]
EARLY_GAP = pd.date_range("2025-06-01 10:00", periods=5, freq="30min", tz="Europe/Paris")[
    [0, 2, 3, 4]
]
WITH_NAT = pd.DatetimeIndex([INDEX[0], INDEX[1], pd.NaT, INDEX[3]])
MIXED = pd.DatetimeIndex(
    [INDEX[0], INDEX[1], INDEX[1] + pd.Timedelta("15min"), INDEX[1] + pd.Timedelta("30min")]
)

INDEX_CASES = [
    # (index, error, timestamp named)
    pytest.param(INDEX.tz_localize(None), errors.NaiveTimestampError, None, id="naive"),
    pytest.param(GAP, errors.IrregularStepError, INDEX[3], id="gap"),
    # Two 15-min steps against one of 30 min: the common step is 15 min, so the 30-min step
    # (ending at MIXED[1]) is the one at fault.
    pytest.param(MIXED, errors.IrregularStepError, MIXED[1], id="mixed steps"),
    # A gap right after the first step: the common step (30 min) sets what is expected.
    pytest.param(EARLY_GAP, errors.IrregularStepError, EARLY_GAP[1], id="gap after first step"),
    pytest.param(WITH_NAT, errors.TimeIndexError, 2, id="missing timestamp"),
    pytest.param(UNSORTED, errors.UnsortedTimestampError, INDEX[1], id="unsorted"),
    pytest.param(DUPLICATED, errors.DuplicateTimestampError, INDEX[1], id="duplicated"),
]


@pytest.mark.parametrize(("index", "error", "timestamp"), INDEX_CASES)
def test_bad_index_of_consumption(index, error, timestamp):
    with pytest.raises(error) as info:
        allocate(with_index(consumption(), index), with_index(production(), index), keys.Prorata())
    assert "consumption" in str(info.value)
    if timestamp is not None:
        assert info.value.timestamp == timestamp
        assert str(timestamp) in str(info.value)


@pytest.mark.parametrize(("index", "error", "timestamp"), INDEX_CASES)
def test_bad_index_of_production(index, error, timestamp):
    with pytest.raises(error) as info:
        allocate(consumption(), with_index(production(), index), keys.Prorata())
    assert "production" in str(info.value)
    if timestamp is not None:
        assert info.value.timestamp == timestamp


def test_gap_names_the_step_after_it_and_the_step_length():
    with pytest.raises(errors.IrregularStepError) as info:
        allocate(with_index(consumption(), GAP), with_index(production(), GAP), keys.Prorata())
    assert info.value.timestamp == INDEX[3]
    assert info.value.step == pd.Timedelta("30min")
    assert str(INDEX[1]) in str(info.value)  # the step before the gap


@pytest.mark.parametrize(
    "index",
    [
        pytest.param(pd.RangeIndex(4), id="range"),
        pytest.param(pd.Index(INDEX.astype(str)), id="strings"),
        pytest.param(pd.PeriodIndex(INDEX.tz_localize(None), freq="30min"), id="periods"),
    ],
)
def test_not_a_datetime_index(index):
    with pytest.raises(errors.TimeIndexError, match="DatetimeIndex"):
        allocate(with_index(consumption(), index), with_index(production(), index), keys.Prorata())


@pytest.mark.parametrize(
    ("production_index", "timestamp"),
    [
        pytest.param(INDEX + pd.Timedelta("30min"), INDEX[0], id="shifted"),
        pytest.param(INDEX[:3], INDEX[3], id="shorter"),
        pytest.param(INDEX.append(pd.DatetimeIndex([INDEX[-1] + INDEX.freq])), None, id="longer"),
    ],
)
def test_consumption_and_production_on_different_steps(production_index, timestamp):
    table = pd.DataFrame({"pv": 1.0}, index=production_index)
    with pytest.raises(errors.IndexMismatchError) as info:
        allocate(consumption(), table, keys.Prorata())
    if timestamp is None:
        timestamp = production_index[-1]  # the extra step of production
    assert info.value.timestamp == timestamp
    assert str(timestamp) in str(info.value)


def test_same_instants_in_another_time_zone_are_accepted():
    assert_accepted(consumption(), production().tz_convert("UTC"), keys.Prorata())


def test_empty_period():
    with pytest.raises(errors.EmptyPeriodError):
        allocate(consumption().iloc[:0], production().iloc[:0], keys.Prorata())


# ----------------------------------------------------------------------------------------
# Members
# ----------------------------------------------------------------------------------------


def test_no_consumer():
    with pytest.raises(errors.NoMembersError, match="consumer"):
        allocate(consumption()[[]], production(), keys.Prorata())


def test_no_producer():
    with pytest.raises(errors.NoMembersError, match="producer"):
        allocate(consumption(), pd.DataFrame(index=INDEX), keys.Prorata())


@pytest.mark.parametrize("table", ["consumption", "production"])
def test_duplicate_member(table):
    tables = {"consumption": consumption(), "production": production()}
    frame = tables[table]
    tables[table] = pd.concat([frame, frame.iloc[:, [0]]], axis=1)
    with pytest.raises(errors.DuplicateMemberError) as info:
        allocate(tables["consumption"], tables["production"], keys.Prorata())
    name = frame.columns[0]
    assert info.value.member == name
    assert repr(name) in str(info.value)


@pytest.mark.parametrize("key", ["prorata", keys.Prorata, None, {"cons_a": 1.0}, 0.5], ids=repr)
def test_not_a_key(key):
    with pytest.raises(TypeError, match="sharing key"):
        allocate(consumption(), production(), key)
    with pytest.raises(TypeError, match="sharing key"):
        allocate_arrays(consumption().to_numpy(), production().to_numpy(), key)


def test_production_not_a_table():
    with pytest.raises(TypeError, match="DataFrame"):
        allocate(consumption(), [1.0, 2.0, 3.0, 4.0], keys.Prorata())


# ----------------------------------------------------------------------------------------
# Static key
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-0.1, 1.5, np.inf, -np.inf, np.nan], ids=repr)
@pytest.mark.parametrize("form", ["mapping", "series", "array"])
def test_static_coefficient_out_of_range(value, form):
    values = {"cons_a": 0.25, "cons_b": value}
    coefficients = {
        "mapping": values,
        "series": pd.Series(values),
        "array": np.array(list(values.values())),
    }[form]
    with pytest.raises(errors.CoefficientRangeError) as info:
        allocate(consumption(), production(), keys.Static(coefficients))
    assert info.value.member == "cons_b"
    assert "'cons_b'" in str(info.value)


@pytest.mark.parametrize("kwargs", [{}, {"rounds": 1}, {"redistribute": True}], ids=repr)
def test_static_sum_tolerance(kwargs):
    # keys.SUM_TOLERANCE = 1e-9: 1 + 1e-10 passes, 1 + 1e-8 is an error.
    assert keys.SUM_TOLERANCE == 1e-9
    assert_accepted(
        consumption(), production(), keys.Static({"cons_a": 0.5 + 1e-10, "cons_b": 0.5}, **kwargs)
    )
    with pytest.raises(errors.CoefficientSumError, match="above 1"):
        allocate(
            consumption(),
            production(),
            keys.Static({"cons_a": 0.5 + 1e-8, "cons_b": 0.5}, **kwargs),
        )


def test_static_unknown_consumer():
    key = keys.Static({"cons_a": 0.5, "cons_b": 0.25, "cons_z": 0.25})
    with pytest.raises(errors.UnknownMemberError) as info:
        allocate(consumption(), production(), key)
    assert info.value.member == "cons_z"
    assert "'cons_z'" in str(info.value)


@pytest.mark.parametrize("form", [dict, pd.Series])
def test_static_missing_consumer(form):
    with pytest.raises(errors.MissingMemberError) as info:
        allocate(consumption(), production(), keys.Static(form({"cons_a": 1.0})))
    assert info.value.member == "cons_b"
    assert "'cons_b'" in str(info.value)


def test_static_array_of_the_wrong_length():
    with pytest.raises(errors.MemberError):
        allocate(consumption(), production(), keys.Static([0.5, 0.25, 0.25]))


@pytest.mark.parametrize("form", [dict, pd.Series])
def test_static_non_numeric_coefficient(form):
    # Strings in a key are a key error (not an energy-table error), in any form, naming
    # the consumer.
    key = keys.Static(form({"cons_a": "half", "cons_b": 0.5}))
    with pytest.raises(errors.NonNumericCoefficientError) as info:
        allocate(consumption(), production(), key)
    assert isinstance(info.value, errors.KeyCoefficientError)
    assert isinstance(info.value, TypeError)
    assert info.value.member == "cons_a"


def test_static_redistribute_must_be_a_bool():
    with pytest.raises(TypeError, match="redistribute"):
        keys.Static({"cons_a": 1.0}, redistribute="no")


def test_complex_energy_is_not_a_number():
    table = consumption().astype(complex)
    with pytest.raises(errors.NonNumericError):
        allocate(table, production(), keys.Prorata())


def test_static_redistribute_and_rounds_exclude_each_other():
    with pytest.raises(ValueError, match="not both"):
        keys.Static({"cons_a": 1.0}, redistribute=True, rounds=2)


@pytest.mark.parametrize(
    ("rounds", "error"), [(-1, ValueError), (1.5, TypeError), (True, TypeError), ("2", TypeError)]
)
def test_static_bad_rounds(rounds, error):
    with pytest.raises(error, match="rounds"):
        keys.Static({"cons_a": 1.0}, rounds=rounds)


# ----------------------------------------------------------------------------------------
# Dynamic key
# ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-0.1, 1.5, np.inf, -np.inf], ids=repr)
def test_dynamic_coefficient_out_of_range(value):
    table = dynamic_coefficients()
    table.loc[BAD_STEP, "cons_b"] = value
    with pytest.raises(errors.CoefficientRangeError) as info:
        allocate(consumption(), production(), keys.Dynamic(table))
    assert (info.value.member, info.value.timestamp) == ("cons_b", BAD_STEP)
    assert "'cons_b'" in str(info.value)
    assert str(BAD_STEP) in str(info.value)


def test_dynamic_row_sum_above_one():
    table = dynamic_coefficients()
    table.loc[BAD_STEP, "cons_b"] = 0.5 + 1e-8  # 0.5 + 0.5 + 1e-8
    with pytest.raises(errors.CoefficientSumError) as info:
        allocate(consumption(), production(), keys.Dynamic(table))
    assert info.value.timestamp == BAD_STEP
    assert str(BAD_STEP) in str(info.value)
    table.loc[BAD_STEP, "cons_b"] = 0.5 + 1e-10
    assert_accepted(consumption(), production(), keys.Dynamic(table))


def test_dynamic_partial_nan_row():
    table = dynamic_coefficients()
    table.loc[BAD_STEP, "cons_b"] = np.nan
    with pytest.raises(errors.PartialKeyRowError) as info:
        allocate(consumption(), production(), keys.Dynamic(table))
    assert (info.value.member, info.value.timestamp) == ("cons_b", BAD_STEP)
    assert str(BAD_STEP) in str(info.value)


def test_dynamic_all_nan_row_is_accepted():
    table = dynamic_coefficients()
    table.loc[BAD_STEP] = np.nan
    assert_accepted(consumption(), production(), keys.Dynamic(table))


def test_dynamic_unknown_and_missing_consumer():
    with pytest.raises(errors.UnknownMemberError) as info:
        allocate(consumption(), production(), keys.Dynamic(dynamic_coefficients().assign(x=0.0)))
    assert info.value.member == "x"
    with pytest.raises(errors.MissingMemberError) as info:
        allocate(consumption(), production(), keys.Dynamic(dynamic_coefficients()[["cons_a"]]))
    assert info.value.member == "cons_b"
    assert "'cons_b'" in str(info.value)


def test_dynamic_missing_step():
    table = dynamic_coefficients().drop(BAD_STEP)
    with pytest.raises(errors.IndexMismatchError) as info:
        allocate(consumption(), production(), keys.Dynamic(table))
    assert info.value.timestamp == BAD_STEP
    assert str(BAD_STEP) in str(info.value)


@pytest.mark.parametrize(
    ("transform", "error"),
    [
        pytest.param(lambda t: t.tz_localize(None), errors.NaiveTimestampError, id="naive"),
        pytest.param(lambda t: t.reset_index(drop=True), errors.TimeIndexError, id="range"),
        pytest.param(
            lambda t: pd.concat([t, t.iloc[[1]]]), errors.DuplicateTimestampError, id="dup step"
        ),
        pytest.param(
            lambda t: pd.concat([t, t[["cons_a"]]], axis=1),
            errors.DuplicateMemberError,
            id="dup consumer",
        ),
        pytest.param(lambda t: t.assign(cons_a="x"), errors.NonNumericCoefficientError, id="str"),
        pytest.param(lambda t: t.to_numpy()[:3], errors.MemberError, id="array shape"),
    ],
)
def test_dynamic_bad_table(transform, error):
    with pytest.raises(error):
        allocate(consumption(), production(), keys.Dynamic(transform(dynamic_coefficients())))


# ----------------------------------------------------------------------------------------
# Full dynamic key
# ----------------------------------------------------------------------------------------


def test_full_dynamic_unknown_and_missing_producer():
    tables = full_coefficients()
    with pytest.raises(errors.UnknownMemberError) as info:
        allocate(consumption(), production(), keys.FullDynamic({**tables, "pv_9": tables["pv_1"]}))
    assert info.value.member == "pv_9"
    assert "'pv_9'" in str(info.value)
    with pytest.raises(errors.MissingMemberError) as info:
        allocate(consumption(), production(), keys.FullDynamic({"pv_1": tables["pv_1"]}))
    assert info.value.member == "pv_2"
    assert "'pv_2'" in str(info.value)


def test_full_dynamic_unknown_and_missing_consumer():
    tables = full_coefficients()
    with pytest.raises(errors.UnknownMemberError) as info:
        allocate(
            consumption(),
            production(),
            keys.FullDynamic({**tables, "pv_2": tables["pv_2"].assign(cons_z=0.0)}),
        )
    assert info.value.member == "cons_z"
    assert "pv_2" in str(info.value)
    with pytest.raises(errors.MissingMemberError) as info:
        allocate(
            consumption(),
            production(),
            keys.FullDynamic({**tables, "pv_2": tables["pv_2"][["cons_b"]]}),
        )
    assert info.value.member == "cons_a"


def test_full_dynamic_missing_step():
    tables = full_coefficients()
    tables["pv_2"] = tables["pv_2"].drop(BAD_STEP)
    with pytest.raises(errors.IndexMismatchError) as info:
        allocate(consumption(), production(), keys.FullDynamic(tables))
    assert info.value.timestamp == BAD_STEP


@pytest.mark.parametrize(
    ("value", "error"),
    [
        (np.nan, errors.CoefficientRangeError),  # every pair coefficient must be given
        (-0.1, errors.CoefficientRangeError),
        (1.5, errors.CoefficientRangeError),
    ],
    ids=repr,
)
def test_full_dynamic_bad_coefficient(value, error):
    tables = full_coefficients()
    tables["pv_2"].loc[BAD_STEP, "cons_a"] = value
    with pytest.raises(error) as info:
        allocate(consumption(), production(), keys.FullDynamic(tables))
    assert (info.value.member, info.value.timestamp) == ("cons_a", BAD_STEP)
    assert "pv_2" in str(info.value)


def test_full_dynamic_row_sum_above_one_per_producer():
    tables = full_coefficients()
    tables["pv_1"].loc[BAD_STEP, "cons_b"] = 0.5 + 1e-8  # pv_1 row sums to 1 + 1e-8
    with pytest.raises(errors.CoefficientSumError) as info:
        allocate(consumption(), production(), keys.FullDynamic(tables))
    assert info.value.timestamp == BAD_STEP
    assert "pv_1" in str(info.value)
    # Shares of different producers to one consumer may add up above 1: (0.75 + 0.75).
    tables = full_coefficients()
    tables["pv_1"].loc[:, ["cons_a", "cons_b"]] = [0.75, 0.25]
    tables["pv_2"].loc[:, ["cons_a", "cons_b"]] = [0.75, 0.25]
    assert_accepted(consumption(), production(), keys.FullDynamic(tables))


def test_full_dynamic_array_of_the_wrong_shape():
    with pytest.raises(errors.MemberError):
        allocate(consumption(), production(), keys.FullDynamic(np.zeros((2, 4, 3))))


def test_full_dynamic_list_of_tables_is_not_taken_positionally(monkeypatch):
    """A list of labelled tables must be rejected, or matched by label, never misread.

    Here pv_1's table has its columns in the other order and pv_2 produces nothing: by
    label, pv_1 offers cons_a 1 x 2 kWh at every step, so cons_a receives min(C, 2) = C.
    """
    monkeypatch.undo()  # run the real kernels: the result is what is checked
    table = pd.DataFrame({"cons_b": [0.0] * 4, "cons_a": [1.0] * 4}, index=INDEX)
    producers = pd.DataFrame({"pv_1": [2.0] * 4, "pv_2": [0.0] * 4}, index=INDEX)
    try:
        result = allocate(consumption(), producers, keys.FullDynamic([table, table]))
    except (TypeError, errors.RepartitionError):
        return  # rejected: fine
    by_label = allocate(consumption(), producers, keys.FullDynamic({"pv_1": table, "pv_2": table}))
    pd.testing.assert_frame_equal(result.allocated, by_label.allocated)
