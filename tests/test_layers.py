"""The layers' import rules, read from the sources (every import, also those inside functions).

- Nothing under ``repartition.io`` imports ``repartition.kernels``: io sits above the engine
  and reaches the kernels' results only through it (``AllocationArrays.production_total``).
- ``repartition._atomic`` (the base layer) imports nothing of repartition's.
- ``repartition.synthetic`` imports no private module of ``repartition.io``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import repartition

PACKAGE = Path(repartition.__file__).parent


def imported(path: Path) -> set[str]:
    """Every module that ``path`` imports, as a dotted name (``from a import b`` gives
    ``a`` and ``a.b``: ``b`` may be a module)."""
    package = ".".join(("repartition", *path.relative_to(PACKAGE).with_suffix("").parts))
    if path.name == "__init__.py":
        package = package.removesuffix(".__init__")
    else:
        package = package.rpartition(".")[0]
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def sources(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", sources("io"), ids=lambda path: str(path.relative_to(PACKAGE)))
def test_io_does_not_import_the_kernels(path: Path) -> None:
    kernels = {name for name in imported(path) if name.startswith("repartition.kernels")}
    assert not kernels, f"{path.relative_to(PACKAGE)} imports {sorted(kernels)}"


def test_atomic_imports_nothing_of_ours() -> None:
    ours = {name for name in imported(PACKAGE / "_atomic.py") if name.startswith("repartition")}
    assert not ours


@pytest.mark.parametrize(
    "path", sources("synthetic"), ids=lambda path: str(path.relative_to(PACKAGE))
)
def test_synthetic_imports_no_private_io_module(path: Path) -> None:
    private = {
        name
        for name in imported(path)
        if name.startswith("repartition.io.")
        and any(part.startswith("_") for part in name.split(".")[2:])
    }
    assert not private, f"{path.relative_to(PACKAGE)} imports {sorted(private)}"


def test_the_rules_are_seen() -> None:
    # The checks above would pass vacuously if imports were not found.
    assert "repartition._atomic.atomic_files" in imported(PACKAGE / "io" / "keyfile" / "_write.py")
    assert "repartition.io.keyfile.rounding" in imported(PACKAGE / "synthetic" / "keys.py")
    assert "repartition.kernels.pooled" in imported(PACKAGE / "allocation.py")
