"""Energy rates of an allocation, overall and per member, and the members served per step.

The rates themselves are computed by :meth:`repartition.Allocation.summary` (overall),
:meth:`~repartition.Allocation.by_consumer` and :meth:`~repartition.Allocation.by_producer`
(per member); :func:`rates` gathers them into one tidy table.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from repartition import errors
from repartition.allocation import Allocation

__all__ = ["members_served", "rates"]


def _check_allocation(allocation: object, function: str) -> None:
    if not isinstance(allocation, Allocation):
        raise errors.ParameterTypeError(
            f"{function} takes the Allocation returned by repartition.allocate, not "
            f"{type(allocation).__name__}."
        )


def rates(allocation: Allocation) -> pd.DataFrame:
    """Self-consumption and self-sufficiency rates, for the community and each member.

    Summed over every step of the allocation (``A`` allocated to consumers, AUTOCONS;
    ``C`` consumption, CONS; ``P`` production, PROD; AUTOPROD the part of a producer's
    production received by consumers):

    - collective **self-consumption rate** (*taux d'autoconsommation*)
      ``= sum_t sum_i A[t, i] / sum_t P_tot[t]``: the share of the production consumed in
      the community; per producer ``AUTOPROD_p / PROD_p``;
    - **self-sufficiency rate** (*taux d'autoproduction*, also *taux de couverture*)
      ``= sum_t sum_i A[t, i] / sum_t sum_i C[t, i]``: the share of the consumption
      covered by the community; per consumer ``AUTOCONS_i / CONS_i``.

    A rate is NaN when its denominator is 0 (nothing produced, or nothing consumed). Names
    of these rates differ between sources: read the formula.

    Parameters
    ----------
    allocation : Allocation
        Any result of :func:`repartition.allocate`.

    Returns
    -------
    pandas.DataFrame
        One row per rate, in this order: the community's self-consumption and
        self-sufficiency rates, then one self-consumption rate per producer and one
        self-sufficiency rate per consumer. Columns:

        - ``scope``: ``"community"``, ``"producer"`` or ``"consumer"``;
        - ``member``: the member id (``None`` for the community);
        - ``rate``: ``"self_consumption"`` or ``"self_sufficiency"``;
        - ``shared_kwh``: the numerator, ``sum A`` (AUTOCONS or AUTOPROD). [kWh]
        - ``total_kwh``: the denominator, ``sum P`` (PROD) or ``sum C`` (CONS). [kWh]
        - ``value``: ``shared_kwh / total_kwh``, a fraction (0.25 means 25 %).

    See Also
    --------
    repartition.Allocation.summary : the community's totals and rates.
    repartition.Allocation.by_consumer : per consumer totals and self-sufficiency rate.
    repartition.Allocation.by_producer : per producer totals and self-consumption rate.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> from repartition.metrics import rates
    >>> index = pd.date_range("2025-06-01 12:00", periods=2, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 2.0], "B": [3.0, 2.0]}, index=index)
    >>> production = pd.Series([2.0, 5.0], index=index, name="PV")
    >>> rates(allocate(consumption, production, keys.Prorata()))
           scope member              rate  shared_kwh  total_kwh     value
    0  community   None  self_consumption         6.0        7.0  0.857143
    1  community   None  self_sufficiency         6.0        8.0  0.750000
    2   producer     PV  self_consumption         6.0        7.0  0.857143
    3   consumer      A  self_sufficiency         2.5        3.0  0.833333
    4   consumer      B  self_sufficiency         3.5        5.0  0.700000
    """
    _check_allocation(allocation, "rates")
    summary = allocation.summary()
    producers = allocation.by_producer()
    consumers = allocation.by_consumer()
    scopes = ["community", "community"]
    scopes += ["producer"] * len(producers) + ["consumer"] * len(consumers)
    members = [None, None, *producers.index, *consumers.index]
    kinds = ["self_consumption", "self_sufficiency"]
    kinds += ["self_consumption"] * len(producers) + ["self_sufficiency"] * len(consumers)
    shared = [summary.allocated_kwh, summary.allocated_kwh]
    total = [summary.production_kwh, summary.consumption_kwh]
    value = [summary.self_consumption_rate, summary.self_sufficiency_rate]
    return pd.DataFrame(
        {
            "scope": scopes,
            "member": pd.Series(members, dtype=object),
            "rate": kinds,
            "shared_kwh": np.concatenate(
                [shared, producers["self_consumed"], consumers["allocated"]]
            ),
            "total_kwh": np.concatenate([total, producers["production"], consumers["consumption"]]),
            "value": np.concatenate(
                [
                    value,
                    producers["self_consumption_rate"],
                    consumers["self_sufficiency_rate"],
                ]
            ),
        }
    )


def members_served(
    allocation: Allocation, *, normalize: bool = False, threshold_kwh: float = 0.0
) -> pd.Series:
    """Number of consumers that receive local energy at each step.

    ``served[t] = #{i : A[t, i] > threshold_kwh}``, with ``A`` the energy allocated
    (AUTOCONS); with ``normalize``, ``served[t] / N``, the share of the N consumers of
    the allocation (whether or not they consume at that step).

    Parameters
    ----------
    allocation : Allocation
        Any result of :func:`repartition.allocate`.
    normalize : bool, default False
        Return the share of consumers served (a fraction in [0, 1]) instead of a count.
    threshold_kwh : float, default 0.0
        A consumer counts as served when it receives strictly more than this. [kWh per step]

    Returns
    -------
    pandas.Series
        On the allocation's index: int64 counts named ``"members_served"``, or float64
        fractions named ``"share_served"``.

    Examples
    --------
    >>> import pandas as pd
    >>> from repartition import allocate, keys
    >>> from repartition.metrics import members_served
    >>> index = pd.date_range("2025-06-01 12:00", periods=3, freq="30min", tz="Europe/Paris")
    >>> consumption = pd.DataFrame({"A": [1.0, 0.0, 1.0], "B": [3.0, 2.0, 1.0]}, index=index)
    >>> production = pd.Series([2.0, 5.0, 0.0], index=index, name="PV")
    >>> members_served(allocate(consumption, production, keys.Prorata())).to_list()
    [2, 1, 0]
    """
    _check_allocation(allocation, "members_served")
    threshold = float(threshold_kwh)
    if not (math.isfinite(threshold) and threshold >= 0.0):
        raise errors.ParameterError(
            f"threshold_kwh must be a finite energy >= 0 kWh, not {threshold_kwh!r}."
        )
    served = np.count_nonzero(allocation.arrays.allocated > threshold, axis=1).astype(np.int64)
    if normalize:
        share = served / len(allocation.consumers)
        return pd.Series(share, index=allocation.index, name="share_served")
    return pd.Series(served, index=allocation.index, name="members_served")
