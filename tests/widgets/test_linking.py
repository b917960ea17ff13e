"""VAEWidget.latent_tsne and the link between the two widgets (fake comm, no browser):
the map of latent means, lasso -> selection panel, click -> traversal base, safe while
training, unlink on close."""
import gc
import threading
import time
import weakref

import numpy as np
import pytest
import torch

from vae_widgets import TSNEWidget, VAEWidget, datasets
from vae_widgets.vae.trainer import VAETrainer
from vae_widgets.widgets import linking
from vae_widgets._images import as_uint8_images

FAST = dict(n_iter=60, early_exaggeration_iter=40, random_state=0)


@pytest.fixture(scope="module")
def digits():
    X, y = datasets.digits()
    return X[:500], y[:500]


@pytest.fixture
def trained(fake_comm, digits):
    X, y = digits
    v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=2, visuals_every=5.0)
    v.train()
    v.wait(60)
    return v


def wait_for(pred, timeout=30):
    t0 = time.time()
    while not pred():
        assert time.time() - t0 < timeout, "timed out"
        time.sleep(0.01)


def test_latent_tsne_maps_the_latent_means(trained, digits):
    X, y = digits
    v = trained
    t = v.latent_tsne(**FAST)
    assert isinstance(t, TSNEWidget)
    assert t.status != "idle"                      # started at once
    t.wait(120)
    assert t.status == "done"
    assert t.embedding.shape == (len(X), 2) and np.isfinite(t.embedding).all()
    # it embedded the posterior means of the current encoder
    mu, _ = v.encode(X)
    np.testing.assert_allclose(t.runner.X, mu, rtol=1e-5, atol=1e-6)
    # coloured by the VAE's labels, hover thumbnails of the data (not of the codes)
    assert t.color_kind == "categorical" and t.color_names == [str(c) for c in range(10)]
    assert t.image_shape == [8, 8]
    np.testing.assert_array_equal(t.thumbnails, as_uint8_images(X, (8, 8)))
    assert v.latent_link(t).linked


def test_run_false_waits_for_the_play_button(trained):
    t = trained.latent_tsne(run=False, **FAST)
    assert t.status == "idle" and not t.running


def test_lasso_fills_the_selection_panel(trained, digits):
    X, _ = digits
    v = trained
    t = v.latent_tsne(run=False, **FAST)
    assert v.selection_indices == [] and v.grid_selection is None and v.selection == {}
    t.selected = [5, 17, 42]
    assert v.selection_indices == [5, 17, 42]
    assert v.grid_selection.shape == (2, 3, 1, 8, 8)
    meta = v.selection
    assert meta["count"] == 3 and meta["shown"] == 3 and meta["shape"] == [2, 3, 1, 8, 8]
    assert meta["labels"]["cols"] == ["#5", "#17", "#42"]
    assert meta["labels"]["rows"] == ["original", "reconstruction"]
    disp = v.trainer.display
    # row 0: the data points; row 1: their reconstructions by the current model
    np.testing.assert_array_equal(v.grid_selection[0], disp.to_uint8(X[[5, 17, 42]], 1, 3)[0])
    rec = v.reconstruct(X[[5, 17, 42]])
    np.testing.assert_array_equal(v.grid_selection[1], disp.to_uint8(rec, 1, 3)[0])
    # the synced state the front end reads
    sent = [d for d, _ in v.comm.sent if d.get("method") == "update"]
    assert any(["grid_selection"] in d.get("buffer_paths", []) for d in sent)
    assert any("selection" in d["state"] for d in sent)

    # a big lasso: all indices kept, only the first SELECTION_MAX drawn
    t.selected = list(range(100))
    assert len(v.selection_indices) == 100
    assert v.selection["count"] == 100 and v.selection["shown"] == linking.SELECTION_MAX
    assert v.grid_selection.shape[1] == linking.SELECTION_MAX

    # the panel's Clear button (the front end sets the trait) clears the lasso too
    v.set_state({"selection_indices": []})
    assert v.selection_indices == [] and v.grid_selection is None and v.selection == {}
    assert t.selected == []


def test_a_clicked_point_becomes_the_traversal_base(trained, digits):
    X, _ = digits
    v = trained
    t = v.latent_tsne(run=False, **FAST)
    before = v.grid_traversal.copy()
    assert v.traversal_base != 42
    marks = list(v.marks)
    t.focused = 42                                   # what a click in the map does
    assert v.traversal_base == 42 and v.trainer.config.traverse_base == 42
    # redrawn at once although training is finished
    assert v.grids["traversal"]["labels"]["base"] == 42
    assert not np.array_equal(before, v.grid_traversal)
    # its middle column decodes the base point's own code
    mid = v.traverse(0, [0.0], base=42)
    dims = v.grids["traversal"]["labels"]["dims"]
    col = v.grids["traversal"]["labels"]["values"].index(0.0)
    np.testing.assert_array_equal(v.grid_traversal[dims.index(0), col],
                                  v.trainer.display.to_uint8(mid, 1, 1)[0, 0])
    assert v.marks == marks                          # a view choice is not a curve mark
    t.focused = -1                                   # nothing focused: the base stays
    assert v.traversal_base == 42


def test_traversal_base_from_python_and_bad_values(trained):
    v = trained
    v.traversal_base = np.int64(7)
    assert v.traversal_base == 7 and v.grids["traversal"]["labels"]["base"] == 7
    # set_params(traverse_base=...) shows up in the trait too
    v.set_params(traverse_base=9)
    assert v.traversal_base == 9
    n = len(v.trainer.data)
    with pytest.raises(ValueError, match=r"traversal_base: 500 is not a row of the data \(0..499\)"):
        v.traversal_base = n
    with pytest.raises(ValueError, match="traversal_base: -1"):
        v.traversal_base = -1
    with pytest.raises(TypeError, match="traversal_base must be a row index"):
        v.traversal_base = "3"
    with pytest.raises(TypeError, match="traversal_base must be a row index"):
        v.traversal_base = True
    assert v.traversal_base == 9
    with pytest.raises(ValueError, match=r"selection_indices: \[500, 501\] are not rows"):
        v.selection_indices = [1, 500, 501]
    with pytest.raises(TypeError, match="selection_indices must be a list of row indices"):
        v.selection_indices = ["a"]
    with pytest.raises(TypeError, match="selection_indices must be a list of row indices"):
        v.selection_indices = None
    v.selection_indices = np.array([3, 1])           # numpy arrays are fine
    assert v.selection_indices == [3, 1] and v.selection["count"] == 2
    with pytest.raises(ValueError, match="indices: 999 is not a row"):
        v.select([999])


def test_bad_arguments_to_latent_tsne(trained, digits):
    v = trained
    with pytest.raises(ValueError, match="X has 10 features per row but the VAE was trained on 64"):
        v.latent_tsne(X=np.zeros((20, 10)))
    with pytest.raises(TypeError, match="image_shape comes from the VAE"):
        v.latent_tsne(image_shape=(8, 8))
    with pytest.raises(ValueError, match="labels"):
        v.latent_tsne(labels=[1, 2, 3])
    with pytest.raises(TypeError, match="perplexity|unknown t-SNE parameter"):
        v.latent_tsne(perplexity_typo=3)
    other = TSNEWidget(np.random.default_rng(0).normal(size=(50, 3)), perplexity=5)
    with pytest.raises(ValueError, match="not linked to this VAEWidget"):
        v.latent_tsne(refresh=other)


def test_a_map_of_other_rows(trained, digits):
    """X= maps other rows: the selection shows those rows; a click cannot move the
    traversal (it starts from a training row)."""
    X, y = datasets.digits()
    other, labels = X[1000:1100], y[1000:1100]
    v = trained
    t = v.latent_tsne(X=other, labels=labels, run=False, **FAST)
    np.testing.assert_allclose(t.runner.X, v.encode(other)[0], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(t.thumbnails, as_uint8_images(other, (8, 8)))
    t.selected = [0, 3]
    assert v.selection_indices == [0, 3] and v.selection["source"] == "X"
    assert v.selection_source is not None
    np.testing.assert_array_equal(v.grid_selection[0],
                                  v.trainer.display.to_uint8(other[[0, 3]], 1, 2)[0])
    base = v.traversal_base
    t.focused = 7
    assert v.traversal_base == base
    # images as (n, 8, 8) are accepted too
    t2 = v.latent_tsne(X=other.reshape(-1, 8, 8), run=False, **FAST)
    assert t2.n_points == 100


def test_tabular_and_conditional_vaes(fake_comm, small_data):
    """Without image_shape the selection shows feature strips and the map has no
    thumbnails; a conditional VAE encodes with each row's class."""
    X, y = small_data
    v = VAEWidget(X, labels=y, latent_dim=2, conditional=True, epochs=1, visuals_every=None)
    t = v.latent_tsne(run=False, **FAST)
    assert t.image_shape == [] and t.thumbnails is None
    np.testing.assert_allclose(t.runner.X, v.encode(X, labels=y)[0], rtol=1e-5, atol=1e-6)
    t.selected = [0, 1]
    assert v.grid_selection.shape == (2, 2, 1, 1, X.shape[1])
    assert v.selection["labels"]["layout"] == "features"
    with pytest.raises(ValueError, match="conditional: pass labels="):
        v.latent_tsne(X=X[:20], run=False)


def test_refresh_reencodes_with_the_current_encoder(fake_comm, digits):
    X, y = digits
    v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=1, visuals_every=None)
    t = v.latent_tsne(**FAST)                        # an untrained encoder
    t.wait(120)
    first = t.runner.X.copy()
    t.selected = [1, 2]
    v.train(2)
    v.wait(60)
    assert v.latent_tsne(refresh=t) is t
    t.wait(120)
    assert t.status == "done" and t.embedding.shape == (len(X), 2)
    np.testing.assert_allclose(t.runner.X, v.encode(X)[0], rtol=1e-5, atol=1e-6)
    assert not np.allclose(first, t.runner.X)
    assert t.selected == [1, 2] and v.latent_link(t).linked


def test_works_while_training(fake_comm, digits):
    X, y = digits
    v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=400, visuals_every=0.05)
    v.train()
    wait_for(lambda: v.step >= 20)
    t = v.latent_tsne(**FAST)
    assert v.running
    t.selected = [3, 4, 5]
    assert v.grid_selection.shape == (2, 3, 1, 8, 8)
    drawn_at = v.selection["step"]
    t.focused = 11
    # applied by the training thread before its next step, drawn with the next images
    wait_for(lambda: v.grids.get("traversal", {}).get("labels", {}).get("base") == 11, 10)
    # the selection follows the model while it learns
    wait_for(lambda: v.selection["step"] > drawn_at, 10)
    v.pause()
    wait_for(lambda: v.status == "paused", 10)
    t.focused = 12                                   # paused: redrawn at once
    assert v.grids["traversal"]["labels"]["base"] == 12
    t.wait(120)
    assert t.status == "done" and np.isfinite(t.embedding).all()
    v.resume()
    step = v.step
    wait_for(lambda: v.step > step + 5, 10)
    v.stop()
    v.wait(10)
    assert v.status == "stopped" and v.error == ""


def test_snapshots_never_disturb_the_training_step():
    """Weights after training with another thread taking snapshots and encoding
    throughout are bit-identical to those of an undisturbed run.

    Both runs train on a fixed thread count: with threads="auto" the count follows the
    machine's load, and the conv model's sums split by thread differ in their last bits
    between 1 and 2 threads (docs/guide/threads.md, "Reproducibility"). On a busy CI
    machine the two runs started with different counts and this test failed although no
    snapshot had disturbed anything."""
    X, _ = datasets.digits()
    X = X[:400]
    kw = dict(image_shape=(8, 8), latent_dim=3, visuals_every=None, seed=1, batch_size=32,
              threads=2)

    ref = VAETrainer(X, **kw).fit(3)

    tr = VAETrainer(X, **kw)
    worker = threading.Thread(target=tr.fit, args=(3,))
    codes, steps = [], set()
    worker.start()
    while worker.is_alive():
        twin = tr.snapshot()
        steps.add(tr.step)
        codes.append(twin.encode(X[:50])[0])
    worker.join()
    assert [e["threads"] for e in ref.thread_log] == [e["threads"] for e in tr.thread_log] == [2]
    assert len(codes) > 3 and len(steps) > 2        # it really ran alongside training
    assert all(np.isfinite(c).all() for c in codes)
    for (name, a), b in zip(ref.model.state_dict().items(), tr.model.state_dict().values()):
        assert torch.equal(a, b), name


def test_a_snapshot_is_a_frozen_copy(fake_comm, digits):
    X, _ = digits
    tr = VAETrainer(X, image_shape=(8, 8), latent_dim=3, visuals_every=None)
    twin = tr.snapshot()
    assert twin.model is not tr.model and not twin.model.training
    before = twin.encode(X[:20])[0]
    tr.fit(1)
    np.testing.assert_array_equal(before, twin.encode(X[:20])[0])   # the twin did not learn
    assert not np.allclose(before, tr.encode(X[:20])[0])
    assert all(not p.requires_grad for p in twin.model.parameters())
    assert tr.model.training or not any(True for _ in tr.model.parameters())
    with pytest.raises(ValueError, match="timeout"):
        tr.snapshot(timeout=0)


def link_observers(widget):
    return [cb for per_type in widget._trait_notifiers.values() for cbs in per_type.values()
            for cb in cbs if isinstance(getattr(cb, "__self__", None), linking.LatentLink)]


def test_closing_either_widget_unlinks(trained, digits):
    v = trained
    t = v.latent_tsne(run=False, **FAST)
    link = v.latent_link(t)
    assert link_observers(t) and link_observers(v)
    t.selected = [1]
    assert v.selection_indices == [1]
    t.close()
    assert not link.linked and v._latent_links == []
    with pytest.raises(ValueError, match="not linked"):
        v.latent_link(t)
    t.selected = [2, 3]                              # no longer followed
    assert v.selection_indices == [1]
    # the link never held the widgets, and they hold no trace of it now
    assert isinstance(link._tsne, weakref.ref) and isinstance(link._vae, weakref.ref)
    assert link.__dict__ not in gc.get_referrers(t)
    assert link_observers(t) == [] and link_observers(v) == []

    t2 = v.latent_tsne(run=False, **FAST)
    link2 = v.latent_link(t2)
    v.close()
    assert not link2.linked
    t2.focused = 3
    assert v.traversal_base != 3


def test_unlink_by_hand(trained):
    v = trained
    t = v.latent_tsne(run=False, **FAST)
    link = v.latent_link(t)
    assert "linked" in repr(link)
    link.unlink()
    link.unlink()                                    # twice is fine
    t.focused = 5
    assert v.traversal_base != 5
    with pytest.raises(RuntimeError, match="link has ended"):
        link.refresh()
