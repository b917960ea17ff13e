"""Panel, offline: ``w.to_panel()`` served by Panel on loopback, in headless Chromium.

One Panel server for the module (in this process, so the test reads the widgets that
the pages drive directly), two apps: ``/tsne`` shows a TSNEWidget of 500 digits
(``pn.Column(t)``, which is ``t.to_panel()``), ``/vae`` a VAEWidget. Every request to
another host is blocked and recorded, and none may be attempted. In the t-SNE page:
▶ makes frames stream (the view's counters move, the scatter has ink), a lasso drawn
with the mouse reaches ``t.selected`` and a selection set in Python reaches the page,
Stop stops the run in Python, and closing the page ends the session, which closes the
widget (the last test). In the VAE page the curves stream and Stop acts.
"""
import asyncio
import pathlib
import shutil
import threading
import time
import urllib.request

import pytest

pytest.importorskip("playwright")
pn = pytest.importorskip("panel")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, assert_offline, click_until, draw_lasso, ink, launch,  # noqa: E402
                        wait_dataset)

pytestmark = pytest.mark.browser
TSNE, VAE = ".vw-tsne", ".vw-vae"


def until(fn, what, timeout=20.0):
    """``fn()`` once it is truthy, polled every 50 ms; fail with ``what`` after ``timeout``."""
    deadline = time.time() + timeout
    while not (value := fn()):
        assert time.time() < deadline, f"{what} (after {timeout:.0f} s)"
        time.sleep(0.05)
    return value


@pytest.fixture(scope="module")
def server():
    """A Panel server on 127.0.0.1 (a port the OS picks), apps /tsne and /vae; yields
    (base URL, the widgets each session made)."""
    from tornado.ioloop import IOLoop

    from panel.io.server import get_server
    from vae_widgets import TSNEWidget, VAEWidget, datasets

    X, y = datasets.digits()
    X, y = X[:500], y[:500]
    made = {"tsne": [], "vae": []}

    def tsne_app():
        t = TSNEWidget(X, labels=y, image_shape=(8, 8), n_iter=20000)
        made["tsne"].append(t)
        return pn.Column("## t-SNE in Panel", t)

    def vae_app():
        v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=500)
        made["vae"].append(v)
        return pn.Column("## VAE in Panel", v)

    box, started = {}, threading.Event()

    def serve():
        asyncio.set_event_loop(asyncio.new_event_loop())
        try:
            box["loop"] = loop = IOLoop.current()
            # port 0: the OS picks a free port at bind time (no pick-then-bind race), so
            # the page's origin port is not known beforehand: any origin, loopback only
            box["server"] = srv = get_server(
                {"tsne": tsne_app, "vae": vae_app}, port=0, address="127.0.0.1",
                websocket_origin=["*"], start=False, show=False, loop=loop,
                # a closed page's session ends 15 s (Bokeh's default) after it went: look
                # every 0.5 s. (A shorter life ends the session of a page still loading,
                # and the page's new session links Panel's stylesheets from a CDN.)
                check_unused_sessions_milliseconds=500)
            srv.start()
        except BaseException as exc:   # noqa: BLE001 - reported by the fixture
            box["error"] = exc
            return
        finally:
            started.set()
        loop.start()

    thread = threading.Thread(target=serve, name="panel-server", daemon=True)
    thread.start()
    assert started.wait(60), "the Panel server did not start"
    if "error" in box:
        raise box["error"]
    base = f"http://127.0.0.1:{box['server'].port}"

    def answers():
        # a static file: a page (or Panel's /liveness) would run an app, and a run outside
        # a session leaves CDN links to Panel's stylesheets in later pages
        try:
            return urllib.request.urlopen(f"{base}/static/js/bokeh.min.js",
                                          timeout=2).status == 200
        except OSError:
            return False
    until(answers, "the Panel server never answered", timeout=60)
    yield base, made
    for w in made["tsne"] + made["vae"]:
        w.close()
    box["loop"].add_callback(lambda: (box["server"].stop(), box["loop"].stop()))
    thread.join(20)


@pytest.fixture
def browser():
    with sync_playwright() as pw:
        b = launch(pw)            # blocks and records every request to another host
        yield b
        b.close()


def open_page(browser, url, name):
    page = browser.new_page(viewport={"width": 1200, "height": 1100})
    errors = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def test_tsne_streams_stops_and_lassos_in_panel_offline(server, browser):
    base, made = server
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_page(browser, f"{base}/tsne", "tsne")
    try:
        page.locator(TSNE).wait_for(timeout=60_000)
        t = until(lambda: made["tsne"] and made["tsne"][-1], "no TSNEWidget was made")
        wait_dataset(page, TSNE, "d.status === 'idle'")

        # ▶ in the page: frames stream (drawn and acknowledged), the counter moves
        page.click(f"{TSNE} .vw-run")
        wait_dataset(page, TSNE, "d.status === 'running' && +d.frames >= 5 && +d.iteration >= 50",
                     timeout=60_000)
        it = int(page.locator(TSNE).get_attribute("data-iteration"))
        wait_dataset(page, TSNE, f"+d.iteration > {it + 20}", timeout=30_000)
        assert t.status == "running" and t.running
        scatter = ink(page.locator(f"{TSNE} .vw-scatter").screenshot())
        assert scatter > 2000, f"the scatter looks blank ({scatter} inked pixels)"

        # ⏸, then a lasso drawn with the mouse reaches t.selected
        page.click(f"{TSNE} .vw-pause")
        wait_dataset(page, TSNE, "d.status === 'paused'", timeout=10_000)
        draw_lasso(page, TSNE)
        wait_dataset(page, TSNE, "+d.selected > 0", timeout=10_000)
        n_dom = int(page.locator(TSNE).get_attribute("data-selected"))
        until(lambda: len(t.selected) == n_dom, f"t.selected never had the {n_dom} lassoed "
              f"points (has {len(t.selected)})")
        assert 0 < n_dom < 500 and all(0 <= i < 500 for i in t.selected)
        page.screenshot(path=str(ARTIFACTS / "panel_tsne.png"))

        # the other way: a selection set in Python reaches the page
        t.selected = [0, 1, 2, 3, 4]
        wait_dataset(page, TSNE, "+d.selected === 5", timeout=10_000)

        # ▶ resumes; ⏹ in the page stops the run in Python
        page.click(f"{TSNE} .vw-run")
        wait_dataset(page, TSNE, "d.status === 'running'", timeout=10_000)
        stop_s = click_until(page, f"{TSNE} .vw-stop", TSNE, "d.status === 'stopped'",
                             timeout=10_000)
        t.wait(timeout=10)
        assert t.status == "stopped" and not t.running
        assert stop_s < 5, f"Stop took {stop_s:.1f} s"
        assert_offline(browser)
        assert not errors, errors
        page.context.close()       # its session ends: see the last test
    except Exception:
        if not page.is_closed():
            page.screenshot(path=str(ARTIFACTS / "panel_tsne_failed.png"), full_page=True)
        raise
    assert_offline(browser)
    print(f"\nPanel t-SNE: {n_dom} lassoed, stop {stop_s:.2f} s, scatter ink {scatter}")


def test_vae_renders_and_its_curves_stream_in_panel_offline(server, browser):
    base, made = server
    ARTIFACTS.mkdir(exist_ok=True)
    page, errors = open_page(browser, f"{base}/vae", "vae")
    try:
        page.locator(VAE).wait_for(timeout=60_000)
        v = until(lambda: made["vae"] and made["vae"][-1], "no VAEWidget was made")
        wait_dataset(page, VAE, "d.status === 'idle'")
        page.click(f"{VAE} .vw-run")
        # curves (metrics rows) and image grids (uint8 buffers) stream
        wait_dataset(page, VAE, "d.status === 'running' && +d.metrics >= 5 && +d.grids >= 2",
                     timeout=60_000)
        n = int(page.locator(VAE).get_attribute("data-metrics"))
        wait_dataset(page, VAE, f"+d.metrics > {n}", timeout=30_000)     # still streaming
        curves = ink(page.locator(f"{VAE} .vw-curves").screenshot())
        trav = ink(page.locator(f"{VAE} .vw-grid[data-kind=traversal] canvas").first.screenshot())
        assert curves > 300, f"the curves look blank ({curves} inked pixels)"
        assert trav > 100, f"the traversal grid looks blank ({trav} inked pixels)"
        assert v.status == "running" and v.running
        page.screenshot(path=str(ARTIFACTS / "panel_vae.png"))
        click_until(page, f"{VAE} .vw-stop", VAE, "d.status === 'stopped'", timeout=10_000)
        v.wait(timeout=10)
        assert v.status == "stopped" and not v.running
        assert_offline(browser)
        assert not errors, errors
    except Exception:
        page.screenshot(path=str(ARTIFACTS / "panel_vae_failed.png"), full_page=True)
        raise
    assert_offline(browser)


def test_a_closed_page_closes_its_widget(server, browser):
    """The session of a closed page ends (15 s later), which closes its widget: its run
    stopped, its thread ended. Last in the module, so the t-SNE page of the first test
    closed a while ago (run alone, it opens and closes one)."""
    base, made = server
    if not made["tsne"]:
        page, _ = open_page(browser, f"{base}/tsne", "tsne")
        page.locator(TSNE).wait_for(timeout=60_000)
        page.context.close()
    widgets = list(made["tsne"])
    until(lambda: all(w.comm is None for w in widgets),
          "a widget was not closed when its page's session ended", timeout=60)
    assert not any(w.running for w in widgets)
    assert_offline(browser)
