"""Every key's results are bit-identical to those of the code before the package was regrouped.

``tests/data/digests.json`` holds the SHA-256 of every key's results on a small benchmark
community, computed by ``benchmarks/digests.py`` on the earlier code. Numba compiles for the
host processor and re-associated sums depend on its vector width, so the bits can only be
compared on the processor the digests were recorded on; elsewhere the results are checked
against the NumPy references by the property tests.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import llvmlite.binding as llvm
import pytest
from benchmarks import data
from benchmarks.digests import digests

RECORDED = json.loads((Path(__file__).parent / "data" / "digests.json").read_text())
SAME_PROCESSOR = (
    RECORDED["cpu"] == llvm.get_host_cpu_name()
    and RECORDED["cpu_features"]
    == hashlib.sha256(llvm.get_host_cpu_features().flatten().encode()).hexdigest()[:16]
)


@pytest.mark.skipif(
    not SAME_PROCESSOR,
    reason=f"digests recorded on a {RECORDED['cpu']} processor: bits differ across processors",
)
def test_every_key_gives_the_same_bits_as_before() -> None:
    found = digests(data.Size(RECORDED["steps"], RECORDED["consumers"]))
    assert found.keys() == RECORDED["digests"].keys()
    differ = [name for name, digest in found.items() if RECORDED["digests"][name] != digest]
    assert not differ, f"results changed for {differ}"
