"""Where plants stand: a location with its time zone."""

from __future__ import annotations

import math
from dataclasses import dataclass

from repartition import errors
from repartition.time import check_time_zone

__all__ = ["CLERMONT_FERRAND", "Location"]


@dataclass(frozen=True)
class Location:
    """A place on Earth, for the sun's position and the weather.

    Parameters
    ----------
    latitude : float
        [degrees north], -90 to 90.
    longitude : float
        [degrees east], -180 to 180.
    altitude : float
        Above sea level [m]; sets the air pressure of the solar position and the clear sky.
    tz : str
        IANA time zone of the index the profiles are computed on (``"Europe/Paris"``).
    name : str
        A label for messages and plots.
    """

    latitude: float
    longitude: float
    altitude: float = 0.0
    tz: str = "Europe/Paris"
    name: str = "site"

    def __post_init__(self) -> None:
        for field, low, high in (("latitude", -90.0, 90.0), ("longitude", -180.0, 180.0)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise errors.ParameterTypeError(
                    f"Location {field} must be a number, not {value!r}."
                )
            if not (low <= float(value) <= high) or math.isnan(float(value)):
                raise errors.ParameterError(
                    f"Location {field} must be in [{low:g}, {high:g}] degrees, not {value!r}."
                )
            object.__setattr__(self, field, float(value))
        altitude = self.altitude
        if isinstance(altitude, bool) or not isinstance(altitude, int | float):
            raise errors.ParameterTypeError(
                f"Location altitude must be a number, not {altitude!r}."
            )
        if not (-500.0 <= float(altitude) <= 9_000.0):
            raise errors.ParameterError(
                f"Location altitude must be in [-500, 9000] m, not {altitude!r}."
            )
        object.__setattr__(self, "altitude", float(altitude))
        object.__setattr__(self, "tz", check_time_zone(self.tz))


CLERMONT_FERRAND = Location(45.78, 3.08, 400.0, "Europe/Paris", "Clermont-Ferrand")
"""Clermont-Ferrand (Puy-de-Dôme), the home of the demo village's operation."""
