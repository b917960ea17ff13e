// Per-sample thumbnails: uint8 pixels, channels-first, one image per sample.
// Pure decoding to RGBA (unit-tested); the caller wraps the result in an
// ImageData and draws it on a small canvas with pixelated scaling.

/**
 * Interpret an image shape: [H, W] or [C, H, W] (channels first).
 * Returns {channels, height, width, size: bytes per sample} or null.
 */
export function imageGeometry(shape) {
  if (!Array.isArray(shape) || (shape.length !== 2 && shape.length !== 3)) return null;
  const dims = shape.map(Number);
  if (dims.some((d) => !Number.isInteger(d) || d <= 0)) return null;
  const [channels, height, width] = dims.length === 2 ? [1, dims[0], dims[1]] : dims;
  return { channels, height, width, size: channels * height * width };
}

/** Number of complete thumbnails in a buffer of `byteLength` bytes. */
export function thumbnailCount(byteLength, shape) {
  const g = imageGeometry(shape);
  return g ? Math.floor(byteLength / g.size) : 0;
}

/**
 * Decode sample `index` from `pixels` (Uint8Array of n * prod(shape)) to
 * {width, height, data: Uint8ClampedArray RGBA}. Grayscale for 2-D shapes and
 * C = 1, RGB for C = 3, RGBA for C = 4; other channel counts show channel 0.
 * Returns null when there is no such thumbnail.
 */
export function decodeThumbnail(pixels, shape, index) {
  const g = imageGeometry(shape);
  if (!g || !pixels || index < 0 || !Number.isInteger(index)) return null;
  const { channels, height, width, size } = g;
  const start = index * size;
  if (start + size > pixels.length) return null;
  const plane = height * width;
  const data = new Uint8ClampedArray(plane * 4);
  for (let p = 0; p < plane; p++) copyPixel(data, p * 4, pixels, start, plane, p, channels);
  return { width, height, data };
}

/**
 * Pixel p of a channels-first image (`channels` planes of `plane` values from `base`
 * in `pixels`) into RGBA `data` at byte `o`: grey, RGB or RGBA.
 */
export function copyPixel(data, o, pixels, base, plane, p, channels) {
  if (channels === 3 || channels === 4) {
    data[o] = pixels[base + p];
    data[o + 1] = pixels[base + plane + p];
    data[o + 2] = pixels[base + 2 * plane + p];
    data[o + 3] = channels === 4 ? pixels[base + 3 * plane + p] : 255;
  } else {
    const v = pixels[base + p];
    data[o] = v;
    data[o + 1] = v;
    data[o + 2] = v;
    data[o + 3] = 255;
  }
}

/** Integer CSS scale so that the larger side is about `target` px (>= 1). */
export function thumbnailScale(width, height, target = 72) {
  return Math.max(1, Math.floor(target / Math.max(width, height, 1)));
}
