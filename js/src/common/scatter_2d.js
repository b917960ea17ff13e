// 2-D canvas scatter: the fallback when WebGL is unavailable. Same interface
// as GLScatter. Points are written straight into an ImageData buffer (fast
// for 100k points); wheel zooms, drag pans, shift+drag (or lasso mode) lassos,
// hovering finds the nearest point within a few pixels.

import { applyFit, computeFit, followFit, MIN_VIEW_PX, takeSize } from "./fit.js";
import { parseColor, mix } from "./colors.js";
import { pointsInPolygon } from "./lasso.js";

const LITTLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const pack = (r, g, b, a = 255) => (LITTLE ? ((a << 24) | (b << 16) | (g << 8) | r) >>> 0 : ((r << 24) | (g << 16) | (b << 8) | a) >>> 0);

export class Canvas2DScatter {
  constructor(container, o) {
    this.webgl = false;
    this.container = container;
    this.o = o;
    this.theme = o.theme;
    this.positions = new Float32Array(0);
    this.codes = null;
    this.palette = [o.theme.point];
    this.selection = [];
    this.selSet = new Set();
    this.hiddenMask = null; // Uint8Array: 1 = not drawn, hovered or lassoed (setFilter)
    this.fit = { cx: 0, cy: 0, s: 1 };
    this.view = { k: 1, tx: 0, ty: 0 }; // camera: ndc' = ndc * k + t
    this.userCamera = false;
    this.pointSize = o.pointSize ?? 4;
    this.lassoMode = false;
    this.hover = null;
    this.lasso = null;
    this.width = Math.max(MIN_VIEW_PX, container.clientWidth || 520);
    this.height = Math.max(MIN_VIEW_PX, container.clientHeight || 420);
    this.canvas = document.createElement("canvas");
    this.canvas.className = "vw-scatter-canvas";
    container.append(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.sx = new Float32Array(0);
    this.sy = new Float32Array(0);
    this._size();
    this._bind();
  }

  _size() {
    const dpr = window.devicePixelRatio || 1;
    this.dpr = dpr;
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
  }

  _bind() {
    const c = this.canvas;
    const rel = (e) => {
      const r = c.getBoundingClientRect();
      return [e.clientX - r.left, e.clientY - r.top];
    };
    this.onWheel = (e) => {
      e.preventDefault();
      const [mx, my] = rel(e);
      const f = Math.exp(-e.deltaY * 0.0015);
      const a = this.width / this.height;
      // NDC under the cursor stays put.
      const nx = (mx / this.width) * 2 * a - a, ny = 1 - (my / this.height) * 2;
      const v = this.view;
      v.tx = nx - (nx - v.tx) * f;
      v.ty = ny - (ny - v.ty) * f;
      v.k *= f;
      this._userMoved();
    };
    // Window capture-phase listeners: JupyterLab's notebook takes over
    // shift+drags (cell-range selection) and swallows the mousemoves, so we
    // see the events first and keep shift+mousedown on the canvas to ourselves.
    this.onDown = (e) => {
      if (e.target !== c || e.button !== 0) return;
      const p = rel(e);
      if (e.shiftKey || this.lassoMode) {
        this.lasso = [p[0], p[1]];
        e.stopPropagation();
      } else this.drag = { p, t: [this.view.tx, this.view.ty], moved: false };
      e.preventDefault();
    };
    this.onMove = (e) => {
      const p = rel(e);
      if (this.lasso) {
        const l = this.lasso;
        if (Math.hypot(p[0] - l[l.length - 2], p[1] - l[l.length - 1]) >= 2) l.push(p[0], p[1]);
        this._paint();
        return;
      }
      if (this.drag && e.buttons & 1) {
        const dx = p[0] - this.drag.p[0], dy = p[1] - this.drag.p[1];
        if (Math.hypot(dx, dy) > 3) this.drag.moved = true;
        if (this.drag.moved) {
          const a = this.width / this.height;
          this.view.tx = this.drag.t[0] + (dx / this.width) * 2 * a;
          this.view.ty = this.drag.t[1] - (dy / this.height) * 2;
          this._userMoved();
        }
        return;
      }
      if (e.target === c) this._hoverAt(p);
    };
    this.onUp = (e) => {
      if (this.lasso) {
        const poly = this.lasso;
        this.lasso = null;
        const idx = pointsInPolygon(this.sx, this.sy, poly).filter((i) => !this._hidden(i));
        this.selection = idx;
        this.selSet = new Set(idx);
        this._paint();
        this.o.onSelect?.(idx);
      } else if (this.drag && !this.drag.moved && e.target === c) {
        // A click: select the point under the cursor, or clear on empty space.
        const i = this._nearest(rel(e), 6);
        this.selection = i === null ? [] : [i];
        this.selSet = new Set(this.selection);
        this._paint();
        this.o.onSelect?.(this.selection);
      }
      this.drag = null;
    };
    this.onLeave = () => {
      if (this.hover !== null) {
        this.hover = null;
        this.o.onHover?.(null);
        this._paint();
      }
    };
    c.addEventListener("wheel", this.onWheel, { passive: false });
    c.addEventListener("mouseleave", this.onLeave);
    window.addEventListener("mousedown", this.onDown, true);
    window.addEventListener("mousemove", this.onMove, true);
    window.addEventListener("mouseup", this.onUp, true);
  }

  _userMoved() {
    if (!this.userCamera) {
      this.userCamera = true;
      this.o.onUserCamera?.();
    }
    this._paint();
  }

  _hidden(i) {
    return this.hiddenMask !== null && this.hiddenMask[i] === 1;
  }

  _nearest([mx, my], radius) {
    let best = null, bd = radius * radius;
    for (let i = 0; i < this.sx.length; i++) {
      if (this._hidden(i)) continue;
      const dx = this.sx[i] - mx, dy = this.sy[i] - my, d = dx * dx + dy * dy;
      if (d <= bd) {
        bd = d;
        best = i;
      }
    }
    return best;
  }

  _hoverAt(p) {
    const i = this._nearest(p, Math.max(4, this.pointSize + 2));
    if (i !== this.hover) {
      this.hover = i;
      this.o.onHover?.(i);
      this._paint();
    }
  }

  setPositions(pos) {
    this.positions = pos;
    // the user's camera keeps the fit, unless the map grew or shrank far beyond it
    this.fit = this.userCamera
      ? followFit(this.fit, pos, this.width / this.height)
      : computeFit(pos, this.width / this.height);
    this._paint();
    return Promise.resolve();
  }

  setColors({ codes, palette }) {
    this.codes = codes;
    this.palette = palette;
    this._paint();
    return Promise.resolve();
  }

  setSelection(indices) {
    this.selection = indices.slice();
    this.selSet = new Set(indices);
    this._paint();
  }

  setFilter(indices) {
    this.filterIdx = indices || null;
    this.hiddenMask = null; // rebuilt for the drawn points in _paint
    this._paint();
  }

  _mask(n) {
    if (!this.filterIdx || this.filterIdx.length >= n) return null;
    if (!this.hiddenMask || this.hiddenMask.length !== n) {
      this.hiddenMask = new Uint8Array(n).fill(1);
      for (const i of this.filterIdx) if (i < n) this.hiddenMask[i] = 0;
    }
    return this.hiddenMask;
  }

  setPointSize(px) {
    this.pointSize = px;
    this._paint();
  }

  setLassoMode(on) {
    this.lassoMode = on;
  }

  setTheme(theme) {
    this.theme = theme;
    this._paint();
  }

  resetView() {
    this.userCamera = false;
    this.view = { k: 1, tx: 0, ty: 0 };
    this.fit = computeFit(this.positions, this.width / this.height);
    this._paint();
    return Promise.resolve();
  }

  resize(width, height) {
    if (!takeSize(this, width, height)) return;
    this._size();
    this._paint();
  }

  screenPosition(i) {
    return i >= 0 && i < this.sx.length ? [this.sx[i], this.sy[i]] : null;
  }

  /** Data coordinates -> CSS pixels under the current fit and camera (for overlays). */
  screenMapper() {
    const { cx, cy, s } = this.fit;
    const v = { ...this.view }, a = this.width / this.height, W = this.width, H = this.height;
    return (x, y) => {
      const nx = (x - cx) * s * v.k + v.tx, ny = (y - cy) * s * v.k + v.ty;
      return [((nx / a + 1) / 2) * W, ((1 - ny) / 2) * H];
    };
  }

  _paint() {
    const { width: W, height: H } = this.canvas;
    if (!W || !H || !this.ctx) return;
    const pos = this.positions, n = pos.length >> 1;
    const xs = new Float32Array(n), ys = new Float32Array(n);
    applyFit(pos, this.fit, xs, ys);
    // Screen coordinates (CSS px) for hit-testing and the lasso.
    const a = this.width / this.height, v = this.view;
    if (this.sx.length !== n) {
      this.sx = new Float32Array(n);
      this.sy = new Float32Array(n);
    }
    for (let i = 0; i < n; i++) {
      const x = xs[i] * v.k + v.tx, y = ys[i] * v.k + v.ty;
      this.sx[i] = ((x / a + 1) / 2) * this.width;
      this.sy[i] = ((1 - y) / 2) * this.height;
    }
    const bg = this.theme.bg;
    const img = this.ctx.createImageData(W, H);
    const buf = new Uint32Array(img.data.buffer);
    buf.fill(pack(bg[0], bg[1], bg[2]));
    const dim = this.selSet.size > 0;
    const colors = this.palette.map((css) => {
      const c = (parseColor(css) || [128, 128, 128]).slice(0, 3);
      return { on: pack(...c.map(Math.round)), off: pack(...mix(c, bg, 0.8).map(Math.round)) };
    });
    const codes = this.codes && this.codes.length === n ? this.codes : null;
    const dpr = this.dpr;
    // squares look larger than regl's round points: shrink a little
    const size = Math.max(1, Math.round(0.85 * this.pointSize * dpr * Math.min(3, Math.max(1, Math.sqrt(v.k)))));
    const half = size >> 1;
    const plot = (i, col) => {
      const px = Math.round(this.sx[i] * dpr) - half, py = Math.round(this.sy[i] * dpr) - half;
      if (px >= W || py >= H || px + size <= 0 || py + size <= 0) return;
      const x0 = Math.max(0, px), x1 = Math.min(W, px + size), y0 = Math.max(0, py), y1 = Math.min(H, py + size);
      for (let y = y0; y < y1; y++) buf.fill(col, y * W + x0, y * W + x1);
    };
    const hidden = this._mask(n);
    for (let i = 0; i < n; i++) {
      if ((dim && this.selSet.has(i)) || (hidden && hidden[i])) continue;
      const c = colors[codes ? codes[i] : 0] || colors[0];
      plot(i, dim ? c.off : c.on);
    }
    if (dim) for (const i of this.selection) if (i < n && !(hidden && hidden[i])) plot(i, (colors[codes ? codes[i] : 0] || colors[0]).on);
    this.ctx.putImageData(img, 0, 0);
    const ctx = this.ctx;
    if (this.hover !== null && this.hover < n) {
      ctx.save();
      ctx.strokeStyle = this.theme.text;
      ctx.lineWidth = 1.5 * dpr;
      ctx.beginPath();
      ctx.arc(this.sx[this.hover] * dpr, this.sy[this.hover] * dpr, (size / 2 + 3) , 0, 2 * Math.PI);
      ctx.stroke();
      ctx.restore();
    }
    if (this.lasso && this.lasso.length >= 4) {
      ctx.save();
      ctx.strokeStyle = this.theme.css.brand || "#1976d2";
      ctx.lineWidth = 2 * dpr;
      ctx.beginPath();
      ctx.moveTo(this.lasso[0] * dpr, this.lasso[1] * dpr);
      for (let i = 2; i < this.lasso.length; i += 2) ctx.lineTo(this.lasso[i] * dpr, this.lasso[i + 1] * dpr);
      ctx.closePath();
      ctx.stroke();
      ctx.restore();
    }
    this.o.onView?.();
  }

  destroy() {
    const c = this.canvas;
    c.removeEventListener("wheel", this.onWheel);
    c.removeEventListener("mouseleave", this.onLeave);
    window.removeEventListener("mousedown", this.onDown, true);
    window.removeEventListener("mousemove", this.onMove, true);
    window.removeEventListener("mouseup", this.onUp, true);
    c.remove();
  }
}
