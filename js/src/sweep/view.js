// One rendered view of a TSNESweepWidget: the shared point-view pieces
// (PointsView: toolbar, colours and legend, colour-by, search, hover, matches
// and category names on every map) and a grid of panels, one ScatterPanel
// each under a two-line title. Frames come from the model's stream
// (stream.js) through showPanels().
//
// All WebGL panels draw through the one shared regl renderer of
// common/scatter_gl.js (a single WebGL context for the page), and the kernel
// caps a sweep at 8 panels; a panel whose WebGL scatter cannot be made falls
// back to the 2-D canvas scatter.

import { h, setText } from "../common/dom.js";
import { PointsView } from "../common/points_view.js";
import { ScatterPanel } from "../common/scatter_panel.js";
import { BUSY } from "../common/toolbar.js";
import { panelText } from "./panels.js";

const SPEC = {
  runTitles: {
    run: "Run every panel, one after another (or resume when paused)",
    pause: "Pause the sweep (resume with ▶)",
    stop: "Stop: keep the panels computed so far and end the sweep",
  },
  lassoTitle: "Lasso mode: drag in any panel to select points (shift+drag lassos in any mode)",
  resetTitle: "Reset every panel's view: fit all points",
  resetLabel: "Reset views",
  hint: "lasso in any panel selects the same points in all · scroll: zoom · drag: pan · shift+drag: lasso · double-click: clear",
  hintLasso: "lasso mode: drag in any panel to select · scroll: zoom · double-click: clear selection",
};
const SMALL_POINTS = 0.8; // panels are smaller than the single view: smaller points

/** The title of one panel (value, reference badge, progress, KL) above its scatter. */
class PanelHead {
  constructor(k, scatter) {
    this.labelEl = h("span.vw-sweep-label");
    this.badgeEl = h("span.vw-sweep-badge", { hidden: true }, "reference");
    this.progressEl = h("span.vw-sweep-progress");
    this.klEl = h("span.vw-sweep-kl");
    this.el = h(
      "div.vw-sweep-panel",
      { dataset: { panel: String(k), status: "idle", iteration: "0", drawn: "0", selected: "0", points: "0" } },
      h("div.vw-sweep-head", {}, h("div.vw-sweep-title", {}, this.labelEl, this.badgeEl), h("div.vw-sweep-meta", {}, this.progressEl, this.klEl)),
      scatter.el,
    );
  }

  update(panel, live, emptyText) {
    const t = panelText(panel, live);
    setText(this.labelEl, t.label);
    this.badgeEl.hidden = !panel?.reference;
    setText(this.progressEl, t.progress);
    setText(this.klEl, [t.kl, panel?.reference ? "" : t.disparity].filter(Boolean).join(" · "));
    this.klEl.title = panel?.reference
      ? "The other panels are rotated, mirrored, scaled and shifted (Procrustes) to match this one."
      : "Procrustes disparity to the reference panel: 0 = the same map up to rotation, mirror and scale; 1 = nothing in common.";
    const st = panel?.status || "idle";
    this.el.dataset.status = st;
    this.el.classList.toggle("vw-sweep-active", BUSY.has(st) || st === "paused");
    this.el.dataset.iteration = String(Number.isFinite(live?.iteration) ? live.iteration : panel?.iteration ?? 0);
    return st === "idle" ? emptyText : "computing affinities…";
  }
}

export class SweepView extends PointsView {
  constructor(model, el, stream) {
    super(model, stream, SPEC);
    this._build(el);
    this.follow(this.root, []);
    this._buildPanels();
    this._wire();
    this.syncShared();
    this._status();
    this.showPanels(this.panels.map((p) => p.k));
  }

  // ---------- DOM ----------
  _build(el) {
    const vc = this.viewControls;
    this.gridEl = h("div.vw-sweep-grid");
    this.root = h(
      "div.vw-root.vw-sweep",
      { dataset: { status: "", frames: String(this.stream.pipe.received), selected: "0", webgl: "", panels: "0", matches: "0", marks: "0", labels: "", color: "" } },
      h("div.vw-header", {}, h("span.vw-title", {}, "t-SNE sweep"), this.run.statusEl, this.infoEl),
      h(
        "div.vw-toolbar",
        {},
        this.run.el,
        h("div.vw-group", {}, vc.lassoBtn, vc.resetBtn),
        h("div.vw-spacer"),
        this.badge.el,
      ),
      this.progress.el,
      this.error.el,
      this.notice.el,
      this.exploreEl,
      this.gridEl,
      vc.hintEl,
      this.legend.el,
      this.legend.bar,
    );
    el.append(this.root);
    this.attach();
  }

  _buildPanels() {
    const n = (this.model.get("panels") || []).length;
    const size = this.pointSize(this.model.get("n_points") || 0);
    this.panels = [];
    this.heads = [];
    for (let k = 0; k < n; k++) {
      const p = new ScatterPanel({
        thumbSize: 64,
        onHover: (panel, i) => this.hoverPoint(panel, i),
        onSelect: (indices) => this.selectFromPanel(indices),
        onView: (panel) => this.drawOverlay(panel),
        onInteract: () => this.stream.interacting?.(),
        onDrawn: (panel) => {
          const head = this.heads[panel.k].el;
          head.dataset.drawn = String(Number(head.dataset.drawn) + 1);
          head.dataset.points = String(panel.positions.length >> 1);
        },
      });
      p.k = k;
      const head = new PanelHead(k, p);
      this.gridEl.append(head.el);
      p.create(this.theme, size);
      this.panels.push(p);
      this.heads.push(head);
    }
    this.gridEl.style.setProperty("--vw-sweep-cols", String(Math.min(n, n === 4 ? 2 : 3) || 1));
    this.root.dataset.panels = String(n);
    this.root.dataset.webgl = this.panels.every((p) => p.scatter.webgl) ? "1" : "0";
    if (typeof ResizeObserver === "function") {
      const ro = new ResizeObserver(() => {
        if (this.destroyed) return;
        this.checkTheme(); // the first layout is the first moment host CSS variables can be read
        this.resized();
      });
      for (const p of this.panels) ro.observe(p.el);
      this.offs.push(() => ro.disconnect());
    }
  }

  pointSize(n) {
    return SMALL_POINTS * super.pointSize(n);
  }

  // ---------- wiring ----------
  _wire() {
    this.wireShared();
    this.on(["status"], () => this._status());
    this.on(["panels"], () => this._panelTexts());
    this.on(["matches", "n_matches"], () => {
      this.root.dataset.matches = String(this.model.get("n_matches") || 0);
    });
  }

  // ---------- frames ----------
  /** Called by the model's stream: draw these panels' newest positions (returns a Promise). */
  showPanels(indices) {
    if (this.destroyed) return Promise.resolve();
    const draws = [];
    const grown = indices.some((k) => this.panels[k] && this.stream.latest[k] && !this.panels[k].positions.length);
    if (grown) this.recolor(); // colours and filter for the first frame of a panel
    for (const k of indices) {
      const p = this.panels[k];
      if (!p) continue;
      const pos = this.stream.latest[k] || null;
      if (pos && !p.positions.length) p.scatter.setSelection(this.selected());
      draws.push(p.show(pos));
      this._panelText(k);
    }
    return Promise.all(draws);
  }

  onFrameReceived(count) {
    this.root.dataset.frames = String(count);
  }

  // ---------- status ----------
  _status() {
    this.statusShared(this.model.get("status") || "idle");
    this._panelTexts();
  }

  _panelTexts() {
    const panels = this.model.get("panels") || [];
    if (panels.length !== this.panels.length) return; // fixed per widget; never expected
    panels.forEach((_, k) => this._panelText(k));
  }

  _panelText(k) {
    const panel = (this.model.get("panels") || [])[k];
    const idle = this.model.get("status") === "idle" ? "press ▶ Run" : "waiting for its turn";
    const empty = this.heads[k].update(panel, this.stream.live[k], idle);
    if (!this.panels[k].positions.length) setText(this.panels[k].emptyEl, empty);
  }
}
