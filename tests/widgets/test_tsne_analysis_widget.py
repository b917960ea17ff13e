"""TSNEWidget analysis glue through a fake comm: quality, add_points, replay, trails, focus."""
import numpy as np
import pytest
import traitlets

from conftest import front_end_says
from vae_widgets import TSNEWidget
from vae_widgets.datasets import digits

FAST = dict(early_exaggeration_iter=50, n_iter=100, n_jobs=1)


@pytest.fixture(scope="module")
def data():
    X, y = digits()
    return X[:600], y[:600], X[600:800], y[600:800]


def finished_widget(data, **kw):
    X, y, _, _ = data
    w = TSNEWidget(X, labels=y, **FAST, **kw)
    w.run()
    w.wait(60)
    return w


def test_quality_trait_after_the_run_and_cleared_by_a_new_one(fake_comm, data):
    w = finished_widget(data)
    q = w.quality
    assert q["k"] == 10 and q["n_sampled"] == 600 and 0.9 < q["trustworthiness"] <= 1
    assert 0 < q["knn_preservation"] <= 1
    sent = [s["quality"] for s in w.comm.states() if "quality" in s]
    assert sent[-1] == q
    w.runner.pause()          # hold the next run at its first iteration
    w.run()
    assert w.quality == {}
    w.stop()
    w.wait(30)


def test_add_points_before_a_run_and_bad_inputs(fake_comm, data):
    X, y, X_new, y_new = data
    w = TSNEWidget(X, labels=y, **FAST)
    with pytest.raises(RuntimeError, match="finished t-SNE run"):
        w.add_points(X_new)
    w.run()
    w.wait(60)
    with pytest.raises(ValueError, match="X_new has 3 columns"):
        w.add_points(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="labels"):
        w.add_points(X_new, labels=y_new[:5])
    with pytest.raises(TypeError, match="X_new"):
        w.add_points(None)
    assert w.n_new == 0 and w.new_embedding is None


def test_add_points_traits_indices_and_clearing(fake_comm, data):
    X, y, X_new, y_new = data
    w = finished_widget(data)
    ref = w.embedding.copy()
    pos = w.add_points(X_new, labels=y_new)
    np.testing.assert_array_equal(w.embedding, ref)         # the map does not move
    assert pos.shape == (200, 2) and w.n_new == 200
    np.testing.assert_allclose(w.new_points, pos.astype(np.float32))
    # new points take the colours of the reference categories they belong to
    names = w.color_names
    assert [names[int(c)] for c in w.new_color_values[:5]] == [str(v) for v in y_new[:5]]
    assert 0.8 < w.drift < 1.3 and w.drift_per_point.shape == (200,)
    # indices continue after the reference
    w.selected = [599, 600, 799]
    w.focused = 799
    with pytest.raises(traitlets.TraitError, match="outside 0..799"):
        w.selected = [800]
    with pytest.raises(traitlets.TraitError, match="focused"):
        w.focused = 800
    # noise added on top: drift of all new points rises, neutral colour (-1)
    before = w.drift
    noise = np.random.default_rng(0).uniform(0, X.max(), size=(50, 64))
    w.add_points(noise)
    assert w.n_new == 250 and w.drift > before and (w.new_color_values[200:] == -1).all()
    assert w.drift_per_point[200:].mean() > 1.5 * w.drift_per_point[:200].mean()
    w.clear_new_points()
    assert w.n_new == 0 and w.new_embedding is None and w.drift is None
    assert w.selected == [599] and w.focused == -1


def test_a_new_run_clears_new_points(fake_comm, data):
    X, y, X_new, _ = data
    w = finished_widget(data)
    w.add_points(X_new[:20])
    w.run()
    assert w.n_new == 0 and w.drift is None
    w.wait(60)


def test_replay_and_trails_answer_only_the_asking_view(fake_comm, data):
    w = finished_widget(data)
    its = w.history_iterations
    assert its[0] == 0 and its[-1] == 150 and len(its) == len(w.frame_history)
    front_end_says(w, {"type": "replay", "view": "v1", "index": 0})
    content, bufs = w.comm.custom("replay")[-1]
    assert content == {"type": "replay", "view": "v1", "index": 0, "iteration": 0,
                       "count": len(its)}
    first = np.frombuffer(bytes(bufs[0]), "<f4").reshape(-1, 2)
    np.testing.assert_array_equal(first, w.frame_history[0])
    front_end_says(w, {"type": "trails", "view": "v2", "indices": [5, 9, 10_000]})
    content, bufs = w.comm.custom("trails")[-1]
    assert content["view"] == "v2" and content["indices"] == [5, 9]
    assert content["frames"] == len(its) and content["iterations"] == its
    tr = np.frombuffer(bytes(bufs[0]), "<f4").reshape(len(its), 2, 2)
    np.testing.assert_array_equal(tr[:, 1], w.frame_history[:, 9])
    # a bad index is a notice, not an exception in the kernel
    front_end_says(w, {"type": "replay", "view": "v1", "index": 10_000})
    assert "outside" in w.notice


def test_frame_history_is_bounded(fake_comm, data):
    w = TSNEWidget(data[0], early_exaggeration_iter=50, n_iter=400, n_jobs=1,
                   frame_interval=0.0)
    w.runner.frame_history.max_frames = 40
    w.run()
    w.wait(60)
    fh = w.frame_history
    assert fh.shape[0] <= 40 and fh.shape[1:] == (600, 2)
    assert w.history_iterations[0] == 0 and w.history_iterations[-1] == 450
