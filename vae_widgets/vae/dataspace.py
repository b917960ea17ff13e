"""Data-space methods of ``VAETrainer``: rows in data units in, data units out.

``encode``, ``decode``, ``reconstruct``, ``sample``, ``traverse`` and
``interpolate`` take and return data as the user gave it (image-shaped or flat,
un-standardised, probabilities for Bernoulli data); the standardisation, chunking
and label one-hot encoding that the model needs happen here. The visuals, the
anomaly scores and the widgets use only these, so they work the same on a loaded
checkpoint.
"""
from __future__ import annotations

import functools
from typing import Optional

import numpy as np
import torch

from .._validation import _to_numpy, as_data_matrix, as_labels, number

#: rows per forward pass outside training (bounded memory on big inputs)
EVAL_CHUNK = 4096


def between_steps(method):
    """Run ``method`` through ``self.run_between_steps``: on the training thread, between
    two steps, while a ``fit`` runs (consistent weights, no second OpenMP team); in the
    calling thread otherwise."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        return self.run_between_steps(lambda: method(self, *args, **kwargs))
    return wrapper


class DataSpaceMixin:
    """Mixed into ``VAETrainer``; relies on its model, device, standardisation
    (``_mean``/``_std`` and their tensors), likelihood, labels and classes, and its
    ``run_between_steps`` (the public methods are safe from any thread while it trains)."""

    def run_between_steps(self, fn, timeout=None):   # a trainer overrides this
        return fn()

    def _prep(self, X, name: str = "X") -> torch.Tensor:
        """Data-space rows (flat or image-shaped, one row allowed) -> standardised tensor."""
        arr = X
        if not (hasattr(X, "columns") and hasattr(X, "select_dtypes")):
            try:
                arr = _to_numpy(X, name)
            except Exception:
                arr = X
        if isinstance(arr, np.ndarray) and arr.dtype != object:
            if arr.ndim == 1 or (self.image_shape is not None
                                 and arr.shape == tuple(self.image_shape)):
                arr = arr.reshape(1, -1)
            elif arr.ndim > 2:
                arr = arr.reshape(arr.shape[0], -1)
        M = as_data_matrix(arr, name, min_rows=1)
        if M.shape[1] != self.n_features:
            raise ValueError(f"{name} has {M.shape[1]} features per row but the model was "
                             f"trained on {self.n_features}.")
        x = (M - self._mean) / self._std
        return torch.as_tensor(x, dtype=torch.float32, device=self.device)

    def _prep_labels(self, labels, n: int, name: str = "labels") -> Optional[torch.Tensor]:
        if not self.conditional:
            return None
        if labels is None:
            raise ValueError(f"this VAE is conditional: pass {name}= (one of "
                             f"{self.classes[:10]}{' …' if len(self.classes) > 10 else ''} "
                             f"per row).")
        if np.ndim(labels) == 0:
            labels = [labels] * n
        lab = as_labels(labels, n, name)
        return self._onehot(lab).to(self.device)

    def _to_data(self, out: torch.Tensor) -> np.ndarray:
        x = self._likelihood.mean(out)
        if self.config.standardize:
            x = x * self._std_t + self._mean_t
        x = x.cpu().numpy()
        if self.image_shape is not None:
            x = x.reshape(x.shape[0], *self.image_shape)
        return x

    @between_steps
    @torch.no_grad()
    def encode(self, X, labels=None):
        """Posterior ``(mu, logvar)`` as float32 numpy arrays of shape (n, latent_dim)."""
        x = self._prep(X)
        y = self._prep_labels(labels, x.shape[0])
        mus, lvs = [], []
        for s in range(0, x.shape[0], EVAL_CHUNK):
            mu, lv = self._model.encode(x[s:s + EVAL_CHUNK],
                                        None if y is None else y[s:s + EVAL_CHUNK])
            mus.append(mu)
            lvs.append(lv)
        return torch.cat(mus).cpu().numpy(), torch.cat(lvs).cpu().numpy()

    @between_steps
    @torch.no_grad()
    def decode(self, z, labels=None) -> np.ndarray:
        """Means of p(x|z) in data space (probabilities for Bernoulli data),
        shape (n, *image_shape) or (n, n_features)."""
        zt = torch.as_tensor(np.asarray(_to_numpy(z, "z"), dtype=np.float32), device=self.device)
        if zt.ndim == 1:
            zt = zt.reshape(1, -1)
        if zt.ndim != 2 or zt.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (n, {self.latent_dim}), got {tuple(zt.shape)}.")
        if not torch.isfinite(zt).all():
            raise ValueError("z contains NaN or inf.")
        y = self._prep_labels(labels, zt.shape[0])
        return self._to_data(self._decode_chunks(zt, y))

    def _decode_chunks(self, z, y):
        outs = [self._model.decode(z[s:s + EVAL_CHUNK], None if y is None else y[s:s + EVAL_CHUNK])
                for s in range(0, z.shape[0], EVAL_CHUNK)]
        return torch.cat(outs)

    @between_steps
    @torch.no_grad()
    def reconstruct(self, X, labels=None) -> np.ndarray:
        """Decode the posterior means of ``X``: data-space reconstructions."""
        mu, _ = self.encode(X, labels)
        return self.decode(mu, labels)

    @between_steps
    @torch.no_grad()
    def sample(self, n: int, temperature: float = 1.0, labels=None,
               seed: Optional[int] = None) -> np.ndarray:
        """``n`` decodings of ``z ~ N(0, temperature^2 I)``. Conditional models take
        ``labels`` (one value or one per sample; default: the classes in turn)."""
        n = number(n, "n", low=1, integer=True)
        temperature = number(temperature, "temperature", low=0)
        if seed is not None:
            gen = torch.Generator()
            gen.manual_seed(number(seed, "seed", low=0, integer=True))
        else:
            gen = self._sample_gen
        z = torch.randn(n, self.latent_dim, generator=gen) * temperature
        if self.conditional and labels is None:
            labels = [self.classes[i % len(self.classes)] for i in range(n)]
        return self.decode(z.numpy(), labels)

    def _latent_of(self, point, labels, name: str) -> tuple:
        """A data-row index or a data row -> (posterior mean (1, D), its label or None)."""
        if isinstance(point, (int, np.integer)) and not isinstance(point, bool):
            i = int(point)
            if not 0 <= i < len(self.data):
                raise ValueError(f"{name}={i} is not a row of the data (0..{len(self.data) - 1}).")
            row = self.data[[i]]
            lab = labels if labels is not None else (
                [self.labels[i]] if self.conditional else None)
        else:
            row, lab = point, labels
        mu, _ = self.encode(row, lab)
        if mu.shape[0] != 1:
            raise ValueError(f"{name} must be one data row or a row index, got {mu.shape[0]} rows.")
        return mu, lab

    @between_steps
    @torch.no_grad()
    def traverse(self, dim: int, values, base=None, labels=None, base_z=None) -> np.ndarray:
        """Decode ``z`` with ``z[dim] = base_z[dim] + v`` for each ``v`` in ``values``.

        ``base``: a data-row index or a data row (its posterior mean is the base
        point); ``base_z``: a latent point instead; neither: the prior mean 0.
        Returns (len(values), *data shape).
        """
        dim = number(dim, "dim", low=0, high=self.latent_dim - 1, integer=True)
        vals = np.asarray(values, dtype=np.float32).reshape(-1)
        if vals.size == 0 or not np.isfinite(vals).all():
            raise ValueError("values must be a non-empty list of finite numbers, e.g. "
                             "np.linspace(-3, 3, 9).")
        if base is not None and base_z is not None:
            raise ValueError("pass base (a data row or index) or base_z (a latent point), "
                             "not both.")
        lab = labels
        if base is not None:
            z0, lab = self._latent_of(base, labels, "base")
        elif base_z is not None:
            z0 = np.asarray(base_z, dtype=np.float32).reshape(1, -1)
            if z0.shape[1] != self.latent_dim:
                raise ValueError(f"base_z must have {self.latent_dim} values, got {z0.shape[1]}.")
        else:
            z0 = np.zeros((1, self.latent_dim), np.float32)
        z = np.repeat(z0, len(vals), axis=0)
        z[:, dim] += vals
        if self.conditional:
            if lab is None:
                raise ValueError("this VAE is conditional: pass labels= (one class) or a "
                                 "row index as base.")
            lab = list(np.asarray(lab, dtype=object).reshape(-1))[:1] * len(vals)
        return self.decode(z, lab)

    @between_steps
    @torch.no_grad()
    def interpolate(self, a, b, steps: int = 10, labels=None) -> np.ndarray:
        """Decode ``(1 - t) mu_a + t mu_b`` for ``steps`` values of ``t`` in [0, 1];
        ``a``, ``b``: data-row indices or data rows. Returns (steps, *data shape)."""
        steps = number(steps, "steps", low=2, integer=True)
        za, la = self._latent_of(a, labels, "a")
        zb, _ = self._latent_of(b, labels, "b")
        t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
        z = (1 - t) * za + t * zb
        lab = None
        if self.conditional:
            if la is None:
                raise ValueError("this VAE is conditional: pass labels= (one class) or row "
                                 "indices for a and b.")
            lab = list(np.asarray(la, dtype=object).reshape(-1))[:1] * steps
        return self.decode(z, lab)
