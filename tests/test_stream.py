import threading
import time

import pytest

from vae_widgets._stream import Control, EventBus, FrameGate, Stopped, Worker


class Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def make_gate(**kw):
    sent, clock = [], Clock()
    gate = FrameGate(lambda fid, frame: sent.append((fid, frame)), clock=clock, **kw)
    return gate, sent, clock


def test_gate_throttles_by_time_and_keeps_the_latest():
    gate, sent, clock = make_gate(interval=0.1, window=10)
    assert gate.offer("a")                  # first frame goes at once
    assert not gate.offer("b")              # too soon: held
    assert not gate.offer("c")              # replaces b (latest wins)
    clock.t = 0.11
    assert gate.offer("d")                  # interval passed: d goes, c is dropped
    assert [f for _, f in sent] == ["a", "d"]
    assert gate.replaced == 2


def test_gate_window_holds_frames_until_acked():
    gate, sent, clock = make_gate(interval=0.0, window=2)
    gate.offer("a"); gate.offer("b"); gate.offer("c")
    assert [f for _, f in sent] == ["a", "b"] and gate.in_flight == 2
    gate.ack(0)                              # frees one slot: pending c goes now
    assert [f for _, f in sent] == ["a", "b", "c"]
    gate.ack(2)                              # acking an id acks all earlier ones
    assert gate.in_flight == 0


def test_gate_flush_sends_despite_window_and_unacked_frames_expire():
    gate, sent, clock = make_gate(interval=0.0, window=1, ack_timeout=2.0)
    gate.offer("a"); gate.offer("b")
    assert [f for _, f in sent] == ["a"]
    assert gate.flush() and [f for _, f in sent] == ["a", "b"]
    assert not gate.flush()                  # nothing pending
    gate.offer("c")
    assert len(sent) == 2                    # window full, no front end acks
    clock.t = 2.5                            # both in-flight frames time out
    gate.offer("d")
    assert [f for _, f in sent][-1] == "d"


def test_control_pause_blocks_until_resume_and_stop_raises():
    ctl = Control()
    ctl.pause()
    t = threading.Thread(target=lambda: (time.sleep(0.2), ctl.resume()))
    t.start()
    t0 = time.perf_counter()
    ctl.wait_while_paused()
    assert time.perf_counter() - t0 >= 0.15
    ctl.pause()
    threading.Thread(target=lambda: (time.sleep(0.1), ctl.stop())).start()
    with pytest.raises(Stopped):
        ctl.wait_while_paused()


def test_worker_reraises_and_bus_survives_a_broken_listener():
    def boom():
        raise ValueError("inside the worker")
    w = Worker(boom).start()
    with pytest.raises(ValueError, match="inside the worker"):
        w.wait(5)
    bus, seen = EventBus(), []
    bus.subscribe(lambda e: 1 / 0)
    bus.subscribe(lambda e: seen.append(e.kind))
    bus.publish("frame", x=1)
    assert seen == ["frame"] and "ZeroDivisionError" in bus.listener_errors[0]


def test_control_keeps_a_stop_asked_for_between_new_run_and_the_engines_begin():
    c = Control()
    c.stop()
    c.begin()                  # an engine's run starts: an old stop is forgotten
    assert not c.stop_requested
    c.stop()
    c.new_run()                # whoever starts a run on a thread: the old stop goes now ...
    assert not c.stop_requested
    c.stop()                   # ... a Stop pressed before the thread gets going ...
    c.begin()
    assert c.stop_requested    # ... stands when the engine begins
    c.begin()                  # (once: the next run forgets it again)
    assert not c.stop_requested
