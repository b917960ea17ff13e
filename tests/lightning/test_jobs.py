"""Lightning jobs launched outside the notebook stream to ``VAEWidget.listen()``.

The job is ``tests/support/lightning_run.py`` (a TinyVAE on the digits with
``vae_widgets.lightning.StreamTo``), started as a user would: ``python train.py`` with
``strategy="ddp"`` (Lightning re-launches the script for rank 1), or under
``torchrun --nproc_per_node=2``. The widget talks to a fake comm; the token reaches the
job through ``VAE_WIDGETS_TOKEN``.
"""
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

pytest.importorskip("lightning")

from conftest import front_end_says  # noqa: E402
from support.bridge import wait_until  # noqa: E402
from support.lightning_run import rank_logs  # noqa: E402
from vae_widgets import VAEWidget  # noqa: E402
from vae_widgets.lightning import CHECK_EVERY  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
JOB = os.path.join(ROOT, "tests", "support", "lightning_run.py")
PER_RANK = 512 // 16 // 2
pytestmark = pytest.mark.slow


@pytest.fixture
def start_job(tmp_path):
    """Start a job streaming to ``widget``; end what is left at the end (SIGTERM first: torchrun
    passes it on to its workers, which run in sessions of their own)."""
    procs = []

    def start(widget, *args, launcher=(sys.executable,)):
        env = dict(os.environ, **widget.remote.job_env(),
                   PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
        cmd = [*launcher, JOB, widget.remote.address, "--out", str(tmp_path), *args]
        out = open(tmp_path / f"job{len(procs)}.log", "w+")   # a file: no pipe left open by
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT,  # an orphan
                             text=True, start_new_session=True)
        p.output = out
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGTERM)
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        p.output.close()


def ended(proc, timeout=300):
    def output():
        proc.output.seek(0)
        return proc.output.read()

    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError(f"the job did not end within {timeout} s:\n{output()[-6000:]}")
    out = output()
    assert proc.returncode == 0, out[-4000:]
    return out


def test_a_ddp_script_streams_rank_0_to_a_listening_widget_and_stop_ends_both_ranks(
        fake_comm, start_job, tmp_path, capsys):
    v = VAEWidget.listen()
    printed = capsys.readouterr().out
    assert v._remote.address in printed and v._remote.token in printed
    assert "StreamTo" in printed and "this machine only" in printed
    assert v.latent_dim == 0 and "listening on" in v.info

    job = start_job(v, "--strategy", "ddp", "--epochs", "6", "--step-delay", "0.01")
    wait_until(lambda: v.status == "running" and v.step >= PER_RANK + 4, timeout=240)
    front_end_says(v, {"type": "command", "action": "stop"})
    ended(job)
    wait_until(lambda: v._remote.run.link.state == "closed", timeout=20)
    r0, r1 = rank_logs(tmp_path)
    assert r0["step"] == r1["step"] < 6 * PER_RANK and r0["step"] % CHECK_EVERY == 0
    assert v.status == "stopped" and v.step == r0["step"]

    # the job described itself: the widget shows its model, and what it sent
    assert v.latent_dim == 3 and f"pid {r0['pid']}, rank 0 of 2" in v.info
    assert v._remote.run.link.job["info"]["pid"] == r0["pid"]     # rank 0, never rank 1
    h = v.history
    assert int(h["step"].iloc[-1]) == r0["step"]
    seen0 = np.array(r0["seen"])
    np.testing.assert_allclose(h["recon"].iloc[0], seen0[:h["step"].iloc[0], 0].mean(),
                               rtol=1e-5)
    e = v.epoch_history
    assert len(e) >= 2 and np.isfinite(e["val_elbo"]).all()      # recon_loss went along
    assert v.grids.keys() == {"reconstructions", "samples", "traversal", "interpolation"}
    assert v.grid_samples.dtype == np.uint8

    # the model is in the job: calls that need it say so
    with pytest.raises(RuntimeError, match=r"encode\(\) needs the model.*lives there"):
        v.encode(np.zeros((2, 64)))
    with pytest.raises(RuntimeError, match=r"sample\(\) needs the model"):
        v.sample(4)
    with pytest.raises(RuntimeError, match=r"log\(\) belongs in the training job"):
        v.log(recon=1.0, kl=[0.0, 0.0, 0.0])
    # an export shows the curves and the last grids the job sent
    html = v.save_html(tmp_path / "remote.html")
    assert os.path.getsize(html) > 10_000
    v.close()


@pytest.mark.skipif(shutil.which("torchrun") is None and not os.path.exists(
    os.path.join(os.path.dirname(sys.executable), "torchrun")), reason="torchrun not installed")
def test_a_torchrun_job_streams_to_listen_pauses_takes_settings_and_ends_done(
        fake_comm, start_job, tmp_path):
    v = VAEWidget.listen(quiet=True)
    torchrun = os.path.join(os.path.dirname(sys.executable), "torchrun")
    job = start_job(v, "--strategy", "ddp", "--epochs", "3", "--step-delay", "0.02",
                    launcher=(torchrun, "--standalone", "--nproc_per_node=2"))
    wait_until(lambda: v.status == "running" and v.step >= 8, timeout=240)

    front_end_says(v, {"type": "command", "action": "pause"})
    wait_until(lambda: v.status == "paused", timeout=10)
    held = v.step
    time.sleep(1.0)
    assert v.step == held and v.status == "paused"
    assert v.set_params(sample_temperature=0.5) == {"sample_temperature": 0.5}
    assert v.sample_temperature == 0.5               # the job's answer, shown here
    with pytest.raises(ValueError, match="sample_temperature"):
        v.set_params(sample_temperature=-1)
    front_end_says(v, {"type": "command", "action": "resume"})
    out = ended(job)
    wait_until(lambda: v._remote.run.link.state == "closed", timeout=20)
    r0, r1 = rank_logs(tmp_path)
    assert r0["step"] == r1["step"] == 3 * PER_RANK, out[-2000:]
    assert v.status == "done" and v.step == 3 * PER_RANK
    assert len(v.epoch_history) == 3 and v.epoch == 3.0
    assert v._remote.run.link.rejected_total == 0
    v.close()


def test_a_job_that_dies_is_reported_in_the_widget_within_a_few_seconds(fake_comm, start_job):
    v = VAEWidget.listen(quiet=True)
    job = start_job(v, "--strategy", "auto", "--devices", "1", "--epochs", "50",
                    "--step-delay", "0.02")
    wait_until(lambda: v.status == "running" and v.step >= 10, timeout=240)
    os.killpg(job.pid, signal.SIGKILL)
    t0 = time.monotonic()
    wait_until(lambda: v.status == "error", timeout=30)
    took = time.monotonic() - t0
    assert "Lost the training job" in v.error and "died" in v.error
    assert took < 10, took            # the listener's timeout is 4 s
    v.close()
