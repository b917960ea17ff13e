"""Shiny for Python, offline: both widgets shown by shinywidgets' ``@render_widget`` in a
real ``shiny run`` app on loopback, in headless Chromium.

One server for the module (a subprocess): ``/?w=tsne`` shows a TSNEWidget of 500
digits, ``/?w=vae`` a VAEWidget. The app also answers ``/state`` with what the widgets
in its process hold (status, iteration, epoch, the selection), so the test compares the
page with Python. Every request to another host is blocked and recorded, and none may be
attempted. In the t-SNE page: ▶ makes frames stream with nothing more from the page
(the worker's sends go through the session's loop: ``widgets/shiny_host.py``), the view
is not clipped, ⏸ leaves the page and Python at the same iteration, a lasso drawn with
the mouse reaches ``w.selected``, and ⏹ stops the run in Python. In the VAE page the
curves and grids stream, the epochs advance in Python, and ⏹ acts. A closed page ends
its session, and shinywidgets closes its widget: the run stops.
"""
import importlib.util
import json
import os
import pathlib
import shutil
import sys
import tempfile
import textwrap
import time
import urllib.request

import pytest

pytest.importorskip("playwright")
# (found, not imported: importing shinywidgets makes every widget made in this process
# afterwards need a Shiny session; the app runs in its own process)
if importlib.util.find_spec("shinywidgets") is None:
    pytest.skip("shinywidgets is not installed (the hosts extra)", allow_module_level=True)
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, BIN, _serve, assert_offline, click_until, draw_lasso,  # noqa: E402
                        free_port, ink, launch, wait_dataset)

pytestmark = pytest.mark.browser
TSNE, VAE = ".vw-tsne", ".vw-vae"
SHOT = pathlib.Path(__file__).resolve().parents[2] / "docs/images/host_shiny.png"

APP = textwrap.dedent("""\
    from urllib.parse import parse_qs

    from shiny import App, ui
    from shinywidgets import output_widget, render_widget
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Mount, Route

    from vae_widgets import TSNEWidget, VAEWidget, datasets

    X, y = datasets.digits()
    X, y = X[:500], y[:500]
    MADE = {"tsne": [], "vae": []}

    app_ui = ui.page_fluid(ui.h3("vae_widgets in Shiny"), output_widget("view"))


    def server(input, output, session):
        @render_widget
        def view():
            query = parse_qs(session.clientdata.url_search().lstrip("?"))
            if query.get("w", ["tsne"])[0] == "vae":
                w = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=500)
                MADE["vae"].append(w)
            else:
                w = TSNEWidget(X, labels=y, image_shape=(8, 8), n_iter=20000)
                MADE["tsne"].append(w)
            return w


    def state(request):
        def one(w):
            return {"status": w.status, "running": w.running,
                    "iteration": getattr(w, "iteration", None),
                    "epoch": getattr(w, "epoch", None),
                    "selected": len(getattr(w, "selected", None) or [])}
        return JSONResponse({k: [one(w) for w in ws] for k, ws in MADE.items()})


    app = Starlette(routes=[Route("/state", state), Mount("/", App(app_ui, server))])
    """)


def until(fn, what, timeout=20.0):
    """``fn()`` once it is truthy, polled every 50 ms; fail with ``what`` after ``timeout``."""
    deadline = time.time() + timeout
    while not (value := fn()):
        assert time.time() < deadline, f"{what} (after {timeout:.0f} s)"
        time.sleep(0.05)
    return value


@pytest.fixture(scope="module")
def server():
    """``shiny run`` of the app on 127.0.0.1; yields (base URL, ``state()``: the latest
    widget of each kind, as the server's Python sees it)."""
    run = pathlib.Path(tempfile.mkdtemp(prefix="shiny-"))
    (run / "app.py").write_text(APP)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}", PYTHONUNBUFFERED="1")
    cmd = [str(BIN / "shiny"), "run", "app.py", "--host", "127.0.0.1", "--port", str(port)]
    assert (BIN / "shiny").exists(), f"no shiny next to {sys.executable}"

    def state(kind):
        with urllib.request.urlopen(f"{base}/state", timeout=5) as r:
            made = json.loads(r.read())[kind]
        return made[-1] if made else None

    with _serve("shiny", cmd, env, run, f"{base}/state", cwd=run):
        yield base, state


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        b = launch(pw)            # blocks and records every request to another host
        yield b
        b.close()


def open_page(browser, url, height=1000):
    page = browser.new_page(viewport={"width": 1200, "height": height})
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def dataset(page, root):
    return page.locator(root).first.evaluate("el => ({...el.dataset})")


def test_tsne_streams_pauses_lassos_and_stops_in_shiny_offline(server, browser):
    base, state = server
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_page(browser, f"{base}/?w=tsne", height=720)
    try:
        page.locator(TSNE).wait_for(timeout=60_000)
        wait_dataset(page, TSNE, "d.status === 'idle'")
        until(lambda: state("tsne"), "no TSNEWidget was made in the app")

        # ▶ in the page; then frames stream on their own (drawn and acknowledged)
        page.click(f"{TSNE} .vw-run")
        wait_dataset(page, TSNE, "d.status === 'running' && +d.frames >= 5 && +d.iteration >= 50",
                     timeout=60_000)
        it = int(dataset(page, TSNE)["iteration"])
        wait_dataset(page, TSNE, f"+d.iteration > {it + 20}", timeout=30_000)
        assert state("tsne")["running"]
        scatter = ink(page.locator(f"{TSNE} .vw-scatter").screenshot())
        assert scatter > 2000, f"the scatter looks blank ({scatter} inked pixels)"

        # the view is shown whole: shinywidgets' output is as tall as the view
        sizes = page.evaluate("""() => {
            const o = document.querySelector('.shiny-ipywidget-output');
            const v = document.querySelector('.vw-tsne');
            return {box: o.getBoundingClientRect().height, inner: o.scrollHeight,
                    view: v.getBoundingClientRect().height}; }""")
        assert sizes["view"] > 500 and sizes["inner"] <= sizes["box"] + 1, sizes

        # ⏸: the page and Python stop at the same iteration
        page.click(f"{TSNE} .vw-pause")
        wait_dataset(page, TSNE, "d.status === 'paused'", timeout=10_000)
        py = until(lambda: (s := state("tsne"))["status"] == "paused"
                   and s["iteration"] == int(dataset(page, TSNE)["iteration"]) and s,
                   "the page and Python never agreed on the paused iteration")

        # a lasso drawn with the mouse reaches w.selected
        draw_lasso(page, TSNE)
        wait_dataset(page, TSNE, "+d.selected > 0", timeout=10_000)
        n_dom = int(dataset(page, TSNE)["selected"])
        until(lambda: state("tsne")["selected"] == n_dom,
              f"w.selected never had the {n_dom} lassoed points")
        assert 0 < n_dom < 500
        SHOT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOT), full_page=True)

        # ▶ resumes; ⏹ in the page stops the run in Python
        page.click(f"{TSNE} .vw-run")
        wait_dataset(page, TSNE, "d.status === 'running'", timeout=10_000)
        stop_s = click_until(page, f"{TSNE} .vw-stop", TSNE, "d.status === 'stopped'",
                             timeout=10_000)
        until(lambda: (s := state("tsne"))["status"] == "stopped" and not s["running"],
              "Stop in the page did not stop the run in Python", timeout=15)
        assert stop_s < 5, f"Stop took {stop_s:.1f} s"
        assert_offline(browser)
        assert not errors, errors
    except Exception:
        if not page.is_closed():
            page.screenshot(path=str(ARTIFACTS / "shiny_tsne_failed.png"), full_page=True)
        raise
    print(f"\nShiny t-SNE: paused at {py['iteration']}, {n_dom} lassoed, stop {stop_s:.2f} s")


def test_vae_streams_and_stops_in_shiny_offline(server, browser):
    base, state = server
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_page(browser, f"{base}/?w=vae")
    try:
        page.locator(VAE).wait_for(timeout=60_000)
        wait_dataset(page, VAE, "d.status === 'idle'")
        page.click(f"{VAE} .vw-run")
        # curves (metric rows) and image grids (uint8 buffers) stream
        wait_dataset(page, VAE, "d.status === 'running' && +d.metrics >= 5 && +d.grids >= 2",
                     timeout=60_000)
        n = int(dataset(page, VAE)["metrics"])
        wait_dataset(page, VAE, f"+d.metrics > {n}", timeout=30_000)
        # the epochs advance in Python, and the page follows them
        e0 = until(lambda: (s := state("vae"))["epoch"] and s["epoch"],
                   "no epoch ended in Python", timeout=30)
        until(lambda: state("vae")["epoch"] >= e0 + 1, "the epochs stopped advancing")
        wait_dataset(page, VAE, f"+d.epoch >= {e0 + 1}", timeout=10_000)
        curves = ink(page.locator(f"{VAE} .vw-curves").screenshot())
        assert curves > 300, f"the curves look blank ({curves} inked pixels)"
        page.screenshot(path=str(ARTIFACTS / "shiny_vae.png"), full_page=True)
        click_until(page, f"{VAE} .vw-stop", VAE, "d.status === 'stopped'", timeout=10_000)
        until(lambda: (s := state("vae"))["status"] == "stopped" and not s["running"],
              "Stop in the page did not stop the training in Python", timeout=15)
        assert_offline(browser)
        assert not errors, errors
    except Exception:
        if not page.is_closed():
            page.screenshot(path=str(ARTIFACTS / "shiny_vae_failed.png"), full_page=True)
        raise


def test_a_closed_page_stops_its_run(server, browser):
    base, state = server
    page, _ = open_page(browser, f"{base}/?w=tsne")
    page.locator(TSNE).wait_for(timeout=60_000)
    wait_dataset(page, TSNE, "d.status === 'idle'")
    page.click(f"{TSNE} .vw-run")
    wait_dataset(page, TSNE, "d.status === 'running' && +d.frames >= 2", timeout=60_000)
    assert state("tsne")["running"]
    page.context.close()           # the websocket closes: Shiny ends the session at once
    until(lambda: not state("tsne")["running"], "the run of a closed page went on", timeout=20)
    assert_offline(browser)
