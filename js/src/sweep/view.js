// One rendered view of a TSNESweepWidget: toolbar, a grid of panels (one
// scatter each), one legend. Per-model data flow (frames, acks) lives in
// state.js; this file turns traits into DOM and user actions into messages.
//
// All WebGL panels draw through the one shared regl renderer of
// common/scatter-gl.js (a single WebGL context for the page), and the kernel
// caps a sweep at 8 panels; a panel whose WebGL scatter cannot be made falls
// back to the 2-D canvas scatter.

import { toFloat32, toUint8 } from "../common/buffers.js";
import { encodeColors } from "../common/colors.js";
import { banner, iconButton, progressBar } from "../common/controls.js";
import { h, setText } from "../common/dom.js";
import { pointSizeFor } from "../common/fit.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { Legend } from "../common/legend.js";
import { Canvas2DScatter } from "../common/scatter-2d.js";
import { GLScatter, webglAvailable } from "../common/scatter-gl.js";
import { ACTIVE_STATUSES, PROGRESS_STATUSES, command } from "../common/schema.js";
import { readTheme, watchTheme } from "../common/theme.js";
import { decodeThumbnail, imageGeometry, thumbnailScale } from "../common/thumbnails.js";
import { panelText } from "./panels.js";

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
const HINT = "lasso in any panel selects the same points in all · scroll: zoom · drag: pan · shift+drag: lasso · double-click: clear";
const HINT_LASSO = "lasso mode: drag in any panel to select · scroll: zoom · double-click: clear selection";
const SMALL_POINTS = 0.8; // panels are smaller than the single view: smaller points

class Panel {
  constructor(view, k) {
    this.view = view;
    this.k = k;
    this.positions = new Float32Array(0);
    this.hovered = null;
    this.labelEl = h("span.vw-sweep-label");
    this.badgeEl = h("span.vw-sweep-badge", { hidden: true });
    this.progressEl = h("span.vw-sweep-progress");
    this.klEl = h("span.vw-sweep-kl");
    this.emptyEl = h("div.vw-empty", {}, "waiting");
    this.thumbCanvas = h("canvas.vw-tooltip-thumb");
    this.tipTitle = h("div.vw-tooltip-title");
    this.tipLabel = h("div.vw-tooltip-label");
    this.tooltip = h("div.vw-tooltip", { hidden: true }, this.thumbCanvas, h("div.vw-tooltip-text", {}, this.tipTitle, this.tipLabel));
    this.scatterEl = h("div.vw-scatter", {}, this.emptyEl, this.tooltip);
    this.el = h(
      "div.vw-sweep-panel",
      { dataset: { panel: String(k), status: "idle", iteration: "0", drawn: "0", selected: "0", points: "0" } },
      h("div.vw-sweep-head", {}, h("div.vw-sweep-title", {}, this.labelEl, this.badgeEl), h("div.vw-sweep-meta", {}, this.progressEl, this.klEl)),
      this.scatterEl,
    );
  }

  createScatter(theme, pointSize) {
    const opts = {
      theme,
      pointSize,
      onHover: (i) => this.hover(i),
      onSelect: (indices) => this.view.selectFromPanel(indices),
    };
    this.scatter = null;
    if (this.view.useWebGL) {
      try {
        this.scatter = new GLScatter(this.scatterEl, opts);
      } catch (err) {
        console.warn("vae_widgets: WebGL scatter unavailable for a sweep panel, using a 2-D canvas", err);
      }
    }
    if (!this.scatter) this.scatter = new Canvas2DScatter(this.scatterEl, opts);
  }

  show(positions) {
    const pos = positions || new Float32Array(0);
    this.positions = pos;
    this.emptyEl.hidden = pos.length > 0;
    const drawn = this.scatter.setPositions(pos);
    return drawn.then(() => {
      this.el.dataset.drawn = String(Number(this.el.dataset.drawn) + 1);
      this.el.dataset.points = String(pos.length >> 1);
      if (this.hovered !== null) this.hover(this.hovered);
    });
  }

  setText(panel, live) {
    const t = panelText(panel, live);
    setText(this.labelEl, t.label);
    this.badgeEl.hidden = !panel?.reference;
    setText(this.badgeEl, "reference");
    setText(this.progressEl, t.progress);
    setText(this.klEl, [t.kl, panel?.reference ? "" : t.disparity].filter(Boolean).join(" · "));
    this.klEl.title = panel?.reference
      ? "The other panels are rotated, mirrored, scaled and shifted (Procrustes) to match this one."
      : "Procrustes disparity to the reference panel: 0 = the same map up to rotation, mirror and scale; 1 = nothing in common.";
    const st = panel?.status || "idle";
    this.el.dataset.status = st;
    this.el.classList.toggle("vw-sweep-active", BUSY.has(st) || st === "paused");
    this.el.dataset.iteration = String(Number.isFinite(live?.iteration) ? live.iteration : panel?.iteration ?? 0);
    if (!this.positions.length) setText(this.emptyEl, st === "idle" ? (this.view.model.get("status") === "idle" ? "press ▶ Run" : "waiting for its turn") : "computing affinities…");
  }

  hover(i) {
    const n = this.positions.length >> 1;
    if (i === null || i === undefined || i < 0 || i >= n) {
      this.hovered = null;
      this.tooltip.hidden = true;
      return;
    }
    this.hovered = i;
    const p = this.scatter.screenPosition(i);
    if (!p) return;
    setText(this.tipTitle, `#${i}`);
    setText(this.tipLabel, this.view.labelOf(i));
    this.tipLabel.hidden = !this.tipLabel.textContent;
    this.thumbCanvas.hidden = !this.view.drawThumb(this.thumbCanvas, i);
    this.tooltip.hidden = false;
    const W = this.scatterEl.clientWidth, H = this.scatterEl.clientHeight;
    const tw = this.tooltip.offsetWidth, th = this.tooltip.offsetHeight;
    let x = p[0] + 12, y = p[1] + 12;
    if (x + tw > W - 4) x = p[0] - 12 - tw;
    if (y + th > H - 4) y = p[1] - 12 - th;
    this.tooltip.style.left = `${Math.max(4, x)}px`;
    this.tooltip.style.top = `${Math.max(4, y)}px`;
  }

  resized() {
    const w = this.scatterEl.clientWidth, hgt = this.scatterEl.clientHeight;
    if (w > 0 && hgt > 0) this.scatter.resize(w, hgt);
  }

  destroy() {
    this.scatter?.destroy();
  }
}

export class SweepView {
  constructor(model, el, shared) {
    this.model = model;
    this.shared = shared;
    this.offs = [];
    this.enc = null;
    this.destroyed = false;
    this.useWebGL = globalThis.__vaeWidgetsForceCanvas2D !== true && webglAvailable();
    this._build(el);
    this.theme = readTheme(this.root);
    this.themeKey = JSON.stringify(this.theme);
    this._buildPanels();
    this._wire();
    this._syncAll();
    this.showPanels(this.panels.map((p) => p.k));
  }

  // ---------- DOM ----------
  _build(el) {
    this.runBtn = iconButton("vw-run", "play", "Run", "Run every panel, one after another (or resume when paused)");
    this.pauseBtn = iconButton("vw-pause", "pause", "Pause", "Pause the sweep (resume with ▶)");
    this.stopBtn = iconButton("vw-stop", "stop", "Stop", "Stop: keep the panels computed so far and end the sweep");
    this.lassoBtn = iconButton("vw-lasso", "lasso", "Lasso", "Lasso mode: drag in any panel to select points (shift+drag lassos in any mode)");
    this.lassoBtn.setAttribute("aria-pressed", "false");
    this.resetBtn = iconButton("vw-reset-view", "fit", "Reset views", "Reset every panel's view: fit all points");
    this.countEl = h("span.vw-selected-count");
    this.clearBtn = h("button.vw-clear-selection", { type: "button", title: "Clear the selection" }, "clear");
    this.selectionEl = h("span.vw-selection", { hidden: true }, this.countEl, this.clearBtn);
    this.progress = progressBar();
    this.error = banner("vw-error");
    this.notice = banner("vw-notice", { dismissable: true, autoHideMs: 10000 });
    this.statusEl = h("span.vw-status");
    this.infoEl = h("div.vw-info");
    this.gridEl = h("div.vw-sweep-grid");
    this.hintEl = h("div.vw-hint", {}, HINT);
    this.legend = new Legend({ onPick: (code) => this._pickCategory(code) });
    this.root = h(
      "div.vw-root.vw-sweep",
      { dataset: { status: "", frames: String(this.shared.pipe.received), selected: "0", webgl: "", panels: "0" } },
      h("div.vw-header", {}, h("span.vw-title", {}, "t-SNE sweep"), this.statusEl, this.infoEl),
      h(
        "div.vw-toolbar",
        {},
        h("div.vw-group", {}, this.runBtn, this.pauseBtn, this.stopBtn),
        h("div.vw-group", {}, this.lassoBtn, this.resetBtn),
        h("div.vw-spacer"),
        this.selectionEl,
      ),
      this.progress.el,
      this.error.el,
      this.notice.el,
      this.gridEl,
      this.hintEl,
      this.legend.el,
      this.legend.bar,
    );
    el.append(this.root);
  }

  _buildPanels() {
    for (const p of this.panels || []) {
      p.destroy();
      p.el.remove();
    }
    const n = (this.model.get("panels") || []).length;
    const size = SMALL_POINTS * pointSizeFor(this.model.get("n_points") || 0);
    this.panels = [];
    for (let k = 0; k < n; k++) {
      const p = new Panel(this, k);
      this.gridEl.append(p.el);
      p.createScatter(this.theme, size);
      if (this.lassoOn) p.scatter.setLassoMode(true);
      this.panels.push(p);
    }
    this.gridEl.style.setProperty("--vw-sweep-cols", String(Math.min(n, n === 4 ? 2 : 3) || 1));
    this.root.dataset.panels = String(n);
    this.root.dataset.webgl = this.panels.every((p) => p.scatter.webgl) ? "1" : "0";
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
    this._on("status", () => this._status());
    this._on("panels", () => this._panelTexts());
    for (const t of ["progress", "progress_message"]) this._on(t, () => this._progress());
    this._on("error", () => this.error.set(m.get("error")));
    this._on("notice", () => this.notice.set(m.get("notice") || ""));
    this._on("info", () => setText(this.infoEl, m.get("info") || ""));
    for (const t of ["color_kind", "color_values", "color_names", "color_title"]) this._on(t, () => this._colors());
    this._on("selected", () => this._selection());

    this.runBtn.addEventListener("click", () => m.send(command(m.get("status") === "paused" ? "resume" : "run")));
    this.pauseBtn.addEventListener("click", () => m.send(command("pause")));
    this.stopBtn.addEventListener("click", () => m.send(command("stop")));
    this.lassoBtn.addEventListener("click", () => {
      const on = this.lassoBtn.getAttribute("aria-pressed") !== "true";
      this.lassoOn = on;
      this.lassoBtn.setAttribute("aria-pressed", String(on));
      this.lassoBtn.classList.toggle("vw-active", on);
      for (const p of this.panels) {
        p.scatterEl.classList.toggle("vw-lasso-mode", on);
        p.scatter.setLassoMode(on);
      }
      setText(this.hintEl, on ? HINT_LASSO : HINT);
    });
    this.resetBtn.addEventListener("click", () => {
      for (const p of this.panels) p.scatter.resetView();
    });
    this.clearBtn.addEventListener("click", () => this._setSelected([]));

    this.offs.push(watchTheme(() => this._themeChanged()));
    if (typeof ResizeObserver === "function") {
      const ro = new ResizeObserver(() => this._resized());
      for (const p of this.panels) ro.observe(p.scatterEl);
      this.offs.push(() => ro.disconnect());
    }
  }

  _syncAll() {
    const m = this.model;
    this._status();
    this._progress();
    this.error.set(m.get("error"));
    if (m.get("notice")) this.notice.set(m.get("notice"));
    setText(this.infoEl, m.get("info") || "");
    this._colors();
    this._selection();
  }

  // ---------- frames ----------
  /** Called by the shared pipeline: draw these panels' newest positions (returns a Promise). */
  showPanels(indices) {
    if (this.destroyed) return Promise.resolve();
    const draws = [];
    for (const k of indices) {
      const p = this.panels[k];
      if (!p) continue;
      const pos = this.shared.latest[k] || null;
      const nChanged = (pos ? pos.length : 0) !== p.positions.length;
      if (nChanged && pos) {
        p.scatter.setColors(this.enc);
        p.scatter.setSelection(this._selectedList());
      }
      draws.push(p.show(pos));
      p.setText((this.model.get("panels") || [])[k], this.shared.live[k]);
    }
    return Promise.all(draws);
  }

  onFrameReceived(count) {
    this.root.dataset.frames = String(count);
  }

  // ---------- status ----------
  _status() {
    const st = this.model.get("status") || "idle";
    this.root.dataset.status = st;
    setText(this.statusEl, STATUS_TEXT[st] || st);
    this.statusEl.className = `vw-status vw-status-${st}`;
    this.runBtn.setLabel(st === "paused" ? "Resume" : "Run");
    this.runBtn.disabled = BUSY.has(st);
    this.pauseBtn.disabled = st !== "running" && st !== "affinities";
    this.stopBtn.disabled = !ACTIVE_STATUSES.has(st);
    this.progress.el.hidden = !PROGRESS_STATUSES.has(st);
    this._panelTexts();
  }

  _panelTexts() {
    const panels = this.model.get("panels") || [];
    if (panels.length !== this.panels.length) return; // fixed per widget; never expected
    panels.forEach((p, k) => this.panels[k].setText(p, this.shared.live[k]));
  }

  _progress() {
    this.progress.set(this.model.get("progress"), this.model.get("progress_message"));
  }

  // ---------- colours, legend ----------
  _colors() {
    const m = this.model;
    const names = m.get("color_names") || [];
    this.enc = encodeColors({
      kind: m.get("color_kind") || "none",
      values: toFloat32(m.get("color_values")),
      n: m.get("n_points") || 0,
      names,
      base: this.theme.point,
      unknown: this.theme.unknown,
    });
    for (const p of this.panels) p.scatter.setColors(this.enc);
    this.legend.update(this.enc, names, m.get("color_title"));
    this._legendActive();
  }

  labelOf(i) {
    const m = this.model;
    const enc = this.enc;
    if (!enc || enc.kind === "none") return "";
    const title = m.get("color_title") || (enc.kind === "categorical" ? "label" : "value");
    if (enc.kind === "categorical") {
      const code = enc.codes[i];
      const names = m.get("color_names") || [];
      return `${title}: ${code === enc.unknownCode ? "missing" : (names[code] ?? String(code))}`;
    }
    return `${title}: ${fmtNum(toFloat32(m.get("color_values"))[i], 4)}`;
  }

  drawThumb(canvas, i) {
    const shape = this.model.get("image_shape") || [];
    if (!imageGeometry(shape)) return false;
    const img = decodeThumbnail(toUint8(this.model.get("thumbnails")), shape, i);
    if (!img) return false;
    canvas.width = img.width;
    canvas.height = img.height;
    const scale = thumbnailScale(img.width, img.height, 64);
    canvas.style.width = `${img.width * scale}px`;
    canvas.style.height = `${img.height * scale}px`;
    const ctx = canvas.getContext("2d");
    if (!ctx) return false;
    ctx.putImageData(new ImageData(img.data, img.width, img.height), 0, 0);
    return true;
  }

  _pickCategory(code) {
    if (!this.enc || !this.enc.codes) return;
    const idx = [];
    const codes = this.enc.codes;
    for (let i = 0; i < codes.length; i++) if (codes[i] === code) idx.push(i);
    const cur = this._selectedList();
    const same = cur.length === idx.length && idx.every((v, i) => cur[i] === v);
    this._setSelected(same ? [] : idx);
  }

  _legendActive() {
    if (!this.enc || this.enc.kind !== "categorical") return;
    const sel = this._selectedList();
    const active = new Set();
    if (sel.length) {
      const counts = new Map();
      for (const i of sel) if (i < this.enc.codes.length) counts.set(this.enc.codes[i], (counts.get(this.enc.codes[i]) || 0) + 1);
      for (const [c, k] of counts) if (k === this.enc.counts[c] && k === sel.length) active.add(c);
    }
    this.legend.markActive(active);
  }

  // ---------- linked selection ----------
  _selectedList() {
    return (this.model.get("selected") || []).filter((i) => Number.isInteger(i) && i >= 0);
  }

  selectFromPanel(indices) {
    this._setSelected(indices.slice().sort((a, b) => a - b));
  }

  _setSelected(indices) {
    this.model.set("selected", indices);
    this.model.save_changes();
    this._selection();
  }

  _selection() {
    const sel = this._selectedList();
    this.root.dataset.selected = String(sel.length);
    setText(this.countEl, `${fmtInt(sel.length)} selected`);
    this.selectionEl.hidden = sel.length === 0;
    for (const p of this.panels) {
      p.scatter.setSelection(sel);
      p.el.dataset.selected = String(sel.length);
    }
    this._legendActive();
  }

  // ---------- theme, size ----------
  _themeChanged() {
    if (this.destroyed) return;
    const t = readTheme(this.root);
    const key = JSON.stringify(t);
    if (key === this.themeKey) return;
    this.theme = t;
    this.themeKey = key;
    for (const p of this.panels) p.scatter.setTheme(t);
    this._colors();
  }

  _resized() {
    if (this.destroyed) return;
    this._themeChanged(); // the first layout is the first moment host CSS variables can be read
    for (const p of this.panels) p.resized();
  }

  destroy() {
    this.destroyed = true;
    for (const off of this.offs) off();
    this.offs = [];
    this.error.destroy();
    this.notice.destroy();
    for (const p of this.panels) p.destroy();
    this.root.remove();
  }
}
