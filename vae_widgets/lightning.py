"""Watch a VAE that PyTorch Lightning trains, on one device or on several DDP processes.

Two callbacks, one mechanism:

* ``v.lightning_callback()`` on a :meth:`VAEWidget.watch <vae_widgets.VAEWidget.watch>`
  widget: in the notebook's own process (``devices=1``) it feeds the widget's monitor
  directly; in a child process (rank 0 of ``ddp_spawn`` / ``ddp_notebook``) it builds a
  monitor there and streams its events back to the widget through the bridge.
* :class:`StreamTo` ``(address, token)``: for a job launched elsewhere (``torchrun``,
  SLURM, another machine), streaming to a widget made by ``VAEWidget.listen()``.

The contract with your ``LightningModule``
------------------------------------------

``training_step`` returns a dict (Lightning minimises ``loss``; the callback reads the
rest, detached, with no device sync per step)::

    def training_step(self, batch, batch_idx):
        x = batch[0]
        mu, logvar = self.encode(x)
        x_hat = self.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
        recon = F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").flatten(1).sum(1)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        return {"loss": (recon + self.beta * kl).mean(), "recon": recon,
                "mu": mu, "logvar": logvar, "beta": self.beta}

* ``recon``: the reconstruction term ``-log p(x|z)`` in nats, summed over features:
  per row ``(B,)`` or its batch mean;
* ``mu`` and ``logvar``: the posterior parameters ``(B, latent_dim)`` (KL per
  dimension and active units come from them), **or** ``kl``: the KL per dimension,
  ``(latent_dim,)`` or ``(B, latent_dim)``;
* optional: ``beta`` (the KL weight of this step, default 1), ``grad_norm``.

The module has ``encode(x) -> (mu, logvar)`` and ``decode(z) -> x_hat`` (or logits):
the validation pass on ``X_val`` after each epoch (KL per dimension, active units and,
with ``recon_loss=``, the ELBO) and the image grids (at most every ``visuals_every``
seconds, in eval mode without gradients) use them.

Which rank reports what
-----------------------

Only global rank 0 reports; every rank takes part in the few collectives below.

* Metric rows (every ``metrics_every`` steps: −ELBO, reconstruction, KL per
  dimension, active units) are **rank 0's batches**: reducing them would cost a
  collective and a device sync per step, and rank 0's batches are a random share of
  the data like any other rank's.
* Epoch rows' training terms (``train_elbo``, ``train_recon``, ``train_kl``) are
  **means over every rank's steps** of the epoch (one all-reduce per epoch): the
  number you would compute over the whole epoch's data, as Lightning's
  ``self.log(..., on_epoch=True, sync_dist=True)`` gives.
* Validation (``val_*``, active units, KL per dimension at the epoch end) and the
  grids are computed on rank 0 from all of ``X_val``: under DDP every rank holds the
  same weights, so there is nothing to reduce.

Steering every rank
-------------------

Stop and Pause reach rank 0 (from the widget, through the bridge); the other ranks
learn of them in a collective. At the same batches on every rank (``check_every``
batches apart at first; then rank 0 proposes a multiple of it that spaces the checks
about ``CHECK_SECONDS`` = 0.25 s apart, adopted by every rank at the same check), each
rank reads the flags from one asynchronous all-reduce (on a CPU gloo group, so never on
a GPU stream) that every rank started one batch before: DDP ranks move in lockstep, so
it has arrived by then: no barrier, no device sync, nobody waits. Every rank so acts on
the same decision at the same batch, at most one spacing and one batch after the
request reached rank 0 (about a quarter of a second). For Stop all of
them set ``trainer.should_stop`` in the same hook, so they end at the same step and no
rank waits in a collective the others never reach (note that
``min_epochs``/``min_steps`` make Lightning train on after a stop). For Pause every
rank waits in the same hook, re-checking every ``PAUSE_POLL_S`` seconds (a blocking
all-reduce, so no collective times out) until Resume or Stop.

Works with ``strategy="ddp"``, ``"ddp_spawn"``, ``"ddp_notebook"`` (CPU with gloo, or
GPUs) and on one device. Needs ``lightning`` (``pip install 'vae_widgets[lightning]'``).
"""
from __future__ import annotations

import logging
import math
import os
import pickle
import socket
import time
import traceback
from typing import Optional

import torch
import torch.distributed as _dist

try:
    import lightning.pytorch as pl
except ImportError as exc:  # pragma: no cover - the optional extra
    raise ImportError("vae_widgets.lightning needs Lightning: pip install 'vae_widgets[lightning]' "
                      "(or pip install lightning), after installing torch.") from exc

from ._validation import number
from .vae.config import MonitorConfig, check_names
from .vae.monitor import fold_steps
from .vae.watch import LoopMonitor

log = logging.getLogger("vae_widgets.lightning")

__all__ = ["StreamTo", "WidgetCallback", "step_terms", "CHECK_EVERY", "CHECK_SECONDS", "PAUSE_POLL_S"]

#: batches between two checks for Stop and Pause (at least; a multiple of it once the
#: step time is known): one small collective, on every rank at once
CHECK_EVERY = 8
#: seconds rank 0 aims for between two checks (fast steps are checked less often)
CHECK_SECONDS = 0.25
#: the most batches between two checks
CHECK_MAX = 4096
#: seconds between two checks while paused (every rank waits in the same hook)
PAUSE_POLL_S = 0.2
#: rows read from the validation dataloader when ``X_val`` is not given
DEFAULT_VAL_ROWS = 512
#: seconds rank 0 waits for the listener before training starts anyway
CONNECT_WAIT_S = 30.0
#: a LoopMonitor's settings that a Lightning run changes while it feeds the monitor
_RUN_SETTINGS = ("hold_in_log", "steps_per_epoch", "target_epoch")
#: LoopMonitor options a callback passes on (encode/decode: the module's own; device: where
#: Lightning put it; the learning rate and the epochs: from the trainer)
_MONITOR_OPTIONS = ("image_shape", "output", "recon_loss", "factors")


def step_terms(outputs) -> dict:
    """The monitor's terms of one training step, from what ``training_step`` returned.

    Raises TypeError/ValueError saying what the contract is (see the module docstring);
    every rank checks, so a broken step fails everywhere at once.
    """
    if not isinstance(outputs, dict):
        raise TypeError(f"vae_widgets: training_step must return a dict with 'loss', 'recon' "
                        f"and 'mu'/'logvar' (or 'kl') for the VAE monitor, got "
                        f"{type(outputs).__name__}; e.g. return {{'loss': loss, 'recon': recon, "
                        f"'mu': mu, 'logvar': logvar}}.")
    if set(outputs) == {"loss"}:    # (Lightning wraps a returned loss tensor so)
        raise ValueError("vae_widgets: training_step returned only the loss; for the VAE "
                         "monitor return a dict: {'loss': loss, 'recon': recon, 'mu': mu, "
                         "'logvar': logvar} (or 'kl' per latent dimension instead of mu, logvar).")
    if "recon" not in outputs:
        raise ValueError(f"vae_widgets: training_step's dict has no 'recon' (the reconstruction "
                         f"term, per row or its batch mean); it has {sorted(outputs)}.")
    posterior = ("mu" in outputs) + ("logvar" in outputs)
    if posterior == 1:
        raise ValueError("vae_widgets: training_step returned only one of 'mu' and 'logvar'; "
                         "return both (or 'kl' per latent dimension).")
    if not posterior and "kl" not in outputs:
        raise ValueError(f"vae_widgets: training_step's dict needs 'mu' and 'logvar' (the "
                         f"posterior) or 'kl' (per latent dimension); it has {sorted(outputs)}.")
    return {"recon": outputs["recon"], "mu": outputs.get("mu"), "logvar": outputs.get("logvar"),
            "kl": None if posterior else outputs["kl"], "beta": outputs.get("beta", 1.0),
            "grad_norm": outputs.get("grad_norm")}


class _EpochSums:
    """One rank's sums of the step terms this epoch (batch-mean reconstruction, total KL).

    Steps are kept detached and folded every ``_FOLD`` steps in a few stacked ops on
    the device (a KL computed per step cost ~0.13 ms of small ops, 2 % of a 7 ms step);
    no sync until the epoch ends."""

    _FOLD = 32

    def __init__(self):
        self._kept: list = []
        self._sum: Optional[torch.Tensor] = None
        self._steps = 0

    def add(self, terms: dict) -> None:
        if terms["mu"] is not None:
            klpd = (terms["mu"].detach(), terms["logvar"].detach())
        else:
            t = torch.as_tensor(terms["kl"]).detach()
            klpd = t.float().mean(0) if t.ndim == 2 else t.float()
        r = terms["recon"]
        self._kept.append((r.detach() if isinstance(r, torch.Tensor) else r, klpd))
        self._steps += 1
        if len(self._kept) >= self._FOLD:
            self._fold()

    def _fold(self) -> None:
        if self._kept:
            part = fold_steps(self._kept)
            self._sum = part if self._sum is None else self._sum + part
        self._kept = []

    def take(self) -> list:
        """``[recon sum, kl sum, steps]`` of the epoch so far, and start again."""
        self._fold()
        sums = self._sum.tolist() if self._sum is not None else [0.0, 0.0]
        out = [sums[0], sums[1], float(self._steps)]
        self._sum, self._steps = None, 0
        return out


class _Steering:
    """Stop and Pause, decided together by every rank at the same batches.

    One batch before each check, every rank starts one asynchronous all-reduce (max) of
    three numbers (stop, pause, and rank 0's proposal for the batches to the next check)
    on a CPU (gloo) group; at the check it reads the result. DDP ranks move in lockstep
    (every step all-reduces the gradients), so by then every rank has joined and the read
    does not wait in the usual case: no barrier, no device sync, and every rank acts on
    the same decision at the same batch. Checks start ``check_every`` batches apart; rank
    0 then proposes a multiple of ``check_every`` that spaces them about
    ``CHECK_SECONDS`` apart (fast steps: fewer collectives), which every rank adopts at
    the same check. A click so acts within one spacing and a batch (about 0.25 s, or
    ``check_every + 1`` batches of slow steps). While paused, every rank polls with a
    blocking all-reduce.

    Without ``torch.distributed`` (one process, or a strategy that does not use it)
    the decision is made at once: the flags themselves, or Lightning's
    ``reduce_boolean_decision``.
    """

    def __init__(self, trainer, check_every: int = CHECK_EVERY):
        self.trainer = trainer
        self.check_every = self.spacing = int(check_every)
        self.next_check = self.spacing            # batch count of the next check
        self._pending = None                      # (work, tensor) asked one batch before it
        self._last = None                         # (batches, time) when last asked
        self.group = None
        if trainer.world_size <= 1:
            self.mode = "local"
        elif _dist.is_available() and _dist.is_initialized():
            self.mode = "dist"
            self.group = _control_group()
        else:
            self.mode = "strategy"

    def due(self, batches: int) -> bool:
        """Whether :meth:`check` has something to do at this batch count: the check itself,
        or (with ``torch.distributed``) asking the batch before it."""
        lead = 1 if self.mode == "dist" and self._pending is None else 0
        return batches >= self.next_check - lead

    def check(self, batches: int, stop: bool, pause: bool, propose: bool) -> tuple[bool, bool]:
        """At a due batch, on every rank: what every rank does now, ``(stop, pause)``.
        ``propose``: this rank measures the step time and proposes the spacing (rank 0)."""
        if self.mode != "dist":
            self.next_check = batches + self.spacing
            return self.now(stop, pause)
        decided = (False, False)
        if self._pending is not None and batches >= self.next_check:
            work, t = self._pending
            self._pending = None
            work.wait()
            got = t.tolist()
            decided = (got[0] > 0, got[1] > 0)
            self.spacing = max(self.check_every, int(got[2]))
            self.next_check = batches + self.spacing
        # ask for the next check one batch ahead (a decision is acted on before asking again)
        if self._pending is None and not any(decided) and batches >= self.next_check - 1:
            t = torch.tensor([int(stop), int(pause), self._proposal(batches) if propose else 0],
                             dtype=torch.int64)
            self._pending = (_dist.all_reduce(t, op=_dist.ReduceOp.MAX, group=self.group,
                                              async_op=True), t)
            self._last = (batches, time.perf_counter())
        return decided

    def _proposal(self, batches: int) -> int:
        """Batches to put between checks: about CHECK_SECONDS of this rank's steps."""
        if self._last is None or batches <= self._last[0]:
            return self.spacing
        step_s = (time.perf_counter() - self._last[1]) / (batches - self._last[0])
        k = int(CHECK_SECONDS / max(step_s, 1e-6) / self.check_every)
        return min(max(1, k) * self.check_every, max(CHECK_MAX, self.check_every))

    def now(self, stop: bool, pause: bool) -> tuple[bool, bool]:
        """A blocking decision (every rank calls it at the same point)."""
        if self.mode == "local":
            return bool(stop), bool(pause)
        if self.mode == "dist":
            t = torch.tensor([int(stop), int(pause)], dtype=torch.int64)
            _dist.all_reduce(t, op=_dist.ReduceOp.MAX, group=self.group)
            return tuple(v > 0 for v in t.tolist())
        decide = self.trainer.strategy.reduce_boolean_decision
        return bool(decide(bool(stop), all=False)), bool(decide(bool(pause), all=False))

    def close(self, wait: bool = True) -> None:
        """End of training: let the last check's all-reduce finish on every rank (after
        an exception another rank may never join it, so it is only dropped)."""
        pending, self._pending = self._pending, None
        if pending is not None and wait:
            pending[0].wait()


def _control_group():
    """The process group for the steering flags: the default one when it is gloo (CPU),
    else one gloo group next to it (made once per default group, by every rank in the
    same hook), so the flags never touch a GPU stream."""
    if _dist.get_backend() == "gloo":
        return None
    world = _dist.group.WORLD
    group = _CONTROL_GROUPS.get(id(world))
    if group is None:
        group = _CONTROL_GROUPS[id(world)] = _dist.new_group(backend="gloo")
    return group


_CONTROL_GROUPS: dict = {}


class _MonitorCallback(pl.Callback):
    """Feed a :class:`~vae_widgets.vae.watch.LoopMonitor` on global rank 0 from
    ``training_step``'s outputs and steer every rank (see the module docstring).
    Subclasses say where the monitor comes from (``_open``) and how it ends (``_close``)."""

    _RUNTIME = ("monitor", "_sums", "_batches", "_saved", "_steering")

    def __init__(self, X_val=None, labels=None, *, check_every: int = CHECK_EVERY, **options):
        check_names(options, [*MonitorConfig.field_names(), *_MONITOR_OPTIONS], type(self).__name__)
        self.X_val, self.labels, self.options = X_val, labels, options
        self.check_every = number(check_every, "check_every", low=1, integer=True)
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

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        terms = step_terms(outputs)
        if self.monitor is not None:
            self.monitor.log(**terms, lr=_learning_rate(trainer), epoch=trainer.current_epoch)
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

    def _end(self, exception: Optional[BaseException] = None) -> None:
        """Finish the run (if on_train_end did not), report how it failed, give the
        monitor its own settings back, close what ``_open`` opened. Runs once."""
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
                 link_options: Optional[dict] = None, **options):
        from .bridge import transport

        super().__init__(X_val, labels, check_every=check_every, **options)
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
        from .bridge import stream_to

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

    _RUNTIME = StreamTo._RUNTIME + ("_local",)

    def __init__(self, local: LoopMonitor, address: str, token: str, X_val, labels=None, **kw):
        super().__init__(address, token, X_val, labels, **kw)
        self._local = local
        self._home = os.getpid()

    def _open(self, trainer, pl_module) -> LoopMonitor:
        local = getattr(self, "_local", None)
        if local is None or os.getpid() != self._home:
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


def _learning_rate(trainer) -> Optional[float]:
    opts = trainer.optimizers
    return opts[0].param_groups[0]["lr"] if opts else None


def _sum_over_ranks(trainer, values: list) -> list:
    device = trainer.strategy.root_device
    dtype = torch.float32 if device.type == "mps" else torch.float64
    t = torch.tensor([float(v) for v in values], dtype=dtype, device=device)
    out = trainer.strategy.reduce(t, reduce_op="sum")
    return [v if math.isfinite(v) else float("nan") for v in out.tolist()]
