"""AnomalyWidget traits and messages through a fake comm: threshold -> selected, metrics,
gallery; VAEWidget.anomalies; bad inputs."""
import numpy as np
import pytest
import traitlets
from sklearn.metrics import average_precision_score, roc_auc_score

from vae_widgets import AnomalyWidget, VAEWidget, datasets
from vae_widgets.vae.trainer import VAETrainer
from vae_widgets.widgets.anomaly_widget import anomalies

QUIET = dict(visuals_every=None, seed=0)


def front_end_sets(widget, **state):
    """A trait change made in the browser (ipywidgets 'update' message)."""
    widget._handle_msg({"content": {"data": {"method": "update", "state": state,
                                             "buffer_paths": []}}, "buffers": []})


@pytest.fixture(scope="module")
def digits_vae():
    X, y = datasets.digits()
    t = VAETrainer(X[y != 9][:600], image_shape=(8, 8), latent_dim=4, architecture="mlp",
                   hidden=(32,), **QUIET).fit(2)
    return t, X, y


def test_threshold_sets_selected_metrics_and_gallery(fake_comm):
    rng = np.random.default_rng(1)
    scores = np.r_[rng.normal(0, 1, 190), rng.normal(3, 1, 10)]
    truth = np.r_[np.zeros(190, int), np.ones(10, int)]
    X = rng.random((200, 6))
    w = AnomalyWidget(scores, X, truth, n_gallery=5)
    comm = w.comm
    assert w.threshold == pytest.approx(np.quantile(scores, 0.95))
    assert w.selected == np.flatnonzero(scores > w.threshold).tolist() and len(w.selected) == 10
    assert w.metrics["auroc"] == pytest.approx(roc_auc_score(truth, scores))
    assert w.metrics["average_precision"] == pytest.approx(average_precision_score(truth, scores))

    front_end_sets(w, threshold=2.0)
    flagged = scores > 2.0
    assert w.threshold == 2.0 and w.selected == np.flatnonzero(flagged).tolist()
    tp = int((flagged & (truth == 1)).sum())
    m = w.metrics
    assert (m["tp"], m["fp"], m["n_flagged"]) == (tp, int(flagged.sum()) - tp, int(flagged.sum()))
    assert m["precision"] == pytest.approx(tp / flagged.sum())
    assert m["recall"] == pytest.approx(tp / 10)
    assert m["f1"] == pytest.approx(2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"]))
    top = np.argsort(-scores)[:5]
    assert [it["index"] for it in w.gallery_items] == top.tolist()
    assert [it["truth"] for it in w.gallery_items] == [bool(truth[i]) for i in top]
    # tabular rows: one z-score strip per sample, 128 = the feature's mean
    assert w.gallery_layout == "features" and w.gallery_shape == [1, 1, 6]
    assert w.gallery_scale == "linear" and w.gallery.shape == (5 * 6,)
    np.testing.assert_array_equal(w.gallery.reshape(5, 6), np.rint(X[top] * 255).astype(np.uint8))
    # the new selection reached the front end in one update, the gallery as bytes
    last = [d for d, _ in comm.sent if d.get("method") == "update" and "selected" in d["state"]][-1]
    assert last["state"]["selected"] == w.selected and ["gallery"] in last["buffer_paths"]

    # Python moves the threshold too; nothing above it: empty selection, precision undefined
    w.threshold = float(scores.max()) + 1
    assert w.selected == [] and w.gallery_items == [] and w.metrics["precision"] is None
    assert w.metrics["recall"] == 0.0 and w.metrics["f1"] is None
    assert w.set_quantile(0.5) == pytest.approx(np.quantile(scores, 0.5))
    assert len(w.selected) == 100


def test_gallery_order_and_size(fake_comm):
    scores = np.arange(50, dtype=float)
    w = AnomalyWidget(scores, threshold=39.5, n_gallery=3)
    assert [it["index"] for it in w.gallery_items] == [49, 48, 47]
    assert w.gallery is None and w.gallery_layout == ""          # no X: indices and scores only
    front_end_sets(w, gallery_order="threshold")
    assert [it["index"] for it in w.gallery_items] == [40, 41, 42]
    front_end_sets(w, n_gallery=20)
    assert len(w.gallery_items) == 10
    with pytest.raises(traitlets.TraitError):
        w.gallery_order = "random"
    with pytest.raises(ValueError):
        w.threshold = float("nan")


def test_vae_anomalies_show_images_and_reconstructions(fake_comm, digits_vae):
    t, X, y = digits_vae
    w = anomalies(t, X[:400], y_true=(y[:400] == 9), n_gallery=6)
    assert isinstance(w, AnomalyWidget) and list(w.table.columns[:3]) == ["neg_elbo", "reconstruction", "kl"]
    np.testing.assert_allclose(w.scores_array, w.table.neg_elbo)
    assert w.score_name == "−ELBO (nats)" and "400 samples" in w.info
    assert w.gallery_layout == "image" and w.gallery_shape == [1, 8, 8]
    top = np.argsort(-w.table.neg_elbo.to_numpy())[:6]
    assert [it["index"] for it in w.gallery_items] == top.tolist()
    np.testing.assert_array_equal(w.gallery.reshape(6, 64), np.rint(X[top] * 255).astype(np.uint8))
    rec = t.reconstruct(X[top]).reshape(6, 64)
    np.testing.assert_array_equal(w.gallery_recon.reshape(6, 64), np.rint(rec * 255).astype(np.uint8))
    assert w.metrics["auroc"] == pytest.approx(roc_auc_score(y[:400] == 9, w.table.neg_elbo))
    kl = anomalies(t, X[:50], score="kl")
    np.testing.assert_allclose(kl.scores_array, kl.table.kl)
    iw = anomalies(t, X[:50], score="neg_iwae", n_samples=8)
    np.testing.assert_allclose(iw.scores_array, iw.table.neg_iwae)


def test_vae_widget_delegates(fake_comm, small_data):
    X, y = small_data
    v = VAEWidget(X, latent_dim=2, epochs=1, **QUIET)
    with pytest.raises(ValueError, match="not been trained"):
        v.anomalies(X)
    v.train()
    v.wait(60)
    df = v.anomaly_scores(X[:20], labels=y[:20])
    assert list(df.columns) == ["neg_elbo", "reconstruction", "kl", "label"]
    w = v.anomalies(X, y_true=(y == 0))
    assert w.gallery_layout == "features" and w.gallery_scale == "zscore"
    assert len(w.selected) == w.metrics["n_flagged"] == int((w.scores_array > w.threshold).sum())


def test_bad_inputs_are_named(fake_comm, digits_vae):
    t, X, y = digits_vae
    s = np.arange(10.0)
    with pytest.raises(ValueError, match="y_true has 9 entries"):
        AnomalyWidget(s, y_true=np.zeros(9))
    with pytest.raises(ValueError, match="binary"):
        AnomalyWidget(s, y_true=np.arange(10) % 3)
    with pytest.raises(TypeError, match="y_true"):
        AnomalyWidget(s, y_true=["yes"] * 10)
    with pytest.raises(ValueError, match="non-finite"):
        AnomalyWidget(np.r_[s, np.nan])
    with pytest.raises(ValueError, match="1-D"):
        AnomalyWidget(np.ones((5, 2)))
    with pytest.raises(ValueError, match="X has 4 rows"):
        AnomalyWidget(s, X=np.zeros((4, 3)))
    with pytest.raises(ValueError, match="gallery_order"):
        AnomalyWidget(s, gallery_order="random")
    with pytest.raises(TypeError, match="reconstruct"):
        AnomalyWidget(s, X=np.zeros((10, 3)), reconstruct="yes")
    with pytest.raises(ValueError, match="threshold"):
        AnomalyWidget(s, threshold=float("inf"))
    with pytest.raises(ValueError, match="score="):
        anomalies(t, X[:20], score="likelihood")
    with pytest.raises(ValueError, match="n_samples"):
        anomalies(t, X[:20], score="neg_iwae")
    with pytest.raises(ValueError, match="features per row"):
        anomalies(t, X[:20, :10])
    with pytest.raises(ValueError, match="y_true has 5 entries"):
        anomalies(t, X[:20], y_true=np.zeros(5))
    # one class only: AUROC is undefined, not an error
    w = AnomalyWidget(s, y_true=np.zeros(10))
    assert w.metrics["auroc"] is None and w.metrics["recall"] is None
