"""Sweeps beyond one process: every operation of a dataset, every strategy, on Dask
(extra ``distributed``; docs/distributed.md).

>>> from repartition.distributed import SweepResult
>>> SweepResult.__name__
'SweepResult'
"""

from repartition.distributed.sweep import SweepResult, local_client, sweep

__all__ = ["SweepResult", "local_client", "sweep"]
