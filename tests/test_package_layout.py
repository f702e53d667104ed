"""The package's layout as users see it: old module paths, the key registry, the protocol."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import repartition.kernels
from repartition import allocate_arrays, keys
from repartition.allocation import Shares
from repartition.problem import Problem

OLD_PATHS = {
    "repartition.strategies": ["EqualShare", "WeightedShare", "SpanishKey", "ItalianKey"],
    "repartition.cascade": ["CascadeGroup", "PriorityCascade"],
    "repartition.economic": ["EconomicGreedy", "WholeWh", "to_whole_wh"],
    "repartition.prosumer": ["ProsumerKey", "VARIANTS"],
}


@pytest.mark.parametrize("module", sorted(OLD_PATHS))
def test_old_module_paths_warn_and_still_work(module: str) -> None:
    sys.modules.pop(module, None)
    with pytest.warns(DeprecationWarning, match=module.replace(".", r"\.")):
        shim = importlib.import_module(module)
    for name in OLD_PATHS[module]:
        expected = getattr(keys, name, None) or getattr(
            importlib.import_module("repartition.keys.prosumer"), name
        )
        assert getattr(shim, name) is expected
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = shim.no_such_name


def test_the_registry_names_every_key_class() -> None:
    assert keys.KEYS["prorata"] is keys.Prorata
    assert keys.KEYS["static"] is keys.Static
    assert set(keys.KEYS.values()) == {
        keys.Prorata,
        keys.Static,
        keys.Dynamic,
        keys.FullDynamic,
        keys.EqualShare,
        keys.WeightedShare,
        keys.SpanishKey,
        keys.ItalianKey,
        keys.PriorityCascade,
        keys.EconomicGreedy,
        keys.ProsumerKey,
    }
    assert all(name == key.name for name, key in keys.KEYS.items())


@pytest.mark.parametrize(
    "first", ["repartition.keys.prosumer", "repartition.keys.fair", "repartition.engine"]
)
def test_the_key_modules_import_in_any_order(first: str) -> None:
    """No circle: each module imports first, in a fresh interpreter, before the package's."""
    code = f"import {first}; import repartition; print(repartition.keys.Prorata.name)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "prorata"


class HalfEach(keys.SharingKey):
    """A strategy written against the public protocol only: half the pool to each of two."""

    name = "half each"

    def share(self, problem: Problem) -> Shares:
        consumption, production = problem.consumption, problem.production
        pool = production.sum(axis=1)
        allocated = np.minimum(consumption, 0.5 * pool[:, None])
        taken = allocated.sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            part = np.where(pool[:, None] > 0, production / pool[:, None], 0.0)
        return Shares(
            allocated,
            consumption - allocated,
            part * taken[:, None],
            production - part * taken[:, None],
        )


def test_a_key_written_against_the_public_protocol_runs() -> None:
    result = allocate_arrays(np.array([[1.0, 3.0]]), np.array([4.0]), HalfEach())
    np.testing.assert_array_equal(result.allocated, [[1.0, 2.0]])
    np.testing.assert_array_equal(result.surplus, [[1.0]])
    assert HalfEach().step_tables() == {}


def test_a_missing_extra_names_the_command_that_installs_it() -> None:
    from repartition import errors
    from repartition._optional import import_extra

    with pytest.raises(
        errors.MissingExtraError, match=r'pip install "repartition\[plot\]"'
    ) as caught:
        import_extra("no_such_module_here.pyplot", "plot", feature="plot_comparison")
    assert isinstance(caught.value, ImportError)
    assert "plot_comparison needs no_such_module_here" in str(caught.value)
    assert import_extra("json", "plot").dumps([1]) == "[1]"


KERNELS = Path(repartition.kernels.__file__).parent
KEY_MODULES = Path(keys.__file__).parent
ALLOWED_IN_KERNELS = {"__future__", "collections", "typing", "numpy", "numba"} | {
    # kernels/threads.py, which runs the kernels on a pool of Python threads
    "concurrent",
    "contextlib",
    "contextvars",
    "operator",
    "os",
    "threading",
}


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """``(module, names)`` of every import of a source file (names: ``[]`` for ``import``)."""
    found: list[tuple[str, list[str]]] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("path", sorted(KERNELS.glob("*.py")), ids=lambda path: path.name)
def test_kernel_modules_import_numpy_numba_and_other_kernel_modules_only(path: Path) -> None:
    """No pandas, nothing of repartition outside kernels/, and no other kernel module's
    private names: what the rules share is public in its toolkit module."""
    for module, names in _imports(path):
        if module.startswith("repartition.kernels"):
            private = [name for name in names if name.startswith("_")]
            assert module == "repartition.kernels._config" or not private, (module, private)
        else:
            assert module.split(".")[0] in ALLOWED_IN_KERNELS, module


@pytest.mark.parametrize("path", sorted(KEY_MODULES.glob("*.py")), ids=lambda path: path.name)
def test_keys_leave_memory_layouts_to_the_kernels(path: Path) -> None:
    """A key calls its rule's ``run()``: it never asks the layout, transposes, or picks a
    row-major or member-major kernel itself."""
    for node in ast.walk(ast.parse(path.read_text())):
        name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
        assert name != "is_by_member", f"{path.name}:{node.lineno}"
        assert name != "T", f"{path.name}:{node.lineno}: a transpose"
        if isinstance(node, ast.Attribute):
            assert not node.attr.endswith(("_rows", "_members")), f"{path.name}:{node.lineno}"
    for module, names in _imports(path):
        if module.startswith("repartition.kernels"):
            assert not [name for name in names if name.endswith(("_rows", "_members"))], module
