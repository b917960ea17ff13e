// Gallery tiles (unit-tested): the kernel sends the flagged samples it picked as
// uint8 cells, one after another, each of shape `gallery_shape` = [C, H, W].
// layout "image": grey / RGB pixels; layout "features": a (1, 1, F) strip drawn
// with a colour map (diverging for z-scores, 128 = the feature's mean; viridis
// for linear [0, 1] values).

import { colormapLUT } from "../common/color_maps.js";
import { decodeThumbnail } from "../common/thumbnails.js";

/** Bytes per cell for a [C, H, W] shape, or 0 when the shape is unusable. */
export function cellSize(shape) {
  if (!Array.isArray(shape) || shape.length !== 3) return 0;
  const d = shape.map(Number);
  return d.every((v) => Number.isInteger(v) && v > 0) ? d[0] * d[1] * d[2] : 0;
}

/** The colour map of a feature strip, by the kernel's scale ("zscore" | "linear"). */
export const stripColormap = (scale) => (scale === "zscore" ? "diverging" : "viridis");

/**
 * Decode cell `index` -> {width, height, data: Uint8ClampedArray RGBA}, or null
 * when the buffer is too short or the shape bad.
 */
export function decodeCell(pixels, shape, index, layout = "image", scale = "linear") {
  const size = cellSize(shape);
  if (!size || !pixels || index < 0 || (index + 1) * size > pixels.length) return null;
  if (layout === "features") {
    const lut = colormapLUT(stripColormap(scale));
    const data = new Uint8ClampedArray(size * 4);
    for (let p = 0; p < size; p++) {
      const k = pixels[index * size + p] * 3;
      data.set([lut[k], lut[k + 1], lut[k + 2], 255], p * 4);
    }
    return { width: size, height: 1, data };
  }
  return decodeThumbnail(pixels, shape.map(Number), index);
}

/** Number of whole cells in a buffer of `byteLength` bytes. */
export function cellCount(byteLength, shape) {
  const size = cellSize(shape);
  return size ? Math.floor(byteLength / size) : 0;
}
