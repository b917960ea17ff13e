"""Encoder/decoder networks.

``VAEModel`` works on flat rows of ``n_features`` values in and out (the
trainer flattens images), so the trainer, objective and visuals never care
which architecture sits inside:

* ``mlp``: ``in -> hidden... -> (mu, logvar)`` and ``z -> reversed(hidden) -> out``,
  ReLU between layers.
* ``conv`` (image data, ``image_shape=(C, H, W)``): stride-2 4x4 convolutions
  with ``conv_channels`` (as many as the image allows: a layer is added while
  the side is at least 4), a dense layer of ``hidden`` sizes, then the mirror
  image with transposed convolutions whose output padding restores odd sides
  exactly (28 -> 14 -> 7 -> 14 -> 28, 7 -> 3 -> 7).
* conditional (``n_classes > 0``): a one-hot label is concatenated to the
  encoder's dense input (the flat data for the MLP, the conv features for the
  conv model) and to the latent code entering the decoder.

The decoder returns logits (Bernoulli) or means (Gaussian). With a learned
Gaussian variance the model owns one log-variance per feature
(``out_log_var``), floored at ``LOG_VAR_MIN`` so a constant feature cannot
drive the likelihood to infinity.
"""
from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn

LOG_VAR_MIN = -10.0
DEFAULT_MLP_HIDDEN = (400,)
DEFAULT_CONV_HIDDEN = (256,)


def _dense(sizes: Sequence[int]) -> list[nn.Module]:
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return layers


class VAEModel(nn.Module):
    def __init__(self, n_features: int, latent_dim: int, *, image_shape=None,
                 architecture: str = "mlp", hidden: Optional[Sequence[int]] = None,
                 conv_channels: Sequence[int] = (32, 64), n_classes: int = 0,
                 learn_variance: bool = False):
        super().__init__()
        if architecture == "conv" and image_shape is None:
            raise ValueError("architecture='conv' needs image_shape=(H, W) or (C, H, W).")
        if image_shape is not None and len(image_shape) == 2:
            image_shape = (1, *image_shape)
        self.spec = dict(n_features=int(n_features), latent_dim=int(latent_dim),
                         image_shape=list(image_shape) if image_shape else None,
                         architecture=architecture, hidden=None if hidden is None else list(hidden),
                         conv_channels=list(conv_channels), n_classes=int(n_classes),
                         learn_variance=bool(learn_variance))
        self.n_features = int(n_features)
        self.latent_dim = int(latent_dim)
        self.n_classes = int(n_classes)
        self.architecture = architecture
        self.image_shape = tuple(image_shape) if image_shape else None

        if architecture == "conv":
            hidden = tuple(hidden) if hidden else DEFAULT_CONV_HIDDEN
            c, h, w = self.image_shape
            sides = [(h, w)]
            enc_convs: list[nn.Module] = []
            chans = [c]
            for ch in conv_channels:
                if min(h, w) < 4:
                    break
                enc_convs += [nn.Conv2d(chans[-1], ch, 4, 2, 1), nn.ReLU()]
                chans.append(ch)
                h, w = h // 2, w // 2  # (h + 2 - 4) // 2 + 1
                sides.append((h, w))
            self._conv_out = (chans[-1], h, w)
            flat = chans[-1] * h * w
            self.enc_conv = nn.Sequential(*enc_convs)
            self.enc_dense = nn.Sequential(*_dense([flat + n_classes, *hidden]))
            self.enc_head = nn.Linear(hidden[-1], 2 * latent_dim)
            self.dec_dense = nn.Sequential(*_dense([latent_dim + n_classes, *reversed(hidden), flat]))
            dec_convs: list[nn.Module] = []
            n_up = len(chans) - 1
            for i in range(n_up, 0, -1):
                (hi, wi), (ho, wo) = sides[i], sides[i - 1]
                pad = (ho - 2 * hi, wo - 2 * wi)
                dec_convs.append(nn.ConvTranspose2d(chans[i], chans[i - 1], 4, 2, 1,
                                                    output_padding=pad))
                if i > 1:
                    dec_convs.append(nn.ReLU())
            if n_up == 0:  # image too small for any conv: the dense stack does it all
                self.dec_dense = nn.Sequential(
                    *_dense([latent_dim + n_classes, *reversed(hidden)]),
                    nn.Linear(hidden[0], flat))
            self.dec_conv = nn.Sequential(*dec_convs)
        elif architecture == "mlp":
            hidden = tuple(hidden) if hidden else DEFAULT_MLP_HIDDEN
            self.enc_dense = nn.Sequential(*_dense([n_features + n_classes, *hidden]))
            self.enc_head = nn.Linear(hidden[-1], 2 * latent_dim)
            self.dec_dense = nn.Sequential(*_dense([latent_dim + n_classes, *reversed(hidden)]),
                                           nn.Linear(hidden[0], n_features))
        else:
            raise ValueError(f"architecture={architecture!r} is not one of ['mlp', 'conv'].")
        self.hidden = tuple(hidden)
        if learn_variance:
            self.out_log_var_raw = nn.Parameter(torch.zeros(n_features))
        else:
            self.register_parameter("out_log_var_raw", None)

    # --------------------------------------------------------------------------------
    def encode(self, x: torch.Tensor, y: Optional[torch.Tensor] = None):
        """``(mu, logvar)`` of q(z|x[, y]) for flat rows ``x`` and one-hot ``y``."""
        if self.architecture == "conv":
            h = self.enc_conv(x.view(x.shape[0], *self.image_shape)).flatten(1)
        else:
            h = x
        if self.n_classes:
            h = torch.cat([h, y], 1)
        mu, logvar = self.enc_head(self.enc_dense(h)).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor, y: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Decoder output for latent codes ``z``: flat logits or means, shape (n, n_features)."""
        if self.n_classes:
            z = torch.cat([z, y], 1)
        h = self.dec_dense(z)
        if self.architecture == "conv":
            h = self.dec_conv(h.view(h.shape[0], *self._conv_out)).flatten(1)
        return h

    def forward(self, x, y=None, eps=None):
        mu, logvar = self.encode(x, y)
        if eps is None:
            eps = torch.randn_like(mu)
        z = mu + eps * torch.exp(0.5 * logvar)
        return self.decode(z, y), mu, logvar

    @property
    def out_log_var(self):
        """Per-feature log-variance of a learned-variance Gaussian (floored), or None."""
        if self.out_log_var_raw is None:
            return None
        return torch.clamp(self.out_log_var_raw, min=LOG_VAR_MIN)

    @classmethod
    def from_spec(cls, spec: dict) -> "VAEModel":
        spec = dict(spec)
        n, d = spec.pop("n_features"), spec.pop("latent_dim")
        return cls(n, d, **spec)
