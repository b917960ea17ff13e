"""End to end: a VAEWidget and its linked latent t-SNE map in one real JupyterLab notebook.

A lasso drawn with the mouse in the t-SNE view fills the VAE's selection panel
(non-blank originals over reconstructions, the kernel's ``v.selection_indices``);
a real click on a point makes it the traversal base (kernel and page); the panel's
Clear button clears the lasso in the map too. Screenshots both widgets.
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

from labharness import (ARTIFACTS, data_attr, draw_lasso, ink, kernel_json, lab_server, launch,  # noqa: E402
                        open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
TSNE = ".vw-tsne"
VAE = ".vw-vae"
TRAVERSAL = f"{VAE} .vw-grid[data-kind=traversal]"
PANEL = f"{VAE} .vw-panel-selection"


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-linked-"))
    write_notebook(root / "linked.ipynb", [
        "from vae_widgets import VAEWidget, datasets\n"
        "X, y = datasets.digits()\n"
        "v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=8, architecture='mlp',\n"
        "              epochs=60, lr=3e-3, seed=0)\n"
        "v.train(); v.wait()",
        "t = v.latent_tsne(random_state=0)\n"
        "t",
        "v",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def compose(shots, path):
    """The map on the left; the VAE's traversal and selection panels on the right."""
    from PIL import Image

    im = {k: Image.open(io.BytesIO(v)).convert("RGB") for k, v in shots.items()}
    left, top, bottom = im["tsne"], im["traversal"], im["selection"]
    gap = 12
    w = left.width + gap + max(top.width, bottom.width)
    h = max(left.height, top.height + gap + bottom.height)
    out = Image.new("RGB", (w, h), "white")
    out.paste(left, (0, 0))
    out.paste(top, (left.width + gap, 0))
    out.paste(bottom, (left.width + gap, top.height + gap))
    out.save(path)


def test_lasso_and_click_in_the_map_steer_the_vae_view(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        # tall enough for the whole notebook: element screenshots are not clipped
        page = browser.new_page(viewport={"width": 1280, "height": 3200})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "linked.ipynb")
        run_all(page)
        page.locator(TSNE).wait_for(timeout=90_000)
        page.locator(VAE).wait_for(timeout=90_000)
        wait_attr(page, TSNE, "d.status === 'done'", timeout=90_000)
        wait_attr(page, TRAVERSAL, "d.base !== undefined && d.base !== ''", timeout=30_000)
        assert page.locator(PANEL).is_hidden()      # nothing selected yet
        base0 = int(data_attr(page, TRAVERSAL, "base"))
        assert kernel_json(page, "v.traversal_base") == base0

        # a lasso drawn with the mouse in the map
        page.locator(TSNE).scroll_into_view_if_needed()
        draw_lasso(page, TSNE, 0.42, back=False)
        wait_attr(page, TSNE, "+d.selected > 0", timeout=10_000)
        n_sel = int(data_attr(page, TSNE, "selected"))
        assert n_sel >= 40, f"the lasso caught only {n_sel} points"
        # ... reaches the VAE: kernel and page
        wait_attr(page, PANEL, f"+d.count === {n_sel} && +d.draws > 0", timeout=15_000)
        sel = kernel_json(page, "[t.selected == v.selection_indices, len(v.selection_indices)]")
        assert sel == [True, n_sel]
        shown = int(data_attr(page, PANEL, "shown"))
        assert shown == min(n_sel, 32)
        page.locator(PANEL).scroll_into_view_if_needed()
        grid_ink = ink(page.locator(f"{PANEL} canvas").screenshot())
        assert grid_ink > 40 * shown, f"selection grid looks blank ({grid_ink})"
        count_text = page.locator(f"{PANEL} .vw-selection-count").inner_text()
        assert f"{n_sel:,} selected" in count_text

        # a real click on a point: it becomes the traversal base
        page.locator(TSNE).scroll_into_view_if_needed()
        page.click(f"{TSNE} .vw-lasso")             # back to pan/zoom mode
        box = page.locator(f"{TSNE} .vw-scatter").bounding_box()
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        focused = -1
        for dx in range(-150, 151, 9):              # find a point under the mouse, click it
            for dy in range(-120, 121, 15):
                page.mouse.move(cx + dx, cy + dy)
                if not page.locator(f"{TSNE} .vw-tooltip").is_visible():
                    continue
                page.mouse.click(cx + dx, cy + dy)
                page.wait_for_timeout(300)
                focused = int(data_attr(page, TSNE, "focused"))
                if focused >= 0 and focused != base0:
                    break
            if focused >= 0 and focused != base0:
                break
        assert focused >= 0, "no point could be clicked"
        wait_attr(page, TRAVERSAL, f"d.base === '{focused}'", timeout=15_000)
        assert kernel_json(page, "[t.focused, v.traversal_base, v.grids['traversal']['labels']"
                                 "['base']]") == [focused, focused, focused]
        assert page.locator(f"{VAE} .vw-traversal-base").inner_text() == f"base: row #{focused}"
        assert kernel_json(page, "t.selected == v.selection_indices")   # the click kept the lasso
        page.locator(f"{VAE} .vw-panel-traversal").scroll_into_view_if_needed()
        trav = ink(page.locator(f"{TRAVERSAL} canvas").screenshot())
        assert trav > 100, f"traversal looks blank ({trav})"
        page.mouse.move(5, 5)                       # no tooltip in the pictures
        page.wait_for_timeout(300)
        shots = {name: page.locator(sel_).screenshot(path=str(ARTIFACTS / f"linked_{name}.png"))
                 for sel_, name in ((TSNE, "tsne"), (VAE, "vae"),
                                    (f"{VAE} .vw-panel-traversal", "traversal"),
                                    (PANEL, "selection"))}
        compose(shots, ARTIFACTS / "linked.png")

        # the VAE panel's Clear button clears both
        page.locator(PANEL).scroll_into_view_if_needed()
        page.click(f"{PANEL} .vw-selection-clear")
        page.locator(PANEL).wait_for(state="hidden", timeout=10_000)
        wait_attr(page, TSNE, "+d.selected === 0", timeout=10_000)
        assert kernel_json(page, "[t.selected, v.selection_indices]") == [[], []]
        browser.close()
    print(f"\nlasso {n_sel} points ({shown} drawn, ink {grid_ink}); clicked #{focused} "
          f"(was #{base0}); traversal ink {trav}")
    assert not errors, errors
