"""End to end: AnomalyWidget in a real JupyterLab, driven in headless Chromium.

A VAE trained on digits 0-8 scores held-out digits and the 9s: the histogram is drawn
(canvas ink), the metrics show; dragging the threshold line to the right changes
``selected`` in the kernel and empties part of the gallery; a threshold set from
Python moves the line; screenshot.
"""
import pathlib
import shutil
import tempfile

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, data_attr, ink, kernel_exec, kernel_json,  # noqa: E402
                        kernel_when, lab_server, launch, open_notebook, run_all, wait_attr,
                        write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-anomaly"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-anomaly-"))
    write_notebook(root / "anomaly.ipynb", [
        "import numpy as np\n"
        "from vae_widgets import VAEWidget, datasets\n"
        "X, y = datasets.digits()\n"
        "train = np.flatnonzero(y != 9)[:1200]\n"
        "test = np.setdiff1d(np.arange(len(y)), train)\n"
        "v = VAEWidget(X[train], image_shape=(8, 8), latent_dim=8, architecture='mlp',\n"
        "              visuals_every=None, epochs=20)\n"
        "v.train(); v.wait()\n"
        "a = v.anomalies(X[test], y_true=(y[test] == 9), n_gallery=16)\n"
        "a",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def test_anomaly_widget_end_to_end(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1100, "height": 1000})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "anomaly.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=120_000)
        wait_attr(page, ROOT, "+d.draws >= 1 && +d.gallery === 16", timeout=30_000)
        page.wait_for_timeout(500)

        canvas = page.locator(f"{ROOT} .vw-an-canvas")
        hist_ink = ink(canvas.screenshot())
        assert hist_ink > 2000, f"histogram looks blank ({hist_ink} px of ink)"
        tile_ink = ink(page.locator(f"{ROOT} .vw-an-tile canvas").first.screenshot(), tolerance=60)
        assert tile_ink > 20, f"gallery image looks blank ({tile_ink})"
        auroc = page.locator(f"{ROOT} [data-metric=auroc] .vw-an-metric-value").inner_text()
        k_auroc = kernel_json(page, "a.metrics['auroc']")
        assert auroc == f"{k_auroc:.3f}" and k_auroc > 0.55
        page.screenshot(path=str(ARTIFACTS / "anomaly_start.png"), full_page=True)

        before = kernel_json(page, "[a.threshold, len(a.selected), a.scores_array.max()]")
        t0, n0, smax = before
        assert n0 > 16
        # drag the line from where it is to 85 % of the way to the highest score
        box = canvas.bounding_box()
        x0, x1 = 46, box["width"] - 14                      # the plot area (view.js PAD)
        lo = kernel_json(page, "float(a.scores_array.min())")
        to_x = lambda v: box["x"] + x0 + (v - lo) / (smax - lo) * (x1 - x0)  # noqa: E731
        target = t0 + 0.85 * (smax - t0)
        y = box["y"] + box["height"] / 2
        page.mouse.move(to_x(t0), y)
        page.mouse.down()
        for k in range(1, 11):
            page.mouse.move(to_x(t0) + (to_x(target) - to_x(t0)) * k / 10, y)
            page.wait_for_timeout(30)
        page.mouse.up()
        wait_attr(page, ROOT, "+d.gallery < 16 && d.dragging === 'false'", timeout=10_000)
        # the page's drag reaches the kernel through the comm (a subshell): wait for the
        # last value it sent (the drag sends several; an earlier one may land first) ...
        sent = float(data_attr(page, ROOT, "threshold"))
        t1, n1 = kernel_when(page, "[a.threshold, len(a.selected)]",
                             lambda v: v[0] == pytest.approx(sent, rel=1e-9, abs=1e-12))
        assert t1 == pytest.approx(sent, rel=1e-9, abs=1e-12), (t1, sent)
        assert abs(t1 - target) < 0.05 * (smax - lo), (t1, target)
        assert 0 < n1 < n0 and n1 <= 16
        # ... and for the gallery of the kernel's selection at that threshold
        wait_attr(page, ROOT, f"+d.gallery === {n1}", timeout=10_000)
        assert page.locator(f"{ROOT} .vw-an-tile").count() == n1
        assert kernel_json(page, "a.selected == np.flatnonzero(a.scores_array > a.threshold).tolist()")
        page.screenshot(path=str(ARTIFACTS / "anomaly_dragged.png"), full_page=True)

        # Python sets the threshold: the line, the read-out and the gallery follow
        kernel_exec(page, "a.set_quantile(0.9)")
        wait_attr(page, ROOT, "+d.gallery === 16", timeout=10_000)
        assert float(data_attr(page, ROOT, "threshold")) == pytest.approx(
            kernel_json(page, "a.threshold"), rel=1e-6)
        flagged = page.locator(f"{ROOT} .vw-an-flagged").inner_text()
        assert flagged.startswith(f"{kernel_json(page, 'len(a.selected)')} of ")
        page.screenshot(path=str(ARTIFACTS / "anomaly_light.png"), full_page=True)
        page.set_viewport_size({"width": 1100, "height": 1700})   # the whole widget in view
        page.wait_for_timeout(500)
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "anomaly.png"))

        draws = int(data_attr(page, ROOT, "draws"))
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: 'JupyterLab Dark'})")
        wait_attr(page, ROOT, f"+d.draws > {draws}", timeout=10_000)   # redrawn in the new theme
        page.wait_for_timeout(2000)
        assert ink(canvas.screenshot()) > 2000, "histogram blank after the theme change"
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "anomaly_dark.png"))
        browser.close()
    print(f"\nhistogram ink {hist_ink}; AUROC {k_auroc:.3f}; drag: threshold {t0:.2f} -> {t1:.2f}, "
          f"selected {n0} -> {n1}")
    assert not errors, errors
