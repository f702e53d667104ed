"""Deprecated: this module moved to :mod:`repartition.keys.economic`
and :mod:`repartition.whole_wh`.

``repartition.economic`` stays for one release; import from :mod:`repartition.keys` instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import repartition.keys.economic
import repartition.whole_wh
from repartition.keys.economic import EconomicGreedy
from repartition.whole_wh import WholeWh, apportion, to_whole_wh, whole_wh

__all__ = ["EconomicGreedy", "WholeWh", "apportion", "to_whole_wh", "whole_wh"]

warnings.warn(
    "repartition.economic is deprecated and will be removed in the next release: import from "
    "repartition.keys (the module moved to repartition.keys.economic and repartition.whole_wh).",
    DeprecationWarning,
    stacklevel=2,
)

_MODULES = (repartition.keys.economic, repartition.whole_wh)


def __getattr__(name: str) -> Any:
    """The moved modules' other names (private helpers some callers used)."""
    for module in _MODULES:
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
