"""Deprecated: the contents of this module moved to :mod:`repartition.keys.cascade`.

``repartition.cascade`` stays for one release; import from :mod:`repartition.keys` instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import repartition.keys.cascade
from repartition.keys.cascade import CascadeGroup, PriorityCascade

__all__ = ["CascadeGroup", "PriorityCascade"]

warnings.warn(
    "repartition.cascade is deprecated and will be removed in the next release: import from "
    "repartition.keys (the module moved to repartition.keys.cascade).",
    DeprecationWarning,
    stacklevel=2,
)

_MODULES = (repartition.keys.cascade,)


def __getattr__(name: str) -> Any:
    """The moved modules' other names (private helpers some callers used)."""
    for module in _MODULES:
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
