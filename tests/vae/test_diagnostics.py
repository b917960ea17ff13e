"""Active units, the three alerts (collapse, divergence, overfitting) on constructed inputs
and on real (tiny) training runs."""
import math

import numpy as np
import pytest
import torch

from vae_widgets import datasets
from vae_widgets.vae import VAETrainer
from vae_widgets.vae.callbacks import DivergenceGuard
from vae_widgets.vae.trainer import DivergedError
from vae_widgets.vae.diagnostics import (CollapseMonitor, DivergenceMonitor, OverfitMonitor,
                                         active_units)


@pytest.fixture(scope="module")
def digits():
    return datasets.digits()


def test_active_units_on_constructed_encodings():
    rng = np.random.default_rng(0)
    n = 2000
    mu = np.stack([rng.normal(0, 1.0, n),        # var 1     -> active
                   rng.normal(0, 0.2, n),        # var 0.04  -> active
                   rng.normal(0, 0.05, n),       # var .0025 -> inactive
                   np.full(n, 3.0)], axis=1)     # constant  -> inactive
    count, var = active_units(mu)
    assert count == 2
    assert var[0] == pytest.approx(1.0, rel=0.1) and var[3] == 0.0
    # torch input: same answer, stays a tensor (no sync)
    c_t, v_t = active_units(torch.as_tensor(mu, dtype=torch.float32))
    assert isinstance(c_t, torch.Tensor) and int(c_t) == 2
    # the threshold is "variance > 0.01" (population variance over the rows)
    mu2 = np.array([[0.09, 0.11], [-0.09, -0.11]])  # variances 0.0081 and 0.0121
    assert active_units(mu2)[0] == 1
    assert active_units(mu2, threshold=0.005)[0] == 2


def test_collapse_monitor_waits_for_eligibility_and_plateau():
    m = CollapseMonitor(latent_dim=8, fraction=0.5, patience=3)
    assert m.update(0, eligible=False) is None            # still warming up
    assert m.update(1, eligible=True) is None              # rising: units waking up
    a = m.update(1, eligible=True, beta=4.0)               # [0, 1, 1] still rose from 0
    assert a is None
    m.update(1, eligible=True)
    a = m.update(1, eligible=True, beta=4.0)               # [1, 1, 1, 1]: plateau
    assert a["kind"] == "collapse" and "1 of 8" in a["message"] and "beta=4" in a["message"]
    assert a["fix"] and "\n" not in a["message"]
    assert m.update(1, eligible=True) is None              # fires once
    assert m.update(6, eligible=True) is None              # recovered: re-armed
    m2 = CollapseMonitor(8)
    assert all(m2.update(6, eligible=True) is None for _ in range(6))  # healthy


def test_overfit_monitor():
    m = OverfitMonitor(patience=3)
    for tr, va in [(10, 9), (9, 8.5), (8, 8.6), (7, 8.7)]:
        assert m.update(tr, va) is None
    a = m.update(6, 8.8)                                   # val rose 3x while train fell
    assert a["kind"] == "overfitting" and "validation loss rose" in a["message"]
    assert m.update(5, 8.9) is None                        # once
    m2 = OverfitMonitor(patience=2)
    for tr, va in [(10, 9), (11, 9.5), (12, 10)]:          # both rising: not overfitting
        assert m2.update(tr, va) is None


def test_divergence_monitor():
    d = DivergenceMonitor(factor=100)
    assert d.check([1.0, 2.0], 50.0) is None
    assert "NaN" in d.check([1.0, float("nan")], 50.0)
    assert "inf" in d.check([math.inf], 50.0).lower() or "NaN" in d.check([math.inf], 1.0)
    assert d.check([1e9], 1e9) is not None                 # far above the first loss
    assert d.check([60.0], 60.0) is None


# --- on real runs -------------------------------------------------------------------------------
def test_collapse_alert_fires_on_forced_collapse(digits):
    X, _ = digits
    t = VAETrainer(X, latent_dim=4, hidden=(32,), beta=50.0, visuals_every=None,
                   collapse_grace_steps=0, collapse_grace_epochs=2)
    alerts = []
    t.events.subscribe(lambda e: alerts.append(e.data) if e.kind == "alert" else None)
    t.fit(6)
    kinds = [a["alert"] for a in alerts]
    assert kinds.count("collapse") == 1
    a = alerts[kinds.index("collapse")]
    assert "0 of 4" in a["message"] and "beta" in a["fix"]
    assert t.epoch_history.active_units.iloc[-1] == 0


def test_no_collapse_alert_on_healthy_run(digits):
    X, _ = digits
    t = VAETrainer(X, latent_dim=8, hidden=(64,), beta=1.0, visuals_every=None)
    t.fit(30)
    assert not [a for a in t.alerts if a["kind"] == "collapse"]
    assert t.epoch_history.active_units.iloc[-1] >= 4


def test_nan_injection_stops_and_restores_last_good_weights(digits):
    X, _ = digits
    t = VAETrainer(X, latent_dim=4, hidden=(32,), visuals_every=None)
    guard = t.callbacks[0]
    assert isinstance(guard, DivergenceGuard)
    guard.every = 1e9                             # only the copies taken as each fit starts
    t.fit(1)
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    step0 = t.step
    statuses = []

    def inject(e):
        if e.kind == "epoch" and e.data["epoch"] == 2:   # poison the weights mid-run
            with torch.no_grad():
                t.model.enc_head.weight.fill_(float("nan"))
        if e.kind == "status":
            statuses.append((e.data["state"], e.data["reason"]))

    t.events.subscribe(inject)
    with pytest.raises(DivergedError, match=f"weights of step {step0} were restored") as err:
        t.fit(10)
    assert err.value.restored_step == step0 and err.value.step > step0
    state, reason = statuses[-1]
    assert state == "error" and reason.startswith(f"training diverged at step {err.value.step}")
    assert t.epoch < 11 and t.step < step0 + 10 * 13
    a = t.alerts[-1]
    assert a["kind"] == "divergence" and "NaN" in a["message"]
    assert f"step {step0}" in a["message"]                  # the weights of the last good step
    for k, v in t.model.state_dict().items():
        assert torch.equal(v, before[k]), k
    assert math.isfinite(t.evaluate()["elbo"])
    # training can continue from the restored weights
    t.fit(1)
    assert statuses[-1] == ("done", None)


def test_absurd_learning_rate_diverges_cleanly(digits):
    """The restore point is a copy of weights some loss was computed from, never the
    weights an exploding step just produced (which encoded to NaN before the fix)."""
    X, _ = digits
    for lr in (1e6, 1e3, 30.0):
        t = VAETrainer(X, latent_dim=4, hidden=(32,), lr=lr, visuals_every=None)
        with pytest.raises(DivergedError) as err:
            t.fit(5)
        assert t.alerts and t.alerts[-1]["kind"] == "divergence"
        assert "lr" in t.alerts[-1]["fix"]
        assert all(torch.isfinite(p).all() for p in t.model.parameters())
        mu, logvar = t.encode(X[:50])
        assert np.isfinite(mu).all() and np.isfinite(logvar).all(), lr
        assert np.isfinite(t.reconstruct(X[:5])).all()
        if err.value.restored_step is not None:
            assert f"weights of step {err.value.restored_step} were restored" in str(err.value)


def test_overfitting_alert_on_a_run(digits):
    # a big decoder on 60 training rows memorises them quickly
    X, _ = digits
    t = VAETrainer(X[:120], latent_dim=16, hidden=(512,), batch_size=16, val_fraction=0.5,
                   lr=3e-3, visuals_every=None, overfit_patience=2, val_every=1)
    t.fit(60)
    eh = t.epoch_history
    assert any(a["kind"] == "overfitting" for a in t.alerts), eh[["train_elbo", "val_elbo"]]


def test_units_monitor_tells_a_sum_over_the_batch_and_a_constant_factor_from_honest_gaps():
    from vae_widgets.vae.diagnostics import UnitsMonitor

    m = UnitsMonitor()
    a = m.update(train_recon=128 * 40.0, val_recon=41.0, batch_rows=128)
    assert a["kind"] == "units" and "about your batch size (128)" in a["message"]
    assert m.update(128 * 40.0, 41.0, 128) is None                 # once
    m = UnitsMonitor()
    a = m.update(train_recon=40.0 / 64, val_recon=40.0, batch_rows=32)   # mean over 64 pixels
    assert a["kind"] == "units" and "64-fold" in a["message"]
    m = UnitsMonitor()
    for train, val in [(42.0, 45.0), (35.0, 44.0), (30.0, 46.0), (20.0, 200.0)]:
        assert m.update(train, val, 64) is None      # overfitting is not a unit error, and
    assert m.seen == 3                                # only the first 3 epochs are judged
    assert UnitsMonitor().update(float("nan"), 40.0, 64) is None
