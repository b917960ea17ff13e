"""End to end: a user's own training loop busy in a notebook cell, watched by VAEWidget.watch.

The cell runs the loop (the kernel is busy the whole time); the page keeps refreshing
(step counter, curves, grids), a click on Pause holds the step counter inside log(),
Resume lets it go on, a click on Stop ends the loop within a second (the loop checks
v.should_stop), and the kernel then runs the next cell. Screenshots in light and dark.
"""
import pathlib
import shutil
import tempfile

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, click_until, data_attr, ink, kernel_json, lab_server, launch,  # noqa: E402
                        open_notebook, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-vae"

MODEL = '''
import torch, torch.nn as nn, torch.nn.functional as F
from vae_widgets import VAEWidget, datasets

class ConvVAE(nn.Module):
    def __init__(self, d=6):
        super().__init__()
        self.enc = nn.Sequential(nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Flatten(),
                                 nn.Linear(16 * 16, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 16 * 16), nn.ReLU(), nn.Unflatten(1, (16, 4, 4)),
                                 nn.ConvTranspose2d(16, 1, 4, 2, 1))
    def encode(self, x):
        return self.enc(x).chunk(2, dim=1)
    def decode(self, z):
        return self.dec(z)

def bce(x_hat, x):
    return F.binary_cross_entropy_with_logits(x_hat, x, reduction="none").flatten(1).sum(1)

X, y = datasets.digits()
X = torch.tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8)
model = ConvVAE()
opt = torch.optim.Adam(model.parameters(), 1e-3)
v = VAEWidget.watch(model, X[1500:], y[1500:], recon_loss=bce, optimizer=opt)
v
'''

LOOP = '''
import time
started = time.time()
for epoch in range(100000):
    for s in range(0, 1500, 64):
        xb = X[s:s + 64]
        mu, logvar = model.encode(xb)
        x_hat = model.decode(mu + torch.randn_like(mu) * (0.5 * logvar).exp())
        recon = bce(x_hat, xb)
        kl = 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar).sum(1)
        opt.zero_grad(); (recon + kl).mean().backward(); opt.step()
        v.log(recon=recon, mu=mu, logvar=logvar, epoch=epoch)
        if v.should_stop:
            break
    if v.should_stop:
        break
stopped_at = time.time()
'''

# the shape of many tutorials: forward(x) -> (x_hat, mu, logvar), no encode, no decode
FORWARD_ONLY = '''
import torch, torch.nn as nn, torch.nn.functional as F
from vae_widgets import VAEWidget, datasets

class TutorialVAE(nn.Module):
    def __init__(self, d=4):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 2 * d))
        self.dec = nn.Sequential(nn.Linear(d, 128), nn.ReLU(), nn.Linear(128, 64))
    def forward(self, x):
        mu, logvar = self.enc(x).chunk(2, dim=1)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return torch.sigmoid(self.dec(z)), mu, logvar

torch.manual_seed(0)
X, y = datasets.digits()
X = torch.tensor(X, dtype=torch.float32)
model = TutorialVAE()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
bce = lambda x_hat, x: F.binary_cross_entropy(x_hat, x, reduction="none").sum(1)
v = VAEWidget.watch(model, X[1500:], y[1500:], image_shape=(8, 8), output="mean",
                    recon_loss=bce, val_every=1)
v
'''

FORWARD_LOOP = '''
for epoch in range(8):
    for s in range(0, 1500, 50):
        xb = X[s:s + 50]
        x_hat, mu, logvar = model(xb)
        recon = bce(x_hat, xb)
        kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp(), 1)
        opt.zero_grad(); (recon + kl).mean().backward(); opt.step()
        v.log(recon=recon, mu=mu, logvar=logvar, epoch=epoch)
v.finish()
'''


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-watch-"))
    write_notebook(root / "watch.ipynb", [MODEL, LOOP, "after = v.status"])
    write_notebook(root / "forward_only.ipynb", [FORWARD_ONLY, FORWARD_LOOP])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def test_a_busy_cell_still_pauses_and_stops_from_the_page(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        # tall enough for the whole widget (its picture goes into the docs)
        page = browser.new_page(viewport={"width": 1500, "height": 2200})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "watch.ipynb")
        # (not run_all: its promise settles when the cells finish, and the loop does not)
        page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
        page.locator(ROOT).wait_for(timeout=60_000)
        # the loop's cell runs: the page refreshes while the kernel is busy
        wait_attr(page, ROOT, "d.status === 'running' && +d.step > 300 && +d.grids >= 4",
                  timeout=90_000)
        # (the kernel's status in the page is no proof of a busy cell: the subshell that
        # handles widget messages reports idle after each one; the growing step is)
        page.wait_for_timeout(3000)                          # a few epochs, two grid rounds
        curves = ink(page.locator(f"{ROOT} .vw-curves").screenshot())
        heat = ink(page.locator(f"{ROOT} .vw-kl-heatmap").screenshot())
        recon = ink(page.locator(f"{ROOT} .vw-grid[data-kind=reconstructions] canvas")
                    .first.screenshot())
        assert curves > 300 and heat > 300 and recon > 100, (curves, heat, recon)

        # Pause: log() blocks, the step counter holds
        page.click(f"{ROOT} .vw-pause")
        wait_attr(page, ROOT, "d.status === 'paused'", timeout=1_000)
        held = int(data_attr(page, ROOT, "step"))
        page.wait_for_timeout(1500)
        assert int(data_attr(page, ROOT, "step")) == held and data_attr(page, ROOT, "status") == "paused"

        page.click(f"{ROOT} .vw-run")                         # Resume
        wait_attr(page, ROOT, f"d.status === 'running' && +d.step > {held + 10}",
                  timeout=10_000)
        page.wait_for_timeout(2500)                           # fresh grids of a better model
        page.screenshot(path=str(ARTIFACTS / "watch_light.png"), full_page=True)
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "watch_widget.png"))

        # Stop: the loop sees should_stop and breaks; the cell ends, the run is closed
        stop_s = click_until(page, f"{ROOT} .vw-stop", ROOT, "d.status === 'stopped'",
                             timeout=5_000)
        assert stop_s < 1.0, f"stop took {stop_s:.2f} s"
        # the loop's cell ended and the next one ran (kernel_exec waits for the main shell)
        got = kernel_json(page, "[after, v.should_stop, v.running, v._loop.step, "
                                "len(v.epoch_history)]")
        assert got[:3] == ["stopped", True, False] and got[3] >= held + 10 and got[4] >= 1

        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: 'JupyterLab Dark'})")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(ARTIFACTS / "watch_dark.png"), full_page=True)
        browser.close()
    print(f"\nstop {stop_s:.2f} s; ink curves {curves}, heatmap {heat}, reconstructions {recon}")
    assert not errors, errors


def test_a_model_with_only_forward_shows_what_it_can_and_says_why_not_the_rest(lab):
    """Curves, KL per dimension and reconstructions from forward(x) alone; the panels that
    need decode(z) (samples, traversal, interpolation) say so in their place."""
    base, token = lab
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1500, "height": 2200})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "forward_only.ipynb")
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.locator(ROOT).wait_for(timeout=60_000)
        wait_attr(page, ROOT, "d.status === 'done' && +d.grids >= 1", timeout=120_000)
        info = page.locator(f"{ROOT} .vw-info").inner_text()
        assert "forward(x) -> (x_hat, mu, logvar)" in info, info
        for kind in ("samples", "traversal", "interpolation"):
            empty = page.locator(f"{ROOT} .vw-grid[data-kind={kind}] [data-unavailable]")
            empty.wait_for(timeout=10_000)
            assert "Needs decode(z)" in empty.inner_text()
        assert not page.locator(f"{ROOT} .vw-panel-samples .vw-panel-head input").is_visible()
        recon = page.locator(f"{ROOT} .vw-grid[data-kind=reconstructions] canvas").first
        recon.wait_for(state="visible", timeout=10_000)
        curves = ink(page.locator(f"{ROOT} .vw-curves").screenshot())
        heat = ink(page.locator(f"{ROOT} .vw-kl-heatmap").screenshot())
        drawn = ink(recon.screenshot())
        assert curves > 300 and heat > 300 and drawn > 100, (curves, heat, drawn)
        got = kernel_json(page, "[len(v.epoch_history), v.kl_per_dim.shape[1], "
                                "v.grid_samples is None, "
                                "bool(v.epoch_history.val_recon.notna().all())]")
        assert got == [8, 4, True, True], got
        ARTIFACTS.mkdir(exist_ok=True)
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "watch_forward_only.png"))
        browser.close()
    assert not errors, errors
