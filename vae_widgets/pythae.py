"""Watch a `pythae <https://github.com/clementchadebec/benchmark_VAE>`_ model train, as it is.

::

    from pythae.models import VAE, VAEConfig
    from pythae.pipelines import TrainingPipeline
    from pythae.trainers import BaseTrainerConfig

    model = VAE(model_config=VAEConfig(input_dim=(1, 8, 8), latent_dim=4))
    v = VAEWidget.watch(model, X_val)            # pythae's encoder/decoder are recognised
    v
    pipeline = TrainingPipeline(training_config=BaseTrainerConfig(num_epochs=20), model=model)
    pipeline(train_data=X_train, eval_data=X_val, callbacks=[v.pythae_callback()])

Why pythae: of the libraries that train VAEs for people (pythae, lightning-bolts, the
VAE zoos of tutorials), pythae is the one with a training-callback API and twenty-odd
VAE variants behind one ``forward``; bolts' ``VAE`` is a Lightning module, watched by
``v.lightning_callback()``.

pythae's callbacks are told only that a step ended (``on_train_step_end`` gets the
training config), so :class:`PythaeCallback` reads each step where the model computed
it, with hooks that keep only the last call's tensors, detached (no extra forward, no
device sync): the reconstruction term from the model's output (``recon_loss``, the batch
mean pythae minimises) and the posterior (``embedding``, ``log_covariance``) from its
encoder (:class:`~vae_widgets.vae.posterior.PosteriorTap`). The KL per dimension
and the active units come from that posterior; the KL weight from the model's config
(``beta``, 1 without one). The hooks are on the model only while an epoch's training
steps run: they go on at pythae's ``on_train_step_begin`` (once an epoch, before its
loop) and come off after the epoch's last step, so the copies pythae makes of its best
model and the checkpoints and final model it saves (a custom encoder or decoder is
cloudpickled) never carry them.

Stop and Pause: Pause holds the training loop inside the callback (pythae waits);
pythae has no way to end training early, so Stop raises :class:`TrainingStopped` from
the step that saw it: the model keeps the weights of that step, and pythae saves no
final model for that run.
"""
from __future__ import annotations

import math
from typing import Optional

from pythae.trainers.training_callbacks import TrainingCallback

from .vae.posterior import PosteriorTap
from .vae.watch import LoopMonitor


class TrainingStopped(Exception):
    """Stop was pressed in the widget: pythae's training ended at this step."""


class PythaeCallback(TrainingCallback):
    """A pythae ``TrainingCallback`` feeding a :meth:`VAEWidget.watch
    <vae_widgets.VAEWidget.watch>` widget's monitor (see the module docstring); what
    ``v.pythae_callback()`` returns. One run of a pipeline (or ``trainer.train()``) at
    a time, in the widget's process."""

    def __init__(self, monitor: LoopMonitor):
        if not isinstance(monitor, LoopMonitor):
            raise TypeError(f"PythaeCallback needs the LoopMonitor of a watch() widget, got "
                            f"{type(monitor).__name__}; use v.pythae_callback().")
        model = monitor.adapter.module
        if model is None:
            raise ValueError("pythae_callback(): the widget watches no model; make it with "
                             "VAEWidget.watch(model, X_val) of the pythae model you train.")
        self.monitor, self.model = monitor, model
        self._tap: Optional[PosteriorTap] = None
        self._hook = None
        self._recon = None
        self._left: Optional[int] = None                    # steps left in this epoch
        self._saved: dict = {}

    # ------------------------------------------------------------ hooks on the model
    def _attach(self) -> None:
        self._detach()
        self._tap = PosteriorTap(self.model)

        # a plain function, not a bound method: pythae deep-copies the model (its best
        # model) with its hooks, and a bound method would copy this callback, monitor and all
        def caught(_module, _inputs, out):
            recon = getattr(out, "recon_loss", None)
            if recon is not None:
                self._recon = recon.detach()

        self._hook = self.model.register_forward_hook(caught)

    def _detach(self) -> None:
        tap, self._tap = self._tap, None
        hook, self._hook = self._hook, None
        if tap is not None:
            tap.remove()
        if hook is not None:
            hook.remove()

    # ------------------------------------------------------------ pythae's hooks
    def on_train_begin(self, training_config, **kwargs):
        mon = self.monitor
        self._saved = {"steps_per_epoch": mon.steps_per_epoch, "target_epoch": mon.target_epoch}
        epochs = getattr(training_config, "num_epochs", None)
        mon.target_epoch = float(epochs) if epochs else math.nan
        lr = getattr(training_config, "learning_rate", None)
        self._lr = float(lr) if lr is not None else None

    def on_epoch_begin(self, training_config, **kwargs):
        self.monitor.steps_per_epoch = _length(kwargs.get("train_loader"))

    def on_train_step_begin(self, training_config, **kwargs):
        # pythae calls this once an epoch, before its loop over the training batches
        self._left = _length(kwargs.get("train_loader"))
        self._recon = None
        self._attach()

    def on_train_step_end(self, training_config, **kwargs):
        if self._tap is None:               # a step past the loader's length: not seen
            self._attach()
            return
        pair, recon, self._recon = self._tap.take(), self._recon, None
        if self._left is not None:
            self._left -= 1
            if self._left <= 0:                             # the epoch's last step
                self._detach()
        if pair is None or recon is None:
            self._end()
            raise RuntimeError(
                "vae_widgets: the pythae step gave no posterior or reconstruction term to "
                "watch (the model's output has no recon_loss, or its encoder no embedding / "
                "log_covariance); log the terms yourself with VAEWidget.watch(...).log().")
        mon = self.monitor
        beta = getattr(getattr(self.model, "model_config", None), "beta", 1.0)
        mon.log(recon=recon, mu=pair[0], logvar=pair[1], beta=float(beta), lr=self._lr)
        if mon.should_stop:
            step = mon.step
            self._end()
            raise TrainingStopped(f"Stopped from the widget at step {step}; pythae cannot end "
                                  f"training early, so vae_widgets ended it here: the model "
                                  f"holds the weights of step {step} (pythae saved no final "
                                  f"model for this run).")

    def on_eval_step_begin(self, training_config, **kwargs):
        self._detach()                                      # (a loader that miscounted)

    def on_epoch_end(self, training_config, **kwargs):
        self._detach()
        # with the loader's length known the monitor closed the epoch at its last step
        if self.monitor.running and self.monitor.steps_per_epoch is None:
            self.monitor.end_epoch()

    def on_train_end(self, training_config, **kwargs):
        self._end()

    def _end(self) -> None:
        """The hooks off the model, the run finished, the monitor's settings back."""
        self._detach()
        mon = self.monitor
        try:
            if mon.running:
                mon.finish()
        finally:
            for k, v in self._saved.items():
                setattr(mon, k, v)
            self._saved = {}


def _length(loader) -> Optional[int]:
    try:
        return len(loader) if loader is not None else None
    except TypeError:                                       # an iterable without a length
        return None
