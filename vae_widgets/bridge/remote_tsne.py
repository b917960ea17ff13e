"""A t-SNE run in another process, as a widget's producer: :class:`RemoteTSNE`.

The job streams to ``TSNEWidget.listen()`` (constructor in
``vae_widgets.widgets.listen``) through the bridge (``python -m
vae_widgets.bridge.run_tsne ADDRESS --data ...``, or ``bridge.stream_to(runner,
ADDRESS)`` around ``runner.run()``): the same transport and wire format as the VAE's.

:class:`RemoteTSNE` stands where the widget's ``TSNERunner`` stands (see
``vae_widgets._producer``). The widget's handlers read the runner's attributes, so each
event of the job is first recorded (KL history from ``kl``, marks from
``phase``/``params``, kept frames from ``frame``, the parameters from the job's
``describe`` and ``params`` events and from the answers to ``set_params``) and then
re-published on :attr:`RemoteTSNE.events`: the widget's handlers run unchanged, on the
listener's thread. Frames come at a bounded rate, latest wins (the job's
:class:`~vae_widgets.bridge.job.JobLink` sends at most one every ``frame_interval``
seconds, with at most two unacknowledged). Pause, Stop and live parameters go to the
job; the link's news is published on :attr:`RemoteTSNE.link` (:mod:`.link_news`) and
the widget shows it. What needs the data or the runner (``add_points``, ``evaluate``)
says where they are.
"""
from __future__ import annotations

import dataclasses
from typing import Optional

import numpy as np

from .._stream import EventBus
from ..tsne import knn as knn_mod
from ..tsne.history import FrameHistory
from ..tsne.params import NAMES, TSNEParams
from ..tsne.runner import change_label, main_phase_label
from .link_news import JobStandIn
from .remote import RemoteRun

_ACTIVE = ("preparing", "affinities", "running", "paused")


class RemoteTSNE(JobStandIn):
    """A t-SNE run elsewhere, as a :class:`~vae_widgets.TSNEWidget` sees its runner.

    Parameters
    ----------
    run : RemoteRun
        The listener's engine-shaped proxy.
    X : ndarray (n, d)
        The rows as the notebook has them (``(n, 0)`` when only their number is known).
    """

    ACTIVE = _ACTIVE

    def __init__(self, run: RemoteRun, X: np.ndarray):
        super().__init__(run, "t-SNE job", "The view keeps what arrived; it goes on if the "
                                           "job comes back.")
        self.events = EventBus()
        self.X = X if isinstance(X, np.ndarray) else np.asarray(X)
        self.params = TSNEParams()
        self.history: list[dict] = []
        self.marks: list[dict] = []
        self.frame_history = FrameHistory()
        self.timings: dict = {}
        self.description = ""
        self.gradient_method: Optional[str] = None
        self._cache: dict = {}
        self.iteration = 0
        self.embedding: Optional[np.ndarray] = None
        self.kl: Optional[float] = None
        self.quality: Optional[dict] = None
        self.job: Optional[dict] = None            # the job's describe event
        run.events.subscribe(self._on_event)

    @property
    def described(self) -> bool:
        return self.job is not None

    # ------------------------------------------------------------ what the widget calls
    @property
    def data_shape(self) -> tuple:
        """Rows and columns of the job's data (the notebook may hold no columns)."""
        d = self.job or {}
        return (len(self.X), int(d.get("features") or self.X.shape[1]))

    @property
    def origin(self) -> str:
        d = self.job
        return "" if d is None else f"streamed from {d.get('host')} (pid {d.get('pid')})"

    @property
    def neighbors_method(self) -> Optional[str]:
        return self._cache.get("knn_method")

    @property
    def history_frame(self):
        import pandas as pd

        return pd.DataFrame(self.history, columns=["iteration", "phase", "kl", "exaggeration",
                                                   "learning_rate"])

    def set_params(self, **changes) -> dict:
        """Forwarded to the job's runner; its answer (or its ValueError/TypeError) here."""
        try:
            result = self.run.set_params(**changes)
        except TimeoutError as exc:
            raise RuntimeError(str(exc)) from None
        later = {k: v for k, v in (result.get("next_run") or {}).items() if k in NAMES}
        if later:
            self.params = dataclasses.replace(self.params, **later)
        result.setdefault("live", {})
        return result

    def where(self) -> str:
        d = self.job
        if d is None:
            return f"a t-SNE job not yet connected to {self.address}"
        return f"the t-SNE job in process {d.get('pid')} on {d.get('host')}"

    def _elsewhere(self, what: str):
        raise RuntimeError(
            f"{what} needs the runner and its data, and this widget only shows what a job "
            f"streams to it ({self.where()}). Save the embedding in the job "
            f"(run_tsne --out), or run TSNEWidget(X) here to use {what}.")

    def refuse_run(self):
        raise RuntimeError(f"this widget listens for a t-SNE job ({self.address}); start the "
                           f"job with the address and token it printed (Pause, Stop and "
                           f"live parameters then reach it from here).")

    def transform(self, X_new, n_iter: int = 250):
        self._elsewhere("add_points()")

    def drift(self, X_new, **kw):
        self._elsewhere("drift()")

    def evaluate(self, **kw):
        self._elsewhere("evaluate()")

    def preprocess_new(self, X_new):
        self._elsewhere("preprocess_new()")

    def set_data(self, X):
        self._elsewhere("set_data()")

    # ------------------------------------------------------------ the listener's thread
    def _on_event(self, e) -> None:
        kind, data = e.kind, e.data
        if kind == "link":
            self._on_link(data)
            return
        if kind == "describe":
            self._on_describe(data)
            return
        if self.mismatch:
            return
        self._record(kind, data)
        self.events.publish(kind, **data)

    def _record(self, kind: str, data: dict) -> None:
        """What a TSNERunner keeps of its own events (see its ``run``)."""
        if kind == "status":
            state = data.get("state", self.state)
            if state == "preparing":                       # a new run
                self.history, self.marks, self.timings = [], [], {}
                self.frame_history.clear()
                self.iteration, self.kl, self.quality = 0, None, None
            self.state = state
        elif kind == "preprocessed":
            self.description = data.get("description") or ""
            shape = data.get("shape") or self.X.shape
            p = self.params
            n = int(shape[0])
            self._cache.update(
                k=min(n - 1, int(3 * p.perplexity)),
                knn_method=knn_mod.choose_method(p.neighbors, n, int(shape[1]), p.metric))
            method = p.negative_gradient_method
            self.gradient_method = ("bh" if n < 10_000 else "fft") if method == "auto" else method
        elif kind == "phase":
            if (data.get("phase") == "main" and self.params.early_exaggeration_iter):
                self.marks.append({"iteration": int(data.get("iteration", 0)),
                                   "label": main_phase_label(self.params)})
        elif kind == "kl":
            row = dict(data["row"])
            if self.history and self.history[-1]["iteration"] == row.get("iteration"):
                self.history[-1] = row
            else:
                self.history.append(row)
            self.kl = row.get("kl")
        elif kind == "params":
            changes = {k: v for k, v in (data.get("changes") or {}).items() if k in NAMES}
            self.params = dataclasses.replace(self.params, **changes)
            self.marks.append({"iteration": int(data.get("iteration", 0)),
                               "label": change_label(changes)})
        elif kind == "frame":
            self.iteration = int(data.get("iteration", self.iteration))
            self.embedding = np.asarray(data["embedding"], np.float32)   # the latest layout
            self.frame_history.add(self.iteration, self.embedding)
        elif kind == "done":
            self.embedding = data.get("embedding")
            self.timings = dict(data.get("timings") or {})
        elif kind == "quality":
            self.quality = dict(data.get("quality") or {})

    def _on_describe(self, d: dict) -> None:
        self.job = d
        given = {k: v for k, v in (d.get("params") or {}).items() if k in NAMES}
        try:
            self.params = dataclasses.replace(TSNEParams(), **given)
        except TypeError:            # a job of another version: keep what we have
            pass
        rows = int(d.get("rows") or 0)
        n = len(self.X)
        self.mismatch = "" if rows == n else (
            f"The t-SNE job ({self.where()}) embeds {rows:,} rows, but this widget was made "
            f"for {n:,} (n_points, X, labels or df of listen()); its frames are not shown. "
            f"Make the widget with the job's rows.")
        if not self.mismatch and d.get("state") in _ACTIVE:
            self.state = d["state"]    # joined a run under way: its status comes on change only
        self.link.described()

