"""One task of a sweep: one operation, every strategy, read and written by the worker itself."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

import repartition
from repartition import errors
from repartition._atomic import atomic_file
from repartition.compare import metrics_of
from repartition.engine import allocate
from repartition.io.operations import operation_path
from repartition.io.parquet import read_energy
from repartition.io.parquet._fingerprint import files_fingerprint, key_fingerprint
from repartition.keys import SharingKey
from repartition.metrics import Tariffs

__all__ = ["FORMAT", "fingerprint", "run_operation"]

FORMAT = 1
"""The version of a sweep's output; a change invalidates what earlier versions wrote."""


Strategy = SharingKey | Callable[[pd.DataFrame, pd.DataFrame], SharingKey]
"""A key, or a function of an operation's consumption and production that returns its key
(a static key on its annual consumption, an economic key on its own prices...)."""


def strategy_fingerprint(strategy: Strategy) -> str:
    """A key by its parameters; a key factory by its module, name and code."""
    if isinstance(strategy, SharingKey):
        return key_fingerprint(strategy)
    code = getattr(strategy, "__code__", None)
    digest = hashlib.blake2b(digest_size=16)
    digest.update(
        f"{getattr(strategy, '__module__', '')}.{getattr(strategy, '__qualname__', '')}".encode()
    )
    if code is not None:
        digest.update(code.co_code)
        digest.update(repr(code.co_consts).encode())
    return digest.hexdigest()


def key_for(strategy: Strategy, consumption: pd.DataFrame, production: pd.DataFrame) -> SharingKey:
    """The key of ``strategy`` for this operation."""
    if isinstance(strategy, SharingKey):
        return strategy
    key = strategy(consumption, production)
    if not isinstance(key, SharingKey):
        raise errors.ParameterTypeError(
            f"A strategy function must return a sharing key, not {type(key).__name__}."
        )
    return key


def fingerprint(
    dataset: Path, operation: str, strategies: Mapping[str, Strategy], tariffs: Tariffs | None
) -> str:
    """A digest of the operation's files, the strategies (by their parameters) and the
    tariffs: what a result depends on."""
    folder = operation_path(dataset, operation)
    files = [p for p in folder.rglob("*") if p.is_file()]
    context = json.dumps(
        {
            "format": FORMAT,
            "strategies": {name: strategy_fingerprint(s) for name, s in strategies.items()},
            "tariffs": repr(tariffs),
        },
        sort_keys=True,
    )
    return files_fingerprint(files, folder, context)


def _monthly(allocation: Any, strategy: str, months: NDArray[np.str_]) -> pd.DataFrame:
    """Per member and local month: CONS, AUTOCONS, COMPLEMENT (consumers) or PROD, AUTOPROD,
    SURPLUS (producers) as ``energy_kwh``, ``shared_kwh``, ``rest_kwh``. [kWh]"""
    starts = np.flatnonzero(np.r_[True, months[1:] != months[:-1]])
    labels = months[starts]
    arrays = allocation.arrays
    blocks = []
    consumers = (arrays.consumption, arrays.allocated, arrays.grid_supply)
    producers = (arrays.production, arrays.self_consumed, arrays.surplus)
    for role, members, tables in (
        ("consumer", allocation.consumers, consumers),
        ("producer", allocation.producers, producers),
    ):
        sums = [np.add.reduceat(np.asarray(table), starts, axis=0) for table in tables]
        count = len(members)
        blocks.append(
            pd.DataFrame(
                {
                    "strategy": strategy,
                    "month": np.repeat(labels, count),
                    "member": np.tile(np.asarray(members, dtype=object), len(labels)),
                    "role": role,
                    "energy_kwh": sums[0].ravel(),
                    "shared_kwh": sums[1].ravel(),
                    "rest_kwh": sums[2].ravel(),
                }
            )
        )
    result: pd.DataFrame = pd.concat(blocks, ignore_index=True)
    return result


def run_operation(
    dataset: str | os.PathLike[str],
    operation: str,
    strategies: Mapping[str, Strategy],
    tariffs: Tariffs | None,
    out: str | os.PathLike[str],
    tz: str,
    threads: int | None = None,
) -> dict[str, Any]:
    """Run every strategy on ``operation`` and write its results and metrics; skip it when
    what is already written has the same fingerprint. Returns a status record. ``threads``:
    the kernels' threads (1 in a Dask worker: the workers are the parallelism)."""
    if threads is not None:
        with repartition.threads(threads):
            return run_operation(dataset, operation, strategies, tariffs, out, tz)
    dataset, out = Path(dataset), Path(out)
    stamp = fingerprint(dataset, operation, strategies, tariffs)
    marker = out / "done" / f"operation={operation}.json"
    if marker.exists():
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        if recorded.get("fingerprint") == stamp:
            return {"operation": operation, "status": "skipped", "fingerprint": stamp}
    consumption, production = read_energy(operation_path(dataset, operation))
    consumption = consumption.tz_convert(tz)
    production = production.tz_convert(tz)
    months = np.asarray(pd.DatetimeIndex(consumption.index).tz_convert(tz).strftime("%Y-%m"))
    rows, monthly = {}, []
    for name, strategy in strategies.items():
        try:
            key = key_for(strategy, consumption, production)
            allocation = allocate(consumption, production, key)
        except errors.RepartitionError as error:
            raise errors.in_context(
                error, f"operation {operation!r}, strategy {name!r}: "
            ) from error
        rows[name] = metrics_of(allocation, tariffs)
        monthly.append(_monthly(allocation, name, months))
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    metrics.insert(0, "strategy", metrics.index.astype(str))
    metrics.insert(0, "operation", operation)
    metrics = metrics.reset_index(drop=True)
    results = pd.concat(monthly, ignore_index=True)
    results.insert(0, "operation", operation)
    for folder in ("results", "metrics", "done"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    with atomic_file(out / "results" / f"operation={operation}.parquet") as temporary:
        results.to_parquet(temporary, index=False)
    with atomic_file(out / "metrics" / f"operation={operation}.parquet") as temporary:
        metrics.to_parquet(temporary, index=False)
    digest = hashlib.blake2b(results.to_numpy(dtype=str).tobytes(), digest_size=8).hexdigest()
    with atomic_file(marker) as temporary:  # last: a marker means both parts are complete
        temporary.write_text(
            json.dumps({"fingerprint": stamp, "results": digest, "rows": len(results)}),
            encoding="utf-8",
        )
    return {
        "operation": operation,
        "status": "done",
        "fingerprint": stamp,
        "members": int(consumption.shape[1] + production.shape[1]),
        "steps": len(consumption),
        "check": float(np.asarray(metrics["allocated_kwh"]).sum()),
    }
