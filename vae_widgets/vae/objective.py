"""The training objective: negative ELBO = reconstruction + beta * KL.

Convention, used everywhere in this package (losses, metrics, history, alerts):

* every term is a **sum over features** (pixels, columns) or latent dimensions
  and a **mean over the batch**, in nats per data point;
* ``recon`` = ``-E_q[log p(x|z)]`` estimated with one reparameterised sample;
* ``kl`` = ``KL(q(z|x) || N(0, I))`` in closed form, ``kl_per_dim[j]`` its
  batch-mean per latent dimension (so ``kl = kl_per_dim.sum()``);
* ``elbo = -(recon + kl)`` (beta = 1, no free bits: a bound on log p(x));
* the loss that is minimised is ``recon + beta * kl_term`` where ``kl_term`` is
  ``kl`` or, with free bits ``lambda > 0``, ``sum_j max(lambda, kl_per_dim[j])``
  (Kingma et al. 2016: the floor applies to the batch-mean KL of each dimension,
  so dimensions below it receive no KL gradient).

For Gaussian likelihoods the data are the *standardised* data the model sees,
and the full log-density (with its ``log(2 pi sigma^2)`` constant) is used, so
Gaussian ELBOs are comparable between fixed and learned variance.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

LOG_2PI = math.log(2.0 * math.pi)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``-log Bernoulli(x | sigmoid(logits))`` summed over features, mean over the batch."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="sum") / x.shape[0]


def gaussian_nll(mean: torch.Tensor, x: torch.Tensor, log_var) -> torch.Tensor:
    """``-log N(x | mean, exp(log_var))`` summed over features, mean over the batch.

    ``log_var`` is a Python float (fixed variance) or a tensor broadcastable to
    ``x`` (learned variance, e.g. one value per feature).
    """
    n, d = x.shape[0], x[0].numel()
    if isinstance(log_var, torch.Tensor):
        sq = ((x - mean).pow(2) * torch.exp(-log_var)).sum()
        return 0.5 * (sq / n + log_var.expand_as(x[0]).sum() + d * LOG_2PI)
    sq = (x - mean).pow(2).sum()
    return 0.5 * sq / (n * math.exp(log_var)) + 0.5 * d * (log_var + LOG_2PI)


def kl_per_dim(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Batch-mean ``KL(N(mu, exp(logvar)) || N(0, 1))`` per latent dimension, shape (D,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).mean(0)


def kl_term(klpd: torch.Tensor, free_bits: float = 0.0) -> torch.Tensor:
    """The KL that enters the loss: the sum over dimensions, each floored at ``free_bits``."""
    if free_bits > 0:
        return torch.clamp(klpd, min=free_bits).sum()
    return klpd.sum()


class Likelihood:
    """``nll(decoder_output, x)`` and ``mean(decoder_output)`` for one likelihood.

    kinds: ``"bernoulli"`` (decoder outputs logits), ``"gaussian"`` (fixed
    ``std``), ``"gaussian_learned"`` (the model holds a per-feature log-variance
    parameter, passed in as ``log_var``).
    """

    def __init__(self, kind: str, std: float = 1.0):
        if kind not in ("bernoulli", "gaussian", "gaussian_learned"):
            raise ValueError(f"likelihood={kind!r} is not one of "
                             f"['bernoulli', 'gaussian', 'gaussian_learned'].")
        self.kind = kind
        self.std = float(std)
        self.log_var = 2.0 * math.log(self.std)

    def nll(self, out: torch.Tensor, x: torch.Tensor, log_var=None) -> torch.Tensor:
        if self.kind == "bernoulli":
            return bernoulli_nll(out, x)
        if self.kind == "gaussian":
            return gaussian_nll(out, x, self.log_var)
        return gaussian_nll(out, x, log_var)

    def mean(self, out: torch.Tensor) -> torch.Tensor:
        """The mean of p(x|z) in model space: probabilities or Gaussian means."""
        return torch.sigmoid(out) if self.kind == "bernoulli" else out


def negative_elbo(out, x, mu, logvar, likelihood: Likelihood, beta: float = 1.0,
                  free_bits: float = 0.0, log_var=None):
    """``(loss, recon, kl_per_dim)`` for one batch; see the module docstring."""
    recon = likelihood.nll(out, x, log_var)
    klpd = kl_per_dim(mu, logvar)
    loss = recon + beta * kl_term(klpd, free_bits)
    return loss, recon, klpd


@torch.inference_mode()   # (lighter per op than no_grad: ~7 % of a small evaluation)
def evaluate(model, lik, X: torch.Tensor, Y=None, rows=None, *, generator: torch.Generator,
             chunk: int, active_threshold: float) -> dict:
    """``recon``, ``kl``, ``kl_per_dim``, ``elbo`` and ``active_units`` of ``model`` on
    ``X`` (or on ``X[rows]``, gathered ``chunk`` rows at a time; ``Y`` is then per row of
    ``rows``), one sample per row drawn from ``generator``. Each term is the mean over
    rows (chunks weighted by their size); a latent dimension is active when the variance
    of its posterior means over the rows exceeds ``active_threshold``. One sync at the end."""
    n = X.shape[0] if rows is None else rows.shape[0]
    parts, mus = [], []
    for s in range(0, n, chunk):
        xb = X[s:s + chunk] if rows is None else X[rows[s:s + chunk]]
        yb = Y[s:s + chunk] if Y is not None else None
        mu, logvar = model.encode(xb, yb)
        eps = torch.randn(mu.shape, generator=generator, device=mu.device)
        out = model.decode(mu + eps * torch.exp(0.5 * logvar), yb)
        # batch means (sum over features, mean over rows); weighted by rows below
        parts.append((xb.shape[0], lik.nll(out, xb, model.out_log_var).reshape(1),
                      kl_per_dim(mu, logvar)))
        mus.append(mu)
    mu_all = mus[0] if len(mus) == 1 else torch.cat(mus)
    flat = [t for _, r, k in parts for t in (r, k)]
    vals = torch.cat(flat + [mu_all.var(0, unbiased=False)]).tolist()
    d = mu_all.shape[1]
    r, klpd = 0.0, [0.0] * d
    for i, (m, _, _) in enumerate(parts):
        part = vals[i * (d + 1):(i + 1) * (d + 1)]
        r += part[0] * m / n
        klpd = [a + b * m / n for a, b in zip(klpd, part[1:])]
    var = vals[len(parts) * (d + 1):]
    kl = float(sum(klpd))
    return {"recon": r, "kl": kl, "kl_per_dim": klpd, "elbo": -(r + kl),
            "active_units": int(sum(v > active_threshold for v in var))}
