"""What every widget shares: the bundled front end, the worker thread (listed in
``vae_widgets.running()`` while it runs), commands from the front end, frame delivery,
and the end of it all (close, Ctrl-C, interpreter exit)."""
from __future__ import annotations

import atexit
import logging
import sys
import threading
import uuid
import weakref
from typing import Any, Callable

import anywidget
import numpy as np
import traitlets

from .. import _openmp, _runs
from .. import _schema as S
from .._stream import FrameGate, Worker
from ._frames import send_frame
from ._front_ends import FrontEnds

log = logging.getLogger("vae_widgets")

_LIVE_WIDGETS: "weakref.WeakSet[StreamWidget]" = weakref.WeakSet()
#: seconds close() (and the interpreter's exit) waits for a stopped worker to end
CLOSE_WAIT = 10.0


@atexit.register
def _stop_all_workers():
    """A worker still inside a C extension when Python exits can abort the process."""
    for w in list(_LIVE_WIDGETS):
        worker = getattr(w, "_worker", None)
        if worker is not None and worker.alive:
            try:
                w._engine.control.stop()
                worker.join(2.0)
            except BaseException:  # noqa: BLE001 - exiting anyway
                pass


def _front_end_route(data, subshell_id):
    return subshell_id


def host_thread_class() -> type[threading.Thread]:
    """The thread class the host needs for messages sent from a worker to reach the page.

    In a marimo notebook that is ``marimo.Thread``: marimo <= 0.23.13 drops comm
    messages sent from a plain ``threading.Thread`` (no runtime context on it), and
    a ``mo.Thread`` carries the context of the cell that started it. Elsewhere
    (Jupyter, VS Code, Colab, scripts) a plain thread.
    """
    mo = sys.modules.get("marimo")
    if mo is not None:
        try:
            if mo.running_in_notebook():
                return mo.Thread
        except Exception:  # noqa: BLE001 - an old or partial marimo: fall back
            pass
    return threading.Thread


#: what Solara does (1.64): it runs an app's module once at start-up, in a context of its
#: own, and closes that context's widgets; a page's widgets close when its session ends
_SOLARA = ("Solara", "Solara runs the app's module once at start-up and then closes the widgets "
                     "it made, so a widget made at module level is closed before any page shows "
                     "it (and a page's widgets close when its session ends). In Solara, make the "
                     "widget inside the component with solara.use_memo(...), e.g. "
                     "w = solara.use_memo(lambda: TSNEWidget(X), [])")
#: hosts that close widgets themselves, by the module their code runs in, and what to do
_HOSTS = {
    "solara": _SOLARA,
    "reacton": _SOLARA,
    "voila": ("Voilà", "Voilà closes a page's widgets when the page is closed: reload the page"),
    "panel": ("Panel", "Panel closes a session's widgets when the session ends: make the widget "
                       "in the function that builds the page"),
    "shiny": ("Shiny", "Shiny closes a session's widgets when the session ends: make the widget "
                       "inside the @render_widget function"),
}


def _closing_host() -> str:
    """The host whose code is closing a widget now (a key of _HOSTS), or ""."""
    frame = sys._getframe(2)
    while frame is not None:
        top = str(frame.f_globals.get("__name__", "")).split(".", 1)[0]
        if top in _HOSTS:
            return top
        frame = frame.f_back
    return ""


def closed_message(kind: str, host: str) -> str:
    if host in _HOSTS:
        name, what = _HOSTS[host]
        return f"this {kind} was closed by {name}, not by your code. {what}."
    return f"this {kind} was closed (close() was called); make a new one to run again."


class BundledWidget(FrontEnds, anywidget.AnyWidget):
    """An anywidget whose ``_esm`` / ``_css`` are files of the bundle, held as text.

    Given a ``pathlib.Path``, anywidget keeps a class-level ``FileContents`` and
    connects every instance to its ``changed`` signal with a closure over the
    instance, so no widget (with its data, affinities, frames, model) is ever freed.
    Here the class keeps the file's text instead. Hot reload for developers stays
    available: with ``ANYWIDGET_HMR=1`` (and a source checkout) the files are
    watched and each instance listens through a weak reference.
    """

    _hot_files: dict = {}

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)   # anywidget: Path -> FileContents
        hot = dict(getattr(cls, "_hot_files", {}))
        for key in ("_esm", "_css"):
            value = cls.__dict__.get(key)
            if value is None or isinstance(value, str) or not hasattr(value, "changed"):
                continue
            if getattr(value, "_background_thread", None) is not None:
                hot[key] = value            # watched (ANYWIDGET_HMR=1): keep for reloads
            setattr(cls, key, str(value))   # the text; nothing per instance is connected
        cls._hot_files = hot

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for key, contents in self._hot_files.items():
            # a bound method: psygnal holds it weakly, so the widget can still be freed
            contents.changed.connect(self._reload_esm if key == "_esm" else self._reload_css)

    def _reload_esm(self, text: str):
        self._esm = text

    def _reload_css(self, text: str):
        self._css = text

    def _check_open(self) -> None:
        """Raise the closed widget's error (what happened, what to do) once it is closed."""
        if self.comm is None or getattr(self, "_closed", False):
            raise RuntimeError(closed_message(type(self).__name__,
                                              getattr(self, "_closed_by", "")))


class StreamWidget(BundledWidget):
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
        self._closed = False
        self._closed_by = ""     # the host that closed it ("" : the user's code)
        self._sync_lock = threading.RLock()  # worker thread and kernel thread both set traits
        self._gate = FrameGate(self._send_frame, interval=0.0, window=self.frame_window)
        self._latest_frame: tuple[dict, np.ndarray] | None = None
        #: bytes of positions sent to the page in frames (``widgets/_frames.py``)
        self.frame_bytes = 0
        self._view_said_hello = False
        self._unacked_notice = ""
        self._watched_buses: list = []
        self.on_msg(self._on_custom_msg)

    # ------------------------------------------------------------ lifecycle
    @property
    def running(self) -> bool:
        return self._worker is not None and self._worker.alive

    def _start_worker(self, target: Callable[[], Any], name: str) -> None:
        if self._closed:
            raise RuntimeError(closed_message(type(self).__name__, self._closed_by))
        if self.running:
            self.notice = "Already running: pause or stop it first."
            return
        notice = self._other_runs_notice()
        self._set_traits(error="", notice=notice)     # one update (the old notice goes)
        if notice:
            log.info("%s: %s", type(self).__name__, notice)
        self._watch_listener_errors()
        # a Stop from the moment run() returns on must stand (the engine's start forgets
        # only the stops from before); a sweep's control did this for each of its runs
        new_run = getattr(self._engine.control, "new_run", None)
        if new_run is not None:
            new_run()
        self._worker = Worker(target, name=name, thread_class=host_thread_class()).start()
        _LIVE_WIDGETS.add(self)
        _runs.register(self, self._worker)

    def _other_runs_notice(self) -> str:
        """Other runs going on in this kernel (not paused) share the CPU with this one:
        name them and say how to stop them ("" when there are none)."""
        others = _runs._others(self)
        if not others:
            return ""
        n = len(others)
        one = n == 1
        return (f"{n} other run{'' if one else 's'} {'is' if one else 'are'} still going "
                f"and share{'s' if one else ''} the CPU with this one: "
                f"{_runs._names(others)}. Stop {'it' if one else 'them'} with "
                f"{'its' if one else 'their'} Stop button, or in Python with "
                f"vae_widgets.stop_all(keep=<this widget>); vae_widgets.running() "
                f"lists every run.")

    # what vae_widgets.running() shows of this widget's run (see vae_widgets._runs)
    def _run_summary(self) -> dict:
        return {"status": self.status, "progress": self._run_progress(),
                "description": self._run_description()}

    def _run_progress(self) -> str:
        return ""

    def _run_description(self) -> str:
        return (getattr(self, "info", "") or "").split(" · ")[0]

    def wait(self, timeout: float | None = None):
        """Block until the background work ends; re-raise its error, if any.

        Ctrl-C (the kernel's interrupt) while waiting stops the work, waits for it to
        end (a second Ctrl-C stops waiting; the work still ends on its own) and
        re-raises ``KeyboardInterrupt``.
        """
        if self._worker is None:
            return None
        try:
            return self._worker.wait(timeout)
        except KeyboardInterrupt:
            self._stop_and_join()
            raise

    def pause(self):
        self._engine.control.pause()

    def resume(self):
        self._engine.control.resume()

    def stop(self):
        """Ask the work to stop; it ends within one iteration (see ``wait()``)."""
        self._engine.control.stop()

    def close(self):
        """Stop the work, wait for its thread to end, and close the widget.

        Every view of the widget disappears; the widget no longer runs. Once nothing
        else refers to it, the widget and its data are freed.
        """
        if hasattr(self, "_closed"):      # not when __init__ failed half-way (then __del__)
            if not self._closed:
                self._closed_by = _closing_host()
            self._closed = True
            _runs.unregister(self)
            self._stop_and_join()
            self._latest_frame = None
        super().close()

    def _stop_and_join(self) -> None:
        worker = self._worker
        if worker is None or not worker.alive:
            return
        self._engine.control.stop()
        if threading.current_thread() is not worker.thread:   # never wait for ourselves
            if not worker.join(CLOSE_WAIT):
                log.warning("%s: the stopped worker is still busy after %.0f s; it ends "
                            "on its own", type(self).__name__, CLOSE_WAIT)

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

    def _on_hello(self):
        """A view said hello (a new view, a reloaded page): send what it needs now."""

    def _on_custom_msg(self, _widget, content, _buffers):
        """Messages from the page. A malformed one is logged and ignored: it never raises
        into the kernel (a page cannot break the kernel's message loop)."""
        try:
            if not isinstance(content, dict):
                raise ValueError("a message must be an object with a 'type'")
            kind = content.get("type")
            if kind == S.ACK:
                fid = content.get("id")
                if isinstance(fid, bool) or not isinstance(fid, int):
                    raise ValueError(f"ack: id must be a frame number, got {fid!r:.40}")
                self._gate.ack(fid)
                if self._unacked_notice and self.notice == self._unacked_notice:
                    self._unacked_notice = ""
                    self._set_traits(notice="")
            elif kind == S.HELLO:
                self._view_said_hello = True
                self._gate.reset()
                if self._latest_frame is not None:
                    self._gate.offer(self._latest_frame)
                    self._gate.flush()
                self._on_hello()
            elif kind == S.COMMAND:
                params = content.get("params") or {}
                if not isinstance(params, dict):
                    raise ValueError(f"command: params must be an object, got {params!r:.40}")
                self._on_command(content.get("action"), params)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            log.warning("%s ignored a malformed message from the page %r: %s",
                        type(self).__name__, content if len(repr(content)) < 200 else
                        repr(content)[:200] + "...", exc)

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
        except (ValueError, TypeError, RuntimeError) as exc:
            self.notice = str(exc)

    # ------------------------------------------------------------ errors nobody would see
    def _event_buses(self) -> list:
        """The engines' event buses this widget listens to."""
        engines = [self._engine] + list(getattr(self, "runners", None) or [])
        return [e.events for e in engines if getattr(e, "events", None) is not None]

    def _watch_listener_errors(self) -> None:
        for bus in self._event_buses():
            if not any(b is bus for b in self._watched_buses):
                bus.on_listener_error(self._on_listener_error)
                self._watched_buses.append(bus)

    def _on_listener_error(self, listener, event, exc) -> None:
        """A handler of this widget failed on an engine event: say so in the widget."""
        msg = (f"A handler failed on a {event.kind!r} event ({type(exc).__name__}: "
               f"{str(exc)[:160]}); the run goes on. Details in the log (logger "
               f"'vae_widgets').")
        if self.notice != msg:
            self._set_traits(notice=msg)

    # ------------------------------------------------------------ a job in another process
    _remote = None       # listen() / lightning_callback(): the job's stand-in

    def _show_link(self, remote) -> None:
        """Show the link news of ``remote`` (a job's stand-in, see ``bridge/link_news.py``) in
        this widget. The stand-in holds the widget only weakly, so a widget freed without
        ``close()`` still closes its listener."""
        self._remote = remote
        method = weakref.WeakMethod(self._on_link_news)

        def deliver(event):
            handler = method()
            if handler is not None and handler.__self__._remote is remote:   # not one let go
                handler(event)
        remote.link.events.subscribe(deliver)
        weakref.finalize(self, remote.run.close)
        if remote.described:                   # described before it was shown here
            self._on_job_described()

    def _let_go(self, remote) -> None:
        """Stop showing ``remote``'s link news (its closing, next, is no news here)."""
        if self._remote is remote:
            self._remote = None

    def _on_link_news(self, e) -> None:
        message = e.data.get("message")
        if e.kind == "connected":
            if self.status == S.ERROR and not self._remote.mismatch:
                self._set_traits(error="", status=S.IDLE)
        elif e.kind == "back":
            self._set_traits(error="", status=self._remote.state)
        elif e.kind == "lost":
            self._set_traits(status=S.ERROR, error=message)
        elif e.kind == "closed":
            if self.status in self._remote.ACTIVE:    # (t-SNE: preparing, affinities too)
                self._set_traits(status=S.STOPPED, notice=message)
        elif e.kind == "refused":
            self._set_traits(notice=message)
        elif e.kind == "described":
            self._on_job_described()

    def _on_job_described(self) -> None:
        """The job said what it runs (its ``describe`` event): a widget shows it."""

    # ------------------------------------------------------------ kernel -> front end
    def _offer_frame(self, meta: dict, array: np.ndarray, key: bool = False):
        """Hand a frame to the gate: throttled, latest-wins; key frames always go out."""
        frame = (meta, array)
        self._latest_frame = frame
        self._gate.offer(frame)
        if key:
            self._gate.flush()
        if (self._view_said_hello and not self._unacked_notice
                and self._gate.unacked >= self.frame_window):
            self._warn_unacked()

    def _warn_unacked(self):
        """A view said hello but acknowledges no frame: its host drops what we send."""
        self._unacked_notice = (
            "The page has acknowledged no frame for a while: the view may be closed, or "
            "the host drops messages sent from a background thread (marimo <= 0.23.13 "
            "does; upgrade it). The run goes on in the kernel.")
        log.warning("%s: %s", type(self).__name__, self._unacked_notice)
        self._set_traits(notice=self._unacked_notice)

    def _send_frame(self, frame_id: int, frame):
        meta, array = frame
        self.frame_bytes += send_frame(self, frame_id, meta, array)
