"""TSNESweepWidget (TSNEWidget.sweep): frames per panel, alignment, linked selection,
commands and bad inputs, through the fake comm (no browser)."""
import threading
import time

import numpy as np
import pytest
import traitlets

from conftest import front_end_says
from vae_widgets import TSNESweepWidget, TSNEWidget
from vae_widgets.tsne.align import procrustes
from vae_widgets.widgets._frames import decode_frame

FAST = dict(early_exaggeration_iter=50, n_iter=100, n_jobs=1)


def frames_by_panel(comm):
    out = {}
    for content, bufs in comm.custom("frame"):
        pts = decode_frame(content, bufs[0])
        out.setdefault(content["panel"], []).append((content, pts))
    return out


def test_sweep_streams_every_panel_aligned_onto_the_reference(fake_comm, small_data):
    X, y = small_data
    s = TSNEWidget.sweep(X, [5, 15, 40], labels=y, **FAST)
    assert isinstance(s, TSNESweepWidget) and s.reference == 1 and s.param == "perplexity"
    assert [p["label"] for p in s.panels] == ["perplexity 5", "perplexity 15", "perplexity 40"]
    assert s.run() is None
    s.wait(120)
    assert s.status == "done" and s.active == -1
    frames = frames_by_panel(s.comm)
    assert sorted(frames) == [0, 1, 2]
    # the reference runs first: its frames come before every other panel's
    order = [c["panel"] for c, _ in s.comm.custom("frame")]
    assert order[0] == 1 and set(order[:order.index(0)]) == {1}
    for k, fr in frames.items():
        assert fr[0][0]["iteration"] == 0 and fr[-1][0]["iteration"] == 150
        assert all(p.shape == (400, 2) for _, p in fr)
    # panels: final KL, disparity, iterations; the reference is marked
    for k, p in enumerate(s.panels):
        assert p["status"] == "done" and p["iteration"] == 150 and p["total"] == 150
        assert p["kl"] == pytest.approx(s.runners[k].kl) and p["seconds"] > 0
        assert p["reference"] is (k == 1)
    assert s.panels[1]["disparity"] == 0.0
    # aligned maps: the reference is untouched, the others are Procrustes fits onto it
    ref = s.runners[1].embedding
    np.testing.assert_allclose(s.embeddings[1], ref)
    for k in (0, 2):
        raw = s.runners[k].embedding
        a = procrustes(raw, ref)
        np.testing.assert_allclose(s.embeddings[k], a.apply(raw), atol=1e-9)
        assert s.panels[k]["disparity"] == pytest.approx(a.disparity)
        # aligned beats unaligned (the same points sit in about the same place)
        assert ((s.embeddings[k] - ref) ** 2).sum() < ((raw - ref) ** 2).sum()
        # the last frame sent is the aligned final map (frames are aligned as they stream)
        np.testing.assert_allclose(frames[k][-1][1], s.embeddings[k], rtol=1e-5, atol=1e-3)
    # synced positions: every panel's final aligned map, as float32 bytes
    pos = s.positions.reshape(3, 400, 2)
    for k in range(3):
        np.testing.assert_allclose(pos[k], s.embeddings[k], rtol=1e-5, atol=1e-3)
    summary = s.summary
    assert list(summary["perplexity"]) == [5.0, 15.0, 40.0]
    assert summary["disparity"].between(0, 1).all()
    hist = s.history
    assert set(hist["perplexity"]) == {5.0, 15.0, 40.0}
    # each panel's KL history: the start of each phase, gaps between, the last iteration
    for _, rows in hist.groupby("perplexity"):
        its = list(rows["iteration"])
        assert its[0] == 0 and its[-1] == 150 and 50 in its and len(its) >= 3


def test_same_seed_same_map_and_other_params_sweep(fake_comm, small_data):
    X, y = small_data
    # two panels with the same seed are the same map: disparity 0 (reproducibility)
    s = TSNEWidget.sweep(X, param="random_state", values=[3, 3], labels=y,
                         initialization="random", **FAST)
    s.run()
    s.wait(120)
    np.testing.assert_array_equal(s.runners[0].embedding, s.runners[1].embedding)
    assert s.panels[0]["disparity"] == pytest.approx(0.0, abs=1e-12)
    e = TSNEWidget.sweep(X, param="exaggeration", values=[1, 4], **FAST)
    assert [p["label"] for p in e.panels] == ["exaggeration 1", "exaggeration 4"]
    assert [r.params.exaggeration for r in e.runners] == [1.0, 4.0]
    assert e.reference == 1 and "aligned onto exaggeration 4" in e.info


def test_positions_start_empty_and_linked_selection(fake_comm, small_data):
    X, y = small_data
    s = TSNEWidget.sweep(X, [5, 30], labels=y)
    assert s.positions.shape == (2, 400, 2) and np.isnan(s.positions).all()
    # the front end's lasso (in any panel) arrives as one `selected` for all panels
    s.set_state({"selected": [3, 1, 2]})
    assert s.selected == [3, 1, 2]
    s.selected = np.array([7, 8])
    assert s.selected == [7, 8]
    with pytest.raises(traitlets.TraitError, match="outside"):
        s.selected = [400]
    assert s.color_kind == "categorical" and s.color_names == ["0", "1", "2", "3"]


def test_pause_resume_stop_for_the_whole_sweep(fake_comm, small_data):
    X, _ = small_data
    s = TSNEWidget.sweep(X, [5, 20, 40], early_exaggeration_iter=50, n_iter=5000, n_jobs=1)
    front_end_says(s, {"type": "command", "action": "run"})
    t0 = time.time()
    while s.panels[1]["iteration"] < 60:
        assert time.time() - t0 < 60, s.panels
        time.sleep(0.01)
    front_end_says(s, {"type": "command", "action": "pause"})
    t0 = time.time()
    while s.status != "paused":
        assert time.time() - t0 < 5
        time.sleep(0.01)
    held = s.runners[1].iteration
    time.sleep(0.4)
    assert s.runners[1].iteration == held and s.running
    front_end_says(s, {"type": "command", "action": "resume"})
    t0 = time.time()
    while s.runners[1].iteration <= held + 10:
        assert time.time() - t0 < 10
        time.sleep(0.01)
    t0 = time.time()
    front_end_says(s, {"type": "command", "action": "stop"})
    s.wait(10)
    assert time.time() - t0 < 5
    assert s.status == "stopped" and not s.running
    # the later panels never started; the stopped reference keeps its partial map
    assert [p["status"] for p in s.panels] == ["idle", "stopped", "idle"]
    assert s.embeddings[1] is not None and s.embeddings[0] is None
    # a sweep's parameters are fixed: a `set` from the page becomes a notice
    front_end_says(s, {"type": "command", "action": "set", "params": {"perplexity": 3}})
    assert "fixed" in s.notice


def test_a_stop_between_panels_is_not_lost(fake_comm, small_data):
    X, _ = small_data
    s = TSNEWidget.sweep(X, [5, 20], **FAST)
    second = s.runners[0]                      # runs after the reference (panel 1)
    real_begin = second.control.begin

    def stop_then_begin():                     # the race: Stop lands just before run() begins
        if second.running:                     # (not when the sweep's own run() resets it)
            s.stop()
        real_begin()
    second.control.begin = stop_then_begin
    s.run()
    s.wait(60)
    assert s.status == "stopped" and s.panels[1]["status"] == "done"
    assert s.panels[0]["status"] == "stopped" and second.iteration == 0


def test_hello_replays_the_latest_frame(fake_comm, small_data):
    X, _ = small_data
    s = TSNEWidget.sweep(X, [5, 20], **FAST)
    s.run()
    s.wait(60)
    before = len(s.comm.custom("frame"))
    front_end_says(s, {"type": "hello"})
    content, _ = s.comm.custom("frame")[-1]
    assert len(s.comm.custom("frame")) == before + 1 and content["iteration"] == 150


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(perplexities=[]), ValueError, r"perplexities is empty.*perplexities=\[5, 30, 100\]"),
    (dict(perplexities=[5, 30, 200]), ValueError, r"perplexities\[2\]=200.*too large for 400 points"),
    (dict(perplexities=[5, -1]), ValueError, r"perplexities\[1\]=-1: perplexity must be > 0"),
    (dict(perplexities=list(range(5, 50, 5))), ValueError, r"9 values.*at most 8 panels.*fewer"),
    (dict(perplexities=30), TypeError, r"perplexities must be a list"),
    (dict(perplexities="30"), TypeError, r"perplexities must be a list"),
    (dict(param="exaggeration"), ValueError, r"values is required when sweeping exaggeration"),
    (dict(param="frame_interval", values=[0.1]), ValueError, r"param='frame_interval' cannot be swept"),
    (dict(perplexities=[5], perplexity=30), ValueError, r"perplexity is what this sweep varies"),
    (dict(param="exaggeration", values=[1, 2], perplexities=[5]), ValueError,
     r"perplexities is only for a perplexity sweep"),
    (dict(param="exaggeration", values=[1, "x"]), TypeError, r"values\[1\]='x'"),
    (dict(perplexities=[5], n_iter=-3), ValueError, r"n_iter must be >= 0"),
])
def test_bad_inputs_raise_before_any_thread(fake_comm, small_data, kwargs, exc, match):
    X, y = small_data
    before = {t.name for t in threading.enumerate()}
    with pytest.raises(exc, match=match):
        TSNEWidget.sweep(X, labels=y, **kwargs)
    assert {t.name for t in threading.enumerate()} - before == set()


def test_bad_labels_reference_and_data(fake_comm, small_data):
    X, y = small_data
    with pytest.raises(ValueError, match="labels has 3 entries"):
        TSNEWidget.sweep(X, [5, 30], labels=[1, 2, 3])
    with pytest.raises(ValueError, match="reference=5 must be a panel index"):
        TSNESweepWidget(X, [5, 30], reference=5)
    with pytest.raises(ValueError, match="image_shape"):
        TSNEWidget.sweep(X, [5, 30], image_shape=(3, 3))
    with pytest.raises(ValueError, match="X has 2 rows"):
        TSNEWidget.sweep(X[:2], [5])


def test_an_error_in_one_panel_is_shown_and_reraised(fake_comm, small_data):
    X, _ = small_data
    s = TSNEWidget.sweep(X, [5, 20], **FAST)

    def broken(*a, **k):
        raise RuntimeError("out of memory (simulated)")
    s.runners[0]._prepare_embedding = broken     # the second panel to run fails
    s.run()
    with pytest.raises(RuntimeError, match="simulated"):
        s.wait(60)
    assert s.status == "error" and s.panels[0]["status"] == "error"
    assert s.error.startswith("perplexity 5: RuntimeError: out of memory")
    assert s.panels[1]["status"] == "done" and s.embeddings[1] is not None
