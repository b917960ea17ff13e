"""Offline: both widgets in one JupyterLab notebook, and not one request leaves the machine.

The page only may talk to the local Jupyter server: every other request (scripts,
styles, fonts, images, source maps, fetch/XHR, websockets) is aborted and recorded by
the harness's ``OfflineGuard``. The notebook shows a TSNEWidget and a VAEWidget on the
bundled digits; the test clicks ▶ in each, waits for frames and metrics, checks that
both views drew (canvas ink) and that the kernel moved, then asserts that nothing was
blocked. A canary at the end proves the guard is live on that very page: a font, a
fetch, an image and a websocket to other hosts are each blocked and recorded.
"""
import functools
import http.server
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import threading

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, blocked_requests, ink, kernel_json, lab_server,  # noqa: E402
                        launch, open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
REPO = pathlib.Path(__file__).resolve().parents[2]
STATIC = REPO / "vae_widgets" / "static"
TSNE, VAE = ".vw-tsne", ".vw-vae"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-offline-"))
    write_notebook(root / "both.ipynb", [
        "from vae_widgets import TSNEWidget, VAEWidget, datasets\n"
        "X, y = datasets.digits()",
        "w = TSNEWidget(X, labels=y, image_shape=(8, 8), n_iter=20000)\nw",
        "v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=500)\nv",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def test_bundles_name_no_remote_source_maps_or_urls_to_load():
    """What the page executes: no sourceMappingURL and no import() of a remote module."""
    for f in STATIC.glob("*.js"):
        text = f.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"sourceMappingURL=(https?:)?//", text), f"{f.name}: remote source map"
        assert not re.search(r"import\(\s*[\"'](https?:)?//", text), f"{f.name}: remote import()"
    for f in STATIC.glob("*.css"):
        text = f.read_text(encoding="utf-8", errors="replace")
        assert not re.search(r"url\(\s*[\"']?(https?:)?//", text), f"{f.name}: remote url()"
        assert not re.search(r"@import\s+[\"']?(url\()?\s*[\"']?(https?:)?//", text), f.name


def test_both_widgets_run_offline(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw, allow=[base])          # only the Jupyter server itself
        page = browser.new_page(viewport={"width": 1280, "height": 1600})
        sockets, errors = [], []
        page.on("websocket", lambda ws: sockets.append(ws.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "both.ipynb")
        run_all(page)
        page.locator(TSNE).wait_for(timeout=60_000)
        page.locator(VAE).wait_for(timeout=60_000)

        page.click(f"{TSNE} .vw-run")
        wait_attr(page, TSNE, "+d.frames >= 5 && +d.iteration >= 50", timeout=60_000)
        page.click(f"{VAE} .vw-run")
        wait_attr(page, VAE, "d.status === 'running' && +d.metrics >= 3 && +d.grids >= 1",
                  timeout=60_000)
        page.wait_for_timeout(1500)                 # more frames and curve points

        scatter = ink(page.locator(f"{TSNE} .vw-scatter").screenshot())
        curves = ink(page.locator(f"{VAE} .vw-curves").screenshot())
        assert scatter > 2000, f"t-SNE scatter looks blank ({scatter} inked pixels)"
        assert curves > 300, f"VAE curves look blank ({curves} inked pixels)"
        it, step = kernel_json(page, "[w.runner.iteration, v.trainer.step]")
        assert it > 0 and step > 0, (it, step)
        page.screenshot(path=str(ARTIFACTS / "offline_both.png"), full_page=True)

        page.click(f"{TSNE} .vw-stop")
        page.click(f"{VAE} .vw-stop")
        wait_attr(page, TSNE, "d.status === 'stopped' || d.status === 'done'", timeout=10_000)
        wait_attr(page, VAE, "d.status === 'stopped' || d.status === 'done'", timeout=10_000)

        # nothing tried to leave: the guard blocked nothing, every resource the page
        # loaded and every websocket it opened was the Jupyter server's
        assert blocked_requests(browser) == [], blocked_requests(browser)
        resources = page.evaluate("() => performance.getEntriesByType('resource').map(e => e.name)")
        host = base.split("//", 1)[1]
        foreign = [u for u in resources if not u.startswith(("data:", "blob:"))
                   and u.split("//", 1)[-1].split("/", 1)[0] != host]
        assert not foreign, foreign
        assert sockets and all(s.split("//", 1)[1].startswith(host) for s in sockets), sockets

        # canary: the same page's attempts to reach other hosts are blocked and recorded
        page.evaluate("""() => {
            const style = document.createElement('style');
            style.textContent = "@font-face { font-family: Canary; src: url(https://fonts.canary.invalid/c.woff2); }"
                              + " .canary { font-family: Canary; }";
            document.head.appendChild(style);
            const el = document.createElement('span'); el.className = 'canary'; el.textContent = 'x';
            document.body.appendChild(el);
            const img = new Image(); img.src = 'http://img.canary.invalid/a.png';
            fetch('https://api.canary.invalid/data.json').catch(() => {});
            try { new WebSocket('wss://ws.canary.invalid/socket'); } catch (e) {}
        }""")
        page.wait_for_timeout(1500)
        hosts = {u.split("//", 1)[1].split("/", 1)[0] for u in blocked_requests(browser)}
        browser.close()
    assert hosts == {"fonts.canary.invalid", "img.canary.invalid", "api.canary.invalid",
                     "ws.canary.invalid"}, hosts
    assert not errors, errors
    print(f"\nink: scatter {scatter}, curves {curves}; t-SNE iteration {it}, VAE step {step}; "
          f"{len(resources)} resources, {len(sockets)} websockets, all local")


@pytest.mark.slow
def test_docs_site_reads_offline(tmp_path):
    for mod in ("mkdocs", "material", "mkdocs_jupyter", "mkdocstrings"):
        pytest.importorskip(mod)
    site = tmp_path / "site"
    # not --strict: this checks what a reader's browser loads; .ci/docs checks warnings
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--no-strict", "-q", "-d", str(site)],
                   cwd=REPO, check=True, env=dict(os.environ, NO_MKDOCS_2_WARNING="1"))
    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    notebook = sorted(p.parent.name for p in (site / "notebooks").glob("*/index.html"))[0]
    try:
        with sync_playwright() as pw:
            browser = launch(pw, allow=[base])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))

            page.goto(base, wait_until="networkidle")
            widths = page.eval_on_selector_all("article img", "els => els.map(e => e.naturalWidth)")
            assert len(widths) >= 2 and all(w > 0 for w in widths), widths   # screenshots shown

            page.goto(base + "guide/vae/", wait_until="networkidle")
            page.wait_for_function("() => document.querySelectorAll('.arithmatex .MathJax,"
                                   " .arithmatex .MathJax_Display').length >= 3", timeout=30_000)
            page.screenshot(path=str(ARTIFACTS / "docs_vae_guide.png"))

            page.goto(base + f"notebooks/{notebook}/", wait_until="networkidle")
            assert page.locator(".jupyter-wrapper .jp-Cell").count() >= 3   # rendered cells
            page.goto(base + "api/widgets/", wait_until="networkidle")
            assert page.locator("article h2, article h3").count() >= 2     # API entries
            assert blocked_requests(browser) == [], blocked_requests(browser)
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    assert not errors, errors


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass
