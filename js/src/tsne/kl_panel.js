// The KL divergence panel of the t-SNE view: the curve (uPlot), its phase band
// and marks (kl_data.js), and a read-out of the hovered or latest value.

import { createLineChart } from "../common/chart.js";
import { h, setText } from "../common/dom.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { buildKLData } from "./kl_data.js";

const CHART_H = 210;

export class KLPanel {
  constructor(model) {
    this.model = model;
    this.chartEl = h("div.vw-chart");
    this.emptyEl = h("div.vw-chart-empty", {}, "KL divergence appears here while t-SNE optimises");
    this.readoutEl = h("span.vw-chart-readout");
    this.el = h(
      "div.vw-chart-panel", {},
      h("div.vw-chart-head", {}, h("span.vw-chart-title", {}, "KL divergence"), this.readoutEl),
      h("div.vw-chart-box", {}, this.chartEl, this.emptyEl),
    );
    this.kl = null;
  }

  create(theme) {
    this.chart = createLineChart(this.chartEl, {
      width: Math.max(200, this.chartEl.clientWidth || 360),
      height: CHART_H,
      xLabel: "iteration",
      yLabel: "",
      theme,
      series: [{ label: "KL", color: (t) => t.css.brand || "#1976d2", width: 1.75 }],
      onCursor: (idx) => this.cursor(idx),
    });
  }

  update() {
    const d = buildKLData(this.model.get("kl_history"), this.model.get("marks"));
    this.kl = d;
    this.chart.setData(d.x, [d.y], { bands: d.bands, marks: d.marks });
    this.emptyEl.hidden = d.x.length > 0;
    this.cursor(null);
  }

  cursor(idx) {
    const d = this.kl;
    if (!d) return;
    if (idx !== null && idx !== undefined && d.x[idx] !== undefined) {
      setText(this.readoutEl, `${fmtNum(d.y[idx], 4)} at iteration ${fmtInt(d.x[idx])}`);
    } else if (d.last) {
      setText(this.readoutEl, `${fmtNum(d.last.kl, 4)} at iteration ${fmtInt(d.last.iteration)}`);
    } else {
      setText(this.readoutEl, "");
    }
  }

  setTheme(t) {
    this.chart.setTheme(t);
  }

  resized() {
    const cw = this.chartEl.clientWidth;
    if (cw > 0) this.chart.setSize(cw, CHART_H);
  }

  destroy() {
    this.chart?.destroy();
  }
}
