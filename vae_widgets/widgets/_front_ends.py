"""Front ends beside Jupyter's: a widget's sends, tapped for a host that runs the bundle
itself (Panel: ``panel_host.py``), and that host's messages handled as Jupyter's; under
shinywidgets, sent through the Shiny session's event loop (``shiny_host.py``).

A front end is a callable ``deliver(msg, buffers)`` fed, after ipywidgets' own batching
(``hold_sync``) and echo suppression, everything the widget sends: ``{"method":
"update", "state", "buffer_paths"}``, ``"echo_update"``, ``{"method": "custom",
"content"}`` with its binary buffers, and ``{"method": "close"}`` once it closes.
"""
from __future__ import annotations

import contextlib
import logging

from .shiny_host import ShinyRoute

log = logging.getLogger("vae_widgets")


class FrontEnds:
    """Mixed into ``BundledWidget`` (before ``anywidget.AnyWidget``)."""

    _front_ends: tuple = ()
    #: where the sends go when shinywidgets shows the widget (``shiny_host.py``), else None
    _shiny_route: ShinyRoute | None = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._shiny_route = ShinyRoute.for_widget(self)

    def to_panel(self, *, close_with_session: bool = True, **params):
        """This widget as a Panel component that runs the widget's own front end (the
        bundle Jupyter runs), with nothing fetched from the network.

        Frames, curves and image grids stream into the page; its buttons, parameter
        fields and lasso act on this widget as in Jupyter (``selected`` follows the
        lasso). ``params`` are Panel's layout parameters (``sizing_mode``, default
        ``"stretch_width"``, ``width``, ``height``, ``margin``, ...). ``pn.panel(w)`` and
        ``pn.Column(w)`` give the same component.

        When the last Panel server session showing it ends, the widget is closed (its
        run stops): make the widget in the function that builds the page.
        ``close_with_session=False`` keeps it; ``component.close()`` closes it at once.
        Needs Panel >= 1.5 (``pip install 'vae_widgets[hosts]'``). See
        ``vae_widgets/widgets/panel_host.py``.
        """
        from .panel_host import panel_view

        return panel_view(self, close_with_session=close_with_session, **params)

    def __panel__(self):
        """``pn.panel(w)``: :meth:`to_panel` (not ``pn.pane.IPyWidget``, whose front end
        comes from a CDN)."""
        return self.to_panel()

    def _add_front_end(self, deliver) -> None:
        self._check_open()
        self._front_ends = (*self._front_ends, deliver)

    def _remove_front_end(self, deliver) -> None:
        self._front_ends = tuple(d for d in self._front_ends if d != deliver)

    def _check_open(self) -> None:
        """Raise when the widget is closed (``BundledWidget`` says what to do)."""
        if self.comm is None:
            raise RuntimeError(f"this {type(self).__name__} was closed; make a new one.")

    def _front_end_state(self) -> dict:
        """The synced state in its wire form (buffers in place), as a new view gets it."""
        with getattr(self, "_sync_lock", None) or contextlib.nullcontext():
            return self.get_state()

    def _from_front_end(self, data: dict) -> None:
        """A message of another front end (``{"method": "update" | "custom", ...}``),
        handled as one from Jupyter's."""
        self._handle_msg({"content": {"data": data}, "buffers": []})

    def _send(self, msg, buffers=None):
        if self._shiny_route is not None:     # from any thread, through the session's loop
            self._shiny_route.send(super()._send, msg, buffers)
        else:
            super()._send(msg, buffers=buffers)
        for deliver in self._front_ends:
            try:
                deliver(msg, buffers)
            except Exception:  # noqa: BLE001 - a host's failure never breaks the widget
                log.exception("%s: a front end failed on a %r message", type(self).__name__,
                              msg.get("method"))

    def close(self):
        front_ends, self._front_ends = self._front_ends, ()
        super().close()
        for deliver in front_ends:
            try:
                deliver({"method": "close"}, None)
            except Exception:  # noqa: BLE001 - closing anyway
                log.exception("%s: a front end failed on close", type(self).__name__)
