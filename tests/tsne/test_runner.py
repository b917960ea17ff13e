"""TSNERunner with real openTSNE: events, determinism, pause/resume/stop, live edits."""
import threading
import time

import numpy as np
import openTSNE
import pytest
from sklearn.neighbors import NearestNeighbors

from vae_widgets.tsne.knn import ChunkedExactKNN
from vae_widgets.tsne.runner import TSNERunner

FAST = dict(early_exaggeration_iter=50, n_iter=100, n_jobs=1)


def record(runner):
    events = []
    runner.events.subscribe(lambda e: events.append(e))
    return events


def test_kl_at_the_end_of_early_exaggeration_is_not_corrected_twice(small_data):
    # openTSNE evaluates the layout once more after each optimize() segment, with P
    # already divided by the exaggeration: that KL must not get the exaggeration
    # correction. The main phase's first evaluation sees the same layout and P.
    X, _ = small_data
    r = TSNERunner(X, **FAST)
    events = record(r)
    r.run()
    at_50 = [e.data["row"] for e in events if e.kind == "kl" and e.data["row"]["iteration"] == 50]
    assert [row["phase"] for row in at_50] == ["early_exaggeration", "main"]
    assert at_50[0]["kl"] == pytest.approx(at_50[1]["kl"], rel=1e-6)
    assert all(e.data["row"]["kl"] > 0 for e in events if e.kind == "kl")


def test_events_come_in_order_and_the_layout_precedes_affinities(small_data):
    X, _ = small_data
    r = TSNERunner(X, kl_every=25, **FAST)
    events = record(r)
    E = r.run()
    kinds = [e.kind for e in events]
    first_frame = kinds.index("frame")
    assert events[first_frame].data["phase"] == "initial"
    assert first_frame < kinds.index("progress") < kinds.index("kl")
    assert [e.data["phase"] for e in events if e.kind == "phase"] == [
        "initial", "affinities", "early_exaggeration", "main"]
    # the quality scores come last, after "done" (off the optimisation's clock)
    assert kinds[-2:] == ["done", "quality"] and events[-2].data["stopped"] is False
    states = [e.data["state"] for e in events if e.kind == "status"]
    assert states == ["preparing", "affinities", "running", "done"]
    kl_iters = [e.data["row"]["iteration"] for e in events if e.kind == "kl"]
    assert kl_iters[:3] == [0, 25, 50] and kl_iters[-1] == 150
    frames = [e.data["embedding"] for e in events if e.kind == "frame"]
    assert all(f.dtype == np.float32 and f.shape == (400, 2) for f in frames)
    np.testing.assert_array_equal(frames[-1], E.astype(np.float32))
    assert E.shape == (400, 2) and np.isfinite(E).all()
    assert set(r.timings) >= {"affinities", "early_exaggeration", "main", "total"}
    assert r.history_frame.columns.tolist() == ["iteration", "phase", "kl", "exaggeration",
                                                "learning_rate"]


def test_bit_identical_to_bare_openTSNE_and_across_reruns(small_data):
    X, _ = small_data
    r = TSNERunner(X, neighbors="annoy", random_state=7, **FAST)
    E1 = r.run()
    bare = openTSNE.TSNE(neighbors="annoy", random_state=7, early_exaggeration_iter=50,
                         n_iter=100, n_jobs=1).fit(X.astype(np.float64))
    np.testing.assert_array_equal(E1, np.asarray(bare))
    assert r.kl == pytest.approx(bare.kl_divergence, rel=1e-12)
    E2 = r.run()                       # affinities reused, P restored to pristine
    np.testing.assert_array_equal(E1, E2)
    E3 = TSNERunner(X, neighbors="annoy", random_state=8, **FAST).run()
    assert not np.array_equal(E1, E3)


def test_set_data_gives_the_same_map_as_a_new_runner(small_data):
    X, _ = small_data
    r = TSNERunner(X, neighbors="annoy", random_state=7, **FAST)
    r.run()
    Y = X[:, ::-1] * 2.0 + 1.0                  # same rows, other features
    r.set_data(Y)
    np.testing.assert_array_equal(r.run(),
                                  TSNERunner(Y, neighbors="annoy", random_state=7, **FAST).run())
    with pytest.raises(ValueError, match=f"X has 10 rows but this runner embeds {len(X)}"):
        r.set_data(X[:10])
    with pytest.raises(ValueError, match="NaN"):
        r.set_data(np.full_like(X, np.nan))


def test_chunked_exact_neighbours_match_sklearn_even_with_duplicate_rows(monkeypatch):
    from vae_widgets.tsne import knn
    monkeypatch.setattr(knn, "CHUNK_WORK", 700 * 200 * 5)    # several queries at this size
    rng = np.random.default_rng(0)
    X = rng.normal(size=(700, 5))
    X[100:110] = X[5]                  # ten duplicates of one row
    progress = []
    idx, dist = ChunkedExactKNN(X, 15, progress=lambda d, n: progress.append(d)).build()
    ref_d, ref_i = NearestNeighbors(n_neighbors=15).fit(X).kneighbors()
    assert progress[-1] == 700 and len(progress) >= 2
    assert not (idx == np.arange(700)[:, None]).any()      # nobody is its own neighbour
    np.testing.assert_allclose(dist, ref_d, atol=1e-9)
    # where distances tie (duplicates) the order may differ; the sets may not
    assert all(set(a) == set(b) for a, b in zip(idx[:5], ref_i[:5]))
    for m in ("cosine", "manhattan"):
        _, d2 = ChunkedExactKNN(X, 10, metric=m).build()
        ref, _ = NearestNeighbors(n_neighbors=10, metric=m).fit(X).kneighbors()
        np.testing.assert_allclose(d2, ref, atol=1e-9)


def run_in_thread(runner):
    out = {}
    th = threading.Thread(target=lambda: out.setdefault("E", runner.run()), daemon=True)
    th.start()
    return th, out


def wait_for(pred, timeout=20):
    t0 = time.time()
    while not pred():
        assert time.time() - t0 < timeout, "timed out"
        time.sleep(0.01)


def test_pause_holds_the_iteration_and_resume_finishes_identically(small_data):
    X, _ = small_data
    reference = TSNERunner(X, random_state=1, **FAST).run()
    r = TSNERunner(X, random_state=1, **FAST)
    th, out = run_in_thread(r)
    wait_for(lambda: r.iteration >= 20)
    r.pause()
    wait_for(lambda: r.state == "paused")
    held = r.iteration
    time.sleep(0.3)
    assert r.iteration == held and r.state == "paused"
    r.resume()
    th.join(30)
    assert r.state == "done"
    np.testing.assert_array_equal(out["E"], reference)   # a pause changes nothing


def test_stop_acts_within_a_second_and_leaves_P_pristine(small_data):
    X, _ = small_data
    r = TSNERunner(X, random_state=1, early_exaggeration_iter=250, n_iter=5000, n_jobs=1)
    events = record(r)
    th, _ = run_in_thread(r)
    wait_for(lambda: r.iteration >= 30)
    t0 = time.perf_counter()
    r.stop()
    th.join(5)
    assert not th.is_alive() and time.perf_counter() - t0 < 1.0
    # a stopped run is not scored: the worker ends at once
    assert r.state == "stopped" and events[-1].kind == "done" and events[-1].data["stopped"]
    assert r.iteration < 5250
    np.testing.assert_array_equal(r._cache["affinities"].P.data, r._cache["P_data"])


def test_stop_while_paused_and_during_affinities(small_data):
    X, _ = small_data
    r = TSNERunner(X, **FAST)
    r.pause()                                   # paused before the neighbour search
    th, _ = run_in_thread(r)
    wait_for(lambda: r.state == "paused")
    assert r.phase == "affinities"
    r.stop()
    th.join(5)
    assert r.state == "stopped"
    assert r.run().shape == (400, 2)            # a later run starts cleanly


def test_live_edits_start_a_new_segment_and_are_logged(small_data):
    X, _ = small_data
    r = TSNERunner(X, random_state=1, early_exaggeration_iter=50, n_iter=400, n_jobs=1)
    th, out = run_in_thread(r)
    wait_for(lambda: r.phase == "main" and r.iteration >= 100)
    res = r.set_params(exaggeration=4, learning_rate=50.0, perplexity=10)
    assert res["live"] == {"exaggeration": 4.0, "learning_rate": 50.0}
    assert res["next_run"] == {"perplexity": 10.0}
    th.join(30)
    hist = r.history_frame
    late = hist[hist.iteration >= r.marks[-1]["iteration"] + 25]
    assert (late.exaggeration == 4).all() and (late.learning_rate == 50).all()
    assert "exaggeration 4" in r.marks[-1]["label"]
    assert r.iteration == 450                    # no iteration lost or repeated
    np.testing.assert_array_equal(r._cache["affinities"].P.data, r._cache["P_data"])
    assert r.params.perplexity == 10             # applies next run


def test_initialisations_and_gradient_methods(small_data):
    X, _ = small_data
    for init in ("spectral", "random"):
        E = TSNERunner(X, initialization=init, **FAST).run()
        assert np.isfinite(E).all()
    r = TSNERunner(X, negative_gradient_method="fft", dof=0.8, **FAST)
    r.run()
    assert r.gradient_method == "fft"


def test_wide_data_is_reduced_and_standardised(small_data):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 80))
    r = TSNERunner(X, standardize=True, **FAST)
    r.run()
    assert "PCA 80→50" in r.description and "standardised" in r.description
    r2 = TSNERunner(X, pca_components=None, **FAST)
    r2.run()
    assert r2.description == ""


def test_auto_kl_points_start_each_phase_and_keep_their_gaps_bounded(small_data):
    """kl_every="auto" (the default): a KL point at the start of each phase and at its end
    (openTSNE's closing evaluation), and in between gaps of KL_MIN_GAP..KL_MAX_GAP
    iterations, chosen so the evaluations cost about KL_BUDGET of the run."""
    from vae_widgets.tsne.runner import KL_MAX_GAP, KL_MIN_GAP

    X, _ = small_data
    r = TSNERunner(X, early_exaggeration_iter=120, n_iter=240, n_jobs=1)
    assert r.params.kl_every == "auto"
    events = record(r)
    r.run()
    rows = [e.data["row"] for e in events if e.kind == "kl"]
    for phase, start, end in (("early_exaggeration", 0, 120), ("main", 120, 360)):
        its = [row["iteration"] for row in rows if row["phase"] == phase]
        assert its[0] == start and its[-1] == end
        gaps = np.diff(its[:-1])       # (the closing evaluation may come sooner)
        assert len(gaps) and KL_MIN_GAP <= gaps.min() and gaps.max() <= KL_MAX_GAP
    with pytest.raises(ValueError, match="kl_every must be 'auto'"):
        TSNERunner(X, kl_every="often")
