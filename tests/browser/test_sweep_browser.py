"""End to end: a perplexity sweep (TSNEWidget.sweep) in a real JupyterLab, headless Chromium.

Runs three panels on the digits, pauses and resumes the sweep, checks every panel's canvas
has ink, that a selection set from the kernel highlights in every panel (pixels change in
each), that a lasso drawn in one panel reaches `s.selected` in the kernel and shows in all
panels, that hover shows index, label and thumbnail, and saves a screenshot.
"""
import io
import pathlib
import shutil
import tempfile

import numpy as np
import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from PIL import Image  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, data_attr, ink, kernel_exec, kernel_json, lab_server, launch,  # noqa: E402
                        open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-sweep"
N = 600


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-sweep-"))
    write_notebook(root / "sweep.ipynb", [
        "from vae_widgets import TSNEWidget, datasets\n"
        "X, y = datasets.digits()\n"
        "X, y = X[:600], y[:600]   # small: the test machine is shared and slow\n"
        "s = TSNEWidget.sweep(X, [5, 30, 100], labels=y, image_shape=(8, 8),\n"
        "                     early_exaggeration_iter=100, n_iter=250)\n"
        "s",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def panel(k):
    return f"{ROOT} .vw-sweep-panel[data-panel='{k}']"


def pixels(page, k):
    png = page.locator(f"{panel(k)} .vw-scatter").screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def changed(a, b):
    """Pixels that differ clearly between two screenshots of the same panel."""
    return int((np.abs(a - b).sum(axis=2) > 60).sum())


def test_sweep_end_to_end(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 1000})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "sweep.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=60_000)
        assert data_attr(page, ROOT, "panels") == "3"
        assert [page.locator(f"{panel(k)} .vw-sweep-label").inner_text() for k in range(3)] == \
            ["perplexity 5", "perplexity 30", "perplexity 100"]

        # ▶ runs the reference (perplexity 30) first; ⏸ / ▶ act on the whole sweep
        page.click(f"{ROOT} .vw-run")
        wait_attr(page, panel(1), "d.status === 'running' && +d.iteration >= 30", timeout=60_000)
        assert data_attr(page, panel(0), "status") == "idle"
        page.click(f"{ROOT} .vw-pause")
        wait_attr(page, ROOT, "d.status === 'paused'", timeout=5_000)
        held = int(data_attr(page, panel(1), "iteration"))
        page.wait_for_timeout(800)
        assert int(data_attr(page, panel(1), "iteration")) == held
        page.click(f"{ROOT} .vw-run")
        wait_attr(page, ROOT, "d.status === 'running'", timeout=5_000)
        wait_attr(page, ROOT, "d.status === 'done'", timeout=300_000)
        for k in range(3):
            wait_attr(page, panel(k), f"d.status === 'done' && +d.points === {N}", timeout=10_000)
        page.wait_for_timeout(500)
        frames = int(data_attr(page, ROOT, "frames"))
        inks = [ink(page.locator(f"{panel(k)} .vw-scatter").screenshot()) for k in range(3)]
        assert all(i > 1000 for i in inks), f"a panel looks blank: {inks}"
        meta = [page.locator(f"{panel(k)} .vw-sweep-meta").inner_text() for k in range(3)]
        assert "final KL" in meta[0] and "disparity" in meta[0] and "reference" in \
            page.locator(f"{panel(1)} .vw-sweep-title").inner_text()
        summary = kernel_json(page, "s.summary[['kl', 'disparity']].round(4).values.tolist()")
        assert summary[1][1] == 0.0 and all(0 < d < 1 for _, d in (summary[0], summary[2]))

        # a selection set in the kernel highlights in every panel (their pixels change)
        before = [pixels(page, k) for k in range(3)]
        n_zero = kernel_json(page, "int((y == 0).sum())")
        kernel_exec(page, "s.selected = [int(i) for i in (y == 0).nonzero()[0]]")
        for k in range(3):
            wait_attr(page, panel(k), f"+d.selected === {n_zero}", timeout=10_000)
        page.wait_for_timeout(500)
        diffs = [changed(before[k], pixels(page, k)) for k in range(3)]
        assert all(d > 400 for d in diffs), f"selection not highlighted in every panel: {diffs}"
        kernel_exec(page, "s.selected = []")
        wait_attr(page, ROOT, "+d.selected === 0", timeout=10_000)
        page.wait_for_timeout(500)

        # a lasso in panel 2 selects the same points in all panels and reaches the kernel
        page.click(f"{ROOT} .vw-lasso")
        box = page.locator(f"{panel(2)} .vw-scatter").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        rx, ry = box["width"] * 0.4, box["height"] * 0.4
        page.mouse.move(cx - rx, cy - ry)
        page.mouse.down()
        for x, y in [(cx + rx, cy - ry), (cx + rx, cy), (cx - rx, cy), (cx - rx, cy - ry)]:
            page.mouse.move(x, y, steps=12)
        page.mouse.up()
        wait_attr(page, ROOT, "+d.selected > 0", timeout=10_000)
        n_dom = int(data_attr(page, ROOT, "selected"))
        sel = kernel_json(page, "s.selected")
        assert len(sel) == n_dom and 0 < n_dom < N
        for k in range(3):
            assert int(data_attr(page, panel(k), "selected")) == n_dom
        page.wait_for_timeout(500)
        lasso_diffs = [changed(before[k], pixels(page, k)) for k in range(3)]
        assert all(d > 200 for d in lasso_diffs), lasso_diffs
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "tsne_sweep_lasso.png"))
        page.click(f"{ROOT} .vw-lasso")                # back to pan/zoom

        # hover shows index, label and thumbnail in the panel under the mouse
        box0 = page.locator(f"{panel(0)} .vw-scatter").bounding_box()
        hovered = False
        for fx in np.linspace(0.15, 0.85, 15):
            for fy in np.linspace(0.15, 0.85, 9):
                page.mouse.move(box0["x"] + fx * box0["width"], box0["y"] + fy * box0["height"])
                if page.locator(f"{panel(0)} .vw-tooltip").is_visible():
                    hovered = True
                    break
            if hovered:
                break
        assert hovered, "no tooltip appeared while sweeping panel 0"
        tip = page.locator(f"{panel(0)} .vw-tooltip").inner_text()
        assert "#" in tip and "label:" in tip
        assert page.locator(f"{panel(0)} .vw-tooltip-thumb").is_visible()
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "tsne_sweep.png"))
        webgl = data_attr(page, ROOT, "webgl")

        # ▶ again: a fresh run empties the panels still waiting for their turn; ⏹ ends it
        page.mouse.move(0, 0)
        page.click(f"{ROOT} .vw-run")
        wait_attr(page, panel(0), "d.status === 'idle' && d.points === '0'", timeout=30_000)
        assert page.locator(f"{panel(0)} .vw-empty").is_visible()
        page.click(f"{ROOT} .vw-stop")
        wait_attr(page, ROOT, "d.status === 'stopped'", timeout=30_000)
        assert kernel_json(page, "[s.status, s.running]") == ["stopped", False]
        browser.close()
    print(f"\nframes {frames}; panel ink {inks}; selection pixels changed {diffs}; "
          f"lasso {n_dom} points, pixels changed {lasso_diffs}; webgl {webgl}; summary {summary}")
    assert not errors, errors
