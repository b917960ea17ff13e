"""The callbacks: feed a VAE monitor on global rank 0 from ``training_step``'s outputs,
in this process or streamed through the bridge, and steer every rank (see the package
docstring for the contract)."""
from __future__ import annotations

import logging
import os
import pickle
import socket
import time
import traceback
from typing import Optional

import lightning.pytorch as pl
import torch

from .._validation import number
from .._validation import check_names
from ..vae.config import MonitorConfig
from ..vae.watch import LoopMonitor
from ..vae.diagnostics import alert
from ..vae.posterior import PosteriorTap
from .steering import CHECK_EVERY, PAUSE_POLL_S, _Steering
from .steps import _EpochSums, _learning_rate, _sum_over_ranks, step_terms

log = logging.getLogger("vae_widgets.lightning")

#: rows read from the validation dataloader when ``X_val`` is not given
DEFAULT_VAL_ROWS = 512
#: seconds rank 0 waits for the listener before training starts anyway
CONNECT_WAIT_S = 30.0
#: a LoopMonitor's settings that a Lightning run changes while it feeds the monitor
_RUN_SETTINGS = ("hold_in_log", "steps_per_epoch", "target_epoch")
#: LoopMonitor options a callback passes on (encode/decode: the module's own; device: where
#: Lightning put it; the learning rate and the epochs: from the trainer)
_MONITOR_OPTIONS = ("image_shape", "output", "recon_loss", "factors")


class _MonitorCallback(pl.Callback):
    """Feed a :class:`~vae_widgets.vae.watch.LoopMonitor` on global rank 0 from
    ``training_step``'s outputs and steer every rank (see the module docstring).
    Subclasses say where the monitor comes from (``_open``) and how it ends (``_close``)."""

    #: made again where the callback runs, never pickled (ddp_spawn). ``log``/``log_dict``:
    #: Lightning attaches the module's own methods to every callback at each fit; pickled,
    #: they would carry the module of an earlier fit along
    _RUNTIME = ("monitor", "_sums", "_batches", "_saved", "_steering", "_tap", "_told",
                "log", "log_dict")

    def __init__(self, X_val=None, labels=None, *, check_every: int = CHECK_EVERY,
                 recon_log: Optional[str] = None, **options):
        check_names(options, [*MonitorConfig.field_names(), *_MONITOR_OPTIONS], type(self).__name__)
        self.X_val, self.labels, self.options = X_val, labels, options
        self.check_every = number(check_every, "check_every", low=1, integer=True)
        if recon_log is not None and (not isinstance(recon_log, str) or not recon_log):
            raise TypeError(f"{type(self).__name__}: recon_log must be the name the module "
                            f"logs its reconstruction term under, got {recon_log!r}.")
        self.recon_log = recon_log
        self._tap: Optional[PosteriorTap] = None
        self._told = False
        self.monitor: Optional[LoopMonitor] = None
        self._sums: Optional[_EpochSums] = None
        self._batches = 0
        self._saved: dict = {}
        self._steering: Optional[_Steering] = None

    # ------------------------------------------------------------ for subclasses
    def _open(self, trainer, pl_module) -> LoopMonitor:
        raise NotImplementedError

    def _close(self) -> None:
        pass

    def _new_monitor(self, trainer, pl_module) -> LoopMonitor:
        X_val = self.X_val if self.X_val is not None else validation_rows(trainer, pl_module)
        return LoopMonitor(pl_module, X_val, self.labels, **self.options)

    # ------------------------------------------------------------ Lightning hooks
    def on_train_start(self, trainer, pl_module) -> None:
        self._batches = 0
        error = None
        if trainer.is_global_zero:
            try:
                mon = self._open(trainer, pl_module)
                self._saved = {k: getattr(mon, k) for k in _RUN_SETTINGS}
                mon.hold_in_log = False                  # _steer holds every rank instead
                n = trainer.num_training_batches
                mon.steps_per_epoch = int(n) if isinstance(n, int) and n > 0 else None
                if trainer.max_epochs is not None and trainer.max_epochs > 0:
                    mon.target_epoch = float(trainer.max_epochs)
                self.monitor = mon
            except Exception as exc:  # noqa: BLE001 - the other ranks must hear of it first
                error = exc
        else:
            self._sums = _EpochSums()
        # one collective: if rank 0 could not start, no rank trains into a hang
        if trainer.strategy.reduce_boolean_decision(error is not None, all=False):
            if error is not None:
                raise error
            raise RuntimeError("vae_widgets: global rank 0 could not start the VAE monitor "
                               "(its error is reported there); this rank stops too.")
        self._steering = _Steering(trainer, self.check_every)
        self._tap, self._told = PosteriorTap(pl_module), False

    def on_train_batch_start(self, trainer, pl_module, batch, batch_idx) -> None:
        if self._tap is not None:
            self._tap.take()           # what was caught outside this step (validation, grids)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        in_dict = isinstance(outputs, dict) and "recon" in outputs      # (no need to read logs)
        terms = step_terms(outputs, None if in_dict else trainer.callback_metrics,
                           self._tap.take() if self._tap is not None else None, self.recon_log)
        sources = terms.pop("sources")
        if self.monitor is not None:
            self.monitor.log(**terms, lr=_learning_rate(trainer), epoch=trainer.current_epoch)
            if not self._told:
                self._told = True
                self._say_sources(sources)
        elif self._sums is not None:
            self._sums.add(terms)
        self._batches += 1
        if self._steering.due(self._batches):
            self._steer(trainer)

    def on_train_epoch_end(self, trainer, pl_module) -> None:
        def combine(sums):
            return _sum_over_ranks(trainer, sums)

        if self.monitor is not None:
            self.monitor.end_epoch(combine=combine)
        elif self._sums is not None:
            combine(self._sums.take())

    def on_train_end(self, trainer, pl_module) -> None:
        if self._steering is not None:
            self._steering.close()
        if self.monitor is not None:
            self.monitor.finish()

    def on_exception(self, trainer, pl_module, exception) -> None:
        self._end(exception)

    def teardown(self, trainer, pl_module, stage) -> None:
        if stage == "fit":
            self._end()

    def _say_sources(self, sources: dict) -> None:
        """An alert, once per run, when a curve's numbers do not come from training_step:
        which came from the module's logs and which the monitor computed."""
        parts = []
        if sources["recon"] != "training_step":
            parts.append(f"the reconstruction term is the module's log {sources['recon']!r}")
        if sources["kl"] == "posterior":
            parts.append(f"the KL (per dimension and total) and the active units are computed "
                         f"by vae_widgets from the posterior caught at {self._tap.what}")
        if not parts:
            return
        mon = self.monitor
        mon.monitor.alert(alert("sources", "Where the curves come from: " + "; ".join(parts) + ".",
                                "For the exact terms of your objective, return them from "
                                "training_step: {'loss', 'recon', 'mu', 'logvar'}."),
                          mon.step, mon.progress)

    def _end(self, exception: Optional[BaseException] = None) -> None:
        """Finish the run (if on_train_end did not), report how it failed, give the
        monitor its own settings back, close what ``_open`` opened. Runs once."""
        tap, self._tap = self._tap, None
        if tap is not None:
            tap.remove()
        mon, self.monitor, self._sums = self.monitor, None, None
        steering, self._steering = self._steering, None
        if steering is not None:
            steering.close(wait=exception is None)
        try:
            if mon is not None:
                _finish(mon, exception)
                for k, v in self._saved.items():
                    setattr(mon, k, v)
        finally:
            self._close()

    # ------------------------------------------------------------ steering
    def _steer(self, trainer) -> None:
        """Every rank, at the same batches: Stop and Pause decided together."""
        ctl = self.monitor.control if self.monitor is not None else None

        def flags():
            return (ctl is not None and ctl.stop_requested, ctl is not None and ctl.paused)

        stop, pause = self._steering.check(self._batches, *flags(),
                                           propose=trainer.is_global_zero)
        if pause and not stop:
            def wait():                              # every rank loops here, in step
                nonlocal stop
                while True:
                    time.sleep(PAUSE_POLL_S)
                    stop, paused = self._steering.now(*flags())
                    if stop or not paused:
                        return

            if self.monitor is not None:
                self.monitor.hold(wait)              # status paused, then running
            else:
                wait()
        if stop:
            trainer.should_stop = True

    # ------------------------------------------------------------ pickling (ddp_spawn)
    def __getstate__(self):
        for name, value in self.options.items():
            try:
                pickle.dumps(value)
            except Exception as exc:  # noqa: BLE001 - say which option, and what to do
                raise TypeError(
                    f"{type(self).__name__}: option {name}={value!r:.60} cannot be sent to the "
                    f"DDP processes ({type(exc).__name__}: {exc}). strategy='ddp_spawn' pickles "
                    f"the callbacks: use a function defined at module level instead of a "
                    f"lambda or a local function, or strategy='ddp_notebook'.") from None
        state = self.__dict__.copy()
        for k in self._RUNTIME:
            state.pop(k, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self.__dict__.update(dict.fromkeys(self._RUNTIME))   # made again where it runs
        self._batches, self._saved = 0, {}


class StreamTo(_MonitorCallback):
    """Stream a Lightning run's VAE monitor to a notebook that listens (``VAEWidget.listen()``).

    ::

        # in the notebook:  v = VAEWidget.listen(port=5555)   (prints address and token)
        # in train.py, launched anywhere (torchrun, SLURM, another machine):
        trainer = L.Trainer(..., callbacks=[StreamTo("tcp://notebook-host:5555", X_val=val_x)])

    Only global rank 0 opens the link (in ``on_train_start``, after the model is on its
    device) and closes it at the end (``teardown``, or ``on_exception``). Training waits
    up to ``wait`` seconds for the notebook to answer, then runs anyway; if the notebook
    goes away the job keeps training (events are dropped, never buffered without bound).
    The callback holds only the address, the token, ``X_val`` and the options, so it
    pickles for ``ddp_spawn`` (and for a forked ``ddp_notebook``).

    Parameters
    ----------
    address : str
        What ``listen()`` printed, e.g. ``"tcp://127.0.0.1:5555"``.
    token : str, optional
        The listener's token; default: the ``VAE_WIDGETS_TOKEN`` environment variable of
        the job (keeps it off the command line).
    X_val : array-like or tensor, optional
        A few hundred validation rows in the shape the module takes; default: up to
        512 rows of the datamodule's (or the module's) ``val_dataloader()``.
    labels : array-like, optional
        One per row of ``X_val``.
    wait : float
        Seconds rank 0 waits for the listener before training (default 30).
    check_every : int
        Batches between two checks for Stop/Pause at first (default 8); once the step
        time is known, a multiple of it about ``CHECK_SECONDS`` apart.
    recon_log : str, optional
        For a ``training_step`` that returns only its loss: the name the module logs its
        reconstruction term under (default: the first of ``steps.RECON_LOGS`` it logs,
        also after ``train_`` or ``train/``).
    link_options : dict, optional
        For :class:`~vae_widgets.bridge.job.JobLink` (``heartbeat``, ``timeout``, ...).
    **options
        For :class:`~vae_widgets.vae.watch.LoopMonitor`: ``image_shape``, ``recon_loss``
        (``recon_loss(x_hat, x)`` per row in nats: the validation ELBO), ``output``,
        ``factors`` and the :class:`~vae_widgets.vae.config.MonitorConfig` fields
        (``metrics_every``, ``visuals_every``, ...). The module's own ``encode`` and
        ``decode`` are used.
    """

    _RUNTIME = _MonitorCallback._RUNTIME + ("_link",)

    def __init__(self, address: str, token: Optional[str] = None, X_val=None, labels=None, *,
                 wait: float = CONNECT_WAIT_S, check_every: int = CHECK_EVERY,
                 recon_log: Optional[str] = None, link_options: Optional[dict] = None,
                 **options):
        from ..bridge import transport

        super().__init__(X_val, labels, check_every=check_every, recon_log=recon_log, **options)
        self.address = transport.check_address(address)
        if token is not None and (not isinstance(token, str) or not token):
            raise ValueError("StreamTo: token must be the string listen() printed (or leave it "
                             "out and set VAE_WIDGETS_TOKEN in the job's environment).")
        self.token = token
        self.wait = number(wait, "wait", low=0)
        if link_options is not None and not isinstance(link_options, dict):
            raise TypeError(f"StreamTo: link_options must be a dict, got "
                            f"{type(link_options).__name__}.")
        self.link_options = dict(link_options or {})
        self._link = None

    def _open(self, trainer, pl_module) -> LoopMonitor:
        from ..bridge import stream_to

        mon = self._new_monitor(trainer, pl_module)
        self._link = stream_to(mon, self.address, self.token,
                               describe=describe_run(mon, trainer, pl_module),
                               **self.link_options)
        if not self._link.wait_connected(self.wait):
            log.warning("vae_widgets: no notebook answered at %s within %g s; training anyway "
                        "(it is shown once the notebook listens).", self.address, self.wait)
        return mon

    def _close(self) -> None:
        link, self._link = getattr(self, "_link", None), None
        if link is not None:
            link.close()


class WidgetCallback(StreamTo):
    """What ``VAEWidget.watch(...).lightning_callback()`` returns.

    In the widget's own process (one device) it feeds the widget's
    :class:`~vae_widgets.vae.watch.LoopMonitor` directly. In another process (global
    rank 0 of ``ddp_spawn`` or ``ddp_notebook``, which runs in a child process) it acts
    as :class:`StreamTo` towards the listener the widget started. The widget's monitor
    itself never travels: pickling (``ddp_spawn``) drops it, and a forked child knows it
    is not the widget's process by its pid.
    """

    _RUNTIME = StreamTo._RUNTIME + ("_local", "_release")

    def __init__(self, local: LoopMonitor, address: str, token: str, X_val, labels=None, *,
                 release=None, **kw):
        super().__init__(address, token, X_val, labels, **kw)
        self._local = local
        self._home = os.getpid()
        #: called when a fit in the widget's own process ends: closes the widget's listener
        #: (started for a child rank, not needed then); returns whether it did
        self._release = release
        self._released = False

    def _open(self, trainer, pl_module) -> LoopMonitor:
        local = getattr(self, "_local", None)
        if local is None or os.getpid() != self._home:
            if self._released:
                raise RuntimeError(
                    "this lightning_callback() was used for a fit in the notebook's own "
                    "process, and the widget stopped listening for child processes when that "
                    "fit ended; give each Trainer its own v.lightning_callback().")
            return super()._open(trainer, pl_module)
        if local.adapter.module is not None and local.adapter.module is not pl_module:
            raise ValueError(f"lightning_callback(): the widget watches a "
                             f"{type(local.adapter.module).__name__}, but the trainer fits "
                             f"another module ({type(pl_module).__name__}); make the widget with "
                             f"VAEWidget.watch(module, X_val) of the module you fit.")
        self._saved_device = local.adapter.device
        local.adapter.device = pl_module.device      # Lightning moved it (e.g. to the GPU)
        return local

    def _close(self) -> None:
        device = self.__dict__.pop("_saved_device", None)
        local = getattr(self, "_local", None)
        if device is not None and local is not None:
            local.adapter.device = device           # Lightning moves the module back
        super()._close()
        release = getattr(self, "_release", None)
        if release is not None and local is not None and os.getpid() == self._home:
            self._released = release()   # a fit that ran (or failed) in this process ended


# ----------------------------------------------------------------------- helpers
def describe_run(mon: LoopMonitor, trainer, pl_module) -> dict:
    """What the notebook needs to know of a run before its events make sense (sent first
    whenever the listener answers; see :class:`~vae_widgets.bridge.job.JobLink`)."""
    a, strategy = mon.adapter, trainer.strategy
    start = getattr(strategy, "_start_method", None)
    return {"engine": "vae", "latent_dim": int(a.latent_dim), "rows": len(a.data),
            "image_shape": list(a.image_shape) if a.image_shape else None,
            "n_features": int(a.n_features), "model": type(pl_module).__name__,
            "device": str(a.device), "rank": int(trainer.global_rank),
            "world_size": int(trainer.world_size),
            "strategy": type(strategy).__name__ + (f" ({start})" if start else ""),
            "host": socket.gethostname(), "pid": os.getpid(),
            "config": mon.config.to_dict(), "default_base": int(mon.monitor.default_base),
            "factors": mon.monitor.factor_names}


def validation_rows(trainer, pl_module, n: int = DEFAULT_VAL_ROWS):
    """Up to ``n`` rows of the validation dataloader (the datamodule's, else the module's)."""
    holders = [h for h in (trainer.datamodule, pl_module) if h is not None]
    for holder in holders:
        try:
            loader = holder.val_dataloader()
        except Exception:  # noqa: BLE001 - not defined there (Lightning raises its own error)
            continue
        rows, have = [], 0
        for batch in loader:
            x = batch[0] if isinstance(batch, (tuple, list)) else batch
            if not isinstance(x, torch.Tensor):
                break
            rows.append(x.detach().cpu())
            have += len(x)
            if have >= n:
                break
        if rows:
            return torch.cat(rows)[:n]
    raise ValueError("vae_widgets: no validation rows: pass X_val= (a few hundred rows in the "
                     "shape the module takes), or give the datamodule a val_dataloader() whose "
                     "batches are tensors or (x, y) tuples.")


def _finish(mon: LoopMonitor, exception: Optional[BaseException]) -> None:
    """End the monitor's run; after an exception, say so (status error, or stopped for
    Ctrl-C) once the last rows and grids are out."""
    try:
        if mon.running:
            mon.finish()
    except Exception:  # noqa: BLE001 - the model may be what failed; report the first error
        log.exception("vae_widgets: the monitor could not finish the run")
    if exception is None:
        return
    m = mon.monitor
    if isinstance(exception, KeyboardInterrupt):
        m.status("stopped", epoch=mon.progress, step=mon.step, target_epoch=mon.target_epoch,
                 reason="interrupted")
        return
    message = f"{type(exception).__name__}: {exception}"
    m.error(message, "".join(traceback.format_exception(exception)))
    m.status("error", epoch=mon.progress, step=mon.step, target_epoch=mon.target_epoch,
             reason=message)
