"""Deprecated: this module moved to :mod:`repartition.keys.fair`
and :mod:`repartition.keys.national`.

``repartition.strategies`` stays for one release; import from :mod:`repartition.keys` instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import repartition.keys.fair
import repartition.keys.national
from repartition.keys.fair import EqualShare, WeightedShare
from repartition.keys.national import ItalianKey, SpanishKey

__all__ = ["EqualShare", "ItalianKey", "SpanishKey", "WeightedShare"]

warnings.warn(
    "repartition.strategies is deprecated and will be removed in the next release: import from "
    "repartition.keys (the module moved to repartition.keys.fair and repartition.keys.national).",
    DeprecationWarning,
    stacklevel=2,
)

_MODULES = (repartition.keys.fair, repartition.keys.national)


def __getattr__(name: str) -> Any:
    """The moved modules' other names (private helpers some callers used)."""
    for module in _MODULES:
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
