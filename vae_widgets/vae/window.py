"""A window of per-step loss terms folded into a few numbers with one host sync.

A producer appends ``(recon, klpd)`` per step: detached device tensors, no copy
(``recon`` a 0-d or per-row term, or a float; ``klpd`` the batch-mean KL per
latent dimension, or a ``(mu, logvar)`` pair). At a row boundary the window is
stacked and reduced on the device: a handful of ops for the whole window instead
of a few small ones per step. ``VAEMonitor.close_row`` and the Lightning step
parser (``lightning.steps``) fold windows here.
"""
from __future__ import annotations

import torch

from .objective import kl_per_dim


def kl_rows(pairs) -> tuple:
    """Batch-mean KL per dimension of each step's ``(mu, logvar)``: one computation over
    the stacked window (a per-step one cost ~30 µs per step in small ops)."""
    mus, lvs = zip(*pairs)
    try:
        mu, lv = torch.stack(mus), torch.stack(lvs)        # (steps, batch, D)
    except RuntimeError:                                    # batch sizes differ
        return tuple(kl_per_dim(m, v) for m, v in pairs)
    return tuple((0.5 * (mu.pow(2) + lv.exp() - 1.0 - lv)).mean(1).unbind(0))


def recon_means(recons, device) -> torch.Tensor:
    """The steps' batch-mean reconstruction terms, shape (steps,), float32 on ``device``:
    one stack when they are tensors of one shape on one device (0-d, or per row)."""
    try:
        r = torch.stack(recons)
        r = r.mean(1) if r.ndim == 2 else r
        if r.ndim == 1:
            return r.float().to(device)
    except (TypeError, RuntimeError):                  # floats, batch sizes that differ
        pass
    return scalars(recons, device)


def scalars(values, device) -> torch.Tensor:
    """Scalars (0-d tensors, numbers, or per-sample tensors: averaged), shape (n,)."""
    try:
        t = torch.stack(values)
        if t.ndim == 1:
            return t.float().to(device)
    except (TypeError, RuntimeError):
        pass
    return torch.stack([_scalar(v, device) for v in values])


def _scalar(v, device) -> torch.Tensor:
    """A loss term as a 0-d float tensor on ``device`` (per-sample terms are averaged)."""
    t = torch.as_tensor(v, dtype=torch.float32)
    return (t.mean() if t.ndim else t).to(device)


def fold_steps(window) -> torch.Tensor:
    """``[sum of the steps' batch-mean reconstruction, sum of their total KL]`` over
    window entries ``(recon, klpd)`` as :meth:`VAEMonitor.close_row` takes them, as one
    tensor on the KL's device (no host sync): a handful of stacked ops for the whole
    window instead of a few small ones per step."""
    recons, klpds = zip(*window)
    with torch.no_grad():
        if all(isinstance(k, tuple) for k in klpds):
            klpds = kl_rows(klpds)
        else:                                            # (a loop that changed forms)
            klpds = [kl_per_dim(*k) if isinstance(k, tuple) else k for k in klpds]
        kl = torch.stack(klpds).sum().float()
        return torch.stack([recon_means(recons, kl.device).sum(), kl])
