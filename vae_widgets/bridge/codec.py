"""An event's ``data`` dict <-> a JSON-able tree plus raw numeric arrays. Never pickle.

What travels, and how:

- ``dict`` (string keys), ``list``/``tuple`` (arrive as lists), ``str``, ``bool``,
  ``int``, ``float`` (NaN and ±inf included: Python's ``json`` writes them as
  ``NaN``/``Infinity`` and reads them back), ``None``: as JSON.
- numpy scalars: as the Python number they hold.
- numpy arrays (and anything with ``__array__``, e.g. a CPU torch tensor) of a
  whitelisted dtype: as a raw little-endian buffer, replaced in the tree by
  ``{"$nd": i}`` (``i``: its index in the message's buffer list) and described in
  the header by ``[dtype, shape]``. Big-endian arrays are byte-swapped, strided
  ones made contiguous, on the way out.

Anything else (objects, complex numbers, ``object``/string arrays, non-string dict
keys) is refused with a ``TypeError`` naming where in the data it sits.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

#: the only dtypes a buffer may have, as numpy's ``dtype.str`` (explicit little-endian)
DTYPES = frozenset({"<f2", "<f4", "<f8", "|i1", "<i2", "<i4", "<i8",
                    "|u1", "<u2", "<u4", "|b1"})
#: marks an array's place in the JSON tree; a dict key nobody else may use
ARRAY_KEY = "$nd"


class CodecError(ValueError):
    """Received data that does not decode (only raised on the receiving side)."""


def little_endian(arr: np.ndarray) -> np.ndarray:
    """``arr`` as a C-contiguous little-endian array of a whitelisted dtype, or TypeError."""
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    if arr.dtype.str not in DTYPES:
        raise TypeError(f"dtype {arr.dtype} cannot travel; allowed: "
                        f"{', '.join(sorted(np.dtype(d).name for d in DTYPES))}.")
    return arr if arr.flags.c_contiguous else arr.copy(order="C")   # (keeps 0-d arrays 0-d)


def pack(data: Any) -> tuple[Any, list[np.ndarray]]:
    """Split ``data`` into a JSON-able tree and the list of arrays it refers to."""
    arrays: list[np.ndarray] = []

    def walk(v, where):
        if v is None or isinstance(v, (str, bool, int, float)):
            return v
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                if not isinstance(k, str):
                    raise TypeError(f"{where}: dict key {k!r} is not a string; only string "
                                    f"keys travel (JSON objects).")
                if k == ARRAY_KEY:
                    raise TypeError(f"{where}: the key {ARRAY_KEY!r} is reserved for arrays.")
                out[k] = walk(x, f"{where}[{k!r}]")
            return out
        if isinstance(v, (list, tuple)):
            return [walk(x, f"{where}[{i}]") for i, x in enumerate(v)]
        if isinstance(v, np.generic):
            if isinstance(v, (np.floating, np.integer, np.bool_)):
                return v.item()
            raise TypeError(f"{where}: numpy {type(v).__name__} cannot travel.")
        if isinstance(v, np.ndarray) or hasattr(v, "__array__"):
            if hasattr(v, "detach") and hasattr(v, "cpu"):   # a torch tensor, without torch
                v = v.detach().cpu()
            try:
                arr = little_endian(np.asarray(v))
            except TypeError as exc:
                raise TypeError(f"{where}: {exc}") from None
            arrays.append(arr)
            return {ARRAY_KEY: len(arrays) - 1}
        raise TypeError(f"{where}: a {type(v).__name__} cannot travel; send numbers, strings, "
                        f"lists, dicts and numpy arrays.")

    return walk(data, "data"), arrays


def unpack(tree: Any, arrays: list[np.ndarray]) -> Any:
    """Inverse of :func:`pack`: put the arrays back in place of their ``{"$nd": i}``."""
    used = set()

    def walk(v):
        if isinstance(v, dict):
            if ARRAY_KEY in v:
                i = v[ARRAY_KEY]
                if len(v) != 1 or type(i) is not int or not 0 <= i < len(arrays) or i in used:
                    raise CodecError(f"bad array reference {v!r:.60}")
                used.add(i)
                return arrays[i]
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    out = walk(tree)
    if len(used) != len(arrays):
        raise CodecError(f"{len(arrays) - len(used)} buffer(s) not referenced by the data")
    return out


def array_from_buffer(buf, dtype: str, shape: list, max_elements: int) -> np.ndarray:
    """Check a received buffer against its header description and make a (writable) array."""
    if dtype not in DTYPES:
        raise CodecError(f"dtype {dtype!r} is not allowed")
    if (not isinstance(shape, list) or len(shape) > 32
            or any(type(s) is not int or s < 0 for s in shape)):
        raise CodecError(f"bad shape {shape!r:.60}")
    count = math.prod(shape)
    if count > max_elements:
        raise CodecError(f"{count:,} elements exceed the limit of {max_elements:,}")
    dt = np.dtype(dtype)
    if len(buf) != count * dt.itemsize:
        raise CodecError(f"buffer of {len(buf):,} bytes does not hold {dtype}{shape}")
    arr = np.frombuffer(buf, dtype=dt).reshape(shape).copy()
    if dt.kind == "b" and arr.size and arr.view(np.uint8).max() > 1:
        raise CodecError("a bool buffer holds bytes other than 0 and 1")
    return arr
