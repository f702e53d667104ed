"""Every kernel test module again with ``NUMBA_DISABLE_JIT=1`` (``python -m pytest -m slow``).

The kernels then run as plain Python, which coverage can see (style.md point 3).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


@pytest.mark.slow
def test_kernels_pure_python() -> None:
    """``tests/test_kernels_*.py`` (but this one) with ``NUMBA_DISABLE_JIT=1``: the kernels as
    plain Python, which coverage can see (style.md point 3)."""
    modules = sorted(
        str(path) for path in HERE.glob("test_kernels_*.py") if path.name != Path(__file__).name
    )
    assert len(modules) >= 12, modules
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    command = [sys.executable, "-m", "pytest", *modules, "-q", "-p", "no:cacheprovider"]
    completed = subprocess.run(
        command, cwd=HERE.parent, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert completed.returncode == 0, completed.stdout[-4000:] + completed.stderr[-2000:]
