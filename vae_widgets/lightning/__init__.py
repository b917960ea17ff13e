"""Watch a VAE that PyTorch Lightning trains, on one device or on several DDP processes.

The package: ``callbacks.py`` (the callbacks and their hooks), ``steering.py`` (Stop and
Pause decided by every rank together), ``steps.py`` (what ``training_step`` returns, read
and summed over an epoch).

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

try:
    import lightning.pytorch as pl  # noqa: F401 (here: one clear message when it is missing)
except ImportError as exc:  # pragma: no cover - the optional extra
    raise ImportError("vae_widgets.lightning needs Lightning: pip install 'vae_widgets[lightning]' "
                      "(or pip install lightning), after installing torch.") from exc

from .callbacks import StreamTo, WidgetCallback, describe_run, validation_rows  # noqa: F401
from .steering import CHECK_EVERY, CHECK_MAX, CHECK_SECONDS, PAUSE_POLL_S  # noqa: F401
from .steps import step_terms

__all__ = ["StreamTo", "WidgetCallback", "step_terms", "CHECK_EVERY", "CHECK_SECONDS",
           "PAUSE_POLL_S"]
