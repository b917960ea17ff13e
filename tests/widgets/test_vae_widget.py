"""VAEWidget traits and messages, through a fake comm (no browser)."""
import time

import numpy as np
import pytest

from conftest import front_end_says
from vae_widgets import VAEWidget, datasets
from vae_widgets.widgets import vae_events


@pytest.fixture(scope="module")
def digits():
    return datasets.digits()


def wait_for(pred, timeout=30):
    t0 = time.time()
    while not pred():
        assert time.time() - t0 < timeout, "timed out"
        time.sleep(0.01)


def test_training_streams_rows_and_state(fake_comm, digits):
    X, y = digits
    v = VAEWidget(X[:600], labels=y[:600], image_shape=(8, 8), latent_dim=4, epochs=3,
                  metrics_every=2, visuals_every=0.05)
    v.train()
    v.wait(60)
    assert v.status == "done" and v.epoch == 3.0 and v.target_epoch == 3.0
    msgs = v.comm.custom("metrics")
    assert msgs, "no metrics message"
    row = msgs[0][0]["rows"][0]
    assert len(row["kl_per_dim"]) == 4
    # the curves carry the negative ELBO (a loss): recon + KL, positive for Bernoulli data
    assert row["elbo"] == pytest.approx(row["recon"] + row["kl"], rel=1e-5) and row["elbo"] > 0
    steps = [r["step"] for m, _ in msgs for r in m["rows"]]
    assert steps == sorted(steps) and steps[-1] == v.step
    # synced history matches the trainer's, kl_per_dim travels as float32 rows x dims
    hist = v.history
    assert v.metrics["step"] == [float(s) for s in hist.step]
    assert v.kl_per_dim.shape == (len(hist), 4) and v.kl_per_dim.dtype == np.float32
    assert set(v.epoch_metrics) >= {"epoch", "train_elbo", "val_elbo"}
    val = v.epoch_metrics["val_elbo"]
    assert len(v.epoch_metrics["epoch"]) == 3
    # epochs without validation (val_every="auto" on digits: epochs 1 and 3) travel as None
    assert val[1] is None and val[0] > 0 and val[2] > 0
    assert set(v.grids) == {"reconstructions", "samples", "traversal", "interpolation"}
    rows, cols, c, h, w = v.grids["reconstructions"]["shape"]
    assert (rows, c, h, w) == (2, 1, 8, 8)
    assert v.grid_reconstructions.shape == (rows, cols, c, h, w)
    assert v.grid_traversal.dtype == np.uint8 and "8×8" in v.info and "Bernoulli" in v.info


def test_long_histories_are_decimated_in_the_trait(fake_comm, digits, monkeypatch):
    X, _ = digits
    monkeypatch.setattr(vae_events, "TRAIT_ROWS", 10)
    v = VAEWidget(X[:600], latent_dim=2, epochs=4, metrics_every=1, visuals_every=None)
    v.train()
    v.wait(60)
    assert len(v.history) > 10
    assert len(v.metrics["step"]) <= 10 and v.metrics["step"][-1] == float(v.history.step.iloc[-1])
    assert v.kl_per_dim.shape == (len(v.metrics["step"]), 2)


def test_commands_pause_beta_change_and_stop(fake_comm, digits):
    X, y = digits
    v = VAEWidget(X, latent_dim=4, epochs=500, visuals_every=0.2)
    front_end_says(v, {"type": "command", "action": "run"})
    wait_for(lambda: v.step >= 20)
    front_end_says(v, {"type": "command", "action": "set", "params": {"beta": "4"}})
    assert v.notice == "" and v.beta == 4.0
    wait_for(lambda: v.trainer.config.beta == 4.0 and any("beta" in m["label"] for m in v.marks))
    front_end_says(v, {"type": "command", "action": "set", "params": {"kl_schedule": "sideways"}})
    assert "kl_schedule" in v.notice and v.kl_schedule == "constant"
    front_end_says(v, {"type": "command", "action": "set", "params": {"lr": -1}})
    assert "lr" in v.notice and v.lr == 1e-3
    front_end_says(v, {"type": "command", "action": "pause"})
    wait_for(lambda: v.status == "paused", 5)
    held = v.trainer.step
    time.sleep(0.3)
    assert v.trainer.step == held
    front_end_says(v, {"type": "command", "action": "resume"})
    wait_for(lambda: v.trainer.step > held, 5)
    t0 = time.perf_counter()
    front_end_says(v, {"type": "command", "action": "stop"})
    v.wait(5)
    assert time.perf_counter() - t0 < 1.0 and v.status == "stopped"
    late = v.history[v.history.step > v.marks[-1]["step"]]
    assert (late.beta == 4.0).all()


def test_python_access_and_a_second_train_continues(fake_comm, digits):
    X, y = digits
    v = VAEWidget(X[:400], image_shape=(8, 8), latent_dim=3, epochs=1, visuals_every=None)
    v.train()
    v.wait(60)
    mu, logvar = v.encode(X[:5])
    assert mu.shape == (5, 3) and logvar.shape == (5, 3)
    assert v.decode(mu).shape[0] == 5 and v.reconstruct(X[:5]).shape[0] == 5
    assert v.sample(4, temperature=0.5).shape[0] == 4
    assert v.traverse(0, np.linspace(-2, 2, 5)).shape[0] == 5
    assert v.interpolate(0, 1, steps=6).shape[0] == 6
    v.train(2)
    v.wait(60)
    assert v.epoch == 3.0 and v.epochs == 2


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epochs=0), ValueError, "epochs must be >= 1"),
    (dict(latent_dim=0), ValueError, "latent_dim"),
    (dict(image_shape=(7, 7)), ValueError, r"image_shape=\(7, 7\) holds 49 pixels but the data has 64"),
    (dict(kl_schedule="sometimes"), ValueError, "kl_schedule"),
    (dict(batch_size=10_000), ValueError, "batch_size"),
])
def test_bad_input_names_the_argument(fake_comm, digits, kwargs, error, match):
    X, _ = digits
    with pytest.raises(error, match=match):
        VAEWidget(X, **kwargs)


def test_a_long_run_streams_increments_and_syncs_the_history_only_when_due(fake_comm, digits):
    """Each epoch row travels once, as a message; the whole (decimated) history is synced
    when the run ends (or pauses) and when a view says hello - not again and again while
    training (that made long runs ever slower: 93 -> 37 epochs/s)."""
    from conftest import front_end_says
    X, _ = digits
    v = VAEWidget(X[:400], image_shape=(8, 8), latent_dim=3, visuals_every=None, epochs=25,
                  val_every=1, batch_size=100, publish_every=0)
    comm = v.comm
    # a page reloaded at epoch 10: its view says hello and gets the whole state at once
    v.trainer.events.subscribe(lambda e: front_end_says(v, {"type": "hello"})
                               if e.kind == "epoch" and e.data["epoch"] == 10 else None)
    v.train()
    v.wait(60)
    rows = [m["row"] for m, _ in comm.custom("epoch")]
    assert [r["epoch"] for r in rows] == list(range(1, 26))
    assert all(r["val_elbo"] is not None and r["val_elbo"] > 0 for r in rows)   # -ELBO
    assert sum(len(m["rows"]) for m, _ in comm.custom("metrics")) == len(v.history)
    syncs = [s for s in comm.states() if "epoch_metrics" in s or "metrics" in s]
    assert len(syncs) == 2                           # the hello at epoch 10, the run's end
    assert syncs[0]["epoch_metrics"]["epoch"] == list(range(1, 11))
    assert v.epoch_metrics["epoch"] == list(range(1, 26))
    assert len(v.metrics["step"]) == len(v.history)


def test_set_params_checks_every_value_before_applying_any(fake_comm, digits):
    X, _ = digits
    v = VAEWidget(X, image_shape=(8, 8), latent_dim=3)
    with pytest.raises(ValueError, match="lr must be > 0"):
        v.set_params(epochs=50, lr=0)
    assert v.epochs == 30 and v.trainer.config.lr == 1e-3      # nothing applied
    with pytest.raises(TypeError, match="lr must be a number, got 'abc'"):
        v.set_params(lr="abc")
    with pytest.raises(ValueError, match="epochs: '5x' is not a number"):
        v.set_params(epochs="5x", beta=2)
    assert v.trainer.config.beta == 1.0
    assert v.set_params(epochs="7", beta="2") == {"beta": 2.0} and v.epochs == 7


def test_labels_with_missing_values(fake_comm, digits):
    """Not conditional: None / NaN mixed with text are fine (one '(missing)' category);
    conditional: every row needs a class."""
    X, _ = digits
    lab = np.array([None if i % 7 == 0 else ("a" if i % 2 else float("nan"))
                    for i in range(len(X))], dtype=object)
    v = VAEWidget(X, labels=lab, image_shape=(8, 8), latent_dim=3, visuals_every=None)
    v.train(1)
    v.wait(60)
    assert v.status == "done"
    with pytest.raises(ValueError, match="conditional=True needs a class for every row"):
        VAEWidget(X, labels=lab, image_shape=(8, 8), conditional=True)


# ---------------------------------------------------------------- tables: the TSNEWidget's API
def penguin_like(n=240, seed=3):
    """A table as users bring it: numeric features with gaps, a text label, a name index."""
    import pandas as pd
    rng = np.random.default_rng(seed)
    species = rng.choice(["Adelie", "Gentoo", "Chinstrap"], n)
    shift = pd.Series(species).map({"Adelie": 0.0, "Gentoo": 3.0, "Chinstrap": -2.0}).to_numpy()
    df = pd.DataFrame({"bill": rng.normal(size=n) + shift, "flipper": rng.normal(size=n) * 2,
                       "mass": rng.normal(size=n) + shift / 2, "island": rng.choice(["a", "b"], n),
                       "species": species},
                      index=pd.Index([f"p{i:03d}" for i in range(n)], name="penguin"))
    df.loc[df.index[[5, 6, 100]], "bill"] = np.nan
    return df


def test_a_table_takes_features_labels_and_missing_as_the_tsne_widget_does(fake_comm):
    df = penguin_like()
    v = VAEWidget(df, features=["bill", "flipper", "mass"], labels="species", missing="drop",
                  latent_dim=2, epochs=1, visuals_every=None)
    t = v.trainer
    assert t.feature_names == ["bill", "flipper", "mass"] and t.n_features == 3
    assert len(t.data) == len(df) - 3
    assert list(v.rows) == [i for i in df.index if i not in ("p005", "p006", "p100")]
    np.testing.assert_array_equal(t.labels, df.loc[v.rows, "species"].to_numpy())
    assert "3 rows with missing values left out (missing='drop')" in v.info
    np.testing.assert_allclose(t.data, df.loc[v.rows, ["bill", "flipper", "mass"]]
                               .to_numpy(np.float32))


def test_a_table_without_features_trains_on_its_numeric_columns(fake_comm):
    df = penguin_like().dropna()
    v = VAEWidget(df, labels="species", latent_dim=2, visuals_every=None)
    assert v.trainer.feature_names == ["bill", "flipper", "mass"]     # not island, species
    assert list(v.rows) == list(df.index)


def test_a_table_with_gaps_is_refused_by_default_naming_the_opt_in(fake_comm):
    with pytest.raises(ValueError, match=r"'bill'.*missing='drop'"):
        VAEWidget(penguin_like(), labels="species", latent_dim=2)
    with pytest.raises(TypeError, match="features= picks columns of a DataFrame"):
        VAEWidget(np.zeros((50, 3)), features=["a"])
