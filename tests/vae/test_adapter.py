"""vae/adapter.py: a user's model as people publish it, seen through the data-space
methods: encode/decode methods, lightning-bolts' layout (encoder + fc_mu + fc_var +
decoder, reproduced as published with small encoders), and a model with only forward()."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_widgets import VAEWidget, datasets
from vae_widgets.vae.adapter import ModelAdapter
from vae_widgets.vae.watch import LoopMonitor

X, Y = datasets.digits()
XV = torch.as_tensor(X[1500:1700], dtype=torch.float32)


class BoltsVAE(nn.Module):
    """pl_bolts.models.autoencoders.VAE's layout and forward, as published, with MLP parts
    in place of the ResNet encoder/decoder (enc_out_dim 32, latent_dim 4)."""

    def __init__(self, enc_out_dim=32, latent_dim=4, kl_coeff=0.1):
        super().__init__()
        self.kl_coeff = kl_coeff
        self.encoder = nn.Sequential(nn.Linear(64, enc_out_dim), nn.ReLU())
        self.decoder = nn.Sequential(nn.Linear(latent_dim, 64))
        self.fc_mu = nn.Linear(enc_out_dim, latent_dim)
        self.fc_var = nn.Linear(enc_out_dim, latent_dim)

    def forward(self, x):
        x = self.encoder(x)
        mu = self.fc_mu(x)
        log_var = self.fc_var(x)
        p, q, z = self.sample(mu, log_var)
        return self.decoder(z)

    def sample(self, mu, log_var):
        std = torch.exp(log_var / 2)
        p = torch.distributions.Normal(torch.zeros_like(mu), torch.ones_like(std))
        q = torch.distributions.Normal(mu, std)
        z = q.rsample()
        return p, q, z


class ForwardOnlyVAE(nn.Module):
    """forward(x) -> (x_hat, mu, logvar) and nothing else (no encode, no decode)."""

    def __init__(self, d=3):
        super().__init__()
        self.enc = nn.Linear(64, 2 * d)
        self.dec = nn.Linear(d, 64)

    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.dec(z)), mu, logvar


def test_bolts_layout_is_recognised_without_changing_the_model():
    a = ModelAdapter(BoltsVAE(), XV)
    assert a.layout == "encoder + fc_mu / fc_var + decoder" and a.can_decode
    assert a.latent_dim == 4
    mu, logvar = a.encode(XV[:5].numpy())
    assert mu.shape == (5, 4) and logvar.shape == (5, 4)
    assert a.decode(mu).shape == (5, 64) and a.sample(3).shape == (3, 64)


def test_a_forward_only_model_encodes_and_reconstructs_and_says_what_needs_decode():
    a = ModelAdapter(ForwardOnlyVAE(), XV, output="mean")
    assert a.layout == "forward(x) -> (x_hat, mu, logvar)" and not a.can_decode
    assert a.encode(XV[:4].numpy())[0].shape == (4, 3)
    rec = a.reconstruct(XV[:4].numpy())
    assert rec.shape == (4, 64) and (rec >= 0).all() and (rec <= 1).all()
    with pytest.raises(RuntimeError, match=r"no decode\(z\).*samples, traversals"):
        a.sample(2)


def test_a_forward_only_model_is_watched_curves_kl_units_reconstructions_and_panels_say_why(
        fake_comm):
    model = ForwardOnlyVAE()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    v = VAEWidget.watch(model, XV, output="mean", val_every=1,
                        recon_loss=lambda x_hat, x: F.binary_cross_entropy(
                            x_hat, x, reduction="none").sum(1))
    assert "forward(x) -> (x_hat, mu, logvar)" in v.info
    for kind in ("samples", "traversal", "interpolation"):
        assert "Needs decode(z)" in v.grids[kind]["unavailable"]
    Xt = torch.as_tensor(X[:1500], dtype=torch.float32)
    for epoch in range(2):
        for s in range(0, 1500, 100):
            xb = Xt[s:s + 100]
            x_hat, mu, logvar = model(xb)
            recon = F.binary_cross_entropy(x_hat, xb, reduction="sum") / len(xb)
            kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp()) / len(xb)
            opt.zero_grad()
            (recon + kl).backward()
            opt.step()
            v.log(recon=recon, mu=mu, logvar=logvar, epoch=epoch)
    v.finish()
    assert len(v.epoch_history) == 2 and np.isfinite(v.epoch_history.val_recon).all()
    assert len(v.history) > 0 and v.kl_per_dim.shape[1] == 3
    assert v.grid_reconstructions is not None and v.grids["reconstructions"]["shape"][0] == 2
    assert "unavailable" in v.grids["samples"] and v.grid_samples is None
    assert not [a for a in v.alerts if a["kind"] in ("units", "divergence")]


def test_a_module_whose_forward_is_not_a_vae_is_refused_with_what_to_pass():
    with pytest.raises(TypeError, match=r"forward\(x\) must then return \(x_hat, mu, logvar\)"):
        ModelAdapter(nn.Linear(64, 64), XV)
    with pytest.raises(TypeError, match=r"needs encode\(x\) -> \(mu, logvar\)"):
        LoopMonitor(object(), XV)
