// A transparent 2-D canvas over the scatter for what the scatter itself does not
// draw: search matches, category names, rings around points added with
// add_points(), the focused (clicked) point, and trails of selected points over
// the kept frames. It follows the scatter's camera through
// scatter.screenMapper(); it takes no mouse events.

import { h } from "./dom.js";
import { placeLabels } from "./map_labels.js";

/** Search matches marked on the map at most (the count says how many there are). */
export const MAX_MARKS = 20000;
const LABEL_FONT = "600 12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

export class Overlay {
  constructor(container) {
    this.canvas = h("canvas.vw-overlay", { attrs: { "aria-hidden": "true" } });
    container.append(this.canvas);
    this.ctx = this.canvas.getContext("2d");
    this.width = 0;
    this.height = 0;
    this.stats = { rings: 0, trails: 0, focused: false, marks: 0, labels: [] };
  }

  _size(w, hgt) {
    const dpr = window.devicePixelRatio || 1;
    if (w === this.width && hgt === this.height && dpr === this.dpr) return;
    this.width = w;
    this.height = hgt;
    this.dpr = dpr;
    this.canvas.width = Math.max(1, Math.round(w * dpr));
    this.canvas.height = Math.max(1, Math.round(hgt * dpr));
    this.canvas.style.width = `${w}px`;
    this.canvas.style.height = `${hgt}px`;
  }

  /**
   * @param {object} o
   *   map: (x, y) => [px, py]; width, height (CSS px);
   *   rings: Float32Array x,y pairs (new points) or null; ringColor;
   *   focused: [x, y] or null; focusColor;
   *   trails: array of Float32Array polylines or null; trailColor;
   *   marks: Float32Array x,y pairs (search matches) or null; markColor;
   *   labels: {anchors, names} (see map_labels.js) or null; labelColor, haloColor;
   */
  draw(o) {
    if (!this.ctx) return this.stats;
    this._size(o.width, o.height);
    const ctx = this.ctx, dpr = this.dpr, W = o.width, H = o.height;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const stats = { rings: 0, trails: 0, focused: false, marks: 0, labels: [] };
    const inside = (p) => p[0] >= -8 && p[1] >= -8 && p[0] <= W + 8 && p[1] <= H + 8;
    if (o.marks && o.marks.length) stats.marks = this._marks(o, inside);
    if (o.trails && o.trails.length) {
      ctx.save();
      ctx.strokeStyle = o.trailColor;
      ctx.globalAlpha = 0.55;
      ctx.lineWidth = 1.25;
      ctx.lineJoin = "round";
      ctx.beginPath();
      for (const line of o.trails) {
        if (line.length < 4) continue;
        let p = o.map(line[0], line[1]);
        ctx.moveTo(p[0], p[1]);
        for (let i = 2; i < line.length; i += 2) {
          p = o.map(line[i], line[i + 1]);
          ctx.lineTo(p[0], p[1]);
        }
        stats.trails++;
      }
      ctx.stroke();
      // the start of each trail: a small hollow square (where the point began)
      ctx.globalAlpha = 0.8;
      for (const line of o.trails) {
        if (line.length < 4) continue;
        const p = o.map(line[0], line[1]);
        ctx.strokeRect(p[0] - 1.5, p[1] - 1.5, 3, 3);
      }
      ctx.restore();
    }
    if (o.rings && o.rings.length) {
      ctx.save();
      ctx.strokeStyle = o.ringColor;
      ctx.globalAlpha = 0.75;
      ctx.lineWidth = 1.2;
      const r = Math.max(4, (o.pointSize || 4) / 2 + 3);
      ctx.beginPath();
      for (let i = 0; i + 1 < o.rings.length; i += 2) {
        const p = o.map(o.rings[i], o.rings[i + 1]);
        if (!inside(p)) continue;
        ctx.moveTo(p[0] + r, p[1]);
        ctx.arc(p[0], p[1], r, 0, 2 * Math.PI);
        stats.rings++;
      }
      ctx.stroke();
      ctx.restore();
    }
    if (o.focused) {
      const p = o.map(o.focused[0], o.focused[1]);
      if (inside(p)) {
        ctx.save();
        ctx.strokeStyle = o.focusColor;
        ctx.lineWidth = 2;
        ctx.beginPath();
        ctx.arc(p[0], p[1], 9, 0, 2 * Math.PI);
        for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1]]) {
          ctx.moveTo(p[0] + dx * 12, p[1] + dy * 12);
          ctx.lineTo(p[0] + dx * 18, p[1] + dy * 18);
        }
        ctx.stroke();
        ctx.restore();
        stats.focused = true;
      }
    }
    if (o.labels && o.labels.anchors.length) stats.labels = this._labels(o, W, H);
    this.stats = stats;
    return stats;
  }

  /** A ring around each match (the first MAX_MARKS): they stay readable on any colour. */
  _marks(o, inside) {
    const ctx = this.ctx;
    const r = Math.max(3.5, (o.pointSize || 4) / 2 + 2.5);
    let drawn = 0;
    ctx.save();
    ctx.strokeStyle = o.markColor;
    ctx.lineWidth = 1.6;
    ctx.beginPath();
    for (let i = 0; i + 1 < o.marks.length && drawn < MAX_MARKS; i += 2) {
      const p = o.map(o.marks[i], o.marks[i + 1]);
      if (!inside(p)) continue;
      ctx.moveTo(p[0] + r, p[1]);
      ctx.arc(p[0], p[1], r, 0, 2 * Math.PI);
      drawn++;
    }
    ctx.stroke();
    ctx.restore();
    return drawn;
  }

  /** Category names at their anchors, with a halo in the background colour. */
  _labels(o, W, H) {
    const ctx = this.ctx;
    ctx.save();
    ctx.font = LABEL_FONT;
    const placed = placeLabels(o.labels.anchors, o.labels.names, o.map, (t) => ctx.measureText(t).width, { width: W, heightPx: H });
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    ctx.lineJoin = "round";
    ctx.lineWidth = 3.5;
    ctx.strokeStyle = o.haloColor;
    ctx.fillStyle = o.labelColor;
    for (const l of placed) {
      ctx.strokeText(l.text, l.px, l.py);
      ctx.fillText(l.text, l.px, l.py);
    }
    ctx.restore();
    return placed.map((l) => l.text);
  }

  destroy() {
    this.canvas.remove();
  }
}
