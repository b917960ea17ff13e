"""Bokeh export: layouts of both widgets and engines, one offline HTML file, escaping."""
import re
import warnings

import numpy as np
import pytest
from bokeh.models import GlyphRenderer, HoverTool, ImageRGBA, Legend, LayoutDOM

from vae_widgets import TSNEWidget, VAEWidget, datasets, export
from vae_widgets.tsne.runner import TSNERunner

XSS = "<img src=x onerror=alert(1)>"
FAST_TSNE = dict(early_exaggeration_iter=50, n_iter=50, n_jobs=1)


@pytest.fixture(scope="module")
def digits_small():
    X, y = datasets.digits()
    return X[:300], y[:300]


@pytest.fixture(scope="module")
def tsne_done(digits_small):
    X, y = digits_small
    labels = y.astype(object)
    labels[0] = XSS
    w = TSNEWidget(X, labels=labels, image_shape=(8, 8), label_name="<b>digit</b>", **FAST_TSNE)
    w.run()
    w.wait(120)
    return w


@pytest.fixture(scope="module")
def vae_done(digits_small):
    X, y = digits_small
    v = VAEWidget(X, labels=y, image_shape=(8, 8), latent_dim=4, epochs=2, seed=0)
    v.train()
    v.wait(120)
    return v


def models(layout, cls):
    return [m for m in layout.references() if isinstance(m, cls)]


def div_text(layout):
    from bokeh.models import Div
    return " ".join(d.text for d in models(layout, Div))


def assert_offline(text):
    """No script, stylesheet or image is fetched from the network."""
    assert not re.search(r"<script[^>]+src=", text), "a <script src=...> would need the network"
    assert not re.search(r"<link[^>]+href=[\"']?https?:", text)
    assert "cdn.bokeh.org" not in text
    assert "Bokeh" in text and len(text) > 500_000, "Bokeh's JavaScript is not inlined"


def test_tsne_layout_has_scatter_legend_hover_thumbnails_and_kl(tsne_done):
    lay = tsne_done.to_bokeh()
    assert isinstance(lay, LayoutDOM)
    legends = models(lay, Legend)
    assert len(legends) == 1
    names = [item.label.value for item in legends[0].items]
    assert XSS in names and "0" in names and len(names) == 11   # 10 digits + the odd label
    hover = [h for h in models(lay, HoverTool) if isinstance(h.tooltips, str)][0]
    assert "@thumb" in hover.tooltips and "@label" in hover.tooltips and "#@index" in hover.tooltips
    # the label name is user text inside the template: escaped there
    assert "&lt;b&gt;digit&lt;/b&gt;" in hover.tooltips and "<b>digit" not in hover.tooltips
    sources = [r.data_source for r in models(lay, GlyphRenderer) if "thumb" in r.data_source.data]
    n = sum(len(s.data["x"]) for s in sources)
    assert n == 300
    thumbs = [t for s in sources for t in s.data["thumb"]]
    assert all(t.startswith("data:image/png;base64,") for t in thumbs)
    # label values stay raw: Bokeh inserts @fields as text (the browser test proves it)
    assert any(XSS in list(s.data["label"]) for s in sources)
    kl = [r for r in models(lay, GlyphRenderer) if "kl" in r.data_source.data]
    assert kl and len(kl[0].data_source.data["kl"]) == len(tsne_done.runner.history)


def test_tsne_html_is_one_offline_file_with_escaped_label(tsne_done, tmp_path):
    path = tsne_done.save_html(tmp_path / "tsne.html")
    text = path.read_text(encoding="utf-8")
    assert_offline(text)
    assert XSS not in text and "onerror=alert" not in text.replace("onerror=alert(1)&gt;", "")
    assert "&lt;img src=x onerror=alert(1)&gt;" in text      # present, as escaped data only
    assert "<b>digit</b>" not in text


def test_thumbnails_are_bounded_with_a_note(digits_small):
    X, y = digits_small
    r = TSNERunner(X, **FAST_TSNE)
    r.run()
    from vae_widgets._images import as_uint8_images
    lay = export.tsne_layout(r.embedding, y, images=as_uint8_images(X, (8, 8)),
                             history=r.history_frame, max_thumbnails=50)
    thumbs = [t for m in models(lay, GlyphRenderer) if "thumb" in m.data_source.data
              for t in m.data_source.data["thumb"]]
    assert sum(bool(t) for t in thumbs) == 50 and len(thumbs) == 300
    assert "Hover thumbnails are shown for 50 of 300 points" in div_text(lay)


def test_continuous_labels_get_a_colour_bar(digits_small):
    X, _ = digits_small
    r = TSNERunner(X, **FAST_TSNE)
    r.run()
    from bokeh.models import ColorBar
    lay = export.to_bokeh(r)         # a bare runner: no labels, no images
    assert not models(lay, Legend) and not models(lay, ColorBar)
    lay = export.tsne_layout(r.embedding, np.linspace(0, 1, len(X)), history=r.history_frame)
    assert models(lay, ColorBar) and not models(lay, Legend)


def test_vae_layout_has_curves_and_four_grids(vae_done, tmp_path):
    lay = vae_done.to_bokeh()
    titles = [f.title.text for f in lay.references() if hasattr(f, "title") and
              getattr(f.title, "text", None)]
    assert {"−ELBO (nats per sample)", "reconstruction", "KL divergence"} <= set(titles)
    images = [r for r in models(lay, GlyphRenderer) if isinstance(r.glyph, ImageRGBA)]
    assert len(images) == 4
    # -ELBO plotted as a loss: positive, and the validation series is there
    series = {r.data_source.data["series"][0]: r.data_source.data["value"]
              for r in models(lay, GlyphRenderer) if "series" in r.data_source.data}
    assert {"train (per step)", "train (epoch mean)", "validation"} <= set(series)
    hover = models(lay, HoverTool)
    assert any(isinstance(h.tooltips, list) and ("epoch", "@epoch{0.00}") in h.tooltips for h in hover)
    text = vae_done.save_html(tmp_path / "vae.html").read_text(encoding="utf-8")
    assert_offline(text)


def test_nothing_run_yet_exports_a_note_and_warns(digits_small, tmp_path):
    X, y = digits_small
    w = TSNEWidget(X, labels=y, **FAST_TSNE)
    with pytest.warns(UserWarning, match="t-SNE has not run yet"):
        text = w.save_html(tmp_path / "empty.html").read_text(encoding="utf-8")
    assert "t-SNE has not run yet" in text
    v = VAEWidget(X, image_shape=(8, 8), latent_dim=2)
    with pytest.warns(UserWarning, match="not trained yet"):
        lay = v.to_bokeh()
    divs = div_text(lay)
    assert "No training yet" in divs and "untrained" in divs


def test_a_list_becomes_one_report(tsne_done, vae_done, tmp_path):
    path = export.save_html([vae_done, tsne_done], tmp_path / "report.html", title="report <x>")
    text = path.read_text(encoding="utf-8")
    assert "<title>report &lt;x&gt;</title>" in text
    assert text.count("data:image/png;base64,") >= 300


def test_bad_arguments_are_clear(tsne_done, tmp_path):
    with pytest.raises(TypeError, match="obj: cannot export a int"):
        export.to_bokeh(42)
    with pytest.raises(ValueError, match="does not exist"):
        tsne_done.save_html(tmp_path / "missing" / "x.html")
    with pytest.raises(ValueError, match="is a folder"):
        tsne_done.save_html(tmp_path)
    with pytest.raises(ValueError, match="list is empty"):
        export.to_bokeh([])


def test_grid_rgba_layout():
    from vae_widgets.export._images import grid_rgba
    a = np.zeros((2, 3, 1, 4, 5), np.uint8)
    a[1, 2] = 200                     # bottom-right cell
    img = grid_rgba(a, gap=1)
    assert img.shape == (2 * 4 + 1, 3 * 5 + 2) and img.dtype == np.uint32
    px = img.view(np.uint8).reshape(*img.shape, 4)
    # flipped for Bokeh (y up): the bottom-right cell is at the top rows of the array
    assert (px[0:4, 12:17, :3] == 200).all() and (px[5:9, 0:5, :3] == 0).all()
    assert (px[4, :, :3] == 255).all()              # the gap row is background
    with pytest.raises(ValueError, match="rows, cols, C, H, W"):
        grid_rgba(np.zeros((3, 4), np.uint8))


def test_an_export_stays_offline_once_panel_is_imported(tsne_done, tmp_path):
    """Bokeh links the __javascript__ URL of every model class imported in the process;
    Panel's ReactiveESM (what w.to_panel() uses) is one. The page must not need it."""
    pytest.importorskip("panel")
    import panel.models.esm  # noqa: F401 - registers its model class with Bokeh

    text = tsne_done.save_html(tmp_path / "tsne.html").read_text(encoding="utf-8")
    assert_offline(text)
    assert "static/extensions/panel" not in text


def test_a_save_that_fails_half_way_leaves_the_previous_file(tsne_done, tmp_path):
    path = tsne_done.save_html(tmp_path / "tsne.html")
    before = path.read_bytes()
    # a title that cannot be written as UTF-8 (a lone surrogate, as from a broken
    # decode): the write fails after the page was made
    with pytest.raises(UnicodeEncodeError):
        tsne_done.save_html(path, title="map \ud800")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tsne.html"]   # no temporary left
