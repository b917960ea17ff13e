"""``VAEWidget``: traits and glue between a VAE monitor and the front end in js/src/vae.

Two producers feed the same views: the built-in ``VAETrainer`` (``VAEWidget(X, ...)``,
trained on the widget's worker thread) and a user's own loop (``VAEWidget.watch(model,
X_val)``, fed by ``v.log(...)`` from the notebook cell), and a run in another process
(``listen()``, ``lightning_callback()``; see ``listen.py``). Either way the widget
subscribes to one ``VAEMonitor``'s events; what it does with them is
``vae_events.VAEEvents``. This module: the traits, the constructors, the own-loop API,
the data-space methods (delegated to the model's source) and the linked views.
"""
from __future__ import annotations

import pathlib

import numpy as np
import traitlets

from .._anndata import read_cells
from .._validation import number, page_value
from ..tables import is_table, split_table
from ..vae.trainer import VAETrainer
from ..vae.watch import LoopMonitor
from ._base import StreamWidget
from ._cells import finish_runs_after_cells
from ._serialization import array_trait
from .linking import make_latent_tsne, selection_grid
from .traits import RowIndex, RowIndices, check_rows
from .vae_events import VAEEvents

STATIC = pathlib.Path(__file__).resolve().parent.parent / "static"
_SHOWN_PARAMS = ("beta", "lr", "kl_schedule", "sample_temperature")


class VAEWidget(VAEEvents, StreamWidget):
    """Train a variational autoencoder (PyTorch) on a background thread and watch it learn.

    ``VAEWidget(X, labels=None, image_shape=None, epochs=30, **params)``: ``X`` and
    every parameter as for :class:`~vae_widgets.vae.trainer.VAETrainer`
    (``latent_dim``, ``hidden``, ``likelihood``, ``beta``, ``kl_schedule``,
    ``free_bits``, ``conditional``, ``lr``, ``batch_size``, ``seed``, ...).
    ``epochs`` is how many epochs the Train button (or ``train()``) runs.
    ``factors=`` (a table of known generative factors, one row per data row, e.g.
    ``datasets.shapes()[1]``) adds a panel with the mutual information between each
    latent dimension and each factor and the MIG score, measured after every epoch
    (``mig_history``).

    An AnnData ``X`` (scanpy) trains on ``use_rep`` (as :class:`~vae_widgets.TSNEWidget`
    picks it; ``adata.obs`` gives the labels, ``rows`` are its ``obs_names``, and
    :meth:`to_anndata` writes the latent means to ``adata.obsm["X_vae"]``); a
    ``scipy.sparse`` ``X`` is reduced with TruncatedSVD first.

    A table ``X`` (pandas; polars and pyarrow through ``to_pandas()``) is read as
    :class:`~vae_widgets.TSNEWidget` reads it: ``features=[...]`` the columns to train on
    (default: every numeric and boolean column except the ``labels`` column), ``labels``
    one value per row or a column's name, ``missing="drop"`` to leave out the rows with a
    missing feature value (the info line says how many; ``rows`` are the table's index
    of the rows trained on) instead of refusing them (``missing="refuse"``, the default).

    ``train()`` returns at once; ``wait()`` blocks and re-raises an error.

    :meth:`watch` makes the same views for a model that your own loop trains.
    """

    _esm = STATIC / "vae.js"
    _css = STATIC / "vae.css"
    _table_in = None     # a table X: what split_table made of it (features, dropped rows)

    info = traitlets.Unicode("").tag(sync=True)
    step = traitlets.Int(0).tag(sync=True)
    epoch = traitlets.Float(0.0).tag(sync=True)
    target_epoch = traitlets.Float(0.0).tag(sync=True)
    latent_dim = traitlets.Int(0).tag(sync=True)
    active_units = traitlets.Int(0).tag(sync=True)
    metrics = traitlets.Dict().tag(sync=True)
    kl_per_dim = array_trait("float32")
    epoch_metrics = traitlets.Dict().tag(sync=True)
    grids = traitlets.Dict().tag(sync=True)
    grid_reconstructions = array_trait("uint8")
    grid_samples = array_trait("uint8")
    grid_traversal = array_trait("uint8")
    grid_interpolation = array_trait("uint8")
    alerts = traitlets.List(traitlets.Dict()).tag(sync=True)
    marks = traitlets.List(traitlets.Dict()).tag(sync=True)
    beta = traitlets.Float().tag(sync=True)
    lr = traitlets.Float().tag(sync=True)
    kl_schedule = traitlets.Unicode().tag(sync=True)
    sample_temperature = traitlets.Float().tag(sync=True)
    epochs = traitlets.Int(30).tag(sync=True)
    #: data row the latent traversal starts from (a click in a linked t-SNE view sets it)
    traversal_base = RowIndex(0).tag(sync=True)
    #: rows shown in the selection panel (a lasso in a linked t-SNE view sets them)
    selection_indices = RowIndices().tag(sync=True)
    selection = traitlets.Dict().tag(sync=True)
    grid_selection = array_trait("uint8")
    #: with ``factors=``: {factors, latent_dim, mi, mi_normalized, gaps, entropy, mig, epoch,
    #: step, history: [[epoch, mig], ...]}; empty without factors (the panel stays hidden)
    disentanglement = traitlets.Dict().tag(sync=True)
    #: "train": the built-in trainer (Train button); "watch": a user's loop calls log()
    mode = traitlets.Unicode("train").tag(sync=True)

    def __init__(self, X, labels=None, *, features=None, missing: str = "refuse",
                 use_rep=None, epochs: int = 30, **params):
        epochs = number(epochs, "epochs", low=1, integer=True)
        X, cells, read = read_cells(X, None, use_rep, params.get("seed", 0))
        table_in = None
        if is_table(X) or cells is not None or features is not None or missing != "refuse":
            table_in = split_table(X, labels, features=features, df=cells, missing=missing)
            X = table_in.X
            labels = (table_in.frame[table_in.label_column].to_numpy()
                      if table_in.label_column else table_in.labels)
        trainer = VAETrainer(X, labels=labels, **params)   # validates data and parameters
        if read:
            table_in.notes = [read]
        self._table_in = table_in
        self._setup(trainer, None, epochs=epochs)

    def to_anndata(self, adata, key: str = "X_vae"):
        """Write the latent means where scanpy keeps representations: ``adata.obsm[key]``
        (n_obs, latent_dim), e.g. for ``sc.pp.neighbors(adata, use_rep="X_vae")``.
        ``adata`` must be the AnnData the widget was made from. Returns ``adata``."""
        from .._anndata import write_obsm
        t = self._trained("to_anndata()")
        names = self.rows if self._table_in is not None and self._table_in.frame is not None \
            else None
        mu, _ = self.encode(t.data, labels=t.labels if t.conditional else None)
        write_obsm(adata, key, mu, names)
        return adata

    @property
    def rows(self):
        """The rows trained on, as the table's index (a pandas Index; with
        ``missing="drop"``, the rows kept), or their positions for an array ``X``."""
        t = self._table_in
        if t is not None and t.frame is not None:
            return t.frame.index
        if t is not None and t.kept is not None:
            return t.kept.copy()
        return None if self._trainer is None else np.arange(len(self._trainer.data))

    @classmethod
    def watch(cls, model=None, X_val=None, labels=None, **options) -> "VAEWidget":
        """The same views for a VAE that your own training loop trains.

        ::

            v = VAEWidget.watch(model, X_val)    # model.encode(x) -> (mu, logvar), model.decode(z)
            v                                    # show it, then in the loop's cell:
            for epoch in range(20):
                for xb in loader:
                    ...                          # your forward, loss, backward, step
                    v.log(recon=recon, mu=mu, logvar=logvar, beta=beta, epoch=epoch)
                    if v.should_stop:            # Stop clicked in the page
                        break

        ``log()`` costs microseconds (no device sync); Pause in the page blocks inside
        ``log()``, Stop sets ``should_stop``. Both work while the cell is busy where the
        front end sends widget messages over a kernel subshell (JupyterLab >= 4.4 and
        Notebook >= 7.4 with ipykernel >= 7; elsewhere they act when the cell ends: call
        ``v.stop()`` from your own code, or see the guide). The run ends (final grids,
        status done or stopped) when the cell finishes, or at ``v.finish()``.

        Parameters
        ----------
        model : nn.Module, optional
            With ``encode(x) -> (mu, logvar)`` and ``decode(z) -> x_hat`` (or logits),
            or pass ``encode=`` and ``decode=`` callables.
        X_val : array-like or tensor
            A few hundred held-out rows in the shape the model takes: validation KL,
            active units (and, with ``recon_loss``, the ELBO) are measured on them after
            each epoch, and the grids show them.
        labels : array-like, optional
            One per row of ``X_val`` (colours, and one reconstruction per label).
        **options
            ``image_shape``, ``encode``, ``decode``, ``output`` ("auto", "logits",
            "mean" or a callable), ``device``, ``recon_loss`` (``recon_loss(x_hat, x)``
            per row, in nats), ``optimizer`` (for the learning rate), ``steps_per_epoch``,
            ``factors``, and the fields of
            :class:`~vae_widgets.vae.config.MonitorConfig` (``metrics_every``,
            ``visuals_every`` (default 2 s), ``n_samples``, ...). See
            :class:`~vae_widgets.vae.watch.LoopMonitor`.

        Returns
        -------
        VAEWidget
        """
        loop = LoopMonitor(model, X_val, labels, **options)
        self = cls.__new__(cls)
        self._setup(None, loop, epochs=1)
        self._watch_options = options           # for lightning_callback() in a child process
        finish_runs_after_cells(self)
        return self

    @classmethod
    def listen(cls, port: int = 0, host: str = "127.0.0.1", **options) -> "VAEWidget":
        """The same views for a run in another process or on another machine (a ``torchrun``
        or cluster job with ``vae_widgets.lightning.StreamTo``): prints the address and a
        fresh token; Pause/Stop go to the job. Binds ``host`` (loopback by default); see
        :mod:`vae_widgets.widgets.listen`."""
        from .listen import listen_vae
        return listen_vae(cls, port=port, host=host, **options)

    @property
    def remote(self):
        """For a widget fed by another process (:meth:`listen`, or :meth:`lightning_callback`
        under DDP): its link (``address``, ``token``, ``job_env()``); None otherwise."""
        return self._remote

    def lightning_callback(self, **options):
        """A Lightning callback that feeds this :meth:`watch` widget, in this process or from
        rank 0 of ``ddp_spawn``/``ddp_notebook``; see :mod:`vae_widgets.lightning`."""
        from .listen import lightning_callback
        return lightning_callback(self, **options)

    def pythae_callback(self):
        """A pythae ``TrainingCallback`` that feeds this :meth:`watch` widget from pythae's
        ``TrainingPipeline`` or trainer; see :mod:`vae_widgets.pythae`."""
        from ..pythae import PythaeCallback
        return PythaeCallback(self._watching("pythae_callback()"))

    def close(self):
        if self._remote is not None:             # a listener: the job goes on without us
            self._remote.close()
        super().close()

    def _setup(self, trainer, loop, epochs: int):
        producer = trainer if trainer is not None else loop
        source = trainer if trainer is not None else loop.adapter
        super().__init__(latent_dim=source.latent_dim, epochs=epochs,
                         mode="train" if trainer is not None else "watch")
        self._trainer, self._loop = trainer, loop
        self._producer, self._source = producer, source
        self._monitor = producer.monitor
        self._sync_params()
        self._threads_text = ""      # the info line's thread count (from "threads" events)
        self.info = self._describe()
        self._selection_source = None         # None: the source's rows, else (X, labels)
        self._latent_links = []
        base = self._monitor.config.traverse_base
        self.traversal_base = base if base is not None else self._monitor.default_base
        self.observe(self._follow_traversal_base, "traversal_base")
        self.observe(self._follow_selection, "selection_indices")
        if not getattr(source, "can_decode", True):   # a model with only forward()
            self.grids = {k: {"unavailable": "Needs decode(z), which this model does not have "
                                             "(it has forward(x) -> (x_hat, mu, logvar)); "
                                             "pass decode= to VAEWidget.watch to draw it."}
                          for k in ("samples", "traversal", "interpolation")}
        if self._monitor.factor_names:
            self.disentanglement = {"factors": self._monitor.factor_names,
                                    "latent_dim": source.latent_dim, "history": []}
        self._monitor.events.subscribe(self._on_event)

    # ------------------------------------------------------------ public API
    @property
    def _engine(self):
        return self._producer

    @property
    def trainer(self) -> VAETrainer | None:
        """The built-in trainer (None for a widget made with :meth:`watch`)."""
        return self._trainer

    @property
    def source(self):
        """The model's data-space methods (``encode``, ``decode``, ``reconstruct``,
        ``sample``, ...) and its rows (``data``, ``labels``): the trainer, or for
        :meth:`watch` the adapter around your model and ``X_val``."""
        return self._source

    @property
    def monitor(self):
        """The :class:`~vae_widgets.vae.monitor.VAEMonitor` behind the views."""
        return self._monitor

    @property
    def running(self) -> bool:
        if self._loop is not None:
            return self._loop.running
        return super().running

    # --- a user's own loop (watch) ----------------------------------------------------
    def log(self, **terms) -> None:
        """Record one step of your loop (see :meth:`LoopMonitor.log
        <vae_widgets.vae.watch.LoopMonitor.log>`: ``recon``, ``mu``/``logvar`` or ``kl``,
        ``beta``, ``lr``, ``grad_norm``, ``epoch``)."""
        self._watching("log()").log(**terms)

    @property
    def should_stop(self) -> bool:
        """True once Stop was clicked (or ``stop()`` called): your loop should break."""
        return self._watching("should_stop").should_stop

    def end_epoch(self) -> dict:
        """Close the current epoch now (validation, epoch row, alerts)."""
        return self._watching("end_epoch()").end_epoch()

    def finish(self) -> None:
        """End the current run of your loop now (the cell's end does it too)."""
        self._watching("finish()").finish()

    def _watching(self, what: str) -> LoopMonitor:
        if self._loop is None:
            raise RuntimeError(f"{what} is for a widget that watches your own training loop: "
                               f"make it with VAEWidget.watch(model, X_val). This one trains "
                               f"its own model: call train().")
        return self._loop

    def train(self, epochs: int | None = None) -> None:
        """Train ``epochs`` more epochs (default: the widget's ``epochs``) on a background
        thread; returns at once. Resumes instead when paused."""
        if self._trainer is None:
            raise RuntimeError("this widget watches your own training loop (VAEWidget.watch): "
                               "train by running your loop's cell, calling v.log(...) each "
                               "step.")
        if self.running and self._trainer.control.paused:
            self.resume()
            return
        if epochs is not None:
            self.epochs = number(epochs, "epochs", low=1, integer=True)
        if not self.running:
            self._trainer.control.resume()
            self.target_epoch = float(self._trainer.epoch + self.epochs)
        self._start_worker(lambda: self._trainer.fit(self.epochs), name="vae-trainer")

    run = train   # the front end's ▶ sends "run"

    def _on_command(self, action: str, params: dict):
        # The page's Pause on a watched loop with no run live: without kernel subshells a
        # click waits until the loop's cell ends and lands here; held over, it would hold the
        # next run in its first log(), where no Resume can reach it (the click would wait for
        # that cell too). ``v.pause()`` from code keeps its meaning: the next log() holds.
        # (a Lightning run streaming into a watch widget is its producer meanwhile: it pauses)
        if (action == "pause" and self._loop is not None and self._producer is self._loop
                and not self._loop.running):
            self.notice = ("Pause came when the loop was not running (the cell had ended): "
                           "nothing to pause.")
            return
        super()._on_command(action, params)

    def set_params(self, **params) -> dict:
        """Change ``epochs`` or live parameters (beta, lr, kl_schedule, ... for the built-in
        trainer; what is shown, e.g. sample_temperature, for a watched loop).

        Every value is checked before any is applied: one bad value changes nothing, and
        the error names the parameter."""
        epochs = None
        if "epochs" in params:
            epochs = number(page_value("epochs", params.pop("epochs"), integer=True), "epochs",
                            low=1, integer=True)
        params = {k: page_value(k, v) for k, v in params.items()}
        new = self._producer.set_params(**params) if params else {}   # validates all, then applies
        if epochs is not None:
            self.epochs = epochs
        self._sync_params()
        # shown at once; a running fit applies them before its next step
        self._set_traits(**{k: v for k, v in new.items() if k in _SHOWN_PARAMS})
        return new

    @property
    def model(self):
        return self._trainer.model if self._trainer is not None else self._loop.adapter.module

    @property
    def history(self):
        """Per-step metrics (decimated): ELBO, reconstruction, KL (total and per dimension), ..."""
        return self._monitor.history

    @property
    def epoch_history(self):
        return self._monitor.epoch_history

    @property
    def mig_history(self):
        """With ``factors=``: MI matrix and MIG per epoch (see ``VAEMonitor.mig_history``)."""
        return self._monitor.mig_history

    def encode(self, X, labels=None):
        return self._source.encode(X, labels=labels)

    def decode(self, z, labels=None):
        return self._source.decode(z, labels=labels)

    def reconstruct(self, X, labels=None):
        return self._source.reconstruct(X, labels=labels)

    def sample(self, n: int, temperature: float = 1.0, **kw):
        return self._source.sample(n, temperature=temperature, **kw)

    def traverse(self, dim: int, values, base=None, **kw):
        return self._source.traverse(dim, values, base=base, **kw)

    def interpolate(self, a, b, steps: int = 10, **kw):
        return self._source.interpolate(a, b, steps=steps, **kw)

    def anomaly_scores(self, X, labels=None, **kw):
        """Per-sample ``neg_elbo``, ``reconstruction``, ``kl`` (nats) as a DataFrame; see
        :func:`vae_widgets.vae.anomaly.anomaly_scores`."""
        return self._trained("anomaly_scores()").anomaly_scores(X, labels=labels, **kw)

    def _trained(self, what: str) -> VAETrainer:
        if self._trainer is None:
            raise RuntimeError(f"{what} needs the built-in trainer (it knows the model's "
                               f"likelihood); this widget watches your own model.")
        return self._trainer

    def anomalies(self, X, y_true=None, score: str = "neg_elbo", **kw):
        """An :class:`~vae_widgets.widgets.anomaly_widget.AnomalyWidget` of ``X``'s scores:
        histogram with a draggable threshold, the highest-scoring samples, and precision,
        recall, F1 and AUROC against ``y_true``; see
        :func:`vae_widgets.widgets.anomaly_widget.anomalies`."""
        from .anomaly_widget import anomalies
        return anomalies(self._trained("anomalies()"), X, y_true=y_true, score=score, **kw)

    def save(self, path, **kw):
        self._trained("save()").save(path, **kw)

    # ------------------------------------------------------------ linked views
    def latent_tsne(self, labels=None, X=None, *, refresh=None, run: bool = True,
                    **tsne_options):
        """A :class:`~vae_widgets.TSNEWidget` of the latent means, linked to this widget.

        Encodes ``X`` (default: the training data) with the current encoder (a copy of
        the weights taken between two training steps, so it is safe while training
        runs) and embeds the posterior means with t-SNE. Hover shows the data point's
        image (``image_shape`` of the VAE). The views are linked: a lasso in the map
        fills this widget's selection panel (originals and reconstructions,
        ``selection_indices``); a click on a point makes it the traversal base
        (``traversal_base``; only for maps of the training data). Closing either
        widget ends the link (or ``latent_link(t).unlink()``).

        Parameters
        ----------
        labels : array-like (n,), optional
            Colours; default: the VAE's labels (for the training data).
        X : array-like, optional
            Rows to encode instead of the training data (same features).
        refresh : TSNEWidget, optional
            A map made by this method: re-encode its rows with the current encoder and
            re-run it (same widget, same link); other arguments are ignored.
        run : bool
            Start the t-SNE run at once (default). ``False``: press ▶ or call ``run()``.
        **tsne_options
            Any TSNEWidget parameter (``perplexity``, ``n_iter``, ``random_state``, ...).

        Returns
        -------
        TSNEWidget
        """
        if refresh is not None:
            self.latent_link(refresh).refresh()
            return refresh
        return make_latent_tsne(self, labels=labels, X=X, run=run, **tsne_options)

    def latent_link(self, tsne):
        """The :class:`~vae_widgets.widgets.linking.LatentLink` between this widget and
        ``tsne`` (a map from :meth:`latent_tsne`); ValueError when they are not linked."""
        for link in self._latent_links:
            if link.tsne is tsne:
                return link
        raise ValueError("tsne is not linked to this VAEWidget: make it with "
                         "v.latent_tsne() (a closed widget is unlinked).")

    def select(self, indices, X=None, labels=None) -> None:
        """Show rows ``indices`` of ``X`` (default: the training data) and their
        reconstructions in the selection panel (at most 32 drawn); ``[]`` clears it.
        ``labels``: class per row of ``X`` for a conditional VAE."""
        if X is None:
            source = None
        else:
            X = np.asarray(X)
            source = (X.reshape(len(X), -1), labels)
        idx = type(self).selection_indices.validate(self, indices)
        check_rows(idx, len(self._source.data if source is None else source[0]), "indices")
        self._selection_source = source
        if idx == self.selection_indices:
            self._render_selection()
        else:
            self.selection_indices = idx

    @property
    def selection_source(self):
        """The rows ``selection_indices`` refer to: None for the training data, else an
        array given to :meth:`select`."""
        return None if self._selection_source is None else self._selection_source[0]

    def __repr__(self):
        return (f"VAEWidget(latent_dim={self.latent_dim}, status={self.status!r}, "
                f"epoch={self.epoch:.2f}, step={self.step})")

    def _run_progress(self) -> str:
        of = f"/{self.target_epoch:g}" if self.target_epoch > 0 else ""
        return f"epoch {self.epoch:.1f}{of}"

    # ------------------------------------------------------------ selection, traversal base
    @traitlets.validate("traversal_base")
    def _check_traversal_base(self, proposal):
        check_rows([proposal["value"]], len(self._source.data), "traversal_base")
        return proposal["value"]

    @traitlets.validate("selection_indices")
    def _check_selection(self, proposal):
        src = self._selection_source
        check_rows(proposal["value"], len(self._source.data if src is None else src[0]),
                   "selection_indices")
        return proposal["value"]

    def _follow_traversal_base(self, change):
        if self._monitor.config.traverse_base != change["new"]:
            # re-drawn at once when idle or paused, before the next step while training
            self._producer.set_params(traverse_base=change["new"])

    def _follow_selection(self, change):
        if not change["new"]:
            self._selection_source = None
        self._render_selection()

    def _render_selection(self):
        idx = list(self.selection_indices)
        if not idx:
            self._set_traits(grid_selection=None, selection={})
            return
        src = self._source
        X, lab = self._selection_source or (src.data, src.labels)
        # reconstructed between two steps while training runs: safe from any thread
        arr, labels = selection_grid(src, X, idx, lab)
        default = "training data" if self._trainer is not None else "validation rows"
        meta = {"shape": list(arr.shape), "labels": labels, "count": len(idx),
                "shown": int(arr.shape[1]), "step": int(self._producer.step),
                "source": default if self._selection_source is None else "X"}
        with self._sync_lock:
            if list(self.selection_indices) == idx:   # not replaced meanwhile
                self._set_traits(grid_selection=arr, selection=meta)

    def _sync_params(self):
        cfg = self._monitor.config
        self._set_traits(**{k: getattr(cfg, k) for k in _SHOWN_PARAMS if hasattr(cfg, k)})

    def _describe(self) -> str:
        if hasattr(self._producer, "describe"):   # a run in another process (remote.py)
            return self._producer.describe()
        if self._trainer is None:
            a = self._loop.adapter
            what = (f"images {'×'.join(map(str, a.image_shape))}" if a.image_shape
                    else f"{a.n_features:,} features")
            name = type(a.module).__name__ if a.module is not None else "your model"
            how = f" ({a.layout})" if getattr(a, "layout", "") else ""
            return (f"watching your loop · {len(a.data):,} validation rows · {what} · "
                    f"{name}{how}, {a.latent_dim} latent dims · {a.device}")
        t, c = self._trainer, self._trainer.config
        n = len(t.data)
        what = f"images {'×'.join(map(str, t.image_shape))}" if t.image_shape else f"{t.n_features:,} features"
        lik = {"bernoulli": "Bernoulli", "gaussian": "Gaussian (fixed variance)",
               "gaussian_learned": "Gaussian (learned variance)"}.get(t._likelihood.kind, c.likelihood)
        cond = " · conditional" if c.conditional else ""
        threads = f" · {self._threads_text}" if self._threads_text else ""
        t_in = self._table_in
        if t_in is not None and (t_in.dropped or t_in.notes):
            notes = t_in.notes + ([t_in.describe_dropped()] if t_in.dropped else [])
            threads = "".join(f" · {x}" for x in notes) + threads
        return (f"{n:,} samples · {what} · {c.architecture.upper()} VAE, {c.latent_dim} latent "
                f"dims · {lik} likelihood{cond} · {t.device}{threads}")
