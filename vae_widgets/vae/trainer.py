"""``VAETrainer``: train a VAE on in-memory data and publish what happens.

Plain Python, no Jupyter: a widget subscribes to ``trainer.events`` and calls
``fit`` on a worker thread; a script just calls ``fit``.

Hot path (per step): index the permuted in-memory tensor, forward, loss,
backward, Adam step (fused where torch has it), and keep the step's
reconstruction and per-dimension KL as detached device tensors (no copy, no
sync). Every ``metrics_every`` steps (and at the last step of each epoch) the
kept terms, the per-tensor gradient norms and the batch's posterior-mean
variances are stacked and copied to the host: the only syncs. Pause/stop checks,
live parameter changes and the visuals timer are plain Python attribute reads.
``benchmarks/vae_overhead.py`` measures the result against a bare PyTorch loop.

Events (``trainer.events``, an ``EventBus``; every ``data`` field listed):

* ``"status"``: ``state`` (running | paused | done | stopped | error),
  ``epoch`` (float: epochs completed, fractional mid-epoch), ``step``,
  ``target_epoch`` (where the current ``fit`` stops), ``reason`` (str or None:
  "stop requested", "diverged", "interrupted", the error message).
* ``"metrics"``: ``rows``: a list of row dicts, sent at most every
  ``publish_every`` seconds and at epoch ends, pauses and the end. Row keys
  (``METRIC_COLUMNS``): ``step`` (steps done), ``epoch`` (float), ``time``
  (training seconds), ``elbo`` (= -(recon + kl), nats per data point),
  ``loss`` (recon + beta * KL with free bits: what is minimised), ``recon``,
  ``kl``, ``kl_per_dim`` (list of latent_dim floats) — all averaged over the
  steps since the previous row — ``active_units`` (on the row's last batch),
  ``grad_norm`` (last step, before clipping), ``lr``, ``beta`` (effective:
  beta times the schedule factor).
* ``"epoch"``: one row as keyword fields (``EPOCH_COLUMNS``): ``epoch`` (int),
  ``step``, ``time``, ``train_elbo``/``train_recon``/``train_kl`` (means over
  the epoch's steps), ``val_elbo``/``val_recon``/``val_kl``/``val_kl_per_dim``
  (validation rows, fixed noise; NaN without a validation set),
  ``active_units`` (validation rows), ``beta``, ``lr``. Epochs that do not
  validate (see ``val_every``) carry NaN validation terms and active units
  (``val_kl_per_dim`` None).
* ``"images"``: ``grid`` (reconstructions | samples | traversal | interpolation),
  ``array`` (uint8, ``(rows, cols, C, H, W)``), ``labels`` (dict, see
  ``visuals``), ``step``, ``epoch``.
* ``"alert"``: ``alert`` (collapse | divergence | overfitting), ``message``,
  ``fix``, ``step``, ``epoch``. (``trainer.alerts`` keeps them as dicts with
  ``kind``, ``message``, ``fix``, ``step``, ``epoch``.)
* ``"params"``: ``step``, ``epoch``, ``changes`` ({name: new value}),
  ``previous`` ({name: old value}).
* ``"disentanglement"`` (only with ``factors=``, after each epoch): ``epoch``,
  ``step``, ``mig``, ``gaps`` (per factor), ``mi`` and ``mi_normalized`` (lists,
  latent dim x factor), ``entropy`` (per factor), ``factors`` (names), ``seconds``
  (cost of the measurement).
* ``"error"``: ``message``, ``traceback``.
"""
from __future__ import annotations

import copy
import dataclasses
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
import inspect
import math
import threading
import time
import traceback
from typing import Any, Optional, Sequence

import numpy as np
import pandas as pd
import torch

from .._stream import Control, EventBus, Stopped
from .._validation import (_to_numpy, as_data_matrix, as_image_shape, as_labels, number,
                           split_labels)
from . import checkpoint as _ckpt
from .dataspace import EVAL_CHUNK as _EVAL_CHUNK
from .dataspace import DataSpaceMixin, between_steps
from . import disentangle as _dis
from . import visuals as _vis
from .config import LIVE_PARAMS, VAEConfig, check_names
from .diagnostics import CollapseMonitor, DivergenceMonitor, OverfitMonitor, active_units
from .model import VAEModel
from .objective import Likelihood, kl_per_dim, kl_term
from .schedules import beta_factor, warmup_end
from .checkpoint import UnsafeCheckpointError  # noqa: F401  (re-exported)

MAX_CLASSES = 1000
_SNAPSHOT_EVERY_S = 0.5

METRIC_COLUMNS = ("step", "epoch", "time", "elbo", "loss", "recon", "kl", "kl_per_dim",
                  "active_units", "grad_norm", "lr", "beta")
EPOCH_COLUMNS = ("epoch", "step", "time", "train_elbo", "train_recon", "train_kl",
                 "val_elbo", "val_recon", "val_kl", "val_kl_per_dim", "active_units",
                 "beta", "lr")


#: with val_every="auto", validate every epoch once an epoch has this many training rows
_VAL_MIN_ROWS = 4096
#: ... and at least every this many epochs (the curves and alerts need validation points)
_VAL_MAX_GAP = 5


def _resolve_device(dev: str) -> torch.device:
    if dev == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        d = torch.device(dev)
    except (RuntimeError, TypeError):
        raise ValueError(f"device={dev!r} is not a device; use 'auto', 'cpu', 'cuda' or "
                         f"'cuda:0'.") from None
    if d.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={dev!r} but torch sees no CUDA GPU; use device='auto' "
                         f"(GPU when there is one) or device='cpu'.")
    if d.type == "mps" and not (hasattr(torch.backends, "mps")
                                and torch.backends.mps.is_available()):
        raise ValueError(f"device={dev!r} is not available here; use device='auto' or 'cpu'.")
    return d


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


def _read_data(X: Any, image_shape):
    """(n, F) float64 matrix, image shape (from the argument or X's own shape), feature names."""
    names = None
    if hasattr(X, "columns") and hasattr(X, "select_dtypes"):
        names = [str(c) for c in X.columns]
    arr = X
    if not (hasattr(X, "columns") and hasattr(X, "select_dtypes")):
        try:
            arr = _to_numpy(X, "X")
            if arr.dtype == object:
                arr = X
        except Exception:
            arr = X
    if isinstance(arr, np.ndarray) and arr.ndim > 2:
        if arr.ndim > 4:
            raise ValueError(f"X has shape {arr.shape}; pass (n, features), (n, H, W) or "
                             f"(n, C, H, W) images.")
        if image_shape is None:
            if arr.ndim == 4 and arr.shape[1] not in (1, 3) and arr.shape[-1] in (1, 3):
                raise ValueError(f"X has shape {arr.shape}, which looks channels-last; pass "
                                 f"(n, C, H, W): X.transpose(0, 3, 1, 2).")
            image_shape = tuple(arr.shape[1:])
        elif int(np.prod(arr.shape[1:])) != int(np.prod(tuple(image_shape))):
            raise ValueError(f"image_shape={tuple(image_shape)} holds "
                             f"{int(np.prod(tuple(image_shape)))} pixels but each image in X "
                             f"has shape {arr.shape[1:]}; pass image_shape={arr.shape[1:]}.")
        arr = arr.reshape(arr.shape[0], -1)
    M = as_data_matrix(arr, "X")
    return M, image_shape, names


_plain = _ckpt.plain


class VAETrainer(DataSpaceMixin):
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

    Every check runs here, before any thread: bad input raises ``ValueError`` or
    ``TypeError`` naming the argument and what to do.
    """

    def __init__(self, X, labels=None, config: Optional[VAEConfig] = None, *, factors=None,
                 **params):
        if config is not None:
            if not isinstance(config, VAEConfig):
                raise TypeError(f"config must be a VAEConfig, got {type(config).__name__}.")
            check_names(params, VAEConfig.field_names(), "VAETrainer")
            cfg = dataclasses.replace(config, **params).validate()
        else:
            cfg = VAEConfig.from_kwargs(**params)
        X, labels = split_labels(X, labels)
        raw, image_shape, names = _read_data(X, cfg.image_shape)
        lab = as_labels(labels, raw.shape[0], "labels")
        self._setup(raw, lab, cfg, image_shape, names)
        if factors is not None:
            self.set_factors(factors)

    # ==================================================================================
    # set-up
    # ==================================================================================
    def _setup(self, raw: np.ndarray, lab, cfg: VAEConfig, image_shape, names,
               norm: Optional[dict] = None, classes: Optional[list] = None):
        n, nf = raw.shape
        image_shape = as_image_shape(image_shape, nf, "image_shape")
        cfg.image_shape = image_shape

        # --- architecture -----------------------------------------------------------
        arch = cfg.architecture
        if arch == "auto":
            arch = "conv" if image_shape is not None else "mlp"
        if arch == "conv" and image_shape is None:
            raise ValueError("architecture='conv' needs image data: pass image_shape=(H, W) "
                             "or (C, H, W), or use architecture='mlp'.")
        cfg.architecture = arch

        # --- likelihood and scaling ---------------------------------------------------
        lo, hi = float(raw.min()), float(raw.max())
        in01 = lo >= 0.0 and hi <= 1.0
        lik = cfg.likelihood
        if lik == "auto":
            lik = "bernoulli" if in01 else "gaussian"
        if lik == "bernoulli" and not in01:
            raise ValueError(f"likelihood='bernoulli' needs data in [0, 1] but X spans "
                             f"[{lo:.4g}, {hi:.4g}]; rescale X (e.g. (X - X.min()) / "
                             f"(X.max() - X.min())) or use likelihood='gaussian'.")
        std_mode = cfg.standardize
        if std_mode == "auto":
            std_mode = lik != "bernoulli"
        if std_mode and lik == "bernoulli":
            raise ValueError("standardize=True cannot be used with likelihood='bernoulli' "
                             "(standardised data leave [0, 1]); use standardize=False or "
                             "likelihood='gaussian'.")
        cfg.likelihood, cfg.standardize = lik, bool(std_mode)

        if norm is None:
            if std_mode and image_shape is None:
                mean, std = raw.mean(0), raw.std(0)
            elif std_mode:
                mean, std = np.full(nf, raw.mean()), np.full(nf, raw.std())
            else:
                mean, std = np.zeros(nf), np.ones(nf)
            std = np.where(std > 0, std, 1.0)
        else:
            mean, std = np.asarray(norm["mean"], np.float64), np.asarray(norm["std"], np.float64)

        # --- labels -----------------------------------------------------------------------
        if cfg.conditional and lab is None:
            raise ValueError("conditional=True needs labels: pass labels=y (one class per row), "
                             "or use conditional=False.")
        if classes is None and lab is not None:
            try:
                classes = np.unique(lab).tolist()
            except TypeError:
                raise TypeError("labels mix types that cannot be sorted (e.g. numbers and "
                                "strings); convert them with labels.astype(str).") from None
        if cfg.conditional and len(classes) > MAX_CLASSES:
            raise ValueError(f"labels has {len(classes)} distinct values; conditional=True needs "
                             f"class labels (at most {MAX_CLASSES} classes), not continuous values.")
        if cfg.conditional and len(classes) < 2:
            raise ValueError("labels has a single class; conditional=True needs at least two.")

        # --- split ---------------------------------------------------------------------------
        rng = np.random.default_rng(cfg.seed)
        order = rng.permutation(n)
        n_val = int(round(n * cfg.val_fraction))
        if cfg.val_fraction > 0:
            n_val = max(1, n_val)
        n_train = n - n_val
        if n_train < 2:
            raise ValueError(f"val_fraction={cfg.val_fraction} leaves {n_train} training rows "
                             f"of {n}; lower val_fraction.")
        if cfg.batch_size > n_train:
            raise ValueError(f"batch_size={cfg.batch_size} is larger than the {n_train} training "
                             f"rows ({n} rows minus {n_val} for validation); use "
                             f"batch_size <= {n_train}.")
        train_idx, val_idx = np.sort(order[n_val:]), np.sort(order[:n_val])

        device = _resolve_device(cfg.device)

        # --- keep ------------------------------------------------------------------------------
        self.config = cfg
        self.device = device
        self.image_shape = image_shape
        self.feature_names = names
        f32 = raw.astype(np.float32)
        # raw data, flat (n, F): float32 when that loses nothing (halves memory), else float64
        self.data = f32 if np.array_equal(f32, raw) else raw
        self.labels = lab                     # raw labels or None
        self.classes = classes
        self.conditional = cfg.conditional
        self.latent_dim = cfg.latent_dim
        self.n_features = nf
        self._mean, self._std = mean, std
        self._likelihood = Likelihood("gaussian_learned" if lik == "gaussian_learned" else lik,
                                      cfg.gaussian_std)
        self._train_idx, self._val_idx = train_idx, val_idx
        self._class_index = ({c: i for i, c in enumerate(classes)} if classes is not None
                             else None)
        self.display = _vis.Display.for_data(raw, image_shape, lik == "bernoulli", names)

        dt = torch.float32
        Xs = torch.as_tensor((raw - mean) / std, dtype=dt)
        self._Xtr = Xs[train_idx].contiguous().to(device)
        self._Xval = Xs[val_idx].contiguous().to(device) if n_val else None
        self._Ytr = self._Yval = None
        if cfg.conditional:
            Y = self._onehot(lab)
            self._Ytr = Y[train_idx].contiguous().to(device)
            self._Yval = Y[val_idx].contiguous().to(device) if n_val else None
        self._mean_t = torch.as_tensor(mean, dtype=dt, device=device)
        self._std_t = torch.as_tensor(std, dtype=dt, device=device)

        # --- model and optimiser (seeded, without touching the global RNG) -------------------
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(cfg.seed)
            model = VAEModel(nf, cfg.latent_dim, image_shape=image_shape, architecture=arch,
                             hidden=cfg.hidden, conv_channels=cfg.conv_channels,
                             n_classes=len(classes) if cfg.conditional else 0,
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

        # --- run state --------------------------------------------------------------------------
        self.events = EventBus()
        self.control = Control()
        self.step = 0
        self.epoch = 0                        # completed epochs
        self._pos = 0
        self._perm: Optional[torch.Tensor] = None
        self._schedule_total: Optional[float] = cfg.schedule_epochs
        self._steps_per_epoch = math.ceil(n_train / cfg.batch_size)
        self._train_time = 0.0
        self._rows: list[dict] = []
        self._row_counter = 0
        self._stride = 1
        self._epoch_rows: list[dict] = []
        self._param_rows: list[dict] = []
        self.alerts: list[dict] = []
        self._row_buf: list[dict] = []
        self._pending: dict = {}
        self._lock = threading.Lock()
        self._calls: list = []                # run_between_steps() calls, served between steps
        self._fit_thread: Optional[int] = None
        self._running = False
        self._parked = False
        self._visuals_requested = False
        self._last_kl: Optional[list] = None
        # the window's per-step (recon, KL per dim), summed (without grad) at the next
        # metrics row. Not detached: backward already freed their graphs' saved tensors,
        # and a list append costs less than a detach or an in-place add per step
        self._window: list = []
        self._win = 0
        self._ep = [0.0, 0.0, 0]              # sum recon, sum kl, steps (this epoch)
        self._good: Optional[tuple] = None    # (step, [tensors]) last finite weights
        self._good_time = -math.inf
        self._collapse = CollapseMonitor(cfg.latent_dim, cfg.collapse_fraction,
                                         cfg.collapse_patience)
        self._overfit = OverfitMonitor(cfg.overfit_patience)
        self._diverge = DivergenceMonitor(cfg.diverge_factor)
        self._pick_visual_rows()
        self._probe: Optional[_dis.FactorProbe] = None   # set_factors()
        self._probe_x = self._probe_y = None
        self._mig_rows: list[dict] = []

    def _pick_visual_rows(self):
        pool = self._val_idx if len(self._val_idx) else self._train_idx
        k = self.config.n_reconstructions
        if self.labels is not None:
            seen, first, rest = set(), [], []
            for i in pool:
                key = self.labels[i]
                (rest if key in seen else first).append(int(i))
                seen.add(key)
            ordered = first + rest
        else:
            ordered = [int(i) for i in pool]
        self._recon_rows = ordered[:k]
        self._default_base = ordered[0]
        m = min(len(ordered), 6)
        self._default_pairs = [(ordered[i], ordered[i + 1]) for i in range(0, m - 1, 2)] or \
            [(ordered[0], ordered[0])]

    def _onehot(self, lab) -> torch.Tensor:
        try:
            idx = np.asarray([self._class_index[v] for v in np.asarray(lab, dtype=object)])
        except KeyError as exc:
            raise ValueError(f"labels contains {exc.args[0]!r}, which is not one of the training "
                             f"classes {self.classes[:20]}.") from None
        except TypeError:
            raise TypeError("labels must be hashable class values (ints or strings).") from None
        return torch.nn.functional.one_hot(torch.as_tensor(idx, dtype=torch.int64),
                                           len(self.classes)).float()

    # ==================================================================================
    # training
    # ==================================================================================
    def fit(self, epochs: int = 10) -> "VAETrainer":
        """Train ``epochs`` more epochs in the calling thread; call again to continue.

        An epoch interrupted by ``control.stop()`` (or a divergence) is resumed where
        it stopped by the next ``fit``. A stop request made before ``fit`` starts is
        cleared; a pause requested before stays in force (``fit`` waits for resume).
        Exceptions are published as ``"error"`` and re-raised.
        """
        epochs = number(epochs, "epochs", low=1, integer=True)
        if self._running:
            raise RuntimeError("fit() is already running on another thread; call "
                               "control.stop() and wait for it first.")
        self._running = True
        self._fit_thread = threading.get_ident()
        clear = getattr(self.control, "clear_stop", None)  # keeps a pause in force
        (clear or self.control.reset)()
        target = self.epoch + epochs
        if self._schedule_total is None:
            self._schedule_total = float(target)
        self._target = target
        self._fit_start = time.perf_counter()
        self._time_base = self._train_time
        self._next_visual = (self._fit_start + self.config.visuals_every
                             if self.config.visuals_every is not None else math.inf)
        self._last_pub = self._fit_start
        if self._pending:
            self._apply_pending()
        self._snapshot(force=True)
        self._status("running")
        try:
            outcome = self._loop(target)
        except Stopped:
            self._finish()
            self._status("stopped", "stop requested")
        except KeyboardInterrupt:                 # Ctrl-C in a script: a stop, then re-raise
            self._train_time = self._now()
            self._flush_rows()
            self._status("stopped", "interrupted")
            raise
        except BaseException as exc:
            self._train_time = self._now()
            self._model.train()
            tb = traceback.format_exc()
            self.events.publish("error", message=f"{type(exc).__name__}: {exc}", traceback=tb)
            self._status("error", f"{type(exc).__name__}: {exc}")
            raise
        else:
            self._finish()
            self._status("done" if outcome == "done" else "stopped",
                         None if outcome == "done" else outcome)
        finally:
            with self._lock:
                self._running = False
                self._parked = False
            self._serve_calls()       # calls queued as fit ended: nobody else will
        return self

    def _now(self) -> float:
        return self._time_base + (time.perf_counter() - self._fit_start)

    def _finish(self):
        self._train_time = self._now()
        self._flush_rows()
        if self.config.visuals_every is not None or self._visuals_requested:
            self._render(train_thread=True)

    def _loop(self, target: int) -> str:
        cfg = self.config
        model, opt, lik = self._model, self._opt, self._likelihood
        X, Y = self._Xtr, self._Ytr
        n, dev, g = X.shape[0], self.device, self._gen
        wait = self.control.wait_while_paused
        on_pause, on_resume, serve = self._on_pause, self._on_resume, self._serve_calls
        params = [p for p in model.parameters()]
        keep = self._window.append
        learned_var = model.out_log_var_raw is not None
        spe = self._steps_per_epoch
        clock = time.perf_counter
        while self.epoch < target:
            if self._perm is None:
                self._perm = torch.randperm(n, generator=g, device=dev)
                self._pos = 0
            perm = self._perm
            bs = cfg.batch_size
            while self._pos < n:
                wait(on_pause, on_resume, serve)
                if self._pending:
                    self._apply_pending()
                if self._calls:
                    self._serve_calls()
                if self._visuals_requested or clock() >= self._next_visual:
                    self._render(train_thread=True)
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
                sync = self._pos >= n or (self._win >= cfg.metrics_every and
                                          self._pos + (cfg.metrics_every // 2) * bs < n)
                gn = None
                if cfg.clip_grad is not None:
                    gn = [torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad)]
                opt.step()
                # values, not graphs: a kept graph is torn down inside the next _sync, which
                # made each metrics row ~0.2 ms dearer than two detach() calls per step
                keep((recon.detach(), klpd.detach()))
                # (the parameter list is built once: model.parameters() walks the module tree)
                if sync and not self._sync(mu, gn or _grad_norms(params), beta):
                    return "diverged"
            self.epoch += 1
            self._perm = None
            self._pos = 0
            self._end_epoch()
        return "done"

    def _factor(self, t: float) -> float:
        cfg = self.config
        return beta_factor(cfg.kl_schedule, t, warmup=cfg.warmup_epochs,
                           total=self._schedule_total or 0.0, n_cycles=cfg.n_cycles,
                           ratio=cfg.ramp_ratio)

    def _progress(self) -> float:
        n = self._Xtr.shape[0]
        return self.epoch + min(self._pos, n) / n

    def _sync(self, mu: torch.Tensor, gn: Optional[list], beta: float) -> bool:
        """Turn the accumulated window into a metrics row: two stacks copied to the host
        (the window's per-step terms, the batch's posterior-mean variances, per-tensor grad
        norms: the step's gradients are still in place after ``opt.step()``); the sums are
        done in Python on the host copies, which is cheaper than more small torch ops."""
        cfg = self.config
        if gn is None:
            gn = _grad_norms(list(self._model.parameters()))
        recons, klpds = zip(*self._window)
        self._window.clear()
        w = len(recons)
        with torch.no_grad():
            scalars = torch.stack(recons + tuple(gn)).tolist()                 # w + n_gn
            rows = torch.stack(klpds + (mu.var(0, unbiased=False),)).tolist()  # w + 1 rows of d
        self._win = 0
        recon_sum = sum(scalars[:w])
        recon = recon_sum / w
        grad_norm = math.sqrt(sum(v * v for v in scalars[w:]))
        klpd = [s / w for s in map(sum, zip(*rows[:w]))]
        active = sum(v > cfg.active_threshold for v in rows[w])
        kl = float(sum(klpd))
        kl_obj = (sum(max(cfg.free_bits, k) for k in klpd) if cfg.free_bits > 0 else kl)
        loss = recon + beta * kl_obj
        # finiteness of the sums covers every term: one NaN or inf makes its sum non-finite
        reason = self._diverge.check((recon_sum, kl, grad_norm, sum(rows[w])), loss)
        if reason is not None:
            self._on_divergence(reason)
            return False
        self._ep[0] += recon_sum
        self._ep[1] += kl * w
        self._ep[2] += w
        self._last_kl = klpd
        row = {"step": self.step, "epoch": self._progress(), "time": self._now(),
               "elbo": -(recon + kl), "loss": loss, "recon": recon, "kl": kl,
               "kl_per_dim": klpd, "active_units": int(active), "grad_norm": grad_norm,
               "lr": self._opt.param_groups[0]["lr"], "beta": beta}
        self._add_row(row)
        now = time.perf_counter()
        if now - self._last_pub >= cfg.publish_every:
            self._flush_rows()
        self._snapshot()
        return True

    def _add_row(self, row: dict):
        self._row_buf.append(row)
        self._row_counter += 1
        if self._row_counter % self._stride == 0:
            self._rows.append(row)
            if len(self._rows) > self.config.history_max_rows:
                self._rows = self._rows[::2]
                self._stride *= 2

    def _flush_rows(self):
        self._last_pub = time.perf_counter()
        if self._row_buf:
            rows, self._row_buf = self._row_buf, []
            self.events.publish("metrics", rows=rows)

    # --- last good weights ------------------------------------------------------------------
    def _state_tensors(self) -> list:
        ts = list(self._model.state_dict().values())
        for st in self._opt.state.values():
            ts += [v for v in st.values() if isinstance(v, torch.Tensor)]
        return ts

    def _snapshot(self, force: bool = False):
        now = time.perf_counter()
        if not force and now - self._good_time < _SNAPSHOT_EVERY_S:
            return
        src = self._state_tensors()
        if self._good is not None and len(self._good[1]) == len(src):
            with torch.no_grad():
                for d, s in zip(self._good[1], src):
                    d.copy_(s)
            self._good = (self.step, self._good[1])
        else:
            self._good = (self.step, [s.detach().clone() for s in src])
        self._good_time = now

    def _on_divergence(self, reason: str):
        step = self.step
        restored = None
        if self._good is not None:
            src = self._state_tensors()
            if len(src) == len(self._good[1]):
                with torch.no_grad():
                    for d, s in zip(src, self._good[1]):
                        d.copy_(s)
            else:  # optimiser state appeared after the snapshot: keep weights, reset moments
                with torch.no_grad():
                    for d, s in zip(self._model.state_dict().values(), self._good[1]):
                        d.copy_(s)
                self._opt.state.clear()
            restored = self._good[0]
        self._window.clear()
        self._win = 0
        self._alert(DivergenceMonitor.make_alert(reason, step, restored))

    def _alert(self, a: dict):
        a = dict(a, step=self.step, epoch=self._progress())
        self.alerts.append(a)
        # EventBus.publish takes the event kind as its first argument: the alert's own
        # kind travels as ``alert``
        self.events.publish("alert", alert=a["kind"], message=a["message"], fix=a["fix"],
                            step=a["step"], epoch=a["epoch"])

    # --- epochs -------------------------------------------------------------------------------
    def _end_epoch(self):
        cfg = self.config
        ep_recon, ep_kl, ep_n = self._ep
        self._ep = [0.0, 0.0, 0]
        train_recon = ep_recon / max(ep_n, 1)
        train_kl = ep_kl / max(ep_n, 1)
        validate = self._validation_due()
        if not validate:
            nan = float("nan")
            ev = {"elbo": nan, "recon": nan, "kl": nan, "kl_per_dim": None, "active_units": nan}
        elif self._Xval is not None:
            ev = self._evaluate(self._Xval, self._Yval)
        else:
            k = min(len(self._Xtr), 512)   # no validation set: active units on a sample
            ev = self._evaluate(self._Xtr[:k], self._Ytr[:k] if self._Ytr is not None else None)
        beta = cfg.beta * self._factor(self.step / self._steps_per_epoch)
        row = {"epoch": self.epoch, "step": self.step, "time": self._now(),
               "train_elbo": -(train_recon + train_kl), "train_recon": train_recon,
               "train_kl": train_kl, "val_elbo": ev["elbo"], "val_recon": ev["recon"],
               "val_kl": ev["kl"], "val_kl_per_dim": ev["kl_per_dim"],
               "active_units": ev["active_units"], "beta": beta,
               "lr": self._opt.param_groups[0]["lr"]}
        if self._Xval is None:
            row.update(val_elbo=float("nan"), val_recon=float("nan"), val_kl=float("nan"))
        self._epoch_rows.append(row)
        self._flush_rows()
        self.events.publish("epoch", **row)
        if self._probe is not None:
            self._measure_factors()
        if not validate:
            return
        self._last_kl = ev["kl_per_dim"]
        w_end = warmup_end(cfg.kl_schedule, warmup=cfg.warmup_epochs,
                           total=self._schedule_total or 0.0, n_cycles=cfg.n_cycles,
                           ratio=cfg.ramp_ratio)
        grace_end = max(w_end + cfg.collapse_grace_epochs,
                        w_end + cfg.collapse_grace_steps / self._steps_per_epoch)
        a = self._collapse.update(ev["active_units"], self.epoch >= grace_end, beta)
        if a:
            self._alert(a)
        if self._Xval is not None:
            a = self._overfit.update(-row["train_elbo"], -row["val_elbo"])
            if a:
                self._alert(a)

    @property
    def validation_interval(self) -> int:
        """Epochs between validation passes: ``val_every``, with "auto" resolved."""
        k = self.config.val_every
        if k == "auto":
            k = min(max(1, math.ceil(_VAL_MIN_ROWS / self._Xtr.shape[0])), _VAL_MAX_GAP)
        return k

    def _validation_due(self) -> bool:
        """Validate after epochs 1, 1 + k, 1 + 2k, ... (k = ``validation_interval``) and
        always after the last epoch of a ``fit``."""
        return (self.epoch - 1) % self.validation_interval == 0 or self.epoch >= self._target

    @torch.inference_mode()   # (lighter per op than no_grad: ~7 % of a small evaluation)
    def _evaluate(self, X: torch.Tensor, Y: Optional[torch.Tensor]) -> dict:
        """ELBO terms and active units on ``X`` (eval mode, fixed noise: comparable epochs)."""
        model, lik = self._model, self._likelihood
        # eval mode only matters for dropout / normalisation layers (the built-in models
        # have none); skipping the module-tree walk saves ~25 % of a small evaluation
        toggle = self._mode_sensitive and model.training
        if toggle:
            model.eval()
        g = self._eval_gen
        g.manual_seed(self.config.seed + 1)
        n = X.shape[0]
        parts, mus = [], []
        for s in range(0, n, _EVAL_CHUNK):
            xb = X[s:s + _EVAL_CHUNK]
            yb = Y[s:s + _EVAL_CHUNK] if Y is not None else None
            mu, logvar = model.encode(xb, yb)
            eps = torch.randn(mu.shape, generator=g, device=self.device)
            out = model.decode(mu + eps * torch.exp(0.5 * logvar), yb)
            # batch means (sum over features, mean over rows); weighted by rows below
            parts.append((xb.shape[0], lik.nll(out, xb, model.out_log_var).reshape(1),
                          kl_per_dim(mu, logvar)))
            mus.append(mu)
        mu_all = mus[0] if len(mus) == 1 else torch.cat(mus)
        flat = [t for _, r, k in parts for t in (r, k)]
        vals = torch.cat(flat + [mu_all.var(0, unbiased=False)]).tolist()
        if toggle:
            model.train()
        d = self.latent_dim
        r, klpd = 0.0, [0.0] * d
        for i, (m, _, _) in enumerate(parts):
            chunk = vals[i * (d + 1):(i + 1) * (d + 1)]
            r += chunk[0] * m / n
            klpd = [a + b * m / n for a, b in zip(klpd, chunk[1:])]
        var = vals[len(parts) * (d + 1):]
        kl = float(sum(klpd))
        return {"recon": r, "kl": kl, "kl_per_dim": klpd, "elbo": -(r + kl),
                "active_units": int(sum(v > self.config.active_threshold for v in var))}

    @between_steps
    def evaluate(self, X=None, labels=None) -> dict:
        """ELBO terms (``elbo``, ``recon``, ``kl``, ``kl_per_dim``) and ``active_units`` on
        ``X`` (default: the validation rows), with fixed noise."""
        if X is None:
            return self._evaluate(self._Xval if self._Xval is not None else self._Xtr,
                                  self._Yval if self._Xval is not None else self._Ytr)
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
        self.events.publish("status", state=state, epoch=self._progress(), step=self.step,
                            target_epoch=getattr(self, "_target", self.epoch), reason=reason)

    def _on_pause(self):
        self._flush_rows()
        self._render(train_thread=True)
        self._pause_start = time.perf_counter()
        self._status("paused")
        self._parked = True       # from here until on_resume the loop is blocked

    def _on_resume(self):
        self._parked = False
        if self._pending:
            self._apply_pending()
        # paused time is not training time
        self._fit_start += time.perf_counter() - self._pause_start
        self._status("running")

    @property
    def _idle(self) -> bool:
        """True when no training step can be in flight (not fitting, or parked in a pause)."""
        return not self._running or self._parked

    # ==================================================================================
    # live parameters
    # ==================================================================================
    def set_params(self, **params) -> dict:
        """Change live parameters (``LIVE_PARAMS``) from any thread.

        Values are validated here (errors raise in the caller's thread); a running
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
            if self._visuals_requested:
                self._render()
        return new

    def _apply_pending(self):
        with self._lock:
            new, self._pending = self._pending, {}
        if not new:
            return
        cfg = self.config
        previous = {k: _plain(getattr(cfg, k)) for k in new}
        for k, v in new.items():
            setattr(cfg, k, v)
            if k == "lr":
                for group in self._opt.param_groups:
                    group["lr"] = v
        if "visuals_every" in new:
            self._next_visual = (time.perf_counter() if cfg.visuals_every is not None
                                 else math.inf)
        if set(new) & {"sample_temperature", "traverse_base", "interpolation_pairs"}:
            self._visuals_requested = True
        changes = {k: _plain(v) for k, v in new.items()}
        epoch = self._progress()
        t = self._now() if self._running else self._train_time
        for k in new:
            self._param_rows.append({"step": self.step, "epoch": epoch, "time": t, "param": k,
                                     "old": previous[k], "new": changes[k]})
        self.events.publish("params", step=self.step, epoch=epoch, changes=changes,
                            previous=previous)

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
            self._visuals_requested = True
            return {}
        return self._render(kinds, publish=publish)

    def _render(self, kinds: Sequence[str] = _vis.KINDS, publish: bool = True,
                train_thread: bool = False) -> dict:
        cfg = self.config
        self._visuals_requested = False
        if train_thread:
            self._next_visual = (time.perf_counter() + cfg.visuals_every
                                 if cfg.visuals_every is not None else math.inf)
        model = self._model
        was_training = model.training
        # (as in _evaluate: only models with dropout / normalisation need the mode walk)
        toggle = train_thread and self._mode_sensitive
        if toggle:
            model.eval()
        out = {}
        try:
            with torch.no_grad():
                for kind in kinds:
                    if kind == "reconstructions":
                        out[kind] = _vis.reconstructions(self, self._recon_rows)
                    elif kind == "samples":
                        out[kind] = _vis.samples(self, cfg.n_samples, cfg.sample_temperature,
                                                 seed=cfg.seed)
                    elif kind == "traversal":
                        base = cfg.traverse_base if cfg.traverse_base is not None \
                            else self._default_base
                        out[kind] = _vis.traversal(self, base, self._last_kl,
                                                   cfg.traversal_steps, cfg.traversal_range,
                                                   cfg.max_traversal_dims)
                    elif kind == "interpolation":
                        pairs = cfg.interpolation_pairs or self._default_pairs
                        out[kind] = _vis.interpolation(self, pairs, cfg.interpolation_steps)
                    else:
                        raise ValueError(f"kinds: {kind!r} is not one of {list(_vis.KINDS)}.")
        finally:
            if toggle:
                model.train(was_training)
        if publish:
            epoch = self._progress()
            for kind, (arr, labels) in out.items():
                self.events.publish("images", grid=kind, array=arr, labels=labels,
                                    step=self.step, epoch=epoch)
        return out

    # ==================================================================================
    # Python API (data space in, data space out)
    # ==================================================================================
    @property
    def model(self) -> VAEModel:
        return self._model

    @property
    def history(self) -> pd.DataFrame:
        """Metric rows (decimated to at most ``history_max_rows``), see ``METRIC_COLUMNS``."""
        return pd.DataFrame(list(self._rows), columns=list(METRIC_COLUMNS))

    @property
    def epoch_history(self) -> pd.DataFrame:
        return pd.DataFrame(list(self._epoch_rows), columns=list(EPOCH_COLUMNS))

    @property
    def param_history(self) -> pd.DataFrame:
        """One row per live parameter change: step, epoch, time, param, old, new."""
        return pd.DataFrame(list(self._param_rows),
                            columns=["step", "epoch", "time", "param", "old", "new"])

    @property
    def running(self) -> bool:
        return self._running

    # --- one thread owns the model while fit() runs ----------------------------------------
    def run_between_steps(self, fn, timeout: Optional[float] = None):
        """Run ``fn()`` where no training step is in flight; return its result.

        While ``fit`` runs (or is paused), the training thread owns the model: ``fn`` is
        queued, the training thread runs it before its next step (or at once, from a
        pause), and the caller waits for the result (``fn``'s exception is re-raised
        here). Otherwise (no ``fit``, or called from the training thread itself)
        ``fn`` runs in the calling thread.

        Why a queue and not a lock: the weights are consistent only between two steps,
        and torch work done on a second thread would start a second OpenMP team that
        throttles the training thread's (see ``vae_widgets._openmp``); on the training
        thread a call costs its own time and nothing more. ``encode``, ``decode``,
        ``sample``, ``evaluate``, ``anomaly_scores``, ``snapshot``, ... all go through
        here, so they are safe from any thread while training runs.

        Raises ``TimeoutError`` when ``timeout`` seconds pass before the training
        thread picks the call up (the call is then dropped).
        """
        with self._lock:
            inline = not self._running or threading.get_ident() == self._fit_thread
            if not inline:
                fut: Future = Future()
                self._calls.append((fn, fut))
        if inline:
            return fn()
        self.control.wake()
        try:
            return fut.result(timeout)
        except FutureTimeout:
            if fut.cancel():
                raise TimeoutError(f"the training thread did not reach a step boundary within "
                                   f"{timeout:g} s; pause training and try again.") from None
            return fut.result()     # it started meanwhile: wait for it

    def _serve_calls(self):
        """Training thread, between two steps (or parked in a pause): run queued calls."""
        with self._lock:
            calls, self._calls = self._calls, []
        for fn, fut in calls:
            if not fut.set_running_or_notify_cancel():
                continue
            try:
                fut.set_result(fn())
            except BaseException as exc:   # noqa: BLE001 - handed to the caller
                fut.set_exception(exc)

    def snapshot(self, timeout: float = 30.0) -> "VAETrainer":
        """A frozen twin of this trainer (for encoding/decoding a fixed model later).

        The weights are copied between two training steps (see
        :meth:`run_between_steps`), or at once when training is idle or paused. The twin
        shares the data, labels and display settings and has its own model in eval
        mode: use its ``encode``, ``decode``, ``reconstruct``, ``traverse`` and
        ``interpolate``, never ``fit``. (The trainer's own methods are safe during
        training too; a twin is for keeping a model as it was.)

        Parameters
        ----------
        timeout : float
            Seconds to wait for the training thread to reach a step boundary.

        Returns
        -------
        VAETrainer
            The twin (cheap: only the weights are copied).
        """
        timeout = number(timeout, "timeout", low=0, low_open=True)
        twin = copy.copy(self)
        twin._model = self.run_between_steps(self._clone_model, timeout)
        twin._running, twin._parked, twin._calls = False, False, []
        twin._lock = threading.Lock()
        twin._sample_gen = torch.Generator()
        twin._sample_gen.set_state(self._sample_gen.get_state())
        return twin

    def _clone_model(self) -> VAEModel:
        model = copy.deepcopy(self._model)     # Parameter deepcopy clones data, not grads
        model.eval()
        model.requires_grad_(False)
        return model

    # ==================================================================================
    # disentanglement (known factors)
    # ==================================================================================
    def set_factors(self, factors) -> None:
        """Measure MI and MIG against ``factors`` (one row per data row) after each epoch,
        on a fixed subsample of ``factor_sample`` rows; ``None`` stops measuring."""
        if factors is None:
            self._probe, self._probe_x, self._probe_y = None, None, None
            return
        cfg = self.config
        probe = _dis.FactorProbe(factors, len(self.data), sample_size=cfg.factor_sample,
                                 bins=cfg.factor_bins, seed=cfg.seed)
        self._use_probe(probe.rows, probe.codes, probe.names, probe.bins)

    def _use_probe(self, rows, codes, names, bins) -> None:
        """Measure against these factor codes of data ``rows`` (also how a checkpoint's
        probe comes back)."""
        probe = _dis.FactorProbe.from_codes(rows, codes, names, bins)
        self._probe_x = self._prep(self.data[probe.rows])
        self._probe_y = (self._prep_labels(np.asarray(self.labels, dtype=object)[probe.rows],
                                           len(probe.rows)) if self.conditional else None)
        self._probe = probe

    @property
    def factor_names(self) -> Optional[list]:
        """Names of the factors given with ``factors=``, or None."""
        return None if self._probe is None else list(self._probe.names)

    @between_steps
    @torch.no_grad()
    def measure_disentanglement(self) -> dict:
        """MI (latent dimension x factor, nats), normalised MI, entropies, per-factor gaps
        and MIG of the current model on the probe rows (needs ``factors``)."""
        if self._probe is None:
            raise ValueError("no factors to measure against: pass factors= (one row of "
                             "generative factors per data row) or call set_factors().")
        model = self._model
        toggle = self._mode_sensitive and model.training
        if toggle:
            model.eval()
        x, y = self._probe_x, self._probe_y
        mus = [model.encode(x[s:s + _EVAL_CHUNK], None if y is None else y[s:s + _EVAL_CHUNK])[0]
               for s in range(0, x.shape[0], _EVAL_CHUNK)]
        if toggle:
            model.train()
        return self._probe.measure(torch.cat(mus).cpu().numpy())

    def _measure_factors(self):
        # at the epoch end, off the per-step path: one encoder pass over the probe rows
        t0 = time.perf_counter()
        res = self.measure_disentanglement()
        row = {"epoch": self.epoch, "step": self.step, "mig": res["mig"],
               "gaps": res["gaps"].tolist(), "mi": res["mi"].tolist(),
               "mi_normalized": res["mi_normalized"].tolist(),
               "entropy": res["entropy"].tolist(), "factors": res["factors"],
               "seconds": time.perf_counter() - t0}
        self._mig_rows.append(row)
        self.events.publish("disentanglement", **row)

    @property
    def mig_history(self) -> pd.DataFrame:
        """One row per epoch measured against ``factors``: epoch, step, mig, gaps (per
        factor), mi and mi_normalized (latent dim x factor), entropy, factors, seconds."""
        return pd.DataFrame(list(self._mig_rows),
                            columns=["epoch", "step", "mig", "gaps", "mi", "mi_normalized",
                                     "entropy", "factors", "seconds"])

    # ==================================================================================
    # checkpoints
    # ==================================================================================
    def save(self, path, include_data: bool = True) -> None:
        """Write weights, optimiser state, config, seed, histories, run state, the known-factor
        probe and (by default) the data to ``path`` with ``torch.save``; readable with
        ``torch.load(weights_only=True)``. See :mod:`vae_widgets.vae.checkpoint`."""
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
        ckpt = _ckpt.read(path)
        cfg = VAEConfig.from_dict(_ckpt.config_dict(ckpt, device))
        if X is None:
            if ckpt.get("data") is None:
                raise ValueError(f"{path!s} was saved without data (include_data=False); pass "
                                 f"the training data: VAETrainer.load(path, X=..., labels=...).")
            raw = ckpt["data"]["X"].numpy().astype(np.float64)
            lab = ckpt["data"]["labels"]
            lab = None if lab is None else np.asarray(lab)
            image_shape = cfg.image_shape
            names = ckpt.get("feature_names")
        else:
            X, labels = split_labels(X, labels)
            raw, image_shape, names = _read_data(X, cfg.image_shape)
            lab = as_labels(labels, raw.shape[0], "labels")
            if raw.shape[1] != ckpt["model_spec"]["n_features"]:
                raise ValueError(f"X has {raw.shape[1]} features but the checkpoint's model "
                                 f"takes {ckpt['model_spec']['n_features']}.")
        self = cls.__new__(cls)
        self._setup(raw, lab, cfg, image_shape, names,
                    norm={"mean": ckpt["norm"]["mean"].numpy(), "std": ckpt["norm"]["std"].numpy()},
                    classes=ckpt["classes"])
        _ckpt.restore(self, ckpt)
        return self

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
          P("factors", P.KEYWORD_ONLY, default=None)]
    for f in dataclasses.fields(VAEConfig):
        ps.append(P(f.name, P.KEYWORD_ONLY, default=f.default))
    return inspect.Signature(ps)


VAETrainer.__init__.__signature__ = _trainer_signature()
