// The VAE view's rate-distortion panel: the run's path in the (KL, reconstruction)
// plane (rd.js makes the data), smoothed, older segments fainter, over
// diagonals of equal −ELBO; validation per epoch as rings; start and now marked.
// Hovering a point reads out its step and values.

import { h, setText } from "../common/dom.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { CURVE_COLORS } from "./curves.js";
import { Panel, panelFrame, sizeCanvas } from "./panel.js";
import { niceTicks, rdData } from "./rd.js";

export const RD_H = 210;

/** Index of the row nearest (mx, my) px within 12 px, or -1; `X`, `Y` map values to px. */
export function nearestPoint(d, X, Y, mx, my, radius = 12) {
  let best = -1, bd = radius * radius;
  for (let i = 0; i < d.x.length; i++) {
    const dx = X(d.x[i]) - mx, dy = Y(d.y[i]) - my;
    const dd = dx * dx + dy * dy;
    if (dd < bd) {
      bd = dd;
      best = i;
    }
  }
  return best;
}

export class RDPanel extends Panel {
  constructor(host) {
    super();
    this.d = null;
    this.geom = null;
    this.canvas = h("canvas.vw-rd-canvas");
    this.empty = h("div.vw-panel-empty", {}, "The rate–distortion path appears once training starts");
    this.readout = h("span.vw-chart-readout");
    this.box = h("div.vw-rd", {}, this.canvas, this.empty);
    this.canvas.addEventListener("mousemove", (e) => this._hover(e));
    this.canvas.addEventListener("mouseleave", () => this._readoutDefault());
    this.mount(
      host,
      panelFrame(
        "vw-panel-rd",
        "Rate–distortion",
        "x: rate (KL) · y: distortion (reconstruction), path smoothed. Diagonals: equal −ELBO. Higher β trades distortion for a lower rate.",
        [this.readout],
        this.box,
      ),
    );
  }

  /** Draw the store's rows and the `epoch_metrics` trait's validation terms; false: no width yet. */
  update(store, epochMetrics) {
    const d = rdData(store, epochMetrics);
    this.d = d;
    const width = this.box.clientWidth;
    this.empty.hidden = d.x.length > 0;
    this.canvas.hidden = d.x.length === 0;
    if (!d.x.length) return true;
    if (!(width > 0)) return false;
    this._draw(d, width);
    return true;
  }

  _draw(d, width) {
    const t = this.theme;
    const W = width, H = RD_H;
    const L = 50, R = 12, T = 8, B = 36;
    const pw = W - L - R, ph = H - T - B;
    const ctx = sizeCanvas(this.canvas, W, H);
    if (!ctx) return;
    const { x0, x1, y0, y1 } = d.bounds;
    const X = (v) => L + ((v - x0) / (x1 - x0)) * pw;
    const Y = (v) => T + ph - ((v - y0) / (y1 - y0)) * ph;
    this.geom = { X, Y };
    ctx.font = `11px ${t.font}`;
    ctx.lineWidth = 1;
    // grid and ticks
    ctx.strokeStyle = t.grid;
    ctx.fillStyle = t.axis;
    ctx.textAlign = "center";
    ctx.textBaseline = "top";
    for (const v of niceTicks(x0, x1, Math.max(2, Math.floor(pw / 70)))) {
      const x = Math.round(X(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, T);
      ctx.lineTo(x, T + ph);
      ctx.stroke();
      ctx.fillText(fmtNum(v, 3), x, T + ph + 4);
    }
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const v of niceTicks(y0, y1, Math.max(2, Math.floor(ph / 45)))) {
      const y = Math.round(Y(v)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(L, y);
      ctx.lineTo(L + pw, y);
      ctx.stroke();
      ctx.fillText(fmtNum(v, 3), L - 5, y);
    }
    ctx.textAlign = "center";
    ctx.textBaseline = "bottom";
    ctx.fillText("rate: KL (nats)", L + pw / 2, H - 1);
    ctx.save();
    ctx.translate(11, T + ph / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textBaseline = "middle";
    ctx.fillText("distortion: reconstruction", 0, 0);
    ctx.restore();

    ctx.save();
    ctx.beginPath();
    ctx.rect(L, T, pw, ph);
    ctx.clip();
    // iso -ELBO diagonals: recon + KL = c
    ctx.setLineDash([2, 4]);
    ctx.strokeStyle = t.axis;
    ctx.globalAlpha = 0.55;
    ctx.fillStyle = t.axis;
    ctx.textAlign = "left";
    ctx.textBaseline = "bottom";
    for (const c of niceTicks(x0 + y0, x1 + y1, 5)) {
      ctx.beginPath();
      ctx.moveTo(X(x0), Y(c - x0));
      ctx.lineTo(X(x1), Y(c - x1));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    // raw rows, faint; the smoothed path on top, older segments fainter
    const n = d.x.length;
    ctx.strokeStyle = CURVE_COLORS.elbo(t);
    ctx.lineJoin = "round";
    if (d.window > 1) {
      ctx.globalAlpha = 0.18;
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(X(d.x[0]), Y(d.y[0]));
      for (let i = 1; i < n; i++) ctx.lineTo(X(d.x[i]), Y(d.y[i]));
      ctx.stroke();
    }
    ctx.lineWidth = 1.75;
    const chunks = Math.min(24, Math.max(1, n - 1));
    for (let k = 0; k < chunks; k++) {
      const a = Math.floor((k * (n - 1)) / chunks), b = Math.floor(((k + 1) * (n - 1)) / chunks);
      ctx.globalAlpha = 0.25 + 0.75 * ((k + 1) / chunks);
      ctx.beginPath();
      ctx.moveTo(X(d.sx[a]), Y(d.sy[a]));
      for (let i = a + 1; i <= b; i++) ctx.lineTo(X(d.sx[i]), Y(d.sy[i]));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    // validation per epoch
    ctx.strokeStyle = CURVE_COLORS.val(t);
    ctx.lineWidth = 1.5;
    for (let i = 0; i < d.val.x.length; i++) {
      ctx.beginPath();
      ctx.arc(X(d.val.x[i]), Y(d.val.y[i]), 3.5, 0, 2 * Math.PI);
      ctx.stroke();
    }
    // start and latest
    ctx.fillStyle = t.axis;
    ctx.beginPath();
    ctx.arc(X(d.x[0]), Y(d.y[0]), 3, 0, 2 * Math.PI);
    ctx.fill();
    const lx = X(d.sx[n - 1]), ly = Y(d.sy[n - 1]);
    ctx.fillStyle = "#e15759";
    ctx.strokeStyle = t.css.bg1 || "#fff";
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(lx, ly, 5.5, 0, 2 * Math.PI);
    ctx.fill();
    ctx.stroke();
    ctx.restore();
    // labels outside the clip so they are never cut
    ctx.font = `11px ${t.font}`;
    ctx.fillStyle = t.axis;
    ctx.textBaseline = "bottom";
    ctx.textAlign = X(d.x[0]) > L + pw - 40 ? "right" : "left";
    ctx.fillText("start", X(d.x[0]) + (ctx.textAlign === "left" ? 6 : -6), Y(d.y[0]) - 3);
    ctx.fillStyle = t.text;
    ctx.textAlign = lx > L + pw - 60 ? "right" : "left";
    ctx.fillText("now", lx + (ctx.textAlign === "left" ? 8 : -8), ly - 5);
    this._readoutDefault();
  }

  _readoutDefault() {
    const d = this.d;
    setText(this.readout, d && d.last ? `KL ${fmtNum(d.last.x, 3)} · recon ${fmtNum(d.last.y, 3)}` : "");
  }

  _hover(e) {
    const d = this.d, g = this.geom;
    if (!d || !g || !d.x.length) return;
    const r = this.canvas.getBoundingClientRect();
    const best = nearestPoint(d, g.X, g.Y, e.clientX - r.left, e.clientY - r.top);
    if (best < 0) return this._readoutDefault();
    setText(this.readout, `step ${fmtInt(d.steps[best])} · KL ${fmtNum(d.x[best], 3)} · recon ${fmtNum(d.y[best], 3)}`);
  }
}
