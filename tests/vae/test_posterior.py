"""vae/posterior.py: the posterior a model computes in its own step, caught where each
common layout computes it, detached, forgotten once taken, and the model left as it was."""
import pickle

import torch
import torch.nn as nn

from vae_widgets.vae.posterior import PosteriorTap


class FcLayout(nn.Module):                 # lightning-bolts' VAE: encoder, fc_mu, fc_var
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(6, 8), nn.ReLU())
        self.fc_mu, self.fc_var = nn.Linear(8, 2), nn.Linear(8, 2)

    def forward(self, x):
        h = self.encoder(x)
        return self.fc_mu(h), self.fc_var(h)


class EncodeLayout(nn.Module):             # an encode(x) -> (mu, logvar) method
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(6, 4)

    def encode(self, x):
        return self.net(x).chunk(2, dim=1)

    def forward(self, x):
        mu, lv = self.encode(x)
        return mu * 2, mu, lv


class ForwardLayout(nn.Module):            # only forward(x) -> (x_hat, mu, logvar)
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(6, 4)

    def forward(self, x):
        mu, lv = self.net(x).chunk(2, dim=1)
        return mu * 2, mu, lv


def _x():
    return torch.randn(5, 6, generator=torch.Generator().manual_seed(0))


def test_fc_layers_are_caught_detached_and_taken_once():
    m = FcLayout()
    tap = PosteriorTap(m)
    assert tap.what == "fc_mu / fc_var"
    x = _x()
    m(x)
    mu, lv = tap.take()
    with torch.no_grad():                   # (the layers' own maths, not a call: no hook)
        h = m.encoder(x)
        torch.testing.assert_close(mu, nn.functional.linear(h, m.fc_mu.weight, m.fc_mu.bias))
        torch.testing.assert_close(lv, nn.functional.linear(h, m.fc_var.weight, m.fc_var.bias))
    assert not mu.requires_grad and tap.take() is None
    tap.remove()
    m(x)
    assert tap.take() is None and not m.fc_mu._forward_hooks
    pickle.dumps(m)


def test_an_encode_method_is_wrapped_for_the_run_and_given_back():
    m = EncodeLayout()
    tap = PosteriorTap(m)
    assert tap.what == "encode(x)" and "encode" in m.__dict__
    x = _x()
    _, want_mu, want_lv = m(x)
    mu, lv = tap.take()
    torch.testing.assert_close(mu, want_mu.detach())
    torch.testing.assert_close(lv, want_lv.detach())
    tap.remove()
    assert "encode" not in m.__dict__ and m.encode.__func__ is EncodeLayout.encode
    pickle.dumps(m)


def test_a_forward_only_model_is_caught_at_its_output():
    m = ForwardLayout()
    tap = PosteriorTap(m)
    assert tap.what == "forward(x) -> (x_hat, mu, logvar)"
    _, want_mu, want_lv = m(_x())
    mu, lv = tap.take()
    torch.testing.assert_close(mu, want_mu.detach())
    torch.testing.assert_close(lv, want_lv.detach())
    tap.remove()
    assert not m._forward_hooks
