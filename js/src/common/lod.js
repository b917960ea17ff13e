// Level of detail for maps too big to draw in time.
//
// A draw of a million points takes ~0.7 s of the page in a software WebGL
// renderer (SwiftShader: headless browsers, machines without a GPU): the rows
// are packed into a texture and every point goes through the vertex shader on
// the CPU. While anything moves (frames streaming in, the user zooming, panning
// or drawing a lasso) GLScatter then draws a fixed random subsample sized to a
// time budget, and the whole map once everything rests. Hover, click, lasso,
// search and labels always use every point; only the picture is thinned.
//
//   DrawBudget  learns the cost of drawing a point from the draws it is told
//               of, and says how many points fit the budget.
//   Subsample   k of n points, the same ones every frame (no flicker), sorted,
//               with the way back and forth between point and drawn row.

/**
 * How many points can be drawn within `budgetMs`, learnt from past draws of
 * whole maps (a draw also has fixed costs: a frame's wait, the canvas copy;
 * a large draw's time per point is what a point adds).
 */
export class DrawBudget {
  /**
   * @param budgetMs  time one draw may hold the page
   * @param minPoints never thin below this many points
   * @param minN      maps smaller than this are always drawn whole
   */
  constructor({ budgetMs = 60, minPoints = 20000, minN = 50000 } = {}) {
    this.budgetMs = budgetMs;
    this.minPoints = minPoints;
    this.minN = minN;
    this.msPerPoint = null; // unknown until a draw was timed
  }

  /** A draw of `points` points held the page for `ms`. */
  record(ms, points) {
    if (!(points > 0) || !(ms >= 0)) return;
    const c = ms / points;
    this.msPerPoint = this.msPerPoint === null ? c : 0.5 * this.msPerPoint + 0.5 * c;
  }

  /** Points of n to draw while things move: n when all of them fit the budget. */
  size(n) {
    if (n < this.minN || this.msPerPoint === null || n * this.msPerPoint <= this.budgetMs) return n;
    const k = Math.floor(this.budgetMs / this.msPerPoint);
    // two significant digits: the subsample is not rebuilt for every small change
    const step = 10 ** Math.max(0, Math.floor(Math.log10(Math.max(k, 1))) - 1);
    return Math.min(n, Math.max(this.minPoints, Math.round(k / step) * step));
  }
}

/** A seeded permutation of 0..n-1 (xorshift32 Fisher-Yates). */
export function permutation(n, seed = 0x9e3779b9) {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  let s = seed >>> 0 || 1;
  for (let i = n - 1; i > 0; i--) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    const j = s % (i + 1);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** k of n points drawn in their place: rows[j] is point sub[j]; inv[i] its row or -1. */
export class Subsample {
  constructor(n, k, perm = permutation(n)) {
    this.n = n;
    this.k = Math.min(k, n);
    this.sub = perm.slice(0, this.k).sort();
    this.inv = new Int32Array(n).fill(-1);
    for (let j = 0; j < this.k; j++) this.inv[this.sub[j]] = j;
  }

  /** The drawn rows of these points (points not drawn are left out). */
  rows(indices) {
    const out = [];
    for (const i of indices) {
      const j = i >= 0 && i < this.n ? this.inv[i] : -1;
      if (j >= 0) out.push(j);
    }
    return out;
  }
}
