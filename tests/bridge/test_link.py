"""The bridge end to end inside one process: a real listener, a real job link, real sockets.

What a widget sees on ``RemoteRun.events`` is what it would see on the engine's own
bus; commands reach the engine; the link notices a silent or closing peer; a job
whose listener stops reading neither blocks nor grows.
"""
import math
import os
import time

import numpy as np
import pytest
import zmq

from vae_widgets.bridge import TOKEN_ENV, listen, stream_to, wire
from support.bridge import (Engine, RawPeer, Recorder, event_frames, linked, wait_until)


def same(a, b):
    """Equal event data, NaN == NaN and arrays compared by value, dtype and shape."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype
                and a.shape == b.shape and np.array_equal(a, b, equal_nan=a.dtype.kind == "f"))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b and type(a) is type(b)


EVENTS = [
    ("status", {"state": "running"}),
    ("progress", {"fraction": 0.5, "message": "nearest neighbours 1,000 / 2,000"}),
    ("kl", {"row": {"iteration": 25, "phase": "early_exaggeration", "kl": 3.25,
                    "exaggeration": 12.0, "learning_rate": 150.0}}),
    ("metrics", {"rows": [{"step": 1, "loss": float("nan"), "kl_per_dim": [0.1, 0.2]},
                          {"step": 2, "loss": float("inf"), "kl_per_dim": [0.3, 0.0]}]}),
    ("images", {"grid": "samples", "array": np.arange(2 * 1 * 8 * 8, dtype=np.uint8)
                .reshape(2, 1, 8, 8), "labels": None, "step": 7, "epoch": 0.5}),
    ("params", {"iteration": 30, "changes": {"exaggeration": 4.0}, "live": True}),
    ("done", {"embedding": np.random.default_rng(0).random((50, 2)), "kl": 1.5,
              "stopped": False, "timings": {"total": 1.25}}),
]


def test_remote_events_have_the_same_kinds_and_data_as_the_engines_own():
    with linked() as (run, link, engine):
        local, remote = Recorder(engine.events), Recorder(run.events)
        for kind, data in EVENTS:
            engine.events.publish(kind, **data)
        wait_until(lambda: len(remote.of("done")) == 1)
        got = [(k, d) for k, d in remote.items if k != "link"]
        assert [k for k, _ in got] == [k for k, _ in local.items]
        for (k, want), (_, have) in zip(local.items, got):
            assert same(have, want), k
        assert run.received["kl"] == 1


def _wakeups(thread) -> int:
    """Context switches of one thread so far (each poll() that returns is one or more)."""
    with open(f"/proc/self/task/{thread.native_id}/status") as f:
        return sum(int(line.split()[1]) for line in f
                   if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")))


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc (Linux)")
def test_an_idle_sender_sleeps_and_an_event_wakes_it():
    # the sender thread used to poll every 10 ms (100 wake-ups a second, each taking the GIL
    # from the training loop); now it sleeps until an event is queued or a heartbeat is due
    with linked() as (run, link, engine):
        time.sleep(0.3)
        before = _wakeups(link._thread)
        time.sleep(1.0)
        idle = _wakeups(link._thread) - before
        assert idle < 25, f"{idle} wake-ups in 1 s with nothing to send"
        remote = Recorder(run.events)
        engine.events.publish("status", status="running", epoch=0.0)
        wait_until(lambda: remote.of("status"), timeout=5)


def test_a_job_connects_at_once_not_a_heartbeat_later():
    # the first hello goes before the TCP connection is up and is dropped; the job used to
    # wait a whole heartbeat for the next one (1 s by default: every DDP rank stalled at the
    # start of training); now it says hello again 10, 20, 40 ms later until answered
    run = listen(quiet=True, heartbeat=5.0, timeout=20.0)
    try:
        link = stream_to(Engine(), run.address, run.token, heartbeat=5.0, timeout=20.0)
        try:
            assert link.wait_connected(2.0), "not connected within 2 s (heartbeat 5 s)"
        finally:
            link.close()
    finally:
        run.close()


def test_frames_are_rate_bound_latest_wins_and_key_frames_always_arrive():
    with linked(frame_interval=0.2) as (run, link, engine):
        remote = Recorder(run.events)
        t0 = time.monotonic()
        for i in range(300):
            key = i % 100 == 99
            engine.events.publish("frame", iteration=i, phase="main", key=key,
                                  embedding=np.full((500, 2), i, dtype=np.float32))
            time.sleep(0.004)
        elapsed = time.monotonic() - t0
        wait_until(lambda: any(f["iteration"] == 299 for f in remote.of("frame")))
        frames = remote.of("frame")
        its = [f["iteration"] for f in frames]
        assert its == sorted(its)
        assert {99, 199, 299} <= set(its)                 # key frames, all of them
        plain = [f for f in frames if not f["key"]]
        assert len(plain) <= elapsed / 0.2 + 2, (len(plain), elapsed)
        assert link.stats["frames_replaced"] >= 300 - len(frames) - 2
        for f in frames:                                   # each frame intact, its own data
            assert f["embedding"].shape == (500, 2) and (f["embedding"] == f["iteration"]).all()


def test_commands_reach_the_engine_and_set_params_answers_like_the_engine():
    with linked() as (run, link, engine):
        run.control.pause()
        wait_until(lambda: engine.control.paused)
        assert run.control.paused
        run.control.resume()
        wait_until(lambda: not engine.control.paused)
        assert run.set_params(exaggeration=4) == {"live": {"exaggeration": 4}, "next_run": {}}
        assert engine.params["exaggeration"] == 4
        with pytest.raises(ValueError, match="exaggeration must be a positive number"):
            run.set_params(exaggeration=-1)
        with pytest.raises(TypeError, match="unknown parameter 'perplexity'"):
            run.set_params(perplexity=5)
        run.control.stop()
        wait_until(lambda: engine.control.stop_requested)
        assert link.stats["commands"] == 6


def test_control_follows_the_jobs_status_events():
    with linked() as (run, link, engine):
        engine.events.publish("status", state="paused")
        wait_until(lambda: run.control.paused)
        engine.events.publish("status", state="running")
        wait_until(lambda: not run.control.paused)


def test_a_job_that_closes_says_so_and_its_final_counters_arrive():
    with linked() as (run, link, engine):
        engine.events.publish("notice", message="last words")
        link.close()
        status = run.wait_finished(5)
        assert status.state == "closed"
        assert status.job["stats"]["state"] == "closed"
        assert status.job["stats"]["sent"] >= 2 and status.job["info"]["pid"] == os.getpid()
        assert run.received["notice"] == 1


def test_a_burst_is_delivered_whole_and_the_goodbye_follows_it():
    """9,000 metrics batches at once to a listener slower than the job: none dropped (the
    link holds them until acknowledged instead of overfilling ZeroMQ's queue, which would
    refuse the newest), and the goodbye comes after the last one, so the listener says
    "closed", not "lost"."""
    n = 9000
    rows = [{"step": 0, "loss": 1.0, "recon": 0.5, "kl": 0.5}] * 20
    with linked() as (run, link, engine):
        remote = Recorder(run.events)
        run.events.subscribe(lambda e: time.sleep(0.0004))   # a view slower than the job
        for i in range(n):
            engine.events.publish("metrics", rows=rows, batch=i)
        link.close(timeout=60)
        assert run.wait_finished(10).state == "closed"
        assert [d["batch"] for d in remote.of("metrics")] == list(range(n))
        assert link.stats["dropped"] == {"queue_full": 0, "send_full": 0, "unsendable": 0}


def test_a_silent_job_is_reported_lost_within_the_timeout():
    run = listen(quiet=True, heartbeat=0.2, timeout=1.0)
    rec = Recorder(run.events)
    peer = RawPeer(run.address)
    try:
        peer.send(event_frames(wire.Signer(run.token), message="then silence"))
        run.wait_connected(5)
        t0 = time.monotonic()
        took = wait_until(lambda: run.link.state == "lost", 5)
        assert took < 2.0, took
        assert rec.of("link")[-1]["state"] == "lost"
        with pytest.raises(RuntimeError, match="no job is connected"):
            run.set_params(exaggeration=2)
        assert time.monotonic() - t0 < 3
    finally:
        peer.close()
        run.close()


def test_a_new_job_session_is_taken_on_after_the_old_one_closed_and_old_stops_are_forgotten():
    run = listen(quiet=True)
    try:
        first = Engine()
        with stream_to(first, run.address, run.token) as link:
            link.wait_connected(5)
            run.control.stop()
            wait_until(lambda: first.control.stop_requested)
        run.wait_finished(5)
        second = Engine()
        with stream_to(second, run.address, run.token) as link:
            assert link.wait_connected(5)
            wait_until(lambda: run.connected)
            assert not run.control.stop_requested
            run.control.pause()
            wait_until(lambda: second.control.paused)
            assert not second.control.stop_requested
        assert run.link.rejected_total == 0
    finally:
        run.close()


def test_set_params_times_out_when_the_job_does_not_answer():
    run = listen(quiet=True)
    peer = RawPeer(run.address)                  # signs its messages, never answers commands
    try:
        peer.send(event_frames(wire.Signer(run.token), message="hello"))
        run.wait_connected(5)
        run.reply_timeout = 0.5
        with pytest.raises(TimeoutError, match="did not answer within 0.5 s"):
            run.set_params(exaggeration=2)
    finally:
        peer.close()
        run.close()


def test_an_event_that_cannot_travel_is_dropped_and_counted_not_fatal():
    with linked() as (run, link, engine):
        remote = Recorder(run.events)
        engine.events.publish("notice", message=object())
        engine.events.publish("notice", message="fine")
        wait_until(lambda: remote.of("notice"))
        assert [d["message"] for d in remote.of("notice")] == ["fine"]
        assert link.stats["dropped"]["unsendable"] == 1
        assert not engine.events.listener_errors


# ------------------------------------------------------------------ the notebook goes away
def test_when_the_listener_closes_the_job_goes_on_and_a_pause_it_asked_for_is_lifted():
    with linked() as (run, link, engine):
        run.control.pause()
        wait_until(lambda: engine.control.paused)
        run.close()
        wait_until(lambda: link.state == "lost", 5)
        # a closed laptop does not hold the job (the link lifts the pause just after it
        # says lost, on its own thread)
        wait_until(lambda: not engine.control.paused, 5)
        t0 = time.perf_counter()
        for i in range(2000):
            engine.events.publish("kl", row={"iteration": i, "kl": 1.0})
        assert time.perf_counter() - t0 < 2.0           # never waits for the network


def test_a_silent_listener_is_lost_after_the_timeout_and_a_pause_is_lifted():
    token = "q" * 43
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    engine = Engine()
    link = stream_to(engine, f"tcp://127.0.0.1:{port}", token, heartbeat=0.2, timeout=1.0)
    try:
        assert router.poll(5000)
        peer = router.recv_multipart()[0]
        signer = wire.Signer(token)
        for frames in (signer.encode(wire.ACK, {"seq": 1, "frame_id": -1})[0],
                       signer.encode(wire.COMMAND, {"id": 1, "action": "pause"})[0]):
            router.send_multipart([peer, *frames])
        wait_until(lambda: engine.control.paused and link.state == "connected")
        took = wait_until(lambda: link.state == "lost", 5)   # then it says nothing more
        assert took < 2.5 and not engine.control.paused
    finally:
        link.close()
        router.close(0)
        ctx.term()


def _rss_bytes():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads /proc")
def test_a_listener_that_stops_reading_neither_blocks_the_job_nor_grows_its_memory():
    """1 GiB of events at a connected listener that never reads: the job drops, bounded."""
    ctx = zmq.Context()
    router = ctx.socket(zmq.ROUTER)               # accepts the connection, reads nothing
    router.setsockopt(zmq.RCVHWM, 1)
    router.setsockopt(zmq.RCVBUF, 1 << 16)
    port = router.bind_to_random_port("tcp://127.0.0.1")
    engine = Engine()
    link = stream_to(engine, f"tcp://127.0.0.1:{port}", "w" * 43, frame_interval=0.0,
                     max_queue_bytes=16 << 20, max_unacked_bytes=16 << 20)
    try:
        chunk = np.ones((1 << 20) // 4, np.float32)       # 1 MiB
        engine.events.publish("images", grid="warm", array=chunk.copy())
        time.sleep(0.3)
        rss0, worst = _rss_bytes(), 0.0
        for i in range(1024):
            t0 = time.perf_counter()
            kind = "frame" if i % 2 else "images"
            engine.events.publish(kind, iteration=i, array=chunk.copy(), key=False,
                                  embedding=chunk.reshape(-1, 2).copy())
            worst = max(worst, time.perf_counter() - t0)
        time.sleep(0.5)
        grown = _rss_bytes() - rss0
        s = link.stats
        assert s["published"] == 1025
        assert s["queued_bytes"] <= 16 << 20 and s["peak_queued_bytes"] <= (16 << 20) + (3 << 20)
        assert s["unacked_bytes"] <= (16 << 20) + (3 << 20)
        assert s["dropped"]["queue_full"] > 400          # most images were dropped, counted
        assert s["frames_sent"] <= 3                     # frames wait for acks: none come
        assert grown < 200 << 20, f"RSS grew {grown / 2**20:.0f} MiB for 1 GiB published"
        assert worst < 0.5, f"a publish took {worst:.3f} s"
    finally:
        link.close(timeout=0.5)
        router.close(0)
        ctx.term()


# ------------------------------------------------------------------ bad arguments
class NotAnEngine:
    events = None


@pytest.mark.parametrize("engine, address, kw, error, words", [
    (NotAnEngine(), "tcp://127.0.0.1:5555", {}, TypeError, "is not an engine"),
    (Engine(), "127.0.0.1:5555", {}, ValueError, "is not 'tcp://host:port'"),
    (Engine(), 5555, {}, TypeError, "address must be a string"),
    (Engine(), "tcp://127.0.0.1:99999", {}, ValueError, "is not 'tcp://host:port'"),
    (Engine(), "tcp://127.0.0.1:5555", {"frame_interval": -1}, ValueError, "frame_interval"),
    (Engine(), "tcp://127.0.0.1:5555", {"max_queue": 0}, ValueError, "max_queue"),
])
def test_stream_to_bad_arguments_name_the_argument_and_the_fix(engine, address, kw, error,
                                                               words):
    with pytest.raises(error, match=words):
        stream_to(engine, address, "x" * 43, **kw)


def test_the_token_comes_from_the_environment_or_the_error_says_how(monkeypatch):
    monkeypatch.delenv(TOKEN_ENV, raising=False)
    with pytest.raises(ValueError, match=f"set {TOKEN_ENV}"):
        stream_to(Engine(), "tcp://127.0.0.1:5555")
    run = listen(quiet=True)
    try:
        monkeypatch.setenv(TOKEN_ENV, run.token)
        with stream_to(Engine(), run.address) as link:
            assert link.wait_connected(5)
        assert run.job_env() == {TOKEN_ENV: run.token}
    finally:
        run.close()


def test_listener_timing_arguments_are_checked():
    with pytest.raises(ValueError, match="listen: timeout .* must be longer than heartbeat"):
        listen(heartbeat=2.0, timeout=1.0, quiet=True)
    with pytest.raises(ValueError, match="listen: heartbeat must be a positive number"):
        listen(heartbeat=0, quiet=True)
    with pytest.raises(ValueError, match="stream_to: timeout must be a positive number"):
        stream_to(Engine(), "tcp://127.0.0.1:5555", "x" * 43, timeout="4")


def test_ipv6_loopback_works_too(capsys):
    with linked(listen_kw={"host": "::1"}) as (run, link, engine):
        assert run.address.startswith("tcp://[::1]:")
        assert "this machine only" in run.instructions()
        remote = Recorder(run.events)
        engine.events.publish("notice", message="over IPv6")
        wait_until(lambda: remote.of("notice"))


def test_listen_prints_the_address_and_the_token(capsys):
    run = listen()
    try:
        out = capsys.readouterr().out
        assert run.address in out and run.token in out and TOKEN_ENV in out
        assert "this machine only" in out
    finally:
        run.close()


def test_a_vae_trainer_streams_through_the_same_link():
    """The bridge is engine-agnostic: a real VAETrainer's metrics, images, status and
    epochs arrive with the same kinds and data; a live parameter travels back."""
    from vae_widgets import datasets
    from vae_widgets.vae.trainer import VAETrainer

    X, y = datasets.digits()
    trainer = VAETrainer(X[:400], y[:400], image_shape=(8, 8), latent_dim=2, seed=0)
    with linked(trainer) as (run, link, engine):
        local, remote = Recorder(trainer.events), Recorder(run.events)
        assert run.set_params(beta=2.0) == {"beta": 2.0}
        with pytest.raises(ValueError, match="beta"):
            run.set_params(beta=-1.0)
        trainer.fit(epochs=2)
        link.close(timeout=30)
        run.wait_finished(10)
    kinds = [k for k, _ in local.items]
    assert {"metrics", "images", "status", "epoch"} <= set(kinds)
    got = [(k, d) for k, d in remote.items if k != "link"]
    assert [k for k, _ in got] == kinds
    for (k, want), (_, have) in zip(local.items, got):
        assert same(have, want), k          # (tuples arrive as lists; same() allows that)
    images = [d for k, d in got if k == "images"]
    assert images and images[0]["array"].dtype == np.uint8
    assert trainer.config.beta == 2.0
