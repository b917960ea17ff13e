// The VAE view's KL-per-dimension panel: a heatmap (rows: latent units,
// columns: steps, colour: nats; kl_map.js makes the matrix), the parameter
// changes as dashed lines, a colour bar, the active-units count in the caption,
// a "sort" toggle (rows by the latest KL) and a read-out under the pointer.

import { colormapLUT } from "../common/color_maps.js";
import { h, setText } from "../common/dom.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { dimOrder, klImage, klMatrix, robustMax } from "./kl_map.js";
import { Panel, imageCanvas, panelFrame, sizeCanvas } from "./panel.js";
import { niceTicks } from "./rd.js";

const CMAP = "viridis";

/** Caption text for the active units: "3 / 8 active" once there are metric rows, else "8 latent dimensions". */
export function activeUnitsText(latentDim, activeUnits, hasRows) {
  const d = latentDim || 0;
  const a = Number(activeUnits);
  const show = d > 0 && hasRows && Number.isFinite(a);
  return { text: show ? `${a} / ${d} active` : d > 0 ? `${d} latent dimensions` : "", collapsed: show && a < d };
}

export class KLPanel extends Panel {
  constructor(host) {
    super();
    this.sort = false;
    this.m = null;
    this.geom = null;
    this.args = null;
    this.activeEl = h("span.vw-active-units");
    this.canvas = h("canvas.vw-kl-canvas");
    this.empty = h("div.vw-panel-empty", {}, "KL per latent dimension appears once training starts");
    this.readout = h("span.vw-chart-readout");
    this.sortBox = h("input.vw-sort-kl", { type: "checkbox", title: "Sort the rows by the latest KL (largest first)" });
    this.box = h("div.vw-kl-heatmap", {}, this.canvas, this.empty);
    this.sortBox.addEventListener("change", () => {
      this.sort = this.sortBox.checked;
      if (this.args) this.update(...this.args);
    });
    this.canvas.addEventListener("mousemove", (e) => this._hover(e));
    this.canvas.addEventListener("mouseleave", () => this._readoutDefault());
    this.mount(
      host,
      panelFrame(
        "vw-panel-kl",
        "KL per latent dimension",
        h("span", {}, "Rows: latent units · colour: nats of information each carries. Dark rows are unused (posterior collapse). ", this.activeEl),
        [this.readout, h("label.vw-toggle", { title: "Sort the rows by the latest KL" }, this.sortBox, "sort")],
        this.box,
      ),
    );
  }

  /**
   * Draw the store's KL rows. `marks`: the parameter changes ([{step}]);
   * `latentDim` / `activeUnits`: the traits (for the caption). false: no width yet.
   */
  update(store, { marks = [], latentDim = 0, activeUnits = null } = {}) {
    this.args = [store, { marks, latentDim, activeUnits }];
    const width = this.box.clientWidth;
    const m = klMatrix(store, Math.max(20, Math.min(400, Math.floor((width || 400) - 100))));
    this.m = m;
    const units = activeUnitsText(Number(latentDim) || store.latentDim || 0, activeUnits, store.length > 0);
    setText(this.activeEl, units.text);
    this.activeEl.classList.toggle("vw-collapsed", units.collapsed);
    this.empty.hidden = m.cols > 0;
    this.canvas.hidden = m.cols === 0;
    if (!m.cols) return true;
    if (!(width > 0)) return false;
    this._draw(m, width, marks || []);
    return true;
  }

  _draw(m, width, marks) {
    const t = this.theme;
    const L = 40, R = 58, T = 4, B = 20;
    const rowH = Math.max(4, Math.min(22, Math.floor(176 / m.dims)));
    const hh = rowH * m.dims;
    const W = width, H = T + hh + B;
    const pw = Math.max(10, W - L - R);
    const ctx = sizeCanvas(this.canvas, W, H);
    if (!ctx) return;
    const vmax = robustMax(m.values);
    const order = dimOrder(m.last, m.dims, this.sort);
    this.geom = { L, T, pw, hh, rowH, order, vmax };
    const img = imageCanvas(klImage(m, order, vmax, CMAP, t.dark ? [60, 60, 60] : [200, 200, 200]), m.cols, m.dims);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(img, 0, 0, m.cols, m.dims, L, T, pw, hh);
    ctx.font = `11px ${t.font}`;
    ctx.fillStyle = t.axis;
    // row labels
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    const every = Math.ceil(11 / rowH);
    order.forEach((d, r) => {
      if (r % every === 0) ctx.fillText(`z${d}`, L - 5, T + r * rowH + rowH / 2);
    });
    // step axis
    ctx.textBaseline = "top";
    ctx.strokeStyle = t.axis;
    const span = m.step1 - m.step0;
    const ticks = span > 0 ? niceTicks(m.step0, m.step1, Math.max(2, Math.floor(pw / 90))) : [m.step0];
    for (const s of ticks) {
      const x = L + (span > 0 ? ((s - m.step0) / span) * pw : pw);
      ctx.textAlign = x < L + 20 ? "left" : x > L + pw - 20 ? "right" : "center";
      ctx.fillText(fmtInt(s), x, T + hh + 5);
      ctx.beginPath();
      ctx.moveTo(Math.round(x) + 0.5, T + hh);
      ctx.lineTo(Math.round(x) + 0.5, T + hh + 3);
      ctx.stroke();
    }
    // parameter changes
    const steps = marks.map((mk) => Number(mk?.step)).filter((s) => s > m.step0 && s <= m.step1);
    ctx.save();
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    for (const s of steps) {
      const x = Math.round(L + ((s - m.step0) / span) * pw) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, T);
      ctx.lineTo(x, T + hh);
      ctx.stroke();
    }
    ctx.restore();
    // colour bar
    const bx = L + pw + 10, bw = 10;
    const grad = ctx.createLinearGradient(0, T + hh, 0, T);
    const stops = 8;
    const lut = colormapLUT(CMAP);
    for (let i = 0; i <= stops; i++) {
      const k = Math.round((255 * i) / stops) * 3;
      grad.addColorStop(i / stops, `rgb(${lut[k]},${lut[k + 1]},${lut[k + 2]})`);
    }
    ctx.fillStyle = grad;
    ctx.fillRect(bx, T, bw, hh);
    ctx.fillStyle = t.axis;
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    ctx.fillText(fmtNum(vmax, 2), bx + bw + 4, T);
    ctx.textBaseline = "bottom";
    ctx.fillText("0", bx + bw + 4, T + hh);
    ctx.textBaseline = "middle";
    if (hh > 40) ctx.fillText("nats", bx + bw + 4, T + hh / 2);
    this._readoutDefault();
  }

  _readoutDefault() {
    const m = this.m;
    setText(this.readout, m && m.cols ? `step ${fmtInt(m.step1)}` : "");
  }

  _hover(e) {
    const m = this.m, g = this.geom;
    if (!m || !g || !m.cols) return;
    const r = this.canvas.getBoundingClientRect();
    const x = e.clientX - r.left - g.L, y = e.clientY - r.top - g.T;
    if (x < 0 || y < 0 || x >= g.pw || y >= g.hh) return this._readoutDefault();
    const c = Math.min(m.cols - 1, Math.floor((x / g.pw) * m.cols));
    const row = Math.min(m.dims - 1, Math.floor(y / g.rowH));
    const d = g.order[row];
    setText(this.readout, `z${d} · step ${fmtInt(m.colStep[c])} · ${fmtNum(m.values[d * m.cols + c], 3)} nats`);
  }
}
