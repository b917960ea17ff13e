// Disentanglement panel of the VAE widget: a latent-dimension x factor heatmap of
// the mutual information (normalised by each factor's entropy) and the MIG score,
// from the `disentanglement` trait (set when the VAE was given `factors=`).
// The panel is hidden when there are no factors.
// MigPanel(host): update(trait), setTheme(theme), destroy() (see panel.js).

import "./mig.css";
import { colormapLUT } from "../common/color_maps.js";
import { h, setText } from "../common/dom.js";
import { fmtNum } from "../common/format.js";
import { CURVE_COLORS } from "./curves.js";
import { Panel, ellipsize, panelFrame, sizeCanvas } from "./panel.js";

const CMAP = "viridis";
const num = (v) => (v === null || v === undefined || v === "" ? NaN : Number(v));

/**
 * Check and shape the trait (unit-tested).
 * -> null (no factors: hide the panel) or
 *    {factors, dims, measured, values: Float32Array(dims * K) row-major (dim, factor)
 *     of MI / H in [0, 1], mi (nats, same layout), gaps (K), mig, epoch, best: [dim per factor],
 *     history: [[epoch, mig]]}
 */
export function migData(trait) {
  const t = trait && typeof trait === "object" ? trait : {};
  const factors = Array.isArray(t.factors) ? t.factors.map(String) : [];
  if (!factors.length) return null;
  const K = factors.length;
  const rows = Array.isArray(t.mi_normalized) ? t.mi_normalized : [];
  const dims = rows.length || Math.max(0, Math.floor(num(t.latent_dim)) || 0);
  const values = new Float32Array(dims * K).fill(NaN);
  const mi = new Float32Array(dims * K).fill(NaN);
  const rawMi = Array.isArray(t.mi) ? t.mi : [];
  for (let d = 0; d < rows.length; d++) {
    for (let k = 0; k < K; k++) {
      const v = num(rows[d]?.[k]);
      values[d * K + k] = Number.isFinite(v) ? Math.max(0, Math.min(1, v)) : NaN;
      mi[d * K + k] = num(rawMi[d]?.[k]);
    }
  }
  const best = factors.map((_, k) => {
    let b = -1, bv = -Infinity;
    for (let d = 0; d < rows.length; d++) {
      const v = values[d * K + k];
      if (Number.isFinite(v) && v > bv) {
        bv = v;
        b = d;
      }
    }
    return b;
  });
  const gaps = factors.map((_, k) => num(Array.isArray(t.gaps) ? t.gaps[k] : NaN));
  const history = (Array.isArray(t.history) ? t.history : []).map((p) => [num(p?.[0]), num(p?.[1])]).filter((p) => Number.isFinite(p[0]) && Number.isFinite(p[1]));
  return { factors, dims, measured: rows.length > 0, values, mi, gaps, mig: num(t.mig), epoch: num(t.epoch), best, history };
}

/** The score as shown (3 decimals), "–" before the first measurement. */
export function fmtMig(v) {
  return Number.isFinite(v) ? v.toFixed(3) : "–";
}

/** Readable text colour on a viridis cell of value v in [0, 1] (dark cells get white text). */
export function textOn(v) {
  return v < 0.6 ? "#fff" : "#111";
}

export class MigPanel extends Panel {
  constructor(host) {
    super();
    this.score = h("span.vw-mig-score", { dataset: { mig: "" } }, "MIG –");
    this.readout = h("span.vw-chart-readout");
    this.canvas = h("canvas.vw-mig-canvas");
    this.empty = h("div.vw-panel-empty", {}, "Mutual information per latent dimension and factor appears after the first epoch");
    this.box = h("div.vw-mig", {}, this.canvas, this.empty);
    this.mount(
      host,
      panelFrame(
        "vw-panel-mig",
        "Disentanglement",
        "Rows: latent units · columns: known factors · colour: mutual information I(z; factor) ÷ the factor's entropy (1 = the unit tells the factor completely). MIG: per factor, the best unit's share minus the runner-up's, averaged; 1 = one unit per factor.",
        [this.readout, this.score],
        this.box,
      ),
    );
    this.el.hidden = true;
    this.data = null;
    this.geom = null;
    // the pointer's last place over the map: a redraw (a new epoch, a late update) keeps
    // reading out the hovered cell instead of falling back to the epoch
    this.pointer = null;
    this.canvas.addEventListener("mousemove", (e) => {
      this.pointer = { clientX: e.clientX, clientY: e.clientY };
      this._hover(this.pointer);
    });
    this.canvas.addEventListener("mouseleave", () => {
      this.pointer = null;
      this._readoutDefault();
    });
  }

  /** Draw from the `disentanglement` trait; returns false when the box has no width yet (retry later). */
  update(trait) {
    const d = migData(trait);
    this.data = d;
    this.el.hidden = !d;
    if (!d) return true;
    setText(this.score, `MIG ${fmtMig(d.mig)}`);
    this.score.dataset.mig = Number.isFinite(d.mig) ? String(d.mig) : "";
    this.empty.hidden = d.measured;
    this.canvas.hidden = !d.measured;
    this._readoutDefault();
    if (!d.measured) return true;
    const width = this.box.clientWidth;
    if (!(width > 0)) return false;
    this._draw(d, width, this.theme);
    if (this.pointer) this._hover(this.pointer);
    return true;
  }

  _draw(d, width, t) {
    const K = d.factors.length;
    const ctx0 = this.canvas.getContext("2d");
    if (!ctx0) return;
    ctx0.font = `11px ${t.font}`;
    const L = 40, T = 4, R = 8;
    const spark = width >= 380 && d.history.length >= 1 ? Math.min(140, Math.floor(width * 0.26)) : 0;
    const pw = Math.max(K * 24, width - L - R - (spark ? spark + 16 : 0));
    const cellW = Math.min(90, Math.floor(pw / K));
    const rowH = Math.max(10, Math.min(24, Math.floor(200 / d.dims)));
    const hh = rowH * d.dims;
    const B = 34;
    const W = width, H = T + hh + B;
    const ctx = sizeCanvas(this.canvas, W, H);
    if (!ctx) return;
    const lut = colormapLUT(CMAP);
    ctx.font = `11px ${t.font}`;
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    for (let r = 0; r < d.dims; r++) {
      for (let k = 0; k < K; k++) {
        const v = d.values[r * K + k];
        const x = L + k * cellW, y = T + r * rowH;
        if (Number.isFinite(v)) {
          const i = Math.round(v * 255) * 3;
          ctx.fillStyle = `rgb(${lut[i]},${lut[i + 1]},${lut[i + 2]})`;
        } else ctx.fillStyle = t.dark ? "#3c3c3c" : "#c8c8c8";
        ctx.fillRect(x, y, cellW - 1, rowH - 1);
        if (Number.isFinite(v) && rowH >= 14 && cellW >= 32) {
          ctx.fillStyle = textOn(v);
          ctx.fillText(v.toFixed(2), x + cellW / 2, y + rowH / 2);
        }
      }
    }
    // the unit that carries each factor best: outlined
    ctx.strokeStyle = t.dark ? "#fff" : "#111";
    ctx.lineWidth = 2;
    d.best.forEach((r, k) => {
      if (r >= 0) ctx.strokeRect(L + k * cellW + 1, T + r * rowH + 1, cellW - 3, rowH - 3);
    });
    // row labels z0..; factor names and gaps below
    ctx.fillStyle = t.axis;
    ctx.textAlign = "right";
    const every = Math.ceil(11 / rowH);
    for (let r = 0; r < d.dims; r += every) ctx.fillText(`z${r}`, L - 5, T + r * rowH + rowH / 2);
    ctx.textBaseline = "top";
    ctx.fillText("gap", L - 5, T + hh + 18);
    ctx.textAlign = "center";
    ctx.font = `10px ${t.font}`;
    d.factors.forEach((name, k) => {
      const cx = L + k * cellW + cellW / 2;
      ctx.fillStyle = t.text || t.axis;
      ctx.fillText(ellipsize(ctx, name, cellW - 2), cx, T + hh + 4);
      ctx.fillStyle = t.axis;
      ctx.fillText(Number.isFinite(d.gaps[k]) ? d.gaps[k].toFixed(2) : "–", cx, T + hh + 18);
    });
    ctx.font = `11px ${t.font}`;
    this.geom = { L, T, cellW, rowH, hh, K };
    if (spark) this._spark(ctx, d, L + K * cellW + 16, T, Math.min(spark, W - (L + K * cellW + 16) - R), hh, t);
  }

  /** MIG per epoch: a small line chart beside the heatmap. */
  _spark(ctx, d, x0, y0, w, hgt, t) {
    if (w < 60) return;
    const pts = d.history;
    const top = y0 + 14, ph = Math.max(20, hgt - 28);
    const e0 = pts[0][0], e1 = pts[pts.length - 1][0];
    const vmax = Math.max(0.1, ...pts.map((p) => p[1]));
    const X = (e) => x0 + (e1 > e0 ? ((e - e0) / (e1 - e0)) * w : w / 2);
    const Y = (v) => top + ph - (Math.max(0, v) / vmax) * ph;
    ctx.fillStyle = t.axis;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText("MIG per epoch", x0, y0);
    ctx.strokeStyle = t.grid || t.axis;
    ctx.lineWidth = 1;
    ctx.beginPath();
    ctx.moveTo(x0, top + ph + 0.5);
    ctx.lineTo(x0 + w, top + ph + 0.5);
    ctx.stroke();
    ctx.strokeStyle = CURVE_COLORS.elbo(t);
    ctx.fillStyle = ctx.strokeStyle;
    ctx.lineWidth = 1.75;
    ctx.beginPath();
    pts.forEach(([e, v], i) => (i ? ctx.lineTo(X(e), Y(v)) : ctx.moveTo(X(e), Y(v))));
    ctx.stroke();
    const [le, lv] = pts[pts.length - 1];
    ctx.beginPath();
    ctx.arc(X(le), Y(lv), 3, 0, 2 * Math.PI);
    ctx.fill();
    ctx.fillStyle = t.axis;
    ctx.textBaseline = "top";
    ctx.fillText(`epoch ${e0}`, x0, top + ph + 3);
    ctx.textAlign = "right";
    if (e1 > e0) ctx.fillText(`${e1}`, x0 + w, top + ph + 3);
    ctx.fillText(fmtNum(vmax, 2), x0 + w, y0);
  }

  _readoutDefault() {
    const d = this.data;
    setText(this.readout, d && d.measured && Number.isFinite(d.epoch) ? `epoch ${d.epoch}` : "");
  }

  _hover(e) {
    const d = this.data, g = this.geom;
    if (!d || !g) return;
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left - g.L, y = e.clientY - r.top - g.T;
    const k = Math.floor(x / g.cellW), row = Math.floor(y / g.rowH);
    if (x < 0 || y < 0 || k >= g.K || row >= d.dims) return this._readoutDefault();
    const i = row * g.K + k;
    const mi = Number.isFinite(d.mi[i]) ? d.mi[i].toFixed(3) : "–";
    setText(this.readout, `z${row} · ${d.factors[k]} · I = ${mi} nats (${fmtNum(d.values[i], 2)} of H)`);
  }
}
