"""The one place that imports optional dependencies.

repartition's core needs NumPy, Numba, pandas and pyarrow. Everything else (matplotlib for
plots, and the packages of the other extras) is imported here, when a function that needs
it is called, so that ``import repartition`` stays fast and light and a missing package is
named together with the command that installs it.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from repartition import errors

__all__ = ["import_extra"]


def import_extra(module: str, extra: str, *, feature: str | None = None) -> ModuleType:
    """Import ``module``, or say which extra of repartition installs it.

    Parameters
    ----------
    module : str
        The module to import, e.g. ``"matplotlib.pyplot"``.
    extra : str
        The extra of repartition that installs it, e.g. ``"plot"``.
    feature : str, optional
        What needs it, for the message (e.g. ``"plot_comparison"``).

    Returns
    -------
    types.ModuleType
        The imported module.

    Raises
    ------
    repartition.errors.MissingExtraError
        When the module cannot be imported (also an ``ImportError``); the message says
        ``pip install "repartition[<extra>]"``.

    Examples
    --------
    >>> import_extra("json", "plot").__name__
    'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as error:
        who = feature or f"This part of repartition ({module})"
        raise errors.MissingExtraError(
            f"{who} needs {module.split('.')[0]}, which is not installed. Install it with "
            f'pip install "repartition[{extra}]" (or pip install "repartition[dev]" for '
            f"everything). The import failed with: {error}"
        ) from error
