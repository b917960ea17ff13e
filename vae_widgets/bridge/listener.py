"""The notebook end of the bridge: listen, verify, acknowledge, watch the job's pulse.

:class:`Listener` binds a socket (loopback unless told otherwise), and on one
background thread receives messages, checks each (:func:`.wire.decode`, the
sequence, the session), counts what it rejects and why, acknowledges what it
accepts (the job's flow control waits for these), sends heartbeats and commands,
and declares the job *lost* when it has heard nothing valid for ``timeout``
seconds. Valid messages go to ``on_message`` (on that thread); changes of the
link to ``on_link``. It knows nothing of engines or widgets (see :mod:`.remote`).

One job at a time: the first valid message binds the listener to its session;
another session is refused (``"session"``) while that one is alive, and taken on
once it has said goodbye or gone silent (a job run again with the same token).
"""
from __future__ import annotations

import logging
import queue
import secrets
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import zmq

from . import transport, wire

log = logging.getLogger("vae_widgets.bridge")

#: link states
WAITING, CONNECTED, LOST, CLOSED, STOPPED = "waiting", "connected", "lost", "closed", "stopped"
_POLL_MS = 50          # the loop's tick: commands go out within this
_BATCH = 200           # messages handled between two acknowledgements
_LINK_EVERY = 0.5      # rejections are reported at most this often (a flood stays cheap)
TOKEN_BYTES = 32


@dataclass
class LinkStatus:
    """A snapshot of the link, as :attr:`Listener.status` returns it.

    ``state``: waiting (no job yet) | connected | lost (the job went silent: it died,
    hung, or the network is down) | closed (the job said goodbye) | stopped (this
    listener was closed). ``rejected`` counts refused messages by reason (see
    :data:`.wire.REASONS`); ``last_rejection`` says what the last one was. ``job``
    holds what the job reports in its heartbeats: ``info`` (engine, host, pid) and
    ``stats`` (its sent / dropped counters).
    """

    state: str = WAITING
    address: str = ""
    session: str | None = None
    received: int = 0
    rejected: dict = field(default_factory=lambda: dict.fromkeys(wire.REASONS, 0))
    last_rejection: str = ""
    silent_for: float | None = None
    job: dict = field(default_factory=dict)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def as_dict(self) -> dict:
        d = asdict(self)
        d["rejected_total"] = self.rejected_total
        return d


class Listener:
    """Bind, receive and answer on a background thread (see the module docstring).

    Parameters
    ----------
    host : str
        Interface to bind: ``"127.0.0.1"`` (default: this machine only), an
        interface's IP address, or ``"*"`` (every interface; anyone who can reach
        the port may try, and only holders of the token get in).
    port : int
        0 (default) takes a free port.
    token : str, optional
        The shared secret; by default a new random one (``secrets.token_urlsafe``).
    limits : wire.Limits
        Size bounds of accepted messages.
    heartbeat, timeout : float
        Seconds between this side's heartbeats; silence after which the job is lost.
    on_message : callable(Message)
        Called on the listener's thread with every valid message of the job.
    on_link : callable(LinkStatus)
        Called on the listener's thread when the state changes, and (at most every
        0.5 s) when messages were rejected.
    """

    def __init__(self, *, host: str = transport.LOOPBACK, port: int = 0,
                 token: str | None = None, limits: wire.Limits | None = None,
                 heartbeat: float = transport.HEARTBEAT_S, timeout: float = transport.TIMEOUT_S,
                 on_message: Callable[[wire.Message], None] | None = None,
                 on_link: Callable[[LinkStatus], None] | None = None):
        host = transport.check_bind_host(host)
        if token is None:
            token = secrets.token_urlsafe(TOKEN_BYTES)
        elif not isinstance(token, str) or len(token) < 32:
            raise ValueError("token must be a string of at least 32 characters; leave it out "
                             "to get a fresh random one (secrets.token_urlsafe).")
        heartbeat, timeout = transport.check_timing(heartbeat, timeout, "listen")
        self.token = token
        self.heartbeat, self.timeout = heartbeat, timeout
        self.host = host
        self._channel = wire.Channel(token, limits)
        self.limits = self._channel.limits
        self._on_message = on_message
        self._on_link = on_link
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._status = LinkStatus()
        self._peer: bytes | None = None           # ZeroMQ routing id of the job
        self._last_seen = 0.0
        self._ack = {"seq": 0, "frame_id": -1}
        self._ack_due = False
        self._last_ack = 0.0
        self._link_dirty = False
        self._last_link = 0.0
        self._closing = threading.Event()
        self._ctx = zmq.Context()
        try:
            self._sock, endpoint = transport.bind_listener(self._ctx, host, port, self.limits)
        except BaseException:
            self._ctx.term()
            raise
        self.port = int(endpoint.rsplit(":", 1)[1])
        self._status.address = self.address
        self._thread = threading.Thread(target=self._loop, name="vae-widgets-bridge-listener",
                                        daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ public
    @property
    def address(self) -> str:
        """What a job passes to ``stream_to``: ``tcp://host:port`` (the machine's name when
        bound beyond loopback)."""
        if transport.is_loopback(self.host):
            return f"tcp://{transport.url_host(self.host)}:{self.port}"
        import socket

        host = socket.gethostname() if self.host in ("*", "0.0.0.0", "::") else self.host
        return f"tcp://{transport.url_host(host)}:{self.port}"

    @property
    def status(self) -> LinkStatus:
        with self._lock:
            s = LinkStatus(**{k: v for k, v in asdict(self._status).items()})
        if s.session is not None:
            s.silent_for = time.monotonic() - self._last_seen
        return s

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def send(self, mtype: str, body: dict) -> None:
        """Queue a message to the job (sent from the listener's thread within ~50 ms)."""
        self._outbox.put((mtype, body))

    def close(self, timeout: float = 2.0) -> None:
        """Say goodbye to the job, stop the thread and free the port."""
        if self._closing.is_set():
            return
        self._closing.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # ------------------------------------------------------------ the thread
    def _loop(self):
        poller = zmq.Poller()
        poller.register(self._sock, zmq.POLLIN)
        try:
            while not self._closing.is_set():
                if poller.poll(_POLL_MS):
                    self._drain()
                now = time.monotonic()
                self._send_queued()
                if self._peer is not None and (self._ack_due or
                                               now - self._last_ack >= self.heartbeat):
                    self._send_ack(now)
                self._check_pulse(now)
                if self._link_dirty and now - self._last_link >= _LINK_EVERY:
                    self._link_changed(now)
        except Exception:      # noqa: BLE001 - report, and leave the state saying so
            log.exception("bridge listener stopped by an error")
        finally:
            if self._peer is not None:
                self._send(wire.BYE, {"reason": "listener closed"})
            self._sock.close(linger=200)
            self._ctx.term()
            self._set_state(STOPPED)

    def _drain(self):
        for _ in range(_BATCH):
            try:
                frames = self._sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                return
            self._receive(frames)

    def _receive(self, frames):
        peer, parts = frames[0].bytes, [f.buffer for f in frames[1:]]
        try:
            try:
                msg = self._channel.decode(parts)
            except wire.Rejected:
                raise
            except Exception as exc:  # noqa: BLE001 - a decoder bug must not end the listener
                log.exception("bridge: a message broke the decoder")
                raise wire.Rejected(wire.R_HEADER, f"undecodable ({type(exc).__name__})") from None
            self._admit(msg)
        except wire.Rejected as r:
            with self._lock:
                self._status.rejected[r.reason] += 1
                self._status.last_rejection = str(r)
            self._link_dirty = True
            log.debug("bridge: rejected a message (%s)", r)
            return
        self._peer, self._last_seen = peer, time.monotonic()
        with self._lock:
            self._status.received += 1
            self._status.session = msg.session
        self._ack["seq"] = msg.seq
        self._ack_due = True
        if msg.type == wire.EVENT and isinstance(msg.body.get("frame_id"), int):
            self._ack["frame_id"] = max(self._ack["frame_id"], msg.body["frame_id"])
        if msg.type in (wire.HEARTBEAT, wire.BYE) and isinstance(msg.body, dict) \
                and "stats" in msg.body:
            with self._lock:
                self._status.job = {k: msg.body.get(k) for k in ("info", "stats")}
        if msg.type == wire.BYE:
            self._peer = None              # nothing more to send to a job that has gone
            self._set_state(CLOSED)
            return
        if self._status.state != CONNECTED:
            self._set_state(CONNECTED)
        if self._on_message is not None and msg.type in (wire.EVENT, wire.REPLY):
            try:
                self._on_message(msg)
            except Exception:  # noqa: BLE001 - a consumer's bug must not end the link
                log.exception("bridge: on_message failed")

    def _admit(self, msg: wire.Message):
        """Sequence and session checks (the signature is already verified)."""
        current = self._status.session
        if current is not None and msg.session != current and self._status.state == CONNECTED:
            raise wire.Rejected(wire.R_SESSION, "another job is streaming to this listener")
        self._channel.check_sequence(msg)
        if msg.session != current:
            self._ack = {"seq": 0, "frame_id": -1}
            if current is not None:
                log.info("bridge: a new job session %s replaces %s", msg.session, current)

    def _send(self, mtype: str, body: dict) -> bool:
        if self._peer is None:
            return False
        frames, _ = self._channel.encode(mtype, body)
        return transport.send_nowait(self._sock, [self._peer, *frames])

    def _send_queued(self):
        while True:
            try:
                mtype, body = self._outbox.get_nowait()
            except queue.Empty:
                return
            if not self._send(mtype, body):
                log.info("bridge: could not send a %s (no job connected)", mtype)

    def _send_ack(self, now):
        self._send(wire.ACK, dict(self._ack))
        self._ack_due, self._last_ack = False, now

    def _check_pulse(self, now):
        if self._status.state == CONNECTED and now - self._last_seen > self.timeout:
            log.warning("bridge: no word from the job for %.1f s: lost", now - self._last_seen)
            self._set_state(LOST)

    def _set_state(self, state: str):
        with self._lock:
            self._status.state = state
        self._link_changed(time.monotonic())

    def _link_changed(self, now):
        self._link_dirty, self._last_link = False, now
        if self._on_link is not None:
            try:
                self._on_link(self.status)
            except Exception:  # noqa: BLE001
                log.exception("bridge: on_link failed")

    def __repr__(self):
        s = self.status
        return (f"Listener({self.address}, state={s.state!r}, received={s.received}, "
                f"rejected={s.rejected_total})")

