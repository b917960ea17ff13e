"""End to end: a TSNEWidget of a table with a text column, in a real JupyterLab driven
by headless Chromium.

The hover text is over the widget's shipping budget (set low for the test), so every
tooltip row is fetched from the kernel on hover. The test runs t-SNE, switches the
colour (menu -> kernel -> legend / colour bar), hovers a point and reads its review
text against the table, searches (count in the page = count in the kernel = pandas'
own count; matches drawn; "select" selects them), clicks legend entries (emphasis and
hiding, synced to Python and back), lassoes and reads ``selected_rows`` in the kernel,
toggles the category names on the map, and saves screenshots in light and dark themes.
"""
import pathlib
import shutil
import tempfile

import pytest

pytest.importorskip("playwright")
if not shutil.which("chromium") and not pathlib.Path("/usr/bin/chromium").exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402

from labharness import (ARTIFACTS, data_attr, ink, kernel_exec, kernel_json, kernel_until, lab_server,  # noqa: E402
                        launch, open_notebook, run_all, wait_attr, write_notebook)

pytestmark = pytest.mark.browser
ROOT = ".vw-tsne"
N = 800


@pytest.fixture(scope="module")
def lab():
    root = pathlib.Path(tempfile.mkdtemp(prefix="nb-tsne-table-"))
    write_notebook(root / "table.ipynb", [
        "from vae_widgets import TSNEWidget, datasets\n"
        "from vae_widgets.widgets import table_view\n"
        "table_view.TOOLTIP_BUDGET = 2000    # small: the hover asks the kernel for each row\n"
        f"df = datasets.reviews({N}, seed=3)\n"
        "emb = [c for c in df.columns if c.startswith('e')]\n"
        "w = TSNEWidget(df, features=emb, color='category', tooltip=['title', 'text', 'price'],\n"
        "               early_exaggeration_iter=150, n_iter=250, perplexity=20)\n"
        "w",
    ])
    with lab_server(root) as (base, token):
        yield base, token
    shutil.rmtree(root, ignore_errors=True)


def hover_until_tooltip(page, box, fetched=True):
    """Sweep the mouse over the scatter until a tooltip with its rows shows; return its index."""
    tip = page.locator(f"{ROOT} .vw-tooltip")
    for fy in [i / 16 for i in range(2, 15)]:
        for fx in [i / 24 for i in range(2, 23)]:
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            if tip.is_visible():
                # the row arrives from the kernel: wait for it to replace the "…"
                page.wait_for_function(
                    f"() => {{ const t = document.querySelector('{ROOT} .vw-tooltip');"
                    " return t.hidden || (t.querySelector('.vw-tooltip-value') &&"
                    " !t.querySelector('.vw-tooltip-pending')); }", timeout=10_000)
                if tip.is_visible():
                    return int(page.locator(f"{ROOT} .vw-tooltip-title").inner_text().lstrip("#"))
    raise AssertionError("no tooltip appeared while sweeping the scatter")


def test_table_colour_hover_search_legend_lasso(lab):
    base, token = lab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(viewport={"width": 1280, "height": 1100})
        errors = []
        page.on("console", lambda m: m.type == "error" and errors.append(m.text))
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_notebook(page, base, token, "table.ipynb")
        run_all(page)
        page.locator(ROOT).wait_for(timeout=60_000)
        assert kernel_json(page, "[w.tooltip_fetch, w.n_points]") == [True, N]

        # the legend counts the categories as pandas does
        counts = kernel_json(page, "df['category'].value_counts().to_dict()")
        names = page.locator(f"{ROOT} .vw-legend-name").all_inner_texts()
        shown = page.locator(f"{ROOT} .vw-legend-count").all_inner_texts()
        assert dict(zip(names, map(int, shown))) == counts
        assert page.locator(f"{ROOT} .vw-colorby").input_value() == "category"

        page.click(f"{ROOT} .vw-run")
        wait_attr(page, ROOT, "d.status === 'done'", timeout=240_000)
        page.wait_for_timeout(500)
        # category names follow the points: every category is named on the map
        assert set(data_attr(page, ROOT, "labels").split("|")) == set(counts)

        # hover: the row's review text, fetched from the kernel, as it is in the table
        box = page.locator(f"{ROOT} .vw-scatter").bounding_box()
        # regl-scatterplot redrew the whole map for every point it hovered (0.4 s a draw
        # at 1M in software WebGL): hover must not draw
        page.evaluate(f"() => {{ window.__reglDraws = 0; document.querySelector('{ROOT}')"
                      ".__vw.panels[0].scatter.sp.subscribe('draw', () => window.__reglDraws++); }")
        i = hover_until_tooltip(page, box)
        assert page.evaluate("() => window.__reglDraws") == 0
        # the hovered point is ringed where it is drawn; a click on it focuses it
        canvas = page.locator(f"{ROOT} .vw-scatter-canvas").bounding_box()
        at = page.evaluate(f"() => document.querySelector('{ROOT}').__vw.panels[0].scatter.screenPosition({i})")
        ring = page.locator(f"{ROOT} .vw-hover-ring").bounding_box()
        assert ring is not None
        assert abs(ring["x"] + ring["width"] / 2 - canvas["x"] - at[0]) < 1.5
        assert abs(ring["y"] + ring["height"] / 2 - canvas["y"] - at[1]) < 1.5
        rows = page.locator(f"{ROOT} .vw-tooltip-row").all_inner_texts()
        text = kernel_json(page, f"df['text'].iloc[{i}]")
        cat = kernel_json(page, f"str(df['category'].iloc[{i}])")
        assert any(r.replace("\n", " ").replace("\t", " ").startswith("text:") and text in r.replace("\n", " ")
                   for r in rows), (rows, text)
        assert page.locator(f"{ROOT} .vw-tooltip-label").inner_text() == f"category: {cat}"
        assert int(data_attr(page, ROOT, "hoverFetches")) >= 1
        page.screenshot(path=str(ARTIFACTS / "tsne_table_hover.png"))
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "tsne_table_hover_view.png"))
        page.mouse.click(canvas["x"] + at[0], canvas["y"] + at[1])
        assert kernel_until(page, "w.focused", i) == i
        page.mouse.move(5, 5)
        assert page.locator(f"{ROOT} .vw-hover-ring").is_hidden()
        kernel_exec(page, "w.focused = -1")
        wait_attr(page, ROOT, "d.focused === '-1'", timeout=10_000)

        # colour by switched in the page: the kernel encodes, the legend becomes a colour bar
        page.select_option(f"{ROOT} .vw-colorby", "price")
        wait_attr(page, ROOT, "d.color === 'price'", timeout=10_000)
        assert kernel_until(page, "[w.color, w.color_kind]", ["price", "continuous"]) == [
            "price", "continuous"]
        page.locator(f"{ROOT} .vw-colorbar").wait_for(timeout=10_000)
        assert page.locator(f"{ROOT} .vw-legend").is_hidden()
        lo = page.locator(f"{ROOT} .vw-colorbar-min").inner_text()
        assert lo.startswith("≤ ")            # the robust range clips the cheapest few
        # ... and from Python: a date column
        kernel_exec(page, "w.color = 'date'")
        wait_attr(page, ROOT, "d.color === 'date'", timeout=10_000)
        assert page.locator(f"{ROOT} .vw-colorby").input_value() == "date"
        assert page.locator(f"{ROOT} .vw-colorbar-max").inner_text().lstrip("≥ ").startswith("202")
        page.select_option(f"{ROOT} .vw-colorby", "category")
        wait_attr(page, ROOT, "d.color === 'category'", timeout=10_000)

        # search: the count in the page, in the kernel and in pandas agree; matches drawn
        page.fill(f"{ROOT} .vw-search", "REFUND")
        # searched: the text and category columns among the colour and hover columns
        assert kernel_json(page, "w.search_columns") == ["category", "title", "text"]
        expect = kernel_json(page, "int(df[['category', 'title', 'text']].apply(lambda s: s.astype(str)"
                                   ".str.contains('refund', case=False)).any(axis=1).sum())")
        assert expect > 0
        wait_attr(page, ROOT, f"+d.matches === {expect} && +d.marks > 0", timeout=10_000)
        assert kernel_json(page, "[w.query, w.n_matches]") == ["REFUND", expect]
        assert page.locator(f"{ROOT} .vw-search-count").inner_text() == f"{expect} matches"
        page.screenshot(path=str(ARTIFACTS / "tsne_table_search.png"))
        page.click(f"{ROOT} .vw-search-select")
        wait_attr(page, ROOT, f"+d.selected === {expect}", timeout=10_000)
        assert kernel_until(page, "w.selected == w.matches_array.tolist()", True) is True
        page.fill(f"{ROOT} .vw-search", "")
        wait_attr(page, ROOT, "+d.matches === 0 && +d.marks === 0", timeout=10_000)
        page.click(f"{ROOT} .vw-clear-selection")
        wait_attr(page, ROOT, "+d.selected === 0", timeout=10_000)

        # legend: a click emphasises one category (Python sees it), the eye hides another
        page.click(f"{ROOT} .vw-legend-item[data-code='2']")
        name2 = page.locator(f"{ROOT} .vw-legend-item[data-code='2'] .vw-legend-name").inner_text()
        wait_attr(page, ROOT, "+d.emphasized === 1", timeout=10_000)
        assert kernel_until(page, "w.emphasized", [name2]) == [name2]
        assert data_attr(page, ROOT, "labels") == name2        # only the emphasised is named
        page.screenshot(path=str(ARTIFACTS / "tsne_table_emphasis.png"))
        item0 = page.locator(f"{ROOT} .vw-legend-item[data-code='0']")
        name0 = item0.locator(".vw-legend-name").inner_text()
        item0.hover()
        item0.locator(".vw-legend-eye").click()
        wait_attr(page, ROOT, f"+d.shown === {N - counts[name0]}", timeout=10_000)
        assert kernel_until(page, "[w.hidden, w.emphasized]", [[name0], [name2]]) == [[name0], [name2]]
        # ... and Python steers the legend back
        kernel_exec(page, "w.emphasized = []")
        wait_attr(page, ROOT, "+d.emphasized === 0", timeout=10_000)
        assert page.locator(f"{ROOT} .vw-legend-item.vw-faded").count() == 0

        # lasso -> selected_rows in the kernel: every column, the original index, no hidden rows
        page.click(f"{ROOT} .vw-lasso")
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        rx, ry = box["width"] * 0.42, box["height"] * 0.42
        page.mouse.move(cx - rx, cy - ry)
        page.mouse.down()
        for x, y in [(cx + rx, cy - ry), (cx + rx, cy + ry), (cx - rx, cy + ry), (cx - rx, cy - ry)]:
            page.mouse.move(x, y, steps=12)
        page.mouse.up()
        wait_attr(page, ROOT, "+d.selected > 0", timeout=10_000)
        n_dom = int(data_attr(page, ROOT, "selected"))
        assert kernel_until(page, "len(w.selected)", n_dom) == n_dom
        got = kernel_json(page, "dict(n=len(w.selected_rows), cols=list(w.selected_rows.columns),"
                                " same=w.selected_rows.index.tolist() == df.index[w.selected].tolist(),"
                                " hidden=int((w.selected_rows['category'] == w.hidden[0]).sum()),"
                                " first=w.selected_rows.index[0])")
        assert got["n"] == n_dom and 0 < n_dom < N
        assert got["cols"] == kernel_json(page, "list(df.columns)") and got["same"]
        assert got["hidden"] == 0 and got["first"].startswith("r")
        page.click(f"{ROOT} .vw-lasso")
        # a double-click on the map clears the selection, in the page and the kernel
        page.mouse.dblclick(box["x"] + 8, box["y"] + 8)
        wait_attr(page, ROOT, "+d.selected === 0", timeout=10_000)
        assert kernel_until(page, "w.selected", []) == []
        kernel_exec(page, "w.hidden = []; w.selected = []")
        wait_attr(page, ROOT, f"+d.shown === {N} && +d.selected === 0", timeout=10_000)
        # ... and the map draws them again: no draw in flight re-applies the old filter
        page.wait_for_timeout(1000)
        drawn = page.evaluate("() => { const sp = document.querySelector('.vw-tsne')"
                              ".__vw.panels[0].scatter.sp; return [sp.get('isPointsFiltered'),"
                              " sp.get('filteredPoints').length]; }")
        assert drawn == [False, N], drawn

        # category names on the map can be switched off (and on)
        page.uncheck(f"{ROOT} .vw-labels-toggle")
        wait_attr(page, ROOT, "d.labels === ''", timeout=10_000)
        assert kernel_until(page, "w.show_labels", False) is False
        page.check(f"{ROOT} .vw-labels-toggle")
        wait_attr(page, ROOT, "d.labels !== ''", timeout=10_000)

        page.mouse.move(5, 5)
        page.wait_for_timeout(300)
        page.locator(ROOT).screenshot(path=str(ARTIFACTS / "tsne_table_light.png"))
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: 'JupyterLab Dark'})")
        page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'", timeout=20_000)
        page.wait_for_timeout(2500)
        dark = page.locator(ROOT).screenshot(path=str(ARTIFACTS / "tsne_table_dark.png"))
        assert ink(page.locator(f"{ROOT} .vw-scatter").screenshot()) > 2000
        assert len(dark) > 10_000
        page.evaluate("() => window.jupyterapp.commands.execute('apputils:change-theme',"
                      " {theme: 'JupyterLab Light'})")
        browser.close()
    assert not errors, errors
