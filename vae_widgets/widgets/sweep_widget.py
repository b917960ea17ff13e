"""``TSNESweepWidget``: small multiples, one t-SNE per value of a parameter, aligned by
Procrustes onto a reference panel, with a lasso linked across panels.

Glue only: the work is done by one :class:`~vae_widgets.tsne.runner.TSNERunner` per
panel and :func:`~vae_widgets.tsne.align.procrustes`; frames travel through the
StreamWidget machinery (one gate, ``panel`` in each frame's header).

The runs go one after another on a single background thread, the reference panel
(the middle value) first. Why not all at once: one run already uses every core the
machine can spare (``n_jobs="auto"``, the thread policy), so on a 2-core laptop parallel runs would only time-slice the
same cores, compete for the GIL with the kernel (keeping the notebook less
responsive), hold every panel's affinities in memory at once and show all panels
late instead of the first one early. Running the reference first also means every
other panel's frames can be aligned onto its final map while they stream.
"""
from __future__ import annotations

import numbers
import pathlib
import threading
import types

import numpy as np
import traitlets

from .. import _schema as S
from .._validation import as_data_matrix, as_image_shape, as_labels, split_labels
from ..tsne.align import Alignment, procrustes
from ..tsne.params import check_param, make_params
from ..tsne.runner import TSNERunner
from ..tables import split_table, table_for
from ._base import StreamWidget
from ._serialization import array_trait
from .table_view import TableView

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"

#: more panels would be slow on a laptop and crowd the page (each is a WebGL view)
MAX_PANELS = 8
#: parameters a sweep may vary (each value gets its own run)
SWEEPABLE = ("perplexity", "exaggeration", "early_exaggeration", "early_exaggeration_iter",
             "n_iter", "learning_rate", "dof", "random_state", "initialization", "metric")
DEFAULT_PERPLEXITIES = (5, 30, 100)
_ACTIVE = (S.PREPARING, S.AFFINITIES, S.RUNNING, S.PAUSED)


class _SweepControl:
    """Pause / resume / stop for every runner of a sweep (StreamWidget steers ``_engine.control``)."""

    def __init__(self, runners):
        self._controls = [r.control for r in runners]
        self.stop_requested = False

    @property
    def paused(self) -> bool:
        return any(c.paused for c in self._controls)

    def pause(self):
        for c in self._controls:
            c.pause()

    def resume(self):
        for c in self._controls:
            c.resume()

    def stop(self):
        self.stop_requested = True
        for c in self._controls:
            c.stop()

    def reset(self):
        """A new run: forget old stops and pauses."""
        self.stop_requested = False
        for c in self._controls:
            c.new_run()
            c.resume()


def _label(param: str, value) -> str:
    v = f"{value:g}" if isinstance(value, numbers.Real) and not isinstance(value, bool) else str(value)
    return f"{param.replace('_', ' ')} {v}"


class TSNESweepWidget(TableView, StreamWidget):
    """One t-SNE per parameter value, side by side, aligned, with a linked lasso.

    Usually made with :meth:`TSNEWidget.sweep`.

    Parameters
    ----------
    X : array-like (n_samples, n_features) or table
        numpy array, torch tensor, or a table whose ``features`` are embedded (as
        :class:`~vae_widgets.TSNEWidget` takes it).
    values : sequence
        One panel per value of ``param`` (1 to 8 values). Defaults to
        perplexities ``[5, 30, 100]`` when ``param="perplexity"``.
    labels : array-like (n_samples,), optional
        Colours (one legend for all panels) and the hover read-out.
    param : str
        The parameter that varies: one of ``SWEEPABLE`` (perplexity, exaggeration,
        early_exaggeration, early_exaggeration_iter, n_iter, learning_rate, dof,
        random_state, initialization, metric).
    image_shape : (H, W) or (C, H, W), optional
        Shows each sample as a thumbnail in the hover tooltip.
    reference : int, optional
        Index of the panel the others are aligned onto; the middle value by default.
    features, df, color, tooltip, search, label_name
        As for :class:`~vae_widgets.TSNEWidget`: the table, what colours the points,
        what the hover shows and what the search box looks in (one for all panels).
    **params
        Every other :class:`~vae_widgets.tsne.params.TSNEParams` field, the same for all panels.

    Notes
    -----
    ``run()`` returns at once; the panels run one after another on a background
    thread, the reference first. ``wait()`` blocks until the end.
    ``selected`` holds the lassoed indices (the same points in every panel),
    ``embeddings`` the aligned maps and ``summary`` a table of final KL and disparity.
    """

    _esm = STATIC / "sweep.js"
    _css = STATIC / "sweep.css"

    param = traitlets.Unicode("perplexity").tag(sync=True)
    #: one dict per panel: value, label, status, phase, iteration, total, kl, disparity, reference, seconds
    panels = traitlets.List(traitlets.Dict()).tag(sync=True)
    reference = traitlets.Int(0).tag(sync=True)
    active = traitlets.Int(-1).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    progress_message = traitlets.Unicode("").tag(sync=True)
    info = traitlets.Unicode("").tag(sync=True)
    #: the latest aligned positions of every panel, (panels, n, 2) float32, NaN before a panel's first frame
    positions = array_trait("float32")

    def __init__(self, X, values=None, labels=None, *, param: str = "perplexity",
                 image_shape=None, label_name: str = "label", reference: int | None = None,
                 features=None, df=None, color=None, tooltip=None, search=None,
                 _values_name: str = "values", **params):
        values = _check_values(param, values, params, _values_name)
        table_in = split_table(X, labels, features=features, df=df)
        X, labels = split_labels(table_in.X, table_in.labels)
        X = as_data_matrix(X, "X", min_rows=5)
        make_params(**params)                       # the shared parameters, named on their own
        runners = []
        for k, v in enumerate(values):
            try:
                runners.append(TSNERunner(X, **params, **{param: v}))
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"{_values_name}[{k}]={v!r}: {exc}") from None
        n, d = X.shape
        labels = as_labels(labels, n)
        shape = as_image_shape(image_shape, d)
        if reference is None:
            reference = len(values) // 2
        if not (isinstance(reference, numbers.Integral) and 0 <= reference < len(values)):
            raise ValueError(f"reference={reference!r} must be a panel index in 0..{len(values) - 1} "
                             f"(the panel the others are aligned onto); leave it out for the middle one.")
        table, color = table_for(table_in, n, labels, label_name, color)
        super().__init__(n_points=n, param=param, reference=int(reference))
        self._setup_table(table, color=color, tooltip=tooltip, search=search, images=X,
                          image_shape=shape)
        self._values = values
        self._runners = runners
        self._control = _SweepControl(runners)
        self._lock = threading.RLock()
        self._ref_embedding: np.ndarray | None = None
        self._alignments: list[Alignment | None] = [None] * len(values)
        self._aligned: list[np.ndarray | None] = [None] * len(values)
        self._pos = np.full((len(values), n, 2), np.nan, dtype=np.float32)
        self._state = [self._fresh_panel(k) for k in range(len(values))]
        self._set_traits(panels=[dict(p) for p in self._state], positions=self._pos.copy(),
                         info=self._describe())
        for k, r in enumerate(runners):
            r.quality_after_run = False    # a sweep compares maps; scoring each would slow it down
            r.events.subscribe(lambda e, k=k: self._on_event(k, e))

    # ------------------------------------------------------------ public API
    @property
    def _engine(self):
        return types.SimpleNamespace(control=self._control)

    @property
    def values(self) -> list:
        """The swept values, one per panel."""
        return list(self._values)

    @property
    def runners(self) -> list[TSNERunner]:
        """One engine per panel (``runners[k].embedding`` is panel k before alignment)."""
        return list(self._runners)

    @property
    def embeddings(self) -> list[np.ndarray | None]:
        """Final maps aligned onto the reference panel ((n, 2) each; None if not run)."""
        return [None if a is None else a.copy() for a in self._aligned]

    @property
    def alignments(self) -> list[Alignment | None]:
        """The Procrustes fit of each panel's final map onto the reference."""
        return list(self._alignments)

    @property
    def summary(self):
        """One row per panel: value, final KL, Procrustes disparity, iterations, seconds."""
        import pandas as pd

        return pd.DataFrame([{self.param: p["value"], "kl": p["kl"], "disparity": p["disparity"],
                              "iterations": p["iteration"], "seconds": p["seconds"],
                              "reference": p["reference"]} for p in self._state])

    @property
    def history(self):
        """KL per evaluated iteration of every panel (DataFrame with a column for the value)."""
        import pandas as pd

        frames = [r.history_frame.assign(**{self.param: v})
                  for v, r in zip(self._values, self._runners)]
        return pd.concat(frames, ignore_index=True)

    def run(self) -> None:
        """Run every panel (reference first) on a background thread; returns at once."""
        if self.running and self._control.paused:
            self.resume()
            return
        if self.running:
            self.notice = "Already running: pause or stop it first."
            return
        self._control.reset()
        with self._lock:
            self._ref_embedding = None
            self._alignments = [None] * len(self._values)
            self._aligned = [None] * len(self._values)
            self._pos[:] = np.nan
            self._state = [self._fresh_panel(k) for k in range(len(self._values))]
        self._set_traits(panels=[dict(p) for p in self._state], positions=self._pos.copy(),
                         progress=0.0, progress_message="", active=-1)
        self._start_worker(self._run_all, name="tsne-sweep")

    def set_params(self, **params):
        raise ValueError("a sweep's parameters are fixed; make a new sweep with "
                         "TSNEWidget.sweep(X, ...) to change them.")

    def __repr__(self):
        vals = ", ".join(f"{v:g}" if isinstance(v, float) else str(v) for v in self._values)
        return f"TSNESweepWidget({self.param}=[{vals}], n_points={self.n_points}, status={self.status!r})"

    def _run_progress(self) -> str:
        k, panels = self.active, self.panels
        if not 0 <= k < len(panels):
            return f"{len(panels)} panels"
        p = panels[k]
        return (f"{p['label']}: iteration {p['iteration']}/{p['total']} "
                f"(panel {self._order.index(k) + 1}/{len(panels)})")

    def _run_description(self) -> str:
        return f"{self.n_points:,} points, {len(self._values)} values of {self.param}"

    # ------------------------------------------------------------ the run
    @property
    def _order(self) -> list[int]:
        ref = self.reference
        return [ref] + [k for k in range(len(self._values)) if k != ref]

    def _run_all(self):
        final = S.DONE
        try:
            for k in self._order:
                if self._control.stop_requested:
                    final = S.STOPPED
                    break
                self._set_traits(active=k)
                runner = self._runners[k]
                runner.run()
                if runner.state == S.STOPPED:
                    final = S.STOPPED
                    break
        except Exception:
            final = S.ERROR
            raise
        finally:
            self._set_traits(active=-1, status=final)
        return self.embeddings

    # ------------------------------------------------------------ engine events
    def _fresh_panel(self, k) -> dict:
        r = self._runners[k]
        return {"value": self._values[k], "label": _label(self.param, self._values[k]),
                "status": S.IDLE, "phase": "", "iteration": 0,
                "total": r.params.total_iterations, "kl": None, "disparity": None,
                "reference": k == self.reference, "seconds": None}

    def _update_panel(self, k, **changes):
        with self._lock:
            self._state[k].update(changes)
            panels = [dict(p) for p in self._state]
        self._set_traits(panels=panels)

    def _on_event(self, k, e):
        handler = getattr(self, f"_on_{e.kind}", None)
        if handler is not None:
            handler(k, **e.data)

    def _on_status(self, k, state):
        if state == S.PREPARING and self._control.stop_requested:
            self._runners[k].stop()        # a stop that came while this run was starting
        self._update_panel(k, status=state)
        if state in _ACTIVE:
            self._set_traits(status=state)

    def _on_progress(self, k, fraction, message):
        self._set_traits(progress=float(fraction),
                         progress_message=f"{self._state[k]['label']}: {message}")

    def _on_phase(self, k, phase, iteration):
        self._update_panel(k, phase=phase)

    def _on_kl(self, k, row):
        self._update_panel(k, kl=row["kl"])

    def _align(self, k, embedding):
        """Procrustes onto the reference's final map (cheap: O(n) and one 2x2 SVD)."""
        ref = self._ref_embedding
        if ref is None or k == self.reference:
            return embedding.astype(np.float64), None
        a = procrustes(embedding, ref)
        return a.apply(embedding), a

    def _on_frame(self, k, iteration, phase, embedding, key):
        aligned, a = self._align(k, embedding)
        aligned32 = aligned.astype(np.float32)
        self._offer_frame({"panel": k, "iteration": int(iteration), "phase": phase,
                           "key": bool(key)}, aligned32, key=key)
        changes = {"iteration": int(iteration)}
        if a is not None:
            changes["disparity"] = a.disparity
        self._update_panel(k, **changes)
        if key:  # synced state follows key frames only, so it never lags a drawn frame
            with self._lock:
                self._pos[k] = aligned32
                pos = self._pos.copy()
            self._set_traits(positions=pos)

    def _on_done(self, k, embedding, kl, stopped, timings):
        aligned, a = self._align(k, embedding)
        if k == self.reference and not stopped:
            self._ref_embedding = np.array(embedding, dtype=np.float64)
            a = Alignment.identity()
        with self._lock:
            self._aligned[k] = aligned
            self._alignments[k] = a
        self._update_panel(k, kl=kl, seconds=timings.get("total"),
                           disparity=None if a is None else a.disparity)

    def _on_error(self, k, message, traceback):
        self._update_panel(k, status=S.ERROR)
        self._set_traits(error=f"{self._state[k]['label']}: {message}", status=S.ERROR)

    def _describe(self) -> str:
        n, d = self._runners[0].X.shape
        vals = ", ".join(_label("", v).strip() for v in self._values)
        return (f"{n:,} points × {d:,} dims · {self.param.replace('_', ' ')} {vals} · "
                f"one run after another, aligned onto {self._state[self.reference]['label']}")


def _check_values(param, values, params, name) -> list:
    """The swept values as a list, checked before anything runs."""
    if not isinstance(param, str) or param not in SWEEPABLE:
        raise ValueError(f"param={param!r} cannot be swept; choose one of {list(SWEEPABLE)}.")
    if param in params:
        raise ValueError(f"{param} is what this sweep varies: pass its values as {name}=[...], "
                         f"not {param}={params[param]!r}.")
    if values is None:
        if param != "perplexity":
            raise ValueError(f"{name} is required when sweeping {param}; e.g. "
                             f"TSNEWidget.sweep(X, param={param!r}, values=[...]).")
        values = list(DEFAULT_PERPLEXITIES)
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise TypeError(f"{name} must be a list of {param} values, e.g. {name}=[5, 30, 100]; "
                        f"got {values!r}.")
    values = [v.item() if isinstance(v, np.generic) else v for v in values]
    if not values:
        raise ValueError(f"{name} is empty; pass one or more {param} values, e.g. "
                         f"{name}=[5, 30, 100].")
    if len(values) > MAX_PANELS:
        raise ValueError(f"{name} has {len(values)} values but a sweep shows at most {MAX_PANELS} "
                         f"panels (each is a live view and a full t-SNE run); pick fewer values "
                         f"or split them over two sweeps.")
    out = []
    for k, v in enumerate(values):
        try:
            out.append(check_param(param, v))
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{name}[{k}]={v!r}: {exc}") from None
    return out


def sweep(X, perplexities=None, labels=None, image_shape=None, *, param="perplexity",
          values=None, **params) -> TSNESweepWidget:
    """What :meth:`TSNEWidget.sweep` does: ``perplexities`` for a perplexity sweep,
    ``param=`` and ``values=`` for any other parameter."""
    if param == "perplexity" and values is None:
        values, name = perplexities, "perplexities"
    elif perplexities is not None:
        raise ValueError(f"perplexities is only for a perplexity sweep; pass values=[...] "
                         f"for param={param!r} (and perplexity=... to fix the perplexity).")
    else:
        name = "values"
    return TSNESweepWidget(X, values, labels, param=param, image_shape=image_shape,
                           _values_name=name, **params)
