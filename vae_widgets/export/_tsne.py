"""A t-SNE run as Bokeh: the embedding (hover: index, label, thumbnail) and the KL curve.

The colours follow the widget's (:func:`vae_widgets.tables.encode_column`): one per
category up to 20 (the rest as "other"), a colour bar over the 1st-99th percentile for
numbers, with date ticks for dates.
"""
from __future__ import annotations

import numpy as np

from ..tables import encode_column, format_values
from ._common import WIDTH, category_palette, esc, heading, note
from ._images import thumbnail_uris

#: points that get a thumbnail in the hover (each is a small PNG inside the HTML)
MAX_THUMBNAILS = 5000
_PHASE_TEXT = {"early_exaggeration": "early exaggeration", "main": "main"}


def tsne_layout(embedding, labels=None, *, label_name: str = "label", images=None,
                history=None, marks=None, title: str = "t-SNE",
                max_thumbnails: int = MAX_THUMBNAILS, notes=()):
    """Bokeh layout of a t-SNE result: the scatter and the KL divergence curve.

    Parameters
    ----------
    embedding : array (n, 2) or None
        Point positions; None (no run yet) leaves the scatter out with a note.
    labels : array (n,), optional
        Categories (legend, one colour each; the 20 most frequent, the rest as
        "other") or, for numbers with more than 20 distinct values and for dates, a
        continuous colour bar, as the widget colours them.
    label_name : str
        Name of the labels, shown in the hover and legend title.
    images : uint8 array (n, H, W) or (n, C, H, W), optional
        Thumbnails shown in the hover (at most ``max_thumbnails`` points).
    history : DataFrame or dict with ``iteration``, ``kl`` (and ``phase``), optional
        The KL curve.
    marks : list of dict, optional
        ``{"iteration", "label"}`` events drawn as vertical lines on the curve.
    title : str
        Section heading.
    notes : sequence of str
        Extra notes shown above the figures.

    Returns
    -------
    bokeh.models.Column
    """
    from bokeh.layouts import column

    parts = [heading(title)] + [note(n) for n in notes]
    if embedding is None:
        parts.append(note("t-SNE has not run yet, so there is no embedding to show: "
                          "call run() (and wait()) before exporting."))
    else:
        parts.extend(_scatter(np.asarray(embedding, dtype=np.float64).reshape(-1, 2), labels,
                              label_name, images, max_thumbnails))
    kl = _kl_figure(history, marks)
    parts.append(kl if kl is not None else note("No KL divergence recorded yet."))
    return column(*parts)


def _scatter(emb, labels, label_name, images, max_thumbnails):
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    n = len(emb)
    extra = []
    data = {"x": emb[:, 0], "y": emb[:, 1], "index": np.arange(n)}
    p = figure(width=WIDTH, height=WIDTH - 80, title=f"embedding ({n:,} points)",
               tools="pan,wheel_zoom,box_zoom,reset,save", active_scroll="wheel_zoom",
               output_backend="webgl" if n > 20000 else "canvas", match_aspect=True,
               name="vw-embedding")
    p.xaxis.visible = p.yaxis.visible = False
    p.grid.visible = False
    size = float(np.clip(9 - np.log10(max(n, 1)) * 1.5, 2, 7))
    rows = ['<div style="font:12px sans-serif;max-width:220px">']
    if images is not None:
        uris, shown = thumbnail_uris(np.asarray(images), max_thumbnails)
        data["thumb"] = uris
        data["thumb_display"] = ["block" if u else "none" for u in uris]
        # the thumbnail is our own data URI; never user text
        rows.append('<img src="@thumb" style="display:@thumb_display;width:64px;height:64px;'
                    'image-rendering:pixelated;border:1px solid #ccc;margin-bottom:3px">')
        if shown < n:
            extra.append(note(f"Hover thumbnails are shown for {shown:,} of {n:,} points "
                              f"(to keep the file small)."))
    rows.append("<div><b>#@index</b></div>")
    if labels is None:
        p.scatter("x", "y", source=ColumnDataSource(data), size=size, color="#1f77b4",
                  alpha=0.8)
    else:
        import pandas as pd

        series = pd.Series(labels).reset_index(drop=True)
        enc = encode_column(series, str(label_name))
        name = esc(label_name)
        # Bokeh inserts @field values into the template as text (escaped); the name is part
        # of the template itself, so it is escaped here (esc)
        data["label"] = np.array([t if t is not None else "missing" for t in format_values(series)],
                                 dtype=object)
        rows.append(f"<div>{name}: @label</div>")
        if enc.kind == "continuous":
            _continuous(p, data, enc, size)
        else:
            _categories(p, data, enc, size)
    rows.append("</div>")
    p.add_tools(HoverTool(tooltips="".join(rows)))
    return [p, *extra]


def _continuous(p, data, enc, size):
    """Viridis over the robust range (values beyond take the end colours), a colour bar."""
    from bokeh.models import ColorBar, ColumnDataSource, DatetimeTickFormatter, LinearColorMapper
    from bokeh.palettes import Viridis256

    info = enc.info
    scale = 1000.0 if info.get("datetime") else 1.0        # dates: Bokeh wants milliseconds
    data["value"] = enc.values.astype(np.float64) * scale
    lo = info["lo"] * scale if np.isfinite(info["lo"]) else 0.0
    hi = info["hi"] * scale if np.isfinite(info["hi"]) else 1.0
    mapper = LinearColorMapper(palette=Viridis256, low=lo, high=hi, nan_color="#bbbbbb")
    p.scatter("x", "y", source=ColumnDataSource(data), size=size, alpha=0.85,
              color={"field": "value", "transform": mapper})
    bar = ColorBar(color_mapper=mapper, title=enc.title)
    if info.get("datetime"):
        bar.formatter = DatetimeTickFormatter()
    p.add_layout(bar, "right")


def _categories(p, data, enc, size):
    """One renderer per category (a legend entry that can hide it), "other" and "missing" grey."""
    from bokeh.models import ColumnDataSource, Legend

    codes = enc.values
    names = list(enc.names)
    colours = category_palette(len(names))
    other = enc.info.get("other", -1)
    if other >= 0:
        colours[other] = "#c8c0b0"
    cols = {k: np.asarray(v, dtype=object if isinstance(v, list) else None) for k, v in data.items()}
    items = []
    groups = [(name, codes == k, colours[k]) for k, name in enumerate(names)]
    groups.append(("missing", np.isnan(codes), "#bbbbbb"))
    for name, mask, colour in groups:
        if not mask.any():
            continue
        src = ColumnDataSource({k: v[mask] for k, v in cols.items()})
        r = p.scatter("x", "y", source=src, size=size, color=colour, alpha=0.85)
        items.append((name, [r]))
    legend = Legend(items=items, title=enc.title, click_policy="hide",
                    label_text_font_size="11px", spacing=0, padding=4)
    p.add_layout(legend, "right")
    p.width = WIDTH + 120


def _kl_figure(history, marks):
    from bokeh.models import BoxAnnotation, ColumnDataSource, HoverTool, Span
    from bokeh.plotting import figure

    if history is None:
        return None
    cols = {k: list(history[k]) for k in ("iteration", "kl", "phase") if k in history}
    if not cols.get("iteration"):
        return None
    src = ColumnDataSource({"iteration": np.asarray(cols["iteration"], dtype=np.int64),
                            "kl": np.asarray(cols["kl"], dtype=np.float64),
                            "phase": [_PHASE_TEXT.get(p, str(p)) for p in
                                      cols.get("phase", [""] * len(cols["iteration"]))]})
    p = figure(width=WIDTH, height=240, title="KL divergence", x_axis_label="iteration",
               y_axis_label="KL", tools="pan,wheel_zoom,box_zoom,reset,save")
    line = p.line("iteration", "kl", source=src, line_width=2, color="#1976d2")
    p.scatter("iteration", "kl", source=src, size=3, color="#1976d2")
    p.add_tools(HoverTool(renderers=[line], mode="vline", tooltips=[
        ("iteration", "@iteration"), ("KL", "@kl{0.0000}"), ("phase", "@phase")]))
    phases = list(zip(cols["iteration"], cols.get("phase", [])))
    early = [i for i, ph in phases if ph == "early_exaggeration"]
    if early:   # shade until the main phase starts (KL is recorded every few iterations)
        main = [i for i, ph in phases if ph == "main"]
        p.add_layout(BoxAnnotation(left=0, right=min(main) if main else max(early),
                                   fill_alpha=0.08, fill_color="#e65100"))
    for m in marks or []:
        if "iteration" in m:
            p.add_layout(Span(location=m["iteration"], dimension="height", line_dash="dashed",
                              line_color="#888888", line_width=1))
    return p
