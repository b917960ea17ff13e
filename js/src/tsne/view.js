// One rendered view of a TSNEWidget, composed of panels: the shared point-view
// pieces (PointsView: toolbar, colours and legend, colour-by, search, hover,
// matches and category names on the map), one ScatterPanel, the KL chart
// (kl_panel.js), the scrubber and trails (replay.js), and the quality and
// new-points read-outs (analysis_panels.js). Frames come from the model's
// stream (stream.js) through showFrame().

import { toFloat32 } from "../common/buffers.js";
import { paramField } from "../common/controls.js";
import { h, setText } from "../common/dom.js";
import { pngButton } from "../common/download.js";
import { fmtInt, fmtNum, fmtSeconds, humanize } from "../common/format.js";
import { PointsView } from "../common/points_view.js";
import { ScatterPanel } from "../common/scatter_panel.js";
import { ACTIVE_STATUSES, command } from "../common/schema.js";
import { BUSY } from "../common/toolbar.js";
import { composePositions, extendColors, isClick } from "./analysis.js";
import { NewPointsPanel, QualityPanel } from "./analysis_panels.js";
import { KLPanel } from "./kl_panel.js";
import { PARAMS } from "./params.js";
import { ReplayPanel } from "./replay.js";

const PHASE_TEXT = {
  initial: "initial layout",
  affinities: "affinities",
  early_exaggeration: "early exaggeration",
  main: "main",
};
const SPEC = {
  runTitles: {
    run: "Run t-SNE (or resume when paused)",
    pause: "Pause the optimisation (resume with ▶)",
    stop: "Stop: keep the current embedding and end the run",
  },
  lassoTitle: "Lasso mode: drag to select points (shift+drag lassos in any mode)",
  resetTitle: "Reset the view: fit all points (and follow the data again)",
  hint: "scroll: zoom · drag: pan · shift+drag: lasso · click: focus a point · double-click: clear selection",
  hintLasso: "lasso mode: drag to select · scroll: zoom · double-click: clear selection",
};

export class TSNEView extends PointsView {
  constructor(model, el, stream) {
    super(model, stream, SPEC);
    this.positions = stream.positions || new Float32Array(0);
    this.iteration = model.get("iteration");
    this.phase = model.get("phase");
    this.down = null;
    this.up = null;
    this._build(el);
    this.follow(this.root, [this.scatter.el, this.kl.chartEl]);
    this.scatter.create(this.theme, this.pointSize(this.nPoints()));
    this.kl.create(this.theme);
    this._wire();
    this._syncAll();
    if (this.positions.length) this.showFrame({ positions: this.positions });
  }

  nPoints() {
    return this.model.get("n_points") || this.positions.length / 2;
  }

  // ---------- DOM ----------
  _build(el) {
    const m = this.model;
    this.scatter = new ScatterPanel({
      onHover: (panel, i) => this.hoverPoint(panel, i),
      onSelect: (indices) => this._selectFromScatter(indices),
      onView: (panel) => this.drawOverlay(panel),
      onInteract: () => this.stream.interacting?.(),
    });
    this.panels = [this.scatter];
    this.kl = new KLPanel(m);
    this.replayPanel = new ReplayPanel(this, {
      onChange: () => this._redrawAll(),
      onTrails: () => this.overlays(),
    });
    this.quality = new QualityPanel(m);
    this.newPoints = new NewPointsPanel(m);
    this.pngBtn = pngButton({
      root: () => this.root,
      stem: "tsne",
      prepare: () => this.scatter.scatter.redraw?.(),
      text: [".vw-title", ".vw-chart-title", ".vw-chart-readout", ".vw-legend-title", ".vw-legend-name", ".vw-legend-count", ".vw-colorbar-labels span"],
      swatches: [".vw-swatch", ".vw-colorbar-ramp"],
    });
    this.iterEl = h("span.vw-iteration", { title: "iteration / total (early exaggeration + main)" });
    this.phaseEl = h("span.vw-phase", { hidden: true });
    this.fields = PARAMS.map((spec) => paramField(spec, (name, value) => m.send(command("set", { [name]: value }))));
    this.statsEl = h("div.vw-stats", { hidden: true });
    const vc = this.viewControls;
    this.root = h(
      "div.vw-root.vw-tsne",
      {
        dataset: {
          status: "", phase: "", iteration: "0", frames: String(this.stream.pipe.received), selected: "0", webgl: "",
          quality: "", newPoints: "0", rings: "0", drift: "", focused: "-1", focusDrawn: "0", replay: "", trails: "0",
          matches: "0", marks: "0", labels: "", color: "", hovered: "-1", drawn: "0",
        },
      },
      h("div.vw-header", {}, h("span.vw-title", {}, "t-SNE"), this.run.statusEl, this.infoEl),
      h(
        "div.vw-toolbar",
        {},
        this.run.el,
        h("div.vw-group", {}, vc.lassoBtn, vc.resetBtn, this.pngBtn),
        h("div.vw-group.vw-counters", {}, this.iterEl, this.phaseEl),
        h("div.vw-spacer"),
        this.badge.el,
      ),
      h("div.vw-params", {}, this.fields.map((f) => f.el)),
      this.progress.el,
      this.error.el,
      this.notice.el,
      this.exploreEl,
      h(
        "div.vw-main",
        {},
        h("div.vw-scatter-panel", {}, this.scatter.el, this.replayPanel.el, vc.hintEl),
        h("div.vw-side", {}, this.kl.el, this.quality.el, this.legend.el, this.legend.bar, this.newPoints.el),
      ),
      this.statsEl,
    );
    el.append(this.root);
    this.attach();
  }

  // ---------- wiring ----------
  _wire() {
    const m = this.model;
    this.wireShared();
    this.on(["status", "phase", "iteration", "n_iter_total"], (t) => this._status(t));
    this.on(["n_points"], () => {
      this.scatter.scatter.setPointSize(this.pointSize(m.get("n_points")));
      this.recolor();
    });
    this.on(["selected"], () => {
      if (this.replayPanel.trailsBox.checked) this.replayPanel.askTrails();
    });
    this.on(["kl_history", "marks"], () => this.kl.update());
    for (const f of this.fields) this.on([f.input.dataset.param], () => f.set(m.get(f.input.dataset.param)));
    this.on(["timings"], () => this._stats());
    this.on(["quality"], () => {
      this.root.dataset.quality = this.quality.update();
    });
    this.on(["n_new", "new_embedding", "new_color_values", "drift", "drift_per_point"], () => this._newPoints());
    this.on(["focused"], () => this._focused());
    this.on(["history_iterations"], () => this.replayPanel.update());
    this.on(["matches", "n_matches"], () => {
      this.root.dataset.matches = String(m.get("n_matches") || 0);
    });

    // click (press and release in place) -> focus; see _selectFromScatter
    const el = this.scatter.el;
    this.listen(el, "mousedown", (e) => {
      if (e.button === 0) this.down = { x: e.clientX, y: e.clientY, t: performance.now(), shift: e.shiftKey };
    }, true);
    this.listen(el, "mouseup", (e) => {
      if (e.button === 0) this.up = { x: e.clientX, y: e.clientY, t: performance.now() };
    }, true);
    this.listen(el, "click", () => {
      if (this._clickHandled || this.lassoOn) {
        this._clickHandled = false;
        return;
      }
      if (isClick(this.down, this.up)) this._setFocused(this.scatter.hovered ?? -1);
    });
  }

  _syncAll() {
    const m = this.model;
    this.root.dataset.webgl = this.scatter.scatter.webgl ? "1" : "0";
    this._status();
    this.syncShared();
    this.root.dataset.matches = String(m.get("n_matches") || 0);
    this.kl.update();
    for (const f of this.fields) f.set(m.get(f.input.dataset.param));
    this._stats();
    this.root.dataset.quality = this.quality.update();
    this._newPoints();
    this.replayPanel.update();
  }

  noticeChanged() {
    super.noticeChanged();
    if (this.model.get("notice")) for (const f of this.fields) f.revert();
  }

  // ---------- frames ----------
  /** Called by the model's stream: draw these positions (returns a Promise). */
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
    if (this.replayPanel.replay && item.id !== undefined) this.replayPanel.end(false); // the run moves again
    if (nChanged) {
      this.scatter.scatter.setPointSize(this.pointSize(pos.length / 2));
      this.recolor();
      this.selectionChanged();
    }
    const drawn = this._draw();
    if (item.id === undefined) return drawn;
    return drawn.then(() => {
      this.root.dataset.drawn = String(Number(this.root.dataset.drawn || 0) + 1);
    });
  }

  /** Reference positions (or the replayed frame) plus the new points, to the scatter. */
  _draw() {
    const replay = this.replayPanel.replay;
    const drawn = this.scatter.show(replay ? replay.positions : composePositions(this.positions, this._newPositions()));
    this.scatter.emptyEl.hidden = this.positions.length > 0;
    return drawn;
  }

  _redrawAll() {
    this.recolor();
    this.selectionChanged();
    this._draw().then(() => this.overlays());
  }

  _newPositions() {
    const n = this.model.get("n_new") || 0;
    if (!n || this.positions.length !== 2 * (this.model.get("n_points") || 0)) return null;
    const pos = toFloat32(this.model.get("new_embedding"));
    return pos.length === 2 * n ? pos : null;
  }

  onFrameReceived(count) {
    this.root.dataset.frames = String(count);
    this.root.dataset.held = String(this.stream.frameStats?.held ?? 0);
  }

  // ---------- status ----------
  _status(changed) {
    const m = this.model;
    const st = m.get("status") || "idle";
    const prev = this.root.dataset.status;
    if (changed === "iteration" || changed === undefined) this.iteration = m.get("iteration");
    if (changed === "phase" || changed === undefined) this.phase = m.get("phase");
    this.statusShared(st);
    // A new run starts: follow the data again.
    if (prev && !ACTIVE_STATUSES.has(prev) && BUSY.has(st) && this.scatter.scatter.userCamera) this.scatter.scatter.resetView();
    this._counters();
    this._empty();
    this._stats();
    this.replayPanel.update();
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
    setText(this.scatter.emptyEl, text);
    this.scatter.emptyEl.hidden = this.positions.length > 0;
  }

  _stats() {
    const st = this.model.get("status");
    const timings = this.model.get("timings") || {};
    const parts = Object.entries(timings)
      .filter(([, v]) => Number.isFinite(Number(v)))
      .map(([k, v]) => `${humanize(k)} ${fmtSeconds(Number(v))}`);
    const show = (st === "done" || st === "stopped") && parts.length > 0;
    this.statsEl.hidden = !show;
    if (show) setText(this.statsEl, `${parts.join(" · ")} · ${fmtInt(this.stream.pipe.received)} frames`);
  }

  // ---------- colours: reference points, then the new points ----------
  nColored() {
    return this.positions.length >> 1 || this.model.get("n_points") || 0;
  }

  panelColors(c) {
    const extra = this.replayPanel.replay ? null : this._newPositions();
    if (!extra) return c;
    const codes = toFloat32(this.model.get("new_color_values"));
    const names = this.model.get("color_names") || [];
    const ext = extendColors({ ...this.colors.enc, palette: c.palette }, Array.from(codes, (v) => Math.round(v)), this.theme.axis, names.length);
    return { ...c, codes: ext.codes, palette: ext.palette };
  }

  // ---------- selection, focus ----------
  _selectFromScatter(indices) {
    // A plain click on a point focuses it and keeps the lasso selection.
    if (indices.length === 1 && !this.lassoOn && isClick(this.down, this.up) && performance.now() - this.up.t < 1000) {
      this._clickHandled = true;
      this._setFocused(indices[0]);
      this.scatter.scatter.setSelection(this.selected());
      return;
    }
    this.selectFromPanel(indices);
  }

  _setFocused(i) {
    const total = (this.model.get("n_points") || 0) + (this.replayPanel.replay ? 0 : this.model.get("n_new") || 0);
    const v = Number.isInteger(i) && i >= 0 && i < total ? i : -1;
    if (v !== this.model.get("focused")) this.save("focused", v);
    this._focused();
  }

  _focused() {
    this.root.dataset.focused = String(this.model.get("focused") ?? -1);
    this.overlays();
  }

  // ---------- hover: new points are described here, table rows by PointsView ----------
  hoverPoint(panel, i) {
    const nRef = this.positions.length >> 1;
    if (Number.isInteger(i) && i >= nRef && i < panel.positions.length >> 1) {
      panel.hovered = i;
      panel.showTooltip(i, this._newPointContent(i - nRef, i));
      return;
    }
    super.hoverPoint(panel, i);
  }

  _newPointContent(j, i) {
    const m = this.model;
    const code = Math.round(toFloat32(m.get("new_color_values"))[j]);
    const names = m.get("color_names") || [];
    const drift = toFloat32(m.get("drift_per_point"))[j];
    const parts = [];
    if (code >= 0 && names[code] !== undefined) parts.push(`${m.get("color_title") || "label"}: ${names[code]}`);
    if (Number.isFinite(drift)) parts.push(`drift ${fmtNum(drift, 3)}×`);
    return { title: `new point #${j} (index ${i})`, label: parts.join(" · "), rows: [], image: null };
  }

  // ---------- new points, overlay ----------
  _newPoints() {
    const d = this.model.get("drift");
    this.root.dataset.newPoints = String(this.model.get("n_new") || 0);
    this.root.dataset.drift = d === null || d === undefined ? "" : String(d);
    this.newPoints.update();
    this.recolor();
    this.selectionChanged();
    this._draw();
    this.overlays();
  }

  extraLayers() {
    const replay = this.replayPanel.replay;
    const pos = replay ? replay.positions : this.positions;
    const extra = replay ? null : this._newPositions();
    const f = this.model.get("focused");
    let focused = null;
    const nRef = pos.length >> 1;
    if (Number.isInteger(f) && f >= 0) {
      if (f < nRef) focused = [pos[2 * f], pos[2 * f + 1]];
      else if (extra && 2 * (f - nRef) + 1 < extra.length) focused = [extra[2 * (f - nRef)], extra[2 * (f - nRef) + 1]];
    }
    const t = this.theme;
    return {
      rings: extra,
      ringColor: t.text,
      pointSize: this.pointSize((this.model.get("n_points") || 0) + (this.model.get("n_new") || 0)),
      focused,
      focusColor: t.css.brand || "#1976d2",
      trails: this.replayPanel.trailLines(),
      trailColor: t.text,
    };
  }

  drawOverlay(panel) {
    const stats = super.drawOverlay(panel);
    if (stats) {
      this.root.dataset.rings = String(stats.rings);
      this.root.dataset.focusDrawn = stats.focused ? "1" : "0";
      this.root.dataset.trails = String(stats.trails);
    }
    return stats;
  }

  // ---------- theme, size ----------
  themeChanged(t) {
    this.kl.setTheme(t);
    super.themeChanged(t);
  }

  resized() {
    super.resized();
    this.kl.resized();
  }

  destroy() {
    for (const f of this.fields) f.destroy();
    this.kl.destroy();
    super.destroy();
  }
}
