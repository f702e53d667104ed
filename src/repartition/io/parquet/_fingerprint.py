"""Fingerprints recorded in a results dataset, so that a resumed run can tell it continues
the same computation: one of each source month's files (and the key's, from
:mod:`repartition.keys._fingerprint`).

A source month's fingerprint digests the names (relative to the dataset), sizes and bytes
of its files: any change of a value changes it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

from repartition.keys._fingerprint import key_fingerprint

__all__ = ["files_fingerprint", "key_fingerprint"]

_CHUNK = 1 << 20
"""Bytes hashed at a time (a file is never held whole in memory)."""


def files_fingerprint(
    paths: Iterable[str | os.PathLike[str]], root: Path, context: str = ""
) -> str:
    """A digest of ``context``, and of the names (relative to ``root``), sizes and bytes
    of ``paths``."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(f"{context}\0".encode())
    for path in sorted(Path(p) for p in paths):
        name = path.relative_to(root).as_posix()
        digest.update(f"{name}\0{path.stat().st_size}\0".encode())
        with path.open("rb") as handle:
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    return digest.hexdigest()
