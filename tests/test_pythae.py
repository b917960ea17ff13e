"""vae_widgets/pythae.py: a real pythae VAE trained by pythae's own TrainingPipeline, watched
unchanged through v.pythae_callback(); Stop ends pythae's loop at the step that saw it."""
import threading
import time

import numpy as np
import pytest
import torch

pytest.importorskip("pythae")

from pythae.models import VAE, AutoModel, VAEConfig  # noqa: E402
from pythae.models.base.base_utils import ModelOutput  # noqa: E402
from pythae.models.nn import BaseDecoder, BaseEncoder  # noqa: E402
from pythae.pipelines import TrainingPipeline  # noqa: E402
from pythae.trainers import BaseTrainerConfig  # noqa: E402

from conftest import front_end_says  # noqa: E402
from vae_widgets import VAEWidget, datasets  # noqa: E402
from vae_widgets.pythae import TrainingStopped  # noqa: E402
from vae_widgets.vae.objective import kl_per_dim  # noqa: E402

pytestmark = pytest.mark.slow
BATCH = 64


@pytest.fixture(scope="module")
def digits():
    X, y = datasets.digits()
    return X.reshape(-1, 1, 8, 8).astype("float32"), y


def pipeline(model, tmp_path, epochs):
    config = BaseTrainerConfig(output_dir=str(tmp_path), num_epochs=epochs, no_cuda=True,
                               per_device_train_batch_size=BATCH, learning_rate=1e-3)
    return TrainingPipeline(training_config=config, model=model)


class Seen:
    """What the model itself computed at each training step (a hook of the test's own)."""

    def __init__(self, model):
        self.steps = []
        model.register_forward_hook(self.keep)
        model.encoder.register_forward_hook(self.keep_posterior)

    def keep_posterior(self, _m, _i, out):
        self._post = (out.embedding.detach(), out.log_covariance.detach())

    def keep(self, model, _i, out):
        if model.training:
            self.steps.append((float(out.recon_loss.detach()), kl_per_dim(*self._post).tolist()))


def test_a_pythae_vae_trained_by_its_pipeline_streams_its_own_terms(fake_comm, tmp_path, digits):
    X, y = digits
    model = VAE(model_config=VAEConfig(input_dim=(1, 8, 8), latent_dim=3,
                                       reconstruction_loss="bce"))
    v = VAEWidget.watch(model, X[1500:], y[1500:])
    seen = Seen(model)
    pipeline(model, tmp_path, 2)(train_data=X[:1024], eval_data=X[1500:],
                                 callbacks=[v.pythae_callback()])
    assert v.status == "done", v.error
    # (the pipeline's sanity check calls the model once in training mode before training)
    assert v.step == len(seen.steps) - 1 == 2 * 1024 // BATCH
    seen.steps = seen.steps[1:]
    assert v.epoch == 2
    h = v.history
    ends = list(h["step"])
    windows = list(zip([0] + ends[:-1], ends))
    recon = np.array([s[0] for s in seen.steps])
    klpd = np.array([s[1] for s in seen.steps])
    np.testing.assert_allclose(h["recon"], [recon[a:b].mean() for a, b in windows], rtol=1e-5)
    np.testing.assert_allclose(np.array(list(h["kl_per_dim"])),
                               [klpd[a:b].mean(0) for a, b in windows], rtol=1e-5, atol=1e-7)
    assert list(v.epoch_history["epoch"]) == [1, 2]
    # the first epoch was validated on X_val through pythae's own encoder (how many units
    # are awake after 16 steps depends on the initial weights: not asserted)
    first = v.epoch_history.iloc[0]
    assert first["active_units"] >= 0 and len(first["val_kl_per_dim"]) == 3
    # our hooks came off; the test's own two stay
    assert len(model._forward_hooks) == 1 and len(model.encoder._forward_hooks) == 1
    v.close()


def test_stop_in_the_widget_ends_pythae_training_at_that_step(fake_comm, tmp_path, digits):
    X, y = digits
    model = VAE(model_config=VAEConfig(input_dim=(1, 8, 8), latent_dim=3))
    v = VAEWidget.watch(model, X[1500:], y[1500:])
    done = threading.Event()

    def press():
        while v.step < 5:
            time.sleep(0.005)
        front_end_says(v, {"type": "command", "action": "stop"})
        done.set()

    threading.Thread(target=press, daemon=True).start()
    with pytest.raises(TrainingStopped, match=r"Stopped from the widget at step (\d+)"):
        pipeline(model, tmp_path, 50)(train_data=X[:1024], callbacks=[v.pythae_callback()])
    assert done.is_set() and v.status == "stopped"
    assert 5 <= v.step < 50 * 1024 // BATCH
    assert not model._forward_hooks and not model.encoder._forward_hooks
    v.close()


def test_a_widget_that_trains_its_own_model_has_no_pythae_callback(fake_comm, digits):
    v = VAEWidget(digits[0][:200].reshape(200, -1), image_shape=(8, 8))
    with pytest.raises(RuntimeError, match=r"pythae_callback\(\) is for a widget that watches"):
        v.pythae_callback()
    v.close()


class Encoder(BaseEncoder):
    """A user's own encoder: pythae saves it with cloudpickle, hooks and all."""

    def __init__(self, latent=3):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 32),
                                        torch.nn.ReLU())
        self.mu, self.log_var = torch.nn.Linear(32, latent), torch.nn.Linear(32, latent)

    def forward(self, x):
        h = self.body(x)
        return ModelOutput(embedding=self.mu(h), log_covariance=self.log_var(h))


class Decoder(BaseDecoder):
    def __init__(self, latent=3):
        super().__init__()
        self.body = torch.nn.Sequential(torch.nn.Linear(latent, 64), torch.nn.Sigmoid(),
                                        torch.nn.Unflatten(1, (1, 8, 8)))

    def forward(self, z):
        return ModelOutput(reconstruction=self.body(z))


def test_a_model_with_its_own_encoder_is_saved_by_pythae_without_our_hooks(
        fake_comm, tmp_path, digits):
    """pythae deep-copies the model (its best model) after each epoch and cloudpickles a
    custom encoder/decoder into its checkpoints and final model: none of our hooks may
    ride along (they reach the widget's locks, and a saved model must load without us)."""
    X, y = digits
    config = VAEConfig(input_dim=(1, 8, 8), latent_dim=3, reconstruction_loss="bce")
    model = VAE(model_config=config, encoder=Encoder(), decoder=Decoder())
    v = VAEWidget.watch(model, X[1500:], y[1500:])
    trainer = BaseTrainerConfig(output_dir=str(tmp_path), num_epochs=2, no_cuda=True,
                                per_device_train_batch_size=BATCH, steps_saving=1)
    TrainingPipeline(training_config=trainer, model=model)(
        train_data=X[:512], eval_data=X[1500:], callbacks=[v.pythae_callback()])
    assert v.status == "done", v.error
    assert v.step == 2 * 512 // BATCH and v.epoch == 2
    run = next(tmp_path.iterdir())
    saved = sorted(p.name for p in run.iterdir())
    assert saved == ["checkpoint_epoch_1", "checkpoint_epoch_2", "final_model"], saved
    loaded = AutoModel.load_from_folder(str(run / "final_model"))
    for m in (model, loaded):
        assert not any(sub._forward_hooks for sub in m.modules()), m
    v.close()
