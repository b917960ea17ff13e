// What the t-SNE view and the sweep view share, as one base class over
// ViewBase: the toolbar pieces (run controls, lasso / reset, selection count),
// progress and banners, the colours and legend (PointColors), the colour-by
// menu, the search box, the hover (text from the kernel or shipped, thumbnails)
// and the overlay layers every scatter gets (search matches, category names).
//
// A subclass builds its layout from these pieces, creates its ScatterPanels in
// this.panels, and calls wireShared() and syncShared(). Hooks it may override:
// nColored() (points coloured), panelColors(c) (extra points), hoverContent(i),
// extraLayers(panel) (its own overlay layers), statusChanged(st).

import { banner, progressBar } from "./controls.js";
import { h, setText } from "./dom.js";
import { pointSizeFor } from "./fit.js";
import { ColorBy } from "./color_by.js";
import { HoverText } from "./hover.js";
import { COLOR_TRAITS, PointColors } from "./point_colors.js";
import { PROGRESS_STATUSES } from "./schema.js";
import { SearchBox } from "./search.js";
import { RunControls, SelectionBadge, ViewControls } from "./toolbar.js";
import { ViewBase } from "./view_base.js";

export class PointsView extends ViewBase {
  /**
   * spec: {runTitles: {run, pause, stop}, lassoTitle, resetTitle, resetLabel, hint, hintLasso}
   */
  constructor(model, stream, spec) {
    super(model);
    this.stream = stream;
    this.panels = [];
    this.run = new RunControls(this, spec.runTitles);
    this.viewControls = new ViewControls(this, {
      ...spec,
      onLasso: (on) => {
        for (const p of this.panels) {
          p.el.classList.toggle("vw-lasso-mode", on);
          p.scatter.setLassoMode(on);
        }
      },
      onReset: () => {
        for (const p of this.panels) p.scatter.resetView();
      },
    });
    this.badge = new SelectionBadge(this, () => this.setSelected([]));
    this.progress = progressBar();
    this.error = banner("vw-error");
    this.notice = banner("vw-notice", { dismissable: true, autoHideMs: 10000 });
    this.infoEl = h("div.vw-info");
    this.colors = new PointColors(this, { onSelect: (idx) => this.setSelected(idx) });
    this.legend = this.colors.legend;
    this.colorBy = new ColorBy(this);
    this.search = new SearchBox(this, { onSelect: (idx) => this.setSelected(idx), onMatches: () => this.overlays() });
    this.hover = new HoverText(this, { onReady: (i) => this.refreshHover(i) });
    this.exploreEl = h("div.vw-explore", {}, this.colorBy.el, this.search.el);
  }

  get lassoOn() {
    return this.viewControls.lassoOn;
  }

  // ---------- wiring ----------
  wireShared() {
    const m = this.model;
    this.on(["progress", "progress_message"], () => this.progress.set(m.get("progress"), m.get("progress_message")));
    this.on(["error"], () => this.error.set(m.get("error")));
    this.on(["notice"], () => this.noticeChanged());
    this.on(["info"], () => setText(this.infoEl, m.get("info") || ""));
    this.on(COLOR_TRAITS, () => this.recolor());
    this.on(["selected"], () => this.selectionChanged());
    this.on(["show_labels"], () => this.overlays());
  }

  syncShared() {
    const m = this.model;
    this.progress.set(m.get("progress"), m.get("progress_message"));
    this.error.set(m.get("error"));
    if (m.get("notice")) this.noticeChanged();
    setText(this.infoEl, m.get("info") || "");
    this.recolor();
    this.selectionChanged();
  }

  noticeChanged() {
    this.notice.set(this.model.get("notice") || "");
  }

  /** Keep a handle on the view on its root element (for tests and benchmarks in a real page). */
  attach() {
    this.root.__vw = this;
  }

  /** Status shared by both views: run controls, progress bar, root data attribute. */
  statusShared(st) {
    this.root.dataset.status = st;
    this.run.update(st);
    this.progress.el.hidden = !PROGRESS_STATUSES.has(st);
  }

  // ---------- colours ----------
  nColored() {
    return this.model.get("n_points") || 0;
  }

  panelColors(c) {
    return c;
  }

  recolor() {
    if (this.destroyed || !this.theme) return;
    const c = this.colors.compute(this.nColored(), this.theme);
    const colors = this.panelColors(c);
    for (const p of this.panels) {
      p.scatter.setFilter?.(c.filter); // first: the redraw setColors starts reads it
      p.scatter.setColors(colors);
    }
    const m = this.model;
    Object.assign(this.root.dataset, {
      color: m.get("color") || "",
      emphasized: String((m.get("emphasized") || []).length),
      hiddenCategories: String((m.get("hidden") || []).length),
      shown: String(c.filter ? c.filter.length : this.nColored()),
    });
    this.colors.mark(this.selected());
    this.overlays();
  }

  pointSize(n) {
    return pointSizeFor(n);
  }

  // ---------- selection ----------
  selected() {
    return (this.model.get("selected") || []).filter((i) => Number.isInteger(i) && i >= 0);
  }

  setSelected(indices) {
    this.save("selected", indices);
    this.selectionChanged();
  }

  selectFromPanel(indices) {
    // hidden categories are neither drawn nor lassoed (the 2-D canvas fallback draws no filter)
    this.setSelected(indices.filter((i) => this.colors.visible(i)).sort((a, b) => a - b));
  }

  selectionChanged() {
    const sel = this.selected();
    this.root.dataset.selected = String(sel.length);
    this.badge.update(sel.length);
    for (const p of this.panels) {
      p.scatter.setSelection(sel);
      p.el.closest("[data-panel]")?.setAttribute("data-selected", String(sel.length));
    }
    this.colors.mark(sel);
  }

  // ---------- hover ----------
  hoverPoint(panel, i) {
    const n = panel.positions.length >> 1;
    if (i === null || i === undefined || i < 0 || i >= n || !this.colors.visible(i)) {
      panel.hideTooltip();
      return;
    }
    panel.hovered = i;
    panel.showTooltip(i, this.hoverContent(i));
    this.root.dataset.hovered = String(i);
    this.root.dataset.hoverFetches = String(this.hover.requests);
  }

  /** Title "#i", the colour column as the label line ("segment: retail"), the other hover columns as rows. */
  hoverContent(i) {
    const t = this.hover.get(i);
    let rows = t.rows;
    let label = "";
    const title = this.model.get("color_title");
    if (rows.length && title && rows[0][0] === title) {
      label = `${title}: ${rows[0][1] ?? "missing"}`;
      rows = rows.slice(1);
    } else if (!t.pending) {
      label = this.colors.labelOf(i);
    }
    return { title: `#${i}`, label, rows, image: t.image, pending: t.pending };
  }

  refreshHover(i) {
    for (const p of this.panels) if (p.hovered === i) this.hoverPoint(p, i);
  }

  // ---------- overlay ----------
  overlays() {
    for (const p of this.panels) p.overlaySoon();
  }

  /** The layers every scatter gets: search matches and category names. */
  sharedLayers(panel) {
    const t = this.theme;
    const enc = this.colors.enc;
    let labels = null;
    if (this.model.get("show_labels") && enc && enc.kind === "categorical") {
      // hidden, "other" and missing get no name; with an emphasis, only the emphasised do
      const skip = new Set(this.colors.hidden);
      if (enc.other >= 0) skip.add(enc.other);
      skip.add(enc.unknownCode);
      if (this.colors.emphasized.size) for (let c = 0; c < enc.k; c++) if (!this.colors.emphasized.has(c)) skip.add(c);
      labels = { anchors: panel.anchors(enc.codes, enc.k, skip), names: this.colors.names() };
    }
    const q = (this.model.get("query") || "").trim();
    return {
      marks: q ? panel.marks(this.search.matches()) : null,
      markColor: t.dark ? "#ffd54f" : "#d81b60",
      labels,
      labelColor: t.text,
      haloColor: `rgb(${t.bg.join(",")})`,
      pointSize: this.pointSize(this.nColored()),
    };
  }

  extraLayers() {
    return {};
  }

  drawOverlay(panel) {
    const stats = panel.drawOverlay({ ...this.sharedLayers(panel), ...this.extraLayers(panel) });
    if (stats && panel === this.panels[0]) {
      this.root.dataset.marks = String(stats.marks);
      this.root.dataset.labels = stats.labels.join("|");
    }
    return stats;
  }

  // ---------- theme, size ----------
  themeChanged(t) {
    for (const p of this.panels) p.scatter.setTheme(t);
    this.recolor();
  }

  resized() {
    for (const p of this.panels) p.resized();
  }

  destroy() {
    super.destroy();
    this.error.destroy();
    this.notice.destroy();
    for (const p of this.panels) p.destroy();
    this.root?.remove();
  }
}
