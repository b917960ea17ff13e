"""Anomaly scores from a trained VAE (vae_widgets.vae.anomaly): values, options, bad inputs,
and the worked case (digits 0-8 as normal data, held-out 9s as anomalies)."""
import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import roc_auc_score

from vae_widgets import datasets
from vae_widgets.vae.objective import Likelihood, kl_per_dim
from vae_widgets.vae.trainer import VAETrainer

QUIET = dict(visuals_every=None, seed=0)


@pytest.fixture(scope="module")
def tabular(small_data):
    X, y = small_data
    t = VAETrainer(X, latent_dim=3, hidden=(16,), batch_size=64, **QUIET).fit(2)
    return t, X, y


@pytest.fixture(scope="module")
def digits_model():
    X, y = datasets.digits()
    t = VAETrainer(X[:300], image_shape=(8, 8), latent_dim=4, architecture="mlp", hidden=(32,),
                   **QUIET).fit(1)
    return t, X[300:340]


def hand_scores(t, X, z_of):
    """One row at a time through the model with the package's batch-mean objective."""
    model = t.model
    model.eval()
    lik = t._likelihood
    out = []
    with torch.no_grad():
        for row in np.asarray(X, dtype=np.float64).reshape(len(X), -1):
            x = torch.as_tensor((row - t._mean) / t._std, dtype=torch.float32).reshape(1, -1)
            mu, logvar = model.encode(x)
            rec = float(lik.nll(model.decode(z_of(mu, logvar)), x, model.out_log_var))
            kl = float(kl_per_dim(mu, logvar).sum())
            out.append((rec + kl, rec, kl))
    model.train()
    return np.array(out)


@pytest.mark.parametrize("which", ["tabular", "digits_model"])
def test_posterior_mean_scores_match_a_hand_loop(which, request):
    t, X = request.getfixturevalue(which)[:2]
    df = t.anomaly_scores(X, z="mean")
    assert list(df.columns) == ["neg_elbo", "reconstruction", "kl"]
    assert isinstance(df.index, pd.RangeIndex) and len(df) == len(X)
    expect = hand_scores(t, X, lambda mu, lv: mu)
    np.testing.assert_allclose(df[["neg_elbo", "reconstruction", "kl"]].to_numpy(), expect,
                               rtol=1e-4, atol=1e-3)


def test_sampled_scores_are_an_elbo_estimate(digits_model):
    t, X = digits_model
    X = X[:6]
    df = t.anomaly_scores(X)
    again = t.anomaly_scores(X)
    pd.testing.assert_frame_equal(df, again)                      # fixed noise: repeatable
    assert not df.equals(t.anomaly_scores(X, seed=1))
    np.testing.assert_allclose(df.neg_elbo, df.reconstruction + df.kl, rtol=1e-6)
    np.testing.assert_allclose(df.kl, t.anomaly_scores(X, z="mean").kl, rtol=1e-5)
    # many samples: the reconstruction term converges to a hand Monte Carlo estimate
    many = t.anomaly_scores(X, n_samples=4000)
    torch.manual_seed(5)
    hand = np.mean([hand_scores(t, X, lambda mu, lv: mu + torch.randn_like(mu) * torch.exp(0.5 * lv))
                    for _ in range(300)], axis=0)
    np.testing.assert_allclose(many.reconstruction, hand[:, 1], rtol=0.03)
    # importance weighting tightens the bound on -log p(x) (on average over rows)
    assert "neg_iwae" in many and (many.neg_iwae < many.neg_elbo).mean() > 0.8


def test_scoring_leaves_the_model_as_it_was(tabular):
    t, X, y = tabular
    before = {k: v.clone() for k, v in t.model.state_dict().items()}
    t.model.train()
    df = t.anomaly_scores(X, labels=y)
    assert t.model.training
    assert all(torch.equal(before[k], v) for k, v in t.model.state_dict().items())
    assert list(df.label) == list(y)
    assert np.isfinite(df.to_numpy(dtype=float)[:, :3]).all()


def test_bad_inputs_are_named(tabular, digits_model):
    t, X, _ = tabular
    with pytest.raises(ValueError, match="features per row"):
        t.anomaly_scores(X[:, :5])
    with pytest.raises(ValueError, match="z="):
        t.anomaly_scores(X, z="median")
    with pytest.raises(ValueError, match="n_samples"):
        t.anomaly_scores(X, n_samples=0)
    with pytest.raises(ValueError, match="n_samples=1"):
        t.anomaly_scores(X, z="mean", n_samples=4)
    with pytest.raises(ValueError, match="labels has 3 entries"):
        t.anomaly_scores(X, labels=[0, 1, 2])
    with pytest.raises(TypeError):
        t.anomaly_scores("not data")
    fresh = VAETrainer(X, latent_dim=2, **QUIET)
    with pytest.raises(ValueError, match="not been trained"):
        fresh.anomaly_scores(X)
    td, Xd = digits_model
    with pytest.raises(ValueError, match="Bernoulli"):
        td.anomaly_scores(Xd * 16)


def test_digit_nines_score_higher_than_held_out_normal_digits():
    """The worked case of notebook 05: train on 0-8 only; 9s are the anomalies."""
    X, y = datasets.digits()
    rng = np.random.default_rng(0)
    normal = np.flatnonzero(y != 9)
    rng.shuffle(normal)
    test_normal, train = normal[:300], normal[300:]
    t = VAETrainer(X[train], image_shape=(8, 8), latent_dim=8, architecture="mlp",
                   **QUIET).fit(20)
    X_test = np.r_[X[test_normal], X[y == 9]]
    is_nine = np.r_[np.zeros(len(test_normal)), np.ones((y == 9).sum())]
    df = t.anomaly_scores(X_test)
    auroc = roc_auc_score(is_nine, df.neg_elbo)
    print(f"\nAUROC (-ELBO, 9s vs held-out 0-8): {auroc:.3f}")
    assert auroc > 0.65, f"AUROC {auroc:.3f}: 9s are not scored as anomalous"
