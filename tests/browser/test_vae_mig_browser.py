"""End to end: the VAEWidget's disentanglement panel in a real JupyterLab + Chromium.

A VAE trained on the generated shapes with their factors draws the latent x factor
mutual-information heatmap (non-blank canvas) and shows the MIG score the kernel
measured; a VAE without factors shows no such panel.
"""
import pathlib
import shutil
import tempfile

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, data_attr, ink, kernel_json, lab_server, launch,  # noqa: E402
                        open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-vae"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-mig-"))
    write_notebook(root / "mig.ipynb", [
        "from vae_widgets import VAEWidget, datasets\n"
        "X, factors = datasets.shapes(3000, seed=0)\n"
        "v = VAEWidget(X, factors=factors, latent_dim=6, beta=4.0, epochs=6, seed=0)\n"
        "v",
        "plain = VAEWidget(datasets.digits()[0], image_shape=(8, 8), latent_dim=4)\n"
        "plain",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def test_mig_panel(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "mig.ipynb")
        run_all(page)
        page.locator(ROOT).nth(1).wait_for(timeout=60_000)
        first, second = page.locator(ROOT).nth(0), page.locator(ROOT).nth(1)
        panel = first.locator(".vw-panel-mig")
        # with factors: the panel is there before training, waiting for the first epoch
        assert panel.is_visible()
        assert "first epoch" in panel.locator(".vw-panel-empty").inner_text()
        # without factors: no panel
        assert second.locator(".vw-panel-mig").count() == 1
        assert not second.locator(".vw-panel-mig").is_visible()

        first.locator(".vw-run").click()
        wait_attr(page, ROOT, "d.status === 'done' && d.mig !== ''", timeout=180_000)
        page.wait_for_timeout(500)
        kernel = kernel_json(page, "[len(v.mig_history), float(v.mig_history.mig.iloc[-1]), "
                                   "v.disentanglement['mig'], v.trainer.factor_names]")
        n_epochs, mig, trait_mig, names = kernel
        assert n_epochs == 6 and names == ["shape", "scale", "rotation", "pos_x", "pos_y"]
        # the page shows the kernel's number: exactly in the data attribute, rounded in text
        assert float(data_attr(page, ROOT, "mig")) == pytest.approx(mig, abs=1e-12)
        assert trait_mig == pytest.approx(mig, abs=1e-12)
        score = panel.locator(".vw-mig-score").inner_text()
        assert score == f"MIG {mig:.3f}", score
        assert not panel.locator(".vw-panel-empty").is_visible()
        heat = ink(panel.locator("canvas.vw-mig-canvas").screenshot())
        assert heat > 2000, f"MI heatmap looks blank ({heat})"
        # hovering a cell reads out the kernel's MI for it
        mi00 = kernel_json(page, "v.mig_history.mi.iloc[-1][0][0]")
        panel.screenshot(path=str(ARTIFACTS / "vae_mig_panel.png"))
        page.screenshot(path=str(ARTIFACTS / "vae_mig.png"), full_page=True)
        panel.locator("canvas.vw-mig-canvas").hover(position={"x": 40 + 10, "y": 4 + 6})  # z0 x shape
        readout = panel.locator(".vw-chart-readout")
        page.wait_for_function("(el) => el.textContent.startsWith('z0 · shape · I = ')",
                               arg=readout.element_handle(), timeout=15_000)
        assert f"{mi00:.3f}" in readout.inner_text(), readout.inner_text()
        browser.close()
    print(f"\nMIG {mig:.3f} after {n_epochs} epochs; heatmap ink {heat}")
    assert not errors, errors
