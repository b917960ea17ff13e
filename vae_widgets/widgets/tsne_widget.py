"""``TSNEWidget``: traits and glue between a ``TSNERunner`` and the front end in js/src/tsne."""
from __future__ import annotations

import pathlib

import numpy as np
import traitlets

from .. import _schema as S
from .._validation import as_image_shape, as_labels, is_torch_dataset, split_labels
from ..tsne.runner import TSNERunner
from ._base import StreamWidget
from ._serialization import array_trait, as_uint8_images

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
#: thumbnails beyond this many bytes are not sent (hover shows index and label only)
THUMBNAIL_BUDGET = 32 * 2**20
#: numeric labels with more distinct values than this are coloured as continuous
MAX_CATEGORIES = 40
_INTEGER_PARAMS = ("random_state", "n_iter", "early_exaggeration_iter", "kl_every")
_SHOWN_PARAMS = ("perplexity", "early_exaggeration", "exaggeration", "learning_rate",
                 "random_state", "n_iter")


class _Indices(traitlets.List):
    """A list of point indices; numpy arrays and other iterables of integers are accepted."""

    def __init__(self):
        super().__init__(traitlets.Int())

    def validate(self, obj, value):
        if not isinstance(value, list) or any(type(v) is not int for v in value):
            try:
                value = [int(i) for i in np.asarray(value, dtype=np.int64).reshape(-1)]
            except (TypeError, ValueError):
                raise traitlets.TraitError(
                    f"selected must be a list of point indices, got {value!r:.80}") from None
        return super().validate(obj, value)


class TSNEWidget(StreamWidget):
    """Run t-SNE (openTSNE) on a background thread and watch it in the notebook.

    Parameters
    ----------
    X : array-like (n_samples, n_features)
        numpy array, pandas DataFrame (numeric columns), torch tensor, or a
        ``torch.utils.data.Dataset`` of ``x`` or ``(x, y)`` items (``y`` become the
        labels; image items are flattened and shown as thumbnails).
    labels : array-like (n_samples,) or str, optional
        One label per row, or the name of a DataFrame column (taken out of ``X``).
        Categories (legend) or, for numbers with many distinct values, a
        continuous colour (colour bar).
    image_shape : (H, W) or (C, H, W), optional
        Shows each sample as a thumbnail in the hover tooltip.
    **params
        Any :class:`~vae_widgets.tsne.params.TSNEParams` field: ``perplexity``,
        ``early_exaggeration_iter``, ``early_exaggeration``, ``n_iter``,
        ``exaggeration``, ``learning_rate``, ``dof``, ``metric``, ``initialization``,
        ``neighbors``, ``negative_gradient_method``, ``n_jobs``, ``random_state``,
        ``standardize``, ``pca_components``, ``frame_interval``, ``kl_every``.

    ``run()`` returns at once; ``wait()`` blocks until the end and re-raises an error.
    """

    _esm = STATIC / "tsne.js"
    _css = STATIC / "tsne.css"

    phase = traitlets.Unicode("").tag(sync=True)
    iteration = traitlets.Int(0).tag(sync=True)
    n_iter_total = traitlets.Int(0).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    progress_message = traitlets.Unicode("").tag(sync=True)
    info = traitlets.Unicode("").tag(sync=True)
    n_points = traitlets.Int(0).tag(sync=True)
    embedding = array_trait("float32")
    color_kind = traitlets.Unicode("none").tag(sync=True)
    color_values = array_trait("float32")
    color_names = traitlets.List(traitlets.Unicode()).tag(sync=True)
    color_title = traitlets.Unicode("").tag(sync=True)
    image_shape = traitlets.List(traitlets.Int()).tag(sync=True)
    thumbnails = array_trait("uint8")
    selected = _Indices().tag(sync=True)
    #: the point last clicked in the view (-1: none); linked views follow it
    focused = traitlets.Int(-1).tag(sync=True)
    kl_history = traitlets.Dict().tag(sync=True)
    marks = traitlets.List(traitlets.Dict()).tag(sync=True)
    timings = traitlets.Dict().tag(sync=True)
    perplexity = traitlets.Float().tag(sync=True)
    early_exaggeration = traitlets.Float().tag(sync=True)
    exaggeration = traitlets.Float().tag(sync=True)
    learning_rate = traitlets.Union([traitlets.Unicode(), traitlets.Float()]).tag(sync=True)
    random_state = traitlets.Int().tag(sync=True)
    n_iter = traitlets.Int().tag(sync=True)

    def __init__(self, X, labels=None, *, image_shape=None, label_name: str = "label",
                 **params):
        from_dataset = is_torch_dataset(X)
        X, labels = split_labels(X, labels)       # labels="column", Dataset of (x, y)
        if from_dataset and getattr(X, "ndim", 2) > 2:   # a Dataset of images: flatten them
            if image_shape is None and X.ndim in (3, 4):
                image_shape = X.shape[1:]
            X = X.reshape(len(X), -1)
        runner = TSNERunner(X, **params)          # validates X and every parameter
        n, d = runner.X.shape
        labels = as_labels(labels, n)
        shape = as_image_shape(image_shape, d)
        super().__init__(n_points=n, **self._colour_traits(labels, label_name),
                         **self._thumbnail_traits(runner.X, shape))
        self._runner = runner
        self._labels = labels
        self._sync_params()
        self.n_iter_total = runner.params.total_iterations
        runner.events.subscribe(self._on_event)

    # ------------------------------------------------------------ public API
    @property
    def _engine(self):
        return self._runner

    @staticmethod
    def sweep(X, perplexities=None, labels=None, image_shape=None, *, param="perplexity",
              values=None, **params):
        """Small multiples: one t-SNE per perplexity (or per value of ``param``), aligned.

        Returns a :class:`~vae_widgets.widgets.sweep_widget.TSNESweepWidget`, e.g.
        ``TSNEWidget.sweep(X, [5, 30, 100], labels=y)`` or
        ``TSNEWidget.sweep(X, param="exaggeration", values=[1, 4], labels=y)``.
        """
        from .sweep_widget import sweep

        return sweep(X, perplexities, labels, image_shape, param=param, values=values, **params)

    @property
    def runner(self) -> TSNERunner:
        return self._runner

    def run(self) -> None:
        """Start (or restart) t-SNE on a background thread; returns at once.

        Returns None, so a cell ending in ``w.run()`` does not display a second view.
        """
        if self.running and self._runner.control.paused:
            self.resume()
            return
        if not self.running:
            self._runner.control.resume()   # a pause clicked while idle is forgotten
        self.n_iter_total = self._runner.params.total_iterations
        self._set_traits(kl_history={}, marks=[], timings={}, iteration=0, phase="")
        self._start_worker(self._runner.run, name="tsne-runner")

    def set_params(self, **params) -> dict:
        """Change parameters; exaggeration and learning rate act live during a run."""
        params = {k: _coerce(k, v) for k, v in params.items()}
        result = self._runner.set_params(**params)
        self._sync_params()
        self._set_traits(**result["live"])      # shown at once; applied at the next iteration
        if not self.running:
            self.n_iter_total = self._runner.params.total_iterations
        return result

    @property
    def history(self):
        """KL divergence per evaluated iteration, with the parameters in force (DataFrame)."""
        return self._runner.history_frame

    @property
    def params(self):
        return self._runner.params

    def __repr__(self):
        return (f"TSNEWidget(n_points={self.n_points}, status={self.status!r}, "
                f"iteration={self.iteration}/{self.n_iter_total})")

    # ------------------------------------------------------------ traits from data
    @staticmethod
    def _colour_traits(labels, label_name):
        if labels is None:
            return {}
        numeric = labels.dtype.kind in "fiub"
        uniques = np.unique(labels) if labels.dtype.kind != "O" else None
        if numeric and labels.dtype.kind == "f" and len(uniques) > MAX_CATEGORIES:
            return dict(color_kind="continuous", color_values=labels.astype(np.float32),
                        color_title=label_name)
        names, codes = np.unique(labels.astype(str) if uniques is None else labels,
                                 return_inverse=True)
        return dict(color_kind="categorical", color_values=codes.astype(np.float32),
                    color_names=[str(v) for v in names], color_title=label_name)

    @staticmethod
    def _thumbnail_traits(X, shape):
        if shape is None or X.size > THUMBNAIL_BUDGET:
            return {}
        return dict(image_shape=list(shape), thumbnails=as_uint8_images(X, shape))

    def _sync_params(self):
        p = self._runner.params
        self._set_traits(**{k: getattr(p, k) for k in _SHOWN_PARAMS})

    # ------------------------------------------------------------ engine events
    def _on_event(self, e):
        handler = getattr(self, f"_on_{e.kind}", None)
        if handler is not None:
            handler(**e.data)

    def _on_status(self, state):
        self._set_traits(status=state)

    def _on_preprocessed(self, description, shape):
        self._describe(shape)

    def _on_progress(self, fraction, message):
        self._set_traits(progress=float(fraction), progress_message=message)

    def _on_phase(self, phase, iteration):
        self._set_traits(phase=phase, marks=list(self._runner.marks))
        if phase in ("early_exaggeration", "main"):
            self._describe()

    def _on_frame(self, iteration, phase, embedding, key):
        self._offer_frame({"iteration": int(iteration), "phase": phase}, embedding, key=key)
        updates = {"iteration": int(iteration)}
        if key:  # the synced state follows key frames only, so it never lags a drawn frame
            updates["embedding"] = embedding
        self._set_traits(**updates)

    def _on_kl(self, row):
        hist = self._runner.history
        self._set_traits(kl_history={"iteration": [r["iteration"] for r in hist],
                                     "kl": [r["kl"] for r in hist],
                                     "phase": [r["phase"] for r in hist]})

    def _on_params(self, iteration, changes, live):
        self._sync_params()
        self._set_traits(marks=list(self._runner.marks))

    def _on_notice(self, message):
        self._set_traits(notice=message)

    def _on_done(self, embedding, kl, stopped, timings):
        self._set_traits(embedding=embedding.astype(np.float32), timings=timings,
                         marks=list(self._runner.marks))

    def _on_error(self, message, traceback):
        self._set_traits(error=message, status=S.ERROR)

    def _describe(self, shape=None):
        r = self._runner
        n, d = r.X.shape
        parts = [f"{n:,} points × {d:,} dims"]
        if r.description:
            parts.append(r.description)
        if getattr(r, "gradient_method", None):
            parts.append({"bh": "Barnes-Hut", "fft": "FFT"}[r.gradient_method])
        if r.neighbors_method:
            method = "exact" if r.neighbors_method == "exact" else "approximate"
            parts.append(f"{method} kNN (k={r._cache.get('k')})")
        self._set_traits(info=" · ".join(parts))

    @traitlets.validate("selected")
    def _check_selected(self, proposal):
        idx = proposal["value"]
        bad = [i for i in idx if not 0 <= i < self.n_points]
        if bad:
            raise traitlets.TraitError(
                f"selected: indices {bad[:5]} are outside 0..{self.n_points - 1}.")
        return idx


def _coerce(name, value):
    """Front ends send text or floats; turn them into what the engine expects."""
    if isinstance(value, str) and value != "auto":
        try:
            value = float(value)
        except ValueError:
            raise ValueError(f"{name}: {value!r} is not a number.") from None
    if name in _INTEGER_PARAMS and isinstance(value, float) and value.is_integer():
        value = int(value)
    return value
