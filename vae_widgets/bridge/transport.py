"""The sockets under the bridge: ZeroMQ (pyzmq), set up the same way everywhere.

Why ZeroMQ: pyzmq already ships with every Jupyter kernel (ipykernel talks to
JupyterLab through it), so the notebook side needs nothing new; it gives message
framing (a message is a list of byte frames: our header and raw buffers travel
without copies into one stream), automatic reconnection when the job starts before
the notebook listens or the network blips, non-blocking sends with a bounded queue
(``SNDHWM``), and a per-frame size cap enforced before allocation (``MAXMSGSIZE``).
It adds no authentication of its own here (CURVE would need key files on both
ends); every message is HMAC-signed by :mod:`.wire` instead, as Jupyter does.
Traffic is signed, not encrypted: across machines, tunnel it (``ssh -L``) when the
data is private.

Shape: the notebook *binds* a ROUTER socket (it can answer whichever peer sent a
valid message, and refuses to queue to a peer that is gone: ``ROUTER_MANDATORY``);
the job *connects* a DEALER. The job never blocks on a send: ``IMMEDIATE`` keeps
messages off a connection that is not up, ``SNDHWM`` caps the queue, and a full
queue raises ``zmq.Again``, which the caller counts as a drop.
"""
from __future__ import annotations

import ipaddress
import re

import zmq

from .wire import Limits

#: messages queued per peer before sends are refused (the bridge's own flow control keeps
#: far fewer in flight; this is the last bound)
HWM = 1000
LOOPBACK = "127.0.0.1"
#: seconds between heartbeats, each way
HEARTBEAT_S = 1.0
#: seconds of silence after which the other side counts as lost
TIMEOUT_S = 4.0
_ADDRESS = re.compile(r"^tcp://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$")


def check_address(address) -> str:
    """``tcp://host:port`` or raise ValueError/TypeError saying what is expected."""
    if not isinstance(address, str):
        raise TypeError(f"address must be a string like 'tcp://127.0.0.1:5555' (what the "
                        f"listener printed), got {type(address).__name__}.")
    m = _ADDRESS.match(address.strip())
    if not m or not 0 < int(m.group(2)) < 65536:
        raise ValueError(f"address {address!r} is not 'tcp://host:port'; pass what the "
                         f"listener printed, e.g. 'tcp://127.0.0.1:5555'.")
    return address.strip()


def check_timing(heartbeat, timeout, who: str) -> tuple[float, float]:
    """Positive ``heartbeat`` and a longer ``timeout``, or ValueError naming them."""
    for name, v in (("heartbeat", heartbeat), ("timeout", timeout)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ValueError(f"{who}: {name} must be a positive number of seconds, got {v!r}.")
    if timeout <= heartbeat:
        raise ValueError(f"{who}: timeout ({timeout} s) must be longer than heartbeat "
                         f"({heartbeat} s), or every pause in traffic reads as a lost peer.")
    return float(heartbeat), float(timeout)


def check_bind_host(host) -> str:
    """An interface to bind: an IP address, ``"localhost"``, or ``"*"`` (every interface)."""
    if not isinstance(host, str) or not host:
        raise TypeError(f"host must be a string (default '127.0.0.1'), got {host!r}.")
    if host == "localhost":
        return LOOPBACK
    if host == "*":
        return host
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"host {host!r} is not an IP address; pass '127.0.0.1' (this machine "
                         f"only, the default), an interface's address, or '*' for every "
                         f"interface.") from None
    return host


def url_host(host: str) -> str:
    """``host`` as it goes in a ``tcp://`` address (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host else host


def is_loopback(host: str) -> bool:
    return host != "*" and ipaddress.ip_address(host).is_loopback


def bind_listener(ctx: zmq.Context, host: str, port: int,
                  limits: Limits) -> tuple[zmq.Socket, str]:
    """A bound ROUTER socket and its ``tcp://host:port`` (``port=0``: a free one)."""
    if type(port) is not int or not 0 <= port < 65536:
        raise ValueError(f"port must be an int in 0..65535 (0: any free port), got {port!r}.")
    sock = ctx.socket(zmq.ROUTER)
    if ":" in host or host == "*":          # an IPv6 interface, or every one (both stacks)
        sock.setsockopt(zmq.IPV6, 1)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
    sock.setsockopt(zmq.SNDHWM, HWM)
    sock.setsockopt(zmq.RCVHWM, HWM)
    sock.setsockopt(zmq.MAXMSGSIZE, limits.hard_frame_bytes)
    ip = url_host(host)
    try:
        if port == 0:
            sock.bind(f"tcp://{ip}:*")
        else:
            sock.bind(f"tcp://{ip}:{port}")
    except zmq.ZMQError as exc:
        sock.close(0)
        raise OSError(f"cannot listen on {host}:{port}: {exc}; pick another port "
                      f"(port=0 takes a free one).") from None
    endpoint = sock.getsockopt_string(zmq.LAST_ENDPOINT)
    return sock, endpoint


def connect_job(ctx: zmq.Context, address: str) -> zmq.Socket:
    """A DEALER connected (in the background, retrying) to a listener's address."""
    sock = ctx.socket(zmq.DEALER)
    sock.setsockopt(zmq.IPV6, 1)            # connect to IPv6 addresses too
    sock.setsockopt(zmq.LINGER, 500)        # a closing job tries to deliver "bye" briefly
    sock.setsockopt(zmq.IMMEDIATE, 1)
    sock.setsockopt(zmq.SNDHWM, HWM)
    sock.setsockopt(zmq.RCVHWM, HWM)
    sock.setsockopt(zmq.RECONNECT_IVL, 200)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, 2000)
    sock.connect(address)
    return sock


def send_nowait(sock: zmq.Socket, frames: list) -> bool:
    """Send without blocking; False when the message had to be dropped."""
    try:
        sock.send_multipart(frames, flags=zmq.NOBLOCK, copy=False)
        return True
    except zmq.Again:
        return False
    except zmq.ZMQError as exc:            # ROUTER_MANDATORY: that peer is gone
        if exc.errno == zmq.EHOSTUNREACH:
            return False
        raise
