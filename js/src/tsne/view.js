// One rendered view of a TSNEWidget: DOM, scatter, KL chart, controls.
// All per-model data flow (frames, acks) lives in state.js; this file turns
// trait values into DOM and user actions into messages.

import { toFloat32, toUint8 } from "../common/buffers.js";
import { createLineChart } from "../common/chart.js";
import { encodeColors } from "../common/colors.js";
import { banner, iconButton, paramField, progressBar } from "../common/controls.js";
import { h, setText } from "../common/dom.js";
import { pointSizeFor } from "../common/fit.js";
import { fmtInt, fmtNum, fmtSeconds, humanize } from "../common/format.js";
import { Legend } from "../common/legend.js";
import { Canvas2DScatter } from "../common/scatter-2d.js";
import { GLScatter, webglAvailable } from "../common/scatter-gl.js";
import { ACTIVE_STATUSES, PROGRESS_STATUSES, command } from "../common/schema.js";
import { readTheme, watchTheme } from "../common/theme.js";
import { decodeThumbnail, imageGeometry, thumbnailScale } from "../common/thumbnails.js";
import { buildKLData } from "./kldata.js";
import { PARAMS } from "./params.js";

const PHASE_TEXT = {
  initial: "initial layout",
  affinities: "affinities",
  early_exaggeration: "early exaggeration",
  main: "main",
};
const STATUS_TEXT = {
  idle: "ready",
  preparing: "preparing",
  affinities: "affinities",
  running: "running",
  paused: "paused",
  done: "done",
  stopped: "stopped",
  error: "error",
};
const BUSY = new Set(["preparing", "affinities", "running"]);
const HINT = "scroll: zoom · drag: pan · shift+drag: lasso · double-click: clear selection";
const HINT_LASSO = "lasso mode: drag to select · scroll: zoom · double-click: clear selection";

const CHART_H = 210;

export class TSNEView {
  constructor(model, el, shared) {
    this.model = model;
    this.shared = shared;
    this.offs = [];
    this.positions = shared.positions || new Float32Array(0);
    this.iteration = model.get("iteration");
    this.phase = model.get("phase");
    this.enc = null;
    this.thumbCache = new Map();
    this.hovered = null;
    this.destroyed = false;
    this._build(el);
    this.theme = readTheme(this.root);
    this.themeKey = JSON.stringify(this.theme);
    this._createScatter();
    this._createChart();
    this._wire();
    this._syncAll();
    if (this.positions.length) this.showFrame({ positions: this.positions });
  }

  // ---------- DOM ----------
  _build(el) {
    const m = this.model;
    this.runBtn = iconButton("vw-run", "play", "Run", "Run t-SNE (or resume when paused)");
    this.pauseBtn = iconButton("vw-pause", "pause", "Pause", "Pause the optimisation (resume with ▶)");
    this.stopBtn = iconButton("vw-stop", "stop", "Stop", "Stop: keep the current embedding and end the run");
    this.lassoBtn = iconButton("vw-lasso", "lasso", "Lasso", "Lasso mode: drag to select points (shift+drag lassos in any mode)");
    this.lassoBtn.setAttribute("aria-pressed", "false");
    this.resetBtn = iconButton("vw-reset-view", "fit", "Reset view", "Reset the view: fit all points (and follow the data again)");
    this.iterEl = h("span.vw-iteration", { title: "iteration / total (early exaggeration + main)" });
    this.phaseEl = h("span.vw-phase", { hidden: true });
    this.countEl = h("span.vw-selected-count");
    this.clearBtn = h("button.vw-clear-selection", { type: "button", title: "Clear the selection" }, "clear");
    this.selectionEl = h("span.vw-selection", { hidden: true }, this.countEl, this.clearBtn);

    this.fields = PARAMS.map((spec) =>
      paramField(spec, (name, value) => m.send(command("set", { [name]: value }))),
    );
    this.progress = progressBar();
    this.error = banner("vw-error");
    this.notice = banner("vw-notice", { dismissable: true, autoHideMs: 10000 });

    this.statusEl = h("span.vw-status");
    this.infoEl = h("div.vw-info");
    this.emptyEl = h("div.vw-empty", {}, "Press ▶ Run to start");
    this.thumbCanvas = h("canvas.vw-tooltip-thumb");
    this.tipTitle = h("div.vw-tooltip-title");
    this.tipLabel = h("div.vw-tooltip-label");
    this.tooltip = h("div.vw-tooltip", { hidden: true }, this.thumbCanvas, h("div.vw-tooltip-text", {}, this.tipTitle, this.tipLabel));
    this.scatterEl = h("div.vw-scatter", {}, this.emptyEl, this.tooltip);
    this.hintEl = h("div.vw-hint", {}, HINT);

    this.chartEl = h("div.vw-chart");
    this.chartEmpty = h("div.vw-chart-empty", {}, "KL divergence appears here while t-SNE optimises");
    this.readoutEl = h("span.vw-chart-readout");
    this.legend = new Legend({ onPick: (code) => this._pickCategory(code) });
    this.statsEl = h("div.vw-stats", { hidden: true });

    this.root = h(
      "div.vw-root.vw-tsne",
      { dataset: { status: "", phase: "", iteration: "0", frames: String(this.shared.pipe.received), selected: "0", webgl: "" } },
      h("div.vw-header", {}, h("span.vw-title", {}, "t-SNE"), this.statusEl, this.infoEl),
      h(
        "div.vw-toolbar",
        {},
        h("div.vw-group", {}, this.runBtn, this.pauseBtn, this.stopBtn),
        h("div.vw-group", {}, this.lassoBtn, this.resetBtn),
        h("div.vw-group.vw-counters", {}, this.iterEl, this.phaseEl),
        h("div.vw-spacer"),
        this.selectionEl,
      ),
      h("div.vw-params", {}, this.fields.map((f) => f.el)),
      this.progress.el,
      this.error.el,
      this.notice.el,
      h(
        "div.vw-main",
        {},
        h("div.vw-scatter-panel", {}, this.scatterEl, this.hintEl),
        h(
          "div.vw-side",
          {},
          h(
            "div.vw-chart-panel",
            {},
            h("div.vw-chart-head", {}, h("span.vw-chart-title", {}, "KL divergence"), this.readoutEl),
            h("div.vw-chart-box", {}, this.chartEl, this.chartEmpty),
          ),
          this.legend.el,
          this.legend.bar,
        ),
      ),
      this.statsEl,
    );
    el.append(this.root);
  }

  _createScatter() {
    const opts = {
      theme: this.theme,
      pointSize: pointSizeFor(this.model.get("n_points") || this.positions.length / 2),
      onHover: (i) => this._hover(i),
      onSelect: (indices) => this._selectFromScatter(indices),
    };
    const forceCanvas = globalThis.__vaeWidgetsForceCanvas2D === true;
    this.scatter = null;
    if (!forceCanvas && webglAvailable()) {
      try {
        this.scatter = new GLScatter(this.scatterEl, opts);
      } catch (err) {
        console.warn("vae_widgets: WebGL scatter unavailable, using a 2-D canvas", err);
      }
    }
    if (!this.scatter) this.scatter = new Canvas2DScatter(this.scatterEl, opts);
    this.root.dataset.webgl = this.scatter.webgl ? "1" : "0";
  }

  _createChart() {
    const width = Math.max(200, this.chartEl.clientWidth || 360);
    this.chart = createLineChart(this.chartEl, {
      width,
      height: CHART_H,
      xLabel: "iteration",
      yLabel: "",
      theme: this.theme,
      series: [{ label: "KL", color: (t) => t.css.brand || "#1976d2", width: 1.75 }],
      onCursor: (idx) => this._chartCursor(idx),
    });
  }

  // ---------- wiring ----------
  _on(name, fn) {
    const cb = () => {
      if (!this.destroyed) fn();
    };
    this.model.on(`change:${name}`, cb);
    this.offs.push(() => this.model.off(`change:${name}`, cb));
  }

  _wire() {
    const m = this.model;
    for (const t of ["status", "phase", "iteration", "n_iter_total"]) this._on(t, () => this._status(t));
    for (const t of ["progress", "progress_message"]) this._on(t, () => this._progress());
    this._on("error", () => this.error.set(m.get("error")));
    this._on("notice", () => this._notice());
    this._on("info", () => setText(this.infoEl, m.get("info") || ""));
    for (const t of ["color_kind", "color_values", "color_names", "color_title"]) this._on(t, () => this._colors());
    this._on("n_points", () => {
      this.scatter.setPointSize(pointSizeFor(m.get("n_points")));
      this._colors();
    });
    for (const t of ["image_shape", "thumbnails"]) this._on(t, () => this.thumbCache.clear());
    this._on("selected", () => this._selection());
    for (const t of ["kl_history", "marks"]) this._on(t, () => this._chartData());
    for (const f of this.fields) this._on(f.input.dataset.param, () => f.set(m.get(f.input.dataset.param)));
    for (const t of ["timings"]) this._on(t, () => this._stats());

    this.runBtn.addEventListener("click", () => m.send(command(m.get("status") === "paused" ? "resume" : "run")));
    this.pauseBtn.addEventListener("click", () => m.send(command("pause")));
    this.stopBtn.addEventListener("click", () => m.send(command("stop")));
    this.lassoBtn.addEventListener("click", () => {
      const on = this.lassoBtn.getAttribute("aria-pressed") !== "true";
      this.lassoBtn.setAttribute("aria-pressed", String(on));
      this.lassoBtn.classList.toggle("vw-active", on);
      this.scatterEl.classList.toggle("vw-lasso-mode", on);
      this.scatter.setLassoMode(on);
      setText(this.hintEl, on ? HINT_LASSO : HINT);
    });
    this.resetBtn.addEventListener("click", () => this.scatter.resetView());
    this.clearBtn.addEventListener("click", () => this._setSelected([]));

    this.offs.push(watchTheme(() => this._themeChanged()));
    if (typeof ResizeObserver === "function") {
      const ro = new ResizeObserver(() => this._resized());
      ro.observe(this.scatterEl);
      ro.observe(this.chartEl);
      this.offs.push(() => ro.disconnect());
    }
  }

  _syncAll() {
    const m = this.model;
    this._status();
    this._progress();
    this.error.set(m.get("error"));
    if (m.get("notice")) this._notice();
    setText(this.infoEl, m.get("info") || "");
    this._colors();
    this._selection();
    this._chartData();
    for (const f of this.fields) f.set(m.get(f.input.dataset.param));
    this._stats();
  }

  // ---------- frames ----------
  /** Called by the shared pipeline: draw these positions (returns a Promise). */
  showFrame(item) {
    if (this.destroyed) return Promise.resolve();
    const pos = item.positions;
    const nChanged = pos.length !== this.positions.length;
    this.positions = pos;
    if (item.id !== undefined) {
      if (Number.isFinite(item.iteration)) this.iteration = item.iteration;
      if (typeof item.phase === "string") this.phase = item.phase;
      this._counters();
    }
    this.emptyEl.hidden = pos.length > 0;
    if (nChanged) {
      this.scatter.setPointSize(pointSizeFor(pos.length / 2));
      this._colors();
      this._selection();
    }
    const drawn = this.scatter.setPositions(pos);
    // keep an open tooltip on its (moving) point
    if (this.hovered !== null && this.hovered !== undefined) drawn.then(() => this._hover(this.hovered));
    return drawn;
  }

  onFrameReceived(count) {
    this.root.dataset.frames = String(count);
  }

  // ---------- status ----------
  _status(changed) {
    const m = this.model;
    const st = m.get("status") || "idle";
    const prev = this.root.dataset.status;
    if (changed === "iteration" || changed === undefined) this.iteration = m.get("iteration");
    if (changed === "phase" || changed === undefined) this.phase = m.get("phase");
    this.root.dataset.status = st;
    setText(this.statusEl, STATUS_TEXT[st] || st);
    this.statusEl.className = `vw-status vw-status-${st}`;
    this.runBtn.setLabel(st === "paused" ? "Resume" : "Run");
    this.runBtn.disabled = BUSY.has(st);
    this.pauseBtn.disabled = st !== "running" && st !== "affinities";
    this.stopBtn.disabled = !ACTIVE_STATUSES.has(st);
    this.progress.el.hidden = !PROGRESS_STATUSES.has(st);
    // A new run starts: follow the data again.
    if (prev && !ACTIVE_STATUSES.has(prev) && BUSY.has(st) && this.scatter.userCamera) this.scatter.resetView();
    this._counters();
    this._empty();
    this._stats();
  }

  _counters() {
    const it = Number(this.iteration) || 0;
    const total = Number(this.model.get("n_iter_total")) || 0;
    this.root.dataset.iteration = String(it);
    this.root.dataset.phase = this.phase || "";
    setText(this.iterEl, total > 0 ? `iteration ${fmtInt(it)} / ${fmtInt(total)}` : `iteration ${it > 0 ? fmtInt(it) : "–"}`);
    const ph = this.phase || "";
    this.phaseEl.hidden = !ph;
    setText(this.phaseEl, PHASE_TEXT[ph] || humanize(ph));
    this.phaseEl.className = `vw-phase vw-phase-${ph}`;
  }

  _empty() {
    const st = this.model.get("status");
    const text =
      st === "preparing" || st === "affinities"
        ? "Computing affinities…"
        : st === "running"
          ? "Waiting for the first frame…"
          : "Press ▶ Run to start";
    setText(this.emptyEl, text);
    this.emptyEl.hidden = this.positions.length > 0;
  }

  _progress() {
    this.progress.set(this.model.get("progress"), this.model.get("progress_message"));
  }

  _notice() {
    const text = this.model.get("notice") || "";
    this.notice.set(text);
    if (text) for (const f of this.fields) f.revert();
  }

  _stats() {
    const st = this.model.get("status");
    const timings = this.model.get("timings") || {};
    const parts = Object.entries(timings)
      .filter(([, v]) => Number.isFinite(Number(v)))
      .map(([k, v]) => `${humanize(k)} ${fmtSeconds(Number(v))}`);
    const show = (st === "done" || st === "stopped") && parts.length > 0;
    this.statsEl.hidden = !show;
    if (show) setText(this.statsEl, `${parts.join(" · ")} · ${fmtInt(this.shared.pipe.received)} frames`);
  }

  // ---------- colours, legend ----------
  _colors() {
    const m = this.model;
    const n = this.positions.length >> 1 || m.get("n_points") || 0;
    const names = m.get("color_names") || [];
    this.enc = encodeColors({
      kind: m.get("color_kind") || "none",
      values: toFloat32(m.get("color_values")),
      n,
      names,
      base: this.theme.point,
      unknown: this.theme.unknown,
    });
    this.scatter.setColors(this.enc);
    this.legend.update(this.enc, names, m.get("color_title"));
    this._legendActive();
  }

  _pickCategory(code) {
    if (!this.enc || !this.enc.codes) return;
    const idx = [];
    const codes = this.enc.codes;
    for (let i = 0; i < codes.length; i++) if (codes[i] === code) idx.push(i);
    const cur = this.model.get("selected") || [];
    // Clicking the fully selected category again clears the selection.
    const same = cur.length === idx.length && idx.every((v, i) => cur[i] === v);
    this._setSelected(same ? [] : idx);
  }

  _legendActive() {
    if (!this.enc || this.enc.kind !== "categorical") return;
    const sel = this.model.get("selected") || [];
    const active = new Set();
    if (sel.length) {
      const codes = this.enc.codes;
      const counts = new Map();
      for (const i of sel) if (i < codes.length) counts.set(codes[i], (counts.get(codes[i]) || 0) + 1);
      for (const [c, k] of counts) if (k === this.enc.counts[c] && k === sel.length) active.add(c);
    }
    this.legend.markActive(active);
  }

  // ---------- selection ----------
  _selectFromScatter(indices) {
    this._setSelected(indices.slice().sort((a, b) => a - b));
  }

  _setSelected(indices) {
    this.model.set("selected", indices);
    this.model.save_changes();
    this._selection();
  }

  _selection() {
    const sel = (this.model.get("selected") || []).filter((i) => Number.isInteger(i) && i >= 0);
    this.root.dataset.selected = String(sel.length);
    setText(this.countEl, `${fmtInt(sel.length)} selected`);
    this.selectionEl.hidden = sel.length === 0;
    this.scatter.setSelection(sel);
    this._legendActive();
  }

  // ---------- hover tooltip ----------
  _hover(i) {
    if (i === null || i === undefined || i < 0 || i >= this.positions.length >> 1) {
      this.hovered = null;
      this.tooltip.hidden = true;
      return;
    }
    this.hovered = i;
    const p = this.scatter.screenPosition(i);
    if (!p) return;
    setText(this.tipTitle, `#${i}`);
    setText(this.tipLabel, this._labelOf(i));
    this.tipLabel.hidden = !this.tipLabel.textContent;
    this.thumbCanvas.hidden = !this._drawThumb(i);
    this.tooltip.hidden = false;
    const W = this.scatterEl.clientWidth, H = this.scatterEl.clientHeight;
    const tw = this.tooltip.offsetWidth, th = this.tooltip.offsetHeight;
    let x = p[0] + 14, y = p[1] + 14;
    if (x + tw > W - 4) x = p[0] - 14 - tw;
    if (y + th > H - 4) y = p[1] - 14 - th;
    this.tooltip.style.left = `${Math.max(4, x)}px`;
    this.tooltip.style.top = `${Math.max(4, y)}px`;
  }

  _labelOf(i) {
    const m = this.model;
    const enc = this.enc;
    if (!enc || enc.kind === "none") return "";
    const title = m.get("color_title") || (enc.kind === "categorical" ? "label" : "value");
    if (enc.kind === "categorical") {
      const code = enc.codes[i];
      const names = m.get("color_names") || [];
      return `${title}: ${code === enc.unknownCode ? "missing" : (names[code] ?? String(code))}`;
    }
    const v = toFloat32(m.get("color_values"))[i];
    return `${title}: ${fmtNum(v, 4)}`;
  }

  _drawThumb(i) {
    const shape = this.model.get("image_shape") || [];
    const g = imageGeometry(shape);
    if (!g) return false;
    const img = decodeThumbnail(toUint8(this.model.get("thumbnails")), shape, i);
    if (!img) return false;
    const c = this.thumbCanvas;
    c.width = img.width;
    c.height = img.height;
    const scale = thumbnailScale(img.width, img.height, 72);
    c.style.width = `${img.width * scale}px`;
    c.style.height = `${img.height * scale}px`;
    const ctx = c.getContext("2d");
    if (!ctx) return false;
    ctx.putImageData(new ImageData(img.data, img.width, img.height), 0, 0);
    return true;
  }

  // ---------- chart ----------
  _chartData() {
    const d = buildKLData(this.model.get("kl_history"), this.model.get("marks"));
    this.kl = d;
    this.chart.setData(d.x, [d.y], { bands: d.bands, marks: d.marks });
    this.chartEmpty.hidden = d.x.length > 0;
    this._chartCursor(null);
  }

  _chartCursor(idx) {
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

  // ---------- theme, size ----------
  _themeChanged() {
    if (this.destroyed) return;
    const t = readTheme(this.root);
    const key = JSON.stringify(t);
    if (key === this.themeKey) return;
    this.theme = t;
    this.themeKey = key;
    this.scatter.setTheme(t);
    this.chart.setTheme(t);
    this._colors();
  }

  _resized() {
    if (this.destroyed) return;
    // The first layout is also the first moment the host's CSS variables can
    // be read (render() builds the DOM before it is attached).
    this._themeChanged();
    const w = this.scatterEl.clientWidth, hgt = this.scatterEl.clientHeight;
    if (w > 0 && hgt > 0) this.scatter.resize(w, hgt);
    const cw = this.chartEl.clientWidth;
    if (cw > 0) this.chart.setSize(cw, CHART_H);
  }

  destroy() {
    this.destroyed = true;
    for (const off of this.offs) off();
    this.offs = [];
    for (const f of this.fields) f.destroy();
    this.error.destroy();
    this.notice.destroy();
    this.scatter.destroy();
    this.chart.destroy();
    this.root.remove();
  }
}

