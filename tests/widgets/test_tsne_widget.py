"""TSNEWidget traits and messages, through a fake comm (no browser)."""
import time

import numpy as np
import pandas as pd
import pytest
import torch
import traitlets

from conftest import front_end_says
from vae_widgets import TSNEWidget

FAST = dict(early_exaggeration_iter=50, n_iter=100, n_jobs=1)


def test_frames_are_binary_float32_and_state_follows(fake_comm, small_data):
    X, y = small_data
    w = TSNEWidget(X, labels=y, kl_every=25, **FAST)
    comm = w.comm
    w.run()
    w.wait(60)
    frames = comm.custom("frame")
    assert frames, "no frame was sent"
    content, buffers = frames[0]
    assert content["phase"] == "initial" and content["iteration"] == 0
    pts = np.frombuffer(bytes(buffers[0]), dtype="<f4").reshape(-1, 2)
    assert pts.shape == (400, 2)
    last, last_buf = frames[-1]
    np.testing.assert_array_equal(np.frombuffer(bytes(last_buf[0]), "<f4").reshape(-1, 2),
                                  w.embedding.reshape(-1, 2))
    assert w.status == "done" and w.iteration == 150 and w.n_iter_total == 150
    assert w.embedding.dtype == np.float32 and w.embedding.shape == (400, 2)
    assert w.kl_history["iteration"][0] == 0 and len(w.kl_history["kl"]) == 7
    assert w.marks[0]["iteration"] == 50 and "Barnes-Hut" in w.info
    # the phase change and its mark travel in one update, so the chart marks it at once
    main = [s for s in comm.states() if s.get("phase") == "main"]
    assert main and main[0]["marks"][0]["iteration"] == 50
    # no front end acked anything, yet the run finished: nothing waits for acks
    assert max(c["id"] for c, _ in frames) >= 2
    # the positions travel only as frames (see test_each_key_frame_travels_to_the_page_once)
    assert not any("embedding" in s for s in comm.states())


def test_acks_let_frames_flow_and_hello_gets_the_latest(fake_comm, small_data):
    X, _ = small_data
    w = TSNEWidget(X, frame_interval=0.0, **FAST)
    comm = w.comm
    w.run()
    w.wait(60)
    sent_without_acks = len(comm.custom("frame"))
    front_end_says(w, {"type": "hello"})
    content, bufs = comm.custom("frame")[-1]
    assert content["iteration"] == 150 and len(comm.custom("frame")) == sent_without_acks + 1
    # with acks, a second run sends many more frames than the window alone allows
    w2 = TSNEWidget(X, frame_interval=0.0, **FAST)
    c2 = w2.comm
    c2.send_orig = c2.send

    def send_and_ack(data=None, metadata=None, buffers=None):
        c2.send_orig(data, metadata, buffers)
        if data.get("method") == "custom" and data["content"]["type"] == "frame":
            front_end_says(w2, {"type": "ack", "id": data["content"]["id"]})
    c2.send = send_and_ack
    w2.run()
    w2.wait(60)
    assert len(c2.custom("frame")) > sent_without_acks + 10


def test_commands_from_the_front_end(fake_comm, small_data):
    X, _ = small_data
    w = TSNEWidget(X, early_exaggeration_iter=50, n_iter=3000, n_jobs=1)
    front_end_says(w, {"type": "command", "action": "run"})
    t0 = time.time()
    while w.iteration < 80:
        assert time.time() - t0 < 30
        time.sleep(0.01)
    front_end_says(w, {"type": "command", "action": "set", "params": {"exaggeration": "3"}})
    assert w.exaggeration == 3.0 and w.notice == ""
    front_end_says(w, {"type": "command", "action": "set", "params": {"perplexity": -1}})
    assert "perplexity" in w.notice and w.perplexity == 30.0
    front_end_says(w, {"type": "command", "action": "set", "params": {"random_state": 5.0}})
    assert w.random_state == 5 and "next run" in w.notice
    front_end_says(w, {"type": "command", "action": "pause"})
    t0 = time.time()
    while w.status != "paused":
        assert time.time() - t0 < 5
        time.sleep(0.01)
    held = w.iteration
    time.sleep(0.2)
    assert w.iteration == held
    front_end_says(w, {"type": "command", "action": "resume"})
    time.sleep(0.2)
    assert w.iteration > held
    t0 = time.perf_counter()
    front_end_says(w, {"type": "command", "action": "stop"})
    w.wait(5)
    assert time.perf_counter() - t0 < 1.0 and w.status == "stopped"
    assert any("exaggeration 3" in m["label"] for m in w.marks)


def test_labels_colours_and_thumbnails(fake_comm, small_data):
    X, y = small_data
    names = np.array(["<b>a</b>", "b", "c", "d"])[y]
    w = TSNEWidget(X, labels=names, label_name="cluster")
    assert w.color_kind == "categorical" and w.color_names == ["<b>a</b>", "b", "c", "d"]
    assert w.color_title == "cluster" and w.color_values.dtype == np.float32
    w = TSNEWidget(X, labels=X[:, 0])
    assert w.color_kind == "continuous"
    w = TSNEWidget(X, labels=y.astype(float))          # few distinct floats: categories
    assert w.color_kind == "categorical" and w.color_names[0] == "0.0"
    img = np.random.default_rng(0).random((50, 3 * 4 * 4))
    w = TSNEWidget(img, image_shape=(3, 4, 4), perplexity=5)
    assert w.image_shape == [3, 4, 4] and w.thumbnails.shape == (50, 3, 4, 4)
    assert w.thumbnails.dtype == np.uint8 and w.thumbnails.max() == 255


def test_selected_accepts_arrays_and_refuses_bad_indices(fake_comm, small_data):
    X, _ = small_data
    w = TSNEWidget(X)
    w.selected = np.array([3, 1, 2])
    assert w.selected == [3, 1, 2]
    w.selected = torch.tensor([7])
    assert w.selected == [7]
    with pytest.raises(traitlets.TraitError, match="outside 0..399"):
        w.selected = [400]
    with pytest.raises(traitlets.TraitError, match="list of row indices"):
        w.selected = ["a"]


def test_run_error_shows_in_the_widget_and_wait_reraises(fake_comm, small_data):
    X, _ = small_data
    w = TSNEWidget(X, **FAST)

    def broken(*a, **k):
        raise RuntimeError("neighbour search exploded")
    w.runner._affinities = broken
    w.run()
    with pytest.raises(RuntimeError, match="exploded"):
        w.wait(30)
    assert w.status == "error" and "exploded" in w.error


def test_inputs_of_every_kind(fake_comm, small_data):
    X, y = small_data
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    assert TSNEWidget(df, labels=pd.Series(y)).n_points == 400
    assert TSNEWidget(torch.from_numpy(X), labels=torch.from_numpy(y)).n_points == 400
    dup = np.repeat(X[:50], 3, axis=0)                 # duplicate rows must work
    w = TSNEWidget(dup, perplexity=10, **FAST)
    w.run()
    w.wait(60)
    assert np.isfinite(w.embedding).all()


def test_each_key_frame_travels_to_the_page_once(fake_comm, small_data):
    """A key frame (a pause, the run's end) reaches the page as one frame message: its
    positions are not sent again as the ``embedding`` trait nor at ``done`` (they
    travelled two or three times). A view that opens later gets the latest frame on
    hello, so the kernel keeps ``embedding`` to itself."""
    X, _ = small_data
    w = TSNEWidget(X, frame_interval=0.0, **FAST)
    comm = w.comm
    paused = []

    def pause_once(e):   # on the worker thread: pause mid-run, at a known iteration
        if e.kind == "frame" and not paused and e.data["iteration"] >= 60:
            paused.append(e.data["iteration"])
            w.pause()

    w.runner.events.subscribe(pause_once)
    w.run()
    deadline = time.time() + 60
    while w.status != "paused" and time.time() < deadline:
        time.sleep(0.01)
    assert w.status == "paused"
    at_pause = w.embedding.copy()
    w.resume()
    w.wait(60)
    assert w.status == "done" and not np.array_equal(at_pause, w.embedding)

    def times_sent(positions):
        raw = np.ascontiguousarray(positions, dtype="<f4").tobytes()
        return sum(bytes(b) == raw for _, bufs in comm.sent for b in bufs)

    key = [c for c, _ in comm.custom("frame") if c["key"]]
    assert [c["iteration"] for c in key][-1] == 150 and len(key) >= 2
    assert times_sent(at_pause) == 1
    assert times_sent(w.embedding) == 1
    # the state never carries the positions (nor a JSON copy of them)
    assert not any("embedding" in s for s in comm.states())
    assert not any(["embedding"] in d.get("buffer_paths", []) for d, _ in comm.sent)
    # a view that says hello now gets the final layout once more, as a key frame
    front_end_says(w, {"type": "hello"})
    content, bufs = comm.custom("frame")[-1]
    assert content["iteration"] == 150 and content["key"]
    assert times_sent(w.embedding) == 2
