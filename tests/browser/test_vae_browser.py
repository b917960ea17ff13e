"""End to end: VAEWidget in a real JupyterLab, driven in headless Chromium.

Trains on digits: curves, the per-dimension KL heatmap and a non-blank traversal grid
are drawn; pause stops the step counter; a beta typed in the page reaches the trainer;
resume; stop within a second; the KL heatmap's and the traversal's read-outs under the
pointer equal the kernel's values; screenshots in light and dark themes.
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
ROOT = ".vw-vae"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-vae-"))
    write_notebook(root / "vae.ipynb", [
        "from vae_widgets import VAEWidget, datasets\n"
        "X, y = datasets.digits()\n"
        "v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=8, epochs=500)\n"
        "v",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def test_vae_widget_end_to_end(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "vae.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=60_000)

        page.click(f"{ROOT} .vw-run")
        wait_attr(page, ROOT, "d.status === 'running' && +d.metrics >= 5 && +d.grids >= 2",
                  timeout=60_000)
        page.wait_for_timeout(2500)                   # a few epochs of curves and grids
        curves = ink(page.locator(f"{ROOT} .vw-curves").screenshot())
        heat = ink(page.locator(f"{ROOT} .vw-kl-heatmap").screenshot())
        trav = ink(page.locator(f"{ROOT} .vw-grid[data-kind=traversal] canvas").first.screenshot())
        assert curves > 300, f"loss curves look blank ({curves})"
        assert heat > 300, f"KL heatmap looks blank ({heat})"
        assert trav > 100, f"traversal grid looks blank ({trav})"

        # pause: the step counter holds, in the page and in the kernel
        page.click(f"{ROOT} .vw-pause")
        wait_attr(page, ROOT, "d.status === 'paused'", timeout=5_000)
        held = int(data_attr(page, ROOT, "step"))
        page.wait_for_timeout(1000)
        assert int(data_attr(page, ROOT, "step")) == held
        assert kernel_json(page, "[v.status, v.trainer.step]") == ["paused", held]

        # beta typed in the page reaches the trainer
        beta = page.locator(f"{ROOT} .vw-param[data-param=beta]")
        beta.fill("4")
        beta.press("Enter")
        t0 = time.time()
        while kernel_json(page, "v.trainer.config.beta") != 4.0:
            assert time.time() - t0 < 10, "beta never reached the trainer"
            page.wait_for_timeout(100)

        page.click(f"{ROOT} .vw-run")                 # resume
        wait_attr(page, ROOT, f"d.status === 'running' && +d.step > {held + 20}", timeout=20_000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "vae_light.png"), full_page=True)

        stop_s = click_until(page, f"{ROOT} .vw-stop", ROOT, "d.status === 'stopped'",
                             timeout=5_000)
        assert stop_s < 1.0, f"stop took {stop_s:.2f} s"
        # (the status is set as the worker ends; its thread is done a moment later)
        assert kernel_until(page, "[v.status, v.running]", ["stopped", False]) == ["stopped", False]
        hist = kernel_json(page, "v.history.beta.tolist()[-3:]")
        assert hist and all(b == 4.0 for b in hist)
        page.wait_for_timeout(500)                    # the last trait updates drawn
        kl_text, kl_kernel = hover_kl(page)
        grid_text, grid_kernel = hover_traversal(page)

        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: 'JupyterLab Dark'})")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "vae_dark.png"), full_page=True)
        browser.close()
    print(f"\nstop {stop_s:.2f} s; ink curves {curves}, heatmap {heat}, traversal {trav}")
    print(f"KL read-out {kl_text!r} (kernel {kl_kernel:.6g}); traversal {grid_text!r} (kernel {grid_kernel:.6g})")
    assert not errors, errors


def readout_number(text):
    return float(text.replace(",", ""))


def hover_kl(page):
    """The KL heatmap's read-out at z0's latest column equals the kernel's KL of z0 at that step."""
    canvas = page.locator(f"{ROOT} .vw-kl-canvas")
    box = canvas.bounding_box()
    canvas.hover(position={"x": box["width"] - 58 - 2, "y": 4 + 2})   # plot area: L 40, R 58, T 4
    text = page.locator(f"{ROOT} .vw-panel-kl .vw-chart-readout").inner_text()
    unit, step, value = text.split(" · ")
    assert unit == "z0" and step.startswith("step ") and value.endswith(" nats"), text
    step = int(step[5:].replace(",", ""))
    kernel = kernel_json(page, f"float(v.history.set_index('step').kl_per_dim.loc[{step}][0])")
    assert readout_number(value[:-5]) == pytest.approx(kernel, rel=6e-3, abs=1e-6), (text, kernel)
    return text, kernel


def hover_traversal(page):
    """The traversal's read-out under the pointer equals the kernel's pixel (last cell, near its corner)."""
    canvas = page.locator(f"{ROOT} .vw-grid[data-kind=traversal] canvas")
    box = canvas.bounding_box()
    canvas.hover(position={"x": box["width"] - 4, "y": box["height"] - 4})
    text = page.locator(f"{ROOT} .vw-panel-traversal .vw-grid-readout").inner_text()
    row, col, pixel = text.split(" · ")
    where, value = pixel.split(" = ")
    py, px = (int(t) for t in where.removeprefix("pixel (").removesuffix(")").split(", "))
    kernel = float(kernel_exec(page, "\n".join([
        "m = v.grids['traversal']; lab = m['labels']; lo, hi = lab.get('value_range', [0, 1])",
        f"r, c = lab['rows'].index({row!r}), lab['cols'].index({col!r})",
        f"print(lo + int(v.grid_traversal[r, c, 0, {py}, {px}]) / 255 * (hi - lo))"])))
    assert readout_number(value) == pytest.approx(kernel, rel=6e-3, abs=1e-3), (text, kernel)
    return text, kernel
