"""Synthetic energy communities: seeded load and production curves, and keys for them.

For demos, tests and benchmarks: a year of steps for a few producers with a daylight
production that follows the sun and the weather, and a few dozen consumers (households,
offices, schools) with daily patterns. Everything is a pure function of its arguments:
the same seed gives the same tables, bit for bit, on every machine.

A thin layer over :mod:`repartition.profiles`: by default its textbook model (plain NumPy,
no extra needed: good enough for the shape of a year, not for a production estimate of a
real plant), with ``model="profiles"`` the same members from real profiles (pvlib, BDEW).

>>> from repartition.synthetic import synthetic_community
>>> consumption, production = synthetic_community(consumers=5, producers=1)
>>> consumption.shape, production.shape
((17520, 5), (17520, 1))
"""

from repartition.profiles.calendar import check_step, check_year, time_index
from repartition.profiles.textbook import (
    LATITUDE,
    LONGITUDE,
    clear_sky_irradiance,
    solar_elevation_sine,
)
from repartition.synthetic.community import synthetic_community
from repartition.synthetic.keys import DemoKeys, demo_keys, round_down

__all__ = [
    "LATITUDE",
    "LONGITUDE",
    "DemoKeys",
    "check_step",
    "check_year",
    "clear_sky_irradiance",
    "demo_keys",
    "round_down",
    "solar_elevation_sine",
    "synthetic_community",
    "time_index",
]
