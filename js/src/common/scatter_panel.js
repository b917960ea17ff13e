// One scatter area of a point view: the WebGL scatter (2-D canvas fallback),
// its overlay (search matches, category names, and whatever the view adds) and
// its hover tooltip. The t-SNE view has one; the sweep view one per panel.
//
// The panel keeps the positions it drew; category anchors (map_labels.js) and
// match positions are recomputed only when the positions, colours or matches
// change, so redrawing the overlay on every camera move stays cheap.

import { h } from "./dom.js";
import { categoryAnchors } from "./map_labels.js";
import { MAX_MARKS, Overlay } from "./overlay.js";
import { Canvas2DScatter } from "./scatter_2d.js";
import { webglAvailable } from "./gl_renderer.js";
import { GLScatter } from "./scatter_gl.js";
import { Tooltip } from "./tooltip.js";

/** Should point views draw with WebGL? (a page may force the 2-D canvas, for tests) */
export const useWebGL = () => globalThis.__vaeWidgetsForceCanvas2D !== true && webglAvailable();

/** x,y pairs of the points `indices` (at most `max`) out of `positions`. */
export function pickPositions(positions, indices, max = MAX_MARKS) {
  const n = positions.length >> 1;
  const out = new Float32Array(2 * Math.min(indices.length, max));
  let k = 0;
  for (let j = 0; j < indices.length && k < out.length; j++) {
    const i = indices[j];
    if (i >= n) continue;
    out[k++] = positions[2 * i];
    out[k++] = positions[2 * i + 1];
  }
  return k === out.length ? out : out.subarray(0, k);
}

export class ScatterPanel {
  /**
   * @param {object} o  {theme, pointSize, thumbSize, onHover(panel, i), onSelect(indices), onView(panel), onDrawn(panel),
   *   onInteract(panel): the user zooms, pans, lassos or moves the mouse over the map}
   */
  constructor(o) {
    this.o = o;
    this.positions = new Float32Array(0);
    this.hovered = null;
    this.emptyEl = h("div.vw-empty", {}, "");
    this.el = h("div.vw-scatter", {}, this.emptyEl);
    // (capture: seen before the scatter's own handlers; the listeners go with the element)
    const interact = () => this.o.onInteract?.(this);
    for (const ev of ["wheel", "pointerdown", "pointermove"]) {
      this.el.addEventListener(ev, interact, { capture: true, passive: true });
    }
    this.tooltip = new Tooltip(this.el, { thumbSize: o.thumbSize ?? 72 });
    this.cache = {};
    this.overlayQueued = false;
  }

  /** Make the scatter (call once the panel is in the document, so it has a size). */
  create(theme, pointSize) {
    const opts = {
      theme,
      pointSize,
      onHover: (i) => this.o.onHover(this, i),
      onSelect: (indices) => this.o.onSelect(indices, this),
      onView: () => this.overlaySoon(),
    };
    this.scatter = null;
    if (useWebGL()) {
      try {
        this.scatter = new GLScatter(this.el, opts);
      } catch (err) {
        console.warn("vae_widgets: WebGL scatter unavailable, using a 2-D canvas", err);
      }
    }
    if (!this.scatter) this.scatter = new Canvas2DScatter(this.el, opts);
    this.overlay = new Overlay(this.el);
    return this.scatter;
  }

  /** Draw positions (Float32Array x,y pairs); resolves when drawn. */
  show(positions) {
    const pos = positions || new Float32Array(0);
    this.positions = pos;
    this.emptyEl.hidden = pos.length > 0;
    return this.scatter.setPositions(pos).then(() => {
      if (this.hovered !== null) this.o.onHover(this, this.hovered);
      this.o.onDrawn?.(this);
    });
  }

  /** Category anchors of the drawn positions (cached per positions / codes / skip). */
  anchors(codes, k, skip) {
    const c = this.cache;
    const skipKey = [...skip].sort((a, b) => a - b).join(",");
    if (c.pos !== this.positions || c.codes !== codes || c.k !== k || c.skipKey !== skipKey) {
      Object.assign(c, { pos: this.positions, codes, k, skipKey, anchors: categoryAnchors(this.positions, codes, k, { skip }) });
    }
    return c.anchors;
  }

  /** Positions of the matches (cached per positions / matches). */
  marks(matches) {
    const c = this.cache;
    if (c.markPos !== this.positions || c.matches !== matches) {
      Object.assign(c, { markPos: this.positions, matches, marks: matches && matches.length ? pickPositions(this.positions, matches) : null });
    }
    return c.marks;
  }

  overlaySoon() {
    if (this.overlayQueued || this.destroyed) return;
    this.overlayQueued = true;
    const run = () => {
      this.overlayQueued = false;
      if (!this.destroyed) this.o.onView(this);
    };
    if (typeof requestAnimationFrame === "function") requestAnimationFrame(run);
    else setTimeout(run, 16);
  }

  /** Draw the overlay: layers = Overlay.draw options besides map/size. */
  drawOverlay(layers) {
    if (this.destroyed || !this.overlay || !this.scatter?.screenMapper) return this.overlay?.stats;
    return this.overlay.draw({ map: this.scatter.screenMapper(), width: this.scatter.width, height: this.scatter.height, ...layers });
  }

  showTooltip(i, content) {
    const p = this.scatter.screenPosition(i);
    if (!p) return;
    this.tooltip.show(p, this.el.clientWidth, this.el.clientHeight, content);
  }

  hideTooltip() {
    this.hovered = null;
    this.tooltip.hide();
  }

  resized() {
    const w = this.el.clientWidth, hgt = this.el.clientHeight;
    if (w > 0 && hgt > 0) this.scatter.resize(w, hgt);
    this.overlaySoon();
  }

  destroy() {
    this.destroyed = true;
    this.scatter?.destroy();
    this.overlay?.destroy();
  }
}
