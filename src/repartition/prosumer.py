"""Deprecated: the contents of this module moved to :mod:`repartition.keys.prosumer`.

``repartition.prosumer`` stays for one release; import from :mod:`repartition.keys` instead.
"""

from __future__ import annotations

import warnings
from typing import Any

import repartition.keys.prosumer
from repartition.keys.prosumer import (
    UNUSED,
    VARIANTS,
    ProsumerKey,
    owner_columns,
    pair_coefficients,
)

__all__ = ["UNUSED", "VARIANTS", "ProsumerKey", "owner_columns", "pair_coefficients"]

warnings.warn(
    "repartition.prosumer is deprecated and will be removed in the next release: import from "
    "repartition.keys (the module moved to repartition.keys.prosumer).",
    DeprecationWarning,
    stacklevel=2,
)

_MODULES = (repartition.keys.prosumer,)


def __getattr__(name: str) -> Any:
    """The moved modules' other names (private helpers some callers used)."""
    for module in _MODULES:
        if hasattr(module, name):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
