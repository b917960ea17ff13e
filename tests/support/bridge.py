"""Helpers shared by the bridge tests (this module holds no tests itself).

``Engine`` is the smallest real engine: a real EventBus and Control, and a
``set_params`` that validates like the real ones (raises ValueError on a bad value).
``RawPeer`` is a plain ZeroMQ DEALER that sends whatever frames a test builds: the
attacker in the security tests, a hand-driven job elsewhere.
"""
from __future__ import annotations

import contextlib
import time

import zmq

from vae_widgets._stream import Control, EventBus
from vae_widgets.bridge import listen, stream_to, wire


class Engine:
    def __init__(self):
        self.events = EventBus()
        self.control = Control()
        self.params = {"exaggeration": 1.0}

    def set_params(self, **changes):
        for k, v in changes.items():
            if k not in self.params:
                raise TypeError(f"unknown parameter {k!r}")
            if not isinstance(v, (int, float)) or v <= 0:
                raise ValueError(f"{k} must be a positive number, got {v!r}.")
        self.params.update(changes)
        return {"live": dict(changes), "next_run": {}}


def wait_until(predicate, timeout=10.0, every=0.01):
    """Poll ``predicate`` until true; returns the seconds it took or fails the test."""
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)
    return time.monotonic() - t0


class Recorder:
    """Subscribes to a bus and keeps (kind, data) in order, and when each was published."""

    def __init__(self, bus):
        self.items, self.times = [], []
        bus.subscribe(self._add)

    def _add(self, e):
        self.times.append(e.time)
        self.items.append((e.kind, e.data))

    def of(self, kind):
        return [d for k, d in self.items if k == kind]

    def kinds(self):
        return [k for k, _ in self.items]


@contextlib.contextmanager
def linked(engine=None, listen_kw=None, **link_kw):
    """A listening RemoteRun and a JobLink streaming ``engine`` to it, connected."""
    engine = engine or Engine()
    run = listen(quiet=True, **(listen_kw or {}))
    link = None
    try:
        link = stream_to(engine, run.address, run.token, **link_kw)
        assert link.wait_connected(10) and run.wait_connected(10)
        yield run, link, engine
    finally:
        if link is not None:
            link.close()
        run.close()


class RawPeer:
    """A bare DEALER connected to ``address``: sends any frames, reads what comes back."""

    def __init__(self, address):
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.DEALER)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(address)

    def send(self, frames):
        self.sock.send_multipart([bytes(f) for f in frames])

    def recv_all(self, wait=0.3):
        out, end = [], time.monotonic() + wait
        while time.monotonic() < end:
            if self.sock.poll(20):
                out.append(self.sock.recv_multipart())
        return out

    def close(self):
        self.sock.close(0)
        self.ctx.term()


def event_frames(signer, kind="notice", **data):
    frames, _ = signer.encode(wire.EVENT, {"kind": kind, "data": data})
    return [bytes(f) for f in frames]
