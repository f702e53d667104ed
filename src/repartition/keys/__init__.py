"""Sharing keys (*clés de répartition*): the DSO's and the strategies a PMO sends as dynamic keys.

A key is a small immutable value that knows its parameters, checks them against the members
and steps of the data it is applied to, and hands plain arrays to the kernel of its rule.
Pass one to :func:`repartition.allocate` (tables) or :func:`repartition.allocate_arrays`
(arrays).

Keys whose coefficients are labelled (a mapping, ``pd.Series`` or ``pd.DataFrame``) are
matched to the data by member id and timestamp; keys given plain NumPy arrays are taken in
the data's column (and row) order. Coefficient sums may exceed 1 by at most
:data:`SUM_TOLERANCE` (``1e-9``), to absorb the rounding of keys computed elsewhere; such
sums are scaled to exactly 1 before use. Beyond the tolerance they are rejected.

One module per family:

- :mod:`repartition.keys.dso`: what the DSO applies: :class:`Prorata` (the default
  dynamic key), :class:`Static`, :class:`Dynamic`, :class:`FullDynamic`;
- :mod:`repartition.keys.fair`: :class:`EqualShare`, :class:`WeightedShare`;
- :mod:`repartition.keys.national`: rules abroad, :class:`SpanishKey`, :class:`ItalianKey`;
- :mod:`repartition.keys.cascade`: :class:`PriorityCascade` of :class:`CascadeGroup`;
- :mod:`repartition.keys.economic`: :class:`EconomicGreedy`;
- :mod:`repartition.keys.prosumer`: :class:`ProsumerKey` (Flanders).

A new strategy subclasses :class:`SharingKey` (the public protocol, with the
:class:`Problem` it receives and the :class:`Shares` it returns); ``docs/adding-a-strategy.md``
walks through it. :data:`KEYS` lists every key class by its :attr:`~SharingKey.name`.

References
----------
Code de l'énergie, articles L315-2 and D315-1 to D315-11; Enedis, *Autoconsommation
collective: répartition de la production* (static, default dynamic and dynamic keys).
See ``docs/keys.md`` for each formula.
"""

from __future__ import annotations

from repartition.allocation import PairSplit, Shares
from repartition.keys._base import SharingKey
from repartition.keys.cascade import CascadeGroup, PriorityCascade
from repartition.keys.dso import SUM_TOLERANCE, Dynamic, FullDynamic, Prorata, Static
from repartition.keys.economic import EconomicGreedy
from repartition.keys.fair import EqualShare, WeightedShare
from repartition.keys.national import ItalianKey, SpanishKey
from repartition.keys.prosumer import ProsumerKey
from repartition.problem import Axis, Problem
from repartition.whole_wh import WholeWh, to_whole_wh

__all__ = [
    "KEYS",
    "SUM_TOLERANCE",
    "Axis",
    "CascadeGroup",
    "Dynamic",
    "EconomicGreedy",
    "EqualShare",
    "FullDynamic",
    "ItalianKey",
    "PairSplit",
    "PriorityCascade",
    "Problem",
    "Prorata",
    "ProsumerKey",
    "Shares",
    "SharingKey",
    "SpanishKey",
    "Static",
    "WeightedShare",
    "WholeWh",
    "to_whole_wh",
]

KEYS: dict[str, type[SharingKey]] = {
    key.name: key
    for key in (
        Prorata,
        Static,
        Dynamic,
        FullDynamic,
        EqualShare,
        WeightedShare,
        SpanishKey,
        ItalianKey,
        PriorityCascade,
        EconomicGreedy,
        ProsumerKey,
    )
}
"""Every key class by its :attr:`SharingKey.name` (``"prorata"``, ``"static"``, ...)."""
