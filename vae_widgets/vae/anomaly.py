"""Per-sample anomaly scores from a trained VAE: negative ELBO and its two terms.

A VAE trained on "normal" data gives each new sample a bound on its negative
log-likelihood, ``-ELBO(x) = reconstruction(x) + KL(x) >= -log p(x)``. Samples
unlike the training data tend to get a large value: the decoder rebuilds them
badly (large reconstruction term) and/or the encoder places them far from the
prior (large KL). The scores here use the same units and preprocessing as the
training metrics (``vae_widgets.vae.objective``): nats per sample, summed over
features; for Gaussian likelihoods, on the standardised data the model sees.

Likelihood-based scores can be fooled: simple, low-complexity inputs (a blank
image, a constant row) may get a *higher* likelihood than the training data.
Use them as one signal, checked against labelled anomalies where you have some.
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .._validation import as_labels, number

LOG_2PI = math.log(2.0 * math.pi)
#: rows per forward pass (divided by n_samples): bounded memory, few Python calls
CHUNK = 4096
SCORE_COLUMNS = ("neg_elbo", "reconstruction", "kl")
Z_MODES = ("sample", "mean")


def nll_rows(likelihood, out: torch.Tensor, x: torch.Tensor, log_var=None) -> torch.Tensor:
    """``-log p(x_i | z_i)`` per row (summed over features), shape (n,).

    Row-wise twin of ``Likelihood.nll`` (which averages over the batch).
    """
    if likelihood.kind == "bernoulli":
        return F.binary_cross_entropy_with_logits(out, x, reduction="none").sum(1)
    d = x.shape[1]
    if likelihood.kind == "gaussian":
        lv = likelihood.log_var
        return 0.5 * (x - out).pow(2).sum(1) / math.exp(lv) + 0.5 * d * (lv + LOG_2PI)
    lv = log_var.expand_as(x[0])
    return 0.5 * (((x - out).pow(2) * torch.exp(-lv)).sum(1) + lv.sum() + d * LOG_2PI)


def kl_rows(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(q(z|x_i) || N(0, I))`` per row (summed over latent dimensions), shape (n,)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(1)


def check_ready(trainer) -> None:
    """Raise when the trainer cannot score: never trained."""
    if trainer.step == 0:
        raise ValueError("the VAE has not been trained yet (0 steps), so its scores mean "
                         "nothing; train it first: trainer.fit(epochs) or widget.train(); "
                         "widget.wait().")


def anomaly_scores(trainer, X, labels=None, *, n_samples: int = 1, z: str = "sample",
                   seed: int = 0) -> pd.DataFrame:
    """Per-sample negative ELBO and its terms, in nats: higher = less like the training data.

    Parameters
    ----------
    trainer : VAETrainer
        A trained (or loaded) trainer; it must not be mid-step.
    X : array-like, (n, n_features) or images (n, H, W) / (n, C, H, W)
        Data-space rows, preprocessed exactly as in training (same scaling).
    labels : array-like, optional
        Class per row. Needed by conditional models; also copied into a ``label``
        column (handy for ``groupby``).
    n_samples : int, default 1
        Posterior samples ``z ~ q(z|x)`` per row. The reconstruction term is
        averaged over them (a lower-variance ELBO estimate); with
        ``n_samples > 1`` a ``neg_iwae`` column is added: the importance-weighted
        bound ``-log mean_k p(x, z_k) / q(z_k|x)``, between ``-log p(x)`` and
        ``neg_elbo`` and tighter as ``n_samples`` grows (Burda et al. 2016).
    z : {"sample", "mean"}, default "sample"
        ``"sample"``: reparameterised samples (a proper, unbiased ELBO estimate;
        fixed noise from ``seed`` so scores repeat). ``"mean"``: decode the
        posterior mean only (deterministic, no sampling noise, but not an ELBO
        estimate; ``n_samples`` must be 1).
    seed : int, default 0
        Seed of the sampling noise.

    Returns
    -------
    pandas.DataFrame
        One row per sample (positional index ``0..n-1``), columns ``neg_elbo``
        (``reconstruction + kl``: the negative ELBO, an upper bound on
        ``-log p(x)``), ``reconstruction`` (``-E_q log p(x|z)``), ``kl``
        (``KL(q(z|x) || N(0, I))``, closed form), then ``neg_iwae`` (when
        ``n_samples > 1``) and ``label`` (when ``labels`` is given). The model is
        evaluated in eval mode, batched, without gradients. While the trainer trains,
        the scores are computed on its thread between two steps (see
        ``VAETrainer.run_between_steps``).
    """
    return trainer.run_between_steps(
        lambda: _scores(trainer, X, labels, n_samples=n_samples, z=z, seed=seed))


@torch.no_grad()   # (here: grad mode is per thread, and this may run on the training thread)
def _scores(trainer, X, labels, n_samples, z, seed) -> pd.DataFrame:
    check_ready(trainer)
    n_samples = number(n_samples, "n_samples", low=1, integer=True)
    seed = number(seed, "seed", low=0, integer=True)
    if z not in Z_MODES:
        raise ValueError(f"z={z!r} is not one of {list(Z_MODES)}.")
    if z == "mean" and n_samples > 1:
        raise ValueError("z='mean' decodes one point per row; use n_samples=1 with it, or "
                         "z='sample' for several posterior samples.")
    x = trainer._prep(X, "X")
    lik = trainer._likelihood
    if lik.kind == "bernoulli":
        lo, hi = float(x.min()), float(x.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(f"X spans [{lo:.4g}, {hi:.4g}] but this VAE has a Bernoulli "
                             f"likelihood and was trained on data in [0, 1]; scale X the "
                             f"same way as the training data.")
    n = x.shape[0]
    y = trainer._prep_labels(labels, n)
    lab = None if labels is None else as_labels(
        [labels] * n if np.ndim(labels) == 0 else labels, n, "labels")
    model = trainer.model
    was_training = model.training
    model.eval()
    gen = torch.Generator(device=trainer.device)
    gen.manual_seed(seed)
    cols = {c: [] for c in SCORE_COLUMNS + (("neg_iwae",) if n_samples > 1 else ())}
    chunk = max(1, CHUNK // n_samples)
    try:
        for s in range(0, n, chunk):
            xb = x[s:s + chunk]
            yb = None if y is None else y[s:s + chunk]
            rec, kl, iw = _score_chunk(model, lik, xb, yb, n_samples, z, gen)
            cols["reconstruction"].append(rec)
            cols["kl"].append(kl)
            cols["neg_elbo"].append(rec + kl)
            if iw is not None:
                cols["neg_iwae"].append(iw)
    finally:
        model.train(was_training)
    df = pd.DataFrame({c: torch.cat(v).double().cpu().numpy() for c, v in cols.items()})
    if lab is not None:
        df["label"] = lab
    return df


def _score_chunk(model, lik, xb, yb, k: int, z: str, gen):
    """(reconstruction, kl, neg_iwae or None) for one chunk, each shape (rows,)."""
    mu, logvar = model.encode(xb, yb)
    kl = kl_rows(mu, logvar)
    log_var = model.out_log_var
    if z == "mean":
        return nll_rows(lik, model.decode(mu, yb), xb, log_var), kl, None
    m, d = mu.shape
    std = torch.exp(0.5 * logvar)
    eps = torch.randn((k, m, d), generator=gen, device=mu.device)
    zs = (mu + eps * std).reshape(k * m, d)              # sample-major: rows repeat k times
    rep = lambda t: None if t is None else t.repeat(k, 1)  # noqa: E731
    nll = nll_rows(lik, model.decode(zs, rep(yb)), rep(xb), log_var).reshape(k, m)
    rec = nll.mean(0)
    if k == 1:
        return rec, kl, None
    # log w = log p(x|z) + log N(z; 0, I) - log N(z; mu, std^2): the 2 pi terms cancel
    zz = zs.reshape(k, m, d)
    log_w = -nll - 0.5 * zz.pow(2).sum(2) + 0.5 * (eps.pow(2) + logvar).sum(2)
    iw = -(torch.logsumexp(log_w, 0) - math.log(k))
    return rec, kl, iw
