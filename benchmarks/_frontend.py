"""A stand-in for a Jupyter front end, for benchmarks that time what a notebook user runs.

``use_fake_front_end()`` makes every widget created afterwards talk to a ``FrontEndComm``
instead of a kernel comm. It does what the kernel and the browser do with each message,
minus the network: the kernel serialises the content to JSON (``json.dumps``, as
``jupyter_client`` does) and copies the buffers out; the "browser" acknowledges every
frame on a separate thread after ``ack_delay`` seconds, as the views do once a frame is
drawn, and the acknowledgement reaches the widget through its own message handler (in a
kernel that is the main thread; here a "kernel" thread, since the benchmark's main
thread waits in ``wait()``).
"""
from __future__ import annotations

import json
import queue
import threading
import time

import comm


class FrontEndComm:
    def __init__(self, ack_delay: float = 0.0, **kwargs):
        self.comm_id = kwargs.get("comm_id") or "bench"
        self.kernel = "bench-kernel"     # ipywidgets sends only when a kernel is attached
        self.ack_delay = ack_delay
        self.messages = 0
        self.bytes = 0
        self.frames = 0
        self._handler = None
        self._acks: "queue.Queue" = queue.Queue()
        self._thread = threading.Thread(target=self._kernel_loop, daemon=True)
        self._thread.start()

    # --- what a kernel comm offers ---------------------------------------------------------
    def send(self, data=None, metadata=None, buffers=None):
        text = json.dumps(data, default=str)
        self.messages += 1
        self.bytes += len(text) + sum(memoryview(b).nbytes for b in buffers or [])
        for b in buffers or []:
            bytes(memoryview(b))           # zmq copies the buffers out
        content = (data or {}).get("content") or {}
        if data and data.get("method") == "custom" and content.get("type") == "frame":
            self.frames += 1
            self._acks.put((time.monotonic() + self.ack_delay, content["id"]))

    def open(self, *a, **k):
        pass

    def close(self, *a, **k):
        self._acks.put(None)
        self._handler = None      # as a kernel comm unregisters: the widget is not kept

    def on_msg(self, callback):
        self._handler = callback

    def on_close(self, callback):
        pass

    # --- the browser's acknowledgements, handled as the kernel would ------------------------
    def _kernel_loop(self):
        while True:
            item = self._acks.get()
            if item is None:
                return
            due, fid = item
            time.sleep(max(0.0, due - time.monotonic()))
            if self._handler is not None:
                self._handler({"content": {"data": {"method": "custom",
                                                    "content": {"type": "ack", "id": fid}}},
                               "buffers": []})


_ORIGINAL = comm.create_comm


def use_fake_front_end(ack_delay: float = 0.0) -> list:
    """Route the comms of widgets created from now on to ``FrontEndComm``s; returns the
    list they are appended to."""
    made = []

    def create_comm(**kwargs):
        c = FrontEndComm(ack_delay=ack_delay, **kwargs)
        made.append(c)
        return c

    comm.create_comm = create_comm
    return made


def no_front_end() -> None:
    """Widgets created from now on have no front end, as in a script (the comm package's
    default comm: nothing is sent, nothing acks)."""
    comm.create_comm = _ORIGINAL
