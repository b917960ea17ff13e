"""End to end: zooming while t-SNE runs must not lose the map.

Once the user zooms or pans, the scatter keeps its data -> screen mapping so that
the camera shows the same place in later frames. t-SNE starts from a layout about
1e-4 wide that early exaggeration grows about 1e5-fold: with the mapping kept from a
zoom at the start of a run, every later point was drawn off screen and the map
ended empty (seen in benchmarks/tsne_1m.py, whose probes zoom while t-SNE streams).
Here one wheel event at the first frame of early exaggeration; at the end of the run
the points must be on screen, under the user's (kept) zoom.
"""
import pathlib
import shutil
import tempfile

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (data_attr, ink, kernel_exec, kernel_until, lab_server,  # noqa: E402
                        launch, open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-tsne"
N = 1500

# fraction of (a sample of) the points whose screen position lies inside the scatter
IN_VIEW = """() => { const root = document.querySelector('.vw-tsne');
  const s = root.__vw.panels[0].scatter; const n = s.positions.length >> 1;
  let k = 0, tot = 0;
  for (let i = 0; i < n; i += 3) { tot++; const p = s.screenPosition(i);
    if (p && p[0] >= 0 && p[0] <= s.width && p[1] >= 0 && p[1] <= s.height) k++; }
  return {inView: k / Math.max(1, tot), userCamera: s.userCamera, zoom: s.sp.get('cameraView')[0]}; }"""

WHEEL = """() => { const c = document.querySelector('.vw-tsne .vw-scatter-canvas');
  const r = c.getBoundingClientRect();
  c.dispatchEvent(new WheelEvent('wheel', {deltaY: -60, clientX: r.x + r.width / 2,
    clientY: r.y + r.height / 2, bubbles: true, cancelable: true})); }"""


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-tsne-camera-"))
    write_notebook(root / "camera.ipynb", [
        "import numpy as np\n"
        "from vae_widgets import TSNEWidget\n"
        "rng = np.random.default_rng(0)\n"
        f"X = np.concatenate([rng.normal(c, 1, ({N} // 3, 10)) for c in (0, 6, 12)])\n"
        "w = TSNEWidget(X, labels=np.repeat([0, 1, 2], len(X) // 3),\n"
        "               early_exaggeration_iter=60, n_iter=60, frame_interval=0.0)\n"
        "w",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def test_zoom_early_in_a_run_keeps_the_points_on_screen(lab):
    base, token = lab
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        open_notebook(page, base, token, "camera.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=60_000)
        kernel_exec(page, "w.run()")
        page.wait_for_function(f"() => document.querySelector('{ROOT}').dataset.phase"
                               " === 'early_exaggeration'", timeout=60_000, polling=20)
        page.evaluate(WHEEL)                 # the user zooms in, at the start of the run
        page.wait_for_function(f"() => document.querySelector('{ROOT}')"
                               ".__vw.panels[0].scatter.userCamera", timeout=10_000)
        kernel_exec(page, "w.wait()", timeout=120_000)
        page.wait_for_function(f"() => document.querySelector('{ROOT}').dataset.status === 'done'",
                               timeout=30_000)
        page.wait_for_timeout(1500)          # the last frame drawn
        state = page.evaluate(IN_VIEW)
        canvas = page.locator(f"{ROOT} .vw-scatter-canvas")
        drawn = ink(canvas.screenshot())
        assert state["userCamera"] and state["zoom"] > 1.05, state   # the user's zoom is kept
        # before the fix: 0 % of the points on screen, a blank canvas
        assert state["inView"] > 0.5, state
        assert drawn > 2000, drawn
        browser.close()


SCATTER = f"document.querySelector('{ROOT}').__vw.panels[0].scatter"


def test_a_map_too_big_to_draw_in_time_is_thinned_while_it_moves(lab):
    """Level of detail (js/src/common/lod.js). A map that cannot be drawn within the draw
    budget is drawn from a fixed subsample while frames stream, the camera moves or a
    lasso is drawn, and whole once everything rests; hover and the lasso still answer
    for every point. The budget is shrunk here so that 1,500 points count as too many
    (in headless Chromium the same happens by itself from a few hundred thousand)."""
    base, token = lab
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "camera.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=60_000)
        page.wait_for_function(f"() => {SCATTER}.lodStats.whole > 0", timeout=30_000)
        k = 300
        page.evaluate(f"() => Object.assign({SCATTER}.budget, {{minN: 100, minPoints: {k}, budgetMs: 1e-6}})")
        drawn = f"{SCATTER}.sp.get('points').length"

        # frames streaming: drawn thinned; once the run rests, drawn whole
        kernel_exec(page, "w.run()")
        page.wait_for_function(f"() => {SCATTER}.lodStats.thinned > 0 && {drawn} === {k}", timeout=60_000,
                               polling=20)
        kernel_exec(page, "w.wait()", timeout=120_000)
        page.wait_for_function(f"() => {SCATTER}.lod === null && {drawn} === {N}", timeout=15_000)

        # the camera moves: thinned at once (the rest is made long so the test can look)
        page.evaluate(f"() => {{ {SCATTER}.restMs.camera = 60000; }}")
        page.evaluate(WHEEL)
        page.wait_for_function(f"() => {drawn} === {k}", timeout=5_000)
        # ... hover still finds points that are not drawn now
        # (a point not drawn now, with no other point within 8 px: the hover must name it)
        hidden_point = page.evaluate(f"""() => {{ const s = {SCATTER}; const n = s.xs.length;
            const P = Array.from({{length: n}}, (_, i) => s.screenPosition(i));
            for (let i = 0; i < n; i++) {{ const p = P[i];
              if (s.lod.inv[i] >= 0 || p[0] < 20 || p[0] > s.width - 20 || p[1] < 20 || p[1] > s.height - 20) continue;
              if (P.every((q, j) => j === i || Math.hypot(q[0] - p[0], q[1] - p[1]) > 8)) return [i, p[0], p[1]]; }}
            return null; }}""")
        assert hidden_point is not None
        i = hidden_point[0]
        title = page.locator(f"{ROOT} .vw-tooltip-title")
        for _ in range(3):      # (JupyterLab may shift the output between measuring and moving)
            canvas = page.locator(f"{ROOT} .vw-scatter-canvas").bounding_box()
            px, py = page.evaluate(f"() => {SCATTER}.screenPosition({i})")
            page.mouse.move(canvas["x"] + px, canvas["y"] + py)
            page.wait_for_timeout(200)
            if title.is_visible() and title.inner_text() == f"#{i}":
                break
            page.mouse.move(5, 5)
        assert title.inner_text() == f"#{i}", (title.inner_text(), i)
        assert page.evaluate(f"() => {SCATTER}.lod.inv[{i}]") == -1     # not drawn now
        page.mouse.move(5, 5)

        # ... and the lasso selects every point inside it, not the drawn subsample's
        page.click(f"{ROOT} .vw-lasso")
        x0, y0 = canvas["x"] + canvas["width"] * 0.2, canvas["y"] + canvas["height"] * 0.2
        x1, y1 = canvas["x"] + canvas["width"] * 0.8, canvas["y"] + canvas["height"] * 0.8
        page.mouse.move(x0, y0)
        page.mouse.down()
        for x, y in [(x1, y0), (x1, y1), (x0, y1), (x0, y0)]:
            page.mouse.move(x, y, steps=10)
        assert page.evaluate(f"() => {drawn}") == k        # thinned while the lasso is drawn
        page.mouse.up()
        count_in = """(m) => {{ const s = {S}, c = s.canvas.getBoundingClientRect(); let k = 0;
            for (let i = 0; i < s.xs.length; i++) {{ const p = s.screenPosition(i), x = c.x + p[0], y = c.y + p[1];
              if (x > {x0} + m && x < {x1} - m && y > {y0} + m && y < {y1} - m) k++; }} return k; }}"""
        count_in = count_in.format(S=SCATTER, x0=x0, x1=x1, y0=y0, y1=y1)
        # the polygon's edges are the mouse's path: points within 2 px of it may go either way
        surely, maybe = page.evaluate(count_in, 2), page.evaluate(count_in, -2)
        assert surely > k // 2
        # the page's count first, then the kernel's: the comm message goes to a kernel
        # subshell and can land after the next execute request (it read 0 once)
        wait_attr(page, ROOT, "+d.selected > 0", timeout=10_000)
        n_page = int(data_attr(page, ROOT, "selected"))
        assert surely <= n_page <= maybe, (surely, n_page, maybe)
        assert kernel_until(page, "len(w.selected)", n_page) == n_page
        page.click(f"{ROOT} .vw-lasso")

        # everything rests: the whole map again
        page.evaluate(f"() => {{ const s = {SCATTER}; s.restMs.camera = 50; s._rest(); }}")
        page.wait_for_function(f"() => {SCATTER}.lod === null && {drawn} === {N}", timeout=10_000)
        assert not errors, errors
        browser.close()
