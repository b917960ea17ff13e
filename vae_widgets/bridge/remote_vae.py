"""A VAE run in another process, as a widget's producer: :class:`RemoteVAE`.

The job is a DDP child of the notebook (``v.lightning_callback()`` under ``ddp_spawn`` or
``ddp_notebook``) or a job elsewhere (``VAEWidget.listen()`` with
``vae_widgets.lightning.StreamTo`` or ``bridge.stream_to``); the widgets' constructors
for both live in ``vae_widgets.widgets.listen``.

:class:`RemoteVAE` stands where the widget's producer stands (``control``,
``set_params``, ``step``, ``monitor``; see ``vae_widgets._producer``). The widget's event
handlers read the monitor's histories, so each event of the job is first recorded
(:func:`record`) into a store shaped like a :class:`~vae_widgets.vae.monitor.VAEMonitor`
(the widget's own monitor, or a :class:`MonitorRecord`) and then re-published on that
store's bus: the handlers run unchanged, on the listener's thread. What a job knows and
its events do not carry (the latent size, the number of validation rows, the settings
shown) comes in its ``describe`` event, sent first whenever the link (re)connects. The
link's own news (connected, lost, closed, refused messages, described) is published on
``RemoteVAE.link`` (:mod:`.link_news`); the widget decides what it shows. Nothing here
knows a widget.
"""
from __future__ import annotations

import dataclasses
import math
from typing import Optional

import numpy as np

from .. import _schema as S
from .._stream import EventBus
from ..vae.config import MonitorConfig
from ..vae.history import HistoryTables, MonitorHistories
from .link_news import JobStandIn
from .remote import RemoteRun

_ACTIVE = (S.RUNNING, S.PAUSED)


# ======================================================================================
# what the widget reads of a monitor, filled from events
# ======================================================================================
class MonitorRecord(HistoryTables):
    """The parts of a :class:`~vae_widgets.vae.monitor.VAEMonitor` a widget reads (bus,
    settings, histories), kept from a job's events for a widget that has no monitor."""

    def __init__(self):
        self.events = EventBus()
        self.config = MonitorConfig()
        self.rows: list = []
        self.epoch_rows: list = []
        self.param_rows: list = []
        self.mig_rows: list = []
        self.alerts: list = []
        self.last_kl: Optional[list] = None
        self.default_base = 0
        self.factor_names: Optional[list] = None
        #: the last grid of each kind the job sent: ``{kind: (uint8 array, labels)}``
        self.last_images: dict = {}

    def configure(self, description: dict) -> None:
        names = {f.name for f in dataclasses.fields(MonitorConfig)}
        given = {k: v for k, v in (description.get("config") or {}).items() if k in names}
        try:
            self.config = MonitorConfig(**given).validate()
        except (TypeError, ValueError):       # a job of another version: keep what we have
            pass
        self.default_base = int(description.get("default_base") or 0)
        self.factor_names = description.get("factors") or None

    def render(self, kinds=None, *, step: int = 0, progress: float = 0.0, publish: bool = False,
               scheduled: bool = False) -> dict:
        """The last grids the job sent (the model is not here to draw new ones)."""
        return {k: v for k, v in self.last_images.items() if kinds is None or k in kinds}


def record(store, kind: str, data: dict) -> None:
    """Keep what a monitor keeps of one of its own events, in ``store`` (a VAEMonitor or a
    MonitorRecord): rows (halved when over ``history_max_rows``), epoch rows, MIG rows,
    alerts, parameter changes, and for a MonitorRecord the last grid of each kind."""
    if kind == "metrics":
        rows = data.get("rows") or []
        store.rows.extend(rows)
        while len(store.rows) > store.config.history_max_rows:
            store.rows = store.rows[::2]
        if rows and rows[-1].get("kl_per_dim"):
            store.last_kl = list(rows[-1]["kl_per_dim"])
    elif kind == "epoch":
        store.epoch_rows.append(dict(data))
        if data.get("val_kl_per_dim"):
            store.last_kl = list(data["val_kl_per_dim"])
    elif kind == "disentanglement":
        store.mig_rows.append(dict(data))
    elif kind == "alert":
        store.alerts.append({"kind": data.get("alert"), "message": data.get("message"),
                             "fix": data.get("fix"), "step": data.get("step"),
                             "epoch": data.get("epoch")})
    elif kind == "params":
        previous = data.get("previous") or {}
        for k, v in (data.get("changes") or {}).items():
            store.param_rows.append({"step": data.get("step"), "epoch": data.get("epoch"),
                                     "time": math.nan, "param": k, "old": previous.get(k),
                                     "new": v})
    elif kind == "images" and isinstance(getattr(store, "last_images", None), dict):
        store.last_images[data.get("grid")] = (data.get("array"), data.get("labels"))


class RemoteSource:
    """Stands where a widget's model source stands when the model lives in the job: the
    number of rows and the latent size (from the job's ``describe``); every call that
    needs the model says where it is."""

    conditional = False
    classes = None
    labels = None

    def __init__(self, where: str):
        self.where = where
        self.latent_dim = 0
        self.data = np.empty((1, 0), np.float32)   # rows, no features: only len() is used

    def configure(self, description: dict, where: str) -> None:
        self.where = where
        self.latent_dim = int(description.get("latent_dim") or 0)
        self.data = np.empty((max(1, int(description.get("rows") or 1)), 0), np.float32)

    def _needs_model(self, what: str):
        raise RuntimeError(
            f"{what} needs the model, and this widget only shows what a job streams to it "
            f"({self.where}); the model lives there. Save a checkpoint in the job, load it "
            f"here and make VAEWidget.watch(model, X_val) to use encode/decode/sample on it.")

    @property
    def module(self):
        self._needs_model("model")

    def encode(self, X, labels=None, **kw):
        self._needs_model("encode()")

    def decode(self, z, labels=None, **kw):
        self._needs_model("decode()")

    def reconstruct(self, X, labels=None, **kw):
        self._needs_model("reconstruct()")

    def sample(self, n, temperature=1.0, **kw):
        self._needs_model("sample()")

    def traverse(self, dim, values, base=None, **kw):
        self._needs_model("traverse()")

    def interpolate(self, a, b, steps=10, **kw):
        self._needs_model("interpolate()")


# ======================================================================================
# the producer a widget sees
# ======================================================================================
class RemoteVAE(MonitorHistories, JobStandIn):
    """A VAE run in another process, as a :class:`~vae_widgets.VAEWidget` sees its producer.

    ``control`` and ``set_params`` go to the job; the job's events are recorded into
    ``monitor`` and re-published on its bus (see the module docstring); the link's
    news (``link``, a :class:`~vae_widgets.bridge.link_news.LinkNews`) is published for
    the widget that shows it, which decides what its traits become. It never touches a
    widget.
    """

    ACTIVE = _ACTIVE

    def __init__(self, run: RemoteRun, monitor, source):
        super().__init__(run, "training job", "The views keep what arrived; they go on if "
                                              "it comes back.")
        self.monitor = monitor
        self.adapter = source
        self.description: Optional[dict] = None
        self.step = 0
        self.epoch = 0.0
        run.events.subscribe(self._on_event)

    @property
    def described(self) -> bool:
        return self.description is not None

    # ------------------------------------------------------------ what the widget calls
    @property
    def should_stop(self) -> bool:
        return self.control.stop_requested

    def set_params(self, **params) -> dict:
        """Forwarded to the job's monitor; its answer (or its ValueError/TypeError) here."""
        try:
            new = self.run.set_params(**params)
        except TimeoutError as exc:
            raise RuntimeError(str(exc)) from None
        for k, v in new.items():
            if hasattr(self.monitor.config, k):
                setattr(self.monitor.config, k, tuple(map(tuple, v))
                        if k == "interpolation_pairs" and v is not None else v)
        return new

    def log(self, **terms):
        self._in_the_job("log()")

    def end_epoch(self, **kw):
        self._in_the_job("end_epoch()")

    def finish(self):
        self._in_the_job("finish()")

    def _in_the_job(self, what: str):
        raise RuntimeError(f"{what} belongs in the training job, which streams to this widget "
                           f"from {self.where()}; in a Lightning job the callback "
                           f"(vae_widgets.lightning.StreamTo) calls it.")

    def where(self) -> str:
        d = self.description
        if d is None:
            return f"a job not yet connected to {self.address}"
        return (f"{d.get('model', 'a model')} in process {d.get('pid')} on {d.get('host')} "
                f"(rank {d.get('rank', 0)} of {d.get('world_size', 1)})")

    def describe(self) -> str:
        """The widget's info line."""
        d = self.description
        if d is None:
            return (f"listening on {self.address} for a training job · token printed when this "
                    f"widget was made")
        shape = d.get("image_shape")
        what = (f"images {'×'.join(map(str, shape))}" if shape
                else f"{d.get('n_features', 0):,} features")
        return (f"streamed from {d.get('host')} (pid {d.get('pid')}, rank {d.get('rank', 0)} of "
                f"{d.get('world_size', 1)}, {d.get('strategy', 'one process')}) · "
                f"{d.get('rows', 0):,} validation rows · {what} · {d.get('model', 'model')}, "
                f"{d.get('latent_dim', 0)} latent dims · {d.get('device', '?')}")

    # ------------------------------------------------------------ the listener's thread
    def _on_event(self, e) -> None:
        if e.kind == "link":
            self._on_link(e.data)
            return
        if e.kind == "describe":
            self._on_describe(e.data)
            return
        if e.kind == "status":
            self.state = e.data.get("state", self.state)
            self.step = int(e.data.get("step", self.step))
            self.epoch = float(e.data.get("epoch", self.epoch))
        elif e.kind == "metrics" and e.data.get("rows"):
            self.step = int(e.data["rows"][-1].get("step", self.step))
        record(self.monitor, e.kind, e.data)
        self.monitor.events.publish(e.kind, **e.data)

    def _on_describe(self, d: dict) -> None:
        self.description = d
        if isinstance(self.monitor, MonitorRecord):
            self.monitor.configure(d)
        if isinstance(self.adapter, RemoteSource):
            self.adapter.configure(d, self.where())
        self.link.described()

