// The VAE view's "selection" panel: points chosen elsewhere (a lasso in a
// linked t-SNE map, or `v.selection_indices` / `v.select()` in Python) drawn as
// tiles, each the data point (top) over its reconstruction (below), captioned
// with its row index. The kernel sends the grid like the other image grids
// (traits `grid_selection` = uint8 [2, k, C, H, W] and `selection` = {shape,
// labels, count, shown, source}); decoding and cell scaling are grids.js's.
// Layout and hit-testing are pure and unit-tested; SelectionPanel owns the DOM
// (see panel.js for the panel interface).

import { h, icon, ICONS, setText } from "../common/dom.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { cellScale, decodeGrid, pixelValue } from "./grids.js";
import { Panel, imageCanvas, sizeCanvas } from "./panel.js";

const CAPTION_H = 13; // px above each tile for "#index"
const PAIR_GAP = 2; // px between a point and its reconstruction
const TILE_GAP = 8; // px between tiles
const MAX_CELL = 48; // px: the larger side of one image at most
const FEATURE_ROOM = 360; // px: a feature strip is scaled to fit this width

/**
 * Tile layout for a decoded selection grid `g` ({rows: 2, cols: k, cellW,
 * cellH, layout}) in `available` CSS px of width.
 * -> {count, perRow, rows, sx, sy, cellW, cellH, tileW, tileH, width, height}
 *    (cellW/cellH: one scaled image; tile = caption + two cells).
 */
export function selectionLayout(g, available, { gap = TILE_GAP, maxCell = MAX_CELL, captionH = CAPTION_H } = {}) {
  const count = Math.max(0, g?.cols | 0);
  const room = Math.max(1, Math.floor(available));
  const features = g?.layout === "features";
  const sc = cellScale({ cellW: g.cellW, cellH: g.cellH, cols: 1, layout: g.layout }, features ? Math.min(room, FEATURE_ROOM) : room, { maxCell });
  const tileW = sc.cellW;
  const tileH = captionH + 2 * sc.cellH + PAIR_GAP;
  const perRow = Math.max(1, Math.min(count || 1, Math.floor((room + gap) / (tileW + gap))));
  const rows = count ? Math.ceil(count / perRow) : 0;
  const width = perRow * tileW + (perRow - 1) * gap;
  const height = rows ? rows * tileH + (rows - 1) * gap : 0;
  return { count, perRow, rows, sx: sc.sx, sy: sc.sy, cellW: sc.cellW, cellH: sc.cellH, tileW, tileH, gap, captionH, width, height };
}

/** Top-left corner (CSS px) of tile `i`. */
export function tileOrigin(L, i) {
  return { x: (i % L.perRow) * (L.tileW + L.gap), y: Math.floor(i / L.perRow) * (L.tileH + L.gap) };
}

/**
 * Which tile, image (0: data, 1: reconstruction) and source pixel lies under
 * (x, y) CSS px of the canvas. -> {i, row, px, py} or null.
 */
export function selectionHit(L, x, y) {
  if (!L || x < 0 || y < 0) return null;
  const c = Math.floor(x / (L.tileW + L.gap)), r = Math.floor(y / (L.tileH + L.gap));
  if (c >= L.perRow) return null;
  const i = r * L.perRow + c;
  if (i >= L.count) return null;
  const o = tileOrigin(L, i);
  const dx = x - o.x, dy = y - o.y - L.captionH;
  if (dx >= L.tileW || dy < 0) return null;
  let row = 0, yy = dy;
  if (dy >= L.cellH) {
    yy = dy - L.cellH - PAIR_GAP;
    row = 1;
    if (yy < 0 || yy >= L.cellH) return null;
  }
  return { i, row, px: Math.floor(dx / L.sx), py: Math.floor(yy / L.sy) };
}

/** "12 selected" / "120 selected · first 32 shown". */
export function selectionSummary(meta) {
  const count = Number(meta?.count) || 0;
  const shown = Number(meta?.shown) || 0;
  if (!count) return "";
  const what = `${fmtInt(count)} selected`;
  return shown < count ? `${what} · first ${fmtInt(shown)} shown` : what;
}

export class SelectionPanel extends Panel {
  /** @param {HTMLElement} host  @param {{onClear: () => void}} opts */
  constructor(host, { onClear }) {
    super();
    this.count = h("span.vw-selection-count");
    this.clearBtn = h("button.vw-btn.vw-selection-clear", { type: "button", title: "Clear the selection (also the lasso in a linked t-SNE map)" }, icon(ICONS.close), h("span.vw-btn-label", {}, "Clear"));
    this.clearBtn.addEventListener("click", () => onClear());
    this.canvas = h("canvas.vw-selection-canvas");
    this.readout = h("div.vw-grid-readout");
    this.box = h("div.vw-grid.vw-selection-grid", {}, this.canvas);
    this.mount(
      host,
      h(
        "div.vw-panel.vw-panel-selection",
        { hidden: true, dataset: { count: "0", shown: "0", draws: "0" } },
        h("div.vw-panel-head", {}, h("span.vw-panel-title", {}, "Selection"), this.count, h("span.vw-spacer"), this.clearBtn),
        h("div.vw-caption", {}, "Points selected in a linked t-SNE map (lasso) or from Python: each tile is the data point (top) over its reconstruction. Hover for values."),
        this.box,
        this.readout,
      ),
    );
    this.state = null;
    this.draws = 0;
    this.canvas.addEventListener("mousemove", (e) => this._hover(e));
    this.canvas.addEventListener("mouseleave", () => setText(this.readout, this.readoutDefault || ""));
  }

  /**
   * Draw from the `selection` trait (`meta`) and the `grid_selection` pixels (uint8).
   * Returns false when the box has no width yet (the caller retries).
   */
  update(meta, pixels) {
    meta = meta || {};
    const theme = this.theme;
    const labels = meta.labels || {};
    const g = meta.shape ? decodeGrid(pixels, meta.shape, labels) : null;
    const n = Number(meta.count) || 0;
    this.el.hidden = !g || !n;
    this.el.dataset.count = String(g ? n : 0);
    this.el.dataset.shown = String(g ? g.cols : 0);
    setText(this.count, g ? selectionSummary(meta) : "");
    if (!g || !n) {
      this.state = null;
      return true;
    }
    const width = this.box.clientWidth;
    if (!(width > 0)) return false;
    const L = selectionLayout(g, width);
    const ctx = sizeCanvas(this.canvas, L.width, L.height);
    if (!ctx) return true;
    const img = imageCanvas(g.data, g.width, g.height);
    ctx.imageSmoothingEnabled = false;
    ctx.font = `10px ${theme.font}`;
    ctx.fillStyle = theme.axis;
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    const cols = labels.cols || [];
    for (let i = 0; i < g.cols; i++) {
      const o = tileOrigin(L, i);
      ctx.fillText(String(cols[i] ?? `#${i}`), o.x + L.tileW / 2, o.y + L.captionH - 2);
      for (let r = 0; r < 2; r++) {
        const y = o.y + L.captionH + r * (L.cellH + PAIR_GAP);
        ctx.drawImage(img, i * g.cellW, r * g.cellH, g.cellW, g.cellH, o.x, y, L.cellW, L.cellH);
      }
      if (g.layout === "features") {
        ctx.strokeStyle = theme.axis;
        ctx.globalAlpha = 0.5;
        for (let r = 0; r < 2; r++) ctx.strokeRect(o.x - 0.5, o.y + L.captionH + r * (L.cellH + PAIR_GAP) - 0.5, L.cellW + 1, L.cellH + 1);
        ctx.globalAlpha = 1;
      }
    }
    this.state = { g, L, labels, pixels };
    this.readoutDefault = `${meta.source === "X" ? "rows of the map's X" : "training rows"} · drawn at step ${fmtInt(Number(meta.step) || 0)}`;
    setText(this.readout, this.readoutDefault);
    this.draws++;
    this.el.dataset.draws = String(this.draws);
    return true;
  }

  _hover(e) {
    const s = this.state;
    if (!s) return;
    const r0 = this.canvas.getBoundingClientRect();
    const hit = selectionHit(s.L, e.clientX - r0.left, e.clientY - r0.top);
    if (!hit) return setText(this.readout, this.readoutDefault || "");
    const { g, labels, pixels } = s;
    const px = Math.min(g.cellW - 1, hit.px), py = Math.min(g.cellH - 1, hit.py);
    const cell = g.channels * g.cellH * g.cellW;
    const v = pixels[(hit.row * g.cols + hit.i) * cell + py * g.cellW + px];
    const where = `${labels.cols?.[hit.i] ?? ""} · ${hit.row ? "reconstruction" : "original"}`;
    let what;
    if (g.layout === "features") {
      const val = pixelValue(v, labels);
      what = `${labels.feature_names?.[px] ?? `feature ${px}`}: ${labels.scale === "zscore" ? `z = ${val >= 0 ? "+" : ""}${fmtNum(val, 2)}` : fmtNum(val, 3)}`;
    } else {
      what = `pixel (${py}, ${px})${g.channels === 1 ? ` = ${fmtNum(pixelValue(v, labels), 3)}` : ""}`;
    }
    setText(this.readout, `${where} · ${what}`);
  }
}
