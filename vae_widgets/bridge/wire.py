"""One bridge message <-> a list of byte frames: signed JSON header plus raw buffers.

Frames of a message::

    [signature, header, buffer_0, buffer_1, ...]

- ``header``: UTF-8 JSON ``{"v": 1, "type", "session", "seq", "time", "arrays",
  "body"}``: ``type`` is one of :data:`TYPES`, ``session`` a random id per sender,
  ``seq`` its strictly increasing sequence number, ``arrays`` one ``[dtype, shape]``
  per buffer, ``body`` the message's content (see :mod:`.codec` for how arrays sit
  in it).
- ``signature``: HMAC-SHA256, keyed with the token, over every following frame, each
  preceded by its length (8 bytes, little-endian), so the boundaries between frames
  are signed too. Jupyter signs its messages the same way (HMAC-SHA256 over the
  serialised parts, compared with :func:`hmac.compare_digest`); it leaves the
  buffers out, we sign them.

Receiving (:func:`decode`) checks, in this order and before parsing any JSON: the
number of frames, the header's and buffers' sizes, the signature; then the header's
fields, each buffer against its ``[dtype, shape]`` (whitelisted dtypes, bounded
element counts), and the sequence (:class:`ReplayGuard`). Any failure raises
:class:`Rejected` with a short ``reason`` (one of :data:`REASONS`) the listener
counts. Nothing is ever unpickled.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import struct
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from . import codec

VERSION = 1

# message types --------------------------------------------------------------------------
#: job -> notebook: an engine event (``body``: ``{"kind", "data"}``, ``frame_id`` on frames)
EVENT = "event"
#: job -> notebook, every ``heartbeat`` seconds: ``{"info": who, "stats": counters}``
HEARTBEAT = "heartbeat"
#: notebook -> job, after what it received and every ``heartbeat`` seconds (its heartbeat):
#: ``{"seq", "frame_id"}``, the highest received so far (flow control)
ACK = "ack"
#: notebook -> job: ``{"id", "action", "params"}``; job -> notebook: ``REPLY``
COMMAND = "command"
#: job -> notebook: ``{"id", "ok", "result" | "error"}`` for a command
REPLY = "reply"
#: either side is going away on purpose (``body``: ``{"reason"}``)
BYE = "bye"
TYPES = (EVENT, HEARTBEAT, ACK, COMMAND, REPLY, BYE)

# why a message was rejected (the listener counts each) -----------------------------------
R_FRAMES = "frames"          # wrong number of frames
R_SIZE = "size"              # header or a buffer or the whole message over the limits
R_SIGNATURE = "signature"    # missing, forged or made with another token
R_HEADER = "header"          # not JSON, missing fields, unknown type, bad body
R_BUFFER = "buffer"          # a buffer does not match its dtype/shape, or dtype not allowed
R_STALE = "stale"            # sequence number not above the last one seen: replayed/reordered
R_SESSION = "session"        # another job is streaming to this listener right now
REASONS = (R_FRAMES, R_SIZE, R_SIGNATURE, R_HEADER, R_BUFFER, R_STALE, R_SESSION)


class Rejected(Exception):
    """A received message failed a check; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Limits:
    """Bounds on what a receiver accepts.

    ``max_buffer_bytes`` also sets the transport's hard limit: a single frame above
    twice this size makes ZeroMQ drop the sender's connection before the message is
    assembled (see :mod:`.transport`); frames between one and two times the limit are
    received and rejected here, with a count.
    """

    max_header_bytes: int = 1 << 20          # 1 MiB of JSON
    max_buffers: int = 32
    max_buffer_bytes: int = 64 << 20         # e.g. a (8M, 2) float32 frame
    max_elements: int = 1 << 27              # per buffer
    max_message_bytes: int = 256 << 20       # all buffers of one message together

    def __post_init__(self):
        for name in ("max_header_bytes", "max_buffers", "max_buffer_bytes", "max_elements",
                     "max_message_bytes"):
            v = getattr(self, name)
            if type(v) is not int or v < 1:
                raise ValueError(f"Limits.{name} must be a positive int, got {v!r}.")

    @property
    def hard_frame_bytes(self) -> int:
        return 2 * max(self.max_buffer_bytes, self.max_header_bytes)


@dataclass
class Message:
    """A decoded, verified message."""

    type: str
    session: str
    seq: int
    body: Any
    time: float = 0.0
    nbytes: int = 0

    @property
    def kind(self) -> str | None:
        return self.body.get("kind") if self.type == EVENT else None


def new_session() -> str:
    return uuid.uuid4().hex


def key_from_token(token: str) -> bytes:
    if not isinstance(token, str) or not token:
        raise TypeError(f"token must be the non-empty string the listener printed, "
                        f"got {token!r:.20}.")
    return token.encode("utf-8")


def _mac(key: bytes, parts) -> bytes:
    h = hmac.new(key, digestmod=hashlib.sha256)
    for p in parts:
        h.update(struct.pack("<Q", len(p)))
        h.update(p)
    return h.digest()


class Signer:
    """Makes the frames of outgoing messages for one sender session."""

    def __init__(self, token: str, session: str | None = None):
        self._key = key_from_token(token)
        self.session = session or new_session()
        self.seq = 0

    def encode(self, type: str, body: Any) -> tuple[list, int]:
        """Frames of one message (the next sequence number) and its sequence number.

        Raises TypeError when ``body`` holds something that cannot travel (see :mod:`.codec`).
        """
        tree, arrays = codec.pack(body)
        self.seq += 1
        header = {"v": VERSION, "type": type, "session": self.session, "seq": self.seq,
                  "time": time.time(), "arrays": [[a.dtype.str, list(a.shape)] for a in arrays],
                  "body": tree}
        head = json.dumps(header, separators=(",", ":")).encode("utf-8")
        buffers = [memoryview(a).cast("B") if a.size else b"" for a in arrays]
        return [_mac(self._key, [head, *buffers]), head, *buffers], self.seq


def _nbytes(frame) -> int:
    return frame.nbytes if isinstance(frame, memoryview) else len(frame)


def decode(frames: list, key: bytes, limits: Limits) -> Message:
    """Check and decode the frames of one received message (see the module docstring).

    ``frames`` are bytes-like (``bytes``, ``memoryview``, ``zmq.Frame.buffer``). The
    sequence number is not checked here (see :class:`ReplayGuard`).
    """
    if not 2 <= len(frames) <= 2 + limits.max_buffers:
        raise Rejected(R_FRAMES, f"{len(frames)} frames (expected 2 to {2 + limits.max_buffers})")
    sig, head, buffers = frames[0], frames[1], frames[2:]
    sizes = [_nbytes(b) for b in buffers]
    if _nbytes(head) > limits.max_header_bytes:
        raise Rejected(R_SIZE, f"header of {_nbytes(head):,} bytes (limit "
                               f"{limits.max_header_bytes:,})")
    if any(s > limits.max_buffer_bytes for s in sizes):
        raise Rejected(R_SIZE, f"a buffer of {max(sizes):,} bytes (limit "
                               f"{limits.max_buffer_bytes:,})")
    if sum(sizes) > limits.max_message_bytes:
        raise Rejected(R_SIZE, f"{sum(sizes):,} bytes of buffers (limit "
                               f"{limits.max_message_bytes:,})")
    if _nbytes(sig) != hashlib.sha256().digest_size:
        raise Rejected(R_SIGNATURE, "no signature" if not _nbytes(sig) else "malformed signature")
    if not hmac.compare_digest(bytes(sig), _mac(key, [head, *buffers])):
        raise Rejected(R_SIGNATURE, "signature does not match (forged, altered or another token)")
    try:
        header = json.loads(bytes(head).decode("utf-8"))
    except (ValueError, RecursionError) as exc:
        raise Rejected(R_HEADER, f"header is not JSON ({type(exc).__name__})") from None
    return _check_header(header, buffers, limits, sum(sizes) + _nbytes(head))


def _check_header(header, buffers, limits: Limits, nbytes: int) -> Message:
    if not isinstance(header, dict) or header.get("v") != VERSION:
        raise Rejected(R_HEADER, f"not a version-{VERSION} header")
    mtype, session, seq = header.get("type"), header.get("session"), header.get("seq")
    if mtype not in TYPES:
        raise Rejected(R_HEADER, f"unknown message type {mtype!r:.40}")
    if not isinstance(session, str) or not 0 < len(session) <= 64:
        raise Rejected(R_HEADER, "bad session id")
    if type(seq) is not int or seq < 1:
        raise Rejected(R_HEADER, "bad sequence number")
    specs = header.get("arrays")
    if not isinstance(specs, list) or len(specs) != len(buffers):
        raise Rejected(R_BUFFER, f"{len(buffers)} buffers but the header describes "
                                 f"{len(specs) if isinstance(specs, list) else 'none'}")
    arrays = []
    for i, (spec, buf) in enumerate(zip(specs, buffers)):
        if not (isinstance(spec, list) and len(spec) == 2 and isinstance(spec[0], str)):
            raise Rejected(R_BUFFER, f"buffer {i}: bad description {spec!r:.60}")
        try:
            arrays.append(codec.array_from_buffer(buf, spec[0], spec[1], limits.max_elements))
        except codec.CodecError as exc:
            raise Rejected(R_BUFFER, f"buffer {i}: {exc}") from None
    try:
        body = codec.unpack(header.get("body"), arrays)
    except codec.CodecError as exc:
        raise Rejected(R_BUFFER, str(exc)) from None
    if not isinstance(body, dict):
        raise Rejected(R_HEADER, "the body must be a JSON object")
    if mtype == EVENT and not (isinstance(body.get("kind"), str)
                               and isinstance(body.get("data"), dict)
                               and "kind" not in body["data"]):
        # (EventBus.publish(kind, **data): a data key "kind" could not be re-published)
        raise Rejected(R_HEADER, "an event needs a body {kind: str, data: dict without 'kind'}")
    t = header.get("time")
    return Message(mtype, session, seq, body, float(t) if isinstance(t, (int, float)) else 0.0,
                   nbytes)


@dataclass
class ReplayGuard:
    """Rejects a message whose sequence number is not above the last one of its session.

    Remembers every session it has seen (a few ids per listener), so a recorded
    message of an earlier session cannot be played back either.
    """

    last: dict = field(default_factory=dict)

    def check(self, msg: Message) -> None:
        prev = self.last.get(msg.session, 0)
        if msg.seq <= prev:
            raise Rejected(R_STALE, f"sequence {msg.seq} after {prev} (replayed or reordered)")
        self.last[msg.session] = msg.seq


class Channel:
    """One end of a signed conversation: signs what it sends (its own session and
    sequence), verifies what it receives, and remembers the sequences it has seen."""

    def __init__(self, token: str, limits: Limits | None = None):
        self._key = key_from_token(token)
        self._signer = Signer(token)
        self._guard = ReplayGuard()
        self.limits = limits or Limits()

    @property
    def session(self) -> str:
        return self._signer.session

    def encode(self, type: str, body: Any) -> tuple[list, int]:
        """See :meth:`Signer.encode`."""
        return self._signer.encode(type, body)

    def decode(self, frames: list) -> Message:
        """Verify and decode (see :func:`decode`); the sequence is checked separately."""
        return decode(frames, self._key, self.limits)

    def check_sequence(self, msg: Message) -> None:
        """Reject a replayed or reordered message (see :class:`ReplayGuard`)."""
        self._guard.check(msg)
