"""Bad input is refused in the VAETrainer constructor with a message naming the argument."""
import numpy as np
import pandas as pd
import pytest
import torch

from vae_widgets import datasets
from vae_widgets.vae import VAEConfig, VAETrainer


@pytest.fixture(scope="module")
def X():
    return datasets.digits()[0][:200]


def make(X, **kw):
    kw.setdefault("hidden", (16,))
    kw.setdefault("visuals_every", None)
    return VAETrainer(X, **kw)


@pytest.mark.parametrize("bad,exc,words", [
    (np.array([["a", "b"]] * 10), TypeError, ["X", "numeric"]),
    (np.array([[1.0, np.nan]] * 10), ValueError, ["X", "NaN", "drop or impute"]),
    (np.array([[1.0, np.inf]] * 10), ValueError, ["X", "inf"]),
    (np.arange(10.0), ValueError, ["X", "2-D"]),
    (np.zeros((10, 1, 1, 2, 2)), ValueError, ["X", "(n, C, H, W)"]),
    (np.zeros((10, 8, 8, 3)), ValueError, ["X", "channels-last", "transpose"]),
    (None, TypeError, ["X"]),
])
def test_bad_data(bad, exc, words):
    with pytest.raises(exc) as e:
        make(bad)
    for w in words:
        assert w in str(e.value)


def test_dataframe_with_text_column():
    df = pd.DataFrame({"a": np.arange(10.0), "b": list("abcdefghij")})
    with pytest.raises(TypeError, match=r"X: .*non-numeric columns \['b'\]"):
        make(df)


@pytest.mark.parametrize("shape,words", [
    ((7, 7), ["image_shape", "49", "64", "(8, 8)"]),
    ((2, 4, 8), ["image_shape", "channel"]),
    ((8, -8), ["image_shape", "positive"]),
    ("8x8", ["image_shape"]),
])
def test_wrong_image_shape(X, shape, words):
    with pytest.raises((ValueError, TypeError)) as e:
        make(X, image_shape=shape)
    for w in words:
        assert w in str(e.value)


def test_image_stack_disagreeing_with_image_shape(X):
    with pytest.raises(ValueError, match=r"image_shape=\(4, 4\).*\(8, 8\)"):
        make(X.reshape(-1, 8, 8), image_shape=(4, 4))


@pytest.mark.parametrize("kw,exc,words", [
    (dict(latent_dim=0), ValueError, ["latent_dim", ">= 1"]),
    (dict(latent_dim=2.5), TypeError, ["latent_dim", "integer"]),
    (dict(lr=0.0), ValueError, ["lr", "> 0"]),
    (dict(lr=-1e-3), ValueError, ["lr"]),
    (dict(lr="fast"), TypeError, ["lr", "number"]),
    (dict(lr=float("nan")), ValueError, ["lr", "finite"]),
    (dict(beta=-1.0), ValueError, ["beta", ">= 0"]),
    (dict(beta=None), TypeError, ["beta"]),
    (dict(kl_schedule="cosine"), ValueError, ["kl_schedule", "constant", "linear", "cyclical"]),
    (dict(likelihood="poisson"), ValueError, ["likelihood", "bernoulli", "gaussian"]),
    (dict(architecture="resnet"), ValueError, ["architecture", "mlp", "conv"]),
    (dict(ramp_ratio=0.0), ValueError, ["ramp_ratio"]),
    (dict(n_cycles=0), ValueError, ["n_cycles"]),
    (dict(free_bits=-0.1), ValueError, ["free_bits"]),
    (dict(warmup_epochs=-1), ValueError, ["warmup_epochs"]),
    (dict(val_fraction=0.95), ValueError, ["val_fraction"]),
    (dict(batch_size=0), ValueError, ["batch_size"]),
    (dict(hidden=()), ValueError, ["hidden"]),
    (dict(hidden=(16, 0)), ValueError, ["hidden[1]"]),
    (dict(conditional="yes"), TypeError, ["conditional"]),
    (dict(device="tpu"), ValueError, ["device", "cpu"]),
    (dict(standardize="maybe"), ValueError, ["standardize"]),
    (dict(seed=-1), ValueError, ["seed"]),
])
def test_bad_settings(X, kw, exc, words):
    with pytest.raises(exc) as e:
        make(X, **kw)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_unknown_argument_suggests_the_right_name(X):
    with pytest.raises(TypeError, match=r"unknown argument 'laten_dim'.*'latent_dim'"):
        make(X, laten_dim=4)


def test_bernoulli_needs_data_in_unit_interval(X):
    with pytest.raises(ValueError) as e:
        make(X * 16, likelihood="bernoulli")
    msg = str(e.value)
    assert "likelihood='bernoulli'" in msg and "[0, 16]" in msg and "gaussian" in msg


def test_bernoulli_with_standardize(X):
    with pytest.raises(ValueError, match="standardize=True"):
        make(X, likelihood="bernoulli", standardize=True)


def test_labels_for_conditional(X):
    y = np.arange(len(X)) % 3
    with pytest.raises(ValueError, match=r"labels has 199 entries but the data has 200 rows"):
        make(X, labels=y[:-1], conditional=True)
    with pytest.raises(ValueError, match=r"conditional=True needs labels"):
        make(X, conditional=True)
    with pytest.raises(ValueError, match=r"labels has 1200 distinct values"):
        make(np.tile(X, (6, 1)), labels=np.arange(1200) * 0.5, conditional=True)
    with pytest.raises(ValueError, match="single class"):
        make(X, labels=np.zeros(len(X)), conditional=True)


def test_batch_size_larger_than_training_data(X):
    with pytest.raises(ValueError) as e:
        make(X, batch_size=190, val_fraction=0.1)   # 180 training rows
    msg = str(e.value)
    assert "batch_size=190" in msg and "180 training rows" in msg and "<= 180" in msg


def test_conv_without_images(X):
    with pytest.raises(ValueError, match="architecture='conv' needs image data"):
        make(X, architecture="conv")


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_requested_without_gpu(X):
    with pytest.raises(ValueError, match=r"device='cuda'.*no CUDA GPU.*'auto'"):
        make(X, device="cuda")


def test_bad_config_object(X):
    with pytest.raises(TypeError, match="config must be a VAEConfig"):
        VAETrainer(X, config={"latent_dim": 2})
    t = VAETrainer(X, config=VAEConfig(latent_dim=3, hidden=(8,)), visuals_every=None)
    assert t.config.latent_dim == 3


def test_fit_epochs_checked(X):
    t = make(X)
    with pytest.raises(ValueError, match="epochs"):
        t.fit(0)
    with pytest.raises(TypeError, match="epochs"):
        t.fit(1.5)


def test_accepts_numpy_pandas_torch_and_image_stacks(X):
    y = np.arange(len(X)) % 10
    for data in (X, pd.DataFrame(X), torch.as_tensor(X), X.reshape(-1, 8, 8),
                 X.reshape(-1, 1, 8, 8), X.tolist()):
        t = make(data, labels=pd.Series(y))
        assert t.n_features == 64
    assert make(X.reshape(-1, 8, 8)).image_shape == (8, 8)
    assert make(X.reshape(-1, 1, 8, 8)).image_shape == (1, 8, 8)
    assert make(pd.DataFrame(X)).feature_names[:2] == ["0", "1"]
