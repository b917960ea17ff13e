"""Plumbing shared by both engines and both widgets.

- ``Event`` / ``EventBus``: engines publish what happens; anyone may listen.
- ``Control``: pause / resume / stop flags an engine polls from its hot loop.
- ``Worker``: runs an engine on a daemon thread and keeps its exception for ``wait()``.
- ``FrameGate``: throttled, acknowledged, latest-wins delivery of frames to a front end.

Nothing here knows about t-SNE, VAEs or Jupyter.
"""
from __future__ import annotations

import collections
import logging
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any, Callable

from . import _openmp

log = logging.getLogger("vae_widgets")

#: failures kept in ``EventBus.listener_errors`` (the oldest are dropped)
MAX_LISTENER_ERRORS = 20


@dataclass
class Event:
    """One thing an engine reports: ``kind`` names it, ``data`` carries it."""

    kind: str
    data: dict = field(default_factory=dict)
    time: float = field(default_factory=time.perf_counter)


class EventBus:
    """Synchronous publish/subscribe. A failing listener never breaks the engine.

    A listener that raises is reported, not hidden: its traceback goes to the
    ``vae_widgets`` logger (a warning, once per listener and exception type; the
    repeats are counted in ``listener_failures``), the last ``MAX_LISTENER_ERRORS``
    tracebacks are kept in ``listener_errors``, and every callback registered with
    ``on_listener_error`` is told (a widget shows a notice).
    """

    def __init__(self):
        self._listeners: list[Callable[[Event], None]] = []
        self._error_handlers: list[Callable[[Callable, Event, BaseException], None]] = []
        self.listener_errors: collections.deque[str] = collections.deque(
            maxlen=MAX_LISTENER_ERRORS)
        self.listener_failures = 0
        self._logged: set[tuple[str, str]] = set()

    def subscribe(self, fn: Callable[[Event], None]) -> Callable[[], None]:
        self._listeners.append(fn)
        return lambda: self._listeners.remove(fn) if fn in self._listeners else None

    def on_listener_error(self, fn: Callable[[Callable, Event, BaseException], None]) -> None:
        """Call ``fn(listener, event, exception)`` whenever a listener raises."""
        if fn not in self._error_handlers:
            self._error_handlers.append(fn)

    def publish(self, kind: str, **data: Any) -> Event:
        event = Event(kind, data)
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception as exc:  # a view's bug must not kill the computation
                self._listener_failed(fn, event, exc)
        return event

    def _listener_failed(self, fn, event: Event, exc: Exception) -> None:
        self.listener_failures += 1
        tb = traceback.format_exc()
        self.listener_errors.append(tb)
        name = getattr(fn, "__qualname__", repr(fn))
        key = (name, type(exc).__name__)
        if key not in self._logged:   # a listener failing on every frame logs once
            self._logged.add(key)
            log.warning("listener %s failed on a %r event (the run goes on; repeats are "
                        "not logged):\n%s", name, event.kind, tb)
        for handler in list(self._error_handlers):
            try:
                handler(fn, event, exc)
            except Exception:  # noqa: BLE001 - reporting must never raise into the engine
                log.exception("the listener-error handler %r failed", handler)


class Stopped(Exception):
    """Raised inside an engine's loop when a stop was requested."""


class Control:
    """Pause/resume/stop requests, set from any thread, honoured by the engine loop."""

    def __init__(self):
        self._cv = threading.Condition()
        self._paused = False
        self._stop = False
        self._wake = False
        self._armed = False    # new_run() was called: begin() keeps a stop

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def pause(self):
        with self._cv:
            self._paused = True
            self._cv.notify_all()

    def resume(self):
        with self._cv:
            self._paused = False
            self._cv.notify_all()

    def stop(self):
        with self._cv:
            self._stop = True
            self._paused = False   # the next run must not start paused
            self._cv.notify_all()

    def clear_stop(self):
        """Forget an old stop request (a new run starts); a pause stays in force."""
        with self._cv:
            self._stop = False
            self._armed = False

    def new_run(self):
        """A run is about to start on another thread (called by whoever starts it, before
        the thread runs): forget an old stop now, and keep one asked for from here on.

        Without this the engine's own start (:meth:`begin`) would forget a Stop pressed
        in the moment between ``run()`` returning and the worker thread getting going."""
        with self._cv:
            self._stop = False
            self._armed = True

    def begin(self):
        """An engine's run starts: forget an old stop, unless :meth:`new_run` did so
        already (then a stop asked for since stands). A pause stays in force."""
        with self._cv:
            if not self._armed:
                self._stop = False
            self._armed = False

    def wake(self):
        """Wake a loop parked in ``wait_while_paused`` so it runs its ``serve`` callback."""
        with self._cv:
            self._wake = True
            self._cv.notify_all()

    def wait_while_paused(self, on_pause: Callable[[], None] | None = None,
                          on_resume: Callable[[], None] | None = None,
                          serve: Callable[[], None] | None = None) -> None:
        """Block while paused (a zero-cost pause); raise ``Stopped`` if a stop arrives.

        ``serve`` runs on the waiting thread whenever ``wake()`` is called during the
        pause (work that must happen on the engine's thread, such as a call queued
        by ``VAETrainer.run_between_steps``).
        """
        if self._stop:
            raise Stopped()
        if not self._paused:
            return
        if on_pause:
            on_pause()
        while True:
            with self._cv:
                self._cv.wait_for(lambda: not self._paused or self._stop or self._wake)
                woken, self._wake = self._wake, False
                if not self._paused or self._stop:
                    break
            if woken and serve is not None:
                serve()
        if self._stop:
            raise Stopped()
        if on_resume:
            on_resume()


class Worker:
    """Run ``target`` on a daemon thread; ``wait()`` joins and re-raises its error.

    Whether the work has ended is tracked by an event set when ``target`` returns,
    never by ``Thread.is_alive()``: on CPython 3.11 a ``join()`` interrupted by
    Ctrl-C (KeyboardInterrupt) releases the thread's state lock and marks a thread
    that still runs as stopped (then the interpreter exits under it and aborts).
    ``thread_class`` makes the thread (a host's own, e.g. ``marimo.Thread``).
    """

    def __init__(self, target: Callable[[], Any], name: str = "vae-widgets-worker",
                 thread_class: type[threading.Thread] = threading.Thread):
        self._target = target
        self.result: Any = None
        self.exception: BaseException | None = None
        self._started = False
        self._finished = threading.Event()
        self._thread = thread_class(target=self._run, name=name, daemon=True)

    def _run(self):
        try:
            self.result = self._target()
        except BaseException as exc:  # kept for wait(); the engine already reported it
            self.exception = exc
        finally:
            self._target = None      # drop what the work held (the engine, its data)
            try:
                _openmp.worker_finished()
            finally:
                self._finished.set()

    def start(self) -> "Worker":
        self._started = True
        # the caller's idle OpenMP teams would throttle the worker's (see _openmp)
        _openmp.worker_starting()
        self._thread.start()
        return self

    @property
    def thread(self) -> threading.Thread:
        return self._thread

    @property
    def alive(self) -> bool:
        """True from ``start()`` until the target has returned (or raised)."""
        return self._started and not self._finished.is_set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the end without raising the work's error; True when it ended.
        Safe to interrupt (an ``Event`` wait, not ``Thread.join``)."""
        return self._finished.wait(timeout)

    def wait(self, timeout: float | None = None):
        _openmp.release_teams()     # the waiting thread computes nothing meanwhile
        if not self._finished.wait(timeout):
            raise TimeoutError(f"still running after {timeout} s")
        if self.exception is not None:
            raise self.exception
        return self.result


class FrameGate:
    """Latest-wins, acknowledged delivery of frames.

    ``offer(frame)`` never blocks: the frame is sent if at least ``interval``
    seconds passed since the last send and fewer than ``window`` frames await an
    acknowledgement; otherwise it replaces the pending one. ``flush()`` sends the
    pending frame regardless (used at pauses and at the end). With no front end
    attached nothing ever acks: frames stop flowing once the window is full, and
    unacknowledged frames older than ``ack_timeout`` are written off so a view
    that appears later starts receiving again. ``unacked`` counts the frames
    written off since the last acknowledgement (a view that never acks: a host
    that drops messages sent from threads, a closed page).
    """

    def __init__(self, send: Callable[[int, Any], None], interval: float = 0.1,
                 window: int = 3, ack_timeout: float = 2.0, clock=time.monotonic):
        self._send = send
        self.interval = interval
        self.window = window
        self.ack_timeout = ack_timeout
        self._clock = clock
        self._lock = threading.RLock()  # an ack may arrive from inside send()
        self._pending: Any = None
        self._in_flight: dict[int, float] = {}
        self._next_id = 0
        self._last_send = -float("inf")
        self.sent = 0
        self.replaced = 0
        self.unacked = 0

    def offer(self, frame: Any) -> bool:
        with self._lock:
            if self._pending is not None:
                self.replaced += 1
            self._pending = frame
            return self._maybe_send(force=False)

    def flush(self) -> bool:
        with self._lock:
            return self._maybe_send(force=True)

    def ack(self, frame_id: int) -> None:
        with self._lock:
            for fid in [f for f in self._in_flight if f <= frame_id]:
                del self._in_flight[fid]
            self.unacked = 0
            # an ack frees a slot: a frame held back by the window may go now
            self._maybe_send(force=False)

    def reset(self) -> None:
        """Forget frames in flight (a new view said hello)."""
        with self._lock:
            self._in_flight.clear()

    @property
    def in_flight(self) -> int:
        return len(self._in_flight)

    @property
    def holding(self) -> bool:
        """A frame waits (for the interval or for acknowledgements)."""
        return self._pending is not None

    def _maybe_send(self, force: bool) -> bool:
        if self._pending is None:
            return False
        now = self._clock()
        for fid, t in list(self._in_flight.items()):
            if now - t > self.ack_timeout:
                del self._in_flight[fid]
                self.unacked += 1
        if not force and (now - self._last_send < self.interval
                          or len(self._in_flight) >= self.window):
            return False
        frame, self._pending = self._pending, None
        fid = self._next_id
        self._next_id += 1
        self._in_flight[fid] = now
        self._last_send = now
        self.sent += 1
        self._send(fid, frame)
        return True
