// Category names written on the map, at the centre of each category's points,
// recomputed for every drawn frame so they follow the points while t-SNE
// moves them. Pure functions (unit-tested); the overlay draws the result.
//
// "Centre" is robust to a category split over several clusters: the points
// are binned on a coarse grid, the category's densest cell wins, and the label
// sits at the mean of the category's points in that cell and its 8 neighbours
// (two passes over the points, no sorting).

const GRID = 32;
/** Longer category names are shortened on the map (the legend and hover have them whole). */
const MAX_CHARS = 24;

/**
 * Anchors of categories 0..k-1: an array of {code, x, y, count} (data
 * coordinates; count = points of that category), skipping empty categories
 * and the codes in `skip` (a Set: hidden, "other", missing).
 */
export function categoryAnchors(positions, codes, k, { grid = GRID, skip = null } = {}) {
  const n = Math.min(positions.length >> 1, codes ? codes.length : 0);
  if (!n || k <= 0) return [];
  let minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  for (let i = 0; i < n; i++) {
    const x = positions[2 * i], y = positions[2 * i + 1];
    if (x < minX) minX = x;
    if (x > maxX) maxX = x;
    if (y < minY) minY = y;
    if (y > maxY) maxY = y;
  }
  if (!Number.isFinite(minX) || !Number.isFinite(minY)) return [];
  const sx = (grid - 1e-6) / (maxX - minX || 1), sy = (grid - 1e-6) / (maxY - minY || 1);
  const cells = grid * grid;
  const hist = new Int32Array(k * cells);
  const total = new Int32Array(k);
  const cellOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = codes[i];
    if (!(c >= 0 && c < k) || (skip && skip.has(c))) {
      cellOf[i] = -1;
      continue;
    }
    const cx = Math.floor((positions[2 * i] - minX) * sx), cy = Math.floor((positions[2 * i + 1] - minY) * sy);
    const cell = cy * grid + cx;
    cellOf[i] = cell;
    hist[c * cells + cell]++;
    total[c]++;
  }
  const best = new Int32Array(k).fill(-1);
  for (let c = 0; c < k; c++) {
    if (!total[c]) continue;
    let top = -1, at = -1;
    for (let j = 0; j < cells; j++) {
      const v = hist[c * cells + j];
      if (v > top) {
        top = v;
        at = j;
      }
    }
    best[c] = at;
  }
  const sumX = new Float64Array(k), sumY = new Float64Array(k), cnt = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const cell = cellOf[i];
    if (cell < 0) continue;
    const c = codes[i], b = best[c];
    if (Math.abs((cell % grid) - (b % grid)) <= 1 && Math.abs(Math.floor(cell / grid) - Math.floor(b / grid)) <= 1) {
      sumX[c] += positions[2 * i];
      sumY[c] += positions[2 * i + 1];
      cnt[c]++;
    }
  }
  const out = [];
  for (let c = 0; c < k; c++) if (cnt[c]) out.push({ code: c, x: sumX[c] / cnt[c], y: sumY[c] / cnt[c], count: total[c] });
  return out;
}

/**
 * Labels to draw, biggest categories first, dropping any whose box would
 * overlap one already placed: [{code, text, px, py}] in CSS px. A label is
 * kept inside the view and long names are shortened to `maxChars`.
 * measure(text) -> width in px; map(x, y) -> [px, py]; boxes are centred.
 */
export function placeLabels(anchors, names, map, measure, { height = 14, pad = 3, width = Infinity, heightPx = Infinity, maxChars = MAX_CHARS } = {}) {
  const placed = [];
  const boxes = [];
  for (const a of [...anchors].sort((p, q) => q.count - p.count)) {
    const name = names[a.code];
    if (name === undefined || name === "") continue;
    const text = name.length > maxChars ? `${name.slice(0, maxChars - 1)}…` : name;
    let [px, py] = map(a.x, a.y);
    if (!(px >= 0 && py >= 0 && px <= width && py <= heightPx)) continue;
    const w = measure(text) + 2 * pad, hh = height + 2 * pad;
    // keep the whole label inside the view
    px = Math.min(Math.max(px, w / 2), Math.max(w / 2, width - w / 2));
    py = Math.min(Math.max(py, hh / 2), Math.max(hh / 2, heightPx - hh / 2));
    const box = [px - w / 2, py - hh / 2, px + w / 2, py + hh / 2];
    if (boxes.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) continue;
    boxes.push(box);
    placed.push({ code: a.code, text, px, py });
  }
  return placed;
}
