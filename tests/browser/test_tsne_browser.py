"""End to end: TSNEWidget in a real JupyterLab, driven in headless Chromium.

Runs the digits notebook, clicks ▶, sees frames arrive and the scatter and KL curve
drawn, pauses (the counter stops) and resumes, lassoes by mouse drag and reads
`w.selected` in the kernel, sets the selection from Python, stops within a second,
reloads the page (state survives) and saves screenshots in light and dark themes.
"""
import pathlib
import shutil
import tempfile
import time

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, click_until, data_attr, ink, kernel_exec, kernel_json, kernel_until,  # noqa: E402
                        lab_server, launch, open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-tsne"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-tsne-"))
    write_notebook(root / "tsne.ipynb", [
        "from vae_widgets import TSNEWidget, datasets\n"
        "X, y = datasets.digits()\n"
        "w = TSNEWidget(X, labels=y, image_shape=(8, 8), n_iter=20000)\n"
        "w",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def test_tsne_widget_end_to_end(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "tsne.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=60_000)
        assert data_attr(page, ROOT, "status") == "idle"

        # ▶: the initial layout, then frames while t-SNE optimises
        t_click = time.perf_counter()
        page.click(f"{ROOT} .vw-run")
        wait_attr(page, ROOT, "+d.frames >= 1")
        first_frame_s = time.perf_counter() - t_click
        wait_attr(page, ROOT, "d.status === 'running' && +d.frames >= 10 && +d.iteration >= 100")
        page.wait_for_timeout(1500)      # a few more frames and KL points
        scatter_ink = ink(page.locator(f"{ROOT} .vw-scatter").screenshot())
        chart_ink = ink(page.locator(f"{ROOT} .vw-chart").screenshot())
        assert scatter_ink > 2000, f"scatter looks blank ({scatter_ink} inked pixels)"
        assert chart_ink > 300, f"KL chart looks blank ({chart_ink} inked pixels)"
        assert kernel_json(page, "len(w.kl_history.get('kl', []))") >= 3

        # ⏸: the counter stops, in the page and in the kernel
        page.click(f"{ROOT} .vw-pause")
        wait_attr(page, ROOT, "d.status === 'paused'", timeout=5_000)
        held = int(data_attr(page, ROOT, "iteration"))
        page.wait_for_timeout(1000)
        assert int(data_attr(page, ROOT, "iteration")) == held
        assert kernel_json(page, "[w.status, w.runner.iteration]") == ["paused", held]

        # lasso by mouse drag (lasso mode), while paused so points hold still
        page.click(f"{ROOT} .vw-lasso")
        box = page.locator(f"{ROOT} .vw-scatter").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        rx, ry = box["width"] * 0.35, box["height"] * 0.35
        page.mouse.move(cx - rx, cy - ry)
        page.mouse.down()
        for x, y in [(cx + rx, cy - ry), (cx + rx, cy + 0.1 * ry), (cx - rx, cy + 0.1 * ry),
                     (cx - rx, cy - ry)]:
            page.mouse.move(x, y, steps=12)
        page.mouse.up()
        wait_attr(page, ROOT, "+d.selected > 0", timeout=10_000)
        n_dom = int(data_attr(page, ROOT, "selected"))
        assert kernel_until(page, "len(w.selected)", n_dom) == n_dom   # (through a subshell)
        sel = kernel_json(page, "w.selected")
        assert len(sel) == n_dom and 0 < n_dom < 1797
        assert all(0 <= i < 1797 for i in sel)
        page.screenshot(path=str(ARTIFACTS / "tsne_lasso.png"))

        # selection set from Python reaches the page
        kernel_exec(page, "w.selected = [0, 1, 2, 3, 4]")
        wait_attr(page, ROOT, "+d.selected === 5", timeout=10_000)

        # ▶ resumes
        page.click(f"{ROOT} .vw-run")
        wait_attr(page, ROOT, f"d.status === 'running' && +d.iteration > {held + 20}", timeout=10_000)

        # hover shows index, label and thumbnail (pause so points stay put)
        page.click(f"{ROOT} .vw-pause")
        wait_attr(page, ROOT, "d.status === 'paused'", timeout=5_000)
        page.click(f"{ROOT} .vw-lasso")             # back to pan/zoom mode
        xy = kernel_json(page, "w.runner.embedding[0].tolist()")
        assert len(xy) == 2
        hovered = False
        for dx in range(-60, 61, 6):                 # sweep until a point is under the mouse
            for dy in range(-60, 61, 12):
                page.mouse.move(cx + dx * 3, cy + dy * 2)
                if page.locator(f"{ROOT} .vw-tooltip").is_visible():
                    hovered = True
                    break
            if hovered:
                break
        assert hovered, "no tooltip appeared while sweeping the scatter"
        tip = page.locator(f"{ROOT} .vw-tooltip").inner_text()
        assert "#" in tip or "index" in tip.lower()
        page.screenshot(path=str(ARTIFACTS / "tsne_hover.png"))
        page.click(f"{ROOT} .vw-run")
        wait_attr(page, ROOT, "d.status === 'running'", timeout=5_000)

        # ⏹ within a second, seen in the page
        stop_s = click_until(page, f"{ROOT} .vw-stop", ROOT, "d.status === 'stopped'",
                             timeout=5_000)
        assert stop_s < 1.0, f"stop took {stop_s:.2f} s"
        # the status is published just before the worker thread returns: join it (briefly)
        assert kernel_json(page, "[(w.wait(timeout=2.0), w.status)[1], w.running]") == [
            "stopped", False]
        page.wait_for_timeout(500)
        page.screenshot(path=str(ARTIFACTS / "tsne_light.png"))

        # a reload shows the latest embedding from the synced state (no re-run)
        it_before = int(data_attr(page, ROOT, "iteration"))
        page.evaluate("() => window.jupyterapp.commands.execute('docmanager:save')")
        page.wait_for_function("() => !window.jupyterapp.shell.currentWidget.context.model.dirty")
        page.reload()
        open_notebook(page, base, token, "tsne.ipynb")
        page.locator(ROOT).wait_for(timeout=60_000)
        wait_attr(page, ROOT, f"d.status === 'stopped' && +d.iteration === {it_before}",
                  timeout=30_000)
        page.wait_for_timeout(800)
        assert ink(page.locator(f"{ROOT} .vw-scatter").screenshot()) > 2000

        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: 'JupyterLab Dark'})")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "tsne_dark.png"))
        browser.close()
    print(f"\nfirst frame {first_frame_s:.2f} s after the click; stop {stop_s:.2f} s; "
          f"scatter ink {scatter_ink}; chart ink {chart_ink}; selected {n_dom}")
    assert first_frame_s < 3.0
    assert not errors, errors
