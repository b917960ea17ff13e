// One rendered view of a TSNEWidget: DOM, scatter, KL chart, controls.
// All per-model data flow (frames, acks) lives in state.js; this file turns
// trait values into DOM and user actions into messages.

import { toFloat32, toUint8 } from "../common/buffers.js";
import { createLineChart } from "../common/chart.js";
import { encodeColors } from "../common/colors.js";
import { banner, iconButton, paramField, progressBar } from "../common/controls.js";
import { h, setText } from "../common/dom.js";
import { pngButton } from "../common/download.js";
import { pointSizeFor } from "../common/fit.js";
import { fmtInt, fmtNum, fmtSeconds, humanize } from "../common/format.js";
import { Legend } from "../common/legend.js";
import { Canvas2DScatter } from "../common/scatter-2d.js";
import { GLScatter, webglAvailable } from "../common/scatter-gl.js";
import { ACTIVE_STATUSES, PROGRESS_STATUSES, REPLAY, TRAILS, command } from "../common/schema.js";
import { readTheme, watchTheme } from "../common/theme.js";
import { decodeThumbnail, imageGeometry, thumbnailScale } from "../common/thumbnails.js";
import { composePositions, decodeTrails, driftText, extendColors, isClick, qualityText, scrubText } from "./analysis.js";
import { buildKLData } from "./kldata.js";
import { Overlay } from "./overlay.js";
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
const HINT = "scroll: zoom · drag: pan · shift+drag: lasso · click: focus a point · double-click: clear selection";
const HINT_LASSO = "lasso mode: drag to select · scroll: zoom · double-click: clear selection";
// the scrubber replays kept frames while nothing moves
const SCRUB_STATUSES = new Set(["paused", "done", "stopped"]);
const MAX_TRAILS = 500;
let viewCounter = 0;

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
    this.viewId = `v${++viewCounter}-${Math.random().toString(36).slice(2, 8)}`;
    this.replay = null; // {index, positions} while a kept frame is shown
    this.replayWanted = null; // index to ask for once the answer in flight arrives
    this.replayAsked = false;
    this.trails = null; // {indices, frames, data}
    this.down = null;
    this.up = null;
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
    this.pngBtn = pngButton({
      root: () => this.root,
      stem: "tsne",
      prepare: () => this.scatter.redraw?.(),
      text: [".vw-title", ".vw-chart-title", ".vw-chart-readout", ".vw-legend-title", ".vw-legend-name", ".vw-legend-count", ".vw-colorbar-labels span"],
      swatches: [".vw-swatch", ".vw-colorbar-ramp"],
    });
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

    this.scrub = h("input.vw-scrub", {
      type: "range", min: "0", max: "0", step: "1", value: "0", disabled: true,
      title: "Replay the kept frames of the run (while paused or done)",
      attrs: { "aria-label": "frame of the run to show" },
    });
    this.scrubText = h("span.vw-scrub-text", {}, "replay: after the run or while paused");
    this.liveBtn = h("button.vw-scrub-live", { type: "button", title: "Back to the latest layout", disabled: true }, "latest");
    this.trailsBox = h("input.vw-trails-toggle", { type: "checkbox", title: "Draw the path of each selected point over the kept frames" });
    this.scrubEl = h(
      "div.vw-scrubber", {},
      this.scrub, this.scrubText, this.liveBtn,
      h("label.vw-trails-label", {}, this.trailsBox, "trails"),
    );
    this.qualityTitle = h("div.vw-panel-title");
    this.qualityBody = h("div.vw-quality-body");
    this.qualityEl = h("div.vw-quality", { hidden: true }, this.qualityTitle, this.qualityBody);
    this.newText = h("span.vw-newpoints-text");
    this.driftEl = h("div.vw-drift");
    this.newEl = h(
      "div.vw-newpoints", { hidden: true, title: "Points placed with add_points() on the finished map" },
      h("div.vw-newpoints-entry", {}, h("span.vw-ring-swatch"), this.newText), this.driftEl,
    );

    this.chartEl = h("div.vw-chart");
    this.chartEmpty = h("div.vw-chart-empty", {}, "KL divergence appears here while t-SNE optimises");
    this.readoutEl = h("span.vw-chart-readout");
    this.legend = new Legend({ onPick: (code) => this._pickCategory(code) });
    this.statsEl = h("div.vw-stats", { hidden: true });

    this.root = h(
      "div.vw-root.vw-tsne",
      {
        dataset: {
          status: "", phase: "", iteration: "0", frames: String(this.shared.pipe.received), selected: "0", webgl: "",
          quality: "", newPoints: "0", rings: "0", drift: "", focused: "-1", focusDrawn: "0", replay: "", trails: "0",
        },
      },
      h("div.vw-header", {}, h("span.vw-title", {}, "t-SNE"), this.statusEl, this.infoEl),
      h(
        "div.vw-toolbar",
        {},
        h("div.vw-group", {}, this.runBtn, this.pauseBtn, this.stopBtn),
        h("div.vw-group", {}, this.lassoBtn, this.resetBtn, this.pngBtn),
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
        h("div.vw-scatter-panel", {}, this.scatterEl, this.scrubEl, this.hintEl),
        h(
          "div.vw-side",
          {},
          h(
            "div.vw-chart-panel",
            {},
            h("div.vw-chart-head", {}, h("span.vw-chart-title", {}, "KL divergence"), this.readoutEl),
            h("div.vw-chart-box", {}, this.chartEl, this.chartEmpty),
          ),
          this.qualityEl,
          this.legend.el,
          this.legend.bar,
          this.newEl,
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
      onView: () => this._overlaySoon(),
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
    this.overlay = new Overlay(this.scatterEl);
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
    this._on("quality", () => this._quality());
    for (const t of ["n_new", "new_embedding", "new_color_values", "drift", "drift_per_point"]) this._on(t, () => this._newPoints());
    this._on("focused", () => this._focused());
    this._on("history_iterations", () => this._scrubber());

    const onMsg = (msg, buffers) => this._onMsg(msg, buffers);
    m.on("msg:custom", onMsg);
    this.offs.push(() => m.off("msg:custom", onMsg));
    this.scrub.addEventListener("input", () => this._askReplay(Number(this.scrub.value)));
    this.liveBtn.addEventListener("click", () => this._endReplay());
    this.trailsBox.addEventListener("change", () => this._askTrails());
    // click (press and release in place) -> focus; see _selectFromScatter
    const down = (e) => {
      if (e.button === 0) this.down = { x: e.clientX, y: e.clientY, t: performance.now(), shift: e.shiftKey };
    };
    const up = (e) => {
      if (e.button === 0) this.up = { x: e.clientX, y: e.clientY, t: performance.now() };
    };
    const click = () => {
      if (this._clickHandled || this.lassoBtn.getAttribute("aria-pressed") === "true") {
        this._clickHandled = false;
        return;
      }
      if (isClick(this.down, this.up)) this._setFocused(this.hovered ?? -1);
    };
    this.scatterEl.addEventListener("mousedown", down, true);
    this.scatterEl.addEventListener("mouseup", up, true);
    this.scatterEl.addEventListener("click", click);
    this.offs.push(() => {
      this.scatterEl.removeEventListener("mousedown", down, true);
      this.scatterEl.removeEventListener("mouseup", up, true);
      this.scatterEl.removeEventListener("click", click);
    });

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
    this._quality();
    this._newPoints();
    this._scrubber();
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
    if (this.replay && item.id !== undefined) this._endReplay(false); // the run moves again
    if (nChanged) {
      this.scatter.setPointSize(pointSizeFor(pos.length / 2));
      this._colors();
      this._selection();
    }
    const drawn = this._draw();
    // keep an open tooltip on its (moving) point
    if (this.hovered !== null && this.hovered !== undefined) drawn.then(() => this._hover(this.hovered));
    return drawn;
  }

  /** Reference positions (or the replayed frame) plus the new points, to the scatter. */
  _draw() {
    if (this.replay) return this.scatter.setPositions(this.replay.positions);
    return this.scatter.setPositions(composePositions(this.positions, this._newPositions()));
  }

  _newPositions() {
    const n = this.model.get("n_new") || 0;
    if (!n || this.positions.length !== 2 * (this.model.get("n_points") || 0)) return null;
    const pos = toFloat32(this.model.get("new_embedding"));
    return pos.length === 2 * n ? pos : null;
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
    this._scrubber();
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
    const extra = this.replay ? null : this._newPositions();
    if (extra) {
      const codes = toFloat32(m.get("new_color_values"));
      this.scatter.setColors(extendColors(this.enc, Array.from(codes, (c) => Math.round(c)), this.theme.axis, names.length));
    } else {
      this.scatter.setColors(this.enc);
    }
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
    // A plain click on a point focuses it and keeps the lasso selection.
    const lasso = this.lassoBtn.getAttribute("aria-pressed") === "true";
    if (indices.length === 1 && !lasso && isClick(this.down, this.up) && performance.now() - this.up.t < 1000) {
      this._clickHandled = true;
      this._setFocused(indices[0]);
      this.scatter.setSelection(this.model.get("selected") || []);
      return;
    }
    this._setSelected(indices.slice().sort((a, b) => a - b));
  }

  _setFocused(i) {
    const total = (this.model.get("n_points") || 0) + (this.replay ? 0 : this.model.get("n_new") || 0);
    const v = Number.isInteger(i) && i >= 0 && i < total ? i : -1;
    if (v !== this.model.get("focused")) {
      this.model.set("focused", v);
      this.model.save_changes();
    }
    this._focused();
  }

  _focused() {
    this.root.dataset.focused = String(this.model.get("focused") ?? -1);
    this._drawOverlay();
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
    if (this.trailsBox.checked) this._askTrails();
  }

  // ---------- hover tooltip ----------
  _hover(i) {
    const nRef = this.positions.length >> 1;
    const total = nRef + (this._newPositions() && !this.replay ? this.model.get("n_new") : 0);
    if (i === null || i === undefined || i < 0 || i >= total) {
      this.hovered = null;
      this.tooltip.hidden = true;
      return;
    }
    this.hovered = i;
    const p = this.scatter.screenPosition(i);
    if (!p) return;
    if (i >= nRef) {
      const j = i - nRef;
      const code = Math.round(toFloat32(this.model.get("new_color_values"))[j]);
      const names = this.model.get("color_names") || [];
      const drift = toFloat32(this.model.get("drift_per_point"))[j];
      const parts = [];
      if (code >= 0 && names[code] !== undefined) parts.push(`${this.model.get("color_title") || "label"}: ${names[code]}`);
      if (Number.isFinite(drift)) parts.push(`drift ${fmtNum(drift, 3)}×`);
      setText(this.tipTitle, `new point #${j} (index ${i})`);
      setText(this.tipLabel, parts.join(" · "));
      this.tipLabel.hidden = !parts.length;
      this.thumbCanvas.hidden = true;
    } else {
      setText(this.tipTitle, `#${i}`);
      setText(this.tipLabel, this._labelOf(i));
      this.tipLabel.hidden = !this.tipLabel.textContent;
      this.thumbCanvas.hidden = !this._drawThumb(i);
    }
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

  // ---------- quality, new points ----------
  _quality() {
    const q = qualityText(this.model.get("quality"));
    this.qualityEl.hidden = !q;
    this.root.dataset.quality = q ? String(this.model.get("quality").trustworthiness) : "";
    if (!q) return;
    setText(this.qualityTitle, q.title);
    this.qualityBody.replaceChildren(
      ...q.lines.map(([name, value, help]) =>
        h("div.vw-quality-row", { title: help }, h("span.vw-quality-name", {}, name), h("span.vw-quality-value", {}, value)),
      ),
      h("div.vw-quality-sample", {}, q.sample),
    );
  }

  _newPoints() {
    const n = this.model.get("n_new") || 0;
    const d = this.model.get("drift");
    this.newEl.hidden = n === 0;
    this.root.dataset.newPoints = String(n);
    this.root.dataset.drift = d === null || d === undefined ? "" : String(d);
    setText(this.newText, `new points: ${fmtInt(n)}`);
    setText(this.driftEl, driftText(d));
    this.driftEl.title =
      "mean distance of the new points to their 10 nearest reference points, over the reference points' own mean: ≈1 like the reference, ≫1 off it";
    this._colors();
    this._selection();
    this._draw();
    this._drawOverlay();
  }

  // ---------- overlay: rings, focus, trails ----------
  _overlaySoon() {
    if (this.overlayQueued || this.destroyed) return;
    this.overlayQueued = true;
    const run = () => {
      this.overlayQueued = false;
      this._drawOverlay();
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 16);
  }

  _drawOverlay() {
    if (this.destroyed || !this.overlay || !this.scatter.screenMapper) return;
    const pos = this.replay ? this.replay.positions : this.positions;
    const extra = this.replay ? null : this._newPositions();
    const f = this.model.get("focused");
    let focused = null;
    const nRef = pos.length >> 1;
    if (Number.isInteger(f) && f >= 0) {
      if (f < nRef) focused = [pos[2 * f], pos[2 * f + 1]];
      else if (extra && 2 * (f - nRef) + 1 < extra.length) focused = [extra[2 * (f - nRef)], extra[2 * (f - nRef) + 1]];
    }
    let trails = null;
    if (this.trailsBox.checked && this.trails) {
      const upto = this.replay ? this.replay.index : this.trails.frames - 1;
      trails = decodeTrails(this.trails.data, this.trails.frames, this.trails.indices.length, upto);
    }
    const t = this.theme;
    const stats = this.overlay.draw({
      map: this.scatter.screenMapper(),
      width: this.scatter.width,
      height: this.scatter.height,
      rings: extra,
      ringColor: t.text,
      pointSize: pointSizeFor((this.model.get("n_points") || 0) + (this.model.get("n_new") || 0)),
      focused,
      focusColor: t.css.brand || "#1976d2",
      trails,
      trailColor: t.text,
    });
    this.root.dataset.rings = String(stats.rings);
    this.root.dataset.focusDrawn = stats.focused ? "1" : "0";
    this.root.dataset.trails = String(stats.trails);
  }

  // ---------- replay (scrubber) and trails ----------
  _onMsg(msg, buffers) {
    if (!msg || msg.view !== this.viewId || this.destroyed) return;
    if (msg.type === REPLAY) {
      this.replayAsked = false;
      const positions = toFloat32(buffers?.[0]);
      const its = this.model.get("history_iterations") || [];
      const last = msg.index === its.length - 1 || msg.index === -1;
      if (this.scrubActive()) {
        this.replay = last ? null : { index: msg.index, positions, iteration: msg.iteration };
        this.root.dataset.replay = this.replay ? String(msg.index) : "";
        this.liveBtn.disabled = !this.replay;
        this._colors();
        this._selection();
        this._draw().then(() => this._drawOverlay());
      }
      if (this.replayWanted !== null) {
        const next = this.replayWanted;
        this.replayWanted = null;
        this._askReplay(next);
      }
    } else if (msg.type === TRAILS) {
      this.trails = { indices: msg.indices || [], frames: msg.frames || 0, data: toFloat32(buffers?.[0]) };
      this._drawOverlay();
    }
  }

  scrubActive() {
    const its = this.model.get("history_iterations") || [];
    return SCRUB_STATUSES.has(this.model.get("status")) && its.length > 1;
  }

  _scrubber() {
    const its = this.model.get("history_iterations") || [];
    const on = this.scrubActive();
    this.scrub.disabled = !on;
    this.scrub.max = String(Math.max(0, its.length - 1));
    if (!on && this.replay) this._endReplay(false);
    if (!this.replay) this.scrub.value = this.scrub.max;
    setText(this.scrubText, on ? scrubText(Number(this.scrub.value), its) : "replay: after the run or while paused");
    if (this.trailsBox.checked) this._askTrails();
  }

  _askReplay(index) {
    const its = this.model.get("history_iterations") || [];
    if (!this.scrubActive()) return;
    setText(this.scrubText, scrubText(index, its));
    if (this.replayAsked) {
      this.replayWanted = index; // latest wins
      return;
    }
    this.replayAsked = true;
    this.model.send({ type: REPLAY, view: this.viewId, index });
  }

  _endReplay(redraw = true) {
    this.replay = null;
    this.replayWanted = null;
    this.root.dataset.replay = "";
    this.liveBtn.disabled = true;
    const its = this.model.get("history_iterations") || [];
    this.scrub.value = String(Math.max(0, its.length - 1));
    if (this.scrubActive()) setText(this.scrubText, scrubText(its.length - 1, its));
    if (redraw) {
      this._colors();
      this._selection();
      this._draw().then(() => this._drawOverlay());
    }
  }

  _askTrails() {
    const n = this.model.get("n_points") || 0;
    const sel = (this.model.get("selected") || []).filter((i) => i < n).slice(0, MAX_TRAILS);
    if (!this.trailsBox.checked || !sel.length) {
      this.trails = null;
      this._drawOverlay();
      return;
    }
    this.model.send({ type: TRAILS, view: this.viewId, indices: sel });
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
    this._drawOverlay();
  }

  _resized() {
    if (this.destroyed) return;
    // The first layout is also the first moment the host's CSS variables can
    // be read (render() builds the DOM before it is attached).
    this._themeChanged();
    const w = this.scatterEl.clientWidth, hgt = this.scatterEl.clientHeight;
    if (w > 0 && hgt > 0) this.scatter.resize(w, hgt);
    this._drawOverlay();
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
    this.overlay?.destroy();
    this.chart.destroy();
    this.root.remove();
  }
}

