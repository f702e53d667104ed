"""repartition.distributed.sweep: every operation with every strategy, in one process and on
a real local Dask cluster (2 worker processes, loopback), with the same bytes; failures
reported with their operation; reruns skip what is already written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from repartition import compare, keys
from repartition.distributed import sweep
from repartition.io import list_operations, write_operations
from repartition.metrics import Tariffs
from repartition.synthetic import synthetic_community

STRATEGIES = {
    "Prorata": keys.Prorata(),
    "Equal share": keys.EqualShare(),
    "Static": keys.Static({**{f"home_{i}": 0.15 for i in range(1, 5)}, "office_1": 0.4}),
}
TARIFFS = Tariffs(retail=0.25, local=0.12, surplus=0.04)


def operations(count: int) -> dict[str, tuple[pd.DataFrame, pd.DataFrame]]:
    made = {}
    for number in range(count):
        consumption, production = synthetic_community(consumers=5, producers=1, seed=number)
        made[f"OPE{number:03d}"] = (
            consumption.loc["2025-05":"2025-06"],
            production.loc["2025-05":"2025-06"],
        )
    return made


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_operations(tmp_path_factory.mktemp("ops") / "operations", operations(4))


def test_a_serial_sweep_equals_compare_on_each_operation(dataset: Path, tmp_path: Path) -> None:
    assert list_operations(dataset) == ["OPE000", "OPE001", "OPE002", "OPE003"]
    result = sweep(dataset, STRATEGIES, out=tmp_path / "out", tariffs=TARIFFS, client="serial")
    assert (result.status["status"] == "done").all()
    assert len(result.metrics) == 4 * 3
    consumption, production = operations(4)["OPE002"]
    expected = compare(consumption, production, STRATEGIES, tariffs=TARIFFS)
    mine = result.metrics[result.metrics["operation"] == "OPE002"].set_index("strategy")
    np.testing.assert_allclose(
        mine.loc[list(expected.index), "savings_total"], expected["savings_total"], rtol=1e-12
    )
    monthly = pd.read_parquet(tmp_path / "out" / "results" / "operation=OPE002.parquet")
    assert set(monthly["month"]) == {"2025-05", "2025-06"}
    prorata = monthly[(monthly["strategy"] == "Prorata") & (monthly["role"] == "consumer")]
    assert prorata["shared_kwh"].sum() == pytest.approx(expected.loc["Prorata", "allocated_kwh"])
    # A rerun skips everything; a changed operation is done again.
    again = sweep(dataset, STRATEGIES, out=tmp_path / "out", tariffs=TARIFFS, client="serial")
    assert (again.status["status"] == "skipped").all()
    changed = operations(4)["OPE001"]
    write_operations(dataset, {"OPE001": (changed[0] * 1.1, changed[1])}, overwrite=True)
    third = sweep(dataset, STRATEGIES, out=tmp_path / "out", tariffs=TARIFFS, client="serial")
    assert third.status.loc["OPE001", "status"] == "done"
    assert (third.status.drop(index="OPE001")["status"] == "skipped").all()
    write_operations(dataset, {"OPE001": changed}, overwrite=True)  # as it was


def test_a_failing_operation_is_reported_and_the_others_kept(tmp_path: Path) -> None:
    made = operations(3)
    broken = made["OPE001"][0].copy()
    broken.iloc[5, 2] = np.nan
    made["OPE001"] = (broken, made["OPE001"][1])
    root = write_operations(tmp_path / "operations", made)
    result = sweep(root, STRATEGIES, out=tmp_path / "out", client="serial", progress=False)
    assert result.status.loc["OPE001", "status"] == "failed"
    assert "OPE001" in result.status.loc["OPE001", "error"]
    assert "home_3" in result.status.loc["OPE001", "error"]  # the member at fault
    assert (result.status.drop(index="OPE001")["status"] == "done").all()
    assert set(result.metrics["operation"]) == {"OPE000", "OPE002"}


@pytest.mark.slow
def test_a_dask_cluster_writes_the_same_bytes_as_one_process(dataset: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("dask.distributed")
    serial = sweep(dataset, STRATEGIES, out=tmp_path / "serial", tariffs=TARIFFS, client="serial")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        on_dask = sweep(
            dataset,
            STRATEGIES,
            out=tmp_path / "dask",
            tariffs=TARIFFS,
            client=client,
            progress=False,
        )
    assert (on_dask.status["status"] == "done").all()
    for folder in ("results", "metrics"):
        for path in sorted((tmp_path / "serial" / folder).iterdir()):
            assert path.read_bytes() == (tmp_path / "dask" / folder / path.name).read_bytes()
    pd.testing.assert_frame_equal(serial.metrics, on_dask.metrics)


STOP = {"at": 0, "calls": 0}
"""When stop_at interrupts the sweep: at its ``at``-th call (0: never)."""


def stop_at(consumption: pd.DataFrame, production: pd.DataFrame) -> keys.SharingKey:
    """Prorata, except that it interrupts the sweep (Ctrl-C) at the call STOP says."""
    STOP["calls"] += 1
    if STOP["calls"] == STOP["at"]:
        raise KeyboardInterrupt
    return keys.Prorata()


def test_an_interrupted_sweep_resumes_where_it_stopped(dataset: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    STOP.update(at=3, calls=0)  # Ctrl-C during the third operation
    with pytest.raises(KeyboardInterrupt):
        sweep(dataset, {"Prorata": stop_at}, out=out, client="serial", progress=False)
    written = sorted(p.name for p in (out / "done").iterdir())
    assert written == ["operation=OPE000.json", "operation=OPE001.json"]
    assert not list((out / "results").glob("operation=OPE002*"))  # nothing half written
    STOP.update(at=0, calls=0)
    resumed = sweep(dataset, {"Prorata": stop_at}, out=out, client="serial", progress=False)
    assert resumed.status["status"].tolist() == ["skipped", "skipped", "done", "done"]
    assert STOP["calls"] == 2  # the two operations left, nothing else


def kill_once(consumption: pd.DataFrame, production: pd.DataFrame) -> keys.SharingKey:
    """Kills the worker process running it the first time it runs (a marker file remembers)."""
    import os
    import signal

    marker = Path(os.environ["REPARTITION_TEST_KILL_MARKER"])
    if not marker.exists():
        marker.write_text("killed")
        os.kill(os.getpid(), signal.SIGKILL)
    return keys.Prorata()


@pytest.mark.slow
def test_a_worker_killed_mid_task_is_survived(
    dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    distributed = pytest.importorskip("dask.distributed")
    marker = tmp_path / "killed"
    monkeypatch.setenv("REPARTITION_TEST_KILL_MARKER", str(marker))
    strategies = {"Prorata": kill_once}
    sweep(dataset, {"Prorata": keys.Prorata()}, out=tmp_path / "serial", client="serial")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            silence_logs=50,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        result = sweep(dataset, strategies, out=tmp_path / "dask", client=client, retries=3)
    assert marker.exists()  # a worker was killed
    assert (result.status["status"] == "done").all()
    for path in sorted((tmp_path / "serial" / "metrics").iterdir()):
        mine = pd.read_parquet(tmp_path / "dask" / "metrics" / path.name)
        pd.testing.assert_frame_equal(mine, pd.read_parquet(path))
