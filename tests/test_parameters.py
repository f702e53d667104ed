"""Bad parameters raise a typed error of repartition.errors, never a bare ValueError/TypeError.

Every error is also a ValueError (or TypeError), so generic handlers keep working; the test
checks the class is one of ``repartition.errors``'s and the message says what to give.
"""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import repartition
from repartition import allocate, compare, errors, keys, time
from repartition.io import dso_results, prepare_month, read_energy, read_load_curves
from repartition.synthetic import synthetic_community

INDEX = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
CONSUMPTION = pd.DataFrame({"A": [1.0, 3.0], "B": [3.0, 1.0]}, index=INDEX)
PRODUCTION = pd.Series([2.0, 2.0], index=INDEX, name="PV")


@pytest.mark.parametrize(
    ("call", "error", "said"),
    [
        (lambda: read_load_curves([]), errors.ParameterError, "at least one file"),
        (lambda: compare(CONSUMPTION, PRODUCTION, {}), errors.ParameterError, "at least one key"),
        (lambda: keys.Static({"A": 1.0, "B": 0.0}, rounds=-1), errors.ParameterError, "rounds"),
        (lambda: keys.Static({"A": 1.0}, rounds=1.5), errors.ParameterTypeError, "whole number"),
        (lambda: keys.ProsumerKey({"A": 1.0}, "xyz"), errors.ParameterError, "xyz"),
        (lambda: keys.PriorityCascade("A"), errors.ParameterTypeError, "list of groups"),
        (
            lambda: allocate(CONSUMPTION, PRODUCTION, keys.Prorata()).arrays.flows(np.array([1])),
            errors.ParameterError,
            "boundaries",
        ),
        (lambda: synthetic_community(consumers=0), errors.ParameterError, "consumers"),
        (lambda: read_energy("dataset", months="2025-13"), errors.ParameterError, "YYYY-MM"),
    ],
)
def test_bad_parameters_raise_typed_errors(call, error: type, said: str) -> None:
    with pytest.raises(error, match=said):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: read_load_curves(["exports.csv"], tz="Mars/Olympus"),
        lambda: prepare_month("exports.csv", "2025-11", keys.Prorata(), "out", tz="Mars/Olympus"),
        lambda: dso_results(allocate(CONSUMPTION, PRODUCTION, keys.Prorata()), tz="Mars/Olympus"),
        lambda: time.month_labels(INDEX, "Mars/Olympus"),
        lambda: synthetic_community(consumers=2, tz="Mars/Olympus"),
    ],
)
def test_an_unknown_time_zone_is_named_before_anything_is_read(call) -> None:
    with pytest.raises(errors.TimeZoneError, match=r"'Mars/Olympus'.*IANA"):
        call()


# Internal consistency checks that no caller's input can reach (programming errors).
INTERNAL = {
    ("allocation.py", "A pooled split has no tables"),
    ("whole_wh.py", "apportion needs"),
    ("_atomic.py", "twice"),
    ("io/enedis/_times.py", "text"),
}


def test_no_bare_value_or_type_error_is_raised_for_input() -> None:
    package = Path(repartition.__file__).parent
    bare = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package).as_posix()
        if relative.startswith("kernels/"):
            continue  # kernels raise nothing for input: it is checked before them
        source = path.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                name = getattr(node.exc.func, "id", None)
                if name in {"ValueError", "TypeError"}:
                    text = ast.get_source_segment(source, node) or ""
                    if not any(relative == where and words in text for where, words in INTERNAL):
                        bare.append(f"{relative}:{node.lineno}")
    assert not bare, bare
