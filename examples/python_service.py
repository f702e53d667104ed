"""repartition inside a Python service: many small requests in threads, JSON records out.

Run with ``python examples/python_service.py``. A service (a web handler, a queue worker)
receives an operation's curves for a period and returns each member's shares as JSON. The
kernels are compiled once at start-up (``repartition.warm_up``), so no request pays for it;
requests run in a thread pool: the kernels release the GIL, and one thread per request
(``repartition.threads(1)``) keeps them from competing for the cores.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

import repartition
from repartition import allocate, keys


def handle(request: dict) -> str:
    """One request: curves in, the allocation's records out (JSON)."""
    index = pd.DatetimeIndex(request["index"], tz="UTC").tz_convert("Europe/Paris")
    consumption = pd.DataFrame(request["consumption"], index=index)
    production = pd.DataFrame(request["production"], index=index)
    key = keys.KEYS[request.get("key", "prorata")]()
    with repartition.threads(1):
        result = allocate(consumption, production, key)
    return json.dumps(
        {
            "summary": result.summary().to_dict(),
            "members": result.to_records(),
        }
    )


def request_for(seed: int) -> dict:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2025-06-02", periods=48, freq="30min", tz="UTC")
    sun = np.clip(np.sin((index.hour - 5) / 14 * np.pi), 0, None)
    return {
        "index": [stamp.isoformat() for stamp in index],
        "consumption": {f"3000000000000{i}": rng.uniform(0.1, 1.0, 48).tolist() for i in range(5)},
        "production": {"30000000002001": (3.0 * sun).tolist()},
        "key": "prorata" if seed % 2 else "equal share",
    }


repartition.warm_up(["prorata", "equal_share"])  # at start-up, not in a request
requests = [request_for(seed) for seed in range(200)]
start = time.perf_counter()
with ThreadPoolExecutor(max_workers=4) as pool:
    answers = list(pool.map(handle, requests))
seconds = time.perf_counter() - start
first = json.loads(answers[0])
print(f"{len(answers)} requests in {seconds:.2f} s ({1000 * seconds / len(answers):.1f} ms each)")
print(json.dumps(first["summary"], indent=1))
print(json.dumps(first["members"][0]))
