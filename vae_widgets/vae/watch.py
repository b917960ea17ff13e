"""``LoopMonitor``: watch a VAE that your own training loop trains. No Jupyter here.

::

    mon = LoopMonitor(model, X_val)                 # model.encode(x) -> (mu, logvar), model.decode(z)
    for epoch in range(20):
        for xb in loader:
            mu, logvar = model.encode(xb)
            x_hat = model.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
            recon, kl = my_losses(x_hat, xb, mu, logvar)
            (recon + beta * kl).mean().backward(); opt.step(); opt.zero_grad()
            mon.log(recon=recon, mu=mu, logvar=logvar, beta=beta, epoch=epoch)
            if mon.should_stop:
                break
    mon.finish()

``log()`` is cheap: it keeps detached references to the step's terms (no copy, no
device sync) and every ``metrics_every`` steps the monitor turns them into one row
(one host copy). The same :class:`~vae_widgets.vae.monitor.VAEMonitor` as the
built-in trainer computes everything: rows, KL per dimension, active units,
validation passes on ``X_val`` at epoch ends, grids from ``encode``/``decode`` (at
most every ``visuals_every`` seconds, in eval mode without gradients, the model's
mode restored) and the collapse / divergence / overfitting alerts.

Epochs: pass ``epoch=`` to ``log()``, call ``end_epoch()``, or give
``steps_per_epoch``; without any of them a validation pass every
``val_every_steps`` steps stands for an epoch.

Steering: ``pause()`` makes the next ``log()`` block until ``resume()`` (or
``stop()``); ``stop()`` sets ``should_stop``, which the loop checks. Both may be
called from any thread (a widget's button).
"""
from __future__ import annotations

import dataclasses
import math
import threading
import time
from typing import Callable, Optional

import torch

from .. import _openmp
from .._stream import Control, EventBus, Stopped
from .._validation import check_names, number
from .adapter import ModelAdapter
from .config import MONITOR_LIVE, MonitorConfig
from .diagnostics import alert
from .history import MonitorHistories
from .monitor import VAEMonitor

#: a user's model can be much bigger than the built-in one: grids at most this often
WATCH_VISUALS_EVERY = 2.0


class LoopMonitor(MonitorHistories):
    """Feed the VAE monitor from your own training loop; see the module docstring.

    Parameters
    ----------
    model : nn.Module, optional
        With ``encode(x) -> (mu, logvar)`` and ``decode(z) -> x_hat`` (or pass
        ``encode=``/``decode=``).
    X_val : array-like or tensor
        A few hundred held-out rows, in the shape the model takes.
    labels : array-like, optional
        One per validation row (the grids pick one row per label first).
    image_shape, encode, decode, output, device
        See :class:`~vae_widgets.vae.adapter.ModelAdapter`.
    recon_loss : callable, optional
        ``recon_loss(x_hat, x) -> loss per row (or its mean)`` in nats, to measure the
        validation reconstruction term and ELBO; without it validation measures KL and
        active units only.
    optimizer : torch.optim.Optimizer, optional
        Read for the learning rate of each row (or pass ``lr=`` to ``log()``).
    steps_per_epoch : int, optional
        Steps in an epoch (``len(loader)``), when ``log()`` gets no ``epoch=``.
    factors : table, optional
        Known generative factors of the validation rows: MI and MIG per epoch.
    events : EventBus, optional
        Where the events go.
    **params
        Fields of :class:`~vae_widgets.vae.config.MonitorConfig` (``metrics_every``,
        ``visuals_every`` (default 2 s here), ``n_samples``, ``active_threshold``, ...).
    """

    def __init__(self, model=None, X_val=None, labels=None, *, image_shape=None,
                 encode: Optional[Callable] = None, decode: Optional[Callable] = None,
                 output="auto", device=None, recon_loss: Optional[Callable] = None,
                 optimizer=None, steps_per_epoch: Optional[int] = None, factors=None,
                 events: Optional[EventBus] = None, **params):
        params.setdefault("visuals_every", WATCH_VISUALS_EVERY)
        self.config = MonitorConfig.from_kwargs("watch", **params)
        if recon_loss is not None and not callable(recon_loss):
            raise TypeError(f"recon_loss must be a callable recon_loss(x_hat, x), got "
                            f"{type(recon_loss).__name__}.")
        if optimizer is not None and not hasattr(optimizer, "param_groups"):
            raise TypeError(f"optimizer must be a torch.optim optimizer, got "
                            f"{type(optimizer).__name__}.")
        if steps_per_epoch is not None:
            steps_per_epoch = number(steps_per_epoch, "steps_per_epoch", low=1, integer=True)
        self.adapter = ModelAdapter(model, X_val, labels, image_shape=image_shape,
                                    encode=encode, decode=decode, output=output,
                                    device=device)
        self.monitor = VAEMonitor(self.adapter, self.config, range(len(self.adapter.data)),
                                  events=events)
        if factors is not None:
            self.monitor.set_factors(factors)
        self.control = Control()
        self._recon_loss = recon_loss
        self._optimizer = optimizer
        self.steps_per_epoch = steps_per_epoch
        self.latent_dim = self.adapter.latent_dim
        self.step = 0
        self.epoch = 0                  # epochs completed
        self.running = False
        self._thread: Optional[int] = None
        self._win = 0
        self._epoch_label = None        # the epoch= value of the current epoch
        self._epoch_start_step = 0
        self._beta: Optional[float] = None
        self._lr: Optional[float] = None
        self._unhealthy = False
        self._last_row = -math.inf
        self._val_spent = 0.0           # seconds of validation passes, this run
        self._time = 0.0
        self._t0 = 0.0
        #: log() blocks while paused; a producer that holds the loop elsewhere (the Lightning
        #: callback holds every DDP rank in one hook) sets this False and calls hold()
        self.hold_in_log = True
        #: where the run stops (epochs), when the producer knows it (the Lightning callback)
        self.target_epoch = math.nan

    # ==================================================================================
    # the hot path
    # ==================================================================================
    def log(self, *, recon, mu=None, logvar=None, kl=None, beta: float = 1.0,
            lr: Optional[float] = None, grad_norm=None, epoch=None) -> None:
        """Record one training step.

        Parameters
        ----------
        recon : tensor or float
            The step's reconstruction term (``-log p(x|z)`` summed over features):
            per row ``(B,)`` or its batch mean.
        mu, logvar : tensor (B, latent_dim), optional
            The step's posterior parameters (KL per dimension and active units come
            from them) ...
        kl : tensor, optional
            ... or the KL per dimension, ``(latent_dim,)`` or ``(B, latent_dim)``.
        beta : float
            The KL weight used in this step (a change is marked on the curves).
        lr : float, optional
            Default: the optimizer's, if one was given.
        grad_norm : tensor or float, optional
            E.g. what ``clip_grad_norm_`` returned.
        epoch : int, optional
            The loop's epoch counter; when it changes, the previous epoch is closed
            (validation, epoch row, alerts) - at the first step of the new epoch, so its
            validation sees one more step; call ``end_epoch()`` after each epoch instead
            to validate the weights exactly as the epoch left them.
        """
        me = threading.get_ident()
        if me != self._thread:
            self._start_or_refuse(me)
        ctl = self.control
        if ctl.paused and self.hold_in_log:
            self._pause()
        if epoch is not None and epoch != self._epoch_label:
            if self._epoch_label is not None and self.step > self._epoch_start_step:
                self.end_epoch()
            self._epoch_label = epoch
        self.monitor.window.append((_detach(recon, "recon"), self._klpd(mu, logvar, kl)))
        self.step += 1
        self._win += 1
        # (a schedule may change beta or lr every step: the rows carry them, no marks)
        self._beta = beta
        if lr is None and self._optimizer is not None:
            lr = self._optimizer.param_groups[0]["lr"]
        self._lr = lr
        if self._win >= self.config.metrics_every and \
                time.perf_counter() - self._last_row >= self.config.row_interval:
            self._row(mu, grad_norm)
        if self.steps_per_epoch is not None and epoch is None and \
                self.step - self._epoch_start_step >= self.steps_per_epoch:
            self.end_epoch()
        elif epoch is None and self.steps_per_epoch is None and \
                self.step - self._epoch_start_step >= self.config.val_every_steps:
            self.end_epoch()
        if self.monitor.visuals_due(time.perf_counter()):
            self._render(until=lambda: self.control.stop_requested)

    def _klpd(self, mu, logvar, kl):
        d = self.latent_dim
        if mu is not None or logvar is not None:
            if mu is None or logvar is None:
                raise ValueError("log(): pass mu and logvar together (or kl= per dimension).")
            if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
                raise TypeError("log(): mu and logvar must be tensors (the step's posterior "
                                "parameters).")
            if mu.shape != logvar.shape or mu.ndim != 2 or mu.shape[1] != d:
                raise ValueError(f"log(): mu {tuple(mu.shape)} and logvar {tuple(logvar.shape)} "
                                 f"must both be (batch, {d}), the model's latent size.")
            return (mu.detach(), logvar.detach())
        if kl is None:
            raise ValueError("log() needs the KL: pass mu= and logvar= (the step's posterior) "
                             "or kl= (per latent dimension).")
        t = torch.as_tensor(kl).detach()
        if t.ndim == 2 and t.shape[1] == d:
            return t.float().mean(0)
        if t.ndim == 1 and t.shape[0] == d:
            return t.float()
        raise ValueError(f"log(): kl has shape {tuple(t.shape)}, but the KL must be per latent "
                         f"dimension: ({d},) or (batch, {d}). For a KL summed over dimensions, "
                         f"pass mu= and logvar= instead.")

    def _start_or_refuse(self, me: int):
        if self._thread is not None and self.running:
            raise RuntimeError(
                "log() was called from two threads at once; call it only from the thread "
                "that runs the training loop (the monitor is not shared between loops).")
        self._thread = me
        self._start()

    # ==================================================================================
    # runs
    # ==================================================================================
    def _start(self):
        """First log() of a run (after ``finish()``, or ever)."""
        self.running = True
        self._val_spent = 0.0
        _openmp.training_started()    # other threads' teams must not throttle this loop
        self.control.clear_stop()
        self._t0 = time.perf_counter() - self._time
        self.monitor.reset_visual_clock(time.perf_counter())
        self.monitor.status("running", epoch=self.progress, step=self.step,
                            target_epoch=self.target_epoch)

    def finish(self) -> None:
        """End the current run: the last rows, a final validation of the open epoch (if
        it has steps), status done (or stopped after a Stop), then the last grids (the
        status does not wait for them: under load they take a few tenths of a second,
        and a Stop should show at once)."""
        if not self.running:
            return
        if self._win:
            self._row(None, None)
        if self.step > self._epoch_start_step:
            self.end_epoch(_last=True)
        self.monitor.flush_rows()
        self._time = self._now()
        self.running = False
        self._thread = None
        stopped = self.control.stop_requested
        try:
            self.monitor.status("stopped" if stopped else "done", epoch=self.progress,
                                step=self.step, target_epoch=self.target_epoch,
                                reason="stop requested" if stopped else None)
            self._render()
        finally:
            _openmp.training_finished()

    @property
    def should_stop(self) -> bool:
        """True once Stop was asked for (``stop()`` or the widget's button); the loop
        should break. Cleared when the next run starts."""
        return self.control.stop_requested

    def stop(self):
        self.control.stop()

    def pause(self):
        self.control.pause()

    def resume(self):
        self.control.resume()

    @property
    def events(self):
        """The monitor's event bus (so the bridge can stream a LoopMonitor like an engine)."""
        return self.monitor.events

    def hold(self, wait: Callable[[], None]) -> None:
        """A pause held by the producer: status paused (rows flushed, grids drawn), then
        ``wait()`` (returns once resumed or stopped), then status running."""
        self._on_pause()
        try:
            wait()
        finally:
            self._on_resume()

    def _pause(self):
        try:
            self.control.wait_while_paused(self._on_pause, self._on_resume)
        except Stopped:       # Stop while paused: the loop sees should_stop
            self._on_resume()

    def _on_pause(self):
        self._pause_start = time.perf_counter()
        self.monitor.flush_rows()
        self._render()
        self.monitor.status("paused", epoch=self.progress, step=self.step,
                            target_epoch=self.target_epoch)

    def _on_resume(self):
        self._t0 += time.perf_counter() - self._pause_start
        self.monitor.status("running", epoch=self.progress, step=self.step,
                            target_epoch=self.target_epoch)

    def _now(self) -> float:
        return time.perf_counter() - self._t0 if self.running else self._time

    @property
    def progress(self) -> float:
        """Epochs completed, fractional within an epoch when its length is known."""
        if self.steps_per_epoch:
            return self.epoch + min(1.0, (self.step - self._epoch_start_step) /
                                    self.steps_per_epoch)
        return float(self.epoch)

    # ==================================================================================
    # rows, epochs, grids
    # ==================================================================================
    def _row(self, mu, grad_norm):
        self._win = 0
        self._last_row = time.perf_counter()
        beta = 1.0 if self._beta is None else float(self._beta)
        lr = math.nan if self._lr is None else float(self._lr)
        row, reason = self.monitor.close_row(
            step=self.step, progress=self.progress, time=self._now(), beta=beta, lr=lr,
            mu=mu, grad_norms=None if grad_norm is None else [grad_norm])
        if reason is None:
            self._unhealthy = False
            return
        if not self._unhealthy:      # once per bad stretch, not every row
            self._unhealthy = True
            self.monitor.alert(alert(
                "divergence",
                f"Training diverged at step {self.step}: {reason}. Your loop keeps running; "
                f"its weights may already be NaN.",
                "Lower the learning rate, clip gradients (torch.nn.utils.clip_grad_norm_), "
                "check the loss for log(0) or a division by zero, and restart from a "
                "checkpoint."), self.step, self.progress)

    def end_epoch(self, _last: bool = False,
                  combine: Optional[Callable[[list], list]] = None) -> dict:
        """Close the current epoch: its row, a validation pass on ``X_val`` when due, MIG,
        and the collapse and overfitting alerts.

        When due: ``val_every`` epochs; with "auto", after every epoch as long as the
        passes so far cost under ``val_budget`` of the run (short epochs of a fast loop
        are validated less often), and always at the end of a run. ``combine`` maps this
        loop's epoch sums ``[recon, kl, steps]`` to the ones the epoch row shows (the
        Lightning callback adds every DDP rank's)."""
        if self._win:
            self._row(None, None)
        if combine is not None:
            self.monitor._ep = [float(v) for v in combine(list(self.monitor._ep))]
        self.epoch += 1
        self._epoch_start_step = self.step
        cfg = self.config
        ev = None
        if cfg.val_every == "auto":
            due = _last or self.epoch == 1 or self._val_spent <= cfg.val_budget * self._now()
        else:
            due = _last or (self.epoch - 1) % cfg.val_every == 0
        if due:
            t0 = time.perf_counter()
            ev = self.adapter.evaluate_rows(cfg.active_threshold, self._recon_loss)
            self._val_spent += time.perf_counter() - t0
        grace = self.epoch >= cfg.collapse_grace_epochs and self.step >= cfg.collapse_grace_steps
        return self.monitor.end_epoch(
            epoch=self.epoch, step=self.step, time=self._now(),
            beta=1.0 if self._beta is None else float(self._beta),
            lr=math.nan if self._lr is None else float(self._lr), validation=ev,
            grace_over=grace, has_val_set=self._recon_loss is not None)

    def _render(self, until=None):
        if self.config.visuals_every is None and not self.monitor._visuals_requested:
            return
        self.monitor.render(step=self.step, progress=self.progress, scheduled=True,
                            until=until)

    # ==================================================================================
    # what the views change
    # ==================================================================================
    def set_params(self, **params) -> dict:
        """Change what is shown (``sample_temperature``, ``visuals_every``,
        ``metrics_every``, ``traverse_base``, ``interpolation_pairs``): all validated,
        then applied; grids affected are re-drawn at the next ``log()`` (or now, when no
        loop runs)."""
        check_names(params, MONITOR_LIVE, "set_params")
        trial = dataclasses.replace(self.config, **params).validate()
        new = {k: getattr(trial, k) for k in params}
        n = len(self.adapter.data)
        if new.get("traverse_base") is not None and new["traverse_base"] >= n:
            raise ValueError(f"traverse_base={new['traverse_base']} is not a validation row "
                             f"(0..{n - 1}).")
        for k, v in new.items():
            setattr(self.config, k, v)
        if set(new) & {"sample_temperature", "traverse_base", "interpolation_pairs"}:
            self.monitor.request_visuals()
            if not self.running:
                self.monitor.render(step=self.step, progress=self.progress)
        return new


def _detach(v, name: str):
    if isinstance(v, torch.Tensor):
        return v.detach()
    if isinstance(v, (int, float)):
        return float(v)
    raise TypeError(f"log(): {name} must be a tensor or a number, got {type(v).__name__}.")
