"""Nobody else gets in: a real listener, a real honest job, and an attacker on the same port.

Every bad message is rejected and counted under its reason, the listener stays up,
and the honest job's events keep arriving after each attack.
"""
import json
import os
import time

import numpy as np
import pytest
import zmq

from vae_widgets.bridge import Limits, listen, wire
from vae_widgets.bridge import job as job_mod
from support.bridge import Engine, RawPeer, Recorder, event_frames, linked, wait_until

SMALL = Limits(max_header_bytes=16 << 10, max_buffer_bytes=1 << 20, max_message_bytes=2 << 20,
               max_elements=1 << 18, max_buffers=4)


@pytest.fixture
def honest(monkeypatch):
    """A connected honest job whose sent frames are recorded (for the replay attack)."""
    sent = []
    real_send = job_mod.transport.send_nowait

    def recording_send(sock, frames):
        sent.append([bytes(f) for f in frames])
        return real_send(sock, frames)

    monkeypatch.setattr(job_mod.transport, "send_nowait", recording_send)
    with linked(listen_kw={"limits": SMALL}) as (run, link, engine):
        yield run, engine, sent


def still_serving(run, engine, rec, n):
    """The honest job's next event arrives; returns after it did."""
    engine.events.publish("notice", message=f"honest {n}")
    wait_until(lambda: any(d.get("message") == f"honest {n}" for d in rec.of("notice")), 5)
    assert run.link.state == "connected" and run._listener.alive


def counted(run, reason, before):
    wait_until(lambda: run.link.rejected[reason] > before.get(reason, 0), 5)
    return run.link.rejected


def attacks(token, session):
    """(name, reason, frames) for each attack; signed ones use the real token (an insider's
    or a bug's message must still be checked after the signature)."""
    outsider = wire.Signer("x" * 43)
    good = event_frames(outsider, message="hi")
    head = json.dumps({"v": 1, "type": "event", "session": session, "seq": 2 * 10**9,
                       "time": 0.0, "arrays": [["<c16", [1]]],
                       "body": {"kind": "x", "data": {"a": {"$nd": 0}}}}).encode()
    wrong_dtype = [wire._mac(wire.key_from_token(token), [head, b"\0" * 16]), head, b"\0" * 16]
    shape_lie = json.dumps({"v": 1, "type": "event", "session": session, "seq": 2 * 10**9 + 1,
                            "time": 0.0, "arrays": [["<f8", [1 << 20]]],
                            "body": {"kind": "x", "data": {"a": {"$nd": 0}}}}).encode()
    too_many = [wire._mac(wire.key_from_token(token), [shape_lie, b"\0" * 8]), shape_lie,
                b"\0" * 8]
    return [
        ("forged signature", wire.R_SIGNATURE, [os.urandom(32), *good[1:]]),
        ("unsigned", wire.R_SIGNATURE, [b"", *good[1:]]),
        ("wrong token", wire.R_SIGNATURE, good),
        ("oversized header", wire.R_SIZE, [os.urandom(32), b"{" + b" " * (20 << 10) + b"}"]),
        ("oversized buffer", wire.R_SIZE, [os.urandom(32), good[1], os.urandom(1536 << 10)]),
        ("wrong dtype", wire.R_BUFFER, wrong_dtype),
        ("declared shape over the limits", wire.R_BUFFER, too_many),
        ("garbage bytes", wire.R_SIGNATURE, [os.urandom(50), os.urandom(300)]),
        ("one frame", wire.R_FRAMES, [os.urandom(64)]),
        ("too many frames", wire.R_FRAMES, [os.urandom(8)] * 8),
        ("another session while the job streams", wire.R_SESSION,
         event_frames(wire.Signer(token), message="hijack")),
    ]


def test_every_attack_is_rejected_counted_and_the_honest_job_keeps_streaming(honest):
    run, engine, sent = honest
    rec = Recorder(run.events)
    attacker = RawPeer(run.address)
    try:
        still_serving(run, engine, rec, 0)
        for i, (name, reason, frames) in enumerate(attacks(run.token, run.link.session), 1):
            before = dict(run.link.rejected)
            attacker.send(frames)
            after = counted(run, reason, before)
            others = {k: after[k] - before[k] for k in after if k != reason}
            assert not any(others.values()), f"{name}: also counted as {others}"
            assert after[reason] == before[reason] + 1, name
            assert reason in run.link.last_rejection, name
            still_serving(run, engine, rec, i)
        assert not any(d.get("message") in ("hi", "hijack") for d in rec.of("notice"))
        assert "x" not in rec.kinds()
        # the rejections are reported on the bus (at most every 0.5 s), as "link" events
        # a widget can show
        n = len(attacks(run.token, "s"))
        wait_until(lambda: rec.of("link") and rec.of("link")[-1]["rejected_total"] == n, 3)
    finally:
        attacker.close()


def test_replayed_messages_of_the_honest_job_are_rejected(honest):
    run, engine, sent = honest
    rec = Recorder(run.events)
    engine.events.publish("notice", message="once")
    wait_until(lambda: rec.of("notice"))
    recorded = next(f for f in sent if b'"once"' in f[1])
    attacker = RawPeer(run.address)
    try:
        for _ in range(3):
            attacker.send(recorded)
        wait_until(lambda: run.link.rejected[wire.R_STALE] == 3)
        still_serving(run, engine, rec, 1)
        assert [d["message"] for d in rec.of("notice")] == ["once", "honest 1"]
    finally:
        attacker.close()


def test_reordered_messages_are_rejected():
    """A hand-driven job sends sequence 1, 3, 2: the late one is refused."""
    run = listen(quiet=True)
    rec = Recorder(run.events)
    peer = RawPeer(run.address)
    try:
        signer = wire.Signer(run.token)
        first, second, third = (event_frames(signer, message=m) for m in ("1", "2", "3"))
        for frames in (first, third, second):
            peer.send(frames)
        wait_until(lambda: run.link.rejected[wire.R_STALE] == 1)
        assert [d["message"] for d in rec.of("notice")] == ["1", "3"]
        assert run.link.state == "connected"
    finally:
        peer.close()
        run.close()


def test_a_frame_beyond_the_hard_limit_is_cut_by_zeromq_and_the_listener_lives_on(honest):
    """Frames over twice ``max_buffer_bytes`` never get assembled: ZeroMQ drops that
    connection (MAXMSGSIZE). The honest job is on another connection and goes on."""
    run, engine, _ = honest
    rec = Recorder(run.events)
    attacker = RawPeer(run.address)
    try:
        attacker.send([os.urandom(32), b"{}", os.urandom(SMALL.hard_frame_bytes + 1)])
        time.sleep(0.3)
        still_serving(run, engine, rec, 1)
    finally:
        attacker.close()


def test_the_job_rejects_commands_not_signed_with_its_token():
    """The listener's side is checked too: a forged stop never reaches the engine."""
    engine = Engine()
    ctx = zmq.Context()
    fake = ctx.socket(zmq.ROUTER)
    port = fake.bind_to_random_port("tcp://127.0.0.1")
    link = job_mod.stream_to(engine, f"tcp://127.0.0.1:{port}", "k" * 43, heartbeat=0.1)
    try:
        assert fake.poll(5000)
        peer = fake.recv_multipart()[0]
        forged, _ = wire.Signer("z" * 43).encode(wire.COMMAND, {"id": 1, "action": "stop"})
        fake.send_multipart([peer, *forged])
        wait_until(lambda: link._counts["rejected"] == 1)
        assert not engine.control.stop_requested and link._counts["commands"] == 0
        signed, _ = wire.Signer("k" * 43).encode(wire.COMMAND, {"id": 2, "action": "stop"})
        fake.send_multipart([peer, *signed])
        wait_until(lambda: engine.control.stop_requested)
        fake.send_multipart([peer, *signed])           # the same command again: a replay
        wait_until(lambda: link._counts["rejected"] == 2)
        assert link._counts["commands"] == 1
    finally:
        link.close()
        fake.close(0)
        ctx.term()


@pytest.fixture
def flaky_decoder(monkeypatch):
    """Fault injection: decoding a message whose header holds b"boom" raises a
    RuntimeError, as an unforeseen bug in the decoder would."""
    real = wire.decode

    def flaky(frames, key, limits):
        if b"boom" in bytes(frames[1]):
            raise RuntimeError("an unforeseen decoder bug")
        return real(frames, key, limits)

    monkeypatch.setattr(wire, "decode", flaky)


def test_a_decoder_failure_on_the_job_side_does_not_end_the_streaming(flaky_decoder):
    with linked() as (run, link, engine):
        rec = Recorder(run.events)
        run._listener.send(wire.COMMAND, {"id": 99, "action": "pause", "boom": True})
        wait_until(lambda: link._counts["rejected"] == 1)
        assert not engine.control.paused
        still_serving(run, engine, rec, 1)
        run.control.pause()                         # the link still takes commands
        wait_until(lambda: engine.control.paused)


def test_listener_binds_loopback_unless_told_and_rejects_bad_hosts():
    run = listen(quiet=True)
    try:
        assert run.address.startswith("tcp://127.0.0.1:")
        assert run._listener._sock.getsockopt_string(zmq.LAST_ENDPOINT).startswith(
            "tcp://127.0.0.1:")
        assert len(run.token) >= 40                      # 32 random bytes, url-safe
    finally:
        run.close()
    other = listen(quiet=True)
    try:
        assert other.token != run.token                  # a fresh token per listener
    finally:
        other.close()
    with pytest.raises(ValueError, match="not an IP address"):
        listen(host="notebook.example.org", quiet=True)
    with pytest.raises(ValueError, match="at least 32 characters"):
        listen(token="short", quiet=True)
    with pytest.raises(ValueError, match="port must be an int"):
        listen(port=70000, quiet=True)


def test_two_listeners_on_one_port_fail_with_a_clear_error():
    run = listen(quiet=True)
    try:
        with pytest.raises(OSError, match="pick another port"):
            listen(port=run._listener.port, quiet=True)
    finally:
        run.close()


def test_received_arrays_are_plain_numbers_never_objects(honest):
    run, engine, _ = honest
    rec = Recorder(run.events)
    engine.events.publish("images", grid="samples", array=np.arange(12, dtype=np.uint8))
    wait_until(lambda: rec.of("images"))
    arr = rec.of("images")[0]["array"]
    assert arr.dtype == np.uint8 and arr.tolist() == list(range(12))


def test_a_decoder_failure_is_a_rejection_not_the_end_of_the_listener(flaky_decoder, honest):
    """Should decoding ever raise something unforeseen, the message is counted as
    rejected and the listener goes on serving."""
    run, engine, _ = honest
    rec = Recorder(run.events)
    attacker = RawPeer(run.address)
    try:
        attacker.send([os.urandom(32), b'{"boom": 1}'])
        wait_until(lambda: run.link.rejected[wire.R_HEADER] == 1)
        assert "undecodable (RuntimeError)" in run.link.last_rejection
        still_serving(run, engine, rec, 1)
    finally:
        attacker.close()
