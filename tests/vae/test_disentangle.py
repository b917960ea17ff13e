"""Mutual information and MIG on hand-made cases, and the trainer's per-epoch measurement."""
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import mutual_info_score

from vae_widgets import datasets
from vae_widgets.vae import disentangle as D
from vae_widgets.vae.trainer import VAETrainer

rng = np.random.default_rng(0)
N = 4000
FACTORS = pd.DataFrame({"shape": np.array(["a", "b", "c"])[rng.integers(0, 3, N)],
                        "scale": rng.integers(0, 6, N) / 5.0,
                        "pos": rng.integers(0, 16, N)})


def codes():
    return D.factor_codes(FACTORS)[0]


def test_mi_matches_sklearn():
    z = rng.normal(size=(N, 3)) + codes()[:, :3]
    mi = D.mutual_information(z, codes(), bins=20)
    zb = D.discretize(z, 20)
    for j in range(3):
        for k in range(3):
            assert mi[j, k] == pytest.approx(mutual_info_score(zb[:, j], codes()[:, k]), abs=1e-12)


def test_latents_equal_to_factors_give_mig_one():
    c = codes()
    z = np.c_[c[:, 2] * 0.7 + 1, c[:, 0] - 5.0, c[:, 1] * 3.0]     # one latent per factor
    r = D.disentanglement(z, FACTORS)
    # not exactly 1: the other latents carry a little MI by chance (plug-in estimate bias)
    assert r["mig"] == pytest.approx(1.0, abs=0.01)
    assert list(r["best_dim"]) == [1, 2, 0]
    np.testing.assert_allclose(r["mi_normalized"].max(0), 1.0)
    np.testing.assert_allclose(r["entropy"], [np.log(3), np.log(6), np.log(16)], rtol=0.02)


def test_independent_noise_gives_mig_near_zero():
    r = D.disentanglement(rng.normal(size=(N, 8)), FACTORS)
    assert 0 <= r["mig"] < 0.02
    assert r["mi"].max() < 0.05


def test_one_latent_for_two_factors_or_two_latents_for_one():
    c = codes()
    # z0 encodes shape and scale together; z1 copies z0: no gap for either factor
    both = c[:, 0] * 6 + c[:, 1]
    r = D.disentanglement(np.c_[both, both, rng.normal(size=N)], FACTORS.iloc[:, :2])
    assert r["mig"] < 0.05
    # a single latent: the second-largest MI is 0, so the gap is the normalised MI
    r1 = D.disentanglement(c[:, 2:3].astype(float), FACTORS[["pos"]])
    assert r1["mig"] == pytest.approx(1.0)


def test_mig_from_matrix():
    score, gaps = D.mig(np.array([[1.0, 0.1], [0.4, 0.5]]), np.array([2.0, 0.0]))
    assert gaps[0] == pytest.approx(0.3) and np.isnan(gaps[1]) and score == pytest.approx(0.3)


def test_factor_tables_in_other_forms():
    c = codes()
    z = c[:, ::-1].astype(float)
    for table in (c, {"a": c[:, 0], "b": c[:, 1], "c": c[:, 2]},
                  np.rec.fromarrays(c.T, names="a,b,c")):
        r = D.disentanglement(z, table)
        assert r["mig"] == pytest.approx(1.0, abs=0.01)
    cont = D.factor_codes({"x": rng.normal(size=500)}, bins=10)[0]   # many values -> binned
    assert cont.max() == 9 and cont.min() == 0


@pytest.mark.parametrize("factors,exc,match", [
    (FACTORS.iloc[:10], ValueError, "factors has 10 rows but the data has 4000"),
    (FACTORS.assign(scale=np.nan), ValueError, r"factors\['scale'\] has NaN"),
    (FACTORS.assign(shape=None), ValueError, r"factors\['shape'\] has missing values"),
    (np.zeros((N, 2, 2)), ValueError, "must be a table of factors"),
    (pd.DataFrame(index=range(N)), ValueError, "has no columns"),
])
def test_bad_factor_tables(factors, exc, match):
    with pytest.raises(exc, match=match):
        D.factor_codes(factors, N)


def test_probe_refuses_constant_factor():
    with pytest.raises(ValueError, match=r"\['k'\] take a single value"):
        D.FactorProbe(FACTORS.assign(k=1), N)


# ------------------------------------------------------------------ trainer integration
@pytest.fixture(scope="module")
def shapes():
    return datasets.shapes(1200, seed=0)


def test_trainer_measures_after_each_epoch(shapes):
    X, f = shapes
    t = VAETrainer(X, factors=f, latent_dim=4, visuals_every=None, factor_sample=500,
                   conv_channels=(8, 16), hidden=(32,))
    events = []
    t.events.subscribe(lambda e: e.kind == "disentanglement" and events.append(e.data))
    t.fit(2)
    h = t.mig_history
    assert list(h.epoch) == [1, 2] and len(events) == 2
    assert events[-1]["factors"] == ["shape", "scale", "rotation", "pos_x", "pos_y"]
    mi = np.asarray(events[-1]["mi"])
    assert mi.shape == (4, 5) and (mi >= 0).all()
    assert 0 <= events[-1]["mig"] <= 1 and events[-1]["seconds"] > 0
    # the event is the measurement of the model as it is at the epoch end
    again = t.measure_disentanglement()
    assert again["mig"] == pytest.approx(h.mig.iloc[-1])
    assert len(t.monitor.probe.rows) == 500
    print(f"\nMI/MIG measurement: {1000 * np.mean(h.seconds):.1f} ms per epoch (500 rows)")


def test_checkpoint_keeps_factors_and_mig_history(shapes, tmp_path):
    X, f = shapes
    t = VAETrainer(X[:600], factors=f.iloc[:600], latent_dim=3, visuals_every=None,
                   factor_sample=300, conv_channels=(8,), hidden=(16,), seed=4)
    t.fit(2)
    t.save(tmp_path / "run.pt")
    back = VAETrainer.load(tmp_path / "run.pt")
    assert back.factor_names == t.factor_names
    np.testing.assert_array_equal(back.monitor.probe.rows, t.monitor.probe.rows)
    pd.testing.assert_frame_equal(back.mig_history, t.mig_history)
    assert back.measure_disentanglement()["mig"] == pytest.approx(
        t.measure_disentanglement()["mig"])
    back.fit(1)                                    # measuring goes on after the load
    assert list(back.mig_history.epoch) == [1, 2, 3]


def test_trainer_without_factors_publishes_nothing(shapes):
    X, _ = shapes
    t = VAETrainer(X[:300], latent_dim=2, visuals_every=None, conv_channels=(8,), hidden=(16,))
    kinds = []
    t.events.subscribe(lambda e: kinds.append(e.kind))
    t.fit(1)
    assert "disentanglement" not in kinds and t.mig_history.empty and t.factor_names is None
    with pytest.raises(ValueError, match="no factors to measure against: pass factors="):
        t.measure_disentanglement()


def test_trainer_factor_errors(shapes):
    X, f = shapes
    with pytest.raises(ValueError, match="factors has 1000 rows but the data has 1200"):
        VAETrainer(X, factors=f.iloc[:1000])
    with pytest.raises(ValueError, match="factor_bins must be >= 2"):
        VAETrainer(X, factors=f, factor_bins=1)
    with pytest.raises(TypeError, match="factor_sample must be an integer"):
        VAETrainer(X, factors=f, factor_sample=0.5)
