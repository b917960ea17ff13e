// Polygon hit-testing for the 2-D canvas fallback's lasso (unit-tested).

/** Even-odd rule: is (x, y) inside the polygon given as flat [x0, y0, x1, y1, ...]? */
export function pointInPolygon(x, y, poly) {
  let inside = false;
  const n = poly.length >> 1;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = poly[2 * i], yi = poly[2 * i + 1], xj = poly[2 * j], yj = poly[2 * j + 1];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/**
 * Indices of points (screen coordinates in xs / ys) inside the polygon.
 * Uses the polygon's bounding box as a quick reject.
 */
export function pointsInPolygon(xs, ys, poly) {
  if (poly.length < 6) return [];
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < poly.length; i += 2) {
    minX = Math.min(minX, poly[i]);
    maxX = Math.max(maxX, poly[i]);
    minY = Math.min(minY, poly[i + 1]);
    maxY = Math.max(maxY, poly[i + 1]);
  }
  const out = [];
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i], y = ys[i];
    if (x < minX || x > maxX || y < minY || y > maxY) continue;
    if (pointInPolygon(x, y, poly)) out.push(i);
  }
  return out;
}
