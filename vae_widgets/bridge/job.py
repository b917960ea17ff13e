"""The job end of the bridge: :func:`stream_to` publishes an engine's events to a listener
and applies the listener's commands to the engine.

An *engine* here is anything with ``events`` (an :class:`~vae_widgets._stream.EventBus`)
and ``control`` (a :class:`~vae_widgets._stream.Control`: ``pause``/``resume``/``stop``),
and optionally ``set_params(**changes)``: a :class:`~vae_widgets.tsne.runner.TSNERunner`,
a :class:`~vae_widgets.vae.trainer.VAETrainer`, or your own object shaped like them.

The engine never waits for the network. Its ``publish`` only appends to an outbox
(or, for ``frame`` events, hands the frame to a latest-wins gate); one background
thread encodes, signs and sends. Memory stays bounded whatever the listener does:

- frames: at most one every ``frame_interval`` seconds, at most ``frame_window``
  unacknowledged by the listener; a newer frame replaces one waiting (latest wins);
- other events: the outbox holds at most ``max_queue`` events / ``max_queue_bytes``
  of arrays (the oldest are dropped and counted beyond that), and at most
  ``max_unacked_bytes`` (and 250 events) may be sent and not yet acknowledged: with
  no listener, or
  a listener that stopped reading, sending simply stops and the outbox drops;
- ZeroMQ's own queue is capped (:data:`.transport.HWM`); a send that would block
  is dropped and counted.

Heartbeats go out every ``heartbeat`` seconds with the counters (``stats``), so the
notebook sees what was dropped. A listener silent for ``timeout`` seconds is *lost*:
the engine keeps running, and a pause the notebook had asked for is lifted
(``resume_if_lost``) so a closed laptop does not hold a cluster job forever.
"""
from __future__ import annotations

import atexit
import collections
import logging
import math
import os
import socket
import threading
import time
from typing import Any

import numpy as np
import zmq

from .._stream import Event, FrameGate
from . import transport, wire

log = logging.getLogger("vae_widgets.bridge")

#: the environment variable a job reads its token from when none is passed
TOKEN_ENV = "VAE_WIDGETS_TOKEN"
CONNECTING, CONNECTED, LOST, CLOSED = "connecting", "connected", "lost", "closed"
#: seconds between two frames sent (newer frames replace a waiting one meanwhile)
FRAME_INTERVAL_S = 0.1
_TICK_S = 0.25         # the sender's longest sleep when nothing wakes it (pulse checks)
_HELD_TICK_S = 0.02    # ... while the frame gate holds a frame back for its interval
_HELLO_S = 0.01        # until the listener answers, heartbeats 10, 20, 40, ... ms apart (up
                       # to the heartbeat): the first one is dropped when it goes before
                       # the TCP connection is up, and waiting a whole heartbeat (1 s)
                       # then stalled every DDP rank at the start of training
_EVENT_OVERHEAD = 256  # bytes counted per queued event besides its arrays
#: events sent and not yet acknowledged, at most: well under ZeroMQ's queue (HWM), which
#: may refuse a send once about HWM/2 messages wait (its writer learns of reads in batches
#: of HWM/2), so a listener that keeps up never causes a drop
_MAX_UNACKED_MESSAGES = transport.HWM // 4


def stream_to(engine, address: str, token: str | None = None, **options) -> "JobLink":
    """Stream ``engine``'s events to the listener at ``address``; returns the running link.

    Parameters
    ----------
    engine
        A ``TSNERunner``, a ``VAETrainer`` or any object with ``events`` (EventBus)
        and ``control`` (Control), optionally ``set_params``.
    address : str
        ``tcp://host:port``, as the listener printed it.
    token : str, optional
        The listener's token; by default read from the ``VAE_WIDGETS_TOKEN``
        environment variable (keeps it off the command line and out of ``ps``).
    **options
        See :class:`JobLink` (``frame_interval``, ``heartbeat``, ``timeout``, ...).

    Notes
    -----
    Use it around the run; closing the link sends what is left and says goodbye::

        with stream_to(runner, "tcp://127.0.0.1:5555"):
            runner.run()
    """
    return JobLink(engine, address, token, **options)


class JobLink:
    """A running connection from an engine to a listener (made by :func:`stream_to`).

    Parameters
    ----------
    frame_interval : float
        Seconds between two frames sent (default 0.1); frames in between are
        replaced by newer ones (latest wins), key frames (``key=True``) go at once.
    frame_window : int
        Frames that may await the listener's acknowledgement (default 2).
    heartbeat, timeout : float
        Seconds between heartbeats (1.0); listener silence that means it is gone (4.0).
    max_queue, max_queue_bytes, max_unacked_bytes : int
        Bounds of the outbox and of data sent but not yet acknowledged.
    resume_if_lost : bool
        Resume a paused engine when the listener is lost (default True).
    describe : dict or callable, optional
        What the notebook must know of the run before its events make sense (a VAE's
        latent size, rows and settings, the job's rank and strategy): sent first, as a
        ``describe`` event, each time the listener answers (a listener that comes back
        after a network blip is told again). A callable is called then, so the notebook
        gets the settings in force. Default: the engine's ``remote_description`` method,
        if it has one (a ``TSNERunner`` does: rows, columns, parameters).

    Attributes
    ----------
    state : str
        connecting | connected | lost | closed.
    stats : dict
        Counters: ``published``, ``sent``, ``dropped`` (by cause: ``queue_full``,
        ``send_full``, ``unsendable``), ``frames_replaced``, ``commands``,
        ``queued``, ``queued_bytes``, ``peak_queued_bytes``, ``unacked_bytes``.
    """

    def __init__(self, engine, address: str, token: str | None = None, *,
                 frame_interval: float = FRAME_INTERVAL_S, frame_window: int = 2,
                 heartbeat: float = transport.HEARTBEAT_S, timeout: float = transport.TIMEOUT_S,
                 max_queue: int = 10_000, max_queue_bytes: int = 64 << 20,
                 max_unacked_bytes: int = 32 << 20, resume_if_lost: bool = True,
                 describe=None):
        events = getattr(engine, "events", None)
        control = getattr(engine, "control", None)
        if not callable(getattr(events, "subscribe", None)) or not all(
                callable(getattr(control, a, None)) for a in ("pause", "resume", "stop")):
            raise TypeError(f"stream_to: {type(engine).__name__} is not an engine: it needs "
                            f"`events` (an EventBus) and `control` (pause/resume/stop), as "
                            f"TSNERunner and VAETrainer have.")
        self.address = transport.check_address(address)
        if token is None:
            token = os.environ.get(TOKEN_ENV)
            if not token:
                raise ValueError(f"stream_to: no token; pass token=... or set {TOKEN_ENV} to "
                                 f"the token the listener printed.")
        if not isinstance(frame_interval, (int, float)) or not frame_interval >= 0:
            raise ValueError(f"stream_to: frame_interval must be a number of seconds >= 0 "
                             f"(0: every frame the window allows), got {frame_interval!r}.")
        self.heartbeat, self.timeout = transport.check_timing(heartbeat, timeout, "stream_to")
        for name, v in (("frame_window", frame_window), ("max_queue", max_queue),
                        ("max_queue_bytes", max_queue_bytes),
                        ("max_unacked_bytes", max_unacked_bytes)):
            if type(v) is not int or v < 1:
                raise ValueError(f"stream_to: {name} must be a positive int, got {v!r}.")
        if describe is None:
            describe = getattr(engine, "remote_description", None)
        if describe is not None and not (isinstance(describe, dict) or callable(describe)):
            raise TypeError(f"stream_to: describe must be a dict (or a callable returning "
                            f"one), got {type(describe).__name__}.")
        self.engine = engine
        self.describe = describe
        self.resume_if_lost = resume_if_lost
        self.max_queue, self.max_queue_bytes = max_queue, max_queue_bytes
        self.max_unacked_bytes = max_unacked_bytes
        self._channel = wire.Channel(token)     # default limits: acks and commands are small
        self.state = CONNECTING
        self._lock = threading.Lock()
        self._outbox: collections.deque = collections.deque()
        self._queued_bytes = 0
        self._unacked: collections.deque = collections.deque()   # (seq, nbytes)
        self._unacked_bytes = 0
        self._gate = FrameGate(self._enqueue_frame, interval=float(frame_interval),
                               window=frame_window, ack_timeout=max(5.0, 2 * self.timeout))
        self._counts = collections.Counter()
        self._peak_queued = 0
        self._paused_by_listener = False
        self._last_heard = 0.0
        self._closing = threading.Event()
        self._flush_deadline = math.inf
        self.info = {"engine": type(engine).__name__, "host": socket.gethostname(),
                     "pid": os.getpid()}
        self._ready = threading.Event()
        self._error: BaseException | None = None
        # the engine's thread wakes the sender when it queues something (the sender
        # sleeps in poll() otherwise: no wake-ups 100 times a second stealing the GIL
        # and a core from the training loop)
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._thread = threading.Thread(target=self._loop, name="vae-widgets-bridge-job",
                                        daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        self._unsubscribe = events.subscribe(self._on_event)
        atexit.register(self.close)

    # ------------------------------------------------------------ engine thread(s)
    def _on_event(self, e: Event) -> None:
        """EventBus listener: never blocks, never raises."""
        self._counts["published"] += 1
        if e.kind == "frame":
            self._gate.offer(e.data)
            if e.data.get("key"):
                self._gate.flush()
        else:
            self._enqueue((e.kind, e.data, None))

    def _enqueue_frame(self, frame_id: int, data: dict) -> None:
        self._enqueue(("frame", data, frame_id))

    def _enqueue(self, item) -> None:
        size = _EVENT_OVERHEAD + sum(v.nbytes for v in item[1].values()
                                     if isinstance(v, np.ndarray))
        with self._lock:
            self._outbox.append((item, size))
            self._queued_bytes += size
            while len(self._outbox) > 1 and (len(self._outbox) > self.max_queue
                                             or self._queued_bytes > self.max_queue_bytes):
                _, s = self._outbox.popleft()
                self._queued_bytes -= s
                self._counts["dropped_queue_full"] += 1
            self._peak_queued = max(self._peak_queued, self._queued_bytes)
            if len(self._outbox) == 1:
                self._wake_locked()

    def _wake(self) -> None:
        with self._lock:
            self._wake_locked()

    def _wake_locked(self) -> None:
        if self._wake_w is None:                # the sender has ended
            return
        try:
            os.write(self._wake_w, b"w")
        except (BlockingIOError, OSError):      # already awake (the pipe is full)
            pass

    # ------------------------------------------------------------ public
    @property
    def stats(self) -> dict:
        c = self._counts
        with self._lock:
            queued, queued_bytes = len(self._outbox), self._queued_bytes
        return {"published": c["published"], "sent": c["sent"],
                "dropped": {"queue_full": c["dropped_queue_full"],
                            "send_full": c["dropped_send_full"],
                            "unsendable": c["dropped_unsendable"]},
                "frames_sent": self._gate.sent, "frames_replaced": self._gate.replaced,
                "commands": c["commands"], "queued": queued, "queued_bytes": queued_bytes,
                "peak_queued_bytes": self._peak_queued, "unacked_bytes": self._unacked_bytes,
                "state": self.state}

    @property
    def session(self) -> str:
        """This link's session id (the listener's status names it)."""
        return self._channel.session

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Block until the listener has answered (True) or ``timeout`` passed (False)."""
        end = time.monotonic() + timeout
        while self.state != CONNECTED and time.monotonic() < end and self._thread.is_alive():
            time.sleep(0.01)
        return self.state == CONNECTED

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued and wait for the listener to acknowledge it (for up to
        ``timeout`` s, while the listener is there), say goodbye and stop. The engine is
        left as it is."""
        if self._closing.is_set():
            return
        atexit.unregister(self.close)
        self._unsubscribe()
        self._gate.flush()
        self._flush_deadline = time.monotonic() + (timeout if self.state == CONNECTED else 0.0)
        self._closing.set()
        self._wake()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout + 2.0)

    def __enter__(self) -> "JobLink":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self):
        return f"JobLink({self.address}, state={self.state!r})"

    # ------------------------------------------------------------ the sender thread
    def _loop(self):
        try:
            ctx = zmq.Context()
            sock = transport.connect_job(ctx, self.address)
        except BaseException as exc:   # noqa: BLE001 - raised by __init__
            self._error = exc
            self._close_pipe()
            self._ready.set()
            return
        self._sock = sock
        self._ready.set()
        poller = zmq.Poller()
        poller.register(sock, zmq.POLLIN)
        wake_r = self._wake_r
        poller.register(wake_r, zmq.POLLIN)
        last_beat, hellos = -math.inf, 0
        try:
            while True:
                closing = self._closing.is_set()
                now = time.monotonic()
                if self.state == CONNECTED:
                    beat, hellos = self.heartbeat, 0
                else:
                    beat = min(self.heartbeat, _HELLO_S * 2 ** hellos)
                wait = min(_HELD_TICK_S if self._gate.holding else _TICK_S,
                           max(0.0, last_beat + beat - now))
                if closing:
                    wait = min(wait, _HELD_TICK_S)
                ready = dict(poller.poll(wait * 1000))
                if wake_r in ready:
                    _drain_pipe(wake_r)
                if sock in ready:
                    self._receive()
                now = time.monotonic()
                if now - last_beat >= beat:
                    self._send(wire.HEARTBEAT, {"info": self.info, "stats": self.stats})
                    last_beat = now
                    if self.state != CONNECTED:
                        hellos = min(hellos + 1, 16)
                self._gate.ack(-1)        # a frame held back by the interval may go now
                self._drain()
                self._check_pulse(now)
                # closing: go once everything was sent and acknowledged (so the goodbye is
                # not stuck behind a full queue), or at the deadline
                if closing and ((not self._outbox and not self._unacked)
                                or now >= self._flush_deadline):
                    break
            self._send(wire.BYE, {"reason": "job finished", "info": self.info,
                                  "stats": dict(self.stats, state=CLOSED)})
        except Exception:  # noqa: BLE001
            log.exception("bridge: the sender stopped by an error; the engine goes on")
        finally:
            self.state = CLOSED
            sock.close()          # LINGER: up to 0.5 s to deliver the goodbye
            ctx.term()
            self._close_pipe()

    def _close_pipe(self) -> None:
        with self._lock:                       # (never a write to a reused descriptor)
            fds, self._wake_r, self._wake_w = (self._wake_r, self._wake_w), None, None
        for fd in fds:
            if fd is not None:
                os.close(fd)

    def _drain(self):
        while True:
            with self._lock:
                if not self._outbox:
                    return
                (item, size) = self._outbox[0]
                if self._unacked and (self._unacked_bytes + size > self.max_unacked_bytes
                                      or len(self._unacked) >= _MAX_UNACKED_MESSAGES):
                    return                  # wait for the listener to catch up
                self._outbox.popleft()
                self._queued_bytes -= size
            kind, data, frame_id = item
            body = {"kind": kind, "data": data}
            if frame_id is not None:
                body["frame_id"] = frame_id
            self._send(wire.EVENT, body, counted=size)

    def _send(self, mtype: str, body: dict, counted: int = 0) -> bool:
        try:
            frames, seq = self._channel.encode(mtype, body)
        except (TypeError, ValueError) as exc:
            self._counts["dropped_unsendable"] += 1
            log.warning("bridge: a %r event cannot travel and was dropped: %s",
                        body.get("kind", mtype), exc)
            return False
        if not transport.send_nowait(self._sock, frames):
            if counted:           # an event lost (a heartbeat or a reply is not data)
                self._counts["dropped_send_full"] += 1
            return False
        self._counts["sent"] += 1
        if counted:
            nbytes = sum(len(f) if isinstance(f, bytes) else f.nbytes for f in frames)
            self._unacked.append((seq, nbytes))
            self._unacked_bytes += nbytes
        return True

    def _receive(self):
        while True:
            try:
                frames = self._sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            try:
                msg = self._channel.decode([f.buffer for f in frames])
                self._channel.check_sequence(msg)
            except wire.Rejected as r:
                self._counts["rejected"] += 1
                log.warning("bridge: rejected a message from the listener (%s)", r)
                continue
            except Exception:  # noqa: BLE001 - a decoder bug must not end the streaming
                self._counts["rejected"] += 1
                log.exception("bridge: a message from the listener broke the decoder")
                continue
            self._last_heard = time.monotonic()
            if self.state != CONNECTED:
                if self.state == LOST:     # frames and bytes in flight then are gone
                    self._gate.reset()
                log.info("bridge: connected to %s", self.address)
                self.state = CONNECTED
                described = self._description()
                if described is not None:     # first in line: it explains what follows
                    with self._lock:
                        self._outbox.appendleft((("describe", described, None),
                                                 _EVENT_OVERHEAD))
                        self._queued_bytes += _EVENT_OVERHEAD
            if msg.type == wire.ACK:
                self._on_ack(msg.body)
            elif msg.type == wire.COMMAND:
                self._on_command(msg.body)
            elif msg.type == wire.BYE:
                self._on_lost("the listener closed")

    def _description(self) -> dict | None:
        if not callable(self.describe):
            return self.describe
        try:
            return dict(self.describe())
        except Exception:  # noqa: BLE001 - a description that fails must not end the link
            log.exception("bridge: describe() failed; the notebook gets no description")
            return None

    def _on_ack(self, body: dict):
        seq, frame_id = body.get("seq"), body.get("frame_id")
        if type(seq) is int:
            while self._unacked and self._unacked[0][0] <= seq:
                self._unacked_bytes -= self._unacked.popleft()[1]
        if type(frame_id) is int and frame_id >= 0:
            self._gate.ack(frame_id)

    def _on_command(self, body: dict):
        self._counts["commands"] += 1
        cid, action, params = body.get("id"), body.get("action"), body.get("params") or {}
        reply: dict[str, Any] = {"id": cid, "action": action, "ok": True}
        try:
            if action in ("pause", "resume", "stop"):
                getattr(self.engine.control, action)()
                self._paused_by_listener = action == "pause"
            elif action == "set":
                set_params = getattr(self.engine, "set_params", None)
                if set_params is None:
                    raise TypeError(f"{type(self.engine).__name__} has no set_params.")
                if not isinstance(params, dict):
                    raise TypeError("set: params must be a dict {name: value}.")
                reply["result"] = set_params(**params)
            else:
                raise ValueError(f"unknown command {action!r}; the job accepts pause, "
                                 f"resume, stop and set.")
        except Exception as exc:  # noqa: BLE001 - the answer carries it back
            reply.update(ok=False, error=f"{type(exc).__name__}: {exc}",
                         error_type=type(exc).__name__)
        if not self._send(wire.REPLY, reply):
            reply.pop("result", None)        # a result that cannot travel: say ok only
            self._send(wire.REPLY, reply)

    def _check_pulse(self, now: float):
        if self.state == CONNECTED and now - self._last_heard > self.timeout:
            self._on_lost(f"no word from the listener for {now - self._last_heard:.1f} s")

    def _on_lost(self, why: str):
        self.state = LOST
        log.warning("bridge: listener lost (%s); the run goes on", why)
        control = self.engine.control
        if self.resume_if_lost and self._paused_by_listener and getattr(control, "paused", False):
            control.resume()
            self._paused_by_listener = False
            log.warning("bridge: resumed the run the notebook had paused")


def _drain_pipe(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, OSError):
        pass
