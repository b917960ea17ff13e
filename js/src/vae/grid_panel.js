// One image-grid panel of the VAE view (reconstructions, samples, traversal
// or interpolation): the kernel's uint8 grid (grids.js decodes it) scaled by
// an integer factor with pixelated drawing, row and column captions, a colour
// legend for feature strips (tabular data), and a read-out of the pixel or
// feature under the pointer. The traversal also says which data row it starts from.

import { colormapGradient } from "../common/color_maps.js";
import { h, setText } from "../common/dom.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { cellScale, decodeGrid, pixelValue } from "./grids.js";
import { Panel, ellipsize, imageCanvas, panelFrame, sizeCanvas } from "./panel.js";

const GAP = 2;
const FEATURE_GAP = 6;

export const GRID_TEXT = {
  reconstructions: {
    title: "Reconstructions",
    caption: "Top: data · bottom: what the decoder rebuilds from their codes. Blurry = still learning (or β is high).",
  },
  samples: {
    title: "Samples",
    caption: "Decoded from random z ~ N(0, T²I): what the model generates. Lower T: more typical, less varied.",
  },
  traversal: {
    title: "Latent traversals",
    caption: "Each row moves one latent dimension from −3σ to +3σ, others fixed. A row that does not change is an unused (collapsed) unit.",
  },
  interpolation: {
    title: "Interpolations",
    caption: "Straight lines in latent space between the codes of two data points. Smooth morphs = a well-organised latent space.",
  },
};

/** The read-out of one value `v` (uint8) of a decoded grid `g` at source pixel (px, py), cell (r, c). */
export function gridValueText(g, labels, r, c, px, py, v) {
  const where = [labels.rows?.[r], labels.cols?.[c]].filter((t) => t !== undefined && t !== "").join(" · ");
  let what;
  if (g.layout === "features") {
    const name = labels.feature_names?.[px] ?? `feature ${px}`;
    const val = pixelValue(v, labels);
    what = `${name}: ${labels.scale === "zscore" ? `z = ${val >= 0 ? "+" : ""}${fmtNum(val, 2)}` : fmtNum(val, 3)}`;
  } else {
    what = `pixel (${py}, ${px})${g.channels === 1 ? ` = ${fmtNum(pixelValue(v, labels), 3)}` : ""}`;
  }
  return where ? `${where} · ${what}` : what;
}

export class GridPanel extends Panel {
  /**
   * @param {HTMLElement} host
   * @param {string} kind  one of grids.js's GRID_KINDS
   * @param {{headExtras?: HTMLElement[]}} opts  controls for the panel's head (the samples' temperature)
   */
  constructor(host, kind, { headExtras = [] } = {}) {
    super();
    this.kind = kind;
    this.draws = 0;
    this.state = null;
    this.readoutDefault = "";
    this.canvas = h("canvas.vw-grid-canvas");
    this.empty = h("div.vw-panel-empty", {}, "Appears once training starts");
    this.readout = h("div.vw-grid-readout");
    this.legend = h("div.vw-grid-legend", { hidden: true });
    this.box = h("div.vw-grid", { dataset: { kind } }, this.canvas, this.empty);
    this.baseEl = kind === "traversal" ? h("span.vw-traversal-base", { title: "The data row whose code the traversal starts from: click a point in a linked t-SNE map, or set v.traversal_base" }) : null;
    this.canvas.addEventListener("mousemove", (e) => this._hover(e));
    this.canvas.addEventListener("mouseleave", () => setText(this.readout, this.readoutDefault));
    const text = GRID_TEXT[kind] || { title: kind, caption: "" };
    this.headExtras = headExtras;
    this.mount(host, panelFrame(`vw-panel-${kind}`, text.title, text.caption, this.baseEl ? [this.baseEl, ...headExtras] : headExtras, this.box, this.legend, this.readout));
  }

  /** The placeholder says whether images are on their way (mode "watch": from a user's loop). */
  setStatus(status, mode = this.mode || "train") {
    this.mode = mode;
    if (this.empty.dataset.unavailable) return; // keeps saying why it cannot draw
    const idle = mode === "watch" ? "Images appear once your loop calls v.log(...)" : "Press Train to start";
    setText(this.empty, status === "running" ? "Waiting for the first images…" : idle);
  }

  /**
   * Draw the grid: `meta` = the `grids` trait's entry for this kind ({shape, labels, step}),
   * `pixels` = its uint8 buffer. false: the box has no width yet.
   */
  update(meta, pixels, status) {
    if (meta?.unavailable) {
      // this model cannot draw the grid (no decode(z)): say why, in the panel's place
      this.empty.hidden = false;
      this.canvas.hidden = true;
      this.legend.hidden = true;
      this.empty.dataset.unavailable = "true";
      setText(this.empty, meta.unavailable);
      for (const el of this.headExtras) el.hidden = true; // a temperature for samples it cannot draw
      setText(this.readout, "");
      this.state = null;
      return true;
    }
    delete this.empty.dataset.unavailable;
    for (const el of this.headExtras) el.hidden = false;
    const labels = meta?.labels || {};
    const g = meta ? decodeGrid(pixels, meta.shape, labels) : null;
    if (status !== undefined) this.setStatus(status);
    this.empty.hidden = !!g;
    this.canvas.hidden = !g;
    const temp = this.kind === "samples" && Number.isFinite(Number(labels.temperature)) ? ` · T = ${fmtNum(Number(labels.temperature), 3)}` : "";
    this.readoutDefault = g && Number.isFinite(Number(meta.step)) ? `drawn at step ${fmtInt(Number(meta.step))}${temp} · hover for values` : "";
    setText(this.readout, this.readoutDefault);
    if (this.baseEl) {
      const base = g && Number.isInteger(labels.base) ? labels.base : null;
      setText(this.baseEl, base === null ? "" : `base: row #${base}`);
      this.box.dataset.base = base === null ? "" : String(base);
    }
    if (!g) {
      this.legend.hidden = true;
      this.state = null;
      return true;
    }
    const width = this.box.clientWidth;
    if (!(width > 0)) return false;
    const geom = this._draw(g, labels, width);
    if (!geom) return true;
    this.state = { ...geom, labels, pixels };
    this._legend(g, labels);
    this.draws++;
    return true;
  }

  /** Draw `g` into the canvas; -> its geometry (for hovering), or null without a 2-D context. */
  _draw(g, labels, width) {
    const t = this.theme;
    const ctx0 = this.canvas.getContext("2d");
    if (!ctx0) return null;
    ctx0.font = `11px ${t.font}`;
    const rowCaps = (labels.rows || []).map(String);
    const colCaps = (labels.cols || []).map(String);
    const capW = rowCaps.length ? Math.min(Math.ceil(Math.max(...rowCaps.map((s) => ctx0.measureText(s).width))) + 8, Math.floor(width * 0.35)) : 0;
    const top = colCaps.length ? 16 : 0;
    const gap = g.layout === "features" ? FEATURE_GAP : GAP;
    const sc = cellScale(g, width - capW, { gap });
    const rowGap = this.kind === "reconstructions" && g.layout === "image" ? GAP * 2 : gap;
    const H = top + g.rows * sc.cellH + (g.rows - 1) * rowGap;
    const CW = capW + g.cols * sc.cellW + (g.cols - 1) * gap;
    const ctx = sizeCanvas(this.canvas, CW, H);
    if (!ctx) return null;
    const img = imageCanvas(g.data, g.width, g.height);
    ctx.imageSmoothingEnabled = false;
    for (let r = 0; r < g.rows; r++) {
      for (let c = 0; c < g.cols; c++) {
        ctx.drawImage(img, c * g.cellW, r * g.cellH, g.cellW, g.cellH, capW + c * (sc.cellW + gap), top + r * (sc.cellH + rowGap), sc.cellW, sc.cellH);
      }
    }
    if (g.layout === "features") {
      // the diverging map is near white at the mean: outline each strip
      ctx.strokeStyle = t.axis;
      ctx.globalAlpha = 0.5;
      ctx.lineWidth = 1;
      for (let r = 0; r < g.rows; r++) {
        for (let c = 0; c < g.cols; c++) ctx.strokeRect(capW + c * (sc.cellW + gap) - 0.5, top + r * (sc.cellH + rowGap) - 0.5, sc.cellW + 1, sc.cellH + 1);
      }
      ctx.globalAlpha = 1;
    }
    ctx.font = `11px ${t.font}`;
    ctx.fillStyle = t.axis;
    // row captions
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    rowCaps.forEach((s, r) => {
      if (r < g.rows) ctx.fillText(ellipsize(ctx, s, capW - 8), capW - 6, top + r * (sc.cellH + rowGap) + sc.cellH / 2);
    });
    // column captions (every k-th when they would overlap)
    ctx.font = `10px ${t.font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    if (colCaps.length) {
      const widest = Math.max(...colCaps.map((s) => ctx.measureText(s).width));
      const every = Math.max(1, Math.ceil((widest + 4) / (sc.cellW + gap)));
      const lastShown = Math.floor((g.cols - 1) / every) * every;
      colCaps.forEach((s, c) => {
        const show = c % every === 0 || (c === g.cols - 1 && (c - lastShown) * (sc.cellW + gap) >= widest + 4);
        if (c < g.cols && show) {
          const cx = capW + c * (sc.cellW + gap) + sc.cellW / 2;
          const half = ctx.measureText(s).width / 2;
          // keep the last caption inside the canvas
          ctx.textAlign = cx + half > CW ? "right" : "center";
          ctx.fillText(s, ctx.textAlign === "right" ? CW : cx, top - 3);
        }
      });
    }
    return { g, sc, capW, top, gap, rowGap };
  }

  _legend(g, labels) {
    if (g.layout !== "features") {
      this.legend.hidden = true;
      return;
    }
    const [lo, hi] = (labels.value_range || [0, 1]).map(Number);
    const z = labels.scale === "zscore";
    this.legend.hidden = false;
    this.legend.replaceChildren(
      h("span.vw-grid-legend-end", {}, z ? `${fmtNum(lo, 2).replace("-", "−")}σ` : fmtNum(lo, 3)),
      h("span.vw-grid-legend-ramp", { style: { background: colormapGradient(g.colormap) } }),
      h("span.vw-grid-legend-end", {}, z ? `+${fmtNum(hi, 2)}σ` : fmtNum(hi, 3)),
      h("span.vw-grid-legend-note", {}, z ? "per-feature z-score (white = the feature's mean) · one stripe per feature" : "one stripe per feature"),
    );
  }

  _hover(e) {
    const s = this.state;
    if (!s) return;
    const { g, sc, capW, top, gap, rowGap, labels, pixels } = s;
    const r0 = this.canvas.getBoundingClientRect();
    const x = e.clientX - r0.left - capW, y = e.clientY - r0.top - top;
    const c = Math.floor(x / (sc.cellW + gap)), r = Math.floor(y / (sc.cellH + rowGap));
    const cx = x - c * (sc.cellW + gap), cy = y - r * (sc.cellH + rowGap);
    if (x < 0 || y < 0 || c >= g.cols || r >= g.rows || cx >= sc.cellW || cy >= sc.cellH) {
      setText(this.readout, this.readoutDefault);
      return;
    }
    const px = Math.min(g.cellW - 1, Math.floor(cx / sc.sx)), py = Math.min(g.cellH - 1, Math.floor(cy / sc.sy));
    const cell = g.channels * g.cellH * g.cellW;
    setText(this.readout, gridValueText(g, labels, r, c, px, py, pixels[(r * g.cols + c) * cell + py * g.cellW + px]));
  }
}
