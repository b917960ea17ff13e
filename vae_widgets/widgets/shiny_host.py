"""The widgets in Shiny for Python, shown by shinywidgets' ``@render_widget``.

shinywidgets gives each widget a ``ShinyComm`` whose ``send()`` (shinywidgets 0.8)

- needs the Shiny session of the *current context* (a context variable): on the
  widget's worker thread there is none, and it raises "Cannot send an ipywidget
  messages to the client outside of a Shiny session context";
- and even with one, only queues the message for the session's next reactive flush
  (``session.on_flushed``), which Shiny runs after a message *from the page*; its
  callbacks are not guarded for other threads either.

So a widget's sends from its worker (status, frames, KL, metric rows, image grids) never
reached the page. Here, a widget that finds itself made under shinywidgets (its comm is
shinywidgets', set while the ``@render_widget`` function runs on the session's event
loop) keeps that session and loop (:class:`ShinyRoute`). A send made on the loop goes
out as before; a send from any other thread is queued and the loop is woken
(``call_soon_threadsafe``), which sends the queue in order inside the session's context
and then runs one reactive flush under ``reactive.lock()``: Shiny's documented way to
touch the reactive graph from a task other than the session's. The worker never waits
for the loop.

shinywidgets also makes an output "fill" its container unless the widget's
``layout.height`` is set: its CSS then gives the view a flex basis of 400 px in an
``overflow: hidden`` box, which clips it (the views have the height of their content).
So the route also sets ``layout.height`` to ``"max-content"`` when it was not set.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import sys
import threading

log = logging.getLogger("vae_widgets")

#: the height given to a view shown by shinywidgets (its content's), unless one was set
HEIGHT = "max-content"


def shown_by_shinywidgets(widget) -> bool:
    """Whether shinywidgets made ``widget``'s comm (it does so for every widget made
    while it is imported, inside a Shiny session)."""
    if "shinywidgets" not in sys.modules:
        return False
    return type(getattr(widget, "comm", None)).__module__.split(".")[0] == "shinywidgets"


class ShinyRoute:
    """Where the sends of a widget shown by shinywidgets go: its session's event loop.

    :meth:`for_widget` makes one (or returns ``None`` outside shinywidgets);
    :meth:`send` is called with ipywidgets' own ``_send`` and its arguments, from any
    thread.
    """

    def __init__(self, session, loop: asyncio.AbstractEventLoop):
        self.session = session
        self.loop = loop
        self._lock = threading.Lock()
        self._queue: collections.deque = collections.deque()
        self._woken = False
        self._tasks: set = set()       # the drains under way (the loop keeps tasks weakly)

    @classmethod
    def for_widget(cls, widget) -> "ShinyRoute | None":
        """The route of ``widget`` when shinywidgets shows it (called as it is made, in
        the ``@render_widget`` function, on the session's loop), else ``None``. Sets the
        widget's ``layout.height`` (see the module's docstring) unless the user did."""
        if not shown_by_shinywidgets(widget):
            return None
        from shiny.session import get_current_session

        session = get_current_session()
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return None
        if session is None:
            return None
        layout = getattr(widget, "layout", None)
        if layout is not None and getattr(layout, "height", None) in (None, "", "auto"):
            layout.height = HEIGHT
        return cls(session.root_scope(), loop)

    def _on_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self.loop
        except RuntimeError:
            return False

    def send(self, send, msg, buffers=None) -> None:
        """``send(msg, buffers)`` in the session's context on its loop: at once when
        called there with nothing queued, else queued (buffers copied: the caller may
        reuse its arrays) and sent, in order, by the loop."""
        on_loop = self._on_loop()
        with self._lock:
            now = on_loop and not self._queue
            if not now:
                self._queue.append((send, msg, [bytes(memoryview(b)) for b in buffers or ()]))
                wake, self._woken = not self._woken, True
        if now:
            from shiny.session import session_context

            with session_context(self.session):
                send(msg, buffers)
            return
        if wake:
            try:
                self.loop.call_soon_threadsafe(self._start_drain)
            except RuntimeError:          # the loop is closed: the server has gone
                with self._lock:
                    self._queue.clear()
                    self._woken = False

    def _start_drain(self) -> None:
        task = self.loop.create_task(self._drain())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        from shiny import reactive
        from shiny.session import session_context

        try:
            async with reactive.lock():
                with self._lock:
                    batch, self._woken = list(self._queue), False
                    self._queue.clear()
                with session_context(self.session):
                    for send, msg, buffers in batch:
                        try:
                            send(msg, buffers)
                        except Exception:  # noqa: BLE001 - one bad message, not the rest
                            log.exception("vae_widgets (Shiny): a %r message was not sent",
                                          msg.get("method"))
                    # the session sends what its comms queued when the reactive graph flushes
                    await reactive.flush()
        except Exception:  # noqa: BLE001 - a task's error would only reach asyncio's log
            log.exception("vae_widgets (Shiny): sending to the page failed")
