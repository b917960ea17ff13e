// Image grids from the kernel (unit-tested): uint8 pixels of shape
// [rows, cols, C, H, W] (channels first) -> one RGBA mosaic at native
// resolution (cols * W by rows * H, no gaps); the view scales each cell by an
// integer factor with pixelated drawing and puts the gaps in between.
//
// layout "image":    C = 1 grey, C = 3 RGB, C = 4 RGBA, other C: channel 0.
// layout "features": each cell is (1, 1, n_features), one pixel per feature,
//                    coloured by a colour map: diverging for z-scores (128 = the
//                    feature's mean), viridis for linear [lo, hi] values.

import { colormapLUT } from "../common/color_maps.js";
import { copyPixel } from "../common/thumbnails.js";

export const GRID_KINDS = ["reconstructions", "samples", "traversal", "interpolation"];

/** [rows, cols, C, H, W] -> geometry, or null when the shape is not usable. */
export function gridGeometry(shape) {
  if (!Array.isArray(shape) || shape.length !== 5) return null;
  const d = shape.map(Number);
  if (d.some((v) => !Number.isInteger(v) || v <= 0)) return null;
  const [rows, cols, channels, height, width] = d;
  const cell = channels * height * width;
  return { rows, cols, channels, height, width, cell, total: rows * cols * cell };
}

/** The colour map used for a grid's labels (null: grey / RGB image). */
export function gridColormap(labels) {
  if (!labels || labels.layout !== "features") return null;
  return labels.scale === "zscore" ? "diverging" : "viridis";
}

/**
 * Decode a grid. Returns null when the shape is bad or the buffer too short.
 * -> {rows, cols, cellW, cellH, width, height, data: Uint8ClampedArray RGBA,
 *     layout, colormap, channels}
 */
export function decodeGrid(pixels, shape, labels) {
  const g = gridGeometry(shape);
  if (!g || !pixels || pixels.length < g.total) return null;
  const { rows, cols, channels, height: H, width: W, cell } = g;
  const cmap = gridColormap(labels);
  const lut = cmap ? colormapLUT(cmap) : null;
  const width = cols * W, height = rows * H;
  const data = new Uint8ClampedArray(width * height * 4);
  const plane = H * W;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const base = (r * cols + c) * cell;
      for (let y = 0; y < H; y++) {
        for (let x = 0; x < W; x++) {
          const p = y * W + x;
          const o = (((r * H + y) * width) + c * W + x) * 4;
          if (lut) {
            const k = pixels[base + p] * 3;
            data[o] = lut[k];
            data[o + 1] = lut[k + 1];
            data[o + 2] = lut[k + 2];
            data[o + 3] = 255;
          } else copyPixel(data, o, pixels, base, plane, p, channels);
        }
      }
    }
  }
  return { rows, cols, cellW: W, cellH: H, width, height, data, layout: cmap ? "features" : "image", colormap: cmap, channels };
}

/** uint8 pixel value -> data value: value_range [lo, hi] maps 0 -> lo, 255 -> hi. */
export function pixelValue(v, labels) {
  const r = Array.isArray(labels?.value_range) ? labels.value_range.map(Number) : [0, 1];
  const lo = Number.isFinite(r[0]) ? r[0] : 0;
  const hi = Number.isFinite(r[1]) ? r[1] : 1;
  return lo + (v / 255) * (hi - lo);
}

/**
 * Integer cell scale for the available width.
 * Images: the same factor on both axes, so that the larger side is at most
 * `maxCell` px (and at least 1x). Feature strips: `sx` px per feature (1..12)
 * and a fixed strip height `stripH`.
 * -> {sx, sy, cellW, cellH} in CSS pixels.
 */
export function cellScale({ cellW, cellH, cols, layout }, available, { gap = 2, maxCell = 64, stripH = 14 } = {}) {
  const room = Math.max(1, available - gap * Math.max(0, cols - 1));
  const fit = Math.floor(room / Math.max(1, cols * cellW));
  if (layout === "features") {
    const sx = Math.max(1, Math.min(12, fit));
    return { sx, sy: Math.max(1, Math.round(stripH / Math.max(1, cellH))), cellW: cellW * sx, cellH: stripH };
  }
  const cap = Math.max(1, Math.floor(maxCell / Math.max(cellW, cellH)));
  const s = Math.max(1, Math.min(cap, fit));
  return { sx: s, sy: s, cellW: cellW * s, cellH: cellH * s };
}
