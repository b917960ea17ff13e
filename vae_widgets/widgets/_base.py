"""What both widgets share: the worker thread, commands from the front end, frame delivery."""
from __future__ import annotations

import atexit
import threading
import uuid
import weakref
from typing import Any, Callable

import anywidget
import numpy as np
import traitlets

from .. import _openmp
from .. import _schema as S
from .._stream import FrameGate, Worker


_LIVE_WIDGETS: "weakref.WeakSet[StreamWidget]" = weakref.WeakSet()


@atexit.register
def _stop_all_workers():
    """A worker still inside a C extension when Python exits can abort the process."""
    for w in list(_LIVE_WIDGETS):
        if w.running:
            w.stop()
            try:
                w.wait(2.0)
            except BaseException:
                pass


def _front_end_route(data, subshell_id):
    return subshell_id


class StreamWidget(anywidget.AnyWidget):
    """An anywidget that runs an engine on a background thread and streams it.

    Subclasses implement ``_start()`` (create the worker target) and
    ``_engine`` (with pause/resume/stop/set_params), and map engine events to traits.
    """

    _uid = traitlets.Unicode("").tag(sync=True)
    status = traitlets.Unicode(S.IDLE).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    notice = traitlets.Unicode("").tag(sync=True)

    #: how many frames may await an acknowledgement before newer ones are held back
    frame_window = 3

    def __init__(self, **kwargs):
        super().__init__(_uid=uuid.uuid4().hex, **kwargs)
        # JupyterLab >= 4.4 sends widget messages on a kernel subshell of their own, handled
        # on that subshell's thread even while a cell runs: Pause and Stop reach a loop that
        # keeps the main shell busy. ipykernel 7.4 would re-route a comm's messages to the
        # shell that last sent on it (the busy main shell: our views are fed from cells and
        # workers); keep the front end's choice.
        if hasattr(self.comm, "_reply_subshell_for"):
            self.comm._reply_subshell_for = _front_end_route
        self._worker: Worker | None = None
        self._sync_lock = threading.RLock()  # worker thread and kernel thread both set traits
        self._gate = FrameGate(self._send_frame, interval=0.0, window=self.frame_window)
        self._latest_frame: tuple[dict, np.ndarray] | None = None
        self.on_msg(self._on_custom_msg)

    # ------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.alive

    def _start_worker(self, target: Callable[[], Any], name: str) -> None:
        if self.running:
            self.notice = "Already running: pause or stop it first."
            return
        self.error = ""
        self.notice = ""
        self._worker = Worker(target, name=name).start()
        _LIVE_WIDGETS.add(self)

    def wait(self, timeout: float | None = None):
        """Block until the background work ends; re-raise its error, if any."""
        if self._worker is None:
            return None
        return self._worker.wait(timeout)

    def pause(self):
        self._engine.control.pause()

    def resume(self):
        self._engine.control.resume()

    def stop(self):
        """Ask the work to stop; it ends within one iteration (see ``wait()``)."""
        self._engine.control.stop()

    # ------------------------------------------------------------ export
    def to_bokeh(self, **kwargs):
        """The current state as a Bokeh layout (for Bokeh or Panel apps).

        See :func:`vae_widgets.export.to_bokeh` for the keyword arguments. What does
        not exist yet (no run) is shown as a note in the layout.
        """
        from ..export import to_bokeh

        return to_bokeh(self, **kwargs)

    def save_html(self, path, **kwargs):
        """Write the current state to ONE self-contained HTML file that opens offline.

        See :func:`vae_widgets.export.save_html`; returns the path written.
        """
        from ..export import save_html

        return save_html(self, path, **kwargs)

    def _set_traits(self, **values):
        with self._sync_lock, self.hold_sync():
            for k, v in values.items():
                setattr(self, k, v)

    # ------------------------------------------------------------ front end -> kernel
    def _handle_msg(self, msg):
        try:
            super()._handle_msg(msg)
        finally:
            _openmp.after_message()    # (see vae_widgets._openmp)

    def _on_custom_msg(self, _widget, content: dict, _buffers):
        kind = content.get("type")
        if kind == S.ACK:
            self._gate.ack(int(content.get("id", -1)))
        elif kind == S.HELLO:
            self._gate.reset()
            if self._latest_frame is not None:
                self._gate.offer(self._latest_frame)
                self._gate.flush()
        elif kind == S.COMMAND:
            self._on_command(content.get("action"), content.get("params") or {})

    def _on_command(self, action: str, params: dict):
        try:
            if action == "run":
                self.run()
            elif action in ("pause", "resume", "stop"):
                getattr(self, action)()
            elif action == "set":
                self.set_params(**params)
            else:
                self.notice = f"Unknown command {action!r}."
        except (ValueError, TypeError) as exc:
            self.notice = str(exc)

    # ------------------------------------------------------------ kernel -> front end
    def _offer_frame(self, meta: dict, array: np.ndarray, key: bool = False):
        """Hand a frame to the gate: throttled, latest-wins; key frames always go out."""
        frame = (meta, array)
        self._latest_frame = frame
        self._gate.offer(frame)
        if key:
            self._gate.flush()

    def _send_frame(self, frame_id: int, frame):
        meta, array = frame
        buf = memoryview(np.ascontiguousarray(array, dtype="<f4").reshape(-1)).cast("B")
        self.send({"type": S.FRAME, "id": frame_id, **meta}, buffers=[buf])
