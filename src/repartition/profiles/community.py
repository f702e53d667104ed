"""Communities made of profiles: members with PRM ids and names, plants sized to the
community, and the village of the demo (docs/profiles.md, "Communities")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from repartition import errors
from repartition.profiles.calendar import Zone, time_index
from repartition.profiles.loads import Consumer, Kind, consumption
from repartition.profiles.pv import Plant, production
from repartition.profiles.site import Location

__all__ = ["PUY_DE_DOME_VILLAGE", "Community", "Member", "generate", "village"]


@dataclass(frozen=True)
class Member:
    """A consuming member of the operation.

    Parameters
    ----------
    prm : str
        Its metering point (PRM, 14 digits): its column in the tables.
    name : str
        How people call it ("École Jules Ferry", "Famille Martin").
    consumer : Consumer
        Its load: kind, annual energy, heating, own PV. Its ``name`` is the PRM.
    """

    prm: str
    name: str
    consumer: Consumer

    def __post_init__(self) -> None:
        if not (isinstance(self.prm, str) and len(self.prm) == 14 and self.prm.isdigit()):
            raise errors.ParameterError(f"A PRM id has 14 digits, not {self.prm!r}.")
        if self.consumer.name != self.prm:
            raise errors.ParameterError(
                f"Member {self.name!r}: its Consumer is named {self.consumer.name!r}, not its "
                f"PRM {self.prm!r}."
            )


@dataclass(frozen=True)
class Community:
    """An operation described by its members and plants; :meth:`tables` builds its
    consumption and production.

    Parameters
    ----------
    name : str
    location : Location
        Where it is: the plants' sun and weather, the homes' heating.
    members : sequence of Member
    plants : sequence of Plant
        Each plant's ``name`` is its production PRM (14 digits).
    plant_names : mapping, optional
        A display name per plant PRM ("Toit de l'école").
    zone : {"A", "B", "C"}
        Its school-holiday zone.
    """

    name: str
    location: Location
    members: tuple[Member, ...]
    plants: tuple[Plant, ...]
    plant_names: dict[str, str] = field(default_factory=dict)
    zone: Zone = "A"

    def __post_init__(self) -> None:
        object.__setattr__(self, "members", tuple(self.members))
        object.__setattr__(self, "plants", tuple(self.plants))
        if not self.members or not self.plants:
            raise errors.ParameterError("A community needs at least one member and one plant.")
        prms = [m.prm for m in self.members] + [p.name for p in self.plants]
        duplicates = sorted({p for p in prms if prms.count(p) > 1})
        if duplicates:
            raise errors.ParameterError(f"PRM ids must be distinct: {duplicates} appear twice.")
        for plant in self.plants:
            if not (len(plant.name) == 14 and plant.name.isdigit()):
                raise errors.ParameterError(
                    f"A plant's name is its production PRM (14 digits), not {plant.name!r}."
                )

    @property
    def directory(self) -> pd.DataFrame:
        """Who is who: one row per PRM, with ``name``, ``role`` (consumer or producer),
        ``kind``, ``annual_kwh`` and ``kwp`` (a plant's, or a prosumer's own roof)."""
        rows = [
            {
                "prm": m.prm,
                "name": m.name,
                "role": "consumer",
                "kind": m.consumer.kind,
                "annual_kwh": m.consumer.annual_kwh,
                "kwp": m.consumer.pv_kwp,
            }
            for m in self.members
        ] + [
            {
                "prm": p.name,
                "name": self.plant_names.get(p.name, p.name),
                "role": "producer",
                "kind": "pv",
                "annual_kwh": np.nan,
                "kwp": p.kwp,
            }
            for p in self.plants
        ]
        return pd.DataFrame(rows).set_index("prm")

    def tables(
        self,
        year: int = 2025,
        step: str | pd.Timedelta = "30min",
        *,
        seed: int = 0,
        weather: str | pd.DataFrame = "stochastic",
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The consumption and production of a calendar year, ready for ``allocate``.

        Parameters
        ----------
        year : int
        step : str or pandas.Timedelta
            15 min, 30 min (the DSO's step) or 1 h.
        seed : int
            The same seed gives the same bits on any machine: the members' variation and
            the weather (shared by the plants and the prosumers' roofs).
        weather : "stochastic", "clear_sky" or a weather table

        Returns
        -------
        consumption, production : pandas.DataFrame
            CONS (columns: the members' PRMs) and PROD (the plants' PRMs) on the year's
            index of step starts in the location's time zone. [kWh per step]
        """
        index = time_index(year, step, self.location.tz)
        consumed = consumption(
            [m.consumer for m in self.members],
            index,
            location=self.location,
            zone=self.zone,
            seed=seed,
            weather=weather,
        )
        produced = production(self.plants, index, weather=weather, seed=seed)  # type: ignore[arg-type]
        return consumed, produced


PUY_DE_DOME_VILLAGE = Location(45.75, 3.10, 420.0, "Europe/Paris", "Puy-de-Dôme village")
"""A village on the edge of Clermont-Ferrand (Puy-de-Dôme), school zone A."""

_FAMILIES = (
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau",
    "Laurent", "Simon", "Michel", "Lefebvre", "Leroy", "Roux", "David", "Bertrand", "Morel",
    "Fournier", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent",
    "Muller", "Lefevre", "Faure", "Andre", "Mercier", "Blanc", "Guerin", "Boyer", "Garnier",
    "Chevalier", "Francois", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clement",
    "Morin", "Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson",
)  # fmt: skip


def _prm(number: int) -> str:
    return f"{30_000_000_000_000 + number:014d}"


def generate(
    homes: int = 30,
    *,
    buildings: Sequence[tuple[Kind, str, float]] = (),
    kwp_per_home: float | None = 0.5,
    total_kwp: float | None = None,
    plants: int | None = None,
    location: Location = PUY_DE_DOME_VILLAGE,
    electric_heating: float = 0.35,
    prosumers: float = 0.1,
    seed: int = 0,
    name: str = "community",
) -> Community:
    """A community of ``homes`` households and ``buildings``, with PV sized to it.

    Parameters
    ----------
    homes : int
        Households, >= 0: annual energy log-normal around 4,500 kWh (6,500 with electric
        heating), seeded.
    buildings : sequence of (kind, name, annual_kwh)
        Public buildings, shops, offices.
    kwp_per_home, total_kwp : float
        The operation's PV: ``total_kwp`` if given, else ``kwp_per_home`` per household
        (at least 9 kWp).
    plants : int, optional
        How many plants share it (default: one per 50 kWp, at least one), sizes spread
        from 9 kWp up, south-facing roofs of 15 to 35°, seeded.
    electric_heating, prosumers : float
        The share of homes heated by electricity, and with a roof of their own (3 kWp).
    seed : int
        Draws the homes and the plants; the same seed gives the same community.
    """
    if isinstance(homes, bool) or not isinstance(homes, int) or homes < 0:
        raise errors.ParameterError(f"homes must be a whole number >= 0, not {homes!r}.")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 13]))
    members = []
    for k in range(homes):
        heated = bool(rng.random() < electric_heating)
        own_pv = 3.0 if rng.random() < prosumers else 0.0
        median = 6_500.0 if heated else 4_500.0
        annual = float(np.round(median * np.exp(0.35 * rng.standard_normal()), 0))
        family = _FAMILIES[k % len(_FAMILIES)]
        label = f"Famille {family}" if k < len(_FAMILIES) else f"Famille {family} ({k + 1})"
        prm = _prm(k + 1)
        members.append(
            Member(prm, label, Consumer(prm, "household", annual, heated, pv_kwp=own_pv))
        )
    for j, (kind, label, annual) in enumerate(buildings):
        prm = _prm(1_000 + j + 1)
        members.append(Member(prm, label, Consumer(prm, kind, float(annual))))
    if not members:
        raise errors.ParameterError("A community needs at least one home or building.")
    if total_kwp is None:
        if kwp_per_home is None:
            raise errors.ParameterError("Give kwp_per_home or total_kwp.")
        total_kwp = max(9.0, kwp_per_home * max(homes, 1))
    if not total_kwp > 0:
        raise errors.ParameterError(f"total_kwp must be > 0, not {total_kwp!r}.")
    count = plants if plants is not None else max(1, round(total_kwp / 50.0))
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise errors.ParameterError(f"plants must be a whole number >= 1, not {plants!r}.")
    weights = np.sort(rng.lognormal(0.0, 0.6, count))
    sizes = np.round(weights / weights.sum() * total_kwp, 1)
    sizes[-1] = round(total_kwp - float(sizes[:-1].sum()), 1)
    made = []
    names = {}
    for j, kwp in enumerate(sizes):
        prm = _prm(2_000 + j + 1)
        made.append(
            Plant(
                prm,
                location,
                kwp=float(max(kwp, 0.1)),
                tilt=float(rng.choice([15.0, 20.0, 30.0, 35.0])),
                azimuth=float(rng.choice([135.0, 160.0, 180.0, 200.0, 225.0])),
            )
        )
        names[prm] = f"Centrale {j + 1} ({kwp:g} kWp)"
    return Community(name, location, tuple(members), tuple(made), names)


def village(seed: int = 0) -> Community:
    """The demo's village in the Puy-de-Dôme: 40 homes (a third heated by electricity, a
    few with their own roof), a school, a gymnasium, a swimming pool, a town hall and a
    bakery; four public roofs from 9 to 100 kWp (the first steps of public-roof
    programmes are 9 kWp plants).

    Examples
    --------
    >>> community = village()
    >>> community.directory["role"].value_counts().to_dict()
    {'consumer': 45, 'producer': 4}
    >>> community.directory.query("role == 'producer'")["kwp"].tolist()
    [9.0, 9.0, 36.0, 100.0]
    """
    base = generate(
        40,
        buildings=(
            ("school", "École Jules Ferry", 32_000.0),
            ("gymnasium", "Gymnase municipal", 24_000.0),
            ("swimming_pool", "Piscine intercommunale", 260_000.0),
            ("town_hall", "Mairie", 18_000.0),
            ("shop", "Boulangerie du bourg", 28_000.0),
        ),
        total_kwp=154.0,
        plants=1,
        location=PUY_DE_DOME_VILLAGE,
        seed=seed,
        name="Village du Puy-de-Dôme",
    )
    roofs = (
        ("École Jules Ferry, toit", 9.0, 30.0, 180.0),
        ("Mairie, toit", 9.0, 35.0, 200.0),
        ("Gymnase municipal, toit", 36.0, 15.0, 170.0),
        ("Piscine, toit et ombrières", 100.0, 10.0, 180.0),
    )
    plants = []
    names = {}
    for j, (label, kwp, tilt, azimuth) in enumerate(roofs):
        prm = _prm(2_000 + j + 1)
        plants.append(Plant(prm, PUY_DE_DOME_VILLAGE, kwp, tilt=tilt, azimuth=azimuth))
        names[prm] = label
    return Community(base.name, base.location, base.members, tuple(plants), names)
