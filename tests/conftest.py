"""Shared fixtures. ``FakeComm`` stands in for the kernel's comm: it records what a
widget sends and lets a test deliver what a front end would send."""
import comm
import numpy as np
import pytest


class FakeComm:
    def __init__(self, **kwargs):
        self.comm_id = kwargs.get("comm_id") or "fake"
        self.kernel = "fake-kernel"   # ipywidgets sends only when a kernel is attached
        self.sent = []          # (data, buffers) in order

    def send(self, data=None, metadata=None, buffers=None):
        self.sent.append((data, buffers or []))

    def open(self, *a, **k):
        pass

    def close(self, *a, **k):
        pass

    def on_msg(self, callback):
        self._on_msg = callback

    def on_close(self, callback):
        pass

    # helpers for tests
    def custom(self, msg_type=None):
        out = [(d["content"], b) for d, b in self.sent if d.get("method") == "custom"]
        return [m for m in out if msg_type is None or m[0].get("type") == msg_type]

    def states(self):
        return [d["state"] for d, _ in self.sent if d.get("method") == "update"]


@pytest.fixture(autouse=True)
def _no_run_outlives_its_test():
    """A run a test leaves going would share the CPU with the next tests and be named in
    their notices ("1 other run is still going ..."): stop it when its test ends."""
    yield
    from vae_widgets import stop_all
    stop_all(timeout=30)


@pytest.fixture
def fake_comm(monkeypatch):
    created = []

    def create_comm(**kwargs):
        c = FakeComm(**kwargs)
        created.append(c)
        return c

    monkeypatch.setattr(comm, "create_comm", create_comm)
    return created


def front_end_says(widget, content):
    """Deliver a custom message as the front end would (through ipywidgets' handler)."""
    widget._handle_msg({"content": {"data": {"method": "custom", "content": content}},
                        "buffers": []})


@pytest.fixture(scope="session")
def small_data():
    from vae_widgets.datasets import blobs
    return blobs(n=400, dims=10, clusters=4, seed=3)
