"""``ModelAdapter``: a user's VAE seen through the package's data-space methods.

The monitor draws grids and measures validation rows through ``encode``,
``decode``, ``reconstruct`` and ``sample`` in *data space* (see
:class:`~vae_widgets.vae.dataspace.DataSpaceMixin`). The built-in trainer provides
them for its own model; this adapter provides them for any model with

* ``encode(x) -> (mu, logvar)`` (both ``(n, latent_dim)``) and
* ``decode(z) -> x_hat`` (the mean of p(x|z), or logits for binary data),

given as an ``nn.Module`` with those methods or as two callables. ``x`` is a
float32 tensor of the shape the user's validation rows have (``(n, C, H, W)`` for a
conv model, ``(n, F)`` for an MLP), on the model's device.

Adapting the common shapes (see the "Bring your own VAE" guide):

* a ``forward(x)`` returning ``(x_hat, mu, logvar)`` with separate encoder and
  decoder modules: ``encode=lambda x: model.enc(x).chunk(2, dim=1)``,
  ``decode=model.dec``;
* pythae-style models whose parts return output objects:
  ``encode=lambda x: (model.encoder(x).embedding, model.encoder(x).log_covariance)``,
  ``decode=lambda z: model.decoder(z).reconstruction``.

Decoder outputs: ``output="auto"`` decides once, on the first validation rows: data
in [0, 1] with outputs outside it are taken as logits (shown through a sigmoid);
anything else is shown as it is. ``output="logits"`` or ``"mean"`` say so
explicitly; a callable maps outputs to data space itself.
"""
from __future__ import annotations

import contextlib
from typing import Callable, Optional, Union

import numpy as np
import torch

from .._validation import _to_numpy
from . import visuals as _vis
from .dataspace import DataSpaceMixin

OUTPUTS = ("auto", "logits", "mean")


#: grids that need decode(z) (a model with only forward() cannot draw them)
DECODE_KINDS = ("samples", "traversal", "interpolation")


class _Callables:
    """The model's encode/decode with the (x, y) signature the data-space methods use;
    ``forward``: ``x -> x_hat`` for a model that reconstructs only through its forward."""

    def __init__(self, encode: Callable, decode: Optional[Callable],
                 forward: Optional[Callable] = None):
        self._encode, self._decode, self.forward = encode, decode, forward

    def encode(self, x, y=None):
        out = self._encode(x)
        if hasattr(out, "embedding") and hasattr(out, "log_covariance"):   # pythae's output
            return out.embedding, out.log_covariance
        return out

    def decode(self, z, y=None):
        if self._decode is None:
            raise RuntimeError("this model has no decode(z) (only forward(x) -> (x_hat, mu, "
                               "logvar)): samples, traversals and interpolations need one; "
                               "pass decode= to draw them.")
        out = self._decode(z)
        return out.reconstruction if hasattr(out, "reconstruction") else out


def find_layout(model, encode: Optional[Callable] = None, decode: Optional[Callable] = None):
    """``(encode, decode or None, forward or None, what)`` for a model as people write it:

    * ``encode(x) -> (mu, logvar)`` and ``decode(z)`` methods (or ``encode=``/``decode=``);
    * ``encoder`` + ``fc_mu`` + ``fc_var`` (or ``fc_logvar``) + ``decoder`` (lightning-bolts'
      ``VAE``, many tutorials);
    * ``encoder``/``decoder`` whose outputs carry ``embedding``/``log_covariance`` and
      ``reconstruction`` (pythae);
    * only ``forward(x) -> (x_hat, mu, logvar)``: encoding and reconstructions work, what
      needs ``decode(z)`` says so in its panel.
    """
    enc = encode if encode is not None else getattr(model, "encode", None)
    dec = decode if decode is not None else getattr(model, "decode", None)
    if callable(enc) and callable(dec):
        return enc, dec, None, ("encode= / decode=" if encode is not None else
                                "encode(x) / decode(z)")
    parts = {k: getattr(model, k, None) for k in ("encoder", "fc_mu", "fc_var", "fc_logvar",
                                                  "decoder")}
    var = parts["fc_var"] if callable(parts["fc_var"]) else parts["fc_logvar"]
    if encode is None and callable(parts["encoder"]) and callable(parts["fc_mu"]) \
            and callable(var):
        def enc(x):
            h = parts["encoder"](x)
            return parts["fc_mu"](h), var(h)
        dec = dec if callable(dec) else parts["decoder"] if callable(parts["decoder"]) else None
        return enc, dec, None, "encoder + fc_mu / fc_var" + (" + decoder" if dec else "")
    if encode is None and callable(parts["encoder"]) and callable(parts["decoder"]):
        return parts["encoder"], parts["decoder"], None, "encoder / decoder modules"
    if encode is None and isinstance(model, torch.nn.Module):
        def enc(x):
            out = model(x)
            return tuple(out[1:3]) if isinstance(out, (tuple, list)) and len(out) >= 3 else out
        def fwd(x):
            return model(x)[0]
        return enc, (dec if callable(dec) else None), fwd, "forward(x) -> (x_hat, mu, logvar)"
    return enc, dec, None, ""


class ModelAdapter(DataSpaceMixin):
    """Data-space access to a user's VAE (see the module docstring).

    Parameters
    ----------
    model : nn.Module, optional
        Has ``encode`` and ``decode`` (unless those are given); its train/eval mode
        is restored after every grid, and its parameters give the device.
    X_val : array-like or tensor
        Validation rows in the shape the model takes; also what the grids show.
    labels : array-like, optional
        One per validation row (reconstructions are picked one per label first).
    image_shape : tuple, optional
        ``(H, W)`` or ``(C, H, W)`` to draw rows as images; default: the rows' own
        shape when they have 2 or 3 dimensions.
    encode, decode : callable, optional
        Instead of the model's methods.
    output : "auto" | "logits" | "mean" | callable
        What ``decode`` returns (see the module docstring).
    device : str or torch.device, optional
        Default: the model's parameters' device, else the validation rows' (a tensor's)
        device, else CPU.
    """

    conditional = False
    classes = None

    def __init__(self, model=None, X_val=None, labels=None, *, image_shape=None,
                 encode: Optional[Callable] = None, decode: Optional[Callable] = None,
                 output: Union[str, Callable] = "auto", device=None, feature_names=None):
        enc, dec, fwd, self.layout = find_layout(model, encode, decode)
        if not callable(enc):
            what = type(model).__name__ if model is not None else "None"
            raise TypeError(
                f"the model ({what}) needs encode(x) -> (mu, logvar) (and decode(z) -> x_hat "
                f"for samples and traversals): give it those methods, pass encode= and "
                f"decode= callables (e.g. encode=lambda x: model.encoder(x).chunk(2, dim=1), "
                f"decode=model.decoder), or use an nn.Module whose forward(x) returns "
                f"(x_hat, mu, logvar); see the 'Bring your own VAE' guide.")
        #: False for a model with no decode(z): the grids of DECODE_KINDS say so instead
        self.can_decode = callable(dec)
        if isinstance(output, str) and output not in OUTPUTS:
            raise ValueError(f"output={output!r} is not one of {list(OUTPUTS)} or a callable.")
        if not isinstance(output, str) and not callable(output):
            raise TypeError(f"output must be one of {list(OUTPUTS)} or a callable, got "
                            f"{type(output).__name__}.")
        if X_val is None:
            raise ValueError("X_val is needed: a few hundred validation rows in the shape the "
                             "model takes (the grids show them; validation KL and active units "
                             "are measured on them).")
        self.module = model if isinstance(model, torch.nn.Module) else None
        self._model = _Callables(enc, dec if callable(dec) else None, fwd)
        self.device = self._find_device(device, X_val)
        arr = X_val.detach().cpu().numpy() if isinstance(X_val, torch.Tensor) else \
            np.asarray(_to_numpy(X_val, "X_val"))
        if arr.dtype == object or not np.issubdtype(arr.dtype, np.number):
            raise TypeError(f"X_val must hold numbers (float or int), got dtype {arr.dtype}.")
        if arr.ndim < 2 or len(arr) < 2:
            raise ValueError(f"X_val must be at least 2 rows of data (n, ...), got shape "
                             f"{arr.shape}.")
        if not np.isfinite(arr).all():
            raise ValueError("X_val contains NaN or inf; pass finite validation rows.")
        self.input_shape = tuple(arr.shape[1:])
        self.data = np.array(arr.reshape(len(arr), -1), dtype=np.float32, order="C")  # a copy:
        # a view of the caller's tensor dangles once its storage moves (ddp_spawn: share_memory_)
        self.n_features = self.data.shape[1]
        if image_shape is None and arr.ndim in (3, 4):
            image_shape = self.input_shape
        if image_shape is not None and int(np.prod(image_shape)) != self.n_features:
            raise ValueError(f"image_shape={tuple(image_shape)} holds "
                             f"{int(np.prod(image_shape))} values but each row of X_val has "
                             f"{self.n_features}.")
        self.image_shape = tuple(image_shape) if image_shape is not None else None
        self.labels = None if labels is None else np.asarray(labels, dtype=object)
        if self.labels is not None and len(self.labels) != len(self.data):
            raise ValueError(f"labels has {len(self.labels)} values but X_val has "
                             f"{len(self.data)} rows.")
        self.feature_names = feature_names
        lo, hi = float(self.data.min()), float(self.data.max())
        self._in01 = lo >= 0.0 and hi <= 1.0
        self.display = _vis.Display.for_data(self.data, self.image_shape, self._in01,
                                             feature_names)
        self._sample_gen = torch.Generator()
        self._sample_gen.manual_seed(0)
        self._output = output
        self.latent_dim = self._probe()

    # ------------------------------------------------------------------ set-up checks
    def _find_device(self, device, X_val) -> torch.device:
        if device is not None:
            return torch.device(device)
        if self.module is not None:
            for p in self.module.parameters():
                return p.device
        if isinstance(X_val, torch.Tensor):
            return X_val.device
        return torch.device("cpu")

    def _probe(self) -> int:
        """Encode and decode a few validation rows once: the latent size, the decoder's
        output kind, and a clear message for the usual mistakes."""
        x = self._prep(self.data[:8])
        try:
            with self.rendering():
                out = self._model.encode(x)
                if self._model.forward is not None and \
                        (not isinstance(out, (tuple, list)) or len(out) != 2):
                    raise TypeError(f"the model has no encode(x)/decode(z), and its forward(x) "
                                    f"must then return (x_hat, mu, logvar); it returned "
                                    f"{type(out).__name__}. Pass encode= and decode= instead.")
                if not isinstance(out, (tuple, list)) or len(out) != 2:
                    raise TypeError(f"encode(x) must return (mu, logvar), got "
                                    f"{type(out).__name__}"
                                    f"{f' of length {len(out)}' if hasattr(out, '__len__') else ''}.")
                mu, logvar = out
                for name, t in (("mu", mu), ("logvar", logvar)):
                    if not isinstance(t, torch.Tensor):
                        raise TypeError(f"encode(x) must return tensors (mu, logvar); {name} is "
                                        f"a {type(t).__name__}.")
                if mu.shape != logvar.shape or mu.ndim != 2 or mu.shape[0] != x.shape[0]:
                    raise ValueError(f"encode(x) returned mu {tuple(mu.shape)} and logvar "
                                     f"{tuple(logvar.shape)} for {x.shape[0]} rows; both must "
                                     f"be (rows, latent_dim).")
                x_hat = self._model.decode(mu) if self.can_decode else self._model.forward(x)
        except RuntimeError as exc:
            if "device" not in str(exc) and self._model.forward is not None:
                raise TypeError(f"the model has no encode(x) -> (mu, logvar) and decode(z) -> "
                                f"x_hat, and its forward(x) failed on rows of X_val ({exc}); "
                                f"give it those methods, or pass encode= and decode=.") from None
            if "device" in str(exc):
                raise ValueError(f"the model and the validation rows are on different devices "
                                 f"({exc}); pass device= (the model's device) or move the "
                                 f"model: model.to(device).") from None
            raise
        if not isinstance(x_hat, torch.Tensor) or x_hat.shape[0] != x.shape[0] or \
                x_hat[0].numel() != self.n_features:
            shape = tuple(x_hat.shape) if isinstance(x_hat, torch.Tensor) else type(x_hat).__name__
            what = "decode(z)" if self.can_decode else "forward(x)[0]"
            raise ValueError(f"{what} returned {shape} for {x.shape[0]} rows; it must return "
                             f"one row per code with as many values as a row of X_val "
                             f"({self.n_features}).")
        if self._output == "auto":
            v = x_hat.detach().float()
            self._output = "logits" if self._in01 and (v.min() < 0 or v.max() > 1) else "mean"
        return int(mu.shape[1])

    # ------------------------------------------------------------------ data space
    def _prep(self, X, name: str = "X") -> torch.Tensor:
        if isinstance(X, torch.Tensor):
            t = X.detach().to(self.device, torch.float32)
        else:
            arr = np.asarray(_to_numpy(X, name), dtype=np.float32)
            t = torch.as_tensor(arr, device=self.device)
        if t.ndim == len(self.input_shape) or t.ndim == 1:
            t = t.reshape(1, -1)
        try:
            return t.reshape(t.shape[0], *self.input_shape)
        except RuntimeError:
            raise ValueError(f"{name} has rows of shape {tuple(t.shape[1:])} but the model takes "
                             f"rows like X_val, {self.input_shape}.") from None

    def _prep_labels(self, labels, n: int, name: str = "labels"):
        return None

    def _to_data(self, out: torch.Tensor) -> np.ndarray:
        out = out.detach().float()
        if callable(self._output):
            x = torch.as_tensor(self._output(out))
        elif self._output == "logits":
            x = torch.sigmoid(out)
        else:
            x = out
        x = x.cpu().numpy().reshape(len(x), -1)
        if self.image_shape is not None:
            x = x.reshape(len(x), *self.image_shape)
        return x

    def reconstruct(self, X, labels=None) -> np.ndarray:
        """Reconstructions: the decoded posterior means, or for a model with only a
        ``forward``, its ``x_hat`` (one posterior sample, as its forward draws it)."""
        if self.can_decode:
            return super().reconstruct(X, labels)
        with self.rendering():
            x = self._prep(X)
            return self._to_data(torch.cat([self._model.forward(x[s:s + 1024])
                                            for s in range(0, len(x), 1024)]))

    @contextlib.contextmanager
    def rendering(self):
        """Eval mode and no gradients, the model's own mode restored afterwards."""
        module = self.module
        was = module.training if module is not None else False
        if was:
            module.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            if was:
                module.train()

    # ------------------------------------------------------------------ validation
    def evaluate_rows(self, threshold: float, recon_loss: Optional[Callable] = None) -> dict:
        """KL per dimension and active units on the validation rows; with ``recon_loss``
        (``recon_loss(x_hat, x) -> per-row or mean loss``) also the reconstruction term
        and the ELBO (one posterior sample per row, fixed noise)."""
        x_all = self._prep(self.data)
        mus, lvs, recs = [], [], []
        gen = torch.Generator(device=self.device)
        gen.manual_seed(1)
        with self.rendering():
            for s in range(0, len(x_all), 1024):
                x = x_all[s:s + 1024]
                mu, lv = self._model.encode(x)
                mus.append(mu.float())
                lvs.append(lv.float())
                if recon_loss is not None:
                    z = mu + torch.randn(mu.shape, generator=gen, device=mu.device) \
                        * torch.exp(0.5 * lv)
                    x_hat = self._model.decode(z) if self.can_decode else self._model.forward(x)
                    r = torch.as_tensor(recon_loss(x_hat, x)).float()
                    recs.append((r.sum() if r.ndim else r * len(x)).reshape(1))
        mu, lv = torch.cat(mus), torch.cat(lvs)
        klpd = (0.5 * (mu.pow(2) + lv.exp() - 1.0 - lv)).mean(0)
        var = mu.var(0, unbiased=False)
        vals = torch.cat([klpd, var] + ([torch.cat(recs).sum().reshape(1)] if recs else [])) \
            .tolist()
        d = self.latent_dim
        kl_list, var_list = vals[:d], vals[d:2 * d]
        kl = float(sum(kl_list))
        recon = vals[2 * d] / len(x_all) if recs else float("nan")
        return {"recon": recon, "kl": kl, "kl_per_dim": kl_list, "elbo": -(recon + kl),
                "active_units": int(sum(v > threshold for v in var_list))}
