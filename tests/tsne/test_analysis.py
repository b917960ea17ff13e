"""After a run: quality event, frame history bounds, transform of new points, drift (engine)."""
import numpy as np
import pytest

from vae_widgets.datasets import digits
from vae_widgets.tsne.history import FrameHistory
from vae_widgets.tsne.runner import TSNERunner

FAST = dict(early_exaggeration_iter=60, n_iter=120, n_jobs=1, frame_interval=0.0)


@pytest.fixture(scope="module")
def split_digits():
    X, y = digits()
    perm = np.random.default_rng(0).permutation(len(X))
    return X[perm[:1400]], y[perm[:1400]], X[perm[1400:]], y[perm[1400:]]


@pytest.fixture(scope="module")
def finished(split_digits):
    X, _, _, _ = split_digits
    r = TSNERunner(X, **FAST)
    kinds = []
    r.events.subscribe(lambda e: kinds.append((e.kind, e.data)))
    r.run()
    return r, kinds


def test_quality_is_published_after_done(finished):
    r, kinds = finished
    names = [k for k, _ in kinds]
    assert names.index("quality") > names.index("done")
    q = dict(kinds)["quality"]["quality"]
    assert q == r.quality
    assert set(q) == {"trustworthiness", "knn_preservation", "k", "n_sampled", "n_points"}
    assert q["k"] == 10 and q["n_sampled"] == q["n_points"] == 1400
    # digits embed well: t-SNE's hallmark is high trustworthiness
    assert q["trustworthiness"] > 0.95 and 0.3 < q["knn_preservation"] <= 1


def test_quality_can_be_switched_off(split_digits):
    r = TSNERunner(split_digits[0][:200], early_exaggeration_iter=10, n_iter=10, n_jobs=1)
    r.quality_after_run = False
    kinds = []
    r.events.subscribe(lambda e: kinds.append(e.kind))
    r.run()
    assert "quality" not in kinds and r.quality is None


def test_frame_history_holds_the_run(finished):
    r, kinds = finished
    h = r.frame_history
    frames = [d for k, d in kinds if k == "frame"]
    its = h.iterations
    assert its[0] == 0 and its[-1] == 180 and np.all(np.diff(its) > 0)
    arr = h.as_array()
    assert arr.dtype == np.float32 and arr.shape == (len(its), 1400, 2)
    np.testing.assert_array_equal(arr[-1], r.embedding.astype(np.float32))
    np.testing.assert_array_equal(arr[0], frames[0]["embedding"])   # the initial layout
    tr = h.trails([3, 7])
    assert tr.shape == (len(its), 2, 2)
    np.testing.assert_array_equal(tr[:, 1], arr[:, 7])


def test_frame_history_is_bounded_and_thinned_evenly():
    h = FrameHistory(max_frames=10)
    for it in range(1000):
        h.add(it, np.full((4, 2), it, np.float32))
        assert len(h) <= 10
    its = h.iterations
    assert its[-1] == 999 and its[0] == 0            # spans the whole run
    gaps = np.diff(its[:-1])
    assert len(set(gaps.tolist())) == 1               # evenly thinned
    # a memory cap: 1,000 points are 8,000 bytes a frame -> 3 frames under 24 kB
    hb = FrameHistory(max_frames=200, max_bytes=24_000)
    for it in range(50):
        hb.add(it, np.zeros((1000, 2), np.float32))
    assert len(hb) <= 3 and hb.nbytes <= 24_000
    assert hb.capacity(1000) == 3 and FrameHistory().capacity(70_000) == 119
    with pytest.raises(ValueError, match="max_frames"):
        FrameHistory(max_frames=1)
    with pytest.raises(IndexError, match="outside"):
        h.frame(50)


def test_transform_keeps_the_reference_and_places_held_out_digits(finished, split_digits):
    r, _ = finished
    _, y, X_new, y_new = split_digits
    ref_before = np.array(r.result, copy=True)
    emb_before = r.embedding.copy()
    P_before = r.result.affinities.P.data.copy()
    pos = r.transform(X_new)
    # openTSNE's transform re-centres the embedding it works on: ours is a copy
    np.testing.assert_array_equal(np.asarray(r.result), ref_before)
    np.testing.assert_array_equal(r.embedding, emb_before)
    np.testing.assert_array_equal(r.result.affinities.P.data, P_before)
    assert pos.shape == (len(X_new), 2) and np.isfinite(pos).all()
    # held-out digits land among their own class: 5-NN vote on the reference map
    from sklearn.neighbors import KNeighborsClassifier
    acc = (KNeighborsClassifier(5).fit(r.embedding, y).predict(pos) == y_new).mean()
    assert acc > 0.85


def test_drift_separates_held_out_digits_from_noise(finished, split_digits):
    r, _ = finished
    X_new = split_digits[2]
    noise = np.random.default_rng(5).uniform(X_new.min(), X_new.max(), size=(200, 64))
    same = r.drift(X_new)
    off = r.drift(noise)
    assert 0.8 < same["score"] < 1.25
    assert off["score"] > 2 * same["score"]
    assert same["per_point"].shape == (len(X_new),) and same["k"] == 10


def test_new_points_need_a_finished_run_and_matching_columns(finished, split_digits):
    fresh = TSNERunner(split_digits[0][:100], n_jobs=1)
    with pytest.raises(RuntimeError, match="run\\(\\)"):
        fresh.transform(split_digits[2])
    r, _ = finished
    with pytest.raises(ValueError, match="X_new has 10 columns.*64"):
        r.transform(np.zeros((3, 10)))
    with pytest.raises(ValueError, match="X_new contains"):
        r.transform(np.full((3, 64), np.nan))
    with pytest.raises(ValueError, match="X_new must be 2-D"):
        r.drift(np.zeros(64))


def test_new_points_get_the_runs_preprocessing():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 80)) * np.linspace(1, 50, 80)
    r = TSNERunner(X, standardize=True, early_exaggeration_iter=10, n_iter=10, n_jobs=1)
    r.run()
    assert r.preprocessed.shape == (300, 50)
    np.testing.assert_allclose(r.preprocess_new(X[:7]), r.preprocessed[:7], atol=1e-8)
