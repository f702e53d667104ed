"""repartition.warm_up: after it, no kernel compiles again in a process that shares the cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import repartition
from repartition import errors
from repartition.cli import main
from repartition.warming import KEY_FAMILIES

ROOT = Path(__file__).parent.parent

# Every key of the benchmarks (the digests' registry), both layouts, flows and Shapley
# values; then the dispatchers that had to compile instead of loading from the cache.
_MISSES = textwrap.dedent(
    """
    import importlib, json, pkgutil
    from numba.core.registry import CPUDispatcher
    import repartition
    from benchmarks import data
    from benchmarks.digests import KEYS
    from repartition import allocate, metrics
    for layout in data.LAYOUTS:
        community = data.community(data.TINY, layout=layout)
        for factory in KEYS.values():
            allocate(community.consumption, community.production, factory(community)).flows("MS")
        metrics.shapley_values(community.consumption, community.production, 0.1)
    misses = []
    for module in pkgutil.walk_packages(repartition.__path__, "repartition."):
        if module.name.endswith("__main__"):
            continue
        for name, value in vars(importlib.import_module(module.name)).items():
            if isinstance(value, CPUDispatcher) and value.__module__ == module.name:
                compiled = sum(value._cache_misses.values())
                misses += [f"{module.name}.{name}"] if compiled else []
    print(json.dumps(misses))
    """
)


def test_unknown_family_or_layout_is_a_typed_error() -> None:
    with pytest.raises(errors.ParameterError, match="unknown key family 'nope'"):
        repartition.warm_up(["nope"])
    with pytest.raises(errors.ParameterError, match="unknown layout 'diagonal'"):
        repartition.warm_up(["prorata"], layouts=["diagonal"])  # type: ignore[list-item]


def test_every_family_runs_in_both_layouts() -> None:
    # In this process most kernels are compiled already: this checks that every family's
    # keys accept the small community in both layouts (a key that refused it would raise).
    seconds = repartition.warm_up()
    assert seconds > 0.0
    assert set(KEY_FAMILIES) >= {"prorata", "static", "dynamic", "full_dynamic", "prosumer"}


def test_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["warm-up", "--families", "prorata", "static", "--layouts", "rows"]) == 0
    assert "kernels ready in" in capsys.readouterr().out


@pytest.mark.slow
def test_after_warm_up_no_kernel_compiles_again(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
        "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "src")]),
    }

    def run(code: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    run("import repartition; repartition.warm_up()")
    assert json.loads(run(_MISSES).splitlines()[-1]) == []
