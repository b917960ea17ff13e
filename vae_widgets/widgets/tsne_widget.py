"""``TSNEWidget``: traits and glue between a ``TSNERunner`` and the front end in js/src/tsne."""
from __future__ import annotations

import pathlib

import numpy as np
import traitlets

from .. import _schema as S
from .. import _threads
from .._anndata import read_cells
from .._validation import (as_data_matrix, as_image_shape, as_labels, is_torch_dataset,
                           split_labels)
from ..tsne.runner import TSNERunner
from ..tables import split_table, table_for
from ._base import StreamWidget
from ._serialization import array_trait
from .sweep_widget import sweep as _sweep
from .table_view import TableView

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
#: trails (positions over the kept frames) are drawn for at most this many selected points
MAX_TRAILS = 500
_INTEGER_PARAMS = ("random_state", "n_iter", "early_exaggeration_iter", "kl_every")
_SHOWN_PARAMS = ("perplexity", "early_exaggeration", "exaggeration", "learning_rate",
                 "random_state", "n_iter")


class TSNEWidget(TableView, StreamWidget):
    """Run t-SNE (openTSNE) on a background thread and watch it in the notebook.

    Parameters
    ----------
    X : array-like (n_samples, n_features) or table
        numpy array, torch tensor, a ``torch.utils.data.Dataset`` of ``x`` or ``(x, y)``
        items (``y`` become the labels; image items are flattened and shown as
        thumbnails), or a table (pandas DataFrame; polars and pyarrow tables are read
        through ``to_pandas()``) whose ``features`` columns are embedded and whose
        every column is kept for colour, hover, search and ``selected_rows``.
    labels : array-like (n_samples,) or str, optional
        One label per row, or the name of a column (taken out of the default
        features). The points are coloured by it unless ``color`` says otherwise.
    features : list of str, optional
        The columns of a table ``X`` to embed; default: every numeric and boolean
        column (except the ``labels`` column).
    df : table, optional
        A table of the same rows shown beside an array ``X`` (e.g. sentence
        embeddings as ``X``, the documents as ``df``).
    use_rep : str, optional
        For an AnnData ``X`` (scanpy): the representation to embed, as in
        ``sc.tl.tsne``: ``"X"``, or a key of ``adata.obsm`` (default: ``.X`` for at most
        50 variables, else ``"X_pca"``, else ``.X`` reduced to 50 components here).
        ``adata.obs`` is the table (colour, hover, ``selected_rows`` by ``obs_names``);
        :meth:`to_anndata` writes the map to ``adata.obsm["X_tsne"]``. A
        ``scipy.sparse`` ``X`` is reduced with TruncatedSVD (the info line says so).
    missing : {"refuse", "drop"}
        A missing feature value (NaN, None, NA): refused with the columns named (the
        default), or its row left out of the map, the table and the labels alike
        (``"drop"``; the info line says how many). The table keeps its index, so
        ``selected_rows`` still names your rows; ``kept_rows`` are the positions used.
    color : str, optional
        The column to colour by (changeable later: ``w.color = "price"``, or the view's
        *colour by* menu). Categories get a legend with counts (the most frequent 20,
        the rest as "other"); numbers and dates a colour bar over their 1st-99th
        percentile range.
    tooltip : list of str, optional
        Columns shown when hovering a point (default: up to four columns that are not
        embedded). Long text is wrapped and clipped, numbers formatted.
    search : list of str, optional
        Columns the view's search box looks in (default: the text and categorical
        columns among the colour and hover columns).
    image_shape : (H, W) or (C, H, W), optional
        Shows each sample as a thumbnail in the hover tooltip.
    label_name : str
        The column name of ``labels`` given as an array (default ``"label"``).
    **params
        Any :class:`~vae_widgets.tsne.params.TSNEParams` field: ``perplexity``,
        ``early_exaggeration_iter``, ``early_exaggeration``, ``n_iter``,
        ``exaggeration``, ``learning_rate``, ``dof``, ``metric``, ``initialization``,
        ``neighbors``, ``negative_gradient_method``, ``n_jobs``, ``random_state``,
        ``standardize``, ``pca_components``, ``frame_interval``, ``kl_every``.

    Notes
    -----
    ``run()`` returns at once; ``wait()`` blocks until the end and re-raises an error.

    After a run: ``quality`` holds trustworthiness and kNN preservation;
    :meth:`add_points` places new rows on the map (with a ``drift`` score);
    ``frame_history`` holds the run's frames (the view's scrubber replays them).

    Indices in ``selected`` and ``focused``: ``0..n-1`` are the embedded rows of
    ``X``; points added with :meth:`add_points` continue at ``n, n+1, ...`` in the
    order they were added. ``selected_rows`` gives the selected rows of the table.

    Hover text and thumbnails travel with the widget while they are small (4 MiB of
    text, 32 MiB of pixels); beyond that the view asks the kernel for the hovered
    point's row, so hovering works at any size.
    """

    _esm = STATIC / "tsne.js"
    _css = STATIC / "tsne.css"

    phase = traitlets.Unicode("").tag(sync=True)
    iteration = traitlets.Int(0).tag(sync=True)
    n_iter_total = traitlets.Int(0).tag(sync=True)
    progress = traitlets.Float(0.0).tag(sync=True)
    progress_message = traitlets.Unicode("").tag(sync=True)
    info = traitlets.Unicode("").tag(sync=True)
    #: the current layout (n x 2 float32), updated at key frames (pauses, a phase's end,
    #: the run's end). Kept in the kernel: the page gets each key frame once, as a frame
    #: message, and a view that opens later gets the latest frame on hello.
    embedding = traitlets.Instance(np.ndarray, allow_none=True)
    #: the point last clicked in the view (-1: none); linked views follow it
    focused = traitlets.Int(-1).tag(sync=True)
    #: trustworthiness, knn_preservation, k, n_sampled, n_points (empty until a run ends)
    quality = traitlets.Dict().tag(sync=True)
    #: points placed with add_points(): positions (float32 x,y pairs), colour codes, drift
    n_new = traitlets.Int(0).tag(sync=True)
    new_embedding = array_trait("float32")
    new_color_values = array_trait("float32")
    drift = traitlets.Float(None, allow_none=True).tag(sync=True)
    drift_per_point = array_trait("float32")
    #: iterations of the frames kept for replay (see frame_history)
    history_iterations = traitlets.List(traitlets.Int()).tag(sync=True)
    kl_history = traitlets.Dict().tag(sync=True)
    marks = traitlets.List(traitlets.Dict()).tag(sync=True)
    timings = traitlets.Dict().tag(sync=True)
    perplexity = traitlets.Float().tag(sync=True)
    early_exaggeration = traitlets.Float().tag(sync=True)
    exaggeration = traitlets.Float().tag(sync=True)
    learning_rate = traitlets.Union([traitlets.Unicode(), traitlets.Float()]).tag(sync=True)
    random_state = traitlets.Int().tag(sync=True)
    n_iter = traitlets.Int().tag(sync=True)

    def __init__(self, X, labels=None, *, features=None, df=None, missing: str = "refuse",
                 use_rep=None, color=None, tooltip=None, search=None, image_shape=None,
                 label_name: str = "label", _make_runner=None, **params):
        from_dataset = is_torch_dataset(X)
        X, df, read = read_cells(X, df, use_rep, params.get("random_state", 0))
        table_in = split_table(X, labels, features=features, df=df, missing=missing)
        table_in.notes = [read] if read else []
        X, labels = split_labels(table_in.X, table_in.labels)   # Dataset of (x, y); "column" errors
        if from_dataset and getattr(X, "ndim", 2) > 2:   # a Dataset of images: flatten them
            if image_shape is None and X.ndim in (3, 4):
                image_shape = X.shape[1:]
            X = X.reshape(len(X), -1)
        # validates X and every parameter (listen(): a stand-in fed by a job elsewhere)
        runner = TSNERunner(X, **params) if _make_runner is None else _make_runner(X)
        n, d = runner.X.shape
        labels = as_labels(labels, n)
        shape = as_image_shape(image_shape, d)
        table, color = table_for(table_in, n, labels, label_name, color)
        super().__init__(n_points=n)
        self._runner = runner
        self._feature_names = [str(c) for c in table_in.features] or None
        self._table_in = table_in
        self._setup_table(table, color=color, tooltip=tooltip, search=search,
                          images=runner.X, image_shape=shape)
        self._sync_params()
        self.n_iter_total = runner.params.total_iterations
        if table_in.dropped or table_in.notes:   # said at once; the info line keeps it
            self.info = " · ".join(table_in.notes + [table_in.describe_dropped()]).strip(" ·")
        self._new_X = None
        self._threads_text = ""      # the info line's thread count (from "threads" events)
        runner.events.subscribe(self._on_event)
        self.on_msg(self._on_analysis_msg)

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
        return _sweep(X, perplexities, labels, image_shape, param=param, values=values, **params)

    @classmethod
    def listen(cls, port: int = 0, host: str = "127.0.0.1", *, n_points=None, X=None,
               labels=None, df=None, quiet: bool = False, **options) -> "TSNEWidget":
        """A widget fed by a t-SNE run in another process or on another machine.

        Prints the address and a one-time token; the job streams to it with
        ``VAE_WIDGETS_TOKEN=<token> python -m vae_widgets.bridge.run_tsne ADDRESS --data ...``
        or ``vae_widgets.bridge.stream_to(runner, ADDRESS)``. Pause, Stop and live
        parameters go to the job; a job that goes silent is reported lost.

        Parameters
        ----------
        port, host
            Where to listen (``host="127.0.0.1"``: this machine only; ``"*"`` or an
            interface's address for a job on another machine).
        n_points : int, optional
            The number of rows the job embeds, when no rows are given here.
        X, labels, df
            The job's rows as the notebook has them (same order), for colour, hover
            and ``selected_rows``; ``labels`` may name a column of ``df``.
        **options
            ``color``, ``tooltip``, ``search``, ``image_shape``, ``label_name``,
            ``features`` for the view; ``token``, ``limits``, ``heartbeat``,
            ``timeout`` for the listener.
        """
        from .listen import listen_tsne

        view = {k: options.pop(k) for k in ("color", "tooltip", "search", "image_shape",
                                            "label_name", "features") if k in options}
        return listen_tsne(cls, port=port, host=host, n_points=n_points, X=X, labels=labels,
                           df=df, quiet=quiet, widget_options=view, **options)

    @property
    def remote(self):
        """For a widget made by :meth:`listen`: its link to the job (``address``,
        ``token``, ``job_env()``, ``close()``); None otherwise."""
        return self._remote

    @property
    def running(self) -> bool:
        return self._remote.running if self._remote is not None else super().running

    def close(self):
        if self._remote is not None:          # a listener: the job goes on without us
            self._remote.close()
        super().close()

    @property
    def runner(self) -> TSNERunner:
        return self._runner

    def run(self) -> None:
        """Start (or restart) t-SNE on a background thread; returns at once.

        Returns None, so a cell ending in ``w.run()`` does not display a second view.
        """
        if self._remote is not None:
            self._remote.refuse_run()
        if self.running and self._runner.control.paused:
            self.resume()
            return
        if not self.running:
            self._runner.control.resume()   # a pause clicked while idle is forgotten
        self.n_iter_total = self._runner.params.total_iterations
        if self.running:   # "already running": leave everything as it is
            self._start_worker(self._runner.run, name="tsne-runner")
            return
        self.clear_new_points()   # placed on the old map; a new run makes a new one
        self._set_traits(kl_history={}, marks=[], timings={}, iteration=0, phase="",
                         quality={}, history_iterations=[])
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

    def to_anndata(self, adata, key: str = "X_tsne"):
        """Write the map where scanpy keeps it: ``adata.obsm[key]`` (n_obs, 2), for
        ``sc.pl.embedding(adata, basis="tsne")``. ``adata`` must be the AnnData the widget
        was made from (same cells, in order). Returns ``adata``."""
        from .._anndata import write_obsm
        if self.embedding is None:
            raise RuntimeError("no map yet: run() and wait() first.")
        names = self._table.frame.index if not self._table.synthetic else None
        write_obsm(adata, key, np.asarray(self.embedding).reshape(-1, 2)[:self.n_points], names)
        return adata

    @property
    def kept_rows(self):
        """Positions, in the rows you passed, of the rows in the map: every row, or with
        ``missing="drop"`` those without a missing feature value (int array)."""
        kept = self._table_in.kept
        return np.arange(self.n_points) if kept is None else kept.copy()

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

    def _run_progress(self) -> str:
        return f"iteration {self.iteration}/{self.n_iter_total}"

    # ------------------------------------------------------------ analysis
    def add_points(self, X_new, labels=None) -> np.ndarray:
        """Place new rows onto the finished map without moving it (openTSNE transform).

        The rows get the preprocessing of the run (standardisation, PCA); each is
        optimised against the fixed reference embedding only. Blocks (about a
        quarter second for 300 digits); can be called again to add more.

        Parameters
        ----------
        X_new : array-like (m, n_features)
            Same columns as ``X``.
        labels : array-like (m,), optional
            Labels of the new rows; those matching a category of ``labels`` get its
            colour, others are drawn in a neutral colour. Every new point is drawn
            with a ring (legend: "new points").

        Returns
        -------
        ndarray (m, 2)
            Positions of the new points. Their indices in ``selected`` and
            ``focused`` are ``n_points + n_new_before ...``. The drift score
            of all new points so far is in ``drift`` (see
            :func:`vae_widgets.tsne.metrics.drift`: about 1 for data like the
            reference, well above 1 off it), per point in ``drift_per_point``.
        """
        if self.running:
            raise RuntimeError("add_points: t-SNE is still running; wait() for it to finish "
                               "(or stop() it) first.")
        r = self._runner
        X_new = as_data_matrix(X_new, "X_new", min_rows=1)
        labels = as_labels(labels, len(X_new))
        pos = r.transform(X_new)   # refuses without a finished run; checks the columns
        rows = X_new if self._new_X is None else np.vstack([self._new_X, X_new])
        d = r.drift(rows)          # over every new point so far
        self._new_X = rows
        self._set_traits(new_embedding=np.vstack([self.new_points, pos.astype(np.float32)]),
                         new_color_values=np.concatenate([self._new_codes(),
                                                          self._codes_for(labels, len(pos))]),
                         drift=float(d["score"]),
                         drift_per_point=d["per_point"].astype(np.float32),
                         n_new=len(rows))
        return pos

    def clear_new_points(self) -> None:
        """Remove every point added with :meth:`add_points` (and their selection/focus)."""
        n = self.n_points
        self._new_X = None
        with self._sync_lock, self.hold_sync():
            self.selected = [i for i in self.selected if i < n]
            if self.focused >= n:
                self.focused = -1
            self.n_new = 0
            self.new_embedding = None
            self.new_color_values = None
            self.drift = None
            self.drift_per_point = None

    @property
    def new_points(self) -> np.ndarray:
        """Positions of the points added with :meth:`add_points`, float32 (n_new, 2)."""
        if self.new_embedding is None:
            return np.zeros((0, 2), np.float32)
        return self.new_embedding.reshape(-1, 2)

    @property
    def frame_history(self) -> np.ndarray:
        """The frames kept from the last run, float32 (k, n, 2); ``history_iterations`` says when.

        At most 200 frames or 64 MiB, thinned evenly over the whole run (see
        :class:`vae_widgets.tsne.history.FrameHistory`); the last one is the final layout.
        """
        return self._runner.frame_history.as_array()

    def _new_codes(self) -> np.ndarray:
        v = self.new_color_values
        return np.zeros(0, np.float32) if v is None else v

    def _codes_for(self, labels, m: int) -> np.ndarray:
        """Colour codes of new points in the reference's categories (-1: neutral colour)."""
        if labels is None or self.color_kind != "categorical":
            return np.full(m, -1, np.float32)
        lookup = {name: i for i, name in enumerate(self.color_names)}
        return np.array([lookup.get(str(v), -1) for v in labels], dtype=np.float32)

    # ------------------------------------------------------------ traits from data
    def _rows(self, idx):
        return self._table.rows(idx, self._runner.X, self._feature_names)

    def _sync_params(self):
        p = self._runner.params
        self._set_traits(**{k: getattr(p, k) for k in _SHOWN_PARAMS})

    # ------------------------------------------------------------ engine events
    def _on_job_described(self):
        remote = self._remote
        if remote.mismatch:
            self._set_traits(status=S.ERROR, error=remote.mismatch)
            return
        self._sync_params()
        state = remote.job.get("state")
        self._set_traits(n_iter_total=remote.params.total_iterations,
                         **({"status": state} if state in remote.ACTIVE else {}))
        self._describe()

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
        if (key and iteration == self.iteration and self.embedding is not None
                and np.array_equal(embedding, self.embedding)):
            return   # the page has these positions (a phase's end, then the run's end)
        self._offer_frame({"iteration": int(iteration), "phase": phase, "key": bool(key)},
                          embedding, key=key)
        updates = {"iteration": int(iteration)}
        if key:  # the kernel's state follows key frames only, so it never lags a drawn frame
            self.embedding = embedding   # not synced: the frame message carries it
            # the scrubber works while paused or done, both of which send a key frame
            updates["history_iterations"] = self._runner.frame_history.iterations.tolist()
        self._set_traits(**updates)

    def _on_quality(self, quality):
        self._set_traits(quality=quality)

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

    def _on_threads(self, threads, previous=None, auto=True, reason="", **_):
        """The optimisation's thread count: in the info line; a notice when it changes."""
        self._threads_text = _threads.describe(threads, auto, "" if auto else reason)
        self._describe()
        if previous is not None and previous != threads:
            self._set_traits(notice=f"t-SNE now runs on {_threads.describe(threads, auto)}: "
                                    f"{reason}. Pass n_jobs=k to fix the count.")

    def _on_done(self, embedding, kl, stopped, timings):
        # the run's last key frame (just before this event) already sent the positions
        self.embedding = embedding.astype(np.float32)
        self._set_traits(timings=timings, marks=list(self._runner.marks))

    def _on_error(self, message, traceback):
        self._set_traits(error=message, status=S.ERROR)

    def _describe(self, shape=None):
        r = self._runner
        n, d = getattr(r, "data_shape", r.X.shape)
        parts = [f"{n:,} points × {d:,} dims"] + ([r.origin] if getattr(r, "origin", "") else [])
        if r.description:
            parts.append(r.description)
        if getattr(r, "gradient_method", None):
            parts.append({"bh": "Barnes-Hut", "fft": "FFT"}[r.gradient_method])
        if r.neighbors_method:
            method = "exact" if r.neighbors_method == "exact" else "approximate"
            parts.append(f"{method} kNN (k={r._cache.get('k')})")
        parts += self._table_in.notes
        if self._table_in.dropped:
            parts.append(self._table_in.describe_dropped())
        if self._threads_text:
            parts.append(self._threads_text)
        self._set_traits(info=" · ".join(parts))

    def _selectable(self) -> int:
        return self.n_points + self.n_new

    @traitlets.validate("focused")
    def _check_focused(self, proposal):
        i = proposal["value"]
        total = self.n_points + self.n_new
        if not -1 <= i < total:
            raise traitlets.TraitError(
                f"focused: {i} is outside -1..{total - 1} (-1 means no point).")
        return i

    # ------------------------------------------------------------ replay, trails
    def _on_analysis_msg(self, _widget, content: dict, _buffers):
        kind = content.get("type")
        try:
            if kind == S.REPLAY:
                self._send_replay(content)
            elif kind == S.TRAILS:
                self._send_trails(content)
        except (IndexError, TypeError, ValueError) as exc:
            self.notice = f"{kind}: {exc}"

    def _send_replay(self, content):
        """One kept frame, for a view's scrubber (only that view draws it)."""
        hist = self._runner.frame_history
        index = int(content.get("index", -1))
        iteration, frame = hist.frame(index)
        buf = memoryview(np.ascontiguousarray(frame, dtype="<f4").reshape(-1)).cast("B")
        self.send({"type": S.REPLAY, "view": content.get("view"), "index": index,
                   "iteration": int(iteration), "count": len(hist)}, buffers=[buf])

    def _send_trails(self, content):
        """Positions of (at most MAX_TRAILS) chosen points in every kept frame."""
        n = self.n_points
        idx = [int(i) for i in content.get("indices") or [] if 0 <= int(i) < n][:MAX_TRAILS]
        trails = self._runner.frame_history.trails(idx)
        buf = memoryview(np.ascontiguousarray(trails, dtype="<f4").reshape(-1)).cast("B")
        self.send({"type": S.TRAILS, "view": content.get("view"), "indices": idx,
                   "frames": int(trails.shape[0]),
                   "iterations": self._runner.frame_history.iterations.tolist()},
                  buffers=[buf])


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
