// One rendered view of an AnomalyWidget: header, threshold controls, metrics,
// the score histogram (drag the line to move the threshold) and the gallery of
// flagged samples. The kernel owns the decision (`selected`, `metrics`, the
// gallery); while a drag is under way the read-out is counted here so it
// follows the pointer, and the threshold is sent at most every DRAG_SEND_MS.

import { toFloat32, toUint8 } from "../common/buffers.js";
import { h, setText } from "../common/dom.js";
import { fmtInt, fmtNum } from "../common/format.js";
import { sizeCanvas } from "../common/canvas.js";
import { ViewBase } from "../common/view_base.js";
import { cellCount } from "./gallery.js";
import { galleryTiles } from "./gallery_tiles.js";
import { binScores, clampThreshold, countAbove, keyStep, scoreScale } from "./histogram.js";
import { drawHistogram } from "./histogram_plot.js";

const HIST_H = 220;
const PAD = { left: 46, right: 14, top: 14, bottom: 34 };
const DRAG_SEND_MS = 120;
const HIT_TOLERANCE_PX = 8;
const ORDER_TEXT = {
  highest: "highest score first",
  threshold: "nearest the threshold first (borderline cases)",
};

const fmtPct = (v) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : `${(100 * v).toFixed(1)} %`);
const fmtRate = (v) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(3));

export class AnomalyView extends ViewBase {
  constructor(model, el) {
    super(model);
    this.draws = 0;
    this.dragging = false;
    this.local = null; // threshold shown while dragging (kernel echoes are ignored meanwhile)
    this.lastSend = 0;
    this.sendTimer = null;
    this.frame = null;
    this.skipped = false;
    this.retryTimer = null;
    this.retries = 0;
    this.lastWidth = -1;
    this._build(el);
    this.follow(this.root, [this.root]); // the host theme and this view's width (resized)
    this._wire();
    this._data();
    this._metrics();
    this._gallery();
    this._threshold();
  }

  // ---------------------------------------------------------------- DOM
  _build(el) {
    this.infoEl = h("div.vw-info");
    this.thresholdInput = h("input.vw-param.vw-an-threshold", {
      type: "text",
      spellcheck: false,
      autocomplete: "off",
      title: "Samples with a score above this are flagged. Type a number and press Enter, or drag the line in the histogram.",
      attrs: { inputmode: "decimal", "aria-label": "threshold", size: "8" },
    });
    this.flaggedEl = h("span.vw-an-flagged");
    this.logBox = h("input.vw-an-log", { type: "checkbox", title: "Logarithmic count axis: shows the sparse tail" });
    this.orderSelect = h(
      "select.vw-param.vw-param-select.vw-an-order",
      { title: "Which flagged samples the gallery shows", attrs: { "aria-label": "gallery order" } },
      h("option", { value: "highest" }, "highest scores"),
      h("option", { value: "threshold" }, "borderline"),
    );
    this.metricsEl = h("div.vw-an-metrics", { hidden: true });
    this.canvas = h("canvas.vw-an-canvas", { tabIndex: 0, attrs: { role: "slider", "aria-label": "threshold" } });
    this.histReadout = h("span.vw-chart-readout.vw-an-readout");
    this.legendEl = h("div.vw-an-legend");
    this.galleryTitle = h("span.vw-panel-title.vw-an-gallery-title");
    this.galleryCaption = h("div.vw-caption");
    this.galleryEl = h("div.vw-an-gallery");
    this.galleryEmpty = h("div.vw-panel-empty", { hidden: true }, "Nothing is above the threshold: drag the line to the left.");

    const histPanel = h(
      "div.vw-panel.vw-an-hist-panel",
      {},
      h("div.vw-panel-head", {}, h("span.vw-panel-title", {}, "Score histogram"), h("span.vw-spacer"), this.histReadout,
        h("label.vw-toggle", { title: "Logarithmic count axis" }, this.logBox, "log counts")),
      h("div.vw-caption", {}, "Drag the line (or click, or use ← → on the chart) to move the threshold; everything to its right is flagged."),
      this.legendEl,
      h("div.vw-an-hist", {}, this.canvas),
    );
    const galleryPanel = h(
      "div.vw-panel.vw-an-gallery-panel",
      {},
      h("div.vw-panel-head", {}, this.galleryTitle, h("span.vw-spacer"),
        h("label.vw-param-field", { title: "Which flagged samples the gallery shows" }, h("span.vw-param-label", {}, "show"), this.orderSelect)),
      this.galleryCaption,
      this.galleryEl,
      this.galleryEmpty,
    );
    this.root = h(
      "div.vw-root.vw-anomaly",
      { dataset: { threshold: "", flagged: "0", gallery: "0", draws: "0", dragging: "false" } },
      h("div.vw-header", {}, h("span.vw-title", {}, "Anomaly scores"), this.infoEl),
      h(
        "div.vw-toolbar",
        {},
        h("label.vw-param-field", { title: this.thresholdInput.title }, h("span.vw-param-label", {}, "threshold"), this.thresholdInput),
        this.flaggedEl,
      ),
      this.metricsEl,
      h("div.vw-an-panels", {}, histPanel, galleryPanel),
    );
    el.append(this.root);
  }

  // ---------------------------------------------------------------- wiring
  _wire() {
    const m = this.model;
    this.on(["scores", "truth", "bins"], () => this._data());
    this.on("info", () => setText(this.infoEl, m.get("info") || ""));
    this.on("score_name", () => this._schedule());
    this.on("threshold", () => this._threshold());
    this.on("metrics", () => this._metrics());
    this.on("log_count", () => {
      this.logBox.checked = !!m.get("log_count");
      this._schedule();
    });
    this.on("gallery_order", () => this._gallery());
    this.on(["gallery", "gallery_recon", "gallery_items", "gallery_shape", "gallery_layout"], () => this._gallery());

    setText(this.infoEl, m.get("info") || "");
    this.logBox.checked = !!m.get("log_count");
    this.logBox.addEventListener("change", () => {
      m.set("log_count", this.logBox.checked);
      m.save_changes();
    });
    this.orderSelect.addEventListener("change", () => {
      m.set("gallery_order", this.orderSelect.value);
      m.save_changes();
    });
    this.thresholdInput.addEventListener("keydown", (e) => {
      e.stopPropagation(); // keep Jupyter's shortcuts out of the input
      if (e.key === "Enter") {
        const v = Number(this.thresholdInput.value.trim());
        if (Number.isFinite(v)) this._sendThreshold(v, true);
        else this._threshold();
      } else if (e.key === "Escape") this._threshold();
    });
    this.thresholdInput.addEventListener("blur", () => this._threshold());

    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this._dragStart(e));
    c.addEventListener("pointermove", (e) => this._pointerMove(e));
    c.addEventListener("pointerup", (e) => this._dragEnd(e));
    c.addEventListener("pointercancel", (e) => this._dragEnd(e));
    c.addEventListener("pointerleave", () => {
      if (!this.dragging) this._readoutDefault();
    });
    c.addEventListener("keydown", (e) => this._key(e));
  }

  resized() {
    const w = this.canvas.parentElement?.clientWidth || 0;
    if (w === this.lastWidth && !this.skipped) return;
    this.lastWidth = w;
    this._schedule();
  }

  themeChanged() {
    this._legend();
    this._schedule();
  }

  _schedule() {
    if (this.frame !== null || this.destroyed) return;
    const raf = typeof requestAnimationFrame === "function" ? requestAnimationFrame : (f) => setTimeout(f, 16);
    this.frame = raf(() => {
      this.frame = null;
      if (!this.destroyed) this._draw();
    });
  }

  // ---------------------------------------------------------------- data
  _data() {
    const m = this.model;
    this.scores = toFloat32(m.get("scores"));
    const truth = toUint8(m.get("truth"));
    this.truth = truth.length === this.scores.length ? truth : null;
    this.hist = binScores(this.scores, m.get("bins") || 50, this.truth);
    this._legend();
    this._schedule();
  }

  _legend() {
    // the bars' colour comes from the theme (lighter on dark backgrounds)
    const normal = h("span.vw-an-swatch.vw-an-swatch-normal", { style: { background: this.theme?.point || "" } });
    this.legendEl.replaceChildren(
      h("span.vw-an-key", {}, normal, this.truth ? "normal" : "samples"),
      this.truth ? h("span.vw-an-key", {}, h("span.vw-an-swatch.vw-an-swatch-anomaly"), "labelled anomaly") : null,
      h("span.vw-an-key", {}, h("span.vw-an-swatch.vw-an-swatch-flagged"), "flagged (above the threshold)"),
    );
  }

  get thresholdValue() {
    return this.local !== null ? this.local : Number(this.model.get("threshold"));
  }

  _threshold() {
    if (this.dragging) return;
    this.local = null;
    const t = Number(this.model.get("threshold"));
    if (document.activeElement !== this.thresholdInput) this.thresholdInput.value = fmtNum(t, 5);
    this.root.dataset.threshold = String(t);
    this._flaggedText();
    this._schedule();
  }

  _flaggedText() {
    const n = this.scores.length;
    const { flagged, hits } = countAbove(this.scores, this.thresholdValue, this.truth);
    const pct = n ? ` (${((100 * flagged) / n).toFixed(1)} %)` : "";
    const extra = this.truth ? ` · ${fmtInt(hits)} of them labelled anomalies` : "";
    setText(this.flaggedEl, `${fmtInt(flagged)} of ${fmtInt(n)} flagged${pct}${extra}`);
  }

  _metrics() {
    const mt = this.model.get("metrics") || {};
    this.root.dataset.flagged = String(mt.n_flagged ?? 0);
    this._flaggedText();
    if (!this.truth && !("precision" in mt)) {
      this.metricsEl.hidden = true;
      return;
    }
    this.metricsEl.hidden = false;
    const chip = (key, label, value, help) =>
      h("span.vw-an-metric", { title: help, dataset: { metric: key } }, h("span.vw-an-metric-label", {}, label), h("span.vw-an-metric-value", {}, value));
    this.metricsEl.replaceChildren(
      h("span.vw-an-metrics-title", {}, "at this threshold"),
      chip("precision", "precision", fmtRate(mt.precision), "Of the flagged samples, the share that are labelled anomalies: TP / (TP + FP)"),
      chip("recall", "recall", fmtRate(mt.recall), "Of the labelled anomalies, the share that are flagged: TP / (TP + FN)"),
      chip("f1", "F1", fmtRate(mt.f1), "Harmonic mean of precision and recall"),
      h("span.vw-an-metrics-title", {}, "any threshold"),
      chip("auroc", "AUROC", fmtRate(mt.auroc), "Probability that a random labelled anomaly scores above a random normal sample (0.5 = chance, 1 = perfect). Does not depend on the threshold."),
      chip("average_precision", "AP", fmtRate(mt.average_precision), "Average precision: the area under the precision-recall curve. Chance level = the share of anomalies."),
    );
  }

  // ---------------------------------------------------------------- threshold input
  _plotBox() {
    const w = Math.max(260, this.canvas.parentElement?.clientWidth || 0);
    return { w, hgt: HIST_H, x0: PAD.left, x1: w - PAD.right, y0: PAD.top, y1: HIST_H - PAD.bottom };
  }

  _scale() {
    const b = this._plotBox();
    return scoreScale(this.hist.lo, this.hist.hi, b.x0, b.x1);
  }

  _pointerX(e) {
    const r = this.canvas.getBoundingClientRect();
    return e.clientX - r.left;
  }

  _dragStart(e) {
    if (e.button !== undefined && e.button !== 0) return;
    e.preventDefault();
    this.dragging = true;
    this.root.dataset.dragging = "true";
    this.canvas.setPointerCapture?.(e.pointerId);
    this._dragTo(this._pointerX(e));
  }

  _pointerMove(e) {
    const x = this._pointerX(e);
    if (this.dragging) {
      this._dragTo(x);
      return;
    }
    const near = Math.abs(x - this._scale().toX(this.thresholdValue)) <= HIT_TOLERANCE_PX;
    this.canvas.style.cursor = near ? "ew-resize" : "crosshair";
    this._hover(x);
  }

  _dragTo(x) {
    const v = clampThreshold(this._scale().toValue(x), this.hist.lo, this.hist.hi);
    this.local = v;
    this.thresholdInput.value = fmtNum(v, 5);
    this._flaggedText();
    this._schedule();
    this._sendThreshold(v, false);
  }

  _dragEnd(e) {
    if (!this.dragging) return;
    this.dragging = false;
    this.root.dataset.dragging = "false";
    this.canvas.releasePointerCapture?.(e.pointerId);
    if (this.local !== null) this._sendThreshold(this.local, true);
  }

  _key(e) {
    const step = keyStep(this.hist.width, e.shiftKey);
    const dir = e.key === "ArrowRight" || e.key === "ArrowUp" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowDown" ? -1 : 0;
    if (!dir) return;
    e.preventDefault();
    e.stopPropagation();
    const v = clampThreshold(this.thresholdValue + dir * step, this.hist.lo, this.hist.hi);
    this.local = v;
    this._sendThreshold(v, true);
  }

  /** Send the threshold: at once when `final`, else at most every DRAG_SEND_MS (the last value always goes). */
  _sendThreshold(v, final) {
    const m = this.model;
    const go = () => {
      this.sendTimer = null;
      this.lastSend = Date.now();
      m.set("threshold", this.local !== null ? this.local : v);
      m.save_changes();
      if (!this.dragging) this.local = null;
      this.root.dataset.threshold = String(m.get("threshold"));
      this._flaggedText();
      this._schedule();
    };
    if (final) {
      clearTimeout(this.sendTimer);
      this.local = v;
      go();
      return;
    }
    if (this.sendTimer !== null) return;
    const wait = Math.max(0, DRAG_SEND_MS - (Date.now() - this.lastSend));
    this.sendTimer = setTimeout(go, wait);
  }

  _hover(x) {
    const hist = this.hist;
    const v = this._scale().toValue(x);
    const b = Math.floor((v - hist.lo) / hist.width);
    if (b < 0 || b >= hist.nBins) {
      this._readoutDefault();
      return;
    }
    const a = hist.lo + b * hist.width;
    const parts = [`${fmtNum(a, 4)} – ${fmtNum(a + hist.width, 4)}: ${fmtInt(hist.total[b])}`];
    if (hist.anomalous) parts.push(`(${fmtInt(hist.anomalous[b])} anomalous)`);
    setText(this.histReadout, parts.join(" "));
  }

  _readoutDefault() {
    setText(this.histReadout, `${fmtInt(this.hist.n)} samples in ${this.hist.nBins} bins`);
  }

  // ---------------------------------------------------------------- drawing
  _draw() {
    // a hidden host (Lab swapping themes, a collapsed output) has no width: draw when it shows
    if (!this.canvas.parentElement?.clientWidth) {
      this.skipped = true;
      if (!this.retryTimer && this.retries < 25) {
        this.retryTimer = setTimeout(() => {
          this.retryTimer = null;
          this.retries++;
          this._schedule();
        }, 200);
      }
      return;
    }
    this.skipped = false;
    this.retries = 0;
    const b = this._plotBox();
    const ctx = sizeCanvas(this.canvas, b.w, b.hgt);
    if (!ctx) return;
    drawHistogram(ctx, b, {
      theme: this.theme, hist: this.hist, log: !!this.model.get("log_count"), scale: this._scale(),
      threshold: this.thresholdValue, scoreName: String(this.model.get("score_name") || "score"),
    });
    this.draws += 1;
    this.root.dataset.draws = String(this.draws);
    if (!this.dragging) this._readoutDefault();
  }

  _gallery() {
    const m = this.model;
    const items = m.get("gallery_items") || [];
    const shape = m.get("gallery_shape") || [];
    const layout = m.get("gallery_layout") || "";
    const scale = m.get("gallery_scale") || "linear";
    const pixels = toUint8(m.get("gallery"));
    const recon = toUint8(m.get("gallery_recon"));
    const order = m.get("gallery_order") || "highest";
    this.orderSelect.value = order;
    const nFlagged = (m.get("metrics") || {}).n_flagged ?? items.length;
    setText(this.galleryTitle, `Flagged samples: ${fmtInt(items.length)} of ${fmtInt(nFlagged)}`);
    const hasRecon = recon.length > 0 && cellCount(recon.length, shape) >= items.length;
    const truthText = this.truth || items.some((it) => it.truth !== null && it.truth !== undefined)
      ? " Red frame: labelled anomaly (a hit); grey: labelled normal (a false alarm)." : "";
    setText(this.galleryCaption, `Ordered ${ORDER_TEXT[order] || order}.${hasRecon ? " Top: the sample · bottom: the VAE's reconstruction." : ""}${truthText}`);

    const features = layout === "features";
    const tiles = galleryTiles(items, { shape, layout, scale, pixels, recon: hasRecon ? recon : null });
    this.galleryEl.classList.toggle("vw-an-gallery-rows", features);
    this.galleryEl.replaceChildren(...tiles);
    this.galleryEmpty.hidden = items.length > 0;
    this.root.dataset.gallery = String(items.length);
    this.root.dataset.galleryFirst = items.length ? String(items[0].index) : "";
  }

  destroy() {
    super.destroy();
    clearTimeout(this.sendTimer);
    clearTimeout(this.retryTimer);
    if (this.frame !== null && typeof cancelAnimationFrame === "function") cancelAnimationFrame(this.frame);
    this.root.remove();
  }
}
