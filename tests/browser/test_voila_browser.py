"""Voilà, offline: the shipped app ``notebooks/voila_quickstart.ipynb`` served by ``voila``
on loopback, in headless Chromium.

One Voilà server for the module (a subprocess on a free 127.0.0.1 port) serves the shipped
notebook, changed only to 500 digits and long runs (so Stop finds them running), plus one
cell that records the kernel's own view (status, worker alive, ``len(t.selected)``,
iteration) to a file every 0.1 s: Voilà's kernel is a process of the server, and its page
may not execute code. One page (one kernel) for the module. Every request to another host
is blocked and recorded: the only ones allowed to be attempted are Voilà's own two Font
Awesome stylesheets (its ``lab`` template links them from jsdelivr whatever the settings,
voila-dashboards/voila#539); nothing on the page uses those icons.

t-SNE: ▶ makes frames stream (the page's iteration advances and reaches the kernel's), a
lasso drawn with the mouse reaches ``t.selected`` (the app's own readout, worked out in
Python from the trait, shows the count, and so does the kernel's record), Stop in the page
stops the run in the kernel. VAE: Train makes curves and image grids stream; Stop acts.
"""
import json
import os
import pathlib
import re
import shutil
import tempfile
import time

import pytest

pytest.importorskip("playwright")
pytest.importorskip("voila")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

import nbformat  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, BIN, _serve, blocked_requests, click_until, draw_lasso,  # noqa: E402
                        free_port, ink, launch, wait_dataset)

pytestmark = pytest.mark.browser
TSNE, VAE = ".vw-tsne", ".vw-vae"
APP = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "voila_quickstart.ipynb"
DOC_IMAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "images" / "host_voila.png"
#: Voilà 0.5's lab template links these whatever its settings (voila#539)
VOILA_OWN = {"https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/all.min.css",
             "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/v4-shims.min.css"}

RECORD = '''\
import json as _json, pathlib as _pathlib, threading as _threading, time as _time

_STATE = _pathlib.Path({state!r})


def _record():      # the kernel's view, every 0.1 s (the test reads it)
    while True:
        for _name, _w in (("t", t), ("v", v)):
            _s = {{"status": _w.status, "running": _w.running,
                   "selected": len(getattr(_w, "selected", ())),
                   "iteration": getattr(_w, "iteration", None)}}
            (_STATE / (_name + ".tmp")).write_text(_json.dumps(_s))
            (_STATE / (_name + ".tmp")).replace(_STATE / (_name + ".json"))
        _time.sleep(0.1)


_threading.Thread(target=_record, daemon=True).start()
'''


def changed(png_a, png_b, tolerance=40):
    """Pixels that differ between two screenshots of the same element."""
    import io

    import numpy as np
    from PIL import Image

    a, b = (np.asarray(Image.open(io.BytesIO(p)).convert("RGB")).astype(int) for p in (png_a, png_b))
    if a.shape != b.shape:
        return a.shape[0] * a.shape[1]
    return int((np.abs(a - b).sum(axis=2) > tolerance).sum())


def until(fn, what, timeout=20.0):
    deadline = time.time() + timeout
    while not (value := fn()):
        assert time.time() < deadline, f"{what} (after {timeout:.0f} s)"
        time.sleep(0.05)
    return value


def the_app(state: pathlib.Path) -> nbformat.NotebookNode:
    """The shipped notebook: 500 digits, long runs, and a cell that records the kernel."""
    nb = nbformat.read(APP, as_version=4)
    edits = [("X, y = datasets.digits()", "X, y = datasets.digits()\nX, y = X[:500], y[:500]"),
             ("TSNEWidget(X, labels=y, image_shape=(8, 8))",
              "TSNEWidget(X, labels=y, image_shape=(8, 8), n_iter=20000)"),
             ("epochs=5)", "epochs=500)")]
    for old, new in edits:
        cells = [c for c in nb.cells if c.cell_type == "code" and old in c.source]
        assert len(cells) == 1, f"the Voilà app no longer has {old!r} in one cell"
        cells[0].source = cells[0].source.replace(old, new)
    nb.cells.append(nbformat.v4.new_code_cell(RECORD.format(state=str(state))))
    return nb


@pytest.fixture(scope="module")
def voila():
    """``voila app.ipynb`` on 127.0.0.1 (its own Jupyter dirs); yields (URL, kernel_state)."""
    run = pathlib.Path(tempfile.mkdtemp(prefix="voila-"))
    state = run / "state"
    state.mkdir()
    nbformat.write(the_app(state), str(run / "voila_quickstart.ipynb"))
    port = free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(run / "config"),
               JUPYTER_RUNTIME_DIR=str(run / "runtime"), IPYTHONDIR=str(run / "ipython"),
               PATH=f"{BIN}:{os.environ['PATH']}")
    cmd = [str(BIN / "voila"), "voila_quickstart.ipynb", "--no-browser", "--Voila.ip=127.0.0.1",
           f"--port={port}", "--Voila.port_retries=0"]
    base = f"http://127.0.0.1:{port}"

    def kernel_state(name):
        path = until(lambda: (state / f"{name}.json").exists() and state / f"{name}.json",
                     "the app's kernel never recorded its state", timeout=60)
        return json.loads(path.read_text())

    try:
        with _serve("voila", cmd, env, run, f"{base}/voila/static/voila.js", cwd=run):
            yield f"{base}/", kernel_state
    finally:
        shutil.rmtree(run, ignore_errors=True)


@pytest.fixture(scope="module")
def page(voila):
    url, _ = voila
    with sync_playwright() as pw:
        browser = launch(pw)      # blocks and records every request to another host
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        page.vw_errors = []
        page.on("pageerror", lambda e: page.vw_errors.append(str(e)))
        page.goto(url)
        page.locator(TSNE).wait_for(timeout=60_000)
        page.locator(VAE).wait_for(timeout=60_000)
        yield page
        browser.close()


def assert_offline(page):
    blocked = set(blocked_requests(page.context.browser))
    assert blocked <= VOILA_OWN, f"the page tried to reach other hosts: {sorted(blocked - VOILA_OWN)}"


def test_tsne_streams_lassos_and_stops_in_voila_offline(voila, page):
    _, kernel_state = voila
    try:
        wait_dataset(page, TSNE, "d.status === 'idle'")
        assert kernel_state("t")["status"] == "idle"

        # ▶ in the page: frames stream, the iteration advances and reaches the kernel's
        page.click(f"{TSNE} .vw-run")
        wait_dataset(page, TSNE, "d.status === 'running' && +d.frames >= 5 && +d.iteration >= 50",
                     timeout=60_000)
        state = until(lambda: (s := kernel_state("t"))["running"] and s["iteration"] > 50 and s,
                      "the kernel's t-SNE is not running")
        wait_dataset(page, TSNE, f"+d.iteration >= {state['iteration'] + 20}", timeout=30_000)
        scatter = ink(page.locator(f"{TSNE} .vw-scatter").screenshot())
        assert scatter > 2000, f"the scatter looks blank ({scatter} inked pixels)"

        # ⏸, then a lasso drawn with the mouse reaches t.selected: the app's readout (made
        # in Python from the trait) and the kernel's record say how many
        page.click(f"{TSNE} .vw-pause")
        wait_dataset(page, TSNE, "d.status === 'paused'", timeout=10_000)
        before = page.locator(f"{TSNE} .vw-scatter").screenshot()
        draw_lasso(page, TSNE)
        wait_dataset(page, TSNE, "+d.selected > 0", timeout=10_000)
        n_dom = int(page.locator(TSNE).get_attribute("data-selected"))
        # the view shows the selection (the points left out fade): the scatter changed
        faded = until(lambda: (c := changed(before, page.locator(f"{TSNE} .vw-scatter")
                                            .screenshot())) > 2000 and c,
                      "the view does not show the lassoed points selected", timeout=10)
        assert 0 < n_dom < 500
        caught = page.locator(".vw-caught")
        until(lambda: re.match(rf"\s*{n_dom} digits lassoed: ", caught.inner_text()),
              f"the app's readout never said {n_dom} digits lassoed "
              f"(says {caught.inner_text()!r})", timeout=10)
        until(lambda: kernel_state("t")["selected"] == n_dom,
              f"the kernel's t.selected never had the {n_dom} lassoed points", timeout=10)
        DOC_IMAGE.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(DOC_IMAGE), clip={"x": 0, "y": 0, "width": 1280, "height": 1000})

        # ▶ resumes; ⏹ in the page stops the run in the kernel
        page.click(f"{TSNE} .vw-run")
        wait_dataset(page, TSNE, "d.status === 'running'", timeout=10_000)
        stop_s = click_until(page, f"{TSNE} .vw-stop", TSNE, "d.status === 'stopped'",
                             timeout=10_000)
        assert stop_s < 5, f"Stop took {stop_s:.1f} s"
        until(lambda: (s := kernel_state("t"))["status"] == "stopped" and not s["running"],
              f"the kernel's t-SNE did not stop: {kernel_state('t')}", timeout=10)
        assert_offline(page)
        assert not page.vw_errors, page.vw_errors
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "voila_tsne_failed.png"), full_page=True)
        raise
    print(f"\nVoilà t-SNE: {n_dom} lassoed, stop {stop_s:.2f} s, scatter ink {scatter}, "
          f"{faded} pixels changed by the lasso, "
          f"blocked (Voilà's own) {sorted(set(blocked_requests(page.context.browser)))}")


def test_vae_curves_stream_and_stop_in_voila_offline(voila, page):
    _, kernel_state = voila
    try:
        wait_dataset(page, VAE, "d.status === 'idle'")
        page.click(f"{VAE} .vw-run")
        wait_dataset(page, VAE, "d.status === 'running' && +d.metrics >= 5 && +d.grids >= 2",
                     timeout=60_000)
        n = int(page.locator(VAE).get_attribute("data-metrics"))
        wait_dataset(page, VAE, f"+d.metrics > {n}", timeout=30_000)     # still streaming
        page.locator(f"{VAE} .vw-curves").scroll_into_view_if_needed()
        curves = ink(page.locator(f"{VAE} .vw-curves").screenshot())
        assert curves > 300, f"the curves look blank ({curves} inked pixels)"
        assert kernel_state("v")["running"]
        click_until(page, f"{VAE} .vw-stop", VAE, "d.status === 'stopped'", timeout=10_000)
        until(lambda: (s := kernel_state("v"))["status"] == "stopped" and not s["running"],
              f"the kernel's VAE did not stop: {kernel_state('v')}", timeout=10)
        assert_offline(page)
        assert not page.vw_errors, page.vw_errors
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "voila_vae_failed.png"), full_page=True)
        raise
