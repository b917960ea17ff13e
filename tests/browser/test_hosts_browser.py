"""The host matrix, end to end: both widgets in Notebook 7 and in marimo (JupyterLab 4 has
its own tests), in headless Chromium.

In each host a notebook shows a TSNEWidget and a VAEWidget of the digits. The test clicks
▶ on each, checks that frames and curves reach the page (counters in the DOM, ink on the
canvases) and the kernel (its own record of status and worker thread), clicks Stop, and
screenshots. In marimo the worker must run on ``marimo.Thread`` (marimo <= 0.23.13 drops
messages sent from a plain thread).
"""
import json
import pathlib
import shutil
import tempfile
import textwrap
import time

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, click_until, data_attr, ink, jupyter_server, kernel_exec,  # noqa: E402
                        launch, marimo_server, open_notebook, run_all, write_notebook)

pytestmark = pytest.mark.browser
TSNE, VAE = ".vw-tsne", ".vw-vae"

SETUP = """\
from vae_widgets import TSNEWidget, VAEWidget, datasets
X, y = datasets.digits()
t = TSNEWidget(X, labels=y, image_shape=(8, 8), n_iter=20000)
v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=500)
"""


def wait_attr(page, selector, js_condition, timeout=30_000):
    """Wait until `js_condition` (over `d`, the element's dataset) holds. Polled through
    Playwright's selectors, which pierce shadow roots (marimo renders widgets in one)."""
    deadline = time.time() + timeout / 1000
    while True:
        if page.locator(selector).count() and page.eval_on_selector(
                selector, f"el => {{ const d = el.dataset; return !!({js_condition}); }}"):
            return
        if time.time() > deadline:
            raise TimeoutError(f"{selector}: {js_condition} not true after {timeout / 1000:.0f} s; "
                               f"dataset {page.eval_on_selector(selector, 'el => ({...el.dataset})')}")
        page.wait_for_timeout(50)


def drive(page, kernel_state, name):
    """Click ▶ then Stop on both widgets; check page and kernel; screenshot."""
    try:
        return _drive(page, kernel_state, name)
    except Exception:
        page.screenshot(path=str(ARTIFACTS / f"host_{name}_failed.png"), full_page=True)
        raise


def _drive(page, kernel_state, name):
    page.locator(TSNE).wait_for(timeout=90_000)
    page.locator(VAE).wait_for(timeout=90_000)
    assert data_attr(page, TSNE, "status") == "idle"

    page.click(f"{TSNE} .vw-run")
    wait_attr(page, TSNE, "d.status === 'running' && +d.frames >= 5 && +d.iteration >= 50",
              timeout=90_000)
    page.wait_for_timeout(1000)
    scatter = ink(page.locator(f"{TSNE} .vw-scatter").screenshot())
    assert scatter > 2000, f"{name}: t-SNE scatter looks blank ({scatter})"
    state = kernel_state("t")
    assert state["status"] == "running" and state["running"], state
    t_thread = state["thread"]

    page.click(f"{VAE} .vw-run")
    wait_attr(page, VAE, "d.status === 'running' && +d.metrics >= 5", timeout=90_000)
    page.wait_for_timeout(1500)
    curves = ink(page.locator(f"{VAE} .vw-curves").screenshot())
    assert curves > 300, f"{name}: VAE curves look blank ({curves})"
    v_thread = kernel_state("v")["thread"]
    page.screenshot(path=str(ARTIFACTS / f"host_{name}.png"), full_page=True)

    for root, key in ((TSNE, "t"), (VAE, "v")):
        stop_s = click_until(page, f"{root} .vw-stop", root, "d.status === 'stopped'",
                             timeout=10_000)
        assert stop_s < 5, f"{name}: Stop took {stop_s:.1f} s"
        deadline = time.time() + 10
        while (state := kernel_state(key))["running"]:
            assert time.time() < deadline, f"{name}: {key} still running in the kernel: {state}"
            page.wait_for_timeout(100)
        assert state["status"] == "stopped", state
    frames = int(data_attr(page, TSNE, "frames"))
    return {"t_thread": t_thread, "v_thread": v_thread, "frames": frames,
            "scatter_ink": scatter, "curve_ink": curves}


def open_page(pw):
    browser = launch(pw)
    page = browser.new_page(viewport={"width": 1280, "height": 1800})
    errors = []
    page.on("pageerror", lambda e: errors.append(f"{e}\n{e.stack or ''}"))
    return browser, page, errors


def ours(errors, host_code):
    """Page errors except those raised wholly inside the host's own code (``host_code``:
    a URL part of its bundle), which a widget can neither cause nor fix."""
    def frames(e):
        return [ln for ln in e.splitlines()[1:] if ln.strip().startswith("at ") and "://" in ln]
    return [e for e in errors if not (frames(e) and all(host_code in f for f in frames(e)))]


def test_notebook7():
    ARTIFACTS.mkdir(exist_ok=True)
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb7-"))
    write_notebook(root / "hosts.ipynb", [SETUP + "t", "v"])
    try:
        with jupyter_server(root, "notebook") as (base, token), sync_playwright() as pw:
            browser, page, errors = open_page(pw)
            open_notebook(page, base, token, "hosts.ipynb", path="notebooks")
            run_all(page)

            def kernel_state(name):
                return json.loads(kernel_exec(page, (
                    f"import json; print(json.dumps({{'status': {name}.status, "
                    f"'running': {name}.running, 'thread': None if {name}._worker is None "
                    f"else type({name}._worker.thread).__module__}}))")))

            result = drive(page, kernel_state, "notebook7")
            browser.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert result["t_thread"] == "threading" and result["v_thread"] == "threading"
    # Notebook 7.6.5 itself throws "Cannot read properties of undefined (reading 'schema')"
    # from its shortcuts plugin while loading any notebook, widget or not
    assert not ours(errors, "/static/notebook/"), errors
    print(f"\nNotebook 7: {result}")


MARIMO_NB = '''\
import marimo

app = marimo.App(width="full")


@app.cell
def _():
    import json
    import pathlib
    import threading
    import time

    {setup}
    STATE = pathlib.Path({state!r})

    def record():   # the kernel's view, every 0.1 s (the test reads it like kernel_exec)
        while True:
            for name, w in (("t", t), ("v", v)):
                worker = w._worker
                thread = None if worker is None else type(worker.thread).__module__
                tmp = STATE / (name + ".tmp")
                tmp.write_text(json.dumps({{"status": w.status, "running": w.running,
                                            "thread": thread}}))
                tmp.replace(STATE / (name + ".json"))
            time.sleep(0.1)

    threading.Thread(target=record, daemon=True).start()
    return t, v


@app.cell
def _(t):
    t
    return


@app.cell
def _(v):
    v
    return


if __name__ == "__main__":
    app.run()
'''


def test_marimo(tmp_path):
    pytest.importorskip("marimo")
    ARTIFACTS.mkdir(exist_ok=True)
    state = tmp_path / "state"
    state.mkdir()
    nb = tmp_path / "hosts.py"
    nb.write_text(MARIMO_NB.format(setup=textwrap.indent(SETUP, "    ").strip(),
                                   state=str(state)))

    def kernel_state(name):
        deadline = time.time() + 30
        while not (state / f"{name}.json").exists():
            assert time.time() < deadline, "the marimo notebook never recorded its state"
            time.sleep(0.1)
        return json.loads((state / f"{name}.json").read_text())

    with marimo_server(nb) as url, sync_playwright() as pw:
        browser, page, errors = open_page(pw)
        page.goto(url)
        result = drive(page, kernel_state, "marimo")
        browser.close()
    # clicks reach the kernel from marimo's own message loop: the worker is a mo.Thread
    assert result["t_thread"] == "marimo._runtime.threads", result
    assert result["v_thread"] == "marimo._runtime.threads", result
    assert not ours(errors, "/assets/"), errors
    print(f"\nmarimo: {result}")
