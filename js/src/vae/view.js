// One rendered view of a VAEWidget: header, toolbar, parameters, alerts and
// the panels (loss curves, KL heatmap, rate-distortion, image grids).
// The metric history lives in state.js (shared by the views of one model);
// this file turns traits into DOM / canvases and clicks into messages.

import { toUint8 } from "../common/buffers.js";
import { createLineChart } from "../common/chart.js";
import { colormapGradient, colormapLUT } from "../common/colormaps.js";
import { banner, iconButton, paramField, selectField, sliderField } from "../common/controls.js";
import { h, icon, ICONS, setText } from "../common/dom.js";
import { pngButton } from "../common/download.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { command } from "../common/schema.js";
import { readTheme, watchTheme } from "../common/theme.js";
import { buildCurves } from "./curves.js";
import { GRID_KINDS, cellScale, decodeGrid, pixelValue } from "./grids.js";
import { dimOrder, klImage, klMatrix, robustMax } from "./klmap.js";
import { MigPanel } from "./mig.js";
import { PARAMS, TEMPERATURE } from "./params.js";
import { niceTicks, rdData } from "./rd.js";
import { SelectionPanel } from "./selection.js";

const STATUS_TEXT = {
  idle: "ready",
  running: "training",
  paused: "paused",
  done: "done",
  stopped: "stopped",
  error: "error",
};
const ACTIVE = new Set(["running", "paused"]);
const KL_CMAP = "viridis";
const CURVES_H = 230;
const RD_H = 210;
const GAP = 2;
const FEATURE_GAP = 6;

const SERIES = [
  { key: "elbo", label: "−ELBO (loss)", color: (t) => (t.dark ? "#7fb2e5" : "#1f5fa8"), width: 2 },
  { key: "recon", label: "reconstruction", color: () => "#f28e2b", width: 1.5 },
  { key: "kl", label: "KL", color: (t) => (t.dark ? "#6fcf68" : "#3b8f34"), width: 1.5 },
  // dots per epoch while they are few enough to read, then just the dashed line
  { key: "val", label: "validation −ELBO", color: (t) => (t.dark ? "#d9a2cf" : "#9a4f8f"), width: 1.5, points: (u, i) => countValues(u.data[i]) <= 60, pointSize: 6, spanGaps: true, dash: [5, 3] },
];

const GRID_TEXT = {
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

function countValues(arr) {
  let n = 0;
  for (const v of arr || []) if (v !== null && v !== undefined) n++;
  return n;
}

const fmtEpoch = (e) => (Number.isFinite(e) ? (Math.abs(e - Math.round(e)) < 0.05 ? String(Math.round(e)) : e.toFixed(1)) : "0");

/** Size a canvas for CSS size w x h at the device pixel ratio; returns its 2-D context (in CSS px). */
function sizeCanvas(canvas, w, hgt) {
  const dpr = (typeof window !== "undefined" && window.devicePixelRatio) || 1;
  const bw = Math.max(1, Math.round(w * dpr)), bh = Math.max(1, Math.round(hgt * dpr));
  if (canvas.width !== bw) canvas.width = bw;
  if (canvas.height !== bh) canvas.height = bh;
  canvas.style.width = `${w}px`;
  canvas.style.height = `${hgt}px`;
  const ctx = canvas.getContext("2d");
  if (!ctx) return null;
  ctx.setTransform(bw / w, 0, 0, bh / hgt, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  return ctx;
}

/** A canvas holding an RGBA image at native resolution (for scaled drawImage). */
function imageCanvas(data, w, hgt) {
  const c = document.createElement("canvas");
  c.width = w;
  c.height = hgt;
  const ctx = c.getContext("2d");
  if (ctx && w > 0 && hgt > 0) ctx.putImageData(new ImageData(data, w, hgt), 0, 0);
  return c;
}

function ellipsize(ctx, text, maxW) {
  if (ctx.measureText(text).width <= maxW) return text;
  let t = text;
  while (t.length > 1 && ctx.measureText(`${t}…`).width > maxW) t = t.slice(0, -1);
  return `${t}…`;
}

export class VAEView {
  constructor(model, el, shared) {
    this.model = model;
    this.shared = shared;
    this.offs = [];
    this.destroyed = false;
    this.gridDraws = 0;
    this.grids = {};
    this.dismissed = new Set();
    this.sortKl = false;
    this.logY = false;
    this.hidden = new Set();
    this.frame = null;
    this.dirty = new Set();
    this.skipped = new Set();
    this.retryTimer = null;
    this.retries = 0;
    this._build(el);
    this.theme = readTheme(this.root);
    this.themeKey = JSON.stringify(this.theme);
    this._createChart();
    this._wire();
    this._syncAll();
  }

  // ---------------------------------------------------------------- DOM
  _build(el) {
    const m = this.model;
    this.runBtn = iconButton("vw-run", "play", "Train", "Train the VAE for the number of epochs set below (or resume when paused)");
    this.pauseBtn = iconButton("vw-pause", "pause", "Pause", "Pause training (Resume continues where it stopped)");
    this.stopBtn = iconButton("vw-stop", "stop", "Stop", "Stop: keep the model as it is now and end this training run");
    this.pngBtn = pngButton({
      root: () => this.root,
      stem: "vae",
      text: [".vw-title", ".vw-panel-title", ".vw-chart-readout", ".vw-series-item", ".vw-grid-readout"],
      swatches: [".vw-series-swatch"],
    });
    this.progressText = h("span.vw-progress-text");
    this.progressFill = h("div.vw-progress-bar-fill");
    this.progressBar = h("div.vw-progress-bar", { attrs: { role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" } }, this.progressFill);

    const send = (name, value) => m.send(command("set", { [name]: value }));
    this.fields = PARAMS.map((spec) => (spec.kind === "select" ? selectField(spec, send) : paramField(spec, send)));
    this.tempField = sliderField(TEMPERATURE, send);
    this.fields.push(this.tempField);

    this.error = banner("vw-error");
    this.notice = banner("vw-notice", { dismissable: true, autoHideMs: 10000 });
    this.alertsEl = h("div.vw-alerts", { attrs: { "aria-live": "polite" } });
    this.statusEl = h("span.vw-status");
    this.infoEl = h("div.vw-info");

    // 1. loss curves
    this.curvesEl = h("div.vw-curves");
    this.curvesEmpty = h("div.vw-chart-empty", {}, "Press Train to start: the loss curves appear here");
    this.curvesReadout = h("span.vw-chart-readout");
    this.logBox = h("input.vw-logy", { type: "checkbox", title: "Logarithmic y axis" });
    this.legendEl = h("div.vw-series-legend");
    this.legendItems = SERIES.map((s, i) => {
      const sw = h("span.vw-series-swatch");
      const item = h("button.vw-series-item", { type: "button", title: `Show / hide ${s.label}`, dataset: { series: s.key } }, sw, s.label);
      item.addEventListener("click", () => {
        if (this.hidden.has(i)) this.hidden.delete(i);
        else this.hidden.add(i);
        this._applySeriesVisibility();
      });
      this.legendEl.append(item);
      return { item, sw, s };
    });
    const curvesPanel = this._panel(
      "vw-panel-curves",
      "Loss",
      "−ELBO = reconstruction + KL, in nats per sample (lower is better). Dots: validation per epoch; a widening gap to the training curve means overfitting.",
      [this.curvesReadout, h("label.vw-toggle", { title: "Logarithmic y axis" }, this.logBox, "log y")],
      this.legendEl,
      h("div.vw-chart-box", {}, this.curvesEl, this.curvesEmpty),
    );

    // 2. KL heatmap
    this.activeEl = h("span.vw-active-units");
    this.klCanvas = h("canvas.vw-kl-canvas");
    this.klEmpty = h("div.vw-panel-empty", {}, "KL per latent dimension appears once training starts");
    this.klReadout = h("span.vw-chart-readout");
    this.sortBox = h("input.vw-sort-kl", { type: "checkbox", title: "Sort the rows by the latest KL (largest first)" });
    this.klEl = h("div.vw-kl-heatmap", {}, this.klCanvas, this.klEmpty);
    const klPanel = this._panel(
      "vw-panel-kl",
      "KL per latent dimension",
      h("span", {}, "Rows: latent units · colour: nats of information each carries. Dark rows are unused (posterior collapse). ", this.activeEl),
      [this.klReadout, h("label.vw-toggle", { title: "Sort the rows by the latest KL" }, this.sortBox, "sort")],
      this.klEl,
    );

    // 3. rate-distortion
    this.rdCanvas = h("canvas.vw-rd-canvas");
    this.rdEmpty = h("div.vw-panel-empty", {}, "The rate–distortion path appears once training starts");
    this.rdReadout = h("span.vw-chart-readout");
    this.rdEl = h("div.vw-rd", {}, this.rdCanvas, this.rdEmpty);
    const rdPanel = this._panel(
      "vw-panel-rd",
      "Rate–distortion",
      "x: rate (KL) · y: distortion (reconstruction), path smoothed. Diagonals: equal −ELBO. Higher β trades distortion for a lower rate.",
      [this.rdReadout],
      this.rdEl,
    );

    // 4. image grids (the traversal says which data row it starts from)
    this.baseEl = h("span.vw-traversal-base", { title: "The data row whose code the traversal starts from: click a point in a linked t-SNE map, or set v.traversal_base" });
    this.gridEls = {};
    const gridPanels = GRID_KINDS.map((kind) => {
      const canvas = h("canvas.vw-grid-canvas");
      const empty = h("div.vw-panel-empty", {}, "Appears once training starts");
      const readout = h("div.vw-grid-readout");
      const legend = h("div.vw-grid-legend", { hidden: true });
      const box = h("div.vw-grid", { dataset: { kind } }, canvas, empty);
      this.gridEls[kind] = { canvas, empty, readout, legend, box, readoutDefault: "" };
      const extra = kind === "samples" ? [this.tempField.el] : kind === "traversal" ? [this.baseEl] : [];
      canvas.addEventListener("mousemove", (e) => this._gridHover(kind, e));
      canvas.addEventListener("mouseleave", () => setText(readout, this.gridEls[kind].readoutDefault));
      return this._panel(`vw-panel-${kind}`, GRID_TEXT[kind].title, GRID_TEXT[kind].caption, extra, box, legend, readout);
    });

    // 5. points selected in a linked t-SNE map (hidden while there are none)
    this.selectionPanel = new SelectionPanel({
      onClear: () => {
        m.set("selection_indices", []);
        m.save_changes();
      },
    });

    // disentanglement against known factors (hidden without factors=)
    this.mig = new MigPanel((...args) => this._panel(...args));

    this.root = h(
      "div.vw-root.vw-vae",
      { dataset: { status: "", step: "0", epoch: "0", metrics: "0", grids: "0", alerts: "0" } },
      h("div.vw-header", {}, h("span.vw-title", {}, "VAE"), this.statusEl, this.infoEl),
      h(
        "div.vw-toolbar",
        {},
        h("div.vw-group", {}, this.runBtn, this.pauseBtn, this.stopBtn),
        h("div.vw-group", {}, this.pngBtn),
        h("div.vw-progress-box", {}, this.progressText, this.progressBar),
      ),
      h("div.vw-params", {}, this.fields.filter((f) => f !== this.tempField).map((f) => f.el)),
      this.error.el,
      this.notice.el,
      this.alertsEl,
      h(
        "div.vw-panels",
        {},
        curvesPanel,
        klPanel,
        rdPanel,
        this.mig.el,
        // two stacks, so a tall traversal does not leave a hole beside the short reconstructions
        h("div.vw-panel-stack", {}, gridPanels[0], gridPanels[1]),
        h("div.vw-panel-stack", {}, gridPanels[2], gridPanels[3]),
        this.selectionPanel.el,
      ),
    );
    el.append(this.root);
  }

  _panel(cls, title, caption, headExtras, ...body) {
    return h(
      `div.vw-panel.${cls}`,
      {},
      h("div.vw-panel-head", {}, h("span.vw-panel-title", {}, title), h("span.vw-spacer"), ...headExtras),
      h("div.vw-caption", {}, caption),
      ...body,
    );
  }

  _createChart() {
    this.chart?.destroy();
    const width = Math.max(240, this.curvesEl.clientWidth || 420);
    this.chart = createLineChart(this.curvesEl, {
      width,
      height: CURVES_H,
      xLabel: "step",
      yLabel: "",
      integerX: true,
      logY: this.logY,
      theme: this.theme,
      series: SERIES,
      onCursor: (idx) => this._curvesCursor(idx),
    });
    this._applySeriesVisibility(false);
  }

  // ---------------------------------------------------------------- wiring
  _on(name, fn) {
    const cb = () => {
      if (!this.destroyed) fn();
    };
    this.model.on(`change:${name}`, cb);
    this.offs.push(() => this.model.off(`change:${name}`, cb));
  }

  _wire() {
    const m = this.model;
    for (const t of ["status", "step", "epoch", "target_epoch", "epochs"]) this._on(t, () => this._status());
    this._on("error", () => this.error.set(m.get("error")));
    this._on("notice", () => this._notice());
    this._on("info", () => setText(this.infoEl, m.get("info") || ""));
    this._on("alerts", () => this._alerts());
    this._on("active_units", () => this._activeUnits());
    this._on("latent_dim", () => this._activeUnits());
    this._on("epoch_metrics", () => this._schedule("curves", "rd"));
    this._on("marks", () => this._schedule("curves", "kl"));
    this._on("grids", () => this._schedule(...GRID_KINDS));
    this._on("disentanglement", () => this._schedule("mig"));
    for (const kind of GRID_KINDS) this._on(`grid_${kind}`, () => this._schedule(kind));
    this._on("selection", () => this._schedule("selection"));
    this._on("grid_selection", () => this._schedule("selection"));
    for (const f of this.fields) this._on(f.input.dataset.param, () => f.set(m.get(f.input.dataset.param)));

    this.runBtn.addEventListener("click", () => m.send(command(m.get("status") === "paused" ? "resume" : "run")));
    this.pauseBtn.addEventListener("click", () => m.send(command("pause")));
    this.stopBtn.addEventListener("click", () => m.send(command("stop")));
    this.logBox.addEventListener("change", () => {
      this.logY = this.logBox.checked;
      this._createChart();
      this._curves();
    });
    this.sortBox.addEventListener("change", () => {
      this.sortKl = this.sortBox.checked;
      this._klHeatmap();
    });
    this.klCanvas.addEventListener("mousemove", (e) => this._klHover(e));
    this.klCanvas.addEventListener("mouseleave", () => this._klReadoutDefault());
    this.rdCanvas.addEventListener("mousemove", (e) => this._rdHover(e));
    this.rdCanvas.addEventListener("mouseleave", () => this._rdReadoutDefault());

    this.offs.push(watchTheme(() => this._themeChanged()));
    if (typeof ResizeObserver === "function") {
      let lastW = -1;
      const ro = new ResizeObserver(() => {
        const w = this.root.clientWidth;
        this._themeChanged();
        if (w > 0 && this.skipped.size) {
          const parts = [...this.skipped];
          this.skipped.clear();
          this.retries = 0;
          this._schedule(...parts);
        }
        if (w === lastW) return;
        lastW = w;
        this._schedule("size", "curves", "kl", "rd", "mig", ...GRID_KINDS, "selection");
      });
      ro.observe(this.root);
      this.offs.push(() => ro.disconnect());
    }
  }

  _syncAll() {
    const m = this.model;
    this._status();
    this.error.set(m.get("error"));
    if (m.get("notice")) this._notice();
    setText(this.infoEl, m.get("info") || "");
    for (const f of this.fields) f.set(m.get(f.input.dataset.param));
    this._alerts();
    this._activeUnits();
    this.onMetrics();
    for (const kind of GRID_KINDS) this._grid(kind);
    this._migPanel();
    this._selection();
  }

  /**
   * A canvas could not be drawn because its box has no width (not attached
   * yet, or the host hides the page while it swaps the theme stylesheet):
   * try again shortly (a bounded number of times; the ResizeObserver also
   * reschedules skipped parts when the box gets a size).
   */
  _retry(part) {
    this.skipped.add(part);
    if (this.retryTimer || this.retries >= 25 || this.destroyed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retries++;
      const parts = [...this.skipped];
      this.skipped.clear();
      this._schedule(...parts);
    }, 200);
  }

  /** Redraw the named parts on the next animation frame (coalesced). */
  _schedule(...parts) {
    for (const p of parts) this.dirty.add(p);
    if (this.frame !== null || this.destroyed) return;
    const run = () => {
      this.frame = null;
      if (this.destroyed) return;
      const parts = [...this.dirty];
      this.dirty.clear();
      if (parts.includes("size")) {
        const cw = this.curvesEl.clientWidth;
        if (cw > 0) this.chart.setSize(cw, CURVES_H);
      }
      for (const p of parts) {
        try {
          if (p === "curves") this._curves();
          else if (p === "kl") this._klHeatmap();
          else if (p === "rd") this._rd();
          else if (p === "mig") this._migPanel();
          else if (GRID_KINDS.includes(p)) this._grid(p);
          else if (p === "selection") this._selection();
        } catch (err) {
          console.error(`vae_widgets: drawing ${p} failed`, err);
        }
      }
      if (!this.skipped.size) this.retries = 0;
    };
    this.frame = typeof requestAnimationFrame === "function" ? requestAnimationFrame(run) : setTimeout(run, 16);
  }

  /** Called by the shared state when the metric history changed. */
  onMetrics() {
    if (this.destroyed) return;
    this.shared.flush();
    this.root.dataset.metrics = String(this.shared.store.length);
    this._curves();
    this._klHeatmap();
    this._rd();
  }

  // ---------------------------------------------------------------- status
  _status() {
    const m = this.model;
    const st = m.get("status") || "idle";
    this.root.dataset.status = st;
    setText(this.statusEl, STATUS_TEXT[st] || st);
    this.statusEl.className = `vw-status vw-status-${st}`;
    this.runBtn.setLabel(st === "paused" ? "Resume" : "Train");
    this.runBtn.title = st === "paused" ? "Resume training" : `Train for ${fmtInt(Number(m.get("epochs")) || 0)} epochs (continues from the current model)`;
    this.runBtn.disabled = st === "running";
    this.pauseBtn.disabled = st !== "running";
    this.stopBtn.disabled = !ACTIVE.has(st);
    const step = Number(m.get("step")) || 0;
    const epoch = Number(m.get("epoch")) || 0;
    const target = Number(m.get("target_epoch")) || 0;
    this.root.dataset.step = String(step);
    this.root.dataset.epoch = String(epoch);
    const shownTarget = target > 0 ? target : epoch + (Number(m.get("epochs")) || 0);
    setText(this.progressText, `epoch ${fmtEpoch(epoch)} / ${fmtEpoch(shownTarget)} · step ${fmtInt(step)}`);
    const f = target > 0 ? Math.max(0, Math.min(1, epoch / target)) : 0;
    this.progressFill.style.width = `${(f * 100).toFixed(1)}%`;
    this.progressBar.setAttribute("aria-valuenow", String(Math.round(f * 100)));
    this.progressBar.classList.toggle("vw-progress-active", st === "running");
    setText(this.curvesEmpty, st === "running" ? "Waiting for the first metrics…" : "Press Train to start: the loss curves appear here");
  }

  _notice() {
    const text = this.model.get("notice") || "";
    this.notice.set(text);
    if (text) for (const f of this.fields) f.revert();
  }

  _activeUnits() {
    const d = Number(this.model.get("latent_dim")) || this.shared.store.latentDim || 0;
    const a = Number(this.model.get("active_units"));
    const show = d > 0 && this.shared.store.length > 0 && Number.isFinite(a);
    setText(this.activeEl, show ? `${a} / ${d} active` : d > 0 ? `${d} latent dimensions` : "");
    this.activeEl.classList.toggle("vw-collapsed", show && a < d);
  }

  // ---------------------------------------------------------------- alerts
  _alerts() {
    const list = Array.isArray(this.model.get("alerts")) ? this.model.get("alerts") : [];
    this.root.dataset.alerts = String(list.length);
    const keyOf = (a) => `${a.kind}|${a.step}|${a.message}`;
    const shown = list
      .map((a, i) => ({ a, i }))
      .filter(({ a }) => a && !this.dismissed.has(keyOf(a)))
      .sort((p, q) => (Number(q.a.step) || 0) - (Number(p.a.step) || 0) || q.i - p.i);
    this.alertsEl.replaceChildren(
      ...shown.map(({ a }) => {
        const kind = String(a.kind || "alert");
        const close = h("button.vw-alert-close", { type: "button", title: "Dismiss (in this view)" }, icon(ICONS.close));
        close.addEventListener("click", () => {
          this.dismissed.add(keyOf(a));
          this._alerts();
        });
        const when = [Number.isFinite(Number(a.epoch)) ? `epoch ${fmtEpoch(Number(a.epoch))}` : "", Number.isFinite(Number(a.step)) ? `step ${fmtInt(Number(a.step))}` : ""]
          .filter(Boolean)
          .join(" · ");
        return h(
          `div.vw-alert.vw-alert-${kind.replace(/[^a-z0-9_-]/gi, "")}`,
          { dataset: { kind }, attrs: { role: kind === "divergence" ? "alert" : "status" } },
          h(
            "div.vw-alert-body",
            {},
            h("div.vw-alert-head", {}, h("span.vw-alert-kind", {}, kind), h("span.vw-alert-message", {}, String(a.message || "")), h("span.vw-alert-when", {}, when)),
            a.fix ? h("div.vw-alert-fix", {}, h("span.vw-alert-fix-label", {}, "Try: "), String(a.fix)) : null,
          ),
          close,
        );
      }),
    );
    this.alertsEl.hidden = shown.length === 0;
  }

  // ---------------------------------------------------------------- curves
  _curves() {
    const d = buildCurves(this.shared.store.cols, this.model.get("epoch_metrics"), this.model.get("marks"), { logY: this.logY });
    this.curves = d;
    this.chart.setData(d.x, d.series, { marks: d.marks });
    this.curvesEmpty.hidden = d.x.length > 0;
    this.legendItems[3].item.hidden = !d.hasVal;
    this._curvesCursor(null);
  }

  _applySeriesVisibility(redraw = true) {
    this.legendItems.forEach(({ item, sw, s }, i) => {
      const on = !this.hidden.has(i);
      item.classList.toggle("vw-off", !on);
      item.setAttribute("aria-pressed", String(on));
      sw.style.background = s.color(this.theme);
      if (s.dash) sw.classList.add("vw-dashed");
      this.chart.uplot.setSeries(i + 1, { show: on }, redraw);
    });
  }

  _curvesCursor(idx) {
    const d = this.curves;
    if (!d) return;
    let text = "";
    if (idx !== null && idx !== undefined && d.x[idx] !== undefined) {
      const parts = [`step ${fmtInt(d.x[idx])}`];
      SERIES.forEach((s, i) => {
        const v = d.series[i][idx];
        if (v !== null && v !== undefined) parts.push(`${i === 0 ? "−ELBO" : i === 3 ? "val" : s.label === "reconstruction" ? "recon" : s.label} ${fmtNum(v, 4)}`);
      });
      text = parts.join(" · ");
    } else if (d.last) {
      text = `−ELBO ${fmtNum(d.last.elbo, 4)} at step ${fmtInt(d.last.step)}`;
    }
    setText(this.curvesReadout, text);
  }

  // ---------------------------------------------------------------- KL heatmap
  _klHeatmap() {
    const store = this.shared.store;
    const width = this.klEl.clientWidth;
    const m = klMatrix(store, Math.max(20, Math.min(400, Math.floor((width || 400) - 100))));
    this.klm = m;
    this._activeUnits();
    this.klEmpty.hidden = m.cols > 0;
    this.klCanvas.hidden = m.cols === 0;
    if (!m.cols) return;
    if (!(width > 0)) return this._retry("kl");
    const t = this.theme;
    const L = 40, R = 58, T = 4, B = 20;
    const rowH = Math.max(4, Math.min(22, Math.floor(176 / m.dims)));
    const hh = rowH * m.dims;
    const W = width, H = T + hh + B;
    const pw = Math.max(10, W - L - R);
    const ctx = sizeCanvas(this.klCanvas, W, H);
    if (!ctx) return;
    const vmax = robustMax(m.values);
    const order = dimOrder(m.last, m.dims, this.sortKl);
    this.klGeom = { L, T, pw, hh, rowH, order, vmax };
    const img = imageCanvas(klImage(m, order, vmax, KL_CMAP, t.dark ? [60, 60, 60] : [200, 200, 200]), m.cols, m.dims);
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
    const marks = (this.model.get("marks") || []).map((mk) => Number(mk?.step)).filter((s) => s > m.step0 && s <= m.step1);
    ctx.save();
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = "rgba(255,255,255,0.85)";
    for (const s of marks) {
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
    const lut = colormapLUT(KL_CMAP);
    for (let i = 0; i <= stops; i++) {
      const k = Math.round((255 * i) / stops) * 3;
      const [r, g, b] = [lut[k], lut[k + 1], lut[k + 2]];
      grad.addColorStop(i / stops, `rgb(${r},${g},${b})`);
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
    this._klReadoutDefault();
  }

  _klReadoutDefault() {
    const m = this.klm;
    setText(this.klReadout, m && m.cols ? `step ${fmtInt(m.step1)}` : "");
  }

  _klHover(e) {
    const m = this.klm, g = this.klGeom;
    if (!m || !g || !m.cols) return;
    const r = this.klCanvas.getBoundingClientRect();
    const x = e.clientX - r.left - g.L, y = e.clientY - r.top - g.T;
    if (x < 0 || y < 0 || x >= g.pw || y >= g.hh) return this._klReadoutDefault();
    const c = Math.min(m.cols - 1, Math.floor((x / g.pw) * m.cols));
    const row = Math.min(m.dims - 1, Math.floor(y / g.rowH));
    const d = g.order[row];
    const v = m.values[d * m.cols + c];
    setText(this.klReadout, `z${d} · step ${fmtInt(m.colStep[c])} · ${fmtNum(v, 3)} nats`);
  }

  // ---------------------------------------------------------------- rate-distortion
  _rd() {
    const d = rdData(this.shared.store, this.model.get("epoch_metrics"));
    this.rdd = d;
    const width = this.rdEl.clientWidth;
    this.rdEmpty.hidden = d.x.length > 0;
    this.rdCanvas.hidden = d.x.length === 0;
    if (!d.x.length) return;
    if (!(width > 0)) return this._retry("rd");
    const t = this.theme;
    const W = width, H = RD_H;
    const L = 50, R = 12, T = 8, B = 36;
    const pw = W - L - R, ph = H - T - B;
    const ctx = sizeCanvas(this.rdCanvas, W, H);
    if (!ctx) return;
    const { x0, x1, y0, y1 } = d.bounds;
    const X = (v) => L + ((v - x0) / (x1 - x0)) * pw;
    const Y = (v) => T + ph - ((v - y0) / (y1 - y0)) * ph;
    this.rdGeom = { X, Y };
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
    const cs = niceTicks(x0 + y0, x1 + y1, 5);
    for (const c of cs) {
      ctx.beginPath();
      ctx.moveTo(X(x0), Y(c - x0));
      ctx.lineTo(X(x1), Y(c - x1));
      ctx.stroke();
    }
    ctx.globalAlpha = 1;
    ctx.setLineDash([]);
    // raw rows, faint; the smoothed path on top, older segments fainter
    const n = d.x.length;
    const color = t.dark ? "#7fb2e5" : "#1f5fa8";
    ctx.strokeStyle = color;
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
    ctx.strokeStyle = SERIES[3].color(t);
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
    this._rdReadoutDefault();
  }

  _rdReadoutDefault() {
    const d = this.rdd;
    setText(this.rdReadout, d && d.last ? `KL ${fmtNum(d.last.x, 3)} · recon ${fmtNum(d.last.y, 3)}` : "");
  }

  _rdHover(e) {
    const d = this.rdd, g = this.rdGeom;
    if (!d || !g || !d.x.length) return;
    const r = this.rdCanvas.getBoundingClientRect();
    const mx = e.clientX - r.left, my = e.clientY - r.top;
    let best = -1, bd = 144;
    for (let i = 0; i < d.x.length; i++) {
      const dx = g.X(d.x[i]) - mx, dy = g.Y(d.y[i]) - my;
      const dd = dx * dx + dy * dy;
      if (dd < bd) {
        bd = dd;
        best = i;
      }
    }
    if (best < 0) return this._rdReadoutDefault();
    setText(this.rdReadout, `step ${fmtInt(d.steps[best])} · KL ${fmtNum(d.x[best], 3)} · recon ${fmtNum(d.y[best], 3)}`);
  }

  // ---------------------------------------------------------------- disentanglement
  _migPanel() {
    if (!this.mig.update(this.model.get("disentanglement"), this.theme)) this._retry("mig");
    this.root.dataset.mig = this.mig.score.dataset.mig;
  }

  // ---------------------------------------------------------------- image grids
  _selection() {
    if (!this.selectionPanel.draw(this.model, this.theme)) this._retry("selection");
  }

  _grid(kind) {
    const els = this.gridEls[kind];
    const meta = (this.model.get("grids") || {})[kind];
    const labels = meta?.labels || {};
    const pixels = toUint8(this.model.get(`grid_${kind}`));
    const g = meta ? decodeGrid(pixels, meta.shape, labels) : null;
    const st = this.model.get("status");
    setText(els.empty, st === "running" ? "Waiting for the first images…" : "Press Train to start");
    els.empty.hidden = !!g;
    els.canvas.hidden = !g;
    const temp = kind === "samples" && Number.isFinite(Number(labels.temperature)) ? ` · T = ${fmtNum(Number(labels.temperature), 3)}` : "";
    els.readoutDefault = g && Number.isFinite(Number(meta.step)) ? `drawn at step ${fmtInt(Number(meta.step))}${temp} · hover for values` : "";
    setText(els.readout, els.readoutDefault);
    if (kind === "traversal") {
      const base = g && Number.isInteger(labels.base) ? labels.base : null;
      setText(this.baseEl, base === null ? "" : `base: row #${base}`);
      els.box.dataset.base = base === null ? "" : String(base);
    }
    if (!g) {
      els.legend.hidden = true;
      this.grids[kind] = null;
      return;
    }
    const width = els.box.clientWidth;
    if (!(width > 0)) return this._retry(kind);
    const t = this.theme;
    const ctx0 = els.canvas.getContext("2d");
    if (!ctx0) return;
    ctx0.font = `11px ${t.font}`;
    const rowCaps = (labels.rows || []).map(String);
    const colCaps = (labels.cols || []).map(String);
    const capW = rowCaps.length ? Math.min(Math.ceil(Math.max(...rowCaps.map((s) => ctx0.measureText(s).width))) + 8, Math.floor(width * 0.35)) : 0;
    const top = colCaps.length ? 16 : 0;
    const gap = g.layout === "features" ? FEATURE_GAP : GAP;
    const sc = cellScale(g, width - capW, { gap });
    const rowGap = kind === "reconstructions" && g.layout === "image" ? GAP * 2 : gap;
    const H = top + g.rows * sc.cellH + (g.rows - 1) * rowGap;
    const CW = capW + g.cols * sc.cellW + (g.cols - 1) * gap;
    const ctx = sizeCanvas(els.canvas, CW, H);
    if (!ctx) return;
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
      colCaps.forEach((s, c) => {
        const lastShown = Math.floor((g.cols - 1) / every) * every;
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
    this.grids[kind] = { g, sc, capW, top, gap, rowGap, labels, pixels, meta };
    this._gridLegend(kind, g, labels);
    this.gridDraws++;
    this.root.dataset.grids = String(this.gridDraws);
  }

  _gridLegend(kind, g, labels) {
    const els = this.gridEls[kind];
    if (g.layout !== "features") {
      els.legend.hidden = true;
      return;
    }
    const [lo, hi] = (labels.value_range || [0, 1]).map(Number);
    const z = labels.scale === "zscore";
    els.legend.hidden = false;
    els.legend.replaceChildren(
      h("span.vw-grid-legend-end", {}, z ? `${fmtNum(lo, 2).replace("-", "−")}σ` : fmtNum(lo, 3)),
      h("span.vw-grid-legend-ramp", { style: { background: colormapGradient(g.colormap) } }),
      h("span.vw-grid-legend-end", {}, z ? `+${fmtNum(hi, 2)}σ` : fmtNum(hi, 3)),
      h("span.vw-grid-legend-note", {}, z ? "per-feature z-score (white = the feature's mean) · one stripe per feature" : "one stripe per feature"),
    );
  }

  _gridHover(kind, e) {
    const s = this.grids[kind];
    const els = this.gridEls[kind];
    if (!s) return;
    const { g, sc, capW, top, gap, rowGap, labels, pixels } = s;
    const r0 = els.canvas.getBoundingClientRect();
    const x = e.clientX - r0.left - capW, y = e.clientY - r0.top - top;
    const c = Math.floor(x / (sc.cellW + gap)), r = Math.floor(y / (sc.cellH + rowGap));
    const cx = x - c * (sc.cellW + gap), cy = y - r * (sc.cellH + rowGap);
    if (x < 0 || y < 0 || c >= g.cols || r >= g.rows || cx >= sc.cellW || cy >= sc.cellH) {
      setText(els.readout, els.readoutDefault);
      return;
    }
    const px = Math.min(g.cellW - 1, Math.floor(cx / sc.sx)), py = Math.min(g.cellH - 1, Math.floor(cy / sc.sy));
    const cell = g.channels * g.cellH * g.cellW;
    const v = pixels[(r * g.cols + c) * cell + py * g.cellW + px];
    const where = [labels.rows?.[r], labels.cols?.[c]].filter((t) => t !== undefined && t !== "").join(" · ");
    let what;
    if (g.layout === "features") {
      const name = labels.feature_names?.[px] ?? `feature ${px}`;
      const val = pixelValue(v, labels);
      what = `${name}: ${labels.scale === "zscore" ? `z = ${val >= 0 ? "+" : ""}${fmtNum(val, 2)}` : fmtNum(val, 3)}`;
    } else {
      what = `pixel (${py}, ${px})${g.channels === 1 ? ` = ${fmtNum(pixelValue(v, labels), 3)}` : ""}`;
    }
    setText(els.readout, `${where} · ${what}`);
  }

  // ---------------------------------------------------------------- theme, teardown
  _themeChanged() {
    if (this.destroyed) return;
    const t = readTheme(this.root);
    const key = JSON.stringify(t);
    if (key === this.themeKey) return;
    this.theme = t;
    this.themeKey = key;
    this.chart.setTheme(t);
    this._applySeriesVisibility();
    this._schedule("kl", "rd", "mig", ...GRID_KINDS, "selection");
  }

  destroy() {
    this.destroyed = true;
    if (this.frame !== null) {
      if (typeof cancelAnimationFrame === "function") cancelAnimationFrame(this.frame);
      clearTimeout(this.frame);
    }
    clearTimeout(this.retryTimer);
    for (const off of this.offs) off();
    this.offs = [];
    for (const f of this.fields) f.destroy();
    this.error.destroy();
    this.notice.destroy();
    this.chart.destroy();
    this.root.remove();
  }
}
