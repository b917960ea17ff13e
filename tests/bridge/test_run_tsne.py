"""A real TSNERunner in another process streams to a listener in this one.

The job is ``python -m vae_widgets.bridge.run_tsne`` (the command line a user runs on
a server), on the digits; the listener is :func:`vae_widgets.bridge.listen`.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from vae_widgets.bridge import TOKEN_ENV, listen
from support.bridge import Recorder, wait_until

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
pytestmark = pytest.mark.slow


@pytest.fixture
def start_job():
    """Starts ``run_tsne`` jobs streaming to a listener; kills any left at the end."""
    procs = []

    def start(run, *args, n=600, token_file=None):
        env = dict(os.environ, **run.job_env())
        if token_file is not None:                 # the token from a file, not the env
            token_file.write_text(run.token + "\n")
            args = ("--token-file", str(token_file), *args)
            del env[TOKEN_ENV]
        env["PYTHONPATH"] = os.pathsep.join([ROOT, env.get("PYTHONPATH", "")])
        cmd = [sys.executable, "-X", "faulthandler", "-m", "vae_widgets.bridge.run_tsne",
               run.address, "--data", "digits", "-n", str(n), "--set", "n_jobs=1",
               "--set", "neighbors=exact", *args]
        procs.append(subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True))
        return procs[-1]

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def finish(proc, timeout=240):
    """The job's last stdout line (its JSON summary) and its stderr, once it has ended."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)           # faulthandler prints every thread's stack
        try:
            out, err = proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        raise AssertionError(f"the job did not end within {timeout} s:\n{err[-6000:]}")
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1]), err


def test_a_tsne_job_streams_frames_kl_status_and_done(tmp_path, start_job):
    out_file = tmp_path / "embedding.npy"
    with listen(quiet=True) as run:
        rec = Recorder(run.events)
        proc = start_job(run, "--set", "frame_interval=0", "--set", "kl_every=10",
                         "--set", "early_exaggeration_iter=100", "--set", "n_iter=200",
                         "--frame-interval", "0.25", "--out", str(out_file))
        result, err = finish(proc)
        status = run.wait_finished(10)
    assert result["state"] == "done" and status.state == "closed"
    states = [d["state"] for d in rec.of("status")]
    assert states[0] == "preparing" and "running" in states and states[-1] == "done"
    rows = [d["row"] for d in rec.of("kl")]
    assert [r["iteration"] for r in rows][:3] == [0, 10, 20]
    assert rows[-1]["iteration"] == 300 and all(np.isfinite(r["kl"]) for r in rows)
    assert {r["phase"] for r in rows} == {"early_exaggeration", "main"}
    # frames: the runner made one per iteration; the link sent at most one per 0.25 s
    frames = rec.of("frame")
    stats = result["link"]
    assert stats["frames_replaced"] > 100, stats
    assert all(f["embedding"].shape == (600, 2) and f["embedding"].dtype == np.float32
               for f in frames)
    plain = [f for f in frames if not f["key"]]
    runtime = stats_runtime(rec)
    assert 0 < len(plain) <= runtime / 0.25 + 2, (len(plain), runtime)
    # done carries the final embedding, identical to what the job saved
    done = rec.of("done")[0]
    assert done["stopped"] is False
    np.testing.assert_array_equal(done["embedding"], np.load(out_file))
    assert np.array_equal(frames[-1]["embedding"], done["embedding"].astype(np.float32))
    assert rec.of("quality") and 0.8 < rec.of("quality")[0]["quality"]["trustworthiness"] <= 1
    assert stats["dropped"] == {"queue_full": 0, "send_full": 0, "unsendable": 0}
    assert run.link.rejected_total == 0


def stats_runtime(rec):
    """Seconds between the first and the last status event the listener got."""
    times = [t for t, (k, _) in zip(rec.times, rec.items) if k == "status"]
    return times[-1] - times[0]


def test_stop_from_the_listener_ends_the_remote_run(start_job, tmp_path):
    with listen(quiet=True) as run:
        rec = Recorder(run.events)
        proc = start_job(run, "--set", "n_iter=100000", n=1000, token_file=tmp_path / "tok")
        wait_until(lambda: len(rec.of("kl")) >= 3, 120)
        t0 = time.monotonic()
        run.control.stop()
        result, _ = finish(proc, timeout=30)
        took = time.monotonic() - t0
        run.wait_finished(10)
    assert result["state"] == "stopped" and result["iteration"] < 10_000
    assert rec.of("done")[0]["stopped"] is True
    assert [d["state"] for d in rec.of("status")][-1] == "stopped"
    assert took < 10, took


def test_pause_holds_the_remote_run_and_set_params_acts_live(start_job):
    with listen(quiet=True) as run:
        rec = Recorder(run.events)
        proc = start_job(run, "--set", "n_iter=100000", "--set", "early_exaggeration_iter=0",
                         n=1000)
        try:
            wait_until(lambda: len(rec.of("kl")) >= 2, 120)
            run.control.pause()
            wait_until(lambda: run.control.paused and rec.of("status")[-1]["state"] == "paused")
            held = rec.of("kl")[-1]["row"]["iteration"]
            time.sleep(1.0)
            assert rec.of("kl")[-1]["row"]["iteration"] == held
            answer = run.set_params(exaggeration=3)
            assert answer == {"live": {"exaggeration": 3.0}, "next_run": {}}
            with pytest.raises(ValueError, match="exaggeration"):
                run.set_params(exaggeration=-2)
            run.control.resume()
            wait_until(lambda: any(d["changes"] == {"exaggeration": 3.0}
                                   for d in rec.of("params")), 30)
            wait_until(lambda: rec.of("kl")[-1]["row"]["iteration"] > held, 30)
            assert rec.of("kl")[-1]["row"]["exaggeration"] == 3.0
        finally:
            run.control.stop()
            finish(proc, timeout=30)


def test_a_killed_job_is_noticed_within_a_few_seconds(start_job):
    with listen(quiet=True) as run:
        rec = Recorder(run.events)
        proc = start_job(run, "--set", "n_iter=100000", n=1000)
        wait_until(lambda: len(rec.of("kl")) >= 2, 120)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        took = wait_until(lambda: run.link.state == "lost", 15)
        assert rec.of("link")[-1]["state"] == "lost"
    assert took < run._listener.timeout + 2.0, took


def test_a_listener_that_goes_away_does_not_hold_up_the_job(start_job):
    """The notebook closes mid-run: the job finishes at its own pace, memory bounded."""
    run = listen(quiet=True)
    rec = Recorder(run.events)
    proc = start_job(run, "--set", "frame_interval=0", "--set", "n_iter=1500",
                     "--frame-interval", "0.05", n=1000)
    try:
        wait_until(lambda: len(rec.of("kl")) >= 2, 120)
    finally:
        run.close()
    result, err = finish(proc, timeout=180)
    assert result["state"] == "done" and result["iteration"] == 1750
    stats = result["link"]
    assert stats["state"] == "closed" and "listener lost" in err
    assert stats["peak_queued_bytes"] < 1 << 20        # nothing piled up for a dead listener
    assert stats["unacked_bytes"] <= 32 << 20


@pytest.mark.parametrize("argv, env, words", [
    (["tcp://127.0.0.1:5555", "--data", "digits"], {}, "no token: set VAE_WIDGETS_TOKEN"),
    (["tcp://127.0.0.1:5555", "--data", "digits", "--set", "perplexity=-3"],
     {"VAE_WIDGETS_TOKEN": "t" * 43}, "perplexity"),
    (["tcp://127.0.0.1:5555", "--data", "digits", "--set", "colour=red"],
     {"VAE_WIDGETS_TOKEN": "t" * 43}, "unknown t-SNE parameter 'colour'"),
    (["localhost:5555", "--data", "digits"], {"VAE_WIDGETS_TOKEN": "t" * 43},
     "is not 'tcp://host:port'"),
    (["tcp://127.0.0.1:5555", "--data", "nope.npy"], {"VAE_WIDGETS_TOKEN": "t" * 43},
     "no such file"),
    (["tcp://127.0.0.1:5555", "--data", "digits", "--set", "perplexity"],
     {"VAE_WIDGETS_TOKEN": "t" * 43}, "is not name=value"),
])
def test_the_command_line_explains_bad_arguments(monkeypatch, capsys, argv, env, words):
    from vae_widgets.bridge import run_tsne

    monkeypatch.delenv("VAE_WIDGETS_TOKEN", raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(SystemExit) as info:
        run_tsne.main(argv)
    assert info.value.code == 2
    assert words in capsys.readouterr().err
