"""One storage shared by the operation: a battery charged from the pool and discharged
into it.

As the DSO counts it, the storage is a member twice over: a **consumer** while it charges
(its consumption is the charge, received from the pool: it never charges from the grid
here) and a **producer** while it discharges (its production joins the pool). The
optimiser chooses its schedule together with the allocation. See docs/optimize.md,
"Storage".
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from repartition import errors

__all__ = ["Storage"]


def _positive(value: object, what: str, unit: str, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise errors.ParameterTypeError(f"Storage {what} must be a finite number, not {value!r}.")
    if value < 0 or (value == 0 and not zero):
        raise errors.ParameterError(f"Storage {what} must be > 0 [{unit}], not {value!r}.")
    return float(value)


@dataclass(frozen=True)
class Storage:
    """A shared battery.

    Parameters
    ----------
    capacity : float
        Usable energy. [kWh]
    power : float
        Largest charge and discharge power. [kW]
    round_trip_efficiency : float
        Energy out over energy in, in (0, 1]; split evenly between charge and discharge
        (``sqrt`` each way).
    initial : float
        State of charge at the start of each horizon. [kWh]
    final : float, optional
        Least state of charge at the end of each horizon [kWh]; ``None``: ``initial``
        (each month hands the next one the battery it received).
    id : str
        The member id the storage takes, as consumer and as producer (its PRM).

    Notes
    -----
    Per step of ``h`` hours: ``0 <= charge, discharge <= power * h``; ``soc[t] = soc[t-1]
    + sqrt(eta) * charge[t] - discharge[t] / sqrt(eta)``; ``0 <= soc <= capacity``.
    """

    capacity: float
    power: float
    round_trip_efficiency: float = 0.9
    initial: float = 0.0
    final: float | None = None
    id: str = "storage"

    def __post_init__(self) -> None:
        capacity = _positive(self.capacity, "capacity", "kWh")
        object.__setattr__(self, "capacity", capacity)
        object.__setattr__(self, "power", _positive(self.power, "power", "kW"))
        efficiency = _positive(self.round_trip_efficiency, "round_trip_efficiency", "fraction")
        if efficiency > 1:
            raise errors.ParameterError(
                f"Storage round_trip_efficiency must be in (0, 1], not {efficiency!r}."
            )
        object.__setattr__(self, "round_trip_efficiency", efficiency)
        for name in ("initial", "final"):
            value = getattr(self, name)
            if value is None:
                continue
            value = _positive(value, name, "kWh", zero=True)
            if value > capacity:
                raise errors.ParameterError(
                    f"Storage {name} state of charge {value!r} kWh is above its capacity "
                    f"{capacity!r} kWh."
                )
            object.__setattr__(self, name, value)
        if not isinstance(self.id, str) or not self.id:
            raise errors.ParameterTypeError(
                f"Storage id must be a non-empty string, not {self.id!r}."
            )

    @property
    def charge_efficiency(self) -> float:
        """``sqrt(round_trip_efficiency)``: energy stored per kWh charged."""
        return math.sqrt(self.round_trip_efficiency)

    @property
    def end(self) -> float:
        """The least state of charge at the end of each horizon. [kWh]"""
        return self.initial if self.final is None else self.final
