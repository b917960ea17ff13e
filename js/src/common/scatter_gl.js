// WebGL scatter (regl-scatterplot) behind a small interface shared with the
// 2-D canvas fallback (scatter_2d.js):
//
//   setPositions(Float32Array x,y pairs) -> Promise   (latest-wins, coalesced)
//   setColors({codes, palette})           setSelection(indices)
//   setFilter(indices | null)             (only these points are drawn, hovered, lassoed)
//   setPointSize(px)   setLassoMode(bool)   setTheme(theme)
//   resetView()        resize(w, h)         screenPosition(i) -> [x, y]
//   screenMapper() -> (x, y) => [px, py]    (data coordinates -> CSS px, current camera)
//   option onView(): called after the camera moved or points were drawn (overlays follow)
//   destroy()          webgl (bool)         userCamera (bool)
//
// Camera policy: while the user has not zoomed or panned, every frame is
// normalised to fit the view (the camera stays at identity). Once the user
// moves the camera, the data -> NDC mapping is frozen, so later frames are
// drawn in the same coordinates and the user's camera is respected, until the
// map's scale changes more than 4-fold (t-SNE's early exaggeration grows it
// ~1e5-fold): then the frame is refitted and the camera keeps its place
// relative to the map (fit.js followFit). resetView() refits and unfreezes.
//
// Maps too big to draw in time are drawn from a subsample while they move
// (lod.js); hover, click and the lasso's selection are answered from every
// point, by our own hit-testing (hit_test.js), never by a redraw.
//
// All views share one WebGL renderer (one context for the page; gl_renderer.js);
// the pointer and lasso input is pointer_input.js.

import createScatterplot from "regl-scatterplot";
import { acquireRenderer, releaseRenderer, resizeRendererUser } from "./gl_renderer.js";
import { attachPointerInput } from "./pointer_input.js";
import { applyFit, computeFit, followFit, MIN_VIEW_PX, pointSizeFor, takeSize } from "./fit.js";
import { parseColor, toUnitRgba } from "./colors.js";
import { spatialIndex, workerAvailable } from "./spatial_index.js";
import { buildIndex } from "./kd_index.js";
import { HitTest, dataToScreen } from "./hit_test.js";
import { pointsInPolygon } from "./lasso.js";
import { DrawBudget, Subsample, permutation } from "./lod.js";
import { MotionClock } from "./lod_schedule.js";

const SETTLE_MS = 400;
const REUSE_INDEX_MIN_POINTS = 20000;
// from here on the spatial index is built in a worker (spatial_index.js), never on the page
const WORKER_INDEX_MIN_POINTS = 100000;
const INDEX_MAX_AGE_MS = 1000;
// regl-scatterplot's own hover and click hit-testing is switched off (a negative
// detection size never matches): each hover it found redrew the whole map, which
// held hover behind drawing. Hover and click are answered by hit_test.js instead;
// regl-scatterplot keeps its spatial index for the lasso and density opacity.
const NO_POINTER_HITS = -1e9;
// Level of detail: what a thinned map draws is lod.js, when it is thinned and
// when whole again is lod_schedule.js (MotionClock).

const rgba = (css, alpha = 1) => toUnitRgba(parseColor(css) || [128, 128, 128, 1], alpha);

export class GLScatter {
  /**
   * @param {HTMLElement} container  positioned element the canvas fills
   * @param {object} o  {theme, pointSize, onHover(i|null), onSelect(indices), onUserCamera()}
   */
  constructor(container, o) {
    this.webgl = true;
    this.container = container;
    this.o = o;
    this.positions = new Float32Array(0);
    this.codes = null;
    this.palette = [o.theme.point];
    this.selection = [];
    this.filterIdx = null;
    this.fit = { cx: 0, cy: 0, s: 1 };
    this.userCamera = false;
    this.busy = null;
    // where each draw's spatial index came from (read by benchmarks/tsne_1m.py)
    this.indexStats = { reused: 0, worker: 0, page: 0 };
    this.budget = new DrawBudget();
    this.clock = new MotionClock(this.budget, () => this._rest(false));
    this.restMs = this.clock.restMs; // (tests shorten the rests through it)
    this.lod = null; // the Subsample drawn now (null: every point is drawn)
    this.lodStats = { thinned: 0, whole: 0 };
    this.xs = null; // the drawn (normalised) coordinates of every point
    this.ys = null;
    this.dirty = false;
    this.destroyed = false;
    this.width = Math.max(MIN_VIEW_PX, container.clientWidth || 520);
    this.height = Math.max(MIN_VIEW_PX, container.clientHeight || 420);

    this.canvas = document.createElement("canvas");
    this.canvas.className = "vw-scatter-canvas";
    container.append(this.canvas);
    // the hovered point's highlight: a ring over the canvas (a redraw of the map would
    // cost a whole draw of every point)
    this.ring = document.createElement("div");
    this.ring.className = "vw-hover-ring";
    this.ring.hidden = true;
    container.append(this.ring);
    this.hit = null; // HitTest of the drawn points
    this.hidden = null; // Uint8Array, 1 = filtered out (setFilter)
    this.hovered = null;
    this.pointSizePx = o.pointSize ?? 4;
    this.drawnSize = this.pointSizePx;
    const theme = o.theme;
    this.renderer = acquireRenderer(this, this.width, this.height);
    try {
      this.sp = createScatterplot({
        canvas: this.canvas,
        renderer: this.renderer,
        width: this.width,
        height: this.height,
        pointSize: o.pointSize ?? 4,
        pointSizeMouseDetection: NO_POINTER_HITS,
        pointSizeSelected: 1,
        pointOutlineWidth: 1,
        opacityInactiveScale: 0.2,
        colorBy: "valueA",
        // opacity from the number of points in view and their size: 1k points
        // opaque, 1M translucent enough to show density; adapts while zooming
        opacityBy: "density",
        pointColor: this.palette,
        pointColorActive: this.palette,
        pointColorHover: rgba(theme.text),
        backgroundColor: toUnitRgba([...theme.bg, 1]),
        lassoColor: rgba(theme.css.brand || "#1976d2"),
        lassoMinDelay: 0,
        lassoMinDist: 2,
        lassoLineWidth: 2,
        deselectOnDblClick: true,
        deselectOnEscape: false, // Esc leaves the cell editor in notebooks
        lassoInitiatorParentElement: container,
        lassoLongPressIndicatorParentElement: container,
      });
    } catch (err) {
      releaseRenderer(this);
      this.canvas.remove();
      this.ring.remove();
      throw err;
    }
    const sp = this.sp;
    this.subs = [
      // the lasso's polygon selects among every point (not the drawn rows of a subsample)
      ["lassoStart", () => this._interacted(true)],
      ["lassoEnd", ({ coordinates }) => this._lassoEnd(coordinates)],
      [
        "view",
        () => {
          if (performance.now() - this.clock.lastInteraction < 600 && !this.userCamera) {
            this.userCamera = true;
            o.onUserCamera?.();
          }
          this._placeRing();
          o.onView?.();
        },
      ],
    ].map(([ev, fn]) => [ev, sp.subscribe(ev, fn)]);

    this.detachInput = attachPointerInput(this, o);
  }

  /** New positions (x,y pairs). Refits unless the user moved the camera. */
  setPositions(pos) {
    // While frames stream in quickly, large point sets reuse the previous
    // spatial index (hover / lasso hit-testing) instead of rebuilding it for
    // every frame; a fresh index is built once the stream pauses.
    this.streaming = this.clock.frame(performance.now()) < SETTLE_MS;
    clearTimeout(this.settleTimer);
    if ((pos.length >> 1) >= REUSE_INDEX_MIN_POINTS) {
      this.settleTimer = setTimeout(() => {
        this.streaming = false;
        if (!this.lod) this.redraw(); // a thinned map is redrawn whole when it rests (_rest)
      }, SETTLE_MS);
    }
    this.positions = pos;
    // the user's camera keeps the fit, unless the map grew or shrank far beyond it
    this.fit = this.userCamera
      ? followFit(this.fit, pos, this.width / this.height)
      : computeFit(pos, this.width / this.height);
    return this.redraw();
  }

  setColors({ codes, palette }) {
    this.codes = codes;
    this.palette = palette;
    this.sp.set({ pointColor: palette, pointColorActive: palette });
    return this.redraw();
  }

  setSelection(indices) {
    const n = this.positions.length >> 1;
    this.selection = indices.filter((i) => Number.isInteger(i) && i >= 0 && i < n);
    if (!this.sp.get("isPointsDrawn")) return;
    const rows = this._rows(this.selection);
    if (rows.length) this.sp.select(rows, { preventEvent: true });
    else this.sp.deselect({ preventEvent: true });
  }

  setFilter(indices) {
    const same = indices === this.filterIdx || (!indices && !this.filterIdx);
    this.filterIdx = indices && indices.length < (this.positions.length >> 1) ? indices : null;
    this._maskHidden();
    if (this.hovered !== null && this.hidden?.[this.hovered]) this._hover(null);
    if (same || !this.sp.get("isPointsDrawn")) return;
    // a draw in flight applies the filter it started with when it ends: draw again
    // after it, with this one (filter()/unfilter() now would be undone)
    if (this.busy) {
      this.redraw();
      return;
    }
    if (this.filterIdx) this.sp.filter(this._rows(this.filterIdx), { preventEvent: true });
    else this.sp.unfilter({ preventEvent: true });
  }

  setPointSize(px) {
    this.pointSizePx = px;
    this._applySize();
  }

  /** The hit-test mask of setFilter: 1 = not drawn. */
  _maskHidden() {
    const n = this.positions.length >> 1;
    if (!this.filterIdx) {
      this.hidden = null;
      return;
    }
    const hidden = new Uint8Array(n).fill(1);
    for (const i of this.filterIdx) if (i >= 0 && i < n) hidden[i] = 0;
    this.hidden = hidden;
  }

  /** The drawn point under the mouse event e, or null. */
  _pick(e) {
    if (!this.hit) return null;
    const r = this.canvas.getBoundingClientRect();
    const i = this.hit.at(this.sp.get("cameraView"), this.width, this.height, e.clientX - r.left, e.clientY - r.top,
      Math.max(4, this.pointSizePx + 2), this.hidden);
    return i < 0 || i >= (this.xs?.length ?? 0) ? null : i;
  }

  /** regl-scatterplot's rows of these points (the same numbers unless a subsample is drawn). */
  _rows(indices) {
    return this.lod ? this.lod.rows(indices) : indices.slice();
  }

  /** The lasso ended: select every visible point inside its polygon. */
  _lassoEnd(coordinates) {
    const poly = (coordinates || []).flat();
    const idx = this.xs ? pointsInPolygon(this.xs, this.ys, poly) : [];
    this.o.onSelect?.(this.hidden ? idx.filter((i) => !this.hidden[i]) : idx);
    this._rest();
  }

  /** The user moves the camera or draws a lasso: a map too big to draw in time is thinned. */
  _interacted(lasso = false) {
    this.clock.interacted(lasso);
    const n = this.positions.length >> 1;
    if (!this.lod && this.budget.size(n) < n) this.redraw();
    this.clock.schedule(n);
  }

  _moving() {
    return this.clock.moving(this.positions.length >> 1);
  }

  /** Draw a thinned map whole once nothing moves. */
  _rest(lassoDone = true) {
    if (lassoDone) this.clock.lassoing = false;
    this.clock.cancel();
    if (this.destroyed || !this.lod) return;
    if (this._moving()) this.clock.schedule(this.positions.length >> 1);
    else this.redraw();
  }

  _hover(i) {
    if (i === this.hovered) return;
    this.hovered = i;
    this._placeRing();
    this.o.onHover?.(i);
  }

  /** Keep the hover ring on the hovered point (camera moves, new frames). */
  _placeRing() {
    const p = this.hovered === null ? null : this.screenPosition(this.hovered);
    this.ring.hidden = !p;
    if (!p) return;
    const d = Math.max(8, this.pointSizePx + 6);
    Object.assign(this.ring.style, {
      width: `${d}px`, height: `${d}px`, left: `${p[0] - d / 2}px`, top: `${p[1] - d / 2}px`,
    });
  }

  setLassoMode(on) {
    this.lassoMode = on;
    this.sp.set({ mouseMode: on ? "lasso" : "panZoom" });
  }

  setTheme(theme) {
    this.o.theme = theme;
    this.sp.set({
      backgroundColor: toUnitRgba([...theme.bg, 1]),
      pointColorHover: rgba(theme.text),
      lassoColor: rgba(theme.css.brand || "#1976d2"),
    });
  }

  resetView() {
    this.userCamera = false;
    this.sp.reset({ preventEvent: true });
    this.fit = computeFit(this.positions, this.width / this.height);
    return this.redraw();
  }

  resize(width, height) {
    if (!takeSize(this, width, height)) return;
    resizeRendererUser(this, this.width, this.height);
    this.sp.set({ width: this.width, height: this.height });
    if (!this.userCamera) this.redraw();
  }

  /** Data coordinates -> CSS pixels under the current fit and camera (for overlays). */
  screenMapper() {
    const { cx, cy, s } = this.fit;
    const v = this.sp.get("cameraView"), W = this.width, H = this.height;
    return (x, y) => dataToScreen(v, W, H, (x - cx) * s, (y - cy) * s);
  }

  /** Where point i is drawn (CSS px in the view), drawn whole or thinned out; null before a draw. */
  screenPosition(i) {
    if (!this.xs || !(i >= 0 && i < this.xs.length)) return null;
    return dataToScreen(this.sp.get("cameraView"), this.width, this.height, this.xs[i], this.ys[i]);
  }

  /** Coalescing draw: at most one regl draw at a time, the newest data wins. */
  redraw() {
    if (this.destroyed) return Promise.resolve();
    if (this.busy) {
      this.dirty = true;
      return this.busy;
    }
    this.busy = this._draw()
      .catch(() => {})
      .finally(() => {
        this.busy = null;
        if (this.dirty && !this.destroyed) {
          this.dirty = false;
          return this.redraw();
        }
      });
    return this.busy;
  }

  _draw() {
    const pos = this.positions;
    const n = pos.length >> 1;
    const xs = new Float32Array(n), ys = new Float32Array(n);
    applyFit(pos, this.fit, xs, ys);
    const k = this.budget.size(n);
    if (k < n && this._moving()) return this._drawThinned(xs, ys, k);
    // the whole map. A reused index is at most INDEX_MAX_AGE_MS old, so hover and lasso
    // stay close to the points while they stream
    const now = performance.now();
    if (this.streaming && n >= REUSE_INDEX_MIN_POINTS && this._hitFresh(n, now)) {
      this.indexStats.reused++;
      return this._drawPoints(xs, ys, null, this.hit.kd.data);
    }
    return this._index(xs, ys).then((index) => {
      if (this.destroyed) return null;
      this._setHit(index, xs, ys, now);
      return this._drawPoints(xs, ys, null, index);
    });
  }

  /** k of the n points now; every point's index (hover, click) follows in the background. */
  _drawThinned(xs, ys, k) {
    const n = xs.length;
    if (this.perm?.length !== n) {
      this.perm = permutation(n);
      this.subsample = null;
    }
    if (this.subsample?.k !== k) this.subsample = new Subsample(n, k, this.perm);
    const lod = this.subsample;
    // the rows and their index are kept while the map stands still (the camera moves over it)
    const c = this.thinned;
    if (!c || c.lod !== lod || c.positions !== this.positions || c.fit !== this.fit) {
      const sx = new Float32Array(lod.k), sy = new Float32Array(lod.k);
      for (let j = 0; j < lod.k; j++) {
        sx[j] = xs[lod.sub[j]];
        sy[j] = ys[lod.sub[j]];
      }
      this.thinned = { lod, positions: this.positions, fit: this.fit, sx, sy, index: buildIndex(sx, sy) };
    }
    const { sx, sy, index } = this.thinned;
    if (!this._hitFresh(n, performance.now()) && !this.hitBuilding) {
      const at = performance.now();
      this.hitBuilding = true;
      this._index(xs, ys)
        .then((index) => this._setHit(index, xs, ys, at))
        .finally(() => {
          this.hitBuilding = false;
        });
    }
    this.clock.schedule(n);
    // the subsample's own small index serves regl-scatterplot (density opacity, lasso line)
    return this._drawPoints(xs, ys, lod, index, sx, sy);
  }

  _hitFresh(n, now) {
    return Boolean(this.hit) && this.hit.xs.length === n && now - this.hitAt < INDEX_MAX_AGE_MS;
  }

  _setHit(index, xs, ys, at) {
    if (this.destroyed || !index) return;
    this.hit = new HitTest(index, xs, ys);
    this.hitAt = at;
  }

  /** The KDBush index of (xs, ys): built in a worker from WORKER_INDEX_MIN_POINTS on, else on the page. */
  _index(xs, ys) {
    if (xs.length >= WORKER_INDEX_MIN_POINTS && workerAvailable()) {
      // the page stays free while the worker builds the index (null: no worker after all)
      return spatialIndex(xs, ys).then((index) => {
        this.indexStats[index ? "worker" : "page"]++;
        return index || buildIndex(xs, ys);
      });
    }
    this.indexStats.page++;
    return Promise.resolve(buildIndex(xs, ys));
  }

  /**
   * Hand the rows to regl-scatterplot: every point (lod null; rx, ry = xs, ys) or the
   * subsample lod (rows rx, ry). `index` is the KDBush index of the rows.
   */
  _drawPoints(xs, ys, lod, index, rx = xs, ry = ys) {
    const t0 = performance.now();
    const n = xs.length, m = rx.length;
    if (this.hidden && this.hidden.length !== n) this._maskHidden();
    const codes = this.codes && this.codes.length === n ? this.codes : null;
    const rows = new Array(m);
    for (let j = 0; j < m; j++) {
      const i = lod ? lod.sub[j] : j;
      rows[j] = [rx[j], ry[j], codes ? codes[i] : 0, 0];
    }
    this.lod = lod;
    this.xs = xs;
    this.ys = ys;
    this._applySize();
    const sel = this._rows(this.selection.filter((i) => i < n));
    const filter = this.filterIdx && this.filterIdx.length < n ? this._rows(this.filterIdx) : undefined;
    return this.sp.draw(rows, {
      zDataType: "categorical",
      wDataType: "continuous",
      select: sel.length ? sel : undefined,
      filter,
      spatialIndex: index,
    }).then(() => {
      // the time a whole map held the page (rows, upload, one render) teaches the budget;
      // a thinned draw's time is mostly fixed costs, which say little about a point's
      if (!lod) this.budget.record(performance.now() - t0, m);
      this.lodStats[lod ? "thinned" : "whole"]++;
      if (!sel.length && this.sp.get("selectedPoints").length) this.sp.deselect({ preventEvent: true });
      this._placeRing();
      this.o.onView?.();
    });
  }

  /** The point size for what is drawn: a thinned map draws its fewer points a little larger. */
  _applySize() {
    const n = this.xs?.length ?? 0;
    const px = this.lod ? (this.pointSizePx * pointSizeFor(this.lod.k)) / pointSizeFor(n) : this.pointSizePx;
    if (px !== this.drawnSize) {
      this.drawnSize = px;
      this.sp.set({ pointSize: px });
    }
  }

  destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    clearTimeout(this.settleTimer);
    this.clock.cancel();
    this.detachInput();
    for (const [, sub] of this.subs) this.sp.unsubscribe(sub);
    try {
      this.sp.destroy();
    } catch (_) {
      /* ignore */
    }
    releaseRenderer(this);
    this.canvas.remove();
    this.ring.remove();
  }
}
