"""The runs going on in the kernel (issue 21, item 4): a new run's notice names the others,
``vae_widgets.running()`` lists them, ``vae_widgets.stop_all()`` stops them, closed and
freed widgets leave the list. Real openTSNE and torch on small data, through the fake comm.

Runs are held at a known point by a listener that blocks the engine's thread inside an
event (``hold``), or waited for through their own events (``reaches``): no test sleeps
and then asserts; the timeouts only bound a failure."""
import gc
import logging
import threading
import weakref

import numpy as np
import pytest

from vae_widgets import TSNEWidget, VAEWidget, running, stop_all
from vae_widgets import _runs
from vae_widgets._stream import Worker

#: long enough never to end on its own during a test: each is stopped
LONG = dict(early_exaggeration_iter=50, n_iter=100_000, n_jobs=1)
SHORT = dict(early_exaggeration_iter=25, n_iter=50, n_jobs=1)
BOUND = 60      # seconds: a failure bound, never a wait


@pytest.fixture(autouse=True)
def held():
    """Each test starts and ends with no run going on (held runs are let go first)."""
    stop_all(timeout=BOUND)
    releases = []
    yield releases
    for release in releases:
        release.set()
    stop_all(timeout=BOUND)
    assert running() == []


def reaches(bus, when) -> threading.Event:
    """An event set when the engine publishes an event for which ``when(e)`` holds."""
    seen = threading.Event()
    bus.subscribe(lambda e: seen.set() if when(e) else None)
    return seen


def hold(bus, when, held: list) -> tuple[threading.Event, threading.Event]:
    """Block the engine's thread inside the first event for which ``when(e)`` holds (after
    the widget's own handlers) until ``release`` is set: returns (reached, release)."""
    reached, release = threading.Event(), threading.Event()
    held.append(release)

    def listener(e):
        if not reached.is_set() and when(e):
            reached.set()
            release.wait(BOUND)
    bus.subscribe(listener)
    return reached, release


def is_running(e):
    return e.kind == "status" and e.data["state"] == "running"


def at_iteration(n):
    return lambda e: e.kind == "frame" and e.data["iteration"] >= n


def notices(widget):
    return [s["notice"] for s in widget.comm.states() if "notice" in s]


def vae(X, **kw):
    return VAEWidget(X.astype(np.float32), latent_dim=2, likelihood="gaussian",
                     visuals_every=None, **kw)


# ------------------------------------------------------------------ the new run's notice
def test_a_second_run_names_the_first_in_its_notice(fake_comm, small_data, held):
    X, _ = small_data
    # the cell `w = TSNEWidget(X); w.run()`, run twice: the first run goes on, unnamed
    w = TSNEWidget(X, frame_interval=0.0, **LONG)
    reached, _ = hold(w.runner.events, at_iteration(20), held)
    w.run()
    assert reached.wait(BOUND)
    first = w
    assert w.notice == ""                                   # alone: nothing to say
    w = TSNEWidget(X, **LONG)
    w.run()
    expected = (f"1 other run is still going and shares the CPU with this one: TSNEWidget "
                f"(iteration {first.iteration}/{first.n_iter_total}, started "
                f"{running()[0].started:%H:%M:%S}). Stop it with its Stop button, or in "
                f"Python with vae_widgets.stop_all(keep=<this widget>); "
                f"vae_widgets.running() lists every run.")
    assert first.iteration >= 20 and w.notice == expected
    assert notices(w).count(expected) == 1                  # one update carried it
    assert first.notice == ""                               # the old run is not told


def test_a_vae_run_names_a_tsne_run_and_a_paused_run_is_not_named(fake_comm, small_data,
                                                                  held):
    X, _ = small_data
    t = TSNEWidget(X, frame_interval=0.0, **LONG)
    reached, release = hold(t.runner.events, at_iteration(10), held)
    t.run()
    assert reached.wait(BOUND)
    v = vae(X, epochs=100_000)
    v_running = reaches(v._trainer.events, is_running)
    v.train()
    assert v.notice.startswith(f"1 other run is still going and shares the CPU with this "
                               f"one: TSNEWidget (iteration {t.iteration}/{t.n_iter_total}, ")
    assert v_running.wait(BOUND)
    # both go on: a third run names both, oldest first
    t3 = TSNEWidget(X, **LONG)
    t3.run()
    assert t3.notice.startswith("2 other runs are still going and share the CPU with this "
                                "one: TSNEWidget (iteration ")
    assert ", VAEWidget (epoch " in t3.notice and "Stop them with their Stop button" in t3.notice
    # a paused run takes no CPU: listed, but not named
    assert [r.widget for r in stop_all(keep=t)] == [v, t3]
    t.pause()
    paused = reaches(t.runner.events, lambda e: e.kind == "status"
                     and e.data["state"] == "paused")
    release.set()
    assert paused.wait(BOUND)
    t4 = TSNEWidget(X, **SHORT)
    t4.run()
    assert t4.notice == ""
    assert [(r.widget, r.status) for r in running()][0] == (t, "paused")


# ------------------------------------------------------------------ running(), stop_all()
def test_running_lists_both_runs_and_stop_all_stops_both(fake_comm, small_data):
    X, _ = small_data
    starts = []
    for _ in range(2):                   # the same cell run twice: only the last is `w`
        w = TSNEWidget(X, **LONG)
        starts.append(reaches(w.runner.events, is_running))
        w.run()
    assert all(s.wait(BOUND) for s in starts)
    runs = running()
    assert len(runs) == 2 and runs[1].widget is w and runs[0].widget is not w
    first = runs[0].widget
    assert [r.kind for r in runs] == ["TSNEWidget", "TSNEWidget"]
    assert [r.status for r in runs] == ["running", "running"]
    assert all(r.progress.startswith("iteration ") and r.progress.endswith("/100050")
               for r in runs)
    assert runs[0].started <= runs[1].started
    assert runs[0].description == "400 points × 10 dims"
    assert str(runs[0]).startswith("TSNEWidget (iteration ") and "started " in str(runs[0])
    workers = [first._worker, w._worker]
    stopped = stop_all(timeout=BOUND)
    assert [r.widget for r in stopped] == [first, w]
    assert [r.status for r in stopped] == ["stopped", "stopped"]
    assert first.status == w.status == "stopped" and not first.running and not w.running
    assert not any(r.alive for r in stopped)
    for worker in workers:               # the threads themselves end (a bounded join)
        worker.thread.join(BOUND)
        assert not worker.thread.is_alive()
    assert running() == [] and stop_all() == []


def test_stop_all_keeps_what_it_is_told_and_lists_every_worker_widget(fake_comm, small_data):
    X, _ = small_data
    s = TSNEWidget.sweep(X, [10, 20], **LONG)
    s_running = threading.Event()
    for r in s.runners:
        r.events.subscribe(lambda e: s_running.set() if is_running(e) else None)
    s.run()
    v = vae(X, epochs=100_000)
    v_running = reaches(v._trainer.events, is_running)
    v.train()
    assert s_running.wait(BOUND) and v_running.wait(BOUND)
    sweep_run, vae_run = running()
    assert (sweep_run.kind, vae_run.kind) == ("TSNESweepWidget", "VAEWidget")
    assert sweep_run.progress.startswith("perplexity 20: iteration ")      # the reference
    assert sweep_run.progress.endswith("/100050 (panel 1/2)")
    assert sweep_run.description == "400 points, 2 values of perplexity"
    assert vae_run.progress.startswith("epoch ") and vae_run.progress.endswith("/100000")
    assert vae_run.description == "400 samples"
    stopped = stop_all(keep=v, timeout=BOUND)
    assert [r.widget for r in stopped] == [s] and s.status == "stopped" and not s.running
    assert v.running and [r.widget for r in running()] == [v]
    assert running()[0].stop(timeout=BOUND) is True
    assert v.status == "stopped" and running() == []


def test_stop_all_gives_up_after_its_timeout_and_says_so(fake_comm, small_data, held,
                                                         caplog):
    X, _ = small_data
    w = TSNEWidget(X, frame_interval=0.0, **LONG)
    reached, release = hold(w.runner.events, at_iteration(5), held)
    w.run()
    assert reached.wait(BOUND)           # the engine is held inside an event: deaf to Stop
    with caplog.at_level(logging.WARNING, logger="vae_widgets"):
        (run,) = stop_all(timeout=0.3)
    assert run.alive and run.status == "running" and w.running
    assert "stop_all: TSNEWidget is still busy after 0.3 s" in caplog.text
    release.set()                        # let go: it honours the stop at once
    w.wait(BOUND)
    assert w.status == "stopped" and running() == []


def test_stop_all_stops_a_run_that_was_only_starting(fake_comm, small_data):
    X, _ = small_data
    w = TSNEWidget(X, **LONG)
    engine_run, go, asked = w.runner.run, threading.Event(), threading.Event()

    def late_run():              # the worker runs, the engine has not begun (and will
        go.wait(BOUND)           # clear stop requests made before it began)
        return engine_run()
    w.runner.run = late_run
    widget_stop = w.stop

    def stop():
        widget_stop()
        asked.set()
    w.stop = stop
    w.run()
    out = []
    stopper = threading.Thread(target=lambda: out.append(stop_all(timeout=BOUND)))
    stopper.start()
    assert asked.wait(BOUND)
    go.set()
    stopper.join(BOUND + 5)
    assert out and [r.status for r in out[0]] == ["stopped"] and not w.running


# ------------------------------------------------------------------ leaving the list
def test_a_closed_widget_leaves_running(fake_comm, small_data, held, monkeypatch):
    X, _ = small_data
    a, b = TSNEWidget(X, **LONG), TSNEWidget(X, **LONG)
    a_running, b_running = reaches(a.runner.events, is_running), reaches(b.runner.events,
                                                                          is_running)
    a.run()
    b.run()
    assert a_running.wait(BOUND) and b_running.wait(BOUND)
    assert [r.widget for r in running()] == [a, b]
    a.close()
    assert [r.widget for r in running()] == [b]
    # closed while its worker cannot end yet (held inside an event; close() gives up
    # waiting): it leaves the list at once all the same
    c = TSNEWidget(X, frame_interval=0.0, **LONG)
    reached, release = hold(c.runner.events, at_iteration(5), held)
    c.run()
    assert reached.wait(BOUND)
    monkeypatch.setattr("vae_widgets.widgets._base.CLOSE_WAIT", 0.2)
    c.close()
    assert c._worker.alive and [r.widget for r in running()] == [b]
    release.set()
    assert c._worker.join(BOUND)
    assert [r.widget for r in stop_all(timeout=BOUND)] == [b]


def test_a_freed_owner_leaves_running_the_list_holds_it_weakly():
    class Owner:                 # what the registry asks of a widget (see vae_widgets._runs)
        def stop(self):
            pass

        def _run_summary(self):
            return {"status": "running", "progress": "", "description": ""}

    release = threading.Event()
    worker = Worker(lambda: release.wait(BOUND), name="held-worker").start()
    owner = Owner()
    _runs.register(owner, worker)
    try:
        kept = running()
        assert [r.widget for r in kept] == [owner] and str(kept[0]).startswith("Owner (started ")
        ref = weakref.ref(owner)
        del owner
        gc.collect()
        assert ref() is None, "the registry (or a kept Run) holds the owner"
        assert worker.alive and running() == [] and kept[0].widget is None
    finally:
        release.set()
        worker.join(BOUND)


def test_a_kept_run_record_does_not_keep_its_widget_alive(small_data, held):
    # the comm package's own comm (a FakeComm kept by its fixture would hold the widget)
    X, _ = small_data
    w = TSNEWidget(X, frame_interval=0.0, **SHORT)
    reached, release = hold(w.runner.events, at_iteration(5), held)
    w.run()
    assert reached.wait(BOUND)
    (record,) = running()
    assert record.widget is w
    release.set()
    w.wait(BOUND)
    w.close()
    ref = weakref.ref(w)
    del w
    gc.collect()
    assert ref() is None and record.widget is None and not record.alive


def test_running_is_empty_once_the_runs_end(fake_comm, small_data, held):
    X, _ = small_data
    t = TSNEWidget(X, frame_interval=0.0, **SHORT)
    v = vae(X, epochs=2)
    t_reached, t_release = hold(t.runner.events, at_iteration(5), held)
    v_reached, v_release = hold(v._trainer.events, lambda e: e.kind == "metrics", held)
    t.run()
    v.train()
    assert t_reached.wait(BOUND) and v_reached.wait(BOUND)
    assert [(r.widget, r.kind) for r in running()] == [(t, "TSNEWidget"), (v, "VAEWidget")]
    t_release.set()
    v_release.set()
    t.wait(BOUND)
    v.wait(BOUND)
    assert t.status == v.status == "done"
    assert running() == []
