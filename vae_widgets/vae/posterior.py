"""The posterior a model computes in its own training step, caught on its way: for a
Lightning module that returns only its loss (as Lightning's docs and lightning-bolts'
``VAE`` write it) or a pythae model (whose callbacks are told nothing of the step), the
KL per dimension and the active units still come from the very ``mu`` and ``logvar``
the step used, with no second forward pass and nothing changed in the model's results.

:class:`PosteriorTap` hooks where the common layouts compute the posterior (see
:func:`~vae_widgets.vae.adapter.find_layout`), in this order:

* ``fc_mu`` and ``fc_var`` (or ``fc_logvar``) modules: forward hooks on both
  (lightning-bolts' ``VAE``, most tutorials);
* an ``encode(x) -> (mu, logvar)`` method: wrapped on the instance for the run;
* an ``encoder`` module returning ``(mu, logvar)`` or pythae's output
  (``embedding``, ``log_covariance``): a forward hook;
* the module's own ``forward(x) -> (x_hat, mu, logvar)``: a forward hook.

The hooks keep only the last call's tensors, detached (no copy, no device sync), and
are removed when the run ends (``remove``), so the module pickles and saves as before.
They are plain functions, never bound methods: a trainer that deep-copies the model
mid-run (pythae keeps its best model so) copies the hooks as they are, not the tap.
"""
from __future__ import annotations

from typing import Optional

import torch

_MISSING = object()


def _pair(out) -> Optional[tuple]:
    """``(mu, logvar)`` from what an encoder returned, or None."""
    if hasattr(out, "embedding") and hasattr(out, "log_covariance"):      # pythae
        out = (out.embedding, out.log_covariance)
    if isinstance(out, (tuple, list)) and len(out) == 2 and \
            all(isinstance(t, torch.Tensor) for t in out):
        return out[0].detach(), out[1].detach()
    return None


class PosteriorTap:
    """Catch the ``(mu, logvar)`` of the module's training forward (see the module
    docstring). ``what`` says where (for the view); ``take()`` returns the last pair
    caught since the previous ``take()`` (or None) and forgets it."""

    def __init__(self, module: torch.nn.Module):
        self._module = module
        self._mu = self._logvar = None
        self._undo: list = []
        self.what = self._install(module)

    # ------------------------------------------------------------ catching
    def _caught(self, pair) -> None:
        if pair is not None:
            self._mu, self._logvar = pair

    def _part(self, i: int, out) -> None:
        if isinstance(out, torch.Tensor):
            if i == 0:
                self._mu = out.detach()
            else:
                self._logvar = out.detach()

    def take(self) -> Optional[tuple]:
        mu, lv, self._mu, self._logvar = self._mu, self._logvar, None, None
        if mu is None or lv is None or mu.shape != lv.shape:
            return None
        return mu, lv

    # ------------------------------------------------------------ hooks
    def _hook(self, module, fn) -> None:
        self._undo.append(module.register_forward_hook(lambda _m, _i, out: fn(out)).remove)

    def _install(self, m) -> str:
        fc_mu = getattr(m, "fc_mu", None)
        fc_var = getattr(m, "fc_var", None)
        fc_var = fc_var if isinstance(fc_var, torch.nn.Module) else getattr(m, "fc_logvar", None)
        if isinstance(fc_mu, torch.nn.Module) and isinstance(fc_var, torch.nn.Module):
            self._hook(fc_mu, lambda out: self._part(0, out))
            self._hook(fc_var, lambda out: self._part(1, out))
            return "fc_mu / " + ("fc_var" if fc_var is getattr(m, "fc_var", None) else "fc_logvar")
        encode = getattr(m, "encode", None)
        if callable(encode) and not isinstance(encode, torch.nn.Module):
            before = m.__dict__.get("encode", _MISSING)

            def encode_caught(*args, **kwargs):
                out = encode(*args, **kwargs)
                self._caught(_pair(out))
                return out

            object.__setattr__(m, "encode", encode_caught)
            self._undo.append(lambda: (m.__dict__.pop("encode", None),
                                       before is not _MISSING and
                                       object.__setattr__(m, "encode", before)))
            return "encode(x)"
        encoder = getattr(m, "encoder", None)
        if isinstance(encoder, torch.nn.Module):
            self._hook(encoder, lambda out: self._caught(_pair(out)))
            return "the encoder's output"
        self._hook(m, lambda out: self._caught(
            _pair(tuple(out[1:3])) if isinstance(out, (tuple, list)) and len(out) >= 3 else None))
        return "forward(x) -> (x_hat, mu, logvar)"

    def remove(self) -> None:
        """Take every hook off the module (and its own ``encode`` back)."""
        undo, self._undo = self._undo, []
        for fn in reversed(undo):
            fn()
        self._mu = self._logvar = None
