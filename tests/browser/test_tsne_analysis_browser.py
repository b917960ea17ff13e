"""End to end: TSNEWidget analysis features in a real JupyterLab + headless Chromium.

After a run: the quality read-out appears (and matches the kernel); add_points()
draws held-out digits as ringed points that hover as "new point"; clicking a point
sets ``focused`` in the kernel and marks it; the scrubber redraws an early kept
frame; trails of selected points are drawn. Screenshots go to artifacts/.
"""
import pathlib
import re
import shutil
import tempfile

import numpy as np
import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, data_attr, ink, kernel_exec, kernel_json, lab_server, launch,  # noqa: E402
                        open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-tsne"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-tsne-analysis-"))
    write_notebook(root / "analysis.ipynb", [
        "import numpy as np\n"
        "from vae_widgets import TSNEWidget, datasets\n"
        "X, y = datasets.digits()\n"
        "perm = np.random.default_rng(0).permutation(len(X))\n"
        "train, held = perm[:1500], perm[1500:]\n"
        "w = TSNEWidget(X[train], labels=y[train], image_shape=(8, 8), early_exaggeration_iter=100,\n"
        "               n_iter=150)\n"
        "w",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def overlay_alpha(page):
    """Pixels the overlay canvas has drawn on (alpha > 0)."""
    return page.eval_on_selector(f"{ROOT} .vw-overlay", """c => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i] > 0) n++; return n; }""")


def pixel_change(a: bytes, b: bytes) -> int:
    import io

    from PIL import Image
    A = np.asarray(Image.open(io.BytesIO(a)).convert("RGB")).astype(int)
    B = np.asarray(Image.open(io.BytesIO(b)).convert("RGB")).astype(int)
    return int((np.abs(A - B).sum(axis=2) > 60).sum())


def sweep_for_tooltip(page, box, want, step=7):
    """Move the mouse over the scatter until the tooltip's title matches ``want``."""
    for y in range(int(box["y"] + 20), int(box["y"] + box["height"] - 20), step):
        for x in range(int(box["x"] + 20), int(box["x"] + box["width"] - 20), step):
            page.mouse.move(x, y)
            tip = page.locator(f"{ROOT} .vw-tooltip")
            if tip.is_visible():
                title = page.locator(f"{ROOT} .vw-tooltip-title").inner_text()
                m = re.search(want, title)
                if m:
                    return x, y, m, page.locator(f"{ROOT} .vw-tooltip").inner_text()
    return None


def test_quality_new_points_focus_scrubber_trails(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "analysis.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=60_000)
        assert page.locator(f"{ROOT} .vw-scrub").is_disabled()

        # the run ends with a quality read-out, the same numbers as in the kernel
        page.click(f"{ROOT} .vw-run")
        try:
            wait_attr(page, ROOT, "d.status === 'done' && d.quality !== ''", timeout=120_000)
        except Exception:
            page.screenshot(path=str(ARTIFACTS / "tsne_analysis_fail.png"))
            print(page.eval_on_selector(ROOT, "el => JSON.stringify(el.dataset)"),
                  kernel_exec(page, "print(w.status, w.iteration, w.quality, w.error, "
                                    "w.runner.events.listener_errors[-1:])"))
            raise
        q = kernel_json(page, "w.quality")
        assert abs(float(data_attr(page, ROOT, "quality")) - q["trustworthiness"]) < 1e-9
        text = page.locator(f"{ROOT} .vw-quality").inner_text()
        assert "trustworthiness" in text and f"{q['trustworthiness']:.3f}" in text
        assert f"{q['knn_preservation']:.3f}" in text and "k = 10" in text
        page.wait_for_timeout(500)
        box = page.locator(f"{ROOT} .vw-scatter").bounding_box()
        final_png = page.locator(f"{ROOT} .vw-scatter").screenshot()

        # add_points: 297 held-out digits, ringed on the overlay, the map does not move
        before = kernel_json(page, "w.embedding.tolist()")
        kernel_exec(page, "pos = w.add_points(X[held], labels=y[held])")
        wait_attr(page, ROOT, "+d.newPoints === 297 && +d.rings > 200", timeout=20_000)
        assert kernel_json(page, "[w.n_new, round(w.drift, 3)]")[0] == 297
        assert kernel_json(page, "w.embedding.tolist()") == before
        assert overlay_alpha(page) > 2000, "no rings drawn on the overlay"
        assert "drift" in page.locator(f"{ROOT} .vw-newpoints").inner_text()
        assert "new points: 297" in page.locator(f"{ROOT} .vw-newpoints").inner_text()

        # a new point hovers as one, with its label and drift
        found = sweep_for_tooltip(page, box, r"new point #(\d+) \(index (\d+)\)", step=9)
        assert found, "no new point found under the mouse"
        _, _, m, tip = found
        assert int(m.group(2)) == 1500 + int(m.group(1)) and "drift" in tip

        # click a reference point: focused in the kernel, marked on the overlay
        found = sweep_for_tooltip(page, box, r"^#(\d+)$", step=11)
        assert found, "no reference point found under the mouse"
        x, y, m, _ = found
        idx = int(m.group(1))
        kernel_exec(page, "w.selected = []")
        page.mouse.click(x, y)
        wait_attr(page, ROOT, f"+d.focused === {idx} && d.focusDrawn === '1'", timeout=10_000)
        assert kernel_json(page, "w.focused") == idx
        assert kernel_json(page, "w.selected") == []        # a click focuses, it does not select

        # trails of a selection (from Python), drawn over the kept frames
        kernel_exec(page, "w.selected = [i for i in range(1500) if y[train][i] == 0][:40]")
        page.check(f"{ROOT} .vw-trails-toggle")
        wait_attr(page, ROOT, "+d.trails === 40", timeout=10_000)
        page.mouse.move(box["x"] + 5, box["y"] + 5)
        page.wait_for_timeout(400)
        page.screenshot(path=str(ARTIFACTS / "tsne_analysis.png"))
        page.locator(f"{ROOT}").screenshot(path=str(ARTIFACTS / "tsne_analysis_widget.png"))

        # the scrubber replays an early kept frame: the drawn scatter changes
        n_frames = kernel_json(page, "len(w.history_iterations)")
        assert n_frames >= 5 and not page.locator(f"{ROOT} .vw-scrub").is_disabled()
        page.eval_on_selector(f"{ROOT} .vw-scrub",
                              "el => { el.value = '1'; el.dispatchEvent(new Event('input')); }")
        wait_attr(page, ROOT, "d.replay === '1'", timeout=10_000)
        page.wait_for_timeout(500)
        early_png = page.locator(f"{ROOT} .vw-scatter").screenshot()
        it1 = kernel_json(page, "w.history_iterations[1]")
        assert f"iteration {it1}" in page.locator(f"{ROOT} .vw-scrub-text").inner_text()
        assert int(data_attr(page, ROOT, "rings")) == 0       # new points belong to the final map
        changed = pixel_change(final_png, early_png)
        assert changed > 5000, f"the replayed frame looks like the final one ({changed} px)"
        assert ink(early_png) > 1000
        page.screenshot(path=str(ARTIFACTS / "tsne_analysis_replay.png"))
        page.click(f"{ROOT} .vw-scrub-live")
        wait_attr(page, ROOT, "d.replay === '' && +d.rings > 200", timeout=10_000)

        # a new run clears quality and new points
        kernel_exec(page, "w.clear_new_points()")
        wait_attr(page, ROOT, "+d.newPoints === 0 && +d.rings === 0", timeout=10_000)
        browser.close()
    print(f"\nquality {q}; frames kept {n_frames}; replay changed {changed} px")
    assert not errors, errors
