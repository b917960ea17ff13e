"""VAETrainer: events, determinism, checkpoints, threads, live parameters, models, API."""
import os
import time

import numpy as np
import pandas as pd
import pytest
import torch

from vae_widgets import datasets
from vae_widgets._stream import Worker
from vae_widgets.vae import (EPOCH_COLUMNS, METRIC_COLUMNS, UnsafeCheckpointError,
                             VAETrainer)
from vae_widgets.vae.model import VAEModel


@pytest.fixture(scope="module")
def digits():
    return datasets.digits()


def small(X, **kw):
    kw.setdefault("latent_dim", 4)
    kw.setdefault("hidden", (32,))
    kw.setdefault("visuals_every", None)
    return VAETrainer(X, **kw)


def record(t):
    events = []
    t.events.subscribe(events.append)
    return events


@pytest.mark.parametrize("val_every, n_rows, epochs, expected", [
    (1, 1797, 4, [1, 2, 3, 4]),
    (2, 1797, 6, [1, 3, 5, 6]),            # and the last epoch of the fit
    ("auto", 1797, 8, [1, 4, 7, 8]),       # ceil(4096 / 1617 training rows) = 3
    ("auto", 6000, 2, [1, 2]),             # 5,400 training rows: every epoch
])
def test_val_every_picks_the_validated_epochs(digits, val_every, n_rows, epochs, expected):
    X, _ = digits
    X = np.resize(X, (n_rows, X.shape[1]))
    t = small(X, val_every=val_every, hidden=(16,), batch_size=512)
    t.fit(epochs)
    h = t.epoch_history
    assert list(h.epoch[np.isfinite(h.val_elbo)]) == expected


@pytest.mark.parametrize("bad", [0, "often", 1.5, -2])
def test_val_every_rejects_bad_values(digits, bad):
    with pytest.raises((ValueError, TypeError), match="val_every"):
        small(digits[0], val_every=bad)


# --- events and history -----------------------------------------------------------------------
def test_fit_publishes_status_metrics_epoch_and_images(digits):
    X, y = digits
    t = small(X, labels=y, image_shape=(8, 8), architecture="mlp", visuals_every=0.002)
    ev = record(t)
    t.fit(3)
    kinds = [e.kind for e in ev]
    st = [e.data for e in ev if e.kind == "status"]
    assert st[0]["state"] == "running" and st[-1]["state"] == "done"
    assert set(st[-1]) == {"state", "epoch", "step", "target_epoch", "reason"}
    assert st[-1]["epoch"] == 3.0 and st[-1]["step"] == t.step == 3 * 13
    rows = [r for e in ev if e.kind == "metrics" for r in e.data["rows"]]
    assert set(rows[0]) == set(METRIC_COLUMNS)
    assert [r["step"] for r in rows] == sorted(r["step"] for r in rows)
    r = rows[-1]
    assert len(r["kl_per_dim"]) == 4 and r["kl"] == pytest.approx(sum(r["kl_per_dim"]))
    assert r["elbo"] == pytest.approx(-(r["recon"] + r["kl"]))
    assert r["lr"] == 1e-3 and r["beta"] == 1.0 and r["grad_norm"] > 0
    assert 0 <= r["active_units"] <= 4
    ep = [e.data for e in ev if e.kind == "epoch"]
    assert [e["epoch"] for e in ep] == [1, 2, 3] and set(ep[0]) == set(EPOCH_COLUMNS)
    assert all(np.isfinite(e["train_elbo"]) for e in ep)
    # 1,617 training rows: val_every="auto" validates epochs 1, 4, 7, ... and the last one
    assert [np.isfinite(e["val_elbo"]) for e in ep] == [True, False, True]
    assert [e["active_units"] >= 0 for e in ep] == [True, False, True]
    assert ep[1]["val_kl_per_dim"] is None and len(ep[2]["val_kl_per_dim"]) == 4
    grids = {e.data["grid"]: e.data for e in ev if e.kind == "images"}
    assert set(grids) == {"reconstructions", "samples", "traversal", "interpolation"}
    assert kinds.index("images") < kinds.index("epoch")      # published during training
    assert t.history.shape[0] == len(rows) and list(t.history.columns) == list(METRIC_COLUMNS)
    assert t.epoch_history.shape == (3, len(EPOCH_COLUMNS))
    assert not t.events.listener_errors


def test_metrics_every_and_history_decimation(digits):
    X, _ = digits
    t = small(X, metrics_every=1, history_max_rows=10)
    ev = record(t)
    t.fit(3)                                       # 39 steps -> 39 rows published
    published = [r for e in ev if e.kind == "metrics" for r in e.data["rows"]]
    assert len(published) == 39
    h = t.history
    assert 5 <= len(h) <= 10
    assert h.step.is_monotonic_increasing and h.step.iloc[-1] >= 30


def test_metric_windows_close_at_epoch_ends(digits):
    X, _ = digits                                  # 1617 training rows: 13 steps per epoch
    t = small(X, metrics_every=4)
    t.fit(2)
    # rows every 4 steps; the one at step 12 would leave a 1-step window: merged into 13
    assert t.history.step.tolist() == [4, 8, 13, 17, 21, 26]
    assert t.epoch_history.step.tolist() == [13, 26]
    d = small(X)                                   # default 10: one row per 13-step epoch
    d.fit(2)
    assert d.history.step.tolist() == [13, 26]


def test_metric_row_is_the_mean_of_its_window(digits):
    # metrics do not touch the trajectory, so a run with a row every step gives the
    # per-step terms that a coarser run's rows must average (window of 4 and of 5 steps)
    X, _ = digits
    fine = small(X, metrics_every=1, seed=3)
    fine.fit(1)
    coarse = small(X, metrics_every=4, seed=3)
    coarse.fit(1)
    f, c = fine.history.set_index("step"), coarse.history.set_index("step")
    assert c.index.tolist() == [4, 8, 13]
    for lo, hi in [(1, 4), (5, 8), (9, 13)]:
        win = f.loc[lo:hi]
        row = c.loc[hi]
        assert row.recon == pytest.approx(win.recon.mean(), rel=1e-5)
        assert row.kl_per_dim == pytest.approx(np.mean(win.kl_per_dim.tolist(), axis=0),
                                               rel=1e-5, abs=1e-7)
        assert row.kl == pytest.approx(sum(row.kl_per_dim), rel=1e-6)
        # batch statistics of the last step of the window, not averages
        assert row.grad_norm == pytest.approx(f.loc[hi].grad_norm, rel=1e-5)
        assert row.active_units == f.loc[hi].active_units


def test_no_validation_set(digits):
    X, _ = digits
    t = small(X, val_fraction=0.0)
    t.fit(2)
    eh = t.epoch_history
    assert eh.val_elbo.isna().all() and np.isfinite(eh.train_elbo).all()
    assert (eh.active_units >= 0).all()
    assert set(t.render_visuals(publish=False)) == {"reconstructions", "samples", "traversal",
                                                    "interpolation"}


def test_fit_continues_and_resumes_a_stopped_epoch(digits):
    X, _ = digits
    t = small(X)
    t.fit(2)
    t.fit(1)
    assert t.epoch_history.epoch.tolist() == [1, 2, 3]
    assert t.history.step.is_monotonic_increasing


def test_error_inside_fit_is_published_and_reraised(digits, monkeypatch):
    X, _ = digits
    t = small(X)
    ev = record(t)

    def broken(*a, **k):
        raise RuntimeError("boom")

    monkeypatch.setattr(t.model, "decode", broken)
    with pytest.raises(RuntimeError, match="boom"):
        t.fit(1)
    err = [e.data for e in ev if e.kind == "error"][0]
    assert "boom" in err["message"] and "Traceback" in err["traceback"]
    assert [e.data["state"] for e in ev if e.kind == "status"][-1] == "error"
    assert not t.running


# --- determinism ---------------------------------------------------------------------------------
def test_same_seed_same_losses(digits):
    X, _ = digits
    cols = ["step", "elbo", "recon", "kl", "grad_norm"]
    a, b, c = small(X, seed=3), small(X, seed=3), small(X, seed=4)
    for t in (a, b, c):
        t.fit(2)
    pd.testing.assert_frame_equal(a.history[cols], b.history[cols])
    pd.testing.assert_frame_equal(a.epoch_history.drop(columns="time"),
                                  b.epoch_history.drop(columns="time"))
    assert not np.allclose(a.history.elbo, c.history.elbo)


def test_visuals_do_not_change_the_training_trajectory(digits):
    X, _ = digits
    a = small(X, visuals_every=None)
    b = small(X, visuals_every=1e-3)               # renders every step or two
    a.fit(2)
    b.fit(2)
    assert a.history.elbo.tolist() == b.history.elbo.tolist()


# --- checkpoints ------------------------------------------------------------------------------
def test_checkpoint_round_trip_and_resume(digits, tmp_path):
    X, y = digits
    path = tmp_path / "vae.pt"
    t = small(X, labels=y, kl_schedule="cyclical", n_cycles=2)
    t.fit(2)
    t.set_params(beta=0.5)
    t.save(path)
    u = VAETrainer.load(path)
    for k, v in t.model.state_dict().items():
        assert torch.equal(v, u.model.state_dict()[k])
    assert u.config == t.config and u.step == t.step and u.epoch == 2
    pd.testing.assert_frame_equal(u.history, t.history)
    pd.testing.assert_frame_equal(u.epoch_history, t.epoch_history)
    pd.testing.assert_frame_equal(u.param_history, t.param_history)
    np.testing.assert_array_equal(u.encode(X[:5])[0], t.encode(X[:5])[0])
    np.testing.assert_array_equal(u.labels, t.labels)

    # resume: the loaded trainer continues exactly like the original one
    n_before = len(u.history)
    t.fit(2)
    u.fit(2)
    assert len(u.history) > n_before and u.epoch_history.epoch.tolist() == [1, 2, 3, 4]
    assert u.history.step.is_monotonic_increasing
    np.testing.assert_allclose(u.history.elbo, t.history.elbo, rtol=1e-6)
    for k, v in t.model.state_dict().items():
        torch.testing.assert_close(u.model.state_dict()[k], v)


def test_checkpoint_is_weights_only_and_can_omit_data(digits, tmp_path):
    X, _ = digits
    t = small(X[:300], image_shape=(8, 8))
    t.fit(1)
    path = tmp_path / "nodata.pt"
    t.save(path, include_data=False)
    ck = torch.load(path, weights_only=True)      # plain types + tensors only
    assert ck["data"] is None and ck["config"]["latent_dim"] == 4
    with pytest.raises(ValueError, match="saved without data"):
        VAETrainer.load(path)
    u = VAETrainer.load(path, X=X[:300])
    assert u.reconstruct(X[:2]).shape == (2, 8, 8)
    u.fit(1)
    assert u.epoch == 2
    # version-2 and version-1 files (the trainer's fields one by one; v1 before the factor
    # probe and MIG history were kept) still load
    v2 = as_version_2(ck)
    torch.save(v2, tmp_path / "v2.pt")
    old = VAETrainer.load(tmp_path / "v2.pt", X=X[:300])
    assert old.epoch == 1 and old.step == ck["trainer"]["loop"]["step"]
    assert len(old.history) == len(ck["trainer"]["monitor"]["history"])
    for key in ("factor_probe", "mig_history"):
        del v2[key]
    v2["version"] = 1
    torch.save(v2, tmp_path / "v1.pt")
    old = VAETrainer.load(tmp_path / "v1.pt", X=X[:300])
    assert old.epoch == 1 and old.mig_history.empty and old.factor_names is None
    ck["version"] = 99
    torch.save(ck, tmp_path / "v99.pt")
    with pytest.raises(ValueError, match="newer vae_widgets"):
        VAETrainer.load(tmp_path / "v99.pt", X=X[:300])


def as_version_2(ck: dict) -> dict:
    """The layout checkpoints had before version 3 (state_dict fields written one by one)."""
    tr = ck["trainer"]
    loop, mon = tr["loop"], tr["monitor"]
    old = {k: v for k, v in ck.items() if k != "trainer"}
    old.update(version=2, model=tr["model"], optimizer=tr["optimizer"],
               history=mon["history"], epoch_history=mon["epoch_history"],
               param_history=mon["param_history"], alerts=mon["alerts"],
               factor_probe=mon["factor_probe"], mig_history=mon["mig_history"],
               state=dict(loop, stride=mon["stride"], row_counter=mon["row_counter"],
                          last_kl=mon["last_kl"], overfit=mon["overfit"],
                          collapse=mon["collapse"], diverge_first=mon["diverge_first"]))
    return old


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (self.marker,))


def test_refuses_checkpoint_with_pickled_code(tmp_path, digits):
    marker = str(tmp_path / "pwned")
    path = tmp_path / "evil.pt"
    t = small(digits[0][:100], batch_size=32)
    t.save(path)
    ck = torch.load(path, weights_only=True)
    ck["payload"] = _RunsCode(marker)
    torch.save(ck, path)
    with pytest.raises(UnsafeCheckpointError) as e:
        VAETrainer.load(path)
    assert isinstance(e.value, ValueError)
    assert "refused" in str(e.value) and "could run code" in str(e.value)
    assert not os.path.exists(marker)


def test_refuses_foreign_file(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(ValueError, match="not a vae_widgets VAE checkpoint"):
        VAETrainer.load(path)
    junk = tmp_path / "junk.pt"
    junk.write_text("hello world")
    with pytest.raises(ValueError, match="could not be read as a checkpoint") as e:
        VAETrainer.load(junk)
    assert not isinstance(e.value, UnsafeCheckpointError)
    with pytest.raises(FileNotFoundError):
        VAETrainer.load(tmp_path / "missing.pt")


# --- threads: pause, stop, live parameters --------------------------------------------------------
def until(condition, timeout=10.0):
    """Wait for a condition (a loaded machine makes fixed sleeps flaky)."""
    deadline = time.time() + timeout
    while not condition():
        assert time.time() < deadline, "timed out"
        time.sleep(0.01)


def test_pause_resume_stop_from_another_thread(digits):
    X, _ = digits
    t = small(X)
    states = []
    t.events.subscribe(lambda e: states.append(e.data["state"]) if e.kind == "status" else None)
    w = Worker(lambda: t.fit(100000)).start()
    deadline = time.time() + 10
    while t.step < 20 and time.time() < deadline:
        time.sleep(0.01)
    t.control.pause()
    until(lambda: states[-1] == "paused")      # the step in flight ends first
    s1 = t.step
    time.sleep(0.3)
    assert t.step == s1 and states[-1] == "paused"
    t.control.resume()
    until(lambda: t.step > s1)
    assert states[-1] == "running"
    t0 = time.perf_counter()
    t.control.stop()
    w.wait(timeout=5)
    assert time.perf_counter() - t0 < 1.0
    assert states[-1] == "stopped" and not t.running
    # a later fit continues from where it stopped
    step = t.step
    t.fit(1)
    assert t.step > step and states[-1] == "done"


def test_a_stopped_run_says_so_before_it_draws_its_last_grids(digits):
    """The status 'stopped' (what the page shows for a Stop) goes out before the run's
    last grids, which take tenths of a second on a loaded machine; they follow it."""
    X, _ = digits
    t = small(X, visuals_every=0.05)
    ev = record(t)
    w = Worker(lambda: t.fit(100000)).start()
    until(lambda: t.step > 5)
    t.control.stop()
    w.wait(timeout=10)
    tail = [e.data["state"] if e.kind == "status" else e.data["grid"] for e in ev
            if e.kind in ("status", "images")][-5:]
    assert tail == ["stopped", "reconstructions", "samples", "traversal", "interpolation"], tail
    assert not t.running


def test_stop_while_paused(digits):
    X, _ = digits
    t = small(X)
    w = Worker(lambda: t.fit(100000)).start()
    while t.step < 5:
        time.sleep(0.005)
    t.control.pause()
    time.sleep(0.05)
    t0 = time.perf_counter()
    t.control.stop()
    w.wait(timeout=5)
    assert time.perf_counter() - t0 < 1.0


def test_set_params_reaches_next_steps_and_is_logged(digits):
    X, _ = digits
    t = small(X, metrics_every=1)
    ev = record(t)
    w = Worker(lambda: t.fit(100000)).start()
    while t.step < 10:
        time.sleep(0.005)
    before = t.step
    t.set_params(beta=0.25, lr=5e-4, kl_schedule="linear")
    time.sleep(0.2)
    t.control.stop()
    w.wait(5)
    ph = t.param_history
    assert set(ph.param) == {"beta", "lr", "kl_schedule"}
    row = ph.set_index("param").loc["beta"]
    assert row.old == 1.0 and row.new == 0.25 and row.step >= before
    p = [e.data for e in ev if e.kind == "params"][0]
    assert p["changes"] == {"beta": 0.25, "lr": 5e-4, "kl_schedule": "linear"}
    assert p["previous"]["beta"] == 1.0
    h = t.history
    after = h[h.step > row.step]
    assert len(after) and (after.lr == 5e-4).all()
    # linear warm-up over 10 epochs, switched on past epoch ~1: beta = 0.25 * min(1, epoch / 10)
    assert (after.beta <= 0.25).all() and (after.beta > 0).all()
    assert after.beta.iloc[0] < 0.25 and after.beta.is_monotonic_increasing
    assert (h[h.step <= row.step].beta == 1.0).all()
    assert t._opt.param_groups[0]["lr"] == 5e-4 and t.config.beta == 0.25


def test_set_params_while_paused_applies_now_and_rerenders(digits):
    X, _ = digits
    t = small(X, visuals_every=60.0)
    ev = record(t)
    w = Worker(lambda: t.fit(100000)).start()
    while t.step < 5:
        time.sleep(0.005)
    t.control.pause()
    deadline = time.time() + 5
    while not t._parked and time.time() < deadline:
        time.sleep(0.005)
    n_images = sum(e.kind == "images" for e in ev)         # the pause rendered all grids
    assert n_images == 4
    t.set_params(sample_temperature=0.0, beta=2.0)
    assert t.config.beta == 2.0                              # applied while parked
    samples = [e.data for e in ev if e.kind == "images"][-4:]
    assert any(s["grid"] == "samples" and s["labels"]["temperature"] == 0.0 for s in samples)
    t.control.stop()
    w.wait(5)


def test_set_params_validates_in_the_caller(digits):
    X, _ = digits
    t = small(X)
    with pytest.raises(ValueError, match="beta"):
        t.set_params(beta=-1)
    with pytest.raises(ValueError, match="kl_schedule"):
        t.set_params(kl_schedule="nope")
    with pytest.raises(TypeError, match="set_params.*'latent_dim'"):
        t.set_params(latent_dim=3)
    with pytest.raises(ValueError, match="traverse_base"):
        t.set_params(traverse_base=10**6)
    t.set_params(lr=0.01)                          # not training: applies now
    assert t._opt.param_groups[0]["lr"] == 0.01 and t.config.lr == 0.01


# --- models -------------------------------------------------------------------------------------------
def test_conditional_vae(digits):
    X, y = digits
    t = small(X, labels=y, conditional=True, image_shape=(8, 8))
    t.fit(2)
    assert np.isfinite(t.epoch_history.val_elbo).all()
    assert t.model.n_classes == 10
    s = t.sample(4, labels=[3, 3, 7, 7])
    assert s.shape == (4, 8, 8)
    assert t.sample(10).shape == (10, 8, 8)          # classes in turn
    with pytest.raises(ValueError, match="conditional: pass labels"):
        t.encode(X[:3])
    mu, lv = t.encode(X[:3], labels=y[:3])
    assert mu.shape == (3, 4)
    with pytest.raises(ValueError, match="not one of the training classes"):
        t.decode(np.zeros((1, 4)), labels=[42])
    assert t.traverse(0, [-1, 0, 1], base=5).shape == (3, 8, 8)
    assert t.interpolate(0, 1, 5).shape == (5, 8, 8)
    assert set(t.render_visuals()) == {"reconstructions", "samples", "traversal",
                                       "interpolation"}


def test_conv_model_on_8x8_images(digits):
    X, _ = digits
    t = small(X.reshape(-1, 8, 8), latent_dim=4, conv_channels=(8, 16), hidden=(32,))
    assert t.config.architecture == "conv" and t.image_shape == (8, 8)
    assert any(isinstance(m, torch.nn.Conv2d) for m in t.model.modules())
    t.fit(2)
    assert np.isfinite(t.epoch_history.val_elbo).all()
    assert t.reconstruct(X[:3]).shape == (3, 8, 8)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 7, 9), (1, 3, 3), (1, 5, 16)])
def test_conv_model_restores_odd_image_sides(shape):
    n = int(np.prod(shape))
    m = VAEModel(n, 3, image_shape=shape, architecture="conv", hidden=(16,),
                 conv_channels=(4, 8, 8), n_classes=2)
    x = torch.rand(2, n)
    y = torch.eye(2)
    out, mu, logvar = m(x, y)
    assert out.shape == (2, n) and mu.shape == (2, 3)


def test_gaussian_tabular_data_standardised_and_restored():
    X, y = datasets.blobs(n=400, dims=6, clusters=3)
    X = X * 50.0 + 1000.0                           # far from unit scale
    t = small(X, latent_dim=2)
    assert t.config.likelihood == "gaussian" and t.config.standardize is True
    assert abs(float(t._Xtr.mean())) < 0.2          # the model sees standardised data
    t.fit(10)
    rec = t.reconstruct(X[:50])
    assert rec.shape == (50, 6)
    assert np.abs(rec.mean(0) - X[:50].mean(0)).max() < 0.5 * X.std(0).max()
    np.testing.assert_allclose(t.decode(np.zeros((1, 2))).shape, (1, 6))
    learned = small(X, latent_dim=2, likelihood="gaussian_learned")
    learned.fit(3)
    assert learned.model.out_log_var.shape == (6,)
    assert np.isfinite(learned.epoch_history.val_elbo.dropna()).all() and learned.epoch_history.val_elbo.notna().sum() >= 2


def test_free_bits_and_schedules_run(digits):
    X, _ = digits
    for kw in (dict(free_bits=0.5), dict(kl_schedule="linear", warmup_epochs=2),
               dict(kl_schedule="cyclical", n_cycles=2, ramp_ratio=0.5)):
        t = small(X, metrics_every=1, **kw)
        t.fit(2)
        assert np.isfinite(t.history.elbo).all()
    # the cyclical span defaults to the first fit: 2 epochs, 2 cycles of 13 steps; beta is
    # 0 at the first step of each cycle, reaches 1 half-way through and stays there
    beta = t.history.set_index("step").beta
    assert beta[1] == 0.0 and beta[14] == 0.0
    assert beta[4] == pytest.approx(3 / 13 / 0.5) and beta[8] == 1.0 and beta[13] == 1.0


# --- Python API ------------------------------------------------------------------------------------------
def test_api_shapes_and_semantics(digits):
    X, y = digits
    t = small(X, image_shape=(8, 8), architecture="mlp")
    t.fit(3)
    mu, logvar = t.encode(X[:10])
    assert mu.shape == logvar.shape == (10, 4) and mu.dtype == np.float32
    assert t.encode(torch.as_tensor(X[:10]))[0] == pytest.approx(mu)
    assert t.encode(pd.DataFrame(X[:10]))[0] == pytest.approx(mu)
    assert t.encode(X[:10].reshape(-1, 8, 8))[0] == pytest.approx(mu)
    d = t.decode(mu)
    assert d.shape == (10, 8, 8) and d.min() >= 0 and d.max() <= 1
    np.testing.assert_allclose(t.reconstruct(X[:10]), d)
    s = t.sample(6, temperature=0.0)
    assert s.shape == (6, 8, 8) and np.allclose(s, s[0])
    np.testing.assert_allclose(t.sample(3, seed=1), t.sample(3, seed=1))
    tr = t.traverse(1, np.linspace(-3, 3, 7), base=0)
    assert tr.shape == (7, 8, 8)
    z0 = np.zeros((1, 4), np.float32)
    z0[0, 1] = -3
    np.testing.assert_allclose(t.traverse(1, [-3.0]), t.decode(z0), atol=1e-6)
    it = t.interpolate(0, 1, steps=5)
    assert it.shape == (5, 8, 8)
    np.testing.assert_allclose(it[0], t.reconstruct(X[:1])[0], atol=1e-5)
    np.testing.assert_allclose(it[-1], t.reconstruct(X[1:2])[0], atol=1e-5)
    np.testing.assert_allclose(t.interpolate(X[0], X[1], 5), it, atol=1e-5)
    assert isinstance(t.model, torch.nn.Module)
    with pytest.raises(ValueError, match="z must have shape"):
        t.decode(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="features"):
        t.encode(np.zeros((2, 10)))
    with pytest.raises(ValueError, match="a=5000"):
        t.interpolate(5000, 1)


FAILED_SAVE = """
import os, resource, signal, sys
import numpy as np, torch
from vae_widgets import datasets
from vae_widgets.vae import VAETrainer
X, y = datasets.digits()
t = VAETrainer(X[:600], labels=y[:600], latent_dim=4, hidden=(32,), visuals_every=None)
t.fit(1)
path = sys.argv[1]
t.save(path, include_data=False)            # the previous checkpoint: small
small = open(path, "rb").read()
# the disk "fills up": the kernel refuses writes past this size (EFBIG), a real failed write
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (len(small) + 4096, resource.RLIM_INFINITY))
t.fit(1)
try:
    t.save(path)                            # with the data: larger than the limit
except OSError as e:
    print("failed:", e)
else:
    print("saved?!")
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
assert open(path, "rb").read() == small, "the previous checkpoint was damaged"
print("leftovers:", sorted(os.listdir(os.path.dirname(path))))
u = VAETrainer.load(path, X=X[:600])
print("loaded epoch", u.epoch)
"""


def test_failed_save_keeps_the_previous_checkpoint(tmp_path):
    """A write that fails half-way (here the kernel's file-size limit, as a full disk would)
    leaves the previous checkpoint byte for byte, loadable, and no temporary file behind.
    Before: torch.save straight onto the target left 0.39 MB of a 1.17 MB file."""
    import subprocess
    import sys
    path = tmp_path / "run.pt"
    res = subprocess.run([sys.executable, "-c", FAILED_SAVE, str(path)], capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "failed: writing the checkpoint" in out, out
    assert "is the disk full?" in out and "before, if any, is unchanged" in out, out
    assert "leftovers: ['run.pt']" in out, out
    assert "loaded epoch 1" in out, out


def test_labels_that_cannot_round_trip_are_refused_before_writing(digits, tmp_path):
    X, _ = digits
    when = pd.date_range("2024-01-01", periods=200, freq="h")
    t = small(X[:200], labels=when.to_numpy(dtype=object))
    t.fit(1)
    path = tmp_path / "dates.pt"
    with pytest.raises(ValueError, match="labels hold .* values") as e:
        t.save(path)
    assert "astype(str)" in str(e.value)
    assert not path.exists() and list(tmp_path.iterdir()) == []
    t.save(path, include_data=False)                  # the model alone is fine
    # text labels round-trip
    u = small(X[:200], labels=when.astype(str).to_numpy())
    u.fit(1)
    u.save(path)
    back = VAETrainer.load(path)
    assert list(back.labels[:3]) == list(when.astype(str)[:3])
