"""A TSNERunner in another process streams to ``TSNEWidget.listen()``.

The job is ``python -m vae_widgets.bridge.run_tsne`` (what a user runs on a server) on
300 digits; the widget talks to the fake comm of conftest.py; the token reaches the job
through ``VAE_WIDGETS_TOKEN``. Real processes and sockets, no mocks.
"""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from conftest import front_end_says
from support.bridge import wait_until
from vae_widgets import _schema as S
from vae_widgets.bridge import TOKEN_ENV
from vae_widgets.datasets import digits
from vae_widgets.widgets.tsne_widget import TSNEWidget

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
N = 300
pytestmark = pytest.mark.slow


@pytest.fixture
def start_job(tmp_path):
    """Start ``run_tsne`` jobs streaming to a widget; end what is left (SIGTERM, then SIGKILL)."""
    procs = []

    def start(widget, *args, token=None):
        env = dict(os.environ, **widget.remote.job_env(),
                   PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
        if token is not None:
            env[TOKEN_ENV] = token
        cmd = [sys.executable, "-m", "vae_widgets.bridge.run_tsne", widget.remote.address,
               "--data", "digits", "-n", str(N), "--set", "n_jobs=1",
               "--set", "neighbors=exact", *args]
        out = open(tmp_path / f"job{len(procs)}.log", "w+")   # a file: no pipe to fill
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        p.output = out
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        p.output.close()


def output(proc) -> str:
    proc.output.seek(0)
    return proc.output.read()


def ended(proc, timeout=120) -> dict:
    """The job's JSON summary (its last line), once it has ended with status 0."""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the job did not end within {timeout} s:\n{output(proc)[-4000:]}")
    text = output(proc)
    assert proc.returncode == 0, text[-3000:]
    return json.loads(text.strip().splitlines()[-1])


def frames_sent(comm):
    return comm.custom(S.FRAME)


def test_a_job_streams_frames_kl_and_its_final_embedding(fake_comm, start_job, tmp_path, capsys):
    labels = digits()[1][:N]
    w = TSNEWidget.listen(labels=labels)
    printed = capsys.readouterr().out
    assert w.remote.address in printed and w.remote.token in printed
    assert w.n_points == N and w.color_kind == "categorical"      # colour from local labels
    front_end_says(w, {"type": S.HELLO})
    out_file = tmp_path / "embedding.npy"
    job = start_job(w, "--set", "early_exaggeration_iter=60", "--set", "n_iter=90",
                    "--set", "kl_every=10", "--frame-interval", "0.02", "--out", str(out_file))
    result = ended(job)
    wait_until(lambda: w.quality, timeout=10)        # the last event the job sends
    assert result["state"] == "done" and w.status == "done"
    final = np.load(out_file)
    assert w.embedding.shape == (N, 2)
    np.testing.assert_allclose(w.embedding, final.astype(np.float32), rtol=0, atol=1e-6)
    sent = frames_sent(w.comm)
    assert len(sent) >= 2 and sent[-1][0]["iteration"] == 150      # frames reached the page
    assert w.iteration == 150 and w.n_iter_total == 150
    kl = w.kl_history
    assert kl["iteration"][:3] == [0, 10, 20] and kl["iteration"][-1] == 150
    assert w.history["kl"].notna().all() and len(w.history) == len(kl["kl"])
    assert w.marks == [{"iteration": 60, "label": "exaggeration off"}]
    hist = w.frame_history
    assert hist.shape[1:] == (N, 2) and np.array_equal(hist[-1], w.embedding)
    front_end_says(w, {"type": S.REPLAY, "index": -1, "view": "a"})   # the scrubber
    assert w.comm.custom(S.REPLAY)[-1][0]["iteration"] == 150
    assert w.save_html(tmp_path / "remote.html").exists()
    assert "300 points × 64 dims" in w.info and "streamed from" in w.info
    assert "Barnes-Hut" in w.info and "exact kNN (k=90)" in w.info
    assert w.perplexity == 30 and w.n_iter == 90
    with pytest.raises(RuntimeError, match="needs the runner"):
        w.add_points(np.zeros((2, 64)))
    with pytest.raises(RuntimeError, match="listens for a t-SNE job"):
        w.run()
    w.close()


def test_pause_live_params_and_stop_from_the_widget_reach_the_job(fake_comm, start_job):
    w = TSNEWidget.listen(n_points=N, quiet=True)
    job = start_job(w, "--set", "early_exaggeration_iter=20", "--set", "n_iter=1000000",
                    "--set", "kl_every=10")
    wait_until(lambda: w.status == "running" and w.iteration > 30, timeout=90)
    assert w.running
    w.pause()
    wait_until(lambda: w.status == "paused", timeout=10)
    result = w.set_params(exaggeration=2.5, perplexity=10)
    assert result["live"] == {"exaggeration": 2.5} and result["next_run"] == {"perplexity": 10}
    assert w.exaggeration == 2.5 and w.perplexity == 10
    w.resume()
    wait_until(lambda: any("exaggeration 2.5" in m["label"] for m in w.marks), timeout=10)
    with pytest.raises(ValueError, match="refused"):
        w.set_params(learning_rate=-1)
    w.stop()
    result = ended(job, timeout=30)
    assert result["state"] == "stopped"
    wait_until(lambda: w.status == "stopped", timeout=10)
    assert not w.running
    w.close()


def test_a_killed_job_is_reported_lost(fake_comm, start_job):
    w = TSNEWidget.listen(n_points=N, quiet=True, heartbeat=0.5, timeout=2.0)
    job = start_job(w, "--set", "n_iter=1000000")
    wait_until(lambda: w.status == "running", timeout=90)
    os.killpg(job.pid, signal.SIGKILL)
    job.wait()
    took = wait_until(lambda: w.status == "error", timeout=10)
    assert "Lost the t-SNE job" in w.error and took < 8
    w.close()


def test_a_job_with_another_token_is_refused(fake_comm, start_job):
    w = TSNEWidget.listen(n_points=N, quiet=True)
    job = start_job(w, "--wait", "30", token="x" * 43)
    wait_until(lambda: "Refused" in w.notice, timeout=90)
    assert w.iteration == 0 and w.status == "idle" and not frames_sent(w.comm)
    assert job.poll() is None          # still waiting for a listener that answers it
    w.close()


def test_listen_needs_the_number_of_points(fake_comm):
    with pytest.raises(ValueError, match="n_points"):
        TSNEWidget.listen(quiet=True)


def test_a_widget_that_listens_after_the_job_started_joins_the_run_under_way(
        fake_comm, start_job, tmp_path):
    # the job starts first (--wait 0: it does not wait for a notebook) and optimises; the
    # notebook listens later on the address and token the job was given: the job's link
    # says hello until answered and sends its description first, then the run goes on
    # streaming into the widget from where it is; Stop from the widget ends it
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    token = "t" * 43

    class Later:                         # what start_job needs before the widget exists
        remote = type("R", (), {"address": f"tcp://127.0.0.1:{port}",
                                "job_env": staticmethod(lambda: {})})()

    job = start_job(Later, "--wait", "0", "--set", "early_exaggeration_iter=20",
                    "--set", "n_iter=1000000", "--set", "kl_every=10",
                    "--frame-interval", "0.02", token=token)
    # the job is under way before anyone listens: it runs anyway, and it optimises (on a
    # loaded machine the affinities take a while; a widget that listened then would get
    # the initial layout, iteration 0, first: a join, but not one mid-run)
    wait_until(lambda: "running anyway" in output(job) and
               "phase early_exaggeration from iteration" in output(job), timeout=60)
    w = TSNEWidget.listen(port=port, n_points=N, token=token, quiet=True)
    front_end_says(w, {"type": S.HELLO})
    wait_until(lambda: w.status == "running" and w.iteration > 20, timeout=60)
    joined_at = w.iteration
    wait_until(lambda: w.iteration > joined_at + 20, timeout=60)     # it goes on streaming
    assert frames_sent(w.comm) and w.frame_history.shape[1:] == (N, 2)
    assert frames_sent(w.comm)[0][0]["iteration"] > 0                 # joined mid-run
    assert w.perplexity == 30 and "streamed from" in w.info          # the description came
    assert w.kl_history["iteration"][-1] > 20                         # KL from where it is
    front_end_says(w, {"type": "command", "action": "stop"})
    result = ended(job)
    assert result["state"] == "stopped"
    wait_until(lambda: w.status == "stopped", timeout=10)
    w.close()


def test_a_job_that_joins_during_affinities_and_closes_is_shown_then_stopped(fake_comm):
    """The link's news as the widget shows it, for the t-SNE's own active states (preparing,
    affinities), not only running/paused: a job described while it computes affinities
    shows that status, and its link closing without a final status shows stopped."""
    from vae_widgets.bridge.listener import CLOSED, CONNECTED

    w = TSNEWidget.listen(n_points=N, quiet=True)
    try:
        r = w.remote
        r._on_link({"state": CONNECTED, "session": "s1"})
        r._on_describe({"rows": N, "state": "affinities", "pid": 7, "host": "node1"})
        assert w.status == "affinities"
        r._on_link({"state": CLOSED, "session": "s1"})
        assert w.status == "stopped" and "ended without a final status" in w.notice
    finally:
        w.close()
