"""Shared test settings: the hypothesis profiles, and the ``threads`` fixture.

``deadline=None`` because the first call of a kernel compiles it (seconds). The ``ci``
profile runs more examples; select it with ``HYPOTHESIS_PROFILE=ci``.
"""

import os

import numba
import pytest
from hypothesis import HealthCheck, settings

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
def threads(request):
    """Run the kernels on ``request.param`` Numba threads (parametrize it ``indirect``)."""
    previous = numba.get_num_threads()
    numba.set_num_threads(request.param)
    yield request.param
    numba.set_num_threads(previous)
