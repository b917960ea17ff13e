// The VAE view's loss panel: −ELBO, reconstruction and KL per metric row and
// validation −ELBO per epoch on a step axis (a uPlot chart), with a legend
// that shows / hides each series, a log-y toggle and a read-out under the
// cursor. The data come from curves.js's buildCurves.

import { createLineChart } from "../common/chart.js";
import { h, setText } from "../common/dom.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { CURVE_COLORS, buildCurves } from "./curves.js";
import { Panel, panelFrame } from "./panel.js";

export const CURVES_H = 230;

function countValues(arr) {
  let n = 0;
  for (const v of arr || []) if (v !== null && v !== undefined) n++;
  return n;
}

export const SERIES = [
  { key: "elbo", label: "−ELBO (loss)", short: "−ELBO", color: CURVE_COLORS.elbo, width: 2 },
  { key: "recon", label: "reconstruction", short: "recon", color: CURVE_COLORS.recon, width: 1.5 },
  { key: "kl", label: "KL", short: "KL", color: CURVE_COLORS.kl, width: 1.5 },
  // dots per epoch while they are few enough to read, then just the dashed line
  { key: "val", label: "validation −ELBO", short: "val", color: CURVE_COLORS.val, width: 1.5, points: (u, i) => countValues(u.data[i]) <= 60, pointSize: 6, spanGaps: true, dash: [5, 3] },
];

/** The read-out for buildCurves' data `d` at x index `idx` (null: the latest −ELBO). */
export function curvesReadout(d, idx) {
  if (!d) return "";
  if (idx !== null && idx !== undefined && d.x[idx] !== undefined) {
    const parts = [`step ${fmtInt(d.x[idx])}`];
    SERIES.forEach((s, i) => {
      const v = d.series[i][idx];
      if (v !== null && v !== undefined) parts.push(`${s.short} ${fmtNum(v, 4)}`);
    });
    return parts.join(" · ");
  }
  return d.last ? `−ELBO ${fmtNum(d.last.elbo, 4)} at step ${fmtInt(d.last.step)}` : "";
}

export class CurvesPanel extends Panel {
  constructor(host) {
    super();
    this.logY = false;
    this.off = new Set(); // indices of hidden series
    this.chart = null;
    this.data = null;
    this.args = [{}, {}, []];
    this.box = h("div.vw-curves");
    this.empty = h("div.vw-chart-empty", {}, "Press Train to start: the loss curves appear here");
    this.readout = h("span.vw-chart-readout");
    this.logBox = h("input.vw-logy", { type: "checkbox", title: "Logarithmic y axis" });
    this.legend = h("div.vw-series-legend");
    this.legendItems = SERIES.map((s, i) => {
      const sw = h("span.vw-series-swatch");
      const item = h("button.vw-series-item.vw-chip", { type: "button", title: `Show / hide ${s.label}`, dataset: { series: s.key } }, sw, s.label);
      item.addEventListener("click", () => {
        if (this.off.has(i)) this.off.delete(i);
        else this.off.add(i);
        this._applySeriesVisibility();
      });
      this.legend.append(item);
      return { item, sw, s };
    });
    this.logBox.addEventListener("change", () => {
      this.logY = this.logBox.checked;
      this._createChart();
      this.update(...this.args);
    });
    this.mount(
      host,
      panelFrame(
        "vw-panel-curves",
        "Loss",
        "−ELBO = reconstruction + KL, in nats per sample (lower is better). Dots: validation per epoch; a widening gap to the training curve means overfitting.",
        [this.readout, h("label.vw-toggle", { title: "Logarithmic y axis" }, this.logBox, "log y")],
        this.legend,
        h("div.vw-chart-box", {}, this.box, this.empty),
      ),
    );
  }

  /** The chart is made with the first theme; later themes restyle it (uPlot redraws itself). */
  setTheme(theme) {
    this.theme = theme;
    if (!this.chart) this._createChart();
    else {
      this.chart.setTheme(theme);
      this._applySeriesVisibility();
    }
    return false;
  }

  /** store.cols, the `epoch_metrics` trait and the `marks` trait (parameter changes). */
  update(cols, epochMetrics, marks) {
    this.args = [cols, epochMetrics, marks];
    if (!this.chart) return true;
    const d = buildCurves(cols, epochMetrics, marks, { logY: this.logY });
    this.data = d;
    this.chart.setData(d.x, d.series, { marks: d.marks });
    this.empty.hidden = d.x.length > 0;
    this.legendItems[3].item.hidden = !d.hasVal;
    this._cursor(null);
    return true;
  }

  /** The placeholder says whether metrics are on their way (mode "watch": a user's loop feeds them). */
  setStatus(status, mode = "train") {
    const idle = mode === "watch" ? "Run your training loop, calling v.log(...) each step: the loss curves appear here" : "Press Train to start: the loss curves appear here";
    setText(this.empty, status === "running" ? "Waiting for the first metrics…" : idle);
  }

  /** Fit the chart to its box (after the view was resized). */
  resize() {
    const cw = this.box.clientWidth;
    if (cw > 0 && this.chart) this.chart.setSize(cw, CURVES_H);
  }

  _createChart() {
    this.chart?.destroy();
    this.chart = createLineChart(this.box, {
      width: Math.max(240, this.box.clientWidth || 420),
      height: CURVES_H,
      xLabel: "step",
      yLabel: "",
      integerX: true,
      logY: this.logY,
      theme: this.theme,
      series: SERIES,
      onCursor: (idx) => this._cursor(idx),
    });
    this._applySeriesVisibility(false);
  }

  _applySeriesVisibility(redraw = true) {
    this.legendItems.forEach(({ item, sw, s }, i) => {
      const on = !this.off.has(i);
      item.classList.toggle("vw-off", !on);
      item.setAttribute("aria-pressed", String(on));
      sw.style.background = s.color(this.theme);
      if (s.dash) sw.classList.add("vw-dashed");
      this.chart.uplot.setSeries(i + 1, { show: on }, redraw);
    });
  }

  _cursor(idx) {
    if (this.data) setText(this.readout, curvesReadout(this.data, idx));
  }

  destroy() {
    this.chart?.destroy();
    super.destroy();
  }
}
