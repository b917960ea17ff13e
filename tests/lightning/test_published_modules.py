"""Lightning modules as people publish them, unchanged: ``training_step`` returns only its
loss and logs the terms (lightning-bolts' ``VAE``, a tutorial's module, a forward-only
model). The curves take the reconstruction from the module's logs and the KL per
dimension from the very posterior the step computed (vae/posterior.py), the view
says so, and the module is left as it was."""
import pickle

import numpy as np
import pytest

pytest.importorskip("lightning")

from support.lightning_run import (BoltsVAE, ForwardOnlyVAE, TutorialVAE, digits_tensor,  # noqa: E402
                                    loader, trainer)
from vae_widgets import VAEWidget  # noqa: E402
from vae_widgets.vae.objective import kl_per_dim  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def val():
    X, y = digits_tensor()
    return X[1500:1800], y[1500:1800]


def fit_once(v, model, epochs=2, **kw):
    trainer("auto", 1, [v.lightning_callback(metrics_every=1, **kw)], max_epochs=epochs) \
        .fit(model, loader(256, with_labels=isinstance(model, BoltsVAE)))


def windows(history):
    """The step ranges [start, end) each metric row averages."""
    ends = list(history["step"])
    return list(zip([0] + ends[:-1], ends))


def sources_alert(v):
    found = [a for a in v.alerts if a["kind"] == "sources"]
    assert len(found) == 1, v.alerts
    return found[0]["message"]


def test_bolts_vae_as_published_is_watched_unchanged(fake_comm, val):
    model = BoltsVAE()
    v = VAEWidget.watch(model, *val, image_shape=(8, 8))
    fit_once(v, model)
    assert v.status == "done", v.error
    h = v.history
    assert v.step == len(model.logged) == 2 * 256 // 16
    # the reconstruction is what the module logged, averaged over each row's steps
    logged = [s["recon_loss"] for s in model.logged]
    np.testing.assert_allclose(h["recon"], [np.mean(logged[a:b]) for a, b in windows(h)],
                               rtol=1e-5)
    # the KL is computed from the posterior, per dimension, so it is not bolts' own MC
    # estimate times kl_coeff: it is positive and has one entry per latent dimension
    assert all(len(k) == 3 and min(k) >= 0 for k in h["kl_per_dim"])
    # epoch 1 is always validated (later ones as the validation time budget allows)
    assert v.epoch_history["active_units"].iloc[0] >= 0
    msg = sources_alert(v)
    assert "'train_recon_loss'" in msg and "fc_mu / fc_var" in msg
    # nothing of ours is left on the module: no hooks, and it pickles as before
    assert not model.fc_mu._forward_hooks and not model.fc_var._forward_hooks
    pickle.dumps(model)
    v.close()


def test_a_tutorial_module_with_encode_gives_the_kl_of_the_posterior_its_steps_used(
        fake_comm, val):
    model = TutorialVAE()
    v = VAEWidget.watch(model, *val, image_shape=(8, 8))
    fit_once(v, model, epochs=1)
    assert v.status == "done", v.error
    h = v.history
    per_step = np.array([kl_per_dim(mu, lv).tolist() for mu, lv in model.posteriors])
    np.testing.assert_allclose(np.array(list(h["kl_per_dim"])),
                               [per_step[a:b].mean(0) for a, b in windows(h)], rtol=1e-5, atol=1e-7)
    assert "'recon_loss'" in sources_alert(v) and "encode(x)" in sources_alert(v)
    assert "encode" not in model.__dict__          # the method is the class's again
    v.close()


def test_a_term_logged_under_a_name_of_its_own_is_found_by_recon_log(fake_comm, val):
    model = TutorialVAE(recon_name="bernoulli_nll")
    v = VAEWidget.watch(model, *val, image_shape=(8, 8))
    with pytest.raises(ValueError, match=r"logged no reconstruction term \(logged: \['bernoulli_"
                                         r"nll', 'kl'\]\).*recon_log='your_name'"):
        fit_once(v, model, epochs=1)
    assert v.status == "error" and "recon_log=" in v.error
    assert "encode" not in model.__dict__          # a failed fit leaves the module too
    v.close()
    model = TutorialVAE(recon_name="bernoulli_nll")
    v = VAEWidget.watch(model, *val, image_shape=(8, 8))
    fit_once(v, model, epochs=1, recon_log="bernoulli_nll")
    assert v.status == "done" and "'bernoulli_nll'" in sources_alert(v)
    v.close()


def test_a_forward_only_module_is_watched_and_what_needs_decode_says_so(fake_comm, val):
    model = ForwardOnlyVAE()
    v = VAEWidget.watch(model, *val, image_shape=(8, 8))
    fit_once(v, model, epochs=1)
    assert v.status == "done", v.error
    assert v.step == 256 // 16 and len(v.history) > 0
    assert "forward(x) -> (x_hat, mu, logvar)" in sources_alert(v)
    assert not model._forward_hooks
    v.close()
