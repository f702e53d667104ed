"""Every key's results are bit-identical to those of the code before the package was regrouped.

``tests/data/digests.json`` holds the SHA-256 of every key's results on a benchmark community
(a year x 200 consumers), computed by ``benchmarks/digests.py`` on the earlier code compiled
cold. The same is computed here in a fresh process with an empty Numba cache: code loaded
from the cache can differ in the last bits of a few sums (``about`` in the file), so cold is
compared with cold. A key whose bits changed on purpose is re-recorded, with the reason and
the size of the change under ``changed`` in the file. Numba compiles for the host processor
and re-associated sums depend on its vector width, so the bits are only comparable on a
processor the digests were recorded on (the file holds one set per processor); elsewhere the
results are checked against the NumPy references by the property tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import llvmlite.binding as llvm
import pytest

ROOT = Path(__file__).parent.parent
RECORDED = json.loads((Path(__file__).parent / "data" / "digests.json").read_text())
HOST = (
    llvm.get_host_cpu_name(),
    hashlib.sha256(llvm.get_host_cpu_features().flatten().encode()).hexdigest()[:16],
)
PROCESSOR = next(
    (each for each in RECORDED["processors"] if (each["cpu"], each["cpu_features"]) == HOST),
    None,
)


@pytest.mark.slow
@pytest.mark.skipif(
    PROCESSOR is None,
    reason=f"no digests recorded for this processor ({HOST[0]}): bits differ across processors",
)
def test_every_key_gives_the_same_bits_as_before(tmp_path: Path) -> None:
    found = tmp_path / "digests.json"
    environment = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "digests.py"),
            *("--steps", str(RECORDED["steps"]), "--consumers", str(RECORDED["consumers"])),
            *("--output", str(found)),
        ],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    digests = json.loads(found.read_text())
    assert PROCESSOR is not None
    expected = PROCESSOR["digests"]
    assert digests.keys() == expected.keys()
    differ = [name for name, digest in digests.items() if expected[name] != digest]
    assert not differ, f"results changed for {differ}"
