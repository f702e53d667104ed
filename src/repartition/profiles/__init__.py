"""Real profiles: PV production with pvlib, standard and public-building load profiles on
the French calendar, and communities made of them (extra ``profiles``; docs/profiles.md).

>>> from repartition.profiles import CLERMONT_FERRAND, Plant, production, time_index
>>> index = time_index(2025, "30min")
>>> school = Plant("school_roof", CLERMONT_FERRAND, kwp=9.0)
>>> pv = production([school], index, weather="clear_sky")
>>> round(float(pv["school_roof"].sum() / 9.0))  # kWh per kWp under a clear sky all year
1738
"""

from repartition.profiles.calendar import (
    check_step,
    check_year,
    day_types,
    public_holidays,
    school_holidays,
    time_index,
)
from repartition.profiles.community import (
    PUY_DE_DOME_VILLAGE,
    Community,
    Member,
    generate,
    village,
)
from repartition.profiles.loads import BUILDINGS, KINDS, Consumer, consumption, temperature_year
from repartition.profiles.pv import Plant, modelchain_power, production
from repartition.profiles.site import CLERMONT_FERRAND, Location
from repartition.profiles.weather import (
    CENTRAL_FRANCE,
    Climate,
    clear_sky,
    read_weather,
    sample_times,
    stochastic_weather,
)

__all__ = [
    "BUILDINGS",
    "CENTRAL_FRANCE",
    "CLERMONT_FERRAND",
    "KINDS",
    "PUY_DE_DOME_VILLAGE",
    "Climate",
    "Community",
    "Consumer",
    "Location",
    "Member",
    "Plant",
    "check_step",
    "check_year",
    "clear_sky",
    "consumption",
    "day_types",
    "generate",
    "modelchain_power",
    "production",
    "public_holidays",
    "read_weather",
    "sample_times",
    "school_holidays",
    "stochastic_weather",
    "temperature_year",
    "time_index",
    "village",
]
