"""Point frames on the wire: one format, one place that sends them.

A frame (an embedding's x,y positions) travels as a custom message
(``{"type": _schema.FRAME, "id", ...meta}``, one binary buffer), never as a trait:
the front end acknowledges each id (``_stream.FrameGate``: throttled, latest wins).
:func:`encode_frame` is the format: key frames (the first, a pause, the end of a phase,
the end) as exact float32 x,y pairs; the frames in between as uint16 x,y pairs
quantised over the frame's own bounding box (``encoding: "u16"``, ``lo``, ``span`` in
the header): half the bytes, off by at most 1/131,070 of the map's width (far below
a pixel). :func:`decode_frame` is what the front end does (``js/src/common``), for
tests and tools. :func:`send_frame` is the only place a frame is sent.
"""
from __future__ import annotations

import numpy as np

from .. import _schema as S

_U16 = 65535


def encode_frame(array, key: bool = False) -> tuple[dict, memoryview]:
    """(header fields, bytes) of one frame of positions ((n, 2) or flat x,y pairs)."""
    a = np.asarray(array, dtype=np.float32).reshape(-1, 2)
    if not key and len(a) > 1:
        lo = a.min(axis=0)
        span = a.max(axis=0) - lo
        if np.isfinite(lo).all() and np.isfinite(span).all():
            span = np.where(span > 0, span, np.float32(1))
            q = np.rint((a - lo) * (_U16 / span)).astype("<u2")
            return ({"encoding": "u16", "lo": [float(v) for v in lo],
                     "span": [float(v) for v in span]},
                    memoryview(q.reshape(-1)).cast("B"))
    return {}, memoryview(np.ascontiguousarray(a, dtype="<f4").reshape(-1)).cast("B")


def decode_frame(header: dict, buffer) -> np.ndarray:
    """Positions (float32 (n, 2)) from a frame message (what the front end does)."""
    raw = bytes(buffer)
    if header.get("encoding") == "u16":
        q = np.frombuffer(raw, dtype="<u2").reshape(-1, 2).astype(np.float32)
        lo = np.asarray(header["lo"], np.float32)
        span = np.asarray(header["span"], np.float32)
        return lo + q * (span / _U16)
    return np.frombuffer(raw, dtype="<f4").reshape(-1, 2)


def send_frame(widget, frame_id: int, meta: dict, array) -> int:
    """Send one frame of ``widget`` (``meta``: its header fields, ``"key"`` among them);
    returns the bytes of positions sent."""
    extra, buf = encode_frame(array, key=bool(meta.get("key", False)))
    widget.send({"type": S.FRAME, "id": frame_id, **meta, **extra}, buffers=[buf])
    return buf.nbytes
