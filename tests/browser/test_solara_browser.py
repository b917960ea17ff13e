"""Solara, offline: a Solara app that makes its widgets inside the component
(``solara.use_memo``), served by ``solara run`` on loopback, in headless Chromium.

One Solara server for the module (a subprocess on a free 127.0.0.1 port, production mode,
telemetry off) serves a page with a TSNEWidget of 500 digits, a text that the app works out
in Python from ``t.selected`` (``"N digits lassoed"``), and a VAEWidget; the app also
records the kernel's own view (status, worker alive, ``len(t.selected)``, iteration) to a
file every 0.1 s for the test. One page for the module.

Offline twice over: the page's requests to other hosts are blocked and recorded (none may
be attempted), and Solara's server, which fetches its front end's files from a CDN
through its own ``/_solara/cdn`` proxy unless they are installed (``solara-assets``), has
its CDN pointed at a closed loopback port: a file missing from the installed assets fails
the test (a 4xx/5xx from ``/_solara/cdn``, or "Could not load URL" in the server's log).

t-SNE: ▶ makes frames stream (the page's iteration advances and reaches the kernel's), a
lasso drawn with the mouse reaches ``t.selected`` (the app's text and the kernel's record
say how many), Stop in the page stops the run in the kernel. VAE: Train makes curves and
image grids stream; Stop acts.
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
pytest.importorskip("solara")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, BIN, _serve, assert_offline, click_until, draw_lasso,  # noqa: E402
                        free_port, ink, launch, wait_dataset)

pytestmark = pytest.mark.browser
TSNE, VAE = ".vw-tsne", ".vw-vae"
DOC_IMAGE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "images" / "host_solara.png"

APP = '''\
import json
import os
import pathlib
import threading

import solara
from vae_widgets import TSNEWidget, VAEWidget, datasets

X, y = datasets.digits()
X, y = X[:500], y[:500]
STATE = pathlib.Path(os.environ["VW_TEST_STATE"])


def record(t, v):
    """The kernel's view, every 0.1 s, for the test (not part of the idiom)."""
    done = threading.Event()

    def loop():
        while not done.wait(0.1):
            for name, w in (("t", t), ("v", v)):
                s = {"status": w.status, "running": w.running,
                     "selected": len(getattr(w, "selected", ())),
                     "iteration": getattr(w, "iteration", None)}
                (STATE / (name + ".tmp")).write_text(json.dumps(s))
                (STATE / (name + ".tmp")).replace(STATE / (name + ".json"))

    threading.Thread(target=loop, daemon=True).start()
    return done.set


@solara.component
def Caught(t):
    """len(t.selected), worked out in Python from the trait. A component of its own: its
    re-render leaves the component that shows the widget alone."""
    n, set_n = solara.use_state(len(t.selected))

    def watch():
        def on_change(change):
            set_n(len(change["new"]))
        t.observe(on_change, "selected")
        return lambda: t.unobserve(on_change, "selected")

    solara.use_effect(watch, [t])
    solara.Text(f"{n} digits lassoed", classes=["vw-caught"], style={"font-size": "16px"})


@solara.component
def Page():
    # the idiom: each page (session) makes its own widgets, once, inside the component
    t = solara.use_memo(lambda: TSNEWidget(X, labels=y, image_shape=(8, 8), n_iter=20000), [])
    v = solara.use_memo(lambda: VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4,
                                          epochs=500), [])
    solara.use_effect(lambda: record(t, v), [t, v])
    with solara.Column(style={"padding": "8px 24px"}):
        solara.HTML(tag="h2", unsafe_innerHTML="Digits, live (Solara)")
        solara.display(t)
        Caught(t)
        solara.display(v)
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


@pytest.fixture(scope="module")
def solara_app():
    """``solara run app.py`` on 127.0.0.1, production mode; yields (URL, kernel_state, log)."""
    run = pathlib.Path(tempfile.mkdtemp(prefix="solara-"))
    state = run / "state"
    state.mkdir()
    (run / "app.py").write_text(APP)
    port = free_port()
    env = dict(os.environ, VW_TEST_STATE=str(state), SOLARA_HOME=str(run / "home"),
               SOLARA_TELEMETRY_MIXPANEL_ENABLE="False",
               # a file the installed assets lack is fetched from here: a closed port
               SOLARA_ASSETS_CDN=f"http://127.0.0.1:{free_port()}/npm/",
               PATH=f"{BIN}:{os.environ['PATH']}")
    cmd = [str(BIN / "solara"), "run", "app.py", "--host=127.0.0.1", f"--port={port}",
           "--no-open", "--production"]
    base = f"http://127.0.0.1:{port}"
    log = run / "server.log"

    def kernel_state(name):
        path = until(lambda: (state / f"{name}.json").exists() and state / f"{name}.json",
                     "the app never recorded its kernel's state", timeout=60)
        return json.loads(path.read_text())

    with _serve("solara", cmd, env, run, f"{base}/readyz", cwd=run):
        yield f"{base}/", kernel_state, lambda: log.read_text() if log.exists() else ""


@pytest.fixture(scope="module")
def page(solara_app):
    url, _, _ = solara_app
    with sync_playwright() as pw:
        browser = launch(pw)      # blocks and records every request to another host
        page = browser.new_page(viewport={"width": 1280, "height": 1500})
        page.vw_errors, page.vw_cdn_failed = [], []
        page.on("pageerror", lambda e: page.vw_errors.append(str(e)))
        page.on("response", lambda r: "/_solara/cdn/" in r.url and r.status >= 400
                and page.vw_cdn_failed.append(f"{r.status} {r.url}"))
        page.goto(url)
        page.locator(TSNE).wait_for(timeout=60_000)
        page.locator(VAE).wait_for(timeout=60_000)
        yield page
        browser.close()


def assert_all_local(page, server_log):
    assert_offline(page.context.browser)
    assert not page.vw_cdn_failed, (
        f"Solara's assets lack {page.vw_cdn_failed} (the hosts extra pins a Solara whose "
        "files solara-assets has: ipyvuetify 1.x, solara-vuetify-app@10.1.1)")
    missing = [ln for ln in server_log().splitlines() if "Could not load URL" in ln]
    assert not missing, f"the Solara server went to its CDN: {missing[:3]}"


def test_tsne_streams_lassos_and_stops_in_solara_offline(solara_app, page):
    _, kernel_state, server_log = solara_app
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

        # ⏸, then a lasso drawn with the mouse reaches t.selected: the app's text (made in
        # Python from the trait) and the kernel's record say how many
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
        until(lambda: re.fullmatch(rf"\s*{n_dom} digits lassoed\s*", caught.inner_text()),
              f"the app's text never said {n_dom} digits lassoed "
              f"(says {caught.inner_text()!r})", timeout=10)
        until(lambda: kernel_state("t")["selected"] == n_dom,
              f"the kernel's t.selected never had the {n_dom} lassoed points", timeout=10)
        DOC_IMAGE.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(DOC_IMAGE), clip={"x": 0, "y": 0, "width": 1280, "height": 820})

        # ▶ resumes; ⏹ in the page stops the run in the kernel
        page.click(f"{TSNE} .vw-run")
        wait_dataset(page, TSNE, "d.status === 'running'", timeout=10_000)
        stop_s = click_until(page, f"{TSNE} .vw-stop", TSNE, "d.status === 'stopped'",
                             timeout=10_000)
        assert stop_s < 5, f"Stop took {stop_s:.1f} s"
        until(lambda: (s := kernel_state("t"))["status"] == "stopped" and not s["running"],
              f"the kernel's t-SNE did not stop: {kernel_state('t')}", timeout=10)
        assert_all_local(page, server_log)
        assert not page.vw_errors, page.vw_errors
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "solara_tsne_failed.png"), full_page=True)
        raise
    print(f"\nSolara t-SNE: {n_dom} lassoed, stop {stop_s:.2f} s, scatter ink {scatter}, "
          f"{faded} pixels changed by the lasso")


def test_vae_curves_stream_and_stop_in_solara_offline(solara_app, page):
    _, kernel_state, server_log = solara_app
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
        assert_all_local(page, server_log)
        assert not page.vw_errors, page.vw_errors
    except Exception:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "solara_vae_failed.png"), full_page=True)
        raise
