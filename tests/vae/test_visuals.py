"""Image grids: shapes, dtypes, pixel mapping and labels, for images and tabular data."""
import numpy as np
import pytest

from vae_widgets import datasets
from vae_widgets.vae import VAETrainer
from vae_widgets.vae.visuals import KINDS, Display


@pytest.fixture(scope="module")
def image_trainer():
    X, y = datasets.digits()
    t = VAETrainer(X, labels=y, image_shape=(8, 8), architecture="mlp", latent_dim=6,
                   hidden=(32,), visuals_every=None)
    t.fit(2)
    return t


def test_image_grids(image_trainer):
    t = image_trainer
    grids = t.render_visuals(publish=False)
    assert tuple(grids) == KINDS
    expect = {"reconstructions": (2, 8), "samples": (4, 8), "traversal": (6, 9),
              "interpolation": (3, 10)}
    for kind, (arr, labels) in grids.items():
        assert arr.dtype == np.uint8 and arr.shape == (*expect[kind], 1, 8, 8), kind
        assert labels["kind"] == kind and labels["layout"] == "image"
        assert len(labels["rows"]) == arr.shape[0] and len(labels["cols"]) == arr.shape[1]
        assert arr.max() > 0                                # not blank
    rec, lab = grids["reconstructions"]
    assert lab["rows"] == ["original", "reconstruction"]
    # the first row are the originals, pixel for pixel
    orig = t.data[lab["indices"]].reshape(len(lab["indices"]), 1, 8, 8)
    np.testing.assert_array_equal(rec[0], np.rint(orig * 255).astype(np.uint8))
    # originals are chosen one per class first
    assert len({t.labels[i] for i in lab["indices"]}) == len(lab["indices"])
    tr, tl = grids["traversal"]
    kl = np.asarray(t.monitor.last_kl)
    assert tl["dims"] == np.argsort(-kl, kind="stable").tolist()   # sorted by KL
    assert tl["values"][0] == -3.0 and tl["values"][-1] == 3.0
    assert tl["cols"][0] == "-3.0σ"


def test_live_visual_parameters(image_trainer):
    t = image_trainer
    t.set_params(sample_temperature=0.0, traverse_base=7, interpolation_pairs=[(1, 2)])
    g = t.render_visuals(["samples", "traversal", "interpolation"], publish=False)
    s = g["samples"][0]
    assert (s == s[0, 0]).all()                            # temperature 0: all the same
    assert g["traversal"][1]["base"] == 7
    assert g["interpolation"][0].shape[0] == 1 and g["interpolation"][1]["pairs"] == [[1, 2]]
    t.set_params(sample_temperature=1.0, traverse_base=None, interpolation_pairs=None)
    with pytest.raises(ValueError, match="interpolation_pairs"):
        t.set_params(interpolation_pairs=[(0, 10**7)])


def test_images_events_carry_grids():
    X, _ = datasets.digits(return_images=True)
    t = VAETrainer(X[:300], latent_dim=3, hidden=(16,), conv_channels=(4,),
                   visuals_every=0.01, max_traversal_dims=2, traversal_steps=5, n_samples=6)
    got = {}
    t.events.subscribe(lambda e: got.__setitem__(e.data["grid"], e.data)
                       if e.kind == "images" else None)
    t.fit(1)
    assert set(got) == set(KINDS)
    assert got["traversal"]["array"].shape == (2, 5, 1, 8, 8)
    assert got["samples"]["array"].shape == (1, 6, 1, 8, 8)
    assert set(got["samples"]) == {"grid", "array", "labels", "step", "epoch"}


def test_tabular_data_as_feature_heatmaps():
    import pandas as pd
    X, _ = datasets.blobs(n=300, dims=5, clusters=3)
    df = pd.DataFrame(X * 10 + 3, columns=list("abcde"))
    t = VAETrainer(df, latent_dim=2, hidden=(16,), visuals_every=None, n_reconstructions=4)
    t.fit(2)
    g = t.render_visuals(publish=False)
    arr, lab = g["reconstructions"]
    assert arr.shape == (2, 4, 1, 1, 5) and arr.dtype == np.uint8
    assert lab["layout"] == "features" and lab["scale"] == "zscore"
    assert lab["feature_names"] == list("abcde") and lab["value_range"] == [-3.0, 3.0]
    assert g["traversal"][0].shape == (2, 9, 1, 1, 5)
    # output of the API is in data units, not standardised
    assert abs(t.sample(200).mean() - df.values.mean()) < 3 * df.values.std()


def test_display_pixel_mapping():
    X = np.array([[0.0, 0.5, 1.0], [1.0, 0.0, 0.25]])
    d = Display.for_data(X, None, bernoulli=True)
    assert d.to_uint8(X, 1, 2).reshape(-1).tolist() == [0, 128, 255, 255, 0, 64]
    Xg = np.array([[-2.0, 0.0], [2.0, 4.0]])              # images: global min..max
    d = Display.for_data(Xg, (1, 2), bernoulli=False)
    assert d.to_uint8(Xg, 2, 1).reshape(-1).tolist() == [0, 85, 170, 255]
    Xt = np.array([[0.0, 10.0], [2.0, 30.0]])             # tabular: z-scores -3..3
    d = Display.for_data(Xt, None, bernoulli=False)
    px = d.to_uint8(np.array([[1.0, 20.0], [100.0, -100.0]]), 1, 2).reshape(-1).tolist()
    assert px == [128, 128, 255, 0]
