"""What the trainer watches: per-dimension KL, active units and three alerts.

An alert is a plain dict ``{"kind", "message", "fix"}``: ``message`` is one
line saying what happened, ``fix`` one line saying what to try. Kinds:

* ``"collapse"`` — posterior collapse: fewer than ``collapse_fraction`` (half)
  of the latent units are active once the KL warm-up ended plus a grace period
  (``collapse_grace_epochs`` epochs and ``collapse_grace_steps`` steps), and the
  count stopped rising. A unit ``j`` is *active* when ``Var_x[E_q(z|x)[z_j]] > 0.01`` (Burda et
  al. 2015), measured on the validation set at each epoch end.
* ``"divergence"`` — a loss or gradient became NaN/inf, or the loss exceeded
  its first value by ``diverge_factor``: training stops and the last weights
  that produced finite numbers are restored.
* ``"overfitting"`` — the validation loss rose for ``overfit_patience``
  epochs in a row while the training loss fell.
* ``"units"`` — the reconstruction term a loop logs and the one the monitor measures on
  the validation rows with the same model differ by about the batch size (the loss was
  summed over the batch, not averaged) or by a large constant factor (a mean over
  features, a different likelihood): the curves would compare numbers in different
  units.
* ``"sources"`` (a note, not a problem; from the Lightning callback) — which curves come
  from the module's logs and which the monitor computed, for a ``training_step`` that
  returns only its loss.

The monitors are small state machines fed with numbers, so they can be tested
without training anything.
"""
from __future__ import annotations

import math
from typing import Optional, Sequence

import numpy as np
import torch

from .objective import kl_per_dim  # noqa: F401  (re-exported: per-dimension KL)


def alert(kind: str, message: str, fix: str) -> dict:
    return {"kind": kind, "message": message, "fix": fix}


def active_units(mu, threshold: float = 0.01):
    """Number of units whose posterior mean varies over the data by more than ``threshold``.

    ``mu``: (n, D) posterior means (numpy or torch). Returns ``(count, variances)``
    with the per-dimension variances (population variance, ddof=0). For a torch
    input both stay on its device (no sync).
    """
    if isinstance(mu, torch.Tensor):
        var = mu.var(0, unbiased=False)
        return (var > threshold).sum(), var
    var = np.asarray(mu, dtype=np.float64).var(0)
    return int((var > threshold).sum()), var


class CollapseMonitor:
    """Fires once when fewer than ``fraction * latent_dim`` units are active, the check is
    ``eligible`` (the trainer's warm-up + grace period is over) and the count has not risen
    over the last ``patience`` epochs (a healthy VAE often starts with all units at the
    prior and wakes them one by one: that is not collapse). Re-arms when enough units
    come back."""

    def __init__(self, latent_dim: int, fraction: float = 0.5, patience: int = 3):
        self.latent_dim = latent_dim
        self.fraction = fraction
        self.patience = patience
        self.counts: list[int] = []
        self.fired = False

    def update(self, n_active: int, eligible: bool = True,
               beta: Optional[float] = None) -> Optional[dict]:
        self.counts.append(int(n_active))
        collapsed = n_active < self.fraction * self.latent_dim
        if not collapsed:
            self.fired = False
            return None
        recent = self.counts[-(self.patience + 1):]
        rising = len(recent) > 1 and max(recent[1:]) > recent[0]
        if not eligible or self.fired or rising:
            return None
        self.fired = True
        b = f" at beta={beta:g}" if beta is not None else ""
        return alert(
            "collapse",
            f"Posterior collapse: only {n_active} of {self.latent_dim} latent dimensions are "
            f"active{b} (their posterior means barely vary across the data, so the decoder "
            f"ignores them).",
            "Lower beta (e.g. 0.5), use kl_schedule='linear' or 'cyclical', or set free_bits "
            "to 0.1-0.5 nats; a smaller latent_dim is fine if the data need fewer dimensions.")


class UnitsMonitor:
    """Fires once when the logged training reconstruction and the monitor's own validation
    reconstruction (same model, per row, summed over features) are in different units:
    their ratio is within ``tolerance`` of the batch size (a sum over the batch), or more
    than ``factor`` apart either way. Judged on the first ``epochs`` validated epochs only
    (later, overfitting may separate them honestly)."""

    def __init__(self, tolerance: float = 0.35, factor: float = 8.0, epochs: int = 3):
        self.tolerance, self.factor, self.epochs = tolerance, factor, epochs
        self.seen = 0
        self.fired = False

    def update(self, train_recon: float, val_recon: float,
               batch_rows: Optional[int]) -> Optional[dict]:
        if self.fired or self.seen >= self.epochs:
            return None
        if not (math.isfinite(train_recon) and math.isfinite(val_recon)) or \
                min(abs(train_recon), abs(val_recon)) < 1e-6 or train_recon * val_recon < 0:
            return None
        self.seen += 1
        ratio = train_recon / val_recon
        b = batch_rows or 0
        if b > 1 and abs(ratio / b - 1) < self.tolerance:
            self.fired = True
            return alert(
                "units",
                f"Units: the reconstruction you log ({train_recon:.4g}) is {ratio:.0f}x the "
                f"one measured on the validation rows ({val_recon:.4g}), about your batch "
                f"size ({b}): the loss is probably summed over the batch.",
                "Log the mean over the batch (e.g. reduction='sum' / len(x), or "
                "F.binary_cross_entropy(..., reduction='none').sum(1).mean()); the "
                "optimiser can keep its loss, only log() needs per-row numbers.")
        if ratio > self.factor or ratio < 1 / self.factor:
            self.fired = True
            return alert(
                "units",
                f"Units: the reconstruction you log ({train_recon:.4g}) and the one measured "
                f"on the validation rows ({val_recon:.4g}) differ {max(ratio, 1 / ratio):.0f}-fold "
                f"with the same model.",
                "Log recon per row, summed over features (pixels, columns), as recon_loss "
                "measures it; a mean over features or another likelihood gives other units.")
        return None


class OverfitMonitor:
    """Fires once when validation loss rose ``patience`` epochs in a row while training
    loss fell; re-arms once validation loss falls again."""

    def __init__(self, patience: int = 3):
        self.patience = patience
        self.train: list[float] = []
        self.val: list[float] = []
        self.fired = False

    def update(self, train_loss: float, val_loss: float) -> Optional[dict]:
        self.train.append(train_loss)
        self.val.append(val_loss)
        p = self.patience
        if len(self.val) < p + 1:
            return None
        v, t = self.val[-(p + 1):], self.train[-(p + 1):]
        rising = all(b > a for a, b in zip(v[:-1], v[1:]))
        falling = all(b < a for a, b in zip(t[:-1], t[1:]))
        if not rising:
            self.fired = False
            return None
        if not falling or self.fired:
            return None
        self.fired = True
        return alert(
            "overfitting",
            f"Overfitting: the validation loss rose for {p} epochs "
            f"({v[0]:.3g} -> {v[-1]:.3g}) while the training loss fell "
            f"({t[0]:.3g} -> {t[-1]:.3g}).",
            "Stop here (or restore an earlier checkpoint), or use a smaller model (hidden=...), "
            "a larger beta, fewer epochs or more data.")


class DivergenceMonitor:
    """Decides whether a synced window of numbers is healthy."""

    def __init__(self, factor: float = 1e4):
        self.factor = factor
        self.first: Optional[float] = None

    def check(self, values: Sequence[float], loss: float) -> Optional[str]:
        """None if fine, else a short reason."""
        if not all(math.isfinite(v) for v in values):
            return "a loss or gradient became NaN or infinite"
        if self.first is None:
            self.first = loss
            return None
        limit = self.first + self.factor * (abs(self.first) + 1.0)
        if loss > limit:
            return f"the loss reached {loss:.3g}, far above its starting value {self.first:.3g}"
        return None

    @staticmethod
    def make_alert(reason: str, step: int, restored_step: Optional[int]) -> dict:
        kept = (f"the weights from step {restored_step} were restored"
                if restored_step is not None else "no earlier finite weights existed")
        return alert(
            "divergence",
            f"Training diverged at step {step}: {reason}; training stopped and {kept}.",
            "Lower the learning rate (e.g. lr=1e-4), set clip_grad=5.0, or check the data "
            "scale (standardize='auto' for Gaussian data).")
