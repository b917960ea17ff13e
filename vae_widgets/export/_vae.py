"""A VAE training run as Bokeh: loss curves (train and validation) and image grids."""
from __future__ import annotations

import numpy as np

from ._common import WIDTH, heading, note
from ._images import grid_rgba

#: (figure title, per-step column, epoch columns (train, validation)); ELBO columns are
#: drawn negated, as losses (lower is better), like the widget does
CURVES = (("−ELBO (nats per sample)", "elbo", ("train_elbo", "val_elbo")),
          ("reconstruction", "recon", ("train_recon", "val_recon")),
          ("KL divergence", "kl", ("train_kl", "val_kl")))
GRID_TITLES = {"reconstructions": "data and reconstructions",
               "samples": "samples from the prior",
               "traversal": "latent traversals (rows: dimensions by KL)",
               "interpolation": "interpolations between data points"}
_COLOURS = {"step": "#90caf9", "train": "#1565c0", "val": "#e65100"}


def vae_layout(history=None, epoch_history=None, grids=None, *, title: str = "VAE",
               notes=()):
    """Bokeh layout of VAE training: −ELBO, reconstruction and KL curves and image grids.

    Parameters
    ----------
    history : DataFrame, optional
        Per-step rows (``step``, ``epoch``, ``elbo``, ``recon``, ``kl``), as
        ``VAETrainer.history``.
    epoch_history : DataFrame, optional
        Per-epoch rows (``epoch``, ``train_*``, ``val_*``), as ``VAETrainer.epoch_history``.
    grids : dict, optional
        ``{kind: (uint8 array (rows, cols, C, H, W), labels dict)}`` as returned by
        ``VAETrainer.render_visuals``.
    title : str
        Section heading.
    notes : sequence of str
        Notes shown above the figures (e.g. why something is missing).

    Returns
    -------
    bokeh.models.Column
    """
    from bokeh.layouts import column, row

    parts = [heading(title)] + [note(n) for n in notes]
    curves = [f for f in (_curve(t, history, c, e, epoch_history) for t, c, e in CURVES) if f]
    if curves:
        parts.extend(curves)
    else:
        parts.append(note("No training yet, so there are no loss curves: call train() "
                          "(and wait()) before exporting."))
    figs = [_grid_figure(kind, *grids[kind]) for kind in GRID_TITLES if grids and kind in grids]
    if figs:
        parts.append(heading("what the model does", level=3))
        for k in range(0, len(figs), 2):
            parts.append(row(*figs[k:k + 2]))
    return column(*parts)


def _curve(title, history, step_col, epoch_cols, epoch_history):
    from bokeh.models import ColumnDataSource, HoverTool
    from bokeh.plotting import figure

    series = []
    if history is not None and len(history) and step_col in history:
        series.append(("train (per step)", "step", history["epoch"], history[step_col]))
    if epoch_history is not None and len(epoch_history):
        for col, kind in zip(epoch_cols, ("train", "val")):
            if col in epoch_history:
                name = "train (epoch mean)" if kind == "train" else "validation"
                series.append((name, kind, epoch_history["epoch"], epoch_history[col]))
    series = [(n, k, np.asarray(x, float), np.asarray(y, float)) for n, k, x, y in series]
    series = [(n, k, x, -y if step_col == "elbo" else y) for n, k, x, y in series
              if np.isfinite(y).any()]
    if not series:
        return None
    p = figure(width=WIDTH, height=220, title=title, x_axis_label="epoch",
               tools="pan,wheel_zoom,box_zoom,reset,save")
    for name, kind, x, y in series:
        ok = np.isfinite(y)
        src = ColumnDataSource({"epoch": x[ok], "value": y[ok], "series": [name] * int(ok.sum())})
        r = p.line("epoch", "value", source=src, color=_COLOURS[kind], legend_label=name,
                   line_width=1 if kind == "step" else 2.2)
        if kind != "step":
            p.scatter("epoch", "value", source=src, color=_COLOURS[kind], size=5)
        p.add_tools(HoverTool(renderers=[r], tooltips=[("", "@series"), ("epoch", "@epoch{0.00}"),
                                                      (title.split(" (")[0], "@value{0.0000}")]))
    p.legend.location = "top_right"
    p.legend.click_policy = "hide"
    p.legend.label_text_font_size = "11px"
    p.legend.background_fill_alpha = 0.6      # curves stay visible under the legend
    return p


def _grid_figure(kind, array, labels):
    from bokeh.models import FixedTicker
    from bokeh.plotting import figure

    array = np.asarray(array, dtype=np.uint8)
    rows, cols, _, h, w = array.shape
    features = (labels or {}).get("layout") == "features"
    img = grid_rgba(array, min_cell_height=max(2, w // 6) if features else 1)
    H, W = img.shape
    ch = (H + 1) // rows                       # cell pitch including the gap
    cw = (W + 1) // cols
    scale = int(np.clip(300 // max(W, 1), 1, 12))
    if W * scale < 240:                        # room for the title
        scale = int(np.ceil(240 / W))
    if H * scale > 420:                        # tall grids (many traversal rows): shrink
        scale = max(1, 420 // H)
    # frame_* size the drawing area itself: square pixels whatever the axes take
    p = figure(frame_width=W * scale, frame_height=H * scale,
               title=GRID_TITLES.get(kind, kind), x_range=(0, W), y_range=(0, H),
               tools="pan,wheel_zoom,reset,save")
    p.image_rgba(image=[img], x=0, y=0, dw=W, dh=H)
    p.grid.visible = False
    row_names = list((labels or {}).get("rows") or [])
    col_names = list((labels or {}).get("cols") or [])
    # captions on the axes are drawn on the canvas: user text stays text
    if len(row_names) == rows and rows <= 24:
        centres = [H - (r * ch + ch / 2) for r in range(rows)]
        p.yaxis.ticker = FixedTicker(ticks=centres)
        p.yaxis.major_label_overrides = {c: str(n) for c, n in zip(centres, row_names)}
    else:
        p.yaxis.visible = False
    if len(col_names) == cols and cols <= 16 and kind != "samples":
        centres = [k * cw + cw / 2 for k in range(cols)]
        p.xaxis.ticker = FixedTicker(ticks=centres)
        p.xaxis.major_label_overrides = {c: str(n) for c, n in zip(centres, col_names)}
        p.xaxis.major_label_orientation = 0.6 if cols > 8 else 0
    else:
        p.xaxis.visible = False
    return p
