// Mapping embedding coordinates to regl-scatterplot's normalized device
// coordinates, and point-size choice. Pure functions (unit-tested).
//
// regl-scatterplot (data aspect ratio 1) shows y in [-1, 1] over the full
// height and x in [-aspect, aspect] over the full width (aspect = W / H).

/** Bounding box of finite x,y pairs: {minX, maxX, minY, maxY, count}. */
export function bounds(pos) {
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity, count = 0;
  for (let i = 0; i + 1 < pos.length; i += 2) {
    const x = pos[i], y = pos[i + 1];
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
    count++;
  }
  return { minX, maxX, minY, maxY, count };
}

/**
 * A fit {cx, cy, s} such that ndc = ((x - cx) * s, (y - cy) * s) shows every
 * finite point inside a view of the given aspect (width / height), leaving a
 * `pad` fraction free at the border. Same scale on both axes (no distortion).
 */
export function computeFit(pos, aspect = 1, pad = 0.06) {
  const b = bounds(pos);
  if (!b.count) return { cx: 0, cy: 0, s: 1 };
  const cx = (b.minX + b.maxX) / 2, cy = (b.minY + b.maxY) / 2;
  const hx = (b.maxX - b.minX) / 2, hy = (b.maxY - b.minY) / 2;
  const a = aspect > 0 && Number.isFinite(aspect) ? aspect : 1;
  let s = Math.min(hx > 0 ? a / hx : Infinity, hy > 0 ? 1 / hy : Infinity);
  if (!Number.isFinite(s) || s <= 0) s = 1; // a single point (or all equal)
  return { cx, cy, s: s * (1 - pad) };
}

/** The smallest width or height (CSS px) a scatter draws into; a smaller one is a layout in passing. */
export const MIN_VIEW_PX = 50;

/**
 * Take a new size for a scatter renderer `r` ({width, height, userCamera, positions,
 * fit}): rounds it and returns false when it is too small to draw into or unchanged;
 * else stores it, refits the map unless the user has moved the camera, and returns true.
 */
export function takeSize(r, width, height) {
  width = Math.round(width);
  height = Math.round(height);
  if (width < MIN_VIEW_PX || height < MIN_VIEW_PX || (width === r.width && height === r.height)) return false;
  r.width = width;
  r.height = height;
  if (!r.userCamera) r.fit = computeFit(r.positions, width / height);
  return true;
}

/**
 * The fit for a new frame once the user has moved the camera. The user's zoom and
 * pan apply to the fitted map, so the fit is kept (later frames are drawn in the
 * same coordinates, the camera shows the same place) while the map keeps its scale.
 * When the map grew more than `grow`-fold (its points would leave the view) or
 * shrank more than `shrink`-fold, the frame is fitted afresh, and the camera shows
 * the same part of the map relative to its box. t-SNE starts from a layout ~1e-4
 * wide and early exaggeration grows it ~1e5-fold: a fit kept from a zoom early in a
 * run left every later point off screen (an empty map).
 */
export function followFit(prev, pos, aspect = 1, grow = 1.25, shrink = 4) {
  const next = computeFit(pos, aspect);
  if (!prev || !(prev.s > 0) || !Number.isFinite(prev.s)) return next;
  const r = next.s / prev.s; // < 1: the map grew
  return r < 1 / grow || r > shrink ? next : prev;
}

/**
 * Apply a fit: writes NDC coordinates into outX / outY (Float32Array of n).
 * Non-finite positions go to the centre (they are never expected from t-SNE).
 */
export function applyFit(pos, fit, outX, outY) {
  const n = pos.length >> 1;
  const { cx, cy, s } = fit;
  for (let i = 0; i < n; i++) {
    const x = pos[2 * i], y = pos[2 * i + 1];
    if (Number.isFinite(x) && Number.isFinite(y)) {
      outX[i] = (x - cx) * s;
      outY[i] = (y - cy) * s;
    } else {
      outX[i] = 0;
      outY[i] = 0;
    }
  }
  return n;
}

/** NDC -> CSS pixel in a W x H view (no camera transform). */
export function ndcToScreen(x, y, width, height) {
  const aspect = width / height;
  return [((x / aspect + 1) / 2) * width, ((1 - y) / 2) * height];
}

/** Point size in CSS pixels for n points: 4 px under 5k down to 1.5 px for 100k+. */
export function pointSizeFor(n) {
  if (n < 1000) return 5;
  if (n < 5000) return 4;
  if (n < 20000) return 3;
  if (n < 100000) return 2;
  if (n < 1000000) return 1.5;
  return 1;
}
