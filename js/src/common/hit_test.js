// Which point is under the mouse, answered from the KDBush index of the drawn
// points, on the mousemove itself.
//
// regl-scatterplot hit-tests inside the page too, but every hover it finds
// also redraws the whole map to highlight the point; with a software WebGL
// renderer (SwiftShader: headless browsers, machines without a GPU) one draw
// of a million points holds the page for about 0.4 s, so hover waited for
// drawing. GLScatter turns regl-scatterplot's hover off and asks this module
// instead; the highlight is a DOM ring, not a redraw.
//
// Coordinates: the points are drawn at normalised positions (fit.js applyFit)
// that regl-scatterplot's camera maps to the screen with the 4x4 column-major
// view matrix `v` and an aspect-ratio projection (x / (W / H)).

import KDBush from "kdbush";

/** CSS pixel of the data (drawn, normalised) point (x, y) in a W x H view. */
export function dataToScreen(v, W, H, x, y) {
  const vx = v[0] * x + v[4] * y + v[12], vy = v[1] * x + v[5] * y + v[13];
  return [((vx / (W / H) + 1) / 2) * W, ((1 - vy) / 2) * H];
}

/** Data (drawn, normalised) coordinates of the CSS pixel (px, py) of a W x H view. */
export function screenToData(v, W, H, px, py) {
  const a = W / H;
  const vx = ((2 * px) / W - 1) * a - v[12];
  const vy = 1 - (2 * py) / H - v[13];
  const det = v[0] * v[5] - v[4] * v[1];
  if (!det) return [NaN, NaN];
  return [(v[5] * vx - v[4] * vy) / det, (v[0] * vy - v[1] * vx) / det];
}

/** A radius of `px` CSS pixels in data coordinates, in a view `H` pixels high. */
export function dataRadius(v, H, px) {
  const scale = Math.sqrt(Math.abs(v[0] * v[5] - v[4] * v[1])) || 1;
  return (2 * px) / (H * scale);
}

/**
 * A hit tester over the serialised KDBush `index` of the points (xs[i], ys[i])
 * it was built from. `hidden`: optional Uint8Array, 1 = not drawn (never hit).
 */
export class HitTest {
  constructor(index, xs, ys) {
    this.kd = KDBush.from(index);
    this.xs = xs;
    this.ys = ys;
  }

  /** The nearest point within r of (x, y), or -1. */
  nearest(x, y, r, hidden = null) {
    if (!(r > 0) || !Number.isFinite(x) || !Number.isFinite(y)) return -1;
    let best = -1, bd = r * r;
    for (const i of this.kd.within(x, y, r)) {
      if (hidden && hidden[i]) continue;
      const dx = this.xs[i] - x, dy = this.ys[i] - y, d = dx * dx + dy * dy;
      if (d <= bd && (best < 0 || d < bd || i < best)) {
        bd = d;
        best = i;
      }
    }
    return best;
  }

  /** The point under CSS pixel (px, py) of a W x H view with camera `v`, or -1. */
  at(v, W, H, px, py, radiusPx, hidden = null) {
    const [x, y] = screenToData(v, W, H, px, py);
    return this.nearest(x, y, dataRadius(v, H, radiusPx), hidden);
  }
}
