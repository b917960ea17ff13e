"""Where the package's torch work runs, and whose OpenMP teams stay alive.

The speed problem these guard against (a worker thread throttled by the main thread's
idle OpenMP team; see ``vae_widgets._openmp``) is measured by
``benchmarks/vae_overhead.py``; here we check the mechanism itself, without timing:
an idle OpenMP team is a set of OS threads of this process, so ``/proc/self/task``
shows whether a thread's team exists.
"""
import os
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pytest
import torch

from vae_widgets import datasets
from vae_widgets._stream import Worker
from vae_widgets.vae import VAETrainer

pytestmark = pytest.mark.skipif(
    torch.get_num_threads() < 2 or not os.path.isdir("/proc/self/task"),
    reason="needs a multi-threaded torch and /proc")


def settle(pred, timeout=5.0):
    t0 = time.monotonic()
    while not pred() and time.monotonic() - t0 < timeout:
        time.sleep(0.01)
    return pred()


# the OpenMP checks count this process's OS threads, so each runs in a fresh interpreter
# where no other test's threads come and go
PRELUDE = """
import os, threading, time, torch
from vae_widgets import _openmp
from vae_widgets._stream import Worker
def os_threads():
    return len(os.listdir('/proc/self/task'))
def parallel_work():
    a = torch.randn(512, 512)
    for _ in range(3):
        a = torch.tanh(a @ a)
def settle(pred, timeout=5.0):
    t0 = time.monotonic()
    while not pred() and time.monotonic() - t0 < timeout:
        time.sleep(0.01)
    return pred()
"""


def run_fresh(code: str):
    res = subprocess.run([sys.executable, "-c", PRELUDE + textwrap.dedent(code)],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr


def test_release_ends_the_calling_threads_idle_team():
    run_fresh("""
        parallel_work()
        with_team = os_threads()
        assert _openmp.release_teams(rescan=True) >= 1      # torch's libgomp was found
        assert settle(lambda: os_threads() < with_team), "the team's threads did not exit"
        without = os_threads()
        parallel_work()                                      # the next region builds a new one
        assert os_threads() > without
    """)


def test_a_worker_start_releases_the_starting_threads_team():
    run_fresh("""
        parallel_work()
        before = os_threads()
        release = threading.Event()
        w = Worker(lambda: release.wait(10)).start()         # +1 thread (the worker), -team
        assert settle(lambda: os_threads() <= before), "the starter's team survived"
        release.set()
        w.wait(10)
        assert _openmp.active_workers() == 0
    """)


def test_after_each_cell_the_kernel_releases_the_main_team_while_a_worker_runs():
    run_fresh("""
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        release = threading.Event()
        w = Worker(lambda: release.wait(20)).start()         # installs the post_run_cell hook
        during = []
        shell.user_ns.update(probe=lambda: during.append(os_threads()),
                             parallel_work=parallel_work)
        shell.run_cell("parallel_work(); probe()").raise_error()
        # during the cell the main thread had its team; after it, post_run_cell ended it
        assert settle(lambda: os_threads() < during[0]), (during, os_threads())
        release.set()
        w.wait(10)
        # with no worker running, the hook leaves the main thread's team alone
        shell.run_cell("parallel_work(); probe()").raise_error()
        time.sleep(0.3)
        assert os_threads() == during[-1], (during, os_threads())
    """)


@pytest.fixture(scope="module")
def digits_big():
    X, y = datasets.digits()
    return np.tile(X, (4, 1)), np.tile(y, 4)


def watched_trainer(X):
    """A trainer whose encoder records the thread of every forward pass."""
    tr = VAETrainer(X, image_shape=(8, 8), architecture="mlp", latent_dim=4, seed=0,
                    visuals_every=None)
    ran_on = []
    tr.model.enc_head.register_forward_hook(lambda *a: ran_on.append(threading.get_ident()))
    return tr, ran_on


def test_calls_from_other_threads_run_on_the_training_thread(digits_big):
    X, _ = digits_big
    tr, ran_on = watched_trainer(X)
    w = Worker(lambda: tr.fit(30)).start()
    try:
        assert settle(lambda: tr.step > 5)
        ran_on.clear()
        mu, logvar = tr.encode(X[:300])
        assert mu.shape == (300, 4) and np.isfinite(mu).all()
        tr.sample(8), tr.reconstruct(X[:10]), tr.traverse(0, [-1, 1], base=3)
        assert tr.running
        # every encoder pass of those calls ran on the training thread, between steps
        assert ran_on and set(ran_on) == {tr._fit_thread}
    finally:
        tr.control.stop()
        w.wait(30)


def test_calls_are_served_from_a_pause(digits_big):
    X, _ = digits_big
    tr, ran_on = watched_trainer(X)
    events = []
    tr.events.subscribe(lambda e: events.append(e.data.get("state")) if e.kind == "status"
                        else None)
    w = Worker(lambda: tr.fit(30)).start()
    try:
        assert settle(lambda: tr.step > 3)
        tr.control.pause()
        assert settle(lambda: "paused" in events)
        step = tr.step
        ran_on.clear()
        mu, _ = tr.encode(X[:50])
        assert tr.step == step and mu.shape == (50, 4)      # no step was taken meanwhile
        assert set(ran_on) == {tr._fit_thread}
        assert tr.evaluate()["elbo"] < 0
    finally:
        tr.control.stop()
        w.wait(30)
    assert tr.running is False


def test_many_threads_calling_while_training_all_get_answers(digits_big):
    X, _ = digits_big
    tr = VAETrainer(X, image_shape=(8, 8), architecture="mlp", latent_dim=4, seed=0,
                    visuals_every=0.05)
    w = Worker(lambda: tr.fit(20)).start()
    errors, results = [], []

    def caller(k):
        try:
            for i in range(15):
                if not tr.running:
                    break
                if i % 3 == 0:
                    results.append(tr.encode(X[k * 10:k * 10 + 20])[0].shape)
                elif i % 3 == 1:
                    results.append(tr.sample(4, seed=k).shape)
                else:
                    results.append(tr.snapshot().encode(X[:5])[0].shape)
        except Exception as exc:   # noqa: BLE001
            errors.append(exc)

    callers = [threading.Thread(target=caller, args=(k,)) for k in range(4)]
    for c in callers:
        c.start()
    for c in callers:
        c.join(60)
    tr.control.stop()
    w.wait(30)
    assert not errors and len(results) > 10
    assert not tr._calls                                    # nothing left behind


def test_a_call_made_as_fit_ends_is_not_lost(digits_big):
    X, _ = digits_big
    for seed in range(5):
        tr = VAETrainer(X[:1000], image_shape=(8, 8), architecture="mlp", latent_dim=2,
                        seed=seed, visuals_every=None, batch_size=500)
        w = Worker(lambda: tr.fit(1)).start()
        out = tr.encode(X[:3])[0]                          # races the end of a short fit
        w.wait(30)
        assert out.shape == (3, 2)


def test_an_error_in_a_call_reaches_the_caller_and_training_goes_on(digits_big):
    X, _ = digits_big
    tr = VAETrainer(X, image_shape=(8, 8), architecture="mlp", latent_dim=4, seed=0,
                    visuals_every=None)
    w = Worker(lambda: tr.fit(30)).start()
    try:
        assert settle(lambda: tr.step > 3)
        with pytest.raises(ValueError, match="features per row"):
            tr.encode(np.zeros((3, 5)))
        step = tr.step
        assert settle(lambda: tr.step > step + 3)           # the training thread survived
    finally:
        tr.control.stop()
        w.wait(30)
