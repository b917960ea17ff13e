"""``VAETrainer``: a training loop for a VAE on in-memory data, plus callbacks.

Plain Python, no Jupyter: a widget subscribes to ``trainer.events`` and calls
``fit`` on a worker thread; a script just calls ``fit``.

What is where:

* this module: the model, the optimiser and the loop (one step: index the permuted
  in-memory tensor, forward, loss, backward, Adam step), epochs and validation,
  divergence, pause and live parameter changes;
* ``data``: the data, read and checked once before any thread (architecture and
  likelihood when "auto", standardisation, classes, the split, the model-space
  tensor);
* ``ownership.FitOwnership``: the thread that owns the model while it trains
  (``run_between_steps``, ``snapshot``) and its torch thread count;
* ``checkpoint``: ``state_dict`` / ``save`` / ``load``;
* ``objective``: the loss terms and ``evaluate`` (the ELBO on a set of rows);
* ``monitor.VAEMonitor``: everything measured and shown (metric rows, epoch rows
  and validation scheduling, image grids, alerts, disentanglement, histories and
  the events; see its docstring for the event schema). The same monitor serves a
  user's own loop (``watch.LoopMonitor``), so there is one place where diagnostics
  are computed;
* ``callbacks``: hooks in the shape of Lightning's ``Callback``
  (``on_fit_start``, ``on_metrics_row``, ``on_train_epoch_end``, ``on_pause``,
  ``on_resume``, ``on_divergence``, ``on_fit_end``; ``state_dict``); the built-in
  ``DivergenceGuard`` keeps the last weights known to be finite.

Hot path (per step): forward, loss, backward, Adam step (fused where torch has it),
and the step's reconstruction and per-dimension KL appended to the monitor's window
as detached device tensors (no copy, no sync). Every ``metrics_every`` steps (and at
the last step of each epoch) the window, the per-tensor gradient norms and the
batch's posterior-mean variances become one row: the only syncs. Pause/stop checks,
live parameter changes, queued calls and the visuals timer are attribute reads.
``benchmarks/vae_overhead.py`` measures the result against a bare PyTorch loop.
"""
from __future__ import annotations

import contextlib
import dataclasses
import inspect
import math
import threading
import time
import traceback
from typing import Optional, Sequence

import numpy as np
import pandas as pd
import torch

from .. import _threads
from .._stream import Control, EventBus, Stopped
from .._validation import as_labels, check_names, number, split_labels
from . import checkpoint as _ckpt
from . import data as _data
from . import visuals as _vis
from .callbacks import Callback, DivergenceGuard
from .checkpoint import UnsafeCheckpointError  # noqa: F401  (re-exported)
from .config import LIVE_PARAMS, VAEConfig
from .dataspace import DataSpaceMixin, between_steps
from .dataspace import eval_rows
from .diagnostics import DivergenceMonitor
from .model import VAEModel
from .history import EPOCH_COLUMNS, METRIC_COLUMNS  # noqa: F401  (re-exported)
from .history import MonitorHistories
from .monitor import VAEMonitor, plain  # noqa: F401
from .ownership import FitOwnership
from .objective import Likelihood, evaluate, kl_per_dim, kl_term
from .schedules import beta_factor, warmup_end

class DivergedError(RuntimeError):
    """Training diverged (NaN/inf or an exploding loss); the last finite weights were
    restored where there were any. ``step``: where it diverged; ``restored_step``: whose
    weights are in the model now (None: none were known to be finite)."""

    def __init__(self, message: str, step: int, restored_step: Optional[int]):
        super().__init__(message)
        self.step, self.restored_step = step, restored_step


def make_optimizer(params, lr: float) -> torch.optim.Adam:
    """Adam; the fused implementation where torch has one for the device (on CPU it is
    ~20 % faster per step than the default for the small MLPs used here), else the default."""
    params = list(params)
    try:
        return torch.optim.Adam(params, lr=lr, fused=True)
    except (RuntimeError, ValueError, TypeError):
        return torch.optim.Adam(params, lr=lr)


_foreach_norm = getattr(torch, "_foreach_norm", None)


def _grad_norms(params) -> list:
    """Per-tensor gradient norms as 0-d device tensors (one fused op where torch has it)."""
    grads = [p.grad for p in params if p.grad is not None]
    if _foreach_norm is not None:
        return list(_foreach_norm(grads))
    return [g.norm() for g in grads]


class VAETrainer(FitOwnership, DataSpaceMixin, MonitorHistories):
    """Train a (conditional, beta-) VAE on in-memory data; see the module docstring.

    ``VAETrainer(X, labels=None, config=None, **params)``: ``params`` are the
    fields of ``VAEConfig`` (their defaults live there), e.g. ``image_shape``,
    ``latent_dim``, ``hidden``, ``likelihood``, ``beta``, ``kl_schedule``,
    ``warmup_epochs``, ``n_cycles``, ``ramp_ratio``, ``free_bits``,
    ``conditional``, ``lr``, ``batch_size``, ``val_fraction``, ``seed``,
    ``device``, ``standardize``, ``visuals_every``, ``metrics_every``.

    ``X``: numpy array, pandas DataFrame or torch tensor of shape (n, features),
    or images (n, H, W) / (n, C, H, W) (flattened; ``image_shape`` inferred), or a
    ``torch.utils.data.Dataset`` of ``x`` or ``(x, y)`` items (``y`` become the
    labels). ``labels``: one per row, or the name of a column of a DataFrame ``X``
    (taken out of ``X``).

    ``factors``: optional table of known generative factors, one row per data row
    (a DataFrame such as ``datasets.shapes()[1]``, a dict of columns or an array):
    after every epoch the mutual information between each latent dimension and each
    factor, and the MIG score, are measured on a fixed subsample
    (``factor_sample`` rows, ``factor_bins`` bins; see ``disentangle``), published as
    a ``"disentanglement"`` event and kept in ``mig_history``.

    ``callbacks``: :class:`~vae_widgets.vae.callbacks.Callback` objects called at the
    hooks of ``fit`` (after the built-in ``DivergenceGuard``).

    Every check runs here, before any thread: bad input raises ``ValueError`` or
    ``TypeError`` naming the argument and what to do.
    """

    def __init__(self, X, labels=None, config: Optional[VAEConfig] = None, *, factors=None,
                 callbacks: Sequence[Callback] = (), **params):
        if config is not None:
            if not isinstance(config, VAEConfig):
                raise TypeError(f"config must be a VAEConfig, got {type(config).__name__}.")
            check_names(params, VAEConfig.field_names(), "VAETrainer")
            cfg = dataclasses.replace(config, **params).validate()
        else:
            cfg = VAEConfig.from_kwargs(**params)
        for cb in callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be vae_widgets.vae.callbacks.Callback "
                                f"objects, got {type(cb).__name__}.")
        X, labels = split_labels(X, labels)
        raw, image_shape, names = _data.read_data(X, cfg.image_shape)
        lab = as_labels(labels, raw.shape[0], "labels")
        self._setup(raw, lab, cfg, image_shape, names, callbacks=callbacks)
        if factors is not None:
            self.set_factors(factors)

    # ==================================================================================
    # set-up
    # ==================================================================================
    def _setup(self, raw: np.ndarray, lab, cfg: VAEConfig, image_shape, names,
               norm: Optional[dict] = None, classes: Optional[list] = None,
               callbacks: Sequence[Callback] = ()):
        d = _data.prepare(raw, lab, cfg, image_shape, names, norm=norm, classes=classes)
        self.config = cfg
        self.device = device = d.device
        self.image_shape = d.image_shape
        self.feature_names = names
        self.data = d.data                    # flat (n, F) float32, data space
        self.labels = d.labels                # raw labels or None
        self.classes = d.classes
        self.conditional = cfg.conditional
        self.latent_dim = cfg.latent_dim
        self.n_features = nf = d.data.shape[1]
        self._mean, self._std = d.mean, d.std
        lik = cfg.likelihood
        self._likelihood = Likelihood("gaussian_learned" if lik == "gaussian_learned" else lik,
                                      cfg.gaussian_std)
        self._train_idx, self._val_idx = d.train_idx, d.val_idx
        self._n_train = n_train = d.n_train
        self._class_index = d.class_index
        self.display = d.display
        self._X = d.X                         # all rows in model space (see data.prepare)
        self._train_idx_t, self._val_idx_t = d.train_idx_t, d.val_idx_t
        self._Y, self._Yval = d.Y, d.Yval
        self._mean_t = torch.as_tensor(d.mean, dtype=torch.float32, device=device)
        self._std_t = torch.as_tensor(d.std, dtype=torch.float32, device=device)

        # --- model and optimiser (seeded, without touching the global RNG) -------------------
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            model = VAEModel(nf, cfg.latent_dim, image_shape=self.image_shape,
                             architecture=cfg.architecture,
                             hidden=cfg.hidden, conv_channels=cfg.conv_channels,
                             n_classes=len(self.classes) if cfg.conditional else 0,
                             learn_variance=lik == "gaussian_learned")
        self._model = model.to(device)
        self._mode_sensitive = any(
            isinstance(m, (torch.nn.modules.dropout._DropoutNd,
                           torch.nn.modules.batchnorm._NormBase)) for m in self._model.modules())
        self._opt = make_optimizer(self._model.parameters(), cfg.lr)
        self._gen = torch.Generator(device=device)
        self._gen.manual_seed(cfg.seed)
        self._eval_gen = torch.Generator(device=device)
        self._sample_gen = torch.Generator()
        self._sample_gen.manual_seed(cfg.seed + 2)

        # --- run state ------------------------------------------------------------------
        self.control = Control()
        self.step = 0
        self.epoch = 0                        # completed epochs
        self._pos = 0
        self._perm: Optional[torch.Tensor] = None
        self._schedule_total: Optional[float] = cfg.schedule_epochs
        self._steps_per_epoch = math.ceil(n_train / cfg.batch_size)
        self._target = 0
        self._train_time = 0.0
        self._win = 0
        self._pending: dict = {}
        self._lock = threading.Lock()
        self._calls: list = []                # run_between_steps() calls, served between steps
        self._fit_thread: Optional[int] = None
        self._running = False
        self._parked = False
        #: this fit's thread counts: {step, threads, previous, reason}; see _threads_begin
        self.thread_log: list[dict] = []
        self.thread_policy: Optional[_threads.ThreadPolicy] = None
        self._threads_held = False
        pool = self._val_idx if len(self._val_idx) else self._train_idx
        self.monitor = VAEMonitor(self, cfg, pool, events=EventBus())
        self.callbacks: list[Callback] = [DivergenceGuard(), *callbacks]

    def _onehot(self, lab) -> torch.Tensor:
        return _data.onehot(lab, self.classes, self._class_index)

    # ==================================================================================
    # training
    # ==================================================================================
    def fit(self, epochs: int = 10) -> "VAETrainer":
        """Train ``epochs`` more epochs in the calling thread; call again to continue.

        An epoch interrupted by ``control.stop()`` is resumed where it stopped by the
        next ``fit``. A stop request made before ``fit`` starts is cleared; a pause
        requested before stays in force (``fit`` waits for resume). Exceptions are
        published as ``"error"`` and re-raised. When training diverges the last
        weights known to be finite are restored and :class:`DivergedError` is raised
        (the alert says which step's weights came back).
        """
        epochs = number(epochs, "epochs", low=1, integer=True)
        if self._running:
            raise RuntimeError("fit() is already running on another thread; call "
                               "control.stop() and wait for it first.")
        self._running = True
        self._fit_thread = threading.get_ident()
        self.control.begin()                      # keeps a pause in force
        target = self.epoch + epochs
        if self._schedule_total is None:
            self._schedule_total = float(target)
        self._target = target
        self._fit_start = time.perf_counter()
        self._time_base = self._train_time
        self.monitor.reset_visual_clock(self._fit_start)
        self.monitor.flush_rows()
        if self._pending:
            self._apply_pending()
        self._hook("on_fit_start", target)
        self._status("running")
        outcome = "error"
        try:
            self._threads_begin()
            outcome = self._loop(target)
        except Stopped:
            outcome = "stopped"
            self._finish()
            self._status("stopped", "stop requested")
            self._last_grids()
        except KeyboardInterrupt:                 # Ctrl-C in a script: a stop, then re-raise
            outcome = "interrupted"
            self._train_time = self._now()
            self.monitor.flush_rows()
            self._status("stopped", "interrupted")
            raise
        except BaseException as exc:
            self._train_time = self._now()
            tb = traceback.format_exc()
            self.monitor.error(f"{type(exc).__name__}: {exc}", tb)
            self._status("error", f"{type(exc).__name__}: {exc}")
            raise
        else:
            self._finish()
            if outcome == "diverged":
                step, restored, reason = self._divergence
                msg = (f"training diverged at step {step} ({reason}); "
                       + (f"the weights of step {restored} were restored"
                          if restored is not None else "no finite weights were known to "
                          "restore"))
                self._status("error", msg)
                self._last_grids()
                raise DivergedError(msg, step, restored)
            self._status("done" if outcome == "done" else "stopped",
                         None if outcome == "done" else outcome)
            self._last_grids()
        finally:
            self._threads_end()
            with self._lock:
                self._running = False
                self._parked = False
            self._serve_calls()       # calls queued as fit ended: nobody else will
            self._hook("on_fit_end", outcome)
        return self

    def _hook(self, name: str, *args):
        for cb in self.callbacks:
            getattr(cb, name)(self, *args)

    def _now(self) -> float:
        return self._time_base + (time.perf_counter() - self._fit_start)

    def _finish(self):
        """The run's clock and last rows, before its status."""
        self._train_time = self._now()
        self.monitor.flush_rows()

    def _last_grids(self):
        """The run's last grids, after its status (a Stop shows at once; under load the
        grids take a few tenths of a second)."""
        if self.config.visuals_every is not None or self.monitor._visuals_requested:
            self._render(scheduled=True)

    def _loop(self, target: int) -> str:
        cfg = self.config
        model, opt, lik = self._model, self._opt, self._likelihood
        X, Y = self._X, self._Y
        n, dev, g = self._n_train, self.device, self._gen
        wait = self.control.wait_while_paused
        on_pause, on_resume, serve = self._on_pause, self._on_resume, self._serve_calls
        params = [p for p in model.parameters()]
        mon = self.monitor
        learned_var = model.out_log_var_raw is not None
        spe = self._steps_per_epoch
        clock = time.perf_counter
        policy = self.thread_policy
        control = self.control

        def stop_asked():
            return control.stop_requested

        while self.epoch < target:
            if self._perm is None:
                self._perm = torch.randperm(n, generator=g, device=dev)
                self._pos = 0
            # the epoch's order as rows of X (one gather an epoch, none per step)
            perm = self._train_idx_t[self._perm]
            bs = cfg.batch_size
            while self._pos < n:
                wait(on_pause, on_resume, serve)
                if self._pending:
                    self._apply_pending()
                if self._calls:
                    self._serve_calls()
                if mon.visuals_due(clock()):
                    self._render(scheduled=True, until=stop_asked)
                t_step = clock()
                start = self._pos
                idx = perm[start:start + bs]
                self._pos = start + bs
                xb = X[idx]
                yb = Y[idx] if Y is not None else None
                beta = (cfg.beta if cfg.kl_schedule == "constant"
                        else cfg.beta * self._factor(self.step / spe))

                mu, logvar = model.encode(xb, yb)
                eps = torch.randn(mu.shape, generator=g, device=dev)
                out = model.decode(mu + eps * torch.exp(0.5 * logvar), yb)
                recon = lik.nll(out, xb, model.out_log_var if learned_var else None)
                klpd = kl_per_dim(mu, logvar)
                kl = kl_term(klpd, cfg.free_bits)
                loss = recon + (kl if beta == 1.0 else beta * kl)
                for p in params:      # = opt.zero_grad(set_to_none=True), without its ~6 us
                    p.grad = None     # of profiler/hook wrapping per step
                loss.backward()

                self.step += 1
                self._win += 1
                # a row every metrics_every steps and at each epoch end; a row that would
                # leave fewer than metrics_every/2 steps before the epoch end waits for it
                row_due = self._pos >= n or (self._win >= cfg.metrics_every and
                                             self._pos + (cfg.metrics_every // 2) * bs < n)
                gn = None
                if cfg.clip_grad is not None:
                    gn = [torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad)]
                opt.step()
                # values, not graphs: a kept graph is torn down inside the next row, which
                # made each metrics row ~0.2 ms dearer than two detach() calls per step
                mon.window.append((recon.detach(), klpd.detach()))
                # (the parameter list is built once: model.parameters() walks the module tree)
                if row_due:
                    if not self._row(mu, gn or _grad_norms(params), beta):
                        return "diverged"
                elif policy is not None:     # (a row's step does more than train: not timed)
                    policy.sample(1, clock() - t_step)
            self.epoch += 1
            self._perm = None
            self._pos = 0
            self._end_epoch()
        return "done"

    def _row(self, mu: torch.Tensor, gn: list, beta: float) -> bool:
        """One metrics row from the window (see ``VAEMonitor.close_row``); False when the
        numbers diverged (the weights are then restored and the run ends)."""
        self._win = 0
        row, reason = self.monitor.close_row(
            step=self.step, progress=self._progress(), time=self._now(), beta=beta,
            lr=self._opt.param_groups[0]["lr"], mu=mu, grad_norms=gn,
            free_bits=self.config.free_bits)
        if reason is not None:
            self._diverged(reason)
            return False
        self._hook("on_metrics_row", row)
        return True

    def _diverged(self, reason: str):
        step, restored = self.step, None
        for cb in self.callbacks:
            got = cb.on_divergence(self, reason)
            if got is not None:
                restored = got
        self.monitor.drop_window()
        self._divergence = (step, restored, reason)
        self.monitor.alert(DivergenceMonitor.make_alert(reason, step, restored), step,
                           self._progress())

    def _factor(self, t: float) -> float:
        cfg = self.config
        return beta_factor(cfg.kl_schedule, t, warmup=cfg.warmup_epochs,
                           total=self._schedule_total or 0.0, n_cycles=cfg.n_cycles,
                           ratio=cfg.ramp_ratio)

    def _progress(self) -> float:
        n = self._n_train
        return self.epoch + min(self._pos, n) / n

    @property
    def _Xtr(self) -> torch.Tensor:
        """The training rows in model space (a copy: for inspection, not the loop)."""
        return self._X[self._train_idx_t]

    @property
    def _Xval(self) -> Optional[torch.Tensor]:
        """The validation rows in model space (a copy, for inspection), or None."""
        return None if self._val_idx_t is None else self._X[self._val_idx_t]

    @property
    def _Ytr(self) -> Optional[torch.Tensor]:
        return None if self._Y is None else self._Y[self._train_idx_t]

    # --- the weights and optimiser moments, for DivergenceGuard --------------------------
    def state_tensors(self) -> list:
        """Weights then optimiser moments, in a fixed order (live tensors: copy them)."""
        ts = list(self._model.state_dict().values())
        for st in self._opt.state.values():
            ts += [v for v in st.values() if isinstance(v, torch.Tensor)]
        return ts

    def load_state_tensors(self, saved: list) -> None:
        """Copy ``saved`` (from ``state_tensors``) back in place."""
        src = self.state_tensors()
        with torch.no_grad():
            if len(src) == len(saved):
                for d, s in zip(src, saved):
                    d.copy_(s)
            else:  # optimiser state appeared after the copy: keep weights, reset moments
                for d, s in zip(self._model.state_dict().values(), saved):
                    d.copy_(s)
                self._opt.state.clear()

    # --- epochs -------------------------------------------------------------------------
    def _end_epoch(self):
        cfg = self.config
        n_train = self._n_train
        ev = None
        if self.monitor.validation_due(self.epoch, n_train, self.epoch >= self._target):
            if self._val_idx_t is not None:
                ev = self._evaluate(self._X, self._Yval, rows=self._val_idx_t)
            else:
                rows = self._train_idx_t[:512]  # no validation set: active units on a sample
                ev = self._evaluate(self._X[rows], None if self._Y is None else self._Y[rows])
        w_end = warmup_end(cfg.kl_schedule, warmup=cfg.warmup_epochs,
                           total=self._schedule_total or 0.0, n_cycles=cfg.n_cycles,
                           ratio=cfg.ramp_ratio)
        grace_end = max(w_end + cfg.collapse_grace_epochs,
                        w_end + cfg.collapse_grace_steps / self._steps_per_epoch)
        row = self.monitor.end_epoch(
            epoch=self.epoch, step=self.step, time=self._now(),
            beta=cfg.beta * self._factor(self.step / self._steps_per_epoch),
            lr=self._opt.param_groups[0]["lr"], validation=ev,
            grace_over=self.epoch >= grace_end, has_val_set=self._val_idx_t is not None)
        self._hook("on_train_epoch_end", row)

    @property
    def validation_interval(self) -> int:
        """Epochs between validation passes: ``val_every``, with "auto" resolved."""
        return self.monitor.validation_interval(self._n_train)

    def _evaluate(self, X: torch.Tensor, Y: Optional[torch.Tensor],
                  rows: Optional[torch.Tensor] = None) -> dict:
        """ELBO terms and active units on ``X`` (or ``X[rows]``; see
        ``objective.evaluate``), in eval mode with fixed noise: comparable epochs."""
        model = self._model
        # eval mode only matters for dropout / normalisation layers (the built-in models
        # have none); skipping the module-tree walk saves ~25 % of a small evaluation
        toggle = self._mode_sensitive and model.training
        if toggle:
            model.eval()
        try:
            self._eval_gen.manual_seed(self.config.seed + 1)
            return evaluate(model, self._likelihood, X, Y, rows, generator=self._eval_gen,
                            chunk=eval_rows(self.n_features),
                            active_threshold=self.config.active_threshold)
        finally:
            if toggle:
                model.train()

    @between_steps
    def evaluate(self, X=None, labels=None) -> dict:
        """ELBO terms (``elbo``, ``recon``, ``kl``, ``kl_per_dim``) and ``active_units`` on
        ``X`` (default: the validation rows), with fixed noise."""
        if X is None:
            if self._val_idx_t is not None:
                return self._evaluate(self._X, self._Yval, rows=self._val_idx_t)
            return self._evaluate(self._Xtr, self._Ytr)
        x = self._prep(X, "X")
        y = self._prep_labels(labels, x.shape[0])
        return self._evaluate(x, y)

    def anomaly_scores(self, X, labels=None, **kw) -> pd.DataFrame:
        """Per-sample ``neg_elbo``, ``reconstruction``, ``kl`` (nats) of ``X``: higher = less
        like the training data. See :func:`vae_widgets.vae.anomaly.anomaly_scores`
        (``n_samples``, ``z``, ``seed``)."""
        from .anomaly import anomaly_scores
        return anomaly_scores(self, X, labels, **kw)

    # --- status, pause ----------------------------------------------------------------------
    def _status(self, state: str, reason: Optional[str] = None):
        self.monitor.status(state, epoch=self._progress(), step=self.step,
                            target_epoch=self._target or self.epoch, reason=reason)

    def _on_pause(self):
        self.monitor.flush_rows()
        self._render(scheduled=True)
        self._pause_start = time.perf_counter()
        self._status("paused")
        self._hook("on_pause")
        self._parked = True       # from here until on_resume the loop is blocked

    def _on_resume(self):
        self._parked = False
        if self._pending:
            self._apply_pending()
        # paused time is not training time
        self._fit_start += time.perf_counter() - self._pause_start
        self._hook("on_resume")
        self._status("running")

    # ==================================================================================
    # live parameters
    # ==================================================================================
    def set_params(self, **params) -> dict:
        """Change live parameters (``LIVE_PARAMS``) from any thread.

        Every value is validated first, and nothing is applied unless all are valid
        (errors raise in the caller's thread, naming the parameter); a running
        ``fit`` applies them before its next step; when idle or paused they apply now
        (and grids affected by a visual parameter are re-rendered and published at
        once). Each change is logged in ``param_history`` and published as a
        ``"params"`` event. Returns the validated values.
        """
        check_names(params, LIVE_PARAMS, "set_params")
        trial = dataclasses.replace(self.config, **params).validate()
        new = {k: getattr(trial, k) for k in params}
        n = len(self.data)
        if new.get("traverse_base") is not None and new["traverse_base"] >= n:
            raise ValueError(f"traverse_base={new['traverse_base']} is not a row of the data "
                             f"(0..{n - 1}).")
        if new.get("interpolation_pairs") is not None:
            bad = [i for p in new["interpolation_pairs"] for i in p if i >= n]
            if bad:
                raise ValueError(f"interpolation_pairs has row {bad[0]}, but the data has {n} "
                                 f"rows (0..{n - 1}).")
        with self._lock:
            self._pending.update(new)
        if self._idle:
            self._apply_pending()
            if self.monitor._visuals_requested:
                self._render()
        return new

    def _apply_pending(self):
        with self._lock:
            new, self._pending = self._pending, {}
        if not new:
            return
        cfg = self.config
        previous = {k: plain(getattr(cfg, k)) for k in new}
        for k, v in new.items():
            setattr(cfg, k, v)
            if k == "lr":
                for group in self._opt.param_groups:
                    group["lr"] = v
        if "visuals_every" in new:
            self.monitor.reset_visual_clock(time.perf_counter())
        if set(new) & {"sample_temperature", "traverse_base", "interpolation_pairs"}:
            self.monitor.request_visuals()
        self.monitor.record_params(step=self.step, epoch=self._progress(),
                                   time=self._now() if self._running else self._train_time,
                                   changes=new, previous=previous)

    # ==================================================================================
    # visuals
    # ==================================================================================
    def render_visuals(self, kinds: Sequence[str] = _vis.KINDS, publish: bool = True) -> dict:
        """Compute image grids now: ``{kind: (uint8 array, labels)}``.

        While ``fit`` runs (and is not parked in a pause) this only asks the training
        thread to render before its next step and returns ``{}``; the grids arrive as
        events.
        """
        if not self._idle:
            self.monitor.request_visuals()
            return {}
        return self._render(kinds, publish=publish)

    def _render(self, kinds: Sequence[str] = _vis.KINDS, publish: bool = True,
                scheduled: bool = False, until=None) -> dict:
        return self.monitor.render(kinds, step=self.step, progress=self._progress(),
                                   publish=publish, scheduled=scheduled, until=until)

    @contextlib.contextmanager
    def rendering(self):
        """Eval mode and no gradients while grids are drawn. Only models with dropout or
        normalisation layers need the mode walk (the built-in models have none; skipping
        it saves ~25 % of a small evaluation)."""
        model = self._model
        toggle = self._mode_sensitive and model.training
        if toggle:
            model.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            if toggle:
                model.train()

    # ==================================================================================
    # Python API (data space in, data space out)
    # ==================================================================================
    @property
    def model(self) -> VAEModel:
        return self._model

    @property
    def events(self) -> EventBus:
        """Where everything the trainer does is published (the monitor's event bus)."""
        return self.monitor.events

    @property
    def running(self) -> bool:
        return self._running

    # ==================================================================================
    # disentanglement (known factors)
    # ==================================================================================
    def set_factors(self, factors) -> None:
        """Measure MI and MIG against ``factors`` (one row per data row) after each epoch,
        on a fixed subsample of ``factor_sample`` rows; ``None`` stops measuring."""
        self.monitor.set_factors(factors, seed=self.config.seed)

    @property
    def factor_names(self) -> Optional[list]:
        """Names of the factors given with ``factors=``, or None."""
        return self.monitor.factor_names

    @between_steps
    def measure_disentanglement(self) -> dict:
        """MI (latent dimension x factor, nats), normalised MI, entropies, per-factor gaps
        and MIG of the current model on the probe rows (needs ``factors``)."""
        return self.monitor.measure_disentanglement()

    # ==================================================================================
    # checkpoints
    # ==================================================================================
    def state_dict(self) -> dict:
        """Everything needed to resume this run, in types ``torch.load(weights_only=True)``
        reads: weights, optimiser, the loop's position and generators, the monitor's
        histories and alert states, and each callback's ``state_dict``."""
        return _ckpt.state_dict(self)

    def load_state_dict(self, state: dict) -> None:
        """Put a ``state_dict`` back (same data shape and config)."""
        _ckpt.load_state_dict(self, state)

    def save(self, path, include_data: bool = True) -> None:
        """Write everything needed to resume (``state_dict``, config, standardisation,
        classes and, by default, the data) to ``path`` with ``torch.save``; readable with
        ``torch.load(weights_only=True)``. Written to a temporary file first and moved
        over ``path`` only when complete, so a failed save (full disk, ...) leaves an
        existing file as it was. See :mod:`vae_widgets.vae.checkpoint`."""
        if not self._idle:
            raise RuntimeError("save() while fit() runs: pause or stop training first.")
        _ckpt.write(self, path, include_data)

    @classmethod
    def load(cls, path, X=None, labels=None, device: Optional[str] = None) -> "VAETrainer":
        """Rebuild a trainer from ``save``; training continues with ``fit``.

        Uses ``torch.load(weights_only=True)``: a file holding pickled objects that
        could run code is refused with ``UnsafeCheckpointError``. ``X``/``labels``
        are needed when the checkpoint was saved with ``include_data=False`` (and
        replace the stored data otherwise). ``device`` overrides the saved one.
        """
        return _ckpt.rebuild(cls, path, X, labels, device)

    def __repr__(self) -> str:
        c = getattr(self, "config", None)
        if c is None or not hasattr(self, "step"):
            return "VAETrainer(<not set up>)"
        shape = f"image_shape={self.image_shape}" if self.image_shape else f"features={self.n_features}"
        return (f"VAETrainer({shape}, latent_dim={c.latent_dim}, {c.architecture}, "
                f"{c.likelihood}, beta={c.beta:g}, kl_schedule={c.kl_schedule!r}, "
                f"epoch={self.epoch}, step={self.step}, device={self.device})")


def _trainer_signature() -> inspect.Signature:
    P = inspect.Parameter
    ps = [P("self", P.POSITIONAL_OR_KEYWORD), P("X", P.POSITIONAL_OR_KEYWORD),
          P("labels", P.POSITIONAL_OR_KEYWORD, default=None),
          P("config", P.POSITIONAL_OR_KEYWORD, default=None),
          P("factors", P.KEYWORD_ONLY, default=None),
          P("callbacks", P.KEYWORD_ONLY, default=())]
    defaults = {f.name: f.default for f in dataclasses.fields(VAEConfig)}
    for name in VAEConfig.field_names():
        ps.append(P(name, P.KEYWORD_ONLY, default=defaults[name]))
    return inspect.Signature(ps)


VAETrainer.__init__.__signature__ = _trainer_signature()
