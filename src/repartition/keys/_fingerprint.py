"""A sharing key's fingerprint: what it computes, digested, whatever Python types hold it.

Keys compare and hash by it (:meth:`repartition.keys.SharingKey.__eq__`), so that they can
be cache keys, and a results dataset records it, so that a resumed run can tell it continues
the same computation.

A key's fingerprint digests its type and every parameter by meaning, not by Python type:
numbers as float64 bits (``0.5`` and ``np.float64(0.5)`` are the same coefficient, ``0.0``
and ``-0.0`` are not), labelled coefficients (a mapping, a Series, the columns of a
DataFrame, the tables of a ``FullDynamic`` key) sorted by member id, and the rows of a
coefficient table by instant (``Europe/Paris`` or UTC, µs or ns: the same steps). A
year-long table is digested a column at a time: never copied whole.

"""

from __future__ import annotations

import hashlib
import numbers
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["key_fingerprint"]

_CHUNK = 1 << 20
"""Bytes hashed at a time (a year-long table is never copied whole)."""


def key_fingerprint(key: Any) -> str:
    """A digest of a key's type and every parameter (coefficients by their float64 bits).

    A key that is a dataclass is digested field by field (a key held by another key, as in a
    cascade, by its own ``fingerprint()``); any other key by its identity, unless it defines
    its own ``fingerprint()``.
    """
    digest = hashlib.blake2b(digest_size=16)
    if is_dataclass(key) and not isinstance(key, type):
        _fields(digest, key)
    else:
        _tag(digest, f"object:{type(key).__qualname__}:{id(key)}")
    return digest.hexdigest()


def _fields(digest: Any, value: Any) -> None:
    _tag(digest, f"key:{type(value).__qualname__}")
    for item in fields(value):
        _tag(digest, item.name)
        _feed(digest, getattr(value, item.name))


def _tag(digest: Any, text: str) -> None:
    digest.update(f"{text}\0".encode())


def _label(value: Any) -> str:
    """A member id (or other label) as text; strings of any type (``np.str_``) alike, and
    NumPy scalars as the Python values they hold."""
    if isinstance(value, np.generic):
        value = value.item()
    return f"s:{value}" if isinstance(value, str) else f"r:{value!r}"


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _floats(digest: Any, values: Any) -> None:
    """A numeric array as float64 bits, with its shape, a chunk at a time."""
    array = np.asarray(values)
    _tag(digest, f"floats{array.shape}")
    flat = array.reshape(-1) if array.ndim != 1 else array
    for start in range(0, len(flat), _CHUNK // 8):
        chunk = np.array(flat[start : start + _CHUNK // 8], dtype=np.float64)
        chunk[np.isnan(chunk)] = np.nan  # one NaN: its payload bits mean nothing
        digest.update(chunk.tobytes())


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, np.generic):
        value = value.item()  # np.int64(1) is the id 1, np.float64(0.5) the number 0.5
    fingerprint = getattr(value, "fingerprint", None)
    if callable(fingerprint) and not isinstance(value, type):  # a key inside a key
        _tag(digest, f"fingerprint:{fingerprint()}")
    elif is_dataclass(value) and not isinstance(value, type):
        _fields(digest, value)
    elif value is None or isinstance(value, bool | np.bool_ | str):
        _tag(digest, f"{type(value).__name__ if value is not None else 'None'}:{value}")
    elif _is_number(value):
        _floats(digest, [float(value)])
    elif isinstance(value, pd.DataFrame):
        _table(digest, value)
    elif isinstance(value, pd.Series):
        _vector(digest, list(value.index), value.to_numpy())
    elif isinstance(value, Mapping):
        labels = list(value)
        items = [value[label] for label in labels]
        if items and all(_is_number(item) for item in items):
            _vector(digest, labels, np.array(items, dtype=np.float64))
            return
        _tag(digest, f"mapping[{len(labels)}]")
        for label, item in sorted(zip(labels, items, strict=True), key=lambda i: _label(i[0])):
            _tag(digest, _label(label))
            _feed(digest, item)
    elif isinstance(value, np.ndarray | list | tuple):
        try:
            array = np.asarray(value)
        except ValueError:  # ragged
            array = np.empty(0, dtype=object)
        if array.dtype.kind in "biuf" and array.dtype != np.bool_:
            _floats(digest, array)  # numbers; never strings that look like numbers (ids)
        else:
            _tag(digest, f"sequence[{len(value)}]")
            for item in value:
                _feed(digest, item)
    else:
        _tag(digest, repr(value))


def _vector(digest: Any, labels: list[Any], values: Any) -> None:
    """Labelled numbers (member id -> coefficient), by id."""
    order = sorted(range(len(labels)), key=lambda i: _label(labels[i]))
    _tag(digest, "vector:" + "\0".join(_label(labels[i]) for i in order))
    try:
        numbers_ = np.asarray(values, dtype=np.float64)[order]
    except (TypeError, ValueError):
        _tag(digest, repr([values[i] for i in order]))
        return
    _floats(digest, numbers_)


def _table(digest: Any, frame: pd.DataFrame) -> None:
    """A steps x members table: rows by instant, columns by member id, one at a time."""
    index = frame.index
    if isinstance(index, pd.DatetimeIndex):
        stamps = np.asarray(index.as_unit("ns").asi8, dtype=np.int64)
        order = None if index.is_monotonic_increasing else np.argsort(stamps, kind="stable")
        rows = stamps if order is None else stamps[order]
        _tag(digest, f"table:{'aware' if index.tz is not None else 'naive'}[{len(rows)}]")
        digest.update(rows.tobytes())
    else:
        order = None
        _tag(digest, f"table:{[_label(label) for label in index]}")
    columns = sorted(range(frame.shape[1]), key=lambda j: _label(frame.columns[j]))
    for j in columns:
        _tag(digest, _label(frame.columns[j]))
        try:
            values = frame.iloc[:, j].to_numpy(dtype=np.float64, na_value=np.nan)
        except (TypeError, ValueError):
            _tag(digest, repr(frame.iloc[:, j].tolist()))
            continue
        _floats(digest, values if order is None else values[order])
