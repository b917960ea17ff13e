"""A user's own loop feeding the VAE monitor (``LoopMonitor``, ``VAEWidget.watch``)."""
import copy
import math
import threading
import time

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from vae_widgets import VAEWidget, datasets
from vae_widgets.vae import VAETrainer
from vae_widgets.vae.objective import kl_per_dim
from vae_widgets.vae.trainer import make_optimizer
from vae_widgets.vae.watch import LoopMonitor


class ConvVAE(nn.Module):
    """What a student writes: a small conv VAE on 8x8 images."""

    def __init__(self, d=4):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 8, 3, 2, 1), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(8 * 16, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 8 * 16), nn.ReLU(), nn.Unflatten(1, (8, 4, 4)),
                                 nn.ConvTranspose2d(8, 1, 4, 2, 1))

    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)

    def decode(self, z):
        return self.dec(z)


def bce(x_hat, x):
    return F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").flatten(1).sum(1)


@pytest.fixture(scope="module")
def images():
    X, y = datasets.digits()
    return torch.tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8), y


def train(model, mon, X, epochs=2, bs=64, stop_at=None):
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    steps = 0
    for epoch in range(epochs):
        for s in range(0, len(X), bs):
            xb = X[s:s + bs]
            mu, logvar = model.encode(xb)
            x_hat = model.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
            recon = bce(x_hat, xb)
            opt.zero_grad()
            (recon + 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)).mean().backward()
            opt.step()
            mon.log(recon=recon, mu=mu, logvar=logvar, epoch=epoch)
            steps += 1
            if steps == stop_at:
                mon.stop()                     # as a click on Stop would
            if mon.should_stop:
                return


def test_the_monitor_computes_what_the_built_in_trainer_does():
    """The same run, once by VAETrainer and once by a hand-written loop that feeds
    LoopMonitor: identical metric rows, epoch rows and validation numbers."""
    X, y = datasets.digits()
    X = X[:700]
    kw = dict(latent_dim=3, hidden=(32,), batch_size=30, seed=0, visuals_every=None,
              architecture="mlp", likelihood="bernoulli", val_fraction=100 / 700, val_every=1)
    ref = VAETrainer(X, **kw)
    start = copy.deepcopy(ref.model.state_dict())
    ref.fit(2)
    assert ref._steps_per_epoch == 20           # windows of 10 steps close at epoch ends

    tr = VAETrainer(X, **kw)                      # the same data split, model and noise
    model = tr.model
    model.load_state_dict(start)
    Xtr, Xval = tr._Xtr, tr._Xval
    mon = LoopMonitor(model, Xval, recon_loss=lambda o, x: F.binary_cross_entropy_with_logits(
        o, x, reduction="none").sum(1), visuals_every=None, metrics_every=10, row_interval=0,
        val_every=1)
    opt = make_optimizer(model.parameters(), 1e-3)
    g = torch.Generator().manual_seed(0)
    for epoch in range(2):
        perm = torch.randperm(len(Xtr), generator=g)
        for s in range(0, len(Xtr), 30):
            xb = Xtr[perm[s:s + 30]]
            mu, logvar = model.encode(xb)
            eps = torch.randn(mu.shape, generator=g)
            out = model.decode(mu + eps * torch.exp(0.5 * logvar))
            recon = F.binary_cross_entropy_with_logits(out, xb, reduction="sum") / len(xb)
            loss = recon + kl_per_dim(mu, logvar).sum()
            for p in model.parameters():
                p.grad = None
            loss.backward()
            opt.step()
            mon.log(recon=recon, mu=mu, logvar=logvar)
        mon.end_epoch()               # validates the weights exactly as the epoch left them
    mon.finish()
    a, b = ref.history, mon.history
    assert len(a) == len(b) == 4
    for col in ("step", "elbo", "recon", "kl", "loss", "active_units"):
        np.testing.assert_allclose(b[col], a[col], rtol=1e-5, err_msg=col)
    np.testing.assert_allclose(np.stack(b.kl_per_dim), np.stack(a.kl_per_dim), rtol=1e-5)
    ea, eb = ref.epoch_history, mon.epoch_history
    for col in ("train_elbo", "train_recon", "train_kl", "val_elbo", "val_recon", "val_kl",
                "active_units"):
        np.testing.assert_allclose(eb[col], ea[col], rtol=1e-4, err_msg=col)
    np.testing.assert_allclose(np.stack(eb.val_kl_per_dim), np.stack(ea.val_kl_per_dim),
                               rtol=1e-4)


def test_a_conv_vae_of_ones_own_streams_everything(fake_comm, images):
    X, y = images
    model = ConvVAE()
    v = VAEWidget.watch(model, X[1500:], y[1500:], recon_loss=bce, visuals_every=0.01,
                        row_interval=0, val_every=1)
    assert v.mode == "watch" and v.latent_dim == 4 and "watching your loop" in v.info
    model.train()
    train(model, v, X[:1500], epochs=3)
    assert v.running and v.status == "running"
    v.finish()
    assert v.status == "done" and not v.running
    assert model.training                                   # its mode is restored
    h, e = v.history, v.epoch_history
    assert len(h) > 5 and h.step.iloc[-1] == 3 * 24
    assert list(e.epoch) == [1, 2, 3] and e.val_elbo.notna().all()
    assert e.val_elbo.iloc[-1] > e.val_elbo.iloc[0]         # it learned, and we saw it
    assert set(v.grids) == {"reconstructions", "samples", "traversal", "interpolation"}
    assert v.grid_reconstructions.shape == (2, 8, 1, 8, 8)
    # decoder logits were recognised: reconstructions are probabilities (pixels 0..255)
    rec = v.reconstruct(X[:4].numpy())
    assert rec.shape == (4, 1, 8, 8) and 0 <= rec.min() and rec.max() <= 1
    assert len(v.kl_per_dim) == len(v.metrics["step"]) and v.kl_per_dim.shape[1] == 4
    assert v.sample(5).shape == (5, 1, 8, 8)
    with pytest.raises(RuntimeError, match="watches your own training loop"):
        v.train()


def test_stop_sets_should_stop_and_a_new_run_clears_it(fake_comm, images):
    X, y = images
    model = ConvVAE()
    v = VAEWidget.watch(model, X[1500:])
    train(model, v, X[:1500], epochs=5, stop_at=7)
    assert v.should_stop and v._loop.step == 7
    v.finish()
    assert v.status == "stopped"
    train(model, v, X[:1500], epochs=1)
    assert not v.should_stop and v._loop.step == 7 + 24


class PressesStopWhileDrawn(ConvVAE):
    """Its decoder presses Stop the first time the monitor draws a grid once armed (a
    click landing while the loop's thread draws; on a loaded machine that takes tenths
    of a second a grid)."""

    monitor = None
    armed = False

    def decode(self, z):
        if self.armed and not torch.is_grad_enabled():
            self.armed = False
            self.monitor.stop()
        return super().decode(z)


def test_a_stop_pressed_while_grids_are_drawn_ends_the_drawing_and_shows_at_once(
        fake_comm, images):
    """The scheduled grids drawn inside log() give up once Stop is pressed (the loop
    sees should_stop at once, not after every grid), and finish() says 'stopped' before
    it draws the run's last grids, so the page shows the Stop without waiting for them."""
    X, y = images
    model = PressesStopWhileDrawn()
    v = VAEWidget.watch(model, X[1500:], y[1500:], recon_loss=bce, visuals_every=0.01,
                        val_every=1000)
    model.monitor = v
    seen = []
    v._loop.monitor.events.subscribe(
        lambda e: seen.append(e.data["grid"] if e.kind == "images" else e.data["state"])
        if e.kind in ("images", "status") else None)
    opt = torch.optim.Adam(model.parameters(), 1e-3)
    for step in range(200):
        xb = X[(step % 23) * 64:(step % 23) * 64 + 64]
        mu, logvar = model.encode(xb)
        recon = bce(model.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp()), xb)
        opt.zero_grad()
        (recon + 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)).mean().backward()
        opt.step()
        if step == 30:                           # (epoch 1's validation is behind us)
            del seen[:]
            model.armed = True
        v.log(recon=recon, mu=mu, logvar=logvar)
        if v.should_stop:
            break
    assert step < 60 and not model.armed, step  # the armed render did draw
    assert seen == ["reconstructions"], seen    # its other grids were left out
    v.finish()
    kinds = ["reconstructions", "samples", "traversal", "interpolation"]
    assert seen == ["reconstructions", "stopped"] + kinds, seen
    assert v.status == "stopped" and set(v.grids) == set(kinds)
    v.close()


def test_pause_blocks_inside_log_until_resumed(fake_comm, images):
    X, _ = images
    model = ConvVAE()
    v = VAEWidget.watch(model, X[1500:], visuals_every=None)
    steps = []
    gate = threading.Event()

    def loop():
        opt = torch.optim.Adam(model.parameters(), 1e-3)
        for i in range(60):
            xb = X[i * 20:(i + 1) * 20]
            mu, logvar = model.encode(xb)
            recon = bce(model.decode(mu), xb)
            opt.zero_grad()
            recon.mean().backward()
            opt.step()
            v.log(recon=recon, mu=mu, logvar=logvar)
            steps.append(v._loop.step)
            if i == 10:
                gate.set()
            if v.should_stop:
                break

    th = threading.Thread(target=loop)
    v.pause()                      # takes effect at the next log()
    th.start()
    assert not gate.wait(1.0), "log() went on although paused"
    assert steps == [] and v.status == "paused"
    v.resume()
    assert gate.wait(20)
    v.stop()
    th.join(20)
    assert v.should_stop and steps[-1] < 60


def test_bad_use_gets_clear_messages(images):
    X, _ = images
    with pytest.raises(TypeError, match="encode\\(x\\) -> \\(mu, logvar\\)"):
        LoopMonitor(nn.Linear(64, 8), X[:50])
    with pytest.raises(TypeError, match="must return \\(mu, logvar\\)"):
        LoopMonitor(encode=lambda x: x.flatten(1)[:, :4], decode=lambda z: z, X_val=X[:50])
    with pytest.raises(ValueError, match="X_val is needed"):
        LoopMonitor(ConvVAE())
    meta = ConvVAE().to("meta")
    with pytest.raises(ValueError, match="different devices"):
        LoopMonitor(meta, X[:50], device="cpu")
    mon = LoopMonitor(ConvVAE(), X[:50], visuals_every=None)
    mu = torch.zeros(16, 4)
    with pytest.raises(ValueError, match="must both be \\(batch, 4\\)"):
        mon.log(recon=torch.ones(16), mu=mu, logvar=torch.zeros(16, 3))
    with pytest.raises(ValueError, match="pass mu and logvar together"):
        mon.log(recon=torch.ones(16), mu=mu)
    with pytest.raises(ValueError, match="kl has shape \\(3,\\)"):
        mon.log(recon=torch.ones(16), kl=torch.ones(3))
    with pytest.raises(ValueError, match="needs the KL"):
        mon.log(recon=torch.ones(16))
    with pytest.raises(TypeError, match="recon must be a tensor or a number"):
        mon.log(recon="0.5", mu=mu, logvar=mu)
    with pytest.raises(TypeError, match="recon_loss must be a callable"):
        LoopMonitor(ConvVAE(), X[:50], recon_loss=3)
    with pytest.raises(TypeError, match="unknown argument 'visual_every'"):
        LoopMonitor(ConvVAE(), X[:50], visual_every=1)


def test_nan_terms_raise_one_alert_not_an_exception(images):
    X, _ = images
    mon = LoopMonitor(ConvVAE(), X[:50], visuals_every=None, metrics_every=2, row_interval=0)
    mu = torch.zeros(8, 4)
    for i in range(12):
        r = torch.tensor(float("nan")) if 3 <= i < 9 else torch.tensor(1.0)
        mon.log(recon=r, mu=mu, logvar=mu)
    kinds = [a["kind"] for a in mon.alerts]
    assert kinds == ["divergence"] and "NaN" in mon.alerts[0]["message"]
    assert math.isfinite(mon.history.recon.iloc[-1])       # healthy rows again afterwards


def test_log_from_two_threads_is_refused(images):
    X, _ = images
    mon = LoopMonitor(ConvVAE(), X[:50], visuals_every=None)
    mu = torch.zeros(8, 4)
    mon.log(recon=1.0, mu=mu, logvar=mu)
    err = []

    def other():
        try:
            mon.log(recon=1.0, mu=mu, logvar=mu)
        except RuntimeError as exc:
            err.append(str(exc))
    th = threading.Thread(target=other)
    th.start()
    th.join()
    assert err and "two threads" in err[0]
    mon.finish()                                # a new run may start on another thread
    th = threading.Thread(target=other)
    th.start()
    th.join()
    assert len(err) == 1


def test_kl_per_dimension_and_a_scheduler_need_no_posterior(images):
    X, _ = images
    model = ConvVAE()
    opt = torch.optim.SGD(model.parameters(), 0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, 3, 0.5)
    mon = LoopMonitor(model, X[:50], visuals_every=None, optimizer=opt, metrics_every=3,
                      steps_per_epoch=6, row_interval=0)
    for i in range(12):
        mon.log(recon=torch.tensor(2.0), kl=torch.full((10, 4), 0.25), beta=min(1.0, i / 6))
        opt.step()
        sched.step()
    h = mon.history
    np.testing.assert_allclose(h.kl, 1.0)
    assert h.lr.iloc[0] == pytest.approx(0.1) and h.lr.iloc[-1] < 0.1
    assert h.beta.iloc[-1] == 1.0 and not mon.monitor.param_rows   # schedules make no marks
    assert list(mon.epoch_history.epoch) == [1, 2]                  # from steps_per_epoch
    assert mon.epoch_history.val_elbo.isna().all()                  # no recon_loss given
    assert mon.epoch_history.active_units.notna().iloc[0]           # validated (KL, units)


def test_a_fast_loop_gets_rows_and_validations_within_their_budgets(images):
    """A loop of ~free steps: rows at most every row_interval seconds, validation passes
    kept under val_budget of the run (the first epoch and the last always validate)."""
    X, _ = images
    mon = LoopMonitor(ConvVAE(), X[:300], visuals_every=None, steps_per_epoch=200)
    mu = torch.zeros(32, 4)
    t0 = time.perf_counter()
    for _ in range(4100):
        mon.log(recon=1.0, mu=mu, logvar=mu)
    mon.finish()
    took = time.perf_counter() - t0
    e = mon.epoch_history
    # mid-epoch rows at most every row_interval; each epoch end closes one more
    assert len(mon.history) <= took / mon.config.row_interval + len(e) + 2
    assert len(e) == 21 and e.active_units.notna().iloc[[0, -1]].all()   # first, and the
    assert e.active_units.notna().sum() < len(e)           # open one at finish(); not all


# ---------------------------------------------------------------- units: pytorch/examples
class ExamplesVAE(nn.Module):
    """pytorch/examples vae/main.py as published (784 -> 400 -> 20), on 8x8 digits (64)."""

    def __init__(self, d_in=64):
        super().__init__()
        self.d_in = d_in
        self.fc1 = nn.Linear(d_in, 400)
        self.fc21 = nn.Linear(400, 20)
        self.fc22 = nn.Linear(400, 20)
        self.fc3 = nn.Linear(20, 400)
        self.fc4 = nn.Linear(400, d_in)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar):
        std = torch.exp(0.5 * logvar)
        eps = torch.randn_like(std)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x):
        mu, logvar = self.encode(x.view(-1, self.d_in))
        z = self.reparameterize(mu, logvar)
        return self.decode(z), mu, logvar


def examples_loss_function(recon_x, x, mu, logvar, d_in=64):
    """As upstream: BCE summed over the batch (not averaged), plus the KL."""
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, d_in), reduction="sum")
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD, BCE


def per_row_bce(x_hat, x):
    return F.binary_cross_entropy(x_hat, x, reduction="none").sum(1)


def run_examples_loop(log_mean: bool, epochs=3):
    X, _ = datasets.digits()
    X = torch.as_tensor(X, dtype=torch.float32)
    torch.manual_seed(0)
    model = ExamplesVAE()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    mon = LoopMonitor(model, X[1500:], output="mean", recon_loss=per_row_bce,
                      visuals_every=None, val_every=1)
    batch_size = 128                       # upstream's default
    for epoch in range(epochs):
        perm = torch.randperm(1500)
        for s in range(0, 1500, batch_size):
            data = X[:1500][perm[s:s + batch_size]]
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data)
            loss, bce_sum = examples_loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            optimizer.step()
            mon.log(recon=bce_sum / len(data) if log_mean else bce_sum, mu=mu, logvar=logvar,
                    epoch=epoch)
    mon.finish()
    return mon


def test_the_pytorch_examples_loop_logging_a_sum_over_the_batch_gets_a_units_alert():
    mon = run_examples_loop(log_mean=False)
    units = [a for a in mon.monitor.alerts if a["kind"] == "units"]
    assert len(units) == 1, mon.monitor.alerts
    msg = units[0]["message"]
    assert "about your batch size (128)" in msg and "summed over the batch" in msg
    assert "reduction" in units[0]["fix"]
    ratio = float(msg.split(" is ")[1].split("x the")[0])
    assert 90 < ratio < 170          # 128 rows per batch (the last batch has 92)


def test_the_same_loop_logging_the_mean_per_row_gets_no_units_alert():
    mon = run_examples_loop(log_mean=True)
    assert not [a for a in mon.monitor.alerts if a["kind"] == "units"], mon.monitor.alerts
