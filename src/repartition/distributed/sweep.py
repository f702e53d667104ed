"""``sweep``: every operation of a dataset with every strategy, in one process or on Dask."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from repartition import _optional, errors
from repartition.distributed._task import Strategy, run_operation
from repartition.io.operations import list_operations
from repartition.keys import SharingKey
from repartition.metrics import Tariffs
from repartition.time import PARIS

__all__ = ["SweepResult", "local_client", "sweep"]


@dataclass(frozen=True)
class SweepResult:
    """What a sweep did.

    Attributes
    ----------
    status : pandas.DataFrame
        One row per operation: ``status`` (``"done"``, ``"skipped"``: already written with
        the same inputs, or ``"failed"``) and, for failures, ``error`` (its type and
        message).
    metrics : pandas.DataFrame
        One row per operation and strategy: the columns of :func:`repartition.compare`,
        read back from the parts the tasks wrote (failed operations have none).
    out : pathlib.Path
        ``results/operation=<id>.parquet`` (per member and local month, per strategy),
        ``metrics/operation=<id>.parquet`` and ``done/operation=<id>.json`` (the inputs'
        fingerprint).
    """

    status: pd.DataFrame
    metrics: pd.DataFrame
    out: Path

    @property
    def failed(self) -> pd.DataFrame:
        return self.status[self.status["status"] == "failed"]


def sweep(
    dataset: str | os.PathLike[str],
    strategies: Mapping[str, Strategy],
    *,
    out: str | os.PathLike[str],
    tariffs: Tariffs | Mapping[str, Tariffs] | None = None,
    client: Any = None,
    retries: int = 2,
    tz: str = PARIS,
    progress: bool = True,
) -> SweepResult:
    """Every operation of an operations dataset with every strategy.

    Parameters
    ----------
    dataset : path
        An operations dataset (:func:`repartition.io.write_operations`).
    strategies : mapping
        Names to keys (any :class:`~repartition.keys.SharingKey`, optimal keys included), or
        to functions ``(consumption, production) -> key`` called for each operation in its
        worker (a static key on the operation's annual consumption, say).
    out : path
        The output folder; a rerun skips the operations already written with the same
        inputs (their files, the strategies' parameters, the tariffs), and redoes the others.
    tariffs : Tariffs or mapping, optional
        One for every operation, or one per operation id (for the money columns).
    client : dask.distributed.Client, "serial" or None
        A client of any cluster; ``"serial"``: this process, one operation after the other
        (the same bytes); ``None``: a local cluster of one worker process per core, one
        thread each (docs/distributed.md says why).
    retries : int
        How many times Dask runs a failed task again before reporting it.
    tz : str
        The local time of the months.
    progress : bool
        A progress bar over the operations.

    Returns
    -------
    SweepResult
    """
    if not isinstance(strategies, Mapping) or not strategies:
        raise errors.ParameterError("sweep needs a mapping of strategy names to keys.")
    for name, key in strategies.items():
        if not isinstance(key, SharingKey) and not callable(key):
            raise errors.ParameterTypeError(
                f"strategy {name!r} is neither a sharing key of repartition.keys nor a "
                f"function (consumption, production) -> key: {key!r}."
            )
    dataset, out = Path(dataset), Path(out)
    operations = list_operations(dataset)
    out.mkdir(parents=True, exist_ok=True)

    def tariffs_of(operation: str) -> Tariffs | None:
        if isinstance(tariffs, Mapping):
            if operation not in tariffs:
                raise errors.ParameterError(f"No tariffs for operation {operation!r}.")
            return tariffs[operation]
        return tariffs

    arguments = {
        operation: (dataset, operation, dict(strategies), tariffs_of(operation), out, tz)
        for operation in operations
    }
    bar = tqdm(total=len(operations), desc="sweep", unit="operation", disable=not progress)
    records: list[dict[str, Any]] = []
    if isinstance(client, str):
        if client != "serial":
            raise errors.ParameterError(
                f"client must be a Dask Client, 'serial' or None, not {client!r}."
            )
        for args in arguments.values():
            records.append(_guarded(args))
            bar.update()
    else:
        owned = None
        if client is None:
            owned = local_client()
            client = owned
        try:
            distributed = _optional.import_extra(
                "dask.distributed", "distributed", feature="repartition.distributed.sweep"
            )
            futures = {
                client.submit(
                    run_operation, *args, 1, key=f"sweep-{operation}-{id(arguments)}",
                    retries=retries, pure=False,
                ): operation
                for operation, args in arguments.items()
            }  # fmt: skip
            for future in distributed.as_completed(futures):
                operation = futures[future]
                if future.status == "error":
                    error = future.exception()
                    records.append(_failure(operation, error))
                else:
                    records.append(future.result())
                bar.update()
        finally:
            if owned is not None:
                cluster = owned.cluster
                owned.close()
                if cluster is not None:
                    cluster.close()
    bar.close()
    status = pd.DataFrame(records).set_index("operation").loc[operations]
    if "error" not in status:
        status["error"] = ""
    status["error"] = status["error"].fillna("")
    parts = [out / "metrics" / f"operation={o}.parquet" for o in operations]
    present = [
        pd.read_parquet(p)
        for p in parts
        if p.exists() and status.loc[p.stem.split("=", 1)[1], "status"] != "failed"
    ]
    metrics = pd.concat(present, ignore_index=True) if present else pd.DataFrame()
    return SweepResult(status[["status", "error"]], metrics, out)


def _guarded(args: tuple[Any, ...]) -> dict[str, Any]:
    try:
        return run_operation(*args)
    except Exception as error:  # reported with its operation, the others go on
        return _failure(args[1], error)


def _failure(operation: str, error: BaseException | None) -> dict[str, Any]:
    text = f"{type(error).__name__}: {error}" if error is not None else "unknown error"
    return {"operation": operation, "status": "failed", "error": text}


def local_client(workers: int | None = None) -> Any:
    """A ``dask.distributed.Client`` of a local cluster sized to the machine: one worker
    process per core (or ``workers``), one thread each, on loopback.

    Dask's nanny gives its workers ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc hand
    every large freed array back to the system, so the next one is mapped and faulted in
    afresh: a sweep's task took 2 to 3 times longer in such a worker than in the main
    process (docs/distributed.md). This cluster's workers keep the nanny's other settings
    (one OpenMP/BLAS thread each) without that one.
    """
    dask = _optional.import_extra("dask", "distributed", feature="repartition.distributed")
    distributed = _optional.import_extra(
        "dask.distributed", "distributed", feature="repartition.distributed.sweep"
    )
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}) or {})
    environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        cluster = distributed.LocalCluster(
            n_workers=workers or os.cpu_count() or 1,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=40,
        )
    return distributed.Client(cluster)
