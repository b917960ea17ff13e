// KL-per-dimension heatmap data (unit-tested): rows = latent dimensions,
// columns = step bins across the run, colour = nats through a colour map.

import { colormapLUT } from "../common/color_maps.js";

/**
 * Bin the store's KL rows into at most `maxCols` columns spread evenly over
 * the steps held (each column shows the last row in its bin; an empty bin
 * repeats the previous column so gaps in the history do not flicker).
 * -> {dims, cols, values: Float32Array(dims * cols) row-major (dim, column),
 *     step0, step1, colStep: [step shown by each column], last: Float32Array | null}
 */
export function klMatrix(store, maxCols = 240) {
  const dims = store.latentDim || 0;
  const steps = store.cols.step;
  const idx = [];
  for (let i = 0; i < store.kl.length; i++) if (store.kl[i] && store.kl[i].length === dims && Number.isFinite(steps[i])) idx.push(i);
  if (!dims || !idx.length) return { dims, cols: 0, values: new Float32Array(0), step0: 0, step1: 0, colStep: [], last: null };
  const step0 = steps[idx[0]];
  const step1 = steps[idx[idx.length - 1]];
  const cols = Math.max(1, Math.min(maxCols, idx.length));
  const values = new Float32Array(dims * cols).fill(NaN);
  const colStep = new Array(cols).fill(NaN);
  const span = step1 - step0;
  for (const i of idx) {
    const c = span > 0 ? Math.min(cols - 1, Math.floor(((steps[i] - step0) / span) * cols)) : cols - 1;
    const row = store.kl[i];
    for (let d = 0; d < dims; d++) values[d * cols + c] = row[d];
    colStep[c] = steps[i];
  }
  for (let c = 1; c < cols; c++) {
    if (Number.isFinite(colStep[c])) continue;
    colStep[c] = colStep[c - 1];
    for (let d = 0; d < dims; d++) values[d * cols + c] = values[d * cols + c - 1];
  }
  return { dims, cols, values, step0, step1, colStep, last: store.kl[idx[idx.length - 1]] };
}

/** Upper end of the colour scale: the `q` quantile of finite values (an early spike does not wash out the rest). */
export function robustMax(values, q = 0.99) {
  const v = [];
  for (const x of values) if (Number.isFinite(x)) v.push(x);
  if (!v.length) return 1;
  v.sort((a, b) => a - b);
  const m = v[Math.min(v.length - 1, Math.floor(q * (v.length - 1) + 0.5))];
  return m > 1e-6 ? m : Math.max(v[v.length - 1], 1e-3);
}

/** Dimension order: identity, or by the latest KL, largest first (ties keep index order). */
export function dimOrder(last, dims, sortByKl) {
  const order = Array.from({ length: dims }, (_, i) => i);
  if (sortByKl && last) order.sort((a, b) => (last[b] || 0) - (last[a] || 0) || a - b);
  return order;
}

/**
 * RGBA pixels (width = cols, height = dims in `order`) for a canvas ImageData.
 * NaN cells get `nan` ([r, g, b]).
 */
export function klImage(m, order, vmax, cmap = "viridis", nan = [128, 128, 128]) {
  const lut = colormapLUT(cmap);
  const { cols } = m;
  const out = new Uint8ClampedArray(order.length * cols * 4);
  const scale = vmax > 0 ? 255 / vmax : 0;
  order.forEach((d, r) => {
    for (let c = 0; c < cols; c++) {
      const v = m.values[d * cols + c];
      const o = (r * cols + c) * 4;
      if (!Number.isFinite(v)) {
        out[o] = nan[0];
        out[o + 1] = nan[1];
        out[o + 2] = nan[2];
      } else {
        const k = Math.max(0, Math.min(255, Math.round(v * scale))) * 3;
        out[o] = lut[k];
        out[o + 1] = lut[k + 1];
        out[o + 2] = lut[k + 2];
      }
      out[o + 3] = 255;
    }
  });
  return out;
}
