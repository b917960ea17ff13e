"""Nothing lost, nothing leaked: close() stops the work, closed widgets are freed, messages
from the page never raise in the kernel, failing listeners are shown (issue 14)."""
import gc
import logging
import threading
import time
import tracemalloc
import weakref

import numpy as np
import pytest

from vae_widgets import TSNEWidget, VAEWidget
from vae_widgets._stream import MAX_LISTENER_ERRORS, EventBus
from vae_widgets.widgets.anomaly_widget import AnomalyWidget


def worker_threads(name):
    return [t for t in threading.enumerate() if t.name == name]


@pytest.fixture
def data():
    return np.random.default_rng(0).normal(size=(400, 12))


# ------------------------------------------------------------------ close() stops the work
def test_close_stops_a_running_tsne_and_it_cannot_run_again(fake_comm, data):
    w = TSNEWidget(data, n_iter=100_000, early_exaggeration_iter=50)
    w.run()
    t0 = time.time()
    while w.iteration < 5:
        assert time.time() - t0 < 60, "t-SNE never started iterating"
        time.sleep(0.01)
    t0 = time.perf_counter()
    w.close()
    closed_s = time.perf_counter() - t0
    assert not w.running and w.status == "stopped"
    assert not worker_threads("tsne-runner"), "the worker thread outlived close()"
    assert closed_s < 5, f"close() took {closed_s:.1f} s"
    with pytest.raises(RuntimeError, match=r"was closed \(close\(\) was called\); make a new one"):
        w.run()


def test_close_stops_a_training_vae(fake_comm, data):
    v = VAEWidget(data.astype(np.float32), latent_dim=2, epochs=100_000,
                  likelihood="gaussian", visuals_every=None)
    v.train()
    t0 = time.time()
    while v.step < 3:
        assert time.time() - t0 < 60, "training never started"
        time.sleep(0.01)
    v.close()
    assert not v.running and v.status == "stopped"
    assert not worker_threads("vae-trainer")


# ------------------------------------------------------------------ a Stop right after run()
@pytest.mark.parametrize("kind", ["tsne", "vae", "sweep"])
def test_a_stop_pressed_right_after_run_returns_stops_that_run(fake_comm, data, kind):
    # run() returns before the worker thread has started the engine's run: the engine's
    # start forgets old stops, and must not forget this one (it did: the run went on)
    if kind == "tsne":
        w = TSNEWidget(data, n_iter=100_000, early_exaggeration_iter=50)
    elif kind == "vae":
        w = VAEWidget(data.astype(np.float32), latent_dim=2, epochs=100_000,
                      likelihood="gaussian", visuals_every=None)
    else:
        from vae_widgets import TSNESweepWidget
        w = TSNESweepWidget(data, [5, 10], param="perplexity", n_iter=100_000)
    # a loaded machine: the worker thread gets going a moment after run() returned
    engine, name = {"tsne": (w._runner if kind == "tsne" else None, "run"),
                    "vae": (w._trainer if kind == "vae" else None, "fit"),
                    "sweep": (w.runners[0] if kind == "sweep" else None, "run")}[kind]
    real = getattr(engine, name)

    def slow_to_start(*args, **kwargs):
        time.sleep(0.2)
        return real(*args, **kwargs)

    setattr(engine, name, slow_to_start)
    for _ in range(3):                      # and again: each run's own Stop
        w.run()
        w.stop()
        w.wait(60)
        assert [w.status, w.running] == ["stopped", False]
    w.close()


# ------------------------------------------------------------------ closed widgets are freed
def _tsne(X):
    w = TSNEWidget(X, n_iter=20, early_exaggeration_iter=10)
    w.run()
    w.wait()
    return w


def _sweep(X):
    w = TSNEWidget.sweep(X, [5, 10], n_iter=20, early_exaggeration_iter=10)
    w.run()
    w.wait()
    return w


def _vae(X):
    v = VAEWidget(X.astype(np.float32), latent_dim=2, epochs=1, likelihood="gaussian",
                  visuals_every=None)
    v.train()
    v.wait()
    return v


def _anomaly(X):
    scores = np.linalg.norm(X, axis=1)
    return AnomalyWidget(scores, X=X)


@pytest.mark.parametrize("make", [_tsne, _sweep, _vae, _anomaly],
                         ids=["TSNEWidget", "TSNESweepWidget", "VAEWidget", "AnomalyWidget"])
def test_a_closed_widget_is_collected_and_its_memory_returned(make):
    # the comm package's own comm (no fake: a FakeComm kept by its fixture would hold the widget)
    X = np.random.default_rng(1).normal(size=(3000, 400))   # 9.6 MB of float64
    w = make(X)          # warm-up: imports, caches and first-call allocations
    w.close()
    del w
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        w = make(X)
        ref = weakref.ref(w)
        held = tracemalloc.get_traced_memory()[0] - before
        w.close()
        del w
        gc.collect()
        assert ref() is None, (
            f"a closed {make.__name__[1:]} widget is still referenced by "
            f"{[type(r).__name__ for r in gc.get_referrers(ref())][:6]}")
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert held > 50_000, f"the widget held only {held} bytes: the test measures nothing"
    assert left < 0.1 * held + 64_000, f"{left / 1e6:.1f} of {held / 1e6:.1f} MB not returned"


def test_hot_reload_stays_available_and_does_not_hold_widgets(monkeypatch, tmp_path):
    """ANYWIDGET_HMR=1: the bundle file is watched; an edit reaches live widgets (through a
    weak reference, so a closed widget is still freed)."""
    pytest.importorskip("watchfiles")
    from vae_widgets.widgets._base import BundledWidget

    monkeypatch.setenv("ANYWIDGET_HMR", "1")
    esm = tmp_path / "dev.js"      # outside site-packages, as in a source checkout
    esm.write_text("export default { render() {} };\n")

    class Dev(BundledWidget):
        _esm = esm

    assert isinstance(Dev._esm, str) and "_esm" in Dev._hot_files
    a, b = Dev(), Dev()
    ref = weakref.ref(b)
    b.close()
    del b
    gc.collect()
    assert ref() is None
    esm.write_text("export default { render({ el }) { el.textContent = 'v2'; } };\n")
    t0 = time.time()
    while "v2" not in a._esm:
        assert time.time() - t0 < 10, "the edited file never reached the widget"
        time.sleep(0.05)
    a.close()
    Dev._hot_files["_esm"].stop_thread()


# ------------------------------------------------------------------ messages from the page
@pytest.mark.parametrize("content", [
    {"type": "ack", "id": "3"},
    {"type": "ack", "id": None},
    {"type": "ack"},
    {"type": "ack", "id": True},
    {"type": "command", "action": "set", "params": [1, 2]},
    ["not", "a", "dict"],
    None,
    {"type": "command", "action": ["run"]},
])
def test_malformed_messages_from_the_page_never_raise(fake_comm, data, content, caplog):
    w = TSNEWidget(data)
    with caplog.at_level(logging.WARNING, logger="vae_widgets"):
        w._on_custom_msg(w, content, [])
    assert not w.running
    if isinstance(content, dict) and content.get("type") == "ack" or not isinstance(content,
                                                                                     dict):
        assert "malformed message" in caplog.text


def test_a_set_command_validates_every_parameter_before_applying_any(fake_comm, data):
    w = TSNEWidget(data, perplexity=20)
    w._on_custom_msg(w, {"type": "command", "action": "set",
                         "params": {"perplexity": 10, "learning_rate": "abc"}}, [])
    assert w.params.perplexity == 20 and w.perplexity == 20
    assert w.notice == "learning_rate: 'abc' is not a number."
    w._on_custom_msg(w, {"type": "command", "action": "set",
                         "params": {"perplexity": 10, "exaggeration": -1}}, [])
    assert w.params.perplexity == 20 and "exaggeration" in w.notice


# ------------------------------------------------------------------ errors nobody sees
def test_event_bus_keeps_a_bounded_record_and_logs_once(caplog):
    bus, told = EventBus(), []
    bus.on_listener_error(lambda fn, e, exc: told.append((e.kind, type(exc).__name__)))

    def broken(event):
        raise ZeroDivisionError("boom")

    bus.subscribe(broken)
    with caplog.at_level(logging.WARNING, logger="vae_widgets"):
        for _ in range(5 * MAX_LISTENER_ERRORS):
            bus.publish("frame", x=1)
    assert len(bus.listener_errors) == MAX_LISTENER_ERRORS
    assert bus.listener_failures == 5 * MAX_LISTENER_ERRORS
    assert len(told) == 5 * MAX_LISTENER_ERRORS and told[0] == ("frame", "ZeroDivisionError")
    warnings = [r for r in caplog.records if "broken" in r.getMessage()]
    assert len(warnings) == 1 and "ZeroDivisionError: boom" in warnings[0].getMessage()


def test_a_failing_widget_handler_is_shown_in_the_widget(fake_comm, data, caplog):
    w = TSNEWidget(data, n_iter=50, early_exaggeration_iter=25, kl_every=5)

    def broken_kl(row):
        raise KeyError("kl handler bug")

    w._on_kl = broken_kl               # the widget's own handler of the "kl" event fails
    with caplog.at_level(logging.WARNING, logger="vae_widgets"):
        w.run()
        w.wait()
    assert w.status == "done"          # the run goes on
    assert "'kl' event" in w.notice and "KeyError" in w.notice and "kl handler bug" in w.notice
    assert sum("broken_kl" in r.getMessage() for r in caplog.records) == 1
    assert 0 < len(w.runner.events.listener_errors) <= MAX_LISTENER_ERRORS


# ------------------------------------------------------------------ hosts that drop frames
def test_a_view_that_acknowledges_no_frame_is_reported(fake_comm, data, caplog):
    """A page said hello, then acks nothing (marimo <= 0.23.13 drops messages sent from a
    thread; a closed tab): say so in the widget and in the log, once; an ack clears it."""
    w = TSNEWidget(data, n_iter=400, early_exaggeration_iter=50, frame_interval=0.0)
    w._gate.ack_timeout = 0.01
    w._on_custom_msg(w, {"type": "hello"}, [])
    with caplog.at_level(logging.WARNING, logger="vae_widgets"):
        w.run()
        w.wait()
    assert "acknowledged no frame" in w.notice and "marimo" in w.notice
    assert sum("acknowledged no frame" in r.getMessage() for r in caplog.records) == 1
    w._on_custom_msg(w, {"type": "ack", "id": 0}, [])
    assert w.notice == ""


def test_frames_are_not_reported_without_a_view(fake_comm, data):
    """nbclient, scripts: no view ever said hello, so unacknowledged frames are normal."""
    w = TSNEWidget(data, n_iter=400, early_exaggeration_iter=50, frame_interval=0.0)
    w._gate.ack_timeout = 0.01
    w.run()
    w.wait()
    assert w._gate.unacked >= w.frame_window and w.notice == ""


def test_the_worker_is_a_plain_thread_outside_marimo(fake_comm, data):
    from vae_widgets.widgets._base import host_thread_class

    pytest.importorskip("marimo")     # imported, but no marimo runtime on this thread
    assert host_thread_class() is threading.Thread
    w = TSNEWidget(data, n_iter=10, early_exaggeration_iter=10)
    w.run()
    assert type(w._worker.thread) is threading.Thread
    w.wait()


@pytest.mark.parametrize("module, host, advice", [
    ("solara.server.app", "Solara", "solara.use_memo"),
    ("shiny.session", "Shiny", "@render_widget"),
])
def test_a_widget_closed_by_its_host_says_which_host_and_what_to_do(fake_comm, module, host,
                                                                     advice):
    """A host's own code (here run as code of a module of that name) closes the widget, as
    Solara does for a widget made at module level when a session ends: running it again
    names the host and the idiom, not only 'closed'."""
    w = TSNEWidget(np.random.default_rng(0).normal(size=(60, 4)), n_jobs=1, perplexity=10)
    exec("def end_session(widget):\n    widget.close()\n", host_globals := {"__name__": module})
    host_globals["end_session"](w)
    with pytest.raises(RuntimeError, match=f"was closed by {host}, not by your code.*{advice}"):
        w.run()
