"""End to end: hostile labels stay text, PNG buttons download pictures, the export runs offline.

In a real JupyterLab (headless Chromium), a TSNEWidget whose labels and label name
are HTML (``<img src=x onerror=alert(N)>``): the hover tooltip and the legend show
the literal text, no dialog fires and no ``img[onerror]`` element exists. The PNG
buttons of TSNEWidget and VAEWidget download non-blank PNGs. ``w.save_html()``
written by the kernel opens from file:// with no network request, no dialog, and a
Bokeh hover that shows the label as text.
"""
import io
import pathlib
import shutil
import tempfile

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, ink, kernel_exec, lab_server, launch, open_notebook,  # noqa: E402
                        run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
TSNE, VAE = ".vw-tsne", ".vw-vae"
NAME = "<b>digit</b>"


def label(d):
    return f"<img src=x onerror=alert({d})>"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-escape-"))
    write_notebook(root / "escape.ipynb", [
        "from vae_widgets import TSNEWidget, VAEWidget, datasets\n"
        "X, y = datasets.digits()\n"
        "X, y = X[:400], y[:400]\n"
        "hostile = [f'<img src=x onerror=alert({d})>' for d in y]\n"
        f"w = TSNEWidget(X, labels=hostile, label_name={NAME!r}, image_shape=(8, 8),\n"
        "               early_exaggeration_iter=50, n_iter=100)\n"
        "w",
        "v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=1)\n"
        "v",
    ])
    with lab_server(root) as (base, token):
        yield base, token, root
    shutil.rmtree(root, ignore_errors=True)


def png_download(page, root_sel, name):
    """Click the view's PNG button; return the downloaded PNG's bytes (also saved as an artifact)."""
    with page.expect_download(timeout=20_000) as info:
        page.click(f"{root_sel} .vw-png")
    dl = info.value
    assert dl.suggested_filename.endswith(".png") and dl.suggested_filename.startswith(name)
    data = pathlib.Path(dl.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    (ARTIFACTS / f"{name}_download.png").write_bytes(data)
    return data


def png_size(data):
    from PIL import Image
    return Image.open(io.BytesIO(data)).size


def test_hostile_labels_png_buttons_and_offline_export(lab):
    base, token, root = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        context = browser.new_context(viewport={"width": 1280, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        dialogs = []
        context.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "escape.ipynb")
        run_all(page)
        page.locator(TSNE).wait_for(timeout=60_000)
        page.locator(VAE).wait_for(timeout=60_000)

        # legend: the literal text, as text
        page.locator(f"{TSNE} .vw-legend-name").first.wait_for(timeout=20_000)
        names = page.locator(f"{TSNE} .vw-legend-name").all_inner_texts()
        assert label(0) in names and len(names) == 10
        assert page.locator(f"{TSNE} .vw-legend > .vw-legend-title").inner_text() == NAME

        page.click(f"{TSNE} .vw-run")
        wait_attr(page, TSNE, "d.status === 'done'", timeout=120_000)
        page.wait_for_timeout(500)

        # hover: sweep the scatter until a tooltip shows; it holds the literal label
        box = page.locator(f"{TSNE} .vw-scatter").bounding_box()
        tip = page.locator(f"{TSNE} .vw-tooltip")
        found = False
        for fy in [i / 14 for i in range(1, 14)]:
            for fx in [i / 20 for i in range(1, 20)]:
                page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                if tip.is_visible():
                    found = True
                    break
            if found:
                break
        assert found, "no tooltip appeared while sweeping the scatter"
        text = page.locator(f"{TSNE} .vw-tooltip-label").inner_text()
        assert text.startswith(f"{NAME}: <img src=x onerror=alert(") and text.endswith(")>")
        page.screenshot(path=str(ARTIFACTS / "escaping_tooltip.png"))
        assert page.locator("img[onerror]").count() == 0
        assert page.evaluate("() => document.querySelectorAll('img[src=\"x\"], b').length") == 0
        page.mouse.move(5, 5)

        # PNG of the t-SNE view: scatter + chart + legend, not blank
        data = png_download(page, TSNE, "tsne")
        w, h = png_size(data)
        view = page.locator(TSNE).bounding_box()
        assert abs(w - view["width"]) <= 2 and abs(h - view["height"]) <= 2
        assert ink(data) > 5000, "the t-SNE PNG looks blank"
        assert int(page.eval_on_selector(f"{TSNE} .vw-png", "b => b.dataset.pngBytes")) == len(data)

        # PNG of the VAE view after one epoch
        page.click(f"{VAE} .vw-run")
        kernel_exec(page, "v.wait(120)", timeout=150_000)
        wait_attr(page, VAE, "d.status === 'done' && +d.grids >= 1", timeout=30_000)
        page.wait_for_timeout(800)
        data = png_download(page, VAE, "vae")
        assert ink(data) > 5000, "the VAE PNG looks blank"

        # the export, written by the kernel, opened from file:// in a fresh page
        kernel_exec(page, f"w.save_html({str(root / 'tsne.html')!r})", timeout=60_000)
        xy = [float(v) for v in kernel_exec(
            page, "print(*w.runner.embedding[0].tolist())").split()]
        assert dialogs == [] and errors == [], (dialogs, errors)

        export_page = context.new_page()
        requests = []
        export_page.on("request", lambda r: requests.append(r.url))
        export_page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        export_page.goto((root / "tsne.html").as_uri())
        export_page.wait_for_function("() => window.Bokeh && Bokeh.documents.length > 0 && "
                                      "Bokeh.documents[0].get_model_by_name('vw-embedding')")
        export_page.wait_for_timeout(1000)
        px, py = export_page.evaluate("""([x, y]) => {
            const plot = Bokeh.documents[0].get_model_by_name('vw-embedding');
            const pv = Bokeh.index.find_one(plot);
            const r = pv.el.getBoundingClientRect();
            return [r.x + pv.frame.x_scale.compute(x), r.y + pv.frame.y_scale.compute(y)]; }""", xy)
        export_page.mouse.move(px, py)
        shown = export_page.get_by_text(f"{NAME}: <img src=x onerror=alert(", exact=False)
        shown.first.wait_for(timeout=10_000)
        assert export_page.locator("img[onerror]").count() == 0
        thumbs = export_page.locator("img[src^='data:image/png']")
        assert thumbs.count() >= 1 and thumbs.first.evaluate("i => i.complete && i.naturalWidth") == 8
        export_page.screenshot(path=str(ARTIFACTS / "export_hover.png"))
        remote = [u for u in requests if not u.startswith(("file:", "data:", "blob:"))]
        assert remote == [], f"the export fetched from the network: {remote[:5]}"
        assert dialogs == [], dialogs
        browser.close()
