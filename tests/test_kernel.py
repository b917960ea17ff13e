"""The widgets in a real Jupyter kernel, driven over its sockets as a front end would.

Each test starts an ipykernel with jupyter_client and talks to it like JupyterLab:
``execute_request`` on the main shell, widget ``comm_msg`` (Pause, Stop, ...) on the main
shell or on a kernel subshell of its own, ``interrupt_kernel`` for Ctrl-C. What differs
between kernels:

* **ipykernel >= 7** offers subshells: JupyterLab >= 4.4 sends widget messages on one, so
  they are handled while a cell keeps the main shell busy (ipykernel 7.4 would re-route a
  comm's messages to the busy main shell; ``StreamWidget`` keeps the front end's choice).
* **ipykernel 6** has none: a message sent while a cell runs waits until the cell ends.

CI runs this module twice (``.ci/test``): with the environment's ipykernel 7, and with
ipykernel 6 from ``.ci-ipykernel6`` first on ``PYTHONPATH`` (``.ci/ipykernel6``), which the
kernel process inherits. ``VAE_WIDGETS_IPYKERNEL`` names the major version the kernel must
report (``import ipykernel`` run in the kernel), so a job cannot test the same kernel twice.
"""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import pathlib
import sys
import textwrap
import time

import pytest

pytest.importorskip("ipykernel")
from jupyter_client.manager import KernelManager  # noqa: E402

pytestmark = [pytest.mark.kernel, pytest.mark.timeout(240)]
ROOT = pathlib.Path(__file__).resolve().parent.parent


class Kernel:
    """One ipykernel process and a client that speaks for the front end."""

    def __init__(self, cwd: pathlib.Path):
        env = dict(os.environ)
        # the kernel inherits PYTHONPATH (the ipykernel-6 job puts its ipykernel first);
        # the checkout goes last so vae_widgets imports even when not installed
        # (made absolute: the kernel runs in a temporary folder)
        paths = os.environ.get("PYTHONPATH", "").split(os.pathsep) + [str(ROOT)]
        env["PYTHONPATH"] = os.pathsep.join(str(pathlib.Path(p).resolve()) for p in paths if p)
        env.pop("PYDEVD_DISABLE_FILE_VALIDATION", None)
        # IPC in the kernel's own folder: no TCP port to lose to another test run meanwhile
        self.km = KernelManager(kernel_name="python3", transport="ipc", ip=str(cwd / "kernel"))
        self.km.start_kernel(env=env, cwd=str(cwd))
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=120)
        self._replies: dict[str, dict] = {}
        self.info = self.kc.kernel_info(reply=True, timeout=30)["content"]
        self.subshells = "kernel subshells" in self.info.get("supported_features", [])
        self.ipykernel = self.value("__import__('ipykernel').__version__")

    def close(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    # --- shell: execute and comm messages, on the main shell or a subshell -------------
    def _send(self, msg_type: str, content: dict, subshell: str | None) -> str:
        msg = self.kc.session.msg(msg_type, content)
        if subshell is not None:
            msg["header"]["subshell_id"] = subshell
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def submit(self, code: str, subshell: str | None = None, **extra) -> str:
        """Send an execute request; returns at once (see ``reply``)."""
        return self._send("execute_request", dict(
            code=textwrap.dedent(code), silent=False, store_history=False,
            user_expressions=extra.pop("user_expressions", {}), allow_stdin=False,
            stop_on_error=False, **extra), subshell)

    def reply(self, msg_id: str, timeout: float = 60.0) -> dict:
        """The shell reply to ``msg_id`` (replies to other requests are kept for later)."""
        deadline = time.monotonic() + timeout
        while msg_id not in self._replies:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no reply to {msg_id} within {timeout} s")
            try:
                msg = self.kc.get_shell_msg(timeout=min(left, 1.0))
            except Exception:   # noqa: BLE001 - queue.Empty: keep waiting
                continue
            self._replies[msg["parent_header"].get("msg_id")] = msg["content"]
        return self._replies.pop(msg_id)

    def run(self, code: str, subshell: str | None = None, timeout: float = 120.0) -> dict:
        content = self.reply(self.submit(code, subshell), timeout)
        assert content["status"] == "ok", "\n".join(content.get("traceback", [content]))
        return content

    def value(self, expr: str, subshell: str | None = None, timeout: float = 60.0):
        """``expr`` evaluated in the kernel (JSON-able), through a user expression."""
        content = self.reply(self.submit("", subshell, user_expressions={
            "v": f"__import__('json').dumps({expr})"}), timeout)
        got = content["user_expressions"]["v"]
        assert got["status"] == "ok", got
        return json.loads(ast.literal_eval(got["data"]["text/plain"]))

    def click(self, comm_id: str, action: str, subshell: str | None = None) -> str:
        """What a button of the page sends: a widget custom message with a command."""
        return self._send("comm_msg", {"comm_id": comm_id, "data": {
            "method": "custom", "content": {"type": "command", "action": action}}}, subshell)

    def create_subshell(self) -> str:
        msg = self.kc.session.msg("create_subshell_request", {})
        self.kc.control_channel.send(msg)
        while True:
            reply = self.kc.get_control_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
                break
        assert reply["content"]["status"] == "ok", reply["content"]
        return reply["content"]["subshell_id"]

    def until(self, expr: str, timeout: float = 30.0, subshell: str | None = None):
        """Poll ``expr`` until it is truthy; returns its last value."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.value(expr, subshell)
            if got or time.monotonic() > deadline:
                return got
            time.sleep(0.05)


def expected_major() -> str:
    """The ipykernel major version this run must test: ``VAE_WIDGETS_IPYKERNEL`` when set
    (the CI jobs set it), else the one this process imports."""
    return (os.environ.get("VAE_WIDGETS_IPYKERNEL")
            or importlib.metadata.version("ipykernel").split(".")[0])


@pytest.fixture
def kernel(tmp_path):
    k = Kernel(tmp_path)
    try:
        # the kernel's own ipykernel is the one this job means to test (never silently 7 twice)
        assert k.ipykernel.split(".")[0] == expected_major(), (
            f"the kernel runs ipykernel {k.ipykernel}, this job tests {expected_major()} "
            f"(PYTHONPATH={os.environ.get('PYTHONPATH', '')!r})")
        assert k.ipykernel == importlib.metadata.version("ipykernel"), (
            "the kernel and the test process see different ipykernels")
        yield k
    finally:
        k.close()


# a user's own loop in a cell, watched (docs/guide/watch.md): small and fast
WATCHED = """
import time, torch, torch.nn as nn
from vae_widgets import VAEWidget

class VAE(nn.Module):
    def __init__(self, n=16, d=3):
        super().__init__()
        self.enc, self.dec = nn.Linear(n, 2 * d), nn.Linear(d, n)
    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)
    def decode(self, z):
        return self.dec(z)

def sq(x_hat, x):
    return (x_hat - x).pow(2).sum(1)

torch.manual_seed(0)
X = torch.randn(512, 16)
model = VAE()
opt = torch.optim.Adam(model.parameters(), 1e-3)
v = VAEWidget.watch(model, X[:128], recon_loss=sq, optimizer=opt, visuals_every=None)
"""

# the loop's cell: trains until Stop (should_stop) or for at most `limit` seconds
LOOP = """
t0 = time.monotonic()
stopped_early = False
while time.monotonic() - t0 < {limit}:
    for s in range(128, 512, 32):
        xb = X[s:s + 32]
        mu, logvar = model.encode(xb)
        x_hat = model.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
        recon = sq(x_hat, xb)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        opt.zero_grad(); (recon + kl).mean().backward(); opt.step()
        v.log(recon=recon, mu=mu, logvar=logvar)
        time.sleep(0.002)
        if v.should_stop:
            stopped_early = True
            break
    if stopped_early:
        break
loop_s = time.monotonic() - t0
"""


def test_the_kernel_runs_the_ipykernel_under_test(kernel):
    print(f"\nkernel: ipykernel {kernel.ipykernel}, IPython {kernel.info['implementation_version']}"
          f", protocol {kernel.info['protocol_version']}, subshells {kernel.subshells}")
    where = kernel.value("__import__('ipykernel').__file__")
    assert pathlib.Path(where).is_relative_to(
        pathlib.Path(importlib.metadata.distribution("ipykernel").locate_file(""))), where
    # subshells came with ipykernel 7 (JupyterLab asks the kernel before it uses them)
    assert kernel.subshells == (int(kernel.ipykernel.split(".")[0]) >= 7), kernel.info


def test_pause_and_stop_reach_a_busy_cell_through_a_subshell(kernel):
    if not kernel.subshells:
        pytest.skip(f"ipykernel {kernel.ipykernel} has no subshells (the test below covers it)")
    kernel.run(WATCHED)
    comm_id = kernel.value("v.model_id")
    sub = kernel.create_subshell()                  # what JupyterLab >= 4.4 does for widgets
    busy = kernel.submit(LOOP.format(limit=60))     # the main shell stays busy
    # (each of these reads is a cell run on the subshell, as in JupyterLab's subshell
    # console: its end must not end the run of the loop's cell)
    assert kernel.until("v._loop.step > 50", subshell=sub)
    time.sleep(0.3)
    assert kernel.value("[v.status, v._loop.running]", subshell=sub) == ["running", True], \
        "a cell that ended on the subshell ended the busy cell's run"

    kernel.click(comm_id, "pause", subshell=sub)
    assert kernel.until("v.status == 'paused'", 5, subshell=sub), "Pause did not reach the loop"
    held = kernel.value("v._loop.step", subshell=sub)
    time.sleep(0.5)
    assert kernel.value("v._loop.step", subshell=sub) == held   # log() holds the loop

    kernel.click(comm_id, "resume", subshell=sub)
    assert kernel.until(f"v._loop.step > {held + 10}", 10, subshell=sub), "Resume did not"

    t0 = time.monotonic()
    kernel.click(comm_id, "stop", subshell=sub)
    done = kernel.reply(busy, timeout=20)           # the busy cell ends: the loop broke
    stop_s = time.monotonic() - t0
    assert done["status"] == "ok", done
    got = kernel.value("[stopped_early, loop_s, v.status, v.running, v.should_stop]")
    assert got[0] is True and got[1] < 30, got
    assert got[2:] == ["stopped", False, True], got
    assert stop_s < 5, f"Stop took {stop_s:.1f} s to end the busy cell"
    print(f"\nipykernel {kernel.ipykernel}: Stop ended the busy cell in {stop_s:.2f} s")


def test_without_a_subshell_clicks_act_when_the_cell_ends(kernel):
    """ipykernel 6, or a front end that does not use subshells: a click waits for the cell
    (docs/guide/watch.md); it must then act on nothing stale: the next run is not held."""
    kernel.run(WATCHED)
    comm_id = kernel.value("v.model_id")
    busy = kernel.submit(LOOP.format(limit=3))
    time.sleep(1.0)                                 # the loop runs (the main shell is busy)
    kernel.click(comm_id, "pause")                  # on the main shell, as without subshells
    done = kernel.reply(busy, timeout=30)
    assert done["status"] == "ok", done
    got = kernel.value("[stopped_early, loop_s, v.status, v.running]")
    assert got[0] is False and got[1] >= 3, f"a click reached the busy cell: {got}"
    assert got[2:] == ["done", False], got
    # the Pause was handled after the cell ended, with no run to hold; the next run of the
    # loop's cell must not start held: without a subshell no Resume could reach it
    again = kernel.submit(LOOP.format(limit=1))
    try:
        done = kernel.reply(again, timeout=30)
    except TimeoutError:
        kernel.km.interrupt_kernel()
        kernel.reply(again, timeout=30)
        pytest.fail("the next run of the loop started paused by a stale Pause: " +
                    repr(kernel.value("[v.status, v._loop.step]")))
    assert done["status"] == "ok", done
    got = kernel.value("[stopped_early, v.status, v.running, v._loop.step > 0]")
    assert got == [False, "done", False, True], got

    # a Stop clicked during the cell acts after it too, and is forgotten by the next run
    busy = kernel.submit(LOOP.format(limit=2))
    time.sleep(1.0)
    kernel.click(comm_id, "stop")
    kernel.reply(busy, timeout=30)
    assert kernel.value("[stopped_early, v.status]") == [False, "done"]
    kernel.run(LOOP.format(limit=0.5), timeout=30)
    assert kernel.value("[stopped_early, v.status, v.running]") == [False, "done", False]


def test_ctrl_c_in_wait_stops_the_run(kernel):
    """Ctrl-C (the interrupt button) while a cell waits in ``wait()``: the run stops, the
    cell ends with KeyboardInterrupt, the widget is consistent and runs again."""
    kernel.run("""
        import threading, numpy as np
        from vae_widgets import TSNEWidget
        X = np.random.default_rng(0).normal(size=(1500, 20)).astype(np.float32)
        w = TSNEWidget(X, n_iter=1_000_000)
        def workers():
            return sum(t.name == "tsne-runner" for t in threading.enumerate())
        w.run()
    """)
    assert kernel.until("w.iteration > 3", 60)
    busy = kernel.submit("w.wait()")
    time.sleep(0.5)
    kernel.km.interrupt_kernel()
    done = kernel.reply(busy, timeout=60)
    assert done["status"] == "error" and done["ename"] == "KeyboardInterrupt", done
    got = kernel.value("[w.status, w.running, workers()]")
    assert got == ["stopped", False, 0], got
    kernel.run("w.run()")                           # runs again: exactly one worker
    assert kernel.until("w.running and w.iteration > 3", 60)
    assert kernel.value("workers()") == 1
    kernel.run("w.stop(); w.wait(30)")
    assert kernel.value("[w.status, w.running, workers()]") == ["stopped", False, 0]


def test_ctrl_c_in_a_watched_loop_ends_its_run(kernel):
    """The way out of a busy cell without subshells: interrupt it; the run ends (the model
    keeps what it learned) and the loop's cell runs again."""
    kernel.run(WATCHED)
    busy = kernel.submit(LOOP.format(limit=60))
    time.sleep(1.5)
    kernel.km.interrupt_kernel()
    done = kernel.reply(busy, timeout=30)
    assert done["status"] == "error" and done["ename"] == "KeyboardInterrupt", done
    got = kernel.value("[v.status, v.running, v._loop.step]")
    assert got[0] in ("done", "stopped") and got[1] is False and got[2] > 0, got
    kernel.run(LOOP.format(limit=0.5))
    got2 = kernel.value("[v.status, v.running, v._loop.step]")
    assert got2[:2] == ["done", False] and got2[2] > got[2], (got, got2)
