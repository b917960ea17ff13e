// Helpers to turn histories into uPlot-ready arrays (unit-tested).

/**
 * Contiguous runs where phases[i] === name, as [{x0, x1}] in x units.
 * A run ends at the first x of the next phase (so the band meets the
 * phase change), or at its own last x when it is the final run.
 */
export function phaseBands(xs, phases, name) {
  const out = [];
  if (!xs || !phases) return out;
  const n = Math.min(xs.length, phases.length);
  let start = -1;
  for (let i = 0; i <= n; i++) {
    const inRun = i < n && phases[i] === name;
    if (inRun && start < 0) start = i;
    if (!inRun && start >= 0) {
      out.push({ x0: xs[start], x1: i < n ? xs[i] : xs[i - 1] });
      start = -1;
    }
  }
  return out;
}

/** Clean marks: [{iteration|x, label}] -> [{x, label}] sorted by x, finite only. */
export function cleanMarks(marks, key = "iteration") {
  if (!Array.isArray(marks)) return [];
  return marks
    .map((m) => ({ x: Number(m?.[key] ?? m?.x), label: String(m?.label ?? "") }))
    .filter((m) => Number.isFinite(m.x))
    .sort((a, b) => a.x - b.x);
}

/**
 * Zip x and y lists into uPlot columns sorted by x; non-finite y -> null
 * (a gap). Returns {x: number[], y: (number|null)[], order: index[]}.
 */
export function columns(xs, ys) {
  const n = Math.min(xs?.length ?? 0, ys?.length ?? 0);
  const order = [];
  for (let i = 0; i < n; i++) if (Number.isFinite(Number(xs[i]))) order.push(i);
  let sorted = true;
  for (let i = 1; i < order.length; i++) if (Number(xs[order[i]]) < Number(xs[order[i - 1]])) sorted = false;
  if (!sorted) order.sort((a, b) => Number(xs[a]) - Number(xs[b]));
  const x = order.map((i) => Number(xs[i]));
  const y = order.map((i) => {
    const v = ys[i] === null ? NaN : Number(ys[i]);
    return Number.isFinite(v) ? v : null;
  });
  return { x, y, order };
}

/**
 * Label layout for vertical marks: give each label a row (0, 1, 2, ...) so
 * labels closer than `minGap` pixels do not overlap. xs are pixel positions
 * (sorted), widths the label widths in pixels.
 */
export function stackLabels(xs, widths, maxRows = 3, gap = 4) {
  const rowEnds = [];
  return xs.map((x, i) => {
    for (let r = 0; r < maxRows; r++) {
      if (rowEnds[r] === undefined || x >= rowEnds[r] + gap) {
        rowEnds[r] = x + widths[i];
        return r;
      }
    }
    rowEnds[maxRows - 1] = x + widths[i];
    return maxRows - 1;
  });
}
