"""Shared test settings: the hypothesis profiles, and the ``threads`` fixture.

``deadline=None`` because the first call of a kernel compiles it (seconds). The ``ci``
profile runs more examples; select it with ``HYPOTHESIS_PROFILE=ci``.
"""

import os

import numba
import pytest
from hypothesis import HealthCheck, settings

import repartition
from repartition.kernels import threads as kernel_threads

settings.register_profile(
    "default",
    deadline=None,
    max_examples=60,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "ci",
    deadline=None,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.fixture
def threads(request, monkeypatch):
    """Run the kernels on ``request.param`` threads (parametrize it ``indirect``), splitting
    even the tests' tiny problems (``MIN_CELLS_PER_THREAD`` set to 1), so that every part
    boundary is exercised. Numba's own threads too, for the kernels that still use them
    (``kernels.full_dynamic``), as many as Numba has."""
    monkeypatch.setattr(kernel_threads, "MIN_CELLS_PER_THREAD", 1)
    previous = numba.get_num_threads()
    numba.set_num_threads(min(request.param, numba.config.NUMBA_NUM_THREADS))
    try:
        with repartition.threads(request.param):
            yield request.param
    finally:
        numba.set_num_threads(previous)
